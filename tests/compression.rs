//! Every compression mode gives the same results as none, both ways, on the real servers — and 18.16,
//! which answers compress=1 with an empty body, still gets complete results.

mod common;

use clickhouse_connect::{Client, Compression, ContentEncoding, Value};
use common::*;

const MODES: &[&str] = &["lz4", "zstd", "gzip", "deflate", "br", "http-zstd", "http-lz4"];

fn with(var: &str, mode: &str) -> Client {
    let mut o = options(var);
    o.compression = Compression::parse(mode).unwrap();
    Client::new(o).unwrap()
}

fn rows(c: &Client, sql: &str) -> Vec<Vec<Value<'static>>> {
    c.query(sql).unwrap().rows
}

#[test]
fn queries_are_identical_in_every_mode() {
    // Several compressed frames (> 1 MiB) and several blocks.
    let sql = "SELECT number, toString(number) AS s, range(number % 5) AS a FROM numbers(300000)";
    let plain = rows(&modern(), sql);
    assert_eq!(plain.len(), 300_000);
    for mode in MODES {
        let c = with("CH_MODERN_URL", mode);
        assert_eq!(rows(&c, sql), plain, "mode {mode}");
        assert_eq!(c.command("SELECT 42").unwrap(), "42", "mode {mode}");
    }
    // raw_query hands back decompressed bytes.
    let raw = with("CH_MODERN_URL", "lz4").raw_query("SELECT 1", Some("TabSeparated")).unwrap();
    assert_eq!(raw, b"1\n");
    // Compression is really used: fewer bytes cross the wire. (Frame modes would also fail to decode
    // an uncompressed answer.)
    let wire = |mode: &str| {
        let c = if mode == "none" { modern() } else { with("CH_MODERN_URL", mode) };
        c.query_blocks(sql, |_| Ok(())).unwrap().wire_bytes
    };
    let plain_bytes = wire("none");
    for mode in MODES {
        let b = wire(mode);
        assert!(b * 2 < plain_bytes, "mode {mode}: {b} bytes on the wire vs {plain_bytes} uncompressed");
    }
}

#[test]
fn inserts_are_identical_in_every_mode() {
    let c = modern();
    let source = "SELECT number AS id, toString(number * 7) AS s FROM numbers(200000)";
    let data = rows(&c, source);
    for mode in MODES {
        let t = table("comp");
        c.command(&format!("CREATE TABLE {t} (id UInt64, s String) ENGINE = Memory")).unwrap();
        with("CH_MODERN_URL", mode).insert(&t, &[], &data).unwrap_or_else(|e| panic!("{mode}: {e}"));
        let check = c
            .command(&format!(
                "SELECT count(), sum(id), sum(cityHash64(s)) = (SELECT sum(cityHash64(toString(number * 7))) FROM numbers(200000)) FROM {t}"
            ))
            .unwrap();
        assert_eq!(check, "200000\t19999900000\t1", "mode {mode}");
        c.command(&format!("DROP TABLE {t}")).unwrap();
    }
}

#[test]
fn legacy_server_gets_complete_results_whatever_the_mode() {
    let sql = "SELECT number, toString(number) FROM system.numbers LIMIT 100000";
    let plain = rows(&legacy(), sql);
    assert_eq!(plain.len(), 100_000);
    for mode in ["lz4", "zstd", "gzip", "deflate"] {
        let c = with("CH_LEGACY_URL", mode);
        assert_eq!(rows(&c, sql), plain, "mode {mode} (using {:?})", c.compression());
    }
    assert_eq!(with("CH_LEGACY_URL", "lz4").compression(), &Compression::Http(ContentEncoding::Gzip));
}

/// 18.16 has no lz4 or zstd Content-Encoding (it refuses such request bodies with
/// UNKNOWN_COMPRESSION_METHOD and sends responses plain): the client uses gzip with it, so queries and
/// inserts work in those modes too.
#[test]
fn legacy_server_gets_gzip_for_the_http_encodings_it_lacks() {
    let sql = "SELECT number, toString(number) FROM system.numbers LIMIT 100000";
    let plain = rows(&legacy(), sql);
    for mode in ["http-lz4", "http-zstd"] {
        let c = with("CH_LEGACY_URL", mode);
        assert_eq!(c.compression(), &Compression::Http(ContentEncoding::Gzip), "mode {mode}");
        assert_eq!(rows(&c, sql), plain, "mode {mode}");
        let t = common::table("legacy_http_enc");
        c.command(&format!("CREATE TABLE {t} (id UInt64, s String) ENGINE = Memory")).unwrap();
        let data: Vec<Vec<Value>> = (0..1000u64).map(|i| vec![Value::from(i), Value::from(format!("r{i}"))]).collect();
        c.insert(&t, &[], &data).unwrap();
        let mut ins = c.inserter(&t, &[], 100).unwrap();
        for r in &data {
            ins.write(r).unwrap();
        }
        ins.end().unwrap();
        let check = c.query(&format!("SELECT count(), sum(id) FROM {t}")).unwrap();
        assert_eq!(check.rows[0], vec![Value::UInt64(2000), Value::UInt64(999_000)], "mode {mode}");
        c.command(&format!("DROP TABLE {t}")).unwrap();
    }
}
