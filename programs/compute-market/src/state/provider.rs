//! `Provider`: an operator's registration and stake in one market, at `["provider", market, owner]`.

use crate::errors::{require, ErrorCode, Result};
use crate::layout::{U16, U32, U64};
use crate::math::SafeMath;
use pinocchio::Address;

crate::pod_struct! {
    /// The hardware a provider offers, as it registered it.
    pub struct HardwareSpec {
        /// GPU model, ASCII, zero-padded; all zero when there is no GPU.
        pub gpu_model: [u8; GPU_MODEL_LEN],
        /// Number of GPUs.
        pub gpu_count: u8,
        /// Memory per GPU, in MiB.
        pub vram_mb: U32,
        /// CPU cores.
        pub cpu_cores: U16,
        /// System memory, in MiB.
        pub memory_mb: U32,
        /// Free disk for job data, in GiB.
        pub disk_gb: U32,
        /// Region code chosen by the operator (e.g. a UN M49 area code).
        pub region: U16,
    }
}

/// Bytes of a provider's endpoint URL on-chain.
pub const ENDPOINT_LEN: usize = 96;

/// Bytes of a GPU model name on-chain (ASCII, zero-padded).
pub const GPU_MODEL_LEN: usize = 16;

/// An endpoint is non-empty and padded canonically: once a zero byte appears, only zeros follow,
/// so every URL has exactly one encoding.
pub fn validate_endpoint(endpoint: &[u8; ENDPOINT_LEN]) -> Result<()> {
    let length = endpoint.iter().position(|&byte| byte == 0).unwrap_or(ENDPOINT_LEN);
    let padding_is_zero = endpoint[length..].iter().all(|&byte| byte == 0);
    require(length > 0 && padding_is_zero, ErrorCode::InvalidEndpoint)
}

impl HardwareSpec {
    /// A spec must describe a machine that can run something: cores, memory, and GPU memory
    /// only when there are GPUs.
    pub fn validate(&self) -> Result<()> {
        let gpu_consistent = if self.gpu_count == 0 {
            self.vram_mb.get() == 0 && self.gpu_model == [0u8; GPU_MODEL_LEN]
        } else {
            self.vram_mb.get() > 0
        };
        require(
            gpu_consistent && self.cpu_cores.get() > 0 && self.memory_mb.get() > 0,
            ErrorCode::InvalidHardwareSpec,
        )
    }
}

crate::pod_struct! {
    /// Counters the auction reads as reputation.
    pub struct Reputation {
        /// Jobs finalized with the provider paid.
        pub completed: U32,
        /// Jobs the provider failed (no-show or missed deadline).
        pub failed: U32,
        /// Times the provider's stake was slashed.
        pub slashed: U32,
        /// Disputes the provider won.
        pub disputes_won: U32,
        /// Disputes the provider lost.
        pub disputes_lost: U32,
    }
}

crate::account! {
    /// A provider's registration and stake in one market.
    pub struct Provider {
        /// Canonical bump of the provider PDA.
        pub bump: u8,
        /// Canonical bump of the stake vault PDA.
        pub vault_bump: u8,
        /// The operator's wallet: signs bids, stake changes and results.
        pub owner: Address,
        /// The market registered in.
        pub market: Address,
        /// Token account holding the stake, owned by this PDA.
        pub vault: Address,
        /// Mint of the stake (the market's stake mint).
        pub stake_mint: Address,
        /// Registered hardware.
        pub spec: HardwareSpec,
        /// The provider's public endpoint URL (specs are uploaded, results and logs are served
        /// there), UTF-8 padded with zero bytes.
        pub endpoint: [u8; ENDPOINT_LEN],
        /// Tokens in the vault.
        pub staked: U64,
        /// Part of `staked` locked by awarded jobs.
        pub locked: U64,
        /// Part of `staked` waiting out the unbonding delay.
        pub unbonding: U64,
        /// Slot from which `unbonding` may be withdrawn.
        pub unlock_slot: U64,
        /// Track record.
        pub reputation: Reputation,
        /// Slot of registration.
        pub registered_slot: U64,
        /// Protocol fees paid on the jobs the provider completed, in payment-mint base units:
        /// what its reputation is weighted by, so reputation costs real fees to build.
        pub fees_paid: U64,
        /// Space for fields added by later versions.
        pub reserved: [u8; 56],
    }
}

impl Provider {
    /// Stake neither locked by jobs nor unbonding.
    pub fn free_stake(&self) -> Result<u64> {
        self.staked.get().safe_sub(self.locked.get())?.safe_sub(self.unbonding.get())
    }

    pub fn add_stake(&mut self, amount: u64) -> Result<()> {
        require(amount > 0, ErrorCode::ZeroAmount)?;
        self.staked.set(self.staked.get().safe_add(amount)?);
        Ok(())
    }

