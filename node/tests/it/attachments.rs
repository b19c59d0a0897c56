//! Attachments through the API (Help Desk requests, best practices): upload, download, tenancy
//! and the limits every record shares.

use pico_node::auth::{Module, Role};
use pico_protocol::ComuneCode;
use reqwest::StatusCode;

use crate::helpers::{TestApp, add_user, assert_problem};

#[tokio::test]
async fn attachments_round_trip_within_the_comune_and_respect_limits() {
    let app = TestApp::spawn("026").await;
    let treviso = add_user(
        &app.config,
        "treviso",
        &Role::Comune(ComuneCode::parse("026086").unwrap()),
    );
    let asolo = add_user(
        &app.config,
        "asolo",
        &Role::Comune(ComuneCode::parse("026003").unwrap()),
    );
    let operator = add_user(&app.config, "operatore", &Role::Operator(Module::Helpdesk));
    let id = app
        .open_request(&treviso, "Scanner del protocollo guasto")
        .await;
    let pdf = b"%PDF-1.7\nverbale di guasto\n%%EOF\n".to_vec();

    let path = format!("/v1/helpdesk/requests/{id}/attachments?filename=verbale.pdf");
    let response = app
        .post_raw(&path, &treviso, "application/pdf", pdf.clone())
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: serde_json::Value = response.json().await.unwrap();
    assert_eq!(created["filename"], "verbale.pdf");
    assert_eq!(created["size"], pdf.len());
    let attachment = created["id"].as_i64().unwrap();

    // The operator downloads exactly the bytes, with their type; the detail lists the file.
    let download = app
        .get(
            &format!("/v1/helpdesk/requests/{id}/attachments/{attachment}"),
            Some(&operator),
        )
        .await;
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.headers()["content-type"], "application/pdf");
    assert_eq!(download.bytes().await.unwrap().to_vec(), pdf);
    let detail: serde_json::Value = app
        .get(&format!("/v1/helpdesk/requests/{id}"), Some(&operator))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["attachments"].as_array().unwrap().len(), 1);

    // Another Comune neither reads nor adds files: to it the request does not exist.
    let other = app
        .get(
            &format!("/v1/helpdesk/requests/{id}/attachments/{attachment}"),
            Some(&asolo),
        )
        .await;
    assert_problem(other, StatusCode::NOT_FOUND).await;
    let other = app
        .post_raw(&path, &asolo, "application/pdf", pdf.clone())
        .await;
    assert_problem(other, StatusCode::NOT_FOUND).await;

    // Types outside the list and files over the limit are refused, and nothing is stored.
    let exe = app
        .post_raw(
            &path.replace("verbale.pdf", "setup.exe"),
            &treviso,
            "application/x-msdownload",
            b"MZ".to_vec(),
        )
        .await;
    assert_problem(exe, StatusCode::UNPROCESSABLE_ENTITY).await;
    let limit = app.config.helpdesk.attachment_max_bytes;
    let huge = app
        .post_raw(&path, &treviso, "application/pdf", vec![b'x'; limit + 1])
        .await;
    assert_problem(huge, StatusCode::PAYLOAD_TOO_LARGE).await;
    let detail: serde_json::Value = app
        .get(&format!("/v1/helpdesk/requests/{id}"), Some(&operator))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["attachments"].as_array().unwrap().len(), 1);
}

/// Best practices share the attachment store: a document takes files up to the limit every
/// record has, then the next one is refused and nothing more is stored.
#[tokio::test]
async fn a_best_practice_holds_at_most_the_files_of_any_record() {
    let app = TestApp::spawn("026").await;
    let operator = add_user(
        &app.config,
        "comunicazione",
        &Role::Operator(Module::Community),
    );
    let created = app
        .post_json(
            "/v1/practices",
            Some(&operator),
            &serde_json::json!({"title": "Bozza con allegati", "module": "sua", "comuni": ["026086"],
                                "summary": "Prova", "body": "Testo", "public": false}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<serde_json::Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let path = format!("/v1/practices/{id}/attachments?filename=nota.txt");
    let attach = || app.post_raw(&path, &operator, "text/plain", b"nota".to_vec());
    for _ in 0..pico_node::upload::MAX_FILES_PER_RECORD {
        assert_eq!(attach().await.status(), StatusCode::CREATED);
    }
    let refused = assert_problem(attach().await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(refused["code"], "too_many_files");
    assert_eq!(
        refused["errors"]["attachment"],
        format!(
            "Al massimo {0} allegati per pratica (già presenti: {0}).",
            pico_node::upload::MAX_FILES_PER_RECORD
        )
    );
    let practice: serde_json::Value = app
        .get(&format!("/v1/practices/{id}"), Some(&operator))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        practice["attachments"].as_array().unwrap().len(),
        pico_node::upload::MAX_FILES_PER_RECORD
    );
}
