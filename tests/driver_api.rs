//! The Python driver's contract, item by item (issue 14), against 26.9 and 18.16 — on both drivers (the
//! blocking `Client` and the `AsyncClient`) where both have the call.

mod common;
#[path = "common/drivers.rs"]
mod drivers;

use clickhouse_connect::CallOptions;
use clickhouse_connect::native::TypeDesc;
use common::{modern, table};
use drivers::Driver;

/// Both drivers on both servers.
fn all_drivers() -> Vec<Driver> {
    let mut d = Driver::both("CH_MODERN_URL");
    d.extend(Driver::both("CH_LEGACY_URL"));
    d
}

#[test]
fn results_carry_type_objects_and_the_query_id_on_every_server() {
    for c in all_drivers() {
        let id = format!("api-{}", table("q"));
        let r =
            c.query_with("SELECT toUInt64(1) AS a, 'x' AS b, [1.5] AS c", &CallOptions::new().query_id(&id)).unwrap();
        assert_eq!(r.query_id.as_deref(), Some(id.as_str()), "{} {}", c.blocking().server_version(), c.name());
        assert_eq!(r.column_types[0], TypeDesc::UInt64);
        assert_eq!(r.column_types[1], TypeDesc::String);
        assert_eq!(r.column_types[2], TypeDesc::Array(Box::new(TypeDesc::Float64)));
        assert_eq!(r.column_type_names, ["UInt64", "String", "Array(Float64)"]);
        // Without an id, the one the query ran under (the server's, or the client's on 18.16).
        let r = c.query("SELECT 1").unwrap();
        assert!(r.query_id.is_some_and(|q| q.len() == 36), "{} {}", c.blocking().server_version(), c.name());
    }
}

#[test]
fn command_returns_a_single_value_or_row_typed_and_takes_data() {
    use clickhouse_connect::Value;
    for c in all_drivers() {
        let v = c.command("SELECT count() FROM system.tables").unwrap();
        assert!(v.get::<u64>().unwrap() > 0, "{} {}", c.blocking().server_version(), c.name());
        assert!(matches!(v.value(), Some(Value::UInt64(_))));
        let r = c.command("SELECT 'it''s', CAST(NULL AS Nullable(UInt8)), 1.5, [1, 2]").unwrap();
        assert_eq!(
            r.row,
            vec![
                Value::from("it's"),
                Value::Null,
                Value::Float64(1.5),
                Value::Array(vec![Value::UInt8(1), Value::UInt8(2)])
            ]
        );
        assert_eq!(r, "it\\'s\t\\N\t1.5\t[1,2]");
        assert_eq!(r.column_names.len(), 4);
        // DDL: no value, no text.
        let t = table("cmd");
        let created = c.command(&format!("CREATE TABLE {t} (a UInt8, b String) ENGINE = Memory")).unwrap();
        assert!(created.value().is_none() && created.is_empty());
        // A body, as the driver's data=.
        c.command_with_data(&format!("INSERT INTO {t} FORMAT CSV"), b"1,\"x\"\n2,\"y\"\n", &CallOptions::new())
            .unwrap();
        assert_eq!(
            c.command(&format!("SELECT count(), max(b) FROM {t}")).unwrap().row,
            vec![Value::UInt64(2), Value::from("y")]
        );
        c.command(&format!("DROP TABLE {t}")).unwrap();
    }
    // use_database(false): the user's default database instead of the client's.
    let db = table("cmd_db");
    let c = modern();
    c.command(&format!("CREATE DATABASE {db}")).unwrap();
    for in_db in Driver::both_with("CH_MODERN_URL", |o| o.database = Some(db.clone())) {
        assert_eq!(in_db.command("SELECT currentDatabase()").unwrap(), db.as_str());
        assert_eq!(
            in_db.command_with("SELECT currentDatabase()", &CallOptions::new().use_database(false)).unwrap(),
            "default",
            "{}",
            in_db.name()
        );
    }
    c.command(&format!("DROP DATABASE {db}")).unwrap();
}

