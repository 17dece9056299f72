//! `open_dispute`: anyone who disagrees with a verifiable job's committed final state opens its
//! own game within the challenge window, posting a bond equal to the provider's per-job stake
//! lock. The job cannot finalize while a game is open.

use crate::accounts::{init, load, load_mut, parse_args, Context};
use crate::errors::{require, ErrorCode, Result};
use crate::events::DisputeOpened;
use crate::layout::U64;
use crate::pda::create_pda_account;
use crate::runtime::current_slot;
use crate::state::seeds::{BondSeeds, DisputeSeeds};
use crate::state::{Bid, BidStatus, Dispute, Job, JobState, Market, VerificationMode};
use crate::token::{create_vault, expect_token_account, transfer, TOKEN_PROGRAM_ID};
use pinocchio::cpi::Signer;

crate::pod_struct! {
    /// `open_dispute` takes no arguments: the bond is the market's per-job stake lock.
    pub struct OpenDisputeArgs {}
}

crate::instruction_accounts! {
    /// Accounts of `open_dispute`.
    pub struct OpenDisputeAccounts {
        /// The challenger; pays the bond and the rent of the game and its bond vault.
        challenger: signer_writable,
        /// The job's market (stake mint, bond, clocks).
        market: readonly,
        /// The disputed job.
        job: writable,
        /// The bid holding the disputed commitment.
        bid: readonly,
        /// The game PDA `["dispute", job, challenger]`, created here.
        dispute: writable,
        /// The bond vault PDA `["bond", dispute]`, created here.
        bond_vault: writable,
        /// The challenger's stake-mint token account, debited by the bond.
        challenger_token: writable,
        /// The market's stake mint.
        stake_mint: readonly,
        token_program: program = TOKEN_PROGRAM_ID,
        system_program: program = pinocchio_system::ID,
    }
}

#[inline(always)]
fn validate(ix: &OpenDisputeAccounts, market: &Market, job: &Job, bid: &Bid, now: u64) -> Result<u64> {
    require(&job.market == ix.market.address(), ErrorCode::MarketMismatch)?;
    require(ix.stake_mint.address() == &market.stake_mint, ErrorCode::WrongMint)?;
    require(job.mode.get() == Some(VerificationMode::Verifiable), ErrorCode::NotVerifiable)?;
    require(job.state()? == JobState::Committed, ErrorCode::InvalidJobState)?;
    require(now < job.progress.challenge_deadline_slot.get(), ErrorCode::DisputeWindowClosed)?;
    bid.check_job(ix.job.address(), job)?;
    require(bid.holds_award(job)? && bid.status()? == BidStatus::Committed, ErrorCode::NotAssignedWinner)?;
    require(ix.challenger.address() != &bid.owner, ErrorCode::SelfDispute)?;
    let bond = market.params.job_stake_lock.get();
    let balance = expect_token_account(&ix.challenger_token, &market.stake_mint, ix.challenger.address())?;
    require(balance >= bond, ErrorCode::InsufficientFunds)?;
    Ok(bond)
}

pub fn process(ctx: &Context) -> Result<()> {
    let program_id = ctx.program_id;
    let ix = OpenDisputeAccounts::parse(ctx.accounts)?;
    parse_args::<OpenDisputeArgs>(ctx.data)?;
    let now = current_slot()?;
    let market = load::<Market>(&ix.market, program_id)?;
    let (bond, initial_hash, steps, final_hash, provider, owner) = {
        let job = load::<Job>(&ix.job, program_id)?;
        let bid = load::<Bid>(&ix.bid, program_id)?;
        let bond = validate(&ix, &market, &job, &bid, now)?;
        (bond, job.initial_state_hash, bid.steps.get(), bid.final_state_hash, bid.provider, bid.owner)
    };
    let mut dispute_seeds = DisputeSeeds::new(ix.job.address(), ix.challenger.address());
    let dispute_bump = dispute_seeds.expect(&ix.dispute, program_id)?;
    let mut vault_seeds = BondSeeds::new(ix.dispute.address());
    let vault_bump = vault_seeds.expect(&ix.bond_vault, program_id)?;

    create_pda_account(&ix.challenger, &ix.dispute, Dispute::LEN, program_id, Signer::from(&dispute_seeds.signer()))?;
    create_vault(&ix.challenger, &ix.bond_vault, &ix.stake_mint, ix.dispute.address(), Signer::from(&vault_seeds.signer()))?;
    if bond > 0 {
        transfer(&ix.challenger_token, &ix.bond_vault, &ix.challenger, bond, &[])?;
    }

    let mut dispute_view = ix.dispute;
    let mut dispute = init::<Dispute>(&mut dispute_view)?;
    dispute.bump = dispute_bump;
    dispute.vault_bump = vault_bump;
    dispute.job = *ix.job.address();
    dispute.bid = *ix.bid.address();
    dispute.provider = provider;
    dispute.owner = owner;
    dispute.challenger = *ix.challenger.address();
    dispute.bond = U64::new(bond);
    dispute.payer = *ix.challenger.address();
    dispute.open(initial_hash, steps, final_hash, market.params.challenge_window_slots.get(), now)?;

    let mut job_view = ix.job;
    let mut job = load_mut::<Job>(&mut job_view, program_id)?;
    job.record_dispute_opened()?;
    job.invariant()?;
    dispute.invariant()?;

    DisputeOpened {
        dispute: *ix.dispute.address(),
        job: dispute.job,
        provider,
        challenger: dispute.challenger,
        bond: dispute.bond,
        steps: U64::new(steps),
        turn: dispute.turn,
    }
    .emit();
    Ok(())
}
