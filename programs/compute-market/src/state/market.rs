//! `Market`: one resource class with its tokens, windows and slash rates, at `["market", id]`.

use crate::constants::{BPS_DENOMINATOR, MAX_REPLICATION, MAX_WINDOW_SLOTS};
use crate::errors::{require, ErrorCode, Result};
use crate::layout::{U16, U32, U64};
use crate::math::{mul_div_floor, SafeMath};
use crate::state::job::JobRequirements;
use crate::state::provider::{HardwareSpec, GPU_MODEL_LEN};

/// The market's average price is kept in millionths of a base unit per unit of work.
pub const PRICE_SCALE: u64 = 1_000_000;

/// Units of work (GPU-slots) an award must cover to move the average by its full weight of 1/8:
/// one GPU-hour at 400 ms a slot. A shorter job moves it in proportion, so self-dealt awards of
/// tiny jobs at extreme prices cannot steer the market's price.
pub const FULL_WEIGHT_UNITS: u64 = 9_000;
use pinocchio::Address;

crate::pod_struct! {
    /// The least hardware a provider must register to join the market.
    pub struct ResourceClass {
        /// GPU model the market is for, ASCII, zero-padded; all zero means any model.
        pub gpu_model: [u8; GPU_MODEL_LEN],
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
        /// Slots a paused service keeps its replicas' seats for a top-up before they end.
        pub service_pause_slots: U64,
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
            self.service_pause_slots.get(),
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
        pub reserved: [u8; 56],
    }
}

/// The average after an award of `per_unit` over `units` of work; the first award sets it.
fn next_average(ewma: u64, per_unit: u64, units: u64) -> Result<u64> {
    if ewma == 0 {
        return Ok(per_unit);
    }
    let weight = units.min(FULL_WEIGHT_UNITS);
    let scale = 8 * FULL_WEIGHT_UNITS;
    if per_unit >= ewma {
        ewma.safe_add(mul_div_floor(per_unit - ewma, weight, scale)?)
    } else {
        ewma.safe_sub(mul_div_floor(ewma - per_unit, weight, scale)?)
    }
}

impl Market {
    pub fn record_job_posted(&mut self) -> Result<()> {
        self.job_count.set(self.job_count.get().safe_add(1)?);
        Ok(())
    }

    /// Folds an award into the moving average of prices per unit of work (a GPU-slot, or a
    /// CPU-slot for jobs without GPUs, in millionths of a payment-mint unit): weight 1/8 for a
    /// job of `FULL_WEIGHT_UNITS` or more, proportionally less for a smaller one.
    pub fn record_clearing_price(&mut self, price: u64, requirements: &JobRequirements) -> Result<()> {
        let units = (requirements.gpu_count.max(1) as u64).safe_mul(requirements.max_duration_slots.get())?;
        let per_unit = mul_div_floor(price, PRICE_SCALE, units)?;
        self.ewma_price.set(next_average(self.ewma_price.get(), per_unit, units)?);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_sized_award_moves_the_average_by_an_eighth() {
        assert_eq!(next_average(800, 1_600, FULL_WEIGHT_UNITS), Ok(900));
        assert_eq!(next_average(800, 0, 10 * FULL_WEIGHT_UNITS), Ok(700));
        assert_eq!(next_average(0, 1_234, 1), Ok(1_234));
    }

    #[test]
    fn a_tiny_award_barely_moves_the_average() {
        // One slot at a price a million times the average moves it by 1/72,000 of the gap.
        let moved = next_average(1_000_000, 1_000_000_000_000, 1).unwrap() - 1_000_000;
        assert_eq!(moved, (1_000_000_000_000 - 1_000_000) / (8 * FULL_WEIGHT_UNITS));
        assert!(moved < 1_000_000_000_000 / 8 / 1_000);
    }
}
