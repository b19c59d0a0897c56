//! Load benchmark: the 86 UPI Provinces push signed batches of ~1,000 procurement-like rows
//! concurrently to a real hub over HTTP; then the same rows are inserted into the same table
//! in one SQLite transaction, without HTTP or verification, as the ceiling to compare with.
//!
//! `cargo bench -p pico-hub --bench load`; `PICO_BENCH_ENTRIES` entries per Province (default 3),
//! `PICO_BENCH_ROWS` rows per entry (default 1000), `PICO_BENCH_PRELOAD_ROWS` rows already stored
//! before the timed run (default 0; e.g. 10000000), spread over the 86 Provinces. After the run
//! it measures the public rows query (filtered by Province and by Comune, 50 per page), then
//! the national view of EU funds: each Province pushes `PICO_BENCH_SAPE_PROPOSALS` SAPE
//! proposals (default 200, one to four partners each) as one `sape_progetti` entry, and the
//! bench times the first summary (the view built from the rows) and the p99 of the SAPE API
//! and pages. Last, each Province pushes its `formazione_aggregati` rows (4 sectors × 3 years)
//! and the bench times the p99 of the Formazione progress API and of the `/formazione` page.

#![expect(clippy::unwrap_used, reason = "a benchmark fails loudly")]
#![expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]

mod common;

use std::time::{Duration, Instant};

use pico_protocol::payload::{DatasetBatch, FieldValue, Payload, Row};
use pico_protocol::{EntryDraft, Hash32, ProvinceCode, SecretKey, Seq, Timestamp};
use pico_service::Server;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

const FIELDS: [&str; 12] = [
    "cig",
    "comune",
    "oggetto",
    "cpv",
    "tipo_procedura",
    "importo_base",
    "importo_aggiudicazione",
    "data_pubblicazione",
    "aggiudicatario_cf",
    "pnrr",
    "stato",
    "n_offerte",
];

fn row(province: &str, i: u64) -> Row {
    let base = 40_000 + (i * 7_919) % 900_000;
    vec![
        format!("B{province}{i:07}").into(),
        format!("{province}{:03}", 1 + i % 40).into(),
        format!("Lavori di manutenzione straordinaria della viabilità comunale, lotto {i}").into(),
        ["45233140-2", "90910000-9", "79940000-5", "34144900-7"][(i % 4) as usize].into(),
        FieldValue::Int([1, 4, 24, 34][(i % 4) as usize]),
        format!("{base}.{:02}", i % 100).into(),
        format!("{}.00", base * 9 / 10).into(),
        format!("2025-{:02}-14", 1 + i % 12).into(),
        format!("0{:010}", 1_234_567_890 + i).into(),
        i.is_multiple_of(3).into(),
        "aggiudicata".into(),
        FieldValue::Int((1 + i % 12) as i64),
    ]
}

fn batch(province: &str, first: u64, rows: u64) -> DatasetBatch {
    DatasetBatch {
        dataset: "appalti".into(),
        schema_version: 1,
        fields: FIELDS.iter().map(|f| (*f).to_owned()).collect(),
        primary_key: vec!["cig".into()],
        snapshot: None,
        upserts: (first..first + rows).map(|i| row(province, i)).collect(),
        deletes: vec![],
    }
}

/// The fields of `sape_progetti` (`protocol/datasets/sape_progetti.md`).
const SAPE_FIELDS: [&str; 19] = [
    "proposal_id",
    "partner_no",
    "call_identifier",
    "topic_identifier",
    "programme",
    "call_title",
    "acronym",
    "title",
    "state",
    "province_role",
    "partner_name",
    "country",
    "pic",
    "partner_role",
    "comune",
    "eu_requested_cents",
    "eu_obtained_cents",
    "funded",
    "year",
];

