//! `Dynamic`: every row has its own type. Stored as a `Variant` over the types the block holds plus
//! `SharedVariant`, a `String` column holding, for types beyond the column's `max_types`, each value
//! as its type in binary encoding followed by the value in `RowBinary` form ([`crate::native::binary`]).
//!
//! Native writes the structure in the column's prefix, once per block: a `UInt64` version — 1: a
//! LEB128 `max_types` (which 26.9 sets to the number of types), 2: nothing more — then the number of
//! types and their names, then the variant's own prefix. The variant's alternatives are those types and
//! `SharedVariant`, sorted by name, which is the order of the discriminators.
//!
//! Asked for (`output_format_native_use_flattened_dynamic_and_json_serialization`), the server writes the
//! flattened structure instead: version 3, the types (every one it holds, those of the shared variant
//! too) in its own order, then an index per row (the type's position; the count for NULL) and each
//! type's rows. It is read as a variant whose NULL is the count, with at most 254 types.
//!
//! The structure comes from the wire, so the decoder builds the variant when the prefix arrives (and
//! keeps it while the next block's types are the same). Counts and names are bounded before anything
//! is allocated for them; shared-variant values are checked when their block completes, so reading a
//! row never fails.

use super::variant::{VariantColumn, write_basic_mode};
use crate::error::Result;
use crate::native::binary::{self, Reader};
use crate::native::column::{Column, ColumnDecoder, ColumnView, Sealed, U64Reader};
use crate::native::encoder::{ColumnEncoder, ValueBuilder};
use crate::native::input::{Input, NameList, VarUInt, write_str, write_varuint};
use crate::types::TypeDesc;
use crate::value::Value;
use std::borrow::Cow;
use std::sync::Arc;

/// Name of the shared variant among the alternatives.
pub const SHARED_VARIANT: &str = "SharedVariant";
/// Most types a block may declare (a variant has at most 255 alternatives, one is the shared one).
const MAX_TYPES: u64 = 254;
/// Longest type name accepted in a prefix.
const MAX_NAME: u64 = 1 << 16;

/// Where the resumable prefix reader is.
#[derive(Clone, Copy)]
enum Prefix {
    Version,
    MaxTypes,
    Names,
    Variant,
    Done,
}

/// Reads the structure prefix of a `Dynamic` column, resumably. Shared with `JSON`'s dynamic paths.
pub(crate) struct DynamicPrefix {
    state: Prefix,
    version: U64Reader,
    varint: VarUInt,
    names: NameList,
    /// Whether this block's structure is the flattened one (version 3).
    flattened: bool,
}

impl DynamicPrefix {
    pub(crate) fn new() -> Self {
        DynamicPrefix {
            state: Prefix::Version,
            version: U64Reader::default(),
            varint: VarUInt::default(),
            names: NameList::new("Dynamic column", "types", "Dynamic type name", MAX_TYPES, MAX_NAME),
            flattened: false,
        }
    }

    /// Reads the version, counts and names; `Some(names)` once they are complete (the variant's prefix
    /// follows, read by the caller).
    fn read_names(&mut self, input: &mut Input<'_>) -> Result<Option<Vec<String>>> {
        loop {
            match self.state {
                Prefix::Version => {
                    let Some(v) = self.version.feed(input) else { return Ok(None) };
                    self.flattened = v == 3;
                    self.state = match v {
                        1 => Prefix::MaxTypes,
                        2 | 3 => Prefix::Names,
                        4 => {
                            return Err(input.error(
                                "Dynamic structure version 4 (types in binary form) is not supported: leave \
                                 output_format_native_encode_types_in_binary_format off",
                            ));
                        }
                        v => {
                            return Err(input.error(format!(
                                "Dynamic structure version {v} is not supported (1, 2 and the flattened 3 are)"
                            )));
                        }
                    };
                }
                Prefix::MaxTypes => {
                    if self.varint.feed(input)?.is_none() {
                        return Ok(None);
                    }
                    self.state = Prefix::Names;
                }
                Prefix::Names => {
                    // Flattened, every type has a column of its own and a one-byte index (NULL is the
                    // count), so at most 254 types; otherwise 254 besides the shared variant.
                    let Some(names) = self.names.feed(input)? else { return Ok(None) };
                    self.state = Prefix::Variant;
                    return Ok(Some(names));
                }
                Prefix::Variant | Prefix::Done => return Ok(Some(Vec::new())),
            }
        }
    }
}

