//! Anchor's 8-byte discriminators, computed at compile time:
//! `sha256("global:<instruction>")`, `sha256("account:<Account>")`, `sha256("event:<Event>")`.

use sha2_const_stable::Sha256;

/// The first 8 bytes of `sha256(preimage)`.
pub const fn discriminator(preimage: &str) -> [u8; 8] {
    let hash = Sha256::new().update(preimage.as_bytes()).finalize();
    [hash[0], hash[1], hash[2], hash[3], hash[4], hash[5], hash[6], hash[7]]
}

/// A stored or logged type that starts with a discriminator.
pub trait Discriminated {
    const DISCRIMINATOR: [u8; 8];
}

/// Declares a `pod_struct!` with Anchor's discriminator `sha256("<kind>:<Name>")[..8]`: what
/// program accounts and events share (`account!` and `event!` add their own halves).
#[macro_export]
macro_rules! discriminated {
    (
        $kind:literal,
        $(#[doc = $doc:literal])*
        pub struct $name:ident { $($(#[doc = $fdoc:literal])* pub $field:ident : $ty:ty),* $(,)? }
    ) => {
        $crate::pod_struct! {
            $(#[doc = $doc])*
            pub struct $name { $($(#[doc = $fdoc])* pub $field: $ty),* }
        }

        impl $crate::discriminator::Discriminated for $name {
            const DISCRIMINATOR: [u8; 8] =
                $crate::discriminator::discriminator(concat!($kind, ":", stringify!($name)));
        }
    };
}

/// Declares a program account: a `pod_struct!` stored after its 8-byte discriminator.
#[macro_export]
macro_rules! account {
    ($(#[doc = $doc:literal])* pub struct $name:ident { $($body:tt)* }) => {
        $crate::discriminated! { "account", $(#[doc = $doc])* pub struct $name { $($body)* } }

        impl $name {
            /// Account size: discriminator plus fields.
            pub const LEN: usize = 8 + core::mem::size_of::<$name>();
        }
    };
}

/// Declares an event: a `pod_struct!` logged after its discriminator as `Program data:`.
#[macro_export]
macro_rules! event {
    ($(#[doc = $doc:literal])* pub struct $name:ident { $($body:tt)* }) => {
        $crate::discriminated! { "event", $(#[doc = $doc])* pub struct $name { $($body)* } }

        impl $name {
            /// Logs the event in Anchor's format: one base64 blob of discriminator and fields.
            #[inline(always)]
            pub fn emit(&self) {
                let mut record = [0u8; 8 + core::mem::size_of::<$name>()];
                record[..8].copy_from_slice(&<$name as $crate::discriminator::Discriminated>::DISCRIMINATOR);
                record[8..].copy_from_slice($crate::layout::bytes_of(self));
                $crate::runtime::log_data(&[&record]);
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_anchor_for_a_known_instruction() {
        // sha256("global:initialize")[..8], the discriminator of Anchor's template program.
        assert_eq!(discriminator("global:initialize"), [175, 175, 109, 31, 13, 152, 155, 237]);
    }
}
