//! `Nullable(T)`: a null map of `rows` bytes (1 = NULL), then the inner column with a placeholder value
//! in every NULL row.

use crate::error::Result;
use crate::native::arena::ArenaBuf;
use crate::native::column::{Column, ColumnView, read_fixed};
use crate::native::input::Input;
use crate::value::Value;
use bumpalo::Bump;

/// A decoded Nullable column.
pub struct NullableColumn {
    rows: usize,
    nulls: ArenaBuf,
    nulls_done: bool,
    inner: Box<dyn Column>,
}

impl NullableColumn {
    /// Wraps the inner type's decoder.
    pub fn new(inner: Box<dyn Column>) -> Self {
        NullableColumn { rows: 0, nulls: ArenaBuf::new(), nulls_done: false, inner }
    }
}

impl Column for NullableColumn {
    fn start(&mut self, rows: usize) {
        self.rows = rows;
        self.nulls.clear();
        self.nulls_done = false;
        self.inner.start(rows);
    }

    fn decode_prefix(&mut self, input: &mut Input<'_>) -> Result<bool> {
        self.inner.decode_prefix(input)
    }

    fn decode(&mut self, input: &mut Input<'_>, arena: &Bump) -> Result<bool> {
        if !self.nulls_done {
            if !read_fixed(&mut self.nulls, self.rows, input, arena)? {
                return Ok(false);
            }
            self.nulls_done = true;
        }
        self.inner.decode(input, arena)
    }

    fn rows(&self) -> usize {
        self.inner.rows().min(self.nulls.len())
    }

    fn view(&self) -> ColumnView<'_> {
        ColumnView::Nullable { nulls: self.nulls.as_bytes(), inner: self.inner.as_ref() }
    }

    fn value(&self, row: usize) -> Value<'_> {
        match self.nulls.as_bytes().get(row) {
            Some(0) => self.inner.value(row),
            _ => Value::Null,
        }
    }

    fn release(&mut self) {
        self.nulls.release();
        self.inner.release();
    }
}
