//! The streaming Native block decoder.
//!
//! Push-based: feed it chunks exactly as libcurl delivers them. A block is
//! `columns: varuint, rows: varuint`, then per column `name: string, type: string, data`. The header's
//! small pieces (varints, names, type names) may straddle chunks and are assembled in small reusable
//! buffers; column data goes straight from the chunk into the columns' own aligned buffers.
//!
//! When a block completes, [`BlockDecoder::feed`] returns it as a [`Block`] borrowing the decoder (one
//! live block at a time). The next `feed` clears the columns, whose buffers keep their capacity, so
//! after the first blocks have sized them the steady state allocates nothing per block. Column decoders
//! are kept and reused while the column types stay the same from block to block.

use super::column::{Column, ColumnDecoder};
use super::columns::decoder_for;
use super::input::{Input, VarUInt};
use crate::error::{Error, Result};
use crate::types::TypeDesc;
use crate::value::Value;

/// Longest column name or type name accepted in a block header.
const MAX_HEADER_STRING: u64 = 1 << 20;
/// Most columns accepted in one block.
const MAX_COLUMNS: u64 = 1 << 20;

/// One column of the current block.
pub struct DecodedColumn {
    name: String,
    raw_name: Vec<u8>,
    type_name: String,
    desc: TypeDesc,
    column: Box<dyn ColumnDecoder>,
}

impl DecodedColumn {
    /// Column name as the server sent it.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Column name as the bytes the server sent ([`DecodedColumn::name`] replaces bytes that are not
    /// UTF-8).
    pub fn name_bytes(&self) -> &[u8] {
        &self.raw_name
    }
    /// Type name as the server sent it.
    pub fn type_name(&self) -> &str {
        &self.type_name
    }
    /// The parsed type.
    pub fn desc(&self) -> &TypeDesc {
        &self.desc
    }
    /// The decoded data.
    pub fn column(&self) -> &dyn Column {
        self.column.as_ref()
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    /// Between blocks: nothing of the next block read yet.
    Idle,
    /// Inside the BlockInfo header (revision >= 54405): a field number, or a field's bytes.
    InfoField,
    InfoValue(u8),
    Columns,
    Rows,
    Name,
    Type,
    Prefix,
    Data,
}

/// Decodes a stream of Native blocks fed in arbitrary chunks.
pub struct BlockDecoder {
    state: State,
    columns: Vec<DecodedColumn>,
    ncols: usize,
    rows: usize,
    current: usize,
    varint: VarUInt,
    /// Bytes of the header string being assembled (name or type), and how many are still missing.
    text: Vec<u8>,
    text_missing: Option<u64>,
    name: String,
    raw_name: Vec<u8>,
    offset: u64,
    block_ready: bool,
    blocks: u64,
    block_info: bool,
    info_bytes: u8,
    /// Stream offset of the current block's header (its column count), after any BlockInfo.
    header_at: u64,
    /// Most bytes of column data one block may take (`usize::MAX`: no limit).
    max_block_bytes: usize,
    /// Bytes of column data stored by the current block's finished columns.
    block_bytes: usize,
    /// The zone of `DateTime` columns without one (the server's), for readers of the blocks.
    server_tz: String,
    /// Columns of taken blocks given back when those were dropped, reused for the next blocks.
    recycled: Option<Recycler>,
}

/// Where an [`OwnedBlock`] gives its columns back when dropped, for its decoder to reuse (their storage
/// stays allocated and mapped: no page faults for the next block).
type Recycler = std::sync::Arc<std::sync::Mutex<Vec<Vec<DecodedColumn>>>>;

/// Column sets kept for reuse; more are dropped.
const RECYCLED: usize = 8;

/// The default ceiling on one block's decoded column storage: generous (ClickHouse's blocks are
/// 65,409 rows by default), yet it stops a hostile or runaway block long before memory runs out.
pub const DEFAULT_MAX_BLOCK_BYTES: usize = 2 << 30;

impl Default for BlockDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl BlockDecoder {
    /// A decoder at the start of a stream.
    pub fn new() -> Self {
        BlockDecoder {
            state: State::Idle,
            columns: Vec::new(),
            ncols: 0,
            rows: 0,
            current: 0,
            varint: VarUInt::default(),
            text: Vec::new(),
            text_missing: None,
            name: String::new(),
            raw_name: Vec::new(),
            offset: 0,
            block_ready: false,
            blocks: 0,
            block_info: false,
            info_bytes: 0,
            header_at: 0,
            max_block_bytes: DEFAULT_MAX_BLOCK_BYTES,
            block_bytes: 0,
            server_tz: "UTC".to_string(),
            recycled: None,
        }
    }

