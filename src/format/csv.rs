//! ClickHouse's `CSV` rendering of values, checked against the server by the differential tests.
//!
//! - numbers, decimals, `nan`/`inf` and Bool (`true`/`false`) are bare; NULL is a bare `\N`;
//! - strings and everything else with a text form (dates, UUIDs, addresses, enum names) are in double
//!   quotes, `"` doubled, bytes otherwise as they are (newlines included);
//! - arrays and maps are their quoted text (`[1,'a']`) in double quotes;
//! - a tuple is not one field: its elements are separate fields, recursively (`Point` is two fields).

use super::text::{TextRenderer, strip};
use crate::types::TypeDesc;
use crate::value::Value;

impl TextRenderer {
    /// Writes one column's value as `CSV` does: one field, or a tuple's fields separated by `,`.
    pub fn write_csv(&mut self, out: &mut Vec<u8>, v: &Value<'_>, t: &TypeDesc) {
        // A Nullable tuple is not spread over fields: its text form, quoted (as arrays and maps are).
        if let (TypeDesc::Nullable(inner), Value::Tuple(_)) = (t, v) {
            let mut text = Vec::new();
            self.write_tsv(&mut text, v, inner);
            csv_quote(out, &text);
            return;
        }
        let t = strip(t);
        match (v, t) {
            (Value::Null, _) => out.extend_from_slice(b"\\N"),
            (Value::Variant { discriminator, value }, t) => {
                let alt = super::text::alternative(t, *discriminator);
                self.write_csv(out, value, &alt);
            }
            (Value::Dynamic { ty, value }, _) => self.write_csv(out, value, ty),
            (Value::Json(_), t) => {
                let mut text = Vec::new();
                self.write_json(&mut text, v, t);
                csv_quote(out, &text);
            }
            (Value::Tuple(items), TypeDesc::Tuple(types)) => {
                for (i, (x, (_, et))) in items.iter().zip(types).enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    self.write_csv(out, x, et);
                }
            }
            (Value::Tuple(items), TypeDesc::Point) => {
                for (i, x) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    self.write_csv(out, x, &TypeDesc::Float64);
                }
            }
            (Value::String(s) | Value::FixedString(s), _) => csv_quote(out, s),
            // 26.9 writes a QBit in CSV as its text, unquoted.
            (Value::Array(_), TypeDesc::QBit { .. }) => self.write_tsv(out, v, t),
            (Value::Array(_) | Value::Map(_), _) => {
                let mut text = Vec::new();
                self.write_tsv(&mut text, v, t);
                csv_quote(out, &text);
            }
            _ => {
                if !self.write_number(out, v, t) {
                    // Written in place; quoted again only when the text holds a quote (an enum name).
                    let start = out.len();
                    out.push(b'"');
                    self.write_plain(out, v, t);
                    if out[start + 1..].contains(&b'"') {
                        let text = out.split_off(start + 1);
                        out.truncate(start);
                        csv_quote(out, &text);
                    } else {
                        out.push(b'"');
                    }
                }
            }
        }
    }
}

/// The number of CSV fields a column of type `t` takes (tuples are spread over several).
pub fn csv_fields(t: &TypeDesc) -> usize {
    match strip(t) {
        TypeDesc::Tuple(types) => types.iter().map(|(_, t)| csv_fields(t)).sum(),
        TypeDesc::Point => 2,
        _ => 1,
    }
}

/// `"…"` with `"` doubled.
pub fn csv_quote(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    let mut start = 0;
    for p in memchr::memchr_iter(b'"', s) {
        out.extend_from_slice(&s[start..=p]);
        out.push(b'"');
        start = p + 1;
    }
    out.extend_from_slice(&s[start..]);
    out.push(b'"');
}
