//! The hub as an independent implementation of `protocol/SPEC.md` sees it: each test is a place
//! where the hub once did what the text says it must not, or where the text left a choice.

use pico_protocol::envelope::{sign_raw, sign_raw_bytes};
use pico_protocol::payload::{EntryRef, Network, NetworkMessage, Payload, PayloadKind};
use pico_protocol::request_auth::RequestAuth;
use pico_protocol::{EntryHeader, Hash32, Seq, SignedEntry, Timestamp};
use serde_json::{Value, json};

use crate::support::{NodeLog, TestApp, appalti};

/// Signs `body` (taken as is) as `node`'s next entry of `kind`, without the payload checks a
/// conforming signer makes: what a faulty or hostile node could send.
fn sign_body(node: &NodeLog, kind: PayloadKind, body: &str) -> SignedEntry {
    let header = EntryHeader {
        v: 1,
        kind,
        sender: node.province,
        seq: Seq::new(node.seq + 1).unwrap(),
        prev: node.prev,
        iat: Timestamp::now(),
        body_sha256: Hash32::digest_of(&[body.as_bytes()]),
        body_len: body.len() as u64,
    };
    sign_raw(&node.key, &header, body.as_bytes().to_vec()).unwrap()
}

fn opening(subject: &str) -> Payload {
    Payload::NetworkMessage(NetworkMessage {
        network: Network::Sua,
        thread: None,
        reply_to: None,
        subject: Some(subject.into()),
        body: format!("Testo di {subject}"),
        attachments: vec![],
    })
}

/// The inbox of `node` as the raw text the hub answered, and parsed.
async fn inbox(app: &TestApp, node: &NodeLog) -> (String, Value) {
    let path = "/v1/federation/inbox";
    let authorization = RequestAuth::sign(&node.key, node.province, "GET", path, Timestamp::now());
    let response = app
        .http
        .get(format!("{}{path}", app.url))
        .header("authorization", authorization)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    let value = serde_json::from_str(&text).unwrap();
    (text, value)
}

/// Treviso and Brescia enrolled, Brescia a member of `sua`.
async fn two_members() -> (TestApp, NodeLog, NodeLog) {
    let app = TestApp::spawn().await;
    let treviso = NodeLog::new("026", "treviso");
    let brescia = NodeLog::new("017", "brescia");
    app.enrol(&treviso);
    app.enrol(&brescia);
    let path = "/v1/federation/networks/sua/members/017";
    let authorization = RequestAuth::sign(
        &brescia.key,
        brescia.province,
        "PUT",
        path,
        Timestamp::now(),
    );
    let response = app
        .http
        .put(format!("{}{path}", app.url))
        .header("authorization", authorization)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    (app, treviso, brescia)
}

#[tokio::test]
async fn a_null_optional_member_is_refused_and_never_routed() {
    let (app, mut treviso, brescia) = two_members().await;
    let opened = treviso.next(&opening("Convenzioni"));
    assert_eq!(app.push(&[&opened]).await.0, 200);
    let before = app.footprint();
    let bodies = [
        (
            PayloadKind::NetworkMessage,
            r#"{"attachments":[],"body":"Testo","network":"sua","subject":"Oggetto","thread":null}"#,
        ),
        (
            PayloadKind::NetworkMessage,
            r#"{"attachments":[],"body":"Risposta","network":"sua","reply_to":null,"thread":{"origin":"026","seq":1}}"#,
        ),
        (
            PayloadKind::NetworkMessage,
            r#"{"attachments":[],"body":"Risposta","network":"sua","subject":null,"thread":{"origin":"026","seq":1}}"#,
        ),
        (
            PayloadKind::DatasetBatch,
            r#"{"dataset":"appalti","deletes":[],"fields":["cig"],"primary_key":["cig"],"schema_version":1,"snapshot":null,"upserts":[]}"#,
        ),
    ];
    for (kind, body) in bodies {
        let entry = sign_body(&treviso, kind, body);
        let (status, problem) = app.push(&[&entry]).await;
        assert_eq!(status, 400, "{body}: {problem}");
        assert_eq!(problem["code"], "invalid_payload", "{body}");
        assert_eq!(problem["entry_index"], 0);
    }
    assert_eq!(app.footprint(), before, "nothing stored");
    assert_eq!(app.head("026").await.0, 1, "no seq consumed");
    let (_, page) = inbox(&app, &brescia).await;
    assert_eq!(
        page["items"].as_array().unwrap().len(),
        1,
        "only the opening post is routed"
    );
}

