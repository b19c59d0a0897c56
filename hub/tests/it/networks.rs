//! Thematic networks: membership authenticated by request signatures, routing of posts to
//! members' inboxes, cursor paging, long-poll, and end-to-end verification of routed posts
//! against the published key directory.

use std::time::{Duration, Instant};

use pico_protocol::Hash32;
use pico_protocol::payload::{Attachment, Network, NetworkMessage, Payload};
use pico_protocol::request_auth::RequestAuth;
use pico_protocol::{KeyRecord, Seq, SignedEntry, Timestamp, verify_entry};
use reqwest::Method;
use serde_json::Value;

use crate::support::{NodeLog, OPERATOR_TOKEN, TestApp, appalti, parameter_names};

/// A post opening a thread in `network`.
fn post(network: Network, text: &str) -> Payload {
    Payload::NetworkMessage(NetworkMessage {
        network,
        thread: None,
        reply_to: None,
        subject: Some(format!("Domanda: {text}")),
        body: format!("Qualcuno ha esperienza di {text}?"),
        attachments: vec![],
    })
}

/// Sends a request signed by `node` (or with the given Authorization value).
async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    authorization: Option<String>,
) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut request = app.http.request(method, format!("{}{path}", app.url));
    if let Some(value) = authorization {
        request = request.header("authorization", value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (
        status,
        response.json().await.unwrap_or(Value::Null),
        headers,
    )
}

fn sign(node: &NodeLog, method: &Method, path: &str) -> String {
    RequestAuth::sign(
        &node.key,
        node.province,
        method.as_str(),
        path,
        Timestamp::now(),
    )
}

/// Starts a signed inbox poll by `node` with `query` (`wait=…`), left running.
fn spawn_poll(
    app: &TestApp,
    node: &NodeLog,
    query: &str,
) -> tokio::task::JoinHandle<reqwest::Result<reqwest::Response>> {
    let authorization = sign(node, &Method::GET, "/v1/federation/inbox");
    let request = app
        .http
        .get(format!("{}/v1/federation/inbox?{query}", app.url))
        .header("authorization", authorization);
    tokio::spawn(request.send())
}

/// Waits, 10 s at the most, until `polls` polls wait on the inbox.
async fn until_waiting(app: &TestApp, polls: usize) {
    tokio::time::timeout(Duration::from_secs(10), async {
        while app.state.inbox.waiting() < polls {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap();
}

async fn signed(app: &TestApp, node: &NodeLog, method: Method, path: &str) -> (u16, Value) {
    let authorization = sign(node, &method, path);
    let (status, body, _) = call(app, method, path, Some(authorization)).await;
    (status, body)
}

async fn join(app: &TestApp, node: &NodeLog, network: &str) {
    let path = format!(
        "/v1/federation/networks/{network}/members/{}",
        node.province
    );
    let (status, body) = signed(app, node, Method::PUT, &path).await;
    assert_eq!(status, 200, "{body}");
}

async fn inbox(app: &TestApp, node: &NodeLog, query: &str) -> (u16, Value) {
    let authorization = sign(node, &Method::GET, "/v1/federation/inbox");
    let (status, body, _) = call(
        app,
        Method::GET,
        &format!("/v1/federation/inbox?{query}"),
        Some(authorization),
    )
    .await;
    (status, body)
}

async fn publish(app: &TestApp, node: &mut NodeLog, payload: &Payload) -> SignedEntry {
    let entry = node.next(payload);
    let (status, body) = app.push(&[&entry]).await;
    assert_eq!(status, 200, "{body}");
    entry
}

async fn members(app: &TestApp, network: &str) -> Vec<String> {
    let (status, body, _) = call(app, Method::GET, "/v1/federation/networks", None).await;
    assert_eq!(status, 200);
    let items = body["items"].as_array().unwrap();
    assert_eq!(
        items
            .iter()
            .map(|n| n["network"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["sua", "sape", "sit", "personale"]
    );
    items.iter().find(|n| n["network"] == network).unwrap()["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_owned())
        .collect()
}

fn items(page: &Value) -> &Vec<Value> {
    page["items"].as_array().unwrap()
}

#[tokio::test]
async fn a_node_changes_only_its_own_membership_with_a_valid_signature() {
    let app = TestApp::spawn().await;
    let treviso = NodeLog::new("026", "treviso");
    let brescia = NodeLog::new("017", "brescia");
    app.enrol(&treviso);
    app.enrol(&brescia);
    let own = "/v1/federation/networks/sua/members/026";

    let (status, body) = signed(&app, &treviso, Method::PUT, own).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["network"], "sua");
    assert_eq!(body["province"], "026");
    let joined_at = body["joined_at"].clone();
    // Joining again changes nothing.
    let (status, again) = signed(&app, &treviso, Method::PUT, own).await;
    assert_eq!((status, &again["joined_at"]), (200, &joined_at));
    assert_eq!(members(&app, "sua").await, ["026"]);

    // Another Province's membership: authenticated, but forbidden.
    let other = "/v1/federation/networks/sua/members/017";
    let (status, body) = signed(&app, &treviso, Method::PUT, other).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")));

    // No signature, a bad signature, a stale one, one for another path: 401.
    let (status, body, headers) = call(&app, Method::PUT, other, None).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("unauthorized")));
    assert_eq!(headers["www-authenticate"], "Pico-Signature");

    // Change the signature's first character: every base64url character there carries six
    // full bits, so the result still decodes (the last one carries only two).
    let signed_header = sign(&brescia, &Method::PUT, other);
    let at = signed_header.rfind('.').unwrap() + 1;
    let first = &signed_header[at..=at];
    let tampered = format!(
        "{}{}{}",
        &signed_header[..at],
        if first == "A" { "B" } else { "A" },
        &signed_header[at + 1..]
    );
    let (status, body, _) = call(&app, Method::PUT, other, Some(tampered)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("bad_signature"))
    );

    let stale = RequestAuth::sign(
        &brescia.key,
        brescia.province,
        "PUT",
        other,
        Timestamp::from_unix(Timestamp::now().unix() - 400).unwrap(),
    );
    let (status, body, _) = call(&app, Method::PUT, other, Some(stale)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("malformed_envelope"))
    );
    assert!(
        body["detail"].as_str().unwrap().contains("fuori tempo"),
        "{body}"
    );
    assert!(body["hub_time"].is_string());

    let for_sape = sign(
        &brescia,
        &Method::PUT,
        "/v1/federation/networks/sape/members/017",
    );
    let (status, _, _) = call(&app, Method::PUT, other, Some(for_sape)).await;
    assert_eq!(status, 401);
    let as_delete = sign(&brescia, &Method::DELETE, other);
    let (status, _, _) = call(&app, Method::PUT, other, Some(as_delete)).await;
    assert_eq!(status, 401);

    // A key the hub does not know, and a key of another Province claiming to be 017.
    let stranger = NodeLog::new("017", "stranger");
    let (status, body) = signed(&app, &stranger, Method::PUT, other).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("unknown_key")));
    let impostor = RequestAuth::sign(
        &treviso.key,
        brescia.province,
        "PUT",
        other,
        Timestamp::now(),
    );
    let (status, body, _) = call(&app, Method::PUT, other, Some(impostor)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("unauthorised_key"))
    );
    assert_eq!(members(&app, "sua").await, ["026"]);

    // Unknown network: 404 once authenticated.
    let (status, _) = signed(
        &app,
        &treviso,
        Method::PUT,
        "/v1/federation/networks/pesca/members/026",
    )
    .await;
    assert_eq!(status, 404);

    // Operators may change any membership with their token, and only with the right one.
    let (status, _, _) = call(
        &app,
        Method::PUT,
        "/v1/federation/networks/sape/members/041",
        Some(format!("Bearer {OPERATOR_TOKEN}")),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _, _) = call(
        &app,
        Method::PUT,
        "/v1/federation/networks/sape/members/028",
        Some("Bearer wrong".into()),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(members(&app, "sape").await, ["041"]);

    // Leaving is idempotent.
    for _ in 0..2 {
        let (status, _) = signed(&app, &treviso, Method::DELETE, own).await;
        assert_eq!(status, 204);
    }
    assert!(members(&app, "sua").await.is_empty());

    // A revoked key no longer authenticates.
    {
        let conn = app.state.db.get().unwrap();
        pico_hub::db::keys::revoke(
            &conn,
            brescia.province,
            &brescia.key.key_id(),
            None,
            "compromised",
        )
        .unwrap();
    }
    let (status, body) = signed(
        &app,
        &brescia,
        Method::PUT,
        "/v1/federation/networks/sua/members/017",
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (401, Some("revoked_key")));
}

