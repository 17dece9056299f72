//! `Job`: a consumer's request and its escrowed budget, at `["job", consumer, nonce]`.

use crate::constants::{CHALLENGER_REWARD_BPS, MAX_JOB_DURATION_SLOTS, MAX_REPLICATION, MAX_WINDOW_SLOTS};
use crate::errors::{require, ErrorCode, Result};
use crate::layout::{Bool, Stored, U16, U32, U64};
use crate::math::{bps_of, SafeMath};
use crate::state::provider::{HardwareSpec, GPU_MODEL_LEN};
use pinocchio::Address;

crate::byte_enum! {
    /// Where a job is in its life. Side exits end in a closed account; see DESIGN §3.
    pub enum JobState {
        /// Bidding is open.
        Open = 0,
        /// A provider won the auction and must start.
        Awarded = 1,
        /// The provider acknowledged and runs the job.
        Running = 2,
        /// The provider posted its result commitment; the challenge window runs.
        Committed = 3,
        /// A dispute is open against the commitment.
        Challenged = 4,
        /// Settled: provider paid, escrow released.
        Finalized = 5,
        /// Cancelled by the consumer before award.
        Cancelled = 6,
        /// No valid bid by the deadline; refunded.
        Expired = 7,
        /// The provider did not start or missed its deadline.
        Failed = 8,
    }
}

crate::byte_enum! {
    /// What is bought: one run with a result, or a service kept up and paid per acknowledged slot.
    pub enum JobKind {
        /// A batch job: run once, commit a result, settle after the challenge window.
        Batch = 0,
        /// A service lease: replicas stay up and are paid for the slots the consumer's watchdog
        /// acknowledged (see `state/service.rs`); it never commits a result.
        Service = 1,
    }
}

crate::byte_enum! {
    /// How a wrong result is caught (DESIGN §6).
    pub enum VerificationMode {
        /// Container work run by `replication` providers; the majority of equal output roots wins.
        Replicated = 0,
        /// A deterministic RV32IM program; anyone may dispute the result by the dissection game.
        Verifiable = 1,
        /// A deterministic RV32IM program run by two providers; differing results open a game.
        Refereed = 2,
    }
}

crate::byte_enum! {
    /// What happens to a job whose provider failed.
    pub enum FailurePolicy {
        /// Bidding reopens for the remaining time.
        Reopen = 0,
        /// The consumer is refunded.
        Refund = 1,
    }
}

impl VerificationMode {
    /// Whether results are states of the `rv32im` machine, provable step by step.
    pub fn is_machine(self) -> bool {
        matches!(self, VerificationMode::Verifiable | VerificationMode::Refereed)
    }

    /// The replication factors each mode allows.
    pub fn allows_replication(self, replication: u8) -> bool {
        match self {
            VerificationMode::Replicated => (1..=MAX_REPLICATION).contains(&replication),
            VerificationMode::Verifiable => replication == 1,
            VerificationMode::Refereed => replication == 2,
        }
    }
}

crate::pod_struct! {
    /// What a provider's registered hardware must offer to bid on the job.
    pub struct JobRequirements {
        /// Required GPU model, ASCII, zero-padded; all zero accepts any model.
        pub gpu_model: [u8; GPU_MODEL_LEN],
        /// GPUs needed.
        pub gpu_count: u8,
        /// Memory per GPU, in MiB.
        pub vram_mb: U32,
        /// CPU cores.
        pub cpu_cores: U16,
        /// System memory, in MiB.
        pub memory_mb: U32,
        /// Disk for job data, in GiB.
        pub disk_gb: U32,
        /// Longest the job may run once started, in slots.
        pub max_duration_slots: U64,
    }
}

impl JobRequirements {
    pub fn validate(&self) -> Result<()> {
        let duration = self.max_duration_slots.get();
        let gpu_consistent = self.gpu_count > 0 || (self.vram_mb.get() == 0 && self.gpu_model == [0u8; GPU_MODEL_LEN]);
        require(
            duration > 0 && duration <= MAX_JOB_DURATION_SLOTS && gpu_consistent,
            ErrorCode::InvalidJobRequirements,
        )
    }
}

/// How many best bids the job ranks: enough to award the largest replication and to know the
/// first losing price of a sealed auction.
pub const RANKED_BIDS: usize = MAX_REPLICATION as usize + 1;

