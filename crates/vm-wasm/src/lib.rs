//! A C ABI over vm-core for WebAssembly hosts (Node's `WebAssembly` API): machines and replays
//! live in one table inside the module and are named by handles; byte buffers cross through
//! `alloc`/`dealloc`. Every function checks its handle and returns 0 / an error code instead of
//! trapping.
//!
//! A replay handle (`vm_replay_new`) also works with every machine function: they read its
//! working machine at the step last sought, and `vm_run`/`vm_step` move it forward through the
//! replay (keeping its snapshots). The `vm_replay_*` functions refuse a plain machine's handle.
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::cell::RefCell;
use vm_core::commit::OutputProof;
use vm_core::{Machine, Replay, StepWitness, MAX_WITNESS_BYTES, STATE_BYTES};

#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

#[cfg(target_arch = "wasm32")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

enum Entry {
    Machine(Box<Machine>),
    Replay(Box<Replay>),
}

impl Entry {
    fn machine(&self) -> &Machine {
        match self {
            Entry::Machine(machine) => machine,
            Entry::Replay(replay) => replay.machine(),
        }
    }

    fn state_blob(&mut self) -> [u8; STATE_BYTES] {
        match self {
            Entry::Machine(machine) => machine.state_blob(),
            Entry::Replay(replay) => replay.state_blob(),
        }
    }

    fn witness(&mut self) -> StepWitness {
        match self {
            Entry::Machine(machine) => machine.witness(),
            Entry::Replay(replay) => replay.witness(),
        }
    }

    fn output_proof(&mut self) -> OutputProof {
        match self {
            Entry::Machine(machine) => vm_core::commit::output_proof(&mut machine.memory),
            Entry::Replay(replay) => replay.output_proof(),
        }
    }

    /// Up to `max_steps` more steps; the steps taken.
    fn run(&mut self, max_steps: u64) -> u64 {
        match self {
            Entry::Machine(machine) => machine.run(max_steps),
            Entry::Replay(replay) => {
                let start = replay.steps();
                replay.run_to_end(max_steps) - start
            }
        }
    }
}

struct Table(RefCell<Vec<Option<Entry>>>);
// The module is single-threaded: WebAssembly instances without shared memory have one thread.
unsafe impl Sync for Table {}
static HANDLES: Table = Table(RefCell::new(Vec::new()));

fn with_entry<T>(handle: u32, default: T, action: impl FnOnce(&mut Entry) -> T) -> T {
    let mut table = HANDLES.0.borrow_mut();
    match handle.checked_sub(1).and_then(|i| table.get_mut(i as usize)).and_then(|slot| slot.as_mut()) {
        Some(entry) => action(entry),
        None => default,
    }
}

fn with_replay<T>(handle: u32, default: T, action: impl FnOnce(&mut Replay) -> T) -> T {
    with_entry(handle, None, |entry| match entry {
        Entry::Replay(replay) => Some(action(replay)),
        Entry::Machine(_) => None,
    })
    .unwrap_or(default)
}

/// A new handle for `entry`, reusing a freed slot.
fn insert(entry: Entry) -> u32 {
    let mut table = HANDLES.0.borrow_mut();
    let slot = table.iter().position(|m| m.is_none()).unwrap_or_else(|| {
        table.push(None);
        table.len() - 1
    });
    table[slot] = Some(entry);
    slot as u32 + 1
}

/// Writes a state blob and then its 32-byte hash at `out` (205 bytes).
///
/// # Safety
/// `out` must be valid for 205 bytes.
unsafe fn write_state(blob: &[u8; STATE_BYTES], out: *mut u8) {
    let hash = vm_core::hash_state(blob);
    let out = core::slice::from_raw_parts_mut(out, STATE_BYTES + 32);
    out[..STATE_BYTES].copy_from_slice(blob);
    out[STATE_BYTES..].copy_from_slice(&hash);
}

/// Writes an encoded witness at `out`; returns its length.
///
/// # Safety
/// `out` must be valid for `MAX_WITNESS_BYTES` bytes.
unsafe fn write_witness(witness: &StepWitness, out: *mut u8) -> u32 {
    let wire = witness.encode();
    let len = wire.len().min(MAX_WITNESS_BYTES);
    core::slice::from_raw_parts_mut(out, len).copy_from_slice(&wire[..len]);
    len as u32
}

/// A buffer of `len` bytes for the host to write into; freed with `vm_dealloc`.
#[no_mangle]
pub extern "C" fn vm_alloc(len: u32) -> *mut u8 {
    let mut buffer = Vec::<u8>::with_capacity(len as usize);
    let pointer = buffer.as_mut_ptr();
    core::mem::forget(buffer);
    pointer
}

/// # Safety
/// `pointer` and `len` must come from one `vm_alloc` call.
#[no_mangle]
pub unsafe extern "C" fn vm_dealloc(pointer: *mut u8, len: u32) {
    drop(Vec::from_raw_parts(pointer, 0, len as usize));
}

