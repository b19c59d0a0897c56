//! SAPE: the real Horizon Europe topics file and a portal search-API fixture imported (all
//! or nothing, re-imports idempotent), the status derived from dates on fixed days, full-text
//! search with filters and pages, hand entry with Italian field errors, follows and the
//! iCalendar feed with its revocable secret, flags on the Comune's dashboard, proposals with a
//! hand-checked budget, and the Comuni's tenancy.

use std::collections::BTreeMap;
use std::time::Instant;

use pico_node::auth::{Module, Role};
use pico_node::db;
use pico_node::sape::db::{CallFilter, search_calls};
use pico_protocol::ComuneCode;
use pico_service::Db;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, add_user, assert_problem, login};

const TREVISO: &str = "026086";
const ALTIVOLE: &str = "026001";

struct Sape {
    app: TestApp,
    sape: String,
    sua: String,
    tv: String,
    alt: String,
}

impl Sape {
    async fn spawn() -> Sape {
        let app = TestApp::spawn("026").await;
        let cfg = &app.config;
        let comune = |code: &str| Role::Comune(ComuneCode::parse(code).unwrap());
        Sape {
            sape: add_user(cfg, "operatore.sape", &Role::Operator(Module::Sape)),
            sua: add_user(cfg, "operatore.sua", &Role::Operator(Module::Sua)),
            tv: add_user(cfg, "comune.treviso", &comune(TREVISO)),
            alt: add_user(cfg, "comune.altivole", &comune(ALTIVOLE)),
            app,
        }
    }

    async fn import(&self, file: &str) -> reqwest::Response {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        let bytes = std::fs::read(path).unwrap();
        let kind = if file.ends_with(".json") {
            "application/json"
        } else {
            "text/csv"
        };
        self.app
            .post_raw(
                "/v1/sape/calls/import?filename=topics",
                &self.sape,
                kind,
                bytes,
            )
            .await
    }

    async fn import_all(&self) {
        let csv = self.import(TOPICS).await;
        assert_eq!(csv.status(), StatusCode::OK);
        let json = self.import(FIXTURE).await;
        assert_eq!(json.status(), StatusCode::OK);
        // The fixture reuses one real identifier: across formats, a known call is updated.
        assert_eq!(
            json.json::<Value>().await.unwrap(),
            json!({"total": 4, "created": 3, "updated": 1})
        );
    }

    async fn get_json(&self, path: &str, token: &str) -> Value {
        let response = self.app.get(path, Some(token)).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        response.json().await.unwrap()
    }

    async fn call_id(&self, identifier: &str) -> i64 {
        let page = self
            .get_json(&format!("/v1/sape/calls?q={identifier}"), &self.sape)
            .await;
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["identifier"] == identifier)
            .unwrap_or_else(|| panic!("{identifier} not found"))["id"]
            .as_i64()
            .unwrap()
    }

    /// Creates a proposal as the SAPE office and returns its view.
    async fn create_proposal(&self, body: &Value) -> Value {
        let response = self
            .app
            .post_json("/v1/sape/proposals", Some(&self.sape), body)
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.unwrap()
    }

    /// A proposal's view as `token` sees it.
    async fn proposal(&self, id: i64, token: &str) -> Value {
        self.get_json(&format!("/v1/sape/proposals/{id}"), token)
            .await
    }

    fn db(&self) -> Db {
        Db::open_existing(&self.app.config.db_path(), db::MIGRATIONS, 1).unwrap()
    }
}

const TOPICS: &str = "data/eu_ft_horizon_europe_topics_2024-07-11.csv";
const FIXTURE: &str = "tests/fixtures/sape_portal_search.json";

fn identifiers(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["identifier"].as_str().unwrap().to_owned())
        .collect()
}

/// Counts of the topics file read independently of the importer: by the `process` column,
/// and all rows.
fn topics_by_process() -> BTreeMap<String, usize> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(TOPICS);
    let mut reader = csv::Reader::from_path(path).unwrap();
    let process = reader
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "process")
        .unwrap();
    let mut counts = BTreeMap::new();
    for record in reader.records() {
        *counts
            .entry(record.unwrap()[process].to_owned())
            .or_default() += 1;
    }
    counts
}

/// Topics of the file with a closing or second-stage date in `from..=to`, read
/// independently of the importer.
fn topics_with_a_deadline_between(from: &str, to: &str) -> Vec<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(TOPICS);
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (topic, close, second) = (col("topicId"), col("closeDate"), col("s2Date"));
    reader
        .records()
        .map(Result::unwrap)
        .filter(|row| {
            [&row[close], &row[second]]
                .iter()
                .any(|day| !day.is_empty() && **day >= *from && **day <= *to)
        })
        .map(|row| row[topic].to_owned())
        .collect()
}

