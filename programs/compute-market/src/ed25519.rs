//! Signatures the runtime verified for us: the Ed25519 program is a precompile, checked before
//! any instruction of the transaction runs, so an instruction of ours that finds one in the
//! transaction (through the instructions sysvar) knows its key signed its message. What must be
//! checked here is that the signature verified is the one we read: exactly one, with its key,
//! signature and message all inside that same instruction's data.

use crate::errors::{require, ErrorCode, Result};
use pinocchio::sysvars::instructions::Instructions;
use pinocchio::{AccountView, Address};

/// `Ed25519SigVerify111111111111111111111111111`.
pub const ED25519_PROGRAM_ID: Address = Address::from_str_const("Ed25519SigVerify111111111111111111111111111");

/// In the Ed25519 program's offsets, "in this instruction's own data".
const THIS_INSTRUCTION: u16 = u16::MAX;
/// `num_signatures`, a padding byte, then one 14-byte offsets record per signature.
const HEADER_LEN: usize = 2;
#[cfg(test)]
const OFFSETS_LEN: usize = 14;
const PUBLIC_KEY_LEN: usize = 32;
const SIGNATURE_LEN: usize = 64;

fn u16_at(data: &[u8], at: usize) -> Option<u16> {
    let bytes = data.get(at..at + 2)?;
    Some(u16::from_le_bytes([*bytes.first()?, *bytes.get(1)?]))
}

/// The key and the message of an Ed25519 program instruction's data that verifies exactly one
/// signature whose parts all lie in that data; `None` for anything else.
pub fn single_signed_message(data: &[u8]) -> Option<(&[u8], &[u8])> {
    if *data.first()? != 1 {
        return None;
    }
    let field = |i: usize| u16_at(data, HEADER_LEN + 2 * i);
    let (signature_at, signature_ix) = (field(0)? as usize, field(1)?);
    let (key_at, key_ix) = (field(2)? as usize, field(3)?);
    let (message_at, message_len, message_ix) = (field(4)? as usize, field(5)? as usize, field(6)?);
    if signature_ix != THIS_INSTRUCTION || key_ix != THIS_INSTRUCTION || message_ix != THIS_INSTRUCTION {
        return None;
    }
    // The signature must be in the data too, or the precompile would have read it elsewhere.
    data.get(signature_at..signature_at.checked_add(SIGNATURE_LEN)?)?;
    let key = data.get(key_at..key_at.checked_add(PUBLIC_KEY_LEN)?)?;
    let message = data.get(message_at..message_at.checked_add(message_len)?)?;
    Some((key, message))
}

/// Requires the instruction just before the current one to be the Ed25519 program verifying
/// `message` signed by `signer`.
pub fn require_signed_before(instructions_sysvar: &AccountView, signer: &Address, message: &[u8]) -> Result<()> {
    let instructions = Instructions::try_from(instructions_sysvar)?;
    let previous = instructions.get_instruction_relative(-1).map_err(|_| ErrorCode::InvalidAcknowledgement)?;
    require(previous.get_program_id() == &ED25519_PROGRAM_ID, ErrorCode::InvalidAcknowledgement)?;
    let (key, signed) = single_signed_message(previous.get_instruction_data()).ok_or(ErrorCode::InvalidAcknowledgement)?;
    require(key == signer.as_ref() && signed == message, ErrorCode::InvalidAcknowledgement)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The data web3.js's `Ed25519Program.createInstructionWithPublicKey` builds: header, one
    /// offsets record, key, signature, message.
    fn instruction_data(key: &[u8; 32], message: &[u8], indices: [u16; 3]) -> Vec<u8> {
        let key_at = (HEADER_LEN + OFFSETS_LEN) as u16;
        let signature_at = key_at + 32;
        let message_at = signature_at + 64;
        let mut data = vec![1u8, 0];
        for value in [signature_at, indices[0], key_at, indices[1], message_at, message.len() as u16, indices[2]] {
            data.extend_from_slice(&value.to_le_bytes());
        }
        data.extend_from_slice(key);
        data.extend_from_slice(&[7u8; 64]);
        data.extend_from_slice(message);
        data
    }

    #[test]
    fn reads_the_key_and_message_of_one_signature_held_in_the_instruction() {
        let data = instruction_data(&[3; 32], b"hello", [u16::MAX; 3]);
        assert_eq!(single_signed_message(&data), Some((&[3u8; 32][..], &b"hello"[..])));
    }

    #[test]
    fn refuses_parts_read_from_another_instruction_or_several_signatures() {
        for indices in [[0, u16::MAX, u16::MAX], [u16::MAX, 1, u16::MAX], [u16::MAX, u16::MAX, 2]] {
            assert_eq!(single_signed_message(&instruction_data(&[3; 32], b"hello", indices)), None);
        }
        let mut two = instruction_data(&[3; 32], b"hello", [u16::MAX; 3]);
        two[0] = 2;
        assert_eq!(single_signed_message(&two), None);
    }

    #[test]
    fn refuses_offsets_outside_the_data() {
        let mut data = instruction_data(&[3; 32], b"hello", [u16::MAX; 3]);
        data.truncate(data.len() - 1);
        assert_eq!(single_signed_message(&data), None);
        assert_eq!(single_signed_message(&[]), None);
    }
}
