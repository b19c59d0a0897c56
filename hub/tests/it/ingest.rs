//! Every outcome of a push, with nothing stored when an entry is refused.

use std::io::{Read, Write};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pico_protocol::envelope::{sign_raw, sign_raw_bytes};
use pico_protocol::jws::Jws;
use pico_protocol::payload::{KeyRevocation, KeyRotation, Payload};
use pico_protocol::{EntryHeader, Hash32, PublicKey, Receipt, Seq, SignedEntry, Timestamp};
use serde_json::Value;

use crate::support::{NodeLog, TestApp, appalti, key};

async fn hub_key(app: &TestApp) -> PublicKey {
    let (_, info) = app.get_json("/.well-known/pico-federation").await;
    info["hub_key"].as_str().unwrap().parse().unwrap()
}

fn receipt_of(value: &Value, hub: &PublicKey) -> Receipt {
    let jws: Jws = serde_json::from_value(value.clone()).unwrap();
    Receipt::verify(&jws, hub).unwrap()
}

#[tokio::test]
async fn the_well_known_document_publishes_key_log_and_limits() {
    let app = TestApp::spawn().await;
    let (status, info) = app.get_json("/.well-known/pico-federation").await;
    assert_eq!(status, 200);
    assert_eq!(info["log_origin"], "pico.upi.it/federation");
    assert_eq!(info["checkpoint_key_name"], "pico.upi.it/federation");
    assert_eq!(info["protocol_versions"], serde_json::json!([1, 2]));
    assert_eq!(info["limits"]["max_push_bytes"], 16 * 1024 * 1024);
    assert_eq!(info["limits"]["max_entries_per_push"], 256);
    let key: PublicKey = info["hub_key"].as_str().unwrap().parse().unwrap();
    assert_eq!(info["hub_kid"], key.key_id().as_str());
    assert!(
        info["checkpoint_vkey"]
            .as_str()
            .unwrap()
            .starts_with("pico.upi.it/federation+")
    );
}

