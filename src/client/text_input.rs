//! The server's own text parser, for the rows [`crate::format::input`] does not read itself, and the
//! client's entry point to the input readers.

use super::{CallOptions, Client};
use crate::error::{Error, Result};
use crate::format::input::split::CsvDialect;
use crate::format::input::{Chunk, Chunker, ServerParser, ServerVerdict, TextRows, changes_text_input};
use crate::format::read::{InputFormat, NativeReader, RowReader};
use crate::types::TypeDesc;
use std::io::BufRead;

/// Asks the server for `SELECT * FROM format(F, 'structure', 'rows')`.
struct ServerTextParser<'a> {
    client: &'a Client,
    structure: String,
    /// `format()` exists from ClickHouse 21 on.
    supported: bool,
    /// Servers from 23 on detect header rows in TSV and CSV.
    detects_headers: bool,
}

/// Server error codes that are verdicts on text being read (reading numbers, dates, enums, decimals,
/// strings, the format's structure).
const TEXT_ERRORS: &[i32] = &[6, 26, 27, 32, 33, 38, 41, 53, 69, 70, 72, 117, 131, 190, 321, 349, 407, 467, 691];

/// `s` as the body of a single-quoted SQL string: quotes and backslashes escaped, bytes that are not
/// UTF-8 as `\xHH` (the query is text; the string's bytes stay exactly as they were).
fn sql_string_body(s: &[u8], out: &mut String) {
    for chunk in s.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\'' => out.push_str("\\'"),
                '\\' => out.push_str("\\\\"),
                '\0' => out.push_str("\\0"),
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02X}"));
        }
    }
}

/// `t` without `LowCardinality` (read the same way; the server refuses some `LowCardinality` types in
/// a structure without a setting) and `SimpleAggregateFunction` wrappers, `Nested` as its array of
/// named tuples.
fn plain_type(t: &TypeDesc) -> TypeDesc {
    use TypeDesc as T;
    match t {
        T::LowCardinality(inner) | T::SimpleAggregateFunction(_, inner) => plain_type(inner),
        T::Nullable(inner) => T::Nullable(Box::new(plain_type(inner))),
        T::Array(inner) => T::Array(Box::new(plain_type(inner))),
        T::Map(k, v) => T::Map(Box::new(plain_type(k)), Box::new(plain_type(v))),
        T::Tuple(items) => T::Tuple(items.iter().map(|(n, t)| (n.clone(), plain_type(t))).collect()),
        // What an unflattened Nested holds (a Nested in a structure would be flattened into columns).
        T::Nested(items) => {
            T::Array(Box::new(T::Tuple(items.iter().map(|(n, t)| (Some(n.clone()), plain_type(t))).collect())))
        }
        other => other.clone(),
    }
}

/// The 1-based row a server error names: `(at row N)`; a first row's failure reads
/// "(while reading header)".
pub(crate) fn server_error_row(message: &str) -> Option<u64> {
    if let Some(p) = message.find("(at row ") {
        let digits: String = message[p + 8..].chars().take_while(char::is_ascii_digit).collect();
        return digits.parse().ok();
    }
    message.contains("(while reading header)").then_some(1)
}

impl ServerParser for ServerTextParser<'_> {
    fn parse(&mut self, format: InputFormat, data: &[u8], mid_input: bool) -> Result<ServerVerdict> {
        self.ask(format, data, mid_input, false, true)
    }

    fn parse_at_end(
        &mut self,
        format: InputFormat,
        data: &[u8],
        mid_input: bool,
        at_end: bool,
    ) -> Result<ServerVerdict> {
        self.ask(format, data, mid_input, false, at_end)
    }

    fn parse_leniently(
        &mut self,
        format: InputFormat,
        data: &[u8],
        mid_input: bool,
    ) -> Result<Option<Vec<Vec<crate::Value<'static>>>>> {
        Ok(match self.ask(format, data, mid_input, true, false) {
            Ok(ServerVerdict::Rows(rows)) => Some(rows),
            _ => None,
        })
    }
}

