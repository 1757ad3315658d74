//! Arrow against the real server: for every type, the record batch we build from the Native result
//! equals what arrow-rs reads from the server's own `FORMAT ArrowStream` of the same rows (where our
//! mapping differs on purpose — `DateTime`, `Enum`, `BFloat16` — the server's output of the same
//! values converted in SQL to our mapping: `toDateTime64(c, 0)`, `toString(c)`, `toFloat32(c)`), and
//! `insert_arrow` of our batches stores the same rows again (EXCEPT both ways inside the server).

#![cfg(feature = "arrow")]

mod common;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, ListArray, MapArray, RecordBatch, StructArray};
use arrow_schema::{DataType, Field, Fields};
use clickhouse_connect::arrow::ArrowOptions;
use clickhouse_connect::{CallOptions, Client, Error};
use common::*;
use std::sync::Arc;

/// The array with every dictionary replaced by its values (dictionaries differ in their keys, not in
/// what they mean) and text as bytes (the server writes `Utf8` without checking it; we read with
/// `use_strings(false)` here, since generated strings are not UTF-8).
fn plain(a: &ArrayRef) -> ArrayRef {
    match a.data_type() {
        DataType::Utf8 => {
            let s = a.as_string::<i32>();
            Arc::new(arrow_array::BinaryArray::new(s.offsets().clone(), s.values().clone(), s.nulls().cloned()))
        }
        DataType::LargeUtf8 => {
            Arc::new(arrow_array::BinaryArray::from_iter(a.as_string::<i64>().iter().map(|v| v.map(str::as_bytes))))
        }
        DataType::LargeBinary => Arc::new(arrow_array::BinaryArray::from_iter(a.as_binary::<i64>().iter())),
        DataType::Dictionary(..) => {
            let d = a.as_any_dictionary();
            let taken = arrow_select::take::take(d.values().as_ref(), d.keys(), None).unwrap();
            plain(&taken)
        }
        DataType::List(f) => {
            let l = a.as_list::<i32>();
            let values = plain(l.values());
            let f = Arc::new(Field::new(f.name(), values.data_type().clone(), f.is_nullable()));
            Arc::new(ListArray::new(f, l.offsets().clone(), values, l.nulls().cloned()))
        }
        DataType::Struct(fields) => {
            let s = a.as_struct();
            let cols: Vec<ArrayRef> = s.columns().iter().map(plain).collect();
            let fields: Fields = fields
                .iter()
                .zip(&cols)
                .map(|(f, c)| Field::new(f.name(), c.data_type().clone(), f.is_nullable()))
                .collect();
            if cols.is_empty() {
                return a.clone();
            }
            Arc::new(StructArray::new(fields, cols, s.nulls().cloned()))
        }
        DataType::Map(f, sorted) => {
            let m = a.as_map();
            let entries = plain(&(Arc::new(m.entries().clone()) as ArrayRef));
            let f = Arc::new(Field::new(f.name(), entries.data_type().clone(), false));
            Arc::new(MapArray::new(f, m.offsets().clone(), entries.as_struct().clone(), m.nulls().cloned(), *sorted))
        }
        _ => a.clone(),
    }
}

fn server_arrow(c: &Client, sql: &str) -> Vec<RecordBatch> {
    let sql = format!(
        "{sql} SETTINGS output_format_arrow_compression_method = 'none', \
         output_format_arrow_low_cardinality_as_dictionary = 1, max_threads = 1, flatten_nested = 0"
    );
    let bytes = c.raw_query(&sql, Some("ArrowStream")).unwrap_or_else(|e| panic!("{sql}: {e}"));
    arrow_ipc::reader::StreamReader::try_new(std::io::Cursor::new(bytes), None)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

/// One column of all batches, concatenated and without dictionaries.
fn column(batches: &[RecordBatch], i: usize) -> ArrayRef {
    let arrays: Vec<ArrayRef> = batches.iter().map(|b| plain(b.column(i))).collect();
    let refs: Vec<&dyn Array> = arrays.iter().map(|a| a.as_ref()).collect();
    arrow_select::concat::concat(&refs).unwrap()
}

/// How the server writes the same values as we map them: the SQL that converts column `c`.
fn server_expr(t: &str) -> &'static str {
    let base = t.strip_prefix("Nullable(").unwrap_or(t);
    if base.starts_with("DateTime(") || base == "DateTime" || base.starts_with("DateTime)") {
        "toDateTime64(c, 0)"
    } else if base.starts_with("Enum") {
        "toString(c)"
    } else if base.starts_with("BFloat16") {
        "toFloat32(c)"
    } else {
        "c"
    }
}

