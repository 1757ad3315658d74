//! One request and its response as the transport sees them, whoever drives libcurl.
//!
//! The blocking path drives a transfer on the caller's thread (`curl_easy_perform`); the async driver
//! drives many through libcurl's multi interface on one I/O thread. Both configure the handle with
//! [`configure`] and hand libcurl's callbacks to an [`Exchange`], which keeps what the response said
//! (status, headers, the error body, the stream's tail where late exceptions are), decodes compressed
//! bodies before the sink sees them, watches for stalls, deadlines and cancellation, and in
//! [`Exchange::finish`] turns libcurl's outcome into the one result both paths return. There is one copy
//! of these rules, so the two paths cannot drift apart.

use super::{
    AFTER_ERROR, BodyDecoder, RECEIVE_BUFFER, Request, ResponseMeta, StreamEnd, TAIL, TransportOptions,
    appended_exception, exception_start, header_is, keep_tail, parse_header, transport_error,
};
use crate::error::{Error, Result};
use curl::easy::List;
use std::time::{Duration, Instant};

/// The libcurl options the transport sets, for both kinds of easy handle (`Easy` on the blocking path,
/// `Easy2` in the multi driver), which have the same setters but no common trait.
pub(crate) trait Setopt {
    fn url(&mut self, url: &str) -> std::result::Result<(), curl::Error>;
    fn post(&mut self, post: bool) -> std::result::Result<(), curl::Error>;
    fn post_field_size(&mut self, size: u64) -> std::result::Result<(), curl::Error>;
    fn useragent(&mut self, agent: &str) -> std::result::Result<(), curl::Error>;
    fn connect_timeout(&mut self, t: Duration) -> std::result::Result<(), curl::Error>;
    fn timeout(&mut self, t: Duration) -> std::result::Result<(), curl::Error>;
    fn progress(&mut self, on: bool) -> std::result::Result<(), curl::Error>;
    fn tcp_nodelay(&mut self, on: bool) -> std::result::Result<(), curl::Error>;
    fn buffer_size(&mut self, size: usize) -> std::result::Result<(), curl::Error>;
    fn accept_encoding(&mut self, enc: &str) -> std::result::Result<(), curl::Error>;
    fn ssl_verify_peer(&mut self, on: bool) -> std::result::Result<(), curl::Error>;
    fn ssl_verify_host(&mut self, on: bool) -> std::result::Result<(), curl::Error>;
    fn cainfo(&mut self, path: &str) -> std::result::Result<(), curl::Error>;
    fn ssl_cert(&mut self, path: &str) -> std::result::Result<(), curl::Error>;
    fn ssl_key(&mut self, path: &str) -> std::result::Result<(), curl::Error>;
    fn http_headers(&mut self, list: List) -> std::result::Result<(), curl::Error>;
}

