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
use crate::params::lex::{Dialect, Lexer, Region};

/// Whether `sql` is a statement that cannot change anything on a server whose lexer is one of
/// `dialects` (see the module docs): under every one of them its first keyword must be read-only, and
/// for `WITH` no `INSERT` may stand in code under any of them. Quotes, comments and heredocs are
/// taken as that server's lexer takes them ([`crate::params::lex`]).
pub(crate) fn is_read_only(sql: &str, dialects: &[Dialect]) -> bool {
    !dialects.is_empty() && dialects.iter().all(|d| read_only_in(sql.as_bytes(), *d))
}

fn read_only_in(b: &[u8], dialect: Dialect) -> bool {
    let mut lexer = Lexer::new(b, dialect);
    let mut i = 0;
    // The first word in code, after blanks, comments and opening parentheses.
    let first = loop {
        if i >= b.len() {
            return false;
        }
        if lexer.region_of(i) != Region::Code || b[i].is_ascii_whitespace() || b[i] == b'(' {
            i += 1;
            continue;
        }
        if !b[i].is_ascii_alphabetic() {
            return false;
        }
        let end = b[i..].iter().position(|c| !c.is_ascii_alphabetic()).map_or(b.len(), |p| i + p);
        break (i, end);
    };
    let word = &b[first.0..first.1];
    let is = |k: &str| word.eq_ignore_ascii_case(k.as_bytes());
    if is("WITH") {
        // `WITH … INSERT` runs on newer servers: any INSERT in code makes it a write.
        let mut j = first.1;
        while j < b.len() {
            if (b[j].is_ascii_alphabetic() || b[j] == b'_') && (j == 0 || !crate::params::lex::is_word(b[j - 1])) {
                let end = b[j..].iter().position(|c| !crate::params::lex::is_word(*c)).map_or(b.len(), |p| j + p);
                if b[j..end].eq_ignore_ascii_case(b"INSERT") && lexer.region_of(j) == Region::Code {
                    return false;
                }
                j = end;
            } else {
                j += 1;
            }
        }
        return true;
    }
    ["SELECT", "SHOW", "DESCRIBE", "DESC", "EXISTS", "EXPLAIN"].iter().any(|k| is(k))
}

/// Whether a request that failed with `e` may be sent again; `read_only` from [`is_read_only`].
pub(crate) fn retry_is_safe(e: &Error, read_only: bool) -> bool {
    match e {
        // Nothing was sent: the connection was never made.
        Error::Transport { connect: true, .. } => true,
        Error::Transport { timeout, tls, .. } => read_only && !timeout && !tls,
        // A proxy in front of the server: the statement may have reached the server.
        Error::Http { status, .. } => read_only && matches!(status, 502..=504),
        // QUERY_WITH_SAME_ID_IS_ALREADY_RUNNING: an earlier attempt of this read-only query is still
        // running (for users who may not set replace_running_query).
        Error::Server { code: 216, .. } => read_only,
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

    fn is_read_only(sql: &str) -> bool {
        super::is_read_only(sql, crate::params::lex::dialects_for("26.9.2.1"))
    }

    #[test]
    fn every_generation_must_agree() {
        let all = &crate::params::lex::DIALECTS;
        // 18.16 ends a comment at its first */ and has no # comments: these are not read-only there.
        for sql in ["/* a /* nested */ still */ SELECT 1", "# hash comment\nSHOW TABLES"] {
            assert!(is_read_only(sql), "{sql}");
            assert!(!super::is_read_only(sql, all), "{sql}");
            assert!(!super::is_read_only(sql, crate::params::lex::dialects_for("18.16.1")), "{sql}");
        }
        assert!(super::is_read_only("-- c\nSELECT 1", all));
        // An INSERT that only 18.16's flat comments leave in code.
        let sql = "WITH 1 AS a /* x /* y */ INSERT INTO t SELECT 1 -- */";
        assert!(!super::is_read_only(sql, all));
        assert!(!super::is_read_only(sql, crate::params::lex::dialects_for("18.16.1")));
        assert!(!super::is_read_only("SELECT 1", &[]));
    }

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
            "WITH $$'$$ AS a INSERT INTO t SELECT 200 -- '",
            "WITH $q$\"$q$ AS a INSERT INTO t SELECT 1",
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
