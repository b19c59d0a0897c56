//! The SIT national view with real processes: three Province nodes (Treviso, Brescia, Padova)
//! publish their catalogue of services, accept the subscriptions their Comuni ask for, record
//! their Comuni's digital pictures, and turn the derived `sit_servizi` and
//! `sit_quadro_digitale` datasets national; the hub's offer, coverage and national catalogue
//! give exactly the figures worked out from the ISTAT population file, and follow a change.

#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on unexpected input"
)]

use pico_system_tests::federation::{Hub, Node, PATIENCE, system_root, wait_until};
use reqwest::Method;
use serde_json::{Value, json};

/// Residents on 1 January 2026, read by hand from
/// `node/data/istat_popolazione_residente_comuni_2025_2026.csv`.
const TREVISO: (&str, u64) = ("026086", 86_113);
const ALTIVOLE: (&str, u64) = ("026001", 7_088);
const BRESCIA: (&str, u64) = ("017029", 201_342);
const PADOVA: (&str, u64) = ("028060", 208_202);

/// Sends `body` to the node's API with `token` (the administrator's when `None`).
fn send(node: &mut Node, token: Option<&str>, method: Method, path: &str, body: &Value) -> Value {
    let request = match token {
        Some(token) => node.api_as(method, path, token),
        None => node.api(method, path).unwrap(),
    };
    let response = request.json(body).send().unwrap();
    let status = response.status();
    let text = response.text().unwrap();
    assert!(status.is_success(), "{path}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// A user of Comune `code` with a password of its own, and an API token acting as it.
fn comune_token(node: &Node, code: &str) -> String {
    let username = format!("comune.{code}");
    let password = node.dir().join(format!("{username}-password"));
    std::fs::write(&password, "password-del-comune-2026\n").unwrap();
    let password = password.to_str().unwrap();
    node.cli(&[
        "user",
        "add",
        &username,
        "--name",
        "Ufficio del Comune",
        "--role",
        "comune",
        "--comune",
        code,
        "--password-file",
        password,
        "--no-change",
    ])
    .unwrap();
    let printed = node.cli(&["token", "create", &username]).unwrap();
    printed
        .lines()
        .map(str::trim)
        .find(|line| line.starts_with("pico_"))
        .unwrap()
        .to_owned()
}

fn service(code: &str, name: &str, category: &str, cost_model: &str, fee: &str) -> Value {
    json!({
        "code": code, "name": name,
        "description": format!("{name}: servizio condiviso della Provincia."),
        "category": category, "theme": 9, "channels": ["online"],
        "audience": "all", "cost_model": cost_model, "fee": fee,
        "first_answer_hours": 8, "resolution_hours": 40, "availability": "99",
        "contact_office": "Ufficio SIT", "contact_email": "sit@provincia.example.it"
    })
}

/// Comune `code` asks for `service` and the Province accepts.
fn subscribe(node: &mut Node, comune_token: &str, service: &str) -> i64 {
    let created = send(
        node,
        Some(comune_token),
        Method::POST,
        "/v1/sit/subscriptions",
        &json!({"service": service, "note": "Richiesta del Comune"}),
    );
    let id = created["id"].as_i64().unwrap();
    send(
        node,
        None,
        Method::POST,
        &format!("/v1/sit/subscriptions/{id}/transitions"),
        &json!({"state": "active", "agreement_ref": "Convenzione 1/2026", "start_date": "2026-03-01"}),
    );
    id
}

fn picture(node: &mut Node, comune: &str, platforms: &[&str]) {
    let platforms: Vec<Value> = platforms
        .iter()
        .map(|p| json!({"platform": p, "since": "2023-05-02"}))
        .collect();
    send(
        node,
        None,
        Method::PUT,
        &format!("/v1/sit/comuni/{comune}/picture"),
        &json!({"platforms": platforms, "measures": []}),
    );
}

fn ok(hub: &Hub, path: &str) -> Value {
    let answer = hub.get(path).unwrap();
    assert_eq!(answer.status, 200, "{path}: {:?}", answer.body);
    answer.body
}

fn percent(part: u64, whole: u64) -> String {
    let basis_points = (part * 10_000 * 2 + whole) / (2 * whole);
    format!("{}.{:02}", basis_points / 100, basis_points % 100)
}

#[test]
fn three_provinces_publishing_their_services_make_the_sit_national_view() {
    let root = system_root().unwrap();
    let hub = Hub::start(root.path()).unwrap();
    let hub_url = hub.url();
    let mut nodes = hub
        .enrol_new_nodes(root.path(), &["026", "017", "028"])
        .unwrap();
    let tokens: Vec<Vec<String>> = [vec![TREVISO.0, ALTIVOLE.0], vec![BRESCIA.0], vec![PADOVA.0]]
        .iter()
        .zip(&nodes)
        .map(|(codes, node)| codes.iter().map(|code| comune_token(node, code)).collect())
        .collect();
    for node in &mut nodes {
        node.serve(&hub_url).unwrap();
    }
    let [treviso, brescia, padova] = &mut nodes[..] else {
        unreachable!()
    };

    // Treviso: pagoPA per inhabitant, Treviso and Altivole subscribed; SPID and pagoPA in
    // Treviso, SPID in Altivole.
    send(
        treviso,
        None,
        Method::POST,
        "/v1/sit/services",
        &service(
            "adesione-pagopa",
            "Adesione a pagoPA e App IO",
            "payments",
            "per_inhabitant",
            "0.15",
        ),
    );
    subscribe(treviso, &tokens[0][0], "adesione-pagopa");
    subscribe(treviso, &tokens[0][1], "adesione-pagopa");
    picture(treviso, TREVISO.0, &["spid", "pagopa"]);
    picture(treviso, ALTIVOLE.0, &["spid"]);
    // Brescia: a cybersecurity service, Brescia subscribed; SPID, CIE and ANPR in Brescia.
    send(
        brescia,
        None,
        Method::POST,
        "/v1/sit/services",
        &service(
            "presidio-cyber",
            "Presidio di sicurezza informatica",
            "cybersecurity",
            "fixed",
            "900",
        ),
    );
    let cyber = subscribe(brescia, &tokens[1][0], "presidio-cyber");
    picture(brescia, BRESCIA.0, &["spid", "cie", "anpr"]);
    // Padova: a free GIS nobody uses yet; SPID, pagoPA and App IO in Padova.
    send(
        padova,
        None,
        Method::POST,
        "/v1/sit/services",
        &service(
            "gis-territoriale",
            "Sistema informativo territoriale",
            "gis",
            "free",
            "0",
        ),
    );
    picture(padova, PADOVA.0, &["spid", "pagopa", "app_io"]);

    for node in [&mut *treviso, &mut *brescia, &mut *padova] {
        for dataset in ["sit_servizi", "sit_quadro_digitale"] {
            send(
                node,
                None,
                Method::PUT,
                &format!("/v1/datasets/{dataset}/federation"),
                &json!({"federation": "national"}),
            );
        }
    }
    let mut comuni = 0;
    let mut residents = 0;
    for (node, code) in [(&*treviso, "026"), (&*brescia, "017"), (&*padova, "028")] {
        wait_until(&format!("the hub holds {code}'s head"), PATIENCE, || {
            Ok(hub.head(code)? == node.head()?)
        })
        .unwrap();
        // Every Comune of the Province has a row of the digital picture.
        let rows = hub.rows("sit_quadro_digitale", code).unwrap();
        assert_eq!(
            rows.len(),
            node.rows("sit_quadro_digitale").unwrap().len(),
            "{code}"
        );
        assert!(rows.len() > 90, "{code}: {} Comuni", rows.len());
        comuni += rows.len() as u64;
        residents += rows
            .values()
            .map(|row| row["residents"].as_u64().unwrap_or(0))
            .sum::<u64>();
    }

    // What each Province offers, and whom it reaches.
    let offers = ok(&hub, "/v1/sit/provinces");
    assert_eq!(offers["service_count"], 3);
    let reach: Vec<(&str, &str, u64, u64)> = offers["items"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| {
            p["services"].as_array().unwrap().iter().map(move |s| {
                (
                    p["province"].as_str().unwrap(),
                    s["code"].as_str().unwrap(),
                    s["active_comuni"].as_u64().unwrap(),
                    s["active_residents"].as_u64().unwrap(),
                )
            })
        })
        .collect();
    assert_eq!(
        reach,
        [
            ("017", "presidio-cyber", 1, BRESCIA.1),
            ("026", "adesione-pagopa", 2, TREVISO.1 + ALTIVOLE.1),
            ("028", "gis-territoriale", 0, 0),
        ]
    );

    // Coverage: SPID in Treviso, Altivole, Brescia and Padova; pagoPA in Treviso and Padova;
    // CIE and ANPR in Brescia; App IO in Padova; over every Comune of the three Provinces.
    let coverage = ok(&hub, "/v1/sit/coverage");
    let total = &coverage["total"];
    assert_eq!(
        (&total["provinces"], &total["comuni"], &total["residents"]),
        (&json!(3), &json!(comuni), &json!(residents))
    );
    let expected = [
        ("spid", 4, TREVISO.1 + ALTIVOLE.1 + BRESCIA.1 + PADOVA.1),
        ("cie", 1, BRESCIA.1),
        ("pagopa", 2, TREVISO.1 + PADOVA.1),
        ("app_io", 1, PADOVA.1),
        ("anpr", 1, BRESCIA.1),
        ("pdnd", 0, 0),
        ("cloud", 0, 0),
    ];
    for (got, (platform, using, their_residents)) in
        total["platforms"].as_array().unwrap().iter().zip(expected)
    {
        assert_eq!(
            got,
            &json!({
                "platform": platform, "comuni": using, "residents": their_residents,
                "comuni_share": percent(using, comuni),
                "residents_share": percent(their_residents, residents),
            })
        );
    }
    let by_region = ok(&hub, "/v1/sit/coverage?by=region");
    let regions: Vec<(&str, u64)> = by_region["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["key"].as_str().unwrap(), g["provinces"].as_u64().unwrap()))
        .collect();
    assert_eq!(regions, [("Lombardia", 1), ("Veneto", 2)]);

    // The national catalogue, searched across the Provinces.
    let found = ok(&hub, "/v1/sit/services?q=sicurezza");
    assert_eq!(found["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        (
            &found["items"][0]["province_name"],
            &found["items"][0]["fee"]
        ),
        (&json!("Brescia"), &json!("900.00"))
    );
    assert_eq!(
        ok(&hub, "/v1/sit/services?region=Veneto")["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let page = hub.get("/sit/catalogo?q=pagopa").unwrap();
    assert_eq!(page.status, 200);
    assert_eq!(hub.get("/sit").unwrap().status, 200);

    // Brescia ends its subscription: a delta, and the figures follow.
    send(
        brescia,
        None,
        Method::POST,
        &format!("/v1/sit/subscriptions/{cyber}/transitions"),
        &json!({"state": "ended", "reason": "Servizio internalizzato."}),
    );
    wait_until(
        "the hub sees Brescia's subscription ended",
        PATIENCE,
        || {
            Ok(
                ok(&hub, "/v1/sit/provinces?region=Lombardia")["items"][0]["active_subscriptions"]
                    == 0,
            )
        },
    )
    .unwrap();
}
