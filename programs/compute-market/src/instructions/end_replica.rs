//! `end_replica`: the consumer or its watchdog ends a replica at once (no slash: the chain
//! cannot tell who is right about health, and unacknowledged time is never paid anyway); the
//! replica's owner ends its own with one period's notice, serving until then. The owner keeps
//! one period after the end to claim what was acknowledged, then `close_replica` releases its
//! stake lock. Replicas are ended once every one started (the job running); before that the
//! start deadline and the no-show crank decide.

use crate::accounts::{load, load_mut, parse_args, Context};
use crate::errors::{require, ErrorCode, Result};
use crate::events::ReplicaEnded;
use crate::layout::{Bool, U64};
use crate::math::SafeMath;
use crate::runtime::current_slot;
use crate::state::{Bid, BidStatus, Job, JobState, Service};

crate::pod_struct! {
    /// `end_replica` takes no arguments.
    pub struct EndReplicaArgs {}
}

crate::instruction_accounts! {
    /// Accounts of `end_replica`.
    pub struct EndReplicaAccounts {
        /// The consumer, the service's watchdog, or the replica's owner.
        signer: signer,
        /// The service's job.
        job: readonly,
        /// The service's terms.
        service: readonly,
        /// The replica's bid.
        bid: writable,
    }
}

/// Who ends the replica decides when it ends.
#[derive(Clone, Copy, PartialEq, Eq)]
enum EndedBy {
    Consumer,
    Owner,
}

#[inline(always)]
fn validate(ix: &EndReplicaAccounts, job: &Job, service: &Service, bid: &Bid) -> Result<EndedBy> {
    job.require_service()?;
    require(service.job == *ix.job.address() && service.of_incarnation(job.incarnation.get()), ErrorCode::ServiceMismatch)?;
    bid.check_job(ix.job.address(), job)?;
    require(job.state()? == JobState::Running, ErrorCode::InvalidJobState)?;
    require(bid.holds_award(job)? && bid.status()? == BidStatus::Started, ErrorCode::NotAssignedWinner)?;
    require(bid.ended_slot.get() == 0, ErrorCode::ReplicaEnded)?;
    let signer = ix.signer.address();
    if signer == &job.consumer || signer == &service.watchdog {
        Ok(EndedBy::Consumer)
    } else if signer == &bid.owner {
        Ok(EndedBy::Owner)
    } else {
        Err(ErrorCode::NotServiceParty.into())
    }
}

#[inline(never)]
pub fn process(ctx: &Context) -> Result<()> {
    let program_id = ctx.program_id;
    let ix = EndReplicaAccounts::parse(ctx.accounts)?;
    parse_args::<EndReplicaArgs>(ctx.data)?;
    let now = current_slot()?;
    let job = load::<Job>(&ix.job, program_id)?;
    let service = load::<Service>(&ix.service, program_id)?;
    let mut bid_view = ix.bid;
    let mut bid = load_mut::<Bid>(&mut bid_view, program_id)?;
    let by = validate(&ix, &job, &service, &bid)?;
    // The owner's notice: it serves (and may be acknowledged) for one more period.
    let ended = if by == EndedBy::Owner { now.safe_add(service.ack_period_slots.get())? } else { now };
    bid.ended_slot = U64::new(ended.max(1));
    bid.invariant()?;
    ReplicaEnded { job: *ix.job.address(), provider: bid.provider, ended_slot: bid.ended_slot, by_owner: Bool::new(by == EndedBy::Owner) }.emit();
    Ok(())
}