    /// Sets the zone of `DateTime` columns that name none (the server's time zone; UTC unless set),
    /// which [`Block::server_timezone`] reports to readers of the blocks.
    pub fn set_server_timezone(&mut self, zone: &str) {
        self.server_tz = zone.to_string();
    }

    /// Sets the most bytes of column data one block may take (0: no limit). A block that needs more
    /// fails with a decode error that says so, instead of exhausting memory. (Column buffers grow by
    /// doubling and keep their capacity for later blocks, so the memory they hold stays under about
    /// twice the limit.)
    pub fn set_max_block_bytes(&mut self, bytes: usize) {
        self.max_block_bytes = if bytes == 0 { usize::MAX } else { bytes };
    }

    /// A decoder for streams whose blocks start with a BlockInfo header, as the server writes them for
    /// `client_protocol_version >= 54405` (field 1: `is_overflows` u8, field 2: `bucket_num` i32, then
    /// field 0).
    pub fn with_block_info() -> Self {
        BlockDecoder { block_info: true, ..Self::new() }
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Blocks completed so far.
    pub fn blocks(&self) -> u64 {
        self.blocks
    }

    /// Bytes of column data the current block stores (for memory accounting).
    pub fn block_bytes(&self) -> usize {
        self.columns[..self.ncols.min(self.columns.len())].iter().map(|c| c.column.stored_bytes()).sum()
    }

    /// The former name of [`BlockDecoder::block_bytes`], from when columns lived in an arena.
    #[deprecated(note = "use block_bytes: column storage is no longer an arena")]
    pub fn arena_bytes(&self) -> usize {
        self.block_bytes()
    }

    /// Consumes bytes from `chunk` (advancing it) until a block completes or the chunk is used up.
    /// Call again with the rest of the chunk after using the returned block.
    pub fn feed<'s>(&'s mut self, chunk: &mut &[u8]) -> Result<Option<Block<'s>>> {
        if self.block_ready {
            self.recycle();
        }
        let mut input = Input::new(chunk, self.offset);
        let done = self.advance(&mut input);
        *chunk = input.remaining();
        self.offset = input.offset();
        if done? {
            self.block_ready = true;
            self.blocks += 1;
            Ok(Some(Block {
                columns: &self.columns[..self.ncols],
                rows: self.rows,
                header_at: self.header_at,
                server_tz: &self.server_tz,
            }))
        } else {
            Ok(None)
        }
    }

    /// Takes the block [`BlockDecoder::feed`] just returned out of the decoder, which then decodes the
    /// next block into new columns. `None` when no block is ready.
    pub fn take_block(&mut self) -> Option<OwnedBlock> {
        if !self.block_ready {
            return None;
        }
        let mut columns = std::mem::take(&mut self.columns);
        columns.truncate(self.ncols);
        self.block_ready = false;
        let recycler = self.recycled.get_or_insert_with(Default::default).clone();
        if let Some(cols) = recycler.lock().unwrap_or_else(|e| e.into_inner()).pop() {
            // The next block decodes into the columns of one the consumer has dropped.
            self.columns = cols;
        }
        Some(OwnedBlock {
            columns,
            rows: self.rows,
            header_at: self.header_at,
            server_tz: self.server_tz.clone(),
            recycler: Some(recycler),
        })
    }

    /// Checks the stream ended on a block boundary.
    pub fn finish(&self) -> Result<()> {
        if self.state == State::Idle && !self.varint.in_progress() {
            Ok(())
        } else {
            Err(Error::decode(
                self.offset,
                format!("stream ended inside a block ({:?}, column {} of {})", self.state, self.current, self.ncols),
            ))
        }
    }

    /// Readies the decoder for the next block (each column clears its buffers when the block starts).
    fn recycle(&mut self) {
        self.block_ready = false;
    }

    /// Reads a length-prefixed header string into `self.text`; true when complete.
    fn read_text(&mut self, input: &mut Input<'_>) -> Result<bool> {
        let missing = match self.text_missing {
            Some(m) => m,
            None => match self.varint.feed(input)? {
                Some(n) if n > MAX_HEADER_STRING => {
                    return Err(input.error(format!("header string of {n} bytes is too long")));
                }
                Some(n) => {
                    self.text.clear();
                    n
                }
                None => return Ok(false),
            },
        };
        let got = input.take(missing as usize);
        self.text.extend_from_slice(got);
        let left = missing - got.len() as u64;
        self.text_missing = if left == 0 { None } else { Some(left) };
        Ok(left == 0)
    }

