//! Differential test: random rows from the real 26.9 server's `generateRandom`, fetched as Native and
//! decoded by our codec, must render exactly as the server's own `TabSeparated` output (value by value)
//! and `JSONEachRow` output (row by row) of the same query (same seed). Types `generateRandom` cannot make are covered by expressions.
//! The async client decodes the same rows (in many small blocks, so that columns given back by dropped
//! blocks are reused) into the same values.

mod common;
#[path = "common/drivers.rs"]
mod drivers;

use clickhouse_connect::format::TextRenderer;
use clickhouse_connect::native::TypeDesc;
use common::*;

fn compare(sql: &str) -> usize {
    let c = modern();
    let tsv = c.raw_query(sql, Some("TabSeparated")).unwrap();
    let result = c.query(sql).unwrap();
    let types: Vec<TypeDesc> = result.column_type_names.iter().map(|t| TypeDesc::parse(t).unwrap()).collect();
    assert_eq!(types, result.column_types);
    let mut r = TextRenderer::new(c.server_timezone());
    let lines: Vec<&[u8]> = tsv.strip_suffix(b"\n").unwrap_or(&tsv).split(|b| *b == b'\n').collect();
    assert_eq!(lines.len(), result.rows.len(), "{sql}");
    let mut values = 0;
    let mut mismatches = Vec::new();
    for (line, row) in lines.iter().zip(&result.rows) {
        for ((field, v), (t, name)) in
            line.split(|b| *b == b'\t').zip(row).zip(types.iter().zip(&result.column_type_names))
        {
            let mut ours = Vec::new();
            r.write_tsv(&mut ours, v, t);
            values += 1;
            if ours != field && mismatches.len() < 10 {
                mismatches.push(format!(
                    "{name}: server {:?} ours {:?} (value {v:?})",
                    String::from_utf8_lossy(field),
                    String::from_utf8_lossy(&ours)
                ));
            }
        }
    }
    assert!(mismatches.is_empty(), "{sql}\n{}", mismatches.join("\n"));

    // The same rows against the server's JSONEachRow, line by line.
    let json = c.raw_query(sql, Some("JSONEachRow")).unwrap();
    let names: Vec<&str> = result.column_names.iter().map(String::as_str).collect();
    let lines: Vec<&[u8]> = json.strip_suffix(b"\n").unwrap_or(&json).split(|b| *b == b'\n').collect();
    assert_eq!(lines.len(), result.rows.len(), "{sql}");
    let mut bad = Vec::new();
    for (line, row) in lines.iter().zip(&result.rows) {
        let mut ours = Vec::new();
        r.write_json_row(&mut ours, &names, row, &types);
        if ours != *line && bad.len() < 3 {
            bad.push(format!("server {}\nours   {}", String::from_utf8_lossy(line), String::from_utf8_lossy(&ours)));
        }
    }
    assert!(bad.is_empty(), "JSONEachRow: {sql}\n{}", bad.join("\n"));

    // The async client (blocks decoded on its I/O thread, columns of dropped blocks reused): the same
    // text as the server's.
    static ASYNC: std::sync::OnceLock<(tokio::runtime::Runtime, clickhouse_connect::AsyncClient)> =
        std::sync::OnceLock::new();
    let (rt, a) = ASYNC.get_or_init(|| {
        let rt = drivers::runtime();
        let a = rt.block_on(clickhouse_connect::AsyncClient::from_url(&env("CH_MODERN_URL"))).unwrap();
        (rt, a)
    });
    let theirs = rt.block_on(a.query(sql)).unwrap();
    assert_eq!(theirs.column_type_names, result.column_type_names, "{sql}");
    let mut text = Vec::new();
    for row in &theirs.rows {
        for (i, (v, t)) in row.iter().zip(&types).enumerate() {
            if i > 0 {
                text.push(b'\t');
            }
            r.write_tsv(&mut text, v, t);
        }
        text.push(b'\n');
    }
    if text != tsv {
        let at = text.iter().zip(&tsv).position(|(x, y)| x != y).unwrap_or(0);
        panic!(
            "async: ours {:?} server {:?} at byte {at}: {sql}",
            String::from_utf8_lossy(&text[at.saturating_sub(40)..(at + 40).min(text.len())]),
            String::from_utf8_lossy(&tsv[at.saturating_sub(40)..(at + 40).min(tsv.len())])
        );
    }
    values
}

