//! Test fixtures: fixed keys, signed entries, and a hub served on port 0.

use std::path::PathBuf;

use pico_hub::config::HubConfig;
use pico_hub::state::AppState;
use pico_protocol::payload::{DatasetBatch, FieldValue, Payload, Row};
use pico_protocol::{EntryDraft, Hash32, ProvinceCode, SecretKey, Seq, SignedEntry, Timestamp};
use pico_service::Server;
use pico_service::config::Secret;
use serde_json::Value;

/// The operator token of test hubs.
pub const OPERATOR_TOKEN: &str = "test-operator-token";

/// The 32-byte seed of a named test key (as in the protocol's fixtures).
pub fn key(name: &str) -> SecretKey {
    SecretKey::from_seed(&Hash32::digest_of(&[b"pico test vector key ", name.as_bytes()]).0)
}

/// Province code from text.
pub fn province(code: &str) -> ProvinceCode {
    ProvinceCode::parse(code).unwrap()
}

/// Field names of the procurement-like test dataset.
pub const APPALTI_FIELDS: [&str; 8] = [
    "cig",
    "comune",
    "oggetto",
    "cpv",
    "importo_base",
    "data_pubblicazione",
    "pnrr",
    "n_offerte",
];

/// A procurement-like row, deterministic in `i`, in a Comune of `province`.
pub fn appalto(province: &str, i: u64) -> Row {
    let base = 40_000 + (i * 7_919) % 900_000;
    vec![
        format!("B{province}{i:07}").into(),
        format!("{province}{:03}", 1 + i % 5).into(),
        format!("Manutenzione straordinaria della viabilità comunale, lotto {i}").into(),
        ["45233140-2", "90910000-9", "79940000-5"][(i % 3) as usize].into(),
        format!("{base}.{:02}", i % 100).into(),
        format!("2025-{:02}-14", 1 + i % 12).into(),
        i.is_multiple_of(3).into(),
        FieldValue::Int((1 + i % 12) as i64),
    ]
}

/// A batch of `rows` procurement rows numbered from `first`.
pub fn appalti(province: &str, first: u64, rows: u64) -> Payload {
    Payload::DatasetBatch(DatasetBatch {
        dataset: "appalti".into(),
        schema_version: 1,
        fields: APPALTI_FIELDS.iter().map(|f| (*f).to_owned()).collect(),
        primary_key: vec!["cig".into()],
        snapshot: None,
        upserts: (first..first + rows)
            .map(|i| appalto(province, i))
            .collect(),
        deletes: vec![],
    })
}

/// A node's log as the node keeps it: the next seq and the hash to chain on.
#[derive(Debug)]
pub struct NodeLog {
    /// The node's Province.
    pub province: ProvinceCode,
    /// Its current signing key.
    pub key: SecretKey,
    /// Seq of its last entry.
    pub seq: u64,
    /// Hash of its last entry.
    pub prev: Hash32,
}

impl NodeLog {
    /// A fresh log for `code`, signing with the named test key.
    pub fn new(code: &str, key_name: &str) -> NodeLog {
        NodeLog {
            province: province(code),
            key: key(key_name),
            seq: 0,
            prev: Hash32::ZERO,
        }
    }

    /// Signs the next entry without advancing (for forks and retries).
    pub fn peek(&self, payload: &Payload) -> SignedEntry {
        EntryDraft {
            sender: self.province,
            seq: Seq::new(self.seq + 1).unwrap(),
            prev: self.prev,
            iat: Timestamp::now(),
            payload,
        }
        .sign(&self.key)
        .unwrap()
    }

    /// Signs the next entry and advances the log.
    pub fn next(&mut self, payload: &Payload) -> SignedEntry {
        let entry = self.peek(payload);
        self.seq += 1;
        self.prev = entry.entry_hash();
        entry
    }
}

/// The push body for `entries`, each embedded exactly as signed (never through a `Value`,
/// which would normalise the bodies).
pub fn push_body(entries: &[&SignedEntry]) -> Vec<u8> {
    let mut body = b"{\"entries\":[".to_vec();
    for (i, entry) in entries.iter().enumerate() {
        if i > 0 {
            body.push(b',');
        }
        body.extend_from_slice(&entry.to_bytes());
    }
    body.extend_from_slice(b"]}");
    body
}

/// A hub served on port 0 over a temporary data directory.
#[derive(Debug)]
pub struct TestApp {
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub url: String,
    /// The hub's state (for direct database checks).
    pub state: AppState,
    /// HTTP client.
    pub http: reqwest::Client,
    _dir: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

/// Initialises a data directory (database, key, registry) as `pico-hub init` does.
pub fn init_data_dir(config: &HubConfig) {
    pico_hub::cli::execute(&pico_hub::cli::Command::Init, config).unwrap();
}

/// The config of test hubs: fast checkpoints, an operator token, loose public limits.
pub fn test_config(data_dir: PathBuf) -> HubConfig {
    let mut config = HubConfig {
        data_dir,
        listen: "127.0.0.1:0".into(),
        checkpoint_interval_ms: 50,
        operator_token: Secret::new(OPERATOR_TOKEN),
        ..HubConfig::default()
    };
    config.http.rate_limit_burst = 100_000;
    config.http.rate_limit_per_minute = 1_000_000;
    config.quota.push_burst = 100_000;
    config.quota.pushes_per_minute = 1_000_000;
    config
}

impl TestApp {
    /// A hub with the default test config.
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(|_| {}).await
    }

