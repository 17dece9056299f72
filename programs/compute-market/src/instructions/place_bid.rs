//! `place_bid`: a provider offers to run a job. Its stake lock is taken now, so every bid is
//! backed and the best bid can always be awarded; an open bid enters the ranking at once.

use crate::accounts::{init, load, load_mut, parse_args, Context};
use crate::errors::{require, ErrorCode, Result};
use crate::events::BidPlaced;
use crate::layout::{Bool, Stored, U64};
use crate::pda::create_pda_account;
use crate::runtime::current_slot;
use crate::state::job::bid_lock;
use crate::state::seeds::BidSeeds;
use crate::state::{Bid, BidStatus, Job, Market, Provider, RankedBid};
use pinocchio::cpi::Signer;
use pinocchio::{AccountView, Address};

crate::pod_struct! {
    /// Arguments of `place_bid`.
    pub struct PlaceBidArgs {
        /// Open jobs: the price asked, at most the job's maximum. Sealed jobs: zero.
        pub price: U64,
        /// Sealed jobs: sha256(price as u64 LE ‖ salt ‖ provider). Open jobs: zero.
        pub commitment: [u8; 32],
    }
}

crate::instruction_accounts! {
    /// Accounts of `place_bid`.
    pub struct PlaceBidAccounts {
        /// The provider's owner; pays the bid's rent.
        owner: signer_writable,
        /// The bidding provider; its stake is locked.
        provider: writable,
        /// The job's market.
        market: readonly,
        /// The job bid on.
        job: writable,
        /// The bid PDA `["bid", job, provider]`, created here.
        bid: writable,
        system_program: program = pinocchio_system::ID,
    }
}

fn validate(ix: &PlaceBidAccounts, provider: &Provider, market: &Market, job: &Job, args: &PlaceBidArgs, now: u64) -> Result<()> {
    require(ix.owner.address() == &provider.owner, ErrorCode::NotProviderOwner)?;
    require(&provider.market == ix.market.address() && &job.market == ix.market.address(), ErrorCode::MarketMismatch)?;
    job.check_bidding(now)?;
    require(job.admits(&provider.spec), ErrorCode::RequirementsNotMet)?;
    require(provider.bonded_stake()? >= market.params.min_stake.get(), ErrorCode::BelowMinimumStake)?;
    let price = args.price.get();
    let has_commitment = args.commitment != [0u8; 32];
    if job.sealed.get() {
        require(price == 0 && has_commitment, ErrorCode::InvalidBidCommitment)
    } else {
        require(!has_commitment, ErrorCode::InvalidBidCommitment)?;
        require(price > 0 && price <= job.max_price.get(), ErrorCode::PriceAboveMax)
    }
}

pub fn process(ctx: &Context) -> Result<()> {
    let program_id = ctx.program_id;
    let ix = PlaceBidAccounts::parse(ctx.accounts)?;
    let args = parse_args::<PlaceBidArgs>(ctx.data)?;
    let now = current_slot()?;
    let (mut provider_view, mut job_view) = (ix.provider, ix.job);
    let mut provider = load_mut::<Provider>(&mut provider_view, program_id)?;
    let market = load::<Market>(&ix.market, program_id)?;
    let mut job = load_mut::<Job>(&mut job_view, program_id)?;
    validate(&ix, &provider, &market, &job, args, now)?;
    let placed = NewBid { owner: &ix.owner, provider: &ix.provider, job: &ix.job, bid: &ix.bid, price: args.price, commitment: args.commitment, program_id, now };
    placed.create(&mut provider, &market, &mut job)
}

/// A bid to create: what `place_bid` and `bid_seat` share once each checked its own rules.
pub struct NewBid<'a> {
    pub owner: &'a AccountView,
    pub provider: &'a AccountView,
    pub job: &'a AccountView,
    pub bid: &'a AccountView,
    pub price: U64,
    pub commitment: [u8; 32],
    pub program_id: &'a Address,
    pub now: u64,
}

impl NewBid<'_> {
    /// Creates the bid PDA, takes the provider's stake lock and ranks an open bid.
    pub fn create(&self, provider: &mut Provider, market: &Market, job: &mut Job) -> Result<()> {
        let (program_id, now) = (self.program_id, self.now);
        let mut bid_seeds = BidSeeds::new(self.job.address(), self.provider.address());
        let bump = bid_seeds.expect(self.bid, program_id)?;
        create_pda_account(self.owner, self.bid, Bid::LEN, program_id, Signer::from(&bid_seeds.signer()))?;

        let mode = job.mode.get().ok_or(ErrorCode::InvalidAccountData)?;
        let lock = bid_lock(mode, market.params.job_stake_lock.get())?;
        provider.lock(lock)?;
        provider.invariant()?;

        let sealed = self.commitment != [0u8; 32];
        let mut bid_view = *self.bid;
        let mut bid = init::<Bid>(&mut bid_view)?;
        bid.bump = bump;
        bid.status = Stored::new(if sealed { BidStatus::Sealed } else { BidStatus::Active });
        bid.job = *self.job.address();
        bid.provider = *self.provider.address();
        bid.owner = provider.owner;
        bid.price = self.price;
        bid.commitment = self.commitment;
        bid.placed_slot = U64::new(now);
        bid.reveal_by_slot = job.reveal_deadline_slot;
        bid.locked = U64::new(lock);
        bid.job_incarnation = job.incarnation;

        job.record_bid_placed();
        if !sealed {
            job.auction.insert(RankedBid { provider: bid.provider, price: self.price, score: U64::new(provider.score()), slot: U64::new(now) });
        }
        job.invariant()?;
        bid.invariant()?;

        BidPlaced { job: bid.job, provider: bid.provider, bid: *self.bid.address(), price: self.price, sealed: Bool::new(sealed) }.emit();
        Ok(())
    }
}
