//! `post_job`: a consumer posts a job and moves its whole budget into the job's escrow vault.

use crate::accounts::{init, load, load_mut, parse_args, Context};
use crate::errors::{require, ErrorCode, Result};
use crate::events::JobPosted;
use crate::layout::{Bool, Stored, U64};
use crate::pda::create_pda_account;
use crate::runtime::current_slot;
use crate::math::SafeMath;
use crate::state::job::{bid_window, escrow_amount};
use crate::state::service::min_deposit;
use crate::state::seeds::{EscrowSeeds, JobSeeds};
use crate::state::{Config, FailurePolicy, Job, JobKind, JobRequirements, JobState, Market, VerificationMode};
use crate::token::{create_vault, expect_token_account, transfer, TOKEN_PROGRAM_ID};
use pinocchio::cpi::Signer;
use pinocchio::Address;

crate::pod_struct! {
    /// Arguments of `post_job`.
    pub struct PostJobArgs {
        /// Consumer-chosen number that makes the job's address unique.
        pub nonce: U64,
        /// sha256 of the job spec (image digest, command, inputs).
        pub spec_hash: [u8; 32],
        /// Hardware the job needs.
        pub requirements: JobRequirements,
        /// How the result is verified.
        pub mode: Stored<VerificationMode>,
        /// Providers that run the job; zero selects the market default.
        pub replication: u8,
        /// What happens if the provider fails.
        pub on_failure: Stored<FailurePolicy>,
        /// Highest price per provider, in payment-mint base units.
        pub max_price: U64,
        /// A bid at or below this is awarded at once; zero disables instant award.
        pub instant_price: U64,
        /// Bidding window in slots; zero selects the market default.
        pub bid_window_slots: U64,
        /// Sealed-bid (second-price) auction instead of open bidding.
        pub sealed: Bool,
        /// Verifiable jobs: root of the program's code quarter; zero for container jobs.
        pub code_root: [u8; 32],
        /// Verifiable jobs: root of the input quarter; zero for container jobs.
        pub input_root: [u8; 32],
        /// Verifiable jobs: the most steps a run takes (at least one); zero for container jobs.
        pub max_steps: U64,
    }
}

crate::instruction_accounts! {
    /// Accounts of `post_job`.
    pub struct PostJobAccounts {
        /// The consumer; pays the budget and the rent of the job and its escrow.
        consumer: signer_writable,
        /// The protocol config (fee rate, pause flag).
        config: readonly,
        /// The market to post in; its job count numbers the job's incarnation.
        market: writable,
        /// The job PDA `["job", consumer, nonce]`, created here.
        job: writable,
        /// The escrow vault PDA `["escrow", job]`, created here.
        escrow: writable,
        /// The consumer's token account of the payment mint, debited.
        consumer_token: writable,
        /// The market's payment mint.
        payment_mint: readonly,
        token_program: program = TOKEN_PROGRAM_ID,
        system_program: program = pinocchio_system::ID,
    }
}

/// How the job's escrow is funded: a batch job's whole budget, computed from its terms, or a
/// service's deposit, of at least one period (`post_service`).
#[derive(Clone, Copy)]
pub(crate) enum Funding {
    Budget,
    Deposit { amount: u64, period: u64 },
}

/// Everything `validate` derives for the handler.
struct Checked {
    mode: VerificationMode,
    replication: u8,
    escrowed: u64,
    bid_window: u64,
}

fn validate(
    ix: &PostJobAccounts,
    config: &Config,
    market: &Market,
    args: &PostJobArgs,
    funding: Funding,
) -> Result<Checked> {
    require(!config.paused.get(), ErrorCode::ProtocolPaused)?;
    require(ix.payment_mint.address() == &market.payment_mint, ErrorCode::WrongMint)?;
    let mode = args.mode.get().ok_or(ErrorCode::InvalidEnumValue)?;
    args.on_failure.get().ok_or(ErrorCode::InvalidEnumValue)?;
    let replication = if args.replication == 0 { market.params.default_replication } else { args.replication };
    require(mode.allows_replication(replication), ErrorCode::InvalidReplication)?;
    let names_program = args.code_root != [0u8; 32];
    let canonical_roots = if mode.is_machine() { names_program } else { !names_program && args.input_root == [0u8; 32] };
    require(canonical_roots, ErrorCode::InvalidProgramRoots)?;
    let step_limit_given = args.max_steps.get() != 0;
    require(step_limit_given == mode.is_machine(), ErrorCode::InvalidStepLimit)?;
    args.requirements.validate()?;
    let max_price = args.max_price.get();
    require(max_price > 0 && args.instant_price.get() <= max_price, ErrorCode::InvalidPrice)?;
    // An instant award needs visible prices, so sealed jobs have none.
    require(!args.sealed.get() || args.instant_price.get() == 0, ErrorCode::InvalidPrice)?;
    let bid_window = bid_window(args.bid_window_slots.get(), market.params.bid_window_slots.get())?;
    let (fee_bps, crank_fee) = (config.protocol_fee_bps.get(), market.params.crank_fee.get());
    let escrowed = match funding {
        Funding::Budget => escrow_amount(max_price, replication, fee_bps, crank_fee)?,
        Funding::Deposit { amount, period } => {
            require(amount >= min_deposit(max_price, replication, period, fee_bps, crank_fee)?, ErrorCode::DepositTooSmall)?;
            amount
        }
    };
    let balance = expect_token_account(&ix.consumer_token, &market.payment_mint, ix.consumer.address())?;
    require(balance >= escrowed, ErrorCode::InsufficientFunds)?;
    Ok(Checked { mode, replication, escrowed, bid_window })
}