crate::pod_struct! {
    /// One ranked bid: who, at what price, with what reputation, since when.
    pub struct RankedBid {
        /// The bidding provider account.
        pub provider: Address,
        /// Price asked.
        pub price: U64,
        /// The provider's reputation score when it bid.
        pub score: U64,
        /// Slot the bid was placed (or revealed) in.
        pub slot: U64,
    }
}

impl RankedBid {
    /// The auction's order: lower price first; on a tie, higher reputation; then earlier slot.
    /// Equal bids keep their arrival order.
    pub fn beats(&self, other: &RankedBid) -> bool {
        let (price, other_price) = (self.price.get(), other.price.get());
        if price != other_price {
            return price < other_price;
        }
        let (score, other_score) = (self.score.get(), other.score.get());
        if score != other_score {
            return score > other_score;
        }
        self.slot.get() < other.slot.get()
    }
}

crate::pod_struct! {
    /// The auction's standing, kept on the job so that awarding is O(1) and verifiable.
    pub struct Auction {
        /// Bids placed and not withdrawn, sealed ones included.
        pub bid_count: U32,
        /// Valid entries at the front of `ranking`.
        pub ranked_count: u8,
        /// The best known bids, best first.
        pub ranking: [RankedBid; RANKED_BIDS],
    }
}

impl Auction {
    pub fn ranked(&self) -> &[RankedBid] {
        self.ranking.get(..self.ranked_count as usize).unwrap_or(&[])
    }

    /// The entry at `rank`, if ranked.
    pub fn at(&self, rank: usize) -> Option<&RankedBid> {
        self.ranked().get(rank)
    }

    pub fn position_of(&self, provider: &Address) -> Option<usize> {
        self.ranked().iter().position(|entry| &entry.provider == provider)
    }

    /// Places `entry` in order. When the ranking is full, the worst entry (possibly `entry`)
    /// falls off: it stays a valid bid, just not one that can win.
    pub fn insert(&mut self, entry: RankedBid) {
        let count = self.ranked().len();
        let at = self.ranked().iter().position(|ranked| entry.beats(ranked)).unwrap_or(count);
        if at >= RANKED_BIDS {
            return;
        }
        // Shift the entries from `at` one place down; the last one falls off a full ranking.
        let end = (count + 1).min(RANKED_BIDS);
        for i in (at + 1..end).rev() {
            self.copy_entry(i - 1, i);
        }
        if let Some(slot) = self.ranking.get_mut(at) {
            *slot = entry;
        }
        self.ranked_count = end as u8;
    }

    /// Copies entry `from` over entry `to`. Indexing through `get` keeps the program free of
    /// panic paths (see `scripts/check-program-ir.mjs`).
    fn copy_entry(&mut self, from: usize, to: usize) {
        if let Some(entry) = self.ranking.get(from).copied() {
            if let Some(slot) = self.ranking.get_mut(to) {
                *slot = entry;
            }
        }
    }

    /// Empties the ranking; the bids stay (and count in `bid_count`), none of them ranked.
    pub fn clear(&mut self) {
        for entry in self.ranking.iter_mut() {
            *entry = RankedBid { provider: Address::new_from_array([0; 32]), price: U64::new(0), score: U64::new(0), slot: U64::new(0) };
        }
        self.ranked_count = 0;
    }

    /// Removes the provider's entry, if ranked, closing the gap.
    pub fn remove(&mut self, provider: &Address) {
        let Some(at) = self.position_of(provider) else { return };
        let count = self.ranked().len();
        for i in at..count - 1 {
            self.copy_entry(i + 1, i);
        }
        if let Some(last) = self.ranking.get_mut(count - 1) {
            *last = RankedBid {
                provider: Address::new_from_array([0; 32]),
                price: U64::new(0),
                score: U64::new(0),
                slot: U64::new(0),
            };
        }
        self.ranked_count = (count - 1) as u8;
    }
}

crate::pod_struct! {
    /// The awarded run: its deadlines and how many winners have reached each step.
    pub struct Progress {
        /// Slot of the award.
        pub awarded_slot: U64,
        /// Last slot in which winners may `start_job`.
        pub start_deadline_slot: U64,
        /// Last slot in which winners may `commit_result`.
        pub commit_deadline_slot: U64,
        /// First slot in which the job may be finalized.
        pub challenge_deadline_slot: U64,
        /// Winners that started.
        pub started: u8,
        /// Winners that committed a result.
        pub committed: u8,
        /// Winners that failed (no-show or missed deadline) and were slashed.
        pub failed: u8,
        /// Disputes open against the job's result; finalization waits for none. Wide enough that
        /// no number of sybil games can lock honest challengers out.
        pub open_disputes: U16,
    }
}

