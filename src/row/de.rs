//! Reading rows of a decoded block into `serde::Deserialize` types.
//!
//! Two deserializers: [`RowDe`] is one row of a block (a struct's fields matched to columns by name, a
//! tuple's elements to columns by position, a map's entries one per column, a single column for
//! anything else) and [`ValueDe`] is one value with its ClickHouse type, which steers what each serde
//! request gets (the table in the [module docs](super)). Strings are lent straight from the block
//! (`visit_borrowed_str`), so a struct with `&str` fields reads a row without copying its text.

use super::{Cx, PlanRef};
use crate::format::text::{alternative, strip};
use crate::native::DecodedColumn;
use crate::types::TypeDesc;
use crate::value::Value;
use serde::de::{self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use std::cell::OnceCell;
use std::fmt;

/// What went wrong reading a row, and in which column. Boxed: the results of a row's every value
/// carry it, and a one-pointer error keeps them small.
#[derive(Debug)]
pub(crate) struct DeError(Box<Problem>);

#[derive(Debug)]
pub(crate) struct Problem {
    pub(crate) message: String,
    /// The column (name, type) where the problem is, once known.
    pub(crate) column: Option<(String, String)>,
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.message)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    #[cold]
    fn custom<T: fmt::Display>(msg: T) -> Self {
        err(msg.to_string())
    }
}

impl DeError {
    #[cold]
    fn in_column(mut self, c: &DecodedColumn) -> Self {
        if self.0.column.is_none() {
            self.0.column = Some((c.name().to_string(), c.type_name().to_string()));
        }
        self
    }

    pub(crate) fn into_problem(self) -> Problem {
        *self.0
    }
}

#[cold]
fn err(message: impl Into<String>) -> DeError {
    DeError(Box::new(Problem { message: message.into(), column: None }))
}

type R<T> = Result<T, DeError>;

/// One row of a block.
pub(crate) struct RowDe<'b, 'c> {
    pub(crate) columns: &'b [DecodedColumn],
    /// Per column, the column and its data when it is of a plain type read without making a
    /// [`Value`].
    pub(crate) cells: &'c [Cell<'b>],
    pub(crate) row: usize,
    pub(crate) cx: &'c Cx,
}

/// A column with its [`Leaf`].
pub(crate) struct Cell<'b> {
    column: &'b DecodedColumn,
    leaf: Leaf<'b>,
}

impl<'b> Cell<'b> {
    pub(crate) fn of(column: &'b DecodedColumn) -> Self {
        Cell { column, leaf: Leaf::of(column) }
    }
}

