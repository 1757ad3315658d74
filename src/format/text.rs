//! ClickHouse's `TabSeparated` rendering of values, checked against the server by the differential
//! tests (`tests/differential.rs`).
//!
//! Rules, as ClickHouse 26.9 writes them:
//! - strings and FixedString: bytes as they are, with `\`, `'`, tab, newline, CR, backspace, form feed
//!   and NUL escaped (`\\ \' \t \n \r \b \f \0`); inside composites the same, wrapped in `'…'`;
//! - floats: shortest round-trip digits, fixed notation when the decimal exponent is in -7..21, else
//!   `1e21`/`1e-7` (no `+`); `nan`, `inf`, `-inf`, `-0`;
//! - decimals: exact, trailing fractional zeros dropped;
//! - Date `YYYY-MM-DD`; DateTime `YYYY-MM-DD hh:mm:ss` in the column's time zone (else the server's);
//!   DateTime64 with exactly `precision` fractional digits; Time `[-]hh:mm:ss[.fff]` (hours may exceed 24);
//! - UUID `8-4-4-4-12`; IPv4 dotted; IPv6 RFC 5952 (`::ffff:1.2.3.4` for mapped addresses);
//! - Bool `true`/`false`; Enum by name; NULL `\N` at top level and `NULL` inside composites;
//! - inside composites, everything that is not a number or bool is quoted: `['a',NULL]`, `(1,'x')`,
//!   `{'k':1}`.

use crate::types::TypeDesc;
use crate::value::Value;
use jiff::tz::TimeZone;
use std::io::Write;

/// The precision that stands for `DateTime` (seconds, 32 bits) among the instants of
/// [`TextRenderer::set_instant_text`].
pub const DATETIME: u8 = 255;

/// Renders values as ClickHouse text. Holds the server's time zone (for `DateTime` columns without
/// one) and caches the zones it has loaded.
pub struct TextRenderer {
    zones: super::Zones,
    legacy: bool,
    json_quote_denormals: bool,
    /// The first unknown zone met while rendering.
    zone_error: Option<String>,
    /// Texts of instants given by the server (see [`TextRenderer::set_instant_text`]), by zone
    /// (`None`: the server's), precision and ticks.
    instant_texts: std::collections::HashMap<(Option<String>, u8, i64), Vec<u8>>,
    /// Zones whose rules here differ from the server's (see [`TextRenderer::mark_zone_uncertain`]).
    uncertain_zones: Vec<Option<String>>,
    /// For each zone used, its offset and the instants it holds for (between two transitions):
    /// consecutive values mostly fall in the same span, found without a zone lookup.
    offset_spans: Vec<OffsetSpan>,
}

/// A zone's UTC offset over the instants `start..end` (seconds; no transition between).
struct OffsetSpan {
    zone: Option<String>,
    start: i64,
    end: i64,
    offset: i64,
}

impl TextRenderer {
    /// A renderer whose `DateTime` columns without a zone use `server_tz` (an IANA name).
    pub fn new(server_tz: &str) -> Self {
        TextRenderer {
            zones: super::Zones::new(server_tz),
            legacy: false,
            json_quote_denormals: false,
            zone_error: None,
            instant_texts: std::collections::HashMap::new(),
            uncertain_zones: Vec::new(),
            offset_spans: Vec::new(),
        }
    }

    /// Renders as old servers (18.16) do: Date 0 and DateTime 0 as `0000-00-00[ 00:00:00]` (newer ones
    /// print `1970-01-01`), and decimals with all `scale` fractional digits (newer ones drop trailing
    /// zeros).
    pub fn with_legacy_formatting(mut self, legacy: bool) -> Self {
        self.legacy = legacy;
        self
    }

    /// JSON writes `nan` and `±inf` as strings (`"nan"`), as the server does with the setting
    /// `output_format_json_quote_denormals = 1`, instead of `null`: so they survive a JSON round trip.
    pub fn with_json_quoted_denormals(mut self, quote: bool) -> Self {
        self.json_quote_denormals = quote;
        self
    }

    pub(crate) fn json_quote_denormals(&self) -> bool {
        self.json_quote_denormals
    }

    pub(crate) fn legacy(&self) -> bool {
        self.legacy
    }

    /// Whether a `DateTime64` of `ticks` at `precision` in zone `zone` (`None`: the server's) is one
    /// this renderer may render otherwise than the server: a time before 1970 in a zone other than UTC
    /// (the tz database merged zones that agree only since 1970; the server may keep an older history).
    /// Ask the server for those ([`TextRenderer::set_instant_text`]).
    pub fn instant_is_uncertain(&mut self, zone: Option<&str>, precision: u8, ticks: i64) -> bool {
        if self.uncertain_zones.iter().any(|z| z.as_deref() == zone) {
            return true;
        }
        if precision == DATETIME {
            return false;
        }
        let scale = 10i64.pow(u32::from(precision.min(9)));
        if ticks >= 86_400 * scale {
            return false;
        }
        !self.zone(zone).iana_name().is_some_and(|n| n == "UTC" || n == "Etc/UTC")
    }

