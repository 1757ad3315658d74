//! Text input read exactly as the server reads it: `TabSeparated`, `CSV` and `JSONEachRow` rows for
//! `chc insert` and [`crate::Client::input_rows`] / [`crate::Client::copy_input`].
//!
//! ClickHouse's text readers accept far more than they write — `+1`, `1e3` for a Decimal, dates in a
//! dozen layouts, escapes that mean something only to them, a carriage return that is an error on the
//! first row and part of the value on the next, a header row skipped because it looks like one — and
//! every such rule has its exceptions. Instead of copying them, the reader splits the input into rows
//! exactly as the server does ([`split`]), reads a row itself only when every field is in a
//! *canonical* form — the way the server writes that value, inside the type's range (`strict.rs`) — and
//! hands every other row, as its exact bytes, to the server's own parser ([`ServerParser`]; the client
//! asks the server for `SELECT * FROM format(…)` of those rows). So a value is either read the one way
//! there is, or read by the server; an error is the server's, at the same row.
//!
//! Data the server wrote (and most data any tool writes) is canonical and never leaves the client; a
//! file in a foreign dialect costs one extra round trip per batch of such rows. Rows are handed to the
//! server in batches of up to [`BATCH_ROWS`] rows or [`BATCH_BYTES`] bytes; a batch that does not start
//! at the first row is preceded by a row of defaults, so that what the server checks only on a file's
//! first row (a header, a carriage return) is checked only there.
//!
//! Settings that change how the server reads text (`input_format_*`, `format_*`,
//! `date_time_input_format`, time zone settings) switch the canonical reading off: every row then goes
//! to the server, with those settings.

pub mod split;
pub(crate) mod strict;

use crate::error::{Error, Result};
use crate::format::read::{InputFormat, RowReader};
use crate::format::text::{TextRenderer, strip};
use crate::types::TypeDesc;
use crate::value::Value;
use split::{RowSpan, Splitter};
use std::collections::VecDeque;
use std::io::BufRead;
use strict::{Json, Strict};

/// Most rows handed to the server at once.
pub const BATCH_ROWS: usize = 10_000;
/// Most bytes handed to the server at once (a single longer row is handed over alone).
pub const BATCH_BYTES: usize = 1 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    Tsv,
    Csv,
    Json,
}

impl Format {
    fn of(f: InputFormat) -> Option<Format> {
        match f {
            InputFormat::TabSeparated => Some(Format::Tsv),
            InputFormat::Csv => Some(Format::Csv),
            InputFormat::JsonEachRow => Some(Format::Json),
            InputFormat::Native => None,
        }
    }
}

/// The server's verdict on rows the reader could not read itself.
#[derive(Debug)]
pub enum ServerVerdict {
    /// The rows' values, one row per input row.
    Rows(Vec<Vec<Value<'static>>>),
    /// The server rejected the rows: the 1-based row it names (when it names one) and its message.
    Rejected {
        /// The 1-based row of the data handed over.
        row: Option<u64>,
        /// The server's message.
        message: String,
    },
}

/// Reads rows with the server's own parser (the client asks the server for `SELECT * FROM format(…)`).
pub trait ServerParser {
    /// Reads `data` — whole rows in `format`, for the reader's columns — as the server does;
    /// `mid_input` when `data` does not start at the start of the input (its first row is then a row of
    /// defaults, and no header may be detected in it). `Err` is a failure to ask (the connection, the
    /// server's own trouble, a user who may not run the query), not a verdict on the data.
    fn parse(&mut self, format: InputFormat, data: &[u8], mid_input: bool) -> Result<ServerVerdict>;

    /// [`ServerParser::parse`] of rows that end the input (`at_end`) or not: settings about the
    /// input's end (`input_format_*_skip_trailing_empty_lines`) apply to the last rows only.
    fn parse_at_end(
        &mut self,
        format: InputFormat,
        data: &[u8],
        mid_input: bool,
        at_end: bool,
    ) -> Result<ServerVerdict> {
        let _ = at_end;
        self.parse(format, data, mid_input)
    }

    /// [`ServerParser::parse`] with the server skipping the rows it cannot read: the rows before the
    /// first one it refuses are exactly those its own `INSERT` would have read before failing there,
    /// however its rows fall on this reader's split. `None` when the server cannot be asked so.
    fn parse_leniently(
        &mut self,
        _format: InputFormat,
        _data: &[u8],
        _mid_input: bool,
    ) -> Result<Option<Vec<Vec<Value<'static>>>>> {
        Ok(None)
    }
}

/// Whether a setting changes how the server reads text (then every row is read by the server).
pub fn changes_text_input(setting: &str) -> bool {
    let s = setting.to_ascii_lowercase();
    s.starts_with("input_format_")
        || s.starts_with("format_")
        || s.starts_with("date_time_input")
        || s.contains("timezone")
        || s.contains("time_zone")
        || s.starts_with("cast_")
        || s.starts_with("errors_for")
        || s == "data_type_default_nullable"
        || s == "compatibility"
}

/// Where a reader's rows come from: split from the input here, or split already (a chunk of the input
/// handed to another thread, see [`Chunk`]).
enum Source<R> {
    Split(Splitter<R>),
    Given(Chunk),
}

impl<R: BufRead> Source<R> {
    fn next(&mut self) -> std::io::Result<Option<RowSpan>> {
        match self {
            Source::Split(s) => s.next(),
            Source::Given(c) => {
                let span = c.spans.get(c.next).copied();
                c.next += 1;
                Ok(span)
            }
        }
    }