#[test]
fn generate_random_matches_server_rendering_for_every_type() {
    let mut total = 0;
    for (i, group) in TYPES.chunks(6).enumerate() {
        let structure = structure(group, true);
        for seed in [1u64, 42, 9_876_543_210] {
            let sql = format!(
                "SELECT * FROM generateRandom('{structure}', {}, 12, 4) LIMIT 2000 \
                 SETTINGS allow_suspicious_low_cardinality_types = 1",
                seed + i as u64
            );
            total += compare(&sql);
        }
    }
    eprintln!("compared {total} values");
    assert!(total > 100_000);
}

#[test]
fn floats_of_every_shape_match_server_rendering() {
    // Random bit patterns (NaNs, infinities, subnormals included), every power of two, decimal fractions
    // and large integers near 2^53..2^70 (where two shortest candidates can tie) in both widths.
    let sql = "SELECT reinterpretAsFloat64(sipHash64(number)) AS f64_bits, \
        reinterpretAsFloat32(toUInt32(sipHash64(number, 1) % 4294967296)) AS f32_bits, \
        pow(2, toInt64(number % 2100) - 1075) AS powers, number / 1000 AS thousandths, number * 0.1 AS tenths, \
        toFloat32(number) / 10 AS f32_tenths, toFloat64(number * 1000003) * exp2(number % 20) AS big, \
        toFloat32(number * 1000003) * 1024 AS f32_big, (number + 0.5) * 1e-5 AS halves, \
        toFloat32(pow(2, toInt64(number % 300) - 150)) AS f32_powers FROM numbers(100000)";
    assert_eq!(compare(sql), 1_000_000);
}

#[test]
fn date_times_across_zone_transitions_match_server_rendering() {
    // Runs of instants through years of DST and historical changes, several zones in each row (the
    // renderer keeps each zone's offset between two transitions), ascending and descending.
    let sql = "SELECT toDateTime(1500000000 + number * 1799, 'America/New_York') a, \
        toDateTime(number * 86399 * 7, 'Europe/Moscow') b, toDateTime(1600000000 - number * 3600, 'Australia/Lord_Howe') c, \
        [toDateTime(number * 3599, 'Asia/Kolkata'), toDateTime(2000000000 + number * 1801, 'Europe/Dublin')] d, \
        toDateTime64(1500000000.5 + number * 1799, 1, 'America/Santiago') e, toDateTime(1700000000 + number) f, \
        toDateTime64(-2000000000 + number * 7200, 0, 'Europe/Paris') g FROM numbers(60000)";
    assert_eq!(compare(sql), 420_000);
}

#[test]
fn expression_only_types_match_server_rendering() {
    // generateRandom cannot make these; expressions over numbers() cover their ranges.
    let sql = "SELECT toBFloat16(number * 1.37 - 50000), toTime(toInt64(number * 97) - 500000), \
        toTime64((toInt64(number) * 9973 - 1000000) / 7, 3), toTime64(-0.25, 2), toIntervalSecond(number), \
        toIntervalMonth(-number), toFloat32(number) / 3, CAST(number % 2 AS Bool), number * 1e300, number * 1e-310, \
        toDecimal256(number, 30) / 7, NULL AS nothing, [] AS no_elements, [NULL] AS null_elements, SimpleAggregateFunction_val FROM numbers(20000) \
        ARRAY JOIN [CAST(number AS SimpleAggregateFunction(sum, UInt64))] AS SimpleAggregateFunction_val";
    assert!(compare(sql) > 100_000);
}

#[test]
fn default_values_match_the_servers_for_every_type() {
    let c = modern();
    let mut r = TextRenderer::new(c.server_timezone());
    for t in TYPES {
        let desc = TypeDesc::parse(t).unwrap();
        let sql = format!(
            "SELECT defaultValueOfTypeName('{}') SETTINGS allow_suspicious_low_cardinality_types = 1",
            t.replace('\\', "\\\\").replace('\'', "\\'")
        );
        let server = c.raw_query(&sql, Some("TabSeparated")).unwrap();
        let ours = clickhouse_connect::Value::default_of(&desc);
        let mut text = Vec::new();
        r.write_tsv(&mut text, &ours, &desc);
        text.push(b'\n');
        assert_eq!(String::from_utf8_lossy(&text), String::from_utf8_lossy(&server), "default of {t}");
    }
}

