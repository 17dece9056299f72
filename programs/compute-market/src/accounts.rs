//! Account checks shared by every instruction: the declarative account lists, and the loaders
//! that check owner, length and discriminator before a byte of program state is read.

use crate::discriminator::Discriminated;
use crate::errors::{require, ErrorCode, Result};
use crate::layout::{from_bytes, from_bytes_mut, Pod};
use pinocchio::account::{Ref, RefMut};
use pinocchio::{AccountView, Address};

/// What the runtime passes to an instruction, bundled so a handler takes one argument:
/// upstream BPF passes at most five arguments, in registers, and has no stack arguments.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    pub program_id: &'a Address,
    pub accounts: &'a [AccountView],
    pub data: &'a [u8],
}

/// What an instruction requires of one account in its list.
#[derive(Clone, Copy)]
pub struct Access {
    pub signer: bool,
    pub writable: bool,
}

/// `signer`, `signer_writable`, `writable`, `readonly`, or `program` and `sysvar` (read-only, fixed address).
#[macro_export]
macro_rules! access {
    (signer) => { $crate::accounts::Access { signer: true, writable: false } };
    (signer_writable) => { $crate::accounts::Access { signer: true, writable: true } };
    (writable) => { $crate::accounts::Access { signer: false, writable: true } };
    (readonly) => { $crate::accounts::Access { signer: false, writable: false } };
    (program) => { $crate::accounts::Access { signer: false, writable: false } };
    (sysvar) => { $crate::accounts::Access { signer: false, writable: false } };
}

/// `Some(address)` for an account with a fixed address, `None` otherwise.
#[macro_export]
macro_rules! optional_address {
    () => { None };
    ($address:expr) => { Some($address) };
}

/// Declares an instruction's ordered account list. `parse` checks the count, each account's
/// signer and writable flags and each fixed address; the IDL is generated from the same list.
#[macro_export]
macro_rules! instruction_accounts {
    (
        $(#[doc = $doc:literal])*
        pub struct $name:ident {
            $( $(#[doc = $adoc:literal])* $field:ident : $access:ident $(= $address:expr)? ),+ $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        pub struct $name { $(pub $field: pinocchio::AccountView),+ }

        impl $name {
            /// Number of declared accounts; any further ones are the instruction's remaining accounts.
            pub const COUNT: usize = [$(stringify!($field)),+].len();

            pub fn parse(accounts: &[pinocchio::AccountView]) -> $crate::errors::Result<Self> {
                let [$($field),+, ..] = accounts else {
                    return Err($crate::errors::ErrorCode::NotEnoughAccounts.into());
                };
                $(
                    $crate::accounts::check_access($field, $crate::access!($access))?;
                    $($crate::accounts::check_address($field, &$address)?;)?
                )+
                Ok(Self { $($field: *$field),+ })
            }

            #[cfg(feature = "idl-build")]
            pub fn idl() -> Vec<$crate::idl::AccountMeta> {
                vec![$({
                    let access = $crate::access!($access);
                    let address = $crate::optional_address!($($address)?);
                    $crate::idl::AccountMeta {
                        name: stringify!($field),
                        docs: &[$($adoc),*],
                        writable: access.writable,
                        signer: access.signer,
                        address,
                    }
                }),+]
            }
        }
    };
}

pub fn check_access(account: &AccountView, access: Access) -> Result<()> {
    require(!access.signer || account.is_signer(), ErrorCode::MissingSignature)?;
    require(!access.writable || account.is_writable(), ErrorCode::AccountNotWritable)
}

pub fn check_address(account: &AccountView, expected: &Address) -> Result<()> {
    require(account.address() == expected, ErrorCode::InvalidProgramAccount)
}

/// Owner, length and discriminator of a program account of type `T`.
fn check_program_account<T: Pod + Discriminated>(account: &AccountView, program_id: &Address) -> Result<()> {
    require(account.owned_by(program_id), ErrorCode::InvalidAccountOwner)?;
    require(account.data_len() == 8 + core::mem::size_of::<T>(), ErrorCode::InvalidAccountData)
}

/// Reads a program account of type `T` after checking owner, length and discriminator.
pub fn load<'a, T: Pod + Discriminated>(account: &'a AccountView, program_id: &Address) -> Result<Ref<'a, T>> {
    check_program_account::<T>(account, program_id)?;
    let data = account.try_borrow()?;
    require(data[..8] == T::DISCRIMINATOR, ErrorCode::InvalidDiscriminator)?;
    Ref::try_map(data, |bytes| from_bytes::<T>(&bytes[8..]).ok_or(()))
        .map_err(|_| ErrorCode::InvalidAccountData.into())
}

/// Like `load`, for an account the instruction modifies (which must be writable).
pub fn load_mut<'a, T: Pod + Discriminated>(
    account: &'a mut AccountView,
    program_id: &Address,
) -> Result<RefMut<'a, T>> {
    check_program_account::<T>(account, program_id)?;
    require(account.is_writable(), ErrorCode::AccountNotWritable)?;
    let data = account.try_borrow_mut()?;
    require(data[..8] == T::DISCRIMINATOR, ErrorCode::InvalidDiscriminator)?;
    RefMut::try_map(data, |bytes| from_bytes_mut::<T>(&mut bytes[8..]).ok_or(()))
        .map_err(|_| ErrorCode::InvalidAccountData.into())
}

/// Writes the discriminator into a freshly created account and returns its zeroed body.
pub fn init<'a, T: Pod + Discriminated>(account: &'a mut AccountView) -> Result<RefMut<'a, T>> {
    require(account.data_len() == 8 + core::mem::size_of::<T>(), ErrorCode::InvalidAccountData)?;
    let mut data = account.try_borrow_mut()?;
    data[..8].copy_from_slice(&T::DISCRIMINATOR);
    RefMut::try_map(data, |bytes| from_bytes_mut::<T>(&mut bytes[8..]).ok_or(()))
        .map_err(|_| ErrorCode::InvalidAccountData.into())
}

/// Splits instruction data into the fixed-size argument struct `T`.
pub fn parse_args<T: Pod>(data: &[u8]) -> Result<&T> {
    from_bytes::<T>(data).ok_or_else(|| ErrorCode::InvalidInstructionData.into())
}

/// Whether `account` currently holds a live program account of type `T` (a closed account
/// has no data and belongs to the system program).
pub fn is_live<T: Pod + Discriminated>(account: &AccountView, program_id: &Address) -> bool {
    account.owned_by(program_id) && account.data_len() == 8 + core::mem::size_of::<T>()
}
