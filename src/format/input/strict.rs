//! The canonical forms: text whose value is certain, read here without asking the server.
//!
//! A field is canonical when it is written the way the server itself writes that value (its
//! `TabSeparated`, `CSV` or `JSONEachRow` output) — `-12`, `1.5e-7`, `nan`, `2020-01-01 00:00:00`,
//! `'a\'b'`, `[1,NULL]` — and the value is within its type's range, so that reading it can only give
//! the value the server would store. Anything else — a `+1`, a `1e3` for a Decimal, a date the server
//! would clamp, an escape it does not write, a local time that a clock change makes ambiguous, a
//! number out of range — is not read here: every function returns `None` and the row goes to the
//! server's own parser. That is the whole correctness argument: what is read here is read the one
//! way there is; everything else is read by the server.

use crate::format::Zones;
use crate::format::text::strip;
use crate::types::TypeDesc;
use crate::value::Value;
use std::borrow::Cow;

type V = Value<'static>;

/// Reads canonical fields (keeps loaded time zones between calls).
pub(crate) struct Strict {
    zones: Zones,
    /// Reading for a server before 19 (18.16): its zero dates are canonical, an empty CSV field is not
    /// NULL there.
    pub(crate) legacy: bool,
    /// Zones whose rules here differ from the server's (`None`: the server's own): their date-times
    /// are the server's to read.
    pub(crate) uncertain_zones: Vec<Option<String>>,
}

fn nullable(t: &TypeDesc) -> bool {
    match t {
        TypeDesc::Nullable(_) => true,
        TypeDesc::LowCardinality(inner) => nullable(inner),
        _ => false,
    }
}

/// A type whose quoted and JSON forms are bare (numbers and Bool); the others are strings.
fn bare(t: &TypeDesc) -> bool {
    use TypeDesc as T;
    matches!(
        strip(t),
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
            | T::Decimal { .. }
            | T::Bool
    )
}

/// `-?(0|[1-9][0-9]*)`: the digits (without the sign) and whether negative.
fn int_text(s: &[u8]) -> Option<(bool, &str)> {
    let (neg, d) = match s.strip_prefix(b"-") {
        Some(d) => (true, d),
        None => (false, s),
    };
    if d.is_empty() || !d.iter().all(u8::is_ascii_digit) || d.len() > 1 && d[0] == b'0' || neg && d == b"0" {
        return None;
    }
    Some((neg, std::str::from_utf8(d).ok()?))
}

/// `-?(0|[1-9][0-9]*)` as its sign and magnitude (`None`: not canonical, or beyond 128 bits).
fn canonical_int(s: &[u8]) -> Option<(bool, u128)> {
    let (neg, d) = match s.split_first() {
        Some((b'-', d)) => (true, d),
        _ => (false, s),
    };
    if d.is_empty() || d.len() > 1 && d[0] == b'0' || neg && d == b"0" {
        return None;
    }
    let mut v: u128 = 0;
    for &c in d {
        let digit = c.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u128::from(digit))?;
    }
    Some((neg, v))
}

/// `-?(0|[1-9]D*)(.D+)?(e[+-]?D+)?`, or `nan`, `-nan`, `inf`, `-inf`.
fn float_text(s: &[u8]) -> Option<&str> {
    let t = std::str::from_utf8(s).ok()?;
    if matches!(t, "nan" | "-nan" | "inf" | "-inf") {
        return Some(t);
    }
    let body = t.strip_prefix('-').unwrap_or(t);
    let (mantissa, exp) = match body.split_once('e') {
        Some((m, e)) => (m, Some(e)),
        None => (body, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let digits = |x: &str| !x.is_empty() && x.bytes().all(|c| c.is_ascii_digit());
    let ok = digits(int)
        && !(int.len() > 1 && int.starts_with('0'))
        && frac.is_none_or(digits)
        && exp.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)));
    ok.then_some(t)
}

fn float64(t: &str) -> f64 {
    match t {
        "nan" => f64::NAN,
        "-nan" => -f64::NAN,
        "inf" => f64::INFINITY,
        "-inf" => f64::NEG_INFINITY,
        _ => t.parse().unwrap_or(f64::NAN),
    }
}

