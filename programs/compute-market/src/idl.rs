//! Anchor-format IDL (spec 0.1.0), generated from the program's own declarations.
//!
//! Instruction names, discriminators, account lists, argument layouts, account and event types
//! and error codes are all read from the same items the program executes, so the IDL cannot
//! drift from the code. `cargo run --features idl-build --bin compute-market-idl` prints it.

use crate::discriminator::Discriminated;
use crate::errors::ErrorCode;
use crate::events::*;
use crate::layout::{Bool, ByteEnum, Stored};
use crate::state::{Bid, Config, Dispute, Job, Market, Provider, Service, WitnessBuffer};
use pinocchio::Address;
use serde_json::{json, Map, Value};

/// The whole IDL document.
pub fn build() -> Value {
    let mut registry = TypeRegistry::default();
    let instructions = crate::idl_instructions(&mut registry);
    let accounts = vec![
        named::<Config>(&mut registry),
        named::<Market>(&mut registry),
        named::<Provider>(&mut registry),
        named::<Job>(&mut registry),
        named::<Bid>(&mut registry),
        named::<Dispute>(&mut registry),
        named::<WitnessBuffer>(&mut registry),
        named::<Service>(&mut registry),
    ];
    let events = vec![
        named::<ConfigInitialized>(&mut registry),
        named::<ConfigUpdated>(&mut registry),
        named::<MarketCreated>(&mut registry),
        named::<ProviderRegistered>(&mut registry),
        named::<ProviderUpdated>(&mut registry),
        named::<StakeDeposited>(&mut registry),
        named::<UnstakeRequested>(&mut registry),
        named::<UnstakeWithdrawn>(&mut registry),
        named::<JobPosted>(&mut registry),
        named::<JobCancelled>(&mut registry),
        named::<BidPlaced>(&mut registry),
        named::<BidRevealed>(&mut registry),
        named::<BidWithdrawn>(&mut registry),
        named::<JobAwarded>(&mut registry),
        named::<WinnerSelected>(&mut registry),
        named::<JobStarted>(&mut registry),
        named::<ResultCommitted>(&mut registry),
        named::<WinnerPaid>(&mut registry),
        named::<JobFinalized>(&mut registry),
        named::<JobExpired>(&mut registry),
        named::<WinnerFailed>(&mut registry),
        named::<JobReopened>(&mut registry),
        named::<JobRefunded>(&mut registry),
        named::<DisputeOpened>(&mut registry),
        named::<DisputeMoved>(&mut registry),
        named::<DisputeDecided>(&mut registry),
        named::<DisputeSettled>(&mut registry),
        named::<ResultRevealed>(&mut registry),
        named::<WinnerSlashed>(&mut registry),
        named::<ServicePosted>(&mut registry),
        named::<ServiceFunded>(&mut registry),
        named::<ServiceClaimed>(&mut registry),
        named::<ReplicaEnded>(&mut registry),
        named::<ReplicaClosed>(&mut registry),
        named::<ServiceSettled>(&mut registry),
        named::<ServicePaused>(&mut registry),
        named::<ServiceResumed>(&mut registry),
        named::<SeatRequested>(&mut registry),
        named::<SeatsAwarded>(&mut registry),
    ];
    let errors: Vec<Value> = ErrorCode::ALL
        .iter()
        .map(|e| json!({ "code": *e as u32, "name": e.name(), "msg": e.message() }))
        .collect();
    json!({
        "address": base58(crate::ID.as_ref()),
        "metadata": {
            "name": "compute_market",
            "version": env!("CARGO_PKG_VERSION"),
            "spec": "0.1.0",
            "description": env!("CARGO_PKG_DESCRIPTION"),
        },
        "instructions": instructions,
        "accounts": accounts,
        "events": events,
        "errors": errors,
        "types": registry.into_values(),
    })
}

/// An account or event entry: its name and discriminator; its fields go to `types`.
fn named<T: IdlType + Discriminated>(registry: &mut TypeRegistry) -> Value {
    let ty = T::idl_type(registry);
    json!({ "name": ty["defined"]["name"], "discriminator": T::DISCRIMINATOR })
}

/// How a type appears in the IDL; registers any named type it depends on.
pub trait IdlType {
    fn idl_type(registry: &mut TypeRegistry) -> Value;
}

impl IdlType for u8 {
    fn idl_type(_: &mut TypeRegistry) -> Value {
        Value::from("u8")
    }
}

impl<T: IdlType, const N: usize> IdlType for [T; N] {
    fn idl_type(registry: &mut TypeRegistry) -> Value {
        json!({ "array": [T::idl_type(registry), N] })
    }
}

