//! The SUA workflow through the API: a request from a Comune to a completed procedure, the
//! data each state needs, validation messages per field, convenzioni, edits, lists,
//! attachments and the audit trail.

use pico_node::db;
use pico_node::sua::State;
use pico_service::Db;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::assert_problem;
use crate::sua_helpers::{
    ALTIVOLE, ARCADE, AWARDED_ON, DEADLINE_ON, PUBLISHED_ON, Sua, TREVISO, award_body,
    request_body, transition_body,
};

fn errors(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_object()
        .map(|e| e.keys().cloned().collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_request_runs_to_completion_with_lots_awards_and_history() {
    let sua = Sua::spawn().await;
    let (status, created) = sua
        .post("/v1/sua/requests", Some(&sua.tv), &request_body())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["state"], "submitted");
    assert_eq!(created["comune_code"], TREVISO);
    assert_eq!(created["buyer_name"], "Comune di Treviso");
    // Amounts on the wire are decimal strings, whatever the user typed.
    assert_eq!(created["estimated_amount"], "150000.00");
    assert_eq!(created["participants"][0]["share"], "150000.00");
    assert_eq!(created["cpv_other"], json!(["77313000-7"]));
    assert_eq!(created["source"], "api");
    assert_eq!(created["aggregated"], false);
    assert!(created["year"].as_i64().unwrap() >= 2026);

    // Accept, prepare, define the lots.
    sua.step(id, State::Received, &sua.sua).await;
    sua.step(id, State::InPreparation, &sua.sua).await;
    let lots_path = format!("/v1/sua/procedures/{id}/lots");
    let (_, lot1) = sua
        .post(
            &lots_path,
            Some(&sua.sua),
            &json!({"cig": "90940496a3", "description": "Zona nord", "amount": "100.000,00", "cpv": "77310000"}),
        )
        .await;
    assert_eq!(lot1["cig"], "90940496A3");
    assert_eq!(lot1["cpv"], "77310000-6");
    assert_eq!(lot1["lot_no"], 1);
    let (_, lot2) = sua
        .post(
            &lots_path,
            Some(&sua.sua),
            &json!({"description": "Zona sud", "amount": "50000"}),
        )
        .await;
    assert_eq!(lot2["lot_no"], 2);

    // Publishing needs the dates and a CIG on every lot.
    let publish = |body: Value| {
        let app = &sua.app;
        let token = sua.sua.clone();
        async move {
            app.post_json(
                &format!("/v1/sua/procedures/{id}/transitions"),
                Some(&token),
                &body,
            )
            .await
        }
    };
    let problem = assert_problem(
        publish(json!({"to": "published"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(errors(&problem), ["deadline_on", "published_on"]);
    let problem = assert_problem(
        publish(
            json!({"to": "published", "published_on": "2025-02-10", "deadline_on": "2025-02-10"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        problem["errors"]["deadline_on"]
            .as_str()
            .unwrap()
            .contains("deve seguire la pubblicazione"),
        "{problem}"
    );
    let problem = assert_problem(
        publish(transition_body(State::Published)).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(problem["code"], "lots_incomplete");
    assert!(
        problem["detail"].as_str().unwrap().contains("lotti 2"),
        "{problem}"
    );
    let (status, lot2) = sua
        .send(
            Method::PATCH,
            &format!("{lots_path}/{}", lot2["id"]),
            Some(&sua.sua),
            Some(&json!({"cig": "Z000000099"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{lot2}");
    sua.step(id, State::Published, &sua.sua).await;
    let (_, detail) = sua
        .get(&format!("/v1/sua/procedures/{id}"), Some(&sua.tv))
        .await;
    assert_eq!(detail["procedure"]["published_on"], PUBLISHED_ON);
    assert_eq!(detail["procedure"]["deadline_on"], DEADLINE_ON);
    assert_eq!(detail["procedure"]["anac_gara"], "8315069");

    // Once published, the lots' structure is fixed.
    let (status, problem) = sua
        .post(
            &lots_path,
            Some(&sua.sua),
            &json!({"description": "Tardi", "amount": "1"}),
        )
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::CONFLICT, Some("lots_locked"))
    );

    sua.step(id, State::BidsClosed, &sua.sua).await;
    // Bids are recorded once closed.
    let (status, patched) = sua
        .send(
            Method::PATCH,
            &format!("{lots_path}/{}", lot2["id"]),
            Some(&sua.sua),
            Some(&json!({"bids_count": 0})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["bids_count"], 0);
    sua.step(id, State::Evaluation, &sua.sua).await;

    // Lot 1 is awarded; the ribasso is computed from the amounts.
    let award_path = format!("{lots_path}/{}/award", lot1["id"]);
    let (status, awarded) = sua
        .send(
            Method::PUT,
            &award_path,
            Some(&sua.sua),
            Some(
                &json!({"supplier_name": "CO.GE.FA. S.R.L.", "supplier_cf": "IT03213200755",
                         "amount": "88.000,00", "awarded_on": AWARDED_ON, "bids_count": 5}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{awarded}");
    assert_eq!(awarded["status"], "awarded");
    assert_eq!(awarded["award"]["supplier_cf"], "03213200755");
    assert_eq!(awarded["award"]["amount"], "88000.00");
    assert_eq!(awarded["award"]["ribasso"], "12.000");
    assert_eq!(awarded["bids_count"], 5);

    // Awarding the procedure needs every lot awarded or closed.
    let problem = assert_problem(
        sua.transition(id, State::Awarded, Some(&sua.sua)).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(problem["code"], "lots_incomplete");
    assert!(problem["detail"].as_str().unwrap().contains("lotti 2"));
    let (status, _) = sua
        .send(
            Method::PATCH,
            &format!("{lots_path}/{}", lot2["id"]),
            Some(&sua.sua),
            Some(&json!({"status": "deserted"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    sua.step(id, State::Awarded, &sua.sua).await;
    let (_, detail) = sua
        .get(&format!("/v1/sua/procedures/{id}"), Some(&sua.tv))
        .await;
    // The procedure's award date defaults to the latest lot award.
    assert_eq!(detail["procedure"]["awarded_on"], AWARDED_ON);
    assert_eq!(detail["lots"][1]["status"], "deserted");

    // Contract and completion need their dates.
    let problem = assert_problem(
        sua.app
            .post_json(
                &format!("/v1/sua/procedures/{id}/transitions"),
                Some(&sua.sua),
                &json!({"to": "contract_signed", "contract_signed_on": "2025-02-01"}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        problem["errors"]["contract_signed_on"]
            .as_str()
            .unwrap()
            .contains("non può precedere l'aggiudicazione"),
        "{problem}"
    );
    sua.step(id, State::ContractSigned, &sua.sua).await;
    let problem = assert_problem(
        sua.app
            .post_json(
                &format!("/v1/sua/procedures/{id}/transitions"),
                Some(&sua.sua),
                &json!({"to": "completed"}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(errors(&problem), ["completed_on"]);
    sua.step(id, State::Completed, &sua.sua).await;

    // The Comune follows it all: data, award, timeline.
    let (status, detail) = sua
        .get(&format!("/v1/sua/procedures/{id}"), Some(&sua.tv))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(detail["procedure"]["state"], "completed");
    assert_eq!(
        detail["lots"][0]["award"]["supplier_name"],
        "CO.GE.FA. S.R.L."
    );
    assert_eq!(
        detail["lots"][0]["award"]["contract_signed_on"],
        "2025-04-01"
    );
    let steps: Vec<&str> = detail["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["to"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "submitted",
            "received",
            "in_preparation",
            "published",
            "bids_closed",
            "evaluation",
            "awarded",
            "contract_signed",
            "completed"
        ]
    );
    assert_eq!(detail["transitions"][0]["actor"], "Utente comune.treviso");
    assert_eq!(detail["transitions"][1]["actor"], "Utente operatore.sua");
    assert_eq!(detail["allowed_transitions"], json!([]));
    assert_eq!(detail["permissions"]["edit"], false);

    // A final procedure changes no more.
    let (status, problem) = sua
        .send(
            Method::PATCH,
            &format!("/v1/sua/procedures/{id}/tender"),
            Some(&sua.sua),
            Some(&json!({"anac_gara": "1"})),
        )
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::CONFLICT, Some("procedure_final"))
    );

    // Every change is in the audit log.
    let db = Db::open_existing(&sua.app.config.db_path(), db::MIGRATIONS, 1).unwrap();
    let events = db::audit::list(
        &db.get().unwrap(),
        Some(&format!("sua_procedure:{id}")),
        100,
    )
    .unwrap();
    let count = |action: &str| events.iter().filter(|e| e.action == action).count();
    assert_eq!(count("sua.request.submit"), 1);
    assert_eq!(count("sua.procedure.transition"), 8);
    assert_eq!(count("sua.lot.add"), 2);
    assert_eq!(count("sua.lot.award"), 1);
    assert_eq!(count("sua.lot.update"), 3);
    assert!(
        events
            .iter()
            .all(|e| !e.detail.to_string().contains("manutenzione"))
    );
}

#[tokio::test]
async fn every_invalid_field_has_its_own_message() {
    let sua = Sua::spawn().await;
    let body = json!({
        "object": "  ",
        "contract_type": "lavori",
        "cpv_main": "72322000-7",
        "cpv_other": ["4521", "45215214-0"],
        "estimated_amount": "12.345.67",
        "procedure_code": 99,
        "award_criterion": "cheapest",
        "cup": "J51B2100012000",
        "rup_name": "",
        "rup_email": "maria.rossi",
        "desired_by": "2026-02-30"
    });
    let problem = assert_problem(
        sua.submit_raw(&sua.tv, &body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(problem["code"], "invalid_field");
    assert_eq!(
        errors(&problem),
        [
            "award_criterion",
            "contract_type",
            "cpv_main",
            "cpv_other",
            "cup",
            "desired_by",
            "estimated_amount",
            "object",
            "procedure_code",
            "rup_email",
            "rup_name"
        ]
    );
    let message = |field: &str| problem["errors"][field].as_str().unwrap().to_owned();
    assert!(
        message("cpv_main").contains("72322000-8"),
        "the right code is suggested"
    );
    assert!(message("cpv_other").contains("4521"));
    assert!(message("cup").contains("15 caratteri"));
    assert!(message("estimated_amount").contains("12.345.67"));
    assert!(message("procedure_code").contains("1, 2, 3, 4, 5, 24, 27, 34"));
    assert!(message("rup_email").contains("maria.rossi"));
    assert!(message("object").contains("obbligatorio"));
    assert!(problem["detail"].as_str().unwrap().contains("cpv_main"));

    // Cross-field rules.
    let mut body = request_body();
    body["contract_type"] = json!("works");
    body["pnrr"] = json!(true);
    body["cup"] = json!(null);
    body["estimated_amount"] = json!("0");
    body["desired_by"] = json!("2020-01-01");
    let problem = assert_problem(
        sua.submit_raw(&sua.tv, &body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        errors(&problem),
        ["cpv_main", "cup", "desired_by", "estimated_amount"]
    );
    assert!(
        problem["errors"]["cpv_main"]
            .as_str()
            .unwrap()
            .contains("divisione 45")
    );
    assert!(problem["errors"]["cup"].as_str().unwrap().contains("PNRR"));
    assert!(
        problem["errors"]["desired_by"]
            .as_str()
            .unwrap()
            .contains("passato")
    );
    assert!(
        problem["errors"]["estimated_amount"]
            .as_str()
            .unwrap()
            .contains("maggiore di zero")
    );

    // Wrong JSON shapes are the decoder's 422, unknown fields included.
    let mut body = request_body();
    body["colour"] = json!("blue");
    assert_problem(
        sua.submit_raw(&sua.tv, &body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;

    // Lots: CIG; awards: codice fiscale / partita IVA, amounts, ribasso, dates.
    let id = sua.procedure_in(State::InPreparation).await;
    let (status, problem) = sua
        .post(
            &format!("/v1/sua/procedures/{id}/lots"),
            Some(&sua.sua),
            &json!({"cig": "90940496A", "description": "", "amount": "-5", "cpv": "1234"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(errors(&problem), ["amount", "cig", "cpv", "description"]);
    assert!(
        problem["errors"]["cig"]
            .as_str()
            .unwrap()
            .contains("10 caratteri")
    );
    // A CIG belongs to one lot only.
    let (_, lots) = sua
        .get(&format!("/v1/sua/procedures/{id}/lots"), Some(&sua.sua))
        .await;
    let taken = lots[0]["cig"].as_str().unwrap().to_owned();
    let (status, problem) = sua
        .post(
            &format!("/v1/sua/procedures/{id}/lots"),
            Some(&sua.sua),
            &json!({"cig": taken, "description": "Doppio", "amount": "10"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        problem["errors"]["cig"]
            .as_str()
            .unwrap()
            .contains("già assegnato al lotto 1"),
        "{problem}"
    );

    let id = sua.procedure_in(State::BidsClosed).await;
    sua.step(id, State::Evaluation, &sua.sua).await;
    let (_, lots) = sua
        .get(&format!("/v1/sua/procedures/{id}/lots"), Some(&sua.sua))
        .await;
    let award_path = format!("/v1/sua/procedures/{id}/lots/{}/award", lots[0]["id"]);
    let (status, problem) = sua
        .send(
            Method::PUT,
            &award_path,
            Some(&sua.sua),
            Some(
                &json!({"supplier_name": "", "supplier_cf": "03213200756", "amount": "abc",
                         "ribasso": "12,3456", "awarded_on": "2099-01-01", "bids_count": 0}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        errors(&problem),
        [
            "amount",
            "awarded_on",
            "bids_count",
            "ribasso",
            "supplier_cf",
            "supplier_name"
        ]
    );
    assert!(
        problem["errors"]["supplier_cf"]
            .as_str()
            .unwrap()
            .contains("cifra di controllo")
    );
    assert!(
        problem["errors"]["awarded_on"]
            .as_str()
            .unwrap()
            .contains("futuro")
    );
    for cf in ["0321320075", "RNAGPP54B15L328N"] {
        let mut body = award_body();
        body["supplier_cf"] = json!(cf);
        let (status, problem) = sua
            .send(Method::PUT, &award_path, Some(&sua.sua), Some(&body))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{cf}");
        assert_eq!(errors(&problem), ["supplier_cf"]);
    }
    // A person's codice fiscale and a ribasso given explicitly are kept as given.
    let mut body = award_body();
    body["supplier_cf"] = json!("rnagpp54b15l328m");
    body["ribasso"] = json!("11,5");
    let (status, lot) = sua
        .send(Method::PUT, &award_path, Some(&sua.sua), Some(&body))
        .await;
    assert_eq!(status, StatusCode::OK, "{lot}");
    assert_eq!(lot["award"]["supplier_cf"], "RNAGPP54B15L328M");
    assert_eq!(lot["award"]["ribasso"], "11.500");
    // An award cannot precede the publication.
    let mut body = award_body();
    body["awarded_on"] = json!("2024-12-31");
    let (status, problem) = sua
        .send(Method::PUT, &award_path, Some(&sua.sua), Some(&body))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        problem["errors"]["awarded_on"]
            .as_str()
            .unwrap()
            .contains("10/01/2025")
    );

    // Reasons are required to return, cancel and declare deserted.
    let id = sua.submit(&sua.tv).await;
    for to in ["returned", "cancelled"] {
        let (status, problem) = sua
            .post(
                &format!("/v1/sua/procedures/{id}/transitions"),
                Some(&sua.sua),
                &json!({"to": to, "reason": "  "}),
            )
            .await;
        if to == "returned" {
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(errors(&problem), ["reason"]);
        } else {
            assert_eq!(status, StatusCode::CONFLICT);
        }
    }
    let id = sua.procedure_in(State::Published).await;
    for to in ["cancelled", "deserted"] {
        let (status, problem) = sua
            .post(
                &format!("/v1/sua/procedures/{id}/transitions"),
                Some(&sua.sua),
                &json!({"to": to}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{to}");
        assert_eq!(errors(&problem), ["reason"]);
    }
}

#[tokio::test]
async fn a_comune_needs_a_convenzione_in_force_for_the_contract_type() {
    let sua = Sua::spawn().await;
    let arcade_request = || {
        let mut body = request_body();
        body["rup_email"] = json!("rup@comune.arcade.tv.it");
        body
    };
    // No convenzione at all.
    let problem = assert_problem(
        sua.submit_raw(&sua.arc, &arcade_request()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(problem["code"], "no_convention");
    assert!(
        problem["errors"]["contract_type"]
            .as_str()
            .unwrap()
            .contains("Il Comune di Arcade non ha una convenzione in vigore"),
        "{problem}"
    );
    // Staff submitting on the Comune's behalf meet the same rule.
    let mut on_behalf = arcade_request();
    on_behalf["comune_code"] = json!(ARCADE);
    let problem = assert_problem(
        sua.submit_raw(&sua.sua, &on_behalf).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(problem["code"], "no_convention");

    // A convenzione for works does not cover services.
    let works = sua.convention(ARCADE, "works").await;
    let problem = assert_problem(
        sua.submit_raw(&sua.arc, &arcade_request()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let message = problem["errors"]["contract_type"].as_str().unwrap();
    assert!(message.contains("copre solo lavori"), "{message}");
    assert!(message.contains("servizi"), "{message}");

    // Not yet in force, expired, revoked: none counts.
    for (from, until) in [("2099-01-01", None), ("2020-01-01", Some("2021-12-31"))] {
        let (status, _) = sua
            .post(
                "/v1/sua/conventions",
                Some(&sua.sua),
                &json!({"comune_code": ARCADE, "scope": "goods_services", "valid_from": from,
                        "valid_until": until, "document_ref": "Delibera"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        assert_problem(
            sua.submit_raw(&sua.arc, &arcade_request()).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let all = sua.convention(ARCADE, "goods_services").await;
    let (status, body) = sua
        .post("/v1/sua/requests", Some(&sua.arc), &arcade_request())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, revoked) = sua
        .post(
            &format!("/v1/sua/conventions/{all}/revocation"),
            Some(&sua.sua),
            &json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(revoked["in_force"], false);
    assert!(revoked["revoked_at"].is_string());
    let (status, _) = sua
        .post(
            &format!("/v1/sua/conventions/{all}/revocation"),
            Some(&sua.sua),
            &json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_problem(
        sua.submit_raw(&sua.arc, &arcade_request()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    // The works convenzione still covers works.
    let mut works_request = arcade_request();
    works_request["contract_type"] = json!("works");
    works_request["cpv_main"] = json!("45233141-9");
    works_request["cpv_other"] = json!([]);
    let (status, body) = sua
        .post("/v1/sua/requests", Some(&sua.arc), &works_request)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // Who sees and manages convenzioni.
    let (_, mine) = sua.get("/v1/sua/conventions", Some(&sua.arc)).await;
    assert!(
        mine["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["comune_code"] == ARCADE)
    );
    assert_eq!(
        mine["items"].as_array().unwrap().len(),
        3,
        "revoked ones are hidden by default"
    );
    let (_, with_revoked) = sua
        .get("/v1/sua/conventions?include_revoked=true", Some(&sua.arc))
        .await;
    assert_eq!(with_revoked["items"].as_array().unwrap().len(), 4);
    let (_, sneaky) = sua
        .get(
            &format!("/v1/sua/conventions?comune={TREVISO}"),
            Some(&sua.arc),
        )
        .await;
    assert!(
        sneaky["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["comune_code"] == ARCADE)
    );
    let (status, _) = sua
        .get(&format!("/v1/sua/conventions/{works}"), Some(&sua.tv))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, one) = sua
        .get(&format!("/v1/sua/conventions/{works}"), Some(&sua.arc))
        .await;
    assert_eq!(
        (status, one["scope"].as_str()),
        (StatusCode::OK, Some("works"))
    );
    let (status, _) = sua.get("/v1/sua/conventions", Some(&sua.helpdesk)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = sua.get("/v1/sua/conventions", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = sua
        .post(
            "/v1/sua/conventions",
            Some(&sua.arc),
            &json!({"comune_code": ARCADE, "scope": "all", "valid_from": "2024-01-01", "document_ref": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, problem) = sua
        .post(
            "/v1/sua/conventions",
            Some(&sua.admin),
            &json!({"comune_code": "017029", "scope": "any", "valid_from": "2024-13-01",
                    "valid_until": "2023-01-01", "document_ref": ""}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        errors(&problem),
        ["comune_code", "document_ref", "scope", "valid_from"]
    );
    let (status, problem) = sua
        .post(
            "/v1/sua/conventions",
            Some(&sua.admin),
            &json!({"comune_code": "026999", "scope": "all", "valid_from": "2024-02-01",
                    "valid_until": "2024-01-01", "document_ref": "Delibera"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(errors(&problem), ["valid_until"]);
    let (status, problem) = sua
        .post(
            "/v1/sua/conventions",
            Some(&sua.admin),
            &json!({"comune_code": "026999", "scope": "all", "valid_from": "2024-02-01", "document_ref": "Delibera"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(errors(&problem), ["comune_code"]);
}

#[tokio::test]
async fn the_comune_corrects_resubmits_and_withdraws_its_request() {
    let sua = Sua::spawn().await;
    let id = sua.submit(&sua.tv).await;
    let path = format!("/v1/sua/procedures/{id}");
    let mut body = request_body();
    body["estimated_amount"] = json!("160000");
    body["object"] = json!("Manutenzione del verde 2026-2028, lotti nord e sud");
    let (status, view) = sua
        .send(Method::PUT, &path, Some(&sua.tv), Some(&body))
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["estimated_amount"], "160000.00");
    assert_eq!(view["participants"][0]["share"], "160000.00");
    // It cannot move its request to another Comune, nor another Comune touch it.
    let mut moved = body.clone();
    moved["comune_code"] = json!(ALTIVOLE);
    let (status, problem) = sua
        .send(Method::PUT, &path, Some(&sua.tv), Some(&moved))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(errors(&problem), ["comune_code"]);
    let (status, _) = sua
        .send(Method::PUT, &path, Some(&sua.alt), Some(&body))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = sua
        .send(Method::PUT, &path, Some(&sua.helpdesk), Some(&body))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Returned with a reason the Comune reads.
    let (status, returned) = sua
        .post(
            &format!("{path}/transitions"),
            Some(&sua.sua),
            &json!({"to": "returned", "reason": "Manca il quadro economico."}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(returned["return_reason"], "Manca il quadro economico.");
    let (_, detail) = sua.get(&path, Some(&sua.tv)).await;
    assert_eq!(
        detail["allowed_transitions"],
        json!(["submitted", "withdrawn"])
    );
    assert_eq!(detail["permissions"]["edit"], true);
    assert_eq!(detail["permissions"]["manage"], false);
    let (status, _) = sua
        .send(Method::PUT, &path, Some(&sua.tv), Some(&body))
        .await;
    assert_eq!(status, StatusCode::OK);
    sua.step(id, State::Submitted, &sua.tv).await;
    let (_, detail) = sua.get(&path, Some(&sua.tv)).await;
    assert!(detail["procedure"]["return_reason"].is_null());
    assert_eq!(
        detail["transitions"][1]["reason"],
        "Manca il quadro economico."
    );

    // Accepted: the request is the SUA's now.
    sua.step(id, State::Received, &sua.sua).await;
    let (status, _) = sua
        .send(Method::PUT, &path, Some(&sua.tv), Some(&body))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = sua
        .send(Method::PUT, &path, Some(&sua.sua), Some(&body))
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the SUA corrects an accepted procedure"
    );
    let (_, detail) = sua.get(&path, Some(&sua.tv)).await;
    assert!(detail["procedure"]["accepted_at"].is_string());
    assert_eq!(detail["allowed_transitions"], json!([]));

    // Another request is withdrawn.
    let other = sua.submit(&sua.tv).await;
    sua.step(other, State::Withdrawn, &sua.tv).await;
    let (status, _) = sua
        .send(
            Method::PUT,
            &format!("/v1/sua/procedures/{other}"),
            Some(&sua.tv),
            Some(&body),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn lists_filter_by_state_comune_year_type_and_text_and_paginate() {
    let sua = Sua::spawn().await;
    let first = sua.submit(&sua.tv).await;
    let second = sua.procedure_in(State::Published).await;
    let mut works = request_body();
    works["contract_type"] = json!("works");
    works["cpv_main"] = json!("45233141-9");
    works["cpv_other"] = json!([]);
    works["object"] = json!("Asfaltatura di via Roma");
    let (_, alt) = sua.post("/v1/sua/requests", Some(&sua.alt), &works).await;
    let alt = alt["id"].as_i64().unwrap();

    let ids = |page: &Value| -> Vec<i64> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_i64().unwrap())
            .collect()
    };
    let list = |query: &str, token: &str| {
        let path = format!("/v1/sua/procedures{query}");
        let token = token.to_owned();
        let sua = &sua;
        async move { sua.get(&path, Some(&token)).await.1 }
    };
    assert_eq!(ids(&list("", &sua.sua).await), [alt, second, first]);
    assert_eq!(ids(&list("", &sua.tv).await), [second, first]);
    assert_eq!(ids(&list("", &sua.alt).await), [alt]);
    assert_eq!(ids(&list("", &sua.arc).await), Vec::<i64>::new());
    assert_eq!(
        ids(&list(&format!("?comune={ALTIVOLE}"), &sua.tv).await),
        [second, first]
    );
    assert_eq!(
        ids(&list(&format!("?comune={ALTIVOLE}"), &sua.sua).await),
        [alt]
    );
    assert_eq!(ids(&list("?state=published", &sua.sua).await), [second]);
    assert_eq!(ids(&list("?requests=true", &sua.sua).await), [alt, first]);
    assert_eq!(ids(&list("?contract_type=works", &sua.sua).await), [alt]);
    assert_eq!(ids(&list("?q=via%20roma", &sua.sua).await), [alt]);
    assert_eq!(
        ids(&list("?q=Z000000001", &sua.sua).await),
        [second],
        "by CIG"
    );
    assert_eq!(
        ids(&list("?q=J51B21000120006", &sua.tv).await),
        [second, first],
        "by CUP"
    );
    assert_eq!(
        ids(&list("?q=100%25", &sua.sua).await),
        Vec::<i64>::new(),
        "% is literal"
    );
    let year = pico_node::sua::day::Day::today().year();
    assert_eq!(
        ids(&list(&format!("?year={year}"), &sua.sua).await).len(),
        3
    );
    assert_eq!(ids(&list("?year=2001", &sua.sua).await), Vec::<i64>::new());

    let page1 = list("?limit=2", &sua.sua).await;
    assert_eq!(ids(&page1), [alt, second]);
    let cursor = page1["next"].as_str().unwrap();
    let page2 = list(&format!("?limit=2&cursor={cursor}"), &sua.sua).await;
    assert_eq!(ids(&page2), [first]);
    assert!(page2["next"].is_null());
    let (status, _) = sua
        .get("/v1/sua/procedures?cursor=bogus", Some(&sua.sua))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = sua
        .get("/v1/sua/procedures?state=unknown", Some(&sua.sua))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = sua.get("/v1/sua/procedures", Some(&sua.helpdesk)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = sua.get("/v1/sua/procedures", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Another Comune's procedure does not exist for a Comune user.
    for path in [
        format!("/v1/sua/procedures/{alt}"),
        format!("/v1/sua/procedures/{alt}/lots"),
        format!("/v1/sua/procedures/{alt}/transitions"),
        format!("/v1/sua/procedures/{alt}/attachments"),
    ] {
        let (status, _) = sua.get(&path, Some(&sua.tv)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        let (status, _) = sua.get(&path, Some(&sua.alt)).await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn attachments_follow_who_may_see_and_edit() {
    let sua = Sua::spawn().await;
    let id = sua.submit(&sua.tv).await;
    let upload = |token: &str, name: &str, media: &str, bytes: &[u8]| {
        let token = token.to_owned();
        let path = format!("/v1/sua/procedures/{id}/attachments?filename={name}");
        let bytes = bytes.to_vec();
        let media = media.to_owned();
        let app = &sua.app;
        async move { app.post_raw(&path, &token, &media, bytes).await }
    };
    let response = upload(
        &sua.tv,
        "capitolato.pdf",
        "application/pdf",
        b"%PDF-1.7 capitolato",
    )
    .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let attachment: Value = response.json().await.unwrap();
    assert_eq!(attachment["filename"], "capitolato.pdf");
    assert_eq!(attachment["uploaded_by"], "Utente comune.treviso");
    assert_eq!(attachment["sha256"].as_str().unwrap().len(), 64);
    let file = format!("/v1/sua/procedures/{id}/attachments/{}", attachment["id"]);
    for (token, status) in [
        (&sua.tv, 200),
        (&sua.sua, 200),
        (&sua.alt, 404),
        (&sua.helpdesk, 403),
    ] {
        let response = sua.app.get(&file, Some(token)).await;
        assert_eq!(response.status().as_u16(), status);
        if status == 200 {
            assert_eq!(response.headers()["content-type"], "application/pdf");
            assert_eq!(
                response.bytes().await.unwrap().as_ref(),
                b"%PDF-1.7 capitolato"
            );
        }
    }
    assert_eq!(
        upload(&sua.tv, "x.exe", "application/x-msdownload", b"MZ")
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        upload(&sua.alt, "x.pdf", "application/pdf", b"x")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    // Once accepted, the Comune no longer adds files; the SUA does.
    sua.step(id, State::Received, &sua.sua).await;
    assert_eq!(
        upload(&sua.tv, "y.pdf", "application/pdf", b"y")
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        upload(&sua.sua, "bando.pdf", "application/pdf", b"bando")
            .await
            .status(),
        StatusCode::CREATED
    );
    let (_, list) = sua
        .get(
            &format!("/v1/sua/procedures/{id}/attachments"),
            Some(&sua.tv),
        )
        .await;
    assert_eq!(list.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn lots_are_managed_by_the_sua_in_the_right_states() {
    let sua = Sua::spawn().await;
    let id = sua.submit(&sua.tv).await;
    let lots = format!("/v1/sua/procedures/{id}/lots");
    let new_lot = json!({"description": "Lotto", "amount": "150000"});
    // Not before acceptance, never by a Comune.
    let (status, problem) = sua.post(&lots, Some(&sua.sua), &new_lot).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::CONFLICT, Some("lots_locked"))
    );
    let (status, _) = sua.post(&lots, Some(&sua.tv), &new_lot).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    sua.step(id, State::Received, &sua.sua).await;
    let (_, a) = sua.post(&lots, Some(&sua.sua), &new_lot).await;
    let (_, b) = sua.post(&lots, Some(&sua.sua), &new_lot).await;
    let (_, c) = sua.post(&lots, Some(&sua.sua), &new_lot).await;
    assert_eq!(
        (a["lot_no"].as_i64(), c["lot_no"].as_i64()),
        (Some(1), Some(3))
    );
    // Deleting renumbers.
    let (status, _) = sua
        .send(
            Method::DELETE,
            &format!("{lots}/{}", b["id"]),
            Some(&sua.sua),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, list) = sua.get(&lots, Some(&sua.tv)).await;
    let numbers: Vec<i64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["lot_no"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [1, 2]);
    // Bids wait for the bids to close; awards for the evaluation.
    let (status, problem) = sua
        .send(
            Method::PATCH,
            &format!("{lots}/{}", a["id"]),
            Some(&sua.sua),
            Some(&json!({"bids_count": 3})),
        )
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::CONFLICT, Some("bids_not_closed"))
    );
    let (status, problem) = sua
        .send(
            Method::PUT,
            &format!("{lots}/{}/award", a["id"]),
            Some(&sua.sua),
            Some(&award_body()),
        )
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::CONFLICT, Some("not_in_evaluation"))
    );
    let (status, _) = sua
        .send(
            Method::GET,
            &format!("/v1/sua/procedures/{id}/lots/{}", a["id"]),
            Some(&sua.sua),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);

    // Through evaluation: award, clear, re-award, close the other lot; a closed lot cannot
    // be awarded until reactivated.
    for (lot, cig) in [(&a, "Z100000001"), (&c, "Z100000002")] {
        sua.send(
            Method::PATCH,
            &format!("{lots}/{}", lot["id"]),
            Some(&sua.sua),
            Some(&json!({"cig": cig})),
        )
        .await;
    }
    sua.step(id, State::InPreparation, &sua.sua).await;
    sua.step(id, State::Published, &sua.sua).await;
    sua.step(id, State::BidsClosed, &sua.sua).await;
    sua.step(id, State::Evaluation, &sua.sua).await;
    let award_a = format!("{lots}/{}/award", a["id"]);
    let (status, _) = sua
        .send(Method::PUT, &award_a, Some(&sua.sua), Some(&award_body()))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, cleared) = sua
        .send(Method::DELETE, &award_a, Some(&sua.sua), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(cleared["award"].is_null());
    assert_eq!(cleared["status"], "active");
    sua.send(Method::PUT, &award_a, Some(&sua.sua), Some(&award_body()))
        .await;
    sua.send(
        Method::PATCH,
        &format!("{lots}/{}", c["id"]),
        Some(&sua.sua),
        Some(&json!({"status": "cancelled"})),
    )
    .await;
    let (status, problem) = sua
        .send(
            Method::PUT,
            &format!("{lots}/{}/award", c["id"]),
            Some(&sua.sua),
            Some(&award_body()),
        )
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::CONFLICT, Some("lot_closed"))
    );
    let (status, problem) = sua
        .send(
            Method::PATCH,
            &format!("{lots}/{}", a["id"]),
            Some(&sua.sua),
            Some(&json!({"status": "deserted"})),
        )
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::CONFLICT, Some("lot_awarded"))
    );
    sua.step(id, State::Awarded, &sua.sua).await;
    // After the award, an award is corrected but not removed.
    let mut corrected = award_body();
    corrected["amount"] = json!("135000");
    let (status, lot) = sua
        .send(Method::PUT, &award_a, Some(&sua.sua), Some(&corrected))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(lot["award"]["ribasso"], "10.000");
    let (status, _) = sua
        .send(Method::DELETE, &award_a, Some(&sua.sua), None)
        .await;
    assert_eq!(status, StatusCode::CONFLICT);

    // A deserted procedure closes its open lots.
    let deserted = sua.procedure_in(State::Published).await;
    sua.step(deserted, State::Deserted, &sua.sua).await;
    let (_, list) = sua
        .get(
            &format!("/v1/sua/procedures/{deserted}/lots"),
            Some(&sua.sua),
        )
        .await;
    assert_eq!(list[0]["status"], "deserted");
    let (status, _) = sua
        .post(
            &format!("/v1/sua/procedures/{deserted}/transitions"),
            Some(&sua.sua),
            &json!({"to": "awarded"}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    // Awarding with no awarded lot at all points to "deserted".
    let empty = sua.procedure_in(State::Evaluation).await;
    let (_, list) = sua
        .get(&format!("/v1/sua/procedures/{empty}/lots"), Some(&sua.sua))
        .await;
    let lot = &list[0];
    sua.send(
        Method::DELETE,
        &format!("/v1/sua/procedures/{empty}/lots/{}/award", lot["id"]),
        Some(&sua.sua),
        None,
    )
    .await;
    sua.send(
        Method::PATCH,
        &format!("/v1/sua/procedures/{empty}/lots/{}", lot["id"]),
        Some(&sua.sua),
        Some(&json!({"status": "deserted"})),
    )
    .await;
    let problem = assert_problem(
        sua.transition(empty, State::Awarded, Some(&sua.sua)).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(
        problem["detail"].as_str().unwrap().contains("deserta"),
        "{problem}"
    );
}
