//! Rendering a decoded column's cells straight from its storage: the structure of `Nullable`,
//! `LowCardinality`, `Array`, `Map` and `Tuple` columns is walked through their offsets, null masks,
//! dictionary keys and child columns, and only scalars become a [`Value`] — one that borrows or copies
//! a number, never allocates — on their way to the renderers of [`TextRenderer`]. The text is the
//! same as rendering the row's `Value` (the renderers are shared); what is saved is building and
//! dropping a `Vec` of values for every array, map and tuple of every row.
//!
//! Columns of any other shape (geo types, `Nested`, `Variant`, …) are rendered from their values, as
//! before.

use super::csv::csv_quote;
use super::json::json_string;
use super::text::{FloatRepr, TextRenderer, escape, strip, write_float, write_int};
use crate::native::column::{NullMap, Offsets};
use crate::native::{Column, ColumnView};
use crate::types::TypeDesc;
use crate::value::Value;
use std::ops::Range;

/// One column of a block, ready to render row by row.
pub struct Cells<'a>(Kind<'a>);

/// Integer storage of the plain integer types.
enum Ints<'a> {
    U8(&'a [u8]),
    U16(&'a [u16]),
    U32(&'a [u32]),
    U64(&'a [u64]),
    I8(&'a [i8]),
    I16(&'a [i16]),
    I32(&'a [i32]),
    I64(&'a [i64]),
}

impl Ints<'_> {
    fn write(&self, out: &mut Vec<u8>, row: usize) {
        match self {
            Ints::U8(v) => write_int(out, v.get(row).copied().unwrap_or_default()),
            Ints::U16(v) => write_int(out, v.get(row).copied().unwrap_or_default()),
            Ints::U32(v) => write_int(out, v.get(row).copied().unwrap_or_default()),
            Ints::U64(v) => write_int(out, v.get(row).copied().unwrap_or_default()),
            Ints::I8(v) => write_int(out, v.get(row).copied().unwrap_or_default()),
            Ints::I16(v) => write_int(out, v.get(row).copied().unwrap_or_default()),
            Ints::I32(v) => write_int(out, v.get(row).copied().unwrap_or_default()),
            Ints::I64(v) => write_int(out, v.get(row).copied().unwrap_or_default()),
        }
    }
    /// 64-bit integers, which 18.16's JSON quotes.
    fn wide(&self) -> bool {
        matches!(self, Ints::U64(_) | Ints::I64(_))
    }
}

enum Kind<'a> {
    /// Plain integers (not Bool, enums, dates or decimals, which share their storage).
    Ints(Ints<'a>),
    Float64(&'a [f64]),
    Float32(&'a [f32]),
    /// `String`.
    Str {
        offsets: Offsets<'a>,
        data: &'a [u8],
    },
    /// `DateTime`: seconds, and the zone (`None`: the server's).
    DateTime {
        secs: &'a [u32],
        zone: Option<&'a str>,
        t: &'a TypeDesc,
    },
    /// A scalar column: each cell's value (no allocation) through the renderers.
    Scalar(&'a dyn Column, &'a TypeDesc),
    /// Any other column: each cell's whole value.
    Values(&'a dyn Column, &'a TypeDesc),
    Nullable {
        nulls: NullMap<'a>,
        inner: Box<Kind<'a>>,
    },
    LowCardinality {
        keys: &'a [u32],
        dictionary: Box<Kind<'a>>,
        nullable: bool,
    },
    Array {
        offsets: Offsets<'a>,
        inner: Box<Kind<'a>>,
    },
    Map {
        offsets: Offsets<'a>,
        keys: Box<Kind<'a>>,
        values: Box<Kind<'a>>,
    },
    Tuple {
        /// Element names when every element has one (JSON writes such a tuple as an object).
        names: Option<Vec<&'a str>>,
        elements: Vec<Kind<'a>>,
    },
}

impl<'a> Cells<'a> {
    /// The cells of `column`, of type `t`.
    pub fn new(column: &'a dyn Column, t: &'a TypeDesc) -> Self {
        Cells(Kind::structured(column, t).unwrap_or(Kind::Values(column, t)))
    }

    /// Writes row `row` as a `TabSeparated` field.
    pub fn write_tsv(&self, r: &mut TextRenderer, out: &mut Vec<u8>, row: usize) {
        self.0.write_tsv(r, out, row, false);
    }

    /// Writes row `row` as `CSV` does (a tuple's fields separated by `,`); `scratch` is working space.
    pub fn write_csv(&self, r: &mut TextRenderer, out: &mut Vec<u8>, row: usize, scratch: &mut Vec<u8>) {
        self.0.write_csv(r, out, row, scratch);
    }

    /// Writes row `row` as a `JSONEachRow` value; `scratch` is working space.
    pub fn write_json(&self, r: &mut TextRenderer, out: &mut Vec<u8>, row: usize, scratch: &mut Vec<u8>) {
        self.0.write_json(r, out, row, scratch);
    }
}

impl<'a> Kind<'a> {
    fn structured(column: &'a dyn Column, t: &'a TypeDesc) -> Option<Self> {
        use TypeDesc as T;
        Some(match (t, column.view()) {
            (T::Nullable(inner), ColumnView::Nullable { nulls, inner: c }) if inner.is_scalar() => {
                Kind::Nullable { nulls, inner: Box::new(Kind::structured(c, inner)?) }
            }
            (T::LowCardinality(inner), ColumnView::LowCardinality { keys, dictionary, nullable }) => {
                let dt = match inner.as_ref() {
                    T::Nullable(x) => x.as_ref(),
                    x => x,
                };
                if !dt.is_scalar() {
                    return None;
                }
                Kind::LowCardinality { keys, dictionary: Box::new(Kind::structured(dictionary, dt)?), nullable }
            }
            (T::Array(inner), ColumnView::Array { offsets, inner: c }) => {
                Kind::Array { offsets, inner: Box::new(Self::element(c, inner)?) }
            }
            (T::Map(k, v), ColumnView::Map { offsets, keys, values }) if strip(k).is_scalar() => Kind::Map {
                offsets,
                keys: Box::new(Self::element(keys, k)?),
                values: Box::new(Self::element(values, v)?),
            },
            (T::Tuple(items), ColumnView::Tuple(columns)) if items.len() == columns.len() && !items.is_empty() => {
                let names = items.iter().map(|(n, _)| n.as_deref()).collect::<Option<Vec<_>>>();
                let elements = items
                    .iter()
                    .zip(columns.iter())
                    .map(|((_, t), c)| Self::element(c, t))
                    .collect::<Option<Vec<_>>>()?;
                Kind::Tuple { names, elements }
            }
            (T::UInt8, ColumnView::UInt8(v)) => Kind::Ints(Ints::U8(v)),
            (T::UInt16, ColumnView::UInt16(v)) => Kind::Ints(Ints::U16(v)),
            (T::UInt32, ColumnView::UInt32(v)) => Kind::Ints(Ints::U32(v)),
            (T::UInt64, ColumnView::UInt64(v)) => Kind::Ints(Ints::U64(v)),
            (T::Int8, ColumnView::Int8(v)) => Kind::Ints(Ints::I8(v)),
            (T::Int16, ColumnView::Int16(v)) => Kind::Ints(Ints::I16(v)),
            (T::Int32, ColumnView::Int32(v)) => Kind::Ints(Ints::I32(v)),
            (T::Int64, ColumnView::Int64(v)) => Kind::Ints(Ints::I64(v)),
            (T::Float64, ColumnView::Float64(v)) => Kind::Float64(v),
            (T::Float32, ColumnView::Float32(v)) => Kind::Float32(v),
            (T::String, ColumnView::String { offsets, data }) => Kind::Str { offsets, data },
            (T::DateTime(zone), ColumnView::UInt32(secs)) => Kind::DateTime { secs, zone: zone.as_deref(), t },
            (t, _) if t.is_scalar() => Kind::Scalar(column, t),
            _ => return None,
        })
    }

    /// Cells of an element column: structured all the way down, or not at all.
    fn element(column: &'a dyn Column, t: &'a TypeDesc) -> Option<Self> {
        Self::structured(column, t)
    }

    /// Writes row `row` as a `TabSeparated` field (`quoted`: inside a composite). The common scalars
    /// here, inlined into the caller; the rest in [`Kind::write_tsv_other`].
    #[inline]
    fn write_tsv(&self, r: &mut TextRenderer, out: &mut Vec<u8>, row: usize, quoted: bool) {
        match self {
            Kind::Ints(v) => v.write(out, row),
            Kind::Float64(v) => write_float(out, FloatRepr::F64(v.get(row).copied().unwrap_or_default())),
            Kind::Str { offsets, data } if !quoted => {
                let Range { start: s, end: e } = offsets.range(row);
                escape(out, data.get(s..e).unwrap_or_default());
            }
            other => other.write_tsv_other(r, out, row, quoted),
        }
    }

    #[inline(never)]
    fn write_tsv_other(&self, r: &mut TextRenderer, out: &mut Vec<u8>, row: usize, quoted: bool) {
        match self {
            Kind::Ints(v) => v.write(out, row),
            Kind::Float64(v) => write_float(out, FloatRepr::F64(v.get(row).copied().unwrap_or_default())),
            Kind::Float32(v) => write_float(out, FloatRepr::F32(v.get(row).copied().unwrap_or_default())),
            Kind::Str { offsets, data } => {
                let Range { start: s, end: e } = offsets.range(row);
                if quoted {
                    out.push(b'\'');
                }
                escape(out, data.get(s..e).unwrap_or_default());
                if quoted {
                    out.push(b'\'');
                }
            }
            Kind::DateTime { secs, zone, .. } => {
                if quoted {
                    out.push(b'\'');
                }
                r.write_datetime(out, *zone, secs.get(row).copied().unwrap_or_default());
                if quoted {
                    out.push(b'\'');
                }
            }
            Kind::Scalar(c, t) | Kind::Values(c, t) => r.write_text(out, &c.value(row), t, quoted),
            Kind::Nullable { nulls, inner } => {
                if nulls.is_null(row) {
                    out.extend_from_slice(if quoted { b"NULL" } else { b"\\N" });
                } else {
                    inner.write_tsv(r, out, row, quoted);
                }
            }
            Kind::LowCardinality { keys, dictionary, nullable } => match keys.get(row) {
                Some(0) if *nullable => out.extend_from_slice(if quoted { b"NULL" } else { b"\\N" }),
                Some(&k) => dictionary.write_tsv(r, out, k as usize, quoted),
                None => out.extend_from_slice(if quoted { b"NULL" } else { b"\\N" }),
            },
            Kind::Array { offsets, inner } => {
                let Range { start: s, end: e } = offsets.range(row);
                out.push(b'[');
                for i in s..e {
                    if i > s {
                        out.push(b',');
                    }
                    inner.write_tsv(r, out, i, true);
                }
                out.push(b']');
            }
            Kind::Map { offsets, keys, values } => {
                let Range { start: s, end: e } = offsets.range(row);
                out.push(b'{');
                for i in s..e {
                    if i > s {
                        out.push(b',');
                    }
                    keys.write_tsv(r, out, i, true);
                    out.push(b':');
                    values.write_tsv(r, out, i, true);
                }
                out.push(b'}');
            }
            Kind::Tuple { elements, .. } => {
                out.push(b'(');
                for (i, e) in elements.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    e.write_tsv(r, out, row, true);
                }
                out.push(b')');
            }
        }
    }

    fn write_csv(&self, r: &mut TextRenderer, out: &mut Vec<u8>, row: usize, scratch: &mut Vec<u8>) {
        match self {
            Kind::Ints(_) | Kind::Float64(_) | Kind::Float32(_) => self.write_tsv(r, out, row, false),
            Kind::Str { offsets, data } => {
                let Range { start: s, end: e } = offsets.range(row);
                csv_quote(out, data.get(s..e).unwrap_or_default());
            }
            Kind::DateTime { secs, t, .. } => {
                r.write_csv(out, &Value::DateTime(secs.get(row).copied().unwrap_or_default()), t)
            }
            Kind::Scalar(c, t) | Kind::Values(c, t) => r.write_csv(out, &c.value(row), t),
            Kind::Nullable { nulls, inner } => {
                if nulls.is_null(row) {
                    out.extend_from_slice(b"\\N");
                } else {
                    inner.write_csv(r, out, row, scratch);
                }
            }
            Kind::LowCardinality { keys, dictionary, nullable } => match keys.get(row) {
                Some(0) if *nullable => out.extend_from_slice(b"\\N"),
                Some(&k) => dictionary.write_csv(r, out, k as usize, scratch),
                None => out.extend_from_slice(b"\\N"),
            },
            Kind::Array { .. } | Kind::Map { .. } => {
                // The quoted text form, in double quotes.
                scratch.clear();
                self.write_tsv(r, scratch, row, false);
                csv_quote(out, scratch);
            }
            Kind::Tuple { elements, .. } => {
                for (i, e) in elements.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    e.write_csv(r, out, row, scratch);
                }
            }
        }
    }

    fn write_json(&self, r: &mut TextRenderer, out: &mut Vec<u8>, row: usize, scratch: &mut Vec<u8>) {
        match self {
            Kind::Ints(v) if v.wide() && r.legacy() => {
                out.push(b'"');
                v.write(out, row);
                out.push(b'"');
            }
            Kind::Ints(v) => v.write(out, row),
            Kind::Float64(v) if v.get(row).is_some_and(|x| x.is_finite()) => self.write_tsv(r, out, row, false),
            Kind::Float32(v) if v.get(row).is_some_and(|x| x.is_finite()) => self.write_tsv(r, out, row, false),
            Kind::Float64(_) | Kind::Float32(_) => {
                // nan and ±inf: null, or quoted with output_format_json_quote_denormals.
                if r.json_quote_denormals() {
                    out.push(b'"');
                    self.write_tsv(r, out, row, false);
                    out.push(b'"');
                } else {
                    out.extend_from_slice(b"null");
                }
            }
            Kind::Str { offsets, data } => {
                let Range { start: s, end: e } = offsets.range(row);
                json_string(out, data.get(s..e).unwrap_or_default());
            }
            Kind::DateTime { secs, t, .. } => {
                r.write_json(out, &Value::DateTime(secs.get(row).copied().unwrap_or_default()), t)
            }
            Kind::Scalar(c, t) | Kind::Values(c, t) => r.write_json(out, &c.value(row), t),
            Kind::Nullable { nulls, inner } => {
                if nulls.is_null(row) {
                    out.extend_from_slice(b"null");
                } else {
                    inner.write_json(r, out, row, scratch);
                }
            }
            Kind::LowCardinality { keys, dictionary, nullable } => match keys.get(row) {
                Some(0) if *nullable => out.extend_from_slice(b"null"),
                Some(&k) => dictionary.write_json(r, out, k as usize, scratch),
                None => out.extend_from_slice(b"null"),
            },
            Kind::Array { offsets, inner } => {
                let Range { start: s, end: e } = offsets.range(row);
                out.push(b'[');
                for i in s..e {
                    if i > s {
                        out.push(b',');
                    }
                    inner.write_json(r, out, i, scratch);
                }
                out.push(b']');
            }
            Kind::Map { offsets, keys, values } => {
                let Range { start: s, end: e } = offsets.range(row);
                out.push(b'{');
                for i in s..e {
                    if i > s {
                        out.push(b',');
                    }
                    // A key is its text, as a JSON string.
                    scratch.clear();
                    keys.write_key(r, scratch, i);
                    json_string(out, scratch);
                    out.push(b':');
                    values.write_json(r, out, i, &mut Vec::new());
                }
                out.push(b'}');
            }
            Kind::Tuple { names: Some(names), elements } => {
                out.push(b'{');
                for (i, (n, e)) in names.iter().zip(elements).enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    json_string(out, n.as_bytes());
                    out.push(b':');
                    e.write_json(r, out, row, scratch);
                }
                out.push(b'}');
            }
            Kind::Tuple { names: None, elements } => {
                out.push(b'[');
                for (i, e) in elements.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    e.write_json(r, out, row, scratch);
                }
                out.push(b']');
            }
        }
    }

    /// A map key's text (keys are scalars, possibly LowCardinality).
    fn write_key(&self, r: &mut TextRenderer, out: &mut Vec<u8>, row: usize) {
        match self {
            Kind::Ints(v) => v.write(out, row),
            Kind::Str { offsets, data } => {
                let Range { start: s, end: e } = offsets.range(row);
                out.extend_from_slice(data.get(s..e).unwrap_or_default());
            }
            Kind::DateTime { secs, t, .. } => {
                r.write_json_key(out, &Value::DateTime(secs.get(row).copied().unwrap_or_default()), t)
            }
            Kind::Scalar(c, t) | Kind::Values(c, t) => r.write_json_key(out, &c.value(row), t),
            Kind::LowCardinality { keys, dictionary, .. } => {
                if let Some(&k) = keys.get(row) {
                    dictionary.write_key(r, out, k as usize);
                }
            }
            other => other.write_tsv(r, out, row, false),
        }
    }
}

/// The key text of a `Value` in a JSON map (kept beside the value renderer so both paths agree).
impl TextRenderer {
    pub(crate) fn write_json_key(&mut self, key: &mut Vec<u8>, k: &Value<'_>, kt: &TypeDesc) {
        match k {
            Value::String(s) | Value::FixedString(s) => key.extend_from_slice(s),
            // A composite key is its text form (`[1]`, `(1,'a')`, `{1:2}`).
            Value::Array(_) | Value::Tuple(_) | Value::Map(_) => self.write_tsv(key, k, kt),
            k if self.write_number(key, k, kt) => {}
            k => self.write_plain(key, k, strip(kt)),
        }
    }
}
