//! Results as Arrow [`RecordBatch`]es and inserts from them (feature `arrow`, arrow-rs).
//!
//! [`Client::query_arrow`] reads a result into record batches, one per Native block (or re-chunked to
//! [`ArrowOptions::batch_rows`]); [`Client::query_arrow_stream`] is the same as an iterator, a worker
//! thread at most about two blocks ahead; [`crate::native::Block::to_arrow`] converts one block inside
//! [`Client::query_blocks`]. Each column's data is copied once from the decoded block into Arrow
//! buffers (values, string bytes, null bitmaps), or converted where Arrow's layout differs (offsets,
//! widened dates and decimals). [`Client::insert_arrow`] goes the other way, into the table's column
//! types.
//!
//! ```no_run
//! # use clickhouse_connect::{Client, arrow::ArrowOptions};
//! let client = Client::from_url("http://localhost:8123")?;
//! let batches = client.query_arrow("SELECT number, toString(number) s FROM numbers(10)")?;
//! assert_eq!(batches[0].num_columns(), 2);
//! client.command("CREATE TABLE IF NOT EXISTS copy (number UInt64, s String) ENGINE = Memory")?;
//! client.insert_arrow("copy", &batches)?;
//! # Ok::<(), clickhouse_connect::Error>(())
//! ```
//!
//! ## Type mapping
//!
//! Where it differs from the server's own `FORMAT Arrow` output (26.9, default settings), the last
//! column says how; `tests/arrow.rs` compares every mapping with the server's output.
//!
//! | ClickHouse | Arrow | the server's `FORMAT Arrow` |
//! |---|---|---|
//! | `UInt8`…`UInt64`, `Int8`…`Int64`, `Float32`, `Float64` | the same | same |
//! | `Bool` | `Boolean` | same |
//! | `BFloat16` | `Float32` (exact) | `Binary` (the two bytes) |
//! | `UInt128`, `Int128`, `UInt256`, `Int256` | `FixedSizeBinary(16/32)`, little-endian | same |
//! | `Decimal(P, S)` | `Decimal128(P, S)` (P ≤ 38), `Decimal256(P, S)` | same |
//! | `String` | `Utf8` (checked: a row that is not UTF-8 is an error naming it), `Binary` with `use_strings(false)`; `LargeUtf8`/`LargeBinary` with `large_strings(true)` | `Utf8` (unchecked) |
//! | `FixedString(N)` | `FixedSizeBinary(N)` | same |
//! | `UUID` | `FixedSizeBinary(16)` in text order, extension `arrow.uuid` | same |
//! | `IPv4`, `IPv6` | `UInt32`, `FixedSizeBinary(16)` (network order) | same |
//! | `Date`, `Date32` | `Date32` | same |
//! | `DateTime(tz)` | `Timestamp(Second, tz)` (the server's zone when the column names none) | `UInt32` |
//! | `DateTime64(p, tz)` | `Timestamp(unit, tz)`, the unit of s/ms/µs/ns that holds `p` (ticks scaled exactly) | same |
//! | `Time`, `Time64(p)` | `Time32(Second)`; `Time32(Millisecond)`/`Time64(Microsecond/Nanosecond)` (values outside 0–24 h, which these Arrow types cannot hold, are an error naming the row, as in the server's own Arrow output) | same |
//! | `Enum8`, `Enum16` | `Dictionary(Int32, Utf8)` of the member names | `Int8`/`Int16` (the numbers) |
//! | `Interval*` | `Int64` | same |
//! | `Nullable(T)` | `T`, nullable (validity bitmap) | same |
//! | `LowCardinality(T)` | `Dictionary(Int32, T)` | `T` (a dictionary with `output_format_arrow_low_cardinality_as_dictionary`) |
//! | `Array(T)` | `List(T)` (item field `item`) | same |
//! | `Tuple(…)` | `Struct`, fields named as the tuple's elements (`1`, `2`, … when unnamed) | same |
//! | `Map(K, V)` | `Map(entries: Struct(key, value))`, keys unsorted | same |
//! | `Nested(…)`, geo types (`Point`, `Ring`, …), `SimpleAggregateFunction(f, T)` | as the arrays and tuples they are stored as (`T`) | same |
//! | `AggregateFunction(…)` | `Binary` (the states) | same |
//! | `Nothing` (`NULL`) | `Null` | same |
//! | `Variant`, `Dynamic`, `JSON`, `Geometry`, `QBit` | refused, naming the type: convert in SQL | — |
//! | `Tuple()` (no elements) | not decoded by this client at all (an error naming it) | empty `Struct` |
//!
//! Inserting, each Arrow array is converted to its column's type: arrays of the mapped type (and of
//! any type whose values the column takes — integers of other widths in range, `Utf8` text parsed as
//! the server parses text, timestamps of any unit exactly) go in, anything that does not fit is an
//! [`crate::Error::Mapping`] naming the row and column. Where the server's own `ArrowStream` insert of
//! the same batch stores something anyway, we refuse instead: a decimal that needs rounding (the
//! server stores 1.2345 as 1.23 in `Decimal(10, 2)`; 1.2300 goes in), a timestamp with a fraction of
//! a second for a `DateTime` (the server drops it), an integer out of the column's range (the server
//! stores -1 as 18446744073709551615 in `UInt64`), a struct without one of the tuple's elements or a
//! NULL struct row in a tuple that is not Nullable (the server stores the elements' defaults). A struct's extra
//! fields are ignored, as the server ignores them (`tests/arrow_adversary.rs`).

