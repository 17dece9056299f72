//! `end_replica`: the consumer or its watchdog ends a replica at once (no slash: the chain
//! cannot tell who is right about health, and unacknowledged time is never paid anyway); the
//! replica's owner ends its own with one period's notice, serving until then. The owner keeps
//! one period after the end to claim what was acknowledged, then `close_replica` releases its
//! stake lock. Replicas are ended once every one started (the job running); before that the
//! start deadline and the no-show crank decide. The consumer's side may ask for a replacement:
//! the seat is put up in a seat round (`bid_seat`, `award_seat`, `start_seat`) whose bidding
//! lasts the market's bid window.

use crate::accounts::{load, load_mut, parse_args, Context};
use crate::errors::{require, ErrorCode, Result};
use crate::events::ReplicaEnded;
use crate::events::SeatRequested;
use crate::layout::{Bool, U64};
use crate::math::SafeMath;
use crate::runtime::current_slot;
use crate::state::{Bid, BidStatus, Job, JobState, Market, Service};

crate::pod_struct! {
    /// Arguments of `end_replica`.
    pub struct EndReplicaArgs {
        /// Put the seat up for a replacement (the consumer or the watchdog only).
        pub replace: Bool,
    }
}

crate::instruction_accounts! {
    /// Accounts of `end_replica`.
    pub struct EndReplicaAccounts {
        /// The consumer, the service's watchdog, or the replica's owner.
        signer: signer,
        /// The service's market (the seat round's bid window).
        market: readonly,
        /// The service's job.
        job: readonly,
        /// The service's terms; a replacement opens its seat round.
        service: writable,
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
fn validate(ix: &EndReplicaAccounts, job: &Job, service: &Service, bid: &Bid, replace: bool) -> Result<EndedBy> {
    job.require_service()?;
    require(&job.market == ix.market.address(), ErrorCode::MarketMismatch)?;
    require(service.job == *ix.job.address() && service.of_incarnation(job.incarnation.get()), ErrorCode::ServiceMismatch)?;
    bid.check_job(ix.job.address(), job)?;
    require(job.state()? == JobState::Running, ErrorCode::InvalidJobState)?;
    require(bid.holds_award(job)? && bid.status()? == BidStatus::Started, ErrorCode::NotAssignedWinner)?;
    require(bid.ended_slot.get() == 0, ErrorCode::ReplicaEnded)?;
    let signer = ix.signer.address();
    if signer == &job.consumer || signer == &service.watchdog {
        Ok(EndedBy::Consumer)
    } else if signer == &bid.owner {
        require(!replace, ErrorCode::ReplacementByOwner)?;
        Ok(EndedBy::Owner)
    } else {
        Err(ErrorCode::NotServiceParty.into())
    }
}

#[inline(never)]
pub fn process(ctx: &Context) -> Result<()> {
    let program_id = ctx.program_id;
    let ix = EndReplicaAccounts::parse(ctx.accounts)?;
    let args = parse_args::<EndReplicaArgs>(ctx.data)?;
    let replace = args.replace.get();
    let now = current_slot()?;
    let job = load::<Job>(&ix.job, program_id)?;
    let market = load::<Market>(&ix.market, program_id)?;
    let (mut service_view, mut bid_view) = (ix.service, ix.bid);
    let mut service = load_mut::<Service>(&mut service_view, program_id)?;
    let mut bid = load_mut::<Bid>(&mut bid_view, program_id)?;
    let by = validate(&ix, &job, &service, &bid, replace)?;
    // The owner's notice: it serves (and may be acknowledged) for one more period.
    let ended = if by == EndedBy::Owner { now.safe_add(service.ack_period_slots.get())? } else { now };
    bid.ended_slot = U64::new(ended.max(1));
    bid.invariant()?;
    ReplicaEnded { job: *ix.job.address(), provider: bid.provider, ended_slot: bid.ended_slot, by_owner: Bool::new(by == EndedBy::Owner) }.emit();
    if replace {
        service.request_seat(now, market.params.bid_window_slots.get(), job.replication)?;
        service.invariant()?;
        SeatRequested { job: *ix.job.address(), replaced: bid.provider, open_seats: service.open_seats, bid_deadline_slot: service.seat_deadline_slot }.emit();
    }
    Ok(())
}
