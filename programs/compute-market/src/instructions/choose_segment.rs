//! `choose_segment`: the challenger picks the segment of the provider's dissection whose left end
//! it accepts and whose right end it disputes, on its clock.

use crate::accounts::{load_mut, parse_args, Context};
use crate::errors::{require, ErrorCode, Result};
use crate::events::DisputeMoved;
use crate::runtime::current_slot;
use crate::state::Dispute;

crate::pod_struct! {
    /// Arguments of `choose_segment`.
    pub struct ChooseSegmentArgs {
        /// The disputed segment, 0-based (at most 15).
        pub segment: u8,
    }
}

crate::instruction_accounts! {
    /// Accounts of `choose_segment`.
    pub struct ChooseSegmentAccounts {
        /// The game's challenger.
        challenger: signer,
        /// The game.
        dispute: writable,
    }
}

/// Checks that the signer is the game's challenger (whose turn it is, `choose` checks).
#[inline(always)]
fn validate(ix: &ChooseSegmentAccounts, dispute: &Dispute) -> Result<()> {
    require(ix.challenger.address() == &dispute.challenger, ErrorCode::NotChallenger)
}

pub fn process(ctx: &Context) -> Result<()> {
    let program_id = ctx.program_id;
    let ix = ChooseSegmentAccounts::parse(ctx.accounts)?;
    let args = parse_args::<ChooseSegmentArgs>(ctx.data)?;
    let now = current_slot()?;
    let mut dispute_view = ix.dispute;
    let mut dispute = load_mut::<Dispute>(&mut dispute_view, program_id)?;
    validate(&ix, &dispute)?;
    dispute.choose(args.segment, now)?;
    dispute.invariant()?;
    DisputeMoved { dispute: *ix.dispute.address(), lo: dispute.lo, hi: dispute.hi, turn: dispute.turn }.emit();
    Ok(())
}