impl ServerTextParser<'_> {
    /// `SELECT * FROM format(…)` of the rows; `lenient`: rows the server cannot read are skipped;
    /// `at_end`: the rows end the input.
    fn ask(
        &mut self,
        format: InputFormat,
        data: &[u8],
        mid_input: bool,
        lenient: bool,
        at_end: bool,
    ) -> Result<ServerVerdict> {
        if !self.supported {
            return Ok(ServerVerdict::Rejected {
                row: None,
                message: format!(
                    "not in the form the server writes, which is all chc reads itself, and ClickHouse {} cannot \
                     read rows for chc (format() arrived in 21.1)",
                    self.client.server_version()
                ),
            });
        }
        let name = match format {
            InputFormat::TabSeparated => "TabSeparated",
            InputFormat::Csv => "CSV",
            InputFormat::JsonEachRow => "JSONEachRow",
            InputFormat::Native => return Err(Error::usage("Native input is read by the client")),
        };
        let mut sql = String::with_capacity(data.len() + self.structure.len() + 64);
        sql.push_str(&format!("SELECT * FROM format({name}, '"));
        sql_string_body(self.structure.as_bytes(), &mut sql);
        sql.push_str("', '");
        sql_string_body(data, &mut sql);
        sql.push_str("')");
        // The rows are this query's whole result, whatever the client's settings say about results.
        let mut opts = CallOptions::new().setting("offset", 0).setting("limit", 0);
        if sql.len() > 200_000 {
            opts = opts.setting("max_query_size", sql.len() + 4096);
        }
        if lenient {
            // Parsed in order on one thread, so that skipping changes nothing before the first skip.
            opts = opts
                .setting("input_format_allow_errors_num", 1_000_000_000)
                .setting("input_format_allow_errors_ratio", 1)
                .setting("input_format_parallel_parsing", 0);
        }
        // Settings about the input's start and end apply where the rows are the input's start or end.
        for (k, _) in self.client.settings() {
            let k = k.to_ascii_lowercase();
            if (mid_input && k.ends_with("_skip_first_lines")) || (!at_end && k.ends_with("_skip_trailing_empty_lines"))
            {
                opts = opts.setting(k, 0);
            }
        }
        if mid_input && self.detects_headers {
            // Only a file's first row may be a header; the row of defaults ahead of later rows is not.
            opts = opts.setting("input_format_tsv_detect_header", 0).setting("input_format_csv_detect_header", 0);
        }
        match self.client.internal_rows(&sql, &opts) {
            Ok(rows) => Ok(ServerVerdict::Rows(rows)),
            // A verdict on the data names a row, or is one of the errors of reading text; anything else
            // (a readonly user, a memory limit, …) is the request's failure.
            Err(Error::Server { code, message, .. })
                if server_error_row(&message).is_some() || TEXT_ERRORS.contains(&code) =>
            {
                Ok(ServerVerdict::Rejected { row: server_error_row(&message), message })
            }
            // The client's session holds the insert's open request: the server's parser cannot read
            // rows in it meanwhile (nor could the server, which refuses a second request in a session).
            Err(Error::Usage(m)) if m.contains("busy with an open insert request") => Err(Error::usage(format!(
                "rows the client does not read itself go to the server's parser, which cannot run in the \
                 client's session while the insert's request holds it ({m}): insert text without a session"
            ))),
            Err(e) => Err(e),
        }
    }
}

/// How the text input of one insert is read (from the client's settings and the server).
#[derive(Clone)]
struct TextSetup {
    structure: String,
    major: u32,
    canonical: bool,
    uncertain: Vec<Option<String>>,
    csv: CsvDialect,
    /// Per column: its `DEFAULT` is the server's to apply.
    server_defaults: Vec<bool>,
    /// `input_format_*_skip_first_lines` and `…_skip_trailing_empty_lines` for the format.
    skip_lines: usize,
    skip_trailing_empty: bool,
}

