//! Server-side parameter binding against the real 26.9 server: random values of every type go in as
//! `{name:Type}` parameters and come back unchanged through our codec; adversarial strings are data,
//! never SQL; 18.16 (no query parameters) gives a clear error.

mod common;
#[path = "common/drivers.rs"]
mod drivers;

use clickhouse_connect::format::TextRenderer;
use clickhouse_connect::native::TypeDesc;
use clickhouse_connect::{CallOptions, Error, Value};
use common::*;

const BATCH: usize = 100;

/// The element type when `t` is an array (geo types are arrays of points, rings, polygons).
fn array_inner(t: &TypeDesc) -> Option<TypeDesc> {
    match t {
        TypeDesc::Array(inner) => Some(inner.as_ref().clone()),
        TypeDesc::Ring | TypeDesc::LineString => Some(TypeDesc::Point),
        TypeDesc::Polygon | TypeDesc::MultiLineString => Some(TypeDesc::Ring),
        TypeDesc::MultiPolygon => Some(TypeDesc::Polygon),
        _ => None,
    }
}

/// Array nesting depth of a type (`Array(Array(String))` is 2, `MultiPolygon` 3).
fn array_depth(t: &TypeDesc) -> usize {
    array_inner(t).map_or(0, |i| 1 + array_depth(&i))
}

/// 26.9 turns a parameter into a literal and CASTs it; for arrays nested three or more deep, an empty
/// array above the innermost level makes the literal's inferred dimension differ and the server's own
/// CAST fails (TYPE_MISMATCH, "same-dimensional array types"). Those values are a server limitation,
/// not something the client can send differently, so they are left out.
fn server_cannot_bind(v: &Value<'_>, t: &TypeDesc) -> bool {
    /// An empty array that still has array levels below it, anywhere under the top level.
    fn shallow_empty(v: &Value<'_>, t: &TypeDesc, top: bool) -> bool {
        match (v, array_inner(t)) {
            (Value::Array(items), Some(inner)) => {
                (!top && items.is_empty() && array_depth(t) >= 2)
                    || items.iter().any(|x| shallow_empty(x, &inner, false))
            }
            (Value::Tuple(items), None) => match t {
                TypeDesc::Tuple(elems) => items.iter().zip(elems).any(|(x, (_, t))| server_cannot_bind(x, t)),
                _ => false,
            },
            _ => false,
        }
    }
    array_depth(t) >= 3 && shallow_empty(v, t, true)
        || matches!((v, t), (Value::Tuple(_), TypeDesc::Tuple(_))) && shallow_empty(v, t, true)
}

/// For every type: its name, its descriptor and 2000 random values of it from the server's
/// generateRandom, decoded by our codec.
fn random_values(c: &clickhouse_connect::Client, seed: u64) -> Vec<(&'static str, TypeDesc, Vec<Value<'static>>)> {
    // Nested is a table-column construct (generateRandom flattens it into arrays), not a value type.
    TYPES
        .iter()
        .enumerate()
        .filter(|(_, t)| !t.starts_with("Nested"))
        .map(|(i, t)| {
            let source = format!(
                "SELECT * FROM generateRandom('v {}', {}, 12, 4) LIMIT 2000 SETTINGS allow_suspicious_low_cardinality_types = 1",
                t.replace('\\', "\\\\").replace('\'', "\\'"),
                seed + i as u64
            );
            let values = c.query(&source).unwrap().rows.into_iter().map(|mut r| r.remove(0)).collect();
            (*t, TypeDesc::parse(t).unwrap(), values)
        })
        .collect()
}

/// Asserts that what came back renders (as the server's TSV) like what was sent.
fn assert_same(r: &mut TextRenderer, t: &str, desc: &TypeDesc, sent: &[Value<'_>], got: &[Value<'_>]) {
    assert_eq!(sent.len(), got.len(), "{t}");
    for (j, (sent, got)) in sent.iter().zip(got).enumerate() {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        r.write_tsv(&mut a, sent, desc);
        r.write_tsv(&mut b, got, desc);
        assert_eq!(String::from_utf8_lossy(&a), String::from_utf8_lossy(&b), "{t} parameter {j}");
    }
}

