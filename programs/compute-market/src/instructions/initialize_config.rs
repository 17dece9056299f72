//! `initialize_config`: creates the protocol's singleton config; the signer becomes authority.

use crate::accounts::{Context, init, parse_args};
use crate::constants::MAX_PROTOCOL_FEE_BPS;
use crate::errors::{require, ErrorCode, Result};
use crate::events::ConfigInitialized;
use crate::layout::{Bool, U16, U64};
use crate::pda::create_pda_account;
use crate::state::seeds::ConfigSeeds;
use crate::state::Config;
use pinocchio::cpi::Signer;
use pinocchio::Address;

crate::pod_struct! {
    /// Arguments of `initialize_config`.
    pub struct InitializeConfigArgs {
        /// Protocol fee on top of each job's price, in bps (at most 1,000).
        pub protocol_fee_bps: U16,
        /// Owner of the token accounts that receive fees.
        pub treasury: Address,
    }
}

crate::instruction_accounts! {
    /// Accounts of `initialize_config`.
    pub struct InitializeConfigAccounts {
        /// Becomes the protocol authority; pays the config's rent.
        authority: signer_writable,
        /// The config PDA `["config"]`, created here.
        config: writable,
        system_program: program = pinocchio_system::ID,
    }
}

/// Checks the arguments and the config address; returns the config's seeds.
fn validate(ix: &InitializeConfigAccounts, args: &InitializeConfigArgs, program_id: &Address) -> Result<ConfigSeeds> {
    require(args.protocol_fee_bps.get() <= MAX_PROTOCOL_FEE_BPS, ErrorCode::FeeAboveLimit)?;
    let mut seeds = ConfigSeeds::new();
    seeds.expect(&ix.config, program_id)?;
    Ok(seeds)
}

pub fn process(ctx: &Context) -> Result<()> {
    let program_id = ctx.program_id;
    let mut ix = InitializeConfigAccounts::parse(ctx.accounts)?;
    let args = parse_args::<InitializeConfigArgs>(ctx.data)?;
    let seeds = validate(&ix, args, program_id)?;
    create_pda_account(&ix.authority, &ix.config, Config::LEN, program_id, Signer::from(&seeds.signer()))?;

    let mut config = init::<Config>(&mut ix.config)?;
    config.bump = seeds.bump();
    config.paused = Bool::new(false);
    config.protocol_fee_bps = args.protocol_fee_bps;
    config.authority = *ix.authority.address();
    config.treasury = args.treasury;
    config.market_count = U64::new(0);
    config.invariant()?;

    ConfigInitialized {
        authority: config.authority,
        treasury: config.treasury,
        protocol_fee_bps: config.protocol_fee_bps,
    }
    .emit();
    Ok(())
}
