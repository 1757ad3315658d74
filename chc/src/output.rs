//! Writing query results: every block the server sends (always Native) is decoded by the crate's codec
//! and written in the chosen format by the crate's renderers, which reproduce the server's own text
//! byte for byte.

use clickhouse_connect::format::cells::Cells;
use clickhouse_connect::format::json::json_string;
use clickhouse_connect::format::{DATETIME, TextRenderer};
use clickhouse_connect::native::{Block, Column, ColumnView, TypeDesc};
use clickhouse_connect::{Error, Result, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

/// The output formats of `chc query`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    /// One JSON object per row.
    JsonEachRow,
    /// Tab-separated, escaped.
    TabSeparated,
    /// Comma-separated, quoted.
    Csv,
    /// Native blocks: each block's bytes as the server sent them and the decoder checked them, without
    /// the BlockInfo prefix (so that any reader of Native reads them).
    Native,
    /// Decode every block into column storage, write nothing (for benchmarks).
    Null,
}

impl OutputFormat {
    /// The server's name of a text format (the ones it can render for chc).
    pub fn server_name(self) -> Option<&'static str> {
        match self {
            OutputFormat::JsonEachRow => Some("JSONEachRow"),
            OutputFormat::TabSeparated => Some("TabSeparated"),
            OutputFormat::Csv => Some("CSV"),
            OutputFormat::Native | OutputFormat::Null => None,
        }
    }

    /// Parses a format name (case-insensitive; `TSV` and `TabSeparated` are the same).
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "jsoneachrow" | "jsonl" | "ndjson" => OutputFormat::JsonEachRow,
            "tsv" | "tabseparated" => OutputFormat::TabSeparated,
            "csv" => OutputFormat::Csv,
            "native" => OutputFormat::Native,
            "null" => OutputFormat::Null,
            _ => return None,
        })
    }
}

/// Writes blocks in one format, buffering up to a block's worth of text.
pub struct BlockWriter<'c, W: Write> {
    out: W,
    /// Asked for the text of instants this renderer may render otherwise than the server.
    client: Option<&'c clickhouse_connect::Client>,
    format: OutputFormat,
    renderer: TextRenderer,
    buf: Vec<u8>,
    /// Working space of the renderers.
    scratch: Vec<u8>,
    /// The second thread's renderer and working space.
    second: Part,
    /// The text of each chunk of a block's rows (see [`CHUNK_ROWS`]).
    chunks: Vec<std::sync::Mutex<Vec<u8>>>,
    /// Zones already compared with the server's.
    zones_seen: Vec<Option<String>>,
    /// Rows written so far.
    pub rows: u64,
    /// Bytes written so far.
    pub bytes: u64,
}

impl<'c, W: Write> BlockWriter<'c, W> {
    /// A writer to `out`; `server_tz` renders date-times of columns without a zone.
    pub fn new(out: W, format: OutputFormat, server_tz: &str, legacy: bool, json_quote_denormals: bool) -> Self {
        BlockWriter {
            out,
            client: None,
            format,
            renderer: TextRenderer::new(server_tz)
                .with_legacy_formatting(legacy)
                .with_json_quoted_denormals(json_quote_denormals),
            buf: Vec::with_capacity(1 << 20),
            scratch: Vec::new(),
            second: Part {
                renderer: TextRenderer::new(server_tz)
                    .with_legacy_formatting(legacy)
                    .with_json_quoted_denormals(json_quote_denormals),
                scratch: Vec::new(),
            },
            chunks: Vec::new(),
            rows: 0,
            bytes: 0,
            zones_seen: Vec::new(),
        }
    }

