//! `stake`: a provider's owner adds tokens to its stake vault.

use crate::accounts::{Context, load_mut, parse_args};
use crate::errors::{require, ErrorCode, Result};
use crate::events::StakeDeposited;
use crate::layout::U64;
use crate::state::Provider;
use crate::token::{expect_token_account, transfer, TOKEN_PROGRAM_ID};

crate::pod_struct! {
    /// Arguments of `stake`.
    pub struct StakeArgs {
        /// Tokens to add, in base units.
        pub amount: U64,
    }
}

crate::instruction_accounts! {
    /// Accounts of `stake`.
    pub struct StakeAccounts {
        /// The provider's owner, who signs the transfer.
        owner: signer,
        /// The provider account.
        provider: writable,
        /// The provider's stake vault.
        vault: writable,
        /// The owner's token account of the stake mint, debited.
        owner_token: writable,
        token_program: program = TOKEN_PROGRAM_ID,
    }
}

fn validate(ix: &StakeAccounts, provider: &Provider, amount: u64) -> Result<()> {
    require(ix.owner.address() == &provider.owner, ErrorCode::NotProviderOwner)?;
    require(ix.vault.address() == &provider.vault, ErrorCode::InvalidVault)?;
    require(amount > 0, ErrorCode::ZeroAmount)?;
    let balance = expect_token_account(&ix.owner_token, &provider.stake_mint, ix.owner.address())?;
    require(balance >= amount, ErrorCode::InsufficientFunds)
}

pub fn process(ctx: &Context) -> Result<()> {
    let program_id = ctx.program_id;
    let ix = StakeAccounts::parse(ctx.accounts)?;
    let amount = parse_args::<StakeArgs>(ctx.data)?.amount.get();
    let mut provider_view = ix.provider;
    let mut provider = load_mut::<Provider>(&mut provider_view, program_id)?;
    validate(&ix, &provider, amount)?;

    provider.add_stake(amount)?;
    provider.invariant()?;
    transfer(&ix.owner_token, &ix.vault, &ix.owner, amount, &[])?;

    StakeDeposited { provider: *ix.provider.address(), amount: U64::new(amount), staked: provider.staked }.emit();
    Ok(())
}
