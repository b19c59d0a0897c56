//! The national procurement view: SUA figures by every grouping, exactly, from signed
//! `appalti` batches of three Provinces; PNRR shares and averages; the Comuni served; CSV;
//! the empty state; figures that follow later pushes; bad parameters; the page.

use pico_protocol::payload::{DatasetBatch, FieldValue, Payload, Row, SnapshotPart};
use serde_json::{Value, json};

use crate::support::{NodeLog, TestApp, parameter_names};

/// The fields of schema version 1 (`protocol/datasets/appalti.md`).
const FIELDS: [&str; 30] = [
    "procedure_id",
    "lot_no",
    "cig",
    "ocid",
    "anac_gara",
    "comune",
    "comuni",
    "aggregated",
    "buyer_cf",
    "object",
    "contract_type",
    "procedure_code",
    "procedure_label",
    "award_criterion",
    "cpv",
    "cpv_division",
    "cup",
    "pnrr",
    "state",
    "lot_status",
    "year",
    "month",
    "published_on",
    "awarded_on",
    "estimated_amount",
    "lot_amount",
    "award_amount",
    "ribasso",
    "bids_count",
    "duration_days",
];

/// One lot of the test data.
#[derive(Clone)]
struct Lot {
    procedure: i64,
    lot: i64,
    comune: Option<&'static str>,
    comuni: &'static str,
    aggregated: bool,
    contract: &'static str,
    code: i64,
    label: &'static str,
    cpv: &'static str,
    pnrr: bool,
    state: &'static str,
    year: i64,
    month: i64,
    amount: &'static str,
    award: Option<&'static str>,
    ribasso: Option<&'static str>,
    duration: Option<i64>,
}

fn text(value: Option<&str>) -> FieldValue {
    value.map_or(FieldValue::Null, FieldValue::from)
}

fn row(l: &Lot) -> Row {
    let published = format!("{}-{:02}-10", l.year, l.month);
    vec![
        FieldValue::Int(l.procedure),
        FieldValue::Int(l.lot),
        format!("B{:04}{:05}", l.procedure, l.lot).into(),
        FieldValue::Null,
        FieldValue::Null,
        text(l.comune),
        l.comuni.into(),
        l.aggregated.into(),
        "80007310263".into(),
        "Lavori di manutenzione".into(),
        l.contract.into(),
        FieldValue::Int(l.code),
        l.label.into(),
        "lowest_price".into(),
        l.cpv.into(),
        l.cpv[..2].into(),
        FieldValue::Null,
        l.pnrr.into(),
        l.state.into(),
        (if l.award.is_some() {
            "awarded"
        } else {
            "active"
        })
        .into(),
        FieldValue::Int(l.year),
        FieldValue::Int(l.month),
        published.into(),
        text(l.award.map(|_| "2025-09-01")),
        l.amount.into(),
        l.amount.into(),
        text(l.award),
        text(l.ribasso),
        FieldValue::Null,
        l.duration.map_or(FieldValue::Null, FieldValue::Int),
    ]
}

fn batch(lots: &[Lot], deletes: Vec<Row>, snapshot: Option<SnapshotPart>) -> Payload {
    Payload::DatasetBatch(DatasetBatch {
        dataset: "appalti".into(),
        schema_version: 1,
        fields: FIELDS.iter().map(|f| (*f).to_owned()).collect(),
        primary_key: vec!["procedure_id".into(), "lot_no".into()],
        snapshot,
        upserts: lots.iter().map(row).collect(),
        deletes,
    })
}

const BASE: Lot = Lot {
    procedure: 1,
    lot: 1,
    comune: Some("026086"),
    comuni: "026086",
    aggregated: false,
    contract: "works",
    code: 1,
    label: "PROCEDURA APERTA",
    cpv: "45233141-9",
    pnrr: false,
    state: "published",
    year: 2025,
    month: 3,
    amount: "0.00",
    award: None,
    ribasso: None,
    duration: None,
};

