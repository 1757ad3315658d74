//! The HTTP transport: libcurl (the system library, through the `curl` crate).
//!
//! One request is a POST of the SQL (or of an insert body) to the server's HTTP interface, with settings
//! as URL parameters. Response bytes are handed to a sink **as libcurl delivers them** (its write
//! callback), which for queries is the Native block decoder, so nothing is buffered whole.
//!
//! Easy handles are pooled: `curl_easy_reset` keeps a handle's live connections, so requests reuse
//! keep-alive connections. The transport is `Send + Sync`; concurrent requests take different handles.
//!
//! ClickHouse reports errors in three ways, all turned into [`Error::Server`]:
//! - a non-200 status with the exception text as the body (and `X-ClickHouse-Exception-Code`);
//! - 26.9: an exception after data started: status stays 200, the response announced
//!   `X-ClickHouse-Exception-Tag`, and the body ends with
//!   `\r\n__exception__\r\n<tag>\r\n<text><len> <tag>\r\n__exception__\r\n`;
//! - 18.16: the exception text appended to the data.
//!
//! For the last two, the transport keeps the last few KiB of the stream (a bounded copy of each chunk's
//! tail) so that when the sink fails to decode, or the stream ends early, the exception text is found
//! and reported instead of a decode error or a silently short result.

pub mod compression;
#[cfg(feature = "async")]
pub(crate) mod driver;
mod endpoints;
mod exchange;
pub mod headers;
pub mod lz4frame;

pub use endpoints::{Endpoints, LoadBalancing};
pub use headers::{Progress, Summary};

/// A decoder of a compressed response body: takes bytes in whatever chunks they arrive and hands the
/// decoded bytes to a sink as soon as it has them. Implemented by the ClickHouse frame reader
/// (`compress=1`) and the LZ4 frame reader (`Content-Encoding: lz4`).
pub trait BodyDecoder {
    /// Consumes `data` until one piece of output (a frame, a block) has gone to `sink`, or `data` is
    /// used up; returns the bytes consumed. The async driver decodes a chunk this way, piece by piece,
    /// so it can stop while its consumer is behind (one piece of a highly compressed chunk can be
    /// megabytes).
    fn feed_one(&mut self, data: &[u8], sink: &mut dyn FnMut(&[u8]) -> crate::Result<()>) -> crate::Result<usize>;
    /// Consumes `data`, handing decoded bytes to `sink`.
    fn feed(&mut self, mut data: &[u8], sink: &mut dyn FnMut(&[u8]) -> crate::Result<()>) -> crate::Result<()> {
        // A step may consume nothing (a state change): a few in a row, not forever.
        let mut idle = 0;
        while !data.is_empty() {
            let n = self.feed_one(data, sink)?;
            idle = if n == 0 { idle + 1 } else { 0 };
            if idle > 8 {
                return Err(Error::decode(0, "the body decoder made no progress"));
            }
            data = &data[n..];
        }
        Ok(())
    }
    /// Checks the body did not end inside a frame.
    fn finish(&self) -> crate::Result<()>;
    /// Decodes one whole body (a compressed error response).
    fn decode_all_boxed(&mut self, body: &[u8]) -> crate::Result<Vec<u8>> {
        let mut out = Vec::new();
        self.feed(body, &mut |b| {
            if out.len() + b.len() > 1 << 20 {
                return Err(Error::decode(0, "error body over 1 MiB decoded"));
            }
            out.extend_from_slice(b);
            Ok(())
        })?;
        self.finish()?;
        Ok(out)
    }
    /// Decodes a whole body given in `chunks` (tests and fuzzing).
    #[cfg(any(test, feature = "fuzzing"))]
    fn decode_all<'a>(&mut self, chunks: impl IntoIterator<Item = &'a [u8]>) -> crate::Result<Vec<u8>>
    where
        Self: Sized,
    {
        let mut out = Vec::new();
        for c in chunks {
            self.feed(c, &mut |b| {
                out.extend_from_slice(b);
                Ok(())
            })?;
        }
        self.finish()?;
        Ok(out)
    }
}

