//! `chc`: ClickHouse from the command line, for people and pipelines, at the server's own word. Queries
//! are fetched as Native and rendered here, byte for byte as the server's own TSV, CSV and JSONEachRow;
//! what chc does not render itself (`WITH TOTALS`, `extremes`, output settings, a query's own time zone
//! or `FORMAT`) is the server's text, passed on. Inserts are read here exactly as the server's own
//! `INSERT … FORMAT` reads them — rows in the forms the server writes on the client, any other row by the
//! server's parser — and streamed as Native blocks.
//!
//! ```text
//! chc [--url URL] [--user U] [--password P] [--database D] [--setting NAME=VALUE]... [--compress MODE] <command>
//! chc query [--format F] [--param NAME=VALUE]... SQL      F: TSV (default), CSV, JSONEachRow, Native, Null,
//!                                                         ArrowStream, Parquet
//! chc insert TABLE [--format F] [--file PATH]             F: TSV (default), CSV, JSONEachRow, Native
//! chc command SQL
//! ```
//!
//! Without `--url` or `CLICKHOUSE_URL`, an embedded ClickHouse 26.9 is started for the command and
//! stopped when it ends. Exit status: 0 on success, 1 on a server or input error (the ClickHouse code
//! and message; for bad input the 1-based row, its line and the column, with the rows before it
//! inserted and counted; for a broken connection what the server acknowledged and the query id), 2 on
//! a usage error.

mod columnar;
mod embedded;
mod output;
mod progress;

use clap::{Parser, Subcommand};
use clickhouse_connect::format::read::{InputFormat, NativeReader, native_block_rows};
use clickhouse_connect::native::TypeDesc;
use clickhouse_connect::{CallOptions, Client, ClientOptions, Compression, Error, RequestLimits};
use output::{BlockWriter, OutputFormat};
use progress::Progress;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Parser)]
#[command(name = "chc", version, about = "ClickHouse from the command line, through clickhouse-connect's Native codec")]
struct Cli {
    /// Server URL, e.g. http://localhost:8123 or https://user:pw@host:8443/db (default: CLICKHOUSE_URL,
    /// else an embedded local ClickHouse started for this command).
    #[arg(long, env = "CLICKHOUSE_URL", hide_env_values = true, global = true)]
    url: Option<String>,
    /// User name.
    #[arg(long, global = true)]
    user: Option<String>,
    /// Password.
    #[arg(long, env = "CLICKHOUSE_PASSWORD", hide_env_values = true, global = true)]
    password: Option<String>,
    /// Default database.
    #[arg(long, global = true)]
    database: Option<String>,
    /// A ClickHouse setting for every request (repeatable).
    #[arg(long = "setting", value_name = "NAME=VALUE", global = true)]
    settings: Vec<String>,
    /// Compression: none, lz4, zstd (ClickHouse frames) or gzip, deflate, br, http-zstd, http-lz4 (HTTP
    /// Content-Encoding).
    #[arg(long, global = true)]
    compress: Option<String>,
    /// Show progress on stderr even when it is not a terminal.
    #[arg(long, global = true)]
    progress: bool,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Runs a query and writes its rows to stdout.
    Query {
        /// Output format: TSV (TabSeparated), CSV, JSONEachRow, Native, Null, ArrowStream, Parquet.
        #[arg(long, short = 'f', default_value = "TSV")]
        format: String,
        /// A value for a {NAME:Type} placeholder, as text (repeatable).
        #[arg(long = "param", value_name = "NAME=VALUE")]
        params: Vec<String>,
        /// The query.
        sql: String,
    },
    /// Reads rows from a file or stdin and inserts them into a table.
    ///
    /// Rows are converted to the table's column types and streamed as Native blocks. At bad input chc
    /// stops: the rows before it are inserted and counted, the bad row and everything after it are not.
    Insert {
        /// The table (optionally database.table).
        table: String,
        /// Input format: TSV (TabSeparated), CSV, JSONEachRow, Native.
        #[arg(long, short = 'f', default_value = "TSV")]
        format: String,
        /// Read from this file instead of stdin.
        #[arg(long)]
        file: Option<PathBuf>,
        /// Rows per Native block.
        #[arg(long, default_value_t = 65_536)]
        block_rows: usize,
        /// Insert exactly once under this stream id: every request carries an
        /// insert_deduplication_token made of it and the request's number, and a request that fails
        /// for a reason a retry can fix is sent again, byte for byte. The table must deduplicate
        /// (Replicated, or MergeTree with non_replicated_deduplication_window); rerunning the same
        /// input under the same id inserts nothing twice.
        #[arg(long, value_name = "STREAM_ID")]
        exactly_once: Option<String>,
        /// Rows per request (each request is committed on its own; default: one request, or 64 MiB
        /// of encoded data per request with --exactly-once).
        #[arg(long)]
        request_rows: Option<u64>,
    },
    /// Runs a statement (DDL, or a query with a single value) and prints its result.
    Command {
        /// The statement.
        sql: String,
    },
}

