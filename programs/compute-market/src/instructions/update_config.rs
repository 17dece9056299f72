//! `update_config`: the authority changes fees, treasury or authority, or pauses new jobs.

use crate::accounts::{Context, load_mut, parse_args};
use crate::constants::MAX_PROTOCOL_FEE_BPS;
use crate::errors::{require, ErrorCode, Result};
use crate::events::ConfigUpdated;
use crate::layout::{Bool, U16};
use crate::state::Config;
use pinocchio::Address;

crate::pod_struct! {
    /// Arguments of `update_config`: the config's new settings, all at once.
    pub struct UpdateConfigArgs {
        /// New protocol fee, in bps (at most 1,000).
        pub protocol_fee_bps: U16,
        /// New fee recipient.
        pub treasury: Address,
        /// New authority (the current one to keep it).
        pub authority: Address,
        /// Whether new jobs are refused.
        pub paused: Bool,
    }
}

crate::instruction_accounts! {
    /// Accounts of `update_config`.
    pub struct UpdateConfigAccounts {
        /// The current protocol authority.
        authority: signer,
        /// The config PDA.
        config: writable,
    }
}

fn validate(ix: &UpdateConfigAccounts, config: &Config, args: &UpdateConfigArgs) -> Result<()> {
    require(ix.authority.address() == &config.authority, ErrorCode::NotAuthority)?;
    require(args.protocol_fee_bps.get() <= MAX_PROTOCOL_FEE_BPS, ErrorCode::FeeAboveLimit)
}

pub fn process(ctx: &Context) -> Result<()> {
    let program_id = ctx.program_id;
    let ix = UpdateConfigAccounts::parse(ctx.accounts)?;
    let args = parse_args::<UpdateConfigArgs>(ctx.data)?;
    let mut config_view = ix.config;
    let mut config = load_mut::<Config>(&mut config_view, program_id)?;
    validate(&ix, &config, args)?;

    config.protocol_fee_bps = args.protocol_fee_bps;
    config.treasury = args.treasury;
    config.authority = args.authority;
    config.paused = args.paused;
    config.invariant()?;

    ConfigUpdated {
        authority: config.authority,
        treasury: config.treasury,
        protocol_fee_bps: config.protocol_fee_bps,
        paused: config.paused,
    }
    .emit();
    Ok(())
}
