//! `settle_referee`: anyone pays out a decided referee game and closes it. The loser's per-job
//! stake lock is slashed (the winner's owner gets `CHALLENGER_REWARD_BPS` of it, the treasury the
//! rest) and its bid is marked refuted: `finalize` pays the winner only and refunds the loser's
//! share to the consumer.

use crate::accounts::{load, load_mut, parse_args, Context};
use crate::constants::CHALLENGER_REWARD_BPS;
use crate::errors::{require, ErrorCode, Result};
use crate::events::DisputeSettled;
use crate::layout::{Stored, U64};
use crate::math::{bps_of, SafeMath};
use crate::pda::close_program_account;
use crate::state::seeds::ProviderSeeds;
use crate::state::{Bid, BidStatus, Config, Dispute, DisputeStatus, Job, Provider};
use crate::token::{expect_token_account, transfer, TOKEN_PROGRAM_ID};
use pinocchio::cpi::Signer;
use pinocchio::AccountView;

crate::pod_struct! {
    /// `settle_referee` takes no arguments.
    pub struct SettleRefereeArgs {}
}

crate::instruction_accounts! {
    /// Accounts of `settle_referee`.
    pub struct SettleRefereeAccounts {
        /// Whoever cranks the settlement.
        cranker: signer,
        /// The protocol config (treasury).
        config: readonly,
        /// The refereed job.
        job: writable,
        /// The decided game, closed here.
        dispute: writable,
        /// Who paid the game's rent (gets it back).
        payer: writable,
        /// The defending winner's bid, provider, stake vault and owner's stake-mint token account.
        defender_bid: writable,
        defender_provider: writable,
        defender_vault: writable,
        defender_owner_token: writable,
        /// The challenging winner's bid, provider, stake vault and owner's stake-mint token account.
        challenger_bid: writable,
        challenger_provider: writable,
        challenger_vault: writable,
        challenger_owner_token: writable,
        /// The treasury's stake-mint token account.
        treasury_stake_token: writable,
        token_program: program = TOKEN_PROGRAM_ID,
    }
}

/// One side's four accounts.
struct Side<'a> {
    provider: &'a AccountView,
    vault: &'a AccountView,
    owner_token: &'a AccountView,
}

/// Checks one side's accounts against its bid.
#[inline(always)]
fn check_side(side: &Side, job: &AccountView, bid: &Bid, provider: &Provider) -> Result<()> {
    require(&bid.job == job.address() && &bid.provider == side.provider.address(), ErrorCode::BidMismatch)?;
    require(side.vault.address() == &provider.vault, ErrorCode::InvalidVault)?;
    expect_token_account(side.owner_token, &provider.stake_mint, &bid.owner).map(|_| ())
}

/// Checks that the game is a decided referee game of this job, with its payer and defending bid
/// passed; returns its outcome and whether the defender lost.
#[inline(always)]
fn validate(ix: &SettleRefereeAccounts, dispute: &Dispute) -> Result<(DisputeStatus, bool)> {
    require(dispute.refereed.get() && &dispute.job == ix.job.address(), ErrorCode::DisputeMismatch)?;
    require(ix.payer.address() == &dispute.payer && ix.defender_bid.address() == &dispute.bid, ErrorCode::DisputeMismatch)?;
    let status = dispute.status()?;
    require(status != DisputeStatus::Open, ErrorCode::DisputeUndecided)?;
    Ok((status, status == DisputeStatus::ChallengerWon))
}

/// Checks both winners' bids (the game's two owners, this incarnation's) and their accounts, and
/// the treasury's token account of their common stake mint.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn validate_sides(ix: &SettleRefereeAccounts, config: &Config, dispute: &Dispute, job: &Job, d_bid: &Bid, d_provider: &Provider, c_bid: &Bid, c_provider: &Provider) -> Result<()> {
    require(c_bid.owner == dispute.challenger && d_bid.owner == dispute.owner, ErrorCode::DisputeMismatch)?;
    require(d_bid.of_incarnation(job) && c_bid.of_incarnation(job), ErrorCode::StaleBid)?;
    let defender = Side { provider: &ix.defender_provider, vault: &ix.defender_vault, owner_token: &ix.defender_owner_token };
    let challenger = Side { provider: &ix.challenger_provider, vault: &ix.challenger_vault, owner_token: &ix.challenger_owner_token };
    check_side(&defender, &ix.job, d_bid, d_provider)?;
    check_side(&challenger, &ix.job, c_bid, c_provider)?;
    require(d_provider.stake_mint == c_provider.stake_mint, ErrorCode::WrongMint)?;
    expect_token_account(&ix.treasury_stake_token, &d_provider.stake_mint, &config.treasury).map(|_| ())
}