    fn advance(&mut self, input: &mut Input<'_>) -> Result<bool> {
        loop {
            match self.state {
                State::Idle if self.block_info => {
                    if input.is_empty() {
                        return Ok(false);
                    }
                    self.state = State::InfoField;
                }
                State::InfoField => {
                    let Some(field) = self.varint.feed(input)? else { return Ok(false) };
                    self.info_bytes = 0;
                    self.state = match field {
                        0 => {
                            self.header_at = input.offset();
                            State::Columns
                        }
                        1 => State::InfoValue(1),
                        2 => State::InfoValue(4),
                        f => return Err(input.error(format!("unknown BlockInfo field {f}"))),
                    };
                }
                State::InfoValue(len) => {
                    let got = input.take(usize::from(len - self.info_bytes));
                    self.info_bytes += got.len() as u8;
                    if self.info_bytes < len {
                        return Ok(false);
                    }
                    self.state = State::InfoField;
                }
                State::Idle | State::Columns => {
                    if input.is_empty() {
                        return Ok(false);
                    }
                    if self.state == State::Idle {
                        self.header_at = input.offset();
                    }
                    self.state = State::Columns;
                    let Some(n) = self.varint.feed(input)? else { return Ok(false) };
                    if n > MAX_COLUMNS {
                        return Err(input.error(format!("block claims {n} columns")));
                    }
                    self.ncols = n as usize;
                    self.state = State::Rows;
                }
                State::Rows => {
                    let Some(n) = self.varint.feed(input)? else { return Ok(false) };
                    self.rows = usize::try_from(n).map_err(|_| input.error("row count exceeds the address space"))?;
                    self.current = 0;
                    self.block_bytes = 0;
                    self.state = State::Name;
                    if self.ncols == 0 {
                        self.state = State::Idle;
                        return Ok(true);
                    }
                }
                State::Name => {
                    if !self.read_text(input)? {
                        return Ok(false);
                    }
                    self.name.clear();
                    self.name.push_str(&String::from_utf8_lossy(&self.text));
                    self.raw_name.clear();
                    self.raw_name.extend_from_slice(&self.text);
                    self.state = State::Type;
                }
                State::Type => {
                    if !self.read_text(input)? {
                        return Ok(false);
                    }
                    self.install_column(input)?;
                    self.state = State::Prefix;
                }
                State::Prefix => {
                    if !self.columns[self.current].column.decode_prefix(input)? {
                        return Ok(false);
                    }
                    self.state = State::Data;
                }
                State::Data => {
                    let col = &mut self.columns[self.current].column;
                    let done = col.decode(input)?;
                    // This column's bytes and the finished ones' (each counted once): constant work per
                    // call, whatever the number of columns.
                    let stored = self.block_bytes.saturating_add(col.stored_bytes());
                    if stored > self.max_block_bytes {
                        return Err(input.error(format!(
                            "block of {} rows needs more than {} bytes of column data (at column {}): \
                             raise the limit (ClientOptions::max_block_bytes, max_block_bytes=N in the URL; 0 for none) or lower max_block_size",
                            self.rows,
                            self.max_block_bytes,
                            self.current + 1
                        )));
                    }
                    if !done {
                        return Ok(false);
                    }
                    self.block_bytes = stored;
                    self.current += 1;
                    if self.current == self.ncols {
                        self.state = State::Idle;
                        return Ok(true);
                    }
                    self.state = State::Name;
                }
            }
        }
    }