/// A column of a plain type (the exact `TypeDesc`, not one stored alike: a `UInt16` is a `Leaf`, a
/// `Date` is not), whose rows are read straight from the block's typed slices.
pub(crate) enum Leaf<'b> {
    U8(&'b [u8]),
    U16(&'b [u16]),
    U32(&'b [u32]),
    U64(&'b [u64]),
    I8(&'b [i8]),
    I16(&'b [i16]),
    I32(&'b [i32]),
    I64(&'b [i64]),
    F32(&'b [f32]),
    F64(&'b [f64]),
    /// `String`: end offsets, bytes, and the bytes as text when they are all UTF-8 (checked once, at
    /// the first row read as text: a row is then text exactly when it starts and ends on character
    /// boundaries, which `str::get` checks).
    Str(&'b [u64], &'b [u8], OnceCell<Option<&'b str>>),
    /// Anything else: read through [`crate::native::Column::value`].
    Other,
}

impl<'b> Leaf<'b> {
    pub(crate) fn of(c: &'b DecodedColumn) -> Leaf<'b> {
        use crate::native::ColumnView as V;
        use TypeDesc as T;
        match (c.desc(), c.column().view()) {
            (T::UInt8, V::UInt8(s)) => Leaf::U8(s),
            (T::UInt16, V::UInt16(s)) => Leaf::U16(s),
            (T::UInt32, V::UInt32(s)) => Leaf::U32(s),
            (T::UInt64, V::UInt64(s)) => Leaf::U64(s),
            (T::Int8, V::Int8(s)) => Leaf::I8(s),
            (T::Int16, V::Int16(s)) => Leaf::I16(s),
            (T::Int32, V::Int32(s)) => Leaf::I32(s),
            (T::Int64, V::Int64(s)) => Leaf::I64(s),
            (T::Float32, V::Float32(s)) => Leaf::F32(s),
            (T::Float64, V::Float64(s)) => Leaf::F64(s),
            (T::String, V::String { offsets, data }) => Leaf::Str(offsets.ends(), data, OnceCell::new()),
            _ => Leaf::Other,
        }
    }
}

impl<'b, 'c> RowDe<'b, 'c> {
    #[inline]
    fn cell(&self, i: usize) -> CellDe<'b, 'c> {
        CellDe { cell: &self.cells[i], row: self.row, cx: self.cx }
    }

    /// A struct other than the inline way: the block's struct at its first row or read by name, or
    /// another struct.
    #[inline(never)]
    fn struct_first<V: Visitor<'b>>(self, fields: &'static [&'static str], visitor: V) -> R<V::Value> {
        let plan = self.cx.plan(fields, self.columns);
        if plan.complete && plan.by_position.get() != Some(false) {
            // Every field has its column: the fields in order, without keys to match (the way compact
            // formats such as bincode give structs; derived `Deserialize` takes both). serde's list of
            // fields holds their aliases too, though: a struct that takes fewer values than the list
            // has entries had aliases among them, and its row is read again by name (`RowsAs`).
            let mut seq = FieldSeq { cells: self.cells, row: self.row, cx: self.cx, columns: &plan.columns, next: 0 };
            let value = visitor.visit_seq(&mut seq);
            // Fewer values taken than listed (aliases), or a `Deserialize` that takes structs only
            // as maps: by name.
            self.cx.settle(&plan, seq.next == plan.columns.len() && !refused_sequence(&value));
            return value;
        }
        visitor.visit_map(RowMap { row: self, plan: Plan::Fields(plan), next: 0, fields })
    }

    fn single(&self) -> R<CellDe<'b, 'c>> {
        match self.columns.len() {
            1 => Ok(self.cell(0)),
            n => Err(err(format!(
                "the result has {n} columns ({}); a struct, tuple or map reads a row of several",
                column_list(self.columns)
            ))),
        }
    }
}

/// The columns as `a UInt64, b String` for messages (at most 20 named).
pub(crate) fn column_list(columns: &[DecodedColumn]) -> String {
    let mut s: Vec<String> = columns.iter().take(20).map(|c| format!("{} {}", c.name(), c.type_name())).collect();
    if columns.len() > 20 {
        s.push(format!("… {} in all", columns.len()));
    }
    s.join(", ")
}

macro_rules! single_column {
    ($($m:ident),*) => {$(
        fn $m<V: Visitor<'b>>(self, visitor: V) -> R<V::Value> {
            let c = &self.columns.first().ok_or_else(|| err("the result has no columns"))?;
            self.single()?.$m(visitor).map_err(|e| e.in_column(c))
        }
    )*};
}

impl<'b> Deserializer<'b> for RowDe<'b, '_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'b>>(self, visitor: V) -> R<V::Value> {
        if self.columns.len() == 1 {
            let c = &self.columns[0];
            return self.cell(0).deserialize_any(visitor).map_err(|e| e.in_column(c));
        }
        self.deserialize_map(visitor)
    }

    single_column!(
        deserialize_bool,
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_i128,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_u128,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_str,
        deserialize_string,
        deserialize_bytes,
        deserialize_byte_buf,
        deserialize_option,
        deserialize_unit,
        deserialize_seq,
        deserialize_identifier
    );

    fn deserialize_unit_struct<V: Visitor<'b>>(self, name: &'static str, visitor: V) -> R<V::Value> {
        let c = &self.columns.first().ok_or_else(|| err("the result has no columns"))?;
        self.single()?.deserialize_unit_struct(name, visitor).map_err(|e| e.in_column(c))
    }

    fn deserialize_newtype_struct<V: Visitor<'b>>(self, _name: &'static str, visitor: V) -> R<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'b>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> R<V::Value> {
        let c = &self.columns.first().ok_or_else(|| err("the result has no columns"))?;
        self.single()?.deserialize_enum(name, variants, visitor).map_err(|e| e.in_column(c))
    }

    fn deserialize_tuple<V: Visitor<'b>>(self, len: usize, visitor: V) -> R<V::Value> {
        if len != self.columns.len() {
            return Err(err(format!(
                "a tuple of {len} elements cannot read a row of {} columns ({})",
                self.columns.len(),
                column_list(self.columns)
            )));
        }
        visitor.visit_seq(RowSeq { row: self, next: 0 })
    }

    fn deserialize_tuple_struct<V: Visitor<'b>>(self, _name: &'static str, len: usize, visitor: V) -> R<V::Value> {
        self.deserialize_tuple(len, visitor)
    }

    fn deserialize_map<V: Visitor<'b>>(self, visitor: V) -> R<V::Value> {
        let plan: Vec<(usize, usize)> = (0..self.columns.len()).map(|i| (i, i)).collect();
        visitor.visit_map(RowMap { row: self, plan: Plan::Columns(plan), next: 0, fields: &[] })
    }

    #[inline(always)]
    fn deserialize_struct<V: Visitor<'b>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> R<V::Value> {
        if let Some(plan) = self.cx.positional(fields) {
            // The block's struct, read by position since its first row.
            let mut seq = FieldSeq { cells: self.cells, row: self.row, cx: self.cx, columns: &plan.columns, next: 0 };
            let value = visitor.visit_seq(&mut seq);
            if seq.next < plan.columns.len() || refused_sequence(&value) {
                self.cx.settle(plan, false);
            }
            return value;
        }
        self.struct_first(fields, visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'b>>(self, visitor: V) -> R<V::Value> {
        visitor.visit_unit()
    }
}

struct RowSeq<'b, 'c> {
    row: RowDe<'b, 'c>,
    next: usize,
}

impl<'b> SeqAccess<'b> for RowSeq<'b, '_> {
    type Error = DeError;
    fn next_element_seed<T: DeserializeSeed<'b>>(&mut self, seed: T) -> R<Option<T::Value>> {
        let i = self.next;
        if i >= self.row.columns.len() {
            return Ok(None);
        }
        self.next += 1;
        let c = &self.row.columns[i];
        seed.deserialize(self.row.cell(i)).map(Some).map_err(|e| e.in_column(c))
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.row.columns.len() - self.next)
    }
}

/// A struct's fields in order, each from its column.
struct FieldSeq<'b, 'c, 'p> {
    cells: &'c [Cell<'b>],
    row: usize,
    cx: &'c Cx,
    /// The column of every field, in field order.
    columns: &'p [usize],
    next: usize,
}

impl<'b> SeqAccess<'b> for &mut FieldSeq<'b, '_, '_> {
    type Error = DeError;
    #[inline(always)]
    fn next_element_seed<T: DeserializeSeed<'b>>(&mut self, seed: T) -> R<Option<T::Value>> {
        let Some(&col) = self.columns.get(self.next) else { return Ok(None) };
        self.next += 1;
        let Some(cell) = self.cells.get(col) else { return Ok(None) };
        match seed.deserialize(CellDe { cell, row: self.row, cx: self.cx }) {
            Ok(v) => Ok(Some(v)),
            Err(e) => Err(e.in_column(cell.column)),
        }
    }
    #[inline(always)]
    fn next_element<T: de::Deserialize<'b>>(&mut self) -> R<Option<T>> {
        self.next_element_seed(std::marker::PhantomData)
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.columns.len() - self.next)
    }
}

/// Whether a struct's `Deserialize` refused to read it as a sequence (it takes maps only).
#[inline(always)]
fn refused_sequence<T>(value: &R<T>) -> bool {
    matches!(value, Err(e) if e.0.message.starts_with("invalid type: sequence"))
}

/// One cell: a plain column's row read straight from its slice, anything else as a [`ValueDe`].
pub(crate) struct CellDe<'b, 'c> {
    cell: &'c Cell<'b>,
    row: usize,
    cx: &'c Cx,
}

