//! `withdraw_unstaked`: once the unbonding delay has passed, the unbonded stake goes back to
//! the provider's owner.

use crate::accounts::{load_mut, Context};
use crate::errors::{require, ErrorCode, Result};
use crate::events::UnstakeWithdrawn;
use crate::layout::U64;
use crate::runtime::current_slot;
use crate::state::seeds::ProviderSeeds;
use crate::state::Provider;
use crate::token::{expect_token_account, transfer, TOKEN_PROGRAM_ID};
use pinocchio::cpi::Signer;

crate::pod_struct! {
    /// `withdraw_unstaked` takes no arguments.
    pub struct WithdrawUnstakedArgs {}
}

crate::instruction_accounts! {
    /// Accounts of `withdraw_unstaked`.
    pub struct WithdrawUnstakedAccounts {
        /// The provider's owner.
        owner: signer,
        /// The provider account, which signs for its vault.
        provider: writable,
        /// The provider's stake vault, debited.
        vault: writable,
        /// The owner's token account of the stake mint, credited.
        owner_token: writable,
        token_program: program = TOKEN_PROGRAM_ID,
    }
}

fn validate(ix: &WithdrawUnstakedAccounts, provider: &Provider) -> Result<()> {
    require(ix.owner.address() == &provider.owner, ErrorCode::NotProviderOwner)?;
    require(ix.vault.address() == &provider.vault, ErrorCode::InvalidVault)?;
    expect_token_account(&ix.owner_token, &provider.stake_mint, ix.owner.address()).map(|_| ())
}

pub fn process(ctx: &Context) -> Result<()> {
    let program_id = ctx.program_id;
    let ix = WithdrawUnstakedAccounts::parse(ctx.accounts)?;
    crate::accounts::parse_args::<WithdrawUnstakedArgs>(ctx.data)?;
    let mut provider_view = ix.provider;
    let (amount, staked, signer) = {
        let mut provider = load_mut::<Provider>(&mut provider_view, program_id)?;
        validate(&ix, &provider)?;
        let amount = provider.withdraw_unbonded(current_slot()?)?;
        provider.invariant()?;
        (amount, provider.staked, ProviderSeeds::of(&provider))
    };

    // The provider PDA signs as the vault's owner; its data borrow ended above.
    let signer_seeds = signer.signer();
    transfer(&ix.vault, &ix.owner_token, &ix.provider, amount, &[Signer::from(&signer_seeds)])?;

    UnstakeWithdrawn { provider: *ix.provider.address(), amount: U64::new(amount), staked }.emit();
    Ok(())
}
