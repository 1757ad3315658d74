//! Arrow arrays handed between arrow-rs and polars-arrow through the Arrow C data interface, without
//! copying their buffers. The one place in the crate outside `native::buffer` that needs `unsafe`.
//!
//! Both crates define the C data interface's two structs (`ArrowArray`, `ArrowSchema`) as `#[repr(C)]`
//! copies of the specification's definitions: the same fields in the same order. A value of one is
//! moved into the other by `transmute` (sizes checked at compile time); the producer's `release`
//! callback travels inside the struct, so the consumer frees the buffers exactly once, as the interface
//! specifies. The importers are `unsafe` because they trust the structs to describe valid arrays: here
//! they were just made by the other crate's exporter from a valid array.

#![allow(unsafe_code)]

use crate::error::{Error, Result};
use arrow_array::ffi::{FFI_ArrowArray, FFI_ArrowSchema, from_ffi, to_ffi};
use arrow_array::{ArrayRef, make_array};
use polars_arrow::array::Array as PolarsArray;
use polars_arrow::datatypes::Field as PolarsField;
use polars_arrow::ffi::{
    ArrowArray, ArrowSchema, export_array_to_c, export_field_to_c, import_array_from_c, import_field_from_c,
};

const _: () = assert!(std::mem::size_of::<FFI_ArrowArray>() == std::mem::size_of::<ArrowArray>());
const _: () = assert!(std::mem::size_of::<FFI_ArrowSchema>() == std::mem::size_of::<ArrowSchema>());
const _: () = assert!(std::mem::align_of::<FFI_ArrowArray>() == std::mem::align_of::<ArrowArray>());
const _: () = assert!(std::mem::align_of::<FFI_ArrowSchema>() == std::mem::align_of::<ArrowSchema>());

/// An arrow-rs array as a polars-arrow array (and its field, named `name`), sharing the buffers.
pub(crate) fn to_polars(name: &str, a: &ArrayRef) -> Result<(PolarsField, Box<dyn PolarsArray>)> {
    let export = |e: arrow_schema::ArrowError| Error::usage(format!("cannot export column {name} to polars: {e}"));
    let a = plain_nested(a, true).map_err(export)?;
    let data = without_metadata(a.to_data()).map_err(export)?;
    let (array, schema) = to_ffi(&data).map_err(export)?;
    // SAFETY: both are the C data interface's `ArrowSchema`/`ArrowArray`, `#[repr(C)]` with the same
    // layout (sizes and alignments asserted above); the value is moved, so only the new owner releases it.
    let schema: ArrowSchema = unsafe { std::mem::transmute::<FFI_ArrowSchema, ArrowSchema>(schema) };
    let array: ArrowArray = unsafe { std::mem::transmute::<FFI_ArrowArray, ArrowArray>(array) };
    // SAFETY: the schema and array were made by arrow-rs's exporter from a valid array just above.
    let mut field = unsafe { import_field_from_c(&schema) }
        .map_err(|e| Error::usage(format!("polars cannot take column {name}: {e}")))?;
    let array = unsafe { import_array_from_c(array, field.dtype().clone()) }
        .map_err(|e| Error::usage(format!("polars cannot take column {name}: {e}")))?;
    field.name = name.into();
    if array.len() != a.len() {
        return Err(Error::internal(format!(
            "polars took {} of the {} rows of column {name} (a chunk polars imports otherwise)",
            array.len(),
            a.len()
        )));
    }
    Ok((field, array))
}