const EXTRA: &[&str] = &[
    "BFloat16",
    "Nullable(DateTime('Asia/Kolkata'))",
    "Nullable(Enum8('a' = 1, 'b' = 2))",
    "DateTime64(2, 'UTC')",
    "DateTime64(5)",
    "Decimal(38, 38)",
    "Decimal(76, 10)",
    "Array(Nullable(UInt128))",
    "Map(String, Nullable(Float32))",
    "Nullable(Tuple(a UInt8, b Nullable(String)))",
    "Array(Tuple(a UInt8, b String))",
];

#[test]
fn every_type_maps_as_the_server_writes_arrow_and_inserts_back() {
    let c = modern();
    let settings = "SETTINGS allow_suspicious_low_cardinality_types = 1, flatten_nested = 0";
    let mut checked = 0;
    // `Nested` is left out: 26.9 cannot INSERT … SELECT it from generateRandom ("Not found column");
    // what it is stored as, an array of named tuples, is in EXTRA.
    let types: Vec<&str> = TYPES.iter().chain(EXTRA).copied().filter(|t| !t.starts_with("Nested")).collect();
    for (i, t) in types.iter().enumerate() {
        let (src, dst) = (table("arrow_src"), table("arrow_dst"));
        for tb in [&src, &dst] {
            c.command(&format!("CREATE TABLE {tb} (id UInt32, c {t}) ENGINE = Memory {settings}")).unwrap();
        }
        let structure = structure(&[t], true).replace("c0 ", "c ");
        let fill = if *t == "BFloat16" {
            // generateRandom has no BFloat16: values of every sign and magnitude from the server's own
            // conversion.
            format!(
                "INSERT INTO {src} SELECT number, toBFloat16(reinterpretAsFloat32(toUInt32(cityHash64(number)))) FROM numbers(700) WHERE NOT isNaN(reinterpretAsFloat32(toUInt32(cityHash64(number))))"
            )
        } else {
            format!(
                "INSERT INTO {src} SELECT rowNumberInAllBlocks(), * FROM generateRandom('{structure}', {}, 10, 3) LIMIT 700 {settings}",
                40 + i
            )
        };
        c.command(&fill).unwrap_or_else(|e| panic!("{t}: {e}"));
        let rows = c.command(&format!("SELECT count() FROM {src}")).unwrap();
        let opts = CallOptions::new().setting("max_threads", 1).setting("flatten_nested", 0);
        let ours = c
            .query_arrow_with(
                &format!("SELECT id, c FROM {src} ORDER BY id"),
                &opts,
                &ArrowOptions::new().use_strings(false),
            )
            .unwrap_or_else(|e| panic!("{t}: {e}"));
        let server = server_arrow(&c, &format!("SELECT id, {} AS c FROM {src} ORDER BY id", server_expr(t)));
        let (a, b) = (column(&ours, 1), column(&server, 1));
        assert_eq!(a.data_type(), b.data_type(), "{t}: types differ");
        if a.to_data() != b.to_data() {
            for row in 0..a.len() {
                let (x, y) = (a.slice(row, 1), b.slice(row, 1));
                assert_eq!(x.to_data(), y.to_data(), "{t}: row {row} differs: ours {x:?} server {y:?}");
            }
        }
        assert_eq!(ours[0].schema().field(1).is_nullable(), server[0].schema().field(1).is_nullable(), "{t}");
        assert_eq!(
            ours[0].schema().field(1).metadata().get("ARROW:extension:name"),
            server[0].schema().field(1).metadata().get("ARROW:extension:name"),
            "{t}"
        );
        // Our batches go back in as the same rows.
        let summary = c.insert_arrow(&dst, &ours).unwrap_or_else(|e| panic!("{t}: insert_arrow: {e}"));
        assert_eq!(rows, summary.rows.to_string().as_str(), "{t}");
        for (x, y) in [(&src, &dst), (&dst, &src)] {
            let diff = c.command(&format!("SELECT count() FROM (SELECT * FROM {x} EXCEPT SELECT * FROM {y})")).unwrap();
            assert_eq!(diff, "0", "{t}: rows of {x} missing from {y}");
        }
        for tb in [&src, &dst] {
            c.command(&format!("DROP TABLE {tb}")).unwrap();
        }
        checked += 1;
    }
    assert_eq!(checked, types.len());
}