fn float32(t: &str) -> f32 {
    match t {
        "nan" => f32::NAN,
        "-nan" => -f32::NAN,
        "inf" => f32::INFINITY,
        "-inf" => f32::NEG_INFINITY,
        _ => t.parse().unwrap_or(f32::NAN),
    }
}

/// A canonical decimal as its unscaled digits (sign included), within `precision`.
fn decimal_digits(s: &[u8], precision: u8, scale: u8) -> Option<String> {
    let t = std::str::from_utf8(s).ok()?;
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let digits = |x: &str| x.bytes().all(|c| c.is_ascii_digit());
    if int.is_empty()
        || !digits(int)
        || !digits(frac)
        || body.contains('.') && frac.is_empty()
        || int.len() > 1 && int.starts_with('0')
        || frac.len() > usize::from(scale)
        || (int != "0" && int.len() > usize::from(precision - scale))
    {
        return None;
    }
    let mut out = String::with_capacity(int.len() + usize::from(scale) + 1);
    if neg {
        if int == "0" && frac.bytes().all(|c| c == b'0') {
            return None; // -0: not how the server writes zero
        }
        out.push('-');
    }
    out.push_str(int);
    out.push_str(frac);
    out.extend(std::iter::repeat_n('0', usize::from(scale) - frac.len()));
    Some(out)
}

fn two(s: &[u8], at: usize) -> Option<u32> {
    let a = s.get(at)?.checked_sub(b'0').filter(|d| *d < 10)?;
    let b = s.get(at + 1)?.checked_sub(b'0').filter(|d| *d < 10)?;
    Some(u32::from(a) * 10 + u32::from(b))
}

/// `YYYY-MM-DD` as a valid civil date.
fn civil_date(s: &[u8]) -> Option<jiff::civil::Date> {
    if s.len() != 10 || s[4] != b'-' || s[7] != b'-' {
        return None;
    }
    let year = two(s, 0)? * 100 + two(s, 2)?;
    let (month, day) = (two(s, 5)?, two(s, 8)?);
    jiff::civil::Date::new(i16::try_from(year).ok()?, i8::try_from(month).ok()?, i8::try_from(day).ok()?).ok()
}

/// `YYYY-MM-DD hh:mm:ss` followed by exactly `precision` fractional digits (after a dot when > 0):
/// the civil date-time and the fraction in units of 10^-precision.
fn civil_datetime(s: &[u8], precision: u8) -> Option<(jiff::civil::DateTime, u64)> {
    let p = usize::from(precision);
    let want = 19 + if p > 0 { p + 1 } else { 0 };
    if s.len() != want || s[10] != b' ' || s[13] != b':' || s[16] != b':' {
        return None;
    }
    let date = civil_date(&s[..10])?;
    let (h, m, sec) = (two(s, 11)?, two(s, 14)?, two(s, 17)?);
    let time = jiff::civil::Time::new(i8::try_from(h).ok()?, i8::try_from(m).ok()?, i8::try_from(sec).ok()?, 0).ok()?;
    let mut frac = 0u64;
    if p > 0 {
        if s[19] != b'.' || !s[20..].iter().all(u8::is_ascii_digit) {
            return None;
        }
        frac = std::str::from_utf8(&s[20..]).ok()?.parse().ok()?;
    }
    Some((date.to_datetime(time), frac))
}

/// A local time before 1970 in a zone other than UTC: the server's zone history for those years is
/// not always the one bundled here (the tz database merged zones that agree only since 1970), so such
/// times are the server's to read.
fn before_1970(dt: &jiff::civil::DateTime, zone: &jiff::tz::TimeZone) -> bool {
    dt.date() < jiff::civil::date(1970, 1, 2) && !zone.iana_name().is_some_and(|n| n == "UTC" || n == "Etc/UTC")
}

/// The element type of an array-like type: an array's own (borrowed), a `Nested`'s named tuple, a geo
/// type's points or shapes.
fn element_type(t: &TypeDesc) -> Cow<'_, TypeDesc> {
    match t {
        TypeDesc::Array(e) => Cow::Borrowed(e.as_ref()),
        TypeDesc::Nested(fields) => {
            Cow::Owned(TypeDesc::Tuple(fields.iter().map(|(n, t)| (Some(n.clone()), t.clone())).collect()))
        }
        geo => Cow::Owned(crate::format::text::geo_element(geo)),
    }
}

