//! Round trip through our encoder: rows the real server generated are read with our client, inserted
//! with our client (`INSERT … FORMAT Native` over plain HTTP) into a table of the same structure, and
//! the two tables are compared inside the server — for every type in the codec's scope. Every test
//! runs on both drivers (the blocking `Client` and the `AsyncClient`: its own read, its own insert).

mod common;
#[path = "common/drivers.rs"]
mod drivers;

use clickhouse_connect::{CallOptions, Error, Value};
use common::*;

#[test]
fn every_type_round_trips_through_our_encoder() {
    for c in drivers::Driver::both("CH_MODERN_URL") {
        let c = &c;
        let rt = drivers::runtime();
        let a = rt.block_on(clickhouse_connect::AsyncClient::from_url(&env("CH_MODERN_URL"))).unwrap();
        for (i, group) in TYPES.chunks(6).enumerate() {
            let src = table("rt_src");
            let dst = table("rt_dst");
            let dst_async = table("rt_dst_async");
            let cols = structure(group, false);
            let settings = "SETTINGS allow_suspicious_low_cardinality_types = 1";
            for t in [&src, &dst, &dst_async] {
                // flatten_nested = 0 keeps `Nested(…)` one column, as generateRandom produces it.
                c.command(&format!("CREATE TABLE {t} ({cols}) ENGINE = Memory {settings}, flatten_nested = 0"))
                    .unwrap();
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
            rt.block_on(async {
                let rows = a.query(&format!("SELECT * FROM {src}")).await.unwrap().rows;
                a.insert(&dst_async, &[], &rows).await.unwrap_or_else(|e| panic!("async {cols}: {e}"));
            });
            for (a, b) in [(&src, &dst), (&dst, &src), (&src, &dst_async), (&dst_async, &src)] {
                let diff =
                    c.command(&format!("SELECT count() FROM (SELECT * FROM {a} EXCEPT SELECT * FROM {b})")).unwrap();
                if diff != "0" {
                    let rows = c
                        .command(&format!("SELECT * FROM (SELECT * FROM {a} EXCEPT SELECT * FROM {b}) LIMIT 5"))
                        .unwrap();
                    panic!("{diff} rows of {a} missing from {b} for {cols}:\n{rows}");
                }
            }
            assert_eq!(c.command(&format!("SELECT count() FROM {dst}")).unwrap(), "1500");
            assert_eq!(c.command(&format!("SELECT count() FROM {dst_async}")).unwrap(), "1500");
            for t in [&src, &dst, &dst_async] {
                c.command(&format!("DROP TABLE {t}")).unwrap();
            }
        }
    }
}

#[test]
fn bad_values_name_row_and_column_and_send_nothing() {
    for c in drivers::Driver::both("CH_MODERN_URL") {
        let c = &c;
        let t = table("rt_bad");
        c.command(&format!("CREATE TABLE {t} (a UInt8, b String, e Enum8('x' = 1)) ENGINE = Memory")).unwrap();
        let ok = vec![Value::UInt8(1), Value::String(b"s".to_vec().into()), Value::String(b"x".to_vec().into())];
        let too_big = vec![Value::UInt64(300), Value::String(b"s".to_vec().into()), Value::Enum8(1)];
        match c.insert(&t, &[], &[ok.clone(), too_big]) {
            Err(Error::Usage(m)) => assert!(m.contains("row 1, column a") && m.contains("out of range"), "{m}"),
            other => panic!("{other:?}"),
        }
        let bad_enum =
            vec![Value::UInt8(1), Value::String(b"s".to_vec().into()), Value::String(b"nope".to_vec().into())];
        match c.insert(&t, &[], &[bad_enum]) {
            Err(Error::Usage(m)) => assert!(m.contains("column e") && m.contains("not a member"), "{m}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(c.command(&format!("SELECT count() FROM {t}")).unwrap(), "0");
        c.insert(&t, &["a", "e"], &[vec![Value::UInt8(7), Value::Enum8(1)]]).unwrap();
        assert_eq!(c.command(&format!("SELECT a, b, e FROM {t}")).unwrap(), "7\t\tx");
        c.command(&format!("DROP TABLE {t}")).unwrap();
    }
}

#[test]
fn rust_values_go_in_and_come_back_unchanged() {
    use clickhouse_connect::nullable;
    use std::net::{Ipv4Addr, Ipv6Addr};
    for c in drivers::Driver::both("CH_MODERN_URL") {
        let c = &c;
        let t = table("rt_rust");
        c.command(&format!(
            "CREATE TABLE {t} (u8 UInt8, i128 Int128, u128 UInt128, f Float64, s String, b Bool, ip4 IPv4, ip6 IPv6, \
         d Date, d32 Date32, dt DateTime('UTC'), dt64 DateTime64(6, 'Asia/Tokyo'), n Nullable(UInt32), \
         a Array(String), tup Tuple(UInt8, String), m Map(String, UInt64)) ENGINE = Memory"
        ))
        .unwrap();
        let day = jiff::civil::date(2024, 2, 29);
        let old_day = jiff::civil::date(1901, 12, 13);
        let second: jiff::Timestamp = "2024-02-29T12:34:56Z".parse().unwrap();
        let micro: jiff::Timestamp = "2024-02-29T12:34:56.123456Z".parse().unwrap();
        let ip6: Ipv6Addr = "2001:db8::1".parse().unwrap();
        let row: Vec<Value> = vec![
            7u8.into(),
            (-5i128).into(),
            u128::MAX.into(),
            1.5f64.into(),
            "héllo 'quoted'".into(),
            true.into(),
            Ipv4Addr::new(1, 2, 3, 4).into(),
            ip6.into(),
            day.into(),
            old_day.into(),
            second.into(),
            micro.into(),
            None::<u32>.into(),
            Value::array(["x", "y"]),
            (1u8, "a").into(),
            vec![("k", 1u64)].into(),
        ];
        let mut row2 = row.clone();
        row2[12] = Some(9u32).into();
        c.insert(&t, &[], &[row, row2]).unwrap();

        // The server sees the values we meant (its own rendering of them, computed from the same inputs).
        let server = c
            .command(&format!(
                "SELECT toString(d), toString(d32), toString(dt), toString(dt64), toString(u128), s FROM {t} LIMIT 1"
            ))
            .unwrap();
        let want = format!(
            "{day}\t{old_day}\t{}\t{}\t{}\théllo \\'quoted\\'",
            second.strftime("%Y-%m-%d %H:%M:%S"),
            // Tokyo is UTC+9 all year.
            micro.checked_add(jiff::Span::new().hours(9)).unwrap().strftime("%Y-%m-%d %H:%M:%S%.6f"),
            u128::MAX
        );
        assert_eq!(server, want);

        // And they come back as the same Rust values.
        let r = c.query(&format!("SELECT * FROM {t} ORDER BY n NULLS FIRST")).unwrap();
        let v = &r.rows[0];
        assert_eq!(u8::try_from(&v[0]).unwrap(), 7);
        assert_eq!(i128::try_from(&v[1]).unwrap(), -5);
        assert_eq!(u128::try_from(&v[2]).unwrap(), u128::MAX);
        assert_eq!(f64::try_from(&v[3]).unwrap(), 1.5);
        assert_eq!(String::try_from(&v[4]).unwrap(), "héllo 'quoted'");
        assert!(bool::try_from(&v[5]).unwrap());
        assert_eq!(Ipv4Addr::try_from(&v[6]).unwrap(), Ipv4Addr::new(1, 2, 3, 4));
        assert_eq!(Ipv6Addr::try_from(&v[7]).unwrap(), ip6);
        assert_eq!(jiff::civil::Date::try_from(&v[8]).unwrap(), day);
        assert_eq!(jiff::civil::Date::try_from(&v[9]).unwrap(), old_day);
        assert_eq!(jiff::Timestamp::try_from(&v[10]).unwrap(), second);
        assert_eq!(jiff::Timestamp::try_from(&v[11]).unwrap(), micro);
        assert_eq!(nullable::<u32>(&v[12]).unwrap(), None);
        assert_eq!(nullable::<u32>(&r.rows[1][12]).unwrap(), Some(9));
        assert_eq!(v[13], Value::array(["x", "y"]));
        assert_eq!(v[14], Value::from((1u8, "a")));
        assert_eq!(v[15], Value::from(vec![("k", 1u64)]));
        c.command(&format!("DROP TABLE {t}")).unwrap();
    }
}

#[test]
fn legacy_types_round_trip_on_18_16() {
    // 18.16 has no generateRandom and no EXCEPT: the source is filled by the server from expressions, and
    // the tables are compared by count and an order-independent hash of every row, inside the server.
    for c in drivers::Driver::both("CH_LEGACY_URL") {
        let c = &c;
        let cols = "a UInt8, b Int16, c UInt32, d Int64, e Float32, f Float64, g Decimal32(4), h Decimal64(9), \
        i Decimal128(20), j String, k FixedString(4), l UUID, m Date, n DateTime, o Enum8('x' = 1, 'y' = 2), \
        p Enum16('big' = 1000, 'small' = -1000), q Nullable(String), r Array(Nullable(UInt64)), \
        s Array(Array(String)), t Tuple(UInt8, String), u LowCardinality(String), v LowCardinality(Nullable(String))";
        let src = table("legacy_src");
        let dst = table("legacy_dst");
        for t in [&src, &dst] {
            // LowCardinality was experimental in 18.16.
            let opts = clickhouse_connect::CallOptions::new().setting("allow_experimental_low_cardinality_type", 1);
            c.command_with(&format!("CREATE TABLE {t} ({cols}) ENGINE = Memory"), &opts).unwrap();
        }
        c.command(&format!(
        "INSERT INTO {src} SELECT toUInt8(number % 256), toInt16(number * 7 % 65536 - 32768), toUInt32(number * 2654435761 % 4294967296), \
         toInt64(number * 1000000007) * if(number % 2 = 0, -1, 1), toFloat32(number) / 3, toFloat64(number) / 7, toDecimal32(number / 3, 4), \
         toDecimal64(number / 7, 9), toDecimal128(number, 20), concat('s', toString(number), if(number % 5 = 0, '\\t\\n\\\\\\'', '')), \
         toFixedString(toString(number % 1000), 4), toUUID('61f0c404-5cb3-11e7-907b-a6006ad3dba0'), toDate(number * 37 % 40000), \
         toDateTime(number * 100003 % 2000000000), CAST(number % 2 + 1 AS Enum8('x' = 1, 'y' = 2)), \
         CAST(if(number % 2 = 0, 1000, -1000) AS Enum16('big' = 1000, 'small' = -1000)), if(number % 3 = 0, NULL, toString(number)), \
         arrayMap(x -> if(x % 2 = 0, NULL, x), range(number % 5)), [[toString(number)], []], (toUInt8(number % 200), toString(number)), \
         toLowCardinality(toString(number % 17)), toLowCardinality(if(number % 4 = 0, NULL, toString(number % 9))) \
         FROM system.numbers LIMIT 5000"
    ))
    .unwrap();
        let rows = c.query(&format!("SELECT * FROM {src}")).unwrap().rows;
        assert_eq!(rows.len(), 5000);
        c.insert(&dst, &[], &rows).unwrap();
        let digest = |t: &str| {
            c.command(&format!(
            "SELECT count(), sum(cityHash64(a, b, c, d, e, f, toString(g), toString(h), toString(i), j, k, toString(l), toString(m), toString(n), toString(o), toString(p), \
             ifNull(q, 'NULL'), toString(r), toString(s), toString(t), toString(u), ifNull(toString(v), 'NULL'))) FROM {t}"
        ))
        .unwrap()
        };
        assert_eq!(digest(&src), digest(&dst));
        assert!(digest(&src).starts_with("5000\t"));
        for t in [&src, &dst] {
            c.command(&format!("DROP TABLE {t}")).unwrap();
        }
    }
}

#[test]
fn column_types_can_be_given_and_lookups_are_cached() {
    for c in drivers::Driver::both("CH_MODERN_URL") {
        let c = &c;
        let t = table("rt_types");
        c.command(&format!("CREATE TABLE {t} (a UInt16, b String) ENGINE = Memory")).unwrap();
        // Given types: no lookup needed (and they are checked like looked-up ones).
        c.insert_with_types(&t, &[("a", "UInt16"), ("b", "String")], &[vec![Value::from(1u16), Value::from("x")]])
            .unwrap();
        assert!(
            c.insert_with_types(
                &t,
                &[("a", "UInt16"), ("b", "String")],
                &[vec![Value::from(70000u32), Value::from("y")]]
            )
            .is_err()
        );
        // Every insert describes the table: after an ALTER the new types apply at once.
        c.insert(&t, &[], &[vec![Value::from(2u16), Value::from("y")]]).unwrap();
        c.command(&format!("ALTER TABLE {t} MODIFY COLUMN a UInt32")).unwrap();
        c.insert(&t, &[], &[vec![Value::from(70000u32), Value::from("z")]]).unwrap();
        assert_eq!(c.command(&format!("SELECT sum(a), count() FROM {t}")).unwrap(), "70003\t3");
        c.command(&format!("DROP TABLE {t}")).unwrap();
    }
}

#[test]
fn an_insert_never_uses_the_types_of_a_table_as_it_was() {
    // Values that fit the old types as well as the new ones: with a kept description the server would
    // convert them (Float32 0.1 stored as 0.10000000149011612 in Float64, 300 cut to 44 in UInt8).
    for c in drivers::Driver::both("CH_MODERN_URL") {
        let c = &c;
        let t = table("rt_stale");
        c.command(&format!("CREATE TABLE {t} (a Float32, b Int64, s String) ENGINE = Memory")).unwrap();
        c.insert(&t, &[], &[vec![Value::from(1.5f64), Value::from(1i64), Value::from("x")]]).unwrap();
        c.command(&format!("DROP TABLE {t}")).unwrap();
        c.command(&format!("CREATE TABLE {t} (a Float64, b UInt8, s String) ENGINE = Memory")).unwrap();
        // 300 does not fit UInt8: refused, nothing stored.
        let e = c.insert(&t, &[], &[vec![Value::from(0.1f64), Value::from(300i64), Value::from("y")]]).unwrap_err();
        assert!(e.to_string().contains("UInt8"), "{}: {e}", c.name());
        assert_eq!(c.command(&format!("SELECT count() FROM {t}")).unwrap(), "0", "{}", c.name());
        // 0.1 stored as Float64 0.1 (the server's own parse of '0.1'), not as Float32 0.1 widened.
        c.insert(&t, &[], &[vec![Value::from(0.1f64), Value::from(7i64), Value::from("z")]]).unwrap();
        let stored = c.command(&format!("SELECT count() FROM {t} WHERE s = 'z' AND a = toFloat64('0.1') AND b = 7"));
        assert_eq!(stored.unwrap(), "1", "{}", c.name());
        // Columns in another order after the table is made again: values go to the columns as they are now.
        c.command(&format!("DROP TABLE {t}")).unwrap();
        c.command(&format!("CREATE TABLE {t} (s String, a Float64, b UInt8) ENGINE = Memory")).unwrap();
        c.insert(&t, &[], &[vec![Value::from("o"), Value::from(2.5f64), Value::from(3i64)]]).unwrap();
        assert_eq!(c.command(&format!("SELECT s, a, b FROM {t}")).unwrap(), "o\t2.5\t3", "{}", c.name());
        // Another client changes a column's type: the next insert sees it.
        c.command(&format!("ALTER TABLE {t} MODIFY COLUMN a Decimal(18, 6)")).unwrap();
        c.insert(&t, &[], &[vec![Value::from("d"), Value::from("123456.789"), Value::from(1i64)]]).unwrap();
        assert_eq!(c.command(&format!("SELECT toString(a) FROM {t} WHERE s = 'd'")).unwrap(), "123456.789");
        c.command(&format!("DROP TABLE {t}")).unwrap();
    }
}

/// The answer of a query of `system.query_log` once it has `entries` rows' worth of the queries it
/// asks for: a query's log entry can be written just after the client has its response, so the logs
/// are flushed and asked again (at most 50 times, 100 ms apart). `sql` answers one entry per word
/// (or, for `entries` = 1, anything not empty).
fn logged(admin: &clickhouse_connect::Client, sql: &str, entries: usize) -> String {
    for _ in 0..50 {
        admin.command("SYSTEM FLUSH LOGS").unwrap();
        let text = admin.command(sql).unwrap().text;
        let have = if entries == 1 { usize::from(!text.is_empty()) } else { text.split(' ').count() };
        if have >= entries {
            return text;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("the query log never had {entries} entries for {sql}");
}

#[test]
fn a_table_changed_after_its_describe_refuses_the_insert_instead_of_converting_it() {
    // An inserter describes its table when made and sends its first block later: the table made
    // again in between with narrower types. The server used to convert the old types without a word
    // (300 sent as UInt16 stored as 44 in UInt8); the insert now asks it to refuse any column not of
    // the table's type, so nothing is stored and the error names both types.
    let admin = modern();
    for c in drivers::Driver::both("CH_MODERN_URL") {
        let t = table("rt_race");
        admin.command(&format!("CREATE TABLE {t} (n UInt16, s String DEFAULT 'd') ENGINE = Memory")).unwrap();
        let mut ins = c.open_inserter(&t, &[], 10, &CallOptions::new()).unwrap();
        admin.command(&format!("DROP TABLE {t}")).unwrap();
        admin.command(&format!("CREATE TABLE {t} (n UInt8, s String DEFAULT 'd') ENGINE = Memory")).unwrap();
        ins.write(&[Value::from(300u16), Value::from("x")]).unwrap();
        let e = ins.end().unwrap_err().to_string();
        assert!(e.contains("UInt16") && e.contains("UInt8") && e.contains("TYPE_MISMATCH"), "{}: {e}", c.name());
        assert_eq!(admin.command(&format!("SELECT count() FROM {t}")).unwrap(), "0", "{}", c.name());
        admin.command(&format!("DROP TABLE {t}")).unwrap();
        // A column no longer Nullable: its NULLs refused, not stored as the column's default.
        for (was, now) in [
            ("Nullable(UInt8)", "UInt8 DEFAULT 42"),
            ("LowCardinality(Nullable(String))", "LowCardinality(String)"),
            ("Array(Nullable(UInt8))", "Array(UInt8)"),
        ] {
            admin.command(&format!("CREATE TABLE {t} (n UInt8, v {was}) ENGINE = Memory")).unwrap();
            let mut ins = c.open_inserter(&t, &[], 10, &CallOptions::new()).unwrap();
            admin.command(&format!("DROP TABLE {t}")).unwrap();
            admin.command(&format!("CREATE TABLE {t} (n UInt8, v {now}) ENGINE = Memory")).unwrap();
            let null = if was.starts_with("Array") { Value::Array(vec![Value::Null]) } else { Value::Null };
            ins.write(&[Value::from(1u8), null]).unwrap();
            let e = ins.end().unwrap_err().to_string();
            assert!(e.contains("TYPE_MISMATCH"), "{} {was} -> {now}: {e}", c.name());
            assert_eq!(admin.command(&format!("SELECT count() FROM {t}")).unwrap(), "0", "{}", c.name());
            admin.command(&format!("DROP TABLE {t}")).unwrap();
        }
    }
}

#[test]
fn a_user_whose_constraints_bound_the_settings_still_inserts() {
    // Constraints (min, disallowed values, max) on settings the client would add on its own: the
    // client does without them instead of having every insert refused (SETTING_CONSTRAINT_VIOLATION).
    let admin = modern();
    let user = env("CH_CONSTRAINED_USER");
    let t = table("rt_constrained");
    admin.command(&format!("CREATE TABLE {t} (n UInt16, s String DEFAULT 'd') ENGINE = Memory")).unwrap();
    for c in drivers::Driver::both_with("CH_MODERN_URL", |o| {
        o.username = user.clone();
        o.send_progress = true;
    }) {
        let id = format!("{t}-{}", c.name());
        c.insert_with(&t, &[], &[vec![Value::from(1u16), Value::from("a")]], &CallOptions::new().query_id(id.clone()))
            .unwrap_or_else(|e| panic!("{}: {e}", c.name()));
        c.inserter(&t, &[], 10, &[vec![Value::from(2u16), Value::from("b")]], &CallOptions::new())
            .unwrap_or_else(|e| panic!("{}: {e}", c.name()));
        let sent = logged(
            &admin,
            &format!(
                "SELECT Settings['input_format_native_allow_types_conversion'], Settings['input_format_null_as_default'], \
             Settings['send_progress_in_http_headers'] FROM system.query_log WHERE query_id = '{id}' AND type = 'QueryFinish'"
            ),
            1,
        );
        assert_eq!(sent, "\t\t", "{}", c.name());
    }
    let stored = admin.command(&format!("SELECT count(), sum(n) FROM {t}")).unwrap();
    admin.command(&format!("DROP TABLE {t}")).unwrap();
    assert_eq!(stored, "4\t6");
}

#[test]
fn described_inserts_ask_the_server_to_refuse_conversions_and_others_do_not() {
    // What the server ran, from its query log: inserts whose columns are sent as described carry
    // input_format_native_allow_types_conversion = 0 (NULL standing for a DEFAULT included, which the
    // server still takes); inserts with the caller's types, or where the caller set the setting, do not.
    let admin = modern();
    for c in drivers::Driver::both("CH_MODERN_URL") {
        let t = table("rt_strict");
        admin.command(&format!("CREATE TABLE {t} (n UInt16, s String DEFAULT 'd') ENGINE = Memory")).unwrap();
        let tag = |k: &str| CallOptions::new().query_id(format!("{t}-{k}"));
        c.insert_with(&t, &[], &[vec![Value::from(1u16), Value::from("a")]], &tag("rows")).unwrap();
        // A serde row's None for a column with a DEFAULT goes as NULL in Nullable(String).
        #[derive(serde::Serialize)]
        struct Row {
            n: u16,
            s: Option<String>,
        }
        let mut ins = c.inserter_as_with::<Row>(&t, 10, &tag("nulls")).unwrap();
        ins.write(&Row { n: 7, s: None }).unwrap();
        ins.end().unwrap();
        c.insert_with_types_with(
            &t,
            &[("n", "UInt32"), ("s", "String")],
            &[vec![Value::from(2u32), Value::from("b")]],
            &tag("typed"),
        )
        .unwrap();
        let given = tag("given").setting("input_format_native_allow_types_conversion", 1);
        c.insert_with(&t, &[], &[vec![Value::from(3u16), Value::from("c")]], &given).unwrap();
        let log = logged(
            &admin,
            &format!(
                "SELECT arrayStringConcat(groupArray(concat(splitByChar('-', query_id)[-1], '=', \
             Settings['input_format_native_allow_types_conversion'], '/', \
             Settings['input_format_null_as_default'])), ' ') FROM \
             (SELECT query_id, Settings FROM system.query_log WHERE startsWith(query_id, '{t}-') \
             AND type = 'QueryFinish' ORDER BY query_id)"
            ),
            4,
        );
        // The caller's 1 is the default, which the log leaves out: not overridden by a 0.
        // NULLs standing for DEFAULTs keep input_format_null_as_default (the server's 1).
        assert_eq!(log, "given=/ nulls=0/ rows=0/0 typed=/", "{}", c.name());
        let stored = admin.command(&format!(
            "SELECT arrayStringConcat(groupArray(concat(toString(n), s)), ',') FROM (SELECT * FROM {t} ORDER BY n)"
        ));
        assert_eq!(stored.unwrap(), "1a,2b,3c,7d", "{}", c.name());
        admin.command(&format!("DROP TABLE {t}")).unwrap();
    }
}

#[test]
fn json_given_as_text_or_maps_is_parsed_by_the_server() {
    // A JSON column given JSON text or maps (the Python driver's `str` and `dict`) goes as text, parsed
    // by the server: the paths and their types equal those of the server's own JSONEachRow insert of
    // the same text.
    for c in drivers::Driver::both("CH_MODERN_URL") {
        let (ours, theirs) = (table("rt_json_ours"), table("rt_json_srv"));
        for t in [&ours, &theirs] {
            c.command(&format!("CREATE TABLE {t} (id UInt8, j JSON) ENGINE = Memory")).unwrap();
        }
        let map = Value::Map(vec![
            (Value::from("arr"), Value::Array(vec![Value::from(1i64), Value::from(2i64)])),
            (Value::from("f"), Value::from(1.5f64)),
            (Value::from("d"), Value::from("2024-01-02")),
            (Value::from("n"), Value::Null),
        ]);
        let rows = vec![
            vec![Value::from(1u8), Value::from(r#"{"a": 1, "b": {"c": "x"}}"#)],
            vec![Value::from(2u8), map],
            vec![Value::from(3u8), Value::Null],
        ];
        c.insert(&ours, &[], &rows).unwrap_or_else(|e| panic!("{}: {e}", c.name()));
        let text = "{\"id\":1,\"j\":{\"a\": 1, \"b\": {\"c\": \"x\"}}}\n{\"id\":2,\"j\":{\"arr\":[1,2],\"f\":1.5,\"d\":\"2024-01-02\",\"n\":null}}\n{\"id\":3,\"j\":{}}\n";
        c.raw_insert(&theirs, &[], "JSONEachRow", text.as_bytes()).unwrap();
        let q = |t: &str| format!("SELECT id, toString(j), toString(JSONAllPathsWithTypes(j)) FROM {t}");
        for (a, b) in [(&ours, &theirs), (&theirs, &ours)] {
            let diff = c.command(&format!("SELECT count() FROM ({} EXCEPT {})", q(a), q(b))).unwrap();
            assert_eq!(diff.text, "0", "{}", c.name());
        }
        assert_eq!(c.command(&format!("SELECT count() FROM {ours}")).unwrap().text, "3");
        for t in [&ours, &theirs] {
            c.command(&format!("DROP TABLE {t}")).unwrap();
        }
    }
}

#[test]
fn variant_dynamic_json_and_geometry_round_trip_through_our_encoder() {
    // The server fills the source from expressions (NULLs, nesting, shared variants and shared data
    // included); we read it, insert it with our encoder, and the server compares the two tables: every
    // value's text and, for Dynamic and JSON, every value's type.
    for c in drivers::Driver::both("CH_MODERN_URL") {
        let c = &c;
        let src = table("rt17_src");
        let dst = table("rt17_dst");
        let cols = "n UInt64, v Variant(String, UInt64, Array(Nullable(Int16)), Tuple(a UInt8, b String)), d Dynamic, \
        d0 Dynamic(max_types = 0), ad Array(Dynamic), j JSON, j2 JSON(max_dynamic_paths = 1, max_dynamic_types = 1), \
        jt JSON(a.b UInt32, SKIP skipped), aj Array(JSON), g Geometry, mv Map(String, Variant(String, Float64)), \
        q QBit(Float32, 10), qs QBit(Int8, 16, 8), qb Array(QBit(BFloat16, 3)), \
        deep Array(Map(String, Variant(Array(Nullable(String)), UInt64))), dd Array(Array(Dynamic)), big Dynamic(max_types = 1)";
        for t in [&src, &dst] {
            c.command(&format!("CREATE TABLE {t} ({cols}) ENGINE = Memory")).unwrap();
        }
        let json = "concat('{\"a\":{\"b\":', toString(n), ',\"c\":[', toString(n % 3), ',null]},\"s\":\"x', toString(n), '\"', \
        if(n % 3 = 0, ',\"f\":1.5', ''), if(n % 4 = 0, ',\"arr\":[{\"k\":\"v\"}]', ''), if(n % 5 = 0, ',\"skipped\":1', ''), '}')";
        let v = "multiIf(n % 5 = 0, NULL, n % 5 = 1, toString(n)::Variant(String), n % 5 = 2, n::Variant(UInt64), \
        n % 5 = 3, [toInt16(n), NULL]::Variant(Array(Nullable(Int16))), (n % 256, 'q''\\t')::Tuple(a UInt8, b String)::Variant(Tuple(a UInt8, b String)))";
        let g = "multiIf(n % 4 = 0, ((n, -1.5)::Point)::Geometry, n % 4 = 1, [(1, n)]::Ring::Geometry, n % 4 = 2, \
        [[[(0, 0), (n, 1)]]]::MultiPolygon::Geometry, NULL)";
        c.command(&format!(
        "INSERT INTO {src} SELECT n, {v} AS v, v, v, [v::Dynamic, n::Dynamic, NULL], {json} AS j, j, j, [j::JSON, '{{}}'::JSON], {g}, \
         map('k', if(n % 2 = 0, toString(n)::Variant(String, Float64), (n / 3)::Variant(String, Float64))), \
         arrayMap(i -> toFloat32(n * i) / 7 - 100, range(10)), arrayMap(i -> toInt8((n + i) % 256 - 128), range(16)), \
         [arrayMap(i -> toBFloat16(n - i * 1.5), range(3))::QBit(BFloat16, 3)], \
         [map('k' || toString(n % 3), multiIf(n % 4 = 0, NULL, n % 4 = 1, [toString(n), NULL, '']::Variant(Array(Nullable(String)), UInt64), \
           n % 4 = 2, n::Variant(Array(Nullable(String)), UInt64), []::Array(Nullable(String))::Variant(Array(Nullable(String)), UInt64)))], \
         [[multiIf(n % 3 = 0, NULL, n % 3 = 1, map('a', [n, NULL])::Dynamic, (toDecimal64(n / 7, 3), [toIPv6('::1')])::Tuple(d Decimal(18, 3), a Array(IPv6))::Dynamic)]], \
         if(n % 500 = 0, repeat('w', 100000)::Dynamic, n::Dynamic) \
         FROM (SELECT number AS n FROM numbers(3000))"
    ))
    .unwrap();
        let rows = c.query(&format!("SELECT * FROM {src}")).unwrap().rows;
        assert_eq!(rows.len(), 3000);
        c.insert(&dst, &[], &rows).unwrap_or_else(|e| panic!("{e}"));
        let text = "n, toString(v), variantType(v), toString(d), dynamicType(d), toString(d0), dynamicType(d0), \
        toString(ad), arrayMap(x -> dynamicType(x), ad), toString(j), toString(j2), toString(jt), toString(aj), \
        toString(g), variantType(g), toString(mv), toString(JSONAllPathsWithTypes(j)), toString(JSONAllPathsWithTypes(j2)), \
        toString(JSONSharedDataPaths(j2)), toString(q), toString(qs), toString(qb), toString(deep), toString(dd), \
        toString(arrayMap(x -> arrayMap(y -> dynamicType(y), x), dd)), toString(big), dynamicType(big)";
        for (a, b) in [(&src, &dst), (&dst, &src)] {
            let diff = c
                .command(&format!("SELECT count() FROM (SELECT {text} FROM {a} EXCEPT SELECT {text} FROM {b})"))
                .unwrap();
            if diff != "0" {
                let rows = c
                    .command(&format!("SELECT * FROM (SELECT {text} FROM {a} EXCEPT SELECT {text} FROM {b}) LIMIT 3"))
                    .unwrap();
                panic!("{diff} rows of {a} missing from {b}:\n{rows}");
            }
        }
        assert_eq!(c.command(&format!("SELECT count() FROM {dst}")).unwrap(), "3000");
        for t in [&src, &dst] {
            c.command(&format!("DROP TABLE {t}")).unwrap();
        }
    }
}

/// Each supported aggregate function over the argument types its layout depends on.
const STATES: &[(&str, &str)] = &[
    ("count", "countState()"),
    ("count_x", "countState(x)"),
    ("count_if", "countIfState(x, x % 2 = 0)"),
    ("sum_u", "sumState(x)"),
    ("sum_i8", "sumState(toInt8(x % 100 - 50))"),
    ("sum_f", "sumState(x / 3)"),
    ("sum_dec", "sumState(toDecimal32(x / 7, 2))"),
    ("sum_u128", "sumState(toUInt128(x))"),
    ("sum_null", "sumState(if(x % 3 = 0, NULL, x))"),
    ("sum_if", "sumIfState(x, x > 3)"),
    ("min_u", "minState(x)"),
    ("max_s", "maxState(toString(x * 7919))"),
    ("any_s", "anyState(if(x % 5 = 0, '', toString(x)))"),
    ("any_last_dt", "anyLastState(toDateTime(x * 1000, 'UTC'))"),
    ("max_null_s", "maxState(if(x % 4 = 0, NULL, toString(x)))"),
    ("arg_max", "argMaxState(toString(x), x % 13)"),
    ("arg_min", "argMinState(x / 2, toString(x))"),
    ("avg_i", "avgState(toInt32(x) - 100)"),
    ("avg_f", "avgState(x / 3)"),
    ("avg_dec", "avgState(toDecimal64(x / 7, 3))"),
    ("uniq_u", "uniqState(x)"),
    ("uniq_s2", "uniqState(toString(x), x % 7)"),
    ("uniq_exact_u", "uniqExactState(toUInt32(x))"),
    ("uniq_exact_s", "uniqExactState(toString(x))"),
    ("group_array", "groupArrayState(x)"),
    ("group_array_s", "groupArrayState(toString(x))"),
    ("group_array_10", "groupArrayState(10)(toInt16(x))"),
    ("quantile", "quantileState(x)"),
    ("quantiles_f", "quantilesState(0.1, 0.5, 0.99)(x / 3)"),
    ("median_d", "medianState(toDate(x))"),
    // Nullable arguments: the Null combinator's flag, or none for functions that read NULLs themselves.
    ("group_array_null", "groupArrayState(if(x % 3 = 0, NULL, x))"),
    ("group_array_null_s", "groupArrayState(if(x % 3 = 0, NULL, toString(x)))"),
    ("uniq_null", "uniqState(if(x % 3 = 0, NULL, x))"),
    ("uniq_exact_null", "uniqExactState(if(x % 3 = 0, NULL, toUInt8(x % 200)))"),
    ("avg_null", "avgState(if(x % 3 = 0, NULL, x))"),
    ("quantile_null", "quantileState(if(x % 3 = 0, NULL, x))"),
    ("min_null", "minState(if(x % 3 = 0, NULL, x))"),
    ("arg_max_null", "argMaxState(if(x % 3 = 0, NULL, x), x % 7)"),
    ("count_null", "countState(if(x % 3 = 0, NULL, x))"),
    // More of the families.
    ("sum_overflow", "sumWithOverflowState(toUInt16(x))"),
    ("sum_kahan", "sumKahanState(x / 7)"),
    ("sum_count", "sumCountState(if(x % 3 = 0, NULL, x))"),
    ("any_heavy", "anyHeavyState(x % 5)"),
    ("any_heavy_s", "anyHeavyState(toString(x % 5))"),
    ("group_uniq", "groupUniqArrayState(toUInt16(x % 300))"),
    ("group_uniq_s", "groupUniqArrayState(toString(x % 300))"),
    ("group_last", "groupArrayLastState(5)(x)"),
    ("group_last_s", "groupArrayLastState(5)(if(x % 3 = 0, NULL, toString(x)))"),
    ("quantile_exact", "quantileExactState(x)"),
    ("quantiles_exact_null", "quantilesExactState(0.1, 0.9)(if(x % 3 = 0, NULL, x / 3))"),
    ("median_exact", "medianExactState(toInt32(x) - 5000)"),
    ("quantiles_null", "quantilesState(0.5)(if(x % 3 = 0, NULL, x))"),
    ("any_heavy_null", "anyHeavyState(if(x % 3 = 0, NULL, toString(x % 4)))"),
    ("sum_kahan_null", "sumKahanState(if(x % 3 = 0, NULL, x))"),
];

#[test]
fn aggregate_states_pass_through_and_merge_as_the_originals() {
    // States the server made (groups of 0 to ~12,000 rows: quantile reservoirs overflow, uniq sets
    // grow), read by us and inserted by us into a table of the same structure; the server merges both
    // tables' states and they must finalize alike, and every state must come back byte for byte.
    for c in drivers::Driver::both("CH_MODERN_URL") {
        let c = &c;
        let (src, dst) = (table("agg_src"), table("agg_dst"));
        let probe = STATES.iter().map(|(n, e)| format!("{e} AS {n}")).collect::<Vec<_>>().join(", ");
        let types: Vec<String> = c
            .query(&format!("SELECT {probe} FROM (SELECT toUInt64(number) AS x FROM numbers(1))"))
            .unwrap()
            .column_type_names;
        let cols: Vec<String> = STATES.iter().zip(&types).map(|((n, _), t)| format!("{n} {t}")).collect();
        for t in [&src, &dst] {
            c.command(&format!("CREATE TABLE {t} (k UInt64, {}) ENGINE = Memory", cols.join(", "))).unwrap();
        }
        c.command(&format!(
        "INSERT INTO {src} SELECT k, {probe} FROM (SELECT number % 40 AS k, toUInt64(number * (number % 40) % 12345) AS x \
         FROM numbers(250000) WHERE number % 40 != 7 OR number < 3) GROUP BY k"
    ))
    .unwrap();
        // Empty states too: a group whose rows are all filtered out.
        c.command(&format!(
            "INSERT INTO {src} SELECT 99, {probe} FROM (SELECT number AS x FROM numbers(10) WHERE x > 100)"
        ))
        .unwrap();
        let rows = c.query(&format!("SELECT * FROM {src}")).unwrap().rows;
        assert_eq!(rows.len(), 40);
        // Our default state of each type is the server's state of no rows.
        let empty = c.query(&format!("SELECT * FROM {src} WHERE k = 99")).unwrap();
        for (i, t) in empty.column_types.iter().enumerate().skip(1) {
            let mut b = clickhouse_connect::native::builder_for(t).unwrap();
            b.push_default();
            let mut ours = Vec::new();
            b.encode(&mut ours);
            assert_eq!(Value::String(ours.into()), empty.rows[0][i], "{t}");
        }
        c.insert(&dst, &[], &rows).unwrap_or_else(|e| panic!("{e}"));
        // (groupUniqArray lists its set in hash-table order, which a state read back from bytes may change.)
        let finals = STATES
            .iter()
            .map(|(n, _)| match n.starts_with("group_uniq") {
                true => format!("toString(arraySort(finalizeAggregation({n})))"),
                false => format!("toString(finalizeAggregation({n}))"),
            })
            .collect::<Vec<_>>()
            .join(", ");
        for (a, b) in [(&src, &dst), (&dst, &src)] {
            let diff = c
                .command(&format!(
                    "SELECT count() FROM (SELECT k, {finals} FROM {a} EXCEPT SELECT k, {finals} FROM {b})"
                ))
                .unwrap();
            assert_eq!(diff, "0", "{a} against {b}");
        }
        // Byte for byte as the server's own round trip of the same states (its Native output inserted as
        // is; a state read back from bytes may list a hash set in another order than the one aggregated).
        let reference = table("agg_ref");
        c.command(&format!("CREATE TABLE {reference} AS {dst}")).unwrap();
        let server_bytes = c.raw_query(&format!("SELECT * FROM {src}"), Some("Native")).unwrap();
        c.raw_insert(&reference, &[], "Native", &server_bytes).unwrap();
        let bytes = |t: &str, col: &str| {
            c.raw_query(&format!("SELECT {col} FROM {t} ORDER BY k FORMAT RowBinary"), None).unwrap()
        };
        // (`uniq` keeps a hash set that, rebuilt from bytes, may list its elements in another order from
        // one read to the next — seen in about one run in three — so its states are held to merging alike,
        // above and below, not to their bytes.)
        let differ: Vec<&str> = STATES
            .iter()
            .map(|(n, _)| *n)
            .filter(|n| !n.starts_with("uniq_") || n.starts_with("uniq_exact"))
            .filter(|n| bytes(&reference, n) != bytes(&dst, n))
            .collect();
        assert!(differ.is_empty(), "states differ from the server's own round trip: {differ:?}");
        c.command(&format!("DROP TABLE {reference}")).unwrap();
        // Merged across groups by the server: the same results.
        let merges: Vec<String> = STATES
            .iter()
            .map(|(n, e)| {
                let (head, rest) = e.split_once("State").unwrap();
                let params = if rest.contains(")(") { &rest[..rest.find(")(").unwrap() + 1] } else { "" };
                match n.starts_with("group_uniq") {
                    true => format!("toString(arraySort({head}Merge{params}({n})))"),
                    false => format!("toString({head}Merge{params}({n}))"),
                }
            })
            .collect();
        let merged = |t: &str| c.command(&format!("SELECT {} FROM {t}", merges.join(", "))).unwrap();
        assert_eq!(merged(&src), merged(&dst));
        for t in [&src, &dst] {
            c.command(&format!("DROP TABLE {t}")).unwrap();
        }
    }
}

#[test]
fn aggregate_states_of_other_functions_are_refused_naming_the_function() {
    for c in drivers::Driver::both("CH_MODERN_URL") {
        let c = &c;
        for (expr, name) in [
            ("uniqCombinedState(number)", "uniqCombined"),
            ("sumMapState([number], [1])", "sumMap"),
            ("quantileTDigestState(number)", "quantileTDigest"),
        ] {
            let err = c.query(&format!("SELECT {expr} FROM numbers(3)")).unwrap_err().to_string();
            assert!(err.contains(name) && err.contains("cannot"), "{expr}: {err}");
        }
        // A state that is not one state of the column's function is refused before anything is sent.
        let t = table("agg_bad");
        c.command(&format!("CREATE TABLE {t} (s AggregateFunction(sum, UInt64)) ENGINE = Memory")).unwrap();
        let bad = vec![vec![clickhouse_connect::Value::String(b"\x01\x02".as_slice().into())]];
        let err = c.insert(&t, &[], &bad).unwrap_err().to_string();
        assert!(err.contains("not one state"), "{err}");
        assert_eq!(c.command(&format!("SELECT count() FROM {t}")).unwrap(), "0");
        c.command(&format!("DROP TABLE {t}")).unwrap();
    }
}

#[test]
fn aggregate_states_pass_through_on_18_16() {
    // 18.16's states of the functions it has, read by us and inserted by us, finalize and merge as the
    // originals (compared inside the server: count and an order-independent hash of every group).
    for c in drivers::Driver::both("CH_LEGACY_URL") {
        let c = &c;
        let states = [
            ("c", "countState(x)"),
            ("s", "sumState(x)"),
            ("mi", "minState(x)"),
            ("ms", "maxState(toString(x))"),
            ("am", "argMaxState(toString(x), x % 13)"),
            ("av", "avgState(x)"),
            ("u", "uniqState(x)"),
            ("ue", "uniqExactState(toString(x))"),
            ("ga", "groupArrayState(toString(x))"),
            ("q", "quantileState(x)"),
            ("sn", "sumState(if(x % 3 = 0, NULL, x))"),
        ];
        let probe = states.iter().map(|(n, e)| format!("{e} AS {n}")).collect::<Vec<_>>().join(", ");
        let types = c
            .query(&format!("SELECT {probe} FROM (SELECT toUInt64(number) AS x FROM system.numbers LIMIT 1)"))
            .unwrap();
        let cols: Vec<String> =
            states.iter().zip(&types.column_type_names).map(|((n, _), t)| format!("{n} {t}")).collect();
        let (src, dst) = (table("agg_legacy_src"), table("agg_legacy_dst"));
        for t in [&src, &dst] {
            c.command(&format!("CREATE TABLE {t} (k UInt64, {}) ENGINE = Memory", cols.join(", "))).unwrap();
        }
        c.command(&format!(
            "INSERT INTO {src} SELECT k, {probe} FROM (SELECT number % 20 AS k, toUInt64(number * 7919 % 10007) AS x \
         FROM system.numbers LIMIT 100000) GROUP BY k"
        ))
        .unwrap();
        let rows = c.query(&format!("SELECT * FROM {src}")).unwrap().rows;
        assert_eq!(rows.len(), 20);
        c.insert(&dst, &[], &rows).unwrap();
        let finals =
            states.iter().map(|(n, _)| format!("toString(finalizeAggregation({n}))")).collect::<Vec<_>>().join(", ");
        let digest = |t: &str| c.command(&format!("SELECT count(), sum(cityHash64(k, {finals})) FROM {t}")).unwrap();
        assert_eq!(digest(&src), digest(&dst));
        assert!(digest(&src).starts_with("20\t"));
        for t in [&src, &dst] {
            c.command(&format!("DROP TABLE {t}")).unwrap();
        }
    }
}
