//! serde row reading (query_as, query_as_each, query_as_stream, Block::rows_as) under an adversary's
//! probes (2026-11-27, after the struct path was made inline): field orders, aliases, many blocks,
//! UTF-8 that changes between blocks, per-row hand-written `Deserialize`s that switch structs, number
//! ranges, borrowed text from other column types — with the server as the oracle (its TSV rendering of
//! the same query). p10, p14, p17 (structs switching per row), p7c (a stream's rows before an error)
//! and p11 (flatten beside a non-UTF-8 column) failed before their fixes.

#![cfg(feature = "serde")]
#![allow(dead_code)]

mod common;

use clickhouse_connect::{CallOptions, Client};
use common::probe::*;
use common::*;
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

// ------------------------------------------------------------------------------------------------
// helpers

/// Both servers (18.16 segfaults on `hex()` of a LowCardinality(Nullable(String)), a bug of its own:
/// the probes leave LowCardinality out there).
fn servers() -> Vec<(&'static str, Arc<Client>)> {
    vec![("modern", Arc::new(modern())), ("legacy", Arc::new(legacy()))]
}

/// The modern server alone, for probes whose SQL or oracle 18.16 lacks (`isValidUTF8`, `repeat`,
/// `toIPv4`, `::` casts).
fn modern_only() -> Vec<(&'static str, Arc<Client>)> {
    vec![("modern", Arc::new(modern()))]
}

// ------------------------------------------------------------------------------------------------
// P1: field order != column order, extra columns, many rows and blocks (by position after row 0)

#[derive(Deserialize, Debug, PartialEq)]
struct Reordered {
    m: u8,
    n: u64,
    s: String,
    neg: i64,
}

#[derive(Deserialize, Debug, PartialEq)]
struct ReorderedB<'a> {
    neg: i64,
    s: &'a str,
    m: u8,
    n: u64,
}

#[test]
fn p1_reordered_fields_extra_columns_many_blocks() {
    for (name, c) in servers() {
        for (rows, mbs) in [(300_000u64, 1000u64), (3000, 1), (70_000, 65_409)] {
            let sql = format!(
                "SELECT toString(number * 7) AS s, number AS n, number * 2 AS extra, number % 7 AS m, \
                 -toInt64(number) AS neg, 'junk' AS junk FROM numbers({rows}) SETTINGS max_block_size={mbs}"
            );
            let oracle = tsv(&c, &format!("SELECT n, s, m, neg FROM ({sql})"));
            let got: Vec<Reordered> = c.query_as(&sql).unwrap_or_else(|e| panic!("{name} {sql}: {e}"));
            assert_eq!(got.len(), oracle.len(), "{name}: row count");
            for (i, (g, o)) in got.iter().zip(&oracle).enumerate() {
                assert_eq!(
                    (g.n.to_string(), g.s.clone(), g.m.to_string(), g.neg.to_string()),
                    (o[0].clone(), o[1].clone(), o[2].clone(), o[3].clone()),
                    "{name} mbs={mbs} row {i}"
                );
            }
            // query_as_each
            let mut i = 0usize;
            c.query_as_each::<Reordered>(&sql, |g| {
                let o = &oracle[i];
                assert_eq!(g.n.to_string(), o[0], "{name} each row {i}");
                assert_eq!(g.s, o[1], "{name} each row {i}");
                i += 1;
                Ok(())
            })
            .unwrap();
            assert_eq!(i, oracle.len());
            // borrowing, a different field order again
            let mut i = 0usize;
            c.query_blocks(&sql, |b| {
                for r in b.rows_as::<ReorderedB>() {
                    let g = r?;
                    let o = &oracle[i];
                    assert_eq!(
                        (g.n.to_string(), g.s.to_string(), g.m.to_string(), g.neg.to_string()),
                        (o[0].clone(), o[1].clone(), o[2].clone(), o[3].clone()),
                        "{name} rows_as mbs={mbs} row {i}"
                    );
                    i += 1;
                }
                Ok(())
            })
            .unwrap();
            assert_eq!(i, oracle.len());
            // stream
            let mut i = 0usize;
            for r in c.query_as_stream::<Reordered>(&sql, &CallOptions::new()).unwrap() {
                let g = r.unwrap();
                assert_eq!(g.n.to_string(), oracle[i][0], "{name} stream row {i}");
                assert_eq!(g.s, oracle[i][1], "{name} stream row {i}");
                i += 1;
            }
            assert_eq!(i, oracle.len());
        }
    }
}

// ------------------------------------------------------------------------------------------------
// P2: missing columns, names in errors

#[test]
fn p2_missing_column_is_named() {
    #[derive(Deserialize, Debug)]
    struct Need {
        a: u64,
        b: String,
        zzz_missing: u32,
    }
    for (name, c) in servers() {
        let e = c.query_as::<Need>("SELECT 1 AS a, 'x' AS b").unwrap_err();
        let (row, col, _ty, msg) = mapping(&e);
        assert_eq!(row, 1, "{name}: {e}");
        assert!(col.is_none(), "{name}: {e}");
        assert!(msg.contains("zzz_missing"), "{name}: {e}");
        assert!(msg.contains("a UInt8") && msg.contains("b String"), "{name}: {e}");
    }
}

// ------------------------------------------------------------------------------------------------
// P3: aliases (serde sorts a field's names: the alias may sort before the field's own name)

#[test]
fn p3_aliases_sorting_before_the_name() {
    #[derive(Deserialize, Debug, PartialEq)]
    struct Al {
        #[serde(alias = "a_alias")]
        z: u64,
        y: String,
        #[serde(alias = "b_alias", alias = "zz_alias")]
        m: i32,
    }
    for (name, c) in servers() {
        // Only aliases present.
        let r: Vec<Al> = c
            .query_as("SELECT 'Y' AS y, 5 AS a_alias, -3 AS zz_alias FROM numbers(3)")
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(r, (0..3).map(|_| Al { z: 5, y: "Y".into(), m: -3 }).collect::<Vec<_>>(), "{name}");
        // Only names present, many blocks.
        let r: Vec<Al> = c
            .query_as("SELECT toString(number) AS y, number AS z, toInt32(-number) AS m FROM numbers(5000) SETTINGS max_block_size=7")
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        for (i, a) in r.iter().enumerate() {
            assert_eq!(a, &Al { z: i as u64, y: i.to_string(), m: -(i as i32) }, "{name}");
        }
        // Name and alias both present: a duplicate-field error or the right values, never shifted.
        match c.query_as::<Al>("SELECT 1 AS z, 2 AS a_alias, 'Y' AS y, 3 AS m, 4 AS b_alias, 5 AS zz_alias") {
            Ok(r) => assert_eq!(r[0], Al { z: 1, y: "Y".into(), m: 3 }, "{name}: shifted"),
            Err(e) => assert!(e.to_string().contains("duplicate field"), "{name}: {e}"),
        }
        // All columns of FIELDS present, order of columns == FIELDS order ([a_alias, z, y, b_alias, m, zz_alias])
        match c.query_as::<Al>("SELECT 2 AS a_alias, 1 AS z, 'Y' AS y, 4 AS b_alias, 3 AS m, 5 AS zz_alias") {
            Ok(r) => assert_eq!(r[0], Al { z: 1, y: "Y".into(), m: 3 }, "{name}: shifted"),
            Err(e) => assert!(e.to_string().contains("duplicate field"), "{name}: {e}"),
        }
    }
}

