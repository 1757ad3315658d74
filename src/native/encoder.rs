//! Native encoding: columnar builders that append values and write a Native block, used by inserts.
//!
//! Each builder implements [`ColumnEncoder`]: it knows its ClickHouse type name, its row count, how to
//! write its data, and how to empty itself while keeping capacity (so a streaming inserter reuses the
//! same buffers block after block).

pub use super::columns::array::ArrayBuilder;
pub use super::columns::nullable::NullableBuilder;
pub use super::columns::string::StringBuilder;
use super::input::{write_str, write_varuint};
use super::types::TypeDesc;
use crate::error::{Error, Result};
use crate::value::Value;
use std::borrow::Cow;

/// The encoding side of a column type.
pub trait ColumnEncoder: Send {
    /// The ClickHouse type this builder writes, e.g. `Array(Nullable(String))` (borrowed: writing a
    /// block allocates nothing for it).
    fn type_name(&self) -> Cow<'_, str>;
    /// Rows appended so far.
    fn rows(&self) -> usize;
    /// Writes the column's serialization prefix, which Native puts before the data of the whole column
    /// tree (only `LowCardinality` has one).
    fn encode_prefix(&self, _out: &mut Vec<u8>) {}
    /// Writes the column's data (without name and type) in Native format.
    fn encode(&self, out: &mut Vec<u8>);
    /// Empties the builder, keeping its capacity.
    fn clear(&mut self);
    /// Whether the builder can write its type at all (checked before a block is written, so a
    /// mismatch is an error here instead of a confusing one from the server).
    fn check(&self) -> Result<()> {
        Ok(())
    }
}

impl<T: ColumnEncoder + ?Sized> ColumnEncoder for Box<T> {
    fn check(&self) -> Result<()> {
        (**self).check()
    }
    fn type_name(&self) -> Cow<'_, str> {
        (**self).type_name()
    }
    fn rows(&self) -> usize {
        (**self).rows()
    }
    fn encode_prefix(&self, out: &mut Vec<u8>) {
        (**self).encode_prefix(out)
    }
    fn encode(&self, out: &mut Vec<u8>) {
        (**self).encode(out)
    }
    fn clear(&mut self) {
        (**self).clear()
    }
}

impl<T: ValueBuilder + ?Sized> ValueBuilder for Box<T> {
    fn push(&mut self, v: &Value<'_>) -> std::result::Result<(), String> {
        (**self).push(v)
    }
    fn push_default(&mut self) {
        (**self).push_default()
    }
    fn truncate(&mut self, rows: usize) {
        (**self).truncate(rows)
    }
}

/// Plain fixed-width values: integers, floats, and types stored as them (Date as u16, DateTime as u32 …).
pub struct FixedBuilder<T: bytemuck::Pod + Send> {
    type_name: String,
    values: Vec<T>,
    /// Why this builder cannot write its type (checked once, when made).
    unfit: Option<String>,
    /// For `Bool` and enums: the values the type allows (checked for every block written).
    members: Option<Vec<i16>>,
}

/// The Rust types whose bytes are a fixed-width ClickHouse type's Native bytes (`None`: no plain
/// fixed-width builder: UUID's halves are swapped against a `u128`, wide and composite types have
/// their own builders).
fn fixed_rust_types(t: &super::TypeDesc) -> Option<&'static [&'static str]> {
    use super::TypeDesc as T;
    Some(match t {
        T::UInt8 | T::Bool => &["u8"],
        T::UInt16 | T::Date => &["u16"],
        T::UInt32 | T::DateTime(_) | T::Ipv4 => &["u32"],
        T::UInt64 => &["u64"],
        T::UInt128 => &["u128"],
        T::Int8 | T::Enum8(_) => &["i8"],
        T::Int16 | T::Enum16(_) => &["i16"],
        T::Int32 | T::Date32 | T::Time => &["i32"],
        T::Int64 | T::DateTime64(..) | T::Time64(_) | T::Interval(_) => &["i64"],
        T::Int128 => &["i128"],
        T::Float32 => &["f32"],
        T::Float64 => &["f64"],
        T::BFloat16 => &["u16"],
        T::Decimal { precision, .. } if *precision <= 9 => &["i32"],
        T::Decimal { precision, .. } if *precision <= 18 => &["i64"],
        T::Decimal { precision, .. } if *precision <= 38 => &["i128"],
        T::Ipv6 => &["[u8; 16]"],
        _ => return None,
    })
}

