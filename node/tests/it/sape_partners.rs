//! Partner search across Provinces through the SAPE thematic network: Treviso's SAPE looks
//! for partners on a call, and Brescia's node shows the search on the same call's page, with
//! the thread to answer in; the structured document travels signed, through a real hub.

use pico_node::auth::{Module, Role};
use pico_protocol::ComuneCode;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::federation::Hub;
use crate::helpers::{add_user, assert_problem, login};
use crate::networks::{Node, get_json, join, start_node, wait_for};

const CALL: &str = "LIFE-2025-CET-LOCAL";

/// The same call entered by hand on `node` (the identifier is what joins them); its id there.
async fn enter_call(node: &Node) -> i64 {
    let response = node
        .app
        .post_json(
            "/v1/sape/calls",
            Some(&node.token),
            &json!({"identifier": CALL, "title": "Transizione energetica locale",
                    "programme": "life", "management": "direct", "deadline_model": "single_stage",
                    "deadlines": ["2099-09-30"]}),
        )
        .await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_i64().unwrap()
}

#[tokio::test]
async fn a_search_for_partners_reaches_the_same_call_in_other_provinces() {
    let mut hub = Hub::init();
    hub.start().await;
    let url = hub.url();
    let treviso = start_node(&hub, &url, "026").await;
    let brescia = start_node(&hub, &url, "017").await;
    let tv_call = enter_call(&treviso).await;
    let bs_call = enter_call(&brescia).await;
    let sape = add_user(
        &treviso.app.config,
        "operatore.sape",
        &Role::Operator(Module::Sape),
    );
    let search = json!({"profile": "Un ente locale spagnolo o portoghese con esperienza in comunità energetiche",
                        "deadline": "31/12/2099"});
    let path = format!("/v1/sape/calls/{tv_call}/partner-searches");

    // Not yet in the SAPE network: refused before anything is signed.
    let problem = assert_problem(
        treviso.app.post_json(&path, Some(&sape), &search).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(problem["code"], "not_a_member");
    join(&treviso, "sape").await;
    join(&brescia, "sape").await;
    // Every field checked, in Italian.
    let problem = assert_problem(
        treviso
            .app
            .post_json(
                &path,
                Some(&sape),
                &json!({"profile": " ", "deadline": "01/01/2020"}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        problem["errors"]["deadline"],
        "La scadenza per rispondere non può essere già passata."
    );
    assert!(problem["errors"]["profile"].is_string());
    // A Comune does not publish searches.
    let comune = add_user(
        &treviso.app.config,
        "comune.treviso",
        &Role::Comune(ComuneCode::parse("026086").unwrap()),
    );
    assert_problem(
        treviso.app.post_json(&path, Some(&comune), &search).await,
        StatusCode::FORBIDDEN,
    )
    .await;

    let response = treviso.app.post_json(&path, Some(&sape), &search).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.unwrap();
    let seq = created["seq"].as_u64().unwrap();
    assert_eq!(
        created["thread"],
        format!("/networks/sape/threads/026/{seq}")
    );
    // Treviso lists its own search at once.
    let own = get_json(&treviso, &path).await;
    assert_eq!(own[0]["own"], true);
    assert_eq!(own[0]["deadline"], "2099-12-31");

    // Brescia's node receives the signed post, fetches the document and shows the search on
    // its own page of the same call.
    let bs_path = format!("/v1/sape/calls/{bs_call}/partner-searches");
    let seen = wait_for(&brescia, &bs_path, |list| {
        list.as_array().is_some_and(|l| !l.is_empty())
    })
    .await;
    assert_eq!(
        seen,
        json!([{"province": "026", "province_name": seen[0]["province_name"], "seq": seq,
                "profile": "Un ente locale spagnolo o portoghese con esperienza in comunità energetiche",
                "deadline": "2099-12-31", "open": true,
                "own": false, "published_at": seen[0]["published_at"]}])
    );
    assert!(
        seen[0]["province_name"]
            .as_str()
            .unwrap()
            .contains("Treviso")
    );
    // The post is an ordinary thread for people: subject and text in Italian.
    let thread = get_json(&brescia, &format!("/v1/networks/sape/threads/026/{seq}")).await;
    assert_eq!(
        thread["posts"][0]["subject"],
        format!("Ricerca partner: {CALL}")
    );
    assert!(
        thread["posts"][0]["body"]
            .as_str()
            .unwrap()
            .contains("Rispondete in questa discussione entro il 31/12/2099")
    );
    // Brescia's page of the call shows it with the thread to answer in.
    let session = login(&brescia.app, "amministratore").await;
    let page = session.page(&format!("/sape/bandi/{bs_call}")).await;
    assert!(page.contains("id=\"partner-search-list\""));
    assert!(page.contains(&format!("/networks/sape/threads/026/{seq}")));
    assert!(page.contains("31/12/2099"));
    treviso.app.stop().await;
    brescia.app.stop().await;
    hub.stop().await;
}