#[test]
fn random_values_of_every_type_come_back_unchanged() {
    for c in drivers::Driver::both("CH_MODERN_URL") {
        let mut r = TextRenderer::new(c.blocking().server_timezone());
        let mut total = 0usize;
        for (t, desc, all) in random_values(c.blocking(), 7000) {
            let values: Vec<Value<'static>> = all.into_iter().filter(|v| !server_cannot_bind(v, &desc)).collect();
            for batch in values.chunks(BATCH) {
                let select: Vec<String> = (0..batch.len()).map(|j| format!("{{p{j}:{t}}}")).collect();
                let sql = format!("SELECT {} SETTINGS allow_suspicious_low_cardinality_types = 1", select.join(", "));
                let mut opts = CallOptions::new();
                for (j, v) in batch.iter().enumerate() {
                    opts = opts.param(format!("p{j}"), v.clone());
                }
                let back = c.query_with(&sql, &opts).unwrap_or_else(|e| panic!("{t}: {e}"));
                assert_same(&mut r, t, &desc, batch, &back.rows[0]);
                total += batch.len();
            }
        }
        eprintln!("{total} values bound and read back");
        assert!(total >= 100_000, "{total}");
    }
}

#[test]
fn random_values_of_every_type_come_back_unchanged_through_literals() {
    let c = modern();
    let mut r = TextRenderer::new(c.server_timezone());
    let (mut named, mut positional, mut typed) = (0usize, 0usize, 0usize);
    for (t, desc, all) in random_values(&c, 9000) {
        // `%s` literals carry no type: a bare `[[]]` is two-dimensional however deep the type is meant to
        // be (see `server_cannot_bind`); those values go through `{p:Type}` bound on the client instead.
        let (ambiguous, values): (Vec<_>, Vec<_>) = all.into_iter().partition(|v| server_cannot_bind(v, &desc));
        for batch in ambiguous.chunks(BATCH) {
            let select: Vec<String> = (0..batch.len()).map(|j| format!("{{p{j}:{t}}}")).collect();
            let sql = format!("SELECT {} SETTINGS allow_suspicious_low_cardinality_types = 1", select.join(", "));
            let mut opts = CallOptions::new().setting("max_query_size", 100_000_000).client_side_binding();
            for (j, v) in batch.iter().enumerate() {
                opts = opts.param(format!("p{j}"), v.clone());
            }
            let back = c.query_with(&sql, &opts).unwrap_or_else(|e| panic!("{t}: {e}"));
            assert_same(&mut r, t, &desc, batch, &back.rows[0]);
            typed += batch.len();
        }
        for (k, batch) in values.chunks(BATCH).enumerate() {
            let mut opts = CallOptions::new().setting("max_query_size", 100_000_000);
            let select: Vec<String> = if k % 3 == 2 {
                typed += batch.len();
                opts = opts.client_side_binding();
                for (j, v) in batch.iter().enumerate() {
                    opts = opts.param(format!("p{j}"), v.clone());
                }
                (0..batch.len()).map(|j| format!("{{p{j}:{t}}}")).collect()
            } else if k % 3 == 0 {
                named += batch.len();
                for (j, v) in batch.iter().enumerate() {
                    opts = opts.param(format!("p{j}"), v.clone());
                }
                (0..batch.len()).map(|j| format!("CAST(%(p{j})s AS {t})")).collect()
            } else {
                positional += batch.len();
                opts = opts.args(batch);
                (0..batch.len()).map(|_| format!("CAST(%s AS {t})")).collect()
            };
            // The type names go in the SQL too, so their `%`-free text is safe to splice here.
            let sql = format!("SELECT {} SETTINGS allow_suspicious_low_cardinality_types = 1", select.join(", "));
            let back = c.query_with(&sql, &opts).unwrap_or_else(|e| panic!("{t}: {e}"));
            assert_same(&mut r, t, &desc, batch, &back.rows[0]);
        }
    }
    eprintln!("{named} %(name)s, {positional} %s and {typed} {{name:Type}} values bound as literals and read back");
    assert!(
        named + positional + typed >= 100_000 && named.min(positional).min(typed) > 25_000,
        "{named} {positional} {typed}"
    );
}

