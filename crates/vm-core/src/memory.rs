//! The full 16 MiB memory with its Merkle tree kept incrementally: a write marks its leaf dirty,
//! and `root()` rehashes only the paths of dirty leaves (19 hashes each). The tree is built on
//! first use, hashing only leaves that are not zero (zero subtrees take the precomputed hashes).
use alloc::vec;
use alloc::vec::Vec;

use crate::layout::MEMORY_BYTES;
use crate::merkle::{empty_hashes, leaf_hash, node_hash, Hash, DEPTH, LEAF_BYTES, LEAVES};

pub struct Memory {
    bytes: Vec<u8>,
    /// `levels[0]` are leaf hashes, `levels[DEPTH]` the root; empty until first built.
    levels: Vec<Vec<Hash>>,
    dirty: Vec<u32>,
    dirty_bits: Vec<u64>,
}

impl Default for Memory {
    fn default() -> Self {
        Memory::new()
    }
}

impl Memory {
    pub fn new() -> Memory {
        Memory { bytes: vec![0u8; MEMORY_BYTES as usize], levels: Vec::new(), dirty: Vec::new(), dirty_bits: vec![0u64; (LEAVES / 64) as usize] }
    }

    fn mark(&mut self, leaf: u32) {
        let (word, bit) = ((leaf / 64) as usize, leaf % 64);
        if self.dirty_bits[word] & (1 << bit) == 0 {
            self.dirty_bits[word] |= 1 << bit;
            self.dirty.push(leaf);
        }
    }

    /// Writes bytes at `address` (the caller keeps them in range).
    pub fn write_bytes(&mut self, address: u32, data: &[u8]) {
        let start = address as usize;
        self.bytes[start..start + data.len()].copy_from_slice(data);
        if data.is_empty() {
            return;
        }
        let first = address / LEAF_BYTES as u32;
        let last = (address + data.len() as u32 - 1) / LEAF_BYTES as u32;
        for leaf in first..=last {
            self.mark(leaf);
        }
    }

    pub fn bytes(&self, address: u32, len: usize) -> &[u8] {
        &self.bytes[address as usize..address as usize + len]
    }

    pub fn read_value(&self, address: u32, width: u32) -> u32 {
        let at = address as usize;
        let mut value = 0u32;
        for i in 0..width as usize {
            value |= (self.bytes[at + i] as u32) << (8 * i);
        }
        value
    }

    pub fn write_value(&mut self, address: u32, width: u32, value: u32) {
        let at = address as usize;
        for i in 0..width as usize {
            self.bytes[at + i] = (value >> (8 * i)) as u8;
        }
        self.mark(address / LEAF_BYTES as u32);
    }

    pub fn leaf(&self, index: u32) -> [u8; LEAF_BYTES] {
        let mut leaf = [0u8; LEAF_BYTES];
        let at = index as usize * LEAF_BYTES;
        leaf.copy_from_slice(&self.bytes[at..at + LEAF_BYTES]);
        leaf
    }

    fn build(&mut self) {
        let empty = empty_hashes();
        let mut level: Vec<Hash> = (0..LEAVES)
            .map(|i| {
                let leaf = self.leaf(i);
                if leaf == [0u8; LEAF_BYTES] { empty[0] } else { leaf_hash(&leaf) }
            })
            .collect();
        self.levels.clear();
        for depth in 0..DEPTH {
            let parent: Vec<Hash> = level
                .chunks(2)
                .map(|pair| if pair[0] == empty[depth] && pair[1] == empty[depth] { empty[depth + 1] } else { node_hash(&pair[0], &pair[1]) })
                .collect();
            self.levels.push(level);
            level = parent;
        }
        self.levels.push(level);
        for leaf in self.dirty.drain(..) {
            self.dirty_bits[(leaf / 64) as usize] = 0;
        }
    }

    /// The memory root, rehashing what changed since the last call.
    pub fn root(&mut self) -> Hash {
        if self.levels.is_empty() {
            self.build();
        }
        let dirty: Vec<u32> = self.dirty.drain(..).collect();
        for &leaf in &dirty {
            self.dirty_bits[(leaf / 64) as usize] &= !(1 << (leaf % 64));
            self.levels[0][leaf as usize] = leaf_hash(&self.leaf(leaf));
        }
        // Parents level by level, each once, however many of its leaves changed.
        let mut indices = dirty;
        for depth in 0..DEPTH {
            indices.iter_mut().for_each(|i| *i /= 2);
            indices.sort_unstable();
            indices.dedup();
            for &i in &indices {
                let (left, right) = (self.levels[depth][2 * i as usize], self.levels[depth][2 * i as usize + 1]);
                self.levels[depth + 1][i as usize] = node_hash(&left, &right);
            }
        }
        self.levels[DEPTH][0]
    }

    /// The siblings of a leaf's path, lowest first.
    pub fn proof(&mut self, index: u32) -> [Hash; DEPTH] {
        self.root();
        let mut siblings = [[0u8; 32]; DEPTH];
        for (depth, sibling) in siblings.iter_mut().enumerate() {
            *sibling = self.levels[depth][((index >> depth) ^ 1) as usize];
        }
        siblings
    }

    /// The hash of node `index` at `level` (0 = leaf hashes, `DEPTH` = the root).
    pub fn node(&mut self, level: usize, index: u32) -> Hash {
        self.root();
        self.levels[level][index as usize]
    }
}
