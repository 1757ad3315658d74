//! Each type's default value (what ClickHouse stores under a NULL, and what the Python driver's
//! `use_none=False` returns instead of None), checked against the server's `defaultValueOfTypeName`.

use super::Value;
use crate::types::TypeDesc;
use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

impl Value<'static> {
    /// The default value of a type (for `Nullable(T)`: NULL).
    pub fn default_of(t: &TypeDesc) -> Value<'static> {
        use TypeDesc as T;
        match t {
            T::UInt8 => Value::UInt8(0),
            T::UInt16 => Value::UInt16(0),
            T::UInt32 => Value::UInt32(0),
            T::UInt64 => Value::UInt64(0),
            T::UInt128 => Value::UInt128(0),
            T::UInt256 => Value::UInt256([0; 4]),
            T::Int8 => Value::Int8(0),
            T::Int16 => Value::Int16(0),
            T::Int32 => Value::Int32(0),
            T::Int64 => Value::Int64(0),
            T::Int128 => Value::Int128(0),
            T::Int256 => Value::Int256([0; 4]),
            T::Float32 => Value::Float32(0.0),
            T::Float64 => Value::Float64(0.0),
            T::BFloat16 => Value::BFloat16(0),
            T::Bool => Value::Bool(false),
            T::Decimal { precision, scale } if *precision > 38 => Value::Decimal256 { raw: [0; 4], scale: *scale },
            T::Decimal { scale, .. } => Value::Decimal { raw: 0, scale: *scale },
            T::String => Value::String(Cow::Borrowed(b"")),
            T::FixedString(n) => Value::FixedString(Cow::Owned(vec![0; *n])),
            T::Uuid => Value::Uuid(0),
            T::Ipv4 => Value::Ipv4(Ipv4Addr::UNSPECIFIED),
            T::Ipv6 => Value::Ipv6(Ipv6Addr::UNSPECIFIED),
            T::Date => Value::Date(0),
            // Date32 starts at 1900-01-01, its default (checked against defaultValueOfTypeName).
            T::Date32 => Value::Date32(-25_567),
            T::DateTime(_) => Value::DateTime(0),
            T::DateTime64(p, _) => Value::DateTime64 { ticks: 0, precision: *p },
            T::Time => Value::Time(0),
            T::Time64(p) => Value::Time64 { ticks: 0, precision: *p },
            // ClickHouse's default for an enum is its first member as declared.
            T::Enum8(m) => Value::Enum8(m.first().map_or(0, |(_, v)| *v)),
            T::Enum16(m) => Value::Enum16(m.first().map_or(0, |(_, v)| *v)),
            T::Interval(_) => Value::Interval(0),
            T::Nullable(_) | T::Nothing => Value::Null,
            T::LowCardinality(inner) | T::SimpleAggregateFunction(_, inner) => Value::default_of(inner),
            T::Array(_)
            | T::Nested(_)
            | T::Ring
            | T::LineString
            | T::MultiPoint
            | T::MultiLineString
            | T::Polygon
            | T::MultiPolygon => Value::Array(Vec::new()),
            T::Tuple(elems) => Value::Tuple(elems.iter().map(|(_, t)| Value::default_of(t)).collect()),
            T::Point => Value::Tuple(vec![Value::Float64(0.0), Value::Float64(0.0)]),
            T::Map(..) => Value::Map(Vec::new()),
            T::Variant(_) | T::Dynamic { .. } | T::Geometry | T::Opaque { .. } => Value::Null,
            T::Json(_) => Value::Json(Vec::new()),
            // A state's bytes; the empty state differs by function (see native::columns::aggregate).
            T::AggregateFunction { .. } => Value::String(Cow::Borrowed(b"")),
            T::QBit { element, dimension, .. } => {
                let zero = Value::default_of(element);
                Value::Array(vec![zero; usize::try_from(*dimension).unwrap_or(0).min(1 << 20)])
            }
        }
    }
}

impl<'a> Value<'a> {
    /// Replaces NULLs (at any depth) by their type's default value: the Python driver's
    /// `use_none=False`.
    pub fn nulls_to_defaults(self, t: &TypeDesc) -> Value<'a> {
        use TypeDesc as T;
        match (self, t) {
            (Value::Null, T::Nullable(inner)) => Value::default_of(inner),
            (Value::Null, T::LowCardinality(inner)) => match inner.as_ref() {
                T::Nullable(i) => Value::default_of(i),
                other => Value::default_of(other),
            },
            (Value::Array(items), T::Array(inner)) => {
                Value::Array(items.into_iter().map(|v| v.nulls_to_defaults(inner)).collect())
            }
            (Value::Tuple(items), T::Tuple(elems)) => {
                Value::Tuple(items.into_iter().zip(elems).map(|(v, (_, t))| v.nulls_to_defaults(t)).collect())
            }
            (Value::Map(entries), T::Map(k, v)) => {
                Value::Map(entries.into_iter().map(|(a, b)| (a.nulls_to_defaults(k), b.nulls_to_defaults(v))).collect())
            }
            (v, _) => v,
        }
    }
}
