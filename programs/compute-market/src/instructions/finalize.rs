//! `finalize`: once the challenge window has passed with no dispute, anyone settles the job:
//! each winner is paid its awarded price and unlocked, the treasury takes the protocol fee, the
//! cranking keeper its fee, the consumer the rest; every account of the job is closed and its
//! rent returned.
//!
//! - Replicated jobs with two or more winners (sealed results, revealed in the challenge window):
//!   the winners whose revealed output root is shared by a strict majority are paid; the others
//!   are lightly slashed (the market's no-show rate); a winner that never revealed is slashed
//!   hard (the market's timeout rate). Slashes go to the consumer (its share) and the treasury,
//!   in the stake mint. With no strict majority nobody is paid, every revealer is lightly
//!   slashed to the treasury alone and the consumer still pays the protocol fee on every
//!   winner's price: a consumer whose own winner breaks the majority pays for the result it
//!   keeps (README, threat table).
//! - Verifiable and refereed jobs: the winners must agree on the final state, or have played
//!   their referee game: the refuted winner is not paid and its share goes back to the consumer.

use crate::accounts::{load, load_mut, parse_args, Context};
use crate::errors::{require, ErrorCode, Result};
use crate::events::{JobFinalized, WinnerPaid, WinnerSlashed};
use crate::layout::{Bool, U64};
use crate::math::{bps_of, SafeMath};
use crate::pda::close_program_account;
use crate::runtime::current_slot;
use crate::state::seeds::{JobSeeds, ProviderSeeds};
use crate::state::{Bid, BidStatus, Config, Job, Market, Provider};
use crate::token::{close_vault, expect_token_account, transfer, TOKEN_PROGRAM_ID};
use pinocchio::cpi::Signer;
use crate::state::job::RANKED_BIDS;
use pinocchio::AccountView;

crate::pod_struct! {
    /// `finalize` takes no arguments.
    pub struct FinalizeArgs {}
}

crate::instruction_accounts! {
    /// Accounts of `finalize`; then, for each winner in award order, its bid, provider, the
    /// owner's payment-mint token account, the owner and the provider's stake vault (remaining
    /// accounts); for a job with sealed results (replicated, two or more winners) then the market,
    /// the consumer's and the treasury's stake-mint token accounts (slashes).
    pub struct FinalizeAccounts {
        /// The keeper cranking the settlement.
        keeper: signer,
        /// The keeper's payment-mint token account, paid the crank fee.
        keeper_token: writable,
        /// The protocol config (treasury).
        config: readonly,
        /// The job, closed here.
        job: writable,
        /// The job's escrow, emptied and closed here.
        escrow: writable,
        /// The job's consumer, who gets the rent back.
        consumer: writable,
        /// The consumer's payment-mint token account, refunded the rest.
        consumer_token: writable,
        /// The treasury's payment-mint token account, paid the protocol fee.
        treasury_token: writable,
        token_program: program = TOKEN_PROGRAM_ID,
    }
}

/// Accounts per winner among the remaining accounts.
const PER_WINNER: usize = 5;

/// What happens to one winner at settlement.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Paid its awarded price.
    Paid,
    /// Not paid, not slashed (refuted in a referee game and already slashed).
    Unpaid,
    /// Revealed, but no strict majority of the winners agreed: not paid, slashed at the market's
    /// no-show rate (to the treasury only), the protocol fee on its price still charged.
    NoMajority,
    /// In the minority of a replicated job: slashed at the market's no-show rate.
    Minority,
    /// Never revealed its sealed result: slashed at the market's timeout rate.
    Unrevealed,
}

