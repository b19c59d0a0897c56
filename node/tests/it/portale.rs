//! The Portale as an anonymous visitor sees it, from seeded data: the home with the services
//! of the registry, the SIT catalogue (a withdrawn service left out), the published best
//! practice and the datasets; a Comune's page listing only its active subscriptions and its
//! digital picture; a service page working out the fee of a chosen Comune from the real ISTAT
//! file; titles, descriptions and canonical links; cache headers only for anonymous pages;
//! the sitemap, parsed by Python's XML parser, listing every service and Comune page with
//! absolute URLs from the configured public URL, and the robots file pointing to it.

use std::collections::BTreeSet;

use pico_node::auth::{Module, Role};
use pico_protocol::ComuneCode;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, add_user, init_dir, run_python};

const TREVISO: &str = "026086";
const ALTIVOLE: &str = "026001";
const PUBLIC_URL: &str = "https://servizi.provincia.treviso.it";

fn service(code: &str, name: &str, cost_model: &str, fee: &str) -> Value {
    json!({
        "code": code, "name": name,
        "description": format!("{name}: il servizio che la Provincia offre ai Comuni."),
        "category": "payments", "theme": 9, "channels": ["online", "email"],
        "audience": "all", "cost_model": cost_model, "fee": fee,
        "first_answer_hours": 4, "resolution_hours": 24, "availability": "99.5",
        "contact_office": "Servizi innovativi", "contact_email": "sit@provincia.treviso.it"
    })
}

struct Seeded {
    app: TestApp,
    sit_token: String,
    comune_token: String,
}

async fn ok(response: reqwest::Response, status: StatusCode) -> Value {
    let got = response.status();
    let body = response.text().await.unwrap();
    assert_eq!(got, status, "{body}");
    serde_json::from_str(&body).unwrap_or(Value::Null)
}

