//! `LowCardinality(T)`: dictionary-encoded values.
//!
//! Native layout (checked against ClickHouse 26.9's output):
//! - prefix, before any data of the column tree: u64 keys serialization version, which must be 1
//!   (shared dictionaries with additional keys);
//! - then, until the block's rows are covered, parts of:
//!   u64 flags — low byte: index width (0 = UInt8, 1 = UInt16, 2 = UInt32, 3 = UInt64); bit 8: needs a
//!   global dictionary (never used by Native output, rejected); bit 9: has additional keys; bit 10: the
//!   dictionary replaces the previous one — then, with additional keys, u64 key count and the dictionary
//!   (a column of `T`, non-nullable; for `LowCardinality(Nullable(T))` entry 0 stands for NULL), then u64
//!   row count and that many indexes.
//!
//! Decoded as one dictionary column (parts appended) and one `u32` key per row, rebased onto the combined
//! dictionary, so the view is always `keys: &[u32]` + `dictionary`.

use crate::error::Result;
use crate::native::buffer::AlignedBuf;
use crate::native::column::{Column, ColumnDecoder, ColumnView, Sealed, U64Reader, byte_len, read_fixed};
use crate::native::input::Input;
use crate::value::Value;

const SHARED_DICTIONARIES_WITH_ADDITIONAL_KEYS: u64 = 1;
const NEED_GLOBAL_DICTIONARY: u64 = 1 << 8;
const HAS_ADDITIONAL_KEYS: u64 = 1 << 9;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Flags,
    KeyCount,
    Dictionary,
    RowCount,
    Indexes,
}

/// A decoded LowCardinality column.
pub struct LowCardinalityColumn {
    nullable: bool,
    rows: usize,
    phase: Phase,
    word: U64Reader,
    prefix: U64Reader,
    /// Index width of the current part, in bytes.
    width: usize,
    /// Where the current part's dictionary starts in `dictionary`.
    dict_base: usize,
    part_rows: usize,
    part_bytes: usize,
    raw: AlignedBuf,
    keys: AlignedBuf,
    dictionary: Box<dyn ColumnDecoder>,
}

impl LowCardinalityColumn {
    /// A LowCardinality decoder over the dictionary type's decoder.
    pub(crate) fn new(dictionary: Box<dyn ColumnDecoder>, nullable: bool) -> Self {
        LowCardinalityColumn {
            nullable,
            rows: 0,
            phase: Phase::Flags,
            word: U64Reader::default(),
            prefix: U64Reader::default(),
            width: 1,
            dict_base: 0,
            part_rows: 0,
            part_bytes: 0,
            raw: AlignedBuf::new(),
            keys: AlignedBuf::new(),
            dictionary,
        }
    }

    fn decoded_rows(&self) -> usize {
        self.keys.len() / 4
    }

    /// Widens the part's raw indexes to u32 keys rebased onto the combined dictionary, checking each
    /// against the dictionary's size.
    fn finish_part(&mut self, input: &Input<'_>) -> Result<()> {
        let dict_len = self.dictionary.rows() as u64;
        let base = self.dict_base as u64;
        let nullable = self.nullable;
        let n = self.part_rows;
        let dst: &mut [u32] = bytemuck::try_cast_slice_mut(self.keys.extend_zeroed(n * 4)?)
            .map_err(|_| input.error("misaligned LowCardinality keys"))?;
        let raw = self.raw.as_bytes();
        // Tight, branch-light loops: remember the largest key and check it once at the end.
        let mut max = 0u64;
        fn widen<const W: usize>(raw: &[u8], dst: &mut [u32], base: u64, nullable: bool, max: &mut u64) {
            for (d, c) in dst.iter_mut().zip(raw.chunks_exact(W)) {
                let mut b = [0u8; 8];
                b[..W].copy_from_slice(c);
                let k = u64::from_le_bytes(b);
                // NULL is entry 0 of every part's dictionary; all NULLs map to the first one.
                let key = if nullable && k == 0 { 0 } else { base.saturating_add(k) };
                *max = (*max).max(key);
                *d = key as u32;
            }
        }
        match self.width {
            1 => widen::<1>(raw, dst, base, nullable, &mut max),
            2 => widen::<2>(raw, dst, base, nullable, &mut max),
            4 => widen::<4>(raw, dst, base, nullable, &mut max),
            _ => widen::<8>(raw, dst, base, nullable, &mut max),
        }
        if n > 0 && max >= dict_len {
            return Err(input.error(format!(
                "LowCardinality index {} is outside its dictionary of {} keys",
                max.saturating_sub(base),
                dict_len - base
            )));
        }
        self.raw.clear();
        Ok(())
    }
}