#[tokio::test]
async fn a_post_reaches_the_other_members_of_its_network_only() {
    let app = TestApp::spawn().await;
    let mut treviso = NodeLog::new("026", "treviso");
    let brescia = NodeLog::new("017", "brescia");
    let pesaro = NodeLog::new("041", "pesaro");
    let mut padova = NodeLog::new("028", "padova");
    for node in [&treviso, &brescia, &pesaro, &padova] {
        app.enrol(node);
    }
    for node in [&treviso, &brescia, &pesaro] {
        join(&app, node, "sua").await;
    }
    join(&app, &padova, "sape").await;

    publish(&app, &mut treviso, &appalti("026", 0, 2)).await;
    let sent = publish(&app, &mut treviso, &post(Network::Sua, "gare PNRR")).await;
    publish(&app, &mut padova, &post(Network::Sape, "bandi FESR")).await;

    for node in [&brescia, &pesaro] {
        let (status, page) = inbox(&app, node, "").await;
        assert_eq!(status, 200, "{page}");
        let got = items(&page);
        assert_eq!(got.len(), 1, "{page}");
        assert_eq!(got[0]["origin"], "026");
        assert_eq!(got[0]["seq"], 2);
        assert_eq!(got[0]["network"], "sua");
        // The entry is the wire form exactly as the origin signed it.
        assert_eq!(
            serde_json::to_vec(&got[0]["entry"]).unwrap(),
            serde_json::to_vec(&serde_json::from_slice::<Value>(&sent.to_bytes()).unwrap())
                .unwrap()
        );
        assert_eq!(page["next"], got[0]["cursor"].to_string());
    }
    // Not the origin, not a member of another network.
    let (_, own) = inbox(&app, &treviso, "").await;
    assert!(items(&own).is_empty(), "{own}");
    assert_eq!(own["next"], "0");
    let (_, other) = inbox(&app, &padova, "").await;
    assert!(items(&other).is_empty(), "{other}");

    // Without a signature there is no inbox.
    let (status, _, _) = call(&app, Method::GET, "/v1/federation/inbox", None).await;
    assert_eq!(status, 401);
    assert_eq!(app.count("inbox"), 2);
}