pub fn process(ctx: &Context) -> Result<()> {
    let program_id = ctx.program_id;
    let ix = SettleRefereeAccounts::parse(ctx.accounts)?;
    parse_args::<SettleRefereeArgs>(ctx.data)?;
    let config = load::<Config>(&ix.config, program_id)?;
    let defender = Side { provider: &ix.defender_provider, vault: &ix.defender_vault, owner_token: &ix.defender_owner_token };
    let challenger = Side {
        provider: &ix.challenger_provider,
        vault: &ix.challenger_vault,
        owner_token: &ix.challenger_owner_token,
    };

    let (winner_status, slashed, to_winner, to_treasury, loser_signer, loser_is_defender) = {
        let dispute = load::<Dispute>(&ix.dispute, program_id)?;
        let (status, loser_is_defender) = validate(&ix, &dispute)?;

        let (mut job_view, mut d_bid_view, mut d_provider_view, mut c_bid_view, mut c_provider_view) =
            (ix.job, ix.defender_bid, ix.defender_provider, ix.challenger_bid, ix.challenger_provider);
        let mut job = load_mut::<Job>(&mut job_view, program_id)?;
        let mut d_bid = load_mut::<Bid>(&mut d_bid_view, program_id)?;
        let mut d_provider = load_mut::<Provider>(&mut d_provider_view, program_id)?;
        let mut c_bid = load_mut::<Bid>(&mut c_bid_view, program_id)?;
        let mut c_provider = load_mut::<Provider>(&mut c_provider_view, program_id)?;
        validate_sides(&ix, &config, &dispute, &job, &d_bid, &d_provider, &c_bid, &c_provider)?;

        let (loser_bid, loser, winner) =
            if loser_is_defender { (&mut *d_bid, &mut *d_provider, &mut *c_provider) } else { (&mut *c_bid, &mut *c_provider, &mut *d_provider) };
        let locked = loser_bid.locked.get();
        let to_winner = bps_of(locked, CHALLENGER_REWARD_BPS)?;
        loser.slash(locked)?;
        let lost = &mut loser.reputation.disputes_lost;
        lost.set(lost.get().saturating_add(1));
        let won = &mut winner.reputation.disputes_won;
        won.set(won.get().saturating_add(1));
        loser_bid.locked = U64::new(0);
        loser_bid.status.set(BidStatus::Refuted);
        loser.invariant()?;
        winner.invariant()?;
        job.record_dispute_settled()?;
        job.invariant()?;
        loser_bid.invariant()?;
        let signer = ProviderSeeds::of(loser);
        (status, locked, to_winner, locked.safe_sub(to_winner)?, signer, loser_is_defender)
    };

    let (loser, winner) = if loser_is_defender { (&defender, &challenger) } else { (&challenger, &defender) };
    let seeds = loser_signer.signer();
    let vault_signer = [Signer::from(&seeds)];
    if to_winner > 0 {
        transfer(loser.vault, winner.owner_token, loser.provider, to_winner, &vault_signer)?;
    }
    if to_treasury > 0 {
        transfer(loser.vault, &ix.treasury_stake_token, loser.provider, to_treasury, &vault_signer)?;
    }
    DisputeSettled {
        dispute: *ix.dispute.address(),
        job: *ix.job.address(),
        status: Stored::new(winner_status),
        bond: U64::new(0),
        slashed: U64::new(slashed),
        to_challenger: U64::new(if loser_is_defender { to_winner } else { 0 }),
        to_provider: U64::new(if loser_is_defender { 0 } else { to_winner }),
        to_treasury: U64::new(to_treasury),
        refunded: U64::new(0),
    }
    .emit();
    let (mut dispute_view, mut payer_view) = (ix.dispute, ix.payer);
    close_program_account(&mut dispute_view, &mut payer_view)
}
