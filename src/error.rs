//! One error type for the whole crate. Each variant says which layer failed, so callers can decide what to
//! retry: transport problems (connect, TLS, timeout), HTTP statuses, ClickHouse exceptions, bytes that do
//! not decode, and misuse of the API.

use std::fmt;
use std::sync::Arc;

/// Every failure this crate reports. New kinds of failure may be added (the enum is non-exhaustive).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Error {
    /// libcurl could not complete the transfer (connect, DNS, TLS, timeout, …).
    Transport {
        /// What we were doing, e.g. `POST http://host:8123/`.
        context: String,
        /// libcurl's description.
        message: String,
        /// Whether libcurl classified the failure as a TLS problem.
        tls: bool,
        /// Whether it was a timeout.
        timeout: bool,
        /// Whether the connection could not be made at all.
        connect: bool,
        /// Whether no byte moved either way for `send_receive_timeout` (the connection stalled; a
        /// stall is also a `timeout`).
        stall: bool,
        /// libcurl's own error, when it gave one (the [`std::error::Error::source`]).
        source: Option<Arc<dyn std::error::Error + Send + Sync>>,
    },
    /// The server answered with a non-200 status and no ClickHouse exception in it.
    Http {
        /// HTTP status code.
        status: u32,
        /// The response body (truncated to a few KiB).
        body: String,
    },
    /// ClickHouse raised an exception, either as the whole response or after data had started.
    Server {
        /// The numeric ClickHouse error code (e.g. 516 AUTHENTICATION_FAILED, 164 READONLY).
        code: i32,
        /// The error name when the server sent it (26.9 puts it in parentheses), else empty.
        name: String,
        /// The full exception text as the server sent it.
        message: String,
        /// The server's version: from the text (26.9 ends it with `(version …)`) or, for servers whose
        /// text has none (18.16), the version the client learned at connect.
        version: Option<String>,
    },
    /// The response bytes are not valid Native data (or the stream ended early).
    Decode {
        /// What was expected and what was found.
        message: String,
        /// Byte offset in the response where the problem was found.
        offset: u64,
    },
    /// A type name could not be parsed.
    TypeSyntax {
        /// The type name.
        input: String,
        /// Byte position of the problem.
        position: usize,
        /// What was expected.
        message: String,
    },
    /// A type that the codec does not (yet) decode or encode.
    UnsupportedType(String),
    /// The API was used in a way that cannot work (bad URL, wrong column length, a value the column does
    /// not take, …).
    Usage(String),
    /// Compressing or decompressing data failed (a codec's own error is the [`std::error::Error::source`]).
    Compression {
        /// The method: `LZ4`, `ZSTD`, `gzip`, …
        method: String,
        /// What failed.
        message: String,
        /// The codec's error, when it gave one.
        source: Option<Arc<dyn std::error::Error + Send + Sync>>,
    },
    /// The machine could not give what the work needs: memory for a column, a thread.
    Resource(String),
    /// A thread of the client's panicked: in a callback the caller gave it (a progress callback runs on
    /// a streaming insert's request thread), or through a bug in this crate.
    Internal(String),
    /// A streaming insert ([`crate::Inserter`]) failed. The inserter is finished: every later call
    /// returns this error again. The counts say exactly what the server acknowledged; rows sent in the
    /// failed request may or may not have been committed (ClickHouse commits an insert block by block,
    /// and a connection can break after the server committed) — only an exactly-once inserter
    /// ([`crate::Inserter::exactly_once`]) can make that certain.
    Insert {
        /// Rows in requests the server acknowledged (committed).
        acknowledged_rows: u64,
        /// Requests the server acknowledged.
        acknowledged_requests: u64,
        /// Rows sent (in whole blocks) in the request that failed, whose fate is unknown.
        unacknowledged_rows: u64,
        /// Rows written to the inserter that were never sent.
        unsent_rows: u64,
        /// The failed request's query id, when known (look it up in `system.query_log`).
        query_id: Option<String>,
        /// What failed.
        cause: Box<Error>,
    },
    /// A call of a client over several endpoints failed: `cause` is the last attempt's failure,
    /// `tried` the endpoints (base URLs) its attempts went to, in order. A single-endpoint client
    /// reports the cause alone.
    Endpoints {
        /// The endpoints tried, in order (one may appear twice when every endpoint was tried).
        tried: Vec<String>,
        /// What failed last.
        cause: Box<Error>,
    },
    /// Input data (TSV, CSV, JSONEachRow, Native read for an insert) that cannot become the table's
    /// values.
    Input {
        /// 1-based row of the input.
        row: u64,
        /// 1-based line where that row starts (for the line-oriented formats).
        line: u64,
        /// The column, when the problem is in one value.
        column: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// A row of a result could not become the Rust type asked for (`query_as`, [`crate::native::Block::rows_as`]),
    /// or a Rust value could not become a row of the table (`insert_as`, [`crate::TypedInserter`]).
    Mapping {
        /// 1-based row: of the result (or of the block, for `rows_as`), or of the insert.
        row: u64,
        /// The column, when the problem is in one.
        column: Option<String>,
        /// The column's ClickHouse type, when known.
        column_type: Option<String>,
        /// What does not fit.
        message: String,
    },
}

