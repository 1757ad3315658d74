//! ClickHouse's informational response headers: `X-ClickHouse-Summary` (sent with the response headers)
//! and `X-ClickHouse-Progress` (sent repeatedly while a query runs, with
//! `send_progress_in_http_headers=1`). Both are small JSON objects whose numbers are strings, e.g.
//! `{"read_rows":"200000000","read_bytes":"1600000000",…}`; parsed with simd-json. Unknown fields are
//! ignored and missing or malformed ones read as 0, so a server adding fields never breaks a query.

use simd_json::prelude::*;

/// Counters from `X-ClickHouse-Summary` or `X-ClickHouse-Progress`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Rows read so far.
    pub read_rows: u64,
    /// Bytes read so far.
    pub read_bytes: u64,
    /// Rows written (inserts).
    pub written_rows: u64,
    /// Bytes written (inserts).
    pub written_bytes: u64,
    /// Estimated total rows to read.
    pub total_rows_to_read: u64,
    /// Rows in the result (summary only).
    pub result_rows: u64,
    /// Bytes in the result (summary only).
    pub result_bytes: u64,
    /// Server-side elapsed time in nanoseconds.
    pub elapsed_ns: u64,
}

/// The final summary of a query is the same set of counters.
pub type Summary = Progress;

impl Progress {
    /// Parses the header's JSON value; `None` if it is not a JSON object.
    pub fn parse(text: &str) -> Option<Progress> {
        let mut bytes = text.as_bytes().to_vec();
        let v = simd_json::to_borrowed_value(&mut bytes).ok()?;
        let obj = v.as_object()?;
        let get = |k: &str| -> u64 {
            match obj.get(k) {
                Some(x) => x.as_u64().or_else(|| x.as_str().and_then(|s| s.parse().ok())).unwrap_or(0),
                None => 0,
            }
        };
        Some(Progress {
            read_rows: get("read_rows"),
            read_bytes: get("read_bytes"),
            written_rows: get("written_rows"),
            written_bytes: get("written_bytes"),
            total_rows_to_read: get("total_rows_to_read"),
            result_rows: get("result_rows"),
            result_bytes: get("result_bytes"),
            elapsed_ns: get("elapsed_ns"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_the_server_sends() {
        // As 26.9 sent it for SELECT sum(number) FROM numbers(200000000).
        let p = Progress::parse(r#"{"read_rows":"200000000","read_bytes":"1600000000","written_rows":"0","written_bytes":"0","total_rows_to_read":"200000000","result_rows":"0","result_bytes":"0","elapsed_ns":"48019127","memory_usage":"4104"}"#).unwrap();
        assert_eq!(p.read_rows, 200_000_000);
        assert_eq!(p.read_bytes, 1_600_000_000);
        assert_eq!(p.elapsed_ns, 48_019_127);
        assert_eq!(Progress::parse("not json"), None);
        assert_eq!(Progress::parse(r#"{"read_rows":"x"}"#).unwrap().read_rows, 0);
    }
}
