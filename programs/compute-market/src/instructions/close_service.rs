//! `close_service`: anyone returns the rent of a service's terms to its consumer once the job
//! they belong to is gone without a settlement of its own (cancelled, expired, or refunded after
//! a no-show), or was posted again since: the terms of a dead job bind nothing.

use crate::accounts::{is_live, load, parse_args, Context};
use crate::errors::{require, ErrorCode, Result};
use crate::pda::close_program_account;
use crate::state::{Job, Service};

crate::pod_struct! {
    /// `close_service` takes no arguments.
    pub struct CloseServiceArgs {}
}

crate::instruction_accounts! {
    /// Accounts of `close_service`.
    pub struct CloseServiceAccounts {
        /// The service's terms, closed here.
        service: writable,
        /// The address of the service's job (gone, or another incarnation).
        job: readonly,
        /// The service's consumer (the rent).
        consumer: writable,
    }
}

#[inline(always)]
fn validate(ix: &CloseServiceAccounts, service: &Service, job_incarnation: Option<u64>) -> Result<()> {
    require(service.job == *ix.job.address(), ErrorCode::ServiceMismatch)?;
    require(ix.consumer.address() == &service.consumer, ErrorCode::ConsumerMismatch)?;
    let alive = job_incarnation.is_some_and(|incarnation| service.of_incarnation(incarnation));
    require(!alive, ErrorCode::ServiceStillOpen)
}

#[inline(never)]
pub fn process(ctx: &Context) -> Result<()> {
    let program_id = ctx.program_id;
    let ix = CloseServiceAccounts::parse(ctx.accounts)?;
    parse_args::<CloseServiceArgs>(ctx.data)?;
    {
        let service = load::<Service>(&ix.service, program_id)?;
        let incarnation = if is_live::<Job>(&ix.job, program_id) { Some(load::<Job>(&ix.job, program_id)?.incarnation.get()) } else { None };
        validate(&ix, &service, incarnation)?;
    }
    let (mut service_view, mut consumer_view) = (ix.service, ix.consumer);
    close_program_account(&mut service_view, &mut consumer_view)
}
