//! The national `appalti` dataset derived from the SUA tables: which procedures have rows,
//! the exact values of a row, that a change moves exactly the changed procedure's rows, and
//! that with federation `national` those changes, and nothing else, become signed deltas.
//! Procedures are written straight into the SUA tables, so these tests depend only on the
//! schema, not on the workflow.

use pico_node::dati::{Federation, ops};
use pico_node::db::audit::Actor;
use pico_node::federation::Signer;
use pico_node::sua::national;
use pico_protocol::{ProvinceCode, SecretKey, SignedEntry};
use pico_service::Db;
use rusqlite::{Connection, params};
use serde_json::{Value, json};

use crate::helpers::init_dir;

/// A Treviso node's database, opened directly, with its signer.
struct Node {
    _dir: tempfile::TempDir,
    db: Db,
    signer: Signer,
}

impl Node {
    fn new() -> Node {
        let (dir, config) = init_dir("026");
        let db = Db::open_existing(&config.db_path(), pico_node::db::MIGRATIONS, 1).unwrap();
        let signer = Signer {
            province: ProvinceCode::parse("026").unwrap(),
            key: SecretKey::load(&config.key_path()).unwrap(),
        };
        Node {
            _dir: dir,
            db,
            signer,
        }
    }

    fn conn(&self) -> pico_service::db::PooledConnection {
        self.db.get().unwrap()
    }

    /// Runs `change` and the refresh of `ids` in one transaction, as the workflow does.
    fn change(&self, ids: &[i64], change: impl FnOnce(&Connection)) {
        let mut conn = self.conn();
        let tx = conn.transaction().unwrap();
        change(&tx);
        national::refresh_procedures(&tx, &self.signer, ids).unwrap();
        tx.commit().unwrap();
    }

    /// Every row of the dataset: key text to values.
    fn rows(&self) -> Vec<(String, Value)> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT pk, data FROM dataset_rows WHERE dataset = 'appalti' ORDER BY pk")
            .unwrap();
        stmt.query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })
        .unwrap()
        .map(|row| {
            let (pk, data) = row.unwrap();
            (pk, serde_json::from_str(&data).unwrap())
        })
        .collect()
    }

    /// The row of `(procedure, lot)` as an object field -> value.
    fn row(&self, procedure: i64, lot: i64) -> Option<Value> {
        let key = format!("[{procedure},{lot}]");
        self.rows()
            .into_iter()
            .find(|(pk, _)| *pk == key)
            .map(|(_, data)| as_object(&data))
    }

    fn row_count(&self) -> i64 {
        self.conn()
            .query_row(
                "SELECT row_count FROM datasets WHERE name = 'appalti'",
                [],
                |r| r.get(0),
            )
            .unwrap()
    }

    fn set_federation(&self, federation: Federation) -> Vec<u64> {
        ops::set_federation(
            &mut self.conn(),
            &self.signer,
            &Actor::cli(),
            "appalti",
            federation,
            &pico_protocol::dcat::Agent {
                name: "Provincia di Treviso".into(),
                ipa_code: "p_tv".into(),
            },
        )
        .unwrap()
        .entries
    }

    /// Defines the dataset (as the first change of a procedure does) and federates it, so
    /// that its rows are kept.
    fn national(&self) {
        self.change(&[i64::MAX], |_| {});
        self.set_federation(Federation::National);
    }

    /// The payloads of the entries after `seq`.
    fn entries_after(&self, seq: i64) -> Vec<Value> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare("SELECT bytes FROM outbox WHERE seq > ?1 ORDER BY seq")
            .unwrap();
        stmt.query_map([seq], |row| row.get::<_, Vec<u8>>(0))
            .unwrap()
            .map(|bytes| {
                let entry = SignedEntry::from_bytes(&bytes.unwrap()).unwrap();
                serde_json::from_slice(entry.body_bytes()).unwrap()
            })
            .collect()
    }

    fn head(&self) -> i64 {
        self.conn()
            .query_row("SELECT head_seq FROM federation_state", [], |r| r.get(0))
            .unwrap()
    }
}

/// A row as an object, with the field names of the schema.
fn as_object(values: &Value) -> Value {
    let values = values.as_array().unwrap();
    assert_eq!(values.len(), national::FIELDS.len());
    Value::Object(
        national::FIELDS
            .iter()
            .zip(values)
            .map(|((name, _), value)| ((*name).to_owned(), value.clone()))
            .collect(),
    )
}

