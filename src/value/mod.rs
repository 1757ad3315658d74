//! Row-wise values. [`Value<'a>`] borrows string bytes from the decoded block; call
//! [`Value::into_owned`] to keep a value past the next block.

use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

/// One ClickHouse value. Numbers keep their exact width; dates and times keep the server's raw
/// representation (days, seconds, ticks) together with what is needed to interpret it.
#[derive(Clone, Debug, PartialEq)]
#[allow(missing_docs)]
pub enum Value<'a> {
    Null,
    Bool(bool),
    UInt8(u8),
    UInt16(u16),
    UInt32(u32),
    UInt64(u64),
    UInt128(u128),
    /// Little-endian 256-bit integer as four 64-bit limbs, least significant first.
    UInt256([u64; 4]),
    Int8(i8),
    Int16(i16),
    Int32(i32),
    Int64(i64),
    Int128(i128),
    Int256([u64; 4]),
    Float32(f32),
    Float64(f64),
    /// The raw 16 bits of a BFloat16 (the upper half of an f32).
    BFloat16(u16),
    /// Unscaled integer and scale: the value is `raw / 10^scale`.
    Decimal {
        raw: i128,
        scale: u8,
    },
    /// Decimal256: little-endian limbs and scale.
    Decimal256 {
        raw: [u64; 4],
        scale: u8,
    },
    String(Cow<'a, [u8]>),
    FixedString(Cow<'a, [u8]>),
    /// The UUID's 128 bits, high half first as ClickHouse prints it.
    Uuid(u128),
    Ipv4(Ipv4Addr),
    Ipv6(Ipv6Addr),
    /// Days since 1970-01-01.
    Date(u16),
    /// Days since 1970-01-01 (signed).
    Date32(i32),
    /// Seconds since the epoch.
    DateTime(u32),
    /// Ticks of 10^-precision seconds since the epoch.
    DateTime64 {
        ticks: i64,
        precision: u8,
    },
    /// Seconds (may be negative).
    Time(i32),
    Time64 {
        ticks: i64,
        precision: u8,
    },
    Enum8(i8),
    Enum16(i16),
    Interval(i64),
    Array(Vec<Value<'a>>),
    Tuple(Vec<Value<'a>>),
    Map(Vec<(Value<'a>, Value<'a>)>),
}

impl Value<'_> {
    /// Detaches the value from the block it was read from.
    pub fn into_owned(self) -> Value<'static> {
        use Value::*;
        match self {
            Null => Null,
            Bool(v) => Bool(v),
            UInt8(v) => UInt8(v),
            UInt16(v) => UInt16(v),
            UInt32(v) => UInt32(v),
            UInt64(v) => UInt64(v),
            UInt128(v) => UInt128(v),
            UInt256(v) => UInt256(v),
            Int8(v) => Int8(v),
            Int16(v) => Int16(v),
            Int32(v) => Int32(v),
            Int64(v) => Int64(v),
            Int128(v) => Int128(v),
            Int256(v) => Int256(v),
            Float32(v) => Float32(v),
            Float64(v) => Float64(v),
            BFloat16(v) => BFloat16(v),
            Decimal { raw, scale } => Decimal { raw, scale },
            Decimal256 { raw, scale } => Decimal256 { raw, scale },
            String(s) => String(Cow::Owned(s.into_owned())),
            FixedString(s) => FixedString(Cow::Owned(s.into_owned())),
            Uuid(v) => Uuid(v),
            Ipv4(v) => Ipv4(v),
            Ipv6(v) => Ipv6(v),
            Date(v) => Date(v),
            Date32(v) => Date32(v),
            DateTime(v) => DateTime(v),
            DateTime64 { ticks, precision } => DateTime64 { ticks, precision },
            Time(v) => Time(v),
            Time64 { ticks, precision } => Time64 { ticks, precision },
            Enum8(v) => Enum8(v),
            Enum16(v) => Enum16(v),
            Interval(v) => Interval(v),
            Array(v) => Array(v.into_iter().map(Value::into_owned).collect()),
            Tuple(v) => Tuple(v.into_iter().map(Value::into_owned).collect()),
            Map(v) => Map(v.into_iter().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()),
        }
    }

    /// The value as `u64` when it is an unsigned or non-negative integer that fits.
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::UInt8(v) => Some(v.into()),
            Value::UInt16(v) => Some(v.into()),
            Value::UInt32(v) => Some(v.into()),
            Value::UInt64(v) => Some(v),
            Value::Int8(v) => v.try_into().ok(),
            Value::Int16(v) => v.try_into().ok(),
            Value::Int32(v) => v.try_into().ok(),
            Value::Int64(v) => v.try_into().ok(),
            _ => None,
        }
    }

    /// The value as `i64` when it is an integer that fits.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::UInt8(v) => Some(v.into()),
            Value::UInt16(v) => Some(v.into()),
            Value::UInt32(v) => Some(v.into()),
            Value::UInt64(v) => v.try_into().ok(),
            Value::Int8(v) => Some(v.into()),
            Value::Int16(v) => Some(v.into()),
            Value::Int32(v) => Some(v.into()),
            Value::Int64(v) => Some(v),
            _ => None,
        }
    }

    /// The bytes of a String or FixedString.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::String(s) | Value::FixedString(s) => Some(s),
            _ => None,
        }
    }

    /// The text of a String that is valid UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        self.as_bytes().and_then(|b| std::str::from_utf8(b).ok())
    }

    /// The value as f64 for floats.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::Float32(v) => Some(v.into()),
            Value::Float64(v) => Some(v),
            _ => None,
        }
    }
}

mod convert;
mod defaults;

pub use convert::nullable;
