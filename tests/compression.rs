//! Every compression mode gives the same results as none, both ways, on the real servers — and 18.16,
//! which answers compress=1 with an empty body, still gets complete results. On both drivers (the
//! blocking `Client` and the `AsyncClient`).

mod common;
#[path = "common/drivers.rs"]
mod drivers;

use clickhouse_connect::{CallOptions, Compression, ContentEncoding, Value};
use common::*;
use drivers::Driver;

const MODES: &[&str] = &["lz4", "zstd", "gzip", "deflate", "br", "http-zstd", "http-lz4"];

fn with(var: &str, mode: &str) -> Vec<Driver> {
    Driver::both_with(var, |o| o.compression = Compression::parse(mode).unwrap())
}

#[test]
fn queries_are_identical_in_every_mode() {
    // Several compressed frames (> 1 MiB) and several blocks.
    let sql = "SELECT number, toString(number) AS s, range(number % 5) AS a FROM numbers(300000)";
    let plain = modern().query(sql).unwrap().rows;
    assert_eq!(plain.len(), 300_000);
    for mode in MODES {
        for d in with("CH_MODERN_URL", mode) {
            assert_eq!(d.query(sql).unwrap().rows, plain, "mode {mode} {}", d.name());
            assert_eq!(d.command("SELECT 42").unwrap(), "42", "mode {mode} {}", d.name());
            assert_eq!(d.blocks_with(sql, &CallOptions::new()).unwrap().concat(), plain, "mode {mode} {}", d.name());
        }
    }
    // raw_query hands back decompressed bytes.
    for d in with("CH_MODERN_URL", "lz4") {
        assert_eq!(d.raw_query_with("SELECT 1", Some("TabSeparated"), &CallOptions::new()).unwrap(), b"1\n");
    }
    // Compression is really used: fewer bytes cross the wire. (Frame modes would also fail to decode
    // an uncompressed answer.)
    let wire = |mode: &str| {
        let c = if mode == "none" { modern() } else { with("CH_MODERN_URL", mode).swap_remove(0).into_blocking() };
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
    let data = c.query(source).unwrap().rows;
    for mode in MODES {
        for d in with("CH_MODERN_URL", mode) {
            let t = table("comp");
            c.command(&format!("CREATE TABLE {t} (id UInt64, s String) ENGINE = Memory")).unwrap();
            d.insert_with(&t, &[], &data, &CallOptions::new()).unwrap_or_else(|e| panic!("{mode} {}: {e}", d.name()));
            d.inserter(&t, &[], 30_000, &data, &CallOptions::new())
                .unwrap_or_else(|e| panic!("{mode} {}: {e}", d.name()));
            let check = c
                .command(&format!(
                    "SELECT count(), sum(id), sum(cityHash64(s)) = (SELECT 2 * sum(cityHash64(toString(number * 7))) FROM numbers(200000)) FROM {t}"
                ))
                .unwrap();
            let want = c.command("SELECT 2 * count(), 2 * sum(number), 1 FROM numbers(200000)").unwrap();
            assert_eq!(check, want, "mode {mode} {}", d.name());
            c.command(&format!("DROP TABLE {t}")).unwrap();
        }
    }
}

#[test]
fn legacy_server_gets_complete_results_whatever_the_mode() {
    let sql = "SELECT number, toString(number) FROM system.numbers LIMIT 100000";
    let plain = legacy().query(sql).unwrap().rows;
    assert_eq!(plain.len(), 100_000);
    for mode in ["lz4", "zstd", "gzip", "deflate"] {
        for d in with("CH_LEGACY_URL", mode) {
            let c = d.blocking().compression().clone();
            assert_eq!(d.query(sql).unwrap().rows, plain, "mode {mode} (using {c:?}) {}", d.name());
            assert_eq!(d.blocks_with(sql, &CallOptions::new()).unwrap().concat(), plain, "mode {mode} {}", d.name());
        }
    }
    for d in with("CH_LEGACY_URL", "lz4") {
        assert_eq!(d.blocking().compression(), &Compression::Http(ContentEncoding::Gzip));
    }
}

/// 18.16 has no lz4 or zstd Content-Encoding (it refuses such request bodies with
/// UNKNOWN_COMPRESSION_METHOD and sends responses plain): the client uses gzip with it, so queries and
/// inserts work in those modes too.
#[test]
fn legacy_server_gets_gzip_for_the_http_encodings_it_lacks() {
    let sql = "SELECT number, toString(number) FROM system.numbers LIMIT 100000";
    let plain = legacy().query(sql).unwrap().rows;
    for mode in ["http-lz4", "http-zstd"] {
        for d in with("CH_LEGACY_URL", mode) {
            let ctx = format!("mode {mode} {}", d.name());
            assert_eq!(d.blocking().compression(), &Compression::Http(ContentEncoding::Gzip), "{ctx}");
            assert_eq!(d.query(sql).unwrap().rows, plain, "{ctx}");
            let t = common::table("legacy_http_enc");
            d.command(&format!("CREATE TABLE {t} (id UInt64, s String) ENGINE = Memory")).unwrap();
            let data: Vec<Vec<Value>> =
                (0..1000u64).map(|i| vec![Value::from(i), Value::from(format!("r{i}"))]).collect();
            d.insert_with(&t, &[], &data, &CallOptions::new()).unwrap();
            d.inserter(&t, &[], 100, &data, &CallOptions::new()).unwrap();
            let check = d.query(&format!("SELECT count(), sum(id) FROM {t}")).unwrap();
            assert_eq!(check.rows[0], vec![Value::UInt64(2000), Value::UInt64(999_000)], "{ctx}");
            d.command(&format!("DROP TABLE {t}")).unwrap();
        }
    }
}
