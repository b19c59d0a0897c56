//! The report on the Provinces' information assets against a hand-built case: three
//! Provinces with known datasets and metadata, every expected figure worked out by hand and
//! written literally.
//!
//! - Treviso (026, Veneto): `appalti`, 5 rows, open, monthly, all 7 recommended properties;
//!   `progetti`, 3 rows, internal, irregular, only the publisher (1 of 7).
//! - Padova (028, Veneto): `appalti`, 2 rows, no metadata (0 of 7).
//! - Bergamo (016, Lombardia): `servizi`, 4 rows, open, annual, no temporal coverage (6 of 7).

use pico_protocol::dcat::{self, Agent, DatasetMetadata, Period};
use pico_protocol::payload::{DatasetBatch, FieldValue, Payload};
use serde_json::{Value, json};

use crate::support::{NodeLog, TestApp};

fn rows(dataset: &str, n: i64) -> Payload {
    Payload::DatasetBatch(DatasetBatch {
        dataset: dataset.into(),
        schema_version: 1,
        fields: vec!["id".into(), "valore".into()],
        primary_key: vec!["id".into()],
        snapshot: None,
        upserts: (0..n)
            .map(|i| vec![FieldValue::Int(i), format!("{i}.50").into()])
            .collect(),
        deletes: vec![],
    })
}

fn agent(name: &str, ipa: &str) -> Agent {
    Agent {
        name: name.into(),
        ipa_code: ipa.into(),
    }
}

fn metadata(dataset: &str, open: bool, org: Agent) -> DatasetMetadata {
    DatasetMetadata {
        dataset: dataset.into(),
        open,
        identifier: format!("{}:{dataset}", org.ipa_code),
        title: format!("Il dataset {dataset}"),
        description: "Un dataset di prova del rapporto.".into(),
        themes: Vec::new(),
        keywords: Vec::new(),
        publisher: org.clone(),
        rights_holder: org,
        contact_point: String::new(),
        modified: "2025-01-15".into(),
        accrual_periodicity: dcat::concept_uri(dcat::FREQUENCY_SCHEME, "IRREG"),
        temporal: None,
        spatial: Vec::new(),
        license: String::new(),
    }
}

/// Pushes the hand-built case.
async fn hand_built_case(app: &TestApp) {
    let mut tv = NodeLog::new("026", "treviso");
    let mut pd = NodeLog::new("028", "padova");
    let mut bg = NodeLog::new("016", "bergamo");
    for node in [&tv, &pd, &bg] {
        app.enrol(node);
    }
    let treviso = agent("Provincia di Treviso", "p_tv");
    let tv_appalti = DatasetMetadata {
        themes: vec![
            dcat::concept_uri(dcat::THEME_SCHEME, "GOVE"),
            dcat::concept_uri(dcat::THEME_SCHEME, "ECON"),
        ],
        keywords: vec!["appalti".into(), "SUA".into()],
        contact_point: "sua@provincia.treviso.it".into(),
        accrual_periodicity: dcat::concept_uri(dcat::FREQUENCY_SCHEME, "MONTHLY"),
        temporal: Some(Period {
            start: "2024-01-01".into(),
            end: "2024-12-31".into(),
        }),
        spatial: vec!["026".into()],
        license: dcat::concept_uri(dcat::LICENCE_SCHEME, "A21_CCBY40"),
        ..metadata("appalti", true, treviso.clone())
    };
    let tv_progetti = metadata("progetti", false, treviso);
    let bergamo = agent("Provincia di Bergamo", "p_bg");
    let bg_servizi = DatasetMetadata {
        themes: vec![dcat::concept_uri(dcat::THEME_SCHEME, "GOVE")],
        keywords: vec!["servizi".into()],
        contact_point: "dati@provincia.bergamo.it".into(),
        accrual_periodicity: dcat::concept_uri(dcat::FREQUENCY_SCHEME, "ANNUAL"),
        spatial: vec!["016".into()],
        license: dcat::concept_uri(dcat::LICENCE_SCHEME, "A29_IODL20"),
        ..metadata("servizi", true, bergamo)
    };
    let entries = [
        tv.next(&rows("appalti", 5)),
        tv.next(&Payload::DatasetMetadata(tv_appalti)),
        tv.next(&rows("progetti", 3)),
        tv.next(&Payload::DatasetMetadata(tv_progetti)),
    ];
    assert_eq!(app.push(&entries.iter().collect::<Vec<_>>()).await.0, 200);
    app.push_ok(&pd.next(&rows("appalti", 2))).await;
    let entries = [
        bg.next(&rows("servizi", 4)),
        bg.next(&Payload::DatasetMetadata(bg_servizi)),
    ];
    assert_eq!(app.push(&entries.iter().collect::<Vec<_>>()).await.0, 200);
}

