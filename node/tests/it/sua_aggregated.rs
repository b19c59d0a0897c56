//! Aggregated initiatives: one procedure the SUA runs for several Comuni, each with its
//! share; every participating Comune follows it, the others do not see it.

use pico_node::sua::State;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::sua_helpers::{ALTIVOLE, ARCADE, Sua, TREVISO, request_body};

fn initiative(shares: &[(&str, &str)]) -> Value {
    let mut body = request_body();
    body["object"] = json!("Fornitura associata di articoli per ufficio 2026");
    body["contract_type"] = json!("supplies");
    body["cpv_main"] = json!("30192000-1");
    body["cpv_other"] = json!([]);
    body["estimated_amount"] = json!("200000,00");
    body["participants"] = json!(
        shares
            .iter()
            .map(|(code, share)| json!({"comune_code": code, "share": share}))
            .collect::<Vec<_>>()
    );
    body
}

fn error_fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_object()
        .map(|e| e.keys().cloned().collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn each_participating_comune_sees_its_share_and_the_others_do_not_see_it() {
    let sua = Sua::spawn().await;
    let (status, created) = sua
        .post(
            "/v1/sua/initiatives",
            Some(&sua.sua),
            &initiative(&[(TREVISO, "150.000,00"), (ALTIVOLE, "50000")]),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["aggregated"], true);
    assert_eq!(
        created["state"], "received",
        "the SUA's own initiative starts accepted"
    );
    assert!(created["comune_code"].is_null());
    assert_eq!(created["buyer_name"], "Provincia di Treviso");
    assert_eq!(
        created["participants"],
        json!([
            {"comune_code": ALTIVOLE, "comune_name": "Altivole", "share": "50000.00"},
            {"comune_code": TREVISO, "comune_name": "Treviso", "share": "150000.00"}
        ])
    );
    let path = format!("/v1/sua/procedures/{id}");
    for (token, status) in [
        (&sua.tv, StatusCode::OK),
        (&sua.alt, StatusCode::OK),
        (&sua.arc, StatusCode::NOT_FOUND),
        (&sua.helpdesk, StatusCode::FORBIDDEN),
        (&sua.admin, StatusCode::OK),
    ] {
        assert_eq!(sua.get(&path, Some(token)).await.0, status);
    }
    let in_list = |token: &str| {
        let token = token.to_owned();
        let sua = &sua;
        async move {
            let (_, page) = sua
                .get("/v1/sua/procedures?aggregated=true", Some(&token))
                .await;
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["id"] == id)
        }
    };
    assert!(in_list(&sua.tv).await);
    assert!(in_list(&sua.alt).await);
    assert!(!in_list(&sua.arc).await);
    let (_, by_comune) = sua
        .get(
            &format!("/v1/sua/procedures?comune={ALTIVOLE}"),
            Some(&sua.sua),
        )
        .await;
    assert_eq!(
        by_comune["items"][0]["id"], id,
        "a participant counts as served"
    );

    // Participants follow it but do not run it.
    let (_, detail) = sua.get(&path, Some(&sua.alt)).await;
    assert_eq!(detail["allowed_transitions"], json!([]));
    assert_eq!(detail["permissions"]["edit"], false);
    let (status, _) = sua
        .send(
            Method::PUT,
            &path,
            Some(&sua.alt),
            Some(&initiative(&[(TREVISO, "100000"), (ALTIVOLE, "100000")])),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let response = sua
        .transition(id, State::InPreparation, Some(&sua.tv))
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // The SUA changes the shares, which must still sum to the estimated amount.
    let shares = format!("{path}/participants");
    let (status, problem) = sua
        .send(
            Method::PUT,
            &shares,
            Some(&sua.sua),
            Some(&json!({"participants": [{"comune_code": TREVISO, "share": "120000"}, {"comune_code": ALTIVOLE, "share": "70000"}]})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        problem["errors"]["participants"]
            .as_str()
            .unwrap()
            .contains("190.000,00\u{a0}€"),
        "{problem}"
    );
    sua.convention(ARCADE, "goods_services").await;
    let (status, view) = sua
        .send(
            Method::PUT,
            &shares,
            Some(&sua.sua),
            Some(&json!({"participants": [{"comune_code": TREVISO, "share": "100000"}, {"comune_code": ALTIVOLE, "share": "50000"},
                                           {"comune_code": ARCADE, "share": "50000"}]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["participants"].as_array().unwrap().len(), 3);
    assert!(in_list(&sua.arc).await, "a Comune added later sees it");
    // Changing the estimated amount needs new shares in the same change.
    let mut edit = initiative(&[]);
    edit["estimated_amount"] = json!("210000");
    let (status, problem) = sua
        .send(Method::PUT, &path, Some(&sua.sua), Some(&edit))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&problem), ["participants"]);
    let edit = {
        let mut body = initiative(&[(TREVISO, "110000"), (ALTIVOLE, "50000"), (ARCADE, "50000")]);
        body["estimated_amount"] = json!("210000");
        body
    };
    let (status, view) = sua
        .send(Method::PUT, &path, Some(&sua.sua), Some(&edit))
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["estimated_amount"], "210000.00");

    // An ordinary procedure has no shares to change.
    let ordinary = sua.submit(&sua.tv).await;
    let (status, problem) = sua
        .send(
            Method::PUT,
            &format!("/v1/sua/procedures/{ordinary}/participants"),
            Some(&sua.sua),
            Some(&json!({"participants": [{"comune_code": TREVISO, "share": "75000"}, {"comune_code": ALTIVOLE, "share": "75000"}]})),
        )
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (StatusCode::CONFLICT, Some("not_aggregated"))
    );
}

#[tokio::test]
async fn shares_and_comuni_are_checked() {
    let sua = Sua::spawn().await;
    let attempt = |body: Value, token: String| {
        let sua = &sua;
        async move { sua.post("/v1/sua/initiatives", Some(&token), &body).await }
    };
    // Shares summing to something else.
    let (status, problem) = attempt(
        initiative(&[(TREVISO, "150000"), (ALTIVOLE, "49999,99")]),
        sua.sua.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let message = problem["errors"]["participants"].as_str().unwrap();
    assert!(
        message.contains("199.999,99\u{a0}€") && message.contains("200.000,00\u{a0}€"),
        "{message}"
    );
    // One Comune is not an aggregation.
    let (status, problem) = attempt(initiative(&[(TREVISO, "200000")]), sua.sua.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&problem), ["participants"]);
    // Each line is checked on its own: other Province, unknown Comune, duplicate, amount.
    let (status, problem) = attempt(
        initiative(&[
            ("017029", "50000"),
            ("026999", "50000"),
            (TREVISO, "50000"),
            (TREVISO, "cinquanta"),
        ]),
        sua.sua.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        error_fields(&problem),
        [
            "participants[0].comune_code",
            "participants[3].comune_code",
            "participants[3].share"
        ]
    );
    assert!(
        problem["errors"]["participants[0].comune_code"]
            .as_str()
            .unwrap()
            .contains("Provincia di Treviso")
    );
    assert!(
        problem["errors"]["participants[3].comune_code"]
            .as_str()
            .unwrap()
            .contains("più di una volta")
    );
    // Codes shaped right but not Comuni of this Province, and Comuni without a convenzione,
    // are found in the database.
    let (status, problem) = attempt(
        initiative(&[("026999", "100000"), (ARCADE, "50000"), (TREVISO, "50000")]),
        sua.sua.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        error_fields(&problem),
        ["participants[0].comune_code", "participants[1].comune_code"]
    );
    assert!(
        problem["errors"]["participants[0].comune_code"]
            .as_str()
            .unwrap()
            .contains("non è un Comune")
    );
    assert!(
        problem["errors"]["participants[1].comune_code"]
            .as_str()
            .unwrap()
            .contains("Arcade non ha una convenzione")
    );
    // A requesting Comune makes no sense for an initiative.
    let mut body = initiative(&[(TREVISO, "100000"), (ALTIVOLE, "100000")]);
    body["comune_code"] = json!(TREVISO);
    let (status, problem) = attempt(body, sua.sua.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&problem), ["comune_code"]);
    // Shares belong to initiatives only.
    let mut body = request_body();
    body["participants"] = json!([{"comune_code": TREVISO, "share": "150000"}]);
    let (status, problem) = sua.post("/v1/sua/requests", Some(&sua.tv), &body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_fields(&problem), ["participants"]);
    // Only SUA staff create initiatives.
    for token in [&sua.tv, &sua.helpdesk] {
        let (status, _) = attempt(
            initiative(&[(TREVISO, "100000"), (ALTIVOLE, "100000")]),
            token.clone(),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
    let (status, _) = attempt(
        initiative(&[(TREVISO, "100000"), (ALTIVOLE, "100000")]),
        sua.admin.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn an_initiative_runs_to_award_and_every_participant_sees_the_award() {
    let sua = Sua::spawn().await;
    let (_, created) = sua
        .post(
            "/v1/sua/initiatives",
            Some(&sua.sua),
            &initiative(&[(TREVISO, "100000"), (ALTIVOLE, "100000")]),
        )
        .await;
    let id = created["id"].as_i64().unwrap();
    sua.step(id, State::InPreparation, &sua.sua).await;
    sua.add_lot(id).await;
    for to in [State::Published, State::BidsClosed, State::Evaluation] {
        sua.step(id, to, &sua.sua).await;
    }
    sua.award_all(id).await;
    sua.step(id, State::Awarded, &sua.sua).await;
    for token in [&sua.tv, &sua.alt] {
        let (_, detail) = sua
            .get(&format!("/v1/sua/procedures/{id}"), Some(token))
            .await;
        assert_eq!(detail["procedure"]["state"], "awarded");
        assert_eq!(
            detail["lots"][0]["award"]["supplier_name"],
            "CO.GE.FA. S.R.L."
        );
        assert_eq!(detail["lots"][0]["award"]["ribasso"], "12.000");
    }
}
