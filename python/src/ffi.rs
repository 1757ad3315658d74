//! Record batches from pyarrow: the one place this crate reads foreign memory, through the Arrow
//! PyCapsule interface (`__arrow_c_array__`: a capsule named `arrow_schema` holding an
//! `ArrowSchema`, one named `arrow_array` holding an `ArrowArray`, both C data interface structs).
#![allow(unsafe_code)]

use arrow_array::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use arrow_array::{Array, RecordBatch, StructArray};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

/// A pyarrow `RecordBatch` (anything with `__arrow_c_array__` of a struct array) as an arrow-rs one.
pub fn import_batch(obj: &Bound<'_, PyAny>) -> PyResult<RecordBatch> {
    let (schema, array): (Bound<'_, PyCapsule>, Bound<'_, PyCapsule>) =
        obj.call_method0("__arrow_c_array__")?.extract()?;
    // The names are the only type check Python offers; these fail unless they match (and the
    // pointers are non-null).
    let schema_ptr = schema.pointer_checked(Some(c"arrow_schema"))?.as_ptr() as *const FFI_ArrowSchema;
    let array_ptr = array.pointer_checked(Some(c"arrow_array"))?.as_ptr() as *mut FFI_ArrowArray;
    // SAFETY: by the Arrow PyCapsule interface, a capsule named `arrow_array` points to a valid
    // `ArrowArray` and one named `arrow_schema` to a valid `ArrowSchema` (names checked above, pointers non-null),
    // alive while the capsules are (both held until the end of this function). `from_raw` moves the
    // array out, leaving the capsule's struct released (its `release` set to null), so the capsule's
    // destructor releases nothing twice; the schema is only read.
    let array = unsafe { FFI_ArrowArray::from_raw(array_ptr) };
    // SAFETY: as above: `schema_ptr` points to a valid `ArrowSchema` that outlives this call, and
    // `array` is the array that schema describes (both come from one `__arrow_c_array__` call).
    let data = unsafe { arrow_array::ffi::from_ffi(array, &*schema_ptr) }
        .map_err(|e| PyTypeError::new_err(format!("cannot read the Arrow batch: {e}")))?;
    if !matches!(data.data_type(), arrow_schema::DataType::Struct(_)) {
        return Err(PyTypeError::new_err(format!(
            "expected a struct array (a record batch), got {}",
            data.data_type()
        )));
    }
    let structs = StructArray::from(data);
    if structs.null_count() > 0 {
        return Err(PyTypeError::new_err("a record batch with null rows"));
    }
    Ok(RecordBatch::from(structs))
}
