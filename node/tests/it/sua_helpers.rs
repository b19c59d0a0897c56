//! Shared set-up of the SUA workflow tests: a Treviso node with one user per role, the
//! convenzioni, a valid request body, and a way to bring a fresh procedure to any state
//! through the API.

use std::sync::atomic::{AtomicU32, Ordering};

use pico_node::auth::{Module, Role};
use pico_node::sua::State;
use pico_protocol::ComuneCode;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, add_user};

/// Treviso, the owning Comune of most test procedures.
pub const TREVISO: &str = "026086";
/// Altivole, another Comune of the Province.
pub const ALTIVOLE: &str = "026001";
/// Arcade, a third Comune (no convenzione unless a test gives it one).
pub const ARCADE: &str = "026002";

/// Dates of the test tender, all in the past so awards are accepted.
pub const PUBLISHED_ON: &str = "2025-01-10";
pub const DEADLINE_ON: &str = "2025-02-10";
pub const AWARDED_ON: &str = "2025-03-01";
pub const CONTRACT_SIGNED_ON: &str = "2025-04-01";
pub const COMPLETED_ON: &str = "2025-12-01";

pub struct Sua {
    pub app: TestApp,
    pub admin: String,
    pub sua: String,
    /// An operator of another module (Help Desk).
    pub helpdesk: String,
    /// A Comune user of Treviso.
    pub tv: String,
    /// A Comune user of Altivole.
    pub alt: String,
    /// A Comune user of Arcade.
    pub arc: String,
    cig: AtomicU32,
}

impl Sua {
    /// A node with the users and a convenzione covering everything for Treviso and Altivole.
    pub async fn spawn() -> Sua {
        Sua::on(TestApp::spawn("026").await).await
    }

    /// The same users and convenzioni on a node already started (e.g. with a hub).
    pub async fn on(app: TestApp) -> Sua {
        let cfg = &app.config;
        let comune = |code: &str| Role::Comune(ComuneCode::parse(code).unwrap());
        let sua = Sua {
            admin: add_user(cfg, "boss", &Role::Admin),
            sua: add_user(cfg, "operatore.sua", &Role::Operator(Module::Sua)),
            helpdesk: add_user(cfg, "operatore.hd", &Role::Operator(Module::Helpdesk)),
            tv: add_user(cfg, "comune.treviso", &comune(TREVISO)),
            alt: add_user(cfg, "comune.altivole", &comune(ALTIVOLE)),
            arc: add_user(cfg, "comune.arcade", &comune(ARCADE)),
            app,
            cig: AtomicU32::new(1),
        };
        sua.convention(TREVISO, "all").await;
        sua.convention(ALTIVOLE, "all").await;
        sua
    }

