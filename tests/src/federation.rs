//! A hub and Province nodes as real processes, each with its own data directory, and the
//! probes the fault tests read the end state with: the hub's HTTP API and its database
//! (read-only), the node's status API and its database (read-only).
//!
//! Everything here blocks; a test that needs the async [`crate::proxy::FaultProxy`] runs it
//! on a runtime of its own.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use rusqlite::{Connection, OpenFlags};
use serde_json::Value;

use crate::process::{Service, binary, free_address, run};

/// The operator token of every test hub.
pub const OPERATOR_TOKEN: &str = "system-test-operator-token-0123456789";

/// How long a test waits for a condition before failing.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// A temporary directory for one whole-system test's data directories, named `pico-system-…`
/// so that a leftover one is recognised.
pub fn system_root() -> std::io::Result<tempfile::TempDir> {
    tempfile::Builder::new().prefix("pico-system-").tempdir()
}

/// Polls `condition` every 20 ms until it is true, or fails after `limit` naming `what`
/// (with the last error the condition returned, if any).
pub fn wait_until(
    what: &str,
    limit: Duration,
    mut condition: impl FnMut() -> Result<bool>,
) -> Result<()> {
    let deadline = Instant::now() + limit;
    let mut last_error = None;
    loop {
        match condition() {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(error) => last_error = Some(error),
        }
        if Instant::now() >= deadline {
            bail!("timed out after {limit:?} waiting until {what} (last error: {last_error:?})");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn http() -> Result<reqwest::blocking::Client> {
    Ok(reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?)
}

fn open_read_only(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("open {} read-only", path.display()))?;
    conn.busy_timeout(Duration::from_secs(10))?;
    Ok(conn)
}

fn count(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> Result<u64> {
    let n: i64 = conn.query_row(sql, params, |row| row.get(0))?;
    Ok(u64::try_from(n)?)
}

/// A Province's head as the hub serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// Seq of the last accepted entry.
    pub seq: u64,
    /// Its entry hash, hex.
    pub hash: String,
}

/// An answer of the hub: status and JSON body (`Null` if the body was not JSON).
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Body.
    pub body: Value,
}

/// A running `pico-hub`.
#[derive(Debug)]
pub struct Hub {
    program: PathBuf,
    dir: PathBuf,
    service: Service,
    http: reqwest::blocking::Client,
}

impl Hub {
    /// `pico-hub init` in `root/hub`, enrols nothing, and serves on a free loopback port with a
    /// 100 ms checkpoint interval and [`OPERATOR_TOKEN`].
    pub fn start(root: &Path) -> Result<Hub> {
        Hub::start_with(root, binary("pico-hub")?, &[])
    }

    /// As [`Hub::start`], running `program` with `env` added to (or overriding) the test
    /// environment.
    pub fn start_with(root: &Path, program: PathBuf, env: &[(&str, &str)]) -> Result<Hub> {
        let mut all_env = vec![
            ("PICO_HUB_CHECKPOINT_INTERVAL_MS", "100"),
            ("PICO_HUB_OPERATOR_TOKEN", OPERATOR_TOKEN),
        ];
        all_env.extend_from_slice(env);
        let dir = root.join("hub");
        let data_dir = dir.to_str().context("temp path is not UTF-8")?;
        run(&program, &["--data-dir", data_dir, "init"])?;
        let address = free_address()?;
        let listen = address.to_string();
        let service = Service::start_with_env(
            &program,
            &["--data-dir", data_dir, "serve", "--listen", &listen],
            &all_env,
            address,
            &root.join("hub.log"),
        )?;
        Ok(Hub {
            program,
            dir,
            service,
            http: http()?,
        })
    }

    /// Initialises a node for each of `provinces` under `root` and enrols its key here.
    pub fn enrol_new_nodes(&self, root: &Path, provinces: &[&str]) -> Result<Vec<Node>> {
        provinces
            .iter()
            .map(|code| {
                let node = Node::init(root, code)?;
                self.enrol(code, node.public_key())?;
                Ok(node)
            })
            .collect()
    }

    /// `pico-hub enrol --province P --key K` (safe while the hub serves).
    pub fn enrol(&self, province: &str, public_key: &str) -> Result<()> {
        let data_dir = self.dir.to_str().context("temp path is not UTF-8")?;
        run(
            &self.program,
            &[
                "--data-dir",
                data_dir,
                "enrol",
                "--province",
                province,
                "--key",
                public_key,
            ],
        )?;
        Ok(())
    }

    /// Base URL.
    pub fn url(&self) -> String {
        self.service.url()
    }

    /// Listening address.
    pub fn address(&self) -> SocketAddr {
        self.service.address()
    }

    /// The process.
    pub fn service(&mut self) -> &mut Service {
        &mut self.service
    }

    /// SIGKILL.
    pub fn kill(&mut self) -> Result<()> {
        self.service.kill()
    }

    /// Starts the killed hub again on the same address and data.
    pub fn start_again(&mut self) -> Result<()> {
        self.service.start_again()
    }

    /// Everything the hub logged.
    pub fn log_text(&self) -> String {
        self.service.log_text()
    }

    /// `GET path` as JSON.
    pub fn get(&self, path: &str) -> Result<Answer> {
        let response = self.http.get(format!("{}{path}", self.url())).send()?;
        Self::answer(response)
    }

    /// `GET path` with the operator token.
    pub fn get_as_operator(&self, path: &str) -> Result<Answer> {
        let response = self
            .http
            .get(format!("{}{path}", self.url()))
            .bearer_auth(OPERATOR_TOKEN)
            .send()?;
        Self::answer(response)
    }

    /// `POST /v1/federation/entries` with exactly these body bytes.
    pub fn push_raw(&self, body: Vec<u8>) -> Result<Answer> {
        let response = self
            .http
            .post(format!("{}/v1/federation/entries", self.url()))
            .header("content-type", "application/json")
            .body(body)
            .send()?;
        Self::answer(response)
    }

    /// Pushes one entry given as its wire bytes.
    pub fn push_entry(&self, entry: &[u8]) -> Result<Answer> {
        let mut body = b"{\"entries\":[".to_vec();
        body.extend_from_slice(entry);
        body.extend_from_slice(b"]}");
        self.push_raw(body)
    }

    fn answer(response: reqwest::blocking::Response) -> Result<Answer> {
        let status = response.status().as_u16();
        let bytes = response.bytes()?;
        Ok(Answer {
            status,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        })
    }

    /// `GET /v1/federation/nodes/{province}/head`.
    pub fn head(&self, province: &str) -> Result<Head> {
        let answer = self.get(&format!("/v1/federation/nodes/{province}/head"))?;
        if answer.status != 200 {
            bail!("head: {} {}", answer.status, answer.body);
        }
        Ok(Head {
            seq: answer.body["seq"].as_u64().context("head seq")?,
            hash: answer.body["hash"]
                .as_str()
                .context("head hash")?
                .to_owned(),
        })
    }

    /// Size of the log in the latest checkpoint (`GET /v1/log/checkpoint`, second line).
    pub fn checkpoint_size(&self) -> Result<u64> {
        let text = self
            .http
            .get(format!("{}/v1/log/checkpoint", self.url()))
            .send()?
            .error_for_status()?
            .text()?;
        Ok(text
            .lines()
            .nth(1)
            .context("checkpoint size line")?
            .parse()?)
    }

    /// The hub's database, read-only.
    pub fn db(&self) -> Result<Connection> {
        open_read_only(&self.dir.join("hub.db"))
    }

    /// The hub's database, writable: for tests that play a hub tampering with what it
    /// stores. SQLite's locking makes this safe while the hub runs.
    pub fn db_for_tampering(&self) -> Result<Connection> {
        let conn = Connection::open(self.dir.join("hub.db"))?;
        conn.busy_timeout(Duration::from_secs(10))?;
        Ok(conn)
    }

    /// Entries stored for a Province.
    pub fn entry_count(&self, province: &str) -> Result<u64> {
        count(
            &self.db()?,
            "SELECT count(*) FROM entries WHERE province = ?1",
            [province],
        )
    }

    /// The seqs of a Province's leaves, in log order.
    pub fn leaf_seqs(&self, province: &str) -> Result<Vec<u64>> {
        let conn = self.db()?;
        let mut statement =
            conn.prepare("SELECT seq FROM log_leaves WHERE province = ?1 ORDER BY idx")?;
        let seqs = statement
            .query_map([province], |row| row.get::<_, i64>(0))?
            .map(|seq| Ok(u64::try_from(seq?)?))
            .collect::<Result<Vec<u64>>>()?;
        Ok(seqs)
    }

    /// Leaves in the whole log.
    pub fn leaf_count(&self) -> Result<u64> {
        count(&self.db()?, "SELECT count(*) FROM log_leaves", [])
    }

    /// Equivocations recorded for a Province.
    pub fn equivocation_count(&self, province: &str) -> Result<u64> {
        count(
            &self.db()?,
            "SELECT count(*) FROM equivocations WHERE province = ?1",
            [province],
        )
    }

    /// A Province's rows of a dataset in the national view: primary key (JSON) → row (JSON).
    pub fn rows(&self, dataset: &str, province: &str) -> Result<BTreeMap<String, Value>> {
        let conn = self.db()?;
        let mut statement = conn.prepare(
            "SELECT r.pk, r.data FROM dataset_rows r JOIN datasets d ON d.id = r.dataset_id
             WHERE d.name = ?1 AND r.province = ?2",
        )?;
        let rows = statement
            .query_map([dataset, province], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
            })?
            .map(|row| {
                let (pk, data) = row?;
                Ok((pk, serde_json::from_str(&data)?))
            })
            .collect::<Result<BTreeMap<String, Value>>>()?;
        Ok(rows)
    }
}