crate::account! {
    /// A consumer's job: what it needs, what it pays at most, and where it is in its life.
    pub struct Job {
        /// Canonical bump of the job PDA.
        pub bump: u8,
        /// Canonical bump of the escrow vault PDA.
        pub escrow_bump: u8,
        /// Lifecycle state.
        pub state: Stored<JobState>,
        /// How the result is verified.
        pub mode: Stored<VerificationMode>,
        /// Number of providers that run the job.
        pub replication: u8,
        /// What happens if the provider fails.
        pub on_failure: Stored<FailurePolicy>,
        /// Who posted and pays.
        pub consumer: Address,
        /// The market the job is posted in.
        pub market: Address,
        /// Token account holding the budget, owned by this PDA.
        pub escrow: Address,
        /// Mint of the budget (the market's payment mint).
        pub payment_mint: Address,
        /// Consumer-chosen number that makes the job's address unique.
        pub nonce: U64,
        /// sha256 of the job spec (image digest, command, inputs); the spec itself is off-chain.
        pub spec_hash: [u8; 32],
        /// Hardware the job needs.
        pub requirements: JobRequirements,
        /// Highest price per provider the consumer accepts.
        pub max_price: U64,
        /// A bid at or below this price is awarded at once; zero disables instant award.
        pub instant_price: U64,
        /// Tokens held in escrow: replication × (max price + protocol fee) + crank fee.
        pub escrowed: U64,
        /// Protocol fee rate fixed at posting, in bps.
        pub protocol_fee_bps: U16,
        /// Keeper fee fixed at posting.
        pub crank_fee: U64,
        /// Sealed-bid mode: bids are commitments, revealed after bidding; winners are paid the
        /// first losing price (second-price, Vickrey).
        pub sealed: Bool,
        /// Slot the job was posted in.
        pub posted_slot: U64,
        /// Last slot in which bids are accepted.
        pub bid_deadline_slot: U64,
        /// Sealed mode: last slot in which bids may be revealed.
        pub reveal_deadline_slot: U64,
        /// The auction's standing: bid count and the best bids in order.
        pub auction: Auction,
        /// Deadlines and counts of the awarded run.
        pub progress: Progress,
        /// Verifiable jobs: Merkle root of the program's code quarter (zero for container jobs).
        pub code_root: [u8; 32],
        /// Verifiable jobs: Merkle root of the input quarter (length-prefixed input).
        pub input_root: [u8; 32],
        /// Verifiable jobs: the machine's first state hash, computed here from the two roots; the
        /// agreed start of every dispute.
        pub initial_state_hash: [u8; 32],
        /// Verifiable jobs: the most steps a run takes. A run still going at the limit ends
        /// there (so a provider is never owed a state it cannot reach); zero for container jobs.
        pub max_steps: U64,
        /// Which job ever posted at this address this is: the market's job count at posting.
        /// Bids carry it, so a bid of a closed job never counts in one posted again at the same
        /// address (same consumer and nonce).
        pub incarnation: U64,
        /// Verifiable jobs refuted by a game: each challenger-won game's share of the winner's
        /// challenger reward (the reward pool split among the games open at the refutation).
        pub reward_per_game: U64,
        /// Batch job or service lease (zero, a batch job, in accounts written before services).
        pub kind: Stored<JobKind>,
        /// Space for fields added by later versions.
        pub reserved: [u8; 7],
    }
}

/// The budget a job escrows: every replica's maximum price with its protocol fee, plus the
/// keeper fee for the crank that settles the job.
pub fn escrow_amount(max_price: u64, replication: u8, fee_bps: u16, crank_fee: u64) -> Result<u64> {
    let per_replica = max_price.safe_add(bps_of(max_price, fee_bps)?)?;
    per_replica.safe_mul(replication as u64)?.safe_add(crank_fee)
}