#[tokio::test]
async fn an_appended_entry_gets_a_signed_receipt_and_a_resend_gets_the_same_one() {
    let app = TestApp::spawn().await;
    let mut node = app.enrolled("026", "treviso");
    let hub = hub_key(&app).await;
    let entry = node.next(&appalti("026", 0, 20));

    let (status, body) = app.push(&[&entry]).await;
    assert_eq!(status, 200, "{body}");
    let receipt = receipt_of(&body["receipts"][0], &hub);
    assert_eq!(receipt.sender.as_str(), "026");
    assert_eq!(receipt.seq.get(), 1);
    assert_eq!(receipt.entry_hash, entry.entry_hash());
    assert_eq!(receipt.log_index, 0);
    assert_eq!(body["head"]["seq"], 1);
    assert_eq!(body["head"]["hash"], entry.entry_hash().to_hex());
    let after_first = app.footprint();
    assert_eq!(after_first[3], 20);

    let (status, again) = app.push(&[&entry]).await;
    assert_eq!(status, 200);
    assert_eq!(
        again["receipts"][0], body["receipts"][0],
        "identical resend, identical receipt"
    );
    assert_eq!(app.footprint(), after_first, "no second effect");

    let (status, stored) = app.get_json("/v1/federation/nodes/026/receipts/1").await;
    assert_eq!(status, 200);
    assert_eq!(stored, body["receipts"][0]);
    assert_eq!(app.head("026").await, (1, entry.entry_hash().to_hex()));
    assert_eq!(app.head("017").await, (0, "0".repeat(64)));
    let (status, _) = app.get_json("/v1/federation/nodes/026/receipts/2").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_push_of_several_entries_is_applied_in_order() {
    let app = TestApp::spawn().await;
    let mut node = app.enrolled("017", "brescia");
    let entries: Vec<_> = (0..5)
        .map(|i| node.next(&appalti("017", i * 10, 10)))
        .collect();
    let (status, body) = app.push(&entries.iter().collect::<Vec<_>>()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["receipts"].as_array().unwrap().len(), 5);
    assert_eq!(body["head"]["seq"], 5);
    assert_eq!(app.count("dataset_rows"), 50);
    // A resend overlapping the head and extending it: duplicates answered, new ones appended.
    let sixth = node.next(&appalti("017", 50, 10));
    let (status, body) = app.push(&[&entries[3], &entries[4], &sixth]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["head"]["seq"], 6);
    assert_eq!(app.count("entries"), 6);
}

#[tokio::test]
async fn a_different_entry_at_a_used_seq_is_an_equivocation_kept_as_evidence() {
    let app = TestApp::spawn().await;
    let mut node = app.enrolled("041", "pesaro");
    let fork = node.peek(&appalti("041", 100, 3));
    let first = node.next(&appalti("041", 0, 3));
    app.push_ok(&first).await;
    let before = app.footprint();

    let (status, problem) = app.push(&[&fork]).await;
    assert_eq!(status, 409, "{problem}");
    assert_eq!(problem["code"], "equivocation");
    assert_eq!(problem["entry_index"], 0);
    assert_eq!(problem["accepted"], serde_json::json!([]));
    let after = app.footprint();
    assert_eq!(
        after[..4],
        before[..4],
        "the fork changes nothing but the evidence"
    );
    assert_eq!(after[4], 1);

    let (status, evidence) = app.get_json("/v1/operator/equivocations").await;
    assert_eq!(status, 200);
    assert_eq!(evidence[0]["province"], "041");
    assert_eq!(evidence[0]["seq"], 1);
    assert_eq!(evidence[0]["stored_hash"], first.entry_hash().to_hex());
    assert_eq!(evidence[0]["received_hash"], fork.entry_hash().to_hex());
    let kept = SignedEntry::from_bytes(evidence[0]["received_entry"].as_str().unwrap().as_bytes())
        .unwrap();
    assert_eq!(kept, fork);
    // The same fork again is recorded once.
    assert_eq!(app.push(&[&fork]).await.0, 409);
    assert_eq!(app.count("equivocations"), 1);
}

#[tokio::test]
async fn a_gap_names_the_expected_seq_and_stores_nothing() {
    let app = TestApp::spawn().await;
    let mut node = app.enrolled("026", "treviso");
    let first = node.next(&appalti("026", 0, 1));
    let _skipped = node.next(&appalti("026", 1, 1));
    let third = node.next(&appalti("026", 2, 1));
    app.push_ok(&first).await;
    let before = app.footprint();
    let (status, problem) = app.push(&[&third]).await;
    assert_eq!(status, 409);
    assert_eq!(problem["code"], "seq_gap");
    assert_eq!(problem["expected_seq"], 2);
    assert_eq!(app.footprint(), before);
}

#[tokio::test]
async fn a_refusal_mid_push_reports_the_entries_already_accepted() {
    let app = TestApp::spawn().await;
    let mut node = app.enrolled("026", "treviso");
    let first = node.next(&appalti("026", 0, 2));
    let second = node.next(&appalti("026", 2, 2));
    let mut tampered = node.next(&appalti("026", 4, 2));
    tampered.signature = URL_SAFE_NO_PAD.encode([7u8; 64]);
    let (status, problem) = app.push(&[&first, &second, &tampered]).await;
    assert_eq!(status, 401, "{problem}");
    assert_eq!(problem["code"], "bad_signature");
    assert_eq!(problem["entry_index"], 2);
    assert_eq!(problem["accepted"].as_array().unwrap().len(), 2);
    assert_eq!(app.head("026").await.0, 2);
    assert_eq!(app.count("dataset_rows"), 4);
}

/// Pushes `entry` to a hub where 026 has one accepted entry and checks the refusal.
async fn assert_refused(app: &TestApp, entry: &SignedEntry, status: u16, code: &str) {
    let before = app.footprint();
    let head = app.head("026").await;
    let (got, problem) = app.push(&[entry]).await;
    assert_eq!(got, status, "{problem}");
    assert_eq!(problem["code"], code, "{problem}");
    assert_eq!(problem["entry_index"], 0);
    assert_eq!(app.footprint(), before, "{code}: nothing stored");
    assert_eq!(app.head("026").await, head, "{code}: no seq consumed");
}

#[tokio::test]
async fn envelope_errors_are_refused_with_the_protocol_code_and_consume_no_seq() {
    let app = TestApp::spawn().await;
    let mut node = app.enrolled("026", "treviso");
    app.push_ok(&node.next(&appalti("026", 0, 1))).await;
    let payload = appalti("026", 1, 1);

    // Bad signature.
    let mut entry = node.peek(&payload);
    entry.signature = URL_SAFE_NO_PAD.encode([1u8; 64]);
    assert_refused(&app, &entry, 401, "bad_signature").await;

    // Unknown key.
    let stranger = NodeLog {
        key: key("not enrolled"),
        ..NodeLog::new("026", "x")
    };
    let stranger = NodeLog {
        seq: node.seq,
        prev: node.prev,
        ..stranger
    };
    assert_refused(&app, &stranger.peek(&payload), 403, "unknown_key").await;

    // Another Province's key.
    let brescia = NodeLog::new("017", "brescia");
    app.enrol(&brescia);
    let impostor = NodeLog {
        key: key("brescia"),
        seq: node.seq,
        prev: node.prev,
        ..NodeLog::new("026", "x")
    };
    assert_refused(&app, &impostor.peek(&payload), 403, "unauthorised_key").await;

    // Unsupported version.
    let body = payload.to_canonical().unwrap();
    let mut header = EntryHeader {
        v: 3,
        kind: payload.kind(),
        sender: node.province,
        seq: Seq::new(node.seq + 1).unwrap(),
        prev: node.prev,
        iat: Timestamp::now(),
        body_sha256: Hash32::digest_of(&[&body]),
        body_len: body.len() as u64,
    };
    let entry = sign_raw(&node.key, &header, body.clone()).unwrap();
    assert_refused(&app, &entry, 400, "unsupported_version").await;
    let (_, problem) = app.push(&[&entry]).await;
    assert_eq!(problem["supported_versions"], serde_json::json!([1, 2]));

    // Unsupported algorithm: a protected header with HS256.
    header.v = 1;
    let good = sign_raw(&node.key, &header, body.clone()).unwrap();
    let hs256 = format!(
        r#"{{"alg":"HS256","kid":"{}","typ":"pico-entry"}}"#,
        node.key.key_id()
    );
    let forged = SignedEntry {
        protected: URL_SAFE_NO_PAD.encode(hs256),
        ..good.clone()
    };
    assert_refused(&app, &forged, 400, "unsupported_algorithm").await;

    // Non-canonical body (a space), correctly hashed and signed.
    let mut spaced = b"{ ".to_vec();
    spaced.extend_from_slice(&body[1..]);
    let spaced_header = EntryHeader {
        body_sha256: Hash32::digest_of(&[&spaced]),
        body_len: spaced.len() as u64,
        ..header.clone()
    };
    let entry = sign_raw(&node.key, &spaced_header, spaced).unwrap();
    assert_refused(&app, &entry, 400, "non_canonical").await;

    // Non-canonical entry header (keys out of order).
    let header_json = serde_json::to_string(&header).unwrap();
    let mut reordered: serde_json::Map<String, Value> = serde_json::from_str(&header_json).unwrap();
    let v = reordered.remove("v").unwrap();
    let mut text = String::from("{\"v\":");
    text.push_str(&v.to_string());
    for (k, value) in &reordered {
        text.push_str(&format!(",\"{k}\":{value}"));
    }
    text.push('}');
    let entry = sign_raw_bytes(&node.key, text.as_bytes(), body.clone()).unwrap();
    assert_refused(&app, &entry, 400, "non_canonical").await;

    // Body that does not match the signed digest.
    let mut other = good.clone();
    other.body = serde_json::value::RawValue::from_string(
        String::from_utf8(appalti("026", 9, 1).to_canonical().unwrap()).unwrap(),
    )
    .unwrap();
    assert_refused(&app, &other, 400, "body_mismatch").await;

    // Not an entry at all.
    let (status, problem) = app
        .post_raw(br#"{"entries":[{"protected":"x"}]}"#.to_vec())
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (400, Some("malformed_envelope"))
    );
    let (status, _) = app.post_raw(b"not json".to_vec()).await;
    assert_eq!(status, 400);
    let (status, _) = app.post_raw(br#"{"entries":[]}"#.to_vec()).await;
    assert_eq!(status, 400);

    // And the good entry still goes in as seq 2.
    app.push_ok(&good).await;
    assert_eq!(app.head("026").await.0, 2);
}

#[tokio::test]
async fn a_revoked_key_is_refused_from_its_revocation_seq() {
    let app = TestApp::spawn().await;
    let mut node = app.enrolled("026", "treviso");
    app.push_ok(&node.next(&appalti("026", 0, 1))).await;
    {
        let conn = app.state.db.get().unwrap();
        pico_hub::db::keys::revoke(
            &conn,
            node.province,
            &node.key.key_id(),
            None,
            "lost laptop",
        )
        .unwrap();
    }
    assert_refused(&app, &node.peek(&appalti("026", 1, 1)), 403, "revoked_key").await;
    // Entries before the revocation stay as they were: a resend is still a duplicate.
    let (_, provinces) = app.get_json("/v1/provinces").await;
    let tv = provinces["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "026")
        .unwrap()
        .clone();
    assert_eq!(tv["enrolment"], "revoked");
}

#[tokio::test]
async fn key_rotation_and_revocation_entries_change_the_directory() {
    let app = TestApp::spawn().await;
    let mut node = app.enrolled("026", "treviso");
    let new_key = key("treviso 2027");
    let rotation = node.next(&Payload::KeyRotation(KeyRotation::new(
        node.province,
        &new_key,
    )));
    let old_key = std::mem::replace(&mut node.key, new_key);
    let after = node.next(&appalti("026", 0, 1));
    // Rotation and first entry with the new key in one push.
    let (status, body) = app.push(&[&rotation, &after]).await;
    assert_eq!(status, 200, "{body}");
    // The old key can no longer sign.
    let stale = NodeLog {
        key: old_key,
        seq: node.seq,
        prev: node.prev,
        ..NodeLog::new("026", "x")
    };
    assert_refused(&app, &stale.peek(&appalti("026", 1, 1)), 403, "revoked_key").await;
    // A revocation entry for the current key from seq 5 on: 4 passes, 5 is refused.
    let revocation = node.next(&Payload::KeyRevocation(KeyRevocation {
        kid: node.key.key_id(),
        from_seq: Seq::new(5).unwrap(),
        reason: "planned".into(),
    }));
    let fourth = node.next(&appalti("026", 2, 1));
    assert_eq!(app.push(&[&revocation, &fourth]).await.0, 200);
    assert_refused(&app, &node.peek(&appalti("026", 3, 1)), 403, "revoked_key").await;
    let (_, keys) = app.get_json("/v1/operator/keys").await;
    assert_eq!(keys.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn an_oversized_push_is_refused_before_it_is_read() {
    let app = TestApp::spawn().await;
    let addr = app.url.trim_start_matches("http://").to_owned();
    // Declares 20 MB and sends almost nothing: the answer must come without the body.
    let answer = tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        write!(
            stream,
            "POST /v1/federation/entries HTTP/1.1\r\nhost: hub\r\ncontent-type: application/json\r\ncontent-length: 20000000\r\n\r\n{{\"entries\":["
        )
        .unwrap();
        let mut buf = [0u8; 4096];
        let n = stream.read(&mut buf).unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("application/problem+json"));
    assert!(answer.contains("\"code\":\"oversize\""));

    // Without a length (chunked), the stream is cut at the limit.
    let chunk = vec![b' '; 1024 * 1024];
    let stream =
        futures_util::stream::iter((0..17).map(move |_| Ok::<_, std::io::Error>(chunk.clone())));
    let response = app
        .http
        .post(format!("{}/v1/federation/entries", app.url))
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 413);
    assert_eq!(app.count("entries"), 0);
}

#[tokio::test]
async fn pushes_over_the_per_node_rate_are_refused_with_rate_limit_headers() {
    let app = TestApp::spawn_with(|config| {
        config.quota.push_burst = 2;
        config.quota.pushes_per_minute = 1;
    })
    .await;
    let mut node = app.enrolled("026", "treviso");
    let entry = node.next(&appalti("026", 0, 1));
    let body = serde_json::json!({ "entries": [serde_json::from_slice::<Value>(&entry.to_bytes()).unwrap()] });
    let mut last = None;
    for _ in 0..3 {
        last = Some(
            app.http
                .post(format!("{}/v1/federation/entries", app.url))
                .json(&body)
                .send()
                .await
                .unwrap(),
        );
    }
    let last = last.unwrap();
    assert_eq!(last.status().as_u16(), 429);
    assert_eq!(last.headers()["ratelimit-limit"], "2");
    assert_eq!(last.headers()["ratelimit-remaining"], "0");
    assert!(last.headers().contains_key("retry-after"));
    // Another Province is not affected.
    let other = NodeLog::new("017", "brescia");
    app.enrol(&other);
    let mut other = other;
    app.push_ok(&other.next(&appalti("017", 0, 1))).await;
}

#[tokio::test]
async fn pushes_beyond_the_inflight_budget_wait_then_get_503_with_retry_after() {
    let app = TestApp::spawn_with(|config| {
        config.ingest.max_inflight_bytes = 1024 * 1024;
        config.ingest.admission_wait_ms = 200;
    })
    .await;
    let mut node = app.enrolled("026", "treviso");
    let entry = node.next(&appalti("026", 0, 4_000));
    let body = crate::support::push_body(&[&entry]);
    assert!(body.len() > 500_000, "{}", body.len());

    // Another push holds the whole budget: this one waits, then is turned away, unread.
    let held = app
        .state
        .admission
        .admit(Some(1024 * 1024), 16 * 1024 * 1024)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let response = app
        .http
        .post(format!("{}/v1/federation/entries", app.url))
        .header("content-type", "application/json")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(response.status().as_u16(), 503);
    assert_eq!(response.headers()["retry-after"], "1");
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "busy");
    assert_eq!(app.count("entries"), 0, "nothing of it was stored");

    // Room frees up while a push waits: it goes through.
    let waiting = tokio::spawn({
        let http = app.http.clone();
        let url = format!("{}/v1/federation/entries", app.url);
        async move {
            http.post(url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    drop(held);
    assert_eq!(waiting.await.unwrap(), 200);
    assert_eq!(app.count("dataset_rows"), 4_000);
}

#[tokio::test]
async fn a_burst_of_pushes_never_holds_more_than_the_budget_and_all_land_on_retry() {
    let budget = 1024 * 1024;
    let app = TestApp::spawn_with(|config| {
        config.ingest.max_inflight_bytes = budget;
        config.ingest.admission_wait_ms = 50;
    })
    .await;
    let codes = [
        "026", "017", "041", "028", "024", "001", "015", "058", "063", "072",
    ];
    let mut bodies = Vec::new();
    for (i, code) in codes.iter().enumerate() {
        let mut node = NodeLog::new(code, &format!("burst-{i}"));
        app.enrol(&node);
        bodies.push(crate::support::push_body(&[
            &node.next(&appalti(code, 0, 2_000))
        ]));
    }
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let watcher = tokio::spawn({
        let admission = app.state.admission.clone();
        let peak = peak.clone();
        async move {
            loop {
                peak.fetch_max(admission.in_flight(), std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
    });
    let tasks: Vec<_> = bodies
        .into_iter()
        .map(|body| {
            let http = app.http.clone();
            let url = format!("{}/v1/federation/entries", app.url);
            tokio::spawn(async move {
                let mut shed = 0;
                loop {
                    let response = http
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(body.clone())
                        .send()
                        .await
                        .unwrap();
                    match response.status().as_u16() {
                        200 => return shed,
                        503 => {
                            shed += 1;
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                        other => panic!("unexpected {other}"),
                    }
                }
            })
        })
        .collect();
    let mut shed = 0;
    for task in tasks {
        shed += task.await.unwrap();
    }
    watcher.abort();
    assert!(
        shed > 0,
        "ten pushes of ~400 KB do not fit a 1 MiB budget at once"
    );
    assert!(peak.load(std::sync::atomic::Ordering::Relaxed) <= budget);
    assert_eq!(app.count("dataset_rows"), 20_000, "every push landed once");
    assert_eq!(app.count("entries"), 10);
}
