//! The streaming inserter: what ingestion pipelines use.
//!
//! Rows (or values column by column) go into per-column builders; every `block_rows` rows the builders
//! are encoded into one Native block, compressed as the client is configured (ClickHouse frames, or an
//! HTTP Content-Encoding streamed block by block: zstd frames, or gzip/deflate sync-flushed), and
//! handed to a worker thread through a channel that holds at most two blocks. The worker runs one
//! `INSERT … FORMAT Native` request whose body libcurl pulls from that channel (chunked transfer), so
//! the client's memory is bounded by the builders plus a handful of block buffers however much is
//! inserted, and a slow server slows the producer instead of filling memory. Block buffers go round:
//! the worker hands each buffer it has sent back through a second small channel (at most four wait
//! there), and the next block is encoded into it, so a long insert reuses the same few buffers instead
//! of allocating (and page-faulting) a fresh one per block.
//!
//! ## When something fails
//! Nothing is reported inserted before the server has acknowledged the request that carried it (at
//! [`Inserter::end`], or when a [`RequestLimits`] limit ends a request). After any failure — the
//! server rejects data, the connection breaks or stalls, a value does not fit its column — the
//! inserter is **finished**: that call and every later one, `end()` included, return the same
//! [`Error::Insert`], which says how many rows the server acknowledged (in how many requests), how many
//! rows went out in the failed request (their fate is unknown: ClickHouse commits an insert block by
//! block, and a connection can break after the server committed), and how many were never sent. A
//! failed request is never silently replaced by a new one.
//!
//! ## Exactly once
//! [`Inserter::exactly_once`] makes a broken connection harmless: every request carries an
//! `insert_deduplication_token` made of a caller-given stream id and the request's sequence number, the
//! encoded blocks of the request in flight are kept until the server acknowledges it, and a request
//! that fails for a reason a retry can fix (a transport error, HTTP 502–504, a few transient server
//! errors) is sent again, byte for byte, with the same token. On a Replicated table, or a MergeTree
//! with `non_replicated_deduplication_window` > 0, the server then drops the blocks it already
//! committed, so every row lands exactly once however often the connection breaks. Memory grows by
//! the request in flight (bounded by the request limits; 64 MiB of encoded bytes unless set).
//!
//! ```no_run
//! # use clickhouse_connect::{Client, Value};
//! # let client = Client::from_url("http://localhost:8123")?;
//! let mut ins = client.inserter("events", &["id", "name"], 100_000)?;
//! for i in 0..1_000_000u64 {
//!     ins.write(&[Value::from(i), Value::from(format!("event {i}"))])?;
//! }
//! let summary = ins.end()?;
//! println!("{} rows in {} blocks", summary.rows, summary.blocks);
//! # Ok::<(), clickhouse_connect::Error>(())
//! ```

use super::{CallOptions, Client};
use crate::error::{Error, Result};
use crate::native::encoder::write_block_from;
use crate::native::{Block, ColumnEncoder};
use crate::native::{ValueBuilder, builder_for};
use crate::params::lex::{Dialect, Lexer, Region, is_word};
use crate::transport::compression::BodyEncoder;
use crate::transport::{Request, ResponseMeta, Summary, Transport};
use crate::types::TypeDesc;
use crate::value::Value;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

/// What the server acknowledged for a finished insert (`server` adds up every request's summary).
#[derive(Clone, Debug, Default)]
pub struct InsertSummary {
    /// Rows sent (all acknowledged, since `end` succeeded).
    pub rows: u64,
    /// Native blocks sent.
    pub blocks: u64,
    /// Encoded bytes sent (after compression).
    pub bytes: u64,
    /// HTTP requests used (more than one with [`RequestLimits`]).
    pub requests: u64,
    /// The server's summary (`written_rows`, …), when it sent one (26.9).
    pub server: Option<Summary>,
    /// The query id of the insert (of its last request).
    pub query_id: Option<String>,
    /// Requests sent again after a failure (exactly-once inserts only).
    pub retried_requests: u64,
    /// The endpoint (base URL) that acknowledged the last request.
    pub endpoint: Option<String>,
}

/// When a streaming insert ends its current request and starts the next one (each request is one
/// INSERT the server commits on its own). `None` everywhere (the default) means one request.
#[derive(Clone, Copy, Debug, Default)]
pub struct RequestLimits {
    /// Rows per request.
    pub max_rows: Option<u64>,
    /// Encoded bytes per request.
    pub max_bytes: Option<u64>,
    /// Time per request.
    pub max_duration: Option<std::time::Duration>,
}

/// An inserter's builders, lent to write one row of a serde type (`crate::row`).
#[cfg(feature = "serde")]
pub(crate) struct RowParts<'p> {
    pub(crate) builders: &'p mut [Box<dyn ValueBuilder>],
    pub(crate) coercion: &'p mut super::coerce::Coercion,
    pub(crate) types: &'p [TypeDesc],
    pub(crate) convertible: &'p [bool],
    pub(crate) columns: &'p [(String, String)],
    /// Rows of the insert before this one.
    pub(crate) at: u64,
}