fn uuid(s: &[u8]) -> Option<u128> {
    if s.len() != 36 || [8, 13, 18, 23].iter().any(|&i| s[i] != b'-') {
        return None;
    }
    let mut v = 0u128;
    for (i, &c) in s.iter().enumerate() {
        if [8, 13, 18, 23].contains(&i) {
            continue;
        }
        v = v << 4 | u128::from((c as char).to_digit(16)?);
    }
    Some(v)
}

fn ipv4(s: &[u8]) -> Option<std::net::Ipv4Addr> {
    let mut parts = [0u8; 4];
    let mut n = 0;
    for part in s.split(|&c| c == b'.') {
        if n == 4 || part.is_empty() || part.len() > 3 || part.len() > 1 && part[0] == b'0' {
            return None;
        }
        parts[n] = std::str::from_utf8(part).ok()?.parse().ok()?;
        n += 1;
    }
    (n == 4).then(|| std::net::Ipv4Addr::from(parts))
}

impl Strict {
    pub(crate) fn new(server_tz: &str) -> Self {
        Strict { zones: Zones::new(server_tz), legacy: false, uncertain_zones: Vec::new() }
    }

    /// The value of a scalar's plain text (a TSV field after unescaping, a CSV field after unquoting,
    /// a JSON string's contents) when it is canonical.
    pub(crate) fn plain(&mut self, s: &[u8], t: &TypeDesc) -> Option<V> {
        use TypeDesc as T;
        macro_rules! int {
            ($variant:ident, $ty:ty) => {{
                // Canonical, then in range (the magnitude's digits, at most 39 of them).
                let (neg, magnitude) = canonical_int(s)?;
                let v: $ty = if neg {
                    <$ty>::try_from(0i128.checked_sub_unsigned(magnitude)?).ok()?
                } else {
                    <$ty>::try_from(magnitude).ok()?
                };
                Value::$variant(v)
            }};
        }
        Some(match t {
            T::Nullable(inner) | T::LowCardinality(inner) => return self.plain(s, inner),
            T::String => Value::String(Cow::Owned(s.to_vec())),
            T::FixedString(n) if s.len() == *n => Value::FixedString(Cow::Owned(s.to_vec())),
            T::UInt8 => int!(UInt8, u8),
            T::UInt16 => int!(UInt16, u16),
            T::UInt32 => int!(UInt32, u32),
            T::UInt64 => int!(UInt64, u64),
            T::UInt128 => int!(UInt128, u128),
            T::Int8 => int!(Int8, i8),
            T::Int16 => int!(Int16, i16),
            T::Int32 => int!(Int32, i32),
            T::Int64 => int!(Int64, i64),
            T::Int128 => int!(Int128, i128),
            T::UInt256 | T::Int256 => {
                let (neg, d) = int_text(s)?;
                let signed = matches!(t, T::Int256);
                let text = if neg { format!("-{d}") } else { d.to_string() };
                let limbs = crate::format::parse::parse_wide(&text, signed)?;
                if signed { Value::Int256(limbs) } else { Value::UInt256(limbs) }
            }
            T::Float64 => Value::Float64(float64(float_text(s)?)),
            T::Float32 => Value::Float32(float32(float_text(s)?)),
            T::Bool => match s {
                b"true" => Value::Bool(true),
                b"false" => Value::Bool(false),
                _ => return None,
            },
            T::Decimal { precision, scale } => {
                let digits = decimal_digits(s, *precision, *scale)?;
                if *precision <= 38 {
                    Value::Decimal { raw: digits.parse().ok()?, scale: *scale }
                } else {
                    Value::Decimal256 { raw: crate::format::parse::parse_wide(&digits, true)?, scale: *scale }
                }
            }
            T::Date if self.legacy && s == b"0000-00-00" => Value::Date(0),
            T::DateTime(_) if self.legacy && s == b"0000-00-00 00:00:00" => Value::DateTime(0),
            T::Date => {
                let days = civil_date(s)?.since(jiff::civil::date(1970, 1, 1)).ok()?.get_days();
                Value::Date(u16::try_from(days).ok()?)
            }
            T::Date32 => {
                let days = civil_date(s)?.since(jiff::civil::date(1970, 1, 1)).ok()?.get_days();
                if !(-25_567..=120_529).contains(&days) {
                    return None;
                }
                Value::Date32(days)
            }
            T::DateTime(tz) | T::DateTime64(_, tz) if self.uncertain_zones.iter().any(|z| z == tz) => return None,
            T::DateTime(tz) => {
                let (dt, _) = civil_datetime(s, 0)?;
                let zone = self.zones.get(tz.as_deref()).ok()?;
                if before_1970(&dt, &zone) {
                    return None;
                }
                let ts = zone.to_ambiguous_timestamp(dt).unambiguous().ok()?;
                Value::DateTime(u32::try_from(ts.as_second()).ok()?)
            }
            T::DateTime64(p, tz) if *p <= 9 => {
                let (dt, frac) = civil_datetime(s, *p)?;
                // The range the server keeps without clamping.
                if dt.date() < jiff::civil::date(1900, 1, 1) || dt.date() > jiff::civil::date(2299, 12, 31) {
                    return None;
                }
                let zone = self.zones.get(tz.as_deref()).ok()?;
                if before_1970(&dt, &zone) {
                    return None;
                }
                let ts = zone.to_ambiguous_timestamp(dt).unambiguous().ok()?;
                let scale = 10i64.pow(u32::from(*p));
                Value::DateTime64 { ticks: ts.as_second().checked_mul(scale)?.checked_add(frac as i64)?, precision: *p }
            }
            T::Uuid => Value::Uuid(uuid(s)?),
            T::Ipv4 => Value::Ipv4(ipv4(s)?),
            T::Ipv6 => {
                let text = std::str::from_utf8(s).ok()?;
                if text.contains('%') {
                    return None;
                }
                Value::Ipv6(text.parse().ok()?)
            }
            T::Enum8(m) => Value::Enum8(m.iter().find(|(n, _)| n.as_bytes() == s)?.1),
            T::Enum16(m) => Value::Enum16(m.iter().find(|(n, _)| n.as_bytes() == s)?.1),
            _ => return None,
        })
    }

