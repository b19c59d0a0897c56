//! Load benchmark of a serving node, with wrk on loopback (64 connections).
//!
//! It compares, in the same run and on the same database, the real endpoints (auth, sessions,
//! tracing, metrics, rate limits, security headers) with a bare axum handler that runs the same
//! SQL and serialises the same JSON with no middleware:
//! - an authenticated `GET /v1/helpdesk/requests?limit=50` (a 50-item page);
//! - the public `GET /v1/comuni?limit=50`.
//!
//! Then the Portale as an anonymous visitor sees it (the home and a SIT service page) side by
//! side with `/v1/comuni` in the same run.
//!
//! Then it starts the release `pico-node serve` binary and reports its start-up time (spawn to
//! `/readyz` 200), its idle resident memory, and its resident memory after 1,000 mixed requests
//! (pages, `/v1/comuni`, `/v1/openapi.json`, `/metrics`).
//!
//! Run: `cargo bench -p pico-node --bench http_load` (needs `wrk`: `apt-get install wrk`).

#![expect(
    clippy::unwrap_used,
    reason = "a benchmark fails loudly on unexpected input"
)]

use std::process::Command;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::routing::get;
use pico_node::auth::{Role, secrets};
use pico_node::error::AppError;
use pico_node::helpdesk::ops::RequestView;
use pico_node::{AppState, NodeConfig, db};
use pico_service::page::Page;

/// The allocator `pico-node` ships with (`src/main.rs`): the in-process server is measured
/// with it, not with the system's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SECONDS: &str = "10";

fn main() {
    if Command::new("wrk").arg("--version").output().is_err() {
        eprintln!("wrk is not installed: apt-get install wrk");
        std::process::exit(2);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(compare());
    startup_and_memory();
}

fn bench_config(dir: &std::path::Path) -> NodeConfig {
    let mut config = NodeConfig {
        data_dir: dir.to_owned(),
        ..NodeConfig::default()
    };
    // The rate limiter is measured (it runs on every request) but must not refuse the load.
    config.http.rate_limit_burst = 1_000_000_000;
    config.http.rate_limit_per_minute = 1_000_000_000;
    config
}

/// An initialised Treviso node with 500 Help Desk requests and an admin API token.
fn prepare(dir: &std::path::Path) -> (NodeConfig, String) {
    let config = bench_config(dir);
    pico_node::cli::init(&config, "026").unwrap();
    let db = pico_service::Db::open_existing(&config.db_path(), db::MIGRATIONS, 1).unwrap();
    let mut conn = db.get().unwrap();
    let now = db::now();
    let hash = secrets::hash_password("bench-password-123").unwrap();
    let user = db::people::insert_user(&conn, "bench", "Bench", &hash, &Role::Admin, now).unwrap();
    let token = secrets::new_api_token();
    db::people::insert_token(
        &conn,
        &secrets::sha256_hex(&token),
        user,
        "bench",
        now,
        now + 86_400,
    )
    .unwrap();
    let comuni: Vec<String> = db::comuni::list(&conn, None, 200)
        .unwrap()
        .into_iter()
        .map(|c| c.code)
        .collect();
    let tx = conn.transaction().unwrap();
    for i in 0..500 {
        pico_node::helpdesk::db::insert(
            &tx,
            &comuni[i % comuni.len()],
            pico_node::helpdesk::Category::Technical,
            &format!("Richiesta di assistenza numero {i} sul protocollo informatico"),
            "Il servizio di protocollo non risponde dalle 9:00; servono indicazioni per la PEC.",
            user,
            now - 3_600 * (i as i64 % 200),
        )
        .unwrap();
    }
    tx.commit().unwrap();
    (config, token)
}

/// The same SQL and JSON as the real endpoints, with no middleware at all.
fn bare_router(state: AppState) -> axum::Router {
    async fn helpdesk(State(state): State<AppState>) -> Json<Page<RequestView>> {
        let sla = state.config.helpdesk.clone();
        let now = db::now();
        let rows = state
            .db
            .call(|conn| {
                pico_node::helpdesk::db::list(conn, &pico_node::helpdesk::db::Filter::default(), 51)
                    .map_err(AppError::from)
            })
            .await
            .unwrap();
        let views = rows
            .into_iter()
            .map(|row| RequestView::new(row, &sla, now))
            .collect();
        Json(Page::from_overfetch(views, 50, |row: &RequestView| row.id))
    }
    async fn comuni(State(state): State<AppState>) -> Json<Page<db::comuni::Comune>> {
        let rows = state
            .db
            .call(|conn| db::comuni::list(conn, None, 51).map_err(AppError::from))
            .await
            .unwrap();
        Json(Page::from_overfetch(rows, 50, |c| c.code.clone()))
    }
    axum::Router::new()
        .route("/bare/helpdesk", get(helpdesk))
        .route("/bare/comuni", get(comuni))
        .with_state(state)
}

struct WrkResult {
    requests_per_second: f64,
    p99_ms: f64,
    non_2xx: u64,
}

/// `wrk` on `url`, with one extra request header (`Name: value`) if given.
fn wrk(url: &str, header: Option<&str>) -> WrkResult {
    let mut command = Command::new("wrk");
    command.args(["-t2", "-c64", "-d", &format!("{SECONDS}s"), "--latency"]);
    if let Some(header) = header {
        command.args(["-H", header]);
    }
    let output = command.arg(url).output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    let number_after = |prefix: &str| -> Option<String> {
        text.lines()
            .find(|line| line.trim_start().starts_with(prefix))
            .and_then(|line| line.split_whitespace().nth(1).map(str::to_owned))
    };
    let requests_per_second = number_after("Requests/sec:")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0.0);
    let p99 = number_after("99%").unwrap_or_default();
    let p99_ms = if let Some(us) = p99.strip_suffix("us") {
        us.parse::<f64>().unwrap_or(f64::NAN) / 1000.0
    } else if let Some(ms) = p99.strip_suffix("ms") {
        ms.parse().unwrap_or(f64::NAN)
    } else if let Some(s) = p99.strip_suffix('s') {
        s.parse::<f64>().unwrap_or(f64::NAN) * 1000.0
    } else {
        f64::NAN
    };
    let non_2xx = text
        .lines()
        .find(|line| line.contains("Non-2xx"))
        .and_then(|line| line.split_whitespace().last())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    WrkResult {
        requests_per_second,
        p99_ms,
        non_2xx,
    }
}

