//! The one-step proof: from the hash of a pre-state, the pre-state blob and the (at most two)
//! memory leaves the step touches with their Merkle paths, recompute the post-state hash without
//! the rest of memory. This is what the chain runs at the end of a dispute, so nothing in the
//! witness is trusted: the blob must hash to the claimed pre-state, every leaf must prove against
//! the blob's memory root, and a store's new root is rebuilt from the verified siblings.
use crate::decode::{decode, Instruction, Width};
use crate::execute::{step, Bus, Missing};
use crate::layout::MEMORY_BYTES;
use crate::merkle::{leaf_hash, root_from_path, Hash, DEPTH, LEAF_BYTES};
use crate::state::{hash_state, Core, Machine, Status, STATE_BYTES};

/// A memory leaf and the siblings of its path, lowest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeafWitness {
    pub index: u32,
    pub leaf: [u8; LEAF_BYTES],
    pub siblings: [Hash; DEPTH],
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepWitness {
    pub state: [u8; STATE_BYTES],
    /// The leaf holding the instruction (absent when the fetch itself faults).
    pub fetch: Option<LeafWitness>,
    /// The leaf a load or store touches, when it is not the fetch leaf.
    pub data: Option<LeafWitness>,
}

/// Bytes of the largest encoded witness: the state, a flags byte and two leaves with paths.
pub const MAX_WITNESS_BYTES: usize = STATE_BYTES + 1 + 2 * LEAF_WITNESS_BYTES;
const LEAF_WITNESS_BYTES: usize = 4 + LEAF_BYTES + DEPTH * 32;

impl StepWitness {
    /// The wire form (what a proof buffer holds): the state blob, a flags byte (bit 0: a fetch
    /// leaf follows, bit 1: a data leaf follows), then each leaf as index (u32 LE), its 32 bytes
    /// and its 19 siblings, lowest first.
    pub fn encode(&self) -> alloc::vec::Vec<u8> {
        let mut bytes = alloc::vec::Vec::with_capacity(MAX_WITNESS_BYTES);
        bytes.extend_from_slice(&self.state);
        bytes.push(self.fetch.is_some() as u8 | (self.data.is_some() as u8) << 1);
        for leaf in [&self.fetch, &self.data].into_iter().flatten() {
            bytes.extend_from_slice(&leaf.index.to_le_bytes());
            bytes.extend_from_slice(&leaf.leaf);
            leaf.siblings.iter().for_each(|s| bytes.extend_from_slice(s));
        }
        bytes
    }