macro_rules! setopt_for {
    ($ty:ty $(, $g:ident)?) => {
        impl$(<$g>)? Setopt for $ty {
            fn url(&mut self, url: &str) -> std::result::Result<(), curl::Error> { <$ty>::url(self, url) }
            fn post(&mut self, post: bool) -> std::result::Result<(), curl::Error> { <$ty>::post(self, post) }
            fn post_field_size(&mut self, size: u64) -> std::result::Result<(), curl::Error> {
                <$ty>::post_field_size(self, size)
            }
            fn useragent(&mut self, agent: &str) -> std::result::Result<(), curl::Error> {
                <$ty>::useragent(self, agent)
            }
            fn connect_timeout(&mut self, t: Duration) -> std::result::Result<(), curl::Error> {
                <$ty>::connect_timeout(self, t)
            }
            fn timeout(&mut self, t: Duration) -> std::result::Result<(), curl::Error> { <$ty>::timeout(self, t) }
            fn progress(&mut self, on: bool) -> std::result::Result<(), curl::Error> { <$ty>::progress(self, on) }
            fn tcp_nodelay(&mut self, on: bool) -> std::result::Result<(), curl::Error> {
                <$ty>::tcp_nodelay(self, on)
            }
            fn buffer_size(&mut self, size: usize) -> std::result::Result<(), curl::Error> {
                <$ty>::buffer_size(self, size)
            }
            fn accept_encoding(&mut self, enc: &str) -> std::result::Result<(), curl::Error> {
                <$ty>::accept_encoding(self, enc)
            }
            fn ssl_verify_peer(&mut self, on: bool) -> std::result::Result<(), curl::Error> {
                <$ty>::ssl_verify_peer(self, on)
            }
            fn ssl_verify_host(&mut self, on: bool) -> std::result::Result<(), curl::Error> {
                <$ty>::ssl_verify_host(self, on)
            }
            fn cainfo(&mut self, path: &str) -> std::result::Result<(), curl::Error> { <$ty>::cainfo(self, path) }
            fn ssl_cert(&mut self, path: &str) -> std::result::Result<(), curl::Error> {
                <$ty>::ssl_cert(self, path)
            }
            fn ssl_key(&mut self, path: &str) -> std::result::Result<(), curl::Error> { <$ty>::ssl_key(self, path) }
            fn http_headers(&mut self, list: List) -> std::result::Result<(), curl::Error> {
                <$ty>::http_headers(self, list)
            }
        }
    };
}

setopt_for!(curl::easy::Easy);
#[cfg(feature = "async")]
setopt_for!(curl::easy::Easy2<H>, H);

/// Sets a handle up for one request: the URL, the POST, timeouts, TLS, headers (credentials among them).
/// `body_size`: the body's length, or `None` for a body streamed with chunked encoding.
pub(crate) fn configure(
    easy: &mut impl Setopt,
    o: &TransportOptions,
    url: &str,
    req: &Request<'_>,
    body_size: Option<u64>,
) -> Result<()> {
    let setup = |e: curl::Error| transport_error(url, &e);
    easy.url(url).map_err(setup)?;
    easy.post(true).map_err(setup)?;
    if let Some(size) = body_size {
        easy.post_field_size(size).map_err(setup)?;
    }
    easy.useragent(&o.user_agent).map_err(setup)?;
    easy.connect_timeout(o.connect_timeout).map_err(setup)?;
    if let Some(d) = req.deadline {
        // libcurl enforces the deadline to the millisecond (the progress callback, which also checks
        // it, runs only about once a second while nothing moves).
        let left = d.saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
        easy.timeout(left).map_err(setup)?;
    }
    // Stalls are detected in the progress callback (libcurl's low-speed check averages over a window
    // that includes the upload, so it misses short stalls).
    easy.progress(true).map_err(setup)?;
    easy.tcp_nodelay(true).map_err(setup)?;
    // Large receive buffers: fewer, bigger chunks for the decoder (libcurl's default is 16 KiB).
    easy.buffer_size(RECEIVE_BUFFER).map_err(setup)?;
    if let Some(enc) = req.accept_encoding {
        easy.accept_encoding(enc).map_err(setup)?;
    }
    easy.ssl_verify_peer(o.verify).map_err(setup)?;
    easy.ssl_verify_host(o.verify).map_err(setup)?;
    if let Some(ca) = &o.ca_cert {
        easy.cainfo(ca).map_err(setup)?;
    }
    if let Some(cert) = &o.client_cert {
        easy.ssl_cert(cert).map_err(setup)?;
    }
    if let Some(key) = &o.client_cert_key {
        easy.ssl_key(key).map_err(setup)?;
    }
    let mut list = List::new();
    list.append(&format!("X-ClickHouse-User: {}", o.username)).map_err(setup)?;
    if !o.password.is_empty() {
        list.append(&format!("X-ClickHouse-Key: {}", o.password)).map_err(setup)?;
    }
    // No "Expect: 100-continue" round trip before bodies.
    list.append("Expect:").map_err(setup)?;
    if body_size.is_none() {
        list.append("Transfer-Encoding: chunked").map_err(setup)?;
    }
    for (k, v) in req.headers {
        list.append(&format!("{k}: {v}")).map_err(setup)?;
    }
    if let Some((_, key)) = req.params.iter().rev().find(|(k, _)| k == "quota_key") {
        list.append(&format!("X-ClickHouse-Quota: {key}")).map_err(setup)?;
    }
    easy.http_headers(list).map_err(setup)?;
    Ok(())
}

