//! Thin wrappers over the runtime's syscalls: logs, event data and the clock.
//! On the host (unit tests, IDL generation) they are inert.

use crate::errors::Result;

/// Writes one line to the transaction log.
#[inline(always)]
pub fn log(message: &str) {
    #[cfg(target_arch = "bpf")]
    // SAFETY: the pointer and length describe a live `&str`.
    unsafe {
        pinocchio::syscalls::sol_log_(message.as_ptr(), message.len() as u64)
    };
    #[cfg(not(target_arch = "bpf"))]
    let _ = message;
}

/// Writes a `Program data:` log line holding the concatenation of `parts`, base64-encoded by
/// the runtime; this is how Anchor events are carried.
#[inline(always)]
pub fn log_data(parts: &[&[u8]]) {
    #[cfg(target_arch = "bpf")]
    // SAFETY: `&[&[u8]]` has the (pointer, length) pair layout the syscall reads, and every
    // slice is live for the duration of the call.
    unsafe {
        pinocchio::syscalls::sol_log_data(parts.as_ptr() as *const u8, parts.len() as u64)
    };
    #[cfg(not(target_arch = "bpf"))]
    let _ = parts;
}

/// The current slot. Deadlines are slots, never wall-clock time.
#[inline(always)]
pub fn current_slot() -> Result<u64> {
    use pinocchio::sysvars::{clock::Clock, Sysvar};
    Ok(Clock::get()?.slot)
}

/// sha256 of the concatenation of `parts`: the machine's own (the syscall on-chain), so that the
/// program and the machine it referees hash alike through one wrapper.
pub use vm_core::sha::sha256;
