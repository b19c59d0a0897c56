//! The programme's training targets reach the node from a real `pico-hub`, signed: the node
//! pulls them in the background, verifies them with the hub key it pinned and shows the
//! Province's progress against them in its reports; a document signed by another key, or
//! altered, is refused and the targets kept stay as they were; a newer revision replaces them.

use std::time::Duration;

use pico_node::auth::{Module, Role};
use pico_node::db;
use pico_node::federation::client::HubClient;
use pico_node::formazione::targets::{self, Accepted, TargetsError};
use pico_protocol::PublicKey;
use pico_service::Db;
use reqwest::Method;
use serde_json::{Value, json};

use crate::federation::{Hub, node_config};
use crate::helpers::{TestApp, add_user};

/// The targets the node keeps, waiting up to 30 s for the first pull.
async fn kept(db: &Db) -> pico_protocol::targets::FormazioneTargets {
    for _ in 0..300 {
        if let Some(targets) = targets::load(&db.get().unwrap()).unwrap() {
            return targets;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the node never stored the hub's targets");
}

#[tokio::test]
async fn the_node_keeps_only_targets_the_hub_signed() {
    let mut hub = Hub::init_with(|config| {
        config.operator_token = pico_service::config::Secret::new("operatore-formazione");
    });
    hub.start().await;
    let (dir, config, _admin) = node_config(&hub.url());
    hub.enrol(&config, "026");
    let office = add_user(&config, "mario.rossi", &Role::Operator(Module::Formazione));
    let node = TestApp::start(dir, config).await;
    let db = Db::open_existing(&node.config.db_path(), db::MIGRATIONS, 1).unwrap();

    let targets = kept(&db).await;
    assert_eq!(
        (
            targets.revision,
            targets.provinces,
            targets.hours_per_person_year
        ),
        (1, 86, 40)
    );
    assert_eq!(
        targets
            .sectors
            .iter()
            .map(|s| (s.sector.as_str(), s.people_per_province))
            .collect::<Vec<_>>(),
        [
            ("appalti", 5),
            ("europa", 3),
            ("innovazione", 3),
            ("personale", 4)
        ]
    );

    // The reports show the progress against them (nobody trained yet).
    let response = node
        .send_json(Method::GET, "/v1/formazione/reports", Some(&office), None)
        .await;
    assert!(response.status().is_success());
    let report: Value = response.json().await.unwrap();
    assert_eq!(
        report["progress"]["sectors"],
        json!([
            {"sector": "appalti", "label": "Appalti", "people_trained": 0, "target": 5},
            {"sector": "europa", "label": "Europa", "people_trained": 0, "target": 3},
            {"sector": "innovazione", "label": "Innovazione e Digitalizzazione", "people_trained": 0, "target": 3},
            {"sector": "personale", "label": "Politiche del personale", "people_trained": 0, "target": 4},
        ])
    );
    assert_eq!(report["progress"]["hours_per_person_year"], 40);

    // A hub with another key: its document does not verify with the pinned key.
    let mut other = Hub::init();
    other.start().await;
    let impostor = HubClient::new(&other.url(), Duration::from_secs(10)).unwrap();
    assert!(matches!(
        targets::pull_once(&db, &impostor).await,
        Err(TargetsError::Refused(_))
    ));
    // The real document, altered: a higher revision and a target of 50, same signature.
    let genuine = HubClient::new(&hub.url(), Duration::from_secs(10)).unwrap();
    let mut jws = genuine.formazione_targets().await.unwrap();
    let mut payload: Value = serde_json::from_slice(&jws.payload_bytes().unwrap()).unwrap();
    payload["revision"] = json!(2);
    payload["sectors"][0]["people_per_province"] = json!(50);
    use base64::Engine;
    jws.payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(pico_protocol::canonical::to_vec(&payload).unwrap());
    let pinned: PublicKey = db::federation::pinned(&db.get().unwrap())
        .unwrap()
        .unwrap()
        .hub_key
        .parse()
        .unwrap();
    assert!(matches!(
        targets::accept(&db.get().unwrap(), &jws, &pinned, 0),
        Err(TargetsError::Refused(
            pico_protocol::EntryError::BadSignature
        ))
    ));
    assert_eq!(kept(&db).await, targets, "the targets kept are unchanged");

    // A new revision set at the hub by its operators is taken at the next pull.
    let response = reqwest::Client::new()
        .put(format!("{}/v1/formazione/targets", hub.url()))
        .bearer_auth("operatore-formazione")
        .json(&json!({"sectors": [{"sector": "appalti", "people_per_province": 6}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        targets::pull_once(&db, &genuine).await.unwrap(),
        Accepted::Stored(2)
    );
    assert_eq!(
        targets::pull_once(&db, &genuine).await.unwrap(),
        Accepted::Unchanged(2)
    );
    assert_eq!(kept(&db).await.per_province("appalti"), 6);
}
