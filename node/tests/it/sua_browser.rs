//! The SUA workflow in headless Chromium through WebDriver: a Comune user submits a request
//! through the form (first with a mistake the form reports by its field), the SUA operator
//! runs it to award through the procedure page, and the Comune user sees the award
//! (supplier, amount, ribasso) on its page. Fails when chromium/chromedriver are missing.

use fantoccini::elements::Element;
use fantoccini::{Client, Locator};
use serde_json::json;

use crate::helpers::{Browser, choose, scroll_and_click, type_into};
use crate::sua_helpers::Sua;

async fn field(client: &Client, id: &str) -> Element {
    client.find(Locator::Id(id)).await.unwrap()
}

/// Submits the form `form_css` and waits for the page to show `state`.
async fn submit_and_wait(client: &Client, form_css: &str, state: &str) {
    let button = client
        .find(Locator::Css(&format!("{form_css} button[type=submit]")))
        .await
        .unwrap();
    scroll_and_click(client, button).await;
    client
        .wait()
        .for_element(Locator::Css(&format!("#state [data-state='{state}']")))
        .await
        .unwrap_or_else(|err| panic!("waiting for {state} after {form_css}: {err}"));
}

/// Moves the procedure shown to `to` with its action form.
async fn move_to(client: &Client, to: &str) {
    submit_and_wait(client, &format!("#move-{to}"), to).await;
}

#[tokio::test]
async fn a_comune_requests_the_sua_awards_and_the_comune_sees_the_award() {
    let browser = Browser::start().await;
    let sua = Sua::spawn().await;
    let client = &browser.client;
    let base = sua.app.url("");

    // The Comune user fills the request form; a wrong CPV check digit comes back by its
    // field with everything typed still there.
    browser.login(&base, "comune.treviso").await;
    client
        .goto(&format!("{base}/sua/richieste/nuova"))
        .await
        .unwrap();
    type_into(client, "object", "Manutenzione del verde pubblico 2026").await;
    type_into(
        client,
        "description",
        "Sfalcio e potature nei parchi comunali.",
    )
    .await;
    choose(client, "contract_type", "services").await;
    type_into(client, "cpv_main", "77310000-5").await;
    type_into(client, "estimated_amount", "150.000,00").await;
    choose(client, "procedure_code", "1").await;
    choose(client, "award_criterion", "lowest_price").await;
    type_into(client, "rup_name", "Maria Rossi").await;
    type_into(client, "rup_email", "maria.rossi@comune.treviso.it").await;
    scroll_and_click(client, field(client, "submit-request").await).await;
    let message = client
        .wait()
        .for_element(Locator::Id("cpv_main-error"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(message.contains("77310000-6"), "{message}");
    assert_eq!(
        field(client, "object")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("Manutenzione del verde pubblico 2026")
    );
    type_into(client, "cpv_main", "77310000-6").await;
    scroll_and_click(client, field(client, "submit-request").await).await;
    client
        .wait()
        .for_element(Locator::Css("#state [data-state='submitted']"))
        .await
        .unwrap();
    let request_url = client.current_url().await.unwrap().to_string();
    browser.logout().await;

    // The SUA operator runs it: accept, prepare, a lot with its CIG, publish, close the
    // bids, evaluate, award the lot, award the procedure.
    browser.login(&base, "operatore.sua").await;
    client.goto(&request_url).await.unwrap();
    move_to(client, "received").await;
    move_to(client, "in_preparation").await;
    type_into(client, "add-lot-cig", "90940496A3").await;
    type_into(client, "add-lot-description", "Lotto unico").await;
    type_into(client, "add-lot-amount", "150.000,00").await;
    let add = client
        .find(Locator::Css("#add-lot button[type=submit]"))
        .await
        .unwrap();
    scroll_and_click(client, add).await;
    client
        .wait()
        .for_element(Locator::Css("#lots #lot-1"))
        .await
        .unwrap();
    // Date inputs take their value as the browser's locale formats it; set them directly.
    let deadline = time::OffsetDateTime::now_utc().date() + time::Duration::days(30);
    client
        .execute(
            "document.getElementById('move-published-deadline_on').value = arguments[0];",
            vec![json!(deadline.to_string())],
        )
        .await
        .unwrap();
    let gara = client
        .find(Locator::Id("move-published-anac_gara"))
        .await
        .unwrap();
    gara.send_keys("8315069").await.unwrap();
    move_to(client, "published").await;
    move_to(client, "bids_closed").await;
    move_to(client, "evaluation").await;
    let award = client.find(Locator::Id("award-1")).await.unwrap();
    for (name, value) in [
        ("supplier_name", "CO.GE.FA. S.R.L."),
        ("supplier_cf", "03213200755"),
        ("amount", "132.000,00"),
        ("bids_count", "4"),
    ] {
        award
            .find(Locator::Css(&format!("[name='{name}']")))
            .await
            .unwrap()
            .send_keys(value)
            .await
            .unwrap();
    }
    submit_and_wait(client, "#award-1", "evaluation").await;
    move_to(client, "awarded").await;
    browser.logout().await;

    // The Comune user sees the award on its procedure's page.
    browser.login(&base, "comune.treviso").await;
    client.goto(&request_url).await.unwrap();
    let state = client
        .find(Locator::Id("state"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(state, "Aggiudicata");
    let lots = client
        .find(Locator::Id("lots"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for expected in [
        "90940496A3",
        "CO.GE.FA. S.R.L.",
        "03213200755",
        "132.000,00 €",
        "12%",
    ] {
        let lots = lots.replace('\u{a0}', " ");
        assert!(lots.contains(expected), "{expected} in {lots}");
    }
    let timeline = client
        .find(Locator::Id("timeline"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(timeline.contains("Aggiudicata"), "{timeline}");
    assert!(
        client.find(Locator::Id("actions")).await.is_err(),
        "the Comune has no actions on an awarded procedure"
    );
    browser.client.clone().close().await.unwrap();
    sua.app.stop().await;
}
