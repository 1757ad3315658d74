//! `Variant(T1, …, Tn)`: each row is one of the alternatives or NULL.
//!
//! Native writes, once per block before the data of the whole column tree, the discriminators' mode
//! (a `UInt64`: 0 = basic, 1 = compact) and then the alternatives' own prefixes. The data is the
//! discriminators, then each alternative's column holding only the rows that are of it, in
//! alternative order. A discriminator is the alternative's index in the type's (name-sorted) list, or
//! 255 for NULL. In basic mode there is one discriminator byte per row; in compact mode a format byte
//! comes first: 0 = one byte per row follows, 1 = one discriminator for every row of the block.
//!
//! The decoder reads the discriminators, counts the rows of each alternative (so each child starts
//! with a count checked against the block's rows, never a length from the wire), and keeps for each
//! row its position inside its alternative's column.

use crate::error::Result;
use crate::native::buffer::AlignedBuf;
use crate::native::column::{Column, ColumnDecoder, ColumnView, Sealed, TupleColumns, U64Reader, read_fixed};
use crate::native::encoder::{ColumnEncoder, ValueBuilder};
use crate::native::input::Input;
use crate::types::TypeDesc;
use crate::value::Value;
use std::borrow::Cow;

/// The discriminator of a NULL row.
pub const NULL_DISCRIMINATOR: u8 = 255;

/// Mode value of basic discriminators.
const BASIC: u64 = 0;
/// Mode value of compact discriminators.
const COMPACT: u64 = 1;

/// A decoded Variant column.
pub struct VariantColumn {
    rows: usize,
    mode: U64Reader,
    /// The mode read in this block's prefix (`None` until read).
    compact: Option<bool>,
    prefix_current: usize,
    /// Compact mode: where the current granule's discriminators end (rows before it plus its rows),
    /// once its row count is read, and its format byte, once read.
    granule_end: Option<usize>,
    granule_format: Option<u8>,
    varint: crate::native::input::VarUInt,
    discriminators: AlignedBuf,
    /// For each row, its row in its alternative's column (u32).
    positions: AlignedBuf,
    discriminators_done: bool,
    current: usize,
    finished_bytes: usize,
    variants: Vec<Box<dyn ColumnDecoder>>,
    /// A flattened Dynamic's index column: no mode prefix, and this index means NULL.
    flattened_null: Option<u8>,
    /// The flattened indexes read so far (mapped to discriminators when complete).
    flat: Vec<u8>,
}

impl VariantColumn {
    /// A variant of these alternatives' decoders (at most 255).
    pub(crate) fn new(variants: Vec<Box<dyn ColumnDecoder>>) -> Self {
        VariantColumn {
            rows: 0,
            mode: U64Reader::default(),
            compact: None,
            prefix_current: 0,
            granule_end: None,
            granule_format: None,
            varint: Default::default(),
            discriminators: AlignedBuf::new(),
            positions: AlignedBuf::new(),
            discriminators_done: false,
            current: 0,
            finished_bytes: 0,
            variants,
            flattened_null: None,
            flat: Vec::new(),
        }
    }

    /// Reads a flattened Dynamic's index column instead: no mode prefix, `null` (the number of types)
    /// for NULL rows.
    pub(crate) fn set_flattened(&mut self, null: u8) {
        self.flattened_null = Some(null);
    }

    /// Row `row`'s discriminator and its row in that alternative's column; `None` for NULL.
    #[inline]
    pub fn locate(&self, row: usize) -> Option<(u8, usize)> {
        let d = *self.discriminators.as_bytes().get(row)?;
        if d == NULL_DISCRIMINATOR {
            return None;
        }
        let pos = *self.positions.typed::<u32>().get(row)?;
        Some((d, pos as usize))
    }

    /// The alternatives' columns.
    pub(crate) fn variant_columns(&self) -> &[Box<dyn ColumnDecoder>] {
        &self.variants
    }

