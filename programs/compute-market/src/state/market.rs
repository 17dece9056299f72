//! `Market`: one resource class with its tokens, windows and slash rates, at `["market", id]`.

use crate::constants::{BPS_DENOMINATOR, MAX_REPLICATION, MAX_WINDOW_SLOTS};
use crate::errors::{require, ErrorCode, Result};
use crate::layout::{U16, U32, U64};
use crate::math::{mul_div_floor, SafeMath};
use crate::state::job::JobRequirements;
use crate::state::provider::HardwareSpec;

/// The market's average price is kept in millionths of a base unit per unit of work.
pub const PRICE_SCALE: u64 = 1_000_000;
use pinocchio::Address;

crate::pod_struct! {
    /// The least hardware a provider must register to join the market.
    pub struct ResourceClass {
        /// GPU model the market is for, ASCII, zero-padded; all zero means any model.
        pub gpu_model: [u8; 16],
        /// Minimum number of GPUs.
        pub min_gpu_count: u8,
        /// Minimum memory per GPU, in MiB.
        pub min_vram_mb: U32,
        /// Minimum CPU cores.
        pub min_cpu_cores: U16,
        /// Minimum system memory, in MiB.
        pub min_memory_mb: U32,
    }
}

impl ResourceClass {
    /// Whether a provider's hardware meets this class.
    pub fn admits(&self, spec: &HardwareSpec) -> bool {
        let model_ok = self.gpu_model == [0u8; 16] || self.gpu_model == spec.gpu_model;
        model_ok
            && spec.gpu_count >= self.min_gpu_count
            && spec.vram_mb.get() >= self.min_vram_mb.get()
            && spec.cpu_cores.get() >= self.min_cpu_cores.get()
            && spec.memory_mb.get() >= self.min_memory_mb.get()
    }
}

crate::pod_struct! {
    /// The market's economic and timing rules, set at creation.
    pub struct MarketParams {
        /// Stake a provider needs before it may bid.
        pub min_stake: U64,
        /// Stake locked per awarded job, slashable on failure.
        pub job_stake_lock: U64,
        /// Paid from escrow to the keeper whose crank settles a job.
        pub crank_fee: U64,
        /// Default bidding window of a job, in slots.
        pub bid_window_slots: U64,
        /// Sealed-bid jobs: slots after bidding closes during which bids are revealed.
        pub reveal_window_slots: U64,
        /// Slots an awarded provider has to acknowledge with `start_job`.
        pub start_window_slots: U64,
        /// Slots after a commitment during which anyone may challenge it.
        pub challenge_window_slots: U64,
        /// Slots between `request_unstake` and `withdraw_unstaked`.
        pub unbonding_slots: U64,
        /// Share of the locked stake slashed when a provider does not start, in bps.
        pub slash_no_show_bps: U16,
        /// Share of the locked stake slashed when a provider misses its deadline, in bps.
        pub slash_timeout_bps: U16,
        /// Share of a slash paid to the consumer; the rest goes to the treasury, in bps.
        pub slash_consumer_share_bps: U16,
        /// Replication used when a job asks for none.
        pub default_replication: u8,
    }
}

impl MarketParams {
    /// Checks every parameter against the program's fixed bounds.
    pub fn validate(&self) -> Result<()> {
        let windows = [
            self.bid_window_slots.get(),
            self.reveal_window_slots.get(),
            self.start_window_slots.get(),
            self.challenge_window_slots.get(),
            self.unbonding_slots.get(),
        ];
        let bps = [
            self.slash_no_show_bps.get(),
            self.slash_timeout_bps.get(),
            self.slash_consumer_share_bps.get(),
        ];
        require(
            self.min_stake.get() > 0
                && self.job_stake_lock.get() > 0
                && windows.iter().all(|w| *w > 0 && *w <= MAX_WINDOW_SLOTS)
                && bps.iter().all(|b| *b as u64 <= BPS_DENOMINATOR)
                && (1..=MAX_REPLICATION).contains(&self.default_replication),
            ErrorCode::InvalidMarketParams,
        )
    }
}

crate::account! {
    /// A market: one resource class, its payment and stake tokens and its rules.
    pub struct Market {
        /// Canonical bump of the market PDA.
        pub bump: u8,
        /// The market's id: its index among the config's markets.
        pub id: U64,
        /// Mint in which jobs are paid and escrowed.
        pub payment_mint: Address,
        /// Mint in which providers stake.
        pub stake_mint: Address,
        /// Least hardware a provider must have.
        pub class: ResourceClass,
        /// Economic and timing rules.
        pub params: MarketParams,
        /// Moving average of awarded prices per GPU-slot (CPU-slot without GPUs), in millionths
        /// of a payment-mint base unit; zero until the first award.
        pub ewma_price: U64,
        /// Jobs posted in this market.
        pub job_count: U64,
        /// Providers registered in this market.
        pub provider_count: U64,
        /// Space for fields added by later versions.
        pub reserved: [u8; 64],
    }
}

impl Market {
    pub fn record_job_posted(&mut self) -> Result<()> {
        self.job_count.set(self.job_count.get().safe_add(1)?);
        Ok(())
    }

    /// Folds an award into the moving average of prices per unit of work (a GPU-slot, or a
    /// CPU-slot for jobs without GPUs, in millionths of a payment-mint unit): weight 1/8.
    pub fn record_clearing_price(&mut self, price: u64, requirements: &JobRequirements) -> Result<()> {
        let units = (requirements.gpu_count.max(1) as u64).safe_mul(requirements.max_duration_slots.get())?;
        let per_unit = mul_div_floor(price, PRICE_SCALE, units)?;
        let ewma = self.ewma_price.get();
        let next = if ewma == 0 { per_unit } else { (ewma - ewma / 8).safe_add(per_unit / 8)? };
        self.ewma_price.set(next);
        Ok(())
    }

    pub fn record_provider_registered(&mut self) -> Result<()> {
        self.provider_count.set(self.provider_count.get().safe_add(1)?);
        Ok(())
    }

    pub fn invariant(&self) -> Result<()> {
        self.params.validate()
    }
}
