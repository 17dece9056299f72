//! SPL Token checks and the transfers, vault creations and closings the program signs for.
//! Only the original SPL Token program is accepted (no Token-2022 extensions such as transfer
//! hooks or fees, which would break escrow accounting).

use crate::errors::{require, ErrorCode, Result};
use pinocchio::cpi::Signer;
use pinocchio::{AccountView, Address};
use pinocchio_token::instructions::{CloseAccount, InitializeAccount3, Transfer};
use pinocchio_token::state::{Account as TokenAccount, Mint};

pub use pinocchio_token::ID as TOKEN_PROGRAM_ID;

/// Checks that `mint` is an initialized SPL Token mint.
#[inline(always)]
pub fn expect_mint(mint: &AccountView) -> Result<()> {
    require(mint.owned_by(&TOKEN_PROGRAM_ID), ErrorCode::InvalidMint)?;
    let state = Mint::from_account_view(mint).map_err(|_| ErrorCode::InvalidMint)?;
    require(state.is_initialized(), ErrorCode::InvalidMint)
}

/// Checks that `account` is an initialized token account of `mint` owned by `owner`, and
/// returns its balance.
#[inline(always)]
pub fn expect_token_account(account: &AccountView, mint: &Address, owner: &Address) -> Result<u64> {
    require(account.owned_by(&TOKEN_PROGRAM_ID), ErrorCode::InvalidTokenAccount)?;
    let state = TokenAccount::from_account_view(account).map_err(|_| ErrorCode::InvalidTokenAccount)?;
    require(state.is_initialized(), ErrorCode::InvalidTokenAccount)?;
    require(state.mint() == mint, ErrorCode::WrongMint)?;
    require(state.owner() == owner, ErrorCode::TokenAccountOwnerMismatch)?;
    Ok(state.amount())
}

/// Creates the PDA token account `vault` for `mint`, owned by `authority` (another PDA).
#[inline(always)]
pub fn create_vault(
    payer: &AccountView,
    vault: &AccountView,
    mint: &AccountView,
    authority: &Address,
    vault_signer: Signer,
) -> Result<()> {
    crate::pda::create_pda_account(payer, vault, TokenAccount::LEN, &TOKEN_PROGRAM_ID, vault_signer)?;
    InitializeAccount3::new(vault, mint, authority).invoke()
}

/// Moves `amount` tokens; `signers` is empty when the authority signed the transaction itself.
#[inline(always)]
pub fn transfer(
    from: &AccountView,
    to: &AccountView,
    authority: &AccountView,
    amount: u64,
    signers: &[Signer],
) -> Result<()> {
    Transfer::new(from, to, authority, amount).invoke_signed(signers)
}

/// Closes an empty vault, sending its rent to `destination`.
#[inline(always)]
pub fn close_vault(vault: &AccountView, destination: &AccountView, authority: &AccountView, signer: Signer) -> Result<()> {
    CloseAccount::new(vault, destination, authority).invoke_signed(&[signer])
}
