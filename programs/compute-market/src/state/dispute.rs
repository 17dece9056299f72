//! `Dispute`: one challenger's dissection game against one provider's verifiable result, at
//! `["dispute", job, challenger]`, with the challenger's bond in `["bond", dispute]` (DESIGN §6).
//!
//! The interval [lo, hi] of steps narrows each round: the provider posts the state hashes at the
//! inner boundaries (`dissect`), the challenger picks the segment whose left end it accepts and
//! right end it disputes (`choose`). At a single step the one-step proof decides. Each party has
//! a chess clock in slots that runs only on its turn; while the proof is due, the provider's runs
//! (it defends the claim that h_lo steps to h_hi).

use crate::errors::{require, ErrorCode, Result};
use crate::layout::{Stored, U64};
use crate::math::SafeMath;
use pinocchio::Address;
use vm_core::dissection::{boundary, segments};

/// Inner boundaries a dissection posts at most.
pub const MAX_POINTS: usize = 15;

crate::byte_enum! {
    /// Whose move it is.
    pub enum DisputeTurn {
        /// The provider posts a dissection.
        Provider = 0,
        /// The challenger chooses a segment.
        Challenger = 1,
        /// The interval is one step: the one-step proof is due (the provider's clock runs).
        Proof = 2,
    }
}

crate::byte_enum! {
    /// How the game stands.
    pub enum DisputeStatus {
        /// Moves are being made.
        Open = 0,
        /// The provider's claim stood: the proof matched, or the challenger ran out of time.
        ProviderWon = 1,
        /// The provider's claim fell: the proof did not match, or the provider ran out of time.
        ChallengerWon = 2,
    }
}

crate::account! {
    /// One challenger's game against a provider's committed final state.
    pub struct Dispute {
        /// Canonical bump of the dispute PDA.
        pub bump: u8,
        /// Canonical bump of the bond vault PDA.
        pub vault_bump: u8,
        /// How the game stands.
        pub status: Stored<DisputeStatus>,
        /// Whose move it is.
        pub turn: Stored<DisputeTurn>,
        /// The disputed job.
        pub job: Address,
        /// The provider's bid holding the disputed commitment.
        pub bid: Address,
        /// The provider account.
        pub provider: Address,
        /// The provider's owner, who moves for it.
        pub owner: Address,
        /// Who opened the game and posted the bond.
        pub challenger: Address,
        /// The bond, in the market's stake mint.
        pub bond: U64,
        /// The interval's agreed end: a step and its state hash.
        pub lo: U64,
        pub lo_hash: [u8; 32],
        /// The interval's disputed end.
        pub hi: U64,
        pub hi_hash: [u8; 32],
        /// The provider's hashes at the inner boundaries of [lo, hi] (valid after `dissect`).
        pub points: [[u8; 32]; MAX_POINTS],
        /// Slots left on each party's clock.
        pub provider_clock: U64,
        pub challenger_clock: U64,
        /// When the current turn began.
        pub turn_started_slot: U64,
        /// A move that leaves the mover fewer slots than this raises its clock to this.
        pub grace_slots: U64,
        /// Moves made (dissections and choices).
        pub moves: u8,
        /// Slot the game was opened in.
        pub opened_slot: U64,
        /// A refereed job's game between its two winners: no bond, the challenger's stake lock
        /// is at risk instead (settled by `settle_referee`).
        pub refereed: crate::layout::Bool,
        /// Who paid the game's rent, and gets it back at settlement.
        pub payer: Address,
        /// Space for fields added by later versions.
        pub reserved: [u8; 31],
    }
}

crate::account! {
    /// A proof buffer at `["witness", dispute, writer]`: the one-step witness in its wire form,
    /// written in chunks. Nothing in it is trusted; `prove_step` checks every byte.
    pub struct WitnessBuffer {
        /// The game the witness is for.
        pub dispute: Address,
        /// Who wrote it (and gets the rent back).
        pub writer: Address,
        /// Bytes of the witness: the end of the furthest chunk written.
        pub len: crate::layout::U16,
        /// The witness.
        pub bytes: [u8; vm_core::MAX_WITNESS_BYTES],
    }
}