/// The stake a bid on a job of `mode` locks: the market's per-job lock `L`, and for verifiable
/// jobs the challenger reward on top (`CHALLENGER_REWARD_BPS` of `L`). A refuted provider loses
/// `L` to the treasury and the reward to the challengers that won, so whatever games its own
/// second wallets win, it loses at least `L`.
pub fn bid_lock(mode: VerificationMode, market_lock: u64) -> Result<u64> {
    match mode {
        VerificationMode::Verifiable => market_lock.safe_add(bps_of(market_lock, CHALLENGER_REWARD_BPS)?),
        VerificationMode::Replicated | VerificationMode::Refereed => Ok(market_lock),
    }
}

/// Checks a requested bid window against the program's bounds; zero selects the market default.
pub fn bid_window(requested: u64, market_default: u64) -> Result<u64> {
    let window = if requested == 0 { market_default } else { requested };
    require(window > 0 && window <= MAX_WINDOW_SLOTS, ErrorCode::InvalidBidWindow)?;
    Ok(window)
}

impl Job {
    pub fn kind(&self) -> Result<JobKind> {
        self.kind.get().ok_or_else(|| ErrorCode::InvalidAccountData.into())
    }

    /// Results are for batch jobs: a service is paid per acknowledged slot, never on a result.
    pub fn require_batch(&self) -> Result<()> {
        require(self.kind()? == JobKind::Batch, ErrorCode::ServiceHasNoResult)
    }

    pub fn require_service(&self) -> Result<()> {
        require(self.kind()? == JobKind::Service, ErrorCode::NotAService)
    }

    pub fn state(&self) -> Result<JobState> {
        self.state.get().ok_or_else(|| ErrorCode::InvalidAccountData.into())
    }

    fn require_state(&self, state: JobState) -> Result<()> {
        require(self.state()? == state, ErrorCode::InvalidJobState)
    }

    /// The consumer may cancel only while bidding is open.
    pub fn cancel(&mut self) -> Result<()> {
        self.require_state(JobState::Open)?;
        self.state.set(JobState::Cancelled);
        Ok(())
    }

    /// Replicated jobs with several winners commit sealed results and reveal them once all have
    /// committed (commit–reveal), so no winner can copy another's output root.
    pub fn sealed_results(&self) -> bool {
        self.mode.get() == Some(VerificationMode::Replicated) && self.replication >= 2
    }

    /// The slot after which the auction can be closed: the end of bidding, or of revealing.
    pub fn auction_end(&self) -> u64 {
        if self.sealed.get() {
            self.reveal_deadline_slot.get()
        } else {
            self.bid_deadline_slot.get()
        }
    }

    /// Bids are accepted while the job is open, up to its bid deadline.
    pub fn check_bidding(&self, now: u64) -> Result<()> {
        self.require_state(JobState::Open)?;
        require(now <= self.bid_deadline_slot.get(), ErrorCode::BiddingClosed)
    }

    /// Sealed bids are revealed after bidding closes and until the reveal deadline.
    pub fn check_revealing(&self, now: u64) -> Result<()> {
        self.require_state(JobState::Open)?;
        require(self.sealed.get(), ErrorCode::NotSealedAuction)?;
        require(
            now > self.bid_deadline_slot.get() && now <= self.reveal_deadline_slot.get(),
            ErrorCode::RevealWindowClosed,
        )
    }

    fn winners(&self) -> usize {
        self.replication as usize
    }

    /// An open-mode job with enough bids at or below its instant price is awarded at once.
    pub fn instant_award_ready(&self) -> bool {
        let instant = self.instant_price.get();
        let last_winner = self.winners().checked_sub(1).and_then(|rank| self.auction.at(rank));
        !self.sealed.get() && instant > 0 && last_winner.is_some_and(|bid| bid.price.get() <= instant)
    }

    /// The auction can be closed with an award: enough ranked bids, and bidding (and revealing)
    /// over, or an instant award.
    pub fn check_award(&self, now: u64) -> Result<()> {
        self.require_state(JobState::Open)?;
        require(self.auction.ranked().len() >= self.winners(), ErrorCode::NotEnoughBids)?;
        require(now > self.auction_end() || self.instant_award_ready(), ErrorCode::AuctionStillOpen)
    }

    /// The auction ended without enough valid bids: the job can only be refunded.
    pub fn check_expiry(&self, now: u64) -> Result<()> {
        self.require_state(JobState::Open)?;
        require(now > self.auction_end(), ErrorCode::AuctionStillOpen)?;
        require(self.auction.ranked().len() < self.winners(), ErrorCode::AuctionHasWinners)
    }

