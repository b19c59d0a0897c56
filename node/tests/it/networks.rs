//! Thematic networks end to end: a real hub in-process and real nodes (Treviso 026, Brescia
//! 017, Pesaro e Urbino 041), each with its own database and key, enrolled at the hub. Posts
//! travel as signed entries through the hub's inbox and are verified by the receivers.
//! Waits are bounded polls of a condition, never timing assertions.

use std::time::Duration;

use pico_node::NodeConfig;
use pico_node::auth::{Module, Role};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::oneshot;

use crate::federation::Hub;
use crate::helpers::{TestApp, add_user, init_dir};

/// A node of `province` talking to `hub_url`, with an admin token.
pub(crate) fn node_config(
    hub_url: &str,
    province: &str,
) -> (tempfile::TempDir, NodeConfig, String) {
    let (dir, mut config) = init_dir(province);
    config.federation.hub_url = hub_url.to_owned();
    config.federation.poll_interval_ms = 100;
    config.federation.check_interval_secs = 1;
    config.federation.retry_base_ms = 50;
    config.federation.retry_max_secs = 1;
    config.federation.request_timeout_secs = 10;
    let token = add_user(&config, "amministratore", &Role::Admin);
    (dir, config, token)
}

pub(crate) struct Node {
    pub(crate) app: TestApp,
    pub(crate) token: String,
}

pub(crate) async fn start_node(hub: &Hub, hub_url: &str, province: &str) -> Node {
    let (dir, config, token) = node_config(hub_url, province);
    hub.enrol(&config, province);
    Node {
        app: TestApp::start(dir, config).await,
        token,
    }
}

pub(crate) async fn join(node: &Node, network: &str) {
    let response = reqwest::Client::new()
        .put(node.app.url(&format!("/v1/networks/{network}/membership")))
        .bearer_auth(&node.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "join {network}");
}

async fn post(node: &Node, network: &str, body: &Value) -> Value {
    let response = node
        .app
        .post_json(
            &format!("/v1/networks/{network}/posts"),
            Some(&node.token),
            body,
        )
        .await;
    let status = response.status();
    let answer: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    answer
}

pub(crate) async fn get_json(node: &Node, path: &str) -> Value {
    let response = node.app.get(path, Some(&node.token)).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.unwrap()
}

