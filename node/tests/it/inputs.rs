//! Every class of bad input gets a problem+json with the documented status.

use pico_node::auth::{Module, Role};
use pico_protocol::ComuneCode;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, add_user, assert_problem};

#[tokio::test]
async fn bad_inputs_are_problems() {
    let app = TestApp::spawn("026").await;
    let tv = add_user(
        &app.config,
        "tv",
        &Role::Comune(ComuneCode::parse("026086").unwrap()),
    );
    let admin = add_user(&app.config, "boss", &Role::Admin);
    let hd = add_user(&app.config, "hd", &Role::Operator(Module::Helpdesk));
    let url = "/v1/helpdesk/requests";

    let body = assert_problem(
        app.post_raw(url, &tv, "application/json", b"{\"subject\": ".to_vec())
            .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(body["code"], "malformed_json");

    let wrong_type = json!({"category": "technical", "subject": 42, "description": "d"});
    let body = assert_problem(
        app.post_json(url, Some(&tv), &wrong_type).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["code"], "invalid_body");

    let unknown =
        json!({"category": "technical", "subject": "s", "description": "d", "priority": "high"});
    let body = assert_problem(
        app.post_json(url, Some(&tv), &unknown).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("priority"));

    let huge = json!({"category": "technical", "subject": "s", "description": "x".repeat(100_000)});
    let body = assert_problem(
        app.post_json(url, Some(&tv), &huge).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    assert_eq!(body["code"], "body_too_large");

    for code in ["26086", "999001", "017001"] {
        let bad =
            json!({"comune_code": code, "category": "other", "subject": "s", "description": "d"});
        let response = app.post_json(url, Some(&admin), &bad).await;
        assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    }

    let empty = json!({"category": "other", "subject": "   ", "description": "d"});
    let body = assert_problem(
        app.post_json(url, Some(&tv), &empty).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(body["errors"]["subject"].is_string());

    let body = assert_problem(
        app.post_raw(url, &tv, "text/plain", b"{}".to_vec()).await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    )
    .await;
    assert_eq!(body["code"], "unsupported_media_type");

    let id = app.open_request(&tv, "ok").await;
    let body = assert_problem(
        app.post_json(
            &format!("{url}/{id}/transitions"),
            Some(&hd),
            &json!({"status": "closed_forever"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(body["code"], "invalid_body");
    let body = assert_problem(
        app.post_json(
            &format!("{url}/{id}/transitions"),
            Some(&hd),
            &json!({"status": "resolved"}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(body["code"], "invalid_transition");
    assert_eq!(body["type"], "urn:pico:problem:invalid_transition");

    assert_problem(
        app.get(&format!("{url}/999999"), Some(&hd)).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_problem(
        app.get(&format!("{url}/abc"), Some(&hd)).await,
        StatusCode::BAD_REQUEST,
    )
    .await
    .to_string();
    assert_problem(
        app.get("/v1/comuni?cursor=%%%", None).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_problem(
        app.get("/v1/comuni?limit=many", None).await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_problem(
        app.get("/v1/nothing-here", None).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    app.stop().await;
}
