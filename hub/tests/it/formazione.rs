//! The national view of training: the signed targets (verified with the hub key a node
//! pins, tampering refused, changed by an operator), and the progress of the programme, of
//! each region, sector and Province against them, exactly, from signed
//! `formazione_aggregati` batches of three Provinces (figures computed by hand below); the
//! Provinces behind; CSV; filters; bad parameters; the page.

use pico_protocol::PublicKey;
use pico_protocol::jws::Jws;
use pico_protocol::payload::{DatasetBatch, FieldValue, Payload, Row};
use pico_protocol::targets::FormazioneTargets;
use serde_json::{Value, json};

use crate::support::{NodeLog, OPERATOR_TOKEN, TestApp, media_types, parameter_names};

/// The fields of schema version 1 (`protocol/datasets/formazione_aggregati.md`).
const FIELDS: [&str; 9] = [
    "sector",
    "year",
    "editions",
    "sessions",
    "minutes_scheduled",
    "enrolled",
    "completed",
    "people_trained",
    "minutes_attended",
];

/// sector, year, editions, sessions, minutes scheduled, enrolled, completed, people trained,
/// minutes attended.
type Spec = (&'static str, i64, i64, i64, i64, i64, i64, i64, i64);

fn batch(specs: &[Spec]) -> Payload {
    Payload::DatasetBatch(DatasetBatch {
        dataset: "formazione_aggregati".into(),
        schema_version: 1,
        fields: FIELDS.iter().map(|f| (*f).to_owned()).collect(),
        primary_key: vec!["sector".into(), "year".into()],
        snapshot: None,
        upserts: specs
            .iter()
            .map(|(sector, year, ed, se, ms, en, co, pt, ma)| -> Row {
                let mut row: Row = vec![(*sector).into()];
                row.extend([year, ed, se, ms, en, co, pt, ma].map(|n| FieldValue::Int(*n)));
                row
            })
            .collect(),
        deletes: vec![],
    })
}

/// Treviso (Veneto): Appalti 7 trained in 2025 and 3 in 2026 (10 against a target of 5:
/// 5 credited), Europa 3 in 2025 (3 of 3), 9 in "altro" (no target).
fn treviso() -> Vec<Spec> {
    vec![
        ("appalti", 2025, 2, 6, 720, 12, 10, 7, 4800),
        ("appalti", 2026, 1, 3, 360, 5, 4, 3, 1200),
        ("europa", 2025, 1, 2, 240, 4, 3, 3, 700),
        ("altro", 2025, 1, 1, 120, 10, 9, 9, 1000),
    ]
}

/// Padova (Veneto): Innovazione 4 in 2025 (3 credited), Personale 5 in 2026 (4 credited).
fn padova() -> Vec<Spec> {
    vec![
        ("innovazione", 2025, 1, 4, 480, 6, 5, 4, 1500),
        ("personale", 2026, 1, 2, 180, 5, 5, 5, 900),
    ]
}

/// Brescia (Lombardia): Appalti 2 in 2025, Europa none in 2026.
fn brescia() -> Vec<Spec> {
    vec![
        ("appalti", 2025, 1, 2, 300, 3, 2, 2, 500),
        ("europa", 2026, 1, 1, 90, 2, 0, 0, 60),
    ]
}

/// The test batch of Treviso (`026`), Padova (`028`) or Brescia (`017`), for other tests.
pub(crate) fn sample(code: &str) -> Payload {
    batch(&match code {
        "026" => treviso(),
        "028" => padova(),
        _ => brescia(),
    })
}

async fn loaded() -> (TestApp, NodeLog) {
    let app = TestApp::spawn().await;
    let mut tv = app.enrolled("026", "treviso");
    for (code, key) in [("028", "padova"), ("017", "brescia")] {
        let mut log = NodeLog::new(code, key);
        app.enrol(&log);
        let (status, body) = app.push(&[&log.next(&sample(code))]).await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, body) = app.push(&[&tv.next(&sample("026"))]).await;
    assert_eq!(status, 200, "{body}");
    (app, tv)
}

fn item<'a>(view: &'a Value, key: &str) -> &'a Value {
    view["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["key"] == key)
        .unwrap_or_else(|| panic!("no item {key} in {view}"))
}

