//! `Tuple(T1, T2, …)`: the element columns one after another, each with the block's row count.
//! Also used for `Point` (`Tuple(Float64, Float64)`) and, under an array, for `Nested`.

use crate::error::Result;
use crate::native::column::{Column, ColumnDecoder, ColumnView, Sealed, TupleColumns};
use crate::native::input::Input;
use crate::value::Value;

/// A decoded Tuple column.
pub struct TupleColumn {
    rows: usize,
    prefix_current: usize,
    current: usize,
    /// Bytes stored by the elements before `current` (finished in this block): the memory limit asks
    /// after every decode call, and a wide tuple fed in small chunks must not be summed each time.
    finished_bytes: usize,
    elems: Vec<Box<dyn ColumnDecoder>>,
}

impl TupleColumn {
    /// A tuple of the given element decoders.
    pub(crate) fn new(elems: Vec<Box<dyn ColumnDecoder>>) -> Self {
        TupleColumn { rows: 0, prefix_current: 0, current: 0, finished_bytes: 0, elems }
    }
}

impl Sealed for TupleColumn {}

impl Column for TupleColumn {
    fn rows(&self) -> usize {
        if self.current == self.elems.len() { self.rows } else { 0 }
    }

    fn view(&self) -> ColumnView<'_> {
        ColumnView::Tuple(TupleColumns::new(&self.elems))
    }

    fn value(&self, row: usize) -> Value<'_> {
        Value::Tuple(self.elems.iter().map(|e| e.value(row)).collect())
    }
}

impl ColumnDecoder for TupleColumn {
    fn start(&mut self, rows: usize) {
        self.rows = rows;
        self.current = 0;
        self.finished_bytes = 0;
        self.prefix_current = 0;
        for e in &mut self.elems {
            e.start(rows);
        }
    }

    fn decode_prefix(&mut self, input: &mut Input<'_>) -> Result<bool> {
        while let Some(e) = self.elems.get_mut(self.prefix_current) {
            if !e.decode_prefix(input)? {
                return Ok(false);
            }
            self.prefix_current += 1;
        }
        Ok(true)
    }

    fn decode(&mut self, input: &mut Input<'_>) -> Result<bool> {
        while let Some(e) = self.elems.get_mut(self.current) {
            if !e.decode(input)? {
                return Ok(false);
            }
            self.finished_bytes += e.stored_bytes();
            self.current += 1;
        }
        Ok(true)
    }

    fn stored_bytes(&self) -> usize {
        self.finished_bytes + self.elems.get(self.current).map_or(0, |e| e.stored_bytes())
    }
}

/// Builder of a `Tuple(…)` column from `Value::Tuple`s.
pub struct TupleValues {
    type_name: String,
    rows: usize,
    elems: Vec<Box<dyn crate::native::encoder::ValueBuilder>>,
}

impl TupleValues {
    /// A tuple builder with its canonical type name and element builders.
    pub fn new(type_name: String, elems: Vec<Box<dyn crate::native::encoder::ValueBuilder>>) -> Self {
        TupleValues { type_name, rows: 0, elems }
    }
}

impl crate::native::encoder::ColumnEncoder for TupleValues {
    fn type_name(&self) -> std::borrow::Cow<'_, str> {
        std::borrow::Cow::Borrowed(&self.type_name)
    }
    fn rows(&self) -> usize {
        self.rows
    }
    fn encode_prefix(&self, out: &mut Vec<u8>) {
        for e in &self.elems {
            e.encode_prefix(out);
        }
    }
    fn encode(&self, out: &mut Vec<u8>) {
        for e in &self.elems {
            e.encode(out);
        }
    }
    fn clear(&mut self) {
        self.rows = 0;
        for e in &mut self.elems {
            e.clear();
        }
    }
}

impl crate::native::encoder::ValueBuilder for TupleValues {
    fn push(&mut self, v: &Value<'_>) -> std::result::Result<(), String> {
        let Value::Tuple(items) = v else { return Err(format!("expected a tuple, got {v:?}")) };
        if items.len() != self.elems.len() {
            return Err(format!("expected {} tuple elements, got {}", self.elems.len(), items.len()));
        }
        for (i, (b, x)) in self.elems.iter_mut().zip(items).enumerate() {
            b.push(x).map_err(|e| format!("tuple element {}: {e}", i + 1))?;
        }
        self.rows += 1;
        Ok(())
    }
    fn push_default(&mut self) {
        for e in &mut self.elems {
            e.push_default();
        }
        self.rows += 1;
    }
    fn truncate(&mut self, rows: usize) {
        // Elements may hold one more row than the tuple (a push that failed at a later element).
        self.rows = self.rows.min(rows);
        for e in &mut self.elems {
            e.truncate(self.rows);
        }
    }
}
