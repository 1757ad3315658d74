//! `FixedString(N)`: `rows * N` bytes, one bulk copy.

use crate::error::Result;
use crate::native::arena::ArenaBuf;
use crate::native::column::{Column, ColumnView, byte_len, read_fixed};
use crate::native::input::Input;
use crate::value::Value;
use bumpalo::Bump;
use std::borrow::Cow;

/// A decoded FixedString column.
pub struct FixedStringColumn {
    width: usize,
    rows: usize,
    total: usize,
    buf: ArenaBuf,
}

impl FixedStringColumn {
    /// A decoder for `FixedString(width)`.
    pub fn new(width: usize) -> Self {
        FixedStringColumn { width: width.max(1), rows: 0, total: 0, buf: ArenaBuf::new() }
    }
}

impl Column for FixedStringColumn {
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
            self.total = byte_len(self.rows, self.width, input)?;
        }
        read_fixed(&mut self.buf, self.total, input, arena)
    }

    fn rows(&self) -> usize {
        self.buf.len() / self.width
    }

    fn view(&self) -> ColumnView<'_> {
        ColumnView::FixedString { width: self.width, data: self.buf.as_bytes() }
    }

    fn value(&self, row: usize) -> Value<'_> {
        let s = row * self.width;
        match self.buf.as_bytes().get(s..s + self.width) {
            Some(b) => Value::FixedString(Cow::Borrowed(b)),
            None => Value::Null,
        }
    }

    fn release(&mut self) {
        self.buf.release();
    }
}
