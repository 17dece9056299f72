//! `update_provider`: an operator re-registers its hardware or endpoint, e.g. after a GPU was
//! added or removed. Bids already placed keep the spec they were checked against.

use crate::accounts::{Context, load, load_mut, parse_args};
use crate::errors::{require, ErrorCode, Result};
use crate::events::ProviderUpdated;
use crate::state::{validate_endpoint, HardwareSpec, Market, Provider, ENDPOINT_LEN};

crate::pod_struct! {
    /// Arguments of `update_provider`.
    pub struct UpdateProviderArgs {
        /// The hardware now offered.
        pub spec: HardwareSpec,
        /// The provider's public endpoint URL, UTF-8 padded with zero bytes.
        pub endpoint: [u8; ENDPOINT_LEN],
    }
}

crate::instruction_accounts! {
    /// Accounts of `update_provider`.
    pub struct UpdateProviderAccounts {
        /// The provider's owner.
        owner: signer,
        /// The provider account.
        provider: writable,
        /// The provider's market, whose resource class the new spec must meet.
        market: readonly,
    }
}

fn validate(ix: &UpdateProviderAccounts, provider: &Provider, market: &Market, args: &UpdateProviderArgs) -> Result<()> {
    require(ix.owner.address() == &provider.owner, ErrorCode::NotProviderOwner)?;
    require(ix.market.address() == &provider.market, ErrorCode::MarketMismatch)?;
    args.spec.validate()?;
    require(market.class.admits(&args.spec), ErrorCode::HardwareBelowMarketClass)?;
    validate_endpoint(&args.endpoint)
}

pub fn process(ctx: &Context) -> Result<()> {
    let program_id = ctx.program_id;
    let ix = UpdateProviderAccounts::parse(ctx.accounts)?;
    let args = parse_args::<UpdateProviderArgs>(ctx.data)?;
    let mut provider_view = ix.provider;
    let mut provider = load_mut::<Provider>(&mut provider_view, program_id)?;
    let market = load::<Market>(&ix.market, program_id)?;
    validate(&ix, &provider, &market, args)?;

    provider.spec = args.spec;
    provider.endpoint = args.endpoint;
    provider.invariant()?;

    ProviderUpdated { provider: *ix.provider.address(), spec: provider.spec }.emit();
    Ok(())
}