/// A fresh identity for an insert's columns.
fn next_shape() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// Pushes one row into `builders` (a value converted first when its column converts such values); a
/// value a column does not take leaves no trace — every builder is cut back to its rows before — and
/// the error names the column, with `at + 1` as the row.
fn push_row(
    builders: &mut [Box<dyn ValueBuilder>],
    coercion: &mut super::coerce::Coercion,
    types: &[TypeDesc],
    convertible: &[bool],
    columns: &[(String, String)],
    row: &[Value<'_>],
    at: u64,
) -> Result<()> {
    if row.len() != builders.len() {
        return Err(Error::usage(format!("row has {} values for {} columns", row.len(), builders.len())));
    }
    let before = builders.first().map_or(0, |b| b.rows());
    let failed = builders.iter_mut().zip(row).enumerate().find_map(|(i, (b, v))| {
        // Only values that may need converting, into columns that convert, take the conversion
        // path (the common case, a value of its column's kind, goes straight to the builder).
        let pushed = if convertible[i] && super::coerce::may_convert(v) {
            coercion.coerce(v, &types[i]).and_then(|v| b.push(&v))
        } else {
            b.push(v)
        };
        pushed.err().map(|e| (i, e))
    });
    if let Some((i, e)) = failed {
        for b in builders.iter_mut() {
            b.truncate(before);
        }
        let (name, t) = &columns[i];
        return Err(Error::Input { row: at + 1, line: 0, column: Some(name.clone()), message: format!("{t}: {e}") });
    }
    Ok(())
}

/// Rows of one insert encoded into Native blocks apart from the [`Inserter`] — on another thread —
/// to be sent by it in order ([`Inserter::block_builder`], [`Inserter::write_block`]). Values are
/// checked and converted exactly as [`Inserter::write`] does.
pub struct BlockBuilder {
    shape: u64,
    columns: Vec<(String, String)>,
    types: Vec<TypeDesc>,
    builders: Vec<Box<dyn ValueBuilder>>,
    coercion: super::coerce::Coercion,
    convertible: Vec<bool>,
}

impl BlockBuilder {
    /// Appends a row; a value a column does not take is refused with the whole row
    /// ([`Error::Input`], its row counted from 1 in this builder's block).
    pub fn write(&mut self, row: &[Value<'_>]) -> Result<()> {
        let at = self.rows() as u64;
        push_row(&mut self.builders, &mut self.coercion, &self.types, &self.convertible, &self.columns, row, at)
    }

    /// Rows written since the last [`BlockBuilder::finish`].
    pub fn rows(&self) -> usize {
        self.builders.first().map_or(0, |b| b.rows())
    }

    /// Encodes the rows written so far into `block` (replacing what it held) and starts a new block.
    pub fn finish(&mut self, block: &mut EncodedBlock) -> Result<()> {
        let rows = self.rows();
        let named =
            self.columns.iter().zip(&self.builders).map(|((n, _), b)| (n.as_str(), b.as_ref() as &dyn ColumnEncoder));
        block.bytes.clear();
        write_block_from(&mut block.bytes, named)?;
        block.rows = rows;
        block.shape = self.shape;
        for b in &mut self.builders {
            b.clear();
        }
        Ok(())
    }
}

/// A Native block made by a [`BlockBuilder`], for [`Inserter::write_block`] (reusable: its buffer is
/// kept by the next [`BlockBuilder::finish`]).
#[derive(Default)]
pub struct EncodedBlock {
    bytes: Vec<u8>,
    rows: usize,
    shape: u64,
}

impl EncodedBlock {
    /// An empty block.
    pub fn new() -> Self {
        Self::default()
    }

    /// Its rows.
    pub fn rows(&self) -> usize {
        self.rows
    }
}

/// A streaming insert into one table; see the module docs.
pub struct Inserter {
    /// The table as the caller named it.
    table: String,
    columns: Vec<(String, String)>,
    /// The columns' types, parsed.
    types: Vec<TypeDesc>,
    builders: Vec<Box<dyn ValueBuilder>>,
    block_rows: usize,
    encoding: BodyEncoder,
    /// The request in flight, if one is.
    flight: Option<InFlight>,
    /// The body of the request in flight is complete (its trailer sent).
    body_ended: bool,
    /// Requests run on the async client's I/O thread instead of a thread of their own.
    #[cfg(feature = "async")]
    driver: Option<Arc<Transport>>,
    /// The Native block being encoded (kept between blocks for its capacity).
    scratch: Vec<u8>,
    /// Sent buffers coming back from the worker, to be reused.
    returned: (SyncSender<Vec<u8>>, Receiver<Vec<u8>>),
    summary: InsertSummary,
    transport: Arc<Transport>,
    params: Arc<Vec<(String, String)>>,
    limits: RequestLimits,
    /// Rows, bytes and start time of the current request.
    request: (u64, u64, std::time::Instant),
    /// Set by `end`: nothing more can be written.
    ended: bool,
    /// The error that finished the insert, returned again by every later call.
    failure: Option<Error>,
    /// Rows and requests the server acknowledged.
    acknowledged: (u64, u64),
    /// Exactly-once mode: the stream id, retries allowed per request, and the encoded blocks of the
    /// request in flight (with their rows) kept for a resend.
    exactly_once: Option<ExactlyOnce>,
    /// Requests started so far (the sequence number of the next one).
    sequence: u64,
    /// Resends of the request in flight so far.
    attempt: u32,
    /// The query id of the request in flight (or of the last one).
    request_query_id: Option<String>,
    /// How long one request may take (the call's or the client's timeout).
    timeout: Option<std::time::Duration>,
    /// The session the requests run in (each takes its turn, as every call does), by id.
    session: Option<(String, Arc<super::session::SessionLock>)>,
    /// Where the request in flight goes (a resend of an exactly-once insert may go elsewhere).
    route: super::Route,
    /// The call's progress callback, called from the request's thread.
    progress: Option<super::ProgressCallback>,
    /// For server errors whose text does not carry the version.
    server_version: String,
    /// Driver-compatible conversions of values (text for dates, floats for decimals, …).
    coercion: super::coerce::Coercion,
    /// The server's time zone, for the conversions of block builders.
    coercion_zone: String,
    /// Identifies this insert's columns (see [`Inserter::write_block`]).
    shape: u64,
    /// Per column: the `DEFAULT` expression the server applies to an omitted field, for columns that
    /// cannot take NULL for it (see [`Inserter::defaults_as_nulls`]).
    server_defaults: Vec<Option<String>>,
    /// Per column: whether any value converts for it (see `coerce::converts_for`).
    convertible: Vec<bool>,
    /// The table's description this insert was made from (name, type, default kind and expression).
    described: super::Description,
    /// Rows of the block being sent while it is not yet part of the request (it did not go out): unsent.
    stranded: u64,
    /// What requests may ask the server to refuse rather than convert ([`Client::strict_types_params`]):
    /// they do when every column is sent as described.
    strictness: super::insert::Strictness,
}

struct ExactlyOnce {
    stream_id: String,
    max_retries: u32,
    replay: Vec<(Vec<u8>, usize)>,
    /// Blocks a request may have: the table's deduplication window less a margin for other writers
    /// (a resent request's blocks must all still be in the window).
    max_blocks: u64,
    /// The table is to be checked again before the first block (what is sent changed).
    recheck: bool,
}

/// Blocks a request into a table with deduplication window `window` may have.
fn blocks_within(window: u64) -> u64 {
    window.saturating_sub(10).max(1)
}

/// The value of `name = N` in an engine's own `SETTINGS` clause (the last `SETTINGS` in code at the top
/// level, `name` at the start of one of its assignments), read with the crate's SQL lexer under every
/// lexer of `dialects`: the same words anywhere else (a column, an `ORDER BY` expression, a comment, a
/// string) do not count.
fn engine_setting(sql: &[u8], name: &[u8], dialects: &[Dialect]) -> Option<u64> {
    let mut at = CodeAt::new(sql, dialects);
    // Where each top-level word of code starts and ends, and the top-level commas and `=` signs.
    let (mut depth, mut tokens) = (0usize, Vec::<(usize, usize)>::new());
    let mut i = 0;
    while i < sql.len() {
        let c = sql[i];
        if !at.code(i) {
            i += 1;
            continue;
        }
        match c {
            b'(' | b'[' => depth += 1,
            b')' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth == 0 && (is_word(c) || c == b',' || c == b'=') {
            let end = if is_word(c) {
                sql[i..].iter().position(|b| !is_word(*b)).map_or(sql.len(), |p| i + p)
            } else {
                i + 1
            };
            tokens.push((i, end));
            i = end;
            continue;
        }
        i += 1;
    }
    let word = |t: &(usize, usize)| &sql[t.0..t.1];
    let clause = tokens.iter().rposition(|t| word(t).eq_ignore_ascii_case(b"SETTINGS"))?;
    let mut found = None;
    let rest = &tokens[clause + 1..];
    for (k, t) in rest.iter().enumerate() {
        let starts = k == 0 || word(&rest[k - 1]) == b",";
        if starts && word(t) == name && rest.get(k + 1).map(word) == Some(b"=") {
            // The value: a number, or a string literal holding one (`= '1000'` is stored so).
            let after = std::str::from_utf8(&sql[rest[k + 1].1..]).unwrap_or("").trim_start();
            let value = match after.strip_prefix('\'') {
                Some(quoted) => quoted.split('\'').next().unwrap_or(""),
                None => after,
            };
            let digits = &value[..value.find(|c: char| !c.is_ascii_digit()).unwrap_or(value.len())];
            found = digits.parse().ok();
        }
    }
    found
}

/// A name as the server writes it in SQL: a `'…'` string literal (as `Distributed` arguments are
/// rendered), a `` `…` `` or `"…"` quoted identifier (backslash escapes and doubled quotes), or a bare
/// identifier; `None` for anything else (an expression such as `currentDatabase()`).
fn sql_name(text: &str) -> Option<String> {
    let t = text.trim();
    let b = t.as_bytes();
    match b.first()? {
        &q @ (b'\'' | b'`' | b'"') => {
            let mut out = Vec::new();
            let mut i = 1;
            while i < b.len() {
                match b[i] {
                    b'\\' => {
                        let e = *b.get(i + 1)?;
                        out.push(match e {
                            b'x' => {
                                let hex = std::str::from_utf8(b.get(i + 2..i + 4)?).ok()?;
                                i += 2;
                                u8::from_str_radix(hex, 16).ok()?
                            }
                            other => crate::types::escaped(other),
                        });
                        i += 2;
                    }
                    c if c == q && b.get(i + 1) == Some(&q) => {
                        out.push(q);
                        i += 2;
                    }
                    // The closing quote must end the text.
                    c if c == q => return (i + 1 == b.len()).then(|| String::from_utf8(out).ok()).flatten(),
                    c => {
                        out.push(c);
                        i += 1;
                    }
                }
            }
            None
        }
        c if c.is_ascii_alphabetic() || *c == b'_' => b.iter().all(|c| is_word(*c)).then(|| t.to_string()),
        _ => None,
    }
}

/// A table as named in SQL, `[db.]name` with either part quoted: its database (when named) and name.
fn table_name(table: &str) -> Option<(Option<String>, String)> {
    // The first `.` outside quotes splits the two.
    let b = table.as_bytes();
    let (mut quote, mut i, mut split) = (None::<u8>, 0, None);
    while i < b.len() {
        match (quote, b[i]) {
            (Some(_), b'\\') => i += 1,
            (Some(q), c) if c == q => quote = None,
            (None, c @ (b'`' | b'"')) => quote = Some(c),
            (None, b'.') if split.is_none() => split = Some(i),
            _ => {}
        }
        i += 1;
    }
    match split {
        Some(p) => Some((Some(sql_name(&table[..p])?), sql_name(&table[p + 1..])?)),
        None => Some((None, sql_name(table)?)),
    }
}

/// Whether every byte asked about stands in code (not in a quote, comment or heredoc) under every lexer
/// of `dialects`; positions asked must not go back.
struct CodeAt<'a>(Vec<Lexer<'a>>);

impl<'a> CodeAt<'a> {
    fn new(sql: &'a [u8], dialects: &[Dialect]) -> Self {
        CodeAt(dialects.iter().map(|d| Lexer::new(sql, *d)).collect())
    }
    fn code(&mut self, i: usize) -> bool {
        self.0.iter_mut().all(|l| l.region_of(i) == Region::Code)
    }
}

/// The arguments of `Distributed(…)` in an engine's full text, split at its top-level commas; quotes
/// and comments are read by the crate's SQL lexer (a comma, parenthesis or name in them is text).
fn distributed_args(engine_full: &str, dialects: &[Dialect]) -> Vec<String> {
    const NAME: &[u8] = b"Distributed(";
    let b = engine_full.as_bytes();
    let mut at = CodeAt::new(b, dialects);
    let Some(open) = memchr::memmem::find_iter(b, NAME).find(|&p| (p == 0 || !is_word(b[p - 1])) && at.code(p)) else {
        return Vec::new();
    };
    let start = open + NAME.len();
    let (mut args, mut depth, mut from) = (Vec::new(), 0usize, start);
    for i in start..b.len() {
        if !matches!(b[i], b'(' | b')' | b',') || !at.code(i) {
            continue;
        }
        match b[i] {
            b'(' => depth += 1,
            b')' if depth > 0 => depth -= 1,
            b',' if depth > 0 => {}
            // The closing parenthesis or a top-level comma ends an argument.
            c => {
                args.push(engine_full[from..i].trim().to_string());
                if c == b')' {
                    return args;
                }
                from = i + 1;
            }
        }
    }
    Vec::new()
}

/// The names of the functions `expr` calls (names in code followed by `(`), in order, each once;
/// quotes and comments are read by the crate's SQL lexer.
fn function_calls(expr: &str, dialects: &[Dialect]) -> Vec<String> {
    let b = expr.as_bytes();
    let mut at = CodeAt::new(b, dialects);
    let mut calls: Vec<String> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let starts = (b[i].is_ascii_alphabetic() || b[i] == b'_') && (i == 0 || !is_word(b[i - 1]));
        if !starts {
            i += 1;
            continue;
        }
        let end = b[i..].iter().position(|c| !is_word(*c)).map_or(b.len(), |p| i + p);
        let open = b[end..].iter().position(|c| !c.is_ascii_whitespace()).map_or(b.len(), |p| end + p);
        if b.get(open) == Some(&b'(') && at.code(i) && at.code(open) {
            let name = &expr[i..end];
            if !calls.iter().any(|c| c == name) {
                calls.push(name.to_string());
            }
            i = open + 1;
        } else {
            i = end;
        }
    }
    calls
}

/// The column names `expr` (as the server renders it: no comments) mentions: bare names not followed by
/// `(`, and quoted names; string literals skipped.
fn column_names(expr: &str) -> Vec<String> {
    let b = expr.as_bytes();
    let mut names = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'\'' | b'`' | b'"') => {
                let mut j = i + 1;
                while j < b.len() {
                    match b[j] {
                        b'\\' => j += 2,
                        c if c == q && b.get(j + 1) == Some(&q) => j += 2,
                        c if c == q => break,
                        _ => j += 1,
                    }
                }
                let end = (j + 1).min(b.len());
                if q != b'\'' {
                    names.extend(sql_name(&expr[i..end]));
                }
                i = end;
            }
            c if (c.is_ascii_alphabetic() || c == b'_') && (i == 0 || !is_word(b[i - 1])) => {
                let end = b[i..].iter().position(|c| !is_word(*c)).map_or(b.len(), |p| i + p);
                let call = b[end..].iter().find(|c| !c.is_ascii_whitespace()) == Some(&b'(');
                if !call {
                    names.push(expr[i..end].to_string());
                }
                i = end;
            }
            _ => i += 1,
        }
    }
    names
}