#[test]
fn nulls_as_defaults_replaces_nulls_at_every_depth() {
    use clickhouse_connect::{CallOptions, Value};
    let c = modern();
    let sql = "SELECT CAST(NULL AS Nullable(UInt32)) AS a, [NULL, 'x']::Array(Nullable(String)) AS b, \
        CAST((NULL, 2) AS Tuple(Nullable(Float64), UInt8)) AS t, CAST(NULL AS LowCardinality(Nullable(String))) AS lc";
    let with_nulls = c.query(sql).unwrap();
    assert_eq!(with_nulls.rows[0][0], Value::Null);
    let r = c.query_with(sql, &CallOptions::new().nulls_as_defaults()).unwrap();
    assert_eq!(r.rows[0][0], Value::UInt32(0));
    assert_eq!(r.rows[0][1], Value::array(["", "x"]));
    assert_eq!(r.rows[0][2], Value::Tuple(vec![Value::Float64(0.0), Value::UInt8(2)]));
    assert_eq!(r.rows[0][3], Value::from(""));
}

#[test]
fn variant_dynamic_and_geometry_match_server_rendering() {
    // Random values of many types through Variant and Dynamic (nested in arrays, tuples, maps and
    // Nullable where the server allows it), NULLs among them; Geometry of every kind.
    let alternatives = "Variant(String, UInt64, Int8, Float64, Array(Nullable(String)), Tuple(a UInt8, b DateTime('Asia/Kolkata')), \
        Map(String, Array(UInt16)), Decimal(18, 4), UUID, Date, IPv6, Bool, Enum8('a' = 1, 'b\\'' = -3))";
    let pick = "multiIf(n % 14 = 0, NULL, n % 14 = 1, toString(n * 7919)::Variant(String), n % 14 = 2, (n * 1000003)::UInt64::Variant(UInt64), \
        n % 14 = 3, toInt8(n % 256 - 128)::Variant(Int8), n % 14 = 4, (n / 7)::Float64::Variant(Float64), \
        n % 14 = 5, [toString(n), NULL, 'x\\ty''z']::Variant(Array(Nullable(String))), n % 14 = 6, (n % 200, toDateTime(n * 86377, 'Asia/Kolkata'))::Tuple(a UInt8, b DateTime('Asia/Kolkata'))::Variant(Tuple(a UInt8, b DateTime('Asia/Kolkata'))), \
        n % 14 = 7, map('k' || toString(n), range(n % 5))::Map(String, Array(UInt16))::Variant(Map(String, Array(UInt16))), n % 14 = 8, toDecimal64(n / 3, 4)::Variant(Decimal(18, 4)), \
        n % 14 = 9, reinterpretAsUUID(sipHash128(n))::Variant(UUID), n % 14 = 10, toDate(n * 13)::Variant(Date), n % 14 = 11, toIPv6('::ffff:1.2.3.4')::Variant(IPv6), \
        n % 14 = 12, (n % 3 = 0)::Bool::Variant(Bool), CAST(if(n % 2 = 0, 'a', 'b\\''), 'Enum8(\\'a\\' = 1, \\'b\\\\\\'\\' = -3)')::Variant(Enum8('a' = 1, 'b\\'' = -3)))";
    let sql = format!(
        "SELECT {pick}::{alternatives} AS v, [v, NULL] AS av, (v, n) AS tv, v::Dynamic AS d, [d] AS ad, \
         map(n % 5, d) AS md, v::Dynamic(max_types = 2) AS d2, v::Dynamic(max_types = 0) AS d0 \
         FROM (SELECT number AS n FROM numbers(3000)) SETTINGS allow_suspicious_variant_types = 1"
    );
    assert_eq!(compare(&sql), 3000 * 8);
    let geometry = "SELECT arrayJoin([ \
        ((1.5, -2.25)::Point)::Geometry, [(0, 0), (1, 1e-300)]::Ring::Geometry, [(1, 2), (3, 4)]::LineString::Geometry, \
        [[(1, 2)], [], [(3, 4), (5, 6)]]::MultiLineString::Geometry, [[(0, 0), (9, 9)], [(1, 1)]]::Polygon::Geometry, \
        [[[(0, 0)]], [[(1, 2), (3, 4)], []]]::MultiPolygon::Geometry, [(7, 8), (9, 10)]::MultiPoint::Geometry, NULL]) AS g, [g] AS ag, g::Dynamic(max_types = 0) AS shared";
    assert_eq!(compare(geometry), 24);
}