#[test]
fn values_display_as_the_servers_text_and_results_read_by_column() {
    let c = modern();
    let sql = "SELECT 1.5::Float64, 'a\\tb\\\\c', [1, NULL], (1, 'x'), map('k', 1), toDate('2020-01-02'), \
               toDateTime('2020-01-02 03:04:05', 'UTC'), toDecimal64(-1.25, 4), toUUID('61f0c404-5cb3-11e7-907b-a6006ad3dba0'), \
               toIPv6('::1'), true, toInt128(-5), [[1.25]], CAST(NULL AS Nullable(String))";
    let server = String::from_utf8(c.raw_query(sql, Some("TSV")).unwrap()).unwrap();
    let r = c.query(sql).unwrap();
    let ours: Vec<String> = r.rows[0].iter().map(|v| v.to_string()).collect();
    assert_eq!(ours.join("\t") + "\n", server);
    let cols = r.columns();
    assert_eq!(cols.len(), r.column_names.len());
    assert_eq!(cols[0], vec![r.rows[0][0].clone()]);
    // A Nullable column straight into Vec<Option<T>>, with per-call options.
    let opts = CallOptions::new().param("n", 5u64);
    let v: Vec<Option<u64>> =
        c.query_column_with("SELECT if(number % 2 = 0, NULL, number) FROM numbers({n:UInt64})", 0, &opts).unwrap();
    assert_eq!(v, vec![None, Some(1), None, Some(3), None]);
    let s: Vec<Option<String>> = c.query_column("SELECT toNullable('a') UNION ALL SELECT NULL", 0).unwrap();
    assert_eq!(s.len(), 2);
}

#[test]
fn every_insert_takes_per_call_options() {
    use clickhouse_connect::Value;
    for c in Driver::both("CH_MODERN_URL") {
        let db = table("opts_db");
        let t = table("opts_t");
        c.command(&format!("CREATE DATABASE {db}")).unwrap();
        c.command(&format!("CREATE TABLE {db}.{t} (a UInt64, b String) ENGINE = Memory")).unwrap();
        let o = CallOptions::new().database(&db).setting("max_insert_block_size", 1000);
        c.insert_columns_with(&t, &[], &[vec![Value::from(1u64)], vec![Value::from("x")]], &o).unwrap();
        c.insert_with_types_with(
            &t,
            &[("a", "UInt64"), ("b", "String")],
            &[vec![Value::from(2u64), Value::from("y")]],
            &o,
        )
        .unwrap();
        c.raw_insert_with(&t, &["a", "b"], "CSV", b"3,z\n", &o).unwrap();
        assert_eq!(c.command(&format!("SELECT count(), sum(a) FROM {db}.{t}")).unwrap(), "3\t6", "{}", c.name());
        c.command(&format!("DROP DATABASE {db}")).unwrap();
    }
}

#[test]
fn a_typed_builder_for_the_wrong_type_is_refused_before_sending() {
    use clickhouse_connect::native::FixedBuilder;
    for c in Driver::both("CH_MODERN_URL") {
        let t = table("builder_check");
        c.command(&format!("CREATE TABLE {t} (a UInt8) ENGINE = Memory")).unwrap();
        let mut b = FixedBuilder::<u64>::new("UInt8");
        b.push(1);
        let e = c.insert_block(&t, &[("a", &b)]).unwrap_err();
        assert!(e.to_string().contains("UInt8 takes values of Rust type u8, not u64"), "{e}");
        let mut ok = FixedBuilder::<u8>::new("UInt8");
        ok.push(1);
        c.insert_block(&t, &[("a", &ok)]).unwrap();
        assert_eq!(c.command(&format!("SELECT count() FROM {t}")).unwrap(), "1", "{}", c.name());
        c.command(&format!("DROP TABLE {t}")).unwrap();
    }
}

