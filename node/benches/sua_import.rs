//! Benchmark of the SUA CSV import and of the per-Comune yearly report.
//!
//! 1. Generates a CSV of 1,000,000 procurement lots (about 400,000 procedures of the 243
//!    Comuni of the Province of Bergamo, 2020–2025, 1–4 lots each, 70 % awarded), in the
//!    documented columns, procedure columns repeated on every row as exports do.
//! 2. Imports it into an initialised node with the real importer
//!    (`sua::import::import`: streaming parse and validation on one thread, writes on
//!    another, one transaction, the batch report; the national `appalti` dataset is not
//!    federated, as on a new node, so it keeps no rows), measuring rows/s and peak resident
//!    memory (`VmHWM`, reset before the phase). The bench uses the node's allocator.
//! 3. In the same run, inserts the same rows into another fresh node with plain cached
//!    prepared statements (one transaction, the same tables, values and page cache, no
//!    validation, no report): the floor the importer is compared with.
//! 4. Turns `appalti` national on the imported node (every lot becomes a row, published as
//!    a full snapshot of signed entries), then imports a further tenth of the lots while it
//!    is national (their rows and signed deltas in the import's transaction).
//! 5. Runs the per-Comune yearly report (one Comune, one year: what a Comune's page asks)
//!    1,000 times over the imported rows, and the Province-wide yearly report (SUA staff)
//!    100 times, reporting p50/p99.
//!
//! Targets: import ≥ 100,000 rows/s and within 2× of the plain insert; report p99 < 50 ms.
//!
//! Run: `cargo bench -p pico-node --bench sua_import` (release). `SUA_BENCH_ROWS` changes the
//! number of lots; `SUA_BENCH_KEEP=1` keeps the databases for inspection.

#![expect(
    clippy::unwrap_used,
    reason = "a benchmark fails loudly on unexpected input"
)]

use std::io::{BufWriter, Write as _};
use std::path::Path;
use std::time::{Duration, Instant};

use pico_node::db::audit::Actor;
use pico_node::sua::db::data::{self as sua_data, ReportFilter};
use pico_node::sua::import::{self, ImportFormat};
use pico_node::sua::{Euro, Ribasso};
use pico_node::{NodeConfig, db};
use pico_service::Db;

/// The allocator of `pico-node` (`node/src/main.rs`), so the bench measures what it runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CPV: [&str; 8] = [
    "45233162-2",
    "45453100-8",
    "72322000-8",
    "55322000-3",
    "39000000-2",
    "90000000-7",
    "45331000-6",
    "50711000-2",
];

/// A small deterministic generator (xorshift64*), so every run imports the same file.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn reset_peak_rss() {
    // Linux: writing 5 resets VmHWM to the current RSS.
    let _ignored = std::fs::write("/proc/self/clear_refs", "5");
}

fn node(dir: &Path) -> NodeConfig {
    let config = NodeConfig {
        data_dir: dir.to_owned(),
        ..NodeConfig::default()
    };
    pico_node::cli::init(&config, "016").unwrap();
    config
}

fn signer(config: &NodeConfig) -> pico_node::federation::Signer {
    pico_node::federation::Signer {
        province: pico_protocol::ProvinceCode::parse("016").unwrap(),
        key: pico_protocol::SecretKey::load(&config.key_path()).unwrap(),
    }
}

fn date(year: i32, ordinal: u16) -> time::Date {
    time::Date::from_ordinal_date(year, ordinal).unwrap()
}

