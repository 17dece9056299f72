//! Every PDA seed prefix of the program, in one place.

/// `["config"]`: the protocol's singleton settings.
pub const CONFIG: &[u8] = b"config";
/// `["market", id as u64 little-endian]`.
pub const MARKET: &[u8] = b"market";
/// `["provider", market, owner]`.
pub const PROVIDER: &[u8] = b"provider";
/// `["stake", provider]`: the token account holding a provider's stake, owned by the provider PDA.
pub const STAKE_VAULT: &[u8] = b"stake";
/// `["job", consumer, nonce as u64 little-endian]`.
pub const JOB: &[u8] = b"job";
/// `["escrow", job]`: the token account holding a job's budget, owned by the job PDA.
pub const ESCROW: &[u8] = b"escrow";
/// `["bid", job, provider]`.
pub const BID: &[u8] = b"bid";
/// `["dispute", job, challenger]`: one challenger's game against a verifiable result.
pub const DISPUTE: &[u8] = b"dispute";
/// `["bond", dispute]`: the token account holding the challenger's bond, owned by the dispute PDA.
pub const BOND: &[u8] = b"bond";
/// `["witness", dispute, writer]`: a one-step proof buffer.
pub const WITNESS: &[u8] = b"witness";