    /// A whole value in the quoted form (`[1,'a']`, `(1,NULL)`, `{'k':[1]}`, `'2020-01-01'`, `12`).
    pub(crate) fn quoted(&mut self, s: &[u8], t: &TypeDesc) -> Option<V> {
        let mut at = 0;
        let v = self.quoted_at(s, &mut at, t, 0)?;
        (at == s.len()).then_some(v)
    }

    fn quoted_at(&mut self, s: &[u8], at: &mut usize, t: &TypeDesc, depth: u32) -> Option<V> {
        use TypeDesc as T;
        if depth > 32 {
            return None;
        }
        if s[*at..].starts_with(b"NULL") {
            if !nullable(t) {
                return None;
            }
            *at += 4;
            return Some(Value::Null);
        }
        let inner = strip(t);
        let expect = |at: &mut usize, c: u8| -> Option<()> { (s.get(*at) == Some(&c)).then(|| *at += 1) };
        match inner {
            T::Array(_)
            | T::Nested(_)
            | T::Ring
            | T::LineString
            | T::Polygon
            | T::MultiLineString
            | T::MultiPolygon => {
                let elem = element_type(inner);
                let elem = elem.as_ref();
                expect(at, b'[')?;
                let mut items = Vec::new();
                if s.get(*at) == Some(&b']') {
                    *at += 1;
                    return Some(Value::Array(items));
                }
                loop {
                    items.push(self.quoted_at(s, at, elem, depth + 1)?);
                    match s.get(*at) {
                        Some(b',') => *at += 1,
                        Some(b']') => {
                            *at += 1;
                            return Some(Value::Array(items));
                        }
                        _ => return None,
                    }
                }
            }
            T::Tuple(_) | T::Point => {
                // A point's elements are two Float64s.
                const POINT: [&TypeDesc; 2] = [&T::Float64, &T::Float64];
                let types: Vec<&TypeDesc> = match inner {
                    T::Tuple(e) => e.iter().map(|(_, t)| t).collect(),
                    _ => POINT.to_vec(),
                };
                expect(at, b'(')?;
                let mut items = Vec::with_capacity(types.len());
                for (i, et) in types.iter().enumerate() {
                    if i > 0 {
                        expect(at, b',')?;
                    }
                    items.push(self.quoted_at(s, at, et, depth + 1)?);
                }
                expect(at, b')')?;
                Some(Value::Tuple(items))
            }
            T::Map(kt, vt) => {
                expect(at, b'{')?;
                let mut entries = Vec::new();
                if s.get(*at) == Some(&b'}') {
                    *at += 1;
                    return Some(Value::Map(entries));
                }
                loop {
                    let k = self.quoted_at(s, at, kt, depth + 1)?;
                    expect(at, b':')?;
                    let v = self.quoted_at(s, at, vt, depth + 1)?;
                    entries.push((k, v));
                    match s.get(*at) {
                        Some(b',') => *at += 1,
                        Some(b'}') => {
                            *at += 1;
                            return Some(Value::Map(entries));
                        }
                        _ => return None,
                    }
                }
            }
            scalar if bare(scalar) => {
                let start = *at;
                while let Some(&c) = s.get(*at) {
                    if matches!(c, b',' | b']' | b')' | b'}' | b':') {
                        break;
                    }
                    *at += 1;
                }
                self.plain(&s[start..*at], t)
            }
            _ => {
                expect(at, b'\'')?;
                let start = *at;
                loop {
                    let p = memchr::memchr2(b'\'', b'\\', &s[*at..])?;
                    *at += p;
                    if s[*at] == b'\'' {
                        break;
                    }
                    *at += 2;
                    if *at > s.len() {
                        return None;
                    }
                }
                let text = unescape(&s[start..*at])?;
                *at += 1;
                self.plain(&text, t)
            }
        }
    }

