//! `QBit(T, dimension[, stride])`: vectors stored as bit planes, so a search can read only the high
//! bits of every value.
//!
//! `T` is Int8, BFloat16, Float32 or Float64 (`bits` = 8, 16, 32, 64). The dimensions are split into
//! groups of `stride` (one group when there is no stride); each group is `bits` planes, plane 0 holding
//! every dimension's most significant bit (the sign). A plane is a `FixedString(w = ceil(stride / 8))`
//! per row, dimension `j` of the group in bit `j % 8` (least significant first) of byte `w - 1 - j / 8`
//! (the last byte holds dimensions 0 to 7), padding bits zero. Native writes the planes as the columns of a `Tuple` of `bits × groups` such
//! `FixedString`s, with no prefix; this file decodes that tuple and reassembles the values per row.

use super::fixed_string::FixedStringColumn;
use super::tuple::TupleColumn;
use crate::error::Result;
use crate::native::column::{Column, ColumnDecoder, ColumnView, Sealed};
use crate::native::encoder::{ColumnEncoder, ValueBuilder};
use crate::native::input::Input;
use crate::types::TypeDesc;
use crate::value::Value;
use std::borrow::Cow;

/// The shape of a QBit type.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Shape {
    /// Bits per value.
    bits: usize,
    dimension: usize,
    stride: usize,
    element: Element,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Element {
    Int8,
    BFloat16,
    Float32,
    Float64,
}

impl Shape {
    /// The shape of `QBit(element, dimension, stride)`, or `None` for another type.
    pub(crate) fn of(t: &TypeDesc) -> Option<Shape> {
        let TypeDesc::QBit { element, dimension, stride } = t else { return None };
        let (element, bits) = match element.as_ref() {
            TypeDesc::Int8 => (Element::Int8, 8),
            TypeDesc::BFloat16 => (Element::BFloat16, 16),
            TypeDesc::Float32 => (Element::Float32, 32),
            TypeDesc::Float64 => (Element::Float64, 64),
            _ => return None,
        };
        let dimension = usize::try_from(*dimension).ok().filter(|&d| d > 0 && d <= 1 << 20)?;
        let stride = match stride {
            Some(s) => usize::try_from(*s).ok().filter(|&s| s > 0 && dimension % s == 0)?,
            None => dimension,
        };
        Some(Shape { bits, dimension, stride, element })
    }

    fn groups(&self) -> usize {
        self.dimension.div_ceil(self.stride)
    }

    fn plane_bytes(&self) -> usize {
        self.stride.div_ceil(8)
    }

    pub(crate) fn planes(&self) -> usize {
        self.bits * self.groups()
    }

    fn value(&self, raw: u64) -> Value<'static> {
        match self.element {
            Element::Int8 => Value::Int8(raw as u8 as i8),
            Element::BFloat16 => Value::BFloat16(raw as u16),
            Element::Float32 => Value::Float32(f32::from_bits(raw as u32)),
            Element::Float64 => Value::Float64(f64::from_bits(raw)),
        }
    }

    /// The raw bits of `v` as an element, converting between numbers where the value is kept.
    fn raw(&self, v: &Value<'_>) -> std::result::Result<u64, String> {
        let v = v.unwrap_typed();
        let float = || match *v {
            Value::Float32(x) => Some(f64::from(x)),
            Value::Float64(x) => Some(x),
            Value::BFloat16(b) => Some(f64::from(f32::from_bits(u32::from(b) << 16))),
            _ => v.as_i64().map(|i| i as f64),
        };
        let bad = || format!("a QBit element of type {:?} cannot hold {v:?}", self.element);
        Ok(match self.element {
            Element::Int8 => i8::try_from(v.as_i64().ok_or_else(bad)?).map_err(|_| bad())? as u8 as u64,
            Element::BFloat16 => match *v {
                Value::BFloat16(b) => u64::from(b),
                _ => u64::from(((float().ok_or_else(bad)? as f32).to_bits() >> 16) as u16),
            },
            Element::Float32 => match *v {
                Value::Float32(x) => u64::from(x.to_bits()),
                _ => u64::from((float().ok_or_else(bad)? as f32).to_bits()),
            },
            Element::Float64 => float().ok_or_else(bad)?.to_bits(),
        })
    }
}

/// A decoded QBit column.
pub struct QBitColumn {
    shape: Shape,
    planes: TupleColumn,
}

