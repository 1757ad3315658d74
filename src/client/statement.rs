//! When a failed request may be sent again.
//!
//! A POST whose connection breaks may already have run on the server: ClickHouse executes a statement
//! before it sends the first response byte, and a reset or a close after that looks, to the client,
//! exactly like one before. So a statement is sent again only when that is provably harmless:
//! - the connection was never made (refused, unresolvable): nothing was sent, any statement may go again;
//! - the statement cannot change anything: its first keyword (after comments and opening parentheses)
//!   is `SELECT`, `WITH` (without `INSERT` anywhere outside quotes), `SHOW`, `DESCRIBE`/`DESC`,
//!   `EXISTS` or `EXPLAIN`.
//!
//! Timeouts and TLS failures are never retried (a stalled server would only stall again), nor are server
//! exceptions (the server answered).

use crate::error::Error;

/// Whether `sql` is a statement that cannot change anything on the server (see the module docs).
pub(crate) fn is_read_only(sql: &str) -> bool {
    let b = sql.as_bytes();
    let mut i = skip_blanks(b, 0);
    while b.get(i) == Some(&b'(') {
        i = skip_blanks(b, i + 1);
    }
    let word_end = b[i..].iter().position(|c| !c.is_ascii_alphabetic()).map_or(b.len(), |p| i + p);
    let word = &sql[i..word_end];
    let is = |k: &str| word.eq_ignore_ascii_case(k);
    if is("WITH") {
        return !has_word(b, word_end, b"INSERT");
    }
    ["SELECT", "SHOW", "DESCRIBE", "DESC", "EXISTS", "EXPLAIN"].iter().any(|k| is(k))
}

/// Skips whitespace and comments (`--` and `#` to the end of the line, `/* */` nested as ClickHouse
/// nests them). An unterminated comment runs to the end.
fn skip_blanks(b: &[u8], mut i: usize) -> usize {
    loop {
        while b.get(i).is_some_and(|c| c.is_ascii_whitespace()) {
            i += 1;
        }
        if b[i..].starts_with(b"--") || b.get(i) == Some(&b'#') {
            i = memchr::memchr(b'\n', &b[i..]).map_or(b.len(), |p| i + p + 1);
        } else if b[i..].starts_with(b"/*") {
            let mut depth = 0usize;
            while i < b.len() {
                if b[i..].starts_with(b"/*") {
                    depth += 1;
                    i += 2;
                } else if b[i..].starts_with(b"*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else {
            return i;
        }
    }
}

/// Whether the bare word `word` (any case) occurs in `b` from `i` on, outside quotes and comments.
/// Errs towards yes: an unusual construct only costs a retry.
fn has_word(b: &[u8], mut i: usize, word: &[u8]) -> bool {
    while i < b.len() {
        let c = b[i];
        match c {
            b'\'' | b'"' | b'`' => {
                i += 1;
                while i < b.len() && b[i] != c {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'-' | b'#' | b'/' => {
                let next = skip_blanks(b, i);
                i = if next > i { next } else { i + 1 };
            }
            c if c.is_ascii_alphanumeric() || c == b'_' => {
                let end =
                    b[i..].iter().position(|c| !(c.is_ascii_alphanumeric() || *c == b'_')).map_or(b.len(), |p| i + p);
                if b[i..end].eq_ignore_ascii_case(word) {
                    return true;
                }
                i = end;
            }
            _ => i += 1,
        }
    }
    false
}

/// Whether a request that failed with `e` may be sent again; `read_only` from [`is_read_only`].
pub(crate) fn retry_is_safe(e: &Error, read_only: bool) -> bool {
    match e {
        // Nothing was sent: the connection was never made.
        Error::Transport { connect: true, .. } => true,
        Error::Transport { timeout, tls, .. } => read_only && !timeout && !tls,
        // A proxy in front of the server: the statement may have reached the server.
        Error::Http { status, .. } => read_only && matches!(status, 502..=504),
        _ => false,
    }
}

/// A fresh query id (random, in the UUID form the server uses for its own ids).
pub(crate) fn new_query_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut halves = [0u64; 2];
    for (k, h) in halves.iter_mut().enumerate() {
        // RandomState is seeded from the OS once per process and varies per instance.
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        hasher
            .write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
        hasher.write_usize(k);
        *h = hasher.finish();
    }
    let (a, b) = (halves[0], halves[1]);
    // Version 4, variant 1.
    let a = (a & !0xF000) | 0x4000;
    let b = (b & !(0b11 << 62)) | (0b10 << 62);
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xFFFF,
        a & 0xFFFF,
        b >> 48,
        b & 0xFFFF_FFFF_FFFF
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_statements() {
        for sql in [
            "SELECT 1",
            "  select * from system.tables",
            "(SELECT 1) UNION ALL (SELECT 2)",
            "-- note\nSELECT 1",
            "/* a /* nested */ still */ SELECT 1",
            "# hash comment\nSHOW TABLES",
            "WITH 1 AS x SELECT x",
            "DESCRIBE TABLE t",
            "desc t",
            "EXISTS TABLE t",
            "EXPLAIN SELECT 1",
            "WITH 'insert' AS x SELECT x",
        ] {
            assert!(is_read_only(sql), "{sql}");
        }
        for sql in [
            "INSERT INTO t SELECT 1",
            "insert into t values (1)",
            "/* SELECT */ INSERT INTO t SELECT 1",
            "/* a /* b */ SELECT */ INSERT INTO t SELECT 1",
            "-- SELECT\nINSERT INTO t SELECT 1",
            "CREATE TABLE t (x UInt8) ENGINE = Memory",
            "ALTER TABLE t DELETE WHERE 1",
            "WITH 1 AS x INSERT INTO t SELECT x",
            "SELECTX 1",
            "OPTIMIZE TABLE t",
            "SYSTEM FLUSH LOGS",
            "",
            "/* unterminated SELECT",
        ] {
            assert!(!is_read_only(sql), "{sql}");
        }
    }

    #[test]
    fn query_ids_are_fresh_uuids() {
        let a = new_query_id();
        let b = new_query_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
    }
}
