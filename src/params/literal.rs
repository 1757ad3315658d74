//! Values as ClickHouse SQL literals, for client-side binding.
//!
//! Every literal is one token or one function call whose arguments are literals, so it can never end
//! early and let the rest of a value run as SQL: strings are single-quoted with `\\`, `\'` and every
//! control, DEL and non-UTF-8 byte written as `\xHH` (which the server's lexer turns back into that byte);
//! the result is always valid UTF-8 and ASCII-only outside string contents.
//!
//! | value | literal |
//! |---|---|
//! | `Null` | `NULL` |
//! | `Bool` | `true` / `false` |
//! | integers that fit 64 bits, enums, intervals | digits: `42`, `-7` |
//! | wider integers | `toUInt128('…')`, `toInt256('…')`, … (a bare literal that large would be a float) |
//! | floats | shortest round-trip digits with a `.` or exponent, `nan`, `inf`, `-inf` (a `Float32` is written as the `Float64` it widens to, exact) |
//! | decimals | `toDecimal128('12.345', 3)`, `toDecimal256(…)` (exact, not via a float) |
//! | strings, fixed strings | `'it\'s'` |
//! | dates, times, UUIDs, IPv4/IPv6 | their text, quoted: `'2022-10-01'`, `'68.61.4.254'` |
//! | date-times | `toDateTime('2022-10-01 15:20:05', 'UTC')`, `toDateTime64('…', 3, 'UTC')` — the instant, whatever the time zone of the column it meets |
//! | arrays, tuples, maps | `[…]`, `(…)` / `tuple(…)`, `map(k, v, …)` |
//!
//! A naive date-time (`jiff::civil::DateTime`) is not an instant: it becomes the string
//! `'2022-10-01 15:20:05'`, which the server reads in the column's or its own time zone.

use crate::format::TextRenderer;
use crate::types::TypeDesc;
use crate::value::Value;
use std::fmt::Write;

/// Writes values as SQL literals (keeps a UTC renderer for dates and numbers between calls).
pub struct LiteralWriter {
    text: TextRenderer,
    scratch: Vec<u8>,
}

impl Default for LiteralWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl LiteralWriter {
    /// A writer.
    pub fn new() -> Self {
        LiteralWriter { text: TextRenderer::new("UTC"), scratch: Vec::new() }
    }

