//! Formazione with real processes: three Province nodes (Treviso, Brescia, Padova) hold
//! courses, editions, their staff's enrolments (Treviso's by its Comune's own user) and the
//! registers, and turn the derived `formazione_aggregati` and `formazione_corsi` datasets
//! national. The hub's progress view shows exactly those three Provinces with the people
//! trained and the hours worked out by hand against the programme's targets (5/3/3/4 per
//! Province, 430/258/258/344 in all); the national catalogue lists the courses opened to other
//! Provinces, searchable, and follows a course closed again; a target changed at the hub
//! reaches a node, verified, at its next pull; and no entry any node signed carries a name, an
//! e-mail address or a username of the people seeded.

#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on unexpected input"
)]

use pico_protocol::SignedEntry;
use pico_system_tests::federation::{Hub, Node, OPERATOR_TOKEN, PATIENCE, system_root, wait_until};
use reqwest::Method;
use serde_json::{Value, json};

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

/// A user with a password of its own (`user add … --no-change`) and an API token acting as it.
fn user_token(node: &Node, username: &str, name: &str, roles: &[&str]) -> String {
    let password = node.dir().join(format!("{username}-password"));
    std::fs::write(&password, "password-della-prova-2026\n").unwrap();
    let password = password.to_str().unwrap();
    let mut args = vec!["user", "add", username, "--name", name];
    args.extend_from_slice(roles);
    args.extend(["--password-file", password, "--no-change"]);
    node.cli(&args).unwrap();
    let printed = node.cli(&["token", "create", username]).unwrap();
    printed
        .lines()
        .map(str::trim)
        .find(|line| line.starts_with("pico_"))
        .unwrap()
        .to_owned()
}

/// A course of `sector` (6 hours, online, for the staff of the Province and the Comuni, 75 %
/// of the hours to complete); `extra` fields are added.
fn course(title: &str, sector: &str, extra: &Value) -> Value {
    let mut course = json!({
        "title": title, "sector": sector, "hours": 6, "mode": "online",
        "audience": "both", "min_attendance_percent": 75
    });
    for (key, value) in extra.as_object().unwrap() {
        course[key] = value.clone();
    }
    course
}

/// An edition taught by `teacher` with sessions of three hours on the days given (March
/// 2026, Italian time), enrolment open.
fn edition(teacher: &str, days: &[u32]) -> Value {
    let sessions: Vec<Value> = days
        .iter()
        .map(|day| {
            json!({"starts_at": format!("2026-03-{day:02}T09:00:00+01:00"),
                   "ends_at": format!("2026-03-{day:02}T12:00:00+01:00")})
        })
        .collect();
    json!({"teacher": teacher, "link": "https://videoconferenza.example/aula", "seats": 30,
           "enrol_opens": "2020-01-01", "enrol_closes": "2099-12-31", "sessions": sessions})
}

/// A person of the staff list, as seeded: name and work e-mail.
type Person = (&'static str, &'static str);

/// Adds `people` to the staff list (as `token`'s user), enrols them in `edition`, and fills
/// each session's register: the first `complete` people attend everything, the others the
/// first session only (half of a two-session edition: below 75 %). Returns nothing: the
/// figures are checked at the hub.
fn train(
    node: &mut Node,
    token: Option<&str>,
    edition: &Value,
    people: &[Person],
    complete: usize,
) {
    let mut enrolments = Vec::new();
    for (name, email) in people {
        let person = send(
            node,
            token,
            Method::POST,
            "/v1/formazione/staff",
            &json!({"name": name, "office": "Ufficio formazione", "email": email}),
        );
        let enrolment = send(
            node,
            token,
            Method::POST,
            &format!("/v1/formazione/editions/{}/enrolments", edition["id"]),
            &json!({"staff_id": person["id"]}),
        );
        assert_eq!(enrolment["state"], "enrolled", "{enrolment}");
        enrolments.push(enrolment["id"].as_i64().unwrap());
    }
    for (index, session) in edition["sessions"].as_array().unwrap().iter().enumerate() {
        let entries: Vec<Value> = enrolments
            .iter()
            .enumerate()
            .map(|(n, id)| {
                let minutes = if n < complete || index == 0 { 180 } else { 0 };
                json!({"enrolment_id": id, "minutes": minutes})
            })
            .collect();
        send(
            node,
            None,
            Method::PUT,
            &format!("/v1/formazione/sessions/{}/attendance", session["id"]),
            &json!({"entries": entries}),
        );
    }
}

