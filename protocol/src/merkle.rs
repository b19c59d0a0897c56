//! The hub's transparency log as an RFC 6962 / RFC 9162 Merkle tree: hashing, proofs, verification.
//!
//! The tree is never walked node by node. Every hash the algorithms need is the hash of a range of
//! leaves `[start, end)` that RFC 9162 §2.1.1 produces by splitting at the largest power of two,
//! and every such range is a run of *perfect* subtrees (2^level leaves starting at a multiple of
//! 2^level). A perfect subtree never changes once its last leaf is appended, so a store only has
//! to keep those immutable nodes, written once, and any root or proof for any past tree size can
//! be rebuilt from O(log n) of them. [`NodeSource`] is that store; [`MemoryTree`] keeps it in
//! memory and the hub keeps it in SQLite, both served by the same free functions.

use serde::{Deserialize, Serialize};

use crate::hash::Hash32;

/// Domain-separation prefix of a leaf hash (RFC 9162 §2.1.1), so a leaf can never pass for a node.
const LEAF_PREFIX: [u8; 1] = [0x00];
/// Domain-separation prefix of an interior node hash (RFC 9162 §2.1.1).
const NODE_PREFIX: [u8; 1] = [0x01];

/// The hash of one leaf: SHA-256(0x00 || data).
pub fn leaf_hash(data: &[u8]) -> Hash32 {
    Hash32::digest_of(&[&LEAF_PREFIX, data])
}

/// The hash of an interior node: SHA-256(0x01 || left || right).
pub fn node_hash(left: &Hash32, right: &Hash32) -> Hash32 {
    Hash32::digest_of(&[&NODE_PREFIX, &left.0, &right.0])
}

/// The root of the empty tree: SHA-256 of the empty string (RFC 9162 §2.1.1).
pub fn empty_root() -> Hash32 {
    Hash32::digest_of(&[])
}

/// Why a Merkle computation or proof check failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MerkleError {
    /// The leaf index is not inside the tree of the given size (this includes any index when the
    /// tree is empty).
    #[error("la foglia {index} è fuori da un albero di {size} foglie")]
    IndexOutOfRange {
        /// The leaf index asked for.
        index: u64,
        /// The tree size it was checked against.
        size: u64,
    },
    /// The old tree size of a consistency check is larger than the new one.
    #[error(
        "la dimensione precedente dell'albero ({old_size}) è maggiore di quella nuova ({new_size})"
    )]
    SizeOrder {
        /// The claimed earlier size.
        old_size: u64,
        /// The claimed later size.
        new_size: u64,
    },
    /// A root or proof was asked for a tree size larger than the tree currently holds.
    #[error(
        "chiesta la dimensione {requested} dell'albero, ma l'albero ha soltanto {available} foglie"
    )]
    SizeBeyondTree {
        /// The size asked for.
        requested: u64,
        /// The number of leaves in the tree.
        available: u64,
    },
    /// The proof has fewer hashes than the index and sizes require.
    #[error("la prova ha {got} impronte, ma per queste dimensioni ne servono {expected}")]
    ProofTooShort {
        /// Hashes the sizes require.
        expected: usize,
        /// Hashes the proof has.
        got: usize,
    },
    /// The proof has more hashes than the index and sizes require.
    #[error("la prova ha {got} impronte, ma per queste dimensioni ne servono {expected}")]
    ProofTooLong {
        /// Hashes the sizes require.
        expected: usize,
        /// Hashes the proof has.
        got: usize,
    },
    /// The proof, applied to the given leaf or old root, does not lead to the given root(s).
    #[error("la prova non porta alla radice attesa")]
    RootMismatch,
    /// The node store lacks a perfect subtree hash that a tree of its size must have.
    #[error(
        "l'archivio dei nodi non ha l'impronta del sottoalbero completo di livello {level}, posizione {index}"
    )]
    NodeMissing {
        /// Height of the subtree (0 = leaf).
        level: u32,
        /// Position of the subtree among those of its level.
        index: u64,
    },
}

