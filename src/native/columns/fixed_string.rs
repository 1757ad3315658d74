//! `FixedString(N)`: `rows * N` bytes, one bulk copy.

use crate::error::Result;
use crate::native::buffer::AlignedBuf;
use crate::native::column::{Column, ColumnDecoder, ColumnView, Sealed, byte_len, read_fixed};
use crate::native::input::Input;
use crate::value::Value;
use std::borrow::Cow;

/// A decoded FixedString column.
pub struct FixedStringColumn {
    width: usize,
    rows: usize,
    total: usize,
    buf: AlignedBuf,
}

impl FixedStringColumn {
    /// A decoder for `FixedString(width)`.
    pub fn new(width: usize) -> Self {
        FixedStringColumn { width: width.max(1), rows: 0, total: 0, buf: AlignedBuf::new() }
    }
}

impl Sealed for FixedStringColumn {}

impl Column for FixedStringColumn {
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
}

impl ColumnDecoder for FixedStringColumn {
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

    fn decode(&mut self, input: &mut Input<'_>) -> Result<bool> {
        if self.total == 0 && self.rows > 0 {
            self.total = byte_len(self.rows, self.width, input)?;
        }
        read_fixed(&mut self.buf, self.total, input)
    }

    fn stored_bytes(&self) -> usize {
        self.buf.len()
    }
}

/// Builder of a `FixedString(N)` column from [`Value`]s; shorter values are zero-padded as ClickHouse does,
/// longer ones are an error.
pub struct FixedStringValues {
    width: usize,
    bytes: Vec<u8>,
    type_name: String,
}

impl FixedStringValues {
    /// A builder for `FixedString(width)`.
    pub fn new(width: usize) -> Self {
        FixedStringValues { width, bytes: Vec::new(), type_name: format!("FixedString({width})") }
    }
}

impl crate::native::encoder::ColumnEncoder for FixedStringValues {
    fn type_name(&self) -> std::borrow::Cow<'_, str> {
        std::borrow::Cow::Borrowed(&self.type_name)
    }
    fn rows(&self) -> usize {
        self.bytes.len() / self.width.max(1)
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.bytes);
    }
    fn clear(&mut self) {
        self.bytes.clear();
    }
}

impl crate::native::encoder::ValueBuilder for FixedStringValues {
    fn push(&mut self, v: &Value<'_>) -> std::result::Result<(), String> {
        match v {
            Value::String(s) | Value::FixedString(s) if s.len() <= self.width => {
                self.bytes.extend_from_slice(s);
                self.bytes.extend(std::iter::repeat_n(0u8, self.width - s.len()));
                Ok(())
            }
            Value::String(s) | Value::FixedString(s) => {
                Err(format!("{} bytes do not fit FixedString({})", s.len(), self.width))
            }
            other => Err(format!("expected a string, got {other:?}")),
        }
    }
    fn push_default(&mut self) {
        self.bytes.extend(std::iter::repeat_n(0u8, self.width));
    }
    fn truncate(&mut self, rows: usize) {
        self.bytes.truncate(rows.saturating_mul(self.width));
    }
}
