//! The aggregated DCAT-AP_IT catalogue at national scale: 86 Provinces × 200 open datasets
//! (`PICO_BENCH_DATASETS` per Province), served whole in Turtle, RDF/XML and JSON-LD, then
//! page by page (100 a page, Hydra). `cargo bench -p pico-hub --bench catalogue`.
//!
//! The metadata and contributions are written straight into the hub's database (what ingest
//! would leave there): this measures serving the catalogue, not ingest.

#![expect(
    clippy::unwrap_used,
    clippy::print_stdout,
    reason = "a benchmark fails loudly and prints its figures"
)]

mod common;

use std::time::{Duration, Instant};

use pico_protocol::Hash32;
use pico_protocol::dcat::{self, Agent, DatasetMetadata};
use pico_service::Server;

fn metadata(province: &str, sigla: &str, name: &str, i: u64) -> DatasetMetadata {
    let org = Agent {
        name: format!("Provincia {province}"),
        ipa_code: format!("p_{sigla}"),
    };
    DatasetMetadata {
        dataset: name.to_owned(),
        open: true,
        identifier: format!("p_{sigla}:{name}"),
        title: format!("Dataset {i} della Provincia {province}"),
        description: format!(
            "Descrizione del dataset {i}: righe, fonti \"ufficiali\" & note <varie>."
        ),
        themes: vec![dcat::concept_uri(
            dcat::THEME_SCHEME,
            dcat::THEMES[(i % 13) as usize].0,
        )],
        keywords: vec!["bench".into(), format!("k{i}")],
        publisher: org.clone(),
        rights_holder: org,
        contact_point: format!("opendata@p{sigla}.example.it"),
        modified: "2026-01-15".into(),
        accrual_periodicity: dcat::concept_uri(dcat::FREQUENCY_SCHEME, "ANNUAL"),
        temporal: None,
        spatial: vec![province.to_owned()],
        license: dcat::concept_uri(dcat::LICENCE_SCHEME, "A21_CCBY40"),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let per_province: u64 = std::env::var("PICO_BENCH_DATASETS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let config = common::initialised(dir.path());
        let state = pico_hub::open(&config).unwrap();
        let provinces: Vec<_> = pico_hub::registry::bundled()
            .unwrap()
            .into_iter()
            .filter(|p| p.upi)
            .collect();
        assert_eq!(provinces.len(), 86);
        {
            let mut conn = state.db.get().unwrap();
            let tx = conn.transaction().unwrap();
            for i in 0..per_province {
                tx.execute(
                    "INSERT INTO datasets (name, created_at) VALUES (?1, 0)",
                    [format!("dataset_{i}")],
                )
                .unwrap();
            }
            for province in &provinces {
                let code = province.code.as_str();
                let sigla = province.sigla.to_lowercase();
                for i in 0..per_province {
                    let name = format!("dataset_{i}");
                    tx.execute(
                        "INSERT INTO dataset_contributions (dataset_id, province, schema_version,
                             fields, primary_key, row_count, last_seq, last_entry_hash, updated_at)
                         SELECT id, ?2, 1, '[\"k\"]', '[\"k\"]', 10, ?3, zeroblob(32), 1768435200
                         FROM datasets WHERE name = ?1",
                        rusqlite::params![name, code, i as i64 + 1],
                    )
                    .unwrap();
                    pico_hub::db::catalogue::apply(
                        &tx,
                        province.code,
                        i + 1,
                        &Hash32::ZERO,
                        &metadata(code, &sigla, &name, i),
                        1_768_435_200,
                    )
                    .unwrap();
                }
            }
            tx.commit().unwrap();
        }
        let total = per_province * provinces.len() as u64;
        let server = Server::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", server.local_addr());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(pico_hub::serve(state.clone(), server, async {
            let _ = stopped.await;
        }));
        let client = reqwest::Client::new();
        println!("catalogue of {} Provinces × {per_province} datasets = {total} open datasets", provinces.len());
        for ext in ["ttl", "rdf", "jsonld"] {
            let start = Instant::now();
            let body = client
                .get(format!("{base}/dati/catalogo.{ext}"))
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            let took = start.elapsed();
            assert!(body.len() > 1000);
            println!(
                "whole catalogue .{ext}: {:.2} s, {:.1} MB",
                took.as_secs_f64(),
                body.len() as f64 / 1e6
            );
        }
        let per_page = 100;
        let pages = total.div_ceil(per_page);
        let mut times = Vec::new();
        let start = Instant::now();
        for page in 1..=pages {
            let t = Instant::now();
            let body = client
                .get(format!("{base}/dati/catalogo.rdf?page={page}&per_page={per_page}"))
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            times.push(t.elapsed());
            assert!(body.len() > 1000);
        }
        let all = start.elapsed();
        times.sort();
        println!(
            "{pages} pages of {per_page} (.rdf): all {:.2} s; per page median {:.1} ms, p99 {:.1} ms, max {:.1} ms (last pages pay the OFFSET)",
            all.as_secs_f64(),
            percentile(&times, 0.5).as_secs_f64() * 1e3,
            percentile(&times, 0.99).as_secs_f64() * 1e3,
            times.last().unwrap().as_secs_f64() * 1e3
        );
        let _ = stop.send(());
        serving.await.unwrap().unwrap();
    });
}
