//! The rent-exempt minimum, read from the cluster's Rent sysvar in full.
//!
//! pinocchio's `Rent` reads only `lamports_per_byte` and assumes the newer sysvar (exemption
//! threshold 1.0). Clusters that still carry the older parameters (3,480 lamports per byte-year
//! with a threshold of 2.0) would then see every account the program creates half-funded, and
//! refuse the transaction. So the threshold is read too and applied exactly for whole numbers;
//! a fractional threshold is rounded up (over-funding by a little is safe, under-funding is not).

use crate::errors::{require, ErrorCode, Result};
use crate::math::SafeMath;

/// Bytes every account is charged for on top of its data.
pub const ACCOUNT_STORAGE_OVERHEAD: u64 = 128;

/// The largest multiplier accepted from the sysvar's threshold; anything above is refused.
const MAX_THRESHOLD: u64 = 16;

/// The Rent sysvar as serialised: lamports per byte-year (u64), exemption threshold (f64), burn
/// percent (u8).
const RENT_SYSVAR_LEN: usize = 17;

/// The two parameters that decide the minimum, as integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RentParams {
    pub lamports_per_byte_year: u64,
    /// `ceil(exemption_threshold)`: the whole years of rent an exempt account holds.
    pub threshold_years: u64,
}

impl RentParams {
    /// Reads both parameters from the serialised sysvar.
    pub fn from_sysvar_bytes(bytes: &[u8; RENT_SYSVAR_LEN]) -> Result<Self> {
        let mut lamports = [0u8; 8];
        let mut threshold = [0u8; 8];
        lamports.copy_from_slice(&bytes[..8]);
        threshold.copy_from_slice(&bytes[8..16]);
        Ok(Self {
            lamports_per_byte_year: u64::from_le_bytes(lamports),
            threshold_years: ceil_f64_bits(u64::from_le_bytes(threshold))?,
        })
    }

    /// Lamports an account of `space` data bytes must hold to be exempt.
    pub fn minimum_balance(&self, space: usize) -> Result<u64> {
        ACCOUNT_STORAGE_OVERHEAD
            .safe_add(space as u64)?
            .safe_mul(self.lamports_per_byte_year)?
            .safe_mul(self.threshold_years)
    }
}

/// `ceil(x)` of a non-negative IEEE 754 double given by its bits, computed on integers (the
/// upstream BPF target has no floating point). A negative or non-finite value, or one above
/// `MAX_THRESHOLD`, is refused.
fn ceil_f64_bits(bits: u64) -> Result<u64> {
    let negative = bits >> 63 == 1;
    let exponent = ((bits >> 52) & 0x7ff) as i64;
    let mantissa = bits & ((1u64 << 52) - 1);
    require(!negative && exponent != 0x7ff, ErrorCode::InvalidRentSysvar)?;
    if exponent == 0 && mantissa == 0 {
        return Ok(0);
    }
    let power = exponent - 1023;
    if power < 0 {
        // 0 < x < 1.
        return Ok(1);
    }
    require(power <= 4, ErrorCode::InvalidRentSysvar)?;
    let significand = mantissa | (1u64 << 52);
    let shift = 52 - power as u32;
    let whole = significand >> shift;
    let fraction = significand & ((1u64 << shift) - 1);
    let years = if fraction == 0 { whole } else { whole.safe_add(1)? };
    require(years <= MAX_THRESHOLD, ErrorCode::InvalidRentSysvar)?;
    Ok(years)
}

/// The rent-exempt minimum for `space` data bytes on the running cluster.
#[inline(always)]
pub fn minimum_balance(space: usize) -> Result<u64> {
    current_params()?.minimum_balance(space)
}

#[cfg(target_arch = "bpf")]
#[inline(always)]
fn current_params() -> Result<RentParams> {
    let mut bytes = [0u8; RENT_SYSVAR_LEN];
    let id = pinocchio::sysvars::rent::RENT_ID;
    // SAFETY: the id is 32 bytes and the buffer holds the `RENT_SYSVAR_LEN` bytes requested.
    let status = unsafe {
        pinocchio::syscalls::sol_get_sysvar(id.as_ref().as_ptr(), bytes.as_mut_ptr(), 0, RENT_SYSVAR_LEN as u64)
    };
    require(status == 0, ErrorCode::InvalidRentSysvar)?;
    RentParams::from_sysvar_bytes(&bytes)
}

/// On the host (unit tests) the newer parameters.
#[cfg(not(target_arch = "bpf"))]
fn current_params() -> Result<RentParams> {
    Ok(RentParams { lamports_per_byte_year: 6_960, threshold_years: 1 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sysvar(lamports: u64, threshold: f64) -> [u8; RENT_SYSVAR_LEN] {
        let mut bytes = [0u8; RENT_SYSVAR_LEN];
        bytes[..8].copy_from_slice(&lamports.to_le_bytes());
        bytes[8..16].copy_from_slice(&threshold.to_bits().to_le_bytes());
        bytes[16] = 50;
        bytes
    }

    #[test]
    fn older_and_newer_parameters_give_the_same_minimum() {
        let older = RentParams::from_sysvar_bytes(&sysvar(3_480, 2.0)).unwrap();
        let newer = RentParams::from_sysvar_bytes(&sysvar(6_960, 1.0)).unwrap();
        assert_eq!(older.threshold_years, 2);
        assert_eq!(newer.threshold_years, 1);
        assert_eq!(older.minimum_balance(165).unwrap(), (128 + 165) * 6_960);
        assert_eq!(older.minimum_balance(165), newer.minimum_balance(165));
    }

    #[test]
    fn fractional_thresholds_round_up() {
        assert_eq!(ceil_f64_bits(1.5f64.to_bits()), Ok(2));
        assert_eq!(ceil_f64_bits(0.25f64.to_bits()), Ok(1));
        assert_eq!(ceil_f64_bits(0.0f64.to_bits()), Ok(0));
        assert_eq!(ceil_f64_bits(16.0f64.to_bits()), Ok(16));
    }

    #[test]
    fn absurd_thresholds_are_refused() {
        for value in [-1.0f64, f64::INFINITY, f64::NAN, 17.0, 1e9] {
            assert!(ceil_f64_bits(value.to_bits()).is_err(), "{value}");
        }
    }
}