/// A Province node: initialised at once, serving when [`Node::serve`] is called.
#[derive(Debug)]
pub struct Node {
    program: PathBuf,
    root: PathBuf,
    dir: PathBuf,
    province: String,
    public_key: String,
    address: SocketAddr,
    service: Option<Service>,
    token: Option<String>,
    http: reqwest::blocking::Client,
}

impl Node {
    /// `pico-node init --province P` in `root/node-P`.
    pub fn init(root: &Path, province: &str) -> Result<Node> {
        Node::init_with(root, province, binary("pico-node")?)
    }

    /// As [`Node::init`], with `program` as the `pico-node` binary.
    pub fn init_with(root: &Path, province: &str, program: PathBuf) -> Result<Node> {
        let dir = root.join(format!("node-{province}"));
        let mut node = Node {
            program,
            root: root.to_owned(),
            dir,
            province: province.to_owned(),
            public_key: String::new(),
            address: free_address()?,
            service: None,
            token: None,
            http: http()?,
        };
        node.cli(&["init", "--province", province])?;
        // `init` gives the administrator a one-time password, with which every API call but
        // the change answers 403: the tests act as an administrator who has chosen theirs.
        let password = node.dir.join("admin-password");
        std::fs::write(&password, "system-test-administrator\n")?;
        let password = password
            .to_str()
            .context("temp path is not UTF-8")?
            .to_owned();
        node.cli(&[
            "user",
            "reset-password",
            "admin",
            "--password-file",
            &password,
            "--no-change",
        ])?;
        let shown = node.cli(&["key", "show"])?;
        node.public_key = shown
            .lines()
            .find_map(|line| line.strip_prefix("chiave pubblica:"))
            .context("`key show` printed no public key")?
            .trim()
            .to_owned();
        Ok(node)
    }