#[tokio::test]
async fn the_inbox_delivers_an_entry_byte_for_byte_as_the_hub_received_it() {
    let (app, mut treviso, brescia) = two_members().await;
    let entry = treviso.next(&opening("Formato"));
    // Another layout of the outer object (SPEC §5.1): members reordered, white space between.
    let layout = format!(
        "{{ \"body\" : {} ,\n\t\"signature\":\"{}\",\"protected\":\"{}\", \"payload\":\"{}\"\r\n}}",
        entry.body.get(),
        entry.signature,
        entry.protected,
        entry.payload
    );
    let push = format!("{{\"entries\":[{layout}]}}");
    let (status, body) = app.post_raw(push.into_bytes()).await;
    assert_eq!(status, 200, "{body}");
    // The compact resend is the same entry: a duplicate, and the layout received first stays.
    let (status, again) = app.push(&[&entry]).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["receipts"], body["receipts"]);

    let (text, page) = inbox(&app, &brescia).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert!(
        text.contains(&format!("\"entry\":{layout}")),
        "the entry is delivered as received: {text}"
    );
    let delivered = SignedEntry::from_bytes(layout.as_bytes()).unwrap();
    assert_eq!(delivered.entry_hash(), entry.entry_hash());
}

#[tokio::test]
async fn an_outer_object_with_a_repeated_member_or_an_escape_is_malformed() {
    let app = TestApp::spawn().await;
    let mut node = NodeLog::new("026", "treviso");
    app.enrol(&node);
    let entry = node.peek(&appalti("026", 0, 1));
    let compact = String::from_utf8(entry.to_bytes()).unwrap();
    let repeated = compact.replacen(
        "{\"protected\"",
        &format!("{{\"protected\":\"{}\",\"protected\"", entry.protected),
        1,
    );
    let escaped = compact.replacen("\"protected\":\"e", "\"protected\":\"\\u0065", 1);
    assert_ne!(escaped, compact);
    for wire in [repeated, escaped] {
        let (status, problem) = app
            .post_raw(format!("{{\"entries\":[{wire}]}}").into_bytes())
            .await;
        assert_eq!(status, 400, "{problem}");
        assert_eq!(problem["code"], "malformed_envelope", "{wire}");
    }
    assert_eq!(app.count("entries"), 0);
    // The compact form of the same entry is accepted.
    assert_eq!(app.push(&[&node.next(&appalti("026", 0, 1))]).await.0, 200);
}

#[tokio::test]
async fn seq_2_to_the_53_in_the_entry_header_is_non_canonical() {
    let app = TestApp::spawn().await;
    let node = NodeLog::new("026", "treviso");
    app.enrol(&node);
    let good = node.peek(&appalti("026", 0, 1));
    let header = good.header_unverified().unwrap();
    let bytes = String::from_utf8(pico_protocol::canonical::to_vec(&header).unwrap()).unwrap();
    let beyond = bytes.replacen("\"seq\":1,", "\"seq\":9007199254740992,", 1);
    assert_ne!(beyond, bytes);
    let entry = sign_raw_bytes(
        &node.key,
        beyond.as_bytes(),
        good.body.get().as_bytes().to_vec(),
    )
    .unwrap();
    let (status, problem) = app.push(&[&entry]).await;
    assert_eq!(status, 400, "{problem}");
    assert_eq!(problem["code"], "non_canonical");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("intestazione della voce")
    );
}

