//! Decoded columns as Arrow arrays: each column's typed slices copied once into Arrow buffers
//! (fixed-width values, string bytes, null maps as bitmaps), or converted where Arrow's layout differs
//! (offsets: ClickHouse's end offsets become Arrow's start-and-end `i32`s; dates, times and decimals are
//! widened to Arrow's types). The mapping is the table in the [module docs](super).

use crate::error::{Error, Result};
use crate::native::{Column, ColumnView, NullMap, Offsets};
use crate::types::TypeDesc;
use arrow_array::types::*;
use arrow_array::{
    ArrayRef, BinaryArray, BooleanArray, Decimal128Array, Decimal256Array, DictionaryArray, FixedSizeBinaryArray,
    LargeBinaryArray, LargeStringArray, ListArray, MapArray, NullArray, PrimitiveArray, StringArray, StructArray,
    make_array,
};
use arrow_buffer::{ArrowNativeType, BooleanBuffer, Buffer, NullBuffer, OffsetBuffer, ScalarBuffer, i256};
use arrow_schema::{DataType, Field, Fields, TimeUnit};
use std::collections::HashMap;
use std::sync::Arc;

/// What the conversion needs besides the columns.
pub(crate) struct Cx<'a> {
    /// `String` as `Utf8` (checked UTF-8) rather than `Binary`.
    pub(crate) use_strings: bool,
    /// `String` with 64-bit offsets (`LargeUtf8`/`LargeBinary`).
    pub(crate) large_strings: bool,
    /// The zone of `DateTime` columns that name none.
    pub(crate) server_tz: &'a str,
}

/// The Arrow field of a column named `name` of type `t`.
pub(crate) fn field(name: &str, t: &TypeDesc, cx: &Cx<'_>) -> Result<Field> {
    let (dt, nullable) = data_type(t, cx)?;
    let mut f = Field::new(name, dt, nullable);
    if matches!(strip_nullable(t), TypeDesc::Uuid) {
        f = f.with_metadata(HashMap::from([
            ("ARROW:extension:name".to_string(), "arrow.uuid".to_string()),
            ("ARROW:extension:metadata".to_string(), String::new()),
        ]));
    }
    Ok(f)
}

fn strip_nullable(t: &TypeDesc) -> &TypeDesc {
    match t {
        TypeDesc::Nullable(inner) => inner,
        t => t,
    }
}

/// The type a column's values are stored as (geo types, `Nested`, `SimpleAggregateFunction`).
fn physical(t: &TypeDesc) -> TypeDesc {
    match t {
        TypeDesc::Nested(items) => TypeDesc::Array(Box::new(TypeDesc::Tuple(
            items.iter().map(|(n, t)| (Some(n.clone()), t.clone())).collect(),
        ))),
        t => t.physical().into_owned(),
    }
}

fn zone(z: &Option<String>, cx: &Cx<'_>) -> Arc<str> {
    Arc::from(z.as_deref().unwrap_or(cx.server_tz))
}

/// Checks that every value (`per_second` ticks a second) is a time of day, all Arrow's `Time32` and
/// `Time64` hold: ClickHouse's `Time` spans ±999 hours, and the server's own Arrow output refuses
/// values beyond a day too.
fn time_of_day(values: impl Iterator<Item = i64>, per_second: i64, t: &TypeDesc) -> Result<()> {
    let day = 86_400 * per_second;
    match values.enumerate().find(|(_, v)| !(0..day).contains(v)) {
        None => Ok(()),
        Some((row, v)) => Err(Error::usage(format!(
            "row {} of a {t} column holds {v} ticks ({per_second} a second), outside the time of day (0 to 24 \
             hours) Arrow's time types hold: read it as a number (toInt64) or as text",
            row + 1
        ))),
    }
}

/// The unit a `DateTime64(p)` or `Time64(p)` is given in: the finest of s/ms/µs/ns that holds `p`.
fn unit(p: u8) -> (TimeUnit, u8) {
    match p {
        0 => (TimeUnit::Second, 0),
        1..=3 => (TimeUnit::Millisecond, 3),
        4..=6 => (TimeUnit::Microsecond, 6),
        _ => (TimeUnit::Nanosecond, 9),
    }
}

