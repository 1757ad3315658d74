//! `Map(K, V)`: stored as `Array(Tuple(K, V))`: end offsets, then all keys, then all values.

use crate::error::Result;
use crate::native::arena::ArenaBuf;
use crate::native::column::{Column, ColumnView, span};
use crate::native::columns::array::decode_offsets;
use crate::native::input::Input;
use crate::value::Value;
use bumpalo::Bump;

/// A decoded Map column.
pub struct MapColumn {
    rows: usize,
    offsets: ArenaBuf,
    offsets_done: bool,
    keys_done: bool,
    keys_prefix_done: bool,
    keys: Box<dyn Column>,
    values: Box<dyn Column>,
}

impl MapColumn {
    /// A map of the given key and value decoders.
    pub fn new(keys: Box<dyn Column>, values: Box<dyn Column>) -> Self {
        MapColumn {
            rows: 0,
            offsets: ArenaBuf::new(),
            offsets_done: false,
            keys_done: false,
            keys_prefix_done: false,
            keys,
            values,
        }
    }
}

impl Column for MapColumn {
    fn start(&mut self, rows: usize) {
        self.rows = rows;
        self.offsets.clear();
        self.offsets_done = false;
        self.keys_done = false;
        self.keys_prefix_done = false;
        self.keys.start(0);
        self.values.start(0);
    }

    fn decode_prefix(&mut self, input: &mut Input<'_>) -> Result<bool> {
        if !self.keys_prefix_done {
            if !self.keys.decode_prefix(input)? {
                return Ok(false);
            }
            self.keys_prefix_done = true;
        }
        self.values.decode_prefix(input)
    }

    fn decode(&mut self, input: &mut Input<'_>, arena: &Bump) -> Result<bool> {
        if !decode_offsets(
            &mut self.offsets,
            self.rows,
            &mut self.offsets_done,
            input,
            arena,
            &mut [self.keys.as_mut(), self.values.as_mut()],
        )? {
            return Ok(false);
        }
        if !self.keys_done {
            if !self.keys.decode(input, arena)? {
                return Ok(false);
            }
            self.keys_done = true;
        }
        self.values.decode(input, arena)
    }

    fn rows(&self) -> usize {
        if self.offsets_done { self.rows } else { 0 }
    }

    fn view(&self) -> ColumnView<'_> {
        ColumnView::Map { offsets: self.offsets.typed(), keys: self.keys.as_ref(), values: self.values.as_ref() }
    }

    fn value(&self, row: usize) -> Value<'_> {
        let (s, e) = span(self.offsets.typed(), row);
        Value::Map((s..e).map(|i| (self.keys.value(i), self.values.value(i))).collect())
    }

    fn release(&mut self) {
        self.offsets.release();
        self.keys.release();
        self.values.release();
    }
}
