//! Every page of the hub in headless Chromium: a hub seeded with real content (enrolled
//! Provinces with ISTAT BES rows and SUA procedures, best practices with attachments, network
//! posts, checkpoints) is crawled from its home, link by link, and every public page and the
//! operators' area is checked at desktop width and at 390 px: no axe-core violation of WCAG
//! 2.0/2.1 A and AA, no sideways overflow of the document, no ISO or UTC timestamp and no
//! English in the visible text.
//!
//! axe-core is read from the file named by `PICO_AXE_JS` (or `PICO_AXE_CORE`; the xtask
//! installs it from npm); without it, or without Chromium, the test fails and says how to
//! install them.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use fantoccini::{Client, Locator};
use pico_protocol::Hash32;
use pico_protocol::Timestamp;
use pico_protocol::payload::{
    Attachment, BestPractice, DatasetBatch, FieldValue, Module, Network, NetworkMessage, Payload,
    PublicationStatus,
};
use pico_protocol::request_auth::RequestAuth;

use crate::support::{Browser, NodeLog, OPERATOR_TOKEN, TestApp};

/// The WCAG levels axe checks.
const AXE_TAGS: [&str; 4] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

/// Widths every page is checked at: a desktop and a small phone.
const WIDTHS: [u32; 2] = [1280, 390];

/// Words and phrases that must not reach a page: the English of frameworks and of our own
/// first drafts. Matched as whole words, case-insensitively, outside `code` and `pre`.
const ENGLISH: [&str; 24] = [
    "the",
    "and",
    "of",
    "with",
    "from",
    "rows",
    "error",
    "not found",
    "bad request",
    "unauthorized",
    "internal server",
    "search",
    "download",
    "source",
    "page",
    "submit",
    "loading",
    "dashboard",
    "unknown",
    "invalid",
    "missing",
    "enrolled",
    "revoked",
    "Nodo Pi.Co. della federazione",
];

/// The English labels of the CPV divisions, none of which may be shown.
const CPV_DIVISIONS: &str = include_str!("../../data/cpv_2008_divisions.csv");

fn english_cpv_labels() -> Vec<String> {
    csv::Reader::from_reader(CPV_DIVISIONS.as_bytes())
        .deserialize::<(String, String, String, String)>()
        .map(|row| row.unwrap().3)
        .collect()
}