/// A failure and its exit status.
struct Failure {
    message: String,
    status: u8,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        // Usage errors exit 2, except a failure to write the output, which is not the caller's mistake.
        let status = match &e {
            Error::Usage(m) if !m.starts_with(output::OUTPUT_FAILED) => 2,
            _ => 1,
        };
        let message = match &e {
            Error::Server { message, .. } => message.clone(),
            Error::Usage(m) if m.starts_with(output::OUTPUT_FAILED) => m.clone(),
            other => other.to_string(),
        };
        Failure { message, status }
    }
}

fn usage(message: impl Into<String>) -> Failure {
    Failure { message: message.into(), status: 2 }
}

/// The library's warnings (a setting dropped for a readonly user, a compression the server cannot do,
/// …) on stderr.
struct Warnings;

impl log::Log for Warnings {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.level() <= log::Level::Warn
    }
    fn log(&self, r: &log::Record<'_>) {
        if self.enabled(r.metadata()) {
            eprintln!("chc: warning: {}", r.args());
        }
    }
    fn flush(&self) {}
}

fn main() -> ExitCode {
    static WARNINGS: Warnings = Warnings;
    if log::set_logger(&WARNINGS).is_ok() {
        log::set_max_level(log::LevelFilter::Warn);
    }
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // `chc query … | head`: the reader has what it wanted; the query was cancelled.
        Err(f) if f.message.ends_with(output::OUTPUT_CLOSED) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("chc: {}", f.message);
            ExitCode::from(f.status)
        }
    }
}

fn run(cli: Cli) -> Result<(), Failure> {
    let progress_wanted = cli.progress;
    // Kept alive (and stopped on drop) for the whole command.
    let mut _embedded = None;
    let url = match &cli.url {
        Some(u) => u.clone(),
        None => {
            let e = embedded::Embedded::start().map_err(|m| Failure { message: m, status: 1 })?;
            let url = e.url();
            _embedded = Some(e);
            url
        }
    };
    let mut options = ClientOptions::from_url(&url)?;
    if let Some(u) = &cli.user {
        options.username = u.clone();
    }
    if let Some(p) = &cli.password {
        options.password = p.clone();
    }
    if let Some(d) = &cli.database {
        options.database = Some(d.clone());
    }
    for s in &cli.settings {
        let (k, v) = s.split_once('=').ok_or_else(|| usage(format!("--setting {s:?} is not NAME=VALUE")))?;
        options.settings.push((k.to_string(), v.to_string()));
    }
    if let Some(c) = &cli.compress {
        options.compression = Compression::parse(c)?;
    }
    options.client_name = Some(format!("chc/{}", env!("CARGO_PKG_VERSION")));
    let query_progress = matches!(cli.command, Cmd::Query { .. })
        && (progress_wanted || std::io::IsTerminal::is_terminal(&std::io::stderr()));
    options.send_progress = options.send_progress || query_progress;
    let client = Client::new(options)?;
    // A setting this user may not change is the server's refusal, as in its own client (the library
    // would drop it with a warning, and the result would be another one than asked for).
    if let Some(name) = client.settings_readonly_for_user()?.first() {
        return Err(Failure {
            message: format!(
                "Cannot modify '{name}' setting in readonly mode (user {}): the server refuses it (code 164, READONLY)",
                client.options().username
            ),
            status: 1,
        });
    }
    match cli.command {
        Cmd::Query { format, params, sql } => query(&client, &format, &params, &sql, progress_wanted),
        Cmd::Insert { table, format, file, block_rows, exactly_once, request_rows } => {
            let how = InsertHow { block_rows, exactly_once, request_rows };
            insert(&client, &table, &format, file, &how, progress_wanted)
        }
        Cmd::Command { sql } => {
            let out = client.command(&sql)?;
            if !out.is_empty() {
                use std::io::Write;
                let mut stdout = std::io::stdout().lock();
                writeln!(stdout, "{}", out.trim_end_matches('\n'))
                    .and_then(|()| stdout.flush())
                    .map_err(output::write_error)?;
            }
            Ok(())
        }
    }
}

