//! The one small trait every column type implements, and the factory that builds a column decoder tree
//! from a parsed type.
//!
//! A column decoder is a resumable state machine: [`Column::start`] announces how many rows the block
//! has, then [`Column::decode`] is called with whatever bytes have arrived until it reports completion.
//! Composite columns (Nullable, Array, Tuple, Map) drive their children, so a column tree mirrors the type
//! tree. Finished columns are read through [`Column::view`] (typed borrowed slices) or [`Column::value`]
//! (one row as a [`Value`]).

use super::buffer::AlignedBuf;
use super::columns;
use super::input::Input;
use super::types::TypeDesc;
use crate::error::{Error, Result};
use crate::value::Value;

/// Decoding side of a column type. Implementations live one per file in `native/columns/`.
pub trait Column: Send + Sync {
    /// Begins a new block of `rows` values. The previous block's values are cleared; buffers keep their capacity.
    fn start(&mut self, rows: usize);
    /// Reads the column's serialization prefix, which Native writes for the whole column tree before any
    /// of its data (only `LowCardinality` has one; composites read their children's in order). Returns
    /// `Ok(true)` once complete. Called after `start` and before `decode`.
    fn decode_prefix(&mut self, _input: &mut Input<'_>) -> Result<bool> {
        Ok(true)
    }
    /// Continues the current block with `rows` more values appended after those already decoded (used by
    /// `LowCardinality` dictionaries that arrive in several parts). Returns false if the type cannot.
    fn start_more(&mut self, _rows: usize) -> bool {
        false
    }
    /// Consumes bytes from `input`; returns `Ok(true)` once all rows of the block are read. Called again
    /// with more input while it returns `Ok(false)`.
    fn decode(&mut self, input: &mut Input<'_>) -> Result<bool>;
    /// Rows decoded so far in this block (all of them once `decode` returned true).
    fn rows(&self) -> usize;
    /// Typed borrowed access to the decoded data.
    fn view(&self) -> ColumnView<'_>;
    /// One row as a value. `row` must be `< rows()`; out-of-range rows give `Value::Null`.
    fn value(&self, row: usize) -> Value<'_>;
    /// Bytes of storage the column holds (capacity, children included), for the decoder's memory limit.
    fn storage_bytes(&self) -> usize;
}

/// Typed, borrowed access to a decoded column.
#[allow(missing_docs)]
pub enum ColumnView<'a> {
    UInt8(&'a [u8]),
    UInt16(&'a [u16]),
    UInt32(&'a [u32]),
    UInt64(&'a [u64]),
    UInt128(&'a [u128]),
    Int8(&'a [i8]),
    Int16(&'a [i16]),
    Int32(&'a [i32]),
    Int64(&'a [i64]),
    Int128(&'a [i128]),
    Float32(&'a [f32]),
    Float64(&'a [f64]),
    /// 256-bit values as little-endian limbs.
    Wide(&'a [[u64; 4]]),
    /// `String`: `offsets[i]` is the end of row i in `data` (row i starts at `offsets[i-1]`, or 0).
    String {
        offsets: &'a [u64],
        data: &'a [u8],
    },
    /// `FixedString(width)`: rows are consecutive `width`-byte slices of `data`.
    FixedString {
        width: usize,
        data: &'a [u8],
    },
    /// `Nullable(T)`: `nulls[i] != 0` marks row i NULL; `inner` holds a (default) value for every row.
    Nullable {
        nulls: &'a [u8],
        inner: &'a dyn Column,
    },
    /// `Array(T)`: `offsets[i]` is the end of row i in `inner`, as for strings.
    Array {
        offsets: &'a [u64],
        inner: &'a dyn Column,
    },
    /// `Tuple(…)`: one child column per element, each with the block's row count.
    Tuple(&'a [Box<dyn Column>]),
    /// `LowCardinality(T)`: `keys[i]` indexes `dictionary` (for `LowCardinality(Nullable(T))`, key 0
    /// means NULL).
    LowCardinality {
        keys: &'a [u32],
        dictionary: &'a dyn Column,
        nullable: bool,
    },
    /// `Map(K, V)`: like an array of (key, value) rows.
    Map {
        offsets: &'a [u64],
        keys: &'a dyn Column,
        values: &'a dyn Column,
    },
}

impl ColumnView<'_> {
    /// The data as `&[u64]` when the column is UInt64 (or a type stored as such).
    pub fn as_u64(&self) -> Option<&[u64]> {
        match self {
            ColumnView::UInt64(s) => Some(s),
            _ => None,
        }
    }
}

/// Builds the decoder tree for a type, or says clearly which part is not supported.
pub fn decoder_for(desc: &TypeDesc) -> Result<Box<dyn Column>> {
    use TypeDesc as T;
    Ok(match desc {
        T::String => Box::new(columns::string::StringColumn::default()),
        T::FixedString(n) => Box::new(columns::fixed_string::FixedStringColumn::new(*n)),
        T::Nullable(inner) => Box::new(columns::nullable::NullableColumn::new(decoder_for(inner)?)),
        T::Array(inner) => Box::new(columns::array::ArrayColumn::new(decoder_for(inner)?)),
        // An empty tuple occupies no bytes per row, so an array of them could claim any element count
        // without sending data; refuse it rather than trust such counts.
        T::Tuple(elems) if elems.is_empty() => return Err(Error::UnsupportedType(desc.to_string())),
        T::Tuple(elems) => Box::new(columns::tuple::TupleColumn::new(
            elems.iter().map(|(_, t)| decoder_for(t)).collect::<Result<_>>()?,
        )),
        T::Map(k, v) => Box::new(columns::map::MapColumn::new(decoder_for(k)?, decoder_for(v)?)),
        T::SimpleAggregateFunction(_, inner) => decoder_for(inner)?,
        T::LowCardinality(inner) => {
            let (nullable, dict_type) = match inner.as_ref() {
                T::Nullable(t) => (true, t.as_ref()),
                t => (false, t),
            };
            let dict = match dict_type {
                T::String | T::FixedString(_) => decoder_for(dict_type)?,
                t => match columns::fixed::FixedColumn::new(t) {
                    Some(c) => Box::new(c),
                    None => return Err(Error::UnsupportedType(desc.to_string())),
                },
            };
            Box::new(columns::low_cardinality::LowCardinalityColumn::new(dict, nullable))
        }
        T::Nested(elems) => Box::new(columns::array::ArrayColumn::new(Box::new(columns::tuple::TupleColumn::new(
            elems.iter().map(|(_, t)| decoder_for(t)).collect::<Result<_>>()?,
        )))),
        T::Point => decoder_for(&point())?,
        T::Ring | T::LineString => decoder_for(&T::Array(Box::new(point())))?,
        T::Polygon | T::MultiLineString => decoder_for(&T::Array(Box::new(T::Array(Box::new(point())))))?,
        T::MultiPolygon => decoder_for(&T::Array(Box::new(T::Array(Box::new(T::Array(Box::new(point())))))))?,
        other => match columns::fixed::FixedColumn::new(other) {
            Some(c) => Box::new(c),
            None => return Err(Error::UnsupportedType(other.to_string())),
        },
    })
}

fn point() -> TypeDesc {
    TypeDesc::Tuple(vec![(None, TypeDesc::Float64), (None, TypeDesc::Float64)])
}

/// Reads `rows` fixed-size values of `size` bytes into `buf`, resumably: copies what the chunk holds,
/// reserving only what it can fill. Returns true once all bytes are in.
#[inline]
pub(crate) fn read_fixed(buf: &mut AlignedBuf, total: usize, input: &mut Input<'_>) -> Result<bool> {
    let missing = total - buf.len();
    if missing == 0 {
        return Ok(true);
    }
    let bytes = input.take(missing);
    if !bytes.is_empty() {
        buf.extend_from_slice(bytes)?;
    }
    Ok(buf.len() == total)
}

/// `rows * size`, or a decode error naming the overflow.
pub(crate) fn byte_len(rows: usize, size: usize, input: &Input<'_>) -> Result<usize> {
    rows.checked_mul(size).ok_or_else(|| input.error(format!("{rows} rows of {size} bytes overflow")))
}

/// Validates an offsets column (non-decreasing) and returns the child row count.
pub(crate) fn check_offsets(offsets: &[u64], input: &Input<'_>) -> Result<usize> {
    let mut prev = 0u64;
    for (i, &o) in offsets.iter().enumerate() {
        if o < prev {
            return Err(input.error(format!("array offsets decrease at row {i}: {o} after {prev}")));
        }
        prev = o;
    }
    usize::try_from(prev).map_err(|_| input.error("array offsets exceed the address space"))
}

/// Start and end of row `row` for an offsets column.
#[inline]
pub(crate) fn span(offsets: &[u64], row: usize) -> (usize, usize) {
    let end = offsets.get(row).copied().unwrap_or(0) as usize;
    let start = if row == 0 { 0 } else { offsets.get(row - 1).copied().unwrap_or(0) as usize };
    (start, end.max(start))
}

/// A little-endian u64 that may arrive split across chunks.
#[derive(Default, Clone, Copy)]
pub(crate) struct U64Reader {
    buf: [u8; 8],
    have: u8,
}

impl U64Reader {
    /// Feeds bytes until the value is complete.
    #[inline]
    pub(crate) fn feed(&mut self, input: &mut Input<'_>) -> Option<u64> {
        let want = 8 - self.have as usize;
        let got = input.take(want);
        self.buf[self.have as usize..self.have as usize + got.len()].copy_from_slice(got);
        self.have += got.len() as u8;
        if self.have == 8 {
            self.have = 0;
            Some(u64::from_le_bytes(self.buf))
        } else {
            None
        }
    }
}