    /// Records a convenzione in force since 2024 with no expiry; returns its id.
    pub async fn convention(&self, comune: &str, scope: &str) -> i64 {
        let response = self
            .app
            .post_json(
                "/v1/sua/conventions",
                Some(&self.sua),
                &json!({"comune_code": comune, "scope": scope, "valid_from": "2024-01-01",
                        "document_ref": "Delibera C.C. n. 12 del 15/01/2024"}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json::<Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap()
    }

    /// A fresh CIG, unique within the test.
    pub fn next_cig(&self) -> String {
        format!("Z{:09}", self.cig.fetch_add(1, Ordering::Relaxed))
    }

    /// Submits `body` as `token`; returns the response.
    pub async fn submit_raw(&self, token: &str, body: &Value) -> Response {
        self.app
            .post_json("/v1/sua/requests", Some(token), body)
            .await
    }

    /// Submits a valid request as `token`; returns its id.
    pub async fn submit(&self, token: &str) -> i64 {
        let response = self.submit_raw(token, &request_body()).await;
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_i64().unwrap()
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        let response = self.app.get(path, token).await;
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> (StatusCode, Value) {
        let response = self.app.post_json(path, token, body).await;
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let response = self.app.send_json(method, path, token, body).await;
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Moves procedure `id` to `to` as `token`, with the data `to` needs.
    pub async fn transition(&self, id: i64, to: State, token: Option<&str>) -> Response {
        self.app
            .post_json(
                &format!("/v1/sua/procedures/{id}/transitions"),
                token,
                &transition_body(to),
            )
            .await
    }

    /// Moves as `token` and asserts success.
    pub async fn step(&self, id: i64, to: State, token: &str) {
        let response = self.transition(id, to, Some(token)).await;
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, StatusCode::OK, "to {to:?}: {body}");
        assert_eq!(body["state"], to.as_str());
    }

    /// Adds a lot with a fresh CIG and a base of 150,000 euro; returns its id.
    pub async fn add_lot(&self, id: i64) -> i64 {
        let (status, lot) = self
            .post(
                &format!("/v1/sua/procedures/{id}/lots"),
                Some(&self.sua),
                &json!({"cig": self.next_cig(), "description": "Lotto unico", "amount": "150000.00"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{lot}");
        lot["id"].as_i64().unwrap()
    }

    /// Awards every lot of `id` to the same supplier at 132,000 euro.
    pub async fn award_all(&self, id: i64) {
        let (_, lots) = self
            .get(&format!("/v1/sua/procedures/{id}/lots"), Some(&self.sua))
            .await;
        for lot in lots.as_array().unwrap() {
            let (status, body) = self
                .send(
                    Method::PUT,
                    &format!("/v1/sua/procedures/{id}/lots/{}/award", lot["id"]),
                    Some(&self.sua),
                    Some(&award_body()),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
    }

    /// A new Treviso request brought to `state` through the API (by the SUA operator, or by
    /// the Comune for its own moves).
    pub async fn procedure_in(&self, state: State) -> i64 {
        let id = self.submit(&self.tv).await;
        let path: &[State] = match state {
            State::Submitted => &[],
            State::Returned => &[State::Returned],
            State::Withdrawn => &[State::Withdrawn],
            State::Received => &[State::Received],
            State::InPreparation => &[State::Received, State::InPreparation],
            State::Published => &[State::Received, State::InPreparation, State::Published],
            State::BidsClosed => &[
                State::Received,
                State::InPreparation,
                State::Published,
                State::BidsClosed,
            ],
            State::Evaluation | State::Awarded | State::ContractSigned | State::Completed => &[
                State::Received,
                State::InPreparation,
                State::Published,
                State::BidsClosed,
                State::Evaluation,
            ],
            State::Cancelled => &[State::Received, State::Cancelled],
            State::Deserted => &[
                State::Received,
                State::InPreparation,
                State::Published,
                State::Deserted,
            ],
        };
        for to in path {
            let token = if *to == State::Withdrawn {
                &self.tv
            } else {
                &self.sua
            };
            self.step(id, *to, token).await;
            // The SUA defines the lots while it prepares the procedure.
            if *to == State::InPreparation {
                self.add_lot(id).await;
            }
        }
        if matches!(
            state,
            State::Evaluation | State::Awarded | State::ContractSigned | State::Completed
        ) {
            // Awards are what an awarded procedure needs; a procedure in evaluation may
            // have them already.
            self.award_all(id).await;
            for to in [State::Awarded, State::ContractSigned, State::Completed] {
                if state < to {
                    break;
                }
                self.step(id, to, &self.sua).await;
            }
        }
        id
    }

    /// The state of `id` as the SUA sees it.
    pub async fn state_of(&self, id: i64) -> String {
        let (_, body) = self
            .get(&format!("/v1/sua/procedures/{id}"), Some(&self.sua))
            .await;
        body["procedure"]["state"].as_str().unwrap().to_owned()
    }
}

/// A valid request: services, 150,000 euro, open procedure, lowest price.
pub fn request_body() -> Value {
    json!({
        "object": "Servizio di manutenzione del verde pubblico 2026-2028",
        "description": "Sfalcio, potature e cura delle aiuole comunali.",
        "contract_type": "services",
        "cpv_main": "77310000-6",
        "cpv_other": ["77313000-7"],
        "estimated_amount": "150.000,00",
        "procedure_code": 1,
        "award_criterion": "lowest_price",
        "cup": "J51B21000120006",
        "funding_source": "Bilancio comunale",
        "pnrr": false,
        "rup_name": "Maria Rossi",
        "rup_email": "maria.rossi@comune.treviso.it",
        "desired_by": "2099-06-30"
    })
}

/// The body of a move to `to` with the data the SUA gives for it.
pub fn transition_body(to: State) -> Value {
    let mut body = json!({"to": to.as_str(), "reason": "Motivazione di prova"});
    match to {
        State::Published => {
            body["published_on"] = json!(PUBLISHED_ON);
            body["deadline_on"] = json!(DEADLINE_ON);
            body["anac_gara"] = json!("8315069");
        }
        State::ContractSigned => body["contract_signed_on"] = json!(CONTRACT_SIGNED_ON),
        State::Completed => body["completed_on"] = json!(COMPLETED_ON),
        _ => {}
    }
    body
}

/// An award of 132,000 euro to a real supplier identifier of the ANAC sample.
pub fn award_body() -> Value {
    json!({"supplier_name": "CO.GE.FA. S.R.L.", "supplier_cf": "03213200755", "amount": "132000.00",
           "awarded_on": AWARDED_ON, "bids_count": 4})
}
