//! ClickHouse's `JSONEachRow` rendering of values (26.9 defaults), checked against the server by the
//! differential tests.
//!
//! - integers of every width, floats and decimals are bare numbers (floats as in the text formats);
//!   `nan` and `±inf` become `null`; Bool is `true`/`false`;
//! - strings, FixedString, dates and times, UUIDs, addresses and enum names are JSON strings: `"`, `\`
//!   and `/` are escaped (`\/`), as are `\b \f \n \r \t`, other bytes below 0x20 as `\u00XX` (upper-case hex); other
//!   bytes (including invalid UTF-8) pass through unchanged;
//! - with [`TextRenderer::with_legacy_formatting`] (18.16): 64-bit and wider integers are quoted, and
//!   decimals and zero dates follow the legacy text forms;
//! - NULL is `null`; arrays and unnamed tuples are arrays; named tuples and maps are objects (map keys as
//!   their text).

use super::text::{TextRenderer, alternative, geo_element, strip};
use crate::types::TypeDesc;
use crate::value::Value;

impl TextRenderer {
    /// Writes one value as `JSONEachRow` does.
    pub fn write_json(&mut self, out: &mut Vec<u8>, v: &Value<'_>, t: &TypeDesc) {
        let t = strip(t);
        match (v, t) {
            (Value::Null, _) => out.extend_from_slice(b"null"),
            (Value::Float32(_) | Value::Float64(_) | Value::BFloat16(_), _) if !finite(v) => {
                if self.json_quote_denormals() {
                    out.push(b'"');
                    self.write_tsv(out, v, t);
                    out.push(b'"');
                } else {
                    out.extend_from_slice(b"null");
                }
            }
            (Value::String(s) | Value::FixedString(s), _) => json_string(out, s),
            (Value::Variant { discriminator, value }, t) => {
                let alt = alternative(t, *discriminator);
                self.write_json(out, value, &alt)
            }
            (Value::Dynamic { ty, value }, _) => self.write_json(out, value, ty),
            (Value::Json(_), _) => {
                let tree = v.json_tree().unwrap_or_default();
                self.write_json_object(out, &tree);
            }
            // 18.16 quotes 64-bit (and wider) integers; 26.9 prints them bare.
            (
                Value::UInt64(_)
                | Value::Int64(_)
                | Value::UInt128(_)
                | Value::Int128(_)
                | Value::UInt256(_)
                | Value::Int256(_),
                t,
            ) if self.legacy() => {
                out.push(b'"');
                self.write_number(out, v, t);
                out.push(b'"');
            }
            // 26.9 writes a QBit's numbers as in text, `nan` and `inf` bare.
            (Value::Array(items), TypeDesc::QBit { element, .. }) => {
                out.push(b'[');
                for (i, x) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    self.write_tsv(out, x, element);
                }
                out.push(b']');
            }
            (Value::Array(items), t) => {
                let inner = match t {
                    TypeDesc::Array(inner) => inner.as_ref().clone(),
                    // Its rows are named tuples: objects.
                    TypeDesc::Nested(fields) => {
                        TypeDesc::Tuple(fields.iter().map(|(n, t)| (Some(n.clone()), t.clone())).collect())
                    }
                    geo => geo_element(geo),
                };
                out.push(b'[');
                for (i, x) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    self.write_json(out, x, &inner);
                }
                out.push(b']');
            }
            (Value::Tuple(items), TypeDesc::Tuple(elems)) if elems.iter().all(|(n, _)| n.is_some()) => {
                out.push(b'{');
                for (i, (x, (n, t))) in items.iter().zip(elems).enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    json_string(out, n.as_deref().unwrap_or_default().as_bytes());
                    out.push(b':');
                    self.write_json(out, x, t);
                }
                out.push(b'}');
            }
            (Value::Tuple(items), t) => {
                let types: Vec<TypeDesc> = match t {
                    TypeDesc::Tuple(elems) => elems.iter().map(|(_, t)| t.clone()).collect(),
                    _ => vec![TypeDesc::Float64; items.len()],
                };
                out.push(b'[');
                for (i, x) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    self.write_json(out, x, types.get(i).unwrap_or(&TypeDesc::Nothing));
                }
                out.push(b']');
            }
            (Value::Map(entries), t) => {
                let (kt, vt) = match t {
                    TypeDesc::Map(k, v) => (k.as_ref().clone(), v.as_ref().clone()),
                    _ => (TypeDesc::Nothing, TypeDesc::Nothing),
                };
                out.push(b'{');
                let mut key = Vec::new();
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    key.clear();
                    self.write_json_key(&mut key, k, &kt);
                    json_string(out, &key);
                    out.push(b':');
                    self.write_json(out, v, &vt);
                }
                out.push(b'}');
            }
            (v, t) => {
                if !self.write_number(out, v, t) {
                    // Dates, UUIDs, addresses need no escaping: written in place, and escaped after
                    // the fact only when the text needs it (an enum name with a quote, …).
                    let start = out.len();
                    out.push(b'"');
                    self.write_plain(out, v, t);
                    if out[start + 1..].iter().any(|&b| b < 0x20 || matches!(b, b'"' | b'\\' | b'/' | 0xE2)) {
                        let text = out.split_off(start + 1);
                        out.truncate(start);
                        json_string(out, &text);
                    } else {
                        out.push(b'"');
                    }
                }
            }
        }
    }

    /// Writes a JSON object's paths as nested objects (keys in path order).
    fn write_json_object(&mut self, out: &mut Vec<u8>, nodes: &[crate::value::JsonNode<'_, '_>]) {
        out.push(b'{');
        for (i, node) in nodes.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            json_string(out, node.segment.as_bytes());
            out.push(b':');
            match node.value {
                Some(v) => self.write_json(out, v, &v.implied_type()),
                None => self.write_json_object(out, &node.children),
            }
        }
        out.push(b'}');
    }

    /// Writes one row as a `JSONEachRow` line (without the newline).
    pub fn write_json_row<N: AsRef<[u8]>>(
        &mut self,
        out: &mut Vec<u8>,
        names: &[N],
        values: &[Value<'_>],
        types: &[TypeDesc],
    ) {
        out.push(b'{');
        for (i, ((n, v), t)) in names.iter().zip(values).zip(types).enumerate() {
            if i > 0 {
                out.push(b',');
            }
            json_string(out, n.as_ref());
            out.push(b':');
            self.write_json(out, v, t);
        }
        out.push(b'}');
    }
}