    /// One `TabSeparated` field.
    pub(crate) fn tsv_field(&mut self, field: &[u8], t: &TypeDesc) -> Option<V> {
        if server_reads(t) {
            return None;
        }
        if field == b"\\N" {
            return nullable(t).then_some(Value::Null);
        }
        if crate::format::parse::is_composite(strip(t)) {
            return self.quoted(field, t);
        }
        let text = unescape(field)?;
        self.plain(&text, t)
    }

    /// One `CSV` field (already unquoted when `quoted`); `in_tuple` for the fields a tuple is spread
    /// over (an empty one is not NULL there).
    pub(crate) fn csv_field(&mut self, text: &[u8], quoted: bool, in_tuple: bool, t: &TypeDesc) -> Option<V> {
        if server_reads(t) {
            return None;
        }
        if !quoted {
            if in_tuple && (text == b"\\N" || text.is_empty()) {
                return None;
            }
            if text == b"\\N" || text.is_empty() && !self.legacy {
                // NULL, and an empty field is NULL for a Nullable column (not on 18.16).
                return nullable(t).then_some(Value::Null);
            }
            if text.is_empty() {
                return None;
            }
            if text.eq_ignore_ascii_case(b"null")
                || text.starts_with(b"\\")
                || text.contains(&b'\r')
                || matches!(text.first(), Some(b' ' | b'\t'))
                || matches!(text.last(), Some(b' ' | b'\t' | b'\r'))
            {
                return None;
            }
        } else if text == b"\\N" || text.is_empty() && !matches!(strip(t), TypeDesc::String) || bare(t) {
            // Numbers and Bool are written bare; quoted, they are the server's to read (it refuses a
            // quoted Bool).
            return None;
        }
        if crate::format::parse::is_composite(strip(t)) {
            return self.quoted(text, t);
        }
        self.plain(text, t)
    }
}

/// Whether values of `t` (at any depth) are always left to the server's parser: `Variant`, `Dynamic`,
/// `JSON`, `QBit` and `Geometry`, whose text the server reads by inferring types and trying
/// alternatives — rules this reader does not repeat.
fn server_reads(t: &TypeDesc) -> bool {
    use TypeDesc as T;
    t.contains(&|t| matches!(t, T::Variant(_) | T::Dynamic { .. } | T::Json(_) | T::QBit { .. } | T::Geometry))
}