/// Why the transport stopped a transfer itself.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stopped {
    /// The caller's cancel flag was set.
    Cancelled,
    /// Nothing moved for `send_receive_timeout`.
    Stall,
    /// The request's deadline passed.
    Deadline,
}

/// The state of one transfer, fed by libcurl's callbacks.
/// How a stall's message begins (an endpoint that stalls is taken for down; see `endpoints.rs`).
/// The sink's error, or why it could not decode: bytes that do not decode as Native, in a response the
/// server says is in another format, mean the statement's own FORMAT clause won over the client's
/// `default_format`.
fn explain_sink_error(e: Error, meta: &ResponseMeta) -> Error {
    match (&e, meta.not_native()) {
        (Error::Decode { .. }, Some(refused)) => refused,
        _ => e,
    }
}

impl ResponseMeta {
    /// The error for a response that is not in Native, where the request asked for Native (the
    /// statement's own FORMAT clause won): by `X-ClickHouse-Format` where the server sends it, else by
    /// a `Content-Type` other than `application/octet-stream` on a response with a body (18.16: text
    /// formats; a binary format such as RowBinary cannot be told from Native there). A statement
    /// without a result (DDL, `INSERT … VALUES`) answers `text/plain` with no body: that is no result,
    /// not another format.
    pub(crate) fn not_native(&self) -> Option<Error> {
        if let Some(format) = &self.format {
            return not_native(format);
        }
        if self.wire_bytes == 0 {
            return None;
        }
        let media = self.content_type.as_deref()?.split(';').next().unwrap_or("").trim();
        (!media.eq_ignore_ascii_case("application/octet-stream")).then(|| {
            Error::usage(format!(
                "the server answered with {media}, not Native data: the statement's own FORMAT clause \
                 overrides the client's; run such a statement with raw_query"
            ))
        })
    }
}

/// The error for a response the server says is in `format`, when that is not Native (a Native
/// request path's caller asked for Native; the statement's own FORMAT clause won).
pub(crate) fn not_native(format: &str) -> Option<Error> {
    (!format.eq_ignore_ascii_case("Native")).then(|| {
        Error::usage(format!(
            "the server answered in format {format}, not Native: the statement's own FORMAT clause overrides \
             the client's; run such a statement with raw_query"
        ))
    })
}

const STALL: &str = "no data sent or received for";

pub(crate) struct Exchange {
    meta: ResponseMeta,
    /// Body of a non-200 response (kept up to 64 KiB).
    error_body: Vec<u8>,
    /// Whether bytes of the error body were left out of `error_body`.
    error_body_cut: bool,
    /// The last bytes of a 200 response.
    tail: Vec<u8>,
    /// First error raised by the sink.
    sink_error: Option<Error>,
    /// Bytes read after the sink's error.
    read_after_error: usize,
    /// The blank line that ends the headers arrived.
    headers_complete: bool,
    /// The response says where its body ends (chunked, or a Content-Length): only then does a clean end
    /// mean a complete body.
    framed: bool,
    /// The body's decoder (compressed responses); dropped when the stream turns out not to be.
    decoder: Option<Box<dyn BodyDecoder + Send>>,
    /// How the response was asked to be encoded (for the error body).
    decoding: super::BodyDecoding,
    /// libcurl decodes the Content-Encoding (gzip, deflate, br, zstd).
    #[cfg_attr(not(feature = "async"), allow(dead_code))]
    libcurl_decodes: bool,
    /// Request body bytes handed to libcurl.
    sent: usize,
    /// Whether the request body's end was handed to libcurl (the whole request went out).
    body_ended: bool,
    /// The request body's length, when libcurl was told it.
    body_size: Option<u64>,
    stall: Duration,
    deadline: Option<Instant>,
    started: Instant,
    /// Progress headers count as liveness: a long query that has sent no data yet is not stalled.
    last_header: Instant,
    last_moved: (f64, f64, Instant),
    /// When the progress callback last ran: a long gap means the thread driving the transfer was busy
    /// (the async I/O thread running another call's callback), not that the server stalled.
    last_check: Instant,
    stopped: Option<Stopped>,
}