/// Polls `path` until `done` holds (bounded), returning the last answer.
pub(crate) async fn wait_for(node: &Node, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    for _ in 0..600 {
        last = get_json(node, path).await;
        if done(&last) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{path}: condition not reached: {last:#}");
}

fn received(list: &Value) -> u64 {
    list["inbox"]["received"].as_u64().unwrap()
}

#[tokio::test]
async fn provinces_converse_in_a_network_and_non_members_receive_nothing() {
    let mut hub = Hub::init();
    hub.start().await;
    let url = hub.url();
    let treviso = start_node(&hub, &url, "026").await;
    let brescia = start_node(&hub, &url, "017").await;
    let pesaro = start_node(&hub, &url, "041").await;
    join(&treviso, "sua").await;
    join(&brescia, "sua").await;
    join(&pesaro, "sape").await;
    let members = hub.get("/v1/federation/networks").await;
    assert_eq!(members["items"][0]["network"], "sua");
    assert_eq!(members["items"][0]["members"], json!(["017", "026"]));

    // Posting where the Province is not a member is refused before anything is signed.
    let response = pesaro
        .app
        .post_json(
            "/v1/networks/sua/posts",
            Some(&pesaro.token),
            &json!({"subject": "x", "body": "y"}),
        )
        .await;
    let problem = crate::helpers::assert_problem(response, StatusCode::CONFLICT).await;
    assert_eq!(problem["code"], "not_a_member");

    let opened = post(
        &treviso,
        "sua",
        &json!({"subject": "Clausole sociali nei bandi", "body": "Come applicate le clausole sociali?"}),
    )
    .await;
    let (origin, seq) = (
        opened["origin"].as_str().unwrap().to_owned(),
        opened["seq"].as_u64().unwrap(),
    );
    assert_eq!(origin, "026");

    // Brescia's node pulls it and shows it with its origin.
    let threads = wait_for(&brescia, "/v1/networks/sua/threads", |t| {
        t["items"].as_array().unwrap().len() == 1
    })
    .await;
    assert_eq!(threads["items"][0]["origin"], "026");
    assert_eq!(threads["items"][0]["subject"], "Clausole sociali nei bandi");
    let page = brescia
        .app
        .get("/networks/sua", Some(&brescia.token))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Clausole sociali nei bandi"), "{page}");
    assert!(page.contains("Treviso (026)"), "{page}");

    // Brescia replies; Treviso sees the reply in the thread.
    let reply = post(
        &brescia,
        "sua",
        &json!({"body": "Usiamo il modello ANAC, con punteggio premiale.", "thread": {"origin": origin, "seq": seq}}),
    )
    .await;
    assert_eq!(reply["thread"], json!({"origin": "026", "seq": seq}));
    let thread_path = format!("/v1/networks/sua/threads/026/{seq}");
    let thread = wait_for(&treviso, &thread_path, |t| {
        t["posts"].as_array().unwrap().len() == 2
    })
    .await;
    assert_eq!(thread["posts"][0]["origin"], "026");
    assert_eq!(thread["posts"][1]["origin"], "017");
    assert_eq!(
        thread["posts"][1]["reply_to"],
        json!({"origin": "026", "seq": seq})
    );
    let page = treviso
        .app
        .get(
            &format!("/networks/sua/threads/026/{seq}"),
            Some(&treviso.token),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Usiamo il modello ANAC"), "{page}");
    assert!(page.contains("Brescia (017)"), "{page}");

    // Pesaro is not in `sua`: once it has received a later `sape` post (the inbox is in
    // cursor order), it has provably been offered nothing from `sua`.
    join(&treviso, "sape").await;
    post(
        &treviso,
        "sape",
        &json!({"subject": "Bando Interreg", "body": "Chi partecipa?"}),
    )
    .await;
    let list = wait_for(&pesaro, "/v1/networks", |l| received(l) == 1).await;
    assert_eq!(list["inbox"]["quarantined"], 0);
    let sua = get_json(&pesaro, "/v1/networks/sua/threads").await;
    assert_eq!(sua["items"], json!([]));

    // Comune users do not see networks; a module operator manages only its own network.
    let comune = add_user(
        &brescia.app.config,
        "comune.brescia",
        &Role::Comune(pico_protocol::ComuneCode::parse("017029").unwrap()),
    );
    assert_eq!(
        brescia
            .app
            .get("/v1/networks", Some(&comune))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let sit = add_user(
        &brescia.app.config,
        "operatore.sit",
        &Role::Operator(Module::Sit),
    );
    let response = brescia
        .app
        .post_json(
            "/v1/networks/sua/posts",
            Some(&sit),
            &json!({"subject": "x", "body": "y"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        get_json(&brescia, "/v1/networks").await["items"][0]["can_manage"],
        true
    );

    // Re-delivery: the cursor is reset, the whole inbox comes again, nothing is duplicated.
    let before = get_json(&brescia, "/v1/networks").await;
    let cursor = before["inbox"]["cursor"].as_i64().unwrap();
    assert!(cursor > 0);
    let (dir, config) = brescia.app.stop().await;
    let db =
        pico_service::Db::open_existing(&config.db_path(), pico_node::db::MIGRATIONS, 1).unwrap();
    db.get()
        .unwrap()
        .execute("UPDATE network_inbox SET cursor = 0", [])
        .unwrap();
    drop(db);
    let brescia = Node {
        app: TestApp::start(dir, config).await,
        token: brescia.token,
    };
    let after = wait_for(&brescia, "/v1/networks", |l| {
        l["inbox"]["cursor"].as_i64() == Some(cursor) && l["inbox"]["last_pull_at"].is_string()
    })
    .await;
    assert_eq!(received(&after), received(&before));
    let thread = get_json(&brescia, &thread_path).await;
    assert_eq!(thread["posts"].as_array().unwrap().len(), 2);

    for node in [treviso, brescia, pesaro] {
        node.app.stop().await;
    }
    hub.stop().await;
}

/// A front for the hub that forwards everything (signed requests included) but alters the
/// text of posts in inbox answers: a hub, or a machine in the middle, tampering in transit.
async fn tampering_front(hub_url: String) -> (String, oneshot::Sender<()>) {
    crate::federation::rewriting_front(hub_url, |path, body| {
        if path != "/v1/federation/inbox" {
            return body;
        }
        // Same length, so only the signed digest can tell.
        let text = String::from_utf8_lossy(&body).replace("ORIGINALE", "ALTERATO!");
        axum::body::Bytes::from(text)
    })
    .await
}

#[tokio::test]
async fn a_post_altered_in_transit_is_quarantined_and_the_rest_still_arrives() {
    let mut hub = Hub::init();
    hub.start().await;
    let (front, _stop) = tampering_front(hub.url()).await;
    let treviso = start_node(&hub, &hub.url(), "026").await;
    let brescia = start_node(&hub, &front, "017").await;
    join(&treviso, "sit").await;
    join(&brescia, "sit").await;
    post(
        &treviso,
        "sit",
        &json!({"subject": "Catasto strade", "body": "Testo ORIGINALE della proposta."}),
    )
    .await;
    post(
        &treviso,
        "sit",
        &json!({"subject": "Open data", "body": "Pubblichiamo il dataset delle strade."}),
    )
    .await;
    let list = wait_for(&brescia, "/v1/networks", |l| {
        received(l) == 1 && l["inbox"]["quarantined"] == 1
    })
    .await;
    assert_eq!(list["inbox"]["quarantined"], 1);
    let threads = get_json(&brescia, "/v1/networks/sit/threads").await;
    assert_eq!(threads["items"].as_array().unwrap().len(), 1);
    assert_eq!(threads["items"][0]["subject"], "Open data");
    let held = get_json(&brescia, "/v1/networks/quarantine").await;
    assert_eq!(held["items"][0]["code"], "body_mismatch", "{held:#}");
    assert_eq!(held["items"][0]["origin"], "026");
    let page = brescia
        .app
        .get("/networks/quarantine", Some(&brescia.token))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("body_mismatch"), "{page}");
    for node in [treviso, brescia] {
        node.app.stop().await;
    }
    hub.stop().await;
}

#[tokio::test]
async fn a_node_down_for_a_while_drains_its_whole_inbox_in_order() {
    let mut hub = Hub::init();
    hub.start().await;
    let url = hub.url();
    let treviso = start_node(&hub, &url, "026").await;
    let brescia = start_node(&hub, &url, "017").await;
    join(&treviso, "personale").await;
    join(&brescia, "personale").await;
    let (dir, config) = brescia.app.stop().await;

    let total = 300;
    for i in 1..=total {
        post(
            &treviso,
            "personale",
            &json!({"subject": format!("Domanda {i}"), "body": format!("Testo {i}")}),
        )
        .await;
    }
    for _ in 0..600 {
        if hub.head("026").await == total {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(hub.head("026").await, total);

    let brescia = Node {
        app: TestApp::start(dir, config).await,
        token: brescia.token,
    };
    wait_for(&brescia, "/v1/networks", |l| received(l) == total).await;
    let db = pico_service::Db::open_existing(
        &brescia.app.config.db_path(),
        pico_node::db::MIGRATIONS,
        1,
    )
    .unwrap();
    let seqs: Vec<i64> = db
        .get()
        .unwrap()
        .prepare("SELECT seq FROM network_posts WHERE origin = '026' ORDER BY id")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    // Treviso's log: seq 1..=300 are the posts (joining signs nothing).
    assert_eq!(
        seqs,
        (1..=300).collect::<Vec<i64>>(),
        "stored once, in order"
    );
    let list = get_json(&brescia, "/v1/networks").await;
    assert_eq!(list["inbox"]["quarantined"], 0);
    assert_eq!(list["items"][3]["network"], "personale");
    assert_eq!(list["items"][3]["posts"], total);
    for node in [treviso, brescia] {
        node.app.stop().await;
    }
    hub.stop().await;
}

/// Posts a thread with documents as `multipart/form-data` (the post as JSON in `post`).
async fn post_with_documents(
    node: &Node,
    network: &str,
    post: &Value,
    files: &[(&str, &str, &[u8])],
) -> Value {
    let mut form = reqwest::multipart::Form::new().text("post", post.to_string());
    for (name, media_type, bytes) in files {
        form = form.part(
            "attachment",
            reqwest::multipart::Part::bytes(bytes.to_vec())
                .file_name((*name).to_owned())
                .mime_str(media_type)
                .unwrap(),
        );
    }
    let response = reqwest::Client::new()
        .post(node.app.url(&format!("/v1/networks/{network}/posts")))
        .bearer_auth(&node.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let answer: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    answer
}

/// Polls a thread until `done` holds (bounded); 404 until its first post arrives.
async fn wait_thread(node: &Node, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    for _ in 0..600 {
        let response = node.app.get(path, Some(&node.token)).await;
        if response.status() == StatusCode::OK {
            last = response.json().await.unwrap();
            if done(&last) {
                return last;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{path}: condition not reached: {last:#}");
}

async fn download(node: &Node, path: &str) -> (StatusCode, Vec<u8>) {
    let response = node.app.get(path, Some(&node.token)).await;
    (response.status(), response.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn documents_of_a_post_reach_the_other_members_byte_for_byte() {
    let mut hub = Hub::init();
    hub.start().await;
    let url = hub.url();
    let treviso = start_node(&hub, &url, "026").await;
    let brescia = start_node(&hub, &url, "017").await;
    let pesaro = start_node(&hub, &url, "041").await;
    join(&treviso, "sua").await;
    join(&brescia, "sua").await;
    join(&pesaro, "sape").await;

    let pdf: Vec<u8> = b"%PDF-1.7\n"
        .iter()
        .copied()
        .chain((0..300_000u32).map(|i| (i % 251) as u8))
        .collect();
    let csv = "cig;importo\nB026000001;40000.00\n".as_bytes();
    let opened = post_with_documents(
        &treviso,
        "sua",
        &json!({"subject": "Capitolato tipo manutenzione strade", "body": "Vi condividiamo il nostro capitolato."}),
        &[
            ("../capitolato tipo.pdf", "application/pdf", &pdf),
            ("importi.csv", "text/csv", csv),
        ],
    )
    .await;
    let seq = opened["seq"].as_u64().unwrap();
    let thread_path = format!("/v1/networks/sua/threads/026/{seq}");

    // The origin lists its own documents at once, with the name made safe.
    let own = get_json(&treviso, &thread_path).await;
    let docs = &own["posts"][0]["attachments"];
    assert_eq!(docs[0]["name"], "capitolato tipo.pdf");
    assert_eq!(docs[0]["state"], "available");
    assert_eq!(docs[0]["size"], pdf.len());
    assert_eq!(docs[1]["media_type"], "text/csv");

    // Brescia pulls the post, then fetches and verifies both files once Treviso uploaded them.
    let thread = wait_thread(&brescia, &thread_path, |t| {
        t["posts"][0]["attachments"]
            .as_array()
            .is_some_and(|docs| docs.len() == 2 && docs.iter().all(|d| d["state"] == "available"))
    })
    .await;
    assert_eq!(thread["posts"][0]["origin"], "026");
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&pdf));
    assert_eq!(thread["posts"][0]["attachments"][0]["sha256"], sha);
    let base = format!("/v1/networks/sua/posts/026/{seq}/attachments");
    let (status, bytes) = download(&brescia, &format!("{base}/0")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(bytes == pdf, "the PDF arrives byte for byte");
    let (status, bytes) = download(&brescia, &format!("{base}/1")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, csv);
    let (status, _) = download(&brescia, &format!("{base}/2")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The thread page shows the documents with the originating Province, as links.
    let page = brescia
        .app
        .get(
            &format!("/networks/sua/threads/026/{seq}"),
            Some(&brescia.token),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Documenti della Treviso (026)"), "{page}");
    assert!(page.contains(&format!("href=\"{base}/0\"")), "{page}");
    assert!(page.contains("capitolato tipo.pdf"), "{page}");

    // Not public at the hub, and not for a Province outside the network.
    let public = reqwest::get(format!("{url}/v1/attachments/{sha}"))
        .await
        .unwrap();
    assert_eq!(public.status(), StatusCode::NOT_FOUND);
    let outsider = reqwest::Client::new()
        .get(format!("{url}/v1/federation/attachments/{sha}"))
        .send()
        .await
        .unwrap();
    assert_eq!(outsider.status(), StatusCode::UNAUTHORIZED);

    // A document of a type outside the accepted list is refused before anything is signed.
    let refused = reqwest::Client::new()
        .post(brescia.app.url("/v1/networks/sua/posts"))
        .bearer_auth(&brescia.token)
        .multipart(
            reqwest::multipart::Form::new()
                .text(
                    "post",
                    json!({"body": "x", "thread": {"origin": "026", "seq": seq}}).to_string(),
                )
                .part(
                    "attachment",
                    reqwest::multipart::Part::bytes(b"MZ".to_vec())
                        .file_name("x.exe")
                        .mime_str("application/x-msdownload")
                        .unwrap(),
                ),
        )
        .send()
        .await
        .unwrap();
    crate::helpers::assert_problem(refused, StatusCode::UNPROCESSABLE_ENTITY).await;
    let head = get_json(&brescia, "/v1/federation/status").await["head_seq"].clone();
    assert_eq!(head, 0, "nothing was signed");

    let alarms = get_json(&brescia, "/v1/federation/status").await;
    assert_eq!(alarms["open_alarms"], 0, "{alarms:#}");
    for node in [treviso, brescia, pesaro] {
        node.app.stop().await;
    }
    hub.stop().await;
}

/// A front that alters the bytes of network documents it relays (same length).
async fn document_tampering_front(hub_url: String) -> (String, oneshot::Sender<()>) {
    crate::federation::rewriting_front(hub_url, |path, body| {
        if !path.starts_with("/v1/federation/attachments/") || body.is_empty() {
            return body;
        }
        let mut bytes = body.to_vec();
        bytes[0] ^= 0x20;
        axum::body::Bytes::from(bytes)
    })
    .await
}

#[tokio::test]
async fn a_document_altered_in_transit_is_refused_with_an_alarm() {
    let mut hub = Hub::init();
    hub.start().await;
    let (front, _stop) = document_tampering_front(hub.url()).await;
    let treviso = start_node(&hub, &hub.url(), "026").await;
    let brescia = start_node(&hub, &front, "017").await;
    join(&treviso, "sit").await;
    join(&brescia, "sit").await;
    let opened = post_with_documents(
        &treviso,
        "sit",
        &json!({"subject": "Grafo stradale", "body": "Il nostro modello dati."}),
        &[("modello.txt", "text/plain", b"modello dati ORIGINALE")],
    )
    .await;
    let seq = opened["seq"].as_u64().unwrap();
    let thread_path = format!("/v1/networks/sit/threads/026/{seq}");
    let thread = wait_thread(&brescia, &thread_path, |t| {
        t["posts"][0]["attachments"][0]["state"] == "refused"
    })
    .await;
    let detail = thread["posts"][0]["attachments"][0]["detail"]
        .as_str()
        .unwrap();
    assert!(detail.contains("SHA-256"), "{detail}");
    let (status, _) = download(
        &brescia,
        &format!("/v1/networks/sit/posts/026/{seq}/attachments/0"),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a refused document is never served"
    );
    let status = get_json(&brescia, "/v1/federation/status").await;
    assert_eq!(status["open_alarms"], 1, "{status:#}");
    assert_eq!(
        status["alarms"][0]["kind"], "network_document_refused",
        "{status:#}"
    );
    let page = brescia
        .app
        .get(
            &format!("/networks/sit/threads/026/{seq}"),
            Some(&brescia.token),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Rifiutato"), "{page}");
    for node in [treviso, brescia] {
        node.app.stop().await;
    }
    hub.stop().await;
}
