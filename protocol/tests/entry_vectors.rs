//! Golden test vectors for entries, chains and receipts (`protocol/vectors/entries.json`).
//!
//! The vectors are generated from fixed seeds and a fixed time, so generation is
//! deterministic: the test regenerates them in memory and requires the checked-in file to be
//! identical (set `PICO_REGENERATE_VECTORS=1` to rewrite it after an intended change), then
//! checks every vector *from the file* against the library.

#![expect(
    clippy::unwrap_used,
    reason = "a test or benchmark fails loudly on unexpected input"
)]

mod common;

use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use pico_protocol::envelope::{sign_raw, sign_raw_bytes};
use pico_protocol::jws::Jws;
use pico_protocol::payload::*;
use pico_protocol::receipt::ReceiptStatus;
use pico_protocol::verify::{ChainStatus, Head, KeyRecord, check_chain, verify_entry};
use pico_protocol::*;
use serde_json::{Value, json};

const IAT: &str = "2026-01-15T09:30:00Z";

fn vectors_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors/entries.json")
}

fn province(code: &str) -> ProvinceCode {
    ProvinceCode::parse(code).unwrap()
}

fn seq(n: u64) -> Seq {
    Seq::new(n).unwrap()
}

/// (name, province, valid_from, revoked_from) of every key in the vectors' key directory.
const DIRECTORY: &[(&str, &str, u64, Option<u64>)] = &[
    ("treviso", "026", 1, Some(6)),
    ("treviso-rotated", "026", 6, None),
    ("treviso-revoked", "026", 1, Some(3)),
    ("brescia", "017", 1, None),
    ("pesaro-urbino", "041", 1, None),
];

fn directory() -> Vec<KeyRecord> {
    DIRECTORY
        .iter()
        .map(|(name, code, from, revoked)| KeyRecord {
            province: province(code),
            key: common::key(name).public_key(),
            valid_from: seq(*from),
            revoked_from: revoked.map(seq),
        })
        .collect()
}

struct Log {
    sender: ProvinceCode,
    head: Head,
    entries: Vec<SignedEntry>,
}

impl Log {
    fn new(code: &str) -> Log {
        Log {
            sender: province(code),
            head: Head::EMPTY,
            entries: vec![],
        }
    }

    fn draft<'a>(&self, payload: &'a Payload) -> EntryDraft<'a> {
        EntryDraft {
            sender: self.sender,
            seq: seq(self.head.seq + 1),
            prev: self.head.hash,
            iat: IAT.parse().unwrap(),
            payload,
        }
    }

    fn append(&mut self, key: &str, payload: &Payload) -> SignedEntry {
        let entry = self.draft(payload).sign(&common::key(key)).unwrap();
        self.head = Head {
            seq: self.head.seq + 1,
            hash: entry.entry_hash(),
        };
        self.entries.push(entry.clone());
        entry
    }
}

fn text(entry: &SignedEntry) -> String {
    String::from_utf8(entry.to_bytes()).unwrap()
}

fn header_of(entry: &SignedEntry) -> EntryHeader {
    entry.header_unverified().unwrap()
}

fn best_practice() -> Payload {
    Payload::BestPractice(BestPractice {
        id: "sua-convenzione-tipo-2026".into(),
        title: "Convenzione tipo SUA–Comuni con ripartizione dei costi per fasce di popolazione".into(),
        summary: "Schema di convenzione per l’adesione dei Comuni alla Stazione Unica Appaltante.".into(),
        module: Module::Sua,
        comuni: vec![ComuneCode::parse("026086").unwrap(), ComuneCode::parse("026049").unwrap()],
        tags: vec!["convenzione".into(), "d.lgs. 36/2023".into()],
        language: "it".into(),
        body: "## Oggetto\nLa Provincia svolge le funzioni di **centrale di committenza**…\n\t\"art. 62\"".into(),
        attachments: vec![Attachment {
            name: "convenzione-tipo.pdf".into(),
            media_type: "application/pdf".into(),
            sha256: Hash32::digest_of(&[b"%PDF-1.7 convenzione tipo"]),
            length: 25,
        }],
        status: PublicationStatus::Published,
    })
}

fn opening_post() -> Payload {
    Payload::NetworkMessage(NetworkMessage {
        network: Network::Sua,
        thread: None,
        reply_to: None,
        subject: Some("Qualificazione delle stazioni appaltanti: esperienze a confronto".into()),
        body: "Come avete organizzato la qualificazione SA di livello L1 per i lavori?".into(),
        attachments: vec![],
    })
}

