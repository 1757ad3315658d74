//! Fixed-width columns: `rows * size` little-endian bytes, copied once from the chunk into 16-aligned
//! column storage and viewed as a typed slice.

use crate::error::{Error, Result};
use crate::native::buffer::AlignedBuf;
use crate::native::column::{Column, ColumnDecoder, ColumnView, Sealed, byte_len, read_fixed};
use crate::native::encoder::ColumnEncoder;
use crate::native::input::Input;
use crate::types::TypeDesc;
use crate::value::Value;
use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

/// How to interpret the bytes of one value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    U8,
    U16,
    U32,
    U64,
    U128,
    U256,
    I8,
    I16,
    I32,
    I64,
    I128,
    I256,
    F32,
    F64,
    BF16,
    Bool,
    Dec32(u8),
    Dec64(u8),
    Dec128(u8),
    Dec256(u8),
    Uuid,
    Ipv4,
    Ipv6,
    Date,
    Date32,
    DateTime,
    DateTime64(u8),
    Time,
    Time64(u8),
    Enum8,
    Enum16,
    Interval,
    Nothing,
}

impl Kind {
    /// The kind of a fixed-width type: the one table from ClickHouse types to how their bytes are read
    /// (decoder, value builder and typed builder all start here).
    fn of(desc: &TypeDesc) -> Option<Kind> {
        use TypeDesc as T;
        Some(match desc {
            T::UInt8 => Kind::U8,
            T::UInt16 => Kind::U16,
            T::UInt32 => Kind::U32,
            T::UInt64 => Kind::U64,
            T::UInt128 => Kind::U128,
            T::UInt256 => Kind::U256,
            T::Int8 => Kind::I8,
            T::Int16 => Kind::I16,
            T::Int32 => Kind::I32,
            T::Int64 => Kind::I64,
            T::Int128 => Kind::I128,
            T::Int256 => Kind::I256,
            T::Float32 => Kind::F32,
            T::Float64 => Kind::F64,
            T::BFloat16 => Kind::BF16,
            T::Bool => Kind::Bool,
            T::Decimal { precision, scale } => match crate::types::decimal_size(*precision) {
                4 => Kind::Dec32(*scale),
                8 => Kind::Dec64(*scale),
                16 => Kind::Dec128(*scale),
                _ => Kind::Dec256(*scale),
            },
            T::Uuid => Kind::Uuid,
            T::Ipv4 => Kind::Ipv4,
            T::Ipv6 => Kind::Ipv6,
            T::Date => Kind::Date,
            T::Date32 => Kind::Date32,
            T::DateTime(_) => Kind::DateTime,
            T::DateTime64(p, _) => Kind::DateTime64(*p),
            T::Time => Kind::Time,
            T::Time64(p) => Kind::Time64(*p),
            T::Enum8(_) => Kind::Enum8,
            T::Enum16(_) => Kind::Enum16,
            T::Interval(_) => Kind::Interval,
            T::Nothing => Kind::Nothing,
            _ => return None,
        })
    }

    /// The Rust type whose bytes are this kind's Native bytes, for `FixedBuilder<T>` (`None`: UUID's
    /// halves are swapped against a `u128`, and 256-bit values have no Rust primitive).
    fn rust_type(self) -> Option<&'static str> {
        use Kind as K;
        Some(match self {
            K::U8 | K::Bool => "u8",
            K::U16 | K::Date | K::BF16 => "u16",
            K::U32 | K::DateTime | K::Ipv4 => "u32",
            K::U64 => "u64",
            K::U128 => "u128",
            K::I8 | K::Enum8 => "i8",
            K::I16 | K::Enum16 => "i16",
            K::I32 | K::Date32 | K::Time | K::Dec32(_) => "i32",
            K::I64 | K::DateTime64(_) | K::Time64(_) | K::Interval | K::Dec64(_) => "i64",
            K::I128 | K::Dec128(_) => "i128",
            K::F32 => "f32",
            K::F64 => "f64",
            K::Ipv6 => "[u8; 16]",
            K::U256 | K::I256 | K::Dec256(_) | K::Uuid | K::Nothing => return None,
        })
    }
}