fn no_mapping(t: &TypeDesc) -> Error {
    Error::UnsupportedType(format!(
        "{t} has no Arrow mapping here; convert it in the query (toString(x), or CAST to a type that has one)"
    ))
}

/// The Arrow type of `t` and whether the field is nullable.
pub(crate) fn data_type(t: &TypeDesc, cx: &Cx<'_>) -> Result<(DataType, bool)> {
    use TypeDesc as T;
    let dt = match t {
        T::Nullable(inner) => return Ok((data_type(inner, cx)?.0, true)),
        T::LowCardinality(inner) => {
            let (value, nullable) = data_type(inner, cx)?;
            return Ok((DataType::Dictionary(Box::new(DataType::Int32), Box::new(value)), nullable));
        }
        T::UInt8 => DataType::UInt8,
        T::UInt16 => DataType::UInt16,
        T::UInt32 | T::Ipv4 => DataType::UInt32,
        T::UInt64 => DataType::UInt64,
        T::Int8 => DataType::Int8,
        T::Int16 => DataType::Int16,
        T::Int32 => DataType::Int32,
        T::Int64 | T::Interval(_) => DataType::Int64,
        T::UInt128 | T::Int128 | T::Uuid | T::Ipv6 => DataType::FixedSizeBinary(16),
        T::UInt256 | T::Int256 => DataType::FixedSizeBinary(32),
        T::Float32 | T::BFloat16 => DataType::Float32,
        T::Float64 => DataType::Float64,
        T::Bool => DataType::Boolean,
        T::Decimal { precision, scale } if *precision <= 38 => DataType::Decimal128(*precision, *scale as i8),
        T::Decimal { precision, scale } => DataType::Decimal256(*precision, *scale as i8),
        T::String if cx.use_strings && cx.large_strings => DataType::LargeUtf8,
        T::String if cx.use_strings => DataType::Utf8,
        T::String if cx.large_strings => DataType::LargeBinary,
        T::String | T::AggregateFunction { .. } => DataType::Binary,
        T::FixedString(n) => {
            DataType::FixedSizeBinary(i32::try_from(*n).map_err(|_| Error::UnsupportedType(t.to_string()))?)
        }
        T::Date | T::Date32 => DataType::Date32,
        T::DateTime(z) => DataType::Timestamp(TimeUnit::Second, Some(zone(z, cx))),
        T::DateTime64(p, z) => DataType::Timestamp(unit(*p).0, Some(zone(z, cx))),
        T::Time => DataType::Time32(TimeUnit::Second),
        T::Time64(p) => match unit(*p).0 {
            u @ (TimeUnit::Second | TimeUnit::Millisecond) => DataType::Time32(u),
            u => DataType::Time64(u),
        },
        T::Enum8(_) | T::Enum16(_) => DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
        T::Nothing => DataType::Null,
        T::Array(inner) => DataType::List(Arc::new(field("item", inner, cx)?)),
        T::Tuple(items) => DataType::Struct(struct_fields(items, cx)?),
        T::Map(k, v) => {
            let entries = Fields::from(vec![field("key", k, cx)?, field("value", v, cx)?]);
            DataType::Map(Arc::new(Field::new("entries", DataType::Struct(entries), false)), false)
        }
        T::Nested(_)
        | T::SimpleAggregateFunction(..)
        | T::Point
        | T::Ring
        | T::LineString
        | T::MultiPoint
        | T::Polygon
        | T::MultiLineString
        | T::MultiPolygon => return data_type(&physical(t), cx),
        _ => return Err(no_mapping(t)),
    };
    Ok((dt, false))
}

fn struct_fields(items: &[(Option<String>, TypeDesc)], cx: &Cx<'_>) -> Result<Fields> {
    items
        .iter()
        .enumerate()
        .map(|(i, (n, t))| field(n.clone().unwrap_or_else(|| (i + 1).to_string()).as_str(), t, cx))
        .collect::<Result<Vec<_>>>()
        .map(Fields::from)
}

fn arrow_err(t: &TypeDesc, e: arrow_schema::ArrowError) -> Error {
    Error::usage(format!("cannot make an Arrow array of {t}: {e}"))
}

fn mismatch(t: &TypeDesc) -> Error {
    Error::internal(format!("the decoded column does not have the layout of {t}"))
}

