//! Text → [`Value`], the inverse of the renderers: what `chc insert` reads from TSV, CSV and JSONEachRow.
//!
//! Three entry points, one per way text reaches a value:
//! - [`TextParser::scalar`]: the plain text of one scalar (`42`, `2020-01-01 00:00:00`, a UUID, an enum
//!   name, a string's bytes), as a TSV field after unescaping, a CSV field after unquoting or a JSON string;
//! - [`TextParser::quoted`]: ClickHouse's quoted text of any value, composites included —
//!   `[1,NULL]`, `('a',[(1.5,2)])`, `{'k':[1]}` — as TSV and CSV carry arrays, tuples and maps;
//! - [`TextParser::tsv_field`]: one TabSeparated field (`\N`, escapes, composites).
//!
//! Date-times are read in the column's time zone, or the server's when it has none; an ambiguous local
//! time (the repeated hour when clocks go back) is the earlier instant, as the server reads it. Errors
//! are plain messages; the readers add the row and column.

use super::text::{geo_element, strip};
use crate::types::TypeDesc;
use crate::value::Value;
use jiff::tz::TimeZone;
use std::borrow::Cow;

/// Parses text into values of given types (keeps time zones between calls).
pub struct TextParser {
    zones: super::Zones,
}

type R = Result<Value<'static>, String>;

impl TextParser {
    /// A parser whose `DateTime` columns without a zone use `server_tz` (an IANA name).
    pub fn new(server_tz: &str) -> Self {
        TextParser { zones: super::Zones::new(server_tz) }
    }

    fn zone(&mut self, name: Option<&str>) -> Result<TimeZone, String> {
        self.zones.get(name)
    }

    /// One TabSeparated field: `\N` is NULL, composites are in their quoted text, scalars are escaped.
    pub fn tsv_field(&mut self, field: &[u8], t: &TypeDesc) -> R {
        if field == b"\\N" {
            return null_for(t);
        }
        if is_composite(strip(t)) {
            return self.quoted(field, t);
        }
        let mut raw = Vec::with_capacity(field.len());
        unescape(field, &mut raw)?;
        self.scalar(&raw, t)
    }

    /// A whole value in ClickHouse's quoted text form (as inside arrays); all of `text` must be used.
    pub fn quoted(&mut self, text: &[u8], t: &TypeDesc) -> R {
        let mut q = Quoted { s: text, pos: 0 };
        let v = self.quoted_value(&mut q, t, 0)?;
        q.ws();
        if q.pos != text.len() {
            return Err(format!("unexpected text after the value at byte {}", q.pos));
        }
        Ok(v)
    }

