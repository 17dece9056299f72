//! The one-step proof: from the hash of a pre-state, the pre-state blob and the (at most two)
//! memory leaves the step touches with their Merkle paths, recompute the post-state hash without
//! the rest of memory. This is what the chain runs at the end of a dispute, so nothing in the
//! witness is trusted: the blob must hash to the claimed pre-state, every leaf must prove against
//! the blob's memory root, and a store's new root is rebuilt from the verified siblings.
use crate::decode::{decode, Instruction, Width};
use crate::execute::{step, Bus, Missing};
use crate::layout::MEMORY_BYTES;
use crate::merkle::{leaf_hash, Hash, DEPTH, LEAF_BYTES};
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
        let wire = parse_wire(bytes)?;
        let [fetch, data] = wire.leaves.map(|leaf| leaf.map(|l| {
            let mut siblings = [[0u8; 32]; DEPTH];
            for (sibling, bytes) in siblings.iter_mut().zip(l.siblings.chunks_exact(32)) {
                sibling.copy_from_slice(bytes);
            }
            LeafWitness { index: l.index, leaf: l.leaf, siblings }
        }));
        Some(StepWitness { state: *wire.state, fetch, data })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WitnessError {
    /// The bytes are not a witness's wire form (length or flags do not add up).
    Malformed,
    /// The blob does not hash to the claimed pre-state.
    PreStateMismatch,
    /// The blob's status byte is not a status.
    InvalidState,
    /// A leaf does not prove against the blob's memory root.
    BadProof,
    /// The step touches a leaf the witness does not carry.
    MissingLeaf,
}

/// A leaf of a witness in wire form, borrowed: its index, a working copy of its bytes (a store
/// changes them) and its 19 siblings left in place. Keeps the chain's stack small.
struct WireLeaf<'a> {
    index: u32,
    leaf: [u8; LEAF_BYTES],
    siblings: &'a [u8],
}

/// The parts of a witness in wire form, without copying the paths.
struct WireWitness<'a> {
    state: &'a [u8; STATE_BYTES],
    leaves: [Option<WireLeaf<'a>>; 2],
}

fn wire_leaf(bytes: &[u8], present: bool) -> Option<(Option<WireLeaf<'_>>, &[u8])> {
    if !present {
        return Some((None, bytes));
    }
    let (index, rest) = bytes.split_at_checked(4)?;
    let (leaf, rest) = rest.split_at_checked(LEAF_BYTES)?;
    let (siblings, rest) = rest.split_at_checked(DEPTH * 32)?;
    let index = u32::from_le_bytes(index.try_into().ok()?);
    Some((Some(WireLeaf { index, leaf: leaf.try_into().ok()?, siblings }), rest))
}

fn parse_wire(bytes: &[u8]) -> Option<WireWitness<'_>> {
    let (state, rest) = bytes.split_at_checked(STATE_BYTES)?;
    let (flags, rest) = rest.split_first()?;
    if *flags > 3 {
        return None;
    }
    let (fetch, rest) = wire_leaf(rest, flags & 1 != 0)?;
    let (data, rest) = wire_leaf(rest, flags & 2 != 0)?;
    rest.is_empty().then_some(WireWitness { state: state.try_into().ok()?, leaves: [fetch, data] })
}

/// The root over `leaf` at `index` through siblings given as 19 concatenated hashes.
fn root_from_wire_path(index: u32, leaf: &[u8; LEAF_BYTES], siblings: &[u8]) -> Hash {
    let mut hash = leaf_hash(leaf);
    for (level, sibling) in siblings.chunks_exact(32).enumerate() {
        hash = if (index >> level) & 1 == 0 { node_pair(&hash, sibling) } else { node_pair(sibling, &hash) };
    }
    hash
}

fn node_pair(left: &[u8], right: &[u8]) -> Hash {
    crate::sha::sha256([&[0x01], left, right])
}

struct WitnessBus<'a> {
    leaves: [Option<WireLeaf<'a>>; 2],
    written: Option<usize>,
}

impl WitnessBus<'_> {
    fn slot(&self, address: u32) -> Result<usize, Missing> {
        let index = address / LEAF_BYTES as u32;
        self.leaves.iter().position(|l| l.as_ref().is_some_and(|l| l.index == index)).ok_or(Missing)
    }

    /// The leaf holding `address`; aligned accesses never cross a leaf, and `get` keeps the
    /// chain's copy of this code free of bounds-check panics.
    fn leaf_mut(&mut self, address: u32) -> Result<&mut [u8; LEAF_BYTES], Missing> {
        let slot = self.slot(address)?;
        self.leaves.get_mut(slot).and_then(|l| l.as_mut()).map(|l| &mut l.leaf).ok_or(Missing)
    }
}

impl Bus for WitnessBus<'_> {
    fn read(&mut self, address: u32, width: Width) -> Result<u32, Missing> {
        let leaf = self.leaf_mut(address)?;
        let at = (address as usize) % LEAF_BYTES;
        let bytes = leaf.get(at..at + width.bytes() as usize).ok_or(Missing)?;
        Ok(bytes.iter().enumerate().fold(0u32, |value, (i, byte)| value | (*byte as u32) << (8 * i)))
    }

    fn write(&mut self, address: u32, width: Width, value: u32) -> Result<(), Missing> {
        let slot = self.slot(address)?;
        let leaf = self.leaf_mut(address)?;
        let at = (address as usize) % LEAF_BYTES;
        let bytes = leaf.get_mut(at..at + width.bytes() as usize).ok_or(Missing)?;
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = (value >> (8 * i)) as u8;
        }
        self.written = Some(slot);
        Ok(())
    }
}

/// The post-state hash of one step from `pre`, or why the witness cannot show it.
pub fn verify_step(pre: &Hash, witness: &StepWitness) -> Result<Hash, WitnessError> {
    verify_step_wire(pre, &witness.encode())
}

/// [`verify_step`] on a witness in wire form (what a proof buffer holds): the one check the
/// chain and the bots share. Paths are read in place, never copied, so the chain's stack stays
/// small; every access is checked, so it cannot panic on untrusted bytes.
pub fn verify_step_wire(pre: &Hash, bytes: &[u8]) -> Result<Hash, WitnessError> {
    let witness = parse_wire(bytes).ok_or(WitnessError::Malformed)?;
    if hash_state(witness.state) != *pre {
        return Err(WitnessError::PreStateMismatch);
    }
    let (mut core, root) = Core::decode(witness.state).ok_or(WitnessError::InvalidState)?;
    for leaf in witness.leaves.iter().flatten() {
        let in_memory = leaf.index < (MEMORY_BYTES / LEAF_BYTES as u32);
        if !in_memory || root_from_wire_path(leaf.index, &leaf.leaf, leaf.siblings) != root {
            return Err(WitnessError::BadProof);
        }
    }
    let mut bus = WitnessBus { leaves: witness.leaves, written: None };
    step(&mut core, &mut bus).map_err(|Missing| WitnessError::MissingLeaf)?;
    let new_root = match bus.written.and_then(|slot| bus.leaves.get(slot)) {
        Some(Some(leaf)) => root_from_wire_path(leaf.index, &leaf.leaf, leaf.siblings),
        Some(None) => return Err(WitnessError::MissingLeaf),
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
