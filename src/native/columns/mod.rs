//! The column types, one file each, and the one factory that picks the file for a type.
//!
//! Each file holds a type's decoder (implementing [`Column`]: resumable decoding into owned buffers,
//! then typed views and row values) and its builder (implementing [`ColumnEncoder`] and
//! [`ValueBuilder`]); composite builders are generic over their children, so the same
//! `NullableBuilder`/`ArrayBuilder` serve typed fast paths and value-driven inserts.
//!
//! - `fixed`: every fixed-width type (integers to 256 bits, floats, BFloat16, Bool, Decimal, Date/Date32,
//!   DateTime/DateTime64, Time/Time64, UUID, IPv4/IPv6, Enum8/16, Interval, Nothing): one bulk copy.
//! - `string`: length-prefixed strings into offsets + one contiguous byte buffer.
//! - `fixed_string`: `FixedString(N)`, a bulk copy of `rows * N` bytes.
//! - `nullable`: a null map, then the inner column.
//! - `array`: u64 end offsets, then the flattened inner column.
//! - `tuple`: child columns one after another.
//! - `low_cardinality`: a version prefix, then parts of (flags, dictionary, indexes); keys widened to u32.
//! - `map`: offsets, then keys and values as two child columns.
//!
//! [`layout`] is the registry: the one place that says which file lays out a type (after
//! [`TypeDesc::physical`] has rewritten geo types, `Nested` and `SimpleAggregateFunction` into the
//! types they are stored as) and which types the codec refuses. [`decoder_for`] and [`builder_for`]
//! only turn its answer into the file's decoder or builder, recursing into children, so the two
//! directions cannot disagree on a type.

pub mod aggregate;
pub mod array;
pub mod dynamic;
pub mod fixed;
pub mod fixed_string;
pub mod json;
pub mod low_cardinality;
pub mod map;
pub mod nullable;
pub mod qbit;
pub mod string;
pub mod tuple;
pub mod variant;

use super::column::ColumnDecoder;
use super::encoder::{ColumnEncoder, ValueBuilder};
use crate::error::{Error, Result};
use crate::types::TypeDesc;
use crate::value::Value;
use std::borrow::Cow;

