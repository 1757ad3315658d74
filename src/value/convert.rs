//! Conversions between [`Value`] and idiomatic Rust types.
//!
//! Into `Value` (for inserts): integers of every width up to 128 bits, `f32`/`f64`, `bool`, `&str`,
//! `String`, `&[u8]`, `Vec<u8>`, `Ipv4Addr`/`Ipv6Addr`/`IpAddr`, `Option<T>` (NULL for `None`), tuples
//! of up to four elements, `Vec<(K, V)>`/`BTreeMap`/`HashMap` (as Map), `jiff::civil::Date` (as Date32),
//! `jiff::Timestamp` (as DateTime64(9); for a zoned time pass its timestamp). Arrays: [`Value::array`]. The insert builders
//! convert between compatible kinds with range checks (a Date32 into a Date column when it fits, a
//! DateTime64 into a DateTime column when no precision is lost, …).
//!
//! Out of `Value` (`TryFrom<&Value>`): the same Rust types, with range checks, plus `Option<T>` for
//! Nullable columns; dates and times come back as `jiff::civil::Date` and `jiff::Timestamp` (a
//! DateTime's time zone is in its column type; use [`crate::format::TextRenderer`] or jiff to render it).

use super::Value;
use crate::error::Error;
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

macro_rules! from_prim {
    ($($t:ty => $v:ident),*) => {$(
        impl From<$t> for Value<'_> {
            fn from(x: $t) -> Self {
                Value::$v(x)
            }
        }
    )*};
}
from_prim!(bool => Bool, u8 => UInt8, u16 => UInt16, u32 => UInt32, u64 => UInt64, u128 => UInt128,
    i8 => Int8, i16 => Int16, i32 => Int32, i64 => Int64, i128 => Int128, f32 => Float32, f64 => Float64,
    Ipv4Addr => Ipv4, Ipv6Addr => Ipv6);

impl<'a> From<&'a str> for Value<'a> {
    fn from(s: &'a str) -> Self {
        Value::String(Cow::Borrowed(s.as_bytes()))
    }
}

impl From<String> for Value<'_> {
    fn from(s: String) -> Self {
        Value::String(Cow::Owned(s.into_bytes()))
    }
}

impl<'a> From<&'a [u8]> for Value<'a> {
    fn from(s: &'a [u8]) -> Self {
        Value::String(Cow::Borrowed(s))
    }
}

impl From<Vec<u8>> for Value<'_> {
    fn from(s: Vec<u8>) -> Self {
        Value::String(Cow::Owned(s))
    }
}

impl From<IpAddr> for Value<'_> {
    fn from(a: IpAddr) -> Self {
        match a {
            IpAddr::V4(a) => Value::Ipv4(a),
            IpAddr::V6(a) => Value::Ipv6(a),
        }
    }
}

impl<'a, T: Into<Value<'a>>> From<Option<T>> for Value<'a> {
    fn from(o: Option<T>) -> Self {
        o.map_or(Value::Null, Into::into)
    }
}

macro_rules! from_tuple {
    ($($n:ident),*) => {
        impl<'a, $($n: Into<Value<'a>>),*> From<($($n,)*)> for Value<'a> {
            #[allow(non_snake_case)]
            fn from(($($n,)*): ($($n,)*)) -> Self {
                Value::Tuple(vec![$($n.into()),*])
            }
        }
    };
}
from_tuple!(A, B);
from_tuple!(A, B, C);
from_tuple!(A, B, C, D);

impl<'a, K: Into<Value<'a>>, V: Into<Value<'a>>> From<Vec<(K, V)>> for Value<'a> {
    fn from(m: Vec<(K, V)>) -> Self {
        Value::Map(m.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
    }
}

impl<'a, K: Into<Value<'a>>, V: Into<Value<'a>>> From<BTreeMap<K, V>> for Value<'a> {
    fn from(m: BTreeMap<K, V>) -> Self {
        Value::Map(m.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
    }
}

impl<'a, K: Into<Value<'a>>, V: Into<Value<'a>>, S> From<HashMap<K, V, S>> for Value<'a> {
    fn from(m: HashMap<K, V, S>) -> Self {
        Value::Map(m.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
    }
}

impl From<jiff::civil::Date> for Value<'_> {
    fn from(d: jiff::civil::Date) -> Self {
        let days = d.since(jiff::civil::date(1970, 1, 1)).map(|s| s.get_days()).unwrap_or(0);
        Value::Date32(days)
    }
}

/// A civil (naive) date-time has no time zone, so it is not an instant: it becomes its text,
/// `2022-10-01 15:20:05[.fraction]`, which the server reads in the column's or its own time zone (as the
/// Python driver renders a naive `datetime`). Bind a `jiff::Timestamp` for an instant.
impl From<jiff::civil::DateTime> for Value<'_> {
    fn from(dt: jiff::civil::DateTime) -> Self {
        let mut text = format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            dt.year(),
            dt.month(),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second()
        );
        let nanos = dt.subsec_nanosecond();
        if nanos != 0 {
            text.push_str(format!(".{nanos:09}").trim_end_matches('0'));
        }
        Value::String(Cow::Owned(text.into_bytes()))
    }
}

