//! The 86-node federation benchmark of issue 5 ("Performance").
//!
//! One hub and the 86 Provinces of the UPI programme (from the hub's `GET /v1/provinces`, the
//! `upi` flag of the bundled ISTAT list), each a real `pico-node` release process with its own
//! data directory, enrolled at the hub, publishing a 10,000-row procurement-like dataset
//! nationally. It measures:
//!
//! 1. the time from launching the 86 node processes until the hub's national view holds all
//!    860,000 rows, and until every node has verified the inclusion of every entry it signed;
//!    peak resident memory (VmHWM) per node and of the hub;
//! 2. after SIGKILLing the hub for 60 s while every node re-imports its dataset twice with 1%
//!    of the rows changed (`--replace`), the time from restarting it until every outbox is
//!    drained and verified — then checks the end state: 860,000 rows with the changed values,
//!    each node's head equal to the hub's head for it, as many entries and log leaves at the
//!    hub as the node signed, no equivocations, nothing pending, no alarms.
//!
//! Targets (reported, not asserted): complete < 30 s, each node < 30 MB resident, drain after
//! the outage < 60 s. Correctness checks do fail the run (exit status 1).
//!
//! Run: `cargo build --release -p pico-hub -p pico-node && cargo bench -p pico-system-tests
//! --bench federation86`. Every wait has a deadline; every child process is killed when its
//! handle drops (also on panic or error).

#![expect(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark reports on the terminal"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use pico_system_tests::federation::{Hub, Node};
use pico_system_tests::process::binary_for_profile;
use rusqlite::{Connection, OpenFlags};

const DATASET: &str = "contratti";
const ROWS: u64 = 10_000;
const EXPECTED_NODES: usize = 86;
/// Hub outage in phase 2.
const OUTAGE: Duration = Duration::from_secs(60);
/// When, after the hub is killed, the second round of changes starts.
const SECOND_ROUND_AFTER: Duration = Duration::from_secs(25);
/// Hard limits of the two measured waits.
const PHASE1_DEADLINE: Duration = Duration::from_secs(300);
const PHASE2_DEADLINE: Duration = Duration::from_secs(300);
/// Threads preparing / launching / changing nodes at once.
const WORKERS: usize = 4;

/// Hub settings. The checkpoint interval bounds how soon a node can verify inclusion. All 86
/// nodes reach the hub from 127.0.0.1, so the per-address HTTP rate limit (meant for public
/// readers, 6,000/min) is raised: in production each node has its own address.
const HUB_ENV: &[(&str, &str)] = &[
    ("PICO_HUB_CHECKPOINT_INTERVAL_MS", "500"),
    ("PICO_HUB_HTTP__RATE_LIMIT_BURST", "100000"),
    ("PICO_HUB_HTTP__RATE_LIMIT_PER_MINUTE", "6000000"),
    ("PICO_HUB_LOG_FILTER", "warn"),
];

/// Node settings: short publisher poll and transparency-check intervals, and retries capped
/// at 2 s so that nodes notice the restarted hub quickly.
const NODE_ENV: &[(&str, &str)] = &[
    ("PICO_NODE_FEDERATION__POLL_INTERVAL_MS", "200"),
    ("PICO_NODE_FEDERATION__CHECK_INTERVAL_SECS", "1"),
    ("PICO_NODE_FEDERATION__RETRY_BASE_MS", "200"),
    ("PICO_NODE_FEDERATION__RETRY_MAX_SECS", "2"),
    ("PICO_NODE_FEDERATION__REQUEST_TIMEOUT_SECS", "30"),
    ("PICO_NODE_LOG_FILTER", "warn"),
];

fn main() {
    // `cargo bench` passes `--bench`; nothing to parse.
    match run() {
        Ok(()) => {}
        Err(error) => {
            eprintln!("federation86 FAILED: {error:#}");
            std::process::exit(1);
        }
    }
}

/// A Province taking part, with the Comuni its node seeded.
struct Member {
    node: Node,
    comuni: Vec<String>,
}

/// The version of row `i` after `rounds` rounds of changes: round 1 changes the rows with
/// `i % 100 == 0`, round 2 those with `i % 100 == 50` (1% each).
fn version(i: u64, rounds: u32) -> u32 {
    match (i % 100, rounds) {
        (0, r) if r >= 1 => 2,
        (50, r) if r >= 2 => 3,
        _ => 1,
    }
}

fn cig(province: &str, i: u64) -> String {
    format!("P{province}-{i:06}")
}

fn descrizione(province: &str, i: u64, version: u32) -> String {
    format!("fornitura {} v{version}", cig(province, i))
}