/// One copy of a typed slice into an Arrow buffer.
fn scalars<T: ArrowNativeType>(s: &[T]) -> ScalarBuffer<T> {
    ScalarBuffer::from(Buffer::from_slice_ref(s))
}

fn primitive<P: arrow_array::ArrowPrimitiveType>(s: &[P::Native]) -> ArrayRef {
    Arc::new(PrimitiveArray::<P>::new(scalars(s), None))
}

fn converted<P: arrow_array::ArrowPrimitiveType>(values: impl Iterator<Item = P::Native>) -> ArrayRef {
    Arc::new(PrimitiveArray::<P>::new(values.collect::<Vec<_>>().into(), None))
}

/// ClickHouse's end offsets as Arrow's `i32` offsets (a leading 0).
fn offsets(o: &Offsets<'_>, t: &TypeDesc) -> Result<OffsetBuffer<i32>> {
    if o.total() > i32::MAX as u64 {
        return Err(Error::usage(format!(
            "a block of {t} holds {} elements or bytes, more than an Arrow array with 32-bit offsets can (make \
             blocks smaller: max_block_size)",
            o.total()
        )));
    }
    let mut v = Vec::with_capacity(o.len() + 1);
    v.push(0i32);
    v.extend(o.ends().iter().map(|&e| e as i32));
    Ok(OffsetBuffer::new(ScalarBuffer::from(v)))
}

/// 64-bit offsets always hold a block's (its lengths are `u64` and checked by the decoder).
fn large_offsets(o: &Offsets<'_>) -> OffsetBuffer<i64> {
    let mut v = Vec::with_capacity(o.len() + 1);
    v.push(0i64);
    v.extend(o.ends().iter().map(|&e| e as i64));
    OffsetBuffer::new(ScalarBuffer::from(v))
}

fn validity(nulls: &NullMap<'_>) -> NullBuffer {
    let bytes = nulls.bytes();
    NullBuffer::new(BooleanBuffer::collect_bool(bytes.len(), |i| bytes[i] == 0))
}

fn with_nulls(a: ArrayRef, nulls: Option<NullBuffer>, t: &TypeDesc) -> Result<ArrayRef> {
    let Some(nulls) = nulls else { return Ok(a) };
    if matches!(a.data_type(), DataType::Null) {
        return Ok(a);
    }
    let data = a.to_data().into_builder().nulls(Some(nulls)).build().map_err(|e| arrow_err(t, e))?;
    Ok(make_array(data))
}

