//! `referee`: when the two winners of a refereed job committed different final states, anyone
//! opens the game between them: the first-ranked winner defends its claim, the second-ranked
//! winner's owner challenges it. No bond: the challenger's per-job stake lock is what it risks.
//! The job cannot finalize until the game is settled (`settle_referee`).

use crate::accounts::{init, load, load_mut, parse_args, Context};
use crate::errors::{require, ErrorCode, Result};
use crate::events::DisputeOpened;
use crate::layout::{Bool, U64};
use crate::pda::create_pda_account;
use crate::runtime::current_slot;
use crate::state::seeds::DisputeSeeds;
use crate::state::{Bid, BidStatus, Dispute, Job, JobState, Market, VerificationMode};
use pinocchio::cpi::Signer;

crate::pod_struct! {
    /// `referee` takes no arguments.
    pub struct RefereeArgs {}
}

crate::instruction_accounts! {
    /// Accounts of `referee`.
    pub struct RefereeAccounts {
        /// Whoever opens the game; pays its rent, returned at settlement.
        cranker: signer_writable,
        /// The job's market (clocks).
        market: readonly,
        /// The refereed job.
        job: writable,
        /// The first-ranked winner's bid: its claim is defended.
        defender_bid: readonly,
        /// The second-ranked winner's bid: its owner challenges.
        challenger_bid: readonly,
        /// The game PDA `["dispute", job, challenger's owner]`, created here.
        dispute: writable,
        system_program: program = pinocchio_system::ID,
    }
}

/// Checks the two commitments against the job; returns the defender's (steps, final hash).
#[inline(always)]
fn validate(ix: &RefereeAccounts, job: &Job, defender: &Bid, challenger: &Bid) -> Result<()> {
    require(&job.market == ix.market.address(), ErrorCode::MarketMismatch)?;
    require(job.mode.get() == Some(VerificationMode::Refereed), ErrorCode::NotRefereed)?;
    require(job.state()? == JobState::Committed, ErrorCode::InvalidJobState)?;
    defender.check_job(ix.job.address(), job)?;
    challenger.check_job(ix.job.address(), job)?;
    // The ranking fixes the roles, so a job has exactly one referee game.
    let first = job.auction.at(0).map(|entry| entry.provider);
    let second = job.auction.at(1).map(|entry| entry.provider);
    require(first == Some(defender.provider) && second == Some(challenger.provider), ErrorCode::WrongWinner)?;
    for bid in [defender, challenger] {
        require(bid.holds_award(job)? && bid.status()? == BidStatus::Committed, ErrorCode::NotAssignedWinner)?;
    }
    require(defender.final_state_hash != challenger.final_state_hash, ErrorCode::ResultsAgree)
}

pub fn process(ctx: &Context) -> Result<()> {
    let program_id = ctx.program_id;
    let ix = RefereeAccounts::parse(ctx.accounts)?;
    parse_args::<RefereeArgs>(ctx.data)?;
    let now = current_slot()?;
    let market = load::<Market>(&ix.market, program_id)?;
    let (initial_hash, defender, challenger) = {
        let job = load::<Job>(&ix.job, program_id)?;
        let defender = load::<Bid>(&ix.defender_bid, program_id)?;
        let challenger = load::<Bid>(&ix.challenger_bid, program_id)?;
        validate(&ix, &job, &defender, &challenger)?;
        (job.initial_state_hash, *defender, *challenger)
    };
    let mut dispute_seeds = DisputeSeeds::new(ix.job.address(), &challenger.owner);
    let bump = dispute_seeds.expect(&ix.dispute, program_id)?;
    create_pda_account(&ix.cranker, &ix.dispute, Dispute::LEN, program_id, Signer::from(&dispute_seeds.signer()))?;

    let mut dispute_view = ix.dispute;
    let mut dispute = init::<Dispute>(&mut dispute_view)?;
    dispute.bump = bump;
    dispute.job = *ix.job.address();
    dispute.bid = *ix.defender_bid.address();
    dispute.provider = defender.provider;
    dispute.owner = defender.owner;
    dispute.challenger = challenger.owner;
    dispute.bond = U64::new(0);
    dispute.refereed = Bool::new(true);
    dispute.payer = *ix.cranker.address();
    dispute.open(initial_hash, defender.steps.get(), defender.final_state_hash, market.params.challenge_window_slots.get(), now)?;

    let mut job_view = ix.job;
    let mut job = load_mut::<Job>(&mut job_view, program_id)?;
    job.record_dispute_opened()?;
    job.invariant()?;
    dispute.invariant()?;

    DisputeOpened {
        dispute: *ix.dispute.address(),
        job: dispute.job,
        provider: defender.provider,
        challenger: dispute.challenger,
        bond: dispute.bond,
        steps: defender.steps,
        turn: dispute.turn,
    }
    .emit();
    Ok(())
}
