//! The 16-way dissection of a disputed interval of steps [lo, hi]: the defender posts the state
//! hashes at 15 inner points, the challenger picks the first segment whose left end it agrees
//! with and whose right end it does not. Segments are `w = ⌊(hi − lo) / 16⌋` steps wide, the last
//! taking the remainder; an interval shorter than 16 steps splits into single steps.
use alloc::vec::Vec;

/// The most segments an interval is cut into.
pub const SEGMENTS: u64 = 16;

/// Segments [lo, hi] is cut into: 16, or one per step when shorter (0 for an empty interval).
pub fn segments(lo: u64, hi: u64) -> u64 {
    hi.saturating_sub(lo).min(SEGMENTS)
}

/// The boundary `j` of [lo, hi] (0 ≤ j ≤ segments): `lo + j·w`, the last one `hi` (it takes the
/// remainder). `None` past the last boundary. Allocation-free: the chain uses it.
pub fn boundary(lo: u64, hi: u64, j: u64) -> Option<u64> {
    let count = segments(lo, hi);
    if j > count {
        return None;
    }
    if j == count {
        return Some(hi);
    }
    let width = hi.saturating_sub(lo) / count.max(1);
    Some(lo + j * width)
}

/// The inner points of [lo, hi] the defender must post hashes for (at most 15, ascending).
pub fn split_points(lo: u64, hi: u64) -> Vec<u64> {
    (1..segments(lo, hi)).filter_map(|j| boundary(lo, hi, j)).collect()
}

/// The segment a challenger disputes: the first whose left end agrees and right end does not.
/// `posted` are the defender's hashes at the split points, `left` and `right` the interval's
/// agreed and disputed ends, `mine(step)` the challenger's own hash at a step. Returns the new
/// interval, or `None` when the challenger agrees with every point including `right` (it has no
/// dispute left).
pub fn choose(lo: u64, hi: u64, posted: &[[u8; 32]], right: &[u8; 32], mut mine: impl FnMut(u64) -> [u8; 32]) -> Option<(u64, u64)> {
    let points = split_points(lo, hi);
    let mut start = lo;
    for (point, hash) in points.iter().zip(posted) {
        if mine(*point) != *hash {
            return Some((start, *point));
        }
        start = *point;
    }
    (mine(hi) != *right).then_some((start, hi))
}