impl QBitColumn {
    /// A QBit column of this shape.
    pub(crate) fn new(shape: Shape) -> Self {
        let width = shape.plane_bytes();
        let planes =
            (0..shape.planes()).map(|_| Box::new(FixedStringColumn::new(width)) as Box<dyn ColumnDecoder>).collect();
        QBitColumn { shape, planes: TupleColumn::new(planes) }
    }

    /// Row `row`'s raw element bits.
    fn raw_row(&self, row: usize) -> Vec<u64> {
        let s = self.shape;
        let width = s.plane_bytes();
        let mut raw = vec![0u64; s.dimension];
        let ColumnView::Tuple(planes) = self.planes.view() else { return raw };
        for (k, plane) in planes.iter().enumerate() {
            let ColumnView::FixedString { data, .. } = plane.view() else { continue };
            let Some(bytes) = data.get(row * width..(row + 1) * width) else { continue };
            let (group, p) = (k / s.bits, k % s.bits);
            let shift = s.bits - 1 - p;
            for (jj, slot) in raw.iter_mut().skip(group * s.stride).take(s.stride).enumerate() {
                let bit = (bytes[width - 1 - jj / 8] >> (jj % 8)) & 1;
                *slot |= u64::from(bit) << shift;
            }
        }
        raw
    }
}

impl Sealed for QBitColumn {}

impl Column for QBitColumn {
    fn rows(&self) -> usize {
        self.planes.rows()
    }

    fn view(&self) -> ColumnView<'_> {
        self.planes.view()
    }

    fn value(&self, row: usize) -> Value<'_> {
        if row >= self.rows() {
            return Value::Null;
        }
        Value::Array(self.raw_row(row).into_iter().map(|r| self.shape.value(r)).collect())
    }
}

impl ColumnDecoder for QBitColumn {
    fn start(&mut self, rows: usize) {
        self.planes.start(rows);
    }

    fn decode(&mut self, input: &mut Input<'_>) -> Result<bool> {
        self.planes.decode(input)
    }

    fn stored_bytes(&self) -> usize {
        self.planes.stored_bytes()
    }
}

/// Builder of a QBit column from arrays of numbers (exactly `dimension` of them per row).
pub struct QBitValues {
    type_name: String,
    shape: Shape,
    /// Every row's raw element bits, row after row.
    raw: Vec<u64>,
}

impl QBitValues {
    /// A builder for the type named `type_name` with this shape.
    pub(crate) fn new(type_name: String, shape: Shape) -> Self {
        QBitValues { type_name, shape, raw: Vec::new() }
    }
}

impl ColumnEncoder for QBitValues {
    fn type_name(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.type_name)
    }
    fn rows(&self) -> usize {
        self.raw.len() / self.shape.dimension
    }
    fn encode(&self, out: &mut Vec<u8>) {
        let s = self.shape;
        let width = s.plane_bytes();
        for k in 0..s.planes() {
            let (group, p) = (k / s.bits, k % s.bits);
            let shift = s.bits - 1 - p;
            for row in self.raw.chunks_exact(s.dimension) {
                let start = out.len();
                out.resize(start + width, 0);
                for (jj, &r) in row.iter().skip(group * s.stride).take(s.stride).enumerate() {
                    out[start + width - 1 - jj / 8] |= (((r >> shift) & 1) as u8) << (jj % 8);
                }
            }
        }
    }
    fn clear(&mut self) {
        self.raw.clear();
    }
}

impl ValueBuilder for QBitValues {
    fn push(&mut self, v: &Value<'_>) -> std::result::Result<(), String> {
        let Value::Array(items) = v.unwrap_typed() else { return Err(format!("a QBit takes an array, got {v:?}")) };
        if items.len() != self.shape.dimension {
            return Err(format!("{} takes {} values, got {}", self.type_name, self.shape.dimension, items.len()));
        }
        let raw: Vec<u64> = items.iter().map(|x| self.shape.raw(x)).collect::<std::result::Result<_, _>>()?;
        self.raw.extend(raw);
        Ok(())
    }
    fn push_default(&mut self) {
        self.raw.extend(std::iter::repeat_n(0, self.shape.dimension));
    }
    fn truncate(&mut self, rows: usize) {
        self.raw.truncate(rows.saturating_mul(self.shape.dimension));
    }
}