impl Error {
    pub(crate) fn decode(offset: u64, message: impl Into<String>) -> Self {
        Error::Decode { message: message.into(), offset }
    }

    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Error::Usage(message.into())
    }

    pub(crate) fn resource(message: impl Into<String>) -> Self {
        Error::Resource(message.into())
    }

    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Error::Internal(message.into())
    }

    pub(crate) fn compression<E: std::error::Error + Send + Sync + 'static>(method: &str, e: E) -> Self {
        Error::Compression { method: method.to_string(), message: e.to_string(), source: Some(Arc::new(e)) }
    }

    /// The ClickHouse error code, when this is a server exception (or an insert that failed with one).
    pub fn server_code(&self) -> Option<i32> {
        match self {
            Error::Server { code, .. } => Some(*code),
            Error::Insert { cause, .. } | Error::Endpoints { cause, .. } => cause.server_code(),
            _ => None,
        }
    }

    /// The error itself, or the cause that a client over several endpoints wrapped with the endpoints
    /// it tried ([`Error::Endpoints`]): for matching on what went wrong.
    pub fn root(&self) -> &Error {
        match self {
            Error::Endpoints { cause, .. } => cause.root(),
            e => e,
        }
    }

    /// Parses ClickHouse's exception text, in 26.9's form
    /// (`Code: 47. DB::Exception: … (UNKNOWN_IDENTIFIER) (version 26.9.2.1)`) and 18.16's form
    /// (`Code: 47, e.displayText() = DB::Exception: …`). `code_header` is `X-ClickHouse-Exception-Code`.
    pub fn from_server_text(code_header: Option<i32>, text: &str) -> Self {
        let text = text.trim_end();
        let code = code_header.or_else(|| {
            let rest = text.trim_start().strip_prefix("Code: ")?;
            let end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
            rest[..end].parse().ok()
        });
        let name = exception_name(text).unwrap_or_default();
        let version = text
            .rfind("(version ")
            .map(|i| &text[i + 9..])
            .and_then(|v| v.split([')', ' ']).next())
            .filter(|v| !v.is_empty())
            .map(str::to_string);
        Error::Server { code: code.unwrap_or(0), name, message: text.to_string(), version }
    }

    /// Fills in the server version of a server error that did not carry one.
    pub(crate) fn with_server_version(self, server_version: &str) -> Self {
        match self {
            Error::Server { code, name, message, version: None } if !server_version.is_empty() => {
                Error::Server { code, name, message, version: Some(server_version.to_string()) }
            }
            other => other,
        }
    }
}

