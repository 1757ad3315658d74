//! serde rows under a second adversary (2026-11-27): types that take any value over non-UTF-8 strings
//! of every string column kind (bytes exactly where the server's text is not UTF-8), field lists that
//! share storage switched per row, errors at the edges of blocks through every reading API, streams
//! dropped midway, aliases with defaults in one-row blocks — the server as the oracle.

#![cfg(feature = "serde")]
#![allow(dead_code)]

mod common;

use clickhouse_connect::{CallOptions, Client, Error};
use common::probe::*;
use common::*;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

// ------------------------------------------------------------------------------------------------
// helpers

thread_local! {
    static ROW: Cell<u64> = const { Cell::new(0) };
    static CALLS: Cell<u64> = const { Cell::new(0) };
}

// ------------------------------------------------------------------------------------------------
// A1: "any value" types (untagged enum, flatten, serde_json::Value) over non-UTF-8 in String,
// Nullable(String), LowCardinality(String), FixedString, LowCardinality(Nullable(String)), in blocks of 3.

#[derive(Deserialize, Debug, PartialEq, Clone)]
#[serde(untagged)]
enum Any {
    N(u64),
    S(String),
    B(serde_bytes::ByteBuf),
    Nil(Option<u8>),
}

#[derive(Deserialize, Debug, PartialEq)]
struct Flat {
    id: u64,
    #[serde(flatten)]
    rest: BTreeMap<String, Any>,
}

/// (column, server hex or None for NULL) per row from the server.
fn any_oracle(c: &Client, sql: &str, cols: &[&str]) -> Vec<Vec<Option<String>>> {
    let sel: Vec<String> = cols.iter().map(|k| format!("hex({k})")).collect();
    let o = tsv(c, &format!("SELECT {} FROM ({sql}) ORDER BY id", sel.join(", ")));
    o.into_iter().map(|r| r.into_iter().map(|v| (v != "\\N").then_some(v)).collect()).collect()
}

fn check_any(name: &str, row: usize, col: &str, got: &Any, want: &Option<String>) {
    match (got, want) {
        (Any::Nil(None), None) => {}
        (Any::S(s), Some(h)) => {
            assert_eq!(&hex(s.as_bytes()), h, "{name}: row {row} {col}");
        }
        (Any::B(b), Some(h)) => {
            assert_eq!(&hex(b), h, "{name}: row {row} {col}");
            assert!(std::str::from_utf8(b).is_err(), "{name}: row {row} {col}: UTF-8 given as bytes");
        }
        other => panic!("{name}: row {row} {col}: {other:?}"),
    }
}

