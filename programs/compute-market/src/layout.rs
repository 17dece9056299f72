//! Byte layouts shared by accounts, instruction arguments and events.
//!
//! Every stored type has alignment 1 and no padding, so account data is read and written in
//! place (no copy, no deserialisation cost), and its bytes are exactly Borsh's encoding of the
//! same fields: Anchor's TypeScript coder decodes them from the generated IDL unchanged.

use pinocchio::Address;

/// Marker for plain-old-data types: alignment 1, no padding, every byte pattern valid.
///
/// # Safety
/// Implementors must be `#[repr(C)]` or `#[repr(transparent)]` over fields that are themselves
/// `Pod`, so that any `&[u8]` of the right length can be viewed as `&Self`.
pub unsafe trait Pod: Copy + 'static {}

// SAFETY: single bytes and byte arrays accept every bit pattern and have alignment 1.
unsafe impl Pod for u8 {}
// SAFETY: an array of `Pod` elements has their alignment (1), no padding, and accepts any bit pattern.
unsafe impl<T: Pod, const N: usize> Pod for [T; N] {}
// SAFETY: `Address` is `#[repr(transparent)]` over `[u8; 32]`.
unsafe impl Pod for Address {}

/// Compile-time proof that a field type is `Pod`; used by the struct macros.
pub const fn assert_pod<T: Pod>() {}

/// Views `bytes` as a `T` when the length matches exactly.
#[inline(always)]
pub fn from_bytes<T: Pod>(bytes: &[u8]) -> Option<&T> {
    if bytes.len() != core::mem::size_of::<T>() {
        return None;
    }
    // SAFETY: `T: Pod` has alignment 1 and accepts any bit pattern; the length was checked.
    Some(unsafe { &*(bytes.as_ptr() as *const T) })
}

/// Views `bytes` as a mutable `T` when the length matches exactly.
#[inline(always)]
pub fn from_bytes_mut<T: Pod>(bytes: &mut [u8]) -> Option<&mut T> {
    if bytes.len() != core::mem::size_of::<T>() {
        return None;
    }
    // SAFETY: as in `from_bytes`; the exclusive borrow of `bytes` is carried by the result.
    Some(unsafe { &mut *(bytes.as_mut_ptr() as *mut T) })
}

/// The raw bytes of a `Pod` value.
#[inline(always)]
pub fn bytes_of<T: Pod>(value: &T) -> &[u8] {
    // SAFETY: `T: Pod` has no padding, so all `size_of::<T>()` bytes are initialised.
    unsafe { core::slice::from_raw_parts(value as *const T as *const u8, core::mem::size_of::<T>()) }
}

