//! `settle_dispute`: anyone pays out a decided game and closes it.
//!
//! - Provider won: the bond is split between the provider's owner and the treasury.
//! - Challenger won: the bond goes back to the challenger. The first such game refutes the
//!   result: the market's per-job lock `L` of the provider's bid goes to the treasury, the
//!   consumer gets the whole escrow back and the job fails; the rest of the bid's lock (the
//!   challenger reward that a verifiable bid locks on top of `L`) is split evenly among the games
//!   open at that moment, and each of them that the challenger wins is paid its share. So a
//!   cheater whose own second wallet wins first still loses `L` and the honest challengers'
//!   shares, and an honest challenger is always paid.
//!
//! The job (and its winning bid) close with the last game of a refuted job; what is left of the
//! reward (shares of games the provider won, rounding) goes to the treasury then. The bond vault is
//! swept of its actual balance before it closes: tokens anyone sent there beyond the bond go to
//! the treasury, so a transfer of dust cannot keep a game from settling.

use crate::accounts::{load, load_mut, parse_args, Context};
use crate::constants::PROVIDER_BOND_SHARE_BPS;
use crate::errors::{require, ErrorCode, Result};
use crate::events::DisputeSettled;
use crate::layout::{Stored, U64};
use crate::math::{bps_of, SafeMath};
use crate::pda::close_program_account;
use crate::state::seeds::{BondSeeds, DisputeSeeds, JobSeeds, ProviderSeeds};
use crate::state::{Bid, Config, Dispute, DisputeStatus, Job, JobState, Market, Provider};
use crate::token::{close_vault, expect_token_account, transfer, TOKEN_PROGRAM_ID};
use pinocchio::cpi::Signer;
use pinocchio::Address;

crate::pod_struct! {
    /// `settle_dispute` takes no arguments.
    pub struct SettleDisputeArgs {}
}

crate::instruction_accounts! {
    /// Accounts of `settle_dispute`.
    pub struct SettleDisputeAccounts {
        /// Whoever cranks the settlement.
        cranker: signer,
        /// The protocol config (treasury).
        config: readonly,
        /// The job's market.
        market: readonly,
        /// The disputed job.
        job: writable,
        /// The job's escrow (refunded when the provider lost).
        escrow: writable,
        /// The job's consumer (rent of a closed job and escrow).
        consumer: writable,
        /// The consumer's payment-mint token account (refund).
        consumer_token: writable,
        /// The provider's bid.
        bid: writable,
        /// The provider.
        provider: writable,
        /// The provider's stake vault.
        vault: writable,
        /// The provider's owner (rent of a closed bid).
        owner: writable,
        /// The owner's stake-mint token account (its share of a lost bond).
        owner_stake_token: writable,
        /// The challenger (rent of the game and its bond vault).
        challenger: writable,
        /// The challenger's stake-mint token account (bond back and reward).
        challenger_stake_token: writable,
        /// The treasury's stake-mint token account.
        treasury_stake_token: writable,
        /// The decided game, closed here.
        dispute: writable,
        /// The game's bond vault, closed here.
        bond_vault: writable,
        token_program: program = TOKEN_PROGRAM_ID,
    }
}

/// Where the tokens go.
#[derive(Default)]
struct Payout {
    slashed: u64,
    to_challenger_from_stake: u64,
    to_treasury_from_stake: u64,
    bond_to_challenger: u64,
    bond_to_provider: u64,
    bond_to_treasury: u64,
    refund: bool,
}

