//! `start_seat`: a seat winner acknowledges its award within the lease's start window counted
//! from the seat's award; from then on it is one of the lease's replicas, paid per acknowledged
//! slot like the first round's.

use crate::accounts::{load, load_mut, parse_args, Context};
use crate::errors::{require, ErrorCode, Result};
use crate::events::JobStarted;
use crate::layout::U64;
use crate::runtime::current_slot;
use crate::state::{Bid, BidStatus, Job, Service};

crate::pod_struct! {
    /// `start_seat` takes no arguments.
    pub struct StartSeatArgs {}
}

crate::instruction_accounts! {
    /// Accounts of `start_seat`.
    pub struct StartSeatAccounts {
        /// The seat winner's owner.
        owner: signer,
        /// The lease's job.
        job: readonly,
        /// The lease's terms, which count the seat as filled.
        service: writable,
        /// The winning seat bid.
        bid: writable,
    }
}

#[inline(always)]
fn validate(ix: &StartSeatAccounts, job: &Job, service: &Service, bid: &Bid, now: u64) -> Result<()> {
    require(ix.owner.address() == &bid.owner, ErrorCode::NotBidOwner)?;
    job.require_service()?;
    require(service.job == *ix.job.address() && service.of_incarnation(job.incarnation.get()), ErrorCode::ServiceMismatch)?;
    bid.check_job(ix.job.address(), job)?;
    job.check_seat_start(bid.awarded_slot.get(), now)
}

#[inline(never)]
pub fn process(ctx: &Context) -> Result<()> {
    let program_id = ctx.program_id;
    let ix = StartSeatAccounts::parse(ctx.accounts)?;
    parse_args::<StartSeatArgs>(ctx.data)?;
    let now = current_slot()?;
    let job = load::<Job>(&ix.job, program_id)?;
    let (mut service_view, mut bid_view) = (ix.service, ix.bid);
    let mut service = load_mut::<Service>(&mut service_view, program_id)?;
    let mut bid = load_mut::<Bid>(&mut bid_view, program_id)?;
    validate(&ix, &job, &service, &bid, now)?;
    bid.advance(&job, BidStatus::Won, BidStatus::Started)?;
    bid.started_slot = U64::new(now);
    service.record_seat_start()?;
    service.invariant()?;
    bid.invariant()?;
    JobStarted { job: bid.job, provider: bid.provider }.emit();
    Ok(())
}