impl<'b, 'c> CellDe<'b, 'c> {
    fn slow(self) -> ValueDe<'b, 'b, 'c> {
        let column = self.cell.column;
        ValueDe { v: column.column().value(self.row), t: column.desc(), cx: self.cx }
    }

    /// The slow way out of line, so that the fast paths stay small enough to inline.
    #[cold]
    #[inline(never)]
    fn slow_path<T>(self, f: impl FnOnce(ValueDe<'b, 'b, 'c>) -> R<T>) -> R<T> {
        f(self.slow())
    }

    #[inline]
    fn bounds(&self) -> Option<(usize, usize)> {
        let Leaf::Str(ends, ..) = &self.cell.leaf else { return None };
        let end = *ends.get(self.row)? as usize;
        let start = if self.row == 0 { 0 } else { ends[self.row - 1] as usize };
        Some((start, end))
    }

    /// The row's bytes, for a `String` leaf.
    #[inline]
    fn str(&self) -> Option<&'b [u8]> {
        let Leaf::Str(_, data, _) = &self.cell.leaf else { return None };
        let (start, end) = self.bounds()?;
        data.get(start..end)
    }

    /// The row as text, for a `String` leaf: `Some(Ok)` when it is UTF-8.
    #[inline]
    fn text(&self) -> Option<Result<&'b str, &'b [u8]>> {
        let Leaf::Str(_, data, whole) = &self.cell.leaf else { return None };
        let (start, end) = self.bounds()?;
        if let Some(text) = whole.get_or_init(|| std::str::from_utf8(data).ok()) {
            if let Some(row) = text.get(start..end) {
                return Some(Ok(row));
            }
        }
        let bytes = data.get(start..end)?;
        Some(std::str::from_utf8(bytes).map_err(|_| bytes))
    }
}

/// A plain number column's row given to the visitor as its own type (serde's number visitors
/// convert, checking the range); anything else the slow way. The column of the type asked for is
/// tried first, inline; every other column goes out of line ([`CellDe::number`]), which keeps the
/// method small enough to inline into a struct's derived `Deserialize`.
macro_rules! leaf_number {
    ($($m:ident => $leaf:ident . $visit:ident),*) => {$(
        #[inline(always)]
        fn $m<V: Visitor<'b>>(self, visitor: V) -> R<V::Value> {
            if let Leaf::$leaf(s) = self.cell.leaf && let Some(&v) = s.get(self.row) {
                return visitor.$visit(v);
            }
            Self::number(self.cell, self.row, self.cx, visitor, |de, visitor| de.$m(visitor))
        }
    )*};
    ($($m:ident),*) => {$(
        #[inline]
        fn $m<V: Visitor<'b>>(self, visitor: V) -> R<V::Value> {
            Self::number(self.cell, self.row, self.cx, visitor, |de, visitor| de.$m(visitor))
        }
    )*};
}

impl<'b, 'c> CellDe<'b, 'c> {
    /// A plain number column's row given to the visitor as its own type; anything else through
    /// `slow`.
    #[inline(never)]
    fn number<V: Visitor<'b>>(
        cell: &'c Cell<'b>,
        row: usize,
        cx: &'c Cx,
        visitor: V,
        slow: impl FnOnce(ValueDe<'b, 'b, 'c>, V) -> R<V::Value>,
    ) -> R<V::Value> {
        // Scalars rather than a `CellDe`: the inline caller passes them in registers.
        let (r, de) = (row, CellDe { cell, row, cx });
        match de.cell.leaf {
            Leaf::U8(s) if r < s.len() => visitor.visit_u8(s[r]),
            Leaf::U16(s) if r < s.len() => visitor.visit_u16(s[r]),
            Leaf::U32(s) if r < s.len() => visitor.visit_u32(s[r]),
            Leaf::U64(s) if r < s.len() => visitor.visit_u64(s[r]),
            Leaf::I8(s) if r < s.len() => visitor.visit_i8(s[r]),
            Leaf::I16(s) if r < s.len() => visitor.visit_i16(s[r]),
            Leaf::I32(s) if r < s.len() => visitor.visit_i32(s[r]),
            Leaf::I64(s) if r < s.len() => visitor.visit_i64(s[r]),
            Leaf::F32(s) if r < s.len() => visitor.visit_f32(s[r]),
            Leaf::F64(s) if r < s.len() => visitor.visit_f64(s[r]),
            _ => slow(de.slow(), visitor),
        }
    }

    /// A row as text other than the inline way: the first row of a `String` column read as text
    /// (its bytes checked for UTF-8), a column whose bytes are not all UTF-8, any other column.
    #[inline(never)]
    fn str_other<V: Visitor<'b>>(cell: &'c Cell<'b>, row: usize, cx: &'c Cx, visitor: V) -> R<V::Value> {
        let de = CellDe { cell, row, cx };
        match de.text() {
            Some(Ok(text)) => visitor.visit_borrowed_str(text),
            Some(Err(b)) => Err(not_utf8(b, std::str::from_utf8(b).err())),
            None => de.slow().deserialize_str(visitor),
        }
    }
}

/// Methods only the slow way serves.
macro_rules! slow {
    ($($m:ident),*) => {$(
        fn $m<V: Visitor<'b>>(self, visitor: V) -> R<V::Value> {
            self.slow().$m(visitor)
        }
    )*};
}

impl<'b> Deserializer<'b> for CellDe<'b, '_> {
    type Error = DeError;

    leaf_number!(
        deserialize_i8 => I8.visit_i8,
        deserialize_i16 => I16.visit_i16,
        deserialize_i32 => I32.visit_i32,
        deserialize_i64 => I64.visit_i64,
        deserialize_u8 => U8.visit_u8,
        deserialize_u16 => U16.visit_u16,
        deserialize_u32 => U32.visit_u32,
        deserialize_u64 => U64.visit_u64,
        deserialize_f32 => F32.visit_f32,
        deserialize_f64 => F64.visit_f64
    );
    leaf_number!(deserialize_i128, deserialize_u128);
    slow!(deserialize_bool, deserialize_char, deserialize_unit, deserialize_seq, deserialize_map);