/// 26.9 ends the first line with `(NAME) (version x.y.z)`; pick NAME when present.
fn exception_name(text: &str) -> Option<String> {
    let first = text.lines().next()?;
    let before_version = match first.rfind(" (version ") {
        Some(i) => &first[..i],
        None => first,
    };
    let open = before_version.rfind('(')?;
    let inner = before_version[open + 1..].strip_suffix(')')?;
    (!inner.is_empty() && inner.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'))
        .then(|| inner.to_string())
}

/// The most of a message (other than the server's own text) that `Display` shows: messages quote
/// input, and input can be hostile.
const MESSAGE: usize = 1000;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cap = |m: &str| excerpt(m.as_bytes(), MESSAGE);
        match self {
            Error::Transport { context, message, .. } => {
                write!(f, "transport error ({}): {}", cap(context), cap(message))
            }
            Error::Http { status, body } => write!(f, "HTTP status {status}: {}", excerpt(body.as_bytes(), 4096)),
            Error::Server { message, .. } => write!(f, "ClickHouse exception: {message}"),
            Error::Decode { message, offset } => write!(f, "Native decode error at byte {offset}: {}", cap(message)),
            Error::TypeSyntax { input, position, message } => write!(
                f,
                "cannot parse type {:?} at position {position}: {}",
                excerpt(input.as_bytes(), EXCERPT),
                cap(message)
            ),
            Error::UnsupportedType(t) => write!(f, "unsupported type: {}", cap(t)),
            Error::Usage(m) => write!(f, "usage error: {}", cap(m)),
            Error::Compression { method, message, .. } => {
                write!(f, "{} compression error: {}", cap(method), cap(message))
            }
            Error::Resource(m) => write!(f, "out of resources: {}", cap(m)),
            Error::Internal(m) => write!(f, "internal error: {}", cap(m)),
            Error::Input { row, line: 0, column: Some(c), message } => {
                write!(f, "bad value at row {row}, column {}: {}", cap(c), cap(message))
            }
            Error::Input { row, line, column: Some(c), message } => {
                write!(f, "bad input at row {row} (line {line}), column {}: {}", cap(c), cap(message))
            }
            Error::Input { row, line, column: None, message } => {
                write!(f, "bad input at row {row} (line {line}): {}", cap(message))
            }
            Error::Mapping { row, column: Some(c), column_type, message } => {
                let t = column_type.as_deref().map(|t| format!(" ({})", cap(t))).unwrap_or_default();
                write!(f, "row {row}, column `{}`{t}: {}", cap(c), cap(message))
            }
            Error::Mapping { row, column: None, message, .. } => write!(f, "row {row}: {}", cap(message)),
            Error::Endpoints { tried, cause } => write!(f, "{cause} (endpoints tried: {})", tried.join(", ")),
            Error::Insert {
                acknowledged_rows,
                acknowledged_requests,
                unacknowledged_rows,
                unsent_rows,
                query_id,
                cause,
            } => {
                write!(
                    f,
                    "insert failed: {cause}; {acknowledged_rows} rows acknowledged by the server in \
                     {acknowledged_requests} requests; {unacknowledged_rows} rows sent in the failed request \
                     (query id {}) may or may not have been committed; {unsent_rows} rows not sent",
                    query_id.as_deref().unwrap_or("unknown")
                )
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Insert { cause, .. } | Error::Endpoints { cause, .. } => Some(cause.as_ref()),
            Error::Compression { source: Some(e), .. } | Error::Transport { source: Some(e), .. } => {
                Some(e.as_ref() as &(dyn std::error::Error + 'static))
            }
            _ => None,
        }
    }
}

/// Bytes of input quoted in an error message at most; the rest is counted, not echoed.
pub const EXCERPT: usize = 100;

/// Quotes at most `max` bytes of `bytes` (as lossy UTF-8, cut at a character boundary) for an error
/// message, saying how long the whole was when it was cut: a hostile 100 MB field is never echoed.
pub fn excerpt(bytes: &[u8], max: usize) -> String {
    if bytes.len() <= max {
        return String::from_utf8_lossy(bytes).into_owned();
    }
    let mut cut = max;
    // Do not split a UTF-8 sequence (at most 3 continuation bytes back).
    while cut > 0 && cut + 3 > max && (bytes[cut] & 0xC0) == 0x80 {
        cut -= 1;
    }
    format!("{}… ({} bytes in all)", String::from_utf8_lossy(&bytes[..cut]), bytes.len())
}

/// Shorthand used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_exception_forms() {
        // Texts as 26.9 and 18.16 send them (see tests/servers.rs for the live versions).
        let e = Error::from_server_text(
            None,
            "Code: 47. DB::Exception: Unknown expression identifier `x` in scope SELECT x. (UNKNOWN_IDENTIFIER) (version 26.9.2.1)\n",
        );
        match e {
            Error::Server { code, name, version, .. } => {
                assert_eq!(code, 47);
                assert_eq!(name, "UNKNOWN_IDENTIFIER");
                assert_eq!(version.as_deref(), Some("26.9.2.1"));
            }
            other => panic!("{other:?}"),
        }
        let e = Error::from_server_text(
            None,
            "Code: 47, e.displayText() = DB::Exception: Unknown identifier: x, e.what() = DB::Exception\n",
        );
        assert_eq!(e.server_code(), Some(47));
    }
}