#[test]
fn inserts_convert_what_the_python_driver_accepts_exactly_as_the_server_parses_it() {
    for c in Driver::both("CH_MODERN_URL") {
        use clickhouse_connect::Value;
        let types = "d Decimal(18, 4), dt DateTime, dtz DateTime('Asia/Tokyo'), dt64 DateTime64(3, 'America/New_York'), \
                     dn Nullable(Date), u UUID, a4 IPv4, a6 IPv6, e Enum8('red' = 1, 'blue' = 2), n UInt32, b Bool, f Float64";
        let ours = table("conv_ours");
        let server = table("conv_server");
        c.command(&format!("CREATE TABLE {ours} ({types}) ENGINE = Memory")).unwrap();
        c.command(&format!("CREATE TABLE {server} ({types}) ENGINE = Memory")).unwrap();
        let civil = jiff::civil::date(2022, 10, 1).at(15, 20, 5, 123_000_000);
        let civil_s = jiff::civil::date(2022, 10, 1).at(15, 20, 5, 0);
        let rows = vec![
            vec![
                Value::from("12.5"),
                Value::from(civil_s),
                Value::from("2022-10-01 15:20:05"),
                Value::from(civil),
                Value::from("2020-02-29"),
                Value::from("61f0c404-5cb3-11e7-907b-a6006ad3dba0"),
                Value::from("10.0.0.1"),
                Value::from("::ffff:10.0.0.1"),
                Value::from("blue"),
                Value::from("42"),
                Value::from("true"),
                Value::from("1.5e3"),
            ],
            vec![
                Value::Float64(-0.0625),
                Value::from("2000-01-01 00:00:00"),
                Value::from(civil_s),
                Value::from("2022-10-01 15:20:05.5"),
                Value::Null,
                Value::from("00000000-0000-0000-0000-000000000001"),
                Value::from("255.255.255.255"),
                Value::from("2001:db8::1"),
                Value::from(1u8),
                Value::from(7u32),
                Value::from(false),
                Value::Float64(0.1),
            ],
        ];
        c.insert(&ours, &[], &rows).unwrap();
        // The same text through the server's own parser (the float as its shortest text).
        let tsv = "12.5\t2022-10-01 15:20:05\t2022-10-01 15:20:05\t2022-10-01 15:20:05.123\t2020-02-29\t\
                   61f0c404-5cb3-11e7-907b-a6006ad3dba0\t10.0.0.1\t::ffff:10.0.0.1\tblue\t42\ttrue\t1.5e3\n\
                   -0.0625\t2000-01-01 00:00:00\t2022-10-01 15:20:05\t2022-10-01 15:20:05.5\t\\N\t\
                   00000000-0000-0000-0000-000000000001\t255.255.255.255\t2001:db8::1\tred\t7\tfalse\t0.1\n";
        c.raw_insert(&server, &[], "TSV", tsv.as_bytes()).unwrap();
        for (x, y) in [(&ours, &server), (&server, &ours)] {
            let diff =
                c.command(&format!("SELECT count() FROM (SELECT * FROM {x} EXCEPT ALL SELECT * FROM {y})")).unwrap();
            assert_eq!(diff, "0", "{x} vs {y}");
        }
        // Exact or refused: no rounding, no unknown members, no bad text.
        for bad in [
            vec![("d", Value::Float64(0.1 + 0.2))],
            vec![("d", Value::from("1.00001"))],
            vec![("e", Value::from(3u8))],
            vec![("e", Value::from("green"))],
            vec![("u", Value::from("not-a-uuid"))],
            vec![("a4", Value::from("300.1.1.1"))],
            vec![("dt", Value::from("yesterday"))],
            // Nothing cut off or read otherwise than written.
            vec![("dt", Value::from("2022-10-01 15:20:05+02:00"))],
            vec![("dt", Value::from("2022-10-01 15:20:05.5"))],
            vec![("dt", Value::from(jiff::civil::date(2022, 10, 1).at(15, 20, 5, 500_000_000)))],
            vec![("dt64", Value::from("1664637605123"))],
            vec![("dt64", Value::from("2022-10-01 15:20:05.1234"))],
            vec![("dn", Value::from("2020-01-05 10:00:00"))],
        ] {
            let (names, values): (Vec<&str>, Vec<Value>) = bad.into_iter().unzip();
            assert!(c.insert(&ours, &names, std::slice::from_ref(&values)).is_err(), "{names:?} {values:?}");
        }
        // Decimals read back as f64 too.
        let r = c.query(&format!("SELECT d FROM {ours} ORDER BY d")).unwrap();
        assert_eq!(f64::try_from(&r.rows[0][0]).unwrap(), -0.0625);
        c.command(&format!("DROP TABLE {ours}")).unwrap();
        c.command(&format!("DROP TABLE {server}")).unwrap();
    }
}

