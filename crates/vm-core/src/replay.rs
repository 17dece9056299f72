//! A job's run that answers for any step: the state, its hash and the one-step witness at step
//! `s`, which is what a player of the dissection game is asked, back and forth over the run.
//!
//! One working machine moves both ways. A snapshot every `interval` (C) steps keeps the core, and
//! for each interval already run to its end the leaves it wrote, each with its contents at one
//! end of the interval: at its start while the machine is past it (an undo log), at its end while
//! the machine is at or before its start (a redo log). Swapping those leaves with memory crosses
//! the whole interval in time proportional to what it wrote, and turns one log into the other
//! ([`crate::Memory::swap_leaves`]). Within the interval the machine is in, memory's undo
//! journal keeps the leaves written so far ([`crate::Memory::take_journal`]). So a seek to step
//! `s` undoes that journal, crosses intervals to snapshot ⌊s/C⌋, restores its core and runs the
//! remaining `s mod C` steps. Restored leaves are marked dirty like written ones, so the next
//! state hash rehashes only what changed since the last one: the tree is built once, never
//! rebuilt.
//!
//! A run that stops (a halt or a fault) at step H ends its last interval there, with a last
//! snapshot at H: a stopped machine is a fixed point, so a step past H answers the state at H.
use alloc::vec::Vec;

use crate::commit::{output_proof, OutputProof};
use crate::memory::{Leaf, TreeStats};
use crate::proof::StepWitness;
use crate::state::{hash_state, Core, LoadError, Machine, Status, STATE_BYTES};
use crate::Hash;

/// Steps between snapshots when none is given. A question reruns at most C − 1 steps: at 2^18,
/// ≈2.5 ms median and ≈8 ms at worst in the WebAssembly build, against ≈0.8 ms at 2^16 and
/// ≈10 ms median at 2^20 (`bench/vm-replay.ts`, state hashes in a 10 M-step run). A snapshot
/// holds ≈170 bytes plus 36 per leaf its interval wrote (≈600 bytes in all for the sha256 guest),
/// so memory grows as 1/C: ≈25 KiB per 10 M steps at 2^18, ≈10 MB for a run of 2^32 steps. 2^16
/// would make questions 3× faster for 4× the memory; at 2^18 they are already far below a
/// transaction's round trip and a cold replay's ≈170 ms.
pub const DEFAULT_INTERVAL: u64 = 1 << 18;

/// The core at the first step of an interval, and what the interval wrote (see the module).
struct Snapshot {
    core: Core,
    /// Empty until the interval has been run to its end.
    leaves: Vec<(u32, Leaf)>,
}

/// What a replay holds, for benchmarks and tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplayStats {
    pub interval: u64,
    pub snapshots: u64,
    /// Leaves held by the snapshots' logs and the open journal.
    pub journal_leaves: u64,
    /// Bytes held by the snapshots and their logs (not the machine, nor the journal's bitset).
    pub bytes: u64,
    pub tree: TreeStats,
}

pub struct Replay {
    machine: Machine,
    interval: u64,
    /// Snapshot j is at step j·C, but for a last one at the step the machine stopped.
    snapshots: Vec<Snapshot>,
    /// The interval the machine is in: its step is in [snapshot `base`, snapshot `base + 1`).
    base: usize,
    /// The step the machine stops at, once a run has reached it.
    end: Option<u64>,
}

impl Replay {
    /// A replay of `code` on `input` with a snapshot every `interval` steps (0: the default).
    pub fn new(code: &[u8], input: &[u8], interval: u64) -> Result<Replay, LoadError> {
        let mut machine = Machine::load(code, input)?;
        machine.memory.start_journal();
        let interval = if interval == 0 { DEFAULT_INTERVAL } else { interval };
        let first = Snapshot { core: machine.core.clone(), leaves: Vec::new() };
        Ok(Replay { machine, interval, snapshots: alloc::vec![first], base: 0, end: None })
    }

    /// Moves the working machine to `step` (to the stop, if the run stops earlier).
    pub fn seek(&mut self, step: u64) {
        let step = self.end.map_or(step, |end| step.min(end));
        let target = self.snapshot_for(step);
        let behind = step < self.machine.core.steps;
        // Ahead by intervals already run: cross them by their logs (never run them again).
        let known_ahead = target > self.base && self.base + 1 < self.snapshots.len();
        if behind || known_ahead {
            self.machine.memory.undo_journal();
            while self.base > target {
                self.base -= 1;
                self.machine.memory.swap_leaves(&mut self.snapshots[self.base].leaves);
            }
            while self.base < target {
                self.machine.memory.swap_leaves(&mut self.snapshots[self.base].leaves);
                self.base += 1;
            }
            self.machine.core = self.snapshots[self.base].core.clone();
        }
        self.run_to(step);
    }

