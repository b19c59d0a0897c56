//! ISTAT's BES dei territori at the hub: the bundled 2020 edition imported by `init` (timed),
//! then an indicator across the 107 Provinces (`/v1/bes/indicators/{code}` for every indicator,
//! the total and each sex, with the default and other years, JSON and CSV), its page
//! `/bes/indicatori/{code}`, a Province's profile (`/v1/bes/provinces/{code}`) and its page,
//! one client after the other. Target: the indicator across the Provinces, p99 < 20 ms.
//! `cargo bench -p pico-hub --bench bes` (`PICO_BENCH_ROUNDS`, default 20 per indicator).

#![expect(
    clippy::unwrap_used,
    clippy::print_stdout,
    reason = "a benchmark fails loudly and prints its figures"
)]

mod common;

use std::time::{Duration, Instant};

use pico_service::Server;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

async fn timed(client: &reqwest::Client, url: &str, times: &mut Vec<Duration>) {
    let start = Instant::now();
    let response = client.get(url).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200, "{url}");
    let body = response.bytes().await.unwrap();
    times.push(start.elapsed());
    assert!(!body.is_empty());
}

fn summary(name: &str, mut times: Vec<Duration>) {
    times.sort();
    println!(
        "{name}: {} requests, p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        times.len(),
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.99)),
        ms(*times.last().unwrap())
    );
}

fn main() {
    let rounds: usize = std::env::var("PICO_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let start = Instant::now();
        let config = common::initialised(dir.path());
        println!(
            "init with the BES 2020 edition imported: {:.0} ms",
            ms(start.elapsed())
        );
        let state = pico_hub::open(&config).unwrap();
        let server = Server::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", server.local_addr());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(pico_hub::serve(state, server, async {
            let _ = stopped.await;
        }));
        let client = reqwest::Client::new();
        let indicators: serde_json::Value = client
            .get(format!("{base}/v1/bes/indicators"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let codes: Vec<String> = indicators["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["code"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(codes.len(), 55);
        // Each indicator's years and sexes, from its default answer.
        let mut queries = Vec::new();
        for code in &codes {
            let body: serde_json::Value = client
                .get(format!("{base}/v1/bes/indicators/{code}"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert!(body["items"].as_array().unwrap().len() >= 107);
            let years: Vec<i64> = body["years"]
                .as_array()
                .unwrap()
                .iter()
                .map(|y| y.as_i64().unwrap())
                .collect();
            for (i, sex) in body["sexes"].as_array().unwrap().iter().enumerate() {
                let year = years[years.len().saturating_sub(1 + i * 3).min(years.len() - 1)];
                queries.push(format!(
                    "/v1/bes/indicators/{code}?sex={}&year={year}",
                    sex.as_str().unwrap()
                ));
            }
            queries.push(format!("/v1/bes/indicators/{code}"));
            queries.push(format!(
                "/v1/bes/indicators/{code}?format=csv&sep=semicolon"
            ));
        }
        let mut api = Vec::new();
        for _ in 0..rounds {
            for query in &queries {
                timed(&client, &format!("{base}{query}"), &mut api).await;
            }
        }
        summary(
            "indicator across the 107 Provinces, /v1/bes/indicators/{code} (JSON and CSV)",
            api,
        );
        let mut pages = Vec::new();
        for _ in 0..rounds.div_ceil(4) {
            for code in &codes {
                timed(
                    &client,
                    &format!("{base}/bes/indicatori/{code}"),
                    &mut pages,
                )
                .await;
            }
        }
        summary("page /bes/indicatori/{code}", pages);
        let provinces: Vec<String> = pico_hub::registry::bundled()
            .unwrap()
            .into_iter()
            .map(|p| p.code.as_str().to_owned())
            .collect();
        let mut profiles = Vec::new();
        let mut profile_pages = Vec::new();
        for code in &provinces {
            timed(
                &client,
                &format!("{base}/v1/bes/provinces/{code}"),
                &mut profiles,
            )
            .await;
            timed(
                &client,
                &format!("{base}/bes/province/{code}"),
                &mut profile_pages,
            )
            .await;
        }
        summary("profile /v1/bes/provinces/{code}", profiles);
        summary("page /bes/province/{code}", profile_pages);
        let mut overview = Vec::new();
        for _ in 0..50 {
            timed(&client, &format!("{base}/bes"), &mut overview).await;
        }
        summary("page /bes", overview);
        let _ = stop.send(());
        serving.await.unwrap().unwrap();
    });
}