    /// Marks a zone (`None`: the server's) whose rules here differ from the server's
    /// ([`crate::Client::zone_agrees`]): every instant in it is then uncertain.
    pub fn mark_zone_uncertain(&mut self, zone: Option<&str>) {
        if !self.uncertain_zones.iter().any(|z| z.as_deref() == zone) {
            self.uncertain_zones.push(zone.map(str::to_string));
        }
    }

    /// The server's own text for a `DateTime64` (without quotes; [`DATETIME`] as the precision for a
    /// `DateTime`), used instead of this renderer's.
    pub fn set_instant_text(&mut self, zone: Option<&str>, precision: u8, ticks: i64, text: Vec<u8>) {
        self.instant_texts.insert((zone.map(str::to_string), precision, ticks), text);
    }

    /// Forgets the server's texts of instants (they are per block: memory stays bounded).
    pub fn clear_instant_texts(&mut self) {
        self.instant_texts.clear();
    }

    /// Whether the server's text for an instant is known.
    pub fn has_instant_text(&self, zone: Option<&str>, precision: u8, ticks: i64) -> bool {
        !self.instant_texts.is_empty() && self.instant_texts.contains_key(&(zone.map(str::to_string), precision, ticks))
    }

    /// The zone for `name`. Callers check a column's type first ([`TextRenderer::check_type`]); a zone
    /// that is unknown all the same renders as UTC and is remembered in [`TextRenderer::take_error`].
    fn zone(&mut self, name: Option<&str>) -> TimeZone {
        match self.zones.get(name) {
            Ok(z) => z,
            Err(e) => {
                self.zone_error.get_or_insert(e);
                TimeZone::UTC
            }
        }
    }

    /// `secs` (UTC) as local seconds in zone `name` (`None`: the server's).
    fn local_seconds(&mut self, name: Option<&str>, secs: i64) -> i64 {
        let known = self.offset_spans.iter().position(|w| w.zone.as_deref() == name);
        if let Some(w) = known.map(|i| &self.offset_spans[i]) {
            if w.start <= secs && secs < w.end {
                return secs + w.offset;
            }
        }
        let tz = self.zone(name);
        let Ok(ts) = jiff::Timestamp::from_second(secs) else { return secs };
        let offset = i64::from(tz.to_offset(ts).seconds());
        // The span between the transitions around `secs` (a transition at `secs` itself starts it).
        let start = jiff::Timestamp::from_second(secs.saturating_add(1))
            .ok()
            .and_then(|after| tz.preceding(after).next())
            .map_or(i64::MIN, |t| t.timestamp().as_second());
        let end = tz.following(ts).next().map_or(i64::MAX, |t| t.timestamp().as_second());
        let span = OffsetSpan { zone: name.map(str::to_string), start, end, offset };
        match known {
            Some(i) => self.offset_spans[i] = span,
            // One span per zone, for the few zones of a result (any more share the last slot).
            None if self.offset_spans.len() < 16 => self.offset_spans.push(span),
            None => self.offset_spans[15] = span,
        }
        secs + offset
    }

    /// A `DateTime` (seconds) in zone `name` (`None`: the server's), as the server writes it.
    pub(crate) fn write_datetime(&mut self, out: &mut Vec<u8>, name: Option<&str>, secs: u32) {
        if secs == 0 && self.legacy {
            out.extend_from_slice(b"0000-00-00 00:00:00");
            return;
        }
        let secs = i64::from(secs);
        if !self.instant_texts.is_empty() {
            if let Some(text) = self.instant_texts.get(&(name.map(str::to_string), DATETIME, secs)) {
                out.extend_from_slice(text);
                return;
            }
        }
        let local = self.local_seconds(name, secs);
        write_local_datetime(out, local);
    }

    /// Checks that every time zone a value of type `t` may need is known (the server's included), so
    /// rendering it cannot fall back to anything: call it once per column type before rendering.
    pub fn check_type(&mut self, t: &TypeDesc) -> Result<(), String> {
        self.zones.check(t)
    }

    /// A zone that was needed while rendering and is unknown (only when [`TextRenderer::check_type`]
    /// was not called): the values rendered with it are wrong and must not be used.
    pub fn take_error(&mut self) -> Option<String> {
        self.zone_error.take()
    }

    /// Writes one field as `TabSeparated` does.
    pub fn write_tsv(&mut self, out: &mut Vec<u8>, v: &Value<'_>, t: &TypeDesc) {
        self.write(out, v, t, false);
    }