/// A procedure as the tests write it; the defaults are a published open procedure of
/// Treviso for Comune 026086, requested on 2025-01-10.
struct Procedure {
    comune: Option<&'static str>,
    aggregated: bool,
    state: &'static str,
    published_on: Option<&'static str>,
    awarded_on: Option<&'static str>,
    pnrr: bool,
    procedure_code: i64,
    estimated_cents: i64,
}

impl Default for Procedure {
    fn default() -> Procedure {
        Procedure {
            comune: Some("026086"),
            aggregated: false,
            state: "published",
            published_on: Some("2025-03-14"),
            awarded_on: None,
            pnrr: false,
            procedure_code: 1,
            estimated_cents: 30_000_000,
        }
    }
}

/// 2025-01-10T09:00:00Z.
const REQUESTED_AT: i64 = 1_736_499_600;

fn insert(conn: &Connection, p: &Procedure) -> i64 {
    conn.execute(
        "INSERT INTO sua_procedures (comune_code, buyer_cf, buyer_name, aggregated, object,
             contract_type, cpv_main, estimated_cents, procedure_code, procedure_label,
             award_criterion, cup, pnrr, state, ocid, published_on, awarded_on, requested_at,
             year, source, created_by, created_at, updated_at)
         VALUES (?1, '80007310263', 'Comune di Treviso', ?2, 'Manutenzione strade comunali',
             'works', '45233141-9', ?3, ?4, 'PROCEDURA APERTA', 'lowest_price',
             'J51B21000120006', ?5, ?6, NULL, ?7, ?8, ?9, 2025, 'web', 'test', ?9, ?9)",
        params![
            p.comune,
            p.aggregated,
            p.estimated_cents,
            p.procedure_code,
            p.pnrr,
            p.state,
            p.published_on,
            p.awarded_on,
            REQUESTED_AT
        ],
    )
    .unwrap();
    conn.last_insert_rowid()
}

fn add_lot(conn: &Connection, procedure: i64, lot_no: i64, cig: Option<&str>, cents: i64) {
    conn.execute(
        "INSERT INTO sua_lots (procedure_id, lot_no, cig, description, cpv, amount_cents)
         VALUES (?1, ?2, ?3, 'Lotto', NULL, ?4)",
        params![procedure, lot_no, cig, cents],
    )
    .unwrap();
}

fn award_lot(conn: &Connection, procedure: i64, lot_no: i64, award_cents: i64, on: &str) {
    conn.execute(
        "UPDATE sua_lots SET status = 'awarded', award_cents = ?3, awarded_on = ?4,
             bids_count = 4, supplier_name = 'Strade Srl', supplier_cf = '01234567890'
         WHERE procedure_id = ?1 AND lot_no = ?2",
        params![procedure, lot_no, award_cents, on],
    )
    .unwrap();
}

fn keys(rows: &[(String, Value)]) -> Vec<&str> {
    rows.iter().map(|(pk, _)| pk.as_str()).collect()
}

