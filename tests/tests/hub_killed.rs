//! The hub process is SIGKILLed in the middle of ingesting a push (a 30,000-row snapshot in
//! three entries, each committed in its own transaction) and restarted: the node's retry
//! resends the same bytes, gets the stored receipts of what was committed and the new ones of
//! the rest — exactly one effect: three entries, three leaves in seq order, checkpoint size 3,
//! three receipts at the node equal to the hub's, 30,000 rows equal to the node's.

#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on unexpected input"
)]

use pico_system_tests::federation::{Federation, PATIENCE, spese_csv, wait_until};

/// A federation whose node has queued a 30,000-row snapshot (three entries) and pushes it.
fn publishing() -> Federation {
    let mut fed = Federation::start().unwrap();
    fed.node
        .import("spese", "id", &spese_csv(1..=30_000, 1), false)
        .unwrap();
    let hub_url = fed.hub.url();
    fed.node.serve(&hub_url).unwrap();
    fed.node.publish_nationally("spese").unwrap();
    assert_eq!(fed.node.head_seq().unwrap(), 3);
    fed
}

#[test]
fn a_hub_killed_mid_ingest_ends_with_exactly_one_effect() {
    let mut fed = publishing();
    let hub = &fed.hub;
    wait_until("the hub committed part of the push", PATIENCE, || {
        let seq = hub.head("026")?.seq;
        assert!(seq < 3, "the hub took the whole push before the kill");
        Ok(seq > 0)
    })
    .unwrap();
    fed.hub.kill().unwrap();
    // The node has no receipt for what the hub committed: the answer never came.
    assert_eq!(fed.node.receipt_count().unwrap(), 0);

    fed.hub.start_again().unwrap();
    fed.wait_converged().unwrap();
    assert_eq!(fed.assert_exactly_once("spese", 30_000).unwrap(), 3);
    assert_eq!(fed.hub.leaf_count().unwrap(), 3);
    assert_eq!(fed.hub.checkpoint_size().unwrap(), 3);
    assert_eq!(fed.node.receipt_count().unwrap(), 3);
}
