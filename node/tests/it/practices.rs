//! Best practices end to end: documents on the node, visibility, and publishing to a real
//! hub in-process (the library search and the attachment bytes).

use std::time::Duration;

use pico_node::NodeConfig;
use pico_node::auth::{Module, Role};
use pico_protocol::ComuneCode;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::federation::Hub;
use crate::helpers::{TestApp, add_user, assert_problem, init_dir};

fn node_config(hub_url: &str) -> (tempfile::TempDir, NodeConfig) {
    let (dir, mut config) = init_dir("026");
    config.federation.hub_url = hub_url.to_owned();
    config.federation.poll_interval_ms = 100;
    config.federation.check_interval_secs = 1;
    config.federation.retry_base_ms = 50;
    config.federation.retry_max_secs = 1;
    config.federation.request_timeout_secs = 10;
    (dir, config)
}

async fn put_json(node: &TestApp, path: &str, token: &str, body: &Value) -> reqwest::Response {
    reqwest::Client::new()
        .put(node.url(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// Polls the hub's `path` until `done` holds (10 s at most).
async fn wait_hub(hub: &Hub, path: &str, done: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    for _ in 0..100 {
        last = hub.get(path).await;
        if done(&last) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{path} never reached the expected state: {last:#}");
}

fn practice(title: &str, public: bool) -> Value {
    json!({
        "title": title,
        "summary": "Come dieci Comuni hanno condiviso una centrale di committenza.",
        "module": "sua",
        "comuni": ["026086"],
        "tags": ["appalti", "aggregazione"],
        "body": "# Esperienza\n\nUn <script>testo</script> in **Markdown**.",
        "public": public,
    })
}

#[tokio::test]
async fn practices_are_published_updated_and_withdrawn_at_the_hub() {
    let mut hub = Hub::init();
    hub.start().await;
    let (dir, config) = node_config(&hub.url());
    hub.enrol(&config, "026");
    let operator = add_user(&config, "comunicazione", &Role::Operator(Module::Community));
    let sua = add_user(&config, "gare", &Role::Operator(Module::Sua));
    let comune = add_user(
        &config,
        "treviso",
        &Role::Comune(ComuneCode::parse("026086").unwrap()),
    );
    let node = TestApp::start(dir, config).await;

    // A Comune user cannot create; anonymous neither.
    let refused = node
        .post_json("/v1/practices", Some(&comune), &practice("Non mia", true))
        .await;
    assert_problem(refused, StatusCode::FORBIDDEN).await;
    let anonymous = node
        .post_json("/v1/practices", None, &practice("Anonima", true))
        .await;
    assert_problem(anonymous, StatusCode::UNAUTHORIZED).await;
    let bad_comune = node
        .post_json(
            "/v1/practices",
            Some(&operator),
            &json!({"title": "Fuori provincia", "module": "sua", "comuni": ["017029"]}),
        )
        .await;
    assert_problem(bad_comune, StatusCode::UNPROCESSABLE_ENTITY).await;

    let created = node
        .post_json(
            "/v1/practices",
            Some(&operator),
            &practice("Centrale di committenza condivisa", true),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["language"], "it");
    assert_eq!(created["federation"], "off");
    let draft = node
        .post_json(
            "/v1/practices",
            Some(&operator),
            &practice("Bozza riservata", false),
        )
        .await;
    assert_eq!(draft.status(), StatusCode::CREATED);
    let draft_id = draft.json::<Value>().await.unwrap()["id"].as_i64().unwrap();

    // Anonymous and Comune users see only public documents; Province staff see drafts.
    for token in [None, Some(comune.as_str())] {
        let list: Value = node.get("/v1/practices", token).await.json().await.unwrap();
        let ids: Vec<i64> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, vec![id]);
        let hidden = node.get(&format!("/v1/practices/{draft_id}"), token).await;
        assert_problem(hidden, StatusCode::NOT_FOUND).await;
    }
    let staff: Value = node
        .get("/v1/practices", Some(&sua))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(staff["items"].as_array().unwrap().len(), 2);
    let found: Value = node
        .get("/v1/practices?q=COMMITTENZA%20condivisa", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["items"].as_array().unwrap().len(), 1);

    // Public pages: the list, the document with its body escaped; a draft is not there.
    let page = node.get("/buone-pratiche?q=committenza", None).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Centrale di committenza condivisa"));
    assert!(!html.contains("Bozza riservata"));
    let page = node.get(&format!("/buone-pratiche/{id}"), None).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("&lt;script&gt;testo&lt;/script&gt;"));
    assert!(!html.contains("<script>testo"));
    let page = node.get(&format!("/buone-pratiche/{draft_id}"), None).await;
    assert_eq!(page.status(), StatusCode::NOT_FOUND);

    // An attachment, then publishing.
    let pdf = b"%PDF-1.7\nlinee guida della centrale\n%%EOF\n".to_vec();
    let attached = node
        .post_raw(
            &format!("/v1/practices/{id}/attachments?filename=linee-guida.pdf"),
            &operator,
            "application/pdf",
            pdf.clone(),
        )
        .await;
    assert_eq!(attached.status(), StatusCode::CREATED);
    let attached: Value = attached.json().await.unwrap();
    let sha = attached["sha256"].as_str().unwrap().to_owned();
    assert_eq!(attached["size"], pdf.len());
    let refused = node
        .post_raw(
            &format!("/v1/practices/{id}/attachments?filename=x.exe"),
            &operator,
            "application/x-msdownload",
            b"MZ".to_vec(),
        )
        .await;
    assert_problem(refused, StatusCode::UNPROCESSABLE_ENTITY).await;
    let by_comune = put_json(
        &node,
        &format!("/v1/practices/{id}/federation"),
        &comune,
        &json!({"federation": "national"}),
    )
    .await;
    assert_problem(by_comune, StatusCode::FORBIDDEN).await;
    let national = put_json(
        &node,
        &format!("/v1/practices/{id}/federation"),
        &operator,
        &json!({"federation": "national"}),
    )
    .await;
    assert_eq!(national.status(), StatusCode::OK);
    let national: Value = national.json().await.unwrap();
    assert_eq!(national["federation"], "national");
    assert_eq!(national["hub_status"], "published");

    let library = wait_hub(&hub, "/v1/practices?q=committenza", |page| {
        !page["items"].as_array().unwrap().is_empty()
    })
    .await;
    let items = library["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["province"], "026");
    assert_eq!(items[0]["id"], format!("bp-{id}"));
    assert_eq!(items[0]["title"], "Centrale di committenza condivisa");
    let mut bytes = Vec::new();
    for _ in 0..100 {
        let response = reqwest::get(format!("{}/v1/attachments/{sha}", hub.url()))
            .await
            .unwrap();
        if response.status() == StatusCode::OK {
            bytes = response.bytes().await.unwrap().to_vec();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(bytes, pdf, "the hub serves the attachment's exact bytes");
    let view: Value = node
        .get(&format!("/v1/practices/{id}"), None)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        view["attachments"][0]["uploaded_at"].is_string(),
        "{view:#}"
    );

    // Editing republishes under the same id: one document at the hub, with the new title.
    let edited = put_json(
        &node,
        &format!("/v1/practices/{id}"),
        &operator,
        &practice("Centrale unica di committenza", true),
    )
    .await;
    assert_eq!(edited.status(), StatusCode::OK);
    let library = wait_hub(&hub, "/v1/practices?province=026", |page| {
        page["items"][0]["title"] == "Centrale unica di committenza"
    })
    .await;
    assert_eq!(library["items"].as_array().unwrap().len(), 1);

    // Withdrawing removes it from the library.
    let off = put_json(
        &node,
        &format!("/v1/practices/{id}/federation"),
        &operator,
        &json!({"federation": "off"}),
    )
    .await;
    assert_eq!(off.status(), StatusCode::OK);
    assert_eq!(
        off.json::<Value>().await.unwrap()["hub_status"],
        "withdrawn"
    );
    wait_hub(&hub, "/v1/practices?province=026", |page| {
        page["items"].as_array().unwrap().is_empty()
    })
    .await;
    let searched = hub.get("/v1/practices?q=committenza").await;
    assert!(searched["items"].as_array().unwrap().is_empty());
    // Still on the node's own public pages.
    let local = node.get(&format!("/v1/practices/{id}"), None).await;
    assert_eq!(local.status(), StatusCode::OK);
    // The hub deleted the attachment's bytes; the node will send them again if republished.
    let gone = reqwest::get(format!("{}/v1/attachments/{sha}", hub.url()))
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    let local: Value = local.json().await.unwrap();
    assert!(
        local["attachments"][0]["uploaded_at"].is_null(),
        "{local:#}"
    );
    let again = put_json(
        &node,
        &format!("/v1/practices/{id}/federation"),
        &operator,
        &json!({"federation": "national"}),
    )
    .await;
    assert_eq!(again.status(), StatusCode::OK);
    let mut bytes = Vec::new();
    for _ in 0..100 {
        let response = reqwest::get(format!("{}/v1/attachments/{sha}", hub.url()))
            .await
            .unwrap();
        if response.status() == StatusCode::OK {
            bytes = response.bytes().await.unwrap().to_vec();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(bytes, pdf, "republished, the attachment is uploaded again");

    node.stop().await;
    hub.stop().await;
}

#[tokio::test]
async fn the_practice_forms_are_for_community_staff_and_need_the_csrf_token() {
    let (dir, config) = init_dir("026");
    let operator = add_user(&config, "comunicazione", &Role::Operator(Module::Community));
    let sua = add_user(&config, "gare", &Role::Operator(Module::Sua));
    let node = TestApp::start(dir, config).await;
    let form = node.get("/buone-pratiche/nuova", Some(&operator)).await;
    assert_eq!(form.status(), StatusCode::OK);
    let html = form.text().await.unwrap();
    assert!(html.contains("enctype=\"multipart/form-data\""), "{html}");
    assert!(html.contains("name=\"csrf\""));
    for path in ["/buone-pratiche/nuova", "/buone-pratiche/1/modifica"] {
        assert_eq!(
            node.get(path, Some(&sua)).await.status(),
            StatusCode::FORBIDDEN,
            "{path}"
        );
        let anonymous = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .get(node.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(anonymous.status(), StatusCode::SEE_OTHER, "{path}");
        assert!(
            anonymous.headers()["location"]
                .to_str()
                .unwrap()
                .starts_with("/login"),
            "{path}: to the login"
        );
    }
    // A form post without the session's token changes nothing.
    let refused = reqwest::Client::new()
        .post(node.url("/buone-pratiche/nuova"))
        .bearer_auth(&operator)
        .multipart(
            reqwest::multipart::Form::new()
                .text("csrf", "forged")
                .text("title", "Senza token")
                .text("module", "sua"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let list: Value = node
        .get("/v1/practices", Some(&operator))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"], json!([]));
    node.stop().await;
}