use crate::error::{Error, Result};
use curl::easy::Easy;
use exchange::Exchange;
use std::cell::RefCell;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Bytes of the stream's end kept to find exception text in.
const TAIL: usize = 8192;
/// Most bytes read after a decode error while looking for the exception that caused it.
const AFTER_ERROR: usize = 64 * 1024;
/// libcurl receive buffer size: 64 KiB measured best end to end (scripts/bench-e2e: 512 KiB cost ~15% wall
/// time on loopback; libcurl's default 16 KiB means 4x more callbacks).
const RECEIVE_BUFFER: usize = 64 * 1024;

/// TLS and connection options for the transport. Its `Debug` output never shows the password.
#[derive(Clone, Default)]
pub struct TransportOptions {
    /// Base URLs of the endpoints: `http(s)://host:port` (no path); at least one.
    pub endpoints: Vec<String>,
    /// How requests are spread over several endpoints.
    pub load_balancing: LoadBalancing,
    /// User name (sent as `X-ClickHouse-User`).
    pub username: String,
    /// Password (sent as `X-ClickHouse-Key`).
    pub password: String,
    /// Verify the server's certificate and host name (default true).
    pub verify: bool,
    /// CA bundle file to verify the server with.
    pub ca_cert: Option<String>,
    /// Client certificate (PEM) for mutual TLS.
    pub client_cert: Option<String>,
    /// Client certificate's private key (PEM).
    pub client_cert_key: Option<String>,
    /// Connect timeout.
    pub connect_timeout: Duration,
    /// Longest time without progress in either direction before the request fails.
    pub send_receive_timeout: Duration,
    /// User-Agent.
    pub user_agent: String,
}

impl std::fmt::Debug for TransportOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransportOptions")
            .field("endpoints", &self.endpoints)
            .field("username", &self.username)
            .field("password", &if self.password.is_empty() { "" } else { "***" })
            .field("verify", &self.verify)
            .field("ca_cert", &self.ca_cert)
            .field("client_cert", &self.client_cert)
            .field("client_cert_key", &self.client_cert_key.as_ref().map(|_| "***"))
            .field("connect_timeout", &self.connect_timeout)
            .field("send_receive_timeout", &self.send_receive_timeout)
            .field("user_agent", &self.user_agent)
            .finish()
    }
}

/// How a response body is encoded beyond what libcurl decodes itself. The transport decodes it before
/// the sink sees the bytes, so an exception the server raised after data started (which it writes
/// inside the compressed stream) is found in the decoded bytes, and a compressed error body becomes
/// readable text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BodyDecoding {
    /// As it arrives (or as libcurl decoded it: gzip, deflate, br, zstd).
    #[default]
    Plain,
    /// ClickHouse's checksummed frames (`compress=1`).
    ClickHouseFrames,
    /// The LZ4 frame format (`Content-Encoding: lz4`).
    Lz4Frame,
}

impl BodyDecoding {
    fn decoder(self) -> Option<Box<dyn BodyDecoder + Send>> {
        match self {
            BodyDecoding::Plain => None,
            BodyDecoding::ClickHouseFrames => Some(Box::new(compression::FrameReader::new())),
            BodyDecoding::Lz4Frame => Some(Box::new(lz4frame::Lz4FrameReader::new())),
        }
    }
}

/// What the server said about a response besides its body.
#[derive(Clone, Debug, Default)]
pub struct ResponseMeta {
    /// HTTP status.
    pub status: u32,
    /// `X-ClickHouse-Query-Id`.
    pub query_id: Option<String>,
    /// `X-ClickHouse-Summary` (raw JSON).
    pub summary: Option<String>,
    /// `X-ClickHouse-Exception-Code`.
    pub exception_code: Option<i32>,
    /// `X-ClickHouse-Exception-Tag`.
    pub exception_tag: Option<String>,
    /// `X-ClickHouse-Timezone`.
    pub timezone: Option<String>,
    /// `X-ClickHouse-Format`.
    pub format: Option<String>,
    /// `Content-Type` (servers that send no `X-ClickHouse-Format`, such as 18.16, say this much of
    /// the format: `application/octet-stream` for Native and the other binary ones, text types else).
    pub content_type: Option<String>,
    /// Body bytes received on the wire (before any HTTP Content-Encoding was decoded).
    pub wire_bytes: u64,
    /// The endpoint (base URL) that answered.
    pub endpoint: Option<String>,
    /// The last few KiB of the body, where servers put exceptions raised after data started.
    pub(crate) tail: Vec<u8>,
}

