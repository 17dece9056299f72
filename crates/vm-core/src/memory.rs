//! The full 16 MiB memory with its Merkle tree kept incrementally: a write marks its leaf dirty,
//! and `root()` rehashes only the paths of dirty leaves (19 hashes each). The tree is built on
//! first use, hashing only leaves that are not zero (zero subtrees take the precomputed hashes).
//!
//! An optional undo journal (off unless [`Memory::start_journal`] is called; the replay uses it)
//! records the contents of each leaf before its first write since the journal was last taken.
use alloc::vec;
use alloc::vec::Vec;

use crate::layout::MEMORY_BYTES;
use crate::merkle::{empty_hashes, leaf_hash, node_hash, Hash, DEPTH, LEAF_BYTES, LEAVES};

/// The 32 bytes of a leaf.
pub type Leaf = [u8; LEAF_BYTES];

pub struct Memory {
    bytes: Vec<u8>,
    /// `levels[0]` are leaf hashes, `levels[DEPTH]` the root; empty until first built.
    levels: Vec<Vec<Hash>>,
    dirty: Vec<u32>,
    dirty_bits: Vec<u64>,
    journal: Option<Journal>,
    stats: TreeStats,
}

/// Leaves written since the journal was last taken, each once, with its contents before that
/// first write. One bit per leaf says whether it is in already: one test per store.
struct Journal {
    written: Vec<u64>,
    entries: Vec<(u32, Leaf)>,
}

/// What the tree has cost so far: to check (cheaply, in tests) that it is updated, not rebuilt.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TreeStats {
    /// Full builds (the first `root()` only).
    pub builds: u32,
    /// Leaf hashes, in builds and updates.
    pub leaf_hashes: u64,
    /// Node hashes, in builds and updates.
    pub node_hashes: u64,
}

impl Default for Memory {
    fn default() -> Self {
        Memory::new()
    }
}

impl Memory {
    pub fn new() -> Memory {
        Memory {
            bytes: vec![0u8; MEMORY_BYTES as usize],
            levels: Vec::new(),
            dirty: Vec::new(),
            dirty_bits: vec![0u64; (LEAVES / 64) as usize],
            journal: None,
            stats: TreeStats::default(),
        }
    }

    fn mark(&mut self, leaf: u32) {
        let (word, bit) = ((leaf / 64) as usize, leaf % 64);
        if self.dirty_bits[word] & (1 << bit) == 0 {
            self.dirty_bits[word] |= 1 << bit;
            self.dirty.push(leaf);
        }
    }

    /// Journals a leaf's contents before its first write since the journal was last taken.
    #[inline(always)]
    fn journal(&mut self, leaf: u32) {
        if let Some(journal) = &mut self.journal {
            let (word, bit) = ((leaf / 64) as usize, leaf % 64);
            if journal.written[word] & (1 << bit) == 0 {
                journal.written[word] |= 1 << bit;
                let at = leaf as usize * LEAF_BYTES;
                let mut old = [0u8; LEAF_BYTES];
                old.copy_from_slice(&self.bytes[at..at + LEAF_BYTES]);
                journal.entries.push((leaf, old));
            }
        }
    }

    /// Writes bytes at `address` (the caller keeps them in range).
    pub fn write_bytes(&mut self, address: u32, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let first = address / LEAF_BYTES as u32;
        let last = (address + data.len() as u32 - 1) / LEAF_BYTES as u32;
        for leaf in first..=last {
            self.journal(leaf);
        }
        let start = address as usize;
        self.bytes[start..start + data.len()].copy_from_slice(data);
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
        let leaf = address / LEAF_BYTES as u32;
        self.journal(leaf);
        let at = address as usize;
        for i in 0..width as usize {
            self.bytes[at + i] = (value >> (8 * i)) as u8;
        }
        self.mark(leaf);
    }

    /// Starts the undo journal (empty), or empties it if it runs already.
    pub fn start_journal(&mut self) {
        self.journal = Some(Journal { written: vec![0u64; (LEAVES / 64) as usize], entries: Vec::new() });
    }

    /// Leaves journaled since the last take.
    pub fn journal_len(&self) -> usize {
        self.journal.as_ref().map_or(0, |j| j.entries.len())
    }

    /// The journal so far, leaving it empty: each leaf written since the last take, once, with its
    /// contents before that first write (in first-write order).
    pub fn take_journal(&mut self) -> Vec<(u32, Leaf)> {
        let Some(journal) = &mut self.journal else { return Vec::new() };
        // Clearing only the bits set costs what the interval wrote, not the 64 KiB bitset.
        for &(leaf, _) in &journal.entries {
            journal.written[(leaf / 64) as usize] &= !(1 << (leaf % 64));
        }
        let capacity = journal.entries.len();
        core::mem::replace(&mut journal.entries, Vec::with_capacity(capacity))
    }

    /// Puts back the journaled contents: memory is as it was at the last take, the journal empty.
    pub fn undo_journal(&mut self) {
        let mut entries = self.take_journal();
        self.swap_leaves(&mut entries);
    }

    /// Exchanges each listed leaf of memory with the bytes beside it, marking it dirty and
    /// journaling nothing. With the journal empty, applied to what an interval of steps wrote
    /// (leaves with their contents at one end of it, memory at the other end) it moves memory to
    /// that end and leaves the other end's contents in the list: the same list undoes and redoes.
    pub fn swap_leaves(&mut self, leaves: &mut [(u32, Leaf)]) {
        for (leaf, contents) in leaves.iter_mut() {
            let at = *leaf as usize * LEAF_BYTES;
            self.bytes[at..at + LEAF_BYTES].swap_with_slice(contents);
            self.mark(*leaf);
        }
    }

    /// The tree's hashing so far.
    pub fn tree_stats(&self) -> TreeStats {
        self.stats
    }

    pub fn leaf(&self, index: u32) -> [u8; LEAF_BYTES] {
        let mut leaf = [0u8; LEAF_BYTES];
        let at = index as usize * LEAF_BYTES;
        leaf.copy_from_slice(&self.bytes[at..at + LEAF_BYTES]);
        leaf
    }

    fn build(&mut self) {
        let empty = empty_hashes();
        let (mut leaf_hashes, mut node_hashes) = (0u64, 0u64);
        let mut level: Vec<Hash> = (0..LEAVES)
            .map(|i| {
                let leaf = self.leaf(i);
                if leaf == [0u8; LEAF_BYTES] {
                    return empty[0];
                }
                leaf_hashes += 1;
                leaf_hash(&leaf)
            })
            .collect();
        self.levels.clear();
        for depth in 0..DEPTH {
            let parent: Vec<Hash> = level
                .chunks(2)
                .map(|pair| {
                    if pair[0] == empty[depth] && pair[1] == empty[depth] {
                        return empty[depth + 1];
                    }
                    node_hashes += 1;
                    node_hash(&pair[0], &pair[1])
                })
                .collect();
            self.levels.push(level);
            level = parent;
        }
        self.levels.push(level);
        self.stats.builds = self.stats.builds.saturating_add(1);
        self.stats.leaf_hashes = self.stats.leaf_hashes.saturating_add(leaf_hashes);
        self.stats.node_hashes = self.stats.node_hashes.saturating_add(node_hashes);
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
        self.stats.leaf_hashes = self.stats.leaf_hashes.saturating_add(dirty.len() as u64);
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
            self.stats.node_hashes = self.stats.node_hashes.saturating_add(indices.len() as u64);
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