/// A decoded fixed-width column.
pub struct FixedColumn {
    kind: Kind,
    size: usize,
    rows: usize,
    total: usize,
    buf: AlignedBuf,
}

impl FixedColumn {
    /// A decoder for `desc` if it is a fixed-width type.
    pub fn new(desc: &TypeDesc) -> Option<Self> {
        let kind = Kind::of(desc)?;
        Some(FixedColumn { kind, size: desc.fixed_size()?, rows: 0, total: 0, buf: AlignedBuf::new() })
    }

    #[inline]
    fn at<const N: usize>(&self, row: usize) -> [u8; N] {
        let b = self.buf.as_bytes();
        let start = row * N;
        match b.get(start..start + N) {
            Some(s) => s.try_into().unwrap_or([0; N]),
            None => [0; N],
        }
    }

    fn limbs(&self, row: usize) -> [u64; 4] {
        let b: [u8; 32] = self.at(row);
        let mut out = [0u64; 4];
        for (i, l) in out.iter_mut().enumerate() {
            *l = u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]));
        }
        out
    }
}

impl Sealed for FixedColumn {}

impl Column for FixedColumn {
    fn rows(&self) -> usize {
        self.buf.len() / self.size
    }

    fn view(&self) -> ColumnView<'_> {
        let b = &self.buf;
        match self.kind {
            Kind::U8 | Kind::Bool | Kind::Nothing => ColumnView::UInt8(b.typed()),
            Kind::U16 | Kind::Date | Kind::BF16 => ColumnView::UInt16(b.typed()),
            Kind::U32 | Kind::DateTime | Kind::Ipv4 => ColumnView::UInt32(b.typed()),
            Kind::U64 => ColumnView::UInt64(b.typed()),
            Kind::U128 | Kind::Uuid | Kind::Ipv6 => ColumnView::UInt128(b.typed()),
            Kind::I8 | Kind::Enum8 => ColumnView::Int8(b.typed()),
            Kind::I16 | Kind::Enum16 => ColumnView::Int16(b.typed()),
            Kind::I32 | Kind::Date32 | Kind::Time | Kind::Dec32(_) => ColumnView::Int32(b.typed()),
            Kind::I64 | Kind::DateTime64(_) | Kind::Time64(_) | Kind::Interval | Kind::Dec64(_) => {
                ColumnView::Int64(b.typed())
            }
            Kind::I128 | Kind::Dec128(_) => ColumnView::Int128(b.typed()),
            Kind::F32 => ColumnView::Float32(b.typed()),
            Kind::F64 => ColumnView::Float64(b.typed()),
            Kind::U256 | Kind::I256 | Kind::Dec256(_) => ColumnView::Wide(b.typed()),
        }
    }

    fn value(&self, row: usize) -> Value<'_> {
        if row >= self.rows() {
            return Value::Null;
        }
        match self.kind {
            Kind::U8 => Value::UInt8(self.at::<1>(row)[0]),
            Kind::U16 => Value::UInt16(u16::from_le_bytes(self.at(row))),
            Kind::U32 => Value::UInt32(u32::from_le_bytes(self.at(row))),
            Kind::U64 => Value::UInt64(u64::from_le_bytes(self.at(row))),
            Kind::U128 => Value::UInt128(u128::from_le_bytes(self.at(row))),
            Kind::U256 => Value::UInt256(self.limbs(row)),
            Kind::I8 => Value::Int8(self.at::<1>(row)[0] as i8),
            Kind::I16 => Value::Int16(i16::from_le_bytes(self.at(row))),
            Kind::I32 => Value::Int32(i32::from_le_bytes(self.at(row))),
            Kind::I64 => Value::Int64(i64::from_le_bytes(self.at(row))),
            Kind::I128 => Value::Int128(i128::from_le_bytes(self.at(row))),
            Kind::I256 => Value::Int256(self.limbs(row)),
            Kind::F32 => Value::Float32(f32::from_le_bytes(self.at(row))),
            Kind::F64 => Value::Float64(f64::from_le_bytes(self.at(row))),
            Kind::BF16 => Value::BFloat16(u16::from_le_bytes(self.at(row))),
            Kind::Bool => Value::Bool(self.at::<1>(row)[0] != 0),
            Kind::Dec32(scale) => Value::Decimal { raw: i32::from_le_bytes(self.at(row)).into(), scale },
            Kind::Dec64(scale) => Value::Decimal { raw: i64::from_le_bytes(self.at(row)).into(), scale },
            Kind::Dec128(scale) => Value::Decimal { raw: i128::from_le_bytes(self.at(row)), scale },
            Kind::Dec256(scale) => Value::Decimal256 { raw: self.limbs(row), scale },
            Kind::Uuid => {
                // Stored as two little-endian u64 halves, high half first.
                let b: [u8; 16] = self.at(row);
                let hi = u64::from_le_bytes(b[..8].try_into().unwrap_or([0; 8]));
                let lo = u64::from_le_bytes(b[8..].try_into().unwrap_or([0; 8]));
                Value::Uuid((u128::from(hi) << 64) | u128::from(lo))
            }
            Kind::Ipv4 => Value::Ipv4(Ipv4Addr::from(u32::from_le_bytes(self.at(row)))),
            Kind::Ipv6 => Value::Ipv6(Ipv6Addr::from(self.at::<16>(row))),
            Kind::Date => Value::Date(u16::from_le_bytes(self.at(row))),
            Kind::Date32 => Value::Date32(i32::from_le_bytes(self.at(row))),
            Kind::DateTime => Value::DateTime(u32::from_le_bytes(self.at(row))),
            Kind::DateTime64(precision) => Value::DateTime64 { ticks: i64::from_le_bytes(self.at(row)), precision },
            Kind::Time => Value::Time(i32::from_le_bytes(self.at(row))),
            Kind::Time64(precision) => Value::Time64 { ticks: i64::from_le_bytes(self.at(row)), precision },
            Kind::Enum8 => Value::Enum8(self.at::<1>(row)[0] as i8),
            Kind::Enum16 => Value::Enum16(i16::from_le_bytes(self.at(row))),
            Kind::Interval => Value::Interval(i64::from_le_bytes(self.at(row))),
            Kind::Nothing => Value::Null,
        }
    }
}

