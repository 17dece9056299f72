//! The memory tree: 2^19 leaves of 32 bytes, leaf hash `sha256(0x00 ‖ leaf)`, node hash
//! `sha256(0x01 ‖ left ‖ right)`. Level 0 holds leaf hashes, level 19 the root. The empty-subtree
//! hashes are the hashes of all-zero leaves and of pairs of them, level by level.
use crate::sha::sha256;

pub type Hash = [u8; 32];
/// Bytes per leaf.
pub const LEAF_BYTES: usize = 32;
/// Levels above the leaves.
pub const DEPTH: usize = 19;
/// Leaves in memory.
pub const LEAVES: u32 = 1 << DEPTH;

pub fn leaf_hash(leaf: &[u8; LEAF_BYTES]) -> Hash {
    sha256([&[0x00], leaf])
}

pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    sha256([&[0x01], left, right])
}

/// The hash of an all-zero subtree at each level, 0 (a zero leaf) to `DEPTH` (an empty memory).
pub fn empty_hashes() -> [Hash; DEPTH + 1] {
    let mut hashes = [[0u8; 32]; DEPTH + 1];
    let mut below = leaf_hash(&[0u8; LEAF_BYTES]);
    for hash in hashes.iter_mut() {
        *hash = below;
        below = node_hash(&below, &below);
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
