//! Benchmark of the Formazione certificates of attendance: generates 1,000 certificates the
//! way the node issues them (the data as canonical JSON, its Ed25519 signature with a node
//! key, the one-page PDF carrying both), each with its own person, course, competences and
//! verification code; reports the total time, the per-certificate p50 and p99, the PDFs'
//! average size and the peak resident memory (`VmHWM`).
//!
//! Run: `cargo bench -p pico-node --bench certificates` (release); `CERTIFICATES` changes the
//! count. The figures of a run are in the report of the change that added it.

#![expect(
    clippy::unwrap_used,
    reason = "a benchmark fails loudly on unexpected input"
)]

use std::time::{Duration, Instant};

use pico_node::formazione::certificates::{self, CertificateData, DATA_TYPE};
use pico_protocol::SecretKey;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const NAMES: [&str; 8] = [
    "Giulia Rossi",
    "Niccolò Ferrè",
    "Anna Verdi",
    "Marco Bianchi",
    "Lucía Dell'Acqua",
    "Francesco Esposito",
    "Chiara Colombo",
    "Andrea Ricci",
];

const COURSES: [(&str, &str); 4] = [
    (
        "Il nuovo codice dei contratti pubblici (D.Lgs. 36/2023) per i RUP",
        "Appalti",
    ),
    (
        "Progettare con i fondi europei: dal bando alla rendicontazione",
        "Europa",
    ),
    (
        "Sicurezza informatica per il lavoro d'ufficio: perché è la prima difesa",
        "Innovazione e Digitalizzazione",
    ),
    (
        "Il piano dei fabbisogni di personale nel PIAO",
        "Politiche del personale",
    ),
];

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn main() {
    let count: usize = std::env::var("CERTIFICATES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000);
    let key = SecretKey::generate();
    let key_id = key.key_id().as_str().to_owned();
    let rss_before = peak_rss_kib();
    let mut times = Vec::with_capacity(count);
    let mut bytes = 0usize;
    let started = Instant::now();
    for i in 0..count {
        let one = Instant::now();
        let (course, sector) = COURSES[i % COURSES.len()];
        let code = certificates::new_code();
        let data = CertificateData {
            kind: DATA_TYPE.to_owned(),
            url: format!("https://formazione.provincia.treviso.it/attestati/{code}"),
            code,
            person: format!("{} {}", NAMES[i % NAMES.len()], i / NAMES.len()),
            course: course.to_owned(),
            sector: sector.to_owned(),
            competences: vec![
                "Syllabus competenze digitali: Sicurezza, livello base".to_owned(),
                format!("competenza {}", i % 17),
            ],
            first_day: "2026-03-10".to_owned(),
            last_day: "2026-03-17".to_owned(),
            hours: format!("{}.{:02}", 3 + i % 20, (i * 25) % 100),
            issuer: "Provincia di Treviso".to_owned(),
            province: "026".to_owned(),
            issued_on: "2026-12-07".to_owned(),
        };
        let signed = certificates::sign(&data, &key);
        let pdf = certificates::pdf(&data, &signed, &key_id);
        assert!(pdf.starts_with(b"%PDF-"));
        bytes += pdf.len();
        times.push(one.elapsed());
    }
    let total = started.elapsed();
    times.sort_unstable();
    println!(
        "{count} certificates (canonical JSON + Ed25519 + PDF): total {:.1} ms, per certificate p50 {:.0} µs, p99 {:.0} µs, max {:.0} µs",
        total.as_secs_f64() * 1e3,
        percentile(&times, 0.50).as_secs_f64() * 1e6,
        percentile(&times, 0.99).as_secs_f64() * 1e6,
        times.last().unwrap().as_secs_f64() * 1e6,
    );
    println!(
        "average PDF {} bytes; peak RSS {} KiB (before: {rss_before} KiB)",
        bytes / count.max(1),
        peak_rss_kib(),
    );
}
