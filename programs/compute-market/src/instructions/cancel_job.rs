//! `cancel_job`: while bidding is open, the consumer takes the job back: the whole escrow is
//! refunded and both accounts are closed with their rent returned.

use crate::accounts::{Context, load_mut, parse_args};
use crate::errors::{require, ErrorCode, Result};
use crate::events::JobCancelled;
use crate::layout::U64;
use crate::pda::close_program_account;
use crate::state::seeds::JobSeeds;
use crate::state::Job;
use crate::token::{close_vault, expect_token_account, transfer, TOKEN_PROGRAM_ID};
use pinocchio::cpi::Signer;

crate::pod_struct! {
    /// `cancel_job` takes no arguments.
    pub struct CancelJobArgs {}
}

crate::instruction_accounts! {
    /// Accounts of `cancel_job`.
    pub struct CancelJobAccounts {
        /// The job's consumer; receives the refund's rent.
        consumer: signer_writable,
        /// The job, closed here.
        job: writable,
        /// The job's escrow vault, emptied and closed here.
        escrow: writable,
        /// The consumer's token account of the payment mint, credited.
        consumer_token: writable,
        token_program: program = TOKEN_PROGRAM_ID,
    }
}

/// Checks the accounts against the job; returns the escrow's balance.
fn validate(ix: &CancelJobAccounts, job: &Job) -> Result<u64> {
    require(ix.consumer.address() == &job.consumer, ErrorCode::NotJobConsumer)?;
    require(ix.escrow.address() == &job.escrow, ErrorCode::InvalidVault)?;
    expect_token_account(&ix.consumer_token, &job.payment_mint, ix.consumer.address())?;
    expect_token_account(&ix.escrow, &job.payment_mint, ix.job.address())
}

pub fn process(ctx: &Context) -> Result<()> {
    let program_id = ctx.program_id;
    let mut ix = CancelJobAccounts::parse(ctx.accounts)?;
    parse_args::<CancelJobArgs>(ctx.data)?;
    let (refund, signer) = {
        let mut job_view = ix.job;
        let mut job = load_mut::<Job>(&mut job_view, program_id)?;
        let refund = validate(&ix, &job)?;
        job.cancel()?;
        (refund, JobSeeds::of(&job))
    };

    // Everything in escrow goes back, including tokens anyone sent there directly.
    let job_seeds = signer.signer();
    transfer(&ix.escrow, &ix.consumer_token, &ix.job, refund, &[Signer::from(&job_seeds)])?;
    close_vault(&ix.escrow, &ix.consumer, &ix.job, Signer::from(&job_seeds))?;

    JobCancelled { job: *ix.job.address(), consumer: *ix.consumer.address(), refunded: U64::new(refund) }.emit();
    close_program_account(&mut ix.job, &mut ix.consumer)
}