    /// Asks `client` for the text of `DateTime64`s this renderer may render otherwise than the server
    /// (before 1970, in zones other than UTC).
    pub fn with_client(mut self, client: &'c clickhouse_connect::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// Gets the server's text for every uncertain instant of the block not known yet.
    fn resolve_instants(&mut self, block: &Block<'_>) -> Result<()> {
        let Some(client) = self.client else { return Ok(()) };
        // Zones whose rules here differ from the server's: every instant in them is the server's text.
        for c in block.columns() {
            for z in c.desc().time_zones() {
                if !self.zones_seen.contains(&z) {
                    if !client.zone_agrees(z.as_deref())? {
                        self.renderer.mark_zone_uncertain(z.as_deref());
                        self.second.renderer.mark_zone_uncertain(z.as_deref());
                    }
                    self.zones_seen.push(z);
                }
            }
        }
        // Texts are kept for one block (a result's distinct instants are unbounded).
        self.renderer.clear_instant_texts();
        self.second.renderer.clear_instant_texts();
        let mut wanted: BTreeMap<(Option<String>, u8), BTreeSet<i64>> = BTreeMap::new();
        for c in block.columns() {
            collect_instants(c.desc(), c.column(), &mut self.renderer, &mut wanted);
        }
        for ((zone, precision), ticks) in wanted {
            // Zone names are letters, digits and / _ + - (anything else is left to this renderer).
            if zone.as_deref().is_some_and(|z| !z.bytes().all(|b| b.is_ascii_alphanumeric() || b"/_+-".contains(&b))) {
                continue;
            }
            let ticks: Vec<i64> = ticks.into_iter().collect();
            for chunk in ticks.chunks(5_000) {
                let list = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
                let sql = if precision == DATETIME {
                    let tz = zone.as_deref().map_or(String::new(), |z| format!(", '{z}'"));
                    format!("SELECT arrayMap(x -> toString(toDateTime(x{tz})), [{list}]::Array(UInt32))")
                } else {
                    let ty = match &zone {
                        Some(z) => format!("DateTime64({precision}, \\'{z}\\')"),
                        None => format!("DateTime64({precision})"),
                    };
                    format!("SELECT arrayMap(x -> toString(reinterpret(x, '{ty}')), [{list}]::Array(Int64))")
                };
                // This query's own result in full, whatever the user's settings say about results.
                let opts = clickhouse_connect::CallOptions::new()
                    .setting("offset", 0)
                    .setting("limit", 0)
                    .setting("max_query_size", (sql.len() + 4096).max(262_144));
                let result = client.query_with(&sql, &opts)?;
                let texts = match result.rows.first().and_then(|r| r.first()) {
                    Some(Value::Array(texts)) if texts.len() == chunk.len() => texts,
                    _ => return Err(Error::Usage("the server did not render the instants chc asked for".into())),
                };
                for (t, text) in chunk.iter().zip(texts) {
                    if let Value::String(s) = text {
                        self.renderer.set_instant_text(zone.as_deref(), precision, *t, s.to_vec());
                        self.second.renderer.set_instant_text(zone.as_deref(), precision, *t, s.to_vec());
                    }
                }
            }
        }
        Ok(())
    }

    /// Writes one block; `raw` is its plain Native encoding (used by the Native format only).
    pub fn block(&mut self, block: &Block<'_>, raw: &[u8]) -> Result<()> {
        let columns = block.columns();
        let rows = block.rows();
        self.buf.clear();
        if !matches!(self.format, OutputFormat::Native | OutputFormat::Null) {
            self.resolve_instants(block)?;
            // A zone the time zone database does not know is an error, never a silent UTC.
            for c in columns {
                self.renderer
                    .check_type(c.desc())
                    .map_err(|e| Error::UnsupportedType(format!("column {}: {e}", c.name())))?;
            }
        }
        match self.format {
            OutputFormat::Null => {
                // Every value is decoded into typed column storage as the bytes arrive; read it back as
                // a consumer of the typed columns would (sums of numbers, string offsets), render nothing.
                let mut check = 0u64;
                for c in columns {
                    check = check.wrapping_add(match c.column().view() {
                        ColumnView::UInt64(v) => v.iter().fold(0u64, |a, x| a.wrapping_add(*x)),
                        ColumnView::String { offsets, .. } => offsets.total(),
                        _ => c.column().rows() as u64,
                    });
                }
                std::hint::black_box(check);
            }
            OutputFormat::TabSeparated | OutputFormat::Csv | OutputFormat::JsonEachRow => {
                // Straight from each column's storage (no value per cell); a large block's second half
                // is rendered on a second thread, into a second buffer, written after the first.
                let cells: Vec<Cells<'_>> = columns.iter().map(|c| Cells::new(c.column(), c.desc())).collect();
                let keys: Vec<Vec<u8>> = columns
                    .iter()
                    .map(|c| {
                        // JSON: each key once per block, `"name":`, escaped as JSON.
                        let mut k = Vec::new();
                        json_string(&mut k, c.name_bytes());
                        k.push(b':');
                        k
                    })
                    .collect();
                let format = self.format;
                // Rows in chunks that the two threads take in turn as each finishes one (the server
                // shares the cores, so a fixed half each would leave one thread waiting).
                let chunks = rows.div_ceil(CHUNK_ROWS);
                while self.chunks.len() < chunks {
                    self.chunks.push(std::sync::Mutex::new(Vec::new()));
                }
                let next = std::sync::atomic::AtomicUsize::new(0);
                let Part { renderer: r2, scratch: s2, .. } = &mut self.second;
                let (r1, s1) = (&mut self.renderer, &mut self.scratch);
                let (cells, keys, parts) = (&cells, &keys, &self.chunks[..chunks]);
                let work = |renderer: &mut TextRenderer, scratch: &mut Vec<u8>| {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(part) = parts.get(i) else { break };
                        // Rendered into a buffer of this thread's own (the chunks' slots share cache
                        // lines: growing a buffer in place would bounce them between the cores).
                        let mut buf = std::mem::take(&mut *part.lock().unwrap_or_else(|e| e.into_inner()));
                        buf.clear();
                        let range = i * CHUNK_ROWS..((i + 1) * CHUNK_ROWS).min(rows);
                        render(format, cells, keys, renderer, &mut buf, scratch, range);
                        *part.lock().unwrap_or_else(|e| e.into_inner()) = buf;
                    }
                };
                std::thread::scope(|scope| {
                    let other = (chunks > 1).then(|| scope.spawn(|| work(r2, s2)));
                    work(r1, s1);
                    if let Some(h) = other {
                        let _ = h.join();
                    }
                });
                for part in &self.chunks[..chunks] {
                    let buf = part.lock().unwrap_or_else(|e| e.into_inner());
                    self.out.write_all(&buf).map_err(write_error)?;
                    self.bytes += buf.len() as u64;
                }
            }
            OutputFormat::Native => self.buf.extend_from_slice(raw),
        }
        self.out.write_all(&self.buf).map_err(write_error)?;
        self.rows += rows as u64;
        self.bytes += self.buf.len() as u64;
        Ok(())
    }

