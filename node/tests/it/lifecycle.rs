//! The audited lifecycle through the real API of the two modules that use it: a move allowed
//! to a role, the refusals (403, 404, 409) in Italian, two moves racing from the same state
//! (exactly one wins, the other is 409 `stale_state`), the history row with who and why, and
//! the Help Desk history copied from the audit log by migration 9.

use pico_node::auth::{Module, Role};
use pico_node::sua::State;
use pico_protocol::ComuneCode;
use pico_service::Db;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, add_user, assert_problem};
use crate::sua_helpers::{Sua, transition_body};

const TREVISO: &str = "026086";

async fn post_owned(url: String, token: String, body: Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_help_desk_move_is_checked_recorded_and_shown_in_the_history() {
    let app = TestApp::spawn("026").await;
    let operator = add_user(&app.config, "hd", &Role::Operator(Module::Helpdesk));
    let tv = add_user(
        &app.config,
        "tv",
        &Role::Comune(ComuneCode::parse(TREVISO).unwrap()),
    );
    let other = add_user(
        &app.config,
        "alt",
        &Role::Comune(ComuneCode::parse("026001").unwrap()),
    );
    let id = app.open_request(&tv, "Rete lenta").await;
    let path = format!("/v1/helpdesk/requests/{id}/transitions");

    // Triage is the Province's: the Comune is refused in Italian, another Comune does not
    // learn the request exists.
    let refused = assert_problem(
        app.post_json(&path, Some(&tv), &json!({"status": "in_progress"}))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(
        refused["detail"],
        "Il tuo profilo non consente questa operazione."
    );
    assert_problem(
        app.post_json(&path, Some(&other), &json!({"status": "in_progress"}))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    // A move the machine does not have.
    let invalid = assert_problem(
        app.post_json(&path, Some(&operator), &json!({"status": "resolved"}))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(invalid["code"], "invalid_transition");
    assert_eq!(
        invalid["detail"],
        "Una richiesta nello stato «Nuova» non può passare a «Risolta»; stati possibili: In lavorazione, Chiusa."
    );

    // The operator's move, with its reason.
    let moved = app
        .post_json(
            &path,
            Some(&operator),
            &json!({"status": "in_progress", "from": "new", "reason": "Presa in carico dal tecnico"}),
        )
        .await;
    assert_eq!(moved.status(), StatusCode::OK);
    let moved: Value = moved.json().await.unwrap();
    assert_eq!(moved["status"], "in_progress");

    // The same request again, from the state the operator saw: stale.
    let stale = assert_problem(
        app.post_json(
            &path,
            Some(&operator),
            &json!({"status": "closed", "from": "new"}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(stale["code"], "stale_state");
    assert_eq!(
        stale["detail"],
        "La richiesta è stata modificata da un altro utente e ora è nello stato «In lavorazione»: ricarica la pagina e riprova."
    );

    let detail: Value = app
        .get(&format!("/v1/helpdesk/requests/{id}"), Some(&tv))
        .await
        .json()
        .await
        .unwrap();
    let history = detail["history"].as_array().unwrap();
    assert_eq!(history.len(), 2, "{history:?}");
    assert_eq!(history[0]["from"], Value::Null);
    assert_eq!(history[0]["to"], "new");
    assert_eq!(history[0]["actor"], "Utente tv");
    assert_eq!(history[1]["from"], "new");
    assert_eq!(history[1]["to"], "in_progress");
    assert_eq!(history[1]["actor"], "Utente hd");
    assert_eq!(history[1]["reason"], "Presa in carico dal tecnico");
    assert!(history[1]["at"].as_str().unwrap().ends_with('Z'));

    // One audit line per move, without the reason (free text stays out of the audit log).
    let conn = rusqlite::Connection::open(app.config.db_path()).unwrap();
    let details: Vec<String> = conn
        .prepare(
            "SELECT detail FROM audit_log WHERE action = 'helpdesk.transition' AND resource = ?1",
        )
        .unwrap()
        .query_map([format!("helpdesk_request:{id}")], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(details, [r#"{"from":"new","to":"in_progress"}"#]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn help_desk_moves_racing_from_the_same_state_one_wins() {
    let app = TestApp::spawn("026").await;
    let operator = add_user(&app.config, "hd", &Role::Operator(Module::Helpdesk));
    let admin = add_user(&app.config, "boss", &Role::Admin);
    let tv = add_user(
        &app.config,
        "tv",
        &Role::Comune(ComuneCode::parse(TREVISO).unwrap()),
    );
    let mut requests = Vec::new();
    for n in 0..8 {
        requests.push(app.open_request(&tv, &format!("Richiesta {n}")).await);
    }
    // From `new`, one operator takes each request in charge while the administrator closes
    // it as a duplicate: both saw it new.
    let mut races = tokio::task::JoinSet::new();
    for &id in &requests {
        let url = app.url(&format!("/v1/helpdesk/requests/{id}/transitions"));
        for (token, to) in [(&operator, "in_progress"), (&admin, "closed")] {
            let (url, token) = (url.clone(), token.clone());
            races.spawn(async move {
                let response = post_owned(url, token, json!({"status": to, "from": "new"})).await;
                let status = response.status();
                (id, to, status, response.json::<Value>().await.unwrap())
            });
        }
    }
    let outcomes = races.join_all().await;
    let conn = rusqlite::Connection::open(app.config.db_path()).unwrap();
    for &id in &requests {
        let mine: Vec<_> = outcomes.iter().filter(|o| o.0 == id).collect();
        let won: Vec<_> = mine.iter().filter(|o| o.2 == StatusCode::OK).collect();
        let lost: Vec<_> = mine.iter().filter(|o| o.2 != StatusCode::OK).collect();
        assert_eq!((won.len(), lost.len()), (1, 1), "{mine:?}");
        assert_eq!(lost[0].2, StatusCode::CONFLICT);
        assert_eq!(lost[0].3["code"], "stale_state", "{:?}", lost[0]);
        let label = if won[0].1 == "closed" {
            "Chiusa"
        } else {
            "In lavorazione"
        };
        assert!(
            lost[0].3["detail"]
                .as_str()
                .unwrap()
                .contains(&format!("«{label}»"))
        );
        let (status, moves): (String, i64) = conn
            .query_row(
                "SELECT status, (SELECT count(*) FROM helpdesk_transitions t \
                 WHERE t.request_id = r.id AND t.from_state IS NOT NULL) FROM helpdesk_requests r WHERE id = ?1",
                [id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .unwrap();
        assert_eq!((status.as_str(), moves), (won[0].1, 1));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sua_moves_racing_from_the_same_state_one_wins() {
    let sua = Sua::spawn().await;
    let mut procedures = Vec::new();
    for _ in 0..4 {
        procedures.push(sua.procedure_in(State::Submitted).await);
    }
    // The SUA accepts each request while another operator returns it: both saw it
    // submitted. Without `from`, the return would be refused only by the machine (a
    // received procedure cannot be returned); with it, the loser is told it is stale.
    let mut races = tokio::task::JoinSet::new();
    for &id in &procedures {
        let url = sua.app.url(&format!("/v1/sua/procedures/{id}/transitions"));
        for (token, to) in [(&sua.sua, State::Received), (&sua.admin, State::Returned)] {
            let mut body = transition_body(to);
            body["from"] = json!("submitted");
            let (url, token) = (url.clone(), token.clone());
            races.spawn(async move {
                let response = post_owned(url, token, body).await;
                let status = response.status();
                (id, to, status, response.json::<Value>().await.unwrap())
            });
        }
    }
    let outcomes = races.join_all().await;
    for &id in &procedures {
        let mine: Vec<_> = outcomes.iter().filter(|o| o.0 == id).collect();
        let won: Vec<_> = mine.iter().filter(|o| o.2 == StatusCode::OK).collect();
        let lost: Vec<_> = mine.iter().filter(|o| o.2 != StatusCode::OK).collect();
        assert_eq!((won.len(), lost.len()), (1, 1), "{mine:?}");
        assert_eq!(lost[0].2, StatusCode::CONFLICT);
        assert_eq!(lost[0].3["code"], "stale_state", "{:?}", lost[0]);
        assert!(
            lost[0].3["detail"]
                .as_str()
                .unwrap()
                .starts_with("La procedura è stata modificata da un altro utente")
        );
        assert_eq!(sua.state_of(id).await, won[0].1.as_str());
        let (_, history) = sua
            .get(
                &format!("/v1/sua/procedures/{id}/transitions"),
                Some(&sua.admin),
            )
            .await;
        let history = history.as_array().unwrap();
        let last = history.last().unwrap();
        assert_eq!(last["from"], "submitted");
        assert_eq!(last["to"], won[0].1.as_str());
        assert_eq!(last["reason"], "Motivazione di prova");
        assert!(["Utente operatore.sua", "Utente boss"].contains(&last["actor"].as_str().unwrap()));
        assert_eq!(
            history
                .iter()
                .filter(|step| step["from"] == "submitted")
                .count(),
            1
        );
    }
}

#[test]
fn migration_9_copies_the_help_desk_moves_from_the_audit_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("node.db");
    {
        let db = Db::open(&path, &pico_node::db::MIGRATIONS[..8], 1).unwrap();
        let conn = db.get().unwrap();
        conn.execute_batch(
            "INSERT INTO comuni (code, name, name_it, name_other, cadastral_code, capoluogo)
                 VALUES ('026086', 'Treviso', 'Treviso', '', 'L407', 1);
             INSERT INTO users (id, username, display_name, password_hash, role, module, comune_code, created_at)
                 VALUES (1, 'tv', 'Anna Comune', 'x', 'comune', NULL, '026086', 1),
                        (2, 'hd', 'Marco Operatore', 'x', 'operator', 'helpdesk', NULL, 1);
             INSERT INTO helpdesk_requests (id, comune_code, category, subject, description, status, opened_by, created_at, updated_at)
                 VALUES (5, '026086', 'technical', 'Rete', 'Lenta', 'in_progress', 1, 100, 300);
             INSERT INTO audit_log (at, actor, actor_user_id, client_ip, action, resource, detail) VALUES
                 (100, 'user:tv', 1, 'x', 'helpdesk.open', 'helpdesk_request:5', '{}'),
                 (200, 'user:hd', 2, 'x', 'helpdesk.transition', 'helpdesk_request:5', '{\"from\":\"new\",\"to\":\"in_progress\"}'),
                 (250, 'user:hd', 2, 'x', 'helpdesk.transition', 'helpdesk_request:5', '{\"from\":\"in_progress\",\"to\":\"waiting_for_comune\"}'),
                 (300, 'user:tv', 1, 'x', 'helpdesk.transition', 'helpdesk_request:5', '{\"from\":\"waiting_for_comune\",\"to\":\"in_progress\",\"reason\":\"comune_reply\"}'),
                 (400, 'cli', NULL, 'local', 'helpdesk.transition', 'helpdesk_request:99', '{\"from\":\"new\",\"to\":\"closed\"}');",
        )
        .unwrap();
    }
    let db = Db::open(&path, pico_node::db::MIGRATIONS, 1).unwrap();
    let conn = db.get().unwrap();
    let rows: Vec<(Option<String>, String, String, String, i64)> = conn
        .prepare("SELECT from_state, to_state, reason, actor, at FROM helpdesk_transitions WHERE request_id = 5 ORDER BY id")
        .unwrap()
        .query_map([], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let step = |from: Option<&str>, to: &str, reason: &str, actor: &str, at: i64| {
        (
            from.map(str::to_owned),
            to.to_owned(),
            reason.to_owned(),
            actor.to_owned(),
            at,
        )
    };
    assert_eq!(
        rows,
        [
            step(None, "new", "", "Anna Comune", 100),
            step(Some("new"), "in_progress", "", "Marco Operatore", 200),
            step(
                Some("in_progress"),
                "waiting_for_comune",
                "",
                "Marco Operatore",
                250
            ),
            step(
                Some("waiting_for_comune"),
                "in_progress",
                "Risposta del Comune",
                "Anna Comune",
                300
            ),
        ]
    );
    // A move of a request that does not exist is not copied.
    let orphans: i64 = conn
        .query_row(
            "SELECT count(*) FROM helpdesk_transitions WHERE request_id = 99",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(orphans, 0);
}

#[tokio::test]
async fn a_page_form_moves_only_from_the_state_it_showed() {
    let app = TestApp::spawn("026").await;
    let token = add_user(&app.config, "hd", &Role::Operator(Module::Helpdesk));
    let tv = add_user(
        &app.config,
        "tv",
        &Role::Comune(ComuneCode::parse(TREVISO).unwrap()),
    );
    let id = app.open_request(&tv, "Stampante").await;
    let session = crate::helpers::login(&app, "hd").await;
    let page = session.page(&format!("/helpdesk/{id}")).await;
    assert!(page.contains("name=\"from\" value=\"new\""), "{page}");

    // Meanwhile a colleague takes the request in hand through the API.
    let moved = app
        .post_json(
            &format!("/v1/helpdesk/requests/{id}/transitions"),
            Some(&token),
            &json!({"status": "in_progress"}),
        )
        .await;
    assert_eq!(moved.status(), StatusCode::OK);

    // The page, still showing «Nuova», asks to wait for the Comune: refused, nothing moves.
    let form = [
        ("csrf", crate::helpers::form_csrf(&page)),
        ("from", "new".to_owned()),
        ("status", "waiting_for_comune".to_owned()),
    ];
    let response = session
        .client
        .post(app.url(&format!("/helpdesk/{id}/status")))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let html = response.text().await.unwrap();
    assert!(html.contains("ricarica la pagina"), "{html}");
    let detail: Value = app
        .get(&format!("/v1/helpdesk/requests/{id}"), Some(&token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(detail["request"]["status"], "in_progress", "{detail:#}");
    app.stop().await;
}