impl Exchange {
    /// The state of a new transfer of `req`; `stall`: the longest time nothing may move.
    pub(crate) fn new(req: &Request<'_>, stall: Duration) -> Self {
        let started = Instant::now();
        Exchange {
            meta: ResponseMeta::default(),
            error_body: Vec::new(),
            error_body_cut: false,
            tail: Vec::with_capacity(TAIL * 2),
            sink_error: None,
            read_after_error: 0,
            headers_complete: false,
            framed: false,
            decoder: req.decoding.decoder(),
            decoding: req.decoding,
            libcurl_decodes: req.accept_encoding.is_some(),
            sent: 0,
            body_ended: false,
            body_size: None,
            stall,
            deadline: req.deadline,
            started,
            last_header: started,
            last_moved: (0.0, 0.0, started),
            last_check: started,
            stopped: None,
        }
    }

    /// `n` more request body bytes went to libcurl (0: the body ended).
    pub(crate) fn sent(&mut self, n: usize) {
        self.sent += n;
        if n == 0 {
            self.body_ended = true;
        }
    }

    /// The body's length when known up front: libcurl stops reading once it has that many bytes.
    pub(crate) fn body_size(&mut self, size: Option<u64>) {
        self.body_size = size;
    }

    /// How much of the request went out and of the response came back, for an error's message.
    fn sent_note(&self) -> String {
        if self.whole_body_sent() {
            // Written to the connection, not known to be received: the server may have run it.
            format!(
                " (the whole request was written to the connection, {} body bytes, so the server may have run \
                 it; {} response bytes received)",
                self.sent, self.meta.wire_bytes
            )
        } else {
            format!(" ({} request body bytes sent, {} response bytes received)", self.sent, self.meta.wire_bytes)
        }
    }

    /// Whether the whole request body went to libcurl.
    fn whole_body_sent(&self) -> bool {
        self.body_ended || self.body_size.is_some_and(|n| self.sent as u64 >= n)
    }

    /// Whether any request body byte went to libcurl.
    #[cfg(feature = "async")]
    pub(crate) fn sent_any(&self) -> bool {
        self.sent > 0
    }

    /// The state of the same request sent again from the start (to another endpoint, after its
    /// connection was refused): nothing of the failed attempt is kept but its deadline and start.
    #[cfg(feature = "async")]
    pub(crate) fn restart(&mut self) {
        let (stall, deadline, started) = (self.stall, self.deadline, self.started);
        let libcurl_decodes = self.libcurl_decodes;
        let req = Request {
            decoding: self.decoding,
            accept_encoding: libcurl_decodes.then_some(""),
            deadline,
            ..Request::new(&[], &[])
        };
        let body_size = self.body_size;
        *self = Exchange::new(&req, stall);
        self.started = started;
        self.body_size = body_size;
    }

