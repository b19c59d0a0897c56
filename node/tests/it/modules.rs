//! The module registry: a module listed in it appears everywhere the shell shows modules
//! (API routes, OpenAPI paths, navigation, dashboard, home page) with nothing else to wire;
//! the home page shows only the modules that exist, each card a link.

use axum::Router;
use axum::routing::get;
use pico_node::auth::{Module, Role};
use pico_node::modules::{self, Audience, HomeCard, Link, ModuleKit, NavEntry, Registry};
use pico_service::Server;
use reqwest::StatusCode;

use crate::helpers::{add_user, init_dir};

/// Answers the test module's one API route.
#[utoipa::path(get, path = "/v1/prova/ping", tag = "prova",
    responses((status = 200, description = "Always", body = String)))]
async fn ping() -> &'static str {
    "pong"
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(ping))]
struct ProvaApi;

/// The test module's dashboard card: only for the administrator.
fn prova_cards<'a>(
    _state: &'a pico_node::AppState,
    identity: &'a pico_node::auth::Identity,
) -> modules::CardsFuture<'a> {
    let admin = identity
        .user
        .as_ref()
        .is_some_and(|user| user.roles.is_admin());
    Box::pin(async move {
        Ok(admin.then(|| maud::html! { p id="prova-card" { "Prova: 3 pratiche da esaminare" } }))
    })
}

/// A module that exists only in this test: its folder would be this file.
const PROVA: ModuleKit = ModuleKit {
    api: || Router::new().route("/v1/prova/ping", get(ping)),
    pages: || Router::new().route("/prova", get(|| async { "Pagina di prova" })),
    openapi: <ProvaApi as utoipa::OpenApi>::openapi,
    nav: Some(NavEntry {
        label: "Prova del registro",
        path: "/prova",
        covers_subpaths: false,
        audience: Audience::SignedIn(|role| *role == Role::Admin),
    }),
    dashboard: |role| match role {
        Role::Admin => vec![Link::new("Prova: tutte le pratiche", "/prova")],
        _ => vec![],
    },
    cards: Some(prova_cards),
    home: Some(HomeCard {
        title: "Servizio di prova",
        text: "Un modulo registrato soltanto dal test.",
        href: "/prova",
    }),
    ..ModuleKit::new("prova")
};

/// A node serving `registry` on port 0; the returned sender stops it.
async fn serve(
    config: &pico_node::NodeConfig,
    registry: Registry,
) -> (String, tokio::sync::oneshot::Sender<()>) {
    let mut state = pico_node::open_state(config.clone()).unwrap();
    state.modules = registry;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = Server::from_listener(listener).unwrap();
    tokio::spawn(server.run(pico_node::app(state), async move {
        let _ = stopped.await;
    }));
    (base, stop)
}

