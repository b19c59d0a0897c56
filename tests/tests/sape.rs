//! The national view of EU funds with real processes: three Province nodes (Treviso, Brescia,
//! Padova) enter a call each, build SAPE proposals with their Comuni and foreign partners,
//! record the outcomes, and turn their derived `sape_progetti` dataset national; the hub's
//! SAPE summary, Comuni, funded projects and page show exactly the figures computed by hand
//! from the budgets, and follow a later change.

#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on unexpected input"
)]

use pico_system_tests::federation::{Hub, Node, PATIENCE, system_root, wait_until};
use reqwest::Method;
use serde_json::{Value, json};

/// Sends `body` to the node's API as its administrator; returns the JSON answer.
fn send(node: &mut Node, method: Method, path: &str, body: &Value) -> Value {
    let response = node.api(method, path).unwrap().json(body).send().unwrap();
    let status = response.status();
    let text = response.text().unwrap();
    assert!(status.is_success(), "{path}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Enters a call of `programme` closing on 30/06/2027 (so its proposals are of 2027), with
/// a 100 % funding rate; returns its id.
fn enter_call(node: &mut Node, identifier: &str, programme: &str, management: &str) -> i64 {
    let call = send(
        node,
        Method::POST,
        "/v1/sape/calls",
        &json!({
            "identifier": identifier,
            "title": format!("Bando {identifier}"),
            "programme": programme,
            "management": management,
            "deadline_model": "single_stage",
            "opening_date": "2026-01-01",
            "deadlines": ["2027-06-30"],
            "funding_rate": 100
        }),
    );
    call["id"].as_i64().unwrap()
}

/// A partner whose budget is `months` person-months at 1.000 € (plus the 25 % flat rate of
/// indirect costs) funded at 100 %: an EU contribution of `months` × 1.250,00 €.
fn partner(name: &str, country: &str, role: &str, comune: Option<&str>, months: u32) -> Value {
    // Every beneficiary has a PIC: nine digits made from its name, distinct here.
    let pic = 900_000_000 + name.bytes().map(u32::from).sum::<u32>() * 1_000 + months;
    let mut partner = json!({
        "name": name, "country": country, "role": role, "pic": pic.to_string(),
        "personnel_unit": "month", "personnel_quantity": months.to_string(),
        "personnel_rate": "1000", "funding_rate": 100
    });
    if let Some(code) = comune {
        partner["comune_code"] = json!(code);
    }
    partner
}

/// Creates a proposal for `call` and moves it through `states`; returns its id.
fn propose(node: &mut Node, call: i64, acronym: &str, partners: &[Value], states: &[&str]) -> i64 {
    let comuni: Vec<&str> = partners
        .iter()
        .filter_map(|p| p["comune_code"].as_str())
        .collect();
    let created = send(
        node,
        Method::POST,
        "/v1/sape/proposals",
        &json!({
            "call_id": call,
            "title": format!("Progetto {acronym}"),
            "acronym": acronym,
            "province_role": "coordinator",
            "comuni": comuni,
            "partners": partners,
        }),
    );
    let id = created["id"].as_i64().unwrap();
    for state in states {
        send(
            node,
            Method::POST,
            &format!("/v1/sape/proposals/{id}/transitions"),
            &json!({"state": state}),
        );
    }
    id
}

const TO_SUBMISSION: [&str; 2] = ["in_preparation", "submitted"];

fn summary(hub: &Hub, query: &str) -> Value {
    let answer = hub.get(&format!("/v1/sape/summary?{query}")).unwrap();
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body
}

#[test]
fn three_provinces_publishing_their_proposals_make_the_national_view_of_eu_funds() {
    let root = system_root().unwrap();
    let hub = Hub::start(root.path()).unwrap();
    let hub_url = hub.url();
    let mut nodes = hub
        .enrol_new_nodes(root.path(), &["026", "017", "028"])
        .unwrap();
    for node in &mut nodes {
        node.serve(&hub_url).unwrap();
    }
    let [treviso, brescia, padova] = &mut nodes[..] else {
        unreachable!()
    };

    // Treviso: VERDE (the Province 10 months, the Comune of Treviso 4) funded; CANALI
    // (Altivole 8 months) not funded.
    let call = enter_call(treviso, "FESR-VEN-2027-01", "fesr", "indirect");
    let evaluated_then = |outcome: &'static str| {
        let mut states = TO_SUBMISSION.to_vec();
        states.extend(["evaluated", outcome]);
        states
    };
    propose(
        treviso,
        call,
        "VERDE",
        &[
            partner("Provincia di Treviso", "IT", "coordinator", None, 10),
            partner("Comune di Treviso", "IT", "beneficiary", Some("026086"), 4),
        ],
        &evaluated_then("funded"),
    );
    propose(
        treviso,
        call,
        "CANALI",
        &[partner(
            "Comune di Altivole",
            "IT",
            "beneficiary",
            Some("026001"),
            8,
        )],
        &evaluated_then("not_funded"),
    );
    // Brescia: ALPI (the Province 20 months, Vienna 2) submitted.
    let call = enter_call(brescia, "LIFE-2027-NAT", "life", "direct");
    let alpi = propose(
        brescia,
        call,
        "ALPI",
        &[
            partner("Provincia di Brescia", "IT", "coordinator", None, 20),
            partner("Stadt Wien", "AT", "beneficiary", None, 2),
        ],
        &TO_SUBMISSION,
    );
    // Padova: GIOVANI (the Comune of Padova 6 months) funded.
    let call = enter_call(padova, "INTERREG-2027-IT-AT", "interreg", "direct");
    propose(
        padova,
        call,
        "GIOVANI",
        &[partner(
            "Comune di Padova",
            "IT",
            "coordinator",
            Some("028060"),
            6,
        )],
        &evaluated_then("funded"),
    );

    for node in [&mut *treviso, &mut *brescia, &mut *padova] {
        send(
            node,
            Method::PUT,
            "/v1/datasets/sape_progetti/federation",
            &json!({"federation": "national"}),
        );
    }
    let expected_rows = [("026", 3), ("017", 2), ("028", 1)];
    for (node, (code, rows)) in [&*treviso, &*brescia, &*padova]
        .into_iter()
        .zip(expected_rows)
    {
        wait_until(&format!("the hub holds {code}'s head"), PATIENCE, || {
            Ok(hub.head(code)? == node.head()?)
        })
        .unwrap();
        assert_eq!(node.rows("sape_progetti").unwrap().len(), rows, "{code}");
        assert_eq!(
            hub.rows("sape_progetti", code).unwrap().len(),
            rows,
            "{code}: the hub holds the node's rows"
        );
    }

    // By hand: requested 12.500 + 5.000 + 10.000 + 25.000 + 2.500 + 7.500 = 62.500 €;
    // obtained 17.500 + 7.500 = 25.000 €, of which the Comuni 5.000 + 7.500; success 2 of 3.
    let by_province = summary(&hub, "group=province");
    assert_eq!(by_province["provinces"], 3);
    assert_eq!(
        by_province["total"],
        json!({
            "proposals": 4, "submitted": 4, "evaluated": 3, "funded": 2,
            "success_rate": "66.67",
            "requested": "62500.00", "obtained": "25000.00",
            "comuni_requested": "22500.00", "comuni_obtained": "12500.00"
        })
    );
    let lines: Vec<(String, String, u64, Value, String, String)> = by_province["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["key"].as_str().unwrap().to_owned(),
                i["label"].as_str().unwrap().to_owned(),
                i["funded"].as_u64().unwrap(),
                i["success_rate"].clone(),
                i["requested"].as_str().unwrap().to_owned(),
                i["obtained"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let line =
        |key: &str, label: &str, funded: u64, rate: Value, requested: &str, obtained: &str| {
            (
                key.to_owned(),
                label.to_owned(),
                funded,
                rate,
                requested.to_owned(),
                obtained.to_owned(),
            )
        };
    assert_eq!(
        lines,
        [
            line("017", "Brescia", 0, Value::Null, "27500.00", "0.00"),
            line("026", "Treviso", 1, json!("50.00"), "27500.00", "17500.00"),
            line("028", "Padova", 1, json!("100.00"), "7500.00", "7500.00"),
        ]
    );
    let by_programme = summary(&hub, "group=programme");
    let programmes: Vec<&str> = by_programme["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["key"].as_str().unwrap())
        .collect();
    assert_eq!(programmes, ["fesr", "interreg", "life"]);
    assert_eq!(summary(&hub, "group=year")["items"][0]["key"], "2027");
    let veneto = summary(&hub, "region=Veneto");
    assert_eq!(veneto["total"]["obtained"], "25000.00");

    let comuni = hub.get("/v1/sape/comuni").unwrap().body;
    let names: Vec<(&str, &str)> = comuni["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["obtained"].as_str().unwrap()))
        .collect();
    assert_eq!(
        names,
        [
            ("Altivole", "0.00"),
            ("Treviso", "5000.00"),
            ("Padova", "7500.00")
        ]
    );

    let projects = hub.get("/v1/sape/projects").unwrap().body;
    assert_eq!(projects["total"], 2);
    let verde = &projects["items"][0];
    assert_eq!(
        (&verde["province"], &verde["acronym"], &verde["obtained"]),
        (&json!("026"), &json!("VERDE"), &json!("17500.00"))
    );
    let partners: Vec<(&str, Value, &str)> = verde["partners"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap(),
                p["comune_name"].clone(),
                p["obtained"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        partners,
        [
            ("Provincia di Treviso", Value::Null, "12500.00"),
            ("Comune di Treviso", json!("Treviso"), "5000.00"),
        ]
    );
    let page = hub.get("/sape").unwrap();
    assert_eq!(page.status, 200);
    let list = hub.get("/sape/progetti?q=giovani").unwrap();
    assert_eq!(list.status, 200);

    // Brescia's ALPI is evaluated and funded: a delta, and the figures follow.
    for state in ["evaluated", "funded"] {
        send(
            brescia,
            Method::POST,
            &format!("/v1/sape/proposals/{alpi}/transitions"),
            &json!({"state": state}),
        );
    }
    wait_until("the hub counts ALPI as funded", PATIENCE, || {
        Ok(summary(&hub, "")["total"]["funded"] == 3)
    })
    .unwrap();
    let total = &summary(&hub, "province=017")["total"];
    assert_eq!(
        (&total["success_rate"], &total["obtained"]),
        (&json!("100.00"), &json!("27500.00"))
    );
    let projects = hub.get("/v1/sape/projects?province=017").unwrap().body;
    assert_eq!(
        projects["items"][0]["partners"][1]["country_name"],
        "Austria"
    );
}
