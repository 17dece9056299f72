//! Shared by `fail_no_show` and `fail_timeout`: a winner that missed its deadline is slashed by
//! the market's rate (a share to the consumer, the keeper's crank share and the rest to the
//! treasury, all in the stake mint), its bid is closed, and once every winner is accounted for the
//! job follows the consumer's failure policy: bidding reopens, or the consumer is refunded in
//! full. The failed provider pays for the crank, never the consumer. A lease's seat winner that
//! did not start is failed by `fail_no_show` too, with the lease's terms as the one remaining
//! account: its seat is given up and the lease runs on with its other replicas.

use crate::accounts::{load, load_mut, Context};
use crate::constants::FAIL_CRANK_SHARE_BPS;
use crate::errors::{require, ErrorCode, Result};
use crate::events::{JobRefunded, JobReopened, WinnerFailed};
use crate::layout::{Bool, U64};
use crate::math::{bps_of, SafeMath};
use crate::pda::close_program_account;
use crate::runtime::current_slot;
use crate::state::seeds::{JobSeeds, ProviderSeeds};
use crate::state::{Bid, BidStatus, Config, FailurePolicy, Job, JobState, Market, Provider, Service};
use crate::token::{close_vault, expect_token_account, transfer, TOKEN_PROGRAM_ID};
use pinocchio::cpi::Signer;
use pinocchio::Address;

crate::instruction_accounts! {
    /// Accounts of `fail_no_show` and `fail_timeout`.
    pub struct FailWinnerAccounts {
        /// The keeper cranking the deadline.
        keeper: signer,
        /// The keeper's stake-mint token account (its share of the slash).
        keeper_token: writable,
        /// The protocol config (treasury).
        config: readonly,
        /// The job's market (slash rates, windows).
        market: readonly,
        /// The job.
        job: writable,
        /// The job's escrow.
        escrow: writable,
        /// The job's consumer (rent on refund).
        consumer: writable,
        /// The consumer's payment-mint token account (refund).
        consumer_token: writable,
        /// The consumer's stake-mint token account (its share of the slash).
        consumer_stake_token: writable,
        /// The treasury's stake-mint token account (the rest of the slash).
        treasury_stake_token: writable,
        /// The failed winner's bid, closed here.
        bid: writable,
        /// The failed winner's provider.
        provider: writable,
        /// The provider's stake vault.
        vault: writable,
        /// The provider's owner (the bid's rent goes back to it).
        owner: writable,
        token_program: program = TOKEN_PROGRAM_ID,
    }
}

/// Which deadline was missed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Miss {
    /// Not started by the start deadline.
    NoShow,
    /// Not committed by the commit deadline.
    Timeout,
}

/// How the slash is split.
struct Slash {
    total: u64,
    to_consumer: u64,
    to_treasury: u64,
    to_keeper: u64,
    released: u64,
}

#[inline(always)]
fn validate(ix: &FailWinnerAccounts, config: &Config, job: &Job, bid: &Bid, provider: &Provider) -> Result<()> {
    require(&job.market == ix.market.address() && &provider.market == ix.market.address(), ErrorCode::MarketMismatch)?;
    require(ix.escrow.address() == &job.escrow, ErrorCode::InvalidVault)?;
    require(ix.consumer.address() == &job.consumer, ErrorCode::ConsumerMismatch)?;
    bid.check_job(ix.job.address(), job)?;
    require(&bid.provider == ix.provider.address(), ErrorCode::BidMismatch)?;
    require(ix.owner.address() == &bid.owner, ErrorCode::BidMismatch)?;
    require(ix.vault.address() == &provider.vault, ErrorCode::InvalidVault)?;
    expect_token_account(&ix.keeper_token, &provider.stake_mint, ix.keeper.address())?;
    expect_token_account(&ix.consumer_token, &job.payment_mint, &job.consumer)?;
    expect_token_account(&ix.consumer_stake_token, &provider.stake_mint, &job.consumer)?;
    expect_token_account(&ix.treasury_stake_token, &provider.stake_mint, &config.treasury).map(|_| ())
}

/// The deadline and the bid's step must match the crank; returns whether the bid is a seat.
#[inline(always)]
fn check_missed(job: &Job, bid: &Bid, miss: Miss, now: u64) -> Result<bool> {
    require(bid.holds_award(job)?, ErrorCode::NotAssignedWinner)?;
    let status = bid.status()?;
    match miss {
        Miss::NoShow if job.is_seat_award(bid.awarded_slot.get())? => {
            job.check_seat_no_show(bid.awarded_slot.get(), now)?;
            require(status == BidStatus::Won, ErrorCode::NotAssignedWinner)?;
            Ok(true)
        }
        Miss::NoShow => {
            job.check_no_show(now)?;
            require(status == BidStatus::Won, ErrorCode::NotAssignedWinner)?;
            Ok(false)
        }
        Miss::Timeout => {
            job.check_timeout(now)?;
            require(status != BidStatus::Committed, ErrorCode::NotAssignedWinner)?;
            Ok(false)
        }
    }
}

/// A seat winner's no-show gives its seat up on the lease's terms, passed after the accounts.
#[inline(always)]
fn give_up_seat(ctx: &Context, ix: &FailWinnerAccounts, job: &Job) -> Result<()> {
    let mut service_view = *ctx.accounts.get(FailWinnerAccounts::COUNT).ok_or(ErrorCode::NotEnoughAccounts)?;
    let mut service = load_mut::<Service>(&mut service_view, ctx.program_id)?;
    require(service.job == *ix.job.address() && service.of_incarnation(job.incarnation.get()), ErrorCode::ServiceMismatch)?;
    service.record_seat_no_show()?;
    service.invariant()
}