/// A few real rows of a Province's ISTAT BES indicators (`deploy/demo`).
fn bes_batch(code: &str, rows: usize) -> Payload {
    let text = std::fs::read_to_string(format!(
        "{}/../deploy/demo/bes_{code}.csv",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let upserts = csv::Reader::from_reader(text.as_bytes())
        .deserialize::<(String, String, String, String, i64, String, String)>()
        .take(rows)
        .map(|row| {
            let (codice, dominio, indicatore, sesso, anno, valore, unita) = row.unwrap();
            vec![
                codice.into(),
                dominio.into(),
                indicatore.into(),
                sesso.into(),
                FieldValue::Int(anno),
                valore.into(),
                unita.into(),
            ]
        })
        .collect();
    Payload::DatasetBatch(DatasetBatch {
        dataset: "bes_indicatori".into(),
        schema_version: 1,
        fields: [
            "codice",
            "dominio",
            "indicatore",
            "sesso",
            "anno",
            "valore",
            "unita_misura",
        ]
        .map(str::to_owned)
        .to_vec(),
        primary_key: ["codice", "sesso", "anno"].map(str::to_owned).to_vec(),
        snapshot: None,
        upserts,
        deletes: vec![],
    })
}

/// A best practice with one attached file (returned with its bytes).
fn practice(id: &str, title: &str, module: Module, file: &[u8]) -> (Payload, Attachment) {
    let attachment = Attachment {
        name: format!("{id}.pdf"),
        media_type: "application/pdf".into(),
        sha256: Hash32::digest_of(&[file]),
        length: file.len() as u64,
    };
    let payload = Payload::BestPractice(BestPractice {
        id: id.into(),
        title: title.into(),
        summary: format!("{title}: come l'abbiamo organizzato e che cosa ha funzionato."),
        module,
        comuni: vec![],
        tags: vec!["convenzione".into(), "comuni".into()],
        language: "it".into(),
        body: format!(
            "# {title}\n\nLa Provincia ha definito, con i Comuni aderenti, un percorso in tre \
             passi:\n\n1. una **convenzione** approvata dai consigli comunali;\n2. un ufficio \
             unico con personale della Provincia;\n3. un resoconto annuale ai sindaci.\n\n\
             ## Risultati\n\nTempi medi dimezzati. Informazioni su \
             [UPI](https://www.upinet.it).\n"
        ),
        attachments: vec![attachment.clone()],
        status: PublicationStatus::Published,
    });
    (payload, attachment)
}

/// A hub with real content from five Provinces.
async fn seeded_hub() -> TestApp {
    // Treviso, Brescia and Padova with SUA procedures (as in the appalti tests).
    let (app, mut treviso) = crate::appalti::loaded().await;
    // Brescia's log goes on from the entry `loaded` pushed.
    let mut brescia = NodeLog::new("017", "brescia");
    let (seq, hash) = app.head("017").await;
    (brescia.seq, brescia.prev) = (seq, hash.parse().unwrap());
    let mut pesaro = app.enrolled("041", "pesaro");
    let sassari = NodeLog::new("090", "sassari");
    app.enrol(&sassari);
    for (node, rows) in [(&mut treviso, 40), (&mut brescia, 25), (&mut pesaro, 30)] {
        let code = node.province.as_str().to_owned();
        let entry = node.next(&bes_batch(&code, rows));
        app.push_ok(&entry).await;
    }
    // Treviso and Brescia with SAPE proposals (as in the sape tests).
    for node in [&mut treviso, &mut brescia] {
        let payload = crate::sape::sample(node.province.as_str());
        app.push_ok(&node.next(&payload)).await;
    }
    // Treviso and Brescia with training figures (as in the formazione tests).
    for node in [&mut treviso, &mut brescia] {
        let payload = crate::formazione::sample(node.province.as_str());
        app.push_ok(&node.next(&payload)).await;
    }
    // Treviso's courses open to other Provinces (the national catalogue of courses).
    let payload = crate::formazione::course_sample();
    app.push_ok(&treviso.next(&payload)).await;
    // Best practices with attachments, uploaded.
    for (node, id, title, module) in [
        (
            &mut treviso,
            "sua-convenzione",
            "Convenzione SUA con i Comuni",
            Module::Sua,
        ),
        (
            &mut pesaro,
            "helpdesk-unico",
            "Un Help Desk unico per i Comuni",
            Module::Helpdesk,
        ),
    ] {
        let file = format!("%PDF-1.7 {title}").into_bytes();
        let (payload, attachment) = practice(id, title, module, &file);
        app.push_ok(&node.next(&payload)).await;
        let uploaded = app
            .http
            .put(format!(
                "{}/v1/federation/attachments/{}",
                app.url,
                attachment.sha256.to_hex()
            ))
            .body(file)
            .send()
            .await
            .unwrap();
        assert!(uploaded.status().is_success(), "{}", uploaded.status());
    }
    // Network activity: Treviso and Pesaro join the SUA network, Treviso opens a thread.
    for node in [&treviso, &pesaro] {
        let path = format!("/v1/federation/networks/sua/members/{}", node.province);
        let authorization =
            RequestAuth::sign(&node.key, node.province, "PUT", &path, Timestamp::now());
        let joined = app
            .http
            .put(format!("{}{path}", app.url))
            .header("authorization", authorization)
            .send()
            .await
            .unwrap();
        assert_eq!(joined.status().as_u16(), 200);
    }
    let post = Payload::NetworkMessage(NetworkMessage {
        network: Network::Sua,
        thread: None,
        reply_to: None,
        subject: Some("Modelli di convenzione".into()),
        body: "Chi ha un modello di convenzione aggiornato al nuovo codice?".into(),
        attachments: vec![],
    });
    app.push_ok(&treviso.next(&post)).await;
    let size = app.count("log_leaves") as u64;
    app.await_checkpoint(size).await;
    app
}

/// What a page's check found.
#[derive(Debug, Default)]
struct Findings(BTreeMap<String, Vec<String>>);

impl Findings {
    fn add(&mut self, page: &str, width: u32, problem: String) {
        self.0
            .entry(format!("{page} @ {width}px"))
            .or_default()
            .push(problem);
    }
}

/// Runs axe-core on the current document; returns the violations, one line each.
async fn axe(browser: &Client, axe_source: &str) -> Vec<String> {
    let loaded = browser
        .execute(&format!("{axe_source}\n;return typeof axe;"), vec![])
        .await
        .unwrap();
    assert_eq!(loaded, "object", "axe-core did not load");
    let script = format!(
        "const done = arguments[arguments.length - 1];\
         axe.run(document, {{ runOnly: {{ type: 'tag', values: {tags} }}, resultTypes: ['violations'] }})\
           .then(r => done(r.violations.map(v => v.id + ' (' + v.impact + '): ' + v.help + ' — ' +\
               v.nodes.slice(0, 3).map(n => n.target.join(' ') + ' [' +\
                   n.any.concat(n.all).map(c => c.message).join(' ') + ']').join(', '))))\
           .catch(e => done(['axe failed: ' + e]));",
        tags = serde_json::to_string(&AXE_TAGS).unwrap()
    );
    let result = browser.execute_async(&script, vec![]).await.unwrap();
    result
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

/// The visible text, and the same without `code` and `pre` (commands and signed notes).
async fn visible_text(browser: &Client) -> (String, String) {
    let texts = browser
        .execute(
            "const all = document.body.innerText;\
             const copy = document.body.cloneNode(true);\
             copy.querySelectorAll('code, pre, script').forEach(e => e.remove());\
             document.body.appendChild(copy); copy.style.display = 'block';\
             const prose = copy.innerText; copy.remove();\
             return [all, prose];",
            vec![],
        )
        .await
        .unwrap();
    (
        texts[0].as_str().unwrap().to_owned(),
        texts[1].as_str().unwrap().to_owned(),
    )
}

/// Checks the page in the browser at the current width.
async fn check_page(
    browser: &Client,
    axe_source: &str,
    page: &str,
    width: u32,
    english_labels: &[String],
    findings: &mut Findings,
) {
    for violation in axe(browser, axe_source).await {
        findings.add(page, width, format!("axe: {violation}"));
    }
    let overflow = browser
        .execute(
            "return [document.documentElement.scrollWidth, document.documentElement.clientWidth];",
            vec![],
        )
        .await
        .unwrap();
    let (scroll, client) = (overflow[0].as_u64().unwrap(), overflow[1].as_u64().unwrap());
    if scroll > client {
        // Name the elements that stick out and have no child that does: the culprits.
        let culprits = browser
            .execute(
                "const w = document.documentElement.clientWidth;\
                 const out = e => e.getBoundingClientRect().right > w + 0.5;\
                 return Array.from(document.querySelectorAll('body *'))\
                   .filter(e => out(e) && !Array.from(e.children).some(out))\
                   .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +\
                     (typeof e.className === 'string' && e.className.trim() ? '.' + e.className.trim().split(/\\s+/).join('.') : '') +\
                     ' (' + Math.round(e.getBoundingClientRect().right) + ' px)');",
                vec![],
            )
            .await
            .unwrap();
        findings.add(
            page,
            width,
            format!("the document is {scroll} px wide in a {client} px window: {culprits}"),
        );
    }
    let (all, prose) = visible_text(browser).await;
    let iso =
        regex::Regex::new(r"\b\d{4}-\d{2}-\d{2}\b|\d{2}:\d{2}:\d{2}|\bUTC\b|\bGMT\b").unwrap();
    if let Some(found) = iso.find(&all) {
        findings.add(
            page,
            width,
            format!("ISO/UTC time in the text: {:?}", found.as_str()),
        );
    }
    for word in ENGLISH {
        let pattern = format!(r"(?i)(^|[^\p{{L}}]){}($|[^\p{{L}}])", regex::escape(word));
        if regex::Regex::new(&pattern).unwrap().is_match(&prose) {
            findings.add(page, width, format!("English in the text: {word:?}"));
        }
    }
    for label in english_labels {
        if all.contains(label.as_str()) {
            findings.add(page, width, format!("English CPV label: {label:?}"));
        }
    }
}

/// The same-origin page links of the current document `page` (not the API, assets,
/// downloads such as the RDF catalogue, or fragments of the page itself such as the skip link).
async fn page_links(browser: &Client, base: &str, page: &str) -> Vec<String> {
    let hrefs = browser
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
        .filter_map(|h| h.as_str())
        .filter_map(|href| href.strip_prefix(base))
        .map(|path| path.split('#').next().unwrap_or_default().to_owned())
        .filter(|path| {
            path.starts_with('/')
                && !path.starts_with("/v1/")
                && !path.starts_with("/static/")
                && !path.starts_with("/.well-known/")
                && path != "/status"
                && path != page
                && ![
                    ".csv", ".pdf", ".json", ".jsonld", ".ttl", ".rdf", ".xml", ".txt", ".parquet",
                ]
                .iter()
                .any(|download| {
                    path.split('?')
                        .next()
                        .unwrap_or_default()
                        .ends_with(download)
                })
        })
        .collect()
}

/// Pages made from one template many times over (the BES has a page per indicator and per
/// Province): the crawl opens the first of each family it meets, and every link is still
/// checked for its status below.
const FAMILIES: [&str; 2] = ["/bes/indicatori/", "/bes/province/"];

/// Whether `link` is worth opening: not a page of a family already queued.
fn first_of_its_family(families: &mut BTreeSet<&'static str>, link: &str) -> bool {
    FAMILIES
        .iter()
        .find(|family| link.starts_with(**family))
        .is_none_or(|family| families.insert(family))
}

#[tokio::test]
async fn every_page_passes_axe_fits_390_px_and_speaks_italian() {
    // The pages branch's xtask names the same file PICO_AXE_CORE.
    let axe_path = std::env::var("PICO_AXE_JS")
        .or_else(|_| std::env::var("PICO_AXE_CORE"))
        .unwrap_or_default();
    let axe_source = std::fs::read_to_string(&axe_path).unwrap_or_else(|_| {
        panic!(
            "axe-core is missing (PICO_AXE_JS={axe_path:?}): install it with \
             `npm install --prefix target/axe axe-core@4.10.3` and set \
             PICO_AXE_JS=$PWD/target/axe/node_modules/axe-core/axe.min.js \
             (cargo xtask test does both)"
        )
    });
    let app = seeded_hub().await;
    let browser = Browser::start(1280).await;
    let client = &browser.client;
    let english_labels = english_cpv_labels();
    let mut findings = Findings::default();
    let mut seen = BTreeSet::new();
    // Pages reached by no link: the 404 page, a filter with a wrong value.
    let mut queue: VecDeque<String> = ["/", "/pagina-che-non-esiste", "/?regione=Atlantide"]
        .map(str::to_owned)
        .into();
    let mut links_to_check = BTreeSet::new();
    let mut families = BTreeSet::new();
    while let Some(page) = queue.pop_front() {
        if !seen.insert(page.clone()) {
            continue;
        }
        assert!(seen.len() < 200, "the crawl does not end: {seen:?}");
        for width in WIDTHS {
            client.set_window_size(width, 900).await.unwrap();
            client.goto(&format!("{}{page}", app.url)).await.unwrap();
            check_page(
                client,
                &axe_source,
                &page,
                width,
                &english_labels,
                &mut findings,
            )
            .await;
        }
        for link in page_links(client, &app.url, &page).await {
            links_to_check.insert(link.clone());
            if !seen.contains(&link) && first_of_its_family(&mut families, &link) {
                queue.push_back(link);
            }
        }
    }
    // Every link leads to a page: no menu item or table link ends in a 404.
    for link in &links_to_check {
        let (status, _) = app.get_text(link).await;
        if status != 200 {
            findings.add(link, 0, format!("linked from a page, answers {status}"));
        }
    }
    for page in [
        "/",
        "/appalti",
        "/sape",
        "/sape/progetti",
        "/formazione",
        "/bes",
        "/dati/rapporto",
        "/formazione/corsi",
        "/buone-pratiche",
        "/registro",
        "/buone-pratiche/026/sua-convenzione",
        "/buone-pratiche/041/helpdesk-unico",
        "/?ordina=voci&verso=decrescente",
    ] {
        assert!(seen.contains(page), "the crawl reached {page}: {seen:?}");
    }

    // The operators' area, after logging in with the token.
    client.set_window_size(1280, 900).await.unwrap();
    client
        .goto(&format!("{}/operatore/accesso", app.url))
        .await
        .unwrap();
    for width in WIDTHS {
        client.set_window_size(width, 900).await.unwrap();
        check_page(
            client,
            &axe_source,
            "/operatore/accesso",
            width,
            &english_labels,
            &mut findings,
        )
        .await;
    }
    client
        .find(Locator::Id("token"))
        .await
        .unwrap()
        .send_keys(OPERATOR_TOKEN)
        .await
        .unwrap();
    client
        .find(Locator::Css("main form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client.wait().for_element(Locator::Id("key")).await.unwrap();
    for width in WIDTHS {
        client.set_window_size(width, 900).await.unwrap();
        client
            .goto(&format!("{}/operatore", app.url))
            .await
            .unwrap();
        assert!(
            client.find(Locator::Id("key")).await.is_ok(),
            "logged in to the operators' area"
        );
        check_page(
            client,
            &axe_source,
            "/operatore",
            width,
            &english_labels,
            &mut findings,
        )
        .await;
    }
    // A refused enrolment shows its message beside the field.
    client
        .find(Locator::Id("key"))
        .await
        .unwrap()
        .send_keys("ed25519:sbagliata")
        .await
        .unwrap();
    client
        .find(Locator::Css("main form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .wait()
        .for_element(Locator::Id("key-errore"))
        .await
        .unwrap();
    for width in WIDTHS {
        client.set_window_size(width, 900).await.unwrap();
        check_page(
            client,
            &axe_source,
            "/operatore (errore)",
            width,
            &english_labels,
            &mut findings,
        )
        .await;
    }
    browser.close().await;

    let report: Vec<String> = findings
        .0
        .iter()
        .map(|(page, problems)| format!("{page}:\n  {}", problems.join("\n  ")))
        .collect();
    assert!(
        report.is_empty(),
        "{} of {} page views and links have problems:\n{}",
        report.len(),
        (seen.len() + 3) * WIDTHS.len() + links_to_check.len(),
        report.join("\n")
    );
}

#[tokio::test]
async fn a_practice_page_shows_its_text_and_attachments() {
    let app = seeded_hub().await;
    let (status, html) = app.get_text("/buone-pratiche/026/sua-convenzione").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("<h1>Convenzione SUA con i Comuni</h1>"),
        "{html}"
    );
    assert!(html.contains("<strong>convenzione</strong>"));
    let file = Hash32::digest_of(&[b"%PDF-1.7 Convenzione SUA con i Comuni"]).to_hex();
    assert!(
        html.contains(&format!("href=\"/v1/attachments/{file}\"")),
        "{html}"
    );
    let (status, body) = app.get_text(&format!("/v1/attachments/{file}")).await;
    assert_eq!(
        (status, body.as_str()),
        (200, "%PDF-1.7 Convenzione SUA con i Comuni")
    );
    let (status, html) = app.get_text("/buone-pratiche/026/non-esiste").await;
    assert_eq!(status, 404);
    assert!(html.contains("Questa buona pratica non è nella biblioteca"));
    let (_, library) = app.get_text("/buone-pratiche").await;
    assert!(library.contains("href=\"/buone-pratiche/041/helpdesk-unico\""));
}