    fn bytes(&self, span: RowSpan) -> &[u8] {
        match self {
            Source::Split(s) => s.bytes(span),
            Source::Given(c) => &c.data[span.start..span.end],
        }
    }

    fn bom(&self) -> bool {
        match self {
            Source::Split(s) => s.bom,
            Source::Given(c) => c.bom,
        }
    }
}

/// Consecutive rows of an input, split already: their bytes, each row's span of them (with the line
/// it starts on in the whole input), and the row number of the first. Made by [`Chunker`], read by
/// [`TextRows::of_chunk`] — so that the rows of one input can be read on several threads.
#[derive(Default)]
pub struct Chunk {
    data: Vec<u8>,
    spans: Vec<RowSpan>,
    next: usize,
    /// 1-based row of the first span.
    first_row: u64,
    /// The input began with a byte order mark (and this chunk is its start).
    bom: bool,
    /// The input ends with this chunk.
    last: bool,
}

impl Chunk {
    /// The rows of this chunk from its `index`th on, followed by those of `next` (the chunk after it):
    /// where a run of rows for the server's parser reached the end of this chunk, it goes on in the
    /// next one (see [`TextRows::tail`]).
    pub fn tail_and(&self, index: usize, next: &Chunk) -> Chunk {
        let mut out =
            Chunk { first_row: self.first_row + index as u64, bom: self.bom && index == 0, ..Chunk::default() };
        out.append_from(self, index);
        out.append(next);
        out
    }

    /// Appends the rows of `next` (the chunk after this one).
    pub fn append(&mut self, next: &Chunk) {
        self.append_from(next, 0);
    }

    /// Appends the rows of `other` from its `index`th on (and whether the input ends with them).
    fn append_from(&mut self, other: &Chunk, index: usize) {
        for span in other.spans.iter().skip(index) {
            let start = self.data.len();
            self.data.extend_from_slice(&other.data[span.start..span.end]);
            self.spans.push(RowSpan { start, end: self.data.len(), ..*span });
        }
        self.last = other.last;
    }

    /// The rows of this chunk from its `index`th on, as the last of the input.
    pub fn tail_as_last(&self, index: usize) -> Chunk {
        let mut out = self.tail_and(index, &Chunk::default());
        out.last = true;
        out
    }

    /// Whether the input ends with this chunk.
    pub fn is_last(&self) -> bool {
        self.last
    }

    /// Rows in the chunk.
    pub fn rows(&self) -> usize {
        self.spans.len()
    }

    /// The 1-based row of the input the chunk starts with.
    pub fn first_row(&self) -> u64 {
        self.first_row
    }
}

/// Whether the brackets and braces of a JSON row nest properly (outside strings), and it is one
/// object.
fn nests_properly(row: &[u8]) -> bool {
    let mut open: Vec<u8> = Vec::new();
    let (mut in_string, mut escaped) = (false, false);
    for &b in row {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => open.push(b),
            b'}' if open.pop() != Some(b'{') => return false,
            b']' if open.pop() != Some(b'[') => return false,
            _ => {}
        }
    }
    let text = row.trim_ascii();
    open.is_empty() && !in_string && text.starts_with(b"{") && text.ends_with(b"}")
}

/// Splits an input into [`Chunk`]s of whole rows, as [`TextRows`] splits it.
pub struct Chunker<R> {
    split: Splitter<R>,
    rows: u64,
    done: bool,
}

impl<R: BufRead> Chunker<R> {
    /// Chunks of `format` (a text format) from `input`.
    pub fn new(format: InputFormat, input: R) -> Result<Self> {
        let f = Format::of(format).ok_or_else(|| Error::usage("Chunker reads text formats only"))?;
        Ok(Chunker { split: Splitter::new(input, f), rows: 0, done: false })
    }

    /// Splits CSV with these quoting and delimiter rules (see [`TextRows::with_csv_dialect`]).
    pub fn with_csv_dialect(mut self, csv: split::CsvDialect) -> Self {
        self.split = self.split.with_csv_dialect(csv);
        self
    }

    /// Fills `chunk` (reusing its buffers) with up to `max_rows` rows or about `max_bytes` bytes;
    /// false at the end of the input (the chunk is then empty). A chunk ends after a row the splitter
    /// refused (its reader stops there). A read failure is an [`Error::Input`] at the row after the
    /// last one handed out.
    pub fn fill(&mut self, chunk: &mut Chunk, max_rows: usize, max_bytes: usize) -> Result<bool> {
        chunk.data.clear();
        chunk.spans.clear();
        chunk.next = 0;
        chunk.first_row = self.rows + 1;
        chunk.bom = false;
        chunk.last = false;
        // The first chunk has the first two rows at least: the server reads a header only together
        // with the row after it.
        let least = if self.rows == 0 { 2 } else { 1 };
        let json = self.split.format() == Format::Json;
        while !self.done {
            let full = chunk.spans.len() >= least && (chunk.spans.len() >= max_rows || chunk.data.len() >= max_bytes);
            // A JSON chunk ends only after an object whose brackets nest properly, where the server's
            // reading of it surely ends too (it reads some broken objects further than this splitter
            // does; the pieces must reach it together). Past a bound, the chunk ends anyway.
            let whole = || chunk.spans.last().is_none_or(|s| nests_properly(&chunk.data[s.start..s.end]));
            if full && (!json || chunk.data.len() >= max_bytes.saturating_mul(4) || whole()) {
                break;
            }
            let at = self.rows + 1;
            let span = self.split.next().map_err(|e| Error::Input {
                row: at,
                line: 0,
                column: None,
                message: format!("read failed: {e}"),
            })?;
            let Some(span) = span else {
                self.done = true;
                chunk.last = true;
                break;
            };
            if self.rows == 0 {
                chunk.bom = self.split.bom;
            }
            self.rows += 1;
            let start = chunk.data.len();
            chunk.data.extend_from_slice(self.split.bytes(span));
            chunk.spans.push(RowSpan { start, end: chunk.data.len(), ..span });
            if span.refused.is_some() {
                self.done = true;
                chunk.last = true;
            }
        }
        Ok(!chunk.spans.is_empty())
    }
}

