//! `Job`: a consumer's request and its escrowed budget, at `["job", consumer, nonce]`.

use crate::constants::{MAX_JOB_DURATION_SLOTS, MAX_REPLICATION, MAX_WINDOW_SLOTS};
use crate::errors::{require, ErrorCode, Result};
use crate::layout::{Stored, U16, U32, U64};
use crate::math::{bps_of, SafeMath};
use pinocchio::Address;

crate::byte_enum! {
    /// Where a job is in its life. Side exits end in a closed account; see DESIGN §3.
    pub enum JobState {
        /// Bidding is open.
        Open = 0,
        /// A provider won the auction and must start.
        Awarded = 1,
        /// The provider acknowledged and runs the job.
        Running = 2,
        /// The provider posted its result commitment; the challenge window runs.
        Committed = 3,
        /// A dispute is open against the commitment.
        Challenged = 4,
        /// Settled: provider paid, escrow released.
        Finalized = 5,
        /// Cancelled by the consumer before award.
        Cancelled = 6,
        /// No valid bid by the deadline; refunded.
        Expired = 7,
        /// The provider did not start or missed its deadline.
        Failed = 8,
    }
}

crate::byte_enum! {
    /// How a wrong result is caught (DESIGN §6).
    pub enum VerificationMode {
        /// Container work run by `replication` providers; the majority of equal output roots wins.
        Replicated = 0,
        /// A deterministic RV32IM program; anyone may dispute the result by the dissection game.
        Verifiable = 1,
        /// A deterministic RV32IM program run by two providers; differing results open a game.
        Refereed = 2,
    }
}

crate::byte_enum! {
    /// What happens to a job whose provider failed.
    pub enum FailurePolicy {
        /// Bidding reopens for the remaining time.
        Reopen = 0,
        /// The consumer is refunded.
        Refund = 1,
    }
}

impl VerificationMode {
    /// The replication factors each mode allows.
    pub fn allows_replication(self, replication: u8) -> bool {
        match self {
            VerificationMode::Replicated => (1..=MAX_REPLICATION).contains(&replication),
            VerificationMode::Verifiable => replication == 1,
            VerificationMode::Refereed => replication == 2,
        }
    }
}

crate::pod_struct! {
    /// What a provider's registered hardware must offer to bid on the job.
    pub struct JobRequirements {
        /// Required GPU model, ASCII, zero-padded; all zero accepts any model.
        pub gpu_model: [u8; 16],
        /// GPUs needed.
        pub gpu_count: u8,
        /// Memory per GPU, in MiB.
        pub vram_mb: U32,
        /// CPU cores.
        pub cpu_cores: U16,
        /// System memory, in MiB.
        pub memory_mb: U32,
        /// Disk for job data, in GiB.
        pub disk_gb: U32,
        /// Longest the job may run once started, in slots.
        pub max_duration_slots: U64,
    }
}

impl JobRequirements {
    pub fn validate(&self) -> Result<()> {
        let duration = self.max_duration_slots.get();
        let gpu_consistent = self.gpu_count > 0 || (self.vram_mb.get() == 0 && self.gpu_model == [0u8; 16]);
        require(
            duration > 0 && duration <= MAX_JOB_DURATION_SLOTS && gpu_consistent,
            ErrorCode::InvalidJobRequirements,
        )
    }
}