#[test]
fn public_procedures_have_one_row_per_lot_with_the_documented_values() {
    let node = Node::new();
    node.national();
    let mut ids = Vec::new();
    node.change(&[], |tx| {
        // 1: published, two lots.
        let id = insert(tx, &Procedure::default());
        add_lot(tx, id, 1, Some("B010000001"), 20_000_000);
        add_lot(tx, id, 2, None, 10_000_000);
        ids.push(id);
        // 2: a request, not public.
        ids.push(insert(
            tx,
            &Procedure {
                state: "submitted",
                published_on: None,
                ..Procedure::default()
            },
        ));
        // 3: awarded, PNRR, negotiated (code 4): its lot has an award without a stored
        // ribasso, which is computed.
        let id = insert(
            tx,
            &Procedure {
                state: "awarded",
                pnrr: true,
                procedure_code: 4,
                awarded_on: Some("2025-05-20"),
                ..Procedure::default()
            },
        );
        add_lot(tx, id, 1, Some("B010000003"), 82_041_776);
        award_lot(tx, id, 1, 81_153_741, "2025-05-20");
        ids.push(id);
        // 4: cancelled before publication: no rows.
        ids.push(insert(
            tx,
            &Procedure {
                state: "cancelled",
                published_on: None,
                ..Procedure::default()
            },
        ));
        // 5: cancelled after publication: kept, as cancelled.
        let id = insert(
            tx,
            &Procedure {
                state: "cancelled",
                ..Procedure::default()
            },
        );
        add_lot(tx, id, 1, Some("B010000005"), 5_000_000);
        ids.push(id);
        // 6: deserted, without lots: one row standing for the whole procedure.
        ids.push(insert(
            tx,
            &Procedure {
                state: "deserted",
                estimated_cents: 7_500_050,
                ..Procedure::default()
            },
        ));
        // 7: an aggregated initiative for three Comuni, led by none.
        let id = insert(
            tx,
            &Procedure {
                comune: None,
                aggregated: true,
                ..Procedure::default()
            },
        );
        for (comune, share) in [("026087", 100), ("026001", 200), ("026086", 300)] {
            tx.execute(
                "INSERT INTO sua_participants (procedure_id, comune_code, share_cents) VALUES (?1, ?2, ?3)",
                params![id, comune, share],
            )
            .unwrap();
        }
        add_lot(tx, id, 1, Some("B010000007"), 600);
        ids.push(id);
    });
    node.change(&ids, |_| {});

    let rows = node.rows();
    assert_eq!(
        keys(&rows),
        ["[1,1]", "[1,2]", "[3,1]", "[5,1]", "[6,0]", "[7,1]"]
    );
    assert_eq!(node.row_count(), 6);
    assert_eq!(
        node.row(3, 1).unwrap(),
        json!({
            "procedure_id": 3, "lot_no": 1, "cig": "B010000003", "ocid": null, "anac_gara": null,
            "comune": "026086", "comuni": "026086", "aggregated": false,
            "buyer_cf": "80007310263", "object": "Manutenzione strade comunali",
            "contract_type": "works", "procedure_code": 4, "procedure_label": "PROCEDURA APERTA",
            "award_criterion": "lowest_price", "cpv": "45233141-9", "cpv_division": "45",
            "cup": "J51B21000120006", "pnrr": true, "state": "awarded", "lot_status": "awarded",
            "year": 2025, "month": 3, "published_on": "2025-03-14", "awarded_on": "2025-05-20",
            "estimated_amount": "300000.00", "lot_amount": "820417.76",
            "award_amount": "811537.41", "ribasso": "1.082", "bids_count": 4,
            "duration_days": 130
        })
    );
    let lot2 = node.row(1, 2).unwrap();
    assert_eq!(lot2["cig"], Value::Null);
    assert_eq!(lot2["lot_amount"], "100000.00");
    assert_eq!(lot2["award_amount"], Value::Null);
    assert_eq!(lot2["duration_days"], Value::Null);
    let cancelled = node.row(5, 1).unwrap();
    assert_eq!(cancelled["state"], "cancelled");
    let whole = node.row(6, 0).unwrap();
    assert_eq!(
        (&whole["lot_amount"], &whole["lot_status"], &whole["cig"]),
        (&json!("75000.50"), &json!("deserted"), &Value::Null)
    );
    let aggregated = node.row(7, 1).unwrap();
    assert_eq!(aggregated["comune"], Value::Null);
    assert_eq!(aggregated["comuni"], "026001 026086 026087");
    assert_eq!(aggregated["aggregated"], true);
    assert_eq!(aggregated["lot_amount"], "6.00");

    // The dataset is an ordinary Dati dataset: typed fields, the documented key.
    let dataset = pico_node::db::datasets::get(&node.conn(), "appalti")
        .unwrap()
        .unwrap();
    assert_eq!(dataset.primary_key, ["procedure_id", "lot_no"]);
    assert_eq!(dataset.fields, national::field_defs());
    assert_eq!(dataset.federation, Federation::National);
}

/// Three published procedures of two lots each; returns their ids.
fn three_procedures(node: &Node) -> Vec<i64> {
    let mut ids = Vec::new();
    node.change(&[], |tx| {
        for i in 0..3 {
            let id = insert(tx, &Procedure::default());
            add_lot(tx, id, 1, Some(&format!("B02600000{i}")), 1_000_000);
            add_lot(tx, id, 2, None, 2_000_000);
            ids.push(id);
        }
    });
    node.change(&ids, |_| {});
    ids
}

