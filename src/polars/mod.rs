//! Results as polars `DataFrame`s and inserts from them (feature `polars`, on polars-core).
//!
//! Built on the [`crate::arrow`] mapping: a result's record batches are handed to polars through the
//! Arrow C data interface (no copy of the buffers; each batch a chunk), and a `DataFrame`'s chunks come
//! back the same way for [`Client::insert_arrow`]'s conversions. polars reads the Arrow types as it
//! reads them anywhere (`Timestamp` as `Datetime` with its zone, `Date32` as `Date`, dictionaries as
//! `Categorical`, `Decimal128` as `Decimal`, `FixedSizeBinary` as `Binary`, …); a type polars has no
//! counterpart for is refused naming the column.
//!
//! ```no_run
//! # use clickhouse_connect::Client;
//! let client = Client::from_url("http://localhost:8123")?;
//! let df = client.query_df("SELECT number, toString(number) AS s FROM numbers(5)")?;
//! assert_eq!(df.height(), 5);
//! client.command("CREATE TABLE IF NOT EXISTS copy (number UInt64, s String) ENGINE = Memory")?;
//! client.insert_df("copy", &df)?;
//! # Ok::<(), clickhouse_connect::Error>(())
//! ```

use crate::arrow::ArrowOptions;
use crate::error::{Error, Result};
use crate::{CallOptions, Client, InsertSummary};
use arrow_array::RecordBatch;
use polars_core::prelude::{Column, CompatLevel, DataFrame, Series};
use std::sync::Arc;

mod ffi;

fn polars_err(what: &str, e: impl std::fmt::Display) -> Error {
    Error::usage(format!("{what}: {e}"))
}

impl Client {
    /// Runs `sql` and returns its result as a `DataFrame` (one chunk per block).
    pub fn query_df(&self, sql: &str) -> Result<DataFrame> {
        self.query_df_with(sql, &CallOptions::default(), &ArrowOptions::default())
    }

    /// [`Client::query_df`] with per-call and Arrow options (`use_strings(false)` gives `Binary`).
    pub fn query_df_with(&self, sql: &str, opts: &CallOptions, arrow: &ArrowOptions) -> Result<DataFrame> {
        let batches = self.query_arrow_with(sql, opts, arrow)?;
        batches_to_df(&batches)
    }

    /// Inserts a `DataFrame` into `table` in one request: columns by name, each converted to its
    /// column's type as [`Client::insert_arrow`] converts.
    pub fn insert_df(&self, table: &str, df: &DataFrame) -> Result<InsertSummary> {
        self.insert_df_with(table, df, &CallOptions::default())
    }

    /// [`Client::insert_df`] with per-call options.
    pub fn insert_df_with(&self, table: &str, df: &DataFrame, opts: &CallOptions) -> Result<InsertSummary> {
        let batches = df_to_batches(df)?;
        self.insert_arrow_with(table, &batches, opts)
    }
}

/// Whether polars takes arrays of this Arrow type (its importer panics on some it does not).
fn polars_takes(dt: &arrow_schema::DataType) -> bool {
    use arrow_schema::DataType as D;
    match dt {
        D::Null
        | D::Boolean
        | D::Int8
        | D::Int16
        | D::Int32
        | D::Int64
        | D::UInt8
        | D::UInt16
        | D::UInt32
        | D::UInt64
        | D::Float32
        | D::Float64
        | D::Utf8
        | D::LargeUtf8
        | D::Utf8View
        | D::Binary
        | D::LargeBinary
        | D::BinaryView
        | D::FixedSizeBinary(_)
        | D::Date32
        | D::Timestamp(..)
        | D::Time32(_)
        | D::Time64(_)
        | D::Decimal128(..) => true,
        D::Dictionary(_, v) => polars_takes(v),
        D::List(f) | D::LargeList(f) | D::FixedSizeList(f, _) | D::Map(f, _) => polars_takes(f.data_type()),
        D::Struct(fields) => fields.iter().all(|f| polars_takes(f.data_type())),
        _ => false,
    }
}

/// Record batches (of one schema) as a `DataFrame`, each batch a chunk.
pub fn batches_to_df(batches: &[RecordBatch]) -> Result<DataFrame> {
    let Some(first) = batches.first() else { return Ok(DataFrame::empty()) };
    let schema = first.schema();
    let mut columns = Vec::with_capacity(schema.fields().len());
    for (i, f) in schema.fields().iter().enumerate() {
        if !polars_takes(f.data_type()) {
            return Err(Error::UnsupportedType(format!(
                "column {} is {} in Arrow, which polars has no type for (convert it in the query)",
                f.name(),
                f.data_type()
            )));
        }
        let mut field = None;
        let mut chunks = Vec::with_capacity(batches.len());
        for b in batches {
            let (pf, chunk) = ffi::to_polars(f.name(), b.column(i))?;
            field.get_or_insert(pf);
            chunks.push(chunk);
        }
        let field = field.ok_or_else(|| Error::internal("no batch"))?;
        let series = Series::try_from((&field, chunks))
            .map_err(|e| polars_err(&format!("polars cannot take column {}", f.name()), e))?;
        columns.push(Column::from(series));
    }
    let height = batches.iter().map(|b| b.num_rows()).sum();
    DataFrame::new(height, columns).map_err(|e| polars_err("cannot make the DataFrame", e))
}

/// A `DataFrame` as record batches, one per chunk (the columns' chunks aligned first).
pub fn df_to_batches(df: &DataFrame) -> Result<Vec<RecordBatch>> {
    let mut df = df.clone();
    df.align_chunks();
    let chunks = df.first_col_n_chunks();
    let mut batches = Vec::with_capacity(chunks);
    for chunk in 0..chunks {
        let mut fields = Vec::with_capacity(df.width());
        let mut arrays = Vec::with_capacity(df.width());
        for c in df.columns() {
            let s = c.as_materialized_series();
            let a = s.to_arrow(chunk, CompatLevel::newest());
            let field = s.field().to_arrow(CompatLevel::newest());
            let array = ffi::from_polars(&field, a)?;
            fields.push(arrow_schema::Field::new(s.name().as_str(), array.data_type().clone(), true));
            arrays.push(array);
        }
        let schema = Arc::new(arrow_schema::Schema::new(fields));
        batches.push(RecordBatch::try_new(schema, arrays).map_err(|e| polars_err("cannot make a record batch", e))?);
    }
    Ok(batches)
}
