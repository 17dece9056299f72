//! `start_job`: a winner acknowledges its award within the start window.

use crate::accounts::{load_mut, parse_args, Context};
use crate::errors::{require, ErrorCode, Result};
use crate::events::JobStarted;
use crate::layout::U64;
use crate::runtime::current_slot;
use crate::state::{Bid, BidStatus, Job};

crate::pod_struct! {
    /// `start_job` takes no arguments.
    pub struct StartJobArgs {}
}

crate::instruction_accounts! {
    /// Accounts of `start_job`.
    pub struct StartJobAccounts {
        /// The winning provider's owner.
        owner: signer,
        /// The job.
        job: writable,
        /// The winning bid.
        bid: writable,
    }
}

/// Checks that the signer owns the bid and that the bid is this job's, of its incarnation.
#[inline(always)]
fn validate(ix: &StartJobAccounts, job: &Job, bid: &Bid) -> Result<()> {
    require(ix.owner.address() == &bid.owner, ErrorCode::NotBidOwner)?;
    bid.check_job(ix.job.address(), job)
}

pub fn process(ctx: &Context) -> Result<()> {
    let program_id = ctx.program_id;
    let ix = StartJobAccounts::parse(ctx.accounts)?;
    parse_args::<StartJobArgs>(ctx.data)?;
    let now = current_slot()?;
    let (mut job_view, mut bid_view) = (ix.job, ix.bid);
    let mut job = load_mut::<Job>(&mut job_view, program_id)?;
    let mut bid = load_mut::<Bid>(&mut bid_view, program_id)?;
    validate(&ix, &job, &bid)?;

    bid.advance(&job, BidStatus::Won, BidStatus::Started)?;
    bid.started_slot = U64::new(now);
    job.record_start(now)?;
    job.invariant()?;
    bid.invariant()?;

    JobStarted { job: bid.job, provider: bid.provider }.emit();
    Ok(())
}