impl MerkleError {
    /// A stable snake_case code for problem+json documents and test vectors.
    pub fn code(&self) -> &'static str {
        match self {
            MerkleError::IndexOutOfRange { .. } => "index_out_of_range",
            MerkleError::SizeOrder { .. } => "size_order",
            MerkleError::SizeBeyondTree { .. } => "size_beyond_tree",
            MerkleError::ProofTooShort { .. } => "proof_too_short",
            MerkleError::ProofTooLong { .. } => "proof_too_long",
            MerkleError::RootMismatch => "root_mismatch",
            MerkleError::NodeMissing { .. } => "node_missing",
        }
    }
}

/// Read access to the perfect subtree hashes of an append-only tree.
///
/// `perfect_node(level, index)` is the root of the complete subtree of 2^level leaves that starts
/// at leaf `index · 2^level`; level 0 holds the leaf hashes. The functions of this module ask
/// only for nodes that lie entirely inside `[0, size())`. A store backed by a database picks its
/// own error type, which only has to absorb [`MerkleError`].
pub trait NodeSource {
    /// The error a lookup can fail with.
    type Error: From<MerkleError>;

    /// Number of leaves in the tree.
    fn size(&self) -> u64;

    /// Root hash of the perfect subtree of 2^`level` leaves starting at leaf `index · 2^level`.
    fn perfect_node(&self, level: u32, index: u64) -> Result<Hash32, Self::Error>;
}

impl<S: NodeSource + ?Sized> NodeSource for &S {
    type Error = S::Error;

    fn size(&self) -> u64 {
        (**self).size()
    }

    fn perfect_node(&self, level: u32, index: u64) -> Result<Hash32, Self::Error> {
        (**self).perfect_node(level, index)
    }
}

/// A perfect subtree hash, as completed by an append and to be persisted by a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PerfectNode {
    /// Height of the subtree (0 = leaf).
    pub level: u32,
    /// Position of the subtree among those of its level.
    pub index: u64,
    /// Root hash of the subtree.
    pub hash: Hash32,
}

/// The perfect subtrees that appending `leaf` as leaf number `store.size()` completes: the leaf
/// itself at level 0, then one parent per trailing one bit of the old size.
///
/// A store persists exactly these, in the same transaction as the leaf, and from then on reports
/// a size one larger. It reads at most log2(n) existing nodes (the left siblings).
pub fn nodes_completed_by_append<S: NodeSource>(
    store: &S,
    leaf: Hash32,
) -> Result<Vec<PerfectNode>, S::Error> {
    let mut index = store.size();
    let mut level = 0u32;
    let mut hash = leaf;
    let mut nodes = vec![PerfectNode { level, index, hash }];
    // An odd index is a right child: its left sibling is complete, so their parent now is too.
    while index & 1 == 1 {
        let left = store.perfect_node(level, index - 1)?;
        hash = node_hash(&left, &hash);
        index >>= 1;
        level += 1;
        nodes.push(PerfectNode { level, index, hash });
    }
    Ok(nodes)
}

/// The largest power of two strictly smaller than `n` (the RFC 9162 split point); `n` ≥ 2.
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// MTH of leaves `[start, end)`, for a range produced by the RFC 9162 recursion.
///
/// Such a range starts at a multiple of the smallest power of two ≥ its length, so the binary
/// digits of its length are perfect subtrees laid out largest first; its hash is their right fold
/// (the left part of every split is perfect). Reads popcount(end − start) nodes.
fn range_hash<S: NodeSource>(src: &S, start: u64, end: u64) -> Result<Hash32, S::Error> {
    debug_assert!(start < end);
    let len = end - start;
    // The lowest set bit of `len` is the rightmost subtree; fold leftwards from it.
    let lowest = len.trailing_zeros();
    let mut right_edge = end - (1 << lowest);
    let mut acc = src.perfect_node(lowest, right_edge >> lowest)?;
    for level in lowest + 1..u64::BITS {
        if (len >> level) & 1 == 1 {
            right_edge -= 1 << level;
            let node = src.perfect_node(level, right_edge >> level)?;
            acc = node_hash(&node, &acc);
        }
    }
    Ok(acc)
}

