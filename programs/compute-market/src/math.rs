//! Checked arithmetic: every operation on amounts, slots and counters returns `MathOverflow`
//! instead of wrapping or panicking.

use crate::constants::BPS_DENOMINATOR;
use crate::errors::{ErrorCode, Result};

pub trait SafeMath: Sized {
    fn safe_add(self, other: Self) -> Result<Self>;
    fn safe_sub(self, other: Self) -> Result<Self>;
    fn safe_mul(self, other: Self) -> Result<Self>;
}

macro_rules! impl_safe_math {
    ($($int:ty),*) => {$(
        impl SafeMath for $int {
            #[inline(always)]
            fn safe_add(self, other: Self) -> Result<Self> {
                self.checked_add(other).ok_or_else(|| ErrorCode::MathOverflow.into())
            }

            #[inline(always)]
            fn safe_sub(self, other: Self) -> Result<Self> {
                self.checked_sub(other).ok_or_else(|| ErrorCode::MathOverflow.into())
            }

            #[inline(always)]
            fn safe_mul(self, other: Self) -> Result<Self> {
                let product = mul_u64(self as u64, other as u64).ok_or(ErrorCode::MathOverflow)?;
                <$int>::try_from(product).map_err(|_| ErrorCode::MathOverflow.into())
            }
        }
    )*};
}

impl_safe_math!(u8, u16, u32, u64);

/// `a × b`, or `None` on overflow, from 32-bit halves. `checked_mul` (and the usual
/// `a > MAX / b` test, which LLVM rewrites into it) lowers to a 128-bit multiply, `__multi3`,
/// which BPF does not have.
#[inline(always)]
fn mul_u64(a: u64, b: u64) -> Option<u64> {
    const LOW: u64 = 0xffff_ffff;
    let (a_high, a_low) = (a >> 32, a & LOW);
    let (b_high, b_low) = (b >> 32, b & LOW);
    if a_high != 0 && b_high != 0 {
        return None;
    }
    // At most one of the two cross terms is non-zero, and each is a 32 × 32-bit product.
    let cross = a_high.wrapping_mul(b_low).wrapping_add(a_low.wrapping_mul(b_high));
    if cross > LOW {
        return None;
    }
    (cross << 32).checked_add(a_low.wrapping_mul(b_low))
}

/// `amount × bps / 10,000`, rounded down and exact. With amount = q·10,000 + r the result is
/// q·bps + r·bps / 10,000, which needs no 128-bit arithmetic (BPF has no 128-bit multiply).
pub fn bps_of(amount: u64, bps: u16) -> Result<u64> {
    let bps = bps as u64;
    let whole = (amount / BPS_DENOMINATOR).safe_mul(bps)?;
    // r < 10,000 and bps < 2^16, so r·bps < 2^30 cannot overflow.
    let part = (amount % BPS_DENOMINATOR).wrapping_mul(bps) / BPS_DENOMINATOR;
    whole.safe_add(part)
}

/// `a × b / d` rounded down, exact while `b < 2^32` and `d < 2^32`, without 128-bit arithmetic:
/// with a = q·d + r, it is q·b + r·b / d, and r·b < 2^64.
pub fn mul_div_floor(a: u64, b: u64, d: u64) -> Result<u64> {
    if d == 0 || b >= 1 << 32 || d >= 1 << 32 {
        return Err(ErrorCode::MathOverflow.into());
    }
    let whole = (a / d).safe_mul(b)?;
    whole.safe_add((a % d).wrapping_mul(b) / d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pinocchio::error::ProgramError;

    const OVERFLOW: ProgramError = ProgramError::Custom(ErrorCode::MathOverflow as u32);

    #[test]
    fn checked_operations_report_overflow() {
        assert_eq!(u64::MAX.safe_add(1), Err(OVERFLOW));
        assert_eq!(0u64.safe_sub(1), Err(OVERFLOW));
        assert_eq!(u64::MAX.safe_mul(2), Err(OVERFLOW));
        assert_eq!(2u64.safe_mul(3), Ok(6));
    }

    #[test]
    fn multiplication_agrees_with_wide_arithmetic() {
        let values = [0u64, 1, 2, 3, 0xffff_ffff, 0x1_0000_0000, 0x1_0000_0001, u64::MAX / 3, u64::MAX];
        for a in values {
            for b in values {
                assert_eq!(mul_u64(a, b), a.checked_mul(b), "{a} × {b}");
            }
        }
        assert_eq!(u16::MAX.safe_mul(2), Err(OVERFLOW));
        assert_eq!(300u16.safe_mul(200), Ok(60_000));
    }

    #[test]
    fn mul_div_agrees_with_wide_arithmetic() {
        for (a, b, d) in [(10u64, 3u64, 4u64), (u64::MAX, 1_000_000, 4_000_000_000), (123_456_789, 999_999, 7), (5, 0, 9)] {
            let wide = (a as u128) * (b as u128) / (d as u128);
            assert_eq!(mul_div_floor(a, b, d).ok(), u64::try_from(wide).ok(), "{a} × {b} / {d}");
        }
        assert_eq!(mul_div_floor(1, 1, 0), Err(OVERFLOW));
    }

    #[test]
    fn bps_rounds_down_and_never_overflows() {
        assert_eq!(bps_of(999, 100), Ok(9));
        assert_eq!(bps_of(u64::MAX, 10_000), Ok(u64::MAX));
        assert_eq!(bps_of(u64::MAX, 1_000), Ok(u64::MAX / 10));
    }

    #[test]
    fn bps_agrees_with_wide_arithmetic() {
        let amounts = [0, 1, 9_999, 10_000, 123_456_789, u64::MAX / 3, u64::MAX - 1, u64::MAX];
        for amount in amounts {
            for bps in [0u16, 1, 250, 1_000, 9_999, 10_000, u16::MAX] {
                let wide = (amount as u128) * (bps as u128) / 10_000;
                assert_eq!(bps_of(amount, bps).ok(), u64::try_from(wide).ok(), "{amount} × {bps}");
            }
        }
    }
}
