//! One file per column type. Each holds the type's decoder (implementing [`crate::native::Column`]) and
//! its builder (implementing [`crate::native::encoder::ColumnEncoder`] and
//! [`crate::native::encoder::ValueBuilder`]); composite builders are generic over their children, so the
//! same `NullableBuilder`/`ArrayBuilder` serve typed fast paths and value-driven inserts.
//!
//! - `fixed`: every fixed-width type (integers to 256 bits, floats, BFloat16, Bool, Decimal, Date/Date32,
//!   DateTime/DateTime64, Time/Time64, UUID, IPv4/IPv6, Enum8/16, Interval, Nothing): one bulk copy.
//! - `string`: length-prefixed strings into offsets + one contiguous byte buffer.
//! - `fixed_string`: `FixedString(N)`, a bulk copy of `rows * N` bytes.
//! - `nullable`: a null map, then the inner column.
//! - `array`: u64 end offsets, then the flattened inner column (also `Nested` and the geo types).
//! - `tuple`: child columns one after another (also `Point`).
//! - `low_cardinality`: a version prefix, then parts of (flags, dictionary, indexes); keys widened to u32.
//! - `map`: offsets, then keys and values as two child columns.

pub mod array;
pub mod fixed;
pub mod fixed_string;
pub mod low_cardinality;
pub mod map;
pub mod nullable;
pub mod string;
pub mod tuple;