#[test]
fn a_change_moves_exactly_the_rows_of_its_procedure() {
    let node = Node::new();
    node.national();
    let ids = three_procedures(&node);
    let before = node.rows();
    assert_eq!(before.len(), 6);

    // Award lot 1 of the second procedure and drop its lot 2.
    let id = ids[1];
    node.change(&[id], |tx| {
        award_lot(tx, id, 1, 900_000, "2025-04-01");
        tx.execute(
            "DELETE FROM sua_lots WHERE procedure_id = ?1 AND lot_no = 2",
            [id],
        )
        .unwrap();
        tx.execute(
            "UPDATE sua_procedures SET state = 'awarded', awarded_on = '2025-04-01' WHERE id = ?1",
            [id],
        )
        .unwrap();
    });
    let after = node.rows();
    assert_eq!(keys(&after), ["[1,1]", "[1,2]", "[2,1]", "[3,1]", "[3,2]"]);
    for (pk, data) in &after {
        if !pk.starts_with("[2,") {
            assert!(
                before.contains(&(pk.clone(), data.clone())),
                "{pk} untouched"
            );
        }
    }
    let awarded = node.row(id, 1).unwrap();
    assert_eq!(awarded["ribasso"], "10.000");
    assert_eq!(awarded["state"], "awarded");
    assert_eq!(node.row_count(), 5);

    // Cancelled and unpublished (a correction of a publication entered by mistake): the
    // procedure is no longer public and loses its rows.
    node.change(&[ids[0]], |tx| {
        tx.execute(
            "UPDATE sua_procedures SET state = 'cancelled', published_on = NULL WHERE id = ?1",
            [ids[0]],
        )
        .unwrap();
    });
    assert_eq!(keys(&node.rows()), ["[2,1]", "[3,1]", "[3,2]"]);
    assert_eq!(node.row_count(), 3);
}

#[test]
fn with_national_federation_each_change_is_signed_as_exactly_its_delta() {
    let node = Node::new();
    let ids = three_procedures(&node);

    // Enabling federation sends the derived rows as a full snapshot.
    let entries = node.set_federation(Federation::National);
    assert_eq!(entries, [1]);
    let snapshot = &node.entries_after(0)[0];
    assert_eq!(snapshot["dataset"], "appalti");
    assert_eq!(snapshot["primary_key"], json!(["procedure_id", "lot_no"]));
    assert_eq!(snapshot["snapshot"]["parts"], 1);
    assert_eq!(snapshot["upserts"].as_array().unwrap().len(), 6);
    let fields: Vec<&str> = snapshot["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        national::FIELDS.iter().map(|(n, _)| *n).collect::<Vec<_>>()
    );

    // A change of one lot of procedure 2: one entry, with exactly that row.
    let id = ids[1];
    node.change(&[id], |tx| award_lot(tx, id, 1, 950_000, "2025-04-02"));
    let delta = node.entries_after(1);
    assert_eq!(delta.len(), 1);
    let delta = &delta[0];
    assert!(delta.get("snapshot").is_none());
    let upserts = delta["upserts"].as_array().unwrap();
    assert_eq!(upserts.len(), 1);
    assert_eq!(as_object(&upserts[0])["ribasso"], "5.000");
    assert_eq!(
        &upserts[0],
        &node.rows()[2].1,
        "the delta carries the stored row"
    );
    assert!(delta.get("deletes").is_none() || delta["deletes"] == json!([]));

    // Refreshing procedures that did not change signs nothing.
    node.change(&ids, |_| {});
    assert_eq!(node.head(), 2);

    // A lot removed and one added in procedure 3, and procedure 1 withdrawn from publication:
    // one entry with the new lot and the three removed keys.
    node.change(&[ids[2], ids[0]], |tx| {
        tx.execute(
            "DELETE FROM sua_lots WHERE procedure_id = ?1 AND lot_no = 2",
            [ids[2]],
        )
        .unwrap();
        add_lot(tx, ids[2], 3, Some("B026000099"), 3_000_000);
        tx.execute(
            "UPDATE sua_procedures SET state = 'cancelled', published_on = NULL WHERE id = ?1",
            [ids[0]],
        )
        .unwrap();
    });
    let delta = node.entries_after(2);
    assert_eq!(delta.len(), 1);
    let upserts: Vec<Value> = delta[0]["upserts"]
        .as_array()
        .unwrap()
        .iter()
        .map(as_object)
        .collect();
    assert_eq!(upserts.len(), 1);
    assert_eq!(
        (&upserts[0]["procedure_id"], &upserts[0]["lot_no"]),
        (&json!(3), &json!(3))
    );
    let mut deletes = delta[0]["deletes"].as_array().unwrap().clone();
    deletes.sort_by_key(|d| d.to_string());
    assert_eq!(deletes, [json!([1, 1]), json!([1, 2]), json!([3, 2])]);
    assert_eq!(node.row_count(), 4);

    // Off again: the withdrawal, and the rows go; later changes sign nothing and keep none.
    node.set_federation(Federation::Off);
    let head = node.head();
    assert!(node.rows().is_empty());
    node.change(&[ids[1]], |tx| {
        award_lot(tx, ids[1], 2, 1_000_000, "2025-04-03");
    });
    assert_eq!(node.head(), head);
    assert!(node.rows().is_empty());
    // National again: every row is built and sent, the award of the while included.
    node.set_federation(Federation::National);
    assert_eq!(node.head(), head + 1, "one snapshot part");
    assert_eq!(node.row(ids[1], 2).unwrap()["award_amount"], "10000.00");
    assert_eq!(node.row_count(), 4);
}