/// Writes the CSV; returns (rows, procedures).
/// `first` numbers the file's procedures and CIGs after those of an earlier file.
fn generate(path: &Path, rows: u64, first: u64, comuni: &[String]) -> (u64, u64) {
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    writeln!(
        out,
        "procedure_key,comune_code,object,contract_type,cpv,procedure_code,award_criterion,pnrr,requested_on,published_on,cig,lot_description,lot_amount,supplier_name,supplier_cf,award_amount,awarded_on,contract_signed_on"
    )
    .unwrap();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ first);
    let mut written = 0u64;
    let mut procedures = 0u64;
    while written < rows {
        procedures += 1;
        let comune = &comuni[rng.below(comuni.len() as u64) as usize];
        let year = 2020 + rng.below(6) as i32;
        let requested = date(year, 1 + rng.below(300) as u16);
        let published = requested + time::Duration::days(5 + rng.below(20) as i64);
        let kind = ["works", "services", "supplies"][rng.below(3) as usize];
        let cpv = CPV[rng.below(CPV.len() as u64) as usize];
        let code = [1, 4, 24, 34][rng.below(4) as usize];
        let criterion = ["lowest_price", "best_value", ""][rng.below(3) as usize];
        let pnrr = rng.below(4) == 0;
        let lots = (1 + rng.below(4)).min(rows - written);
        let awarded = rng.below(10) < 7;
        let signed = awarded && rng.below(10) < 6;
        let awarded_on = published + time::Duration::days(20 + rng.below(100) as i64);
        let signed_on = awarded_on + time::Duration::days(10 + rng.below(40) as i64);
        for lot in 0..lots {
            let cig = format!("{:010X}", first + written + 0x10_0000_0000);
            let amount = 1_000_000 + rng.below(200_000_000);
            let (supplier, cf, award, award_on, sign_on) = if awarded {
                let discount = rng.below(30_000);
                let award = amount - amount * discount / 100_000;
                (
                    format!("Impresa {} S.r.l.", rng.below(5000)),
                    format!("{:011}", rng.below(99_999_999_999)),
                    Euro(award as i64).to_decimal(),
                    awarded_on.to_string(),
                    if signed {
                        signed_on.to_string()
                    } else {
                        String::new()
                    },
                )
            } else {
                Default::default()
            };
            writeln!(
                out,
                "P{key:07},{comune},Procedura {key} del Comune {comune} (lavori e servizi),{kind},{cpv},{code},{criterion},{pnrr},{requested},{published},{cig},Lotto {lot_no},{amount},{supplier},{cf},{award},{award_on},{sign_on}",
                key = first + procedures,
                lot_no = lot + 1,
                amount = Euro(amount as i64).to_decimal(),
            )
            .unwrap();
            written += 1;
        }
    }
    out.into_inner().unwrap().sync_all().unwrap();
    (written, procedures)
}

/// Waits for the files in `dir` to be on disk, so a phase does not share the disk with the
/// kernel writing back the one before (the generated file, the other node's database).
fn settle(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::File::open(&path).unwrap().sync_all().unwrap();
        }
    }
}

/// The plain insert: the same rows into the same tables with cached prepared statements in
/// one transaction; no validation, no report, no national dataset.
fn plain_insert(config: &NodeConfig, csv_path: &Path) -> u64 {
    let db = Db::open_existing(&config.db_path(), db::MIGRATIONS, 1).unwrap();
    let mut conn = db.get().unwrap();
    // The importer's page cache, so that both write with the same memory.
    conn.pragma_update(None, "cache_size", -import::IMPORT_CACHE_KIB)
        .unwrap();
    let tx = conn.transaction().unwrap();
    let mut reader = csv::Reader::from_path(csv_path).unwrap();
    let mut record = csv::StringRecord::new();
    let mut current = String::new();
    let mut procedure_id = 0i64;
    let mut lot_no = 0i64;
    let mut rows = 0u64;
    let cents = |text: &str| -> i64 { text.replace('.', "").parse().unwrap_or(0) };
    let now = db::now();
    {
        let mut insert_procedure = tx
            .prepare_cached(
                "INSERT INTO sua_procedures (comune_code, buyer_cf, buyer_name, aggregated, object, description,
                    contract_type, cpv_main, cpv_other, estimated_cents, procedure_code, procedure_label,
                    award_criterion, cup, funding_source, pnrr, state, anac_gara, ocid, published_on,
                    deadline_on, awarded_on, contract_signed_on, completed_on, requested_at, accepted_at,
                    year, source, import_batch, external_key, created_by, created_at, updated_at)
                 VALUES (?1, '', ?2, 0, ?3, '', ?4, ?5, '[]', ?6, ?7, 'PROCEDURA', ?8, NULL, '', ?9, ?10, NULL,
                    NULL, ?11, NULL, ?12, ?13, NULL, ?14, ?14, ?15, 'import_csv', NULL, ?16, 'bench', ?17, ?17)",
            )
            .unwrap();
        let mut insert_participant = tx
            .prepare_cached(
                "INSERT INTO sua_participants (procedure_id, comune_code, share_cents) VALUES (?1, ?2, ?3)",
            )
            .unwrap();
        let mut insert_lot = tx
            .prepare_cached(
                "INSERT INTO sua_lots (procedure_id, lot_no, cig, description, cpv, amount_cents, status,
                    bids_count, supplier_name, supplier_cf, award_cents, ribasso_milli, awarded_on,
                    contract_signed_on)
                 VALUES (?1, ?2, ?3, ?4, NULL, ?5, ?6, NULL, ?7, ?8, ?9, ?10, ?11, ?12)",
            )
            .unwrap();
        let empty_none = |text: &str| (!text.is_empty()).then(|| text.to_owned());
        while reader.read_record(&mut record).unwrap() {
            rows += 1;
            let f = |i: usize| record.get(i).unwrap_or_default();
            if f(0) != current {
                f(0).clone_into(&mut current);
                let requested = f(8);
                let day = time::Date::from_calendar_date(
                    requested[..4].parse().unwrap(),
                    time::Month::try_from(requested[5..7].parse::<u8>().unwrap()).unwrap(),
                    requested[8..10].parse().unwrap(),
                )
                .unwrap();
                let state = match (f(13).is_empty(), f(17).is_empty()) {
                    (true, _) => "published",
                    (false, true) => "awarded",
                    (false, false) => "contract_signed",
                };
                insert_procedure
                    .execute(rusqlite::params![
                        f(1),
                        format!("Comune {}", f(1)),
                        f(2),
                        f(3),
                        f(4),
                        cents(f(12)),
                        f(5).parse::<i64>().unwrap(),
                        if f(6).is_empty() { "unknown" } else { f(6) },
                        f(7) == "true",
                        state,
                        f(9),
                        empty_none(f(16)),
                        empty_none(f(17)),
                        day.midnight().assume_utc().unix_timestamp(),
                        day.year(),
                        f(0),
                        now,
                    ])
                    .unwrap();
                procedure_id = tx.last_insert_rowid();
                insert_participant
                    .execute(rusqlite::params![procedure_id, f(1), cents(f(12))])
                    .unwrap();
                lot_no = 0;
            }
            lot_no += 1;
            let amount = cents(f(12));
            let award = empty_none(f(15)).map(|a| cents(&a));
            insert_lot
                .execute(rusqlite::params![
                    procedure_id,
                    lot_no,
                    f(10),
                    f(11),
                    amount,
                    if f(13).is_empty() {
                        "active"
                    } else {
                        "awarded"
                    },
                    empty_none(f(13)),
                    empty_none(f(14)),
                    award,
                    award.and_then(|a| Ribasso::between(Euro(amount), Euro(a)).map(|r| r.0)),
                    empty_none(f(16)),
                    empty_none(f(17)),
                ])
                .unwrap();
        }
    }
    tx.commit().unwrap();
    rows
}