    /// Sets up column `current` for the type just read, reusing the previous block's decoder when the
    /// type is unchanged.
    fn install_column(&mut self, input: &Input<'_>) -> Result<()> {
        let type_name = std::str::from_utf8(&self.text).map_err(|_| input.error("column type name is not UTF-8"))?;
        let i = self.current;
        let reuse = self.columns.get(i).is_some_and(|c| c.type_name == type_name);
        if !reuse {
            let desc = TypeDesc::parse(type_name).map_err(|e| {
                // Type names in binary form (a setting of the server's) are not text.
                let hint = if type_name.bytes().any(|b| b < 0x20) {
                    " (is output_format_native_encode_types_in_binary_format set? this client reads type names as text)"
                } else {
                    ""
                };
                input.error(format!("column {}: {e}{hint}", self.name))
            })?;
            let column = decoder_for(&desc).map_err(|e| match e {
                Error::UnsupportedType(t) => input.error(format!(
                    "column {:?} has type {type_name}, which this client cannot decode yet (unsupported type {t})",
                    self.name
                )),
                other => other,
            })?;
            let c = DecodedColumn {
                name: String::new(),
                raw_name: Vec::new(),
                type_name: type_name.to_string(),
                desc,
                column,
            };
            if i < self.columns.len() {
                self.columns[i] = c;
            } else {
                self.columns.push(c);
            }
        }
        let c = &mut self.columns[i];
        std::mem::swap(&mut c.name, &mut self.name);
        std::mem::swap(&mut c.raw_name, &mut self.raw_name);
        c.column.start(self.rows);
        Ok(())
    }
}

/// A decoded block, borrowing the decoder until the next `feed`.
pub struct Block<'a> {
    columns: &'a [DecodedColumn],
    rows: usize,
    header_at: u64,
    server_tz: &'a str,
}

impl<'a> Block<'a> {
    /// The zone of this block's `DateTime` columns that name none: the server's, when the block came
    /// from a [`crate::Client`] (see [`BlockDecoder::set_server_timezone`]).
    pub fn server_timezone(&self) -> &'a str {
        self.server_tz
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Stream offset where this block's header (its column count) starts, after any BlockInfo: its
    /// bytes from there to the decoder's offset are the block as plain Native.
    pub fn header_offset(&self) -> u64 {
        self.header_at
    }

    /// The columns in server order.
    pub fn columns(&self) -> &'a [DecodedColumn] {
        self.columns
    }

    /// A column by name.
    pub fn column(&self, name: &str) -> Option<&'a DecodedColumn> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// One row's values.
    pub fn row(&self, row: usize) -> Vec<Value<'a>> {
        self.columns.iter().map(|c| c.column.value(row)).collect()
    }
}

/// A block that owns its columns, moved out of its decoder by [`BlockDecoder::take_block`] (the decoder
/// starts the next block with new columns): it can be kept, and sent to another thread — what the
/// async client's streams hand out. [`OwnedBlock::block`] reads it as a [`Block`].
pub struct OwnedBlock {
    columns: Vec<DecodedColumn>,
    rows: usize,
    header_at: u64,
    server_tz: String,
    recycler: Option<Recycler>,
}

impl Drop for OwnedBlock {
    fn drop(&mut self) {
        if let Some(r) = self.recycler.take() {
            let mut pool = r.lock().unwrap_or_else(|e| e.into_inner());
            if pool.len() < RECYCLED {
                pool.push(std::mem::take(&mut self.columns));
            }
        }
    }
}

impl OwnedBlock {
    /// The block to read.
    pub fn block(&self) -> Block<'_> {
        Block { columns: &self.columns, rows: self.rows, header_at: self.header_at, server_tz: &self.server_tz }
    }
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }
    /// The columns in server order.
    pub fn columns(&self) -> &[DecodedColumn] {
        &self.columns
    }
    /// A column by name.
    pub fn column(&self, name: &str) -> Option<&DecodedColumn> {
        self.columns.iter().find(|c| c.name == name)
    }
    /// One row's values.
    pub fn row(&self, row: usize) -> Vec<Value<'_>> {
        self.block().row(row)
    }
}

impl std::fmt::Debug for OwnedBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnedBlock")
            .field("rows", &self.rows)
            .field("columns", &self.columns.iter().map(|c| (&c.name, &c.type_name)).collect::<Vec<_>>())
            .finish()
    }
}

/// Keeps the bytes of the block a [`BlockDecoder`] is decoding, so that each finished block comes with
/// its exact encoding as plain Native (from its header on, without BlockInfo): for passing checked
/// blocks on without re-encoding them. Costs one copy of the stream.
#[derive(Default)]
pub struct BlockBytes {
    bytes: Vec<u8>,
    /// Stream offset of `bytes[0]`.
    from: u64,
    /// A block was handed out: its bytes go at the next call.
    handed_out: bool,
}

