//! The authorisation matrix, route × role, through the real API.

use pico_node::auth::{Module, Role};
use pico_protocol::ComuneCode;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, add_user};

#[tokio::test]
async fn route_by_role_matrix() {
    let app = TestApp::spawn("026").await;
    let cfg = &app.config;
    let treviso = ComuneCode::parse("026086").unwrap();
    let altivole = ComuneCode::parse("026001").unwrap();
    let admin = add_user(cfg, "boss", &Role::Admin);
    let helpdesk = add_user(cfg, "hd", &Role::Operator(Module::Helpdesk));
    let sua = add_user(cfg, "sua", &Role::Operator(Module::Sua));
    let tv = add_user(cfg, "tv", &Role::Comune(treviso));
    let alt = add_user(cfg, "alt", &Role::Comune(altivole));

    let tv_request = app.open_request(&tv, "Rete lenta").await;
    let alt_request = app.open_request(&alt, "Stampante").await;

    // (name, token) rows; None = anonymous.
    let roles: [(&str, Option<&str>); 6] = [
        ("anonymous", None),
        ("admin", Some(&admin)),
        ("helpdesk", Some(&helpdesk)),
        ("sua", Some(&sua)),
        ("treviso", Some(&tv)),
        ("altivole", Some(&alt)),
    ];
    let get_routes: [(String, [u16; 6]); 5] = [
        ("/v1/comuni".into(), [200, 200, 200, 200, 200, 200]),
        ("/v1/me".into(), [401, 200, 200, 200, 200, 200]),
        (
            "/v1/helpdesk/requests".into(),
            [401, 200, 200, 403, 200, 200],
        ),
        (
            format!("/v1/helpdesk/requests/{tv_request}"),
            [401, 200, 200, 403, 200, 404],
        ),
        (
            "/v1/helpdesk/requests/export.csv".into(),
            [401, 200, 200, 403, 200, 200],
        ),
    ];
    for (route, expected) in &get_routes {
        for ((name, token), status) in roles.iter().zip(expected) {
            let got = app.get(route, *token).await.status().as_u16();
            assert_eq!(got, *status, "GET {route} as {name}");
        }
    }

    // Each Comune sees only its own requests in lists.
    let list: serde_json::Value = app
        .get("/v1/helpdesk/requests", Some(&tv))
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<i64> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![tv_request]);
    let all: serde_json::Value = app
        .get("/v1/helpdesk/requests", Some(&helpdesk))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
    // A Comune cannot filter its way into another Comune's list.
    let sneaky: serde_json::Value = app
        .get("/v1/helpdesk/requests?comune=026001", Some(&tv))
        .await
        .json()
        .await
        .unwrap();
    assert!(
        sneaky["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["comune_code"] == "026086")
    );
    let csv = app
        .get("/v1/helpdesk/requests/export.csv?sep=semicolon", Some(&tv))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        csv.starts_with("\u{feff}Numero;Codice ISTAT Comune;"),
        "{csv}"
    );
    assert!(!csv.contains("Stampante"));

    // Writes.
    let comment = json!({"body": "ciao"});
    let path = |id: i64, tail: &str| format!("/v1/helpdesk/requests/{id}/{tail}");
    assert_eq!(
        app.post_json(&path(alt_request, "comments"), Some(&tv), &comment)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.post_json(&path(alt_request, "comments"), Some(&sua), &comment)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post_json(&path(alt_request, "comments"), None, &comment)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.post_json(&path(alt_request, "comments"), Some(&helpdesk), &comment)
            .await
            .status(),
        StatusCode::CREATED
    );
    let to = |status: &str| json!({"status": status});
    assert_eq!(
        app.post_json(
            &path(tv_request, "transitions"),
            Some(&tv),
            &to("in_progress")
        )
        .await
        .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post_json(
            &path(tv_request, "transitions"),
            Some(&helpdesk),
            &to("in_progress")
        )
        .await
        .status(),
        StatusCode::OK
    );
    let other_comune =
        json!({"comune_code": "026001", "category": "other", "subject": "x", "description": "y"});
    assert_eq!(
        app.post_json("/v1/helpdesk/requests", Some(&tv), &other_comune)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post_json("/v1/helpdesk/requests", Some(&sua), &other_comune)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let assign = reqwest::Client::new()
        .put(app.url(&path(tv_request, "assignee")))
        .bearer_auth(&tv)
        .json(&json!({"assignee_id": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(assign.status(), StatusCode::FORBIDDEN);

    // An unknown token is 401 wherever identity matters (public routes ignore credentials).
    assert_eq!(
        app.get("/v1/me", Some("pico_nope")).await.status(),
        StatusCode::UNAUTHORIZED
    );
    app.stop().await;
}

#[tokio::test]
async fn lifecycle_is_audited_and_sla_is_tracked() {
    let app = TestApp::spawn("026").await;
    let tv = add_user(
        &app.config,
        "tv",
        &Role::Comune(ComuneCode::parse("026086").unwrap()),
    );
    let hd = add_user(&app.config, "hd", &Role::Operator(Module::Helpdesk));
    let id = app.open_request(&tv, "VPN").await;
    let path = |tail: &str| format!("/v1/helpdesk/requests/{id}/{tail}");
    for (token, status) in [(&hd, "in_progress"), (&hd, "waiting_for_comune")] {
        assert_eq!(
            app.post_json(
                &path("transitions"),
                Some(token),
                &json!({"status": status})
            )
            .await
            .status(),
            200
        );
    }
    // The Comune's reply puts it back in progress.
    assert_eq!(
        app.post_json(
            &path("comments"),
            Some(&tv),
            &json!({"body": "Ecco i dati"})
        )
        .await
        .status(),
        201
    );
    let detail: serde_json::Value = app
        .get(&format!("/v1/helpdesk/requests/{id}"), Some(&hd))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["request"]["status"], "in_progress");
    assert!(detail["request"]["first_response_at"].is_string());
    assert_eq!(detail["request"]["overdue"], false);
    assert!(
        detail["request"]["created_at"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    for status in ["resolved"] {
        assert_eq!(
            app.post_json(&path("transitions"), Some(&hd), &json!({"status": status}))
                .await
                .status(),
            200
        );
    }
    assert_eq!(
        app.post_json(
            &path("transitions"),
            Some(&tv),
            &json!({"status": "closed"})
        )
        .await
        .status(),
        200
    );

    let db = pico_service::Db::open_existing(&app.config.db_path(), pico_node::db::MIGRATIONS, 1)
        .unwrap();
    let events = pico_node::db::audit::list(
        &db.get().unwrap(),
        Some(&format!("helpdesk_request:{id}")),
        100,
    )
    .unwrap();
    let transitions = events
        .iter()
        .filter(|e| e.action == "helpdesk.transition")
        .count();
    assert_eq!(transitions, 5, "{events:?}");
    assert!(events.iter().all(|e| e.client_ip == "127.0.0.1"));
    // The log refuses rewriting.
    assert!(
        db.get()
            .unwrap()
            .execute("DELETE FROM audit_log", [])
            .is_err()
    );
    assert!(
        db.get()
            .unwrap()
            .execute("UPDATE audit_log SET actor = 'x'", [])
            .is_err()
    );
    app.stop().await;
}
