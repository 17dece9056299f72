//! `commit_result`: the running winner of a single-provider container job posts its output root
//! before the commit deadline (several winners seal theirs: `commit_sealed_result`).

use super::commit_winner::{load_winner, WinnerViews};
use crate::accounts::{parse_args, Context};
use crate::errors::{require, ErrorCode, Result};
use crate::events::ResultCommitted;
use crate::layout::U64;
use crate::runtime::current_slot;
use crate::state::Job;

crate::pod_struct! {
    /// Arguments of `commit_result`.
    pub struct CommitResultArgs {
        /// Merkle root of the outputs (non-zero).
        pub output_root: [u8; 32],
        /// sha256 of the URI the outputs are served at.
        pub result_uri_hash: [u8; 32],
        /// Verifiable jobs: hash of the machine's final state; zero otherwise.
        pub final_state_hash: [u8; 32],
        /// Verifiable jobs: machine steps to the final state; zero otherwise.
        pub steps: U64,
    }
}

crate::instruction_accounts! {
    /// Accounts of `commit_result`.
    pub struct CommitResultAccounts {
        /// The winning provider's owner.
        owner: signer,
        /// The job's market (challenge window).
        market: readonly,
        /// The job.
        job: writable,
        /// The winning bid, which records the commitment.
        bid: writable,
    }
}

/// Checks the root, and that this job's results are committed in the open (not on the machine,
/// not sealed); the winner itself `load_winner` checks.
#[inline(always)]
fn validate(job: &Job, args: &CommitResultArgs) -> Result<()> {
    require(args.output_root != [0u8; 32], ErrorCode::InvalidOutputRoot)?;
    let mode = job.mode.get().ok_or(ErrorCode::InvalidAccountData)?;
    require(!mode.is_machine() && !job.sealed_results(), ErrorCode::WrongCommitInstruction)
}

pub fn process(ctx: &Context) -> Result<()> {
    let ix = CommitResultAccounts::parse(ctx.accounts)?;
    let args = parse_args::<CommitResultArgs>(ctx.data)?;
    let now = current_slot()?;
    let (mut job_view, mut bid_view) = (ix.job, ix.bid);
    let views = WinnerViews { owner: &ix.owner, market: &ix.market, job: &mut job_view, bid: &mut bid_view };
    let mut winner = load_winner(views, ctx.program_id)?;
    validate(&winner.job, args)?;

    winner.record_commit(now)?;
    let bid = &mut winner.bid;
    bid.output_root = args.output_root;
    bid.result_uri_hash = args.result_uri_hash;
    bid.final_state_hash = args.final_state_hash;
    bid.steps = args.steps;
    winner.invariant()?;
    let bid = &winner.bid;

    ResultCommitted {
        job: bid.job,
        provider: bid.provider,
        output_root: args.output_root,
        final_state_hash: args.final_state_hash,
        steps: args.steps,
    }
    .emit();
    Ok(())
}
