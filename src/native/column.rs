//! What a decoded column is to its readers, and the decode protocol behind it.
//!
//! Readers see [`Column`]: its row count, a typed borrowed [`ColumnView`], or one row as a [`Value`].
//! The trait is sealed (only this crate's column files implement it) and read-only. The decode
//! protocol is the crate-private `ColumnDecoder`, a supertrait of `Column`: a resumable state machine
//! where `start` announces how many rows the block has, then `decode` is called with whatever bytes
//! have arrived until it reports completion. Composite columns (Nullable, Array, Tuple, Map,
//! LowCardinality) drive their children, so a column tree mirrors the type tree.
//!
//! Views carry their invariants in their types: [`Offsets`] are non-decreasing end offsets (checked
//! once, when made), [`NullMap`] says which rows are NULL, [`TupleColumns`] lends the elements. The
//! helpers at the end (resumable fixed-size reads, offsets checks) are shared by the column files; the
//! factory that picks a column file for a type is [`crate::native::decoder_for`].

use super::buffer::AlignedBuf;
use super::input::Input;
use crate::error::Result;
use crate::types::TypeDesc;
use crate::value::Value;
use std::ops::Range;

mod sealed {
    /// Keeps [`super::Column`] implemented by this crate's column files only.
    pub trait Sealed {}
}
pub(crate) use sealed::Sealed;

/// A decoded column, read-only: the block's rows as a typed view or as values.
pub trait Column: Send + Sync + Sealed {
    /// Rows decoded (all of the block's once the block is handed out).
    fn rows(&self) -> usize;
    /// Typed borrowed access to the decoded data.
    fn view(&self) -> ColumnView<'_>;
    /// One row as a value. `row` must be `< rows()`; out-of-range rows give `Value::Null`.
    fn value(&self, row: usize) -> Value<'_>;
}

/// The decode protocol of a column type. Implementations live one per file in `native/columns/`.
pub(crate) trait ColumnDecoder: Column {
    /// Begins a new block of `rows` values. The previous block's values are cleared; buffers keep their
    /// capacity.
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
    /// Bytes of data the column stores for the current block (children included), for the decoder's
    /// memory limit.
    fn stored_bytes(&self) -> usize;
}

/// End offsets of variable-length rows (String, Array, Map): row `i` is `ends[i-1]..ends[i]` of the
/// child data (row 0 starts at 0). Non-decreasing, checked when made.
#[derive(Clone, Copy, Debug)]
pub struct Offsets<'a>(&'a [u64]);

impl<'a> Offsets<'a> {
    /// The offsets, if they never decrease.
    pub fn new(ends: &'a [u64]) -> Option<Self> {
        ends.windows(2).all(|w| w[0] <= w[1]).then_some(Offsets(ends))
    }

    /// Offsets the decoder made or checked already (String offsets it wrote itself; Array and Map
    /// offsets it checked with `check_offsets` before starting the children). Not checked again: a
    /// column's rows are read one at a time through this.
    #[inline]
    pub(crate) fn trusted(ends: &'a [u64]) -> Self {
        Offsets(ends)
    }

    /// Number of rows.
    #[inline]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no rows.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The raw end offsets.
    #[inline]
    pub fn ends(&self) -> &'a [u64] {
        self.0
    }

    /// Where the rows end: the child data's length (0 when there are no rows).
    #[inline]
    pub fn total(&self) -> u64 {
        self.0.last().copied().unwrap_or(0)
    }

    /// Each row's range in the child data, in order.
    pub fn ranges(&self) -> impl ExactSizeIterator<Item = Range<usize>> + 'a {
        let ends = self.0;
        (0..ends.len()).map(move |i| (if i == 0 { 0 } else { ends[i - 1] as usize })..ends[i] as usize)
    }

    /// Row `row`'s range in the child data; empty for a row past the end.
    #[inline]
    pub fn range(&self, row: usize) -> Range<usize> {
        let Some(&end) = self.0.get(row) else { return 0..0 };
        let start = if row == 0 { 0 } else { self.0[row - 1] };
        start as usize..end as usize
    }
}

/// Which rows of a `Nullable` column are NULL: one byte per row, non-zero for NULL.
#[derive(Clone, Copy, Debug)]
pub struct NullMap<'a>(&'a [u8]);

impl<'a> NullMap<'a> {
    /// A null map over one byte per row.
    pub fn new(bytes: &'a [u8]) -> Self {
        NullMap(bytes)
    }

    /// Number of rows.
    #[inline]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no rows.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether row `row` is NULL (a row past the end is).
    #[inline]
    pub fn is_null(&self, row: usize) -> bool {
        self.0.get(row).is_none_or(|&b| b != 0)
    }

    /// For each row, whether it is NULL.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = bool> + 'a {
        self.0.iter().map(|&b| b != 0)
    }

    /// The raw bytes.
    #[inline]
    pub fn bytes(&self) -> &'a [u8] {
        self.0
    }
}

/// The element columns of a `Tuple`, each with the block's row count.
#[derive(Clone, Copy)]
pub struct TupleColumns<'a>(&'a [Box<dyn ColumnDecoder>]);

