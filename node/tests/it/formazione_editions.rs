//! Formazione: a Province employee enrols themself (matched by the account's name, their
//! work e-mail); the office changes an edition (more seats promote the waiting list, fewer
//! than the enrolled are refused) and removes sessions and editions, never once attendance
//! is recorded (409 in Italian).

use pico_node::auth::{Module, Role};
use pico_protocol::ComuneCode;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, add_user, assert_problem};

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
    status: StatusCode,
) -> Value {
    let response = app
        .send_json(method.clone(), path, Some(token), body.as_ref())
        .await;
    let got = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(got, status, "{method} {path}: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

fn edition_body(seats: i64, sessions: &Value) -> Value {
    json!({"teacher": "Laura Conte", "place": "Sala Verde", "seats": seats,
           "enrol_opens": "2020-01-01", "enrol_closes": "2099-12-31", "sessions": sessions})
}

#[tokio::test]
async fn self_enrolment_and_changes_to_editions_keep_what_was_attended() {
    let app = TestApp::spawn("026").await;
    let cfg = &app.config;
    let office = add_user(
        cfg,
        "operatore.formazione",
        &Role::Operator(Module::Formazione),
    );
    let marco = add_user(
        cfg,
        "Marco.Bianchi@provincia.treviso.it",
        &Role::Operator(Module::Sua),
    );
    let stranger = add_user(cfg, "operatore.sape", &Role::Operator(Module::Sape));
    let tv = add_user(
        cfg,
        "comune.treviso",
        &Role::Comune(ComuneCode::parse("026086").unwrap()),
    );
    let course = |audience: &str| {
        json!({"title": format!("Corso per {audience}"), "sector": "personale", "hours": 5,
               "mode": "presence", "audience": audience, "min_attendance_percent": 80})
    };
    let both = call(
        &app,
        Method::POST,
        "/v1/formazione/courses",
        &office,
        Some(course("both")),
        StatusCode::CREATED,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let comuni = call(
        &app,
        Method::POST,
        "/v1/formazione/courses",
        &office,
        Some(course("comuni")),
        StatusCode::CREATED,
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let sessions = json!([{"starts_at": "2026-03-10T09:00:00+01:00", "ends_at": "2026-03-10T12:00:00+01:00"},
                          {"starts_at": "2026-03-11T09:00:00+01:00", "ends_at": "2026-03-11T11:00:00+01:00"}]);
    let edition = call(
        &app,
        Method::POST,
        &format!("/v1/formazione/courses/{both}/editions"),
        &office,
        Some(edition_body(1, &sessions)),
        StatusCode::CREATED,
    )
    .await;
    let id = edition["id"].as_i64().unwrap();
    let first = edition["sessions"][0]["id"].as_i64().unwrap();
    let second = edition["sessions"][1]["id"].as_i64().unwrap();
    let closed_to_province = call(
        &app,
        Method::POST,
        &format!("/v1/formazione/courses/{comuni}/editions"),
        &office,
        Some(edition_body(5, &sessions)),
        StatusCode::CREATED,
    )
    .await["id"]
        .as_i64()
        .unwrap();

    // The office lists Marco (Province staff) with the e-mail that is his account's name.
    call(
        &app,
        Method::POST,
        "/v1/formazione/staff",
        &office,
        Some(json!({"name": "Marco Bianchi", "office": "Gare", "email": "marco.bianchi@provincia.treviso.it"})),
        StatusCode::CREATED,
    )
    .await;
    let anna = call(
        &app,
        Method::POST,
        "/v1/formazione/staff",
        &office,
        Some(json!({"name": "Anna Verdi", "office": "Personale", "email": "anna.verdi@provincia.treviso.it"})),
        StatusCode::CREATED,
    )
    .await["id"]
        .as_i64()
        .unwrap();

    let own = format!("/v1/formazione/editions/{id}/self-enrolment");
    let enrolled = call(&app, Method::POST, &own, &marco, None, StatusCode::CREATED).await;
    assert_eq!(enrolled["state"], "enrolled");
    assert_eq!(enrolled["name"], "Marco Bianchi");
    let again = app.send_json(Method::POST, &own, Some(&marco), None).await;
    assert_eq!(
        assert_problem(again, StatusCode::CONFLICT).await["code"],
        "already_enrolled"
    );
    for token in [&stranger, &tv] {
        let refused = app.send_json(Method::POST, &own, Some(token), None).await;
        let problem = assert_problem(refused, StatusCode::CONFLICT).await;
        assert_eq!(problem["code"], "not_in_staff_list");
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("elenco del personale")
        );
    }
    let refused = app
        .send_json(
            Method::POST,
            &format!("/v1/formazione/editions/{closed_to_province}/self-enrolment"),
            Some(&marco),
            None,
        )
        .await;
    assert_problem(refused, StatusCode::UNPROCESSABLE_ENTITY).await;
    // Enrolling someone else stays the office's.
    let refused = app
        .send_json(
            Method::POST,
            &format!("/v1/formazione/editions/{id}/enrolments"),
            Some(&marco),
            Some(&json!({"staff_id": anna})),
        )
        .await;
    assert_problem(refused, StatusCode::FORBIDDEN).await;

    // One seat: Anna waits; two seats promote her; one seat again is refused.
    let waiting = call(
        &app,
        Method::POST,
        &format!("/v1/formazione/editions/{id}/enrolments"),
        &office,
        Some(json!({"staff_id": anna})),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(waiting["state"], "waiting");
    let path = format!("/v1/formazione/editions/{id}");
    let changed = call(
        &app,
        Method::PUT,
        &path,
        &office,
        Some(edition_body(2, &sessions)),
        StatusCode::OK,
    )
    .await;
    assert_eq!(changed["enrolled"], 2);
    assert_eq!(changed["waiting"], 0);
    assert_eq!(changed["seats"], 2);
    let refused = app
        .send_json(
            Method::PUT,
            &path,
            Some(&office),
            Some(&edition_body(1, &sessions)),
        )
        .await;
    let problem = assert_problem(refused, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(problem["errors"]["seats"].as_str().unwrap().contains("2"));
    let refused = app
        .send_json(
            Method::PUT,
            &path,
            Some(&marco),
            Some(&edition_body(3, &sessions)),
        )
        .await;
    assert_problem(refused, StatusCode::FORBIDDEN).await;

    // The register of the first session is filled: it can no longer move or go.
    call(
        &app,
        Method::PUT,
        &format!("/v1/formazione/sessions/{first}/attendance"),
        &office,
        Some(json!({"entries": [{"enrolment_id": enrolled["id"], "minutes": 180}]})),
        StatusCode::OK,
    )
    .await;
    let moved = json!([{"starts_at": "2026-03-10T10:00:00+01:00", "ends_at": "2026-03-10T12:00:00+01:00"},
                       {"starts_at": "2026-03-11T09:00:00+01:00", "ends_at": "2026-03-11T11:00:00+01:00"}]);
    let refused = app
        .send_json(
            Method::PUT,
            &path,
            Some(&office),
            Some(&edition_body(2, &moved)),
        )
        .await;
    let problem = assert_problem(refused, StatusCode::CONFLICT).await;
    assert_eq!(problem["code"], "has_attendance");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("presenze registrate")
    );
    let refused = app
        .send_json(
            Method::DELETE,
            &format!("/v1/formazione/sessions/{first}"),
            Some(&office),
            None,
        )
        .await;
    assert_eq!(
        assert_problem(refused, StatusCode::CONFLICT).await["code"],
        "has_attendance"
    );
    // The second session (no attendance) goes; Marco attended 180 of now 180 minutes.
    let response = app
        .send_json(
            Method::DELETE,
            &format!("/v1/formazione/sessions/{second}"),
            Some(&office),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let detail = call(&app, Method::GET, &path, &office, None, StatusCode::OK).await;
    assert_eq!(detail["edition"]["minutes"], 180);
    let marco_row = detail["enrolments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "Marco Bianchi")
        .unwrap()
        .clone();
    assert_eq!(marco_row["completed"], true);
    // A session can be added back with an edit that keeps the attended one.
    let kept = call(
        &app,
        Method::PUT,
        &path,
        &office,
        Some(edition_body(2, &sessions)),
        StatusCode::OK,
    )
    .await;
    assert_eq!(kept["sessions"].as_array().unwrap().len(), 2);
    assert_eq!(kept["sessions"][0]["id"], json!(first));
    let refused = app
        .send_json(Method::DELETE, &path, Some(&office), None)
        .await;
    assert_eq!(
        assert_problem(refused, StatusCode::CONFLICT).await["code"],
        "has_attendance"
    );

    // An edition without attendance is removed, with its enrolments.
    let lone =
        json!([{"starts_at": "2026-04-10T09:00:00+02:00", "ends_at": "2026-04-10T12:00:00+02:00"}]);
    let other = call(
        &app,
        Method::POST,
        &format!("/v1/formazione/courses/{both}/editions"),
        &office,
        Some(edition_body(5, &lone)),
        StatusCode::CREATED,
    )
    .await;
    let other_id = other["id"].as_i64().unwrap();
    call(
        &app,
        Method::POST,
        &format!("/v1/formazione/editions/{other_id}/self-enrolment"),
        &marco,
        None,
        StatusCode::CREATED,
    )
    .await;
    let only = other["sessions"][0]["id"].as_i64().unwrap();
    let refused = app
        .send_json(
            Method::DELETE,
            &format!("/v1/formazione/sessions/{only}"),
            Some(&office),
            None,
        )
        .await;
    assert_eq!(
        assert_problem(refused, StatusCode::CONFLICT).await["code"],
        "last_session"
    );
    let other_path = format!("/v1/formazione/editions/{other_id}");
    let response = app
        .send_json(Method::DELETE, &other_path, Some(&office), None)
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_problem(
        app.get(&other_path, Some(&office)).await,
        StatusCode::NOT_FOUND,
    )
    .await;
}
