//! `prove_step`: at a single disputed step, anyone runs the one-step proof from a proof buffer.
//! The witness's state must hash to the agreed pre-state and its leaves must prove against that
//! state's memory root; then the step is executed and the post-state hash compared with the
//! disputed one: equal, the provider wins; different, the challenger wins. A witness that fails
//! a check decides nothing: the transaction fails with the check's name.

use crate::accounts::{load, load_mut, parse_args, Context};
use crate::errors::{require, ErrorCode, Result};
use crate::events::DisputeDecided;
use crate::layout::{Bool, Stored};
use crate::pda::close_program_account;
use crate::state::{Dispute, WitnessBuffer};
use vm_core::{verify_step_wire, WitnessError};

crate::pod_struct! {
    /// `prove_step` takes no arguments: the witness is in the buffer.
    pub struct ProveStepArgs {}
}

crate::instruction_accounts! {
    /// Accounts of `prove_step`.
    pub struct ProveStepAccounts {
        /// Whoever submits the proof.
        prover: signer,
        /// The game.
        dispute: writable,
        /// The proof buffer, closed here.
        buffer: writable,
        /// The buffer's writer, who gets its rent back.
        writer: writable,
    }
}

fn witness_error(error: WitnessError) -> ErrorCode {
    match error {
        WitnessError::Malformed => ErrorCode::WitnessMalformed,
        WitnessError::PreStateMismatch => ErrorCode::WitnessPreStateMismatch,
        WitnessError::InvalidState => ErrorCode::WitnessInvalidState,
        WitnessError::BadProof => ErrorCode::WitnessBadProof,
        WitnessError::MissingLeaf => ErrorCode::WitnessMissingLeaf,
    }
}

/// The post-state hash the buffer's witness proves from `pre`.
#[inline(always)]
fn proven_post_state(buffer: &WitnessBuffer, pre: &[u8; 32]) -> Result<[u8; 32]> {
    let bytes = buffer.bytes.get(..buffer.len.get() as usize).ok_or(ErrorCode::WitnessMalformed)?;
    verify_step_wire(pre, bytes).map_err(|e| witness_error(e).into())
}

/// Checks that the buffer is the named writer's for this game and that the game awaits its
/// one-step proof.
#[inline(always)]
fn validate(ix: &ProveStepAccounts, dispute: &Dispute, buffer: &WitnessBuffer) -> Result<()> {
    require(&buffer.dispute == ix.dispute.address() && &buffer.writer == ix.writer.address(), ErrorCode::DisputeMismatch)?;
    dispute.check_proof_due()
}

pub fn process(ctx: &Context) -> Result<()> {
    let program_id = ctx.program_id;
    let ix = ProveStepAccounts::parse(ctx.accounts)?;
    parse_args::<ProveStepArgs>(ctx.data)?;
    {
        let mut dispute_view = ix.dispute;
        let mut dispute = load_mut::<Dispute>(&mut dispute_view, program_id)?;
        let buffer = load::<WitnessBuffer>(&ix.buffer, program_id)?;
        validate(&ix, &dispute, &buffer)?;
        let post = proven_post_state(&buffer, &dispute.lo_hash)?;
        let winner = dispute.decide_by_proof(&post)?;
        dispute.invariant()?;
        DisputeDecided { dispute: *ix.dispute.address(), status: Stored::new(winner), by_timeout: Bool::new(false) }.emit();
    }
    let (mut buffer_view, mut writer_view) = (ix.buffer, ix.writer);
    close_program_account(&mut buffer_view, &mut writer_view)
}
