//! `JSON`: objects stored path by path. Typed paths (declared in the type) are columns of their types;
//! other paths are `Dynamic` columns ("dynamic paths", at most `max_dynamic_paths` of them); the rest
//! go to the shared data, an `Array(Tuple(path String, value String))` per row whose values are the
//! type and value in binary encoding ([`crate::native::binary`]), paths sorted within a row.
//!
//! Native writes the structure in the column's prefix, once per block: a `UInt64` version — 0 (V1): a
//! LEB128 `max_dynamic_paths` (26.9 writes the number of paths), 2 (V2): nothing more — then the number
//! of dynamic paths and their names (sorted), then each typed path's prefix, then each dynamic path's
//! `Dynamic` prefix. The data is the typed paths' columns, the dynamic paths' columns, then the shared
//! data. Asked for (`output_format_native_use_flattened_dynamic_and_json_serialization`), the server
//! writes version 3, "FLATTENED": the paths that are not typed (dynamic and shared alike) listed without
//! a `max_dynamic_paths`, each a flattened `Dynamic` column, and no shared data. (Version 1, "STRING",
//! JSON text per row, comes only with `output_format_native_write_json_as_string`; it is refused with
//! a clear error.)
//!
//! A row's value is [`Value::Json`]: its typed paths, its non-NULL dynamic paths and its shared-data
//! paths, each value with its type, sorted by path.

use super::dynamic::{DynamicColumn, DynamicValues};
use crate::error::Result;
use crate::native::binary::{self, Reader};
use crate::native::column::{Column, ColumnDecoder, ColumnView, Sealed, U64Reader};
use crate::native::encoder::{ColumnEncoder, ValueBuilder};
use crate::native::input::{Input, NameList, VarUInt, write_str, write_varuint};
use crate::types::{JsonType, TypeDesc};
use crate::value::Value;
use std::borrow::Cow;
use std::sync::Arc;

/// Most dynamic paths a block may declare.
const MAX_PATHS: u64 = 1 << 16;
/// Longest path accepted in a prefix.
const MAX_PATH: u64 = 1 << 16;

#[derive(Clone, Copy)]
enum Prefix {
    Version,
    MaxPaths,
    Paths,
    Typed(usize),
    Dynamic(usize),
    Done,
}

/// A decoded JSON column.
pub struct JsonColumn {
    rows: usize,
    state: Prefix,
    version: U64Reader,
    varint: VarUInt,
    paths: NameList,
    typed_types: Vec<Arc<TypeDesc>>,
    typed: Vec<(String, Box<dyn ColumnDecoder>)>,
    dynamic: Vec<(String, DynamicColumn)>,
    shared: Box<dyn ColumnDecoder>,
    /// Data: which child is being read (typed, then dynamic, then shared).
    current: usize,
    finished_bytes: usize,
    checked: bool,
    /// Whether this block's structure is the flattened one (every path a dynamic one, no shared data).
    flattened: bool,
}

fn shared_type() -> TypeDesc {
    TypeDesc::Array(Box::new(TypeDesc::Tuple(vec![(None, TypeDesc::String), (None, TypeDesc::String)])))
}

impl JsonColumn {
    /// A JSON column of this type.
    pub(crate) fn new(json: &JsonType) -> Result<Self> {
        let mut typed = Vec::with_capacity(json.typed_paths.len());
        for (p, t) in &json.typed_paths {
            typed.push((p.clone(), super::decoder_for(t)?));
        }
        Ok(JsonColumn {
            rows: 0,
            state: Prefix::Version,
            version: U64Reader::default(),
            varint: VarUInt::default(),
            paths: NameList::new("JSON column", "dynamic paths", "JSON path", MAX_PATHS, MAX_PATH),
            typed_types: json.typed_paths.iter().map(|(_, t)| Arc::new(t.clone())).collect(),
            typed,
            dynamic: Vec::new(),
            shared: super::decoder_for(&shared_type())?,
            current: 0,
            finished_bytes: 0,
            checked: false,
            flattened: false,
        })
    }

    fn child(&mut self, i: usize) -> Option<&mut dyn ColumnDecoder> {
        let typed = self.typed.len();
        let dynamic = self.dynamic.len();
        if i < typed {
            Some(self.typed[i].1.as_mut())
        } else if i < typed + dynamic {
            Some(&mut self.dynamic[i - typed].1)
        } else if i == typed + dynamic && !self.flattened {
            Some(self.shared.as_mut())
        } else {
            None
        }
    }

