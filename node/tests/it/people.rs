//! People with several roles, the migration that gave them, and the administrator's people
//! pages, through real HTTP on a real node.

use pico_node::auth::{Module, Role, Roles};
use pico_node::db;
use pico_protocol::ComuneCode;
use pico_service::Db;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, add_user, add_user_with_roles, form_csrf, login, password_of};

const PEOPLE: &str = "/amministrazione/persone";
const AUDIT: &str = "/amministrazione/registro";

/// Adds a user holding `roles` with a known password; returns an API token for it.
fn add_person(app: &TestApp, username: &str, roles: &[Role]) -> String {
    let roles = Roles::from_roles(roles.iter().cloned()).unwrap();
    add_user_with_roles(&app.config, username, roles)
}

fn user_id(app: &TestApp, username: &str) -> i64 {
    let db = Db::open_existing(&app.config.db_path(), db::MIGRATIONS, 1).unwrap();
    db::people::user_by_name(&db.get().unwrap(), username)
        .unwrap()
        .unwrap()
        .id
}

async fn me(app: &TestApp, token: &str) -> Value {
    let response = app.get("/v1/me", Some(token)).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// The one-time password a page shows.
fn shown_password(html: &str) -> String {
    let start = html.find("<code class=\"fs-5\">").unwrap() + "<code class=\"fs-5\">".len();
    html[start..].split('<').next().unwrap().to_owned()
}

async fn login_status(app: &TestApp, username: &str, password: &str) -> (StatusCode, String) {
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = client
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let response = client
        .post(app.url("/login"))
        .form(&[
            ("csrf", form_csrf(&page).as_str()),
            ("next", "/dashboard"),
            ("username", username),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    let target = response
        .headers()
        .get("location")
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (response.status(), target)
}

#[tokio::test]
async fn an_operator_of_two_modules_sees_and_uses_both_and_nothing_else() {
    let app = TestApp::spawn("026").await;
    let cfg = &app.config;
    let tv = add_user(
        cfg,
        "tv",
        &Role::Comune(ComuneCode::parse("026086").unwrap()),
    );
    let both = add_person(
        &app,
        "doppio",
        &[
            Role::Operator(Module::Helpdesk),
            Role::Operator(Module::Sua),
        ],
    );
    let sua_only = add_user(cfg, "solo.sua", &Role::Operator(Module::Sua));

    let me = me(&app, &both).await;
    assert_eq!(me["roles"], json!(["operator:sua", "operator:helpdesk"]));
    assert_eq!(me["role"], "operator:sua");

    // Reads of both modules; nothing of the administrator's, the Dati or Community modules.
    for (path, expected, single) in [
        ("/v1/helpdesk/requests", 200, 403),
        ("/v1/sua/procedures", 200, 200),
        ("/v1/sua/reports", 200, 200),
        ("/v1/federation/status", 403, 403),
        ("/v1/networks/quarantine", 403, 403),
    ] {
        assert_eq!(
            app.get(path, Some(&both)).await.status().as_u16(),
            expected,
            "GET {path} as an operator of Help Desk and SUA"
        );
        assert_eq!(
            app.get(path, Some(&sua_only)).await.status().as_u16(),
            single,
            "GET {path} as an operator of SUA only"
        );
    }
    // Writes of both modules.
    let request = app.open_request(&tv, "Stampante guasta").await;
    let moved = app
        .post_json(
            &format!("/v1/helpdesk/requests/{request}/transitions"),
            Some(&both),
            &json!({"status": "in_progress"}),
        )
        .await;
    assert_eq!(moved.status(), StatusCode::OK);
    let refused = app
        .post_json(
            &format!("/v1/helpdesk/requests/{request}/transitions"),
            Some(&sua_only),
            &json!({"status": "resolved"}),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let convention = app
        .post_json(
            "/v1/sua/conventions",
            Some(&both),
            &json!({"comune_code": "026086", "scope": "all", "valid_from": "2024-01-01",
                    "document_ref": "Delibera C.C. n. 12 del 15/01/2024"}),
        )
        .await;
    assert_eq!(convention.status(), StatusCode::CREATED);
    let dataset = app
        .send_json(
            reqwest::Method::PUT,
            "/v1/datasets/bes/federation",
            Some(&both),
            Some(&json!({"federation": "off"})),
        )
        .await;
    assert_eq!(dataset.status(), StatusCode::FORBIDDEN);
    let practice = app
        .post_json(
            "/v1/practices",
            Some(&both),
            &json!({"title": "Prova", "summary": "Prova", "module": "sua"}),
        )
        .await;
    assert_eq!(practice.status(), StatusCode::FORBIDDEN);

    // The pages: both modules in the navigation and on the dashboard, no people pages.
    let session = login(&app, "doppio").await;
    let (status, dashboard) = session.get_page("/dashboard").await;
    assert_eq!(status, StatusCode::OK);
    assert!(dashboard.contains("Operatore della Stazione Unica Appaltante, Operatore Help Desk"));
    assert!(dashboard.contains("href=\"/helpdesk\""), "{dashboard}");
    assert!(dashboard.contains("href=\"/sua\""), "{dashboard}");
    assert!(!dashboard.contains(PEOPLE));
    assert_eq!(session.get_page("/helpdesk").await.0, StatusCode::OK);
    assert_eq!(session.get_page("/sua").await.0, StatusCode::OK);
    let (status, forbidden) = session.get_page(PEOPLE).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(forbidden.contains("403"), "the error page: {forbidden}");
    assert_eq!(session.get_page(AUDIT).await.0, StatusCode::FORBIDDEN);
    app.stop().await;
}

#[tokio::test]
async fn an_administrator_who_works_the_help_desk_holds_both_roles() {
    let app = TestApp::spawn("026").await;
    let both = add_person(
        &app,
        "capo",
        &[Role::Admin, Role::Operator(Module::Helpdesk)],
    );
    let me = me(&app, &both).await;
    assert_eq!(me["roles"], json!(["admin", "operator:helpdesk"]));
    assert_eq!(
        app.get("/v1/federation/status", Some(&both)).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get("/v1/helpdesk/requests", Some(&both)).await.status(),
        StatusCode::OK
    );
    let session = login(&app, "capo").await;
    let (_, dashboard) = session.get_page("/dashboard").await;
    assert!(dashboard.contains("Amministratore della Provincia, Operatore Help Desk"));
    assert!(dashboard.contains(PEOPLE) && dashboard.contains(AUDIT));
    // Among the Help Desk's assignees once, though holding two roles that qualify.
    let db = Db::open_existing(&app.config.db_path(), db::MIGRATIONS, 1).unwrap();
    let staff = db::people::helpdesk_staff(&db.get().unwrap()).unwrap();
    assert_eq!(
        staff.iter().filter(|user| user.username == "capo").count(),
        1
    );
    app.stop().await;
}

/// A database made by the schema before several roles (steps 1–8), with a user of each
/// kind, sessions, tokens and records pointing at them, keeps every right after migrating.
#[test]
fn the_migration_keeps_every_user_with_exactly_their_rights() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("node.db");
    {
        let old = Db::open(&path, &db::MIGRATIONS[..8], 1).unwrap();
        let conn = old.get().unwrap();
        conn.execute_batch(
            "INSERT INTO comuni (code, name, name_it, name_other, cadastral_code, capoluogo)
                 VALUES ('026086', 'Treviso', 'Treviso', '', 'L407', 1);
             INSERT INTO users (id, username, display_name, password_hash, role, module,
                     comune_code, disabled, created_at, must_change_password) VALUES
                 (1, 'admin', 'Amministratore', 'h1', 'admin', NULL, NULL, 0, 100, 1),
                 (2, 'gare', 'Operatore SUA', 'h2', 'operator', 'sua', NULL, 0, 101, 0),
                 (3, 'hd', 'Operatore HD', 'h3', 'operator', 'helpdesk', NULL, 1, 102, 0),
                 (4, 'tv', 'Comune di Treviso', 'h4', 'comune', NULL, '026086', 0, 103, 0);
             INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at)
                 VALUES ('s4', 4, 'c4', 100, 9999999999);
             INSERT INTO api_tokens (token_hash, user_id, name, created_at, expires_at)
                 VALUES ('t2', 2, 'script', 100, 9999999999),
                        ('t3', 3, 'script', 100, 9999999999);
             INSERT INTO helpdesk_requests (id, comune_code, category, subject, description,
                     status, assignee_id, opened_by, created_at, updated_at)
                 VALUES (1, '026086', 'other', 'S', 'D', 'new', 3, 4, 100, 100);",
        )
        .unwrap();
    }
    let db = Db::open(&path, db::MIGRATIONS, 1).unwrap();
    let conn = db.get().unwrap();
    let user = |name: &str| db::people::user_by_name(&conn, name).unwrap().unwrap();
    assert_eq!(user("admin").roles, Roles::admin());
    assert!(user("admin").must_change_password);
    assert_eq!(user("gare").roles, Roles::from(Role::Operator(Module::Sua)));
    assert_eq!(
        user("hd").roles,
        Roles::from(Role::Operator(Module::Helpdesk))
    );
    assert_eq!(
        user("tv").roles,
        Roles::from(Role::Comune(ComuneCode::parse("026086").unwrap()))
    );
    for (name, id) in [("admin", 1), ("gare", 2), ("hd", 3), ("tv", 4)] {
        assert_eq!(user(name).id, id, "{name} keeps its id");
    }
    // Passwords, sessions and tokens still lead to the same people; a disabled one stays so.
    let (hash, _): (String, i64) = conn
        .query_row(
            "SELECT password_hash, disabled FROM users WHERE id = 2",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    assert_eq!(hash, "h2");
    let (session_user, csrf) = db::people::session_user(&conn, "s4", 200).unwrap().unwrap();
    assert_eq!(
        (session_user.username.as_str(), csrf.as_str()),
        ("tv", "c4")
    );
    assert_eq!(
        db::people::token_user(&conn, "t2", 200)
            .unwrap()
            .unwrap()
            .username,
        "gare"
    );
    assert!(db::people::token_user(&conn, "t3", 200).unwrap().is_none());
    assert_eq!(db::people::active_admins(&conn).unwrap(), 1);
    let violations: i64 = conn
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |row| {
            row.get(0)
        })
        .unwrap();
    assert_eq!(violations, 0);
    // The references of other tables follow the rebuilt table: deleting a user still
    // cascades to its sessions, and a Comune user is refused a Province role.
    let assignee: i64 = conn
        .query_row(
            "SELECT u.id FROM helpdesk_requests r JOIN users u ON u.id = r.assignee_id",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(assignee, 3);
    let refused = conn.execute(
        "INSERT INTO user_roles (user_id, role, module) VALUES (4, 'admin', '')",
        [],
    );
    assert!(
        refused.is_err(),
        "a Comune user cannot also be Province staff"
    );
}

#[tokio::test]
async fn the_administrator_manages_people_from_the_pages() {
    let app = TestApp::spawn("026").await;
    add_user(&app.config, "boss", &Role::Admin);
    let admin = login(&app, "boss").await;

    // The list and the navigation entry.
    let (status, list) = admin.get_page(PEOPLE).await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains("Aggiungi una persona"));
    assert!(list.contains(&format!("href=\"{PEOPLE}\"")), "nav entry");

    // Refused forms come back with the messages beside the fields.
    let (status, _, refused) = admin
        .submit(
            &format!("{PEOPLE}/nuova"),
            &[("display_name", ""), ("username", "boss"), ("comune", "")],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.contains("Indicare il nome e cognome."));
    assert!(refused.contains("Questo nome utente è già in uso"));
    assert!(refused.contains("Scegliere almeno un ruolo della Provincia oppure un Comune."));
    assert!(refused.contains("id=\"display_name-error\""));
    let (status, _, refused) = admin
        .submit(
            &format!("{PEOPLE}/nuova"),
            &[
                ("display_name", "Anna Verdi"),
                ("username", "anna.verdi"),
                ("ruolo", "admin"),
                ("comune", "026086"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.contains("Un utente di un Comune non può avere anche ruoli della Provincia"));

    // Adding: the one-time password is shown once and must be changed at the first login.
    let (status, _, added) = admin
        .submit(
            &format!("{PEOPLE}/nuova"),
            &[
                ("display_name", "Mario Rossi"),
                ("username", "mario.rossi@provincia.treviso.it"),
                ("ruolo", "sua"),
                ("ruolo", "helpdesk"),
                ("comune", ""),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(added.contains("Persona aggiunta"));
    let password = shown_password(&added);
    let mario = user_id(&app, "mario.rossi@provincia.treviso.it");
    assert_eq!(
        login_status(&app, "mario.rossi@provincia.treviso.it", &password).await,
        (StatusCode::SEE_OTHER, "/account/password".to_owned())
    );
    let (_, person) = admin.get_page(&format!("{PEOPLE}/{mario}")).await;
    assert!(person.contains("Operatore Stazione Unica Appaltante, Operatore Help Desk"));
    assert!(
        !person.contains(&password),
        "the password is shown only once"
    );

    // Filters and search.
    let boss = user_id(&app, "boss");
    for (query, mario_listed, boss_listed) in [
        ("?ruolo=operator&modulo=helpdesk", true, false),
        ("?ruolo=admin", false, true),
        ("?q=rossi", true, false),
        ("?stato=disattivati", false, false),
        ("?comune=026086", false, false),
    ] {
        let (status, list) = admin.get_page(&format!("{PEOPLE}{query}")).await;
        assert_eq!(status, StatusCode::OK, "{query}");
        let listed = |id: i64| list.contains(&format!("href=\"{PEOPLE}/{id}\""));
        assert_eq!(listed(mario), mario_listed, "{query}");
        assert_eq!(listed(boss), boss_listed, "{query}");
    }

    // Changing roles, with the confirmation on the page it leads to.
    let (status, location, _) = admin
        .submit(
            &format!("{PEOPLE}/{mario}/ruoli"),
            &[("ruolo", "helpdesk"), ("ruolo", "dati")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        location.as_deref(),
        Some(format!("{PEOPLE}/{mario}").as_str())
    );
    let (_, person) = admin.get_page(&format!("{PEOPLE}/{mario}")).await;
    assert!(person.contains("Ruoli salvati: Operatore Help Desk, Operatore Dati e indicatori."));
    let (status, _, none) = admin.submit(&format!("{PEOPLE}/{mario}/ruoli"), &[]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(none.contains("Scegliere almeno un ruolo"));

    // Disabling stops the person's token and session at once; enabling lets them back.
    let token = add_person(&app, "luca", &[Role::Operator(Module::Helpdesk)]);
    let luca = user_id(&app, "luca");
    let luca_session = login(&app, "luca").await;
    assert_eq!(luca_session.get_page("/dashboard").await.0, StatusCode::OK);
    let (status, _, _) = admin
        .submit(&format!("{PEOPLE}/{luca}/disattiva"), &[])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.get("/v1/me", Some(&token)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let after = luca_session.get("/dashboard").await;
    assert_eq!(after.status(), StatusCode::SEE_OTHER, "back to the login");
    assert_eq!(
        login_status(&app, "luca", &password_of("luca")).await.0,
        StatusCode::UNAUTHORIZED
    );
    let (_, person) = admin.get_page(&format!("{PEOPLE}/{luca}")).await;
    assert!(person.contains("disattivato: le sue sessioni sono chiuse"));
    let (status, list) = admin.get_page(&format!("{PEOPLE}?stato=disattivati")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.contains(&format!("href=\"{PEOPLE}/{luca}\"")));
    assert!(!list.contains(&format!("href=\"{PEOPLE}/{mario}\"")));
    admin
        .submit(&format!("{PEOPLE}/{luca}/riattiva"), &[])
        .await;
    let (_, person) = admin.get_page(&format!("{PEOPLE}/{luca}")).await;
    assert!(person.contains("Account di Utente luca riattivato."));
    assert_eq!(
        login_status(&app, "luca", &password_of("luca")).await.0,
        StatusCode::SEE_OTHER
    );

    // Revoking tokens.
    let token = add_person(&app, "script", &[Role::Operator(Module::Dati)]);
    let script = user_id(&app, "script");
    assert_eq!(
        app.get("/v1/me", Some(&token)).await.status(),
        StatusCode::OK
    );
    admin.submit(&format!("{PEOPLE}/{script}/token"), &[]).await;
    assert_eq!(
        app.get("/v1/me", Some(&token)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let (_, person) = admin.get_page(&format!("{PEOPLE}/{script}")).await;
    assert!(person.contains("Revocato 1 token API."));

    // A new one-time password: the old one stops working.
    let (status, _, reset) = admin
        .submit(&format!("{PEOPLE}/{luca}/password"), &[])
        .await;
    assert_eq!(status, StatusCode::OK);
    let fresh = shown_password(&reset);
    assert_eq!(
        login_status(&app, "luca", &password_of("luca")).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login_status(&app, "luca", &fresh).await,
        (StatusCode::SEE_OTHER, "/account/password".to_owned())
    );

    // Forms without the session's CSRF token are refused.
    let forged = admin
        .client
        .post(app.url(&format!("{PEOPLE}/{luca}/disattiva")))
        .form(&[("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);

    // Every action is in the audit log, which the administrator filters.
    let (status, log) = admin.get_page(&format!("{AUDIT}?chi=boss")).await;
    assert_eq!(status, StatusCode::OK);
    for label in [
        "Persona aggiunta",
        "Ruoli cambiati",
        "Account disattivato",
        "Account riattivato",
        "Token API revocati",
        "Nuova password provvisoria",
    ] {
        assert!(log.contains(label), "{label} in the log");
    }
    let (_, only) = admin
        .get_page(&format!("{AUDIT}?azione=user.disable"))
        .await;
    assert!(only.contains("Account disattivato") && !only.contains("<td>Persona aggiunta"));
    let today = pico_service::format::unix_date(db::now());
    let (status, dated) = admin
        .get_page(&format!(
            "{AUDIT}?chi=boss&dal={today}&al={today}&azione=user.roles"
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(dated.contains("ruoli: Operatore Help Desk, Operatore Dati e indicatori"));
    let (status, _) = admin
        .get_page(&format!("{AUDIT}?al=01/01/2000&azione=user.roles"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, empty) = admin.get_page(&format!("{AUDIT}?al=01/01/2000")).await;
    assert!(empty.contains("0 attività trovate."));
    let (status, wrong) = admin.get_page(&format!("{AUDIT}?dal=31/02/2026")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.contains("Scrivere la data come gg/mm/aaaa"));
    assert!(wrong.contains("id=\"dal-error\""));

    // Pagination: 50 events a page.
    for _ in 0..50 {
        admin.submit(&format!("{PEOPLE}/{script}/token"), &[]).await;
    }
    let (_, first) = admin
        .get_page(&format!("{AUDIT}?azione=user.revoke_tokens"))
        .await;
    assert!(first.contains("51 attività trovate."));
    assert!(first.contains("Pagina 1 di 2"));
    let next = format!("{AUDIT}?azione=user.revoke_tokens&amp;pagina=2");
    assert!(first.contains(&next), "{first}");
    let (_, second) = admin
        .get_page(&format!("{AUDIT}?azione=user.revoke_tokens&pagina=2"))
        .await;
    assert_eq!(second.matches("<td>Token API revocati</td>").count(), 1);
    app.stop().await;
}

#[tokio::test]
async fn the_node_keeps_an_administrator() {
    let app = TestApp::spawn("026").await;
    add_user(&app.config, "boss", &Role::Admin);
    let admin = login(&app, "boss").await;
    let boss = user_id(&app, "boss");

    // The administrator `init` made is disabled: boss is the only enabled one.
    let first = user_id(&app, "admin");
    let (status, _, _) = admin
        .submit(&format!("{PEOPLE}/{first}/disattiva"), &[])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    // The only administrator cannot drop the role, nor disable or reset themselves.
    let (status, _, page_text) = admin
        .submit(&format!("{PEOPLE}/{boss}/ruoli"), &[("ruolo", "helpdesk")])
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        page_text.contains("È l'unico amministratore attivo del nodo"),
        "{page_text}"
    );
    let (status, _, page_text) = admin
        .submit(&format!("{PEOPLE}/{boss}/disattiva"), &[])
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page_text.contains("Non potete disattivare il vostro stesso account"));
    let (status, _, _) = admin
        .submit(&format!("{PEOPLE}/{boss}/password"), &[])
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        app.get(
            "/v1/me",
            Some(&add_user(&app.config, "x", &Role::Operator(Module::Sua)))
        )
        .await
        .status(),
        StatusCode::OK
    );
    let db = Db::open_existing(&app.config.db_path(), db::MIGRATIONS, 1).unwrap();
    let still = db::people::user_by_name(&db.get().unwrap(), "boss")
        .unwrap()
        .unwrap();
    assert!(still.roles.is_admin());

    // With a second administrator, dropping one's own role is allowed; the second one
    // cannot then be made to drop theirs.
    add_user(&app.config, "vice", &Role::Admin);
    let vice = user_id(&app, "vice");
    let (status, _, _) = admin
        .submit(
            &format!("{PEOPLE}/{boss}/ruoli"),
            &[("ruolo", "admin"), ("ruolo", "helpdesk")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = admin
        .submit(&format!("{PEOPLE}/{vice}/ruoli"), &[("ruolo", "sua")])
        .await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "boss is still an administrator"
    );
    let (status, _, _) = admin
        .submit(&format!("{PEOPLE}/{boss}/ruoli"), &[("ruolo", "helpdesk")])
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "now boss is the last one");
    app.stop().await;
}

#[test]
fn the_command_line_gives_several_roles_and_keeps_the_single_role_form() {
    let (_dir, config) = crate::helpers::init_dir("026");
    // The real binary, so that its logging stays out of this test process.
    let run = |args: &[&str]| -> Result<(), String> {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_pico-node"))
            .arg("--data-dir")
            .arg(&config.data_dir)
            .args(args)
            .output()
            .unwrap();
        if output.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).into_owned())
        }
    };
    let add = |user: &str, roles: &[&str]| {
        let mut args = vec!["user", "add", user, "--name", user];
        args.extend_from_slice(roles);
        run(&args)
    };
    add(
        "mario",
        &[
            "--role", "operator", "--module", "sua", "--module", "helpdesk",
        ],
    )
    .unwrap();
    add(
        "capo",
        &[
            "--role", "admin", "--role", "operator", "--module", "helpdesk",
        ],
    )
    .unwrap();
    // The demo's invocations (`cargo xtask run`).
    add("helpdesk", &["--role", "operator", "--module", "helpdesk"]).unwrap();
    add("comune", &["--role", "comune", "--comune", "026086"]).unwrap();
    let refused = add(
        "x",
        &["--role", "comune", "--comune", "026086", "--role", "admin"],
    );
    assert!(
        refused
            .unwrap_err()
            .contains("un utente di un Comune non può avere ruoli della Provincia")
    );
    assert!(
        add("y", &["--role", "operator"]).is_err(),
        "an operator of nothing"
    );
    assert!(
        add("z", &["--role", "admin", "--module", "sua"]).is_err(),
        "a module without operator"
    );
    run(&[
        "user",
        "set-roles",
        "mario",
        "--role",
        "operator",
        "--module",
        "dati",
    ])
    .unwrap();
    assert!(run(&["user", "set-roles", "comune", "--role", "admin"]).is_err());

    let db = Db::open_existing(&config.db_path(), db::MIGRATIONS, 1).unwrap();
    let conn = db.get().unwrap();
    let roles = |name: &str| {
        db::people::user_by_name(&conn, name)
            .unwrap()
            .unwrap()
            .roles
            .to_string()
    };
    assert_eq!(roles("mario"), "operator:dati");
    assert_eq!(roles("capo"), "admin,operator:helpdesk");
    assert_eq!(roles("helpdesk"), "operator:helpdesk");
    assert_eq!(roles("comune"), "comune:026086");
    assert!(db::people::user_by_name(&conn, "x").unwrap().is_none());
}
