//! Every page a person can reach, checked in headless Chromium: a node seeded with content for
//! every module (Help Desk requests with comments and attachments, SUA convenzioni and
//! procedures in many states with lots, awards and an import, a dataset, a best practice, a
//! network thread, SAPE calls with a flag, a follow and a proposal, a Formazione course with an
//! edition, staff, enrolments and a register) is crawled as each role (anonymous, administrator, Help Desk operator, SUA
//! operator, Comune user) through the links of its pages (same-origin GETs only), and every
//! page, at desktop width and at 390 px, must have no axe-core WCAG 2.x A/AA violation, no
//! horizontal overflow of the document, no ISO/UTC timestamp and no English word of the
//! forbidden list in its visible text. All findings are collected and reported together.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use fantoccini::Client;
use pico_node::auth::Role;
use pico_node::sua::State;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::federation::Hub;
use crate::helpers::{Browser, TestApp, add_user, init_dir};
use crate::sua_helpers::{Sua, TREVISO};

/// Pages visited per role at most (a bound, so a link explosion fails instead of hanging).
const MAX_PAGES: usize = 240;
/// URLs visited per shape of URL (digits replaced), e.g. three `/sua/procedure/{n}`.
const PER_SHAPE: usize = 3;
const DESKTOP: (u32, u32) = (1280, 1000);
const PHONE: (u32, u32) = (390, 844);

/// Words that must never show on a page (English, internal codes, protocol jargon).
const FORBIDDEN_WORDS: &[&str] = &[
    "Not Found",
    "Forbidden",
    "Unauthorized",
    "Bad Request",
    "Conflict",
    "Unprocessable",
    "Your",
    "role",
    "imported",
    "import_csv",
    "import_ocds",
    "contract_signed",
    "in_preparation",
    "bids_closed",
    "submitted",
    "received",
    "awarded",
    "cancelled",
    "withdrawn",
    "lowest_price",
    "best_value",
    "services",
    "supplies",
    "works",
    "technical",
    "batch",
    "seq",
    "checkpoint",
    "key id",
    "null",
    "true",
    "false",
    "None",
    "Some",
    "node/",
    "protocol/",
];

/// The JavaScript that returns what a page shows that it must not: ISO/UTC times and
/// forbidden words in the visible text, and the document's overflow of the viewport.
const PAGE_CHECKS: &str = r#"
const words = arguments[0];
const text = document.body ? document.body.innerText : '';
const found = [];
const timestamp = /\d{4}-\d{2}-\d{2}T\d{2}|\b\d{4}-\d{2}-\d{2}\b|\bUTC\b|\+00:00|\bGMT\b/g;
for (const m of text.matchAll(timestamp)) {
    found.push('timestamp "' + text.slice(Math.max(0, m.index - 30), m.index + 30).replace(/\s+/g, ' ') + '"');
}
for (const word of words) {
    const escaped = word.replace(/[.*+?^${}()|[\]\\\/]/g, '\\$&');
    const re = new RegExp('(^|[^\\p{L}_/])' + escaped + '($|[^\\p{L}_])', 'u');
    const m = re.exec(text);
    if (m) {
        found.push('English or internal word "' + word + '" in "' + text.slice(Math.max(0, m.index - 30), m.index + 40).replace(/\s+/g, ' ') + '"');
    }
}
const root = document.documentElement;
if (root.scrollWidth > root.clientWidth + 1) {
    const wide = [];
    for (const el of document.querySelectorAll('body *')) {
        const r = el.getBoundingClientRect();
        if (r.right > root.clientWidth + 1 && !el.closest('.table-responsive') && getComputedStyle(el).position !== 'fixed') {
            wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : '') + ' (' + Math.round(r.right) + 'px)');
            if (wide.length >= 4) break;
        }
    }
    found.push('page ' + root.scrollWidth + 'px wide in a ' + root.clientWidth + 'px viewport: ' + wide.join(', '));
}
return found;
"#;

/// Runs axe-core on the page (WCAG 2.0/2.1 A and AA) and returns one line per violation.
pub const AXE_RUN: &str = r#"
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})
  .then(result => done(result.violations.map(v => v.id + ' (' + v.help + '): ' +
      v.nodes.slice(0, 4).map(n => n.target.join(' ') + ' — ' + (n.failureSummary || '').replace(/\s+/g, ' ')).join(' | '))))
  .catch(error => done(['axe-core failed: ' + error]));