/// `proposals` SAPE proposals of a Province, one row per partner (one to four partners).
fn sape_batch(province: &str, proposals: u64) -> DatasetBatch {
    const PROGRAMMES: [&str; 10] = [
        "horizon_europe",
        "life",
        "interreg",
        "cerv",
        "erasmus_plus",
        "digital_europe",
        "fesr",
        "fse_plus",
        "pnrr",
        "other",
    ];
    const STATES: [&str; 12] = [
        "idea",
        "in_preparation",
        "submitted",
        "second_stage",
        "evaluated",
        "funded",
        "reserve",
        "not_funded",
        "grant_signed",
        "in_execution",
        "closed",
        "withdrawn",
    ];
    let mut upserts = Vec::new();
    for id in 1..=proposals {
        let state = STATES[(id % 12) as usize];
        let funded = matches!(state, "funded" | "grant_signed" | "in_execution" | "closed");
        let programme = PROGRAMMES[(id % 10) as usize];
        for no in 1..=(1 + id % 4) {
            let requested = ((id * 7_919 + no * 104_729) % 50_000_000) as i64;
            let comune = (no == 2).then(|| format!("{province}{:03}", 1 + id % 40));
            upserts.push(vec![
                FieldValue::Int(id as i64),
                FieldValue::Int(no as i64),
                format!("{}-2025-{:02}", programme.to_uppercase(), id % 30).into(),
                format!(
                    "{}-2025-{:02}-{:02}",
                    programme.to_uppercase(),
                    id % 30,
                    id % 7
                )
                .into(),
                programme.into(),
                "Transizione verde e digitale dei piccoli Comuni".into(),
                format!("P{province}{id:03}").into(),
                format!("Progetto {id} della Provincia {province} con i suoi Comuni").into(),
                state.into(),
                ["coordinator", "partner", "support"][(id % 3) as usize].into(),
                match &comune {
                    Some(code) => format!("Comune {code}"),
                    None if no == 1 => format!("Provincia {province}"),
                    None => format!("Partner europeo {no}"),
                }
                .into(),
                (if no > 2 { "DE" } else { "IT" }).into(),
                FieldValue::Null,
                (if no == 1 {
                    "coordinator"
                } else {
                    "beneficiary"
                })
                .into(),
                comune.map_or(FieldValue::Null, FieldValue::from),
                FieldValue::Int(requested),
                if funded {
                    FieldValue::Int(requested)
                } else {
                    FieldValue::Null
                },
                funded.into(),
                FieldValue::Int(2023 + (id % 4) as i64),
            ]);
        }
    }
    DatasetBatch {
        dataset: "sape_progetti".into(),
        schema_version: 1,
        fields: SAPE_FIELDS.iter().map(|f| (*f).to_owned()).collect(),
        primary_key: vec!["proposal_id".into(), "partner_no".into()],
        snapshot: None,
        upserts,
        deletes: vec![],
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Signs `payload` as entry `seq` of `province`'s log after `prev`; returns the entry's hash
/// and the push request body that carries it alone.
fn push_body(
    key: &SecretKey,
    province: ProvinceCode,
    seq: u64,
    prev: Hash32,
    payload: &Payload,
) -> (Hash32, Vec<u8>) {
    let entry = EntryDraft {
        sender: province,
        seq: Seq::new(seq).unwrap(),
        prev,
        iat: Timestamp::now(),
        payload,
    }
    .sign(key)
    .unwrap();
    let mut body = b"{\"entries\":[".to_vec();
    body.extend_from_slice(&entry.to_bytes());
    body.extend_from_slice(b"]}");
    (entry.entry_hash(), body)
}

/// Posts one push request body to the hub's `url` and reads the answer, which must be 200.
async fn push(client: &reqwest::Client, url: &str, body: Vec<u8>) {
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let _ = response.bytes().await.unwrap();
}

fn main() {
    let per_province = env_u64("PICO_BENCH_ENTRIES", 3);
    let rows = env_u64("PICO_BENCH_ROWS", 1000);
    let sape_proposals = env_u64("PICO_BENCH_SAPE_PROPOSALS", 200);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let mut config = common::initialised(dir.path());
        config.checkpoint_interval_ms = 1000;
        let state = pico_hub::open(&config).unwrap();
        let provinces: Vec<ProvinceCode> = pico_hub::registry::bundled()
            .unwrap()
            .into_iter()
            .filter(|p| p.upi)
            .map(|p| p.code)
            .collect();
        assert_eq!(provinces.len(), 86);

        // Sign everything up front: the benchmark measures the hub, not the nodes.
        let mut bodies = Vec::new();
        let mut all_batches = Vec::new();
        let mut sape_bodies = Vec::new();
        let mut formazione_bodies = Vec::new();
        {
            let conn = state.db.get().unwrap();
            for province in &provinces {
                let key = SecretKey::from_seed(&Hash32::digest_of(&[b"bench ", province.as_str().as_bytes()]).0);
                pico_hub::db::keys::enrol(&conn, *province, &key.public_key()).unwrap();
                let mut prev = Hash32::ZERO;
                let mut mine = Vec::new();
                for n in 0..per_province {
                    let batch = batch(province.as_str(), n * rows, rows);
                    let payload = Payload::DatasetBatch(batch.clone());
                    let (hash, body) = push_body(&key, *province, n + 1, prev, &payload);
                    prev = hash;
                    mine.push(body);
                    all_batches.push((*province, n + 1, prev, batch));
                }
                bodies.push(mine);
                // The SAPE proposals follow as the next entry of the same log.
                let payload = Payload::DatasetBatch(sape_batch(province.as_str(), sape_proposals));
                let (sape_hash, body) = push_body(&key, *province, per_province + 1, prev, &payload);
                sape_bodies.push(body);
                // Then the training figures.
                let payload = Payload::DatasetBatch(formazione_batch(province.as_str()));
                let (_, body) = push_body(&key, *province, per_province + 2, sape_hash, &payload);
                formazione_bodies.push(body);
            }
        }
        let bytes: usize = bodies.iter().flatten().map(Vec::len).sum();

        let mut preload = env_u64("PICO_BENCH_PRELOAD_ROWS", 0);
        if preload > 0 {
            let started = Instant::now();
            preload = preload_rows(&state, &provinces, preload);
            println!(
                "preloaded {preload} rows in {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }

        let server = Server::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/v1/federation/entries", server.local_addr());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(pico_hub::serve(state.clone(), server, async {
            let _ = stopped.await;
        }));

        let client = reqwest::Client::new();
        let started = Instant::now();
        let tasks: Vec<_> = bodies
            .into_iter()
            .map(|mine| {
                let (client, url) = (client.clone(), url.clone());
                tokio::spawn(async move {
                    let mut latencies = Vec::new();
                    let mut done = Vec::new();
                    for body in mine {
                        let t = Instant::now();
                        push(&client, &url, body).await;
                        latencies.push(t.elapsed());
                        done.push(Instant::now());
                    }
                    (latencies, done)
                })
            })
            .collect();
        let mut latencies = Vec::new();
        let mut done = Vec::new();
        for task in tasks {
            let (l, d) = task.await.unwrap();
            latencies.extend(l);
            done.extend(d);
        }
        let elapsed = started.elapsed();
        // Throughput early and late in the run: does ingest slow down as the table grows?
        done.sort();
        let fifth = done.len() / 5;
        let window_rate = |from: usize, to: usize| {
            let span = done[to].duration_since(done[from]).as_secs_f64();
            (to - from) as f64 * rows as f64 / span
        };
        latencies.sort();
        let total_rows = 86 * per_province * rows;
        let stored: i64 = state
            .db
            .get()
            .unwrap()
            .query_row("SELECT count(*) FROM dataset_rows", [], |r| r.get(0))
            .unwrap();
        assert_eq!(stored as u64, total_rows + preload);
        for line in state.metrics.render(None).lines() {
            if line.starts_with("hub_ingest_") && (line.contains("_sum") || line.contains("_count")) {
                println!("  {line}");
            }
        }
        let queries = query_latencies(&client, &url.replace("/v1/federation/entries", ""), &provinces).await;
        let sape = sape_view(&client, &url, sape_bodies).await;
        let formazione = formazione_view(&client, &url, formazione_bodies).await;
        let _ = stop.send(());
        let _ = serving.await;
        let hub_rate = total_rows as f64 / elapsed.as_secs_f64();
        if fifth > 1 {
            println!(
                "hub rows/s in the second fifth of the run {:.0}, in the last fifth {:.0}",
                window_rate(fifth, 2 * fifth),
                window_rate(done.len() - 1 - fifth, done.len() - 1)
            );
        }
        println!(
            "hub over HTTP: {} entries, {total_rows} rows, {:.1} MB in {:.2} s = {hub_rate:.0} rows/s; push latency p50 {:.1} ms, p99 {:.1} ms",
            86 * per_province,
            bytes as f64 / 1e6,
            elapsed.as_secs_f64(),
            percentile(&latencies, 0.5).as_secs_f64() * 1e3,
            percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        );

        // The ceiling: the same rows into the same table and indexes, one transaction, no
        // HTTP, no verification, JSON prepared beforehand.
        let raw_path = dir.path().join("raw.db");
        let mut conn = rusqlite::Connection::open(&raw_path).unwrap();
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536;").unwrap();
        pico_service::db::migrate(&mut conn, pico_hub::db::MIGRATIONS, &raw_path).unwrap();
        let prepared: Vec<(String, String, String, String, i64, Vec<u8>)> = all_batches
            .iter()
            .flat_map(|(province, seq, hash, batch)| {
                batch.upserts.iter().map(move |r| {
                    let data: serde_json::Map<String, serde_json::Value> = FIELDS
                        .iter()
                        .zip(r)
                        .map(|(f, v)| ((*f).to_owned(), serde_json::to_value(v).unwrap()))
                        .collect();
                    let cig = match &r[0] {
                        FieldValue::Text(t) => t.to_string(),
                        _ => unreachable!(),
                    };
                    let comune = match &r[1] {
                        FieldValue::Text(t) => t.to_string(),
                        _ => unreachable!(),
                    };
                    (
                        province.as_str().to_owned(),
                        format!("[\"{cig}\"]"),
                        comune,
                        serde_json::to_string(&data).unwrap(),
                        *seq as i64,
                        hash.as_bytes().to_vec(),
                    )
                })
            })
            .collect();
        conn.execute("INSERT INTO datasets (name, created_at) VALUES ('appalti', 0)", []).unwrap();
        let started = Instant::now();
        let tx = conn.transaction().unwrap();
        {
            let mut insert = tx
                .prepare(
                    "INSERT INTO dataset_rows (dataset_id, province, pk, comune, data, seq, entry_hash)
                     VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .unwrap();
            for (province, pk, comune, data, seq, hash) in &prepared {
                insert.execute(rusqlite::params![province, pk, comune, data, seq, hash]).unwrap();
            }
        }
        tx.commit().unwrap();
        let raw_elapsed = started.elapsed();
        let raw_rate = prepared.len() as f64 / raw_elapsed.as_secs_f64();
        println!(
            "raw SQLite, one transaction: {} rows in {:.2} s = {raw_rate:.0} rows/s",
            prepared.len(),
            raw_elapsed.as_secs_f64()
        );
        println!("hub end to end / raw insert = {:.0}%", 100.0 * hub_rate / raw_rate);
        println!(
            "SAPE national view, 86 Provinces × {sape_proposals} proposals ({} counted): pushed in {:.2} s; \
             view built by the first summary in {:.1} ms; summary API p50 {:.2} ms p99 {:.2} ms; \
             projects API p99 {:.2} ms; page /sape p50 {:.1} ms p99 {:.1} ms; page /sape/progetti p99 {:.1} ms",
            sape.proposals,
            sape.push.as_secs_f64(),
            sape.build.as_secs_f64() * 1e3,
            sape.api_p50.as_secs_f64() * 1e3,
            sape.api_p99.as_secs_f64() * 1e3,
            sape.projects_p99.as_secs_f64() * 1e3,
            sape.page_p50.as_secs_f64() * 1e3,
            sape.page_p99.as_secs_f64() * 1e3,
            sape.projects_page_p99.as_secs_f64() * 1e3,
        );
        println!(
            "Formazione national view, 86 Provinces × 4 sectors × 3 years: progress API p50 {:.2} ms p99 {:.2} ms; \
             page /formazione p50 {:.1} ms p99 {:.1} ms (target: p99 < 20 ms)",
            formazione.0.as_secs_f64() * 1e3,
            formazione.1.as_secs_f64() * 1e3,
            formazione.2.as_secs_f64() * 1e3,
            formazione.3.as_secs_f64() * 1e3,
        );
        println!(
            "rows query with {} rows stored (50 per page, 2,000 requests, one client): by Province p50 {:.2} ms p99 {:.2} ms; by Comune p50 {:.2} ms p99 {:.2} ms",
            stored,
            queries.0.as_secs_f64() * 1e3,
            queries.1.as_secs_f64() * 1e3,
            queries.2.as_secs_f64() * 1e3,
            queries.3.as_secs_f64() * 1e3
        );
    });
}

