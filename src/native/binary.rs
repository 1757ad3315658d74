//! ClickHouse's binary encodings of types and single values, as `Dynamic`'s shared variant and
//! `JSON`'s shared data store them: each value is its type in the binary type encoding (a code byte
//! and the type's arguments, `DataTypesBinaryEncoding.cpp`), then the value as `RowBinary` writes it.
//!
//! Both directions: [`read_type`]/[`read_value`] decode (hostile bytes give an error naming what and
//! where, never a panic or an allocation larger than the input), [`write_type`]/[`write_value`]
//! encode. Codes and layouts were checked against 26.9's shared-variant bytes for every type
//! (tests/golden and the differential tests).

use crate::types::{JsonType, TypeDesc};
use crate::value::Value;
use std::borrow::Cow;
use std::sync::Arc;

/// Deepest type or value nesting accepted.
const MAX_DEPTH: usize = 64;

/// A decode failure: what went wrong (the caller adds where).
pub type BinResult<T> = std::result::Result<T, String>;

/// A cursor over binary-encoded bytes.
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Reads from `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    /// Bytes left.
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }

    fn take(&mut self, n: usize) -> BinResult<&'a [u8]> {
        if n > self.buf.len() {
            return Err(format!("needs {n} bytes, {} left", self.buf.len()));
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> BinResult<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn u8(&mut self) -> BinResult<u8> {
        Ok(self.take(1)?[0])
    }

    fn varuint(&mut self) -> BinResult<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("variable-length integer longer than 64 bits".into())
    }

    /// A count of items that each take at least `min_bytes`: bounded by what is left (items that take
    /// no bytes at all cannot be counted on, so there must be none).
    fn count(&mut self, min_bytes: usize) -> BinResult<usize> {
        let n = self.varuint()?;
        if min_bytes == 0 && n > 0 {
            return Err(format!("claims {n} items of a type that takes no bytes"));
        }
        if n.saturating_mul(min_bytes as u64) > self.buf.len() as u64 {
            return Err(format!("claims {n} items, more than the {} bytes left hold", self.buf.len()));
        }
        Ok(n as usize)
    }

    fn bytes(&mut self) -> BinResult<&'a [u8]> {
        let n = self.varuint()?;
        let n = usize::try_from(n).map_err(|_| format!("length {n} exceeds the address space"))?;
        self.take(n)
    }

    fn string(&mut self) -> BinResult<String> {
        String::from_utf8(self.bytes()?.to_vec()).map_err(|_| "name is not UTF-8".to_string())
    }
}

fn interval_unit(kind: u8) -> BinResult<&'static str> {
    Ok(match kind {
        0 => "Nanosecond",
        1 => "Microsecond",
        2 => "Millisecond",
        3 => "Second",
        4 => "Minute",
        5 => "Hour",
        6 => "Day",
        7 => "Week",
        8 => "Month",
        9 => "Quarter",
        10 => "Year",
        k => return Err(format!("unknown interval kind {k}")),
    })
}

fn interval_kind(unit: &str) -> Option<u8> {
    Some(match unit {
        "Nanosecond" => 0,
        "Microsecond" => 1,
        "Millisecond" => 2,
        "Second" => 3,
        "Minute" => 4,
        "Hour" => 5,
        "Day" => 6,
        "Week" => 7,
        "Month" => 8,
        "Quarter" => 9,
        "Year" => 10,
        _ => return None,
    })
}

/// Reads a type in the binary type encoding.
pub fn read_type(r: &mut Reader<'_>) -> BinResult<TypeDesc> {
    read_type_at(r, 0)
}

fn read_type_at(r: &mut Reader<'_>, depth: usize) -> BinResult<TypeDesc> {
    use TypeDesc as T;
    if depth > MAX_DEPTH {
        return Err("type nested too deeply".into());
    }
    let inner = |r: &mut Reader<'_>| read_type_at(r, depth + 1).map(Box::new);
    let code = r.u8()?;
    Ok(match code {
        0x00 => T::Nothing,
        0x01 => T::UInt8,
        0x02 => T::UInt16,
        0x03 => T::UInt32,
        0x04 => T::UInt64,
        0x05 => T::UInt128,
        0x06 => T::UInt256,
        0x07 => T::Int8,
        0x08 => T::Int16,
        0x09 => T::Int32,
        0x0A => T::Int64,
        0x0B => T::Int128,
        0x0C => T::Int256,
        0x0D => T::Float32,
        0x0E => T::Float64,
        0x0F => T::Date,
        0x10 => T::Date32,
        0x11 => T::DateTime(None),
        0x12 => T::DateTime(Some(r.string()?)),
        0x13 => T::DateTime64(precision(r)?, None),
        0x14 => {
            let p = precision(r)?;
            T::DateTime64(p, Some(r.string()?))
        }
        0x15 => T::String,
        0x16 => {
            let n = r.varuint()?;
            match usize::try_from(n) {
                Ok(n) if n > 0 && n <= 1 << 30 => T::FixedString(n),
                _ => return Err(format!("FixedString width {n} is out of range")),
            }
        }
        0x17 => {
            let n = r.count(3)?;
            let mut m = Vec::with_capacity(n);
            for _ in 0..n {
                let name = r.string()?;
                m.push((name, r.u8()? as i8));
            }
            T::Enum8(m)
        }
        0x18 => {
            let n = r.count(4)?;
            let mut m = Vec::with_capacity(n);
            for _ in 0..n {
                let name = r.string()?;
                m.push((name, i16::from_le_bytes(r.array()?)));
            }
            T::Enum16(m)
        }
        0x19..=0x1C => {
            let precision = r.u8()?;
            let scale = r.u8()?;
            if !(1..=76).contains(&precision) || scale > precision {
                return Err(format!("Decimal({precision}, {scale}) is out of range"));
            }
            T::Decimal { precision, scale }
        }
        0x1D => T::Uuid,
        0x1E => T::Array(inner(r)?),
        0x1F => {
            let n = r.count(1)?;
            let mut elems = Vec::with_capacity(n);
            for _ in 0..n {
                elems.push((None, read_type_at(r, depth + 1)?));
            }
            T::Tuple(elems)
        }
        0x20 => {
            let n = r.count(2)?;
            let mut elems = Vec::with_capacity(n);
            for _ in 0..n {
                let name = r.string()?;
                elems.push((Some(name), read_type_at(r, depth + 1)?));
            }
            T::Tuple(elems)
        }
        0x22 => T::Interval(interval_unit(r.u8()?)?.to_string()),
        0x23 => T::Nullable(inner(r)?),
        0x26 => T::LowCardinality(inner(r)?),
        0x27 => {
            let k = inner(r)?;
            T::Map(k, inner(r)?)
        }
        0x28 => T::Ipv4,
        0x29 => T::Ipv6,
        0x2A => {
            let n = r.count(1)?;
            let mut elems = Vec::with_capacity(n);
            for _ in 0..n {
                elems.push(read_type_at(r, depth + 1)?);
            }
            T::Variant(elems)
        }
        0x2B => T::Dynamic { max_types: Some(u64::from(r.u8()?)) },
        0x2C => {
            let name = r.string()?;
            match TypeDesc::parse(&name) {
                Ok(
                    t @ (T::Point
                    | T::Ring
                    | T::LineString
                    | T::MultiPoint
                    | T::MultiLineString
                    | T::Polygon
                    | T::MultiPolygon
                    | T::Geometry),
                ) => t,
                _ => return Err(format!("unknown custom type {name:?}")),
            }
        }
        0x2D => T::Bool,
        0x2E => {
            let func = function_with_parameters(r)?;
            let n = r.count(1)?;
            if n != 1 {
                return Err(format!("SimpleAggregateFunction with {n} argument types"));
            }
            T::SimpleAggregateFunction(func, inner(r)?)
        }
        0x2F => {
            let n = r.count(2)?;
            let mut elems = Vec::with_capacity(n);
            for _ in 0..n {
                let name = r.string()?;
                elems.push((name, read_type_at(r, depth + 1)?));
            }
            T::Nested(elems)
        }
        0x30 => {
            let version = r.u8()?;
            if version != 0 {
                return Err(format!("unknown JSON type encoding version {version}"));
            }
            let mut j = JsonType {
                max_dynamic_paths: Some(r.varuint()?),
                max_dynamic_types: Some(u64::from(r.u8()?)),
                ..Default::default()
            };
            let n = r.count(2)?;
            for _ in 0..n {
                let path = r.string()?;
                j.typed_paths.push((path, read_type_at(r, depth + 1)?));
            }
            let n = r.count(1)?;
            for _ in 0..n {
                j.skip.push(r.string()?);
            }
            let n = r.count(1)?;
            for _ in 0..n {
                j.skip_regexp.push(r.string()?);
            }
            j.typed_paths.sort_by(|a, b| a.0.cmp(&b.0));
            // The defaults are written out; keep the type's name as the server prints it.
            if j.max_dynamic_paths == Some(1024) {
                j.max_dynamic_paths = None;
            }
            if j.max_dynamic_types == Some(32) {
                j.max_dynamic_types = None;
            }
            T::Json(Box::new(j))
        }
        0x31 => T::BFloat16,
        0x32 => T::Time,
        0x34 => {
            let p = precision(r)?;
            T::Time64(p)
        }
        0x36 => {
            let element = inner(r)?;
            qbit(element, r.varuint()?, None)?
        }
        0x37 => {
            let element = inner(r)?;
            let dimension = r.varuint()?;
            qbit(element, dimension, Some(r.varuint()?))?
        }
        0x21 | 0x24 | 0x25 => {
            return Err(format!("type code {code:#04x} (Set, Function or AggregateFunction) cannot be read here"));
        }
        c => return Err(format!("unknown type code {c:#04x}")),
    })
}

fn qbit(element: Box<TypeDesc>, dimension: u64, stride: Option<u64>) -> BinResult<TypeDesc> {
    if !matches!(*element, TypeDesc::Int8 | TypeDesc::BFloat16 | TypeDesc::Float32 | TypeDesc::Float64) {
        return Err(format!("QBit of {element}"));
    }
    if dimension == 0 || dimension > 1 << 20 || stride.is_some_and(|s| s == 0 || dimension % s != 0) {
        return Err(format!("QBit({element}, {dimension}, {stride:?}) is out of range"));
    }
    Ok(TypeDesc::QBit { element, dimension, stride: stride.filter(|&s| s != dimension) })
}

fn precision(r: &mut Reader<'_>) -> BinResult<u8> {
    let p = r.u8()?;
    if p > 9 { Err(format!("precision {p} is out of range")) } else { Ok(p) }
}

/// `name` or `name(p1, …)`: function name and parameters (each a field in binary: only the kinds an
/// aggregate's parameters take are read).
fn function_with_parameters(r: &mut Reader<'_>) -> BinResult<String> {
    let name = r.string()?;
    let n = r.count(1)?;
    if n == 0 {
        return Ok(name);
    }
    Err(format!("aggregate function {name} with {n} parameters cannot be read here"))
}

/// Reads one value of type `t` in `RowBinary` form, borrowing strings from the input.
pub fn read_value<'a>(r: &mut Reader<'a>, t: &TypeDesc) -> BinResult<Value<'a>> {
    read_value_at(r, t, 0)
}

fn read_value_at<'a>(r: &mut Reader<'a>, t: &TypeDesc, depth: usize) -> BinResult<Value<'a>> {
    use TypeDesc as T;
    if depth > MAX_DEPTH {
        return Err("value nested too deeply".into());
    }
    // Types stored as others (geo types, Geometry, Nested, SimpleAggregateFunction) are read as those.
    if let Cow::Owned(stored_as) = t.physical() {
        return read_value_at(r, &stored_as, depth + 1);
    }
    Ok(match t {
        T::Nothing => Value::Null,
        T::Bool => Value::Bool(r.u8()? != 0),
        T::UInt8 => Value::UInt8(r.u8()?),
        T::UInt16 => Value::UInt16(u16::from_le_bytes(r.array()?)),
        T::UInt32 => Value::UInt32(u32::from_le_bytes(r.array()?)),
        T::UInt64 => Value::UInt64(u64::from_le_bytes(r.array()?)),
        T::UInt128 => Value::UInt128(u128::from_le_bytes(r.array()?)),
        T::UInt256 => Value::UInt256(limbs(r)?),
        T::Int8 => Value::Int8(r.u8()? as i8),
        T::Int16 => Value::Int16(i16::from_le_bytes(r.array()?)),
        T::Int32 => Value::Int32(i32::from_le_bytes(r.array()?)),
        T::Int64 => Value::Int64(i64::from_le_bytes(r.array()?)),
        T::Int128 => Value::Int128(i128::from_le_bytes(r.array()?)),
        T::Int256 => Value::Int256(limbs(r)?),
        T::Float32 => Value::Float32(f32::from_le_bytes(r.array()?)),
        T::Float64 => Value::Float64(f64::from_le_bytes(r.array()?)),
        T::BFloat16 => Value::BFloat16(u16::from_le_bytes(r.array()?)),
        T::Decimal { precision, scale } => match crate::types::decimal_size(*precision) {
            4 => Value::Decimal { raw: i32::from_le_bytes(r.array()?).into(), scale: *scale },
            8 => Value::Decimal { raw: i64::from_le_bytes(r.array()?).into(), scale: *scale },
            16 => Value::Decimal { raw: i128::from_le_bytes(r.array()?), scale: *scale },
            _ => Value::Decimal256 { raw: limbs(r)?, scale: *scale },
        },
        T::String => Value::String(Cow::Borrowed(r.bytes()?)),
        T::FixedString(n) => Value::FixedString(Cow::Borrowed(r.take(*n)?)),
        T::Uuid => {
            let high = u64::from_le_bytes(r.array()?);
            let low = u64::from_le_bytes(r.array()?);
            Value::Uuid((u128::from(high) << 64) | u128::from(low))
        }
        T::Ipv4 => Value::Ipv4(u32::from_le_bytes(r.array()?).into()),
        T::Ipv6 => Value::Ipv6(r.array::<16>()?.into()),
        T::Date => Value::Date(u16::from_le_bytes(r.array()?)),
        T::Date32 => Value::Date32(i32::from_le_bytes(r.array()?)),
        T::DateTime(_) => Value::DateTime(u32::from_le_bytes(r.array()?)),
        T::DateTime64(p, _) => Value::DateTime64 { ticks: i64::from_le_bytes(r.array()?), precision: *p },
        T::Time => Value::Time(i32::from_le_bytes(r.array()?)),
        T::Time64(p) => Value::Time64 { ticks: i64::from_le_bytes(r.array()?), precision: *p },
        T::Enum8(_) => Value::Enum8(r.u8()? as i8),
        T::Enum16(_) => Value::Enum16(i16::from_le_bytes(r.array()?)),
        T::Interval(_) => Value::Interval(i64::from_le_bytes(r.array()?)),
        T::Nullable(inner) => match r.u8()? {
            0 => read_value_at(r, inner, depth + 1)?,
            _ => Value::Null,
        },
        T::LowCardinality(inner) => read_value_at(r, inner, depth + 1)?,
        T::Array(inner) => {
            let n = r.count(min_size(inner))?;
            let mut items = Vec::new();
            for _ in 0..n {
                items.push(read_value_at(r, inner, depth + 1)?);
            }
            Value::Array(items)
        }
        T::QBit { element, .. } => read_value_at(r, &T::Array(element.clone()), depth + 1)?,
        T::Tuple(elems) => {
            let mut items = Vec::with_capacity(elems.len());
            for (_, e) in elems {
                items.push(read_value_at(r, e, depth + 1)?);
            }
            Value::Tuple(items)
        }
        T::Map(k, v) => {
            let n = r.count(min_size(k) + min_size(v))?;
            let mut entries = Vec::new();
            for _ in 0..n {
                let key = read_value_at(r, k, depth + 1)?;
                entries.push((key, read_value_at(r, v, depth + 1)?));
            }
            Value::Map(entries)
        }
        T::Variant(alternatives) => {
            let d = r.u8()?;
            if d == 255 {
                Value::Null
            } else {
                let alt = alternatives
                    .get(usize::from(d))
                    .ok_or_else(|| format!("Variant discriminator {d} out of range"))?;
                Value::Variant { discriminator: d, value: Box::new(read_value_at(r, alt, depth + 1)?) }
            }
        }
        T::Dynamic { .. } => read_dynamic(r, depth + 1)?,
        T::Json(j) => {
            let n = r.count(1)?;
            let mut paths = Vec::with_capacity(n);
            for _ in 0..n {
                let path = std::str::from_utf8(r.bytes()?).map_err(|_| "JSON path is not UTF-8".to_string())?;
                let v = match j.typed_paths.iter().find(|(p, _)| p == path) {
                    Some((_, pt)) => match read_value_at(r, pt, depth + 1)? {
                        Value::Null => Value::Null,
                        v => Value::Dynamic { ty: Arc::new(pt.clone()), value: Box::new(v) },
                    },
                    None => read_dynamic(r, depth + 1)?,
                };
                if !matches!(v, Value::Null) || j.typed_paths.iter().any(|(p, _)| p == path) {
                    paths.push((Cow::Borrowed(path), v));
                }
            }
            Value::Json(paths)
        }
        other => return Err(format!("values of type {other} cannot be read here")),
    })
}

/// A `Dynamic` value: its type, then the value (type `Nothing`: NULL).
pub fn read_dynamic<'a>(r: &mut Reader<'a>, depth: usize) -> BinResult<Value<'a>> {
    let t = read_type_at(r, depth)?;
    if t == TypeDesc::Nothing {
        return Ok(Value::Null);
    }
    let v = read_value_at(r, &t, depth)?;
    Ok(match v {
        Value::Null => Value::Null,
        v => Value::Dynamic { ty: Arc::new(t), value: Box::new(v) },
    })
}

/// The fewest bytes a value of type `t` takes in `RowBinary` form.
fn min_size(t: &TypeDesc) -> usize {
    use TypeDesc as T;
    match t {
        T::Nothing => 0,
        T::Tuple(elems) => elems.iter().map(|(_, e)| min_size(e)).sum(),
        T::LowCardinality(inner) | T::SimpleAggregateFunction(_, inner) => min_size(inner),
        T::Point => 16,
        t => t.fixed_size().unwrap_or(1).max(1),
    }
}

fn limbs(r: &mut Reader<'_>) -> BinResult<[u64; 4]> {
    let mut l = [0u64; 4];
    for x in &mut l {
        *x = u64::from_le_bytes(r.array()?);
    }
    Ok(l)
}

fn write_varuint(out: &mut Vec<u8>, v: u64) {
    crate::native::input::write_varuint(out, v);
}

fn write_bytes(out: &mut Vec<u8>, b: &[u8]) {
    write_varuint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// Writes a type in the binary type encoding; `Err` names a type that has none here.
pub fn write_type(out: &mut Vec<u8>, t: &TypeDesc) -> BinResult<()> {
    use TypeDesc as T;
    let code = |out: &mut Vec<u8>, c: u8| out.push(c);
    match t {
        T::Nothing => code(out, 0x00),
        T::UInt8 => code(out, 0x01),
        T::UInt16 => code(out, 0x02),
        T::UInt32 => code(out, 0x03),
        T::UInt64 => code(out, 0x04),
        T::UInt128 => code(out, 0x05),
        T::UInt256 => code(out, 0x06),
        T::Int8 => code(out, 0x07),
        T::Int16 => code(out, 0x08),
        T::Int32 => code(out, 0x09),
        T::Int64 => code(out, 0x0A),
        T::Int128 => code(out, 0x0B),
        T::Int256 => code(out, 0x0C),
        T::Float32 => code(out, 0x0D),
        T::Float64 => code(out, 0x0E),
        T::Date => code(out, 0x0F),
        T::Date32 => code(out, 0x10),
        T::DateTime(None) => code(out, 0x11),
        T::DateTime(Some(z)) => {
            code(out, 0x12);
            write_bytes(out, z.as_bytes());
        }
        T::DateTime64(p, None) => out.extend_from_slice(&[0x13, *p]),
        T::DateTime64(p, Some(z)) => {
            out.extend_from_slice(&[0x14, *p]);
            write_bytes(out, z.as_bytes());
        }
        T::String => code(out, 0x15),
        T::FixedString(n) => {
            code(out, 0x16);
            write_varuint(out, *n as u64);
        }
        T::Enum8(m) => {
            code(out, 0x17);
            write_varuint(out, m.len() as u64);
            for (name, v) in m {
                write_bytes(out, name.as_bytes());
                out.push(*v as u8);
            }
        }
        T::Enum16(m) => {
            code(out, 0x18);
            write_varuint(out, m.len() as u64);
            for (name, v) in m {
                write_bytes(out, name.as_bytes());
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        T::Decimal { precision, scale } => {
            let c = match crate::types::decimal_size(*precision) {
                4 => 0x19,
                8 => 0x1A,
                16 => 0x1B,
                _ => 0x1C,
            };
            out.extend_from_slice(&[c, *precision, *scale]);
        }
        T::Uuid => code(out, 0x1D),
        T::Array(inner) => {
            code(out, 0x1E);
            write_type(out, inner)?;
        }
        T::Tuple(elems) if elems.iter().all(|(n, _)| n.is_some()) && !elems.is_empty() => {
            code(out, 0x20);
            write_varuint(out, elems.len() as u64);
            for (n, e) in elems {
                write_bytes(out, n.as_deref().unwrap_or_default().as_bytes());
                write_type(out, e)?;
            }
        }
        T::Tuple(elems) => {
            code(out, 0x1F);
            write_varuint(out, elems.len() as u64);
            for (_, e) in elems {
                write_type(out, e)?;
            }
        }
        T::Interval(unit) => {
            let k = interval_kind(unit).ok_or_else(|| format!("unknown interval unit {unit}"))?;
            out.extend_from_slice(&[0x22, k]);
        }
        T::Nullable(inner) => {
            code(out, 0x23);
            write_type(out, inner)?;
        }
        T::LowCardinality(inner) => {
            code(out, 0x26);
            write_type(out, inner)?;
        }
        T::Map(k, v) => {
            code(out, 0x27);
            write_type(out, k)?;
            write_type(out, v)?;
        }
        T::Ipv4 => code(out, 0x28),
        T::Ipv6 => code(out, 0x29),
        T::Variant(alts) => {
            code(out, 0x2A);
            write_varuint(out, alts.len() as u64);
            for a in alts {
                write_type(out, a)?;
            }
        }
        T::Dynamic { max_types } => out.extend_from_slice(&[0x2B, max_types.unwrap_or(32).min(255) as u8]),
        T::Point
        | T::Ring
        | T::LineString
        | T::MultiPoint
        | T::MultiLineString
        | T::Polygon
        | T::MultiPolygon
        | T::Geometry => {
            code(out, 0x2C);
            write_bytes(out, t.to_string().as_bytes());
        }
        T::Bool => code(out, 0x2D),
        T::SimpleAggregateFunction(func, inner) if !func.contains('(') => {
            code(out, 0x2E);
            write_bytes(out, func.as_bytes());
            write_varuint(out, 0);
            write_varuint(out, 1);
            write_type(out, inner)?;
        }
        T::Nested(elems) => {
            code(out, 0x2F);
            write_varuint(out, elems.len() as u64);
            for (n, e) in elems {
                write_bytes(out, n.as_bytes());
                write_type(out, e)?;
            }
        }
        T::Json(j) => {
            out.extend_from_slice(&[0x30, 0]);
            write_varuint(out, j.max_dynamic_paths.unwrap_or(1024));
            out.push(j.max_dynamic_types.unwrap_or(32).min(255) as u8);
            write_varuint(out, j.typed_paths.len() as u64);
            for (p, pt) in &j.typed_paths {
                write_bytes(out, p.as_bytes());
                write_type(out, pt)?;
            }
            write_varuint(out, j.skip.len() as u64);
            for p in &j.skip {
                write_bytes(out, p.as_bytes());
            }
            write_varuint(out, j.skip_regexp.len() as u64);
            for p in &j.skip_regexp {
                write_bytes(out, p.as_bytes());
            }
        }
        T::BFloat16 => code(out, 0x31),
        T::Time => code(out, 0x32),
        T::Time64(p) => out.extend_from_slice(&[0x34, *p]),
        T::QBit { element, dimension, stride } => {
            code(out, if stride.is_some() { 0x37 } else { 0x36 });
            write_type(out, element)?;
            write_varuint(out, *dimension);
            if let Some(s) = stride {
                write_varuint(out, *s);
            }
        }
        other => return Err(format!("type {other} has no binary encoding here")),
    }
    Ok(())
}

/// Writes `v` as a value of type `t` in `RowBinary` form; `Err` when the value does not fit the type.
pub fn write_value(out: &mut Vec<u8>, v: &Value<'_>, t: &TypeDesc) -> BinResult<()> {
    use TypeDesc as T;
    // Types stored as others (geo types, Geometry, Nested, SimpleAggregateFunction) are written as those.
    if let Cow::Owned(stored_as) = t.physical() {
        return write_value(out, v, &stored_as);
    }
    // Typed wrappers carry the value of the alternative or of the type they name.
    let mismatch = || format!("a {t} cannot hold {v:?}");
    match (t, v) {
        (T::Nullable(_), Value::Null) => out.push(1),
        (T::Nullable(inner), v) => {
            out.push(0);
            write_value(out, v, inner)?;
        }
        (T::LowCardinality(inner), v) => write_value(out, v, inner)?,
        (T::Variant(_), Value::Null) => out.push(255),
        (T::Variant(alts), Value::Variant { discriminator, value }) => {
            let alt = alts.get(usize::from(*discriminator)).ok_or_else(mismatch)?;
            out.push(*discriminator);
            write_value(out, value, alt)?;
        }
        (T::Dynamic { .. }, Value::Null) => out.push(0x00),
        (T::Dynamic { .. }, Value::Dynamic { ty, value }) => {
            write_type(out, ty)?;
            write_value(out, value, ty)?;
        }
        (T::Json(j), Value::Json(paths)) => {
            write_varuint(out, paths.len() as u64);
            for (p, pv) in paths {
                write_bytes(out, p.as_bytes());
                match j.typed_paths.iter().find(|(tp, _)| tp == p) {
                    Some((_, pt)) => write_value(out, pv.unwrap_typed(), pt)?,
                    None => write_value(out, pv, &T::Dynamic { max_types: None })?,
                }
            }
        }
        (_, Value::Dynamic { ty, value }) if ty.as_ref() == t => write_value(out, value, t)?,
        (T::Array(inner), Value::Array(items)) | (T::QBit { element: inner, .. }, Value::Array(items)) => {
            write_varuint(out, items.len() as u64);
            for x in items {
                write_value(out, x, inner)?;
            }
        }
        (T::Tuple(elems), Value::Tuple(items)) if elems.len() == items.len() => {
            for ((_, e), x) in elems.iter().zip(items) {
                write_value(out, x, e)?;
            }
        }
        (T::Map(k, vt), Value::Map(entries)) => {
            write_varuint(out, entries.len() as u64);
            for (a, b) in entries {
                write_value(out, a, k)?;
                write_value(out, b, vt)?;
            }
        }
        (t, v) => {
            // Scalars: one row of the type's Native column is its RowBinary form.
            let mut b = crate::native::builder_for(t).map_err(|e| e.to_string())?;
            b.push(v)?;
            b.encode(out);
        }
    }
    Ok(())
}
