//! Shared by `commit_result`, `commit_sealed_result` and `commit_verifiable`: the running winner
//! of the job, checked the same way before any of them records what it commits, and the record of
//! the commitment itself (the bid committed now, the job's challenge window opened).

use crate::accounts::{load, load_mut};
use crate::errors::{require, ErrorCode, Result};
use crate::layout::U64;
use crate::state::{Bid, BidStatus, Job, Market};
use pinocchio::account::{Ref, RefMut};
use pinocchio::AccountView;

/// The market, job and bid of a commit, loaded and checked against each other.
pub struct Winner<'a> {
    pub market: Ref<'a, Market>,
    pub job: RefMut<'a, Job>,
    pub bid: RefMut<'a, Bid>,
}

/// The four accounts every commit takes, in the order they declare them.
pub struct WinnerViews<'a> {
    pub owner: &'a AccountView,
    pub market: &'a AccountView,
    pub job: &'a mut AccountView,
    pub bid: &'a mut AccountView,
}

/// Checks that the signer owns the bid, that the bid is this incarnation's of the job, and that
/// the job is the market's.
#[inline(always)]
fn validate(owner: &AccountView, market: &AccountView, job_address: &pinocchio::Address, job: &Job, bid: &Bid) -> Result<()> {
    require(owner.address() == &bid.owner, ErrorCode::NotBidOwner)?;
    bid.check_job(job_address, job)?;
    require(&job.market == market.address(), ErrorCode::MarketMismatch)?;
    job.require_batch()
}

/// Loads the commit's market, job and bid, and validates them.
#[inline(always)]
pub fn load_winner<'a>(views: WinnerViews<'a>, program_id: &pinocchio::Address) -> Result<Winner<'a>> {
    let job_address = *views.job.address();
    let market = load::<Market>(views.market, program_id)?;
    let job = load_mut::<Job>(views.job, program_id)?;
    let bid = load_mut::<Bid>(views.bid, program_id)?;
    validate(views.owner, views.market, &job_address, &job, &bid)?;
    Ok(Winner { market, job, bid })
}

impl Winner<'_> {
    /// Moves the bid from started to committed at `now` and opens the job's challenge window.
    #[inline(always)]
    pub fn record_commit(&mut self, now: u64) -> Result<()> {
        self.bid.advance(&self.job, BidStatus::Started, BidStatus::Committed)?;
        self.bid.committed_slot = U64::new(now);
        self.job.record_commit(now, self.market.params.challenge_window_slots.get())
    }

    /// The invariants of the two accounts a commit changed.
    #[inline(always)]
    pub fn invariant(&self) -> Result<()> {
        self.job.invariant()?;
        self.bid.invariant()
    }
}