/// Fills the national table with `total` rows spread over the Provinces, with the same key and
/// field shapes as the timed rows but other keys, straight through SQL in 100,000-row
/// transactions: the state a hub reaches after months of pushes.
fn preload_rows(state: &pico_hub::AppState, provinces: &[ProvinceCode], total: u64) -> u64 {
    let mut conn = state.db.get().unwrap();
    conn.execute(
        "INSERT OR IGNORE INTO datasets (name, created_at) VALUES ('appalti', 0)",
        [],
    )
    .unwrap();
    let id: i64 = conn
        .query_row("SELECT id FROM datasets WHERE name = 'appalti'", [], |r| {
            r.get(0)
        })
        .unwrap();
    let per_province = total / provinces.len() as u64;
    let mut written = 0;
    for province in provinces {
        let code = province.as_str();
        let mut done = 0;
        while done < per_province {
            let chunk = (per_province - done).min(100_000);
            let tx = conn.transaction().unwrap();
            {
                let mut insert = tx
                    .prepare_cached(
                        "INSERT INTO dataset_rows (dataset_id, province, pk, comune, data, seq, entry_hash)
                         VALUES (?1, ?2, ?3, ?4, ?5, 0, x'00')",
                    )
                    .unwrap();
                for i in done..done + chunk {
                    // Keys far above the timed run's, so the two never collide.
                    let r = row(code, 1_000_000_000 + i);
                    let data: serde_json::Map<String, serde_json::Value> = FIELDS
                        .iter()
                        .zip(&r)
                        .map(|(f, v)| ((*f).to_owned(), serde_json::to_value(v).unwrap()))
                        .collect();
                    let (FieldValue::Text(cig), FieldValue::Text(comune)) = (&r[0], &r[1]) else {
                        unreachable!()
                    };
                    insert
                        .execute(rusqlite::params![
                            id,
                            code,
                            format!("[\"{cig}\"]"),
                            comune.as_str(),
                            serde_json::to_string(&data).unwrap()
                        ])
                        .unwrap();
                }
            }
            tx.commit().unwrap();
            done += chunk;
        }
        written += per_province;
        conn.execute(
            "INSERT INTO dataset_contributions (dataset_id, province, schema_version, fields,
                 primary_key, row_count, last_seq, last_entry_hash, updated_at)
             VALUES (?1, ?2, 1, '[]', '[\"cig\"]', ?3, 0, x'00', 0)
             ON CONFLICT (dataset_id, province) DO UPDATE SET row_count = row_count + ?3",
            rusqlite::params![id, code, per_province as i64],
        )
        .unwrap();
    }
    written
}

