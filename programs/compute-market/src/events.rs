//! One event per state transition, logged in Anchor's `Program data:` format.

use crate::layout::{Bool, Stored, U16, U64};
use crate::state::VerificationMode;
use pinocchio::Address;

crate::event! {
    /// The protocol config was created.
    pub struct ConfigInitialized {
        pub authority: Address,
        pub treasury: Address,
        pub protocol_fee_bps: U16,
    }
}

crate::event! {
    /// The authority changed the config.
    pub struct ConfigUpdated {
        pub authority: Address,
        pub treasury: Address,
        pub protocol_fee_bps: U16,
        pub paused: Bool,
    }
}

crate::event! {
    /// A market was created.
    pub struct MarketCreated {
        pub market: Address,
        pub id: U64,
        pub payment_mint: Address,
        pub stake_mint: Address,
    }
}

crate::event! {
    /// A provider registered in a market.
    pub struct ProviderRegistered {
        pub provider: Address,
        pub market: Address,
        pub owner: Address,
    }
}

crate::event! {
    /// A provider added stake.
    pub struct StakeDeposited {
        pub provider: Address,
        pub amount: U64,
        pub staked: U64,
    }
}

crate::event! {
    /// A provider started unbonding part of its stake.
    pub struct UnstakeRequested {
        pub provider: Address,
        pub amount: U64,
        pub unbonding: U64,
        pub unlock_slot: U64,
    }
}

crate::event! {
    /// A provider withdrew its unbonded stake.
    pub struct UnstakeWithdrawn {
        pub provider: Address,
        pub amount: U64,
        pub staked: U64,
    }
}

crate::event! {
    /// A consumer posted a job and escrowed its budget.
    pub struct JobPosted {
        pub job: Address,
        pub market: Address,
        pub consumer: Address,
        pub mode: Stored<VerificationMode>,
        pub replication: u8,
        pub max_price: U64,
        pub escrowed: U64,
        pub bid_deadline_slot: U64,
    }
}

crate::event! {
    /// A consumer cancelled an open job and was refunded in full.
    pub struct JobCancelled {
        pub job: Address,
        pub consumer: Address,
        pub refunded: U64,
    }
}
