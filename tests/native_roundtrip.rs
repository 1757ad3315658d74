//! The codec against the real server: what the server sends decodes to what it renders, regardless of
//! how the bytes are split; what we encode comes back unchanged; exceptions after data are errors.

mod common;
#[path = "common/drivers.rs"]
mod drivers;

use clickhouse_connect::native::{ArrayBuilder, BlockDecoder, FixedBuilder, NullableBuilder, StringBuilder};
use clickhouse_connect::{Error, Value};
use common::*;

const SQL: &str = "SELECT number, toString(number) AS s, toInt32(toInt64(number) - 5000) AS i, \
    if(number % 3 = 0, NULL, number * 2) AS n, range(number % 4) AS a, toFloat64(number) / 7 AS f, \
    toFixedString(toString(number % 10), 1) AS fs, (number, toString(number)) AS t, \
    map(toString(number % 3), number) AS m FROM numbers(10000)";

fn decode_rows(bytes: &[u8], split: impl Fn(usize) -> usize) -> Vec<Vec<Value<'static>>> {
    let mut d = BlockDecoder::new();
    let mut rows = Vec::new();
    let mut pos = 0;
    let mut i = 0;
    while pos < bytes.len() {
        let n = split(i).clamp(1, bytes.len() - pos);
        let mut chunk = &bytes[pos..pos + n];
        while let Some(b) = d.feed(&mut chunk).unwrap() {
            for r in 0..b.rows() {
                rows.push(b.row(r).into_iter().map(Value::into_owned).collect());
            }
        }
        pos += n;
        i += 1;
    }
    d.finish().unwrap();
    rows
}

#[test]
fn server_native_decodes_identically_for_any_chunking() {
    for c in drivers::Driver::both("CH_MODERN_URL") {
        let c = &c;
        let bytes = c.raw_query(SQL, Some("Native")).unwrap();
        let whole = decode_rows(&bytes, |_| usize::MAX);
        assert_eq!(whole.len(), 10000);
        let r = &whole[7];
        assert_eq!(r[0], Value::UInt64(7));
        assert_eq!(r[1].as_str(), Some("7"));
        assert_eq!(r[2], Value::Int32(7 - 5000));
        assert_eq!(r[3], Value::UInt64(14));
        assert_eq!(whole[6][3], Value::Null);
        assert_eq!(r[4], Value::Array(vec![Value::UInt8(0), Value::UInt8(1), Value::UInt8(2)]));
        assert_eq!(r[5], Value::Float64(7.0 / 7.0));
        assert_eq!(r[6].as_bytes(), Some(&b"7"[..]));
        assert_eq!(r[7], Value::Tuple(vec![Value::UInt64(7), Value::String(b"7".to_vec().into())]));
        assert_eq!(r[8], Value::Map(vec![(Value::String(b"1".to_vec().into()), Value::UInt64(7))]));

        assert_eq!(decode_rows(&bytes, |_| 1), whole, "byte by byte");
        let mut seed = 0x9e3779b97f4a7c15u64;
        let splits: Vec<usize> = (0..bytes.len())
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                1 + (seed % 5000) as usize
            })
            .collect();
        assert_eq!(decode_rows(&bytes, |i| splits[i % splits.len()]), whole, "random splits");
    }
}

#[test]
fn query_matches_server_text_rendering() {
    for c in drivers::Driver::both("CH_MODERN_URL") {
        let c = &c;
        let sql = "SELECT toUInt64(number * 7919 % 1000003) AS x, toString(x) FROM numbers(50000)";
        let tsv = String::from_utf8(c.raw_query(sql, Some("TabSeparated")).unwrap()).unwrap();
        let result = c.query(sql).unwrap();
        assert_eq!(result.column_names, vec!["x", "toString(x)"]);
        assert_eq!(result.column_type_names, vec!["UInt64", "String"]);
        assert_eq!(
            result.column_types,
            vec![clickhouse_connect::native::TypeDesc::UInt64, clickhouse_connect::native::TypeDesc::String]
        );
        let mut n = 0;
        for (line, row) in tsv.lines().zip(&result.rows) {
            let (a, b) = line.split_once('\t').unwrap();
            assert_eq!(row[0].as_u64().unwrap().to_string(), a);
            assert_eq!(row[1].as_str().unwrap(), b);
            n += 1;
        }
        assert_eq!(n, 50000);
        assert_eq!(result.rows.len(), 50000);
    }
}