/// The settlement-side checks of the fixed accounts.
#[inline(always)]
fn validate(ix: &FinalizeAccounts, config: &Config, job: &Job, now: u64) -> Result<()> {
    require(ix.escrow.address() == &job.escrow, ErrorCode::InvalidVault)?;
    require(ix.consumer.address() == &job.consumer, ErrorCode::ConsumerMismatch)?;
    expect_token_account(&ix.consumer_token, &job.payment_mint, &job.consumer)?;
    expect_token_account(&ix.treasury_token, &job.payment_mint, &config.treasury)?;
    expect_token_account(&ix.keeper_token, &job.payment_mint, ix.keeper.address())?;
    job.check_finalize(now)
}

/// What finalize needs of one winner's commitment.
#[derive(Clone, Copy)]
struct Commitment {
    /// The output root (container jobs) or final state hash (machine jobs) compared.
    key: [u8; 32],
    /// Lost a referee game: not paid, not compared.
    refuted: bool,
    /// Sealed results: whether the root was revealed.
    revealed: bool,
}

/// Checks one winner's accounts against the job; returns its commitment.
#[inline(always)]
fn check_winner(winner: &[AccountView], job: &Job, job_address: &pinocchio::Address, program_id: &pinocchio::Address) -> Result<Commitment> {
    let bid = load::<Bid>(&winner[0], program_id)?;
    bid.check_job(job_address, job)?;
    let status = bid.status()?;
    let refuted = bid.refuted_in(job)?;
    require(refuted || (bid.holds_award(job)? && status == BidStatus::Committed), ErrorCode::NotAssignedWinner)?;
    require(winner[1].address() == &bid.provider && winner[3].address() == &bid.owner, ErrorCode::BidMismatch)?;
    expect_token_account(&winner[2], &job.payment_mint, &bid.owner)?;
    let provider = load::<Provider>(&winner[1], program_id)?;
    require(winner[4].address() == &provider.vault, ErrorCode::InvalidVault)?;
    let machine = job.mode.get().is_some_and(|mode| mode.is_machine());
    let key = if machine { bid.final_state_hash } else { bid.output_root };
    Ok(Commitment { key, refuted, revealed: bid.revealed.get() })
}

/// Each winner's verdict, from all the commitments (at most `RANKED_BIDS`).
#[inline(always)]
fn verdicts(job: &Job, commitments: &[Commitment]) -> Result<[Verdict; RANKED_BIDS]> {
    let mut verdicts = [Verdict::Unpaid; RANKED_BIDS];
    if job.sealed_results() {
        // A strict majority of the winners revealed the same root.
        let count = |key: &[u8; 32]| commitments.iter().filter(|c| c.revealed && &c.key == key).count();
        let majority = commitments.iter().find(|c| c.revealed && 2 * count(&c.key) > commitments.len()).map(|c| c.key);
        for (verdict, commitment) in verdicts.iter_mut().zip(commitments) {
            *verdict = match (commitment.revealed, majority) {
                (false, _) => Verdict::Unrevealed,
                (true, Some(root)) if root == commitment.key => Verdict::Paid,
                (true, Some(_)) => Verdict::Minority,
                (true, None) => Verdict::NoMajority,
            };
        }
        return Ok(verdicts);
    }
    // Machine results must agree (a refuted one left out); a single container result is paid.
    let mut first: Option<[u8; 32]> = None;
    for (verdict, commitment) in verdicts.iter_mut().zip(commitments) {
        if commitment.refuted {
            continue;
        }
        require(*first.get_or_insert(commitment.key) == commitment.key, ErrorCode::ResultsDiffer)?;
        *verdict = Verdict::Paid;
    }
    Ok(verdicts)
}

/// The slash rate of a verdict, in bps of the bid's lock.
fn slash_rate(verdict: Verdict, market: Option<&Market>) -> Result<u16> {
    let rate = match verdict {
        Verdict::Minority | Verdict::NoMajority => market.ok_or(ErrorCode::WinnersMissing)?.params.slash_no_show_bps.get(),
        Verdict::Unrevealed => market.ok_or(ErrorCode::WinnersMissing)?.params.slash_timeout_bps.get(),
        Verdict::Paid | Verdict::Unpaid => 0,
    };
    Ok(rate)
}