/// A signed `GET` of a network document: status, `code` and bytes.
async fn fetch_document(
    app: &TestApp,
    node: &NodeLog,
    sha: &str,
) -> (u16, Option<String>, Vec<u8>) {
    let path = format!("/v1/federation/attachments/{sha}");
    let response = app
        .http
        .get(format!("{}{path}", app.url))
        .header("authorization", sign(node, &Method::GET, &path))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap().to_vec();
    let code = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|v| v["code"].as_str().map(str::to_owned));
    (status, code, bytes)
}

#[tokio::test]
async fn a_posts_documents_are_served_to_the_members_of_its_network_only() {
    let app = TestApp::spawn().await;
    let mut treviso = NodeLog::new("026", "treviso");
    let brescia = NodeLog::new("017", "brescia");
    let padova = NodeLog::new("028", "padova");
    for node in [&treviso, &brescia, &padova] {
        app.enrol(node);
    }
    join(&app, &treviso, "sua").await;
    join(&app, &brescia, "sua").await;
    join(&app, &padova, "sape").await;
    let file = b"%PDF-1.7 disciplinare tipo".to_vec();
    let sha = Hash32::digest_of(&[&file]);
    let Payload::NetworkMessage(mut message) = post(Network::Sua, "disciplinari") else {
        unreachable!()
    };
    message.attachments = vec![Attachment {
        name: "disciplinare.pdf".into(),
        media_type: "application/pdf".into(),
        sha256: sha,
        length: file.len() as u64,
    }];
    publish(&app, &mut treviso, &Payload::NetworkMessage(message)).await;

    // Declared, not uploaded yet: members are told to come back later.
    let (status, code, _) = fetch_document(&app, &brescia, &sha.to_hex()).await;
    assert_eq!((status, code.as_deref()), (404, Some("attachment_pending")));

    // The upload is checked against the declaration, like a best practice's.
    let url = format!("{}/v1/federation/attachments/{}", app.url, sha.to_hex());
    let wrong = app
        .http
        .put(&url)
        .body(b"%PDF-1.7 disciplinare tipX".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 422);
    let right = app.http.put(&url).body(file.clone()).send().await.unwrap();
    assert_eq!(right.status().as_u16(), 204);

    // Members of the network (and the origin) get the bytes; nobody else does.
    let (status, _, bytes) = fetch_document(&app, &brescia, &sha.to_hex()).await;
    assert_eq!(status, 200);
    assert_eq!(bytes, file);
    let (status, _, bytes) = fetch_document(&app, &treviso, &sha.to_hex()).await;
    assert_eq!((status, bytes), (200, file.clone()));
    let (status, code, _) = fetch_document(&app, &padova, &sha.to_hex()).await;
    assert_eq!((status, code.as_deref()), (404, Some("not_found")));
    let (status, _, _) = call(
        &app,
        Method::GET,
        &format!("/v1/federation/attachments/{}", sha.to_hex()),
        None,
    )
    .await;
    assert_eq!(status, 401, "a signed request is required");
    let (status, _) = app
        .get_text(&format!("/v1/attachments/{}", sha.to_hex()))
        .await;
    assert_eq!(status, 404, "network documents are not public");

    // A Province that leaves stops getting them.
    let leave = format!("/v1/federation/networks/sua/members/{}", brescia.province);
    let (status, _) = signed(&app, &brescia, Method::DELETE, &leave).await;
    assert_eq!(status, 204);
    let (status, _, _) = fetch_document(&app, &brescia, &sha.to_hex()).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_inbox_pages_in_cursor_order_and_late_members_see_the_history() {
    let app = TestApp::spawn().await;
    let mut treviso = NodeLog::new("026", "treviso");
    let brescia = NodeLog::new("017", "brescia");
    let mut pesaro = NodeLog::new("041", "pesaro");
    let padova = NodeLog::new("028", "padova");
    for node in [&treviso, &brescia, &pesaro, &padova] {
        app.enrol(node);
    }
    join(&app, &brescia, "sit").await;
    for i in 0..5 {
        publish(
            &app,
            &mut treviso,
            &post(Network::Sit, &format!("tema {i}")),
        )
        .await;
        if i % 2 == 0 {
            publish(&app, &mut pesaro, &post(Network::Sit, &format!("idea {i}"))).await;
        }
    }

    let mut seen = Vec::new();
    let mut after = "0".to_owned();
    let mut pages = 0;
    loop {
        let (status, page) = inbox(&app, &brescia, &format!("after={after}&limit=3")).await;
        assert_eq!(status, 200, "{page}");
        pages += 1;
        let next = page["next"].as_str().unwrap().to_owned();
        if items(&page).is_empty() {
            assert_eq!(next, after, "an empty page keeps the cursor");
            break;
        }
        assert!(items(&page).len() <= 3);
        seen.extend(items(&page).iter().cloned());
        after = next;
    }
    assert_eq!(pages, 4, "3 + 3 + 2, then an empty page");
    assert_eq!(seen.len(), 8);
    let cursors: Vec<i64> = seen.iter().map(|i| i["cursor"].as_i64().unwrap()).collect();
    assert!(cursors.windows(2).all(|w| w[0] < w[1]), "{cursors:?}");
    for origin in ["026", "041"] {
        let seqs: Vec<u64> = seen
            .iter()
            .filter(|i| i["origin"] == origin)
            .map(|i| i["seq"].as_u64().unwrap())
            .collect();
        let expected: Vec<u64> = (1..=seqs.len() as u64).collect();
        assert_eq!(seqs, expected, "per-origin order is seq order");
    }
    // The interleaving is the order of acceptance.
    let origins: Vec<&str> = seen.iter().map(|i| i["origin"].as_str().unwrap()).collect();
    assert_eq!(
        origins,
        ["026", "041", "026", "026", "041", "026", "026", "041"]
    );

    // A Province joining later reads the network from its beginning.
    join(&app, &padova, "sit").await;
    let (_, page) = inbox(&app, &padova, "limit=500").await;
    assert_eq!(items(&page).len(), 8);
    // Limits: above the maximum is reduced, a negative cursor is refused.
    let (status, page) = inbox(&app, &padova, "limit=100000").await;
    assert_eq!((status, items(&page).len()), (200, 8));
    let (status, _) = inbox(&app, &padova, "after=-1").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_long_poll_wakes_up_when_a_post_is_accepted() {
    let app = TestApp::spawn().await;
    let mut treviso = NodeLog::new("026", "treviso");
    let brescia = NodeLog::new("017", "brescia");
    let padova = NodeLog::new("028", "padova");
    for node in [&treviso, &brescia, &padova] {
        app.enrol(node);
    }
    join(&app, &brescia, "personale").await;
    join(&app, &padova, "sape").await;

    // Nothing new: the poll answers empty once `wait` has passed, even when a post for
    // another network arrives meanwhile.
    let started = Instant::now();
    let quiet = spawn_poll(&app, &padova, "wait=1");

    let poll = spawn_poll(&app, &brescia, "after=0&wait=30");
    // Both polls are subscribed before the post is made, so this exercises the wake-up.
    until_waiting(&app, 2).await;
    publish(
        &app,
        &mut treviso,
        &post(Network::Personale, "smart working"),
    )
    .await;

    let response = tokio::time::timeout(Duration::from_secs(10), poll)
        .await
        .expect("the poll is woken well before its 30 s")
        .unwrap()
        .unwrap();
    assert_eq!(response.status(), 200);
    let page: Value = response.json().await.unwrap();
    assert_eq!(items(&page).len(), 1, "{page}");
    assert_eq!(items(&page)[0]["network"], "personale");
    assert!(started.elapsed() < Duration::from_secs(10));

    let quiet = quiet.await.unwrap().unwrap();
    assert_eq!(quiet.status(), 200);
    let page: Value = quiet.json().await.unwrap();
    assert!(items(&page).is_empty(), "{page}");
    assert_eq!(page["next"], "0");
    assert!(started.elapsed() >= Duration::from_secs(1));

    // When the hub stops, waiting polls answer at once instead of holding the shutdown.
    let started = Instant::now();
    let poll = spawn_poll(&app, &padova, "wait=60");
    until_waiting(&app, 1).await;
    app.state.inbox.close();
    let response = poll.await.unwrap().unwrap();
    assert_eq!(response.status(), 200);
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn a_routed_post_verifies_against_the_published_keys_and_an_altered_copy_does_not() {
    let app = TestApp::spawn().await;
    let mut treviso = NodeLog::new("026", "treviso");
    let brescia = NodeLog::new("017", "brescia");
    app.enrol(&treviso);
    app.enrol(&brescia);
    join(&app, &brescia, "sua").await;
    publish(
        &app,
        &mut treviso,
        &post(Network::Sua, "qualificazione SUA"),
    )
    .await;

    // The key directory is public.
    let (status, keys, _) = call(&app, Method::GET, "/v1/federation/keys", None).await;
    assert_eq!(status, 200);
    let directory: Vec<KeyRecord> = keys["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            assert_eq!(
                k["kid"].as_str().unwrap(),
                k["public_key"]
                    .as_str()
                    .unwrap()
                    .parse::<pico_protocol::PublicKey>()
                    .unwrap()
                    .key_id()
                    .as_str()
            );
            KeyRecord {
                province: k["province"].as_str().unwrap().parse().unwrap(),
                key: k["public_key"].as_str().unwrap().parse().unwrap(),
                valid_from: Seq::new(k["valid_from"].as_u64().unwrap()).unwrap(),
                revoked_from: k["revoked_from"].as_u64().map(|s| Seq::new(s).unwrap()),
            }
        })
        .collect();
    assert_eq!(directory.len(), 2);

    // Read the inbox as raw text, so the entry's bytes are exactly what the hub sent.
    let authorization = sign(&brescia, &Method::GET, "/v1/federation/inbox");
    let text = app
        .http
        .get(format!("{}/v1/federation/inbox", app.url))
        .header("authorization", authorization)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    #[derive(serde::Deserialize)]
    struct Page<'a> {
        #[serde(borrow)]
        items: Vec<Item<'a>>,
    }
    #[derive(serde::Deserialize)]
    struct Item<'a> {
        #[serde(borrow)]
        entry: &'a serde_json::value::RawValue,
    }
    let page: Page<'_> = serde_json::from_str(&text).unwrap();
    let wire = page.items[0].entry.get();

    let entry = SignedEntry::from_bytes(wire.as_bytes()).unwrap();
    let verified = verify_entry(entry, directory.as_slice()).unwrap();
    assert_eq!(verified.header.sender.as_str(), "026");
    match verified.payload {
        Payload::NetworkMessage(message) => {
            assert_eq!(
                message.subject.as_deref(),
                Some("Domanda: qualificazione SUA")
            );
        }
        other => panic!("not a network message: {other:?}"),
    }

    // A hub (or anyone on the way) that alters the post is detected.
    let altered = wire.replace("qualificazione SUA", "qualificazione SUB");
    assert_ne!(altered, wire);
    let error = verify_entry(
        SignedEntry::from_bytes(altered.as_bytes()).unwrap(),
        directory.as_slice(),
    )
    .unwrap_err();
    assert_eq!(error.code(), "body_mismatch");
    // A key substituted for the origin's is not in the pinned directory.
    let forged = NodeLog::new("026", "forger").peek(&post(Network::Sua, "falso"));
    let error = verify_entry(forged, directory.as_slice()).unwrap_err();
    assert_eq!(error.code(), "unknown_key");
}

#[tokio::test]
async fn the_node_facing_network_endpoints_are_in_the_openapi_document() {
    let app = TestApp::spawn().await;
    let (status, doc, _) = call(&app, Method::GET, "/v1/openapi.json", None).await;
    assert_eq!(status, 200);
    let paths = &doc["paths"];
    assert!(paths["/v1/federation/networks"]["get"].is_object());
    let members = &paths["/v1/federation/networks/{network}/members/{province}"];
    assert!(members["put"].is_object());
    assert!(members["delete"].is_object());
    assert!(members["put"]["security"].is_array());
    let inbox = &paths["/v1/federation/inbox"]["get"];
    assert!(inbox.is_object());
    let params = parameter_names(inbox);
    assert_eq!(params, ["after", "limit", "wait"]);
    assert!(paths["/v1/federation/keys"]["get"].is_object());
    let documents = &paths["/v1/federation/attachments/{sha256}"];
    assert!(documents["put"].is_object());
    assert!(documents["get"]["security"].is_array());
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["pico_signature"]["in"], "header");
    assert_eq!(schemes["pico_signature"]["name"], "Authorization");
    assert_eq!(schemes["operator"]["scheme"], "bearer");
}
