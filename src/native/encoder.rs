//! Native encoding: columnar builders that append values and write a Native block, used by inserts.
//!
//! Each builder implements [`ColumnEncoder`]: it knows its ClickHouse type name, its row count, how to
//! write its data, and how to empty itself while keeping capacity (so a streaming inserter reuses the
//! same buffers block after block).

use super::input::{write_str, write_varuint};
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

/// A builder that accepts [`Value`]s for any supported type (made by [`crate::native::builder_for`]); what row inserts
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