#[test]
fn strings_decode_from_a_named_encoding_as_the_server_converts_them() {
    for c in Driver::both("CH_MODERN_URL") {
        use clickhouse_connect::Value;
        for (enc, hex) in [("windows-1252", "636166E9"), ("shift_jis", "82A082A2"), ("utf-16le", "3D042004")] {
            let sql = format!("SELECT unhex('{hex}') AS s, [unhex('{hex}')] AS a, toNullable(unhex('{hex}')) AS n");
            let r = c.query_with(&sql, &CallOptions::new().encoding(enc)).unwrap();
            // The server's own conversion is the oracle.
            let icu = match enc {
                "utf-16le" => "UTF-16LE",
                other => other,
            };
            let want =
                c.command(&format!("SELECT convertCharset(unhex('{hex}'), '{icu}', 'utf-8')")).unwrap().row[0].clone();
            assert_eq!(r.rows[0][0], want, "{enc}");
            assert_eq!(r.rows[0][1], Value::Array(vec![want.clone()]), "{enc}");
            assert_eq!(r.rows[0][2], want, "{enc}");
        }
        // Bytes that are not text in that encoding are an error, not a replacement character.
        let e = c.query_with("SELECT unhex('82FF')", &CallOptions::new().encoding("shift_jis")).unwrap_err();
        assert!(e.to_string().contains("not valid Shift_JIS"), "{e}");
        assert!(c.query_with("SELECT 1", &CallOptions::new().encoding("klingon")).is_err());
    }
}

#[test]
fn on_18_16_too_readonly_users_sessions_and_other_databases() {
    use clickhouse_connect::{Compression, Value};
    // A readonly user asking for progress and compression (18.16 gets gzip instead of frames).
    for ro in Driver::both_with("CH_LEGACY_URL", |o| {
        o.username = common::env("CH_READONLY_USER");
        o.send_progress = true;
        o.compression = Compression::Lz4;
    }) {
        // (18.16 forbids table functions in readonly mode.)
        let r = ro
            .query_with("SELECT number FROM system.numbers LIMIT 1000", &CallOptions::new().on_progress(|_| {}))
            .unwrap();
        assert_eq!(r.rows.len(), 1000, "{}", ro.name());
        assert_eq!(ro.command("SELECT 3").unwrap().get::<u8>().unwrap(), 3);
    }
    // Per-call database and session for inserts (temporary tables live in the session).
    for c in Driver::both("CH_LEGACY_URL") {
        let db = table("legacy_db");
        let t = table("legacy_t");
        c.command(&format!("CREATE DATABASE {db}")).unwrap();
        c.command(&format!("CREATE TABLE {db}.{t} (x String) ENGINE = Memory")).unwrap();
        c.insert_with(&t, &[], &[vec![Value::from("in db")]], &CallOptions::new().database(&db)).unwrap();
        assert_eq!(c.command(&format!("SELECT x FROM {db}.{t}")).unwrap(), "in db", "{}", c.name());
        let s = CallOptions::new().session(format!("legacy-{}", table("s")));
        c.command_with("CREATE TEMPORARY TABLE tmp_legacy (v UInt8)", &s).unwrap();
        c.insert_with("tmp_legacy", &[], &[vec![Value::from(5u8)]], &s).unwrap();
        assert_eq!(c.command_with("SELECT sum(v) FROM tmp_legacy", &s).unwrap(), "5", "{}", c.name());
        c.command(&format!("DROP DATABASE {db}")).unwrap();
    }
}