use crate::error::Result;
use crate::native::Block;
use crate::{CallOptions, Client};
use arrow_array::RecordBatch;
use arrow_schema::{Schema, SchemaRef};
use std::sync::Arc;

mod read;
mod write;

/// How results become record batches.
#[derive(Clone, Debug)]
pub struct ArrowOptions {
    use_strings: bool,
    large_strings: bool,
    batch_rows: Option<usize>,
}

impl Default for ArrowOptions {
    fn default() -> Self {
        ArrowOptions { use_strings: true, large_strings: false, batch_rows: None }
    }
}

impl ArrowOptions {
    /// Defaults: `String` as `Utf8`, one batch per block.
    pub fn new() -> Self {
        Self::default()
    }

    /// `String` columns as `Utf8` (`true`, the default; rows are checked to be UTF-8) or `Binary`
    /// (the Python driver's `use_strings`).
    pub fn use_strings(mut self, yes: bool) -> Self {
        self.use_strings = yes;
        self
    }

    /// `String` columns as `LargeUtf8`/`LargeBinary` (64-bit offsets) rather than `Utf8`/`Binary`
    /// (`false`, the default) — the layout pandas' Arrow-backed strings hold, so a frame made from the
    /// batches takes the buffers as they are.
    pub fn large_strings(mut self, yes: bool) -> Self {
        self.large_strings = yes;
        self
    }

    /// Batches of this many rows (the last one shorter) instead of one per block (0: one per block).
    pub fn batch_rows(mut self, rows: usize) -> Self {
        self.batch_rows = (rows > 0).then_some(rows);
        self
    }
}

impl Block<'_> {
    /// This block as a record batch (see [`crate::arrow`]).
    pub fn to_arrow(&self, options: &ArrowOptions) -> Result<RecordBatch> {
        let cx = read::Cx {
            use_strings: options.use_strings,
            large_strings: options.large_strings,
            server_tz: self.server_timezone(),
        };
        let mut fields = Vec::with_capacity(self.columns().len());
        let mut arrays = Vec::with_capacity(self.columns().len());
        for c in self.columns() {
            fields.push(read::field(c.name(), c.desc(), &cx)?);
            arrays.push(read::array(c.column(), c.desc(), &cx)?);
        }
        let schema = Arc::new(Schema::new(fields));
        let options = arrow_array::RecordBatchOptions::new().with_row_count(Some(self.rows()));
        RecordBatch::try_new_with_options(schema, arrays, &options)
            .map_err(|e| crate::Error::usage(format!("cannot make a record batch of the block: {e}")))
    }
}