/// `TabSeparated`, `CSV` or `JSONEachRow` rows for the given columns.
pub struct TextRows<'a, R> {
    format: Format,
    input_format: InputFormat,
    split: Source<R>,
    columns: Vec<(String, TypeDesc)>,
    strict: Strict,
    canonical: bool,
    server: Box<dyn ServerParser + 'a>,
    /// Rows read ahead: (row, line, values).
    queue: VecDeque<(u64, u64, Vec<Value<'static>>)>,
    /// The error after the queued rows.
    pending: Option<Error>,
    /// Rows split so far.
    split_rows: u64,
    /// Rows the server found minus rows split, in batches so far (row numbers follow the server's).
    adjust: i64,
    position: (u64, u64),
    /// The row ahead of batches that do not start at row 1, and its values: a row of defaults in the
    /// server's own syntax, or — when settings change the syntax — the last row of the previous batch,
    /// as the input has it.
    prefix_row: Vec<u8>,
    prefix_values: Vec<Value<'static>>,
    /// Per column: its `DEFAULT` is the server's to apply (an omitted or NULL field makes the row
    /// the server's to read; see [`TextRows::with_server_defaults`]).
    server_defaults: Vec<bool>,
    /// Reading a chunk: the row from which the rows for the server's parser ran to the chunk's end
    /// (left unread: see [`TextRows::tail`]).
    tail: Option<u64>,
    /// Lines the server skips at the input's start (`input_format_*_skip_first_lines`): the first
    /// batch holds the rows they are in, and one more.
    skip_lines: usize,
    /// Rows at the end of the input that the server may leave out (empty lines, under
    /// `input_format_*_skip_trailing_empty_lines`).
    skip_trailing_empty: bool,
}

impl<'a> TextRows<'a, std::io::Empty> {
    /// A reader of the rows of `chunk` (see [`Chunker`]), numbered as in the whole input; otherwise as
    /// [`TextRows::new`] (a chunk after the first is read as the middle of the input: no header, no byte
    /// order mark, the server's batches led by a row of defaults).
    pub fn of_chunk(
        format: InputFormat,
        chunk: Chunk,
        columns: Vec<(String, TypeDesc)>,
        server_tz: &str,
        canonical: bool,
        server: Box<dyn ServerParser + 'a>,
    ) -> Result<TextRows<'a, std::io::Empty>> {
        let first_row = chunk.first_row;
        let mut rows = TextRows::new(format, std::io::empty(), columns, server_tz, canonical, server)?;
        rows.split = Source::Given(chunk);
        rows.split_rows = first_row.saturating_sub(1);
        Ok(rows)
    }
}

impl<'a, R: BufRead> TextRows<'a, R> {
    /// A reader of `format` over `input` for `columns`; `server_tz` is the zone of `DateTime`s without
    /// one; `canonical` false hands every row to `server` (as when settings change text input).
    pub fn new(
        format: InputFormat,
        input: R,
        columns: Vec<(String, TypeDesc)>,
        server_tz: &str,
        canonical: bool,
        server: Box<dyn ServerParser + 'a>,
    ) -> Result<Self> {
        let f = Format::of(format).ok_or_else(|| Error::usage("TextRows reads text formats only"))?;
        let defaults_row = defaults_row(f, &columns, server_tz);
        let defaults = columns.iter().map(|(_, t)| column_default(t)).collect();
        Ok(TextRows {
            format: f,
            input_format: format,
            split: Source::Split(Splitter::new(input, f)),
            strict: Strict::new(server_tz),
            columns,
            canonical,
            server,
            queue: VecDeque::new(),
            pending: None,
            split_rows: 0,
            adjust: 0,
            position: (0, 0),
            prefix_row: defaults_row,
            prefix_values: defaults,
            server_defaults: Vec::new(),
            tail: None,
            skip_lines: 0,
            skip_trailing_empty: false,
        })
    }

    /// Reading a chunk that is not the input's last: the 1-based row from which the rows for the
    /// server's parser ran to the chunk's end, unread (the rows before it were read). They are to be
    /// read together with the next chunk ([`Chunk::tail_and`]).
    pub fn tail(&self) -> Option<u64> {
        self.tail
    }

    /// Rows the server found minus rows split, in the rows read so far (rows after them are numbered
    /// as the server numbers them: a reader of a later chunk adds this to its row numbers).
    pub fn row_adjustment(&self) -> i64 {
        self.adjust
    }

