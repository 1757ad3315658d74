//! The server's own text parser, for the rows [`crate::format::input`] does not read itself, and the
//! client's entry point to the input readers.

use super::{CallOptions, Client};
use crate::error::{Error, Result};
use crate::format::input::split::CsvDialect;
use crate::format::input::{ServerParser, ServerVerdict, TextRows, changes_text_input};
use crate::format::read::{InputFormat, NativeReader, RowReader};
use crate::native::TypeDesc;
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
            Err(e) => Err(e),
        }
    }
}

impl Client {
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
        let structure = columns
            .iter()
            .map(|(n, t)| format!("{} {}", super::quote_identifier(n), plain_type(t)))
            .collect::<Vec<_>>()
            .join(", ");
        let major = self.server_version().split('.').next().and_then(|m| m.parse::<u32>().ok()).unwrap_or(0);
        // Settings that act on the input as a whole cannot be applied to batches of it.
        if let Some((k, _)) = self.settings().iter().find(|(k, _)| {
            let k = k.to_ascii_lowercase();
            k.contains("skip_first_lines") || k.contains("allow_errors") || k.contains("skip_trailing_empty_lines")
        }) {
            return Err(Error::usage(format!(
                "the setting {k} applies to the input as a whole, which chc reads in batches; insert such input \
                 with the server's own INSERT … FORMAT"
            )));
        }
        let canonical = !self.settings().iter().any(|(k, _)| changes_text_input(k));
        let server = ServerTextParser { client: self, structure, supported: major >= 21, detects_headers: major >= 23 };
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
        let rows = TextRows::new(format, input, columns.to_vec(), self.server_timezone(), canonical, Box::new(server))?
            .with_uncertain_zones(uncertain)
            .with_csv_dialect(csv);
        Ok(Box::new(if major < 19 { rows.for_legacy_server() } else { rows }))
    }
}
