//! Formazione: the catalogue (courses with Italian field errors, editions whose hours are
//! computed from their sessions), the staff lists and their tenancy (a Comune keeps and sees
//! only its own, 404 on the others'), every allowed and refused enrolment move per role with
//! seats, approval, the first-come waiting list and the promotion on withdrawal, the window
//! and audience, attendance from the register and from a videoconference report (all or
//! nothing, unmatched rows reported in Italian) with the completion rule applied, the
//! reports with their CSV, and the pages.

use pico_node::auth::{Module, Role};
use pico_protocol::ComuneCode;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, add_user, assert_problem, login};

const TREVISO: &str = "026086";
const ALTIVOLE: &str = "026001";

struct Formazione {
    app: TestApp,
    office: String,
    sua: String,
    tv: String,
    alt: String,
}

impl Formazione {
    async fn spawn() -> Formazione {
        let app = TestApp::spawn("026").await;
        let cfg = &app.config;
        let comune = |code: &str| Role::Comune(ComuneCode::parse(code).unwrap());
        Formazione {
            office: add_user(
                cfg,
                "operatore.formazione",
                &Role::Operator(Module::Formazione),
            ),
            sua: add_user(cfg, "operatore.sua", &Role::Operator(Module::Sua)),
            tv: add_user(cfg, "comune.treviso", &comune(TREVISO)),
            alt: add_user(cfg, "comune.altivole", &comune(ALTIVOLE)),
            app,
        }
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> reqwest::Response {
        self.app
            .send_json(method, path, Some(token), body.as_ref())
            .await
    }

    /// Sends a request that must be refused with `status`; returns the problem.
    async fn refused(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
        status: StatusCode,
    ) -> Value {
        assert_problem(self.send(method, path, token, body).await, status).await
    }

    async fn ok(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
        status: StatusCode,
    ) -> Value {
        let response = self.send(method.clone(), path, token, body).await;
        let got = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(got, status, "{method} {path}: {text}");
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        }
    }

    async fn course(&self, body: Value) -> i64 {
        self.ok(
            Method::POST,
            "/v1/formazione/courses",
            &self.office,
            Some(body),
            StatusCode::CREATED,
        )
        .await["id"]
            .as_i64()
            .unwrap()
    }

    async fn edition(&self, course: i64, seats: i64, closes: &str, sessions: Value) -> i64 {
        self.ok(
            Method::POST,
            &format!("/v1/formazione/courses/{course}/editions"),
            &self.office,
            Some(json!({"teacher": "Laura Conte", "place": "Sala Verde, Via Cal di Breda 116, Treviso",
                        "link": "https://zoom.us/j/81234567890", "seats": seats,
                        "enrol_opens": "2020-01-01", "enrol_closes": closes, "sessions": sessions})),
            StatusCode::CREATED,
        )
        .await["id"]
            .as_i64()
            .unwrap()
    }

    async fn person(&self, token: &str, name: &str, email: &str) -> i64 {
        self.ok(
            Method::POST,
            "/v1/formazione/staff",
            token,
            Some(json!({"name": name, "office": "Ufficio tributi", "email": email})),
            StatusCode::CREATED,
        )
        .await["id"]
            .as_i64()
            .unwrap()
    }

    async fn enrol(&self, token: &str, edition: i64, staff: i64) -> reqwest::Response {
        self.send(
            Method::POST,
            &format!("/v1/formazione/editions/{edition}/enrolments"),
            token,
            Some(json!({"staff_id": staff})),
        )
        .await
    }

    async fn act(&self, token: &str, enrolment: i64, action: &str) -> reqwest::Response {
        self.send(
            Method::POST,
            &format!("/v1/formazione/enrolments/{enrolment}/{action}"),
            token,
            Some(json!({})),
        )
        .await
    }
}

fn appalti() -> Value {
    json!({"title": "Il nuovo codice dei contratti pubblici", "sector": "appalti",
           "description": "Il D.Lgs. 36/2023 per i RUP dei Comuni.", "objectives": "Gestire una procedura negoziata.",
           "hours": 6, "mode": "online", "tags": ["codice dei contratti", "RUP"], "audience": "both",
           "needs_approval": true, "min_attendance_percent": 75, "min_score": 60})
}

/// Two sessions of 10 March 2026 in Italy (UTC+1): 09:00–12:00 and 14:00–17:00.
fn two_sessions() -> Value {
    json!([{"starts_at": "2026-03-10T09:00:00+01:00", "ends_at": "2026-03-10T12:00:00+01:00"},
           {"starts_at": "2026-03-10T13:00:00Z", "ends_at": "2026-03-10T16:00:00Z"}])
}