/// A decoded Dynamic column.
pub struct DynamicColumn {
    rows: usize,
    prefix: DynamicPrefix,
    /// The names the current variant was built for (sorted, `SharedVariant` among them).
    names: Vec<String>,
    /// The types in variant order (`SharedVariant` as `String`).
    types: Vec<TypeDesc>,
    typed: Vec<Arc<TypeDesc>>,
    /// The shared variant's alternative (`usize::MAX` when flattened: there is none).
    shared: usize,
    /// Whether the current variant is a flattened block's.
    flattened: bool,
    variant: VariantColumn,
    checked: bool,
}

impl DynamicColumn {
    /// A Dynamic column (its structure comes with each block).
    pub(crate) fn new() -> Self {
        DynamicColumn {
            rows: 0,
            prefix: DynamicPrefix::new(),
            names: vec![SHARED_VARIANT.to_string()],
            types: vec![TypeDesc::String],
            typed: vec![Arc::new(TypeDesc::String)],
            shared: 0,
            flattened: false,
            variant: VariantColumn::new(vec![Box::new(super::string::StringColumn::default())]),
            checked: false,
        }
    }

    /// Builds the variant for a block's type names (kept when they are the previous block's). The
    /// flattened structure lists the types in its own order, without a shared variant, and NULL is the
    /// index past the last type.
    fn install(&mut self, mut names: Vec<String>, input: &Input<'_>) -> Result<()> {
        let flattened = self.prefix.flattened;
        if !flattened {
            names.push(SHARED_VARIANT.to_string());
            names.sort();
        }
        if names.iter().collect::<std::collections::HashSet<_>>().len() != names.len() {
            return Err(input.error("Dynamic column declares a type twice"));
        }
        if names == self.names && flattened == self.flattened {
            return Ok(());
        }
        let mut types = Vec::with_capacity(names.len());
        let mut decoders = Vec::with_capacity(names.len());
        // A flattened block has no shared variant: its index is past the end.
        let mut shared = if flattened { usize::MAX } else { 0 };
        for (i, name) in names.iter().enumerate() {
            let t = if name == SHARED_VARIANT && !flattened {
                shared = i;
                TypeDesc::String
            } else {
                TypeDesc::parse(name).map_err(|e| input.error(format!("Dynamic type: {e}")))?
            };
            decoders.push(super::decoder_for(&t).map_err(|e| match e {
                // Worded as the decoder words a column it cannot decode, so that callers that fall back
                // to the server's text (chc) do so here too.
                crate::error::Error::UnsupportedType(u) => input.error(format!(
                    "a Dynamic column holds values of type {name}, which this client cannot decode yet (unsupported type {u})"
                )),
                e => input.error(format!("Dynamic type {name}: {e}")),
            })?);
            types.push(t);
        }
        self.typed = types.iter().map(|t| Arc::new(t.clone())).collect();
        self.types = types;
        self.shared = shared;
        self.variant = VariantColumn::new(decoders);
        if flattened {
            self.variant.set_flattened(names.len() as u8);
        }
        self.names = names;
        self.flattened = flattened;
        Ok(())
    }

