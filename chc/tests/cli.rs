//! `chc` against the real 26.9 server: its text output equals the server's own for every query of the
//! codec's differential corpus, JSONEachRow piped into `chc insert` copies a table of every type
//! exactly, bad input stops with row and column, and errors exit non-zero with the server's code.

#[path = "../../tests/common/mod.rs"]
mod common;

use common::*;
use std::io::Write;
use std::process::{Command, Output, Stdio};

fn chc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chc")).args(args).env("CLICKHOUSE_URL", env("CH_MODERN_URL")).output().unwrap()
}

fn chc_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_chc"))
        .args(args)
        .env("CLICKHOUSE_URL", env("CH_MODERN_URL"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    out
}

/// Each kind of output difference found by a run over ClickHouse's own stateless-test SELECTs: totals and
/// extremes (which Native over HTTP does not carry), composite map keys in JSON, U+2028/U+2029, column
/// names that are not UTF-8, output settings in the query, a query's own time zone, DateTime64 beyond
/// the years 0000–9999, and a query's own FORMAT.
const ISSUE_15_OUTPUT: &[&str] = &[
    "SELECT number % 3 AS k, count() AS c, sum(number) FROM numbers(100) GROUP BY k WITH TOTALS ORDER BY k",
    "SELECT number % 3 AS k, avg(number) FROM numbers(100) GROUP BY k ORDER BY k SETTINGS extremes = 1",
    "SELECT map([1], 2) AS m, map((1, 'a'), 3) AS t, map(map(1, 2), 3) AS mm, map(toFixedString('ab', 3), 1) AS fs, \
     map(toDate('2020-01-01'), [1]) AS d, map(true, 1) AS b, map(1.5, 1) AS f",
    "SELECT unhex('E280A8E280A9') AS s, concat('a', unhex('E280A8'), 'b/') AS t, [unhex('E280A9')] AS a",
    "SELECT 1 AS `a\\xFFb`, 2 AS `\\xE2\\x80\\xA8`, 3 AS `\\xC3`",
    "SELECT toUInt64(5) AS x, toInt128(-3) AS y, toDecimal64(1.5, 4) AS d, true AS b, (1, 'a')::Tuple(a UInt8, b String) AS t, \
     map('k', 1) AS m, toDateTime('2020-01-01 00:00:00', 'UTC') AS dt, 'a/b' AS s, NULL::Nullable(UInt8) AS n \
     SETTINGS output_format_json_quote_64bit_integers = 0, output_format_json_escape_forward_slashes = 0, \
     bool_true_representation = 'yes', date_time_output_format = 'iso', format_csv_null_representation = 'NULL', \
     format_tsv_null_representation = 'NULL', format_csv_delimiter = ';', output_format_tsv_crlf_end_of_line = 1, \
     output_format_csv_crlf_end_of_line = 1, output_format_decimal_trailing_zeros = 1, \
     output_format_json_quote_decimals = 1, output_format_json_named_tuples_as_objects = 0, \
     output_format_json_map_as_array_of_tuples = 1",
    "SELECT toDateTime(0) AS a, toDateTime64(0, 3) AS b SETTINGS session_timezone = 'Asia/Tokyo'",
    "SELECT reinterpret(toInt64(-9223372036854775807), 'DateTime64(3)') AS a, \
     reinterpret(toInt64(9223372036854775807), 'DateTime64(3, \\'UTC\\')') AS b, \
     reinterpret(toInt64(-62167219200001), 'DateTime64(3)') AS c, reinterpret(toInt64(253402300800), 'DateTime64(0)') AS d",
    "SELECT number, toString(number) FROM numbers(3) FORMAT JSONCompactEachRow",
    // A Nullable tuple in CSV is its quoted text, not spread; Nested in JSON is an array of objects.
    "SELECT toNullable((1, 'a')) AS t, tuple(toNullable((2, 'b'))) AS u, CAST(NULL AS Nullable(Tuple(Int32, String))) AS v",
    "SELECT CAST([(1, 'a'), (2, 'b')], 'Nested(a Int32, b String)') AS n",
    // Types the client cannot decode yet: the server's text.
    "SELECT tuple(), tuple(tuple())",
    "SELECT 1::Variant(UInt8, String) AS v, [2]::Dynamic AS d, '{\"a\":1}'::JSON AS j",
    "SELECT uniqState(number) AS u, groupArrayState(number) AS g FROM numbers(3)",
    // Before 1970 in zones whose older history the tz database keeps merged (chc asks the server).
    "SELECT toDateTime64('1940-03-15 12:40:00', 0, 'UTC')::DateTime64(0, 'Europe/Amsterdam') AS d, \
     [toDateTime64('1919-10-12 08:20:00', 3, 'Europe/Amsterdam')] AS a, \
     map('k', toDateTime64('1900-06-01 00:00:00', 3, 'Africa/Accra')) AS m, \
     toDateTime64(number * 86400 * 400, 0, 'America/Toronto') - 3000000000 AS t FROM numbers(5)",
    // Zones whose rules changed after the bundled time zone database (the server's is newer).
    "SELECT toDateTime(1793664000 + number * 86400 * 30, 'America/Winnipeg') AS a, \
     toDateTime64(1793664000 + number * 86400 * 30, 3, 'America/Winnipeg') AS b, \
     toDateTime(1793664000, 'America/Havana') AS h, toDateTime(296535600, 'Asia/Tehran') AS t, \
     [toDateTime(1793664000, 'America/Winnipeg')] AS arr FROM numbers(20)",
];

/// The differential corpus: generateRandom over every type (three seeds), expression-only types, and
/// the golden queries.
fn corpus() -> Vec<String> {
    let mut out = Vec::new();
    for (i, group) in TYPES.chunks(6).enumerate() {
        let structure = structure(group, true);
        for seed in [1u64, 42, 9_876_543_210] {
            out.push(format!(
                "SELECT * FROM generateRandom('{structure}', {}, 12, 4) LIMIT 2000 \
                 SETTINGS allow_suspicious_low_cardinality_types = 1",
                seed + i as u64
            ));
        }
    }
    out.push(
        "SELECT toBFloat16(number * 1.37 - 50000), toTime(toInt64(number * 97) - 500000), \
         toTime64((toInt64(number) * 9973 - 1000000) / 7, 3), toIntervalSecond(number), toFloat32(number) / 3, \
         CAST(number % 2 AS Bool), number * 1e300, toDecimal256(number, 30) / 7, NULL AS nothing, [] AS no_elements \
         FROM numbers(5000)"
            .to_string(),
    );
    // Runs of instants across time zone transitions (the renderer keeps the offset between two
    // transitions): half-hourly through several years of DST, LMT and historical changes.
    out.push(
        "SELECT toDateTime(1500000000 + number * 1799, 'America/New_York') a, \
         toDateTime(number * 86399 * 7, 'Europe/Moscow') b, toDateTime(1600000000 - number * 3600, 'Australia/Lord_Howe') c, \
         [toDateTime(number * 3599, 'Asia/Kolkata'), toDateTime(2000000000 + number * 1801, 'Europe/Dublin')] d, \
         toDateTime64(1500000000.5 + number * 1799, 1, 'America/Santiago') e, toDateTime(1700000000 + number) f \
         FROM numbers(60000)"
            .to_string(),
    );
    out.extend(ISSUE_15_OUTPUT.iter().map(|q| q.to_string()));
    let golden = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/golden/modern");
    let mut files: Vec<_> = std::fs::read_dir(&golden).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    for f in files.into_iter().filter(|f| f.extension().is_some_and(|e| e == "sql")) {
        out.push(std::fs::read_to_string(f).unwrap().trim().trim_end_matches(';').to_string());
    }
    out
}

#[test]
fn text_output_equals_the_servers_own_for_the_differential_corpus() {
    let c = modern();
    let mut queries = 0;
    let mut bytes = 0;
    for sql in corpus() {
        for (ours, theirs) in [("TSV", "TabSeparated"), ("CSV", "CSV"), ("JSONEachRow", "JSONEachRow")] {
            let out = chc(&["query", "--format", ours, &sql]);
            assert!(out.status.success(), "{sql}: {}", String::from_utf8_lossy(&out.stderr));
            let server = c.raw_query(&sql, Some(theirs)).unwrap();
            if out.stdout != server {
                let (a, b) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&server));
                let line = a.lines().zip(b.lines()).position(|(x, y)| x != y).unwrap_or(0);
                panic!(
                    "{ours} differs for {sql}\nline {line}\nchc    {:?}\nserver {:?}",
                    a.lines().nth(line),
                    b.lines().nth(line)
                );
            }
            bytes += server.len();
        }
        queries += 1;
    }
    eprintln!("{queries} queries × 3 formats, {bytes} bytes identical");
}

