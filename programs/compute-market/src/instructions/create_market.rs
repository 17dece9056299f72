//! `create_market`: the authority opens a market for one resource class, with its payment and
//! stake mints and its rules; its id is the config's market count.

use crate::accounts::{Context, init, load_mut, parse_args};
use crate::errors::{require, ErrorCode, Result};
use crate::events::MarketCreated;
use crate::layout::U64;
use crate::pda::create_pda_account;
use crate::state::seeds::MarketSeeds;
use crate::state::{Config, Market, MarketParams, ResourceClass};
use crate::token::expect_mint;
use pinocchio::cpi::Signer;

crate::pod_struct! {
    /// Arguments of `create_market`.
    pub struct CreateMarketArgs {
        /// Least hardware a provider must register.
        pub class: ResourceClass,
        /// Economic and timing rules.
        pub params: MarketParams,
    }
}

crate::instruction_accounts! {
    /// Accounts of `create_market`.
    pub struct CreateMarketAccounts {
        /// The protocol authority; pays the market's rent.
        authority: signer_writable,
        /// The config PDA; its market count is the new market's id.
        config: writable,
        /// The market PDA `["market", id]`, created here.
        market: writable,
        /// Mint in which jobs are paid.
        payment_mint: readonly,
        /// Mint in which providers stake.
        stake_mint: readonly,
        system_program: program = pinocchio_system::ID,
    }
}

fn validate(ix: &CreateMarketAccounts, config: &Config, args: &CreateMarketArgs) -> Result<()> {
    require(ix.authority.address() == &config.authority, ErrorCode::NotAuthority)?;
    args.params.validate()?;
    expect_mint(&ix.payment_mint)?;
    expect_mint(&ix.stake_mint)
}

pub fn process(ctx: &Context) -> Result<()> {
    let program_id = ctx.program_id;
    let ix = CreateMarketAccounts::parse(ctx.accounts)?;
    let args = parse_args::<CreateMarketArgs>(ctx.data)?;
    let mut config_view = ix.config;
    let mut config = load_mut::<Config>(&mut config_view, program_id)?;
    validate(&ix, &config, args)?;

    let id = config.next_market_id()?;
    let mut seeds = MarketSeeds::new(id);
    let bump = seeds.expect(&ix.market, program_id)?;
    create_pda_account(&ix.authority, &ix.market, Market::LEN, program_id, Signer::from(&seeds.signer()))?;

    let mut market_view = ix.market;
    let mut market = init::<Market>(&mut market_view)?;
    market.bump = bump;
    market.id = U64::new(id);
    market.payment_mint = *ix.payment_mint.address();
    market.stake_mint = *ix.stake_mint.address();
    market.class = args.class;
    market.params = args.params;
    market.invariant()?;
    config.invariant()?;

    MarketCreated {
        market: *ix.market.address(),
        id: market.id,
        payment_mint: market.payment_mint,
        stake_mint: market.stake_mint,
    }
    .emit();
    Ok(())
}
