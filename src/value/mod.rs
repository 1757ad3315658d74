//! Row-wise values. [`Value<'a>`] borrows string bytes from the decoded block; call
//! [`Value::into_owned`] to keep a value past the next block.

use crate::types::TypeDesc;
use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

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
    /// A `Variant` value: which alternative it is (its discriminator, the index into the type's
    /// alternatives in the server's order) and the value. A NULL variant is [`Value::Null`].
    Variant {
        discriminator: u8,
        value: Box<Value<'a>>,
    },
    /// A value with its own type: a `Dynamic` row, or a leaf of a JSON object. A NULL `Dynamic` is
    /// [`Value::Null`].
    Dynamic {
        ty: Arc<TypeDesc>,
        value: Box<Value<'a>>,
    },
    /// A `JSON` object: its paths (`a.b.c`) in order, each with a typed value ([`Value::Dynamic`]
    /// for paths stored with their types; [`Value::Null`] for a NULL typed path). Paths that are
    /// NULL or absent in the row are not listed; [`Value::json_tree`] nests the paths.
    Json(Vec<(Cow<'a, str>, Value<'a>)>),
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
            Json(v) => items(f, "Json", v),
            Variant { discriminator, value } => {
                f.debug_struct("Variant").field("discriminator", discriminator).field("value", value).finish()
            }
            Dynamic { ty, value } => write!(f, "Dynamic({ty}, {value:?})"),
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

impl<'a> Value<'a> {
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
            Variant { discriminator, value } => Variant { discriminator, value: Box::new(value.into_owned()) },
            Dynamic { ty, value } => Dynamic { ty, value: Box::new(value.into_owned()) },
            Json(v) => Json(v.into_iter().map(|(k, v)| (Cow::Owned(k.into_owned()), v.into_owned())).collect()),
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

    /// The type this value implies on its own: a value carries no time zone or enum names, so
    /// `DateTime`s imply `DateTime('UTC')` and enums their integers; an array's element type is its
    /// first non-NULL element's (`Nullable` when a NULL is among them); a `Dynamic` value implies
    /// `Dynamic`. What a `Dynamic` column stores an untyped value as, and what `Display` renders by.
    pub fn implied_type(&self) -> TypeDesc {
        implied_type(self)
    }

    /// The value inside a `Variant` or `Dynamic` (itself for any other value).
    pub fn unwrap_typed(&self) -> &Value<'a> {
        match self {
            Value::Variant { value, .. } | Value::Dynamic { value, .. } => value.unwrap_typed(),
            v => v,
        }
    }

    /// A JSON object's paths nested by their dots: `{"a.b": 1, "a.c": 2}` as `a → (b → 1, c → 2)`.
    /// Each node is a path segment with either a leaf value or children, in path order. `None` for
    /// values that are not JSON objects.
    pub fn json_tree(&self) -> Option<Vec<JsonNode<'_, 'a>>> {
        let Value::Json(paths) = self else { return None };
        fn build<'v, 'a>(items: &[(&'v str, &'v Value<'a>)]) -> Vec<JsonNode<'v, 'a>> {
            let mut out: Vec<JsonNode<'v, 'a>> = Vec::new();
            let mut i = 0;
            while i < items.len() {
                let (path, value) = items[i];
                let (head, rest) = match path.split_once('.') {
                    Some((h, r)) => (h, Some(r)),
                    None => (path, None),
                };
                match rest {
                    None => {
                        out.push(JsonNode { segment: head, value: Some(value), children: Vec::new() });
                        i += 1;
                    }
                    Some(_) => {
                        let mut j = i;
                        let mut sub = Vec::new();
                        while j < items.len() {
                            match items[j].0.split_once('.') {
                                Some((h, r)) if h == head => sub.push((r, items[j].1)),
                                _ => break,
                            }
                            j += 1;
                        }
                        out.push(JsonNode { segment: head, value: None, children: build(&sub) });
                        i = j;
                    }
                }
            }
            out
        }
        let mut items: Vec<(&str, &Value<'a>)> = paths.iter().map(|(k, v)| (k.as_ref(), v)).collect();
        items.sort_by(|a, b| a.0.cmp(b.0));
        Some(build(&items))
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

/// The type a value implies on its own (see the `Display` impl).
fn implied_type(v: &Value<'_>) -> TypeDesc {
    use TypeDesc as T;
    let utc = || Some("UTC".to_string());
    let of_items = |items: &mut dyn Iterator<Item = &Value<'_>>| {
        let mut nullable = false;
        let mut inner = None;
        for v in items {
            match v {
                Value::Null => nullable = true,
                v if inner.is_none() => inner = Some(implied_type(v)),
                _ => {}
            }
        }
        let inner = inner.unwrap_or(T::Nothing);
        if nullable { T::Nullable(Box::new(inner)) } else { inner }
    };
    match v {
        Value::Null => T::Nullable(Box::new(T::Nothing)),
        Value::Bool(_) => T::Bool,
        Value::UInt8(_) => T::UInt8,
        Value::UInt16(_) => T::UInt16,
        Value::UInt32(_) => T::UInt32,
        Value::UInt64(_) => T::UInt64,
        Value::UInt128(_) => T::UInt128,
        Value::UInt256(_) => T::UInt256,
        Value::Int8(_) | Value::Enum8(_) => T::Int8,
        Value::Int16(_) | Value::Enum16(_) => T::Int16,
        Value::Int32(_) => T::Int32,
        Value::Int64(_) | Value::Interval(_) => T::Int64,
        Value::Int128(_) => T::Int128,
        Value::Int256(_) => T::Int256,
        Value::Float32(_) => T::Float32,
        Value::Float64(_) => T::Float64,
        Value::BFloat16(_) => T::BFloat16,
        Value::Decimal { scale, .. } => T::Decimal { precision: 38, scale: *scale },
        Value::Decimal256 { scale, .. } => T::Decimal { precision: 76, scale: *scale },
        Value::String(_) => T::String,
        Value::FixedString(b) => T::FixedString(b.len()),
        Value::Uuid(_) => T::Uuid,
        Value::Ipv4(_) => T::Ipv4,
        Value::Ipv6(_) => T::Ipv6,
        Value::Date(_) => T::Date,
        Value::Date32(_) => T::Date32,
        Value::DateTime(_) => T::DateTime(utc()),
        Value::DateTime64 { precision, .. } => T::DateTime64(*precision, utc()),
        Value::Time(_) => T::Time,
        Value::Time64 { precision, .. } => T::Time64(*precision),
        Value::Array(items) => T::Array(Box::new(of_items(&mut items.iter()))),
        Value::Tuple(items) => T::Tuple(items.iter().map(|v| (None, implied_type(v))).collect()),
        Value::Map(pairs) => T::Map(
            Box::new(of_items(&mut pairs.iter().map(|(k, _)| k))),
            Box::new(of_items(&mut pairs.iter().map(|(_, v)| v))),
        ),
        Value::Variant { value, .. } => implied_type(value),
        Value::Dynamic { .. } => T::Dynamic { max_types: None },
        Value::Json(_) => T::Json(Box::default()),
    }
}

/// One level of a JSON object seen as a tree (see [`Value::json_tree`]).
#[derive(Debug)]
pub struct JsonNode<'v, 'a> {
    /// The path segment.
    pub segment: &'v str,
    /// The leaf value, for a path that ends here.
    pub value: Option<&'v Value<'a>>,
    /// The nested paths, for a path that continues.
    pub children: Vec<JsonNode<'v, 'a>>,
}

mod convert;
mod defaults;

pub use convert::nullable;
