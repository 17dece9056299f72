//! `reveal_result`: once every winner of a replicated job has committed its sealed result, each
//! reveals its output root and salt before the challenge deadline. A winner that never reveals
//! (or cannot, because its root and salt do not match) is slashed hard at `finalize`.

use crate::accounts::{load, load_mut, parse_args, Context};
use crate::errors::{require, ErrorCode, Result};
use crate::events::ResultRevealed;
use crate::layout::Bool;
use crate::runtime::current_slot;
use crate::state::bid::result_commitment;
use crate::state::{Bid, BidStatus, Job, JobState};

crate::pod_struct! {
    /// Arguments of `reveal_result`.
    pub struct RevealResultArgs {
        /// The output root (non-zero).
        pub output_root: [u8; 32],
        /// The salt the result was sealed with.
        pub salt: [u8; 32],
    }
}

crate::instruction_accounts! {
    /// Accounts of `reveal_result`.
    pub struct RevealResultAccounts {
        /// The winning provider's owner.
        owner: signer,
        /// The job.
        job: readonly,
        /// The winning bid.
        bid: writable,
    }
}

/// Checks that the signer owns this incarnation's committed winning bid of a sealed-results job
/// in its reveal window, not yet revealed, and that the root and salt open its commitment.
#[inline(always)]
fn validate(ix: &RevealResultAccounts, job: &Job, bid: &Bid, args: &RevealResultArgs, now: u64) -> Result<()> {
    require(ix.owner.address() == &bid.owner, ErrorCode::NotBidOwner)?;
    bid.check_job(ix.job.address(), job)?;
    require(job.sealed_results(), ErrorCode::WrongCommitInstruction)?;
    require(job.state()? == JobState::Committed && now < job.progress.challenge_deadline_slot.get(), ErrorCode::RevealNotOpen)?;
    require(bid.holds_award(job)? && bid.status()? == BidStatus::Committed, ErrorCode::NotAssignedWinner)?;
    require(!bid.revealed.get(), ErrorCode::ResultAlreadyRevealed)?;
    require(args.output_root != [0u8; 32], ErrorCode::InvalidOutputRoot)?;
    require(result_commitment(&args.output_root, &args.salt, &bid.provider) == bid.result_commitment, ErrorCode::ResultCommitmentMismatch)
}

pub fn process(ctx: &Context) -> Result<()> {
    let program_id = ctx.program_id;
    let ix = RevealResultAccounts::parse(ctx.accounts)?;
    let args = parse_args::<RevealResultArgs>(ctx.data)?;
    let now = current_slot()?;
    let mut bid_view = ix.bid;
    let job = load::<Job>(&ix.job, program_id)?;
    let mut bid = load_mut::<Bid>(&mut bid_view, program_id)?;
    validate(&ix, &job, &bid, args, now)?;

    bid.output_root = args.output_root;
    bid.revealed = Bool::new(true);
    bid.invariant()?;
    ResultRevealed { job: bid.job, provider: bid.provider, output_root: args.output_root }.emit();
    Ok(())
}
