//! Row readers for insert input: `JSONEachRow`, `TabSeparated`, `CSV` and `Native`, each turning a byte
//! stream into rows of [`Value`]s of the table's column types.
//!
//! Every error is an [`Error::Input`] with the row, the line it starts on and the column; a reader stops
//! at the first error, so a caller that has sent only whole earlier rows reports exactly those.
//!
//! `JSONEachRow` is parsed with simd-json after one pass over the line that (1) puts every bare number in
//! quotes, so numbers reach the type-directed conversion as their exact text (simd-json would turn a
//! 40-digit decimal or a UInt256 into a lossy `f64`), and (2) only when the line is not valid UTF-8 —
//! the server writes string bytes as they are — maps each byte that is not part of valid UTF-8 to a
//! private-use character (U+10FF00 + byte) and back after parsing, so any bytes survive. A line that
//! legitimately contains those private-use characters has their bytes mapped too, so the round trip is
//! exact for every input.

use super::csv::csv_fields;
use super::parse::{TextParser, is_composite, nested_as_array, null_for};
use super::text::strip;
use crate::error::{Error, Result};
use crate::native::{BlockBytes, BlockDecoder, TypeDesc};
use crate::value::Value;
use simd_json::BorrowedValue;
use simd_json::prelude::*;
use std::borrow::Cow;
use std::io::{BufRead, Read};

/// Reads rows of values.
pub trait RowReader {
    /// Fills `row` (cleared first) with the next row; false at the end of the input.
    fn next_row(&mut self, row: &mut Vec<Value<'static>>) -> Result<bool>;
}

/// The input formats `chc insert` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputFormat {
    /// One JSON object per line.
    JsonEachRow,
    /// Tab-separated, escaped fields.
    TabSeparated,
    /// Comma-separated, double-quoted fields.
    Csv,
    /// ClickHouse's columnar blocks.
    Native,
}

impl InputFormat {
    /// `JSONEachRow`, `TSV`/`TabSeparated`, `CSV`, `Native` (case-insensitive).
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "jsoneachrow" | "jsonl" | "ndjson" => InputFormat::JsonEachRow,
            "tsv" | "tabseparated" => InputFormat::TabSeparated,
            "csv" => InputFormat::Csv,
            "native" => InputFormat::Native,
            _ => return None,
        })
    }
}

/// A reader of `format` over `input` for columns `(name, type)`; `server_tz` is for date-times
/// without a zone.
pub fn reader<'a>(
    format: InputFormat,
    input: Box<dyn BufRead + 'a>,
    columns: &[(String, TypeDesc)],
    server_tz: &str,
) -> Box<dyn RowReader + 'a> {
    let columns = columns.to_vec();
    match format {
        InputFormat::JsonEachRow => Box::new(JsonEachRowReader::new(input, columns, server_tz)),
        InputFormat::TabSeparated => Box::new(TsvReader::new(input, columns, server_tz)),
        InputFormat::Csv => Box::new(CsvReader::new(input, columns, server_tz)),
        InputFormat::Native => Box::new(NativeReader::new(input, columns)),
    }
}

fn input_error(row: u64, line: u64, column: Option<&str>, message: impl Into<String>) -> Error {
    // Messages quote the bad input; whatever quoted it, a message stays short.
    let message = message.into();
    let message = if message.len() > 400 { crate::error::excerpt(message.as_bytes(), 400) } else { message };
    let column = column.map(|c| crate::error::excerpt(c.as_bytes(), crate::error::EXCERPT));
    Error::Input { row, line, column, message }
}

/// Reads one `\n`-terminated line into `buf` (without the `\n`); false at the end.
fn read_line(input: &mut dyn BufRead, buf: &mut Vec<u8>, row: u64, line: u64) -> Result<bool> {
    buf.clear();
    let n = input.read_until(b'\n', buf).map_err(|e| input_error(row, line, None, format!("read failed: {e}")))?;
    if n == 0 {
        return Ok(false);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
    }
    Ok(true)
}

/// `JSONEachRow`: one JSON object per line; keys are column names; a missing key is the column's
/// default; an unknown key is an error (as the server's default `input_format_skip_unknown_fields`).
pub struct JsonEachRowReader<R> {
    input: R,
    columns: Vec<(String, TypeDesc)>,
    parser: TextParser,
    line: Vec<u8>,
    prepared: Vec<u8>,
    buffers: simd_json::Buffers,
    row: u64,
    line_no: u64,
}