fn roundtrip(c: &clickhouse_connect::Client) {
    let t = table("rt");
    c.command(&format!(
        "CREATE TABLE {t} (id UInt64, name String, score Nullable(Float64), tags Array(String)) ENGINE = Memory"
    ))
    .unwrap();
    let mut id = FixedBuilder::<u64>::new("UInt64");
    let mut name = StringBuilder::new();
    let mut score = NullableBuilder::new(FixedBuilder::<f64>::new("Float64"));
    let mut tags = ArrayBuilder::new(StringBuilder::new());
    let names = ["plain", "quote ' and \\ backslash", "tab\tnewline\n", "ünïcødé", ""];
    for i in 0..1000u64 {
        id.push(i);
        name.push(names[i as usize % names.len()]);
        if i % 4 == 0 {
            score.push_null(|b| b.push(0.0));
        } else {
            score.push_with(|b| b.push(i as f64 / 3.0));
        }
        tags.push_with(|b| {
            for k in 0..(i % 3) {
                b.push(format!("t{k}"));
            }
        });
    }
    c.insert_block(&t, &[("id", &id), ("name", &name), ("score", &score), ("tags", &tags)]).unwrap();
    let r = c.query(&format!("SELECT id, name, score, tags FROM {t} ORDER BY id")).unwrap();
    assert_eq!(r.rows.len(), 1000);
    for (i, row) in r.rows.iter().enumerate() {
        assert_eq!(row[0], Value::UInt64(i as u64));
        assert_eq!(row[1].as_bytes().unwrap(), names[i % names.len()].as_bytes());
        if i % 4 == 0 {
            assert_eq!(row[2], Value::Null);
        } else {
            assert_eq!(row[2], Value::Float64(i as f64 / 3.0));
        }
        let want: Vec<Value> = (0..(i % 3)).map(|k| Value::String(format!("t{k}").into_bytes().into())).collect();
        assert_eq!(row[3], Value::Array(want));
    }
    // The server agrees on what it stored.
    assert_eq!(c.command(&format!("SELECT countIf(score IS NULL), sum(length(tags)) FROM {t}")).unwrap(), "250\t999");
    c.command(&format!("DROP TABLE {t}")).unwrap();
}

#[test]
fn encoded_blocks_round_trip_on_modern() {
    roundtrip(&modern());
}

#[test]
fn encoded_blocks_round_trip_on_legacy() {
    roundtrip(&legacy());
}

#[test]
fn exception_after_data_started_is_an_error_not_a_short_result() {
    for c in drivers::Driver::both("CH_MODERN_URL") {
        let c = &c;
        let e = c
            .count_blocks_with(
                "SELECT number, throwIf(number = 3000000, 'boom') FROM numbers(5000000)",
                &clickhouse_connect::CallOptions::new(),
            )
            .unwrap_err();
        match &e {
            Error::Server { code: 395, message, .. } => assert!(message.contains("boom"), "{message}"),
            other => panic!("{}: expected Code 395, got {other:?}", c.name()),
        }
    }
}

#[test]
fn unsupported_types_fail_with_a_clear_error() {
    // Aggregate states of a function whose state layout the codec does not know, and the empty tuple.
    for c in drivers::Driver::both("CH_MODERN_URL") {
        let e = c.query("SELECT uniqCombinedState(number) AS u FROM numbers(3)").unwrap_err();
        assert!(e.to_string().contains("AggregateFunction(uniqCombined"), "{}: {e}", c.name());
        assert!(e.to_string().contains("cannot decode"), "{}: {e}", c.name());
        let e = c.query("SELECT tuple() AS t").unwrap_err();
        assert!(e.to_string().contains("Tuple()"), "{}: {e}", c.name());
    }
}

