//! Fixed-width columns: `rows * size` little-endian bytes, copied once from the chunk into 16-aligned
//! arena storage and viewed as a typed slice.

use crate::error::Result;
use crate::native::arena::ArenaBuf;
use crate::native::column::{Column, ColumnView, byte_len, read_fixed};
use crate::native::input::Input;
use crate::native::types::TypeDesc;
use crate::value::Value;
use bumpalo::Bump;
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

/// A decoded fixed-width column.
pub struct FixedColumn {
    kind: Kind,
    size: usize,
    rows: usize,
    total: usize,
    buf: ArenaBuf,
}

impl FixedColumn {
    /// A decoder for `desc` if it is a fixed-width type.
    pub fn new(desc: &TypeDesc) -> Option<Self> {
        use TypeDesc as T;
        let kind = match desc {
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
            T::Decimal { precision, scale } => match crate::native::types::decimal_size(*precision) {
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
        };
        Some(FixedColumn { kind, size: desc.fixed_size()?, rows: 0, total: 0, buf: ArenaBuf::new() })
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

impl Column for FixedColumn {
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

    fn decode(&mut self, input: &mut Input<'_>, arena: &Bump) -> Result<bool> {
        if self.total == 0 && self.rows > 0 {
            self.total = byte_len(self.rows, self.size, input)?;
        }
        read_fixed(&mut self.buf, self.total, input, arena)
    }

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

    fn release(&mut self) {
        self.buf.release();
    }
}
