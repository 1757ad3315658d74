//! Adversarial probes of the Arrow / polars mapping (issue 18). Each test asserts what the server's own
//! behaviour (its ArrowStream output, its text of what was inserted) says should happen.
#![cfg(feature = "polars")]
mod common;

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::*;
use arrow_schema::{DataType, Field, Fields, Schema};
use clickhouse_connect::arrow::ArrowOptions;
use clickhouse_connect::{CallOptions, Client};
use common::*;
use std::sync::Arc;

fn server_arrow(c: &Client, sql: &str, extra: &str) -> Vec<RecordBatch> {
    let sql = format!("{sql} SETTINGS output_format_arrow_compression_method = 'none'{extra}");
    let bytes = c.raw_query(&sql, Some("ArrowStream")).unwrap_or_else(|e| panic!("{sql}: {e}"));
    arrow_ipc::reader::StreamReader::try_new(std::io::Cursor::new(bytes), None)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

fn tbl(c: &Client, name: &str, cols: &str) -> String {
    let t = format!("adv18b_{}", table(name));
    c.command(&format!("DROP TABLE IF EXISTS {t}")).unwrap();
    c.command(&format!("CREATE TABLE {t} ({cols}) ENGINE = Memory")).unwrap();
    t
}

fn drop(c: &Client, t: &str) {
    c.command(&format!("DROP TABLE IF EXISTS {t}")).unwrap();
}

fn tsv(c: &Client, sql: &str) -> String {
    String::from_utf8(c.raw_query(sql, Some("TSV")).unwrap()).unwrap()
}

fn batch(cols: Vec<(&str, ArrayRef)>) -> RecordBatch {
    let fields: Vec<Field> = cols.iter().map(|(n, a)| Field::new(*n, a.data_type().clone(), true)).collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), cols.into_iter().map(|(_, a)| a).collect()).unwrap()
}

// ---------- reading ----------

#[test]
fn nullable_enum_null_rows() {
    let c = modern();
    let t = tbl(
        &c,
        "nenum",
        "id UInt8, e Nullable(Enum8('a' = 1, 'b' = 2)), a Array(Nullable(Enum16('x' = -5, 'y' = 300)))",
    );
    c.command(&format!("INSERT INTO {t} VALUES (1, NULL, [NULL, 'y']), (2, 'b', [])")).unwrap();
    let r = c.query_arrow(&format!("SELECT e, a FROM {t} ORDER BY id"));
    let r2 = c.query_arrow("SELECT CAST(NULL, 'Nullable(Enum8(\\'a\\' = 1))') AS e");
    drop(&c, &t);
    let b = r.unwrap();
    assert_eq!(b[0].column(0).null_count(), 1);
    r2.unwrap();
}

#[test]
fn times_beyond_a_day_are_refused_as_the_server_refuses_them() {
    // Arrow's time types hold a time of day; ClickHouse's Time spans ±999 hours.
    let c = modern();
    let opts = CallOptions::new().setting("enable_time_time64_type", 1);
    for sql in [
        "SELECT toTime64('900:00:00.123', 3) AS t",
        "SELECT toTime64('24:00:00.000001', 6) AS t",
        "SELECT toTime('25:00:00') AS t",
        "SELECT toTime('-1:00:00') AS t",
    ] {
        let server = c.raw_query(
            &format!("{sql} SETTINGS enable_time_time64_type = 1, output_format_arrow_compression_method = 'none'"),
            Some("ArrowStream"),
        );
        assert!(server.is_err(), "{sql}: the server wrote it as Arrow");
        let e = c.query_arrow_with(sql, &opts, &ArrowOptions::new()).unwrap_err();
        assert!(e.to_string().contains("time of day") && e.to_string().contains("row 1"), "{sql}: {e}");
    }
    // Within a day: what the server writes.
    let sql = "SELECT toTime64('23:59:59.999', 3) AS a, toTime('00:00:00') AS b, toTime64('12:00:00.000001', 6) AS c";
    let ours = c.query_arrow_with(sql, &opts, &ArrowOptions::new()).unwrap();
    let theirs = server_arrow(&c, sql, ", enable_time_time64_type = 1");
    for i in 0..3 {
        assert_eq!(ours[0].column(i).as_ref(), theirs[0].column(i).as_ref(), "column {i}");
    }
}

#[test]
fn datetime64_7_after_2262() {
    let c = modern();
    let sql = "SELECT toDateTime64('2290-01-01 00:00:00', 7, 'UTC') AS t";
    let ours = c.query_arrow(sql);
    // 2290 at 100 ns is beyond Timestamp(ns)'s i64: refused, not wrapped.
    let sql = "SELECT toDateTime64('1900-01-01 00:00:00', 9, 'UTC') AS t, toDateTime64('2262-04-11 23:47:16.854775807', 9, 'UTC') AS u";
    let ours2 = c.query_arrow(sql).unwrap();
    let server2 = server_arrow(&c, sql, "");
    assert_eq!(ours2[0].column(0).as_ref(), server2[0].column(0).as_ref());
    assert_eq!(ours2[0].column(1).as_ref(), server2[0].column(1).as_ref());
    assert!(ours.is_err());
}