    fn quoted_value(&mut self, q: &mut Quoted<'_>, t: &TypeDesc, depth: u32) -> R {
        if depth > 64 {
            return Err("values nested too deeply".into());
        }
        q.ws();
        if q.keyword(b"NULL") {
            return null_for(t);
        }
        if let Some(as_array) = nested_as_array(t) {
            return self.quoted_value(q, &as_array, depth);
        }
        let inner = strip(t);
        match inner {
            TypeDesc::Array(_)
            | TypeDesc::Ring
            | TypeDesc::LineString
            | TypeDesc::Polygon
            | TypeDesc::MultiLineString
            | TypeDesc::MultiPolygon => {
                let elem = match inner {
                    TypeDesc::Array(e) => e.as_ref().clone(),
                    geo => geo_element(geo),
                };
                q.expect(b'[')?;
                let mut items = Vec::new();
                q.ws();
                if !q.eat(b']') {
                    loop {
                        items.push(self.quoted_value(q, &elem, depth + 1)?);
                        q.ws();
                        if q.eat(b']') {
                            break;
                        }
                        q.expect(b',')?;
                    }
                }
                Ok(Value::Array(items))
            }
            TypeDesc::Tuple(_) | TypeDesc::Point => {
                let types: Vec<TypeDesc> = match inner {
                    TypeDesc::Tuple(e) => e.iter().map(|(_, t)| t.clone()).collect(),
                    _ => vec![TypeDesc::Float64, TypeDesc::Float64],
                };
                q.expect(b'(')?;
                let mut items = Vec::with_capacity(types.len());
                for (i, et) in types.iter().enumerate() {
                    if i > 0 {
                        q.ws();
                        q.expect(b',')?;
                    }
                    items.push(self.quoted_value(q, et, depth + 1)?);
                }
                q.ws();
                q.expect(b')')?;
                Ok(Value::Tuple(items))
            }
            TypeDesc::Map(kt, vt) => {
                q.expect(b'{')?;
                let mut entries = Vec::new();
                q.ws();
                if !q.eat(b'}') {
                    loop {
                        let k = self.quoted_value(q, kt, depth + 1)?;
                        q.ws();
                        q.expect(b':')?;
                        let v = self.quoted_value(q, vt, depth + 1)?;
                        entries.push((k, v));
                        q.ws();
                        if q.eat(b'}') {
                            break;
                        }
                        q.expect(b',')?;
                    }
                }
                Ok(Value::Map(entries))
            }
            _ => {
                if q.peek() == Some(b'\'') {
                    let s = q.string()?;
                    self.scalar(&s, t)
                } else {
                    let token = q.bare();
                    if token.is_empty() {
                        return Err(format!("expected a value at byte {}", q.pos));
                    }
                    self.scalar(token, t)
                }
            }
        }
    }