impl Dispute {
    pub fn status(&self) -> Result<DisputeStatus> {
        self.status.get().ok_or_else(|| ErrorCode::InvalidAccountData.into())
    }

    pub fn turn(&self) -> Result<DisputeTurn> {
        self.turn.get().ok_or_else(|| ErrorCode::InvalidAccountData.into())
    }

    /// Whose clock runs on `turn`: the challenger's on its own turns, the provider's on its own
    /// and while the proof is due.
    fn challenger_clock_runs(turn: DisputeTurn) -> bool {
        turn == DisputeTurn::Challenger
    }

    fn clock_of(&mut self, turn: DisputeTurn) -> &mut U64 {
        if Self::challenger_clock_runs(turn) { &mut self.challenger_clock } else { &mut self.provider_clock }
    }

    /// Slots left on the clock that runs on `turn`.
    fn clock_left(&self, turn: DisputeTurn) -> u64 {
        if Self::challenger_clock_runs(turn) { self.challenger_clock.get() } else { self.provider_clock.get() }
    }

    /// Slots the party to move has used this turn.
    fn elapsed(&self, now: u64) -> Result<u64> {
        now.safe_sub(self.turn_started_slot.get())
    }

    /// Checks that it is `turn`'s move and its clock has not run out, then charges the clock.
    /// The grace extension: a move leaving fewer than `grace_slots` raises the clock to them.
    fn take_turn(&mut self, turn: DisputeTurn, now: u64) -> Result<()> {
        require(self.status()? == DisputeStatus::Open && self.turn()? == turn, ErrorCode::NotYourTurn)?;
        let elapsed = self.elapsed(now)?;
        let grace = self.grace_slots.get();
        let clock = self.clock_of(turn);
        require(elapsed <= clock.get(), ErrorCode::ClockExpired)?;
        clock.set(clock.get().safe_sub(elapsed)?.max(grace));
        self.turn_started_slot.set(now);
        self.moves = self.moves.saturating_add(1);
        Ok(())
    }

    /// The next turn for the interval: a proof at a single step, else a dissection.
    fn next_turn_for_interval(&self) -> DisputeTurn {
        if self.hi.get().saturating_sub(self.lo.get()) <= 1 {
            DisputeTurn::Proof
        } else {
            DisputeTurn::Provider
        }
    }

    /// INVARIANT: the interval is non-empty and ordered; an open game's turn fits its interval
    /// (the proof exactly at one step, a dissection or choice above it).
    pub fn invariant(&self) -> Result<()> {
        let (lo, hi) = (self.lo.get(), self.hi.get());
        let turn = self.turn()?;
        let turn_ok = self.status()? != DisputeStatus::Open || ((hi.saturating_sub(lo) == 1) == (turn == DisputeTurn::Proof));
        require(lo < hi && turn_ok, ErrorCode::InvalidAccountData)
    }

    /// Starts a game over [0, steps] from the job's initial state to the committed final state.
    pub fn open(&mut self, initial_hash: [u8; 32], steps: u64, final_hash: [u8; 32], clock: u64, now: u64) -> Result<()> {
        require(steps >= 1, ErrorCode::InvalidFinalState)?;
        self.status.set(DisputeStatus::Open);
        self.lo = U64::new(0);
        self.lo_hash = initial_hash;
        self.hi = U64::new(steps);
        self.hi_hash = final_hash;
        // The provider's first dissection needs a whole run off-chain: its clock starts doubled.
        self.provider_clock = U64::new(clock.safe_mul(2)?);
        self.challenger_clock = U64::new(clock);
        self.grace_slots = U64::new((clock / 8).max(1));
        self.turn_started_slot = U64::new(now);
        self.opened_slot = U64::new(now);
        self.turn.set(self.next_turn_for_interval());
        Ok(())
    }

    /// Inner boundaries of the current interval: segments − 1.
    pub fn point_count(&self) -> usize {
        segments(self.lo.get(), self.hi.get()).saturating_sub(1) as usize
    }

