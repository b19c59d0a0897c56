//! Formazione in headless Chromium through WebDriver: a Comune's user adds two employees to
//! its staff list and enrols them in an edition on its page; the training office fills each
//! session's register (one of them with a mistake the form names beside the field) and issues
//! the certificates; the Comune then finds both certificates on the edition's page, and
//! anyone can verify one at its public address. Every page on the way is checked with
//! axe-core (WCAG 2.1 A and AA). Fails when chromium/chromedriver or axe-core are missing.

use fantoccini::{Client, Locator};
use pico_node::auth::{Module, Role};
use pico_protocol::ComuneCode;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Browser, TestApp, add_user, axe_violations, click_and_wait, type_into};

async fn assert_accessible(client: &Client, what: &str) {
    let violations = axe_violations(client).await;
    assert!(violations.is_empty(), "{what}: {violations:#?}");
}

async fn api(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: &Value,
) -> Value {
    let response = app.send_json(method, path, Some(token), Some(body)).await;
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_success(), "{path}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

#[tokio::test]
async fn a_comune_enrols_two_employees_the_office_keeps_the_register_and_certificates_appear() {
    let browser = Browser::start().await;
    let client = &browser.client;
    let app = TestApp::spawn("026").await;
    let office = add_user(
        &app.config,
        "operatore.formazione",
        &Role::Operator(Module::Formazione),
    );
    let comune = add_user(
        &app.config,
        "comune.treviso",
        &Role::Comune(ComuneCode::parse("026086").unwrap()),
    );
    let base = app.url("");
    let base = base.trim_end_matches('/');

    // The office's course (75 % of the hours to complete) and an edition of two sessions of
    // three hours, held on 10 March 2026, enrolment open.
    let course = api(
        &app,
        reqwest::Method::POST,
        "/v1/formazione/courses",
        &office,
        &json!({"title": "Il nuovo codice dei contratti pubblici", "sector": "appalti", "hours": 6,
                "mode": "presence", "audience": "both", "min_attendance_percent": 75}),
    )
    .await;
    let edition = api(
        &app,
        reqwest::Method::POST,
        &format!("/v1/formazione/courses/{}/editions", course["id"]),
        &office,
        &json!({"teacher": "Laura Conte", "place": "Sala Verde, Via Cal di Breda 116, Treviso", "seats": 20,
                "enrol_opens": "2020-01-01", "enrol_closes": "2099-12-31",
                "sessions": [{"starts_at": "2026-03-10T09:00:00+01:00", "ends_at": "2026-03-10T12:00:00+01:00"},
                             {"starts_at": "2026-03-10T14:00:00+01:00", "ends_at": "2026-03-10T17:00:00+01:00"}]}),
    )
    .await;
    let edition_id = edition["id"].as_i64().unwrap();
    let edition_page = format!("{base}/formazione/edizioni/{edition_id}");

    // The Comune adds its two employees on the staff page, and enrols each on the edition's.
    browser.login(base, "comune.treviso").await;
    let people = [
        ("Giulia Bianchi", "giulia.bianchi@comune.treviso.it"),
        ("Paolo Neri", "paolo.neri@comune.treviso.it"),
    ];
    for (name, email) in people {
        client
            .goto(&format!("{base}/formazione/personale"))
            .await
            .unwrap();
        type_into(client, "name", name).await;
        type_into(client, "office", "Ufficio tributi").await;
        type_into(client, "email", email).await;
        click_and_wait(client, "#save-person", &format!("{name} aggiunto")).await;
    }
    assert_accessible(client, "the Comune's staff list").await;
    let staff = app
        .get("/v1/formazione/staff", Some(&comune))
        .await
        .json::<Value>()
        .await
        .unwrap();
    for person in staff["items"].as_array().unwrap() {
        let name = person["name"].as_str().unwrap();
        client.goto(&edition_page).await.unwrap();
        client
            .find(Locator::Id("staff_id"))
            .await
            .unwrap()
            .select_by_value(&person["id"].to_string())
            .await
            .unwrap();
        click_and_wait(client, "#save-enrolment", &format!("{name}: iscritto.")).await;
    }
    client.goto(&edition_page).await.unwrap();
    let page = client.source().await.unwrap();
    assert_eq!(page.matches(">Iscritto<").count(), 2, "{page}");
    assert_accessible(client, "the edition as the Comune sees it").await;
    browser.logout().await;

    // The office fills the registers: both attend both sessions (six hours of six). A mistake
    // first: minutes beyond the session, named beside the field.
    browser.login(base, "operatore.formazione").await;
    let enrolments = api(
        &app,
        reqwest::Method::GET,
        &format!("/v1/formazione/editions/{edition_id}/enrolments"),
        &office,
        &Value::Null,
    )
    .await;
    let id_of = |name: &str| {
        enrolments["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == name)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let (giulia, paolo) = (id_of("Giulia Bianchi"), id_of("Paolo Neri"));
    for (index, session) in edition["sessions"].as_array().unwrap().iter().enumerate() {
        client
            .goto(&format!(
                "{base}/formazione/incontri/{}/registro",
                session["id"]
            ))
            .await
            .unwrap();
        if index == 0 {
            type_into(client, &format!("m{giulia}"), "999").await;
            type_into(client, &format!("m{paolo}"), "180").await;
            click_and_wait(client, "#save-register", &format!("id=\"m{giulia}-error\"")).await;
            assert_accessible(client, "the register refused").await;
        }
        type_into(client, &format!("m{giulia}"), "180").await;
        type_into(client, &format!("m{paolo}"), "180").await;
        click_and_wait(client, "#save-register", "Registro salvato.").await;
    }
    client.goto(&edition_page).await.unwrap();
    assert_accessible(client, "the edition as the office sees it").await;
    // Both completed: their certificates are issued from the enrolments' table.
    for name in ["Giulia Bianchi", "Paolo Neri"] {
        click_and_wait(
            client,
            &format!("button[aria-label=\"Rilascia l'attestato di {name}\"]"),
            &format!("Attestato di {name} (PDF)"),
        )
        .await;
    }
    assert_accessible(client, "the edition with its certificates").await;
    browser.logout().await;

    // The Comune finds its employees' certificates, and their public verification.
    browser.login(base, "comune.treviso").await;
    client.goto(&edition_page).await.unwrap();
    let page = client.source().await.unwrap();
    assert_eq!(page.matches("Attestato (PDF)").count(), 2, "{page}");
    assert_accessible(client, "the certificates as the Comune sees them").await;
    let verify = client
        .find(Locator::Css("a[href^='/attestati/']"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let pdf = app
        .get(
            &format!("/v1/formazione/enrolments/{giulia}/certificate"),
            Some(&comune),
        )
        .await;
    assert_eq!(pdf.status(), StatusCode::OK);
    assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF-"));
    browser.logout().await;
    client.goto(&format!("{base}{verify}")).await.unwrap();
    let page = client.source().await.unwrap();
    assert!(
        page.contains("Giulia Bianchi") && page.contains("valido"),
        "{page}"
    );
    assert_accessible(client, "the public verification").await;
    app.stop().await;
}