fn query(client: &Client, format: &str, params: &[String], sql: &str, progress_wanted: bool) -> Result<(), Failure> {
    query_rendered(client, format, params, sql, progress_wanted, false)
}

/// `chc query`; `by_server`: the server renders the text (chc passes it on).
fn query_rendered(
    client: &Client,
    format: &str,
    params: &[String],
    sql: &str,
    progress_wanted: bool,
    by_server: bool,
) -> Result<(), Failure> {
    let format_name = format;
    let columnar = columnar::Columnar::parse(format);
    let format = match columnar {
        Some(_) => OutputFormat::Null,
        None => OutputFormat::parse(format).ok_or_else(|| {
            usage(format!(
                "unknown output format {format:?} (TSV, CSV, JSONEachRow, Native, Null, ArrowStream, Parquet)"
            ))
        })?,
    };
    let mut opts = CallOptions::new();
    for p in params {
        // The text goes to the server as it is (`param_NAME`), which reads it as it reads any query
        // parameter: `\N`, escapes, every type and spelling it takes, Identifier included.
        let (name, text) = p.split_once('=').ok_or_else(|| usage(format!("--param {p:?} is not NAME=VALUE")))?;
        if name.is_empty() || !name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') {
            return Err(usage(format!("--param {name:?}: a parameter name is letters, digits and _")));
        }
        opts = opts.setting(format!("param_{name}"), text);
    }
    let progress = Arc::new(Progress::new(progress_wanted, "read"));
    // What the server reported reading (its progress headers come until the result starts).
    let read = Arc::new((AtomicU64::new(0), AtomicU64::new(0)));
    if progress.active() {
        let (p, r) = (progress.clone(), read.clone());
        opts = opts.on_progress(move |pr| {
            r.0.fetch_max(pr.read_rows, Ordering::Relaxed);
            r.1.fetch_max(pr.read_bytes, Ordering::Relaxed);
            p.update(pr.read_rows, pr.read_bytes, pr.total_rows_to_read)
        });
    }
    if let Some(col) = columnar {
        return query_columnar(client, sql, &opts, col, &progress, &read);
    }
    if let Some(name) = format.server_name().filter(|_| by_server || server_renders(client, sql)) {
        // What chc does not render exactly (totals, extremes, output settings, a query's own time
        // zone or FORMAT) is the server's text, passed on as it comes.
        // The last bytes are held back: a failure in the middle of the result ends the stream with
        // the server's exception text, which belongs on stderr, not among the rows.
        const HOLD: usize = 64 << 10;
        use std::io::Write;
        let mut stdout = std::io::stdout().lock();
        let (mut lines, mut bytes) = (0u64, 0u64);
        let mut held: Vec<u8> = Vec::new();
        let result = client.raw_query_to(sql, Some(name), &opts, |chunk| {
            held.extend_from_slice(chunk);
            if held.len() > 2 * HOLD {
                let n = held.len() - HOLD;
                stdout.write_all(&held[..n]).map_err(output::write_error)?;
                held.drain(..n);
            }
            lines += memchr::memchr_iter(b'\n', chunk).count() as u64;
            bytes += chunk.len() as u64;
            let (r, b) = (read.0.load(Ordering::Relaxed), read.1.load(Ordering::Relaxed));
            progress.update(r.max(lines), b.max(bytes), 0);
            Ok(())
        });
        let meta = match result {
            Ok(meta) => {
                stdout.write_all(&held).map_err(output::write_error)?;
                meta
            }
            Err(e) => {
                // The rows before the exception, then the error.
                // The server's block is `__exception__ … __exception__` at the very end: its start is
                // the second marker from the end (data may hold the word too, only earlier).
                let block = memchr::memmem::rfind(&held, b"__exception__")
                    .and_then(|end| memchr::memmem::rfind(&held[..end], b"__exception__"));
                // Without the server's exception (the connection broke): whole rows only.
                let whole_rows = memchr::memrchr(b'\n', &held).map_or(0, |p| p + 1);
                let mut cut =
                    block.or_else(|| memchr::memmem::rfind(&held, b"\nCode: ").map(|p| p + 1)).unwrap_or(whole_rows);
                // The server's block starts on a line of its own (`\r\n__exception__`).
                if held[..cut].ends_with(b"\r\n") {
                    cut -= 2;
                }
                let _ = stdout.write_all(&held[..cut]);
                let _ = stdout.flush();
                return Err(e.into());
            }
        };
        stdout.flush().map_err(output::write_error)?;
        let summary = meta.summary.as_deref().and_then(clickhouse_connect::Summary::parse);
        let (r, b) = summary.map_or((0, 0), |s| (s.read_rows, s.read_bytes));
        if r == 0 && b == 0 {
            progress.finish_as(lines, bytes, "received");
        } else {
            progress.finish(r, b);
        }
        return Ok(());
    }
    // Servers before 19 render zero dates and decimals in the older text forms.
    let legacy = client.server_version().split('.').next().and_then(|m| m.parse::<u32>().ok()).is_some_and(|m| m < 19);
    let stdout = std::io::stdout();
    // The server's settings that change its JSON text change ours the same way.
    let quote_denormals = client
        .settings()
        .iter()
        .any(|(k, v)| k == "output_format_json_quote_denormals" && matches!(v.as_str(), "1" | "true"));
    let mut writer =
        BlockWriter::new(stdout.lock(), format, client.server_timezone(), legacy, quote_denormals).with_client(client);
    // While the result streams (no more progress headers), the rows and bytes received so far.
    let on_block = |rows: u64, bytes: u64| {
        let (r, b) = (read.0.load(Ordering::Relaxed), read.1.load(Ordering::Relaxed));
        progress.update(r.max(rows), b.max(bytes), 0);
    };
    let meta = if format == OutputFormat::Native {
        client.query_native_blocks_with(sql, &opts, |block, raw| {
            writer.block(block, raw)?;
            on_block(writer.rows, writer.bytes);
            Ok(())
        })?
    } else {
        let fetched = client.query_blocks_with(sql, &opts, |block| {
            writer.block(block, &[])?;
            on_block(writer.rows, writer.bytes);
            Ok(())
        });
        match fetched {
            // A type this client cannot decode yet (Variant, Dynamic, JSON, aggregate states, an empty
            // Tuple): before anything was written, a query that only reads is run again and its text
            // is the server's.
            Err(e)
                if writer.rows == 0
                    && writer.bytes == 0
                    && format.server_name().is_some()
                    && e.to_string().contains("which this client cannot decode yet")
                    && client.is_read_only(sql) =>
            {
                drop(writer);
                return query_rendered(client, format_name, params, sql, progress_wanted, true);
            }
            other => other?,
        }
    };
    writer.finish()?;
    // The final line counts what the server read (a count() reads millions of rows to return one).
    let summary = meta.summary.as_deref().and_then(clickhouse_connect::Summary::parse);
    let (mut rows, mut bytes) = (read.0.load(Ordering::Relaxed), read.1.load(Ordering::Relaxed));
    if let Some(s) = summary {
        rows = rows.max(s.read_rows);
        bytes = bytes.max(s.read_bytes);
    }
    if rows == 0 && bytes == 0 {
        // The server reported nothing (18.16 sends no progress, a readonly user may not ask): say what
        // the rows are — received, not read.
        progress.finish_as(writer.rows, writer.bytes, "received");
    } else {
        progress.finish(rows.max(writer.rows), bytes.max(writer.bytes));
    }
    Ok(())
}

