//! `commit_sealed_result`: a running winner of a replicated job with several winners posts its
//! result sealed (`sha256("result" ‖ output root ‖ salt ‖ provider)`) before the commit deadline.
//! Roots are revealed (`reveal_result`) only once every winner has committed, so none can copy.

use super::commit_winner::{load_winner, WinnerViews};
use crate::accounts::{parse_args, Context};
use crate::errors::{require, ErrorCode, Result};
use crate::events::ResultCommitted;
use crate::layout::U64;
use crate::runtime::current_slot;
use crate::state::Job;

crate::pod_struct! {
    /// Arguments of `commit_sealed_result`.
    pub struct CommitSealedResultArgs {
        /// sha256("result" ‖ output root ‖ salt ‖ provider), non-zero.
        pub commitment: [u8; 32],
        /// sha256 of the URI the outputs are served at.
        pub result_uri_hash: [u8; 32],
    }
}

crate::instruction_accounts! {
    /// Accounts of `commit_sealed_result`.
    pub struct CommitSealedResultAccounts {
        /// The winning provider's owner.
        owner: signer,
        /// The job's market (challenge window, which is also the reveal window).
        market: readonly,
        /// The job.
        job: writable,
        /// The winning bid, which records the sealed result.
        bid: writable,
    }
}

/// Checks that this job's results are sealed and that a commitment came; the winner itself
/// `load_winner` checks.
#[inline(always)]
fn validate(job: &Job, args: &CommitSealedResultArgs) -> Result<()> {
    require(job.sealed_results(), ErrorCode::WrongCommitInstruction)?;
    require(args.commitment != [0u8; 32], ErrorCode::InvalidResultCommitment)
}

pub fn process(ctx: &Context) -> Result<()> {
    let ix = CommitSealedResultAccounts::parse(ctx.accounts)?;
    let args = parse_args::<CommitSealedResultArgs>(ctx.data)?;
    let now = current_slot()?;
    let (mut job_view, mut bid_view) = (ix.job, ix.bid);
    let views = WinnerViews { owner: &ix.owner, market: &ix.market, job: &mut job_view, bid: &mut bid_view };
    let mut winner = load_winner(views, ctx.program_id)?;
    validate(&winner.job, args)?;

    winner.record_commit(now)?;
    winner.bid.result_commitment = args.commitment;
    winner.bid.result_uri_hash = args.result_uri_hash;
    winner.invariant()?;
    let bid = &winner.bid;

    // The root stays hidden: the event carries zeros until `ResultRevealed`.
    ResultCommitted { job: bid.job, provider: bid.provider, output_root: [0u8; 32], final_state_hash: [0u8; 32], steps: U64::new(0) }.emit();
    Ok(())
}
