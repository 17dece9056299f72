//! `Bid`: one provider's offer on one job, at `["bid", job, provider]`. A winning bid becomes
//! the provider's assignment: it records the start and the result commitment.

use crate::errors::{require, ErrorCode, Result};
use crate::layout::{Stored, U64};
use crate::runtime::sha256;
use crate::state::{Job, JobKind, JobState};
use pinocchio::Address;

crate::byte_enum! {
    /// Where a bid is.
    pub enum BidStatus {
        /// Sealed mode: the price is hidden behind its commitment until revealed.
        Sealed = 0,
        /// The price is known and competes for the award.
        Active = 1,
        /// Awarded; the provider must start.
        Won = 2,
        /// The provider acknowledged the award and runs the job.
        Started = 3,
        /// The provider posted its result commitment.
        Committed = 4,
        /// Refereed jobs: the commitment lost the game against the other winner's; the lock was
        /// slashed and the bid is not paid.
        Refuted = 5,
    }
}

crate::account! {
    /// A provider's offer on a job, and once it wins, its assignment.
    pub struct Bid {
        /// Canonical bump of the bid PDA.
        pub bump: u8,
        /// Where the bid is.
        pub status: Stored<BidStatus>,
        /// The job bid on.
        pub job: Address,
        /// The bidding provider account.
        pub provider: Address,
        /// The provider's owner, who signs and receives the rent back.
        pub owner: Address,
        /// Price asked, in payment-mint base units (zero while sealed).
        pub price: U64,
        /// Sealed mode: sha256(price as u64 LE ‖ salt ‖ provider).
        pub commitment: [u8; 32],
        /// Slot the bid was placed in (the tie-break after price and reputation).
        pub placed_slot: U64,
        /// Sealed mode: the last slot of the bid's reveal window; an unrevealed bid withdrawn
        /// after it forfeits part of its lock.
        pub reveal_by_slot: U64,
        /// Stake this bid locks in the provider's vault.
        pub locked: U64,
        /// Price the job pays this provider (its own bid, or the clearing price when sealed).
        pub awarded_price: U64,
        /// The job's award slot when this bid won: a status of an earlier, reopened round is stale.
        pub awarded_slot: U64,
        /// Slot of `start_job`.
        pub started_slot: U64,
        /// Slot of `commit_result`.
        pub committed_slot: U64,
        /// Merkle root of the outputs.
        pub output_root: [u8; 32],
        /// sha256 of the URI the outputs are served at.
        pub result_uri_hash: [u8; 32],
        /// Verifiable jobs: hash of the machine's final state.
        pub final_state_hash: [u8; 32],
        /// Verifiable jobs: machine steps to the final state.
        pub steps: U64,
        /// Replicated jobs with several winners: sha256("result" ‖ output root ‖ salt ‖ provider),
        /// committed before any root is revealed, so no winner can copy another's.
        pub result_commitment: [u8; 32],
        /// Whether the sealed result was revealed (then `output_root` holds it).
        pub revealed: crate::layout::Bool,
        /// The incarnation of the job the bid was placed on (`Job::incarnation`).
        pub job_incarnation: U64,
        /// Services: the replica is paid for every slot up to this one (zero: none claimed yet,
        /// time counts from `started_slot`).
        pub claimed_slot: U64,
        /// Services: the last slot the replica is paid for once it was ended (zero: still up).
        pub ended_slot: U64,
        /// Space for fields added by later versions.
        pub reserved: [u8; 7],
    }
}

/// The sealed-bid commitment: binds the price to a secret salt and to the bidding provider, so
/// a commitment cannot be copied by another provider.
pub fn bid_commitment(price: u64, salt: &[u8; 32], provider: &Address) -> [u8; 32] {
    let price_bytes = price.to_le_bytes();
    sha256([&price_bytes, salt, provider.as_ref()])
}

/// The sealed form of a replicated result: binds the root to a secret salt and to the provider,
/// so a commitment can neither be guessed from the root nor copied by another winner.
pub fn result_commitment(output_root: &[u8; 32], salt: &[u8; 32], provider: &Address) -> [u8; 32] {
    sha256([b"result", output_root, salt, provider.as_ref()])
}

impl Bid {
    pub fn status(&self) -> Result<BidStatus> {
        self.status.get().ok_or_else(|| ErrorCode::InvalidAccountData.into())
    }

    /// Opens a sealed bid: the price must hash, with the salt, to the commitment.
    pub fn reveal(&mut self, price: u64, salt: &[u8; 32]) -> Result<()> {
        require(self.status()? == BidStatus::Sealed, ErrorCode::BidAlreadyRevealed)?;
        require(bid_commitment(price, salt, &self.provider) == self.commitment, ErrorCode::CommitmentMismatch)?;
        self.price.set(price);
        self.status.set(BidStatus::Active);
        Ok(())
    }