#[test]
fn low_cardinality_matches_the_server() {
    for c in drivers::Driver::both("CH_MODERN_URL") {
        let c = &c;
        let sql = "SELECT toLowCardinality(toString(number % 7)) AS a, \
            toLowCardinality(if(number % 3 = 0, NULL, toString(number % 5))) AS b, \
            [toLowCardinality(toString(number % 2))] AS c, \
            map(toLowCardinality(toString(number % 3)), number) AS d, \
            toLowCardinality(toFixedString(toString(number % 4), 2)) AS e, toLowCardinality(number % 300) AS f \
            FROM numbers(100000)";
        let tsv = String::from_utf8(c.raw_query(sql, Some("TabSeparated")).unwrap()).unwrap();
        let r = c.query(sql).unwrap();
        assert_eq!(r.rows.len(), 100000);
        let show = |v: &Value| match v {
            Value::Null => "\\N".to_string(),
            Value::String(s) | Value::FixedString(s) => String::from_utf8_lossy(s).replace('\0', "\\0"),
            Value::UInt16(x) => x.to_string(),
            Value::Array(a) => {
                format!("[{}]", a.iter().map(|x| format!("'{}'", x.as_str().unwrap())).collect::<Vec<_>>().join(","))
            }
            Value::Map(m) => format!(
                "{{{}}}",
                m.iter()
                    .map(|(k, v)| format!("'{}':{}", k.as_str().unwrap(), v.as_u64().unwrap()))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            other => panic!("{other:?}"),
        };
        for (line, row) in tsv.lines().zip(&r.rows) {
            let ours: Vec<String> = row.iter().map(show).collect();
            assert_eq!(ours.join("\t"), line);
        }
        // Chunking: byte-by-byte gives the same.
        let bytes = c.raw_query(sql, Some("Native")).unwrap();
        let whole = decode_rows(&bytes, |_| usize::MAX);
        assert_eq!(decode_rows(&bytes, |_| 1), whole);
    }
}

#[test]
fn low_cardinality_large_dictionaries() {
    // 100,000-key dictionaries with UInt32 indexes. (26.9 writes one dictionary part per block over
    // HTTP even with a small low_cardinality_max_dictionary_size; multi-part columns are covered by the
    // unit tests in columns/low_cardinality.rs.)
    let c = modern();
    let sql = "SELECT toLowCardinality(toString(number)) AS s, toLowCardinality(if(number % 2 = 0, NULL, toString(number))) AS n \
        FROM numbers(200000) SETTINGS low_cardinality_max_dictionary_size = 1000, max_block_size = 100000";
    let r = c.query(sql).unwrap();
    assert_eq!(r.rows.len(), 200000);
    for (i, row) in r.rows.iter().enumerate() {
        assert_eq!(row[0].as_str().unwrap(), i.to_string());
        if i % 2 == 0 {
            assert_eq!(row[1], Value::Null);
        } else {
            assert_eq!(row[1].as_str().unwrap(), i.to_string());
        }
    }
}

#[test]
fn new_types_for_a_readonly_user_in_another_database_and_a_session() {
    // A readonly user reading Variant, Dynamic, JSON, QBit and aggregate states from a table in another
    // database, in a session, with frame compression: every value renders as the server renders it for
    // that user.
    use clickhouse_connect::format::TextRenderer;
    use clickhouse_connect::{CallOptions, Client, Compression};
    let c = modern();
    let db = table("db17");
    c.command(&format!("CREATE DATABASE {db}")).unwrap();
    c.command(&format!(
        "CREATE TABLE {db}.t (v Variant(String, UInt64), d Dynamic, j JSON(max_dynamic_paths = 1), q QBit(Float32, 3), \
         s AggregateFunction(groupArray, String)) ENGINE = Memory"
    ))
    .unwrap();
    c.command(&format!(
        "INSERT INTO {db}.t SELECT if(n % 2 = 0, toString(n)::Variant(String), toUInt64(n)::Variant(UInt64)), [n]::Dynamic, \
         concat('{{\"a\":', toString(n), ',\"b\":\"x\"}}'), [1, n, -1], s FROM (SELECT number % 10 AS n, \
         groupArrayState(toString(number)) AS s FROM numbers(100) GROUP BY n)"
    ))
    .unwrap();
    let mut o = common::options("CH_MODERN_URL");
    o.username = common::env("CH_READONLY_USER");
    o.compression = Compression::Lz4;
    let ro = Client::new(o).unwrap();
    let opts = CallOptions::new().database(&db).session(table("s17"));
    let sql = "SELECT * FROM t ORDER BY toString(v)";
    let r = ro.query_with(sql, &opts).unwrap();
    let tsv = ro.raw_query_with(sql, Some("TabSeparated"), &opts).unwrap();
    let mut renderer = TextRenderer::new(ro.server_timezone());
    let mut ours = Vec::new();
    for row in &r.rows {
        for (i, (v, t)) in row.iter().zip(&r.column_types).enumerate() {
            if i > 0 {
                ours.push(b'\t');
            }
            renderer.write_tsv(&mut ours, v, t);
        }
        ours.push(b'\n');
    }
    assert_eq!(r.rows.len(), 10);
    assert_eq!(String::from_utf8_lossy(&ours), String::from_utf8_lossy(&tsv));
    c.command(&format!("DROP DATABASE {db}")).unwrap();
}