    /// What winner `rank` is paid: its own price in an open auction; in a sealed one, the first
    /// losing price (the r+1-th), or the consumer's maximum when no bid lost.
    pub fn award_price(&self, rank: usize) -> u64 {
        let priced_by = if self.sealed.get() { self.winners() } else { rank };
        self.auction.at(priced_by).map_or(self.max_price.get(), |bid| bid.price.get())
    }

    /// Closes the auction: winners must start within the start window and commit before the
    /// start deadline plus the job's maximum duration.
    pub fn award(&mut self, now: u64, start_window: u64) -> Result<()> {
        self.check_award(now)?;
        let start_deadline = now.safe_add(start_window)?;
        self.progress = Progress {
            awarded_slot: U64::new(now),
            start_deadline_slot: U64::new(start_deadline),
            commit_deadline_slot: U64::new(start_deadline.safe_add(self.requirements.max_duration_slots.get())?),
            challenge_deadline_slot: U64::new(0),
            started: 0,
            committed: 0,
            failed: 0,
            open_disputes: U16::new(0),
        };
        self.state.set(JobState::Awarded);
        Ok(())
    }

    /// A winner acknowledged in time; when all have, the job runs.
    pub fn record_start(&mut self, now: u64) -> Result<()> {
        self.require_state(JobState::Awarded)?;
        require(now <= self.progress.start_deadline_slot.get(), ErrorCode::StartWindowClosed)?;
        self.progress.started = self.progress.started.safe_add(1)?;
        if self.progress.started as usize == self.winners() {
            self.state.set(JobState::Running);
            // A running lease ranks only the bids of its open seat round, so a losing bid of the
            // first auction is free to leave while a seat bid binds until its round's award.
            if self.kind()? == JobKind::Service {
                self.auction.clear();
            }
        }
        Ok(())
    }

    /// Whether the job can still award its ranked bids, which therefore may not leave: an open
    /// auction, or a running lease (whose ranking is its seat round's).
    pub fn awards_ranked(&self) -> Result<bool> {
        let state = self.state()?;
        Ok(state == JobState::Open || (state == JobState::Running && self.kind()? == JobKind::Service))
    }

    /// Whether `awarded_slot` is a seat's award on this running lease (after its first award).
    pub fn is_seat_award(&self, awarded_slot: u64) -> Result<bool> {
        Ok(self.kind()? == JobKind::Service && self.state()? == JobState::Running && awarded_slot > self.progress.awarded_slot.get())
    }

    /// The last slot a seat awarded at `awarded_slot` may start in: the lease's own start window
    /// counted from the seat's award.
    pub fn seat_start_deadline(&self, awarded_slot: u64) -> Result<u64> {
        let window = self.progress.start_deadline_slot.get().safe_sub(self.progress.awarded_slot.get())?;
        awarded_slot.safe_add(window)
    }

    /// A seat winner acknowledges its award within its start window.
    pub fn check_seat_start(&self, awarded_slot: u64, now: u64) -> Result<()> {
        require(self.is_seat_award(awarded_slot)?, ErrorCode::NotASeat)?;
        require(now <= self.seat_start_deadline(awarded_slot)?, ErrorCode::StartWindowClosed)
    }

    /// A seat winner that has not started by its start deadline can be failed.
    pub fn check_seat_no_show(&self, awarded_slot: u64, now: u64) -> Result<()> {
        require(self.is_seat_award(awarded_slot)?, ErrorCode::NotASeat)?;
        require(now > self.seat_start_deadline(awarded_slot)?, ErrorCode::DeadlineNotReached)
    }

    /// A winner committed in time; when all have, the challenge window opens.
    pub fn record_commit(&mut self, now: u64, challenge_window: u64) -> Result<()> {
        self.require_state(JobState::Running)?;
        require(now <= self.progress.commit_deadline_slot.get(), ErrorCode::CommitWindowClosed)?;
        self.progress.committed = self.progress.committed.safe_add(1)?;
        if self.progress.committed as usize == self.winners() {
            self.progress.challenge_deadline_slot.set(now.safe_add(challenge_window)?);
            self.state.set(JobState::Committed);
        }
        Ok(())
    }