/// p50 and p99 of the public rows query, by Province and by Comune, 1,000 requests each.
async fn query_latencies(
    client: &reqwest::Client,
    base: &str,
    provinces: &[ProvinceCode],
) -> (Duration, Duration, Duration, Duration) {
    let mut by_province = Vec::new();
    let mut by_comune = Vec::new();
    for i in 0..1_000usize {
        let province = provinces[i % provinces.len()].as_str();
        for (latencies, query) in [
            (&mut by_province, format!("province={province}")),
            (
                &mut by_comune,
                format!("comune={province}{:03}", 1 + i % 40),
            ),
        ] {
            let started = Instant::now();
            let response = client
                .get(format!("{base}/v1/datasets/appalti/rows?{query}&limit=50"))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), 200);
            let _ = response.bytes().await.unwrap();
            latencies.push(started.elapsed());
        }
    }
    by_province.sort();
    by_comune.sort();
    (
        percentile(&by_province, 0.5),
        percentile(&by_province, 0.99),
        percentile(&by_comune, 0.5),
        percentile(&by_comune, 0.99),
    )
}

/// What the SAPE phase measured.
struct SapeFigures {
    proposals: u64,
    push: Duration,
    build: Duration,
    api_p50: Duration,
    api_p99: Duration,
    projects_p99: Duration,
    page_p50: Duration,
    page_p99: Duration,
    projects_page_p99: Duration,
}