impl Client {
    /// The reading of text input for `columns` under this client's settings.
    /// `defaults[i]`: the `DEFAULT` expression the server applies to column `i` when its field is
    /// omitted (given to the server's parser in the structure).
    fn text_setup(
        &self,
        format: InputFormat,
        columns: &[(String, TypeDesc)],
        defaults: &[Option<String>],
    ) -> Result<TextSetup> {
        let structure = columns
            .iter()
            .enumerate()
            .map(|(i, (n, t))| match defaults.get(i).and_then(Option::as_deref) {
                Some(e) => format!("{} {} DEFAULT {e}", super::quote_identifier(n), plain_type(t)),
                None => format!("{} {}", super::quote_identifier(n), plain_type(t)),
            })
            .collect::<Vec<_>>()
            .join(", ");
        let server_defaults = (0..columns.len()).map(|i| defaults.get(i).is_some_and(Option::is_some)).collect();
        let major = self.server_version().split('.').next().and_then(|m| m.parse::<u32>().ok()).unwrap_or(0);
        // Settings that act on the input as a whole cannot be applied to batches of it.
        if let Some((k, _)) = self.settings().iter().find(|(k, _)| k.to_ascii_lowercase().contains("allow_errors")) {
            return Err(Error::usage(format!(
                "the setting {k} applies to the input as a whole, which chc reads in batches; insert such input \
                 with the server's own INSERT … FORMAT"
            )));
        }
        // Lines the server skips at the start, and whether it leaves out empty lines at the end.
        let prefix = match format {
            InputFormat::TabSeparated => "input_format_tsv_",
            InputFormat::Csv => "input_format_csv_",
            _ => "\u{0}",
        };
        let setting = |name: &str| {
            self.settings()
                .iter()
                .rev()
                .find(|(k, _)| k.eq_ignore_ascii_case(&format!("{prefix}{name}")))
                .map(|(_, v)| v.clone())
        };
        let skip_lines = setting("skip_first_lines").and_then(|v| v.trim().parse::<usize>().ok()).unwrap_or(0);
        let skip_trailing_empty =
            setting("skip_trailing_empty_lines").is_some_and(|v| matches!(v.trim(), "1" | "true" | "True"));
        let canonical = !self.settings().iter().any(|(k, _)| changes_text_input(k));
        // Zones whose rules the bundled database has otherwise than the server.
        let mut uncertain = Vec::new();
        for z in columns.iter().flat_map(|(_, t)| t.time_zones()) {
            if !uncertain.contains(&z) && !self.zone_agrees(z.as_deref())? {
                uncertain.push(z);
            }
        }
        let setting = |name: &str| self.settings().iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let yes = |v: Option<&str>, default: bool| v.map_or(default, |v| matches!(v, "1" | "true" | "True"));
        let csv = CsvDialect {
            delimiter: setting("format_csv_delimiter").and_then(|d| d.bytes().next()).unwrap_or(b','),
            double_quotes: yes(setting("format_csv_allow_double_quotes"), true),
            single_quotes: yes(setting("format_csv_allow_single_quotes"), false),
        };
        Ok(TextSetup { structure, major, canonical, uncertain, csv, server_defaults, skip_lines, skip_trailing_empty })
    }

