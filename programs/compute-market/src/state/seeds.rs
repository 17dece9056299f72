//! Every PDA seed of the program, in one place: the prefixes, and for each kind of PDA one type
//! whose seeds serve its derivation check, its creation and its CPI signatures alike, so the
//! seeds a PDA is checked with are the seeds it signs with.
//!
//! Each type holds copies of its parts, so a borrow of the account they came from can end before
//! a CPI. `parts()` is built on the stack at each call: a constant array of slices would be
//! placed in read-only data, where the relinker keeps neither its pointers nor its alignment
//! (scripts/check-program-ir.mjs guards this).

use crate::errors::Result;
use crate::pda::expect_pda;
use crate::state::{Dispute, Job, Provider};
use pinocchio::cpi::Seed;
use pinocchio::{AccountView, Address};

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
/// `["service", job]`: a service lease's terms.
pub const SERVICE: &[u8] = b"service";

/// One type per kind of PDA: its prefix, its parts (fixed-size copies) and its bump.
macro_rules! pda_seeds {
    ($(#[$doc:meta])* $name:ident = $prefix:ident [$($part:ident: $len:literal),*], $count:literal) => {
        $(#[$doc])*
        pub struct $name {
            $($part: [u8; $len],)*
            bump: [u8; 1],
        }

        impl $name {
            /// The seeds without the bump: what the address is derived from.
            #[inline(always)]
            pub fn parts(&self) -> [&[u8]; $count] {
                [$prefix, $(&self.$part),*]
            }

            /// The seeds with the bump: what the PDA signs a CPI with.
            #[inline(always)]
            pub fn signer(&self) -> [Seed<'_>; $count + 1] {
                [Seed::from($prefix), $(Seed::from(&self.$part),)* Seed::from(&self.bump)]
            }

            /// Checks that `account` is this PDA (its canonical bump) and keeps the bump for
            /// signing; returns it, for the account's state to store.
            #[inline(always)]
            pub fn expect(&mut self, account: &AccountView, program_id: &Address) -> Result<u8> {
                let bump = expect_pda(account, self.parts(), program_id)?;
                self.bump = [bump];
                Ok(bump)
            }

            /// The bump, once `expect` found it or the account's state gave it.
            #[inline(always)]
            pub fn bump(&self) -> u8 {
                self.bump[0]
            }
        }
    };
}

pda_seeds! {
    /// The config: `["config"]`.
    ConfigSeeds = CONFIG [], 1
}
pda_seeds! {
    /// A market: `["market", id]`.
    MarketSeeds = MARKET [id: 8], 2
}
pda_seeds! {
    /// A provider: `["provider", market, owner]`.
    ProviderSeeds = PROVIDER [market: 32, owner: 32], 3
}
pda_seeds! {
    /// A provider's stake vault: `["stake", provider]`.
    StakeVaultSeeds = STAKE_VAULT [provider: 32], 2
}
pda_seeds! {
    /// A job: `["job", consumer, nonce]`.
    JobSeeds = JOB [consumer: 32, nonce: 8], 3
}
pda_seeds! {
    /// A job's escrow: `["escrow", job]`.
    EscrowSeeds = ESCROW [job: 32], 2
}
pda_seeds! {
    /// A bid: `["bid", job, provider]`.
    BidSeeds = BID [job: 32, provider: 32], 3
}
pda_seeds! {
    /// A dispute: `["dispute", job, challenger]`.
    DisputeSeeds = DISPUTE [job: 32, challenger: 32], 3
}
pda_seeds! {
    /// A dispute's bond vault: `["bond", dispute]`.
    BondSeeds = BOND [dispute: 32], 2
}
pda_seeds! {
    /// A one-step proof buffer: `["witness", dispute, writer]`.
    WitnessSeeds = WITNESS [dispute: 32, writer: 32], 3
}

pda_seeds! {
    /// A service lease's terms: `["service", job]`.
    ServiceSeeds = SERVICE [job: 32], 2
}

impl ServiceSeeds {
    #[inline(always)]
    pub fn new(job: &Address) -> Self {
        Self { job: job.to_bytes(), bump: [0] }
    }
}

impl ConfigSeeds {
    #[inline(always)]
    pub fn new() -> Self {
        Self { bump: [0] }
    }
}

impl MarketSeeds {
    #[inline(always)]
    pub fn new(id: u64) -> Self {
        Self { id: id.to_le_bytes(), bump: [0] }
    }
}

impl ProviderSeeds {
    #[inline(always)]
    pub fn new(market: &Address, owner: &Address) -> Self {
        Self { market: market.to_bytes(), owner: owner.to_bytes(), bump: [0] }
    }

    /// The seeds of a provider already created, with its stored bump.
    #[inline(always)]
    pub fn of(provider: &Provider) -> Self {
        Self { market: provider.market.to_bytes(), owner: provider.owner.to_bytes(), bump: [provider.bump] }
    }
}

impl StakeVaultSeeds {
    #[inline(always)]
    pub fn new(provider: &Address) -> Self {
        Self { provider: provider.to_bytes(), bump: [0] }
    }
}

impl JobSeeds {
    #[inline(always)]
    pub fn new(consumer: &Address, nonce: u64) -> Self {
        Self { consumer: consumer.to_bytes(), nonce: nonce.to_le_bytes(), bump: [0] }
    }

    /// The seeds of a job already posted, with its stored bump.
    #[inline(always)]
    pub fn of(job: &Job) -> Self {
        Self { consumer: job.consumer.to_bytes(), nonce: job.nonce.get().to_le_bytes(), bump: [job.bump] }
    }
}

impl EscrowSeeds {
    #[inline(always)]
    pub fn new(job: &Address) -> Self {
        Self { job: job.to_bytes(), bump: [0] }
    }
}

impl BidSeeds {
    #[inline(always)]
    pub fn new(job: &Address, provider: &Address) -> Self {
        Self { job: job.to_bytes(), provider: provider.to_bytes(), bump: [0] }
    }
}

impl DisputeSeeds {
    #[inline(always)]
    pub fn new(job: &Address, challenger: &Address) -> Self {
        Self { job: job.to_bytes(), challenger: challenger.to_bytes(), bump: [0] }
    }

    /// The seeds of a dispute already opened, with its stored bump.
    #[inline(always)]
    pub fn of(dispute: &Dispute) -> Self {
        Self { job: dispute.job.to_bytes(), challenger: dispute.challenger.to_bytes(), bump: [dispute.bump] }
    }
}

impl BondSeeds {
    #[inline(always)]
    pub fn new(dispute: &Address) -> Self {
        Self { dispute: dispute.to_bytes(), bump: [0] }
    }
}

impl WitnessSeeds {
    #[inline(always)]
    pub fn new(dispute: &Address, writer: &Address) -> Self {
        Self { dispute: dispute.to_bytes(), writer: writer.to_bytes(), bump: [0] }
    }
}
