//! `TestApp`: a node initialised in a temp dir, served on 127.0.0.1:0, with typed helpers.

use std::net::SocketAddr;
use std::path::PathBuf;

use pico_node::NodeConfig;
use pico_node::auth::{Role, Roles, secrets};
use pico_node::db;
use pico_service::Db;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use tokio::sync::oneshot;

pub struct TestApp {
    pub addr: SocketAddr,
    pub config: NodeConfig,
    pub dir: tempfile::TempDir,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

pub fn config_for(dir: PathBuf) -> NodeConfig {
    let mut config = NodeConfig {
        data_dir: dir,
        ..NodeConfig::default()
    };
    // Tests make many requests from one address.
    config.http.rate_limit_burst = 100_000;
    config.http.rate_limit_per_minute = 1_000_000;
    config
}

/// An initialised data directory for `province`.
pub fn init_dir(province: &str) -> (tempfile::TempDir, NodeConfig) {
    let dir = tempfile::tempdir().unwrap();
    let config = config_for(dir.path().join("data"));
    pico_node::cli::init(&config, province).unwrap();
    (dir, config)
}

/// Adds a user with a known password and returns an API token for it.
pub fn add_user(config: &NodeConfig, username: &str, role: &Role) -> String {
    add_user_with_roles(config, username, role)
}

/// Adds a user holding `roles` with a known password and returns an API token for it.
pub fn add_user_with_roles(config: &NodeConfig, username: &str, roles: impl Into<Roles>) -> String {
    let db = Db::open_existing(&config.db_path(), db::MIGRATIONS, 1).unwrap();
    let conn = db.get().unwrap();
    let hash = secrets::hash_password(&password_of(username)).unwrap();
    let id = db::people::insert_user(
        &conn,
        username,
        &format!("Utente {username}"),
        &hash,
        roles,
        db::now(),
    )
    .unwrap();
    let token = secrets::new_api_token();
    db::people::insert_token(
        &conn,
        &secrets::sha256_hex(&token),
        id,
        "test",
        db::now(),
        db::now() + 3600,
    )
    .unwrap();
    token
}

pub fn password_of(username: &str) -> String {
    format!("pw-{username}-123")
}

impl TestApp {
    pub async fn spawn(province: &str) -> TestApp {
        let (dir, config) = init_dir(province);
        TestApp::start(dir, config).await
    }

    pub async fn start(dir: tempfile::TempDir, config: NodeConfig) -> TestApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(pico_node::run(config.clone(), listener, async move {
            let _ = rx.await;
        }));
        TestApp {
            addr,
            config,
            dir,
            shutdown: Some(tx),
            handle: Some(handle),
        }
    }

    /// Stops the server gracefully and waits for it; returns the data dir for a restart.
    pub async fn stop(mut self) -> (tempfile::TempDir, NodeConfig) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(handle) = self.handle.take() {
            handle.await.unwrap().unwrap();
        }
        let TestApp { dir, config, .. } = self;
        (dir, config)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        let mut request = reqwest::Client::new().get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }

    pub async fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        let mut request = reqwest::Client::new().post(self.url(path)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }

    pub async fn post_raw(
        &self,
        path: &str,
        token: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Response {
        reqwest::Client::new()
            .post(self.url(path))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// Opens a request as `token` (a Comune user) and returns its id.
    pub async fn open_request(&self, token: &str, subject: &str) -> i64 {
        let response = self
            .post_json("/v1/helpdesk/requests", Some(token), &json!({"category": "technical", "subject": subject, "description": "Il PC non si accende."}))
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json::<Value>().await.unwrap()["id"]
            .as_i64()
            .unwrap()
    }
}

/// Asserts a problem+json response with `status` and returns its body.
pub async fn assert_problem(response: Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status, "unexpected status");
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], status.as_u16());
    body
}

/// A browser-like session: a cookie-keeping client signed in as `username` (created with
/// [`add_user`]) and the session's CSRF token for forms.
pub struct Session {
    pub client: reqwest::Client,
    pub csrf: String,
    /// The node's address, `http://127.0.0.1:port`, that paths are joined to.
    base: String,
}