    /// Compact discriminators: granules until the block's rows are covered. True once they are.
    fn read_granules(&mut self, input: &mut Input<'_>) -> Result<bool> {
        while self.discriminators.len() < self.rows {
            // The granule's end is fixed when its count is read: its bytes may come in several chunks.
            let end = match self.granule_end {
                Some(e) => e,
                None => {
                    let Some(n) = self.varint.feed(input)? else { return Ok(false) };
                    let left = self.rows - self.discriminators.len();
                    if n == 0 || n > left as u64 {
                        return Err(
                            input.error(format!("compact Variant granule of {n} rows where {left} rows are left"))
                        );
                    }
                    let end = self.discriminators.len() + n as usize;
                    self.granule_end = Some(end);
                    end
                }
            };
            let format = match self.granule_format {
                Some(f) => f,
                None => {
                    let Some(&f) = input.take(1).first() else { return Ok(false) };
                    self.granule_format = Some(f);
                    f
                }
            };
            match format {
                0 => {
                    // read_fixed fills up to `end` across chunks.
                    if !read_fixed(&mut self.discriminators, end, input)? {
                        return Ok(false);
                    }
                }
                1 => {
                    let Some(&d) = input.take(1).first() else { return Ok(false) };
                    let rows = end - self.discriminators.len();
                    self.discriminators.extend_zeroed(rows)?.fill(d);
                }
                f => return Err(input.error(format!("unknown compact Variant granule format {f}"))),
            }
            self.granule_end = None;
            self.granule_format = None;
        }
        Ok(true)
    }

    /// Counts each alternative's rows, checks the discriminators, and starts the children.
    fn finish_discriminators(&mut self, input: &Input<'_>) -> Result<()> {
        let n = self.variants.len();
        let mut counts = vec![0u32; n];
        self.positions.clear();
        self.positions.reserve(self.rows.saturating_mul(4))?;
        for (row, &d) in self.discriminators.as_bytes().iter().enumerate() {
            if d == NULL_DISCRIMINATOR {
                self.positions.push(0u32)?;
                continue;
            }
            let Some(c) = counts.get_mut(usize::from(d)) else {
                return Err(input.error(format!(
                    "Variant discriminator {d} at row {row} is out of range: the type has {n} alternatives"
                )));
            };
            self.positions.push(*c)?;
            *c += 1;
        }
        for (v, &c) in self.variants.iter_mut().zip(&counts) {
            v.start(c as usize);
        }
        Ok(())
    }
}

impl Sealed for VariantColumn {}

impl Column for VariantColumn {
    fn rows(&self) -> usize {
        if self.current == self.variants.len() && self.discriminators_done { self.rows } else { 0 }
    }

    fn view(&self) -> ColumnView<'_> {
        ColumnView::Variant {
            discriminators: self.discriminators.as_bytes(),
            positions: self.positions.typed(),
            variants: TupleColumns::new(&self.variants),
        }
    }

    fn value(&self, row: usize) -> Value<'_> {
        match self.locate(row) {
            Some((d, pos)) => match self.variants.get(usize::from(d)) {
                Some(v) => Value::Variant { discriminator: d, value: Box::new(v.value(pos)) },
                None => Value::Null,
            },
            None => Value::Null,
        }
    }
}

impl ColumnDecoder for VariantColumn {
    fn start(&mut self, rows: usize) {
        self.rows = rows;
        self.discriminators.clear();
        self.positions.clear();
        self.discriminators_done = false;
        self.granule_end = None;
        self.granule_format = None;
        self.flat.clear();
        self.current = 0;
        self.finished_bytes = 0;
        self.prefix_current = 0;
        for v in &mut self.variants {
            v.start(0);
        }
    }

    fn decode_prefix(&mut self, input: &mut Input<'_>) -> Result<bool> {
        if self.flattened_null.is_some() {
            self.compact = Some(false);
        }
        if self.prefix_current == 0 && self.compact.is_none() {
            let Some(mode) = self.mode.feed(input) else { return Ok(false) };
            self.compact = Some(match mode {
                BASIC => false,
                COMPACT => true,
                m => return Err(input.error(format!("unknown Variant discriminators mode {m}"))),
            });
        }
        while let Some(v) = self.variants.get_mut(self.prefix_current) {
            if !v.decode_prefix(input)? {
                return Ok(false);
            }
            self.prefix_current += 1;
        }
        Ok(true)
    }

    fn decode(&mut self, input: &mut Input<'_>) -> Result<bool> {
        if !self.discriminators_done {
            if let Some(null) = self.flattened_null {
                let want = self.rows - self.flat.len();
                self.flat.extend_from_slice(input.take(want));
                if self.flat.len() < self.rows {
                    return Ok(false);
                }
                for d in &mut self.flat {
                    if *d == null {
                        *d = NULL_DISCRIMINATOR;
                    } else if *d > null {
                        return Err(input.error(format!("flattened Dynamic index {d} where {null} types are declared")));
                    }
                }
                self.discriminators.extend_from_slice(&self.flat)?;
                self.flat.clear();
            } else if self.compact == Some(true) {
                if !self.read_granules(input)? {
                    return Ok(false);
                }
            } else if !read_fixed(&mut self.discriminators, self.rows, input)? {
                return Ok(false);
            }
            self.finish_discriminators(input)?;
            self.discriminators_done = true;
            // The next block's prefix reads the mode again.
            self.compact = None;
        }
        while let Some(v) = self.variants.get_mut(self.current) {
            if !v.decode(input)? {
                return Ok(false);
            }
            self.finished_bytes += v.stored_bytes();
            self.current += 1;
        }
        Ok(true)
    }

