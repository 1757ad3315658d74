//! A `JSON` column sent as JSON text (a `String` column in the Native block), which the server parses
//! into the table's `JSON` type exactly as it parses the same text in `INSERT … FORMAT JSONEachRow`:
//! the paths' types are the server's own inference (`Int64` for integers, `Date` for date-like strings,
//! `Array(Dynamic)` for mixed arrays, …), not guesses made here. Used by serde inserts, and by inserts of
//! values whose JSON values are text or maps (the Python driver's `str` and `dict`).

use crate::format::TextRenderer;
use crate::native::{ColumnEncoder, ValueBuilder, builder_for};
use crate::types::TypeDesc;
use crate::value::{JsonNode, Value};
use std::borrow::Cow;

/// The builder of one JSON column's text.
pub(crate) struct JsonText {
    strings: Box<dyn ValueBuilder>,
    text: Vec<u8>,
    renderer: TextRenderer,
}

impl JsonText {
    pub(crate) fn new(server_tz: &str) -> crate::error::Result<Self> {
        Ok(JsonText {
            strings: builder_for(&TypeDesc::String)?,
            text: Vec::new(),
            renderer: TextRenderer::new(server_tz),
        })
    }
}

impl ColumnEncoder for JsonText {
    fn type_name(&self) -> Cow<'_, str> {
        Cow::Borrowed("String")
    }
    fn rows(&self) -> usize {
        self.strings.rows()
    }
    fn encode(&self, out: &mut Vec<u8>) {
        self.strings.encode(out)
    }
    fn clear(&mut self) {
        self.strings.clear()
    }
}

impl ValueBuilder for JsonText {
    fn push(&mut self, v: &Value<'_>) -> Result<(), String> {
        self.text.clear();
        match v {
            // JSON text given as it is (a `String` field for a JSON column).
            Value::String(text) => return self.strings.push(&Value::String(Cow::Borrowed(text))),
            Value::Null => self.text.extend_from_slice(b"{}"),
            Value::Json(_) => {
                let tree = v.json_tree().unwrap_or_default();
                object(&mut self.text, &tree, &mut self.renderer);
            }
            // A map is an object (a Python `dict`).
            Value::Map(_) => value(&mut self.text, v, &mut self.renderer),
            other => return Err(format!("a JSON column takes an object (a struct or a map), got {other:?}")),
        }
        self.strings.push(&Value::String(Cow::Borrowed(&self.text)))
    }
    fn push_default(&mut self) {
        let _ = self.strings.push(&Value::String(Cow::Borrowed(b"{}")));
    }
    fn truncate(&mut self, rows: usize) {
        self.strings.truncate(rows)
    }
}

fn object(out: &mut Vec<u8>, nodes: &[JsonNode<'_, '_>], r: &mut TextRenderer) {
    out.push(b'{');
    for (i, n) in nodes.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        crate::format::json::json_string(out, n.segment.as_bytes());
        out.push(b':');
        match n.value {
            Some(v) if n.children.is_empty() => value(out, v, r),
            _ => object(out, &n.children, r),
        }
    }
    out.push(b'}');
}

/// A value as JSON: numbers as numbers (never quoted), text as strings, composites as arrays and
/// objects, other scalars (dates, UUIDs, decimals made from typed paths' text) as the server's text.
fn value(out: &mut Vec<u8>, v: &Value<'_>, r: &mut TextRenderer) {
    use crate::format::text::write_int;
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::UInt8(x) => write_int(out, *x),
        Value::UInt16(x) => write_int(out, *x),
        Value::UInt32(x) => write_int(out, *x),
        Value::UInt64(x) => write_int(out, *x),
        Value::UInt128(x) => write_int(out, *x),
        Value::Int8(x) => write_int(out, *x),
        Value::Int16(x) => write_int(out, *x),
        Value::Int32(x) => write_int(out, *x),
        Value::Int64(x) => write_int(out, *x),
        Value::Int128(x) => write_int(out, *x),
        Value::Float32(x) if x.is_finite() => {
            crate::format::text::write_float(out, crate::format::text::FloatRepr::F32(*x))
        }
        Value::Float64(x) if x.is_finite() => {
            crate::format::text::write_float(out, crate::format::text::FloatRepr::F64(*x))
        }
        Value::Float32(_) | Value::Float64(_) => out.extend_from_slice(b"null"),
        Value::String(s) | Value::FixedString(s) => crate::format::json::json_string(out, s),
        Value::Array(items) | Value::Tuple(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                value(out, item, r);
            }
            out.push(b']');
        }
        Value::Map(entries) => {
            out.push(b'{');
            for (i, (k, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                let mut key = Vec::new();
                match k {
                    Value::String(s) => key.extend_from_slice(s),
                    k => r.write_tsv(&mut key, k, &k.implied_type()),
                }
                crate::format::json::json_string(out, &key);
                out.push(b':');
                value(out, item, r);
            }
            out.push(b'}');
        }
        Value::Json(_) => object(out, &v.json_tree().unwrap_or_default(), r),
        Value::Dynamic { ty, value: inner } if needs_text(inner) => {
            let mut text = Vec::new();
            r.write_tsv(&mut text, inner, ty);
            crate::format::json::json_string(out, &text);
        }
        Value::Variant { value: inner, .. } | Value::Dynamic { value: inner, .. } => value(out, inner, r),
        other => {
            let mut text = Vec::new();
            r.write_tsv(&mut text, other, &other.implied_type());
            crate::format::json::json_string(out, &text);
        }
    }
}

/// Scalars JSON has no form for, written as the server's text of them.
fn needs_text(v: &Value<'_>) -> bool {
    matches!(
        v,
        Value::Date(_)
            | Value::Date32(_)
            | Value::DateTime(_)
            | Value::DateTime64 { .. }
            | Value::Time(_)
            | Value::Time64 { .. }
            | Value::Uuid(_)
            | Value::Ipv4(_)
            | Value::Ipv6(_)
            | Value::Decimal { .. }
            | Value::Decimal256 { .. }
            | Value::Enum8(_)
            | Value::Enum16(_)
            | Value::UInt256(_)
            | Value::Int256(_)
            | Value::BFloat16(_)
            | Value::Interval(_)
    )
}
