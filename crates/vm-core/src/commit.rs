//! What a verifiable job commits to, computable without a full machine. Each memory quarter is a
//! subtree of depth 17 two levels below the root, so:
//!
//! - the initial state hash follows from the code quarter's root and the input quarter's root (the
//!   consumer's program and input), with empty output and heap quarters, `pc = 0`, all registers,
//!   steps, status and exit code zero;
//! - the output root is the output quarter's root, proven into a final memory root by two
//!   sibling hashes: the heap quarter's root and the node over code and input.
use alloc::vec;

use crate::layout::{INPUT_START, QUARTER_BYTES};
use crate::merkle::{empty_hashes, leaf_hash, node_hash, Hash, DEPTH, LEAF_BYTES};
use crate::state::{hash_state, Core};

/// Levels of a quarter's subtree.
pub const QUARTER_DEPTH: usize = DEPTH - 2;

/// Why an image does not fit its quarter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooLarge;

/// The root of a quarter holding `bytes` from its start, zero after them.
pub fn quarter_root(bytes: &[u8]) -> Result<Hash, TooLarge> {
    if bytes.len() > QUARTER_BYTES as usize {
        return Err(TooLarge);
    }
    let empty = empty_hashes();
    let mut level: alloc::vec::Vec<Hash> = bytes
        .chunks(LEAF_BYTES)
        .map(|chunk| {
            let mut leaf = [0u8; LEAF_BYTES];
            leaf[..chunk.len()].copy_from_slice(chunk);
            leaf_hash(&leaf)
        })
        .collect();
    // Only the leaves that hold bytes are hashed; the rest of each level is the empty subtree.
    for depth in 0..QUARTER_DEPTH {
        if level.len() % 2 == 1 {
            level.push(empty[depth]);
        }
        level = level.chunks(2).map(|pair| node_hash(&pair[0], &pair[1])).collect();
    }
    Ok(level.first().copied().unwrap_or(empty[QUARTER_DEPTH]))
}

/// The input quarter's contents for an input: its length (u32 LE), then its bytes.
pub fn input_image(input: &[u8]) -> alloc::vec::Vec<u8> {
    let mut image = vec![0u8; 4 + input.len()];
    image[..4].copy_from_slice(&(input.len() as u32).to_le_bytes());
    image[4..].copy_from_slice(input);
    image
}

/// The memory root of a job's first state.
pub fn initial_memory_root(code_root: &Hash, input_root: &Hash) -> Hash {
    let empty = empty_hashes();
    let low = node_hash(code_root, input_root);
    let high = node_hash(&empty[QUARTER_DEPTH], &empty[QUARTER_DEPTH]);
    node_hash(&low, &high)
}

/// The hash of a job's first state, from the roots of its code and input quarters.
pub fn initial_state_hash(code_root: &Hash, input_root: &Hash) -> Hash {
    hash_state(&Core::new(0).encode(&initial_memory_root(code_root, input_root)))
}

/// Whether `output_root` is the output quarter of `memory_root`, given the two siblings on its
/// path: the heap quarter's root and the node over the code and input quarters.
pub fn output_in_memory(memory_root: &Hash, output_root: &Hash, heap_root: &Hash, low_node: &Hash) -> bool {
    node_hash(low_node, &node_hash(output_root, heap_root)) == *memory_root
}

/// What `commit_verifiable` takes besides the state: the output quarter's root and the two
/// siblings that prove it into the memory root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputProof {
    pub output_root: Hash,
    pub heap_root: Hash,
    pub low_node: Hash,
}

/// The output proof of a (final) memory.
pub fn output_proof(memory: &mut crate::memory::Memory) -> OutputProof {
    OutputProof {
        output_root: memory.node(QUARTER_DEPTH, 2),
        heap_root: memory.node(QUARTER_DEPTH, 3),
        low_node: memory.node(QUARTER_DEPTH + 1, 0),
    }
}

/// The input quarter starts where the layout says (a compile-time reminder for readers).
const _: () = assert!(INPUT_START == QUARTER_BYTES);
