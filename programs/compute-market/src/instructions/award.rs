//! `award`: anyone closes a job's auction once bidding (and revealing) is over, or at once when
//! enough bids meet the instant price. The winners are the job's best ranked bids, in order, so
//! a keeper can award no one else; their bids are passed as the remaining accounts.

use crate::accounts::{load_mut, parse_args, Context};
use crate::errors::{require, ErrorCode, Result};
use crate::events::{JobAwarded, WinnerSelected};
use crate::layout::{Stored, U64};
use crate::runtime::current_slot;
use crate::state::{Bid, BidStatus, Job, Market};
use pinocchio::{AccountView, Address};

crate::pod_struct! {
    /// `award` takes no arguments.
    pub struct AwardArgs {}
}

crate::instruction_accounts! {
    /// Accounts of `award`; then the winning bids, best first (remaining accounts).
    pub struct AwardAccounts {
        /// Whoever cranks the award.
        cranker: signer,
        /// The job's market, whose average price is updated.
        market: writable,
        /// The job.
        job: writable,
    }
}

/// Checks that the job is this market's and due for its award, and that a bid came for every
/// seat; returns how many win.
#[inline(always)]
fn validate(ix: &AwardAccounts, job: &Job, bids: &[AccountView], now: u64) -> Result<usize> {
    require(&job.market == ix.market.address(), ErrorCode::MarketMismatch)?;
    job.check_award(now)?;
    let winners = job.replication as usize;
    require(bids.len() >= winners, ErrorCode::WinnersMissing)?;
    Ok(winners)
}

/// Checks that `bid` is the job's `rank`-th ranked bid and of this incarnation of the job; each
/// round adds the statuses it accepts (`award` and `award_seat` share this).
#[inline(always)]
pub(crate) fn require_ranked(job_address: &Address, job: &Job, bid: &Bid, rank: usize) -> Result<()> {
    let expected = job.auction.at(rank).ok_or(ErrorCode::NotEnoughBids)?.provider;
    require(&bid.job == job_address && bid.provider == expected, ErrorCode::WrongWinner)?;
    require(bid.of_incarnation(job), ErrorCode::StaleBid)
}

/// Marks `bid` won at `price` from `awarded_slot`, counts the price in the market's average and
/// says so (`award` and `award_seat` share this).
#[inline(always)]
pub(crate) fn select_winner(market: &mut Market, job: &Job, bid: &mut Bid, price: u64, awarded_slot: U64) -> Result<()> {
    bid.status = Stored::new(BidStatus::Won);
    bid.awarded_price = U64::new(price);
    bid.awarded_slot = awarded_slot;
    market.record_clearing_price(price, &job.requirements)?;
    bid.invariant()?;
    WinnerSelected { job: bid.job, provider: bid.provider, price: U64::new(price), market_ewma_price: market.ewma_price }.emit();
    Ok(())
}

/// Checks that `bid` is the awarded job's `rank`-th best, of this incarnation and unsealed.
#[inline(always)]
fn validate_winner(ix: &AwardAccounts, job: &Job, bid: &Bid, rank: usize) -> Result<()> {
    require_ranked(ix.job.address(), job, bid, rank)?;
    // A ranked bid is never sealed; an earlier round's statuses are replaced.
    require(bid.status()? != BidStatus::Sealed, ErrorCode::WrongWinner)
}

pub fn process(ctx: &Context) -> Result<()> {
    let program_id = ctx.program_id;
    let ix = AwardAccounts::parse(ctx.accounts)?;
    parse_args::<AwardArgs>(ctx.data)?;
    let now = current_slot()?;
    let (mut market_view, mut job_view) = (ix.market, ix.job);
    let mut market = load_mut::<Market>(&mut market_view, program_id)?;
    let mut job = load_mut::<Job>(&mut job_view, program_id)?;
    let bids = ctx.accounts.get(AwardAccounts::COUNT..).unwrap_or(&[]);
    let winners = validate(&ix, &job, bids, now)?;
    job.award(now, market.params.start_window_slots.get())?;

    for (rank, view) in bids.iter().take(winners).enumerate() {
        let mut bid_view = *view;
        let mut bid = load_mut::<Bid>(&mut bid_view, program_id)?;
        validate_winner(&ix, &job, &bid, rank)?;
        select_winner(&mut market, &job, &mut bid, job.award_price(rank), job.progress.awarded_slot)?;
    }
    job.invariant()?;
    market.invariant()?;

    JobAwarded {
        job: *ix.job.address(),
        winners: job.replication,
        start_deadline_slot: job.progress.start_deadline_slot,
        commit_deadline_slot: job.progress.commit_deadline_slot,
    }
    .emit();
    Ok(())
}