fn reply(thread_seq: u64) -> Payload {
    let opening = EntryRef {
        origin: province("026"),
        seq: seq(thread_seq),
    };
    Payload::NetworkMessage(NetworkMessage {
        network: Network::Sua,
        thread: Some(opening),
        reply_to: Some(opening),
        subject: None,
        body: "A Treviso abbiamo un ufficio unico con 4 RUP qualificati.".into(),
        attachments: vec![],
    })
}

/// Brescia's reply in Treviso's thread, with a document attached (SPEC §8.3).
fn reply_with_document(thread_seq: u64) -> Payload {
    let opening = EntryRef {
        origin: province("026"),
        seq: seq(thread_seq),
    };
    Payload::NetworkMessage(NetworkMessage {
        network: Network::Sua,
        thread: Some(opening),
        reply_to: Some(opening),
        subject: None,
        body: "Vi alleghiamo il nostro regolamento dell’ufficio gare.".into(),
        attachments: vec![Attachment {
            name: "regolamento-ufficio-gare.pdf".into(),
            media_type: "application/pdf".into(),
            sha256: Hash32::digest_of(&[b"%PDF-1.7 regolamento ufficio gare"]),
            length: 33,
        }],
    })
}

/// Replaces the signature with another one of the same length.
fn with_flipped_signature(entry: &SignedEntry) -> SignedEntry {
    let mut signature = URL_SAFE_NO_PAD.decode(&entry.signature).unwrap();
    signature[10] ^= 0x01;
    SignedEntry {
        signature: URL_SAFE_NO_PAD.encode(signature),
        ..entry.clone()
    }
}

/// Treviso's description of its `appalti` dataset: open, complete, with text that needs
/// escaping in every serialisation of the catalogue.
fn metadata() -> DatasetMetadata {
    use pico_protocol::dcat::*;
    let treviso = Agent {
        name: "Provincia di Treviso".into(),
        ipa_code: "p_tv".into(),
    };
    DatasetMetadata {
        dataset: "appalti".into(),
        open: true,
        identifier: "p_tv:appalti".into(),
        title: "Appalti della SUA \"Treviso\"".into(),
        description: "Una riga per lotto.\nImporti in euro & ribassi <in percentuale>.".into(),
        themes: vec![
            concept_uri(THEME_SCHEME, "GOVE"),
            concept_uri(THEME_SCHEME, "ECON"),
        ],
        keywords: vec!["appalti".into(), "SUA".into()],
        publisher: treviso.clone(),
        rights_holder: treviso,
        contact_point: "opendata@provincia.treviso.it".into(),
        modified: "2026-01-15".into(),
        accrual_periodicity: concept_uri(FREQUENCY_SCHEME, "UPDATE_CONT"),
        temporal: Some(Period {
            start: "2025-01-01".into(),
            end: "2025-12-31".into(),
        }),
        spatial: vec!["026".into(), "026086".into()],
        license: concept_uri(LICENCE_SCHEME, "A21_CCBY40"),
    }
}

fn raw_entry(protected: &Value, payload: &[u8], signature: &str, body: &str) -> String {
    let protected = URL_SAFE_NO_PAD.encode(pico_protocol::canonical::to_vec(protected).unwrap());
    json!({
        "protected": protected,
        "payload": URL_SAFE_NO_PAD.encode(payload),
        "signature": signature,
        "body": serde_json::from_str::<Value>(body).unwrap(),
    })
    .to_string()
}

/// Replaces the body of an entry by `body` text, keeping the rest.
fn with_body(entry: &SignedEntry, body: &str) -> String {
    let mut value: Value = serde_json::from_slice(&entry.to_bytes()).unwrap();
    let object = value.as_object_mut().unwrap();
    object.remove("body");
    let prefix = serde_json::to_string(&value).unwrap();
    format!("{},\"body\":{body}}}", &prefix[..prefix.len() - 1])
}

/// Signs `body` (taken as is) under a correct header for it.
fn sign_body(
    key: &str,
    sender: &str,
    seq_no: u64,
    prev: Hash32,
    kind: PayloadKind,
    body: &str,
) -> SignedEntry {
    let header = EntryHeader {
        v: kind.since_version(),
        kind,
        sender: province(sender),
        seq: seq(seq_no),
        prev,
        iat: IAT.parse().unwrap(),
        body_sha256: Hash32::digest_of(&[body.as_bytes()]),
        body_len: body.len() as u64,
    };
    sign_raw(&common::key(key), &header, body.as_bytes().to_vec()).unwrap()
}