    fn server_text_parser(&self, setup: &TextSetup) -> ServerTextParser<'_> {
        ServerTextParser {
            client: self,
            structure: setup.structure.clone(),
            supported: setup.major >= 21,
            detects_headers: setup.major >= 23,
        }
    }

    /// Rows of `input` in `format` for `columns` (name, type), read as the server reads them:
    /// `TabSeparated`, `CSV` and `JSONEachRow` rows in the server's own forms are read here, any other
    /// row by the server's parser (see [`crate::format::input`]); `Native` is decoded here. The
    /// client's settings that change text input are honoured (rows then all go to the server).
    pub fn input_rows<'a, R: BufRead + 'a>(
        &'a self,
        format: InputFormat,
        input: R,
        columns: &[(String, TypeDesc)],
    ) -> Result<Box<dyn RowReader + 'a>> {
        if format == InputFormat::Native {
            return Ok(Box::new(NativeReader::new(input, columns.to_vec())));
        }
        self.input_rows_with_defaults(format, input, columns, &[])
    }

    /// [`Client::input_rows`] where the server applies the `DEFAULT` expression `defaults[i]` to an
    /// omitted field of column `i`.
    fn input_rows_with_defaults<'a, R: BufRead + 'a>(
        &'a self,
        format: InputFormat,
        input: R,
        columns: &[(String, TypeDesc)],
        defaults: &[Option<String>],
    ) -> Result<Box<dyn RowReader + 'a>> {
        if format == InputFormat::Native {
            return Ok(Box::new(NativeReader::new(input, columns.to_vec())));
        }
        let setup = self.text_setup(format, columns, defaults)?;
        let server = self.server_text_parser(&setup);
        let rows =
            TextRows::new(format, input, columns.to_vec(), self.server_timezone(), setup.canonical, Box::new(server))?
                .with_uncertain_zones(setup.uncertain)
                .with_csv_dialect(setup.csv)
                .with_server_defaults(setup.server_defaults)
                .with_skipped_lines(setup.skip_lines, setup.skip_trailing_empty);
        Ok(Box::new(if setup.major < 19 { rows.for_legacy_server() } else { rows }))
    }

    /// Copies every row of `input` in `format` into `inserter` — the rows [`Client::input_rows`]
    /// reads, with the result of [`crate::format::read::copy_rows`] (the rows written and the input
    /// error that stopped the copy, the rows before it written whole; `Err` when the insert itself
    /// failed). `each` is called with the count of rows read so far, from time to time.
    ///
    /// Text the client reads itself is read on two threads: the input is split into chunks of whole
    /// rows here, each chunk is read and encoded into a Native block on one of two worker threads
    /// ([`crate::BlockBuilder`]), and the blocks are sent in input order. The values of a row are made
    /// and dropped on one thread. Under settings that change text input every row is the server's to
    /// read, and rows are read one at a time.
    pub fn copy_input<R: BufRead>(
        &self,
        format: InputFormat,
        input: R,
        columns: &[(String, TypeDesc)],
        inserter: &mut crate::Inserter,
        mut each: impl FnMut(u64),
    ) -> Result<(u64, Option<Error>)> {
        let defaults = inserter.server_defaults().to_vec();
        let setup =
            if format == InputFormat::Native { None } else { Some(self.text_setup(format, columns, &defaults)?) };
        let Some(setup) = setup.filter(|s| s.canonical) else {
            let mut rows = self.input_rows_with_defaults(format, input, columns, &defaults)?;
            return crate::format::read::copy_rows(rows.as_mut(), inserter, each);
        };
        let chunker = Chunker::new(format, input)?.with_csv_dialect(setup.csv);
        parallel_copy(self, format, chunker, columns, &setup, inserter, &mut each)
    }
}

/// Chunks of the input read and encoded at once (the memory in flight: about this many chunks).
const IN_FLIGHT: usize = 6;
/// The most bytes of text in one chunk (its rows are one block).
const CHUNK_BYTES: usize = 8 << 20;

/// What a worker made of one chunk: its block, its rows, the input error that ended it (the rows
/// before it are in the block) or the failure that ends the copy, and the chunk to reuse.
struct ChunkDone {
    block: crate::EncodedBlock,
    rows: u64,
    /// Rows the server found minus rows split (see [`TextRows::row_adjustment`]).
    adjust: i64,
    /// The index of the chunk's row from which the rows for the server's parser ran to its end,
    /// unread (see [`TextRows::tail`]).
    tail: Option<usize>,
    failure: Option<Error>,
    fatal: Option<Error>,
    chunk: Chunk,
}