    /// Moves `amount` of free stake into unbonding. The delay restarts for the whole unbonding
    /// amount, so stake can never leave sooner than `delay` slots after it was last requested.
    pub fn request_unstake(&mut self, amount: u64, now: u64, delay: u64) -> Result<()> {
        require(amount > 0, ErrorCode::ZeroAmount)?;
        require(amount <= self.free_stake()?, ErrorCode::InsufficientFreeStake)?;
        self.unbonding.set(self.unbonding.get().safe_add(amount)?);
        self.unlock_slot.set(now.safe_add(delay)?);
        Ok(())
    }

    /// Releases all unbonded stake once the delay has passed; returns the amount to pay out.
    pub fn withdraw_unbonded(&mut self, now: u64) -> Result<u64> {
        let amount = self.unbonding.get();
        require(amount > 0, ErrorCode::NothingToWithdraw)?;
        require(now >= self.unlock_slot.get(), ErrorCode::UnbondingNotElapsed)?;
        self.staked.set(self.staked.get().safe_sub(amount)?);
        self.unbonding.set(0);
        self.unlock_slot.set(0);
        Ok(amount)
    }

    /// Locks `amount` of free stake behind a bid or an awarded job.
    pub fn lock(&mut self, amount: u64) -> Result<()> {
        require(amount <= self.free_stake()?, ErrorCode::InsufficientFreeStake)?;
        self.locked.set(self.locked.get().safe_add(amount)?);
        Ok(())
    }

    /// Releases a lock taken by `lock`.
    pub fn unlock(&mut self, amount: u64) -> Result<()> {
        self.locked.set(self.locked.get().safe_sub(amount)?);
        Ok(())
    }

    /// Takes `amount` out of a lock for good: it leaves the vault as a penalty.
    pub fn slash(&mut self, amount: u64) -> Result<()> {
        self.take_locked(amount)?;
        self.reputation.slashed.set(self.reputation.slashed.get().saturating_add(1));
        Ok(())
    }

    /// Takes `amount` out of a lock that was already slashed once (the later parts of one
    /// penalty paid out over several instructions): counted as no further slash.
    pub fn take_locked(&mut self, amount: u64) -> Result<()> {
        self.locked.set(self.locked.get().safe_sub(amount)?);
        self.staked.set(self.staked.get().safe_sub(amount)?);
        Ok(())
    }

    /// Stake that stays once pending withdrawals leave: what counts towards the market minimum.
    pub fn bonded_stake(&self) -> Result<u64> {
        self.staked.get().safe_sub(self.unbonding.get())
    }

    /// Reputation as one number for the auction's tie-break: the protocol fees paid on completed
    /// jobs, scaled by the track record (completions and won disputes for, failures, slashes and
    /// lost disputes against, much more; zero once the bad outweighs the good). Weighting by
    /// fees paid means reputation cannot be farmed with jobs that pay no fee (a self-dealt job
    /// at a price of 1 pays none): every point costs a base unit paid to the treasury.
    pub fn score(&self) -> u64 {
        let r = &self.reputation;
        let good = 2 * r.completed.get() as u64 + r.disputes_won.get() as u64;
        let bad = 4 * r.failed.get() as u64 + 4 * r.slashed.get() as u64 + 8 * r.disputes_lost.get() as u64;
        if good <= bad {
            return 0;
        }
        // Both factors stay below 2^32 (mul_div_floor's bound); the ratio is what matters.
        let (net, good) = ((good - bad).min(u32::MAX as u64 - 1), good.min(u32::MAX as u64 - 1));
        crate::math::mul_div_floor(self.fees_paid.get(), net, good).unwrap_or(0)
    }

    /// A job finalized with the provider paid, `fee` the protocol fee charged on its price.
    pub fn record_completed(&mut self, fee: u64) -> Result<()> {
        let completed = &mut self.reputation.completed;
        completed.set(completed.get().saturating_add(1));
        self.fees_paid.set(self.fees_paid.get().saturating_add(fee));
        Ok(())
    }

    pub fn record_failed(&mut self) {
        let failed = &mut self.reputation.failed;
        failed.set(failed.get().saturating_add(1));
    }

