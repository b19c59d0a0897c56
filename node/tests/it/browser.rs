//! Browser test in headless Chromium through chromedriver (WebDriver): a Comune user opens a
//! Help Desk request, an operator answers, the Comune user sees the answer. Skipped (with a
//! message) when chromium/chromedriver are not installed; `cargo xtask test` installs them.

use std::process::Stdio;

use fantoccini::{ClientBuilder, Locator};
use pico_node::auth::{Module, Role};
use pico_protocol::ComuneCode;

use crate::helpers::{TestApp, add_user, password_of};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

struct Driver(tokio::process::Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.start_kill();
    }
}

async fn login(client: &fantoccini::Client, base: &str, username: &str) {
    client.goto(&format!("{base}/login")).await.unwrap();
    client
        .find(Locator::Id("username"))
        .await
        .unwrap()
        .send_keys(username)
        .await
        .unwrap();
    client
        .find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(&password_of(username))
        .await
        .unwrap();
    client
        .find(Locator::Css("form[action='/login'] button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The login page has an h1 too: wait for the navigation away from it first.
    for _ in 0..200 {
        if client.current_url().await.unwrap().path() != "/login" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    client.wait().for_element(Locator::Css("h1")).await.unwrap();
}

async fn logout(client: &fantoccini::Client) {
    client
        .find(Locator::Css("form[action='/logout'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .wait()
        .for_element(Locator::Css("a[href='/login']"))
        .await
        .unwrap();
}

#[tokio::test]
async fn comune_user_and_operator_converse_in_the_browser() {
    if !std::path::Path::new(CHROMEDRIVER).exists() || !std::path::Path::new(CHROMIUM).exists() {
        eprintln!("skipping: {CHROMEDRIVER} or {CHROMIUM} not installed");
        return;
    }
    let app = TestApp::spawn("026").await;
    add_user(
        &app.config,
        "comune.treviso",
        &Role::Comune(ComuneCode::parse("026086").unwrap()),
    );
    add_user(&app.config, "operatore", &Role::Operator(Module::Helpdesk));

    // A free port for chromedriver: bind, read, release (chromedriver cannot take a socket).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = tokio::process::Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let _driver = Driver(child);
    let profile = tempfile::tempdir().unwrap();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": CHROMIUM,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1280,2400",
                     format!("--user-data-dir={}", profile.path().display())]
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    // chromedriver needs a moment to listen: retry the session, bounded, instead of sleeping.
    let mut client = None;
    for _ in 0..100 {
        match ClientBuilder::new(connector.clone())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => {
                client = Some(c);
                break;
            }
            Err(_) => tokio::task::yield_now().await,
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let client = client.expect("chromedriver did not start");
    let base = app.url("");

    // The Comune user opens a request.
    login(&client, &base, "comune.treviso").await;
    client.goto(&format!("{base}/helpdesk/new")).await.unwrap();
    client
        .find(Locator::Id("subject"))
        .await
        .unwrap()
        .send_keys("Posta certificata non funziona")
        .await
        .unwrap();
    client
        .find(Locator::Id("description"))
        .await
        .unwrap()
        .send_keys("Da ieri la PEC non riceve messaggi.")
        .await
        .unwrap();
    client
        .find(Locator::Css(
            "form[action='/helpdesk/new'] button[type=submit]",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .wait()
        .for_element(Locator::Id("comments"))
        .await
        .unwrap();
    let request_url = client.current_url().await.unwrap().to_string();
    logout(&client).await;

    // The operator answers.
    login(&client, &base, "operatore").await;
    client.goto(&request_url).await.unwrap();
    client
        .find(Locator::Id("body"))
        .await
        .unwrap()
        .send_keys("Abbiamo riavviato il servizio: riprovate.")
        .await
        .unwrap();
    client
        .find(Locator::Id("send-comment"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .wait()
        .for_element(Locator::Css(".comment-body"))
        .await
        .unwrap();
    logout(&client).await;

    // The Comune user sees the answer.
    login(&client, &base, "comune.treviso").await;
    client.goto(&request_url).await.unwrap();
    let text = client
        .find(Locator::Id("comments"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("Abbiamo riavviato il servizio"), "{text}");
    assert!(text.contains("(Provincia)"), "{text}");
    client.close().await.unwrap();
    app.stop().await;
}