/// Which column file lays out a (physical) type, with the parts it needs.
pub(crate) enum Layout<'a> {
    /// `fixed`: a fixed-width type.
    Fixed(&'a TypeDesc),
    /// `string`.
    String,
    /// `fixed_string`, of this width.
    FixedString(usize),
    /// `nullable` over the inner type.
    Nullable(&'a TypeDesc),
    /// `array` of the element type.
    Array(&'a TypeDesc),
    /// `tuple` of these elements (at least one).
    Tuple(Vec<&'a TypeDesc>),
    /// `map` from keys to values.
    Map(&'a TypeDesc, &'a TypeDesc),
    /// `low_cardinality` over a dictionary of this type (String, FixedString or fixed-width), whose
    /// entry 0 is NULL when `nullable`.
    LowCardinality { dictionary: &'a TypeDesc, nullable: bool },
    /// `variant` of these alternatives (1 to 254, in the server's order).
    Variant(&'a [TypeDesc]),
    /// `dynamic`, with its `max_types`.
    Dynamic(Option<u64>),
    /// `json`, with the type's parameters.
    Json(&'a crate::types::JsonType),
    /// `qbit`, of this shape.
    QBit(qbit::Shape),
    /// `aggregate`: states laid out by this program.
    Aggregate(Vec<aggregate::Op>),
}

/// The layout of a physical type (see [`TypeDesc::physical`]), or an error naming `shown` (the type
/// as the server wrote it) when the codec cannot lay it out.
pub(crate) fn layout<'a>(t: &'a TypeDesc, shown: &TypeDesc) -> Result<Layout<'a>> {
    use TypeDesc as T;
    let unsupported = || Error::UnsupportedType(shown.to_string());
    Ok(match t {
        T::String => Layout::String,
        T::FixedString(n) => Layout::FixedString(*n),
        T::Nullable(inner) => Layout::Nullable(inner),
        T::Array(inner) => Layout::Array(inner),
        // An empty tuple occupies no bytes per row, so an array of them could claim any element count
        // without sending data; refuse it rather than trust such counts.
        T::Tuple(elems) if elems.is_empty() => return Err(unsupported()),
        T::Tuple(elems) => Layout::Tuple(elems.iter().map(|(_, t)| t).collect()),
        T::Map(k, v) => Layout::Map(k, v),
        T::LowCardinality(inner) => {
            let (nullable, dictionary) = match inner.as_ref() {
                T::Nullable(t) => (true, t.as_ref()),
                t => (false, t),
            };
            if !matches!(dictionary, T::String | T::FixedString(_)) && fixed::FixedColumn::new(dictionary).is_none() {
                return Err(unsupported());
            }
            Layout::LowCardinality { dictionary, nullable }
        }
        T::Variant(alts) if alts.is_empty() || alts.len() > 254 => return Err(unsupported()),
        T::Variant(alts) => Layout::Variant(alts),
        T::Dynamic { max_types } => Layout::Dynamic(*max_types),
        T::Json(j) => Layout::Json(j),
        T::AggregateFunction { version: None, function, args } => {
            Layout::Aggregate(aggregate::layout(function, args).map_err(Error::UnsupportedType)?)
        }
        // At most 65,536 bit planes: a type name cannot ask for millions of columns.
        T::QBit { .. } => match qbit::Shape::of(t) {
            Some(shape) if shape.planes() <= 1 << 16 => Layout::QBit(shape),
            _ => return Err(unsupported()),
        },
        t if fixed::FixedColumn::new(t).is_some() => Layout::Fixed(t),
        _ => return Err(unsupported()),
    })
}

/// Builds the decoder tree for a type, or says clearly which part is not supported.
pub(crate) fn decoder_for(desc: &TypeDesc) -> Result<Box<dyn ColumnDecoder>> {
    let physical = desc.physical();
    Ok(match layout(&physical, desc)? {
        Layout::Fixed(t) => {
            Box::new(fixed::FixedColumn::new(t).ok_or_else(|| Error::UnsupportedType(desc.to_string()))?)
        }
        Layout::String => Box::new(string::StringColumn::default()),
        Layout::FixedString(n) => Box::new(fixed_string::FixedStringColumn::new(n)),
        Layout::Nullable(inner) => Box::new(nullable::NullableColumn::new(decoder_for(inner)?)),
        Layout::Array(inner) => Box::new(array::ArrayColumn::new(decoder_for(inner)?)),
        Layout::Tuple(elems) => {
            Box::new(tuple::TupleColumn::new(elems.into_iter().map(decoder_for).collect::<Result<_>>()?))
        }
        Layout::Map(k, v) => Box::new(map::MapColumn::new(decoder_for(k)?, decoder_for(v)?)),
        Layout::LowCardinality { dictionary, nullable } => {
            Box::new(low_cardinality::LowCardinalityColumn::new(decoder_for(dictionary)?, nullable))
        }
        Layout::Variant(alts) => {
            Box::new(variant::VariantColumn::new(alts.iter().map(decoder_for).collect::<Result<_>>()?))
        }
        Layout::Dynamic(_) => Box::new(dynamic::DynamicColumn::new()),
        Layout::Json(j) => Box::new(json::JsonColumn::new(j)?),
        Layout::QBit(shape) => Box::new(qbit::QBitColumn::new(shape)),
        Layout::Aggregate(program) => Box::new(aggregate::AggregateColumn::new(program)),
    })
}

/// Builds the value builder for a type (under the type's own name, also where its layout is another
/// type's: geo types, `Nested`, `SimpleAggregateFunction`).
pub fn builder_for(desc: &TypeDesc) -> Result<Box<dyn ValueBuilder>> {
    let physical = desc.physical();
    if let Cow::Owned(stored_as) = &physical {
        return Ok(Box::new(Renamed { name: desc.to_string(), inner: builder_for(stored_as)? }));
    }
    Ok(match layout(desc, desc)? {
        Layout::Fixed(t) => {
            Box::new(fixed::FixedValues::new(t).ok_or_else(|| Error::UnsupportedType(desc.to_string()))?)
        }
        Layout::String => Box::new(string::StringBuilder::new()),
        Layout::FixedString(n) => Box::new(fixed_string::FixedStringValues::new(n)),
        Layout::Nullable(inner) => Box::new(nullable::NullableBuilder::new(builder_for(inner)?)),
        Layout::Array(inner) => Box::new(array::ArrayBuilder::new(builder_for(inner)?)),
        Layout::Tuple(elems) => Box::new(tuple::TupleValues::new(
            desc.to_string(),
            elems.into_iter().map(builder_for).collect::<Result<_>>()?,
        )),
        Layout::Map(k, v) => Box::new(map::MapValues::new(builder_for(k)?, builder_for(v)?)),
        Layout::LowCardinality { dictionary, nullable } => Box::new(low_cardinality::LowCardinalityValues::new(
            desc.to_string(),
            builder_for(dictionary)?,
            builder_for(dictionary)?,
            nullable,
        )),
        Layout::Variant(alts) => Box::new(variant::VariantValues::new(
            desc.to_string(),
            alts.to_vec(),
            alts.iter().map(builder_for).collect::<Result<_>>()?,
        )),
        Layout::Dynamic(max_types) => Box::new(dynamic::DynamicValues::new(desc.to_string(), max_types)),
        Layout::Json(j) => Box::new(json::JsonValues::new(desc.to_string(), j.clone())?),
        Layout::QBit(shape) => Box::new(qbit::QBitValues::new(desc.to_string(), shape)),
        Layout::Aggregate(program) => Box::new(aggregate::AggregateValues::new(desc.to_string(), program)),
    })
}

/// A builder that writes like another but under its own type name (geo types, Nested,
/// SimpleAggregateFunction).
struct Renamed {
    name: String,
    inner: Box<dyn ValueBuilder>,
}

impl ColumnEncoder for Renamed {
    fn type_name(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.name)
    }
    fn rows(&self) -> usize {
        self.inner.rows()
    }
    fn encode_prefix(&self, out: &mut Vec<u8>) {
        self.inner.encode_prefix(out);
    }
    fn encode(&self, out: &mut Vec<u8>) {
        self.inner.encode(out);
    }
    fn clear(&mut self) {
        self.inner.clear();
    }
}

impl ValueBuilder for Renamed {
    fn push(&mut self, v: &Value<'_>) -> std::result::Result<(), String> {
        self.inner.push(v)
    }
    fn push_default(&mut self) {
        self.inner.push_default();
    }
    fn truncate(&mut self, rows: usize) {
        self.inner.truncate(rows);
    }
}