    /// The node's public key, `ed25519:…`.
    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// Its data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Its Province code.
    pub fn province(&self) -> &str {
        &self.province
    }

    /// Runs `pico-node --data-dir D args…` and returns its stdout.
    pub fn cli(&self, args: &[&str]) -> Result<String> {
        let data_dir = self.dir.to_str().context("temp path is not UTF-8")?;
        let mut all = vec!["--data-dir", data_dir];
        all.extend_from_slice(args);
        run(&self.program, &all)
    }

    /// Writes `csv` to a file and runs `dataset import` (`--key` as given, `--replace` if
    /// asked).
    pub fn import(&self, name: &str, key: &str, csv: &str, replace: bool) -> Result<String> {
        let file = tempfile::Builder::new()
            .suffix(".csv")
            .tempfile_in(&self.root)?;
        std::fs::write(file.path(), csv)?;
        let path = file.path().to_str().context("temp path is not UTF-8")?;
        let mut args = vec!["dataset", "import", "--name", name, "--key", key];
        if replace {
            args.push("--replace");
        }
        args.push(path);
        self.cli(&args)
    }

    /// `dataset federation --name N national`.
    pub fn publish_nationally(&self, name: &str) -> Result<String> {
        self.cli(&["dataset", "federation", "--name", name, "national"])
    }

