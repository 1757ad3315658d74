//! The Native columnar codec: ClickHouse's own wire format, decoded and encoded column by column.
//!
//! Data flows in one direction: the transport hands byte chunks to [`BlockDecoder::feed`]; the decoder
//! parses each block's header (column count, row count, names, type names via the [`types`] grammar),
//! builds one [`Column`] decoder per column (one file per type in [`columns`]), and those copy payload
//! bytes once, straight from the chunk into arena storage (see `arena`). A finished block is lent out as
//! [`Block`] with typed borrowed columns ([`ColumnView`]) and row-wise [`crate::Value`]s.
//! The [`encoder`] is the mirror image for inserts.

#[allow(unsafe_code)] // the one audited module: owned aligned column buffers (see its docs)
pub(crate) mod buffer;
pub mod column;
pub(crate) mod columns;
pub mod decoder;
pub mod encoder;
pub mod input;

pub use crate::types::{self, TypeDesc};
pub use column::{Column, ColumnView};
pub use columns::array::ArrayBuilder;
pub use columns::builder_for;
pub use columns::fixed::FixedBuilder;
pub use columns::nullable::NullableBuilder;
pub use columns::string::StringBuilder;
pub use decoder::{Block, BlockBytes, BlockDecoder, DEFAULT_MAX_BLOCK_BYTES, DecodedColumn};
pub use encoder::{ColumnEncoder, ValueBuilder, write_block};
