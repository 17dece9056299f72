//! compute-market: escrow, stake and the rules of a decentralized compute marketplace.
//!
//! This file only dispatches: each instruction lives in `instructions/<name>.rs`, each account
//! type in `state/<name>.rs`. The wire format is Anchor's (8-byte sha256 discriminators, Borsh
//! layouts, errors from 6000, `Program data:` events), so Anchor clients drive it from the IDL.
#![cfg_attr(target_arch = "bpf", no_std)]

pub mod accounts;
pub mod constants;
pub mod discriminator;
pub mod ed25519;
pub mod errors;
pub mod events;
#[cfg(feature = "idl-build")]
pub mod idl;
pub mod instructions;
pub mod layout;
pub mod math;
pub mod pda;
pub mod rent;
pub mod runtime;
pub mod state;
pub mod token;

use errors::ErrorCode;
use pinocchio::error::ProgramError;
use pinocchio::{AccountView, Address, ProgramResult};

/// The program's address on localnet; the program itself works at any address, since every
/// PDA is derived from the id the runtime passes in.
pub const ID: Address = Address::from_str_const("Dy7D7MqNtmBQzpYtpyYeKJP6uz7ji6k5KMWYrp2ui9b7");

/// The runtime's entry: deserialises the input and runs the instruction.
///
/// # Safety
/// Called by the runtime with its serialised input buffer.
#[cfg(target_arch = "bpf")]
#[no_mangle]
pub unsafe extern "C" fn entrypoint(input: *mut u8) -> u64 {
    // SAFETY: `input` is the runtime's input buffer, as `process_entrypoint` requires.
    unsafe { pinocchio::entrypoint::process_entrypoint::<{ pinocchio::MAX_TX_ACCOUNTS }>(input, process_instruction) }
}
#[cfg(target_arch = "bpf")]
pinocchio::no_allocator!();
#[cfg(target_arch = "bpf")]
pinocchio::nostd_panic_handler!();

