//! A C ABI over vm-core for WebAssembly hosts (Node's `WebAssembly` API): machines live in a
//! table inside the module and are named by handles; byte buffers cross through `alloc`/`dealloc`.
//! Every function checks its handle and returns 0 / an error code instead of trapping.
#![cfg_attr(target_arch = "wasm32", no_std)]

extern crate alloc;

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::cell::RefCell;
use vm_core::{layout::OUTPUT_START, Machine, STATE_BYTES};

#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

#[cfg(target_arch = "wasm32")]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

struct Table(RefCell<Vec<Option<Box<Machine>>>>);
// The module is single-threaded: WebAssembly instances without shared memory have one thread.
unsafe impl Sync for Table {}
static MACHINES: Table = Table(RefCell::new(Vec::new()));

fn with_machine<T>(handle: u32, default: T, action: impl FnOnce(&mut Machine) -> T) -> T {
    let mut table = MACHINES.0.borrow_mut();
    match handle.checked_sub(1).and_then(|i| table.get_mut(i as usize)).and_then(|slot| slot.as_mut()) {
        Some(machine) => action(machine),
        None => default,
    }
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
    let mut table = MACHINES.0.borrow_mut();
    let slot = table.iter().position(|m| m.is_none()).unwrap_or_else(|| {
        table.push(None);
        table.len() - 1
    });
    table[slot] = Some(Box::new(machine));
    slot as u32 + 1
}

#[no_mangle]
pub extern "C" fn vm_free(handle: u32) {
    let mut table = MACHINES.0.borrow_mut();
    if let Some(slot) = handle.checked_sub(1).and_then(|i| table.get_mut(i as usize)) {
        *slot = None;
    }
}

/// Runs up to `max_steps` steps (fast, no hashing); returns the steps taken.
#[no_mangle]
pub extern "C" fn vm_run(handle: u32, max_steps: u64) -> u64 {
    with_machine(handle, 0, |m| m.run(max_steps))
}

#[no_mangle]
pub extern "C" fn vm_steps(handle: u32) -> u64 {
    with_machine(handle, 0, |m| m.core.steps)
}

/// The status byte (0 running, 1 halted, 2.. errors), or 255 for an unknown handle.
#[no_mangle]
pub extern "C" fn vm_status(handle: u32) -> u32 {
    with_machine(handle, 255, |m| m.core.status as u32)
}

#[no_mangle]
pub extern "C" fn vm_exit_code(handle: u32) -> u32 {
    with_machine(handle, 0, |m| m.core.exit_code)
}

/// Writes the 173-byte state blob and then its 32-byte hash at `out` (205 bytes); 1 on success.
///
/// # Safety
/// `out` must be valid for 205 bytes.
#[no_mangle]
pub unsafe extern "C" fn vm_state(handle: u32, out: *mut u8) -> u32 {
    with_machine(handle, 0, |m| {
        let blob = m.state_blob();
        let hash = vm_core::hash_state(&blob);
        let out = core::slice::from_raw_parts_mut(out, STATE_BYTES + 32);
        out[..STATE_BYTES].copy_from_slice(&blob);
        out[STATE_BYTES..].copy_from_slice(&hash);
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
    with_machine(handle, 0, |m| {
        let header: [u8; 4] = m.memory.bytes(OUTPUT_START, 4).try_into().unwrap_or([0; 4]);
        // A program may write any length: never read past the output quarter.
        let len = u32::from_le_bytes(header).min(vm_core::layout::QUARTER_BYTES - 4);
        let copied = len.min(capacity) as usize;
        core::slice::from_raw_parts_mut(out, copied).copy_from_slice(m.memory.bytes(OUTPUT_START + 4, copied));
        len
    })
}

/// Executes one step.
#[no_mangle]
pub extern "C" fn vm_step(handle: u32) {
    with_machine(handle, (), |m| m.step())
}

/// Writes the encoded witness of the next step at `out` (room for `MAX_WITNESS_BYTES`); returns
/// its length, or 0 for an unknown handle.
///
/// # Safety
/// `out` must be valid for `MAX_WITNESS_BYTES` bytes.
#[no_mangle]
pub unsafe extern "C" fn vm_witness(handle: u32, out: *mut u8) -> u32 {
    with_machine(handle, 0, |m| {
        let wire = m.witness().encode();
        core::slice::from_raw_parts_mut(out, wire.len()).copy_from_slice(&wire);
        wire.len() as u32
    })
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
    with_machine(handle, 0, |m| {
        let proof = vm_core::commit::output_proof(&mut m.memory);
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
