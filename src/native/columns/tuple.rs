//! `Tuple(T1, T2, …)`: the element columns one after another, each with the block's row count.
//! Also used for `Point` (`Tuple(Float64, Float64)`) and, under an array, for `Nested`.

use crate::error::Result;
use crate::native::column::{Column, ColumnView};
use crate::native::input::Input;
use crate::value::Value;
use bumpalo::Bump;

/// A decoded Tuple column.
pub struct TupleColumn {
    rows: usize,
    prefix_current: usize,
    current: usize,
    elems: Vec<Box<dyn Column>>,
}

impl TupleColumn {
    /// A tuple of the given element decoders.
    pub fn new(elems: Vec<Box<dyn Column>>) -> Self {
        TupleColumn { rows: 0, prefix_current: 0, current: 0, elems }
    }
}

impl Column for TupleColumn {
    fn start(&mut self, rows: usize) {
        self.rows = rows;
        self.current = 0;
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

    fn decode(&mut self, input: &mut Input<'_>, arena: &Bump) -> Result<bool> {
        while let Some(e) = self.elems.get_mut(self.current) {
            if !e.decode(input, arena)? {
                return Ok(false);
            }
            self.current += 1;
        }
        Ok(true)
    }

    fn rows(&self) -> usize {
        if self.current == self.elems.len() { self.rows } else { 0 }
    }

    fn view(&self) -> ColumnView<'_> {
        ColumnView::Tuple(&self.elems)
    }

    fn value(&self, row: usize) -> Value<'_> {
        Value::Tuple(self.elems.iter().map(|e| e.value(row)).collect())
    }

    fn release(&mut self) {
        for e in &mut self.elems {
            e.release();
        }
    }
}
