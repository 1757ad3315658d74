//! Writing `serde::Serialize` rows into an insert's column builders.
//!
//! A row's fields go one by one into their columns' builders ([`FieldSer`]): a field that is a scalar
//! becomes a [`Value`] on the stack that borrows the field's text or bytes and is pushed at once, so a
//! struct of `&str`/`String` fields costs no allocation per row. Fields of composite types (arrays,
//! tuples, maps, nested structs) are first built into an owned [`Value`] ([`ValueSer`]), with the
//! column's element types at hand so that text is parsed for the types that take text (dates in an
//! `Array(Date)`, as at the top level). A row that fails leaves no trace: every builder is cut back to
//! its rows before it.

use crate::client::coerce::{Coercion, converts_for, may_convert};
use crate::client::inserter::RowParts;
use crate::format::text::strip;
use crate::native::ValueBuilder;
use crate::types::TypeDesc;
use crate::value::Value;
use crate::{CallOptions, Client, Error, InsertSummary, Inserter, RequestLimits, Result};
use serde::Serialize;
use serde::ser::{self, Impossible, SerializeMap, SerializeSeq, SerializeStruct, SerializeTuple};
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

/// What went wrong writing a row, and in which column.
#[derive(Debug)]
pub(crate) struct SerError {
    message: String,
    column: Option<usize>,
}

impl fmt::Display for SerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SerError {}

impl ser::Error for SerError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        SerError { message: msg.to_string(), column: None }
    }
}

fn err(message: impl Into<String>) -> SerError {
    SerError { message: message.into(), column: None }
}

type R<T> = std::result::Result<T, SerError>;

/// How a row's fields map to the insert's columns: learnt field by field (with the fields' addresses,
/// for a lookup without comparing names), and which columns the current row has filled.
#[derive(Default)]
pub(crate) struct FieldPlan {
    /// (field name as serde gives it, column index).
    fields: Vec<(&'static str, usize)>,
    /// Per column: filled by the current row.
    pushed: Vec<bool>,
}

impl FieldPlan {
    fn column(&mut self, key: &'static str, position: usize, columns: &[(String, String)]) -> R<usize> {
        if let Some(&(k, c)) = self.fields.get(position) {
            if std::ptr::eq(k, key) || k == key {
                return Ok(c);
            }
        }
        if let Some(&(_, c)) = self.fields.iter().find(|(k, _)| std::ptr::eq(*k, key) || *k == key) {
            return Ok(c);
        }
        let c = columns.iter().position(|(n, _)| n == key).ok_or_else(|| {
            let names: Vec<&str> = columns.iter().map(|(n, _)| n.as_str()).collect();
            err(format!("field `{key}` names no column of the insert (its columns: {})", names.join(", ")))
        })?;
        self.fields.push((key, c));
        Ok(c)
    }
}

/// The field names of a struct row (`None` for a row that is not a struct: a tuple or sequence,
/// whose values go to the columns in order).
pub(crate) fn field_names<T: Serialize + ?Sized>(row: &T) -> Result<Option<Vec<String>>> {
    match row.serialize(NameSer) {
        Ok(names) => Ok(names),
        Err(e) if e.message == NOT_A_STRUCT => Ok(None),
        Err(e) => Err(Error::Mapping { row: 1, column: None, column_type: None, message: e.message }),
    }
}

/// Writes one row into `parts`' builders (columns no field names get their type's default); on
/// failure every builder is cut back to its rows before.
pub(crate) fn write_row<T: Serialize + ?Sized>(parts: &mut RowParts<'_>, plan: &mut FieldPlan, row: &T) -> Result<()> {
    let before = parts.builders.first().map_or(0, |b| b.rows());
    plan.pushed.clear();
    plan.pushed.resize(parts.builders.len(), false);
    // A `Serialize` that panics part-way must not leave half a row in the builders (a caller that
    // catches the panic would then write misaligned columns): the row is cut back, then the panic goes on.
    let serialized = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        row.serialize(RowSer { parts: &mut *parts, plan: &mut *plan, next: 0 })
    }));
    let result = match serialized {
        Ok(r) => r,
        Err(panic) => {
            for b in parts.builders.iter_mut() {
                b.truncate(before);
            }
            std::panic::resume_unwind(panic);
        }
    };
    if result.is_ok() {
        for (b, done) in parts.builders.iter_mut().zip(&plan.pushed) {
            // A column the row left out: NULL where the column takes it (a column with a DEFAULT was
            // made to, so that the server applies the DEFAULT), else the type's default.
            if !done && b.push(&Value::Null).is_err() {
                b.push_default();
            }
        }
    }
    result.map_err(|e| {
        for b in parts.builders.iter_mut() {
            b.truncate(before);
        }
        let (column, column_type) = match e.column {
            Some(i) => (Some(parts.columns[i].0.clone()), Some(parts.columns[i].1.clone())),
            None => (None, None),
        };
        Error::Mapping { row: parts.at + 1, column, column_type, message: e.message }
    })
}

/// A row: a struct (fields by name) or a tuple/sequence (values in column order).
struct RowSer<'r, 'p> {
    parts: &'r mut RowParts<'p>,
    plan: &'r mut FieldPlan,
    /// The next field's position.
    next: usize,
}

/// A row given as a map (a struct with `#[serde(flatten)]` fields is one): keys name the columns.
struct RowMapSer<'r, 'p> {
    row: RowSer<'r, 'p>,
    /// The column of the key just given.
    column: Option<usize>,
}

