//! Kill the real `pico-hub` process in the middle of an ingest, restart it, resend: every
//! entry has exactly one effect.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{NodeLog, appalti};

const BIN: &str = env!("CARGO_BIN_EXE_pico-hub");

fn hub(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(BIN);
    command
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env("PICO_HUB_CHECKPOINT_INTERVAL_MS", "200")
        .env("PICO_HUB_LOG_FILTER", "warn")
        .env("PICO_HUB_QUOTA__PUSHES_PER_MINUTE", "100000")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start(dir: &Path) -> (Child, String) {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut child = hub(dir, &["serve", "--listen", &listen]).spawn().unwrap();
    let url = format!("http://{listen}");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut ready = false;
    while !ready && Instant::now() < deadline {
        ready = client
            .get(format!("{url}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if !ready {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    if !ready {
        child.kill().unwrap();
        child.wait().unwrap();
        panic!("pico-hub did not start");
    }
    (child, url)
}

async fn head(client: &reqwest::Client, url: &str) -> u64 {
    let head: Value = client
        .get(format!("{url}/v1/federation/nodes/026/head"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    head["seq"].as_u64().unwrap()
}

#[tokio::test]
async fn a_hub_killed_mid_ingest_keeps_all_or_nothing_of_each_entry() {
    let dir = tempfile::tempdir().unwrap();
    assert!(hub(dir.path(), &["init"]).status().unwrap().success());
    let mut node = NodeLog::new("026", "treviso");
    let key = node.key.public_key().to_string();
    assert!(
        hub(dir.path(), &["enrol", "--province", "026", "--key", &key])
            .status()
            .unwrap()
            .success()
    );

    const ENTRIES: u64 = 200;
    const ROWS: u64 = 200;
    let entries: Vec<Value> = (0..ENTRIES)
        .map(|i| {
            serde_json::from_slice(&node.next(&appalti("026", i * ROWS, ROWS)).to_bytes()).unwrap()
        })
        .collect();
    let body = serde_json::to_vec(&serde_json::json!({ "entries": entries })).unwrap();
    assert!(body.len() < 16 * 1024 * 1024);

    let (mut child, url) = start(dir.path()).await;
    let client = reqwest::Client::new();
    let push = {
        let (client, url, body) = (client.clone(), url.clone(), body.clone());
        tokio::spawn(async move {
            client
                .post(format!("{url}/v1/federation/entries"))
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
        })
    };
    // Kill as soon as some, but not all, entries are committed.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut killed_at = 0;
    while Instant::now() < deadline {
        let seq = head(&client, &url).await;
        if seq >= 3 {
            child.kill().unwrap();
            child.wait().unwrap();
            killed_at = seq;
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    assert!(killed_at >= 3, "ingest did not start");
    assert!(push.await.unwrap().is_err(), "the push was cut by the kill");

    let (mut child, url) = start(dir.path()).await;
    let survived = head(&client, &url).await;
    assert!(
        survived >= killed_at && survived < ENTRIES,
        "killed mid-ingest: {survived} of {ENTRIES}"
    );
    let mut stored = Vec::new();
    for seq in 1..=survived {
        let receipt: Value = client
            .get(format!("{url}/v1/federation/nodes/026/receipts/{seq}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        stored.push(receipt);
    }

    let response = client
        .post(format!("{url}/v1/federation/entries"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let answer: Value = response.json().await.unwrap();
    let receipts = answer["receipts"].as_array().unwrap();
    assert_eq!(receipts.len() as u64, ENTRIES);
    assert_eq!(
        &receipts[..stored.len()],
        &stored[..],
        "resent entries get their first receipts"
    );
    assert_eq!(answer["head"]["seq"], ENTRIES);
    for (i, receipt) in receipts.iter().enumerate() {
        let jws: pico_protocol::jws::Jws = serde_json::from_value(receipt.clone()).unwrap();
        let payload: Value = serde_json::from_slice(&jws.payload_bytes().unwrap()).unwrap();
        assert_eq!(payload["log_index"], i, "one leaf per entry, in order");
    }

    let datasets: Value = client
        .get(format!("{url}/v1/datasets"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        datasets["items"][0]["rows"],
        ENTRIES * ROWS,
        "maintained count: exactly one effect"
    );
    child.kill().unwrap();
    child.wait().unwrap();

    let conn = rusqlite::Connection::open(dir.path().join("hub.db")).unwrap();
    let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap() as u64;
    assert_eq!(count("SELECT count(*) FROM entries"), ENTRIES);
    assert_eq!(count("SELECT count(*) FROM log_leaves"), ENTRIES);
    assert_eq!(count("SELECT count(*) FROM dataset_rows"), ENTRIES * ROWS);
    assert_eq!(
        count("SELECT count(DISTINCT seq) FROM dataset_rows"),
        ENTRIES
    );
    // 2n - popcount(n) perfect nodes for n leaves.
    assert_eq!(
        count("SELECT count(*) FROM merkle_nodes"),
        2 * ENTRIES - u64::from(ENTRIES.count_ones())
    );
}