/// A job's incarnation, unique across the program: the market's id in the high 24 bits, its job
/// count in the low 40 (a per-market count alone repeats from one market to the next, and a job
/// may be posted again at its address in another market).
#[inline(always)]
fn incarnation(market_id: u64, job_count: u64) -> Result<u64> {
    require(market_id < 1 << 24 && job_count < 1 << 40, ErrorCode::MathOverflow)?;
    Ok((market_id << 40) | job_count)
}

pub fn process(ctx: &Context) -> Result<()> {
    let ix = PostJobAccounts::parse(ctx.accounts)?;
    let args = parse_args::<PostJobArgs>(ctx.data)?;
    post(ctx.program_id, &ix, args, Funding::Budget).map(|_| ())
}

/// Creates the job and its escrow and funds it; returns the job's incarnation. Shared with
/// `post_service`, which posts a service lease as a job of its own kind.
pub(crate) fn post(program_id: &Address, ix: &PostJobAccounts, args: &PostJobArgs, funding: Funding) -> Result<u64> {
    let config = load::<Config>(&ix.config, program_id)?;
    let mut market_view = ix.market;
    let mut market = load_mut::<Market>(&mut market_view, program_id)?;
    let checked = validate(ix, &config, &market, args, funding)?;
    market.record_job_posted()?;
    let mut job_seeds = JobSeeds::new(ix.consumer.address(), args.nonce.get());
    let job_bump = job_seeds.expect(&ix.job, program_id)?;
    let mut escrow_seeds = EscrowSeeds::new(ix.job.address());
    let escrow_bump = escrow_seeds.expect(&ix.escrow, program_id)?;

    create_pda_account(&ix.consumer, &ix.job, Job::LEN, program_id, Signer::from(&job_seeds.signer()))?;
    create_vault(&ix.consumer, &ix.escrow, &ix.payment_mint, ix.job.address(), Signer::from(&escrow_seeds.signer()))?;
    transfer(&ix.consumer_token, &ix.escrow, &ix.consumer, checked.escrowed, &[])?;

    let now = current_slot()?;
    let mut job_view = ix.job;
    let mut job = init::<Job>(&mut job_view)?;
    job.bump = job_bump;
    job.escrow_bump = escrow_bump;
    job.state = Stored::new(JobState::Open);
    job.mode = args.mode;
    job.replication = checked.replication;
    job.on_failure = args.on_failure;
    job.consumer = *ix.consumer.address();
    job.market = *ix.market.address();
    job.incarnation = U64::new(incarnation(market.id.get(), market.job_count.get())?);
    job.escrow = *ix.escrow.address();
    job.payment_mint = market.payment_mint;
    job.nonce = args.nonce;
    job.spec_hash = args.spec_hash;
    job.requirements = args.requirements;
    job.max_price = args.max_price;
    job.instant_price = args.instant_price;
    job.escrowed = U64::new(checked.escrowed);
    job.protocol_fee_bps = config.protocol_fee_bps;
    job.crank_fee = market.params.crank_fee;
    job.posted_slot = U64::new(now);
    let bid_deadline = now.safe_add(checked.bid_window)?;
    job.sealed = args.sealed;
    job.bid_deadline_slot = U64::new(bid_deadline);
    job.reveal_deadline_slot = U64::new(if args.sealed.get() {
        bid_deadline.safe_add(market.params.reveal_window_slots.get())?
    } else {
        bid_deadline
    });
    if checked.mode.is_machine() {
        job.code_root = args.code_root;
        job.input_root = args.input_root;
        job.initial_state_hash = vm_core::commit::initial_state_hash(&args.code_root, &args.input_root);
        job.max_steps = args.max_steps;
    }
    job.kind = Stored::new(if matches!(funding, Funding::Deposit { .. }) { JobKind::Service } else { JobKind::Batch });
    job.invariant()?;

    JobPosted {
        job: *ix.job.address(),
        market: job.market,
        consumer: job.consumer,
        mode: Stored::new(checked.mode),
        replication: job.replication,
        max_price: job.max_price,
        escrowed: job.escrowed,
        bid_deadline_slot: job.bid_deadline_slot,
    }
    .emit();
    Ok(job.incarnation.get())
}