impl Sealed for LowCardinalityColumn {}

impl Column for LowCardinalityColumn {
    fn rows(&self) -> usize {
        self.decoded_rows()
    }

    fn view(&self) -> ColumnView<'_> {
        ColumnView::LowCardinality {
            keys: self.keys.typed(),
            dictionary: self.dictionary.as_ref(),
            nullable: self.nullable,
        }
    }

    fn value(&self, row: usize) -> Value<'_> {
        match self.keys.typed::<u32>().get(row) {
            Some(0) if self.nullable => Value::Null,
            Some(&k) => self.dictionary.value(k as usize),
            None => Value::Null,
        }
    }
}

impl ColumnDecoder for LowCardinalityColumn {
    fn start(&mut self, rows: usize) {
        self.rows = rows;
        self.phase = Phase::Flags;
        self.word = U64Reader::default();
        self.prefix = U64Reader::default();
        self.dict_base = 0;
        self.raw.clear();
        self.keys.clear();
        self.dictionary.start(0);
    }

    fn decode_prefix(&mut self, input: &mut Input<'_>) -> Result<bool> {
        match self.prefix.feed(input) {
            None => Ok(false),
            Some(SHARED_DICTIONARIES_WITH_ADDITIONAL_KEYS) => Ok(true),
            Some(v) => Err(input.error(format!("unknown LowCardinality serialization version {v}"))),
        }
    }

    fn decode(&mut self, input: &mut Input<'_>) -> Result<bool> {
        loop {
            match self.phase {
                Phase::Flags => {
                    if self.decoded_rows() >= self.rows {
                        return Ok(true);
                    }
                    let Some(flags) = self.word.feed(input) else { return Ok(false) };
                    if flags & NEED_GLOBAL_DICTIONARY != 0 {
                        return Err(input.error("LowCardinality with a global dictionary is not used by Native format"));
                    }
                    self.width = match flags & 0xff {
                        0 => 1,
                        1 => 2,
                        2 => 4,
                        3 => 8,
                        w => return Err(input.error(format!("unknown LowCardinality index type {w}"))),
                    };
                    if flags & HAS_ADDITIONAL_KEYS != 0 {
                        self.phase = Phase::KeyCount;
                    } else if self.dictionary.rows() == 0 {
                        return Err(input.error("LowCardinality part without a dictionary"));
                    } else {
                        self.phase = Phase::RowCount;
                    }
                }
                Phase::KeyCount => {
                    let Some(n) = self.word.feed(input) else { return Ok(false) };
                    let n = usize::try_from(n).map_err(|_| input.error("dictionary size exceeds memory"))?;
                    let before = self.dictionary.rows();
                    if before.checked_add(n).is_none_or(|t| t > u32::MAX as usize) {
                        return Err(input.error(format!("LowCardinality dictionary of {n} keys is too large")));
                    }
                    // Each part's dictionary replaces the previous one for its indexes; we append it
                    // to the combined dictionary and rebase the part's indexes onto it.
                    if before == 0 {
                        self.dictionary.start(n);
                    } else if !self.dictionary.start_more(n) {
                        return Err(input.error("LowCardinality dictionary type cannot be continued"));
                    }
                    self.dict_base = before;
                    self.phase = Phase::Dictionary;
                }
                Phase::Dictionary => {
                    if !self.dictionary.decode(input)? {
                        return Ok(false);
                    }
                    self.phase = Phase::RowCount;
                }
                Phase::RowCount => {
                    let Some(n) = self.word.feed(input) else { return Ok(false) };
                    let left = self.rows - self.decoded_rows();
                    if n > left as u64 {
                        return Err(
                            input.error(format!("LowCardinality part of {n} rows exceeds the {left} rows left"))
                        );
                    }
                    self.part_rows = n as usize;
                    self.part_bytes = byte_len(self.part_rows, self.width, input)?;
                    self.raw.clear();
                    self.phase = Phase::Indexes;
                }
                Phase::Indexes => {
                    if !read_fixed(&mut self.raw, self.part_bytes, input)? {
                        return Ok(false);
                    }
                    self.finish_part(input)?;
                    self.phase = Phase::Flags;
                }
            }
        }
    }

    fn stored_bytes(&self) -> usize {
        self.raw.len() + self.keys.len() + self.dictionary.stored_bytes()
    }
}

