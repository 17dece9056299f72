//! `reveal_bid`: after bidding closes, a sealed bid's price is opened against its commitment
//! and enters the ranking.

use crate::accounts::{load, load_mut, parse_args, Context};
use crate::errors::{require, ErrorCode, Result};
use crate::events::BidRevealed;
use crate::layout::U64;
use crate::runtime::current_slot;
use crate::state::{Bid, Job, Provider, RankedBid};

crate::pod_struct! {
    /// Arguments of `reveal_bid`.
    pub struct RevealBidArgs {
        /// The price committed to.
        pub price: U64,
        /// The salt committed with it.
        pub salt: [u8; 32],
    }
}

crate::instruction_accounts! {
    /// Accounts of `reveal_bid`.
    pub struct RevealBidAccounts {
        /// The provider's owner.
        owner: signer,
        /// The bidding provider (its reputation ranks ties).
        provider: readonly,
        /// The job.
        job: writable,
        /// The sealed bid.
        bid: writable,
    }
}

fn validate(ix: &RevealBidAccounts, provider: &Provider, job: &Job, bid: &Bid, args: &RevealBidArgs, now: u64) -> Result<()> {
    require(ix.owner.address() == &bid.owner && provider.owner == bid.owner, ErrorCode::NotBidOwner)?;
    bid.check_job(ix.job.address(), job)?;
    require(&bid.provider == ix.provider.address(), ErrorCode::BidMismatch)?;
    require(provider.market == job.market, ErrorCode::MarketMismatch)?;
    job.check_revealing(now)?;
    let price = args.price.get();
    require(price > 0 && price <= job.max_price.get(), ErrorCode::PriceAboveMax)
}

pub fn process(ctx: &Context) -> Result<()> {
    let program_id = ctx.program_id;
    let ix = RevealBidAccounts::parse(ctx.accounts)?;
    let args = parse_args::<RevealBidArgs>(ctx.data)?;
    let now = current_slot()?;
    let (mut job_view, mut bid_view) = (ix.job, ix.bid);
    let provider = load::<Provider>(&ix.provider, program_id)?;
    let mut job = load_mut::<Job>(&mut job_view, program_id)?;
    let mut bid = load_mut::<Bid>(&mut bid_view, program_id)?;
    validate(&ix, &provider, &job, &bid, args, now)?;

    bid.reveal(args.price.get(), &args.salt)?;
    job.auction.insert(RankedBid { provider: bid.provider, price: args.price, score: U64::new(provider.score()), slot: U64::new(now) });
    job.invariant()?;
    bid.invariant()?;

    BidRevealed { job: bid.job, provider: bid.provider, price: args.price }.emit();
    Ok(())
}