#[inline(always)]
fn slash_split(locked: u64, market: &Market, miss: Miss) -> Result<Slash> {
    let rate = if miss == Miss::NoShow { market.params.slash_no_show_bps.get() } else { market.params.slash_timeout_bps.get() };
    let total = bps_of(locked, rate)?;
    let to_consumer = bps_of(total, market.params.slash_consumer_share_bps.get())?;
    let rest = total.safe_sub(to_consumer)?;
    let to_keeper = bps_of(total, FAIL_CRANK_SHARE_BPS)?.min(rest);
    Ok(Slash { total, to_consumer, to_treasury: rest.safe_sub(to_keeper)?, to_keeper, released: locked.safe_sub(total)? })
}

pub fn process(ctx: &Context, miss: Miss) -> Result<()> {
    let program_id = ctx.program_id;
    let ix = FailWinnerAccounts::parse(ctx.accounts)?;
    let now = current_slot()?;
    let config = load::<Config>(&ix.config, program_id)?;
    let market = load::<Market>(&ix.market, program_id)?;
    let (mut job_view, mut provider_view) = (ix.job, ix.provider);

    // Slash the winner and update the job; every borrow ends before the transfers.
    let (slash, settled, policy, payment_mint, job_signer, provider_signer) = {
        let mut job = load_mut::<Job>(&mut job_view, program_id)?;
        let mut provider = load_mut::<Provider>(&mut provider_view, program_id)?;
        let bid = load::<Bid>(&ix.bid, program_id)?;
        validate(&ix, &config, &job, &bid, &provider)?;
        let seat = check_missed(&job, &bid, miss, now)?;
        let slash = slash_split(bid.locked.get(), &market, miss)?;
        provider.slash(slash.total)?;
        provider.unlock(slash.released)?;
        provider.record_failed();
        provider.invariant()?;
        job.auction.remove(&bid.provider);
        job.record_bid_withdrawn();
        if seat {
            give_up_seat(ctx, &ix, &job)?;
        }
        // A seat's no-show leaves the lease running: no failure policy applies.
        let settled = !seat && job.record_failure(miss == Miss::Timeout)?;
        let policy = job.on_failure.get().ok_or(ErrorCode::InvalidAccountData)?;
        if settled && policy == FailurePolicy::Reopen {
            job.reopen(now, market.params.bid_window_slots.get(), market.params.reveal_window_slots.get())?;
            JobReopened { job: *ix.job.address(), bid_deadline_slot: job.bid_deadline_slot }.emit();
        }
        if settled && policy == FailurePolicy::Refund {
            job.state.set(JobState::Failed);
        }
        job.invariant()?;
        (slash, settled, policy, job.payment_mint, JobSeeds::of(&job), ProviderSeeds::of(&provider))
    };

    let provider_seeds = provider_signer.signer();
    let vault_signer = [Signer::from(&provider_seeds)];
    if slash.to_consumer > 0 {
        transfer(&ix.vault, &ix.consumer_stake_token, &ix.provider, slash.to_consumer, &vault_signer)?;
    }
    if slash.to_treasury > 0 {
        transfer(&ix.vault, &ix.treasury_stake_token, &ix.provider, slash.to_treasury, &vault_signer)?;
    }
    if slash.to_keeper > 0 {
        transfer(&ix.vault, &ix.keeper_token, &ix.provider, slash.to_keeper, &vault_signer)?;
    }
    WinnerFailed {
        job: *ix.job.address(),
        provider: *ix.provider.address(),
        slashed: U64::new(slash.total),
        to_consumer: U64::new(slash.to_consumer),
        to_treasury: U64::new(slash.to_treasury),
        to_keeper: U64::new(slash.to_keeper),
        timed_out: Bool::new(miss == Miss::Timeout),
    }
    .emit();
    let refunded = settled && policy == FailurePolicy::Refund;
    if refunded {
        refund(&ix, &job_signer, &payment_mint)?;
    }

    // Lamports of closed accounts move only after the last CPI: the owner or the consumer may be
    // an account of those CPIs (a consumer that owns the failed provider, say).
    let (mut bid_view, mut owner_view) = (ix.bid, ix.owner);
    close_program_account(&mut bid_view, &mut owner_view)?;
    if refunded {
        let (mut job_view, mut consumer_view) = (ix.job, ix.consumer);
        close_program_account(&mut job_view, &mut consumer_view)?;
    }
    Ok(())
}

/// Refunds the consumer after a failure: the whole escrow, crank fee included (the failed
/// provider paid the keeper); closes the escrow (the job account is closed by the caller, after
/// every CPI).
#[inline(always)]
fn refund(ix: &FailWinnerAccounts, signer: &JobSeeds, payment_mint: &Address) -> Result<()> {
    let job_seeds = signer.signer();
    let job_signer = [Signer::from(&job_seeds)];
    let refunded = expect_token_account(&ix.escrow, payment_mint, ix.job.address())?;
    if refunded > 0 {
        transfer(&ix.escrow, &ix.consumer_token, &ix.job, refunded, &job_signer)?;
    }
    close_vault(&ix.escrow, &ix.consumer, &ix.job, Signer::from(&job_seeds))?;
    JobRefunded { job: *ix.job.address(), refunded: U64::new(refunded) }.emit();
    Ok(())
}