    /// Settlement is due once the challenge window has passed with no dispute open.
    pub fn check_finalize(&self, now: u64) -> Result<()> {
        self.require_state(JobState::Committed)?;
        require(now >= self.progress.challenge_deadline_slot.get(), ErrorCode::ChallengeWindowOpen)?;
        require(self.progress.open_disputes.get() == 0, ErrorCode::DisputeOpen)
    }

    /// A winner that has not started by the start deadline can be failed.
    pub fn check_no_show(&self, now: u64) -> Result<()> {
        self.require_state(JobState::Awarded)?;
        require(now > self.progress.start_deadline_slot.get(), ErrorCode::DeadlineNotReached)
    }

    /// A winner that has not committed by the commit deadline can be failed. Only once the job
    /// runs: while some winner has not started, the fault is that winner's (a no-show), not the
    /// waiting starters'.
    pub fn check_timeout(&self, now: u64) -> Result<()> {
        // A service runs until ended; its replicas have no commit deadline to miss.
        self.require_batch()?;
        self.require_state(JobState::Running)?;
        require(now > self.progress.commit_deadline_slot.get(), ErrorCode::DeadlineNotReached)
    }

    /// Counts a failed winner; returns whether every winner is now accounted for (started or
    /// failed after a no-show; committed or failed after a timeout), so the failure policy applies.
    pub fn record_failure(&mut self, timed_out: bool) -> Result<bool> {
        self.progress.failed = self.progress.failed.safe_add(1)?;
        let done = if timed_out { self.progress.committed } else { self.progress.started };
        Ok(done as usize + self.progress.failed as usize >= self.winners())
    }

    /// Reopens bidding after a failure: remaining ranked bids stay; new ones may come.
    pub fn reopen(&mut self, now: u64, bid_window: u64, reveal_window: u64) -> Result<()> {
        let bid_deadline = now.safe_add(bid_window)?;
        self.bid_deadline_slot.set(bid_deadline);
        self.reveal_deadline_slot.set(if self.sealed.get() { bid_deadline.safe_add(reveal_window)? } else { bid_deadline });
        self.progress = Progress {
            awarded_slot: U64::new(0),
            start_deadline_slot: U64::new(0),
            commit_deadline_slot: U64::new(0),
            challenge_deadline_slot: U64::new(0),
            started: 0,
            committed: 0,
            failed: 0,
            open_disputes: U16::new(0),
        };
        self.state.set(JobState::Open);
        Ok(())
    }

    /// A game against the result was opened.
    pub fn record_dispute_opened(&mut self) -> Result<()> {
        let open = &mut self.progress.open_disputes;
        open.set(open.get().safe_add(1)?);
        Ok(())
    }

    /// A game against the result was settled.
    pub fn record_dispute_settled(&mut self) -> Result<()> {
        let open = &mut self.progress.open_disputes;
        open.set(open.get().safe_sub(1)?);
        Ok(())
    }

    pub fn disputes_open(&self) -> u16 {
        self.progress.open_disputes.get()
    }

    pub fn record_bid_placed(&mut self) {
        let count = &mut self.auction.bid_count;
        count.set(count.get().saturating_add(1));
    }

    pub fn record_bid_withdrawn(&mut self) {
        let count = &mut self.auction.bid_count;
        count.set(count.get().saturating_sub(1));
    }

    /// Whether the job's hardware requirements are met by a provider's registered spec.
    pub fn admits(&self, spec: &HardwareSpec) -> bool {
        let r = &self.requirements;
        let model_ok = r.gpu_model == [0u8; GPU_MODEL_LEN] || r.gpu_model == spec.gpu_model;
        model_ok
            && spec.gpu_count >= r.gpu_count
            && spec.vram_mb.get() >= r.vram_mb.get()
            && spec.cpu_cores.get() >= r.cpu_cores.get()
            && spec.memory_mb.get() >= r.memory_mb.get()
            && spec.disk_gb.get() >= r.disk_gb.get()
    }

