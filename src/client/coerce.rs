//! The conversions an insert makes before a value reaches its column's builder, so that what the
//! Python driver accepts is accepted here too. Each is exact or refused, never rounded:
//!
//! | value given | column type | becomes |
//! |---|---|---|
//! | text (`Value::String`) | any number, `Bool`, `Decimal`, `Date`, `Date32`, `DateTime`, `DateTime64`, `Time`, `Time64`, `UUID`, `IPv4`, `IPv6` | the value the server's own text parser stores for that text (the crate's [`TextParser`], tested against the server); `DateTime` text without a zone is read in the column's zone, else the server's |
//! | naive `jiff::civil::DateTime` (it is text, see `From<civil::DateTime> for Value`) | `DateTime`, `DateTime64` | as text above |
//! | text | `Enum8`, `Enum16` | the member of that name (the builder does this) |
//! | integer | `Enum8`, `Enum16` | the member with that number; an unknown number is refused |
//! | `f32`/`f64` | `Decimal(P, S)` | the decimal whose digits are the float's shortest round-trip text; refused when that needs more than `S` fractional digits or `P` digits |
//! | integer | `Decimal`, `DateTime`, `Time` | as the builders always did: exact or out of range |
//! | anything else | | handed to the builder unchanged (which checks kind and range) |
//!
//! Types inside `Nullable` and `LowCardinality` convert the same way; inside arrays, tuples and maps
//! values must already have the element's kind.

use crate::format::TextParser;
use crate::types::TypeDesc;
use crate::value::Value;
use std::borrow::Cow;

/// Converts values for one insert (it keeps the zone cache of its text parser).
pub(crate) struct Coercion {
    parser: TextParser,
}

impl Coercion {
    /// For a server whose own time zone is `server_tz`.
    pub(crate) fn new(server_tz: &str) -> Self {
        Coercion { parser: TextParser::new(server_tz) }
    }

    /// `v` as column type `t` takes it (see the module docs).
    pub(crate) fn coerce<'v>(&mut self, v: &'v Value<'v>, t: &TypeDesc) -> Result<Cow<'v, Value<'v>>, String> {
        let base = base(t);
        match (v, base) {
            (Value::String(text), t) if takes_text(t) => {
                exact_time_text(text, t)?;
                Ok(Cow::Owned(self.parser.scalar(text, t)?))
            }
            (Value::Float64(_) | Value::Float32(_), TypeDesc::Decimal { .. }) => {
                let text = match v {
                    Value::Float64(x) => float_text(*x)?,
                    Value::Float32(x) => float_text32(*x)?,
                    _ => unreachable!("matched above"),
                };
                self.parser
                    .scalar(text.as_bytes(), base)
                    .map_err(|_| format!("{text} is not exactly a value of {base} (no rounding)"))
                    .map(Cow::Owned)
            }
            _ => Ok(Cow::Borrowed(v)),
        }
    }
}

/// Whether [`Coercion::coerce`] may change `v` (text and floats); anything else passes unchanged.
#[inline]
pub(crate) fn may_convert(v: &Value<'_>) -> bool {
    matches!(v, Value::String(_) | Value::Float32(_) | Value::Float64(_))
}

/// Whether any value converts for a column of type `t` (else values go to the builder as they are).
pub(crate) fn converts_for(t: &TypeDesc) -> bool {
    takes_text(base(t))
}

/// The type under `Nullable` and `LowCardinality`.
fn base(t: &TypeDesc) -> &TypeDesc {
    match t {
        TypeDesc::Nullable(inner) | TypeDesc::LowCardinality(inner) => base(inner),
        other => other,
    }
}

/// Types whose values may be given as their text.
fn takes_text(t: &TypeDesc) -> bool {
    use TypeDesc as T;
    matches!(
        t,
        T::UInt8
            | T::UInt16
            | T::UInt32
            | T::UInt64
            | T::UInt128
            | T::UInt256
            | T::Int8
            | T::Int16
            | T::Int32
            | T::Int64
            | T::Int128
            | T::Int256
            | T::Float32
            | T::Float64
            | T::BFloat16
            | T::Bool
            | T::Decimal { .. }
            | T::Date
            | T::Date32
            | T::DateTime(_)
            | T::DateTime64(..)
            | T::Time
            | T::Time64(_)
            | T::Uuid
            | T::Ipv4
            | T::Ipv6
    )
}

