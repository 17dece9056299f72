//! `Service`: the terms of a service lease, at `["service", job]` beside its job. The job holds
//! the auction, the winners and the deposit (its escrow); this account holds what only a service
//! has: the watchdog key whose acknowledgements are the only claim to payment, the
//! acknowledgement period, how many replicas are still to be settled, and the seat round that
//! replaces an ended replica (its best bids are ranked on the job, as in the first auction).

use crate::errors::{require, ErrorCode, Result};
use crate::layout::U64;
use crate::constants::BPS_DENOMINATOR;
use crate::math::{bps_of, mul_div_floor, SafeMath};
use crate::state::{Bid, Job};
use pinocchio::Address;

/// Domain of an acknowledgement, so a watchdog's signature over anything else never pays.
pub const ACK_DOMAIN: &[u8; 21] = b"compute-market:ack:v1";
/// `domain ‖ job ‖ job incarnation (u64 LE) ‖ provider ‖ up_to_slot (u64 LE)`.
pub const ACK_MESSAGE_LEN: usize = 21 + 32 + 8 + 32 + 8;

/// The longest acknowledgement period a service may ask for (about a day at 400 ms slots).
pub const MAX_ACK_PERIOD_SLOTS: u64 = 216_000;

crate::account! {
    /// A service lease's terms and settlement count.
    pub struct Service {
        /// Canonical bump of the service PDA.
        pub bump: u8,
        /// Replicas closed by `close_replica`; the job's last one settles the lease.
        pub closed_replicas: u8,
        /// The job this lease belongs to.
        pub job: Address,
        /// The job's consumer, who gets this account's rent back.
        pub consumer: Address,
        /// The job's incarnation: terms of a closed job never apply to one posted again.
        pub job_incarnation: U64,
        /// The key whose signed acknowledgements are claimed; it may also end replicas.
        pub watchdog: Address,
        /// Slots one acknowledgement covers at most: the most either side can lose.
        pub ack_period_slots: U64,
        /// Slots a failing replica is given before the watchdog ends it (read by the watchdog).
        pub grace_slots: U64,
        /// Tokens paid to replicas so far, protocol fees excluded.
        pub paid: U64,
        /// The slot `pause_service` paused the lease at; zero while it is live.
        pub paused_slot: U64,
        /// While paused: the last slot of every replica unless a top-up resumes the lease first.
        pub pause_ends_slot: U64,
        /// The last slot of the open seat round's bidding; zero when no round is open.
        pub seat_deadline_slot: U64,
        /// Seats the open round replaces (replicas ended with a replacement asked for).
        pub open_seats: u8,
        /// Seats awarded whose winner has not started yet.
        pub seats_starting: u8,
        /// Seat winners that started: the lease's replicas beyond its first `replication`.
        pub seats_filled: u8,
        /// Space for fields added by later versions.
        pub reserved: [u8; 4],
    }
}

/// What a watchdog signs to acknowledge that `provider`'s replica of `job` was healthy up to
/// `up_to_slot`.
pub fn acknowledgement_message(job: &Address, job_incarnation: u64, provider: &Address, up_to_slot: u64) -> [u8; ACK_MESSAGE_LEN] {
    let mut message = [0u8; ACK_MESSAGE_LEN];
    let parts: [&[u8]; 5] = [ACK_DOMAIN, job.as_ref(), &job_incarnation.to_le_bytes(), provider.as_ref(), &up_to_slot.to_le_bytes()];
    let mut at = 0;
    for part in parts {
        if let Some(slot) = message.get_mut(at..at + part.len()) {
            slot.copy_from_slice(part);
        }
        at += part.len();
    }
    message
}

/// The smallest deposit a service is posted with: one period of every replica at the highest
/// rate, its protocol fee, and the crank fee of its settlement.
pub fn min_deposit(max_rate: u64, replicas: u8, period: u64, fee_bps: u16, crank_fee: u64) -> Result<u64> {
    let per_replica = max_rate.safe_mul(period)?;
    let all = per_replica.safe_mul(replicas as u64)?;
    all.safe_add(bps_of(all, fee_bps)?)?.safe_add(crank_fee)
}

