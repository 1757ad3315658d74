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
//! Nothing is reported inserted before the server has acknowledged the whole request in
//! [`Inserter::end`]. If the server rejects data mid-stream, the request ends, the next
//! [`Inserter::write`] (or `end`) returns the server's error, and what the table holds is whatever
//! the server committed (ClickHouse commits per block), never what the client hoped. Not retried.
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

use super::{CallOptions, Client, Compression};
use crate::error::{Error, Result};
use crate::native::encoder::write_block_from;
use crate::native::encoder::{ValueBuilder, builder_for};
use crate::native::{Block, ColumnEncoder, TypeDesc};
use crate::transport::compression::{Method, write_frames};
use crate::transport::{Request, ResponseMeta, Summary, Transport};
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
    /// The query id of the insert.
    pub query_id: Option<String>,
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

/// How a streamed body is compressed, with the state a streaming encoder keeps between blocks.
enum BodyEncoding {
    None,
    /// ClickHouse frames (`decompress=1`), one or more per block.
    Frames(Method),
    /// HTTP `Content-Encoding: gzip` / `deflate`: one deflate stream per request, sync-flushed after
    /// every block so each block leaves as soon as it is encoded.
    Gzip(Option<flate2::write::GzEncoder<Vec<u8>>>),
    Deflate(Option<flate2::write::ZlibEncoder<Vec<u8>>>),
    /// HTTP `Content-Encoding: zstd`: one zstd frame per block (a stream of frames is valid zstd).
    Zstd,
    /// HTTP `Content-Encoding: lz4`: one LZ4 frame per block (frames may follow one another).
    Lz4,
}

impl BodyEncoding {
    fn content_encoding(&self) -> Option<&'static str> {
        match self {
            BodyEncoding::Gzip(_) => Some("gzip"),
            BodyEncoding::Deflate(_) => Some("deflate"),
            BodyEncoding::Zstd => Some("zstd"),
            BodyEncoding::Lz4 => Some("lz4"),
            _ => None,
        }
    }

    /// Encodes the Native block in `raw` for the body, using `spare` (an empty buffer that already went
    /// round once, when there is one) for the result. Uncompressed, the block itself is the body and
    /// `spare` takes its place in `raw`.
    fn block(&mut self, raw: &mut Vec<u8>, mut spare: Vec<u8>) -> Result<Vec<u8>> {
        use std::io::Write;
        let io = |e: std::io::Error| Error::usage(format!("compressing an insert block: {e}"));
        let block = &raw[..];
        spare.clear();
        Ok(match self {
            BodyEncoding::None => std::mem::replace(raw, spare),
            BodyEncoding::Frames(m) => {
                write_frames(&mut spare, block, *m)?;
                spare
            }
            BodyEncoding::Zstd => zstd::bulk::compress(block, 1).map_err(io)?,
            BodyEncoding::Lz4 => super::insert::http_encode("lz4", block)?,
            BodyEncoding::Gzip(e) => {
                let e = e.get_or_insert_with(|| flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast()));
                e.write_all(block).map_err(io)?;
                e.flush().map_err(io)?;
                std::mem::take(e.get_mut())
            }
            BodyEncoding::Deflate(e) => {
                let e =
                    e.get_or_insert_with(|| flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast()));
                e.write_all(block).map_err(io)?;
                e.flush().map_err(io)?;
                std::mem::take(e.get_mut())
            }
        })
    }

    /// The bytes that end the current request's stream (gzip/deflate trailers), resetting the state.
    fn finish(&mut self) -> Result<Vec<u8>> {
        let io = |e: std::io::Error| Error::usage(format!("compressing an insert: {e}"));
        Ok(match self {
            BodyEncoding::Gzip(e) => e.take().map(|e| e.finish()).transpose().map_err(io)?.unwrap_or_default(),
            BodyEncoding::Deflate(e) => e.take().map(|e| e.finish()).transpose().map_err(io)?.unwrap_or_default(),
            _ => Vec::new(),
        })
    }
}

/// A streaming insert into one table; see the module docs.
pub struct Inserter {
    columns: Vec<(String, String)>,
    /// The columns' types, parsed.
    types: Vec<TypeDesc>,
    builders: Vec<Box<dyn ValueBuilder>>,
    block_rows: usize,
    encoding: BodyEncoding,
    tx: Option<SyncSender<Vec<u8>>>,
    worker: Option<JoinHandle<Result<ResponseMeta>>>,
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
    /// Set by `end` or by an abort: nothing more can be written.
    ended: bool,
    /// For server errors whose text does not carry the version.
    server_version: String,
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
}

