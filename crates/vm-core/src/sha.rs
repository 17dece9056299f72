//! sha256 of a concatenation of parts: the runtime's `sol_sha256` syscall on-chain (a software
//! hash there would cost far more compute), the `sha2` crate everywhere else. Both compute the
//! same function, so the chain and the bots agree bit for bit.
use crate::merkle::Hash;

/// sha256 of `parts` concatenated. The parts arrive by value so that, on-chain, the slice array
/// the syscall reads lives on the stack.
#[inline(always)]
pub fn sha256<const N: usize>(parts: [&[u8]; N]) -> Hash {
    #[cfg(target_arch = "bpf")]
    {
        let mut hash = [0u8; 32];
        // SAFETY: `[&[u8]; N]` has the (pointer, length) pair layout the syscall reads, every
        // slice is live for the call, and the result buffer holds 32 bytes.
        unsafe {
            solana_define_syscall::definitions::sol_sha256(parts.as_ptr() as *const u8, N as u64, hash.as_mut_ptr());
        }
        hash
    }
    #[cfg(not(target_arch = "bpf"))]
    {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        for part in parts {
            hasher.update(part);
        }
        hasher.finalize().into()
    }
}