impl Client {
    /// Runs `sql` and returns its result as record batches (one per block; the server sends no block
    /// for an empty result, so that gives no batch).
    pub fn query_arrow(&self, sql: &str) -> Result<Vec<RecordBatch>> {
        self.query_arrow_with(sql, &CallOptions::default(), &ArrowOptions::default())
    }

    /// [`Client::query_arrow`] with per-call and Arrow options.
    pub fn query_arrow_with(&self, sql: &str, opts: &CallOptions, arrow: &ArrowOptions) -> Result<Vec<RecordBatch>> {
        let mut batches = Vec::new();
        self.query_blocks_with(sql, opts, |block| {
            batches.push(block.to_arrow(arrow)?);
            Ok(())
        })?;
        if batches.len() > 1 {
            batches.retain(|b| b.num_rows() > 0);
        }
        match arrow.batch_rows {
            Some(n) if batches.iter().any(|b| b.num_rows() > 0) => {
                Rechunk::new(batches.into_iter().map(Ok), n).collect()
            }
            _ => Ok(batches),
        }
    }

    /// Runs `sql` and returns its batches as an iterator (the query runs on a worker thread at most about
    /// two blocks ahead; dropping the iterator cancels the query).
    pub fn query_arrow_stream(
        self: &Arc<Self>,
        sql: &str,
        opts: &CallOptions,
        arrow: &ArrowOptions,
    ) -> Result<ArrowStream> {
        let options = arrow.clone();
        let stream = self.stream_rows(sql, opts, move |block, _| match block.to_arrow(&options) {
            Ok(batch) => (vec![batch], Ok(())),
            Err(e) => (Vec::new(), Err(e)),
        })?;
        Ok(ArrowStream { inner: Rechunk::new(stream, arrow.batch_rows.unwrap_or(0)) })
    }
}

/// Rows per Native block of `insert_arrow` at most (a longer batch is sent in slices).
const INSERT_BLOCK_ROWS: usize = 1 << 20;

impl Client {
    /// Inserts record batches into `table`, in one request: the columns are the batches' fields (by
    /// name), each array converted to its column's type (see [`crate::arrow`]). Every batch must have
    /// the first one's field names. All batches are converted before anything is sent, so a value that
    /// does not fit ([`crate::Error::Mapping`], naming the row and column) inserts nothing (the
    /// encoded blocks are held meanwhile: about the batches' size again, as the Python driver holds
    /// its serialized table).
    pub fn insert_arrow(&self, table: &str, batches: &[RecordBatch]) -> Result<crate::InsertSummary> {
        self.insert_arrow_with(table, batches, &CallOptions::default())
    }

    /// [`Client::insert_arrow`] with per-call options.
    pub fn insert_arrow_with(
        &self,
        table: &str,
        batches: &[RecordBatch],
        opts: &CallOptions,
    ) -> Result<crate::InsertSummary> {
        let Some(first) = batches.first() else { return Ok(crate::InsertSummary::default()) };
        let schema = first.schema();
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
        let mut ins = self.inserter_with(table, &names, INSERT_BLOCK_ROWS, opts)?;
        for batch in batches {
            let same = batch.schema().fields().iter().map(|f| f.name().as_str()).eq(names.iter().copied());
            if !same {
                return Err(crate::Error::usage(format!(
                    "every batch must have the first one's fields ({}); one has other fields",
                    names.join(", ")
                )));
            }
        }
        let (columns, types, _) = ins.encoding_parts();
        if batches.iter().all(|b| write::all_direct(b, columns, types)) {
            // Nothing to convert, so nothing can fail once sending starts: each block is encoded into
            // the inserter's own buffer and sent, holding one block at a time.
            for (part, _) in blocks_of(batches) {
                ins.write_encoding(part.num_rows(), |out, columns, types, coercion| {
                    write::encode_batch(out, &part, columns, types, coercion, 0)
                })?;
            }
            return ins.end();
        }
        // Some values are converted, and a value that does not fit must fail the call before any row
        // is sent: every block is encoded first.
        let mut blocks = Vec::new();
        for (part, before) in blocks_of(batches) {
            let (columns, types, coercion) = ins.encoding_parts();
            let mut block = Vec::new();
            write::encode_batch(&mut block, &part, columns, types, coercion, before)?;
            blocks.push((block, part.num_rows()));
        }
        for (block, rows) in blocks {
            ins.write_encoded(&block, rows)?;
        }
        ins.end()
    }
}

