//! The node process is SIGKILLed in the middle of publishing a 50,000-row snapshot (five
//! signed entries, pushed together) and restarted: nothing is lost and nothing is duplicated —
//! the hub's head equals the node's, the log holds exactly five leaves in seq order, and the
//! 50,000 national rows equal the node's.

#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on unexpected input"
)]

use std::time::Duration;

use pico_system_tests::federation::{Federation, PATIENCE, spese_csv, wait_until};

const ROWS: u64 = 50_000;

/// Starts the federation, lets the node queue the snapshot and kills it once the hub holds
/// some but not all of it.
fn kill_node_mid_publishing() -> Federation {
    let mut fed = Federation::start().unwrap();
    fed.node
        .import("spese", "id", &spese_csv(1..=ROWS, 1), false)
        .unwrap();
    let hub_url = fed.hub.url();
    fed.node.serve(&hub_url).unwrap();
    fed.node.publish_nationally("spese").unwrap();
    let entries = fed.node.head_seq().unwrap();
    assert_eq!(
        entries, 5,
        "a 50,000-row snapshot is five entries of 10,000 rows"
    );
    let hub = &fed.hub;
    wait_until("the hub holds part of the snapshot", PATIENCE, || {
        let seq = hub.head("026")?.seq;
        assert!(
            seq < entries,
            "the hub took the whole snapshot before the kill"
        );
        Ok(seq > 0)
    })
    .unwrap();
    fed.node.kill().unwrap();
    let at_kill = fed.hub.head("026").unwrap().seq;
    assert!(at_kill < entries, "hub head {at_kill} at the kill");
    fed
}

#[test]
fn a_node_killed_mid_publishing_loses_and_duplicates_nothing() {
    let mut fed = kill_node_mid_publishing();
    fed.node.start_again().unwrap();
    let (hub, node) = (&fed.hub, &fed.node);
    wait_until("the hub holds the node's head", PATIENCE, || {
        Ok(hub.head("026")? == node.head()?)
    })
    .unwrap();
    let head = fed.node.head().unwrap();
    assert_eq!(head.seq, 5);
    assert_eq!(fed.hub.head("026").unwrap(), head);
    assert_eq!(fed.hub.entry_count("026").unwrap(), 5);
    assert_eq!(fed.hub.leaf_seqs("026").unwrap(), vec![1, 2, 3, 4, 5]);
    let hub = &fed.hub;
    wait_until("the checkpoint covers the log", PATIENCE, || {
        Ok(hub.checkpoint_size()? == 5)
    })
    .unwrap();
    let hub_rows = fed.hub.rows("spese", "026").unwrap();
    assert_eq!(hub_rows.len(), 50_000);
    assert_eq!(hub_rows, fed.node.rows("spese").unwrap());
    assert_eq!(fed.hub.equivocation_count("026").unwrap(), 0);
    let status = fed.node.status().unwrap();
    assert_eq!(status["pending"], 0, "{status}");
    assert_eq!(status["open_alarms"], 0, "{status}");
}

/// SPEC §9 and §11: the node stores a receipt for every accepted entry, and only "a receipt
/// it already holds is never requested again". After a restart the publisher fetches the
/// receipts of the entries the hub committed while the node was being killed (this test found
/// that it did not, at first).
#[test]
fn a_node_killed_mid_publishing_still_gets_every_receipt() {
    let mut fed = kill_node_mid_publishing();
    fed.node.start_again().unwrap();
    let node = &fed.node;
    let converged = wait_until(
        "the node holds five receipts",
        Duration::from_secs(10),
        || Ok(node.receipt_count()? == 5),
    );
    assert!(
        converged.is_ok(),
        "the node holds {} receipts for 5 entries",
        fed.node.receipt_count().unwrap()
    );
    fed.wait_converged().unwrap();
    assert_eq!(fed.assert_exactly_once("spese", 50_000).unwrap(), 5);
}
