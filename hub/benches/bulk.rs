//! Bulk downloads at national scale: the Parquet (and CSV) file of a 10-million-row dataset
//! (`PICO_BENCH_ROWS`), time and peak memory. `cargo bench -p pico-hub --bench bulk`.
//!
//! The rows are written straight into the hub's database (what ingest would leave there:
//! 86 Provinces, `appalti`-like rows with integers, text, a boolean, a decimal and a date);
//! then the export runs in a child process of this benchmark, so that its peak resident
//! memory (`VmHWM`) is the export's alone, not the loading's.

#![expect(
    clippy::unwrap_used,
    clippy::print_stdout,
    reason = "a benchmark fails loudly and prints its figures"
)]

mod common;

use std::path::Path;
use std::time::Instant;

use pico_hub::bulk::Format;
use pico_hub::config::HubConfig;

/// Set in the child process: the data directory to export from, and the format.
const EXPORT_ENV: &str = "PICO_BENCH_BULK_EXPORT";

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn export(data_dir: &Path, format: Format) {
    let state = pico_hub::open(&HubConfig {
        data_dir: data_dir.to_owned(),
        log_filter: "warn".into(),
        ..HubConfig::default()
    })
    .unwrap();
    let before = peak_rss_mb();
    let conn = state.db.get().unwrap();
    let start = Instant::now();
    let (_, path) = pico_hub::bulk::generate(&conn, data_dir, "appalti", None, format)
        .unwrap()
        .unwrap();
    let took = start.elapsed();
    let size = std::fs::metadata(&path).unwrap().len();
    println!(
        "{}: {:.1} s, {:.0} MB file, peak RSS {:.0} MB (after opening the hub: {:.0} MB)",
        format.extension(),
        took.as_secs_f64(),
        size as f64 / 1e6,
        peak_rss_mb(),
        before
    );
}

fn load(data_dir: &Path, rows: u64) {
    let config = common::initialised(data_dir);
    let state = pico_hub::open(&config).unwrap();
    let provinces: Vec<_> = pico_hub::registry::bundled()
        .unwrap()
        .into_iter()
        .filter(|p| p.upi)
        .collect();
    let per_province = rows.div_ceil(provinces.len() as u64);
    let start = Instant::now();
    let mut conn = state.db.get().unwrap();
    let tx = conn.transaction().unwrap();
    tx.execute(
        "INSERT INTO datasets (id, name, created_at) VALUES (1, 'appalti', 0)",
        [],
    )
    .unwrap();
    let fields = r#"["procedure_id","lot_no","cig","comune","aggregated","object","lot_amount","published_on","bids_count"]"#;
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO dataset_rows (dataset_id, province, pk, comune, data, seq, entry_hash)
                 VALUES (1, ?1, ?2, ?3, ?4, 1, zeroblob(32))",
            )
            .unwrap();
        let mut written = 0;
        for province in &provinces {
            let code = province.code.as_str();
            let mut count = 0;
            for i in 0..per_province {
                if written == rows {
                    break;
                }
                let comune = format!("{code}{:03}", 1 + i % 50);
                let data = format!(
                    r#"{{"procedure_id":{i},"lot_no":1,"cig":"B{code}{i:07}","comune":"{comune}","aggregated":{},"object":"Manutenzione della strada provinciale {}, lotto {i}","lot_amount":"{}.{:02}","published_on":"2025-{:02}-{:02}","bids_count":{}}}"#,
                    i % 7 == 0,
                    i % 300,
                    40_000 + (i * 7_919) % 900_000,
                    i % 100,
                    1 + i % 12,
                    1 + i % 28,
                    i % 13
                );
                insert
                    .execute(rusqlite::params![code, format!("[{i},1]"), comune, data])
                    .unwrap();
                written += 1;
                count += 1;
            }
            tx.execute(
                "INSERT INTO dataset_contributions (dataset_id, province, schema_version, fields,
                     primary_key, row_count, last_seq, last_entry_hash, updated_at)
                 VALUES (1, ?1, 1, ?2, '[\"procedure_id\",\"lot_no\"]', ?3, 1, zeroblob(32), 1768435200)",
                rusqlite::params![code, fields, count as i64],
            )
            .unwrap();
        }
    }
    tx.commit().unwrap();
    println!(
        "loaded {rows} rows of 86 Provinces in {:.0} s",
        start.elapsed().as_secs_f64()
    );
}

fn main() {
    if let Ok(spec) = std::env::var(EXPORT_ENV) {
        let (format, dir) = spec.split_once(':').unwrap();
        let format = if format == "csv" {
            Format::Csv
        } else {
            Format::Parquet
        };
        export(Path::new(dir), format);
        return;
    }
    let rows: u64 = std::env::var("PICO_BENCH_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    let dir = tempfile::tempdir().unwrap();
    load(dir.path(), rows);
    for format in ["parquet", "csv"] {
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .env(EXPORT_ENV, format!("{format}:{}", dir.path().display()))
            .status()
            .unwrap();
        assert!(status.success());
    }
}
