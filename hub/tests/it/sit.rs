//! The SIT national view: what each Province offers and whom it reaches, the coverage of the
//! national platforms by Province, region and nation (figures worked out by hand below), the
//! national catalogue searched and filtered across Provinces, CSV of every table, figures
//! that follow a later push, bad parameters refused, and the pages.

use pico_protocol::payload::{DatasetBatch, FieldValue, Payload, Row};
use serde_json::{Value, json};

use crate::support::{NodeLog, TestApp, media_types};

/// The fields of `sit_servizi` schema version 1.
const SERVICE_FIELDS: [&str; 14] = [
    "code",
    "version",
    "name",
    "category",
    "theme",
    "audience",
    "population_threshold",
    "cost_model",
    "fee_cents",
    "first_answer_hours",
    "resolution_hours",
    "withdrawn",
    "active_comuni",
    "active_residents",
];

/// The fields of `sit_quadro_digitale` schema version 1.
const PICTURE_FIELDS: [&str; 14] = [
    "comune",
    "residents",
    "spid_since",
    "cie_since",
    "pagopa_since",
    "app_io_since",
    "anpr_since",
    "pdnd_since",
    "cloud_since",
    "pnrr_1_2",
    "pnrr_1_4_1",
    "pnrr_1_4_3",
    "pnrr_1_4_4",
    "pnrr_1_4_5",
];

/// `(code, name, category, audience threshold, cost model, fee cents, withdrawn, Comuni,
/// residents)`.
type ServiceSpec = (
    &'static str,
    &'static str,
    &'static str,
    Option<i64>,
    &'static str,
    i64,
    bool,
    i64,
    i64,
);

fn services(specs: &[ServiceSpec]) -> Payload {
    let rows: Vec<Row> = specs
        .iter()
        .map(
            |(code, name, category, threshold, model, fee, withdrawn, comuni, residents)| {
                vec![
                    (*code).into(),
                    FieldValue::Int(1),
                    (*name).into(),
                    (*category).into(),
                    FieldValue::Int(9),
                    if threshold.is_some() {
                        "under_threshold"
                    } else {
                        "all"
                    }
                    .into(),
                    threshold.map_or(FieldValue::Null, FieldValue::Int),
                    (*model).into(),
                    FieldValue::Int(*fee),
                    FieldValue::Int(4),
                    FieldValue::Int(24),
                    FieldValue::Bool(*withdrawn),
                    FieldValue::Int(*comuni),
                    FieldValue::Int(*residents),
                ]
            },
        )
        .collect();
    Payload::DatasetBatch(DatasetBatch {
        dataset: "sit_servizi".into(),
        schema_version: 1,
        fields: SERVICE_FIELDS.iter().map(|f| (*f).to_owned()).collect(),
        primary_key: vec!["code".into()],
        snapshot: None,
        upserts: rows,
        deletes: vec![],
    })
}

/// `(comune, residents, platforms in use)`.
fn pictures(specs: &[(&str, i64, &[&str])]) -> Payload {
    let platforms = ["spid", "cie", "pagopa", "app_io", "anpr", "pdnd", "cloud"];
    let rows: Vec<Row> = specs
        .iter()
        .map(|(comune, residents, used)| {
            let mut row: Row = vec![(*comune).into(), FieldValue::Int(*residents)];
            for platform in platforms {
                row.push(if used.contains(&platform) {
                    "2022-01-15".into()
                } else {
                    FieldValue::Null
                });
            }
            row.extend([
                FieldValue::Null,
                FieldValue::Null,
                FieldValue::Null,
                "obtained".into(),
                FieldValue::Null,
            ]);
            row
        })
        .collect();
    Payload::DatasetBatch(DatasetBatch {
        dataset: "sit_quadro_digitale".into(),
        schema_version: 1,
        fields: PICTURE_FIELDS.iter().map(|f| (*f).to_owned()).collect(),
        primary_key: vec!["comune".into()],
        snapshot: None,
        upserts: rows,
        deletes: vec![],
    })
}