impl IdlType for Address {
    fn idl_type(_: &mut TypeRegistry) -> Value {
        Value::from("pubkey")
    }
}

impl IdlType for Bool {
    fn idl_type(_: &mut TypeRegistry) -> Value {
        Value::from("bool")
    }
}

impl<T: ByteEnum + IdlType> IdlType for Stored<T> {
    fn idl_type(registry: &mut TypeRegistry) -> Value {
        T::idl_type(registry)
    }
}

/// The named types (structs and enums) referenced from accounts, arguments and events, in the
/// order they were first met.
#[derive(Default)]
pub struct TypeRegistry {
    types: Map<String, Value>,
}

impl TypeRegistry {
    pub fn add_struct(&mut self, name: &str, docs: &[&str], fields: Vec<Value>) {
        self.insert(name, docs, json!({ "kind": "struct", "fields": fields }));
    }

    pub fn add_enum(&mut self, name: &str, docs: &[&str], variants: &[&str]) {
        let variants: Vec<Value> = variants.iter().map(|v| json!({ "name": v })).collect();
        self.insert(name, docs, json!({ "kind": "enum", "variants": variants }));
    }

    fn insert(&mut self, name: &str, docs: &[&str], ty: Value) {
        if self.types.contains_key(name) {
            return;
        }
        let mut def = Map::new();
        def.insert("name".into(), Value::from(name));
        if !docs.is_empty() {
            def.insert("docs".into(), docs_value(docs));
        }
        def.insert("type".into(), ty);
        self.types.insert(name.into(), Value::Object(def));
    }

    pub fn into_values(self) -> Vec<Value> {
        self.types.into_iter().map(|(_, v)| v).collect()
    }
}

/// One field of a struct or one instruction argument.
pub fn field(name: &str, docs: &[&str], ty: Value) -> Value {
    let mut f = Map::new();
    f.insert("name".into(), Value::from(name));
    if !docs.is_empty() {
        f.insert("docs".into(), docs_value(docs));
    }
    f.insert("type".into(), ty);
    Value::Object(f)
}

/// The fields of an argument struct, flattened into an instruction's `args` list.
pub fn struct_fields<T: IdlType>(registry: &mut TypeRegistry) -> Vec<Value> {
    let name = match T::idl_type(registry) {
        Value::Object(o) => o["defined"]["name"].as_str().map(str::to_owned),
        _ => None,
    }
    .expect("instruction arguments are declared with pod_struct!");
    let def = registry.types.shift_remove(&name).expect("registered by idl_type");
    def["type"]["fields"].as_array().cloned().unwrap_or_default()
}

/// One entry of an instruction's account list.
pub struct AccountMeta {
    pub name: &'static str,
    pub docs: &'static [&'static str],
    pub writable: bool,
    pub signer: bool,
    pub address: Option<Address>,
}

impl AccountMeta {
    pub fn to_value(&self) -> Value {
        let mut a = Map::new();
        a.insert("name".into(), Value::from(self.name));
        if !self.docs.is_empty() {
            a.insert("docs".into(), docs_value(self.docs));
        }
        if self.writable {
            a.insert("writable".into(), Value::Bool(true));
        }
        if self.signer {
            a.insert("signer".into(), Value::Bool(true));
        }
        if let Some(address) = &self.address {
            a.insert("address".into(), Value::from(base58(address.as_ref())));
        }
        Value::Object(a)
    }
}

fn docs_value(docs: &[&str]) -> Value {
    Value::Array(docs.iter().map(|d| Value::from(d.trim())).collect())
}

/// Base58 (Bitcoin alphabet), enough for 32-byte addresses in the IDL.
pub fn base58(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut digits: Vec<u8> = Vec::new();
    for &byte in bytes {
        let mut carry = byte as u32;
        for digit in digits.iter_mut() {
            carry += (*digit as u32) << 8;
            *digit = (carry % 58) as u8;
            carry /= 58;
        }
        while carry > 0 {
            digits.push((carry % 58) as u8);
            carry /= 58;
        }
    }
    let zeros = bytes.iter().take_while(|b| **b == 0).count();
    let mut out = String::with_capacity(zeros + digits.len());
    out.extend(std::iter::repeat_n('1', zeros));
    out.extend(digits.iter().rev().map(|d| ALPHABET[*d as usize] as char));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base58_matches_known_addresses() {
        assert_eq!(base58(&[0u8; 32]), "11111111111111111111111111111111");
        assert_eq!(base58(pinocchio_token::ID.as_ref()), "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
    }
}