impl Session {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Gets `path` as this user and returns the response.
    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// Gets `path` as this user and returns the page's text, whatever its status.
    pub async fn page(&self, path: &str) -> String {
        self.get(path).await.text().await.unwrap()
    }

    /// Gets `path` as this user and returns the status and the page's text.
    pub async fn get_page(&self, path: &str) -> (StatusCode, String) {
        let response = self.get(path).await;
        (response.status(), response.text().await.unwrap())
    }

    /// Posts `fields` to `path` as a form, with the session's CSRF token first.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        let mut form = vec![("csrf", self.csrf.as_str())];
        form.extend_from_slice(fields);
        self.client
            .post(self.url(path))
            .form(&form)
            .send()
            .await
            .unwrap()
    }

    /// Posts a page form as [`Session::post_form`] does and returns the status, the redirect
    /// target and the body.
    pub async fn submit(
        &self,
        path: &str,
        fields: &[(&str, &str)],
    ) -> (StatusCode, Option<String>, String) {
        let response = self.post_form(path, fields).await;
        let status = response.status();
        let location = response
            .headers()
            .get("location")
            .map(|value| value.to_str().unwrap().to_owned());
        (status, location, response.text().await.unwrap())
    }

    /// Posts a multipart `form` to `path` (the caller adds the CSRF token among its parts).
    pub async fn post_multipart(&self, path: &str, form: reqwest::multipart::Form) -> Response {
        self.client
            .post(self.url(path))
            .multipart(form)
            .send()
            .await
            .unwrap()
    }
}

/// The value of the first `name="csrf"` hidden input of a page.
pub fn form_csrf(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
    html[at..].split('"').next().unwrap().to_owned()
}

