//! `register_provider`: an operator joins a market with its hardware spec; its provider account
//! and stake vault are created here.

use crate::accounts::{Context, init, load_mut, parse_args};
use crate::errors::{require, ErrorCode, Result};
use crate::events::ProviderRegistered;
use crate::layout::U64;
use crate::pda::{create_pda_account, expect_pda};
use crate::runtime::current_slot;
use crate::state::{seeds, validate_endpoint, HardwareSpec, Market, Provider, ENDPOINT_LEN};
use crate::token::{create_vault, TOKEN_PROGRAM_ID};
use pinocchio::cpi::{Seed, Signer};
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

/// Checks the spec against the market, and the two addresses; returns (provider bump, vault bump).
fn validate(
    ix: &RegisterProviderAccounts,
    market: &Market,
    args: &RegisterProviderArgs,
    program_id: &Address,
) -> Result<(u8, u8)> {
    require(ix.stake_mint.address() == &market.stake_mint, ErrorCode::WrongMint)?;
    args.spec.validate()?;
    require(market.class.admits(&args.spec), ErrorCode::HardwareBelowMarketClass)?;
    validate_endpoint(&args.endpoint)?;
    let provider_bump = expect_pda(
        &ix.provider,
        [seeds::PROVIDER, ix.market.address().as_ref(), ix.owner.address().as_ref()],
        program_id,
    )?;
    let vault_bump = expect_pda(&ix.vault, [seeds::STAKE_VAULT, ix.provider.address().as_ref()], program_id)?;
    Ok((provider_bump, vault_bump))
}

pub fn process(ctx: &Context) -> Result<()> {
    let program_id = ctx.program_id;
    let ix = RegisterProviderAccounts::parse(ctx.accounts)?;
    let args = parse_args::<RegisterProviderArgs>(ctx.data)?;
    let mut market_view = ix.market;
    let mut market = load_mut::<Market>(&mut market_view, program_id)?;
    let (provider_bump, vault_bump) = validate(&ix, &market, args, program_id)?;

    let provider_bump_seed = [provider_bump];
    let provider_seeds = [
        Seed::from(seeds::PROVIDER),
        Seed::from(ix.market.address().as_ref()),
        Seed::from(ix.owner.address().as_ref()),
        Seed::from(&provider_bump_seed),
    ];
    create_pda_account(&ix.owner, &ix.provider, Provider::LEN, program_id, Signer::from(&provider_seeds))?;

    let vault_bump_seed = [vault_bump];
    let vault_seeds = [
        Seed::from(seeds::STAKE_VAULT),
        Seed::from(ix.provider.address().as_ref()),
        Seed::from(&vault_bump_seed),
    ];
    create_vault(&ix.owner, &ix.vault, &ix.stake_mint, ix.provider.address(), Signer::from(&vault_seeds))?;

    let mut provider_view = ix.provider;
    let mut provider = init::<Provider>(&mut provider_view)?;
    provider.bump = provider_bump;
    provider.vault_bump = vault_bump;
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