crate::account! {
    /// A consumer's job: what it needs, what it pays at most, and where it is in its life.
    pub struct Job {
        /// Canonical bump of the job PDA.
        pub bump: u8,
        /// Canonical bump of the escrow vault PDA.
        pub escrow_bump: u8,
        /// Lifecycle state.
        pub state: Stored<JobState>,
        /// How the result is verified.
        pub mode: Stored<VerificationMode>,
        /// Number of providers that run the job.
        pub replication: u8,
        /// What happens if the provider fails.
        pub on_failure: Stored<FailurePolicy>,
        /// Who posted and pays.
        pub consumer: Address,
        /// The market the job is posted in.
        pub market: Address,
        /// Token account holding the budget, owned by this PDA.
        pub escrow: Address,
        /// Mint of the budget (the market's payment mint).
        pub payment_mint: Address,
        /// Consumer-chosen number that makes the job's address unique.
        pub nonce: U64,
        /// sha256 of the job spec (image digest, command, inputs); the spec itself is off-chain.
        pub spec_hash: [u8; 32],
        /// Hardware the job needs.
        pub requirements: JobRequirements,
        /// Highest price per provider the consumer accepts.
        pub max_price: U64,
        /// A bid at or below this price is awarded at once; zero disables instant award.
        pub instant_price: U64,
        /// Tokens held in escrow: replication × (max price + protocol fee) + crank fee.
        pub escrowed: U64,
        /// Protocol fee rate fixed at posting, in bps.
        pub protocol_fee_bps: U16,
        /// Keeper fee fixed at posting.
        pub crank_fee: U64,
        /// Slot the job was posted in.
        pub posted_slot: U64,
        /// Last slot in which bids are accepted.
        pub bid_deadline_slot: U64,
        /// Space for fields added by later versions.
        pub reserved: [u8; 128],
    }
}

/// The budget a job escrows: every replica's maximum price with its protocol fee, plus the
/// keeper fee for the crank that settles the job.
pub fn escrow_amount(max_price: u64, replication: u8, fee_bps: u16, crank_fee: u64) -> Result<u64> {
    let per_replica = max_price.safe_add(bps_of(max_price, fee_bps)?)?;
    per_replica.safe_mul(replication as u64)?.safe_add(crank_fee)
}

/// Checks a requested bid window against the program's bounds; zero selects the market default.
pub fn bid_window(requested: u64, market_default: u64) -> Result<u64> {
    let window = if requested == 0 { market_default } else { requested };
    require(window > 0 && window <= MAX_WINDOW_SLOTS, ErrorCode::InvalidBidWindow)?;
    Ok(window)
}

impl Job {
    /// The consumer may cancel only while bidding is open.
    pub fn cancel(&mut self) -> Result<()> {
        require(self.state.get() == Some(JobState::Open), ErrorCode::InvalidJobState)?;
        self.state.set(JobState::Cancelled);
        Ok(())
    }

    /// INVARIANT: the escrow covers every replica's maximum price, its fee and the crank fee.
    pub fn invariant(&self) -> Result<()> {
        let needed = escrow_amount(
            self.max_price.get(),
            self.replication,
            self.protocol_fee_bps.get(),
            self.crank_fee.get(),
        )?;
        require(self.escrowed.get() >= needed, ErrorCode::InsufficientFunds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pinocchio::error::ProgramError;

    #[test]
    fn escrow_covers_replicas_fees_and_crank() {
        // 3 × (1,000 + 2.5 %) + 7
        assert_eq!(escrow_amount(1_000, 3, 250, 7), Ok(3_082));
    }

    #[test]
    fn escrow_overflow_is_reported() {
        assert_eq!(
            escrow_amount(u64::MAX / 2, 3, 0, 0),
            Err(ProgramError::from(ErrorCode::MathOverflow))
        );
    }

    #[test]
    fn modes_bound_replication() {
        assert!(VerificationMode::Replicated.allows_replication(MAX_REPLICATION));
        assert!(!VerificationMode::Replicated.allows_replication(0));
        assert!(!VerificationMode::Replicated.allows_replication(MAX_REPLICATION + 1));
        assert!(VerificationMode::Verifiable.allows_replication(1));
        assert!(!VerificationMode::Verifiable.allows_replication(2));
        assert!(VerificationMode::Refereed.allows_replication(2));
    }

    #[test]
    fn bid_window_defaults_and_bounds() {
        assert_eq!(bid_window(0, 150), Ok(150));
        assert_eq!(bid_window(10, 150), Ok(10));
        assert!(bid_window(MAX_WINDOW_SLOTS + 1, 150).is_err());
    }
}