/// A machine loaded with a code image and an input; returns its handle, or 0 when they do not fit.
///
/// # Safety
/// The two buffers must be valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn vm_load(code: *const u8, code_len: u32, input: *const u8, input_len: u32) -> u32 {
    let code = core::slice::from_raw_parts(code, code_len as usize);
    let input = core::slice::from_raw_parts(input, input_len as usize);
    let Ok(machine) = Machine::load(code, input) else { return 0 };
    insert(Entry::Machine(Box::new(machine)))
}

/// Frees a machine or a replay.
#[no_mangle]
pub extern "C" fn vm_free(handle: u32) {
    let mut table = HANDLES.0.borrow_mut();
    if let Some(slot) = handle.checked_sub(1).and_then(|i| table.get_mut(i as usize)) {
        *slot = None;
    }
}

/// Runs up to `max_steps` steps (fast, no hashing); returns the steps taken.
#[no_mangle]
pub extern "C" fn vm_run(handle: u32, max_steps: u64) -> u64 {
    with_entry(handle, 0, |e| e.run(max_steps))
}

#[no_mangle]
pub extern "C" fn vm_steps(handle: u32) -> u64 {
    with_entry(handle, 0, |e| e.machine().core.steps)
}

/// The status byte (0 running, 1 halted, 2.. errors), or 255 for an unknown handle.
#[no_mangle]
pub extern "C" fn vm_status(handle: u32) -> u32 {
    with_entry(handle, 255, |e| e.machine().core.status as u32)
}

#[no_mangle]
pub extern "C" fn vm_exit_code(handle: u32) -> u32 {
    with_entry(handle, 0, |e| e.machine().core.exit_code)
}

/// Writes the 173-byte state blob and then its 32-byte hash at `out` (205 bytes); 1 on success.
///
/// # Safety
/// `out` must be valid for 205 bytes.
#[no_mangle]
pub unsafe extern "C" fn vm_state(handle: u32, out: *mut u8) -> u32 {
    with_entry(handle, 0, |e| {
        write_state(&e.state_blob(), out);
        1
    })
}

/// Copies the output (the length-prefixed output region) to `out`, up to `capacity` bytes;
/// returns the output's length (which may exceed `capacity`).
///
/// # Safety
/// `out` must be valid for `capacity` bytes.
#[no_mangle]
pub unsafe extern "C" fn vm_output(handle: u32, out: *mut u8, capacity: u32) -> u32 {
    with_entry(handle, 0, |e| {
        // A program may write any length: `output` never reads past the output quarter.
        let output = e.machine().output();
        let copied = output.len().min(capacity as usize);
        core::slice::from_raw_parts_mut(out, copied).copy_from_slice(&output[..copied]);
        output.len() as u32
    })
}

/// Executes one step.
#[no_mangle]
pub extern "C" fn vm_step(handle: u32) {
    with_entry(handle, 0, |e| e.run(1));
}

/// Writes the encoded witness of the next step at `out` (room for `MAX_WITNESS_BYTES`); returns
/// its length, or 0 for an unknown handle.
///
/// # Safety
/// `out` must be valid for `MAX_WITNESS_BYTES` bytes.
#[no_mangle]
pub unsafe extern "C" fn vm_witness(handle: u32, out: *mut u8) -> u32 {
    with_entry(handle, 0, |e| write_witness(&e.witness(), out))
}

/// Checks one step the way the chain will: from the pre-state hash (32 bytes) and an encoded
/// witness, writes the post-state hash at `out` and returns 0, or an error code: 1 malformed
/// witness, 2 pre-state mismatch, 3 invalid state, 4 bad proof, 5 missing leaf.
///
/// # Safety
/// `pre` must be valid for 32 bytes, `witness` for `len`, `out` for 32.
#[no_mangle]
pub unsafe extern "C" fn vm_verify_step(pre: *const u8, witness: *const u8, len: u32, out: *mut u8) -> u32 {
    let mut pre_hash = [0u8; 32];
    pre_hash.copy_from_slice(core::slice::from_raw_parts(pre, 32));
    match vm_core::verify_step_wire(&pre_hash, core::slice::from_raw_parts(witness, len as usize)) {
        Ok(post) => {
            core::slice::from_raw_parts_mut(out, 32).copy_from_slice(&post);
            0
        }
        Err(vm_core::WitnessError::Malformed) => 1,
        Err(vm_core::WitnessError::PreStateMismatch) => 2,
        Err(vm_core::WitnessError::InvalidState) => 3,
        Err(vm_core::WitnessError::BadProof) => 4,
        Err(vm_core::WitnessError::MissingLeaf) => 5,
    }
}