#[tokio::test]
async fn a_push_is_refused_whole_when_it_is_empty_too_long_or_of_two_senders() {
    let app = TestApp::spawn().await;
    let mut treviso = NodeLog::new("026", "treviso");
    let mut brescia = NodeLog::new("017", "brescia");
    app.enrol(&treviso);
    app.enrol(&brescia);

    for body in [
        &b"{\"entries\":[]}"[..],
        b"[]",
        b"{\"entries\":[],\"extra\":1}",
        b"not json",
    ] {
        let (status, problem) = app.post_raw(body.to_vec()).await;
        assert_eq!(status, 400, "{problem}");
        assert_eq!(problem["code"], "malformed_push");
        assert_eq!(problem["accepted"], json!([]));
        assert!(problem.get("entry_index").is_none());
    }

    let many: Vec<SignedEntry> = (0..257)
        .map(|i| treviso.next(&appalti("026", i, 1)))
        .collect();
    let (status, problem) = app.push(&many.iter().collect::<Vec<_>>()).await;
    assert_eq!(status, 413, "{problem}");
    assert_eq!(problem["code"], "oversize");
    assert_eq!(app.count("entries"), 0);
    // 256 is the limit, and allowed.
    let (status, body) = app.push(&many[..256].iter().collect::<Vec<_>>()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(app.push(&[&many[256]]).await.0, 200);

    // Two senders: nothing of either is applied, not even the first sender's entries.
    let before = app.footprint();
    let t = treviso.peek(&appalti("026", 1_000, 1));
    let b = brescia.peek(&appalti("017", 0, 1));
    let (status, problem) = app.push(&[&t, &b]).await;
    assert_eq!(status, 400, "{problem}");
    assert_eq!(problem["code"], "malformed_push");
    assert_eq!(problem["accepted"], json!([]));
    assert_eq!(app.footprint(), before);
    assert_eq!(app.head("026").await.0, 257);
    assert_eq!(app.head("017").await.0, 0);
    // Each sender's own push goes through.
    assert_eq!(
        app.push(&[&treviso.next(&appalti("026", 1_000, 1))])
            .await
            .0,
        200
    );
    assert_eq!(
        app.push(&[&brescia.next(&appalti("017", 0, 1))]).await.0,
        200
    );
}

#[tokio::test]
async fn proof_requests_name_their_problem() {
    let app = TestApp::spawn().await;
    let mut node = NodeLog::new("026", "treviso");
    app.enrol(&node);
    let entries: Vec<_> = (0..3).map(|i| node.next(&appalti("026", i, 1))).collect();
    assert_eq!(app.push(&entries.iter().collect::<Vec<_>>()).await.0, 200);
    app.await_checkpoint(3).await;
    let cases = [
        (
            "/v1/log/proof/inclusion?province=026&seq=2&tree_size=3",
            200,
            None,
        ),
        ("/v1/log/proof/inclusion?province=026&seq=2", 200, None),
        (
            "/v1/log/proof/inclusion?province=026&seq=4",
            404,
            Some("not_found"),
        ),
        (
            "/v1/log/proof/inclusion?province=026&seq=0",
            404,
            Some("not_found"),
        ),
        (
            "/v1/log/proof/inclusion?province=017&seq=1",
            404,
            Some("not_found"),
        ),
        (
            "/v1/log/proof/inclusion?province=026&seq=abc",
            400,
            Some("invalid_query"),
        ),
        (
            "/v1/log/proof/inclusion?province=026",
            400,
            Some("invalid_query"),
        ),
        (
            "/v1/log/proof/inclusion?province=26&seq=1",
            400,
            Some("invalid_province"),
        ),
        (
            "/v1/log/proof/inclusion?province=026&seq=2&tree_size=4",
            400,
            Some("size_beyond_tree"),
        ),
        (
            "/v1/log/proof/inclusion?province=026&seq=2&tree_size=1",
            400,
            Some("index_out_of_range"),
        ),
        (
            "/v1/log/proof/inclusion?province=026&seq=2&tree_size=-1",
            400,
            Some("invalid_query"),
        ),
        ("/v1/log/proof/consistency?old=1&new=3", 200, None),
        ("/v1/log/proof/consistency?old=0&new=0", 200, None),
        (
            "/v1/log/proof/consistency?old=3&new=1",
            400,
            Some("size_order"),
        ),
        (
            "/v1/log/proof/consistency?old=1&new=4",
            400,
            Some("size_beyond_tree"),
        ),
        (
            "/v1/log/proof/consistency?old=1",
            400,
            Some("invalid_query"),
        ),
        (
            "/v1/federation/nodes/026/receipts/abc",
            400,
            Some("invalid_path"),
        ),
        (
            "/v1/federation/nodes/026/receipts/4",
            404,
            Some("not_found"),
        ),
        (
            "/v1/federation/nodes/26/receipts/1",
            400,
            Some("invalid_province"),
        ),
    ];
    for (path, status, code) in cases {
        let response = app
            .http
            .get(format!("{}{path}", app.url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "{path}");
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        let body: Value = response.json().await.unwrap();
        if let Some(code) = code {
            assert_eq!(content_type, "application/problem+json", "{path}");
            assert_eq!(body["code"], code, "{path}: {body}");
        } else {
            assert_eq!(content_type, "application/json", "{path}");
        }
    }
}

#[tokio::test]
async fn the_well_known_document_says_how_soon_a_checkpoint_includes_an_entry() {
    let app = TestApp::spawn_with(|config| config.checkpoint_interval_ms = 250).await;
    let (status, info) = app.get_json("/.well-known/pico-federation").await;
    assert_eq!(status, 200);
    assert_eq!(info["checkpoint_interval_ms"], 250);
    let mut node = NodeLog::new("026", "treviso");
    app.enrol(&node);
    let started = std::time::Instant::now();
    assert_eq!(app.push(&[&node.next(&appalti("026", 0, 1))]).await.0, 200);
    app.await_checkpoint(1).await;
    assert!(started.elapsed() < std::time::Duration::from_millis(250 + 1_000));
}

#[tokio::test]
async fn a_reply_to_a_thread_the_hub_does_not_hold_is_accepted_and_routed() {
    let (app, mut treviso, brescia) = two_members().await;
    let reply = Payload::NetworkMessage(NetworkMessage {
        network: Network::Sua,
        thread: Some(EntryRef {
            origin: crate::support::province("041"),
            seq: Seq::new(77).unwrap(),
        }),
        reply_to: None,
        subject: None,
        body: "Risposta a un thread che l'hub non ha".into(),
        attachments: vec![],
    });
    let entry = treviso.next(&reply);
    let (status, body) = app.push(&[&entry]).await;
    assert_eq!(status, 200, "{body}");
    let (_, page) = inbox(&app, &brescia).await;
    assert_eq!(page["items"][0]["seq"], 1);
    assert_eq!(page["items"][0]["origin"], "026");
}

#[tokio::test]
async fn a_row_naming_a_comune_of_another_province_is_refused() {
    let app = TestApp::spawn().await;
    let node = NodeLog::new("026", "treviso");
    app.enrol(&node);
    let Payload::DatasetBatch(mut batch) = appalti("026", 0, 2) else {
        unreachable!()
    };
    batch.upserts[1][1] = "017029".into();
    let payload = Payload::DatasetBatch(batch);
    // A conforming signer refuses to sign it…
    let refused = pico_protocol::EntryDraft {
        sender: node.province,
        seq: Seq::new(1).unwrap(),
        prev: Hash32::ZERO,
        iat: Timestamp::now(),
        payload: &payload,
    }
    .sign(&node.key)
    .unwrap_err();
    assert_eq!(refused.code(), "invalid_payload");
    // …and the hub refuses it when signed anyway.
    let body = String::from_utf8(payload.to_canonical().unwrap()).unwrap();
    let entry = sign_body(&node, PayloadKind::DatasetBatch, &body);
    let (status, problem) = app.push(&[&entry]).await;
    assert_eq!(status, 400, "{problem}");
    assert_eq!(problem["code"], "invalid_payload");
    assert!(problem["detail"].as_str().unwrap().contains("017029"));
    assert_eq!(app.count("dataset_rows"), 0);
}

#[tokio::test]
async fn rows_are_objects_by_field_and_an_identical_upsert_moves_their_provenance() {
    let app = TestApp::spawn().await;
    let mut node = NodeLog::new("026", "treviso");
    app.enrol(&node);
    let first = node.next(&appalti("026", 0, 1));
    let again = node.next(&appalti("026", 0, 1));
    assert_eq!(first.body.get(), again.body.get(), "the very same row");
    assert_eq!(app.push(&[&first]).await.0, 200);
    let (_, page) = app.get_json("/v1/datasets/appalti/rows").await;
    assert_eq!(page["items"][0]["seq"], 1);
    assert_eq!(page["items"][0]["entry_hash"], first.entry_hash().to_hex());
    assert_eq!(page["items"][0]["data"]["cig"], "B0260000000");
    assert_eq!(page["items"][0]["data"]["comune"], "026001");
    assert_eq!(page["items"][0]["data"]["n_offerte"], 1);
    assert_eq!(page["items"][0]["data"]["pnrr"], true);

    assert_eq!(app.push(&[&again]).await.0, 200);
    let (_, page) = app.get_json("/v1/datasets/appalti/rows").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["items"][0]["seq"], 2);
    assert_eq!(page["items"][0]["entry_hash"], again.entry_hash().to_hex());
}

#[tokio::test]
async fn the_openapi_document_declares_every_status_and_media_type_answered() {
    let app = TestApp::spawn().await;
    let (status, doc) = app.get_json("/v1/openapi.json").await;
    assert_eq!(status, 200);
    let paths = doc["paths"].as_object().unwrap();
    for (path, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            for status in ["429", "500"] {
                assert!(
                    responses.contains_key(status),
                    "{method} {path}: no {status}"
                );
            }
            for (status, response) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    let media: Vec<&String> =
                        response["content"].as_object().unwrap().keys().collect();
                    assert_eq!(
                        media,
                        ["application/problem+json"],
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
    let media = |path: &str, method: &str, status: &str| -> Vec<String> {
        doc["paths"][path][method]["responses"][status]["content"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    };
    assert_eq!(
        media("/v1/datasets/{dataset}/rows", "get", "200"),
        ["application/json", "text/csv"]
    );
    assert_eq!(
        media("/v1/appalti/summary", "get", "200"),
        ["application/json", "text/csv"]
    );
    assert_eq!(
        media("/v1/appalti/comuni", "get", "200"),
        ["application/json", "text/csv"]
    );
    assert_eq!(media("/v1/log/checkpoint", "get", "200"), ["text/plain"]);
    assert_eq!(media("/v1/attachments/{sha256}", "get", "200"), ["*/*"]);
    let push = &doc["paths"]["/v1/federation/entries"]["post"]["responses"];
    for status in ["200", "400", "401", "403", "409", "413", "429", "503"] {
        assert!(push.get(status).is_some(), "push: no {status}");
    }
    assert!(doc["paths"]["/v1/operator/enrolments"]["post"]["responses"]["409"].is_object());
}

/// The hub serves the checked-in `hub/openapi.json`; it must be the document the handlers
/// describe (regenerate it with `UPDATE_OPENAPI=1 cargo test -p pico-hub --test it spec::`).
#[test]
fn openapi_document_is_in_sync() {
    let generated =
        serde_json::to_string_pretty(&<pico_hub::http::ApiDoc as utoipa::OpenApi>::openapi())
            .unwrap()
            + "\n";
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let stored = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        stored == generated,
        "hub/openapi.json is stale: run UPDATE_OPENAPI=1 cargo test -p pico-hub --test it spec::"
    );
}