#[test]
fn extremes_equal_server() {
    let c = modern();
    let sql = "SELECT toInt256('-57896044618658097711785492504343953926634992332820282564542808950483196340992') a, \
        toUInt256('115792089237316195423570985008687907853269984665640564039457584007913129639935') b, \
        toDecimal256('-9999999999999999999999999999999999999999999999999999999999999999999999999.999', 3) d, \
        toDecimal128('-9999999999999999999999999999.999999999', 9) e, toDecimal32(-9.9999, 4) f, \
        toDate32('1900-01-01') g, toDate32('2299-12-31') h, toDate('2149-06-06') i, \
        [nan, inf, -inf, -0.] j, '' k, [[],[[]]] l, toFixedString('', 3) m, toIPv6('::ffff:1.2.3.4') n, \
        toUUID('00112233-4455-6677-8899-aabbccddeeff') o, toDateTime64('1900-01-01 00:00:00.123456', 6, 'Asia/Kolkata') p";
    let ours = c.query_arrow(sql).unwrap();
    let server = server_arrow(&c, sql, "");
    for i in 0..ours[0].num_columns() {
        assert_eq!(ours[0].column(i).to_data(), server[0].column(i).to_data(), "column {i}");
    }
}

#[test]
fn lowcard_nullable_null_only_blocks() {
    let c = modern();
    let opts = CallOptions::new().setting("max_block_size", 3);
    let sql = "SELECT if(number < 7 OR number > 11, NULL, toString(number % 2)) :: LowCardinality(Nullable(String)) AS lc, \
               if(number < 5, NULL, [toLowCardinality(toNullable(toString(number)))]) :: Array(LowCardinality(Nullable(String))) AS al FROM numbers(15)";
    for rows in [0, 1, 2, 4, 15, 100] {
        let b = c.query_arrow_with(sql, &opts, &ArrowOptions::new().batch_rows(rows)).unwrap();
        let total: usize = b.iter().map(|b| b.num_rows()).sum();
        assert_eq!(total, 15);
        let mut got = Vec::new();
        for b in &b {
            let d = b.column(0).as_dictionary::<Int32Type>();
            let vals = d.values().as_string::<i32>();
            for i in 0..d.len() {
                got.push(if d.is_null(i) {
                    "NULL".to_string()
                } else {
                    vals.value(d.keys().value(i) as usize).to_string()
                });
            }
        }
        let expect: Vec<String> =
            (0..15).map(|n| if !(7..=11).contains(&n) { "NULL".into() } else { (n % 2).to_string() }).collect();
        assert_eq!(got, expect, "batch_rows {rows}");
        let df = c.query_df_with(sql, &opts, &ArrowOptions::new().batch_rows(rows)).unwrap();
        assert_eq!(df.height(), 15, "batch_rows {rows}");
        let t = tbl(&c, "lcn", "lc LowCardinality(Nullable(String)), al Array(LowCardinality(Nullable(String)))");
        c.insert_df(&t, &df).unwrap();
        c.insert_arrow(&t, &b).unwrap();
        // (The table holds the rows twice — insert_df, then insert_arrow — and EXCEPT is EXCEPT ALL.)
        let diff = tsv(&c, &format!("SELECT count() FROM (SELECT * FROM {t} EXCEPT DISTINCT SELECT * FROM ({sql}))"));
        let n = tsv(&c, &format!("SELECT count(), countIf(lc IS NULL) FROM {t}"));
        let expected = tsv(&c, &format!("SELECT count() * 2, countIf(lc IS NULL) * 2 FROM ({sql})"));
        drop(&c, &t);
        assert_eq!(diff.trim(), "0");
        assert_eq!(n.trim(), expected.trim());
    }
}

#[test]
fn empty_tuple_and_nested_nullables() {
    let c = modern();
    let sql = "SELECT 1 AS e, [tuple(NULL::Nullable(Int8), [NULL::Nullable(String)])] AS t, \
               map('k', NULL::Nullable(UInt8), 'k', 3) AS m FROM numbers(3)";
    let ours = c.query_arrow(sql);
    let server = server_arrow(
        &c,
        "SELECT [tuple(NULL::Nullable(Int8), [NULL::Nullable(String)])] AS t, map('k', NULL::Nullable(UInt8), 'k', 3) AS m FROM numbers(3)",
        "",
    );
    let ours = ours.unwrap();
    assert_eq!(ours[0].column(1).to_data(), server[0].column(0).to_data());
    assert_eq!(ours[0].column(2).to_data(), server[0].column(1).to_data());
    let df = c.query_df(sql).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((df.height(), df.width()), (3, 3));
    // Map with duplicate keys goes back unchanged.
    let t = tbl(&c, "mdup", "m Map(String, Nullable(UInt8))");
    c.insert_arrow(&t, &[ours[0].project(&[2]).unwrap()]).unwrap();
    let back = tsv(&c, &format!("SELECT toString(m) FROM {t} LIMIT 1"));
    drop(&c, &t);
    assert_eq!(back.trim(), "{\\'k\\':NULL,\\'k\\':3}");
}