    /// libcurl's progress callback: false stops the transfer (cancelled, past the deadline, stalled).
    pub(crate) fn progress(&mut self, dlnow: f64, ulnow: f64, cancelled: bool) -> bool {
        if cancelled {
            self.stopped = Some(Stopped::Cancelled);
            return false;
        }
        let now = Instant::now();
        if self.deadline.is_some_and(|d| now >= d) {
            self.stopped = Some(Stopped::Deadline);
            return false;
        }
        // libcurl calls this at least once a second: a longer gap is time the driving thread spent
        // elsewhere, which says nothing about the server.
        if now.duration_since(self.last_check) > Duration::from_millis(1500) {
            self.last_moved.2 = now;
        }
        self.last_check = now;
        if dlnow != self.last_moved.0 || ulnow != self.last_moved.1 {
            self.last_moved = (dlnow, ulnow, now);
        } else if now.duration_since(self.last_moved.2.max(self.last_header)) > self.stall {
            self.stopped = Some(Stopped::Stall);
            return false;
        }
        true
    }

    /// Counts as movement: the client itself holds the transfer paused.
    #[cfg(feature = "async")]
    pub(crate) fn touch(&mut self) {
        self.last_header = Instant::now();
    }

    /// Marks the transfer as stopped by its caller (the async driver's cancel).
    #[cfg(feature = "async")]
    pub(crate) fn cancel(&mut self) {
        self.stopped = Some(Stopped::Cancelled);
    }

    /// One header line.
    pub(crate) fn header(&mut self, line: &[u8]) {
        self.last_header = Instant::now();
        if line.starts_with(b"HTTP/") {
            self.headers_complete = false;
            self.framed = false;
        } else if line == b"\r\n" || line == b"\n" {
            self.headers_complete = true;
        } else if header_is(line, "transfer-encoding", "chunked") || header_is(line, "content-length", "") {
            self.framed = true;
        }
        parse_header(&mut self.meta, line);
    }

    /// The status of the response (0 before its status line).
    #[cfg(feature = "async")]
    pub(crate) fn status(&self) -> u32 {
        self.meta.status
    }

    /// Body bytes as libcurl delivers them: the decoded bytes of a 200 response go to `sink`. Returns
    /// what libcurl's write callback returns (less than `data.len()` aborts the transfer).
    pub(crate) fn write(&mut self, data: &[u8], sink: &mut dyn FnMut(&[u8]) -> Result<()>) -> usize {
        self.write_some(data, sink, &mut || true).0
    }

    /// [`Exchange::write`] that stops decoding a 200 response's compressed bytes once `ready` says the
    /// consumer has no room (checked before each decoded piece): returns what the write callback
    /// returns and how many of `data`'s bytes were consumed (all of them but for such a stop).
    pub(crate) fn write_some(
        &mut self,
        data: &[u8],
        sink: &mut dyn FnMut(&[u8]) -> Result<()>,
        ready: &mut dyn FnMut() -> bool,
    ) -> (usize, usize) {
        if self.meta.status != 200 {
            if self.error_body.len() < 65536 {
                self.error_body.extend_from_slice(data);
            } else {
                self.error_body_cut = true;
            }
            // The server may have put result data before the exception (it had not started the
            // response yet): its text is at the end, compressed like the rest.
            let tail = &mut self.tail;
            let mut keep = |bytes: &[u8]| -> Result<()> {
                keep_tail(tail, bytes);
                Ok(())
            };
            let fed = match self.decoder.as_mut() {
                Some(d) => d.feed(data, &mut keep),
                None => keep(data),
            };
            if fed.is_err() {
                // Not (or no longer) compressed: an error body the server did not compress.
                self.decoder = None;
                keep_tail(&mut self.tail, data);
            }
            return (data.len(), data.len());
        }
        if self.sink_error.is_some() {
            // After a decode error, read a little further: the bytes that failed to decode may be the
            // start of a server exception whose end is still coming. Then stop.
            self.read_after_error += data.len();
            if self.read_after_error > AFTER_ERROR {
                return (0, data.len());
            }
        }
        let Exchange { tail, sink_error, .. } = self;
        // Once the sink failed, the rest is read only to find an exception: no pause for the consumer.
        let failed = std::cell::Cell::new(sink_error.is_some());
        // The tail is kept of the decoded bytes: that is where the exception text is.
        let mut deliver = |bytes: &[u8]| -> Result<()> {
            keep_tail(tail, bytes);
            if sink_error.is_none() {
                if let Err(e) = sink(bytes) {
                    *sink_error = Some(e);
                    failed.set(true);
                }
            }
            Ok(())
        };
        let mut consumed = data.len();
        let fed = match self.decoder.as_mut() {
            Some(d) => {
                let mut at = 0;
                let mut fed = Ok(());
                // A decoder step may consume nothing (a state change): a few in a row, not forever.
                let mut idle = 0;
                while at < data.len() {
                    if !failed.get() && !ready() {
                        break;
                    }
                    match d.feed_one(&data[at..], &mut deliver) {
                        Ok(0) if idle < 8 => idle += 1,
                        Ok(0) => {
                            fed = Err(Error::decode(0, "the body decoder made no progress"));
                            at = data.len();
                        }
                        Ok(n) => {
                            at += n;
                            idle = 0;
                        }
                        Err(e) => {
                            fed = Err(e);
                            at = data.len();
                        }
                    }
                }
                consumed = at;
                fed
            }
            None => deliver(data),
        };
        if let Err(e) = fed {
            // The compressed stream is broken (or ended and plain text follows): keep what comes next as
            // it is, where an exception may still be found.
            self.decoder = None;
            if self.sink_error.is_none() {
                self.sink_error = Some(e);
            }
        }
        // A decode error may be an exception trailer: keep reading (bounded). Any other error (the
        // consumer stopped) aborts the transfer, which cancels the query.
        match &self.sink_error {
            Some(e) if !matches!(e, Error::Decode { .. }) => (0, consumed),
            _ => (data.len(), consumed),
        }
    }

