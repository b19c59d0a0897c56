//! The national view of EU funds: SAPE figures by Province, region, programme and year,
//! exactly, from signed `sape_progetti` batches of three Provinces (figures computed by hand
//! below); the Comuni taking part; the funded projects with their partners, searched and
//! paged; CSV; figures that follow later pushes and withdrawals; bad parameters; the pages.

use pico_protocol::payload::{DatasetBatch, FieldValue, Payload, Row, SnapshotPart};
use serde_json::{Value, json};

use crate::support::{NodeLog, TestApp, parameter_names};

/// The fields of schema version 1 (`protocol/datasets/sape_progetti.md`).
const FIELDS: [&str; 19] = [
    "proposal_id",
    "partner_no",
    "call_identifier",
    "topic_identifier",
    "programme",
    "call_title",
    "acronym",
    "title",
    "state",
    "province_role",
    "partner_name",
    "country",
    "pic",
    "partner_role",
    "comune",
    "eu_requested_cents",
    "eu_obtained_cents",
    "funded",
    "year",
];

/// A partner: name, country, PIC, role, Comune, requested cents.
type PartnerSpec = (
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static str,
    Option<&'static str>,
    i64,
);

/// A proposal of the test data.
#[derive(Clone)]
struct Spec {
    id: i64,
    programme: &'static str,
    year: i64,
    state: &'static str,
    acronym: &'static str,
    partners: Vec<PartnerSpec>,
}

fn funded(state: &str) -> bool {
    matches!(state, "funded" | "grant_signed" | "in_execution" | "closed")
}

fn text(value: Option<&str>) -> FieldValue {
    value.map_or(FieldValue::Null, FieldValue::from)
}

/// The rows of a proposal, as the node's `sape::national::encode` writes them.
fn rows(spec: &Spec) -> Vec<Row> {
    let won = funded(spec.state);
    let common = |no: i64| -> Row {
        vec![
            FieldValue::Int(spec.id),
            FieldValue::Int(no),
            format!("CALL-{}", spec.programme.to_uppercase()).into(),
            format!("CALL-{}-{:02}", spec.programme.to_uppercase(), spec.id).into(),
            spec.programme.into(),
            "Bando di prova".into(),
            spec.acronym.into(),
            format!("Progetto {}", spec.acronym).into(),
            spec.state.into(),
            "coordinator".into(),
        ]
    };
    if spec.partners.is_empty() {
        let mut row = common(0);
        row.extend([
            FieldValue::Null,
            FieldValue::Null,
            FieldValue::Null,
            FieldValue::Null,
            FieldValue::Null,
            FieldValue::Int(0),
            if won {
                FieldValue::Int(0)
            } else {
                FieldValue::Null
            },
            FieldValue::Bool(won),
            FieldValue::Int(spec.year),
        ]);
        return vec![row];
    }
    (1_i64..)
        .zip(&spec.partners)
        .map(|(no, (name, country, pic, role, comune, requested))| {
            let mut row = common(no);
            row.extend([
                (*name).into(),
                (*country).into(),
                text(*pic),
                (*role).into(),
                text(*comune),
                FieldValue::Int(*requested),
                if won {
                    FieldValue::Int(*requested)
                } else {
                    FieldValue::Null
                },
                FieldValue::Bool(won),
                FieldValue::Int(spec.year),
            ]);
            row
        })
        .collect()
}

fn batch(specs: &[Spec], deletes: Vec<Row>, snapshot: Option<SnapshotPart>) -> Payload {
    Payload::DatasetBatch(DatasetBatch {
        dataset: "sape_progetti".into(),
        schema_version: 1,
        fields: FIELDS.iter().map(|f| (*f).to_owned()).collect(),
        primary_key: vec!["proposal_id".into(), "partner_no".into()],
        snapshot,
        upserts: specs.iter().flat_map(rows).collect(),
        deletes,
    })
}