    fn deserialize_any<V: Visitor<'b>>(self, visitor: V) -> R<V::Value> {
        match self.cell.leaf {
            // Text, or the bytes where they are not (as `ValueDe::deserialize_any`).
            Leaf::Str(..) => match self.text() {
                Some(Ok(text)) => visitor.visit_borrowed_str(text),
                Some(Err(bytes)) => visitor
                    .visit_borrowed_bytes::<DeError>(bytes)
                    .map_err(|_| not_utf8(bytes, std::str::from_utf8(bytes).err())),
                None => self.slow().deserialize_any(visitor),
            },
            Leaf::Other => self.slow().deserialize_any(visitor),
            _ => self.deserialize_u64(visitor),
        }
    }

    #[inline(always)]
    fn deserialize_str<V: Visitor<'b>>(self, visitor: V) -> R<V::Value> {
        // A row of a `String` column whose bytes were found to be UTF-8 (at its first row read as
        // text), inline; everything else out of line.
        let r = self.row;
        if let Leaf::Str(ends, _, whole) = &self.cell.leaf
            && let Some(Some(text)) = whole.get()
            && let Some(&end) = ends.get(r)
        {
            // Row 0 starts at 0 (`ends.get` of `usize::MAX` is `None`).
            let start = ends.get(r.wrapping_sub(1)).copied().unwrap_or(0);
            if let Some(row) = text.get(start as usize..end as usize) {
                return visitor.visit_borrowed_str(row);
            }
        }
        Self::str_other(self.cell, self.row, self.cx, visitor)
    }

    fn deserialize_string<V: Visitor<'b>>(self, visitor: V) -> R<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'b>>(self, visitor: V) -> R<V::Value> {
        match self.str() {
            Some(b) => visitor.visit_borrowed_bytes(b),
            None => self.slow().deserialize_bytes(visitor),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'b>>(self, visitor: V) -> R<V::Value> {
        self.deserialize_bytes(visitor)
    }

    #[inline]
    fn deserialize_option<V: Visitor<'b>>(self, visitor: V) -> R<V::Value> {
        match self.cell.leaf {
            Leaf::Other => self.slow_path(|de| de.deserialize_option(visitor)),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'b>>(self, name: &'static str, visitor: V) -> R<V::Value> {
        self.slow().deserialize_unit_struct(name, visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'b>>(self, _name: &'static str, visitor: V) -> R<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_tuple<V: Visitor<'b>>(self, len: usize, visitor: V) -> R<V::Value> {
        self.slow().deserialize_tuple(len, visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'b>>(self, name: &'static str, len: usize, visitor: V) -> R<V::Value> {
        self.slow().deserialize_tuple_struct(name, len, visitor)
    }

    fn deserialize_struct<V: Visitor<'b>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> R<V::Value> {
        self.slow().deserialize_struct(name, fields, visitor)
    }

    fn deserialize_enum<V: Visitor<'b>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> R<V::Value> {
        self.slow().deserialize_enum(name, variants, visitor)
    }

    fn deserialize_identifier<V: Visitor<'b>>(self, visitor: V) -> R<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'b>>(self, visitor: V) -> R<V::Value> {
        visitor.visit_unit()
    }
}

/// Which column each entry of a map reads.
enum Plan<'p> {
    /// (key: a column index, value: a column index), for maps.
    Columns(Vec<(usize, usize)>),
    /// (field index, column index) for the fields the result has, in field order.
    Fields(PlanRef<'p>),
}

impl Plan<'_> {
    fn get(&self, i: usize) -> Option<(usize, usize)> {
        match self {
            Plan::Columns(p) => p.get(i).copied(),
            Plan::Fields(p) => p.order.get(i).copied(),
        }
    }
    fn len(&self) -> usize {
        match self {
            Plan::Columns(p) => p.len(),
            Plan::Fields(p) => p.order.len(),
        }
    }
}

struct RowMap<'b, 'c> {
    row: RowDe<'b, 'c>,
    plan: Plan<'c>,
    next: usize,
    fields: &'static [&'static str],
}

impl<'b> MapAccess<'b> for RowMap<'b, '_> {
    type Error = DeError;
    fn next_key_seed<K: DeserializeSeed<'b>>(&mut self, seed: K) -> R<Option<K::Value>> {
        let Some((key, _)) = self.plan.get(self.next) else { return Ok(None) };
        let name: &'b str = match &self.plan {
            Plan::Fields(_) => self.fields[key],
            Plan::Columns(_) => self.row.columns[key].name(),
        };
        seed.deserialize(de::value::BorrowedStrDeserializer::new(name)).map(Some)
    }
    fn next_value_seed<V: DeserializeSeed<'b>>(&mut self, seed: V) -> R<V::Value> {
        let (_, col) = self.plan.get(self.next).ok_or_else(|| err("a value was asked for past the row's end"))?;
        self.next += 1;
        let c = &self.row.columns[col];
        seed.deserialize(self.row.cell(col)).map_err(|e| e.in_column(c))
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.plan.len() - self.next)
    }
}

/// One value with its type. `'b` is the block's data, `'t` the type's.
pub(crate) struct ValueDe<'b, 't, 'c> {
    pub(crate) v: Value<'b>,
    pub(crate) t: &'t TypeDesc,
    pub(crate) cx: &'c Cx,
}

