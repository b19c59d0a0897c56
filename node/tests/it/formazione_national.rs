//! The national `formazione_aggregati` dataset end to end: a course, an edition, enrolments
//! of a Comune's staff and a register reach a real `pico-hub` as counts per sector and year
//! when the Province turns the dataset `national`; later changes are re-published; and no
//! signed entry of the node carries a name, an e-mail address, an office or a person's Comune.

use pico_node::auth::{Module, Role};
use pico_protocol::ComuneCode;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::federation::{Hub, node_config, send, signed_bodies, wait_published};
use crate::helpers::{TestApp, add_user};

#[tokio::test]
async fn training_reaches_the_hub_as_counts_without_personal_data() {
    let mut hub = Hub::init();
    hub.start().await;
    let (dir, config, admin) = node_config(&hub.url());
    hub.enrol(&config, "026");
    let office = add_user(&config, "mario.rossi", &Role::Operator(Module::Formazione));
    let treviso = add_user(
        &config,
        "comune.treviso",
        &Role::Comune(ComuneCode::parse("026086").unwrap()),
    );
    let node = TestApp::start(dir, config).await;

    let course = send(
        &node,
        Method::POST,
        "/v1/formazione/courses",
        &office,
        &json!({"title": "Il nuovo codice dei contratti pubblici", "sector": "appalti", "hours": 6,
                "mode": "online", "audience": "both", "min_attendance_percent": 75}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let edition = send(
        &node,
        Method::POST,
        &format!("/v1/formazione/courses/{course}/editions"),
        &office,
        &json!({"teacher": "Laura Conte", "link": "https://zoom.us/j/81234567890", "seats": 10,
                "enrol_opens": "2020-01-01", "enrol_closes": "2099-12-31",
                "sessions": [{"starts_at": "2026-03-10T09:00:00+01:00", "ends_at": "2026-03-10T12:00:00+01:00"},
                             {"starts_at": "2026-03-10T14:00:00+01:00", "ends_at": "2026-03-10T17:00:00+01:00"}]}),
    )
    .await;
    let mut enrolments = Vec::new();
    for (name, email) in [
        ("Giulia Bianchi", "giulia.bianchi@comune.treviso.it"),
        ("Paolo Neri", "paolo.neri@comune.treviso.it"),
    ] {
        let person = send(
            &node,
            Method::POST,
            "/v1/formazione/staff",
            &treviso,
            &json!({"name": name, "office": "Ufficio tributi", "email": email}),
        )
        .await;
        let enrolment = send(
            &node,
            Method::POST,
            &format!("/v1/formazione/editions/{}/enrolments", edition["id"]),
            &treviso,
            &json!({"staff_id": person["id"]}),
        )
        .await;
        enrolments.push(enrolment["id"].as_i64().unwrap());
    }

    // Defined, off: nothing kept, nothing signed.
    let list: Value = node
        .get("/v1/datasets", Some(&admin))
        .await
        .json()
        .await
        .unwrap();
    let items = list
        .get("items")
        .unwrap_or(&list)
        .as_array()
        .unwrap()
        .clone();
    let dataset = items
        .iter()
        .find(|d| d["name"] == "formazione_aggregati")
        .unwrap_or_else(|| panic!("{list}"));
    assert_eq!(dataset["federation"], "off", "{dataset}");
    assert!(signed_bodies(&node).is_empty());

    // National: one row, Appalti 2026.
    send(
        &node,
        Method::PUT,
        "/v1/datasets/formazione_aggregati/federation",
        &admin,
        &json!({"federation": "national"}),
    )
    .await;
    wait_published(&node, &admin).await;
    let row = |attended: i64, completed: i64| {
        json!({"sector": "appalti", "year": 2026, "editions": 1, "sessions": 2, "minutes_scheduled": 360,
               "enrolled": 2, "completed": completed, "people_trained": completed, "minutes_attended": attended})
    };
    assert_eq!(
        hub.rows("formazione_aggregati", "026").await,
        vec![row(0, 0)]
    );

    // The register of both sessions: Giulia all of it (completes), Paolo one session.
    for (index, minutes) in [(0, [180, 180]), (1, [180, 0])] {
        let session = edition["sessions"][index]["id"].as_i64().unwrap();
        send(
            &node,
            Method::PUT,
            &format!("/v1/formazione/sessions/{session}/attendance"),
            &office,
            &json!({"entries": [{"enrolment_id": enrolments[0], "minutes": minutes[0]},
                                {"enrolment_id": enrolments[1], "minutes": minutes[1]}]}),
        )
        .await;
    }
    wait_published(&node, &admin).await;
    assert_eq!(
        hub.rows("formazione_aggregati", "026").await,
        vec![row(540, 1)]
    );

    // Every entry the node signed is a batch of the aggregates, with no person in it.
    let bodies = signed_bodies(&node);
    assert!(bodies.len() >= 2, "{bodies:?}");
    for body in &bodies {
        assert!(body.contains("formazione_aggregati"), "{body}");
        for personal in [
            "@", "Giulia", "Bianchi", "Paolo", "Neri", "Mario", "Rossi", "Laura", "Conte",
            "tributi", "026086", "Utente", "zoom",
        ] {
            assert!(!body.contains(personal), "{personal} in {body}");
        }
    }
    assert_eq!(
        node.get("/v1/formazione/courses", Some(&office))
            .await
            .status(),
        StatusCode::OK
    );
    node.stop().await;
    hub.stop().await;
}