    /// The chunk read (to reuse its buffers), when the reader was made by [`TextRows::of_chunk`].
    pub fn into_chunk(self) -> Option<Chunk> {
        match self.split {
            Source::Given(c) => Some(c),
            Source::Split(_) => None,
        }
    }

    /// Splits CSV with these quoting and delimiter rules (the `format_csv_*` settings the server applies).
    pub fn with_csv_dialect(mut self, csv: split::CsvDialect) -> Self {
        if let Source::Split(s) = self.split {
            self.split = Source::Split(s.with_csv_dialect(csv));
        }
        self
    }

    /// The server skips `lines` lines at the input's start and leaves out empty lines at its end
    /// (`trailing_empty`), as its settings say: the first rows and the last go to it together with
    /// the rows around them, and the rows it leaves out are not counted.
    pub fn with_skipped_lines(mut self, lines: usize, trailing_empty: bool) -> Self {
        self.skip_lines = lines;
        self.skip_trailing_empty = trailing_empty;
        self
    }

    /// Marks the columns whose `DEFAULT` expression the server applies to an omitted field (given in
    /// the structure the server parses with): a row that omits such a field, or gives NULL for it, is
    /// read by the server.
    pub fn with_server_defaults(mut self, columns: Vec<bool>) -> Self {
        self.server_defaults = columns;
        self
    }

    /// Leaves date-times in these zones (`None`: the server's) to the server: its rules for them differ
    /// from this crate's ([`crate::Client::zone_agrees`]).
    pub fn with_uncertain_zones(mut self, zones: Vec<Option<String>>) -> Self {
        self.strict.uncertain_zones = zones;
        self
    }

    /// Reads for a server before 19 (18.16), whose text rules differ in places (zero dates, empty CSV
    /// fields).
    pub fn for_legacy_server(mut self) -> Self {
        self.strict.legacy = true;
        self
    }

    fn next_span(&mut self) -> Result<Option<RowSpan>> {
        let at = (self.split_rows + 1, 0);
        let span = self.split.next().map_err(|e| Error::Input {
            row: at.0,
            line: at.1,
            column: None,
            message: format!("read failed: {e}"),
        })?;
        if span.is_some() {
            self.split_rows += 1;
        }
        Ok(span)
    }