impl ColumnDecoder for FixedColumn {
    fn start(&mut self, rows: usize) {
        self.rows = rows;
        self.total = 0;
        self.buf.clear();
    }

    fn start_more(&mut self, rows: usize) -> bool {
        self.rows = self.rows() + rows;
        self.total = 0;
        true
    }

    fn decode(&mut self, input: &mut Input<'_>) -> Result<bool> {
        if self.total == 0 && self.rows > 0 {
            self.total = byte_len(self.rows, self.size, input)?;
        }
        read_fixed(&mut self.buf, self.total, input)
    }

    fn stored_bytes(&self) -> usize {
        self.buf.len()
    }
}

/// Builder of any fixed-width column from [`Value`]s, with checked conversions between compatible kinds.
pub struct FixedValues {
    desc: TypeDesc,
    kind: Kind,
    type_name: String,
    bytes: Vec<u8>,
    rows: usize,
}

impl FixedValues {
    /// A builder for `desc` if it is a fixed-width type.
    pub fn new(desc: &TypeDesc) -> Option<Self> {
        let kind = FixedColumn::new(desc)?.kind;
        Some(FixedValues { desc: desc.clone(), kind, type_name: desc.to_string(), bytes: Vec::new(), rows: 0 })
    }
}

/// Any integer value as i128 (UInt128 values above i128::MAX excluded).
fn int_of(v: &Value<'_>) -> Option<i128> {
    Some(match *v {
        Value::UInt8(x) => x.into(),
        Value::UInt16(x) => x.into(),
        Value::UInt32(x) => x.into(),
        Value::UInt64(x) => x.into(),
        Value::UInt128(x) => i128::try_from(x).ok()?,
        Value::Int8(x) => x.into(),
        Value::Int16(x) => x.into(),
        Value::Int32(x) => x.into(),
        Value::Int64(x) => x.into(),
        Value::Int128(x) => x,
        Value::Bool(b) => b.into(),
        Value::Interval(x) => x.into(),
        _ => return None,
    })
}