    /// The provider posts the hashes at the inner boundaries: exactly `point_count` non-zero
    /// hashes, zeros after them (one canonical form per dissection).
    pub fn dissect(&mut self, hashes: &[[u8; 32]; MAX_POINTS], now: u64) -> Result<()> {
        self.take_turn(DisputeTurn::Provider, now)?;
        let count = self.point_count();
        let canonical = hashes.iter().enumerate().all(|(i, hash)| (*hash != [0u8; 32]) == (i < count));
        require(canonical, ErrorCode::InvalidDissection)?;
        self.points = *hashes;
        self.turn.set(DisputeTurn::Challenger);
        Ok(())
    }

    /// The boundary `j` of the interval with its hash: the ends are the agreed and disputed
    /// hashes, the inner ones the provider's posted points.
    fn boundary_with_hash(&self, j: u64) -> Result<(u64, [u8; 32])> {
        let (lo, hi) = (self.lo.get(), self.hi.get());
        let step = boundary(lo, hi, j).ok_or(ErrorCode::InvalidSegment)?;
        let count = segments(lo, hi);
        let hash = if j == 0 {
            self.lo_hash
        } else if j == count {
            self.hi_hash
        } else {
            *self.points.get(j as usize - 1).ok_or(ErrorCode::InvalidSegment)?
        };
        Ok((step, hash))
    }

    /// The challenger disputes segment `segment` (0-based): the interval becomes it.
    pub fn choose(&mut self, segment: u8, now: u64) -> Result<()> {
        self.take_turn(DisputeTurn::Challenger, now)?;
        let j = segment as u64;
        require(j < segments(self.lo.get(), self.hi.get()), ErrorCode::InvalidSegment)?;
        let (lo, lo_hash) = self.boundary_with_hash(j)?;
        let (hi, hi_hash) = self.boundary_with_hash(j.safe_add(1)?)?;
        self.lo = U64::new(lo);
        self.lo_hash = lo_hash;
        self.hi = U64::new(hi);
        self.hi_hash = hi_hash;
        self.points = [[0u8; 32]; MAX_POINTS];
        self.turn.set(self.next_turn_for_interval());
        Ok(())
    }

    /// The game is open and down to a single step.
    pub fn check_proof_due(&self) -> Result<()> {
        require(self.status()? == DisputeStatus::Open, ErrorCode::NotYourTurn)?;
        require(self.turn()? == DisputeTurn::Proof, ErrorCode::ProofNotDue)
    }

    /// The one-step proof's verdict: the step from `lo_hash` reaches `post_hash`.
    pub fn decide_by_proof(&mut self, post_hash: &[u8; 32]) -> Result<DisputeStatus> {
        self.check_proof_due()?;
        let winner = if *post_hash == self.hi_hash { DisputeStatus::ProviderWon } else { DisputeStatus::ChallengerWon };
        self.status.set(winner);
        Ok(winner)
    }