#[test]
fn output_settings_given_to_chc_are_the_servers_own() {
    let c = modern();
    let sql = "SELECT toUInt64(5) AS x, toDecimal64(1.5, 4) AS d, true AS b, NULL::Nullable(UInt8) AS n, \
               toDateTime('2020-01-01 00:00:00', 'UTC') AS t, 'a/b' AS s";
    for setting in [
        "output_format_json_quote_64bit_integers=0",
        "output_format_json_escape_forward_slashes=0",
        "bool_true_representation=yes",
        "date_time_output_format=unix_timestamp",
        "format_csv_null_representation=NULL",
        "format_tsv_null_representation=NULL",
        "format_csv_delimiter=|",
        "output_format_tsv_crlf_end_of_line=1",
        "output_format_decimal_trailing_zeros=1",
        "output_format_json_quote_decimals=1",
        "session_timezone=Asia/Tokyo",
        // Older servers' text, whatever the query or settings.
        "compatibility=22.1",
        "compatibility=20.1",
    ] {
        let (name, value) = setting.split_once('=').unwrap();
        for (ours, theirs) in [("TSV", "TabSeparated"), ("CSV", "CSV"), ("JSONEachRow", "JSONEachRow")] {
            let out = chc(&["--setting", setting, "query", "--format", ours, sql]);
            assert!(out.status.success(), "{setting}: {}", String::from_utf8_lossy(&out.stderr));
            let opts = clickhouse_connect::CallOptions::new().setting(name, value);
            let server = c.raw_query_with(sql, Some(theirs), &opts).unwrap();
            assert_eq!(String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&server), "{setting} {ours}");
        }
    }
}

#[test]
fn native_output_decodes_to_the_same_rows() {
    let c = modern();
    let sql = format!(
        "SELECT * FROM generateRandom('{}', 5, 12, 4) LIMIT 500 SETTINGS allow_suspicious_low_cardinality_types = 1",
        structure(&TYPES[..20], true)
    );
    let out = chc(&["query", "--format", "Native", &sql]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // The server reads our Native back and renders it as it renders its own.
    let t = table("chc_native");
    c.command(&format!("CREATE TABLE {t} ({}) ENGINE = Memory", structure(&TYPES[..20], false))).unwrap();
    c.raw_insert(&t, &[], "Native", &out.stdout).unwrap();
    let ours = c.raw_query(&format!("SELECT * FROM {t}"), Some("TabSeparated")).unwrap();
    let theirs = c.raw_query(&sql, Some("TabSeparated")).unwrap();
    assert_eq!(String::from_utf8_lossy(&ours), String::from_utf8_lossy(&theirs));
    let null = chc(&["query", "--format", "Null", &sql]);
    assert!(null.status.success() && null.stdout.is_empty());
    c.command(&format!("DROP TABLE {t}")).unwrap();
}

#[test]
fn json_each_row_piped_into_insert_copies_every_type_exactly() {
    let c = modern();
    let mut rows_copied = 0;
    for (i, group) in TYPES.chunks(6).enumerate() {
        let (src, dst) = (table("chc_src"), table("chc_dst"));
        let cols = structure(group, false);
        let settings = "SETTINGS allow_suspicious_low_cardinality_types = 1";
        for t in [&src, &dst] {
            c.command(&format!("CREATE TABLE {t} ({cols}) ENGINE = Memory {settings}, flatten_nested = 0")).unwrap();
        }
        let native = c
            .raw_query(
                &format!(
                    "SELECT * FROM generateRandom('{}', {}, 12, 4) LIMIT 1000 {settings}",
                    structure(group, true),
                    3000 + i
                ),
                Some("Native"),
            )
            .unwrap();
        c.raw_insert(&src, &[], "Native", &native).unwrap();
        for format in ["JSONEachRow", "TSV", "CSV", "Native"] {
            c.command(&format!("TRUNCATE TABLE {dst}")).unwrap();
            // JSON has no NaN or infinity: with this setting they travel as "nan"/"inf" (as the server's own).
            let sql = format!("SELECT * FROM {src}");
            let out = chc(&["--setting", "output_format_json_quote_denormals=1", "query", "--format", format, &sql]);
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            let ins = chc_stdin(&["insert", &dst, "--format", format], &out.stdout);
            assert!(ins.status.success(), "{format} {cols}: {}", String::from_utf8_lossy(&ins.stderr));
            // Compared as the server renders both tables (sorted lines): text formats carry every value
            // but not a NaN's payload bits, which EXCEPT would compare.
            let render = |t: &str| {
                let text = c.raw_query(&format!("SELECT * FROM {t}"), Some("TabSeparated")).unwrap();
                let mut lines: Vec<Vec<u8>> = text.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
                lines.sort();
                lines
            };
            let (a, b) = (render(&src), render(&dst));
            if a != b {
                let i = a.iter().zip(&b).position(|(x, y)| x != y).unwrap_or(0);
                panic!(
                    "{format} copy of ({cols}) differs:\nsource {:?}\ncopy   {:?}",
                    String::from_utf8_lossy(&a[i]),
                    String::from_utf8_lossy(&b[i])
                );
            }
            assert_eq!(c.command(&format!("SELECT count() FROM {dst}")).unwrap(), "1000");
            rows_copied += 1000;
        }
        for t in [&src, &dst] {
            c.command(&format!("DROP TABLE {t}")).unwrap();
        }
    }
    eprintln!("{rows_copied} rows copied through chc");
}

#[test]
fn native_blocks_in_the_table_shape_pass_through_and_others_are_converted() {
    let c = modern();
    let t = table("chc_native");
    c.command(&format!("CREATE TABLE {t} (id UInt64, s String) ENGINE = Memory")).unwrap();
    // Blocks in the table's shape are sent as read; blocks in another column order with a narrower type
    // go through values. Both kinds in one input.
    let same = c.raw_query("SELECT number AS id, toString(number) AS s FROM numbers(100000)", Some("Native")).unwrap();
    let other = c
        .raw_query(
            "SELECT toString(number + 100000) AS s, toUInt32(number + 100000) AS id FROM numbers(50000)",
            Some("Native"),
        )
        .unwrap();
    let input = [&same[..], &other[..], &same[..]].concat();
    let out = chc_stdin(&["insert", &t, "--format", "Native"], &input);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let check = format!("SELECT count(), sum(id), countIf(s != toString(id)) FROM {t}");
    let sum = 2 * (0..100_000u64).sum::<u64>() + (100_000..150_000u64).sum::<u64>();
    assert_eq!(c.command(&check).unwrap(), format!("250000\t{sum}\t0"));

    // A block cut short at the end: the whole blocks before it are inserted, and the error says so.
    c.command(&format!("TRUNCATE TABLE {t}")).unwrap();
    let cut = [&same[..], &same[..same.len() / 2]].concat();
    let out = chc_stdin(&["insert", &t, "--format", "Native"], &cut);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("rows before it were inserted"), "{err}");
    let mut whole = 0;
    let mut d = clickhouse_connect::native::BlockDecoder::new();
    let mut rest = &cut[..];
    while let Ok(Some(b)) = d.feed(&mut rest) {
        whole += b.rows();
    }
    assert!(whole >= 100_000, "the second copy is cut: {whole}");
    assert_eq!(c.command(&format!("SELECT count() FROM {t}")).unwrap(), whole.to_string());
    c.command(&format!("DROP TABLE {t}")).unwrap();
}

#[test]
fn bad_input_stops_with_row_and_column_and_keeps_only_earlier_rows() {
    let c = modern();
    let t = table("chc_bad");
    c.command(&format!("CREATE TABLE {t} (a UInt8, b String) ENGINE = Memory")).unwrap();
    // The server itself reads 300 into a UInt8 as 44, and rejects 3z: so does chc.
    let out = chc_stdin(&["insert", &t, "--format", "TSV"], b"1\tx\n300\ty\n3z\tz\n4\tw\n");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("row 3 (line 3)") && err.contains("column a") && err.contains("2 rows before it"), "{err}");
    assert_eq!(c.command(&format!("SELECT groupArray(a) FROM {t}")).unwrap(), "[1,44]");
    // Unknown keys are skipped, as the server skips them; a bad value stops at its row and column.
    let out =
        chc_stdin(&["insert", &t, "--format", "JSONEachRow"], b"{\"a\":5,\"b\":\"q\",\"nope\":1}\n\n{\"a\":\"x6\"}\n");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("row 2 (line 3)") && err.contains("column a"), "{err}");
    assert_eq!(c.command(&format!("SELECT count() FROM {t}")).unwrap(), "3");
    c.command(&format!("DROP TABLE {t}")).unwrap();
}

