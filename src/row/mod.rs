//! Rows as Rust types through serde (feature `serde`, on by default): query results read into
//! `#[derive(Deserialize)]` structs and tuples, and structs inserted as rows.
//!
//! ## Reading
//! [`Client::query_as`] collects a result into a `Vec<T>`; [`Client::query_as_stream`] is an iterator
//! of owned rows (a worker thread at most about two blocks ahead); [`Block::rows_as`] reads the rows
//! of one block of [`Client::query_blocks`] and lends strings and bytes straight from the block, so a
//! struct of `&str` fields reads a row without copying its text:
//!
//! ```no_run
//! # use clickhouse_connect::Client;
//! #[derive(serde::Deserialize)]
//! struct Event<'a> {
//!     id: u64,
//!     name: &'a str,
//!     tags: Vec<String>,
//!     score: Option<f64>,
//! }
//! let client = Client::from_url("http://localhost:8123")?;
//! client.query_blocks("SELECT id, name, tags, score FROM events", |block| {
//!     for event in block.rows_as::<Event>() {
//!         let event = event?;
//!         println!("{} {}", event.id, event.name);
//!     }
//!     Ok(())
//! })?;
//! # Ok::<(), clickhouse_connect::Error>(())
//! ```
//!
//! A struct's fields are matched to the result's columns **by name** (serde's `rename` and `alias`
//! apply — a result with columns for both a field's name and its alias is serde's "duplicate field";
//! columns no field names are not read; a field without a column is serde's "missing field", unless
//! it has `#[serde(default)]` or is an `Option`; `#[serde(flatten)]` works, though serde then reads
//! every column, named or not); a tuple's elements to the columns **by position** (the counts must
//! agree); a map (`HashMap<String, T>`) gets one entry per column; any other type reads a result of
//! one column. Types that take whatever comes (`serde_json::Value`, `#[serde(untagged)]` enums) get a
//! map of the columns by name from a result of several columns but the value itself from a result of
//! one: `SELECT 5 AS a` reads as `5`, not `{"a": 5}` (read a map or a struct to keep the names). What
//! does not fit is an [`Error::Mapping`] naming the row, the column and its type.
//!
//! A struct whose every field has a column is handed its fields in order (serde's `visit_seq`, no
//! names to compare). Where its first row in a block shows that this does not fit — serde's field list
//! holds aliases, or the `Deserialize` takes maps only — that row is read again by name, as every later
//! row of the block is: a `Deserialize` with side effects (a counter, an interner) sees that row twice.
//!
//! What each ClickHouse type gives serde (the Rust type asks, the value answers):
//!
//! | ClickHouse | Rust |
//! |---|---|
//! | integers, floats, `Bool` | the Rust number types (serde checks an integer's range: a `UInt64` of 300 is not a `u8`; an `f32` from a `Float64` is rounded as the server's `toFloat32`, `1e300` becoming `inf`), `bool` |
//! | `String`, `FixedString(N)` | `&str`/`String` (must be UTF-8), `&[u8]`/`Vec<u8>` via `serde_bytes` (any bytes), `Vec<u8>`; a type that takes any value gets text, or the bytes where they are not UTF-8 |
//! | `Nullable(T)` | `Option<T>` (a NULL read into a plain `T` is an error) |
//! | `Array(T)`, `Tuple(…)`, `Map(K, V)` | `Vec<T>`/arrays, tuples/structs (by position; a named tuple also by name), `HashMap`/`BTreeMap`/`Vec<(K, V)>` |
//! | `LowCardinality(T)`, `SimpleAggregateFunction(f, T)` | as `T` |
//! | `Date`, `Date32` | `jiff::civil::Date` or text `2024-01-31`; as a number: days since 1970 (`u16`, `i32`) |
//! | `DateTime`, `DateTime64` | `jiff::Timestamp`, `jiff::ZonedDateTime`, `jiff::civil::DateTime`: text in RFC 9557 form in the column's zone (else the server's), `2024-01-31T10:00:00+01:00[Europe/Paris]`; as a number: seconds or ticks since the epoch |
//! | `Time`, `Time64` | text as the server writes it (`-01:02:03.5`); as a number: seconds or ticks |
//! | `UUID`, `IPv4`, `IPv6` | `uuid::Uuid`, `std::net::Ipv4Addr`/`Ipv6Addr` (text); as a number: `u128`, `u32`, `u128` |
//! | `Decimal(P, S)` | text, exact (`rust_decimal` and friends read it); `f64` (nearest); integers when it has no fraction |
//! | `Enum8`, `Enum16` | a Rust enum of unit variants (by name), text (the name), or the number |
//! | `Variant(…)`, `Dynamic` | the value inside (untagged); or a Rust enum whose variants are named by type (`UInt64(u64)`, `String(String)`) |
//! | `JSON` | a struct or map over its paths nested into objects (`a.b` is field `b` of field `a`), `serde_json::Value` |
//! | `Int256`, `UInt256`, `Decimal256`, `BFloat16`, `Interval*` | text (or `i128`/`u128` when in range), `f32`, `i64` |
//! | `AggregateFunction(…)` | the state's bytes (`serde_bytes`) |
//!
//! `DateTime`s without a zone are in the call's or the client's `session_timezone` when set (as the
//! server renders them), else the server's zone. `CallOptions::nulls_as_defaults` is refused (NULLs are
//! for `Option`s).
//!
//! ## Writing
//! [`Client::insert_as`] inserts a slice of `Serialize` rows; [`Client::inserter_as`] is a
//! [`TypedInserter`], the streaming [`crate::Inserter`] for one Rust type. A struct's (or a map's, as a
//! struct with `#[serde(flatten)]` fields is) keys name the columns: the first row decides which;
//! columns it does not name get their defaults from the server. A field a row leaves out
//! (`skip_serializing_if`) gets its column's `DEFAULT` as the server's own formats give it (columns
//! with a `DEFAULT` expression take NULL for it, `input_format_null_as_default`) — except a `Nullable`
//! column's, where NULL is a value: it gets NULL. A tuple or sequence row gives the table's columns in
//! order.
//! Field values are pushed straight into the column builders, the same values and conversions as
//! [`crate::Inserter::write`] takes (text for dates, times, UUIDs, decimals, …, parsed as the server
//! parses it), so a struct of `&str` fields is inserted without copying its text into a row first.
//! The inverse of reading is accepted too: RFC 3339/9557 text for date-times (jiff's, chrono's, time's;
//! with a zone annotation, the zone decides the instant), integers as days, seconds, ticks, addresses
//! or UUID bits, a Rust enum's newtype variant named by a type (`Date(…)`) as that type in a `Variant`
//! or `Dynamic` column, and a `Map` as a sequence of pairs.
//!
//! `JSON` columns are sent as JSON text, which the server parses into the column as its own JSON input
//! does, so the paths' types are the server's inference (`Int64`, `Date`, `Array(Dynamic)`, …); typed
//! paths given as text are parsed for their types first. `Variant` and `Dynamic` values given as plain
//! Rust values take the type of the Rust value (`u64` → `UInt64`, text → `String`), where the server's
//! JSON parser would infer one (`Int64`, `Date`): name the type with an enum to choose it.

