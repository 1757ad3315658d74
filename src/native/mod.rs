//! The Native columnar codec: ClickHouse's own wire format, decoded and encoded column by column.
//!
//! Data flows in one direction: the transport hands byte chunks to [`BlockDecoder::feed`]; the decoder
//! parses each block's header (column count, row count, names, type names via the [`crate::types`]
//! grammar), builds one column decoder per column (one file per type in `columns`, picked by the one
//! registry there), and those copy payload bytes once, straight from the chunk into each column's own
//! aligned buffer (`buffer`, the crate's one audited `unsafe` module). A finished block is lent out as
//! [`Block`] with read-only columns ([`Column`]): typed borrowed views ([`ColumnView`], whose
//! [`Offsets`] and [`NullMap`] carry their invariants) and row-wise [`crate::Value`]s.
//!
//! Inserts go the other way: a builder per column type ([`builder_for`] for any type from
//! [`crate::Value`]s; [`FixedBuilder`], [`StringBuilder`], [`NullableBuilder`], [`ArrayBuilder`] for
//! typed fast paths), all implementing [`ColumnEncoder`], written as one block by [`write_block`].

pub mod binary;
#[allow(unsafe_code)] // the one audited module: owned aligned column buffers (see its docs)
pub(crate) mod buffer;
pub(crate) mod column;
pub(crate) mod columns;
pub(crate) mod decoder;
pub(crate) mod encoder;
pub(crate) mod input;

pub use crate::types::{self, TypeDesc};
pub use column::{Column, ColumnView, NullMap, Offsets, TupleColumns, TupleIter};
pub use columns::array::ArrayBuilder;
pub use columns::builder_for;
pub use columns::fixed::FixedBuilder;
pub use columns::nullable::NullableBuilder;
pub use columns::string::StringBuilder;
pub use decoder::{Block, BlockBytes, BlockDecoder, DEFAULT_MAX_BLOCK_BYTES, DecodedColumn, OwnedBlock};
pub use encoder::{ColumnEncoder, ValueBuilder, write_block, write_block_from};