impl SerializeMap for RowMapSer<'_, '_> {
    type Ok = ();
    type Error = SerError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> R<()> {
        let name = key.serialize(KeyName)?;
        let columns = &self.row.parts.columns;
        let c = columns.iter().position(|(n, _)| *n == name).ok_or_else(|| {
            let names: Vec<&str> = columns.iter().map(|(n, _)| n.as_str()).collect();
            err(format!("key `{name}` names no column of the insert (its columns: {})", names.join(", ")))
        })?;
        self.column = Some(c);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> R<()> {
        let c = self.column.take().ok_or_else(|| err("a map value came before its key"))?;
        self.row.put(c, value)
    }
    fn end(self) -> R<()> {
        Ok(())
    }
}

macro_rules! not_key {
    ($($m:ident($($t:ty),*)),* $(,)?) => {$(
        fn $m(self, $(_: $t),*) -> R<String> {
            Err(err(KEY))
        }
    )*};
}

/// A map key as text (the name of a column).
struct KeyName;

impl ser::Serializer for KeyName {
    type Ok = String;
    type Error = SerError;
    type SerializeSeq = Impossible<String, SerError>;
    type SerializeTuple = Impossible<String, SerError>;
    type SerializeTupleStruct = Impossible<String, SerError>;
    type SerializeTupleVariant = Impossible<String, SerError>;
    type SerializeMap = Impossible<String, SerError>;
    type SerializeStruct = Impossible<String, SerError>;
    type SerializeStructVariant = Impossible<String, SerError>;