use crate::format::text::strip;
use crate::format::{TextRenderer, Zones};
use crate::native::{Block, DecodedColumn};
use crate::types::TypeDesc;
use crate::value::Value;
use crate::{Client, Error, Result};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::cell::{OnceCell, RefCell};
use std::marker::PhantomData;
use std::rc::Rc;

#[cfg(feature = "async")]
mod asynch;
mod de;
mod ser;

#[cfg(feature = "async")]
pub use asynch::AsyncTypedInserter;
pub use ser::TypedInserter;

/// What the deserializers share while reading the rows of one block: the server's zone (for text of
/// date-times), a text renderer, and which column each field of the struct being read comes from.
pub(crate) struct Cx {
    server_tz: String,
    renderer: OnceCell<RefCell<(TextRenderer, Zones)>>,
    /// Which column each field of the block's struct (the first struct a row of the block is read
    /// as) comes from, and whether it reads by position. Nested structs, read as values, do not come
    /// here.
    plan: OnceCell<StructPlan>,
    /// The same for other structs read from rows of the block (a `Deserialize` of its own may ask for
    /// several).
    others: RefCell<Vec<Rc<StructPlan>>>,
    /// Set when a struct's reading by position showed aliases (its plan turned to names): the row is
    /// read again (`RowsAs`).
    reread: std::cell::Cell<bool>,
}