impl<R: BufRead> JsonEachRowReader<R> {
    /// A reader over `input`.
    pub fn new(input: R, columns: Vec<(String, TypeDesc)>, server_tz: &str) -> Self {
        JsonEachRowReader {
            input,
            columns,
            parser: TextParser::new(server_tz),
            line: Vec::new(),
            prepared: Vec::new(),
            buffers: simd_json::Buffers::default(),
            row: 0,
            line_no: 0,
        }
    }
}

impl<R: BufRead> RowReader for JsonEachRowReader<R> {
    fn next_row(&mut self, row: &mut Vec<Value<'static>>) -> Result<bool> {
        row.clear();
        loop {
            self.line_no += 1;
            if !read_line(&mut self.input, &mut self.line, self.row + 1, self.line_no)? {
                return Ok(false);
            }
            if !self.line.iter().all(u8::is_ascii_whitespace) {
                break;
            }
        }
        self.row += 1;
        let (r, l) = (self.row, self.line_no);
        let marked = prepare_json(&self.line, &mut self.prepared);
        let doc = simd_json::value::borrowed::to_value_with_buffers(&mut self.prepared, &mut self.buffers)
            .map_err(|e| input_error(r, l, None, format!("not a JSON object: {e}")))?;
        let Some(object) = doc.as_object() else {
            return Err(input_error(r, l, None, "not a JSON object"));
        };
        // Each key to its column (keys usually come in the table's order: try the next column first).
        let mut slots: [Option<&BorrowedValue<'_>>; 32] = [None; 32];
        let mut spill: Vec<Option<&BorrowedValue<'_>>> = Vec::new();
        let slots: &mut [Option<&BorrowedValue<'_>>] = if self.columns.len() <= 32 {
            &mut slots[..self.columns.len()]
        } else {
            spill.resize(self.columns.len(), None);
            &mut spill
        };
        let mut next = 0;
        for (k, j) in object.iter() {
            let at = if self.columns.get(next).is_some_and(|(n, _)| n == k.as_ref()) {
                Some(next)
            } else {
                self.columns.iter().position(|(n, _)| n == k.as_ref())
            };
            let Some(at) = at else { return Err(input_error(r, l, Some(k), "no such column in the table")) };
            slots[at] = Some(j);
            next = at + 1;
        }
        for ((name, t), j) in self.columns.iter().zip(slots.iter()) {
            let v = match j {
                Some(j) => json_value(&mut self.parser, j, t, marked, 0),
                None => Ok(Value::default_of(t)),
            };
            row.push(v.map_err(|m| input_error(r, l, Some(name), m))?);
        }
        Ok(true)
    }
}

/// Copies `line` to `out` with bare numbers quoted and, when the line is not valid UTF-8 (or holds the
/// marker characters), every offending byte as a marker character. Returns whether markers are in use.
fn prepare_json(line: &[u8], out: &mut Vec<u8>) -> bool {
    out.clear();
    // Marker characters (U+10FF00…) start with F4 8F; F4 alone is rare, so look for it first.
    let needs_markers =
        std::str::from_utf8(line).is_err() || memchr::memchr_iter(0xF4, line).any(|i| line.get(i + 1) == Some(&0x8F));
    let marked;
    let src: &[u8] = if needs_markers {
        marked = mark_bytes(line);
        &marked
    } else {
        line
    };
    out.reserve(src.len() + 16);
    let mut i = 0;
    while i < src.len() {
        let c = src[i];
        if c == b'"' {
            // Copy the string through its closing quote (skipping to each quote or backslash).
            let start = i;
            i += 1;
            loop {
                match memchr::memchr2(b'"', b'\\', &src[i.min(src.len())..]) {
                    Some(at) if src[i + at] == b'"' => {
                        i += at;
                        break;
                    }
                    Some(at) => i += at + 2,
                    None => {
                        i = src.len(); // unterminated: the rest of the line, as it is
                        break;
                    }
                }
            }
            i = (i + 1).min(src.len());
            out.extend_from_slice(&src[start..i]);
        } else if c == b'-' || c.is_ascii_digit() {
            let start = i;
            while i < src.len() && matches!(src[i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') {
                i += 1;
            }
            out.push(b'"');
            out.extend_from_slice(&src[start..i]);
            out.push(b'"');
        } else {
            out.push(c);
            i += 1;
        }
    }
    needs_markers
}

/// Bytes that are not valid UTF-8, and the bytes of characters U+10FF00–U+10FFFF, each as the marker
/// character U+10FF00 + byte (`F4 8F BC|BD|BE|BF xx`).
fn mark_bytes(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() + 16);
    let mark = |out: &mut Vec<u8>, b: u8| out.extend_from_slice(&[0xF4, 0x8F, 0xBC | (b >> 6), 0x80 | (b & 0x3F)]);
    for chunk in s.utf8_chunks() {
        for ch in chunk.valid().chars() {
            let mut buf = [0u8; 4];
            let encoded = ch.encode_utf8(&mut buf).as_bytes();
            if ('\u{10FF00}'..='\u{10FFFF}').contains(&ch) {
                encoded.iter().for_each(|&b| mark(&mut out, b));
            } else {
                out.extend_from_slice(encoded);
            }
        }
        chunk.invalid().iter().for_each(|&b| mark(&mut out, b));
    }
    out
}

/// The original bytes of a string that may hold marker characters.
fn unmark(s: &str) -> Cow<'_, [u8]> {
    let b = s.as_bytes();
    if memchr::memmem::find(b, b"\xF4\x8F").is_none() {
        return Cow::Borrowed(b);
    }
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == 0xF4 && b.get(i + 1) == Some(&0x8F) && b.get(i + 2).is_some_and(|c| (0xBC..=0xBF).contains(c)) {
            if let Some(&last) = b.get(i + 3) {
                out.push(((b[i + 2] & 0x03) << 6) | (last & 0x3F));
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    Cow::Owned(out)
}

/// A JSON value as a value of type `t`.
fn json_value(
    p: &mut TextParser,
    j: &BorrowedValue<'_>,
    t: &TypeDesc,
    marked: bool,
    depth: u32,
) -> std::result::Result<Value<'static>, String> {
    if depth > 64 {
        return Err("values nested too deeply".into());
    }
    if let Some(as_array) = nested_as_array(t) {
        return json_value(p, j, &as_array, marked, depth);
    }
    if j.is_null() {
        // The server reads null for a non-Nullable column as its default.
        return Ok(null_for(t).unwrap_or_else(|_| Value::default_of(t)));
    }
    let inner = strip(t);
    if let Some(b) = j.as_bool() {
        return match inner {
            TypeDesc::Bool => Ok(Value::Bool(b)),
            _ => p.scalar(if b { b"1" } else { b"0" }, t),
        };
    }
    if let Some(s) = j.as_str() {
        let bytes = if marked { unmark(s) } else { Cow::Borrowed(s.as_bytes()) };
        return p.scalar(&bytes, t);
    }
    if let Some(items) = j.as_array() {
        // Element types: one for every element of an array, one per position of a tuple.
        let geo;
        let (same, per_position): (Option<&TypeDesc>, &[(Option<String>, TypeDesc)]) = match inner {
            TypeDesc::Array(e) => (Some(e.as_ref()), &[]),
            TypeDesc::Tuple(e) => (None, e.as_slice()),
            TypeDesc::Point if items.len() == 2 => (Some(&TypeDesc::Float64), &[]),
            geo_type if is_composite(geo_type) && !matches!(geo_type, TypeDesc::Point) => {
                geo = super::text::geo_element(geo_type);
                (Some(&geo), &[])
            }
            TypeDesc::Point => return Err(format!("{} elements for {inner}", items.len())),
            other => return Err(format!("a JSON array for a column of type {other}")),
        };
        if same.is_none() && per_position.len() != items.len() {
            return Err(format!("{} elements for {inner}", items.len()));
        }
        let values = items
            .iter()
            .enumerate()
            .map(|(i, x)| json_value(p, x, same.unwrap_or_else(|| &per_position[i].1), marked, depth + 1))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        return Ok(match inner {
            TypeDesc::Tuple(_) | TypeDesc::Point => Value::Tuple(values),
            _ => Value::Array(values),
        });
    }
    if let Some(object) = j.as_object() {
        return match inner {
            TypeDesc::Map(kt, vt) => {
                let mut entries = Vec::with_capacity(object.len());
                for (k, v) in object.iter() {
                    let key = if marked { unmark(k) } else { Cow::Borrowed(k.as_bytes()) };
                    entries.push((p.scalar(&key, kt)?, json_value(p, v, vt, marked, depth + 1)?));
                }
                Ok(Value::Map(entries))
            }
            TypeDesc::Tuple(elems) => {
                let mut values = Vec::with_capacity(elems.len());
                for (i, (name, et)) in elems.iter().enumerate() {
                    let key = name.clone().unwrap_or_else(|| (i + 1).to_string());
                    values.push(match object.get(key.as_str()) {
                        Some(x) => json_value(p, x, et, marked, depth + 1)?,
                        None => Value::default_of(et),
                    });
                }
                Ok(Value::Tuple(values))
            }
            other => Err(format!("a JSON object for a column of type {other}")),
        };
    }
    Err(format!("unexpected JSON for {inner}"))
}

/// `TabSeparated`: one row per line, fields split at tabs, escaped as the server writes them.
pub struct TsvReader<R> {
    input: R,
    columns: Vec<(String, TypeDesc)>,
    parser: TextParser,
    line: Vec<u8>,
    row: u64,
}

impl<R: BufRead> TsvReader<R> {
    /// A reader over `input`.
    pub fn new(input: R, columns: Vec<(String, TypeDesc)>, server_tz: &str) -> Self {
        TsvReader { input, columns, parser: TextParser::new(server_tz), line: Vec::new(), row: 0 }
    }
}

impl<R: BufRead> RowReader for TsvReader<R> {
    fn next_row(&mut self, row: &mut Vec<Value<'static>>) -> Result<bool> {
        row.clear();
        if !read_line(&mut self.input, &mut self.line, self.row + 1, self.row + 1)? {
            return Ok(false);
        }
        self.row += 1;
        let r = self.row;
        let fields: Vec<&[u8]> = self.line.split(|&c| c == b'\t').collect();
        if fields.len() != self.columns.len() {
            return Err(input_error(
                r,
                r,
                None,
                format!("{} fields, the table has {} columns", fields.len(), self.columns.len()),
            ));
        }
        for ((name, t), field) in self.columns.iter().zip(fields) {
            row.push(self.parser.tsv_field(field, t).map_err(|m| input_error(r, r, Some(name), m))?);
        }
        Ok(true)
    }
}

/// `CSV`: RFC 4180 records (quoted fields may span lines); `\N` is NULL; arrays and maps are their
/// quoted text; a tuple column takes one field per element.
pub struct CsvReader<R> {
    records: csv::Reader<R>,
    record: csv::ByteRecord,
    columns: Vec<(String, TypeDesc)>,
    parser: TextParser,
    row: u64,
}

impl<R: Read> CsvReader<R> {
    /// A reader over `input`.
    pub fn new(input: R, columns: Vec<(String, TypeDesc)>, server_tz: &str) -> Self {
        let records = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(input);
        CsvReader { records, record: csv::ByteRecord::new(), columns, parser: TextParser::new(server_tz), row: 0 }
    }