#[test]
fn input_read_in_chunks_on_two_threads_stops_at_the_first_bad_row_in_input_order() {
    // `--block-rows 2`: the input is cut into chunks of two rows, read on two threads; the first bad
    // row in input order ends the insert (a later chunk's bad row, read first, does not), the rows
    // before it are inserted as the server reads them (row 4 is not in the server's own form: the
    // server reads it), and a row that only the server can judge (row 6) is judged at its place.
    let c = modern();
    let (t, expected) = (table("chc_chunks"), table("chc_chunks_server"));
    for (format, rows) in [
        ("TSV", ["1\ta", "2\tb", "3\tc", "+4\td", "5\te", "6x\tf", "7\tg", "300\th", "9\ti"]),
        ("CSV", ["1,a", "2,b", "3,c", "+4,d", "5,e", "6x,f", "7,g", "300,h", "9,i"]),
        (
            "JSONEachRow",
            [
                r#"{"x":1,"s":"a"}"#,
                r#"{"x":2,"s":"b"}"#,
                r#"{"x":3,"s":"c"}"#,
                r#"{"x":"4","s":"d"}"#,
                r#"{"x":5,"s":"e"}"#,
                r#"{"x":"6x","s":"f"}"#,
                r#"{"x":7,"s":"g"}"#,
                r#"{"x":300,"s":"h"}"#,
                r#"{"x":9,"s":"i"}"#,
            ],
        ),
    ] {
        for name in [&t, &expected] {
            c.command(&format!("CREATE OR REPLACE TABLE {name} (x UInt8, s String) ENGINE = Memory")).unwrap();
        }
        let input = rows.join("\n") + "\n";
        let out = chc_stdin(&["insert", &t, "--format", format, "--block-rows", "2"], input.as_bytes());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{format}: {err}");
        assert!(
            err.contains("row 6 (line 6)") && err.contains("the 5 rows before it were inserted"),
            "{format}: {err}"
        );
        // The server's own reading of the rows before it is what the table holds.
        let server_format = if format == "TSV" { "TabSeparated" } else { format };
        let head = rows[..5].join("\n") + "\n";
        c.raw_insert_with(&expected, &[], server_format, head.as_bytes(), &clickhouse_connect::CallOptions::new())
            .unwrap();
        let differ = c
            .command(&format!(
                "SELECT count() FROM ((SELECT * FROM {t} EXCEPT ALL SELECT * FROM {expected}) UNION ALL \
                 (SELECT * FROM {expected} EXCEPT ALL SELECT * FROM {t}))"
            ))
            .unwrap();
        assert_eq!(differ, "0", "{format}");
        assert_eq!(c.command(&format!("SELECT count() FROM {t}")).unwrap(), "5", "{format}");
    }
    // A TSV array whose text runs over more lines than a batch of the server's rows (10,000), at
    // every chunk size: the server reads it as one value.
    let long = "5\tab\t['x',\n".to_string() + &(0..12_000).map(|j| format!("'l{j}',\n")).collect::<String>() + "'e']\n";
    let input: String = (1..=9).map(|i| if i == 5 { long.clone() } else { format!("{i}\ts{i}\t['x']\n") }).collect();
    for rows in ["1", "3", "1000"] {
        for name in [&t, &expected] {
            c.command(&format!("CREATE OR REPLACE TABLE {name} (x UInt8, s String, a Array(String)) ENGINE = Memory"))
                .unwrap();
        }
        let out = chc_stdin(&["insert", &t, "--format", "TSV", "--block-rows", rows], input.as_bytes());
        assert!(out.status.success(), "{rows}: {}", String::from_utf8_lossy(&out.stderr));
        c.raw_insert_with(&expected, &[], "TabSeparated", input.as_bytes(), &clickhouse_connect::CallOptions::new())
            .unwrap();
        let sum =
            |name: &str| c.command(&format!("SELECT count(), sum(length(a)), groupArray(x) FROM {name}")).unwrap();
        assert_eq!(sum(&t).to_string(), sum(&expected).to_string(), "{rows}");
    }
    for name in [&t, &expected] {
        c.command(&format!("CREATE OR REPLACE TABLE {name} (x UInt8, s String) ENGINE = Memory")).unwrap();
    }
    // A JSON object the server reads further than chc's splitter (`[1},2,3]` is its text for a
    // String): its pieces stay in one chunk, whatever the chunk size.
    let input = b"{\"x\":1,\"s\":\"a\"}\n{\"x\":2,\"s\":[1},2,3]}\n{\"x\":3,\"s\":\"c\"}\n";
    for rows in ["1", "2", "1000"] {
        c.command(&format!("TRUNCATE TABLE {t}")).unwrap();
        let out = chc_stdin(&["insert", &t, "--format", "JSONEachRow", "--block-rows", rows], input);
        assert!(out.status.success(), "{rows}: {}", String::from_utf8_lossy(&out.stderr));
        c.command(&format!("TRUNCATE TABLE {expected}")).unwrap();
        c.raw_insert_with(&expected, &[], "JSONEachRow", input, &clickhouse_connect::CallOptions::new()).unwrap();
        let stored =
            |name: &str| c.command(&format!("SELECT groupArray((x, s)) FROM (SELECT * FROM {name} ORDER BY x)"));
        assert_eq!(stored(&t).unwrap(), stored(&expected).unwrap(), "{rows}");
        assert_eq!(c.command(&format!("SELECT count() FROM {t}")).unwrap(), "3");
    }
    for name in [&t, &expected] {
        c.command(&format!("DROP TABLE {name}")).unwrap();
    }
}

#[test]
fn every_input_error_kind_exits_1_with_row_line_column_and_keeps_earlier_rows() {
    let c = modern();
    let t = table("chc_contract");
    c.command(&format!(
        "CREATE TABLE {t} (x UInt8, e Enum8('a' = 1, 'b' = 2), f FixedString(2), d Decimal(5, 2)) ENGINE = Memory"
    ))
    .unwrap();
    let count = |c: &clickhouse_connect::Client| c.command(&format!("SELECT count() FROM {t}")).unwrap().to_string();
    // Values the server's own reader refuses after reading them: an enum number outside the enum, a
    // string too long for its FixedString, a decimal with too many digits.
    for (bad, column) in [("1\t5\tab\t1.5\n", "e"), ("1\ta\tabc\t1.5\n", "f"), ("1\ta\tab\t1234.5\n", "d")] {
        c.command(&format!("TRUNCATE TABLE {t}")).unwrap();
        let input = format!("1\ta\tab\t1.5\n2\tb\tcd\t-2.25\n{bad}");
        let out = chc_stdin(&["insert", &t, "--format", "TSV"], input.as_bytes());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains("row 3 (line 3)") && err.contains(&format!("column {column}")), "{err}");
        assert!(err.contains("the 2 rows before it were inserted"), "{err}");
        assert_eq!(count(&c), "2", "{bad}");
    }
    // Native input that needs converting, with a value that does not fit: the rows before it are
    // inserted and counted, the row is the input's (1-based).
    c.command(&format!("TRUNCATE TABLE {t}")).unwrap();
    let native = c
        .raw_query(
            "SELECT toInt64(number * 100) AS x, 'a' AS e, 'ab' AS f, toDecimal32(1, 2) AS d FROM numbers(5)",
            Some("Native"),
        )
        .unwrap();
    let out = chc_stdin(&["insert", &t, "--format", "Native"], &native);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("row 4") && err.contains("column x") && err.contains("the 3 rows before it"), "{err}");
    assert_eq!(c.command(&format!("SELECT groupArray(x) FROM {t}")).unwrap(), "[0,100,200]");
    c.command(&format!("DROP TABLE {t}")).unwrap();
}