impl Cx {
    pub(crate) fn new(server_tz: &str) -> Self {
        Cx {
            server_tz: server_tz.to_string(),
            renderer: OnceCell::new(),
            plan: OnceCell::new(),
            others: RefCell::new(Vec::new()),
            reread: std::cell::Cell::new(false),
        }
    }

    /// Which column each of `fields` reads: the block's struct's plan (worked out at its first row),
    /// or another struct's (worked out at its first row in the block).
    pub(crate) fn plan(&self, fields: &'static [&'static str], columns: &[DecodedColumn]) -> PlanRef<'_> {
        let key = StructPlan::key(fields);
        let block = self.plan.get_or_init(|| StructPlan::new(fields, columns));
        if block.key == key {
            return PlanRef::Block(block);
        }
        let mut others = self.others.borrow_mut();
        if let Some(p) = others.iter().find(|p| p.key == key) {
            return PlanRef::Other(p.clone());
        }
        let p = Rc::new(StructPlan::new(fields, columns));
        others.push(p.clone());
        PlanRef::Other(p)
    }

    /// Records whether `plan`'s struct reads by position; a struct that turns to names has its row
    /// read again.
    pub(crate) fn settle(&self, plan: &StructPlan, by_position: bool) {
        if !by_position && plan.by_position.get() != Some(false) {
            self.reread.set(true);
        }
        plan.by_position.set(Some(by_position));
    }

    /// The block's struct's plan, when `fields` are that struct's and it reads by position.
    #[inline(always)]
    fn positional(&self, fields: &'static [&'static str]) -> Option<&StructPlan> {
        let plan = self.plan.get()?;
        (plan.key == StructPlan::key(fields) && plan.by_position.get() == Some(true)).then_some(plan)
    }

    /// Whether a struct turned to names while the last row was read (and forgets it).
    #[inline(always)]
    fn take_reread(&self) -> bool {
        // Read first: the common row stores nothing.
        self.reread.get() && self.reread.replace(false)
    }

    /// A scalar's text: date-times in RFC 9557 form, everything else as the server writes it in TSV.
    fn text(&self, v: &Value<'_>, t: &TypeDesc) -> std::result::Result<String, String> {
        let cell = self
            .renderer
            .get_or_init(|| RefCell::new((TextRenderer::new(&self.server_tz), Zones::new(&self.server_tz))));
        let mut parts = cell.borrow_mut();
        let (renderer, zones) = &mut *parts;
        let zone = match strip(t) {
            TypeDesc::DateTime(z) | TypeDesc::DateTime64(_, z) => Some(z.as_deref()),
            _ => None,
        };
        if let Some(z) = zone.filter(|_| matches!(v, Value::DateTime(_) | Value::DateTime64 { .. })) {
            let tz = zones.get(z)?;
            let ts =
                jiff::Timestamp::try_from(v).map_err(|e| format!("{v:?} is outside the range of instants: {e}"))?;
            return Ok(rfc9557(&ts.to_zoned_datetime(tz)));
        }
        if let Value::Bool(b) = v {
            return Ok(b.to_string());
        }
        let mut out = Vec::new();
        renderer.write_tsv(&mut out, v, t);
        if let Some(e) = renderer.take_error() {
            return Err(e);
        }
        String::from_utf8(out).map_err(|e| format!("text of {t} is not UTF-8: {e}"))
    }
}

/// `2024-01-31T10:00:00+01:00[Europe/Paris]`, with the offset to the second where the zone's offset
/// then had seconds (`+00:44:30`, jiff reads it; rounded to minutes, the instant would move).
fn rfc9557(z: &jiff::ZonedDateTime) -> String {
    let secs = z.offset().seconds();
    let (sign, a) = if secs < 0 { ('-', -secs) } else { ('+', secs) };
    let mut out = format!("{}{sign}{:02}:{:02}", z.datetime(), a / 3600, a / 60 % 60);
    if a % 60 != 0 {
        out.push_str(&format!(":{:02}", a % 60));
    }
    if let Some(name) = z.time_zone().iana_name() {
        out.push('[');
        out.push_str(name);
        out.push(']');
    }
    out
}

/// A struct's plan: the block's struct's, or another's.
pub(crate) enum PlanRef<'a> {
    Block(&'a StructPlan),
    Other(Rc<StructPlan>),
}