/// One HTTP request to the server.
#[derive(Clone, Copy)]
pub struct Request<'a> {
    /// URL parameters (settings, `query`, `default_format`, …).
    pub params: &'a [(String, String)],
    /// Extra request headers.
    pub headers: &'a [(String, String)],
    /// An HTTP Content-Encoding to ask for (`gzip`, `deflate`, `br`, `zstd`); libcurl decodes it
    /// before the sink sees the bytes.
    pub accept_encoding: Option<&'a str>,
    /// Called with each `X-ClickHouse-Progress` header.
    pub progress: Option<&'a dyn Fn(&Progress)>,
    /// The POST body (SQL, or insert data).
    pub body: &'a [u8],
    /// How the response body is encoded (decoded here before the sink sees it).
    pub decoding: BodyDecoding,
    /// When the whole request must be over, however steadily data moves (`None`: no deadline).
    pub deadline: Option<std::time::Instant>,
    /// Once set, the transfer is aborted (checked in libcurl's progress callback, about once a second
    /// or more often).
    pub cancel: Option<&'a std::sync::atomic::AtomicBool>,
    /// The endpoint to send to (an index into the client's); `None`: the transport picks one.
    pub endpoint: Option<usize>,
}

impl<'a> Request<'a> {
    /// A POST of `body` with `params`, nothing else.
    pub fn new(params: &'a [(String, String)], body: &'a [u8]) -> Self {
        Request {
            params,
            headers: &[],
            accept_encoding: None,
            progress: None,
            body,
            decoding: BodyDecoding::Plain,
            deadline: None,
            cancel: None,
            endpoint: None,
        }
    }
}

/// A pooled libcurl HTTP client for a client's ClickHouse endpoints.
pub struct Transport {
    opts: TransportOptions,
    endpoints: Arc<Endpoints>,
    pool: Mutex<Vec<Easy>>,
    /// The I/O thread of async calls, started by the first.
    #[cfg(feature = "async")]
    driver: std::sync::OnceLock<driver::Driver>,
}

impl Transport {
    /// A transport for the given endpoint.
    pub fn new(opts: TransportOptions) -> Self {
        let endpoints = Arc::new(Endpoints::new(opts.endpoints.clone(), opts.load_balancing));
        Transport {
            opts,
            endpoints,
            pool: Mutex::new(Vec::new()),
            #[cfg(feature = "async")]
            driver: std::sync::OnceLock::new(),
        }
    }

    /// The async I/O thread, started on first use.
    #[cfg(feature = "async")]
    pub(crate) fn driver(&self) -> Result<&driver::Driver> {
        if let Some(d) = self.driver.get() {
            return Ok(d);
        }
        let d = driver::Driver::start(self.opts.clone(), self.endpoints.clone())?;
        Ok(self.driver.get_or_init(|| d))
    }
    fn handle(&self) -> Easy {
        self.pool.lock().ok().and_then(|mut p| p.pop()).unwrap_or_else(Easy::new)
    }

    /// Pools a handle again, unless its transfer failed at the transport level: its connection is
    /// likely gone, and libcurl can leave a handle unusable after some failures (a malformed URL makes
    /// later option calls on it fail even after `curl_easy_reset`).
    fn give_back(&self, mut easy: Easy, result: &Result<ResponseMeta>) {
        if matches!(result, Err(Error::Transport { .. })) {
            return;
        }
        easy.reset();
        if let Ok(mut p) = self.pool.lock() {
            if p.len() < 64 {
                p.push(easy);
            }
        }
    }