    /// Starts `pico-node serve` publishing to `hub_url`, with short poll and retry intervals.
    pub fn serve(&mut self, hub_url: &str) -> Result<()> {
        self.serve_with_env(hub_url, &[])
    }

    /// As [`Node::serve`], with `env` added to (or overriding) those settings.
    pub fn serve_with_env(&mut self, hub_url: &str, env: &[(&str, &str)]) -> Result<()> {
        let program = self.program.clone();
        let data_dir = self.dir.to_str().context("temp path is not UTF-8")?;
        let listen = self.address.to_string();
        let log = self.root.join(format!("node-{}.log", self.province));
        self.service = Some(Service::start_with_env(
            &program,
            &["--data-dir", data_dir, "serve", "--listen", &listen],
            &[
                &[
                    ("PICO_NODE_FEDERATION__HUB_URL", hub_url),
                    ("PICO_NODE_FEDERATION__POLL_INTERVAL_MS", "100"),
                    ("PICO_NODE_FEDERATION__RETRY_BASE_MS", "50"),
                    ("PICO_NODE_FEDERATION__RETRY_MAX_SECS", "1"),
                    ("PICO_NODE_FEDERATION__REQUEST_TIMEOUT_SECS", "20"),
                    ("PICO_NODE_FEDERATION__CHECK_INTERVAL_SECS", "1"),
                ][..],
                env,
            ]
            .concat(),
            self.address,
            &log,
        )?);
        Ok(())
    }

    /// The serving process.
    pub fn service(&mut self) -> Result<&mut Service> {
        self.service.as_mut().context("the node is not serving")
    }

    /// SIGKILL.
    pub fn kill(&mut self) -> Result<()> {
        self.service()?.kill()
    }

    /// Starts the killed node again.
    pub fn start_again(&mut self) -> Result<()> {
        self.service()?.start_again()
    }

    /// Everything the node logged.
    pub fn log_text(&self) -> String {
        self.service
            .as_ref()
            .map(Service::log_text)
            .unwrap_or_default()
    }

    /// An administrator's API token (created once by `token create admin`).
    pub fn token(&mut self) -> Result<String> {
        if self.token.is_none() {
            let printed = self.cli(&["token", "create", "admin", "--name", "system-test"])?;
            let token = printed
                .lines()
                .map(str::trim)
                .find(|line| line.starts_with("pico_"))
                .context("`token create` printed no token")?
                .to_owned();
            self.token = Some(token);
        }
        self.token.clone().context("token just created")
    }

    /// A request to the node's API at `path`, as an administrator.
    pub fn api(
        &mut self,
        method: reqwest::Method,
        path: &str,
    ) -> Result<reqwest::blocking::RequestBuilder> {
        let token = self.token()?;
        Ok(self
            .http
            .request(method, format!("http://{}{path}", self.address))
            .bearer_auth(token))
    }

    /// A request to the node's API at `path` with another user's `token`.
    pub fn api_as(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
    ) -> reqwest::blocking::RequestBuilder {
        self.http
            .request(method, format!("http://{}{path}", self.address))
            .bearer_auth(token)
    }

    /// `GET /v1/federation/status` with an admin token.
    pub fn status(&mut self) -> Result<Value> {
        let response = self
            .api(reqwest::Method::GET, "/v1/federation/status")?
            .send()?;
        if !response.status().is_success() {
            bail!("node status: {}", response.status());
        }
        Ok(response.json()?)
    }