    /// Writes a number-like value (integers, floats, decimals, bool) exactly as the text formats do;
    /// returns false, writing nothing, for any other value.
    pub(crate) fn write_number(&mut self, out: &mut Vec<u8>, v: &Value<'_>, t: &TypeDesc) -> bool {
        let numeric = matches!(
            v,
            Value::Bool(_)
                | Value::UInt8(_)
                | Value::UInt16(_)
                | Value::UInt32(_)
                | Value::UInt64(_)
                | Value::UInt128(_)
                | Value::UInt256(_)
                | Value::Int8(_)
                | Value::Int16(_)
                | Value::Int32(_)
                | Value::Int64(_)
                | Value::Int128(_)
                | Value::Int256(_)
                | Value::Float32(_)
                | Value::Float64(_)
                | Value::BFloat16(_)
                | Value::Decimal { .. }
                | Value::Decimal256 { .. }
                | Value::Interval(_)
        );
        if numeric {
            self.write(out, v, t, false);
        }
        numeric
    }

    /// A value in the text form: top level (`quoted` false) as `TabSeparated`, or inside a composite.
    pub(crate) fn write_text(&mut self, out: &mut Vec<u8>, v: &Value<'_>, t: &TypeDesc, quoted: bool) {
        self.write(out, v, t, quoted);
    }

