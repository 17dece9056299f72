//! `dissect`: the provider posts the state hashes at the inner boundaries of the disputed
//! interval (at most 15), on its clock.

use crate::accounts::{load_mut, parse_args, Context};
use crate::errors::{require, ErrorCode, Result};
use crate::events::DisputeMoved;
use crate::runtime::current_slot;
use crate::state::{Dispute, MAX_POINTS};

crate::pod_struct! {
    /// Arguments of `dissect`.
    pub struct DissectArgs {
        /// The state hashes at boundaries 1..segments of [lo, hi], zeros after them.
        pub hashes: [[u8; 32]; MAX_POINTS],
    }
}

crate::instruction_accounts! {
    /// Accounts of `dissect`.
    pub struct DissectAccounts {
        /// The disputed provider's owner.
        owner: signer,
        /// The game.
        dispute: writable,
    }
}

/// Checks that the signer is the disputed provider's owner (whose turn it is, `dissect` checks).
#[inline(always)]
fn validate(ix: &DissectAccounts, dispute: &Dispute) -> Result<()> {
    require(ix.owner.address() == &dispute.owner, ErrorCode::NotBidOwner)
}

pub fn process(ctx: &Context) -> Result<()> {
    let program_id = ctx.program_id;
    let ix = DissectAccounts::parse(ctx.accounts)?;
    let args = parse_args::<DissectArgs>(ctx.data)?;
    let now = current_slot()?;
    let mut dispute_view = ix.dispute;
    let mut dispute = load_mut::<Dispute>(&mut dispute_view, program_id)?;
    validate(&ix, &dispute)?;
    let hashes: &[[u8; 32]; MAX_POINTS] = &args.hashes;
    dispute.dissect(hashes, now)?;
    dispute.invariant()?;
    DisputeMoved { dispute: *ix.dispute.address(), lo: dispute.lo, hi: dispute.hi, turn: dispute.turn }.emit();
    Ok(())
}