#[tokio::test]
async fn the_real_topics_file_imports_once_and_reimports_as_updates() {
    let s = Sape::spawn().await;
    let started = Instant::now();
    let response = s.import(TOPICS).await;
    let elapsed = started.elapsed();
    assert_eq!(response.status(), StatusCode::OK);
    let report: Value = response.json().await.unwrap();
    assert_eq!(
        report,
        json!({"total": 1907, "created": 1907, "updated": 0})
    );
    println!("import of 1,907 topics through the API: {elapsed:?}");

    let again: Value = s.import(TOPICS).await.json().await.unwrap();
    assert_eq!(again, json!({"total": 1907, "created": 0, "updated": 1907}));

    let conn = s.db().get().unwrap();
    assert_eq!(pico_node::sape::db::count_calls(&conn).unwrap(), 1907);
    // Processes as the file has them.
    let by_process = topics_by_process();
    let two_stage: i64 = conn
        .query_row(
            "SELECT count(*) FROM sape_calls WHERE deadline_model = 'two_stage'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(two_stage as usize, by_process["two-stage"]);
    assert_eq!(by_process["single-stage"] + by_process["two-stage"], 1907);

    // The status derived on the file's day: the portal said Closed 1,759, Open 124,
    // Forthcoming 24; one topic opened on 9 July 2024 and the portal had not caught up, so
    // the dates make it 125 open and 23 in arrivo.
    let count = |status: &'static str, today: &str| {
        let filter = CallFilter {
            status: Some(status),
            ..CallFilter::default()
        };
        search_calls(&conn, &filter, today, 5000, 0).unwrap().len()
    };
    assert_eq!(count("closed", "2024-07-11"), 1759);
    assert_eq!(count("open", "2024-07-11"), 125);
    assert_eq!(count("forthcoming", "2024-07-11"), 23);
    // Before the first deadline (20 May 2021) nothing was closed yet.
    assert_eq!(count("closed", "2021-05-20"), 0);
    assert_eq!(count("closed", "2021-05-21"), 2);
    // Long after the last deadline everything is.
    assert_eq!(count("closed", "2030-01-01"), 1907);

    // A two-stage topic closes for new applications at its first stage.
    let two: (String, String, String) = conn
        .query_row(
            "SELECT c.closing_date, min(d.deadline), max(d.deadline) FROM sape_calls c \
             JOIN sape_call_deadlines d ON d.call_id = c.id WHERE c.deadline_model = 'two_stage' \
             GROUP BY c.id LIMIT 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .unwrap();
    assert_eq!(two.0, two.1);
    assert!(two.2 > two.1);
    s.app.stop().await;
}

#[tokio::test]
async fn the_search_api_fixture_imports_its_deadline_models_and_budgets() {
    let s = Sape::spawn().await;
    let report: Value = s.import(FIXTURE).await.json().await.unwrap();
    assert_eq!(report, json!({"total": 4, "created": 4, "updated": 0}));

    let cutoff = s.call_id("DIGITAL-2025-EDIH-AC-07").await;
    let call = s
        .get_json(&format!("/v1/sape/calls/{cutoff}"), &s.sape)
        .await["call"]
        .clone();
    assert_eq!(call["programme"], "digital_europe");
    assert_eq!(call["deadline_model"], "multiple_cutoff");
    assert_eq!(
        call["deadlines"],
        json!([
            {"date": "2025-03-31", "stage": "cutoff"},
            {"date": "2025-06-30", "stage": "cutoff"},
            {"date": "2025-10-31", "stage": "cutoff"},
        ])
    );
    assert_eq!(call["closing_date"], "2025-10-31");
    assert_eq!(call["opening_date"], "2025-02-01");
    assert_eq!(call["budget"], "7500000.50");
    assert_eq!(call["expected_grants"], 10);
    assert_eq!(call["min_contribution"], "500000.00");
    assert_eq!(call["max_contribution"], "750000.00");
    assert_eq!(
        call["keywords"],
        "digital transformation; public administration; small municipalities"
    );

    let two = s.call_id("HORIZON-MISS-2025-CIT-01-01").await;
    let call = s.get_json(&format!("/v1/sape/calls/{two}"), &s.sape).await["call"].clone();
    assert_eq!(call["deadline_model"], "two_stage");
    assert_eq!(call["closing_date"], "2025-04-10");
    assert_eq!(call["budget"], "30000000.00");
    assert_eq!(call["funding_rate"], 100);
    assert_eq!(
        call["deadlines"],
        json!([{"date": "2025-04-10", "stage": "first"}, {"date": "2025-09-18", "stage": "second"}])
    );

    let ia = s.call_id("HORIZON-CL5-2024-D3-01-01").await;
    let call = s.get_json(&format!("/v1/sape/calls/{ia}"), &s.sape).await["call"].clone();
    assert_eq!(call["funding_rate"], 70);
    assert_eq!(
        call["type_of_action"],
        "HORIZON-IA HORIZON Innovation Actions"
    );

    let life = s.call_id("LIFE-2026-SAP-NAT").await;
    let call = s.get_json(&format!("/v1/sape/calls/{life}"), &s.sape).await["call"].clone();
    assert_eq!(call["programme"], "life");
    assert_eq!(call["budget"], Value::Null);

    // The fixture's statuses on the days the portal would have given them.
    let conn = s.db().get().unwrap();
    let status_on = |identifier: &str, today: &str| {
        ["forthcoming", "open", "closed"]
            .into_iter()
            .find(|status| {
                let filter = CallFilter {
                    status: Some(status),
                    fts: Some(format!(
                        "\"{}\"",
                        identifier.to_lowercase().replace('-', " ")
                    )),
                    ..CallFilter::default()
                };
                search_calls(&conn, &filter, today, 10, 0)
                    .unwrap()
                    .iter()
                    .any(|c| c.record.identifier == identifier)
            })
            .unwrap()
    };
    assert_eq!(
        status_on("DIGITAL-2025-EDIH-AC-07", "2025-01-31"),
        "forthcoming"
    );
    assert_eq!(status_on("DIGITAL-2025-EDIH-AC-07", "2025-04-01"), "open");
    assert_eq!(status_on("DIGITAL-2025-EDIH-AC-07", "2025-10-31"), "open");
    assert_eq!(status_on("DIGITAL-2025-EDIH-AC-07", "2025-11-01"), "closed");
    // Past the first stage, a two-stage call takes no new applications.
    assert_eq!(
        status_on("HORIZON-MISS-2025-CIT-01-01", "2025-05-01"),
        "closed"
    );
    assert_eq!(status_on("LIFE-2026-SAP-NAT", "2026-04-22"), "forthcoming");

    // Re-import: same four calls, updated.
    let again: Value = s.import(FIXTURE).await.json().await.unwrap();
    assert_eq!(again, json!({"total": 4, "created": 0, "updated": 4}));
    assert_eq!(pico_node::sape::db::count_calls(&conn).unwrap(), 4);
    s.app.stop().await;
}

#[tokio::test]
async fn a_file_with_bad_rows_is_refused_whole_with_an_italian_report() {
    let s = Sape::spawn().await;
    let csv = "topicId,callId,topicTitle,openDate,closeDate,s2Date,process,actionType,topicUrl\n\
               HORIZON-OK-01,HORIZON-OK,Valid topic,2024-01-10,2024-04-10,,single-stage,HORIZON-RIA,https://example.eu/ok\n\
               HORIZON-BAD-02,HORIZON-OK,,2024-01-10,2024-04-10,,single-stage,HORIZON-RIA,\n\
               HORIZON-BAD-03,HORIZON-OK,Two stages without second,2024-01-10,2024-04-10,,two-stage,HORIZON-RIA,\n\
               HORIZON-BAD-04,HORIZON-OK,Bad date,2024-01-10,10/04/2024x,,single-stage,HORIZON-RIA,\n\
               HORIZON-OK-01,HORIZON-OK,Duplicate,2024-01-10,2024-04-10,,single-stage,HORIZON-RIA,\n";
    let response = s
        .app
        .post_raw("/v1/sape/calls/import", &s.sape, "text/csv", csv.into())
        .await;
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(problem["refused"], 4);
    let errors = problem["errors"].as_object().unwrap();
    assert_eq!(errors["riga 3"], "manca il titolo (topicTitle)");
    assert_eq!(
        errors["riga 4"],
        "s2Date: un bando in due fasi ha la data della seconda fase"
    );
    assert!(errors["riga 5"].as_str().unwrap().starts_with("closeDate:"));
    assert!(
        errors["riga 6"]
            .as_str()
            .unwrap()
            .contains("compare già alla riga 2")
    );
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .starts_with("Importazione rifiutata, nulla è stato importato")
    );
    assert_eq!(
        pico_node::sape::db::count_calls(&s.db().get().unwrap()).unwrap(),
        0
    );

    let bad_json = s
        .app
        .post_raw("/v1/sape/calls/import", &s.sape, "application/json", b"{\"results\": [{\"metadata\": {\"identifier\": [\"X-1\"], \"title\": [\"T\"], \"deadlineModel\": [\"two-stage\"], \"deadlineDate\": [\"2025-01-01\"], \"status\": [\"42\"]}}]}".to_vec())
        .await;
    let problem = assert_problem(bad_json, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(
        problem["errors"]["risultato 1"]
            .as_str()
            .unwrap()
            .starts_with("status:")
    );

    // Only SAPE staff import.
    let response = s
        .app
        .post_raw("/v1/sape/calls/import", &s.tv, "text/csv", csv.into())
        .await;
    assert_problem(response, StatusCode::FORBIDDEN).await;
    s.app.stop().await;
}

#[tokio::test]
async fn full_text_search_with_filters_and_pages() {
    let s = Sape::spawn().await;
    s.import_all().await;

    // Words are prefixes, all must match, accents do not matter.
    let page = s
        .get_json("/v1/sape/calls?q=municip%C3%A0l%20build", &s.tv)
        .await;
    assert_eq!(identifiers(&page)[0], "HORIZON-CL5-2024-D3-01-01");
    // An identifier finds its topic first.
    let page = s
        .get_json("/v1/sape/calls?q=HORIZON-CL2-2021-DEMOCRACY-01-01", &s.sape)
        .await;
    assert_eq!(identifiers(&page)[0], "HORIZON-CL2-2021-DEMOCRACY-01-01");
    // The programme's label is searched too.
    let page = s
        .get_json("/v1/sape/calls?q=digital%20europe", &s.sape)
        .await;
    assert_eq!(identifiers(&page)[0], "DIGITAL-2025-EDIH-AC-07");
    // Filter by programme.
    let page = s.get_json("/v1/sape/calls?programme=life", &s.sape).await;
    assert_eq!(identifiers(&page), ["LIFE-2026-SAP-NAT"]);
    // Deadline window: the cut-off of 31 March and the first stage of 10 April 2025.
    let page = s
        .get_json(
            "/v1/sape/calls?deadline_from=2025-03-01&deadline_to=2025-04-30",
            &s.sape,
        )
        .await;
    let mut found = identifiers(&page);
    found.sort();
    let mut expected = topics_with_a_deadline_between("2025-03-01", "2025-04-30");
    assert!(
        !expected.is_empty(),
        "the file has second stages in spring 2025"
    );
    expected.extend([
        "DIGITAL-2025-EDIH-AC-07".to_owned(),
        "HORIZON-MISS-2025-CIT-01-01".to_owned(),
    ]);
    expected.sort();
    assert_eq!(found, expected);
    // Italian dates are accepted in the window too.
    let page = s
        .get_json(
            "/v1/sape/calls?deadline_from=01/10/2025&deadline_to=31/10/2025",
            &s.sape,
        )
        .await;
    assert_eq!(identifiers(&page), ["DIGITAL-2025-EDIH-AC-07"]);
    // Text and filters together.
    let page = s
        .get_json("/v1/sape/calls?q=energy&programme=horizon_europe&deadline_from=2024-04-18&deadline_to=2024-04-18", &s.sape)
        .await;
    assert!(identifiers(&page).contains(&"HORIZON-CL5-2024-D3-01-01".to_owned()));
    // Status: the machine's today; every Horizon topic of the 2024 file is closed by now.
    let page = s
        .get_json("/v1/sape/calls?q=democracy&status=open", &s.sape)
        .await;
    assert_eq!(identifiers(&page), Vec::<String>::new());
    // A search matching more than 1,000 calls ("Horizon" is every topic's programme) follows
    // the closing dates, latest first, through its pages like the catalogue does.
    let mut closing: Vec<String> = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let path = match &next {
            Some(cursor) => format!("/v1/sape/calls?q=horizon&limit=200&cursor={cursor}"),
            None => "/v1/sape/calls?q=horizon&limit=200".to_owned(),
        };
        let page = s.get_json(&path, &s.sape).await;
        for call in page["items"].as_array().unwrap() {
            closing.push(call["closing_date"].as_str().unwrap_or("").to_owned());
        }
        match page["next"].as_str() {
            Some(cursor) => next = Some(cursor.to_owned()),
            None => break,
        }
    }
    assert!(closing.len() > 1_000, "{} matches", closing.len());
    assert!(
        closing.windows(2).all(|w| w[0] >= w[1] || w[1].is_empty()),
        "latest closing dates first"
    );

    // Pages: 1,910 calls (1,907 topics and 3 new from the fixture), 200 at a time, no repeats.
    let mut seen = std::collections::BTreeSet::new();
    let mut next: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &next {
            Some(cursor) => format!("/v1/sape/calls?limit=200&cursor={cursor}"),
            None => "/v1/sape/calls?limit=200".to_owned(),
        };
        let page = s.get_json(&path, &s.sape).await;
        pages += 1;
        for id in identifiers(&page) {
            assert!(seen.insert(id), "repeated");
        }
        match page["next"].as_str() {
            Some(cursor) => next = Some(cursor.to_owned()),
            None => break,
        }
    }
    assert_eq!((seen.len(), pages), (1910, 10));

    // A bad date is a field error in Italian.
    let response = s
        .app
        .get("/v1/sape/calls?deadline_from=31-31-2025", Some(&s.sape))
        .await;
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        problem["errors"]["deadline_from"],
        "Scrivi la data come 31/12/2025."
    );
    // Operators of other modules do not see the catalogue.
    let response = s.app.get("/v1/sape/calls", Some(&s.sua)).await;
    assert_problem(response, StatusCode::FORBIDDEN).await;
    s.app.stop().await;
}