fn generate() -> Value {
    let mut treviso = Log::new("026");
    let mut first_batch = common::appalti_batch(2);
    first_batch.upserts[0][3] =
        "Manutenzione strade – Comune di Cortina d’Ampezzo \"lotto A\"\n".into();
    let batch = Payload::DatasetBatch(first_batch);
    let e1 = treviso.append("treviso", &batch);
    let e2 = treviso.append("treviso", &best_practice());
    let e3 = treviso.append("treviso", &opening_post());
    let e4 = treviso.append("treviso", &reply(3));
    let rotation = Payload::KeyRotation(KeyRotation::new(
        province("026"),
        &common::key("treviso-rotated"),
    ));
    let e5 = treviso.append("treviso", &rotation);
    let deletion = Payload::DatasetBatch(DatasetBatch {
        upserts: vec![],
        deletes: vec![vec![common::appalto(1)[0].clone()]],
        ..common::appalti_batch(0)
    });
    let e6 = treviso.append("treviso-rotated", &deletion);
    // Version 2: the DCAT-AP_IT description of the dataset (SPEC §8.6, §14).
    let e7 = treviso.append("treviso-rotated", &Payload::DatasetMetadata(metadata()));

    let mut brescia = Log::new("017");
    // Brescia's rows name Brescia's Comuni (SPEC §8.1: a Province speaks for its own).
    let mut brescia_batch = common::appalti_batch(1);
    let comune_at = brescia_batch
        .fields
        .iter()
        .position(|f| f == "comune")
        .unwrap();
    brescia_batch.upserts[0][comune_at] = "017029".into();
    let snapshot = Payload::DatasetBatch(DatasetBatch {
        snapshot: Some(SnapshotPart {
            id: "2026-01-15-appalti".into(),
            part: 1,
            parts: 1,
        }),
        ..brescia_batch
    });
    let b1 = brescia.append("brescia", &snapshot);
    let revocation = Payload::KeyRevocation(KeyRevocation {
        kid: common::key("treviso-revoked").key_id(),
        from_seq: seq(3),
        reason: "test: a key revoked from seq 3".into(),
    });
    let b2 = brescia.append("brescia", &revocation);
    // Withdrawing a dataset: a complete snapshot with no rows (SPEC §8.1).
    let withdrawal = Payload::DatasetBatch(DatasetBatch {
        snapshot: Some(SnapshotPart {
            id: "appalti-3-withdrawn".into(),
            part: 1,
            parts: 1,
        }),
        ..common::appalti_batch(0)
    });
    let b3 = brescia.append("brescia", &withdrawal);
    let b4 = brescia.append("brescia", &reply_with_document(3));

    let valid: Vec<Value> = [
        ("dataset_batch_first_entry", &e1, "treviso"),
        ("best_practice_with_attachment", &e2, "treviso"),
        ("network_message_opens_thread", &e3, "treviso"),
        ("network_message_reply", &e4, "treviso"),
        ("key_rotation_signed_by_old_key", &e5, "treviso"),
        (
            "dataset_delete_signed_by_rotated_key",
            &e6,
            "treviso-rotated",
        ),
        ("dataset_metadata_version_2", &e7, "treviso-rotated"),
        ("dataset_snapshot_part", &b1, "brescia"),
        ("key_revocation", &b2, "brescia"),
        ("dataset_withdrawal_empty_snapshot", &b3, "brescia"),
        ("network_message_reply_with_document", &b4, "brescia"),
    ]
    .into_iter()
    .map(|(name, entry, key)| {
        json!({
            "name": name,
            "entry_json": text(entry),
            "signing_input": entry.jws().signing_input(),
            "header": header_of(entry),
            "kid": common::key(key).key_id(),
            "entry_hash": entry.entry_hash(),
        })
    })
    .chain([json!({
        // The outer object need not be canonical (SPEC §5.1): same entry, same hash.
        "name": "outer_object_reordered_with_white_space",
        "entry_json": format!(
            "{{ \"body\" : {} ,\n\t\"signature\":\"{}\",\"protected\":\"{}\", \"payload\":\"{}\"\r\n}}",
            e1.body.get(),
            e1.signature,
            e1.protected,
            e1.payload
        ),
        "signing_input": e1.jws().signing_input(),
        "header": header_of(&e1),
        "kid": common::key("treviso").key_id(),
        "entry_hash": e1.entry_hash(),
    })])
    .collect();

    let h1 = header_of(&e1);
    let e1_body = e1.body.get();
    let treviso_kid = common::key("treviso").key_id();
    let header_json = |v: u64| {
        let mut header = serde_json::to_value(&h1).unwrap();
        header["v"] = json!(v);
        pico_protocol::canonical::to_vec(&header).unwrap()
    };
    let mut altered_body = e1_body.replacen("Manutenzione", "Manutenzioni", 1);
    assert_eq!(altered_body.len(), e1_body.len());
    let mut invalid: Vec<(&str, String, &str)> = vec![
        (
            "signature_bit_flipped",
            text(&with_flipped_signature(&e1)),
            "bad_signature",
        ),
        (
            "header_swapped_under_other_signature",
            text(&SignedEntry {
                signature: e1.signature.clone(),
                ..e2.clone()
            }),
            "bad_signature",
        ),
        (
            "body_altered_same_length",
            with_body(&e1, &altered_body),
            "body_mismatch",
        ),
        (
            "body_truncated",
            {
                altered_body = e1_body.replacen(",\"deletes\":[]", "", 1);
                with_body(&e1, &altered_body)
            },
            "body_mismatch",
        ),
        (
            "alg_none",
            raw_entry(
                &json!({"alg": "none", "kid": treviso_kid, "typ": "pico-entry"}),
                &header_json(1),
                "",
                e1_body,
            ),
            "unsupported_algorithm",
        ),
        (
            "alg_hs256",
            raw_entry(
                &json!({"alg": "HS256", "kid": treviso_kid, "typ": "pico-entry"}),
                &header_json(1),
                &URL_SAFE_NO_PAD.encode([0x5a; 32]),
                e1_body,
            ),
            "unsupported_algorithm",
        ),
        (
            "unsupported_version_3",
            text(
                &sign_raw_bytes(
                    &common::key("treviso"),
                    &header_json(3),
                    e1_body.as_bytes().to_vec(),
                )
                .unwrap(),
            ),
            "unsupported_version",
        ),
        (
            "unknown_key",
            text(&sign_body(
                "unenrolled",
                "026",
                1,
                Hash32::ZERO,
                PayloadKind::DatasetBatch,
                e1_body,
            )),
            "unknown_key",
        ),
        (
            "key_of_another_province",
            text(&sign_body(
                "brescia",
                "026",
                1,
                Hash32::ZERO,
                PayloadKind::DatasetBatch,
                e1_body,
            )),
            "unauthorised_key",
        ),
        (
            "rotated_key_before_its_first_seq",
            text(&sign_body(
                "treviso-rotated",
                "026",
                2,
                e1.entry_hash(),
                PayloadKind::DatasetBatch,
                e1_body,
            )),
            "unauthorised_key",
        ),
        (
            "old_key_after_rotation",
            text(&sign_body(
                "treviso",
                "026",
                7,
                header_of(&e6).prev,
                PayloadKind::DatasetBatch,
                e1_body,
            )),
            "revoked_key",
        ),
        (
            "revoked_key",
            text(&sign_body(
                "treviso-revoked",
                "026",
                4,
                Hash32::ZERO,
                PayloadKind::DatasetBatch,
                e1_body,
            )),
            "revoked_key",
        ),
        (
            "entry_header_with_whitespace",
            text(
                &sign_raw_bytes(
                    &common::key("treviso"),
                    serde_json::to_string_pretty(&h1).unwrap().as_bytes(),
                    e1_body.as_bytes().to_vec(),
                )
                .unwrap(),
            ),
            "non_canonical",
        ),
        (
            "body_with_float",
            text(&sign_body(
                "treviso",
                "026",
                1,
                Hash32::ZERO,
                PayloadKind::DatasetBatch,
                r#"{"dataset":"appalti","deletes":[],"fields":["cig","importo"],"primary_key":["cig"],"schema_version":1,"upserts":[["B000000001",1250.5]]}"#,
            )),
            "non_canonical",
        ),
        (
            "body_keys_unsorted",
            text(&sign_body(
                "treviso",
                "026",
                1,
                Hash32::ZERO,
                PayloadKind::DatasetBatch,
                r#"{"dataset":"appalti","deletes":[],"primary_key":["cig"],"fields":["cig"],"schema_version":1,"upserts":[]}"#,
            )),
            "non_canonical",
        ),
        (
            "body_duplicate_key",
            text(&sign_body(
                "treviso",
                "026",
                1,
                Hash32::ZERO,
                PayloadKind::DatasetBatch,
                r#"{"dataset":"appalti","dataset":"utenti","deletes":[],"fields":["cig"],"primary_key":["cig"],"schema_version":1,"upserts":[]}"#,
            )),
            "non_canonical",
        ),
        (
            "missing_signature_member",
            {
                let mut value: Value = serde_json::from_slice(&e1.to_bytes()).unwrap();
                value.as_object_mut().unwrap().remove("signature");
                value.to_string()
            },
            "malformed_envelope",
        ),
        (
            "unprotected_header_member",
            {
                let mut value: Value = serde_json::from_slice(&e1.to_bytes()).unwrap();
                value["header"] = json!({"kid": "x"});
                value.to_string()
            },
            "malformed_envelope",
        ),
        (
            "signature_with_base64_padding",
            text(&SignedEntry {
                signature: format!("{}==", e1.signature),
                ..e1.clone()
            }),
            "malformed_envelope",
        ),
        (
            "typ_is_not_pico_entry",
            raw_entry(
                &json!({"alg": "EdDSA", "kid": treviso_kid, "typ": "JWT"}),
                &header_json(1),
                &e1.signature,
                e1_body,
            ),
            "malformed_envelope",
        ),
        (
            "upsert_without_primary_key",
            text(&sign_body(
                "treviso",
                "026",
                1,
                Hash32::ZERO,
                PayloadKind::DatasetBatch,
                r#"{"dataset":"appalti","deletes":[],"fields":["cig","comune"],"primary_key":["cig"],"schema_version":1,"upserts":[[null,"026086"]]}"#,
            )),
            "invalid_payload",
        ),
        (
            "payload_unknown_field",
            text(&sign_body(
                "treviso",
                "026",
                1,
                Hash32::ZERO,
                PayloadKind::DatasetBatch,
                r#"{"dataset":"appalti","deletes":[],"fields":["cig"],"primary_key":["cig"],"schema_version":1,"upserts":[],"url":"x"}"#,
            )),
            "invalid_payload",
        ),
        (
            "revocation_reaching_back_into_accepted_history",
            text(&sign_body(
                "brescia",
                "017",
                5,
                Hash32::ZERO,
                PayloadKind::KeyRevocation,
                &String::from_utf8(
                    pico_protocol::canonical::to_vec(&KeyRevocation {
                        kid: common::key("brescia").key_id(),
                        from_seq: seq(2),
                        reason: "retroactive".into(),
                    })
                    .unwrap(),
                )
                .unwrap(),
            )),
            "invalid_payload",
        ),
        (
            "key_rotation_without_proof_of_new_key",
            text(&sign_body(
                "treviso",
                "026",
                5,
                Hash32::ZERO,
                PayloadKind::KeyRotation,
                &{
                    let Payload::KeyRotation(mut rotation) = rotation.clone() else {
                        unreachable!()
                    };
                    rotation.new_key = common::key("unenrolled").public_key();
                    String::from_utf8(pico_protocol::canonical::to_vec(&rotation).unwrap()).unwrap()
                },
            )),
            "invalid_payload",
        ),
    ];
    let signed_body =
        |kind, body: &str| text(&sign_body("treviso", "026", 1, Hash32::ZERO, kind, body));
    let compact = text(&e1);
    let h1_bytes = String::from_utf8(pico_protocol::canonical::to_vec(&h1).unwrap()).unwrap();
    assert!(h1_bytes.contains("\"seq\":1,"));
    invalid.extend([
        (
            "outer_object_duplicate_member",
            compact.replacen(
                "{\"protected\"",
                &format!("{{\"protected\":\"{}\",\"protected\"", e1.protected),
                1,
            ),
            "malformed_envelope",
        ),
        (
            "outer_object_escaped_string",
            compact.replacen(
                &format!("\"protected\":\"{}", &e1.protected[..1]),
                &format!(
                    "\"protected\":\"\\u{:04x}",
                    e1.protected.as_bytes()[0]
                ),
                1,
            ),
            "malformed_envelope",
        ),
        (
            "header_seq_beyond_2_53",
            text(
                &sign_raw_bytes(
                    &common::key("treviso"),
                    h1_bytes
                        .replacen("\"seq\":1,", "\"seq\":9007199254740992,", 1)
                        .as_bytes(),
                    e1_body.as_bytes().to_vec(),
                )
                .unwrap(),
            ),
            "non_canonical",
        ),
        (
            "snapshot_null",
            signed_body(
                PayloadKind::DatasetBatch,
                r#"{"dataset":"appalti","deletes":[],"fields":["cig"],"primary_key":["cig"],"schema_version":1,"snapshot":null,"upserts":[]}"#,
            ),
            "invalid_payload",
        ),
        (
            "thread_null",
            signed_body(
                PayloadKind::NetworkMessage,
                r#"{"attachments":[],"body":"Testo","network":"sua","subject":"Oggetto","thread":null}"#,
            ),
            "invalid_payload",
        ),
        (
            "reply_to_null",
            signed_body(
                PayloadKind::NetworkMessage,
                r#"{"attachments":[],"body":"Risposta","network":"sua","reply_to":null,"thread":{"origin":"026","seq":3}}"#,
            ),
            "invalid_payload",
        ),
        (
            "subject_null",
            signed_body(
                PayloadKind::NetworkMessage,
                r#"{"attachments":[],"body":"Risposta","network":"sua","subject":null,"thread":{"origin":"026","seq":3}}"#,
            ),
            "invalid_payload",
        ),
        (
            "required_upserts_missing",
            signed_body(
                PayloadKind::DatasetBatch,
                r#"{"dataset":"appalti","deletes":[],"fields":["cig"],"primary_key":["cig"],"schema_version":1}"#,
            ),
            "invalid_payload",
        ),
        (
            "required_attachments_missing",
            signed_body(
                PayloadKind::NetworkMessage,
                r#"{"body":"Testo","network":"sua","subject":"Oggetto"}"#,
            ),
            "invalid_payload",
        ),
        (
            "dataset_metadata_under_version_1",
            {
                let body = String::from_utf8(
                    Payload::DatasetMetadata(metadata()).to_canonical().unwrap(),
                )
                .unwrap();
                let header = EntryHeader {
                    v: 1,
                    kind: PayloadKind::DatasetMetadata,
                    sender: province("026"),
                    seq: seq(1),
                    prev: Hash32::ZERO,
                    iat: IAT.parse().unwrap(),
                    body_sha256: Hash32::digest_of(&[body.as_bytes()]),
                    body_len: body.len() as u64,
                };
                text(&sign_raw(&common::key("treviso"), &header, body.into_bytes()).unwrap())
            },
            "malformed_envelope",
        ),
        (
            "dataset_metadata_open_without_description",
            signed_body(
                PayloadKind::DatasetMetadata,
                &String::from_utf8(
                    Payload::DatasetMetadata(DatasetMetadata {
                        description: String::new(),
                        ..metadata()
                    })
                    .to_canonical()
                    .unwrap(),
                )
                .unwrap(),
            ),
            "invalid_payload",
        ),
        (
            "dataset_metadata_temporal_null",
            signed_body(
                PayloadKind::DatasetMetadata,
                &String::from_utf8(
                    Payload::DatasetMetadata(DatasetMetadata {
                        temporal: None,
                        ..metadata()
                    })
                    .to_canonical()
                    .unwrap(),
                )
                .unwrap()
                .replacen("\"themes\"", "\"temporal\":null,\"themes\"", 1),
            ),
            "invalid_payload",
        ),
        (
            "comune_of_another_province",
            signed_body(
                PayloadKind::DatasetBatch,
                r#"{"dataset":"appalti","deletes":[],"fields":["cig","comune"],"primary_key":["cig"],"schema_version":1,"upserts":[["B000000001","017029"]]}"#,
            ),
            "invalid_payload",
        ),
    ]);
    let invalid: Vec<Value> = invalid
        .into_iter()
        .map(|(name, entry_json, error)| json!({"name": name, "entry_json": entry_json, "error": error}))
        .collect();

    // A fork of Treviso's log: a different entry at seq 2.
    let fork = EntryDraft {
        sender: province("026"),
        seq: seq(2),
        prev: e1.entry_hash(),
        iat: IAT.parse().unwrap(),
        payload: &opening_post(),
    }
    .sign(&common::key("treviso"))
    .unwrap();
    let wrong_prev = EntryDraft {
        sender: province("026"),
        seq: seq(2),
        prev: Hash32::digest_of(&[b"not the previous entry"]),
        iat: IAT.parse().unwrap(),
        payload: &opening_post(),
    }
    .sign(&common::key("treviso"))
    .unwrap();
    let head = |n: usize| match n {
        0 => json!({"seq": 0, "hash": Hash32::ZERO}),
        n => json!({"seq": n, "hash": treviso.entries[n - 1].entry_hash()}),
    };
    let chains = vec![
        json!({"name": "first_entry", "head": head(0), "stored_at_seq": null, "entry_json": text(&e1), "outcome": "append"}),
        json!({"name": "next_entry", "head": head(1), "stored_at_seq": null, "entry_json": text(&e2), "outcome": "append"}),
        json!({"name": "identical_resend", "head": head(2), "stored_at_seq": e1.entry_hash(), "entry_json": text(&e1), "outcome": "duplicate"}),
        json!({"name": "different_entry_at_used_seq", "head": head(2), "stored_at_seq": e2.entry_hash(), "entry_json": text(&fork), "outcome": "equivocation"}),
        json!({"name": "gap", "head": head(1), "stored_at_seq": null, "entry_json": text(&e3), "outcome": "seq_gap", "expected_seq": 2}),
        json!({"name": "prev_mismatch", "head": head(1), "stored_at_seq": null, "entry_json": text(&wrong_prev), "outcome": "prev_mismatch"}),
    ];

    let hub = common::key("hub");
    let receipt = Receipt {
        v: 1,
        log: "pico.upi.it/federation/test".into(),
        sender: province("026"),
        seq: seq(1),
        entry_hash: e1.entry_hash(),
        log_index: 0,
        received_at: "2026-01-15T09:30:02Z".parse().unwrap(),
        status: ReceiptStatus::Accepted,
    };
    let signed = receipt.sign(&hub);
    let tampered = Jws {
        payload: URL_SAFE_NO_PAD.encode(
            pico_protocol::canonical::to_vec(&Receipt {
                log_index: 7,
                ..receipt.clone()
            })
            .unwrap(),
        ),
        ..signed.clone()
    };

    let keys: Vec<Value> = [
        "treviso",
        "treviso-rotated",
        "treviso-revoked",
        "brescia",
        "pesaro-urbino",
        "unenrolled",
        "hub",
    ]
    .iter()
    .map(|name| {
        let key = common::key(name);
        json!({
            "name": name,
            "seed_hex": hex::encode(common::seed(name)),
            "public_key": key.public_key().to_string(),
            "kid": key.key_id(),
            "jwk": key.public_key().to_jwk(),
        })
    })
    .collect();
    let directory: Vec<Value> = DIRECTORY
        .iter()
        .map(|(name, code, from, revoked)| {
            json!({"key": name, "kid": common::key(name).key_id(), "province": code, "valid_from": from, "revoked_from": revoked})
        })
        .collect();

    json!({
        "about": "Pi.Co. protocol v1 test vectors: entries, chain decisions and receipts. See protocol/SPEC.md §10. Seeds are SHA-256(\"pico test vector key \" + name); never use them outside tests.",
        "keys": keys,
        "key_directory": directory,
        "valid": valid,
        "invalid": invalid,
        "chains": chains,
        "receipts": {
            "hub_key": "hub",
            "valid": [{"name": "receipt_for_first_entry", "receipt_json": serde_json::to_string(&signed).unwrap(), "receipt": receipt}],
            "invalid": [{"name": "log_index_altered", "receipt_json": serde_json::to_string(&tampered).unwrap(), "error": "bad_signature"}],
        },
    })
}