"#;

/// The path of axe-core's `axe.min.js`: `PICO_AXE_CORE`, or where `cargo xtask test` puts
/// it. A missing file fails the test: a check that is skipped cannot fail.
pub fn axe_source() -> String {
    let path = std::env::var("PICO_AXE_CORE").map_or_else(
        |_| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../target/npm/node_modules/axe-core/axe.min.js")
        },
        std::path::PathBuf::from,
    );
    std::fs::read_to_string(&path).unwrap_or_else(|err| {
        panic!(
            "axe-core is missing at {} ({err}): run `cargo xtask test`, or \
             `npm install --prefix target/npm axe-core@{}`",
            path.display(),
            crate::helpers::AXE_CORE_VERSION
        )
    })
}

/// Links of the current page worth following: same origin, GET, pages (not files or API).
async fn page_links(client: &Client, base: &str) -> Vec<String> {
    let hrefs = client
        .execute(
            "return Array.from(document.querySelectorAll('a[href]')).map(a => a.href);",
            vec![],
        )
        .await
        .unwrap();
    hrefs
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .filter_map(|href| href.strip_prefix(base))
        .map(|path| path.split('#').next().unwrap_or_default().to_owned())
        .filter(|path| path.starts_with('/') && is_page(path))
        .collect()
}

/// Whether a path is a page rather than a download, an API resource or an asset.
fn is_page(path: &str) -> bool {
    let bare = path.split('?').next().unwrap_or_default();
    !(bare.starts_with("/v1/")
        || bare.starts_with("/static/")
        || bare == "/logout"
        || bare == "/metrics"
        || bare == "/healthz"
        || bare == "/readyz"
        || bare.ends_with(".csv")
        || bare.ends_with(".pdf")
        || bare.ends_with(".json")
        || bare.ends_with(".jsonld")
        || bare.ends_with(".ttl")
        || bare.ends_with(".rdf")
        || bare.ends_with(".xml")
        || bare.ends_with(".txt")
        || bare.contains("/allegati/")
        || bare.contains("/attachments/")
        || bare.contains("/documenti/")
        || path.contains("format=csv"))
}

/// The shape of a URL: its digits replaced, so `/sua/procedure/7` and `/sua/procedure/9`
/// count as one kind of page.
fn shape(path: &str) -> String {
    let mut out = String::new();
    let mut in_digits = false;
    for c in path.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                out.push('#');
            }
            in_digits = true;
        } else {
            out.push(c);
            in_digits = false;
        }
    }
    out
}

/// Opens `path` and returns what is wrong with it at the current width.
async fn check_page(client: &Client, base: &str, path: &str, axe: &str) -> Vec<String> {
    client.goto(&format!("{base}{path}")).await.unwrap();
    let is_html = client
        .execute("return document.contentType;", vec![])
        .await
        .unwrap();
    if is_html.as_str() != Some("text/html") {
        return vec![format!("not a page ({is_html})")];
    }
    let words = json!(FORBIDDEN_WORDS);
    let mut problems: Vec<String> =
        serde_json::from_value(client.execute(PAGE_CHECKS, vec![words]).await.unwrap()).unwrap();
    client.execute(axe, vec![]).await.unwrap();
    let violations: Vec<String> =
        serde_json::from_value(client.execute_async(AXE_RUN, vec![]).await.unwrap()).unwrap();
    problems.extend(violations.into_iter().map(|v| format!("axe {v}")));
    problems
}

