//! # clickhouse-connect
//!
//! A ClickHouse client over HTTP(S), built on the system libcurl, that moves data in ClickHouse's Native
//! columnar format. Three layers, data flowing one way:
//!
//! - `transport` (internal): libcurl requests, TLS, authentication, compression, ClickHouse exceptions;
//! - [`types`]: the type grammar, below everything else;
//! - [`native`]: the streaming block decoder/encoder and the column types;
//! - [`format`](mod@format) and [`params`](mod@params): ClickHouse's text formats and parameter binding, byte for byte;
//! - [`Client`]: the facade: `command`, `query`, `query_blocks`, `raw_query`, `insert_block`.
//!
//! ```no_run
//! use clickhouse_connect::Client;
//! let client = Client::from_url("http://default@127.0.0.1:8123/default")?;
//! client.command("CREATE TABLE IF NOT EXISTS t (id UInt64, name String) ENGINE = Memory")?;
//! let result = client.query("SELECT id, name FROM t ORDER BY id")?;
//! for row in &result.rows {
//!     println!("{:?}", row);
//! }
//! # Ok::<(), clickhouse_connect::Error>(())
//! ```

#![warn(missing_docs)]
#![deny(unsafe_code)]

#[cfg(not(target_endian = "little"))]
compile_error!(
    "clickhouse-connect maps Native column bytes directly onto typed slices and needs a little-endian target"
);

#[cfg(feature = "arrow")]
pub mod arrow;
mod client;
mod error;
pub mod format;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod native;
pub mod params;
#[cfg(feature = "polars")]
pub mod polars;
#[cfg(feature = "serde")]
pub mod row;
mod transport;
pub mod types;
mod value;

#[cfg(feature = "async")]
pub use client::{AsyncClient, AsyncInserter, BlockStream};
pub use client::{
    BlockBuilder, CallOptions, Client, ClientOptions, ColumnElement, CommandResult, Compression, ContentEncoding,
    EncodedBlock, InsertSummary, Inserter, LoadBalancing, ProgressCallback, QueryContext, QueryResult, RequestLimits,
    Row, RowStream, quote_identifier,
};
pub use error::{Error, Result};
#[cfg(all(feature = "async", feature = "serde"))]
pub use row::AsyncTypedInserter;
#[cfg(feature = "serde")]
pub use row::{RowsAs, TypedInserter};
pub use transport::{Progress, ResponseMeta, Summary};
pub use value::Value;
pub use value::nullable;

/// Compiles the README's examples as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