/// Treviso (Veneto): VERDE, Horizon Europe 2024, funded, three partners (the Province, the
/// Comune of Treviso, Graz): 100,000.00 + 50,000.00 + 25,000.50 €; MARE, LIFE 2025, not
/// funded: Altivole 30,000 € and Lyon 70,000 €; IDEA, Horizon Europe 2025, an idea without
/// partners; RITIRO, Interreg 2025, withdrawn, Asolo 10,000 €.
fn treviso() -> Vec<Spec> {
    vec![
        Spec {
            id: 1,
            programme: "horizon_europe",
            year: 2024,
            state: "funded",
            acronym: "VERDE",
            partners: vec![
                (
                    "Provincia di Treviso",
                    "IT",
                    Some("999999001"),
                    "coordinator",
                    None,
                    10_000_000,
                ),
                (
                    "Comune di Treviso",
                    "IT",
                    None,
                    "beneficiary",
                    Some("026086"),
                    5_000_000,
                ),
                (
                    "Stadt Graz",
                    "AT",
                    Some("999999002"),
                    "beneficiary",
                    None,
                    2_500_050,
                ),
            ],
        },
        Spec {
            id: 2,
            programme: "life",
            year: 2025,
            state: "not_funded",
            acronym: "MARE",
            partners: vec![
                (
                    "Comune di Altivole",
                    "IT",
                    None,
                    "beneficiary",
                    Some("026001"),
                    3_000_000,
                ),
                (
                    "Université de Lyon",
                    "FR",
                    None,
                    "coordinator",
                    None,
                    7_000_000,
                ),
            ],
        },
        Spec {
            id: 3,
            programme: "horizon_europe",
            year: 2025,
            state: "idea",
            acronym: "IDEA",
            partners: vec![],
        },
        Spec {
            id: 4,
            programme: "interreg",
            year: 2025,
            state: "withdrawn",
            acronym: "RITIRO",
            partners: vec![(
                "Comune di Asolo",
                "IT",
                None,
                "beneficiary",
                Some("026003"),
                1_000_000,
            )],
        },
    ]
}

/// Brescia (Lombardia): SCUOLE, LIFE 2024, in execution (200,000 + 40,000 €); RETE, Horizon
/// Europe 2025, reserve list (Brescia 60,000 €); DATI, Horizon Europe 2025, submitted
/// (Fraunhofer 500,000 €).
fn brescia() -> Vec<Spec> {
    vec![
        Spec {
            id: 10,
            programme: "life",
            year: 2024,
            state: "in_execution",
            acronym: "SCUOLE",
            partners: vec![
                (
                    "Provincia di Brescia",
                    "IT",
                    None,
                    "coordinator",
                    None,
                    20_000_000,
                ),
                (
                    "Comune di Brescia",
                    "IT",
                    None,
                    "beneficiary",
                    Some("017029"),
                    4_000_000,
                ),
            ],
        },
        Spec {
            id: 11,
            programme: "horizon_europe",
            year: 2025,
            state: "reserve",
            acronym: "RETE",
            partners: vec![(
                "Comune di Brescia",
                "IT",
                None,
                "coordinator",
                Some("017029"),
                6_000_000,
            )],
        },
        Spec {
            id: 12,
            programme: "horizon_europe",
            year: 2025,
            state: "submitted",
            acronym: "DATI",
            partners: vec![(
                "Fraunhofer-Gesellschaft",
                "DE",
                Some("999984059"),
                "coordinator",
                None,
                50_000_000,
            )],
        },
    ]
}

/// Padova (Veneto): GIOVANI, Erasmus+ 2025, grant signed, the Comune of Padova 60,000 €.
fn padova() -> Vec<Spec> {
    vec![Spec {
        id: 5,
        programme: "erasmus_plus",
        year: 2025,
        state: "grant_signed",
        acronym: "GIOVANI",
        partners: vec![(
            "Comune di Padova",
            "IT",
            None,
            "coordinator",
            Some("028060"),
            6_000_000,
        )],
    }]
}