    /// Sets up the dynamic paths named by this block's prefix (kept when they are the last block's).
    fn install(&mut self, paths: Vec<String>, input: &Input<'_>) -> Result<()> {
        if paths.windows(2).any(|w| w[0] >= w[1]) {
            return Err(input.error("JSON dynamic paths are not sorted and distinct"));
        }
        let same = paths.len() == self.dynamic.len() && paths.iter().zip(&self.dynamic).all(|(a, (b, _))| a == b);
        if !same {
            self.dynamic = paths.into_iter().map(|p| (p, DynamicColumn::new())).collect();
        }
        for (_, d) in &mut self.dynamic {
            d.start(self.rows);
        }
        Ok(())
    }

    /// The shared-data entries of a row: (path, binary value).
    fn shared_entries(&self, row: usize) -> Vec<(Cow<'_, str>, &[u8])> {
        if self.flattened {
            return Vec::new();
        }
        let ColumnView::Array { offsets, inner } = self.shared.view() else { return Vec::new() };
        let ColumnView::Tuple(elems) = inner.view() else { return Vec::new() };
        let (Some(paths), Some(values)) = (elems.get(0), elems.get(1)) else { return Vec::new() };
        let (ColumnView::String { offsets: po, data: pd }, ColumnView::String { offsets: vo, data: vd }) =
            (paths.view(), values.view())
        else {
            return Vec::new();
        };
        offsets.range(row).map(|i| (String::from_utf8_lossy(&pd[po.range(i)]), &vd[vo.range(i)])).collect()
    }

    fn check_shared(&self, input: &Input<'_>) -> Result<()> {
        for row in 0..self.rows {
            for (path, bytes) in self.shared_entries(row) {
                let mut r = Reader::new(bytes);
                binary::read_dynamic(&mut r, 0)
                    .and_then(|_| {
                        if r.remaining() == 0 {
                            Ok(())
                        } else {
                            Err(format!("{} bytes after the value", r.remaining()))
                        }
                    })
                    .map_err(|e| input.error(format!("JSON shared data, row {row}, path {path:?}: {e}")))?;
            }
        }
        Ok(())
    }
}

impl Sealed for JsonColumn {}

impl Column for JsonColumn {
    fn rows(&self) -> usize {
        if self.checked { self.rows } else { 0 }
    }

    fn view(&self) -> ColumnView<'_> {
        ColumnView::Json {
            typed: self.typed.iter().map(|(p, c)| (p.as_str(), c.as_ref() as &dyn Column)).collect(),
            dynamic: self.dynamic.iter().map(|(p, c)| (p.as_str(), c as &dyn Column)).collect(),
            shared: self.shared.as_ref(),
        }
    }

    fn value(&self, row: usize) -> Value<'_> {
        let mut paths: Vec<(Cow<'_, str>, Value<'_>)> = Vec::new();
        for ((p, c), t) in self.typed.iter().zip(&self.typed_types) {
            let v = match c.value(row) {
                Value::Null => Value::Null,
                v => Value::Dynamic { ty: t.clone(), value: Box::new(v) },
            };
            paths.push((Cow::Borrowed(p.as_str()), v));
        }
        for (p, c) in &self.dynamic {
            match c.value(row) {
                Value::Null => {}
                v => paths.push((Cow::Borrowed(p.as_str()), v)),
            }
        }
        for (p, bytes) in self.shared_entries(row) {
            match binary::read_dynamic(&mut Reader::new(bytes), 0) {
                Ok(Value::Null) | Err(_) => {}
                Ok(v) => paths.push((p, v)),
            }
        }
        paths.sort_by(|a, b| a.0.cmp(&b.0));
        Value::Json(paths)
    }
}

impl ColumnDecoder for JsonColumn {
    fn start(&mut self, rows: usize) {
        self.rows = rows;
        self.current = 0;
        self.finished_bytes = 0;
        self.checked = false;
        for (_, t) in &mut self.typed {
            t.start(rows);
        }
        for (_, d) in &mut self.dynamic {
            d.start(rows);
        }
        self.shared.start(rows);
    }