fn finite(v: &Value<'_>) -> bool {
    match *v {
        Value::Float32(x) => x.is_finite(),
        Value::Float64(x) => x.is_finite(),
        Value::BFloat16(b) => f32::from_bits(u32::from(b) << 16).is_finite(),
        _ => true,
    }
}

/// Writes `s` as a JSON string the way ClickHouse does.
pub fn json_string(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    let mut start = 0;
    for (i, &b) in s.iter().enumerate() {
        let rep: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'/' => b"\\/",
            b'\n' => b"\\n",
            b'\t' => b"\\t",
            b'\r' => b"\\r",
            8 => b"\\b",
            12 => b"\\f",
            // U+2028 and U+2029 (line and paragraph separators) are escaped, as the server does.
            0xE2 if s.get(i + 1) == Some(&0x80) && matches!(s.get(i + 2), Some(0xA8 | 0xA9)) => {
                out.extend_from_slice(&s[start..i]);
                out.extend_from_slice(if s[i + 2] == 0xA8 { b"\\u2028" } else { b"\\u2029" });
                start = i + 3;
                continue;
            }
            0..=0x1f => {
                out.extend_from_slice(&s[start..i]);
                out.extend_from_slice(format!("\\u{:04X}", b).as_bytes());
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&s[start..i]);
        out.extend_from_slice(rep);
        start = i + 1;
    }
    out.extend_from_slice(&s[start..]);
    out.push(b'"');
}