    /// Reads the row in `span` itself, when it is canonical.
    fn read_canonical(&mut self, span: RowSpan, first: bool) -> Option<Vec<Value<'static>>> {
        let mut out = Vec::with_capacity(self.columns.len());
        self.read_canonical_into(span, first, &mut out).then_some(out)
    }

    /// [`Self::read_canonical`] into `out` (cleared first); false leaves it in any state.
    fn read_canonical_into(&mut self, span: RowSpan, first: bool, out: &mut Vec<Value<'static>>) -> bool {
        out.clear();
        if !self.canonical || first && self.split.bom() {
            return false;
        }
        let bytes = &self.split.bytes(span);
        match self.format {
            Format::Tsv => tsv_row(&mut self.strict, bytes, &self.columns, &self.server_defaults, first, out),
            Format::Csv => csv_row(&mut self.strict, bytes, &self.columns, &self.server_defaults, first, out),
            Format::Json => json_row(&mut self.strict, bytes, &self.columns, &self.server_defaults, out),
        }
    }

    /// Reads ahead from the row in `span` (not canonical): that row and the following ones up to a
    /// canonical row (or the batch limits) go to the server; the canonical row is queued after them.
    fn read_batch(&mut self, span: RowSpan) -> Result<()> {
        let first_row = self.split_rows;
        let mut batch = Batch { skip: usize::from(first_row > 1), ..Batch::default() };
        if batch.skip > 0 {
            batch.data.extend_from_slice(&self.prefix_row);
            if !self.prefix_row.ends_with(b"\n") {
                batch.data.push(b'\n');
            }
        }
        let json = self.format == Format::Json;
        batch.push(self.split.bytes(span), first_row, span.line, json);
        let mut after = None;
        let mut refused = None;
        // The first row may be a header only together with the next one (names, then types); lines
        // the server skips at the start go to it with the row after them.
        let mut forced = if first_row == 1 { self.skip_lines.max(1) } else { 0 };
        let mut at_end = false;
        // A batch cut by the limits may end inside one of the server's rows (it reads some composites
        // across any number of line ends): then it grows, twice as large each time.
        let (mut max_rows, mut max_bytes) = (BATCH_ROWS, BATCH_BYTES);
        let (verdict, whole, may_skip) = loop {
            let mut by_limits = true;
            while forced > 0 || batch.rows.len() < max_rows && batch.data.len() < max_bytes {
                let Some(next) = self.next_span()? else {
                    at_end = true;
                    by_limits = false;
                    if let Source::Given(c) = &self.split {
                        if !c.last {
                            // The run goes on in the next chunk, where the server must see it whole
                            // (its readers take some composites across line ends): left to the reader
                            // of this chunk's rest and the next one together.
                            self.tail = Some(first_row);
                            return Ok(());
                        }
                    }
                    break;
                };
                let row = self.split_rows;
                if let Some(reason) = next.refused {
                    refused = Some((row, next.line, reason));
                    by_limits = false;
                    break;
                }
                if forced == 0 {
                    if let Some(values) = self.read_canonical(next, false) {
                        after = Some((row, next.line, values));
                        by_limits = false;
                        break;
                    }
                }
                forced = forced.saturating_sub(1);
                batch.push(self.split.bytes(next), row, next.line, json);
            }
            let whole = batch.rows.len();
            batch.at_end = at_end;
            // Rows the server may leave out of this batch: lines it skips at the start, empty lines at
            // the end.
            let mut may_skip = if first_row == 1 { self.skip_lines } else { 0 };
            if at_end && self.skip_trailing_empty {
                may_skip += batch
                    .rows
                    .iter()
                    .rev()
                    .take_while(|(_, _, r)| batch.data[r.clone()].trim_ascii().is_empty())
                    .count();
            }
            let verdict = self.read_prefix(&batch, whole)?;
            if let Err((_, m)) = &verdict {
                if by_limits && ends_inside_a_row(m) && max_bytes < split::MAX_ROW {
                    (max_rows, max_bytes) = (max_rows.saturating_mul(2), max_bytes.saturating_mul(2));
                    continue;
                }
            }
            break (verdict, whole, may_skip);
        };
        match verdict {
            Ok(values)
                if !self.canonical
                    && values.len() != whole
                    && !(values.len() < whole && whole - values.len() <= may_skip) =>
            {
                // Under the user's settings the server finds other rows than chc's splitting: nothing
                // after this point can be numbered or led by a row chc knows to be whole.
                let (row, line, _) = batch.rows[0];
                let message = format!(
                    "under these settings the server reads {} rows where chc finds {whole} (rows {row}–{}); insert \
                     such input with the server's own INSERT … FORMAT",
                    values.len(),
                    row + whole as u64 - 1
                );
                self.pending = Some(Error::Input { row: adjusted(row, self.adjust), line, column: None, message });
            }
            Ok(values) => {
                if !self.canonical && !at_end {
                    // The syntax is the user's: the next batch is led by this one's last row.
                    if let (Some((_, _, range)), Some(last)) = (batch.rows.last(), values.last()) {
                        self.prefix_row = batch.data[range.clone()].to_vec();
                        self.prefix_values = last.clone();
                    }
                }
                self.enqueue(&batch, values)
            }
            Err((row, message)) => {
                // The first bad row: the one the server names when the rows before it read alone are
                // accepted, else found by bisection (the server names no row for some errors, and
                // for others a row after the bad one).
                let named = row
                    .and_then(|r| usize::try_from(r).ok())
                    .and_then(|r| r.checked_sub(batch.skip + 1))
                    .filter(|&i| i < whole);
                let mut found = None;
                if let Some(i) = named {
                    // The server's own rows before the one it names (its rows may be several of this
                    // reader's, so no prefix of them is asked for).
                    if let Some(all) = self.server.parse_leniently(self.input_format, &batch.data, batch.skip > 0)? {
                        let led = batch.skip == 0 || all.first() == Some(&self.prefix_values);
                        if led && all.len() >= batch.skip + i {
                            let before: Vec<_> = all.into_iter().skip(batch.skip).take(i).collect();
                            found = Some((i, before, message.clone()));
                        }
                    }
                }
                let (bad, before, message) = match found {
                    Some(f) => f,
                    None => {
                        // Invariant: the first `lo` rows read, the first `hi` do not. A prefix that ends
                        // inside one of the server's rows (it reads some composites across line ends,
                        // so its rows can be several of chc's) fails at the end of its data: that cut
                        // says nothing, and the next one is tried.
                        let (mut lo, mut hi) = (0, whole);
                        let (mut lo_values, mut hi_message) = (Vec::new(), message);
                        while hi - lo > 1 {
                            let mut cut = lo + (hi - lo) / 2;
                            loop {
                                match self.read_prefix(&batch, cut)? {
                                    Ok(v) => {
                                        (lo, lo_values) = (cut, v);
                                        break;
                                    }
                                    Err((_, m)) if ends_inside_a_row(&m) && cut + 1 < hi => cut += 1,
                                    Err((_, m)) => {
                                        (hi, hi_message) = (cut, m);
                                        break;
                                    }
                                }
                            }
                        }
                        (lo, lo_values, hi_message)
                    }
                };
                let lead = self.leading_skipped(batch.rows[0].0);
                let kept = batch.rows[..(bad + lead).min(whole)].to_vec();
                let row = adjusted(batch.rows[bad].0, self.adjust);
                let line = batch.rows.get(bad + lead).map_or(batch.rows[bad].1, |r| r.1);
                self.enqueue(&Batch { rows: kept, ..Batch::default() }, before);
                let (column, message) = server_message(&message);
                self.pending = Some(Error::Input { row, line, column, message });
                return Ok(());
            }
        }
        if let Some((row, line, values)) = after {
            self.queue.push_back((adjusted(row, self.adjust), line, values));
        }
        if let Some((row, line, reason)) = refused {
            if self.pending.is_none() {
                let message = format!("not JSONEachRow: {reason}");
                self.pending = Some(Error::Input { row: adjusted(row, self.adjust), line, column: None, message });
            }
        }
        Ok(())
    }

    /// The server's reading of the batch's first `n` rows (after the row of defaults, if any).
    fn read_prefix(&mut self, batch: &Batch, n: usize) -> Result<Prefix> {
        if n == 0 {
            return Ok(Ok(Vec::new()));
        }
        let end = batch.rows[n - 1].2.end;
        let data = &batch.data[..end];
        let at_end = batch.at_end && n == batch.rows.len();
        Ok(match self.server.parse_at_end(self.input_format, data, batch.skip > 0, at_end)? {
            ServerVerdict::Rows(values) => {
                // The row of defaults must come back as the first row: anything else means the server
                // read the bytes otherwise than as those rows, and no row may be dropped silently.
                if batch.skip > 0 && values.first() != Some(&self.prefix_values) {
                    return Err(Error::Input {
                        row: adjusted(batch.rows[0].0, self.adjust),
                        line: batch.rows[0].1,
                        column: None,
                        message: "the server did not read the rows chc handed it as rows (the row ahead of them \
                                  went missing); nothing from this row on was inserted"
                            .into(),
                    });
                }
                Ok(values.into_iter().skip(batch.skip).collect())
            }
            ServerVerdict::Rejected { row, message } => Err((row, message)),
        })
    }

    /// Queues the server's rows for the batch's rows. When the server found a different number of rows
    /// in the same bytes (input no reader splits the same way twice), its rows are taken and the rows
    /// after them renumbered by the difference.
    fn enqueue(&mut self, batch: &Batch, values: Vec<Vec<Value<'static>>>) {
        let first = batch.rows.first().map_or(self.split_rows, |r| r.0);
        let last_line = batch.rows.last().map_or(0, |r| r.1);
        let found = values.len();
        // The server numbers rows after the lines it skips at the start; the lines are the input's.
        let lead = self.leading_skipped(first);
        for (i, v) in values.into_iter().enumerate() {
            let line = batch.rows.get(i + lead).map_or(last_line, |r| r.1);
            self.queue.push_back((adjusted(first + i as u64, self.adjust), line, v));
        }
        self.adjust += found as i64 - batch.rows.len() as i64;
    }

    /// Rows of a batch starting at `first_row` that are lines the server skips (each taken as a row).
    fn leading_skipped(&self, first_row: u64) -> usize {
        if first_row == 1 { self.skip_lines } else { 0 }
    }
}

