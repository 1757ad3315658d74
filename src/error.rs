//! One error type for the whole crate. Each variant says which layer failed, so callers can decide what to
//! retry: transport problems (connect, TLS, timeout), HTTP statuses, ClickHouse exceptions, bytes that do
//! not decode, and misuse of the API.

use std::fmt;

/// Every failure this crate reports.
#[derive(Debug)]
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
    /// The API was used in a way that cannot work (bad URL, wrong column length, …).
    Usage(String),
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
}

impl Error {
    pub(crate) fn decode(offset: u64, message: impl Into<String>) -> Self {
        Error::Decode { message: message.into(), offset }
    }

    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Error::Usage(message.into())
    }

    /// The ClickHouse error code, when this is a server exception.
    pub fn server_code(&self) -> Option<i32> {
        match self {
            Error::Server { code, .. } => Some(*code),
            _ => None,
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

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Transport { context, message, .. } => write!(f, "transport error ({context}): {message}"),
            Error::Http { status, body } => write!(f, "HTTP status {status}: {body}"),
            Error::Server { message, .. } => write!(f, "ClickHouse exception: {message}"),
            Error::Decode { message, offset } => write!(f, "Native decode error at byte {offset}: {message}"),
            Error::TypeSyntax { input, position, message } => {
                write!(f, "cannot parse type {input:?} at position {position}: {message}")
            }
            Error::UnsupportedType(t) => write!(f, "unsupported type: {t}"),
            Error::Usage(m) => write!(f, "usage error: {m}"),
            Error::Input { row, line, column: Some(c), message } => {
                write!(f, "bad input at row {row} (line {line}), column {c}: {message}")
            }
            Error::Input { row, line, column: None, message } => {
                write!(f, "bad input at row {row} (line {line}): {message}")
            }
        }
    }
}

impl std::error::Error for Error {}

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
