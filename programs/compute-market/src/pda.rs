//! Program-derived addresses: derivation checks, creation (safe against pre-funded addresses)
//! and closing with rent returned.
//!
//! Helpers here and in `token.rs` are `#[inline(always)]`: upstream BPF passes at most five
//! arguments in registers and has no stack arguments, so a called helper may take no more.

use crate::errors::{require, ErrorCode, Result};
use crate::math::SafeMath;
use pinocchio::cpi::Signer;
use pinocchio::{AccountView, Address};
use pinocchio_system::instructions::{Allocate, Assign, CreateAccount, Transfer};

/// Checks that `account` is the canonical PDA of `seeds` and returns its bump. Only canonical
/// bumps are accepted, so each seed set names exactly one account.
///
/// The seeds arrive by value so that the array the syscall reads is built on the stack: a
/// constant array of slices would be placed in read-only data, where the relinker keeps
/// neither its pointers nor its alignment (scripts/check-program-ir.mjs guards this).
#[inline(always)]
pub fn expect_pda<const N: usize>(account: &AccountView, seeds: [&[u8]; N], program_id: &Address) -> Result<u8> {
    let (address, bump) = Address::try_find_program_address(&seeds, program_id).ok_or(ErrorCode::InvalidPda)?;
    require(account.address() == &address, ErrorCode::InvalidPda)?;
    Ok(bump)
}

/// Creates `account` (a PDA signed for by `signer`) with `space` bytes, rent-exempt, owned by
/// `owner`. An address someone pre-funded with lamports is still claimed: it is topped up,
/// allocated and assigned instead of failing `create_account`.
#[inline(always)]
pub fn create_pda_account(
    payer: &AccountView,
    account: &AccountView,
    space: usize,
    owner: &Address,
    signer: Signer,
) -> Result<()> {
    require(
        account.data_len() == 0 && account.owned_by(&pinocchio_system::ID),
        ErrorCode::AccountAlreadyInitialized,
    )?;
    let rent_exempt = crate::rent::minimum_balance(space)?;
    let signers = [signer];
    let existing = account.lamports();
    if existing == 0 {
        return CreateAccount { from: payer, to: account, lamports: rent_exempt, space: space as u64, owner }
            .invoke_signed(&signers);
    }
    if existing < rent_exempt {
        Transfer { from: payer, to: account, lamports: rent_exempt.safe_sub(existing)? }.invoke()?;
    }
    Allocate { account, space: space as u64 }.invoke_signed(&signers)?;
    Assign { account, owner }.invoke_signed(&signers)
}

/// Closes a program-owned account: all its lamports go to `destination`, its data is released.
#[inline(always)]
pub fn close_program_account(account: &mut AccountView, destination: &mut AccountView) -> Result<()> {
    let lamports = destination.lamports().safe_add(account.lamports())?;
    destination.set_lamports(lamports);
    account.set_lamports(0);
    account.close()
}