#[tokio::test]
async fn hand_entered_calls_are_checked_field_by_field() {
    let s = Sape::spawn().await;
    let good = json!({
        "identifier": "FESR-VENETO-2025-01",
        "title": "Efficientamento energetico degli edifici pubblici, scuole e municipi",
        "programme": "fesr",
        "management": "indirect",
        "deadline_model": "single_stage",
        "opening_date": "2025-02-01",
        "deadlines": ["30/06/2025"],
        "url": "https://bandi.regione.veneto.it/fesr-2025-01",
        "budget": "2.500.000,00",
        "funding_rate": 80
    });
    let response = s
        .app
        .post_json("/v1/sape/calls", Some(&s.sape), &good)
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let call: Value = response.json().await.unwrap();
    assert_eq!(
        call["deadlines"],
        json!([{"date": "2025-06-30", "stage": "single"}])
    );
    assert_eq!(call["budget"], "2500000.00");
    assert_eq!(call["source"], "manual");
    // The same identifier again.
    let response = s
        .app
        .post_json("/v1/sape/calls", Some(&s.sape), &good)
        .await;
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        problem["errors"]["identifier"],
        "Il bando FESR-VENETO-2025-01 è già nel catalogo."
    );

    let bad = json!({
        "identifier": "",
        "title": "Due fasi",
        "programme": "interreg",
        "management": "direct",
        "deadline_model": "two_stage",
        "deadlines": ["2025-09-01", "2025-03-01"],
        "url": "ftp://example.org",
        "budget": "molti soldi",
        "funding_rate": 120
    });
    let response = s.app.post_json("/v1/sape/calls", Some(&s.sape), &bad).await;
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    let errors = problem["errors"].as_object().unwrap();
    let mut fields: Vec<&str> = errors.keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        ["budget", "deadlines", "funding_rate", "identifier", "url"]
    );
    assert_eq!(
        errors["deadlines"],
        "La seconda fase non può scadere prima della prima."
    );
    assert_eq!(
        errors["url"],
        "L'indirizzo deve iniziare con https:// o http://."
    );
    assert!(
        errors["budget"]
            .as_str()
            .unwrap()
            .contains("non è un importo in euro")
    );

    // Unknown programme: the JSON extractor's 422.
    let response = s
        .app
        .post_json("/v1/sape/calls", Some(&s.sape), &json!({"identifier": "X", "title": "X", "programme": "marte", "management": "direct", "deadline_model": "permanent"}))
        .await;
    assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    // A Comune does not enter calls.
    let response = s.app.post_json("/v1/sape/calls", Some(&s.tv), &good).await;
    assert_problem(response, StatusCode::FORBIDDEN).await;

    // The page form shows the messages beside the fields.
    let session = login(&s.app, "operatore.sape").await;
    let page = session
        .post_form(
            "/sape/bandi/nuovo",
            &[
                ("identifier", "PNRR-M2C4-2025"),
                ("title", ""),
                ("programme", "pnrr"),
                ("management", "indirect"),
                ("deadline_model", "single_stage"),
                ("deadlines", "31/02/2025"),
            ],
        )
        .await;
    assert_eq!(page.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = page.text().await.unwrap();
    assert!(html.contains("id=\"title-error\""), "{html}");
    assert!(html.contains("id=\"deadlines-error\""));
    assert!(html.contains("«31/02/2025» non è una data"));
    assert!(
        html.contains("value=\"PNRR-M2C4-2025\""),
        "typed values are kept"
    );
    s.app.stop().await;
}

/// The content lines of an iCalendar text, unfolded (RFC 5545 §3.1), after checking that
/// every physical line ends in CRLF and has at most 75 octets.
fn unfold(text: &str) -> Vec<String> {
    assert!(text.ends_with("\r\n"));
    let mut lines: Vec<String> = Vec::new();
    for physical in text.trim_end_matches("\r\n").split("\r\n") {
        assert!(
            physical.len() <= 75,
            "{} octets: {physical}",
            physical.len()
        );
        assert!(!physical.contains('\n'), "bare LF");
        if let Some(rest) = physical.strip_prefix(' ') {
            lines.last_mut().unwrap().push_str(rest);
        } else {
            lines.push(physical.to_owned());
        }
    }
    lines
}

/// The events of a calendar as property maps.
fn events(lines: &[String]) -> Vec<BTreeMap<String, String>> {
    let mut events = Vec::new();
    let mut current: Option<BTreeMap<String, String>> = None;
    for line in lines {
        match line.as_str() {
            "BEGIN:VEVENT" => current = Some(BTreeMap::new()),
            "END:VEVENT" => events.push(current.take().unwrap()),
            _ => {
                if let Some(event) = current.as_mut() {
                    let (name, value) = line.split_once(':').unwrap();
                    event.insert(name.to_owned(), value.to_owned());
                }
            }
        }
    }
    events
}