#[test]
fn rows_are_kept_only_while_national_and_built_alike_either_way() {
    // One node federated from the start maintains its rows change by change; the other
    // keeps none while off and builds them all when it turns national: the same rows.
    let maintained = Node::new();
    maintained.national();
    let built = Node::new();
    let ids_maintained = three_procedures(&maintained);
    let ids_built = three_procedures(&built);
    for (node, ids) in [(&maintained, &ids_maintained), (&built, &ids_built)] {
        let id = ids[0];
        node.change(ids, |tx| {
            award_lot(tx, id, 2, 1_500_000, "2025-06-30");
            add_lot(tx, id, 3, None, 42);
        });
    }
    assert!(built.rows().is_empty(), "no rows while off");
    assert_eq!(built.row_count(), 0);
    assert_eq!(built.head(), 0, "nothing signed while off");

    let entries = built.set_federation(Federation::National);
    assert_eq!(entries, [1], "one snapshot part");
    assert_eq!(built.rows(), maintained.rows());
    assert_eq!(built.row_count(), 7);
    assert_eq!(built.row_count(), maintained.row_count());
    let snapshot = &built.entries_after(0)[0];
    assert_eq!(snapshot["upserts"].as_array().unwrap().len(), 7);

    // Back off: the withdrawal is signed and the rows are dropped.
    let entries = built.set_federation(Federation::Off);
    assert_eq!(entries, [2]);
    assert!(built.rows().is_empty());
    assert_eq!(built.row_count(), 0);
}

#[test]
fn the_derived_dataset_is_not_written_by_hand() {
    let node = Node::new();
    node.national();
    let ids = three_procedures(&node);
    let import = ops::import(
        &mut node.conn(),
        &node.signer,
        &Actor::cli(),
        &ops::ImportRequest {
            name: "appalti".into(),
            title: None,
            key: Some(vec!["cig".into()]),
            csv: b"cig,importo\nX1,10\n".to_vec(),
            replace: false,
        },
    )
    .unwrap_err();
    assert!(
        import.to_string().contains("è ricavato dal modulo SUA"),
        "{import}"
    );
    let deletion = ops::delete_rows(
        &mut node.conn(),
        &node.signer,
        &Actor::cli(),
        "appalti",
        &[vec![ids[0].to_string(), "1".into()]],
    )
    .unwrap_err();
    assert!(
        deletion
            .to_string()
            .contains("non si può importare né modificare a mano")
    );
    assert_eq!(node.rows().len(), 6, "nothing changed");
}