    fn serialize_str(self, v: &str) -> R<String> {
        Ok(v.to_string())
    }
    fn serialize_char(self, v: char) -> R<String> {
        Ok(v.to_string())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, v: &'static str) -> R<String> {
        Ok(v.to_string())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, v: &T) -> R<String> {
        v.serialize(self)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> R<String> {
        v.serialize(self)
    }
    not_key!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_i128(i128),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_u128(u128),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_bytes(&[u8]),
        serialize_unit(),
        serialize_unit_struct(&'static str),
        serialize_none(),
    );
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> R<String> {
        Err(err(KEY))
    }
    fn serialize_seq(self, _: Option<usize>) -> R<Self::SerializeSeq> {
        Err(err(KEY))
    }
    fn serialize_tuple(self, _: usize) -> R<Self::SerializeTuple> {
        Err(err(KEY))
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> R<Self::SerializeTupleStruct> {
        Err(err(KEY))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> R<Self::SerializeTupleVariant> {
        Err(err(KEY))
    }
    fn serialize_map(self, _: Option<usize>) -> R<Self::SerializeMap> {
        Err(err(KEY))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> R<Self::SerializeStruct> {
        Err(err(KEY))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> R<Self::SerializeStructVariant> {
        Err(err(KEY))
    }
}

const KEY: &str = "a row's map keys are column names (text)";

impl RowSer<'_, '_> {
    fn put<V: Serialize + ?Sized>(&mut self, column: usize, value: &V) -> R<()> {
        if column >= self.parts.builders.len() {
            return Err(err(format!(
                "the row has more values than the insert's {} columns",
                self.parts.builders.len()
            )));
        }
        if std::mem::replace(&mut self.plan.pushed[column], true) {
            return Err(SerError { message: "the row gives this column twice".into(), column: Some(column) });
        }
        let field = FieldSer {
            builder: self.parts.builders[column].as_mut(),
            coercion: &mut *self.parts.coercion,
            t: &self.parts.types[column],
            convertible: self.parts.convertible[column],
        };
        value.serialize(field).map_err(|mut e| {
            e.column.get_or_insert(column);
            e
        })
    }
}

fn not_a_row(what: &str) -> SerError {
    err(format!("a row is a struct, a tuple or a sequence of values, not {what}"))
}

macro_rules! not_a_row {
    ($($m:ident($($t:ty),*) => $what:literal),* $(,)?) => {$(
        fn $m(self, $(_: $t),*) -> R<Self::Ok> {
            Err(not_a_row($what))
        }
    )*};
}

/// The scalar methods of a serializer of rows: none is a row.
macro_rules! scalars_not_rows {
    () => {
        not_a_row!(
            serialize_bool(bool) => "a bool", serialize_i8(i8) => "a number", serialize_i16(i16) => "a number",
            serialize_i32(i32) => "a number", serialize_i64(i64) => "a number", serialize_i128(i128) => "a number",
            serialize_u8(u8) => "a number", serialize_u16(u16) => "a number", serialize_u32(u32) => "a number",
            serialize_u64(u64) => "a number", serialize_u128(u128) => "a number", serialize_f32(f32) => "a number",
            serialize_f64(f64) => "a number", serialize_char(char) => "a char", serialize_str(&str) => "a string",
            serialize_bytes(&[u8]) => "bytes", serialize_unit() => "()", serialize_unit_struct(&'static str) => "a unit struct",
            serialize_unit_variant(&'static str, u32, &'static str) => "an enum", serialize_none() => "None",
        );
        fn serialize_newtype_variant<T: Serialize + ?Sized>(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: &T,
        ) -> R<Self::Ok> {
            Err(not_a_row("an enum"))
        }
    };
}

impl<'r, 'p> ser::Serializer for RowSer<'r, 'p> {
    type Ok = ();
    type Error = SerError;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Impossible<(), SerError>;
    type SerializeMap = RowMapSer<'r, 'p>;
    type SerializeStruct = Self;
    type SerializeStructVariant = Impossible<(), SerError>;

    scalars_not_rows!();

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> R<()> {
        value.serialize(self)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, value: &T) -> R<()> {
        value.serialize(self)
    }
    fn serialize_seq(self, _len: Option<usize>) -> R<Self> {
        Ok(self)
    }
    fn serialize_tuple(self, _len: usize) -> R<Self> {
        Ok(self)
    }
    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> R<Self> {
        Ok(self)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> R<Self::SerializeTupleVariant> {
        Err(not_a_row("an enum"))
    }
    fn serialize_map(self, _len: Option<usize>) -> R<Self::SerializeMap> {
        Ok(RowMapSer { row: self, column: None })
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> R<Self> {
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> R<Self::SerializeStructVariant> {
        Err(not_a_row("an enum"))
    }
}

impl SerializeStruct for RowSer<'_, '_> {
    type Ok = ();
    type Error = SerError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> R<()> {
        let column = self.plan.column(key, self.next, self.parts.columns)?;
        self.next += 1;
        self.put(column, value)
    }
    fn skip_field(&mut self, _key: &'static str) -> R<()> {
        Ok(())
    }
    fn end(self) -> R<()> {
        Ok(())
    }
}

impl SerializeSeq for RowSer<'_, '_> {
    type Ok = ();
    type Error = SerError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> R<()> {
        let column = self.next;
        self.next += 1;
        self.put(column, value)
    }
    fn end(self) -> R<()> {
        if self.next != self.parts.builders.len() {
            return Err(err(format!(
                "the row has {} values for the insert's {} columns",
                self.next,
                self.parts.builders.len()
            )));
        }
        Ok(())
    }
}

impl SerializeTuple for RowSer<'_, '_> {
    type Ok = ();
    type Error = SerError;
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> R<()> {
        SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> R<()> {
        SerializeSeq::end(self)
    }
}

impl ser::SerializeTupleStruct for RowSer<'_, '_> {
    type Ok = ();
    type Error = SerError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> R<()> {
        SerializeSeq::serialize_element(self, value)
    }
    fn end(self) -> R<()> {
        SerializeSeq::end(self)
    }
}

/// One column's value, pushed into its builder.
struct FieldSer<'f> {
    builder: &'f mut dyn ValueBuilder,
    coercion: &'f mut Coercion,
    t: &'f TypeDesc,
    convertible: bool,
}

impl<'f> FieldSer<'f> {
    fn push(self, v: Value<'_>) -> R<()> {
        let v = match instant_text(&v, self.t).or_else(|| number_as(&v, self.t)) {
            // Civil date-time text, in the server's form: parsed below as any text is.
            Some(Ok(text @ Value::String(_))) => text,
            Some(Ok(exact)) => return self.builder.push(&exact).map_err(|e| err(format!("{}: {e}", self.t))),
            Some(Err(e)) => return Err(e),
            None => v,
        };
        let pushed = if self.convertible && may_convert(&v) {
            self.coercion.coerce(&v, self.t).and_then(|v| self.builder.push(&v))
        } else {
            self.builder.push(&v)
        };
        pushed.map_err(|e| err(format!("{}: {e}", self.t)))
    }

    fn collect(self, kind: Kind) -> Pushing<'f> {
        Pushing { builder: self.builder, collect: Collect::new(self.t, self.coercion, kind) }
    }
}

/// The scalar methods of a serializer whose `finish` takes the value.
macro_rules! scalars {
    () => {
        fn serialize_bool(self, x: bool) -> R<Self::Ok> {
            self.finish(Value::Bool(x))
        }
        fn serialize_i8(self, x: i8) -> R<Self::Ok> {
            self.finish(Value::Int8(x))
        }
        fn serialize_i16(self, x: i16) -> R<Self::Ok> {
            self.finish(Value::Int16(x))
        }
        fn serialize_i32(self, x: i32) -> R<Self::Ok> {
            self.finish(Value::Int32(x))
        }
        fn serialize_i64(self, x: i64) -> R<Self::Ok> {
            self.finish(Value::Int64(x))
        }
        fn serialize_i128(self, x: i128) -> R<Self::Ok> {
            self.finish(Value::Int128(x))
        }
        fn serialize_u8(self, x: u8) -> R<Self::Ok> {
            self.finish(Value::UInt8(x))
        }
        fn serialize_u16(self, x: u16) -> R<Self::Ok> {
            self.finish(Value::UInt16(x))
        }
        fn serialize_u32(self, x: u32) -> R<Self::Ok> {
            self.finish(Value::UInt32(x))
        }
        fn serialize_u64(self, x: u64) -> R<Self::Ok> {
            self.finish(Value::UInt64(x))
        }
        fn serialize_u128(self, x: u128) -> R<Self::Ok> {
            self.finish(Value::UInt128(x))
        }
        fn serialize_f32(self, x: f32) -> R<Self::Ok> {
            self.finish(Value::Float32(x))
        }
        fn serialize_f64(self, x: f64) -> R<Self::Ok> {
            self.finish(Value::Float64(x))
        }
        fn serialize_char(self, x: char) -> R<Self::Ok> {
            let mut buf = [0u8; 4];
            self.finish(Value::String(Cow::Borrowed(x.encode_utf8(&mut buf).as_bytes())))
        }
        fn serialize_str(self, x: &str) -> R<Self::Ok> {
            self.finish(Value::String(Cow::Borrowed(x.as_bytes())))
        }
        fn serialize_bytes(self, x: &[u8]) -> R<Self::Ok> {
            self.finish(Value::String(Cow::Borrowed(x)))
        }
        fn serialize_none(self) -> R<Self::Ok> {
            self.finish(Value::Null)
        }
        fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> R<Self::Ok> {
            value.serialize(self)
        }
        fn serialize_unit(self) -> R<Self::Ok> {
            self.finish(Value::Null)
        }
        fn serialize_unit_struct(self, _name: &'static str) -> R<Self::Ok> {
            self.finish(Value::Null)
        }
        /// A unit variant is its name: an `Enum8`/`Enum16` member, or text.
        fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> R<Self::Ok> {
            self.finish(Value::String(Cow::Borrowed(variant.as_bytes())))
        }
        fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, value: &T) -> R<Self::Ok> {
            value.serialize(self)
        }
        /// A newtype variant is its value; for a `Variant` or `Dynamic` column, a variant named by a
        /// type (`Date(…)`, as reading names them) is a value of that type.
        fn serialize_newtype_variant<T: Serialize + ?Sized>(
            self,
            _name: &'static str,
            _index: u32,
            variant: &'static str,
            value: &T,
        ) -> R<Self::Ok> {
            match typed_variant(self.t, variant, value, &mut *self.coercion) {
                Some(v) => {
                    let v = v?;
                    self.finish(v)
                }
                None => value.serialize(self),
            }
        }
    };
}

/// The composite methods of a serializer of values: each starts collecting a composite of its kind.
macro_rules! composites {
    ($c:ty) => {
        fn serialize_seq(self, len: Option<usize>) -> R<$c> {
            Ok(self.collect(Kind::Seq(len.unwrap_or(0))))
        }
        fn serialize_tuple(self, len: usize) -> R<$c> {
            Ok(self.collect(Kind::Tuple(len)))
        }
        fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> R<$c> {
            Ok(self.collect(Kind::Tuple(len)))
        }
        fn serialize_tuple_variant(self, _: &'static str, _: u32, _: &'static str, len: usize) -> R<$c> {
            Ok(self.collect(Kind::Tuple(len)))
        }
        fn serialize_map(self, len: Option<usize>) -> R<$c> {
            Ok(self.collect(Kind::Map(len.unwrap_or(0))))
        }
        fn serialize_struct(self, _name: &'static str, len: usize) -> R<$c> {
            Ok(self.collect(Kind::Map(len)))
        }
        fn serialize_struct_variant(self, _: &'static str, _: u32, _: &'static str, len: usize) -> R<$c> {
            Ok(self.collect(Kind::Map(len)))
        }
    };
}

impl<'f> ser::Serializer for FieldSer<'f> {
    type Ok = ();
    type Error = SerError;
    type SerializeSeq = Pushing<'f>;
    type SerializeTuple = Pushing<'f>;
    type SerializeTupleStruct = Pushing<'f>;
    type SerializeTupleVariant = Pushing<'f>;
    type SerializeMap = Pushing<'f>;
    type SerializeStruct = Pushing<'f>;
    type SerializeStructVariant = Pushing<'f>;

    scalars!();

    composites!(Pushing<'f>);
}

impl FieldSer<'_> {
    fn finish(self, v: Value<'_>) -> R<()> {
        self.push(v)
    }
}

/// One value inside a composite, built as an owned [`Value`] for the type `t`.
struct ValueSer<'c> {
    t: &'c TypeDesc,
    coercion: &'c mut Coercion,
}

impl<'c> ValueSer<'c> {
    /// Text (and floats) for a type that takes them become the value the server's parser makes.
    fn finish(self, v: Value<'_>) -> R<Value<'static>> {
        let v = match instant_text(&v, self.t).or_else(|| number_as(&v, self.t)) {
            Some(Ok(text @ Value::String(_))) => text,
            Some(exact) => return exact,
            None => v,
        };
        if converts_for(self.t) && may_convert(&v) {
            return self
                .coercion
                .coerce(&v, self.t)
                .map(|v| v.into_owned().into_owned())
                .map_err(|e| err(format!("{}: {e}", self.t)));
        }
        Ok(v.into_owned())
    }

    fn collect(self, kind: Kind) -> Collect<'c> {
        Collect::new(self.t, self.coercion, kind)
    }
}

impl<'c> ser::Serializer for ValueSer<'c> {
    type Ok = Value<'static>;
    type Error = SerError;
    type SerializeSeq = Collect<'c>;
    type SerializeTuple = Collect<'c>;
    type SerializeTupleStruct = Collect<'c>;
    type SerializeTupleVariant = Collect<'c>;
    type SerializeMap = Collect<'c>;
    type SerializeStruct = Collect<'c>;
    type SerializeStructVariant = Collect<'c>;

    scalars!();

    composites!(Collect<'c>);
}

/// Text of an instant with its offset, as jiff, chrono and time serialize instants (RFC 3339,
/// `2024-01-31T10:00:00Z`; RFC 9557, `…+01:00[Europe/Paris]`), for a `DateTime`/`DateTime64` column:
/// the exact value, or an error when the column cannot hold it (sub-second digits it does not keep).
/// `None` for anything else (text without an offset is read by the server's parser in the column's
/// zone; a `T` between date and time is taken for a space).
fn instant_text(v: &Value<'_>, t: &TypeDesc) -> Option<R<Value<'static>>> {
    let Value::String(text) = v else { return None };
    let precision = match strip(t) {
        TypeDesc::DateTime(_) => None,
        TypeDesc::DateTime64(p, _) => Some(*p),
        _ => return None,
    };
    let text = std::str::from_utf8(text).ok()?;
    if text.len() < 19 || text.as_bytes()[10] != b'T' {
        return None;
    }
    // With a zone, the zone says the instant (jiff writes offsets rounded to minutes, which for zones
    // whose offset then had seconds is not the instant).
    let zoned = text.ends_with(']').then(|| text.parse::<jiff::ZonedDateTime>().ok().map(|z| z.timestamp())).flatten();
    let Some(ts) = zoned.or_else(|| text.parse::<jiff::Timestamp>().ok()) else {
        // No offset: a civil date-time, read in the column's zone by the server's parser.
        let civil = text.replacen('T', " ", 1);
        return match text.parse::<jiff::civil::DateTime>() {
            Ok(_) => Some(Ok(Value::String(Cow::Owned(civil.into_bytes())))),
            Err(_) => None,
        };
    };
    let nanos = ts.as_nanosecond();
    let exact = |unit: i128| (nanos % unit == 0).then_some(nanos / unit);
    let out = match precision {
        None => match exact(1_000_000_000) {
            Some(s) => match u32::try_from(s) {
                Ok(s) => Some(Value::DateTime(s)),
                Err(_) => return Some(Err(err(format!("{t}: {text} is out of the range of {t} (1970 to 2106)")))),
            },
            None => None,
        },
        Some(p) => exact(10i128.pow(9 - u32::from(p.min(9))))
            .and_then(|ticks| i64::try_from(ticks).ok())
            .map(|ticks| Value::DateTime64 { ticks, precision: p }),
    };
    Some(out.ok_or_else(|| err(format!("{t}: {text} is not exactly a value of {t} (no rounding)"))))
}

/// An integer for a column whose values read as integers (see the reading table in [`crate::row`]):
/// days for `Date`/`Date32`, seconds or ticks for `DateTime64`/`Time`/`Time64`, the address for
/// `IPv4`/`IPv6`, the 128 bits for `UUID` — so a struct read with number fields inserts back. `None`
/// for other values and types (the builders take integers for the rest).
fn number_as(v: &Value<'_>, t: &TypeDesc) -> Option<R<Value<'static>>> {
    let wide: i128 = match *v {
        Value::UInt8(x) => x.into(),
        Value::UInt16(x) => x.into(),
        Value::UInt32(x) => x.into(),
        Value::UInt64(x) => x.into(),
        Value::UInt128(x) => return uint128_as(x, strip(t)),
        Value::Int8(x) => x.into(),
        Value::Int16(x) => x.into(),
        Value::Int32(x) => x.into(),
        Value::Int64(x) => x.into(),
        Value::Int128(x) => x,
        _ => return None,
    };
    let range = || err(format!("{wide} is out of range for {t}"));
    let out = match strip(t) {
        TypeDesc::Date => u16::try_from(wide).map(Value::Date).map_err(|_| range()),
        TypeDesc::Date32 => i32::try_from(wide).map(Value::Date32).map_err(|_| range()),
        TypeDesc::DateTime64(p, _) => {
            i64::try_from(wide).map(|ticks| Value::DateTime64 { ticks, precision: *p }).map_err(|_| range())
        }
        TypeDesc::Time => i32::try_from(wide).map(Value::Time).map_err(|_| range()),
        TypeDesc::Time64(p) => {
            i64::try_from(wide).map(|ticks| Value::Time64 { ticks, precision: *p }).map_err(|_| range())
        }
        TypeDesc::Ipv4 => u32::try_from(wide).map(|x| Value::Ipv4(x.into())).map_err(|_| range()),
        TypeDesc::Ipv6 | TypeDesc::Uuid => match u128::try_from(wide) {
            Ok(x) => return uint128_as(x, strip(t)),
            Err(_) => Err(range()),
        },
        // Decimal256 builders take decimals only: the integer as text, parsed exactly.
        TypeDesc::Decimal { precision, .. } if *precision > 38 => {
            Ok(Value::String(Cow::Owned(wide.to_string().into_bytes())))
        }
        _ => return None,
    };
    Some(out)
}

fn uint128_as(x: u128, t: &TypeDesc) -> Option<R<Value<'static>>> {
    match t {
        TypeDesc::Ipv6 => Some(Ok(Value::Ipv6(x.into()))),
        TypeDesc::Uuid => Some(Ok(Value::Uuid(x))),
        _ => None,
    }
}

/// A value of the alternative named `variant` (a type name) of a `Variant` column, or a `Dynamic`
/// value of that type; `None` when the column is neither or the name is not one of its types.
fn typed_variant<T: Serialize + ?Sized>(
    t: &TypeDesc,
    variant: &str,
    value: &T,
    coercion: &mut Coercion,
) -> Option<R<Value<'static>>> {
    match strip(t) {
        TypeDesc::Variant(alts) => {
            let vt = TypeDesc::parse(variant).ok()?;
            let d = alts.iter().position(|a| *a == vt)?;
            let inner = value.serialize(ValueSer { t: &alts[d], coercion });
            Some(inner.map(|v| Value::Variant { discriminator: d as u8, value: Box::new(v) }))
        }
        TypeDesc::Dynamic { .. } => {
            let vt = TypeDesc::parse(variant).ok()?;
            let inner = value.serialize(ValueSer { t: &vt, coercion });
            Some(inner.map(|v| Value::Dynamic { ty: std::sync::Arc::new(vt), value: Box::new(v) }))
        }
        _ => None,
    }
}

/// What a composite is being built from (with a capacity hint).
#[derive(Clone, Copy)]
enum Kind {
    Seq(usize),
    Tuple(usize),
    Map(usize),
}

/// A composite value under construction, for the type `t` (its physical form: geo types as arrays
/// and tuples, `Nested` as an array of named tuples).
struct Collect<'c> {
    t: Cow<'c, TypeDesc>,
    /// The element type when it is not one of `t`'s own: `Tuple(K, V)` for a `Map` given as a
    /// sequence of pairs.
    pair: Option<TypeDesc>,
    coercion: &'c mut Coercion,
    items: Vec<Value<'static>>,
    /// Keys of a map or struct, one per item.
    keys: Vec<Value<'static>>,
    kind: Kind,
}

static NOTHING: TypeDesc = TypeDesc::Nothing;

impl<'c> Collect<'c> {
    fn new(t: &'c TypeDesc, coercion: &'c mut Coercion, kind: Kind) -> Self {
        let base = strip(t);
        let t = match base {
            TypeDesc::Nested(items) => Cow::Owned(TypeDesc::Array(Box::new(TypeDesc::Tuple(
                items.iter().map(|(n, t)| (Some(n.clone()), t.clone())).collect(),
            )))),
            b => match b.physical() {
                Cow::Borrowed(p) => Cow::Borrowed(p),
                Cow::Owned(p) => Cow::Owned(p),
            },
        };
        let cap = match kind {
            Kind::Seq(n) | Kind::Tuple(n) | Kind::Map(n) => n.min(4096),
        };
        let keys = if matches!(kind, Kind::Map(_)) { Vec::with_capacity(cap) } else { Vec::new() };
        let pair = match (t.as_ref(), kind) {
            (TypeDesc::Map(k, v), Kind::Seq(_) | Kind::Tuple(_)) => {
                Some(TypeDesc::Tuple(vec![(None, k.as_ref().clone()), (None, v.as_ref().clone())]))
            }
            _ => None,
        };
        Collect { t, pair, coercion, items: Vec::with_capacity(cap), keys, kind }
    }

    fn push_item<T: Serialize + ?Sized>(&mut self, key: Option<&str>, value: &T) -> R<()> {
        let t = match &self.pair {
            Some(pair) => pair,
            None => elem_type(&self.t, self.items.len(), key),
        };
        let v = value.serialize(ValueSer { t, coercion: &mut *self.coercion })?;
        self.items.push(v);
        Ok(())
    }

    fn push_key<T: Serialize + ?Sized>(&mut self, key: &T) -> R<()> {
        let t = match self.t.as_ref() {
            TypeDesc::Map(k, _) => k.as_ref(),
            _ => &TypeDesc::String,
        };
        let k = key.serialize(ValueSer { t, coercion: &mut *self.coercion })?;
        self.keys.push(k);
        Ok(())
    }

    /// The finished value, shaped for the type.
    fn end(self) -> R<Value<'static>> {
        let Collect { t, items, keys, kind, coercion, .. } = self;
        let v = match (t.as_ref(), kind) {
            (TypeDesc::Tuple(types), Kind::Map(_)) if types.iter().all(|(n, _)| n.is_some()) => {
                named_tuple(types, keys, items)?
            }
            (TypeDesc::Tuple(_), _) => Value::Tuple(items),
            (TypeDesc::Json(j), Kind::Map(_)) => {
                let mut paths = Vec::with_capacity(items.len());
                for (k, v) in keys.into_iter().zip(items) {
                    let Value::String(k) = k else { return Err(err("a JSON object's keys are strings")) };
                    let k = String::from_utf8(k.into_owned()).map_err(|_| err("a JSON key is not UTF-8"))?;
                    flatten_json(&mut paths, k, v);
                }
                // Values of typed paths given as text (dates, …) are parsed for the path's type, as a
                // column's are.
                for (path, v) in paths.iter_mut() {
                    if let Some((_, pt)) = j.typed_paths.iter().find(|(p, _)| p == path.as_ref()) {
                        match instant_text(v, pt).or_else(|| number_as(v, pt)) {
                            Some(Ok(text @ Value::String(_))) => *v = text,
                            Some(Ok(exact)) => {
                                *v = Value::Dynamic { ty: std::sync::Arc::new(pt.clone()), value: Box::new(exact) };
                                continue;
                            }
                            Some(Err(e)) => return Err(err(format!("JSON path {path:?}: {}", e.message))),
                            None => {}
                        }
                        if converts_for(pt) && may_convert(v) {
                            let c = coercion.coerce(v, pt).map_err(|e| err(format!("JSON path {path:?}: {e}")))?;
                            *v = c.into_owned().into_owned();
                        }
                        // The value knows its path's type (JSON text writes dates and times in it).
                        let typed = std::mem::replace(v, Value::Null);
                        *v = Value::Dynamic { ty: std::sync::Arc::new(pt.clone()), value: Box::new(typed) };
                    }
                }
                Value::Json(paths)
            }
            (TypeDesc::Map(_, _), Kind::Map(_)) => Value::Map(keys.into_iter().zip(items).collect()),
            (TypeDesc::Map(_, _), _) => {
                let mut entries = Vec::with_capacity(items.len());
                for item in items {
                    match item {
                        Value::Tuple(mut kv) if kv.len() == 2 => {
                            let v = kv.pop().unwrap_or(Value::Null);
                            let k = kv.pop().unwrap_or(Value::Null);
                            entries.push((k, v));
                        }
                        _ => return Err(err("a sequence for a Map holds (key, value) pairs")),
                    }
                }
                Value::Map(entries)
            }
            (TypeDesc::String | TypeDesc::FixedString(_), Kind::Seq(_) | Kind::Tuple(_)) => {
                let bytes: Option<Vec<u8>> =
                    items.iter().map(|v| if let Value::UInt8(b) = v { Some(*b) } else { None }).collect();
                Value::String(Cow::Owned(bytes.ok_or_else(|| err("a sequence for a string holds bytes (u8)"))?))
            }
            (_, Kind::Map(_)) => Value::Map(keys.into_iter().zip(items).collect()),
            (TypeDesc::Array(_) | TypeDesc::QBit { .. }, _) | (_, Kind::Seq(_)) => Value::Array(items),
            (_, Kind::Tuple(_)) => Value::Tuple(items),
        };
        Ok(v)
    }
}

/// The type of element `i` (or of the field named `key`) of a composite of type `t`.
fn elem_type<'t>(t: &'t TypeDesc, i: usize, key: Option<&str>) -> &'t TypeDesc {
    match (t, key) {
        (TypeDesc::Array(e), _) => e,
        (TypeDesc::Tuple(items), Some(k)) if items.iter().any(|(n, _)| n.as_deref() == Some(k)) => {
            items.iter().find(|(n, _)| n.as_deref() == Some(k)).map_or(&NOTHING, |(_, t)| t)
        }
        (TypeDesc::Tuple(items), _) => items.get(i).map_or(&NOTHING, |(_, t)| t),
        (TypeDesc::Map(_, v), _) => v,
        (TypeDesc::Json(_), _) => t,
        (TypeDesc::QBit { element, .. }, _) => element,
        _ => &NOTHING,
    }
}

/// A struct or map for a named tuple: its values in the tuple's order, each named once.
fn named_tuple(
    types: &[(Option<String>, TypeDesc)],
    keys: Vec<Value<'static>>,
    items: Vec<Value<'static>>,
) -> R<Value<'static>> {
    let mut slots: Vec<Option<Value<'static>>> = vec![None; types.len()];
    for (k, v) in keys.into_iter().zip(items) {
        let Value::String(k) = &k else { return Err(err("a named tuple's keys are strings")) };
        let at = types.iter().position(|(n, _)| n.as_deref().map(str::as_bytes) == Some(k.as_ref()));
        let Some(at) = at else {
            return Err(err(format!("the tuple has no element `{}`", String::from_utf8_lossy(k))));
        };
        slots[at] = Some(v);
    }
    let mut out = Vec::with_capacity(types.len());
    for ((n, _), v) in types.iter().zip(slots) {
        out.push(v.ok_or_else(|| err(format!("no value for the tuple's element `{}`", n.as_deref().unwrap_or(""))))?);
    }
    Ok(Value::Tuple(out))
}

/// Adds `v` at `path` to a JSON object's paths, nested objects as dotted paths; NULLs are absent.
fn flatten_json(paths: &mut Vec<(Cow<'static, str>, Value<'static>)>, path: String, v: Value<'static>) {
    match v {
        Value::Json(inner) => {
            for (k, v) in inner {
                paths.push((Cow::Owned(format!("{path}.{k}")), v));
            }
        }
        Value::Null => {}
        v => paths.push((Cow::Owned(path), v)),
    }
}

macro_rules! compound {
    ($ty:ty, $ok:ty, $end:expr) => {
        impl SerializeSeq for $ty {
            type Ok = $ok;
            type Error = SerError;
            fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> R<()> {
                self.collect_mut().push_item(None, value)
            }
            fn end(self) -> R<$ok> {
                #[allow(clippy::redundant_closure_call)]
                ($end)(self)
            }
        }
        impl SerializeTuple for $ty {
            type Ok = $ok;
            type Error = SerError;
            fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> R<()> {
                self.collect_mut().push_item(None, value)
            }
            fn end(self) -> R<$ok> {
                #[allow(clippy::redundant_closure_call)]
                ($end)(self)
            }
        }
        impl ser::SerializeTupleStruct for $ty {
            type Ok = $ok;
            type Error = SerError;
            fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> R<()> {
                self.collect_mut().push_item(None, value)
            }
            fn end(self) -> R<$ok> {
                #[allow(clippy::redundant_closure_call)]
                ($end)(self)
            }
        }
        impl ser::SerializeTupleVariant for $ty {
            type Ok = $ok;
            type Error = SerError;
            fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> R<()> {
                self.collect_mut().push_item(None, value)
            }
            fn end(self) -> R<$ok> {
                #[allow(clippy::redundant_closure_call)]
                ($end)(self)
            }
        }
        impl SerializeMap for $ty {
            type Ok = $ok;
            type Error = SerError;
            fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> R<()> {
                self.collect_mut().push_key(key)
            }
            fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> R<()> {
                let c = self.collect_mut();
                let key = match c.keys.last() {
                    Some(Value::String(k)) => std::str::from_utf8(k).ok().map(str::to_string),
                    _ => None,
                };
                c.push_item(key.as_deref(), value)
            }
            fn end(self) -> R<$ok> {
                #[allow(clippy::redundant_closure_call)]
                ($end)(self)
            }
        }
        impl SerializeStruct for $ty {
            type Ok = $ok;
            type Error = SerError;
            fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> R<()> {
                let c = self.collect_mut();
                c.keys.push(Value::String(Cow::Borrowed(key.as_bytes())));
                c.push_item(Some(key), value)
            }
            fn end(self) -> R<$ok> {
                #[allow(clippy::redundant_closure_call)]
                ($end)(self)
            }
        }
        impl ser::SerializeStructVariant for $ty {
            type Ok = $ok;
            type Error = SerError;
            fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> R<()> {
                let c = self.collect_mut();
                c.keys.push(Value::String(Cow::Borrowed(key.as_bytes())));
                c.push_item(Some(key), value)
            }
            fn end(self) -> R<$ok> {
                #[allow(clippy::redundant_closure_call)]
                ($end)(self)
            }
        }
    };
}

impl<'c> Collect<'c> {
    fn collect_mut(&mut self) -> &mut Collect<'c> {
        self
    }
}

compound!(Collect<'_>, Value<'static>, |c: Collect<'_>| c.end());

/// A composite column value: collected, then pushed into the column's builder.
struct Pushing<'f> {
    builder: &'f mut dyn ValueBuilder,
    collect: Collect<'f>,
}

impl<'f> Pushing<'f> {
    fn collect_mut(&mut self) -> &mut Collect<'f> {
        &mut self.collect
    }
}

compound!(Pushing<'_>, (), |p: Pushing<'_>| {
    let t = p.collect.t.to_string();
    let v = p.collect.end()?;
    p.builder.push(&v).map_err(|e| err(format!("{t}: {e}")))
});

/// Finds a struct row's field names (and nothing else).
struct NameSer;

impl ser::Serializer for NameSer {
    type Ok = Option<Vec<String>>;
    type Error = SerError;
    type SerializeSeq = Impossible<Self::Ok, SerError>;
    type SerializeTuple = Impossible<Self::Ok, SerError>;
    type SerializeTupleStruct = Impossible<Self::Ok, SerError>;
    type SerializeTupleVariant = Impossible<Self::Ok, SerError>;
    type SerializeMap = Names;
    type SerializeStruct = Names;
    type SerializeStructVariant = Impossible<Self::Ok, SerError>;