fn province<'a>(report: &'a Value, code: &str) -> &'a Value {
    report["provinces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == code)
        .unwrap()
}

fn region<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["regions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["region"] == name)
        .unwrap()
}

/// The figures of a Province, region or the country, in one comparable object.
fn figures(v: &Value) -> Value {
    let keys = [
        "datasets",
        "open",
        "internal",
        "without_metadata",
        "on_time",
        "late",
        "not_assessable",
        "rows",
        "metadata_present",
        "metadata_expected",
        "completeness_percent",
    ];
    Value::Object(
        keys.iter()
            .map(|k| ((*k).to_owned(), v[*k].clone()))
            .collect(),
    )
}

#[tokio::test]
async fn the_report_counts_a_hand_built_case() {
    let app = TestApp::spawn().await;
    hand_built_case(&app).await;
    let (status, report) = app.get_json("/v1/dati/rapporto").await;
    assert_eq!(status, 200, "{report}");

    let treviso = province(&report, "026");
    assert_eq!(
        figures(treviso),
        json!({"datasets": 2, "open": 1, "internal": 1, "without_metadata": 0,
               "on_time": 1, "late": 0, "not_assessable": 1, "rows": 8,
               "metadata_present": 8, "metadata_expected": 14, "completeness_percent": 57})
    );
    assert_eq!(treviso["name"], "Treviso");
    assert_eq!(treviso["region"], "Veneto");
    assert_eq!(
        treviso["licences"],
        json!(["https://w3id.org/italia/controlled-vocabulary/licences/A21_CCBY40"])
    );
    assert_eq!(
        treviso["themes"],
        json!([
            "http://publications.europa.eu/resource/authority/data-theme/ECON",
            "http://publications.europa.eu/resource/authority/data-theme/GOVE"
        ])
    );
    assert!(treviso["last_change"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        figures(province(&report, "028")),
        json!({"datasets": 1, "open": 0, "internal": 0, "without_metadata": 1,
               "on_time": 0, "late": 0, "not_assessable": 1, "rows": 2,
               "metadata_present": 0, "metadata_expected": 7, "completeness_percent": 0})
    );
    assert_eq!(
        figures(province(&report, "016")),
        json!({"datasets": 1, "open": 1, "internal": 0, "without_metadata": 0,
               "on_time": 1, "late": 0, "not_assessable": 0, "rows": 4,
               "metadata_present": 6, "metadata_expected": 7, "completeness_percent": 86})
    );
    // A Province that has not published is listed with zeros and no completeness.
    let verona = province(&report, "023");
    assert_eq!(verona["datasets"], 0);
    assert_eq!(verona["completeness_percent"], Value::Null);
    assert_eq!(verona["last_change"], Value::Null);
    assert_eq!(report["provinces"].as_array().unwrap().len(), 86);

    let veneto = region(&report, "Veneto");
    assert_eq!(
        veneto["upi_provinces"], 6,
        "Venezia is a Città metropolitana"
    );
    assert_eq!(veneto["publishing"], 2);
    assert_eq!(
        figures(veneto),
        json!({"datasets": 3, "open": 1, "internal": 1, "without_metadata": 1,
               "on_time": 1, "late": 0, "not_assessable": 2, "rows": 10,
               "metadata_present": 8, "metadata_expected": 21, "completeness_percent": 38})
    );
    let lombardia = region(&report, "Lombardia");
    assert_eq!(
        lombardia["upi_provinces"], 11,
        "Milano is a Città metropolitana"
    );
    assert_eq!(lombardia["publishing"], 1);
    assert_eq!(lombardia["datasets"], 1);
    assert_eq!(region(&report, "Molise")["datasets"], 0);

    let national = &report["national"];
    assert_eq!(national["upi_provinces"], 86);
    assert_eq!(national["upi_publishing"], 3);
    assert_eq!(national["publishing"], 3);
    assert_eq!(
        figures(national),
        json!({"datasets": 4, "open": 2, "internal": 1, "without_metadata": 1,
               "on_time": 2, "late": 0, "not_assessable": 2, "rows": 14,
               "metadata_present": 14, "metadata_expected": 28, "completeness_percent": 50})
    );
    assert_eq!(
        national["licences"],
        json!([
            {"uri": "https://w3id.org/italia/controlled-vocabulary/licences/A21_CCBY40",
             "label": "Creative Commons Attribuzione 4.0 Internazionale (CC BY 4.0)", "datasets": 1},
            {"uri": "https://w3id.org/italia/controlled-vocabulary/licences/A29_IODL20",
             "label": "Italian Open Data License 2.0 (IODL 2.0)", "datasets": 1},
        ])
    );
    assert_eq!(
        national["themes"],
        json!([
            {"uri": "http://publications.europa.eu/resource/authority/data-theme/GOVE",
             "label": "Governo e settore pubblico", "datasets": 2},
            {"uri": "http://publications.europa.eu/resource/authority/data-theme/ECON",
             "label": "Economia e finanze", "datasets": 1},
        ])
    );
    let missing = report["not_published"].as_array().unwrap();
    assert_eq!(missing.len(), 83);
    assert!(
        !missing
            .iter()
            .any(|m| ["026", "028", "016"].contains(&m["code"].as_str().unwrap()))
    );
    assert_eq!(
        missing[0],
        json!({"code": "002", "name": "Vercelli", "region": "Piemonte"}),
        "Torino (001) is a Città metropolitana"
    );
    assert_eq!(
        report["recommended_properties"].as_array().unwrap().len(),
        7
    );
}

#[tokio::test]
async fn a_dataset_not_changed_within_its_period_is_late() {
    let app = TestApp::spawn().await;
    hand_built_case(&app).await;
    let conn = app.state.db.get().unwrap();
    let units = pico_hub::db::report::units(&conn).unwrap();
    let published = pico_hub::db::report::published(&conn).unwrap();
    let now = pico_hub::db::now_unix();
    let at = |days: i64| pico_hub::report::build(&units, &published, now + days * 86_400);
    let national = |days: i64| {
        let f = at(days).national.figures;
        (f.on_time, f.late, f.not_assessable)
    };
    // Monthly (Treviso's appalti) is late after 31 days, annual (Bergamo's) after 366; the
    // irregular and the one without metadata are never assessed.
    assert_eq!(national(0), (2, 0, 2));
    assert_eq!(national(30), (2, 0, 2));
    assert_eq!(national(32), (1, 1, 2));
    assert_eq!(national(367), (0, 2, 2));
    let later = at(32);
    let treviso = later.provinces.iter().find(|p| p.code == "026").unwrap();
    assert_eq!((treviso.figures.on_time, treviso.figures.late), (0, 1));
}

#[tokio::test]
async fn the_report_is_a_csv_and_a_printable_page() {
    let app = TestApp::spawn().await;
    hand_built_case(&app).await;
    let response = app.get_csv("/v1/dati/rapporto?format=csv").await;
    let csv = response.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "codice",
            "provincia",
            "regione",
            "upi",
            "dataset",
            "aperti",
            "interni",
            "senza_metadati",
            "aggiornati",
            "in_ritardo",
            "non_valutabili",
            "righe",
            "proprieta_presenti",
            "proprieta_attese",
            "completezza_metadati_percento",
            "licenze",
            "temi",
            "ultimo_aggiornamento"
        ]
    );
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 86);
    let treviso = records.iter().find(|r| &r[0] == "026").unwrap();
    assert_eq!(
        treviso.iter().take(17).collect::<Vec<_>>(),
        [
            "026",
            "Treviso",
            "Veneto",
            "sì",
            "2",
            "1",
            "1",
            "0",
            "1",
            "0",
            "1",
            "8",
            "8",
            "14",
            "57",
            "Creative Commons Attribuzione 4.0 Internazionale (CC BY 4.0)",
            "Economia e finanze; Governo e settore pubblico"
        ]
    );
    for (query, status) in [("?format=xml", 400), ("?per_page=3", 400)] {
        let (got, _) = app.get_json(&format!("/v1/dati/rapporto{query}")).await;
        assert_eq!(got, status, "{query}");
    }

    let (status, page) = app.get_text("/dati/rapporto").await;
    assert_eq!(status, 200);
    for expected in [
        "<h1>Rapporto sul patrimonio informativo delle Province</h1>",
        "Province UPI che pubblicano dati: 3 su 86 (3%).",
        "Dataset pubblicati: 4, di cui 2 aperti, 1 interni a Pi.Co. e 1 senza metadati.",
        "2 aggiornati, 0 in ritardo, 2 non valutabili",
        "(proprietà raccomandate DCAT-AP presenti): 50%",
        "id=\"grafico-regioni\"",
        "id=\"tabella-regioni\"",
        "id=\"tabella-province\"",
        "id=\"tabella-temi\"",
        "id=\"tabella-licenze\"",
        "@media print",
        "<code>dcat:contactPoint</code>",
        "83 Province UPI su 86 non hanno ancora pubblicato",
        "Verona (Veneto)",
        "href=\"/v1/dati/rapporto?format=csv\"",
    ] {
        assert!(page.contains(expected), "{expected:?} in the page");
    }
    assert!(
        !page.contains(">Treviso (Veneto)<"),
        "a publishing Province is not among the missing"
    );
    // Linked from the navigation and from the home page.
    let (_, home) = app.get_text("/").await;
    assert!(home.contains("href=\"/dati/rapporto\""));
}
