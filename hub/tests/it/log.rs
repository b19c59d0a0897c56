//! The transparency log: checkpoints verify with the published key, every inclusion proof
//! verifies against them, and every pair of checkpoints is consistent.

use pico_protocol::checkpoint::{Checkpoint, parse_note_verifier_key};
use pico_protocol::jws::Jws;
use pico_protocol::merkle::{ConsistencyProof, InclusionProof, leaf_hash};
use pico_protocol::{PublicKey, Receipt};

use crate::support::{NodeLog, TestApp, appalti};

#[tokio::test]
async fn proofs_served_by_the_hub_verify_against_its_signed_checkpoints() {
    let app = TestApp::spawn().await;
    let (_, info) = app.get_json("/.well-known/pico-federation").await;
    let (name, vkey) = parse_note_verifier_key(info["checkpoint_vkey"].as_str().unwrap()).unwrap();
    assert_eq!(name, "pico.upi.it/federation");
    let hub_key: PublicKey = info["hub_key"].as_str().unwrap().parse().unwrap();

    let mut nodes = [
        NodeLog::new("026", "treviso"),
        NodeLog::new("017", "brescia"),
        NodeLog::new("041", "pesaro"),
    ];
    for node in &nodes {
        app.enrol(node);
    }
    // Grow the log in uneven steps, waiting for a checkpoint after each, so the checkpoints
    // cover sizes that are and are not powers of two.
    let mut receipts = Vec::new();
    let mut size = 0u64;
    for (round, count) in [1usize, 2, 1, 4, 3, 6, 1].into_iter().enumerate() {
        for i in 0..count {
            let node = &mut nodes[(round + i) % 3];
            let code = node.province.as_str().to_owned();
            let entry = node.next(&appalti(&code, (round * 10 + i) as u64, 2));
            let (status, body) = app.push(&[&entry]).await;
            assert_eq!(status, 200, "{body}");
            let jws: Jws = serde_json::from_value(body["receipts"][0].clone()).unwrap();
            receipts.push(Receipt::verify(&jws, &hub_key).unwrap());
            size += 1;
        }
        app.await_checkpoint(size).await;
    }

    let (_, all) = app.get_json("/v1/log/checkpoints").await;
    let checkpoints: Vec<Checkpoint> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|c| Checkpoint::parse_and_verify(c["note"].as_str().unwrap(), &name, &vkey).unwrap())
        .collect();
    assert!(checkpoints.len() >= 7, "one checkpoint per size reached");
    assert_eq!(
        checkpoints[0].size, 0,
        "the empty log is checkpointed at start-up"
    );
    let latest = checkpoints.last().unwrap().clone();
    assert_eq!(latest.size, size);
    let (status, note) = app.get_text("/v1/log/checkpoint").await;
    assert_eq!(status, 200);
    assert_eq!(
        Checkpoint::parse_and_verify(&note, &name, &vkey).unwrap(),
        latest
    );

    // Every pair of checkpoints is consistent.
    for (i, old) in checkpoints.iter().enumerate() {
        for new in &checkpoints[i..] {
            let (status, proof) = app
                .get_json(&format!(
                    "/v1/log/proof/consistency?old={}&new={}",
                    old.size, new.size
                ))
                .await;
            assert_eq!(status, 200, "{proof}");
            let proof: ConsistencyProof = serde_json::from_value(proof).unwrap();
            proof.verify(&old.root, &new.root).unwrap();
        }
    }

    // Every receipt's entry is in every checkpoint that covers it.
    for receipt in &receipts {
        for checkpoint in checkpoints.iter().filter(|c| c.size > receipt.log_index) {
            let (status, proof) = app
                .get_json(&format!(
                    "/v1/log/proof/inclusion?province={}&seq={}&tree_size={}",
                    receipt.sender, receipt.seq, checkpoint.size
                ))
                .await;
            assert_eq!(status, 200, "{proof}");
            let proof: InclusionProof = serde_json::from_value(proof).unwrap();
            assert_eq!(proof.leaf_index, receipt.log_index);
            proof
                .verify(&leaf_hash(receipt.entry_hash.as_bytes()), &checkpoint.root)
                .unwrap();
        }
    }

    // Bad requests are problems, not panics.
    let (status, problem) = app.get_json("/v1/log/proof/consistency?old=5&new=2").await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (400, Some("size_order"))
    );
    let (status, problem) = app
        .get_json(&format!("/v1/log/proof/consistency?old=1&new={}", size + 1))
        .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (400, Some("size_beyond_tree"))
    );
    let (status, _) = app
        .get_json("/v1/log/proof/inclusion?province=026&seq=999")
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .get_json("/v1/log/proof/inclusion?province=026&seq=1&tree_size=0")
        .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn the_heartbeat_keeps_the_note_and_moves_its_confirmation_time() {
    let app = TestApp::spawn().await;
    let first = app.await_checkpoint(0).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (_, all) = app.get_json("/v1/log/checkpoints").await;
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 1, "an unchanged log gets no new checkpoint row");
    assert_eq!(all[0]["note"], first["note"]);
    assert!(all[0]["confirmed_at"].as_str() > first["confirmed_at"].as_str());
}