#[test]
fn a_hand_made_dataset_named_appalti_is_taken_over() {
    // Before the SUA module, a Province could import a CSV of its own named `appalti`; a
    // database of that time is written here as it was.
    let node = Node::new();
    {
        let conn = node.conn();
        let dataset = pico_node::dati::Dataset {
            name: "appalti".into(),
            title: "Appalti".into(),
            fields: ["cig", "importo"]
                .map(|name| pico_node::dati::FieldDef {
                    name: name.into(),
                    kind: pico_node::dati::FieldType::Text,
                })
                .to_vec(),
            primary_key: vec!["cig".into()],
            schema_version: 1,
            federation: Federation::Off,
            row_count: 2,
            created_at: 1,
            updated_at: 1,
        };
        pico_node::db::datasets::put(&conn, &dataset).unwrap();
        pico_node::db::datasets::put_row(&conn, "appalti", "[\"X1\"]", "[\"X1\",\"10\"]").unwrap();
        pico_node::db::datasets::put_row(&conn, "appalti", "[\"X2\"]", "[\"X2\",\"20\"]").unwrap();
    }
    node.set_federation(Federation::National);
    let head = node.head();
    let ids = three_procedures(&node);
    let dataset = pico_node::db::datasets::get(&node.conn(), "appalti")
        .unwrap()
        .unwrap();
    assert_eq!(dataset.schema_version, 2);
    assert_eq!(dataset.federation, Federation::National);
    assert_eq!(
        node.rows().len(),
        6,
        "the CSV rows are gone, the SUA's are there"
    );
    // The new schema travels as a full snapshot, then deltas as usual.
    let entries = node.entries_after(head);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["schema_version"], 2);
    assert_eq!(entries[0]["upserts"].as_array().unwrap().len(), 6);
    assert!(entries[0]["snapshot"].is_object());
    assert_eq!(ids.len(), 3);
}

/// Cost of refreshing a bulk import of 1,000,000 lots (200,000 procedures of 5 lots) in
/// chunks of 10,000 procedures, as `sua import` does, against inserting the lots alone:
/// `cargo test -p pico-node --release --test it sua_national_bulk -- --ignored --nocapture`.
#[test]
#[ignore = "measurement: run on demand"]
fn sua_national_bulk_refresh_of_a_million_lots() {
    for federation in [Federation::Off, Federation::National] {
        let node = Node::new();
        // The dataset exists before the import (as it does once the SUA has been used).
        node.change(&[1], |_| {});
        if federation == Federation::National {
            node.set_federation(Federation::National);
        }
        let mut conn = node.conn();
        let tx = conn.transaction().unwrap();
        let started = std::time::Instant::now();
        let procedures = 200_000i64;
        {
            let mut procedure = tx
                .prepare(
                    "INSERT INTO sua_procedures (id, comune_code, buyer_name, object, contract_type,
                         cpv_main, estimated_cents, procedure_code, procedure_label, award_criterion,
                         pnrr, state, published_on, awarded_on, requested_at, year, source,
                         created_by, created_at, updated_at)
                     VALUES (?1, '026086', 'Comune di Treviso', 'Manutenzione strade', 'works',
                         '45233141-9', 5000000, 1, 'PROCEDURA APERTA', 'lowest_price', ?2,
                         'awarded', '2025-03-14', '2025-05-20', ?3, 2025, 'import_csv', 'test', ?3, ?3)",
                )
                .unwrap();
            let mut lot = tx
                .prepare(
                    "INSERT INTO sua_lots (procedure_id, lot_no, cig, description, amount_cents,
                         status, award_cents, ribasso_milli, awarded_on, bids_count)
                     VALUES (?1, ?2, ?3, 'Lotto', 1000000, 'awarded', 900000, 10000, '2025-05-20', 3)",
                )
                .unwrap();
            for id in 1..=procedures {
                procedure
                    .execute(params![id, id % 3 == 0, REQUESTED_AT])
                    .unwrap();
                for lot_no in 1..=5 {
                    lot.execute(params![id, lot_no, format!("C{:09}", id * 5 + lot_no)])
                        .unwrap();
                }
            }
        }
        let inserted = started.elapsed();
        let started = std::time::Instant::now();
        let ids: Vec<i64> = (1..=procedures).collect();
        for chunk in ids.chunks(10_000) {
            national::refresh_procedures(&tx, &node.signer, chunk).unwrap();
        }
        let refreshed = started.elapsed();
        tx.commit().unwrap();
        drop(conn);
        let rows: i64 = node
            .conn()
            .query_row(
                "SELECT count(*) FROM dataset_rows WHERE dataset = 'appalti'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let expected = match federation {
            Federation::National => procedures * 5,
            // Not federated: no rows are kept; enabling builds them (below).
            Federation::Off => 0,
        };
        assert_eq!(rows, expected);
        assert_eq!(node.row_count(), rows);
        let peak = std::fs::read_to_string("/proc/self/status")
            .unwrap_or_default()
            .lines()
            .find(|l| l.starts_with("VmHWM"))
            .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
            .unwrap_or_default();
        println!(
            "federation {federation:?}: inserting {} lots {inserted:?}; refreshing them {refreshed:?} \
             ({:.0} rows/s); outbox entries {}; process peak RSS so far {peak}",
            procedures * 5,
            rows as f64 / refreshed.as_secs_f64(),
            node.head()
        );
        if federation == Federation::Off {
            // Enabling federation afterwards: the Dati module's full snapshot of these rows.
            let started = std::time::Instant::now();
            let entries = node.set_federation(Federation::National);
            let peak = std::fs::read_to_string("/proc/self/status")
                .unwrap_or_default()
                .lines()
                .find(|l| l.starts_with("VmHWM"))
                .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
                .unwrap_or_default();
            println!(
                "then enabling federation: {} rows built and sent as a snapshot in {} entries, {:?}; process peak RSS so far {peak}",
                node.row_count(),
                entries.len(),
                started.elapsed()
            );
        }
    }
}

