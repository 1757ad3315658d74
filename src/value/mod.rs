//! Row-wise values. [`Value<'a>`] borrows string bytes from the decoded block; call
//! [`Value::into_owned`] to keep a value past the next block.

use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

/// One ClickHouse value. Numbers keep their exact width; dates and times keep the server's raw
/// representation (days, seconds, ticks) together with what is needed to interpret it.
///
/// `Debug` shows strings as text (`String("abc")`, or `String(b"a\xffb")` when not UTF-8) and is
/// bounded: strings show their first 100 bytes and arrays, tuples and maps their first 100 elements,
/// then how many there are in all, so an error message never echoes a hostile 100 MB value.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
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

/// What `Debug` shows of a long string or collection.
const DEBUG_ITEMS: usize = 100;

impl std::fmt::Debug for Value<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use Value::*;
        fn bytes(f: &mut std::fmt::Formatter<'_>, kind: &str, b: &[u8]) -> std::fmt::Result {
            let shown = &b[..b.len().min(DEBUG_ITEMS)];
            let text = match std::str::from_utf8(shown) {
                Ok(t) => format!("{t:?}"),
                // A cut in the middle of a character is not a reason to show bytes.
                Err(e) if e.error_len().is_none() && std::str::from_utf8(b).is_ok() => {
                    format!("{:?}", std::str::from_utf8(&shown[..e.valid_up_to()]).unwrap_or_default())
                }
                Err(_) => format!("b\"{}\"", shown.escape_ascii()),
            };
            if b.len() > DEBUG_ITEMS {
                write!(f, "{kind}({text}… ({} bytes in all))", b.len())
            } else {
                write!(f, "{kind}({text})")
            }
        }
        fn items<T: std::fmt::Debug>(f: &mut std::fmt::Formatter<'_>, kind: &str, v: &[T]) -> std::fmt::Result {
            write!(f, "{kind}")?;
            let mut list = f.debug_list();
            list.entries(v.iter().take(DEBUG_ITEMS));
            if v.len() > DEBUG_ITEMS {
                list.entry(&format_args!("… ({} elements in all)", v.len()));
            }
            list.finish()
        }
        match self {
            String(b) => bytes(f, "String", b),
            FixedString(b) => bytes(f, "FixedString", b),
            Array(v) => items(f, "Array", v),
            Tuple(v) => items(f, "Tuple", v),
            Map(v) => items(f, "Map", v),
            Null => write!(f, "Null"),
            Bool(v) => f.debug_tuple("Bool").field(v).finish(),
            UInt8(v) => f.debug_tuple("UInt8").field(v).finish(),
            UInt16(v) => f.debug_tuple("UInt16").field(v).finish(),
            UInt32(v) => f.debug_tuple("UInt32").field(v).finish(),
            UInt64(v) => f.debug_tuple("UInt64").field(v).finish(),
            UInt128(v) => f.debug_tuple("UInt128").field(v).finish(),
            UInt256(v) => f.debug_tuple("UInt256").field(v).finish(),
            Int8(v) => f.debug_tuple("Int8").field(v).finish(),
            Int16(v) => f.debug_tuple("Int16").field(v).finish(),
            Int32(v) => f.debug_tuple("Int32").field(v).finish(),
            Int64(v) => f.debug_tuple("Int64").field(v).finish(),
            Int128(v) => f.debug_tuple("Int128").field(v).finish(),
            Int256(v) => f.debug_tuple("Int256").field(v).finish(),
            Float32(v) => f.debug_tuple("Float32").field(v).finish(),
            Float64(v) => f.debug_tuple("Float64").field(v).finish(),
            BFloat16(v) => f.debug_tuple("BFloat16").field(v).finish(),
            Decimal { raw, scale } => f.debug_struct("Decimal").field("raw", raw).field("scale", scale).finish(),
            Decimal256 { raw, scale } => f.debug_struct("Decimal256").field("raw", raw).field("scale", scale).finish(),
            Uuid(v) => f.debug_tuple("Uuid").field(v).finish(),
            Ipv4(v) => f.debug_tuple("Ipv4").field(v).finish(),
            Ipv6(v) => f.debug_tuple("Ipv6").field(v).finish(),
            Date(v) => f.debug_tuple("Date").field(v).finish(),
            Date32(v) => f.debug_tuple("Date32").field(v).finish(),
            DateTime(v) => f.debug_tuple("DateTime").field(v).finish(),
            DateTime64 { ticks, precision } => {
                f.debug_struct("DateTime64").field("ticks", ticks).field("precision", precision).finish()
            }
            Time(v) => f.debug_tuple("Time").field(v).finish(),
            Time64 { ticks, precision } => {
                f.debug_struct("Time64").field("ticks", ticks).field("precision", precision).finish()
            }
            Enum8(v) => f.debug_tuple("Enum8").field(v).finish(),
            Enum16(v) => f.debug_tuple("Enum16").field(v).finish(),
            Interval(v) => f.debug_tuple("Interval").field(v).finish(),
        }
    }
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