/// The values `Bool` and enum types allow.
fn enum_members(t: &super::TypeDesc) -> Option<Vec<i16>> {
    use super::TypeDesc as T;
    match t {
        T::Bool => Some(vec![0, 1]),
        T::Enum8(m) => Some(m.iter().map(|(_, c)| i16::from(*c)).collect()),
        T::Enum16(m) => Some(m.iter().map(|(_, c)| *c).collect()),
        _ => None,
    }
}

impl<T: bytemuck::Pod + Send> FixedBuilder<T> {
    /// A builder for `type_name`, which must be a fixed-width type whose values are `T`'s size
    /// (`FixedBuilder::<u64>::new("UInt64")`, `FixedBuilder::<u32>::new("DateTime('UTC')")`); another
    /// type makes writing a block fail with an error that says so, before anything is sent.
    pub fn new(type_name: impl Into<String>) -> Self {
        let type_name = type_name.into();
        let rust = std::any::type_name::<T>();
        let (unfit, members) = match super::TypeDesc::parse(&type_name) {
            Err(e) => (Some(e.to_string()), None),
            Ok(t) => match fixed_rust_types(&t) {
                None => {
                    (Some(format!("{type_name} has no plain fixed-width builder (use builder_for or Values)")), None)
                }
                Some(ok) if !ok.contains(&rust) => {
                    (Some(format!("{type_name} takes values of Rust type {}, not {rust}", ok.join(" or "))), None)
                }
                Some(_) => (None, enum_members(&t)),
            },
        };
        FixedBuilder { type_name, values: Vec::new(), unfit, members }
    }

    /// Appends one value.
    pub fn push(&mut self, v: T) {
        self.values.push(v);
    }
    /// Appends many values.
    pub fn extend_from_slice(&mut self, v: &[T]) {
        self.values.extend_from_slice(v);
    }
}

impl<T: bytemuck::Pod + Send> ColumnEncoder for FixedBuilder<T> {
    fn type_name(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.type_name)
    }
    fn rows(&self) -> usize {
        self.values.len()
    }
    fn encode(&self, out: &mut Vec<u8>) {
        // Little-endian host (checked at compile time in lib.rs): the slice's bytes are the wire bytes.
        out.extend_from_slice(bytemuck::cast_slice(&self.values));
    }
    fn clear(&mut self) {
        self.values.clear();
    }
    fn check(&self) -> Result<()> {
        if let Some(why) = &self.unfit {
            return Err(Error::usage(format!("FixedBuilder<{}>: {why}", std::any::type_name::<T>())));
        }
        if let Some(allowed) = &self.members {
            let bytes: &[u8] = bytemuck::cast_slice(&self.values);
            let bad = if std::mem::size_of::<T>() == 1 {
                bytes.iter().map(|b| i16::from(*b as i8)).find(|v| !allowed.contains(v))
            } else {
                bytes.chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]])).find(|v| !allowed.contains(v))
            };
            if let Some(v) = bad {
                return Err(Error::usage(format!("{v} is not a value of {}", self.type_name)));
            }
        }
        Ok(())
    }
}

/// Writes one Native block from named columns of equal length.
pub fn write_block(out: &mut Vec<u8>, columns: &[(&str, &dyn ColumnEncoder)]) -> Result<()> {
    write_block_from(out, columns.iter().copied())
}

