//! `award_seat`: anyone closes a lease's seat round once its bidding is over. Its best ranked
//! bids win the seats, in order, each at its own price, and must `start_seat` within the lease's
//! start window counted from now; seats no bid came for (or every seat, if the lease paused
//! meanwhile) are given up. The winning bids are passed as the remaining accounts; the ranking
//! is emptied, so the round's losing bids are free to leave.

use crate::accounts::{load_mut, parse_args, Context};
use crate::errors::{require, ErrorCode, Result};
use super::award::{require_ranked, select_winner};
use crate::events::SeatsAwarded;
use crate::layout::U64;
use crate::math::SafeMath;
use crate::runtime::current_slot;
use crate::state::{Bid, BidStatus, Job, JobState, Market, Service};

crate::pod_struct! {
    /// `award_seat` takes no arguments.
    pub struct AwardSeatArgs {}
}

crate::instruction_accounts! {
    /// Accounts of `award_seat`; then the winning bids, best first (remaining accounts).
    pub struct AwardSeatAccounts {
        /// Whoever cranks the award.
        cranker: signer,
        /// The lease's market, whose average price is updated.
        market: writable,
        /// The lease's job, whose ranking holds the round's bids.
        job: writable,
        /// The lease's terms, which hold the seat round.
        service: writable,
    }
}

#[inline(always)]
fn validate(ix: &AwardSeatAccounts, job: &Job, service: &Service) -> Result<()> {
    require(&job.market == ix.market.address(), ErrorCode::MarketMismatch)?;
    job.require_service()?;
    require(service.job == *ix.job.address() && service.of_incarnation(job.incarnation.get()), ErrorCode::ServiceMismatch)?;
    require(job.state()? == JobState::Running, ErrorCode::InvalidJobState)
}

/// Checks that `bid` is the round's `rank`-th best, of this incarnation and not yet assigned.
#[inline(always)]
fn validate_winner(ix: &AwardSeatAccounts, job: &Job, bid: &Bid, rank: usize) -> Result<()> {
    require_ranked(ix.job.address(), job, bid, rank)?;
    // A running lease ranks only its open round's bids, all still unassigned.
    require(bid.status()? == BidStatus::Active, ErrorCode::WrongWinner)
}

#[inline(never)]
pub fn process(ctx: &Context) -> Result<()> {
    let program_id = ctx.program_id;
    let ix = AwardSeatAccounts::parse(ctx.accounts)?;
    parse_args::<AwardSeatArgs>(ctx.data)?;
    let now = current_slot()?;
    let (mut market_view, mut job_view, mut service_view) = (ix.market, ix.job, ix.service);
    let mut market = load_mut::<Market>(&mut market_view, program_id)?;
    let mut job = load_mut::<Job>(&mut job_view, program_id)?;
    let mut service = load_mut::<Service>(&mut service_view, program_id)?;
    validate(&ix, &job, &service)?;
    let seats = service.open_seats;
    let awarded = service.award_seats(now, job.auction.ranked().len())?;
    let bids = ctx.accounts.get(AwardSeatAccounts::COUNT..).unwrap_or(&[]);
    require(bids.len() >= awarded as usize, ErrorCode::WinnersMissing)?;

    for (rank, view) in bids.iter().take(awarded as usize).enumerate() {
        let mut bid_view = *view;
        let mut bid = load_mut::<Bid>(&mut bid_view, program_id)?;
        validate_winner(&ix, &job, &bid, rank)?;
        // Open-price: each seat's winner is paid its own bid.
        let price = bid.price.get();
        select_winner(&mut market, &job, &mut bid, price, U64::new(now))?;
    }
    job.auction.clear();
    job.invariant()?;
    service.invariant()?;
    market.invariant()?;
    SeatsAwarded { job: *ix.job.address(), awarded, dropped: seats.safe_sub(awarded)?, start_deadline_slot: U64::new(job.seat_start_deadline(now)?) }.emit();
    Ok(())
}