#[test]
fn strings_are_checked_utf8_by_default_and_binary_on_request() {
    let c = modern();
    let batches = c.query_arrow("SELECT 'é' s, unhex('ff') b").unwrap_err();
    match batches {
        Error::Usage(m) => assert!(m.contains("not UTF-8") && m.contains("use_strings"), "{m}"),
        e => panic!("{e:?}"),
    }
    let b = c
        .query_arrow_with("SELECT 'é' s, unhex('ff') b", &CallOptions::new(), &ArrowOptions::new().use_strings(false))
        .unwrap();
    assert_eq!(b[0].column(1).as_binary::<i32>().value(0), [0xff]);
    assert_eq!(b[0].schema().field(0).data_type(), &DataType::Binary);
}

#[test]
fn large_strings_hold_the_server_rows_and_insert_back() {
    let c = modern();
    let sql = "SELECT toString(number) s, if(number % 3 = 0, NULL, repeat('é', number % 7)) n, \
               [toString(number), ''] a, concat('b', hex(number)) b FROM numbers(5000)";
    let theirs = server_arrow(&c, sql);
    for use_strings in [true, false] {
        let arrow = ArrowOptions::new().large_strings(true).use_strings(use_strings);
        let ours = c.query_arrow_with(sql, &CallOptions::new(), &arrow).unwrap();
        let large = if use_strings { DataType::LargeUtf8 } else { DataType::LargeBinary };
        assert_eq!(ours[0].schema().field(0).data_type(), &large);
        assert!(matches!(ours[0].schema().field(2).data_type(), DataType::List(f) if f.data_type() == &large));
        for i in 0..4 {
            assert_eq!(&column(&ours, i), &column(&theirs, i), "column {i}, use_strings {use_strings}");
        }
        let t = table("arrow_large");
        c.command(&format!(
            "CREATE TABLE {t} (s String, n Nullable(String), a Array(String), b String) ENGINE = Memory"
        ))
        .unwrap();
        c.insert_arrow(&t, &ours).unwrap();
        for (x, y) in [(format!("SELECT * FROM {t}"), sql.to_string()), (sql.to_string(), format!("SELECT * FROM {t}"))]
        {
            assert_eq!(c.command(&format!("SELECT count() FROM ({x} EXCEPT {y})")).unwrap(), "0");
        }
        c.command(&format!("DROP TABLE {t}")).unwrap();
    }
}

#[test]
fn insert_arrow_of_columns_taken_as_they_are_streams_every_block() {
    // Batches whose columns need no conversion are encoded block by block into the inserter's buffer
    // (several blocks of 2^20 rows here): every row arrives, in order, as the server counts them.
    use arrow_array::{LargeStringArray, UInt64Array};
    let c = modern();
    let t = table("arrow_direct");
    c.command(&format!("CREATE TABLE {t} (id UInt64, s String) ENGINE = MergeTree ORDER BY id")).unwrap();
    let rows = 2_500_000u64;
    let half = (rows / 2) as usize;
    let batch = |from: u64, n: usize| {
        RecordBatch::try_from_iter([
            ("id", Arc::new(UInt64Array::from_iter_values(from..from + n as u64)) as ArrayRef),
            (
                "s",
                Arc::new(LargeStringArray::from_iter_values((from..from + n as u64).map(|i| i.to_string())))
                    as ArrayRef,
            ),
        ])
        .unwrap()
    };
    let summary = c.insert_arrow(&t, &[batch(0, half), batch(half as u64, rows as usize - half)]).unwrap();
    assert_eq!(summary.rows, rows);
    let server = c
        .command(&format!(
            "SELECT (SELECT (count(), sum(cityHash64(id, s))) FROM {t}) = \
             (SELECT (count(), sum(cityHash64(number, toString(number)))) FROM numbers({rows}))"
        ))
        .unwrap();
    assert_eq!(server, "1");
    c.command(&format!("DROP TABLE {t}")).unwrap();
}

#[test]
fn types_without_a_mapping_are_refused_by_name() {
    let c = modern();
    let e = c.query_arrow("SELECT 1::Dynamic d SETTINGS allow_experimental_dynamic_type = 1").unwrap_err();
    assert!(matches!(&e, Error::UnsupportedType(m) if m.contains("Dynamic") && m.contains("toString")), "{e:?}");
}

