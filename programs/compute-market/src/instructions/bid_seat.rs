//! `bid_seat`: a provider offers to fill a seat of a running lease, while the seat round a
//! replacement opened takes bids. Seat bids are open (their price is known, at most the lease's
//! highest rate) and lock stake as any bid; a ranked one binds until `award_seat` closes the
//! round.

use super::place_bid::NewBid;
use crate::accounts::{load, load_mut, parse_args, Context};
use crate::errors::{require, ErrorCode, Result};
use crate::layout::U64;
use crate::runtime::current_slot;
use crate::state::{Job, JobState, Market, Provider, Service};

crate::pod_struct! {
    /// Arguments of `bid_seat`.
    pub struct BidSeatArgs {
        /// The rate asked per slot, at most the lease's highest.
        pub price: U64,
    }
}

crate::instruction_accounts! {
    /// Accounts of `bid_seat`.
    pub struct BidSeatAccounts {
        /// The provider's owner; pays the bid's rent.
        owner: signer_writable,
        /// The bidding provider; its stake is locked.
        provider: writable,
        /// The lease's market.
        market: readonly,
        /// The lease's job.
        job: writable,
        /// The lease's terms, which hold the seat round.
        service: readonly,
        /// The bid PDA `["bid", job, provider]`, created here.
        bid: writable,
        system_program: program = pinocchio_system::ID,
    }
}

#[inline(always)]
fn validate(ix: &BidSeatAccounts, provider: &Provider, market: &Market, job: &Job, service: &Service, price: u64, now: u64) -> Result<()> {
    require(ix.owner.address() == &provider.owner, ErrorCode::NotProviderOwner)?;
    require(&provider.market == ix.market.address() && &job.market == ix.market.address(), ErrorCode::MarketMismatch)?;
    job.require_service()?;
    require(service.job == *ix.job.address() && service.of_incarnation(job.incarnation.get()), ErrorCode::ServiceMismatch)?;
    require(job.state()? == JobState::Running, ErrorCode::InvalidJobState)?;
    service.check_seat_bidding(now)?;
    require(job.admits(&provider.spec), ErrorCode::RequirementsNotMet)?;
    require(provider.bonded_stake()? >= market.params.min_stake.get(), ErrorCode::BelowMinimumStake)?;
    require(price > 0 && price <= job.max_price.get(), ErrorCode::PriceAboveMax)
}

#[inline(never)]
pub fn process(ctx: &Context) -> Result<()> {
    let program_id = ctx.program_id;
    let ix = BidSeatAccounts::parse(ctx.accounts)?;
    let args = parse_args::<BidSeatArgs>(ctx.data)?;
    let now = current_slot()?;
    let (mut provider_view, mut job_view) = (ix.provider, ix.job);
    let mut provider = load_mut::<Provider>(&mut provider_view, program_id)?;
    let market = load::<Market>(&ix.market, program_id)?;
    let mut job = load_mut::<Job>(&mut job_view, program_id)?;
    let service = load::<Service>(&ix.service, program_id)?;
    validate(&ix, &provider, &market, &job, &service, args.price.get(), now)?;
    let seat = NewBid { owner: &ix.owner, provider: &ix.provider, job: &ix.job, bid: &ix.bid, price: args.price, commitment: [0u8; 32], program_id, now };
    seat.create(&mut provider, &market, &mut job)
}
