//! `Map(K, V)`: stored as `Array(Tuple(K, V))`: end offsets, then all keys, then all values.

use crate::error::Result;
use crate::native::buffer::AlignedBuf;
use crate::native::column::{Column, ColumnDecoder, ColumnView, Offsets, Sealed, decode_offsets};
use crate::native::input::Input;
use crate::value::Value;

/// A decoded Map column.
pub struct MapColumn {
    rows: usize,
    offsets: AlignedBuf,
    offsets_done: bool,
    keys_done: bool,
    keys_prefix_done: bool,
    keys: Box<dyn ColumnDecoder>,
    values: Box<dyn ColumnDecoder>,
}

impl MapColumn {
    /// A map of the given key and value decoders.
    pub(crate) fn new(keys: Box<dyn ColumnDecoder>, values: Box<dyn ColumnDecoder>) -> Self {
        MapColumn {
            rows: 0,
            offsets: AlignedBuf::new(),
            offsets_done: false,
            keys_done: false,
            keys_prefix_done: false,
            keys,
            values,
        }
    }
}

impl Sealed for MapColumn {}

impl Column for MapColumn {
    fn rows(&self) -> usize {
        if self.offsets_done { self.rows } else { 0 }
    }

    fn view(&self) -> ColumnView<'_> {
        ColumnView::Map {
            offsets: Offsets::trusted(self.offsets.typed()),
            keys: self.keys.as_ref(),
            values: self.values.as_ref(),
        }
    }

    fn value(&self, row: usize) -> Value<'_> {
        let std::ops::Range { start: s, end: e } = Offsets::trusted(self.offsets.typed()).range(row);
        Value::Map((s..e).map(|i| (self.keys.value(i), self.values.value(i))).collect())
    }
}

impl ColumnDecoder for MapColumn {
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

    fn decode(&mut self, input: &mut Input<'_>) -> Result<bool> {
        if !decode_offsets(
            &mut self.offsets,
            self.rows,
            &mut self.offsets_done,
            input,
            &mut [self.keys.as_mut(), self.values.as_mut()],
        )? {
            return Ok(false);
        }
        if !self.keys_done {
            if !self.keys.decode(input)? {
                return Ok(false);
            }
            self.keys_done = true;
        }
        self.values.decode(input)
    }

    fn stored_bytes(&self) -> usize {
        self.offsets.len() + self.keys.stored_bytes() + self.values.stored_bytes()
    }
}

/// Builder of a `Map(K, V)` column from `Value::Map`s.
pub struct MapValues {
    type_name: String,
    offsets: Vec<u64>,
    keys: Box<dyn crate::native::encoder::ValueBuilder>,
    values: Box<dyn crate::native::encoder::ValueBuilder>,
}

impl MapValues {
    /// A map builder from key and value builders.
    pub fn new(
        keys: Box<dyn crate::native::encoder::ValueBuilder>,
        values: Box<dyn crate::native::encoder::ValueBuilder>,
    ) -> Self {
        let type_name = format!("Map({}, {})", keys.type_name(), values.type_name());
        MapValues { type_name, offsets: Vec::new(), keys, values }
    }
}

impl crate::native::encoder::ColumnEncoder for MapValues {
    fn type_name(&self) -> std::borrow::Cow<'_, str> {
        std::borrow::Cow::Borrowed(&self.type_name)
    }
    fn rows(&self) -> usize {
        self.offsets.len()
    }
    fn encode_prefix(&self, out: &mut Vec<u8>) {
        self.keys.encode_prefix(out);
        self.values.encode_prefix(out);
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(bytemuck::cast_slice(&self.offsets));
        self.keys.encode(out);
        self.values.encode(out);
    }
    fn clear(&mut self) {
        self.offsets.clear();
        self.keys.clear();
        self.values.clear();
    }
}

impl crate::native::encoder::ValueBuilder for MapValues {
    fn push(&mut self, v: &Value<'_>) -> std::result::Result<(), String> {
        let Value::Map(entries) = v else { return Err(format!("expected a map, got {v:?}")) };
        for (k, x) in entries {
            self.keys.push(k).map_err(|e| format!("map key: {e}"))?;
            self.values.push(x).map_err(|e| format!("map value: {e}"))?;
        }
        self.offsets.push(self.keys.rows() as u64);
        Ok(())
    }
    fn push_default(&mut self) {
        self.offsets.push(self.keys.rows() as u64);
    }
    fn truncate(&mut self, rows: usize) {
        self.offsets.truncate(rows);
        let entries = self.offsets.last().map_or(0, |&end| end as usize);
        self.keys.truncate(entries);
        self.values.truncate(entries);
    }
}