const TREVISO_APPALTI: [Person; 6] = [
    ("Giulia Bianchi", "giulia.bianchi@comune.treviso.it"),
    ("Paolo Neri", "paolo.neri@comune.treviso.it"),
    ("Anna Galli", "anna.galli@comune.treviso.it"),
    ("Marco Ferri", "marco.ferri@comune.treviso.it"),
    ("Elena Riva", "elena.riva@comune.treviso.it"),
    ("Luca Serra", "luca.serra@comune.treviso.it"),
];
const TREVISO_EUROPA: [Person; 2] = [
    ("Sara Fabbri", "sara.fabbri@provincia.treviso.it"),
    ("Davide Costa", "davide.costa@provincia.treviso.it"),
];
const BRESCIA_INNOVAZIONE: [Person; 4] = [
    ("Chiara Longo", "chiara.longo@provincia.brescia.it"),
    ("Matteo Greco", "matteo.greco@provincia.brescia.it"),
    ("Silvia Moretti", "silvia.moretti@provincia.brescia.it"),
    ("Andrea Villa", "andrea.villa@provincia.brescia.it"),
];
const PADOVA_PERSONALE: [Person; 2] = [
    ("Franca Testa", "franca.testa@provincia.padova.it"),
    ("Giorgio Pace", "giorgio.pace@provincia.padova.it"),
];

/// The figures of Province `code` in the hub's progress by Province: people trained per
/// target sector (in the targets' order), and hours delivered.
fn province_line(view: &Value, code: &str) -> (Vec<u64>, String, bool) {
    let item = view["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["key"] == code)
        .unwrap_or_else(|| panic!("no {code} in {view}"));
    (
        item["sectors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["people_trained"].as_u64().unwrap())
            .collect(),
        item["hours_delivered"].as_str().unwrap().to_owned(),
        item["publishing"].as_u64().unwrap() == 1,
    )
}

fn hub_json(hub: &Hub, path: &str) -> Value {
    let answer = hub.get(path).unwrap();
    assert_eq!(answer.status, 200, "{path}: {}", answer.body);
    answer.body
}

/// The revision and payload of the targets a node keeps, once it has verified some.
fn kept_targets(node: &Node) -> Option<(i64, Value)> {
    let conn = node.db().ok()?;
    conn.query_row(
        "SELECT revision, targets FROM formazione_targets WHERE id = 1",
        [],
        |row| Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?)),
    )
    .ok()
    .map(|(revision, text)| (revision, serde_json::from_str(&text).unwrap()))
}

