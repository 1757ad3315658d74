//! Arrow arrays into a table's columns, for `insert_arrow`.
//!
//! A column whose Arrow array has exactly the column's layout — numbers of the same width, `Boolean`
//! into `Bool`, strings or binary into `String`, each possibly nullable into `Nullable` — is written
//! straight from the Arrow buffers into the Native block (one pass, no per-value work but the strings'
//! lengths). Any other pairing goes value by value through the column's value builder, with the
//! conversions an insert makes (text parsed as the server parses it, integers of other widths in range,
//! timestamps of any unit exactly); a value that does not fit is an [`Error::Mapping`] naming the row
//! and the column.

use crate::client::coerce::{Coercion, converts_for, may_convert};
use crate::error::{Error, Result};
use crate::native::encoder::write_block_from;
use crate::native::input::write_varuint;
use crate::native::{ColumnEncoder, ValueBuilder, builder_for};
use crate::types::TypeDesc;
use crate::value::Value;
use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef, OffsetSizeTrait, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use std::borrow::Cow;

/// Encodes `batch` as one Native block for the insert's `columns` (the batch's columns in the same
/// order). `first_row` counts the rows of earlier batches, for error messages.
pub(crate) fn encode_batch(
    out: &mut Vec<u8>,
    batch: &RecordBatch,
    columns: &[(String, String)],
    types: &[TypeDesc],
    coercion: &mut Coercion,
    first_row: u64,
) -> Result<()> {
    let mut encoders: Vec<Box<dyn ColumnEncoder + '_>> = Vec::with_capacity(columns.len());
    for (i, ((name, type_name), t)) in columns.iter().zip(types).enumerate() {
        let array = batch.column(i);
        match direct(array, t, type_name) {
            Some(d) => encoders.push(Box::new(d)),
            None => {
                let mut b = builder_for(t)?;
                fill(b.as_mut(), array.as_ref(), t, coercion).map_err(|(row, message)| Error::Mapping {
                    row: first_row + row as u64 + 1,
                    column: Some(name.clone()),
                    column_type: Some(type_name.clone()),
                    message,
                })?;
                encoders.push(Box::new(b));
            }
        }
    }
    let named = columns.iter().zip(&encoders).map(|((n, _), e)| (n.as_str(), e.as_ref() as &dyn ColumnEncoder));
    write_block_from(out, named)
}

/// Whether every column of `batch` is written straight from its Arrow buffers: nothing to convert,
/// so encoding it cannot fail.
pub(crate) fn all_direct(batch: &RecordBatch, columns: &[(String, String)], types: &[TypeDesc]) -> bool {
    columns
        .iter()
        .zip(types)
        .enumerate()
        .all(|(i, ((_, type_name), t))| direct(batch.column(i), t, type_name).is_some())
}

/// A column written straight from Arrow buffers.
struct Direct<'a> {
    type_name: &'a str,
    rows: usize,
    /// The array of a `Nullable` column, whose null map (1 for NULL) is written first.
    nulls: Option<&'a ArrayRef>,
    data: Data<'a>,
}