fn count_national(conn: &rusqlite::Connection) -> i64 {
    conn.query_row(
        "SELECT count(*) FROM dataset_rows WHERE dataset = 'appalti'",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

fn outbox_head(conn: &rusqlite::Connection) -> i64 {
    conn.query_row("SELECT head_seq FROM federation_state", [], |r| r.get(0))
        .unwrap()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let rows: u64 = std::env::var("SUA_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let work = tempfile::tempdir().unwrap();
    if std::env::var_os("SUA_BENCH_KEEP").is_some() {
        println!("keeping the databases in {}", work.path().display());
    }
    let imported = node(&work.path().join("imported"));
    let plain = node(&work.path().join("plain"));
    let comuni: Vec<String> = {
        let db = Db::open_existing(&imported.db_path(), db::MIGRATIONS, 1).unwrap();
        let conn = db.get().unwrap();
        db::comuni::list(&conn, None, 1000)
            .unwrap()
            .into_iter()
            .map(|c| c.code)
            .collect()
    };
    let csv_path = work.path().join("lots.csv");
    let started = Instant::now();
    let (written, procedures) = generate(&csv_path, rows, 0, &comuni);
    let size = std::fs::metadata(&csv_path).unwrap().len();
    println!(
        "generated {written} lots of {procedures} procedures ({} Comuni, 2020-2025): {:.1} MiB in {:.1} s",
        comuni.len(),
        size as f64 / 1_048_576.0,
        started.elapsed().as_secs_f64()
    );

    // The importer.
    let signer_imported = signer(&imported);
    let db = Db::open_existing(&imported.db_path(), db::MIGRATIONS, 1).unwrap();
    let mut conn = db.get().unwrap();
    reset_peak_rss();
    let base_rss = peak_rss_kib();
    let started = Instant::now();
    let file = std::fs::File::open(&csv_path).unwrap();
    let report = import::import(
        &mut conn,
        &signer_imported,
        &Actor::cli(),
        ImportFormat::Csv,
        "lots.csv",
        file,
    )
    .unwrap();
    let import_time = started.elapsed();
    let import_peak = peak_rss_kib();
    assert_eq!(report.counts.lots, written);
    assert_eq!(report.counts.imported, procedures);
    let national_rows = count_national(&conn);
    drop(conn);

    // The plain insert.
    settle(&imported.data_dir);
    reset_peak_rss();
    let started = Instant::now();
    let plain_rows = plain_insert(&plain, &csv_path);
    let plain_time = started.elapsed();
    let plain_peak = peak_rss_kib();
    assert_eq!(plain_rows, written);

    let rate = |rows: u64, d: Duration| rows as f64 / d.as_secs_f64();
    println!();
    println!(
        "import (sua::import, CSV, one transaction; appalti not federated, so no national rows):"
    );
    println!(
        "  {written} rows in {:.2} s = {:.0} rows/s; peak RSS {:.1} MiB (baseline before the phase {:.1} MiB); {national_rows} national rows",
        import_time.as_secs_f64(),
        rate(written, import_time),
        import_peak as f64 / 1024.0,
        base_rss as f64 / 1024.0,
    );
    println!("plain prepared-statement insert of the same rows (same tables, no validation):");
    println!(
        "  {written} rows in {:.2} s = {:.0} rows/s; peak RSS {:.1} MiB",
        plain_time.as_secs_f64(),
        rate(written, plain_time),
        plain_peak as f64 / 1024.0
    );
    println!(
        "ratio import / plain insert: {:.2}x",
        import_time.as_secs_f64() / plain_time.as_secs_f64(),
    );

    // Turning the national dataset on: every lot becomes a row, published as a full snapshot.
    let mut conn = db.get().unwrap();
    reset_peak_rss();
    let started = Instant::now();
    let change = pico_node::dati::ops::set_federation(
        &mut conn,
        &signer_imported,
        &Actor::cli(),
        "appalti",
        pico_node::dati::Federation::National,
        &pico_protocol::dcat::Agent {
            name: "Provincia di Bergamo".into(),
            ipa_code: "p_bg".into(),
        },
    )
    .unwrap();
    let national_time = started.elapsed();
    let national_peak = peak_rss_kib();
    let national_rows = count_national(&conn);
    println!();
    println!(
        "appalti turned national (rows of every lot built, full snapshot signed, one transaction):"
    );
    println!(
        "  {national_rows} rows in {:.2} s = {:.0} rows/s; {} signed entries; peak RSS {:.1} MiB",
        national_time.as_secs_f64(),
        rate(national_rows as u64, national_time),
        change.entries.len(),
        national_peak as f64 / 1024.0
    );

    // A further import while the dataset is national: its rows and signed deltas come with it.
    let more = (rows / 10).max(1);
    let more_path = work.path().join("more.csv");
    let (more_written, more_procedures) = generate(&more_path, more, written, &comuni);
    let head_before = outbox_head(&conn);
    reset_peak_rss();
    let started = Instant::now();
    let report = import::import(
        &mut conn,
        &signer_imported,
        &Actor::cli(),
        ImportFormat::Csv,
        "more.csv",
        std::fs::File::open(&more_path).unwrap(),
    )
    .unwrap();
    let more_time = started.elapsed();
    let more_peak = peak_rss_kib();
    assert_eq!(report.counts.lots, more_written);
    assert_eq!(report.counts.imported, more_procedures);
    assert_eq!(count_national(&conn), national_rows + more_written as i64);
    println!(
        "import with appalti national ({more_written} more lots, their rows and signed deltas in the same transaction):"
    );
    println!(
        "  {more_written} rows in {:.2} s = {:.0} rows/s; {} signed entries; peak RSS {:.1} MiB",
        more_time.as_secs_f64(),
        rate(more_written, more_time),
        outbox_head(&conn) - head_before,
        more_peak as f64 / 1024.0
    );
    drop(conn);

    // Reports over the imported rows.
    let conn = db.get().unwrap();
    let mut rng = Rng(42);
    let mut one_comune = Vec::with_capacity(1000);
    for _ in 0..1000 {
        let filter = ReportFilter {
            year: Some(2020 + rng.below(6) as i32),
            comune: Some(comuni[rng.below(comuni.len() as u64) as usize].clone()),
            ..ReportFilter::default()
        };
        let started = Instant::now();
        let lines = sua_data::report(&conn, &filter).unwrap();
        one_comune.push(started.elapsed());
        assert!(lines.len() <= 1);
    }
    one_comune.sort();
    println!();
    println!(
        "report, one Comune and one year (1,000 queries): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ms(percentile(&one_comune, 0.5)),
        ms(percentile(&one_comune, 0.99)),
        ms(*one_comune.last().unwrap())
    );
    let mut province_year = Vec::with_capacity(100);
    for i in 0..100 {
        let filter = ReportFilter {
            year: Some(2020 + (i % 6)),
            ..ReportFilter::default()
        };
        let started = Instant::now();
        let lines = sua_data::report(&conn, &filter).unwrap();
        province_year.push(started.elapsed());
        assert_eq!(lines.len(), comuni.len());
    }
    province_year.sort();
    println!(
        "report, every Comune for one year (100 queries, {} lines each): p50 {:.1} ms, p99 {:.1} ms",
        comuni.len(),
        ms(percentile(&province_year, 0.5)),
        ms(percentile(&province_year, 0.99))
    );
    if std::env::var_os("SUA_BENCH_KEEP").is_some() {
        let _kept = work.keep();
    }
}
