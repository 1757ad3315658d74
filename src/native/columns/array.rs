//! `Array(T)`: `rows` u64 end offsets, then the inner column holding all elements of the block, flattened.
//! The element count comes from the last offset, which is checked (non-decreasing) before the inner column
//! starts; the inner column still only grows as its bytes arrive.

use crate::error::Result;
use crate::native::buffer::AlignedBuf;
use crate::native::column::{Column, ColumnDecoder, ColumnView, Offsets, Sealed, decode_offsets};
use crate::native::encoder::{ColumnEncoder, ValueBuilder};
use crate::native::input::Input;
use crate::value::Value;

/// A decoded Array column.
pub struct ArrayColumn {
    rows: usize,
    offsets: AlignedBuf,
    offsets_done: bool,
    inner: Box<dyn ColumnDecoder>,
}

impl ArrayColumn {
    /// Wraps the element type's decoder.
    pub(crate) fn new(inner: Box<dyn ColumnDecoder>) -> Self {
        ArrayColumn { rows: 0, offsets: AlignedBuf::new(), offsets_done: false, inner }
    }
}

impl Sealed for ArrayColumn {}

impl Column for ArrayColumn {
    fn rows(&self) -> usize {
        if self.offsets_done { self.rows } else { 0 }
    }

    fn view(&self) -> ColumnView<'_> {
        ColumnView::Array { offsets: Offsets::trusted(self.offsets.typed()), inner: self.inner.as_ref() }
    }

    fn value(&self, row: usize) -> Value<'_> {
        let std::ops::Range { start: s, end: e } = Offsets::trusted(self.offsets.typed()).range(row);
        Value::Array((s..e).map(|i| self.inner.value(i)).collect())
    }
}

impl ColumnDecoder for ArrayColumn {
    fn start(&mut self, rows: usize) {
        self.rows = rows;
        self.offsets.clear();
        self.offsets_done = false;
        self.inner.start(0);
    }

    fn decode_prefix(&mut self, input: &mut Input<'_>) -> Result<bool> {
        self.inner.decode_prefix(input)
    }

    fn decode(&mut self, input: &mut Input<'_>) -> Result<bool> {
        if !decode_offsets(&mut self.offsets, self.rows, &mut self.offsets_done, input, &mut [self.inner.as_mut()])? {
            return Ok(false);
        }
        self.inner.decode(input)
    }

    fn stored_bytes(&self) -> usize {
        self.offsets.len() + self.inner.stored_bytes()
    }
}

/// `Array(T)`.
pub struct ArrayBuilder<B: ColumnEncoder> {
    offsets: Vec<u64>,
    inner: B,
    type_name: String,
}

impl<B: ColumnEncoder> ArrayBuilder<B> {
    /// Wraps the element builder.
    pub fn new(inner: B) -> Self {
        let type_name = format!("Array({})", inner.type_name());
        ArrayBuilder { offsets: Vec::new(), inner, type_name }
    }
    /// Appends one array whose elements `f` appends to the element builder.
    pub fn push_with(&mut self, f: impl FnOnce(&mut B)) {
        f(&mut self.inner);
        self.offsets.push(self.inner.rows() as u64);
    }
}

impl<B: ColumnEncoder> ColumnEncoder for ArrayBuilder<B> {
    fn check(&self) -> crate::Result<()> {
        self.inner.check()
    }
    fn type_name(&self) -> std::borrow::Cow<'_, str> {
        std::borrow::Cow::Borrowed(&self.type_name)
    }
    fn rows(&self) -> usize {
        self.offsets.len()
    }
    fn encode_prefix(&self, out: &mut Vec<u8>) {
        self.inner.encode_prefix(out);
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(bytemuck::cast_slice(&self.offsets));
        self.inner.encode(out);
    }
    fn clear(&mut self) {
        self.offsets.clear();
        self.inner.clear();
    }
}

impl<B: ValueBuilder> ValueBuilder for ArrayBuilder<B> {
    fn push(&mut self, v: &Value<'_>) -> std::result::Result<(), String> {
        let Value::Array(items) = v else { return Err(format!("expected an array, got {v:?}")) };
        // A failing element leaves earlier ones in the child without an offset: the caller discards
        // the whole batch on error.
        for (i, x) in items.iter().enumerate() {
            self.inner.push(x).map_err(|e| format!("element {i}: {e}"))?;
        }
        self.offsets.push(self.inner.rows() as u64);
        Ok(())
    }
    fn push_default(&mut self) {
        self.offsets.push(self.inner.rows() as u64);
    }
    fn truncate(&mut self, rows: usize) {
        self.offsets.truncate(rows);
        self.inner.truncate(self.offsets.last().map_or(0, |&end| end as usize));
    }
}
