//! Native encoding: columnar builders that append values and write a Native block, used by inserts.
//!
//! Each builder implements [`ColumnEncoder`]: it knows its ClickHouse type name, its row count, how to
//! write its data, and how to empty itself while keeping capacity (so a streaming inserter reuses the
//! same buffers block after block).

use super::input::{write_str, write_varuint};
use crate::error::{Error, Result};

/// The encoding side of a column type.
pub trait ColumnEncoder: Send {
    /// The ClickHouse type this builder writes, e.g. `Array(Nullable(String))`.
    fn type_name(&self) -> String;
    /// Rows appended so far.
    fn rows(&self) -> usize;
    /// Writes the column's data (without name and type) in Native format.
    fn encode(&self, out: &mut Vec<u8>);
    /// Empties the builder, keeping its capacity.
    fn clear(&mut self);
}

/// Plain fixed-width values: integers, floats, and types stored as them (Date as u16, DateTime as u32 …).
pub struct FixedBuilder<T: bytemuck::Pod + Send> {
    type_name: String,
    values: Vec<T>,
}

impl<T: bytemuck::Pod + Send> FixedBuilder<T> {
    /// A builder for `type_name` (which must store values of `T`'s size).
    pub fn new(type_name: impl Into<String>) -> Self {
        FixedBuilder { type_name: type_name.into(), values: Vec::new() }
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
    fn type_name(&self) -> String {
        self.type_name.clone()
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
}

/// `String` values.
#[derive(Default)]
pub struct StringBuilder {
    data: Vec<u8>,
    ends: Vec<usize>,
}

impl StringBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }
    /// Appends one value.
    pub fn push(&mut self, v: impl AsRef<[u8]>) {
        self.data.extend_from_slice(v.as_ref());
        self.ends.push(self.data.len());
    }
}

impl ColumnEncoder for StringBuilder {
    fn type_name(&self) -> String {
        "String".into()
    }
    fn rows(&self) -> usize {
        self.ends.len()
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.reserve(self.data.len() + self.ends.len() * 2);
        let mut start = 0;
        for &end in &self.ends {
            write_str(out, &self.data[start..end]);
            start = end;
        }
    }
    fn clear(&mut self) {
        self.data.clear();
        self.ends.clear();
    }
}

/// `Nullable(T)`.
pub struct NullableBuilder<B: ColumnEncoder> {
    nulls: Vec<u8>,
    inner: B,
}

impl<B: ColumnEncoder> NullableBuilder<B> {
    /// Wraps the inner builder; push through [`NullableBuilder::push_with`] / [`NullableBuilder::push_null`].
    pub fn new(inner: B) -> Self {
        NullableBuilder { nulls: Vec::new(), inner }
    }
    /// Appends a present value by letting `f` append it to the inner builder.
    pub fn push_with(&mut self, f: impl FnOnce(&mut B)) {
        f(&mut self.inner);
        self.nulls.push(0);
    }
    /// Appends NULL, with `placeholder` appending the inner type's default value.
    pub fn push_null(&mut self, placeholder: impl FnOnce(&mut B)) {
        placeholder(&mut self.inner);
        self.nulls.push(1);
    }
}

impl<B: ColumnEncoder> ColumnEncoder for NullableBuilder<B> {
    fn type_name(&self) -> String {
        format!("Nullable({})", self.inner.type_name())
    }
    fn rows(&self) -> usize {
        self.nulls.len()
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.nulls);
        self.inner.encode(out);
    }
    fn clear(&mut self) {
        self.nulls.clear();
        self.inner.clear();
    }
}

/// `Array(T)`.
pub struct ArrayBuilder<B: ColumnEncoder> {
    offsets: Vec<u64>,
    inner: B,
}

impl<B: ColumnEncoder> ArrayBuilder<B> {
    /// Wraps the element builder.
    pub fn new(inner: B) -> Self {
        ArrayBuilder { offsets: Vec::new(), inner }
    }
    /// Appends one array whose elements `f` appends to the element builder.
    pub fn push_with(&mut self, f: impl FnOnce(&mut B)) {
        f(&mut self.inner);
        self.offsets.push(self.inner.rows() as u64);
    }
}

impl<B: ColumnEncoder> ColumnEncoder for ArrayBuilder<B> {
    fn type_name(&self) -> String {
        format!("Array({})", self.inner.type_name())
    }
    fn rows(&self) -> usize {
        self.offsets.len()
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(bytemuck::cast_slice(&self.offsets));
        self.inner.encode(out);
    }
    fn clear(&mut self) {
        self.offsets.clear();
        self.inner.clear();
    }
}

/// Writes one Native block from named columns of equal length.
pub fn write_block(out: &mut Vec<u8>, columns: &[(&str, &dyn ColumnEncoder)]) -> Result<()> {
    let rows = columns.first().map_or(0, |(_, c)| c.rows());
    if let Some((name, c)) = columns.iter().find(|(_, c)| c.rows() != rows) {
        return Err(Error::usage(format!("column {name} has {} rows, expected {rows}", c.rows())));
    }
    write_varuint(out, columns.len() as u64);
    write_varuint(out, rows as u64);
    for (name, c) in columns {
        write_str(out, name.as_bytes());
        write_str(out, c.type_name().as_bytes());
        c.encode(out);
    }
    Ok(())
}