    /// The node's database, read-only.
    pub fn db(&self) -> Result<Connection> {
        open_read_only(&self.dir.join("node.db"))
    }

    /// Seq of the node's last signed entry.
    pub fn head_seq(&self) -> Result<u64> {
        count(
            &self.db()?,
            "SELECT head_seq FROM federation_state WHERE id = 1",
            [],
        )
    }

    /// The node's head.
    pub fn head(&self) -> Result<Head> {
        let (seq, hash): (i64, String) = self.db()?.query_row(
            "SELECT head_seq, head_hash FROM federation_state WHERE id = 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        Ok(Head {
            seq: u64::try_from(seq)?,
            hash,
        })
    }

    /// Entries in the outbox (signed by this node).
    pub fn entry_count(&self) -> Result<u64> {
        count(&self.db()?, "SELECT count(*) FROM outbox", [])
    }

    /// Receipts the node holds.
    pub fn receipt_count(&self) -> Result<u64> {
        count(&self.db()?, "SELECT count(*) FROM receipts", [])
    }

    /// The stored receipt for `seq` (JSON), if any.
    pub fn receipt(&self, seq: u64) -> Result<Option<Value>> {
        let conn = self.db()?;
        let text: Option<String> = conn
            .query_row(
                "SELECT receipt FROM receipts WHERE seq = ?1",
                [i64::try_from(seq)?],
                |row| row.get(0),
            )
            .map(Some)
            .or_else(|error| match error {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                other => Err(other),
            })?;
        text.map(|text| Ok(serde_json::from_str(&text)?))
            .transpose()
    }

    /// The wire bytes of the entry at `seq`, exactly as signed and stored in the outbox.
    pub fn entry_bytes(&self, seq: u64) -> Result<Vec<u8>> {
        Ok(self.db()?.query_row(
            "SELECT bytes FROM outbox WHERE seq = ?1",
            [i64::try_from(seq)?],
            |row| row.get(0),
        )?)
    }

    /// The node's rows of a dataset as the hub shows them: primary key (JSON) → object of
    /// field → value.
    pub fn rows(&self, dataset: &str) -> Result<BTreeMap<String, Value>> {
        let conn = self.db()?;
        let fields: String = conn.query_row(
            "SELECT fields FROM datasets WHERE name = ?1",
            [dataset],
            |row| row.get(0),
        )?;
        let fields: Vec<Value> = serde_json::from_str(&fields)?;
        let names = fields
            .iter()
            .map(|field| {
                field
                    .as_str()
                    .or_else(|| field["name"].as_str())
                    .map(str::to_owned)
                    .context("a dataset field has no name")
            })
            .collect::<Result<Vec<String>>>()?;
        let mut statement = conn.prepare("SELECT pk, data FROM dataset_rows WHERE dataset = ?1")?;
        let rows = statement
            .query_map([dataset], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
            })?
            .map(|row| {
                let (pk, data) = row?;
                let values: Vec<Value> = serde_json::from_str(&data)?;
                let object: serde_json::Map<String, Value> =
                    names.iter().cloned().zip(values).collect();
                Ok((pk, Value::Object(object)))
            })
            .collect::<Result<BTreeMap<String, Value>>>()?;
        Ok(rows)
    }
}

/// A CSV of `spese` rows with ids in `ids`; `version` changes every description and amount,
/// so that re-importing with another version updates the rows.
pub fn spese_csv(ids: impl IntoIterator<Item = u64>, version: u32) -> String {
    let mut csv = String::from("id,comune,descrizione,importo\n");
    for id in ids {
        let comune = 26_001 + id % 90;
        let cents = (id * 37 + u64::from(version) * 11) % 100;
        csv.push_str(&format!(
            "{id},0{comune},voce {id} v{version},{}.{cents:02}\n",
            id * 3 + u64::from(version)
        ));
    }
    csv
}

