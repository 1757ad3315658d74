//! Round trip through our encoder: rows the real server generated are read with our client, inserted
//! with our client (`INSERT … FORMAT Native` over plain HTTP) into a table of the same structure, and
//! the two tables are compared inside the server — for every type in the codec's scope.

mod common;

use clickhouse_connect::{Error, Value};
use common::*;

#[test]
fn every_type_round_trips_through_our_encoder() {
    let c = modern();
    for (i, group) in TYPES.chunks(6).enumerate() {
        let src = table("rt_src");
        let dst = table("rt_dst");
        let cols = structure(group, false);
        let settings = "SETTINGS allow_suspicious_low_cardinality_types = 1";
        for t in [&src, &dst] {
            // flatten_nested = 0 keeps `Nested(…)` one column, as generateRandom produces it.
            c.command(&format!("CREATE TABLE {t} ({cols}) ENGINE = Memory {settings}, flatten_nested = 0")).unwrap();
        }
        // The source table gets the server's own Native bytes, untouched by our codec.
        let server_bytes = c
            .raw_query(
                &format!(
                    "SELECT * FROM generateRandom('{}', {}, 12, 4) LIMIT 1500 {settings}",
                    structure(group, true),
                    1000 + i
                ),
                Some("Native"),
            )
            .unwrap();
        c.raw_insert(&src, &[], "Native", &server_bytes).unwrap();
        let rows = c.query(&format!("SELECT * FROM {src}")).unwrap().rows;
        assert_eq!(rows.len(), 1500);
        c.insert(&dst, &[], &rows).unwrap_or_else(|e| panic!("{cols}: {e}"));
        for (a, b) in [(&src, &dst), (&dst, &src)] {
            let diff = c.command(&format!("SELECT count() FROM (SELECT * FROM {a} EXCEPT SELECT * FROM {b})")).unwrap();
            if diff != "0" {
                let rows =
                    c.command(&format!("SELECT * FROM (SELECT * FROM {a} EXCEPT SELECT * FROM {b}) LIMIT 5")).unwrap();
                panic!("{diff} rows of {a} missing from {b} for {cols}:\n{rows}");
            }
        }
        assert_eq!(c.command(&format!("SELECT count() FROM {dst}")).unwrap(), "1500");
        for t in [&src, &dst] {
            c.command(&format!("DROP TABLE {t}")).unwrap();
        }
    }
}

#[test]
fn bad_values_name_row_and_column_and_send_nothing() {
    let c = modern();
    let t = table("rt_bad");
    c.command(&format!("CREATE TABLE {t} (a UInt8, b String, e Enum8('x' = 1)) ENGINE = Memory")).unwrap();
    let ok = vec![Value::UInt8(1), Value::String(b"s".to_vec().into()), Value::String(b"x".to_vec().into())];
    let too_big = vec![Value::UInt64(300), Value::String(b"s".to_vec().into()), Value::Enum8(1)];
    match c.insert(&t, &[], &[ok.clone(), too_big]) {
        Err(Error::Usage(m)) => assert!(m.contains("row 1, column a") && m.contains("out of range"), "{m}"),
        other => panic!("{other:?}"),
    }
    let bad_enum = vec![Value::UInt8(1), Value::String(b"s".to_vec().into()), Value::String(b"nope".to_vec().into())];
    match c.insert(&t, &[], &[bad_enum]) {
        Err(Error::Usage(m)) => assert!(m.contains("column e") && m.contains("not a member"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(c.command(&format!("SELECT count() FROM {t}")).unwrap(), "0");
    c.insert(&t, &["a", "e"], &[vec![Value::UInt8(7), Value::Enum8(1)]]).unwrap();
    assert_eq!(c.command(&format!("SELECT a, b, e FROM {t}")).unwrap(), "7\t\tx");
    c.command(&format!("DROP TABLE {t}")).unwrap();
}