    /// The value at (alternative, position), decoding shared-variant bytes.
    fn typed_value(&self, d: u8, pos: usize) -> Value<'_> {
        let d = usize::from(d);
        let Some(column) = self.variant.variant_columns().get(d) else { return Value::Null };
        if d == self.shared {
            let Value::String(Cow::Borrowed(bytes)) = column.value(pos) else { return Value::Null };
            return binary::read_dynamic(&mut Reader::new(bytes), 0).unwrap_or(Value::Null);
        }
        match column.value(pos) {
            Value::Null => Value::Null,
            v => match self.typed.get(d) {
                Some(ty) => Value::Dynamic { ty: ty.clone(), value: Box::new(v) },
                None => Value::Null,
            },
        }
    }

    /// Checks every shared-variant value of the block (so `value` never meets bad bytes).
    fn check_shared(&self, input: &Input<'_>) -> Result<()> {
        let Some(column) = self.variant.variant_columns().get(self.shared) else { return Ok(()) };
        for pos in 0..column.rows() {
            let Value::String(bytes) = column.value(pos) else { continue };
            let mut r = Reader::new(&bytes);
            binary::read_dynamic(&mut r, 0)
                .and_then(|_| {
                    if r.remaining() == 0 { Ok(()) } else { Err(format!("{} bytes after the value", r.remaining())) }
                })
                .map_err(|e| input.error(format!("Dynamic shared variant value {pos}: {e}")))?;
        }
        Ok(())
    }
}

impl Sealed for DynamicColumn {}

impl Column for DynamicColumn {
    fn rows(&self) -> usize {
        if self.checked { self.rows } else { 0 }
    }

    fn view(&self) -> ColumnView<'_> {
        ColumnView::Dynamic { types: &self.types, shared: self.shared, variant: &self.variant }
    }

    fn value(&self, row: usize) -> Value<'_> {
        match self.variant.locate(row) {
            Some((d, pos)) => self.typed_value(d, pos),
            None => Value::Null,
        }
    }
}

impl ColumnDecoder for DynamicColumn {
    fn start(&mut self, rows: usize) {
        self.rows = rows;
        self.checked = false;
        self.variant.start(rows);
    }

    fn decode_prefix(&mut self, input: &mut Input<'_>) -> Result<bool> {
        if matches!(self.prefix.state, Prefix::Done) {
            self.prefix.state = Prefix::Version;
        }
        if !matches!(self.prefix.state, Prefix::Variant) {
            let Some(names) = self.prefix.read_names(input)? else { return Ok(false) };
            self.install(names, input)?;
            self.variant.start(self.rows);
        }
        if !self.variant.decode_prefix(input)? {
            return Ok(false);
        }
        self.prefix.state = Prefix::Done;
        Ok(true)
    }

    fn decode(&mut self, input: &mut Input<'_>) -> Result<bool> {
        if !self.variant.decode(input)? {
            return Ok(false);
        }
        if !self.checked {
            self.check_shared(input)?;
            self.checked = true;
        }
        Ok(true)
    }

    fn stored_bytes(&self) -> usize {
        self.variant.stored_bytes()
    }
}

/// Where a pushed row went.
#[derive(Clone, Copy)]
enum Slot {
    Null,
    /// The type at this index of `types`.
    Typed(usize),
    Shared,
}

/// Builder of a `Dynamic` column from values: a [`Value::Dynamic`] keeps its type; any other value is
/// stored as the type it implies ([`Value::implied_type`]). The first `max_types` types of a block get
/// columns of their own, later ones go to the shared variant in binary form, as the server does.
pub struct DynamicValues {
    type_name: String,
    max_types: usize,
    types: Vec<TypeDesc>,
    builders: Vec<Box<dyn ValueBuilder>>,
    shared: super::string::StringBuilder,
    slots: Vec<Slot>,
    scratch: Vec<u8>,
}