/// Crawls from `start` as the signed-in role (or anonymous), then checks every page found at
/// both widths; returns the findings as "role width path: problem" lines and the pages seen.
async fn crawl(
    browser: &Browser,
    base: &str,
    role: &str,
    start: &[&str],
    axe: &str,
) -> (Vec<String>, Vec<String>) {
    let client = &browser.client;
    client.set_window_size(DESKTOP.0, DESKTOP.1).await.unwrap();
    let mut queue: VecDeque<String> = start.iter().map(|s| (*s).to_owned()).collect();
    let mut seen: BTreeSet<String> = queue.iter().cloned().collect();
    let mut shapes: BTreeMap<String, usize> = BTreeMap::new();
    let mut pages = Vec::new();
    let mut findings = Vec::new();
    while let Some(path) = queue.pop_front() {
        assert!(
            pages.len() < MAX_PAGES,
            "{role}: more than {MAX_PAGES} pages"
        );
        let count = shapes.entry(shape(&path)).or_default();
        if *count >= PER_SHAPE {
            continue;
        }
        *count += 1;
        for problem in check_page(client, base, &path, axe).await {
            findings.push(format!("[{role}, {}px] {path}: {problem}", DESKTOP.0));
        }
        pages.push(path);
        for link in page_links(client, base).await {
            if seen.insert(link.clone()) {
                queue.push_back(link);
            }
        }
    }
    client.set_window_size(PHONE.0, PHONE.1).await.unwrap();
    let width = client
        .execute("return window.innerWidth;", vec![])
        .await
        .unwrap();
    assert_eq!(width, json!(PHONE.0), "the phone viewport");
    for path in &pages {
        for problem in check_page(client, base, path, axe).await {
            findings.push(format!("[{role}, {}px] {path}: {problem}", PHONE.0));
        }
    }
    (findings, pages)
}

/// At phone width the main menu hides behind Bootstrap Italia's toggler and opens with it
/// (the crawl leaves the window at phone width).
async fn phone_menu_opens(browser: &Browser, base: &str) {
    use fantoccini::Locator;
    let client = &browser.client;
    client.goto(&format!("{base}/")).await.unwrap();
    let toggler = client
        .find(Locator::Css(".custom-navbar-toggler"))
        .await
        .unwrap();
    assert!(
        toggler.is_displayed().await.unwrap(),
        "the menu toggler shows"
    );
    let first_link = client
        .find(Locator::Css("#menu-principale .nav-link"))
        .await
        .unwrap();
    assert!(
        !first_link.is_displayed().await.unwrap(),
        "the menu is closed on a phone"
    );
    if let Ok(dir) = std::env::var("PICO_SCREENSHOTS") {
        std::fs::write(
            format!("{dir}/phone-home.png"),
            client.screenshot().await.unwrap(),
        )
        .unwrap();
    }
    toggler.click().await.unwrap();
    for _ in 0..100 {
        if first_link.is_displayed().await.unwrap() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        first_link.is_displayed().await.unwrap(),
        "the toggler opens the menu"
    );
    if let Ok(dir) = std::env::var("PICO_SCREENSHOTS") {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        std::fs::write(
            format!("{dir}/phone-menu.png"),
            client.screenshot().await.unwrap(),
        )
        .unwrap();
    }
}