    /// Consumes the fields of one column from `fields`.
    fn column(
        parser: &mut TextParser,
        fields: &mut dyn Iterator<Item = &[u8]>,
        t: &TypeDesc,
    ) -> std::result::Result<Value<'static>, String> {
        match strip(t) {
            TypeDesc::Tuple(types) => types
                .iter()
                .map(|(_, et)| Self::column(parser, fields, et))
                .collect::<std::result::Result<Vec<_>, _>>()
                .map(Value::Tuple),
            TypeDesc::Point => Ok(Value::Tuple(vec![
                Self::column(parser, fields, &TypeDesc::Float64)?,
                Self::column(parser, fields, &TypeDesc::Float64)?,
            ])),
            _ => {
                let f = fields.next().ok_or("missing field")?;
                match (f, null_for(t)) {
                    (b"\\N", Ok(null)) => Ok(null),
                    _ => parser.scalar(f, t),
                }
            }
        }
    }
}

impl<R: Read> RowReader for CsvReader<R> {
    fn next_row(&mut self, row: &mut Vec<Value<'static>>) -> Result<bool> {
        row.clear();
        let line = self.records.position().line();
        let more = self
            .records
            .read_byte_record(&mut self.record)
            .map_err(|e| input_error(self.row + 1, line, None, format!("not CSV: {e}")))?;
        if !more {
            return Ok(false);
        }
        self.row += 1;
        let (r, l) = (self.row, self.record.position().map_or(line, |p| p.line()));
        let want: usize = self.columns.iter().map(|(_, t)| csv_fields(t)).sum();
        if self.record.len() != want {
            return Err(input_error(
                r,
                l,
                None,
                format!("{} fields, the table's columns take {want}", self.record.len()),
            ));
        }
        let mut fields = self.record.iter();
        for (name, t) in &self.columns {
            row.push(Self::column(&mut self.parser, &mut fields, t).map_err(|m| input_error(r, l, Some(name), m))?);
        }
        Ok(true)
    }
}