    /// INVARIANT: locked and unbonding stake are parts of the staked amount.
    pub fn invariant(&self) -> Result<()> {
        self.free_stake().map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::from_bytes_mut;
    use pinocchio::error::ProgramError;

    fn provider() -> Provider {
        let mut bytes = [0u8; core::mem::size_of::<Provider>()];
        *from_bytes_mut::<Provider>(&mut bytes).unwrap()
    }

    fn err(code: ErrorCode) -> ProgramError {
        code.into()
    }

    #[test]
    fn unstake_only_from_free_stake() {
        let mut p = provider();
        p.add_stake(100).unwrap();
        p.locked.set(60);
        assert_eq!(p.request_unstake(41, 10, 5), Err(err(ErrorCode::InsufficientFreeStake)));
        p.request_unstake(40, 10, 5).unwrap();
        assert_eq!(p.free_stake(), Ok(0));
        assert_eq!(p.unlock_slot.get(), 15);
        p.invariant().unwrap();
    }

    #[test]
    fn withdraw_waits_for_the_delay_and_pays_once() {
        let mut p = provider();
        p.add_stake(100).unwrap();
        p.request_unstake(30, 10, 5).unwrap();
        assert_eq!(p.withdraw_unbonded(14), Err(err(ErrorCode::UnbondingNotElapsed)));
        assert_eq!(p.withdraw_unbonded(15), Ok(30));
        assert_eq!(p.staked.get(), 70);
        assert_eq!(p.withdraw_unbonded(20), Err(err(ErrorCode::NothingToWithdraw)));
    }

    #[test]
    fn a_second_request_restarts_the_delay() {
        let mut p = provider();
        p.add_stake(100).unwrap();
        p.request_unstake(10, 10, 5).unwrap();
        p.request_unstake(10, 13, 5).unwrap();
        assert_eq!(p.unbonding.get(), 20);
        assert_eq!(p.unlock_slot.get(), 18);
    }

    #[test]
    fn stake_overflow_is_reported() {
        let mut p = provider();
        p.add_stake(u64::MAX).unwrap();
        assert_eq!(p.add_stake(1), Err(err(ErrorCode::MathOverflow)));
        assert_eq!(p.add_stake(0), Err(err(ErrorCode::ZeroAmount)));
    }

    #[test]
    fn locks_come_from_free_stake_and_slashes_from_locks() {
        let mut p = provider();
        p.add_stake(100).unwrap();
        p.request_unstake(30, 0, 10).unwrap();
        assert_eq!(p.lock(71), Err(err(ErrorCode::InsufficientFreeStake)));
        p.lock(70).unwrap();
        p.slash(20).unwrap();
        assert_eq!((p.staked.get(), p.locked.get(), p.free_stake().unwrap()), (80, 50, 0));
        p.unlock(50).unwrap();
        assert_eq!(p.free_stake(), Ok(50));
        assert_eq!(p.unlock(1), Err(err(ErrorCode::MathOverflow)));
        p.invariant().unwrap();
    }

    #[test]
    fn score_weighs_fees_paid_by_the_track_record_and_never_goes_below_zero() {
        let mut p = provider();
        p.record_completed(300).unwrap();
        p.record_completed(100).unwrap();
        assert_eq!(p.score(), 400);
        p.reputation.disputes_lost.set(0);
        p.reputation.failed.set(0);
        // 5 completions and one failure: (10 − 4) / 10 of the fees.
        for _ in 0..3 {
            p.record_completed(0).unwrap();
        }
        p.record_failed();
        assert_eq!(p.score(), 240);
        p.record_failed();
        p.record_failed();
        assert_eq!(p.score(), 0);
    }

    #[test]
    fn completions_that_paid_no_fee_earn_no_reputation() {
        let mut p = provider();
        for _ in 0..1_000 {
            p.record_completed(0).unwrap();
        }
        assert_eq!(p.score(), 0);
    }

    #[test]
    fn spec_without_gpus_must_not_claim_gpu_memory() {
        let mut spec = provider().spec;
        spec.cpu_cores.set(4);
        spec.memory_mb.set(8192);
        spec.validate().unwrap();
        spec.vram_mb.set(1);
        assert_eq!(spec.validate(), Err(err(ErrorCode::InvalidHardwareSpec)));
    }

    fn endpoint(text: &[u8]) -> [u8; ENDPOINT_LEN] {
        let mut bytes = [0u8; ENDPOINT_LEN];
        bytes[..text.len()].copy_from_slice(text);
        bytes
    }

    #[test]
    fn endpoints_are_non_empty_and_canonically_padded() {
        assert_eq!(validate_endpoint(&endpoint(b"https://node.example")), Ok(()));
        assert_eq!(validate_endpoint(&[b'x'; ENDPOINT_LEN]), Ok(()));
        assert_eq!(validate_endpoint(&endpoint(b"")), Err(err(ErrorCode::InvalidEndpoint)));
        let mut hidden_tail = endpoint(b"https://a");
        hidden_tail[50] = b'z';
        assert_eq!(validate_endpoint(&hidden_tail), Err(err(ErrorCode::InvalidEndpoint)));
    }
}