/// Dates and times as text must be in the exact form of their type — a date for `Date`, a date and a
/// time for `DateTime`, at most the column's fractional digits (more only as zeros), no offset, hours
/// of a `Time` within its range — so nothing is cut off or read otherwise than written.
fn exact_time_text(text: &[u8], t: &TypeDesc) -> Result<(), String> {
    use TypeDesc as T;
    let digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
    let date = |s: &[u8]| {
        s.len() == 10 && digits(&s[..4]) && s[4] == b'-' && digits(&s[5..7]) && s[7] == b'-' && digits(&s[8..])
    };
    let clock = |s: &[u8], max_hours: usize| {
        let mut parts = s.splitn(3, |b| *b == b':');
        let (h, m, sec) = (parts.next(), parts.next(), parts.next());
        matches!((h, m, sec), (Some(h), Some(m), Some(sec)) if digits(h) && h.len() <= max_hours
            && m.len() == 2 && digits(m) && sec.len() == 2 && digits(sec))
    };
    let fraction = |s: &[u8], keep: u8| -> Option<usize> {
        match s.iter().position(|b| *b == b'.') {
            None => Some(s.len()),
            Some(dot) => {
                let frac = &s[dot + 1..];
                let extra = frac.get(usize::from(keep)..).unwrap_or(&[]);
                (digits(frac) && extra.iter().all(|b| *b == b'0')).then_some(dot)
            }
        }
    };
    let shown = || format!("{:?}", crate::error::excerpt(text, 40));
    let ok = match t {
        T::Date | T::Date32 => date(text),
        T::DateTime(_) | T::DateTime64(..) => {
            let keep = if let T::DateTime64(p, _) = t { *p } else { 0 };
            text.len() >= 19
                && date(&text[..10])
                && matches!(text[10], b' ' | b'T')
                && fraction(&text[11..], keep).is_some_and(|end| clock(&text[11..11 + end], 2))
        }
        T::Time | T::Time64(_) => {
            let keep = if let T::Time64(p) = t { *p } else { 0 };
            let body = text.strip_prefix(b"-").unwrap_or(text);
            fraction(body, keep).is_some_and(|end| clock(&body[..end], 3))
        }
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{} is not exactly a value of {t} (no offsets, cut digits or other forms)", shown()))
    }
}

/// The shortest text that reads back as `x` (never in exponent form).
fn float_text(x: f64) -> Result<String, String> {
    if !x.is_finite() {
        return Err(format!("{x} is not a decimal number"));
    }
    Ok(format!("{x}"))
}

fn float_text32(x: f32) -> Result<String, String> {
    if !x.is_finite() {
        return Err(format!("{x} is not a decimal number"));
    }
    Ok(format!("{x}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> TypeDesc {
        TypeDesc::parse(s).unwrap()
    }

    #[test]
    fn floats_become_decimals_exactly_or_not_at_all() {
        let mut c = Coercion::new("UTC");
        let v = Value::Float64(1.25);
        assert_eq!(*c.coerce(&v, &t("Decimal(10, 2)")).unwrap(), Value::Decimal { raw: 125, scale: 2 });
        assert!(c.coerce(&Value::Float64(0.1 + 0.2), &t("Decimal(10, 2)")).is_err(), "0.30000000000000004");
        assert!(c.coerce(&Value::Float64(f64::NAN), &t("Decimal(10, 2)")).is_err());
        let v = Value::Float32(0.1);
        assert_eq!(*c.coerce(&v, &t("Nullable(Decimal(9, 1))")).unwrap(), Value::Decimal { raw: 1, scale: 1 });
    }

    #[test]
    fn other_values_pass_unchanged() {
        let mut c = Coercion::new("UTC");
        let v = Value::from("abc");
        assert!(matches!(c.coerce(&v, &t("String")).unwrap(), Cow::Borrowed(_)));
        let v = Value::UInt8(1);
        assert!(matches!(c.coerce(&v, &t("UInt64")).unwrap(), Cow::Borrowed(_)));
    }
}
