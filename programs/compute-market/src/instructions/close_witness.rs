//! `close_witness`: the writer of a proof buffer takes its rent back once the buffer's game is
//! decided or gone. `prove_step` closes the buffer it proves from; this closes every other one
//! (a second writer's, or one left when the game ended by timeout).

use crate::accounts::{is_live, load, parse_args, Context};
use crate::errors::{require, ErrorCode, Result};
use crate::pda::close_program_account;
use crate::state::{Dispute, DisputeStatus, WitnessBuffer};
use pinocchio::Address;

crate::pod_struct! {
    /// `close_witness` takes no arguments.
    pub struct CloseWitnessArgs {}
}

crate::instruction_accounts! {
    /// Accounts of `close_witness`.
    pub struct CloseWitnessAccounts {
        /// The buffer's writer; gets the rent back.
        writer: signer_writable,
        /// The buffer's game; may already be closed.
        dispute: readonly,
        /// The proof buffer, closed here.
        buffer: writable,
    }
}

#[inline(always)]
fn validate(ix: &CloseWitnessAccounts, buffer: &WitnessBuffer, program_id: &Address) -> Result<()> {
    require(&buffer.dispute == ix.dispute.address(), ErrorCode::DisputeMismatch)?;
    require(&buffer.writer == ix.writer.address(), ErrorCode::NotWitnessWriter)?;
    if is_live::<Dispute>(&ix.dispute, program_id) {
        let dispute = load::<Dispute>(&ix.dispute, program_id)?;
        require(dispute.status()? != DisputeStatus::Open, ErrorCode::DisputeUndecided)?;
    }
    Ok(())
}

pub fn process(ctx: &Context) -> Result<()> {
    let program_id = ctx.program_id;
    let ix = CloseWitnessAccounts::parse(ctx.accounts)?;
    parse_args::<CloseWitnessArgs>(ctx.data)?;
    {
        let buffer = load::<WitnessBuffer>(&ix.buffer, program_id)?;
        validate(&ix, &buffer, program_id)?;
    }
    let (mut buffer_view, mut writer_view) = (ix.buffer, ix.writer);
    close_program_account(&mut buffer_view, &mut writer_view)
}