impl std::ops::Deref for PlanRef<'_> {
    type Target = StructPlan;
    fn deref(&self) -> &StructPlan {
        match self {
            PlanRef::Block(p) => p,
            PlanRef::Other(p) => p,
        }
    }
}

/// Which column each field of a struct reads.
pub(crate) struct StructPlan {
    /// The struct's list of fields ([`StructPlan::key`]).
    key: (usize, usize),
    /// (field index, column index) per field that has a column, in field order.
    pub(crate) order: Vec<(usize, usize)>,
    /// The column index of every field in field order, when every field has a column (read by
    /// position), else empty.
    pub(crate) columns: Vec<usize>,
    /// Whether every field has a column.
    pub(crate) complete: bool,
    /// Whether the struct is read by position (its fields in order, when every field has a column):
    /// unknown until its first row; `Some(false)` once a row showed aliases among the fields serde
    /// listed or refused a sequence (see `RowDe`).
    pub(crate) by_position: std::cell::Cell<Option<bool>>,
}

impl StructPlan {
    /// The list of fields by address and length (serde gives every read of a struct the same list).
    #[inline(always)]
    fn key(fields: &'static [&'static str]) -> (usize, usize) {
        (fields.as_ptr() as usize, fields.len())
    }

    #[cold]
    fn new(fields: &'static [&'static str], columns: &[DecodedColumn]) -> Self {
        let order: Vec<(usize, usize)> = fields
            .iter()
            .enumerate()
            .filter_map(|(f, name)| columns.iter().position(|c| c.name() == *name).map(|c| (f, c)))
            .collect();
        let complete = order.len() == fields.len();
        let columns = if complete { order.iter().map(|&(_, c)| c).collect() } else { Vec::new() };
        StructPlan { key: Self::key(fields), order, columns, complete, by_position: std::cell::Cell::new(None) }
    }
}

/// The rows of one block as `T` (see the [module docs](self)); from [`Block::rows_as`].
pub struct RowsAs<'a, T> {
    columns: &'a [DecodedColumn],
    cells: Vec<de::Cell<'a>>,
    rows: usize,
    next: usize,
    /// Added to row numbers in errors (rows of the result before this block).
    first_row: u64,
    cx: Cx,
    _t: PhantomData<fn() -> T>,
}

impl<'a> Block<'a> {
    /// This block's rows as `T`, which may borrow strings and bytes from the block (see
    /// [`crate::row`]). Row numbers in errors count from 1 in this block.
    pub fn rows_as<T: Deserialize<'a>>(&self) -> RowsAs<'a, T> {
        RowsAs {
            columns: self.columns(),
            cells: self.columns().iter().map(de::Cell::of).collect(),
            rows: self.rows(),
            next: 0,
            first_row: 0,
            cx: Cx::new(self.server_timezone()),
            _t: PhantomData,
        }
    }
}

impl<'a, T: Deserialize<'a>> Iterator for RowsAs<'a, T> {
    type Item = Result<T>;

    #[inline]
    fn next(&mut self) -> Option<Result<T>> {
        if self.next >= self.rows {
            return None;
        }
        let row = self.next;
        self.next += 1;
        let de = de::RowDe { columns: self.columns, cells: &self.cells, row, cx: &self.cx };
        let read = T::deserialize(de);
        if self.cx.take_reread() {
            // A struct's first row read by position showed aliases among its fields: the row again,
            // that struct by name (as every later row).
            let de = de::RowDe { columns: self.columns, cells: &self.cells, row, cx: &self.cx };
            return Some(T::deserialize(de).map_err(|e| self.error(row, e)));
        }
        Some(read.map_err(|e| self.error(row, e)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.rows - self.next;
        (left, Some(left))
    }
}

impl<'a, T: Deserialize<'a>> ExactSizeIterator for RowsAs<'a, T> {}

impl<T> RowsAs<'_, T> {
    #[cold]
    fn error(&self, row: usize, e: de::DeError) -> Error {
        let e = e.into_problem();
        let row = self.first_row + row as u64 + 1;
        let (column, column_type) = match e.column {
            Some((c, t)) => (Some(c), Some(t)),
            None => (None, None),
        };
        let mut message = e.message;
        if column.is_none() && message.starts_with("missing field") {
            message = format!(
                "{message} of {}: the result's columns are {}",
                std::any::type_name::<T>(),
                de::column_list(self.columns)
            );
        }
        Error::Mapping { row, column, column_type, message }
    }
}