fn check_size<S: NodeSource>(src: &S, size: u64) -> Result<(), S::Error> {
    let available = src.size();
    if size > available {
        return Err(MerkleError::SizeBeyondTree {
            requested: size,
            available,
        }
        .into());
    }
    Ok(())
}

/// Root hash of the first `size` leaves of the tree (RFC 9162 §2.1.1 MTH).
pub fn root_at<S: NodeSource>(src: &S, size: u64) -> Result<Hash32, S::Error> {
    check_size(src, size)?;
    if size == 0 {
        return Ok(empty_root());
    }
    range_hash(src, 0, size)
}

/// Inclusion proof of leaf `index` in the tree of the first `size` leaves (RFC 9162 §2.1.3.1),
/// hashes ordered from the leaf's sibling up to the root's child.
pub fn inclusion_proof<S: NodeSource>(
    src: &S,
    index: u64,
    size: u64,
) -> Result<InclusionProof, S::Error> {
    check_size(src, size)?;
    if index >= size {
        return Err(MerkleError::IndexOutOfRange { index, size }.into());
    }
    // Walk PATH(m, D[lo:hi]) from the root down; each step emits the MTH of the half that does
    // not hold the leaf. Only a right half can be imperfect, and once the walk turns left every
    // later range is perfect, so this reads O(log n) nodes.
    let mut top_down = Vec::new();
    let (mut lo, mut hi) = (0u64, size);
    while hi - lo > 1 {
        let mid = lo + split_point(hi - lo);
        if index < mid {
            top_down.push(range_hash(src, mid, hi)?);
            hi = mid;
        } else {
            top_down.push(range_hash(src, lo, mid)?);
            lo = mid;
        }
    }
    top_down.reverse();
    Ok(InclusionProof {
        leaf_index: index,
        tree_size: size,
        hashes: top_down,
    })
}

/// Consistency proof between the trees of the first `old_size` and `new_size` leaves
/// (RFC 9162 §2.1.4.1 PROOF / SUBPROOF), hashes in RFC order.
pub fn consistency_proof<S: NodeSource>(
    src: &S,
    old_size: u64,
    new_size: u64,
) -> Result<ConsistencyProof, S::Error> {
    check_size(src, new_size)?;
    if old_size > new_size {
        return Err(MerkleError::SizeOrder { old_size, new_size }.into());
    }
    let mut top_down = Vec::new();
    if old_size > 0 && old_size < new_size {
        // SUBPROOF(m, D[lo:hi], b) unrolled: `m = old_size - lo` stays between 1 and hi - lo.
        let (mut lo, mut hi) = (0u64, new_size);
        let mut old_is_whole_subtree = true;
        loop {
            let (n, m) = (hi - lo, old_size - lo);
            if m == n {
                // The old tree's last subtree: the verifier already knows it when it is the
                // whole old tree (b = true), otherwise it must be supplied.
                if !old_is_whole_subtree {
                    top_down.push(range_hash(src, lo, hi)?);
                }
                break;
            }
            let mid = lo + split_point(n);
            if m <= mid - lo {
                top_down.push(range_hash(src, mid, hi)?);
                hi = mid;
            } else {
                top_down.push(range_hash(src, lo, mid)?);
                lo = mid;
                old_is_whole_subtree = false;
            }
        }
        top_down.reverse();
    }
    Ok(ConsistencyProof {
        old_size,
        new_size,
        hashes: top_down,
    })
}

/// Number of hashes in the inclusion proof of `index` in a tree of `size` leaves (`index < size`).
///
/// `inner` hashes are siblings below the level where the paths to `index` and to the last leaf
/// merge; above it, one hash per left perfect sibling, i.e. per one bit of the remaining index.
pub fn inclusion_proof_len(index: u64, size: u64) -> usize {
    debug_assert!(index < size);
    let inner = u64::BITS - (index ^ (size - 1)).leading_zeros();
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    (inner + border) as usize
}