    /// POSTs the request's body to `/?params` and streams the response into `sink`. Returns the
    /// response metadata once the server has finished. Errors from `sink` abort the transfer.
    pub fn post(&self, req: &Request<'_>, sink: &mut dyn FnMut(&[u8]) -> Result<()>) -> Result<ResponseMeta> {
        let (endpoint, url) = self.url(req.endpoint, req.params);
        let mut easy = self.handle();
        let mut body = req.body;
        let result = self.perform(&mut easy, &url, req, &mut body, Some(req.body.len() as u64), sink);
        self.give_back(easy, &result);
        self.answered_by(endpoint, result)
    }

    /// The client's endpoints and their health.
    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// Records the outcome of a request to `endpoint` and names it in the response.
    pub(crate) fn answered_by(&self, endpoint: usize, result: Result<ResponseMeta>) -> Result<ResponseMeta> {
        self.endpoints.record(endpoint, result.as_ref().map(|_| ()));
        result.map(|mut meta| {
            meta.endpoint = Some(self.endpoints.url(endpoint).to_string());
            meta
        })
    }

    /// Like [`Transport::post`], but the body is pulled from `body` as libcurl sends it (chunked
    /// transfer encoding), so it can be produced while the request runs; `req.body` is ignored.
    pub fn post_streaming(
        &self,
        req: &Request<'_>,
        body: &mut dyn std::io::Read,
        sink: &mut dyn FnMut(&[u8]) -> Result<()>,
    ) -> Result<ResponseMeta> {
        let (endpoint, url) = self.url(req.endpoint, req.params);
        let mut easy = self.handle();
        let result = self.perform(&mut easy, &url, req, body, None, sink);
        self.give_back(easy, &result);
        self.answered_by(endpoint, result)
    }

    /// The endpoint a request goes to (`endpoint`, else one picked now) and its URL with `params`.
    pub(crate) fn url(&self, endpoint: Option<usize>, params: &[(String, String)]) -> (usize, String) {
        let endpoint = endpoint.filter(|&i| i < self.endpoints.len()).unwrap_or_else(|| self.endpoints.pick(&[]));
        let base = self.endpoints.url(endpoint);
        let mut url = String::with_capacity(base.len() + 64);
        url.push_str(base.trim_end_matches('/'));
        url.push('/');
        // The quota key travels as a header (X-ClickHouse-Quota): as a URL parameter next to the
        // X-ClickHouse-User header, 18.16 refuses every request ("authentication methods
        // simultaneously").
        for (i, (k, v)) in params.iter().filter(|(k, _)| k != "quota_key").enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(&encode_component(k));
            url.push('=');
            url.push_str(&encode_component(v));
        }
        (endpoint, url)
    }

    fn perform(
        &self,
        easy: &mut Easy,
        url: &str,
        req: &Request<'_>,
        body: &mut dyn std::io::Read,
        body_size: Option<u64>,
        sink: &mut dyn FnMut(&[u8]) -> Result<()>,
    ) -> Result<ResponseMeta> {
        exchange::configure(easy, &self.opts, url, req, body_size)?;
        let setup = |e: curl::Error| transport_error(url, &e);
        let progress = req.progress;
        let cancel = req.cancel;
        let mut ex = Exchange::new(req, self.opts.send_receive_timeout);
        ex.body_size(body_size);
        let ex = RefCell::new(ex);
        let outcome = {
            let mut t = easy.transfer();
            t.read_function(|buf| match body.read(buf) {
                Ok(n) => {
                    ex.borrow_mut().sent(n);
                    Ok(n)
                }
                Err(_) => Err(curl::easy::ReadError::Abort),
            })
            .map_err(setup)?;
            t.progress_function(|_, dlnow, _, ulnow| {
                let cancelled = cancel.is_some_and(|c| c.load(std::sync::atomic::Ordering::Relaxed));
                ex.borrow_mut().progress(dlnow, ulnow, cancelled)
            })
            .map_err(setup)?;
            t.header_function(|line| {
                if let (Some(cb), Some(p)) = (progress, progress_header(line)) {
                    cb(&p);
                }
                ex.borrow_mut().header(line);
                true
            })
            .map_err(setup)?;
            t.write_function(|data| Ok(ex.borrow_mut().write(data, sink))).map_err(setup)?;
            t.perform()
        };
        let wire_bytes = easy.download_size().unwrap_or(0.0) as u64;
        ex.into_inner().finish(outcome, wire_bytes, url)
    }
}