impl DynamicValues {
    /// A builder for `Dynamic(max_types=N)` (`None`: the default 32).
    pub fn new(type_name: String, max_types: Option<u64>) -> Self {
        DynamicValues {
            type_name,
            max_types: max_types.unwrap_or(32).min(MAX_TYPES) as usize,
            types: Vec::new(),
            builders: Vec::new(),
            shared: super::string::StringBuilder::new(),
            slots: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// The alternatives in variant order: (name, slot index or `None` for the shared variant).
    fn order(&self) -> Vec<(String, Option<usize>)> {
        let mut names: Vec<(String, Option<usize>)> =
            self.types.iter().enumerate().map(|(i, t)| (t.to_string(), Some(i))).collect();
        names.push((SHARED_VARIANT.to_string(), None));
        names.sort();
        names
    }
}

impl ColumnEncoder for DynamicValues {
    fn type_name(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.type_name)
    }
    fn rows(&self) -> usize {
        self.slots.len()
    }
    fn encode_prefix(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&1u64.to_le_bytes());
        write_varuint(out, self.types.len() as u64);
        write_varuint(out, self.types.len() as u64);
        for t in &self.types {
            write_str(out, t.to_string().as_bytes());
        }
        write_basic_mode(out);
        for (_, slot) in self.order() {
            match slot {
                Some(i) => self.builders[i].encode_prefix(out),
                None => self.shared.encode_prefix(out),
            }
        }
    }
    fn encode(&self, out: &mut Vec<u8>) {
        let order = self.order();
        let mut discriminator_of = vec![0u8; self.types.len()];
        let mut shared = 0u8;
        for (d, (_, slot)) in order.iter().enumerate() {
            match slot {
                Some(i) => discriminator_of[*i] = d as u8,
                None => shared = d as u8,
            }
        }
        out.extend(self.slots.iter().map(|s| match s {
            Slot::Null => super::variant::NULL_DISCRIMINATOR,
            Slot::Typed(i) => discriminator_of[*i],
            Slot::Shared => shared,
        }));
        for (_, slot) in order {
            match slot {
                Some(i) => self.builders[i].encode(out),
                None => self.shared.encode(out),
            }
        }
    }
    fn clear(&mut self) {
        self.types.clear();
        self.builders.clear();
        self.shared.clear();
        self.slots.clear();
    }
    fn check(&self) -> crate::Result<()> {
        self.builders.iter().try_for_each(|b| b.check())
    }
}

impl ValueBuilder for DynamicValues {
    fn push(&mut self, v: &Value<'_>) -> std::result::Result<(), String> {
        let (ty, value): (Cow<'_, TypeDesc>, &Value<'_>) = match v {
            Value::Null => {
                self.slots.push(Slot::Null);
                return Ok(());
            }
            Value::Dynamic { ty, value } => (Cow::Borrowed(ty.as_ref()), value.as_ref()),
            Value::Variant { value, .. } => return self.push(value),
            v => (Cow::Owned(v.implied_type()), v),
        };
        if matches!(ty.as_ref(), TypeDesc::Dynamic { .. } | TypeDesc::Nothing) {
            return self.push(value);
        }
        let slot = match self.types.iter().position(|t| t == ty.as_ref()) {
            Some(i) => Slot::Typed(i),
            None if self.types.len() < self.max_types => {
                let b = super::builder_for(&ty).map_err(|e| e.to_string())?;
                self.types.push(ty.clone().into_owned());
                self.builders.push(b);
                Slot::Typed(self.types.len() - 1)
            }
            None => Slot::Shared,
        };
        match slot {
            Slot::Typed(i) => {
                let rows = self.builders[i].rows();
                if let Err(e) = self.builders[i].push(value) {
                    self.builders[i].truncate(rows);
                    return Err(e);
                }
            }
            _ => {
                self.scratch.clear();
                binary::write_type(&mut self.scratch, &ty)?;
                binary::write_value(&mut self.scratch, value, &ty)?;
                super::string::StringBuilder::push(&mut self.shared, &self.scratch);
            }
        }
        self.slots.push(slot);
        Ok(())
    }
    fn push_default(&mut self) {
        self.slots.push(Slot::Null);
    }
    fn truncate(&mut self, rows: usize) {
        if rows >= self.slots.len() {
            return;
        }
        let mut counts: Vec<usize> = self.builders.iter().map(|b| b.rows()).collect();
        let mut shared = self.shared.rows();
        for s in &self.slots[rows..] {
            match s {
                Slot::Typed(i) => counts[*i] -= 1,
                Slot::Shared => shared -= 1,
                Slot::Null => {}
            }
        }
        self.slots.truncate(rows);
        for (b, c) in self.builders.iter_mut().zip(counts) {
            b.truncate(c);
        }
        ValueBuilder::truncate(&mut self.shared, shared);
    }
}