/// The column's rows as an Arrow array of [`data_type`]'s type.
pub(crate) fn array(col: &dyn Column, t: &TypeDesc, cx: &Cx<'_>) -> Result<ArrayRef> {
    use TypeDesc as T;
    let view = col.view();
    match (t, view) {
        (T::Nullable(inner), ColumnView::Nullable { nulls, inner: values }) => {
            let a = array(values, inner, cx)?;
            with_nulls(a, Some(validity(&nulls)), t)
        }
        (T::LowCardinality(inner), ColumnView::LowCardinality { keys, dictionary, nullable }) => {
            let base = strip_nullable(inner);
            let mut values = array(dictionary, base, cx)?;
            if keys.iter().any(|&k| k > i32::MAX as u32) {
                return Err(Error::usage(format!("a {t} dictionary too large for Arrow's 32-bit keys")));
            }
            let keys = if nullable {
                // Entry 0 of a nullable dictionary stands for NULL (a placeholder value that may equal a
                // real one): it is left out, NULL rows are null keys, and the other keys move down one.
                if !values.is_empty() {
                    values = values.slice(1, values.len() - 1);
                }
                let nulls = NullBuffer::new(BooleanBuffer::collect_bool(keys.len(), |i| keys[i] != 0));
                PrimitiveArray::<Int32Type>::new(
                    keys.iter().map(|&k| k.saturating_sub(1) as i32).collect(),
                    Some(nulls),
                )
            } else {
                PrimitiveArray::<Int32Type>::new(keys.iter().map(|&k| k as i32).collect(), None)
            };
            let dict = DictionaryArray::<Int32Type>::try_new(keys, values).map_err(|e| arrow_err(t, e))?;
            Ok(Arc::new(dict))
        }
        (T::Array(inner), ColumnView::Array { offsets: o, inner: values }) => {
            let child = array(values, inner, cx)?;
            let f = Arc::new(field("item", inner, cx)?);
            let list = ListArray::try_new(f, offsets(&o, t)?, child, None).map_err(|e| arrow_err(t, e))?;
            Ok(Arc::new(list))
        }
        (T::Tuple(items), ColumnView::Tuple(cols)) => {
            let fields = struct_fields(items, cx)?;
            let arrays =
                items.iter().zip(cols.iter()).map(|((_, it), c)| array(c, it, cx)).collect::<Result<Vec<_>>>()?;
            if arrays.len() != items.len() {
                return Err(mismatch(t));
            }
            if arrays.is_empty() {
                return Ok(Arc::new(StructArray::new_empty_fields(col.rows(), None)));
            }
            Ok(Arc::new(StructArray::try_new(fields, arrays, None).map_err(|e| arrow_err(t, e))?))
        }
        (T::Map(k, v), ColumnView::Map { offsets: o, keys, values }) => {
            let fields = Fields::from(vec![field("key", k, cx)?, field("value", v, cx)?]);
            let entries = StructArray::try_new(fields.clone(), vec![array(keys, k, cx)?, array(values, v, cx)?], None)
                .map_err(|e| arrow_err(t, e))?;
            let f = Arc::new(Field::new("entries", DataType::Struct(fields), false));
            let map = MapArray::try_new(f, offsets(&o, t)?, entries, None, false).map_err(|e| arrow_err(t, e))?;
            Ok(Arc::new(map))
        }
        (T::String, ColumnView::String { offsets: o, data }) => {
            let bytes = Buffer::from_slice_ref(data);
            let strings = match (cx.use_strings, cx.large_strings) {
                (true, false) => StringArray::try_new(offsets(&o, t)?, bytes, None).map(|a| Arc::new(a) as ArrayRef),
                (true, true) => {
                    LargeStringArray::try_new(large_offsets(&o), bytes, None).map(|a| Arc::new(a) as ArrayRef)
                }
                (false, false) => {
                    return Ok(Arc::new(
                        BinaryArray::try_new(offsets(&o, t)?, bytes, None).map_err(|e| arrow_err(t, e))?,
                    ));
                }
                (false, true) => {
                    return Ok(Arc::new(
                        LargeBinaryArray::try_new(large_offsets(&o), bytes, None).map_err(|e| arrow_err(t, e))?,
                    ));
                }
            };
            strings.map_err(|_| {
                let row = o.ranges().position(|r| std::str::from_utf8(&data[r]).is_err()).unwrap_or(0);
                Error::usage(format!(
                    "row {} of a String column is not UTF-8: read it with use_strings = false (Binary)",
                    row + 1
                ))
            })
        }
        (T::FixedString(n), ColumnView::FixedString { width, data }) if *n == width => {
            let a = FixedSizeBinaryArray::try_new(width as i32, Buffer::from_slice_ref(data), None)
                .map_err(|e| arrow_err(t, e))?;
            Ok(Arc::new(a))
        }
        (T::AggregateFunction { .. }, ColumnView::String { offsets: o, data }) => Ok(Arc::new(
            BinaryArray::try_new(offsets(&o, t)?, Buffer::from_slice_ref(data), None).map_err(|e| arrow_err(t, e))?,
        )),
        (T::Nested(_) | T::SimpleAggregateFunction(..), _)
        | (T::Point | T::Ring | T::LineString | T::MultiPoint | T::Polygon | T::MultiLineString | T::MultiPolygon, _) => {
            array(col, &physical(t), cx)
        }
        (T::Nothing, _) => Ok(Arc::new(NullArray::new(col.rows()))),
        (t, view) => fixed(t, view, cx),
    }
}

