//! `close_replica`: anyone closes a replica that ended (by `end_replica`, or at the lease's
//! longest term) once its owner claimed everything up to the end or had one period to: the
//! owner's stake lock is released and the bid's rent returned. The job's last replica (of the
//! first round's and the seats' that started) settles the lease, once no seat is being filled: the keeper takes the crank fee, the consumer every other token left in the
//! escrow and the rent of the job, the escrow and the terms.

use crate::accounts::{load, load_mut, parse_args, Context};
use crate::errors::{require, ErrorCode, Result};
use crate::events::{ReplicaClosed, ServiceSettled};
use crate::layout::U64;
use crate::math::SafeMath;
use crate::pda::close_program_account;
use crate::runtime::current_slot;
use crate::state::seeds::JobSeeds;
use crate::state::{Bid, BidStatus, Job, JobState, Provider, Service};
use crate::token::{close_vault, expect_token_account, transfer, TOKEN_PROGRAM_ID};
use pinocchio::cpi::Signer;

crate::pod_struct! {
    /// `close_replica` takes no arguments.
    pub struct CloseReplicaArgs {}
}

crate::instruction_accounts! {
    /// Accounts of `close_replica`.
    pub struct CloseReplicaAccounts {
        /// Whoever cranks it.
        keeper: signer,
        /// The keeper's token account of the payment mint (the crank fee, on the last replica).
        keeper_token: writable,
        /// The service's job; closed with the last replica.
        job: writable,
        /// The job's escrow; closed with the last replica.
        escrow: writable,
        /// The service's terms; closed with the last replica.
        service: writable,
        /// The replica's bid, closed here.
        bid: writable,
        /// The replica's provider, whose lock is released.
        provider: writable,
        /// The provider's owner (the bid's rent).
        owner: writable,
        /// The job's consumer (the refund's rent).
        consumer: writable,
        /// The consumer's token account of the payment mint (what the deposit has left).
        consumer_token: writable,
        token_program: program = TOKEN_PROGRAM_ID,
    }
}

#[inline(always)]
fn validate(ix: &CloseReplicaAccounts, job: &Job, service: &Service, bid: &Bid, now: u64) -> Result<()> {
    job.require_service()?;
    require(service.job == *ix.job.address() && service.of_incarnation(job.incarnation.get()), ErrorCode::ServiceMismatch)?;
    require(ix.escrow.address() == &job.escrow, ErrorCode::InvalidVault)?;
    require(ix.consumer.address() == &job.consumer, ErrorCode::ConsumerMismatch)?;
    bid.check_job(ix.job.address(), job)?;
    require(&bid.provider == ix.provider.address() && ix.owner.address() == &bid.owner, ErrorCode::BidMismatch)?;
    require(job.state()? == JobState::Running, ErrorCode::InvalidJobState)?;
    require(bid.holds_award(job)? && bid.status()? == BidStatus::Started, ErrorCode::NotAssignedWinner)?;
    // Closed once its owner was paid through the end, or had a whole period after it to claim.
    let end = service.replica_end(bid, job.requirements.max_duration_slots.get())?;
    let paid_out = Service::paid_through(bid) >= end;
    let claim_time_over = now > end.safe_add(service.ack_period_slots.get())?;
    require(paid_out || claim_time_over, ErrorCode::ReplicaStillClaimable)?;
    expect_token_account(&ix.keeper_token, &job.payment_mint, ix.keeper.address())?;
    expect_token_account(&ix.consumer_token, &job.payment_mint, &job.consumer).map(|_| ())
}

#[inline(never)]
pub fn process(ctx: &Context) -> Result<()> {
    let program_id = ctx.program_id;
    let ix = CloseReplicaAccounts::parse(ctx.accounts)?;
    parse_args::<CloseReplicaArgs>(ctx.data)?;
    let now = current_slot()?;
    let (mut job_view, mut service_view, mut provider_view) = (ix.job, ix.service, ix.provider);

    // Release the replica; every borrow ends before the transfers.
    let (last, crank_fee, payment_mint, job_signer, provider_key) = {
        let mut job = load_mut::<Job>(&mut job_view, program_id)?;
        let mut service = load_mut::<Service>(&mut service_view, program_id)?;
        let mut provider = load_mut::<Provider>(&mut provider_view, program_id)?;
        let bid = load::<Bid>(&ix.bid, program_id)?;
        validate(&ix, &job, &service, &bid, now)?;
        provider.unlock(bid.locked.get())?;
        provider.record_completed(0)?;
        provider.invariant()?;
        job.auction.remove(&bid.provider);
        job.record_bid_withdrawn();
        let last = service.closing_settles(job.replication)?;
        service.closed_replicas = service.closed_replicas.safe_add(1)?;
        service.invariant()?;
        job.invariant()?;
        (last, job.crank_fee.get(), job.payment_mint, JobSeeds::of(&job), bid.provider)
    };
    ReplicaClosed { job: *ix.job.address(), provider: provider_key }.emit();

    if last {
        let seeds = job_signer.signer();
        let signer = [Signer::from(&seeds)];
        let balance = expect_token_account(&ix.escrow, &payment_mint, ix.job.address())?;
        let to_keeper = crank_fee.min(balance);
        let refunded = balance.safe_sub(to_keeper)?;
        if to_keeper > 0 {
            transfer(&ix.escrow, &ix.keeper_token, &ix.job, to_keeper, &signer)?;
        }
        if refunded > 0 {
            transfer(&ix.escrow, &ix.consumer_token, &ix.job, refunded, &signer)?;
        }
        close_vault(&ix.escrow, &ix.consumer, &ix.job, Signer::from(&seeds))?;
        ServiceSettled { job: *ix.job.address(), refunded: U64::new(refunded), crank_fee: U64::new(to_keeper) }.emit();
    }

    // Lamports of closed accounts move only after the last CPI.
    let (mut bid_view, mut owner_view) = (ix.bid, ix.owner);
    close_program_account(&mut bid_view, &mut owner_view)?;
    if last {
        let (mut job_view, mut service_view, mut consumer_view) = (ix.job, ix.service, ix.consumer);
        close_program_account(&mut service_view, &mut consumer_view)?;
        close_program_account(&mut job_view, &mut consumer_view)?;
    }
    Ok(())
}
