//! `command`: a statement whose result, if any, is a single value or a single row — DDL, `INSERT …
//! SELECT`, `SELECT count() …`. As in the Python driver, the result is typed: [`CommandResult::value`]
//! is the single value (`client.command("SELECT count() FROM system.tables")?.get::<u64>()?`), `row`
//! the first row; the text the server printed (TabSeparated) is there too, and `CommandResult`
//! dereferences to it, so `result == "42"` and `result.parse::<u64>()` work.
//!
//! The server is asked for `TabSeparatedWithNamesAndTypes`: the text is the server's own, and the
//! first row is read into values of its column types by the crate's TSV parser (the same one `chc
//! insert` uses, which follows the server's). Statements without a result give an empty row.

use super::{CallOptions, Client};
use crate::error::{Error, Result};
use crate::format::TextParser;
use crate::transport::Summary;
use crate::types::TypeDesc;
use crate::value::Value;

/// What a [`Client::command`] returned.
#[derive(Clone, Debug, Default)]
pub struct CommandResult {
    /// The result as the server printed it (TabSeparated, escaped; rows on separate lines), without
    /// the final newline. Empty for statements without a result.
    pub text: String,
    /// The result's column names (empty for statements without a result).
    pub column_names: Vec<String>,
    /// The result's column types.
    pub column_types: Vec<TypeDesc>,
    /// The first row, typed (empty when there is none, or when a type cannot be read as text here).
    pub row: Vec<Value<'static>>,
    /// How many rows the result has.
    pub rows: usize,
    /// The server's summary (26.9), e.g. `written_rows` of an `INSERT … SELECT`.
    pub summary: Option<Summary>,
    /// The query id the statement ran under.
    pub query_id: Option<String>,
    /// The endpoint (base URL) that answered.
    pub endpoint: Option<String>,
}

impl CommandResult {
    /// The single value: the first column of the first row (the Python driver returns it alone).
    pub fn value(&self) -> Option<&Value<'static>> {
        self.row.first()
    }

    /// The single value converted to `T`, e.g. `get::<u64>()` for a `count()`.
    pub fn get<T>(&self) -> Result<T>
    where
        T: for<'v> TryFrom<&'v Value<'static>, Error = Error>,
    {
        let v = self.value().ok_or_else(|| {
            Error::usage(format!(
                "the command returned no value (its text: {:?})",
                crate::error::excerpt(self.text.as_bytes(), 100)
            ))
        })?;
        T::try_from(v)
    }

    /// The text the server printed.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl std::ops::Deref for CommandResult {
    type Target = str;
    fn deref(&self) -> &str {
        &self.text
    }
}

impl std::fmt::Display for CommandResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// Two results are equal when the server printed the same text.
impl PartialEq for CommandResult {
    fn eq(&self, other: &CommandResult) -> bool {
        self.text == other.text
    }
}

impl PartialEq<str> for CommandResult {
    fn eq(&self, other: &str) -> bool {
        self.text == other
    }
}

impl PartialEq<&str> for CommandResult {
    fn eq(&self, other: &&str) -> bool {
        self.text == *other
    }
}

impl PartialEq<String> for CommandResult {
    fn eq(&self, other: &String) -> bool {
        &self.text == other
    }
}

impl From<CommandResult> for String {
    fn from(r: CommandResult) -> String {
        r.text
    }
}

impl Client {
    /// Runs a statement (DDL, or a query with a single value or row) and returns its result, typed and
    /// as text. Never retried automatically.
    pub fn command(&self, sql: &str) -> Result<CommandResult> {
        self.command_with(sql, &CallOptions::default())
    }

    /// [`Client::command`] with per-call options.
    pub fn command_with(&self, sql: &str, opts: &CallOptions) -> Result<CommandResult> {
        super::only_query_decodes(opts)?;
        let mut out = Vec::new();
        let mut extra = vec![("default_format", "TabSeparatedWithNamesAndTypes")];
        if self.options.send_progress {
            // As the Python driver does for `send_progress`: the summary covers the whole statement.
            extra.push(("wait_end_of_query", "1"));
        }
        let meta = self.post_query(sql, opts, &extra, 0, &mut |chunk| {
            out.extend_from_slice(chunk);
            Ok(())
        })?;
        Ok(self.command_result(&out, meta))
    }