    /// Parses the wire form; `None` when its length or flags do not add up.
    pub fn decode(bytes: &[u8]) -> Option<StepWitness> {
        let state: [u8; STATE_BYTES] = bytes.get(..STATE_BYTES)?.try_into().ok()?;
        let flags = *bytes.get(STATE_BYTES)?;
        if flags > 3 {
            return None;
        }
        let mut rest = &bytes[STATE_BYTES + 1..];
        let mut take = |present: bool| -> Option<Option<LeafWitness>> {
            if !present {
                return Some(None);
            }
            let chunk = rest.get(..LEAF_WITNESS_BYTES)?;
            rest = &rest[LEAF_WITNESS_BYTES..];
            let mut siblings = [[0u8; 32]; DEPTH];
            for (i, sibling) in siblings.iter_mut().enumerate() {
                sibling.copy_from_slice(&chunk[4 + LEAF_BYTES + 32 * i..4 + LEAF_BYTES + 32 * (i + 1)]);
            }
            Some(Some(LeafWitness { index: u32::from_le_bytes(chunk[..4].try_into().ok()?), leaf: chunk[4..4 + LEAF_BYTES].try_into().ok()?, siblings }))
        };
        let fetch = take(flags & 1 != 0)?;
        let data = take(flags & 2 != 0)?;
        rest.is_empty().then_some(StepWitness { state, fetch, data })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WitnessError {
    /// The blob does not hash to the claimed pre-state.
    PreStateMismatch,
    /// The blob's status byte is not a status.
    InvalidState,
    /// A leaf does not prove against the blob's memory root.
    BadProof,
    /// The step touches a leaf the witness does not carry.
    MissingLeaf,
}

struct WitnessBus {
    leaves: [Option<LeafWitness>; 2],
    written: Option<usize>,
}

impl WitnessBus {
    fn slot(&self, address: u32) -> Result<usize, Missing> {
        let index = address / LEAF_BYTES as u32;
        self.leaves.iter().position(|l| l.as_ref().is_some_and(|l| l.index == index)).ok_or(Missing)
    }
}

impl Bus for WitnessBus {
    fn read(&mut self, address: u32, width: Width) -> Result<u32, Missing> {
        let leaf = &self.leaves[self.slot(address)?].as_ref().ok_or(Missing)?.leaf;
        let at = (address as usize) % LEAF_BYTES;
        Ok((0..width.bytes() as usize).fold(0u32, |value, i| value | (leaf[at + i] as u32) << (8 * i)))
    }

    fn write(&mut self, address: u32, width: Width, value: u32) -> Result<(), Missing> {
        let slot = self.slot(address)?;
        let leaf = &mut self.leaves[slot].as_mut().ok_or(Missing)?.leaf;
        let at = (address as usize) % LEAF_BYTES;
        for i in 0..width.bytes() as usize {
            leaf[at + i] = (value >> (8 * i)) as u8;
        }
        self.written = Some(slot);
        Ok(())
    }
}

fn proves(root: &Hash, witness: &LeafWitness) -> bool {
    witness.index < (MEMORY_BYTES / LEAF_BYTES as u32) && root_from_path(witness.index, &leaf_hash(&witness.leaf), &witness.siblings) == *root
}

/// The post-state hash of one step from `pre`, or why the witness cannot show it.
pub fn verify_step(pre: &Hash, witness: &StepWitness) -> Result<Hash, WitnessError> {
    if hash_state(&witness.state) != *pre {
        return Err(WitnessError::PreStateMismatch);
    }
    let (mut core, root) = Core::decode(&witness.state).ok_or(WitnessError::InvalidState)?;
    for leaf in [&witness.fetch, &witness.data].into_iter().flatten() {
        if !proves(&root, leaf) {
            return Err(WitnessError::BadProof);
        }
    }
    let mut bus = WitnessBus { leaves: [witness.fetch.clone(), witness.data.clone()], written: None };
    step(&mut core, &mut bus).map_err(|Missing| WitnessError::MissingLeaf)?;
    let new_root = match bus.written {
        Some(slot) => {
            let leaf = bus.leaves[slot].as_ref().ok_or(WitnessError::MissingLeaf)?;
            root_from_path(leaf.index, &leaf_hash(&leaf.leaf), &leaf.siblings)
        }
        None => root,
    };
    Ok(hash_state(&core.encode(&new_root)))
}

impl Machine {
    fn leaf_witness(&mut self, index: u32) -> LeafWitness {
        LeafWitness { index, leaf: self.memory.leaf(index), siblings: self.memory.proof(index) }
    }

    /// The witness of the next step, built from the full machine (a challenger's or a provider's).
    pub fn witness(&mut self) -> StepWitness {
        let state = self.state_blob();
        let core = &self.core;
        let pc = core.pc;
        let fetchable = core.status == Status::Running && pc % 4 == 0 && pc < MEMORY_BYTES;
        if !fetchable {
            return StepWitness { state, fetch: None, data: None };
        }
        let fetch_index = pc / LEAF_BYTES as u32;
        let word = self.memory.read_value(pc, 4);
        let data_address = match decode(word) {
            Some(Instruction::Load { rs1, offset, .. }) | Some(Instruction::Store { rs1, offset, .. }) => Some(core.regs[rs1 as usize].wrapping_add(offset as u32)),
            _ => None,
        };
        let data_index = data_address.filter(|a| *a < MEMORY_BYTES).map(|a| a / LEAF_BYTES as u32).filter(|i| *i != fetch_index);
        let fetch = Some(self.leaf_witness(fetch_index));
        let data = data_index.map(|i| self.leaf_witness(i));
        StepWitness { state, fetch, data }
    }
}
