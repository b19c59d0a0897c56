//! Tests of the transparency-log primitives: RFC 6962 hashing against published values, proofs
//! against an independent recursive implementation, and C2SP checkpoint notes.

#![expect(
    clippy::unwrap_used,
    reason = "a test should stop loudly at the first unexpected error"
)]

use std::cell::Cell;
use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{SigningKey, VerifyingKey};
use pico_protocol::Hash32;
use pico_protocol::checkpoint::{
    self, Checkpoint, CheckpointError, MAX_NOTE_BYTES, MAX_SIGNATURES, key_id, note_verifier_key,
    open_note, parse_note_verifier_key, sign_note,
};
use pico_protocol::merkle::{
    self, ConsistencyProof, InclusionProof, MemoryTree, MerkleError, NodeSource, PerfectNode,
    empty_root, leaf_hash, node_hash, nodes_completed_by_append, verify_consistency,
    verify_inclusion,
};
use proptest::prelude::*;

fn h(hex: &str) -> Hash32 {
    hex.parse().expect("test hex is a valid digest")
}

// ---------------------------------------------------------------------------------------------
// Published RFC 6962 values.
//
// Leaves, node hashes and roots: transparency-dev/merkle, testonly/constants.go (LeafInputs,
// NodeHashes, RootHashes). Proofs: transparency-dev/merkle, proof/verify_test.go
// (inclusionProofs, consistencyProofs), where the leaf number there is one-based.

const RFC_LEAVES: [&[u8]; 8] = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
];