#[test]
fn a1_any_value_types_get_bytes_of_non_utf8_strings() {
    let modern_sql = "SELECT number AS id, \
        if(number % 3 = 0, unhex('FF41'), toString(number)) AS s, \
        CAST(if(number % 4 = 1, NULL, if(number % 2 = 0, unhex('C3'), 'ok')) AS Nullable(String)) AS ns, \
        toLowCardinality(if(number % 5 = 2, unhex('E282'), 'lc')) AS lc, \
        toFixedString(if(number % 2 = 1, unhex('FEFF'), 'ab'), 2) AS fs, \
        CAST(if(number % 7 = 3, NULL, if(number % 3 = 1, unhex('80'), 'x')) AS LowCardinality(Nullable(String))) AS lcn, \
        unhex(if(number % 2 = 0, 'C0', '41')) \
        FROM numbers(20) SETTINGS max_block_size = 3";
    let legacy_sql = "SELECT number AS id, \
        if(number % 3 = 0, unhex('FF41'), toString(number)) AS s, \
        CAST(if(number % 4 = 1, NULL, if(number % 2 = 0, unhex('C3'), 'ok')) AS Nullable(String)) AS ns, \
        toFixedString(if(number % 2 = 1, unhex('FEFF'), 'ab'), 2) AS fs, \
        unhex(if(number % 2 = 0, 'C0', '41')) \
        FROM numbers(20) SETTINGS max_block_size = 3";
    let cases: Vec<(&str, Arc<Client>, &str)> =
        vec![("modern", Arc::new(modern()), modern_sql), ("legacy", Arc::new(legacy()), legacy_sql)];
    for (name, c, sql) in cases {
        // The columns as the server names them (the last is unnamed: its expression).
        let header =
            String::from_utf8_lossy(&c.raw_query(&format!("{sql} FORMAT TSVWithNames"), None).unwrap()).into_owned();
        let cols: Vec<String> = header
            .lines()
            .next()
            .unwrap()
            .split('\t')
            .skip(1)
            .map(|h| h.replace("\\'", "'").replace("\\\\", "\\"))
            .collect();
        let quoted: Vec<String> =
            cols.iter().map(|k| format!("`{}`", k.replace('\\', "\\\\").replace('`', "\\`"))).collect();
        let quoted: Vec<&str> = quoted.iter().map(String::as_str).collect();
        let o = any_oracle(&c, sql, &quoted);
        let mut keys = cols.clone();
        keys.sort();
        // query_as: flatten
        let got: Vec<Flat> = c.query_as(sql).unwrap_or_else(|e| panic!("{name}: flatten: {e}"));
        assert_eq!(got.len(), o.len(), "{name}");
        for (i, (g, want)) in got.iter().zip(&o).enumerate() {
            assert_eq!(g.id, i as u64);
            let mut gk: Vec<String> = g.rest.keys().cloned().collect();
            gk.sort();
            assert_eq!(gk, keys, "{name}: row {i}");
            for (j, key) in cols.iter().enumerate() {
                check_any(name, i, key, &g.rest[key], &want[j]);
            }
        }
        // map rows through a stream and through rows_as
        let stream: Vec<BTreeMap<String, Any>> =
            c.query_as_stream(sql, &CallOptions::default()).unwrap().collect::<Result<_, _>>().unwrap();
        let mut blocks: Vec<BTreeMap<String, Any>> = Vec::new();
        c.query_blocks(sql, |b| {
            for r in b.rows_as::<BTreeMap<String, Any>>() {
                blocks.push(r?);
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(stream, blocks, "{name}");
        for (i, (g, want)) in stream.iter().zip(&o).enumerate() {
            for (j, key) in cols.iter().enumerate() {
                check_any(name, i, key, &g[key], &want[j]);
            }
        }
        // serde_json::Value refuses bytes: the "not UTF-8" error, at the first row (s = FF41) naming s.
        let e = c.query_as::<serde_json::Value>(sql).unwrap_err();
        let (row, col, ..) = mapping(&e);
        assert_eq!((row, col.as_deref()), (1, Some("s")), "{name}: {e}");
        assert!(e.to_string().contains("not UTF-8"), "{name}: {e}");
        // One column of non-UTF-8 read as an untagged enum: bytes.
        let one: Vec<Any> = c.query_as("SELECT unhex('FF00FE') FROM numbers(2)").unwrap();
        assert_eq!(one, vec![Any::B(serde_bytes::ByteBuf::from(vec![0xFF, 0, 0xFE])); 2], "{name}");
    }
}

// ------------------------------------------------------------------------------------------------
// A4: field lists that are prefixes/suffixes of one static list (same address, other length; other
// address, same length), chosen per row, each read by position.

static ALL: [&str; 3] = ["a", "b", "c"];

#[derive(Debug, PartialEq)]
struct Slices {
    which: u8,
    vals: Vec<String>,
}
impl<'de> Deserialize<'de> for Slices {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let which = (ROW.with(|r| r.get()) % 3) as u8;
        let fields: &'static [&'static str] = match which {
            0 => &ALL[..2],
            1 => &ALL[..],
            _ => &ALL[1..],
        };
        struct V(u8, usize);
        impl<'de> Visitor<'de> for V {
            type Value = Slices;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("slices")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Slices, A::Error> {
                let mut vals = Vec::new();
                for i in 0..self.1 {
                    let v: String = s.next_element()?.ok_or_else(|| de::Error::invalid_length(i, &self))?;
                    vals.push(v);
                }
                Ok(Slices { which: self.0, vals })
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Slices, A::Error> {
                let mut got: Vec<(String, String)> = Vec::new();
                while let Some(k) = m.next_key::<String>()? {
                    got.push((k, m.next_value()?));
                }
                Ok(Slices { which: self.0, vals: got.into_iter().map(|(_, v)| v).collect() })
            }
        }
        d.deserialize_struct("Slices", fields, V(which, fields.len()))
    }
}

fn read_counted<T: for<'a> Deserialize<'a>>(c: &Client, sql: &str) -> Vec<Result<T, Error>> {
    let mut i = 0u64;
    let mut out = Vec::new();
    c.query_blocks(sql, |b| {
        let mut it = b.rows_as::<T>();
        loop {
            ROW.with(|x| x.set(i));
            let Some(r) = it.next() else { break };
            out.push(r);
            i += 1;
        }
        Ok(())
    })
    .unwrap();
    out
}

#[test]
fn a4_field_lists_sharing_storage_per_row() {
    for (name, c) in [("modern", modern()), ("legacy", legacy())] {
        for bs in [1, 4, 100000] {
            let sql = format!(
                "SELECT concat('c', toString(number)) AS c, concat('b', toString(number)) AS b, \
                 concat('a', toString(number)) AS a FROM numbers(30) SETTINGS max_block_size = {bs}"
            );
            let o = tsv(&c, &format!("SELECT a, b, c FROM ({sql})"));
            let got = read_counted::<Slices>(&c, &sql);
            assert_eq!(got.len(), o.len());
            for (i, (g, o)) in got.into_iter().zip(&o).enumerate() {
                let g = g.unwrap_or_else(|e| panic!("{name} bs={bs}: row {i}: {e}"));
                let want: Vec<String> = match i % 3 {
                    0 => o[..2].to_vec(),
                    1 => o[..].to_vec(),
                    _ => o[1..].to_vec(),
                };
                assert_eq!(g, Slices { which: (i % 3) as u8, vals: want }, "{name} bs={bs}: row {i}");
            }
        }
    }
}

// ------------------------------------------------------------------------------------------------
// A5: errors at the first and last rows of blocks; rows_as per block, query_as_each and the stream.

#[derive(Deserialize, Debug, PartialEq)]
struct NV {
    v: u8,
    n: u64,
}

#[test]
fn a5_errors_at_block_edges() {
    for (name, c) in [("modern", Arc::new(modern())), ("legacy", Arc::new(legacy()))] {
        for (bs, bad) in [(1u64, vec![0u64, 1, 5, 29]), (7, vec![6, 7, 13, 14, 29]), (7, vec![0]), (100000, vec![29])] {
            let list: Vec<String> = bad.iter().map(u64::to_string).collect();
            let sql = format!(
                "SELECT number AS n, toUInt16(if(number IN ({}), 256 + number, number)) AS v FROM numbers(30) \
                 SETTINGS max_block_size = {bs}",
                list.join(",")
            );
            // Oracle: the server says which rows do not fit a u8, and the good rows' text.
            let bad_o: Vec<u64> = tsv(&c, &format!("SELECT n FROM ({sql}) WHERE v > 255 ORDER BY n"))
                .iter()
                .map(|r| r[0].parse().unwrap())
                .collect();
            let all = tsv(&c, &sql);
            // rows_as: each block's rows, errors numbered within the block, the column named.
            let mut seen = Vec::new();
            c.query_blocks(&sql, |b| {
                for (k, r) in b.rows_as::<NV>().enumerate() {
                    seen.push((k, r));
                }
                Ok(())
            })
            .unwrap();
            assert_eq!(seen.len(), all.len());
            for (i, (k, r)) in seen.iter().enumerate() {
                if bad_o.contains(&(i as u64)) {
                    let (row, col, ty, _) = mapping(r.as_ref().unwrap_err());
                    assert_eq!(
                        (row, col.as_deref(), ty.as_deref()),
                        ((*k + 1) as u64, Some("v"), Some("UInt16")),
                        "{name} {bs}: {i}"
                    );
                } else {
                    let g = r.as_ref().unwrap_or_else(|e| panic!("{name} {bs}: {i}: {e}"));
                    assert_eq!(vec![g.n.to_string(), g.v.to_string()], all[i], "{name} {bs}: {i}");
                }
            }
            // query_as_each: the first bad row, numbered in the result.
            let mut good = 0u64;
            let e = c
                .query_as_each::<NV>(&sql, |_| {
                    good += 1;
                    Ok(())
                })
                .unwrap_err();
            assert_eq!(mapping(&e).0, bad_o[0] + 1, "{name} {bs}");
            assert_eq!(good, bad_o[0], "{name} {bs}");
            // The stream: every row before the first bad one, then its error, then the end.
            let mut s = c.query_as_stream::<NV>(&sql, &CallOptions::default()).unwrap();
            let mut rows = Vec::new();
            let err = loop {
                match s.next() {
                    Some(Ok(r)) => rows.push(r),
                    Some(Err(e)) => break e,
                    None => panic!("{name} {bs}: stream ended without the error"),
                }
            };
            assert_eq!(rows.len() as u64, bad_o[0], "{name} {bs}");
            assert_eq!(mapping(&err).0, bad_o[0] + 1, "{name} {bs}: {err}");
            for (i, r) in rows.iter().enumerate() {
                assert_eq!(vec![r.n.to_string(), r.v.to_string()], all[i]);
            }
            assert!(s.next().is_none(), "{name} {bs}: after the error");
            drop(s);
        }
    }
}

// ------------------------------------------------------------------------------------------------
// A6: streams dropped midway (after an error, before one), with a big block; the client is usable and
// the server has no query left running.

#[test]
fn a6_stream_dropped_midway() {
    for (name, c) in [("modern", Arc::new(modern())), ("legacy", Arc::new(legacy()))] {
        // An error in the middle of a big block: the rows before it in the block.
        let sql = "SELECT number AS n, toUInt16(if(number = 70000, 300, 1)) AS v FROM numbers(200000) SETTINGS max_block_size = 100000";
        let o: u64 =
            tsv(&c, &format!("SELECT count() FROM ({sql}) WHERE n < (SELECT min(n) FROM ({sql}) WHERE v > 255)"))[0][0]
                .parse()
                .unwrap();
        let s = c.query_as_stream::<NV>(sql, &CallOptions::default()).unwrap();
        let mut n = 0u64;
        let mut err = None;
        for r in s {
            match r {
                Ok(_) => n += 1,
                Err(e) => {
                    err = Some(e);
                    break;
                }
            }
        }
        assert_eq!(n, o, "{name}");
        assert_eq!(mapping(&err.unwrap()).0, o + 1, "{name}");
        // Dropped after 3 rows of a long query: killed on the server.
        let qid = format!("adv2_drop_{}_{name}", std::process::id());
        let opts = CallOptions { query_id: Some(qid.clone()), ..CallOptions::default() };
        let mut s = c
            .query_as_stream::<(u64, String)>(
                "SELECT number, toString(number) FROM numbers(10000000000) SETTINGS max_block_size = 1000",
                &opts,
            )
            .unwrap();
        for _ in 0..3 {
            s.next().unwrap().unwrap();
        }
        drop(s);
        let mut running = 1;
        for _ in 0..50 {
            running = tsv(&c, &format!("SELECT count() FROM system.processes WHERE query_id = '{qid}'"))[0][0]
                .parse::<u64>()
                .unwrap();
            if running == 0 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        assert_eq!(running, 0, "{name}: the dropped stream's query still runs");
        let v: Vec<u64> = c.query_as("SELECT 7").unwrap();
        assert_eq!(v, vec![7]);
    }
}

// ------------------------------------------------------------------------------------------------
// A7: a complete struct with an alias whose alias column is absent in one query and present (duplicate)
// in another, #[serde(default)] on a field with a column, nested inside a newtype, 1-row blocks.

#[derive(Deserialize, Debug, PartialEq)]
struct WithAliasDefault {
    #[serde(alias = "aa")]
    a: u64,
    #[serde(default)]
    b: String,
}
#[derive(Deserialize, Debug, PartialEq)]
struct Wrap(WithAliasDefault);

#[test]
fn a7_alias_default_newtype_one_row_blocks() {
    for (name, c) in [("modern", modern()), ("legacy", legacy())] {
        // Alias column instead of the name: by name, every row.
        let sql = "SELECT toString(number) AS b, number AS aa FROM numbers(9) SETTINGS max_block_size = 1";
        let o = tsv(&c, sql);
        let got: Vec<Wrap> = c.query_as(sql).unwrap();
        for (g, o) in got.iter().zip(&o) {
            assert_eq!((g.0.a.to_string(), g.0.b.clone()), (o[1].clone(), o[0].clone()), "{name}");
        }
        // Both a and aa and b: all three of serde's field list have columns (a complete plan that
        // takes 2 values): serde's "duplicate field" at every row.
        let sql =
            "SELECT number AS a, toString(number) AS b, number + 1 AS aa FROM numbers(5) SETTINGS max_block_size = 2";
        let got = read_counted::<Wrap>(&c, sql);
        for (i, g) in got.iter().enumerate() {
            let e = g.as_ref().map(|w| format!("{w:?}")).unwrap_err();
            assert!(e.to_string().contains("duplicate field"), "{name}: row {i}: {e}");
        }
    }
}