impl std::io::Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
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
        let columns = self.insert_columns_for(table, column_names)?;
        let types = columns.iter().map(|(_, t)| TypeDesc::parse(t)).collect::<Result<Vec<_>>>()?;
        let builders = types.iter().map(builder_for).collect::<Result<Vec<_>>>()?;
        let names: Vec<String> = columns.iter().map(|(n, _)| super::quote_identifier(n)).collect();
        let sql = format!("INSERT INTO {} ({}) FORMAT Native", super::insert::quote_table(table), names.join(", "));
        let encoding = match &self.compression {
            Compression::Lz4 => BodyEncoding::Frames(Method::Lz4),
            Compression::Zstd => BodyEncoding::Frames(Method::Zstd),
            Compression::Http(e) if e == "gzip" => BodyEncoding::Gzip(None),
            Compression::Http(e) if e == "deflate" => BodyEncoding::Deflate(None),
            Compression::Http(e) if e == "zstd" => BodyEncoding::Zstd,
            Compression::Http(e) if e == "lz4" => BodyEncoding::Lz4,
            _ => BodyEncoding::None,
        };
        let mut extra = vec![("query", sql.as_str())];
        if matches!(encoding, BodyEncoding::Frames(_)) {
            extra.push(("decompress", "1"));
        }
        let params = Arc::new(self.params(opts, &extra)?);
        let ins = Inserter {
            columns,
            types,
            builders,
            block_rows,
            encoding,
            tx: None,
            worker: None,
            scratch: Vec::new(),
            returned: sync_channel(RETURNED_BUFFERS),
            summary: InsertSummary::default(),
            transport: self.transport.clone(),
            params,
            limits: RequestLimits::default(),
            request: (0, 0, std::time::Instant::now()),
            ended: false,
            server_version: self.server_version.clone(),
        };
        // Requests start with their first block, so limits never produce an empty request.
        Ok(ins)
    }
}

impl Inserter {
    /// Ends the current request and starts a new one whenever a limit is reached (checked after each
    /// block). Each request is committed by the server on its own.
    pub fn with_request_limits(mut self, limits: RequestLimits) -> Self {
        self.limits = limits;
        self
    }

    fn start_request(&mut self) -> Result<()> {
        let (tx, rx) = sync_channel::<Vec<u8>>(2);
        let transport = self.transport.clone();
        let params = self.params.clone();
        let back = self.returned.0.clone();
        let headers: Vec<(String, String)> = self
            .encoding
            .content_encoding()
            .map(|e| ("Content-Encoding".to_string(), e.to_string()))
            .into_iter()
            .collect();
        let worker = std::thread::Builder::new()
            .name("clickhouse-inserter".into())
            .spawn(move || {
                let mut body = ChannelReader { rx, back, current: Vec::new(), pos: 0 };
                let req = Request { headers: &headers, ..Request::new(&params, &[]) };
                transport.post_streaming(&req, &mut body, &mut |_| Ok(()))
            })
            .map_err(|e| Error::usage(format!("cannot start the insert thread: {e}")))?;
        self.tx = Some(tx);
        self.worker = Some(worker);
        self.request = (0, 0, std::time::Instant::now());
        self.summary.requests += 1;
        Ok(())
    }

    /// Ends the current request, waiting for the server's acknowledgement.
    fn end_request(&mut self) -> Result<ResponseMeta> {
        let trailer = self.encoding.finish()?;
        if !trailer.is_empty() {
            let sent = self.tx.as_ref().is_some_and(|tx| tx.send(trailer).is_ok());
            if !sent {
                return self.finish_worker();
            }
        }
        self.tx = None; // end of body
        let meta = self.finish_worker()?;
        if let Some(s) = meta.summary.as_deref().and_then(Summary::parse) {
            let total = self.summary.server.get_or_insert_with(Summary::default);
            total.written_rows += s.written_rows;
            total.written_bytes += s.written_bytes;
        }
        self.summary.query_id = meta.query_id.clone();
        Ok(meta)
    }

    /// The columns being inserted, with their types.
    pub fn columns(&self) -> &[(String, String)] {
        &self.columns
    }

