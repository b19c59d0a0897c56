//! Formazione: the import of Moodle's course completion report (the fixture is written from
//! the report builder's documented columns): people by e-mail, courses by their Moodle short
//! name, each completion on the edition started by then; all or nothing with every unmatched
//! row reported in Italian; a second import of the same file changes nothing.

use pico_node::auth::{Module, Role};
use pico_protocol::ComuneCode;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, add_user, assert_problem};

const FIXTURE: &str = "tests/fixtures/formazione_moodle_completamenti.csv";

async fn call(app: &TestApp, method: Method, path: &str, token: &str, body: Value) -> Value {
    let response = app
        .send_json(method.clone(), path, Some(token), Some(&body))
        .await;
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_success(), "{method} {path}: {status} {text}");
    serde_json::from_str(&text).unwrap()
}

async fn import(app: &TestApp, token: &str, bytes: Vec<u8>) -> reqwest::Response {
    app.post_raw("/v1/formazione/imports/moodle", token, "text/csv", bytes)
        .await
}

#[tokio::test]
async fn moodle_completions_are_matched_recorded_once_and_refused_whole() {
    let app = TestApp::spawn("026").await;
    let office = add_user(
        &app.config,
        "operatore.formazione",
        &Role::Operator(Module::Formazione),
    );
    let tv = add_user(
        &app.config,
        "comune.treviso",
        &Role::Comune(ComuneCode::parse("026086").unwrap()),
    );
    let course = |title: &str, shortname: &str| {
        json!({"title": title, "sector": "innovazione", "hours": 4, "mode": "elearning",
               "audience": "both", "min_attendance_percent": 100, "moodle_shortname": shortname})
    };
    let security = call(
        &app,
        Method::POST,
        "/v1/formazione/courses",
        &office,
        course("Sicurezza informatica di base", "SICUR-BASE"),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let pnrr = call(
        &app,
        Method::POST,
        "/v1/formazione/courses",
        &office,
        course("Rendicontazione dei progetti PNRR", "PNRR-RENDIC"),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    // A short name belongs to one course.
    let taken = app
        .send_json(
            Method::POST,
            "/v1/formazione/courses",
            Some(&office),
            Some(&course("Altro corso", "SICUR-BASE")),
        )
        .await;
    let problem = assert_problem(taken, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(
        problem["errors"]["moodle_shortname"]
            .as_str()
            .unwrap()
            .contains("Sicurezza informatica di base")
    );

    let edition = |course: i64, sessions: Value| {
        let app = &app;
        let office = &office;
        async move {
            call(
                app,
                Method::POST,
                &format!("/v1/formazione/courses/{course}/editions"),
                office,
                json!({"teacher": "Piattaforma Moodle", "link": "https://formazione.provincia.treviso.it/moodle",
                       "seats": 50, "enrol_opens": "2020-01-01", "enrol_closes": "2099-12-31", "sessions": sessions}),
            )
            .await
        }
    };
    // March (two modules of 2 hours) and a May edition of the same course; April for PNRR.
    let march = edition(
        security,
        json!([{"starts_at": "2026-03-02T09:00:00+01:00", "ends_at": "2026-03-02T11:00:00+01:00"},
               {"starts_at": "2026-03-09T09:00:00+01:00", "ends_at": "2026-03-09T11:00:00+01:00"}]),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let may = edition(
        security,
        json!([{"starts_at": "2026-05-04T09:00:00+02:00", "ends_at": "2026-05-04T13:00:00+02:00"}]),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let april = edition(
        pnrr,
        json!([{"starts_at": "2026-04-14T09:00:00+02:00", "ends_at": "2026-04-14T12:00:00+02:00"}]),
    )
    .await["id"]
        .as_i64()
        .unwrap();

    for (token, name, email) in [
        (&tv, "Giulia Rossi", "giulia.rossi@comune.treviso.it"),
        (&tv, "Anna Verdi", "anna.verdi@comune.treviso.it"),
        (
            &office,
            "Marco Bianchi",
            "marco.bianchi@provincia.treviso.it",
        ),
    ] {
        let person = call(
            &app,
            Method::POST,
            "/v1/formazione/staff",
            token,
            json!({"name": name, "office": "Segreteria", "email": email}),
        )
        .await;
        // Marco was already enrolled in March by the office.
        if name == "Marco Bianchi" {
            call(
                &app,
                Method::POST,
                &format!("/v1/formazione/editions/{march}/enrolments"),
                &office,
                json!({"staff_id": person["id"]}),
            )
            .await;
        }
    }

    let fixture =
        std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE)).unwrap();
    // Only the training office imports.
    assert_problem(
        import(&app, &tv, fixture.clone()).await,
        StatusCode::FORBIDDEN,
    )
    .await;

    // One bad row refuses the whole file: nothing is recorded, every bad row is named.
    let mut bad = fixture.clone();
    bad.extend_from_slice(
        b"\"Corso\",\"SICUR-BASE\",\"Luca Neri\",\"luca.neri@comune.treviso.it\",\"\",\"Friday, 13 March 2026, 11:05 AM\"\n\
          \"Corso\",\"EXCEL-AV\",\"Giulia Rossi\",\"giulia.rossi@comune.treviso.it\",\"\",\"Friday, 13 March 2026, 11:05 AM\"\n\
          \"Corso\",\"SICUR-BASE\",\"Anna Verdi\",\"anna.verdi@comune.treviso.it\",\"\",\"31/02/2026\"\n\
          \"Corso\",\"SICUR-BASE\",\"Anna Verdi\",\"anna.verdi@comune.treviso.it\",\"\",\"Friday, 13 February 2026, 11:05 AM\"\n",
    );
    let problem = assert_problem(
        import(&app, &office, bad).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(problem["code"], "import_refused");
    assert_eq!(problem["refused"], 4, "{problem}");
    let errors = &problem["errors"];
    assert!(
        errors["riga 6"]
            .as_str()
            .unwrap()
            .contains("luca.neri@comune.treviso.it (Luca Neri) non è nell'elenco del personale"),
        "{problem}"
    );
    assert!(errors["riga 7"].as_str().unwrap().contains("«EXCEL-AV»"));
    assert!(
        errors["riga 8"]
            .as_str()
            .unwrap()
            .contains("«31/02/2026» non è una data")
    );
    assert!(
        errors["riga 9"]
            .as_str()
            .unwrap()
            .contains("nessuna edizione del corso «Sicurezza informatica di base» è iniziata entro il 13/02/2026"),
        "{problem}"
    );
    let enrolments = |edition: i64| {
        let app = &app;
        let office = &office;
        async move {
            let detail: Value = app
                .get(&format!("/v1/formazione/editions/{edition}"), Some(office))
                .await
                .json()
                .await
                .unwrap();
            detail["enrolments"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    (
                        e["name"].as_str().unwrap().to_owned(),
                        e["attended_minutes"].as_i64().unwrap(),
                        e["completed"].as_bool().unwrap(),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        enrolments(march).await,
        vec![("Marco Bianchi".to_owned(), 0, false)]
    );
    assert!(enrolments(april).await.is_empty());

    // The fixture: Giulia and Marco completed the March edition (Giulia enrolled now), Anna
    // has not completed, Giulia completed PNRR in April.
    let report: Value = import(&app, &office, fixture.clone())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        report,
        json!({"rows": 4, "completions": 3, "not_completed": 1, "enrolments_created": 2,
               "recorded": 3, "unchanged": 0})
    );
    assert_eq!(
        enrolments(march).await,
        vec![
            ("Marco Bianchi".to_owned(), 240, true),
            ("Giulia Rossi".to_owned(), 240, true)
        ]
    );
    assert!(enrolments(may).await.is_empty());
    assert_eq!(
        enrolments(april).await,
        vec![("Giulia Rossi".to_owned(), 180, true)]
    );

    // Again: nothing changes.
    let again: Value = import(&app, &office, fixture).await.json().await.unwrap();
    assert_eq!(
        again,
        json!({"rows": 4, "completions": 3, "not_completed": 1, "enrolments_created": 0,
               "recorded": 0, "unchanged": 3})
    );
    assert_eq!(enrolments(march).await.len(), 2);
}