#[test]
fn adversarial_strings_are_data_not_sql() {
    for c in drivers::Driver::both("CH_MODERN_URL") {
        let nasty: Vec<Vec<u8>> = [
            &b"'"[..],
            b"\\",
            b"\\'",
            b"\n\r\t\0",
            b"%(x)s",
            b"{x:String}",
            b"-- comment",
            b"1; DROP TABLE system.one",
            b"' OR 1=1 --",
            "ünïcødé ✓ 🚀".as_bytes(),
            b"\xff\xfe invalid \xc3",
            b"",
            b"\\x41",
            b"}",
        ]
        .iter()
        .map(|s| s.to_vec())
        .collect();
        for s in &nasty {
            let opts = CallOptions::new()
                .param("s", Value::from(s.clone()))
                .param("a", Value::Array(vec![Value::from(s.clone())]));
            let r = c.query_with("SELECT {s:String}, length({s:String}), {a:Array(String)}", &opts).unwrap();
            assert_eq!(r.rows[0][0].as_bytes(), Some(&s[..]), "{s:?}");
            assert_eq!(r.rows[0][1], Value::UInt64(s.len() as u64));
            assert_eq!(r.rows[0][2], Value::Array(vec![Value::from(s.clone())]));
            // The same through literals: named, positional, and `{name:Type}` bound on the client.
            let want =
                vec![Value::from(s.clone()), Value::UInt64(s.len() as u64), Value::Array(vec![Value::from(s.clone())])];
            let r = c.query_with("SELECT %(s)s, length(%(s)s), %(a)s -- %% trailing comment", &opts).unwrap();
            assert_eq!(r.rows[0], want, "{s:?}");
            let args = CallOptions::new().args((s.clone(), s.clone(), Value::Array(vec![Value::from(s.clone())])));
            let r = c.query_with("SELECT %s, length(%s), %s", &args).unwrap();
            assert_eq!(r.rows[0], want, "{s:?}");
            let r = c
                .query_with(
                    "SELECT {s:String}, length({s:String}), {a:Array(String)}",
                    &opts.clone().client_side_binding(),
                )
                .unwrap();
            assert_eq!(r.rows[0], want, "{s:?}");
        }
        assert_eq!(c.command("SELECT count() FROM system.one").unwrap(), "1", "nothing was executed");
    }
}

#[test]
fn mistakes_are_caught_before_sending() {
    for c in drivers::Driver::both("CH_MODERN_URL") {
        let e = c.query_with("SELECT {x:UInt8}", &CallOptions::new().param("x", 300u64)).unwrap_err();
        assert!(matches!(&e, Error::Usage(m) if m.contains("parameter x")), "{e}");
        assert!(c.query_with("SELECT {x:UInt8}", &CallOptions::new()).is_err(), "missing value");
        assert!(c.query_with("SELECT 1", &CallOptions::new().param("x", 1u8)).is_err(), "no placeholder");
        // Typed Rust values bind to their ClickHouse types.
        let ts: jiff::Timestamp = "2024-02-29T12:34:56.789Z".parse().unwrap();
        let r = c
            .query_with(
                "SELECT {d:Date}, {t:DateTime64(3, 'UTC')}, {n:Nullable(Int64)}, {m:Map(String, UInt8)}",
                &CallOptions::new()
                    .param("d", jiff::civil::date(2024, 2, 29))
                    .param("t", ts)
                    .param("n", None::<i64>)
                    .param("m", vec![("k", 1u8)]),
            )
            .unwrap();
        assert_eq!(jiff::civil::Date::try_from(&r.rows[0][0]).unwrap(), jiff::civil::date(2024, 2, 29));
        assert_eq!(jiff::Timestamp::try_from(&r.rows[0][1]).unwrap(), ts);
        assert_eq!(r.rows[0][2], Value::Null);
        assert_eq!(r.rows[0][3], Value::from(vec![("k", 1u8)]));
    }
}

#[test]
fn legacy_server_says_it_has_no_query_parameters_and_binds_literals() {
    for old in drivers::Driver::both("CH_LEGACY_URL") {
        let e = old.query_with("SELECT {x:UInt8}", &CallOptions::new().param("x", 1u8)).unwrap_err();
        assert!(matches!(&e, Error::Usage(m) if m.contains("19.11") && m.contains("client_side_binding")), "{e}");
        // Client-side binding works there, both ways.
        let s = &b"it's \\ a\ttab\n%(x)s \xff"[..];
        let opts = CallOptions::new().param("x", 200u8).param("s", s).param("d", jiff::civil::date(2020, 2, 29));
        let r = old.query_with("SELECT {x:UInt8}, {s:String}, {d:Date}", &opts.clone().client_side_binding()).unwrap();
        assert_eq!(r.rows[0], vec![Value::UInt8(200), Value::from(s), Value::Date(18321)]);
        let r = old.query_with("SELECT %(x)s, %(s)s, toDate(%(d)s)", &opts).unwrap();
        assert_eq!(r.rows[0], vec![Value::UInt8(200), Value::from(s), Value::Date(18321)]);
    }
}