/// `chc query --format ArrowStream | Parquet`: written by chc from the decoded blocks (see
/// `columnar`). A result without any block has no schema to write: a read-only query's is the
/// server's own file then.
fn query_columnar(
    client: &Client,
    sql: &str,
    opts: &CallOptions,
    format: columnar::Columnar,
    progress: &Progress,
    read: &(AtomicU64, AtomicU64),
) -> Result<(), Failure> {
    use std::io::Write;
    let out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout());
    let written = columnar::query(client, sql, opts, format, out, |rows| {
        progress.update(read.0.load(Ordering::Relaxed).max(rows), read.1.load(Ordering::Relaxed), 0)
    })?;
    let (meta, rows) = match written {
        Some(w) => w,
        None if client.is_read_only(sql) => {
            let mut stdout = std::io::stdout().lock();
            let meta = client.raw_query_to(sql, Some(format.server_name()), opts, |chunk| {
                stdout.write_all(chunk).map_err(output::write_error)
            })?;
            stdout.flush().map_err(output::write_error)?;
            (meta, 0)
        }
        None => {
            return Err(usage(format!(
                "the statement returned no rows and no columns: there is no {} file to write",
                format.server_name()
            )));
        }
    };
    let summary = meta.summary.as_deref().and_then(clickhouse_connect::Summary::parse);
    match summary {
        Some(s) if s.read_rows > 0 => progress.finish(s.read_rows.max(rows), s.read_bytes),
        _ => progress.finish_as(rows, 0, "received"),
    }
    Ok(())
}