    /// A scalar from its plain text.
    pub fn scalar(&mut self, s: &[u8], t: &TypeDesc) -> R {
        let t = strip(t);
        let text = || std::str::from_utf8(s).map_err(|_| format!("{t}: not valid text"));
        let num = |what: &str| format!("cannot read {:?} as {what}", crate::error::excerpt(s, crate::error::EXCERPT));
        Ok(match t {
            TypeDesc::String => Value::String(Cow::Owned(s.to_vec())),
            TypeDesc::FixedString(_) => Value::FixedString(Cow::Owned(s.to_vec())),
            TypeDesc::UInt8 => Value::UInt8(text()?.parse().map_err(|_| num("UInt8"))?),
            TypeDesc::UInt16 => Value::UInt16(text()?.parse().map_err(|_| num("UInt16"))?),
            TypeDesc::UInt32 => Value::UInt32(text()?.parse().map_err(|_| num("UInt32"))?),
            TypeDesc::UInt64 => Value::UInt64(text()?.parse().map_err(|_| num("UInt64"))?),
            TypeDesc::UInt128 => Value::UInt128(text()?.parse().map_err(|_| num("UInt128"))?),
            TypeDesc::Int8 => Value::Int8(text()?.parse().map_err(|_| num("Int8"))?),
            TypeDesc::Int16 => Value::Int16(text()?.parse().map_err(|_| num("Int16"))?),
            TypeDesc::Int32 => Value::Int32(text()?.parse().map_err(|_| num("Int32"))?),
            TypeDesc::Int64 => Value::Int64(text()?.parse().map_err(|_| num("Int64"))?),
            TypeDesc::Int128 => Value::Int128(text()?.parse().map_err(|_| num("Int128"))?),
            TypeDesc::UInt256 => Value::UInt256(parse_wide(text()?, false).ok_or_else(|| num("UInt256"))?),
            TypeDesc::Int256 => Value::Int256(parse_wide(text()?, true).ok_or_else(|| num("Int256"))?),
            TypeDesc::Interval(_) => Value::Interval(text()?.parse().map_err(|_| num("an interval"))?),
            TypeDesc::Float64 => Value::Float64(parse_float(text()?).ok_or_else(|| num("Float64"))?),
            TypeDesc::Float32 => Value::Float32(parse_float(text()?).ok_or_else(|| num("Float32"))? as f32),
            TypeDesc::BFloat16 => {
                let x: f32 = parse_float(text()?).ok_or_else(|| num("BFloat16"))? as f32;
                Value::BFloat16((x.to_bits() >> 16) as u16)
            }
            TypeDesc::Bool => match s {
                b"true" | b"1" => Value::Bool(true),
                b"false" | b"0" => Value::Bool(false),
                _ => return Err(num("Bool")),
            },
            TypeDesc::Decimal { precision, scale } => {
                let digits = decimal_digits(text()?, *scale).ok_or_else(|| num(&t.to_string()))?;
                if *precision <= 38 {
                    Value::Decimal { raw: digits.parse().map_err(|_| num(&t.to_string()))?, scale: *scale }
                } else {
                    Value::Decimal256 {
                        raw: parse_wide(&digits, true).ok_or_else(|| num(&t.to_string()))?,
                        scale: *scale,
                    }
                }
            }
            TypeDesc::Uuid => {
                let hex: String = text()?.chars().filter(|c| *c != '-').collect();
                if hex.len() != 32 {
                    return Err(num("UUID"));
                }
                Value::Uuid(u128::from_str_radix(&hex, 16).map_err(|_| num("UUID"))?)
            }
            TypeDesc::Ipv4 => Value::Ipv4(text()?.parse().map_err(|_| num("IPv4"))?),
            TypeDesc::Ipv6 => Value::Ipv6(match text()?.parse::<std::net::IpAddr>().map_err(|_| num("IPv6"))? {
                std::net::IpAddr::V6(a) => a,
                std::net::IpAddr::V4(a) => a.to_ipv6_mapped(),
            }),
            TypeDesc::Date => {
                let d = days(text()?).ok_or_else(|| num("Date"))?;
                Value::Date(u16::try_from(d).map_err(|_| num("Date"))?)
            }
            TypeDesc::Date32 => {
                Value::Date32(i32::try_from(days(text()?).ok_or_else(|| num("Date32"))?).map_err(|_| num("Date32"))?)
            }
            TypeDesc::DateTime(tz) => {
                let tz = self.zone(tz.as_deref())?;
                let nanos = instant_nanos(text()?, &tz).ok_or_else(|| num("DateTime"))?;
                Value::DateTime(u32::try_from(nanos.div_euclid(1_000_000_000)).map_err(|_| num("DateTime"))?)
            }
            TypeDesc::DateTime64(p, tz) => {
                let tz = self.zone(tz.as_deref())?;
                let nanos = instant_nanos(text()?, &tz).ok_or_else(|| num("DateTime64"))?;
                let ticks = nanos.div_euclid(10i128.pow(9 - u32::from((*p).min(9))));
                Value::DateTime64 { ticks: i64::try_from(ticks).map_err(|_| num("DateTime64"))?, precision: *p }
            }
            TypeDesc::Time => {
                let (neg, secs, _) = time_parts(text()?, 0).ok_or_else(|| num("Time"))?;
                let v = i32::try_from(secs).map_err(|_| num("Time"))?;
                Value::Time(if neg { -v } else { v })
            }
            TypeDesc::Time64(p) => {
                let (neg, secs, frac) = time_parts(text()?, *p).ok_or_else(|| num("Time64"))?;
                let ticks = 10u64
                    .checked_pow(u32::from(*p))
                    .and_then(|scale| secs.checked_mul(scale)?.checked_add(frac))
                    .and_then(|t| i64::try_from(t).ok())
                    .ok_or_else(|| num("Time64"))?;
                Value::Time64 { ticks: if neg { -ticks } else { ticks }, precision: *p }
            }
            TypeDesc::Enum8(m) => match m.iter().find(|(n, _)| n.as_bytes() == s) {
                Some((_, v)) => Value::Enum8(*v),
                None => Value::Enum8(text()?.parse().map_err(|_| {
                    format!("{:?} is not a value of {t}", crate::error::excerpt(s, crate::error::EXCERPT))
                })?),
            },
            TypeDesc::Enum16(m) => match m.iter().find(|(n, _)| n.as_bytes() == s) {
                Some((_, v)) => Value::Enum16(*v),
                None => Value::Enum16(text()?.parse().map_err(|_| {
                    format!("{:?} is not a value of {t}", crate::error::excerpt(s, crate::error::EXCERPT))
                })?),
            },
            composite if is_composite(composite) => return self.quoted(s, t),
            other => return Err(format!("cannot read values of type {other} from text")),
        })
    }
}