/// [`write_block`] from any iterator over named columns (walked twice), so a caller that keeps names
/// and builders apart needs no slice of pairs for each block.
pub fn write_block_from<'a, I>(out: &mut Vec<u8>, columns: I) -> Result<()>
where
    I: ExactSizeIterator<Item = (&'a str, &'a dyn ColumnEncoder)> + Clone,
{
    let count = columns.len();
    let mut check = columns.clone();
    let rows = check.next().map_or(0, |(_, c)| c.rows());
    if let Some((name, c)) = check.find(|(_, c)| c.rows() != rows) {
        return Err(Error::usage(format!("column {name} has {} rows, expected {rows}", c.rows())));
    }
    for (name, c) in columns.clone() {
        c.check().map_err(|e| match e {
            Error::Usage(m) => Error::usage(format!("column {name}: {m}")),
            other => other,
        })?;
    }
    write_varuint(out, count as u64);
    write_varuint(out, rows as u64);
    for (name, c) in columns {
        write_str(out, name.as_bytes());
        write_str(out, c.type_name().as_bytes());
        c.encode_prefix(out);
        c.encode(out);
    }
    Ok(())
}

/// A builder that accepts [`Value`]s for any supported type (made by [`builder_for`]); what row inserts
/// and re-encoding decoded data use. Values are checked against the column type: a wrong kind or an
/// out-of-range value is an error, and nothing is appended.
pub trait ValueBuilder: ColumnEncoder {
    /// Appends one value, converting between compatible kinds (e.g. any integer that fits).
    fn push(&mut self, v: &Value<'_>) -> std::result::Result<(), String>;
    /// Appends the type's default value (used under NULLs).
    fn push_default(&mut self);
    /// Keeps only the first `rows` rows (no-op when there are not more): takes back a row whose push
    /// failed part-way (a composite may have taken some of its elements), so that a rejected row leaves
    /// no trace.
    fn truncate(&mut self, rows: usize);
}

/// Builds the value builder for a type.
pub fn builder_for(desc: &TypeDesc) -> Result<Box<dyn ValueBuilder>> {
    use super::columns::*;
    use TypeDesc as T;
    Ok(match desc {
        T::String => Box::new(StringBuilder::new()),
        T::FixedString(n) => Box::new(fixed_string::FixedStringValues::new(*n)),
        T::Nullable(inner) => Box::new(NullableBuilder::new(builder_for(inner)?)),
        T::Array(inner) => Box::new(ArrayBuilder::new(builder_for(inner)?)),
        T::Tuple(elems) if !elems.is_empty() => Box::new(tuple::TupleValues::new(
            desc.to_string(),
            elems.iter().map(|(_, t)| builder_for(t)).collect::<Result<_>>()?,
        )),
        T::Map(k, v) => Box::new(map::MapValues::new(builder_for(k)?, builder_for(v)?)),
        T::LowCardinality(inner) => {
            let (nullable, t) = match inner.as_ref() {
                T::Nullable(t) => (true, t.as_ref()),
                t => (false, t),
            };
            Box::new(low_cardinality::LowCardinalityValues::new(
                desc.to_string(),
                builder_for(t)?,
                builder_for(t)?,
                nullable,
            ))
        }
        T::SimpleAggregateFunction(_, inner) => {
            Box::new(Renamed { name: desc.to_string(), inner: builder_for(inner)? })
        }
        T::Nested(elems) => Box::new(Renamed {
            name: desc.to_string(),
            inner: builder_for(&T::Array(Box::new(T::Tuple(
                elems.iter().map(|(n, t)| (Some(n.clone()), t.clone())).collect(),
            ))))?,
        }),
        T::Point | T::Ring | T::LineString | T::MultiLineString | T::Polygon | T::MultiPolygon => {
            let point = T::Tuple(vec![(None, T::Float64), (None, T::Float64)]);
            let shape = match desc {
                T::Point => point,
                T::Ring | T::LineString => T::Array(Box::new(point)),
                T::Polygon | T::MultiLineString => T::Array(Box::new(T::Array(Box::new(point)))),
                _ => T::Array(Box::new(T::Array(Box::new(T::Array(Box::new(point)))))),
            };
            Box::new(Renamed { name: desc.to_string(), inner: builder_for(&shape)? })
        }
        other => match fixed::FixedValues::new(other) {
            Some(b) => Box::new(b),
            None => return Err(Error::UnsupportedType(other.to_string())),
        },
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