/// Values that carry another value of another type (Dynamic, Variant) or types that stand for others
/// (geo types): the value and type to read instead.
enum Inner<'b> {
    Typed(Value<'b>, TypeDesc),
    Shared(Value<'b>, std::sync::Arc<TypeDesc>),
}

impl<'b, 't, 'c> ValueDe<'b, 't, 'c> {
    /// Unwraps Dynamic and Variant values and geo types; `Err(self)` when there is nothing to unwrap.
    fn unwrap(self) -> Result<(Inner<'b>, &'c Cx), Self> {
        let base = strip(self.t);
        match self.v {
            Value::Dynamic { ty, value } => Ok((Inner::Shared(*value, ty), self.cx)),
            Value::Variant { discriminator, value } => {
                Ok((Inner::Typed(*value, alternative(base, discriminator)), self.cx))
            }
            v => {
                if stands_for_another(base) {
                    let physical = match base {
                        TypeDesc::Nested(items) => TypeDesc::Array(Box::new(TypeDesc::Tuple(
                            items.iter().map(|(n, t)| (Some(n.clone()), t.clone())).collect(),
                        ))),
                        b => b.physical().into_owned(),
                    };
                    return Ok((Inner::Typed(v, physical), self.cx));
                }
                Err(ValueDe { v, t: self.t, cx: self.cx })
            }
        }
    }

    fn text(&self) -> R<String> {
        self.cx.text(&self.v, strip(self.t)).map_err(err)
    }

    fn kind(&self) -> String {
        match &self.v {
            Value::Null => "NULL".to_string(),
            _ => format!("a value of {}", strip(self.t)),
        }
    }

    fn mismatch(&self, wanted: &str) -> DeError {
        err(format!("{} cannot be read as {wanted}", self.kind()))
    }

    fn null_check(&self, wanted: &str) -> R<()> {
        if matches!(self.v, Value::Null) {
            return Err(err(format!("NULL cannot be read as {wanted} (use an Option)")));
        }
        Ok(())
    }
}

/// Re-dispatches `$method` to the value inside a Dynamic/Variant or behind a geo type.
macro_rules! unwrap_or {
    ($self:ident, $method:ident ( $($arg:expr),* )) => {
        match $self.unwrap() {
            Ok((Inner::Typed(v, t), cx)) => return ValueDe { v, t: &t, cx }.$method($($arg),*),
            Ok((Inner::Shared(v, t), cx)) => return ValueDe { v, t: &t, cx }.$method($($arg),*),
            Err(s) => s,
        }
    };
}

const POW10: [i128; 39] = {
    let mut p = [1i128; 39];
    let mut i = 1;
    while i < 39 {
        p[i] = p[i - 1] * 10;
        i += 1;
    }
    p
};

macro_rules! int_method {
    ($m:ident, $name:literal) => {
        fn $m<V: Visitor<'b>>(self, visitor: V) -> R<V::Value> {
            let s = unwrap_or!(self, $m(visitor));
            s.null_check($name)?;
            match s.v {
                Value::Bool(b) => visitor.visit_u8(b.into()),
                Value::UInt8(x) => visitor.visit_u8(x),
                Value::UInt16(x) | Value::Date(x) => visitor.visit_u16(x),
                Value::UInt32(x) | Value::DateTime(x) => visitor.visit_u32(x),
                Value::UInt64(x) => visitor.visit_u64(x),
                Value::UInt128(x) => visit_u128(visitor, x),
                Value::Int8(x) | Value::Enum8(x) => visitor.visit_i8(x),
                Value::Int16(x) | Value::Enum16(x) => visitor.visit_i16(x),
                Value::Int32(x) | Value::Date32(x) | Value::Time(x) => visitor.visit_i32(x),
                Value::Int64(x) | Value::Interval(x) => visitor.visit_i64(x),
                Value::DateTime64 { ticks, .. } | Value::Time64 { ticks, .. } => visitor.visit_i64(ticks),
                Value::Int128(x) => visit_i128(visitor, x),
                Value::Ipv4(ip) => visitor.visit_u32(ip.into()),
                Value::Ipv6(ip) => visitor.visit_u128(ip.into()),
                Value::Uuid(u) => visitor.visit_u128(u),
                Value::Decimal { raw, scale } => {
                    let p = POW10[usize::from(scale).min(38)];
                    if raw % p != 0 {
                        return Err(err(format!("{} has a fraction: it cannot be read as {}", s.text()?, $name)));
                    }
                    visit_i128(visitor, raw / p)
                }
                Value::Decimal256 { .. } => {
                    let text = s.text()?;
                    match text.parse::<i128>() {
                        Ok(x) => visit_i128(visitor, x),
                        Err(_) => Err(err(format!("{text} is not an integer in range for {}", $name))),
                    }
                }
                Value::UInt256(l) if l[2] == 0 && l[3] == 0 => {
                    visit_u128(visitor, u128::from(l[0]) | (u128::from(l[1]) << 64))
                }
                Value::Int256(l) => {
                    let lo = i128::from_le_bytes(bytemuck::cast([l[0], l[1]]));
                    let high_is_sign =
                        (l[2] == 0 && l[3] == 0 && lo >= 0) || (l[2] == u64::MAX && l[3] == u64::MAX && lo < 0);
                    if !high_is_sign {
                        return Err(err(format!("{} is out of range for {}", s.text()?, $name)));
                    }
                    visit_i128(visitor, lo)
                }
                _ => Err(s.mismatch($name)),
            }
        }
    };
}

/// A wide integer as the narrowest of i64/u64/i128 that holds it (serde's visitors of the narrower
/// integer types take only those).
fn visit_i128<'b, V: Visitor<'b>>(visitor: V, x: i128) -> R<V::Value> {
    if let Ok(v) = i64::try_from(x) {
        visitor.visit_i64(v)
    } else if let Ok(v) = u64::try_from(x) {
        visitor.visit_u64(v)
    } else {
        visitor.visit_i128(x)
    }
}

fn visit_u128<'b, V: Visitor<'b>>(visitor: V, x: u128) -> R<V::Value> {
    match u64::try_from(x) {
        Ok(v) => visitor.visit_u64(v),
        Err(_) => visitor.visit_u128(x),
    }
}

macro_rules! float_method {
    ($m:ident, $name:literal) => {
        fn $m<V: Visitor<'b>>(self, visitor: V) -> R<V::Value> {
            let s = unwrap_or!(self, $m(visitor));
            s.null_check($name)?;
            match s.v {
                Value::Float32(x) => visitor.visit_f32(x),
                Value::Float64(x) => visitor.visit_f64(x),
                Value::BFloat16(b) => visitor.visit_f32(f32::from_bits(u32::from(b) << 16)),
                Value::Decimal { .. } | Value::Decimal256 { .. } => {
                    let text = s.text()?;
                    visitor.visit_f64(text.parse::<f64>().map_err(|e| err(format!("{text}: {e}")))?)
                }
                Value::UInt8(x) => visitor.visit_u8(x),
                Value::UInt16(x) => visitor.visit_u16(x),
                Value::UInt32(x) => visitor.visit_u32(x),
                Value::UInt64(x) => visitor.visit_u64(x),
                Value::Int8(x) => visitor.visit_i8(x),
                Value::Int16(x) => visitor.visit_i16(x),
                Value::Int32(x) => visitor.visit_i32(x),
                Value::Int64(x) => visitor.visit_i64(x),
                _ => Err(s.mismatch($name)),
            }
        }
    };
}