/// A Treviso node with a hub, one user per role and content in every module.
async fn seeded_node(hub: &mut Hub) -> Sua {
    hub.start().await;
    let (dir, mut config) = init_dir("026");
    config.federation.hub_url = hub.url();
    config.federation.poll_interval_ms = 100;
    config.federation.retry_base_ms = 50;
    config.federation.retry_max_secs = 1;
    hub.enrol(&config, "026");
    let community = add_user(
        &config,
        "comunicazione",
        &Role::Operator(pico_node::auth::Module::Community),
    );
    let sua = Sua::on(TestApp::start(dir, config).await).await;
    let app = &sua.app;

    // Help Desk: two requests of Treviso, one answered with a comment and an attachment.
    let first = app
        .open_request(&sua.tv, "Posta certificata non funziona")
        .await;
    app.open_request(&sua.tv, "Richiesta di nuove credenziali")
        .await;
    let comment = app
        .post_json(
            &format!("/v1/helpdesk/requests/{first}/comments"),
            Some(&sua.helpdesk),
            &json!({"body": "Abbiamo riavviato il servizio: riprovate."}),
        )
        .await;
    assert_eq!(comment.status(), StatusCode::CREATED);
    let file = app
        .post_raw(
            &format!("/v1/helpdesk/requests/{first}/attachments?filename=verbale.pdf"),
            &sua.tv,
            "application/pdf",
            b"%PDF-1.7\nverbale\n%%EOF\n".to_vec(),
        )
        .await;
    assert_eq!(file.status(), StatusCode::CREATED);

    // SUA: procedures along the workflow, and past ones imported from CSV.
    for state in [
        State::Submitted,
        State::InPreparation,
        State::Published,
        State::Awarded,
        State::Completed,
        State::Cancelled,
    ] {
        sua.procedure_in(state).await;
    }
    let csv = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/sua_import_sample.csv"),
    )
    .unwrap()
    .replace("016024", TREVISO)
    .replace("016001", "026001");
    let imported = app
        .post_raw(
            "/v1/sua/imports?format=csv",
            &sua.sua,
            "text/csv",
            csv.into_bytes(),
        )
        .await;
    assert_eq!(imported.status(), StatusCode::OK);

    // A dataset, a public best practice, a network thread.
    let dataset = app
        .post_raw(
            "/v1/datasets/contratti/import?key=cig",
            &sua.admin,
            "text/csv",
            b"cig;comune;oggetto;importo_base;data_pubblicazione\nB026000001;026086;Manutenzione strade;40000.00;2025-03-14\n"
                .to_vec(),
        )
        .await;
    assert_eq!(dataset.status(), StatusCode::OK);
    let practice = app
        .post_json(
            "/v1/practices",
            Some(&community),
            &json!({"title": "Centrale di committenza condivisa",
                    "summary": "Come dieci Comuni hanno condiviso una centrale di committenza.",
                    "module": "sua", "comuni": [TREVISO], "tags": ["appalti"],
                    "body": "# Esperienza\n\nUna centrale per dieci Comuni.", "public": true}),
        )
        .await;
    assert_eq!(practice.status(), StatusCode::CREATED);
    let joined = reqwest::Client::new()
        .put(app.url("/v1/networks/sua/membership"))
        .bearer_auth(&sua.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(joined.status(), StatusCode::OK);
    let post = app
        .post_json(
            "/v1/networks/sua/posts",
            Some(&sua.admin),
            &json!({"subject": "Clausole sociali nei bandi", "body": "Come applicate le clausole sociali?"}),
        )
        .await;
    assert_eq!(post.status(), StatusCode::CREATED);

    // SAPE: calls from the portal fixture and one by hand, a flag to Treviso, which follows
    // it, and a proposal with partners and budget.
    let calls = app
        .post_raw(
            "/v1/sape/calls/import?filename=portale.json",
            &sua.admin,
            "application/json",
            std::fs::read(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/fixtures/sape_portal_search.json"),
            )
            .unwrap(),
        )
        .await;
    assert_eq!(calls.status(), StatusCode::OK);
    let call = app
        .post_json(
            "/v1/sape/calls",
            Some(&sua.admin),
            &json!({"identifier": "FESR-VENETO-2025-01", "title": "Efficienza energetica degli edifici comunali",
                    "programme": "fesr", "management": "indirect", "deadline_model": "permanent",
                    "budget": "2500000", "funding_rate": 80}),
        )
        .await;
    assert_eq!(call.status(), StatusCode::CREATED);
    let call: Value = call.json().await.unwrap();
    let call = call["id"].as_i64().unwrap();
    let flagged = app
        .send_json(
            reqwest::Method::PUT,
            &format!("/v1/sape/calls/{call}/flags"),
            Some(&sua.admin),
            Some(&json!({"comuni": [TREVISO], "note": "Scuole e municipio"})),
        )
        .await;
    assert_eq!(flagged.status(), StatusCode::OK);
    let followed = app
        .send_json(
            reqwest::Method::PUT,
            &format!("/v1/sape/calls/{call}/follow"),
            Some(&sua.tv),
            None,
        )
        .await;
    assert_eq!(followed.status(), StatusCode::OK);
    let proposal = app
        .post_json(
            "/v1/sape/proposals",
            Some(&sua.admin),
            &json!({"call_id": call, "title": "Scuole a energia quasi zero", "acronym": "SCUOLE-NZ",
                    "province_role": "coordinator", "comuni": [TREVISO],
                    "partners": [{"name": "Provincia di Treviso", "country": "IT", "pic": "999999999",
                                  "role": "coordinator", "personnel_unit": "month",
                                  "personnel_quantity": "12", "personnel_rate": "4000", "travel": "2500"}],
                    "work_packages": [{"number": 1, "title": "Coordinamento", "lead": "Provincia di Treviso",
                                       "start_month": 1, "end_month": 24}]}),
        )
        .await;
    assert_eq!(proposal.status(), StatusCode::CREATED);
    // A second one funded and running, with its outcome recorded (the outcome's table and
    // form), and a request for support from Treviso waiting for the office.
    let running = app
        .post_json(
            "/v1/sape/proposals",
            Some(&sua.admin),
            &json!({"call_id": call, "title": "Illuminazione pubblica efficiente", "acronym": "LUCE-TV",
                    "province_role": "support", "comuni": [TREVISO],
                    "partners": [{"name": "Comune di Treviso", "country": "IT", "pic": "123456789",
                                  "role": "coordinator", "comune_code": TREVISO, "personnel_unit": "day",
                                  "personnel_quantity": "40", "personnel_rate": "250"}]}),
        )
        .await;
    assert_eq!(running.status(), StatusCode::CREATED);
    let running = running.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    for state in [
        "in_preparation",
        "submitted",
        "evaluated",
        "funded",
        "grant_signed",
        "in_execution",
    ] {
        let moved = app
            .post_json(
                &format!("/v1/sape/proposals/{running}/transitions"),
                Some(&sua.admin),
                &json!({"state": state}),
            )
            .await;
        assert_eq!(moved.status(), StatusCode::OK, "{state}");
    }
    let outcome = app
        .send_json(
            reqwest::Method::PUT,
            &format!("/v1/sape/proposals/{running}/outcome"),
            Some(&sua.admin),
            Some(
                &json!({"score": "12", "threshold": "10", "cup": "J41B22000120006",
                         "partners": [{"obtained": "10000", "received": "2500"}]}),
            ),
        )
        .await;
    assert_eq!(outcome.status(), StatusCode::OK);
    let support = app
        .post_json(
            &format!("/v1/sape/calls/{call}/support"),
            Some(&sua.tv),
            &json!({"message": "Ci serve aiuto per il budget."}),
        )
        .await;
    assert_eq!(support.status(), StatusCode::CREATED);

    // Formazione: a course with an open edition of two sessions, a person of Treviso's staff
    // list enrolled (waiting for approval) and one of the Province's with a register filled.
    let course = app
        .post_json(
            "/v1/formazione/courses",
            Some(&sua.admin),
            &json!({"title": "Il nuovo codice dei contratti pubblici", "sector": "appalti", "hours": 6,
                    "mode": "online", "tags": ["RUP"], "audience": "both", "needs_approval": true,
                    "min_attendance_percent": 75, "min_score": 60}),
        )
        .await;
    assert_eq!(course.status(), StatusCode::CREATED);
    let course = course.json::<Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let edition = app
        .post_json(
            &format!("/v1/formazione/courses/{course}/editions"),
            Some(&sua.admin),
            &json!({"teacher": "Laura Conte", "link": "https://zoom.us/j/81234567890", "seats": 20,
                    "enrol_opens": "2020-01-01", "enrol_closes": "2099-12-31",
                    "sessions": [{"starts_at": "2026-03-10T09:00:00+01:00", "ends_at": "2026-03-10T12:00:00+01:00"},
                                 {"starts_at": "2026-03-17T09:00:00+01:00", "ends_at": "2026-03-17T12:30:00+01:00"}]}),
        )
        .await;
    assert_eq!(edition.status(), StatusCode::CREATED);
    let edition = edition.json::<Value>().await.unwrap();
    for (token, name, email) in [
        (&sua.tv, "Giulia Rossi", "giulia.rossi@comune.treviso.it"),
        (
            &sua.admin,
            "Marco Bianchi",
            "marco.bianchi@provincia.treviso.it",
        ),
    ] {
        let person = app
            .post_json(
                "/v1/formazione/staff",
                Some(token),
                &json!({"name": name, "office": "Ufficio gare", "email": email}),
            )
            .await;
        assert_eq!(person.status(), StatusCode::CREATED);
        let person = person.json::<Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap();
        let enrolment = app
            .post_json(
                &format!("/v1/formazione/editions/{}/enrolments", edition["id"]),
                Some(token),
                &json!({"staff_id": person}),
            )
            .await;
        assert_eq!(enrolment.status(), StatusCode::CREATED);
        let enrolment = enrolment.json::<Value>().await.unwrap();
        if enrolment["state"] == "enrolled" {
            let register = app
                .send_json(
                    reqwest::Method::PUT,
                    &format!(
                        "/v1/formazione/sessions/{}/attendance",
                        edition["sessions"][0]["id"]
                    ),
                    Some(&sua.admin),
                    Some(&json!({"entries": [{"enrolment_id": enrolment["id"], "minutes": 170}]})),
                )
                .await;
            assert_eq!(register.status(), StatusCode::OK);
            // The second session and the test: completed, with a certificate whose public
            // page the edition's page links.
            let register = app
                .send_json(
                    reqwest::Method::PUT,
                    &format!(
                        "/v1/formazione/sessions/{}/attendance",
                        edition["sessions"][1]["id"]
                    ),
                    Some(&sua.admin),
                    Some(&json!({"entries": [{"enrolment_id": enrolment["id"], "minutes": 200}]})),
                )
                .await;
            assert_eq!(register.status(), StatusCode::OK);
            let score = app
                .send_json(
                    reqwest::Method::PUT,
                    &format!("/v1/formazione/enrolments/{}/score", enrolment["id"]),
                    Some(&sua.admin),
                    Some(&json!({"score": 80})),
                )
                .await;
            assert_eq!(score.status(), StatusCode::OK);
            let certificate = app
                .post_json(
                    &format!("/v1/formazione/enrolments/{}/certificate", enrolment["id"]),
                    Some(&sua.admin),
                    &json!(null),
                )
                .await;
            assert_eq!(certificate.status(), StatusCode::CREATED);
        }
    }

    // SIT: a service with every field, Treviso's subscription accepted with a request inside
    // it, and Treviso's digital picture.
    let service = app
        .post_json(
            "/v1/sit/services",
            Some(&sua.admin),
            &json!({"code": "adesione-pagopa", "name": "Adesione a pagoPA e App IO",
                    "description": "Attivazione dei pagamenti del Comune su pagoPA e App IO.",
                    "category": "payments", "theme": 9, "channels": ["online", "email"],
                    "audience": "all", "conditions": "Accordo firmato.", "cost_model": "per_inhabitant",
                    "fee": "0.10", "first_answer_hours": 4, "resolution_hours": 24, "availability": "99.5",
                    "contact_office": "Servizi innovativi", "contact_email": "sit@provincia.treviso.it",
                    "contact_phone": "0422 656000",
                    "documents": [{"title": "Guida", "url": "https://www.provincia.treviso.it/guida.pdf"}],
                    "inputs": ["Elenco dei servizi"], "outputs": ["Servizi attivi"]}),
        )
        .await;
    assert_eq!(service.status(), StatusCode::CREATED);
    let subscription = app
        .post_json(
            "/v1/sit/subscriptions",
            Some(&sua.tv),
            &json!({"service": "adesione-pagopa", "note": "Per i tributi"}),
        )
        .await;
    assert_eq!(subscription.status(), StatusCode::CREATED);
    let subscription: Value = subscription.json().await.unwrap();
    let subscription = subscription["id"].as_i64().unwrap();
    let accepted = app
        .post_json(
            &format!("/v1/sit/subscriptions/{subscription}/transitions"),
            Some(&sua.admin),
            &json!({"state": "active", "agreement_ref": "Prot. 12/2026", "start_date": "2026-02-01"}),
        )
        .await;
    assert_eq!(accepted.status(), StatusCode::OK);
    let request = app
        .post_json(
            &format!("/v1/sit/subscriptions/{subscription}/requests"),
            Some(&sua.tv),
            &json!({"kind": "activation", "subject": "Attivazione TARI", "description": "Attivate la TARI."}),
        )
        .await;
    assert_eq!(request.status(), StatusCode::CREATED);
    let picture = app
        .send_json(
            reqwest::Method::PUT,
            &format!("/v1/sit/comuni/{TREVISO}/picture"),
            Some(&sua.admin),
            Some(&json!({"platforms": [{"platform": "spid", "since": "2021-03-01"}],
                         "measures": [{"measure": "1.4.4", "status": "obtained", "amount": "14000"}]})),
        )
        .await;
    assert_eq!(picture.status(), StatusCode::OK);
    sua
}