/// Whether the server renders this query's text (chc renders only what it renders exactly): `WITH
/// TOTALS` and `extremes` (Native over HTTP carries neither), settings that change text output (in the
/// client's settings or anywhere in the query, quoted or not), a query's own time zone, or its own
/// `FORMAT`. Deliberately broad: a query that mentions any of these words anywhere is rendered by the
/// server, which costs at most speed, never exactness.
fn server_renders(client: &Client, sql: &str) -> bool {
    const WORDS: &[&str] =
        &["totals", "extremes", "format", "output", "representation", "timezone", "time_zone", "compatibility"];
    let mentions = |s: &str| {
        let s = s.to_ascii_lowercase();
        WORDS.iter().any(|w| s.contains(w))
    };
    // A backslash may spell any of those words in a quoted name (`\x65xtremes`).
    // 18.16's Native names `DateTime` columns without their zone: its own text has them.
    client.settings().iter().any(|(k, _)| mentions(k))
        || mentions(sql)
        || sql.contains('\\')
        || server_major(client) < 19
}

/// The server's major version (0 when it does not parse).
fn server_at_least(client: &Client, major: u32, minor: u32) -> bool {
    let mut parts = client.server_version().split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) >= (major, minor)
}

fn server_major(client: &Client) -> u32 {
    client.server_version().split('.').next().and_then(|m| m.parse().ok()).unwrap_or(0)
}

/// Counts the bytes read through it.
struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// How `chc insert` splits and guards the stream.
struct InsertHow {
    block_rows: usize,
    exactly_once: Option<String>,
    request_rows: Option<u64>,
}