/// NULL where the type allows it.
pub(crate) fn null_for(t: &TypeDesc) -> R {
    match t {
        TypeDesc::Nullable(_) | TypeDesc::Nothing => Ok(Value::Null),
        TypeDesc::LowCardinality(inner) | TypeDesc::SimpleAggregateFunction(_, inner) => null_for(inner),
        _ => Err(format!("NULL for a column of non-Nullable type {t}")),
    }
}

/// `Nested(a T, b U)` as the value it holds, `Array(Tuple(a T, b U))`.
pub(crate) fn nested_as_array(t: &TypeDesc) -> Option<TypeDesc> {
    match strip(t) {
        TypeDesc::Nested(fields) => Some(TypeDesc::Array(Box::new(TypeDesc::Tuple(
            fields.iter().map(|(n, t)| (Some(n.clone()), t.clone())).collect(),
        )))),
        _ => None,
    }
}

/// Arrays, tuples, maps, nested and geo types: carried in quoted text.
pub(crate) fn is_composite(t: &TypeDesc) -> bool {
    matches!(
        t,
        TypeDesc::Nested(_)
            | TypeDesc::Array(_)
            | TypeDesc::Tuple(_)
            | TypeDesc::Map(..)
            | TypeDesc::Point
            | TypeDesc::Ring
            | TypeDesc::LineString
            | TypeDesc::Polygon
            | TypeDesc::MultiLineString
            | TypeDesc::MultiPolygon
    )
}

/// Undoes ClickHouse's backslash escapes (`\t`, `\n`, `\\`, `\'`, `\xHH`, …) into `out`, as the server's
/// own escaped-string reader does: a backslash before a character with no escape meaning is kept
/// (`C:\data` stays `C:\data`), except before `\\`, quotes, `` ` `` and `/`; a `\N` inside a value is read
/// as nothing (`a\Nb` is `ab`).
pub fn unescape(s: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    let mut i = 0;
    while i < s.len() {
        let Some(p) = memchr::memchr(b'\\', &s[i..]) else {
            out.extend_from_slice(&s[i..]);
            break;
        };
        out.extend_from_slice(&s[i..i + p]);
        i += p + 1;
        let Some(&c) = s.get(i) else { return Err("a lone backslash at the end".into()) };
        i += 1;
        let decoded = match c {
            // `\N` inside a value (not a whole NULL field) is read as nothing, as the server reads it.
            b'N' => continue,
            b'n' => b'\n',
            b't' => b'\t',
            b'r' => b'\r',
            b'b' => 8,
            b'f' => 12,
            b'0' => 0,
            b'a' => 7,
            b'v' => 11,
            b'e' => 27,
            b'x' => {
                let hex = s
                    .get(i..i + 2)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                let Some(b) = hex else { return Err("\\x needs two hex digits".into()) };
                i += 2;
                b
            }
            // A backslash before anything else stays (the server keeps it so that `100\%` in LIKE
            // patterns survives), unless the character is one that is escaped for its own sake.
            other => {
                if !matches!(other, b'\\' | b'\'' | b'"' | b'`' | b'/') && !other.is_ascii_control() {
                    out.push(b'\\');
                }
                other
            }
        };
        out.push(decoded);
    }
    Ok(())
}

/// A cursor over quoted text.
struct Quoted<'s> {
    s: &'s [u8],
    pos: usize,
}

