//! `commit_verifiable`: a running winner of a verifiable job posts the machine's final state.
//! The program checks what it can without running the job: the state is stopped (or at the job's
//! step limit) and its memory root holds the claimed output root (two sibling hashes). Whether the state is the right one is
//! what a dispute decides.

use super::commit_winner::{load_winner, WinnerViews};
use crate::accounts::{parse_args, Context};
use crate::errors::{require, ErrorCode, Result};
use crate::events::ResultCommitted;
use crate::layout::U64;
use crate::runtime::current_slot;
use crate::state::Job;
use vm_core::commit::output_in_memory;
use vm_core::state::{hash_state, Core, Status, STATE_BYTES};

crate::pod_struct! {
    /// Arguments of `commit_verifiable`.
    pub struct CommitVerifiableArgs {
        /// The final state blob (173 bytes): pc, registers, memory root, steps, status, exit code.
        pub final_state: [u8; STATE_BYTES],
        /// Root of the final memory's output quarter.
        pub output_root: [u8; 32],
        /// The output root's sibling: the heap quarter's root.
        pub heap_root: [u8; 32],
        /// The sibling one level up: the node over the code and input quarters.
        pub low_node: [u8; 32],
        /// sha256 of the URI the outputs are served at.
        pub result_uri_hash: [u8; 32],
    }
}

crate::instruction_accounts! {
    /// Accounts of `commit_verifiable`.
    pub struct CommitVerifiableAccounts {
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

/// A final state's steps, when it is a machine after at least one step and at most `max_steps`,
/// stopped or else exactly at the limit, whose memory holds `output_root`.
#[inline(always)]
fn check_final_state(args: &CommitVerifiableArgs, max_steps: u64) -> Result<u64> {
    let state: &[u8; STATE_BYTES] = &args.final_state;
    let (core, memory_root) = Core::decode(state).ok_or(ErrorCode::InvalidFinalState)?;
    let ended = core.status != Status::Running || core.steps == max_steps;
    require(ended && core.steps >= 1 && core.steps <= max_steps, ErrorCode::InvalidFinalState)?;
    require(
        output_in_memory(&memory_root, &args.output_root, &args.heap_root, &args.low_node),
        ErrorCode::OutputNotInFinalState,
    )?;
    Ok(core.steps)
}

/// Checks that this job runs on the machine and that the final state ended it with the output in
/// memory; returns its steps. The winner itself `load_winner` checks.
#[inline(always)]
fn validate(job: &Job, args: &CommitVerifiableArgs) -> Result<u64> {
    let mode = job.mode.get().ok_or(ErrorCode::InvalidAccountData)?;
    require(mode.is_machine(), ErrorCode::WrongCommitInstruction)?;
    check_final_state(args, job.max_steps.get())
}

pub fn process(ctx: &Context) -> Result<()> {
    let ix = CommitVerifiableAccounts::parse(ctx.accounts)?;
    let args = parse_args::<CommitVerifiableArgs>(ctx.data)?;
    let now = current_slot()?;
    let (mut job_view, mut bid_view) = (ix.job, ix.bid);
    let views = WinnerViews { owner: &ix.owner, market: &ix.market, job: &mut job_view, bid: &mut bid_view };
    let mut winner = load_winner(views, ctx.program_id)?;
    let steps = validate(&winner.job, args)?;
    let final_state_hash = hash_state(&args.final_state);

    winner.record_commit(now)?;
    let bid = &mut winner.bid;
    bid.output_root = args.output_root;
    bid.result_uri_hash = args.result_uri_hash;
    bid.final_state_hash = final_state_hash;
    bid.steps = U64::new(steps);
    winner.invariant()?;
    let bid = &winner.bid;

    ResultCommitted {
        job: bid.job,
        provider: bid.provider,
        output_root: args.output_root,
        final_state_hash,
        steps: U64::new(steps),
    }
    .emit();
    Ok(())
}