enum Data<'a> {
    /// Fixed-width values, little-endian, as the column stores them.
    Fixed(&'a [u8]),
    /// `Boolean`, written as one byte per row.
    Bools(&'a arrow_array::BooleanArray),
    /// Variable-length bytes: `i32` or `i64` offsets and the bytes.
    Bytes32(&'a [i32], &'a [u8]),
    Bytes64(&'a [i64], &'a [u8]),
    /// `Utf8View`/`BinaryView` (polars' strings).
    Views(&'a arrow_array::BinaryViewArray),
    StringViews(&'a arrow_array::StringViewArray),
}

/// The direct writer for `array` into a column of type `t`, when their layouts agree.
fn direct<'a>(array: &'a ArrayRef, t: &TypeDesc, type_name: &'a str) -> Option<Direct<'a>> {
    let (base, nullable) = match t {
        TypeDesc::Nullable(inner) => (inner.as_ref(), true),
        t => (t, false),
    };
    if array.null_count() > 0 && !nullable {
        // The value path names the first NULL.
        return None;
    }
    let data = match (array.data_type(), base) {
        (DataType::UInt8, TypeDesc::UInt8) => Data::Fixed(fixed_bytes::<UInt8Type>(array)),
        (DataType::UInt16, TypeDesc::UInt16) => Data::Fixed(fixed_bytes::<UInt16Type>(array)),
        (DataType::UInt32, TypeDesc::UInt32 | TypeDesc::Ipv4) => Data::Fixed(fixed_bytes::<UInt32Type>(array)),
        (DataType::UInt64, TypeDesc::UInt64) => Data::Fixed(fixed_bytes::<UInt64Type>(array)),
        (DataType::Int8, TypeDesc::Int8) => Data::Fixed(fixed_bytes::<Int8Type>(array)),
        (DataType::Int16, TypeDesc::Int16) => Data::Fixed(fixed_bytes::<Int16Type>(array)),
        (DataType::Int32, TypeDesc::Int32) => Data::Fixed(fixed_bytes::<Int32Type>(array)),
        (DataType::Int64, TypeDesc::Int64 | TypeDesc::Interval(_)) => Data::Fixed(fixed_bytes::<Int64Type>(array)),
        (DataType::Float32, TypeDesc::Float32) => Data::Fixed(fixed_bytes::<Float32Type>(array)),
        (DataType::Float64, TypeDesc::Float64) => Data::Fixed(fixed_bytes::<Float64Type>(array)),
        (DataType::Date32, TypeDesc::Date32) => Data::Fixed(fixed_bytes::<Date32Type>(array)),
        (DataType::Boolean, TypeDesc::Bool) => Data::Bools(array.as_boolean()),
        (DataType::Utf8, TypeDesc::String) => {
            bytes32(array.as_string::<i32>().offsets(), array.as_string::<i32>().values())
        }
        (DataType::Binary, TypeDesc::String) => {
            bytes32(array.as_binary::<i32>().offsets(), array.as_binary::<i32>().values())
        }
        (DataType::LargeUtf8, TypeDesc::String) => {
            Data::Bytes64(array.as_string::<i64>().offsets(), array.as_string::<i64>().values())
        }
        (DataType::LargeBinary, TypeDesc::String) => {
            Data::Bytes64(array.as_binary::<i64>().offsets(), array.as_binary::<i64>().values())
        }
        (DataType::Utf8View, TypeDesc::String) => Data::StringViews(array.as_string_view()),
        (DataType::BinaryView, TypeDesc::String) => Data::Views(array.as_binary_view()),
        _ => return None,
    };
    // Nothing is copied or allocated here: `all_direct` asks this of every column before encoding.
    Some(Direct { type_name, rows: array.len(), nulls: nullable.then_some(array), data })
}

fn bytes32<'a>(offsets: &'a [i32], values: &'a [u8]) -> Data<'a> {
    Data::Bytes32(offsets, values)
}

fn fixed_bytes<P: arrow_array::ArrowPrimitiveType>(array: &ArrayRef) -> &[u8]
where
    P::Native: bytemuck::Pod,
{
    bytemuck::cast_slice(array.as_primitive::<P>().values().as_ref())
}

fn write_strings<O: OffsetSizeTrait>(out: &mut Vec<u8>, offsets: &[O], values: &[u8]) {
    for w in offsets.windows(2) {
        let (start, end) = (w[0].as_usize(), w[1].as_usize());
        let s = values.get(start..end).unwrap_or_default();
        write_varuint(out, s.len() as u64);
        out.extend_from_slice(s);
    }
}

impl ColumnEncoder for Direct<'_> {
    fn type_name(&self) -> Cow<'_, str> {
        Cow::Borrowed(self.type_name)
    }
    fn rows(&self) -> usize {
        self.rows
    }
    fn encode(&self, out: &mut Vec<u8>) {
        if let Some(a) = self.nulls {
            out.extend((0..a.len()).map(|i| u8::from(a.is_null(i))));
        }
        match &self.data {
            Data::Fixed(b) => out.extend_from_slice(b),
            Data::Bools(b) => out.extend((0..b.len()).map(|i| u8::from(b.value(i)))),
            Data::Bytes32(o, v) => write_strings(out, o, v),
            Data::Bytes64(o, v) => write_strings(out, o, v),
            Data::Views(a) => {
                for i in 0..a.len() {
                    let s = if a.is_null(i) { &[][..] } else { a.value(i) };
                    write_varuint(out, s.len() as u64);
                    out.extend_from_slice(s);
                }
            }
            Data::StringViews(a) => {
                for i in 0..a.len() {
                    let s = if a.is_null(i) { "" } else { a.value(i) };
                    write_varuint(out, s.len() as u64);
                    out.extend_from_slice(s.as_bytes());
                }
            }
        }
    }
    fn clear(&mut self) {}
}

/// Pushes every value of `array` into `b` (a builder of type `t`); on failure the row (0-based) and why.
fn fill(
    b: &mut dyn ValueBuilder,
    array: &dyn Array,
    t: &TypeDesc,
    coercion: &mut Coercion,
) -> std::result::Result<(), (usize, String)> {
    let convertible = converts_for(t);
    // A dictionary's keys, worked out once (per row they would cost the whole array each time).
    let dictionary = match array.data_type() {
        DataType::Dictionary(..) => {
            let d = array.as_any_dictionary();
            // (arrow's `normalized_keys` panics on a dictionary of no values: every row is NULL then.)
            let keys = if d.values().is_empty() { vec![0; array.len()] } else { d.normalized_keys() };
            Some((keys, d.values().clone()))
        }
        _ => None,
    };
    for row in 0..array.len() {
        let v = match &dictionary {
            Some(_) if array.is_null(row) => Ok(Value::Null),
            Some((keys, values)) => value(values.as_ref(), keys[row], t),
            None => value(array, row, t),
        }
        .map_err(|e| (row, e))?;
        let pushed =
            if convertible && may_convert(&v) { coercion.coerce(&v, t).and_then(|v| b.push(&v)) } else { b.push(&v) };
        pushed.map_err(|e| (row, e))?;
    }
    Ok(())
}

fn base(t: &TypeDesc) -> &TypeDesc {
    match t {
        TypeDesc::Nullable(t) | TypeDesc::LowCardinality(t) | TypeDesc::SimpleAggregateFunction(_, t) => base(t),
        t => t,
    }
}

/// Row `row` of `array` as a value for a column (or element) of type `t`.
pub(crate) fn value<'a>(array: &'a dyn Array, row: usize, t: &TypeDesc) -> std::result::Result<Value<'a>, String> {
    if array.is_null(row) {
        return Ok(Value::Null);
    }
    let t = base(t);
    let physical;
    let t = match t {
        TypeDesc::Nested(items) => {
            physical = TypeDesc::Array(Box::new(TypeDesc::Tuple(
                items.iter().map(|(n, t)| (Some(n.clone()), t.clone())).collect(),
            )));
            &physical
        }
        t => match t.physical() {
            Cow::Borrowed(t) => t,
            Cow::Owned(p) => {
                physical = p;
                &physical
            }
        },
    };
    let v = match array.data_type() {
        DataType::Null => Value::Null,
        DataType::Boolean => Value::Bool(array.as_boolean().value(row)),
        DataType::UInt8 => Value::UInt8(array.as_primitive::<UInt8Type>().value(row)),
        DataType::UInt16 => Value::UInt16(array.as_primitive::<UInt16Type>().value(row)),
        DataType::UInt32 => Value::UInt32(array.as_primitive::<UInt32Type>().value(row)),
        DataType::UInt64 => Value::UInt64(array.as_primitive::<UInt64Type>().value(row)),
        DataType::Int8 => Value::Int8(array.as_primitive::<Int8Type>().value(row)),
        DataType::Int16 => Value::Int16(array.as_primitive::<Int16Type>().value(row)),
        DataType::Int32 => Value::Int32(array.as_primitive::<Int32Type>().value(row)),
        DataType::Int64 => Value::Int64(array.as_primitive::<Int64Type>().value(row)),
        DataType::Float16 => Value::Float32(array.as_primitive::<Float16Type>().value(row).to_f32()),
        DataType::Float32 => Value::Float32(array.as_primitive::<Float32Type>().value(row)),
        DataType::Float64 => Value::Float64(array.as_primitive::<Float64Type>().value(row)),
        DataType::Utf8 => Value::String(Cow::Borrowed(array.as_string::<i32>().value(row).as_bytes())),
        DataType::LargeUtf8 => Value::String(Cow::Borrowed(array.as_string::<i64>().value(row).as_bytes())),
        DataType::Utf8View => Value::String(Cow::Borrowed(array.as_string_view().value(row).as_bytes())),
        DataType::Binary => bytes_for(array.as_binary::<i32>().value(row), t)?,
        DataType::LargeBinary => bytes_for(array.as_binary::<i64>().value(row), t)?,
        DataType::BinaryView => bytes_for(array.as_binary_view().value(row), t)?,
        DataType::FixedSizeBinary(_) => fixed_binary(array.as_fixed_size_binary().value(row), t)?,
        DataType::Decimal128(_, s) => {
            Value::Decimal { raw: array.as_primitive::<Decimal128Type>().value(row), scale: scale(*s)? }
        }
        DataType::Decimal256(_, s) => {
            let raw = array.as_primitive::<Decimal256Type>().value(row);
            Value::Decimal256 { raw: bytemuck::cast(raw.to_le_bytes()), scale: scale(*s)? }
        }
        DataType::Date32 => date(i64::from(array.as_primitive::<Date32Type>().value(row)), t)?,
        DataType::Date64 => {
            let ms = array.as_primitive::<Date64Type>().value(row);
            if ms % 86_400_000 != 0 {
                return Err(format!("Date64 {ms} ms is not a whole day"));
            }
            date(ms / 86_400_000, t)?
        }
        DataType::Timestamp(unit, _) => {
            let ticks = match unit {
                TimeUnit::Second => array.as_primitive::<TimestampSecondType>().value(row),
                TimeUnit::Millisecond => array.as_primitive::<TimestampMillisecondType>().value(row),
                TimeUnit::Microsecond => array.as_primitive::<TimestampMicrosecondType>().value(row),
                TimeUnit::Nanosecond => array.as_primitive::<TimestampNanosecondType>().value(row),
            };
            instant(ticks, digits(unit), t)?
        }
        DataType::Time32(unit) => {
            let ticks = match unit {
                TimeUnit::Second => i64::from(array.as_primitive::<Time32SecondType>().value(row)),
                _ => i64::from(array.as_primitive::<Time32MillisecondType>().value(row)),
            };
            time(ticks, digits(unit), t)?
        }
        DataType::Time64(unit) => {
            let ticks = match unit {
                TimeUnit::Microsecond => array.as_primitive::<Time64MicrosecondType>().value(row),
                _ => array.as_primitive::<Time64NanosecondType>().value(row),
            };
            time(ticks, digits(unit), t)?
        }
        DataType::Dictionary(..) => {
            let d = array.as_any_dictionary();
            if d.values().is_empty() {
                return Err("a dictionary of no values has a row that is not NULL".into());
            }
            let key = d.normalized_keys()[row];
            return value(d.values().as_ref(), key, t);
        }
        DataType::List(_) => {
            let l = array.as_list::<i32>();
            elements(l.value(row), t)?
        }
        DataType::LargeList(_) => {
            let l = array.as_list::<i64>();
            elements(l.value(row), t)?
        }
        DataType::FixedSizeList(..) => elements(array.as_fixed_size_list().value(row), t)?,
        DataType::Struct(fields) => {
            let s = array.as_struct();
            let items = match t {
                TypeDesc::Tuple(items) => items.as_slice(),
                _ => &[],
            };
            let named = !items.is_empty() && items.iter().all(|(n, _)| n.is_some());
            let mut out = Vec::with_capacity(items.len().max(fields.len()));
            if named {
                for (n, it) in items {
                    let name = n.as_deref().unwrap_or_default();
                    let (i, _) = fields
                        .iter()
                        .enumerate()
                        .find(|(_, f)| f.name() == name)
                        .ok_or_else(|| format!("the struct has no field `{name}` for the tuple"))?;
                    out.push(value(s.column(i).as_ref(), row, it)?.into_owned());
                }
            } else {
                for (i, c) in s.columns().iter().enumerate() {
                    let it = items.get(i).map_or(&TypeDesc::Nothing, |(_, t)| t);
                    out.push(value(c.as_ref(), row, it)?.into_owned());
                }
            }
            Value::Tuple(out)
        }
        DataType::Map(..) => {
            let m = array.as_map();
            let entries = m.value(row);
            let (kt, vt) = match t {
                TypeDesc::Map(k, v) => (k.as_ref(), v.as_ref()),
                _ => (&TypeDesc::Nothing, &TypeDesc::Nothing),
            };
            let (keys, values) = (entries.column(0), entries.column(1));
            let mut out = Vec::with_capacity(entries.len());
            for i in 0..entries.len() {
                out.push((value(keys.as_ref(), i, kt)?.into_owned(), value(values.as_ref(), i, vt)?.into_owned()));
            }
            Value::Map(out)
        }
        other => return Err(format!("an Arrow {other} array cannot go into a column")),
    };
    Ok(v)
}