/// Number of hashes in the consistency proof from `old_size` to `new_size`.
///
/// It is the inclusion proof length of the old tree's last leaf, less the levels inside the old
/// tree's rightmost perfect subtree, plus that subtree's own hash unless the old tree is perfect
/// (then the verifier already holds it as the old root).
pub fn consistency_proof_len(old_size: u64, new_size: u64) -> usize {
    if old_size == 0 || old_size >= new_size {
        return 0;
    }
    let shared_levels = old_size.trailing_zeros() as usize;
    let seed = usize::from(!old_size.is_power_of_two());
    inclusion_proof_len(old_size - 1, new_size) - shared_levels + seed
}

fn check_len(expected: usize, got: usize) -> Result<(), MerkleError> {
    match got.cmp(&expected) {
        std::cmp::Ordering::Less => Err(MerkleError::ProofTooShort { expected, got }),
        std::cmp::Ordering::Greater => Err(MerkleError::ProofTooLong { expected, got }),
        std::cmp::Ordering::Equal => Ok(()),
    }
}

/// Checks that `leaf_hash` is leaf `index` of the tree of `size` leaves whose root is `root`
/// (RFC 9162 §2.1.3.2).
///
/// The proof length is checked first, so a truncated or extended proof is reported as such
/// rather than as a root mismatch.
pub fn verify_inclusion(
    leaf_hash: &Hash32,
    index: u64,
    size: u64,
    proof: &[Hash32],
    root: &Hash32,
) -> Result<(), MerkleError> {
    if index >= size {
        return Err(MerkleError::IndexOutOfRange { index, size });
    }
    check_len(inclusion_proof_len(index, size), proof.len())?;

    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf_hash;
    for p in proof {
        if sn == 0 {
            // Unreachable once the length matched; kept so the loop is safe on its own.
            return Err(MerkleError::ProofTooLong {
                expected: inclusion_proof_len(index, size),
                got: proof.len(),
            });
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            // On the right edge, skip the levels where the node has no right sibling.
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(MerkleError::ProofTooShort {
            expected: inclusion_proof_len(index, size),
            got: proof.len(),
        });
    }
    if r != *root {
        return Err(MerkleError::RootMismatch);
    }
    Ok(())
}

/// Checks that the tree of `new_size` leaves with root `new_root` extends the tree of `old_size`
/// leaves with root `old_root` (RFC 9162 §2.1.4.2).
///
/// Equal sizes need an empty proof and equal roots; an old size of 0 needs an empty proof (every
/// tree extends the empty one).
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash32,
    new_root: &Hash32,
    proof: &[Hash32],
) -> Result<(), MerkleError> {
    if old_size > new_size {
        return Err(MerkleError::SizeOrder { old_size, new_size });
    }
    if old_size == new_size || old_size == 0 {
        check_len(0, proof.len())?;
        if old_size == new_size && old_root != new_root {
            return Err(MerkleError::RootMismatch);
        }
        return Ok(());
    }
    check_len(consistency_proof_len(old_size, new_size), proof.len())?;

    // When the old tree is perfect, it is itself the first node of the path.
    let (seed, rest) = if old_size.is_power_of_two() {
        (*old_root, proof)
    } else {
        match proof.split_first() {
            Some((first, rest)) => (*first, rest),
            None => {
                return Err(MerkleError::ProofTooShort {
                    expected: 1,
                    got: 0,
                });
            }
        }
    };
    let (mut fn_, mut sn) = (old_size - 1, new_size - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (seed, seed);
    for c in rest {
        if sn == 0 {
            // Unreachable once the length matched; kept so the loop is safe on its own.
            return Err(MerkleError::ProofTooLong {
                expected: consistency_proof_len(old_size, new_size),
                got: proof.len(),
            });
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(MerkleError::ProofTooShort {
            expected: consistency_proof_len(old_size, new_size),
            got: proof.len(),
        });
    }
    if fr != *old_root || sr != *new_root {
        return Err(MerkleError::RootMismatch);
    }
    Ok(())
}

/// An inclusion proof as sent on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InclusionProof {
    /// Zero-based index of the leaf in the log.
    pub leaf_index: u64,
    /// Size of the tree the proof is for.
    pub tree_size: u64,
    /// Sibling hashes from the leaf upwards, as lowercase hex.
    pub hashes: Vec<Hash32>,
}

impl InclusionProof {
    /// Checks this proof for `leaf_hash` against the root of a tree of `tree_size` leaves.
    pub fn verify(&self, leaf_hash: &Hash32, root: &Hash32) -> Result<(), MerkleError> {
        verify_inclusion(
            leaf_hash,
            self.leaf_index,
            self.tree_size,
            &self.hashes,
            root,
        )
    }
}

/// A consistency proof as sent on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsistencyProof {
    /// Size of the earlier tree.
    pub old_size: u64,
    /// Size of the later tree.
    pub new_size: u64,
    /// Proof hashes in RFC 9162 order, as lowercase hex.
    pub hashes: Vec<Hash32>,
}

