//! SAPE's proposal flow in headless Chromium through WebDriver: the SAPE operator creates a
//! proposal with two Comuni, adds them as partners with their budgets (one first with a
//! mistake the form reports by its field), moves it through submission, evaluation and
//! funding, records the outcome; a Comune taking part sees it funded with its CUP, one that is
//! not in it does not learn it exists. Fails when chromium/chromedriver are missing.

use fantoccini::{Client, Locator};
use pico_node::auth::{Module, Role};
use pico_protocol::ComuneCode;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Browser, TestApp, add_user, choose, click_and_wait, type_into};

const TREVISO: &str = "026086";
const ALTIVOLE: &str = "026001";
const ASOLO: &str = "026003";

async fn add_partner(client: &Client, partner: &[(&str, &str)], role: &str, unit: &str) {
    for (id, text) in partner {
        type_into(client, &format!("partner-{id}"), text).await;
    }
    choose(client, "partner-role", role).await;
    choose(client, "partner-personnel_unit", unit).await;
}

#[tokio::test]
async fn the_office_builds_a_proposal_to_funding_and_its_comuni_see_it() {
    let browser = Browser::start().await;
    let app = TestApp::spawn("026").await;
    let comune = |code: &str| Role::Comune(ComuneCode::parse(code).unwrap());
    let sape = add_user(&app.config, "operatore.sape", &Role::Operator(Module::Sape));
    add_user(&app.config, "comune.treviso", &comune(TREVISO));
    add_user(&app.config, "comune.asolo", &comune(ASOLO));
    let response = app
        .post_json(
            "/v1/sape/calls",
            Some(&sape),
            &json!({"identifier": "LIFE-2025-CET-LOCAL", "title": "Transizione energetica locale",
                    "programme": "life", "management": "direct", "deadline_model": "single_stage",
                    "deadlines": ["2025-09-30"], "funding_rate": 100}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let client = &browser.client;
    let base = app.url("");

    // The proposal, with two Comuni of the Province.
    browser.login(&base, "operatore.sape").await;
    client
        .goto(&format!("{base}/sape/progetti/nuovo"))
        .await
        .unwrap();
    type_into(client, "call", "LIFE-2025-CET-LOCAL").await;
    type_into(client, "title", "Comunità energetiche nei piccoli Comuni").await;
    type_into(client, "acronym", "CER-PICCOLI").await;
    choose(client, "province_role", "coordinator").await;
    client
        .execute(
            "for (const code of arguments[0]) { document.querySelector(`#comuni option[value='${code}']`).selected = true; }",
            vec![json!([TREVISO, ALTIVOLE])],
        )
        .await
        .unwrap();
    click_and_wait(client, "#save-proposal", "id=\"add-partner\"").await;
    let url = client.current_url().await.unwrap();
    let id: i64 = url.path().rsplit('/').next().unwrap().parse().unwrap();
    let page = client.source().await.unwrap();
    assert!(page.contains("Altivole") && page.contains("Treviso"));

    // Treviso as coordinator: 10 days at 250,00 € (a PIC of 8 digits is refused by its field,
    // and what was typed stays).
    add_partner(
        client,
        &[
            ("name", "Comune di Treviso"),
            ("country", "IT"),
            ("pic", "12345678"),
            ("comune_code", TREVISO),
            ("personnel_quantity", "10"),
            ("personnel_rate", "250"),
        ],
        "coordinator",
        "day",
    )
    .await;
    click_and_wait(
        client,
        "#save-partner",
        "Il PIC è il codice di 9 cifre del partecipante UE.",
    )
    .await;
    let typed = client
        .find(Locator::Id("partner-name"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(typed.as_deref(), Some("Comune di Treviso"));
    type_into(client, "partner-pic", "123456789").await;
    choose(client, "partner-role", "coordinator").await;
    choose(client, "partner-personnel_unit", "day").await;
    click_and_wait(client, "#save-partner", "id=\"budget-total\"").await;
    // Altivole as beneficiary: 2 months at 3.000,00 €.
    add_partner(
        client,
        &[
            ("name", "Comune di Altivole"),
            ("country", "IT"),
            ("pic", "123456788"),
            ("comune_code", ALTIVOLE),
            ("personnel_quantity", "2"),
            ("personnel_rate", "3.000"),
        ],
        "beneficiary",
        "month",
    )
    .await;
    click_and_wait(client, "#save-partner", "Comune di Altivole").await;
    // Treviso 2.500 + 25 % = 3.125; Altivole 6.000 + 25 % = 7.500; at 100 %: 10.625,00 €.
    let total = client
        .find(Locator::Id("budget-total"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(total.contains("10.625,00"), "{total}");

    // Through its lifecycle to funding, then the outcome.
    for (state, label) in [
        ("in_preparation", "In preparazione"),
        ("submitted", "Presentata"),
        ("evaluated", "Valutata"),
        ("funded", "Finanziata"),
    ] {
        choose(client, "to", state).await;
        click_and_wait(
            client,
            "#move",
            &format!("Stato della proposta aggiornato: {label}."),
        )
        .await;
    }
    type_into(client, "score", "13,5").await;
    type_into(client, "threshold", "10").await;
    type_into(client, "cup", "J41B22000120006").await;
    type_into(client, "obtained_0", "3.125").await;
    type_into(client, "obtained_1", "7.000").await;
    click_and_wait(client, "#save-outcome", "Esito registrato.").await;
    let amounts = client
        .find(Locator::Id("amounts"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(amounts.contains("7.000,00"), "{amounts}");
    browser.logout().await;

    // Treviso takes part: it sees the proposal funded, with its CUP and what it obtained.
    browser.login(&base, "comune.treviso").await;
    client
        .goto(&format!("{base}/sape/progetti/{id}"))
        .await
        .unwrap();
    let page = client.source().await.unwrap();
    assert!(page.contains("CER-PICCOLI"));
    assert!(page.contains("Finanziata"));
    assert!(page.contains("J41B22000120006"));
    assert!(page.contains("3.125,00"));
    assert!(!page.contains("id=\"outcome-form\""));
    browser.logout().await;
    // Asolo is not in it: the page does not exist for it, nor does the proposal in its list.
    browser.login(&base, "comune.asolo").await;
    client
        .goto(&format!("{base}/sape/progetti/{id}"))
        .await
        .unwrap();
    let page = client.source().await.unwrap();
    assert!(!page.contains("CER-PICCOLI"));
    let title = client.title().await.unwrap();
    assert!(title.contains("non trovata"), "{title}");
    let api: Value = app
        .get(&format!("/v1/sape/proposals/{id}"), Some(&sape))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(api["outcome"]["partners"][1]["obtained"], "7000.00");
    app.stop().await;
}