/// The batches cut into blocks of at most `INSERT_BLOCK_ROWS` rows (slices, no copy), each with the
/// number of rows before it.
fn blocks_of(batches: &[RecordBatch]) -> impl Iterator<Item = (RecordBatch, u64)> + '_ {
    let mut before = 0u64;
    batches.iter().flat_map(|b| (0..b.num_rows()).step_by(INSERT_BLOCK_ROWS).map(move |at| (b, at))).map(
        move |(b, at)| {
            let rows = (b.num_rows() - at).min(INSERT_BLOCK_ROWS);
            before += rows as u64;
            (b.slice(at, rows), before - rows as u64)
        },
    )
}

/// Record batches of a query, as they arrive; from [`Client::query_arrow_stream`].
pub struct ArrowStream {
    inner: Rechunk<crate::RowStream<RecordBatch>>,
}

impl Iterator for ArrowStream {
    type Item = Result<RecordBatch>;
    fn next(&mut self) -> Option<Result<RecordBatch>> {
        self.inner.next()
    }
}

/// Batches re-cut to `rows` rows each (0: as they come); batches of other lengths are sliced (no copy)
/// or concatenated.
struct Rechunk<I> {
    inner: I,
    rows: usize,
    pending: Vec<RecordBatch>,
    pending_rows: usize,
    schema: Option<SchemaRef>,
    done: bool,
}

impl<I: Iterator<Item = Result<RecordBatch>>> Rechunk<I> {
    fn new(inner: I, rows: usize) -> Self {
        Rechunk { inner, rows, pending: Vec::new(), pending_rows: 0, schema: None, done: false }
    }

    /// The first `n` pending rows as one batch.
    fn take(&mut self, n: usize) -> Result<RecordBatch> {
        let schema = self.schema.clone().unwrap_or_else(|| Arc::new(Schema::empty()));
        let mut parts = Vec::new();
        let mut need = n;
        while need > 0 && !self.pending.is_empty() {
            let first = self.pending.remove(0);
            if first.num_rows() <= need {
                need -= first.num_rows();
                parts.push(first);
            } else {
                parts.push(first.slice(0, need));
                self.pending.insert(0, first.slice(need, first.num_rows() - need));
                need = 0;
            }
        }
        self.pending_rows -= n - need;
        if parts.len() == 1 {
            return Ok(parts.remove(0));
        }
        arrow_select::concat::concat_batches(&schema, &parts)
            .map_err(|e| crate::Error::usage(format!("cannot join record batches: {e}")))
    }
}

impl<I: Iterator<Item = Result<RecordBatch>>> Iterator for Rechunk<I> {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Result<RecordBatch>> {
        if self.rows == 0 {
            return self.inner.next();
        }
        while !self.done && self.pending_rows < self.rows {
            match self.inner.next() {
                Some(Ok(b)) => {
                    self.schema.get_or_insert_with(|| b.schema());
                    if b.num_rows() > 0 {
                        self.pending_rows += b.num_rows();
                        self.pending.push(b);
                    }
                }
                Some(Err(e)) => return Some(Err(e)),
                None => self.done = true,
            }
        }
        if self.pending_rows == 0 {
            return None;
        }
        let n = self.pending_rows.min(self.rows);
        Some(self.take(n))
    }
}
