//! `fund_service`: anyone tops up a live service's deposit (auto top-up, a sponsor, the
//! consumer's second wallet): the tokens go into the job's escrow, where only acknowledged time
//! and the settlement's crank fee can take them out, and the rest goes back to the consumer.

use crate::accounts::{load_mut, parse_args, Context};
use crate::errors::{require, ErrorCode, Result};
use crate::events::ServiceFunded;
use crate::layout::U64;
use crate::math::SafeMath;
use crate::state::{Job, JobState};
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
        token_program: program = TOKEN_PROGRAM_ID,
    }
}

#[inline(always)]
fn validate(ix: &FundServiceAccounts, job: &Job, amount: u64) -> Result<()> {
    job.require_service()?;
    require(matches!(job.state()?, JobState::Open | JobState::Awarded | JobState::Running), ErrorCode::InvalidJobState)?;
    require(ix.escrow.address() == &job.escrow, ErrorCode::InvalidVault)?;
    require(amount > 0, ErrorCode::ZeroAmount)?;
    let balance = expect_token_account(&ix.funder_token, &job.payment_mint, ix.funder.address())?;
    require(balance >= amount, ErrorCode::InsufficientFunds)
}

#[inline(never)]
pub fn process(ctx: &Context) -> Result<()> {
    let program_id = ctx.program_id;
    let ix = FundServiceAccounts::parse(ctx.accounts)?;
    let amount = parse_args::<FundServiceArgs>(ctx.data)?.amount.get();
    let mut job_view = ix.job;
    let escrowed = {
        let mut job = load_mut::<Job>(&mut job_view, program_id)?;
        validate(&ix, &job, amount)?;
        job.escrowed = U64::new(job.escrowed.get().safe_add(amount)?);
        job.invariant()?;
        job.escrowed
    };
    transfer(&ix.funder_token, &ix.escrow, &ix.funder, amount, &[])?;
    ServiceFunded { job: *ix.job.address(), funder: *ix.funder.address(), amount: U64::new(amount), escrowed }.emit();
    Ok(())
}