#[test]
fn input_settings_given_to_chc_read_as_the_server_reads_with_them() {
    let c = modern();
    let ours = table("chc_in_settings_ours");
    let theirs = table("chc_in_settings_theirs");
    for t in [&ours, &theirs] {
        c.command(&format!("CREATE TABLE {t} (a Int32, s String, d DateTime('UTC')) ENGINE = Memory")).unwrap();
    }
    let cases: &[(&str, &str, &[u8])] = &[
        ("input_format_tsv_crlf_end_of_line=1", "TSV", b"1\tx\t2020-01-01 00:00:00\r\n2\ty\t2020-01-02 00:00:00\r\n"),
        ("format_csv_delimiter=;", "CSV", b"1;\"x;y\";2020-01-01 00:00:00\n"),
        ("input_format_skip_unknown_fields=0", "JSONEachRow", b"{\"a\":1}\n{\"a\":2,\"zz\":3}\n"),
        ("date_time_input_format=best_effort", "CSV", b"1,x,2020-01-01T10:00:00Z\n2,y,1577836800\n"),
        ("input_format_csv_empty_as_default=0", "CSV", b"1,,2020-01-01 00:00:00\n"),
        ("input_format_null_as_default=0", "TSV", b"1\t\\N\t2020-01-01 00:00:00\n"),
    ];
    for (setting, format, input) in cases {
        let (name, value) = setting.split_once('=').unwrap();
        for t in [&ours, &theirs] {
            c.command(&format!("TRUNCATE TABLE {t}")).unwrap();
        }
        let out = chc_stdin(&["--setting", setting, "insert", &ours, "--format", format], input);
        let server_format = if *format == "TSV" { "TabSeparated" } else { format };
        let opts = clickhouse_connect::CallOptions::new().setting(name, value);
        let server = c.raw_insert_with(&theirs, &[], server_format, input, &opts);
        assert_eq!(
            out.status.success(),
            server.is_ok(),
            "{setting}: chc {:?}, server {server:?}",
            String::from_utf8_lossy(&out.stderr)
        );
        if server.is_ok() {
            let diff = c
                .command(&format!(
                    "SELECT count() FROM ((SELECT * FROM {ours} EXCEPT SELECT * FROM {theirs}) UNION ALL \
                     (SELECT * FROM {theirs} EXCEPT SELECT * FROM {ours}))"
                ))
                .unwrap();
            assert_eq!(diff.as_str(), "0", "{setting}");
            assert_eq!(
                c.command(&format!("SELECT count() FROM {ours}")).unwrap().as_str(),
                c.command(&format!("SELECT count() FROM {theirs}")).unwrap().as_str(),
                "{setting}"
            );
        }
    }
    for t in [&ours, &theirs] {
        c.command(&format!("DROP TABLE {t}")).unwrap();
    }
}

/// Inserts `input` with chc and with the server into two tables of `columns`; both must succeed or
/// fail, and the tables must hold the same rows (compared inside the server).
fn same_as_server(columns: &str, format: &str, input: &[u8], chc_args: &[&str]) {
    let c = modern();
    let (ours, theirs) = (table("chc_same_ours"), table("chc_same_theirs"));
    for t in [&ours, &theirs] {
        c.command(&format!("CREATE TABLE {t} ({columns}) ENGINE = Memory")).unwrap();
    }
    let mut args: Vec<&str> = chc_args.to_vec();
    args.extend(["insert", &ours, "--format", format]);
    let out = chc_stdin(&args, input);
    let server_format = if format == "TSV" { "TabSeparated" } else { format };
    // The same settings for the server's own insert.
    let mut opts = clickhouse_connect::CallOptions::new();
    for pair in chc_args.windows(2).filter(|w| w[0] == "--setting") {
        let (k, v) = pair[1].split_once('=').unwrap();
        opts = opts.setting(k, v);
    }
    let server = c.raw_insert_with(&theirs, &[], server_format, input, &opts);
    let shown = &input[..input.len().min(200)];
    let what = format!("{columns} {format} {chc_args:?} {:?}", String::from_utf8_lossy(shown));
    assert_eq!(
        out.status.success(),
        server.is_ok(),
        "{what}: chc {}, server {server:?}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = |t: &str| c.raw_query(&format!("SELECT * FROM {t} FORMAT RowBinary"), None).unwrap();
    if server.is_ok() {
        assert_eq!(rows(&ours), rows(&theirs), "{what}");
    }
    for t in [&ours, &theirs] {
        c.command(&format!("DROP TABLE {t}")).unwrap();
    }
}

#[test]
fn what_an_adversary_found_reads_as_the_server_reads() {
    // A row of defaults ahead of later rows must never be taken for a header (a row was lost).
    same_as_server("`0` Int32", "TSV", b"5\n+7\n9\n", &[]);
    same_as_server("c1 Enum8('c1' = 1, 'x' = 2)", "CSV", b"x\n2\nx\n", &[]);
    // Pre-1970 local times in zones whose history before 1970 the server keeps otherwise.
    same_as_server(
        "d DateTime64(3, 'Europe/Amsterdam')",
        "TSV",
        b"1919-10-12 08:20:00.000\n1900-01-01 00:00:00.000\n1940-03-15 12:40:00.000\n",
        &[],
    );
    // A JSON array of rows over several lines.
    same_as_server("k Int32, s String", "JSONEachRow", b"[\n{\"k\":1,\"s\":\"a\"},\n{\"k\":2,\"s\":\"b\"}\n]\n", &[]);
    // Lines the server skips at the start, empty lines it leaves out at the end (and one in the
    // middle, which it refuses), as the settings say.
    let skip = ["--setting", "input_format_tsv_skip_first_lines=2"];
    same_as_server("a UInt8, s String", "TSV", b"junk line\nmore\n1\tx\n2\ty\n", &skip);
    same_as_server("a UInt8, s String", "TSV", b"junk line\nmore\n1\tx\n2\ty\nbad\tz\n", &skip);
    same_as_server(
        "a String, s String",
        "TSV",
        b"a\\\nb\t1\n7\tq\n",
        &["--setting", "input_format_tsv_skip_first_lines=1"],
    );
    same_as_server(
        "s String, a UInt8",
        "CSV",
        b"\"a\nb\",1\n7,q\n",
        &["--setting", "input_format_csv_skip_first_lines=1"],
    );
    same_as_server(
        "s String, a UInt8",
        "CSV",
        b"h\n1,2\n\"a\nb\",1\n7,q\n",
        &["--setting", "input_format_csv_skip_first_lines=2"],
    );
    // Over several batches (the later ones without the skip), a bad row far on.
    let mut big = b"h1\nh2\n".to_vec();
    big.extend((1..=25_000).flat_map(|i| format!("{}\tr{i}\n", i % 200).into_bytes()));
    big.extend_from_slice(b"x300\tbad\n7\tz\n");
    same_as_server("a UInt8, s String", "TSV", &big, &skip);
    let trailing = ["--setting", "input_format_tsv_skip_trailing_empty_lines=1"];
    same_as_server("a UInt8, s String", "TSV", b"1\tx\n\n\n", &trailing);
    same_as_server("a UInt8, s String", "TSV", b"1\tx\n\n2\ty\n\n", &trailing);
    same_as_server(
        "a UInt8, s String",
        "CSV",
        b"1,x\n\n\n",
        &["--setting", "input_format_csv_skip_trailing_empty_lines=1"],
    );
    // A header with the names in another order; with names and types.
    same_as_server("a String, b String", "TSV", b"b\ta\nx\ty\n", &[]);
    same_as_server("a String, b String", "CSV", b"b,a\nx,y\n", &[]);
    same_as_server("a String, b String", "TSV", b"b\ta\nInt32\tString\n1\tx\n", &[]);
    // DEFAULT on columns no NULL can stand in for, and under settings that leave every row to the
    // server (`compatibility`).
    let defaults = "a Int32, b Nullable(Int32) DEFAULT a + 10, c Array(Int32) DEFAULT [a], \
                    m Map(String, Int32) DEFAULT map('k', a), t Tuple(Int32, String) DEFAULT (a, 't')";
    same_as_server(defaults, "JSONEachRow", b"{\"a\":1}\n{\"a\":2,\"b\":null,\"c\":null}\n{\"a\":3,\"c\":[7]}\n", &[]);
    same_as_server(defaults, "TSV", b"1\t\\N\t\\N\t\\N\t\\N\n2\t5\t[1]\t{}\t(0,'')\n", &[]);
    same_as_server(defaults, "CSV", b"1,,,,\n", &[]);
    same_as_server(defaults, "TSV", b"1\t\\N\t[2]\t{}\t(0,'')\n", &["--setting", "compatibility=20.1"]);
    // DEFAULT expressions of scalar columns: omitted, NULL, empty.
    same_as_server(
        "k Int32, v Int32 DEFAULT k * 10",
        "JSONEachRow",
        b"{\"k\":1}\n{\"k\":2,\"v\":7}\n{\"k\":3,\"v\":null}\n",
        &[],
    );
    same_as_server("k Int32, v Int32 DEFAULT 42", "CSV", b"1,\n2,5\n3,\\N\n", &[]);
    same_as_server("k Int32, v String DEFAULT 'd'", "TSV", b"1\t\\N\n2\tx\n", &[]);
}

#[test]
fn what_a_second_adversary_found_reads_as_the_server_reads() {
    // Settings that change the syntax, over more rows than one batch: each batch after the first is
    // led by the previous batch's last row (in the user's syntax), not by a row of defaults.
    let csv: Vec<u8> = (1..=25_000).flat_map(|i| format!("{i};v{i}\n").into_bytes()).collect();
    same_as_server("a Int64, s String", "CSV", &csv, &["--setting", "format_csv_delimiter=;"]);
    let tsv: Vec<u8> = (1..=12_000).flat_map(|i| format!("{i}\tNULL\n").into_bytes()).collect();
    same_as_server("a Int64, s Nullable(String)", "TSV", &tsv, &["--setting", "format_tsv_null_representation=NULL"]);
    // Settings that act on the input as a whole are refused, not applied per batch.
    let c = modern();
    let t = table("chc_whole_input");
    c.command(&format!("CREATE TABLE {t} (a Int64) ENGINE = Memory")).unwrap();
    let out = chc_stdin(&["--setting", "input_format_allow_errors_num=1", "insert", &t], b"1\n");
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    c.command(&format!("DROP TABLE {t}")).unwrap();
    // JSON arrays of rows: broken ones fail as the server's do, odd good ones pass.
    for input in [
        &b"[{\"a\":1,\"s\":\"x\"},]"[..],
        b"[,{\"a\":1}]",
        b"[{\"a\":1},,{\"a\":2}]",
        b"[{\"a\":2,\"s\":\"x\"}",
        b"[{\"a\":3,\"s\":\"x\"}]\n{\"a\":4,\"s\":\"y\"}\n",
        b"\xef\xbb\xbf[{\"a\":1,\"s\":\"x\"}]",
        b"[]",
        b"[{\"a\":1}{\"a\":2}]",
        b"[{\"a\":+1},{\"a\":2}]",
    ] {
        same_as_server("a Int32, s String", "JSONEachRow", input, &[]);
    }
    // The query chc makes for old instants is not bent by the user's result settings.
    let sql = "SELECT number, toDateTime64(-number * 100000.5, 3, 'Europe/Amsterdam') AS x FROM numbers(5)";
    let out = chc(&["--setting", "offset=1", "query", sql]);
    let server = c
        .raw_query_with(sql, Some("TabSeparated"), &clickhouse_connect::CallOptions::new().setting("offset", 1))
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&server));
    // Zones whose rules the server has newer than the bundled database: read by the server.
    same_as_server(
        "k Int32, a DateTime('America/Winnipeg'), b DateTime64(3, 'America/Winnipeg'), h DateTime('America/Havana')",
        "TSV",
        b"1\t2026-11-25 17:00:00\t2026-11-25 17:00:00.000\t2026-12-25 12:00:00\n",
        &[],
    );
    // A backslash can spell a setting's name in a quoted identifier.
    let sql = "SELECT true AS b SETTINGS `bool_true_r\\x65presentation` = 'yes'";
    assert_eq!(chc(&["query", sql]).stdout, c.raw_query(sql, Some("TabSeparated")).unwrap());
}

