//! Fixtures shared by the protocol's tests and benchmarks: fixed keys and realistic records.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of the fixtures"
)]

use pico_protocol::payload::{DatasetBatch, FieldValue, Row};
use pico_protocol::{Hash32, SecretKey};

/// The 32-byte seed of a named test key: SHA-256("pico test vector key " + name).
pub fn seed(name: &str) -> [u8; 32] {
    Hash32::digest_of(&[b"pico test vector key ", name.as_bytes()]).0
}

/// The named test key.
pub fn key(name: &str) -> SecretKey {
    SecretKey::from_seed(&seed(name))
}

/// Field names of the procurement-like test dataset (one lot of a SUA procedure per row).
pub const APPALTI_FIELDS: [&str; 16] = [
    "cig",
    "ocid",
    "comune",
    "oggetto",
    "cpv",
    "tipo_procedura",
    "importo_base",
    "importo_aggiudicazione",
    "ribasso_pct",
    "data_pubblicazione",
    "data_aggiudicazione",
    "aggiudicatario_cf",
    "pnrr",
    "cup",
    "stato",
    "n_offerte",
];

/// A procurement-like row of 16 fields, deterministic in `i`.
pub fn appalto(i: u64) -> Row {
    const COMUNI: [&str; 5] = ["026086", "026001", "026049", "026063", "026092"];
    const CPV: [&str; 4] = ["45233140-2", "90910000-9", "79940000-5", "34144900-7"];
    const PROCEDURE: [i64; 4] = [1, 4, 24, 34];
    let base = 40_000 + (i * 7_919) % 900_000;
    let ribasso_bp = 500 + (i * 37) % 2_500; // basis points
    let awarded = base * (10_000 - ribasso_bp) / 10_000;
    vec![
        format!("B{:09X}", 0x1000_0000 + i).into(),
        format!("ocds-hu01ve-{}", 9_000_000 + i).into(),
        COMUNI[(i % 5) as usize].into(),
        format!("Lavori di manutenzione straordinaria della viabilità comunale, lotto {i}").into(),
        CPV[(i % 4) as usize].into(),
        PROCEDURE[(i % 4) as usize].into(),
        format!("{}.{:02}", base, i % 100).into(),
        format!("{awarded}.00").into(),
        format!("{}.{:02}", ribasso_bp / 100, ribasso_bp % 100).into(),
        "2025-03-14".into(),
        "2025-05-02".into(),
        format!("0{:010}", 1_234_567_890 + i).into(),
        i.is_multiple_of(3).into(),
        format!(
            "E{:02}D{:02}000{:06}",
            11 + i % 80,
            20 + i % 6,
            i % 1_000_000
        )
        .into(),
        "aggiudicata".into(),
        FieldValue::Int((1 + i % 12) as i64),
    ]
}

/// A dataset batch of `n` procurement rows.
pub fn appalti_batch(n: u64) -> DatasetBatch {
    DatasetBatch {
        dataset: "appalti".into(),
        schema_version: 1,
        fields: APPALTI_FIELDS.iter().map(|f| f.to_string()).collect(),
        primary_key: vec!["cig".into()],
        snapshot: None,
        upserts: (0..n).map(appalto).collect(),
        deletes: vec![],
    }
}