/// Pushes every Province's SAPE entry (86 concurrent pushes), then times the first summary
/// (which builds the view from the rows), 400 summaries by every grouping and filter, 200
/// pages of funded projects with and without a search, and the two pages 100 times each.
async fn sape_view(client: &reqwest::Client, url: &str, bodies: Vec<Vec<u8>>) -> SapeFigures {
    let base = url.replace("/v1/federation/entries", "");
    let started = Instant::now();
    let pushes: Vec<_> = bodies
        .into_iter()
        .map(|body| {
            let (client, url) = (client.clone(), url.to_owned());
            tokio::spawn(async move {
                push(&client, &url, body).await;
            })
        })
        .collect();
    for push in pushes {
        push.await.unwrap();
    }
    let push = started.elapsed();
    let get = |path: String| {
        let client = client.clone();
        let base = base.clone();
        async move {
            let started = Instant::now();
            let response = client.get(format!("{base}{path}")).send().await.unwrap();
            assert_eq!(response.status().as_u16(), 200, "{path}");
            let body = response.bytes().await.unwrap();
            (started.elapsed(), body)
        }
    };
    let (build, body) = get("/v1/sape/summary?group=province".into()).await;
    let summary: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(summary["provinces"], 86);
    let proposals: u64 = summary["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["proposals"].as_u64().unwrap())
        .sum();
    let mut api = Vec::new();
    for round in 0..100 {
        for group in ["province", "region", "programme", "year"] {
            let filter = match round % 4 {
                0 => "",
                1 => "&year=2024",
                2 => "&programme=life",
                _ => "&region=Veneto",
            };
            api.push(
                get(format!("/v1/sape/summary?group={group}{filter}"))
                    .await
                    .0,
            );
        }
    }
    let mut projects = Vec::new();
    for round in 0..200 {
        let query = if round % 2 == 0 {
            "q=comune"
        } else {
            "year=2023&limit=200"
        };
        projects.push(get(format!("/v1/sape/projects?{query}")).await.0);
    }
    let mut pages = Vec::new();
    let mut project_pages = Vec::new();
    for round in 0..100 {
        pages.push(
            get(if round % 2 == 0 {
                "/sape".into()
            } else {
                "/sape?year=2025".into()
            })
            .await
            .0,
        );
        project_pages.push(
            get(format!("/sape/progetti?pagina={}", 1 + round % 10))
                .await
                .0,
        );
    }
    for list in [&mut api, &mut projects, &mut pages, &mut project_pages] {
        list.sort();
    }
    SapeFigures {
        proposals,
        push,
        build,
        api_p50: percentile(&api, 0.5),
        api_p99: percentile(&api, 0.99),
        projects_p99: percentile(&projects, 0.99),
        page_p50: percentile(&pages, 0.5),
        page_p99: percentile(&pages, 0.99),
        projects_page_p99: percentile(&project_pages, 0.99),
    }
}

/// A Province's `formazione_aggregati` rows: the four programme sectors over 2024–2026, with
/// figures that differ by Province (`protocol/datasets/formazione_aggregati.md`).
fn formazione_batch(province: &str) -> DatasetBatch {
    let seed: i64 = province.parse().unwrap_or(1);
    let mut upserts: Vec<Row> = Vec::new();
    for (s, sector) in ["appalti", "europa", "innovazione", "personale"]
        .iter()
        .enumerate()
    {
        for year in 2024..=2026_i64 {
            let k = seed + s as i64 * 7 + year;
            let enrolled = 5 + k % 20;
            let completed = enrolled - k % 5;
            let row: Row = vec![
                (*sector).into(),
                FieldValue::Int(year),
                FieldValue::Int(1 + k % 3),
                FieldValue::Int(2 + k % 6),
                FieldValue::Int(60 * (6 + k % 30)),
                FieldValue::Int(enrolled),
                FieldValue::Int(completed),
                FieldValue::Int(completed - k % 2),
                FieldValue::Int(60 * completed * (4 + k % 10)),
            ];
            upserts.push(row);
        }
    }
    DatasetBatch {
        dataset: "formazione_aggregati".into(),
        schema_version: 1,
        fields: [
            "sector",
            "year",
            "editions",
            "sessions",
            "minutes_scheduled",
            "enrolled",
            "completed",
            "people_trained",
            "minutes_attended",
        ]
        .map(str::to_owned)
        .to_vec(),
        primary_key: vec!["sector".into(), "year".into()],
        snapshot: None,
        upserts,
        deletes: vec![],
    }
}

/// Pushes every Province's Formazione entry, then times 400 progress answers (every grouping,
/// with and without filters, JSON and CSV) and 200 pages: `(API p50, API p99, page p50, page
/// p99)`.
async fn formazione_view(
    client: &reqwest::Client,
    url: &str,
    bodies: Vec<Vec<u8>>,
) -> (Duration, Duration, Duration, Duration) {
    let base = url.replace("/v1/federation/entries", "");
    for body in bodies {
        push(client, url, body).await;
    }
    let time = |path: String| {
        let client = client.clone();
        let base = base.clone();
        async move {
            let started = Instant::now();
            let response = client.get(format!("{base}{path}")).send().await.unwrap();
            assert_eq!(response.status().as_u16(), 200, "{path}");
            let _ = response.bytes().await.unwrap();
            started.elapsed()
        }
    };
    let mut api = Vec::new();
    for round in 0..100 {
        for query in [
            "group=province",
            "group=region",
            "group=sector&region=Veneto",
            "group=province&behind=1&format=csv",
        ] {
            let query = if round % 2 == 0 {
                query.to_owned()
            } else {
                format!("{query}&year=2026")
            };
            api.push(time(format!("/v1/formazione/progress?{query}")).await);
        }
    }
    let mut pages = Vec::new();
    for round in 0..200 {
        pages.push(
            time(match round % 3 {
                0 => "/formazione".into(),
                1 => "/formazione?year=2025".into(),
                _ => "/formazione?region=Lombardia".into(),
            })
            .await,
        );
    }
    api.sort();
    pages.sort();
    (
        percentile(&api, 0.5),
        percentile(&api, 0.99),
        percentile(&pages, 0.5),
        percentile(&pages, 0.99),
    )
}
