//! `request_unstake`: a provider's owner starts the unbonding delay for part of its free stake.

use crate::accounts::{Context, load, load_mut, parse_args};
use crate::errors::{require, ErrorCode, Result};
use crate::events::UnstakeRequested;
use crate::layout::U64;
use crate::runtime::current_slot;
use crate::state::{Market, Provider};

crate::pod_struct! {
    /// Arguments of `request_unstake`.
    pub struct RequestUnstakeArgs {
        /// Tokens to unbond, in base units; at most the free stake.
        pub amount: U64,
    }
}

crate::instruction_accounts! {
    /// Accounts of `request_unstake`.
    pub struct RequestUnstakeAccounts {
        /// The provider's owner.
        owner: signer,
        /// The provider account.
        provider: writable,
        /// The provider's market, which fixes the unbonding delay.
        market: readonly,
    }
}

fn validate(ix: &RequestUnstakeAccounts, provider: &Provider) -> Result<()> {
    require(ix.owner.address() == &provider.owner, ErrorCode::NotProviderOwner)?;
    require(ix.market.address() == &provider.market, ErrorCode::MarketMismatch)
}

pub fn process(ctx: &Context) -> Result<()> {
    let program_id = ctx.program_id;
    let ix = RequestUnstakeAccounts::parse(ctx.accounts)?;
    let amount = parse_args::<RequestUnstakeArgs>(ctx.data)?.amount.get();
    let mut provider_view = ix.provider;
    let mut provider = load_mut::<Provider>(&mut provider_view, program_id)?;
    validate(&ix, &provider)?;
    let market = load::<Market>(&ix.market, program_id)?;

    provider.request_unstake(amount, current_slot()?, market.params.unbonding_slots.get())?;
    provider.invariant()?;

    UnstakeRequested {
        provider: *ix.provider.address(),
        amount: U64::new(amount),
        unbonding: provider.unbonding,
        unlock_slot: provider.unlock_slot,
    }
    .emit();
    Ok(())
}
