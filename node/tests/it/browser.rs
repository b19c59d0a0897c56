//! Browser test in headless Chromium through chromedriver (WebDriver): a Comune user opens a
//! Help Desk request, an operator answers, the Comune user sees the answer. Chromium and
//! chromedriver missing fail the test; `cargo xtask test` installs them.

use fantoccini::Locator;
use pico_node::auth::{Module, Role};
use pico_protocol::ComuneCode;

use crate::helpers::{Browser, TestApp, add_user, type_into};

#[tokio::test]
async fn comune_user_and_operator_converse_in_the_browser() {
    let browser = Browser::start().await;
    let client = browser.client.clone();
    let app = TestApp::spawn("026").await;
    add_user(
        &app.config,
        "comune.treviso",
        &Role::Comune(ComuneCode::parse("026086").unwrap()),
    );
    add_user(&app.config, "operatore", &Role::Operator(Module::Helpdesk));
    let base = app.url("");

    // The Comune user opens a request.
    browser.login(&base, "comune.treviso").await;
    client.goto(&format!("{base}/helpdesk/new")).await.unwrap();
    type_into(&client, "subject", "Posta certificata non funziona").await;
    type_into(
        &client,
        "description",
        "Da ieri la PEC non riceve messaggi.",
    )
    .await;
    click(&client, "form[action='/helpdesk/new'] button[type=submit]").await;
    client
        .wait()
        .for_element(Locator::Id("comments"))
        .await
        .unwrap();
    let request_url = client.current_url().await.unwrap().to_string();
    browser.logout().await;

    // The operator answers.
    browser.login(&base, "operatore").await;
    client.goto(&request_url).await.unwrap();
    type_into(&client, "body", "Abbiamo riavviato il servizio: riprovate.").await;
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
    browser.logout().await;

    // The Comune user sees the answer.
    browser.login(&base, "comune.treviso").await;
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

async fn click(client: &fantoccini::Client, css: &str) {
    client
        .find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Waits until the browser is on a page whose path satisfies `done`.
async fn wait_path(client: &fantoccini::Client, done: impl Fn(&str) -> bool) -> String {
    for _ in 0..400 {
        let path = client.current_url().await.unwrap().path().to_owned();
        if done(&path) {
            return path;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!(
        "the browser stayed on {}",
        client.current_url().await.unwrap()
    );
}

#[tokio::test]
async fn a_community_operator_writes_and_publishes_a_practice_with_the_forms() {
    let browser = Browser::start().await;
    let client = browser.client.clone();
    let mut hub = crate::federation::Hub::init();
    hub.start().await;
    let (dir, mut config) = crate::helpers::init_dir("026");
    config.federation.hub_url = hub.url();
    config.federation.poll_interval_ms = 100;
    config.federation.retry_base_ms = 50;
    config.federation.retry_max_secs = 1;
    hub.enrol(&config, "026");
    add_user(&config, "comunicazione", &Role::Operator(Module::Community));
    let app = TestApp::start(dir, config).await;
    let base = app.url("");
    let files = tempfile::tempdir().unwrap();
    let pdf_path = files.path().join("linee-guida.pdf");
    let pdf = b"%PDF-1.7\nlinee guida della centrale di committenza\n%%EOF\n".to_vec();
    std::fs::write(&pdf_path, &pdf).unwrap();

    // The dashboard leads to the form.
    browser.login(&base, "comunicazione").await;
    client.goto(&format!("{base}/dashboard")).await.unwrap();
    click(&client, "a[href='/buone-pratiche/nuova']").await;
    client
        .wait()
        .for_element(Locator::Id("practice-form"))
        .await
        .unwrap();

    // A Comune of another Province: the form comes back with a message and the input kept.
    type_into(&client, "title", "Centrale di committenza condivisa").await;
    type_into(&client, "summary", "Dieci Comuni, una centrale.").await;
    client
        .find(Locator::Id("module"))
        .await
        .unwrap()
        .select_by_value("sua")
        .await
        .unwrap();
    type_into(&client, "comuni", "017029").await;
    type_into(&client, "tags", "appalti, aggregazione").await;
    type_into(&client, "body", "Come abbiamo organizzato la centrale.").await;
    click(&client, "#save-practice").await;
    let error = client
        .wait()
        .for_element(Locator::Id("form-error"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(error.contains("Comuni coinvolti"), "{error}");
    assert!(error.contains("017029"), "{error}");
    let kept = client
        .find(Locator::Id("title"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(kept.as_deref(), Some("Centrale di committenza condivisa"));
    let module = client
        .find(Locator::Id("module"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(module.as_deref(), Some("sua"));

    // Fixed, with the attachment, as a draft.
    type_into(&client, "comuni", "026086").await;
    client
        .find(Locator::Id("attachment"))
        .await
        .unwrap()
        .send_keys(&pdf_path.display().to_string())
        .await
        .unwrap();
    click(&client, "#save-practice").await;
    let path = wait_path(&client, |p| {
        p.starts_with("/buone-pratiche/") && !p.ends_with("/nuova")
    })
    .await;
    let id: i64 = path.rsplit('/').next().unwrap().parse().unwrap();
    let text = client
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await;
    let text = text.unwrap();
    assert!(text.contains("Centrale di committenza condivisa"), "{text}");
    assert!(text.contains("Bozza"), "{text}");
    assert!(text.contains("linee-guida.pdf"), "{text}");
    let anonymous = reqwest::get(app.url(&format!("/buone-pratiche/{id}")))
        .await
        .unwrap();
    assert_eq!(
        anonymous.status(),
        reqwest::StatusCode::NOT_FOUND,
        "a draft is not public"
    );

    // Published: public and national.
    click(&client, "#edit-practice").await;
    client
        .wait()
        .for_element(Locator::Id("practice-form"))
        .await
        .unwrap();
    click(&client, "label[for='visibility-public']").await;
    click(&client, "label[for='federation-national']").await;
    click(&client, "#save-practice").await;
    wait_path(&client, |p| p == format!("/buone-pratiche/{id}")).await;
    client
        .wait()
        .for_element(Locator::Css(".badge.bg-primary"))
        .await
        .unwrap();
    browser.logout().await;

    // Anyone sees it on the public page, with its attachment.
    client
        .goto(&format!("{base}/buone-pratiche/{id}"))
        .await
        .unwrap();
    let text = client
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("Centrale di committenza condivisa"), "{text}");
    assert!(!text.contains("Bozza"), "{text}");
    let href = client
        .find(Locator::Css(".practice-attachment a"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap()
        .unwrap();
    let bytes = reqwest::get(app.url(&href))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(bytes.to_vec(), pdf);

    // ... and so does the national library, with the file's bytes.
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&pdf));
    let mut served = Vec::new();
    for _ in 0..200 {
        let response = reqwest::get(format!("{}/v1/attachments/{sha}", hub.url()))
            .await
            .unwrap();
        if response.status() == reqwest::StatusCode::OK {
            served = response.bytes().await.unwrap().to_vec();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(served, pdf);
    let library = hub.get("/v1/practices?province=026").await;
    assert_eq!(
        library["items"][0]["title"], "Centrale di committenza condivisa",
        "{library:#}"
    );
    client.close().await.unwrap();
    app.stop().await;
    hub.stop().await;
}