// ------------------------------------------------------------------------------------------------
// P4: serde attributes and struct shapes

#[derive(Deserialize, Debug, PartialEq)]
struct Attrs {
    #[serde(rename = "number")]
    n: u64,
    #[serde(skip)]
    skipped: u32,
    #[serde(default)]
    absent: u16,
    #[serde(default = "seven")]
    absent7: u16,
    maybe: Option<String>,
    unit: (),
    s: String,
}
fn seven() -> u16 {
    7
}

#[derive(Deserialize, Debug, PartialEq)]
struct Tup(u64, String);
#[derive(Deserialize, Debug, PartialEq)]
struct New(u64);
#[derive(Deserialize, Debug, PartialEq)]
struct Gen<T, U> {
    a: T,
    b: U,
}
#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct Deny {
    a: u64,
}
#[derive(Deserialize, Debug, PartialEq)]
struct FlatInner {
    b: String,
    c: u64,
}
#[derive(Deserialize, Debug, PartialEq)]
struct Flat {
    a: u64,
    #[serde(flatten)]
    inner: FlatInner,
}
#[derive(Deserialize, Debug, PartialEq)]
struct Empty {}

#[test]
fn p4_attributes_and_shapes() {
    for (name, c) in modern_only() {
        // unit field from a NULL column (Nullable(Nothing)), the rest by name with renames/defaults
        let sql = "SELECT toString(number) AS s, NULL AS unit, number, 99 AS extra FROM numbers(2500) SETTINGS max_block_size=100";
        let r: Vec<Attrs> = c.query_as(sql).unwrap_or_else(|e| panic!("{name}: {e}"));
        let oracle = tsv(&c, "SELECT number, toString(number) FROM numbers(2500)");
        for (a, o) in r.iter().zip(&oracle) {
            assert_eq!(
                a,
                &Attrs {
                    n: o[0].parse().unwrap(),
                    skipped: 0,
                    absent: 0,
                    absent7: 7,
                    maybe: None,
                    unit: (),
                    s: o[1].clone()
                },
                "{name}"
            );
        }
        assert_eq!(r.len(), 2500);
        // tuple struct / newtype / generic / tuple
        let r: Vec<Tup> = c.query_as("SELECT number, toString(number) FROM numbers(3)").unwrap();
        assert_eq!(r, vec![Tup(0, "0".into()), Tup(1, "1".into()), Tup(2, "2".into())], "{name}");
        let r: Vec<New> = c.query_as("SELECT number FROM numbers(3)").unwrap();
        assert_eq!(r, vec![New(0), New(1), New(2)], "{name}");
        let r: Vec<Gen<String, i64>> =
            c.query_as("SELECT -toInt64(number) AS b, toString(number) AS a FROM numbers(3)").unwrap();
        assert_eq!(r[2], Gen { a: "2".into(), b: -2 }, "{name}");
        let r: Vec<Gen<u8, Gen<u8, String>>> =
            c.query_as("SELECT (1, 'x')::Tuple(a UInt8, b String) AS b, 3 AS a").unwrap();
        assert_eq!(r[0], Gen { a: 3, b: Gen { a: 1, b: "x".into() } }, "{name}");
        // flatten, with extra columns
        let r: Vec<Flat> = c
            .query_as("SELECT number AS c, 'q' AS z, toString(number) AS b, number + 1 AS a FROM numbers(1000) SETTINGS max_block_size=10")
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        for (i, f) in r.iter().enumerate() {
            assert_eq!(f, &Flat { a: i as u64 + 1, inner: FlatInner { b: i.to_string(), c: i as u64 } }, "{name}");
        }
        // an empty struct
        let r: Vec<Empty> = c.query_as("SELECT 1 AS a FROM numbers(3)").unwrap();
        assert_eq!(r.len(), 3);
        // deny_unknown_fields with exactly its columns works
        let r: Vec<Deny> = c.query_as("SELECT 5 AS a").unwrap();
        assert_eq!(r, vec![Deny { a: 5 }]);
    }
}

/// `#[serde(deny_unknown_fields)]` with an extra column: serde's promise is an error for unknown
/// fields; the docs say columns no field names are not read. Recorded as-is (assert either an
/// error naming the column, or Ok — and report which).
#[test]
fn p4b_deny_unknown_fields_with_extra_column() {
    for (name, c) in servers() {
        // Columns no field names are not read (the docs), so there is nothing unknown.
        let r = c.query_as::<Deny>("SELECT 5 AS a, 6 AS extra_col").map_err(|e| e.to_string());
        assert_eq!(r, Ok(vec![Deny { a: 5 }]), "{name}");
    }
}

// ------------------------------------------------------------------------------------------------
// P5: UTF-8 validity changing between blocks and rows

#[derive(Deserialize, Debug)]
struct NS {
    number: u64,
    s: String,
}
#[derive(Deserialize, Debug)]
struct NsBorrowed<'a> {
    s: &'a str,
    number: u64,
}
#[derive(Deserialize, Debug)]
struct NSBytes<'a> {
    #[serde(with = "serde_bytes")]
    s: &'a [u8],
    number: u64,
}