async fn compare() {
    let dir = tempfile::tempdir().unwrap();
    let (config, token) = prepare(dir.path());
    let state = pico_node::open_state(config).unwrap();

    let real = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let real_addr = real.local_addr().unwrap();
    let bare = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let bare_addr = bare.local_addr().unwrap();
    tokio::spawn(axum::serve(real, pico_node::app(state.clone())).into_future());
    tokio::spawn(axum::serve(bare, bare_router(state)).into_future());

    let cases = [
        (
            "Help Desk list, 50 items, authenticated",
            format!("http://{real_addr}/v1/helpdesk/requests?limit=50"),
            format!("http://{bare_addr}/bare/helpdesk"),
            Some(format!("Authorization: Bearer {token}")),
        ),
        (
            "GET /v1/comuni, 50 items, public",
            format!("http://{real_addr}/v1/comuni?limit=50"),
            format!("http://{bare_addr}/bare/comuni"),
            None,
        ),
    ];
    println!("wrk -t2 -c64 -d{SECONDS}s on loopback, 2 cores shared by wrk and the server\n");
    println!("| endpoint | real req/s | real p99 | bare req/s | bare p99 | real/bare |");
    println!("|---|---|---|---|---|---|");
    for (name, real_url, bare_url, token) in cases {
        let (real_url, bare_url) = (real_url.clone(), bare_url.clone());
        let real = tokio::task::spawn_blocking(move || wrk(&real_url, token.as_deref()))
            .await
            .unwrap();
        let bare = tokio::task::spawn_blocking(move || wrk(&bare_url, None))
            .await
            .unwrap();
        assert_eq!(
            real.non_2xx, 0,
            "the real endpoint answered errors under load"
        );
        println!(
            "| {name} | {:.0} | {:.2} ms | {:.0} | {:.2} ms | {:.0}% |",
            real.requests_per_second,
            real.p99_ms,
            bare.requests_per_second,
            bare.p99_ms,
            100.0 * real.requests_per_second / bare.requests_per_second
        );
    }
    portale(real_addr, &token).await;
}