/// The test batch of Treviso (`026`), Brescia (`017`) or Padova (`028`), for other tests.
pub(crate) fn sample(code: &str) -> Payload {
    let specs = match code {
        "026" => treviso(),
        "017" => brescia(),
        _ => padova(),
    };
    batch(&specs, vec![], None)
}

/// A hub holding the three Provinces' rows; Treviso's log is returned for later pushes.
pub(crate) async fn loaded() -> (TestApp, NodeLog) {
    let app = TestApp::spawn().await;
    let mut tv = NodeLog::new("026", "treviso");
    for (code, key, specs) in [("017", "brescia", brescia()), ("028", "padova", padova())] {
        let mut log = NodeLog::new(code, key);
        app.enrol(&log);
        let (status, body) = app.push(&[&log.next(&batch(&specs, vec![], None))]).await;
        assert_eq!(status, 200, "{body}");
    }
    app.enrol(&tv);
    let (status, body) = app
        .push(&[&tv.next(&batch(&treviso(), vec![], None))])
        .await;
    assert_eq!(status, 200, "{body}");
    (app, tv)
}

async fn summary(app: &TestApp, query: &str) -> Value {
    let (status, body) = app.get_json(&format!("/v1/sape/summary?{query}")).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// `(key, proposals, submitted, evaluated, funded, success_rate, requested, obtained)`.
type Line = (String, u64, u64, u64, u64, Value, String, String);

fn lines(summary: &Value) -> Vec<Line> {
    summary["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["key"].as_str().unwrap().to_owned(),
                i["proposals"].as_u64().unwrap(),
                i["submitted"].as_u64().unwrap(),
                i["evaluated"].as_u64().unwrap(),
                i["funded"].as_u64().unwrap(),
                i["success_rate"].clone(),
                i["requested"].as_str().unwrap().to_owned(),
                i["obtained"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[expect(clippy::too_many_arguments, reason = "one table line")]
fn line(
    key: &str,
    proposals: u64,
    submitted: u64,
    evaluated: u64,
    funded: u64,
    rate: Option<&str>,
    requested: &str,
    obtained: &str,
) -> Line {
    (
        key.to_owned(),
        proposals,
        submitted,
        evaluated,
        funded,
        rate.map_or(Value::Null, |r| json!(r)),
        requested.to_owned(),
        obtained.to_owned(),
    )
}

#[tokio::test]
async fn figures_by_every_grouping_are_exact() {
    let (app, _) = loaded().await;

    let by_province = summary(&app, "group=province").await;
    assert_eq!(by_province["provinces"], 3);
    // 8 proposals; submitted: all but the idea and the withdrawn one; evaluated: VERDE, MARE,
    // SCUOLE, RETE, GIOVANI; funded: VERDE, SCUOLE, GIOVANI (3 of 5 = 60 %). Requested over
    // the submitted: 175,000.50 + 100,000 + 240,000 + 60,000 + 500,000 + 60,000; obtained:
    // 175,000.50 + 240,000 + 60,000. The Comuni: requested 50,000 + 30,000 + 40,000 + 60,000
    // + 60,000; obtained 50,000 + 40,000 + 60,000.
    assert_eq!(
        by_province["total"],
        json!({
            "proposals": 8, "submitted": 6, "evaluated": 5, "funded": 3,
            "success_rate": "60.00",
            "requested": "1135000.50", "obtained": "475000.50",
            "comuni_requested": "240000.00", "comuni_obtained": "150000.00"
        })
    );
    assert_eq!(
        lines(&by_province),
        [
            line("017", 3, 3, 2, 1, Some("50.00"), "800000.00", "240000.00"),
            line("026", 4, 2, 2, 1, Some("50.00"), "275000.50", "175000.50"),
            line("028", 1, 1, 1, 1, Some("100.00"), "60000.00", "60000.00"),
        ]
    );
    let treviso = &by_province["items"][1];
    assert_eq!(treviso["label"], "Treviso");
    assert_eq!(
        (&treviso["comuni_requested"], &treviso["comuni_obtained"]),
        (&json!("80000.00"), &json!("50000.00"))
    );

    let by_region = summary(&app, "group=region").await;
    assert_eq!(
        lines(&by_region),
        [
            line(
                "Lombardia",
                3,
                3,
                2,
                1,
                Some("50.00"),
                "800000.00",
                "240000.00"
            ),
            line(
                "Veneto",
                5,
                3,
                3,
                2,
                Some("66.67"),
                "335000.50",
                "235000.50"
            ),
        ]
    );

    let by_programme = summary(&app, "group=programme").await;
    assert_eq!(
        lines(&by_programme),
        [
            line(
                "erasmus_plus",
                1,
                1,
                1,
                1,
                Some("100.00"),
                "60000.00",
                "60000.00"
            ),
            line(
                "horizon_europe",
                4,
                3,
                2,
                1,
                Some("50.00"),
                "735000.50",
                "175000.50"
            ),
            line("interreg", 1, 0, 0, 0, None, "0.00", "0.00"),
            line("life", 2, 2, 2, 1, Some("50.00"), "340000.00", "240000.00"),
        ]
    );
    assert_eq!(by_programme["items"][1]["label"], "Horizon Europe");

    let by_year = summary(&app, "group=year").await;
    assert_eq!(
        lines(&by_year),
        [
            line("2024", 2, 2, 2, 2, Some("100.00"), "415000.50", "415000.50"),
            line("2025", 6, 4, 3, 1, Some("33.33"), "720000.00", "60000.00"),
        ]
    );

    // Filters combine: Horizon Europe in 2025 is IDEA, RETE and DATI.
    let filtered = summary(&app, "group=province&year=2025&programme=horizon_europe").await;
    assert_eq!(
        filtered["total"],
        json!({
            "proposals": 3, "submitted": 2, "evaluated": 1, "funded": 0,
            "success_rate": "0.00",
            "requested": "560000.00", "obtained": "0.00",
            "comuni_requested": "60000.00", "comuni_obtained": "0.00"
        })
    );
    assert_eq!(
        (&filtered["year"], &filtered["programme"]),
        (&json!(2025), &json!("horizon_europe"))
    );
    let veneto = summary(&app, "group=province&region=Veneto").await;
    assert_eq!(veneto["provinces"], 2);
    assert_eq!(veneto["total"]["proposals"], 5);
    let brescia = summary(&app, "province=017").await;
    assert_eq!(lines(&brescia).len(), 1);
    assert_eq!(brescia["total"]["requested"], "800000.00");
}

#[tokio::test]
async fn the_comuni_taking_part_are_listed_with_names() {
    let (app, _) = loaded().await;
    let (status, body) = app.get_json("/v1/sape/comuni").await;
    assert_eq!(status, 200, "{body}");
    let items: Vec<(&str, &str, &str, u64, u64, &str, &str)> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["province"].as_str().unwrap(),
                c["comune"].as_str().unwrap(),
                c["name"].as_str().unwrap(),
                c["proposals"].as_u64().unwrap(),
                c["funded"].as_u64().unwrap(),
                c["requested"].as_str().unwrap(),
                c["obtained"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        items,
        [
            ("017", "017029", "Brescia", 2, 1, "100000.00", "40000.00"),
            ("026", "026001", "Altivole", 1, 0, "30000.00", "0.00"),
            // Asolo's proposal was withdrawn: it took part, but requested nothing.
            ("026", "026003", "Asolo", 1, 0, "0.00", "0.00"),
            ("026", "026086", "Treviso", 1, 1, "50000.00", "50000.00"),
            ("028", "028060", "Padova", 1, 1, "60000.00", "60000.00"),
        ]
    );
    let (_, lombardia) = app
        .get_json("/v1/sape/comuni?region=Lombardia&year=2025")
        .await;
    assert_eq!(
        lombardia["items"],
        json!([{
            "province": "017", "comune": "017029", "name": "Brescia",
            "proposals": 1, "funded": 0, "requested": "60000.00", "obtained": "0.00"
        }])
    );
}

#[tokio::test]
async fn funded_projects_are_listed_with_their_partners_searched_and_paged() {
    let (app, _) = loaded().await;
    let (status, body) = app.get_json("/v1/sape/projects").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["total"], 3);
    assert_eq!(body["next"], Value::Null);
    let keys: Vec<(&str, i64)> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["province"].as_str().unwrap(),
                p["proposal_id"].as_i64().unwrap(),
            )
        })
        .collect();
    // Newest year first, then by Province.
    assert_eq!(keys, [("028", 5), ("017", 10), ("026", 1)]);
    let verde = &body["items"][2];
    assert_eq!(verde["acronym"], "VERDE");
    assert_eq!(verde["programme_label"], "Horizon Europe");
    assert_eq!(verde["obtained"], "175000.50");
    assert_eq!(verde["comuni_obtained"], "50000.00");
    assert_eq!(verde["region"], "Veneto");
    assert_eq!(
        verde["partners"],
        json!([
            {"no": 1, "name": "Provincia di Treviso", "country": "IT", "country_name": "Italia",
             "pic": "999999001", "role": "coordinator", "comune": null, "comune_name": null,
             "obtained": "100000.00"},
            {"no": 2, "name": "Comune di Treviso", "country": "IT", "country_name": "Italia",
             "pic": null, "role": "beneficiary", "comune": "026086", "comune_name": "Treviso",
             "obtained": "50000.00"},
            {"no": 3, "name": "Stadt Graz", "country": "AT", "country_name": "Austria",
             "pic": "999999002", "role": "beneficiary", "comune": null, "comune_name": null,
             "obtained": "25000.50"}
        ])
    );

    // Search: every word, anywhere in the acronym, title, call or partners.
    for (q, expected) in [
        ("graz", vec!["VERDE"]),
        ("PADOVA", vec!["GIOVANI"]),
        ("comune brescia", vec!["SCUOLE"]),
        ("CALL-LIFE", vec!["SCUOLE"]),
        ("nessuno", vec![]),
    ] {
        let (status, found) = app
            .get_json(&format!("/v1/sape/projects?q={}", q.replace(' ', "+")))
            .await;
        assert_eq!(status, 200);
        let acronyms: Vec<&str> = found["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["acronym"].as_str().unwrap())
            .collect();
        assert_eq!(acronyms, expected, "{q}");
    }
    let (_, veneto) = app
        .get_json("/v1/sape/projects?region=Veneto&year=2024")
        .await;
    assert_eq!(veneto["total"], 1);

    // Pages of two: a cursor to the third.
    let (_, first) = app.get_json("/v1/sape/projects?limit=2").await;
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let next = first["next"].as_str().unwrap();
    let (_, second) = app
        .get_json(&format!("/v1/sape/projects?limit=2&cursor={next}"))
        .await;
    assert_eq!(second["items"][0]["acronym"], "VERDE");
    assert_eq!(second["next"], Value::Null);
    assert_eq!(second["total"], 3);
}

#[tokio::test]
async fn every_table_downloads_as_csv() {
    let (app, _) = loaded().await;
    let response = app
        .get_csv("/v1/sape/summary?group=province&format=csv")
        .await;
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("sape-province.csv")
    );
    assert_eq!(
        response.text().await.unwrap().lines().collect::<Vec<_>>(),
        [
            "codice_provincia,descrizione,proposte,presentate,valutate,finanziate,tasso_successo,contributo_richiesto,contributo_ottenuto,richiesto_per_comuni,ottenuto_per_comuni",
            "017,Brescia,3,3,2,1,50.00,800000.00,240000.00,100000.00,40000.00",
            "026,Treviso,4,2,2,1,50.00,275000.50,175000.50,80000.00,50000.00",
            "028,Padova,1,1,1,1,100.00,60000.00,60000.00,60000.00,60000.00",
        ]
    );
    // Semicolons with decimal commas and the byte order mark, for Italian spreadsheets.
    let response = app
        .get("/v1/sape/summary?group=programme&format=csv&sep=semicolon&bom=1&year=2024")
        .await;
    let bytes = response.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        [
            "programma;descrizione;proposte;presentate;valutate;finanziate;tasso_successo;contributo_richiesto;contributo_ottenuto;richiesto_per_comuni;ottenuto_per_comuni",
            "horizon_europe;Horizon Europe;1;1;1;1;100,00;175000,50;175000,50;50000,00;50000,00",
            "life;LIFE;1;1;1;1;100,00;240000,00;240000,00;40000,00;40000,00",
        ]
    );
    for group in ["region", "year"] {
        let (status, csv) = app
            .get_text(&format!("/v1/sape/summary?group={group}&format=csv"))
            .await;
        assert_eq!(status, 200, "{group}");
        let json = summary(&app, &format!("group={group}")).await;
        assert_eq!(
            csv.lines().count(),
            1 + json["items"].as_array().unwrap().len()
        );
    }
    let (status, comuni) = app
        .get_text("/v1/sape/comuni?province=028&format=csv")
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        comuni.lines().collect::<Vec<_>>(),
        [
            "codice_provincia,codice_comune,comune,proposte,finanziate,contributo_richiesto,contributo_ottenuto",
            "028,028060,Padova,1,1,60000.00,60000.00"
        ]
    );
    let (status, projects) = app.get_text("/v1/sape/projects?format=csv").await;
    assert_eq!(status, 200);
    let projects: Vec<&str> = projects.lines().collect();
    assert_eq!(
        projects.len(),
        1 + 6,
        "one line per partner of the three projects"
    );
    assert_eq!(
        projects[0],
        "codice_provincia,provincia,regione,id_proposta,acronimo,titolo,programma,identificativo_bando,identificativo_topic,anno,stato,ruolo_provincia,contributo_progetto,n_partner,partner,paese,pic,ruolo_partner,codice_comune,comune,contributo_partner"
    );
    assert_eq!(
        projects[1],
        "028,Padova,Veneto,5,GIOVANI,Progetto GIOVANI,erasmus_plus,CALL-ERASMUS_PLUS,CALL-ERASMUS_PLUS-05,2025,grant_signed,coordinator,60000.00,1,Comune di Padova,IT,,coordinator,028060,Padova,60000.00"
    );
    assert!(projects[6].contains(",3,Stadt Graz,AT,999999002,beneficiary,,,25000.50"));
}

