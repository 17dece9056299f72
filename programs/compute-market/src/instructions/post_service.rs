//! `post_service`: a consumer leases a service: a job of the service kind (auctioned, awarded
//! and started like any job, its price a rate per slot) funded with a deposit of at least one
//! acknowledgement period, and its terms at `["service", job]`: the watchdog whose signed
//! acknowledgements are the only claim to payment, the period and the grace.

use super::post_job::{self, Funding, PostJobAccounts, PostJobArgs};
use crate::accounts::{init, parse_args, Context};
use crate::errors::{require, ErrorCode, Result};
use crate::events::ServicePosted;
use crate::layout::{Bool, Stored, U64};
use crate::pda::create_pda_account;
use crate::state::seeds::ServiceSeeds;
use crate::state::service::MAX_ACK_PERIOD_SLOTS;
use crate::state::{FailurePolicy, JobRequirements, Service, VerificationMode};
use crate::token::TOKEN_PROGRAM_ID;
use pinocchio::cpi::Signer;
use pinocchio::Address;

crate::pod_struct! {
    /// Arguments of `post_service`.
    pub struct PostServiceArgs {
        /// Consumer-chosen number that makes the job's address unique.
        pub nonce: U64,
        /// sha256 of the service spec (image, ports, health check).
        pub spec_hash: [u8; 32],
        /// Hardware every replica needs; `max_duration_slots` is the lease's longest term.
        pub requirements: JobRequirements,
        /// Replicas; zero selects the market default.
        pub replicas: u8,
        /// Highest rate per slot per replica, in payment-mint base units.
        pub max_rate: U64,
        /// Bidding window in slots; zero selects the market default.
        pub bid_window_slots: U64,
        /// Sealed-bid (second-price) auction instead of open bidding.
        pub sealed: Bool,
        /// The key that signs acknowledgements (and may end replicas) for the consumer.
        pub watchdog: Address,
        /// Slots one acknowledgement covers at most (1 to 216,000).
        pub ack_period_slots: U64,
        /// Slots a failing replica is given before the watchdog ends it.
        pub grace_slots: U64,
        /// Tokens moved into the escrow now; anyone may add more with `fund_service`.
        pub deposit: U64,
    }
}

crate::instruction_accounts! {
    /// Accounts of `post_service`.
    pub struct PostServiceAccounts {
        /// The consumer; pays the deposit and the rent of the job, its escrow and its terms.
        consumer: signer_writable,
        /// The protocol config (fee rate, pause flag).
        config: readonly,
        /// The market to post in.
        market: writable,
        /// The job PDA `["job", consumer, nonce]`, created here.
        job: writable,
        /// The escrow vault PDA `["escrow", job]`, created here.
        escrow: writable,
        /// The service PDA `["service", job]`, created here.
        service: writable,
        /// The consumer's token account of the payment mint, debited.
        consumer_token: writable,
        /// The market's payment mint.
        payment_mint: readonly,
        token_program: program = TOKEN_PROGRAM_ID,
        system_program: program = pinocchio_system::ID,
    }
}

/// The terms only a service has; the job's own are checked by `post_job`'s validation.
#[inline(always)]
fn validate(args: &PostServiceArgs) -> Result<()> {
    let period = args.ack_period_slots.get();
    require(period > 0 && period <= MAX_ACK_PERIOD_SLOTS, ErrorCode::InvalidServiceTerms)?;
    require(args.watchdog != Address::new_from_array([0; 32]), ErrorCode::InvalidServiceTerms)
}

/// The job a service is: replicated container work, refunded (never reopened) when a replica
/// does not show, no instant award, no program roots.
fn job_args(args: &PostServiceArgs) -> PostJobArgs {
    PostJobArgs {
        nonce: args.nonce,
        spec_hash: args.spec_hash,
        requirements: args.requirements,
        mode: Stored::new(VerificationMode::Replicated),
        replication: args.replicas,
        on_failure: Stored::new(FailurePolicy::Refund),
        max_price: args.max_rate,
        instant_price: U64::new(0),
        bid_window_slots: args.bid_window_slots,
        sealed: args.sealed,
        code_root: [0; 32],
        input_root: [0; 32],
        max_steps: U64::new(0),
    }
}

#[inline(never)]
pub fn process(ctx: &Context) -> Result<()> {
    let program_id = ctx.program_id;
    let ix = PostServiceAccounts::parse(ctx.accounts)?;
    let args = parse_args::<PostServiceArgs>(ctx.data)?;
    validate(args)?;
    let job_accounts = PostJobAccounts {
        consumer: ix.consumer,
        config: ix.config,
        market: ix.market,
        job: ix.job,
        escrow: ix.escrow,
        consumer_token: ix.consumer_token,
        payment_mint: ix.payment_mint,
        token_program: ix.token_program,
        system_program: ix.system_program,
    };
    let funding = Funding::Deposit { amount: args.deposit.get(), period: args.ack_period_slots.get() };
    let incarnation = post_job::post(program_id, &job_accounts, &job_args(args), funding)?;

    let mut seeds = ServiceSeeds::new(ix.job.address());
    let bump = seeds.expect(&ix.service, program_id)?;
    create_pda_account(&ix.consumer, &ix.service, Service::LEN, program_id, Signer::from(&seeds.signer()))?;
    let mut service_view = ix.service;
    let mut service = init::<Service>(&mut service_view)?;
    service.bump = bump;
    service.job = *ix.job.address();
    service.consumer = *ix.consumer.address();
    service.job_incarnation = U64::new(incarnation);
    service.watchdog = args.watchdog;
    service.ack_period_slots = args.ack_period_slots;
    service.grace_slots = args.grace_slots;
    service.invariant()?;

    ServicePosted {
        job: *ix.job.address(),
        service: *ix.service.address(),
        watchdog: args.watchdog,
        ack_period_slots: args.ack_period_slots,
        deposit: args.deposit,
    }
    .emit();
    Ok(())
}