    /// A hub whose test config is adjusted by `adjust`.
    pub async fn spawn_with(adjust: impl FnOnce(&mut HubConfig)) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let mut config = test_config(dir.path().to_owned());
        adjust(&mut config);
        init_data_dir(&config);
        let state = pico_hub::open(&config).unwrap();
        let server = Server::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", server.local_addr());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(pico_hub::serve(state.clone(), server, async {
            let _ = stopped.await;
        }));
        TestApp {
            url,
            state,
            http: reqwest::Client::new(),
            _dir: dir,
            _stop: stop,
        }
    }

    /// Enrols a node's current key directly in the database.
    pub fn enrol(&self, node: &NodeLog) {
        let conn = self.state.db.get().unwrap();
        pico_hub::db::keys::enrol(&conn, node.province, &node.key.public_key()).unwrap();
    }

    /// A node log for `code` whose key is enrolled.
    pub fn enrolled(&self, code: &str, key_name: &str) -> NodeLog {
        let node = NodeLog::new(code, key_name);
        self.enrol(&node);
        node
    }

    /// Pushes one entry that the hub must accept.
    pub async fn push_ok(&self, entry: &SignedEntry) {
        let (status, body) = self.push(&[entry]).await;
        assert_eq!(status, 200, "{body}");
    }

    /// Pushes entries; returns status and JSON body.
    pub async fn push(&self, entries: &[&SignedEntry]) -> (u16, Value) {
        self.post_raw(push_body(entries)).await
    }

    /// Posts raw bytes to the push endpoint.
    pub async fn post_raw(&self, body: Vec<u8>) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}/v1/federation/entries", self.url))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// GETs a JSON document.
    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.url))
            .header("authorization", format!("Bearer {OPERATOR_TOKEN}"))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// GETs `path` without credentials, as a visitor does.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap()
    }

    /// The hub's OpenAPI document, as it serves it.
    pub async fn openapi(&self) -> Value {
        let (status, doc) = self.get_json("/v1/openapi.json").await;
        assert_eq!(status, 200);
        doc
    }

    /// GETs a text document.
    pub async fn get_text(&self, path: &str) -> (u16, String) {
        let response = self.get(path).await;
        (response.status().as_u16(), response.text().await.unwrap())
    }

    /// GETs a CSV download, checking it is one: 200 and `text/csv; charset=utf-8`.
    pub async fn get_csv(&self, path: &str) -> reqwest::Response {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "text/csv; charset=utf-8",
            "{path}"
        );
        response
    }

    /// The head of a Province's log as the hub serves it.
    pub async fn head(&self, code: &str) -> (u64, String) {
        let (_, head) = self
            .get_json(&format!("/v1/federation/nodes/{code}/head"))
            .await;
        (
            head["seq"].as_u64().unwrap(),
            head["hash"].as_str().unwrap().to_owned(),
        )
    }

    /// Counts rows of a table (direct database check).
    pub fn count(&self, table: &str) -> i64 {
        let conn = self.state.db.get().unwrap();
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    }

    /// Rows, leaves, nodes, entries and receipts: what must not change on a refused push.
    pub fn footprint(&self) -> [i64; 5] {
        [
            self.count("entries"),
            self.count("log_leaves"),
            self.count("merkle_nodes"),
            self.count("dataset_rows"),
            self.count("equivocations"),
        ]
    }

    /// Waits until the latest checkpoint covers at least `size` leaves.
    pub async fn await_checkpoint(&self, size: u64) -> Value {
        for _ in 0..400 {
            let (status, all) = self.get_json("/v1/log/checkpoints").await;
            if status == 200
                && let Some(last) = all.as_array().and_then(|a| a.last())
                && last["size"].as_u64().unwrap() >= size
            {
                return last.clone();
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("no checkpoint of size {size}");
    }
}

/// A chromedriver on a free port, in its own process group so that dropping it (also when an
/// assertion fails before the session is closed) stops the browser it started too.
#[derive(Debug)]
struct Driver {
    child: std::process::Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = std::process::Command::new("kill")
            .args(["-KILL", "--", &group])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Headless Chromium driven through chromedriver (Debian's `chromium` and
/// `chromium-driver`). Missing either, the test fails and says how to install them.
#[derive(Debug)]
pub struct Browser {
    /// The WebDriver session.
    pub client: fantoccini::Client,
    _driver: Driver,
}

impl Browser {
    /// Starts a browser whose window is `width` px wide.
    pub async fn start(width: u32) -> Browser {
        for binary in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
            assert!(
                std::path::Path::new(binary).exists(),
                "{binary} is missing: install it with `apt-get install chromium chromium-driver`"
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Driver {
            child: std::os::unix::process::CommandExt::process_group(
                std::process::Command::new("/usr/bin/chromedriver").arg(format!("--port={port}")),
                0,
            )
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
            url: format!("http://127.0.0.1:{port}"),
        };
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                         "--disable-crash-reporter", "--disable-breakpad",
                         format!("--window-size={width},2000")]
            }),
        );
        for _ in 0..100 {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match fantoccini::ClientBuilder::new(connector)
                .capabilities(capabilities.clone())
                .connect(&driver.url)
                .await
            {
                Ok(client) => {
                    return Browser {
                        client,
                        _driver: driver,
                    };
                }
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
            }
        }
        panic!("chromedriver does not answer on {}", driver.url);
    }

    /// Ends the session (the driver stops when dropped).
    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}

/// The names of an OpenAPI operation's parameters, in their order.
pub fn parameter_names(operation: &Value) -> Vec<&str> {
    operation["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect()
}

/// The media types an OpenAPI response (an entry of `responses`) offers, in their order.
pub fn media_types(response: &Value) -> Vec<&String> {
    response["content"].as_object().unwrap().keys().collect()
}