fn keys(view: &Value) -> Vec<String> {
    view["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["key"].as_str().unwrap().to_owned())
        .collect()
}

async fn hub_key(app: &TestApp) -> PublicKey {
    let (_, info) = app.get_json("/.well-known/pico-federation").await;
    info["hub_key"].as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn targets_are_signed_by_the_hub_and_operators_change_them() {
    let app = TestApp::spawn().await;
    let key = hub_key(&app).await;
    let (status, signed) = app.get_json("/v1/formazione/targets").await;
    assert_eq!(status, 200, "{signed}");
    let jws: Jws = serde_json::from_value(signed.clone()).unwrap();
    let targets = FormazioneTargets::verify(&jws, &key).unwrap();
    assert_eq!(
        (
            targets.revision,
            targets.provinces,
            targets.hours_per_person_year
        ),
        (1, 86, 40)
    );
    assert_eq!(
        targets
            .sectors
            .iter()
            .map(|s| (
                s.sector.as_str(),
                s.people_per_province,
                targets.national(&s.sector)
            ))
            .collect::<Vec<_>>(),
        [
            ("appalti", 5, 430),
            ("europa", 3, 258),
            ("innovazione", 3, 258),
            ("personale", 4, 344)
        ]
    );
    // The same revision is the same bytes.
    assert_eq!(app.get_json("/v1/formazione/targets").await.1, signed);
    // A changed payload does not verify.
    let mut tampered = jws.clone();
    let mut payload: Value = serde_json::from_slice(&jws.payload_bytes().unwrap()).unwrap();
    payload["sectors"][0]["people_per_province"] = json!(1);
    tampered.payload = base64_url(&pico_protocol::canonical::to_vec(&payload).unwrap());
    assert!(FormazioneTargets::verify(&tampered, &key).is_err());

    // Operators only.
    let put = |token: Option<&str>, body: Value| {
        let mut request = app
            .http
            .put(format!("{}/v1/formazione/targets", app.url))
            .json(&body);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        request.send()
    };
    let change = json!({"sectors": [{"sector": "appalti", "people_per_province": 6}]});
    let response = put(None, change.clone()).await.unwrap();
    assert_eq!(response.status().as_u16(), 401);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let response = put(
        Some(OPERATOR_TOKEN),
        json!({"sectors": [{"sector": "Appalti!", "people_per_province": 6}]}),
    )
    .await
    .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let response = put(Some(OPERATOR_TOKEN), change.clone()).await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let jws: Jws = response.json().await.unwrap();
    let changed = FormazioneTargets::verify(&jws, &key).unwrap();
    assert_eq!((changed.revision, changed.national("appalti")), (2, 516));
    // The same change again changes nothing: same revision.
    let again: Jws = put(Some(OPERATOR_TOKEN), change)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(FormazioneTargets::verify(&again, &key).unwrap().revision, 2);
    let (_, progress) = app.get_json("/v1/formazione/progress?group=sector").await;
    assert_eq!(item(&progress, "appalti")["target"], 516);
    assert_eq!(progress["targets_revision"], 2);
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[tokio::test]
async fn progress_against_the_targets_is_exact() {
    let (app, mut tv) = loaded().await;

    // Every year. Credited: Treviso 5 + 3 = 8, Padova 3 + 4 = 7, Brescia 2: 17 of 15 × 86 =
    // 1,290 (1.32 %). Behind the pace: the 83 Provinces that publish nothing.
    let (status, all) = app.get_json("/v1/formazione/progress").await;
    assert_eq!(status, 200, "{all}");
    let total = &all["total"];
    assert_eq!(total["provinces"], 86);
    assert_eq!(total["publishing"], 3);
    assert_eq!(total["behind"], 83);
    assert_eq!(total["people_trained"], 24);
    assert_eq!(total["target"], 1290);
    assert_eq!(total["credited"], 17);
    assert_eq!(total["target_share"], "1.32");
    // 720+360+240+120+480+180+300+90 = 2,490 minutes; attended 10,660 minutes.
    assert_eq!(total["hours_delivered"], "41.50");
    assert_eq!(total["hours_attended"], "177.67");
    assert_eq!(
        (total["enrolled"].clone(), total["completed"].clone()),
        (json!(47), json!(38))
    );
    assert_eq!(total["completion_rate"], "80.85");
    assert_eq!(all["items"].as_array().unwrap().len(), 86);
    let treviso = item(&all, "026");
    assert_eq!(treviso["label"], "Treviso");
    assert_eq!(treviso["region"], "Veneto");
    assert_eq!(
        (
            treviso["people_trained"].clone(),
            treviso["credited"].clone(),
            treviso["target"].clone(),
            treviso["behind"].clone()
        ),
        (json!(13), json!(8), json!(15), json!(0))
    );
    assert_eq!(treviso["target_share"], "53.33");
    assert_eq!(
        treviso["sectors"],
        json!([
            {"sector": "appalti", "people_trained": 10, "target": 5, "credited": 5, "target_share": "100.00"},
            {"sector": "europa", "people_trained": 3, "target": 3, "credited": 3, "target_share": "100.00"},
            {"sector": "innovazione", "people_trained": 0, "target": 3, "credited": 0, "target_share": "0.00"},
            {"sector": "personale", "people_trained": 0, "target": 4, "credited": 0, "target_share": "0.00"},
        ])
    );
    assert_eq!(item(&all, "025")["behind"], 1);
    assert_eq!(item(&all, "025")["publishing"], 0);

    // By sector.
    let (_, sectors) = app.get_json("/v1/formazione/progress?group=sector").await;
    assert_eq!(
        keys(&sectors),
        ["appalti", "europa", "innovazione", "personale", "altro"]
    );
    let figures = |key: &str| {
        let i = item(&sectors, key);
        (
            i["people_trained"].as_u64().unwrap(),
            i["credited"].as_u64().unwrap(),
            i["target"].as_u64().unwrap(),
            i["hours_delivered"].as_str().unwrap().to_owned(),
        )
    };
    assert_eq!(figures("appalti"), (12, 7, 430, "23.00".into()));
    assert_eq!(figures("europa"), (3, 3, 258, "5.50".into()));
    assert_eq!(figures("innovazione"), (4, 3, 258, "8.00".into()));
    assert_eq!(figures("personale"), (5, 4, 344, "3.00".into()));
    assert_eq!(figures("altro"), (9, 0, 0, "2.00".into()));
    assert_eq!(item(&sectors, "altro")["target_share"], Value::Null);
    assert_eq!(item(&sectors, "europa")["completion_rate"], "50.00");
    assert_eq!(item(&sectors, "appalti")["label"], "Appalti");

    // By region: Veneto has 6 Provinces of the programme (target 90), Lombardia 11 (165).
    let (_, regions) = app.get_json("/v1/formazione/progress?group=region").await;
    let veneto = item(&regions, "Veneto");
    assert_eq!(
        [
            &veneto["provinces"],
            &veneto["publishing"],
            &veneto["behind"],
            &veneto["credited"],
            &veneto["target"]
        ],
        [&json!(6), &json!(2), &json!(4), &json!(15), &json!(90)]
    );
    assert_eq!(veneto["target_share"], "16.67");
    let lombardia = item(&regions, "Lombardia");
    assert_eq!(
        [
            &lombardia["provinces"],
            &lombardia["behind"],
            &lombardia["credited"],
            &lombardia["target"]
        ],
        [&json!(11), &json!(10), &json!(2), &json!(165)]
    );
    assert_eq!(
        regions["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["provinces"].as_u64().unwrap())
            .sum::<u64>(),
        86
    );

    // Filters: a region; the Provinces behind in it; a year.
    let (_, veneto) = app.get_json("/v1/formazione/progress?region=Veneto").await;
    assert_eq!(keys(&veneto), ["023", "024", "025", "026", "028", "029"]);
    assert_eq!(veneto["total"]["credited"], 15);
    let (_, behind) = app
        .get_json("/v1/formazione/progress?region=Veneto&behind=1")
        .await;
    assert_eq!(keys(&behind), ["023", "024", "025", "029"]);
    // 2025: Treviso 5 + 3, Padova 3, Brescia 2 = 13 credited of 1,290; 7 + 3 + 4 + 2 = 16 trained.
    let (_, year) = app
        .get_json("/v1/formazione/progress?year=2025&group=sector")
        .await;
    assert_eq!(year["total"]["credited"], 13);
    assert_eq!(year["total"]["people_trained"], 16);
    assert_eq!(year["total"]["target_share"], "1.01");
    assert_eq!(item(&year, "personale")["people_trained"], 0);

    // CSV of the sectors: Italian headers, one line per sector.
    let (status, csv) = app
        .get_text("/v1/formazione/progress?group=sector&format=csv")
        .await;
    assert_eq!(status, 200);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "settore,nome,province_programma,province_che_pubblicano,province_in_ritardo,persone_formate,obiettivo,persone_conteggiate,quota_obiettivo_percento,edizioni,sessioni,ore_erogate,ore_frequentate,iscritti,completati,tasso_completamento_percento"
    );
    // Appalti: every Province but Treviso is below the sector's target (85).
    assert_eq!(
        lines.next().unwrap(),
        "appalti,Appalti,86,3,85,12,430,7,1.63,4,11,23.00,108.33,20,16,80.00"
    );
    assert_eq!(csv.lines().count(), 6);
    let (_, csv) = app
        .get_text("/v1/formazione/progress?format=csv&sep=semicolon&region=Veneto")
        .await;
    let treviso_line = csv.lines().find(|l| l.starts_with("026;")).unwrap();
    assert_eq!(
        treviso_line,
        "026;Treviso;Veneto;1;1;0;13;15;8;53,33;5;12;24,00;128,33;31;26;83,87;10;5;3;3;0;3;0;4"
    );

    // A later push moves the figures: Treviso trains 6 in Personale in 2026 (4 credited).
    let (status, body) = app
        .push(&[&tv.next(&batch(&[("personale", 2026, 1, 1, 60, 6, 6, 6, 360)]))])
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, after) = app.get_json("/v1/formazione/progress?group=sector").await;
    assert_eq!(after["total"]["credited"], 21);
    assert_eq!(after["total"]["target_share"], "1.63");
    assert_eq!(item(&after, "personale")["people_trained"], 11);

    // Bad parameters: problem+json in Italian, naming the parameter.
    for (query, word) in [
        ("group=anno", "group"),
        ("year=25", "year"),
        ("region=Atlantide", "region"),
        ("group=region&behind=1", "behind"),
        ("sep=semicolon", "sep"),
        ("format=xml", "format"),
        ("colore=blu", "colore"),
    ] {
        let response = app.get(&format!("/v1/formazione/progress?{query}")).await;
        assert_eq!(response.status().as_u16(), 400, "{query}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{query}"
        );
        let problem: Value = response.json().await.unwrap();
        assert!(
            problem["detail"].as_str().unwrap().contains(word),
            "{query}: {problem}"
        );
    }

    // The page: Italian figures, the tables and their CSV links, the filters.
    let (status, page) = app.get_text("/formazione").await;
    assert_eq!(status, 200);
    for text in [
        "Formazione del personale delle Province e dei Comuni",
        "30 su 1.290",
        "1,63%",
        "83 su 86",
        "tabella-per-settore",
        "tabella-per-regione",
        "tabella-in-ritardo",
        "tabella-per-provincia",
        "/v1/formazione/progress?group=sector&amp;format=csv",
        "Nazionale (86 Province)",
    ] {
        assert!(page.contains(text), "the page shows {text}");
    }
    let (status, page) = app.get_text("/formazione?year=xx&region=Veneto").await;
    assert_eq!(status, 400);
    assert!(page.contains("non è un anno"));
    assert!(page.contains("su 90"), "the Veneto target is 90");
    let (status, home) = app.get_text("/").await;
    assert_eq!(status, 200);
    assert!(home.contains("href=\"/formazione\""));
}

#[tokio::test]
async fn an_empty_programme_is_said_so() {
    let app = TestApp::spawn().await;
    let (_, view) = app.get_json("/v1/formazione/progress?group=sector").await;
    assert_eq!(view["total"]["target_share"], "0.00");
    assert_eq!(
        view["total"]["behind"], 0,
        "nobody is behind a pace of zero"
    );
    let (status, page) = app.get_text("/formazione").await;
    assert_eq!(status, 200);
    assert!(page.contains("nessun-dato"));
}

#[tokio::test]
async fn the_routes_are_in_the_openapi_document() {
    let app = TestApp::spawn().await;
    let doc = app.openapi().await;
    let progress = &doc["paths"]["/v1/formazione/progress"]["get"];
    let params = parameter_names(progress);
    assert_eq!(
        params,
        ["group", "year", "region", "behind", "format", "sep", "bom"]
    );
    let media = media_types(&progress["responses"]["200"]);
    assert_eq!(media, ["application/json", "text/csv"]);
    assert!(progress["responses"]["400"]["content"]["application/problem+json"].is_object());
    let targets = &doc["paths"]["/v1/formazione/targets"];
    assert!(targets["get"]["responses"]["200"].is_object());
    for status in ["200", "400", "401", "404"] {
        assert!(
            targets["put"]["responses"][status].is_object(),
            "put: no {status}"
        );
    }
    assert!(doc["components"]["schemas"]["FormazioneProgress"].is_object());
    assert!(doc["components"]["schemas"]["SignedTargets"].is_object());
}

/// The fields of `formazione_corsi` (`protocol/datasets/formazione_corsi.md`).
const COURSE_FIELDS: [&str; 16] = [
    "course",
    "edition",
    "title",
    "sector",
    "hours",
    "mode",
    "syllabus_area",
    "syllabus_level",
    "tags",
    "first_day",
    "last_day",
    "sessions",
    "minutes",
    "seats",
    "enrol_opens",
    "enrol_closes",
];

/// Editions of open courses: id (the edition's is ten times it), title, sector, tags, day.
fn course_batch(rows: &[(i64, &str, &str, Option<&str>, &str)]) -> Payload {
    Payload::DatasetBatch(DatasetBatch {
        dataset: "formazione_corsi".into(),
        schema_version: 1,
        fields: COURSE_FIELDS.iter().map(|f| (*f).to_owned()).collect(),
        primary_key: vec!["course".into(), "edition".into()],
        snapshot: None,
        upserts: rows
            .iter()
            .map(|(id, title, sector, tags, day)| -> Row {
                vec![
                    FieldValue::Int(*id),
                    FieldValue::Int(*id * 10),
                    (*title).into(),
                    (*sector).into(),
                    FieldValue::Int(6),
                    "online".into(),
                    FieldValue::Null,
                    FieldValue::Null,
                    tags.map_or(FieldValue::Null, FieldValue::from),
                    (*day).into(),
                    (*day).into(),
                    FieldValue::Int(2),
                    FieldValue::Int(360),
                    FieldValue::Int(30),
                    "2026-01-01".into(),
                    "2026-12-31".into(),
                ]
            })
            .collect(),
        deletes: vec![],
    })
}

/// Two open courses' editions, for other tests (the pages' crawl).
pub(crate) fn course_sample() -> Payload {
    course_batch(&[
        (
            1,
            "Il nuovo codice dei contratti",
            "appalti",
            Some("RUP, subappalto"),
            "2026-03-10",
        ),
        (
            2,
            "Progettare con i fondi europei",
            "europa",
            None,
            "2026-05-04",
        ),
    ])
}

#[tokio::test]
async fn the_catalogue_of_open_courses_is_searched_across_provinces_by_pages() {
    let app = TestApp::spawn().await;
    let mut treviso = app.enrolled("026", "treviso");
    let mut brescia = app.enrolled("017", "brescia");
    let (status, body) = app
        .push(&[&treviso.next(&course_batch(&[
            (
                1,
                "Il nuovo codice dei contratti",
                "appalti",
                Some("RUP, subappalto"),
                "2026-03-10",
            ),
            (
                2,
                "Progettare con i fondi europei",
                "europa",
                None,
                "2026-05-04",
            ),
        ]))])
        .await;
    assert_eq!(status, 200, "{body}");
    let rows: Vec<(i64, &str, &str, Option<&str>, &str)> = (1..=25)
        .map(|n| {
            (
                n,
                "Contratti pubblici: il RUP",
                "appalti",
                None,
                "2026-01-15",
            )
        })
        .collect();
    let (status, body) = app.push(&[&brescia.next(&course_batch(&rows))]).await;
    assert_eq!(status, 200, "{body}");

    let (status, all) = app.get_json("/v1/formazione/courses").await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(
        (
            all["total"].clone(),
            all["page"].clone(),
            all["per_page"].clone()
        ),
        (json!(27), json!(1), json!(20))
    );
    assert_eq!(all["items"].as_array().unwrap().len(), 20);
    // Newest first day first: Treviso's May and March editions lead.
    let first = &all["items"][0];
    assert_eq!(
        (
            &first["province"],
            &first["province_name"],
            &first["region"],
            &first["title"],
            &first["sector_label"]
        ),
        (
            &json!("026"),
            &json!("Treviso"),
            &json!("Veneto"),
            &json!("Progettare con i fondi europei"),
            &json!("Europa")
        )
    );
    let (_, last) = app.get_json("/v1/formazione/courses?page=2").await;
    assert_eq!(last["items"].as_array().unwrap().len(), 7);
    let (_, beyond) = app.get_json("/v1/formazione/courses?page=9").await;
    assert_eq!(beyond["items"], json!([]));

    // Words in the title and the competences, every one of them; sector; Province; region.
    let (_, rup) = app
        .get_json("/v1/formazione/courses?q=rup&per_page=100")
        .await;
    assert_eq!(rup["total"], 26);
    let (_, both) = app
        .get_json("/v1/formazione/courses?q=codice%20subappalto")
        .await;
    assert_eq!(both["total"], 1);
    assert_eq!(both["items"][0]["tags"], "RUP, subappalto");
    let (_, europa) = app.get_json("/v1/formazione/courses?sector=europa").await;
    assert_eq!(europa["total"], 1);
    let (_, brescia_only) = app.get_json("/v1/formazione/courses?province=017").await;
    assert_eq!(brescia_only["total"], 25);
    let (_, veneto) = app.get_json("/v1/formazione/courses?region=Veneto").await;
    assert_eq!(veneto["total"], 2);

    // Limits, explicit, in Italian.
    for query in [
        "per_page=101",
        "per_page=0",
        "page=0",
        "sector=sport",
        "province=26",
        "region=Atlantide",
        "format=csv&page=2",
        "colore=blu",
    ] {
        let (status, problem) = app
            .get_json(&format!("/v1/formazione/courses?{query}"))
            .await;
        assert_eq!(status, 400, "{query}: {problem}");
    }
    let (status, problem) = app.get_json("/v1/formazione/courses?per_page=101").await;
    assert_eq!(status, 400);
    assert!(
        problem["detail"].as_str().unwrap().contains("da 1 a 100"),
        "{problem}"
    );

    let (status, csv) = app
        .get_text("/v1/formazione/courses?format=csv&sector=appalti")
        .await;
    assert_eq!(status, 200);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 1 + 26);
    assert!(
        lines[0].starts_with("codice_provincia,provincia,regione,corso,edizione,titolo,settore")
    );

    let (status, page) = app.get_text("/formazione/corsi?q=fondi").await;
    assert_eq!(status, 200);
    assert!(page.contains("Progettare con i fondi europei"), "{page}");
    assert!(page.contains("04/05/2026"));
    assert!(page.contains("1 edizione"));
    let (status, page) = app.get_text("/formazione/corsi?sector=appalti").await;
    assert_eq!(status, 200);
    assert!(page.contains("26 edizioni"));
    assert!(page.contains("pagina=2"));
    let (status, page) = app.get_text("/formazione/corsi?sector=sport").await;
    assert_eq!(status, 400);
    assert!(page.contains("sector-errore"));
    assert!(
        page.contains("27 edizioni"),
        "the other filters still apply"
    );

    let doc = app.openapi().await;
    let courses = &doc["paths"]["/v1/formazione/courses"]["get"];
    assert!(courses["responses"]["200"]["content"]["text/csv"].is_object());
    assert!(courses["responses"]["400"]["content"]["application/problem+json"].is_object());
}