    fn serialize_struct(self, _name: &'static str, len: usize) -> R<Names> {
        Ok(Names(Vec::with_capacity(len)))
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> R<Self::Ok> {
        value.serialize(self)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _name: &'static str, value: &T) -> R<Self::Ok> {
        value.serialize(self)
    }
    fn serialize_seq(self, _len: Option<usize>) -> R<Self::SerializeSeq> {
        Err(err(NOT_A_STRUCT))
    }
    fn serialize_tuple(self, _len: usize) -> R<Self::SerializeTuple> {
        Err(err(NOT_A_STRUCT))
    }
    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> R<Self::SerializeTupleStruct> {
        Err(err(NOT_A_STRUCT))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> R<Self::SerializeTupleVariant> {
        Err(not_a_row("an enum"))
    }
    fn serialize_map(self, len: Option<usize>) -> R<Self::SerializeMap> {
        Ok(Names(Vec::with_capacity(len.unwrap_or(0))))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> R<Self::SerializeStructVariant> {
        Err(not_a_row("an enum"))
    }
    scalars_not_rows!();
}

/// Marks "not a struct": a tuple or sequence row (its values go to the columns in order).
const NOT_A_STRUCT: &str = "\0positional";

struct Names(Vec<String>);

impl SerializeStruct for Names {
    type Ok = Option<Vec<String>>;
    type Error = SerError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, _value: &T) -> R<()> {
        self.0.push(key.to_string());
        Ok(())
    }
    fn skip_field(&mut self, key: &'static str) -> R<()> {
        // A field skipped in this row (`skip_serializing_if`) may be given by others.
        self.0.push(key.to_string());
        Ok(())
    }
    fn end(self) -> R<Self::Ok> {
        Ok(Some(self.0))
    }
}

impl SerializeMap for Names {
    type Ok = Option<Vec<String>>;
    type Error = SerError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> R<()> {
        self.0.push(key.serialize(KeyName)?);
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, _value: &T) -> R<()> {
        Ok(())
    }
    fn end(self) -> R<Self::Ok> {
        Ok(Some(self.0))
    }
}

/// A streaming insert of rows of one Rust type: [`Inserter`] for `T: Serialize` (see [`crate::row`]).
/// The first row's field names choose the columns (a tuple or sequence row takes the table's columns
/// in order); the failure rules and guarantees are the [`Inserter`]'s.
///
/// ```no_run
/// # use clickhouse_connect::Client;
/// #[derive(serde::Serialize)]
/// struct Event<'a> {
///     id: u64,
///     name: &'a str,
///     at: jiff::Timestamp,
/// }
/// let client = Client::from_url("http://localhost:8123")?;
/// let mut ins = client.inserter_as::<Event>("events", 100_000)?;
/// for i in 0..1_000_000u64 {
///     ins.write(&Event { id: i, name: "click", at: jiff::Timestamp::now() })?;
/// }
/// let summary = ins.end()?;
/// # Ok::<(), clickhouse_connect::Error>(())
/// ```
pub struct TypedInserter<T: ?Sized> {
    inner: Inserter,
    plan: FieldPlan,
    started: bool,
    _t: PhantomData<fn(&T)>,
}

impl<T: ?Sized> TypedInserter<T> {
    /// A typed insert on an inserter no row was written to.
    #[cfg(feature = "async")]
    pub(crate) fn from_inserter(inner: Inserter) -> Self {
        TypedInserter { inner, plan: FieldPlan::default(), started: false, _t: PhantomData }
    }
    #[cfg(feature = "async")]
    pub(crate) fn inserter(&self) -> &Inserter {
        &self.inner
    }
    #[cfg(feature = "async")]
    pub(crate) fn inserter_mut(&mut self) -> &mut Inserter {
        &mut self.inner
    }
}

impl<T: Serialize + ?Sized> TypedInserter<T> {
    /// Appends one row. A row that does not fit (a field with no column, a value its column does not
    /// take) is an [`Error::Mapping`] naming the row and column; it is taken back whole, and the insert
    /// stays usable, as with [`Inserter::write`].
    pub fn write(&mut self, row: &T) -> Result<()> {
        if !self.started {
            if let Some(names) = field_names(row)? {
                if names.is_empty() {
                    return Err(Error::Mapping {
                        row: 1,
                        column: None,
                        column_type: None,
                        message: format!("{} has no fields to insert", std::any::type_name::<T>()),
                    });
                }
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                self.inner.select_columns(&names)?;
                // A field a row leaves out (`skip_serializing_if`) is the column's DEFAULT, as in the
                // server's own formats: columns with a DEFAULT expression take NULL for it.
                self.inner.nulls_for_defaults()?;
                // JSON columns go as JSON text, which the server parses into the column as its own
                // JSON input does (see `format::json_text`).
                let (types, zone) = self.inner.types_and_zone();
                let zone = zone.to_string();
                let json: Vec<usize> =
                    types.iter().enumerate().filter(|(_, t)| matches!(t, TypeDesc::Json(_))).map(|(i, _)| i).collect();
                for i in json {
                    self.inner.replace_builder(i, Box::new(crate::format::json_text::JsonText::new(&zone)?))?;
                }
            }
            self.started = true;
        }
        let mut parts = self.inner.row_parts()?;
        write_row(&mut parts, &mut self.plan, row)?;
        self.inner.row_written()
    }

    /// Appends every row of `rows`.
    pub fn write_all<'r>(&mut self, rows: impl IntoIterator<Item = &'r T>) -> Result<()>
    where
        T: 'r,
    {
        rows.into_iter().try_for_each(|r| self.write(r))
    }

    /// Sends the rows written so far as one block (see [`Inserter::flush`]).
    pub fn flush(&mut self) -> Result<()> {
        self.inner.flush()
    }

    /// Sends what is left and waits for the server to acknowledge the whole insert.
    pub fn end(self) -> Result<InsertSummary> {
        self.inner.end()
    }

    /// Rows the server has acknowledged so far.
    pub fn acknowledged_rows(&self) -> u64 {
        self.inner.acknowledged_rows()
    }

    /// The columns being inserted (after the first row: the ones its fields name).
    pub fn columns(&self) -> &[(String, String)] {
        self.inner.columns()
    }

    /// See [`Inserter::exactly_once`].
    pub fn exactly_once(mut self, stream_id: impl Into<String>, max_retries: u32) -> Result<Self> {
        self.inner = self.inner.exactly_once(stream_id, max_retries)?;
        Ok(self)
    }

    /// See [`Inserter::with_request_limits`].
    pub fn with_request_limits(mut self, limits: RequestLimits) -> Self {
        self.inner = self.inner.with_request_limits(limits);
        self
    }
}

impl Client {
    /// A streaming insert of rows of type `T` into `table`, in blocks of `block_rows` rows (see
    /// [`TypedInserter`]).
    pub fn inserter_as<T: Serialize + ?Sized>(&self, table: &str, block_rows: usize) -> Result<TypedInserter<T>> {
        self.inserter_as_with(table, block_rows, &CallOptions::default())
    }