#[test]
fn geo_and_nested() {
    let c = modern();
    let sql = "SELECT [[(1.5, 2.5)], []]::Polygon AS p, (1., 2.)::Point AS pt";
    let ours = c.query_arrow(sql).unwrap();
    let server = server_arrow(&c, sql, "");
    assert_eq!(
        ours[0].column(0).to_data().child_data()[0].child_data()[0].child_data(),
        server[0].column(0).to_data().child_data()[0].child_data()[0].child_data()
    );
}

#[test]
fn rechunk_and_streams() {
    let c = Arc::new(modern());
    let opts = CallOptions::new().setting("max_block_size", 1000);
    let sql = "SELECT number, toString(number) s, [number] a FROM numbers(10000)";
    for rows in [1usize, 7, 1000, 2000, 3333, 10000, 20000] {
        let b = c.query_arrow_with(sql, &opts, &ArrowOptions::new().batch_rows(rows)).unwrap();
        let lens: Vec<usize> = b.iter().map(|b| b.num_rows()).collect();
        assert!(lens[..lens.len() - 1].iter().all(|&l| l == rows.min(10000)), "{rows}: {lens:?}");
        assert_eq!(lens.iter().sum::<usize>(), 10000);
        let mut n = 0u64;
        for b in &b {
            let col = b.column(0).as_primitive::<UInt64Type>();
            for i in 0..col.len() {
                assert_eq!(col.value(i), n);
                assert_eq!(b.column(1).as_string::<i32>().value(i), n.to_string());
                n += 1;
            }
        }
        let s: Vec<RecordBatch> = c
            .query_arrow_stream(sql, &opts, &ArrowOptions::new().batch_rows(rows))
            .unwrap()
            .map(|b| b.unwrap())
            .collect();
        assert_eq!(s.len(), b.len());
    }
    // dropped midway, then the client is used again
    for _ in 0..5 {
        let mut s = c
            .query_arrow_stream("SELECT number FROM numbers(100000000)", &opts, &ArrowOptions::new().batch_rows(10))
            .unwrap();
        s.next().unwrap().unwrap();
        std::mem::drop(s);
    }
    let n = c.query_arrow("SELECT count() FROM numbers(10)").unwrap();
    assert_eq!(n[0].column(0).as_primitive::<UInt64Type>().value(0), 10);
    // empty result with batch_rows
    // An empty result: no rows in every form, with or without re-chunking.
    let plain = c.query_arrow("SELECT 1 WHERE 0").unwrap();
    let e = c.query_arrow_with("SELECT 1 WHERE 0", &opts, &ArrowOptions::new().batch_rows(5)).unwrap();
    assert_eq!(e.iter().map(|b| b.num_rows()).sum::<usize>(), 0);
    assert_eq!(e.len(), plain.len());
    let s: Vec<_> =
        c.query_arrow_stream("SELECT 1 WHERE 0", &opts, &ArrowOptions::new().batch_rows(5)).unwrap().collect();
    assert_eq!(s.len(), plain.len());
    assert!(s.iter().all(|b| b.as_ref().is_ok_and(|b| b.num_rows() == 0)));
}

#[test]
fn polars_rechunked_offsets_through_ffi() {
    let c = modern();
    let opts = CallOptions::new().setting("max_block_size", 13);
    let sql = "SELECT number n, if(number % 3 = 0, NULL, number % 2 = 0) b, if(number % 5 = 0, NULL, repeat('x', number % 4)) s, \
               [if(number % 2 = 0, NULL, toInt32(number))] a, toLowCardinality(toString(number % 4)) lc, \
               (number, toString(number)) t, toDecimal64(number, 3) d, toDate(number) dt FROM numbers(100)";
    let whole = c.query_df(sql).unwrap();
    for rows in [1usize, 3, 8, 13, 50] {
        let df = c.query_df_with(sql, &opts, &ArrowOptions::new().batch_rows(rows)).unwrap();
        assert!(df.equals_missing(&whole), "batch_rows {rows}:\n{df}\n{whole}");
        let t = tbl(
            &c,
            "plr",
            "n UInt64, b Nullable(Bool), s Nullable(String), a Array(Nullable(Int32)), lc LowCardinality(String), t Tuple(UInt64, String), d Decimal64(3), dt Date",
        );
        c.insert_df(&t, &df).unwrap();
        // and a sliced DataFrame
        c.insert_df(&t, &df.slice(37, 21)).unwrap();
        let diff = tsv(&c, &format!("SELECT count() FROM (SELECT * FROM {t} EXCEPT DISTINCT ({sql}))"));
        let n = tsv(&c, &format!("SELECT count(), sum(n) FROM {t}"));
        drop(&c, &t);
        assert_eq!(diff.trim(), "0", "batch_rows {rows}");
        let sl: u64 = (37..58).sum();
        assert_eq!(n.trim(), format!("121\t{}", 4950 + sl), "batch_rows {rows}");
    }
}