#[tokio::test]
async fn figures_follow_later_pushes_and_withdrawals() {
    let (app, mut tv) = loaded().await;
    assert_eq!(summary(&app, "").await["total"]["proposals"], 8);
    // Treviso submits its idea with the Comune of Treviso as partner (80,000 €): the row
    // without partner goes, one with the partner comes.
    let submitted = Spec {
        id: 3,
        programme: "horizon_europe",
        year: 2025,
        state: "submitted",
        acronym: "IDEA",
        partners: vec![(
            "Comune di Treviso",
            "IT",
            None,
            "coordinator",
            Some("026086"),
            8_000_000,
        )],
    };
    let change = batch(
        &[submitted],
        vec![vec![FieldValue::Int(3), FieldValue::Int(0)]],
        None,
    );
    app.push_ok(&tv.next(&change)).await;
    let by_province = summary(&app, "group=province").await;
    assert_eq!(
        lines(&by_province)[1],
        line("026", 4, 3, 2, 1, Some("50.00"), "355000.50", "175000.50")
    );
    assert_eq!(by_province["items"][1]["comuni_requested"], "160000.00");
    assert_eq!(by_province["total"]["submitted"], 7);

    // Treviso withdraws the dataset (an empty snapshot): it no longer counts.
    let withdrawal = batch(
        &[],
        vec![],
        Some(SnapshotPart {
            id: "sape-withdrawn".into(),
            part: 1,
            parts: 1,
        }),
    );
    app.push_ok(&tv.next(&withdrawal)).await;
    let by_province = summary(&app, "group=province").await;
    assert_eq!(by_province["provinces"], 2);
    assert_eq!(by_province["total"]["proposals"], 4);
    let (_, projects) = app.get_json("/v1/sape/projects").await;
    assert_eq!(projects["total"], 2);
}