    /// [`Client::inserter_as`] with per-call options.
    pub fn inserter_as_with<T: Serialize + ?Sized>(
        &self,
        table: &str,
        block_rows: usize,
        opts: &CallOptions,
    ) -> Result<TypedInserter<T>> {
        let inner = self.inserter_with(table, &[], block_rows, opts)?;
        Ok(TypedInserter { inner, plan: FieldPlan::default(), started: false, _t: PhantomData })
    }

    /// Inserts `rows` into `table` in one request (see [`crate::row`]): structs by field name, tuples
    /// by position.
    ///
    /// ```no_run
    /// # use clickhouse_connect::Client;
    /// #[derive(serde::Serialize)]
    /// struct User {
    ///     id: u64,
    ///     name: String,
    ///     tags: Vec<String>,
    /// }
    /// let client = Client::from_url("http://localhost:8123")?;
    /// client.insert_as("users", &[User { id: 1, name: "ann".into(), tags: vec![] }])?;
    /// # Ok::<(), clickhouse_connect::Error>(())
    /// ```
    pub fn insert_as<T: Serialize>(&self, table: &str, rows: &[T]) -> Result<InsertSummary> {
        self.insert_as_with(table, rows, &CallOptions::default())
    }

    /// [`Client::insert_as`] with per-call options.
    pub fn insert_as_with<T: Serialize>(&self, table: &str, rows: &[T], opts: &CallOptions) -> Result<InsertSummary> {
        if rows.is_empty() {
            return Ok(InsertSummary::default());
        }
        let mut ins = self.inserter_as_with::<T>(table, rows.len().min(1 << 16), opts)?;
        ins.write_all(rows)?;
        ins.end()
    }
}
