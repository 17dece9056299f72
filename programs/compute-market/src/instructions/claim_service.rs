//! `claim_service`: a replica's owner is paid for the time the service's watchdog acknowledged.
//! The acknowledgement `(job, incarnation, provider, up_to_slot)` is signed off-chain and
//! verified by the Ed25519 program in the instruction just before this one; the replica is paid
//! its rate for every slot from what it was last paid through to `up_to_slot` (never past its
//! end, never in the future, never more than the deposit holds), the protocol fee on top. An
//! older acknowledgement pays nothing, so a replay is refused.

use crate::accounts::{load, load_mut, parse_args, Context};
use crate::ed25519::require_signed_before;
use crate::errors::{require, ErrorCode, Result};
use crate::events::ServiceClaimed;
use crate::layout::U64;
use crate::math::SafeMath;
use crate::runtime::current_slot;
use crate::state::seeds::JobSeeds;
use crate::state::service::{settle_claim, Claim};
use crate::state::{acknowledgement_message, Bid, BidStatus, Config, Job, Service};
use crate::token::{expect_token_account, transfer, TOKEN_PROGRAM_ID};
use pinocchio::cpi::Signer;
use pinocchio::sysvars::instructions::INSTRUCTIONS_ID;

crate::pod_struct! {
    /// Arguments of `claim_service`.
    pub struct ClaimServiceArgs {
        /// The slot the acknowledgement covers the replica up to.
        pub up_to_slot: U64,
    }
}

crate::instruction_accounts! {
    /// Accounts of `claim_service`.
    pub struct ClaimServiceAccounts {
        /// The replica's owner (the bid's).
        owner: signer,
        /// The owner's token account of the payment mint, paid.
        owner_token: writable,
        /// The protocol config (treasury).
        config: readonly,
        /// The service's job.
        job: writable,
        /// The job's escrow.
        escrow: writable,
        /// The service's terms `["service", job]`.
        service: writable,
        /// The replica's bid.
        bid: writable,
        /// The treasury's token account of the payment mint (the protocol fee).
        treasury_token: writable,
        /// The instructions sysvar, where the acknowledgement's verification is read.
        instructions: sysvar = INSTRUCTIONS_ID,
        token_program: program = TOKEN_PROGRAM_ID,
    }
}

#[inline(always)]
fn validate(ix: &ClaimServiceAccounts, config: &Config, job: &Job, service: &Service, bid: &Bid) -> Result<()> {
    job.require_service()?;
    // Only `post_service` writes a Service account, at `["service", job]`: its job and
    // incarnation fields bind it to this job as surely as its seeds would.
    require(service.job == *ix.job.address() && service.of_incarnation(job.incarnation.get()), ErrorCode::ServiceMismatch)?;
    require(ix.escrow.address() == &job.escrow, ErrorCode::InvalidVault)?;
    bid.check_job(ix.job.address(), job)?;
    require(ix.owner.address() == &bid.owner, ErrorCode::NotBidOwner)?;
    require(bid.holds_award(job)?, ErrorCode::NotAssignedWinner)?;
    require(bid.status()? == BidStatus::Started, ErrorCode::ReplicaNotStarted)?;
    expect_token_account(&ix.owner_token, &job.payment_mint, &bid.owner)?;
    expect_token_account(&ix.treasury_token, &job.payment_mint, &config.treasury).map(|_| ())
}

#[inline(never)]
pub fn process(ctx: &Context) -> Result<()> {
    let program_id = ctx.program_id;
    let ix = ClaimServiceAccounts::parse(ctx.accounts)?;
    let up_to_slot = parse_args::<ClaimServiceArgs>(ctx.data)?.up_to_slot.get();
    let now = current_slot()?;
    let config = load::<Config>(&ix.config, program_id)?;
    let (mut job_view, mut service_view, mut bid_view) = (ix.job, ix.service, ix.bid);

    let (claim, paid_through, escrowed, job_signer) = {
        let mut job = load_mut::<Job>(&mut job_view, program_id)?;
        let mut service = load_mut::<Service>(&mut service_view, program_id)?;
        let mut bid = load_mut::<Bid>(&mut bid_view, program_id)?;
        validate(&ix, &config, &job, &service, &bid)?;
        let message = acknowledgement_message(ix.job.address(), job.incarnation.get(), &bid.provider, up_to_slot);
        require_signed_before(&ix.instructions, &service.watchdog, &message)?;

        let slots = service.claimable_slots(&bid, up_to_slot, now, job.requirements.max_duration_slots.get())?;
        // The settlement's crank fee stays in the escrow whatever is claimed.
        let balance = expect_token_account(&ix.escrow, &job.payment_mint, ix.job.address())?;
        let available = balance.saturating_sub(job.crank_fee.get());
        let claim: Claim = settle_claim(bid.awarded_price.get(), slots, job.protocol_fee_bps.get(), available)?;
        require(claim.slots > 0, ErrorCode::DepositExhausted)?;

        let paid_through = Service::paid_through(&bid).safe_add(claim.slots)?;
        bid.claimed_slot = U64::new(paid_through);
        service.paid = U64::new(service.paid.get().safe_add(claim.pay)?);
        job.escrowed = U64::new(job.escrowed.get().saturating_sub(claim.pay.safe_add(claim.fee)?));
        bid.invariant()?;
        service.invariant()?;
        job.invariant()?;
        (claim, paid_through, job.escrowed, JobSeeds::of(&job))
    };

    let seeds = job_signer.signer();
    let signer = [Signer::from(&seeds)];
    transfer(&ix.escrow, &ix.owner_token, &ix.job, claim.pay, &signer)?;
    if claim.fee > 0 {
        transfer(&ix.escrow, &ix.treasury_token, &ix.job, claim.fee, &signer)?;
    }
    let bid = load::<Bid>(&ix.bid, program_id)?;
    ServiceClaimed {
        job: *ix.job.address(),
        provider: bid.provider,
        paid_through_slot: U64::new(paid_through),
        slots: U64::new(claim.slots),
        paid: U64::new(claim.pay),
        fee: U64::new(claim.fee),
        escrowed,
    }
    .emit();
    Ok(())
}