#[test]
fn three_provinces_training_their_staff_make_the_national_view_of_formazione() {
    let root = system_root().unwrap();
    let hub = Hub::start(root.path()).unwrap();
    let hub_url = hub.url();
    let mut nodes = hub
        .enrol_new_nodes(root.path(), &["026", "017", "028"])
        .unwrap();
    for node in &mut nodes {
        node.serve(&hub_url).unwrap();
    }
    let [treviso, brescia, padova] = &mut nodes[..] else {
        unreachable!()
    };

    // Treviso: the training office (its own user) runs an Appalti course open to other
    // Provinces, whose edition the Comune of Treviso fills with six of its staff (five
    // complete), and a Europa course for two of the Province's own staff (both complete).
    let office = user_token(
        treviso,
        "laura.conte",
        "Laura Conte",
        &["--role", "operator", "--module", "formazione"],
    );
    let comune = user_token(
        treviso,
        "comune.treviso",
        "Ufficio personale del Comune",
        &["--role", "comune", "--comune", "026086"],
    );
    let appalti = send(
        treviso,
        Some(&office),
        Method::POST,
        "/v1/formazione/courses",
        &course(
            "Il nuovo codice dei contratti pubblici",
            "appalti",
            &json!({"tags": ["RUP", "subappalto"], "open_to_provinces": true}),
        ),
    );
    let appalti_edition = send(
        treviso,
        Some(&office),
        Method::POST,
        &format!("/v1/formazione/courses/{}/editions", appalti["id"]),
        &edition("Roberto Marchi", &[10, 17]),
    );
    train(
        treviso,
        Some(&comune),
        &appalti_edition,
        &TREVISO_APPALTI,
        5,
    );
    let europa = send(
        treviso,
        Some(&office),
        Method::POST,
        "/v1/formazione/courses",
        &course("Progettare con i fondi europei", "europa", &json!({})),
    );
    let europa_edition = send(
        treviso,
        Some(&office),
        Method::POST,
        &format!("/v1/formazione/courses/{}/editions", europa["id"]),
        &edition("Roberto Marchi", &[24, 31]),
    );
    train(treviso, None, &europa_edition, &TREVISO_EUROPA, 2);

    // Brescia: a digital-skills course (Syllabus, data, base) open to other Provinces; four
    // trained, one more than its target of three.
    let innovazione = send(
        brescia,
        None,
        Method::POST,
        "/v1/formazione/courses",
        &course(
            "Dati aperti e interoperabilità",
            "innovazione",
            &json!({"syllabus_area": "dati", "syllabus_level": "base", "open_to_provinces": true}),
        ),
    );
    let innovazione_edition = send(
        brescia,
        None,
        Method::POST,
        &format!("/v1/formazione/courses/{}/editions", innovazione["id"]),
        &edition("Carla Sala", &[3, 4]),
    );
    train(brescia, None, &innovazione_edition, &BRESCIA_INNOVAZIONE, 4);

    // Padova: Politiche del personale, one of two complete; not open to other Provinces.
    let personale = send(
        padova,
        None,
        Method::POST,
        "/v1/formazione/courses",
        &course("Il lavoro agile nella PA", "personale", &json!({})),
    );
    let personale_edition = send(
        padova,
        None,
        Method::POST,
        &format!("/v1/formazione/courses/{}/editions", personale["id"]),
        &edition("Carla Sala", &[5, 12]),
    );
    train(padova, None, &personale_edition, &PADOVA_PERSONALE, 1);

    for node in [&mut *treviso, &mut *brescia, &mut *padova] {
        for dataset in ["formazione_aggregati", "formazione_corsi"] {
            send(
                node,
                None,
                Method::PUT,
                &format!("/v1/datasets/{dataset}/federation"),
                &json!({"federation": "national"}),
            );
        }
    }
    for node in [&*treviso, &*brescia, &*padova] {
        let code = node.province().to_owned();
        wait_until(&format!("the hub holds {code}'s head"), PATIENCE, || {
            Ok(hub.head(&code)? == node.head()?)
        })
        .unwrap();
        assert_eq!(
            hub.rows("formazione_aggregati", &code).unwrap(),
            node.rows("formazione_aggregati").unwrap(),
            "{code}: the hub holds the node's rows"
        );
    }
    // By hand: Treviso Appalti 2026: 1 edition, 2 sessions, 360 minutes, 6 enrolled, 5
    // completed and trained, 5 × 360 + 180 = 1,980 minutes attended.
    let treviso_rows = hub.rows("formazione_aggregati", "026").unwrap();
    assert_eq!(
        treviso_rows[r#"["appalti",2026]"#],
        json!({"sector": "appalti", "year": 2026, "editions": 1, "sessions": 2,
               "minutes_scheduled": 360, "enrolled": 6, "completed": 5, "people_trained": 5,
               "minutes_attended": 1980})
    );

    // The programme's progress: exactly the three Provinces publish. People trained per
    // target sector (appalti, europa, innovazione, personale) and hours delivered (two
    // sessions of 3 hours per edition): Treviso 5, 2 and 12 hours; Brescia 4 (3 credited)
    // and 6; Padova 1 and 6.
    let by_province = hub_json(&hub, "/v1/formazione/progress?group=province");
    assert_eq!(by_province["total"]["provinces"], 86);
    assert_eq!(by_province["total"]["publishing"], 3);
    let publishing: Vec<&str> = by_province["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["publishing"] == 1)
        .map(|i| i["key"].as_str().unwrap())
        .collect();
    assert_eq!(publishing, ["017", "026", "028"]);
    assert_eq!(
        province_line(&by_province, "026"),
        (vec![5, 2, 0, 0], "12.00".to_owned(), true)
    );
    assert_eq!(
        province_line(&by_province, "017"),
        (vec![0, 0, 4, 0], "6.00".to_owned(), true)
    );
    assert_eq!(
        province_line(&by_province, "028"),
        (vec![0, 0, 0, 1], "6.00".to_owned(), true)
    );
    let treviso_item = by_province["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["key"] == "026")
        .unwrap();
    // Treviso's targets are 5/3/3/4: 7 credited of 15.
    let targets: Vec<u64> = treviso_item["sectors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["target"].as_u64().unwrap())
        .collect();
    assert_eq!(targets, [5, 3, 3, 4]);
    assert_eq!(
        (&treviso_item["credited"], &treviso_item["target"]),
        (&json!(7), &json!(15))
    );
    // The whole programme: 12 trained, 11 credited (Brescia's fourth is a surplus) of
    // 15 × 86 = 1,290; enrolled 6 + 2 + 4 + 2 = 14, completed 5 + 2 + 4 + 1 = 12.
    let total = &by_province["total"];
    assert_eq!(
        (
            &total["people_trained"],
            &total["credited"],
            &total["target"],
            &total["target_share"]
        ),
        (&json!(12), &json!(11), &json!(1290), &json!("0.85"))
    );
    assert_eq!(
        (
            &total["enrolled"],
            &total["completed"],
            &total["hours_delivered"]
        ),
        (&json!(14), &json!(12), &json!("24.00"))
    );
    let by_sector = hub_json(&hub, "/v1/formazione/progress?group=sector");
    let sectors: Vec<(String, u64, u64, u64)> = by_sector["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["key"].as_str().unwrap().to_owned(),
                i["people_trained"].as_u64().unwrap(),
                i["credited"].as_u64().unwrap(),
                i["target"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        sectors,
        [
            ("appalti".to_owned(), 5, 5, 430),
            ("europa".to_owned(), 2, 2, 258),
            ("innovazione".to_owned(), 4, 3, 258),
            ("personale".to_owned(), 1, 1, 344),
        ]
    );
    let page = hub.get("/formazione").unwrap();
    assert_eq!(page.status, 200);

    // The national catalogue: the two open courses' editions, searchable across Provinces.
    let catalogue = hub_json(&hub, "/v1/formazione/courses");
    assert_eq!(catalogue["total"], 2, "{catalogue}");
    let listed: Vec<(&str, &str, &str, &str)> = catalogue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["province"].as_str().unwrap(),
                c["title"].as_str().unwrap(),
                c["first_day"].as_str().unwrap(),
                c["last_day"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            (
                "026",
                "Il nuovo codice dei contratti pubblici",
                "2026-03-10",
                "2026-03-17"
            ),
            (
                "017",
                "Dati aperti e interoperabilità",
                "2026-03-03",
                "2026-03-04"
            ),
        ]
    );
    let found = hub_json(&hub, "/v1/formazione/courses?q=subappalto");
    assert_eq!(found["total"], 1);
    assert_eq!(
        (
            &found["items"][0]["province_name"],
            &found["items"][0]["seats"]
        ),
        (&json!("Treviso"), &json!(30))
    );
    let digital = hub_json(&hub, "/v1/formazione/courses?sector=innovazione");
    assert_eq!(digital["items"][0]["syllabus_area"], "dati");
    let page = hub.get("/formazione/corsi?q=dati").unwrap();
    assert_eq!(page.status, 200);

    // Treviso closes its course to other Provinces: the catalogue follows.
    let closed = course(
        "Il nuovo codice dei contratti pubblici",
        "appalti",
        &json!({"tags": ["RUP", "subappalto"], "open_to_provinces": false}),
    );
    send(
        treviso,
        Some(&office),
        Method::PUT,
        &format!("/v1/formazione/courses/{}", appalti["id"]),
        &closed,
    );
    wait_until("the hub drops Treviso's closed course", PATIENCE, || {
        Ok(hub.get("/v1/formazione/courses")?.body["total"] == 1)
    })
    .unwrap();

    // The targets the hub signs reach the nodes; a change at the hub reaches a node at its
    // next pull (at start, then hourly: restarted here).
    wait_until("Padova keeps the hub's targets", PATIENCE, || {
        Ok(kept_targets(padova).is_some())
    })
    .unwrap();
    let (revision, kept) = kept_targets(padova).unwrap();
    assert_eq!(kept["sectors"][0]["people_per_province"], 5);
    let changed: Value = reqwest::blocking::Client::new()
        .put(format!("{hub_url}/v1/formazione/targets"))
        .bearer_auth(OPERATOR_TOKEN)
        .json(&json!({"sectors": [{"sector": "appalti", "people_per_province": 6}]}))
        .send()
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .unwrap();
    assert!(changed["signature"].is_string(), "{changed}");
    padova.start_again().unwrap();
    wait_until("Padova keeps the new targets", PATIENCE, || {
        Ok(kept_targets(padova).is_some_and(|(r, _)| r == revision + 1))
    })
    .unwrap();
    let (_, kept) = kept_targets(padova).unwrap();
    assert_eq!(kept["sectors"][0]["sector"], "appalti");
    assert_eq!(kept["sectors"][0]["people_per_province"], 6);
    let by_sector = hub_json(&hub, "/v1/formazione/progress?group=sector");
    assert_eq!(by_sector["items"][0]["target"], 6 * 86);

    // No personal data in anything a node signed: every entry of every outbox, byte by byte.
    let seeded: Vec<&str> = TREVISO_APPALTI
        .iter()
        .chain(&TREVISO_EUROPA)
        .chain(&BRESCIA_INNOVAZIONE)
        .chain(&PADOVA_PERSONALE)
        .flat_map(|(name, email)| {
            let mut parts = vec![*name, *email];
            parts.extend(name.split(' '));
            parts
        })
        .chain([
            "laura.conte",
            "Laura Conte",
            "comune.treviso",
            "Ufficio personale del Comune",
            "Roberto Marchi",
            "Carla Sala",
            "Ufficio formazione",
            "videoconferenza",
            "@",
        ])
        .collect();
    for node in [&*treviso, &*brescia, &*padova] {
        let entries = node.entry_count().unwrap();
        assert!(entries >= 2, "{}: {entries} entries", node.province());
        for seq in 1..=entries {
            let bytes = node.entry_bytes(seq).unwrap();
            // The body is embedded verbatim; the header (base64url) names the sender, the seq
            // and the body's hash. Whole names, e-mails and usernames are looked for in every
            // byte, their parts (short words) in the body, where base64 cannot make them up.
            let whole = String::from_utf8_lossy(&bytes).into_owned();
            let entry = SignedEntry::from_bytes(&bytes).unwrap();
            let body = String::from_utf8(entry.body_bytes().to_vec()).unwrap();
            assert!(
                body.contains("formazione_aggregati") || body.contains("formazione_corsi"),
                "{}: entry {seq} is not a Formazione dataset: {body}",
                node.province()
            );
            for personal in &seeded {
                assert!(
                    !body.contains(personal),
                    "{}: entry {seq} carries «{personal}»: {body}",
                    node.province()
                );
                if personal.len() > 8 {
                    assert!(
                        !whole.contains(personal),
                        "{}: entry {seq}",
                        node.province()
                    );
                }
            }
        }
    }
}