impl Client {
    /// Runs `sql` and reads every row into a `T` (see [`crate::row`]).
    ///
    /// ```no_run
    /// # use clickhouse_connect::Client;
    /// #[derive(serde::Deserialize)]
    /// struct Table {
    ///     name: String,
    ///     total_rows: Option<u64>,
    /// }
    /// let client = Client::from_url("http://localhost:8123")?;
    /// let tables: Vec<Table> = client.query_as("SELECT name, total_rows FROM system.tables")?;
    /// let pairs: Vec<(u64, String)> = client.query_as("SELECT number, toString(number) FROM numbers(3)")?;
    /// # Ok::<(), clickhouse_connect::Error>(())
    /// ```
    pub fn query_as<T: DeserializeOwned>(&self, sql: &str) -> Result<Vec<T>> {
        self.query_as_with(sql, &crate::CallOptions::default())
    }

    /// [`Client::query_as`] with per-call options.
    pub fn query_as_with<T: DeserializeOwned>(&self, sql: &str, opts: &crate::CallOptions) -> Result<Vec<T>> {
        let mut out = Vec::new();
        self.query_as_each_with(sql, opts, |row| {
            out.push(row);
            Ok(())
        })?;
        Ok(out)
    }

    /// Runs `sql` and hands each row to `on_row` as a `T` as the blocks arrive (memory stays at about
    /// one block). To borrow strings from the block, use [`Client::query_blocks`] with
    /// [`Block::rows_as`].
    pub fn query_as_each<T: DeserializeOwned>(&self, sql: &str, on_row: impl FnMut(T) -> Result<()>) -> Result<()> {
        self.query_as_each_with(sql, &crate::CallOptions::default(), on_row)
    }

    /// [`Client::query_as_each`] with per-call options.
    pub fn query_as_each_with<T: DeserializeOwned>(
        &self,
        sql: &str,
        opts: &crate::CallOptions,
        mut on_row: impl FnMut(T) -> Result<()>,
    ) -> Result<()> {
        refuse_nulls_as_defaults(opts)?;
        let mut before = 0u64;
        self.query_blocks_with(sql, opts, |block| {
            let mut rows = block.rows_as::<T>();
            rows.first_row = before;
            for row in rows {
                on_row(row?)?;
            }
            before += block.rows() as u64;
            Ok(())
        })?;
        Ok(())
    }
}

impl Client {
    /// Runs `sql` and returns its rows as an iterator of `T` (the query runs on a worker thread that
    /// reads each block into `T`s, at most about two blocks ahead of the consumer; dropping the
    /// iterator cancels the query).
    pub fn query_as_stream<T: DeserializeOwned + Send + 'static>(
        self: &std::sync::Arc<Self>,
        sql: &str,
        opts: &crate::CallOptions,
    ) -> Result<crate::RowStream<T>> {
        if opts.nulls_as_defaults {
            return Err(Error::usage("CallOptions::nulls_as_defaults applies to query/query_with only"));
        }
        self.stream_rows(sql, opts, |block, before| owned_rows_until_error(block, before))
    }
}

/// `nulls_as_defaults` is for `query` only: typed rows say what a NULL becomes themselves.
pub(crate) fn refuse_nulls_as_defaults(opts: &crate::CallOptions) -> Result<()> {
    if opts.nulls_as_defaults {
        return Err(Error::usage(
            "CallOptions::nulls_as_defaults applies to query/query_with only: read NULLs into Option fields \
             (or #[serde(default)] them)",
        ));
    }
    Ok(())
}

/// Reads a block's rows into owned `T`s, for the streams (row numbers counted from `first_row + 1`).
pub(crate) fn owned_rows<T: DeserializeOwned>(block: &Block<'_>, first_row: u64) -> Result<Vec<T>> {
    let (rows, ended) = owned_rows_until_error(block, first_row);
    ended.map(|()| rows)
}

/// The rows of `block` as `T` up to the first that cannot be read, and that row's error.
fn owned_rows_until_error<T: DeserializeOwned>(block: &Block<'_>, first_row: u64) -> (Vec<T>, Result<()>) {
    let mut rows = block.rows_as::<T>();
    rows.first_row = first_row;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        match row {
            Ok(row) => out.push(row),
            Err(e) => return (out, Err(e)),
        }
    }
    (out, Ok(()))
}