#[test]
fn typed_builders_take_only_their_types_rust_kind_and_values() {
    use clickhouse_connect::native::FixedBuilder;
    let c = modern();
    let t = table("builder_kinds");
    c.command(&format!("CREATE TABLE {t} (u UInt32, b Bool, e Enum8('a' = 1), id UUID) ENGINE = Memory")).unwrap();
    let mut f = FixedBuilder::<f32>::new("UInt32");
    f.push(1.0);
    assert!(c.insert_block(&t, &[("u", &f)]).unwrap_err().to_string().contains("u32"));
    let mut u = FixedBuilder::<u128>::new("UUID");
    u.push(1);
    assert!(c.insert_block(&t, &[("id", &u)]).is_err());
    let mut b = FixedBuilder::<u8>::new("Bool");
    b.push(2);
    assert!(c.insert_block(&t, &[("b", &b)]).unwrap_err().to_string().contains("2 is not a value of Bool"));
    let mut e = FixedBuilder::<i8>::new("Enum8('a' = 1)");
    e.push(5);
    assert!(c.insert_block(&t, &[("e", &e)]).is_err());
    assert_eq!(c.command(&format!("SELECT count() FROM {t}")).unwrap(), "0");
    let (mut u, mut b, mut e) = (
        FixedBuilder::<u32>::new("UInt32"),
        FixedBuilder::<u8>::new("Bool"),
        FixedBuilder::<i8>::new("Enum8('a' = 1)"),
    );
    u.push(7);
    b.push(1);
    e.push(1);
    c.insert_block(&t, &[("u", &u), ("b", &b), ("e", &e)]).unwrap();
    assert_eq!(c.command(&format!("SELECT u, b, e FROM {t}")).unwrap(), "7\ttrue\ta");
    c.command(&format!("DROP TABLE {t}")).unwrap();
}

#[test]
fn command_takes_empty_strings_and_foreign_formats_and_limits_apply_for_readonly_users() {
    use clickhouse_connect::Value;
    for c in all_drivers() {
        let ctx = format!("{} {}", c.blocking().server_version(), c.name());
        let r = c.command("SELECT ''").unwrap();
        assert_eq!((r.rows, r.value()), (1, Some(&Value::from(""))), "{ctx}");
        assert_eq!(c.command("SELECT 'x' WHERE 0").unwrap().rows, 0, "{ctx}");
        // The statement's own FORMAT: the text as the server wrote it, every row.
        let r = c.command("SELECT number FROM numbers(5) FORMAT TSV").unwrap();
        assert_eq!(r.text, "0\n1\n2\n3\n4", "{ctx}");
        // encoding is for query only: other calls refuse it instead of ignoring it.
        assert!(c.command_with("SELECT 1", &CallOptions::new().encoding("windows-1252")).is_err(), "{ctx}");
    }
    // query_limit for a user who may not set `limit` (18.16 readonly): applied by the client.
    for ro in Driver::both_with("CH_LEGACY_URL", |o| {
        o.username = common::env("CH_READONLY_USER");
        o.query_limit = 5;
    }) {
        assert_eq!(ro.query("SELECT number FROM system.numbers LIMIT 100").unwrap().rows.len(), 5, "{}", ro.name());
    }
    // A call's compress=1 on 18.16 (whose compressed frames are broken) is not an empty result.
    for old in Driver::both("CH_LEGACY_URL") {
        let r = old.query_with("SELECT 42", &CallOptions::new().setting("compress", 1)).unwrap();
        assert_eq!(r.rows, vec![vec![Value::UInt8(42)]], "{}", old.name());
    }
}