    /// Appends `v` as a literal to `out`.
    pub fn write(&mut self, out: &mut String, v: &Value<'_>) {
        match v {
            Value::Null => out.push_str("NULL"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::UInt8(x) => push(out, x),
            Value::UInt16(x) => push(out, x),
            Value::UInt32(x) => push(out, x),
            Value::UInt64(x) => push(out, x),
            Value::Int8(x) => push(out, x),
            Value::Int16(x) => push(out, x),
            Value::Int32(x) => push(out, x),
            Value::Int64(x) => push(out, x),
            Value::Enum8(x) => push(out, x),
            Value::Enum16(x) => push(out, x),
            Value::Interval(x) => push(out, x),
            Value::UInt128(x) => match u64::try_from(*x) {
                Ok(small) => push(out, small),
                Err(_) => {
                    let _ = write!(out, "toUInt128('{x}')");
                }
            },
            Value::Int128(x) => match i64::try_from(*x) {
                Ok(small) => push(out, small),
                Err(_) => {
                    let _ = write!(out, "toInt128('{x}')");
                }
            },
            Value::UInt256(_) => self.wrapped(out, "toUInt256('", v, &TypeDesc::UInt256, "')"),
            Value::Int256(_) => self.wrapped(out, "toInt256('", v, &TypeDesc::Int256, "')"),
            Value::Float64(x) => push_float(out, *x),
            Value::Float32(x) => push_float(out, f64::from(*x)),
            Value::BFloat16(bits) => push_float(out, f64::from(f32::from_bits(u32::from(*bits) << 16))),
            Value::Decimal { scale, .. } => {
                let t = TypeDesc::Decimal { precision: 38, scale: *scale };
                self.wrapped(out, "toDecimal128('", v, &t, "', ");
                push(out, scale);
                out.push(')');
            }
            Value::Decimal256 { scale, .. } => {
                let t = TypeDesc::Decimal { precision: 76, scale: *scale };
                self.wrapped(out, "toDecimal256('", v, &t, "', ");
                push(out, scale);
                out.push(')');
            }
            Value::String(s) | Value::FixedString(s) => write_string(out, s),
            Value::Uuid(_) => self.wrapped(out, "'", v, &TypeDesc::Uuid, "'"),
            Value::Ipv4(a) => {
                let _ = write!(out, "'{a}'");
            }
            Value::Ipv6(a) => {
                let _ = write!(out, "'{a}'");
            }
            Value::Date(_) => self.wrapped(out, "'", v, &TypeDesc::Date, "'"),
            Value::Date32(_) => self.wrapped(out, "'", v, &TypeDesc::Date32, "'"),
            Value::Time(_) => self.wrapped(out, "'", v, &TypeDesc::Time, "'"),
            Value::Time64 { precision, .. } => self.wrapped(out, "'", v, &TypeDesc::Time64(*precision), "'"),
            Value::DateTime(_) => {
                self.wrapped(out, "toDateTime('", v, &TypeDesc::DateTime(Some("UTC".into())), "', 'UTC')")
            }
            Value::DateTime64 { precision, .. } => {
                let t = TypeDesc::DateTime64(*precision, Some("UTC".into()));
                self.wrapped(out, "toDateTime64('", v, &t, "', ");
                push(out, precision);
                out.push_str(", 'UTC')");
            }
            // A variant's value with the type it implies: a bare `1` is a UInt8, which converts to no
            // Variant that lacks UInt8.
            Value::Variant { value, .. } => {
                out.push_str("CAST(");
                self.write(out, value);
                out.push_str(", ");
                write_string(out, value.implied_type().to_string().as_bytes());
                out.push(')');
            }
            Value::Dynamic { ty, value } => {
                out.push_str("CAST(");
                self.write(out, value);
                out.push_str(", ");
                write_string(out, ty.to_string().as_bytes());
                out.push(')');
            }
            Value::Json(_) => {
                let mut text = Vec::new();
                self.text.write_json(&mut text, v, &TypeDesc::Json(Box::default()));
                out.push_str("CAST(");
                write_string(out, &text);
                out.push_str(", 'JSON')");
            }
            Value::Array(items) => {
                out.push('[');
                self.list(out, items.iter());
                out.push(']');
            }
            Value::Tuple(items) => {
                // `(x)` is just `x` in parentheses: one-element (and empty) tuples need the function.
                out.push_str(if items.len() == 1 || items.is_empty() { "tuple(" } else { "(" });
                self.list(out, items.iter());
                out.push(')');
            }
            Value::Map(entries) => {
                out.push_str("map(");
                self.list(out, entries.iter().flat_map(|(k, v)| [k, v]));
                out.push(')');
            }
        }
    }

    /// Appends `v`, a value of type `t`, as a literal whose type the server cannot infer differently:
    /// every empty array is written as `CAST([], 'Array(…)')`, because a bare `[]` inside an array
    /// lowers the literal's dimension (`[[]]` is two-dimensional even where `Array(Array(Array(T)))` is
    /// meant) and the server then refuses the CAST to the intended type.
    pub fn write_typed(&mut self, out: &mut String, v: &Value<'_>, t: &TypeDesc) {
        let t = crate::format::text::strip(t);
        match (v, t) {
            // A variant's value as its alternative (a tuple does not convert to Geometry, a Point does).
            (Value::Variant { discriminator, value }, t) => {
                let alt = crate::format::text::alternative(t, *discriminator);
                out.push_str("CAST(");
                self.write_typed(out, value, &alt);
                out.push_str(", ");
                write_string(out, alt.to_string().as_bytes());
                out.push(')');
            }
            (Value::Array(items), _) if items.is_empty() => {
                out.push_str("CAST([], ");
                write_string(out, t.to_string().as_bytes());
                out.push(')');
            }
            (Value::Array(items), _) => {
                let inner = match t {
                    TypeDesc::Array(inner) => inner.as_ref().clone(),
                    geo => crate::format::text::geo_element(geo),
                };
                out.push('[');
                for (i, x) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    self.write_typed(out, x, &inner);
                }
                out.push(']');
            }
            (Value::Tuple(items), TypeDesc::Tuple(types)) if items.len() == types.len() => {
                out.push_str(if items.len() == 1 { "tuple(" } else { "(" });
                for (i, (x, (_, t))) in items.iter().zip(types).enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    self.write_typed(out, x, t);
                }
                out.push(')');
            }
            (Value::Map(entries), TypeDesc::Map(kt, vt)) => {
                out.push_str("map(");
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    self.write_typed(out, k, kt);
                    out.push_str(", ");
                    self.write_typed(out, v, vt);
                }
                out.push(')');
            }
            _ => self.write(out, v),
        }
    }

    fn list<'v, 'a: 'v>(&mut self, out: &mut String, items: impl Iterator<Item = &'v Value<'a>>) {
        for (i, x) in items.enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            self.write(out, x);
        }
    }

    /// `before`, the value's ClickHouse text (ASCII for every type this is used for), `after`.
    fn wrapped(&mut self, out: &mut String, before: &str, v: &Value<'_>, t: &TypeDesc, after: &str) {
        self.scratch.clear();
        self.text.write_tsv(&mut self.scratch, v, t);
        out.push_str(before);
        out.push_str(&String::from_utf8_lossy(&self.scratch));
        out.push_str(after);
    }
}

