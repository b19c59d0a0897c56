//! Criterion benchmarks of the protocol's hot paths: signing and verifying a 1,000-record
//! dataset batch, verifying 10,000 small entries, and canonical JSON throughput.

#![expect(
    clippy::unwrap_used,
    reason = "a test or benchmark fails loudly on unexpected input"
)]

#[path = "../tests/common/mod.rs"]
mod common;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use pico_protocol::payload::{DatasetBatch, Payload};
use pico_protocol::verify::{KeyRecord, verify_entry};
use pico_protocol::*;

fn draft(payload: &Payload, seq: u64) -> EntryDraft<'_> {
    EntryDraft {
        sender: ProvinceCode::parse("026").unwrap(),
        seq: Seq::new(seq).unwrap(),
        prev: Hash32::ZERO,
        iat: Timestamp::now(),
        payload,
    }
}

fn directory(key: &SecretKey) -> Vec<KeyRecord> {
    vec![KeyRecord {
        province: ProvinceCode::parse("026").unwrap(),
        key: key.public_key(),
        valid_from: Seq::FIRST,
        revoked_from: None,
    }]
}

fn batch_of_1000(c: &mut Criterion) {
    let key = common::key("treviso");
    let keys = directory(&key);
    let payload = Payload::DatasetBatch(common::appalti_batch(1_000));
    let entry = draft(&payload, 1).sign(&key).unwrap();
    let bytes = entry.to_bytes();
    let body = entry.body_bytes().to_vec();
    println!(
        "1,000-record entry: {} bytes on the wire, body {} bytes",
        bytes.len(),
        body.len()
    );

    let mut group = c.benchmark_group("entry_1000_records");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("sign (canonicalise + digest + Ed25519)", |b| {
        b.iter(|| draft(&payload, 1).sign(&key).unwrap());
    });
    group.bench_function(
        "verify (parse envelope + signature + digest + canonical check + typed payload)",
        |b| {
            b.iter(|| verify_entry(SignedEntry::from_bytes(&bytes).unwrap(), &keys).unwrap());
        },
    );
    group.bench_function("envelope parse + signature only", |b| {
        b.iter(|| {
            let entry = SignedEntry::from_bytes(&bytes).unwrap();
            entry.jws().verify_signature(&key.public_key()).unwrap();
        });
    });
    group.bench_function("body sha256", |b| b.iter(|| Hash32::digest_of(&[&body])));
    group.bench_function("body canonical check", |b| {
        b.iter(|| canonical::check(&body).unwrap());
    });
    group.bench_function("body typed parse (DatasetBatch)", |b| {
        b.iter(|| serde_json::from_slice::<DatasetBatch>(&body).unwrap());
    });
    group.finish();

    let mut group = c.benchmark_group("canonical_json");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("to_vec 1,000 records", |b| {
        b.iter(|| payload.to_canonical().unwrap());
    });
    group.bench_function("check 1,000 records", |b| {
        b.iter(|| canonical::check(&body).unwrap());
    });
    group.bench_function("serde_json::to_vec (reference, not canonical)", |b| {
        let Payload::DatasetBatch(batch) = &payload else {
            unreachable!()
        };
        b.iter(|| serde_json::to_vec(batch).unwrap());
    });
    group.finish();
}

fn many_small_entries(c: &mut Criterion) {
    let key = common::key("treviso");
    let keys = directory(&key);
    let payload = Payload::DatasetBatch(common::appalti_batch(1));
    let entries: Vec<Vec<u8>> = (1..=10_000)
        .map(|seq| draft(&payload, seq).sign(&key).unwrap().to_bytes())
        .collect();

    let mut group = c.benchmark_group("small_entries_10000");
    group.sample_size(10);
    group.throughput(Throughput::Elements(entries.len() as u64));
    group.bench_function("verify one by one", |b| {
        b.iter(|| {
            for bytes in &entries {
                verify_entry(SignedEntry::from_bytes(bytes).unwrap(), &keys).unwrap();
            }
        });
    });
    group.bench_function("batch signature verification", |b| {
        b.iter_batched(
            || {
                entries
                    .iter()
                    .map(|bytes| SignedEntry::from_bytes(bytes).unwrap())
                    .collect::<Vec<_>>()
            },
            |parsed| pico_protocol::verify::verify_signatures_batch(&parsed, &keys).unwrap(),
            BatchSize::LargeInput,
        );
    });
    group.finish();
}

criterion_group!(benches, batch_of_1000, many_small_entries);
criterion_main!(benches);
