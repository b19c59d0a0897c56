//! The hub is down for a while and comes back: every change the node made meanwhile (through
//! its command line, while its publisher kept failing to reach the hub) arrives exactly once
//! and in seq order — the hub's head equals the node's, the log holds one leaf per entry in
//! seq order, the node holds one receipt per entry, and the national rows equal the node's.

#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on unexpected input"
)]

use pico_system_tests::federation::{Federation, PATIENCE, spese_csv, wait_until};

/// A federation whose node published a 2,000-row snapshot (seq 1) and got its receipt.
fn published() -> Federation {
    let mut fed = Federation::start().unwrap();
    fed.node
        .import("spese", "id", &spese_csv(1..=2_000, 1), false)
        .unwrap();
    fed.node.publish_nationally("spese").unwrap();
    let hub_url = fed.hub.url();
    fed.node.serve(&hub_url).unwrap();
    fed.wait_converged().unwrap();
    assert_eq!(fed.assert_exactly_once("spese", 2_000).unwrap(), 1);
    fed
}

#[test]
fn changes_made_while_the_hub_is_down_arrive_once_in_order() {
    let mut fed = published();

    fed.hub.kill().unwrap();
    // Four changes while the hub is down: updates and inserts, a delete, a replace.
    fed.node
        .import("spese", "id", &spese_csv(1_901..=2_300, 2), false)
        .unwrap();
    fed.node
        .cli(&["dataset", "delete-rows", "--name", "spese", "5", "6", "7"])
        .unwrap();
    fed.node
        .import("spese", "id", &spese_csv(2_301..=2_500, 3), false)
        .unwrap();
    fed.node
        .import("spese", "id", &spese_csv(1..=2_400, 4), true)
        .unwrap();
    let head = fed.node.head_seq().unwrap();
    assert_eq!(
        head, 5,
        "one snapshot entry, then one delta entry per change"
    );
    // The publisher really tried and failed while the hub was down.
    let node = &mut fed.node;
    wait_until("the node reports the hub unreachable", PATIENCE, || {
        let status = node.status()?;
        Ok(status["hub_reachable"] == false && status["pending"] == 4)
    })
    .unwrap();
    assert_eq!(fed.node.receipt_count().unwrap(), 1);

    fed.hub.start_again().unwrap();
    fed.wait_converged().unwrap();
    assert_eq!(fed.assert_exactly_once("spese", 2_400).unwrap(), 5);
    // The last change (a replace with version 4) is what the hub shows.
    let rows = fed.hub.rows("spese", "026").unwrap();
    assert_eq!(rows["[5]"]["descrizione"], "voce 5 v4");
    assert!(!rows.contains_key("[2401]"));
}