#[test]
fn the_python_drivers_examples_render_the_same() {
    use clickhouse_connect::params::literal;
    // The seed's examples: a date-time and an IPv4 address.
    let dt = jiff::civil::date(2022, 10, 1).at(15, 20, 5, 0);
    assert_eq!(literal(&Value::from(dt)), "'2022-10-01 15:20:05'");
    assert_eq!(literal(&Value::from(std::net::Ipv4Addr::from(0x443d04fe))), "'68.61.4.254'");
    // And the server reads them as those values.
    let c = modern();
    let r = c
        .query_with(
            "SELECT toDateTime(%(dt)s, 'UTC') = toDateTime('2022-10-01 15:20:05', 'UTC'), toIPv4(%(ip)s)",
            &CallOptions::new().param("dt", dt).param("ip", std::net::Ipv4Addr::from(0x443d04fe)),
        )
        .unwrap();
    assert_eq!(r.rows[0], vec![Value::UInt8(1), Value::Ipv4(std::net::Ipv4Addr::from(0x443d04fe))]);
    // Sub-second naive date-times keep their fraction.
    let dt = jiff::civil::date(2022, 10, 1).at(15, 20, 5, 123_456_000);
    assert_eq!(literal(&Value::from(dt)), "'2022-10-01 15:20:05.123456'");
}

#[test]
fn values_of_the_new_types_bind_both_ways_and_render_back_the_same() {
    // Values the server made, bound as literals (`%s`) and as server-side parameters, come back with the
    // same text (a Dynamic or JSON value is read back with the types the server infers from its text).
    let c = modern();
    let sql = "SELECT multiIf(number % 4 = 0, NULL, number % 4 = 1, toString(number)::Variant(String, UInt64, Array(Nullable(String))), \
        number % 4 = 2, number::Variant(String, UInt64, Array(Nullable(String))), ['a''\\\\b', NULL]::Variant(String, UInt64, Array(Nullable(String)))) AS v, \
        v::Dynamic AS d, concat('{\"a\":{\"b\":', toString(number), '},\"s\":\"x\\\\ty\",\"f\":1.5}')::JSON AS j, \
        [1, -2.5, number, 0]::QBit(Float32, 4) AS q, ((number, 1)::Point)::Geometry AS g FROM numbers(8)";
    let src = c.query(sql).unwrap();
    let mut r = TextRenderer::new(c.server_timezone());
    let text = |r: &mut TextRenderer, v: &Value<'_>, t: &TypeDesc| {
        let mut out = Vec::new();
        r.write_tsv(&mut out, v, t);
        String::from_utf8(out).unwrap()
    };
    for row in &src.rows {
        for ((v, t), name) in row.iter().zip(&src.column_types).zip(&src.column_type_names) {
            let want = text(&mut r, v, t);
            // (A `%s` literal has no type: a Geometry's point is a tuple there, which the server does not
            // convert to Geometry; `{p:Geometry}` bound on the client casts through the alternative.)
            if !matches!(t, TypeDesc::Geometry) {
                let literal =
                    c.query_with(&format!("SELECT CAST(%s AS {name})"), &CallOptions::new().args([v.clone()])).unwrap();
                assert_eq!(text(&mut r, &literal.rows[0][0], t), want, "%s of {name} {v:?}");
            }
            let typed = CallOptions::new().param("p", v.clone()).client_side_binding();
            let typed = c.query_with(&format!("SELECT {{p:{name}}}"), &typed).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(text(&mut r, &typed.rows[0][0], t), want, "client-side {{p:{name}}} of {v:?}");
            // Without asking: the server would guess these types from the parameter's text (a NULL
            // Dynamic arrives as a String, `['a']` as the String alternative), so they are bound on the
            // client; the value and its type come back as they were.
            let plain = c
                .query_with(&format!("SELECT {{p:{name}}}"), &CallOptions::new().param("p", v.clone()))
                .unwrap_or_else(|e| panic!("{{p:{name}}} of {v:?}: {e}"));
            assert_eq!(text(&mut r, &plain.rows[0][0], t), want, "{{p:{name}}} of {v:?}");
            if matches!(t, TypeDesc::Dynamic { .. } | TypeDesc::Variant(_)) {
                assert_eq!(&plain.rows[0][0], v, "{{p:{name}}} keeps the alternative and type");
            }
        }
    }
}