async fn text(client: &reqwest::Client, url: String, token: &str) -> (StatusCode, String) {
    let response = client.get(url).bearer_auth(token).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

#[tokio::test]
async fn a_module_in_the_registry_appears_in_api_openapi_navigation_dashboard_and_home() {
    let (_dir, config) = init_dir("026");
    let admin = add_user(&config, "registro", &Role::Admin);
    let comune = add_user(
        &config,
        "treviso",
        &Role::Comune(pico_protocol::ComuneCode::parse("026086").unwrap()),
    );
    let with_prova: Registry = Box::leak(
        modules::ALL
            .iter()
            .copied()
            .chain([PROVA])
            .collect::<Vec<_>>()
            .into_boxed_slice(),
    );
    let client = reqwest::Client::new();
    for (registry, listed) in [(modules::ALL, false), (with_prova, true)] {
        let (base, stop) = serve(&config, registry).await;

        let (status, body) = text(&client, format!("{base}/v1/prova/ping"), &admin).await;
        assert_eq!(
            status == StatusCode::OK && body == "pong",
            listed,
            "{status} {body}"
        );

        let (_, openapi) = text(&client, format!("{base}/v1/openapi.json"), &admin).await;
        let openapi: serde_json::Value = serde_json::from_str(&openapi).unwrap();
        assert_eq!(openapi["paths"].get("/v1/prova/ping").is_some(), listed);
        // The built-in modules' paths are there either way.
        assert!(openapi["paths"].get("/v1/sua/procedures").is_some());

        let (_, dashboard) = text(&client, format!("{base}/dashboard"), &admin).await;
        assert_eq!(
            dashboard.contains(r#"href="/prova">Prova: tutte le pratiche</a>"#),
            listed
        );
        assert_eq!(
            dashboard.contains("Prova del registro"),
            listed,
            "navigation"
        );
        assert_eq!(
            dashboard.contains(r#"<p id="prova-card">Prova: 3 pratiche da esaminare</p>"#),
            listed,
            "dashboard card"
        );
        // The module's policy keeps its link from a Comune.
        let (_, theirs) = text(&client, format!("{base}/dashboard"), &comune).await;
        assert!(!theirs.contains("Prova del registro"));
        assert!(
            !theirs.contains("prova-card"),
            "the card is the module's to give"
        );
        assert!(theirs.contains("Le procedure della SUA per il Comune"));

        let (_, home) = text(&client, format!("{base}/"), &admin).await;
        assert_eq!(
            home.contains(r#"<a href="/prova">Servizio di prova</a>"#),
            listed
        );
        let _ = stop.send(());
    }
}

#[tokio::test]
async fn the_home_page_shows_the_modules_that_exist_each_card_a_link() {
    let (_dir, config) = init_dir("026");
    let (base, stop) = serve(&config, modules::ALL).await;
    let home = reqwest::get(format!("{base}/"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for (title, href) in [
        ("Help Desk", "/helpdesk"),
        ("Stazione Unica Appaltante", "/sua"),
        ("Buone pratiche", "/buone-pratiche"),
        ("Politiche europee (SAPE)", "/sape"),
    ] {
        assert!(
            home.contains(&format!(
                r#"<h3 class="card-title h5"><a href="{href}">{title}</a></h3>"#
            )),
            "{title} card missing:\n{home}"
        );
    }
    // Services the node does not run yet have no card.
    assert!(!home.contains("Corsi e iscrizioni"));
    assert_eq!(
        home.matches(r#"<h3 class="card-title h5"><a href="#)
            .count(),
        home.matches(r#"<h3 class="card-title h5">"#).count()
    );
    let _ = stop.send(());
}

#[test]
fn operators_are_named_by_their_module() {
    assert_eq!(
        modules::operator_title(modules::ALL, Module::Sua),
        "Operatore della Stazione Unica Appaltante"
    );
    assert_eq!(
        modules::operator_title(modules::ALL, Module::Sape),
        "Operatore SAPE (politiche europee)"
    );
    assert_eq!(
        modules::operator_title(modules::ALL, Module::Sit),
        "Operatore SIT"
    );
    // A module without a kit is named by its code.
    assert_eq!(
        modules::operator_title(modules::ALL, Module::Personale),
        "Operatore del modulo personale"
    );
}

/// The Help Desk's `Status` and the publishing log's status were both schema `Status`: the
/// document described request statuses with the log's object.
#[test]
fn schemas_of_the_same_rust_name_stay_apart_in_the_openapi_document() {
    use utoipa::OpenApi as _;
    let doc = serde_json::to_value(pico_node::api::ApiDoc::openapi()).unwrap();
    let schemas = &doc["components"]["schemas"];
    let statuses: Vec<&str> = schemas["Status"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|value| value.as_str())
        .collect();
    assert_eq!(
        statuses,
        [
            "new",
            "in_progress",
            "waiting_for_comune",
            "resolved",
            "closed"
        ]
    );
    assert!(schemas["PublishingStatus"]["properties"]["head_seq"].is_object());
}