#[test]
fn polars_time_and_datetime_values() {
    let c = modern();
    let opts = CallOptions::new().setting("enable_time_time64_type", 1);
    let sql = "SELECT toTime('01:00:01') t, toTime64('01:00:01.5', 3) t3, toTime64('01:00:01.5', 6) t6, toDateTime('2001-02-03 04:05:06', 'UTC') dt, toDateTime64('2001-02-03 04:05:06.7', 1, 'UTC') dt1";
    let df = c.query_df_with(sql, &opts, &ArrowOptions::new());
    let df = df.unwrap();
    let t = df.column("t").unwrap().cast(&polars_core::prelude::DataType::Int64).unwrap();
    let t6 = df.column("t6").unwrap().cast(&polars_core::prelude::DataType::Int64).unwrap();
    // polars Time is ns since midnight
    assert_eq!(format!("{:?}", t6.get(0).unwrap()), "Int64(3601500000000)");
    assert_eq!(format!("{:?}", t.get(0).unwrap()), "Int64(3601000000000)");
    let tb = tbl(&c, "ptime", "t Time, t3 Time64(3), t6 Time64(6), dt DateTime('UTC'), dt1 DateTime64(1, 'UTC')");
    let r = c.insert_df_with(&tb, &df, &opts);
    let back = tsv(&c, &format!("SELECT * FROM {tb} SETTINGS enable_time_time64_type = 1"));
    drop(&c, &tb);
    r.unwrap();
    assert_eq!(back.trim(), "01:00:01\t01:00:01.500\t01:00:01.500000\t2001-02-03 04:05:06\t2001-02-03 04:05:06.7");
}

// ---------- inserting ----------

#[test]
fn dictionary_insert_is_not_quadratic() {
    let c = modern();
    let t = tbl(&c, "dict", "lc LowCardinality(String), e Enum8('a' = 1, 'b' = 2)");
    let n = 200_000;
    let keys = Int32Array::from_iter_values((0..n).map(|i| i % 2));
    let vals = Arc::new(StringArray::from(vec!["a", "b"]));
    let d: ArrayRef = Arc::new(DictionaryArray::<Int32Type>::try_new(keys, vals).unwrap());
    let b = batch(vec![("lc", d.clone()), ("e", d)]);
    c.insert_arrow(&t, &[b]).unwrap();
    // round trip of our own batches of LowCardinality/Enum
    let ours = c.query_arrow(&format!("SELECT * FROM {t}")).unwrap();
    c.insert_arrow(&t, &ours).unwrap();
    let n2 = tsv(&c, &format!("SELECT count(), countIf(lc = 'b'), countIf(e = 'b') FROM {t}"));
    drop(&c, &t);
    assert_eq!(n2.trim(), "400000\t200000\t200000");
}

#[test]
fn sliced_arrays_insert() {
    let c = modern();
    let t = tbl(
        &c,
        "slice",
        "s String, ns Nullable(String), b Bool, nb Nullable(Bool), i Nullable(Int32), l Array(Int64), st Tuple(x Int32, y String), fs FixedString(2), d Decimal(9, 2)",
    );
    let n = 40;
    let s: ArrayRef = Arc::new(StringArray::from_iter_values((0..n).map(|i| format!("s{i}"))));
    let ns: ArrayRef = Arc::new(StringArray::from_iter((0..n).map(|i| (i % 3 != 0).then(|| format!("n{i}")))));
    let b: ArrayRef = Arc::new(BooleanArray::from_iter((0..n).map(|i| Some(i % 3 == 1))));
    let nb: ArrayRef = Arc::new(BooleanArray::from_iter((0..n).map(|i| (i % 4 != 0).then_some(i % 3 == 1))));
    let i: ArrayRef = Arc::new(Int32Array::from_iter((0..n).map(|i| (i % 5 != 0).then_some(i))));
    let l: ArrayRef = Arc::new(ListArray::from_iter_primitive::<Int64Type, _, _>(
        (0..n).map(|i| Some((0..i % 3).map(|j| Some(i as i64 * 10 + j as i64)).collect::<Vec<_>>())),
    ));
    let st: ArrayRef = Arc::new(StructArray::new(
        Fields::from(vec![Field::new("y", DataType::Utf8, false), Field::new("x", DataType::Int32, false)]),
        vec![
            Arc::new(StringArray::from_iter_values((0..n).map(|i| format!("y{i}")))),
            Arc::new(Int32Array::from_iter_values(0..n)),
        ],
        None,
    ));
    let fs: ArrayRef =
        Arc::new(FixedSizeBinaryArray::try_from_iter((0..n).map(|i| format!("{:02}", i).into_bytes())).unwrap());
    let d: ArrayRef = Arc::new(
        Decimal128Array::from_iter_values((0..n).map(|i| i as i128 * 101)).with_precision_and_scale(9, 2).unwrap(),
    );
    let full =
        batch(vec![("s", s), ("ns", ns), ("b", b), ("nb", nb), ("i", i), ("l", l), ("st", st), ("fs", fs), ("d", d)]);
    let sliced = full.slice(13, 17);
    c.insert_arrow(&t, &[sliced]).unwrap();
    let got = tsv(&c, &format!("SELECT * EXCEPT d, toInt64(d * 100) FROM {t} FORMAT TSV"));
    let want: String = (13..30)
        .map(|i: usize| {
            let ns = if i % 3 != 0 { format!("n{i}") } else { "\\N".into() };
            let nb = if i % 4 != 0 { (i % 3 == 1).to_string() } else { "\\N".into() };
            let iv = if i % 5 != 0 { i.to_string() } else { "\\N".into() };
            let l: Vec<String> = (0..i % 3).map(|j| (i * 10 + j).to_string()).collect();
            format!("s{i}\t{ns}\t{}\t{nb}\t{iv}\t[{}]\t({i},'y{i}')\t{:02}\t{}\n", i % 3 == 1, l.join(","), i, i * 101)
        })
        .collect();
    drop(&c, &t);
    assert_eq!(got, want);
}

