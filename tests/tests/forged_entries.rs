//! Entries the hub must not take at face value, and a node that went back in time, against
//! the real processes (SPEC §6, §7.1, §12):
//! - a tampered entry (header changed under its signature → 401 `bad_signature`; body
//!   changed → 400 `body_mismatch`): nothing stored, no seq consumed;
//! - a replayed entry → 200 with the very receipt already stored, no second effect;
//! - an entry for Treviso signed by Brescia's enrolled key → 403 `unauthorised_key`;
//! - a validly signed fork of an accepted seq → 409 `equivocation`, both entries kept as
//!   evidence at `/v1/operator/equivocations`;
//! - a node restored from an old backup → its publishing is blocked, with a `log_behind_hub`
//!   alarm in `GET /v1/federation/status`, and it signs no new entry.
//!
//! After all the forged traffic the node's own publishing still continues normally.

#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on unexpected input"
)]

use pico_protocol::payload::{DatasetBatch, FieldValue};
use pico_protocol::{
    EntryDraft, Hash32, Payload, ProvinceCode, SecretKey, Seq, SignedEntry, Timestamp,
};
use pico_system_tests::federation::{Federation, PATIENCE, spese_csv, wait_until};

/// A one-row `spese` batch as the node would sign it at `seq` after `prev`.
fn entry(key: &SecretKey, seq: u64, prev: &str, descrizione: &str, iat: i64) -> SignedEntry {
    let payload = Payload::DatasetBatch(DatasetBatch {
        dataset: "spese".into(),
        schema_version: 1,
        fields: ["id", "comune", "descrizione", "importo"]
            .map(String::from)
            .to_vec(),
        primary_key: vec!["id".into()],
        snapshot: None,
        upserts: vec![vec![
            FieldValue::from(1),
            FieldValue::from("026001"),
            FieldValue::from(descrizione),
            FieldValue::from("1.00"),
        ]],
        deletes: vec![],
    });
    EntryDraft {
        sender: ProvinceCode::parse("026").unwrap(),
        seq: Seq::new(seq).unwrap(),
        prev: prev.parse::<Hash32>().unwrap(),
        iat: Timestamp::from_unix(iat).unwrap(),
        payload: &payload,
    }
    .sign(key)
    .unwrap()
}

fn started() -> Federation {
    let mut fed = Federation::start().unwrap();
    fed.node
        .import("spese", "id", &spese_csv(1..=300, 1), false)
        .unwrap();
    fed.node.publish_nationally("spese").unwrap();
    let hub_url = fed.hub.url();
    fed.node.serve(&hub_url).unwrap();
    fed.wait_converged().unwrap();
    assert_eq!(fed.assert_exactly_once("spese", 300).unwrap(), 1);
    fed
}

/// The hub still holds exactly the node's first entry and nothing else.
fn assert_unchanged(fed: &Federation, head_hash: &str) {
    let head = fed.hub.head("026").unwrap();
    assert_eq!((head.seq, head.hash.as_str()), (1, head_hash));
    assert_eq!(fed.hub.entry_count("026").unwrap(), 1);
    assert_eq!(fed.hub.leaf_count().unwrap(), 1);
    assert_eq!(fed.hub.rows("spese", "026").unwrap().len(), 300);
}