#[test]
fn json_matches_server_rendering() {
    // Objects the server builds from text: nested paths, arrays, NULLs, numbers of every inferred
    // kind, strings needing escapes, empty objects; typed paths; few dynamic paths (the rest in shared
    // data) and few dynamic types; inside arrays, tuples and Nullable.
    let text = "concat('{\"a\":{\"b\":', toString(n), ',\"c\":[', toString(n % 3), ',null,', toString(n * 1.5), ']},', \
        '\"s\":\"q\\\\\"/\\\\u0001', toString(n), '\",', if(n % 4 = 0, '\"n\":null,', ''), if(n % 5 = 0, '\"deep\":{\"x\":{\"y\":{\"z\":\"w\"}}},', ''), \
        '\"f\":', toString(n / 8), ',\"neg\":', toString(-toInt64(n) * 1000000007), ',\"big\":18446744073709551615,', \
        '\"t\":\"2020-01-0', toString(1 + n % 9), ' 00:00:00\",\"b\":', if(n % 2 = 0, 'true', 'false'), ',\"e\":{}, \"arr\":[{\"k\":', toString(n), '}]}')";
    let sql = format!(
        "SELECT {text} AS src, src::JSON AS j, src::JSON(max_dynamic_paths = 2) AS j2, src::JSON(max_dynamic_types = 1) AS j1, \
         src::JSON(a.b UInt32, s String, SKIP deep, SKIP REGEXP '^ne') AS jt, [j, j2] AS aj, (n, j2) AS tj, \
         if(n % 3 = 0, NULL, j)::Nullable(JSON) AS nj, '{{}}'::JSON AS empty \
         FROM (SELECT number AS n FROM numbers(2000))"
    );
    assert_eq!(compare(&sql), 2000 * 9);
}

#[test]
fn qbit_matches_server_rendering() {
    // Every element type, with and without a stride, values of every sign and size.
    let sql = "SELECT CAST([toFloat32(number) / 3, -1e30, 0, nan], 'QBit(Float32, 4)') AS f32, \
        CAST([inf, -inf, -0., 1e-310], 'QBit(Float64, 4)') AS special, \
        arrayMap(i -> (number * 1000003 + i) / 7 - 1e6, range(10))::QBit(Float64, 10) AS f64, \
        arrayMap(i -> toBFloat16(number * 1.5 - i), range(3))::QBit(BFloat16, 3) AS bf, \
        arrayMap(i -> toInt8((number + i) % 256 - 128), range(16))::QBit(Int8, 16, 8) AS i8s, \
        arrayMap(i -> toFloat32(number - i), range(24))::QBit(Float32, 24, 8) AS strided, [f32] AS af, \
        arrayMap(i -> toFloat32(number * i), range(20))::QBit(Float32, 20) AS d20, \
        arrayMap(i -> toInt8(i - number % 100), range(130))::QBit(Int8, 130) AS d130, \
        arrayMap(i -> toFloat64(i * number), range(144))::QBit(Float64, 144, 72) AS d144 \
        FROM numbers(500)";
    assert_eq!(compare(sql), 500 * 10);
}

#[test]
fn aggregate_states_match_server_rendering() {
    // A state renders as its bytes (escaped like a string), as the server writes it.
    let sql = "SELECT k, countState(x), sumState(x), maxState(toString(x)), avgState(x / 3), uniqState(x), \
        uniqExactState(toString(x)), groupArrayState(toString(x)), quantilesState(0.5, 0.9)(x), argMaxState(toString(x), x) \
        FROM (SELECT number % 50 AS k, number * 7919 % 1000 AS x FROM numbers(5000)) GROUP BY k ORDER BY k";
    assert_eq!(compare(sql), 50 * 10);
}