impl<'a> TupleColumns<'a> {
    pub(crate) fn new(elems: &'a [Box<dyn ColumnDecoder>]) -> Self {
        TupleColumns(elems)
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the tuple has no elements.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Element `i`.
    pub fn get(&self, i: usize) -> Option<&'a dyn Column> {
        self.0.get(i).map(|c| c.as_ref() as &dyn Column)
    }

    /// The elements in order.
    pub fn iter(&self) -> TupleIter<'a> {
        TupleIter(self.0.iter())
    }
}

impl<'a> IntoIterator for TupleColumns<'a> {
    type Item = &'a dyn Column;
    type IntoIter = TupleIter<'a>;
    fn into_iter(self) -> TupleIter<'a> {
        TupleIter(self.0.iter())
    }
}

/// The element columns of a tuple, in order.
pub struct TupleIter<'a>(std::slice::Iter<'a, Box<dyn ColumnDecoder>>);

impl<'a> Iterator for TupleIter<'a> {
    type Item = &'a dyn Column;
    fn next(&mut self) -> Option<&'a dyn Column> {
        self.0.next().map(|c| c.as_ref() as &dyn Column)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl ExactSizeIterator for TupleIter<'_> {}

/// Typed, borrowed access to a decoded column.
#[non_exhaustive]
pub enum ColumnView<'a> {
    /// `UInt8`, `Bool`, `Nothing`.
    UInt8(&'a [u8]),
    /// `UInt16`.
    UInt16(&'a [u16]),
    /// `UInt32`.
    UInt32(&'a [u32]),
    /// `UInt64`.
    UInt64(&'a [u64]),
    /// `UInt128`.
    UInt128(&'a [u128]),
    /// `Int8`.
    Int8(&'a [i8]),
    /// `Int16`.
    Int16(&'a [i16]),
    /// `Int32`.
    Int32(&'a [i32]),
    /// `Int64`.
    Int64(&'a [i64]),
    /// `Int128`.
    Int128(&'a [i128]),
    /// `Float32`.
    Float32(&'a [f32]),
    /// `Float64`.
    Float64(&'a [f64]),
    /// 256-bit values as little-endian limbs.
    Wide(&'a [[u64; 4]]),
    /// `String`: row i is `data[offsets.range(i)]`.
    String {
        /// End offsets into `data`.
        offsets: Offsets<'a>,
        /// All rows' bytes, one after another.
        data: &'a [u8],
    },
    /// `FixedString(width)`: rows are consecutive `width`-byte slices of `data`.
    FixedString {
        /// Bytes per row.
        width: usize,
        /// All rows' bytes.
        data: &'a [u8],
    },
    /// `Nullable(T)`: `inner` holds a (default) value for every row, NULL or not.
    Nullable {
        /// Which rows are NULL.
        nulls: NullMap<'a>,
        /// The values.
        inner: &'a dyn Column,
    },
    /// `Array(T)`: row i is the elements `offsets.range(i)` of `inner`.
    Array {
        /// End offsets into `inner`.
        offsets: Offsets<'a>,
        /// All rows' elements, one after another.
        inner: &'a dyn Column,
    },
    /// `Tuple(…)`: one child column per element, each with the block's row count.
    Tuple(TupleColumns<'a>),
    /// `LowCardinality(T)`: `keys[i]` indexes `dictionary` (for `LowCardinality(Nullable(T))`, key 0
    /// means NULL).
    LowCardinality {
        /// One dictionary index per row.
        keys: &'a [u32],
        /// The distinct values.
        dictionary: &'a dyn Column,
        /// Whether key 0 means NULL.
        nullable: bool,
    },
    /// `Map(K, V)`: like an array of (key, value) rows.
    Map {
        /// End offsets into `keys` and `values`.
        offsets: Offsets<'a>,
        /// All rows' keys.
        keys: &'a dyn Column,
        /// All rows' values.
        values: &'a dyn Column,
    },
    /// `Variant(…)` (and `Geometry`): row i is row `positions[i]` of alternative `discriminators[i]`,
    /// or NULL where the discriminator is 255.
    Variant {
        /// Each row's alternative (255: NULL).
        discriminators: &'a [u8],
        /// Each row's row inside its alternative's column.
        positions: &'a [u32],
        /// The alternatives' columns, each holding only its own rows.
        variants: TupleColumns<'a>,
    },
    /// `Dynamic`: a variant over the types this block holds, each row with its own type. Rows of
    /// the `SharedVariant` alternative (types beyond the column's `max_types`) hold the type and value
    /// in ClickHouse's binary encoding; [`Column::value`] decodes them.
    Dynamic {
        /// The block's types, in the variant's order (`SharedVariant` listed as `String`).
        types: &'a [TypeDesc],
        /// Which alternative is the shared variant.
        shared: usize,
        /// The variant column.
        variant: &'a dyn Column,
    },
    /// `JSON`: typed paths, dynamic paths (each a `Dynamic` column) and the shared data
    /// (`Array(Tuple(path String, value String))`, values in binary encoding).
    Json {
        /// Typed paths and their columns, sorted by path.
        typed: Vec<(&'a str, &'a dyn Column)>,
        /// This block's dynamic paths and their `Dynamic` columns, sorted by path.
        dynamic: Vec<(&'a str, &'a dyn Column)>,
        /// The shared data column.
        shared: &'a dyn Column,
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
    children: &mut [&mut dyn ColumnDecoder],
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