#[tokio::test]
async fn every_page_of_every_role_is_accessible_italian_and_fits_a_phone() {
    let axe = axe_source();
    let browser = Browser::start().await;
    let mut hub = Hub::init();
    let sua = seeded_node(&mut hub).await;
    let base = sua.app.url("");
    let mut findings = Vec::new();
    let mut total = 0;
    // Anonymous first; error pages are reached on purpose (404 everywhere, 403 by role).
    let (found, pages) = crawl(
        &browser,
        &base,
        "anonimo",
        &["/", "/login", "/pagina-che-non-esiste"],
        &axe,
    )
    .await;
    // The Portale's public pages are reached from its home by the anonymous visitor.
    for path in [
        "/",
        "/comuni",
        "/sit",
        "/sit/servizi/adesione-pagopa",
        "/buone-pratiche",
    ] {
        assert!(
            pages.iter().any(|page| page == path),
            "{path} not reached anonymously: {pages:?}"
        );
    }
    assert!(
        pages.iter().any(|page| page.starts_with("/comuni/0")),
        "no Comune's page reached anonymously: {pages:?}"
    );
    // Treviso's page (its subscription and digital picture: the crawl meets Comuni in
    // alphabetical order and stops at three) and a service page with the fee worked out for a
    // chosen Comune, at phone width.
    for path in [
        "/comuni/026086",
        "/sit/servizi/adesione-pagopa?comune=026001",
    ] {
        for problem in check_page(&browser.client, &base, path, &axe).await {
            findings.push(format!("[anonimo, {}px] {path}: {problem}", PHONE.0));
        }
    }
    findings.extend(found);
    total += pages.len();
    phone_menu_opens(&browser, &base).await;
    for (role, user, forbidden) in [
        ("amministratore", "boss", "/pagina-che-non-esiste"),
        ("operatore Help Desk", "operatore.hd", "/sua/import"),
        ("operatore SUA", "operatore.sua", "/admin/federation"),
        ("Comune", "comune.treviso", "/admin/federation"),
    ] {
        browser.login(&base, user).await;
        let (found, pages) =
            crawl(&browser, &base, role, &["/dashboard", "/", forbidden], &axe).await;
        // The administrator's own pages are reached through the navigation and links.
        if user == "boss" {
            for path in [
                "/amministrazione/persone",
                "/amministrazione/persone/nuova",
                "/amministrazione/registro",
                "/formazione",
                "/formazione/corsi/nuovo",
                "/formazione/personale",
                "/formazione/rapporti",
            ] {
                assert!(
                    pages.iter().any(|page| page == path),
                    "{path} not reached: {pages:?}"
                );
            }
            for prefix in [
                "/formazione/edizioni/",
                "/formazione/incontri/",
                "/attestati/",
                "/formazione/moodle",
            ] {
                assert!(
                    pages.iter().any(|page| page.starts_with(prefix)),
                    "no {prefix} page reached: {pages:?}"
                );
            }
            assert!(
                pages
                    .iter()
                    .any(|page| page.starts_with("/amministrazione/persone/")
                        && page.ends_with(|c: char| c.is_ascii_digit())),
                "no person's page reached"
            );
            // A filter refused, with its message beside the field (at phone width).
            let refused = "/amministrazione/registro?dal=31%2F02%2F2026";
            for problem in check_page(&browser.client, &base, refused, &axe).await {
                findings.push(format!("[{role}, {}px] {refused}: {problem}", PHONE.0));
            }
        }
        findings.extend(found);
        total += pages.len();
        browser.logout().await;
    }
    eprintln!("{total} pages crawled, {} findings", findings.len());
    assert!(
        findings.is_empty(),
        "{} findings on {total} pages:\n{}",
        findings.len(),
        findings.join("\n")
    );
    assert!(total >= 40, "only {total} pages were reached");
    sua.app.stop().await;
    hub.stop().await;
}