#[inline(always)]
/// Returns the bond vault's balance.
fn validate(ix: &SettleDisputeAccounts, config: &Config, job: &Job, provider: &Provider, dispute: &Dispute, program_id: &Address) -> Result<u64> {
    require(!dispute.refereed.get(), ErrorCode::DisputeMismatch)?;
    require(
        &dispute.job == ix.job.address()
            && &dispute.bid == ix.bid.address()
            && &dispute.provider == ix.provider.address()
            && &dispute.owner == ix.owner.address()
            && &dispute.challenger == ix.challenger.address(),
        ErrorCode::DisputeMismatch,
    )?;
    require(&job.market == ix.market.address() && &provider.market == ix.market.address(), ErrorCode::MarketMismatch)?;
    require(ix.escrow.address() == &job.escrow && ix.vault.address() == &provider.vault, ErrorCode::InvalidVault)?;
    require(ix.consumer.address() == &job.consumer, ErrorCode::ConsumerMismatch)?;
    // The game's own vault, not any token account the game's address owns: the bond is in it.
    let vault_bump = BondSeeds::new(ix.dispute.address()).expect(&ix.bond_vault, program_id).map_err(|_| ErrorCode::InvalidVault)?;
    require(vault_bump == dispute.vault_bump, ErrorCode::InvalidVault)?;
    let held = expect_token_account(&ix.bond_vault, &provider.stake_mint, ix.dispute.address())?;
    expect_token_account(&ix.consumer_token, &job.payment_mint, &job.consumer)?;
    expect_token_account(&ix.owner_stake_token, &provider.stake_mint, &dispute.owner)?;
    expect_token_account(&ix.challenger_stake_token, &provider.stake_mint, &dispute.challenger)?;
    expect_token_account(&ix.treasury_stake_token, &provider.stake_mint, &config.treasury)?;
    Ok(held)
}

/// Decides the payout and updates the job, bid and provider. `penalty` is the market's per-job
/// lock, the part of a refuted bid's lock that goes to the treasury.
#[inline(always)]
fn apply(winner: DisputeStatus, bond: u64, penalty: u64, job: &mut Job, bid: &mut Bid, provider: &mut Provider) -> Result<Payout> {
    let mut payout = Payout::default();
    match winner {
        DisputeStatus::ProviderWon => {
            payout.bond_to_provider = bps_of(bond, PROVIDER_BOND_SHARE_BPS)?;
            payout.bond_to_treasury = bond.safe_sub(payout.bond_to_provider)?;
            let won = &mut provider.reputation.disputes_won;
            won.set(won.get().saturating_add(1));
        }
        DisputeStatus::ChallengerWon => {
            payout.bond_to_challenger = bond;
            if job.state()? == JobState::Committed {
                refute(penalty, job, bid, provider, &mut payout)?;
            }
            // This game's share of the reward, from what is left of the bid's lock.
            let reward = job.reward_per_game.get().min(bid.locked.get());
            take(reward, bid, provider)?;
            payout.to_challenger_from_stake = reward;
            payout.slashed = payout.slashed.safe_add(reward)?;
        }
        DisputeStatus::Open => return Err(ErrorCode::DisputeUndecided.into()),
    }
    job.record_dispute_settled()?;
    if job.state()? == JobState::Failed && job.disputes_open() == 0 {
        // The last game of a refuted job: what is left of the reward goes to the treasury.
        let rest = bid.locked.get();
        take(rest, bid, provider)?;
        payout.to_treasury_from_stake = payout.to_treasury_from_stake.safe_add(rest)?;
        payout.slashed = payout.slashed.safe_add(rest)?;
    }
    provider.invariant()?;
    Ok(payout)
}

/// The first challenger-won game: the penalty to the treasury, the reward pool split among the
/// games open now (this one included), the escrow refunded, the job failed.
#[inline(always)]
fn refute(penalty: u64, job: &mut Job, bid: &mut Bid, provider: &mut Provider, payout: &mut Payout) -> Result<()> {
    let penalty = penalty.min(bid.locked.get());
    provider.slash(penalty)?;
    bid.locked.set(bid.locked.get().safe_sub(penalty)?);
    payout.slashed = penalty;
    payout.to_treasury_from_stake = penalty;
    let games = (job.disputes_open() as u64).max(1);
    job.reward_per_game.set(bid.locked.get() / games);
    let lost = &mut provider.reputation.disputes_lost;
    lost.set(lost.get().saturating_add(1));
    job.state.set(JobState::Failed);
    payout.refund = true;
    Ok(())
}

/// Takes `amount` more out of a refuted bid's lock (already counted as one slash).
#[inline(always)]
fn take(amount: u64, bid: &mut Bid, provider: &mut Provider) -> Result<()> {
    provider.take_locked(amount)?;
    bid.locked.set(bid.locked.get().safe_sub(amount)?);
    Ok(())
}