fn float_of(v: &Value<'_>) -> Option<f64> {
    match *v {
        Value::Float32(x) => Some(x.into()),
        Value::Float64(x) => Some(x),
        Value::BFloat16(b) => Some(f32::from_bits(u32::from(b) << 16).into()),
        _ => int_of(v).map(|i| i as f64),
    }
}

/// 256-bit limbs of an integer value (two's complement).
fn limbs_of(v: &Value<'_>) -> Option<[u64; 4]> {
    match *v {
        Value::UInt256(l) | Value::Int256(l) => Some(l),
        Value::UInt128(x) => Some([x as u64, (x >> 64) as u64, 0, 0]),
        _ => {
            let i = int_of(v)?;
            let ext = if i < 0 { u64::MAX } else { 0 };
            Some([i as u64, (i >> 64) as u64, ext, ext])
        }
    }
}

fn bf16_from_f32(x: f32) -> u16 {
    if x.is_nan() {
        return 0x7fc0;
    }
    // The upper half of the f32, the lower 16 bits dropped: what the server's own conversion stores
    // (`toBFloat16(1.00390625)` is 1, `toBFloat16(0.1)` 0.099609375), and what its text parser makes.
    (x.to_bits() >> 16) as u16
}

impl FixedValues {
    fn put_int(&mut self, v: &Value<'_>, min: i128, max: i128, size: usize) -> std::result::Result<(), String> {
        let i = int_of(v).ok_or_else(|| format!("expected an integer for {}, got {v:?}", self.type_name))?;
        if i < min || i > max {
            return Err(format!("{i} is out of range for {}", self.type_name));
        }
        self.bytes.extend_from_slice(&i.to_le_bytes()[..size]);
        Ok(())
    }

    fn put_decimal(&mut self, v: &Value<'_>, scale: u8, size: usize) -> std::result::Result<(), String> {
        let TypeDesc::Decimal { precision, .. } = self.desc else { return Err("not a decimal".into()) };
        let raw = match *v {
            Value::Decimal { raw, scale: s } if s == scale => raw,
            Value::Decimal { raw, scale: s } if s < scale => raw
                .checked_mul(10i128.pow(u32::from(scale - s)))
                .ok_or_else(|| format!("decimal out of range for {}", self.type_name))?,
            // More digits after the point than the column keeps: taken when they are all zeros (1.2300
            // is 1.23), else refused rather than rounded.
            Value::Decimal { raw, scale: s } => {
                let dropped = u32::from(s - scale);
                let unit = 10i128.checked_pow(dropped);
                match unit {
                    Some(u) if raw % u == 0 => raw / u,
                    None if raw == 0 => 0,
                    _ => {
                        return Err(format!(
                            "a decimal with scale {s} does not fit {} without rounding",
                            self.type_name
                        ));
                    }
                }
            }
            _ => int_of(v)
                .and_then(|i| i.checked_mul(10i128.pow(u32::from(scale))))
                .ok_or_else(|| format!("expected a decimal for {}, got {v:?}", self.type_name))?,
        };
        if precision <= 38 && raw.unsigned_abs() >= 10u128.pow(u32::from(precision)) {
            return Err(format!("{raw}e-{scale} has more than {precision} digits for {}", self.type_name));
        }
        self.bytes.extend_from_slice(&raw.to_le_bytes()[..size]);
        Ok(())
    }
}