const RFC_EMPTY_ROOT: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Roots of the trees of 1..=8 RFC_LEAVES.
const RFC_ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// Perfect subtree hashes of the 8-leaf tree, by level then index (NodeHashes).
const RFC_NODES: [&[&str]; 4] = [
    &[
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    &[
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    &[
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    &["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
];

/// (zero-based leaf index, tree size, proof) from inclusionProofs.
const RFC_INCLUSION: [(u64, u64, &[&str]); 4] = [
    (
        0,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        3,
        &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    ),
    (
        1,
        5,
        &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
];

/// (old size, new size, proof) from consistencyProofs.
const RFC_CONSISTENCY: [(u64, u64, &[&str]); 5] = [
    (1, 1, &[]),
    (
        1,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
];

fn rfc_tree() -> MemoryTree {
    MemoryTree::from_leaves(RFC_LEAVES)
}

fn hashes(list: &[&str]) -> Vec<Hash32> {
    list.iter().map(|x| h(x)).collect()
}

#[test]
fn empty_tree_root_is_sha256_of_nothing() {
    assert_eq!(empty_root(), h(RFC_EMPTY_ROOT));
    assert_eq!(MemoryTree::new().root(), h(RFC_EMPTY_ROOT));
    assert_eq!(rfc_tree().root_at(0), Ok(h(RFC_EMPTY_ROOT)));
}

#[test]
fn roots_match_published_rfc6962_values() {
    let mut tree = MemoryTree::new();
    for (size, (leaf, root)) in RFC_LEAVES.iter().zip(RFC_ROOTS).enumerate() {
        tree.push(leaf);
        assert_eq!(tree.root(), h(root), "root of size {}", size + 1);
    }
    for (size, root) in RFC_ROOTS.iter().enumerate() {
        assert_eq!(tree.root_at(size as u64 + 1), Ok(h(root)));
    }
}

#[test]
fn perfect_nodes_match_published_node_hashes() {
    let tree = rfc_tree();
    for (level, row) in RFC_NODES.iter().enumerate() {
        for (index, hex) in row.iter().enumerate() {
            assert_eq!(tree.perfect_node(level as u32, index as u64), Ok(h(hex)));
        }
    }
    assert_eq!(leaf_hash(b""), h(RFC_NODES[0][0]));
    assert_eq!(
        node_hash(&h(RFC_NODES[0][0]), &h(RFC_NODES[0][1])),
        h(RFC_NODES[1][0])
    );
}

#[test]
fn inclusion_proofs_match_published_proofs() {
    let tree = rfc_tree();
    for (index, size, expected) in RFC_INCLUSION {
        let proof = tree.inclusion_proof(index, size).unwrap();
        assert_eq!(
            proof.hashes,
            hashes(expected),
            "proof of leaf {index} in size {size}"
        );
        let root = h(RFC_ROOTS[size as usize - 1]);
        let leaf = leaf_hash(RFC_LEAVES[index as usize]);
        assert_eq!(proof.verify(&leaf, &root), Ok(()));
    }
    // Single-leaf tree: empty proof, root is the leaf hash.
    let one = tree.inclusion_proof(0, 1).unwrap();
    assert!(one.hashes.is_empty());
    assert_eq!(one.verify(&leaf_hash(b""), &h(RFC_ROOTS[0])), Ok(()));
}

#[test]
fn consistency_proofs_match_published_proofs() {
    let tree = rfc_tree();
    for (old, new, expected) in RFC_CONSISTENCY {
        let proof = tree.consistency_proof(old, new).unwrap();
        assert_eq!(proof.hashes, hashes(expected), "proof from {old} to {new}");
        let (old_root, new_root) = (
            h(RFC_ROOTS[old as usize - 1]),
            h(RFC_ROOTS[new as usize - 1]),
        );
        assert_eq!(proof.verify(&old_root, &new_root), Ok(()));
    }
}

/// The trivial cases of transparency-dev/merkle proof/verify_test.go TestVerifyConsistency.
#[test]
fn consistency_edge_cases_follow_the_reference_verifier() {
    let (r1, r2) = (h(RFC_ROOTS[0]), h(RFC_ROOTS[1]));
    let empty = h(RFC_EMPTY_ROOT);
    let one_hash = [empty];
    // Sizes that are always consistent.
    assert_eq!(verify_consistency(0, 0, &r1, &r1, &[]), Ok(()));
    assert_eq!(verify_consistency(0, 1, &r1, &r2, &[]), Ok(()));
    assert_eq!(verify_consistency(1, 1, &r2, &r2, &[]), Ok(()));
    // Equal sizes, different roots.
    assert_eq!(
        verify_consistency(0, 0, &r1, &r2, &[]),
        Err(MerkleError::RootMismatch)
    );
    assert_eq!(
        verify_consistency(1, 1, &r1, &r2, &[]),
        Err(MerkleError::RootMismatch)
    );
    // Time travel to the past.
    assert_eq!(
        verify_consistency(1, 0, &r1, &r2, &[]),
        Err(MerkleError::SizeOrder {
            old_size: 1,
            new_size: 0
        })
    );
    assert_eq!(
        verify_consistency(2, 1, &r1, &r2, &[]).unwrap_err().code(),
        "size_order"
    );
    // Empty proof for a real extension.
    assert_eq!(
        verify_consistency(1, 2, &r1, &r2, &[]),
        Err(MerkleError::ProofTooShort {
            expected: 1,
            got: 0
        })
    );
    // Roots match but the proof is not empty.
    for (old, new) in [(0, 0), (0, 1), (1, 1)] {
        assert_eq!(
            verify_consistency(old, new, &empty, &empty, &one_hash),
            Err(MerkleError::ProofTooLong {
                expected: 0,
                got: 1
            }),
            "{old} -> {new}"
        );
    }
}

#[test]
fn inclusion_edge_cases() {
    let leaf = leaf_hash(b"x");
    for (index, size) in [(0, 0), (1, 0), (1, 1), (2, 1), (u64::MAX, u64::MAX)] {
        assert_eq!(
            verify_inclusion(&leaf, index, size, &[], &leaf),
            Err(MerkleError::IndexOutOfRange { index, size })
        );
    }
    assert_eq!(verify_inclusion(&leaf, 0, 1, &[], &leaf), Ok(()));
    assert_eq!(
        verify_inclusion(&leaf, 0, 1, &[], &empty_root()),
        Err(MerkleError::RootMismatch)
    );
    assert_eq!(
        verify_inclusion(&leaf, 0, 1, &[leaf], &leaf),
        Err(MerkleError::ProofTooLong {
            expected: 0,
            got: 1
        })
    );
    // The largest possible tree needs a 64-hash proof for leaf 0.
    let proof = vec![leaf; 63];
    assert_eq!(
        verify_inclusion(&leaf, 0, u64::MAX, &proof, &leaf),
        Err(MerkleError::ProofTooShort {
            expected: 64,
            got: 63
        })
    );
}

#[test]
fn proof_generation_refuses_impossible_requests() {
    let tree = rfc_tree();
    assert_eq!(
        tree.inclusion_proof(8, 8),
        Err(MerkleError::IndexOutOfRange { index: 8, size: 8 })
    );
    assert_eq!(
        tree.inclusion_proof(0, 0).unwrap_err().code(),
        "index_out_of_range"
    );
    assert_eq!(
        tree.inclusion_proof(0, 9),
        Err(MerkleError::SizeBeyondTree {
            requested: 9,
            available: 8
        })
    );
    assert_eq!(
        tree.consistency_proof(3, 9).unwrap_err().code(),
        "size_beyond_tree"
    );
    assert_eq!(
        tree.consistency_proof(5, 4),
        Err(MerkleError::SizeOrder {
            old_size: 5,
            new_size: 4
        })
    );
    assert_eq!(tree.root_at(9).unwrap_err().code(), "size_beyond_tree");
    assert_eq!(
        tree.consistency_proof(0, 8).unwrap().hashes,
        Vec::<Hash32>::new()
    );
    assert_eq!(
        tree.consistency_proof(8, 8).unwrap().hashes,
        Vec::<Hash32>::new()
    );
    assert_eq!(
        tree.perfect_node(3, 1),
        Err(MerkleError::NodeMissing { level: 3, index: 1 })
    );
    assert_eq!(tree.perfect_node(99, 0).unwrap_err().code(), "node_missing");
}

#[test]
fn proofs_travel_as_hex_json() {
    let tree = rfc_tree();
    let proof = tree.inclusion_proof(2, 3).unwrap();
    let json = serde_json::to_value(&proof).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"leaf_index": 2, "tree_size": 3, "hashes": [RFC_ROOTS[1]]})
    );
    assert_eq!(
        serde_json::from_value::<InclusionProof>(json).unwrap(),
        proof
    );

    let proof = tree.consistency_proof(2, 5).unwrap();
    let json = serde_json::to_string(&proof).unwrap();
    assert!(
        json.starts_with(r#"{"old_size":2,"new_size":5,"hashes":["5f083f0a"#),
        "{json}"
    );
    assert_eq!(
        serde_json::from_str::<ConsistencyProof>(&json).unwrap(),
        proof
    );
}

// ---------------------------------------------------------------------------------------------
// An independent implementation written straight from the recursive definitions of RFC 9162
// §2.1.1 (MTH), §2.1.3.1 (PATH) and §2.1.4.1 (PROOF / SUBPROOF), over a slice of leaf hashes.

fn reference_mth(leaves: &[Hash32]) -> Hash32 {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = largest_power_of_two_below(n);
            node_hash(&reference_mth(&leaves[..k]), &reference_mth(&leaves[k..]))
        }
    }
}

fn largest_power_of_two_below(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

fn reference_path(m: usize, leaves: &[Hash32]) -> Vec<Hash32> {
    let n = leaves.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = largest_power_of_two_below(n);
    if m < k {
        let mut path = reference_path(m, &leaves[..k]);
        path.push(reference_mth(&leaves[k..]));
        path
    } else {
        let mut path = reference_path(m - k, &leaves[k..]);
        path.push(reference_mth(&leaves[..k]));
        path
    }
}

fn reference_subproof(m: usize, leaves: &[Hash32], whole: bool) -> Vec<Hash32> {
    let n = leaves.len();
    if m == n {
        return if whole {
            Vec::new()
        } else {
            vec![reference_mth(leaves)]
        };
    }
    let k = largest_power_of_two_below(n);
    if m <= k {
        let mut proof = reference_subproof(m, &leaves[..k], whole);
        proof.push(reference_mth(&leaves[k..]));
        proof
    } else {
        let mut proof = reference_subproof(m - k, &leaves[k..], false);
        proof.push(reference_mth(&leaves[..k]));
        proof
    }
}

fn reference_consistency(m: usize, leaves: &[Hash32]) -> Vec<Hash32> {
    if m == 0 || m == leaves.len() {
        Vec::new()
    } else {
        reference_subproof(m, leaves, true)
    }
}

fn numbered_leaves(n: u64) -> Vec<Hash32> {
    (0..n)
        .map(|i| leaf_hash(format!("leaf-{i}").as_bytes()))
        .collect()
}

fn tree_of(leaves: &[Hash32]) -> MemoryTree {
    let mut tree = MemoryTree::new();
    for leaf in leaves {
        tree.push_hash(*leaf);
    }
    tree
}

/// Every proof of every tree up to 130 leaves equals the reference proof and verifies; every
/// root at every size equals the reference root.
#[test]
fn proofs_equal_the_rfc_recursion_for_every_small_tree() {
    let leaves = numbered_leaves(130);
    let tree = tree_of(&leaves);
    let roots: Vec<Hash32> = (0..=leaves.len())
        .map(|n| reference_mth(&leaves[..n]))
        .collect();
    for size in 0..=leaves.len() {
        assert_eq!(tree.root_at(size as u64), Ok(roots[size]), "root at {size}");
        for index in 0..size {
            let proof = tree.inclusion_proof(index as u64, size as u64).unwrap();
            assert_eq!(proof.hashes, reference_path(index, &leaves[..size]));
            assert_eq!(
                merkle::inclusion_proof_len(index as u64, size as u64),
                proof.hashes.len()
            );
            assert_eq!(proof.verify(&leaves[index], &roots[size]), Ok(()));
        }
        for old in 0..=size {
            let proof = tree.consistency_proof(old as u64, size as u64).unwrap();
            assert_eq!(proof.hashes, reference_consistency(old, &leaves[..size]));
            assert_eq!(
                merkle::consistency_proof_len(old as u64, size as u64),
                proof.hashes.len()
            );
            assert_eq!(
                proof.verify(&roots[old], &roots[size]),
                Ok(()),
                "{old} -> {size}"
            );
        }
    }
}

/// Every index and every pair of sizes up to 300 leaves verifies.
#[test]
fn every_proof_up_to_300_leaves_verifies() {
    let tree = tree_of(&numbered_leaves(300));
    let roots: Vec<Hash32> = (0..=300).map(|n| tree.root_at(n).unwrap()).collect();
    for size in 0..=300u64 {
        for index in 0..size {
            let proof = tree.inclusion_proof(index, size).unwrap();
            let leaf = tree.leaf(index).unwrap();
            assert_eq!(proof.verify(&leaf, &roots[size as usize]), Ok(()));
        }
        for old in 0..=size {
            let proof = tree.consistency_proof(old, size).unwrap();
            assert_eq!(
                proof.verify(&roots[old as usize], &roots[size as usize]),
                Ok(())
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A store that keeps only what `nodes_completed_by_append` hands it, with its own error type and
// a read counter: what the hub does with SQLite.

#[derive(Debug, PartialEq)]
enum StoreError {
    Merkle(MerkleError),
}

impl From<MerkleError> for StoreError {
    fn from(error: MerkleError) -> Self {
        StoreError::Merkle(error)
    }
}

#[derive(Default)]
struct CountingStore {
    nodes: BTreeMap<(u32, u64), Hash32>,
    size: u64,
    reads: Cell<usize>,
}

impl NodeSource for CountingStore {
    type Error = StoreError;

    fn size(&self) -> u64 {
        self.size
    }

    fn perfect_node(&self, level: u32, index: u64) -> Result<Hash32, StoreError> {
        self.reads.set(self.reads.get() + 1);
        self.nodes
            .get(&(level, index))
            .copied()
            .ok_or(StoreError::Merkle(MerkleError::NodeMissing {
                level,
                index,
            }))
    }
}

impl CountingStore {
    fn append(&mut self, leaf: Hash32) -> Vec<PerfectNode> {
        let completed = nodes_completed_by_append(&*self, leaf).unwrap();
        for node in &completed {
            assert!(
                self.nodes
                    .insert((node.level, node.index), node.hash)
                    .is_none()
            );
        }
        self.size += 1;
        completed
    }

    fn reads_during<T>(&self, f: impl FnOnce(&Self) -> T) -> (T, usize) {
        self.reads.set(0);
        let out = f(self);
        (out, self.reads.get())
    }
}

#[test]
fn a_store_fed_by_appends_serves_the_same_roots_and_proofs() {
    let leaves = numbered_leaves(1100);
    let tree = tree_of(&leaves);
    let mut store = CountingStore::default();
    for (i, leaf) in leaves.iter().enumerate() {
        let completed = store.append(*leaf);
        // Leaf i completes one node per trailing one bit of i, plus the leaf itself.
        assert_eq!(completed.len(), 1 + (i as u64).trailing_ones() as usize);
        assert_eq!(
            completed[0],
            PerfectNode {
                level: 0,
                index: i as u64,
                hash: *leaf
            }
        );
        for node in &completed {
            assert_eq!(tree.perfect_node(node.level, node.index), Ok(node.hash));
        }
    }
    // A tree of n leaves has 2n − popcount(n) perfect nodes.
    assert_eq!(store.nodes.len(), 2 * 1100 - 1100u32.count_ones() as usize);

    for (index, size) in [
        (0, 1),
        (5, 1100),
        (1023, 1024),
        (1099, 1100),
        (700, 1025),
        (3, 17),
    ] {
        let (proof, reads) = store.reads_during(|s| merkle::inclusion_proof(s, index, size));
        assert_eq!(proof.unwrap(), tree.inclusion_proof(index, size).unwrap());
        // One read per proof hash, plus at most popcount(size) for the one imperfect sibling.
        assert!(
            reads <= 2 * 11,
            "{reads} reads for inclusion {index}/{size}"
        );
    }
    for (old, new) in [
        (1, 1100),
        (511, 1100),
        (1024, 1099),
        (700, 1025),
        (1099, 1100),
    ] {
        let (proof, reads) = store.reads_during(|s| merkle::consistency_proof(s, old, new));
        assert_eq!(proof.unwrap(), tree.consistency_proof(old, new).unwrap());
        assert!(
            reads <= 3 * 11,
            "{reads} reads for consistency {old}->{new}"
        );
    }
    for size in [0, 1, 2, 3, 1023, 1024, 1025, 1099, 1100] {
        let (root, reads) = store.reads_during(|s| merkle::root_at(s, size));
        assert_eq!(root, Ok(tree.root_at(size).unwrap()));
        assert_eq!(reads, size.count_ones() as usize);
    }
    assert_eq!(
        merkle::root_at(&store, 1101),
        Err(StoreError::Merkle(MerkleError::SizeBeyondTree {
            requested: 1101,
            available: 1100
        }))
    );
}

#[test]
fn a_store_missing_a_node_reports_it() {
    let mut store = CountingStore::default();
    for leaf in numbered_leaves(4) {
        store.append(leaf);
    }
    store.nodes.remove(&(2, 0));
    assert_eq!(
        merkle::root_at(&store, 4),
        Err(StoreError::Merkle(MerkleError::NodeMissing {
            level: 2,
            index: 0
        }))
    );
}

// ---------------------------------------------------------------------------------------------
// Property tests: every mutation of a valid proof fails, with the error that names it.

fn flip_bit(proof: &[Hash32], position: usize, bit: usize) -> Vec<Hash32> {
    let mut out = proof.to_vec();
    out[position].0[bit / 8] ^= 1 << (bit % 8);
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn mutated_inclusion_proofs_fail(size in 1u64..=300, index_seed: u64, pick: u64, bit in 0usize..256) {
        let tree = tree_of(&numbered_leaves(size));
        let root = tree.root();
        let index = index_seed % size;
        let leaf = tree.leaf(index).unwrap();
        let proof = tree.inclusion_proof(index, size).unwrap().hashes;
        prop_assert_eq!(verify_inclusion(&leaf, index, size, &proof, &root), Ok(()));

        // Any single flipped bit, in any hash of the proof, the leaf or the root.
        if !proof.is_empty() {
            let position = (pick % proof.len() as u64) as usize;
            let flipped = flip_bit(&proof, position, bit);
            prop_assert_eq!(verify_inclusion(&leaf, index, size, &flipped, &root), Err(MerkleError::RootMismatch));
            for position in 0..proof.len() {
                let flipped = flip_bit(&proof, position, bit);
                prop_assert_eq!(verify_inclusion(&leaf, index, size, &flipped, &root), Err(MerkleError::RootMismatch));
            }
        }
        let bad_leaf = flip_bit(&[leaf], 0, bit)[0];
        prop_assert_eq!(verify_inclusion(&bad_leaf, index, size, &proof, &root), Err(MerkleError::RootMismatch));
        let bad_root = flip_bit(&[root], 0, bit)[0];
        prop_assert_eq!(verify_inclusion(&leaf, index, size, &proof, &bad_root), Err(MerkleError::RootMismatch));

        // Truncation at either end, and extension at either end.
        let expected = proof.len();
        if !proof.is_empty() {
            let short = MerkleError::ProofTooShort { expected, got: expected - 1 };
            prop_assert_eq!(verify_inclusion(&leaf, index, size, &proof[..expected - 1], &root), Err(short.clone()));
            prop_assert_eq!(verify_inclusion(&leaf, index, size, &proof[1..], &root), Err(short));
        }
        let long = MerkleError::ProofTooLong { expected, got: expected + 1 };
        let mut extended = proof.clone();
        extended.push(root);
        prop_assert_eq!(verify_inclusion(&leaf, index, size, &extended, &root), Err(long.clone()));
        let mut prepended = vec![leaf];
        prepended.extend_from_slice(&proof);
        prop_assert_eq!(verify_inclusion(&leaf, index, size, &prepended, &root), Err(long));

        // Every other index fails; indices at or past the size are named as such.
        for other in 0..size {
            if other != index {
                prop_assert!(verify_inclusion(&leaf, other, size, &proof, &root).is_err(), "index {} accepted for {}", other, index);
            }
        }
        prop_assert_eq!(
            verify_inclusion(&leaf, size + pick % 5, size, &proof, &root),
            Err(MerkleError::IndexOutOfRange { index: size + pick % 5, size })
        );
        // A proof does not name its tree size: (0, 5) and (0, 8) have the same shape. What binds
        // the size is the root signed with it, so every other size fails against its own root.
        let bigger = tree_of(&numbered_leaves(size + 40));
        for other in (index + 1)..=(size + 40) {
            if other != size {
                let other_root = bigger.root_at(other).unwrap();
                let result = verify_inclusion(&leaf, index, other, &proof, &other_root);
                prop_assert!(
                    matches!(result, Err(MerkleError::RootMismatch | MerkleError::ProofTooShort { .. } | MerkleError::ProofTooLong { .. })),
                    "size {} gave {:?}", other, result
                );
            }
        }
        // Doubling the size always changes the shape (one more level).
        prop_assert_eq!(
            verify_inclusion(&leaf, index, size * 2, &proof, &root).unwrap_err().code(),
            "proof_too_short"
        );
    }

    #[test]
    fn mutated_consistency_proofs_fail(new in 2u64..=300, old_seed: u64, pick: u64, bit in 0usize..256) {
        let tree = tree_of(&numbered_leaves(new));
        let old = 1 + old_seed % (new - 1);
        let (old_root, new_root) = (tree.root_at(old).unwrap(), tree.root());
        let proof = tree.consistency_proof(old, new).unwrap().hashes;
        prop_assert!(!proof.is_empty());
        prop_assert_eq!(verify_consistency(old, new, &old_root, &new_root, &proof), Ok(()));

        for position in 0..proof.len() {
            let flipped = flip_bit(&proof, position, bit);
            prop_assert_eq!(verify_consistency(old, new, &old_root, &new_root, &flipped), Err(MerkleError::RootMismatch));
        }
        let bad_old = flip_bit(&[old_root], 0, bit)[0];
        prop_assert_eq!(verify_consistency(old, new, &bad_old, &new_root, &proof), Err(MerkleError::RootMismatch));
        let bad_new = flip_bit(&[new_root], 0, bit)[0];
        prop_assert_eq!(verify_consistency(old, new, &old_root, &bad_new, &proof), Err(MerkleError::RootMismatch));
        prop_assert_eq!(verify_consistency(old, new, &new_root, &old_root, &proof), Err(MerkleError::RootMismatch));

        let expected = proof.len();
        let short = MerkleError::ProofTooShort { expected, got: expected - 1 };
        prop_assert_eq!(verify_consistency(old, new, &old_root, &new_root, &proof[..expected - 1]), Err(short.clone()));
        prop_assert_eq!(verify_consistency(old, new, &old_root, &new_root, &proof[1..]), Err(short));
        prop_assert_eq!(
            verify_consistency(old, new, &old_root, &new_root, &[]),
            Err(MerkleError::ProofTooShort { expected, got: 0 })
        );
        let long = MerkleError::ProofTooLong { expected, got: expected + 1 };
        let mut extended = proof.clone();
        extended.push(proof[(pick % expected as u64) as usize]);
        prop_assert_eq!(verify_consistency(old, new, &old_root, &new_root, &extended), Err(long.clone()));
        let mut prepended = vec![old_root];
        prepended.extend_from_slice(&proof);
        prop_assert_eq!(verify_consistency(old, new, &old_root, &new_root, &prepended), Err(long));

        // Wrong sizes, each with the root a log would sign for it, and the same proof.
        let bigger = tree_of(&numbered_leaves(new + 40));
        for other_old in 1..new {
            if other_old != old {
                let other_root = bigger.root_at(other_old).unwrap();
                prop_assert!(verify_consistency(other_old, new, &other_root, &new_root, &proof).is_err(), "old {} accepted for {}", other_old, old);
            }
        }
        for other_new in (old + 1)..=(new + 40) {
            if other_new != new {
                let other_root = bigger.root_at(other_new).unwrap();
                prop_assert!(verify_consistency(old, other_new, &old_root, &other_root, &proof).is_err(), "new {} accepted for {}", other_new, new);
            }
        }
        prop_assert!(verify_consistency(old, new * 2, &old_root, &new_root, &proof).is_err());
        prop_assert_eq!(
            verify_consistency(new + 1 + pick % 5, new, &old_root, &new_root, &proof),
            Err(MerkleError::SizeOrder { old_size: new + 1 + pick % 5, new_size: new })
        );
        prop_assert_eq!(
            verify_consistency(0, new, &old_root, &new_root, &proof),
            Err(MerkleError::ProofTooLong { expected: 0, got: expected })
        );
        prop_assert_eq!(
            verify_consistency(new, new, &new_root, &new_root, &proof),
            Err(MerkleError::ProofTooLong { expected: 0, got: expected })
        );
    }

    #[test]
    fn root_at_a_past_size_is_the_root_of_that_prefix(total in 0u64..=300, cut_seed: u64) {
        let leaves = numbered_leaves(total);
        let big = tree_of(&leaves);
        let cut = cut_seed % (total + 1);
        let small = tree_of(&leaves[..cut as usize]);
        prop_assert_eq!(big.root_at(cut), Ok(small.root()));
        prop_assert_eq!(small.root(), reference_mth(&leaves[..cut as usize]));
    }
}

// ---------------------------------------------------------------------------------------------
// Checkpoints.

const KEY_NAME: &str = "pico.example/test-log";

fn key(seed_text: &str) -> SigningKey {
    SigningKey::from_bytes(&Hash32::digest_of(&[seed_text.as_bytes()]).0)
}

fn sample() -> Checkpoint {
    Checkpoint::new(KEY_NAME, 21, tree_of(&numbered_leaves(21)).root())
}

fn verify(note: &str) -> Result<Checkpoint, CheckpointError> {
    Checkpoint::parse_and_verify(
        note,
        KEY_NAME,
        &key("pico test vector key 1").verifying_key(),
    )
}

fn code(note: &str) -> &'static str {
    match verify(note) {
        Ok(_) => "ok",
        Err(error) => error.code(),
    }
}

/// A note whose text is `text`, validly signed by the test key (text need not be a checkpoint).
fn signed(text: &str) -> String {
    sign_note(text, KEY_NAME, &key("pico test vector key 1")).unwrap()
}

#[test]
fn checkpoint_round_trips() {
    let checkpoint = sample();
    let note = checkpoint
        .sign(KEY_NAME, &key("pico test vector key 1"))
        .unwrap();
    let root_b64 = STANDARD.encode(checkpoint.root.0);
    assert!(note.starts_with(&format!(
        "{KEY_NAME}\n21\n{root_b64}\n\n\u{2014} {KEY_NAME} "
    )));
    assert!(note.ends_with('\n'));
    assert_eq!(note.lines().count(), 5);
    assert_eq!(verify(&note), Ok(checkpoint));

    let empty = Checkpoint::new(KEY_NAME, 0, empty_root());
    let note = empty
        .sign(KEY_NAME, &key("pico test vector key 1"))
        .unwrap();
    assert!(note.contains("\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"));
    assert_eq!(verify(&note), Ok(empty));

    let mut extended = sample();
    extended.extensions = vec!["first extension".into(), "second".into()];
    let note = extended
        .sign(KEY_NAME, &key("pico test vector key 1"))
        .unwrap();
    assert_eq!(verify(&note), Ok(extended));
}

#[test]
fn only_the_expected_key_is_trusted() {
    let other = key("pico test vector key 2");
    let note = sample().sign(KEY_NAME, &other).unwrap();
    assert_eq!(verify(&note), Err(CheckpointError::NoMatchingSignature));
    // A different name with the right key is not the expected key either.
    let note = sample()
        .sign("pico.example/other", &key("pico test vector key 1"))
        .unwrap();
    assert_eq!(verify(&note), Err(CheckpointError::NoMatchingSignature));
}

#[test]
fn signatures_of_unknown_keys_are_ignored() {
    let note = signed(&sample().body().unwrap());
    let by_other_name = sign_note(&sample().body().unwrap(), "witness.example/w1", &key("w1"))
        .unwrap()
        .rsplit_once("\n\n")
        .map(|(_, line)| line.to_owned())
        .unwrap();
    let by_same_name_other_key = sample()
        .sign(KEY_NAME, &key("pico test vector key 2"))
        .unwrap()
        .rsplit_once("\n\n")
        .map(|(_, line)| line.to_owned())
        .unwrap();
    // Unknown lines before and after ours; a garbage signature under an unknown key id too.
    let garbage = format!("\u{2014} {KEY_NAME} {}\n", STANDARD.encode([7u8; 68]));
    let combined = note.replacen(
        "\n\n\u{2014}",
        &format!("\n\n{by_other_name}{garbage}\u{2014}"),
        1,
    ) + &by_same_name_other_key;
    assert_eq!(verify(&combined), Ok(sample()));
}

#[test]
fn a_bad_line_of_the_expected_key_rejects_the_note() {
    let note = signed(&sample().body().unwrap());
    let (body, line) = note.rsplit_once("\n\n").unwrap();
    let (prefix, sig) = line.trim_end().rsplit_once(' ').unwrap();
    let mut blob = STANDARD.decode(sig).unwrap();
    blob[10] ^= 1;
    let bad_line = format!("{prefix} {}\n", STANDARD.encode(&blob));
    assert_eq!(
        verify(&format!("{body}\n\n{line}{bad_line}")),
        Err(CheckpointError::BadSignature)
    );
    assert_eq!(
        verify(&format!("{body}\n\n{bad_line}")),
        Err(CheckpointError::BadSignature)
    );
    // A signature of the wrong length under our key id.
    let short_line = format!("{prefix} {}\n", STANDARD.encode(&blob[..40]));
    assert_eq!(
        verify(&format!("{body}\n\n{short_line}")),
        Err(CheckpointError::BadSignature)
    );
}

#[test]
fn altering_any_byte_of_the_body_breaks_the_signature() {
    let note = signed(&sample().body().unwrap());
    let body_len = sample().body().unwrap().len();
    for position in 0..body_len {
        let mut bytes = note.clone().into_bytes();
        bytes[position] = if bytes[position] == b'x' { b'y' } else { b'x' };
        let altered = String::from_utf8(bytes).unwrap();
        let expected = if position == body_len - 1 {
            "missing_blank_line"
        } else {
            "bad_signature"
        };
        assert_eq!(code(&altered), expected, "byte {position}");
    }
}

#[test]
fn malformed_notes_give_their_codes() {
    let body = sample().body().unwrap();
    let note = signed(&body);
    let root_b64 = STANDARD.encode(sample().root.0);
    let sig_line = note.rsplit_once("\n\n").unwrap().1.to_owned();
    let cases: Vec<(&str, String)> = vec![
        ("carriage_return", note.replace('\n', "\r\n")),
        ("carriage_return", format!("{body}\r\n{sig_line}")),
        ("control_character", note.replacen("21", "2\t1", 1)),
        ("missing_blank_line", body.clone() + &sig_line),
        ("missing_blank_line", String::new()),
        ("missing_signatures", format!("{body}\n")),
        (
            "missing_final_newline",
            note.trim_end_matches('\n').to_owned(),
        ),
        ("malformed_signature_line", note.replace('\u{2014}', "-")),
        (
            "malformed_signature_line",
            note.replace('\u{2014}', "\u{2014}\u{2014}"),
        ),
        (
            "malformed_signature_line",
            format!("{body}\n\u{2014} {KEY_NAME}\n"),
        ),
        (
            "malformed_signature_line",
            format!("{body}\n\u{2014} {KEY_NAME} AAAA\n"),
        ),
        (
            "malformed_signature_line",
            format!("{body}\n\u{2014} {KEY_NAME} not*base64\n"),
        ),
        (
            "malformed_signature_line",
            format!("{body}\n\u{2014} bad+name AAAAAAA=\n{sig_line}"),
        ),
        ("missing_signatures", format!("{note}\n")),
        ("missing_lines", signed(&format!("{KEY_NAME}\n21\n"))),
        ("missing_lines", signed("\n")),
        ("empty_origin", signed(&format!("\n21\n{root_b64}\n"))),
        (
            "bad_size",
            signed(&format!("{KEY_NAME}\n21a\n{root_b64}\n")),
        ),
        ("bad_size", signed(&format!("{KEY_NAME}\n-1\n{root_b64}\n"))),
        (
            "bad_size",
            signed(&format!("{KEY_NAME}\n+21\n{root_b64}\n")),
        ),
        ("bad_size", signed(&format!("{KEY_NAME}\n\n{root_b64}\n"))),
        (
            "bad_size",
            signed(&format!("{KEY_NAME}\n18446744073709551616\n{root_b64}\n")),
        ),
        (
            "size_leading_zero",
            signed(&format!("{KEY_NAME}\n021\n{root_b64}\n")),
        ),
        (
            "size_leading_zero",
            signed(&format!("{KEY_NAME}\n00\n{root_b64}\n")),
        ),
        (
            "bad_root_base64",
            signed(&format!(
                "{KEY_NAME}\n21\n{}\n",
                root_b64.trim_end_matches('=')
            )),
        ),
        (
            "bad_root_base64",
            signed(&format!("{KEY_NAME}\n21\n{}=\n", &root_b64[..42])),
        ),
        (
            "bad_root_length",
            signed(&format!("{KEY_NAME}\n21\n{}\n", sample().root.to_hex())),
        ),
        (
            "bad_root_length",
            signed(&format!("{KEY_NAME}\n21\n{}\n", STANDARD.encode([1u8; 31]))),
        ),
        (
            "bad_root_length",
            signed(&format!("{KEY_NAME}\n21\n{}\n", STANDARD.encode([1u8; 33]))),
        ),
        ("empty_extension_line", signed(&format!("{body}\nmore\n"))),
        ("empty_extension_line", signed(&format!("{body}\n"))),
        (
            "ok",
            signed(&format!("{KEY_NAME}\n18446744073709551615\n{root_b64}\n")),
        ),
    ];
    for (expected, note) in &cases {
        assert_eq!(code(note), *expected, "{note:?}");
    }
}

#[test]
fn size_and_encoding_limits() {
    let vk = key("pico test vector key 1").verifying_key();
    let note = signed(&sample().body().unwrap());
    assert_eq!(
        Checkpoint::parse_and_verify_bytes(b"\xff\xfe\n\n", KEY_NAME, &vk),
        Err(CheckpointError::NotUtf8)
    );
    let mut latin1 = note.clone().into_bytes();
    latin1[3] = 0xe9;
    assert_eq!(
        Checkpoint::parse_and_verify_bytes(&latin1, KEY_NAME, &vk)
            .unwrap_err()
            .code(),
        "not_utf8"
    );

    // Padding the text with an extension line to exactly 1 MiB, then one byte more.
    let fill = MAX_NOTE_BYTES - note.len() - 1;
    let mut big = sample();
    big.extensions = vec!["x".repeat(fill)];
    let at_limit = big.sign(KEY_NAME, &key("pico test vector key 1")).unwrap();
    assert_eq!(at_limit.len(), MAX_NOTE_BYTES);
    assert_eq!(verify(&at_limit), Ok(big.clone()));
    big.extensions = vec!["x".repeat(fill + 1)];
    assert_eq!(
        big.sign(KEY_NAME, &key("pico test vector key 1")),
        Err(CheckpointError::TooLarge {
            size: MAX_NOTE_BYTES + 1
        })
    );
    let split = at_limit.rfind("\n\n").unwrap();
    let over = format!("{}x{}", &at_limit[..split], &at_limit[split..]);
    assert_eq!(over.len(), MAX_NOTE_BYTES + 1);
    assert_eq!(
        verify(&over),
        Err(CheckpointError::TooLarge {
            size: MAX_NOTE_BYTES + 1
        })
    );

    // 100 signature lines are read; 101 are refused before any is checked.
    let (body, line) = note.rsplit_once("\n\n").unwrap();
    let unknown = format!(
        "\u{2014} witness.example/w {}\n",
        STANDARD.encode([9u8; 68])
    );
    let hundred = format!("{body}\n\n{}{line}", unknown.repeat(MAX_SIGNATURES - 1));
    assert_eq!(verify(&hundred), Ok(sample()));
    let too_many = format!("{body}\n\n{}{line}", unknown.repeat(MAX_SIGNATURES));
    assert_eq!(
        verify(&too_many),
        Err(CheckpointError::TooManySignatures { count: 101 })
    );
}

#[test]
fn invalid_names_and_texts_are_not_signed() {
    let sk = key("pico test vector key 1");
    for name in ["", "has space", "has+plus", "tab\there", "nbsp\u{a0}x"] {
        assert_eq!(
            sample().sign(name, &sk),
            Err(CheckpointError::InvalidKeyName),
            "{name:?}"
        );
        assert_eq!(
            note_verifier_key(name, &sk.verifying_key()),
            Err(CheckpointError::InvalidKeyName)
        );
        assert_eq!(
            Checkpoint::parse_and_verify("x\n\n", name, &sk.verifying_key()),
            Err(CheckpointError::InvalidKeyName)
        );
    }
    let mut bad = sample();
    bad.origin = "two\nlines".into();
    assert_eq!(bad.sign(KEY_NAME, &sk).unwrap_err().code(), "invalid_text");
    bad.origin = String::new();
    assert_eq!(bad.sign(KEY_NAME, &sk).unwrap_err().code(), "invalid_text");
    let mut bad = sample();
    bad.extensions = vec![String::new()];
    assert_eq!(bad.sign(KEY_NAME, &sk).unwrap_err().code(), "invalid_text");
    assert_eq!(
        sign_note("no newline", KEY_NAME, &sk).unwrap_err().code(),
        "invalid_text"
    );
    assert_eq!(
        sign_note("cr\r\n", KEY_NAME, &sk).unwrap_err().code(),
        "invalid_text"
    );
}

#[test]
fn verifier_keys_round_trip() {
    let vk = key("pico test vector key 1").verifying_key();
    let vkey = note_verifier_key(KEY_NAME, &vk).unwrap();
    let id = key_id(KEY_NAME, &vk);
    assert_eq!(vkey.split('+').nth(1), Some(hex::encode(id).as_str()));
    assert_eq!(
        parse_note_verifier_key(&vkey),
        Ok((KEY_NAME.to_owned(), vk))
    );

    let other = key("pico test vector key 2").verifying_key();
    let wrong_id = format!(
        "{KEY_NAME}+{}+{}",
        hex::encode(key_id(KEY_NAME, &other)),
        vkey.splitn(3, '+').nth(2).unwrap()
    );
    for bad in [
        wrong_id.as_str(),
        "",
        "name",
        "name+1234abcd",
        &vkey.replacen('+', "+0", 1),
        &vkey.replacen("+A", "+B", 1),
        &format!("{vkey}AAAA"),
    ] {
        assert_eq!(
            parse_note_verifier_key(bad),
            Err(CheckpointError::BadVerifierKey),
            "{bad:?}"
        );
    }
}

/// The example of golang.org/x/mod/sumdb/note (note.go package documentation): the reference
/// implementation's signer key, text, signed note and verifier key. Ed25519 is deterministic,
/// so signing the same text must reproduce the published note byte for byte.
#[test]
fn go_sumdb_note_example_interoperates() {
    let skey = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    let vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    let text = "If you think cryptography is the answer to your problem,\n\
                then you don't know what your problem is.\n";
    let published = format!(
        "{text}\n\u{2014} PeterNeumann \
         x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
    );

    let typed_seed = STANDARD
        .decode(skey.splitn(5, '+').nth(4).unwrap())
        .unwrap();
    assert_eq!(typed_seed[0], 0x01);
    let sk = SigningKey::from_bytes(&typed_seed[1..].try_into().unwrap());
    assert_eq!(
        note_verifier_key("PeterNeumann", &sk.verifying_key()).unwrap(),
        vkey
    );
    assert_eq!(sign_note(text, "PeterNeumann", &sk).unwrap(), published);

    let (name, vk): (String, VerifyingKey) = parse_note_verifier_key(vkey).unwrap();
    assert_eq!(open_note(published.as_bytes(), &name, &vk), Ok(text));
    let tampered = published.replace("cryptography", "cryptographY");
    assert_eq!(
        open_note(tampered.as_bytes(), &name, &vk),
        Err(CheckpointError::BadSignature)
    );
    // It is a valid note but not a checkpoint: its second line is not a size.
    assert_eq!(
        checkpoint::Checkpoint::parse_and_verify(&published, &name, &vk),
        Err(CheckpointError::MissingLines { lines: 2 })
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn any_checkpoint_round_trips(
        origin in "[a-z0-9./-]{1,40}",
        size: u64,
        root: [u8; 32],
        extensions in proptest::collection::vec("[ -~]{1,30}", 0..3),
    ) {
        let checkpoint = Checkpoint { origin, size, root: Hash32(root), extensions };
        let note = checkpoint.sign(KEY_NAME, &key("pico test vector key 1")).unwrap();
        prop_assert_eq!(verify(&note), Ok(checkpoint));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let vk = key("pico test vector key 1").verifying_key();
        let _ = Checkpoint::parse_and_verify_bytes(&bytes, KEY_NAME, &vk);
    }

    #[test]
    fn any_one_byte_change_to_a_note_is_refused(position_seed: usize, replacement: u8) {
        let note = signed(&sample().body().unwrap());
        let position = position_seed % note.len();
        let mut bytes = note.into_bytes();
        prop_assume!(bytes[position] != replacement);
        bytes[position] = replacement;
        // Even the unused low bits of the last base64 digit count: non-canonical base64 is refused.
        let vk = key("pico test vector key 1").verifying_key();
        prop_assert!(Checkpoint::parse_and_verify_bytes(&bytes, KEY_NAME, &vk).is_err());
    }
}
