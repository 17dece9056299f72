//! One event per state transition, logged in Anchor's `Program data:` format.

use crate::layout::{Bool, Stored, U16, U64};
use crate::state::{DisputeStatus, DisputeTurn, HardwareSpec, VerificationMode};
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
    /// A provider changed its hardware spec or endpoint.
    pub struct ProviderUpdated {
        pub provider: Address,
        pub spec: HardwareSpec,
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

crate::event! {
    /// A provider bid on a job (price zero while sealed).
    pub struct BidPlaced {
        pub job: Address,
        pub provider: Address,
        pub bid: Address,
        pub price: U64,
        pub sealed: Bool,
    }
}

crate::event! {
    /// A sealed bid was revealed and entered the ranking.
    pub struct BidRevealed {
        pub job: Address,
        pub provider: Address,
        pub price: U64,
    }
}

crate::event! {
    /// A bid was withdrawn; its stake lock was released, minus any forfeit.
    pub struct BidWithdrawn {
        pub job: Address,
        pub provider: Address,
        pub released: U64,
        pub forfeited: U64,
    }
}

crate::event! {
    /// The auction closed: winners must start by the start deadline.
    pub struct JobAwarded {
        pub job: Address,
        pub winners: u8,
        pub start_deadline_slot: U64,
        pub commit_deadline_slot: U64,
    }
}

crate::event! {
    /// One winner of an award and the price it will be paid.
    pub struct WinnerSelected {
        pub job: Address,
        pub provider: Address,
        pub price: U64,
        /// The job's market's moving average of awarded prices once this award counted, in
        /// millionths of a base unit per unit of work (`Market::ewma_price`).
        pub market_ewma_price: U64,
    }
}

crate::event! {
    /// A winner acknowledged its award and runs the job.
    pub struct JobStarted {
        pub job: Address,
        pub provider: Address,
    }
}

crate::event! {
    /// A winner committed its result.
    pub struct ResultCommitted {
        pub job: Address,
        pub provider: Address,
        pub output_root: [u8; 32],
        pub final_state_hash: [u8; 32],
        pub steps: U64,
    }
}

crate::event! {
    /// A winner was paid at finalization.
    pub struct WinnerPaid {
        pub job: Address,
        pub provider: Address,
        pub price: U64,
        pub fee: U64,
    }
}

crate::event! {
    /// The job was settled: winners paid (unless their results disagreed), the rest refunded.
    pub struct JobFinalized {
        pub job: Address,
        pub paid: U64,
        pub fees: U64,
        pub crank_fee: U64,
        pub refunded: U64,
        pub outputs_agreed: Bool,
    }
}

crate::event! {
    /// The auction ended without enough bids; the consumer was refunded in full.
    pub struct JobExpired {
        pub job: Address,
        pub refunded: U64,
    }
}

crate::event! {
    /// A winner missed a deadline and was slashed.
    pub struct WinnerFailed {
        pub job: Address,
        pub provider: Address,
        pub slashed: U64,
        pub to_consumer: U64,
        pub to_treasury: U64,
        pub to_keeper: U64,
        pub timed_out: Bool,
    }
}

crate::event! {
    /// After a failure the job went back to bidding.
    pub struct JobReopened {
        pub job: Address,
        pub bid_deadline_slot: U64,
    }
}

crate::event! {
    /// After a failure the consumer was refunded (the whole escrow: the failed provider paid the crank).
    pub struct JobRefunded {
        pub job: Address,
        pub refunded: U64,
    }
}

crate::event! {
    /// A challenger opened a game against a verifiable result.
    pub struct DisputeOpened {
        pub dispute: Address,
        pub job: Address,
        pub provider: Address,
        pub challenger: Address,
        pub bond: U64,
        /// The disputed step count: the game runs over [0, steps].
        pub steps: U64,
        pub turn: Stored<DisputeTurn>,
    }
}

crate::event! {
    /// A move narrowed (or dissected) the disputed interval.
    pub struct DisputeMoved {
        pub dispute: Address,
        pub lo: U64,
        pub hi: U64,
        /// Whose move is next.
        pub turn: Stored<DisputeTurn>,
    }
}

crate::event! {
    /// A game was decided by the one-step proof or by a clock.
    pub struct DisputeDecided {
        pub dispute: Address,
        pub status: Stored<DisputeStatus>,
        pub by_timeout: Bool,
    }
}

crate::event! {
    /// A decided game was paid out and closed.
    pub struct DisputeSettled {
        pub dispute: Address,
        pub job: Address,
        pub status: Stored<DisputeStatus>,
        pub bond: U64,
        /// Stake taken from the provider (zero unless its result fell here first).
        pub slashed: U64,
        pub to_challenger: U64,
        pub to_provider: U64,
        pub to_treasury: U64,
        /// Payment tokens returned to the consumer.
        pub refunded: U64,
    }
}

crate::event! {
    /// A winner of a replicated job revealed its sealed output root.
    pub struct ResultRevealed {
        pub job: Address,
        pub provider: Address,
        pub output_root: [u8; 32],
    }
}

crate::event! {
    /// A replicated job's winner was slashed at settlement: in the minority, or never revealed.
    pub struct WinnerSlashed {
        pub job: Address,
        pub provider: Address,
        pub slashed: U64,
        pub unrevealed: Bool,
    }
}

crate::event! {
    /// A consumer leased a service: its job is posted, its deposit escrowed, its terms written.
    pub struct ServicePosted {
        pub job: Address,
        pub service: Address,
        pub watchdog: Address,
        pub ack_period_slots: U64,
        pub deposit: U64,
    }
}

crate::event! {
    /// Someone topped up a service's deposit.
    pub struct ServiceFunded {
        pub job: Address,
        pub funder: Address,
        pub amount: U64,
        /// The deposit's tokens the job accounts for after the top-up.
        pub escrowed: U64,
    }
}

crate::event! {
    /// A replica was paid for acknowledged time.
    pub struct ServiceClaimed {
        pub job: Address,
        pub provider: Address,
        /// The replica is paid for every slot up to this one.
        pub paid_through_slot: U64,
        pub slots: U64,
        pub paid: U64,
        pub fee: U64,
        /// The deposit's tokens the job accounts for after the claim.
        pub escrowed: U64,
    }
}

crate::event! {
    /// A replica was ended: by the consumer's side at once, or by its owner with notice.
    pub struct ReplicaEnded {
        pub job: Address,
        pub provider: Address,
        /// The last slot the replica is paid for.
        pub ended_slot: U64,
        pub by_owner: Bool,
    }
}

crate::event! {
    /// An ended replica's bid was closed and its stake lock released.
    pub struct ReplicaClosed {
        pub job: Address,
        pub provider: Address,
    }
}

crate::event! {
    /// A service's last replica closed: the deposit's rest went back to the consumer.
    pub struct ServiceSettled {
        pub job: Address,
        pub refunded: U64,
        pub crank_fee: U64,
    }
}

crate::event! {
    /// A lease's deposit fell short of one period: its seats are kept until `pause_ends_slot`.
    pub struct ServicePaused {
        pub job: Address,
        pub paused_slot: U64,
        pub pause_ends_slot: U64,
        /// The escrow's balance when it paused.
        pub balance: U64,
    }
}

crate::event! {
    /// A top-up paid a period again: the paused lease runs on.
    pub struct ServiceResumed {
        pub job: Address,
        pub balance: U64,
    }
}

crate::event! {
    /// A replica was ended with a replacement asked for: its seat is up for bids until the round's deadline.
    pub struct SeatRequested {
        pub job: Address,
        /// The provider whose replica the seat replaces.
        pub replaced: Address,
        /// Seats the round now replaces.
        pub open_seats: u8,
        pub bid_deadline_slot: U64,
    }
}

crate::event! {
    /// A seat round closed: its best bids won (each also a `WinnerSelected`), the other seats were given up.
    pub struct SeatsAwarded {
        pub job: Address,
        pub awarded: u8,
        pub dropped: u8,
        /// The last slot the winners may start in.
        pub start_deadline_slot: U64,
    }
}