/// The server's rows for a prefix of a batch, or the row it names and its message.
type Prefix = std::result::Result<Vec<Vec<Value<'static>>>, (Option<u64>, String)>;

/// Rows handed to the server: their bytes (after a row of defaults when `skip` is 1), and each row's
/// number, line and range in `data`.
#[derive(Default)]
struct Batch {
    data: Vec<u8>,
    rows: Vec<(u64, u64, std::ops::Range<usize>)>,
    skip: usize,
    /// The batch ends the input.
    at_end: bool,
}

impl Batch {
    fn push(&mut self, bytes: &[u8], row: u64, line: u64, json: bool) {
        let start = self.data.len();
        self.data.extend_from_slice(bytes);
        // JSON rows are split without what separates them (whitespace, commas): a line feed is as good.
        if json && !bytes.ends_with(b"\n") {
            self.data.push(b'\n');
        }
        self.rows.push((row, line, start..self.data.len()));
    }
}

/// Whether the server's error says its data ended inside a row.
fn ends_inside_a_row(message: &str) -> bool {
    ["end of stream", "after eof", "Unexpected end", "EOF"].iter().any(|m| message.contains(m))
}

fn adjusted(row: u64, adjust: i64) -> u64 {
    row.saturating_add_signed(adjust).max(1)
}

/// The server's error message, shortened: its first line without the code and the row, and the column
/// it names.
fn server_message(message: &str) -> (Option<String>, String) {
    let head = message.split_once("DB::Exception: ").map_or(message, |(_, m)| m);
    let head = head.split(": (at row").next().unwrap_or(head);
    let head = head.split(": (while reading").next().unwrap_or(head);
    let head = head.split(": While executing").next().unwrap_or(head);
    let head = head.trim();
    // The column: the JSON key being read, or the last "Column N, name: X," of the last row's detail.
    let key = message.split_once("(while reading the value of key ").and_then(|(_, r)| r.split_once(')'));
    let column = key.map(|(k, _)| k.to_string()).or_else(|| {
        message.rsplit("\nRow ").next().and_then(|detail| {
            detail
                .lines()
                .filter_map(|l| l.trim_start().strip_prefix("Column "))
                .filter_map(|l| l.split_once("name: ").map(|(_, r)| r))
                .filter_map(|r| r.split_once(',').map(|(n, _)| n.trim().to_string()))
                .next_back()
        })
    });
    // The server quotes the text after the failure (`before: '…'`): about 100 bytes of it are enough.
    let head = match head.split_once(" before: '") {
        Some((what, text)) if text.len() > 100 => {
            let mut end = 100;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            format!("{what} before: '{}…'", &text[..end])
        }
        _ => head.to_string(),
    };
    let head = if head.len() > 300 { crate::error::excerpt(head.as_bytes(), 300) } else { head };
    (column, head)
}

impl<R: BufRead> RowReader for TextRows<'_, R> {
    fn next_row(&mut self, row: &mut Vec<Value<'static>>) -> Result<bool> {
        row.clear();
        loop {
            if let Some((r, l, values)) = self.queue.pop_front() {
                self.position = (r, l);
                *row = values;
                return Ok(true);
            }
            if let Some(e) = self.pending.take() {
                if let Error::Input { row, line, .. } = &e {
                    self.position = (*row, *line);
                }
                return Err(e);
            }
            let Some(span) = self.next_span()? else { return Ok(false) };
            if let Some(reason) = span.refused {
                let (r, l) = (adjusted(self.split_rows, self.adjust), span.line);
                self.position = (r, l);
                return Err(Error::Input {
                    row: r,
                    line: l,
                    column: None,
                    message: format!("not JSONEachRow: {reason}"),
                });
            }
            let first = self.split_rows == 1;
            // The common case: read into the caller's row (its allocation is reused).
            if self.read_canonical_into(span, first, row) {
                self.position = (adjusted(self.split_rows, self.adjust), span.line);
                return Ok(true);
            }
            row.clear();
            self.read_batch(span)?;
        }
    }

    fn position(&self) -> (u64, u64) {
        self.position
    }
}