pub fn process(ctx: &Context) -> Result<()> {
    let program_id = ctx.program_id;
    let ix = FinalizeAccounts::parse(ctx.accounts)?;
    parse_args::<FinalizeArgs>(ctx.data)?;
    let now = current_slot()?;
    let config = load::<Config>(&ix.config, program_id)?;
    let remaining = ctx.accounts.get(FinalizeAccounts::COUNT..).unwrap_or(&[]);

    let (signer, winners, fee_bps, crank_fee, verdicts, payment_mint, sealed, job_market) = {
        let mut job_view = ix.job;
        let mut job = load_mut::<Job>(&mut job_view, program_id)?;
        validate(&ix, &config, &job, now)?;
        let winners = job.replication as usize;
        require(remaining.len() / PER_WINNER >= winners && winners <= RANKED_BIDS, ErrorCode::WinnersMissing)?;
        let mut commitments = [Commitment { key: [0; 32], refuted: false, revealed: false }; RANKED_BIDS];
        for (i, winner) in remaining.chunks_exact(PER_WINNER).take(winners).enumerate() {
            // Each winner once: the bids are distinct PDAs, so distinct addresses suffice.
            let repeated = remaining.chunks_exact(PER_WINNER).take(i).any(|earlier| earlier[0].address() == winner[0].address());
            require(!repeated, ErrorCode::WinnersMissing)?;
            if let Some(slot) = commitments.get_mut(i) {
                *slot = check_winner(winner, &job, ix.job.address(), program_id)?;
            }
        }
        let verdicts = verdicts(&job, commitments.get(..winners).unwrap_or(&[]))?;
        job.state.set(crate::state::JobState::Finalized);
        (JobSeeds::of(&job), winners, job.protocol_fee_bps.get(), job.crank_fee.get(), verdicts, job.payment_mint, job.sealed_results(), job.market)
    };
    let job_seeds = signer.signer();
    let job_signer = [Signer::from(&job_seeds)];

    // Sealed results: the market (slash rates) and the stake-mint accounts the slashes go to.
    let tail = remaining.get(winners * PER_WINNER..).unwrap_or(&[]);
    let slashing = sealed && verdicts.iter().take(winners).any(|v| matches!(v, Verdict::Minority | Verdict::Unrevealed | Verdict::NoMajority));
    let market = if sealed {
        let market_view = tail.first().ok_or(ErrorCode::WinnersMissing)?;
        // The job's own market: its slash rates, not those of any market the cranker picks.
        require(market_view.address() == &job_market, ErrorCode::MarketMismatch)?;
        Some(*load::<Market>(market_view, program_id)?)
    } else {
        None
    };
    if slashing {
        let market = market.as_ref().ok_or(ErrorCode::WinnersMissing)?;
        let (consumer_stake, treasury_stake) = (tail.get(1).ok_or(ErrorCode::WinnersMissing)?, tail.get(2).ok_or(ErrorCode::WinnersMissing)?);
        expect_token_account(consumer_stake, &market.stake_mint, ix.consumer.address())?;
        expect_token_account(treasury_stake, &market.stake_mint, &config.treasury)?;
    }

    let (mut paid, mut fees) = (0u64, 0u64);
    for (winner, verdict) in remaining.chunks_exact(PER_WINNER).take(winners).zip(verdicts) {
        let (bid_view, mut provider_view) = (winner[0], winner[1]);
        let (price, fee, provider_address, slash, provider_signer) = {
            let bid = load::<Bid>(&bid_view, program_id)?;
            let mut provider = load_mut::<Provider>(&mut provider_view, program_id)?;
            let locked = bid.locked.get();
            let slash = bps_of(locked, slash_rate(verdict, market.as_ref())?)?;
            provider.unlock(locked.safe_sub(slash)?)?;
            if slash > 0 {
                provider.slash(slash)?;
                provider.record_failed();
            }
            let price = if verdict == Verdict::Paid { bid.awarded_price.get() } else { 0 };
            // The fee is charged on every price the consumer owes or would have owed with a majority.
            let charged = if matches!(verdict, Verdict::Paid | Verdict::NoMajority) { bid.awarded_price.get() } else { 0 };
            let fee = bps_of(charged, fee_bps)?;
            if verdict == Verdict::Paid {
                provider.record_completed(fee)?;
            }
            provider.invariant()?;
            (price, fee, bid.provider, slash, ProviderSeeds::of(&provider))
        };
        if price > 0 {
            transfer(&ix.escrow, &winner[2], &ix.job, price, &job_signer)?;
        }
        if fee > 0 {
            transfer(&ix.escrow, &ix.treasury_token, &ix.job, fee, &job_signer)?;
        }
        if slash > 0 {
            let market = market.as_ref().ok_or(ErrorCode::WinnersMissing)?;
            // Without a majority the consumer gets no share: its own winner may have broken it.
            let consumer_share = if verdict == Verdict::NoMajority { 0 } else { market.params.slash_consumer_share_bps.get() };
            let to_consumer = bps_of(slash, consumer_share)?;
            let to_treasury = slash.safe_sub(to_consumer)?;
            let seeds = provider_signer.signer();
            let vault_signer = [Signer::from(&seeds)];
            let (consumer_stake, treasury_stake) = (tail.get(1).ok_or(ErrorCode::WinnersMissing)?, tail.get(2).ok_or(ErrorCode::WinnersMissing)?);
            if to_consumer > 0 {
                transfer(&winner[4], consumer_stake, &winner[1], to_consumer, &vault_signer)?;
            }
            if to_treasury > 0 {
                transfer(&winner[4], treasury_stake, &winner[1], to_treasury, &vault_signer)?;
            }
            WinnerSlashed {
                job: *ix.job.address(),
                provider: provider_address,
                slashed: U64::new(slash),
                unrevealed: Bool::new(verdict == Verdict::Unrevealed),
            }
            .emit();
        }
        paid = paid.safe_add(price)?;
        fees = fees.safe_add(fee)?;
        if price > 0 {
            WinnerPaid { job: *ix.job.address(), provider: provider_address, price: U64::new(price), fee: U64::new(fee) }.emit();
        }
    }
    let agreed = verdicts.iter().take(winners).any(|v| *v == Verdict::Paid);

    if crank_fee > 0 {
        transfer(&ix.escrow, &ix.keeper_token, &ix.job, crank_fee, &job_signer)?;
    }
    // The rest of the escrow, including anything sent there directly, goes back to the consumer.
    let refund = expect_token_account(&ix.escrow, &payment_mint, ix.job.address())?;
    if refund > 0 {
        transfer(&ix.escrow, &ix.consumer_token, &ix.job, refund, &job_signer)?;
    }
    close_vault(&ix.escrow, &ix.consumer, &ix.job, Signer::from(&job_seeds))?;

    JobFinalized {
        job: *ix.job.address(),
        paid: U64::new(paid),
        fees: U64::new(fees),
        crank_fee: U64::new(crank_fee),
        refunded: U64::new(refund),
        outputs_agreed: Bool::new(agreed),
    }
    .emit();

    // Lamports of closed accounts move only after the last CPI: a bid's owner may be the
    // consumer, or another winner's owner, both accounts of the transfers above.
    for winner in remaining.chunks_exact(PER_WINNER).take(winners) {
        let (mut bid_view, mut owner_view) = (winner[0], winner[3]);
        close_program_account(&mut bid_view, &mut owner_view)?;
    }
    let (mut job_view, mut consumer_view) = (ix.job, ix.consumer);
    close_program_account(&mut job_view, &mut consumer_view)
}