/// A procurement-like CSV: key `cig`, real Comuni of the Province, amounts, dates, bools.
fn contratti_csv(province: &str, comuni: &[String], rounds: u32) -> String {
    let mut csv = String::with_capacity(80 * usize::try_from(ROWS).unwrap_or(0));
    csv.push_str("cig,comune,descrizione,importo,data,pnrr\n");
    let n = u64::try_from(comuni.len()).unwrap_or(1).max(1);
    for i in 1..=ROWS {
        let v = version(i, rounds);
        let comune = usize::try_from(i % n)
            .ok()
            .and_then(|at| comuni.get(at))
            .map_or("", String::as_str);
        let euros = (i * 7_919 + u64::from(v) * 13) % 1_000_000;
        let cents = (i * 37 + u64::from(v) * 11) % 100;
        let month = i % 12 + 1;
        let day = i % 28 + 1;
        csv.push_str(&format!(
            "{},{comune},{},{euros}.{cents:02},2025-{month:02}-{day:02},{}\n",
            cig(province, i),
            descrizione(province, i, v),
            i % 3 == 0
        ));
    }
    csv
}

fn read_only(path: &std::path::Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("open {}", path.display()))?;
    conn.busy_timeout(Duration::from_secs(10))?;
    Ok(conn)
}

/// What a node's database says about publishing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Progress {
    head: u64,
    pending: u64,
    receipts: u64,
    verified: u64,
}

impl Progress {
    fn done(self) -> bool {
        self.head > 0
            && self.pending == 0
            && self.receipts == self.head
            && self.verified == self.head
    }
}

fn progress(node: &Node) -> Result<Progress> {
    let conn = read_only(&node.dir().join("node.db"))?;
    let (head, pending, receipts, verified): (i64, i64, i64, i64) = conn.query_row(
        "SELECT s.head_seq, max(s.head_seq - s.delivered_seq, 0),
             (SELECT count(*) FROM receipts),
             (SELECT count(*) FROM receipts WHERE verified_at IS NOT NULL)
         FROM federation_state s WHERE s.id = 1",
        [],
        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
    )?;
    Ok(Progress {
        head: u64::try_from(head)?,
        pending: u64::try_from(pending)?,
        receipts: u64::try_from(receipts)?,
        verified: u64::try_from(verified)?,
    })
}

fn hub_row_count(hub: &Hub) -> Result<u64> {
    let n: i64 = hub.db()?.query_row(
        "SELECT count(*) FROM dataset_rows r JOIN datasets d ON d.id = r.dataset_id
         WHERE d.name = ?1",
        [DATASET],
        |row| row.get(0),
    )?;
    Ok(u64::try_from(n)?)
}

/// Runs `job` on every member with [`WORKERS`] threads; fails with the first error.
fn for_each(members: &mut [Member], job: impl Fn(&mut Member) -> Result<()> + Sync) -> Result<()> {
    let chunk = members.len().div_ceil(WORKERS).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = members
            .chunks_mut(chunk)
            .map(|part| scope.spawn(|| part.iter_mut().try_for_each(&job)))
            .collect();
        for handle in handles {
            handle
                .join()
                .map_err(|_| anyhow::anyhow!("a worker panicked"))??;
        }
        Ok(())
    })
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// Peak RSS (KiB) of every serving node: (max, median).
fn node_peaks(members: &mut [Member]) -> Result<(u64, u64, String)> {
    let mut peaks = Vec::new();
    for member in members.iter_mut() {
        let code = member.node.province().to_owned();
        let peak = member
            .node
            .service()?
            .peak_rss_kib()
            .context("no VmHWM for a node")?;
        peaks.push((peak, code));
    }
    peaks.sort();
    let median = peaks.get(peaks.len() / 2).map_or(0, |p| p.0);
    let (max, max_code) = peaks.last().cloned().unwrap_or_default();
    Ok((max, median, max_code))
}

