//! `expire_job`: an auction that ended without enough valid bids is closed by anyone; the
//! consumer gets the whole escrow back and the rent of both accounts.

use crate::accounts::{load_mut, parse_args, Context};
use crate::errors::{require, ErrorCode, Result};
use crate::events::JobExpired;
use crate::layout::U64;
use crate::pda::close_program_account;
use crate::runtime::current_slot;
use crate::state::seeds::JobSeeds;
use crate::state::{Job, JobState};
use crate::token::{close_vault, expect_token_account, transfer, TOKEN_PROGRAM_ID};
use pinocchio::cpi::Signer;

crate::pod_struct! {
    /// `expire_job` takes no arguments.
    pub struct ExpireJobArgs {}
}

crate::instruction_accounts! {
    /// Accounts of `expire_job`.
    pub struct ExpireJobAccounts {
        /// Whoever cranks the expiry (the consumer or a keeper).
        cranker: signer,
        /// The job, closed here.
        job: writable,
        /// The job's escrow, emptied and closed here.
        escrow: writable,
        /// The job's consumer, who gets the rent back.
        consumer: writable,
        /// The consumer's payment-mint token account, refunded.
        consumer_token: writable,
        token_program: program = TOKEN_PROGRAM_ID,
    }
}

/// Checks the escrow, the consumer and its token account against the job, and that the job is
/// due to expire; returns what the escrow holds (all of it is refunded).
#[inline(always)]
fn validate(ix: &ExpireJobAccounts, job: &Job, now: u64) -> Result<u64> {
    require(ix.escrow.address() == &job.escrow, ErrorCode::InvalidVault)?;
    require(ix.consumer.address() == &job.consumer, ErrorCode::ConsumerMismatch)?;
    expect_token_account(&ix.consumer_token, &job.payment_mint, &job.consumer)?;
    job.check_expiry(now)?;
    expect_token_account(&ix.escrow, &job.payment_mint, ix.job.address())
}

pub fn process(ctx: &Context) -> Result<()> {
    let program_id = ctx.program_id;
    let ix = ExpireJobAccounts::parse(ctx.accounts)?;
    parse_args::<ExpireJobArgs>(ctx.data)?;
    let now = current_slot()?;
    let (refund, signer) = {
        let mut job_view = ix.job;
        let mut job = load_mut::<Job>(&mut job_view, program_id)?;
        let refund = validate(&ix, &job, now)?;
        job.state.set(JobState::Expired);
        (refund, JobSeeds::of(&job))
    };

    let job_seeds = signer.signer();
    if refund > 0 {
        transfer(&ix.escrow, &ix.consumer_token, &ix.job, refund, &[Signer::from(&job_seeds)])?;
    }
    close_vault(&ix.escrow, &ix.consumer, &ix.job, Signer::from(&job_seeds))?;

    JobExpired { job: *ix.job.address(), refunded: U64::new(refund) }.emit();
    let (mut job_view, mut consumer_view) = (ix.job, ix.consumer);
    close_program_account(&mut job_view, &mut consumer_view)
}