/// A row of every column's default value, as the server writes it in `format`.
fn defaults_row(format: Format, columns: &[(String, TypeDesc)], tz: &str) -> Vec<u8> {
    let mut r = TextRenderer::new(tz);
    let mut out = Vec::new();
    match format {
        Format::Json => {
            // Every value written out (an omitted one is not always the type's default: Date32).
            let names: Vec<&[u8]> = columns.iter().map(|(n, _)| n.as_bytes()).collect();
            let values: Vec<Value<'static>> = columns.iter().map(|(_, t)| column_default(t)).collect();
            let types: Vec<TypeDesc> = columns.iter().map(|(_, t)| t.clone()).collect();
            r.write_json_row(&mut out, &names, &values, &types);
        }
        Format::Tsv | Format::Csv => {
            for (i, (_, t)) in columns.iter().enumerate() {
                if i > 0 {
                    out.push(if format == Format::Tsv { b'\t' } else { b',' });
                }
                let v = column_default(t);
                if format == Format::Tsv {
                    r.write_tsv(&mut out, &v, t);
                } else {
                    r.write_csv(&mut out, &v, t);
                }
            }
        }
    }
    out.push(b'\n');
    out
}

/// The default value of a column type, as the server would read it back: an aggregate state is the
/// function's empty state (its bytes depend on the function, which only the codec knows).
fn column_default(t: &TypeDesc) -> Value<'static> {
    use TypeDesc as T;
    match t {
        T::AggregateFunction { .. } => match crate::native::builder_for(t) {
            Ok(mut b) => {
                b.push_default();
                let mut state = Vec::new();
                b.encode(&mut state);
                Value::String(std::borrow::Cow::Owned(state))
            }
            Err(_) => Value::default_of(t),
        },
        T::LowCardinality(inner) => column_default(inner),
        T::Tuple(elems) => Value::Tuple(elems.iter().map(|(_, e)| column_default(e)).collect()),
        t => Value::default_of(t),
    }
}

/// The row without its line feed; `None` when it ends in a carriage return (the server's rule for
/// those depends on the row and the column).
fn body(bytes: &[u8]) -> Option<&[u8]> {
    let b = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    (!b.ends_with(b"\r")).then_some(b)
}

/// Whether the first row could be a header: one of its fields is a column's name (the server's
/// header detection is its own to apply).
fn names_row(fields: &[&[u8]], columns: &[(String, TypeDesc)]) -> bool {
    // In any order: the server maps a header's names to the columns.
    fields.iter().any(|f| columns.iter().any(|(n, _)| f.eq_ignore_ascii_case(n.as_bytes())))
}

fn tsv_row(
    strict: &mut Strict,
    bytes: &[u8],
    columns: &[(String, TypeDesc)],
    defaults: &[bool],
    first: bool,
    out: &mut Vec<Value<'static>>,
) -> bool {
    let Some(b) = body(bytes) else { return false };
    if first {
        let fields: Vec<&[u8]> = b.split(|&c| c == b'\t').collect();
        if names_row(&fields, columns) {
            return false;
        }
    }
    // Fields found with memchr (a row is mostly long fields between few tabs).
    let mut tabs = memchr::memchr_iter(b'\t', b);
    let mut start = 0;
    for (i, (_, t)) in columns.iter().enumerate() {
        let end = if i + 1 == columns.len() {
            // The last field runs to the end of the row: any tab left is a field too many.
            if tabs.next().is_some() {
                return false;
            }
            b.len()
        } else {
            match tabs.next() {
                Some(p) => p,
                None => return false,
            }
        };
        // NULL for a column whose DEFAULT the server applies: the server's to read.
        if defaults.get(i) == Some(&true) && &b[start..end] == b"\\N" {
            return false;
        }
        match strict.tsv_field(&b[start..end], t) {
            Some(v) => out.push(v),
            None => return false,
        }
        start = end + 1;
    }
    true
}