    /// INVARIANT: the escrow covers every replica's maximum price, its fee and the crank fee;
    /// the job is numbered; its counts stay within its winners (started, committed and failed
    /// never exceed them, committed never exceeds started) and its ranking within its bids; games
    /// are open only against a committed (or refuted) result.
    pub fn invariant(&self) -> Result<()> {
        // A batch job holds its whole budget until settled; a service's deposit is drawn down by
        // claims and topped up by anyone, its floor checked at posting only.
        if self.kind()? == JobKind::Batch {
            let needed = escrow_amount(self.max_price.get(), self.replication, self.protocol_fee_bps.get(), self.crank_fee.get())?;
            require(self.escrowed.get() >= needed, ErrorCode::InsufficientFunds)?;
        }
        let p = &self.progress;
        let winners = self.replication;
        let state = self.state()?;
        let counts_ok = p.started <= winners && p.committed <= p.started && p.failed <= winners;
        let ranking_ok = self.auction.ranked_count as usize <= RANKED_BIDS
            && self.auction.ranked_count as u32 <= self.auction.bid_count.get();
        let disputes_ok = p.open_disputes.get() == 0 || matches!(state, JobState::Committed | JobState::Failed);
        require(self.incarnation.get() > 0 && counts_ok && ranking_ok && disputes_ok, ErrorCode::InvalidAccountData)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pinocchio::error::ProgramError;

    #[test]
    fn escrow_covers_replicas_fees_and_crank() {
        // 3 × (1,000 + 2.5 %) + 7
        assert_eq!(escrow_amount(1_000, 3, 250, 7), Ok(3_082));
    }

    #[test]
    fn escrow_overflow_is_reported() {
        assert_eq!(
            escrow_amount(u64::MAX / 2, 3, 0, 0),
            Err(ProgramError::from(ErrorCode::MathOverflow))
        );
    }

    #[test]
    fn modes_bound_replication() {
        assert!(VerificationMode::Replicated.allows_replication(MAX_REPLICATION));
        assert!(!VerificationMode::Replicated.allows_replication(0));
        assert!(!VerificationMode::Replicated.allows_replication(MAX_REPLICATION + 1));
        assert!(VerificationMode::Verifiable.allows_replication(1));
        assert!(!VerificationMode::Verifiable.allows_replication(2));
        assert!(VerificationMode::Refereed.allows_replication(2));
    }

    fn entry(id: u8, price: u64, score: u64, slot: u64) -> RankedBid {
        RankedBid {
            provider: Address::new_from_array([id; 32]),
            price: U64::new(price),
            score: U64::new(score),
            slot: U64::new(slot),
        }
    }

    fn empty_auction() -> Auction {
        let mut bytes = [0u8; core::mem::size_of::<Auction>()];
        *crate::layout::from_bytes_mut::<Auction>(&mut bytes).unwrap()
    }

    fn order(auction: &Auction) -> Vec<u8> {
        auction.ranked().iter().map(|e| e.provider.as_ref()[0]).collect()
    }

    #[test]
    fn ranking_orders_by_price_then_reputation_then_slot() {
        let mut a = empty_auction();
        a.insert(entry(1, 100, 0, 5));
        a.insert(entry(2, 90, 0, 6));
        a.insert(entry(3, 100, 9, 7));
        a.insert(entry(4, 100, 0, 4));
        a.insert(entry(5, 100, 0, 5));
        assert_eq!(order(&a), vec![2, 3, 4, 1, 5]);
    }

    #[test]
    fn a_full_ranking_drops_its_worst_entry() {
        let mut a = empty_auction();
        for i in 0..RANKED_BIDS as u8 {
            a.insert(entry(i + 1, 100 + i as u64, 0, 0));
        }
        a.insert(entry(50, 200, 0, 0));
        assert_eq!(a.ranked().len(), RANKED_BIDS);
        assert_eq!(a.position_of(&Address::new_from_array([50; 32])), None);
        a.insert(entry(60, 1, 0, 0));
        assert_eq!(order(&a)[0], 60);
        assert_eq!(a.position_of(&Address::new_from_array([8; 32])), None);
    }

    #[test]
    fn removing_closes_the_gap() {
        let mut a = empty_auction();
        a.insert(entry(1, 10, 0, 0));
        a.insert(entry(2, 20, 0, 0));
        a.insert(entry(3, 30, 0, 0));
        a.remove(&Address::new_from_array([2; 32]));
        assert_eq!(order(&a), vec![1, 3]);
        a.remove(&Address::new_from_array([9; 32]));
        assert_eq!(order(&a), vec![1, 3]);
    }

    #[test]
    fn bid_window_defaults_and_bounds() {
        assert_eq!(bid_window(0, 150), Ok(150));
        assert_eq!(bid_window(10, 150), Ok(10));
        assert!(bid_window(MAX_WINDOW_SLOTS + 1, 150).is_err());
    }
}