impl crate::native::encoder::ColumnEncoder for FixedValues {
    fn type_name(&self) -> std::borrow::Cow<'_, str> {
        std::borrow::Cow::Borrowed(&self.type_name)
    }
    fn rows(&self) -> usize {
        self.rows
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.bytes);
    }
    fn clear(&mut self) {
        self.bytes.clear();
        self.rows = 0;
    }
}

impl crate::native::encoder::ValueBuilder for FixedValues {
    fn push(&mut self, v: &Value<'_>) -> std::result::Result<(), String> {
        // The common case first: a value of exactly the column's own kind needs no conversion or check
        // (the general path below gives the same bytes for it, only slower).
        // Little-endian: a 4-byte value is the first 4 bytes of its u64 widening.
        let exact: Option<([u8; 8], usize)> = match (self.kind, v) {
            (Kind::U64, Value::UInt64(x)) => Some((x.to_le_bytes(), 8)),
            (Kind::I64, Value::Int64(x)) => Some((x.to_le_bytes(), 8)),
            (Kind::F64, Value::Float64(x)) => Some((x.to_le_bytes(), 8)),
            (Kind::U32, Value::UInt32(x)) => Some((u64::from(*x).to_le_bytes(), 4)),
            (Kind::I32, Value::Int32(x)) => Some((u64::from(*x as u32).to_le_bytes(), 4)),
            (Kind::F32, Value::Float32(x)) => Some((u64::from(x.to_bits()).to_le_bytes(), 4)),
            _ => None,
        };
        if let Some((b, n)) = exact {
            self.bytes.extend_from_slice(&b[..n]);
            self.rows += 1;
            return Ok(());
        }
        let before = self.bytes.len();
        let r = self.push_inner(v);
        match r {
            Ok(()) => self.rows += 1,
            Err(_) => self.bytes.truncate(before),
        }
        r
    }

    fn push_default(&mut self) {
        let size = self.desc.fixed_size().unwrap_or(1);
        self.bytes.extend(std::iter::repeat_n(0u8, size));
        self.rows += 1;
    }
    fn truncate(&mut self, rows: usize) {
        if rows < self.rows {
            let size = self.desc.fixed_size().unwrap_or(1);
            self.bytes.truncate(rows * size);
            self.rows = rows;
        }
    }
}