#[tokio::test]
async fn rows_of_another_schema_are_left_out() {
    let (app, _) = loaded().await;
    // Pesaro sends a `sape_progetti` dataset of its own making, keyed otherwise.
    let mut pu = app.enrolled("041", "pesaro");
    let foreign = Payload::DatasetBatch(DatasetBatch {
        dataset: "sape_progetti".into(),
        schema_version: 1,
        fields: vec!["codice".into(), "programme".into(), "funded".into()],
        primary_key: vec!["codice".into()],
        snapshot: None,
        upserts: vec![vec!["X1".into(), "life".into(), FieldValue::Bool(true)]],
        deletes: vec![],
    });
    app.push_ok(&pu.next(&foreign)).await;
    let by_province = summary(&app, "group=province").await;
    assert_eq!(by_province["provinces"], 3);
    assert_eq!(by_province["total"]["proposals"], 8);
}

#[tokio::test]
async fn an_empty_hub_answers_with_empty_figures() {
    let app = TestApp::spawn().await;
    let body = summary(&app, "group=year").await;
    assert_eq!(body["items"], json!([]));
    assert_eq!(body["provinces"], 0);
    assert_eq!(body["total"]["proposals"], 0);
    assert_eq!(body["total"]["success_rate"], Value::Null);
    assert_eq!(body["total"]["requested"], "0.00");
    let (status, projects) = app.get_json("/v1/sape/projects").await;
    assert_eq!(
        (status, &projects["items"], &projects["total"]),
        (200, &json!([]), &json!(0))
    );
    let (status, csv) = app.get_text("/v1/sape/comuni?format=csv").await;
    assert_eq!((status, csv.lines().count()), (200, 1));
    let (status, html) = app.get_text("/sape").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Nessuna Provincia ha ancora pubblicato il dataset dei progetti europei")
    );
    let (status, html) = app.get_text("/sape/progetti").await;
    assert_eq!(status, 200);
    assert!(html.contains("0 progetti finanziati"));
}