fn elements(items: ArrayRef, t: &TypeDesc) -> std::result::Result<Value<'static>, String> {
    if let TypeDesc::Map(k, v) = t {
        // A list of (key, value) structs for a Map (how polars, and Arrow without a Map type, hold maps).
        let pair = TypeDesc::Tuple(vec![(None, k.as_ref().clone()), (None, v.as_ref().clone())]);
        let mut out = Vec::with_capacity(items.len());
        for i in 0..items.len() {
            match value(items.as_ref(), i, &pair)?.into_owned() {
                Value::Tuple(mut kv) if kv.len() == 2 => {
                    let v = kv.pop().unwrap_or(Value::Null);
                    let k = kv.pop().unwrap_or(Value::Null);
                    out.push((k, v));
                }
                other => return Err(format!("a Map takes (key, value) entries, got {other:?}")),
            }
        }
        return Ok(Value::Map(out));
    }
    let et = match t {
        TypeDesc::Array(e) => e.as_ref(),
        TypeDesc::QBit { element, .. } => element.as_ref(),
        _ => &TypeDesc::Nothing,
    };
    let mut out = Vec::with_capacity(items.len());
    for i in 0..items.len() {
        out.push(value(items.as_ref(), i, et)?.into_owned());
    }
    Ok(Value::Array(out))
}