/// Treviso: pagoPA active, cybersecurity requested (not accepted), cloud active then ended;
/// Altivole: pagoPA requested only; a withdrawn service; Treviso's picture; a public
/// practice and a draft.
async fn seeded() -> Seeded {
    let (dir, mut config) = init_dir("026");
    config.public_url = format!("{PUBLIC_URL}/");
    let sit = add_user(&config, "operatore.sit", &Role::Operator(Module::Sit));
    let community = add_user(&config, "comunicazione", &Role::Operator(Module::Community));
    let comune = |code: &str| Role::Comune(ComuneCode::parse(code).unwrap());
    let tv = add_user(&config, "comune.treviso", &comune(TREVISO));
    let alt = add_user(&config, "comune.altivole", &comune(ALTIVOLE));
    let app = TestApp::start(dir, config).await;
    for (code, name, model, fee) in [
        (
            "adesione-pagopa",
            "Adesione a pagoPA e App IO",
            "per_inhabitant",
            "0.15",
        ),
        (
            "sicurezza-informatica",
            "Presidio di sicurezza informatica",
            "fixed",
            "900",
        ),
        (
            "migrazione-cloud",
            "Migrazione al cloud qualificato",
            "free",
            "0",
        ),
        ("vecchio-gis", "Vecchio sistema cartografico", "free", "0"),
    ] {
        ok(
            app.post_json(
                "/v1/sit/services",
                Some(&sit),
                &service(code, name, model, fee),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
    }
    ok(
        app.post_json(
            "/v1/sit/services/vecchio-gis/withdrawal",
            Some(&sit),
            &json!({"reason": "Sostituito dal nuovo GIS regionale."}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let subscribe = |token: String, service: &'static str| {
        let app = &app;
        async move {
            ok(
                app.post_json(
                    "/v1/sit/subscriptions",
                    Some(&token),
                    &json!({"service": service, "note": "Richiesta del Comune"}),
                )
                .await,
                StatusCode::CREATED,
            )
            .await["id"]
                .as_i64()
                .unwrap()
        }
    };
    let pagopa = subscribe(tv.clone(), "adesione-pagopa").await;
    let _cyber = subscribe(tv.clone(), "sicurezza-informatica").await;
    let cloud = subscribe(tv.clone(), "migrazione-cloud").await;
    let _altivole = subscribe(alt.clone(), "adesione-pagopa").await;
    let activate =
        json!({"state": "active", "agreement_ref": "Prot. 12/2026", "start_date": "2026-02-01"});
    for id in [pagopa, cloud] {
        ok(
            app.post_json(
                &format!("/v1/sit/subscriptions/{id}/transitions"),
                Some(&sit),
                &activate,
            )
            .await,
            StatusCode::OK,
        )
        .await;
    }
    ok(
        app.post_json(
            &format!("/v1/sit/subscriptions/{cloud}/transitions"),
            Some(&sit),
            &json!({"state": "ended", "reason": "Migrazione conclusa."}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let client = reqwest::Client::new();
    let picture = client
        .put(app.url(&format!("/v1/sit/comuni/{TREVISO}/picture")))
        .bearer_auth(&sit)
        .json(
            &json!({"platforms": [{"platform": "spid", "since": "2021-03-01"},
                                     {"platform": "pagopa", "since": "2020-06-30"}],
                      "measures": [{"measure": "1.4.4", "status": "obtained", "amount": "14000"}]}),
        )
        .send()
        .await
        .unwrap();
    ok(picture, StatusCode::OK).await;
    for (title, public) in [
        ("Centrale di committenza condivisa", true),
        ("Bozza riservata", false),
    ] {
        ok(
            app.post_json(
                "/v1/practices",
                Some(&community),
                &json!({"title": title, "summary": "Come dieci Comuni hanno condiviso una centrale.",
                        "module": "sua", "comuni": [TREVISO], "tags": ["appalti"],
                        "body": "Testo.", "public": public}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
    }
    Seeded {
        app,
        sit_token: sit,
        comune_token: tv,
    }
}

async fn page(app: &TestApp, path: &str) -> (reqwest::header::HeaderMap, String) {
    let response = app.get(path, None).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    let headers = response.headers().clone();
    (headers, response.text().await.unwrap())
}

fn head_is(html: &str, title: &str, canonical: &str) {
    assert!(
        html.contains(&format!("<title>{title} · Provincia di Treviso</title>")),
        "title {title}:\n{html}"
    );
    assert!(
        html.contains(&format!(
            r#"<link rel="canonical" href="{PUBLIC_URL}{canonical}">"#
        )),
        "canonical {canonical}"
    );
    assert_eq!(
        html.matches(r#"<meta name="description" content=""#)
            .count(),
        1
    );
    assert_eq!(html.matches("<h1").count(), 1, "one h1");
}

#[tokio::test]
async fn the_portale_shows_an_anonymous_visitor_what_the_node_offers_and_publishes() {
    let Seeded {
        app, comune_token, ..
    } = seeded().await;

    let (headers, home) = page(&app, "/").await;
    head_is(&home, "Portale dei servizi ai Comuni", "/");
    assert_eq!(headers["cache-control"], "public, max-age=300");
    assert_eq!(headers["vary"], "Cookie");
    for (href, name) in [
        ("/sit/servizi/adesione-pagopa", "Adesione a pagoPA e App IO"),
        (
            "/sit/servizi/sicurezza-informatica",
            "Presidio di sicurezza informatica",
        ),
        (
            "/sit/servizi/migrazione-cloud",
            "Migrazione al cloud qualificato",
        ),
    ] {
        assert!(
            home.contains(&format!(r#"<a href="{href}">{name}</a>"#)),
            "{name}"
        );
    }
    assert!(
        !home.contains("Vecchio sistema cartografico"),
        "withdrawn service listed"
    );
    assert!(
        home.contains("0,15\u{a0}€ per abitante all&#39;anno")
            || home.contains("0,15\u{a0}€ per abitante all'anno"),
        "{home}"
    );
    // The registry's service cards are there, each a link.
    assert!(home.contains(
        r#"<h3 class="card-title h5"><a href="/sua">Stazione Unica Appaltante</a></h3>"#
    ));
    assert!(home.contains(">Centrale di committenza condivisa</a>"));
    assert!(!home.contains("Bozza riservata"), "a draft is not public");
    // The SIT's derived dataset is in the node's catalogue from its first change.
    assert!(
        home.contains(r#"href="/v1/datasets/sit_servizi/rows""#),
        "datasets"
    );
    assert!(home.contains(&format!(r#"<a href="/comuni/{TREVISO}">Treviso</a>"#)));
    // A signed-in person's page is not cached.
    let signed_in = app.get("/", Some(&comune_token)).await;
    assert_eq!(signed_in.headers()["cache-control"], "no-store");
    assert!(
        signed_in
            .text()
            .await
            .unwrap()
            .contains(r#"href="/dashboard""#)
    );

    // Treviso: only its active subscription, and its digital picture.
    let (_, treviso) = page(&app, &format!("/comuni/{TREVISO}")).await;
    head_is(&treviso, "Comune di Treviso", &format!("/comuni/{TREVISO}"));
    let services = treviso
        .split(r#"id="comune-services""#)
        .nth(1)
        .and_then(|rest| rest.split("</table>").next())
        .expect("Treviso's services table");
    assert!(
        services
            .contains(r#"<a href="/sit/servizi/adesione-pagopa">Adesione a pagoPA e App IO</a>"#)
    );
    assert!(services.contains("01/02/2026"));
    assert!(
        !services.contains("sicurezza-informatica"),
        "a request is not a service in use"
    );
    assert!(
        !services.contains("migrazione-cloud"),
        "an ended subscription is not in use"
    );
    assert_eq!(
        services.matches("<tr>").count(),
        2,
        "header and one service"
    );
    // 86,113 residents on 1 January 2026 (the ISTAT file).
    assert!(treviso.contains("86.113 abitanti al 1° gennaio 2026"));
    assert!(treviso.contains("Sì, dal 01/03/2021"), "SPID");
    assert!(treviso.contains("Sì, dal 30/06/2020"), "pagoPA");
    assert_eq!(treviso.matches("Non registrata").count(), 5);
    assert!(treviso.contains("1.4.4 Adozione di SPID e CIE: Finanziata"));
    // Altivole asked but was not accepted: nothing in use.
    let (_, altivole) = page(&app, &format!("/comuni/{ALTIVOLE}")).await;
    assert!(altivole.contains(r#"id="comune-no-services""#));
    assert!(!altivole.contains("adesione-pagopa\">"));
    for missing in ["/comuni/999999", "/comuni/abc", "/comuni/017029"] {
        assert_eq!(
            app.get(missing, None).await.status(),
            StatusCode::NOT_FOUND,
            "{missing}"
        );
    }

    // A service page: facts, RDF links and the fee of a chosen Comune (Altivole: 7,088
    // residents × 0,15 € = 1.063,20 €).
    let (headers, pagopa) = page(
        &app,
        &format!("/sit/servizi/adesione-pagopa?comune={ALTIVOLE}"),
    )
    .await;
    assert_eq!(headers["cache-control"], "public, max-age=300");
    head_is(
        &pagopa,
        "Adesione a pagoPA e App IO",
        "/sit/servizi/adesione-pagopa",
    );
    assert!(pagopa.contains(r#"href="/sit/servizi/adesione-pagopa/rdf.ttl""#));
    assert!(
        pagopa.contains("Quota annua per il Comune di Altivole: <strong>1.063,20\u{a0}€</strong>"),
        "{pagopa}"
    );
    assert!(pagopa.contains("7.088 abitanti al 1° gennaio 2026"));
    let (_, unknown) = page(&app, "/sit/servizi/adesione-pagopa?comune=017029").await;
    assert!(unknown.contains(r#"id="comune-error""#));
    assert!(!unknown.contains("Quota annua per"));

    // The sitemap: every public page, absolute URLs, parsed by an independent XML parser.
    let sitemap = app.get("/sitemap.xml", None).await;
    assert_eq!(sitemap.status(), StatusCode::OK);
    assert!(
        sitemap.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/xml")
    );
    let xml = sitemap.text().await.unwrap();
    let parsed = run_python(
        r#"
import sys, xml.etree.ElementTree as ET
ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
root = ET.fromstring(sys.argv[1].encode("utf-8"))
assert root.tag == "{http://www.sitemaps.org/schemas/sitemap/0.9}urlset", root.tag
for url in root.findall("s:url", ns):
    print(url.find("s:loc", ns).text)
"#,
        &[&xml],
    );
    let locs: BTreeSet<&str> = parsed.lines().collect();
    assert_eq!(locs.len(), parsed.lines().count(), "each URL once");
    assert!(
        locs.iter()
            .all(|loc| loc.starts_with(&format!("{PUBLIC_URL}/")))
    );
    let comuni: Value = app
        .get("/v1/comuni?limit=500", None)
        .await
        .json()
        .await
        .unwrap();
    let codes: Vec<&str> = comuni["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert!(codes.len() > 90, "the Comuni of Treviso: {}", codes.len());
    let mut expected: Vec<String> = codes
        .iter()
        .map(|code| format!("{PUBLIC_URL}/comuni/{code}"))
        .collect();
    for path in ["/", "/comuni", "/sit", "/buone-pratiche"] {
        expected.push(format!("{PUBLIC_URL}{path}"));
    }
    for code in [
        "adesione-pagopa",
        "sicurezza-informatica",
        "migrazione-cloud",
        "vecchio-gis",
    ] {
        expected.push(format!("{PUBLIC_URL}/sit/servizi/{code}"));
    }
    for url in &expected {
        assert!(locs.contains(url.as_str()), "{url} not in the sitemap");
    }
    // Plus the one public practice: nothing else, and no draft.
    assert_eq!(locs.len(), expected.len() + 1, "{locs:#?}");
    assert!(
        locs.iter()
            .any(|loc| loc.starts_with(&format!("{PUBLIC_URL}/buone-pratiche/")))
    );
    // Every URL of the sitemap is a page an anonymous visitor can open.
    for loc in &locs {
        let path = loc.strip_prefix(PUBLIC_URL).unwrap();
        assert_eq!(app.get(path, None).await.status(), StatusCode::OK, "{path}");
    }

    let robots = app.get("/robots.txt", None).await.text().await.unwrap();
    assert!(
        robots.contains(&format!("Sitemap: {PUBLIC_URL}/sitemap.xml\n")),
        "{robots}"
    );
    assert!(robots.contains("Disallow: /v1/"));
    app.stop().await;
}

/// The node renders an anonymous page once and serves it from memory for a few seconds
/// (`pico_service::page_cache`): a change written behind the node's back (here straight into
/// its database, as a command-line import would) is not seen at once by anonymous visitors,
/// while a request with a cookie is rendered anew; a change made through the node (a new
/// service by the API) empties the cache, so everyone sees it at once.
#[tokio::test]
async fn anonymous_pages_come_from_memory_until_a_change_is_made_through_the_node() {
    let Seeded { app, sit_token, .. } = seeded().await;
    let (_, before) = page(&app, "/").await;
    assert!(before.contains("Migrazione al cloud qualificato"));

    let conn = rusqlite::Connection::open(app.config.db_path()).unwrap();
    let renamed = conn
        .execute(
            "UPDATE sit_services SET name = 'Cloud qualificato per i Comuni' WHERE code = 'migrazione-cloud'",
            [],
        )
        .unwrap();
    assert_eq!(renamed, 1);
    let (_, cached) = page(&app, "/").await;
    assert_eq!(cached, before, "served from memory");
    let rendered = reqwest::Client::new()
        .get(app.url("/"))
        .header("cookie", "pico_session=sconosciuta")
        .send()
        .await
        .unwrap();
    assert_eq!(rendered.status(), StatusCode::OK);
    assert_eq!(rendered.headers()["cache-control"], "no-store");
    assert!(
        rendered
            .text()
            .await
            .unwrap()
            .contains("Cloud qualificato per i Comuni")
    );

    ok(
        app.post_json(
            "/v1/sit/services",
            Some(&sit_token),
            &service(
                "sportello-digitale",
                "Sportello digitale unico",
                "free",
                "0",
            ),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let (_, after) = page(&app, "/").await;
    assert!(after.contains("Sportello digitale unico"), "new service");
    assert!(after.contains("Cloud qualificato per i Comuni"), "renamed");
}