/// Waits until every node's progress is done; returns when the last one was, and when the
/// last outbox was drained (pending 0 everywhere).
fn wait_all_verified(
    members: &[Member],
    start: Instant,
    deadline: Duration,
    mut also: impl FnMut(Duration) -> Result<()>,
) -> Result<(Duration, Duration)> {
    let mut drained_at = None;
    loop {
        let mut all_done = true;
        let mut all_drained = true;
        let mut summary = (0, 0, 0);
        for member in members {
            let p = progress(&member.node)?;
            all_done &= p.done();
            all_drained &= p.pending == 0;
            summary.0 += p.pending;
            summary.1 += p.head - p.verified.min(p.head);
            summary.2 += u64::from(!p.done());
        }
        let now = start.elapsed();
        also(now)?;
        if all_drained && drained_at.is_none() {
            drained_at = Some(now);
        }
        if all_done {
            return Ok((drained_at.unwrap_or(now), now));
        }
        if now > deadline {
            bail!(
                "deadline {deadline:?} passed: {} entries pending, {} unverified, {} nodes not done",
                summary.0,
                summary.1,
                summary.2
            );
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn run() -> Result<()> {
    let hub_bin = binary_for_profile("release", "pico-hub")?;
    let node_bin = binary_for_profile("release", "pico-node")?;
    let root = tempfile::Builder::new().prefix("pico-bench86-").tempdir()?;
    println!("federation86: root {}", root.path().display());
    println!("  hub env:  {HUB_ENV:?}");
    println!("  node env: {NODE_ENV:?}");

    let mut hub = Hub::start_with(root.path(), hub_bin, HUB_ENV)?;
    let provinces = hub.get("/v1/provinces")?;
    let codes: Vec<String> = provinces.body["items"]
        .as_array()
        .context("/v1/provinces has no items")?
        .iter()
        .filter(|p| p["upi"] == true)
        .filter_map(|p| p["code"].as_str().map(str::to_owned))
        .collect();
    if codes.len() != EXPECTED_NODES {
        bail!("{} UPI Provinces, expected {EXPECTED_NODES}", codes.len());
    }

    // Setup (not measured): init, enrol, import, mark national.
    let setup = Instant::now();
    let enrol_lock = Mutex::new(());
    let slots: Vec<Mutex<Option<Member>>> = codes.iter().map(|_| Mutex::new(None)).collect();
    let chunk = codes.len().div_ceil(WORKERS);
    std::thread::scope(|scope| -> Result<()> {
        let handles: Vec<_> = codes
            .chunks(chunk)
            .zip(slots.chunks(chunk))
            .map(|(codes, slots)| {
                let (hub, root, node_bin, enrol_lock) = (&hub, root.path(), &node_bin, &enrol_lock);
                scope.spawn(move || -> Result<()> {
                    for (code, slot) in codes.iter().zip(slots) {
                        let node = Node::init_with(root, code, node_bin.clone())?;
                        let comuni: Vec<String> = {
                            let conn = read_only(&node.dir().join("node.db"))?;
                            let mut st = conn.prepare("SELECT code FROM comuni ORDER BY code")?;
                            st.query_map([], |row| row.get(0))?
                                .collect::<rusqlite::Result<_>>()?
                        };
                        if comuni.is_empty() {
                            bail!("node {code} seeded no Comuni");
                        }
                        {
                            let _serial = enrol_lock.lock().map_err(|_| anyhow::anyhow!("lock"))?;
                            hub.enrol(code, node.public_key())?;
                        }
                        node.import(DATASET, "cig", &contratti_csv(code, &comuni, 0), false)?;
                        node.publish_nationally(DATASET)?;
                        *slot.lock().map_err(|_| anyhow::anyhow!("lock"))? =
                            Some(Member { node, comuni });
                    }
                    Ok(())
                })
            })
            .collect();
        for handle in handles {
            handle
                .join()
                .map_err(|_| anyhow::anyhow!("a setup worker panicked"))??;
        }
        Ok(())
    })?;
    let mut members: Vec<Member> = slots
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .ok()
                .flatten()
                .context("a node was not set up")
        })
        .collect::<Result<_>>()?;
    let comuni_total: usize = members.iter().map(|m| m.comuni.len()).sum();
    println!(
        "  setup: {} nodes initialised ({comuni_total} Comuni), enrolled, {ROWS} rows each imported, in {:.1} s",
        members.len(),
        secs(setup.elapsed())
    );

    // Phase 1: launch every node and wait for the national view and verification.
    let hub_url = hub.url();
    let launch = Instant::now();
    for_each(&mut members, |m| m.node.serve_with_env(&hub_url, NODE_ENV))?;
    let all_started = launch.elapsed();
    let expected_rows = ROWS * EXPECTED_NODES as u64;
    let mut national_at = None;
    let (_, verified_at) = wait_all_verified(&members, launch, PHASE1_DEADLINE, |now| {
        if national_at.is_none() && hub_row_count(&hub)? == expected_rows {
            national_at = Some(now);
        }
        Ok(())
    })?;
    let national_at = match national_at {
        Some(at) => at,
        None => {
            let deadline = Instant::now() + PHASE1_DEADLINE.saturating_sub(launch.elapsed());
            loop {
                if hub_row_count(&hub)? == expected_rows {
                    break launch.elapsed();
                }
                if Instant::now() > deadline {
                    bail!("the hub never held {expected_rows} rows");
                }
                std::thread::sleep(Duration::from_millis(250));
            }
        }
    };
    let (node_max1, node_median1, node_max_code1) = node_peaks(&mut members)?;
    let hub_peak1 = hub
        .service()
        .peak_rss_kib()
        .context("no VmHWM for the hub")?;
    let entries1: u64 = members
        .iter()
        .map(|m| progress(&m.node).map(|p| p.head))
        .sum::<Result<u64>>()?;

    // Phase 2: the hub is down for a minute while every node changes 1% of its rows twice.
    hub.kill()?;
    let killed = Instant::now();
    for_each(&mut members, |m| {
        let csv = contratti_csv(m.node.province(), &m.comuni, 1);
        m.node.import(DATASET, "cig", &csv, true).map(drop)
    })?;
    let round1 = killed.elapsed();
    if let Some(wait) = SECOND_ROUND_AFTER.checked_sub(killed.elapsed()) {
        std::thread::sleep(wait);
    }
    for_each(&mut members, |m| {
        let csv = contratti_csv(m.node.province(), &m.comuni, 2);
        m.node.import(DATASET, "cig", &csv, true).map(drop)
    })?;
    let round2 = killed.elapsed();
    if let Some(wait) = OUTAGE.checked_sub(killed.elapsed()) {
        std::thread::sleep(wait);
    }
    let mut pending_before = 0;
    for member in &members {
        pending_before += progress(&member.node)?.pending;
    }
    let outage = killed.elapsed();
    let restart = Instant::now();
    hub.start_again()?;
    let hub_ready = restart.elapsed();
    let (drained_at, verified2_at) =
        wait_all_verified(&members, restart, PHASE2_DEADLINE, |_| Ok(()))?;

    // End state.
    let mut problems = Vec::new();
    let rows = hub_row_count(&hub)?;
    if rows != expected_rows {
        problems.push(format!(
            "the hub holds {rows} rows, expected {expected_rows}"
        ));
    }
    let by_code: BTreeSet<&str> = members.iter().map(|m| m.node.province()).collect();
    {
        let conn = hub.db()?;
        let mut st = conn.prepare(
            "SELECT r.province, r.pk, r.data FROM dataset_rows r JOIN datasets d ON d.id = r.dataset_id
             WHERE d.name = ?1",
        )?;
        let mut wrong = 0u64;
        let mut example = None;
        let mut iter = st.query([DATASET])?;
        while let Some(row) = iter.next()? {
            let province: String = row.get(0)?;
            let pk: String = row.get(1)?;
            let data: String = row.get(2)?;
            let i: Option<u64> = pk
                .trim_matches(|c| matches!(c, '[' | ']' | '"'))
                .rsplit('-')
                .next()
                .and_then(|n| n.parse().ok());
            let ok = by_code.contains(province.as_str())
                && i.is_some_and(|i| {
                    let value: serde_json::Value =
                        serde_json::from_str(&data).unwrap_or(serde_json::Value::Null);
                    value["descrizione"] == descrizione(&province, i, version(i, 2)).as_str()
                });
            if !ok {
                wrong += 1;
                example.get_or_insert((province, pk, data));
            }
        }
        if wrong > 0 {
            problems.push(format!(
                "{wrong} hub rows lack the last change, e.g. {example:?}"
            ));
        }
        let equivocations: i64 =
            conn.query_row("SELECT count(*) FROM equivocations", [], |row| row.get(0))?;
        if equivocations != 0 {
            problems.push(format!("{equivocations} equivocations recorded"));
        }
        let mut per_province: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        let mut st = conn.prepare("SELECT province, count(*) FROM entries GROUP BY province")?;
        for row in st.query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
        })? {
            let (p, n) = row?;
            per_province.entry(p).or_default().0 = u64::try_from(n)?;
        }
        let mut st = conn.prepare("SELECT province, count(*) FROM log_leaves GROUP BY province")?;
        for row in st.query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
        })? {
            let (p, n) = row?;
            per_province.entry(p).or_default().1 = u64::try_from(n)?;
        }
        for member in &members {
            let node = &member.node;
            let code = node.province();
            let head = node.head()?;
            let hub_head = hub.head(code)?;
            if hub_head != head {
                problems.push(format!("{code}: hub head {hub_head:?}, node head {head:?}"));
            }
            let counts = per_province.get(code).copied().unwrap_or_default();
            if counts != (head.seq, head.seq) {
                problems.push(format!(
                    "{code}: the hub holds {} entries and {} leaves, the node signed {}",
                    counts.0, counts.1, head.seq
                ));
            }
            let node_conn = read_only(&node.dir().join("node.db"))?;
            let (blocked, halted, alarms): (Option<String>, Option<String>, i64) = node_conn
                .query_row(
                    "SELECT blocked_reason, halted_reason,
                         (SELECT count(*) FROM alarms WHERE resolved_at IS NULL)
                     FROM federation_state WHERE id = 1",
                    [],
                    |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
                )?;
            if blocked.is_some() || halted.is_some() || alarms != 0 {
                problems.push(format!(
                    "{code}: blocked {blocked:?}, halted {halted:?}, {alarms} open alarms"
                ));
            }
        }
    }
    // One node through its admin API too, as an operator would look.
    let status = members.first_mut().context("no nodes")?.node.status()?;
    if status["pending"] != 0 || status["verified"] != status["head_seq"] {
        problems.push(format!("status API of the first node: {status}"));
    }
    let entries2: u64 = members
        .iter()
        .map(|m| progress(&m.node).map(|p| p.head))
        .sum::<Result<u64>>()?;
    let (node_max2, node_median2, node_max_code2) = node_peaks(&mut members)?;
    let hub_peak2 = hub
        .service()
        .peak_rss_kib()
        .context("no VmHWM for the hub")?;

    let mark = |ok: bool| if ok { "yes" } else { "NO" };
    println!();
    println!("| figure                                            | value      | target   | met |");
    println!("|---------------------------------------------------|------------|----------|-----|");
    println!(
        "| nodes / rows each / national rows                 | {} / {ROWS} / {expected_rows} |     |     |",
        members.len()
    );
    println!(
        "| P1 all 86 nodes launched and ready                | {:>8.1} s |          |     |",
        secs(all_started)
    );
    println!(
        "| P1 hub national view complete (860,000 rows)      | {:>8.1} s | < 30 s   | {} |",
        secs(national_at),
        mark(national_at < Duration::from_secs(30))
    );
    println!(
        "| P1 every entry's inclusion verified by every node | {:>8.1} s | < 30 s   | {} |",
        secs(verified_at),
        mark(verified_at < Duration::from_secs(30))
    );
    println!(
        "| P1 entries signed (all nodes)                     | {entries1:>10} |          |     |"
    );
    println!(
        "| P1 node peak RSS max ({})                        | {:>7.1} MiB | < 30 MB  | {} |",
        node_max_code1,
        mib(node_max1),
        mark(node_max1 * 1024 < 30_000_000)
    );
    println!(
        "| P1 node peak RSS median                           | {:>7.1} MiB | < 30 MB  | {} |",
        mib(node_median1),
        mark(node_median1 * 1024 < 30_000_000)
    );
    println!(
        "| P1 hub peak RSS                                   | {:>7.1} MiB |          |     |",
        mib(hub_peak1)
    );
    println!(
        "| P2 hub down (SIGKILL) for                         | {:>8.1} s |          |     |",
        secs(outage)
    );
    println!(
        "| P2 change rounds done at (2 x 1% --replace)       | {:>4.0} s,{:>3.0} s |      |     |",
        secs(round1),
        secs(round2)
    );
    println!(
        "| P2 entries pending when the hub restarted         | {pending_before:>10} |          |     |"
    );
    println!(
        "| P2 hub ready after restart                        | {:>8.1} s |          |     |",
        secs(hub_ready)
    );
    println!(
        "| P2 every outbox drained (from restart)            | {:>8.1} s | < 60 s   | {} |",
        secs(drained_at),
        mark(drained_at < Duration::from_secs(60))
    );
    println!(
        "| P2 drained and verified (from restart)            | {:>8.1} s | < 60 s   | {} |",
        secs(verified2_at),
        mark(verified2_at < Duration::from_secs(60))
    );
    println!(
        "| P2 entries signed (all nodes)                     | {entries2:>10} |          |     |"
    );
    println!(
        "| P1+P2 node peak RSS max ({}) / median            | {:>5.1} / {:>4.1} MiB | < 30 MB | {} |",
        node_max_code2,
        mib(node_max2),
        mib(node_median2),
        mark(node_max2 * 1024 < 30_000_000)
    );
    println!(
        "| P2 hub peak RSS (since restart)                   | {:>7.1} MiB |          |     |",
        mib(hub_peak2)
    );
    println!();
    if problems.is_empty() {
        println!(
            "end state OK: {expected_rows} rows with the changed values, heads equal, entries and leaves once each, no equivocations, nothing pending, no alarms"
        );
        Ok(())
    } else {
        for problem in &problems {
            println!("PROBLEM: {problem}");
        }
        bail!("{} end-state problems", problems.len())
    }
}
