//! The public pages.

use crate::support::{NodeLog, TestApp, appalti};

#[tokio::test]
async fn the_dashboard_lists_the_86_provinces_with_their_status() {
    let app = TestApp::spawn().await;
    let mut tv = app.enrolled("026", "treviso");
    app.push_ok(&tv.next(&appalti("026", 0, 3))).await;
    let (status, html) = app.get_text("/").await;
    assert_eq!(status, 200);
    let table = &html[html.find("id=\"tabella-province\"").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    assert_eq!(table.matches("<tr>").count(), 87, "header and 86 Provinces");
    assert!(html.contains("Treviso"));
    assert!(html.contains("Aderente"));
    assert!(html.contains("Fonte: Istat"));
}

#[tokio::test]
async fn the_operator_area_needs_the_token_and_enrols_keys() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = client
        .get(format!("{}/operatore", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 303);
    let wrong = client
        .post(format!("{}/operatore/accesso", app.url))
        .form(&[("token", "guess")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    let login = client
        .post(format!("{}/operatore/accesso", app.url))
        .form(&[("token", crate::support::OPERATOR_TOKEN)])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status().as_u16(), 303);
    let cookie = login.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let key = crate::support::key("pesaro").public_key().to_string();
    // The same enrolment twice: the first is made, the second refused.
    let enrol = || {
        client
            .post(format!("{}/operatore", app.url))
            .header("cookie", &cookie)
            .form(&[
                ("action", "enrol"),
                ("province", "041"),
                ("key", key.as_str()),
            ])
            .send()
    };
    let enrolled = enrol().await.unwrap();
    assert_eq!(enrolled.status().as_u16(), 200);
    let html = enrolled.text().await.unwrap();
    assert!(html.contains("registrata per la Provincia 041"), "{html}");
    let again = enrol().await.unwrap();
    assert_eq!(again.status().as_u16(), 422);
    let (_, keys) = app.get_json("/v1/operator/keys").await;
    assert_eq!(keys[0]["province"], "041");
}

#[tokio::test]
async fn the_dashboard_works_in_headless_chromium() {
    let app = TestApp::spawn().await;
    for (code, name) in [("026", "treviso"), ("017", "brescia")] {
        let mut node = NodeLog::new(code, name);
        app.enrol(&node);
        app.push_ok(&node.next(&appalti(code, 0, 12))).await;
    }
    app.await_checkpoint(2).await;

    let session = crate::support::Browser::start(1280).await;
    let browser = &session.client;
    use fantoccini::Locator;

    browser.goto(&format!("{}/", app.url)).await.unwrap();
    assert!(
        browser
            .title()
            .await
            .unwrap()
            .starts_with("Quadro nazionale")
    );
    let rows = browser
        .find_all(Locator::Css("#tabella-province tbody tr"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 86);
    assert_eq!(
        browser
            .find(Locator::Id("aderenti"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "2 su 86"
    );
    // Every chart is an image with a text alternative, followed by its table.
    let charts = browser
        .find_all(Locator::Css(".pico-chart[role=img]"))
        .await
        .unwrap();
    assert_eq!(
        charts.len(),
        2,
        "enrolment by region and the appalti dataset"
    );
    let label = charts[1].attr("aria-label").await.unwrap().unwrap();
    assert!(
        label.contains("Lombardia: 12") && label.contains("Veneto: 12"),
        "{label}"
    );
    let treviso = browser
        .find(Locator::XPath(
            "//table[@id='tabella-province']//tr[th='Treviso']/td[3]",
        ))
        .await
        .unwrap();
    assert_eq!(treviso.text().await.unwrap(), "Aderente");
    // The vendored Bootstrap Italia stylesheet is applied (no CDN).
    let font = browser
        .execute("return getComputedStyle(document.body).fontFamily", vec![])
        .await
        .unwrap();
    assert!(
        font.as_str().unwrap_or_default().contains("Titillium"),
        "{font}"
    );
    // Keyboard users can skip to the content.
    let skip = browser.find(Locator::Css(".skiplinks a")).await.unwrap();
    assert_eq!(skip.attr("href").await.unwrap().as_deref(), Some("#main"));

    browser
        .goto(&format!("{}/buone-pratiche", app.url))
        .await
        .unwrap();
    let search = browser.find(Locator::Id("q")).await.unwrap();
    search.send_keys("convenzione").await.unwrap();
    browser
        .find(Locator::Css("form[role=search] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The results page is a new document: wait for it before reading it.
    for _ in 0..100 {
        if browser
            .current_url()
            .await
            .unwrap()
            .as_str()
            .contains("q=convenzione")
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let status = browser.find(Locator::Css("[role=status]")).await.unwrap();
    assert_eq!(status.text().await.unwrap(), "0 risultati");
    let query = browser.find(Locator::Id("q")).await.unwrap();
    assert_eq!(
        query.prop("value").await.unwrap().as_deref(),
        Some("convenzione")
    );
    session.close().await;
}

#[tokio::test]
async fn an_unknown_address_gets_an_italian_page_with_the_navigation() {
    let app = TestApp::spawn().await;
    let response = app.get("/non-esiste").await;
    assert_eq!(response.status().as_u16(), 404);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = response.text().await.unwrap();
    assert!(html.contains("<h1>Pagina non trovata</h1>"), "{html}");
    assert!(
        html.contains("aria-label=\"Menu principale\""),
        "the navigation"
    );
    assert!(!html.contains("Not Found"));
    // Under the API, a problem document.
    let response = app.get("/v1/non-esiste").await;
    assert_eq!(response.status().as_u16(), 404);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
}

#[tokio::test]
async fn the_footer_says_hub_and_the_menu_has_no_dead_item() {
    let app = TestApp::spawn().await;
    let (_, html) = app.get_text("/").await;
    assert!(
        html.contains("Hub nazionale della federazione UPI"),
        "{html}"
    );
    assert!(!html.contains("Nodo Pi.Co."));
    assert!(html.contains("href=\"/operatore\""));
    assert!(html.contains("href=\"/registro\""));
    // Without an operator token the operators' area does not exist: no menu item leads there.
    let closed = TestApp::spawn_with(|config| {
        config.operator_token = pico_service::config::Secret::new("");
    })
    .await;
    let (_, html) = closed.get_text("/").await;
    assert!(!html.contains("href=\"/operatore\""), "{html}");
    for path in ["/", "/appalti", "/buone-pratiche", "/registro"] {
        assert_eq!(closed.get_text(path).await.0, 200, "{path}");
    }
}

#[tokio::test]
async fn the_province_table_sorts_and_filters_without_script() {
    let app = TestApp::spawn().await;
    let mut tv = app.enrolled("026", "treviso");
    app.push_ok(&tv.next(&appalti("026", 0, 3))).await;
    let rows = |html: &str| -> Vec<String> {
        let table = &html[html.find("id=\"tabella-province\"").unwrap()..];
        let table = &table[table.find("<tbody>").unwrap()..table.find("</tbody>").unwrap()];
        table
            .split("<th scope=\"row\">")
            .skip(1)
            .map(|cell| cell[..cell.find('<').unwrap()].to_owned())
            .collect()
    };
    let (status, html) = app.get_text("/?regione=Veneto").await;
    assert_eq!(status, 200);
    assert_eq!(
        rows(&html),
        [
            "Verona", "Vicenza", "Belluno", "Treviso", "Padova", "Rovigo"
        ],
        "the Veneto Provinces of the programme, by code (Venezia is a Città metropolitana)"
    );
    let (_, html) = app
        .get_text("/?regione=Veneto&ordina=provincia&verso=decrescente")
        .await;
    assert_eq!(
        rows(&html),
        [
            "Vicenza", "Verona", "Treviso", "Rovigo", "Padova", "Belluno"
        ]
    );
    assert!(html.contains("aria-sort=\"descending\""));
    let (_, html) = app.get_text("/?adesione=aderenti").await;
    assert_eq!(rows(&html), ["Treviso"]);
    assert!(html.contains("1 Province su 86"));
    let (_, html) = app.get_text("/?cerca=tv").await;
    assert_eq!(rows(&html), ["Treviso"], "by car plate");
    let (_, html) = app.get_text("/?ordina=voci&verso=decrescente").await;
    assert_eq!(rows(&html)[0], "Treviso", "the one that sent entries first");
    // Adhesion as a share of each region's Provinces.
    assert!(html.contains("1 su 6 (17%)"), "Veneto: 1 of 6");
    assert!(html.contains("0 su 11 (0%)"), "Lombardia: 0 of 11");
    // A wrong value gets a message beside its field, and the page still answers.
    let (status, html) = app.get_text("/?regione=Atlantide").await;
    assert_eq!(status, 400);
    assert!(html.contains("id=\"regione-errore\""));
    assert!(html.contains("«Atlantide» non è una regione del programma"));
    assert_eq!(rows(&html).len(), 86);
}