/// Declares the instruction set once: dispatch by discriminator, and the IDL's instruction list.
macro_rules! program {
    ($( $(#[doc = $doc:literal])* $ix:ident($accounts:ident, $args:ident) ),+ $(,)?) => {
        /// `sha256("global:<instruction>")[..8]` of every instruction.
        #[allow(non_upper_case_globals)]
        pub mod instruction_discriminators {
            $(pub const $ix: [u8; 8] = $crate::discriminator::discriminator(concat!("global:", stringify!($ix)));)+
        }

        fn dispatch(ctx: &accounts::Context) -> ProgramResult {
            let (discriminator, args) = ctx.data.split_at_checked(8).ok_or(ErrorCode::UnknownInstruction)?;
            #[allow(non_upper_case_globals)]
            mod keys { $(pub const $ix: u64 = u64::from_le_bytes(super::instruction_discriminators::$ix);)+ }
            let key = u64::from_le_bytes(discriminator.try_into().map_err(|_| ErrorCode::UnknownInstruction)?);
            match key {
                $(keys::$ix => instructions::$ix::process(&accounts::Context { data: args, ..*ctx }),)+
                _ => Err(ErrorCode::UnknownInstruction.into()),
            }
        }

        /// The IDL's `instructions`, in declaration order.
        #[cfg(feature = "idl-build")]
        pub fn idl_instructions(registry: &mut idl::TypeRegistry) -> Vec<serde_json::Value> {
            vec![$(serde_json::json!({
                "name": stringify!($ix),
                "docs": [$($doc.trim()),*],
                "discriminator": instruction_discriminators::$ix,
                "accounts": instructions::$ix::$accounts::idl().iter().map(|a| a.to_value()).collect::<Vec<_>>(),
                "args": idl::struct_fields::<instructions::$ix::$args>(registry),
            })),+]
        }
    };
}

program! {
    /// Creates the protocol config; the signer becomes its authority.
    initialize_config(InitializeConfigAccounts, InitializeConfigArgs),
    /// Changes the protocol fee, treasury, authority or pause flag.
    update_config(UpdateConfigAccounts, UpdateConfigArgs),
    /// Opens a market for one resource class.
    create_market(CreateMarketAccounts, CreateMarketArgs),
    /// Registers a provider's hardware in a market and creates its stake vault.
    register_provider(RegisterProviderAccounts, RegisterProviderArgs),
    /// Changes a provider's registered hardware or endpoint.
    update_provider(UpdateProviderAccounts, UpdateProviderArgs),
    /// Adds tokens to a provider's stake.
    stake(StakeAccounts, StakeArgs),
    /// Starts the unbonding delay for part of a provider's free stake.
    request_unstake(RequestUnstakeAccounts, RequestUnstakeArgs),
    /// Pays unbonded stake back to the provider's owner.
    withdraw_unstaked(WithdrawUnstakedAccounts, WithdrawUnstakedArgs),
    /// Posts a job and escrows its budget.
    post_job(PostJobAccounts, PostJobArgs),
    /// Cancels an open job with a full refund.
    cancel_job(CancelJobAccounts, CancelJobArgs),
    /// Bids on a job; locks the market's per-job stake.
    place_bid(PlaceBidAccounts, PlaceBidArgs),
    /// Reveals a sealed bid after bidding closes.
    reveal_bid(RevealBidAccounts, RevealBidArgs),
    /// Withdraws a bid that can no longer win, releasing its stake lock.
    withdraw_bid(WithdrawBidAccounts, WithdrawBidArgs),
    /// Closes a job's auction and awards its best bids.
    award(AwardAccounts, AwardArgs),
    /// A winner acknowledges its award.
    start_job(StartJobAccounts, StartJobArgs),
    /// A winner posts its result commitment.
    commit_result(CommitResultAccounts, CommitResultArgs),
    /// Settles a job after its challenge window.
    finalize(FinalizeAccounts, FinalizeArgs),
    /// Refunds a job whose auction ended without enough bids.
    expire_job(ExpireJobAccounts, ExpireJobArgs),
    /// Fails and slashes a winner that did not start in time.
    fail_no_show(FailNoShowAccounts, FailNoShowArgs),
    /// Fails and slashes a winner that did not commit in time.
    fail_timeout(FailTimeoutAccounts, FailTimeoutArgs),
    /// A winner of a verifiable job posts the machine's final state and output root.
    commit_verifiable(CommitVerifiableAccounts, CommitVerifiableArgs),
    /// Opens a dissection game against a verifiable result, with a bond.
    open_dispute(OpenDisputeAccounts, OpenDisputeArgs),
    /// The provider posts the state hashes inside the disputed interval.
    dissect(DissectAccounts, DissectArgs),
    /// The challenger picks the disputed segment.
    choose_segment(ChooseSegmentAccounts, ChooseSegmentArgs),
    /// Writes a chunk of a one-step witness into a proof buffer.
    write_witness(WriteWitnessAccounts, WriteWitnessArgs),
    /// Checks the one-step proof at a single disputed step and decides the game.
    prove_step(ProveStepAccounts, ProveStepArgs),
    /// Ends a game whose party to move ran out of clock.
    timeout_dispute(TimeoutDisputeAccounts, TimeoutDisputeArgs),
    /// Pays out a decided game and closes it.
    settle_dispute(SettleDisputeAccounts, SettleDisputeArgs),
    /// Opens the game between a refereed job's two winners when their results differ.
    referee(RefereeAccounts, RefereeArgs),
    /// Pays out a decided referee game: the loser is slashed and its bid refuted.
    settle_referee(SettleRefereeAccounts, SettleRefereeArgs),
    /// A winner of a replicated job with several winners posts its sealed result.
    commit_sealed_result(CommitSealedResultAccounts, CommitSealedResultArgs),
    /// A winner reveals its sealed output root once every winner committed.
    reveal_result(RevealResultAccounts, RevealResultArgs),
    /// Returns a proof buffer's rent to its writer once its game is decided or closed.
    close_witness(CloseWitnessAccounts, CloseWitnessArgs),
    /// Leases a service: a job paid per acknowledged slot, its deposit and its terms.
    post_service(PostServiceAccounts, PostServiceArgs),
    /// Tops up a service's deposit; anyone may.
    fund_service(FundServiceAccounts, FundServiceArgs),
    /// Pays a replica for the time the service's watchdog acknowledged (Ed25519, verified just before).
    claim_service(ClaimServiceAccounts, ClaimServiceArgs),
    /// Ends a replica: at once by the consumer or its watchdog (optionally asking for a replacement), with a period's notice by its owner.
    end_replica(EndReplicaAccounts, EndReplicaArgs),
    /// Releases an ended replica once its owner could claim; the last one settles the lease.
    close_replica(CloseReplicaAccounts, CloseReplicaArgs),
    /// Returns the rent of a dead job's service terms to the consumer.
    close_service(CloseServiceAccounts, CloseServiceArgs),
    /// Pauses a running lease whose deposit cannot pay one more period; a top-up resumes it.
    pause_service(PauseServiceAccounts, PauseServiceArgs),
    /// Bids for a seat of a running lease while its seat round is open.
    bid_seat(BidSeatAccounts, BidSeatArgs),
    /// Closes a lease's seat round: its best bids win the seats.
    award_seat(AwardSeatAccounts, AwardSeatArgs),
    /// A seat winner acknowledges its award and becomes one of the lease's replicas.
    start_seat(StartSeatAccounts, StartSeatArgs),
}

/// Dispatches an instruction and logs a failing instruction's error by name. Always inlined
/// into `entrypoint`: with its result pointer it takes six arguments, one more than BPF passes.
#[inline(always)]
pub fn process_instruction(program_id: &Address, accounts: &mut [AccountView], data: &[u8]) -> ProgramResult {
    let result = dispatch(&accounts::Context { program_id, accounts, data });
    if let Err(ProgramError::Custom(code)) = &result {
        if let Some(error) = ErrorCode::from_code(*code) {
            runtime::log(error.log_line());
        }
    }
    result
}