impl FixedValues {
    fn push_inner(&mut self, v: &Value<'_>) -> std::result::Result<(), String> {
        let wrong = |t: &str| format!("expected a value of type {t}, got {v:?}");
        match self.kind {
            Kind::U8 => self.put_int(v, 0, u8::MAX.into(), 1),
            Kind::U16 => self.put_int(v, 0, u16::MAX.into(), 2),
            Kind::U32 => self.put_int(v, 0, u32::MAX.into(), 4),
            Kind::U64 => self.put_int(v, 0, u64::MAX.into(), 8),
            Kind::I8 => self.put_int(v, i8::MIN.into(), i8::MAX.into(), 1),
            Kind::I16 => self.put_int(v, i16::MIN.into(), i16::MAX.into(), 2),
            Kind::I32 => self.put_int(v, i32::MIN.into(), i32::MAX.into(), 4),
            Kind::I64 => self.put_int(v, i64::MIN.into(), i64::MAX.into(), 8),
            Kind::Interval => self.put_int(v, i64::MIN.into(), i64::MAX.into(), 8),
            Kind::I128 => self.put_int(v, i128::MIN, i128::MAX, 16),
            Kind::U128 => {
                let x = match *v {
                    Value::UInt128(x) => x,
                    _ => u128::try_from(int_of(v).ok_or_else(|| wrong("UInt128"))?)
                        .map_err(|_| format!("negative value for {}", self.type_name))?,
                };
                self.bytes.extend_from_slice(&x.to_le_bytes());
                Ok(())
            }
            Kind::U256 | Kind::I256 => {
                if let (Kind::U256, Some(i)) = (self.kind, int_of(v)) {
                    if i < 0 {
                        return Err(format!("negative value for {}", self.type_name));
                    }
                }
                let l = limbs_of(v).ok_or_else(|| wrong(&self.type_name))?;
                for x in l {
                    self.bytes.extend_from_slice(&x.to_le_bytes());
                }
                Ok(())
            }
            Kind::F32 => {
                // Same type: keep the exact bits (a round trip through f64 would quiet NaN payloads).
                let x = match *v {
                    Value::Float32(x) => x,
                    _ => float_of(v).ok_or_else(|| wrong("Float32"))? as f32,
                };
                self.bytes.extend_from_slice(&x.to_le_bytes());
                Ok(())
            }
            Kind::F64 => {
                let x = float_of(v).ok_or_else(|| wrong("Float64"))?;
                self.bytes.extend_from_slice(&x.to_le_bytes());
                Ok(())
            }
            Kind::BF16 => {
                let b = match *v {
                    Value::BFloat16(b) => b,
                    _ => bf16_from_f32(float_of(v).ok_or_else(|| wrong("BFloat16"))? as f32),
                };
                self.bytes.extend_from_slice(&b.to_le_bytes());
                Ok(())
            }
            Kind::Bool => match *v {
                Value::Bool(b) => {
                    self.bytes.push(b.into());
                    Ok(())
                }
                _ => self.put_int(v, 0, 1, 1),
            },
            Kind::Dec32(s) => self.put_decimal(v, s, 4),
            Kind::Dec64(s) => self.put_decimal(v, s, 8),
            Kind::Dec128(s) => self.put_decimal(v, s, 16),
            Kind::Dec256(scale) => match *v {
                Value::Decimal256 { raw, scale: s } if s == scale => {
                    for x in raw {
                        self.bytes.extend_from_slice(&x.to_le_bytes());
                    }
                    Ok(())
                }
                Value::Decimal { raw, scale: s } if s == scale => {
                    let ext = if raw < 0 { u64::MAX } else { 0 };
                    for x in [raw as u64, (raw >> 64) as u64, ext, ext] {
                        self.bytes.extend_from_slice(&x.to_le_bytes());
                    }
                    Ok(())
                }
                _ => Err(format!("expected a decimal with scale {scale} for {}, got {v:?}", self.type_name)),
            },
            Kind::Uuid => match *v {
                Value::Uuid(u) => {
                    self.bytes.extend_from_slice(&((u >> 64) as u64).to_le_bytes());
                    self.bytes.extend_from_slice(&(u as u64).to_le_bytes());
                    Ok(())
                }
                _ => Err(wrong("UUID")),
            },
            Kind::Ipv4 => match *v {
                Value::Ipv4(a) => {
                    self.bytes.extend_from_slice(&u32::from(a).to_le_bytes());
                    Ok(())
                }
                _ => Err(wrong("IPv4")),
            },
            Kind::Ipv6 => match *v {
                Value::Ipv6(a) => {
                    self.bytes.extend_from_slice(&a.octets());
                    Ok(())
                }
                Value::Ipv4(a) => {
                    self.bytes.extend_from_slice(&a.to_ipv6_mapped().octets());
                    Ok(())
                }
                _ => Err(wrong("IPv6")),
            },
            Kind::Date => match *v {
                Value::Date(d) => {
                    self.bytes.extend_from_slice(&d.to_le_bytes());
                    Ok(())
                }
                Value::Date32(d) => {
                    let d = u16::try_from(d).map_err(|_| format!("day {d} is outside Date's range"))?;
                    self.bytes.extend_from_slice(&d.to_le_bytes());
                    Ok(())
                }
                _ => Err(wrong("Date")),
            },
            Kind::Date32 => {
                let d = match *v {
                    Value::Date32(d) => d,
                    Value::Date(d) => d.into(),
                    _ => return Err(wrong("Date32")),
                };
                self.bytes.extend_from_slice(&d.to_le_bytes());
                Ok(())
            }
            Kind::DateTime => match *v {
                Value::DateTime(s) => {
                    self.bytes.extend_from_slice(&s.to_le_bytes());
                    Ok(())
                }
                Value::DateTime64 { ticks, precision } => {
                    let scale = 10i64.pow(u32::from(precision.min(9)));
                    if ticks % scale != 0 {
                        return Err(format!("{v} (UTC) has sub-second digits that {} cannot keep", self.type_name));
                    }
                    let s = u32::try_from(ticks / scale)
                        .map_err(|_| format!("{v:?} is outside the range of {}", self.type_name))?;
                    self.bytes.extend_from_slice(&s.to_le_bytes());
                    Ok(())
                }
                _ => self.put_int(v, 0, u32::MAX.into(), 4),
            },
            Kind::DateTime64(p) | Kind::Time64(p) => {
                let ticks = match *v {
                    Value::DateTime64 { ticks, precision } | Value::Time64 { ticks, precision } if precision == p => {
                        ticks
                    }
                    Value::DateTime64 { ticks, precision } | Value::Time64 { ticks, precision } if precision < p => {
                        ticks
                            .checked_mul(10i64.pow(u32::from(p - precision)))
                            .ok_or_else(|| format!("out of range for {}", self.type_name))?
                    }
                    Value::DateTime64 { ticks, precision } | Value::Time64 { ticks, precision } => {
                        // More digits than the column keeps: fine only if they are zeros.
                        let scale = 10i64.pow(u32::from(precision.min(9) - p));
                        if ticks % scale != 0 {
                            return Err(format!("{v} (UTC) has more sub-second digits than {} keeps", self.type_name));
                        }
                        ticks / scale
                    }
                    Value::DateTime(s) => i64::from(s)
                        .checked_mul(10i64.pow(u32::from(p)))
                        .ok_or_else(|| format!("out of range for {}", self.type_name))?,
                    _ => return Err(wrong(&self.type_name)),
                };
                self.bytes.extend_from_slice(&ticks.to_le_bytes());
                Ok(())
            }
            Kind::Time => match *v {
                Value::Time(s) => {
                    self.bytes.extend_from_slice(&s.to_le_bytes());
                    Ok(())
                }
                _ => self.put_int(v, i32::MIN.into(), i32::MAX.into(), 4),
            },
            Kind::Enum8 | Kind::Enum16 => {
                let code: i128 = match (v, &self.desc) {
                    (Value::Enum8(x), _) => (*x).into(),
                    (Value::Enum16(x), _) => (*x).into(),
                    (Value::String(name), TypeDesc::Enum8(m)) => {
                        m.iter().find(|(n, _)| n.as_bytes() == name.as_ref()).map(|(_, c)| (*c).into()).ok_or_else(
                            || {
                                format!(
                                    "{:?} is not a member of {}",
                                    crate::error::excerpt(name, crate::error::EXCERPT),
                                    self.type_name
                                )
                            },
                        )?
                    }
                    (Value::String(name), TypeDesc::Enum16(m)) => {
                        m.iter().find(|(n, _)| n.as_bytes() == name.as_ref()).map(|(_, c)| (*c).into()).ok_or_else(
                            || {
                                format!(
                                    "{:?} is not a member of {}",
                                    crate::error::excerpt(name, crate::error::EXCERPT),
                                    self.type_name
                                )
                            },
                        )?
                    }
                    _ => int_of(v).ok_or_else(|| wrong(&self.type_name))?,
                };
                let known = match &self.desc {
                    TypeDesc::Enum8(m) => m.iter().any(|(_, c)| i128::from(*c) == code),
                    TypeDesc::Enum16(m) => m.iter().any(|(_, c)| i128::from(*c) == code),
                    _ => false,
                };
                if !known {
                    return Err(format!("{code} is not a value of {}", self.type_name));
                }
                let size = if self.kind == Kind::Enum8 { 1 } else { 2 };
                self.bytes.extend_from_slice(&code.to_le_bytes()[..size]);
                Ok(())
            }
            Kind::Nothing => match v {
                Value::Null => {
                    self.bytes.push(0);
                    Ok(())
                }
                _ => Err(wrong("Nothing")),
            },
        }
    }
}

