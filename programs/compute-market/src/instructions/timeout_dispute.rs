//! `timeout_dispute`: anyone ends a game whose party to move has run out of clock; the other
//! party wins. Payouts follow in `settle_dispute`.

use crate::accounts::{load_mut, parse_args, Context};
use crate::errors::Result;
use crate::events::DisputeDecided;
use crate::layout::{Bool, Stored};
use crate::runtime::current_slot;
use crate::state::{Dispute, DisputeStatus};

crate::pod_struct! {
    /// `timeout_dispute` takes no arguments.
    pub struct TimeoutDisputeArgs {}
}

crate::instruction_accounts! {
    /// Accounts of `timeout_dispute`.
    pub struct TimeoutDisputeAccounts {
        /// Whoever cranks the clock.
        cranker: signer,
        /// The game.
        dispute: writable,
    }
}

/// Checks that the game is open and that the side to move ran out of clock; returns who wins.
#[inline(always)]
fn validate(dispute: &Dispute, now: u64) -> Result<DisputeStatus> {
    dispute.timeout_winner(now)
}

pub fn process(ctx: &Context) -> Result<()> {
    let program_id = ctx.program_id;
    let ix = TimeoutDisputeAccounts::parse(ctx.accounts)?;
    parse_args::<TimeoutDisputeArgs>(ctx.data)?;
    let now = current_slot()?;
    let mut dispute_view = ix.dispute;
    let mut dispute = load_mut::<Dispute>(&mut dispute_view, program_id)?;
    let winner = validate(&dispute, now)?;
    dispute.status.set(winner);
    dispute.invariant()?;
    DisputeDecided { dispute: *ix.dispute.address(), status: Stored::new(winner), by_timeout: Bool::new(true) }.emit();
    Ok(())
}