fn csv_row(
    strict: &mut Strict,
    bytes: &[u8],
    columns: &[(String, TypeDesc)],
    defaults: &[bool],
    first: bool,
    out: &mut Vec<Value<'static>>,
) -> bool {
    let Some(b) = body(bytes) else { return false };
    // Fields: (text, quoted).
    let mut fields: Vec<(std::borrow::Cow<'_, [u8]>, bool)> = Vec::with_capacity(columns.len());
    let mut i = 0;
    loop {
        if b.get(i) == Some(&b'"') {
            // Borrowed from the row unless a doubled quote makes it differ.
            i += 1;
            let start = i;
            let mut owned: Option<Vec<u8>> = None;
            let text = loop {
                let Some(p) = memchr::memchr(b'"', &b[i..]) else { return false };
                let end = i + p;
                if b.get(end + 1) == Some(&b'"') {
                    owned.get_or_insert_with(Vec::new).extend_from_slice(&b[i..=end]);
                    i = end + 2;
                } else {
                    i = end + 1;
                    break match owned.take() {
                        Some(mut o) => {
                            o.extend_from_slice(&b[i - 1 - p..end]);
                            std::borrow::Cow::Owned(o)
                        }
                        None => std::borrow::Cow::Borrowed(&b[start..end]),
                    };
                }
            };
            fields.push((text, true));
            match b.get(i) {
                None => break,
                Some(b',') => i += 1,
                Some(_) => return false,
            }
        } else {
            let end = memchr::memchr(b',', &b[i..]).map_or(b.len(), |p| i + p);
            let text = &b[i..end];
            if text.contains(&b'"') {
                return false;
            }
            fields.push((text.into(), false));
            if end == b.len() {
                break;
            }
            i = end + 1;
        }
    }
    let want: usize = if columns.iter().all(|(_, t)| !matches!(strip(t), TypeDesc::Tuple(_) | TypeDesc::Point)) {
        columns.len()
    } else {
        columns.iter().map(|(_, t)| crate::format::csv::csv_fields(t)).sum()
    };
    if fields.len() != want {
        return false;
    }
    if first {
        let texts: Vec<&[u8]> = fields.iter().map(|(t, _)| t.as_ref()).collect();
        if names_row(&texts, columns) {
            return false;
        }
    }
    let mut it = fields.iter();
    for (i, (_, t)) in columns.iter().enumerate() {
        // An empty or NULL field of a column whose DEFAULT the server applies: the server's to read.
        if defaults.get(i) == Some(&true)
            && it.clone().take(crate::format::csv::csv_fields(t)).any(|(f, _)| f.is_empty() || f.as_ref() == b"\\N")
        {
            return false;
        }
        match csv_column(strict, &mut it, t, false) {
            Some(v) => out.push(v),
            None => return false,
        }
    }
    true
}

fn csv_column<'a>(
    strict: &mut Strict,
    fields: &mut impl Iterator<Item = &'a (std::borrow::Cow<'a, [u8]>, bool)>,
    t: &TypeDesc,
    in_tuple: bool,
) -> Option<Value<'static>> {
    match strip(t) {
        // A tuple is spread over fields (Nullable tuples are not).
        TypeDesc::Tuple(types) if !matches!(t, TypeDesc::Nullable(_)) => types
            .iter()
            .map(|(_, et)| csv_column(strict, fields, et, true))
            .collect::<Option<Vec<_>>>()
            .map(Value::Tuple),
        TypeDesc::Point => Some(Value::Tuple(vec![
            csv_column(strict, fields, &TypeDesc::Float64, true)?,
            csv_column(strict, fields, &TypeDesc::Float64, true)?,
        ])),
        _ => {
            let (text, quoted) = fields.next()?;
            strict.csv_field(text, *quoted, in_tuple, t)
        }
    }
}

/// The value the server stores for an omitted field, for the types where that is certain (0 for a
/// `Date32`, not the 1900-01-01 that `defaultValueOfTypeName` gives); the others are the server's to
/// fill.
fn omitted(t: &TypeDesc) -> Option<Value<'static>> {
    use TypeDesc as T;
    match t {
        T::Nullable(_) => Some(Value::Null),
        T::LowCardinality(inner) => omitted(inner),
        T::Date32 => Some(Value::Date32(0)),
        T::UInt8
        | T::UInt16
        | T::UInt32
        | T::UInt64
        | T::UInt128
        | T::UInt256
        | T::Int8
        | T::Int16
        | T::Int32
        | T::Int64
        | T::Int128
        | T::Int256
        | T::Float32
        | T::Float64
        | T::Bool
        | T::Decimal { .. }
        | T::String
        | T::FixedString(_)
        | T::Uuid
        | T::Ipv4
        | T::Ipv6
        | T::Date
        | T::DateTime(_)
        | T::DateTime64(..)
        | T::Array(_)
        | T::Map(..) => Some(Value::default_of(t)),
        _ => None,
    }
}

fn json_row(
    strict: &mut Strict,
    bytes: &[u8],
    columns: &[(String, TypeDesc)],
    defaults: &[bool],
    out: &mut Vec<Value<'static>>,
) -> bool {
    let mut j = Json { s: bytes, at: 0 };
    if !j.eat(b'{') {
        return false;
    }
    let mut values: Vec<Option<Value<'static>>> = vec![None; columns.len()];
    j.ws();
    if !j.eat(b'}') {
        loop {
            j.ws();
            let Some(key) = j.string() else { return false };
            // Keys are the column names exactly (the server also takes other spellings, and skips
            // unknown keys: those rows are its to read).
            let Some(i) = columns.iter().position(|(n, _)| n.as_bytes() == &key[..]) else { return false };
            j.ws();
            if !j.eat(b':') || values[i].is_some() {
                return false;
            }
            match strict.json(&mut j, &columns[i].1, 0) {
                Some(v) => values[i] = Some(v),
                None => return false,
            }
            j.ws();
            if j.eat(b'}') {
                break;
            }
            if !j.eat(b',') {
                return false;
            }
        }
    }
    if j.at != bytes.len() {
        return false;
    }
    for (i, (v, (_, t))) in values.into_iter().zip(columns).enumerate() {
        // Omitted or null in a column whose DEFAULT the server applies: the server's to read.
        if defaults.get(i) == Some(&true) && matches!(v, None | Some(Value::Null)) {
            return false;
        }
        match v.or_else(|| omitted(t)) {
            Some(v) => out.push(v),
            None => return false,
        }
    }
    true
}