#[test]
fn what_a_third_adversary_found_reads_as_the_server_reads() {
    // CSV quoting and delimiters as the settings say, over several batches.
    let piped: Vec<u8> = (1..=10_001).flat_map(|i| format!("{i}|\"p\n{i}\"\n").into_bytes()).collect();
    same_as_server("a Int32, s String", "CSV", &piped, &["--setting", "format_csv_delimiter=|"]);
    let single: Vec<u8> = (1..=10_001).flat_map(|i| format!("{i},'p\n{i}',2\n").into_bytes()).collect();
    same_as_server(
        "a Int32, s String, e Enum8('x' = 1, 'y' = 2)",
        "CSV",
        &single,
        &["--setting", "format_csv_allow_single_quotes=1", "--setting", "input_format_csv_enum_as_number=1"],
    );
    let mut literal: Vec<u8> = Vec::new();
    for i in 1..=12_001 {
        literal.extend_from_slice(
            if i == 11_000 { b"bad,x,1\n".to_vec() } else { format!("{i},\"x{i},1\n").into_bytes() }.as_slice(),
        );
    }
    same_as_server(
        "a Int32, s String, e Enum8('x' = 1, 'y' = 2)",
        "CSV",
        &literal,
        &["--setting", "format_csv_allow_double_quotes=0"],
    );
    // JSON: one comma after a row, no other; a byte order mark only at the very start.
    for input in [
        &b"{\"a\":1},,{\"a\":2}"[..],
        b"{\"a\":1}\n,\n,\n{\"a\":2}\n",
        b",{\"a\":1}",
        b"{\"a\":1},{\"a\":2}\n",
        b"\xef\xbb\xbf\xef\xbb\xbf{\"a\":1}",
        b"\xef\xbb\xbf{\"a\":1}",
    ] {
        same_as_server("a Int32, s String", "JSONEachRow", input, &[]);
    }
}

#[test]
fn on_18_16_rows_in_the_servers_forms_are_read_and_others_refused() {
    let c = legacy();
    let (ours, theirs) = (table("chc_legacy_ours"), table("chc_legacy_theirs"));
    for t in [&ours, &theirs] {
        c.command(&format!("CREATE TABLE {t} (k Int32, v Nullable(String), d Date, t DateTime) ENGINE = Memory"))
            .unwrap();
    }
    let run = |args: &[&str], input: &[u8]| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_chc"))
            .args(args)
            .env("CLICKHOUSE_URL", env("CH_LEGACY_URL"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input).unwrap();
        child.wait_with_output().unwrap()
    };
    // 18.16's own forms (zero dates, \N) are read by chc and stored as the server stores them.
    let input = b"1,\\N,0000-00-00,0000-00-00 00:00:00\n2,\"x\",2020-01-01,\"2020-01-01 10:00:00\"\n";
    let out = run(&["insert", &ours, "--format", "CSV"], input);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    c.raw_insert(&theirs, &[], "CSV", input).unwrap();
    let rows = |t: &str| c.raw_query(&format!("SELECT * FROM {t} ORDER BY k FORMAT TabSeparated"), None).unwrap();
    assert_eq!(rows(&ours), rows(&theirs));
    // Another form (an empty field, which 18.16 reads otherwise than 26.9) is refused at its row,
    // saying why, the rows before it inserted.
    let out = run(
        &["insert", &ours, "--format", "CSV"],
        b"3,y,2020-01-01,2020-01-01 00:00:00\n4,,2020-01-01,2020-01-01 00:00:00\n",
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("row 2 (line 2)") && err.contains("format() arrived in 21.1"), "{err}");
    assert_eq!(c.command(&format!("SELECT count() FROM {ours}")).unwrap().as_str(), "3");
    // Output equals the server's, rendered by chc and by the server.
    for sql in [
        format!("SELECT * FROM {theirs} ORDER BY k"),
        format!("SELECT k, count() FROM {theirs} GROUP BY k WITH TOTALS ORDER BY k"),
        // 18.16's Native says `DateTime` for these: its own text has their zones.
        "SELECT toDateTime(99999999, 'Europe/Berlin') AS a, toDateTime(99999999, 'Asia/Kolkata') AS b".to_string(),
    ] {
        for (f, server) in [("TSV", "TabSeparated"), ("CSV", "CSV"), ("JSONEachRow", "JSONEachRow")] {
            let out = run(&["query", "--format", f, &sql], b"");
            assert!(out.status.success(), "{sql}: {}", String::from_utf8_lossy(&out.stderr));
            assert_eq!(out.stdout, c.raw_query(&sql, Some(server)).unwrap(), "{sql} {f}");
        }
    }
    for t in [&ours, &theirs] {
        c.command(&format!("DROP TABLE {t}")).unwrap();
    }
}