fn parallel_copy<R: BufRead>(
    client: &Client,
    format: InputFormat,
    mut chunker: Chunker<R>,
    columns: &[(String, TypeDesc)],
    setup: &TextSetup,
    inserter: &mut crate::Inserter,
    each: &mut dyn FnMut(u64),
) -> Result<(u64, Option<Error>)> {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::mpsc::{channel, sync_channel};
    let chunk_rows = inserter.block_rows();
    let builders = [inserter.block_builder()?, inserter.block_builder()?];
    // The sending thread's own, for runs of the server's rows that cross chunks.
    let own_builder = inserter.block_builder()?;
    // Chunks go round: the splitter fills one, a worker reads it, the sender returns it (so at most
    // IN_FLIGHT are anywhere at once, results waiting for their turn included).
    let (free_tx, free_rx) = sync_channel::<(Chunk, crate::EncodedBlock)>(IN_FLIGHT);
    for _ in 0..IN_FLIGHT {
        let _ = free_tx.send((Chunk::default(), crate::EncodedBlock::new()));
    }
    let (work_tx, work_rx) = sync_channel::<(usize, Result<(Chunk, crate::EncodedBlock)>)>(IN_FLIGHT);
    let work_rx = std::sync::Mutex::new(work_rx);
    let (done_tx, done_rx) = channel::<(usize, ChunkDone)>();
    let stop = AtomicBool::new(false);
    let tz = client.server_timezone();
    std::thread::scope(|scope| {
        let (work_rx, stop) = (&work_rx, &stop);
        for mut builder in builders {
            let done_tx = done_tx.clone();
            scope.spawn(move || {
                let mut row = Vec::new();
                loop {
                    let next = work_rx.lock().unwrap_or_else(|e| e.into_inner()).recv();
                    let Ok((index, item)) = next else { break };
                    let done = match item {
                        Err(e) => ChunkDone {
                            block: crate::EncodedBlock::new(),
                            rows: 0,
                            adjust: 0,
                            tail: None,
                            failure: Some(e),
                            fatal: None,
                            chunk: Chunk::default(),
                        },
                        Ok((chunk, block)) if stop.load(Ordering::Relaxed) => {
                            ChunkDone { block, rows: 0, adjust: 0, tail: None, failure: None, fatal: None, chunk }
                        }
                        Ok((chunk, block)) => {
                            ReadChunk { client, format, columns, setup, tz }.read(chunk, block, &mut builder, &mut row)
                        }
                    };
                    if done_tx.send((index, done)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        // The sender: blocks in input order.
        let sender = scope.spawn(move || -> Result<(u64, Option<Error>)> {
            let mut order = InOrder {
                inserter,
                written: 0,
                adjust: 0,
                outcome: None,
                carry: None,
                carry_read: 0,
                own: (own_builder, crate::EncodedBlock::new(), Vec::new()),
                read: ReadChunk { client, format, columns, setup, tz },
            };
            let mut waiting = std::collections::BTreeMap::new();
            let mut next = 0usize;
            for (index, done) in done_rx {
                waiting.insert(index, done);
                while let Some(done) = waiting.remove(&next) {
                    next += 1;
                    if let Some((chunk, block)) = order.take(done) {
                        let _ = free_tx.try_send((chunk, block));
                    }
                    if order.outcome.is_some() {
                        stop.store(true, Ordering::Relaxed);
                    }
                }
            }
            order.finish()
        });
        // The splitter (this thread, which owns the input).
        let mut index = 0;
        while !stop.load(Ordering::Relaxed) {
            let Ok((mut chunk, block)) = free_rx.recv() else { break };
            let item = match chunker.fill(&mut chunk, chunk_rows, CHUNK_BYTES) {
                Ok(false) => break,
                Ok(true) => {
                    each(chunk.first_row() + chunk.rows() as u64 - 1);
                    Ok((chunk, block))
                }
                Err(e) => Err(e),
            };
            let last = item.is_err();
            if work_tx.send((index, item)).is_err() || last {
                break;
            }
            index += 1;
        }
        drop(work_tx);
        drop(free_rx);
        sender.join().map_err(|_| Error::internal("the insert's sending thread panicked"))?
    })
}

/// What reading a chunk needs.
#[derive(Clone, Copy)]
struct ReadChunk<'a> {
    client: &'a Client,
    format: InputFormat,
    columns: &'a [(String, TypeDesc)],
    setup: &'a TextSetup,
    tz: &'a str,
}

impl ReadChunk<'_> {
    /// Reads one chunk into `builder` and encodes its rows into `block`.
    fn read(
        &self,
        chunk: Chunk,
        mut block: crate::EncodedBlock,
        builder: &mut crate::BlockBuilder,
        row: &mut Vec<crate::Value<'static>>,
    ) -> ChunkDone {
        let (setup, first_row) = (self.setup, chunk.first_row());
        let server = Box::new(self.client.server_text_parser(setup));
        let rows = match TextRows::of_chunk(self.format, chunk, self.columns.to_vec(), self.tz, true, server) {
            Ok(r) => {
                r.with_uncertain_zones(setup.uncertain.clone()).with_server_defaults(setup.server_defaults.clone())
            }
            Err(e) => {
                let chunk = Chunk::default();
                return ChunkDone { block, rows: 0, adjust: 0, tail: None, failure: None, fatal: Some(e), chunk };
            }
        };
        let mut rows = if setup.major < 19 { rows.for_legacy_server() } else { rows };
        let (mut written, mut failure) = (0u64, None);
        loop {
            match rows.next_row(row) {
                Ok(true) => match builder.write(row) {
                    Ok(()) => written += 1,
                    Err(Error::Input { column, message, .. }) => {
                        let (at, line) = rows.position();
                        failure = Some(Error::Input { row: at, line, column, message });
                        break;
                    }
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                },
                Ok(false) => break,
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        // The values are dropped on the thread that made them.
        row.clear();
        let fatal = builder.finish(&mut block).err();
        let (adjust, tail) = (rows.row_adjustment(), rows.tail().map(|r| (r - first_row) as usize));
        let chunk = rows.into_chunk().unwrap_or_default();
        ChunkDone { block, rows: written, adjust, tail, failure, fatal, chunk }
    }
}

/// The sending side: chunks' blocks to the inserter in input order, a run of the server's rows that
/// reached a chunk's end read again together with the next chunk, the first failure kept.
struct InOrder<'a> {
    inserter: &'a mut crate::Inserter,
    written: u64,
    /// The server's row numbers differ from the split's by this much after the chunks so far.
    adjust: i64,
    outcome: Option<Result<Option<Error>>>,
    /// Rows left unread at the end of the last chunk, to be read with the next one.
    carry: Option<Chunk>,
    /// The rows of the carried run when it was last read.
    carry_read: usize,
    own: (crate::BlockBuilder, crate::EncodedBlock, Vec<crate::Value<'static>>),
    read: ReadChunk<'a>,
}

impl InOrder<'_> {
    /// Takes the next chunk in order; returns its buffers when they are the workers' to reuse.
    fn take(&mut self, mut done: ChunkDone) -> Option<(Chunk, crate::EncodedBlock)> {
        let mut returned = None;
        if self.outcome.is_some() {
            return Some((done.chunk, done.block));
        }
        if let Some(mut carry) = self.carry.take() {
            // A read failure of the input ends it where it is; otherwise the worker read this chunk from
            // the middle of a run of the server's rows: the run and the chunk are read again, here —
            // once the run has at least doubled since it was last read (or the input ends), so that a
            // run over many chunks is read a few times, not once per chunk.
            if done.fatal.is_none() && !(done.failure.is_some() && done.chunk.rows() == 0) {
                carry.append(&done.chunk);
                let buffers = (std::mem::take(&mut done.chunk), std::mem::take(&mut done.block));
                if !carry.is_last() && carry.rows() < 2 * self.carry_read {
                    self.carry = Some(carry);
                    return Some(buffers);
                }
                returned = Some(buffers);
                let (builder, block, row) = &mut self.own;
                done = self.read.read(carry, std::mem::take(block), builder, row);
            }
        }
        self.settle(&mut done);
        match returned {
            Some(buffers) => {
                self.own.1 = done.block;
                Some(buffers)
            }
            None => Some((done.chunk, done.block)),
        }
    }

    /// Sends a chunk's block and keeps its failure or its unread rows.
    fn settle(&mut self, done: &mut ChunkDone) {
        if let Err(e) = self.inserter.write_block(&done.block) {
            self.outcome = Some(Err(e));
            return;
        }
        self.written += done.rows;
        if let Some(e) = done.fatal.take() {
            self.outcome = Some(Err(e));
        } else if let Some(mut e) = done.failure.take() {
            if let Error::Input { row, .. } = &mut e {
                *row = row.saturating_add_signed(self.adjust).max(1);
            }
            self.outcome = Some(Ok(Some(e)));
        } else if let Some(t) = done.tail {
            let carry = done.chunk.tail_and(t, &Chunk::default());
            self.carry_read = carry.rows();
            self.carry = Some(carry);
        }
        self.adjust += done.adjust;
    }

    /// After the last chunk: reads what was left unread, and says how the copy ended.
    fn finish(mut self) -> Result<(u64, Option<Error>)> {
        if let (None, Some(carry)) = (&self.outcome, self.carry.take()) {
            let (builder, block, row) = &mut self.own;
            let mut done = self.read.read(carry.tail_as_last(0), std::mem::take(block), builder, row);
            self.settle(&mut done);
        }
        self.outcome.unwrap_or(Ok(None)).map(|failure| (self.written, failure))
    }
}
