//! `write_witness`: writes one chunk of a one-step witness into the writer's proof buffer for a
//! game, creating the buffer on the first chunk. A witness (up to 1,462 bytes) does not fit one
//! transaction, so it arrives in chunks; nothing written is trusted (`prove_step` checks it all).

use crate::accounts::{init, load, load_mut, parse_args, Context};
use crate::errors::{require, ErrorCode, Result};
use crate::layout::U16;
use crate::pda::create_pda_account;
use crate::state::seeds::WitnessSeeds;
use crate::state::{Dispute, DisputeStatus, WitnessBuffer};
use pinocchio::Address;
use pinocchio::cpi::Signer;
use vm_core::MAX_WITNESS_BYTES;

/// Bytes per chunk: one chunk holds the witness of any step without a data access (818 bytes),
/// two hold the largest (1,462), and a chunk's transaction with a compute-budget instruction
/// stays under 1,232 bytes.
pub const WITNESS_CHUNK_BYTES: usize = 880;

crate::pod_struct! {
    /// Arguments of `write_witness`.
    pub struct WriteWitnessArgs {
        /// Where the chunk goes in the witness.
        pub offset: U16,
        /// Bytes of `chunk` that are the witness's (1..=880).
        pub len: U16,
        /// The chunk, zero-padded.
        pub chunk: [u8; WITNESS_CHUNK_BYTES],
    }
}

crate::instruction_accounts! {
    /// Accounts of `write_witness`.
    pub struct WriteWitnessAccounts {
        /// The writer; pays the buffer's rent, returned when the proof is checked.
        writer: signer_writable,
        /// The game the witness is for.
        dispute: readonly,
        /// The proof buffer PDA `["witness", dispute, writer]`, created on the first chunk.
        buffer: writable,
        system_program: program = pinocchio_system::ID,
    }
}

/// The chunk's range in the buffer, when it is non-empty and inside the witness.
#[inline(always)]
fn chunk_range(args: &WriteWitnessArgs) -> Result<(usize, usize)> {
    let (offset, len) = (args.offset.get() as usize, args.len.get() as usize);
    let end = offset + len;
    require(len >= 1 && len <= WITNESS_CHUNK_BYTES && end <= MAX_WITNESS_BYTES, ErrorCode::InvalidWitnessChunk)?;
    Ok((offset, end))
}

/// Checks that the game is still played and that the buffer is the writer's for it; returns the
/// buffer's seeds.
#[inline(always)]
fn validate(ix: &WriteWitnessAccounts, dispute: &Dispute, program_id: &Address) -> Result<WitnessSeeds> {
    require(dispute.status()? == DisputeStatus::Open, ErrorCode::NotYourTurn)?;
    let mut seeds = WitnessSeeds::new(ix.dispute.address(), ix.writer.address());
    seeds.expect(&ix.buffer, program_id)?;
    Ok(seeds)
}

pub fn process(ctx: &Context) -> Result<()> {
    let program_id = ctx.program_id;
    let ix = WriteWitnessAccounts::parse(ctx.accounts)?;
    let args = parse_args::<WriteWitnessArgs>(ctx.data)?;
    let (offset, end) = chunk_range(args)?;
    let seeds = validate(&ix, &*load::<Dispute>(&ix.dispute, program_id)?, program_id)?;
    let mut buffer_view = ix.buffer;
    let fresh = buffer_view.data_len() == 0;
    if fresh {
        create_pda_account(&ix.writer, &ix.buffer, WitnessBuffer::LEN, program_id, Signer::from(&seeds.signer()))?;
    }
    let mut buffer = if fresh { init::<WitnessBuffer>(&mut buffer_view)? } else { load_mut::<WitnessBuffer>(&mut buffer_view, program_id)? };
    if fresh {
        buffer.dispute = *ix.dispute.address();
        buffer.writer = *ix.writer.address();
    }
    let target = buffer.bytes.get_mut(offset..end).ok_or(ErrorCode::InvalidWitnessChunk)?;
    let source = args.chunk.get(..end - offset).ok_or(ErrorCode::InvalidWitnessChunk)?;
    target.copy_from_slice(source);
    // A chunk at offset 0 starts the witness afresh (a shorter one may replace a longer one);
    // later chunks extend it.
    buffer.len = U16::new(if offset == 0 { end as u16 } else { buffer.len.get().max(end as u16) });
    Ok(())
}