#[tokio::test]
async fn followed_deadlines_are_a_calendar_behind_a_revocable_secret() {
    let s = Sape::spawn().await;
    s.import_all().await;
    let ia = s.call_id("HORIZON-CL5-2024-D3-01-01").await;
    let cutoff = s.call_id("DIGITAL-2025-EDIH-AC-07").await;
    for id in [ia, cutoff] {
        let response = s
            .app
            .send_json(
                Method::PUT,
                &format!("/v1/sape/calls/{id}/follow"),
                Some(&s.tv),
                None,
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.json::<Value>().await.unwrap()["followed"], true);
    }
    // Following twice changes nothing; staff do not follow.
    let response = s
        .app
        .send_json(
            Method::PUT,
            &format!("/v1/sape/calls/{ia}/follow"),
            Some(&s.tv),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = s
        .app
        .send_json(
            Method::PUT,
            &format!("/v1/sape/calls/{ia}/follow"),
            Some(&s.sape),
            None,
        )
        .await;
    assert_problem(response, StatusCode::FORBIDDEN).await;
    let followed = s.get_json("/v1/sape/calls?followed=true", &s.tv).await;
    assert_eq!(identifiers(&followed).len(), 2);
    let none = s.get_json("/v1/sape/calls?followed=true", &s.alt).await;
    assert_eq!(identifiers(&none).len(), 0);

    let response = s
        .app
        .send_json(Method::POST, "/v1/sape/calendar", Some(&s.tv), None)
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let url = response.json::<Value>().await.unwrap()["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = &url[url.find("/sape/calendario/").unwrap()..];
    // No session, no token: the secret in the address is enough.
    let feed = s.app.get(path, None).await;
    assert_eq!(feed.status(), StatusCode::OK);
    assert_eq!(
        feed.headers()["content-type"],
        "text/calendar; charset=utf-8"
    );
    let text = feed.text().await.unwrap();
    let lines = unfold(&text);
    assert_eq!(lines.first().unwrap(), "BEGIN:VCALENDAR");
    assert_eq!(lines.last().unwrap(), "END:VCALENDAR");
    assert!(lines.contains(&"VERSION:2.0".to_owned()));
    assert!(lines.iter().any(|l| l.starts_with("PRODID:")));
    let events = events(&lines);
    // One event per deadline: one for the single-stage call, three cut-offs.
    assert_eq!(events.len(), 4);
    let starts: Vec<&str> = events
        .iter()
        .map(|e| e["DTSTART;VALUE=DATE"].as_str())
        .collect();
    assert_eq!(starts, ["20240418", "20250331", "20250630", "20251031"]);
    assert_eq!(events[0]["DTEND;VALUE=DATE"], "20240419");
    // The title's comma is escaped; the folded line came back whole.
    assert_eq!(
        events[0]["SUMMARY"],
        "Scadenza: HORIZON-CL5-2024-D3-01-01 — Renewable energy in municipal buildings\\, districts and communities"
    );
    assert!(events[1]["SUMMARY"].starts_with("Scadenza intermedia: DIGITAL-2025-EDIH-AC-07"));
    for event in &events {
        assert!(event["UID"].ends_with("@pico"));
        assert!(event["DTSTAMP"].ends_with('Z') && event["DTSTAMP"].len() == 16);
    }
    let uids: Vec<String> = events.iter().map(|e| e["UID"].clone()).collect();
    let mut unique = uids.clone();
    unique.dedup();
    assert_eq!(unique.len(), 4);
    // An independent reader (Python icalendar, strict parsing) sees the same four all-day
    // events, with the escaped comma read back as a comma.
    let feed_file = s.app.dir.path().join("feed.ics");
    std::fs::write(&feed_file, &text).unwrap();
    let parsed = crate::helpers::run_python(
        r#"
import sys, icalendar
cal = icalendar.Calendar.from_ical(open(sys.argv[1], 'rb').read())
assert cal.errors == [], cal.errors
for event in cal.walk('VEVENT'):
    assert not event.errors, event.errors
    start, end = event.decoded('DTSTART'), event.decoded('DTEND')
    assert (end - start).days == 1, (start, end)
    print(start.isoformat(), event['UID'], str(event['SUMMARY']), sep='\t')
"#,
        &[feed_file.to_str().unwrap()],
    );
    let parsed: Vec<Vec<&str>> = parsed.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(
        parsed.iter().map(|p| p[0]).collect::<Vec<_>>(),
        ["2024-04-18", "2025-03-31", "2025-06-30", "2025-10-31"]
    );
    assert_eq!(parsed.iter().map(|p| p[1]).collect::<Vec<_>>(), uids);
    assert_eq!(
        parsed[0][2],
        "Scadenza: HORIZON-CL5-2024-D3-01-01 — Renewable energy in municipal buildings, districts and communities"
    );

    // Re-imports keep the UIDs: calendar applications update events, never duplicate them
    // (the CSV brings back the real dates of the topic the fixture had changed).
    assert_eq!(s.import(TOPICS).await.status(), StatusCode::OK);
    assert_eq!(s.import(FIXTURE).await.status(), StatusCode::OK);
    let again = s.app.get(path, None).await.text().await.unwrap();
    let again_uids: Vec<String> = crate::sape::events(&unfold(&again))
        .iter()
        .map(|e| e["UID"].clone())
        .collect();
    assert_eq!(again_uids, uids);

    // Only the hash is stored.
    let conn = s.db().get().unwrap();
    let token = path
        .trim_start_matches("/sape/calendario/")
        .trim_end_matches(".ics");
    let stored: String = conn
        .query_row("SELECT token_hash FROM sape_feeds", [], |row| row.get(0))
        .unwrap();
    assert_ne!(stored, token);
    assert_eq!(stored, pico_node::auth::secrets::sha256_hex(token));

    // Regenerating revokes the old address.
    let response = s
        .app
        .send_json(Method::POST, "/v1/sape/calendar", Some(&s.tv), None)
        .await;
    let new_url = response.json::<Value>().await.unwrap()["url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(new_url, url);
    assert_eq!(s.app.get(path, None).await.status(), StatusCode::NOT_FOUND);
    let new_path = &new_url[new_url.find("/sape/calendario/").unwrap()..];
    assert_eq!(s.app.get(new_path, None).await.status(), StatusCode::OK);
    // Unfollowing removes the deadlines.
    s.app
        .send_json(
            Method::DELETE,
            &format!("/v1/sape/calls/{cutoff}/follow"),
            Some(&s.tv),
            None,
        )
        .await;
    let fewer = s.app.get(new_path, None).await.text().await.unwrap();
    assert_eq!(crate::sape::events(&unfold(&fewer)).len(), 1);
    // Revoking: the address is gone, and revoking again is 404.
    let response = s
        .app
        .send_json(Method::DELETE, "/v1/sape/calendar", Some(&s.tv), None)
        .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        s.app.get(new_path, None).await.status(),
        StatusCode::NOT_FOUND
    );
    let response = s
        .app
        .send_json(Method::DELETE, "/v1/sape/calendar", Some(&s.tv), None)
        .await;
    assert_problem(response, StatusCode::NOT_FOUND).await;
    assert_eq!(
        s.app
            .get("/sape/calendario/senza-estensione", None)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    s.app.stop().await;
}

#[tokio::test]
async fn flagged_calls_reach_the_comune_dashboard_and_only_that_comune() {
    let s = Sape::spawn().await;
    s.import_all().await;
    let cutoff = s.call_id("DIGITAL-2025-EDIH-AC-07").await;
    let response = s
        .app
        .send_json(
            Method::PUT,
            &format!("/v1/sape/calls/{cutoff}/flags"),
            Some(&s.sape),
            Some(
                &json!({"comuni": [TREVISO], "note": "Adatto alla digitalizzazione dell'anagrafe"}),
            ),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let detail: Value = response.json().await.unwrap();
    assert_eq!(detail["flags"][0]["comune_code"], TREVISO);

    let flagged = s.get_json("/v1/sape/calls?flagged=true", &s.tv).await;
    assert_eq!(identifiers(&flagged), ["DIGITAL-2025-EDIH-AC-07"]);
    let flagged = s.get_json("/v1/sape/calls?flagged=true", &s.alt).await;
    assert_eq!(identifiers(&flagged), Vec::<String>::new());
    // Altivole does not see that Treviso was flagged.
    let detail = s
        .get_json(&format!("/v1/sape/calls/{cutoff}"), &s.alt)
        .await;
    assert_eq!(detail["flags"], json!([]));

    // A Comune of another Province is refused.
    let response = s
        .app
        .send_json(
            Method::PUT,
            &format!("/v1/sape/calls/{cutoff}/flags"),
            Some(&s.sape),
            Some(&json!({"comuni": ["017029"]})),
        )
        .await;
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        problem["errors"]["comuni"],
        "017029 non è un Comune di questa Provincia."
    );
    let response = s
        .app
        .send_json(
            Method::PUT,
            &format!("/v1/sape/calls/{cutoff}/flags"),
            Some(&s.tv),
            Some(&json!({"comuni": [TREVISO]})),
        )
        .await;
    assert_problem(response, StatusCode::FORBIDDEN).await;

    // The dashboard card lists the flagged call for Treviso, whatever today is (the card
    // leaves out closed calls, so make one that stays open).
    let response = s
        .app
        .post_json(
            "/v1/sape/calls",
            Some(&s.sape),
            &json!({"identifier": "FSE-VENETO-PERMANENTE", "title": "Sportello permanente per la formazione del personale comunale", "programme": "fse_plus", "management": "indirect", "deadline_model": "permanent"}),
        )
        .await;
    let permanent = response.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    s.app
        .send_json(
            Method::PUT,
            &format!("/v1/sape/calls/{permanent}/flags"),
            Some(&s.sape),
            Some(&json!({"comuni": [TREVISO, ALTIVOLE], "note": ""})),
        )
        .await;
    let treviso = login(&s.app, "comune.treviso").await;
    let dashboard = treviso.page("/dashboard").await;
    let card = &dashboard[dashboard.find("id=\"sape-flagged\"").unwrap()..];
    assert!(card.contains("Sportello permanente per la formazione del personale comunale"));
    s.app.stop().await;
}

/// The worked example of the budget, computed by hand:
///
/// Provincia di Treviso (coordinator, IA call: 70 %): A = 10 person-months × 4.000,00 =
/// 40.000,00; B = 10.000,00; C = 3.000 + 2.000 + 1.000 = 6.000,00; D = 500,00;
/// E = 25 % × (40.000 + 6.000 + 500) = 11.625,00 (subcontracting excluded);
/// total = 68.125,00; EU = 70 % = 47.687,50; co-financing 20.437,50.
///
/// Comune di Treviso (beneficiary, rate set to 100 %): A = 45,5 days × 250,25 = 11.386,375 →
/// 11.386,38; E = 25 % × 11.386,38 = 2.846,595 → 2.846,60; total = 14.232,98; EU 14.232,98;
/// co-financing 0.
///
/// Proposal: total 82.357,98; EU 61.920,48; co-financing 20.437,50; indirect 14.471,60.
fn worked_example(call_id: i64) -> Value {
    json!({
        "call_id": call_id,
        "title": "Comunità energetiche negli edifici municipali",
        "acronym": "CER-TV",
        "province_role": "coordinator",
        "comuni": [TREVISO],
        "partners": [
            {"name": "Provincia di Treviso", "country": "IT", "pic": "999999999", "role": "coordinator",
             "personnel_unit": "month", "personnel_quantity": "10", "personnel_rate": "4.000,00",
             "subcontracting": "10000", "travel": "3000", "equipment": "2000.00", "other_goods": "1.000",
             "other_costs": "500"},
            {"name": "Comune di Treviso", "country": "it", "pic": "123456789", "role": "beneficiary",
             "comune_code": TREVISO, "personnel_unit": "day", "personnel_quantity": "45,5",
             "personnel_rate": "250,25", "funding_rate": 100}
        ],
        "work_packages": [
            {"number": 1, "title": "Coordinamento", "lead": "Provincia di Treviso", "start_month": 1, "end_month": 36},
            {"number": 2, "title": "Impianti pilota", "lead": "Comune di Treviso", "start_month": 6, "end_month": 30}
        ]
    })
}

#[tokio::test]
async fn proposals_compute_their_budget_and_stay_within_their_comuni() {
    let s = Sape::spawn().await;
    s.import_all().await;
    let ia = s.call_id("HORIZON-CL5-2024-D3-01-01").await;
    let proposal = s.create_proposal(&worked_example(ia)).await;
    assert_eq!(proposal["state"], "idea");
    let province = &proposal["partners"][0]["budget"];
    assert_eq!(
        province,
        &json!({"personnel": "40000.00", "subcontracting": "10000.00", "purchase": "6000.00",
                "other": "500.00", "indirect": "11625.00", "total": "68125.00",
                "eu_contribution": "47687.50", "cofinancing": "20437.50"})
    );
    assert_eq!(
        proposal["partners"][0]["funding_rate"], 70,
        "the call's rate"
    );
    let comune = &proposal["partners"][1]["budget"];
    assert_eq!(
        comune,
        &json!({"personnel": "11386.38", "subcontracting": "0.00", "purchase": "0.00",
                "other": "0.00", "indirect": "2846.60", "total": "14232.98",
                "eu_contribution": "14232.98", "cofinancing": "0.00"})
    );
    assert_eq!(proposal["partners"][1]["country"], "IT");
    assert_eq!(
        proposal["total"],
        json!({"personnel": "51386.38", "subcontracting": "10000.00", "purchase": "6000.00",
               "other": "500.00", "indirect": "14471.60", "total": "82357.98",
               "eu_contribution": "61920.48", "cofinancing": "20437.50"})
    );
    let id = proposal["id"].as_i64().unwrap();

    // Treviso takes part; Altivole does not learn the proposal exists.
    let seen = s.proposal(id, &s.tv).await;
    assert_eq!(seen["acronym"], "CER-TV");
    let response = s
        .app
        .get(&format!("/v1/sape/proposals/{id}"), Some(&s.alt))
        .await;
    assert_problem(response, StatusCode::NOT_FOUND).await;
    let list = s.get_json("/v1/sape/proposals", &s.alt).await;
    assert_eq!(list["items"], json!([]));
    let list = s.get_json("/v1/sape/proposals", &s.tv).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let altivole = login(&s.app, "comune.altivole").await;
    let page = altivole.get(&format!("/sape/progetti/{id}")).await;
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    // A Comune cannot change it, nor can an operator of another module.
    for token in [&s.tv, &s.sua] {
        let response = s
            .app
            .send_json(
                Method::PUT,
                &format!("/v1/sape/proposals/{id}"),
                Some(token),
                Some(&worked_example(ia)),
            )
            .await;
        assert_problem(response, StatusCode::FORBIDDEN).await;
    }

    // Bad input: every field named, in Italian.
    let mut bad = worked_example(ia);
    bad["partners"][0]["pic"] = json!("12345");
    bad["partners"][0]["country"] = json!("Italia");
    bad["partners"][1]["travel"] = json!("tanti");
    bad["partners"][1]["role"] = json!("coordinator");
    bad["work_packages"][1]["end_month"] = json!(3);
    bad["comuni"] = json!(["017029"]);
    let response = s
        .app
        .send_json(
            Method::PUT,
            &format!("/v1/sape/proposals/{id}"),
            Some(&s.sape),
            Some(&bad),
        )
        .await;
    let problem = assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    let errors = problem["errors"].as_object().unwrap();
    assert_eq!(
        errors["partners[0].pic"],
        "Il PIC è il codice di 9 cifre del partecipante UE."
    );
    assert_eq!(
        errors["partners[0].country"],
        "Il paese è il codice ISO di due lettere, ad esempio IT."
    );
    assert!(
        errors["partners[1].travel"]
            .as_str()
            .unwrap()
            .starts_with("«tanti» non è un importo")
    );
    assert_eq!(errors["partners"], "Il consorzio ha un solo coordinatore.");
    assert_eq!(
        errors["work_packages[1].end_month"],
        "I mesi vanno da 1 e la fine non precede l'inizio."
    );
    assert_eq!(
        errors["comuni"],
        "017029 non è un Comune di questa Provincia."
    );
    // Nothing changed.
    let unchanged = s.proposal(id, &s.sape).await;
    assert_eq!(unchanged["total"]["total"], "82357.98");

    // The budget page shows money the Italian way.
    let staff = login(&s.app, "operatore.sape").await;
    let html = staff.page(&format!("/sape/progetti/{id}")).await;
    assert!(html.contains("82.357,98\u{a0}€"), "total on the page");
    assert!(html.contains("47.687,50\u{a0}€"));

    // Adding a partner through the page: a bad PIC comes back beside its field.
    let response = staff
        .post_form(
            &format!("/sape/progetti/{id}/partner"),
            &[
                ("name", "Universität Wien"),
                ("country", "AT"),
                ("pic", "99"),
                ("role", "beneficiary"),
                ("personnel_unit", "month"),
                ("personnel_quantity", "2"),
                ("personnel_rate", "5000"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(html.contains("id=\"partner-pic-error\""), "{html}");
    assert!(html.contains("value=\"Universität Wien\""));
    let response = staff
        .post_form(
            &format!("/sape/progetti/{id}/partner"),
            &[
                ("name", "Universität Wien"),
                ("country", "AT"),
                ("pic", "998877665"),
                ("role", "beneficiary"),
                ("personnel_unit", "month"),
                ("personnel_quantity", "2"),
                ("personnel_rate", "5000"),
            ],
        )
        .await;
    assert!(response.status().is_redirection());
    let updated = s.proposal(id, &s.sape).await;
    // 2 × 5.000 = 10.000; E 2.500; total 12.500 at 70 %: 8.750.
    assert_eq!(updated["partners"][2]["budget"]["total"], "12500.00");
    assert_eq!(updated["total"]["eu_contribution"], "70670.48");
    s.app.stop().await;
}

#[tokio::test]
async fn proposals_move_along_their_audited_lifecycle_by_role() {
    let s = Sape::spawn().await;
    s.import_all().await;
    let ia = s.call_id("HORIZON-CL5-2024-D3-01-01").await;
    let two = s.call_id("HORIZON-MISS-2025-CIT-01-01").await;
    let created = s.create_proposal(&worked_example(ia)).await;
    let id = created["id"].as_i64().unwrap();
    let path = format!("/v1/sape/proposals/{id}/transitions");
    let moved = |token: &str, to: &str| {
        let body = json!({"state": to, "reason": "Verificato"});
        let path = path.clone();
        let token = token.to_owned();
        let app = &s.app;
        async move { app.post_json(&path, Some(&token), &body).await }
    };
    // Treviso takes part: it prepares and submits.
    let detail = s.proposal(id, &s.tv).await;
    assert_eq!(
        detail["allowed_transitions"],
        json!(["in_preparation", "withdrawn"])
    );
    assert_eq!(
        moved(&s.tv, "in_preparation").await.status(),
        StatusCode::OK
    );
    // Altivole is not in it: 404, as if it did not exist.
    assert_problem(moved(&s.alt, "submitted").await, StatusCode::NOT_FOUND).await;
    // An operator of another module: 403.
    assert_problem(moved(&s.sua, "submitted").await, StatusCode::FORBIDDEN).await;
    let response = moved(&s.tv, "submitted").await;
    assert_eq!(response.status(), StatusCode::OK);
    let view: Value = response.json().await.unwrap();
    assert_eq!(view["state"], "submitted");
    // What the funder decided is the office's to record.
    assert_problem(moved(&s.tv, "evaluated").await, StatusCode::FORBIDDEN).await;
    // The call has one stage: no second stage.
    let problem = assert_problem(moved(&s.sape, "second_stage").await, StatusCode::CONFLICT).await;
    assert_eq!(problem["code"], "invalid_transition");
    assert_eq!(moved(&s.sape, "evaluated").await.status(), StatusCode::OK);
    // No withdrawal after the evaluation, and the message names the way on.
    let problem = assert_problem(moved(&s.sape, "withdrawn").await, StatusCode::CONFLICT).await;
    assert_eq!(
        problem["detail"],
        "Una proposta nello stato «Valutata» non può passare a «Ritirata»; stati possibili: Finanziata, In riserva, Non finanziata."
    );
    for to in [
        "reserve",
        "funded",
        "grant_signed",
        "in_execution",
        "closed",
    ] {
        assert_eq!(moved(&s.sape, to).await.status(), StatusCode::OK, "{to}");
    }
    // A stale request: the page showed "in preparation", the proposal is closed.
    let stale = s
        .app
        .post_json(
            &path,
            Some(&s.sape),
            &json!({"state": "submitted", "from": "in_preparation"}),
        )
        .await;
    let problem = assert_problem(stale, StatusCode::CONFLICT).await;
    assert_eq!(problem["code"], "stale_state");
    // The history, creation first, with who and why.
    let detail = s.proposal(id, &s.tv).await;
    let steps: Vec<(Value, Value)> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|step| (step["from"].clone(), step["to"].clone()))
        .collect();
    assert_eq!(steps.len(), 9);
    assert_eq!(steps[0], (Value::Null, json!("idea")));
    assert_eq!(steps[1], (json!("idea"), json!("in_preparation")));
    assert_eq!(steps[8], (json!("in_execution"), json!("closed")));
    assert_eq!(detail["history"][1]["actor"], "Utente comune.treviso");
    assert_eq!(detail["history"][1]["reason"], "Verificato");
    assert_eq!(detail["allowed_transitions"], json!([]));
    let audited: i64 = s
        .db()
        .get()
        .unwrap()
        .query_row(
            "SELECT count(*) FROM audit_log WHERE action = 'sape.proposal.transition' AND resource = ?1",
            [format!("sape_proposal:{id}")],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(audited, 8);

    // A two-stage call's proposal reaches the second stage; a Comune withdraws it there.
    let mut body = worked_example(two);
    body["acronym"] = json!("CITY-TV");
    let second = s.create_proposal(&body).await;
    let second = second["id"].as_i64().unwrap();
    let path = format!("/v1/sape/proposals/{second}/transitions");
    for (token, to) in [
        (&s.sape, "in_preparation"),
        (&s.tv, "submitted"),
        (&s.sape, "second_stage"),
        (&s.tv, "withdrawn"),
    ] {
        let response = s
            .app
            .post_json(&path, Some(token), &json!({"state": to}))
            .await;
        assert_eq!(response.status(), StatusCode::OK, "{to}");
    }
    s.app.stop().await;
}

#[tokio::test]
async fn the_pages_flag_follow_subscribe_and_move_a_proposal() {
    let s = Sape::spawn().await;
    assert_eq!(s.import(FIXTURE).await.status(), StatusCode::OK);
    let cutoff = s.call_id("DIGITAL-2025-EDIH-AC-07").await;
    let staff = login(&s.app, "operatore.sape").await;
    // Flag to two Comuni from the call's page (a multiple select).
    let response = staff
        .post_form(
            &format!("/sape/bandi/{cutoff}/segnalazioni"),
            &[
                ("comuni", TREVISO),
                ("comuni", ALTIVOLE),
                ("note", "Anagrafe digitale"),
            ],
        )
        .await;
    assert!(response.status().is_redirection());
    let detail = s
        .get_json(&format!("/v1/sape/calls/{cutoff}"), &s.sape)
        .await;
    assert_eq!(detail["flags"].as_array().unwrap().len(), 2);

    // Treviso follows from the page and makes its calendar address.
    let treviso = login(&s.app, "comune.treviso").await;
    let page = treviso.page(&format!("/sape/bandi/{cutoff}")).await;
    assert!(page.contains("id=\"flag-notice\""));
    assert!(page.contains("Anagrafe digitale"));
    let response = treviso
        .post_form(&format!("/sape/bandi/{cutoff}/segui"), &[("follow", "1")])
        .await;
    assert!(response.status().is_redirection());
    let response = treviso
        .post_form("/sape/calendario", &[("action", "regenerate")])
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    let at = html.find("/sape/calendario/").unwrap();
    let path: String = html[at..].chars().take_while(|c| *c != '<').collect();
    assert!(path.ends_with(".ics"));
    let feed = s.app.get(&path, None).await.text().await.unwrap();
    assert_eq!(events(&unfold(&feed)).len(), 3);
    let response = treviso
        .post_form("/sape/calendario", &[("action", "revoke")])
        .await;
    assert!(response.status().is_redirection());
    assert_eq!(s.app.get(&path, None).await.status(), StatusCode::NOT_FOUND);

    // A proposal made from the page, then moved by its partner Comune.
    let response = staff
        .post_form(
            "/sape/progetti/nuovo",
            &[
                ("call", "DIGITAL-2025-EDIH-AC-07"),
                ("title", "Anagrafe digitale"),
                ("acronym", "ANA-DIG"),
                ("province_role", "support"),
                ("comuni", TREVISO),
            ],
        )
        .await;
    assert!(response.status().is_redirection());
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let id: i64 = location.rsplit('/').next().unwrap().parse().unwrap();
    let response = treviso
        .post_form(
            &format!("/sape/progetti/{id}/stato"),
            &[
                ("from", "idea"),
                ("state", "in_preparation"),
                ("reason", ""),
            ],
        )
        .await;
    assert!(response.status().is_redirection());
    let view = s.proposal(id, &s.tv).await;
    assert_eq!(view["state"], "in_preparation");
    // An unknown call code comes back beside its field.
    let response = staff
        .post_form(
            "/sape/progetti/nuovo",
            &[
                ("call", "NON-ESISTE"),
                ("title", "X"),
                ("acronym", "X"),
                ("province_role", "partner"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = response.text().await.unwrap();
    assert!(html.contains("id=\"call-error\""));
    assert!(html.contains("Nessun bando del catalogo ha questo codice."));
    s.app.stop().await;
}

/// Moves proposal `id` through `states` as the SAPE office.
async fn move_through(s: &Sape, id: i64, states: &[&str]) {
    for state in states {
        let response = s
            .app
            .post_json(
                &format!("/v1/sape/proposals/{id}/transitions"),
                Some(&s.sape),
                &json!({"state": state}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK, "{state}");
    }
}

#[tokio::test]
async fn outcomes_are_recorded_as_the_funder_decides_and_reach_the_reports() {
    let s = Sape::spawn().await;
    s.import_all().await;
    let ia = s.call_id("HORIZON-CL5-2024-D3-01-01").await;
    let created = s.create_proposal(&worked_example(ia)).await;
    let id = created["id"].as_i64().unwrap();
    assert_eq!(
        created["outcome"],
        json!({"score": null, "threshold": null, "cup": null, "partners": [
            {"obtained": null, "received": null}, {"obtained": null, "received": null}]})
    );
    let outcome = |token: &str, body: Value| {
        let token = token.to_owned();
        let app = &s.app;
        async move {
            app.send_json(
                Method::PUT,
                &format!("/v1/sape/proposals/{id}/outcome"),
                Some(&token),
                Some(&body),
            )
            .await
        }
    };
    move_through(&s, id, &["in_preparation", "submitted"]).await;
    // What was submitted stays as it was.
    let response = s
        .app
        .send_json(
            Method::PUT,
            &format!("/v1/sape/proposals/{id}"),
            Some(&s.sape),
            Some(&worked_example(ia)),
        )
        .await;
    let problem = assert_problem(response, StatusCode::CONFLICT).await;
    assert_eq!(problem["code"], "proposal_submitted");
    // No score before the evaluation.
    let problem = assert_problem(
        outcome(&s.sape, json!({"score": "13,5"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        problem["errors"]["score"],
        "Il punteggio e la soglia si registrano quando la proposta è stata valutata."
    );
    move_through(&s, id, &["evaluated"]).await;
    let view: Value = outcome(&s.sape, json!({"score": "13,5", "threshold": "10"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(view["outcome"]["score"], "13.50");
    assert_eq!(view["outcome"]["threshold"], "10.00");
    // Only the office records it; a Comune taking part reads it.
    assert_problem(
        outcome(&s.tv, json!({"score": "20"})).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let seen = s.proposal(id, &s.tv).await;
    assert_eq!(seen["outcome"]["score"], "13.50");

    move_through(&s, id, &["funded"]).await;
    // Obtained within what each partner asked (47.687,50 and 14.232,98); nothing received
    // before the grant is signed.
    let problem = assert_problem(
        outcome(
            &s.sape,
            json!({"score": "13,5", "threshold": "10", "cup": "J41B2200012000",
                   "partners": [{"obtained": "47.687,51"}, {"obtained": "14000", "received": "1"}]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let fields: Vec<&String> = problem["errors"].as_object().unwrap().keys().collect();
    assert_eq!(
        fields,
        ["cup", "partners[0].obtained", "partners[1].received"]
    );
    let funded = json!({"score": "13,5", "threshold": "10", "cup": "j41b22000120006",
                        "partners": [{"obtained": "40.000,00"}, {"obtained": "14232.98"}]});
    let view: Value = outcome(&s.sape, funded).await.json().await.unwrap();
    assert_eq!(view["outcome"]["cup"], "J41B22000120006");
    assert_eq!(view["outcome"]["partners"][0]["obtained"], "40000.00");
    // The reports add what was obtained, not what was asked: 40.000,00 + 14.232,98.
    {
        let conn = s.db().get().unwrap();
        let report = pico_node::sape::reports::Report::read(&conn).unwrap();
        assert_eq!(report.totals.requested_cents, 6_192_048);
        assert_eq!(report.totals.obtained_cents, 5_423_298);
    }

    move_through(&s, id, &["grant_signed"]).await;
    let problem = assert_problem(
        outcome(
            &s.sape,
            json!({"cup": "J41B22000120006",
                   "partners": [{"obtained": "40000", "received": "40000,01"}, {}]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        problem["errors"]["partners[0].received"],
        "L'importo ricevuto supera il contributo ottenuto (40000.00 euro)."
    );
    let view: Value = outcome(
        &s.sape,
        json!({"score": "13,5", "threshold": "10", "cup": "J41B22000120006",
               "partners": [{"obtained": "40000", "received": "16.000"}, {"obtained": "14232,98"}]}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(view["outcome"]["partners"][0]["received"], "16000.00");
    assert_eq!(view["outcome"]["partners"][1]["received"], Value::Null);

    // The page: the office's form with the fields of the state; a refused CUP comes back
    // beside its field with the typed values kept.
    let staff = login(&s.app, "operatore.sape").await;
    let page = staff.page(&format!("/sape/progetti/{id}")).await;
    assert!(page.contains("id=\"outcome-form\""));
    assert!(page.contains("id=\"received_0\""));
    assert!(page.contains("id=\"content-frozen\""));
    assert!(!page.contains("id=\"save-partner\""));
    let response = staff
        .post_form(
            &format!("/sape/progetti/{id}/esito"),
            &[
                ("score", "14"),
                ("threshold", "10"),
                ("cup", "NON-UN-CUP"),
                ("obtained_0", "40000"),
                ("received_0", "20000"),
                ("obtained_1", ""),
                ("received_1", ""),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = response.text().await.unwrap();
    assert!(page.contains("Il CUP è un codice di 15 caratteri, lettere maiuscole e cifre."));
    assert!(page.contains("value=\"NON-UN-CUP\""));
    assert!(page.contains("value=\"20000\""));
    let response = staff
        .post_form(
            &format!("/sape/progetti/{id}/esito"),
            &[
                ("score", "14"),
                ("threshold", "10"),
                ("cup", "J41B22000120006"),
                ("obtained_0", "40.000"),
                ("received_0", "20.000"),
                ("obtained_1", "14.232,98"),
                ("received_1", ""),
            ],
        )
        .await;
    assert!(response.status().is_redirection());
    let view = s.proposal(id, &s.tv).await;
    assert_eq!(view["outcome"]["score"], "14.00");
    assert_eq!(view["outcome"]["partners"][0]["received"], "20000.00");
    // Treviso reads the outcome, without the form.
    let treviso = login(&s.app, "comune.treviso").await;
    let page = treviso.page(&format!("/sape/progetti/{id}")).await;
    assert!(page.contains("J41B22000120006"));
    assert!(page.contains("20.000,00"));
    assert!(!page.contains("id=\"outcome-form\""));
    s.app.stop().await;
}

#[tokio::test]
async fn comuni_ask_for_support_and_the_office_answers() {
    let s = Sape::spawn().await;
    assert_eq!(s.import(FIXTURE).await.status(), StatusCode::OK);
    let call = s.call_id("DIGITAL-2025-EDIH-AC-07").await;
    let ask = |token: &str, message: &str| {
        let body = json!({"message": message});
        let token = token.to_owned();
        let app = &s.app;
        async move {
            app.post_json(
                &format!("/v1/sape/calls/{call}/support"),
                Some(&token),
                &body,
            )
            .await
        }
    };
    let answer = |token: &str, id: i64, body: Value| {
        let token = token.to_owned();
        let app = &s.app;
        async move {
            app.post_json(
                &format!("/v1/sape/support/{id}/transitions"),
                Some(&token),
                &body,
            )
            .await
        }
    };
    let problem = assert_problem(ask(&s.tv, "  ").await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(problem["errors"]["message"].is_string());
    let response = ask(&s.tv, "Cerchiamo partner e un aiuto per il budget.").await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let request: Value = response.json().await.unwrap();
    let id = request["id"].as_i64().unwrap();
    assert_eq!(request["state"], "requested");
    assert_eq!(request["comune"], TREVISO);
    assert_eq!(request["allowed_transitions"], json!(["withdrawn"]));
    // One waiting request per Comune and call; the office and other modules do not ask.
    let problem = assert_problem(ask(&s.tv, "Di nuovo").await, StatusCode::CONFLICT).await;
    assert_eq!(problem["code"], "support_pending");
    assert_problem(ask(&s.sape, "Io?").await, StatusCode::FORBIDDEN).await;
    assert_problem(ask(&s.sua, "Io?").await, StatusCode::FORBIDDEN).await;
    // Altivole sees nothing of Treviso's request.
    let mine = s.get_json("/v1/sape/support", &s.alt).await;
    assert_eq!(mine, json!([]));
    assert_problem(
        answer(&s.alt, id, json!({"state": "withdrawn"})).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    // The office answers; a decline needs its reasons, which the Comune reads.
    let all = s.get_json("/v1/sape/support", &s.sape).await;
    assert_eq!(all.as_array().unwrap().len(), 1);
    assert_eq!(
        all[0]["allowed_transitions"],
        json!(["accepted", "declined"])
    );
    let problem = assert_problem(
        answer(&s.sape, id, json!({"state": "declined"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        problem["errors"]["reason"],
        "Scrivi al Comune perché il SAPE non può accogliere la richiesta."
    );
    assert_problem(
        answer(&s.tv, id, json!({"state": "accepted"})).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let declined: Value = answer(
        &s.sape,
        id,
        json!({"state": "declined", "from": "requested", "reason": "Il bando non ammette enti locali."}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(declined["state"], "declined");
    let mine = s.get_json("/v1/sape/support", &s.tv).await;
    assert_eq!(mine[0]["answer"], "Il bando non ammette enti locali.");
    assert_eq!(mine[0]["history"].as_array().unwrap().len(), 2);
    // A stale answer (made on a page showing it waiting) is refused, naming where it is.
    let problem = assert_problem(
        answer(
            &s.sape,
            id,
            json!({"state": "accepted", "from": "requested"}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(problem["code"], "stale_state");

    // Through the pages: Treviso asks again from the call's page, the office accepts from
    // its list, and counts what waits on its dashboard.
    let treviso = login(&s.app, "comune.treviso").await;
    let response = treviso
        .post_form(&format!("/sape/bandi/{call}/supporto"), &[("message", "")])
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("aria-invalid=\"true\"")
    );
    let response = treviso
        .post_form(
            &format!("/sape/bandi/{call}/supporto"),
            &[("message", "Ci serve una verifica dei requisiti.")],
        )
        .await;
    assert!(response.status().is_redirection());
    let staff = login(&s.app, "operatore.sape").await;
    let dashboard = staff.page("/dashboard").await;
    assert!(dashboard.contains("Richieste di supporto in attesa"));
    let waiting = s
        .get_json("/v1/sape/support?state=requested", &s.sape)
        .await;
    let second = waiting[0]["id"].as_i64().unwrap();
    let page = staff.page("/sape/supporto").await;
    assert!(page.contains("Ci serve una verifica dei requisiti."));
    let response = staff
        .post_form(
            &format!("/sape/supporto/{second}/stato"),
            &[
                ("from", "requested"),
                ("state", "accepted"),
                ("reason", "Vi chiama la dott.ssa Bianchi."),
            ],
        )
        .await;
    assert!(response.status().is_redirection());
    let mine = s.get_json("/v1/sape/support", &s.tv).await;
    assert_eq!(mine[0]["state"], "accepted");
    assert_eq!(mine[0]["answer"], "Vi chiama la dott.ssa Bianchi.");
    let page = treviso.page(&format!("/sape/bandi/{call}")).await;
    assert!(page.contains("Vi chiama la dott.ssa Bianchi."));
    assert!(
        page.contains("id=\"ask-support\""),
        "a new request can be made"
    );
    s.app.stop().await;
}

#[tokio::test]
async fn a_proposals_documents_are_the_offices_to_add_and_its_comuni_to_read() {
    let s = Sape::spawn().await;
    s.import_all().await;
    let ia = s.call_id("HORIZON-CL5-2024-D3-01-01").await;
    let created = s.create_proposal(&worked_example(ia)).await;
    let id = created["id"].as_i64().unwrap();
    let path = format!("/v1/sape/proposals/{id}/documents");
    let pdf = b"%PDF-1.7\nLettera di sostegno del Comune di Treviso\n".to_vec();
    let response = s
        .app
        .post_raw(
            &format!("{path}?filename=../lettera%20sostegno.pdf"),
            &s.sape,
            "application/pdf",
            pdf.clone(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let document: Value = response.json().await.unwrap();
    assert_eq!(document["filename"], "lettera sostegno.pdf");
    assert_eq!(document["size"], pdf.len());
    // Not a document type; a Comune does not add; Altivole does not learn they exist.
    let response = s
        .app
        .post_raw(
            &format!("{path}?filename=script.sh"),
            &s.sape,
            "application/x-sh",
            b"rm -rf /".to_vec(),
        )
        .await;
    assert_problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    let response = s
        .app
        .post_raw(
            &format!("{path}?filename=a.pdf"),
            &s.tv,
            "application/pdf",
            pdf.clone(),
        )
        .await;
    assert_problem(response, StatusCode::FORBIDDEN).await;
    assert_problem(s.app.get(&path, Some(&s.alt)).await, StatusCode::NOT_FOUND).await;
    // Treviso takes part: it lists and downloads the same bytes.
    let listed = s.get_json(&path, &s.tv).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let doc_id = listed[0]["id"].as_i64().unwrap();
    let download = s.app.get(&format!("{path}/{doc_id}"), Some(&s.tv)).await;
    assert_eq!(download.status(), StatusCode::OK);
    assert_eq!(download.headers()["content-type"], "application/pdf");
    assert_eq!(download.bytes().await.unwrap().to_vec(), pdf);
    assert_problem(
        s.app.get(&format!("{path}/{doc_id}"), Some(&s.alt)).await,
        StatusCode::NOT_FOUND,
    )
    .await;

    // The page: the office adds two files at once; a refused type comes back on the form.
    let staff = login(&s.app, "operatore.sape").await;
    let form = |name: &'static str, kind: &'static str, bytes: Vec<u8>| {
        reqwest::multipart::Part::bytes(bytes)
            .file_name(name)
            .mime_str(kind)
            .unwrap()
    };
    let response = staff
        .post_multipart(
            &format!("/sape/progetti/{id}/documenti"),
            reqwest::multipart::Form::new()
                .text("csrf", staff.csrf.clone())
                .part(
                    "document",
                    form("budget.csv", "text/csv", b"a;b\n1;2\n".to_vec()),
                )
                .part(
                    "document",
                    form("modulo.pdf", "application/pdf", pdf.clone()),
                ),
        )
        .await;
    assert!(response.status().is_redirection());
    assert_eq!(
        s.get_json(&path, &s.sape).await.as_array().unwrap().len(),
        3
    );
    let response = staff
        .post_multipart(
            &format!("/sape/progetti/{id}/documenti"),
            reqwest::multipart::Form::new()
                .text("csrf", staff.csrf.clone())
                .part(
                    "document",
                    form("x.exe", "application/x-msdownload", vec![1, 2, 3]),
                ),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = response.text().await.unwrap();
    assert!(page.contains("id=\"doc-document\""));
    assert!(page.contains("aria-invalid=\"true\""));
    let page = login(&s.app, "comune.treviso")
        .await
        .page(&format!("/sape/progetti/{id}"))
        .await;
    assert!(page.contains("modulo.pdf"));
    assert!(!page.contains("id=\"add-documents\""));
    s.app.stop().await;
}

#[tokio::test]
async fn a_lump_sum_proposal_is_submitted_when_its_work_packages_make_the_grant() {
    let s = Sape::spawn().await;
    let call = |identifier: &str, type_of_action: &str| {
        json!({"identifier": identifier, "title": "Bando di prova", "programme": "horizon_europe",
               "management": "direct", "type_of_action": type_of_action,
               "deadline_model": "single_stage", "deadlines": ["2030-01-31"], "funding_rate": 100})
    };
    let mut ids = Vec::new();
    for (identifier, kind) in [
        ("TEST-LS-01", "HORIZON-AG-LS"),
        ("TEST-RIA-01", "HORIZON-RIA"),
    ] {
        let response = s
            .app
            .post_json("/v1/sape/calls", Some(&s.sape), &call(identifier, kind))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        ids.push(
            response.json::<Value>().await.unwrap()["id"]
                .as_i64()
                .unwrap(),
        );
    }
    // One partner: 10 months at 4.000 € = 40.000 + 25 % = 50.000 €, all of it at 100 %.
    let proposal = |call_id: i64, lump_sums: [&str; 2]| {
        json!({"call_id": call_id, "title": "Prova", "acronym": "LS", "province_role": "coordinator",
               "partners": [{"name": "Provincia di Treviso", "country": "IT", "pic": "999999999",
                             "role": "coordinator", "personnel_unit": "month",
                             "personnel_quantity": "10", "personnel_rate": "4000"}],
               "work_packages": [
                   {"number": 1, "title": "Coordinamento", "start_month": 1, "end_month": 24, "lump_sum": lump_sums[0]},
                   {"number": 2, "title": "Piloti", "start_month": 3, "end_month": 24, "lump_sum": lump_sums[1]}]})
    };
    // Lump sums belong to lump-sum calls only.
    let problem = assert_problem(
        s.app
            .post_json(
                "/v1/sape/proposals",
                Some(&s.sape),
                &proposal(ids[1], ["10000", ""]),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(problem["errors"]["work_packages[0].lump_sum"].is_string());
    // 10.000 + 30.000 ≠ 50.000: prepared, not submitted.
    let created = s
        .create_proposal(&proposal(ids[0], ["10.000", "30000"]))
        .await;
    let id = created["id"].as_i64().unwrap();
    let detail = s.proposal(id, &s.sape).await;
    assert_eq!(
        detail["lump_sum"],
        json!({"work_packages": "40000.00", "requested": "50000.00", "balanced": false})
    );
    assert_eq!(detail["work_packages"][0]["lump_sum"], "10000.00");
    move_through(&s, id, &["in_preparation"]).await;
    let problem = assert_problem(
        s.app
            .post_json(
                &format!("/v1/sape/proposals/{id}/transitions"),
                Some(&s.sape),
                &json!({"state": "submitted"}),
            )
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(problem["code"], "lump_sum_unbalanced");
    assert!(problem["detail"].as_str().unwrap().contains("50.000,00"));
    let response = s
        .app
        .send_json(
            Method::PUT,
            &format!("/v1/sape/proposals/{id}"),
            Some(&s.sape),
            Some(&proposal(ids[0], ["20.000", "30.000,00"])),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let view: Value = response.json().await.unwrap();
    assert_eq!(view["state"], "in_preparation");
    move_through(&s, id, &["submitted"]).await;
    let detail = s.proposal(id, &s.sape).await;
    assert_eq!(detail["lump_sum"]["balanced"], true);
    // The page shows the work packages' sums and says they match.
    let staff = login(&s.app, "operatore.sape").await;
    let page = staff.page(&format!("/sape/progetti/{id}")).await;
    assert!(page.contains("corrispondono al contributo UE richiesto"));
    assert!(page.contains("30.000,00"));
    s.app.stop().await;
}