    /// Runs a statement with `data` as the request body (the Python driver's `command(cmd, data=…)`),
    /// e.g. `INSERT INTO t FORMAT CSV` with CSV bytes. The SQL travels as the `query` URL parameter.
    pub fn command_with_data(&self, sql: &str, data: &[u8], opts: &CallOptions) -> Result<CommandResult> {
        let mut out = Vec::new();
        let meta = self.post_body_with(
            sql,
            data,
            opts,
            &[("default_format", "TabSeparatedWithNamesAndTypes")],
            &mut |chunk| {
                out.extend_from_slice(chunk);
                Ok(())
            },
        )?;
        Ok(self.command_result(&out, meta))
    }

    pub(crate) fn command_result(&self, body: &[u8], meta: crate::transport::ResponseMeta) -> CommandResult {
        let meta_format = meta.format.clone();
        let mut r = CommandResult {
            summary: meta.summary.as_deref().and_then(Summary::parse),
            query_id: meta.query_id,
            endpoint: meta.endpoint,
            ..Default::default()
        };
        // Two header lines (names, types), then one line per row, each ending with '\n' (a row of one
        // empty string is an empty line, not no row).
        // The statement's own FORMAT clause wins over the one asked for: then the body is just text.
        let asked = meta_format.as_deref().is_none_or(|f| f == "TabSeparatedWithNamesAndTypes");
        let mut lines = body.splitn(3, |b| *b == b'\n');
        let parts = (lines.next(), lines.next(), lines.next());
        let headers_fit = |names: &[u8], types: &[u8]| {
            let n = names.split(|b| *b == b'\t').count();
            let t: Vec<&[u8]> = types.split(|b| *b == b'\t').collect();
            n == t.len()
                && t.iter().all(|t| {
                    let mut u = Vec::new();
                    crate::format::parse::unescape(t, &mut u).is_ok()
                        && std::str::from_utf8(&u).is_ok_and(|t| TypeDesc::parse(t).is_ok())
                })
        };
        let (true, Some(names), Some(types), Some(data)) = (asked, parts.0, parts.1, parts.2) else {
            // Nothing, or not what was asked for: keep the text as it came.
            r.text = String::from_utf8_lossy(body.strip_suffix(b"\n").unwrap_or(body)).into_owned();
            return r;
        };
        if !headers_fit(names, types) {
            // (18.16 does not say the format: a body whose second line is not type names is plain text.)
            r.text = String::from_utf8_lossy(body.strip_suffix(b"\n").unwrap_or(body)).into_owned();
            return r;
        }
        let mut unescaped = Vec::new();
        for n in names.split(|b| *b == b'\t') {
            unescaped.clear();
            let _ = crate::format::parse::unescape(n, &mut unescaped);
            r.column_names.push(String::from_utf8_lossy(&unescaped).into_owned());
        }
        for t in types.split(|b| *b == b'\t') {
            unescaped.clear();
            let _ = crate::format::parse::unescape(t, &mut unescaped);
            match std::str::from_utf8(&unescaped).ok().and_then(|t| TypeDesc::parse(t).ok()) {
                Some(t) => r.column_types.push(t),
                None => r.column_types.clear(),
            }
        }
        r.rows = memchr::memchr_iter(b'\n', data).count();
        r.text = String::from_utf8_lossy(data.strip_suffix(b"\n").unwrap_or(data)).into_owned();
        if let (Some(first), true) = (data.split(|b| *b == b'\n').next(), r.rows > 0) {
            let mut parser = TextParser::new(&self.server_timezone);
            let fields: Vec<&[u8]> = first.split(|b| *b == b'\t').collect();
            if fields.len() == r.column_types.len() {
                let row: std::result::Result<Vec<_>, _> =
                    fields.iter().zip(&r.column_types).map(|(f, t)| parser.tsv_field(f, t)).collect();
                r.row = row.unwrap_or_default();
            }
        }
        r
    }
}