    /// Whether the bid was placed on this incarnation of its job (not on an earlier job closed
    /// and posted again at the same address).
    pub fn of_incarnation(&self, job: &Job) -> bool {
        self.job_incarnation.get() == job.incarnation.get()
    }

    /// The bid belongs to the job at `job_address` as it is now: its address and incarnation.
    pub fn check_job(&self, job_address: &Address, job: &Job) -> Result<()> {
        require(&self.job == job_address, ErrorCode::BidMismatch)?;
        require(self.of_incarnation(job), ErrorCode::StaleBid)
    }

    /// Whether the bid holds the job's current award (won, started or committed in this round).
    /// A lease's seats are awarded after its first round, each in its own slot: they hold theirs.
    pub fn holds_award(&self, job: &Job) -> Result<bool> {
        let assigned = matches!(self.status()?, BidStatus::Won | BidStatus::Started | BidStatus::Committed);
        let running = matches!(job.state()?, JobState::Awarded | JobState::Running | JobState::Committed);
        let round = job.progress.awarded_slot.get();
        let this_round = self.awarded_slot.get() == round || (job.kind()? == JobKind::Service && self.awarded_slot.get() > round);
        Ok(assigned && running && self.of_incarnation(job) && this_round)
    }

    /// Whether a referee game of this round refuted the bid: it stays bound to the job (unpaid,
    /// its lock already slashed) until `finalize` closes it.
    pub fn refuted_in(&self, job: &Job) -> Result<bool> {
        Ok(self.status()? == BidStatus::Refuted
            && self.of_incarnation(job)
            && self.awarded_slot.get() == job.progress.awarded_slot.get())
    }

    /// Whether the bid is the refuted result of a verifiable job whose games are still open (the
    /// job failed at the first game its challenger won): it owes those games their reward shares
    /// and stays bound to the job until the last of them settles and closes it.
    pub fn awaits_games_in(&self, job: &Job) -> Result<bool> {
        Ok(job.state()? == JobState::Failed
            && self.status()? == BidStatus::Committed
            && self.of_incarnation(job)
            && self.awarded_slot.get() == job.progress.awarded_slot.get())
    }

    /// INVARIANT: a sealed bid has a commitment and no price yet; a bid past its award records
    /// the award's slot and a price; a revealed result has a root.
    pub fn invariant(&self) -> Result<()> {
        let status = self.status()?;
        let sealed_ok = status != BidStatus::Sealed || (self.price.get() == 0 && self.commitment != [0u8; 32]);
        let awarded = matches!(status, BidStatus::Won | BidStatus::Started | BidStatus::Committed | BidStatus::Refuted);
        let award_ok = !awarded || (self.awarded_slot.get() > 0 && self.awarded_price.get() > 0);
        let reveal_ok = !self.revealed.get() || self.output_root != [0u8; 32];
        require(self.job_incarnation.get() > 0 && sealed_ok && award_ok && reveal_ok, ErrorCode::InvalidAccountData)
    }

    /// Moves an assigned bid one step, checking it holds the current award and is where it must be.
    pub fn advance(&mut self, job: &Job, from: BidStatus, to: BidStatus) -> Result<()> {
        require(self.holds_award(job)? && self.status()? == from, ErrorCode::NotAssignedWinner)?;
        self.status.set(to);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::from_bytes_mut;

    fn sealed_bid(price: u64, salt: [u8; 32]) -> Bid {
        let mut bytes = [0u8; core::mem::size_of::<Bid>()];
        let mut bid = *from_bytes_mut::<Bid>(&mut bytes).unwrap();
        bid.provider = Address::new_from_array([9; 32]);
        bid.commitment = bid_commitment(price, &salt, &bid.provider);
        bid
    }

    #[test]
    fn reveal_accepts_only_the_committed_price_and_salt() {
        let mut bid = sealed_bid(500, [1; 32]);
        assert!(bid.reveal(499, &[1; 32]).is_err());
        assert!(bid.reveal(500, &[2; 32]).is_err());
        bid.reveal(500, &[1; 32]).unwrap();
        assert_eq!(bid.price.get(), 500);
        assert_eq!(bid.status().unwrap(), BidStatus::Active);
        assert!(bid.reveal(500, &[1; 32]).is_err());
    }

    #[test]
    fn commitment_binds_the_provider() {
        let a = bid_commitment(7, &[3; 32], &Address::new_from_array([1; 32]));
        let b = bid_commitment(7, &[3; 32], &Address::new_from_array([2; 32]));
        assert_ne!(a, b);
    }
}