    /// Flushes the output.
    pub fn finish(&mut self) -> Result<()> {
        self.out.flush().map_err(write_error)
    }
}

/// Rows rendered as one piece of work (blocks with more are rendered by two threads).
const CHUNK_ROWS: usize = 4_096;

/// What the second rendering thread works with.
pub struct Part {
    renderer: TextRenderer,
    scratch: Vec<u8>,
}

/// Renders `rows` of a block's `cells` into `buf` (appended).
fn render(
    format: OutputFormat,
    cells: &[Cells<'_>],
    keys: &[Vec<u8>],
    renderer: &mut TextRenderer,
    buf: &mut Vec<u8>,
    scratch: &mut Vec<u8>,
    rows: std::ops::Range<usize>,
) {
    match format {
        OutputFormat::JsonEachRow => {
            for r in rows {
                buf.push(b'{');
                for (i, (c, k)) in cells.iter().zip(keys).enumerate() {
                    if i > 0 {
                        buf.push(b',');
                    }
                    buf.extend_from_slice(k);
                    c.write_json(renderer, buf, r, scratch);
                }
                buf.extend_from_slice(b"}\n");
            }
        }
        _ => {
            let csv = format == OutputFormat::Csv;
            for r in rows {
                for (i, c) in cells.iter().enumerate() {
                    if i > 0 {
                        buf.push(if csv { b',' } else { b'\t' });
                    }
                    if csv {
                        c.write_csv(renderer, buf, r, scratch);
                    } else {
                        c.write_tsv(renderer, buf, r);
                    }
                }
                buf.push(b'\n');
            }
        }
    }
}

/// The `DateTime64` values of a column (at any depth) that the renderer may render otherwise than the
/// server and has no text for yet, by (zone, precision).
fn collect_instants(
    t: &TypeDesc,
    c: &dyn Column,
    r: &mut TextRenderer,
    wanted: &mut BTreeMap<(Option<String>, u8), BTreeSet<i64>>,
) {
    match (t, c.view()) {
        // A `DateTime` (never before 1970) is uncertain only in a zone marked so: then all of them are.
        (TypeDesc::DateTime(zone), ColumnView::UInt32(secs))
            if r.instant_is_uncertain(zone.as_deref(), DATETIME, 0) =>
        {
            for &x in secs {
                let x = i64::from(x);
                if r.instant_is_uncertain(zone.as_deref(), DATETIME, x)
                    && !r.has_instant_text(zone.as_deref(), DATETIME, x)
                {
                    wanted.entry((zone.clone(), DATETIME)).or_default().insert(x);
                }
            }
        }
        (TypeDesc::DateTime64(p, zone), ColumnView::Int64(ticks)) => {
            for &x in ticks {
                if r.instant_is_uncertain(zone.as_deref(), *p, x) && !r.has_instant_text(zone.as_deref(), *p, x) {
                    wanted.entry((zone.clone(), *p)).or_default().insert(x);
                }
            }
        }
        (TypeDesc::Nullable(i), ColumnView::Nullable { inner, .. }) => collect_instants(i, inner, r, wanted),
        (TypeDesc::Array(i), ColumnView::Array { inner, .. }) => collect_instants(i, inner, r, wanted),
        (TypeDesc::Map(k, v), ColumnView::Map { keys, values, .. }) => {
            collect_instants(k, keys, r, wanted);
            collect_instants(v, values, r, wanted);
        }
        (TypeDesc::Tuple(items), ColumnView::Tuple(columns)) => {
            for ((_, t), c) in items.iter().zip(columns) {
                collect_instants(t, c, r, wanted);
            }
        }
        (TypeDesc::LowCardinality(i), ColumnView::LowCardinality { dictionary, .. }) => {
            let inner = match i.as_ref() {
                TypeDesc::Nullable(x) => x.as_ref(),
                x => x,
            };
            collect_instants(inner, dictionary, r, wanted);
        }
        _ => {}
    }
}

/// The message of the error for a reader that stopped reading (`chc query … | head`).
pub const OUTPUT_CLOSED: &str = "the output was closed";

/// The start of the message of an error writing the output (a full disk, …): exit status 1.
pub const OUTPUT_FAILED: &str = "cannot write the output";

pub fn write_error(e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Error::Usage(OUTPUT_CLOSED.into())
    } else {
        Error::Usage(format!("{OUTPUT_FAILED}: {e}"))
    }
}