/// Keeps the last TAIL bytes of the stream (copying at most TAIL bytes per chunk).
fn keep_tail(tail: &mut Vec<u8>, data: &[u8]) {
    let take = data.len().min(TAIL);
    if tail.len() + take > TAIL * 2 {
        let keep = TAIL.saturating_sub(take).min(tail.len());
        let from = tail.len() - keep;
        tail.copy_within(from.., 0);
        tail.truncate(keep);
    }
    tail.extend_from_slice(&data[data.len() - take..]);
}

/// How a response's stream ended, for [`appended_exception`].
#[derive(Clone, Copy, Debug)]
pub enum StreamEnd<'e> {
    /// The response ended as HTTP says it should.
    Complete,
    /// The connection failed (reset, closed early, timed out) with no error from the sink.
    Cut,
    /// The sink (the decoder) failed, or the data ended inside a block.
    Failed(&'e Error),
}

/// The one rule for an exception the server raised after data had started, read from the kept tail of
/// the stream. It is the real error whenever one is found:
/// - 26.9 announces `X-ClickHouse-Exception-Tag` and ends the stream with its tagged trailer;
/// - servers without the tag (18.16 … 24.x) append the text to the data: a complete response whose last
///   line is exactly such a text is that exception, not a result; data that failed to decode (or
///   ended inside a block) may end with such a text in any form.
///
/// Called by the transport when a response ends or fails, and by the client when the decoder finds
/// the stream ended inside a block.
pub fn appended_exception(tail: &[u8], tag: Option<&str>, end: StreamEnd<'_>) -> Option<Error> {
    if let Some(e) = find_exception(tail, tag) {
        return Some(e);
    }
    if tag.is_some() {
        return None;
    }
    match end {
        StreamEnd::Complete => find_trailing_exception(tail),
        StreamEnd::Failed(Error::Decode { .. }) => find_untagged_exception(tail),
        StreamEnd::Failed(_) | StreamEnd::Cut => None,
    }
}

/// Where the text of an exception starts in an error response that may have result data before it:
/// `Code: N` followed by either server generation's exception wording. With the response's exception
/// code (`X-ClickHouse-Exception-Code`), the first such text of that code (data that merely looks like
/// an exception of another code is passed over, and the exception's own message may quote others);
/// without it (18.16), the last (the exception ends the response).
fn exception_start(bytes: &[u8], code: Option<i32>) -> Option<usize> {
    let mut found = memchr::memmem::find_iter(bytes, b"Code: ").filter(|&i| {
        let rest = &bytes[i + 6..];
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        let number = std::str::from_utf8(&rest[..digits]).ok().and_then(|d| d.parse::<i32>().ok());
        let after = &rest[digits..];
        let class = after.strip_prefix(b". DB::").or_else(|| after.strip_prefix(b", e.displayText() = DB::"));
        // The exception's class: `Exception`, `NetException`, `ParsingException`, …
        let names_a_class = class.is_some_and(|c| {
            let name = c.iter().take_while(|b| b.is_ascii_alphanumeric()).count();
            c[..name].ends_with(b"Exception") && c[name..].starts_with(b": ")
        });
        digits > 0 && code.is_none_or(|c| number == Some(c)) && names_a_class
    });
    if code.is_some() { found.next() } else { found.last() }
}

/// Finds 26.9's tagged exception trailer at the end of a 200 response (`None` without a tag). Only
/// called on the kept tail.
pub fn find_exception(tail: &[u8], tag: Option<&str>) -> Option<Error> {
    if let Some(tag) = tag {
        let end_marker = format!("{tag}\r\n__exception__\r\n");
        if !tail.ends_with(end_marker.as_bytes()) {
            return None;
        }
        let start_marker = format!("\r\n__exception__\r\n{tag}\r\n");
        // The start marker must lie wholly before the end marker (they may overlap in hostile input).
        let before_end = &tail[..tail.len() - end_marker.len()];
        let start =
            memchr::memmem::find(before_end, start_marker.as_bytes()).map(|i| i + start_marker.len()).unwrap_or(0);
        let body = &before_end[start..];
        // body = <text><len> ; strip the length and the space before the tag.
        let body = body.strip_suffix(b" ").unwrap_or(body);
        let digits = body.iter().rev().take_while(|b| b.is_ascii_digit()).count();
        let text = String::from_utf8_lossy(&body[..body.len() - digits]);
        return Some(Error::from_server_text(None, &text));
    }
    None
}

