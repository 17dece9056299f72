//! `register_provider`: an operator joins a market with its hardware spec; its provider account
//! and stake vault are created here.

use crate::accounts::{Context, init, load_mut, parse_args};
use crate::errors::{require, ErrorCode, Result};
use crate::events::ProviderRegistered;
use crate::layout::U64;
use crate::pda::create_pda_account;
use crate::runtime::current_slot;
use crate::state::seeds::{ProviderSeeds, StakeVaultSeeds};
use crate::state::{validate_endpoint, HardwareSpec, Market, Provider, ENDPOINT_LEN};
use crate::token::{create_vault, TOKEN_PROGRAM_ID};
use pinocchio::cpi::Signer;
use pinocchio::Address;

crate::pod_struct! {
    /// Arguments of `register_provider`.
    pub struct RegisterProviderArgs {
        /// The hardware offered.
        pub spec: HardwareSpec,
        /// The provider's public endpoint URL, UTF-8 padded with zero bytes.
        pub endpoint: [u8; ENDPOINT_LEN],
    }
}

crate::instruction_accounts! {
    /// Accounts of `register_provider`.
    pub struct RegisterProviderAccounts {
        /// The operator's wallet; pays rent for the provider account and its vault.
        owner: signer_writable,
        /// The market to join; its provider count is updated.
        market: writable,
        /// The provider PDA `["provider", market, owner]`, created here.
        provider: writable,
        /// The stake vault PDA `["stake", provider]`, created here.
        vault: writable,
        /// The market's stake mint.
        stake_mint: readonly,
        token_program: program = TOKEN_PROGRAM_ID,
        system_program: program = pinocchio_system::ID,
    }
}

/// Checks the spec against the market, and the two addresses; returns their seeds, bumps found.
fn validate(
    ix: &RegisterProviderAccounts,
    market: &Market,
    args: &RegisterProviderArgs,
    program_id: &Address,
) -> Result<(ProviderSeeds, StakeVaultSeeds)> {
    require(ix.stake_mint.address() == &market.stake_mint, ErrorCode::WrongMint)?;
    args.spec.validate()?;
    require(market.class.admits(&args.spec), ErrorCode::HardwareBelowMarketClass)?;
    validate_endpoint(&args.endpoint)?;
    let mut provider_seeds = ProviderSeeds::new(ix.market.address(), ix.owner.address());
    provider_seeds.expect(&ix.provider, program_id)?;
    let mut vault_seeds = StakeVaultSeeds::new(ix.provider.address());
    vault_seeds.expect(&ix.vault, program_id)?;
    Ok((provider_seeds, vault_seeds))
}

pub fn process(ctx: &Context) -> Result<()> {
    let program_id = ctx.program_id;
    let ix = RegisterProviderAccounts::parse(ctx.accounts)?;
    let args = parse_args::<RegisterProviderArgs>(ctx.data)?;
    let mut market_view = ix.market;
    let mut market = load_mut::<Market>(&mut market_view, program_id)?;
    let (provider_seeds, vault_seeds) = validate(&ix, &market, args, program_id)?;
    create_pda_account(&ix.owner, &ix.provider, Provider::LEN, program_id, Signer::from(&provider_seeds.signer()))?;
    create_vault(&ix.owner, &ix.vault, &ix.stake_mint, ix.provider.address(), Signer::from(&vault_seeds.signer()))?;

    let mut provider_view = ix.provider;
    let mut provider = init::<Provider>(&mut provider_view)?;
    provider.bump = provider_seeds.bump();
    provider.vault_bump = vault_seeds.bump();
    provider.owner = *ix.owner.address();
    provider.market = *ix.market.address();
    provider.vault = *ix.vault.address();
    provider.stake_mint = market.stake_mint;
    provider.spec = args.spec;
    provider.endpoint = args.endpoint;
    provider.registered_slot = U64::new(current_slot()?);
    provider.invariant()?;
    market.record_provider_registered()?;
    market.invariant()?;

    ProviderRegistered { provider: *ix.provider.address(), market: provider.market, owner: provider.owner }.emit();
    Ok(())
}