/// The escapes the server writes (`\\ \' \b \f \n \r \t \0`) undone; any other escape is not canonical.
pub(crate) fn unescape(s: &[u8]) -> Option<Cow<'_, [u8]>> {
    if memchr::memchr(b'\\', s).is_none() {
        return Some(Cow::Borrowed(s));
    }
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while let Some(p) = memchr::memchr(b'\\', &s[i..]) {
        out.extend_from_slice(&s[i..i + p]);
        i += p + 1;
        out.push(match s.get(i)? {
            b'\\' => b'\\',
            b'\'' => b'\'',
            b'b' => 8,
            b'f' => 12,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'0' => 0,
            _ => return None,
        });
        i += 1;
    }
    out.extend_from_slice(&s[i..]);
    Some(Cow::Owned(out))
}

/// A JSON text cursor for the canonical subset (whitespace is space, tab, CR, LF).
pub(crate) struct Json<'s> {
    pub s: &'s [u8],
    pub at: usize,
}

impl<'s> Json<'s> {
    pub(crate) fn ws(&mut self) {
        while matches!(self.s.get(self.at), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.at += 1;
        }
    }
    pub(crate) fn eat(&mut self, c: u8) -> bool {
        let hit = self.s.get(self.at) == Some(&c);
        if hit {
            self.at += 1;
        }
        hit
    }
    /// A string's contents, unescaped; lone surrogates, raw control characters and unknown escapes
    /// are not canonical.
    pub(crate) fn string(&mut self) -> Option<Cow<'s, [u8]>> {
        if !self.eat(b'"') {
            return None;
        }
        let start = self.at;
        let p = memchr::memchr2(b'"', b'\\', &self.s[start..])?;
        if self.s[start + p] == b'"' {
            self.at = start + p + 1;
            let body = &self.s[start..start + p];
            return (!body.iter().any(|&c| c < 0x20)).then_some(Cow::Borrowed(body));
        }
        let mut out = Vec::new();
        let mut i = start;
        loop {
            let p = memchr::memchr2(b'"', b'\\', &self.s[i..])?;
            out.extend_from_slice(&self.s[i..i + p]);
            i += p;
            if self.s[i] == b'"' {
                self.at = i + 1;
                return (!out.iter().any(|&c| c < 0x20)).then_some(Cow::Owned(out));
            }
            i += 1;
            let c = *self.s.get(i)?;
            i += 1;
            match c {
                b'"' => out.push(b'"'),
                b'\\' => out.push(b'\\'),
                b'/' => out.push(b'/'),
                b'b' => out.push(8),
                b'f' => out.push(12),
                b'n' => out.push(b'\n'),
                b'r' => out.push(b'\r'),
                b't' => out.push(b'\t'),
                b'u' => {
                    let hex = |at: usize| -> Option<u32> {
                        let h = std::str::from_utf8(self.s.get(at..at + 4)?).ok()?;
                        if !h.bytes().all(|c| c.is_ascii_hexdigit()) {
                            return None;
                        }
                        u32::from_str_radix(h, 16).ok()
                    };
                    let mut code = hex(i)?;
                    i += 4;
                    if (0xD800..0xDC00).contains(&code) {
                        if self.s.get(i..i + 2) != Some(b"\\u") {
                            return None;
                        }
                        let low = hex(i + 2)?;
                        if !(0xDC00..0xE000).contains(&low) {
                            return None;
                        }
                        i += 6;
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                    } else if (0xDC00..0xE000).contains(&code) {
                        return None;
                    }
                    let ch = char::from_u32(code)?;
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                _ => return None,
            }
        }
    }
    /// A bare token (number or literal): up to a delimiter.
    fn token(&mut self) -> &'s [u8] {
        let start = self.at;
        while let Some(&c) = self.s.get(self.at) {
            if matches!(c, b',' | b']' | b'}' | b' ' | b'\t' | b'\r' | b'\n' | b':' | b'"' | b'[' | b'{') {
                break;
            }
            self.at += 1;
        }
        &self.s[start..self.at]
    }
}