#[tokio::test]
async fn catalogue_of_courses_and_editions_with_hours_from_the_sessions() {
    let f = Formazione::spawn().await;
    // Every wrong field named, in Italian.
    let problem = f
        .refused(
            Method::POST,
            "/v1/formazione/courses",
            &f.office,
            Some(
                json!({"title": " ", "hours": 0, "mode": "online", "syllabus_area": "sicurezza",
                        "min_attendance_percent": 120, "min_score": 101}),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    let errors = problem["errors"].as_object().unwrap();
    for field in [
        "title",
        "sector",
        "audience",
        "hours",
        "syllabus_level",
        "min_attendance_percent",
        "min_score",
    ] {
        assert!(errors.contains_key(field), "{field} in {problem}");
    }
    assert_eq!(errors["sector"], "Scegli il settore.");

    let course = f.course(appalti()).await;
    let digital = f
        .course(
            json!({"title": "Sicurezza informatica di base", "sector": "innovazione", "hours": 4,
                       "mode": "elearning", "syllabus_area": "sicurezza", "syllabus_level": "base",
                       "audience": "both", "min_attendance_percent": 100}),
        )
        .await;
    // Only the office writes the catalogue; everyone signed in reads it.
    for token in [&f.tv, &f.sua] {
        f.refused(
            Method::POST,
            "/v1/formazione/courses",
            token,
            Some(appalti()),
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    for token in [&f.tv, &f.sua, &f.alt] {
        let list = f
            .ok(
                Method::GET,
                "/v1/formazione/courses",
                token,
                None,
                StatusCode::OK,
            )
            .await;
        assert_eq!(list["items"].as_array().unwrap().len(), 2);
    }
    let innovation = f
        .ok(
            Method::GET,
            "/v1/formazione/courses?sector=innovazione",
            &f.tv,
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(innovation["items"][0]["id"], digital);
    assert_eq!(innovation["items"][0]["syllabus_level"], "base");
    assert_problem(
        f.app.get("/v1/formazione/courses", None).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;

    // An edition: 3 h in the morning and 3 h in the afternoon (given in UTC), 6 hours.
    let problem = f.refused(Method::POST, &format!("/v1/formazione/courses/{course}/editions"), &f.office, Some(json!({"teacher": "", "seats": 0, "enrol_opens": "31/12/2026", "enrol_closes": "01/01/2026",
                        "sessions": [{"starts_at": "2026-03-10T12:00:00+01:00", "ends_at": "2026-03-10T09:00:00+01:00"}]})), StatusCode::UNPROCESSABLE_ENTITY).await;
    for field in [
        "teacher",
        "seats",
        "enrol_closes",
        "sessions[0].ends_at",
        "place",
    ] {
        assert!(
            problem["errors"].get(field).is_some(),
            "{field} in {problem}"
        );
    }
    let edition = f.edition(course, 20, "2099-12-31", two_sessions()).await;
    let detail = f
        .ok(
            Method::GET,
            &format!("/v1/formazione/editions/{edition}"),
            &f.sua,
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(detail["edition"]["hours"], "6.00");
    assert_eq!(detail["edition"]["minutes"], 360);
    assert_eq!(
        detail["edition"]["sessions"][1]["starts_at"],
        "2026-03-10T13:00:00Z"
    );
    assert_eq!(detail["edition"]["enrolment_open"], true);
    assert_eq!(detail["edition"]["seats_free"], 20);
    assert_eq!(
        detail["course"]["title"],
        "Il nuovo codice dei contratti pubblici"
    );
    // Another operator sees the catalogue but no enrolment.
    assert_eq!(detail["enrolments"], json!([]));
    let course_detail = f
        .ok(
            Method::GET,
            &format!("/v1/formazione/courses/{course}"),
            &f.tv,
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(course_detail["editions"][0]["id"], edition);
}

#[tokio::test]
async fn each_comune_keeps_its_own_staff_list_and_sees_nobody_else() {
    let f = Formazione::spawn().await;
    let giulia = f
        .person(&f.tv, "Giulia Rossi", "Giulia.Rossi@comune.treviso.it")
        .await;
    let paolo = f
        .person(&f.alt, "Paolo Neri", "paolo.neri@comune.altivole.tv.it")
        .await;
    let laura = f
        .person(&f.office, "Laura Conte", "laura.conte@provincia.treviso.it")
        .await;

    // A Comune lists only its own; the office all three.
    let mine = f
        .ok(
            Method::GET,
            "/v1/formazione/staff",
            &f.tv,
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    assert_eq!(mine["items"][0]["email"], "giulia.rossi@comune.treviso.it");
    assert_eq!(mine["items"][0]["comune_code"], TREVISO);
    let all = f
        .ok(
            Method::GET,
            "/v1/formazione/staff",
            &f.office,
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(all["items"].as_array().unwrap().len(), 3);
    f.refused(
        Method::GET,
        "/v1/formazione/staff",
        &f.sua,
        None,
        StatusCode::FORBIDDEN,
    )
    .await;

    // Another Comune's person, or the Province's, is not found for a Comune.
    for id in [paolo, laura] {
        let path = format!("/v1/formazione/staff/{id}");
        f.refused(Method::GET, &path, &f.tv, None, StatusCode::NOT_FOUND)
            .await;
        f.refused(
            Method::PUT,
            &path,
            &f.tv,
            Some(json!({"name": "X", "email": "x@y.it"})),
            StatusCode::NOT_FOUND,
        )
        .await;
        f.refused(Method::DELETE, &path, &f.tv, None, StatusCode::NOT_FOUND)
            .await;
    }
    // Adding to another Comune's list is not found either.
    f.refused(Method::POST, "/v1/formazione/staff", &f.tv, Some(json!({"comune_code": ALTIVOLE, "name": "Intruso", "email": "intruso@comune.treviso.it"})), StatusCode::NOT_FOUND).await;
    // The office sees a Comune's person but keeps only the Province's list.
    f.ok(
        Method::GET,
        &format!("/v1/formazione/staff/{giulia}"),
        &f.office,
        None,
        StatusCode::OK,
    )
    .await;
    f.refused(
        Method::PUT,
        &format!("/v1/formazione/staff/{giulia}"),
        &f.office,
        Some(json!({"name": "Giulia Rossi", "email": "g@comune.treviso.it"})),
        StatusCode::FORBIDDEN,
    )
    .await;
    f.refused(
        Method::POST,
        "/v1/formazione/staff",
        &f.office,
        Some(json!({"comune_code": TREVISO, "name": "X", "email": "x@comune.treviso.it"})),
        StatusCode::FORBIDDEN,
    )
    .await;

    // Its own: changed, e-mail checked and unique.
    let updated = f
        .ok(
            Method::PUT,
            &format!("/v1/formazione/staff/{giulia}"),
            &f.tv,
            Some(json!({"name": "Giulia Rossi", "office": "Ragioneria", "email": "giulia.rossi@comune.treviso.it"})),
            StatusCode::OK,
        )
        .await;
    assert_eq!(updated["office"], "Ragioneria");
    let problem = f
        .refused(
            Method::POST,
            "/v1/formazione/staff",
            &f.tv,
            Some(json!({"name": "Altra Giulia", "email": "GIULIA.ROSSI@comune.treviso.it"})),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    assert!(problem["errors"]["email"].as_str().unwrap().contains("già"));
    let problem = f
        .refused(
            Method::POST,
            "/v1/formazione/staff",
            &f.tv,
            Some(json!({"name": "", "email": "non-una-mail"})),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    assert!(problem["errors"]["name"].is_string() && problem["errors"]["email"].is_string());

    // A person with enrolments stays; without, they can be removed.
    let course = f.course(appalti()).await;
    let edition = f.edition(course, 5, "2099-12-31", two_sessions()).await;
    assert_eq!(
        f.enrol(&f.tv, edition, giulia).await.status(),
        StatusCode::CREATED
    );
    let kept = f
        .send(
            Method::DELETE,
            &format!("/v1/formazione/staff/{giulia}"),
            &f.tv,
            None,
        )
        .await;
    assert_eq!(
        assert_problem(kept, StatusCode::CONFLICT).await["code"],
        "has_enrolments"
    );
    f.ok(
        Method::DELETE,
        &format!("/v1/formazione/staff/{paolo}"),
        &f.alt,
        None,
        StatusCode::NO_CONTENT,
    )
    .await;
    // The Comune sees the enrolments of its own person only.
    let own = f
        .ok(
            Method::GET,
            &format!("/v1/formazione/staff/{giulia}"),
            &f.tv,
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(own["enrolments"].as_array().unwrap().len(), 1);
}

async fn state_of(response: reqwest::Response) -> (i64, String) {
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert!(status.is_success(), "{status}: {body}");
    (
        body["id"].as_i64().unwrap(),
        body["state"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn enrolments_seats_approval_waiting_list_and_every_move_per_role() {
    let f = Formazione::spawn().await;
    let course = f.course(appalti()).await;
    let edition = f.edition(course, 2, "2099-12-31", two_sessions()).await;
    let people = [
        f.person(&f.tv, "Giulia Rossi", "giulia.rossi@comune.treviso.it")
            .await,
        f.person(&f.tv, "Marco Bianchi", "marco.bianchi@comune.treviso.it")
            .await,
        f.person(&f.tv, "Anna Verdi", "anna.verdi@comune.treviso.it")
            .await,
    ];
    let paolo = f
        .person(&f.alt, "Paolo Neri", "paolo.neri@comune.altivole.tv.it")
        .await;
    let laura = f
        .person(&f.office, "Laura Conte", "laura.conte@provincia.treviso.it")
        .await;

    // Refused enrolments: another Comune's person (404), a Province operator of another
    // module (403), anonymous (401).
    assert_problem(
        f.enrol(&f.alt, edition, people[0]).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_problem(f.enrol(&f.alt, edition, laura).await, StatusCode::NOT_FOUND).await;
    assert_problem(
        f.enrol(&f.sua, edition, people[0]).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let anonymous = f
        .app
        .post_json(
            &format!("/v1/formazione/editions/{edition}/enrolments"),
            None,
            &json!({"staff_id": people[0]}),
        )
        .await;
    assert_problem(anonymous, StatusCode::UNAUTHORIZED).await;

    // The course asks for approval: Treviso's three enrolments wait for it, in order.
    let mut ids = Vec::new();
    for person in people {
        let (id, state) = state_of(f.enrol(&f.tv, edition, person).await).await;
        assert_eq!(state, "pending");
        ids.push(id);
    }
    let twice = f.enrol(&f.tv, edition, people[0]).await;
    assert_eq!(
        assert_problem(twice, StatusCode::CONFLICT).await["code"],
        "already_enrolled"
    );
    // Altivole sees none of them; Treviso sees its three.
    let seen = f
        .ok(
            Method::GET,
            &format!("/v1/formazione/editions/{edition}"),
            &f.alt,
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(seen["enrolments"], json!([]));
    assert_eq!(seen["edition"]["pending"], 3);
    let seen = f
        .ok(
            Method::GET,
            &format!("/v1/formazione/editions/{edition}/enrolments"),
            &f.tv,
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(seen["items"].as_array().unwrap().len(), 3);

    // Only the office approves or rejects: the Comune 403, another Comune 404.
    assert_problem(f.act(&f.tv, ids[0], "approve").await, StatusCode::FORBIDDEN).await;
    assert_problem(f.act(&f.tv, ids[0], "reject").await, StatusCode::FORBIDDEN).await;
    assert_problem(
        f.act(&f.alt, ids[0], "approve").await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_problem(
        f.act(&f.alt, ids[0], "withdraw").await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_problem(
        f.act(&f.sua, ids[0], "approve").await,
        StatusCode::FORBIDDEN,
    )
    .await;

    // Two seats: the first two approved take them, the third goes on the waiting list.
    assert_eq!(
        state_of(f.act(&f.office, ids[0], "approve").await).await.1,
        "enrolled"
    );
    assert_eq!(
        state_of(f.act(&f.office, ids[1], "approve").await).await.1,
        "enrolled"
    );
    assert_eq!(
        state_of(f.act(&f.office, ids[2], "approve").await).await.1,
        "waiting"
    );
    // The office enrols a Province person directly (no approval for its own): full, waiting
    // behind Anna.
    let (laura_enrolment, state) = state_of(f.enrol(&f.office, edition, laura).await).await;
    assert_eq!(state, "waiting");
    // Approval only leaves `pending`.
    let again = f.act(&f.office, ids[0], "approve").await;
    assert_eq!(
        assert_problem(again, StatusCode::CONFLICT).await["code"],
        "invalid_transition"
    );
    assert_problem(
        f.act(&f.office, ids[2], "approve").await,
        StatusCode::CONFLICT,
    )
    .await;

    // Treviso withdraws Giulia: her seat goes to the first waiting (Anna, not Laura), in the
    // same move.
    assert_eq!(
        state_of(f.act(&f.tv, ids[0], "withdraw").await).await.1,
        "withdrawn"
    );
    let all = f
        .ok(
            Method::GET,
            &format!("/v1/formazione/editions/{edition}/enrolments"),
            &f.office,
            None,
            StatusCode::OK,
        )
        .await;
    let state = |id: i64| {
        all["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["id"] == id)
            .unwrap()["state"]
            .clone()
    };
    assert_eq!(state(ids[2]), "enrolled");
    assert_eq!(state(laura_enrolment), "waiting");
    let detail = f
        .ok(
            Method::GET,
            &format!("/v1/formazione/editions/{edition}"),
            &f.office,
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(detail["edition"]["enrolled"], 2);
    assert_eq!(detail["edition"]["waiting"], 1);
    // A withdrawn enrolment is final; a waiting one may be withdrawn without promotion.
    let final_move = f.act(&f.tv, ids[0], "withdraw").await;
    assert_eq!(
        assert_problem(final_move, StatusCode::CONFLICT).await["code"],
        "invalid_transition"
    );
    // A Comune cannot withdraw the Province's person (404: not its record).
    assert_problem(
        f.act(&f.tv, laura_enrolment, "withdraw").await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(
        state_of(f.act(&f.office, laura_enrolment, "withdraw").await)
            .await
            .1,
        "withdrawn"
    );

    // The promotion is in the history, made by the module on the withdrawal.
    let db = pico_service::Db::open_existing(&f.app.config.db_path(), pico_node::db::MIGRATIONS, 1)
        .unwrap();
    let conn = db.get().unwrap();
    let history: Vec<(Option<String>, String, String)> = conn
        .prepare("SELECT from_state, to_state, reason FROM formazione_enrolment_transitions WHERE enrolment_id = ?1 ORDER BY id")
        .unwrap()
        .query_map([ids[2]], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(history.len(), 3, "{history:?}");
    assert_eq!(history[0], (None, "pending".into(), String::new()));
    assert_eq!(history[1].1, "waiting");
    assert_eq!(history[2].0.as_deref(), Some("waiting"));
    assert_eq!(history[2].1, "enrolled");
    assert!(history[2].2.contains("lista d'attesa"));

    // Reject a pending one: the office only.
    let other = f.edition(course, 10, "2099-12-31", two_sessions()).await;
    let (pending, _) = state_of(f.enrol(&f.tv, other, people[0]).await).await;
    assert_eq!(
        state_of(f.act(&f.office, pending, "reject").await).await.1,
        "rejected"
    );
    assert_problem(
        f.act(&f.office, pending, "withdraw").await,
        StatusCode::CONFLICT,
    )
    .await;
    // The office enrolling a Comune's person skips the approval.
    let (direct, state) = state_of(f.enrol(&f.office, other, people[1]).await).await;
    assert_eq!(state, "enrolled");
    assert_eq!(
        state_of(f.act(&f.tv, direct, "withdraw").await).await.1,
        "withdrawn"
    );

    // The window: closed editions refuse everyone.
    let closed = f.edition(course, 10, "2021-01-31", two_sessions()).await;
    for (token, person) in [(&f.tv, people[0]), (&f.office, laura)] {
        let response = f.enrol(token, closed, person).await;
        assert_eq!(
            assert_problem(response, StatusCode::CONFLICT).await["code"],
            "enrolment_closed"
        );
    }
    // The audience: a course for the Province's staff refuses a Comune's person.
    let internal = f
        .course(json!({"title": "Il sistema di valutazione della performance", "sector": "personale",
                       "hours": 3, "mode": "presence", "audience": "province", "min_attendance_percent": 100}))
        .await;
    let internal_edition = f.edition(internal, 10, "2099-12-31", two_sessions()).await;
    let response = f.enrol(&f.office, internal_edition, paolo).await;
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(
        problem["errors"]["staff_id"]
            .as_str()
            .unwrap()
            .contains("riservato")
    );
    assert_eq!(
        f.enrol(&f.office, internal_edition, laura).await.status(),
        StatusCode::CREATED
    );
}

const FIXTURE: &str = "tests/fixtures/formazione_zoom_partecipanti.csv";

#[tokio::test]
async fn attendance_from_register_and_videoconference_report_decides_completion() {
    let f = Formazione::spawn().await;
    let course = f.course(appalti()).await;
    let edition = f.edition(course, 10, "2099-12-31", two_sessions()).await;
    let giulia = f
        .person(&f.tv, "Giulia Rossi", "giulia.rossi@comune.treviso.it")
        .await;
    let marco = f
        .person(&f.tv, "Marco Bianchi", "marco.bianchi@comune.treviso.it")
        .await;
    let anna = f
        .person(&f.tv, "Anna Verdi", "anna.verdi@comune.treviso.it")
        .await;
    let mut enrolments = Vec::new();
    for person in [giulia, marco, anna] {
        let response = f.enrol(&f.office, edition, person).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        enrolments.push(
            response.json::<Value>().await.unwrap()["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let detail = f
        .ok(
            Method::GET,
            &format!("/v1/formazione/editions/{edition}"),
            &f.office,
            None,
            StatusCode::OK,
        )
        .await;
    let morning = detail["edition"]["sessions"][0]["id"].as_i64().unwrap();
    let afternoon = detail["edition"]["sessions"][1]["id"].as_i64().unwrap();

    // The register of the morning (180 minutes): beyond the session, or not enrolled, is refused.
    let register = |entries: Value| Some(json!({"entries": entries}));
    let path = format!("/v1/formazione/sessions/{morning}/attendance");
    let problem = f.refused(Method::PUT, &path, &f.office, register(json!([{"enrolment_id": enrolments[0], "minutes": 181}, {"enrolment_id": 9999, "minutes": 10}])), StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(
        problem["errors"]["entries[0].minutes"]
            .as_str()
            .unwrap()
            .contains("180")
    );
    assert!(problem["errors"]["entries[1].enrolment_id"].is_string());
    for token in [&f.tv, &f.sua] {
        f.refused(
            Method::PUT,
            &path,
            token,
            register(json!([])),
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    f.ok(
        Method::PUT,
        &path,
        &f.office,
        register(json!([{"enrolment_id": enrolments[0], "minutes": 180}, {"enrolment_id": enrolments[1], "minutes": 120},
                        {"enrolment_id": enrolments[2], "minutes": 0}])),
        StatusCode::OK,
    )
    .await;

    // The afternoon from Zoom's report (see the fixture): Giulia 14:00–15:30:10 and
    // 15:41:30–17:00 = 168 min; Marco 14:02–16:10 over two devices = 128 min; Anna absent.
    let bytes =
        std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE)).unwrap();
    let import_path = format!("/v1/formazione/sessions/{afternoon}/attendance/import");
    let report = f
        .app
        .post_raw(&import_path, &f.office, "text/csv", bytes)
        .await;
    assert_eq!(report.status(), StatusCode::OK);
    let report: Value = report.json().await.unwrap();
    assert_eq!(report["rows"], 4);
    assert_eq!(report["present"], 2);
    let minutes: Vec<i64> = report["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["minutes"].as_i64().unwrap())
        .collect();
    assert_eq!(minutes, vec![168, 128, 0]);

    // Totals over 360 minutes, rule 75 % (270) and a test of at least 60.
    let enrolment = |list: &Value, id: i64| {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["id"] == id)
            .unwrap()
            .clone()
    };
    let list_path = format!("/v1/formazione/editions/{edition}/enrolments");
    let list = f
        .ok(Method::GET, &list_path, &f.office, None, StatusCode::OK)
        .await;
    let g = enrolment(&list, enrolments[0]);
    assert_eq!(
        (g["attended_minutes"].as_i64(), g["attended_hours"].as_str()),
        (Some(348), Some("5.80"))
    );
    assert_eq!(g["completed"], false, "no test score yet");
    assert_eq!(enrolment(&list, enrolments[1])["attended_minutes"], 248);
    let score = |id: i64, score: i64| {
        (
            format!("/v1/formazione/enrolments/{id}/score"),
            Some(json!({"score": score})),
        )
    };
    let (p, b) = score(enrolments[0], 59);
    assert_eq!(
        f.ok(Method::PUT, &p, &f.office, b, StatusCode::OK).await["completed"],
        false
    );
    let (p, b) = score(enrolments[0], 72);
    assert_eq!(
        f.ok(Method::PUT, &p, &f.office, b, StatusCode::OK).await["completed"],
        true
    );
    let (p, b) = score(enrolments[1], 95);
    assert_eq!(
        f.ok(Method::PUT, &p, &f.office, b.clone(), StatusCode::OK)
            .await["completed"],
        false,
        "248 < 270 minutes"
    );
    f.refused(Method::PUT, &p, &f.tv, b, StatusCode::FORBIDDEN)
        .await;

    // A report with unmatched rows changes nothing, and says which rows in Italian.
    let unmatched = "Nome (nome originale),E-mail utente,Ora di ingresso,Ora di uscita\n\
        Giulia Rossi,giulia.rossi@comune.treviso.it,10/03/2026 14:00:00,10/03/2026 14:30:00\n\
        Paolo Neri,paolo.neri@gmail.com,10/03/2026 14:00:00,10/03/2026 17:00:00\n\
        Utente iPhone,,10/03/2026 14:10:00,10/03/2026 16:00:00\n";
    let refused = f
        .app
        .post_raw(
            &import_path,
            &f.office,
            "text/csv",
            unmatched.as_bytes().to_vec(),
        )
        .await;
    let problem = assert_problem(refused, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(problem["code"], "import_refused");
    assert_eq!(problem["refused"], 2);
    assert!(
        problem["errors"]["riga 3"]
            .as_str()
            .unwrap()
            .contains("«Paolo Neri» (paolo.neri@gmail.com) non corrisponde"),
        "{problem}"
    );
    assert!(
        problem["errors"]["riga 4"]
            .as_str()
            .unwrap()
            .contains("«Utente iPhone»"),
        "{problem}"
    );
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .starts_with("Importazione rifiutata, nessuna presenza")
    );
    let list = f
        .ok(Method::GET, &list_path, &f.office, None, StatusCode::OK)
        .await;
    assert_eq!(enrolment(&list, enrolments[0])["attended_minutes"], 348);
    assert_eq!(enrolment(&list, enrolments[0])["completed"], true);

    // Lowering the course's rule to 65 % (234 minutes) completes Marco without a new register.
    let mut lower = appalti();
    lower["min_attendance_percent"] = json!(65);
    f.ok(
        Method::PUT,
        &format!("/v1/formazione/courses/{course}"),
        &f.office,
        Some(lower),
        StatusCode::OK,
    )
    .await;
    let list = f
        .ok(Method::GET, &list_path, &f.office, None, StatusCode::OK)
        .await;
    assert_eq!(enrolment(&list, enrolments[1])["completed"], true);
    // A withdrawal takes the completion away.
    f.act(&f.office, enrolments[1], "withdraw").await;
    let list = f
        .ok(Method::GET, &list_path, &f.office, None, StatusCode::OK)
        .await;
    assert_eq!(enrolment(&list, enrolments[1])["completed"], false);

    // The year's report: 6 hours delivered in Appalti, 3 enrolled of which 1 withdrawn, one
    // person trained in Treviso; nobody near 40 hours.
    let report = f
        .ok(
            Method::GET,
            "/v1/formazione/reports?year=2026",
            &f.office,
            None,
            StatusCode::OK,
        )
        .await;
    let appalti_line = &report["sectors"][0];
    assert_eq!(appalti_line["sector"], "appalti");
    assert_eq!(appalti_line["minutes_delivered"], 360);
    assert_eq!(
        appalti_line["figures"],
        json!({"enrolled": 2, "completed": 1, "people_trained": 1})
    );
    assert_eq!(report["entities"][0]["comune_code"], TREVISO);
    assert_eq!(report["entities"][0]["name"], "Treviso");
    let people = report["people"].as_array().unwrap();
    assert_eq!(people[0]["name"], "Giulia Rossi");
    assert_eq!(people[0]["minutes"], 348);
    assert_eq!(people[0]["meets_yearly_hours"], false);
    f.refused(
        Method::GET,
        "/v1/formazione/reports",
        &f.tv,
        None,
        StatusCode::FORBIDDEN,
    )
    .await;
}

#[tokio::test]
async fn the_pages_let_a_comune_enrol_and_the_office_keep_the_register() {
    let f = Formazione::spawn().await;
    let course = f.course(appalti()).await;
    let edition = f.edition(course, 10, "2099-12-31", two_sessions()).await;
    let comune = login(&f.app, "comune.treviso").await;

    // The Comune adds a person (a bad e-mail first: 422 with the message beside the field).
    let (status, html) = page_post(
        &comune,
        "/formazione/personale",
        vec![("name", "Giulia Rossi".into()), ("email", "giulia".into())],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("Correggi i seguenti campi") && html.contains("id=\"email-error\""),
        "{html}"
    );
    assert!(html.contains("value=\"Giulia Rossi\""));
    let (status, _) = page_post(
        &comune,
        "/formazione/personale",
        vec![
            ("name", "Giulia Rossi".into()),
            ("office", "Tributi".into()),
            ("email", "giulia.rossi@comune.treviso.it".into()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = comune.get_page("/formazione/personale").await;
    assert!(html.contains("Giulia Rossi"));
    // It enrols her through the edition's page: pending approval.
    let (status, html) = comune
        .get_page(&format!("/formazione/edizioni/{edition}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"enrol-form\""), "{html}");
    let staff_id = html
        .split("option value=\"")
        .nth(2)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let (status, _) = page_post(
        &comune,
        &format!("/formazione/edizioni/{edition}/iscrizioni"),
        vec![("staff_id", staff_id)],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = comune
        .get_page(&format!("/formazione/edizioni/{edition}"))
        .await;
    assert!(html.contains("In attesa di approvazione"), "{html}");

    // The office approves on the page, fills the register, reads the reports and the CSV.
    let office = login(&f.app, "operatore.formazione").await;
    let (_, dashboard) = office.get_page("/dashboard").await;
    assert!(
        dashboard.contains("id=\"formazione-pending\""),
        "{dashboard}"
    );
    let enrolment = f
        .ok(
            Method::GET,
            &format!("/v1/formazione/editions/{edition}/enrolments"),
            &f.office,
            None,
            StatusCode::OK,
        )
        .await["items"][0]["id"]
        .as_i64()
        .unwrap();
    let (status, _) = page_post(
        &office,
        &format!("/formazione/iscrizioni/{enrolment}/stato"),
        vec![("azione", "approva".into())],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let detail = f
        .ok(
            Method::GET,
            &format!("/v1/formazione/editions/{edition}"),
            &f.office,
            None,
            StatusCode::OK,
        )
        .await;
    let session = detail["edition"]["sessions"][0]["id"].as_i64().unwrap();
    assert_eq!(detail["enrolments"][0]["state"], "enrolled");
    let register = format!("/formazione/incontri/{session}/registro");
    let (status, html) = office.get_page(&register).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Minuti di presenza di Giulia Rossi"));
    let field = format!("m{enrolment}");
    let (status, html) = page_post(&office, &register, vec![(field.as_str(), "500".into())]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains(&format!("id=\"{field}-error\"")), "{html}");
    let (status, _) = page_post(&office, &register, vec![(field.as_str(), "150".into())]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, html) = office
        .get_page(&format!("/formazione/edizioni/{edition}"))
        .await;
    assert!(html.contains(">2,5<"), "2,5 hours attended: {html}");
    let (status, html) = office.get_page("/formazione/rapporti?anno=2026").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Rapporti della formazione 2026") && html.contains("Politiche del personale")
    );
    let response = office
        .client
        .get(
            f.app
                .url("/formazione/rapporti/export.csv?anno=2026&sep=semicolon"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let csv = response.text().await.unwrap();
    assert!(csv.contains("Anno;Sezione;Voce;Ore erogate"), "{csv}");
    assert!(
        csv.contains("2026;Persona;Giulia Rossi (Treviso);;;;;;2,50;no"),
        "{csv}"
    );
    // The Comune has no reports; another operator reads the catalogue only.
    let (status, _) = comune.get_page("/formazione/rapporti").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let sua = login(&f.app, "operatore.sua").await;
    let (status, html) = sua
        .get_page(&format!("/formazione/edizioni/{edition}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!html.contains("Giulia Rossi"));
    let _ = &f.sua;
}

/// Posts a page form whose values are `String`s; answers the status and the HTML.
async fn page_post(
    session: &crate::helpers::Session,
    path: &str,
    form: Vec<(&str, String)>,
) -> (StatusCode, String) {
    let fields: Vec<(&str, &str)> = form
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    let (status, _, html) = session.submit(path, &fields).await;
    (status, html)
}

#[tokio::test]
async fn the_staff_list_is_paged_searched_and_ordered() {
    let f = Formazione::spawn().await;
    for n in 1..=25 {
        f.person(
            &f.office,
            &format!("Persona {n:02}"),
            &format!("persona{n:02}@provincia.treviso.it"),
        )
        .await;
    }
    for n in 1..=3 {
        f.person(
            &f.tv,
            &format!("Comunale {n}"),
            &format!("comunale{n}@comune.treviso.it"),
        )
        .await;
    }
    let office = login(&f.app, "operatore.formazione").await;
    let (status, html) = office.get_page("/formazione/personale?size=20").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Pagina 1 di 2 (28 righe)"), "{html}");
    assert_eq!(html.matches("href=\"/formazione/personale/").count(), 20);
    // By name: the three of the Comune first, then Persona 01…17.
    assert!(html.contains("Comunale 1") && html.contains("Persona 17"));
    assert!(!html.contains("Persona 18"));
    let (_, html) = office
        .get_page("/formazione/personale?size=20&page=2")
        .await;
    assert_eq!(html.matches("href=\"/formazione/personale/").count(), 8);
    assert!(html.contains("Persona 25") && !html.contains("Persona 17<"));
    // Searched in name, office and e-mail; ordered by e-mail, descending.
    let (_, html) = office
        .get_page("/formazione/personale?q=comunale2%40")
        .await;
    assert_eq!(html.matches("href=\"/formazione/personale/").count(), 1);
    let (_, html) = office
        .get_page("/formazione/personale?sort=email&dir=desc&size=20")
        .await;
    let first = html.find("persona25@").unwrap();
    let second = html.find("persona24@").unwrap();
    assert!(first < second);
    // A wrong size is said beside the list, not a failure.
    let (status, html) = office.get_page("/formazione/personale?size=7").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Le righe per pagina possono essere"),
        "{html}"
    );
    // The Comune sees its own three only.
    let comune = login(&f.app, "comune.treviso").await;
    let (_, html) = comune.get_page("/formazione/personale").await;
    assert!(html.contains("(3 righe)"), "{html}");
    assert!(!html.contains("Persona 01"));
}

#[tokio::test]
async fn courses_and_editions_are_changed_on_their_forms_with_errors_beside_the_fields() {
    let f = Formazione::spawn().await;
    let course = f.course(appalti()).await;
    let edition = f.edition(course, 10, "2099-12-31", two_sessions()).await;
    let office = login(&f.app, "operatore.formazione").await;

    let (status, html) = office
        .get_page(&format!("/formazione/corsi/{course}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!("href=\"/formazione/corsi/{course}/modifica\"")));
    let path = format!("/formazione/corsi/{course}/modifica");
    let (status, html) = office.get_page(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("value=\"Il nuovo codice dei contratti pubblici\""),
        "{html}"
    );
    assert!(
        html.contains("value=\"codice dei contratti, RUP\""),
        "{html}"
    );
    let mut fields: Vec<(&str, String)> = vec![
        ("title", String::new()),
        ("sector", "appalti".into()),
        ("hours", "sei".into()),
        ("mode", "online".into()),
        ("audience", "both".into()),
        ("min_attendance_percent", "75".into()),
        ("tags", "RUP".into()),
        ("open_to_provinces", "true".into()),
    ];
    let (status, html) = page_post(&office, &path, fields.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("id=\"title-error\"") && html.contains("id=\"hours-error\""),
        "{html}"
    );
    assert!(html.contains("«sei» non è un numero intero."));
    fields[0].1 = "Il codice dei contratti in pratica".into();
    fields[2].1 = "8".into();
    let (status, _) = page_post(&office, &path, fields).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let view = f
        .ok(
            Method::GET,
            &format!("/v1/formazione/courses/{course}"),
            &f.office,
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(
        view["course"]["title"],
        "Il codice dei contratti in pratica"
    );
    assert_eq!(view["course"]["hours"], 8);
    assert_eq!(view["course"]["open_to_provinces"], true);
    assert_eq!(view["course"]["needs_approval"], false, "an unticked box");

    let path = format!("/formazione/edizioni/{edition}/modifica");
    let (status, html) = office.get_page(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("10/03/2026 09:00–12:00\n10/03/2026 14:00–17:00"),
        "{html}"
    );
    assert!(html.contains("value=\"01/01/2020\""), "{html}");
    let fields = |seats: &str, sessions: &str| -> Vec<(&'static str, String)> {
        vec![
            ("teacher", "Laura Conte".into()),
            ("link", "https://zoom.us/j/81234567890".into()),
            ("seats", seats.into()),
            ("enrol_opens", "01/01/2020".into()),
            ("enrol_closes", "31/12/2099".into()),
            ("sessions", sessions.into()),
        ]
    };
    let (status, html) = page_post(
        &office,
        &path,
        fields("0", "10/03/2026 09:00-12:00\n10/03/2026 alle nove"),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("id=\"seats-error\"") && html.contains("id=\"sessions-error\""),
        "{html}"
    );
    let (status, _) = page_post(
        &office,
        &path,
        fields("12", "10/03/2026 09:00-12:00\n17/03/2026 09:00-12:00"),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let view = f
        .ok(
            Method::GET,
            &format!("/v1/formazione/editions/{edition}"),
            &f.office,
            None,
            StatusCode::OK,
        )
        .await;
    assert_eq!(view["edition"]["seats"], 12);
    assert_eq!(
        view["edition"]["sessions"][1]["starts_at"],
        "2026-03-17T08:00:00Z"
    );

    // Nobody but the office opens the forms.
    let comune = login(&f.app, "comune.treviso").await;
    let (status, _) = comune
        .get_page(&format!("/formazione/corsi/{course}/modifica"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = comune.get_page(&path).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