/// Plain fixed-width values: integers, floats, and types stored as them (Date as u16, DateTime as u32 …).
pub struct FixedBuilder<T: bytemuck::Pod + Send> {
    type_name: String,
    values: Vec<T>,
    /// Why this builder cannot write its type (checked once, when made).
    unfit: Option<String>,
    /// For `Bool` and enums: the values the type allows (checked for every block written).
    members: Option<Vec<i16>>,
}

/// The Rust types whose bytes are a fixed-width ClickHouse type's Native bytes (`None`: no plain
/// fixed-width builder: UUID's halves are swapped against a `u128`, wide and composite types have
/// their own builders).
fn fixed_rust_types(t: &TypeDesc) -> Option<&'static str> {
    Kind::of(t)?.rust_type()
}

/// The values `Bool` and enum types allow.
fn enum_members(t: &TypeDesc) -> Option<Vec<i16>> {
    use TypeDesc as T;
    match t {
        T::Bool => Some(vec![0, 1]),
        T::Enum8(m) => Some(m.iter().map(|(_, c)| i16::from(*c)).collect()),
        T::Enum16(m) => Some(m.iter().map(|(_, c)| *c).collect()),
        _ => None,
    }
}

impl<T: bytemuck::Pod + Send> FixedBuilder<T> {
    /// A builder for `type_name`, which must be a fixed-width type whose values are `T`'s size
    /// (`FixedBuilder::<u64>::new("UInt64")`, `FixedBuilder::<u32>::new("DateTime('UTC')")`); another
    /// type makes writing a block fail with an error that says so, before anything is sent.
    pub fn new(type_name: impl Into<String>) -> Self {
        let type_name = type_name.into();
        let rust = std::any::type_name::<T>();
        let (unfit, members) = match TypeDesc::parse(&type_name) {
            Err(e) => (Some(e.to_string()), None),
            Ok(t) => match fixed_rust_types(&t) {
                None => {
                    (Some(format!("{type_name} has no plain fixed-width builder (use builder_for or Values)")), None)
                }
                Some(ok) if ok != rust => {
                    (Some(format!("{type_name} takes values of Rust type {ok}, not {rust}")), None)
                }
                Some(_) => (None, enum_members(&t)),
            },
        };
        FixedBuilder { type_name, values: Vec::new(), unfit, members }
    }