#[test]
fn query_text_the_server_renders_is_found_quoted_or_in_settings() {
    let c = modern();
    for (sql, theirs, ours) in [
        ("SELECT number FROM numbers(3) SETTINGS `extremes` = 1", "TabSeparated", "TSV"),
        ("SELECT 1::Int64 AS x SETTINGS \"output_format_json_quote_64bit_integers\" = 1", "JSONEachRow", "JSONEachRow"),
        (
            "SELECT toDateTime64('2020-01-01 00:00:00.5', 6) AS d \
             SETTINGS date_time_64_output_format_cut_trailing_zeros_align_to_groups_of_thousands = 1",
            "TabSeparated",
            "TSV",
        ),
    ] {
        let out = chc(&["query", "--format", ours, sql]);
        assert!(out.status.success(), "{sql}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.stdout, c.raw_query(sql, Some(theirs)).unwrap(), "{sql}");
    }
    // A failure in the middle of a result the server renders: its exception goes to stderr, only
    // whole rows to stdout.
    let out = chc(&[
        "query",
        "SELECT number, throwIf(number = 150000) FROM numbers(300000) SETTINGS max_block_size = 1000, extremes = 0",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Code: 395"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.is_empty() || text.ends_with("\t0\n"), "{:?}", &text[text.len().saturating_sub(200)..]);
    assert!(text.lines().all(|l| l.ends_with("\t0") && l.split('\t').next().unwrap().parse::<u64>().is_ok()));
    // Parameters are the server's to read, as it reads `param_NAME`.
    for (param, sql) in [
        ("x=\\N", "SELECT {x:Nullable(String)} IS NULL"),
        ("x=a\\tb", "SELECT length({x:String})"),
        ("x=256", "SELECT {x:UInt8}"),
        ("t=system", "SELECT count() > 0 FROM {t:Identifier}.one"),
    ] {
        let out = chc(&["query", "--param", param, sql]);
        let (name, value) = param.split_once('=').unwrap();
        let server = c
            .raw_query_with(
                sql,
                Some("TabSeparated"),
                &clickhouse_connect::CallOptions::new().setting(format!("param_{name}"), value),
            )
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&server), "{param} {sql}");
    }
}

#[test]
fn server_errors_exit_non_zero_with_code_and_message() {
    let out = chc(&["query", "SELECT no_such_column"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Code: 47") && err.contains("no_such_column"), "{err}");
    let out = chc(&["query", "--format", "Bogus", "SELECT 1"]);
    assert_eq!(out.status.code(), Some(2));
    let out = chc(&["command", "SELECT 40 + 2"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "42\n");
    let out = chc(&["query", "--param", "n=3", "--param", "s=it's", "SELECT {n:UInt8} * 2, {s:String}"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "6\tit\\'s\n");
}

#[test]
fn without_a_url_an_embedded_server_is_started_and_stopped_from_an_installed_binary() {
    // chc copied out of the build tree, with a home of its own: it finds its engine in
    // ~/.cache/chc/venv (here a link to the one scripts/install made, so the test installs nothing).
    let home = std::env::temp_dir().join(format!("chc-home-{}", std::process::id()));
    let bin = home.join("bin");
    std::fs::create_dir_all(home.join(".cache/chc")).unwrap();
    std::fs::create_dir_all(&bin).unwrap();
    let repo_venv = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.cache/venv").canonicalize().unwrap();
    std::os::unix::fs::symlink(&repo_venv, home.join(".cache/chc/venv")).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_chc"), bin.join("chc")).unwrap();
    let out = Command::new(bin.join("chc"))
        .args(["query", "SELECT version(), 1 + 1"])
        .env_remove("CLICKHOUSE_URL")
        .env_remove("CHC_VENV")
        .env_remove("XDG_CACHE_HOME")
        .env("HOME", &home)
        .current_dir(&home)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("26.9") && text.ends_with("\t2\n"), "{text}");
    // Stopped and cleaned up: no directory of this run's server is left.
    let left: Vec<_> = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("chc-embedded-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    // Without an engine and without python to make one, the error says what to do.
    let out = Command::new(bin.join("chc"))
        .args(["query", "SELECT 1"])
        .env_remove("CLICKHOUSE_URL")
        .env("CHC_VENV", home.join("nowhere/venv"))
        .env("PATH", home.join("empty-path"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("chdb-core==26.9.0") && stderr.contains("python3"), "{stderr}");
    std::fs::remove_dir_all(&home).unwrap();
}

#[test]
fn a_closed_output_ends_the_query_quietly() {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_chc"))
        .args(["query", "SELECT number FROM numbers(10000000000)"])
        .env("CLICKHOUSE_URL", env("CH_MODERN_URL"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert_eq!(first, "0\n");
    // The pipe is closed here (`| head -1`): chc stops at once, with no error.
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_huge_bad_field_is_not_echoed_and_passwords_stay_out_of_errors() {
    let c = modern();
    let t = table("chc_huge_field");
    c.command(&format!("CREATE TABLE {t} (id UInt64, s String) ENGINE = Memory")).unwrap();
    // 1 good row, then a 30 MB value that is not a number.
    let mut input = b"1\tok\n".to_vec();
    input.extend(std::iter::repeat_n(b'x', 30 << 20));
    input.extend_from_slice(b"\tbad\n");
    let out = chc_stdin(&["insert", &t, "--format", "TSV"], &input);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.len() < 1000, "{} bytes on stderr", stderr.len());
    assert!(stderr.contains("row 2"), "{stderr}");
    assert_eq!(c.command(&format!("SELECT count() FROM {t}")).unwrap(), "1");
    c.command(&format!("DROP TABLE {t}")).unwrap();
    // A URL with a password that cannot be used: the message never shows the password.
    for url in [
        "bob:Sup3r-S3cret@127.0.0.1:1",
        "http://bob:Sup3r-S3cret%zz@127.0.0.1:1",
        "http://bob:Sup3r-S3cret@127.0.0.1:1",
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_chc")).args(["--url", url, "query", "SELECT 1"]).output().unwrap();
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("Sup3r-S3cret") && !stderr.is_empty(), "{url}: {stderr}");
    }
}

#[test]
fn a_readonly_user_queries_with_progress_and_frame_compression() {
    for compress in ["lz4", "zstd", "none"] {
        let out = chc(&[
            "--user",
            &env("CH_READONLY_USER"),
            "--progress",
            "--compress",
            compress,
            "query",
            "SELECT number FROM numbers(1000)",
        ]);
        assert!(out.status.success(), "{compress}: {}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1000);
    }
    // A setting the user gives and may not change is refused, as the server refuses it (dropped, the
    // result would be another one than asked for).
    let user = env("CH_READONLY_USER");
    let out = chc(&["--user", &user, "--setting", "session_timezone=Asia/Tokyo", "query", "SELECT toDateTime(0)"]);
    // The server's own answer, over plain HTTP (the library drops such a setting, as the Python
    // driver does).
    let server = std::process::Command::new("curl")
        .args(["-sS", &format!("{}/?user={user}&session_timezone=Asia/Tokyo", env("CH_MODERN_URL"))])
        .args(["--data-binary", "SELECT toDateTime(0)"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("readonly mode"));
    let server = String::from_utf8_lossy(&server.stdout);
    assert!(server.contains("Code: 164") && server.contains("readonly mode"), "the server refuses it too: {server}");
}

#[test]
fn chc_insert_skips_computed_columns_as_the_server_does() {
    let c = modern();
    let t = table("chc_computed");
    c.command(&format!(
        "CREATE TABLE {t} (a UInt64, b UInt64 MATERIALIZED a * 2, c String ALIAS toString(a), d UInt8 DEFAULT 7, \
         e UInt64 EPHEMERAL) ENGINE = MergeTree ORDER BY a"
    ))
    .unwrap();
    let out = chc_stdin(&["insert", &t, "--format", "TSV"], b"1\t2\n3\t4\n");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let twin = table("chc_computed_twin");
    c.command(&format!("CREATE TABLE {twin} AS {t}")).unwrap();
    c.raw_insert(&twin, &[], "TSV", b"1\t2\n3\t4\n").unwrap();
    let diff = format!("SELECT count() FROM (SELECT a, b, c, d FROM {t} EXCEPT ALL SELECT a, b, c, d FROM {twin})");
    assert_eq!(c.command(&diff).unwrap(), "0");
    assert_eq!(c.command(&format!("SELECT count() FROM {t}")).unwrap(), "2");
    c.command(&format!("DROP TABLE {t}")).unwrap();
    c.command(&format!("DROP TABLE {twin}")).unwrap();
}

#[test]
fn progress_counts_what_the_server_read_and_help_names_work() {
    let out = chc(&["--progress", "query", "SELECT count() FROM numbers(10000000)"]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "10000000\n");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("10,000,000 rows read"), "{stderr}");
    // Every compression name --help lists is accepted.
    let help = String::from_utf8_lossy(&chc(&["--help"]).stdout).into_owned();
    let line = help.lines().skip_while(|l| !l.contains("--compress")).take(4).collect::<Vec<_>>().join(" ");
    for name in ["none", "lz4", "zstd", "gzip", "deflate", "br", "http-zstd", "http-lz4"] {
        assert!(line.contains(name), "{name} not in {line}");
        let out = chc(&["--compress", name, "query", "SELECT 1"]);
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn output_failures_exit_1_huge_keys_are_not_echoed_and_url_credentials_work() {
    // A full disk is not a usage error, and never a panic.
    for cmd in [["command", "SELECT 1"], ["query", "SELECT 1"]] {
        let out = Command::new(env!("CARGO_BIN_EXE_chc"))
            .args(cmd)
            .env("CLICKHOUSE_URL", env("CH_MODERN_URL"))
            .stdout(std::fs::File::create("/dev/full").unwrap())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stderr).contains("cannot write the output"));
    }
    // A 20 MB JSON value the column does not take: the error does not echo it.
    let c = modern();
    let t = table("chc_json_key");
    c.command(&format!("CREATE TABLE {t} (a UInt8) ENGINE = Memory")).unwrap();
    let mut line = b"{\"a\":\"".to_vec();
    line.extend(std::iter::repeat_n(b'k', 20 << 20));
    line.extend_from_slice(b"\"}\n");
    let out = chc_stdin(&["insert", &t, "--format", "JSONEachRow"], &line);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.len() < 2000, "{} bytes on stderr", out.stderr.len());
    c.command(&format!("DROP TABLE {t}")).unwrap();
    // ClickHouse's own URL form for credentials.
    let url = format!("{}/?user={}&password={}", env("CH_MODERN_URL"), env("CH_PASSWORD_USER"), env("CH_PASSWORD"));
    let out = Command::new(env!("CARGO_BIN_EXE_chc"))
        .args(["--url", &url, "query", "SELECT currentUser()"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), env("CH_PASSWORD_USER"));
}

#[test]
fn help_never_shows_the_url_from_the_environment() {
    for args in [&["--help"][..], &["query", "--help"][..]] {
        let out = Command::new(env!("CARGO_BIN_EXE_chc"))
            .args(args)
            .env("CLICKHOUSE_URL", "http://bob:Sup3r-S3cret@127.0.0.1:1/?password=Sup3r-S3cret")
            .env("CLICKHOUSE_PASSWORD", "Sup3r-S3cret")
            .output()
            .unwrap();
        let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(!all.contains("Sup3r-S3cret"), "{args:?}: {all}");
    }
    // 18.16: an exception after data started is an error for `command` too.
    let out = Command::new(env!("CARGO_BIN_EXE_chc"))
        .args([
            "command",
            "SELECT number, throwIf(number = 150000) FROM numbers(300000) SETTINGS max_block_size = 10000",
        ])
        .env("CLICKHOUSE_URL", env("CH_LEGACY_URL"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Code: 395"));
}

#[test]
fn tsv_backslashes_before_ordinary_characters_are_kept_as_the_server_keeps_them() {
    // Issue 15's first case: `C:\data`, `a\qb`, `a\Nb` as the server's own TSV parser stores them.
    let c = modern();
    let ours = table("chc_tsv_bs");
    let server = table("chc_tsv_bs_server");
    for t in [&ours, &server] {
        c.command(&format!("CREATE TABLE {t} (n UInt8, s String) ENGINE = Memory")).unwrap();
    }
    let tsv = b"1\tC:\\data\n2\ta\\qb\n3\ta\\Nb\n4\t100\\%\n5\ta\\/b\\'c\\\"d\\`e\\\\f\n6\tx\\ty\\x41\n";
    let out = chc_stdin(&["insert", &ours, "--format", "TSV"], tsv);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    c.raw_insert(&server, &[], "TSV", tsv).unwrap();
    for (x, y) in [(&ours, &server), (&server, &ours)] {
        let diff = c.command(&format!("SELECT count() FROM (SELECT * FROM {x} EXCEPT ALL SELECT * FROM {y})")).unwrap();
        assert_eq!(diff, "0", "{x} vs {y}");
    }
    assert_eq!(c.command(&format!("SELECT count() FROM {ours}")).unwrap(), "6");
    c.command(&format!("DROP TABLE {ours}")).unwrap();
    c.command(&format!("DROP TABLE {server}")).unwrap();
}

#[test]
fn variant_dynamic_json_and_qbit_move_between_tables_as_the_server_moves_them() {
    // A table of the new types, rendered by chc as the server renders it, read back by chc exactly as
    // the server reads the same text (the server infers types in Dynamic and JSON from text, so the
    // oracle is its own insert of the same bytes, compared as RowBinary), and copied unchanged in Native.
    let c = modern();
    let columns = "n UInt64, v Variant(String, UInt64, Array(Nullable(Int16)), Tuple(a UInt8, b String)), d Dynamic, \
        d0 Dynamic(max_types = 0), ad Array(Dynamic), j JSON, j1 JSON(max_dynamic_paths = 1), jt JSON(a.b UInt32, SKIP z), \
        q QBit(Float32, 4), mv Map(String, Variant(String, Float64))";
    let src = table("chc17_src");
    c.command(&format!("CREATE TABLE {src} ({columns}) ENGINE = Memory")).unwrap();
    c.command(&format!(
        "INSERT INTO {src} SELECT number AS n, multiIf(n % 5 = 0, NULL, n % 5 = 1, toString(n)::Variant(String), \
         n % 5 = 2, n::Variant(UInt64), n % 5 = 3, [toInt16(n), NULL]::Variant(Array(Nullable(Int16))), \
         (n % 256, 'q''\\t\"')::Tuple(a UInt8, b String)::Variant(Tuple(a UInt8, b String))) AS v, v, v, [v::Dynamic, NULL, n::Dynamic], \
         concat('{{\"a\":{{\"b\":', toString(n), '}},\"s\":\"x\\\\t', toString(n), '\",\"f\":', toString(n / 3), \
         if(n % 3 = 0, ',\"arr\":[{{\"k\":\"v\"}}],\"z\":1', ''), '}}') AS j, j, j, [1, -2.5, n, 1e30], \
         map('k', if(n % 2 = 0, toString(n)::Variant(String, Float64), (n / 3)::Variant(String, Float64))) \
         FROM numbers(200)"
    ))
    .unwrap();
    let sql = format!("SELECT * FROM {src} ORDER BY n");
    for (ours, theirs) in [("TSV", "TabSeparated"), ("CSV", "CSV"), ("JSONEachRow", "JSONEachRow")] {
        let out = chc(&["query", "--format", ours, &sql]);
        assert!(out.status.success(), "{ours}: {}", String::from_utf8_lossy(&out.stderr));
        let server = c.raw_query(&sql, Some(theirs)).unwrap();
        assert!(out.stdout == server, "{ours} output differs from the server's");
        same_as_server(columns, ours, &server, &[]);
    }
    // Geometry: the server cannot read its own CSV of it (a point spread over two fields); chc refuses
    // it as the server does, and reads the other formats as the server does.
    let geometry = "g Geometry, ag Array(Geometry)";
    let gsql = "SELECT g, [g] FROM (SELECT arrayJoin([((1.5, -2)::Point)::Geometry, [(1, 2)]::Ring::Geometry, \
        [[[(0, 0), (3, 1)]]]::MultiPolygon::Geometry, [(7, 8)]::MultiPoint::Geometry, NULL]) AS g)";
    for (ours, theirs) in [("TSV", "TabSeparated"), ("CSV", "CSV"), ("JSONEachRow", "JSONEachRow")] {
        let server = c.raw_query(gsql, Some(theirs)).unwrap();
        assert_eq!(chc(&["query", "--format", ours, gsql]).stdout, server, "{ours}");
        same_as_server(geometry, ours, &server, &[]);
    }
    // Native: chc's output into chc's insert copies every value and type unchanged.
    let dst = table("chc17_dst");
    c.command(&format!("CREATE TABLE {dst} ({columns}) ENGINE = Memory")).unwrap();
    let native = chc(&["query", "--format", "Native", &sql]);
    assert!(native.status.success(), "{}", String::from_utf8_lossy(&native.stderr));
    let out = chc_stdin(&["insert", &dst, "--format", "Native"], &native.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // (RowBinary lists a JSON row's paths in storage order, so values and types are compared instead.)
    let text = "n, toString(v), variantType(v), toString(d), dynamicType(d), toString(d0), dynamicType(d0), toString(ad), \
        arrayMap(x -> dynamicType(x), ad), toString(j), toString(JSONAllPathsWithTypes(j)), toString(j1), \
        toString(JSONAllPathsWithTypes(j1)), toString(jt), toString(JSONAllPathsWithTypes(jt)), toString(q), toString(mv)";
    for (a, b) in [(&src, &dst), (&dst, &src)] {
        let sql = format!("SELECT count() FROM (SELECT {text} FROM {a} EXCEPT SELECT {text} FROM {b})");
        assert_eq!(c.command(&sql).unwrap(), "0", "{a} against {b}");
    }
    assert_eq!(c.command(&format!("SELECT count() FROM {dst}")).unwrap(), "200");
    for t in [&src, &dst] {
        c.command(&format!("DROP TABLE {t}")).unwrap();
    }
}

#[test]
fn native_input_of_other_types_into_variant_dynamic_and_json_is_converted_by_the_server() {
    // A Native file whose columns are not of the table's types: into Dynamic, Variant and JSON columns
    // the server converts (keeping a variant's named tuple and LowCardinality in a Dynamic, inferring
    // JSON path types its own way), so chc sends those blocks as they are, as the server's own insert.
    let c = modern();
    let file = c
        .raw_query(
            "SELECT multiIf(number % 3 = 0, (1, 'x')::Tuple(a UInt8, b String)::Variant(Tuple(a UInt8, b String), UInt64), \
             number % 3 = 1, number::Variant(Tuple(a UInt8, b String), UInt64), NULL) AS v, \
             toLowCardinality(toString(number))::Variant(LowCardinality(String), UInt8) AS lcv, \
             concat('{\"a\":{\"b\":', toString(number), '},\"s\":\"x\"}')::JSON(a.b UInt32) AS jt, number AS n \
             FROM numbers(200) SETTINGS allow_suspicious_low_cardinality_types = 1",
            Some("Native"),
        )
        .unwrap();
    same_as_server("v Dynamic, lcv Dynamic, jt JSON, n UInt64", "Native", &file, &[]);
    same_as_server(
        "v Variant(Tuple(a UInt8, b String), UInt64, String), lcv Dynamic, jt JSON(a.b Int64), n Dynamic",
        "Native",
        &file,
        &[],
    );
}

#[test]
fn aggregate_states_in_text_move_as_the_server_moves_them_beyond_one_batch() {
    // Megabytes of states in text: chc hands them to the server's parser in batches, each led by a row
    // of defaults whose states are the functions' empty states (an empty string is no state at all).
    let c = modern();
    let columns = "id UInt64, ga AggregateFunction(groupArray, String), ue AggregateFunction(uniqExact, String), \
        q AggregateFunction(quantiles(0.5, 0.9), UInt64), s AggregateFunction(sum, Nullable(UInt64)), \
        m AggregateFunction(max, String)";
    let src = table("chc_agg_src");
    c.command(&format!("CREATE TABLE {src} ({columns}) ENGINE = Memory")).unwrap();
    c.command(&format!(
        "INSERT INTO {src} SELECT number % 50, groupArrayState(repeat('x', number % 40)), uniqExactState(toString(number)), \
         quantilesState(0.5, 0.9)(number), sumState(if(number % 3 = 0, NULL, number)), maxState(toString(number)) \
         FROM numbers(100000) GROUP BY 1"
    ))
    .unwrap();
    // (A state read back from bytes may list a hash set in another order, so the tables are compared by
    // what their states finalize to.)
    let finals = "id, finalizeAggregation(ga), finalizeAggregation(ue), finalizeAggregation(q), \
        finalizeAggregation(s), finalizeAggregation(m)";
    for (ours, theirs) in [("TSV", "TabSeparated"), ("CSV", "CSV"), ("JSONEachRow", "JSONEachRow")] {
        let text = c.raw_query(&format!("SELECT * FROM {src} ORDER BY id"), Some(theirs)).unwrap();
        assert!(text.len() > 2 << 20, "{ours}: {} bytes", text.len());
        let (a, b) = (table("chc_agg_ours"), table("chc_agg_theirs"));
        for t in [&a, &b] {
            c.command(&format!("CREATE TABLE {t} ({columns}) ENGINE = Memory")).unwrap();
        }
        let out = chc_stdin(&["insert", &a, "--format", ours], &text);
        assert!(out.status.success(), "{ours}: {}", String::from_utf8_lossy(&out.stderr));
        c.raw_insert(&b, &[], theirs, &text).unwrap();
        for (x, y) in [(&a, &b), (&b, &a), (&src, &a)] {
            let sql = format!("SELECT count() FROM (SELECT {finals} FROM {x} EXCEPT SELECT {finals} FROM {y})");
            assert_eq!(c.command(&sql).unwrap(), "0", "{ours}: {x} against {y}");
        }
        assert_eq!(c.command(&format!("SELECT count() FROM {a}")).unwrap(), "50");
        for t in [&a, &b] {
            c.command(&format!("DROP TABLE {t}")).unwrap();
        }
    }
    c.command(&format!("DROP TABLE {src}")).unwrap();
}

/// `chc query --format Parquet | ArrowStream` writes from the decoded blocks; the server reads the file
/// back (`INSERT … FORMAT Parquet`) into a table of the same structure, equal to the source (EXCEPT
/// both ways), for every type with an Arrow mapping.
#[test]
fn parquet_and_arrow_stream_written_by_chc_are_read_back_by_the_server_unchanged() {
    let c = common::modern();
    let settings = "SETTINGS allow_suspicious_low_cardinality_types = 1";
    let types: Vec<&str> = common::TYPES.iter().copied().filter(|t| !t.starts_with("Nested")).collect();
    let mut failures = Vec::new();
    for (g, group) in types.chunks(8).enumerate() {
        let cols = common::structure(group, false);
        let src = common::table("chc_pq_src");
        c.command(&format!("CREATE TABLE {src} (id UInt32, {cols}) ENGINE = Memory {settings}")).unwrap();
        c.command(&format!(
            "INSERT INTO {src} SELECT rowNumberInAllBlocks(), * FROM generateRandom('{}', {}, 10, 3) LIMIT 3000 {settings}",
            common::structure(group, true),
            70 + g
        ))
        .unwrap();
        for format in ["Parquet", "ArrowStream"] {
            let out = chc(&[
                "query",
                "--format",
                format,
                &format!("SELECT * FROM {src} ORDER BY id SETTINGS max_block_size = 1000"),
            ]);
            assert!(out.status.success(), "{format} {cols}: {}", String::from_utf8_lossy(&out.stderr));
            let dst = common::table("chc_pq_dst");
            c.command(&format!("CREATE TABLE {dst} (id UInt32, {cols}) ENGINE = Memory {settings}")).unwrap();
            if let Err(e) = c.raw_insert(&dst, &[], format, &out.stdout) {
                failures.push(format!("{format} {cols}: the server cannot read it: {e}"));
                continue;
            }
            for (a, b) in [(&src, &dst), (&dst, &src)] {
                let diff =
                    c.command(&format!("SELECT count() FROM (SELECT * FROM {a} EXCEPT SELECT * FROM {b})")).unwrap();
                if diff != "0" {
                    failures.push(format!("{format} {cols}: {diff} rows of {a} not in {b}"));
                }
            }
            assert_eq!(c.command(&format!("SELECT count() FROM {dst}")).unwrap(), "3000");
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // An empty result has no block, hence no schema: the server's own file (read-only queries).
    let out = chc(&["query", "--format", "Parquet", "SELECT number AS n FROM numbers(5) WHERE n > 10"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.starts_with(b"PAR1"), "not a Parquet file");
}

/// Blocks the adversary of the Arrow mapping found hard: LowCardinality(Nullable) blocks of NULLs only
/// (an empty dictionary once its NULL placeholder is left out), empty nested dictionaries, and
/// Nullable(Enum) holding NULLs, through `--format Parquet | ArrowStream` and back into the server.
#[test]
fn parquet_and_arrow_stream_of_null_only_dictionaries_and_nullable_enums_read_back_unchanged() {
    let c = common::modern();
    let cols = "id UInt32, lc LowCardinality(Nullable(String)), al Array(LowCardinality(Nullable(String))), \
                e Nullable(Enum8('a' = 1, 'b' = -2)), m Map(LowCardinality(String), Nullable(Enum16('x' = -300, 'y' = 7)))";
    let src = common::table("chc_pq_null_src");
    c.command(&format!("CREATE TABLE {src} ({cols}) ENGINE = Memory")).unwrap();
    c.command(&format!(
        "INSERT INTO {src} SELECT number, if(number < 7 OR number > 11, NULL, toString(number % 2)), \
         if(number < 5, [], [if(number % 3 = 0, NULL, toString(number))]), if(number % 4 = 0, NULL, if(number % 2 = 0, 'a', 'b')), \
         if(number < 6, map(), map(toString(number % 3), if(number % 2 = 0, NULL, 'y'))) FROM numbers(15)"
    ))
    .unwrap();
    for format in ["Parquet", "ArrowStream"] {
        let out = chc(&[
            "query",
            "--format",
            format,
            &format!("SELECT * FROM {src} ORDER BY id SETTINGS max_block_size = 3"),
        ]);
        assert!(out.status.success(), "{format}: {}", String::from_utf8_lossy(&out.stderr));
        let dst = common::table("chc_pq_null_dst");
        c.command(&format!("CREATE TABLE {dst} ({cols}) ENGINE = Memory")).unwrap();
        c.raw_insert(&dst, &[], format, &out.stdout).unwrap_or_else(|e| panic!("{format}: {e}"));
        for (a, b) in [(&src, &dst), (&dst, &src)] {
            let diff = c.command(&format!("SELECT count() FROM (SELECT * FROM {a} EXCEPT SELECT * FROM {b})")).unwrap();
            assert_eq!(diff, "0", "{format}: rows of {a} not in {b}");
        }
        assert_eq!(c.command(&format!("SELECT count() FROM {dst}")).unwrap(), "15");
    }
}