/// What the server's own `ArrowStream` insert of `b` into a new table of `cols` stores (its TSV).
fn server_stores(c: &Client, cols: &str, b: &RecordBatch) -> clickhouse_connect::Result<String> {
    let t = tbl(c, "srv_ipc", cols);
    let mut ipc = Vec::new();
    let mut w = arrow_ipc::writer::StreamWriter::try_new(&mut ipc, &b.schema()).unwrap();
    w.write(b).unwrap();
    w.finish().unwrap();
    std::mem::drop(w);
    let stored = c.raw_insert(&t, &[], "ArrowStream", &ipc).map(|_| tsv(c, &format!("SELECT * FROM {t}")));
    drop(c, &t);
    stored
}

/// What the server says of a value and its column's type: `1` when the type holds the value exactly.
fn fits(c: &Client, check: &str) -> bool {
    match tsv(c, &format!("SELECT {check}")).trim() {
        "1" => true,
        "0" | "\\N" => false,
        other => panic!("{check}: {other}"),
    }
}

#[test]
fn insert_conversions_against_server_cast() {
    // Each Arrow array goes into its column when the column's type holds every value exactly (the
    // server's own comparison or accurate cast says so), stored as the server stores the same value;
    // else the insert is an Error::Mapping naming the column, and nothing is stored.
    let c = modern();
    let t = tbl(
        &c,
        "conv",
        "d2 Decimal(10, 2), dt DateTime('UTC'), u UInt64, i8 Int8, f Float32, d Date, st Tuple(a Int32, b Int32)",
    );
    let refused = |column: &str, r: clickhouse_connect::Result<clickhouse_connect::InsertSummary>| match r {
        Err(clickhouse_connect::Error::Mapping { column: Some(got), .. }) => assert_eq!(got, column),
        other => panic!("{column}: expected a mapping error, got {other:?}"),
    };
    let stored = |column: &str| {
        tsv(&c, &format!("SELECT {column} FROM {t} WHERE {column} != defaultValueOfArgumentType({column})"))
    };
    // 1.2345 does not fit Decimal(10, 2) (the server's cast would cut it to 1.23).
    assert!(!fits(&c, "CAST(toDecimal64('1.2345', 4), 'Decimal(10, 2)') = toDecimal64('1.2345', 4)"));
    let dec: ArrayRef = Arc::new(Decimal128Array::from(vec![12345i128]).with_precision_and_scale(10, 4).unwrap());
    // (A listed difference: the server's own Arrow insert stores it cut to 1.23.)
    assert_eq!(server_stores(&c, "d2 Decimal(10, 2)", &batch(vec![("d2", dec.clone())])).unwrap(), "1.23\n");
    refused("d2", c.insert_arrow(&t, &[batch(vec![("d2", dec)])]));
    let dec: ArrayRef = Arc::new(Decimal128Array::from(vec![12300i128]).with_precision_and_scale(10, 4).unwrap());
    c.insert_arrow(&t, &[batch(vec![("d2", dec)])]).unwrap();
    assert_eq!(stored("d2"), tsv(&c, "SELECT toDecimal64('1.23', 2)::Decimal(10, 2)"));
    // Half a second does not fit DateTime; a whole second does, whatever the array's zone.
    assert!(!fits(
        &c,
        "toDateTime(toDateTime64(1000000001.5, 3, 'UTC'), 'UTC') = toDateTime64(1000000001.5, 3, 'UTC')"
    ));
    let ts: ArrayRef =
        Arc::new(TimestampMillisecondArray::from(vec![1_000_000_001_500i64]).with_timezone("America/New_York"));
    // (A listed difference: the server's own Arrow insert drops the half second.)
    let cut = server_stores(&c, "dt DateTime('UTC')", &batch(vec![("dt", ts.clone())])).unwrap();
    assert_eq!(cut, tsv(&c, "SELECT toDateTime(1000000001, 'UTC')"));
    refused("dt", c.insert_arrow(&t, &[batch(vec![("dt", ts)])]));
    let ts: ArrayRef =
        Arc::new(TimestampMillisecondArray::from(vec![1_000_000_001_000i64]).with_timezone("America/New_York"));
    c.insert_arrow(&t, &[batch(vec![("dt", ts)])]).unwrap();
    assert_eq!(stored("dt"), tsv(&c, "SELECT toDateTime(1000000001, 'UTC')"));
    // Out of range: the server's accurate cast gives NULL.
    assert!(!fits(&c, "accurateCastOrNull(-1, 'UInt64') IS NOT NULL"));
    let neg = batch(vec![("u", Arc::new(Int64Array::from(vec![-1i64])) as ArrayRef)]);
    // (A listed difference: the server's own Arrow insert wraps it around.)
    assert_eq!(server_stores(&c, "u UInt64", &neg).unwrap(), "18446744073709551615\n");
    refused("u", c.insert_arrow(&t, &[neg]));
    assert!(!fits(&c, "accurateCastOrNull(300, 'Int8') IS NOT NULL"));
    refused("i8", c.insert_arrow(&t, &[batch(vec![("i8", Arc::new(Int64Array::from(vec![300i64])) as ArrayRef)])]));
    // Float16 1.5 and Date64 of three days fit Float32 and Date.
    let f16: ArrayRef = Arc::new(Float16Array::from(vec![<Float16Type as ArrowPrimitiveType>::Native::from_f32(1.5)]));
    c.insert_arrow(&t, &[batch(vec![("f", f16)])]).unwrap();
    assert_eq!(stored("f"), tsv(&c, "SELECT toFloat32(1.5)"));
    let d64: ArrayRef = Arc::new(Date64Array::from(vec![86_400_000i64 * 3]));
    c.insert_arrow(&t, &[batch(vec![("d", d64)])]).unwrap();
    assert_eq!(stored("d"), tsv(&c, "SELECT toDate(3)"));
    // NULL has no place in a UInt64 that is not Nullable (and has no DEFAULT).
    let nulls: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), None]));
    refused("u", c.insert_arrow(&t, &[batch(vec![("u", nulls)])]));
    refused("u", c.insert_arrow(&t, &[batch(vec![("u", Arc::new(NullArray::new(2)) as ArrayRef)])]));
    // Structs into Tuple(a Int32, b Int32), against the server's own ArrowStream insert of the same
    // batch: a missing field, an extra field, a NULL row.
    let missing: ArrayRef = Arc::new(StructArray::new(
        Fields::from(vec![Field::new("a", DataType::Int32, false)]),
        vec![Arc::new(Int32Array::from(vec![1]))],
        None,
    ));
    let extra: ArrayRef = Arc::new(StructArray::new(
        Fields::from(vec![
            Field::new("a", DataType::Int32, false),
            Field::new("b", DataType::Int32, false),
            Field::new("c", DataType::Int32, false),
        ]),
        vec![
            Arc::new(Int32Array::from(vec![1])),
            Arc::new(Int32Array::from(vec![2])),
            Arc::new(Int32Array::from(vec![3])),
        ],
        None,
    ));
    let null_row: ArrayRef = Arc::new(StructArray::new(
        Fields::from(vec![Field::new("a", DataType::Int32, false), Field::new("b", DataType::Int32, false)]),
        vec![Arc::new(Int32Array::from(vec![1, 2])), Arc::new(Int32Array::from(vec![2, 3]))],
        Some(vec![true, false].into()),
    ));
    for (what, st) in [("missing", missing), ("extra", extra), ("null row", null_row)] {
        let ours = tbl(&c, "st_ours", "st Tuple(a Int32, b Int32)");
        let b = batch(vec![("st", st)]);
        let server = server_stores(&c, "st Tuple(a Int32, b Int32)", &b);
        let r = c.insert_arrow(&ours, &[b]).map(|_| tsv(&c, &format!("SELECT * FROM {ours}")));
        drop(&c, &ours);
        match what {
            // The server ignores a field the tuple has not, and so do we.
            "extra" => assert_eq!(r.unwrap(), server.unwrap()),
            // Listed differences (src/arrow/mod.rs): the server stores the element's default for a
            // missing field or a NULL row; we refuse rather than invent a value.
            _ => {
                server.unwrap_or_else(|e| panic!("{what}: the server took it before: {e}"));
                match r {
                    Err(clickhouse_connect::Error::Mapping { column: Some(col), .. }) => assert_eq!(col, "st"),
                    other => panic!("{what}: {other:?}"),
                }
            }
        }
    }
    // Batches whose types differ (same names): each converted on its own; both values fit.
    let b1 = batch(vec![("u", Arc::new(UInt64Array::from(vec![5u64])) as ArrayRef)]);
    let b2 = batch(vec![("u", Arc::new(StringArray::from(vec!["6"])) as ArrayRef)]);
    c.insert_arrow(&t, &[b1, b2]).unwrap();
    // Everything the table holds: only what fitted, nothing of a refused insert.
    let all = tsv(&c, &format!("SELECT count(), sum(u) FROM {t}"));
    drop(&c, &t);
    assert_eq!(all.trim(), "6\t11");
}

