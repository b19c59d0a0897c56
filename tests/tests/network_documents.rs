//! Documents in a thematic network, with real processes: Treviso (026) posts a thread with a
//! document; Brescia (017) pulls the post, fetches the document from the hub and serves it
//! byte for byte, with Treviso shown as its origin. Then, while Brescia is down, Treviso
//! replies with a second document and the hub's copy of it is altered (a hub tampering with
//! what it stores): back up, Brescia refuses it — not downloadable, an open alarm — and the
//! first document stays available.

#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on unexpected input"
)]

use pico_system_tests::federation::{Hub, Node, PATIENCE, system_root, wait_until};
use reqwest::Method;
use serde_json::{Value, json};

/// A document of `len` bytes that is not just text.
fn document(len: usize, salt: u8) -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n".to_vec();
    bytes.extend((0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(salt)));
    bytes
}

fn sha256_hex(bytes: &[u8]) -> String {
    pico_protocol::Hash32::digest_of(&[bytes]).to_hex()
}

fn join(node: &mut Node, network: &str) {
    let response = node
        .api(Method::PUT, &format!("/v1/networks/{network}/membership"))
        .unwrap()
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200, "join {network}");
}

fn post_with_document(node: &mut Node, post: &Value, name: &str, bytes: &[u8]) -> u64 {
    let form = reqwest::blocking::multipart::Form::new()
        .text("post", post.to_string())
        .part(
            "attachment",
            reqwest::blocking::multipart::Part::bytes(bytes.to_vec())
                .file_name(name.to_owned())
                .mime_str("application/pdf")
                .unwrap(),
        );
    let response = node
        .api(Method::POST, "/v1/networks/sua/posts")
        .unwrap()
        .multipart(form)
        .send()
        .unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().unwrap();
    assert_eq!(status, 201, "{body}");
    body["seq"].as_u64().unwrap()
}

fn get(node: &mut Node, path: &str) -> (u16, Vec<u8>) {
    let response = node.api(Method::GET, path).unwrap().send().unwrap();
    (
        response.status().as_u16(),
        response.bytes().unwrap().to_vec(),
    )
}

fn thread(node: &mut Node, seq: u64) -> Option<Value> {
    let (status, body) = get(node, &format!("/v1/networks/sua/threads/026/{seq}"));
    (status == 200).then(|| serde_json::from_slice(&body).unwrap())
}

/// The state of document `position` of post `(origin, seq)` in the thread, if listed.
fn document_state(thread: &Value, origin: &str, seq: u64, position: usize) -> Option<String> {
    thread["posts"]
        .as_array()?
        .iter()
        .find(|post| post["origin"] == origin && post["seq"] == seq)?["attachments"][position]
        ["state"]
        .as_str()
        .map(str::to_owned)
}

#[test]
fn a_posts_document_reaches_another_province_intact_and_an_altered_one_is_refused() {
    let root = system_root().unwrap();
    let hub = Hub::start(root.path()).unwrap();
    let mut treviso = Node::init(root.path(), "026").unwrap();
    let mut brescia = Node::init(root.path(), "017").unwrap();
    hub.enrol("026", treviso.public_key()).unwrap();
    hub.enrol("017", brescia.public_key()).unwrap();
    let hub_url = hub.url();
    treviso.serve(&hub_url).unwrap();
    brescia.serve(&hub_url).unwrap();
    join(&mut treviso, "sua");
    join(&mut brescia, "sua");

    // A thread with a document: Brescia ends up with the very same bytes.
    let first = document(250_000, 7);
    let opened = post_with_document(
        &mut treviso,
        &json!({"subject": "Disciplinare tipo", "body": "Il nostro disciplinare, aggiornato."}),
        "disciplinare.pdf",
        &first,
    );
    wait_until("Brescia holds the first document", PATIENCE, || {
        Ok(thread(&mut brescia, opened)
            .and_then(|t| document_state(&t, "026", opened, 0))
            .as_deref()
            == Some("available"))
    })
    .unwrap();
    let base = format!("/v1/networks/sua/posts/026/{opened}/attachments");
    let (status, bytes) = get(&mut brescia, &format!("{base}/0"));
    assert_eq!(status, 200);
    assert!(bytes == first, "byte-identical on Brescia's node");
    let (status, page) = get(&mut brescia, &format!("/networks/sua/threads/026/{opened}"));
    assert_eq!(status, 200);
    let page = String::from_utf8(page).unwrap();
    assert!(page.contains("Documenti della Treviso (026)"), "{page}");
    assert!(page.contains(&format!("{base}/0")), "{page}");
    assert!(page.contains("disciplinare.pdf"), "{page}");

    // Brescia is down; Treviso replies with a second document, which the hub then alters.
    brescia.kill().unwrap();
    let second = document(120_000, 99);
    let reply = post_with_document(
        &mut treviso,
        &json!({"body": "E il capitolato.", "thread": {"origin": "026", "seq": opened}}),
        "capitolato.pdf",
        &second,
    );
    let sha = sha256_hex(&second);
    wait_until("the hub holds the second document", PATIENCE, || {
        let stored: i64 = hub.db()?.query_row(
            "SELECT count(*) FROM attachments WHERE hex(sha256) = upper(?1) AND content IS NOT NULL",
            [&sha],
            |row| row.get(0),
        )?;
        Ok(stored == 1)
    })
    .unwrap();
    let mut altered = second.clone();
    altered[5000] ^= 0x01;
    let changed = hub
        .db_for_tampering()
        .unwrap()
        .execute(
            "UPDATE attachments SET content = ?2 WHERE hex(sha256) = upper(?1)",
            rusqlite::params![sha, altered],
        )
        .unwrap();
    assert_eq!(changed, 1);

    brescia.start_again().unwrap();
    wait_until("Brescia refuses the altered document", PATIENCE, || {
        Ok(thread(&mut brescia, opened)
            .and_then(|t| document_state(&t, "026", reply, 0))
            .as_deref()
            == Some("refused"))
    })
    .unwrap();
    let (status, _) = get(
        &mut brescia,
        &format!("/v1/networks/sua/posts/026/{reply}/attachments/0"),
    );
    assert_eq!(status, 404, "a refused document is never served");
    let (status, bytes) = get(&mut brescia, &format!("{base}/0"));
    assert_eq!((status, bytes == first), (200, true));
    let status = brescia.status().unwrap();
    assert_eq!(status["open_alarms"], 1, "{status:#}");
    assert_eq!(status["alarms"][0]["kind"], "network_document_refused");
    // Treviso, the origin, still has its own copy, and its publishing is clean.
    let (status, bytes) = get(
        &mut treviso,
        &format!("/v1/networks/sua/posts/026/{reply}/attachments/0"),
    );
    assert_eq!((status, bytes == second), (200, true));
    assert_eq!(treviso.status().unwrap()["open_alarms"], 0);
}
