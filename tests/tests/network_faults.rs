//! Network failures between node and hub, injected by a TCP proxy the node's `hub_url`
//! points to: while the node publishes several batches the proxy truncates answers (the hub
//! commits, the node never learns it), refuses connections, and delays them; then passes
//! traffic again. The end state converges with no loss and no duplicate: five entries at the
//! hub once each in seq order, five receipts at the node equal to the hub's, checkpoint size
//! 5, national rows equal to the node's.

#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on unexpected input"
)]

use std::time::Duration;

use pico_system_tests::federation::{Federation, PATIENCE, spese_csv, wait_until};
use pico_system_tests::proxy::{Fault, FaultProxy};

/// A runtime for the proxy; the test itself blocks on the processes.
fn proxy_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn publishing_through_a_faulty_network_converges_without_loss_or_duplicate() {
    let runtime = proxy_runtime();
    let mut fed = Federation::start().unwrap();
    let proxy = runtime
        .block_on(FaultProxy::start(fed.hub.address()))
        .unwrap();
    fed.node
        .import("spese", "id", &spese_csv(1..=2_000, 1), false)
        .unwrap();
    fed.node.publish_nationally("spese").unwrap();
    fed.node.serve(&proxy.url()).unwrap();
    fed.wait_converged().unwrap();
    assert_eq!(fed.assert_exactly_once("spese", 2_000).unwrap(), 1);

    // Truncated answers: the hub commits seq 2, the node never gets the receipt and retries.
    proxy.set(Fault::TruncateResponse(60));
    fed.node
        .import("spese", "id", &spese_csv(1_801..=2_200, 2), false)
        .unwrap();
    let (hub, node) = (&fed.hub, &mut fed.node);
    wait_until(
        "the hub committed seq 2 behind a truncated answer",
        PATIENCE,
        || Ok(hub.head("026")?.seq == 2 && node.status()?["last_error"].is_string()),
    )
    .unwrap();
    assert_eq!(fed.node.receipt_count().unwrap(), 1);

    // Refused connections: nothing reaches the hub.
    proxy.set(Fault::Refuse);
    let refused_from = proxy.connections();
    fed.node
        .cli(&["dataset", "delete-rows", "--name", "spese", "1", "2", "3"])
        .unwrap();
    wait_until(
        "the node retried against refused connections",
        PATIENCE,
        || Ok(proxy.connections() >= refused_from + 3),
    )
    .unwrap();
    assert_eq!(fed.hub.head("026").unwrap().seq, 2);
    assert_eq!(fed.node.receipt_count().unwrap(), 1);

    // Delayed connections: slow, but within the node's request timeout.
    proxy.set(Fault::Delay(Duration::from_millis(700)));
    fed.node
        .import("spese", "id", &spese_csv(2_201..=2_300, 3), false)
        .unwrap();
    let hub = &fed.hub;
    wait_until("the delayed pushes reach the hub", PATIENCE, || {
        Ok(hub.head("026")?.seq == 4)
    })
    .unwrap();

    // Pass again, and one more change.
    proxy.set(Fault::Pass);
    fed.node
        .import("spese", "id", &spese_csv(4..=10, 5), false)
        .unwrap();
    fed.wait_converged().unwrap();
    assert_eq!(fed.assert_exactly_once("spese", 2_297).unwrap(), 5);
    let rows = fed.hub.rows("spese", "026").unwrap();
    assert_eq!(rows["[10]"]["descrizione"], "voce 10 v5");
    assert!(!rows.contains_key("[3]"));
    assert_eq!(rows["[2300]"]["descrizione"], "voce 2300 v3");
    drop(proxy);
}