#[tokio::test]
async fn bad_parameters_are_refused_with_a_clear_problem() {
    let app = TestApp::spawn().await;
    for (query, expected) in [
        ("/v1/sape/summary?group=comune", "programme, year"),
        ("/v1/sape/summary?year=25", "quattro cifre"),
        ("/v1/sape/summary?province=26", "tre cifre"),
        ("/v1/sape/summary?province=999", "ISTAT"),
        ("/v1/sape/summary?region=Padania", "nome ISTAT"),
        ("/v1/sape/summary?programme=horizon", "horizon_europe"),
        ("/v1/sape/summary?format=xml", "json oppure csv"),
        ("/v1/sape/summary?format=csv&sep=tab", "semicolon"),
        ("/v1/sape/summary?bom=1", "format=csv"),
        ("/v1/sape/summary?format=csv&bom=si", "usare 1 oppure 0"),
        ("/v1/sape/summary?regione=Veneto", "regione"),
        ("/v1/sape/comuni?group=province", "vale solo per"),
        ("/v1/sape/projects?limit=-1", "numero intero"),
        ("/v1/sape/projects?cursor=zzz", "cursor"),
        (
            "/v1/sape/projects?format=csv&limit=5",
            "tutti i progetti trovati",
        ),
        ("/v1/sape/projects?group=year", "group"),
    ] {
        let response = app.get(query).await;
        assert_eq!(response.status(), 400, "{query}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{query}"
        );
        let problem: Value = response.json().await.unwrap();
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains(expected), "{query}: {detail}");
    }
    let (status, html) = app.get_text("/sape?programme=horizon&region=Padania").await;
    assert_eq!(status, 400);
    assert!(
        html.contains("«horizon» non è un programma"),
        "beside the field"
    );
    assert!(html.contains("«Padania» non è una regione"));
    let (status, _) = app.get_text("/sape/progetti?year=xx").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn the_pages_show_charts_each_followed_by_its_table_and_the_projects() {
    let (app, _) = loaded().await;
    let (status, html) = app.get_text("/sape").await;
    assert_eq!(status, 200);
    for id in ["per-provincia", "per-regione", "per-programma", "per-anno"] {
        let chart = html
            .find(&format!("id=\"grafico-{id}-proposte\""))
            .unwrap_or_else(|| panic!("chart {id}"));
        let value_chart = html
            .find(&format!("id=\"grafico-{id}-ottenuto\""))
            .unwrap_or_else(|| panic!("value chart {id}"));
        let table = html
            .find(&format!("id=\"tabella-{id}\""))
            .unwrap_or_else(|| panic!("table {id}"));
        assert!(
            chart < table && value_chart < table,
            "{id}: the table follows"
        );
        assert!(html[chart..table].contains("role=\"img\""));
    }
    assert!(
        html.contains("<p class=\"h3 mb-0\">1.135.000,50\u{a0}€</p><p class=\"mb-0\">Contributo UE richiesto</p>"),
        "requested, Italian format"
    );
    assert!(
        html.contains("<p class=\"h3 mb-0\">60%</p>"),
        "success rate"
    );
    assert!(html.contains("66,67%"), "Veneto's success rate");
    assert!(html.contains("Horizon Europe"));
    assert!(html.contains("Altivole"), "Comuni partners");
    assert!(html.contains("/v1/sape/summary?group=programme&amp;format=csv"));
    assert!(
        html.contains("href=\"/sape\""),
        "the navigation links the page"
    );
    assert!(html.contains("href=\"/sape/progetti\""));

    let (status, veneto) = app.get_text("/sape?region=Veneto&year=2025").await;
    assert_eq!(status, 200);
    let table = &veneto[veneto.find("id=\"tabella-per-provincia\"").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    assert!(table.contains("028 Padova"));
    assert!(!table.contains("Brescia"));
    assert!(veneto.contains("/v1/sape/comuni?format=csv&amp;year=2025&amp;region=Veneto"));

    let (status, projects) = app.get_text("/sape/progetti?q=graz").await;
    assert_eq!(status, 200);
    assert!(projects.contains("1 progetto finanziato"));
    assert!(projects.contains("VERDE"));
    assert!(!projects.contains("GIOVANI"));
    assert!(projects.contains("Stadt Graz"));
    assert!(projects.contains("Austria"));
    assert!(projects.contains("Comune di Treviso (Comune di Treviso, 026086)"));
    assert!(projects.contains("175.000,50\u{a0}€"));
    assert!(projects.contains("/v1/sape/projects?format=csv&amp;q=graz"));
}

#[tokio::test]
async fn the_routes_are_in_the_openapi_document() {
    let app = TestApp::spawn().await;
    let doc = app.openapi().await;
    let summary = &doc["paths"]["/v1/sape/summary"]["get"];
    let params = parameter_names(summary);
    assert_eq!(
        params,
        [
            "group",
            "year",
            "region",
            "province",
            "programme",
            "format",
            "sep",
            "bom"
        ]
    );
    for path in ["/v1/sape/summary", "/v1/sape/comuni", "/v1/sape/projects"] {
        let responses = &doc["paths"][path]["get"]["responses"];
        assert!(responses["200"].is_object(), "{path}");
        assert!(
            responses["400"]["content"]["application/problem+json"].is_object(),
            "{path}"
        );
    }
    assert!(doc["components"]["schemas"]["ProjectsPage"].is_object());
}
