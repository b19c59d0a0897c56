//! Backup → restore loses nothing; a restart keeps everything; restore refuses a running node.

use pico_node::auth::Role;
use pico_protocol::ComuneCode;

use crate::helpers::{TestApp, add_user};

async fn list(app: &TestApp, token: &str) -> serde_json::Value {
    app.get("/v1/helpdesk/requests", Some(token))
        .await
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn backup_restore_and_restart_keep_everything() {
    let app = TestApp::spawn("017").await;
    let token = add_user(
        &app.config,
        "bs",
        &Role::Comune(ComuneCode::parse("017029").unwrap()),
    );
    let first = app.open_request(&token, "Prima").await;
    let before = list(&app, &token).await;

    // Online backup while serving.
    let backup = app.dir.path().join("backup.db");
    let db = pico_service::Db::open_existing(&app.config.db_path(), pico_node::db::MIGRATIONS, 1)
        .unwrap();
    db.backup_to(&backup).unwrap();
    drop(db);

    app.open_request(&token, "Dopo il backup").await;
    let cli = |args: &[&str]| {
        use clap::Parser as _;
        let mut argv = vec![
            "pico-node",
            "--data-dir",
            app.config.data_dir.to_str().unwrap(),
        ];
        argv.extend_from_slice(args);
        pico_node::cli::execute(pico_node::cli::Cli::parse_from(argv))
    };
    let refused = cli(&["restore", backup.to_str().unwrap()])
        .unwrap_err()
        .to_string();
    assert!(refused.contains("è bloccato"), "{refused}");

    let (dir, config) = app.stop().await;
    let app = TestApp::start(dir, config).await;
    assert_eq!(
        list(&app, &token).await["items"].as_array().unwrap().len(),
        2,
        "restart keeps everything"
    );
    let (dir, config) = app.stop().await;

    let cli = |args: &[&str]| {
        use clap::Parser as _;
        let mut argv = vec!["pico-node", "--data-dir", config.data_dir.to_str().unwrap()];
        argv.extend_from_slice(args);
        pico_node::cli::execute(pico_node::cli::Cli::parse_from(argv))
    };
    cli(&["restore", backup.to_str().unwrap()]).unwrap();
    let app = TestApp::start(dir, config).await;
    let after = list(&app, &token).await;
    assert_eq!(
        after, before,
        "restore brings back exactly the backed-up state"
    );
    assert_eq!(after["items"][0]["id"], first);
    let comuni: serde_json::Value = app
        .get("/v1/comuni?limit=200", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(comuni["items"].as_array().unwrap().len(), 200);
    app.stop().await;
}