#[test]
fn checked_in_vectors_are_what_the_library_generates() {
    let generated = serde_json::to_string_pretty(&generate()).unwrap() + "\n";
    if std::env::var_os("PICO_REGENERATE_VECTORS").is_some() {
        std::fs::write(vectors_path(), &generated).unwrap();
    }
    let stored = std::fs::read_to_string(vectors_path())
        .expect("protocol/vectors/entries.json is missing: run with PICO_REGENERATE_VECTORS=1");
    assert!(
        stored == generated,
        "protocol/vectors/entries.json differs from what the library generates: if the format change is intended, regenerate with PICO_REGENERATE_VECTORS=1 and document it in SPEC.md"
    );
}

fn load() -> Value {
    serde_json::from_str(&std::fs::read_to_string(vectors_path()).unwrap()).unwrap()
}

fn directory_from(vectors: &Value) -> Vec<KeyRecord> {
    let keys = vectors["keys"].as_array().unwrap();
    vectors["key_directory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|record| {
            let key = keys.iter().find(|k| k["name"] == record["key"]).unwrap();
            KeyRecord {
                province: province(record["province"].as_str().unwrap()),
                key: key["public_key"].as_str().unwrap().parse().unwrap(),
                valid_from: seq(record["valid_from"].as_u64().unwrap()),
                revoked_from: record["revoked_from"].as_u64().map(seq),
            }
        })
        .collect()
}