/// Treviso: an awarded PNRR open procedure of two lots in CPV 45 and 71; a negotiated
/// services procedure; an aggregated supplies initiative for three Comuni, deserted, 2024.
fn treviso() -> Vec<Lot> {
    vec![
        Lot {
            pnrr: true,
            state: "awarded",
            amount: "100000.00",
            award: Some("90000.00"),
            ribasso: Some("10.000"),
            duration: Some(100),
            ..BASE
        },
        Lot {
            lot: 2,
            cpv: "71000000-8",
            pnrr: true,
            state: "awarded",
            amount: "50000.00",
            award: Some("47500.00"),
            ribasso: Some("5.000"),
            duration: Some(120),
            ..BASE
        },
        Lot {
            procedure: 2,
            comune: Some("026001"),
            comuni: "026001",
            contract: "services",
            code: 4,
            label: "PROCEDURA NEGOZIATA SENZA PREVIA PUBBLICAZIONE",
            cpv: "72322000-8",
            amount: "20000.00",
            ..BASE
        },
        Lot {
            procedure: 3,
            comune: None,
            comuni: "026001 026086 026087",
            aggregated: true,
            contract: "supplies",
            cpv: "30000000-9",
            state: "deserted",
            year: 2024,
            month: 11,
            amount: "30000.50",
            ..BASE
        },
    ]
}

/// Brescia: a completed PNRR works procedure (2025-07) and a cancelled one of three lots.
fn brescia() -> Vec<Lot> {
    let base = Lot {
        comune: Some("017029"),
        comuni: "017029",
        year: 2025,
        month: 7,
        ..BASE
    };
    let mut lots = vec![Lot {
        code: 34,
        label: "PROCEDURA NEGOZIATA PER AFFIDAMENTI SOTTO SOGLIA",
        pnrr: true,
        state: "completed",
        amount: "200000.00",
        award: Some("180000.00"),
        ribasso: Some("7.333"),
        duration: Some(61),
        ..base
    }];
    for lot in 1..=3 {
        lots.push(Lot {
            procedure: 2,
            lot,
            contract: "services",
            cpv: "79000000-4",
            state: "cancelled",
            amount: "10000.00",
            ..base.clone()
        });
    }
    lots
}

/// Padova: a direct award, PNRR, 2024-02.
fn padova() -> Vec<Lot> {
    vec![Lot {
        comune: Some("028060"),
        comuni: "028060",
        contract: "supplies",
        code: 24,
        label: "AFFIDAMENTO DIRETTO",
        cpv: "30000000-9",
        pnrr: true,
        state: "awarded",
        year: 2024,
        month: 2,
        amount: "5000.00",
        award: Some("5000.00"),
        ribasso: Some("0.000"),
        duration: Some(15),
        ..BASE
    }]
}

/// A hub holding the three Provinces' rows; Treviso's log is returned for later pushes.
pub(crate) async fn loaded() -> (TestApp, NodeLog) {
    let app = TestApp::spawn().await;
    let mut tv = NodeLog::new("026", "treviso");
    for (code, key, lots) in [("017", "brescia", brescia()), ("028", "padova", padova())] {
        let mut log = NodeLog::new(code, key);
        app.enrol(&log);
        assert_eq!(
            app.push(&[&log.next(&batch(&lots, vec![], None))]).await.0,
            200
        );
    }
    app.enrol(&tv);
    assert_eq!(
        app.push(&[&tv.next(&batch(&treviso(), vec![], None))])
            .await
            .0,
        200
    );
    (app, tv)
}

/// The figures of `key` in a summary's items.
fn item<'a>(summary: &'a Value, key: &str) -> &'a Value {
    summary["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["key"] == key)
        .unwrap_or_else(|| panic!("no group {key:?} in {summary:#}"))
}