/// Exception text appended to data by servers without the tag (18.16): looked for only after decoding
/// failed, in the tail.
pub fn find_untagged_exception(tail: &[u8]) -> Option<Error> {
    let Some(i) = memchr::memmem::rfind(tail, b"Code: ") else { return long_legacy_exception(tail) };
    let text = String::from_utf8_lossy(&tail[i..]);
    text.contains("Exception").then(|| Error::from_server_text(None, &text))
}

/// 18.16's exception text ends with `, e.what() = DB::Exception`; one longer than the kept tail has lost
/// its beginning (and code) but is still an exception, never data.
fn long_legacy_exception(tail: &[u8]) -> Option<Error> {
    tail.ends_with(b", e.what() = DB::Exception\n").then(|| {
        let text = String::from_utf8_lossy(&tail[tail.len().saturating_sub(2048)..]);
        Error::Server {
            code: 0,
            name: String::new(),
            message: format!("(an exception longer than the client keeps; its end:) …{}", text.trim_end()),
            version: None,
        }
    })
}

/// An exception text that is the whole last line of a response, in the form a server without the
/// exception tag appends it: 18.16's `Code: N, e.displayText() = DB::Exception: …, e.what() =
/// DB::Exception`, or the newer `Code: N. DB::Exception: … (NAME) (version X.Y.Z)`.
pub fn find_trailing_exception(tail: &[u8]) -> Option<Error> {
    let body = tail.strip_suffix(b"\n")?;
    // In text formats the exception is a line of its own; after binary data (RowBinary, Native) it
    // follows the last value directly: take the text from the last "Code: " on.
    let Some(start) = memchr::memmem::rfind(body, b"Code: ") else { return long_legacy_exception(tail) };
    let text = std::str::from_utf8(&body[start..]).ok()?;
    if text.contains('\n') {
        return None;
    }
    let rest = &text["Code: ".len()..];
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let after = &rest[digits..];
    let legacy =
        after.starts_with(", e.displayText() = DB::Exception: ") && text.ends_with(", e.what() = DB::Exception");
    // The newer form only as a line of its own (it has no end marker as distinctive as 18.16's).
    let own_line = start == 0 || body[start - 1] == b'\n';
    let modern = own_line
        && after.starts_with(". DB::Exception: ")
        && text.rfind(" (version ").is_some_and(|i| {
            let v = text[i + 10..].split(')').next().unwrap_or("");
            !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        });
    (legacy || modern).then(|| Error::from_server_text(None, text))
}

/// Whether a header line is `name: …` (any case) with a value containing `value` (any case).
fn header_is(line: &[u8], name: &str, value: &str) -> bool {
    let Some(colon) = memchr::memchr(b':', line) else { return false };
    line[..colon].trim_ascii().eq_ignore_ascii_case(name.as_bytes())
        && (value.is_empty() || line[colon + 1..].trim_ascii().to_ascii_lowercase().starts_with(value.as_bytes()))
}

/// An `X-ClickHouse-Progress` header line, parsed.
fn progress_header(line: &[u8]) -> Option<Progress> {
    let line = std::str::from_utf8(line).ok()?;
    let (k, v) = line.split_once(':')?;
    k.trim().eq_ignore_ascii_case("x-clickhouse-progress").then(|| Progress::parse(v.trim())).flatten()
}