/// Columns of fixed-size values.
fn fixed(t: &TypeDesc, view: ColumnView<'_>, cx: &Cx<'_>) -> Result<ArrayRef> {
    use ColumnView as V;
    use TypeDesc as T;
    let a: ArrayRef = match (t, view) {
        (T::UInt8, V::UInt8(s)) => primitive::<UInt8Type>(s),
        (T::UInt16, V::UInt16(s)) => primitive::<UInt16Type>(s),
        (T::UInt32 | T::Ipv4, V::UInt32(s)) => primitive::<UInt32Type>(s),
        (T::UInt64, V::UInt64(s)) => primitive::<UInt64Type>(s),
        (T::Int8, V::Int8(s)) => primitive::<Int8Type>(s),
        (T::Int16, V::Int16(s)) => primitive::<Int16Type>(s),
        (T::Int32, V::Int32(s)) => primitive::<Int32Type>(s),
        (T::Int64 | T::Interval(_), V::Int64(s)) => primitive::<Int64Type>(s),
        (T::Float32, V::Float32(s)) => primitive::<Float32Type>(s),
        (T::Float64, V::Float64(s)) => primitive::<Float64Type>(s),
        (T::BFloat16, V::UInt16(s)) => converted::<Float32Type>(s.iter().map(|&b| f32::from_bits(u32::from(b) << 16))),
        (T::Bool, V::UInt8(s)) => {
            Arc::new(BooleanArray::new(BooleanBuffer::collect_bool(s.len(), |i| s[i] != 0), None))
        }
        (T::UInt128 | T::Ipv6, V::UInt128(s)) => fixed_binary(16, bytemuck::cast_slice(s), t)?,
        (T::Int128, V::Int128(s)) => fixed_binary(16, bytemuck::cast_slice(s), t)?,
        (T::Uuid, V::UInt128(s)) => {
            // Stored as two little-endian halves, high first; Arrow's UUID is the 16 bytes in text order.
            let raw: &[u8] = bytemuck::cast_slice(s);
            let mut out = Vec::with_capacity(raw.len());
            for u in raw.chunks_exact(16) {
                out.extend(u[..8].iter().rev());
                out.extend(u[8..].iter().rev());
            }
            fixed_binary(16, &out, t)?
        }
        (T::UInt256 | T::Int256, V::Wide(s)) => fixed_binary(32, bytemuck::cast_slice(s), t)?,
        (T::Decimal { precision, scale }, view) => decimal(*precision, *scale, view, t)?,
        (T::Date, V::UInt16(s)) => converted::<Date32Type>(s.iter().map(|&d| i32::from(d))),
        (T::Date32, V::Int32(s)) => primitive::<Date32Type>(s),
        (T::DateTime(z), V::UInt32(s)) => {
            let a = PrimitiveArray::<TimestampSecondType>::new(s.iter().map(|&x| i64::from(x)).collect(), None);
            Arc::new(a.with_timezone(zone(z, cx)))
        }
        (T::DateTime64(p, z), V::Int64(s)) => {
            let (u, to) = unit(*p);
            let ticks = scaled(s, *p, to, t)?;
            let tz = zone(z, cx);
            match u {
                TimeUnit::Second => Arc::new(PrimitiveArray::<TimestampSecondType>::new(ticks, None).with_timezone(tz)),
                TimeUnit::Millisecond => {
                    Arc::new(PrimitiveArray::<TimestampMillisecondType>::new(ticks, None).with_timezone(tz))
                }
                TimeUnit::Microsecond => {
                    Arc::new(PrimitiveArray::<TimestampMicrosecondType>::new(ticks, None).with_timezone(tz))
                }
                TimeUnit::Nanosecond => {
                    Arc::new(PrimitiveArray::<TimestampNanosecondType>::new(ticks, None).with_timezone(tz))
                }
            }
        }
        (T::Time, V::Int32(s)) => {
            time_of_day(s.iter().map(|&x| i64::from(x)), 1, t)?;
            primitive::<Time32SecondType>(s)
        }
        (T::Time64(p), V::Int64(s)) => {
            let (u, to) = unit(*p);
            let ticks = scaled(s, *p, to, t)?;
            time_of_day(ticks.iter().copied(), 10i64.pow(u32::from(to)), t)?;
            match u {
                TimeUnit::Second | TimeUnit::Millisecond => {
                    let narrow = ticks
                        .iter()
                        .map(|&x| i32::try_from(x))
                        .collect::<std::result::Result<Vec<i32>, _>>()
                        .map_err(|_| Error::usage(format!("a {t} value is out of range for Arrow's Time32")))?;
                    if u == TimeUnit::Second {
                        Arc::new(PrimitiveArray::<Time32SecondType>::new(narrow.into(), None))
                    } else {
                        Arc::new(PrimitiveArray::<Time32MillisecondType>::new(narrow.into(), None))
                    }
                }
                TimeUnit::Microsecond => Arc::new(PrimitiveArray::<Time64MicrosecondType>::new(ticks, None)),
                TimeUnit::Nanosecond => Arc::new(PrimitiveArray::<Time64NanosecondType>::new(ticks, None)),
            }
        }
        (T::Enum8(members), V::Int8(s)) => enum_dictionary(
            members.iter().map(|(n, v)| (n.as_str(), i16::from(*v))),
            s.iter().map(|&x| i16::from(x)),
            t,
        )?,
        (T::Enum16(members), V::Int16(s)) => {
            enum_dictionary(members.iter().map(|(n, v)| (n.as_str(), *v)), s.iter().copied(), t)?
        }
        (t, _) => return Err(no_mapping(t)),
    };
    Ok(a)
}