/// The value as a literal, in a new string.
pub fn literal(v: &Value<'_>) -> String {
    let mut out = String::new();
    LiteralWriter::new().write(&mut out, v);
    out
}

fn push(out: &mut String, x: impl std::fmt::Display) {
    let _ = write!(out, "{x}");
}

/// Rust's `{:?}` is the shortest text that reads back as the same `f64` and always has a `.` or an
/// exponent, so the server reads a float (`-0.0` stays negative zero, `1e300` is not an integer).
fn push_float(out: &mut String, x: f64) {
    if x.is_nan() {
        out.push_str("nan");
    } else if x.is_infinite() {
        out.push_str(if x < 0.0 { "-inf" } else { "inf" });
    } else {
        let _ = write!(out, "{x:?}");
    }
}

/// A single-quoted string literal: `\\`, `\'`, and `\xHH` for control bytes, DEL, `$` (a query may open a
/// `$$` heredoc that a `$$` inside the value would close) and bytes that are not valid UTF-8; everything
/// else (including non-ASCII text) as is.
pub fn write_string(out: &mut String, s: &[u8]) {
    out.push('\'');
    for chunk in s.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\'' => out.push_str("\\'"),
                // `$` could close a heredoc opened (and left open) in the query around the value.
                c if c.is_ascii_control() || c == '$' => {
                    let _ = write!(out, "\\x{:02X}", c as u32);
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02X}");
        }
    }
    out.push('\'');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_of_each_kind() {
        let cases: Vec<(Value<'static>, &str)> = vec![
            (Value::Null, "NULL"),
            (Value::Int8(-7), "-7"),
            (Value::UInt128(5), "5"),
            (Value::UInt128(u128::MAX), "toUInt128('340282366920938463463374607431768211455')"),
            (Value::Float64(-0.0), "-0.0"),
            (Value::Float64(1e300), "1e300"),
            (Value::Float64(f64::NEG_INFINITY), "-inf"),
            (Value::Float32(0.1), "0.10000000149011612"),
            (Value::Decimal { raw: -12345, scale: 3 }, "toDecimal128('-12.345', 3)"),
            (Value::from(&b"it's\\\n\0\xff"[..]), "'it\\'s\\\\\\x0A\\x00\\xFF'"),
            (Value::from("$$"), "'\\x24\\x24'"),
            (Value::Ipv4(std::net::Ipv4Addr::from(0x443d04fe)), "'68.61.4.254'"),
            (Value::DateTime(1_664_637_605), "toDateTime('2022-10-01 15:20:05', 'UTC')"),
            (
                Value::DateTime64 { ticks: 1_664_637_605_123, precision: 3 },
                "toDateTime64('2022-10-01 15:20:05.123', 3, 'UTC')",
            ),
            (Value::Tuple(vec![Value::UInt8(1)]), "tuple(1)"),
            (Value::Tuple(vec![Value::UInt8(1), Value::Null]), "(1, NULL)"),
            (Value::Map(vec![(Value::from("k"), Value::Array(vec![]))]), "map('k', [])"),
        ];
        for (v, want) in cases {
            assert_eq!(literal(&v), want, "{v:?}");
        }
        let t = TypeDesc::parse("Array(Array(Array(Nullable(String))))").unwrap();
        let mut out = String::new();
        LiteralWriter::new().write_typed(&mut out, &Value::Array(vec![Value::Array(vec![])]), &t);
        assert_eq!(out, "[CAST([], 'Array(Array(Nullable(String)))')]");
    }
}