    fn write(&mut self, out: &mut Vec<u8>, v: &Value<'_>, t: &TypeDesc, quoted: bool) {
        let t = strip(t);
        match (v, t) {
            (Value::Null, _) => out.extend_from_slice(if quoted { b"NULL" } else { b"\\N" }),
            (Value::Bool(b), _) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            (Value::UInt8(x), TypeDesc::Bool) => out.extend_from_slice(if *x != 0 { b"true" } else { b"false" }),
            (Value::UInt8(x), _) => write_int(out, *x),
            (Value::UInt16(x), _) => write_int(out, *x),
            (Value::UInt32(x), _) => write_int(out, *x),
            (Value::UInt64(x), _) => write_int(out, *x),
            (Value::UInt128(x), _) => write_int(out, *x),
            (Value::Int8(x), _) => write_int(out, *x),
            (Value::Int16(x), _) => write_int(out, *x),
            (Value::Int32(x), _) => write_int(out, *x),
            (Value::Int64(x), _) => write_int(out, *x),
            (Value::Int128(x), _) => write_int(out, *x),
            (Value::Interval(x), _) => write_int(out, *x),
            (Value::UInt256(l), _) => out.extend_from_slice(wide_to_decimal(l, false).as_bytes()),
            (Value::Int256(l), _) => out.extend_from_slice(wide_to_decimal(l, true).as_bytes()),
            (Value::Float32(x), _) => write_float(out, FloatRepr::F32(*x)),
            (Value::Float64(x), _) => write_float(out, FloatRepr::F64(*x)),
            (Value::BFloat16(bits), _) => write_float(out, FloatRepr::F32(f32::from_bits(u32::from(*bits) << 16))),
            (Value::Decimal { raw, scale }, _) => write_decimal(
                out,
                &if *raw < 0 { format!("-{}", raw.unsigned_abs()) } else { raw.to_string() },
                *scale,
                !self.legacy,
            ),
            (Value::Decimal256 { raw, scale }, _) => {
                write_decimal(out, &wide_to_decimal(raw, true), *scale, !self.legacy)
            }
            (Value::String(s), _) | (Value::FixedString(s), _) => {
                if quoted {
                    out.push(b'\'');
                }
                escape(out, s);
                if quoted {
                    out.push(b'\'');
                }
            }
            (Value::Array(items), TypeDesc::Array(inner)) => {
                out.push(b'[');
                for (i, x) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    self.write(out, x, inner, true);
                }
                out.push(b']');
            }
            (Value::Array(items), geo) => {
                // Ring, LineString, Polygon, … are arrays of points / arrays.
                let inner = geo_element(geo);
                out.push(b'[');
                for (i, x) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    self.write(out, x, &inner, true);
                }
                out.push(b']');
            }
            (Value::Tuple(items), t) => {
                // Element types by reference (a point's are Float64).
                let element = |i: usize| -> &TypeDesc {
                    match t {
                        TypeDesc::Tuple(elems) => elems.get(i).map_or(&TypeDesc::Nothing, |(_, t)| t),
                        TypeDesc::Nested(elems) => elems.get(i).map_or(&TypeDesc::Nothing, |(_, t)| t),
                        _ => &TypeDesc::Float64,
                    }
                };
                out.push(b'(');
                for (i, x) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    self.write(out, x, element(i), true);
                }
                out.push(b')');
            }
            (Value::Map(entries), t) => {
                let (kt, vt) = match t {
                    TypeDesc::Map(k, v) => (k.as_ref(), v.as_ref()),
                    _ => (&TypeDesc::Nothing, &TypeDesc::Nothing),
                };
                out.push(b'{');
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    self.write(out, k, kt, true);
                    out.push(b':');
                    self.write(out, v, vt, true);
                }
                out.push(b'}');
            }
            (Value::Variant { discriminator, value }, t) => {
                let alt = alternative(t, *discriminator);
                self.write(out, value, &alt, quoted)
            }
            (Value::Dynamic { ty, value }, _) => self.write(out, value, ty, quoted),
            (Value::Json(_), t) => {
                let mut text = Vec::new();
                self.write_json(&mut text, v, t);
                if quoted {
                    out.push(b'\'');
                    escape(out, &text);
                    out.push(b'\'');
                } else {
                    escape(out, &text);
                }
            }
            (Value::Enum8(_) | Value::Enum16(_), t) => {
                // Enum names are arbitrary strings: escaped like strings.
                let mut name = Vec::new();
                self.write_plain(&mut name, v, t);
                if quoted {
                    out.push(b'\'');
                }
                escape(out, &name);
                if quoted {
                    out.push(b'\'');
                }
            }
            (other, t) => {
                // Everything else is quoted inside composites.
                if quoted {
                    out.push(b'\'');
                }
                self.write_plain(out, other, t);
                if quoted {
                    out.push(b'\'');
                }
            }
        }
    }

    /// The raw text of values that are not numbers, strings or composites: dates and times, UUIDs,
    /// addresses, enum names (unescaped: callers escape for their format).
    pub(crate) fn write_plain(&mut self, out: &mut Vec<u8>, v: &Value<'_>, t: &TypeDesc) {
        match (v, t) {
            (Value::Date(0), _) if self.legacy => out.extend_from_slice(b"0000-00-00"),
            (Value::DateTime(0), _) if self.legacy => out.extend_from_slice(b"0000-00-00 00:00:00"),
            (Value::Date(d), _) => write_date(out, i64::from(*d)),
            (Value::Date32(d), _) => write_date(out, i64::from(*d)),
            (Value::DateTime(s), t) => {
                let name = match t {
                    TypeDesc::DateTime(tz) => tz.as_deref(),
                    _ => None,
                };
                self.write_datetime(out, name, *s);
            }
            (Value::DateTime64 { ticks, precision }, t) => {
                let name = match t {
                    TypeDesc::DateTime64(_, tz) => tz.as_deref(),
                    _ => None,
                };
                if !self.instant_texts.is_empty() {
                    if let Some(text) = self.instant_texts.get(&(name.map(str::to_string), *precision, *ticks)) {
                        out.extend_from_slice(text);
                        return;
                    }
                }
                let scale = 10i64.pow(u32::from(*precision));
                let (secs, frac) = (ticks.div_euclid(scale), ticks.rem_euclid(scale));
                let local = self.local_seconds(name, secs);
                write_local_datetime(out, local);
                if *precision > 0 {
                    let _ = write!(out, ".{:0width$}", frac, width = usize::from(*precision));
                }
            }
            (Value::Time(s), _) => write_time(out, *s < 0, u64::from(s.unsigned_abs()), 0, 0),
            (Value::Time64 { ticks, precision }, _) => {
                let scale = 10u64.pow(u32::from(*precision));
                let abs = ticks.unsigned_abs();
                write_time(out, *ticks < 0, abs / scale, abs % scale, *precision);
            }
            (Value::Uuid(u), _) => {
                let h = format!("{u:032x}");
                let _ = write!(out, "{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..]);
            }
            (Value::Ipv4(a), _) => {
                let _ = write!(out, "{a}");
            }
            (Value::Ipv6(a), _) => {
                let _ = write!(out, "{a}");
            }
            (Value::Enum8(x), TypeDesc::Enum8(m)) => match m.iter().find(|(_, v)| v == x) {
                Some((n, _)) => out.extend_from_slice(n.as_bytes()),
                None => write_int(out, *x),
            },
            (Value::Enum16(x), TypeDesc::Enum16(m)) => match m.iter().find(|(_, v)| v == x) {
                Some((n, _)) => out.extend_from_slice(n.as_bytes()),
                None => write_int(out, *x),
            },
            (Value::Enum8(x), _) => write_int(out, *x),
            (Value::Enum16(x), _) => write_int(out, *x),
            (other, _) => {
                let _ = write!(out, "{other:?}");
            }
        }
    }
}

/// The type of alternative `d` of a `Variant` (or `Geometry`) type.
pub(crate) fn alternative(t: &TypeDesc, d: u8) -> TypeDesc {
    match strip(t).physical().as_ref() {
        TypeDesc::Variant(alts) => alts.get(usize::from(d)).cloned().unwrap_or(TypeDesc::Nothing),
        _ => TypeDesc::Nothing,
    }
}