/// Whether `balance` tokens in the escrow pay one more period of every replica not yet closed
/// at the lease's highest rate, with fees and the settlement's crank fee: the test a live
/// lease must pass, the same one its first deposit passed.
pub fn covers_a_period(balance: u64, job: &Job, service: &Service) -> Result<bool> {
    let open = service.replicas_to_pay(job.replication);
    let needed = min_deposit(job.max_price.get(), open, service.ack_period_slots.get(), job.protocol_fee_bps.get(), job.crank_fee.get())?;
    Ok(balance >= needed)
}

/// A claim's settlement: the slots paid for, the provider's pay and the protocol's fee.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    pub slots: u64,
    pub pay: u64,
    pub fee: u64,
}

/// Pays `rate` per slot for up to `slots` slots out of `available` tokens (the deposit less the
/// settlement's crank fee), the fee on top: whole slots only, never more than is there.
pub fn settle_claim(rate: u64, slots: u64, fee_bps: u16, available: u64) -> Result<Claim> {
    require(rate > 0, ErrorCode::InvalidPrice)?;
    let slots = slots.min(affordable_slots(rate, fee_bps, available)?);
    let pay = rate.safe_mul(slots)?;
    Ok(Claim { slots, pay, fee: bps_of(pay, fee_bps)? })
}

/// The most whole slots `available` tokens pay at `rate` with the fee charged on the whole pay,
/// as a claim charges it (a fee per slot, rounded down each time, would undercount it and let a
/// claim eat into the settlement's crank fee). ⌊⌊available / rate⌋ · 10⁴ / (10⁴ + bps)⌋ slots
/// always fit, and the most that fit are at most two more.
fn affordable_slots(rate: u64, fee_bps: u16, available: u64) -> Result<u64> {
    let cost = |slots: u64| -> Result<u64> {
        let pay = rate.safe_mul(slots)?;
        pay.safe_add(bps_of(pay, fee_bps)?)
    };
    let fitting = mul_div_floor(available / rate, BPS_DENOMINATOR, BPS_DENOMINATOR.safe_add(fee_bps as u64)?)?;
    for more in [2u64, 1] {
        let slots = fitting.safe_add(more)?;
        if cost(slots).is_ok_and(|total| total <= available) {
            return Ok(slots);
        }
    }
    Ok(fitting)
}

impl Service {
    pub fn of_incarnation(&self, job_incarnation: u64) -> bool {
        self.job_incarnation.get() == job_incarnation
    }

    /// The slot a replica is paid up to so far: its last claim, or its start.
    pub fn paid_through(bid: &Bid) -> u64 {
        bid.claimed_slot.get().max(bid.started_slot.get())
    }

    pub fn is_paused(&self) -> bool {
        self.paused_slot.get() > 0
    }

    /// Whether the lease was paused and its seats' time ran out with no top-up: its replicas
    /// ended at `pause_ends_slot` for good.
    pub fn pause_expired(&self, now: u64) -> bool {
        self.is_paused() && now > self.pause_ends_slot.get()
    }

    /// The last slot a replica is paid for: its end when one was set, the end of the lease's
    /// pause while it is paused, and never beyond the lease's longest term (`max_duration` from
    /// its start), so an abandoned or unfunded lease ends too.
    pub fn replica_end(&self, bid: &Bid, max_duration: u64) -> Result<u64> {
        let mut end = bid.started_slot.get().safe_add(max_duration)?;
        let ended = bid.ended_slot.get();
        if ended > 0 {
            end = end.min(ended);
        }
        if self.is_paused() {
            end = end.min(self.pause_ends_slot.get());
        }
        Ok(end)
    }