/// Ticks of precision `from` in the unit of precision `to` (exact: `to >= from`).
fn scaled(s: &[i64], from: u8, to: u8, t: &TypeDesc) -> Result<ScalarBuffer<i64>> {
    if from == to {
        return Ok(scalars(s));
    }
    let m = 10i64.pow(u32::from(to.saturating_sub(from)));
    s.iter()
        .map(|&x| x.checked_mul(m))
        .collect::<Option<Vec<i64>>>()
        .map(ScalarBuffer::from)
        .ok_or_else(|| Error::usage(format!("a {t} value is out of range for Arrow's timestamps")))
}

fn fixed_binary(width: i32, bytes: &[u8], t: &TypeDesc) -> Result<ArrayRef> {
    let a = FixedSizeBinaryArray::try_new(width, Buffer::from_slice_ref(bytes), None).map_err(|e| arrow_err(t, e))?;
    Ok(Arc::new(a))
}

fn decimal(precision: u8, scale: u8, view: ColumnView<'_>, t: &TypeDesc) -> Result<ArrayRef> {
    let s = scale as i8;
    let a: ArrayRef = match view {
        ColumnView::Int32(v) if precision <= 38 => Arc::new(
            Decimal128Array::new(v.iter().map(|&x| i128::from(x)).collect(), None)
                .with_precision_and_scale(precision, s)
                .map_err(|e| arrow_err(t, e))?,
        ),
        ColumnView::Int64(v) if precision <= 38 => Arc::new(
            Decimal128Array::new(v.iter().map(|&x| i128::from(x)).collect(), None)
                .with_precision_and_scale(precision, s)
                .map_err(|e| arrow_err(t, e))?,
        ),
        ColumnView::Int128(v) if precision <= 38 => Arc::new(
            Decimal128Array::new(scalars(v), None)
                .with_precision_and_scale(precision, s)
                .map_err(|e| arrow_err(t, e))?,
        ),
        ColumnView::Wide(v) => Arc::new(
            Decimal256Array::new(v.iter().map(|l| i256::from_le_bytes(bytemuck::cast(*l))).collect(), None)
                .with_precision_and_scale(precision, s)
                .map_err(|e| arrow_err(t, e))?,
        ),
        _ => return Err(mismatch(t)),
    };
    Ok(a)
}

/// An Enum column as a dictionary of its member names (in the type's order), each row the index of
/// its member.
fn enum_dictionary<'m>(
    members: impl Iterator<Item = (&'m str, i16)>,
    values: impl Iterator<Item = i16>,
    t: &TypeDesc,
) -> Result<ArrayRef> {
    let members: Vec<(&str, i16)> = members.collect();
    let mut index = HashMap::with_capacity(members.len());
    for (i, (_, v)) in members.iter().enumerate() {
        index.insert(*v, i as i32);
    }
    // Rows under a NULL (`Nullable(Enum…)`) hold 0, which need not be a member: they take key 0 (the
    // validity bitmap says NULL). A non-NULL row is always a member: the server checks.
    let keys: Vec<i32> = values.map(|v| index.get(&v).copied().unwrap_or(0)).collect();
    let _ = t;
    let names = StringArray::from_iter_values(members.iter().map(|(n, _)| *n));
    let dict = DictionaryArray::<Int32Type>::try_new(PrimitiveArray::new(keys.into(), None), Arc::new(names))
        .map_err(|e| arrow_err(t, e))?;
    Ok(Arc::new(dict))
}