    /// The state blob at `step`.
    pub fn state_blob_at(&mut self, step: u64) -> [u8; STATE_BYTES] {
        self.seek(step);
        self.machine.state_blob()
    }

    /// The state hash at `step`.
    pub fn hash_at(&mut self, step: u64) -> Hash {
        hash_state(&self.state_blob_at(step))
    }

    /// The witness of the step from `step` to `step + 1`.
    pub fn witness_at(&mut self, step: u64) -> StepWitness {
        self.seek(step);
        self.machine.witness()
    }

    /// Runs on from the current step until the machine stops or `max_steps` more were taken;
    /// returns the step it is at.
    pub fn run_to_end(&mut self, max_steps: u64) -> u64 {
        self.seek(self.machine.core.steps.saturating_add(max_steps));
        self.machine.core.steps
    }

    /// The working machine, at the step last sought. Read it only: stepping it directly would
    /// bypass the snapshots (use `seek`).
    pub fn machine(&self) -> &Machine {
        &self.machine
    }

    pub fn steps(&self) -> u64 {
        self.machine.core.steps
    }

    pub fn status(&self) -> Status {
        self.machine.core.status
    }

    pub fn exit_code(&self) -> u32 {
        self.machine.core.exit_code
    }

    /// The output at the current step (see [`Machine::output`]).
    pub fn output(&self) -> &[u8] {
        self.machine.output()
    }

    /// The state blob at the current step.
    pub fn state_blob(&mut self) -> [u8; STATE_BYTES] {
        self.machine.state_blob()
    }

    /// The witness of the next step from the current one.
    pub fn witness(&mut self) -> StepWitness {
        self.machine.witness()
    }

    /// The output proof of the memory at the current step.
    pub fn output_proof(&mut self) -> OutputProof {
        output_proof(&mut self.machine.memory)
    }

    pub fn stats(&self) -> ReplayStats {
        let open = self.machine.memory.journal_len() as u64;
        let logged: u64 = self.snapshots.iter().map(|s| s.leaves.len() as u64).sum();
        let journal_leaves = logged.saturating_add(open);
        let entry = core::mem::size_of::<(u32, Leaf)>() as u64;
        let snapshot = core::mem::size_of::<Snapshot>() as u64;
        let bytes = journal_leaves.saturating_mul(entry).saturating_add((self.snapshots.len() as u64).saturating_mul(snapshot));
        ReplayStats { interval: self.interval, snapshots: self.snapshots.len() as u64, journal_leaves, bytes, tree: self.machine.memory.tree_stats() }
    }

    /// The snapshot a seek to `step` starts from: the last one at or before it.
    fn snapshot_for(&self, step: u64) -> usize {
        let last = self.snapshots.len() - 1;
        if self.end.is_some_and(|end| step >= end) {
            return last;
        }
        usize::try_from(step / self.interval).map_or(last, |j| j.min(last))
    }

    /// The first step of the next interval (`u64::MAX` past the last representable one).
    fn next_boundary(&self) -> u64 {
        u64::try_from(self.base).ok().and_then(|j| j.checked_add(1)).and_then(|j| j.checked_mul(self.interval)).unwrap_or(u64::MAX)
    }

    /// Runs forward to `step` (or the stop), closing each interval it finishes.
    fn run_to(&mut self, step: u64) {
        while self.machine.core.status == Status::Running && self.machine.core.steps < step {
            let boundary = self.next_boundary();
            // The machine is always short of the boundary: the interval is closed on reaching it.
            self.machine.run(step.min(boundary) - self.machine.core.steps);
            if self.machine.core.steps == boundary || self.machine.core.status != Status::Running {
                self.close_interval();
            }
        }
    }

    /// The machine has reached the next snapshot's step (or stopped): the journal becomes the
    /// finished interval's undo log, and the next snapshot is taken. Only the last interval is
    /// ever run to its end: `seek` crosses the others by their logs.
    fn close_interval(&mut self) {
        debug_assert_eq!(self.base + 1, self.snapshots.len(), "only the last interval runs to its end");
        let mut leaves = self.machine.memory.take_journal();
        // Kept for the whole replay: hold no more than it needs.
        leaves.shrink_to_fit();
        self.snapshots[self.base].leaves = leaves;
        self.snapshots.push(Snapshot { core: self.machine.core.clone(), leaves: Vec::new() });
        self.base += 1;
        if self.machine.core.status != Status::Running {
            self.end = Some(self.machine.core.steps);
        }
    }
}