#[test]
fn p5_utf8_varies_between_blocks() {
    for (name, c) in modern_only() {
        let sql = "SELECT number, if(number % 1000 = 7, unhex('FF'), if(number % 3 = 0, '', concat('é', toString(number), 'ж'))) AS s \
                   FROM numbers(300000) SETTINGS max_block_size=1000";
        // query_as: the first bad row is 8 (number 7), column s.
        let e = c.query_as::<NS>(sql).unwrap_err();
        let (row, col, ty, msg) = mapping(&e);
        assert_eq!((row, col.as_deref(), ty.as_deref()), (8, Some("s"), Some("String")), "{name}: {e}");
        assert!(msg.contains("UTF-8"), "{name}: {e}");
        // rows_as: each row error or value against the server's hex.
        let oracle = tsv(c_ref(&c), &format!("SELECT number, hex(s), isValidUTF8(s) FROM ({sql})"));
        let mut i = 0usize;
        let mut errors = 0usize;
        c.query_blocks(sql, |b| {
            let mut local = 0u64;
            for (r, rb) in b.rows_as::<NsBorrowed>().zip(b.rows_as::<NSBytes>()) {
                local += 1;
                let o = &oracle[i];
                let rb = rb?;
                assert_eq!(hex(rb.s), o[1], "{name} bytes row {i}");
                assert_eq!(rb.number.to_string(), o[0]);
                match r {
                    Ok(v) => {
                        assert_eq!(o[2], "1", "{name}: row {i} read as text but the server says invalid");
                        assert_eq!(hex(v.s.as_bytes()), o[1], "{name} row {i}");
                        assert_eq!(v.number.to_string(), o[0], "{name} row {i}");
                    }
                    Err(e) => {
                        errors += 1;
                        assert_eq!(o[2], "0", "{name}: row {i} error but server says valid: {e}");
                        let (row, col, _, _) = mapping(&e);
                        assert_eq!((row, col.as_deref()), (local, Some("s")), "{name}: {e}");
                    }
                }
                i += 1;
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(i, 300000);
        assert_eq!(errors, 300, "{name}");
    }
}

fn c_ref(c: &Client) -> &Client {
    c
}

/// Row boundaries inside a character: the block's bytes are all UTF-8 but two rows are not, at
/// several positions in a block (first rows, middle, last), plus 4-byte characters split 1+3, 2+2, 3+1.
#[test]
fn p5b_characters_split_across_rows() {
    for (name, c) in modern_only() {
        // '😀' is F0 9F 98 80.
        let sql = "SELECT arrayJoin(['ab', unhex('F0'), unhex('9F9880'), 'x', unhex('F09F'), unhex('9880'), unhex('F09F98'), unhex('80'), 'é', unhex('C3'), unhex('A9'), '']) AS s";
        let oracle = tsv(&c, &format!("SELECT hex(s), isValidUTF8(s) FROM ({sql})"));
        // by position 0..N in one block, and as one-row blocks
        for opts in ["", " SETTINGS max_block_size=1", " SETTINGS max_block_size=3"] {
            let q = format!("{sql}{opts}");
            let mut i = 0;
            c.query_blocks(&q, |b| {
                for r in b.rows_as::<(&str,)>() {
                    let o = &oracle[i];
                    match r {
                        Ok((s,)) => {
                            assert_eq!(o[1], "1", "{name}{opts}: row {i} read as {s:?}, server says not UTF-8");
                            assert_eq!(hex(s.as_bytes()), o[0]);
                        }
                        Err(e) => assert_eq!(o[1], "0", "{name}{opts}: row {i}: {e}"),
                    }
                    i += 1;
                }
                Ok(())
            })
            .unwrap();
            assert_eq!(i, oracle.len());
            // owned String in a struct, read through query_as_each collecting errors is not possible
            // (the first error stops); check the first error is row 2.
            #[derive(Deserialize, Debug)]
            struct S {
                s: String,
            }
            let e = c.query_as::<S>(&q).unwrap_err();
            let (row, col, _, _) = mapping(&e);
            assert_eq!((row, col.as_deref()), (2, Some("s")), "{name}{opts}: {e}");
        }
    }
}

// ------------------------------------------------------------------------------------------------
// P6: NULLs appearing late; long strings; empty strings

#[test]
fn p6_nulls_only_in_later_rows() {
    #[derive(Deserialize, Debug)]
    struct Plain {
        number: u64,
        x: u64,
    }
    #[derive(Deserialize, Debug)]
    struct Opt {
        x: Option<u64>,
        number: u64,
    }
    for (name, c) in modern_only() {
        let sql = "SELECT number, if(number >= 250001, NULL, number * 3) AS x FROM numbers(300000) SETTINGS max_block_size=1000";
        let e = c.query_as::<Plain>(sql).unwrap_err();
        let (row, col, ty, msg) = mapping(&e);
        assert_eq!((row, col.as_deref()), (250002, Some("x")), "{name}: {e}");
        assert!(ty.unwrap().contains("Nullable"), "{name}");
        assert!(msg.contains("NULL"), "{name}: {msg}");
        let oracle = tsv(&c, &format!("SELECT number, x FROM ({sql})"));
        let got: Vec<Opt> = c.query_as(sql).unwrap();
        for (g, o) in got.iter().zip(&oracle) {
            let x = g.x.map_or("\\N".to_string(), |x| x.to_string());
            assert_eq!((g.number.to_string(), x), (o[0].clone(), o[1].clone()), "{name}");
        }
        // Nullable(String) &str with late NULLs through rows_as
        let sql = "SELECT if(number % 777 = 776, NULL, repeat('ы', number % 50)) AS s FROM numbers(20000) SETTINGS max_block_size=333";
        let oracle = tsv(&c, &format!("SELECT hex(s), s IS NULL FROM ({sql})"));
        let mut i = 0;
        c.query_blocks(sql, |b| {
            for r in b.rows_as::<(Option<&str>,)>() {
                let (s,) = r?;
                match s {
                    None => assert_eq!(oracle[i][1], "1", "{name} row {i}"),
                    Some(s) => assert_eq!(
                        (hex(s.as_bytes()), "0"),
                        (oracle[i][0].clone(), oracle[i][1].as_str()),
                        "{name} row {i}"
                    ),
                }
                i += 1;
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(i, 20000);
    }
}

#[test]
fn p6b_long_strings_and_empty() {
    for (name, c) in modern_only() {
        let sql = "SELECT number, if(number % 5 = 0, '', repeat(concat('ж', toString(number)), 20000)) AS s FROM numbers(60) SETTINGS max_block_size=7";
        let oracle = tsv(&c, &format!("SELECT number, length(s), cityHash64(s) FROM ({sql})"));
        let got: Vec<NS> = c.query_as(sql).unwrap();
        for (g, o) in got.iter().zip(&oracle) {
            assert_eq!((g.number.to_string(), g.s.len().to_string()), (o[0].clone(), o[1].clone()), "{name}");
        }
        // content check: the same string built in Rust from the server's own pieces
        let parts = tsv(&c, &format!("SELECT hex(s) FROM ({sql})"));
        for (g, p) in got.iter().zip(&parts) {
            assert_eq!(hex(g.s.as_bytes()), p[0], "{name}");
        }
    }
}

// ------------------------------------------------------------------------------------------------
// P7: hand-written Deserialize impls that change shape per row

/// Row type that asks for: a struct (fields x, y) on even `number`, a map on odd ones; and a
/// tuple when number % 5 == 0 (takes precedence). The row number is known from a thread-local
/// counter (rows are read in order).
#[derive(Debug, PartialEq)]
enum Shape {
    Struct { x: u64, y: String },
    Map(BTreeMap<String, String>),
    Tuple(String, String, u64),
}

thread_local! {
    static ROW: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    static CALLS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

const XY_FIELDS: &[&str] = &["x", "y"];

impl<'de> Deserialize<'de> for Shape {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = ROW.with(|r| r.get());
        CALLS.with(|c| c.set(c.get() + 1));
        struct SV;
        impl<'de> Visitor<'de> for SV {
            type Value = Shape;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("x, y")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Shape, A::Error> {
                let x = s.next_element()?.ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let y = s.next_element()?.ok_or_else(|| de::Error::invalid_length(1, &self))?;
                Ok(Shape::Struct { x, y })
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Shape, A::Error> {
                let (mut x, mut y) = (None, None);
                while let Some(k) = m.next_key::<String>()? {
                    match k.as_str() {
                        "x" => x = Some(m.next_value()?),
                        "y" => y = Some(m.next_value()?),
                        _ => {
                            m.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(Shape::Struct {
                    x: x.ok_or_else(|| de::Error::missing_field("x"))?,
                    y: y.ok_or_else(|| de::Error::missing_field("y"))?,
                })
            }
        }
        if r % 5 == 0 {
            let t = <(String, String, u64)>::deserialize(d)?;
            Ok(Shape::Tuple(t.0, t.1, t.2))
        } else if r % 2 == 0 {
            d.deserialize_struct("XY", XY_FIELDS, SV)
        } else {
            Ok(Shape::Map(BTreeMap::<String, String>::deserialize(d)?))
        }
    }
}

#[test]
fn p7_shape_changes_per_row() {
    for (name, c) in servers() {
        // columns: z, y, x (order differs from struct fields); all String-able for the map (toString)
        let sql = "SELECT toString(number * 10) AS z, concat('y', toString(number)) AS y, number AS x FROM numbers(5000) SETTINGS max_block_size=97";
        // only rows_as (map of String values needs x as String: ask map <String, String> → x UInt64 to String?)
        let mut i = 0u64;
        let mut seen = Vec::new();
        c.query_blocks(sql, |b| {
            let mut it = b.rows_as::<Shape>();
            loop {
                ROW.with(|x| x.set(i));
                let Some(r) = it.next() else { break };
                seen.push(r.map_err(|e| e.to_string()));
                i += 1;
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(seen.len(), 5000, "{name}");
        for (n, s) in seen.iter().enumerate() {
            let n = n as u64;
            let want = if n % 5 == 0 {
                Ok(Shape::Tuple((n * 10).to_string(), format!("y{n}"), n)) // z, y, x by position
            } else if n % 2 == 0 {
                Ok(Shape::Struct { x: n, y: format!("y{n}") })
            } else {
                // map of every column as text: x is UInt64 → String via text
                Ok(Shape::Map(BTreeMap::from([
                    ("x".to_string(), n.to_string()),
                    ("y".to_string(), format!("y{n}")),
                    ("z".to_string(), (n * 10).to_string()),
                ])))
            };
            assert_eq!(s, &want, "{name}: row {n}");
        }
    }
}

/// A Deserialize that asks for a struct (x, y) but whose visit_seq reads only the first element:
/// on row 0 and on a later row only. The values must still come from the right columns.
#[derive(Debug, PartialEq)]
struct Lazy {
    x: u64,
    y: Option<String>,
}

impl<'de> Deserialize<'de> for Lazy {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = ROW.with(|r| r.get());
        struct LV(bool);
        impl<'de> Visitor<'de> for LV {
            type Value = Lazy;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("lazy")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Lazy, A::Error> {
                let x = s.next_element()?.ok_or_else(|| de::Error::invalid_length(0, &self))?;
                if self.0 {
                    return Ok(Lazy { x, y: None });
                }
                let y = s.next_element()?.ok_or_else(|| de::Error::invalid_length(1, &self))?;
                Ok(Lazy { x, y: Some(y) })
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Lazy, A::Error> {
                let (mut x, mut y) = (None, None);
                while let Some(k) = m.next_key::<String>()? {
                    match k.as_str() {
                        "x" => x = Some(m.next_value()?),
                        "y" if !self.0 => y = Some(m.next_value()?),
                        _ => {
                            m.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(Lazy { x: x.ok_or_else(|| de::Error::missing_field("x"))?, y })
            }
        }
        d.deserialize_struct("Lazy", XY_FIELDS, LV(r == 0 || r == 3000))
    }
}

#[test]
fn p7b_reads_fewer_fields_than_listed() {
    for (name, c) in servers() {
        let sql = "SELECT toString(number) AS y, number * 2 AS x FROM numbers(5000) SETTINGS max_block_size=5000";
        let mut i = 0u64;
        let mut got = Vec::new();
        c.query_blocks(sql, |b| {
            let mut it = b.rows_as::<Lazy>();
            loop {
                ROW.with(|x| x.set(i));
                let Some(r) = it.next() else { break };
                got.push(r?);
                i += 1;
            }
            Ok(())
        })
        .unwrap();
        for (n, l) in got.iter().enumerate() {
            let n = n as u64;
            let y = if n == 0 || n == 3000 { None } else { Some(n.to_string()) };
            assert_eq!(l, &Lazy { x: n * 2, y }, "{name}: row {n}");
        }
    }
}

/// A Deserialize that errors on some rows (custom error) and reads a wrong-typed value on others:
/// the error must name the right row (and the right column for value errors).
#[derive(Debug, Deserialize)]
struct Picky {
    #[serde(deserialize_with = "odd_only")]
    a: u64,
    b: u8,
}
fn odd_only<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let v = u64::deserialize(d)?;
    if v == 4321 {
        return Err(de::Error::custom("4321 is refused"));
    }
    Ok(v)
}

#[test]
fn p7c_errors_name_the_right_row_and_column() {
    for (name, c) in servers() {
        // row 4322 fails in a (custom) ; b overflows u8 at number 255 + 1000? no: b = number % 300 → 256 at number 256
        let sql = "SELECT number % 300 AS b, number AS a FROM numbers(10000) SETTINGS max_block_size=100";
        let e = c.query_as::<Picky>(sql).unwrap_err();
        let (row, col, ty, msg) = mapping(&e);
        assert_eq!((row, col.as_deref(), ty.as_deref()), (257, Some("b"), Some("UInt16")), "{name}: {e}");
        assert!(msg.contains("256"), "{name}: {msg}");
        let sql = "SELECT number % 250 AS b, number AS a FROM numbers(10000) SETTINGS max_block_size=100";
        let e = c.query_as::<Picky>(sql).unwrap_err();
        let (row, col, _ty, msg) = mapping(&e);
        assert_eq!((row, col.as_deref()), (4322, Some("a")), "{name}: {e}");
        assert!(msg.contains("4321 is refused"), "{name}: {msg}");
        // stream: same row numbers
        let mut last_ok = 0;
        let mut err = None;
        for r in c.query_as_stream::<Picky>(sql, &CallOptions::new()).unwrap() {
            match r {
                Ok(p) => last_ok = p.a,
                Err(e) => {
                    err = Some(e);
                    break;
                }
            }
        }
        let e = err.expect("stream error");
        assert_eq!(mapping(&e).0, 4322, "{name} stream: {e}");
        // query_as_each delivers rows 1..=4321 before the error; the stream should too.
        assert_eq!(
            last_ok, 4320,
            "{name}: query_as_stream: last row delivered before the error at row 4322 (block of 100 rows)"
        );
        // rows_as keeps going after an error: rows after it read correctly (by name now)
        let mut vals = Vec::new();
        c.query_blocks("SELECT number % 250 AS b, number + 4300 AS a FROM numbers(50)", |b| {
            for r in b.rows_as::<Picky>() {
                vals.push(r.map(|p| (p.a, p.b)).map_err(|e| mapping(&e)));
            }
            Ok(())
        })
        .unwrap();
        for (i, v) in vals.iter().enumerate() {
            let a = i as u64 + 4300;
            if a == 4321 {
                let (row, col, _, _) = v.clone().unwrap_err();
                assert_eq!((row, col.as_deref()), (i as u64 + 1, Some("a")), "{name}");
            } else {
                assert_eq!(v, &Ok((a, i as u8)), "{name}: row {i}");
            }
        }
    }
}

// serde_json::Value, IgnoredAny, enums

#[derive(Deserialize, Debug, PartialEq)]
#[serde(untagged)]
enum Untagged {
    Two { a: u64, b: String },
    One { a: u64 },
}

#[derive(Deserialize, Debug, PartialEq)]
struct WithAny {
    a: u64,
    ignored: IgnoredAny,
    v: serde_json::Value,
}

#[test]
fn p7d_json_value_ignored_any_untagged() {
    for (name, c) in servers() {
        let sql = "SELECT number AS a, toString(number) AS b, [number, number + 1] AS ignored, (number, 'q') AS v FROM numbers(3)";
        let r: Vec<WithAny> = c.query_as(sql).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(r[2].a, 2);
        assert_eq!(r[2].v, serde_json::json!([2, "q"]), "{name}");
        let r: Vec<HashMap<String, serde_json::Value>> = c.query_as(sql).unwrap();
        assert_eq!(r[1]["b"], serde_json::json!("1"), "{name}");
        assert_eq!(r[1]["ignored"], serde_json::json!([1, 2]), "{name}");
        let r: Vec<serde_json::Value> = c.query_as(sql).unwrap();
        assert_eq!(r[1]["a"], serde_json::json!(1), "{name}");
        let r: Vec<Untagged> = c.query_as("SELECT number AS a, toString(number) AS b FROM numbers(2)").unwrap();
        assert_eq!(r[1], Untagged::Two { a: 1, b: "1".into() }, "{name}");
    }
}

/// An untagged enum of structs (or serde_json::Value) over a ONE-column result: a struct reads a
/// one-column result by name; does the untagged enum / Value too?
#[test]
fn p7e_untagged_and_value_on_one_column() {
    #[derive(Deserialize, Debug, PartialEq)]
    struct OnlyA {
        a: u64,
    }
    for (name, c) in servers() {
        let r: Vec<OnlyA> = c.query_as("SELECT 5 AS a").unwrap();
        assert_eq!(r, vec![OnlyA { a: 5 }]);
        // A type that takes any value gets the value itself from a result of one column (the docs):
        // an untagged enum of structs needs two; read with a map or struct to keep the names.
        let r = c.query_as::<Untagged>("SELECT 5 AS a");
        assert!(r.is_err(), "{name}: {r:?}");
    }
}

#[test]
fn p7f_value_map_on_one_column() {
    for (name, c) in servers() {
        // One column: the value itself (the docs), as the server renders it.
        let r: Vec<serde_json::Value> = c.query_as("SELECT 5 AS a").unwrap();
        assert_eq!(r[0].to_string(), tsv(&c, "SELECT 5 AS a")[0][0], "{name}");
        let r: Vec<serde_json::Value> = c.query_as("SELECT 5 AS a, 'x' AS b").unwrap();
        assert_eq!(r, vec![serde_json::json!({"a": 5, "b": "x"})], "{name}");
    }
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(tag = "kind")]
enum Internally {
    A { x: u64 },
    B { y: String },
}

#[test]
fn p7g_internally_tagged_rows() {
    for (name, c) in servers() {
        let r: Vec<Internally> = c
            .query_as("SELECT if(number % 2 = 0, 'A', 'B') AS kind, number AS x, toString(number) AS y FROM numbers(4)")
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(r[0], Internally::A { x: 0 });
        assert_eq!(r[3], Internally::B { y: "3".into() });
    }
}

// ------------------------------------------------------------------------------------------------
// P8: integer and float conversions

#[test]
fn p8_number_ranges() {
    for (name, c) in servers() {
        // u8 from UInt64 300
        let e = c.query_as::<(u8,)>("SELECT toUInt64(300)").unwrap_err();
        assert_eq!(mapping(&e).0, 1, "{name}");
        assert!(e.to_string().contains("300"), "{name}: {e}");
        // a UInt64 column that fits in u8 on early rows and not on a later block's row
        let e = c
            .query_as::<(u64, u8)>("SELECT number, number FROM numbers(1000) SETTINGS max_block_size=100")
            .unwrap_err();
        let (row, col, ty, _) = mapping(&e);
        assert_eq!((row, col.as_deref(), ty.as_deref()), (257, Some("number"), Some("UInt64")), "{name}: {e}");
        // i8 from UInt8 200; u64 from Int64 -1; u32 from Int8 -1; i64 from UInt64 max
        for (sql, what) in [
            ("SELECT toUInt8(200)", "i8"),
            ("SELECT toInt64(-1)", "u64"),
            ("SELECT toInt8(-1)", "u32"),
            ("SELECT toUInt64(18446744073709551615)", "i64"),
        ] {
            let r = match what {
                "i8" => c.query_as::<(i8,)>(sql).map(|v| format!("{v:?}")),
                "u64" => c.query_as::<(u64,)>(sql).map(|v| format!("{v:?}")),
                "u32" => c.query_as::<(u32,)>(sql).map(|v| format!("{v:?}")),
                _ => c.query_as::<(i64,)>(sql).map(|v| format!("{v:?}")),
            };
            assert!(r.is_err(), "{name}: {sql} into {what} gave {r:?}");
        }
        // i128/u128 from extremes (oracle: toString)
        let o = tsv(&c, "SELECT toString(toInt64(-9223372036854775808)), toString(toUInt64(18446744073709551615))");
        let r: Vec<(i128, u128)> =
            c.query_as("SELECT toInt64(-9223372036854775808), toUInt64(18446744073709551615)").unwrap();
        assert_eq!((r[0].0.to_string(), r[0].1.to_string()), (o[0][0].clone(), o[0][1].clone()), "{name}");
        // bool from UInt8 0/1/2
        let r: Vec<(bool,)> = c.query_as("SELECT toUInt8(number) FROM numbers(2)").unwrap();
        assert_eq!(r, vec![(false,), (true,)]);
        assert!(c.query_as::<(bool,)>("SELECT toUInt8(2)").is_err(), "{name}");
        // char
        let r: Vec<(char,)> = c.query_as("SELECT arrayJoin(['x', 'é', '😀'])").unwrap();
        assert_eq!(r, vec![('x',), ('é',), ('😀',)], "{name}");
        assert!(c.query_as::<(char,)>("SELECT 'xy'").is_err(), "{name}");
        assert!(c.query_as::<(char,)>("SELECT ''").is_err(), "{name}");
    }
}

/// f32 from a Float64 column holding 1e300: the docs say serde checks the range for numbers.
#[test]
fn p8b_f32_from_f64_out_of_range() {
    for (name, c) in servers() {
        // Rounded as the server's own toFloat32 rounds it (the docs): inf.
        let r = c.query_as::<(f32,)>("SELECT toFloat64(1e300)").unwrap();
        assert_eq!(r[0].0.to_string(), tsv(&c, "SELECT toString(toFloat32(toFloat64(1e300)))")[0][0], "{name}");
    }
}

/// u64 from Float64 (not an integer) must be an error; f64 from a UInt64 beyond 2^53 loses
/// precision silently — compare with the server's toString.
#[test]
fn p8c_float_integer_crossings() {
    for (name, c) in servers() {
        assert!(c.query_as::<(u64,)>("SELECT toFloat64(1.5)").is_err(), "{name}");
        assert!(
            c.query_as::<(u64,)>("SELECT toFloat64(2)").is_err(),
            "{name}: Float64 2 into u64 (serde refuses floats for ints)"
        );
        let o = tsv(&c, "SELECT toString(toFloat32(toFloat64(0.1)))");
        let r: Vec<(f32,)> = c.query_as("SELECT toFloat64(0.1)").unwrap();
        assert_eq!(r[0].0.to_string(), o[0][0], "{name}");
    }
}

// ------------------------------------------------------------------------------------------------
// P9: &str from non-String columns; bytes; Cow

#[test]
fn p9_borrowed_str_from_other_columns() {
    for (name, c) in servers() {
        // (18.16 segfaults on hex() of LowCardinality(Nullable(String)): no LowCardinality there.)
        let (lc, lcn) = if name == "legacy" {
            ("'lc'", "toNullable(toString(number % 4))")
        } else {
            ("'lc'::LowCardinality(String)", "toLowCardinality(toNullable(toString(number % 4)))")
        };
        let sql = format!(
            "SELECT toFixedString(concat('f', toString(number % 10)), 3) AS fs, {lc} AS lc, \
             if(number % 2 = 0, NULL, toNullable(concat('n', toString(number)))) AS ns, \
             {lcn} AS lcn FROM numbers(100) SETTINGS max_block_size=30"
        );
        let oracle = tsv(
            &c,
            &format!("SELECT hex(fs), hex(lc), ifNull(hex(ns), 'NULL'), ifNull(hex(lcn), 'NULL') FROM ({sql})"),
        );
        #[derive(Deserialize)]
        struct B<'a> {
            fs: &'a str,
            lc: &'a str,
            ns: Option<&'a str>,
            lcn: Option<&'a str>,
        }
        let mut i = 0;
        c.query_blocks(&sql, |b| {
            for r in b.rows_as::<B>() {
                let r = r?;
                let o = &oracle[i];
                assert_eq!(hex(r.fs.as_bytes()), o[0], "{name} fs row {i}");
                assert_eq!(hex(r.lc.as_bytes()), o[1], "{name} lc row {i}");
                assert_eq!(r.ns.map_or("NULL".into(), |s| hex(s.as_bytes())), o[2], "{name} ns row {i}");
                assert_eq!(r.lcn.map_or("NULL".into(), |s| hex(s.as_bytes())), o[3], "{name} lcn row {i}");
                i += 1;
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(i, 100);
        // &str from a UInt64: an error (cannot lend text that is not in the block), naming the column
        let mut errs = Vec::new();
        c.query_blocks("SELECT number AS n FROM numbers(2)", |b| {
            for r in b.rows_as::<(&str,)>() {
                errs.push(r.map(|x| x.0.to_string()).map_err(|e| mapping(&e)));
            }
            Ok(())
        })
        .unwrap();
        for e in &errs {
            let (row, col, _, _) = e.clone().expect_err("&str from UInt64");
            assert!(row >= 1 && col.as_deref() == Some("n"), "{name}: {e:?}");
        }
        // String/Cow from a UInt64: the server's text
        let r: Vec<(String, Cow<str>)> =
            c.query_as("SELECT toUInt64(18446744073709551615) AS a, toInt8(-5) AS b").unwrap();
        assert_eq!((r[0].0.as_str(), &*r[0].1), ("18446744073709551615", "-5"), "{name}");
        // bytes from FixedString with NULs, Vec<u8> without serde_bytes
        let r: Vec<(Vec<u8>, serde_bytes::ByteBuf)> =
            c.query_as("SELECT toFixedString('a', 4), toFixedString(unhex('FF00'), 3)").unwrap();
        assert_eq!(r[0].0, b"a\0\0\0".to_vec(), "{name}");
        assert_eq!(r[0].1.as_slice(), &[0xFF, 0, 0], "{name}");
    }
}

// ------------------------------------------------------------------------------------------------
// P10: the struct plan keyed by the FIELDS pointer: two structs whose field lists share an address
// (a hand-written Deserialize passing slices of one static array).

static ALL3: [&str; 3] = ["a", "b", "c"];

#[derive(Debug, PartialEq)]
struct Two {
    a: u64,
    b: u64,
}
#[derive(Debug, PartialEq)]
struct Three {
    a: u64,
    b: u64,
    c: Option<u64>,
}

fn seq_visitor<'de, T, A: SeqAccess<'de>>(
    mut s: A,
    n: usize,
    make: impl FnOnce(Vec<Option<u64>>) -> T,
) -> Result<T, A::Error> {
    let mut v = Vec::new();
    for _ in 0..n {
        v.push(s.next_element::<u64>()?);
    }
    Ok(make(v))
}

impl<'de> Deserialize<'de> for Two {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Two;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("Two")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, s: A) -> Result<Two, A::Error> {
                seq_visitor(s, 2, |v| Two { a: v[0].unwrap(), b: v[1].unwrap() })
            }
        }
        d.deserialize_struct("Two", &ALL3[..2], V)
    }
}
impl<'de> Deserialize<'de> for Three {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Three;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("Three")
            }
            // like serde's derive with #[serde(default)] on c: a missing element is None
            fn visit_seq<A: SeqAccess<'de>>(self, s: A) -> Result<Three, A::Error> {
                seq_visitor(s, 3, |v| Three { a: v[0].unwrap(), b: v[1].unwrap(), c: v[2] })
            }
        }
        d.deserialize_struct("Three", &ALL3[..], V)
    }
}

#[derive(Debug, PartialEq)]
enum TwoOrThree {
    Two(Two),
    Three(Three),
}
impl<'de> Deserialize<'de> for TwoOrThree {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if ROW.with(|r| r.get()) == 0 {
            Two::deserialize(d).map(TwoOrThree::Two)
        } else {
            Three::deserialize(d).map(TwoOrThree::Three)
        }
    }
}

#[test]
fn p10_field_lists_sharing_an_address() {
    for (name, c) in servers() {
        let mut got = Vec::new();
        let mut i = 0u64;
        c.query_blocks("SELECT number AS a, number * 10 AS b, number * 100 AS c FROM numbers(3)", |b| {
            let mut it = b.rows_as::<TwoOrThree>();
            loop {
                ROW.with(|x| x.set(i));
                let Some(r) = it.next() else { break };
                got.push(r?);
                i += 1;
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(
            got,
            vec![
                TwoOrThree::Two(Two { a: 0, b: 0 }),
                TwoOrThree::Three(Three { a: 1, b: 10, c: Some(100) }),
                TwoOrThree::Three(Three { a: 2, b: 20, c: Some(200) }),
            ],
            "{name}"
        );
    }
}

// ------------------------------------------------------------------------------------------------
// P11: flatten + an extra column the struct never names, whose value cannot be buffered
// (non-UTF-8 String) — the docs say columns no field names are not read.

#[test]
fn p11_flatten_with_unreadable_extra_column() {
    for (name, c) in servers() {
        let r = c.query_as::<Flat>("SELECT 1 AS a, 'x' AS b, 2 AS c, unhex('FF') AS junk");
        assert_eq!(
            r.as_ref().map_err(|e| e.to_string()),
            Ok(&vec![Flat { a: 1, inner: FlatInner { b: "x".into(), c: 2 } }]),
            "{name}: a struct with a flattened field fails on an extra column it never names"
        );
    }
}

// ------------------------------------------------------------------------------------------------
// P12: values of other types against the server's text (jiff, uuid, ip), many blocks, by position

#[test]
fn p12_typed_values_against_server_text() {
    #[derive(Deserialize, Debug)]
    struct T {
        ip6: std::net::Ipv6Addr,
        u: uuid::Uuid,
        d: jiff::civil::Date,
        ts: jiff::Timestamp,
        ip4: std::net::Ipv4Addr,
        n: u64,
    }
    for (name, c) in modern_only() {
        let sql = "SELECT number AS n, toIPv4(toUInt32(number * 2654435761 % 4294967296)) AS ip4, \
                   toDate(number % 40000) AS d, toDateTime(number * 86399, 'UTC') AS ts, \
                   generateUUIDv4() AS u, toIPv6(IPv4NumToString(toUInt32(number))) AS ip6 FROM numbers(20000) SETTINGS max_block_size=777";
        // generateUUIDv4 differs per query: use a deterministic UUID instead
        let sql = sql
            .replace("generateUUIDv4()", "toUUID(concat('00000000-0000-0000-0000-', leftPad(hex(number), 12, '0')))");
        let sql = if name == "legacy" {
            sql.replace(
                "leftPad(hex(number), 12, '0')",
                "substring(concat('000000000000', hex(number)), length(hex(number)) + 1, 12)",
            )
        } else {
            sql
        };
        let oracle = tsv(
            &c,
            &format!(
                "SELECT toString(n), toString(ip4), toString(d), toString(ts), toString(u), toString(ip6) FROM ({sql})"
            ),
        );
        let got: Vec<T> = c.query_as(&sql).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got.len(), oracle.len());
        for (g, o) in got.iter().zip(&oracle) {
            let ts =
                g.ts.to_zoned_datetime(jiff::tz::TimeZone::UTC).datetime().strftime("%Y-%m-%d %H:%M:%S").to_string();
            assert_eq!(
                vec![g.n.to_string(), g.ip4.to_string(), g.d.to_string(), ts, g.u.to_string(), g.ip6.to_string()],
                *o,
                "{name}"
            );
        }
    }
}

// ------------------------------------------------------------------------------------------------
// P13: complete plans (read by position) with skip / default / rename / unit / PhantomData in
// the middle, many blocks, against the server's text.

#[derive(Deserialize, Debug, PartialEq)]
struct Complete {
    #[serde(rename = "zz")]
    z: String,
    #[serde(skip)]
    skipped: u64,
    #[serde(default)]
    d: u32,
    unit: (),
    #[serde(skip_deserializing, default = "seven")]
    seven: u16,
    n: u64,
    ph: std::marker::PhantomData<u8>,
    #[serde(with = "serde_bytes")]
    b: Vec<u8>,
}

#[test]
fn p13_complete_plan_with_skips_and_units() {
    for (name, c) in servers() {
        let sql = "SELECT number AS n, toUInt32(number % 1000) AS d, NULL AS ph, toString(number) AS b, NULL AS unit, \
                   concat('ы', toString(number)) AS zz FROM numbers(100000) SETTINGS max_block_size=4096";
        let o = tsv(&c, &format!("SELECT n, d, zz, hex(b) FROM ({sql})"));
        let got = c.query_as::<Complete>(sql);
        let got = got.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got.len(), o.len());
        for (g, o) in got.iter().zip(&o) {
            assert_eq!(
                (g.n.to_string(), g.d.to_string(), g.z.clone(), hex(&g.b), g.skipped, g.seven),
                (o[0].clone(), o[1].clone(), o[2].clone(), o[3].clone(), 0, 7),
                "{name}"
            );
        }
    }
}

// ------------------------------------------------------------------------------------------------
// P14: per-row different field ORDER of the same struct (a Deserialize that lists its fields in
// another order on odd rows; its visit_seq follows the list it gave).

const XY: &[&str] = &["x", "y"];
const YX: &[&str] = &["y", "x"];

#[derive(Debug, PartialEq)]
struct Swapping {
    x: u64,
    y: String,
}
impl<'de> Deserialize<'de> for Swapping {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V(bool);
        impl<'de> Visitor<'de> for V {
            type Value = Swapping;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("swapping")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Swapping, A::Error> {
                if self.0 {
                    let y = s.next_element()?.ok_or_else(|| de::Error::invalid_length(0, &self))?;
                    let x = s.next_element()?.ok_or_else(|| de::Error::invalid_length(1, &self))?;
                    Ok(Swapping { x, y })
                } else {
                    let x = s.next_element()?.ok_or_else(|| de::Error::invalid_length(0, &self))?;
                    let y = s.next_element()?.ok_or_else(|| de::Error::invalid_length(1, &self))?;
                    Ok(Swapping { x, y })
                }
            }
        }
        let odd = ROW.with(|r| r.get()) % 2 == 1;
        d.deserialize_struct("Swapping", if odd { YX } else { XY }, V(odd))
    }
}

/// Derived struct with an alias on some rows, another on others.
#[derive(Deserialize, Debug, PartialEq)]
struct AliasX {
    y: String,
    #[serde(alias = "a")]
    x: u64,
}
#[derive(Debug, PartialEq)]
enum Mixed {
    S(Swapping),
    A(AliasX),
}
impl<'de> Deserialize<'de> for Mixed {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if ROW.with(|r| r.get()) % 3 == 2 {
            AliasX::deserialize(d).map(Mixed::A)
        } else {
            Swapping::deserialize(d).map(Mixed::S)
        }
    }
}

fn read_with_row_counter<T: for<'a> Deserialize<'a>>(c: &Client, sql: &str) -> Vec<Result<T, String>> {
    let mut i = 0u64;
    let mut out = Vec::new();
    c.query_blocks(sql, |b| {
        let mut it = b.rows_as::<T>();
        loop {
            ROW.with(|x| x.set(i));
            let Some(r) = it.next() else { break };
            out.push(r.map_err(|e| e.to_string()));
            i += 1;
        }
        Ok(())
    })
    .unwrap();
    out
}

#[test]
fn p14_field_order_and_struct_change_per_row() {
    for (name, c) in servers() {
        let sql =
            "SELECT toString(number) AS y, 'junk' AS j, number AS x FROM numbers(3000) SETTINGS max_block_size=1000";
        let got = read_with_row_counter::<Swapping>(&c, sql);
        for (n, g) in got.iter().enumerate() {
            assert_eq!(g, &Ok(Swapping { x: n as u64, y: n.to_string() }), "{name}: row {n}");
        }
        let got = read_with_row_counter::<Mixed>(&c, sql);
        for (n, g) in got.iter().enumerate() {
            let want = if n % 3 == 2 {
                Mixed::A(AliasX { x: n as u64, y: n.to_string() })
            } else {
                Mixed::S(Swapping { x: n as u64, y: n.to_string() })
            };
            assert_eq!(g, &Ok(want), "{name}: row {n}");
        }
        // Now with the alias column present too (x and a): AliasX rows either error (duplicate) or read x.
        let sql = "SELECT toString(number) AS y, number + 1000000 AS a, number AS x FROM numbers(3000) SETTINGS max_block_size=1000";
        let got = read_with_row_counter::<Mixed>(&c, sql);
        for (n, g) in got.iter().enumerate() {
            if n % 3 == 2 {
                match g {
                    Ok(v) => assert_eq!(v, &Mixed::A(AliasX { x: n as u64, y: n.to_string() }), "{name}: row {n}"),
                    Err(e) => assert!(e.contains("duplicate field"), "{name}: row {n}: {e}"),
                }
            } else {
                assert_eq!(g, &Ok(Mixed::S(Swapping { x: n as u64, y: n.to_string() })), "{name}: row {n}");
            }
        }
    }
}

// ------------------------------------------------------------------------------------------------
// P15: an error on row 0 (by position) then good rows; an error in a later block only

#[test]
fn p15_error_on_first_row_then_good_rows() {
    #[derive(Deserialize, Debug, PartialEq)]
    struct S<'a> {
        s: &'a str,
        v: u8,
    }
    for (name, c) in servers() {
        let sql = "SELECT if(number = 0, unhex('FF'), toString(number)) AS s, toUInt16(if(number = 5, 256, number)) AS v FROM numbers(10)";
        let mut got = Vec::new();
        c.query_blocks(sql, |b| {
            for r in b.rows_as::<S>() {
                got.push(r.map(|s| (s.s.to_string(), s.v)).map_err(|e| mapping(&e)));
            }
            Ok(())
        })
        .unwrap();
        for (i, g) in got.iter().enumerate() {
            match i {
                0 => {
                    let (row, col, ..) = g.clone().unwrap_err();
                    assert_eq!((row, col.as_deref()), (1, Some("s")), "{name}");
                }
                5 => {
                    let (row, col, ..) = g.clone().unwrap_err();
                    assert_eq!((row, col.as_deref()), (6, Some("v")), "{name}");
                }
                _ => assert_eq!(g, &Ok((i.to_string(), i as u8)), "{name}: row {i}"),
            }
        }
    }
}

// ------------------------------------------------------------------------------------------------
// P16: a MergeTree table with mostly-default (sparse on disk) columns and duplicate column names

#[test]
fn p16_sparse_columns_and_duplicate_names() {
    let c = modern();
    let t = table("adv1_sparse");
    c.command(&format!(
        "CREATE TABLE {t} (k UInt64, a UInt64, s String, n Nullable(UInt32)) ENGINE = MergeTree ORDER BY k \
         SETTINGS ratio_of_defaults_for_sparse_serialization = 0.5"
    ))
    .unwrap();
    c.command(&format!(
        "INSERT INTO {t} SELECT number, if(number % 997 = 0, number, 0), if(number % 991 = 0, toString(number), ''), \
         if(number % 983 = 0, number, NULL) FROM numbers(50000)"
    ))
    .unwrap();
    c.command(&format!("OPTIMIZE TABLE {t} FINAL")).unwrap();
    #[derive(Deserialize, Debug)]
    struct R {
        n: Option<u32>,
        s: String,
        a: u64,
        k: u64,
    }
    let sql = format!("SELECT * FROM {t} ORDER BY k");
    let o = tsv(&c, &format!("SELECT k, a, s, n FROM {t} ORDER BY k"));
    let got: Vec<R> = c.query_as(&sql).unwrap();
    assert_eq!(got.len(), o.len());
    for (g, o) in got.iter().zip(&o) {
        assert_eq!(
            vec![g.k.to_string(), g.a.to_string(), g.s.clone(), g.n.map_or("\\N".into(), |x| x.to_string())],
            *o
        );
    }
    // Two columns of one name: the server refuses the query (MULTIPLE_EXPRESSIONS_FOR_ALIAS).
    let r = c.query_as::<HashMap<String, u64>>("SELECT number, number + 1 AS x, number + 2 AS x FROM numbers(1)");
    assert_eq!(r.map_err(|e| e.server_code()).err(), Some(Some(179)));
    c.command(&format!("DROP TABLE {t}")).unwrap();
}

// ------------------------------------------------------------------------------------------------
// P17: minimal form of the p14 failure: the block's FIRST struct has a column missing (read by
// name, its plan incomplete); another struct read on a later row is complete (read by position,
// which sets the block's "by position" flag); the first struct's next row is then read "by
// position" with its incomplete plan: no elements at all. With `#[serde(default)]` fields that is
// silently all defaults.

#[derive(Deserialize, Debug, PartialEq)]
struct WithDefaults {
    #[serde(default)]
    a: u64,
    #[serde(default)]
    not_a_column: u64,
}
#[derive(Deserialize, Debug, PartialEq)]
struct JustA {
    a: u64,
}
#[derive(Debug, PartialEq)]
enum DefaultsOrA {
    D(WithDefaults),
    A(JustA),
}
impl<'de> Deserialize<'de> for DefaultsOrA {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Row 1 reads JustA, every other row WithDefaults.
        if ROW.with(|r| r.get()) == 1 {
            JustA::deserialize(d).map(DefaultsOrA::A)
        } else {
            WithDefaults::deserialize(d).map(DefaultsOrA::D)
        }
    }
}

#[test]
fn p17_incomplete_plan_read_by_position_after_another_struct() {
    for (name, c) in servers() {
        let got = read_with_row_counter::<DefaultsOrA>(&c, "SELECT number + 100 AS a FROM numbers(4)");
        assert_eq!(
            got,
            vec![
                Ok(DefaultsOrA::D(WithDefaults { a: 100, not_a_column: 0 })),
                Ok(DefaultsOrA::A(JustA { a: 101 })),
                Ok(DefaultsOrA::D(WithDefaults { a: 102, not_a_column: 0 })),
                Ok(DefaultsOrA::D(WithDefaults { a: 103, not_a_column: 0 })),
            ],
            "{name}"
        );
    }
}

// ------------------------------------------------------------------------------------------------
// P18: #[serde(borrow)] Cow<str> borrows from the block in rows_as (String and LowCardinality);
// owned where the text is not in the block (a number).

#[test]
fn p18_borrowed_cow() {
    #[derive(Deserialize, Debug)]
    struct C<'a> {
        #[serde(borrow)]
        s: Cow<'a, str>,
        #[serde(borrow)]
        n: Cow<'a, str>,
        #[serde(borrow)]
        lc: Cow<'a, str>,
    }
    for (name, c) in servers() {
        let lc = if name == "legacy" { "toString(number)" } else { "toString(number)::LowCardinality(String)" };
        let sql = format!(
            "SELECT concat('ж', toString(number)) AS s, number AS n, {lc} AS lc FROM numbers(3000) SETTINGS max_block_size=1000"
        );
        let o = tsv(&c, &format!("SELECT s, toString(n), lc FROM ({sql})"));
        let mut i = 0;
        c.query_blocks(&sql, |b| {
            for r in b.rows_as::<C>() {
                let r = r?;
                assert!(matches!(r.s, Cow::Borrowed(_)), "{name}: row {i}: String not borrowed");
                assert!(matches!(r.lc, Cow::Borrowed(_)), "{name}: row {i}: LowCardinality not borrowed");
                assert_eq!(vec![r.s.to_string(), r.n.to_string(), r.lc.to_string()], o[i], "{name}");
                i += 1;
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(i, 3000);
    }
}
