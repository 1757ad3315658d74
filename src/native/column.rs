//! The one small trait every column decoder implements, the typed views it lends out, and the helpers
//! the column files share (resumable fixed-size reads, offsets checks). The factory that picks a column
//! file for a type is `columns::decoder_for`.
//!
//! A column decoder is a resumable state machine: [`Column::start`] announces how many rows the block
//! has, then [`Column::decode`] is called with whatever bytes have arrived until it reports completion.
//! Composite columns (Nullable, Array, Tuple, Map) drive their children, so a column tree mirrors the type
//! tree. Finished columns are read through [`Column::view`] (typed borrowed slices) or [`Column::value`]
//! (one row as a [`Value`]).

use super::buffer::AlignedBuf;
use super::input::Input;
use crate::error::Result;
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

/// Reads an offsets prefix and starts `inner` with the element count; shared with `Map`.
pub(crate) fn decode_offsets(
    offsets: &mut AlignedBuf,
    rows: usize,
    done: &mut bool,
    input: &mut Input<'_>,
    children: &mut [&mut dyn Column],
) -> Result<bool> {
    if *done {
        return Ok(true);
    }
    let total = byte_len(rows, 8, input)?;
    if !read_fixed(offsets, total, input)? {
        return Ok(false);
    }
    let n = check_offsets(offsets.typed(), input)?;
    for c in children.iter_mut() {
        c.start(n);
    }
    *done = true;
    Ok(true)
}