    /// The slots an acknowledgement up to `up_to_slot` adds to what `bid` was paid: none for an
    /// older one (a replay), none past the replica's end, none in the future.
    pub fn claimable_slots(&self, bid: &Bid, up_to_slot: u64, now: u64, max_duration: u64) -> Result<u64> {
        require(up_to_slot <= now, ErrorCode::AcknowledgementAhead)?;
        let until = up_to_slot.min(self.replica_end(bid, max_duration)?);
        let from = Self::paid_through(bid);
        require(until > from, ErrorCode::StaleAcknowledgement)?;
        until.safe_sub(from)
    }

    /// Every replica the lease ever started: the first round's and the seats' that started.
    pub fn replicas(&self, replication: u8) -> u16 {
        replication as u16 + self.seats_filled as u16
    }

    /// The replicas still to be paid: those started and not closed, and seats about to start.
    pub fn replicas_to_pay(&self, replication: u8) -> u8 {
        let open = self.replicas(replication).saturating_sub(self.closed_replicas as u16) + self.seats_starting as u16;
        open.min(u8::MAX as u16) as u8
    }

    /// Whether closing one more replica closes the lease's last one (which settles the lease).
    /// It may not while a seat is being filled: the lease would settle under its new replica.
    pub fn closing_settles(&self, replication: u8) -> Result<bool> {
        let last = self.closed_replicas as u16 + 1 >= self.replicas(replication);
        require(!last || (self.open_seats == 0 && self.seats_starting == 0), ErrorCode::ReplacementPending)?;
        Ok(last)
    }

    /// A replica was ended with a replacement asked for: its seat joins the open round, or opens
    /// one whose bidding lasts `bid_window` slots. A paused lease fills no seat, and the counts
    /// stay within a byte.
    pub fn request_seat(&mut self, now: u64, bid_window: u64, replication: u8) -> Result<()> {
        require(!self.is_paused(), ErrorCode::ServicePaused)?;
        let assigned = self.replicas(replication) + self.seats_starting as u16 + self.open_seats as u16;
        require(assigned < u8::MAX as u16, ErrorCode::TooManyReplacements)?;
        if self.open_seats == 0 {
            self.seat_deadline_slot.set(now.safe_add(bid_window)?);
        }
        self.open_seats = self.open_seats.safe_add(1)?;
        Ok(())
    }

    /// Seat bids are taken while a round is open, up to its deadline, on a live lease.
    pub fn check_seat_bidding(&self, now: u64) -> Result<()> {
        require(self.open_seats > 0, ErrorCode::NoSeatRound)?;
        require(!self.is_paused(), ErrorCode::ServicePaused)?;
        require(now <= self.seat_deadline_slot.get(), ErrorCode::BiddingClosed)
    }

    /// Closes the open round after its deadline with `ranked` bids ranked: returns how many seats
    /// are awarded (none while paused); the others are given up.
    pub fn award_seats(&mut self, now: u64, ranked: usize) -> Result<u8> {
        require(self.open_seats > 0, ErrorCode::NoSeatRound)?;
        require(now > self.seat_deadline_slot.get(), ErrorCode::AuctionStillOpen)?;
        let awarded = if self.is_paused() { 0 } else { (self.open_seats as usize).min(ranked) as u8 };
        self.seats_starting = self.seats_starting.safe_add(awarded)?;
        self.open_seats = 0;
        self.seat_deadline_slot.set(0);
        Ok(awarded)
    }

    /// A seat winner started: it is one of the lease's replicas now.
    pub fn record_seat_start(&mut self) -> Result<()> {
        self.seats_starting = self.seats_starting.safe_sub(1)?;
        self.seats_filled = self.seats_filled.safe_add(1)?;
        Ok(())
    }

    /// A seat winner did not start in time: its seat is given up.
    pub fn record_seat_no_show(&mut self) -> Result<()> {
        self.seats_starting = self.seats_starting.safe_sub(1)?;
        Ok(())
    }