/// The first function call in `expr` whose result changes from call to call (so the same rows split
/// differently each time), if any: for servers whose `system.functions` does not say.
fn nondeterministic_call(expr: &str, dialects: &[Dialect]) -> Option<String> {
    function_calls(expr, dialects).into_iter().find(|word| {
        let lower = word.to_ascii_lowercase();
        lower.starts_with("rand")
            || lower.starts_with("generate")
            || lower.starts_with("now")
            || lower.starts_with("rownumber")
            || matches!(lower.as_str(), "today" | "yesterday" | "blocknumber" | "uuid" | "serverueid" | "hostname")
    })
}

/// The smallest deduplication window an exactly-once insert accepts on a non-replicated MergeTree.
const MIN_WINDOW: u64 = 100;

/// `s` inside a single-quoted SQL string.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\'', "\\'")
}

/// The request in flight: where its body goes, and how its answer is awaited.
enum InFlight {
    /// A thread of its own runs the transfer (the blocking client).
    Thread { tx: Option<SyncSender<Vec<u8>>>, worker: JoinHandle<Result<ResponseMeta>> },
    /// A job of the async client's I/O thread.
    #[cfg(feature = "async")]
    Job(crate::client::nonblocking::InsertJob),
}

/// Buffers that wait to be reused; more than this are dropped.
const RETURNED_BUFFERS: usize = 4;

/// The request body: encoded blocks as they arrive from the channel. Each buffer, once sent, goes back
/// to the inserter through `back` (when it has room).
struct ChannelReader {
    rx: Receiver<Vec<u8>>,
    back: SyncSender<Vec<u8>>,
    current: Vec<u8>,
    pos: usize,
    /// libcurl has asked for body bytes (so the request cannot simply go elsewhere).
    asked: bool,
}