impl From<jiff::Timestamp> for Value<'_> {
    fn from(t: jiff::Timestamp) -> Self {
        Value::DateTime64 { ticks: t.as_nanosecond() as i64, precision: 9 }
    }
}

impl<'a> Value<'a> {
    /// An Array value from anything that converts into values: `Value::array([1u32, 2, 3])`.
    pub fn array<T: Into<Value<'a>>>(items: impl IntoIterator<Item = T>) -> Self {
        Value::Array(items.into_iter().map(Into::into).collect())
    }

    fn wide_int(&self) -> Option<i128> {
        match *self {
            Value::UInt8(x) => Some(x.into()),
            Value::UInt16(x) => Some(x.into()),
            Value::UInt32(x) => Some(x.into()),
            Value::UInt64(x) => Some(x.into()),
            Value::UInt128(x) => i128::try_from(x).ok(),
            Value::Int8(x) => Some(x.into()),
            Value::Int16(x) => Some(x.into()),
            Value::Int32(x) => Some(x.into()),
            Value::Int64(x) => Some(x.into()),
            Value::Int128(x) => Some(x),
            Value::Bool(b) => Some(b.into()),
            Value::Enum8(x) => Some(x.into()),
            Value::Enum16(x) => Some(x.into()),
            Value::Interval(x) => Some(x.into()),
            _ => None,
        }
    }
}

fn cannot(v: &Value<'_>, to: &str) -> Error {
    Error::Usage(format!("cannot convert {v:?} to {to}"))
}

macro_rules! try_int {
    ($($t:ty),*) => {$(
        impl TryFrom<&Value<'_>> for $t {
            type Error = Error;
            fn try_from(v: &Value<'_>) -> Result<Self, Error> {
                if let (Value::UInt128(x), true) = (v, <$t>::MAX as u128 > i128::MAX as u128) {
                    return <$t>::try_from(*x).map_err(|_| cannot(v, stringify!($t)));
                }
                v.wide_int().and_then(|i| <$t>::try_from(i).ok()).ok_or_else(|| cannot(v, stringify!($t)))
            }
        }
    )*};
}
try_int!(u8, u16, u32, u64, u128, i8, i16, i32, i64, i128);

impl TryFrom<&Value<'_>> for bool {
    type Error = Error;
    fn try_from(v: &Value<'_>) -> Result<Self, Error> {
        match *v {
            Value::Bool(b) => Ok(b),
            Value::UInt8(x) if x <= 1 => Ok(x == 1),
            _ => Err(cannot(v, "bool")),
        }
    }
}

impl TryFrom<&Value<'_>> for f64 {
    type Error = Error;
    /// Floats, integers that `f64` holds exactly, and decimals (the nearest `f64`, as Python's
    /// `float(Decimal)` gives).
    fn try_from(v: &Value<'_>) -> Result<Self, Error> {
        match *v {
            Value::Decimal { raw, scale } => {
                let digits = raw.unsigned_abs().to_string();
                let text = format!("{}{digits}e-{scale}", if raw < 0 { "-" } else { "" });
                text.parse().map_err(|_| cannot(v, "f64"))
            }
            Value::Float64(x) => Ok(x),
            Value::Float32(x) => Ok(x.into()),
            Value::BFloat16(b) => Ok(f32::from_bits(u32::from(b) << 16).into()),
            _ => match v.wide_int() {
                // Only integers that f64 represents exactly.
                Some(i) if i.unsigned_abs() <= 1 << 53 => Ok(i as f64),
                _ => Err(cannot(v, "f64")),
            },
        }
    }
}

impl TryFrom<&Value<'_>> for f32 {
    type Error = Error;
    fn try_from(v: &Value<'_>) -> Result<Self, Error> {
        match *v {
            Value::Float32(x) => Ok(x),
            Value::BFloat16(b) => Ok(f32::from_bits(u32::from(b) << 16)),
            _ => Err(cannot(v, "f32")),
        }
    }
}