/// `Native`: blocks as the server writes them; columns are matched by name.
///
/// Read row by row ([`RowReader`]), or block by block with [`NativeReader::for_each_block`], which also
/// hands over each block's exact bytes so that a block already in the table's shape can be sent on as
/// it is ([`crate::Inserter::write_native_block`]) instead of being decoded into values and re-encoded.
pub struct NativeReader<R> {
    src: NativeBlocks<R>,
    columns: Vec<(String, TypeDesc)>,
    pending: std::collections::VecDeque<Vec<Value<'static>>>,
    row: u64,
}

/// The Native input decoded block by block, keeping the bytes of the block being read.
struct NativeBlocks<R> {
    input: R,
    decoder: BlockDecoder,
    buf: Vec<u8>,
    block: BlockBytes,
    /// Rows in the blocks handed out so far.
    rows: u64,
    done: bool,
}

impl<R: BufRead> NativeBlocks<R> {
    /// Reads one chunk and hands every block it completes to `f` with its bytes. `false` at the end.
    fn pump(&mut self, f: &mut dyn FnMut(&crate::native::Block<'_>, &[u8]) -> Result<()>) -> Result<bool> {
        if self.done {
            return Ok(false);
        }
        let at = self.rows + 1;
        let n = self.input.read(&mut self.buf).map_err(|e| input_error(at, 0, None, format!("read failed: {e}")))?;
        if n == 0 {
            self.done = true;
            self.decoder.finish().map_err(|e| input_error(at, 0, None, e.to_string()))?;
            return Ok(false);
        }
        let mut chunk = &self.buf[..n];
        loop {
            let at = self.rows + 1;
            let fed = self.block.feed(&mut self.decoder, &mut chunk);
            let Some((block, raw)) = fed.map_err(|e| input_error(at, 0, None, e.to_string()))? else {
                return Ok(true);
            };
            f(&block, raw)?;
            self.rows += block.rows() as u64;
        }
    }
}

impl<R: BufRead> NativeReader<R> {
    /// A reader over `input`.
    pub fn new(input: R, columns: Vec<(String, TypeDesc)>) -> Self {
        NativeReader {
            src: NativeBlocks {
                input,
                decoder: BlockDecoder::new(),
                buf: vec![0; 1 << 16],
                block: BlockBytes::new(),
                rows: 0,
                done: false,
            },
            columns,
            pending: Default::default(),
            row: 0,
        }
    }