pub fn process(ctx: &Context) -> Result<()> {
    let program_id = ctx.program_id;
    let ix = SettleDisputeAccounts::parse(ctx.accounts)?;
    parse_args::<SettleDisputeArgs>(ctx.data)?;
    let config = load::<Config>(&ix.config, program_id)?;
    let penalty = load::<Market>(&ix.market, program_id)?.params.job_stake_lock.get();
    let (mut job_view, mut bid_view, mut provider_view) = (ix.job, ix.bid, ix.provider);

    let (payout, winner, bond, payment_mint, close_job, job_signer, provider_signer, dispute_signer) = {
        let dispute = load::<Dispute>(&ix.dispute, program_id)?;
        let mut job = load_mut::<Job>(&mut job_view, program_id)?;
        let mut bid = load_mut::<Bid>(&mut bid_view, program_id)?;
        let mut provider = load_mut::<Provider>(&mut provider_view, program_id)?;
        let held = validate(&ix, &config, &job, &provider, &dispute, program_id)?;
        let winner = dispute.status()?;
        let bond = dispute.bond.get();
        let mut payout = apply(winner, bond, penalty, &mut job, &mut bid, &mut provider)?;
        // Whatever the vault holds beyond the bond was sent by someone else: the treasury's.
        payout.bond_to_treasury = payout.bond_to_treasury.safe_add(held.safe_sub(bond)?)?;
        job.invariant()?;
        bid.invariant()?;
        let close_job = job.state()? == JobState::Failed && job.disputes_open() == 0;
        let dispute_signer = DisputeSeeds::of(&dispute);
        (payout, winner, bond, job.payment_mint, close_job, JobSeeds::of(&job), ProviderSeeds::of(&provider), dispute_signer)
    };

    let dispute_seeds = dispute_signer.signer();
    let bond_signer = [Signer::from(&dispute_seeds)];
    let bond_moves = [
        (&ix.challenger_stake_token, payout.bond_to_challenger),
        (&ix.owner_stake_token, payout.bond_to_provider),
        (&ix.treasury_stake_token, payout.bond_to_treasury),
    ];
    for (to, amount) in bond_moves {
        if amount > 0 {
            transfer(&ix.bond_vault, to, &ix.dispute, amount, &bond_signer)?;
        }
    }
    close_vault(&ix.bond_vault, &ix.challenger, &ix.dispute, Signer::from(&dispute_seeds))?;

    let provider_seeds = provider_signer.signer();
    let vault_signer = [Signer::from(&provider_seeds)];
    if payout.to_challenger_from_stake > 0 {
        transfer(&ix.vault, &ix.challenger_stake_token, &ix.provider, payout.to_challenger_from_stake, &vault_signer)?;
    }
    if payout.to_treasury_from_stake > 0 {
        transfer(&ix.vault, &ix.treasury_stake_token, &ix.provider, payout.to_treasury_from_stake, &vault_signer)?;
    }

    let mut refunded = 0u64;
    if payout.refund {
        let job_seeds = job_signer.signer();
        refunded = expect_token_account(&ix.escrow, &payment_mint, ix.job.address())?;
        if refunded > 0 {
            transfer(&ix.escrow, &ix.consumer_token, &ix.job, refunded, &[Signer::from(&job_seeds)])?;
        }
        close_vault(&ix.escrow, &ix.consumer, &ix.job, Signer::from(&job_seeds))?;
    }

    DisputeSettled {
        dispute: *ix.dispute.address(),
        job: *ix.job.address(),
        status: Stored::new(winner),
        bond: U64::new(bond),
        slashed: U64::new(payout.slashed),
        to_challenger: U64::new(payout.bond_to_challenger.safe_add(payout.to_challenger_from_stake)?),
        to_provider: U64::new(payout.bond_to_provider),
        to_treasury: U64::new(payout.bond_to_treasury.safe_add(payout.to_treasury_from_stake)?),
        refunded: U64::new(refunded),
    }
    .emit();

    let (mut dispute_view, mut challenger_view) = (ix.dispute, ix.challenger);
    close_program_account(&mut dispute_view, &mut challenger_view)?;
    if close_job {
        let (mut owner_view, mut consumer_view) = (ix.owner, ix.consumer);
        close_program_account(&mut bid_view, &mut owner_view)?;
        close_program_account(&mut job_view, &mut consumer_view)?;
    }
    Ok(())
}
