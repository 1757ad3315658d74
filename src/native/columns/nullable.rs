//! `Nullable(T)`: a null map of `rows` bytes (1 = NULL), then the inner column with a placeholder value
//! in every NULL row.

use crate::error::Result;
use crate::native::buffer::AlignedBuf;
use crate::native::column::{Column, ColumnDecoder, ColumnView, NullMap, Sealed, read_fixed};
use crate::native::encoder::{ColumnEncoder, ValueBuilder};
use crate::native::input::Input;
use crate::value::Value;

/// A decoded Nullable column.
pub struct NullableColumn {
    rows: usize,
    nulls: AlignedBuf,
    nulls_done: bool,
    inner: Box<dyn ColumnDecoder>,
}

impl NullableColumn {
    /// Wraps the inner type's decoder.
    pub(crate) fn new(inner: Box<dyn ColumnDecoder>) -> Self {
        NullableColumn { rows: 0, nulls: AlignedBuf::new(), nulls_done: false, inner }
    }
}

impl Sealed for NullableColumn {}

impl Column for NullableColumn {
    fn rows(&self) -> usize {
        self.inner.rows().min(self.nulls.len())
    }

    fn view(&self) -> ColumnView<'_> {
        ColumnView::Nullable { nulls: NullMap::new(self.nulls.as_bytes()), inner: self.inner.as_ref() }
    }

    fn value(&self, row: usize) -> Value<'_> {
        match self.nulls.as_bytes().get(row) {
            Some(0) => self.inner.value(row),
            _ => Value::Null,
        }
    }
}

impl ColumnDecoder for NullableColumn {
    fn start(&mut self, rows: usize) {
        self.rows = rows;
        self.nulls.clear();
        self.nulls_done = false;
        self.inner.start(rows);
    }

    fn decode_prefix(&mut self, input: &mut Input<'_>) -> Result<bool> {
        self.inner.decode_prefix(input)
    }

    fn decode(&mut self, input: &mut Input<'_>) -> Result<bool> {
        if !self.nulls_done {
            if !read_fixed(&mut self.nulls, self.rows, input)? {
                return Ok(false);
            }
            self.nulls_done = true;
        }
        self.inner.decode(input)
    }

    fn stored_bytes(&self) -> usize {
        self.nulls.len() + self.inner.stored_bytes()
    }
}

/// `Nullable(T)`.
pub struct NullableBuilder<B: ColumnEncoder> {
    nulls: Vec<u8>,
    inner: B,
    type_name: String,
}

impl<B: ColumnEncoder> NullableBuilder<B> {
    /// Wraps the inner builder; push through [`NullableBuilder::push_with`] / [`NullableBuilder::push_null`].
    pub fn new(inner: B) -> Self {
        let type_name = format!("Nullable({})", inner.type_name());
        NullableBuilder { nulls: Vec::new(), inner, type_name }
    }
    /// Appends a present value by letting `f` append it to the inner builder.
    pub fn push_with(&mut self, f: impl FnOnce(&mut B)) {
        f(&mut self.inner);
        self.nulls.push(0);
    }
    /// Appends NULL, with `placeholder` appending the inner type's default value.
    pub fn push_null(&mut self, placeholder: impl FnOnce(&mut B)) {
        placeholder(&mut self.inner);
        self.nulls.push(1);
    }
}

impl<B: ColumnEncoder> ColumnEncoder for NullableBuilder<B> {
    fn check(&self) -> crate::Result<()> {
        self.inner.check()
    }
    fn type_name(&self) -> std::borrow::Cow<'_, str> {
        std::borrow::Cow::Borrowed(&self.type_name)
    }
    fn rows(&self) -> usize {
        self.nulls.len()
    }
    fn encode_prefix(&self, out: &mut Vec<u8>) {
        self.inner.encode_prefix(out);
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.nulls);
        self.inner.encode(out);
    }
    fn clear(&mut self) {
        self.nulls.clear();
        self.inner.clear();
    }
}

impl<B: ValueBuilder> ValueBuilder for NullableBuilder<B> {
    fn push(&mut self, v: &Value<'_>) -> std::result::Result<(), String> {
        if matches!(v, Value::Null) {
            self.inner.push_default();
            self.nulls.push(1);
        } else {
            self.inner.push(v)?;
            self.nulls.push(0);
        }
        Ok(())
    }
    fn push_default(&mut self) {
        self.inner.push_default();
        self.nulls.push(1);
    }
    fn truncate(&mut self, rows: usize) {
        self.nulls.truncate(rows);
        self.inner.truncate(rows);
    }
}