fn verify_text(text: &str, keys: &[KeyRecord]) -> Result<VerifiedEntry, EntryError> {
    verify_entry(SignedEntry::from_bytes(text.as_bytes())?, keys)
}

#[test]
fn every_valid_vector_verifies_with_its_hash_and_key() {
    let vectors = load();
    let keys = directory_from(&vectors);
    assert_eq!(keys, directory());
    let valid = vectors["valid"].as_array().unwrap();
    assert_eq!(valid.len(), 12);
    for vector in valid {
        let verified = verify_text(vector["entry_json"].as_str().unwrap(), &keys)
            .unwrap_or_else(|e| panic!("{}: {e}", vector["name"]));
        assert_eq!(
            verified.hash.to_hex(),
            vector["entry_hash"],
            "{}",
            vector["name"]
        );
        assert_eq!(verified.kid.as_str(), vector["kid"], "{}", vector["name"]);
        assert_eq!(
            serde_json::to_value(&verified.header).unwrap(),
            vector["header"]
        );
        assert_eq!(
            verified.entry.jws().signing_input(),
            vector["signing_input"]
        );
    }
}

#[test]
fn every_invalid_vector_fails_with_its_code() {
    let vectors = load();
    let keys = directory_from(&vectors);
    let invalid = vectors["invalid"].as_array().unwrap();
    assert!(invalid.len() >= 20);
    for vector in invalid {
        let error = verify_text(vector["entry_json"].as_str().unwrap(), &keys)
            .err()
            .unwrap_or_else(|| panic!("{} verified but must fail", vector["name"]));
        assert_eq!(error.code(), vector["error"], "{}: {error}", vector["name"]);
    }
}