#[test]
fn batches_are_rechunked_and_streamed() {
    let c = Arc::new(modern());
    let opts = CallOptions::new().setting("max_block_size", 1000);
    let batches = c
        .query_arrow_with(
            "SELECT number, toString(number) s FROM numbers(10500)",
            &opts,
            &ArrowOptions::new().batch_rows(4096),
        )
        .unwrap();
    let sizes: Vec<usize> = batches.iter().map(|b| b.num_rows()).collect();
    assert_eq!(sizes, vec![4096, 4096, 2308]);
    let all = column(&batches, 0);
    let n = all.as_primitive::<arrow_array::types::UInt64Type>();
    assert!(n.values().iter().enumerate().all(|(i, &v)| v == i as u64));
    // The server sends no block for an empty result: no batch.
    let empty = c.query_arrow("SELECT number FROM numbers(10) WHERE number > 100").unwrap();
    assert_eq!(empty.iter().map(|b| b.num_rows()).sum::<usize>(), 0);
    let mut rows = 0;
    for b in c
        .query_arrow_stream("SELECT number FROM numbers(200000)", &opts, &ArrowOptions::new().batch_rows(30000))
        .unwrap()
    {
        let b = b.unwrap();
        assert!(b.num_rows() == 30000 || rows + b.num_rows() == 200000);
        rows += b.num_rows();
    }
    assert_eq!(rows, 200000);
}

#[test]
fn insert_arrow_converts_to_the_column_types_and_names_bad_rows() {
    use arrow_array::{Int64Array, StringArray, TimestampMillisecondArray};
    let c = modern();
    let t = table("arrow_conv");
    c.command(&format!(
        "CREATE TABLE {t} (id UInt32, d Date, ts DateTime64(3, 'UTC'), dec Decimal(10, 2), e Enum8('a' = 1, 'b' = 2), \
         n Nullable(UInt8)) ENGINE = Memory"
    ))
    .unwrap();
    let batch = |ids: Vec<i64>, d: Vec<&str>, e: Vec<&str>| {
        let len = ids.len();
        RecordBatch::try_from_iter([
            ("id", Arc::new(Int64Array::from(ids)) as ArrayRef),
            ("d", Arc::new(StringArray::from(d)) as ArrayRef),
            (
                "ts",
                Arc::new(TimestampMillisecondArray::from(vec![1_700_000_000_123i64; len]).with_timezone("UTC"))
                    as ArrayRef,
            ),
            ("dec", Arc::new(StringArray::from(vec!["12.5"; len])) as ArrayRef),
            ("e", Arc::new(StringArray::from(e)) as ArrayRef),
            (
                "n",
                Arc::new(Int64Array::from(vec![None, Some(7)].into_iter().cycle().take(len).collect::<Vec<_>>()))
                    as ArrayRef,
            ),
        ])
        .unwrap()
    };
    c.insert_arrow(&t, &[batch(vec![1, 2], vec!["2024-02-29", "2000-01-01"], vec!["a", "b"])]).unwrap();
    assert_eq!(
        c.command(&format!("SELECT groupArray((id, d, ts, dec, e, n)) FROM (SELECT * FROM {t} ORDER BY id)")).unwrap(),
        "[(1,'2024-02-29','2023-11-14 22:13:20.123',12.5,'a',NULL),(2,'2000-01-01','2023-11-14 22:13:20.123',12.5,'b',7)]"
    );
    // Row 3 of the insert (the second batch's first) has an id out of range for UInt32.
    let e = c
        .insert_arrow(
            &t,
            &[
                batch(vec![3, 4], vec!["2024-01-01", "2024-01-02"], vec!["a", "a"]),
                batch(vec![1 << 40, 6], vec!["2024-01-01", "2024-01-02"], vec!["a", "b"]),
            ],
        )
        .unwrap_err();
    match e {
        Error::Mapping { row, column, column_type, message } => {
            assert_eq!((row, column.as_deref(), column_type.as_deref()), (3, Some("id"), Some("UInt32")), "{message}");
        }
        e => panic!("{e:?}"),
    }
    // Nothing of that insert was stored: batches are converted before anything is sent.
    assert_eq!(c.command(&format!("SELECT count() FROM {t}")).unwrap(), "2");
    let e = c.insert_arrow(&t, &[batch(vec![9], vec!["not a date"], vec!["a"])]).unwrap_err();
    assert!(matches!(&e, Error::Mapping { column: Some(c), .. } if c == "d"), "{e:?}");
}
