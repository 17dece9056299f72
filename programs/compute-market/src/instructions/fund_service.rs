//! `fund_service`: anyone tops up a live service's deposit (auto top-up, a sponsor, the
//! consumer's second wallet): the tokens go into the job's escrow, where only acknowledged time
//! and the settlement's crank fee can take them out, and the rest goes back to the consumer. A
//! paused lease resumes once the escrow pays one more period again; after its pause has ended
//! its replicas are over, and a top-up is refused rather than kept for nothing.

use crate::accounts::{load_mut, parse_args, Context};
use crate::errors::{require, ErrorCode, Result};
use crate::events::{ServiceFunded, ServiceResumed};
use crate::layout::U64;
use crate::math::SafeMath;
use crate::runtime::current_slot;
use crate::state::service::covers_a_period;
use crate::state::{Job, JobState, Service};
use crate::token::{expect_token_account, transfer, TOKEN_PROGRAM_ID};

crate::pod_struct! {
    /// Arguments of `fund_service`.
    pub struct FundServiceArgs {
        /// Tokens to add, in payment-mint base units.
        pub amount: U64,
    }
}

crate::instruction_accounts! {
    /// Accounts of `fund_service`.
    pub struct FundServiceAccounts {
        /// Whoever pays.
        funder: signer,
        /// The funder's token account of the payment mint, debited.
        funder_token: writable,
        /// The service's job.
        job: writable,
        /// The job's escrow.
        escrow: writable,
        /// The service's terms (resumed here when paused).
        service: writable,
        token_program: program = TOKEN_PROGRAM_ID,
    }
}

/// Checks the accounts, the amount and the lease's state; returns the escrow's balance before.
#[inline(always)]
fn validate(ix: &FundServiceAccounts, job: &Job, service: &Service, amount: u64, now: u64) -> Result<u64> {
    require(matches!(job.state()?, JobState::Open | JobState::Awarded | JobState::Running), ErrorCode::InvalidJobState)?;
    require(service.job == *ix.job.address() && service.of_incarnation(job.incarnation.get()), ErrorCode::ServiceMismatch)?;
    require(!service.pause_expired(now), ErrorCode::PauseExpired)?;
    require(ix.escrow.address() == &job.escrow, ErrorCode::InvalidVault)?;
    require(amount > 0, ErrorCode::ZeroAmount)?;
    let balance = expect_token_account(&ix.funder_token, &job.payment_mint, ix.funder.address())?;
    require(balance >= amount, ErrorCode::InsufficientFunds)?;
    expect_token_account(&ix.escrow, &job.payment_mint, ix.job.address())
}

#[inline(never)]
pub fn process(ctx: &Context) -> Result<()> {
    let program_id = ctx.program_id;
    let ix = FundServiceAccounts::parse(ctx.accounts)?;
    let amount = parse_args::<FundServiceArgs>(ctx.data)?.amount.get();
    let now = current_slot()?;
    let (mut job_view, mut service_view) = (ix.job, ix.service);
    let (escrowed, resumed_at) = {
        let mut job = load_mut::<Job>(&mut job_view, program_id)?;
        // Before the terms are read: a batch job has none to read.
        job.require_service()?;
        let mut service = load_mut::<Service>(&mut service_view, program_id)?;
        let before = validate(&ix, &job, &service, amount, now)?;
        job.escrowed = U64::new(job.escrowed.get().safe_add(amount)?);
        let after = before.safe_add(amount)?;
        let resumes = service.is_paused() && covers_a_period(after, &job, &service)?;
        if resumes {
            service.paused_slot = U64::new(0);
            service.pause_ends_slot = U64::new(0);
        }
        service.invariant()?;
        job.invariant()?;
        (job.escrowed, resumes.then_some(after))
    };
    transfer(&ix.funder_token, &ix.escrow, &ix.funder, amount, &[])?;
    ServiceFunded { job: *ix.job.address(), funder: *ix.funder.address(), amount: U64::new(amount), escrowed }.emit();
    if let Some(balance) = resumed_at {
        ServiceResumed { job: *ix.job.address(), balance: U64::new(balance) }.emit();
    }
    Ok(())
}