pub(crate) fn strip(t: &TypeDesc) -> &TypeDesc {
    match t {
        TypeDesc::Nullable(t) | TypeDesc::LowCardinality(t) | TypeDesc::SimpleAggregateFunction(_, t) => strip(t),
        t => t,
    }
}

pub(crate) fn geo_element(t: &TypeDesc) -> TypeDesc {
    let point = TypeDesc::Point;
    match t {
        TypeDesc::Ring | TypeDesc::LineString | TypeDesc::MultiPoint => point,
        TypeDesc::QBit { element, .. } => element.as_ref().clone(),
        TypeDesc::Polygon | TypeDesc::MultiLineString => TypeDesc::Ring,
        TypeDesc::MultiPolygon => TypeDesc::Polygon,
        _ => TypeDesc::Nothing,
    }
}

pub(crate) fn write_int(out: &mut Vec<u8>, v: impl IntText) {
    v.write_text(out);
}

/// Integers as decimal text.
pub(crate) trait IntText: Copy {
    fn write_text(self, out: &mut Vec<u8>);
}

macro_rules! int_text {
    (unsigned $($t:ty),*) => {$(
        impl IntText for $t {
            #[inline]
            fn write_text(self, out: &mut Vec<u8>) {
                write_u64(out, self as u64);
            }
        }
    )*};
    (signed $($t:ty),*) => {$(
        impl IntText for $t {
            #[inline]
            fn write_text(self, out: &mut Vec<u8>) {
                if self < 0 {
                    out.push(b'-');
                }
                write_u64(out, self.unsigned_abs() as u64);
            }
        }
    )*};
    (wide $($t:ty),*) => {$(
        impl IntText for $t {
            fn write_text(self, out: &mut Vec<u8>) {
                out.extend_from_slice(itoa::Buffer::new().format(self).as_bytes());
            }
        }
    )*};
}
int_text!(unsigned u8, u16, u32, u64, usize);
int_text!(signed i8, i16, i32, i64, isize);
int_text!(wide u128, i128);

/// Pairs of decimal digits, `00` to `99`.
const DIGIT_PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// `v` in decimal. Room for the longest number is added to the output (a constant-size write), the
/// digits are written into it from the right, and the output is cut to their length: no call to
/// `memcpy` for a few bytes, and no copy through a stack buffer.
#[inline]
fn write_u64(out: &mut Vec<u8>, mut v: u64) {
    let len = v.checked_ilog10().map_or(1, |l| l as usize + 1);
    let at = out.len();
    out.extend_from_slice(&[b'0'; 20]);
    let digits = &mut out[at..at + len];
    let mut end = len;
    while v >= 100 {
        let pair = (v % 100) as usize * 2;
        v /= 100;
        end -= 2;
        digits[end..end + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    }
    if v >= 10 {
        let pair = v as usize * 2;
        digits[end - 2..end].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    } else {
        digits[end - 1] = b'0' + v as u8;
    }
    out.truncate(at + len);
}

/// The bytes [`escape`] replaces.
const ESCAPED: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 8 {
        t[b"\\'\t\n\r\0\x08\x0c"[i] as usize] = true;
        i += 1;
    }
    t
};

/// Escapes bytes as TabSeparated does.
pub fn escape(out: &mut Vec<u8>, s: &[u8]) {
    // Most texts need no escape: one pass with a table, one copy.
    if !s.iter().any(|&b| ESCAPED[usize::from(b)]) {
        out.extend_from_slice(s);
        return;
    }
    let mut start = 0;
    for (i, &b) in s.iter().enumerate() {
        let rep: &[u8] = match b {
            b'\\' => b"\\\\",
            b'\'' => b"\\'",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            0 => b"\\0",
            8 => b"\\b",
            12 => b"\\f",
            _ => continue,
        };
        out.extend_from_slice(&s[start..i]);
        out.extend_from_slice(rep);
        start = i + 1;
    }
    out.extend_from_slice(&s[start..]);
}

pub(crate) enum FloatRepr {
    F32(f32),
    F64(f64),
}

/// A small stack buffer for `write!` (float digits), so formatting a float allocates nothing.
struct StackText {
    buf: [u8; 48],
    len: usize,
}