impl Quoted<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }
    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }
    fn eat(&mut self, c: u8) -> bool {
        let hit = self.peek() == Some(c);
        if hit {
            self.pos += 1;
        }
        hit
    }
    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.eat(c) { Ok(()) } else { Err(format!("expected '{}' at byte {}", c as char, self.pos)) }
    }
    /// `NULL` followed by a delimiter.
    fn keyword(&mut self, k: &[u8]) -> bool {
        let hit = self.s[self.pos..].starts_with(k)
            && !self.s.get(self.pos + k.len()).is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_');
        if hit {
            self.pos += k.len();
        }
        hit
    }
    /// A single-quoted string, unescaped.
    fn string(&mut self) -> Result<Vec<u8>, String> {
        let start = self.pos;
        self.pos += 1;
        let body = self.pos;
        loop {
            match self.s.get(self.pos) {
                None => return Err(format!("string starting at byte {start} is not closed")),
                Some(b'\\') => self.pos += 2,
                Some(b'\'') => break,
                Some(_) => self.pos += 1,
            }
        }
        let mut out = Vec::with_capacity(self.pos - body);
        unescape(&self.s[body..self.pos.min(self.s.len())], &mut out)?;
        self.pos += 1;
        Ok(out)
    }
    /// A bare token: up to the next delimiter.
    fn bare(&mut self) -> &[u8] {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if matches!(c, b',' | b']' | b')' | b'}' | b':' | b' ' | b'\t' | b'\n') {
                // `:` delimits map keys but is part of a time (`12:00:00`) only inside quotes.
                break;
            }
            self.pos += 1;
        }
        &self.s[start..self.pos]
    }
}

/// `nan`, `inf`, `-inf`, `+inf` and ordinary numbers.
fn parse_float(s: &str) -> Option<f64> {
    match s {
        "nan" | "-nan" | "+nan" => Some(f64::NAN),
        "inf" | "+inf" => Some(f64::INFINITY),
        "-inf" => Some(f64::NEG_INFINITY),
        _ => s.parse().ok(),
    }
}

/// A decimal's text as the digits of its unscaled integer (`-12.3` at scale 3 → `-12300`); more
/// fractional digits than the scale are an error (nothing is rounded away silently).
fn decimal_digits(s: &str, scale: u8) -> Option<String> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if int.is_empty() && frac.is_empty() || !int.bytes().chain(frac.bytes()).all(|c| c.is_ascii_digit()) {
        return None;
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() > usize::from(scale) {
        return None;
    }
    let mut digits = String::with_capacity(int.len() + usize::from(scale) + 1);
    if neg {
        digits.push('-');
    }
    digits.push_str(if int.is_empty() { "0" } else { int });
    digits.push_str(frac);
    digits.extend(std::iter::repeat_n('0', usize::from(scale) - frac.len()));
    Some(digits)
}

/// A decimal integer as 256-bit little-endian limbs (two's complement when `signed`).
pub fn parse_wide(s: &str, signed: bool) -> Option<[u64; 4]> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) if signed => (true, d),
        Some(_) => return None,
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut limbs = [0u64; 4];
    for d in digits.bytes() {
        let mut carry = u128::from(d - b'0');
        for l in limbs.iter_mut() {
            let x = u128::from(*l) * 10 + carry;
            *l = x as u64;
            carry = x >> 64;
        }
        if carry != 0 {
            return None;
        }
    }
    let top_bit = limbs[3] >> 63 != 0;
    if signed && top_bit && !(neg && limbs == [0, 0, 0, 1 << 63]) {
        return None;
    }
    if neg {
        // Two's complement: invert and add one.
        let mut carry = 1u128;
        for l in limbs.iter_mut() {
            let x = u128::from(!*l) + carry;
            *l = x as u64;
            carry = x >> 64;
        }
    }
    Some(limbs)
}

