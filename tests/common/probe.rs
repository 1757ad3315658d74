//! Helpers of the adversaries' probes: the server's text of a query as the oracle, the parts of a
//! mapping error, hex.

use clickhouse_connect::{Client, Error};

/// The server's TSV of `sql`, one `Vec` of fields per line (the text must be UTF-8: `hex`, `toString`).
pub fn tsv(c: &Client, sql: &str) -> Vec<Vec<String>> {
    let raw = c.raw_query(sql, Some("TabSeparated")).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let s = String::from_utf8(raw).expect("TSV of hex/toString is UTF-8");
    s.lines().map(|l| l.split('\t').map(str::to_string).collect()).collect()
}

/// Row, column, column type and message of an `Error::Mapping` (any other error fails the test).
pub fn mapping(e: &Error) -> (u64, Option<String>, Option<String>, String) {
    match e {
        Error::Mapping { row, column, column_type, message } => {
            (*row, column.clone(), column_type.clone(), message.clone())
        }
        other => panic!("expected Error::Mapping, got {other:?} ({other})"),
    }
}

/// Upper-case hex, as the server's `hex()` writes it.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

pub fn unhex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}
