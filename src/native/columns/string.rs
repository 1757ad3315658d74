//! `String`: each row is a LEB128 length and that many bytes. Decoded into one contiguous byte buffer
//! plus u64 end offsets (the layout ClickHouse itself uses), both in owned aligned buffers. A length prefix or a
//! string body may straddle chunks; bytes are appended as they arrive, never pre-sized from the prefix.

use crate::error::Result;
use crate::native::buffer::{AlignedBuf, append_short_strings};
use crate::native::column::{Column, ColumnDecoder, ColumnView, Offsets, Sealed};
use crate::native::encoder::{ColumnEncoder, ValueBuilder};
use crate::native::input::{Input, VarUInt};
use crate::value::Value;
use std::borrow::Cow;

/// A decoded String column.
#[derive(Default)]
pub struct StringColumn {
    expected: usize,
    done: usize,
    /// Bytes of the current row still to copy, once its length is known.
    pending: Option<u64>,
    len: VarUInt,
    offsets: AlignedBuf,
    data: AlignedBuf,
}

impl StringColumn {
    /// Row `row` as bytes.
    pub fn get(&self, row: usize) -> &[u8] {
        let std::ops::Range { start: s, end: e } = Offsets::trusted(self.offsets.typed()).range(row);
        self.data.as_bytes().get(s..e).unwrap_or(&[])
    }
}

impl StringColumn {
    /// Fast path: rows whose one-byte length and body are both in this chunk (strings under 128 bytes,
    /// the common case), through the buffer module's audited bulk helper. Stops at the first row it cannot take
    /// whole; the general loop continues from there.
    #[inline]
    fn decode_whole_rows(&mut self, input: &mut Input<'_>) -> Result<()> {
        let want = self.expected - self.done;
        let (used, rows) = append_short_strings(&mut self.data, &mut self.offsets, input.remaining(), want)?;
        input.take(used);
        self.done += rows;
        Ok(())
    }
}

impl Sealed for StringColumn {}

impl Column for StringColumn {
    fn rows(&self) -> usize {
        self.done
    }

    fn view(&self) -> ColumnView<'_> {
        ColumnView::String { offsets: Offsets::trusted(self.offsets.typed()), data: self.data.as_bytes() }
    }

    fn value(&self, row: usize) -> Value<'_> {
        if row >= self.done {
            return Value::Null;
        }
        Value::String(Cow::Borrowed(self.get(row)))
    }
}

impl ColumnDecoder for StringColumn {
    fn start(&mut self, rows: usize) {
        self.expected = rows;
        self.done = 0;
        self.pending = None;
        self.len = VarUInt::default();
        self.offsets.clear();
        self.data.clear();
    }

    fn start_more(&mut self, rows: usize) -> bool {
        self.expected = self.done + rows;
        true
    }

    fn decode(&mut self, input: &mut Input<'_>) -> Result<bool> {
        loop {
            // Whole rows in a tight loop whenever we are at a row boundary…
            if self.pending.is_none() && !self.len.in_progress() {
                self.decode_whole_rows(input)?;
            }
            if self.done == self.expected {
                return Ok(true);
            }
            // …and one row at a time (long strings, multi-byte lengths, rows split across chunks).
            let remaining = match self.pending {
                Some(r) => r,
                None => match self.len.feed(input)? {
                    Some(n) => n,
                    None => return Ok(false),
                },
            };
            let avail = input.remaining().len() as u64;
            let n = remaining.min(avail) as usize;
            if n > 0 {
                let bytes = input.take(n);
                self.data.extend_from_slice(bytes)?;
            }
            if (n as u64) < remaining {
                self.pending = Some(remaining - n as u64);
                return Ok(false);
            }
            self.pending = None;
            self.offsets.push(self.data.len() as u64)?;
            self.done += 1;
        }
    }

    fn stored_bytes(&self) -> usize {
        self.offsets.len() + self.data.len()
    }
}

/// `String` values.
#[derive(Default)]
pub struct StringBuilder {
    data: Vec<u8>,
    ends: Vec<usize>,
}

impl StringBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }
    /// Appends one value.
    pub fn push(&mut self, v: impl AsRef<[u8]>) {
        self.data.extend_from_slice(v.as_ref());
        self.ends.push(self.data.len());
    }
}

impl ColumnEncoder for StringBuilder {
    fn type_name(&self) -> std::borrow::Cow<'_, str> {
        "String".into()
    }
    fn rows(&self) -> usize {
        self.ends.len()
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.reserve(self.data.len() + self.ends.len() * 2);
        let mut start = 0;
        for &end in &self.ends {
            crate::native::input::write_str(out, &self.data[start..end]);
            start = end;
        }
    }
    fn clear(&mut self) {
        self.data.clear();
        self.ends.clear();
    }
}

impl ValueBuilder for StringBuilder {
    fn push(&mut self, v: &Value<'_>) -> std::result::Result<(), String> {
        match v {
            Value::String(s) | Value::FixedString(s) => {
                StringBuilder::push(self, s);
                Ok(())
            }
            other => Err(format!("expected a string, got {other:?}")),
        }
    }
    fn push_default(&mut self) {
        StringBuilder::push(self, b"");
    }
    fn truncate(&mut self, rows: usize) {
        self.ends.truncate(rows);
        self.data.truncate(self.ends.last().copied().unwrap_or(0));
    }
}