    /// Whether libcurl decodes the response's Content-Encoding itself (then a pause must not come in
    /// the middle of a chunk: libcurl would keep the rest of its decoded output, however large).
    #[cfg(feature = "async")]
    pub(crate) fn libcurl_decodes(&self) -> bool {
        self.libcurl_decodes
    }

    /// Whether this exchange decodes the body itself (frames, LZ4 frames), piece by piece.
    #[cfg(feature = "async")]
    pub(crate) fn decodes_itself(&self) -> bool {
        self.decoder.is_some()
    }

    /// The transfer's result, from libcurl's outcome and what the callbacks saw. `wire_bytes`: body
    /// bytes received on the wire.
    pub(crate) fn finish(
        mut self,
        outcome: std::result::Result<(), curl::Error>,
        wire_bytes: u64,
        url: &str,
    ) -> Result<ResponseMeta> {
        self.meta.wire_bytes = wire_bytes;
        let context = || url.split('?').next().unwrap_or(url).to_string();
        if self.stopped.is_none()
            && outcome.as_ref().is_err_and(|e| e.is_operation_timedout())
            && self.deadline.is_some_and(|d| Instant::now() + Duration::from_millis(50) >= d)
        {
            self.stopped = Some(Stopped::Deadline);
        }
        if let Some(why) = self.stopped {
            let message = match why {
                Stopped::Cancelled => "the call was cancelled (its cancel flag was set)".to_string(),
                Stopped::Stall => format!("{STALL} {:?} (send_receive_timeout)", self.stall),
                Stopped::Deadline => format!(
                    "the call did not finish within its deadline ({:?}; {} bytes received)",
                    self.deadline.map(|d| d.saturating_duration_since(self.started)).unwrap_or_default(),
                    self.meta.wire_bytes
                ),
            };
            return Err(Error::Transport {
                context: context(),
                message,
                tls: false,
                timeout: why != Stopped::Cancelled,
                connect: false,
                stall: why == Stopped::Stall,
                source: None,
            });
        }
        if let Err(e) = outcome {
            // 26.9 closes the connection right after an exception trailer (no final chunk), which
            // libcurl reports as a partial transfer: the exception is the real error.
            if self.meta.status == 200 || self.sink_error.is_some() {
                let end = self.sink_error.as_ref().map_or(StreamEnd::Cut, StreamEnd::Failed);
                if let Some(ex) = appended_exception(&self.tail, self.meta.exception_tag.as_deref(), end) {
                    return Err(ex);
                }
            }
            // We aborted the transfer ourselves because the sink failed: its error is the real one.
            if let Some(sink_error) = self.sink_error {
                return Err(explain_sink_error(sink_error, &self.meta));
            }
            let mut err = transport_error(url, &e);
            if let Error::Transport { message, connect, timeout, .. } = &mut err {
                let whole = self.whole_body_sent();
                if e.is_send_fail_rewind() && whole {
                    // libcurl saw the connection die with no response and wanted to send the request
                    // again (the note below says how much of it had gone out).
                    *message =
                        "the connection closed before any response byte, and the request is not sent again".to_string();
                }
                // Whether the request went out whole: callers decide by it whether a retry is safe.
                message.push_str(&self.sent_note());
                // libcurl sends again on a fresh connection when a reused one turns out dead; if that
                // reconnect is refused, the error says "couldn't connect" although the request went out
                // on the first connection (and may have run). Only a request of which nothing was sent
                // was never made.
                if self.sent > 0 {
                    *connect = false;
                } else if *timeout && self.meta.status == 0 {
                    // libcurl's own timeout with no body byte asked for and no answer: the connect
                    // timed out (a host that drops packets; the call's deadline and stalls are ours,
                    // above). The statement, or the insert's data, never went out.
                    *connect = true;
                    message.push_str(" (the connection was never made)");
                }
            }
            return Err(err);
        }
        if !self.headers_complete || (!self.framed && self.meta.status == 200) {
            // libcurl takes a connection closed inside the headers, or a body without a length that ends
            // with the connection, as a complete response; neither proves the response complete.
            let message = if self.headers_complete {
                "the response has neither a Content-Length nor chunked encoding: its end cannot be told from a cut connection"
            } else {
                "the connection closed before the response headers were complete"
            };
            return Err(Error::Transport {
                context: context(),
                message: format!("{message}{}", self.sent_note()),
                tls: false,
                timeout: false,
                connect: false,
                stall: false,
                source: None,
            });
        }
        let meta = std::mem::take(&mut self.meta);
        if meta.status != 200 {
            // With compress=1 (or an lz4 Content-Encoding) the server compresses its error text too.
            let decoded = self.decoding.decoder().and_then(|mut d| d.decode_all_boxed(&self.error_body).ok());
            let whole: &[u8] = decoded.as_deref().unwrap_or(&self.error_body);
            let complete = !self.error_body_cut && (decoded.is_some() || self.decoding.decoder().is_none());
            // The server may have put result data before the exception (it had not started the response
            // yet): the exception text is the first that carries the response's exception code, in the
            // whole body when it was kept, else in the (decoded) end of the stream.
            let code = meta.exception_code;
            let from_whole = if complete { exception_start(whole, code).map(|at| &whole[at..]) } else { None };
            let chosen = from_whole.or_else(|| exception_start(&self.tail, code).map(|at| &self.tail[at..]));
            let text = String::from_utf8_lossy(chosen.unwrap_or(whole)).into_owned();
            if meta.exception_code.is_some() || text.starts_with("Code: ") {
                return Err(Error::from_server_text(meta.exception_code, &text));
            }
            return Err(Error::Http { status: meta.status, body: crate::error::excerpt(text.as_bytes(), 4096) });
        }
        let end = self.sink_error.as_ref().map_or(StreamEnd::Complete, StreamEnd::Failed);
        if let Some(e) = appended_exception(&self.tail, meta.exception_tag.as_deref(), end) {
            return Err(e);
        }
        if let Some(e) = self.sink_error {
            return Err(explain_sink_error(e, &meta));
        }
        if let Some(d) = &self.decoder {
            d.finish()?;
        }
        let mut meta = meta;
        meta.tail = self.tail;
        Ok(meta)
    }
}
