//! Withdrawing a dataset, with real processes: setting a published dataset's federation back
//! to off signs a withdrawal (an empty snapshot) that removes the Province's rows from the
//! hub's national view; setting it national again republishes a full snapshot. The log
//! keeps every entry once, in order, with a receipt each.

use pico_system_tests::federation::{Federation, spese_csv};

#[test]
fn a_withdrawn_dataset_leaves_the_national_view_and_comes_back_whole() {
    let mut fed = Federation::start().unwrap();
    fed.node
        .import("spese", "id", &spese_csv(1..=1_500, 1), false)
        .unwrap();
    fed.node.publish_nationally("spese").unwrap();
    let hub_url = fed.hub.url();
    fed.node.serve(&hub_url).unwrap();
    fed.wait_converged().unwrap();
    assert_eq!(fed.assert_exactly_once("spese", 1_500).unwrap(), 1);

    // Off: one more signed entry, and no row of Treviso's left at the hub.
    let printed = fed
        .node
        .cli(&["dataset", "federation", "--name", "spese", "off"])
        .unwrap();
    assert_eq!(fed.node.head_seq().unwrap(), 2, "{printed}");
    fed.wait_converged().unwrap();
    assert!(fed.hub.rows("spese", "026").unwrap().is_empty());
    let datasets = fed.hub.get("/v1/datasets").unwrap();
    assert_eq!(
        datasets.body["items"],
        serde_json::json!([]),
        "{datasets:?}"
    );
    assert_eq!(fed.hub.entry_count("026").unwrap(), 2);
    assert_eq!(fed.hub.leaf_seqs("026").unwrap(), [1, 2]);
    assert_eq!(fed.node.rows("spese").unwrap().len(), 1_500, "kept locally");
    let status = fed.node.status().unwrap();
    assert_eq!(
        (status["pending"].as_u64(), status["open_alarms"].as_u64()),
        (Some(0), Some(0)),
        "{status}"
    );

    // Changed while off: nothing is signed. National again: a full snapshot of what the
    // node holds now.
    fed.node
        .import("spese", "id", &spese_csv(1..=1_600, 2), true)
        .unwrap();
    assert_eq!(fed.node.head_seq().unwrap(), 2);
    fed.node.publish_nationally("spese").unwrap();
    fed.wait_converged().unwrap();
    assert_eq!(fed.assert_exactly_once("spese", 1_600).unwrap(), 3);
    let rows = fed.hub.rows("spese", "026").unwrap();
    assert_eq!(rows["[7]"]["descrizione"], "voce 7 v2");
    let datasets = fed.hub.get("/v1/datasets").unwrap();
    assert_eq!(datasets.body["items"][0]["rows"], 1_600);
    assert_eq!(datasets.body["items"][0]["contributors"][0]["last_seq"], 3);
}