impl ConsistencyProof {
    /// Checks that the tree with `new_root` extends the tree with `old_root`.
    pub fn verify(&self, old_root: &Hash32, new_root: &Hash32) -> Result<(), MerkleError> {
        verify_consistency(
            self.old_size,
            self.new_size,
            old_root,
            new_root,
            &self.hashes,
        )
    }
}

/// A tree held entirely in memory: every perfect subtree hash, level by level.
///
/// It uses about 64 bytes per leaf. Tests, benches and tools use it; the hub keeps the same nodes
/// in SQLite and reaches the same algorithms through [`NodeSource`].
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    /// `levels[l][i]` is `perfect_node(l, i)`; level 0 holds the leaf hashes.
    levels: Vec<Vec<Hash32>>,
}

impl MemoryTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// A tree holding `leaves` (raw leaf data, hashed with [`leaf_hash`]) in order.
    pub fn from_leaves<I, D>(leaves: I) -> Self
    where
        I: IntoIterator<Item = D>,
        D: AsRef<[u8]>,
    {
        let mut tree = Self::new();
        for leaf in leaves {
            tree.push(leaf.as_ref());
        }
        tree
    }

    /// Appends a leaf given as raw data; returns its index.
    pub fn push(&mut self, data: &[u8]) -> u64 {
        self.push_hash(leaf_hash(data))
    }

    /// Appends a leaf given as its leaf hash; returns its index.
    pub fn push_hash(&mut self, leaf: Hash32) -> u64 {
        let index = self.size();
        let mut hash = leaf;
        let mut level = 0;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            let row = &mut self.levels[level];
            row.push(hash);
            // An even count means the node just pushed is a right child that completes a parent.
            if row.len() % 2 == 1 {
                return index;
            }
            hash = node_hash(&row[row.len() - 2], &hash);
            level += 1;
        }
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |leaves| leaves.len() as u64)
    }

    /// The leaf hash at `index`, if the tree has it.
    pub fn leaf(&self, index: u64) -> Option<Hash32> {
        let index = usize::try_from(index).ok()?;
        self.levels.first()?.get(index).copied()
    }

    /// Root hash of the whole tree.
    pub fn root(&self) -> Hash32 {
        root_at(self, self.size()).expect("a MemoryTree stores every node its own size needs")
    }

    /// Root hash of the first `size` leaves.
    pub fn root_at(&self, size: u64) -> Result<Hash32, MerkleError> {
        root_at(self, size)
    }

    /// Inclusion proof of leaf `index` in the tree of the first `size` leaves.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<InclusionProof, MerkleError> {
        inclusion_proof(self, index, size)
    }

    /// Consistency proof from the tree of `old_size` leaves to the tree of `new_size` leaves.
    pub fn consistency_proof(
        &self,
        old_size: u64,
        new_size: u64,
    ) -> Result<ConsistencyProof, MerkleError> {
        consistency_proof(self, old_size, new_size)
    }
}

impl NodeSource for MemoryTree {
    type Error = MerkleError;

    fn size(&self) -> u64 {
        MemoryTree::size(self)
    }

    fn perfect_node(&self, level: u32, index: u64) -> Result<Hash32, MerkleError> {
        usize::try_from(level)
            .ok()
            .and_then(|l| self.levels.get(l))
            .zip(usize::try_from(index).ok())
            .and_then(|(row, i)| row.get(i))
            .copied()
            .ok_or(MerkleError::NodeMissing { level, index })
    }
}