fn scale(s: i8) -> std::result::Result<u8, String> {
    u8::try_from(s).map_err(|_| format!("a negative decimal scale ({s}) has no ClickHouse type"))
}

fn digits(u: &TimeUnit) -> u8 {
    match u {
        TimeUnit::Second => 0,
        TimeUnit::Millisecond => 3,
        TimeUnit::Microsecond => 6,
        TimeUnit::Nanosecond => 9,
    }
}

/// Days since 1970 for a `Date`/`Date32` column (anything else takes the days as a `Date32`).
fn date(days: i64, t: &TypeDesc) -> std::result::Result<Value<'static>, String> {
    match t {
        TypeDesc::Date => {
            u16::try_from(days).map(Value::Date).map_err(|_| format!("day {days} is out of range for Date"))
        }
        _ => i32::try_from(days).map(Value::Date32).map_err(|_| format!("day {days} is out of range for Date32")),
    }
}

/// `ticks` of 10^-`p` seconds since the epoch for a `DateTime`/`DateTime64` column, exactly.
fn instant(ticks: i64, p: u8, t: &TypeDesc) -> std::result::Result<Value<'static>, String> {
    let to = match t {
        TypeDesc::DateTime(_) => 0,
        TypeDesc::DateTime64(q, _) => *q,
        _ => p,
    };
    let v = rescale(ticks, p, to).ok_or_else(|| format!("{ticks} (10^-{p} s) is not exactly a value of {t}"))?;
    match t {
        TypeDesc::DateTime(_) => {
            u32::try_from(v).map(Value::DateTime).map_err(|_| format!("{v} s is out of range for {t}"))
        }
        _ => Ok(Value::DateTime64 { ticks: v, precision: to }),
    }
}

