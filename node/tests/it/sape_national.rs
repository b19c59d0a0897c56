//! The national `sape_progetti` dataset end to end: a SAPE proposal published to a real
//! `pico-hub` row for row when the Province turns the dataset `national`, a change of state
//! re-published, and no signed entry carrying a person's name or an e-mail address.

use pico_node::auth::{Module, Role};
use pico_node::sape::national::FIELDS;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::federation::{Hub, node_config, send, signed_bodies, wait_published};
use crate::helpers::{TestApp, add_user};

const FIXTURE: &str = "tests/fixtures/sape_portal_search.json";
const CALL: &str = "HORIZON-CL5-2024-D3-01-01";

/// A proposal with the Province (coordinator, the IA call's 70 %) and the Comune di Treviso
/// (100 %) as partners; the budgets are the worked example of `sape.rs`: EU contribution
/// 47.687,50 € and 14.232,98 €.
fn proposal(call_id: i64) -> Value {
    json!({
        "call_id": call_id,
        "title": "Comunità energetiche negli edifici municipali",
        "acronym": "CER-TV",
        "province_role": "coordinator",
        "comuni": ["026086"],
        "partners": [
            {"name": "Provincia di Treviso", "country": "IT", "pic": "999999999", "role": "coordinator",
             "personnel_unit": "month", "personnel_quantity": "10", "personnel_rate": "4.000,00",
             "subcontracting": "10000", "travel": "3000", "equipment": "2000.00", "other_goods": "1.000",
             "other_costs": "500"},
            {"name": "Comune di Treviso", "country": "IT", "pic": "123456789", "role": "beneficiary",
             "comune_code": "026086", "personnel_unit": "day", "personnel_quantity": "45,5",
             "personnel_rate": "250,25", "funding_rate": 100}
        ],
        "work_packages": [
            {"number": 1, "title": "Coordinamento", "lead": "Provincia di Treviso", "start_month": 1, "end_month": 36}
        ]
    })
}

/// The two rows the proposal must have, in key order, for `state`, as the hub shows them
/// (objects with the schema's field names).
fn expected(id: i64, call_title: &str, state: &str) -> Vec<Value> {
    let funded = state == "funded";
    let row = |no: i64, name: &str, pic: &str, role: &str, comune: Value, cents: i64| {
        let values = json!([
            id,
            no,
            "HORIZON-CL5-2024-D3-01",
            CALL,
            "horizon_europe",
            call_title,
            "CER-TV",
            "Comunità energetiche negli edifici municipali",
            state,
            "coordinator",
            name,
            "IT",
            pic,
            role,
            comune,
            cents,
            if funded { json!(cents) } else { Value::Null },
            funded,
            2024
        ]);
        Value::Object(
            FIELDS
                .iter()
                .zip(values.as_array().unwrap())
                .map(|((name, _), value)| ((*name).to_owned(), value.clone()))
                .collect(),
        )
    };
    vec![
        row(
            1,
            "Provincia di Treviso",
            "999999999",
            "coordinator",
            Value::Null,
            4_768_750,
        ),
        row(
            2,
            "Comune di Treviso",
            "123456789",
            "beneficiary",
            json!("026086"),
            1_423_298,
        ),
    ]
}

