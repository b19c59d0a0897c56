//! The national procurement view with real processes: a Treviso node imports SUA procedures,
//! enables the federation of its derived `appalti` dataset (a full snapshot), and the hub's
//! SUA summary shows them; a later import travels as a delta and the summary follows. The
//! hub ends with exactly the node's rows, each entry once, with receipts.

#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on unexpected input"
)]

use pico_system_tests::federation::{Federation, PATIENCE, wait_until};
use serde_json::{Value, json};

const HEADER: &str = "procedure_key;comune_code;object;contract_type;cpv;procedure_code;award_criterion;pnrr;requested_on;published_on;cig;lot_amount;supplier_name;supplier_cf;award_amount;awarded_on";

/// Imports `rows` (after the header) with `pico-node sua import`.
fn import(fed: &Federation, rows: &[&str]) -> String {
    let file = fed.root.path().join(format!("sua-{}.csv", rows.len()));
    let mut csv = String::from(HEADER);
    for row in rows {
        csv.push('\n');
        csv.push_str(row);
    }
    csv.push('\n');
    std::fs::write(&file, csv).unwrap();
    fed.node
        .cli(&["sua", "import", "--format", "csv", file.to_str().unwrap()])
        .unwrap()
}

fn summary(fed: &Federation, query: &str) -> Value {
    let answer = fed
        .hub
        .get(&format!("/v1/appalti/summary?{query}"))
        .unwrap();
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body
}

#[test]
fn a_node_publishing_its_procedures_appears_in_the_national_summary() {
    let mut fed = Federation::start().unwrap();
    // An awarded PNRR works procedure of two lots (one awarded after 62 days) and a published
    // services one.
    import(
        &fed,
        &[
            "TV-1;026086;Manutenzione strade;works;45233162-2;1;lowest_price;true;2025-01-10;2025-02-01;A000000001;100000.00;Strade Srl;01234567890;90000.00;2025-03-13",
            "TV-1;;;;;;;;;;A000000002;50000.00;;;;",
            "TV-2;026001;Gestione dati anagrafici;services;72322000-8;4;best_value;false;2025-03-01;2025-03-05;A000000003;20000.00;;;;",
        ],
    );
    assert_eq!(
        fed.node.rows("appalti").unwrap().len(),
        0,
        "no rows kept while not federated"
    );
    assert_eq!(fed.node.head_seq().unwrap(), 0, "nothing signed while off");

    fed.node.publish_nationally("appalti").unwrap();
    assert_eq!(
        fed.node.rows("appalti").unwrap().len(),
        3,
        "one row per lot"
    );
    let hub_url = fed.hub.url();
    fed.node.serve(&hub_url).unwrap();
    fed.wait_converged().unwrap();
    assert_eq!(fed.assert_exactly_once("appalti", 3).unwrap(), 1);

    let by_province = summary(&fed, "group=province");
    assert_eq!(by_province["items"].as_array().unwrap().len(), 1);
    let treviso = &by_province["items"][0];
    assert_eq!(
        (
            &treviso["key"],
            &treviso["label"],
            &treviso["procedures"],
            &treviso["lots"]
        ),
        (&json!("026"), &json!("Treviso"), &json!(2), &json!(3))
    );
    assert_eq!(treviso["value"], "170000.00");
    assert_eq!(treviso["awarded_value"], "90000.00");
    assert_eq!(treviso["pnrr_share_procedures"], "50.00");
    assert_eq!(treviso["avg_ribasso"], "10.000");
    assert_eq!(treviso["avg_duration_days"], "62.0");
    let by_type = summary(&fed, "group=procedure_type");
    let keys: Vec<&str> = by_type["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["1", "4"]);
    let comuni = fed.hub.get("/v1/appalti/comuni?province=026").unwrap();
    let names: Vec<&str> = comuni.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Altivole", "Treviso"]);

    // A later import is one delta; the summary follows.
    import(
        &fed,
        &[
            "TV-3;026087;Fornitura arredi;supplies;39000000-2;24;;true;2025-04-01;2025-04-02;A000000004;7500.50;;;;",
        ],
    );
    assert_eq!(fed.node.head_seq().unwrap(), 2);
    fed.wait_converged().unwrap();
    assert_eq!(fed.assert_exactly_once("appalti", 4).unwrap(), 2);
    let hub = &fed.hub;
    wait_until("the summary counts the new procedure", PATIENCE, || {
        let body = hub.get("/v1/appalti/summary")?.body;
        Ok(body["total"]["procedures"] == 3)
    })
    .unwrap();
    let total = &summary(&fed, "group=month")["total"];
    assert_eq!(
        (&total["lots"], &total["value"], &total["pnrr_procedures"]),
        (&json!(4), &json!("177500.50"), &json!(2))
    );
    let page = fed.hub.get("/appalti").unwrap();
    assert_eq!(page.status, 200);
}