    pub fn invariant(&self) -> Result<()> {
        let period = self.ack_period_slots.get();
        // A round is open exactly while it has a deadline.
        let round_ok = (self.open_seats > 0) == (self.seat_deadline_slot.get() > 0);
        // A pause always has an end, and only a pause has one.
        let pause_ok = self.is_paused() == (self.pause_ends_slot.get() > 0) && self.pause_ends_slot.get() >= self.paused_slot.get();
        require(self.job_incarnation.get() > 0 && period > 0 && period <= MAX_ACK_PERIOD_SLOTS && pause_ok && round_ok, ErrorCode::InvalidAccountData)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_pays_whole_slots_with_the_fee_on_top_and_never_more_than_is_there() {
        // 100 per slot, 1 % fee: 101 per slot; 1,000 tokens pay 9 slots.
        assert_eq!(settle_claim(100, 50, 100, 1_000).unwrap(), Claim { slots: 9, pay: 900, fee: 9 });
        assert_eq!(settle_claim(100, 5, 100, 1_000).unwrap(), Claim { slots: 5, pay: 500, fee: 5 });
        assert_eq!(settle_claim(100, 5, 100, 100).unwrap(), Claim { slots: 0, pay: 0, fee: 0 });
        assert!(settle_claim(0, 5, 100, 100).is_err());
    }

    #[test]
    fn a_claim_never_takes_more_than_is_there_when_the_fee_rounds_on_the_total() {
        // 100 slots at 4,687 would be 468,700 + 11,717 = 480,417: 17 past what is there.
        let claim = settle_claim(4_687, 1_000, 250, 480_400).unwrap();
        assert_eq!(claim, Claim { slots: 99, pay: 464_013, fee: 11_600 });
        // Every rate, fee and balance in a sweep: what is paid fits, and one slot more would not.
        for rate in [1u64, 3, 7, 99, 4_687, 1_000_003] {
            for bps in [0u16, 1, 99, 250, 10_000] {
                for available in [0u64, 1, 999, 480_400, 10_000_019] {
                    let c = settle_claim(rate, u64::MAX, bps, available).unwrap();
                    assert!(c.pay + c.fee <= available, "{rate} {bps} {available}");
                    let next = rate * (c.slots + 1);
                    assert!(next + bps_of(next, bps).unwrap() > available, "{rate} {bps} {available}: one more slot fits");
                }
            }
        }
    }

    #[test]
    fn the_message_binds_domain_job_incarnation_provider_and_slot() {
        let job = Address::new_from_array([1; 32]);
        let provider = Address::new_from_array([2; 32]);
        let message = acknowledgement_message(&job, 7, &provider, 99);
        assert_eq!(&message[..21], ACK_DOMAIN);
        assert_eq!(&message[21..53], &[1; 32]);
        assert_eq!(&message[53..61], &7u64.to_le_bytes());
        assert_eq!(&message[61..93], &[2; 32]);
        assert_eq!(&message[93..], &99u64.to_le_bytes());
        assert_ne!(message, acknowledgement_message(&job, 8, &provider, 99));
    }

    fn zeroed<T: crate::layout::Pod + Copy>() -> T {
        let mut bytes = vec![0u8; core::mem::size_of::<T>()];
        *crate::layout::from_bytes_mut::<T>(&mut bytes).unwrap()
    }

    #[test]
    fn a_pause_ends_every_replica_at_its_end_unless_it_ended_sooner() {
        let mut service: Service = zeroed();
        let mut bid: Bid = zeroed();
        bid.started_slot = U64::new(100);
        assert_eq!(service.replica_end(&bid, 1_000).unwrap(), 1_100);
        service.paused_slot = U64::new(400);
        service.pause_ends_slot = U64::new(500);
        assert_eq!(service.replica_end(&bid, 1_000).unwrap(), 500);
        bid.ended_slot = U64::new(450);
        assert_eq!(service.replica_end(&bid, 1_000).unwrap(), 450);
        assert!(!service.pause_expired(500) && service.pause_expired(501));
    }

    #[test]
    fn a_live_lease_holds_a_period_of_every_open_replica_at_the_cap() {
        let mut job: Job = zeroed();
        let mut service: Service = zeroed();
        job.replication = 2;
        job.max_price = U64::new(10);
        job.protocol_fee_bps = crate::layout::U16::new(100);
        job.crank_fee = U64::new(5);
        service.ack_period_slots = U64::new(100);
        assert!(covers_a_period(2_025, &job, &service).unwrap());
        assert!(!covers_a_period(2_024, &job, &service).unwrap());
        // A closed replica needs no more periods.
        service.closed_replicas = 1;
        assert!(covers_a_period(1_015, &job, &service).unwrap());
    }

    #[test]
    fn a_seat_round_opens_once_takes_bids_until_its_deadline_and_awards_what_was_bid() {
        let mut service: Service = zeroed();
        service.ack_period_slots = U64::new(10);
        service.job_incarnation = U64::new(1);
        service.request_seat(100, 20, 2).unwrap();
        // A second seat joins the round; its deadline stays.
        service.request_seat(110, 20, 2).unwrap();
        assert_eq!((service.open_seats, service.seat_deadline_slot.get()), (2, 120));
        service.invariant().unwrap();
        assert!(service.check_seat_bidding(120).is_ok() && service.check_seat_bidding(121).is_err());
        assert!(service.award_seats(120, 5).is_err());
        // One bid came: one seat is awarded, the other given up.
        assert_eq!(service.award_seats(121, 1).unwrap(), 1);
        assert_eq!((service.open_seats, service.seats_starting, service.seat_deadline_slot.get()), (0, 1, 0));
        assert!(service.award_seats(122, 1).is_err());
        service.record_seat_start().unwrap();
        assert_eq!((service.seats_starting, service.seats_filled, service.replicas(2)), (0, 1, 3));
    }

    #[test]
    fn the_last_replica_cannot_close_while_a_seat_is_being_filled() {
        let mut service: Service = zeroed();
        service.closed_replicas = 1;
        assert!(service.closing_settles(2).unwrap());
        service.open_seats = 1;
        service.seat_deadline_slot = U64::new(5);
        assert!(service.closing_settles(2).is_err());
        service.closed_replicas = 0;
        assert!(!service.closing_settles(2).unwrap());
        service.open_seats = 0;
        service.seat_deadline_slot = U64::new(0);
        service.seats_starting = 1;
        service.closed_replicas = 1;
        assert!(service.closing_settles(2).is_err());
        // The seat winner stays to be paid along with the open replica.
        assert_eq!(service.replicas_to_pay(2), 2);
    }

    #[test]
    fn a_paused_lease_fills_no_seat() {
        let mut service: Service = zeroed();
        service.paused_slot = U64::new(50);
        service.pause_ends_slot = U64::new(60);
        assert!(service.request_seat(55, 10, 1).is_err());
        service.paused_slot = U64::new(0);
        service.pause_ends_slot = U64::new(0);
        service.request_seat(55, 10, 1).unwrap();
        service.paused_slot = U64::new(56);
        service.pause_ends_slot = U64::new(70);
        assert!(service.check_seat_bidding(57).is_err());
        assert_eq!(service.award_seats(66, 3).unwrap(), 0);
        assert_eq!(service.seats_starting, 0);
    }

    #[test]
    fn replacements_stop_before_the_counts_overflow() {
        let mut service: Service = zeroed();
        service.seats_filled = 250;
        service.closed_replicas = 250;
        assert!(service.request_seat(1, 1, 4).is_ok());
        assert!(service.request_seat(1, 1, 4).is_err());
    }

    #[test]
    fn the_smallest_deposit_is_one_period_of_every_replica_with_fees() {
        assert_eq!(min_deposit(10, 2, 100, 100, 5).unwrap(), 2_000 + 20 + 5);
        assert!(min_deposit(u64::MAX, 2, 100, 100, 5).is_err());
    }
}