#[tokio::test]
async fn proposals_reach_the_hub_row_for_row_without_personal_data() {
    let mut hub = Hub::init();
    hub.start().await;
    let (dir, config, admin) = node_config(&hub.url());
    hub.enrol(&config, "026");
    let sape = add_user(&config, "mario.rossi", &Role::Operator(Module::Sape));
    let node = TestApp::start(dir, config).await;

    let fixture =
        std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE)).unwrap();
    let response = node
        .post_raw(
            "/v1/sape/calls/import?filename=search.json",
            &sape,
            "application/json",
            fixture,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let page: Value = node
        .get(&format!("/v1/sape/calls?q={CALL}"), Some(&sape))
        .await
        .json()
        .await
        .unwrap();
    let call = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["identifier"] == CALL)
        .unwrap()
        .clone();
    let call_title = call["title"].as_str().unwrap().to_owned();
    let created = send(
        &node,
        reqwest::Method::POST,
        "/v1/sape/proposals",
        &sape,
        &proposal(call["id"].as_i64().unwrap()),
    )
    .await;
    let id = created["id"].as_i64().unwrap();

    // The first change defined the dataset, off: nothing kept, nothing signed.
    let list: Value = node
        .get("/v1/datasets", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let items = list
        .get("items")
        .unwrap_or(&list)
        .as_array()
        .unwrap()
        .clone();
    let dataset = items
        .iter()
        .find(|d| d["name"] == "sape_progetti")
        .unwrap_or_else(|| panic!("{list}"));
    assert_eq!(dataset["federation"], "off", "{dataset}");
    assert_eq!(dataset["rows"], 0);
    assert!(signed_bodies(&node).is_empty());

    // National: the full snapshot carries exactly the proposal's two rows.
    send(
        &node,
        reqwest::Method::PUT,
        "/v1/datasets/sape_progetti/federation",
        &admin,
        &json!({"federation": "national"}),
    )
    .await;
    wait_published(&node, &admin).await;
    assert_eq!(
        hub.rows("sape_progetti", "026").await,
        expected(id, &call_title, "idea")
    );

    // Moves of its state are re-published (reasons, with a person's name and address in
    // them, stay on the node); the outcome brings the amounts obtained.
    for state in ["in_preparation", "submitted", "evaluated", "funded"] {
        send(
            &node,
            reqwest::Method::POST,
            &format!("/v1/sape/proposals/{id}/transitions"),
            &sape,
            &json!({"state": state, "reason": "Sentito Giuseppe Verdi (giuseppe.verdi@comune.treviso.it)"}),
        )
        .await;
        wait_published(&node, &admin).await;
        assert_eq!(
            hub.rows("sape_progetti", "026").await,
            expected(id, &call_title, state),
            "{state}"
        );
    }

    // The outcome brings what each partner obtained: the grant's 40.000,00 for the first,
    // the second as requested (none recorded).
    send(
        &node,
        reqwest::Method::PUT,
        &format!("/v1/sape/proposals/{id}/outcome"),
        &sape,
        &json!({"score": "13", "threshold": "10", "cup": "J41B22000120006",
                "partners": [{"obtained": "40000"}, {}]}),
    )
    .await;
    wait_published(&node, &admin).await;
    let mut rows = expected(id, &call_title, "funded");
    rows[0]["eu_obtained_cents"] = json!(4_000_000);
    assert_eq!(hub.rows("sape_progetti", "026").await, rows);

    // Every entry the node signed: dataset batches of sape_progetti, with no person in them.
    let bodies = signed_bodies(&node);
    assert_eq!(bodies.len(), 6, "a snapshot, four moves, one outcome");
    for body in &bodies {
        assert!(body.contains("sape_progetti"), "{body}");
        for personal in [
            "@",
            "Mario",
            "mario.rossi",
            "Rossi",
            "Giuseppe",
            "Verdi",
            "amministratore",
            "Utente",
        ] {
            assert!(!body.contains(personal), "{personal} in {body}");
        }
    }
    node.stop().await;
    hub.stop().await;
}

/// Moves proposal `id` through `states` as SAPE staff.
async fn move_through(node: &TestApp, token: &str, id: i64, states: &[&str]) {
    for state in states {
        send(
            node,
            reqwest::Method::POST,
            &format!("/v1/sape/proposals/{id}/transitions"),
            token,
            &json!({"state": state}),
        )
        .await;
    }
}

