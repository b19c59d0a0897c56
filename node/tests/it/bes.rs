//! The node's BES page: its own Province's profile read from a real `pico-hub` (which imports
//! ISTAT's 2020 edition at `init`), still shown from the node's short cache once the hub has
//! stopped, and an Italian message when no hub is configured or none answers.

use reqwest::StatusCode;

use crate::federation::{Hub, free_port};
use crate::helpers::{TestApp, init_dir};

#[tokio::test]
async fn the_page_shows_treviso_s_profile_from_the_hub_and_says_when_it_is_unreachable() {
    let mut hub = Hub::init();
    hub.start().await;
    let (dir, mut config) = init_dir("026");
    config.federation.hub_url = hub.url();
    let node = TestApp::start(dir, config).await;
    let response = node.get("/dati/bes", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("Benessere equo e sostenibile della Provincia"),
        "{page}"
    );
    // Read by hand from ISTAT's file: life expectancy at birth, total, 2018 (Treviso 84.1,
    // Veneto 83.6, Italia 83); separate collection, 2018 (87.3, 73.8, 58.2).
    assert!(page.contains("Speranza di vita alla nascita"));
    assert!(page.contains("<td>2018</td><td class=\"text-end\">84,1</td><td class=\"text-end\">83,6</td><td class=\"text-end\">83</td>"), "{page}");
    assert!(page.contains("<td>2018</td><td class=\"text-end\">87,3</td><td class=\"text-end\">73,8</td><td class=\"text-end\">58,2</td>"));
    assert!(page.contains("Fonte: Istat, BES dei territori (CC BY 4.0)"));
    assert!(page.contains(&format!("href=\"{}/bes/province/026\"", hub.url())));

    // The hub stops: the page comes from the node's cache for a few minutes.
    hub.stop().await;
    let response = node.get("/dati/bes", None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.text().await.unwrap().contains("84,1"));
    node.stop().await;

    // A node whose hub does not answer says so, in Italian.
    let (dir, mut config) = init_dir("026");
    config.federation.hub_url = format!("http://127.0.0.1:{}", free_port());
    let node = TestApp::start(dir, config).await;
    let response = node.get("/dati/bes", None).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("L'hub nazionale non risponde in questo momento"),
        "{page}"
    );
    node.stop().await;

    // A node without a hub says where the data come from.
    let node = TestApp::spawn("026").await;
    let page = node.get("/dati/bes", None).await.text().await.unwrap();
    assert!(
        page.contains("Il nodo non è collegato a un hub nazionale"),
        "{page}"
    );
}
