//! `pause_service`: anyone pauses a running lease whose escrow can no longer pay one more period
//! of every open replica at its highest rate. Nothing closes: the replicas keep their seats (and
//! may still be paid for acknowledged time while the deposit lasts) until the market's pause
//! time has passed; a top-up through `fund_service` before then resumes the lease. After it,
//! every replica has ended at the pause's end and `close_replica` settles the lease.

use crate::accounts::{load, load_mut, parse_args, Context};
use crate::errors::{require, ErrorCode, Result};
use crate::events::ServicePaused;
use crate::layout::U64;
use crate::math::SafeMath;
use crate::runtime::current_slot;
use crate::state::service::covers_a_period;
use crate::state::{Job, JobState, Market, Service};
use crate::token::expect_token_account;

crate::pod_struct! {
    /// `pause_service` takes no arguments.
    pub struct PauseServiceArgs {}
}

crate::instruction_accounts! {
    /// Accounts of `pause_service`.
    pub struct PauseServiceAccounts {
        /// Whoever cranks it.
        cranker: signer,
        /// The job's market (its pause time).
        market: readonly,
        /// The service's job.
        job: readonly,
        /// The job's escrow, whose balance is measured.
        escrow: readonly,
        /// The service's terms, paused here.
        service: writable,
    }
}

/// Checks the accounts and that the lease runs, is not paused and is short of a period;
/// returns the escrow's balance.
#[inline(always)]
fn validate(ix: &PauseServiceAccounts, job: &Job, service: &Service) -> Result<u64> {
    require(&job.market == ix.market.address(), ErrorCode::MarketMismatch)?;
    require(service.job == *ix.job.address() && service.of_incarnation(job.incarnation.get()), ErrorCode::ServiceMismatch)?;
    require(ix.escrow.address() == &job.escrow, ErrorCode::InvalidVault)?;
    require(job.state()? == JobState::Running, ErrorCode::InvalidJobState)?;
    require(!service.is_paused(), ErrorCode::ServicePaused)?;
    // The escrow's real balance, donations included: a lease that holds a period runs on.
    let balance = expect_token_account(&ix.escrow, &job.payment_mint, ix.job.address())?;
    require(!covers_a_period(balance, job, service)?, ErrorCode::DepositCoversPeriod)?;
    Ok(balance)
}

#[inline(never)]
pub fn process(ctx: &Context) -> Result<()> {
    let program_id = ctx.program_id;
    let ix = PauseServiceAccounts::parse(ctx.accounts)?;
    parse_args::<PauseServiceArgs>(ctx.data)?;
    let now = current_slot()?;
    let market = load::<Market>(&ix.market, program_id)?;
    let job = load::<Job>(&ix.job, program_id)?;
    // Before the terms are read: a batch job has none to read.
    job.require_service()?;
    let mut service_view = ix.service;
    let mut service = load_mut::<Service>(&mut service_view, program_id)?;
    let balance = validate(&ix, &job, &service)?;
    let ends = now.safe_add(market.params.service_pause_slots.get())?;
    service.paused_slot = U64::new(now.max(1));
    service.pause_ends_slot = U64::new(ends.max(1));
    service.invariant()?;
    ServicePaused { job: *ix.job.address(), paused_slot: service.paused_slot, pause_ends_slot: service.pause_ends_slot, balance: U64::new(balance) }.emit();
    Ok(())
}