impl TryFrom<&Value<'_>> for String {
    type Error = Error;
    fn try_from(v: &Value<'_>) -> Result<Self, Error> {
        v.as_str().map(str::to_string).ok_or_else(|| cannot(v, "String (valid UTF-8)"))
    }
}

impl TryFrom<&Value<'_>> for Vec<u8> {
    type Error = Error;
    fn try_from(v: &Value<'_>) -> Result<Self, Error> {
        v.as_bytes().map(<[u8]>::to_vec).ok_or_else(|| cannot(v, "bytes"))
    }
}

impl TryFrom<&Value<'_>> for Ipv4Addr {
    type Error = Error;
    fn try_from(v: &Value<'_>) -> Result<Self, Error> {
        match *v {
            Value::Ipv4(a) => Ok(a),
            _ => Err(cannot(v, "Ipv4Addr")),
        }
    }
}

impl TryFrom<&Value<'_>> for Ipv6Addr {
    type Error = Error;
    fn try_from(v: &Value<'_>) -> Result<Self, Error> {
        match *v {
            Value::Ipv6(a) => Ok(a),
            Value::Ipv4(a) => Ok(a.to_ipv6_mapped()),
            _ => Err(cannot(v, "Ipv6Addr")),
        }
    }
}

impl TryFrom<&Value<'_>> for jiff::civil::Date {
    type Error = Error;
    fn try_from(v: &Value<'_>) -> Result<Self, Error> {
        let days = match *v {
            Value::Date(d) => i64::from(d),
            Value::Date32(d) => i64::from(d),
            _ => return Err(cannot(v, "jiff::civil::Date")),
        };
        jiff::civil::date(1970, 1, 1)
            .checked_add(jiff::Span::new().days(days))
            .map_err(|_| cannot(v, "jiff::civil::Date"))
    }
}

impl TryFrom<&Value<'_>> for jiff::Timestamp {
    type Error = Error;
    fn try_from(v: &Value<'_>) -> Result<Self, Error> {
        let nanos: i128 = match *v {
            Value::DateTime(s) => i128::from(s) * 1_000_000_000,
            Value::DateTime64 { ticks, precision } => i128::from(ticks) * 10i128.pow(9 - u32::from(precision.min(9))),
            _ => return Err(cannot(v, "jiff::Timestamp")),
        };
        jiff::Timestamp::from_nanosecond(nanos).map_err(|_| cannot(v, "jiff::Timestamp"))
    }
}

/// `Option<T>` from a Nullable value: `Value::Null` is `None`.
pub fn nullable<'v, T: TryFrom<&'v Value<'v>, Error = Error>>(v: &'v Value<'v>) -> Result<Option<T>, Error> {
    match v {
        Value::Null => Ok(None),
        v => T::try_from(v).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn into_and_back() {
        assert_eq!(u64::try_from(&Value::from(5u8)).unwrap(), 5);
        assert!(u8::try_from(&Value::from(300u64)).is_err());
        assert!(u64::try_from(&Value::from(-1i32)).is_err());
        assert_eq!(u128::try_from(&Value::UInt128(u128::MAX)).unwrap(), u128::MAX);
        assert_eq!(i128::try_from(&Value::from(-7i8)).unwrap(), -7);
        assert_eq!(String::try_from(&Value::from("hé")).unwrap(), "hé");
        assert!(String::try_from(&Value::from(&b"\xff"[..])).is_err());
        assert_eq!(nullable::<u32>(&Value::from(None::<u32>)).unwrap(), None);
        assert_eq!(nullable::<u32>(&Value::from(Some(3u32))).unwrap(), Some(3));
        let d = jiff::civil::date(2024, 2, 29);
        assert_eq!(jiff::civil::Date::try_from(&Value::from(d)).unwrap(), d);
        let t: jiff::Timestamp = "2024-02-29T12:34:56.123456789Z".parse().unwrap();
        assert_eq!(jiff::Timestamp::try_from(&Value::from(t)).unwrap(), t);
        assert_eq!(Value::from((1u8, "a")), Value::Tuple(vec![Value::UInt8(1), Value::from("a")]));
        assert_eq!(Value::array([1u8, 2]), Value::Array(vec![Value::UInt8(1), Value::UInt8(2)]));
        assert!(f64::try_from(&Value::from(u64::MAX)).is_err());
    }
}