/// Writes the output proof of the machine's current memory at `out` (96 bytes): the output
/// quarter's root, the heap quarter's root and the node over code and input; 1 on success.
///
/// # Safety
/// `out` must be valid for 96 bytes.
#[no_mangle]
pub unsafe extern "C" fn vm_output_proof(handle: u32, out: *mut u8) -> u32 {
    with_entry(handle, 0, |e| {
        let proof = e.output_proof();
        let out = core::slice::from_raw_parts_mut(out, 96);
        out[..32].copy_from_slice(&proof.output_root);
        out[32..64].copy_from_slice(&proof.heap_root);
        out[64..].copy_from_slice(&proof.low_node);
        1
    })
}

/// Writes the code quarter's root and the input quarter's root of a job at `out` (64 bytes), as
/// a verifiable job names them when it is posted; 0 when either does not fit its quarter.
///
/// # Safety
/// `code` must be valid for `code_len` bytes, `input` for `input_len`, `out` for 64.
#[no_mangle]
pub unsafe extern "C" fn vm_program_roots(code: *const u8, code_len: u32, input: *const u8, input_len: u32, out: *mut u8) -> u32 {
    let code = core::slice::from_raw_parts(code, code_len as usize);
    let input = core::slice::from_raw_parts(input, input_len as usize);
    let (Ok(code_root), Ok(input_root)) =
        (vm_core::commit::quarter_root(code), vm_core::commit::quarter_root(&vm_core::commit::input_image(input)))
    else {
        return 0;
    };
    let out = core::slice::from_raw_parts_mut(out, 64);
    out[..32].copy_from_slice(&code_root);
    out[32..].copy_from_slice(&input_root);
    1
}

/// A replay of a job with a snapshot every `interval` steps (0: vm-core's default); returns its
/// handle, or 0 when the code or input does not fit.
///
/// # Safety
/// The two buffers must be valid for their lengths.
#[no_mangle]
pub unsafe extern "C" fn vm_replay_new(code: *const u8, code_len: u32, input: *const u8, input_len: u32, interval: u64) -> u32 {
    let code = core::slice::from_raw_parts(code, code_len as usize);
    let input = core::slice::from_raw_parts(input, input_len as usize);
    let Ok(replay) = Replay::new(code, input, interval) else { return 0 };
    insert(Entry::Replay(Box::new(replay)))
}

/// Moves a replay to `step` (its stop, if it stops earlier); returns the step it is at, or 0 for
/// a handle that is not a replay's.
#[no_mangle]
pub extern "C" fn vm_replay_seek(handle: u32, step: u64) -> u64 {
    with_replay(handle, 0, |r| {
        r.seek(step);
        r.steps()
    })
}

/// Writes the state blob at `step` and its hash at `out` (205 bytes, as `vm_state`); 1 on success.
///
/// # Safety
/// `out` must be valid for 205 bytes.
#[no_mangle]
pub unsafe extern "C" fn vm_replay_state_at(handle: u32, step: u64, out: *mut u8) -> u32 {
    with_replay(handle, 0, |r| {
        write_state(&r.state_blob_at(step), out);
        1
    })
}

/// Writes the state hash at `step` at `out` (32 bytes); 1 on success.
///
/// # Safety
/// `out` must be valid for 32 bytes.
#[no_mangle]
pub unsafe extern "C" fn vm_replay_hash_at(handle: u32, step: u64, out: *mut u8) -> u32 {
    with_replay(handle, 0, |r| {
        core::slice::from_raw_parts_mut(out, 32).copy_from_slice(&r.hash_at(step));
        1
    })
}

/// Writes the encoded witness of the step from `step` to `step + 1` at `out` (room for
/// `MAX_WITNESS_BYTES`); returns its length, or 0 for a handle that is not a replay's.
///
/// # Safety
/// `out` must be valid for `MAX_WITNESS_BYTES` bytes.
#[no_mangle]
pub unsafe extern "C" fn vm_replay_witness_at(handle: u32, step: u64, out: *mut u8) -> u32 {
    with_replay(handle, 0, |r| write_witness(&r.witness_at(step), out))
}

/// Writes a replay's statistics at `out` as seven u64 (LE): interval, snapshots, journal leaves,
/// bytes held by snapshots, tree builds, leaf hashes, node hashes; 1 on success.
///
/// # Safety
/// `out` must be valid for 56 bytes.
#[no_mangle]
pub unsafe extern "C" fn vm_replay_stats(handle: u32, out: *mut u8) -> u32 {
    with_replay(handle, 0, |r| {
        let s = r.stats();
        let fields = [s.interval, s.snapshots, s.journal_leaves, s.bytes, u64::from(s.tree.builds), s.tree.leaf_hashes, s.tree.node_hashes];
        let out = core::slice::from_raw_parts_mut(out, 8 * fields.len());
        for (chunk, field) in out.chunks_exact_mut(8).zip(fields) {
            chunk.copy_from_slice(&field.to_le_bytes());
        }
        1
    })
}