    /// Appends one value.
    pub fn push(&mut self, v: T) {
        self.values.push(v);
    }
    /// Appends many values.
    pub fn extend_from_slice(&mut self, v: &[T]) {
        self.values.extend_from_slice(v);
    }
}

impl<T: bytemuck::Pod + Send> ColumnEncoder for FixedBuilder<T> {
    fn type_name(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.type_name)
    }
    fn rows(&self) -> usize {
        self.values.len()
    }
    fn encode(&self, out: &mut Vec<u8>) {
        // Little-endian host (checked at compile time in lib.rs): the slice's bytes are the wire bytes.
        out.extend_from_slice(bytemuck::cast_slice(&self.values));
    }
    fn clear(&mut self) {
        self.values.clear();
    }
    fn check(&self) -> Result<()> {
        if let Some(why) = &self.unfit {
            return Err(Error::usage(format!("FixedBuilder<{}>: {why}", std::any::type_name::<T>())));
        }
        if let Some(allowed) = &self.members {
            let bytes: &[u8] = bytemuck::cast_slice(&self.values);
            let bad = if std::mem::size_of::<T>() == 1 {
                bytes.iter().map(|b| i16::from(*b as i8)).find(|v| !allowed.contains(v))
            } else {
                bytes.chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]])).find(|v| !allowed.contains(v))
            };
            if let Some(v) = bad {
                return Err(Error::usage(format!("{v} is not a value of {}", self.type_name)));
            }
        }
        Ok(())
    }
}