macro_rules! little_endian_int {
    ($(#[$doc:meta])* $name:ident, $int:ty, $size:literal, $idl:literal) => {
        $(#[$doc])*
        #[repr(transparent)]
        #[derive(Clone, Copy, Default, PartialEq, Eq)]
        pub struct $name([u8; $size]);

        // SAFETY: `#[repr(transparent)]` over a byte array.
        unsafe impl Pod for $name {}

        impl $name {
            pub const fn new(value: $int) -> Self {
                Self(value.to_le_bytes())
            }

            #[inline(always)]
            pub const fn get(self) -> $int {
                <$int>::from_le_bytes(self.0)
            }

            #[inline(always)]
            pub fn set(&mut self, value: $int) {
                self.0 = value.to_le_bytes();
            }
        }

        impl From<$int> for $name {
            fn from(value: $int) -> Self {
                Self::new(value)
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                self.get().fmt(f)
            }
        }

        #[cfg(feature = "idl-build")]
        impl crate::idl::IdlType for $name {
            fn idl_type(_: &mut crate::idl::TypeRegistry) -> serde_json::Value {
                serde_json::Value::from($idl)
            }
        }
    };
}

little_endian_int!(
    /// A `u16` stored little-endian with alignment 1.
    U16, u16, 2, "u16"
);
little_endian_int!(
    /// A `u32` stored little-endian with alignment 1.
    U32, u32, 4, "u32"
);
little_endian_int!(
    /// A `u64` stored little-endian with alignment 1.
    U64, u64, 8, "u64"
);

/// A boolean stored as one byte; any non-zero byte reads as `true`.
#[repr(transparent)]
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct Bool(u8);

// SAFETY: `#[repr(transparent)]` over `u8`.
unsafe impl Pod for Bool {}

impl Bool {
    pub const fn new(value: bool) -> Self {
        Self(value as u8)
    }

    #[inline(always)]
    pub const fn get(self) -> bool {
        self.0 != 0
    }

    #[inline(always)]
    pub fn set(&mut self, value: bool) {
        self.0 = value as u8;
    }
}

/// An enum whose variants are stored as one byte (Borsh's encoding of a unit-variant enum).
pub trait ByteEnum: Sized + Copy + 'static {
    const NAME: &'static str;
    fn from_byte(byte: u8) -> Option<Self>;
    fn to_byte(self) -> u8;
}

/// One stored byte holding a `ByteEnum`; decoding rejects bytes that name no variant.
#[repr(transparent)]
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Stored<T: ByteEnum>(u8, core::marker::PhantomData<T>);

// SAFETY: `#[repr(transparent)]` over `u8`; the phantom field is zero-sized with alignment 1.
unsafe impl<T: ByteEnum> Pod for Stored<T> {}

impl<T: ByteEnum> Stored<T> {
    pub fn new(value: T) -> Self {
        Self(value.to_byte(), core::marker::PhantomData)
    }

    /// The stored variant, or `None` for a byte that names no variant (only possible in
    /// instruction arguments: the program never writes such a byte to an account).
    #[inline(always)]
    pub fn get(self) -> Option<T> {
        T::from_byte(self.0)
    }

    #[inline(always)]
    pub fn set(&mut self, value: T) {
        self.0 = value.to_byte();
    }
}

/// Declares a `#[repr(u8)]` enum that implements `ByteEnum` and appears in the IDL.
#[macro_export]
macro_rules! byte_enum {
    (
        $(#[doc = $doc:literal])*
        pub enum $name:ident { $($(#[doc = $vdoc:literal])* $variant:ident = $value:literal),+ $(,)? }
    ) => {
        $(#[doc = $doc])*
        #[repr(u8)]
        #[derive(Clone, Copy, PartialEq, Eq, Debug)]
        pub enum $name { $($(#[doc = $vdoc])* $variant = $value),+ }

        impl $crate::layout::ByteEnum for $name {
            const NAME: &'static str = stringify!($name);

            fn from_byte(byte: u8) -> Option<Self> {
                match byte {
                    $($value => Some(Self::$variant),)+
                    _ => None,
                }
            }

            fn to_byte(self) -> u8 {
                self as u8
            }
        }

        // Borsh numbers variants from 0 in declaration order; the stored byte must agree.
        const _: () = {
            let mut expected = 0u8;
            $(
                assert!($value == expected, "byte_enum variants must be numbered 0, 1, 2, ...");
                expected += 1;
            )+
            let _ = expected;
        };

        #[cfg(feature = "idl-build")]
        impl $crate::idl::IdlType for $name {
            fn idl_type(registry: &mut $crate::idl::TypeRegistry) -> serde_json::Value {
                registry.add_enum(stringify!($name), &[$($doc),*], &[$(stringify!($variant)),+]);
                serde_json::json!({ "defined": { "name": stringify!($name) } })
            }
        }
    };
}

/// Declares a `#[repr(C)]` plain-old-data struct of `Pod` fields, with its IDL type definition.
#[macro_export]
macro_rules! pod_struct {
    (
        $(#[doc = $doc:literal])*
        pub struct $name:ident { $($(#[doc = $fdoc:literal])* pub $field:ident : $ty:ty),* $(,)? }
    ) => {
        $(#[doc = $doc])*
        #[repr(C)]
        #[derive(Clone, Copy)]
        pub struct $name { $($(#[doc = $fdoc])* pub $field: $ty),* }

        // SAFETY: `#[repr(C)]` over fields that are all `Pod` (checked below), each of alignment 1,
        // so the struct has alignment 1, no padding, and accepts any bit pattern.
        unsafe impl $crate::layout::Pod for $name {}

        const _: () = {
            $($crate::layout::assert_pod::<$ty>();)*
            assert!(core::mem::align_of::<$name>() == 1);
        };

        #[cfg(feature = "idl-build")]
        impl $crate::idl::IdlType for $name {
            fn idl_type(registry: &mut $crate::idl::TypeRegistry) -> serde_json::Value {
                let fields = vec![$(
                    $crate::idl::field(
                        stringify!($field),
                        &[$($fdoc),*],
                        <$ty as $crate::idl::IdlType>::idl_type(registry),
                    )
                ),*];
                registry.add_struct(stringify!($name), &[$($doc),*], fields);
                serde_json::json!({ "defined": { "name": stringify!($name) } })
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_round_trip_little_endian() {
        let mut value = U64::new(0x0102_0304_0506_0708);
        assert_eq!(bytes_of(&value), &[8, 7, 6, 5, 4, 3, 2, 1]);
        value.set(u64::MAX);
        assert_eq!(value.get(), u64::MAX);
        assert_eq!(U16::new(0xabcd).get(), 0xabcd);
        assert_eq!(U32::new(7).get(), 7);
    }

    #[test]
    fn from_bytes_requires_the_exact_length() {
        let bytes = [1u8, 0, 0, 0, 0, 0, 0, 0, 9];
        assert!(from_bytes::<U64>(&bytes).is_none());
        assert_eq!(from_bytes::<U64>(&bytes[..8]).map(|v| v.get()), Some(1));
    }
}