impl<'b> Deserializer<'b> for ValueDe<'b, '_, '_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'b>>(self, visitor: V) -> R<V::Value> {
        let s = unwrap_or!(self, deserialize_any(visitor));
        let base = strip(s.t);
        match s.v {
            Value::Null => visitor.visit_none(),
            Value::Bool(b) => visitor.visit_bool(b),
            Value::UInt8(x) if matches!(base, TypeDesc::Bool) => visitor.visit_bool(x != 0),
            Value::UInt8(x) => visitor.visit_u8(x),
            Value::UInt16(x) => visitor.visit_u16(x),
            Value::UInt32(x) => visitor.visit_u32(x),
            Value::UInt64(x) => visitor.visit_u64(x),
            Value::UInt128(x) => visitor.visit_u128(x),
            Value::Int8(x) => visitor.visit_i8(x),
            Value::Int16(x) => visitor.visit_i16(x),
            Value::Int32(x) => visitor.visit_i32(x),
            Value::Int64(x) | Value::Interval(x) => visitor.visit_i64(x),
            Value::Int128(x) => visitor.visit_i128(x),
            Value::Float32(x) => visitor.visit_f32(x),
            Value::Float64(x) => visitor.visit_f64(x),
            Value::BFloat16(b) => visitor.visit_f32(f32::from_bits(u32::from(b) << 16)),
            // Text where it is UTF-8; a `String` is bytes to ClickHouse, and "any value" gets the bytes
            // where they are not text (a `#[serde(flatten)]` struct buffers every column, named or not),
            // or, where it takes no bytes, the error saying the text is not UTF-8.
            Value::String(std::borrow::Cow::Borrowed(b)) | Value::FixedString(std::borrow::Cow::Borrowed(b))
                if std::str::from_utf8(b).is_err() =>
            {
                visitor.visit_borrowed_bytes::<DeError>(b).map_err(|_| not_utf8(b, std::str::from_utf8(b).err()))
            }
            Value::String(std::borrow::Cow::Owned(b)) | Value::FixedString(std::borrow::Cow::Owned(b))
                if std::str::from_utf8(&b).is_err() =>
            {
                let problem = not_utf8(&b, std::str::from_utf8(&b).err());
                visitor.visit_byte_buf::<DeError>(b).map_err(|_| problem)
            }
            Value::String(_) | Value::FixedString(_) => s.deserialize_str(visitor),
            Value::Enum8(_) | Value::Enum16(_) => s.deserialize_str(visitor),
            Value::Array(_) => s.deserialize_seq(visitor),
            Value::Tuple(_) => match base {
                TypeDesc::Tuple(items) if items.iter().all(|(n, _)| n.is_some()) && !items.is_empty() => {
                    s.deserialize_map(visitor)
                }
                _ => s.deserialize_seq(visitor),
            },
            Value::Map(_) | Value::Json(_) => s.deserialize_map(visitor),
            _ => visitor.visit_string(s.text()?),
        }
    }

    fn deserialize_bool<V: Visitor<'b>>(self, visitor: V) -> R<V::Value> {
        let s = unwrap_or!(self, deserialize_bool(visitor));
        s.null_check("bool")?;
        match s.v {
            Value::Bool(b) => visitor.visit_bool(b),
            Value::UInt8(x) if x <= 1 => visitor.visit_bool(x == 1),
            _ => Err(s.mismatch("bool")),
        }
    }

    int_method!(deserialize_i8, "i8");
    int_method!(deserialize_i16, "i16");
    int_method!(deserialize_i32, "i32");
    int_method!(deserialize_i64, "i64");
    int_method!(deserialize_i128, "i128");
    int_method!(deserialize_u8, "u8");
    int_method!(deserialize_u16, "u16");
    int_method!(deserialize_u32, "u32");
    int_method!(deserialize_u64, "u64");
    int_method!(deserialize_u128, "u128");
    float_method!(deserialize_f32, "f32");
    float_method!(deserialize_f64, "f64");

    fn deserialize_char<V: Visitor<'b>>(self, visitor: V) -> R<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'b>>(self, visitor: V) -> R<V::Value> {
        let s = unwrap_or!(self, deserialize_str(visitor));
        s.null_check("a string")?;
        match s.v {
            Value::String(std::borrow::Cow::Borrowed(b)) | Value::FixedString(std::borrow::Cow::Borrowed(b)) => {
                match std::str::from_utf8(b) {
                    Ok(text) => visitor.visit_borrowed_str(text),
                    Err(e) => Err(not_utf8(b, Some(e))),
                }
            }
            Value::String(std::borrow::Cow::Owned(b)) | Value::FixedString(std::borrow::Cow::Owned(b)) => {
                match String::from_utf8(b) {
                    Ok(text) => visitor.visit_string(text),
                    Err(e) => Err(not_utf8(e.as_bytes(), Some(e.utf8_error()))),
                }
            }
            Value::Enum8(x) => match enum_name(strip(s.t), i16::from(x)) {
                Some(n) => visitor.visit_str(n),
                None => visitor.visit_string(x.to_string()),
            },
            Value::Enum16(x) => match enum_name(strip(s.t), x) {
                Some(n) => visitor.visit_str(n),
                None => visitor.visit_string(x.to_string()),
            },
            Value::Array(_) | Value::Tuple(_) | Value::Map(_) | Value::Json(_) => Err(s.mismatch("a string")),
            _ => visitor.visit_string(s.text()?),
        }
    }

    fn deserialize_string<V: Visitor<'b>>(self, visitor: V) -> R<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'b>>(self, visitor: V) -> R<V::Value> {
        let s = unwrap_or!(self, deserialize_bytes(visitor));
        s.null_check("bytes")?;
        match s.v {
            Value::String(std::borrow::Cow::Borrowed(b)) | Value::FixedString(std::borrow::Cow::Borrowed(b)) => {
                visitor.visit_borrowed_bytes(b)
            }
            Value::String(std::borrow::Cow::Owned(b)) | Value::FixedString(std::borrow::Cow::Owned(b)) => {
                visitor.visit_byte_buf(b)
            }
            Value::Uuid(u) => visitor.visit_bytes(&u.to_be_bytes()),
            Value::Ipv4(ip) => visitor.visit_bytes(&ip.octets()),
            Value::Ipv6(ip) => visitor.visit_bytes(&ip.octets()),
            _ => Err(s.mismatch("bytes")),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'b>>(self, visitor: V) -> R<V::Value> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'b>>(self, visitor: V) -> R<V::Value> {
        match self.v {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'b>>(self, visitor: V) -> R<V::Value> {
        match &self.v {
            Value::Null => visitor.visit_unit(),
            Value::Tuple(items) if items.is_empty() => visitor.visit_unit(),
            _ => Err(self.mismatch("()")),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'b>>(self, _name: &'static str, visitor: V) -> R<V::Value> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'b>>(self, _name: &'static str, visitor: V) -> R<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'b>>(self, visitor: V) -> R<V::Value> {
        let s = unwrap_or!(self, deserialize_seq(visitor));
        s.null_check("a sequence")?;
        let base = strip(s.t);
        match s.v {
            Value::Array(items) => {
                let elem = match base {
                    TypeDesc::Array(e) => e.as_ref(),
                    _ => &TypeDesc::Nothing,
                };
                visitor.visit_seq(ValueSeq { items: items.into_iter(), types: Types::Same(elem), cx: s.cx, at: 0 })
            }
            Value::Tuple(items) => {
                let types = match base {
                    TypeDesc::Tuple(t) => Types::Each(t),
                    _ => Types::Same(&TypeDesc::Nothing),
                };
                visitor.visit_seq(ValueSeq { items: items.into_iter(), types, cx: s.cx, at: 0 })
            }
            Value::Map(entries) => {
                let (k, v) = match base {
                    TypeDesc::Map(k, v) => (k.as_ref(), v.as_ref()),
                    _ => (&TypeDesc::Nothing, &TypeDesc::Nothing),
                };
                let pair = TypeDesc::Tuple(vec![(None, k.clone()), (None, v.clone())]);
                let items = entries.into_iter().map(|(k, v)| Value::Tuple(vec![k, v])).collect::<Vec<_>>();
                visitor.visit_seq(ValueSeq { items: items.into_iter(), types: Types::Same(&pair), cx: s.cx, at: 0 })
            }
            Value::String(b) | Value::FixedString(b) => {
                visitor.visit_seq(de::value::SeqDeserializer::new(b.iter().copied()))
            }
            _ => Err(s.mismatch("a sequence")),
        }
    }

    fn deserialize_tuple<V: Visitor<'b>>(self, len: usize, visitor: V) -> R<V::Value> {
        let s = unwrap_or!(self, deserialize_tuple(len, visitor));
        match &s.v {
            Value::Tuple(items) | Value::Array(items) if items.len() != len => {
                Err(err(format!("{} has {} elements; the Rust tuple or array has {len}", s.kind(), items.len())))
            }
            Value::String(b) | Value::FixedString(b) if b.len() != len => {
                Err(err(format!("{} has {} bytes; the Rust array has {len}", s.kind(), b.len())))
            }
            _ => s.deserialize_seq(visitor),
        }
    }

    fn deserialize_tuple_struct<V: Visitor<'b>>(self, _name: &'static str, len: usize, visitor: V) -> R<V::Value> {
        self.deserialize_tuple(len, visitor)
    }

    fn deserialize_map<V: Visitor<'b>>(self, visitor: V) -> R<V::Value> {
        let s = unwrap_or!(self, deserialize_map(visitor));
        s.null_check("a map")?;
        let base = strip(s.t);
        let kind = s.kind();
        match s.v {
            Value::Map(entries) => {
                let (k, v) = match base {
                    TypeDesc::Map(k, v) => (k.as_ref(), v.as_ref()),
                    _ => (&TypeDesc::Nothing, &TypeDesc::Nothing),
                };
                visitor.visit_map(ValueMap { entries: entries.into_iter(), types: (k, v), cx: s.cx, value: None })
            }
            Value::Tuple(items) => match base {
                TypeDesc::Tuple(types) if types.iter().all(|(n, _)| n.is_some()) => {
                    visitor.visit_map(NamedTuple { items: items.into_iter(), types, cx: s.cx, at: 0, value: None })
                }
                _ => Err(err(format!("{kind} has no element names: read it as a tuple or a sequence"))),
            },
            Value::Json(_) => {
                let tree = s.v.json_tree().unwrap_or_default();
                visitor.visit_map(JsonMap { nodes: tree.into_iter(), cx: s.cx, value: None })
            }
            _ => Err(s.mismatch("a map")),
        }
    }

    fn deserialize_struct<V: Visitor<'b>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> R<V::Value> {
        let s = unwrap_or!(self, deserialize_struct(_name, _fields, visitor));
        match (&s.v, strip(s.t)) {
            // A tuple without names reads a struct by position.
            (Value::Tuple(_), TypeDesc::Tuple(types)) if types.iter().any(|(n, _)| n.is_none()) => {
                s.deserialize_seq(visitor)
            }
            _ => s.deserialize_map(visitor),
        }
    }

    fn deserialize_enum<V: Visitor<'b>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> R<V::Value> {
        let base = strip(self.t);
        match self.v {
            Value::Variant { discriminator, value } => {
                let t = alternative(base, discriminator);
                let name = t.to_string();
                visitor.visit_enum(TypedEnum { name, v: *value, t, cx: self.cx })
            }
            Value::Dynamic { ty, value } => {
                let name = ty.to_string();
                visitor.visit_enum(TypedEnum { name, v: *value, t: ty.as_ref().clone(), cx: self.cx })
            }
            Value::Enum8(_) | Value::Enum16(_) | Value::String(_) | Value::FixedString(_) => {
                let name = self.text_name()?;
                visitor.visit_enum(name.into_deserializer())
            }
            _ => Err(self.mismatch("an enum")),
        }
    }

    fn deserialize_identifier<V: Visitor<'b>>(self, visitor: V) -> R<V::Value> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'b>>(self, visitor: V) -> R<V::Value> {
        visitor.visit_unit()
    }
}