    /// Reads the whole input, handing each decoded block and its exact bytes to `f` (an error from `f`
    /// stops the reading). Mixing this with [`RowReader::next_row`] on one reader is not supported.
    pub fn for_each_block(&mut self, mut f: impl FnMut(&crate::native::Block<'_>, &[u8]) -> Result<()>) -> Result<()> {
        while self.src.pump(&mut f)? {}
        Ok(())
    }
}

/// A Native `block`'s rows as values of the table's `columns` (matched by name, in the table's order),
/// each handed to `f`; `first_row` (1-based, in the whole input) is for error messages.
pub fn native_block_rows(
    columns: &[(String, TypeDesc)],
    block: &crate::native::Block<'_>,
    first_row: u64,
    mut f: impl FnMut(Vec<Value<'static>>) -> Result<()>,
) -> Result<()> {
    let mut index = Vec::with_capacity(columns.len());
    for (name, _) in columns {
        let i = block.columns().iter().position(|c| c.name() == name);
        index.push(i.ok_or_else(|| input_error(first_row, 0, Some(name), "not in the Native input"))?);
    }
    for r in 0..block.rows() {
        f(index.iter().map(|&i| block.columns()[i].column().value(r).into_owned()).collect())?;
    }
    Ok(())
}

impl<R: BufRead> RowReader for NativeReader<R> {
    fn next_row(&mut self, row: &mut Vec<Value<'static>>) -> Result<bool> {
        row.clear();
        while self.pending.is_empty() {
            let (columns, pending, first) = (&self.columns, &mut self.pending, self.row + 1);
            if !self.src.pump(&mut |block, _| {
                native_block_rows(columns, block, first, |r| {
                    pending.push_back(r);
                    Ok(())
                })
            })? {
                return Ok(false);
            }
        }
        self.row += 1;
        *row = self.pending.pop_front().unwrap_or_default();
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(spec: &[(&str, &str)]) -> Vec<(String, TypeDesc)> {
        spec.iter().map(|(n, t)| (n.to_string(), TypeDesc::parse(t).unwrap())).collect()
    }

    #[test]
    fn json_numbers_stay_exact_and_bytes_survive() {
        let columns = cols(&[("d", "Decimal(76, 30)"), ("s", "String"), ("u", "UInt256")]);
        let input = b"{\"d\":-1234567890123456789012345678901234567890.123456789012345678901234567890,\"s\":\"a\xff\xf4\x8f\xbc\x80b\",\"u\":115792089237316195423570985008687907853269984665640564039457584007913129639935}\n".to_vec();
        let mut r = JsonEachRowReader::new(&input[..], columns, "UTC");
        let mut row = Vec::new();
        assert!(r.next_row(&mut row).unwrap());
        assert!(matches!(row[0], Value::Decimal256 { scale: 30, .. }));
        assert_eq!(row[1], Value::from(&b"a\xff\xf4\x8f\xbc\x80b"[..]));
        assert_eq!(row[2], Value::UInt256([u64::MAX; 4]));
        assert!(!r.next_row(&mut row).unwrap());
    }

    #[test]
    fn json_keys_in_any_order_defaults_escapes_and_composites() {
        let columns = cols(&[
            ("a", "UInt8"),
            ("b", "String"),
            ("t", "Tuple(UInt8, String)"),
            ("n", "Array(Array(UInt16))"),
            ("p", "Point"),
            ("r", "Ring"),
        ]);
        let input = br#"{"r":[[0,0],[1.5,-1]],"b":"x\"y\\z","p":[1.5,2],"n":[[1,2],[]],"t":[7,"q"],"a":1}
{"a":2}
{"a":3,"c":1}
{"a":4,"p":[1,2,3]}
{"a":5,"b":"unterminated}
"#;
        let mut r = JsonEachRowReader::new(&input[..], columns, "UTC");
        let mut row = Vec::new();
        assert!(r.next_row(&mut row).unwrap());
        assert_eq!(row[0], Value::UInt8(1));
        assert_eq!(row[1], Value::from("x\"y\\z"));
        assert_eq!(row[2], Value::Tuple(vec![Value::UInt8(7), Value::from("q")]));
        let u16s = |v: &[u16]| Value::Array(v.iter().map(|&x| Value::UInt16(x)).collect());
        assert_eq!(row[3], Value::Array(vec![u16s(&[1, 2]), u16s(&[])]));
        assert_eq!(row[4], Value::Tuple(vec![Value::Float64(1.5), Value::Float64(2.0)]));
        let point = |x: f64, y: f64| Value::Tuple(vec![Value::Float64(x), Value::Float64(y)]);
        assert_eq!(row[5], Value::Array(vec![point(0.0, 0.0), point(1.5, -1.0)]));
        assert!(r.next_row(&mut row).unwrap(), "missing keys take defaults");
        assert_eq!((&row[0], &row[1]), (&Value::UInt8(2), &Value::from("")));
        let e = r.next_row(&mut row).unwrap_err();
        assert!(matches!(&e, Error::Input { row: 3, column: Some(c), .. } if c == "c"), "{e}");
        let e = r.next_row(&mut row).unwrap_err();
        assert!(matches!(&e, Error::Input { row: 4, column: Some(c), .. } if c == "p"), "{e}");
        let e = r.next_row(&mut row).unwrap_err();
        assert!(matches!(&e, Error::Input { row: 5, column: None, .. }), "{e}");
    }

    #[test]
    fn errors_name_row_line_and_column() {
        let columns = cols(&[("a", "UInt8"), ("b", "String")]);
        let mut r = TsvReader::new(&b"1\tx\n300\ty\n"[..], columns.clone(), "UTC");
        let mut row = Vec::new();
        assert!(r.next_row(&mut row).unwrap());
        let e = r.next_row(&mut row).unwrap_err();
        assert!(matches!(&e, Error::Input { row: 2, line: 2, column: Some(c), .. } if c == "a"), "{e}");
        let mut r = CsvReader::new(&b"1,\"multi\nline\"\n2\n"[..], columns, "UTC");
        assert!(r.next_row(&mut row).unwrap());
        assert_eq!(row[1], Value::from("multi\nline"));
        let e = r.next_row(&mut row).unwrap_err();
        assert!(matches!(&e, Error::Input { row: 2, line: 3, .. }), "{e}");
    }
}