fn parse_header(meta: &mut ResponseMeta, line: &[u8]) {
    let line = String::from_utf8_lossy(line);
    let line = line.trim_end();
    if let Some(rest) = line.strip_prefix("HTTP/") {
        // A new status line (e.g. after 100 Continue or a redirect) starts a new header set.
        *meta = ResponseMeta::default();
        meta.status = rest.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        return;
    }
    let Some((k, v)) = line.split_once(':') else { return };
    let v = v.trim().to_string();
    match k.trim().to_ascii_lowercase().as_str() {
        "x-clickhouse-query-id" => meta.query_id = Some(v),
        "x-clickhouse-summary" => meta.summary = Some(v),
        "x-clickhouse-exception-code" => meta.exception_code = v.parse().ok(),
        "x-clickhouse-exception-tag" => meta.exception_tag = Some(v),
        "x-clickhouse-timezone" => meta.timezone = Some(v),
        "x-clickhouse-format" => meta.format = Some(v),
        "content-type" => meta.content_type = Some(v),
        _ => {}
    }
}

fn transport_error(url: &str, e: &curl::Error) -> Error {
    let mut message = e.description().to_string();
    if let Some(extra) = e.extra_description() {
        message = format!("{message}: {extra}");
    }
    if e.is_send_fail_rewind() {
        // libcurl found a reused connection dead and wanted to send the request again on a new one;
        // a streamed body cannot be sent twice. Say what happened, not libcurl's internals.
        message = "the connection broke while the request was being sent, and a streamed request body cannot \
                   be sent a second time"
            .to_string();
    }
    // Never echo credentials: URLs carry only settings, but strip the query string anyway.
    let context = url.split('?').next().unwrap_or(url).to_string();
    Error::Transport {
        context,
        message,
        tls: e.is_ssl_connect_error()
            || e.is_peer_failed_verification()
            || e.is_ssl_certproblem()
            || e.is_ssl_cacert_badfile()
            || e.is_ssl_cipher()
            || e.is_ssl_issuer_error()
            || e.is_send_error() && e.extra_description().is_some_and(|d| d.contains("SSL")),
        timeout: e.is_operation_timedout(),
        connect: e.is_couldnt_connect() || e.is_couldnt_resolve_host(),
        stall: false,
        source: Some(Arc::new(e.clone())),
    }
}

/// Percent-encodes a URL query component.
pub(crate) fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_secrets() {
        let secret = "s3cr3t-Pa55";
        let t =
            TransportOptions { password: secret.into(), client_cert_key: Some("/k.pem".into()), ..Default::default() };
        assert!(!format!("{t:?}").contains(secret));
    }

    #[test]
    fn tail_keeps_last_bytes() {
        let mut t = Vec::new();
        let data: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
        for c in data.chunks(3000) {
            keep_tail(&mut t, c);
        }
        assert!(t.len() >= TAIL);
        assert!(data.ends_with(&t));
    }

    #[test]
    fn trailing_exceptions_are_whole_last_lines() {
        let legacy = b"1\n2\nCode: 395, e.displayText() = DB::Exception: Value passed to 'throwIf' function is non zero, e.what() = DB::Exception\n";
        assert_eq!(find_trailing_exception(legacy).and_then(|e| e.server_code()), Some(395));
        let modern = b"1\nCode: 47. DB::Exception: Unknown identifier x. (UNKNOWN_IDENTIFIER) (version 23.8.1.1)\n";
        assert_eq!(find_trailing_exception(modern).and_then(|e| e.server_code()), Some(47));
        // Data that only mentions an exception is data.
        assert!(find_trailing_exception(b"Code: 1 is fine\n").is_none());
        assert!(
            find_trailing_exception(b"Code: 395, e.displayText() = DB::Exception: y, e.what() = DB::Exception")
                .is_none()
        );
        // After binary data, 18.16's form is found without a line of its own.
        let binary = b"\x01\x02Code: 395, e.displayText() = DB::Exception: y, e.what() = DB::Exception\n";
        assert_eq!(find_trailing_exception(binary).and_then(|e| e.server_code()), Some(395));
        assert!(find_trailing_exception(b"x Code: 47. DB::Exception: y (version 1.2)\n").is_none());
    }

    #[test]
    fn encodes_components() {
        assert_eq!(encode_component("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
    }
}