    fn stored_bytes(&self) -> usize {
        self.discriminators.len()
            + self.positions.len()
            + self.finished_bytes
            + self.variants.get(self.current).map_or(0, |v| v.stored_bytes())
    }
}

/// Builder of a `Variant(…)` column from values.
///
/// A [`Value::Variant`] goes to the alternative its discriminator names; a [`Value::Dynamic`] to the
/// alternative of its type; any other value to the first alternative of the same kind of value that
/// accepts it (a string to `String`, an array to the first `Array` that takes its elements…), else to
/// the first that accepts it at all. NULL is NULL.
pub struct VariantValues {
    type_name: String,
    types: Vec<TypeDesc>,
    discriminators: Vec<u8>,
    variants: Vec<Box<dyn ValueBuilder>>,
}

impl VariantValues {
    /// A builder with the type's name, its alternatives' types and their builders.
    pub fn new(type_name: String, types: Vec<TypeDesc>, variants: Vec<Box<dyn ValueBuilder>>) -> Self {
        VariantValues { type_name, types, discriminators: Vec::new(), variants }
    }

    fn push_into(&mut self, d: usize, v: &Value<'_>) -> std::result::Result<(), String> {
        let rows = self.variants[d].rows();
        if let Err(e) = self.variants[d].push(v) {
            self.variants[d].truncate(rows);
            return Err(e);
        }
        self.discriminators.push(d as u8);
        Ok(())
    }
}

/// Whether `v` is the kind of value the type's columns hold (its default value's kind).
fn same_kind(t: &TypeDesc, v: &Value<'_>) -> bool {
    std::mem::discriminant(&Value::default_of(&t.physical())) == std::mem::discriminant(v)
}

impl ColumnEncoder for VariantValues {
    fn type_name(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.type_name)
    }
    fn rows(&self) -> usize {
        self.discriminators.len()
    }
    fn encode_prefix(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&BASIC.to_le_bytes());
        for v in &self.variants {
            v.encode_prefix(out);
        }
    }
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.discriminators);
        for v in &self.variants {
            v.encode(out);
        }
    }
    fn clear(&mut self) {
        self.discriminators.clear();
        for v in &mut self.variants {
            v.clear();
        }
    }
    fn check(&self) -> crate::Result<()> {
        self.variants.iter().try_for_each(|v| v.check())
    }
}

impl ValueBuilder for VariantValues {
    fn push(&mut self, v: &Value<'_>) -> std::result::Result<(), String> {
        match v {
            Value::Null => {
                self.discriminators.push(NULL_DISCRIMINATOR);
                Ok(())
            }
            Value::Variant { discriminator, value } => {
                let d = usize::from(*discriminator);
                if d >= self.variants.len() {
                    return Err(format!(
                        "Variant discriminator {d} is out of range for {} ({} alternatives)",
                        self.type_name,
                        self.variants.len()
                    ));
                }
                self.push_into(d, value)
            }
            Value::Dynamic { ty, value } => match self.types.iter().position(|t| t == ty.as_ref()) {
                Some(d) => self.push_into(d, value),
                None => self.push(value),
            },
            v => {
                let preferred = (0..self.types.len()).filter(|&i| same_kind(&self.types[i], v));
                let others = (0..self.types.len()).filter(|&i| !same_kind(&self.types[i], v));
                let order: Vec<usize> = preferred.chain(others).collect();
                for d in order {
                    if self.push_into(d, v).is_ok() {
                        return Ok(());
                    }
                }
                Err(format!("no alternative of {} accepts {v:?}", self.type_name))
            }
        }
    }
    fn push_default(&mut self) {
        self.discriminators.push(NULL_DISCRIMINATOR);
    }
    fn truncate(&mut self, rows: usize) {
        if rows >= self.discriminators.len() {
            return;
        }
        let mut counts: Vec<usize> = self.variants.iter().map(|v| v.rows()).collect();
        for &d in &self.discriminators[rows..] {
            if let Some(c) = counts.get_mut(usize::from(d)) {
                *c -= 1;
            }
        }
        self.discriminators.truncate(rows);
        for (v, c) in self.variants.iter_mut().zip(counts) {
            v.truncate(c);
        }
    }
}

/// Writes a Variant prefix in basic mode (for callers that build the layout by hand, as `Dynamic`).
pub(crate) fn write_basic_mode(out: &mut Vec<u8>) {
    out.extend_from_slice(&BASIC.to_le_bytes());
}