impl ValueDe<'_, '_, '_> {
    /// An Enum's name or a string's text, for a Rust enum's unit variant.
    fn text_name(&self) -> R<String> {
        match &self.v {
            Value::Enum8(x) => {
                Ok(enum_name(strip(self.t), i16::from(*x)).map_or_else(|| x.to_string(), str::to_string))
            }
            Value::Enum16(x) => Ok(enum_name(strip(self.t), *x).map_or_else(|| x.to_string(), str::to_string)),
            Value::String(b) | Value::FixedString(b) => {
                std::str::from_utf8(b).map(str::to_string).map_err(|e| not_utf8(b, Some(e)))
            }
            _ => Err(self.mismatch("an enum")),
        }
    }
}

/// Geo types and `Nested`, whose values are those of the arrays and tuples they stand for.
fn stands_for_another(t: &TypeDesc) -> bool {
    use TypeDesc as T;
    matches!(
        t,
        T::Point
            | T::Ring
            | T::LineString
            | T::MultiPoint
            | T::Polygon
            | T::MultiLineString
            | T::MultiPolygon
            | T::Nested(_)
    )
}

fn enum_name(t: &TypeDesc, x: i16) -> Option<&str> {
    match t {
        TypeDesc::Enum8(members) => members.iter().find(|(_, v)| i16::from(*v) == x).map(|(n, _)| n.as_str()),
        TypeDesc::Enum16(members) => members.iter().find(|(_, v)| *v == x).map(|(n, _)| n.as_str()),
        _ => None,
    }
}

#[cold]
fn not_utf8(b: &[u8], e: Option<std::str::Utf8Error>) -> DeError {
    err(format!(
        "the string is not UTF-8 (byte {} of {}); read it as bytes (serde_bytes, Vec<u8>)",
        e.map_or(0, |e| e.valid_up_to()),
        b.len()
    ))
}

/// The element types of a sequence: one for all (Array) or one each (Tuple).
enum Types<'t> {
    Same(&'t TypeDesc),
    Each(&'t [(Option<String>, TypeDesc)]),
}

struct ValueSeq<'b, 't, 'c> {
    items: std::vec::IntoIter<Value<'b>>,
    types: Types<'t>,
    cx: &'c Cx,
    at: usize,
}

