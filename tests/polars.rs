//! polars DataFrames against the real server: a result read with `query_df` and written back with
//! `insert_df` stores the same rows (EXCEPT both ways inside the server) for every type polars takes;
//! values and dtypes are checked against the server's text of the same values; types polars has no
//! counterpart for are refused naming the column.

#![cfg(feature = "polars")]

mod common;

use clickhouse_connect::{CallOptions, Error};
use common::*;
use std::collections::HashMap;

#[test]
fn every_type_polars_takes_round_trips_through_a_dataframe() {
    let c = modern();
    let settings = "SETTINGS allow_suspicious_low_cardinality_types = 1";
    let mut refused = Vec::new();
    let mut passed = 0;
    for (i, t) in TYPES.iter().filter(|t| !t.starts_with("Nested")).enumerate() {
        let (src, dst) = (table("pl_src"), table("pl_dst"));
        for tb in [&src, &dst] {
            c.command(&format!("CREATE TABLE {tb} (id UInt32, c {t}) ENGINE = Memory {settings}")).unwrap();
        }
        let structure = structure(&[t], true).replace("c0 ", "c ");
        c.command(&format!(
            "INSERT INTO {src} SELECT rowNumberInAllBlocks(), * FROM generateRandom('{structure}', {}, 10, 3) LIMIT 500 {settings}",
            90 + i
        ))
        .unwrap();
        let opts = CallOptions::new().setting("max_block_size", 128);
        let arrow = clickhouse_connect::arrow::ArrowOptions::new().use_strings(false);
        let df = match c.query_df_with(&format!("SELECT id, c FROM {src} ORDER BY id"), &opts, &arrow) {
            Ok(df) => df,
            Err(e) => {
                refused.push(format!("{t}: {e}"));
                continue;
            }
        };
        assert_eq!(df.height(), 500, "{t}");
        assert!(df.first_col_n_chunks() > 1, "{t}: one chunk per block");
        c.insert_df(&dst, &df).unwrap_or_else(|e| panic!("{t}: insert_df: {e}"));
        for (a, b) in [(&src, &dst), (&dst, &src)] {
            let diff = c.command(&format!("SELECT count() FROM (SELECT * FROM {a} EXCEPT SELECT * FROM {b})")).unwrap();
            assert_eq!(diff, "0", "{t}: rows of {a} missing from {b}");
        }
        passed += 1;
    }
    println!("refused: {refused:#?}");
    assert!(passed >= 40, "{passed} passed; refused: {refused:#?}");
}

#[test]
fn dtypes_and_values_are_polars_own_for_the_servers_values() {
    let c = modern();
    let sql = "SELECT number AS n, toString(number) AS s, toDateTime(number * 1000, 'Asia/Tokyo') AS t, \
               toDate(number) AS d, toLowCardinality(toString(number % 3)) AS lc, toDecimal64(number / 4, 2) AS dec, \
               if(number % 2 = 0, NULL, number) AS nn, [number, 1] AS arr FROM numbers(10)";
    let df = c.query_df(sql).unwrap();
    let dtypes: HashMap<String, String> =
        df.columns().iter().map(|c| (c.name().to_string(), c.dtype().to_string())).collect();
    println!("{dtypes:?}");
    assert_eq!(dtypes["n"], "u64");
    assert_eq!(dtypes["s"], "str");
    assert!(dtypes["t"].starts_with("datetime[") && dtypes["t"].contains("Asia/Tokyo"), "{}", dtypes["t"]);
    assert_eq!(dtypes["d"], "date");
    assert_eq!(dtypes["nn"], "u64");
    assert_eq!(dtypes["arr"], "list[u64]");
    // Values: the server's own text of each, against polars' values.
    let server: Vec<(String, u64, String)> =
        c.query_as("SELECT toString(number), toUnixTimestamp(toDateTime(number * 1000, 'Asia/Tokyo')), toString(toDecimal64(number / 4, 2)) FROM numbers(10)").unwrap();
    let s = df.column("s").unwrap().str().unwrap();
    let nn = df.column("nn").unwrap().u64().unwrap();
    for (i, (text, _, _)) in server.iter().enumerate() {
        assert_eq!(s.get(i), Some(text.as_str()));
        assert_eq!(nn.get(i), (i % 2 == 1).then_some(i as u64));
    }
    assert_eq!(df.column("nn").unwrap().null_count(), 5);
    // The DataFrame goes back in unchanged.
    let t = table("pl_back");
    c.command(&format!(
        "CREATE TABLE {t} (n UInt64, s String, t DateTime('Asia/Tokyo'), d Date, lc LowCardinality(String), \
         dec Decimal64(2), nn Nullable(UInt64), arr Array(UInt64)) ENGINE = Memory"
    ))
    .unwrap();
    c.insert_df(&t, &df).unwrap();
    let diff = c.command(&format!("SELECT count() FROM ({sql} EXCEPT SELECT * FROM {t})")).unwrap();
    assert_eq!(diff, "0");
    // A type polars has no counterpart for is refused by column name.
    let e = c.query_df("SELECT toDecimal256(1, 40) AS wide").unwrap_err();
    assert!(matches!(&e, Error::UnsupportedType(m) if m.contains("wide")), "{e:?}");
}