/// The Portale for an anonymous visitor, side by side with `GET /v1/comuni` in the same run:
/// the home (every module's card, the SIT catalogue, practices, datasets, the Comuni with
/// their subscriptions) and a service page (with the fee calculator's list of Comuni). Target:
/// at least half of `/v1/comuni`'s rate and a p99 under 20 ms.
async fn portale(real_addr: std::net::SocketAddr, token: &str) {
    let client = reqwest::Client::new();
    for (code, name) in [
        ("adesione-pagopa", "Adesione a pagoPA e App IO"),
        ("presidio-cyber", "Presidio di sicurezza informatica"),
        (
            "ufficio-rtd",
            "Ufficio associato per la transizione digitale",
        ),
    ] {
        let created = client
            .post(format!("http://{real_addr}/v1/sit/services"))
            .bearer_auth(token)
            .json(&serde_json::json!({
                "code": code, "name": name,
                "description": format!("{name}: il servizio condiviso che la Provincia offre ai Comuni, con i livelli promessi."),
                "category": "payments", "theme": 9, "channels": ["online", "email"],
                "audience": "all", "cost_model": "per_inhabitant", "fee": "0.15",
                "first_answer_hours": 4, "resolution_hours": 24, "availability": "99.5",
                "contact_office": "Servizi innovativi", "contact_email": "sit@provincia.treviso.it"
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), reqwest::StatusCode::CREATED);
    }
    // An anonymous visitor is served from the node's page cache after the first rendering; a
    // request with a cookie the node does not know is anonymous too but never cached, so the
    // last two rows show what rendering each page costs.
    let unknown_cookie = Some("Cookie: pico_session=unknown".to_owned());
    let cases = [
        (
            "GET /v1/comuni, 50 items, public",
            "/v1/comuni?limit=50",
            None,
        ),
        ("Portale home, anonymous", "/", None),
        (
            "SIT service page, anonymous",
            "/sit/servizi/adesione-pagopa",
            None,
        ),
        (
            "Portale home, rendered every time",
            "/",
            unknown_cookie.clone(),
        ),
        (
            "SIT service page, rendered every time",
            "/sit/servizi/adesione-pagopa",
            unknown_cookie,
        ),
    ];
    println!(
        "\n| Portale (anonymous) | req/s | p99 | rate vs /v1/comuni | target (>= 50 %, p99 < 20 ms) |"
    );
    println!("|---|---|---|---|---|");
    let mut baseline = None;
    for (name, path, header) in cases {
        let url = format!("http://{real_addr}{path}");
        let rendered = header.is_some();
        let result = tokio::task::spawn_blocking(move || wrk(&url, header.as_deref()))
            .await
            .unwrap();
        assert_eq!(result.non_2xx, 0, "{path} answered errors under load");
        let reference = baseline.is_none();
        let base = *baseline.get_or_insert(result.requests_per_second);
        let ratio = 100.0 * result.requests_per_second / base;
        let verdict = if reference {
            "reference"
        } else if rendered {
            "not a target"
        } else if ratio >= 50.0 && result.p99_ms < 20.0 {
            "met"
        } else {
            "missed"
        };
        println!(
            "| {name} | {:.0} | {:.2} ms | {ratio:.0}% | {verdict} |",
            result.requests_per_second, result.p99_ms,
        );
    }
}

/// Start-up time and idle resident memory of the real binary.
fn startup_and_memory() {
    let binary =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/pico-node");
    if !binary.exists() {
        println!(
            "\n(start-up and memory skipped: build `cargo build --release -p pico-node` first)"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = bench_config(dir.path());
    pico_node::cli::init(&config, "026").unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = Instant::now();
    let child = Command::new(&binary)
        .args(["serve", "--data-dir"])
        .arg(dir.path())
        .args(["--listen", &format!("127.0.0.1:{port}")])
        // As in `bench_config`: 1,000 requests from one address must not meet the rate limit.
        .env("PICO_NODE_HTTP__RATE_LIMIT_BURST", "1000000000")
        .env("PICO_NODE_HTTP__RATE_LIMIT_PER_MINUTE", "1000000000")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Stopped however this function ends, a failed assertion included.
    let child = StopOnDrop(child);
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    while http_status(address, "/readyz") != Some(200) {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "node did not start"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    let startup = started.elapsed();
    std::thread::sleep(Duration::from_secs(2));
    let idle = rss_kib(child.0.id());
    // What a day of use looks like to the allocator: pages, API lists, the OpenAPI document
    // and the metrics, 1,000 requests in turn.
    let paths = [
        "/",
        "/login",
        "/buone-pratiche",
        "/stato",
        "/v1/comuni?limit=50",
        "/v1/comuni?limit=200",
        "/v1/openapi.json",
        "/metrics",
    ];
    for index in 0..1_000 {
        let path = paths[index % paths.len()];
        assert_eq!(http_status(address, path), Some(200), "{path}");
    }
    std::thread::sleep(Duration::from_secs(2));
    let after = rss_kib(child.0.id());
    drop(child);
    println!(
        "\nrelease binary: start-up to /readyz 200 in {:.0} ms; resident memory idle {:.1} MiB, \
         after 1,000 mixed requests {:.1} MiB",
        startup.as_secs_f64() * 1000.0,
        idle as f64 / 1024.0,
        after as f64 / 1024.0,
    );
}

/// A child process killed and reaped when dropped.
struct StopOnDrop(std::process::Child);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The resident set of process `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// The status of `GET path` on a fresh connection, the body read to its end.
fn http_status(address: std::net::SocketAddr, path: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let mut stream =
        std::net::TcpStream::connect_timeout(&address, Duration::from_millis(100)).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    std::str::from_utf8(response.get(9..12)?).ok()?.parse().ok()
}