/// Migration 7 rebuilds `sua_procedures` and `sua_lots` (their value lists as comparisons):
/// a database written by the release before keeps every row, its references and its rules.
#[test]
fn migration_7_keeps_the_sua_rows_and_their_rules() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("node.db");
    {
        let db = Db::open(&path, &pico_node::db::MIGRATIONS[..6], 1).unwrap();
        let conn = db.get().unwrap();
        conn.execute_batch(
            "INSERT INTO sua_procedures (id, buyer_name, object, contract_type, cpv_main,
                 estimated_cents, procedure_code, procedure_label, award_criterion, state, ocid,
                 requested_at, year, source, external_key, created_by, created_at, updated_at)
             VALUES (1, 'COMUNE DI X', 'Strade', 'works', '45233141-9', 100, 1, 'PROCEDURA APERTA',
                 'lowest_price', 'awarded', 'ocds-hu01ve-1', 0, 2025, 'import_ocds', 'k1', 't', 0, 0),
                    (2, 'COMUNE DI Y', 'Mense', 'services', '55524000-9', 200, 4, 'NEGOZIATA',
                 'unknown', 'published', NULL, 0, 2025, 'import_csv', 'k2', 't', 0, 0);
             INSERT INTO sua_lots (procedure_id, lot_no, cig, description, amount_cents, status)
             VALUES (1, 1, 'A000000001', 'Lotto', 100, 'awarded'), (2, 1, 'A000000002', 'Lotto', 200, 'active');
             INSERT INTO sua_transitions (procedure_id, to_state, actor, at) VALUES (1, 'awarded', 't', 0);",
        )
        .unwrap();
    }
    let db = Db::open(&path, pico_node::db::MIGRATIONS, 1).unwrap();
    let conn = db.get().unwrap();
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(count("SELECT count(*) FROM sua_procedures"), 2);
    assert_eq!(count("SELECT count(*) FROM sua_lots"), 2);
    assert_eq!(count("SELECT count(*) FROM sua_transitions"), 1);
    assert_eq!(
        count("SELECT count(*) FROM sua_lots l JOIN sua_procedures p ON p.id = l.procedure_id"),
        2
    );
    let refused = |sql: &str| conn.execute(sql, []).unwrap_err().to_string();
    assert!(refused("UPDATE sua_procedures SET state = 'bogus' WHERE id = 1").contains("CHECK"));
    assert!(refused("UPDATE sua_lots SET status = 'bogus' WHERE id = 1").contains("CHECK"));
    assert!(
        refused("UPDATE sua_procedures SET ocid = 'ocds-hu01ve-1' WHERE id = 2").contains("UNIQUE")
    );
    assert!(
        refused("INSERT INTO sua_lots (procedure_id, lot_no, description, amount_cents) VALUES (9, 1, 'x', 1)")
            .contains("FOREIGN KEY")
    );
    conn.execute(
        "UPDATE sua_procedures SET state = 'contract_signed' WHERE id = 1",
        [],
    )
    .unwrap();
}