/// Treviso (Veneto): pagoPA per inhabitant (2 Comuni, 93,201 residents), the RTD office for
/// Comuni under 15,000 (1 Comune, 7,088), an old GIS withdrawn; pictures of Treviso (86,113:
/// SPID, pagoPA), Altivole (7,088: SPID) and Asolo (9,000: nothing).
fn treviso_services(pagopa_comuni: i64, pagopa_residents: i64) -> Payload {
    services(&[
        (
            "adesione-pagopa",
            "Adesione a pagoPA e App IO",
            "payments",
            None,
            "per_inhabitant",
            15,
            false,
            pagopa_comuni,
            pagopa_residents,
        ),
        (
            "ufficio-rtd",
            "Ufficio associato per la transizione digitale",
            "digital_office",
            Some(15_000),
            "fixed",
            150_000,
            false,
            1,
            7_088,
        ),
        (
            "vecchio-gis",
            "Vecchio sistema cartografico",
            "gis",
            None,
            "free",
            0,
            true,
            0,
            0,
        ),
    ])
}

/// A hub holding the three Provinces' rows; Treviso's log is returned for later pushes.
/// Brescia (Lombardia): a cybersecurity service (3 Comuni, 250,000 residents); pictures of
/// Brescia (196,000: SPID, CIE, pagoPA, ANPR) and Acquafredda (4,000: ANPR). Padova
/// (Veneto): no catalogue; the picture of Padova (206,000: SPID, pagoPA, App IO).
async fn loaded() -> (TestApp, NodeLog) {
    let app = TestApp::spawn().await;
    let mut tv = NodeLog::new("026", "treviso");
    let mut bs = NodeLog::new("017", "brescia");
    let mut pd = NodeLog::new("028", "padova");
    for log in [&tv, &bs, &pd] {
        app.enrol(log);
    }
    let batches = [
        tv.next(&treviso_services(2, 93_201)),
        tv.next(&pictures(&[
            ("026086", 86_113, &["spid", "pagopa"]),
            ("026001", 7_088, &["spid"]),
            ("026003", 9_000, &[]),
        ])),
    ];
    let (status, body) = app.push(&batches.iter().collect::<Vec<_>>()).await;
    assert_eq!(status, 200, "{body}");
    let batches = [
        bs.next(&services(&[(
            "presidio-cyber",
            "Presidio di sicurezza informatica",
            "cybersecurity",
            None,
            "fixed",
            90_000,
            false,
            3,
            250_000,
        )])),
        bs.next(&pictures(&[
            ("017029", 196_000, &["spid", "cie", "pagopa", "anpr"]),
            ("017001", 4_000, &["anpr"]),
        ])),
    ];
    let (status, body) = app.push(&batches.iter().collect::<Vec<_>>()).await;
    assert_eq!(status, 200, "{body}");
    let entry = pd.next(&pictures(&[(
        "028060",
        206_000,
        &["spid", "pagopa", "app_io"],
    )]));
    let (status, body) = app.push(&[&entry]).await;
    assert_eq!(status, 200, "{body}");
    (app, tv)
}

async fn ok(app: &TestApp, path: &str) -> Value {
    let (status, body) = app.get_json(path).await;
    assert_eq!(status, 200, "{path}: {body}");
    body
}

/// `(platform, Comuni, share, residents, share)` of a coverage group.
fn platforms(group: &Value) -> Vec<(String, u64, Value, u64, Value)> {
    group["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["platform"].as_str().unwrap().to_owned(),
                p["comuni"].as_u64().unwrap(),
                p["comuni_share"].clone(),
                p["residents"].as_u64().unwrap(),
                p["residents_share"].clone(),
            )
        })
        .collect()
}

fn share(
    platform: &str,
    comuni: u64,
    c: &str,
    residents: u64,
    r: &str,
) -> (String, u64, Value, u64, Value) {
    (platform.to_owned(), comuni, json!(c), residents, json!(r))
}