#[tokio::test]
async fn the_reports_page_adds_up_proposals_per_year_programme_and_comune() {
    let node = TestApp::spawn("026").await;
    let sape = add_user(
        &node.config,
        "operatore.sape",
        &Role::Operator(Module::Sape),
    );
    add_user(
        &node.config,
        "comune.treviso",
        &Role::Comune(pico_protocol::ComuneCode::parse("026086").unwrap()),
    );
    let fixture =
        std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE)).unwrap();
    let response = node
        .post_raw(
            "/v1/sape/calls/import?filename=search.json",
            &sape,
            "application/json",
            fixture,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let page: Value = node
        .get(&format!("/v1/sape/calls?q={CALL}"), Some(&sape))
        .await
        .json()
        .await
        .unwrap();
    let call = page["items"][0]["id"].as_i64().unwrap();
    // With Treviso: EU 47.687,50 + 14.232,98 = 61.920,48 €, funded. Without Comuni, the
    // Province alone: 47.687,50 €, not funded.
    let with = send(
        &node,
        reqwest::Method::POST,
        "/v1/sape/proposals",
        &sape,
        &proposal(call),
    )
    .await;
    let mut alone = proposal(call);
    alone["comuni"] = json!([]);
    alone["partners"].as_array_mut().unwrap().pop();
    let alone = send(
        &node,
        reqwest::Method::POST,
        "/v1/sape/proposals",
        &sape,
        &alone,
    )
    .await;
    let path = ["in_preparation", "submitted", "evaluated"];
    move_through(&node, &sape, with["id"].as_i64().unwrap(), &path).await;
    move_through(&node, &sape, with["id"].as_i64().unwrap(), &["funded"]).await;
    move_through(&node, &sape, alone["id"].as_i64().unwrap(), &path).await;
    move_through(&node, &sape, alone["id"].as_i64().unwrap(), &["not_funded"]).await;

    let staff = crate::helpers::login(&node, "operatore.sape").await;
    let dashboard = staff.page("/dashboard").await;
    assert!(
        dashboard.contains("href=\"/sape/rapporti\""),
        "dashboard link"
    );
    let html = staff.page("/sape/rapporti").await;
    let cells = |row: &str| -> Vec<String> {
        row.split("<td")
            .skip(1)
            .map(|cell| {
                let text = &cell[cell.find('>').unwrap() + 1..];
                text[..text.find("</td>").unwrap()]
                    .replace("<em>", "")
                    .replace("</em>", "")
            })
            .collect()
    };
    let table = &html[html.find("id=\"report\"").unwrap()..];
    let rows: Vec<Vec<String>> = table
        .split("<tr>")
        .skip(2)
        .map(cells)
        .filter(|cells| !cells.is_empty())
        .collect();
    let euro = |text: &str| text.replace(' ', "\u{a0}");
    assert_eq!(
        rows,
        vec![
            vec![
                "2024",
                "Horizon Europe",
                "Treviso (026086)",
                "1",
                "1",
                "1",
                "1",
                "100%",
                &euro("61.920,48 €"),
                &euro("61.920,48 €"),
                &euro("20.437,50 €")
            ],
            vec![
                "2024",
                "Horizon Europe",
                "Nessun Comune",
                "1",
                "1",
                "1",
                "0",
                "0%",
                &euro("47.687,50 €"),
                &euro("0,00 €"),
                &euro("20.437,50 €")
            ],
            vec![
                "2",
                "2",
                "2",
                "1",
                "50%",
                &euro("109.607,98 €"),
                &euro("61.920,48 €"),
                &euro("40.875,00 €")
            ],
        ]
        .into_iter()
        .map(|row| row.into_iter().map(str::to_owned).collect::<Vec<_>>())
        .collect::<Vec<_>>()
    );
    assert!(
        html.contains("id=\"sape-chart\""),
        "the chart with its table"
    );
    assert!(html.contains("2024, ottenuto (euro)"));

    let csv = staff.get("/sape/rapporti/export.csv?sep=semicolon").await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = csv.text().await.unwrap();
    assert!(csv.starts_with('\u{feff}'), "BOM for Excel");
    assert!(
        csv.contains("2024;Horizon Europe;026086;Treviso;1;1;1;1;100,0;61920,48;61920,48;20437,50"),
        "{csv}"
    );
    assert!(
        csv.contains("2024;Horizon Europe;;(nessun Comune);1;1;1;0;0,0;47687,50;0,00;20437,50"),
        "{csv}"
    );
    let comma = staff.page("/sape/rapporti/export.csv?sep=comma").await;
    assert!(!comma.starts_with('\u{feff}'));
    assert!(
        comma.contains(
            "2024,Horizon Europe,026086,Treviso,1,1,1,1,100.0,61920.48,61920.48,20437.50"
        ),
        "{comma}"
    );

    // A Comune does not see the office's reports.
    let comune = crate::helpers::login(&node, "comune.treviso").await;
    for path in ["/sape/rapporti", "/sape/rapporti/export.csv"] {
        let response = comune.get(path).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
    }
}