#[test]
fn tampered_replayed_foreign_and_forked_entries_are_answered_as_the_spec_says() {
    let fed = started();
    let head = fed.hub.head("026").unwrap();
    let node_key = SecretKey::load(&fed.node.dir().join("node.key")).unwrap();
    let now = Timestamp::now().unix();
    let good = entry(&node_key, 2, &head.hash, "forged", now);

    // Header changed under its signature (another entry's header, this one's signature).
    let other = entry(&node_key, 2, &head.hash, "forged", now + 1);
    let swapped = SignedEntry {
        payload: other.payload,
        ..good.clone()
    };
    let answer = fed.hub.push_entry(&swapped.to_bytes()).unwrap();
    assert_eq!(answer.status, 401, "{}", answer.body);
    assert_eq!(answer.body["code"], "bad_signature");
    assert_eq!(answer.body["accepted"], serde_json::json!([]));
    assert_unchanged(&fed, &head.hash);

    // Body changed, header and signature intact.
    let changed = entry(&node_key, 2, &head.hash, "forged and changed", now);
    let answer = fed
        .hub
        .push_entry(
            &SignedEntry {
                body: changed.body,
                ..good
            }
            .to_bytes(),
        )
        .unwrap();
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert_eq!(answer.body["code"], "body_mismatch");
    assert_unchanged(&fed, &head.hash);

    // Replay of the node's accepted entry: the very same receipt, no second effect.
    let stored = fed.node.receipt(1).unwrap().unwrap();
    let answer = fed
        .hub
        .push_entry(&fed.node.entry_bytes(1).unwrap())
        .unwrap();
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["receipts"], serde_json::json!([stored]));
    assert_eq!(answer.body["head"]["seq"], 1);
    assert_unchanged(&fed, &head.hash);

    // Signed by Brescia's enrolled key, claiming to be Treviso's.
    let brescia = SecretKey::generate();
    fed.hub
        .enrol("017", &brescia.public_key().to_string())
        .unwrap();
    let foreign = entry(&brescia, 2, &head.hash, "forged", now);
    let answer = fed.hub.push_entry(&foreign.to_bytes()).unwrap();
    assert_eq!(answer.status, 403, "{}", answer.body);
    assert_eq!(answer.body["code"], "unauthorised_key");
    assert_unchanged(&fed, &head.hash);
    assert_eq!(fed.hub.entry_count("017").unwrap(), 0);

    // A validly signed fork of seq 1: refused, kept as evidence for the operators.
    let fork = entry(&node_key, 1, &"0".repeat(64), "fork", now);
    let answer = fed.hub.push_entry(&fork.to_bytes()).unwrap();
    assert_eq!(answer.status, 409, "{}", answer.body);
    assert_eq!(answer.body["code"], "equivocation");
    assert_unchanged(&fed, &head.hash);
    let evidence = fed
        .hub
        .get_as_operator("/v1/operator/equivocations")
        .unwrap();
    assert_eq!(evidence.status, 200, "{}", evidence.body);
    let items = evidence.body.as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", evidence.body);
    assert_eq!(items[0]["province"], "026");
    assert_eq!(items[0]["seq"], 1);
    assert_eq!(items[0]["stored_hash"], head.hash.as_str());
    assert_eq!(
        items[0]["received_hash"],
        fork.entry_hash().to_hex().as_str()
    );
    assert_eq!(fed.hub.equivocation_count("026").unwrap(), 1);
    let anonymous = fed.hub.get("/v1/operator/equivocations").unwrap();
    assert_eq!(anonymous.status, 401, "{}", anonymous.body);

    // None of it disturbed the node: its next change is published as seq 2.
    fed.node
        .import("spese", "id", &spese_csv(250..=350, 2), false)
        .unwrap();
    let (hub, node) = (&fed.hub, &fed.node);
    wait_until("the node's seq 2 reaches the hub", PATIENCE, || {
        Ok(hub.head("026")? == node.head()? && node.receipt_count()? == 2)
    })
    .unwrap();
    let head = fed.node.head().unwrap();
    assert_eq!(head.seq, 2);
    assert_eq!(fed.hub.entry_count("026").unwrap(), 2);
    assert_eq!(fed.hub.leaf_seqs("026").unwrap(), vec![1, 2]);
    assert_eq!(
        fed.hub.rows("spese", "026").unwrap(),
        fed.node.rows("spese").unwrap()
    );
    assert_eq!(fed.hub.rows("spese", "026").unwrap().len(), 350);
}

#[test]
fn a_node_restored_from_an_old_backup_is_blocked_with_an_alarm() {
    let mut fed = started();
    let backup = fed.root.path().join("node-backup.db");
    fed.node.cli(&["backup", backup.to_str().unwrap()]).unwrap();
    fed.node
        .import("spese", "id", &spese_csv(1..=350, 2), false)
        .unwrap();
    fed.node
        .import("spese", "id", &spese_csv(1..=400, 3), false)
        .unwrap();
    fed.wait_converged().unwrap();
    assert_eq!(fed.assert_exactly_once("spese", 400).unwrap(), 3);
    let hub_head = fed.hub.head("026").unwrap();

    fed.node.kill().unwrap();
    fed.node
        .cli(&["restore", backup.to_str().unwrap()])
        .unwrap();
    assert_eq!(fed.node.head_seq().unwrap(), 1);
    fed.node.start_again().unwrap();
    let node = &mut fed.node;
    wait_until("the node reports its publishing blocked", PATIENCE, || {
        let status = node.status()?;
        Ok(status["blocked"].is_string() && status["open_alarms"] == 1)
    })
    .unwrap();
    let status = fed.node.status().unwrap();
    let alarms = status["alarms"].as_array().unwrap();
    assert_eq!(alarms.len(), 1, "{status}");
    assert_eq!(alarms[0]["kind"], "log_behind_hub");
    assert!(alarms[0]["resolved_at"].is_null());
    assert!(
        alarms[0]["detail"]
            .as_str()
            .unwrap()
            .contains("l'hub conserva 3 modifiche firmate da questo nodo, il nodo solo 1"),
        "{status}"
    );
    assert_eq!(status["head_seq"], 1);

    // A change to the national dataset is refused rather than signed at a seq the hub holds.
    let refused = fed.node.import("spese", "id", &spese_csv(1..=10, 9), false);
    assert!(refused.is_err(), "a blocked node signed a new entry");
    assert_eq!(fed.node.head_seq().unwrap(), 1);
    assert_eq!(fed.node.entry_count().unwrap(), 1);

    // The hub is untouched: same head, three entries, no fork.
    assert_eq!(fed.hub.head("026").unwrap(), hub_head);
    assert_eq!(fed.hub.entry_count("026").unwrap(), 3);
    assert_eq!(fed.hub.leaf_count().unwrap(), 3);
    assert_eq!(fed.hub.equivocation_count("026").unwrap(), 0);
    assert_eq!(fed.hub.rows("spese", "026").unwrap().len(), 400);
}
