//! `finalize`: once the challenge window has passed with no dispute, anyone settles the job:
//! each winner is paid its awarded price and unlocked, the treasury takes the protocol fee, the
//! cranking keeper its fee, the consumer the rest; every account of the job is closed and its
//! rent returned. Until the replicated-majority rule lands, container winners whose output roots
//! differ are not paid: the consumer is refunded and nobody is slashed. A refereed job's winners
//! must agree on the final state, or have played their referee game: the refuted winner is not
//! paid and its share goes back to the consumer.

use crate::accounts::{load, load_mut, parse_args, Context};
use crate::errors::{require, ErrorCode, Result};
use crate::events::{JobFinalized, WinnerPaid};
use crate::layout::{Bool, U64};
use crate::math::{bps_of, SafeMath};
use crate::pda::close_program_account;
use crate::runtime::current_slot;
use crate::signer::JobSigner;
use crate::state::{Bid, BidStatus, Config, Job, Provider};
use crate::token::{close_vault, expect_token_account, transfer, TOKEN_PROGRAM_ID};
use pinocchio::cpi::Signer;
use pinocchio::AccountView;

crate::pod_struct! {
    /// `finalize` takes no arguments.
    pub struct FinalizeArgs {}
}

crate::instruction_accounts! {
    /// Accounts of `finalize`; then, for each winner in award order, its bid, provider, the
    /// owner's payment-mint token account and the owner (remaining accounts).
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
const PER_WINNER: usize = 4;

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
struct Commitment {
    output_root: [u8; 32],
    final_state_hash: [u8; 32],
    /// Lost a referee game: not paid, not compared.
    refuted: bool,
}

/// Checks one winner's four accounts against the job; returns its commitment.
#[inline(always)]
fn check_winner(winner: &[AccountView], job: &Job, job_address: &pinocchio::Address, program_id: &pinocchio::Address) -> Result<Commitment> {
    let bid = load::<Bid>(&winner[0], program_id)?;
    require(&bid.job == job_address, ErrorCode::BidMismatch)?;
    let status = bid.status()?;
    let refuted = status == BidStatus::Refuted && bid.awarded_slot.get() == job.progress.awarded_slot.get();
    require(refuted || (bid.holds_award(job)? && status == BidStatus::Committed), ErrorCode::NotAssignedWinner)?;
    require(winner[1].address() == &bid.provider && winner[3].address() == &bid.owner, ErrorCode::BidMismatch)?;
    expect_token_account(&winner[2], &job.payment_mint, &bid.owner)?;
    Ok(Commitment { output_root: bid.output_root, final_state_hash: bid.final_state_hash, refuted })
}

pub fn process(ctx: &Context) -> Result<()> {
    let program_id = ctx.program_id;
    let ix = FinalizeAccounts::parse(ctx.accounts)?;
    parse_args::<FinalizeArgs>(ctx.data)?;
    let now = current_slot()?;
    let config = load::<Config>(&ix.config, program_id)?;
    let remaining = ctx.accounts.get(FinalizeAccounts::COUNT..).unwrap_or(&[]);

    let (signer, winners, fee_bps, crank_fee, agreed, payment_mint) = {
        let mut job_view = ix.job;
        let mut job = load_mut::<Job>(&mut job_view, program_id)?;
        validate(&ix, &config, &job, now)?;
        let winners = job.replication as usize;
        require(remaining.len() / PER_WINNER >= winners, ErrorCode::WinnersMissing)?;
        // Machine results are compared by final state (a refuted one is left out, and differing
        // ones must be refereed first); container results by output root.
        let machine = job.mode.get().is_some_and(|mode| mode.is_machine());
        let mut first: Option<[u8; 32]> = None;
        let mut agreed = true;
        for (i, winner) in remaining.chunks_exact(PER_WINNER).take(winners).enumerate() {
            // Each winner once: the bids are distinct PDAs, so distinct addresses suffice.
            let repeated = remaining.chunks_exact(PER_WINNER).take(i).any(|earlier| earlier[0].address() == winner[0].address());
            require(!repeated, ErrorCode::WinnersMissing)?;
            let commitment = check_winner(winner, &job, ix.job.address(), program_id)?;
            if commitment.refuted {
                continue;
            }
            let key = if machine { commitment.final_state_hash } else { commitment.output_root };
            let same = *first.get_or_insert(key) == key;
            require(same || !machine, ErrorCode::ResultsDiffer)?;
            agreed &= same;
        }
        job.state.set(crate::state::JobState::Finalized);
        (JobSigner::new(&job), winners, job.protocol_fee_bps.get(), job.crank_fee.get(), agreed, job.payment_mint)
    };
    let job_seeds = signer.seeds();
    let job_signer = [Signer::from(&job_seeds)];

    let (mut paid, mut fees) = (0u64, 0u64);
    for winner in remaining.chunks_exact(PER_WINNER).take(winners) {
        let (mut bid_view, mut provider_view, mut owner_view) = (winner[0], winner[1], winner[3]);
        let (price, fee, provider_address) = {
            let bid = load::<Bid>(&bid_view, program_id)?;
            let mut provider = load_mut::<Provider>(&mut provider_view, program_id)?;
            provider.unlock(bid.locked.get())?;
            let paid = agreed && bid.status()? == BidStatus::Committed;
            let price = if paid { bid.awarded_price.get() } else { 0 };
            if paid {
                provider.record_completed();
            }
            provider.invariant()?;
            (price, bps_of(price, fee_bps)?, bid.provider)
        };
        if price > 0 {
            transfer(&ix.escrow, &winner[2], &ix.job, price, &job_signer)?;
        }
        if fee > 0 {
            transfer(&ix.escrow, &ix.treasury_token, &ix.job, fee, &job_signer)?;
        }
        paid = paid.safe_add(price)?;
        fees = fees.safe_add(fee)?;
        if price > 0 {
            WinnerPaid { job: *ix.job.address(), provider: provider_address, price: U64::new(price), fee: U64::new(fee) }.emit();
        }
        close_program_account(&mut bid_view, &mut owner_view)?;
    }

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
    let (mut job_view, mut consumer_view) = (ix.job, ix.consumer);
    close_program_account(&mut job_view, &mut consumer_view)
}