    /// Who wins an open game at `now` because the side to move ran out of clock (the other side);
    /// an error while it is not open or the clock runs.
    pub fn timeout_winner(&self, now: u64) -> Result<DisputeStatus> {
        require(self.status()? == DisputeStatus::Open, ErrorCode::NotYourTurn)?;
        let turn = self.turn()?;
        require(self.elapsed(now)? > self.clock_left(turn), ErrorCode::ClockRunning)?;
        Ok(if turn == DisputeTurn::Challenger { DisputeStatus::ProviderWon } else { DisputeStatus::ChallengerWon })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pinocchio::error::ProgramError;

    fn fresh(steps: u64) -> Dispute {
        let mut bytes = [0u8; core::mem::size_of::<Dispute>()];
        let mut dispute = *crate::layout::from_bytes_mut::<Dispute>(&mut bytes).unwrap();
        dispute.open([1; 32], steps, [2; 32], 100, 1_000).unwrap();
        dispute
    }

    fn err(code: ErrorCode) -> ProgramError {
        code.into()
    }

    fn posted(count: usize) -> [[u8; 32]; MAX_POINTS] {
        let mut hashes = [[0u8; 32]; MAX_POINTS];
        for (i, hash) in hashes.iter_mut().take(count).enumerate() {
            *hash = [10 + i as u8; 32];
        }
        hashes
    }

    #[test]
    fn narrows_to_the_chosen_segment_with_its_hashes() {
        let mut d = fresh(1_000);
        assert_eq!(d.turn(), Ok(DisputeTurn::Provider));
        assert_eq!(d.point_count(), 15);
        d.dissect(&posted(15), 1_010).unwrap();
        d.choose(3, 1_020).unwrap();
        // w = 62: segment 3 is [186, 248] between points 3 and 4 (the 3rd and 4th posted hashes).
        assert_eq!((d.lo.get(), d.hi.get()), (186, 248));
        assert_eq!((d.lo_hash, d.hi_hash), ([12; 32], [13; 32]));
        d.dissect(&posted(15), 1_030).unwrap();
        d.choose(15, 1_040).unwrap();
        // w = 3; the last segment takes the remainder (17 steps) and keeps the disputed end.
        assert_eq!((d.lo.get(), d.hi.get()), (231, 248));
        assert_eq!((d.lo_hash, d.hi_hash), ([24; 32], [13; 32]));
        d.dissect(&posted(15), 1_050).unwrap();
        d.choose(0, 1_060).unwrap();
        assert_eq!((d.lo.get(), d.hi.get()), (231, 232));
        assert_eq!(d.turn(), Ok(DisputeTurn::Proof));
    }

    #[test]
    fn a_single_step_claim_goes_straight_to_the_proof() {
        assert_eq!(fresh(1).turn(), Ok(DisputeTurn::Proof));
    }

    #[test]
    fn dissections_must_be_canonical() {
        let mut d = fresh(5);
        assert_eq!(d.dissect(&posted(3), 1_001), Err(err(ErrorCode::InvalidDissection)));
        assert_eq!(d.dissect(&posted(5), 1_001), Err(err(ErrorCode::InvalidDissection)));
        assert_eq!(d.dissect(&posted(4), 1_001), Ok(()));
        assert_eq!(d.choose(5, 1_002), Err(err(ErrorCode::InvalidSegment)));
    }

    #[test]
    fn moves_out_of_turn_are_refused() {
        let mut d = fresh(100);
        assert_eq!(d.choose(0, 1_001), Err(err(ErrorCode::NotYourTurn)));
        d.dissect(&posted(15), 1_001).unwrap();
        assert_eq!(d.dissect(&posted(15), 1_002), Err(err(ErrorCode::NotYourTurn)));
        assert_eq!(d.decide_by_proof(&[2; 32]), Err(err(ErrorCode::ProofNotDue)));
    }

    #[test]
    fn clocks_run_only_on_their_turn_and_time_out() {
        let mut d = fresh(100);
        // The provider's first clock is doubled: 200 slots.
        assert_eq!(d.timeout_winner(1_200), Err(err(ErrorCode::ClockRunning)));
        d.dissect(&posted(15), 1_150).unwrap();
        assert_eq!(d.provider_clock.get(), 50);
        assert_eq!(d.timeout_winner(1_250), Err(err(ErrorCode::ClockRunning)));
        assert_eq!(d.timeout_winner(1_251), Ok(DisputeStatus::ProviderWon));
        d.status.set(DisputeStatus::ProviderWon);
        assert_eq!(d.timeout_winner(1_252), Err(err(ErrorCode::NotYourTurn)), "a decided game is not decided again");
        assert_eq!(d.choose(0, 1_252), Err(err(ErrorCode::NotYourTurn)));
    }

    #[test]
    fn a_late_move_is_refused_and_a_nearly_empty_clock_gets_grace() {
        let mut d = fresh(100);
        assert_eq!(d.dissect(&posted(15), 1_201), Err(err(ErrorCode::ClockExpired)));
        d.dissect(&posted(15), 1_198).unwrap();
        assert_eq!(d.provider_clock.get(), 12);
    }

    #[test]
    fn the_proof_decides_by_the_disputed_hash() {
        let mut d = fresh(1);
        assert_eq!(d.decide_by_proof(&[2; 32]), Ok(DisputeStatus::ProviderWon));
        let mut d = fresh(1);
        assert_eq!(d.decide_by_proof(&[3; 32]), Ok(DisputeStatus::ChallengerWon));
        assert_eq!(d.decide_by_proof(&[2; 32]), Err(err(ErrorCode::NotYourTurn)));
    }
}