/// Signs in through the login form.
pub async fn login(app: &TestApp, username: &str) -> Session {
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
    let login_csrf = form_csrf(&page);
    let response = client
        .post(app.url("/login"))
        .form(&[
            ("csrf", login_csrf.as_str()),
            ("next", "/dashboard"),
            ("username", username),
            ("password", &password_of(username)),
        ])
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection(), "login of {username}");
    let dashboard = client
        .get(app.url("/dashboard"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    Session {
        csrf: form_csrf(&dashboard),
        client,
        base: app.url(""),
    }
}

impl TestApp {
    /// Sends `body` as JSON with `method` (PUT, PATCH, DELETE…).
    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Response {
        let mut request = reqwest::Client::new().request(method, self.url(path));
        if let Some(body) = body {
            request = request.json(body);
        }
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }
}

/// Headless Chromium driven through chromedriver (WebDriver). A missing Chromium or
/// ChromeDriver fails the test with the command that installs them: a browser test that is
/// skipped cannot fail.
pub struct Browser {
    pub client: fantoccini::Client,
    _driver: tokio::process::Child,
    _profile: tempfile::TempDir,
}

/// The axe-core release `cargo xtask test` installs for the accessibility checks.
pub const AXE_CORE_VERSION: &str = "4.10.3";

pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/bin/chromium";

impl Browser {
    pub async fn start() -> Browser {
        assert!(
            std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists(),
            "{CHROMEDRIVER} or {CHROMIUM} is not installed: run `cargo xtask test`, or \
             `sudo apt-get install chromium chromium-driver`"
        );
        // A free port for chromedriver: bind, read, release (chromedriver cannot take a socket).
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = tokio::process::Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let profile = tempfile::tempdir().unwrap();
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1280,2400",
                         format!("--user-data-dir={}", profile.path().display())]
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        // chromedriver needs a moment to listen: retry the session, bounded.
        for _ in 0..100 {
            if let Ok(client) = fantoccini::ClientBuilder::new(connector.clone())
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                return Browser {
                    client,
                    _driver: driver,
                    _profile: profile,
                };
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("chromedriver did not start");
    }

    /// Signs in through the login form and waits for the page after it.
    pub async fn login(&self, base: &str, username: &str) {
        use fantoccini::Locator;
        let client = &self.client;
        client.goto(&format!("{base}/login")).await.unwrap();
        client
            .find(Locator::Id("username"))
            .await
            .unwrap()
            .send_keys(username)
            .await
            .unwrap();
        client
            .find(Locator::Id("password"))
            .await
            .unwrap()
            .send_keys(&password_of(username))
            .await
            .unwrap();
        client
            .find(Locator::Css("form[action='/login'] button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        // The login page has an h1 too: wait for the navigation away from it first.
        for _ in 0..200 {
            if client.current_url().await.unwrap().path() != "/login" {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        client.wait().for_element(Locator::Css("h1")).await.unwrap();
    }

    /// Signs out (from wherever the page is scrolled) and waits for the login link.
    pub async fn logout(&self) {
        use fantoccini::Locator;
        let button = self
            .client
            .find(Locator::Css("form[action='/logout'] button"))
            .await
            .unwrap();
        // On a loaded machine the page may still be settling when the first click lands
        // (Chrome answers "click intercepted" at a point off the screen): scroll and try again.
        for attempt in 1.. {
            self.client
                .execute(
                    "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});",
                    vec![serde_json::to_value(&button).unwrap()],
                )
                .await
                .unwrap();
            match button.click().await {
                Ok(()) => break,
                Err(fantoccini::error::CmdError::Standard(e))
                    if e.error == fantoccini::error::ErrorStatus::ElementClickIntercepted
                        && attempt < 5 =>
                {
                    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                }
                Err(e) => panic!("sign-out button: {e}"),
            }
        }
        self.client
            .wait()
            .for_element(Locator::Css("a[href='/login']"))
            .await
            .unwrap();
    }
}

/// Types `text` into the field `id`, replacing what it held.
pub async fn type_into(client: &fantoccini::Client, id: &str, text: &str) {
    let field = client.find(fantoccini::Locator::Id(id)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

/// Chooses the option `value` of the select `id`.
pub async fn choose(client: &fantoccini::Client, id: &str, value: &str) {
    client
        .find(fantoccini::Locator::Id(id))
        .await
        .unwrap()
        .select_by_value(value)
        .await
        .unwrap();
}

/// Clicks `element` after scrolling it to the middle of the window (at once: the page's
/// smooth scrolling would still be moving when the click lands).
pub async fn scroll_and_click(client: &fantoccini::Client, element: fantoccini::elements::Element) {
    client
        .execute(
            "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});",
            vec![serde_json::to_value(&element).unwrap()],
        )
        .await
        .unwrap();
    element.click().await.unwrap();
}

/// Clicks the element `css` (scrolled to the middle at once) and waits until the page's text
/// contains `expected`.
pub async fn click_and_wait(client: &fantoccini::Client, css: &str, expected: &str) {
    let element = client.find(fantoccini::Locator::Css(css)).await.unwrap();
    scroll_and_click(client, element).await;
    for _ in 0..400 {
        let text = client.source().await.unwrap_or_default();
        if text.contains(expected) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!(
        "after clicking {css}, the page never showed {expected:?}:\n{}",
        client.source().await.unwrap_or_default()
    );
}

/// The axe-core violations of the page shown, one line each.
pub async fn axe_violations(client: &fantoccini::Client) -> Vec<String> {
    client
        .execute(&crate::crawl::axe_source(), vec![])
        .await
        .unwrap();
    serde_json::from_value(
        client
            .execute_async(crate::crawl::AXE_RUN, vec![])
            .await
            .unwrap(),
    )
    .unwrap()
}

/// A Python 3 with the independent readers the tests check our output with (icalendar,
/// rdflib, pySHACL, pypdf, cryptography): `PICO_PYTHON`, as `cargo xtask test` sets it, or
/// the virtual environment it installs under `target/`. Missing, the test fails: a check that
/// is skipped cannot fail.
pub fn python() -> PathBuf {
    let path = std::env::var_os("PICO_PYTHON").map_or_else(
        || {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../target/interop-venv/bin/python3")
        },
        PathBuf::from,
    );
    assert!(
        path.exists(),
        "Python with the test readers is missing at {}: run `cargo xtask test` (it installs \
         them in target/interop-venv), or set PICO_PYTHON",
        path.display()
    );
    path
}

/// Runs `script` with [`python()`] and `args`; returns its standard output, failing the test
/// with its standard error when it exits non-zero.
pub fn run_python(script: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(python())
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python starts");
    assert!(
        out.status.success(),
        "python failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout).expect("python prints UTF-8")
}
