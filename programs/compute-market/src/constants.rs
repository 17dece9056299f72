//! Bounds fixed in the program: the authority can tune parameters only inside them.

/// Basis-point denominator: 10,000 bps = 100 %.
pub const BPS_DENOMINATOR: u64 = 10_000;

/// The protocol fee can never exceed 10 % of a job's price.
pub const MAX_PROTOCOL_FEE_BPS: u16 = 1_000;

/// Slots in one day at 400 ms per slot.
pub const SLOTS_PER_DAY: u64 = 216_000;

/// Upper bound for every window and delay (bidding, start, commit, challenge, unbonding).
pub const MAX_WINDOW_SLOTS: u64 = 30 * SLOTS_PER_DAY;

/// Upper bound for a job's maximum running time.
pub const MAX_JOB_DURATION_SLOTS: u64 = 30 * SLOTS_PER_DAY;

/// At most this many providers run one replicated job.
pub const MAX_REPLICATION: u8 = 7;

/// A bid on a verifiable job locks this share of the market's per-job lock on top of it: the
/// reward of the challengers that refute its result (the per-job lock itself goes to the
/// treasury), so a cheater's own challenger wallets cannot win back any of the per-job lock.
pub const CHALLENGER_REWARD_BPS: u16 = 5_000;

/// The keeper that cranks a missed deadline is paid this share of the failed winner's slash, out
/// of the treasury's part: the failed provider pays for the crank (a consumer refunded after a
/// failure gets its whole escrow back, crank fee included), and a provider cranking its own
/// failure from a second wallet wins back at most this share.
pub const FAIL_CRANK_SHARE_BPS: u16 = 1_000;

/// A challenger who loses its game forfeits its bond; this share of it goes to the provider (for
/// the cost of defending), the rest to the treasury.
pub const PROVIDER_BOND_SHARE_BPS: u16 = 5_000;