#[test]
fn polars_categorical_and_nulls_insert() {
    use polars_core::prelude::*;
    let c = modern();
    let n = 50_000;
    let s = Series::new(
        "c".into(),
        (0..n).map(|i| if i % 7 == 0 { None } else { Some(["x", "y", "z"][i % 3]) }).collect::<Vec<_>>(),
    );
    let cat = s.cast(&DataType::from_categories(Categories::global())).unwrap();
    let df = DataFrame::new(n, vec![Column::from(cat)]).unwrap();
    let t = tbl(&c, "pcat", "c LowCardinality(Nullable(String))");
    let r = c.insert_df(&t, &df);
    let got = tsv(&c, &format!("SELECT count(), countIf(c IS NULL), countIf(c = 'y') FROM {t}"));
    drop(&c, &t);
    r.unwrap();
    let nulls = (0..n).filter(|i| i % 7 == 0).count();
    let ys = (0..n).filter(|i| i % 7 != 0 && i % 3 == 1).count();
    assert_eq!(got.trim(), format!("{n}\t{nulls}\t{ys}"));
}

#[test]
fn polars_multi_chunk_misaligned() {
    use polars_core::prelude::*;
    let c = modern();
    let mut a = Series::new("a".into(), &[1i64, 2, 3]);
    a.append(&Series::new("a".into(), &[4i64, 5, 6, 7])).unwrap();
    let mut b = Series::new("b".into(), &[Some("p"), None]);
    b.append(&Series::new("b".into(), &[Some("q"), Some("r"), None, Some(""), Some("s")])).unwrap();
    let df = DataFrame::new(7, vec![Column::from(a), Column::from(b)]).unwrap();
    let t = tbl(&c, "pmis", "a Int64, b Nullable(String)");
    c.insert_df(&t, &df.slice(1, 5)).unwrap();
    let got = tsv(&c, &format!("SELECT * FROM {t}"));
    drop(&c, &t);
    assert_eq!(got, "2\t\\N\n3\tq\n4\tr\n5\t\\N\n6\t\n");
}