/// `(key, procedures, lots, value)` of every group.
fn groups(summary: &Value) -> Vec<(String, u64, u64, String)> {
    summary["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["key"].as_str().unwrap().to_owned(),
                i["procedures"].as_u64().unwrap(),
                i["lots"].as_u64().unwrap(),
                i["value"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn g(key: &str, procedures: u64, lots: u64, value: &str) -> (String, u64, u64, String) {
    (key.to_owned(), procedures, lots, value.to_owned())
}

async fn summary(app: &TestApp, query: &str) -> Value {
    let (status, body) = app.get_json(&format!("/v1/appalti/summary?{query}")).await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn figures_by_every_grouping_are_exact() {
    let (app, _) = loaded().await;

    let by_province = summary(&app, "group=province").await;
    assert_eq!(by_province["provinces"], 3);
    assert_eq!(
        by_province["total"],
        json!({
            "procedures": 6, "lots": 9, "value": "435000.50",
            "awarded_lots": 4, "awarded_value": "322500.00",
            "pnrr_procedures": 3, "pnrr_lots": 4, "pnrr_value": "355000.00",
            "pnrr_share_procedures": "50.00", "pnrr_share_value": "81.61",
            "avg_ribasso": "5.583", "ribasso_lots": 4,
            "avg_duration_days": "74.0", "duration_lots": 4
        })
    );
    assert_eq!(
        groups(&by_province),
        [
            g("017", 2, 4, "230000.00"),
            g("026", 3, 4, "200000.50"),
            g("028", 1, 1, "5000.00")
        ]
    );
    let tv = item(&by_province, "026");
    assert_eq!(tv["label"], "Treviso");
    assert_eq!(tv["pnrr_procedures"], 1);
    assert_eq!(tv["pnrr_share_procedures"], "33.33");
    assert_eq!(tv["pnrr_share_value"], "75.00");
    assert_eq!(tv["avg_ribasso"], "7.500");
    assert_eq!(tv["avg_duration_days"], "110.0");
    let bs = item(&by_province, "017");
    assert_eq!(bs["pnrr_share_value"], "86.96");
    assert_eq!(bs["avg_ribasso"], "7.333");
    assert_eq!(bs["awarded_value"], "180000.00");
    let pd = item(&by_province, "028");
    assert_eq!(
        (&pd["pnrr_share_procedures"], &pd["avg_ribasso"]),
        (&json!("100.00"), &json!("0.000"))
    );

    let by_region = summary(&app, "group=region").await;
    assert_eq!(
        groups(&by_region),
        [
            g("Lombardia", 2, 4, "230000.00"),
            g("Veneto", 4, 5, "205000.50")
        ]
    );
    assert_eq!(item(&by_region, "Veneto")["avg_duration_days"], "78.3");

    let by_type = summary(&app, "group=procedure_type").await;
    assert_eq!(
        groups(&by_type),
        [
            g("1", 3, 6, "210000.50"),
            g("4", 1, 1, "20000.00"),
            g("24", 1, 1, "5000.00"),
            g("34", 1, 1, "200000.00")
        ]
    );
    assert_eq!(item(&by_type, "24")["label"], "AFFIDAMENTO DIRETTO");

    // Treviso's procedure 1 has lots in divisions 45 and 71: it counts in both, and the
    // total still counts it once.
    let by_cpv = summary(&app, "group=cpv_division").await;
    assert_eq!(
        groups(&by_cpv),
        [
            g("30", 2, 2, "35000.50"),
            g("45", 2, 2, "300000.00"),
            g("71", 1, 1, "50000.00"),
            g("72", 1, 1, "20000.00"),
            g("79", 1, 3, "30000.00")
        ]
    );
    assert_eq!(item(&by_cpv, "71")["pnrr_share_procedures"], "100.00");
    assert_eq!(item(&by_cpv, "45")["label"], "Lavori di costruzione");
    assert_eq!(by_cpv["total"]["procedures"], 6);

    let by_year = summary(&app, "group=year").await;
    assert_eq!(
        groups(&by_year),
        [g("2024", 2, 2, "35000.50"), g("2025", 4, 7, "400000.00")]
    );
    let by_month = summary(&app, "group=month").await;
    assert_eq!(
        groups(&by_month),
        [
            g("2024-02", 1, 1, "5000.00"),
            g("2024-11", 1, 1, "30000.50"),
            g("2025-03", 2, 3, "170000.00"),
            g("2025-07", 2, 4, "230000.00")
        ]
    );
    let by_contract = summary(&app, "group=contract_type").await;
    assert_eq!(
        groups(&by_contract),
        [
            g("services", 2, 4, "50000.00"),
            g("supplies", 2, 2, "35000.50"),
            g("works", 2, 3, "350000.00")
        ]
    );
    assert_eq!(item(&by_contract, "works")["label"], "Lavori");
    let by_state = summary(&app, "group=state").await;
    assert_eq!(
        groups(&by_state),
        [
            g("awarded", 2, 3, "155000.00"),
            g("cancelled", 1, 3, "30000.00"),
            g("completed", 1, 1, "200000.00"),
            g("deserted", 1, 1, "30000.50"),
            g("published", 1, 1, "20000.00")
        ]
    );

    // Filters: a year, a Province, both.
    let in_2025 = summary(&app, "group=province&year=2025").await;
    assert_eq!(
        groups(&in_2025),
        [g("017", 2, 4, "230000.00"), g("026", 2, 3, "170000.00")]
    );
    assert_eq!(in_2025["year"], 2025);
    assert_eq!(in_2025["total"]["procedures"], 4);
    let treviso_months = summary(&app, "group=month&province=026").await;
    assert_eq!(
        groups(&treviso_months),
        [
            g("2024-11", 1, 1, "30000.50"),
            g("2025-03", 2, 3, "170000.00")
        ]
    );
    let nothing = summary(&app, "group=region&year=2023").await;
    assert_eq!(nothing["items"], json!([]));
    assert_eq!(nothing["total"]["procedures"], 0);
    assert_eq!(nothing["total"]["pnrr_share_procedures"], Value::Null);
    assert_eq!(nothing["total"]["avg_ribasso"], Value::Null);
}

#[tokio::test]
async fn the_comuni_served_are_listed_by_province_with_names() {
    let (app, _) = loaded().await;
    let (status, comuni) = app.get_json("/v1/appalti/comuni?province=026").await;
    assert_eq!(status, 200, "{comuni}");
    assert_eq!(
        comuni["items"],
        json!([
            {"province": "026", "comune": "026001", "name": "Altivole", "procedures": 2,
             "aggregated_procedures": 1, "lots": 2, "value": "50000.50"},
            {"province": "026", "comune": "026086", "name": "Treviso", "procedures": 2,
             "aggregated_procedures": 1, "lots": 3, "value": "180000.50"},
            {"province": "026", "comune": "026087", "name": "Valdobbiadene", "procedures": 1,
             "aggregated_procedures": 1, "lots": 1, "value": "30000.50"}
        ])
    );
    let (_, all) = app.get_json("/v1/appalti/comuni").await;
    let codes: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["comune"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["017029", "026001", "026086", "026087", "028060"]);
    let (_, in_2024) = app
        .get_json("/v1/appalti/comuni?province=026&year=2024")
        .await;
    assert_eq!(in_2024["items"].as_array().unwrap().len(), 3);
    assert!(
        in_2024["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["procedures"] == 1)
    );
    assert!(all["attribution"].as_str().unwrap().contains("Istat"));
}

#[tokio::test]
async fn every_table_downloads_as_csv() {
    let (app, _) = loaded().await;
    let response = app
        .get_csv("/v1/appalti/summary?group=province&format=csv")
        .await;
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("appalti-province.csv")
    );
    let csv = response.text().await.unwrap();
    assert_eq!(
        csv.lines().collect::<Vec<_>>(),
        [
            "codice_provincia,descrizione,procedure,lotti,importo,lotti_aggiudicati,importo_aggiudicato,procedure_pnrr,lotti_pnrr,importo_pnrr,quota_pnrr_procedure,quota_pnrr_importo,ribasso_medio,lotti_con_ribasso,durata_media_giorni,lotti_con_durata",
            "017,Brescia,2,4,230000.00,1,180000.00,1,1,200000.00,50.00,86.96,7.333,1,61.0,1",
            "026,Treviso,3,4,200000.50,2,137500.00,1,2,150000.00,33.33,75.00,7.500,2,110.0,2",
            "028,Padova,1,1,5000.00,1,5000.00,1,1,5000.00,100.00,100.00,0.000,1,15.0,1",
        ]
    );
    // For Excel: semicolons, decimal commas and the byte order mark, as every national view.
    let excel = app
        .get("/v1/appalti/summary?group=province&format=csv&sep=semicolon&bom=1")
        .await
        .bytes()
        .await
        .unwrap();
    assert!(excel.starts_with(b"\xEF\xBB\xBFcodice_provincia;descrizione;"));
    let excel = String::from_utf8_lossy(&excel);
    assert!(excel.contains("\n017;Brescia;2;4;230000,00;"), "{excel}");
    for (group, column) in [
        ("region", "regione"),
        ("procedure_type", "tipo_procedura"),
        ("cpv_division", "divisione_cpv"),
        ("year", "anno"),
        ("month", "mese"),
        ("contract_type", "tipo_contratto"),
        ("state", "stato"),
    ] {
        let (status, csv) = app
            .get_text(&format!(
                "/v1/appalti/summary?group={group}&format=csv&sep=semicolon&year=2025"
            ))
            .await;
        assert_eq!(status, 200, "{group}");
        let header = csv.lines().next().unwrap();
        assert!(
            header.starts_with(&format!("{column};descrizione;procedure;")),
            "{header}"
        );
        let json = summary(&app, &format!("group={group}&year=2025")).await;
        assert_eq!(
            csv.lines().count(),
            1 + json["items"].as_array().unwrap().len(),
            "{group}"
        );
    }
    let (status, comuni) = app
        .get_text("/v1/appalti/comuni?province=017&format=csv")
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        comuni.lines().collect::<Vec<_>>(),
        [
            "codice_provincia,codice_comune,comune,procedure,procedure_aggregate,lotti,importo",
            "017,017029,Brescia,2,0,4,230000.00"
        ]
    );
}

#[tokio::test]
async fn figures_follow_later_pushes_and_withdrawals() {
    let (app, mut tv) = loaded().await;
    assert_eq!(summary(&app, "").await["total"]["procedures"], 6);
    // Treviso awards its procedure 2 and drops the lot 2 of procedure 1.
    let awarded = Lot {
        procedure: 2,
        comune: Some("026001"),
        comuni: "026001",
        contract: "services",
        code: 4,
        label: "PROCEDURA NEGOZIATA SENZA PREVIA PUBBLICAZIONE",
        cpv: "72322000-8",
        state: "awarded",
        amount: "20000.00",
        award: Some("15000.00"),
        ribasso: Some("25.000"),
        duration: Some(30),
        ..BASE
    };
    let change = batch(
        &[awarded],
        vec![vec![FieldValue::Int(1), FieldValue::Int(2)]],
        None,
    );
    app.push_ok(&tv.next(&change)).await;
    let by_province = summary(&app, "group=province").await;
    let treviso = item(&by_province, "026");
    assert_eq!(
        (&treviso["procedures"], &treviso["lots"], &treviso["value"]),
        (&json!(3), &json!(3), &json!("150000.50"))
    );
    assert_eq!(treviso["avg_ribasso"], "17.500");
    assert_eq!(treviso["avg_duration_days"], "65.0");
    assert_eq!(by_province["total"]["lots"], 8);

    // Treviso withdraws the dataset (an empty snapshot): it no longer counts.
    let withdrawal = batch(
        &[],
        vec![],
        Some(SnapshotPart {
            id: "appalti-withdrawn".into(),
            part: 1,
            parts: 1,
        }),
    );
    app.push_ok(&tv.next(&withdrawal)).await;
    let by_province = summary(&app, "group=province").await;
    assert_eq!(
        groups(&by_province),
        [g("017", 2, 4, "230000.00"), g("028", 1, 1, "5000.00")]
    );
    assert_eq!(by_province["provinces"], 2);
}

#[tokio::test]
async fn rows_of_another_schema_are_left_out() {
    let (app, _) = loaded().await;
    // Pesaro sends an `appalti` dataset of its own making, keyed by CIG.
    let mut pu = app.enrolled("041", "pesaro");
    assert_eq!(
        app.push(&[&pu.next(&crate::support::appalti("041", 0, 25))])
            .await
            .0,
        200
    );
    let by_province = summary(&app, "group=province").await;
    assert_eq!(by_province["provinces"], 3);
    assert_eq!(by_province["total"]["lots"], 9);
    let (_, comuni) = app.get_json("/v1/appalti/comuni?province=041").await;
    assert_eq!(comuni["items"], json!([]));
}

#[tokio::test]
async fn an_empty_hub_answers_with_empty_figures() {
    let app = TestApp::spawn().await;
    let body = summary(&app, "group=month").await;
    assert_eq!(body["items"], json!([]));
    assert_eq!(body["provinces"], 0);
    assert_eq!(body["total"]["procedures"], 0);
    assert_eq!(body["total"]["value"], "0.00");
    let (status, comuni) = app.get_json("/v1/appalti/comuni").await;
    assert_eq!((status, &comuni["items"]), (200, &json!([])));
    let (status, csv) = app.get_text("/v1/appalti/summary?format=csv").await;
    assert_eq!(status, 200);
    assert_eq!(csv.lines().count(), 1, "the header only");
    let (status, html) = app.get_text("/appalti").await;
    assert_eq!(status, 200);
    assert!(html.contains("Nessuna Provincia ha ancora pubblicato il dataset appalti"));
}

#[tokio::test]
async fn bad_parameters_are_refused_with_a_clear_problem() {
    let app = TestApp::spawn().await;
    for (query, expected) in [
        ("/v1/appalti/summary?group=comune", "procedure_type"),
        ("/v1/appalti/summary?year=25", "quattro cifre"),
        ("/v1/appalti/summary?year=duemila", "non è un anno"),
        ("/v1/appalti/summary?province=26", "tre cifre"),
        ("/v1/appalti/summary?province=999", "ISTAT"),
        ("/v1/appalti/summary?format=xml", "json oppure csv"),
        (
            "/v1/appalti/summary?format=csv&sep=tab",
            "comma (,) oppure semicolon (;)",
        ),
        ("/v1/appalti/summary?sep=semicolon", "format=csv"),
        ("/v1/appalti/summary?format=csv&bom=si", "usare 1 oppure 0"),
        ("/v1/appalti/summary?regione=Veneto", "regione"),
        ("/v1/appalti/comuni?group=province", "vale solo per"),
        ("/v1/appalti/comuni?year=1", "quattro cifre"),
    ] {
        let response = app.get(query).await;
        assert_eq!(response.status(), 400, "{query}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{query}"
        );
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["code"], "invalid_query", "{query}");
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains(expected), "{query}: {detail}");
    }
    let (status, html) = app.get_text("/appalti?year=xx").await;
    assert_eq!(status, 400);
    assert!(
        html.contains("«xx» non è un anno"),
        "an Italian message beside the field"
    );
}

#[tokio::test]
async fn the_page_shows_charts_each_followed_by_its_table() {
    let (app, _) = loaded().await;
    let (status, html) = app.get_text("/appalti").await;
    assert_eq!(status, 200);
    for id in [
        "per-provincia",
        "per-regione",
        "per-tipo-di-procedura",
        "per-divisione-cpv",
        "per-anno",
        "per-mese",
    ] {
        let chart = html
            .find(&format!("id=\"grafico-{id}-numero\""))
            .unwrap_or_else(|| panic!("chart {id}"));
        let table = html
            .find(&format!("id=\"tabella-{id}\""))
            .unwrap_or_else(|| panic!("table {id}"));
        assert!(chart < table, "{id}: the table follows the chart");
        assert!(html[chart..table].contains("role=\"img\""));
    }
    assert!(
        html.contains("<p class=\"h3 mb-0\">435.000,50\u{a0}€</p>"),
        "total value in the headline"
    );
    assert!(
        html.contains(
            "<p class=\"h3 mb-0\">50%</p><p class=\"mb-0\">Procedure finanziate dal PNRR</p>"
        ),
        "PNRR share"
    );
    assert!(html.contains("5,58%"), "mean ribasso, two decimals at most");
    assert!(html.contains("74 giorni"), "mean duration");
    assert!(html.contains("Valdobbiadene"), "Comuni served");
    // CPV divisions in Italian (Reg. (EC) 213/2008), months in words, never English labels.
    assert!(html.contains("45 Lavori di costruzione"), "{html}");
    assert!(!html.contains("Construction work"));
    assert!(html.contains("marzo 2025"));
    assert!(!html.contains(">2025-03<"));
    assert!(html.contains("/v1/appalti/summary?group=month&amp;format=csv"));
    assert!(html.contains("Fonte: Istat"));
    assert!(
        html.contains("href=\"/appalti\""),
        "the navigation links the page"
    );

    let (status, treviso) = app.get_text("/appalti?province=026&year=2025").await;
    assert_eq!(status, 200);
    let table = &treviso[treviso.find("id=\"tabella-per-provincia\"").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    assert!(table.contains("026 Treviso"));
    assert!(!table.contains("Brescia"));
    assert!(treviso.contains("/v1/appalti/comuni?format=csv&amp;year=2025&amp;province=026"));
}

#[tokio::test]
async fn the_routes_are_in_the_openapi_document() {
    let app = TestApp::spawn().await;
    let doc = app.openapi().await;
    let summary = &doc["paths"]["/v1/appalti/summary"]["get"];
    let params = parameter_names(summary);
    assert_eq!(
        params,
        ["group", "year", "province", "format", "sep", "bom"]
    );
    assert!(doc["paths"]["/v1/appalti/comuni"]["get"].is_object());
    assert!(doc["components"]["schemas"]["SummaryView"].is_object());
}

/// Timing of the summary on a hub loaded like the national view after a few years: 86
/// Provinces × 10,000 lots pushed as real signed entries. A measurement for the report:
/// `cargo test -p pico-hub --release --test it appalti_summary_on_a_loaded_hub -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "measurement: run on demand"]
async fn appalti_summary_on_a_loaded_hub() {
    use std::time::{Duration, Instant};
    const LOTS: i64 = 10_000;
    const PER_ENTRY: i64 = 2_500;
    let app = TestApp::spawn().await;
    let codes: Vec<String> = {
        let conn = app.state.db.get().unwrap();
        let mut stmt = conn
            .prepare("SELECT code FROM provinces WHERE upi = 1 ORDER BY code")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    assert_eq!(codes.len(), 86);
    let codes_static: Vec<&'static str> = codes
        .iter()
        .map(|c| &*Box::leak(c.clone().into_boxed_str()))
        .collect();
    let lots_of = |code: &'static str, range: std::ops::Range<i64>| -> Vec<Lot> {
        let comuni: Vec<&'static str> = (1..=40)
            .map(|i| &*Box::leak(format!("{code}{i:03}").into_boxed_str()))
            .collect();
        range
            .map(|i| {
                let procedure = 1 + i / 2;
                let code_no = [1, 4, 24, 34, 3, 2][(procedure % 6) as usize];
                let awarded = procedure % 4 != 0;
                Lot {
                    procedure,
                    lot: 1 + i % 2,
                    comune: Some(comuni[(procedure % 40) as usize]),
                    comuni: comuni[(procedure % 40) as usize],
                    contract: ["works", "services", "supplies"][(procedure % 3) as usize],
                    code: code_no,
                    cpv: [
                        "45233141-9",
                        "71000000-8",
                        "72322000-8",
                        "30000000-9",
                        "79000000-4",
                        "90910000-9",
                    ][(i % 6) as usize],
                    pnrr: procedure % 4 == 1,
                    state: if awarded { "awarded" } else { "published" },
                    year: 2023 + procedure % 3,
                    month: 1 + procedure % 12,
                    amount: ["40000.00", "125000.50", "980000.00", "7500.25"][(i % 4) as usize],
                    award: awarded.then_some("36000.00"),
                    ribasso: awarded.then_some("11.250"),
                    duration: awarded.then_some(30 + procedure % 200),
                    ..BASE
                }
            })
            .collect()
    };
    let started = Instant::now();
    let mut logs = Vec::new();
    for (n, code) in codes_static.iter().enumerate() {
        let mut log = NodeLog::new(code, &format!("province-{n}"));
        app.enrol(&log);
        let mut first = 0;
        while first < LOTS {
            let lots = lots_of(code, first..(first + PER_ENTRY).min(LOTS));
            let entry = log.next(&batch(&lots, vec![], None));
            let (status, body) = app.push(&[&entry]).await;
            assert_eq!(status, 200, "{body}");
            first += PER_ENTRY;
        }
        logs.push(log);
    }
    println!("loaded {} rows in {:?}", 86 * LOTS, started.elapsed());
    let time = |path: String| {
        let app = &app;
        async move {
            let started = Instant::now();
            let (status, body) = app.get_text(&path).await;
            assert_eq!(status, 200, "{body}");
            started.elapsed()
        }
    };
    let cold = time("/v1/appalti/summary?group=province".into()).await;
    let mut warm: Vec<Duration> = Vec::new();
    for round in 0..20 {
        for group in [
            "province",
            "region",
            "procedure_type",
            "cpv_division",
            "year",
            "month",
        ] {
            let year = if round % 2 == 0 { "" } else { "&year=2024" };
            warm.push(time(format!("/v1/appalti/summary?group={group}{year}")).await);
        }
    }
    warm.sort();
    let page = time("/appalti".into()).await;
    // One Province pushes a change: only its cube is rebuilt.
    let log = logs.last_mut().unwrap();
    let code = codes_static[85];
    let change = log.next(&batch(&lots_of(code, 0..10), vec![], None));
    app.push_ok(&change).await;
    let after_push = time("/v1/appalti/summary?group=month".into()).await;
    let (_, summary) = app.get_json("/v1/appalti/summary").await;
    assert_eq!(summary["total"]["lots"], 86 * LOTS);
    println!(
        "summary: cold {cold:?}; warm p50 {:?} p99 {:?} max {:?} ({} requests); after one Province's push {after_push:?}; page /appalti {page:?}",
        warm[warm.len() / 2],
        warm[warm.len() * 99 / 100],
        warm[warm.len() - 1],
        warm.len()
    );
}