#[tokio::test]
async fn offers_coverage_and_catalogue_are_exact() {
    let (app, mut tv) = loaded().await;

    // What each Province offers: Padova has no catalogue; Treviso's withdrawn GIS is out.
    let offers = ok(&app, "/v1/sit/provinces").await;
    assert_eq!(offers["service_count"], 3);
    let items = offers["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(
        (
            &items[0]["province"],
            &items[0]["name"],
            &items[0]["region"]
        ),
        (&json!("017"), &json!("Brescia"), &json!("Lombardia"))
    );
    assert_eq!(items[0]["active_subscriptions"], 3);
    assert_eq!(items[1]["province"], "026");
    assert_eq!(items[1]["service_count"], 2);
    assert_eq!(items[1]["active_subscriptions"], 3);
    assert_eq!(
        items[1]["services"],
        json!([
            {"code": "adesione-pagopa", "name": "Adesione a pagoPA e App IO", "category": "payments",
             "active_comuni": 2, "active_residents": 93_201},
            {"code": "ufficio-rtd", "name": "Ufficio associato per la transizione digitale",
             "category": "digital_office", "active_comuni": 1, "active_residents": 7_088}
        ])
    );
    let veneto = ok(&app, "/v1/sit/provinces?region=Veneto").await;
    assert_eq!(veneto["items"].as_array().unwrap().len(), 1);
    assert_eq!(veneto["service_count"], 2);

    // Coverage, nation: 6 Comuni with 508,201 residents. SPID: Treviso, Altivole, Brescia,
    // Padova = 4 of 6 (66.67 %), 495,201 residents (97.44 %); CIE: Brescia, 196,000
    // (38.57 %); pagoPA: Treviso, Brescia, Padova, 488,113 (96.05 %); App IO: Padova,
    // 206,000 (40.54 %); ANPR: Brescia, Acquafredda, 200,000 (39.35 %); PDND, cloud: none.
    let coverage = ok(&app, "/v1/sit/coverage").await;
    let total = &coverage["total"];
    assert_eq!(
        (&total["provinces"], &total["comuni"], &total["residents"]),
        (&json!(3), &json!(6), &json!(508_201))
    );
    assert_eq!(
        platforms(total),
        [
            share("spid", 4, "66.67", 495_201, "97.44"),
            share("cie", 1, "16.67", 196_000, "38.57"),
            share("pagopa", 3, "50.00", 488_113, "96.05"),
            share("app_io", 1, "16.67", 206_000, "40.54"),
            share("anpr", 2, "33.33", 200_000, "39.35"),
            share("pdnd", 0, "0.00", 0, "0.00"),
            share("cloud", 0, "0.00", 0, "0.00"),
        ]
    );
    let keys: Vec<&str> = coverage["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["017", "026", "028"]);
    // Treviso: 3 Comuni, 102,201 residents; SPID 2 (66.67 %), 93,201 (91.19 %).
    let treviso = &coverage["items"][1];
    assert_eq!(
        (&treviso["comuni"], &treviso["residents"]),
        (&json!(3), &json!(102_201))
    );
    assert_eq!(
        platforms(treviso)[0],
        share("spid", 2, "66.67", 93_201, "91.19")
    );
    // By region: Lombardia (2 Comuni, 200,000: SPID 1, 50 %, 196,000, 98 %; ANPR both) and
    // Veneto (Treviso and Padova: 4 Comuni, 308,201; SPID 3, 75 %, 299,201, 97.08 %; pagoPA
    // 2, 50 %, 292,113, 94.78 %).
    let by_region = ok(&app, "/v1/sit/coverage?by=region").await;
    let regions = by_region["items"].as_array().unwrap();
    assert_eq!(
        (regions[0]["key"].as_str(), regions[1]["key"].as_str()),
        (Some("Lombardia"), Some("Veneto"))
    );
    let lombardia = platforms(&regions[0]);
    assert_eq!(lombardia[0], share("spid", 1, "50.00", 196_000, "98.00"));
    assert_eq!(lombardia[4], share("anpr", 2, "100.00", 200_000, "100.00"));
    assert_eq!(
        (
            &regions[1]["provinces"],
            &regions[1]["comuni"],
            &regions[1]["residents"]
        ),
        (&json!(2), &json!(4), &json!(308_201))
    );
    let veneto = platforms(&regions[1]);
    assert_eq!(veneto[0], share("spid", 3, "75.00", 299_201, "97.08"));
    assert_eq!(veneto[2], share("pagopa", 2, "50.00", 292_113, "94.78"));
    assert_eq!(by_region["total"], coverage["total"]);

    // The national catalogue: searched by words (in the name, category, Province), filtered.
    let codes = |view: &Value| -> Vec<(String, String)> {
        view["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["province"].as_str().unwrap().to_owned(),
                    s["code"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let all = ok(&app, "/v1/sit/services").await;
    assert_eq!(
        codes(&all),
        [
            ("017".into(), "presidio-cyber".into()),
            ("026".into(), "adesione-pagopa".into()),
            ("026".into(), "ufficio-rtd".into())
        ]
    );
    let pagopa = &all["items"][1];
    assert_eq!(
        (
            &pagopa["fee"],
            &pagopa["cost_model"],
            &pagopa["province_name"],
            &pagopa["active_residents"]
        ),
        (
            &json!("0.15"),
            &json!("per_inhabitant"),
            &json!("Treviso"),
            &json!(93_201)
        )
    );
    assert_eq!(all["items"][2]["population_threshold"], 15_000);
    assert_eq!(
        codes(&ok(&app, "/v1/sit/services?q=PAGOPA%20app").await),
        [("026".into(), "adesione-pagopa".into())]
    );
    assert_eq!(
        codes(&ok(&app, "/v1/sit/services?q=brescia").await),
        [("017".into(), "presidio-cyber".into())]
    );
    assert_eq!(
        codes(&ok(&app, "/v1/sit/services?q=sicurezza").await),
        [("017".into(), "presidio-cyber".into())]
    );
    assert_eq!(
        codes(&ok(&app, "/v1/sit/services?category=digital_office").await),
        [("026".into(), "ufficio-rtd".into())]
    );
    assert_eq!(
        codes(&ok(&app, "/v1/sit/services?region=Lombardia").await),
        [("017".into(), "presidio-cyber".into())]
    );
    assert_eq!(
        ok(&app, "/v1/sit/services?region=Veneto&q=cyber").await["items"],
        json!([])
    );
    assert_eq!(
        codes(&ok(&app, "/v1/sit/services?province=026&withdrawn=1").await).len(),
        3
    );

    // CSV of every table.
    let (status, csv) = app
        .get_text("/v1/sit/services?format=csv&sep=semicolon")
        .await;
    assert_eq!(status, 200);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(lines[0].starts_with(
        "codice_provincia;provincia;regione;codice_servizio;versione;servizio;categoria"
    ));
    assert!(lines[2].contains("026;Treviso;Veneto;adesione-pagopa;1;Adesione a pagoPA e App IO;Pagamenti e servizi in app (pagoPA, App IO);Tutti i Comuni;;Quota annua per abitante;0,15;4;24;no;2;93201"), "{csv}");
    let (_, csv) = app.get_text("/v1/sit/coverage?by=region&format=csv").await;
    assert!(
        csv.contains("Veneto,Veneto,SPID,4,3,75.00,308201,299201,97.08"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 1 + 2 * 7);
    let (_, csv) = app.get_text("/v1/sit/provinces?format=csv").await;
    assert!(csv.contains("017,Brescia,Lombardia,presidio-cyber,Presidio di sicurezza informatica,Sicurezza informatica,3,250000"), "{csv}");
    assert_eq!(csv.lines().count(), 1 + 3);

    // A later push of Treviso: the figures follow.
    let entry = tv.next(&treviso_services(3, 102_201));
    let (status, body) = app.push(&[&entry]).await;
    assert_eq!(status, 200, "{body}");
    let offers = ok(&app, "/v1/sit/provinces?region=Veneto").await;
    assert_eq!(offers["items"][0]["services"][0]["active_comuni"], 3);
    assert_eq!(offers["items"][0]["active_subscriptions"], 4);

    // Bad parameters: problem documents naming what is wrong.
    for (path, word) in [
        ("/v1/sit/coverage?by=comune", "by"),
        ("/v1/sit/services?region=Atlantide", "region"),
        ("/v1/sit/services?category=boh", "category"),
        ("/v1/sit/services?province=26", "province"),
        ("/v1/sit/services?withdrawn=forse", "withdrawn"),
        ("/v1/sit/provinces?q=pagopa", "q"),
        ("/v1/sit/coverage?category=gis", "category"),
        ("/v1/sit/services?format=xml", "format"),
        ("/v1/sit/services?sep=semicolon", "sep"),
        ("/v1/sit/services?colore=blu", "colore"),
    ] {
        let (status, body) = app.get_json(path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(
            body["detail"].as_str().unwrap_or_default().contains(word),
            "{path}: {body}"
        );
    }
}

#[tokio::test]
async fn the_pages_show_the_view_and_the_searchable_catalogue() {
    let empty = TestApp::spawn().await;
    let (status, page) = empty.get_text("/sit").await;
    assert_eq!(status, 200);
    assert!(page.contains(r#"id="nessun-dato""#));

    let (app, _) = loaded().await;
    let (status, page) = app.get_text("/sit").await;
    assert_eq!(status, 200);
    assert!(page.contains("<h1>Servizi innovativi delle Province</h1>"));
    assert!(page.contains(r#"id="grafico-offerta""#) && page.contains(r#"id="tabella-offerta""#));
    assert!(
        page.contains(r#"id="grafico-copertura""#) && page.contains(r#"id="tabella-copertura""#)
    );
    // SPID in 4 of the 6 Comuni, in Italian notation.
    assert!(page.contains("66,67%"), "{page}");
    assert!(
        page.contains(r#"href="/v1/sit/coverage?format=csv&amp;by=region""#),
        "{page}"
    );
    assert!(page.contains(r#"href="/sit/catalogo""#));
    let (status, page) = app.get_text("/sit?region=Lombardia").await;
    assert_eq!(status, 200);
    assert!(page.contains("Presidio di sicurezza informatica"));
    assert!(!page.contains("Adesione a pagoPA e App IO"));
    let (status, page) = app.get_text("/sit?region=Atlantide").await;
    assert_eq!(status, 400);
    assert!(page.contains("«Atlantide» non è una regione"));

    let (status, page) = app.get_text("/sit/catalogo?q=pagopa").await;
    assert_eq!(status, 200);
    assert!(page.contains("1 servizio trovato."), "{page}");
    assert!(page.contains("Adesione a pagoPA e App IO"));
    assert!(
        page.contains("0,15\u{a0}€ per abitante all&#39;anno")
            || page.contains("0,15\u{a0}€ per abitante all'anno"),
        "{page}"
    );
    assert!(
        page.contains(r#"href="/v1/sit/services?format=csv&amp;q=pagopa""#),
        "{page}"
    );
    let (status, page) = app
        .get_text("/sit/catalogo?category=digital_office&region=Veneto")
        .await;
    assert_eq!(status, 200);
    assert!(page.contains("Comuni sotto 15.000 abitanti"), "{page}");
    let (status, page) = app.get_text("/sit/catalogo?category=boh").await;
    assert_eq!(status, 400);
    assert!(page.contains("«boh» non è una categoria"));

    // Linked from the navigation and the home page (the datasets' cards).
    let (_, home) = app.get_text("/").await;
    assert!(home.contains(r#"href="/sit""#), "{home}");
}

#[tokio::test]
async fn the_routes_are_in_the_openapi_document() {
    let app = TestApp::spawn().await;
    let doc = app.openapi().await;
    for path in ["/v1/sit/provinces", "/v1/sit/coverage", "/v1/sit/services"] {
        let responses = &doc["paths"][path]["get"]["responses"];
        let media = media_types(&responses["200"]);
        assert_eq!(media, ["application/json", "text/csv"], "{path}");
        for status in ["400", "429", "500"] {
            assert!(
                responses[status]["content"]["application/problem+json"].is_object(),
                "{path} {status}"
            );
        }
    }
    for schema in ["SitOffersView", "SitCoverageView", "SitCatalogueView"] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
    }
}