/// Days since 1970-01-01 of `YYYY-MM-DD` (also `0000-00-00`, the old servers' zero date).
fn days(s: &str) -> Option<i64> {
    if s == "0000-00-00" {
        return Some(0);
    }
    let d: jiff::civil::Date = s.parse().ok()?;
    Some(i64::from(d.since(jiff::civil::date(1970, 1, 1)).ok()?.get_days()))
}

/// Nanoseconds since the epoch of `YYYY-MM-DD hh:mm:ss[.frac]` in `tz`, or of a bare Unix timestamp.
fn instant_nanos(s: &str, tz: &TimeZone) -> Option<i128> {
    if s == "0000-00-00 00:00:00" {
        return Some(0);
    }
    if !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()) {
        return Some(i128::from(s.parse::<i64>().ok()?) * 1_000_000_000);
    }
    let dt: jiff::civil::DateTime = s.parse().ok()?;
    // The earlier instant when the local time is ambiguous, as the server reads it.
    let ts = tz.to_ambiguous_timestamp(dt).earlier().ok()?;
    Some(ts.as_nanosecond())
}

/// `[-]h…h:mm:ss[.frac]` as (negative, seconds, fraction in units of 10^-precision).
fn time_parts(s: &str, precision: u8) -> Option<(bool, u64, u64)> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let (hms, frac) = body.split_once('.').unwrap_or((body, ""));
    let mut parts = hms.split(':');
    let (h, m, sec) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    // Checked throughout: hostile text must be an error, not an overflow.
    let secs = h
        .parse::<u64>()
        .ok()?
        .checked_mul(3600)?
        .checked_add(m.parse::<u64>().ok()?.checked_mul(60)?)?
        .checked_add(sec.parse::<u64>().ok()?)?;
    if frac.len() > usize::from(precision) || !frac.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let frac_val = if frac.is_empty() { 0 } else { frac.parse::<u64>().ok()? }
        .checked_mul(10u64.checked_pow(u32::from(precision) - frac.len() as u32)?)?;
    Some((neg, secs, frac_val))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_and_composites() {
        let mut p = TextParser::new("UTC");
        let t = |s: &str| TypeDesc::parse(s).unwrap();
        assert_eq!(p.scalar(b"-12.3", &t("Decimal(9, 3)")).unwrap(), Value::Decimal { raw: -12300, scale: 3 });
        assert!(p.scalar(b"1.2345", &t("Decimal(9, 3)")).is_err(), "digits beyond the scale");
        assert_eq!(p.scalar(b"-1", &t("Int256")).unwrap(), Value::Int256([u64::MAX; 4]));
        assert_eq!(
            p.quoted(b"[(1,'a\\'b'),(2,NULL)]", &t("Array(Tuple(UInt8, Nullable(String)))")).unwrap(),
            Value::Array(vec![
                Value::Tuple(vec![Value::UInt8(1), Value::from("a'b")]),
                Value::Tuple(vec![Value::UInt8(2), Value::Null])
            ])
        );
        assert_eq!(p.tsv_field(b"a\\tb", &t("String")).unwrap(), Value::from("a\tb"));
        assert_eq!(p.tsv_field(b"\\N", &t("Nullable(UInt8)")).unwrap(), Value::Null);
        assert!(p.tsv_field(b"\\N", &t("UInt8")).is_err());
        assert_eq!(
            p.scalar(b"2020-11-01 01:30:00", &t("DateTime('America/New_York')")).unwrap(),
            Value::DateTime(1604208600)
        );
        assert_eq!(p.scalar(b"-1:02:03.5", &t("Time64(3)")).unwrap(), Value::Time64 { ticks: -3723500, precision: 3 });
        assert!(p.scalar(b"99999999999999999:00:00", &t("Time64(3)")).is_err(), "overflow is an error");
        assert!(p.scalar(b"9999999999999:00:00", &t("Time")).is_err());
    }
}