#[test]
fn readonly_other_db_session_compression_legacy() {
    let c = modern();
    let mut o = options("CH_MODERN_URL");
    o.username = env("CH_READONLY_USER");
    let ro = Client::new(o).unwrap();
    let r = ro.query_arrow("SELECT number FROM numbers(3)");
    let t = tbl(&c, "ro", "a UInt8");
    let r2 = ro.insert_arrow(&t, &[batch(vec![("a", Arc::new(UInt8Array::from(vec![1u8])) as ArrayRef)])]);
    let n = tsv(&c, &format!("SELECT count() FROM {t}"));
    drop(&c, &t);
    assert_eq!(r.unwrap().iter().map(|b| b.num_rows()).sum::<usize>(), 3);
    // A readonly user may not insert: the server's own refusal (READONLY, 164), nothing stored.
    assert_eq!(r2.unwrap_err().server_code(), Some(164));
    assert_eq!(n.trim(), "0");
    // other database
    c.command("CREATE DATABASE IF NOT EXISTS adv18b_db").unwrap();
    c.command("CREATE TABLE IF NOT EXISTS adv18b_db.adv18b_t (a UInt8, s String) ENGINE = Memory").unwrap();
    let r = c.insert_arrow(
        "adv18b_db.adv18b_t",
        &[batch(vec![
            ("a", Arc::new(UInt8Array::from(vec![1u8])) as ArrayRef),
            ("s", Arc::new(StringArray::from(vec!["x"])) as ArrayRef),
        ])],
    );
    let got = tsv(&c, "SELECT * FROM adv18b_db.adv18b_t");
    c.command("DROP DATABASE adv18b_db").unwrap();
    r.unwrap();
    assert_eq!(got, "1\tx\n");
    // session temporary table
    let so = CallOptions::new().session(format!("adv18b_sess_{}", std::process::id()));
    c.command_with("CREATE TEMPORARY TABLE adv18b_tmp (a UInt8)", &so).unwrap();
    let r = c.insert_arrow_with(
        "adv18b_tmp",
        &[batch(vec![("a", Arc::new(UInt8Array::from(vec![7u8])) as ArrayRef)])],
        &so,
    );
    r.unwrap();
    let q = c.query_arrow_with("SELECT a FROM adv18b_tmp", &so, &ArrowOptions::new()).unwrap();
    assert_eq!(q[0].column(0).as_primitive::<UInt8Type>().values().to_vec(), vec![7u8]);
    // compression
    for comp in [clickhouse_connect::Compression::Lz4, clickhouse_connect::Compression::Zstd] {
        let mut o = options("CH_MODERN_URL");
        o.compression = comp;
        let cc = Client::new(o).unwrap();
        let b = cc
            .query_arrow_with(
                "SELECT number, toString(number) s FROM numbers(100000)",
                &CallOptions::new().setting("max_block_size", 7777),
                &ArrowOptions::new().batch_rows(10000),
            )
            .unwrap();
        assert_eq!(b.iter().map(|b| b.num_rows()).sum::<usize>(), 100000);
        let t = tbl(&c, "comp", "number UInt64, s String");
        cc.insert_arrow(&t, &b).unwrap();
        let got = tsv(&c, &format!("SELECT count(), sum(number), sum(toUInt64(s)) FROM {t}"));
        drop(&c, &t);
        assert_eq!(got.trim(), "100000\t4999950000\t4999950000");
    }
    // legacy 18.16
    let l = legacy();
    let sql = "SELECT number, toString(number) s, toDateTime(number) dt, toDecimal64(number, 3) d, [number] a, toLowCardinality(toString(number)) lc, CAST(NULL AS Nullable(UInt8)) n, toFixedString('ab', 2) f, toUUID('00112233-4455-6677-8899-aabbccddeeff') u FROM system.numbers LIMIT 5";
    let r = l.query_arrow(sql);
    let df = l.query_df(sql).unwrap();
    assert_eq!(df.shape(), (5, 9));
    l.command("DROP TABLE IF EXISTS adv18b_leg").unwrap();
    l.command_with("CREATE TABLE adv18b_leg (number UInt64, s String, dt DateTime, d Decimal64(3), a Array(UInt64), lc LowCardinality(String), n Nullable(UInt8), f FixedString(2), u UUID) ENGINE = Memory", &CallOptions::new().setting("allow_experimental_low_cardinality_type", 1)).unwrap();
    let ri = r.as_ref().map(|b| l.insert_arrow("adv18b_leg", b)).map_err(|e| e.to_string());
    let back = String::from_utf8(l.raw_query("SELECT * FROM adv18b_leg", Some("TSV")).unwrap()).unwrap();
    let want = String::from_utf8(l.raw_query(sql, Some("TSV")).unwrap()).unwrap();
    l.command("DROP TABLE adv18b_leg").unwrap();
    ri.unwrap().unwrap();
    assert_eq!(back, want);
}

