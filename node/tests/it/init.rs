//! `init`: the Province and exactly its ISTAT Comuni, the key file, refusals.

use pico_node::db;
use pico_service::Db;

use crate::helpers::{TestApp, config_for, init_dir};

fn comuni_in(config: &pico_node::NodeConfig) -> i64 {
    let db = Db::open_existing(&config.db_path(), db::MIGRATIONS, 1).unwrap();
    db::comuni::count(&db.get().unwrap()).unwrap()
}

#[test]
fn init_seeds_exactly_the_istat_comuni() {
    for (province, expected) in [("026", 94), ("017", 205), ("041", 50)] {
        let (_dir, config) = init_dir(province);
        assert_eq!(comuni_in(&config), expected, "province {province}");
    }
}

#[test]
fn metropolitan_city_uses_the_historical_code() {
    let (_dir, config) = init_dir("001");
    assert_eq!(comuni_in(&config), 312);
    let db = Db::open_existing(&config.db_path(), db::MIGRATIONS, 1).unwrap();
    let province = db::comuni::province(&db.get().unwrap()).unwrap().unwrap();
    assert_eq!(province.uts_code, "201");
    assert_eq!(province.name, "Città metropolitana di Torino");
}

#[cfg(unix)]
#[test]
fn key_file_is_private_and_loadable() {
    use std::os::unix::fs::PermissionsExt as _;
    let (_dir, config) = init_dir("026");
    let mode = std::fs::metadata(config.key_path())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    pico_protocol::SecretKey::load(&config.key_path()).unwrap();
}

#[test]
fn init_refuses_existing_dirs_and_unknown_provinces() {
    let (_dir, config) = init_dir("026");
    let err = pico_node::cli::init(&config, "026")
        .unwrap_err()
        .to_string();
    assert!(err.contains("non lo sovrascrivo"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let config = config_for(dir.path().join("x"));
    let err = pico_node::cli::init(&config, "201")
        .unwrap_err()
        .to_string();
    assert!(err.contains("codice_provincia_storico"), "{err}");
    assert!(pico_node::cli::init(&config, "26").is_err());
    assert!(!config.db_path().exists());
}

#[tokio::test]
async fn public_comuni_pages_cover_the_province() {
    let app = TestApp::spawn("041").await;
    let mut codes = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let path = match &next {
            Some(cursor) => format!("/v1/comuni?limit=20&cursor={cursor}"),
            None => "/v1/comuni?limit=20".to_owned(),
        };
        let response = app.get(&path, None).await;
        assert_eq!(response.status(), 200);
        assert!(response.headers().contains_key("ratelimit-remaining"));
        let page: serde_json::Value = response.json().await.unwrap();
        for item in page["items"].as_array().unwrap() {
            assert_eq!(item["code"].as_str().unwrap().len(), 6);
            assert!(item["cadastral_code"].is_string());
            codes.push(item["code"].as_str().unwrap().to_owned());
        }
        next = page["next"].as_str().map(str::to_owned);
        if next.is_none() {
            break;
        }
    }
    assert_eq!(codes.len(), 50);
    assert!(codes.windows(2).all(|w| w[0] < w[1]));
    for path in ["/healthz", "/readyz", "/status", "/metrics", "/", "/login"] {
        assert_eq!(app.get(path, None).await.status(), 200, "{path}");
    }
    let metrics = app.get("/metrics", None).await.text().await.unwrap();
    assert!(metrics.contains("http_requests_total"));
    assert!(metrics.contains("db_pool_connections"));
    app.stop().await;
}