impl BlockBytes {
    /// Empty, at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// [`BlockDecoder::feed`], keeping what it consumes; a finished block comes with its bytes.
    pub fn feed<'d>(&mut self, decoder: &'d mut BlockDecoder, chunk: &mut &[u8]) -> Result<Option<(Block<'d>, &[u8])>> {
        if self.handed_out {
            self.from += self.bytes.len() as u64;
            self.bytes.clear();
            self.handed_out = false;
        }
        let before = *chunk;
        let block = decoder.feed(chunk)?;
        self.bytes.extend_from_slice(&before[..before.len() - chunk.len()]);
        let Some(block) = block else { return Ok(None) };
        self.handed_out = true;
        let raw = self.bytes.get((block.header_offset() - self.from) as usize..).unwrap_or_default();
        Ok(Some((block, raw)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_bytes() -> Vec<u8> {
        // Produced by ClickHouse 26.9: SELECT number, toString(number) s FROM numbers(3) FORMAT Native
        vec![
            0x02, 0x03, 0x06, b'n', b'u', b'm', b'b', b'e', b'r', 0x06, b'U', b'I', b'n', b't', b'6', b'4', 0, 0, 0, 0,
            0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0x01, b's', 0x06, b'S', b't', b'r', b'i', b'n',
            b'g', 0x01, b'0', 0x01, b'1', 0x01, b'2',
        ]
    }

    fn decode_all(chunks: &[&[u8]]) -> Result<Vec<Vec<Value<'static>>>> {
        let mut d = BlockDecoder::new();
        let mut out = Vec::new();
        for c in chunks {
            let mut c = *c;
            while let Some(b) = d.feed(&mut c)? {
                for r in 0..b.rows() {
                    out.push(b.row(r).into_iter().map(Value::into_owned).collect());
                }
            }
        }
        d.finish()?;
        Ok(out)
    }

    #[test]
    fn every_split_gives_the_same_rows() {
        let bytes = block_bytes();
        let whole = decode_all(&[&bytes]).unwrap();
        assert_eq!(whole.len(), 3);
        assert_eq!(whole[2][0], Value::UInt64(2));
        assert_eq!(whole[2][1].as_str(), Some("2"));
        for cut in 0..=bytes.len() {
            assert_eq!(decode_all(&[&bytes[..cut], &bytes[cut..]]).unwrap(), whole, "cut at {cut}");
        }
        let singles: Vec<&[u8]> = bytes.chunks(1).collect();
        assert_eq!(decode_all(&singles).unwrap(), whole);
    }

    #[test]
    fn truncation_is_an_error_at_every_length() {
        let bytes = block_bytes();
        for cut in 1..bytes.len() {
            assert!(decode_all(&[&bytes[..cut]]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn huge_length_prefix_fails_fast_without_allocating() {
        // A row count whose byte size overflows is rejected at once.
        let mut b = vec![0x01];
        crate::native::input::write_varuint(&mut b, 1 << 62);
        b.extend_from_slice(b"\x01a\x06UInt64");
        b.extend_from_slice(&[0; 64]);
        let mut s = &b[..];
        assert!(BlockDecoder::new().feed(&mut s).is_err());

        // One UInt64 column claiming 2^40 rows (8 TB), and a String column claiming a 4 GB string.
        let mut b = vec![0x01];
        crate::native::input::write_varuint(&mut b, 1 << 40);
        b.extend_from_slice(b"\x01a\x06UInt64");
        b.extend_from_slice(&[0; 64]);
        let mut d = BlockDecoder::new();
        let mut s = &b[..];
        assert!(d.feed(&mut s).unwrap().is_none());
        assert!(d.finish().is_err());
        assert!(d.block_bytes() < 1 << 20);

        let mut b = vec![0x01, 0x01];
        b.extend_from_slice(b"\x01a\x06String");
        crate::native::input::write_varuint(&mut b, 4 << 30);
        b.extend_from_slice(&[b'x'; 100]);
        let mut d = BlockDecoder::new();
        let mut s = &b[..];
        assert!(d.feed(&mut s).unwrap().is_none());
        assert!(d.finish().is_err());
        assert!(d.block_bytes() < 1 << 20);
    }

    #[test]
    fn unsupported_types_are_named() {
        let mut b = vec![0x01, 0x01];
        b.extend_from_slice(b"\x01d\x07Dynamic");
        b.extend_from_slice(&[0; 16]);
        let mut d = BlockDecoder::new();
        let mut s = &b[..];
        let e = d.feed(&mut s).err().expect("must fail");
        assert!(e.to_string().contains("Dynamic"), "{e}");
    }
}