/// Builder of a `LowCardinality(T)` column from [`Value`]s: values are deduplicated into a dictionary
/// (by their encoded bytes) and written as one part with the narrowest index width.
pub struct LowCardinalityValues {
    type_name: String,
    nullable: bool,
    dict: Box<dyn crate::native::encoder::ValueBuilder>,
    /// The dictionary's entries after the defaults, encoded, for finding duplicates.
    seen: Distinct,
    scratch: Box<dyn crate::native::encoder::ValueBuilder>,
    /// One value encoded by `scratch`, reused for every row.
    encoded: Vec<u8>,
    keys: Vec<u32>,
}

/// Distinct byte strings in insertion order, stored back to back and found through a hash table of
/// their positions. Cleared per block with every buffer's capacity kept, so a steady stream of blocks
/// allocates nothing here (a `HashMap<Vec<u8>, _>` would allocate one key per entry per block).
struct Distinct {
    bytes: Vec<u8>,
    ends: Vec<usize>,
    table: hashbrown::HashTable<u32>,
    hasher: hashbrown::DefaultHashBuilder,
}

impl Distinct {
    fn new() -> Self {
        Distinct { bytes: Vec::new(), ends: Vec::new(), table: hashbrown::HashTable::new(), hasher: Default::default() }
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
        self.table.clear();
    }

    /// Position `p`'s bytes.
    fn get<'a>(bytes: &'a [u8], ends: &[usize], p: u32) -> &'a [u8] {
        let p = p as usize;
        &bytes[if p == 0 { 0 } else { ends[p - 1] }..ends[p]]
    }

    /// The position of `v`, if it was added.
    fn find(&self, v: &[u8]) -> Option<u32> {
        use std::hash::BuildHasher;
        let h = self.hasher.hash_one(v);
        self.table.find(h, |&p| Self::get(&self.bytes, &self.ends, p) == v).copied()
    }

    /// Adds `v` (not yet present) at the next position.
    fn add(&mut self, v: &[u8]) {
        use std::hash::BuildHasher;
        let Distinct { bytes, ends, table, hasher } = self;
        let p = ends.len() as u32;
        table.insert_unique(hasher.hash_one(v), p, |&q| hasher.hash_one(Self::get(bytes, ends, q)));
        bytes.extend_from_slice(v);
        ends.push(bytes.len());
    }
}

impl LowCardinalityValues {
    /// A builder over two empty builders of the dictionary type: one for the dictionary, one to encode
    /// single values when looking for duplicates.
    pub fn new(
        type_name: String,
        dict: Box<dyn crate::native::encoder::ValueBuilder>,
        scratch: Box<dyn crate::native::encoder::ValueBuilder>,
        nullable: bool,
    ) -> Self {
        let mut b = LowCardinalityValues {
            type_name,
            nullable,
            dict,
            seen: Distinct::new(),
            scratch,
            encoded: Vec::new(),
            keys: Vec::new(),
        };
        b.reset_dictionary();
        b
    }

    fn reset_dictionary(&mut self) {
        self.dict.clear();
        self.seen.clear();
        // Entry 0 is the default value (for Nullable: NULL), entry 1 the default for Nullable.
        self.dict.push_default();
        if self.nullable {
            self.dict.push_default();
        }
    }
}

impl crate::native::encoder::ColumnEncoder for LowCardinalityValues {
    fn type_name(&self) -> std::borrow::Cow<'_, str> {
        std::borrow::Cow::Borrowed(&self.type_name)
    }
    fn rows(&self) -> usize {
        self.keys.len()
    }
    fn encode_prefix(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&SHARED_DICTIONARIES_WITH_ADDITIONAL_KEYS.to_le_bytes());
    }
    fn encode(&self, out: &mut Vec<u8>) {
        if self.keys.is_empty() {
            return;
        }
        let n = self.dict.rows();
        let (width, code) = match n {
            0..=0xff => (1, 0u64),
            0x100..=0xffff => (2, 1),
            _ => (4, 2),
        };
        out.extend_from_slice(&(code | HAS_ADDITIONAL_KEYS | (1 << 10)).to_le_bytes());
        out.extend_from_slice(&(n as u64).to_le_bytes());
        self.dict.encode(out);
        out.extend_from_slice(&(self.keys.len() as u64).to_le_bytes());
        for &k in &self.keys {
            out.extend_from_slice(&k.to_le_bytes()[..width]);
        }
    }
    fn clear(&mut self) {
        self.keys.clear();
        self.reset_dictionary();
    }
}