#[test]
fn flattened_dynamic_and_json_match_server_rendering() {
    // The flattened structures the server writes when asked for them: Dynamic types in its own order
    // with an index column (shared-variant types among them), JSON paths all dynamic.
    let settings = "SETTINGS output_format_native_use_flattened_dynamic_and_json_serialization = 1";
    let sql = format!(
        "SELECT multiIf(n % 5 = 0, NULL, n % 5 = 1, toString(n)::Dynamic, n % 5 = 2, n::Dynamic, n % 5 = 3, [n, NULL]::Dynamic, \
         (n, 'x')::Tuple(a UInt64, b String)::Dynamic) AS d, d::Dynamic(max_types = 1) AS d1, [d, NULL] AS ad, \
         concat('{{\"a\":{{\"b\":', toString(n), '}},\"s\":\"x', toString(n), '\"', if(n % 3 = 0, ',\"f\":1.5', ''), \
         if(n % 4 = 0, ',\"arr\":[{{\"k\":\"v\"}}]', ''), '}}') AS src, src::JSON AS j, src::JSON(max_dynamic_paths = 1) AS j1, \
         src::JSON(a.b UInt32) AS jt FROM (SELECT number AS n FROM numbers(2000)) {settings}"
    );
    assert_eq!(compare(&sql), 2000 * 7);
}

#[test]
fn new_types_nested_three_deep_with_empty_and_huge_values_match_server_rendering() {
    // Pseudo-random values (sipHash of the row) three levels deep, NULLs, empty strings, arrays and
    // objects, and values of a megabyte, through Variant, Dynamic and JSON.
    let sql = "SELECT \
        [map('k' || toString(n % 3), multiIf(n % 4 = 0, NULL, n % 4 = 1, [toString(sipHash64(n)), NULL, '']::Variant(Array(Nullable(String)), UInt64), \
            n % 4 = 2, toUInt64(sipHash64(n, 1) % 1000)::Variant(Array(Nullable(String)), UInt64), []::Array(Nullable(String))::Variant(Array(Nullable(String)), UInt64)))] AS deep_variant, \
        [[multiIf(n % 5 = 0, NULL, n % 5 = 1, map('a', [n, NULL])::Dynamic, n % 5 = 2, [[toString(n)]]::Dynamic, n % 5 = 3, ''::Dynamic, \
            (toDecimal64(n / 7, 3), [toIPv6('::1')])::Tuple(d Decimal(18, 3), a Array(IPv6))::Dynamic)]] AS deep_dynamic, \
        concat('{\"a\":{\"b\":{\"c\":[', toString(sipHash64(n) % 100), ',[1,[2]],{\"d\":\"x\"}]}}', if(n % 3 = 0, ',\"e\":{}', ''), \
            if(n % 7 = 0, concat(',\"big\":\"', repeat('y', 1000000), '\"'), ''), ',\"arr\":[[{\"k\":[', toString(n), ']}]]}')::JSON AS deep_json, \
        if(n % 9 = 0, repeat('z', 1000000), toString(n))::Variant(String, UInt64) AS huge_variant, \
        if(n % 11 = 0, repeat('w', 1000000)::Dynamic, n::Dynamic)::Dynamic(max_types = 1) AS huge_dynamic \
        FROM (SELECT number AS n FROM numbers(300)) SETTINGS allow_suspicious_variant_types = 1";
    assert_eq!(compare(sql), 300 * 5);
}

#[test]
fn many_small_blocks_of_composite_types_match_server_rendering_on_both_drivers() {
    // 40 blocks of 500 rows: the async stream takes each block's columns out of its decoder and gives
    // them back when the block is dropped, so later blocks decode into columns of earlier ones. (Values
    // from `number`, not generateRandom, whose values depend on the block sizes of each output format.)
    let sql = "SELECT toLowCardinality(if(number % 7 = 0, NULL, toString(number % 13))) AS a, \
               arrayMap(x -> if(x % 3 = 0, NULL, toUInt32(x * number)), range(number % 4)) AS b, \
               map(toString(number % 5), [toInt16(number % 100), -1]) AS c, \
               CAST((if(number % 11 = 0, NULL, number / 3), toString(number % 17)), \
                    'Tuple(x Nullable(Float64), y LowCardinality(String))') AS d, \
               if(number % 4 = 0, NULL, toDecimal128(number, 9) / 7) AS e, \
               [(generateUUIDv4(number) = generateUUIDv4(number), toDateTime64(number * 1000, 6, 'Asia/Kolkata'))] AS f, \
               if(number % 5 = 0, NULL, CAST(if(number % 2 = 0, 'p', 'q'), 'Enum8(\\'p\\' = 1, \\'q\\' = -2)')) AS g, \
               toLowCardinality(toString(number)) AS h \
               FROM numbers(20000) SETTINGS max_block_size = 500";
    assert_eq!(compare(sql), 20_000 * 8);
}
