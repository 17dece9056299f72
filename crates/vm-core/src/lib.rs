//! The RISC-V machine of verifiable jobs (`rv32im`), one implementation for the chain, the host
//! and WebAssembly. This crate is a protocol: a provider, a challenger and the program must agree
//! on every bit of it.
//!
//! - **Instructions**: RV32I and the M extension. No CSRs, floating point, atomics or compressed
//!   instructions. `fence` is a no-op. `ecall` halts with the exit code in `a0`. `ebreak`, an
//!   unknown encoding, a misaligned access or an access outside memory stops the machine with an
//!   error status. A stopped machine is a fixed point: stepping it changes nothing.
//! - **Memory**: 16 MiB (addresses `0..0x100_0000`), little-endian, in 2^19 leaves of 32 bytes
//!   under a binary sha256 tree of depth 19 (see [`merkle`]). The layout ([`layout`]) puts code,
//!   input, output and heap in four aligned quarters.
//! - **State**: the 173-byte blob `pc ‖ x1..x31 ‖ memory root ‖ steps ‖ status ‖ exit code`
//!   (integers little-endian), hashed with sha256 ([`state`]).
//! - **One step** can be checked from the pre-state blob and at most two leaves with their Merkle
//!   paths ([`proof`]), which is what the chain does in a dispute.
//! - **Off-chain**, a [`replay::Replay`] answers for the state at any step of a run from
//!   snapshots every C steps (not built for the chain).
#![no_std]

extern crate alloc;

pub mod commit;
pub mod decode;
pub mod dissection;
pub mod execute;
pub mod layout;
pub mod memory;
pub mod merkle;
pub mod proof;
// Off-chain only: the program checks one step, it never replays.
#[cfg(not(target_arch = "bpf"))]
pub mod replay;
pub mod sha;
pub mod state;

pub use decode::{decode, Instruction};
pub use execute::{step, Bus};
pub use memory::{Memory, TreeStats};
pub use merkle::{Hash, DEPTH, LEAF_BYTES};
pub use proof::{verify_step, verify_step_wire, LeafWitness, StepWitness, WitnessError, MAX_WITNESS_BYTES};
#[cfg(not(target_arch = "bpf"))]
pub use replay::{Replay, ReplayStats, DEFAULT_INTERVAL};
pub use state::{hash_state, Core, LoadError, Machine, Registers, Status, STATE_BYTES};