fn time(ticks: i64, p: u8, t: &TypeDesc) -> std::result::Result<Value<'static>, String> {
    let to = match t {
        TypeDesc::Time => 0,
        TypeDesc::Time64(q) => *q,
        _ => p,
    };
    let v = rescale(ticks, p, to).ok_or_else(|| format!("{ticks} (10^-{p} s) is not exactly a value of {t}"))?;
    match t {
        TypeDesc::Time => i32::try_from(v).map(Value::Time).map_err(|_| format!("{v} s is out of range for {t}")),
        _ => Ok(Value::Time64 { ticks: v, precision: to }),
    }
}

/// Ticks of precision `from` as ticks of precision `to`, when exact.
fn rescale(ticks: i64, from: u8, to: u8) -> Option<i64> {
    if to >= from {
        ticks.checked_mul(10i64.checked_pow(u32::from(to - from))?)
    } else {
        let d = 10i64.checked_pow(u32::from(from - to))?;
        (ticks % d == 0).then_some(ticks / d)
    }
}

/// Binary values: the bytes of a fixed-size type (a reader that has no `FixedSizeBinary`, polars,
/// gives such values as `Binary`), else a string's bytes.
fn bytes_for<'a>(b: &'a [u8], t: &TypeDesc) -> std::result::Result<Value<'a>, String> {
    match t {
        TypeDesc::Uuid
        | TypeDesc::Ipv6
        | TypeDesc::UInt128
        | TypeDesc::Int128
        | TypeDesc::UInt256
        | TypeDesc::Int256 => fixed_binary(b, t),
        TypeDesc::FixedString(_) => Ok(Value::FixedString(Cow::Borrowed(b))),
        _ => Ok(Value::String(Cow::Borrowed(b))),
    }
}