    /// Appends one row (one value per column). A value that does not fit its column is an error naming
    /// the row and column; since the columns before it already took their values, the insert is then
    /// aborted (the server rejects the request), so no partial row can ever be committed.
    pub fn write(&mut self, row: &[Value<'_>]) -> Result<()> {
        if self.ended {
            return Err(Error::usage("the insert has already ended"));
        }
        if row.len() != self.builders.len() {
            return Err(Error::usage(format!("row has {} values for {} columns", row.len(), self.builders.len())));
        }
        let at = self.summary.rows + self.pending_rows() as u64;
        let failed =
            self.builders.iter_mut().zip(row).enumerate().find_map(|(i, (b, v))| b.push(v).err().map(|e| (i, e)));
        if let Some((i, e)) = failed {
            let (name, t) = self.columns[i].clone();
            self.abort();
            return Err(Error::usage(format!("row {at}, column {name} ({t}): {e}; the insert was aborted")));
        }
        if self.pending_rows() >= self.block_rows {
            self.flush()?;
        }
        Ok(())
    }

    fn pending_rows(&self) -> usize {
        self.builders.first().map_or(0, |b| b.rows())
    }

    /// Encodes and sends the rows written so far as one block (also done automatically every
    /// `block_rows` rows).
    pub fn flush(&mut self) -> Result<()> {
        let rows = self.pending_rows();
        if rows == 0 {
            return Ok(());
        }
        let named =
            self.columns.iter().zip(&self.builders).map(|((n, _), b)| (n.as_str(), b.as_ref() as &dyn ColumnEncoder));
        self.scratch.clear();
        write_block_from(&mut self.scratch, named)?;
        self.send_scratch(rows)?;
        for b in &mut self.builders {
            b.clear();
        }
        Ok(())
    }

    /// Sends a Native block that is already encoded — one read from a Native file or another server —
    /// without decoding and re-encoding it. `block` is its decoded form, `bytes` its exact encoding
    /// (without BlockInfo); its columns must be this insert's, in order, with the same types, else
    /// nothing is sent and the error says which column differs. Rows written before it are sent first.
    pub fn write_native_block(&mut self, block: &Block<'_>, bytes: &[u8]) -> Result<()> {
        if self.ended {
            return Err(Error::usage("the insert has already ended"));
        }
        if let Some(why) = self.native_mismatch(block) {
            return Err(Error::usage(format!("the Native block does not fit this insert: {why}")));
        }
        self.flush()?;
        if block.rows() == 0 {
            return Ok(());
        }
        self.scratch.clear();
        self.scratch.extend_from_slice(bytes);
        self.send_scratch(block.rows())
    }

    /// Whether `block` has exactly this insert's columns and types (what `write_native_block` needs):
    /// `None` when it does, else what differs.
    pub fn native_mismatch(&self, block: &Block<'_>) -> Option<String> {
        let cols = block.columns();
        if cols.len() != self.columns.len() {
            return Some(format!("{} columns for {}", cols.len(), self.columns.len()));
        }
        cols.iter().zip(self.columns.iter().zip(&self.types)).find_map(|(c, ((name, t), desc))| {
            (c.name() != name || c.desc() != desc)
                .then(|| format!("column {} {} where {name} {t} was expected", c.name(), c.type_name()))
        })
    }

    /// Compresses and sends the encoded block in `scratch`, counting its rows, and ends the request
    /// when a limit is reached.
    fn send_scratch(&mut self, rows: usize) -> Result<()> {
        let spare = self.returned.1.try_recv().unwrap_or_else(|_| Vec::with_capacity(self.scratch.capacity()));
        let block = self.encoding.block(&mut self.scratch, spare)?;
        let len = block.len() as u64;
        if self.worker.is_none() {
            self.start_request()?;
        }
        let sent = self.tx.as_ref().is_some_and(|tx| tx.send(block).is_ok());
        if !sent {
            // The request is over: the server refused something or the connection broke.
            return Err(self
                .finish_worker()
                .err()
                .unwrap_or_else(|| Error::usage("the insert request ended before all data was sent")));
        }
        self.summary.rows += rows as u64;
        self.summary.blocks += 1;
        self.summary.bytes += len;
        self.request.0 += rows as u64;
        self.request.1 += len;
        let l = self.limits;
        if l.max_rows.is_some_and(|m| self.request.0 >= m)
            || l.max_bytes.is_some_and(|m| self.request.1 >= m)
            || l.max_duration.is_some_and(|m| self.request.2.elapsed() >= m)
        {
            self.end_request()?;
        }
        Ok(())
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
        if self.ended {
            return Err(Error::usage("the insert was aborted"));
        }
        self.flush()?;
        self.ended = true;
        if self.worker.is_some() {
            self.end_request()?;
        }
        Ok(std::mem::take(&mut self.summary))
    }

    fn finish_worker(&mut self) -> Result<ResponseMeta> {
        self.tx = None;
        match self.worker.take() {
            Some(w) => w
                .join()
                .map_err(|_| Error::usage("the insert thread panicked"))?
                .map_err(|e| e.with_server_version(&self.server_version)),
            None => Err(Error::usage("the insert has already ended")),
        }
    }

    /// Abandons the insert: the request body is cut short, so the server sees a truncated block and
    /// rejects it (blocks already sent may have been committed).
    fn abort(&mut self) {
        self.ended = true;
        if let Some(tx) = self.tx.take() {
            // A block that cannot parse makes the server fail the request instead of committing a
            // shorter last block.
            let _ = tx.send(vec![0xff; 16]);
        }
        let _ = self.finish_worker();
    }
}

impl Drop for Inserter {
    fn drop(&mut self) {
        // Dropped without `end`: do not let a partial last block look like a clean end of data.
        if self.worker.is_some() {
            self.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn channel_reader_concatenates_blocks_and_ends_when_the_sender_goes() {
        use std::io::Read;
        let (tx, rx) = std::sync::mpsc::sync_channel(2);
        let (back, _returned) = std::sync::mpsc::sync_channel(1);
        let mut r = super::ChannelReader { rx, back, current: Vec::new(), pos: 0 };
        tx.send(b"abc".to_vec()).unwrap();
        tx.send(b"de".to_vec()).unwrap();
        drop(tx);
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"abcde");
    }
}
