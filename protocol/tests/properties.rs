//! Property tests: round trips, tamper evidence, and parsers that never panic on any input.

#![expect(
    clippy::unwrap_used,
    reason = "a test or benchmark fails loudly on unexpected input"
)]

mod common;

use pico_protocol::canonical;
use pico_protocol::payload::Payload;
use pico_protocol::verify::{KeyRecord, verify_entry};
use pico_protocol::*;
use proptest::prelude::*;
use serde_json::Value;

fn treviso_entry(records: u64) -> (SignedEntry, Vec<KeyRecord>) {
    let key = common::key("treviso");
    let payload = Payload::DatasetBatch(common::appalti_batch(records));
    let entry = EntryDraft {
        sender: ProvinceCode::parse("026").unwrap(),
        seq: Seq::FIRST,
        prev: Hash32::ZERO,
        iat: "2026-01-15T09:30:00Z".parse().unwrap(),
        payload: &payload,
    }
    .sign(&key)
    .unwrap();
    let directory = vec![KeyRecord {
        province: ProvinceCode::parse("026").unwrap(),
        key: key.public_key(),
        valid_from: Seq::FIRST,
        revoked_from: None,
    }];
    (entry, directory)
}

/// JSON values canonical JSON can carry: no floats, integers within ±(2^53−1).
fn json_value() -> impl Strategy<Value = Value> {
    let max = canonical::MAX_SAFE_INTEGER as i64;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-max..=max).prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map(any::<String>(), inner, 0..8)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn canonical_round_trip(value in json_value()) {
        let bytes = canonical::to_vec(&value).unwrap();
        canonical::check(&bytes).unwrap();
        let back: Value = serde_json::from_slice(&bytes).unwrap();
        prop_assert_eq!(&back, &value);
        // Writing what was read gives the same bytes: one encoding per value.
        prop_assert_eq!(canonical::to_vec(&back).unwrap(), bytes);
    }

    #[test]
    fn pretty_printed_objects_are_refused(value in json_value()) {
        let pretty = serde_json::to_vec_pretty(&value).unwrap();
        let compact = canonical::to_vec(&value).unwrap();
        prop_assert_eq!(canonical::check(&pretty).is_ok(), pretty == compact);
    }

    #[test]
    fn canonical_check_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let verdict = canonical::check(&bytes);
        // Whatever it accepts is JSON that serde_json reads too.
        if verdict.is_ok() {
            prop_assert!(serde_json::from_slice::<Value>(&bytes).is_ok());
        }
    }

    #[test]
    fn ids_round_trip(province in 1u32..=999, progressive in 1u32..=999) {
        let code = format!("{province:03}{progressive:03}");
        let comune = ComuneCode::parse(&code).unwrap();
        prop_assert_eq!(comune.to_string(), code);
        prop_assert_eq!(comune.province().to_string(), format!("{province:03}"));
        let json = serde_json::to_string(&comune).unwrap();
        prop_assert_eq!(serde_json::from_str::<ComuneCode>(&json).unwrap(), comune);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    /// Any single-byte change anywhere in a signed entry's wire bytes makes it fail.
    #[test]
    fn any_single_byte_change_fails_verification(position in any::<prop::sample::Index>(), replacement in any::<u8>()) {
        let (entry, keys) = treviso_entry(3);
        let mut bytes = entry.to_bytes();
        let i = position.index(bytes.len());
        prop_assume!(bytes[i] != replacement);
        bytes[i] = replacement;
        let outcome = SignedEntry::from_bytes(&bytes).and_then(|entry| verify_entry(entry, &keys));
        prop_assert!(outcome.is_err(), "byte {} changed to {:#04x} still verifies", i, replacement);
    }

    /// Parsing and verifying never panic, whatever the mutation.
    #[test]
    fn verification_never_panics(cuts in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8), truncate in any::<prop::sample::Index>()) {
        let (entry, keys) = treviso_entry(1);
        let mut bytes = entry.to_bytes();
        for (position, byte) in cuts {
            let i = position.index(bytes.len());
            bytes[i] = byte;
        }
        bytes.truncate(truncate.index(bytes.len() + 1));
        let _ = SignedEntry::from_bytes(&bytes).and_then(|entry| verify_entry(entry, &keys));
    }
}

fn field_value() -> impl Strategy<Value = pico_protocol::payload::FieldValue> {
    use pico_protocol::payload::FieldValue;
    let max = canonical::MAX_SAFE_INTEGER as i64;
    prop_oneof![
        Just(FieldValue::Null),
        any::<bool>().prop_map(FieldValue::Bool),
        (-max..=max).prop_map(FieldValue::Int),
        any::<String>().prop_map(FieldValue::from),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever rows a node signs, the receiver reads back exactly the same batch.
    #[test]
    fn dataset_batches_round_trip_through_the_wire(
        rows in prop::collection::vec((any::<String>(), prop::collection::vec(field_value(), 3)), 0..20),
    ) {
        use pico_protocol::payload::{DatasetBatch, FieldValue};
        let batch = DatasetBatch {
            dataset: "prova".into(),
            schema_version: 1,
            fields: vec!["id".into(), "a".into(), "b".into(), "c".into()],
            primary_key: vec!["id".into()],
            snapshot: None,
            upserts: rows
                .into_iter()
                .map(|(id, values)| std::iter::once(FieldValue::from(id)).chain(values).collect())
                .collect(),
            deletes: vec![],
        };
        let payload = Payload::DatasetBatch(batch);
        let key = common::key("treviso");
        let entry = EntryDraft {
            sender: ProvinceCode::parse("026").unwrap(),
            seq: Seq::FIRST,
            prev: Hash32::ZERO,
            iat: "2026-01-15T09:30:00Z".parse().unwrap(),
            payload: &payload,
        }
        .sign(&key)
        .unwrap();
        let (_, keys) = treviso_entry(0);
        let received = SignedEntry::from_bytes(&entry.to_bytes()).unwrap();
        prop_assert_eq!(&received, &entry);
        let verified = verify_entry(received, &keys).unwrap();
        prop_assert_eq!(verified.payload, payload);
        prop_assert_eq!(verified.hash, entry.entry_hash());
    }
}

#[test]
fn unmodified_entry_verifies() {
    let (entry, keys) = treviso_entry(3);
    let bytes = entry.to_bytes();
    let verified = verify_entry(SignedEntry::from_bytes(&bytes).unwrap(), &keys).unwrap();
    assert_eq!(verified.hash, entry.entry_hash());
}

/// RFC 8032 §7.1, TEST 1–3: the Ed25519 implementation under our keys is the standard one.
#[test]
fn rfc8032_test_vectors() {
    let vectors = [
        (
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            "",
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        ),
        (
            "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
            "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
            "72",
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
        ),
        (
            "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
            "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
            "af82",
            "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
        ),
    ];
    for (secret, public, message, signature) in vectors {
        let seed: [u8; 32] = hex::decode(secret).unwrap().try_into().unwrap();
        let key = SecretKey::from_seed(&seed);
        assert_eq!(hex::encode(key.public_key().to_bytes()), public);
        let message = hex::decode(message).unwrap();
        let signed = key.sign(&message);
        assert_eq!(hex::encode(signed), signature);
        assert!(key.public_key().verify(&message, &signed));
        assert!(key.public_key().verify_rfc8032(&message, &signed));
        let mut wrong = signed;
        wrong[0] ^= 1;
        assert!(!key.public_key().verify(&message, &wrong));
    }
}