impl Strict {
    /// A JSON value of type `t`.
    pub(crate) fn json(&mut self, j: &mut Json<'_>, t: &TypeDesc, depth: u32) -> Option<V> {
        if depth == 0 && server_reads(t) {
            return None;
        }
        use TypeDesc as T;
        if depth > 32 {
            return None;
        }
        j.ws();
        if j.s[j.at..].starts_with(b"null") {
            j.at += 4;
            return nullable(t).then_some(Value::Null);
        }
        let inner = strip(t);
        match inner {
            T::Array(_)
            | T::Nested(_)
            | T::Ring
            | T::LineString
            | T::Polygon
            | T::MultiLineString
            | T::MultiPolygon => {
                let elem = element_type(inner);
                let elem = elem.as_ref();
                if !j.eat(b'[') {
                    return None;
                }
                let mut items = Vec::new();
                j.ws();
                if j.eat(b']') {
                    return Some(Value::Array(items));
                }
                loop {
                    items.push(self.json(j, elem, depth + 1)?);
                    j.ws();
                    if j.eat(b']') {
                        return Some(Value::Array(items));
                    }
                    if !j.eat(b',') {
                        return None;
                    }
                }
            }
            T::Tuple(elems) if elems.iter().all(|(n, _)| n.is_some()) => {
                // A named tuple is an object (the server refuses an array for it): every name once, in
                // any order.
                if !j.eat(b'{') {
                    return None;
                }
                let mut values: Vec<Option<V>> = vec![None; elems.len()];
                j.ws();
                if !j.eat(b'}') {
                    loop {
                        j.ws();
                        let key = j.string()?;
                        let i = elems.iter().position(|(n, _)| n.as_deref().map(str::as_bytes) == Some(&key[..]))?;
                        j.ws();
                        if !j.eat(b':') || values[i].is_some() {
                            return None;
                        }
                        values[i] = Some(self.json(j, &elems[i].1, depth + 1)?);
                        j.ws();
                        if j.eat(b'}') {
                            break;
                        }
                        if !j.eat(b',') {
                            return None;
                        }
                    }
                }
                values.into_iter().collect::<Option<Vec<_>>>().map(Value::Tuple)
            }
            T::Tuple(_) | T::Point => {
                // A point's elements are two Float64s.
                const POINT: [&TypeDesc; 2] = [&T::Float64, &T::Float64];
                let types: Vec<&TypeDesc> = match inner {
                    T::Tuple(e) => e.iter().map(|(_, t)| t).collect(),
                    _ => POINT.to_vec(),
                };
                if !j.eat(b'[') {
                    return None;
                }
                let mut items = Vec::with_capacity(types.len());
                for (i, et) in types.iter().enumerate() {
                    if i > 0 {
                        j.ws();
                        if !j.eat(b',') {
                            return None;
                        }
                    }
                    items.push(self.json(j, et, depth + 1)?);
                }
                j.ws();
                j.eat(b']').then_some(Value::Tuple(items))
            }
            T::Map(kt, vt) => {
                if !j.eat(b'{') {
                    return None;
                }
                let mut entries: Vec<(V, V)> = Vec::new();
                j.ws();
                if j.eat(b'}') {
                    return Some(Value::Map(entries));
                }
                loop {
                    j.ws();
                    let key = j.string()?;
                    let k = self.plain(&key, kt)?;
                    if entries.iter().any(|(e, _)| *e == k) {
                        return None;
                    }
                    j.ws();
                    if !j.eat(b':') {
                        return None;
                    }
                    let v = self.json(j, vt, depth + 1)?;
                    entries.push((k, v));
                    j.ws();
                    if j.eat(b'}') {
                        return Some(Value::Map(entries));
                    }
                    if !j.eat(b',') {
                        return None;
                    }
                }
            }
            T::Float32 | T::Float64 => {
                let tok = j.token();
                if matches!(tok, b"nan" | b"-nan" | b"inf" | b"-inf") {
                    return None;
                }
                self.plain(tok, t)
            }
            scalar if bare(scalar) => {
                if j.s.get(j.at) == Some(&b'"') {
                    // 64-bit and wider integers are written quoted.
                    if !matches!(scalar, T::UInt64 | T::Int64 | T::UInt128 | T::Int128 | T::UInt256 | T::Int256) {
                        return None;
                    }
                    let text = j.string()?;
                    return self.plain(&text, t);
                }
                let tok = j.token();
                self.plain(tok, t)
            }
            _ => {
                let text = j.string()?;
                self.plain(&text, t)
            }
        }
    }
}