impl StackText {
    fn new() -> Self {
        StackText { buf: [0; 48], len: 0 }
    }
    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl std::fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Shortest round-trip digits, laid out as ClickHouse does (JavaScript's rule, exponent without `+`).
pub(crate) fn write_float(out: &mut Vec<u8>, v: FloatRepr) {
    use std::fmt::Write as _;
    let (is_nan, inf, neg) = match v {
        FloatRepr::F32(x) => (x.is_nan(), x.is_infinite(), x.is_sign_negative()),
        FloatRepr::F64(x) => (x.is_nan(), x.is_infinite(), x.is_sign_negative()),
    };
    if is_nan {
        out.extend_from_slice(b"nan");
        return;
    }
    if neg {
        out.push(b'-');
    }
    if inf {
        out.extend_from_slice(b"inf");
        return;
    }
    // Shortest round-trip digits from Żmij (its text is e.g. `100.0`, `0.0001`, `1.5e-7`, `1e+16`), as
    // digits d1d2… and the exponent of d1.
    let mut digits = zmij::Buffer::new();
    let text = match v {
        FloatRepr::F32(x) => digits.format_finite(x.abs()),
        FloatRepr::F64(x) => digits.format_finite(x.abs()),
    }
    .as_bytes();
    // The binary exponent of the value's last set bit: the value is an integer when it is ≥ 0.
    let abs = match v {
        FloatRepr::F32(x) => f64::from(x.abs()),
        FloatRepr::F64(x) => x.abs(),
    };
    let bits = abs.to_bits();
    let (mantissa, exp2) = match (bits >> 52) as i32 {
        0 => (bits & ((1 << 52) - 1), -1074),
        e => ((bits & ((1 << 52) - 1)) | (1 << 52), e - 1075),
    };
    let exp2 = exp2 + mantissa.trailing_zeros() as i32;
    // Ties (see below) are impossible when the exact value has more digits than the shortest form
    // can have (exp2 < -26), or when it is an integer below 2^53 (its shortest digits are exact).
    let no_tie = exp2 < -26 || (exp2 >= 0 && abs < 9_007_199_254_740_992.0);
    // Fast path: Żmij writes plain decimal notation only for 1e-5 ≤ |x| < 1e16, where ClickHouse does
    // too, with the same digits; its integers end in `.0`, which ClickHouse does not write.
    if no_tie && !text.contains(&b'e') {
        out.extend_from_slice(text.strip_suffix(b".0").unwrap_or(text));
        return;
    }
    let e_at = text.iter().position(|&b| b == b'e').unwrap_or(text.len());
    let e10: i32 =
        std::str::from_utf8(&text[(e_at + 1).min(text.len())..]).ok().and_then(|e| e.parse().ok()).unwrap_or(0);
    let mantissa = &text[..e_at];
    let point = mantissa.iter().position(|&b| b == b'.').unwrap_or(mantissa.len()) as i32;
    let mut shortest = [0u8; 48];
    let mut k = 0;
    let mut leading_zeros = 0;
    for &b in mantissa.iter().filter(|&&b| b != b'.') {
        if k == 0 && b == b'0' {
            leading_zeros += 1;
        } else {
            shortest[k] = b;
            k += 1;
        }
    }
    while k > 1 && shortest[k - 1] == b'0' {
        k -= 1;
    }
    let (shortest, exp) = if k == 0 { (&b"0"[..], 0) } else { (&shortest[..k], e10 + point - 1 - leading_zeros) };
    // When the exact value lies exactly halfway between two shortest candidates, ClickHouse (DragonBox)
    // takes the one with the even last digit; Rust's formatter may take the other.
    // A tie needs the exact value to continue with a 5 right after the shortest digits (at most 18
    // significant digits in all). A double m·2^e (m odd) with e < -26 has at least 19 exact digits
    // (m·5^-e), so it never ties; otherwise rounding to one more digit (Grisu's exact mode, cheap) tells
    // whether that digit is a 5, and only then is the full expansion (Dragon, slow) computed.
    let may_tie = !no_tie && {
        let mut one_more = StackText::new();
        let _ = write!(one_more, "{:.*e}", shortest.len(), abs);
        let m = one_more.bytes();
        m.iter().position(|&b| b == b'e').and_then(|e| e.checked_sub(1)).map(|i| m[i]) == Some(b'5')
    };
    // DragonBox breaks a tie towards the even candidate, except for powers of two (its "shorter
    // interval" case: no significand bits, exponent bits > 1), where it takes the upper one unless the
    // binary exponent is -77 (Float64) or -35 (Float32).
    let upper_wins = match v {
        FloatRepr::F32(x) => {
            let b = x.abs().to_bits();
            let e = (b >> 23) as i32;
            b & ((1 << 23) - 1) == 0 && e > 1 && e - 150 != -35
        }
        FloatRepr::F64(x) => {
            let b = x.abs().to_bits();
            let e = (b >> 52) as i32;
            b & ((1 << 52) - 1) == 0 && e > 1 && e - 1075 != -77
        }
    };
    let tie =
        if may_tie { break_tie(shortest, exp, &format!("{:.*e}", shortest.len() + 40, abs), upper_wins) } else { None };
    let digits = tie.as_deref().unwrap_or(shortest);
    if digits == b"0" {
        out.push(b'0');
        return;
    }
    let k = digits.len() as i32;
    let n = exp + 1; // position of the decimal point relative to the digits
    if k <= n && n <= 21 {
        out.extend_from_slice(digits);
        out.extend(std::iter::repeat_n(b'0', (n - k) as usize));
    } else if 0 < n && n <= 21 {
        out.extend_from_slice(&digits[..n as usize]);
        out.push(b'.');
        out.extend_from_slice(&digits[n as usize..]);
    } else if -6 < n && n <= 0 {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', (-n) as usize));
        out.extend_from_slice(digits);
    } else {
        out.push(digits[0]);
        if k > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        let _ = write!(out, "e{}", n - 1);
    }
}

/// If `exact` (scientific, many digits) is exactly halfway between `digits` and its neighbour in the
/// last place, returns the neighbour when it is the one to print: the upper one when `upper_wins`,
/// else the even one.
fn break_tie(digits: &[u8], exp: i32, exact: &str, upper_wins: bool) -> Option<Vec<u8>> {
    let (m, e) = exact.split_once('e')?;
    if e.parse::<i32>().ok()? != exp {
        return None;
    }
    let all: Vec<u8> = m.bytes().filter(|b| *b != b'.').collect();
    let k = digits.len();
    let rest = all.get(k..)?;
    if rest.first() != Some(&b'5') || rest[1..].iter().any(|b| *b != b'0') {
        return None;
    }
    let lower = &all[..k];
    let have_upper = lower != digits;
    if upper_wins {
        if have_upper {
            return None;
        }
    } else {
        let last = *digits.last()?;
        if (last - b'0') % 2 == 0 {
            return None;
        }
        if have_upper {
            // The shortest digits were rounded up to an odd digit: the even candidate is the lower one.
            return Some(lower.to_vec());
        }
    }
    // The lower candidate was taken and the upper one is wanted (with carries).
    let mut up = lower.to_vec();
    let mut i = up.len();
    while i > 0 {
        i -= 1;
        if up[i] == b'9' {
            up[i] = b'0';
        } else {
            up[i] += 1;
            return Some(up);
        }
    }
    None
}

/// Writes an unscaled decimal integer (as text, optionally with a leading `-`) with `scale` fractional
/// digits, dropping trailing fractional zeros when `trim` is set.
fn write_decimal(out: &mut Vec<u8>, unscaled: &str, scale: u8, trim: bool) {
    let (neg, digits) = match unscaled.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, unscaled),
    };
    let scale = usize::from(scale);
    let padded = if digits.len() <= scale {
        format!("{}{}", "0".repeat(scale + 1 - digits.len()), digits)
    } else {
        digits.to_string()
    };
    let (int, frac) = padded.split_at(padded.len() - scale);
    let frac = if trim { frac.trim_end_matches('0') } else { frac };
    if neg && !(int.trim_start_matches('0').is_empty() && frac.is_empty()) {
        out.push(b'-');
    }
    out.extend_from_slice(int.as_bytes());
    if !frac.is_empty() {
        out.push(b'.');
        out.extend_from_slice(frac.as_bytes());
    }
}