#[test]
fn chain_vectors_give_their_outcome() {
    let vectors = load();
    let keys = directory_from(&vectors);
    for vector in vectors["chains"].as_array().unwrap() {
        let entry = verify_text(vector["entry_json"].as_str().unwrap(), &keys).unwrap();
        let head = Head {
            seq: vector["head"]["seq"].as_u64().unwrap(),
            hash: vector["head"]["hash"].as_str().unwrap().parse().unwrap(),
        };
        let stored = vector["stored_at_seq"].as_str().map(|h| h.parse().unwrap());
        let outcome = match check_chain(head, &entry, stored) {
            Ok(ChainStatus::Append) => "append".to_owned(),
            Ok(ChainStatus::Duplicate) => "duplicate".to_owned(),
            Err(EntryError::Gap { expected, .. }) => {
                assert_eq!(expected.get(), vector["expected_seq"].as_u64().unwrap());
                "seq_gap".to_owned()
            }
            Err(error) => error.code().to_owned(),
        };
        assert_eq!(outcome, vector["outcome"], "{}", vector["name"]);
    }
}

#[test]
fn receipt_vectors() {
    let vectors = load();
    let hub_name = vectors["receipts"]["hub_key"].as_str().unwrap();
    let hub_key: PublicKey = vectors["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == hub_name)
        .unwrap()["public_key"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    for vector in vectors["receipts"]["valid"].as_array().unwrap() {
        let jws: Jws = serde_json::from_str(vector["receipt_json"].as_str().unwrap()).unwrap();
        let receipt = Receipt::verify(&jws, &hub_key).unwrap();
        assert_eq!(serde_json::to_value(receipt).unwrap(), vector["receipt"]);
    }
    for vector in vectors["receipts"]["invalid"].as_array().unwrap() {
        let jws: Jws = serde_json::from_str(vector["receipt_json"].as_str().unwrap()).unwrap();
        let error = Receipt::verify(&jws, &hub_key).unwrap_err();
        assert_eq!(error.code(), vector["error"]);
    }
    // A receipt is only good with the hub's key.
    let jws: Jws = serde_json::from_str(
        vectors["receipts"]["valid"][0]["receipt_json"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let other = common::key("treviso").public_key();
    assert_eq!(
        Receipt::verify(&jws, &other).unwrap_err().code(),
        "unknown_key"
    );
}

#[test]
fn oversized_entries_are_refused_before_parsing() {
    let huge = vec![b' '; pico_protocol::limits::MAX_ENTRY_BYTES + 1];
    let error = SignedEntry::from_bytes(&huge).unwrap_err();
    assert_eq!(error.code(), "oversize");
    assert_eq!(error.http_status(), 413);
    // A node cannot build one either: 10,000 rows with a long description exceed the limit.
    let mut batch = common::appalti_batch(10_000);
    for row in &mut batch.upserts {
        row[3] = "x".repeat(500).into();
    }
    let batch = Payload::DatasetBatch(batch);
    let draft = EntryDraft {
        sender: province("026"),
        seq: Seq::FIRST,
        prev: Hash32::ZERO,
        iat: IAT.parse().unwrap(),
        payload: &batch,
    };
    let outcome = draft.sign(&common::key("treviso")).map(|_| ());
    assert_eq!(outcome.err().map(|e| e.code()), Some("oversize"));
}