/// Fixed-size bytes for the column's type: a UUID in text order, an IPv6 address, a 128/256-bit
/// integer little-endian, else a `FixedString`.
fn fixed_binary<'a>(b: &'a [u8], t: &TypeDesc) -> std::result::Result<Value<'a>, String> {
    let wrong = || format!("{} bytes cannot be a value of {t}", b.len());
    Ok(match t {
        TypeDesc::Uuid => Value::Uuid(u128::from_be_bytes(b.try_into().map_err(|_| wrong())?)),
        TypeDesc::Ipv6 => Value::Ipv6(<[u8; 16]>::try_from(b).map_err(|_| wrong())?.into()),
        TypeDesc::UInt128 => Value::UInt128(u128::from_le_bytes(b.try_into().map_err(|_| wrong())?)),
        TypeDesc::Int128 => Value::Int128(i128::from_le_bytes(b.try_into().map_err(|_| wrong())?)),
        TypeDesc::UInt256 => Value::UInt256(bytemuck::cast(<[u8; 32]>::try_from(b).map_err(|_| wrong())?)),
        TypeDesc::Int256 => Value::Int256(bytemuck::cast(<[u8; 32]>::try_from(b).map_err(|_| wrong())?)),
        _ => Value::FixedString(Cow::Borrowed(b)),
    })
}