/// Little-endian 256-bit limbs to decimal text (two's complement when `signed`).
pub fn wide_to_decimal(limbs: &[u64; 4], signed: bool) -> String {
    let mut l = *limbs;
    let neg = signed && (l[3] >> 63) == 1;
    if neg {
        // Two's complement negate.
        let mut carry = 1u128;
        for x in l.iter_mut() {
            let v = u128::from(!*x) + carry;
            *x = v as u64;
            carry = v >> 64;
        }
    }
    let mut digits = Vec::new();
    while l.iter().any(|&x| x != 0) {
        let mut rem = 0u128;
        for x in l.iter_mut().rev() {
            let cur = (rem << 64) | u128::from(*x);
            *x = (cur / 10) as u64;
            rem = cur % 10;
        }
        digits.push(b'0' + rem as u8);
    }
    if digits.is_empty() {
        digits.push(b'0');
    }
    if neg {
        digits.push(b'-');
    }
    digits.reverse();
    String::from_utf8(digits).unwrap_or_default()
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (Howard Hinnant's algorithm).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn write_date(out: &mut Vec<u8>, days: i64) {
    // Consecutive values are mostly on the same day: the last day's text is kept (per thread).
    thread_local!(static LAST: std::cell::Cell<(i64, [u8; 10])> = const { std::cell::Cell::new((i64::MIN, [0; 10])) });
    let (last, text) = LAST.get();
    if last == days {
        out.extend_from_slice(&text);
        return;
    }
    let (y, m, d) = civil_from_days(days);
    if (0..=9999).contains(&y) {
        let at = out.len();
        two_digits(out, y / 100);
        two_digits(out, y % 100);
        out.push(b'-');
        two_digits(out, i64::from(m));
        out.push(b'-');
        two_digits(out, i64::from(d));
        if let Ok(text) = <[u8; 10]>::try_from(&out[at..]) {
            LAST.set((days, text));
        }
    } else {
        let _ = write!(out, "{y:04}-{m:02}-{d:02}");
    }
}

/// Local seconds since the epoch as `YYYY-MM-DD hh:mm:ss`.
fn write_local_datetime(out: &mut Vec<u8>, local: i64) {
    // The server writes years 0000–9999 only: an instant outside them shows as the nearest end.
    let local = local.clamp(-62_167_219_200, 253_402_300_799);
    let (days, sod) = (local.div_euclid(86_400), local.rem_euclid(86_400));
    write_date(out, days);
    out.push(b' ');
    two_digits(out, sod / 3600);
    out.push(b':');
    two_digits(out, sod % 3600 / 60);
    out.push(b':');
    two_digits(out, sod % 60);
}

/// `n` (0..=99) as two digits.
fn two_digits(out: &mut Vec<u8>, n: i64) {
    out.extend_from_slice(&[b'0' + (n / 10) as u8, b'0' + (n % 10) as u8]);
}

fn write_time(out: &mut Vec<u8>, negative: bool, secs: u64, frac: u64, precision: u8) {
    if negative {
        out.push(b'-');
    }
    let _ = write!(out, "{:02}:{:02}:{:02}", secs / 3600, secs % 3600 / 60, secs % 60);
    if precision > 0 {
        let _ = write!(out, ".{:0width$}", frac, width = usize::from(precision));
    }
}

/// A `Value` shows as ClickHouse's `TabSeparated` text of it (the renderer above), for the type the
/// value implies: a value carries no time zone or enum names, so `DateTime`s show in UTC and enums as
/// their numbers; render with [`TextRenderer`] and the column's type for the server's exact text.
impl std::fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = Vec::new();
        TextRenderer::new("UTC").write_tsv(&mut out, self, &self.implied_type());
        f.write_str(&String::from_utf8_lossy(&out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(x: f64) -> String {
        let mut o = Vec::new();
        write_float(&mut o, FloatRepr::F64(x));
        String::from_utf8(o).unwrap()
    }

    #[test]
    fn floats_as_the_server_prints_them() {
        // Renderings taken from ClickHouse 26.9 (SELECT 1e-7, 1e20, 1e21, 123456789.125, -0., …).
        assert_eq!(f(1e-7), "1e-7");
        assert_eq!(f(1e20), "100000000000000000000");
        assert_eq!(f(1e21), "1e21");
        assert_eq!(f(123456789.125), "123456789.125");
        assert_eq!(f(-0.0), "-0");
        assert_eq!(f(f64::NAN), "nan");
        assert_eq!(f(f64::NEG_INFINITY), "-inf");
        assert_eq!(f(1.5), "1.5");
        // A Float32 exactly halfway between two shortest candidates: the server prints the even one.
        let mut o = Vec::new();
        write_float(&mut o, FloatRepr::F32(196_345.12_f32));
        assert_eq!(o, b"196345.12");
    }

    #[test]
    fn decimals_and_wide_integers() {
        let mut o = Vec::new();
        write_decimal(&mut o, "-100", 5, true);
        assert_eq!(o, b"-0.001");
        let mut o = Vec::new();
        write_decimal(&mut o, "15000", 4, true);
        assert_eq!(o, b"1.5");
        let mut o = Vec::new();
        write_decimal(&mut o, "0", 3, true);
        assert_eq!(o, b"0");
        assert_eq!(wide_to_decimal(&[u64::MAX; 4], true), "-1");
        assert_eq!(
            wide_to_decimal(&[u64::MAX; 4], false),
            "115792089237316195423570985008687907853269984665640564039457584007913129639935"
        );
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(-25567), (1900, 1, 1));
        assert_eq!(civil_from_days(18_262), (2020, 1, 1));
    }

    #[test]
    fn integers_written_with_fixed_size_copies_are_the_decimal_text() {
        let mut edges: Vec<u64> = vec![0, 1, 9, 10, 99, 100, 101, 999, 1000, u64::MAX, u64::MAX - 1];
        for p in 1..20 {
            let t = 10u64.pow(p);
            edges.extend([t - 1, t, t + 1]);
        }
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..10_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            edges.push(x >> (x % 64));
        }
        let mut out = b"prefix".to_vec();
        for &v in &edges {
            out.truncate(6);
            write_int(&mut out, v);
            assert_eq!(&out[6..], v.to_string().as_bytes());
            out.truncate(6);
            write_int(&mut out, v as i64);
            assert_eq!(&out[6..], (v as i64).to_string().as_bytes());
            out.truncate(6);
            write_int(&mut out, v as u32);
            assert_eq!(&out[6..], (v as u32).to_string().as_bytes());
        }
        out.truncate(6);
        write_int(&mut out, i64::MIN);
        assert_eq!(&out[6..], i64::MIN.to_string().as_bytes());
        out.truncate(6);
        write_int(&mut out, i8::MIN);
        assert_eq!(&out[6..], b"-128");
    }
}