/// A started federation of one hub and one enrolled Treviso (026) node, with a temp root.
#[derive(Debug)]
pub struct Federation {
    /// The hub.
    pub hub: Hub,
    /// The node (initialised and enrolled, not yet serving).
    pub node: Node,
    /// Kept last so that it is removed after the processes are killed.
    pub root: tempfile::TempDir,
}

impl Federation {
    /// Starts a hub, initialises node 026 and enrols its key.
    pub fn start() -> Result<Federation> {
        let root = tempfile::Builder::new().prefix("pico-system-").tempdir()?;
        let hub = Hub::start(root.path())?;
        let node = Node::init(root.path(), "026")?;
        hub.enrol("026", node.public_key())?;
        Ok(Federation { hub, node, root })
    }

    /// Waits until the hub holds the node's whole log (same head seq and hash), the node holds
    /// a receipt for every entry, and the checkpoint covers the log.
    pub fn wait_converged(&mut self) -> Result<()> {
        let (hub, node) = (&self.hub, &self.node);
        wait_until("the hub holds the node's head", PATIENCE, || {
            Ok(hub.head("026")? == node.head()?)
        })?;
        wait_until("the node holds a receipt for every entry", PATIENCE, || {
            Ok(node.receipt_count()? == node.entry_count()?)
        })?;
        wait_until("the checkpoint covers the whole log", PATIENCE, || {
            Ok(hub.checkpoint_size()? == hub.leaf_count()?)
        })
    }

    /// Asserts the exact end state: the hub holds each of the node's entries once, in seq
    /// order, in the log; the node holds one receipt per entry and none is pending; the hub's
    /// rows of `dataset` equal the node's and number `rows`. Returns the entry count.
    pub fn assert_exactly_once(&mut self, dataset: &str, rows: usize) -> Result<u64> {
        let entries = self.node.entry_count()?;
        let head = self.node.head()?;
        if head.seq != entries {
            bail!("node head {} but {entries} entries in its outbox", head.seq);
        }
        let hub_head = self.hub.head("026")?;
        if hub_head != head {
            bail!("hub head {hub_head:?} differs from the node's {head:?}");
        }
        let hub_entries = self.hub.entry_count("026")?;
        if hub_entries != entries {
            bail!("the hub stores {hub_entries} entries of 026, the node signed {entries}");
        }
        let leaves = self.hub.leaf_seqs("026")?;
        let expected: Vec<u64> = (1..=entries).collect();
        if leaves != expected {
            bail!("log leaves of 026 are seqs {leaves:?}, expected {expected:?}");
        }
        let size = self.hub.checkpoint_size()?;
        if size != entries {
            bail!("checkpoint size {size}, expected {entries}");
        }
        let receipts = self.node.receipt_count()?;
        if receipts != entries {
            bail!("the node holds {receipts} receipts for {entries} entries");
        }
        for seq in 1..=entries {
            let ours = self.node.receipt(seq)?.context("receipt missing")?;
            let theirs = self
                .hub
                .get(&format!("/v1/federation/nodes/026/receipts/{seq}"))?;
            if theirs.status != 200 || theirs.body != ours {
                bail!("receipt {seq}: the node's differs from the hub's stored one");
            }
        }
        let status = self.node.status()?;
        if status["pending"] != 0 || !status["blocked"].is_null() || !status["halted"].is_null() {
            bail!("node status not settled: {status}");
        }
        if status["open_alarms"] != 0 {
            bail!("node has open alarms: {status}");
        }
        if self.hub.equivocation_count("026")? != 0 {
            bail!("the hub recorded an equivocation");
        }
        let hub_rows = self.hub.rows(dataset, "026")?;
        let node_rows = self.node.rows(dataset)?;
        if hub_rows.len() != rows || node_rows.len() != rows {
            bail!(
                "{dataset}: the hub has {} rows, the node {}, expected {rows}",
                hub_rows.len(),
                node_rows.len()
            );
        }
        if hub_rows != node_rows {
            let differing = node_rows
                .iter()
                .find(|(pk, row)| hub_rows.get(*pk) != Some(row));
            bail!("{dataset}: rows differ, e.g. {differing:?}");
        }
        Ok(entries)
    }
}