#[test]
fn string_not_utf8_and_binary() {
    let c = modern();
    let sql = "SELECT unhex('ff00') s, toFixedString(unhex('ff'), 1) f";
    // Strings are Utf8 by default: bytes that are not UTF-8 are an error pointing to Binary.
    let e = c.query_arrow(sql).unwrap_err().to_string();
    assert!(e.contains("not UTF-8") && e.contains("use_strings"), "{e}");
    let b = c.query_arrow_with(sql, &CallOptions::default(), &ArrowOptions::new().use_strings(false)).unwrap();
    assert_eq!(b[0].column(0).as_binary::<i32>().value(0), &[0xff, 0]);
    let df = c.query_df_with(sql, &CallOptions::default(), &ArrowOptions::new().use_strings(false)).unwrap();
    let t = tbl(&c, "bin", "s String, f FixedString(1)");
    c.insert_df(&t, &df).unwrap();
    let got = tsv(&c, &format!("SELECT hex(s), hex(f) FROM {t}"));
    drop(&c, &t);
    assert_eq!(got, "FF00\tFF\n");
}

#[test]
fn odd_column_names_and_large_types() {
    let c = modern();
    let t = tbl(&c, "names", "a UInt8");
    let _ = t;
    let t2 = tbl(&c, "names2", "`a b` UInt8, `x``y` String, `ü.n` Array(String), fsl Array(Int16)");
    drop(&c, &t);
    let ls: ArrayRef = Arc::new(LargeStringArray::from(vec!["p", "", "qq", "r"]));
    let lb: ArrayRef = Arc::new(
        arrow_array::builder::GenericListBuilder::<i64, _>::new(arrow_array::builder::StringViewBuilder::new())
            .finish(),
    );
    let _ = lb;
    let mut lv = arrow_array::builder::LargeListBuilder::new(arrow_array::builder::StringViewBuilder::new());
    for i in 0..4 {
        for j in 0..i {
            lv.values().append_value(format!("v{i}{j} long enough to be out of line"));
        }
        lv.append(true);
    }
    let lv: ArrayRef = Arc::new(lv.finish());
    let fsl: ArrayRef = Arc::new(FixedSizeListArray::from_iter_primitive::<Int8Type, _, _>(
        (0..4).map(|i| Some(vec![Some(i as i8), Some(-1)])),
        2,
    ));
    let b = batch(vec![
        ("a b", Arc::new(UInt8Array::from(vec![1u8, 2, 3, 4])) as ArrayRef),
        ("x`y", ls),
        ("ü.n", lv),
        ("fsl", fsl),
    ])
    .slice(1, 3);
    let r = c.insert_arrow(&t2, &[b]);
    let got = tsv(&c, &format!("SELECT * FROM {t2}"));
    drop(&c, &t2);
    r.unwrap();
    assert_eq!(
        got,
        "2\t\t['v10 long enough to be out of line']\t[1,-1]\n3\tqq\t['v20 long enough to be out of line','v21 long enough to be out of line']\t[2,-1]\n4\tr\t['v30 long enough to be out of line','v31 long enough to be out of line','v32 long enough to be out of line']\t[3,-1]\n"
    );
}