impl<'b> SeqAccess<'b> for ValueSeq<'b, '_, '_> {
    type Error = DeError;
    fn next_element_seed<T: DeserializeSeed<'b>>(&mut self, seed: T) -> R<Option<T::Value>> {
        let Some(v) = self.items.next() else { return Ok(None) };
        let t = match &self.types {
            Types::Same(t) => *t,
            Types::Each(items) => items.get(self.at).map_or(&TypeDesc::Nothing, |(_, t)| t),
        };
        self.at += 1;
        seed.deserialize(ValueDe { v, t, cx: self.cx }).map(Some)
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct ValueMap<'b, 't, 'c> {
    entries: std::vec::IntoIter<(Value<'b>, Value<'b>)>,
    types: (&'t TypeDesc, &'t TypeDesc),
    cx: &'c Cx,
    value: Option<Value<'b>>,
}

impl<'b> MapAccess<'b> for ValueMap<'b, '_, '_> {
    type Error = DeError;
    fn next_key_seed<K: DeserializeSeed<'b>>(&mut self, seed: K) -> R<Option<K::Value>> {
        let Some((k, v)) = self.entries.next() else { return Ok(None) };
        self.value = Some(v);
        seed.deserialize(ValueDe { v: k, t: self.types.0, cx: self.cx }).map(Some)
    }
    fn next_value_seed<V: DeserializeSeed<'b>>(&mut self, seed: V) -> R<V::Value> {
        let v = self.value.take().ok_or_else(|| err("a map value was asked for before its key"))?;
        seed.deserialize(ValueDe { v, t: self.types.1, cx: self.cx })
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

struct NamedTuple<'b, 't, 'c> {
    items: std::vec::IntoIter<Value<'b>>,
    types: &'t [(Option<String>, TypeDesc)],
    cx: &'c Cx,
    at: usize,
    value: Option<Value<'b>>,
}

impl<'b> MapAccess<'b> for NamedTuple<'b, '_, '_> {
    type Error = DeError;
    fn next_key_seed<K: DeserializeSeed<'b>>(&mut self, seed: K) -> R<Option<K::Value>> {
        let Some(v) = self.items.next() else { return Ok(None) };
        self.value = Some(v);
        let name = self.types.get(self.at).and_then(|(n, _)| n.as_deref()).unwrap_or_default();
        seed.deserialize(de::value::StrDeserializer::new(name)).map(Some)
    }
    fn next_value_seed<V: DeserializeSeed<'b>>(&mut self, seed: V) -> R<V::Value> {
        let v = self.value.take().ok_or_else(|| err("a tuple element was asked for before its name"))?;
        let t = self.types.get(self.at).map_or(&TypeDesc::Nothing, |(_, t)| t);
        self.at += 1;
        seed.deserialize(ValueDe { v, t, cx: self.cx })
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

/// A JSON object's paths nested into objects.
struct JsonMap<'v, 'b, 'c> {
    nodes: std::vec::IntoIter<crate::value::JsonNode<'v, 'b>>,
    cx: &'c Cx,
    value: Option<crate::value::JsonNode<'v, 'b>>,
}

impl<'b> MapAccess<'b> for JsonMap<'_, 'b, '_> {
    type Error = DeError;
    fn next_key_seed<K: DeserializeSeed<'b>>(&mut self, seed: K) -> R<Option<K::Value>> {
        let Some(node) = self.nodes.next() else { return Ok(None) };
        let key = seed.deserialize(de::value::StrDeserializer::<DeError>::new(node.segment)).map(Some);
        self.value = Some(node);
        key
    }
    fn next_value_seed<V: DeserializeSeed<'b>>(&mut self, seed: V) -> R<V::Value> {
        let node = self.value.take().ok_or_else(|| err("a JSON value was asked for before its path"))?;
        match node.value {
            // A path that is both a leaf and a prefix of others keeps its leaf (the server does the same).
            Some(v) if node.children.is_empty() => {
                seed.deserialize(ValueDe { v: v.clone(), t: &TypeDesc::Dynamic { max_types: None }, cx: self.cx })
            }
            _ => seed.deserialize(JsonObject { nodes: node.children, cx: self.cx }),
        }
    }
}

/// A nested JSON object.
struct JsonObject<'v, 'b, 'c> {
    nodes: Vec<crate::value::JsonNode<'v, 'b>>,
    cx: &'c Cx,
}

impl<'de> Deserializer<'de> for JsonObject<'_, 'de, '_> {
    type Error = DeError;
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> R<V::Value> {
        visitor.visit_map(JsonMap { nodes: self.nodes.into_iter(), cx: self.cx, value: None })
    }
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> R<V::Value> {
        visitor.visit_some(self)
    }
    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf unit unit_struct
        newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

/// A Variant or Dynamic value as a Rust enum: the variant named by the value's type.
struct TypedEnum<'b, 'c> {
    name: String,
    v: Value<'b>,
    t: TypeDesc,
    cx: &'c Cx,
}

impl<'b, 'c> de::EnumAccess<'b> for TypedEnum<'b, 'c> {
    type Error = DeError;
    type Variant = TypedVariant<'b, 'c>;
    fn variant_seed<S: DeserializeSeed<'b>>(self, seed: S) -> R<(S::Value, Self::Variant)> {
        let name = seed.deserialize(de::value::StrDeserializer::<DeError>::new(&self.name))?;
        Ok((name, TypedVariant { v: self.v, t: self.t, cx: self.cx }))
    }
}

struct TypedVariant<'b, 'c> {
    v: Value<'b>,
    t: TypeDesc,
    cx: &'c Cx,
}

impl<'b> de::VariantAccess<'b> for TypedVariant<'b, '_> {
    type Error = DeError;
    fn unit_variant(self) -> R<()> {
        Err(err(format!("a value of {} cannot be a unit variant", self.t)))
    }
    fn newtype_variant_seed<S: DeserializeSeed<'b>>(self, seed: S) -> R<S::Value> {
        seed.deserialize(ValueDe { v: self.v, t: &self.t, cx: self.cx })
    }
    fn tuple_variant<V: Visitor<'b>>(self, len: usize, visitor: V) -> R<V::Value> {
        ValueDe { v: self.v, t: &self.t, cx: self.cx }.deserialize_tuple(len, visitor)
    }
    fn struct_variant<V: Visitor<'b>>(self, fields: &'static [&'static str], visitor: V) -> R<V::Value> {
        ValueDe { v: self.v, t: &self.t, cx: self.cx }.deserialize_struct("", fields, visitor)
    }
}
