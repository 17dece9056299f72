//! `withdraw_bid`: a provider takes back a bid that can no longer win (or a job that ended),
//! releasing its stake lock. A bid ranked among an open job's best is binding, a winning one
//! is the provider's assignment, a refuted one stays until `finalize` (or the last game of a
//! refuted verifiable job) closes it, and a sealed bid
//! left unrevealed once bidding closed forfeits part of its lock to the treasury (so selective
//! revealing, with a last look at the others' reveals, cannot steer the clearing price for free).
//! A bid of an earlier incarnation of the job (closed, then posted again at the same address)
//! leaves as if its job were gone.

use crate::accounts::{is_live, load, load_mut, parse_args, Context};
use crate::errors::{require, ErrorCode, Result};
use crate::events::BidWithdrawn;
use crate::layout::U64;
use crate::math::{bps_of, SafeMath};
use crate::pda::close_program_account;
use crate::runtime::current_slot;
use crate::state::seeds::ProviderSeeds;
use crate::state::{Bid, BidStatus, Config, Job, JobState, Market, Provider};
use crate::token::{expect_token_account, transfer, TOKEN_PROGRAM_ID};
use pinocchio::cpi::Signer;

crate::pod_struct! {
    /// `withdraw_bid` takes no arguments.
    pub struct WithdrawBidArgs {}
}

crate::instruction_accounts! {
    /// Accounts of `withdraw_bid`.
    pub struct WithdrawBidAccounts {
        /// The provider's owner; receives the bid's rent.
        owner: signer_writable,
        /// The provider, whose lock is released.
        provider: writable,
        /// The provider's stake vault (a forfeit leaves from it).
        vault: writable,
        /// The protocol config (treasury).
        config: readonly,
        /// The provider's market (forfeit rate).
        market: readonly,
        /// The job bid on; may already be closed.
        job: writable,
        /// The bid, closed here.
        bid: writable,
        /// The treasury's token account of the stake mint.
        treasury_stake_token: writable,
        token_program: program = TOKEN_PROGRAM_ID,
    }
}

/// Checks ownership and that the bid may leave; returns the part of its lock it forfeits.
#[inline(always)]
fn validate(ix: &WithdrawBidAccounts, provider: &Provider, config: &Config, bid: &Bid) -> Result<()> {
    require(ix.owner.address() == &bid.owner && provider.owner == bid.owner, ErrorCode::NotBidOwner)?;
    require(&bid.provider == ix.provider.address() && &bid.job == ix.job.address(), ErrorCode::BidMismatch)?;
    require(ix.vault.address() == &provider.vault, ErrorCode::InvalidVault)?;
    require(&provider.market == ix.market.address(), ErrorCode::MarketMismatch)?;
    expect_token_account(&ix.treasury_stake_token, &provider.stake_mint, &config.treasury).map(|_| ())
}

/// The share of the lock a withdrawn bid forfeits: the no-show rate for a sealed bid still
/// unrevealed once its reveal window opened (`bidding_closed`: the bid's job lives and its
/// bidding is over) or passed.
#[inline(always)]
fn forfeit(bid: &Bid, market: &Market, bidding_closed: bool, now: u64) -> Result<u64> {
    let unrevealed = bid.status()? == BidStatus::Sealed && (bidding_closed || now > bid.reveal_by_slot.get());
    if unrevealed {
        bps_of(bid.locked.get(), market.params.slash_no_show_bps.get())
    } else {
        Ok(0)
    }
}

/// While the bid's job lives: a winner cannot leave, nor a refuted bid (`finalize` needs it, or
/// the job's open games do), nor a ranked bid of an open auction or of a lease's open seat
/// round. Returns whether the job's
/// bidding is over.
#[inline(always)]
fn check_job(job: &Job, bid: &Bid, now: u64) -> Result<bool> {
    let bound = bid.holds_award(job)? || bid.refuted_in(job)? || bid.awaits_games_in(job)?;
    require(!bound, ErrorCode::BidHoldsAward)?;
    let ranked_and_open = job.awards_ranked()? && job.auction.position_of(&bid.provider).is_some();
    require(!ranked_and_open, ErrorCode::BidIsRanked)?;
    let open = job.state()? == JobState::Open;
    Ok(!open || now > job.bid_deadline_slot.get())
}

pub fn process(ctx: &Context) -> Result<()> {
    let program_id = ctx.program_id;
    let ix = WithdrawBidAccounts::parse(ctx.accounts)?;
    parse_args::<WithdrawBidArgs>(ctx.data)?;
    let now = current_slot()?;
    let (mut provider_view, mut bid_view, mut job_view) = (ix.provider, ix.bid, ix.job);

    let (locked, forfeit, job, provider_address, signer) = {
        let mut provider = load_mut::<Provider>(&mut provider_view, program_id)?;
        let bid = load::<Bid>(&bid_view, program_id)?;
        let config = load::<Config>(&ix.config, program_id)?;
        let market = load::<Market>(&ix.market, program_id)?;
        validate(&ix, &provider, &config, &bid)?;
        let mut bidding_closed = false;
        if is_live::<Job>(&job_view, program_id) {
            let mut job = load_mut::<Job>(&mut job_view, program_id)?;
            if bid.of_incarnation(&job) {
                bidding_closed = check_job(&job, &bid, now)?;
                // A losing bid may leave after the award; it must not stay ranked, or a reopened
                // auction would count a bid that no longer exists.
                job.auction.remove(&bid.provider);
                job.record_bid_withdrawn();
                job.invariant()?;
            }
        }
        let forfeit = forfeit(&bid, &market, bidding_closed, now)?;
        let locked = bid.locked.get();
        provider.unlock(locked.safe_sub(forfeit)?)?;
        if forfeit > 0 {
            provider.slash(forfeit)?;
        }
        provider.invariant()?;
        (locked, forfeit, bid.job, bid.provider, ProviderSeeds::of(&provider))
    };

    if forfeit > 0 {
        let seeds = signer.signer();
        transfer(&ix.vault, &ix.treasury_stake_token, &ix.provider, forfeit, &[Signer::from(&seeds)])?;
    }
    BidWithdrawn { job, provider: provider_address, released: U64::new(locked.safe_sub(forfeit)?), forfeited: U64::new(forfeit) }.emit();
    let mut owner_view = ix.owner;
    close_program_account(&mut bid_view, &mut owner_view)
}
