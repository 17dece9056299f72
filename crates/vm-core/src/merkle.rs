//! The memory tree: 2^19 leaves of 32 bytes, leaf hash `sha256(0x00 ‖ leaf)`, node hash
//! `sha256(0x01 ‖ left ‖ right)`. Level 0 holds leaf hashes, level 19 the root. The empty-subtree
//! hashes are the hashes of all-zero leaves and of pairs of them, level by level.
use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];
/// Bytes per leaf.
pub const LEAF_BYTES: usize = 32;
/// Levels above the leaves.
pub const DEPTH: usize = 19;
/// Leaves in memory.
pub const LEAVES: u32 = 1 << DEPTH;

pub fn leaf_hash(leaf: &[u8; LEAF_BYTES]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x00]);
    hasher.update(leaf);
    hasher.finalize().into()
}

pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0x01]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The hash of an all-zero subtree at each level, 0 (a zero leaf) to `DEPTH` (an empty memory).
pub fn empty_hashes() -> [Hash; DEPTH + 1] {
    let mut hashes = [[0u8; 32]; DEPTH + 1];
    hashes[0] = leaf_hash(&[0u8; LEAF_BYTES]);
    for level in 1..=DEPTH {
        hashes[level] = node_hash(&hashes[level - 1], &hashes[level - 1]);
    }
    hashes
}

/// The root reached from a leaf hash at `index` through its siblings, lowest first.
pub fn root_from_path(index: u32, leaf: &Hash, siblings: &[Hash; DEPTH]) -> Hash {
    let mut hash = *leaf;
    for (level, sibling) in siblings.iter().enumerate() {
        hash = if (index >> level) & 1 == 0 { node_hash(&hash, sibling) } else { node_hash(sibling, &hash) };
    }
    hash
}