impl std::io::Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.asked = true;
        while self.pos == self.current.len() {
            match self.rx.recv() {
                Ok(next) => {
                    let sent = std::mem::replace(&mut self.current, next);
                    if sent.capacity() > 0 {
                        let _ = self.back.try_send(sent);
                    }
                    self.pos = 0;
                }
                // The producer finished (or gave up): end of body.
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len() - self.pos);
        buf[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl Client {
    /// Starts a streaming insert into `table` (`column_names` empty means all columns; types come from
    /// the server). Blocks of `block_rows` rows are encoded and streamed as rows arrive.
    pub fn inserter(&self, table: &str, column_names: &[&str], block_rows: usize) -> Result<Inserter> {
        self.inserter_with(table, column_names, block_rows, &CallOptions::default())
    }

    /// [`Client::inserter`] with per-call options (e.g. `insert_deduplication_token`, `async_insert`).
    pub fn inserter_with(
        &self,
        table: &str,
        column_names: &[&str],
        block_rows: usize,
        opts: &CallOptions,
    ) -> Result<Inserter> {
        if block_rows == 0 {
            return Err(Error::usage("block_rows must be positive"));
        }
        let (columns, described) = self.insert_columns_described(table, column_names, opts)?;
        let types = columns.iter().map(|(_, t)| TypeDesc::parse(t)).collect::<Result<Vec<_>>>()?;
        let builders = types.iter().map(builder_for).collect::<Result<Vec<_>>>()?;
        let builders_len = builders.len();
        let names: Vec<String> = columns.iter().map(|(n, _)| super::quote_identifier(n)).collect();
        let sql = format!("INSERT INTO {} ({}) FORMAT Native", super::insert::quote_table(table), names.join(", "));
        let encoding = self.call_compression(opts, "decompress").request_encoder();
        let mut extra = vec![("query", sql.as_str())];
        if encoding.is_frames() {
            extra.push(("decompress", "1"));
        }
        let params = Arc::new(self.params(opts, &extra)?);
        let convertible = types.iter().map(super::coerce::converts_for).collect();
        let ins = Inserter {
            table: table.to_string(),
            columns,
            types,
            builders,
            block_rows,
            encoding,
            flight: None,
            body_ended: false,
            #[cfg(feature = "async")]
            driver: None,
            scratch: Vec::new(),
            returned: sync_channel(RETURNED_BUFFERS),
            summary: InsertSummary::default(),
            transport: self.transport.clone(),
            params,
            limits: RequestLimits::default(),
            request: (0, 0, std::time::Instant::now()),
            ended: false,
            failure: None,
            acknowledged: (0, 0),
            exactly_once: None,
            sequence: 0,
            attempt: 0,
            request_query_id: None,
            timeout: opts.timeout.or(self.options.timeout),
            session: self.session_lock(opts),
            route: self.route(opts)?,
            progress: opts.on_progress.clone(),
            server_version: self.server_version.clone(),
            coercion: super::coerce::Coercion::new(&self.session_timezone(opts)),
            coercion_zone: self.session_timezone(opts),
            shape: next_shape(),
            server_defaults: vec![None; builders_len],
            convertible,
            described,
            strictness: self.strictness(opts)?,
            stranded: 0,
        };
        // Requests start with their first block, so limits never produce an empty request.
        Ok(ins)
    }
}

impl Inserter {
    /// Columns with a `DEFAULT` expression take NULL for "the column's default": each such column of a
    /// type that can be Nullable is sent as `Nullable(T)` (`LowCardinality(Nullable(T))` for a
    /// `LowCardinality(T)`; [`Inserter::columns`] says so), and the
    /// server fills every NULL with the column's expression — as its own text formats do for an
    /// omitted field (`input_format_null_as_default`, on by default). What `chc insert` does, so that a
    /// JSON row without `ts` gets `DEFAULT now()`, not 1970. Call before writing rows.
    pub fn defaults_as_nulls(mut self) -> Result<Self> {
        if !self.server_converts_native() {
            return Err(Error::usage(format!(
                "defaults_as_nulls needs a server that converts types in Native input (23.3 or later; this one \
                 is {}): an older one would store a Nullable column's bytes into the table's column as they \
                 are. Use defaults_by_server, or give every field",
                self.server_version
            )));
        }
        self.nulls_for_defaults()?;
        Ok(self)
    }

    /// Whether the server converts a Native block's column types to the table's (23.3 on,
    /// `input_format_native_allow_types_conversion`): NULL standing for a DEFAULT needs it.
    fn server_converts_native(&self) -> bool {
        super::version_at_least(&self.server_version, 23, 3)
    }

    /// [`Inserter::defaults_as_nulls`] in place; nothing on a server that does not convert Native
    /// types (a row must then give every field).
    pub(crate) fn nulls_for_defaults(&mut self) -> Result<()> {
        if self.pending_rows() > 0 || self.summary.rows > 0 {
            return Err(Error::usage("defaults_as_nulls must be called before rows are written"));
        }
        if !self.server_converts_native() {
            return Ok(());
        }
        let kinds: Vec<(String, String, String)> =
            self.described.iter().map(|(n, _, k, e)| (n.clone(), k.clone(), e.clone())).collect();
        for i in 0..self.columns.len() {
            let expression =
                kinds.iter().find(|(n, k, _)| *n == self.columns[i].0 && k == "DEFAULT").map(|(_, _, e)| e);
            let t = match (&self.types[i], expression) {
                (_, None) => continue,
                (TypeDesc::LowCardinality(inner), _) if inner.is_scalar() => {
                    TypeDesc::LowCardinality(Box::new(TypeDesc::Nullable(inner.clone())))
                }
                (t, _) if t.is_scalar() => TypeDesc::Nullable(Box::new(t.clone())),
                (_, Some(e)) => {
                    // No NULL can stand for the default here: rows that omit the field are the
                    // server's to read, with the expression.
                    self.server_defaults[i] = Some(e.clone());
                    continue;
                }
            };
            self.builders[i] = builder_for(&t)?;
            self.convertible[i] = super::coerce::converts_for(&t);
            self.columns[i].1 = t.to_string();
            self.types[i] = t;
        }
        self.shape = next_shape();
        self.recheck_exactly_once()
    }

    /// Columns with a `DEFAULT` expression keep their types, and every such expression is the server's
    /// to apply ([`Inserter::server_defaults`]): for text read by the server's own parser (under
    /// settings that change text input, such as `compatibility`, every row is), instead of
    /// [`Inserter::defaults_as_nulls`].
    pub fn defaults_by_server(mut self) -> Self {
        for (i, (name, _)) in self.columns.iter().enumerate() {
            let found = self.described.iter().find(|(n, _, k, _)| n == name && k == "DEFAULT");
            if let Some((_, _, _, e)) = found {
                self.server_defaults[i] = Some(e.clone());
            }
        }
        // What the server fills itself changed: an exactly-once insert checks its table again before
        // its first block.
        if let Some(x) = &mut self.exactly_once {
            x.recheck = true;
        }
        self
    }

    /// Ends the current request and starts a new one whenever a limit is reached (checked after each
    /// block). Each request is committed by the server on its own.
    pub fn with_request_limits(mut self, limits: RequestLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Makes every request carry an `insert_deduplication_token` of `stream_id` and its sequence
    /// number, keeps the request in flight until the server acknowledges it, and sends a failed
    /// request again (up to `max_retries` times, 10 by default if 0 is given) — see the module docs.
    /// The table must deduplicate inserts (Replicated, or MergeTree with
    /// `non_replicated_deduplication_window`); the server must be 22.3 or newer. Without request limits,
    /// a request ends every 64 MiB of encoded bytes, and always before it has as many blocks as the
    /// table's `non_replicated_deduplication_window` less 10 (a resent request is dropped only while
    /// the window still holds all its blocks). A producer that restarts and sends the same rows in the
    /// same blocks under the same stream id is deduplicated too, as far as the window still holds
    /// them (the table's last blocks, whoever inserted them).
    ///
    /// Refused (the table is checked again when what is sent changes: `defaults_as_nulls`,
    /// `defaults_by_server`, a serde row's columns): a table that does not deduplicate, one with
    /// materialized views (their own tables would get a resent request's rows again), and a
    /// `Distributed` table whose inserts run in the background, whose sharding key calls a function
    /// that is not deterministic or reads a column the server fills with one, that has no sharding key
    /// over several shards, or whose shard table does not deduplicate on every replica.
    pub fn exactly_once(mut self, stream_id: impl Into<String>, max_retries: u32) -> Result<Self> {
        let stream_id = stream_id.into();
        if stream_id.is_empty() {
            return Err(Error::usage("an exactly-once insert needs a non-empty stream id"));
        }
        if !super::version_at_least(&self.server_version, 22, 3) {
            return Err(Error::usage(format!(
                "ClickHouse {} has no insert_deduplication_token (22.3 or newer is needed for exactly-once inserts)",
                self.server_version
            )));
        }
        if self.summary.blocks > 0 || self.pending_rows() > 0 {
            return Err(Error::usage("exactly_once must be chosen before anything is written"));
        }
        let l = self.limits;
        if l.max_rows.is_none() && l.max_bytes.is_none() && l.max_duration.is_none() {
            self.limits.max_bytes = Some(64 << 20);
        }
        let window = self.check_deduplication()?;
        let max_retries = if max_retries == 0 { 10 } else { max_retries };
        self.exactly_once = Some(ExactlyOnce {
            stream_id,
            max_retries,
            replay: Vec::new(),
            max_blocks: blocks_within(window),
            recheck: false,
        });
        Ok(self)
    }

    /// Refuses a table that would not deduplicate the resent blocks (so "exactly once" would silently
    /// be "at least once"): Replicated engines deduplicate, a MergeTree only with
    /// `non_replicated_deduplication_window` > 0 (its own or the server's default); a Distributed table
    /// is let through with a warning (its shards decide).
    /// Returns the smallest deduplication window of the tables the rows land in (`u64::MAX` where it
    /// is not read: Replicated tables).
    fn check_deduplication(&self) -> Result<u64> {
        let Some((db, name)) = table_name(&self.table) else {
            return Err(Error::usage(format!(
                "exactly-once: the table {} cannot be read as [database.]name (quote names with `)",
                self.table
            )));
        };
        let db = db.map_or_else(|| "currentDatabase()".to_string(), |d| format!("'{}'", escape(&d)));
        let sql = format!(
            "SELECT engine, engine_full, (SELECT value FROM system.merge_tree_settings \
             WHERE name = 'non_replicated_deduplication_window'), database, \
             arrayStringConcat(arrayMap((d, t) -> concat(d, '.', t), dependencies_database, dependencies_table), ', ') \
             FROM system.tables WHERE database = {db} AND name = '{}' FORMAT TabSeparated",
            escape(&name)
        );
        let text = String::from_utf8_lossy(&self.read_only(&sql)?).into_owned();
        let fields: Vec<&str> = text.trim_end_matches('\n').split('\t').collect();
        let refuse = |table: &str, why: String| {
            Err(Error::usage(format!(
                "table {table} {why}: an exactly-once insert would silently insert resent blocks twice \
                 (use a Replicated table, or a MergeTree with SETTINGS non_replicated_deduplication_window = 1000)"
            )))
        };
        let [engine, engine_full, default_window, database, dependents] = fields[..] else {
            // Not in system.tables (a temporary table): nothing deduplicates there.
            return refuse(&self.table, "is not a table that deduplicates inserts".into());
        };
        if !dependents.is_empty() {
            return refuse(
                &self.table,
                format!(
                    "has materialized views ({dependents}) whose own tables would get a resent request's rows \
                     again (exactly-once does not check them)"
                ),
            );
        }
        if engine != "Distributed" {
            return self
                .deduplication_window(engine, engine_full, default_window)
                .or_else(|why| refuse(&self.table, why));
        }
        self.check_distributed(engine_full, database)
    }

    /// Why a table of this engine would not drop a resent request's blocks, if it would not.
    fn deduplication_window(&self, engine: &str, engine_full: &str, default_window: &str) -> Result<u64, String> {
        if engine.starts_with("Replicated") || engine.starts_with("Shared") {
            return Ok(u64::MAX);
        }
        if !engine.ends_with("MergeTree") {
            return Err(format!("has engine {engine}, which does not deduplicate inserts"));
        }
        // The engine's own SETTINGS clause, read as code (a comment or string that merely contains the
        // words must not count); `engine_full` is TSV-escaped text.
        let mut unescaped = Vec::new();
        let _ = crate::format::parse::unescape(engine_full.as_bytes(), &mut unescaped);
        let dialects = crate::params::lex::dialects_for(&self.server_version);
        let own = engine_setting(&unescaped, b"non_replicated_deduplication_window", dialects);
        // A resent request is deduplicated block by block: the window must still hold every block
        // of it. Requests end before they have more blocks than the window less a margin for other
        // writers (`ExactlyOnce::max_blocks`); the server makes one block of each Native block at
        // most, unless a block spans several partitions or is longer than max_insert_block_size.
        match own.or_else(|| default_window.parse().ok()) {
            Some(w) if w >= MIN_WINDOW => Ok(w),
            Some(w) => Err(format!("has non_replicated_deduplication_window = {w}, fewer than {MIN_WINDOW}")),
            None => Err("has no non_replicated_deduplication_window".into()),
        }
    }

    /// A `Distributed` table is exactly-once only when a resent request lands on every shard as it did
    /// the first time and every shard drops what it already has: inserts in the foreground (a
    /// background queue on each node a request went to would send its own copy), a sharding key that
    /// splits the same rows the same way (no function the server calls not deterministic), and a deduplicating table on every
    /// replica of the cluster (asked of each through `clusterAllReplicas`).
    fn check_distributed(&self, engine_full: &str, database: &str) -> Result<u64> {
        let refuse = |why: String| {
            Err(Error::usage(format!(
                "exactly-once into Distributed table {}: {why} — resent blocks could be lost or inserted twice",
                self.table
            )))
        };
        let setting = |name: &str| self.params.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let foreground = |v: Option<&str>| matches!(v, Some("1" | "true"));
        if !foreground(setting("distributed_foreground_insert")) && !foreground(setting("insert_distributed_sync")) {
            return refuse("inserts must run in the foreground (set distributed_foreground_insert = 1)".into());
        }
        let mut unescaped = Vec::new();
        let _ = crate::format::parse::unescape(engine_full.as_bytes(), &mut unescaped);
        let full = String::from_utf8_lossy(&unescaped).into_owned();
        let args = distributed_args(&full, crate::params::lex::dialects_for(&self.server_version));
        let (Some(cluster), Some(db_arg), Some(table)) = (args.first(), args.get(1), args.get(2)) else {
            return refuse("its engine arguments cannot be read".into());
        };
        // The names: the server writes them as string literals; a database given as an expression
        // (`currentDatabase()`) is the Distributed table's own.
        let (Some(cluster), Some(table)) = (sql_name(cluster), sql_name(table)) else {
            return refuse("its engine arguments cannot be read".into());
        };
        let shard_db = sql_name(db_arg).unwrap_or_else(|| database.to_string());
        match args.get(3) {
            // No key: each insert goes to a random shard (`insert_distributed_one_random_shard`), unless
            // there is one.
            None => {
                let sql = format!(
                    "SELECT uniqExact(shard_num) FROM system.clusters WHERE cluster = '{}' FORMAT TabSeparated",
                    escape(&cluster)
                );
                let shards: u64 = String::from_utf8_lossy(&self.read_only(&sql)?).trim().parse().unwrap_or(0);
                if shards != 1 {
                    return refuse(format!(
                        "it has no sharding key and cluster {cluster} has {shards} shards: each request goes to a \
                         shard of its own choosing"
                    ));
                }
            }
            Some(key) => {
                if let Some(f) = self.nondeterministic_in(key)? {
                    return refuse(format!("its sharding key calls {f}(), which splits a resent request differently"));
                }
                if let Some((column, f)) = self.filled_nondeterministically(key)? {
                    return refuse(format!(
                        "its sharding key reads column {column}, which the server fills with {f}() on this insert: \
                     a resent request would split differently"
                    ));
                }
            }
        }
        let sql = format!(
            "SELECT (SELECT count() FROM system.clusters WHERE cluster = '{c}'), t.engine, t.engine_full, \
             s.value, length(t.dependencies_table) FROM clusterAllReplicas('{c}', system.tables) AS t \
             CROSS JOIN (SELECT value FROM system.merge_tree_settings WHERE name = 'non_replicated_deduplication_window') AS s \
             WHERE t.database = '{d}' AND t.name = '{t}' FORMAT TabSeparated",
            c = escape(&cluster),
            d = escape(&shard_db),
            t = escape(&table)
        );
        let text = String::from_utf8_lossy(&self.read_only(&sql)?).into_owned();
        let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
        if rows.is_empty() {
            return refuse(format!("its shard table {shard_db}.{table} is on no replica of cluster {cluster}"));
        }
        let replicas: usize = rows.first().and_then(|r| r.first()).and_then(|n| n.parse().ok()).unwrap_or(0);
        if replicas == 0 || rows.len() < replicas {
            return refuse(format!(
                "its shard table {shard_db}.{table} is on {} of the cluster's {replicas} replicas",
                rows.len()
            ));
        }
        let mut smallest = u64::MAX;
        for r in &rows {
            let [_, engine, engine_full, window, dependents] = r[..] else {
                return refuse("the shard tables could not be read".into());
            };
            if dependents != "0" {
                return refuse(format!(
                    "its shard table {shard_db}.{table} has materialized views, whose own tables would get a \
                     resent request's rows again (exactly-once does not check them)"
                ));
            }
            match self.deduplication_window(engine, engine_full, window) {
                Ok(w) => smallest = smallest.min(w),
                Err(why) => return refuse(format!("its shard table {shard_db}.{table} {why}")),
            }
        }
        Ok(smallest)
    }

    /// The first function `expr` calls whose result may differ from call to call or from server to
    /// server (so a resent request could split differently), as the server's `system.functions`
    /// (`deterministic = 0`) says; on servers without that column, by a list of the usual ones.
    fn nondeterministic_in(&self, expr: &str) -> Result<Option<String>> {
        let dialects = crate::params::lex::dialects_for(&self.server_version);
        let calls = function_calls(expr, dialects);
        if calls.is_empty() {
            return Ok(None);
        }
        let names: Vec<String> = calls.iter().map(|c| format!("'{}'", escape(c))).collect();
        let lower: Vec<String> = calls.iter().map(|c| format!("'{}'", escape(&c.to_ascii_lowercase()))).collect();
        let sql = format!(
            "SELECT name FROM system.functions WHERE (deterministic = 0 OR deterministic IS NULL) AND (name IN ({}) \
             OR (case_insensitive AND lower(name) IN ({}))) ORDER BY name LIMIT 1 FORMAT TabSeparated",
            names.join(", "),
            lower.join(", ")
        );
        match self.read_only(&sql) {
            Ok(found) => {
                let name = String::from_utf8_lossy(&found).trim().to_string();
                // The name as the key writes it.
                Ok((!name.is_empty())
                    .then(|| calls.iter().find(|c| c.eq_ignore_ascii_case(&name)).cloned().unwrap_or(name)))
            }
            Err(e) if e.server_code().is_some() => Ok(nondeterministic_call(expr, dialects)),
            Err(e) => Err(e),
        }
    }

    /// A column `key` reads that the server fills on this insert (`MATERIALIZED`, `ALIAS`, or a
    /// `DEFAULT` the insert leaves to it — not sent, or sent as `Nullable` where NULL stands for the
    /// default) with an expression calling a function that is not deterministic, directly or through
    /// another such column: the column and the function.
    fn filled_nondeterministically(&self, key: &str) -> Result<Option<(String, String)>> {
        let filled: Vec<(&str, &str)> = self
            .described
            .iter()
            .filter(|(name, table_type, kind, expr)| {
                let sent = self.columns.iter().position(|(n, _)| n == name);
                // NULL standing for the default, or the default left to the server's text parser.
                let left_to_server = sent.is_some_and(|i| {
                    let t = &self.columns[i].1;
                    (t.starts_with("Nullable(") && !table_type.starts_with("Nullable("))
                        || self.server_defaults.get(i).is_some_and(Option::is_some)
                });
                !expr.is_empty() && (kind != "DEFAULT" || sent.is_none() || left_to_server)
            })
            .map(|(name, _, _, expr)| (name.as_str(), expr.as_str()))
            .collect();
        let mut tainted: Vec<(String, String)> = Vec::new();
        for (name, expr) in &filled {
            if let Some(f) = self.nondeterministic_in(expr)? {
                tainted.push((name.to_string(), f));
            }
        }
        // Through other filled columns, until nothing changes (at most once per column).
        for _ in 0..filled.len() {
            let more: Vec<(String, String)> = filled
                .iter()
                .filter(|(name, _)| !tainted.iter().any(|(t, _)| t == name))
                .filter_map(|(name, expr)| {
                    let names = column_names(expr);
                    tainted.iter().find(|(t, _)| names.contains(t)).map(|(_, f)| (name.to_string(), f.clone()))
                })
                .collect();
            if more.is_empty() {
                break;
            }
            tainted.extend(more);
        }
        let names = column_names(key);
        Ok(tainted.into_iter().find(|(t, _)| names.contains(t)))
    }

    /// A read-only statement where the table is: the insert's database and session (its turn taken).
    fn read_only(&self, sql: &str) -> Result<Vec<u8>> {
        let params: Vec<(String, String)> =
            self.params.iter().filter(|(k, _)| matches!(k.as_str(), "database" | "session_id")).cloned().collect();
        let _turn = match &self.session {
            Some((id, lock)) => lock.take(id, false)?,
            None => None,
        };
        let mut route = self.route.clone();
        route.restart(self.transport.endpoints());
        super::read_only_post(&self.transport, &mut route, &params, sql, &self.server_version)
    }

    fn start_request(&mut self) -> Result<()> {
        // The request holds its session's turn until it ends (on its own thread), as every call does;
        // taken first, so that a refusal names no request (none was made).
        self.request_query_id = None;
        let turn = match &self.session {
            // An async insert never waits for the turn (that would block its executor's thread).
            #[cfg(feature = "async")]
            Some((id, lock)) if self.driver.is_some() => Some(lock.take_now(id)?),
            Some((id, lock)) => lock.take(id, true)?,
            None => None,
        };
        let (tx, rx) = sync_channel::<Vec<u8>>(2);
        let transport = self.transport.clone();
        if self.attempt == 0 {
            self.route.restart(transport.endpoints());
        } else {
            self.route.fail_over(transport.endpoints());
        }
        let endpoint = Some(self.route.endpoint);
        let fail_over = !self.route.pinned;
        let mut p = (*self.params).clone();
        if let Some(x) = &self.exactly_once {
            p.push(("insert_deduplication_token".into(), format!("{}-{}", x.stream_id, self.sequence)));
        }
        // The table changed since it was described: refused, not converted (see `strict_types_params`).
        p.extend(self.strictness.params(&self.columns, &self.described).into_iter().map(|(k, v)| (k.into(), v.into())));
        // Every request (and every resend) has a query id of its own, known here, so an error can name
        // the request that failed; a caller's id is kept (with the attempt appended to resends).
        let id = match p.iter().position(|(k, _)| k == "query_id") {
            Some(i) if self.attempt == 0 => p[i].1.clone(),
            Some(i) => {
                let id = format!("{}-{}", p[i].1, self.attempt);
                p[i].1 = id.clone();
                id
            }
            None => {
                let id = super::statement::new_query_id();
                p.push(("query_id".into(), id.clone()));
                id
            }
        };
        self.request_query_id = Some(id);
        let params = Arc::new(p);
        let deadline = self.timeout.map(|t| std::time::Instant::now() + t);
        let back = self.returned.0.clone();
        let headers: Vec<(String, String)> = self
            .encoding
            .content_encoding()
            .map(|e| ("Content-Encoding".to_string(), e.name().to_string()))
            .into_iter()
            .collect();
        let progress = self.progress.clone();
        #[cfg(feature = "async")]
        if let Some(transport) = &self.driver {
            let job = crate::client::nonblocking::InsertJob::start(
                transport,
                crate::transport::driver::OwnedRequest {
                    params: Arc::unwrap_or_clone(params),
                    headers,
                    accept_encoding: None,
                    progress,
                    decoding: crate::transport::BodyDecoding::Plain,
                    deadline,
                    cancel: None,
                    endpoint,
                    fail_over: !self.route.pinned,
                },
                turn,
            )?;
            self.flight = Some(InFlight::Job(job));
            self.body_ended = false;
            self.request = (0, 0, std::time::Instant::now());
            self.summary.requests += 1;
            return Ok(());
        }
        let worker = std::thread::Builder::new()
            .name("clickhouse-inserter".into())
            .spawn(move || {
                let _turn = turn;
                let mut body = ChannelReader { rx, back, current: Vec::new(), pos: 0, asked: false };
                let progress = progress.as_deref().map(|f| f as &dyn Fn(&crate::transport::Progress));
                let endpoints = transport.endpoints();
                let mut tried: Vec<usize> = endpoint.into_iter().collect();
                loop {
                    let endpoint = tried.last().copied();
                    let req = Request { headers: &headers, deadline, progress, endpoint, ..Request::new(&params, &[]) };
                    let outcome = transport.post_streaming(&req, &mut body, &mut |_| Ok(()));
                    // Refused before any byte was asked for: another endpoint may take it.
                    if let Err(Error::Transport { connect: true, .. }) = &outcome {
                        let next = endpoints.pick(&tried);
                        if fail_over && !body.asked && !tried.contains(&next) {
                            log::warn!("insert refused; sending it to {}", endpoints.url(next));
                            tried.push(next);
                            continue;
                        }
                    }
                    match outcome {
                        Err(e) if tried.len() > 1 => {
                            break Err(Error::Endpoints {
                                tried: tried.iter().map(|&i| endpoints.url(i).to_string()).collect(),
                                cause: Box::new(e),
                            });
                        }
                        r => break r,
                    }
                }
            })
            .map_err(|e| Error::resource(format!("cannot start the insert thread: {e}")))?;
        self.flight = Some(InFlight::Thread { tx: Some(tx), worker });
        self.body_ended = false;
        self.request = (0, 0, std::time::Instant::now());
        self.summary.requests += 1;
        Ok(())
    }

    /// Runs this insert's requests on the async client's I/O thread.
    #[cfg(feature = "async")]
    pub(crate) fn use_driver(&mut self) -> Result<()> {
        self.transport.driver()?;
        self.driver = Some(self.transport.clone());
        Ok(())
    }

    /// The async request in flight.
    #[cfg(feature = "async")]
    pub(crate) fn job(&self) -> Option<&crate::client::nonblocking::InsertJob> {
        match &self.flight {
            Some(InFlight::Job(j)) => Some(j),
            _ => None,
        }
    }

    /// Hands one encoded block to the request in flight; false when the request is over (failed).
    fn hand_over(&mut self, block: Vec<u8>) -> bool {
        match &self.flight {
            Some(InFlight::Thread { tx: Some(tx), .. }) => tx.send(block).is_ok(),
            #[cfg(feature = "async")]
            Some(InFlight::Job(job)) => job.push(block),
            _ => false,
        }
    }

    /// Ends the request body (the server then answers).
    fn close_body(&mut self) {
        match &mut self.flight {
            Some(InFlight::Thread { tx, .. }) => *tx = None,
            #[cfg(feature = "async")]
            Some(InFlight::Job(job)) => job.end(),
            None => {}
        }
    }

    /// Sends the body's trailer (a compressed stream's end) and ends the body, once per request.
    pub(crate) fn end_body(&mut self) -> Result<()> {
        if self.body_ended || self.flight.is_none() {
            return Ok(());
        }
        let trailer = self.encoding.finish()?;
        if let (Some(x), false) = (&mut self.exactly_once, trailer.is_empty()) {
            x.replay.push((trailer.clone(), 0));
        }
        if !trailer.is_empty() && !self.hand_over(trailer) {
            return Err(self.worker_error());
        }
        self.close_body();
        self.body_ended = true;
        Ok(())
    }

    /// Ends the current request, waiting for the server's acknowledgement (in exactly-once mode,
    /// sending it again while a retry can fix the failure).
    fn end_request(&mut self) -> Result<()> {
        if let Err(e) = self.try_end_request() {
            self.retry_request(e, |ins| ins.resend().and_then(|()| ins.try_end_request()))?;
        }
        self.acknowledged.0 += self.request.0;
        self.acknowledged.1 += 1;
        self.sequence += 1;
        self.attempt = 0;
        if let Some(x) = &mut self.exactly_once {
            x.replay.clear();
        }
        self.request = (0, 0, std::time::Instant::now());
        Ok(())
    }

    /// Whether a failed request may be sent again: exactly-once mode, retries left, and a failure that
    /// a retry can fix.
    fn may_retry(&self, e: &Error, retries: u32) -> bool {
        let Some(x) = &self.exactly_once else { return false };
        retries < x.max_retries
            && match e.root() {
                Error::Transport { tls, .. } => !tls,
                Error::Http { status, .. } => matches!(status, 502..=504),
                // NETWORK_ERROR, SOCKET_TIMEOUT, TOO_MANY_SIMULTANEOUS_QUERIES,
                // QUERY_WITH_SAME_ID_IS_ALREADY_RUNNING, CANNOT_READ_ALL_DATA (a cut body),
                // ATTEMPT_TO_READ_AFTER_EOF, TIMEOUT_EXCEEDED.
                Error::Server { code, .. } => matches!(code, 210 | 209 | 202 | 216 | 33 | 32 | 159),
                _ => false,
            }
    }

    /// Starts the failed request again and sends its blocks, as they were.
    fn resend(&mut self) -> Result<()> {
        let _ = self.finish_worker();
        let blocks = match &self.exactly_once {
            Some(x) => x.replay.iter().map(|(b, _)| b.clone()).collect::<Vec<_>>(),
            None => return Err(Error::usage("only an exactly-once insert resends")),
        };
        // The bytes go again exactly as they went (a gzip/deflate stream's blocks and trailer included).
        let (rows, bytes) = (self.request.0, self.request.1);
        self.attempt += 1;
        self.start_request()?;
        self.request = (rows, bytes, self.request.2);
        for b in blocks {
            if !self.hand_over(b) {
                return Err(self.worker_error());
            }
        }
        Ok(())
    }

    /// Sends the end of the body and waits for the server's answer to the request in flight.
    fn try_end_request(&mut self) -> Result<()> {
        self.end_body()?;
        let meta = self.finish_worker()?;
        if let Some(s) = meta.summary.as_deref().and_then(Summary::parse) {
            let total = self.summary.server.get_or_insert_with(Summary::default);
            total.written_rows += s.written_rows;
            total.written_bytes += s.written_bytes;
        }
        self.summary.query_id = meta.query_id.clone().or_else(|| self.request_query_id.clone());
        self.summary.endpoint = meta.endpoint;
        self.route.confirm();
        Ok(())
    }

    /// The error that ended the request in flight (after a failed hand-over).
    fn worker_error(&mut self) -> Error {
        self.finish_worker().err().unwrap_or_else(|| Error::usage("the insert request ended before all data was sent"))
    }

    /// Finishes the insert with `cause`: the error every later call returns.
    fn fail(&mut self, cause: Error) -> Error {
        let err = match cause {
            e @ Error::Insert { .. } => e,
            cause => {
                let cause = self.route.name_in(cause, self.transport.endpoints());
                Error::Insert {
                    acknowledged_rows: self.acknowledged.0,
                    acknowledged_requests: self.acknowledged.1,
                    unacknowledged_rows: self.request.0,
                    unsent_rows: self.pending_rows() as u64 + self.stranded,
                    query_id: self.request_query_id.clone(),
                    cause: Box::new(cause),
                }
            }
        };
        self.abort();
        self.failure = Some(err.clone());
        err
    }

    /// The error that finished the insert, if it is finished.
    fn check_usable(&self) -> Result<()> {
        match &self.failure {
            Some(e) => Err(e.clone()),
            None if self.ended => Err(Error::usage("the insert has already ended")),
            None => Ok(()),
        }
    }

    /// Rows the server has acknowledged so far (all of them once `end` returns).
    pub fn acknowledged_rows(&self) -> u64 {
        self.acknowledged.0
    }

    /// The columns being inserted, with their types.
    pub fn columns(&self) -> &[(String, String)] {
        &self.columns
    }

    /// Appends one row (one value per column). A value that does not fit its column is an
    /// [`Error::Input`] naming the row (1-based, counted over this insert) and the column; the row is
    /// taken back whole (nothing of it is sent) and the insert stays usable: the rows before it are
    /// committed by [`Inserter::end`] as usual, and the caller decides whether to go on.
    pub fn write(&mut self, row: &[Value<'_>]) -> Result<()> {
        self.check_usable()?;
        let at = self.summary.rows + self.pending_rows() as u64;
        let (builders, coercion) = (&mut self.builders, &mut self.coercion);
        push_row(builders, coercion, &self.types, &self.convertible, &self.columns, row, at)?;
        if self.pending_rows() >= self.block_rows {
            self.flush()?;
        }
        Ok(())
    }

    /// The builders and what a row written into them needs (for rows of serde types), after checking
    /// the insert is usable.
    #[cfg(feature = "serde")]
    pub(crate) fn row_parts(&mut self) -> Result<RowParts<'_>> {
        self.check_usable()?;
        let at = self.summary.rows + self.pending_rows() as u64;
        Ok(RowParts {
            builders: &mut self.builders,
            coercion: &mut self.coercion,
            types: &self.types,
            convertible: &self.convertible,
            columns: &self.columns,
            at,
        })
    }

    /// The columns' types, parsed, and the zone of `DateTime`s without one (for rows of serde types).
    #[cfg(feature = "serde")]
    pub(crate) fn types_and_zone(&self) -> (&[TypeDesc], &str) {
        (&self.types, &self.coercion_zone)
    }

    /// Sends column `i` through `builder` (before any row is written), which may write another type
    /// that the server converts to the column's on insert; the values it takes stay those of the
    /// column's type.
    #[cfg(feature = "serde")]
    pub(crate) fn replace_builder(&mut self, i: usize, builder: Box<dyn ValueBuilder>) -> Result<()> {
        if self.pending_rows() > 0 || self.summary.rows > 0 || i >= self.builders.len() {
            return Err(Error::usage("a column's builder is replaced before the first row"));
        }
        self.columns[i].1 = builder.type_name().into_owned();
        self.builders[i] = builder;
        self.convertible[i] = false;
        self.shape = next_shape();
        Ok(())
    }

    /// After a row went into the builders: sends a block when one is full.
    #[cfg(feature = "serde")]
    pub(crate) fn row_written(&mut self) -> Result<()> {
        if self.pending_rows() >= self.block_rows {
            self.flush()?;
        }
        Ok(())
    }

    /// Narrows the insert to `names` of its columns, in that order (before any row is written): the
    /// columns a serde row's fields name.
    #[cfg(feature = "serde")]
    pub(crate) fn select_columns(&mut self, names: &[&str]) -> Result<()> {
        if self.pending_rows() > 0 || self.summary.rows > 0 {
            return Err(Error::usage("the columns of an insert are chosen before its first row"));
        }
        let mut picked = Vec::with_capacity(names.len());
        for (f, name) in names.iter().enumerate() {
            let Some(i) = self.columns.iter().position(|(n, _)| n == name) else {
                let all: Vec<&str> = self.columns.iter().map(|(n, _)| n.as_str()).collect();
                return Err(Error::Mapping {
                    row: 1,
                    column: Some(name.to_string()),
                    column_type: None,
                    message: format!(
                        "field `{name}` names no column of table {} that takes inserts (its columns: {})",
                        self.table,
                        all.join(", ")
                    ),
                });
            };
            if names[..f].contains(name) {
                return Err(Error::usage(format!("the row names column {name} twice")));
            }
            picked.push(i);
        }
        self.columns = picked.iter().map(|&i| self.columns[i].clone()).collect();
        self.types = picked.iter().map(|&i| self.types[i].clone()).collect();
        self.convertible = picked.iter().map(|&i| self.convertible[i]).collect();
        self.server_defaults = picked.iter().map(|&i| self.server_defaults[i].clone()).collect();
        self.builders = self.types.iter().map(builder_for).collect::<Result<Vec<_>>>()?;
        self.shape = next_shape();
        let quoted: Vec<String> = self.columns.iter().map(|(n, _)| super::quote_identifier(n)).collect();
        let sql =
            format!("INSERT INTO {} ({}) FORMAT Native", super::insert::quote_table(&self.table), quoted.join(", "));
        for (k, v) in Arc::make_mut(&mut self.params).iter_mut() {
            if k == "query" {
                *v = sql.clone();
            }
        }
        self.recheck_exactly_once()
    }

    /// After the columns or their types changed: an exactly-once insert checks its table again (what
    /// the server fills itself — a sharding key's column, say — depends on what is sent).
    fn recheck_exactly_once(&mut self) -> Result<()> {
        if self.exactly_once.is_some() {
            let window = self.check_deduplication()?;
            if let Some(x) = &mut self.exactly_once {
                x.max_blocks = blocks_within(window);
                x.recheck = false;
            }
        }
        Ok(())
    }

    /// The columns, their types and the conversions, for encoding blocks apart (`insert_arrow`).
    #[cfg(feature = "arrow")]
    pub(crate) fn encoding_parts(&mut self) -> (&[(String, String)], &[TypeDesc], &mut super::coerce::Coercion) {
        (&self.columns, &self.types, &mut self.coercion)
    }

    /// Sends one Native block of `rows` rows encoded for these columns, after the rows written before.
    #[cfg(feature = "arrow")]
    pub(crate) fn write_encoded(&mut self, block: &[u8], rows: usize) -> Result<()> {
        self.write_encoding(rows, |out, _, _, _| {
            out.extend_from_slice(block);
            Ok(())
        })
    }

    /// Sends one Native block of `rows` rows that `encode` writes for these columns (names and type
    /// names, types, coercion) straight into the inserter's buffer, after the rows written before.
    /// An error from `encode` ends the insert, as any failed block does.
    #[cfg(feature = "arrow")]
    pub(crate) fn write_encoding(
        &mut self,
        rows: usize,
        encode: impl FnOnce(&mut Vec<u8>, &[(String, String)], &[TypeDesc], &mut super::coerce::Coercion) -> Result<()>,
    ) -> Result<()> {
        self.check_usable()?;
        if rows == 0 {
            return Ok(());
        }
        self.flush()?;
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        let encoded = encode(&mut scratch, &self.columns, &self.types, &mut self.coercion);
        self.scratch = scratch;
        if let Err(e) = encoded {
            return Err(self.fail(e));
        }
        self.send_scratch(rows).map_err(|e| self.fail(e))
    }

    /// Per column, the `DEFAULT` expression the server must apply to an omitted field where no NULL
    /// can stand for it (composite and Nullable columns; set by [`Inserter::defaults_as_nulls`]): a
    /// text reader hands rows that omit such a field to the server's parser, with the expression.
    pub fn server_defaults(&self) -> &[Option<String>] {
        &self.server_defaults
    }

    /// The rows of a block (the `block_rows` the inserter was made with).
    pub fn block_rows(&self) -> usize {
        self.block_rows
    }

    /// A builder of Native blocks for this insert, to fill on another thread and send with
    /// [`Inserter::write_block`] — so that rows can be converted into blocks on several threads at
    /// once while one inserter sends them in order. Take it after any change of the columns
    /// ([`Inserter::defaults_as_nulls`]).
    pub fn block_builder(&self) -> Result<BlockBuilder> {
        Ok(BlockBuilder {
            shape: self.shape,
            columns: self.columns.clone(),
            types: self.types.clone(),
            builders: self.types.iter().map(builder_for).collect::<Result<Vec<_>>>()?,
            coercion: super::coerce::Coercion::new(&self.coercion_zone),
            convertible: self.convertible.clone(),
        })
    }

    /// Sends a block made by a [`BlockBuilder`] of this insert (rows written before it are sent
    /// first); a block of another insert, or of this one before its columns changed, is refused (an
    /// empty block is nothing to send).
    pub fn write_block(&mut self, block: &EncodedBlock) -> Result<()> {
        self.check_usable()?;
        if block.rows == 0 {
            return Ok(());
        }
        if block.shape != self.shape {
            return Err(Error::usage("the block was built for another insert (or for other columns)"));
        }
        self.flush()?;
        self.scratch.clear();
        self.scratch.extend_from_slice(&block.bytes);
        self.send_scratch(block.rows).map_err(|e| self.fail(e))
    }

    fn pending_rows(&self) -> usize {
        self.builders.first().map_or(0, |b| b.rows())
    }

    /// Encodes and sends the rows written so far as one block (also done automatically every
    /// `block_rows` rows).
    pub fn flush(&mut self) -> Result<()> {
        self.check_usable()?;
        let rows = self.pending_rows();
        if rows == 0 {
            return Ok(());
        }
        let named =
            self.columns.iter().zip(&self.builders).map(|((n, _), b)| (n.as_str(), b.as_ref() as &dyn ColumnEncoder));
        self.scratch.clear();
        if let Err(e) = write_block_from(&mut self.scratch, named) {
            return Err(self.fail(e));
        }
        // The rows are the encoded block's now (counted as sent, or as unsent if it does not go out).
        for b in &mut self.builders {
            b.clear();
        }
        self.send_scratch(rows).map_err(|e| self.fail(e))
    }

    /// Sends a Native block that is already encoded — one read from a Native file or another server —
    /// without decoding and re-encoding it. `block` is its decoded form, `bytes` its exact encoding
    /// (without BlockInfo); its columns must be this insert's, in order, with the same types, else
    /// nothing is sent and the error says which column differs. Rows written before it are sent first.
    pub fn write_native_block(&mut self, block: &Block<'_>, bytes: &[u8]) -> Result<()> {
        self.check_usable()?;
        if let Some(why) = self.native_mismatch(block) {
            return Err(Error::usage(format!("the Native block does not fit this insert: {why}")));
        }
        self.flush()?;
        if block.rows() == 0 {
            return Ok(());
        }
        self.scratch.clear();
        self.scratch.extend_from_slice(bytes);
        self.send_scratch(block.rows()).map_err(|e| self.fail(e))
    }

    /// Whether `block` has exactly this insert's columns and types (what `write_native_block` needs):
    /// `None` when it does, else what differs. A column of another type is accepted where the insert's
    /// type holds a `Variant`, `Dynamic` or `JSON`: the block then carries its own type and the server
    /// converts it, exactly as its own insert of the same bytes does (it keeps a variant's alternative
    /// types, named tuples and `LowCardinality` in a `Dynamic`, and infers a JSON path's type its own way,
    /// which values converted here could not repeat).
    pub fn native_mismatch(&self, block: &Block<'_>) -> Option<String> {
        let cols = block.columns();
        if cols.len() != self.columns.len() {
            return Some(format!("{} columns for {}", cols.len(), self.columns.len()));
        }
        cols.iter().zip(self.columns.iter().zip(&self.types)).find_map(|(c, ((name, t), desc))| {
            (c.name() != name || (c.desc() != desc && !server_converts(desc)))
                .then(|| format!("column {} {} where {name} {t} was expected", c.name(), c.type_name()))
        })
    }

    /// Compresses and sends the encoded block in `scratch`, counting its rows, and ends the request
    /// when a limit is reached.
    fn send_scratch(&mut self, rows: usize) -> Result<()> {
        if self.exactly_once.as_ref().is_some_and(|x| x.recheck) {
            self.recheck_exactly_once()?;
        }
        // Until the block is part of the request, its rows count as unsent.
        self.stranded = rows as u64;
        let spare = self.returned.1.try_recv().unwrap_or_else(|_| Vec::with_capacity(self.scratch.capacity()));
        let block = self.encoding.block(&mut self.scratch, spare)?;
        let len = block.len() as u64;
        if self.flight.is_none() {
            self.start_request()?;
        }
        if let Some(x) = &mut self.exactly_once {
            x.replay.push((block.clone(), rows));
        }
        self.request.0 += rows as u64;
        self.request.1 += len;
        self.stranded = 0;
        if !self.hand_over(block) {
            // The request is over: the server refused something or the connection broke.
            let e = self.worker_error();
            if self.exactly_once.is_none() {
                // The block did not go out.
                self.request.0 -= rows as u64;
                self.request.1 -= len;
                self.stranded = rows as u64;
                return Err(e);
            }
            // Exactly once: the block is in the replay; `end_request` sends it all again.
            self.retry_after(e)?;
        }
        self.summary.rows += rows as u64;
        self.summary.blocks += 1;
        self.summary.bytes += len;
        let l = self.limits;
        if l.max_rows.is_some_and(|m| self.request.0 >= m)
            || l.max_bytes.is_some_and(|m| self.request.1 >= m)
            || l.max_duration.is_some_and(|m| self.request.2.elapsed() >= m)
            || self.exactly_once.as_ref().is_some_and(|x| x.replay.len() as u64 >= x.max_blocks)
        {
            self.end_request()?;
        }
        Ok(())
    }

    /// Exactly-once mode, the request in flight failed with `e` while blocks were being handed over:
    /// sends it again (as often as allowed) so that the stream can go on.
    fn retry_after(&mut self, e: Error) -> Result<()> {
        self.retry_request(e, |ins| ins.resend())
    }

    /// After the request in flight failed with `e`: `attempt` again (resend, and whatever must follow)
    /// while a retry is allowed and can fix the failure, pausing longer each time.
    fn retry_request(&mut self, e: Error, attempt: impl Fn(&mut Self) -> Result<()>) -> Result<()> {
        let mut e = e;
        let mut retries = 0;
        loop {
            if !self.may_retry(&e, retries) {
                return Err(e);
            }
            retries += 1;
            self.summary.retried_requests += 1;
            log::warn!("insert request {} failed ({e}); sending it again (retry {retries})", self.sequence);
            std::thread::sleep(std::time::Duration::from_millis((50 << retries.min(6)) as u64));
            match attempt(self) {
                Ok(()) => return Ok(()),
                Err(next) => e = next,
            }
        }
    }

    /// Appends a batch of rows given column by column (`columns[i]` holds column i's values; all the
    /// same length).
    pub fn write_columns(&mut self, columns: &[&[Value<'_>]]) -> Result<()> {
        if columns.len() != self.builders.len() {
            return Err(Error::usage(format!(
                "{} data columns for {} table columns",
                columns.len(),
                self.builders.len()
            )));
        }
        let n = columns.first().map_or(0, |c| c.len());
        if let Some((i, c)) = columns.iter().enumerate().find(|(_, c)| c.len() != n) {
            return Err(Error::usage(format!("column {} has {} values, expected {n}", self.columns[i].0, c.len())));
        }
        let mut row = Vec::with_capacity(columns.len());
        for r in 0..n {
            row.clear();
            row.extend(columns.iter().map(|c| c[r].clone()));
            self.write(&row)?;
        }
        Ok(())
    }

    /// Sends what is left and waits for the server to acknowledge the whole insert.
    pub fn end(mut self) -> Result<InsertSummary> {
        self.check_usable()?;
        self.flush()?;
        if self.flight.is_some() {
            if let Err(e) = self.end_request() {
                return Err(self.fail(e));
            }
        }
        self.ended = true;
        Ok(std::mem::take(&mut self.summary))
    }

    fn finish_worker(&mut self) -> Result<ResponseMeta> {
        self.close_body();
        match self.flight.take() {
            Some(InFlight::Thread { worker, .. }) => worker
                .join()
                .map_err(|_| {
                    Error::internal(
                        "the insert's request thread panicked (in the call's progress callback, or a bug here)",
                    )
                })?
                .map_err(|e| e.with_server_version(&self.server_version)),
            #[cfg(feature = "async")]
            Some(InFlight::Job(job)) => job.wait().map_err(|e| e.with_server_version(&self.server_version)),
            None => Err(Error::usage("the insert has already ended")),
        }
    }

    /// Abandons the insert: the request body is cut short, so the server sees a truncated block and
    /// rejects it (blocks already sent may have been committed).
    fn abort(&mut self) {
        // A block that cannot parse makes the server fail the request instead of committing a shorter
        // last block.
        if !self.body_ended {
            let _ = self.hand_over(vec![0xff; 16]);
        }
        #[cfg(feature = "async")]
        if matches!(self.flight, Some(InFlight::Job(_))) {
            // The I/O thread finishes the request; nobody waits for its refusal.
            self.close_body();
            self.flight = None;
            return;
        }
        let _ = self.finish_worker();
    }
}

/// Whether the type holds a `Variant`, `Dynamic` or `JSON`, into which only the server converts a
/// column of another type the way its own insert does.
fn server_converts(t: &TypeDesc) -> bool {
    use TypeDesc as T;
    t.contains(&|t| matches!(t, T::Variant(_) | T::Dynamic { .. } | T::Json(_) | T::Geometry))
}

impl Drop for Inserter {
    fn drop(&mut self) {
        // Dropped without `end`: do not let a partial last block look like a clean end of data.
        if self.flight.is_some() {
            self.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn distributed_engines_are_read_and_changing_keys_found() {
        let d = crate::params::lex::dialects_for("26.9");
        let args = super::distributed_args("Distributed('c', currentDatabase(), 't', cityHash64(a, 'x,y'))", d);
        assert_eq!(args, ["'c'", "currentDatabase()", "'t'", "cityHash64(a, 'x,y')"]);
        assert_eq!(super::nondeterministic_call("rand()", d).as_deref(), Some("rand"));
        assert_eq!(super::nondeterministic_call("intHash64(n) + rand64 ()", d).as_deref(), Some("rand64"));
        assert_eq!(super::nondeterministic_call("toStartOfDay(now())", d).as_deref(), Some("now"));
        assert_eq!(super::nondeterministic_call("brand_id % 7", d), None);
        assert_eq!(super::nondeterministic_call("n", d), None);
        assert_eq!(super::function_calls("cityHash64(n) % f (x, g(y)) + cityHash64 (z)", d), ["cityHash64", "f", "g"]);
        assert!(super::function_calls("brand_id % 7", d).is_empty());
        assert_eq!(super::function_calls(r"f(s, 'rand(', 'a\'b(', 'it''s g(') + h(x)", d), ["f", "h"]);
        // Quoted names and comments are not calls; a name inside a word is not one either.
        assert_eq!(super::function_calls("`rand`(x) + \"now\"(y) /* rand() */ + xrand(z)", d), ["xrand"]);
        let args =
            super::distributed_args(r"Distributed(c, db, t, cityHash64(n, '\'', '))', rand())) SETTINGS x = 1", d);
        assert_eq!(args[3], r"cityHash64(n, '\'', '))', rand())");
        let args = super::distributed_args(r"Distributed(c, db, t, cityHash64(concat(s, '\'')))", d);
        assert_eq!(args[3], r"cityHash64(concat(s, '\''))");
        let args = super::distributed_args("Distributed(`c,d`, \"db)\", t /* ) */, n)", d);
        assert_eq!(args, ["`c,d`", "\"db)\"", "t /* ) */", "n"]);
        assert!(super::distributed_args("NotDistributed(a, b)", d).is_empty());
    }

    #[test]
    fn names_settings_and_columns_are_read_as_sql() {
        use super::{column_names, engine_setting, sql_name, table_name};
        let d = crate::params::lex::dialects_for("26.9");
        assert_eq!(sql_name(" 'a\\\\x\\'y' ").as_deref(), Some("a\\x'y"));
        assert_eq!(sql_name("'it''s'").as_deref(), Some("it's"));
        assert_eq!(sql_name("`t\"`").as_deref(), Some("t\""));
        assert_eq!(sql_name("`a``b`").as_deref(), Some("a`b"));
        assert_eq!(sql_name("'\\x41'").as_deref(), Some("A"));
        assert_eq!(sql_name("plain_name1").as_deref(), Some("plain_name1"));
        assert_eq!(sql_name("currentDatabase()"), None);
        assert_eq!(sql_name("'a' || 'b'"), None);
        assert_eq!(table_name("db.t"), Some((Some("db".into()), "t".into())));
        assert_eq!(table_name("`db.t`"), Some((None, "db.t".into())));
        assert_eq!(table_name("`x(db`.`a.b`"), Some((Some("x(db".into()), "a.b".into())));
        assert_eq!(table_name("\"d\".t"), Some((Some("d".into()), "t".into())));
        assert_eq!(table_name("t; DROP TABLE x"), None);
        let w = b"non_replicated_deduplication_window";
        let full =
            b"MergeTree ORDER BY (n, non_replicated_deduplication_window = 1000) SETTINGS index_granularity = 8192";
        assert_eq!(engine_setting(full, w, d), None);
        let full =
            b"MergeTree ORDER BY n SETTINGS index_granularity = 8192, non_replicated_deduplication_window = 1000";
        assert_eq!(engine_setting(full, w, d), Some(1000));
        let full = b"MergeTree ORDER BY n COMMENT 'SETTINGS non_replicated_deduplication_window = 1000'";
        assert_eq!(engine_setting(full, w, d), None);
        let full = b"MergeTree ORDER BY settings SETTINGS non_replicated_deduplication_window = 5";
        assert_eq!(engine_setting(full, w, d), Some(5));
        assert_eq!(column_names("cityHash64(k, `a b`, 'lit') + rand() % x"), ["k", "a b", "x"]);
    }

    #[test]
    fn channel_reader_concatenates_blocks_and_ends_when_the_sender_goes() {
        use std::io::Read;
        let (tx, rx) = std::sync::mpsc::sync_channel(2);
        let (back, _returned) = std::sync::mpsc::sync_channel(1);
        let mut r = super::ChannelReader { rx, back, current: Vec::new(), pos: 0, asked: false };
        tx.send(b"abc".to_vec()).unwrap();
        tx.send(b"de".to_vec()).unwrap();
        drop(tx);
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"abcde");
    }
}
