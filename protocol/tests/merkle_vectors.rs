//! Golden test vectors for the transparency log: `vectors/merkle.json` and
//! `vectors/checkpoint.json`, for implementers of other verifiers.
//!
//! `PICO_REGENERATE_VECTORS=1 cargo test -p pico-protocol --test merkle_vectors` rewrites both
//! files. Otherwise the test reads them, checks every vector against the library, and checks that
//! the generator still produces exactly the committed files, so they cannot drift apart.

#![expect(
    clippy::unwrap_used,
    reason = "a test should stop loudly at the first unexpected error"
)]

use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::SigningKey;
use pico_protocol::Hash32;
use pico_protocol::checkpoint::{
    Checkpoint, key_id, note_verifier_key, parse_note_verifier_key, sign_note,
};
use pico_protocol::merkle::{
    MemoryTree, MerkleError, leaf_hash, verify_consistency, verify_inclusion,
};
use serde::{Deserialize, Serialize};

/// Leaves in the vector tree: not a power of two, so right-edge subtrees are exercised.
const LEAVES: u64 = 21;
const KEY_SEED_TEXT: &str = "pico test vector key 1";
const OTHER_KEY_SEED_TEXT: &str = "pico test vector key 2";
const KEY_NAME: &str = "pico.example/test-log";
const OK: &str = "ok";

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct MerkleVectors {
    description: String,
    leaf_hash: String,
    node_hash: String,
    empty_root: String,
    leaves: Vec<LeafVector>,
    roots: Vec<RootVector>,
    inclusion: Vec<InclusionVector>,
    consistency: Vec<ConsistencyVector>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct LeafVector {
    index: u64,
    data: String,
    leaf_hash: Hash32,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct RootVector {
    size: u64,
    root: Hash32,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct InclusionVector {
    description: String,
    leaf_index: u64,
    tree_size: u64,
    leaf_hash: Hash32,
    root: Hash32,
    hashes: Vec<Hash32>,
    expect: String,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct ConsistencyVector {
    description: String,
    old_size: u64,
    new_size: u64,
    old_root: Hash32,
    new_root: Hash32,
    hashes: Vec<Hash32>,
    expect: String,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct CheckpointVectors {
    description: String,
    key: KeyVector,
    other_key: KeyVector,
    /// A key whose verifier key holds `+` in its base64 key data (SPEC §10.5: split the
    /// verifier key at the first two `+` only).
    plus_key: KeyVector,
    checkpoint: CheckpointFields,
    note: String,
    cases: Vec<NoteCase>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct KeyVector {
    seed_derivation: String,
    seed: String,
    public_key: String,
    key_name: String,
    key_id: String,
    verifier_key: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct CheckpointFields {
    origin: String,
    size: u64,
    root: Hash32,
    root_base64: String,
    extensions: Vec<String>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct NoteCase {
    description: String,
    /// The note as text, or absent when it is not UTF-8.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    note: Option<String>,
    /// The note's bytes in standard base64, only when it is not UTF-8.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    note_base64: Option<String>,
    expect: String,
    /// The checkpoint a verifier must return, when `expect` is "ok".
    #[serde(skip_serializing_if = "Option::is_none", default)]
    checkpoint: Option<CheckpointFields>,
}

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("vectors")
}

fn outcome(result: Result<(), MerkleError>) -> String {
    match result {
        Ok(()) => OK.to_owned(),
        Err(error) => error.code().to_owned(),
    }
}

// ---------------------------------------------------------------------------------------------
// Merkle vectors.

fn flip(hashes: &[Hash32], position: usize, byte: usize, bit: u8) -> Vec<Hash32> {
    let mut out = hashes.to_vec();
    out[position].0[byte] ^= 1 << bit;
    out
}

fn inclusion_vector(
    description: String,
    (leaf_index, tree_size): (u64, u64),
    leaf_hash: Hash32,
    root: Hash32,
    hashes: Vec<Hash32>,
) -> InclusionVector {
    let expect = outcome(verify_inclusion(
        &leaf_hash, leaf_index, tree_size, &hashes, &root,
    ));
    InclusionVector {
        description,
        leaf_index,
        tree_size,
        leaf_hash,
        root,
        hashes,
        expect,
    }
}

fn consistency_vector(
    description: String,
    (old_size, new_size): (u64, u64),
    (old_root, new_root): (Hash32, Hash32),
    hashes: Vec<Hash32>,
) -> ConsistencyVector {
    let expect = outcome(verify_consistency(
        old_size, new_size, &old_root, &new_root, &hashes,
    ));
    ConsistencyVector {
        description,
        old_size,
        new_size,
        old_root,
        new_root,
        hashes,
        expect,
    }
}

fn merkle_vectors() -> MerkleVectors {
    let data: Vec<String> = (0..LEAVES).map(|i| format!("leaf-{i}")).collect();
    let tree = MemoryTree::from_leaves(&data);
    let root = |size: u64| tree.root_at(size).unwrap();
    let leaf = |index: u64| tree.leaf(index).unwrap();

    let mut inclusion = Vec::new();
    for size in [1u64, 2, 3, 4, 5, 7, 8, 13, 16, 21] {
        let mut indices = vec![0, 1, size / 2, size.saturating_sub(2), size - 1];
        indices.retain(|&i| i < size);
        indices.sort_unstable();
        indices.dedup();
        for index in indices {
            let proof = tree.inclusion_proof(index, size).unwrap().hashes;
            let v = inclusion_vector(
                format!("valid: leaf {index} in tree of {size}"),
                (index, size),
                leaf(index),
                root(size),
                proof,
            );
            assert_eq!(v.expect, OK);
            inclusion.push(v);
        }
    }
    let mut mutated = Vec::new();
    for (index, size) in [(5, 13), (20, 21), (0, 16), (12, 21)] {
        let proof = tree.inclusion_proof(index, size).unwrap().hashes;
        let n = proof.len();
        let (l, r) = (leaf(index), root(size));
        let at = |what: &str| format!("{what}: leaf {index} in tree of {size}");
        let mut push = |v: InclusionVector, expect: &str| {
            assert_eq!(v.expect, expect, "{}", v.description);
            mutated.push(v);
        };
        let mut extended = proof.clone();
        extended.push(r);
        let cases = [
            (
                "flipped bit 0 of hashes[0]",
                (index, size),
                l,
                r,
                flip(&proof, 0, 0, 0),
                "root_mismatch",
            ),
            (
                "flipped bit 255 of the last hash",
                (index, size),
                l,
                r,
                flip(&proof, n - 1, 31, 7),
                "root_mismatch",
            ),
            (
                "truncated: last hash removed",
                (index, size),
                l,
                r,
                proof[..n - 1].to_vec(),
                "proof_too_short",
            ),
            (
                "truncated: first hash removed",
                (index, size),
                l,
                r,
                proof[1..].to_vec(),
                "proof_too_short",
            ),
            (
                "extended: root appended",
                (index, size),
                l,
                r,
                extended,
                "proof_too_long",
            ),
            (
                "wrong leaf hash",
                (index, size),
                leaf((index + 1) % size),
                r,
                proof.clone(),
                "root_mismatch",
            ),
            (
                "wrong root (root of the tree one leaf smaller)",
                (index, size),
                l,
                root(size - 1),
                proof.clone(),
                "root_mismatch",
            ),
            (
                "index equal to the size",
                (size, size),
                l,
                r,
                proof.clone(),
                "index_out_of_range",
            ),
            ("size 0", (0, 0), l, r, proof.clone(), "index_out_of_range"),
        ];
        for (what, sizes, lh, rt, hashes, expect) in cases {
            push(inclusion_vector(at(what), sizes, lh, rt, hashes), expect);
        }
        // Wrong positions and sizes: the error depends on the shape, so it is recorded as found,
        // but it must be an error.
        let wrong = [
            ("wrong index (+1)", ((index + 1) % size, size), Some(r)),
            ("wrong index (xor 2)", (index ^ 2, size), Some(r)),
            (
                "wrong size (doubled), same root",
                (index, size * 2),
                Some(r),
            ),
            (
                "wrong size (+1) with the root of that size",
                (index, size + 1),
                tree.root_at(size + 1).ok(),
            ),
            (
                "wrong size (-1) with the root of that size",
                (index, size - 1),
                tree.root_at(size - 1).ok(),
            ),
        ];
        for (what, sizes, rt) in wrong {
            let Some(rt) = rt else { continue };
            if sizes.0 >= sizes.1 {
                continue;
            }
            let v = inclusion_vector(at(what), sizes, l, rt, proof.clone());
            assert_ne!(v.expect, OK, "{}", v.description);
            mutated.push(v);
        }
    }
    inclusion.extend(mutated);

    let mut consistency = Vec::new();
    let valid_pairs = [
        (0, 0),
        (0, 5),
        (1, 1),
        (1, 2),
        (1, 8),
        (2, 5),
        (3, 7),
        (4, 8),
        (5, 13),
        (6, 8),
        (7, 8),
        (7, 21),
        (8, 16),
        (12, 21),
        (13, 21),
        (16, 21),
        (20, 21),
        (21, 21),
    ];
    for (old, new) in valid_pairs {
        let proof = tree.consistency_proof(old, new).unwrap().hashes;
        let v = consistency_vector(
            format!("valid: {old} -> {new}"),
            (old, new),
            (root(old), root(new)),
            proof,
        );
        assert_eq!(v.expect, OK);
        consistency.push(v);
    }
    for (old, new) in [(5, 13), (6, 8), (7, 21), (4, 8)] {
        let proof = tree.consistency_proof(old, new).unwrap().hashes;
        let n = proof.len();
        let roots = (root(old), root(new));
        let at = |what: &str| format!("{what}: {old} -> {new}");
        let mut extended = proof.clone();
        extended.push(roots.1);
        let cases = [
            (
                "flipped bit 0 of hashes[0]",
                (old, new),
                roots,
                flip(&proof, 0, 0, 0),
                "root_mismatch",
            ),
            (
                "flipped bit 255 of the last hash",
                (old, new),
                roots,
                flip(&proof, n - 1, 31, 7),
                "root_mismatch",
            ),
            (
                "truncated: last hash removed",
                (old, new),
                roots,
                proof[..n - 1].to_vec(),
                "proof_too_short",
            ),
            (
                "empty proof",
                (old, new),
                roots,
                Vec::new(),
                "proof_too_short",
            ),
            (
                "extended: new root appended",
                (old, new),
                roots,
                extended,
                "proof_too_long",
            ),
            (
                "roots swapped",
                (old, new),
                (roots.1, roots.0),
                proof.clone(),
                "root_mismatch",
            ),
            (
                "wrong old root",
                (old, new),
                (root(old - 1), roots.1),
                proof.clone(),
                "root_mismatch",
            ),
            (
                "old size larger than new size",
                (new, old),
                roots,
                proof.clone(),
                "size_order",
            ),
            (
                "old size 0 with a non-empty proof",
                (0, new),
                roots,
                proof.clone(),
                "proof_too_long",
            ),
            (
                "equal sizes with a non-empty proof",
                (new, new),
                (roots.1, roots.1),
                proof.clone(),
                "proof_too_long",
            ),
        ];
        for (what, sizes, rts, hashes, expect) in cases {
            let v = consistency_vector(at(what), sizes, rts, hashes);
            assert_eq!(v.expect, expect, "{}", v.description);
            consistency.push(v);
        }
        let wrong = [
            (
                "wrong old size (+1), same roots",
                (old + 1, new),
                Some(roots),
            ),
            (
                "wrong new size (doubled), same roots",
                (old, new * 2),
                Some(roots),
            ),
            (
                "wrong old size (-1) with the root of that size",
                (old - 1, new),
                tree.root_at(old - 1).ok().map(|r| (r, roots.1)),
            ),
            (
                "wrong new size (+1) with the root of that size",
                (old, new + 1),
                tree.root_at(new + 1).ok().map(|r| (roots.0, r)),
            ),
        ];
        for (what, sizes, rts) in wrong {
            let Some(rts) = rts else { continue };
            if sizes.0 == 0 || sizes.0 >= sizes.1 {
                continue;
            }
            let v = consistency_vector(at(what), sizes, rts, proof.clone());
            assert_ne!(v.expect, OK, "{}", v.description);
            consistency.push(v);
        }
    }
    let same_size = consistency_vector(
        "equal sizes with different roots: 8 -> 8".into(),
        (8, 8),
        (root(8), root(7)),
        Vec::new(),
    );
    assert_eq!(same_size.expect, "root_mismatch");
    consistency.push(same_size);

    MerkleVectors {
        description: format!(
            "RFC 6962 / RFC 9162 Merkle tree vectors of the Pi.Co. transparency log: a tree of {LEAVES} \
             leaves whose data is the ASCII text \"leaf-<i>\". Hashes are lowercase hex. `expect` is \
             \"ok\" or the error code a verifier reports (see protocol/SPEC.md). The proof length is \
             checked before any hashing, so a wrong-length proof reports proof_too_short or \
             proof_too_long."
        ),
        leaf_hash: "SHA-256(0x00 || data)".into(),
        node_hash: "SHA-256(0x01 || left || right)".into(),
        empty_root: "SHA-256(\"\")".into(),
        leaves: data
            .iter()
            .enumerate()
            .map(|(i, d)| LeafVector {
                index: i as u64,
                data: d.clone(),
                leaf_hash: leaf_hash(d.as_bytes()),
            })
            .collect(),
        roots: (0..=LEAVES)
            .map(|size| RootVector {
                size,
                root: root(size),
            })
            .collect(),
        inclusion,
        consistency,
    }
}

// ---------------------------------------------------------------------------------------------
// Checkpoint vectors.

fn key_from(seed_text: &str) -> SigningKey {
    SigningKey::from_bytes(&Hash32::digest_of(&[seed_text.as_bytes()]).0)
}

fn key_vector(seed_text: &str) -> KeyVector {
    let sk = key_from(seed_text);
    let vk = sk.verifying_key();
    KeyVector {
        seed_derivation: format!("SHA-256(\"{seed_text}\")"),
        seed: hex::encode(sk.to_bytes()),
        public_key: hex::encode(vk.as_bytes()),
        key_name: KEY_NAME.into(),
        key_id: hex::encode(key_id(KEY_NAME, &vk)),
        verifier_key: note_verifier_key(KEY_NAME, &vk).unwrap(),
    }
}

/// The first test key, `SHA-256("pico test vector key plus-<n>")`, whose verifier key's base64
/// key data contains a `+`.
fn plus_key_seed_text() -> String {
    (0..)
        .map(|n| format!("pico test vector key plus-{n}"))
        .find(|text| {
            let vkey = key_vector(text).verifier_key;
            vkey.splitn(3, '+')
                .nth(2)
                .is_some_and(|data| data.contains('+'))
        })
        .unwrap()
}

fn fields(checkpoint: &Checkpoint) -> CheckpointFields {
    CheckpointFields {
        origin: checkpoint.origin.clone(),
        size: checkpoint.size,
        root: checkpoint.root,
        root_base64: STANDARD.encode(checkpoint.root.0),
        extensions: checkpoint.extensions.clone(),
    }
}

fn check_note(bytes: &[u8]) -> (String, Option<CheckpointFields>) {
    let vk = key_from(KEY_SEED_TEXT).verifying_key();
    match Checkpoint::parse_and_verify_bytes(bytes, KEY_NAME, &vk) {
        Ok(checkpoint) => (OK.to_owned(), Some(fields(&checkpoint))),
        Err(error) => (error.code().to_owned(), None),
    }
}

fn note_case(description: &str, note: &str, expect: &str) -> NoteCase {
    let (found, checkpoint) = check_note(note.as_bytes());
    assert_eq!(found, expect, "{description}");
    NoteCase {
        description: description.into(),
        note: Some(note.into()),
        note_base64: None,
        expect: found,
        checkpoint,
    }
}

fn checkpoint_vectors() -> CheckpointVectors {
    let sk = key_from(KEY_SEED_TEXT);
    let other = key_from(OTHER_KEY_SEED_TEXT);
    let data: Vec<String> = (0..LEAVES).map(|i| format!("leaf-{i}")).collect();
    let tree = MemoryTree::from_leaves(&data);
    let checkpoint = Checkpoint::new(KEY_NAME, LEAVES, tree.root());
    let body = checkpoint.body().unwrap();
    let note = checkpoint.sign(KEY_NAME, &sk).unwrap();
    let signed = |text: &str| sign_note(text, KEY_NAME, &sk).unwrap();
    let (text_part, sig_line) = note.rsplit_once("\n\n").unwrap();
    let root_b64 = STANDARD.encode(checkpoint.root.0);
    let other_line = checkpoint
        .sign(KEY_NAME, &other)
        .unwrap()
        .rsplit_once("\n\n")
        .unwrap()
        .1
        .to_owned();
    let witness_line = sign_note(
        &body,
        "witness.example/w1",
        &key_from("pico test vector witness"),
    )
    .unwrap()
    .rsplit_once("\n\n")
    .unwrap()
    .1
    .to_owned();
    let mut flipped_sig = STANDARD
        .decode(sig_line.trim_end().rsplit_once(' ').unwrap().1)
        .unwrap();
    flipped_sig[4] ^= 1;
    let flipped_line = format!("\u{2014} {KEY_NAME} {}\n", STANDARD.encode(&flipped_sig));
    let unknown_line = format!(
        "\u{2014} witness.example/w2 {}\n",
        STANDARD.encode([9u8; 68])
    );

    let mut with_extension = checkpoint.clone();
    with_extension.extensions = vec!["extension line".into()];
    let empty_tree = Checkpoint::new(KEY_NAME, 0, tree.root_at(0).unwrap());

    let mut cases = vec![
        note_case("valid checkpoint note", &note, OK),
        note_case(
            "valid, with an extra signature by an unknown key (other name) before ours",
            &format!("{text_part}\n\n{witness_line}{sig_line}"),
            OK,
        ),
        note_case(
            "valid, with a signature by another key under the same name (different key id) after ours",
            &format!("{text_part}\n\n{sig_line}{other_line}"),
            OK,
        ),
        note_case(
            "valid, with 99 unknown-key lines and ours (100 signature lines)",
            &format!("{text_part}\n\n{}{sig_line}", unknown_line.repeat(99)),
            OK,
        ),
        note_case(
            "valid, empty tree",
            &empty_tree.sign(KEY_NAME, &sk).unwrap(),
            OK,
        ),
        note_case(
            "valid, one extension line",
            &with_extension.sign(KEY_NAME, &sk).unwrap(),
            OK,
        ),
        note_case(
            "valid, largest tree size",
            &signed(&format!("{KEY_NAME}\n18446744073709551615\n{root_b64}\n")),
            OK,
        ),
        note_case(
            "signed only by another key with the same name",
            &checkpoint.sign(KEY_NAME, &other).unwrap(),
            "no_matching_signature",
        ),
        note_case(
            "signed only by an unknown key",
            &format!("{text_part}\n\n{witness_line}"),
            "no_matching_signature",
        ),
        note_case(
            "body altered: size 21 changed to 22",
            &note.replacen("\n21\n", "\n22\n", 1),
            "bad_signature",
        ),
        note_case(
            "body altered: origin changed",
            &note.replacen("test-log\n", "test-loh\n", 1),
            "bad_signature",
        ),
        note_case(
            "signature bit flipped",
            &format!("{text_part}\n\n{flipped_line}"),
            "bad_signature",
        ),
        note_case(
            "a good and a bad signature by the expected key",
            &format!("{text_part}\n\n{sig_line}{flipped_line}"),
            "bad_signature",
        ),
        note_case(
            "CRLF line ends",
            &note.replace('\n', "\r\n"),
            "carriage_return",
        ),
        note_case(
            "tab inside the size line",
            &note.replacen("\n21\n", "\n2\t1\n", 1),
            "control_character",
        ),
        note_case(
            "no blank line before the signatures",
            &format!("{text_part}\n{sig_line}"),
            "missing_blank_line",
        ),
        note_case(
            "nothing after the blank line",
            &format!("{body}\n"),
            "missing_signatures",
        ),
        note_case(
            "no final newline",
            note.trim_end_matches('\n'),
            "missing_final_newline",
        ),
        note_case(
            "signature line starts with a hyphen instead of an em dash",
            &note.replace('\u{2014}', "-"),
            "malformed_signature_line",
        ),
        note_case(
            "signature line with invalid base64",
            &format!("{text_part}\n\n\u{2014} {KEY_NAME} @@@@\n"),
            "malformed_signature_line",
        ),
        note_case(
            "signature line whose base64 holds fewer than 5 bytes",
            &format!("{text_part}\n\n\u{2014} {KEY_NAME} AAAA\n"),
            "malformed_signature_line",
        ),
        note_case(
            "101 signature lines",
            &format!("{text_part}\n\n{}{sig_line}", unknown_line.repeat(100)),
            "too_many_signatures",
        ),
        note_case(
            "signed text with only two lines",
            &signed(&format!("{KEY_NAME}\n21\n")),
            "missing_lines",
        ),
        note_case(
            "signed text with an empty origin",
            &signed(&format!("\n21\n{root_b64}\n")),
            "empty_origin",
        ),
        note_case(
            "signed, size not decimal",
            &signed(&format!("{KEY_NAME}\n0x15\n{root_b64}\n")),
            "bad_size",
        ),
        note_case(
            "signed, negative size",
            &signed(&format!("{KEY_NAME}\n-21\n{root_b64}\n")),
            "bad_size",
        ),
        note_case(
            "signed, size above 2^64-1",
            &signed(&format!("{KEY_NAME}\n18446744073709551616\n{root_b64}\n")),
            "bad_size",
        ),
        note_case(
            "signed, size with a leading zero",
            &signed(&format!("{KEY_NAME}\n021\n{root_b64}\n")),
            "size_leading_zero",
        ),
        note_case(
            "signed, root hash base64 without padding",
            &signed(&format!(
                "{KEY_NAME}\n21\n{}\n",
                root_b64.trim_end_matches('=')
            )),
            "bad_root_base64",
        ),
        note_case(
            "signed, root hash of 31 bytes",
            &signed(&format!(
                "{KEY_NAME}\n21\n{}\n",
                STANDARD.encode(&checkpoint.root.0[..31])
            )),
            "bad_root_length",
        ),
        note_case(
            "signed, root hash as hex instead of base64",
            &signed(&format!("{KEY_NAME}\n21\n{}\n", checkpoint.root.to_hex())),
            "bad_root_length",
        ),
        note_case(
            "signed, an empty extension line",
            &signed(&format!("{body}\n")),
            "empty_extension_line",
        ),
    ];
    let mut latin1 = note.clone().into_bytes();
    latin1[1] = 0xe9;
    let (found, _) = check_note(&latin1);
    assert_eq!(found, "not_utf8");
    cases.push(NoteCase {
        description: "not UTF-8 (byte 1 replaced by 0xE9)".into(),
        note: None,
        note_base64: Some(STANDARD.encode(&latin1)),
        expect: found,
        checkpoint: None,
    });

    CheckpointVectors {
        description: "C2SP tlog-checkpoint notes (c2sp.org/signed-note, Ed25519) of the Pi.Co. \
                      transparency log. Verify each case with `key` (name and public key); `expect` \
                      is \"ok\" with the checkpoint to return, or the error code. The checkpoint is \
                      the tree of merkle.json at 21 leaves. Notes larger than 1 MiB (1048576 bytes) \
                      must fail with too_large; no vector carries one."
            .into(),
        key: key_vector(KEY_SEED_TEXT),
        other_key: key_vector(OTHER_KEY_SEED_TEXT),
        plus_key: key_vector(&plus_key_seed_text()),
        checkpoint: fields(&checkpoint),
        note,
        cases,
    }
}

// ---------------------------------------------------------------------------------------------
// Checking the committed files.

fn check_merkle_file(vectors: &MerkleVectors) {
    assert!(vectors.inclusion.len() > 40 && vectors.consistency.len() > 40);
    let tree = MemoryTree::from_leaves(vectors.leaves.iter().map(|l| l.data.as_bytes()));
    for leaf in &vectors.leaves {
        assert_eq!(
            leaf_hash(leaf.data.as_bytes()),
            leaf.leaf_hash,
            "leaf {}",
            leaf.index
        );
    }
    for root in &vectors.roots {
        assert_eq!(
            tree.root_at(root.size),
            Ok(root.root),
            "root at {}",
            root.size
        );
    }
    for v in &vectors.inclusion {
        let found = outcome(verify_inclusion(
            &v.leaf_hash,
            v.leaf_index,
            v.tree_size,
            &v.hashes,
            &v.root,
        ));
        assert_eq!(found, v.expect, "{}", v.description);
        if v.expect == OK {
            assert_eq!(
                tree.inclusion_proof(v.leaf_index, v.tree_size)
                    .unwrap()
                    .hashes,
                v.hashes
            );
        }
    }
    for v in &vectors.consistency {
        let found = outcome(verify_consistency(
            v.old_size,
            v.new_size,
            &v.old_root,
            &v.new_root,
            &v.hashes,
        ));
        assert_eq!(found, v.expect, "{}", v.description);
        if v.expect == OK {
            assert_eq!(
                tree.consistency_proof(v.old_size, v.new_size)
                    .unwrap()
                    .hashes,
                v.hashes
            );
        }
    }
}

fn check_checkpoint_file(vectors: &CheckpointVectors) {
    let plus_seed_text = plus_key_seed_text();
    for (key, seed_text) in [
        (&vectors.key, KEY_SEED_TEXT),
        (&vectors.other_key, OTHER_KEY_SEED_TEXT),
        (&vectors.plus_key, plus_seed_text.as_str()),
    ] {
        assert_eq!(key, &key_vector(seed_text));
        // Read back by splitting at the first two '+' only.
        let (name, public) = parse_note_verifier_key(&key.verifier_key).unwrap();
        assert_eq!(name, key.key_name);
        assert_eq!(hex::encode(public.as_bytes()), key.public_key);
        // The key id is lowercase hex: one spelling per verifier key.
        let upper = key.key_id.to_uppercase();
        if upper != key.key_id {
            let shouted = key.verifier_key.replacen(&key.key_id, &upper, 1);
            assert!(parse_note_verifier_key(&shouted).is_err(), "{shouted}");
        }
    }
    assert!(vectors.plus_key.verifier_key.matches('+').count() > 2);
    assert_eq!(
        check_note(vectors.note.as_bytes()),
        (OK.to_owned(), Some(vectors.checkpoint.clone()))
    );
    assert!(vectors.cases.len() > 25);
    for case in &vectors.cases {
        let bytes = match (&case.note, &case.note_base64) {
            (Some(note), None) => note.clone().into_bytes(),
            (None, Some(b64)) => STANDARD.decode(b64).unwrap(),
            _ => panic!(
                "case {:?} needs exactly one of note, note_base64",
                case.description
            ),
        };
        let (found, checkpoint) = check_note(&bytes);
        assert_eq!(found, case.expect, "{}", case.description);
        assert_eq!(checkpoint, case.checkpoint, "{}", case.description);
    }
}

fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).unwrap() + "\n"
}

#[test]
fn vectors_match_the_library() {
    let merkle_path = vectors_dir().join("merkle.json");
    let checkpoint_path = vectors_dir().join("checkpoint.json");
    let merkle = merkle_vectors();
    let checkpoint = checkpoint_vectors();

    if std::env::var("PICO_REGENERATE_VECTORS").as_deref() == Ok("1") {
        std::fs::write(&merkle_path, to_json(&merkle)).unwrap();
        std::fs::write(&checkpoint_path, to_json(&checkpoint)).unwrap();
    }

    let read = |path: &PathBuf| {
        std::fs::read_to_string(path).unwrap_or_else(|error| {
            panic!(
                "{}: {error}; run with PICO_REGENERATE_VECTORS=1 to create it",
                path.display()
            )
        })
    };
    let merkle_text = read(&merkle_path);
    let checkpoint_text = read(&checkpoint_path);
    let merkle_file: MerkleVectors = serde_json::from_str(&merkle_text).unwrap();
    let checkpoint_file: CheckpointVectors = serde_json::from_str(&checkpoint_text).unwrap();

    check_merkle_file(&merkle_file);
    check_checkpoint_file(&checkpoint_file);

    // The generator and the committed files must agree, byte for byte.
    assert!(
        merkle_text == to_json(&merkle),
        "merkle.json is stale; regenerate it"
    );
    assert!(
        checkpoint_text == to_json(&checkpoint),
        "checkpoint.json is stale; regenerate it"
    );
}