    fn decode_prefix(&mut self, input: &mut Input<'_>) -> Result<bool> {
        loop {
            match self.state {
                Prefix::Done => self.state = Prefix::Version,
                Prefix::Version => {
                    let Some(v) = self.version.feed(input) else { return Ok(false) };
                    self.flattened = v == 3;
                    self.state = match v {
                        0 => Prefix::MaxPaths,
                        2 | 3 => Prefix::Paths,
                        1 => {
                            return Err(input.error(
                                "JSON as strings (output_format_native_write_json_as_string) is not supported: \
                                 leave that setting off",
                            ));
                        }
                        v => return Err(input.error(format!("unknown JSON serialization version {v}"))),
                    };
                }
                Prefix::MaxPaths => {
                    if self.varint.feed(input)?.is_none() {
                        return Ok(false);
                    }
                    self.state = Prefix::Paths;
                }
                Prefix::Paths => {
                    let Some(paths) = self.paths.feed(input)? else { return Ok(false) };
                    self.install(paths, input)?;
                    self.state = Prefix::Typed(0);
                }
                Prefix::Typed(i) => match self.typed.get_mut(i) {
                    Some((_, t)) => {
                        if !t.decode_prefix(input)? {
                            return Ok(false);
                        }
                        self.state = Prefix::Typed(i + 1);
                    }
                    None => self.state = Prefix::Dynamic(0),
                },
                Prefix::Dynamic(i) => match self.dynamic.get_mut(i) {
                    Some((_, d)) => {
                        if !d.decode_prefix(input)? {
                            return Ok(false);
                        }
                        self.state = Prefix::Dynamic(i + 1);
                    }
                    None => {
                        if !self.flattened && !self.shared.decode_prefix(input)? {
                            return Ok(false);
                        }
                        self.state = Prefix::Done;
                        return Ok(true);
                    }
                },
            }
        }
    }

    fn decode(&mut self, input: &mut Input<'_>) -> Result<bool> {
        while let Some(c) = self.child(self.current) {
            if !c.decode(input)? {
                return Ok(false);
            }
            let bytes = c.stored_bytes();
            self.finished_bytes += bytes;
            self.current += 1;
        }
        if !self.checked {
            self.check_shared(input)?;
            self.checked = true;
        }
        Ok(true)
    }

    fn stored_bytes(&self) -> usize {
        let typed = self.typed.len();
        let dynamic = self.dynamic.len();
        let i = self.current;
        let current = if i < typed {
            self.typed[i].1.stored_bytes()
        } else if i < typed + dynamic {
            self.dynamic[i - typed].1.stored_bytes()
        } else if i == typed + dynamic && !self.flattened {
            self.shared.stored_bytes()
        } else {
            0
        };
        self.finished_bytes + current
    }
}

/// Builder of a `JSON` column from [`Value::Json`] objects (paths with typed values, as read; an
/// untyped leaf is stored as the type it implies). Typed paths go to their columns (the type's default
/// when a row lacks one); the first `max_dynamic_paths` other paths of a block become dynamic paths,
/// later ones go to the shared data; `SKIP` paths are dropped.
pub struct JsonValues {
    type_name: String,
    json: JsonType,
    typed: Vec<Box<dyn ValueBuilder>>,
    dynamic: Vec<(String, DynamicValues)>,
    shared_ends: Vec<u64>,
    shared_paths: super::string::StringBuilder,
    shared_values: super::string::StringBuilder,
    rows: usize,
}

impl JsonValues {
    /// A builder for this JSON type.
    pub fn new(type_name: String, json: JsonType) -> crate::Result<Self> {
        let typed = json.typed_paths.iter().map(|(_, t)| super::builder_for(t)).collect::<crate::Result<_>>()?;
        Ok(JsonValues {
            type_name,
            json,
            typed,
            dynamic: Vec::new(),
            shared_ends: Vec::new(),
            shared_paths: Default::default(),
            shared_values: Default::default(),
            rows: 0,
        })
    }

    fn skipped(&self, path: &str) -> bool {
        self.json.skip.iter().any(|s| path == s || path.strip_prefix(s.as_str()).is_some_and(|r| r.starts_with('.')))
    }

