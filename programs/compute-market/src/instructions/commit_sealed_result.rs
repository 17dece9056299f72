//! `commit_sealed_result`: a running winner of a replicated job with several winners posts its
//! result sealed (`sha256("result" ‖ output root ‖ salt ‖ provider)`) before the commit deadline.
//! Roots are revealed (`reveal_result`) only once every winner has committed, so none can copy.

use crate::accounts::{load, load_mut, parse_args, Context};
use crate::errors::{require, ErrorCode, Result};
use crate::events::ResultCommitted;
use crate::layout::U64;
use crate::runtime::current_slot;
use crate::state::{Bid, BidStatus, Job, Market};

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

pub fn process(ctx: &Context) -> Result<()> {
    let program_id = ctx.program_id;
    let ix = CommitSealedResultAccounts::parse(ctx.accounts)?;
    let args = parse_args::<CommitSealedResultArgs>(ctx.data)?;
    let now = current_slot()?;
    let (mut job_view, mut bid_view) = (ix.job, ix.bid);
    let market = load::<Market>(&ix.market, program_id)?;
    let mut job = load_mut::<Job>(&mut job_view, program_id)?;
    let mut bid = load_mut::<Bid>(&mut bid_view, program_id)?;
    require(ix.owner.address() == &bid.owner, ErrorCode::NotBidOwner)?;
    bid.check_job(ix.job.address(), &job)?;
    require(&job.market == ix.market.address(), ErrorCode::MarketMismatch)?;
    require(job.sealed_results(), ErrorCode::WrongCommitInstruction)?;
    require(args.commitment != [0u8; 32], ErrorCode::InvalidResultCommitment)?;

    bid.advance(&job, BidStatus::Started, BidStatus::Committed)?;
    bid.committed_slot = U64::new(now);
    bid.result_commitment = args.commitment;
    bid.result_uri_hash = args.result_uri_hash;
    job.record_commit(now, market.params.challenge_window_slots.get())?;
    job.invariant()?;
    bid.invariant()?;

    // The root stays hidden: the event carries zeros until `ResultRevealed`.
    ResultCommitted { job: bid.job, provider: bid.provider, output_root: [0u8; 32], final_state_hash: [0u8; 32], steps: U64::new(0) }.emit();
    Ok(())
}