fn insert(
    client: &Client,
    table: &str,
    format: &str,
    file: Option<PathBuf>,
    how: &InsertHow,
    progress_wanted: bool,
) -> Result<(), Failure> {
    let format = InputFormat::parse(format)
        .ok_or_else(|| usage(format!("unknown input format {format:?} (TSV, CSV, JSONEachRow, Native)")))?;
    let raw: Box<dyn Read> = match &file {
        Some(path) => Box::new(
            std::fs::File::open(path)
                .map_err(|e| Failure { message: format!("{}: {e}", path.display()), status: 1 })?,
        ),
        None => Box::new(std::io::stdin().lock()),
    };
    let sent = Arc::new(AtomicU64::new(0));
    let input: Box<dyn BufRead> =
        Box::new(BufReader::with_capacity(1 << 20, Counting { inner: raw, count: sent.clone() }));
    // The columns an INSERT without a column list takes (not MATERIALIZED, ALIAS or EPHEMERAL ones).
    let mut inserter = client.inserter(table, &[], how.block_rows)?;
    let null_as_default = !client
        .settings()
        .iter()
        .any(|(k, v)| k == "input_format_null_as_default" && matches!(v.as_str(), "0" | "false"));
    // Settings that change text input leave every row to the server's parser, which applies the
    // DEFAULT expressions itself (under `compatibility` the NULL-for-default path may not exist).
    let server_reads_all =
        client.settings().iter().any(|(k, _)| clickhouse_connect::format::input::changes_text_input(k));
    if server_major(client) >= 21 && server_reads_all && format != InputFormat::Native {
        inserter = inserter.defaults_by_server();
    } else if server_at_least(client, 23, 3) && null_as_default {
        // (NULL standing for a DEFAULT needs the server to convert a Native block's types: 23.3 on.)
        // An omitted field gets the column's DEFAULT expression, as in the server's own INSERT (which
        // fills a NULL for a non-Nullable column with it).
        inserter = inserter.defaults_as_nulls()?;
    }
    let columns: Vec<(String, TypeDesc)> = inserter
        .columns()
        .iter()
        .map(|(n, t)| TypeDesc::parse(t).map(|t| (n.clone(), t)))
        .collect::<clickhouse_connect::Result<_>>()?;
    if let Some(rows) = how.request_rows {
        inserter = inserter.with_request_limits(RequestLimits { max_rows: Some(rows), ..Default::default() });
    }
    if let Some(id) = &how.exactly_once {
        inserter = inserter.exactly_once(id.clone(), 0)?;
    }
    let progress = Progress::new(progress_wanted, "sent");
    let mut n = 0u64;
    let failure = if format == InputFormat::Native {
        // Block by block: a block already in the table's shape (names, order, types) is sent as it was
        // read, after being decoded once to check it; any other block goes through values.
        let mut native = NativeReader::new(input, columns.clone());
        let mut send_error = None;
        let read = native.for_each_block(|block, bytes| {
            let sent_block = if inserter.native_mismatch(block).is_none() {
                inserter.write_native_block(block, bytes)
            } else {
                let mut at = n;
                native_block_rows(&columns, block, n + 1, |row| {
                    at += 1;
                    inserter.write(&row).map_err(|e| match e {
                        // A value the column does not take: the input's row, not the insert's.
                        Error::Input { column, message, .. } => Error::Input { row: at, line: 0, column, message },
                        other => other,
                    })
                })
            };
            match sent_block {
                Ok(()) => {}
                Err(e @ Error::Input { .. }) => return Err(e),
                Err(e) => {
                    send_error = Some(e);
                    return Err(Error::Usage("stopped".into()));
                }
            }
            n += block.rows() as u64;
            progress.update(n, sent.load(Ordering::Relaxed), 0);
            Ok(())
        });
        if let Some(e) = send_error {
            return Err(e.into());
        }
        read.err()
    } else {
        let mut read = 0;
        let mut shown = 0;
        let copied = client.copy_input(format, input, &columns, &mut inserter, |n| {
            read = n;
            if n >= shown + 65_536 {
                shown = n;
                progress.update(n, sent.load(Ordering::Relaxed), 0);
            }
        });
        match copied {
            Ok((_, failure)) => failure,
            // The insert failed: say how far the input was read (rows after it were never read).
            Err(e @ Error::Insert { .. }) => {
                return Err(Failure { message: format!("{e}; {read} rows of the input had been read"), status: 1 });
            }
            Err(e) => return Err(e.into()),
        }
    };
    // The rows before a failure are whole and valid: they are inserted, and counted.
    let summary = inserter.end()?;
    progress.finish(summary.rows, sent.load(Ordering::Relaxed));
    match failure {
        None => Ok(()),
        Some(e) => Err(Failure {
            message: format!("{e}; the {} rows before it were inserted, nothing from it on", summary.rows),
            status: 1,
        }),
    }
}