impl crate::native::encoder::ValueBuilder for LowCardinalityValues {
    fn push(&mut self, v: &Value<'_>) -> std::result::Result<(), String> {
        if matches!(v, Value::Null) {
            if !self.nullable {
                return Err(format!("NULL in non-nullable {}", self.type_name));
            }
            self.keys.push(0);
            return Ok(());
        }
        self.scratch.clear();
        self.scratch.push(v)?;
        self.encoded.clear();
        self.scratch.encode(&mut self.encoded);
        let defaults = 1 + u32::from(self.nullable);
        let key = match self.seen.find(&self.encoded) {
            Some(p) => defaults + p,
            None => {
                let next = self.dict.rows() as u32;
                self.dict.push(v)?;
                self.seen.add(&self.encoded);
                next
            }
        };
        self.keys.push(key);
        Ok(())
    }
    fn push_default(&mut self) {
        self.keys.push(0);
    }
    fn truncate(&mut self, rows: usize) {
        // A dictionary entry added for a taken-back row stays: an unused entry is valid Native.
        self.keys.truncate(rows);
    }
}

#[cfg(test)]
mod tests {
    use crate::native::BlockDecoder;
    use crate::native::input::write_str;
    use crate::value::Value;

    fn part(out: &mut Vec<u8>, flags: u64, dict: Option<&[&str]>, idx: &[u8]) {
        out.extend_from_slice(&flags.to_le_bytes());
        if let Some(d) = dict {
            out.extend_from_slice(&(d.len() as u64).to_le_bytes());
            for k in d {
                write_str(out, k.as_bytes());
            }
        }
        out.extend_from_slice(&(idx.len() as u64).to_le_bytes());
        out.extend_from_slice(idx);
    }

    fn decode(ty: &str, rows: u8, parts: &[u8]) -> crate::Result<Vec<Value<'static>>> {
        let mut b = vec![1, rows, 1, b'x', ty.len() as u8];
        b.extend_from_slice(ty.as_bytes());
        b.extend_from_slice(&1u64.to_le_bytes());
        b.extend_from_slice(parts);
        let mut d = BlockDecoder::new();
        let mut s = &b[..];
        let block = d.feed(&mut s)?.expect("one block");
        Ok((0..block.rows()).map(|r| block.row(r).remove(0).into_owned()).collect())
    }

    #[test]
    fn several_parts_are_rebased_onto_one_dictionary() {
        // Layout as ClickHouse writes it: flags 0x600 = has additional keys | update dictionary.
        let mut p = Vec::new();
        part(&mut p, 0x600, Some(&["", "a"]), &[1]);
        part(&mut p, 0x600, Some(&["", "b", "c"]), &[2, 1]);
        part(&mut p, 0x000, None, &[1]); // reuses the last dictionary
        let got = decode("LowCardinality(String)", 4, &p).unwrap();
        let s: Vec<&str> = got.iter().map(|v| v.as_str().unwrap()).collect();
        assert_eq!(s, ["a", "c", "b", "b"]);

        let mut p = Vec::new();
        part(&mut p, 0x600, Some(&["", "", "a"]), &[0, 2]);
        part(&mut p, 0x600, Some(&["", "", "b"]), &[2, 0]);
        let got = decode("LowCardinality(Nullable(String))", 4, &p).unwrap();
        assert_eq!(got[0], Value::Null);
        assert_eq!(got[1].as_str(), Some("a"));
        assert_eq!(got[2].as_str(), Some("b"));
        assert_eq!(got[3], Value::Null);
    }

    #[test]
    fn bad_parts_are_errors() {
        let mut p = Vec::new();
        part(&mut p, 0x600, Some(&["", "a"]), &[5]);
        assert!(decode("LowCardinality(String)", 1, &p).unwrap_err().to_string().contains("outside its dictionary"));
        let mut p = Vec::new();
        part(&mut p, 0x000, None, &[0]);
        assert!(decode("LowCardinality(String)", 1, &p).is_err());
        let mut p = Vec::new();
        part(&mut p, 0x600, Some(&["", "a"]), &[1, 1]);
        assert!(decode("LowCardinality(String)", 1, &p).is_err(), "more rows than the block");
        let mut p = Vec::new();
        part(&mut p, 0x607, Some(&["", "a"]), &[1]);
        assert!(decode("LowCardinality(String)", 1, &p).is_err(), "unknown index width");
    }
}