    fn push_object(&mut self, paths: &[(Cow<'_, str>, Value<'_>)]) -> std::result::Result<(), String> {
        let mut seen_typed = vec![false; self.typed.len()];
        let mut seen_dynamic = vec![false; self.dynamic.len()];
        let mut shared: Vec<(&str, Vec<u8>)> = Vec::new();
        let max_paths = self.json.max_dynamic_paths.unwrap_or(1024) as usize;
        for (path, v) in paths {
            let path = path.as_ref();
            if let Some(i) = self.json.typed_paths.iter().position(|(p, _)| p == path) {
                if std::mem::replace(&mut seen_typed[i], true) {
                    return Err(format!("JSON path {path:?} given twice"));
                }
                self.typed[i].push(v.unwrap_typed()).map_err(|e| format!("JSON path {path:?}: {e}"))?;
                continue;
            }
            if self.skipped(path) || matches!(v, Value::Null) {
                continue;
            }
            if let Some(i) = self.dynamic.iter().position(|(p, _)| p == path) {
                if i < seen_dynamic.len() && std::mem::replace(&mut seen_dynamic[i], true) {
                    return Err(format!("JSON path {path:?} given twice"));
                }
                self.dynamic[i].1.push(v).map_err(|e| format!("JSON path {path:?}: {e}"))?;
                continue;
            }
            if self.dynamic.len() < max_paths {
                let mut d = DynamicValues::new("Dynamic".into(), self.json.max_dynamic_types);
                for _ in 0..self.rows {
                    d.push_default();
                }
                d.push(v).map_err(|e| format!("JSON path {path:?}: {e}"))?;
                self.dynamic.push((path.to_string(), d));
                seen_dynamic.push(true);
                continue;
            }
            let mut bytes = Vec::new();
            let (ty, value) = match v {
                Value::Dynamic { ty, value } => (ty.as_ref().clone(), value.as_ref()),
                v => (v.implied_type(), v),
            };
            binary::write_type(&mut bytes, &ty)?;
            binary::write_value(&mut bytes, value, &ty)?;
            shared.push((path, bytes));
        }
        for (i, seen) in seen_typed.iter().enumerate() {
            if !seen {
                self.typed[i].push_default();
            }
        }
        for (i, (_, d)) in self.dynamic.iter_mut().enumerate() {
            if !seen_dynamic.get(i).copied().unwrap_or(false) {
                d.push_default();
            }
        }
        shared.sort_by(|a, b| a.0.cmp(b.0));
        if shared.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err("a JSON path given twice".into());
        }
        for (p, bytes) in &shared {
            super::string::StringBuilder::push(&mut self.shared_paths, p);
            super::string::StringBuilder::push(&mut self.shared_values, bytes);
        }
        self.shared_ends.push(self.shared_paths.rows() as u64);
        self.rows += 1;
        Ok(())
    }

    /// The dynamic paths' indices, sorted by path.
    fn sorted_dynamic(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.dynamic.len()).collect();
        order.sort_by(|&a, &b| self.dynamic[a].0.cmp(&self.dynamic[b].0));
        order
    }
}

impl ColumnEncoder for JsonValues {
    fn type_name(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.type_name)
    }
    fn rows(&self) -> usize {
        self.rows
    }
    fn encode_prefix(&self, out: &mut Vec<u8>) {
        let order = self.sorted_dynamic();
        out.extend_from_slice(&0u64.to_le_bytes());
        write_varuint(out, order.len() as u64);
        write_varuint(out, order.len() as u64);
        for &i in &order {
            write_str(out, self.dynamic[i].0.as_bytes());
        }
        for t in &self.typed {
            t.encode_prefix(out);
        }
        for &i in &order {
            self.dynamic[i].1.encode_prefix(out);
        }
    }
    fn encode(&self, out: &mut Vec<u8>) {
        for t in &self.typed {
            t.encode(out);
        }
        for i in self.sorted_dynamic() {
            self.dynamic[i].1.encode(out);
        }
        for e in &self.shared_ends {
            out.extend_from_slice(&e.to_le_bytes());
        }
        self.shared_paths.encode(out);
        self.shared_values.encode(out);
    }
    fn clear(&mut self) {
        for t in &mut self.typed {
            t.clear();
        }
        self.dynamic.clear();
        self.shared_ends.clear();
        self.shared_paths.clear();
        self.shared_values.clear();
        self.rows = 0;
    }
    fn check(&self) -> crate::Result<()> {
        self.typed.iter().try_for_each(|t| t.check())
    }
}

impl ValueBuilder for JsonValues {
    fn push(&mut self, v: &Value<'_>) -> std::result::Result<(), String> {
        let result = match v {
            Value::Json(paths) => self.push_object(paths),
            Value::Dynamic { value, .. } => return self.push(value),
            Value::Null => self.push_object(&[]),
            other => Err(format!("a JSON column takes JSON objects (Value::Json), got {other:?}")),
        };
        if result.is_err() {
            let rows = self.rows;
            self.truncate(rows);
        }
        result
    }
    fn push_default(&mut self) {
        let _ = self.push_object(&[]);
    }
    fn truncate(&mut self, rows: usize) {
        self.rows = self.rows.min(rows);
        for t in &mut self.typed {
            t.truncate(self.rows);
        }
        // A path first met in a dropped row stays, NULL in every row kept.
        for (_, d) in &mut self.dynamic {
            d.truncate(self.rows);
        }
        self.shared_ends.truncate(self.rows);
        let shared = self.shared_ends.last().copied().unwrap_or(0) as usize;
        ValueBuilder::truncate(&mut self.shared_paths, shared);
        ValueBuilder::truncate(&mut self.shared_values, shared);
    }
}
