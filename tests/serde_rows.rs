//! serde rows (`query_as`, `Block::rows_as`, `insert_as`, `TypedInserter`) against the real servers:
//! a struct per type family round-trips (rows the server generated, read into structs, inserted from
//! them, compared inside the server with EXCEPT both ways), what the structs hold is checked against
//! the server's own text of the same values, strings are borrowed from the block, and structs that do
//! not fit give errors naming the row, the column and its type.

#![cfg(feature = "serde")]

mod common;
#[path = "common/drivers.rs"]
mod drivers;

use clickhouse_connect::{CallOptions, Client, Error};
use common::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
enum E8 {
    #[serde(rename = "a")]
    A,
    #[serde(rename = "b")]
    B,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Named {
    a: u64,
    b: Vec<String>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Wide {
    id: u64,
    b: bool,
    i8: i8,
    i16: i16,
    i32: i32,
    i64: i64,
    i128: i128,
    u8: u8,
    u16: u16,
    u32: u32,
    u128: u128,
    f32: f32,
    f64: f64,
    s: String,
    #[serde(with = "serde_bytes")]
    raw: Vec<u8>,
    #[serde(with = "serde_bytes")]
    fs: Vec<u8>,
    n: Option<String>,
    ni: Option<i32>,
    lc: String,
    lcn: Option<String>,
    d: jiff::civil::Date,
    d32: jiff::civil::Date,
    dt: jiff::Timestamp,
    dt_server: jiff::Timestamp,
    dt64: jiff::ZonedDateTime,
    dt64_9: jiff::Timestamp,
    u: uuid::Uuid,
    ip4: Ipv4Addr,
    ip6: Ipv6Addr,
    dec: String,
    dec128: String,
    e8: E8,
    e16: String,
    arr: Vec<u32>,
    arr_s: Vec<Option<String>>,
    arr_d: Vec<jiff::civil::Date>,
    tup: (u8, String),
    named: Named,
    m: BTreeMap<String, u64>,
    mm: BTreeMap<String, Vec<i64>>,
    i256: String,
    days: u16,
}

const WIDE: &str = "id UInt64, b Bool, i8 Int8, i16 Int16, i32 Int32, i64 Int64, i128 Int128, u8 UInt8, u16 UInt16, \
    u32 UInt32, u128 UInt128, f32 Float32, f64 Float64, s String, raw String, fs FixedString(4), n Nullable(String), \
    ni Nullable(Int32), lc LowCardinality(String), lcn LowCardinality(Nullable(String)), d Date, d32 Date32, \
    dt DateTime('Europe/Berlin'), dt_server DateTime, dt64 DateTime64(3, 'Asia/Kolkata'), dt64_9 DateTime64(9, 'UTC'), \
    u UUID, ip4 IPv4, ip6 IPv6, dec Decimal(18, 4), dec128 Decimal(38, 10), e8 Enum8('a' = 1, 'b' = -2), \
    e16 Enum16('x' = 1000, 'y' = -1000), arr Array(UInt32), arr_s Array(Nullable(String)), arr_d Array(Date), \
    tup Tuple(UInt8, String), named Tuple(a UInt64, b Array(String)), m Map(String, UInt64), \
    mm Map(LowCardinality(String), Array(Int64)), i256 Int256, days Date";

/// Fills `t` with rows the server makes: generateRandom, with text columns replaced by UTF-8 text
/// (only `raw` and `fs` keep random bytes) and floats by finite values.
fn fill_wide(c: &Client, t: &str, rows: u64) {
    c.command(&format!("CREATE TABLE {t} ({WIDE}) ENGINE = Memory")).unwrap();
    c.command(&format!(
        "INSERT INTO {t} SELECT * EXCEPT (u64) REPLACE (rowNumberInAllBlocks() AS id, toFloat32(i32) / 7 AS f32, \
         toFloat64(i64) / 3 AS f64, concat('s', toString(i16), 'é\t\\\\') AS s, \
         if(u8 % 3 = 0, NULL, toString(u16)) AS n, toString(u8 % 7) AS lc, if(u8 % 2 = 0, NULL, toString(u8)) AS lcn, \
         arrayMap(x -> if(x % 3 = 0, NULL, toString(x)), range(u8 % 4)) AS arr_s, (u8, toString(u32)) AS tup, \
         CAST((u64, [toString(u8), '']), 'Tuple(a UInt64, b Array(String))') AS named, \
         map(toString(u8 % 5), u64, 'k', 1) AS m, map(toString(u16 % 3), [i64, -1]) AS mm) \
         FROM generateRandom('{}', 17, 8, 3) LIMIT {rows}",
        WIDE.replace("id UInt64, ", "id UInt64, u64 UInt64, ").replace('\'', "\\'")
    ))
    .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn a_struct_of_every_family_round_trips_through_insert_as_and_query_as() {
    for c in drivers::Driver::both("CH_MODERN_URL") {
        let (src, dst) = (table("serde_src"), table("serde_dst"));
        fill_wide(c.blocking(), &src, 3000);
        c.command(&format!("CREATE TABLE {dst} ({WIDE}) ENGINE = Memory")).unwrap();
        let rows: Vec<Wide> = c.query_as(&format!("SELECT * FROM {src} ORDER BY id")).unwrap();
        assert_eq!(rows.len(), 3000);
        let summary = c.insert_as(&dst, &rows).unwrap();
        assert_eq!(summary.rows, 3000);
        for (a, b) in [(&src, &dst), (&dst, &src)] {
            let diff = c.command(&format!("SELECT count() FROM (SELECT * FROM {a} EXCEPT SELECT * FROM {b})")).unwrap();
            if diff != "0" {
                let rows =
                    c.command(&format!("SELECT * FROM (SELECT * FROM {a} EXCEPT SELECT * FROM {b}) LIMIT 3")).unwrap();
                panic!("{diff} rows of {a} missing from {b}:\n{rows}");
            }
        }
        assert_eq!(c.command(&format!("SELECT count() FROM {dst}")).unwrap(), "3000");
        let again: Vec<Wide> = c.query_as(&format!("SELECT * FROM {dst} ORDER BY id")).unwrap();
        assert_eq!(again, rows);
    }
}

/// What the structs hold equals the server's own text of the same values.
#[test]
fn struct_fields_equal_the_servers_text_of_the_values() {
    let c = modern();
    let src = table("serde_text");
    fill_wide(&c, &src, 2000);
    let rows: Vec<Wide> = c.query_as(&format!("SELECT * FROM {src} ORDER BY id")).unwrap();
    #[derive(Deserialize)]
    struct Oracle {
        d: String,
        d32: String,
        dt: i64,
        dt_server: i64,
        dt64: i64,
        dt64_9: i64,
        u: String,
        ip4: String,
        ip6: String,
        dec: String,
        dec128: String,
        e8: String,
        e16: String,
        i256: String,
        arr_d: Vec<String>,
        days: u16,
        s: String,
        raw: String,
    }
    let oracle: Vec<Oracle> = c
        .query_as(&format!(
            "SELECT toString(d) d, toString(d32) d32, toUnixTimestamp(dt) dt, toUnixTimestamp(dt_server) dt_server, \
             toUnixTimestamp64Nano(dt64) dt64, toUnixTimestamp64Nano(dt64_9) dt64_9, toString(u) u, toString(ip4) ip4, \
             toString(ip6) ip6, toString(dec) dec, toString(dec128) dec128, toString(e8) e8, toString(e16) e16, \
             toString(i256) i256, arrayMap(x -> toString(x), arr_d) arr_d, toUInt16(days) days, s, hex(raw) raw \
             FROM {src} ORDER BY id"
        ))
        .unwrap();
    assert_eq!(oracle.len(), rows.len());
    for (r, o) in rows.iter().zip(&oracle) {
        let id = r.id;
        assert_eq!(r.d.to_string(), o.d, "row {id}");
        assert_eq!(r.d32.to_string(), o.d32, "row {id}");
        assert_eq!(r.dt.as_second(), o.dt, "row {id}");
        assert_eq!(r.dt_server.as_second(), o.dt_server, "row {id}");
        assert_eq!(r.dt64.timestamp().as_nanosecond(), i128::from(o.dt64), "row {id}");
        assert_eq!(r.dt64.time_zone().iana_name(), Some("Asia/Kolkata"), "row {id}");
        assert_eq!(r.dt64_9.as_nanosecond(), i128::from(o.dt64_9), "row {id}");
        assert_eq!(r.u.to_string(), o.u, "row {id}");
        assert_eq!(r.ip4.to_string(), o.ip4, "row {id}");
        assert_eq!(r.ip6.to_string(), o.ip6, "row {id}");
        assert_eq!(r.dec, o.dec, "row {id}");
        assert_eq!(r.dec128, o.dec128, "row {id}");
        assert_eq!(serde_json::to_value(&r.e8).unwrap(), serde_json::Value::String(o.e8.clone()), "row {id}");
        assert_eq!(r.e16, o.e16, "row {id}");
        assert_eq!(r.i256, o.i256, "row {id}");
        assert_eq!(r.arr_d.iter().map(|d| d.to_string()).collect::<Vec<_>>(), o.arr_d, "row {id}");
        assert_eq!(r.days, o.days, "row {id}");
        assert_eq!(r.s, o.s, "row {id}");
        let hex: String = r.raw.iter().map(|b| format!("{b:02X}")).collect();
        assert_eq!(hex, o.raw, "row {id}");
    }
}

#[test]
fn rows_as_borrows_strings_and_bytes_from_the_block() {
    #[derive(Deserialize)]
    struct Borrowed<'a> {
        n: u64,
        s: &'a str,
        #[serde(borrow, with = "serde_bytes")]
        b: &'a [u8],
    }
    let c = modern();
    let mut seen = 0u64;
    c.query_blocks("SELECT number n, toString(number) s, unhex('ff00') b FROM numbers(100000)", |block| {
        let (range_s, range_b) = {
            let view = |name| match block.column(name).unwrap().column().view() {
                clickhouse_connect::native::ColumnView::String { data, .. } => data.as_ptr_range(),
                _ => panic!("not a String column"),
            };
            (view("s"), view("b"))
        };
        for row in block.rows_as::<Borrowed>() {
            let row = row.unwrap();
            assert_eq!(row.s, row.n.to_string());
            assert_eq!(row.b, [0xff, 0]);
            // The strings are the block's own bytes, not copies.
            assert!(range_s.contains(&row.s.as_ptr()), "s was copied");
            assert!(range_b.contains(&row.b.as_ptr()), "b was copied");
            seen += 1;
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(seen, 100000);
}

fn mapping(e: Error) -> (u64, Option<String>, Option<String>, String) {
    match e {
        Error::Mapping { row, column, column_type, message } => (row, column, column_type, message),
        other => panic!("expected a mapping error, got {other:?}"),
    }
}

#[test]
fn block_streams_hand_over_decoded_blocks_to_borrow_from_and_cancel_when_dropped() {
    #[derive(Deserialize)]
    struct Borrowed<'a> {
        n: u64,
        s: &'a str,
    }
    let c = std::sync::Arc::new(modern());
    let sql = "SELECT number * 7 AS n, repeat('é', number % 13) AS s FROM numbers(1000000)";
    let opts = CallOptions::new().setting("max_block_size", 10000);
    let (mut rows, mut sum, mut chars, mut blocks) = (0u64, 0u64, 0u64, 0);
    for block in c.query_block_stream(sql, &opts).unwrap() {
        let block = block.unwrap();
        blocks += 1;
        for row in block.block().rows_as::<Borrowed>() {
            let row = row.unwrap();
            rows += 1;
            sum += row.n;
            chars += row.s.chars().count() as u64;
        }
    }
    assert!(blocks >= 100, "{blocks} blocks");
    // The server's own count and sums of the same rows.
    let server = c.command(&format!("SELECT (count(), sum(n), sum(lengthUTF8(s))) FROM ({sql})")).unwrap();
    assert_eq!(server, format!("({rows},{sum},{chars})"));
    // An exception reaches the consumer.
    let mut s = c.query_block_stream("SELECT throwIf(number = 100000, 'boom') FROM numbers(200000)", &opts).unwrap();
    assert_eq!(s.find_map(|b| b.err()).expect("the exception must reach the consumer").server_code(), Some(395));
    // Dropping the stream of an endless query cancels it on the server.
    let id = format!("block-stream-drop-{}", std::process::id());
    let mut s = c.query_block_stream("SELECT number FROM system.numbers", &opts.clone().query_id(&id)).unwrap();
    for _ in 0..5 {
        s.next().unwrap().unwrap();
    }
    drop(s);
    let stopped = (0..50).any(|_| {
        let n = c.command(&format!("SELECT count() FROM system.processes WHERE query_id = '{id}'")).unwrap();
        n == "0" || {
            std::thread::sleep(std::time::Duration::from_millis(100));
            false
        }
    });
    assert!(stopped, "the query is still running after its block stream was dropped");
}

#[test]
fn structs_that_do_not_fit_name_the_row_the_column_and_its_type() {
    for c in drivers::Driver::both("CH_MODERN_URL") {
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Small {
            n: u8,
        }
        // Row 301 (counted over the whole result, across blocks) does not fit a u8.
        let opts = CallOptions::new().setting("max_block_size", "100");
        let e = c.query_as_with::<Small>("SELECT number + 45 AS n FROM numbers(1000)", &opts).unwrap_err();
        let (row, col, ty, msg) = mapping(e);
        assert_eq!((row, col.as_deref(), ty.as_deref()), (212, Some("n"), Some("UInt64")), "{msg}");
        assert!(msg.contains("256"), "{msg}");

        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Missing {
            a: u64,
            b: String,
        }
        let e = c.query_as::<Missing>("SELECT 1 AS a, 2 AS c").unwrap_err();
        let (row, col, _, msg) = mapping(e);
        assert_eq!((row, col), (1, None));
        assert!(msg.contains("missing field `b`") && msg.contains("a UInt8, c UInt8"), "{msg}");

        let e = c.query_as::<(u64, String)>("SELECT 1 AS a, NULL::Nullable(String) AS b").unwrap_err();
        let (_, col, ty, msg) = mapping(e);
        assert_eq!((col.as_deref(), ty.as_deref()), (Some("b"), Some("Nullable(String)")), "{msg}");
        assert!(msg.contains("NULL") && msg.contains("Option"), "{msg}");

        let e = c.query_as::<(u64, String, u8)>("SELECT 1 AS a, 'x' AS b").unwrap_err();
        assert!(mapping(e).3.contains("3 elements"), "tuple arity");

        let e = c.query_as::<(u64, String)>("SELECT 1 AS a, unhex('ff') AS b").unwrap_err();
        let (_, col, _, msg) = mapping(e);
        assert_eq!(col.as_deref(), Some("b"));
        assert!(msg.contains("not UTF-8"), "{msg}");

        let e = c.query_as::<(u64, Vec<u8>)>("SELECT 1, ['a', 'b']::Array(String)").unwrap_err();
        let (_, _, ty, msg) = mapping(e);
        assert_eq!(ty.as_deref(), Some("Array(String)"), "{msg}");
    }
}

#[test]
fn inserted_structs_that_do_not_fit_name_the_row_and_column_and_leave_the_insert_usable() {
    for c in drivers::Driver::both("CH_MODERN_URL") {
        let t = table("serde_badins");
        c.command(&format!("CREATE TABLE {t} (id UInt32, name String, d Date) ENGINE = Memory")).unwrap();
        #[derive(Serialize)]
        struct Good<'a> {
            id: u64,
            name: &'a str,
            d: &'a str,
        }
        let mut ins = c.inserter_as::<Good>(&t, 10).unwrap();
        ins.write(&Good { id: 1, name: "a", d: "2024-02-29" }).unwrap();
        let e = ins.write(&Good { id: 1 << 40, name: "b", d: "2024-01-01" }).unwrap_err();
        let (row, col, ty, msg) = mapping(e);
        assert_eq!((row, col.as_deref(), ty.as_deref()), (2, Some("id"), Some("UInt32")), "{msg}");
        let e = ins.write(&Good { id: 3, name: "c", d: "2024-02-30" }).unwrap_err();
        let (row, col, _, msg) = mapping(e);
        assert_eq!((row, col.as_deref()), (2, Some("d")), "{msg}");
        ins.write(&Good { id: 4, name: "d", d: "2025-01-01" }).unwrap();
        assert_eq!(ins.end().unwrap().rows, 2);
        // What the server stored: the two good rows, nothing of the bad ones.
        assert_eq!(
            c.command(&format!("SELECT groupArray((id, name, d)) FROM (SELECT * FROM {t} ORDER BY id)")).unwrap(),
            "[(1,'a','2024-02-29'),(4,'d','2025-01-01')]"
        );

        #[derive(Serialize)]
        struct Unknown {
            id: u32,
            nope: u8,
        }
        let e = c.insert_as(&t, &[Unknown { id: 1, nope: 2 }]).unwrap_err();
        let (_, col, _, msg) = mapping(e);
        assert_eq!(col.as_deref(), Some("nope"), "{msg}");
        assert!(msg.contains("id, name, d"), "{msg}");
    }
}

#[test]
fn a_typed_inserter_streams_many_blocks_exactly() {
    for c in drivers::Driver::both("CH_MODERN_URL") {
        let t = table("serde_stream");
        c.command(&format!(
            "CREATE TABLE {t} (id UInt64, name String, tags Array(String), score Nullable(Float64), \
             at DateTime64(6, 'UTC'), kind Enum8('x' = 1, 'y' = 2), extra String DEFAULT 'dflt') ENGINE = Memory"
        ))
        .unwrap();
        #[derive(Serialize, Deserialize, PartialEq, Debug)]
        struct Row {
            id: u64,
            name: String,
            tags: Vec<String>,
            score: Option<f64>,
            at: jiff::Timestamp,
            kind: String,
        }
        let make = |i: u64| Row {
            id: i,
            name: format!("name {i}"),
            tags: (0..i % 3).map(|k| format!("t{k}")).collect(),
            score: (i % 5 != 0).then(|| i as f64 / 8.0),
            at: jiff::Timestamp::from_microsecond(1_700_000_000_000_000 + i as i64 * 1_001).unwrap(),
            kind: if i % 2 == 0 { "x".into() } else { "y".into() },
        };
        let mut ins = c.inserter_as::<Row>(&t, 7_000).unwrap();
        for i in 0..200_000 {
            ins.write(&make(i)).unwrap();
        }
        let summary = ins.end().unwrap();
        assert_eq!((summary.rows, summary.blocks), (200_000, 29));
        // The server's own checksum of what it stored against its checksum of the same rows computed
        // from numbers(); `extra` took its DEFAULT (no field names it).
        let stored = c
            .command(&format!(
                "SELECT count(), sum(cityHash64(id, name, tags, score, toUnixTimestamp64Micro(at), kind, extra)) FROM {t}"
            ))
            .unwrap();
        let expected = c
            .command(
                "SELECT count(), sum(cityHash64(number, concat('name ', toString(number)), \
                 arrayMap(k -> concat('t', toString(k)), range(number % 3)), \
                 if(number % 5 = 0, NULL, number / 8), 1700000000000000 + number * 1001, \
                 CAST(if(number % 2 = 0, 'x', 'y'), 'Enum8(\\'x\\' = 1, \\'y\\' = 2)'), 'dflt')) FROM numbers(200000)",
            )
            .unwrap();
        assert_eq!(stored, expected);
        let back: Vec<Row> = c.query_as(&format!("SELECT * EXCEPT extra FROM {t} WHERE id < 100 ORDER BY id")).unwrap();
        assert_eq!(back, (0..100).map(make).collect::<Vec<_>>());
    }
}

#[test]
fn tuples_maps_single_columns_and_streams() {
    let c = std::sync::Arc::new(modern());
    let pairs: Vec<(u64, String)> = c.query_as("SELECT number, toString(number) FROM numbers(3)").unwrap();
    assert_eq!(pairs, vec![(0, "0".into()), (1, "1".into()), (2, "2".into())]);
    let ones: Vec<u64> = c.query_as("SELECT number FROM numbers(4)").unwrap();
    assert_eq!(ones, vec![0, 1, 2, 3]);
    let maps: Vec<BTreeMap<String, serde_json::Value>> = c.query_as("SELECT 1 AS a, 'x' AS b, [1, 2] AS c").unwrap();
    assert_eq!(serde_json::to_string(&maps).unwrap(), r#"[{"a":1,"b":"x","c":[1,2]}]"#);
    let mut n = 0u64;
    for row in c
        .query_as_stream::<(u64, String)>("SELECT number, toString(number) FROM numbers(300000)", &CallOptions::new())
        .unwrap()
    {
        let (a, b) = row.unwrap();
        assert_eq!(b, a.to_string());
        assert_eq!(a, n);
        n += 1;
    }
    assert_eq!(n, 300000);
    // Dropping a stream early ends it (the worker's next hand-over fails and the query is cancelled).
    let mut s = c.query_as_stream::<u64>("SELECT number FROM numbers(100000000)", &CallOptions::new()).unwrap();
    assert_eq!(s.next().unwrap().unwrap(), 0);
    drop(s);
    let mut each = 0u64;
    c.query_as_each("SELECT number FROM numbers(1000)", |x: u64| {
        each += x;
        Ok(())
    })
    .unwrap();
    assert_eq!(each, 499500);
}

#[test]
fn variant_dynamic_and_json_read_as_enums_and_json_values() {
    let c = modern();
    #[derive(Deserialize, Debug, PartialEq)]
    enum V {
        UInt64(u64),
        String(String),
        #[serde(rename = "Array(UInt64)")]
        Arr(Vec<u64>),
    }
    #[derive(Deserialize, Debug, PartialEq)]
    struct Row {
        v: Option<V>,
        untagged: Option<serde_json::Value>,
        d: serde_json::Value,
        j: serde_json::Value,
    }
    let rows: Vec<Row> = c
        .query_as(
            "SELECT multiIf(number = 0, 7::Variant(UInt64, String, Array(UInt64)), number = 1, 'x', number = 2, [1, 2]::Array(UInt64), NULL) v, \
             v AS untagged, v::Dynamic d, \
             '{\"a\": {\"b\": 1, \"c\": [\"x\"]}, \"z\": null}'::JSON j FROM numbers(4) \
             SETTINGS allow_experimental_variant_type = 1, allow_experimental_dynamic_type = 1, enable_json_type = 1",
        )
        .unwrap();
    assert_eq!(rows[0].v, Some(V::UInt64(7)));
    assert_eq!(rows[1].v, Some(V::String("x".into())));
    assert_eq!(rows[2].v, Some(V::Arr(vec![1, 2])));
    assert_eq!(rows[3].v, None);
    let u: Vec<String> = rows.iter().map(|r| serde_json::to_string(&r.untagged).unwrap()).collect();
    assert_eq!(u, ["7", "\"x\"", "[1,2]", "null"]);
    let d: Vec<String> = rows.iter().map(|r| r.d.to_string()).collect();
    assert_eq!(d, ["7", "\"x\"", "[1,2]", "null"]);
    // The server's own JSON text of the object, parsed the same way.
    let server: serde_json::Value = serde_json::from_str(
        &c.command("SELECT toJSONString('{\"a\": {\"b\": 1, \"c\": [\"x\"]}, \"z\": null}'::JSON) SETTINGS enable_json_type = 1, output_format_json_quote_64bit_integers = 0").unwrap(),
    )
    .unwrap();
    assert_eq!(rows[0].j, server);
}

#[test]
fn the_legacy_server_reads_and_writes_structs() {
    for c in drivers::Driver::both("CH_LEGACY_URL") {
        let (src, dst) = (table("serde_legacy_src"), table("serde_legacy_dst"));
        let cols = "id UInt64, s String, n Nullable(String), arr Array(UInt32), d Date, dt DateTime, u UUID, \
                    e Enum8('a' = 1, 'b' = 2), dec Decimal(18, 4), t Tuple(UInt8, String)";
        for t in [&src, &dst] {
            c.command(&format!("CREATE TABLE {t} ({cols}) ENGINE = Memory")).unwrap();
        }
        c.command(&format!(
            "INSERT INTO {src} SELECT number, toString(number), if(number % 3 = 0, NULL, 'n'), range(number % 4), \
             toDate(number * 100), toDateTime(number * 100000), generateUUIDv4(), if(number % 2 = 0, 'a', 'b'), \
             toDecimal64(number / 7, 4), (number % 256, 'x') FROM numbers(5000)"
        ))
        .unwrap();
        #[derive(Serialize, Deserialize)]
        struct Row {
            id: u64,
            s: String,
            n: Option<String>,
            arr: Vec<u32>,
            d: jiff::civil::Date,
            dt: jiff::Timestamp,
            u: uuid::Uuid,
            e: String,
            dec: String,
            t: (u8, String),
        }
        let rows: Vec<Row> = c.query_as(&format!("SELECT * FROM {src} ORDER BY id")).unwrap();
        assert_eq!(rows.len(), 5000);
        c.insert_as(&dst, &rows).unwrap();
        // 18.16 has no EXCEPT: the server's TSV of both tables, whole.
        let text = |t: &str| c.raw_query(&format!("SELECT * FROM {t} ORDER BY id"), Some("TabSeparated")).unwrap();
        assert!(text(&src) == text(&dst), "the tables differ");
        // A column with a DEFAULT: 18.16 does not convert a Native block's types, so it is sent in the
        // table's own type (a Nullable block standing for the default would be stored as raw bytes).
        let dflt = table("serde_legacy_default");
        c.command(&format!("CREATE TABLE {dflt} (id UInt64, d UInt64 DEFAULT 42) ENGINE = Memory")).unwrap();
        #[derive(Serialize)]
        struct WithDefault {
            id: u64,
            d: u64,
        }
        c.insert_as(&dflt, &[WithDefault { id: 1, d: 7 }, WithDefault { id: 2, d: 8 }]).unwrap();
        assert_eq!(c.command(&format!("SELECT groupArray((id, d)) FROM {dflt}")).unwrap(), "[(1,7),(2,8)]");
        c.command(&format!("DROP TABLE {dflt}")).unwrap();
    }
}

#[test]
fn a_readonly_user_reads_structs() {
    for c in drivers::Driver::both_with("CH_MODERN_URL", |o| o.username = env("CH_READONLY_USER")) {
        let rows: Vec<(u64, String)> = c.query_as("SELECT number, toString(number) FROM numbers(10)").unwrap();
        assert_eq!(rows.len(), 10, "{}", c.name());
    }
}

/// Composite and semi-structured columns from structs: what our insert stores equals what the
/// server's own parser stores from serde_json's text of the same structs (`FORMAT JSONEachRow`).
#[test]
fn nested_structs_enums_and_json_insert_as_the_server_reads_their_json() {
    #[derive(Serialize)]
    struct Point {
        x: f64,
        y: f64,
    }
    #[derive(Serialize)]
    struct Inner {
        a: u8,
        b: String,
    }
    #[derive(Serialize)]
    #[serde(untagged)]
    enum V {
        N(u64),
        S(String),
    }
    #[derive(Serialize)]
    struct Row {
        id: u64,
        pts: Vec<Point>,
        m: BTreeMap<String, Inner>,
        named: Inner,
        v: Option<V>,
        j: serde_json::Value,
        opt_arr: Vec<Option<u32>>,
        ring: Vec<(f64, f64)>,
        nested_dates: Vec<Vec<String>>,
    }
    let c = modern();
    let cols = "id UInt64, pts Array(Tuple(x Float64, y Float64)), m Map(String, Tuple(a UInt8, b String)), \
                named Tuple(a UInt8, b String), v Variant(UInt64, String), j JSON, opt_arr Array(Nullable(UInt32)), \
                ring Ring, nested_dates Array(Array(Date))";
    let (ours, server) = (table("serde_nested_ours"), table("serde_nested_server"));
    for t in [&ours, &server] {
        c.command(&format!("CREATE TABLE {t} ({cols}) ENGINE = Memory SETTINGS allow_experimental_variant_type = 1"))
            .unwrap();
    }
    let rows: Vec<Row> = (0..500u64)
        .map(|i| Row {
            id: i,
            pts: (0..i % 3).map(|k| Point { x: k as f64 / 3.0, y: -(i as f64) }).collect(),
            m: (0..i % 4).map(|k| (format!("k{k}"), Inner { a: k as u8, b: format!("v{i}") })).collect(),
            named: Inner { a: (i % 256) as u8, b: "n".repeat((i % 5) as usize) },
            v: match i % 3 {
                0 => None,
                1 => Some(V::N(i)),
                _ => Some(V::S(format!("s{i}"))),
            },
            j: serde_json::json!({"a": {"b": i, "c": format!("x{i}")}, "arr": [i, i + 1], "f": (i as f64) / 4.0}),
            opt_arr: (0..i % 4).map(|k| (k % 2 == 0).then_some(k as u32)).collect(),
            ring: vec![(0.0, i as f64), (1.5, 2.5)],
            nested_dates: vec![vec!["2024-01-01".into(), format!("2025-03-{:02}", i % 28 + 1)], vec![]],
        })
        .collect();
    c.insert_as(&ours, &rows).unwrap();
    let json: Vec<u8> = rows
        .iter()
        .flat_map(|r| {
            let mut line = serde_json::to_vec(r).unwrap();
            line.push(b'\n');
            line
        })
        .collect();
    c.raw_insert(&server, &[], "JSONEachRow", &json).unwrap();
    for (a, b) in [(&ours, &server), (&server, &ours)] {
        let q = format!(
            "SELECT count() FROM (SELECT id, pts, m, named, v, variantType(v), toString(j), opt_arr, ring, nested_dates FROM {a} \
             EXCEPT SELECT id, pts, m, named, v, variantType(v), toString(j), opt_arr, ring, nested_dates FROM {b})"
        );
        let diff = c.command(&q).unwrap();
        if diff != "0" {
            let q = format!(
                "SELECT * FROM {a} WHERE id IN (SELECT id FROM (SELECT id, toString(j) FROM {a} EXCEPT SELECT id, toString(j) FROM {b})) LIMIT 2"
            );
            panic!("{diff} rows of {a} not in {b}:\n{}", c.command(&q).unwrap());
        }
    }
    assert_eq!(c.command(&format!("SELECT count() FROM {ours}")).unwrap(), "500");
}
