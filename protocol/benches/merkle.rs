//! Criterion benchmarks of the transparency log at hub scale: proofs over a 1,000,000-leaf tree
//! and the append rate of the in-memory tree.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use pico_protocol::merkle::{MemoryTree, leaf_hash, verify_consistency, verify_inclusion};

const LEAVES: u64 = 1_000_000;

fn million_leaf_tree() -> MemoryTree {
    let mut tree = MemoryTree::new();
    for i in 0..LEAVES {
        tree.push(format!("entry-{i}").as_bytes());
    }
    tree
}

fn proofs_at_one_million(c: &mut Criterion) {
    // Built once, outside every timed loop.
    let tree = million_leaf_tree();
    let root = tree.root();
    // Leaf indices and old sizes spread over the tree, so no single path is measured.
    let indices: Vec<u64> = (0..1024u64)
        .map(|i| i.wrapping_mul(982_451_653) % LEAVES)
        .collect();

    let mut group = c.benchmark_group("merkle_1m");
    group.throughput(Throughput::Elements(1));

    let mut next = 0usize;
    group.bench_function("inclusion_proof", |b| {
        b.iter(|| {
            next = (next + 1) % indices.len();
            black_box(tree.inclusion_proof(indices[next], LEAVES))
        });
    });

    let inclusion: Vec<_> = indices
        .iter()
        .map(|&i| {
            (
                tree.leaf(i).expect("leaf exists"),
                tree.inclusion_proof(i, LEAVES),
            )
        })
        .collect();
    let mut next = 0usize;
    group.bench_function("verify_inclusion", |b| {
        b.iter(|| {
            next = (next + 1) % inclusion.len();
            let (leaf, proof) = &inclusion[next];
            let proof = proof.as_ref().expect("proof was generated");
            black_box(verify_inclusion(
                leaf,
                proof.leaf_index,
                LEAVES,
                &proof.hashes,
                &root,
            ))
        });
    });

    let old_sizes: Vec<u64> = indices.iter().map(|&i| i.max(1)).collect();
    let mut next = 0usize;
    group.bench_function("consistency_proof", |b| {
        b.iter(|| {
            next = (next + 1) % old_sizes.len();
            black_box(tree.consistency_proof(old_sizes[next], LEAVES))
        });
    });

    let consistency: Vec<_> = old_sizes
        .iter()
        .map(|&old| {
            let old_root = tree.root_at(old).expect("old size is inside the tree");
            let proof = tree
                .consistency_proof(old, LEAVES)
                .expect("sizes are ordered");
            (old_root, proof)
        })
        .collect();
    let mut next = 0usize;
    group.bench_function("verify_consistency", |b| {
        b.iter(|| {
            next = (next + 1) % consistency.len();
            let (old_root, proof) = &consistency[next];
            black_box(verify_consistency(
                proof.old_size,
                LEAVES,
                old_root,
                &root,
                &proof.hashes,
            ))
        });
    });

    group.bench_function("root_at", |b| {
        b.iter(|| {
            next = (next + 1) % old_sizes.len();
            black_box(tree.root_at(LEAVES - old_sizes[next] / 2))
        });
    });
    group.finish();
}

fn append(c: &mut Criterion) {
    const BATCH: u64 = 10_000;
    let hashes: Vec<_> = (0..BATCH)
        .map(|i| leaf_hash(format!("entry-{i}").as_bytes()))
        .collect();
    let mut group = c.benchmark_group("merkle_append");
    group.throughput(Throughput::Elements(BATCH));
    // Appending to a tree that already holds a million leaves, as the hub's log would.
    group.bench_function("push_hash_10k_onto_1m", |b| {
        b.iter_batched_ref(
            || {
                let mut tree = MemoryTree::new();
                for h in hashes.iter().cycle().take(LEAVES as usize) {
                    tree.push_hash(*h);
                }
                tree
            },
            |tree| {
                for h in &hashes {
                    tree.push_hash(*h);
                }
            },
            BatchSize::PerIteration,
        );
    });
    // Including the leaf hash: what appending raw entry bytes costs.
    group.bench_function("push_10k_leaves", |b| {
        let data: Vec<String> = (0..BATCH).map(|i| format!("entry-{i}")).collect();
        b.iter_batched_ref(
            MemoryTree::new,
            |tree| {
                for d in &data {
                    tree.push(d.as_bytes());
                }
            },
            BatchSize::LargeInput,
        );
    });
    group.finish();
}

criterion_group!(benches, proofs_at_one_million, append);
criterion_main!(benches);