/// Dictionaries inside lists, structs and maps replaced by their values (polars' importer loses the
/// rows of a chunk whose nested dictionary is empty); a top-level dictionary stays (a Categorical).
fn plain_nested(a: &ArrayRef, top: bool) -> std::result::Result<ArrayRef, arrow_schema::ArrowError> {
    use arrow_array::cast::AsArray;
    use arrow_array::{Array, ListArray, MapArray, StructArray};
    use arrow_schema::{DataType as D, Field};
    use std::sync::Arc;
    Ok(match a.data_type() {
        D::Dictionary(..) if top => a.clone(),
        D::Dictionary(..) => {
            let d = a.as_any_dictionary();
            let taken = arrow_select::take::take(d.values().as_ref(), d.keys(), None)?;
            plain_nested(&taken, false)?
        }
        D::List(f) => {
            let l = a.as_list::<i32>();
            let values = plain_nested(l.values(), false)?;
            let f = Arc::new(Field::new(f.name(), values.data_type().clone(), f.is_nullable()));
            Arc::new(ListArray::try_new(f, l.offsets().clone(), values, l.nulls().cloned())?)
        }
        D::Struct(fields) if !fields.is_empty() => {
            let s = a.as_struct();
            let cols =
                s.columns().iter().map(|c| plain_nested(c, false)).collect::<std::result::Result<Vec<_>, _>>()?;
            let fields: arrow_schema::Fields = fields
                .iter()
                .zip(&cols)
                .map(|(f, c)| Field::new(f.name(), c.data_type().clone(), f.is_nullable()))
                .collect();
            Arc::new(StructArray::try_new(fields, cols, s.nulls().cloned())?)
        }
        D::Map(f, sorted) => {
            let m = a.as_map();
            let entries = plain_nested(&(Arc::new(m.entries().clone()) as ArrayRef), false)?;
            let f = Arc::new(Field::new(f.name(), entries.data_type().clone(), false));
            Arc::new(MapArray::try_new(
                f,
                m.offsets().clone(),
                entries.as_struct().clone(),
                m.nulls().cloned(),
                *sorted,
            )?)
        }
        _ => a.clone(),
    })
}

/// The array with no field metadata anywhere inside: polars reads Arrow extension types (the UUID's
/// `arrow.uuid`) only with a feature that needs most of polars; without them a UUID is 16 bytes.
fn without_metadata(
    data: arrow_data::ArrayData,
) -> std::result::Result<arrow_data::ArrayData, arrow_schema::ArrowError> {
    let dt = plain_type(data.data_type());
    let children =
        data.child_data().iter().cloned().map(without_metadata).collect::<std::result::Result<Vec<_>, _>>()?;
    data.into_builder().data_type(dt).child_data(children).build()
}

fn plain_type(dt: &arrow_schema::DataType) -> arrow_schema::DataType {
    use arrow_schema::{DataType as D, Field};
    use std::sync::Arc;
    let field = |f: &Field| Arc::new(Field::new(f.name(), plain_type(f.data_type()), f.is_nullable()));
    match dt {
        D::Struct(fields) => D::Struct(fields.iter().map(|f| field(f)).collect()),
        D::List(f) => D::List(field(f)),
        D::LargeList(f) => D::LargeList(field(f)),
        D::FixedSizeList(f, n) => D::FixedSizeList(field(f), *n),
        D::Map(f, sorted) => D::Map(field(f), *sorted),
        D::Dictionary(k, v) => D::Dictionary(k.clone(), Box::new(plain_type(v))),
        other => other.clone(),
    }
}

/// A polars-arrow array (with its field) as an arrow-rs array, sharing the buffers.
pub(crate) fn from_polars(field: &PolarsField, a: Box<dyn PolarsArray>) -> Result<ArrayRef> {
    let name = field.name.to_string();
    let schema = export_field_to_c(field);
    let array = export_array_to_c(a);
    // SAFETY: as in `to_polars`, the other way.
    let schema: FFI_ArrowSchema = unsafe { std::mem::transmute::<ArrowSchema, FFI_ArrowSchema>(schema) };
    let array: FFI_ArrowArray = unsafe { std::mem::transmute::<ArrowArray, FFI_ArrowArray>(array) };
    // SAFETY: made by polars-arrow's exporter from a valid array just above.
    let data = unsafe { from_ffi(array, &schema) }
        .map_err(|e| Error::usage(format!("cannot read column {name} from polars: {e}")))?;
    Ok(make_array(data))
}
