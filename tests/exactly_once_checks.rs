//! The checks an exactly-once insert makes of its table, under a second adversary (2026-11-27): sharding
//! keys as written against the functions the server's query tree calls (its `system.functions`), key
//! columns the server fills itself, shard tables and databases whose names hold quotes, backslashes,
//! parentheses or dots, a setting's name outside the SETTINGS clause — each checked against what the
//! server does with a repeated insert. b1, b2, b3, b4, b5 and b6 failed before their fixes.

#![allow(dead_code)]

mod common;

use clickhouse_connect::{CallOptions, Client};
use common::cluster::*;
use common::probe::*;
use common::*;
use std::cell::Cell;

// ------------------------------------------------------------------------------------------------
// helpers

thread_local! {
    static ROW: Cell<u64> = const { Cell::new(0) };
    static CALLS: Cell<u64> = const { Cell::new(0) };
}

/// The crate's check: Ok, or the refusal's text.
fn check(c: &Client, table: &str, cols: &[&str]) -> Result<(), String> {
    let ins = c.inserter_with(table, cols, 1000, &fg()).map_err(|e| format!("inserter: {e}"))?;
    ins.exactly_once("adv2-stream", 3).map(drop).map_err(|e| e.to_string())
}

/// Oracle: whether the server deduplicates a repeated insert (same token) into `table` on node `i`.
fn server_dedups(c: &Client, i: usize, table: &str) -> bool {
    let ins = format!("INSERT INTO {table} (n) SETTINGS insert_deduplication_token = 'adv2-oracle' VALUES (987654321)");
    c.command_with(&ins, &on(i)).unwrap();
    c.command_with(&ins, &on(i)).unwrap();
    let n: u64 = tsv_on(c, i, &format!("SELECT count() FROM {table} WHERE n = 987654321"))[0][0].parse().unwrap();
    c.command_with(&format!("TRUNCATE TABLE {table}"), &on(i)).unwrap();
    n == 1
}

fn tsv_on(c: &Client, i: usize, sql: &str) -> Vec<Vec<String>> {
    let raw = c.raw_query_with(sql, Some("TabSeparated"), &on(i)).unwrap_or_else(|e| panic!("{sql}: {e}"));
    String::from_utf8(raw).unwrap().lines().map(|l| l.split('\t').map(str::to_string).collect()).collect()
}

const WINDOW: &str = "SETTINGS non_replicated_deduplication_window = 1000";

// B1: a sharding key that is a plain column whose value the Distributed table computes each time
// (MATERIALIZED / DEFAULT rand()).
#[test]
fn b1_key_column_materialized_from_rand() {
    let c = cluster_client();
    let cluster = env("CH_CLUSTER_NAME");
    let mut wrong = Vec::new();
    for (kind, cols) in [("MATERIALIZED", vec!["n", "b"]), ("DEFAULT", vec!["n", "b"])] {
        let local = table("adv2_b1");
        let dist = format!("{local}_d");
        all_nodes(
            &c,
            &format!("CREATE TABLE {local} (n UInt64, b UInt8, k UInt64) ENGINE = MergeTree ORDER BY n {WINDOW}"),
        );
        all_nodes(
            &c,
            &format!(
                "CREATE TABLE {dist} (n UInt64, b UInt8, k UInt64 {kind} rand()) \
                 ENGINE = Distributed({cluster}, currentDatabase(), {local}, k)"
            ),
        );
        let verdict = check(&c, &dist, &cols);
        // Oracle: the same rows inserted twice (b = 1, b = 2) through the table: does each node get the
        // same n's both times?
        for b in [1, 2] {
            c.command_with(
                &format!("INSERT INTO {dist} (n, b) SELECT number, {b} FROM numbers(300)"),
                &CallOptions { endpoint: Some(0), ..fg() },
            )
            .unwrap();
        }
        let mut splits_differ = false;
        for i in 0..3 {
            let q = |b: u8| {
                tsv_on(&c, i, &format!("SELECT groupArray(n) FROM (SELECT n FROM {local} WHERE b = {b} ORDER BY n)"))
            };
            if q(1) != q(2) {
                splits_differ = true;
            }
        }
        all_nodes(&c, &format!("DROP TABLE {dist}"));
        all_nodes(&c, &format!("DROP TABLE {local}"));
        assert!(splits_differ, "{kind}: oracle: rand() splits differently");
        if verdict.is_ok() {
            wrong.push(format!(
                "{kind}: exactly-once accepted a Distributed table whose sharding key column k is {kind} rand() \
                 (the server split the same 300 rows differently on two inserts)"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

// B2: a shard table whose name ends in a quote character: the check must look at that table, not at
// the name with the quote trimmed.
#[test]
fn b2_shard_table_name_ending_in_a_quote() {
    let c = cluster_client();
    let cluster = env("CH_CLUSTER_NAME");
    let base = table("adv2_b2");
    let real = format!("`{base}\"`");
    let decoy = base.clone();
    let dist = format!("{base}_d");
    all_nodes(&c, &format!("CREATE TABLE {real} (n UInt64) ENGINE = MergeTree ORDER BY n"));
    all_nodes(&c, &format!("CREATE TABLE {decoy} (n UInt64) ENGINE = MergeTree ORDER BY n {WINDOW}"));
    all_nodes(
        &c,
        &format!("CREATE TABLE {dist} (n UInt64) ENGINE = Distributed({cluster}, currentDatabase(), {real}, n)"),
    );
    let engine_full = tsv_on(
        &c,
        0,
        &format!("SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = '{dist}'"),
    );
    let verdict = check(&c, &dist, &["n"]);
    let dedups: Vec<bool> = (0..3).map(|i| server_dedups(&c, i, &real)).collect();
    all_nodes(&c, &format!("DROP TABLE {dist}"));
    all_nodes(&c, &format!("DROP TABLE {real}"));
    all_nodes(&c, &format!("DROP TABLE {decoy}"));
    assert_eq!(dedups, [false; 3], "oracle: the real shard table does not deduplicate");
    assert!(
        verdict.is_err(),
        "exactly-once accepted {dist} ({engine_full:?}) whose shard table {real} does not deduplicate: \
         the check read the decoy {decoy}"
    );
}

// B3: a shard table with a backslash in its name that does deduplicate, under a deterministic key:
// accepted (a refusal would be without reason).
#[test]
fn b3_shard_table_name_with_backslash_and_quote_deduplicating() {
    let c = cluster_client();
    let cluster = env("CH_CLUSTER_NAME");
    let base = table("adv2_b3");
    let real = format!("`{base}\\\\x'y`");
    let dist = format!("{base}_d");
    all_nodes(&c, &format!("CREATE TABLE {real} (n UInt64) ENGINE = MergeTree ORDER BY n {WINDOW}"));
    all_nodes(
        &c,
        &format!(
            "CREATE TABLE {dist} (n UInt64) ENGINE = Distributed({cluster}, currentDatabase(), {real}, cityHash64(n))"
        ),
    );
    let verdict = check(&c, &dist, &["n"]);
    let dedups: Vec<bool> = (0..3).map(|i| server_dedups(&c, i, &real)).collect();
    all_nodes(&c, &format!("DROP TABLE {dist}"));
    all_nodes(&c, &format!("DROP TABLE {real}"));
    assert_eq!(dedups, [true; 3], "oracle");
    assert!(verdict.is_ok(), "refused a deterministic key over deduplicating shards: {verdict:?}");
}

// B4: a shard database whose name has a parenthesis: the check must look in that database, not in the
// Distributed table's own (where a table of the same name deduplicates).
#[test]
fn b4_shard_database_name_with_a_parenthesis() {
    let c = cluster_client();
    let cluster = env("CH_CLUSTER_NAME");
    let base = table("adv2_b4");
    let db = format!("`{base}(db`");
    let shard = format!("{base}_t");
    all_nodes(&c, &format!("CREATE DATABASE {db}"));
    all_nodes(&c, &format!("CREATE TABLE {db}.{shard} (n UInt64) ENGINE = MergeTree ORDER BY n"));
    all_nodes(&c, &format!("CREATE TABLE {shard} (n UInt64) ENGINE = MergeTree ORDER BY n {WINDOW}"));
    let dist = format!("{base}_d");
    all_nodes(&c, &format!("CREATE TABLE {dist} (n UInt64) ENGINE = Distributed({cluster}, {db}, {shard}, n)"));
    let verdict = check(&c, &dist, &["n"]);
    let dedups: Vec<bool> = (0..3).map(|i| server_dedups(&c, i, &format!("{db}.{shard}"))).collect();
    all_nodes(&c, &format!("DROP TABLE {dist}"));
    all_nodes(&c, &format!("DROP DATABASE {db}"));
    all_nodes(&c, &format!("DROP TABLE {shard}"));
    assert_eq!(dedups, [false; 3], "oracle: the real shard table does not deduplicate");
    assert!(verdict.is_err(), "exactly-once accepted {dist} over {db}.{shard}, which does not deduplicate");
}

// B5: a MergeTree whose ORDER BY mentions a column named non_replicated_deduplication_window = 1000
// (no such setting): the server does not deduplicate; the check must refuse. Plain and as a shard.
#[test]
fn b5_setting_name_in_an_order_by_expression() {
    let c = cluster_client();
    let cluster = env("CH_CLUSTER_NAME");
    let local = table("adv2_b5");
    all_nodes(
        &c,
        &format!(
            "CREATE TABLE {local} (n UInt64, non_replicated_deduplication_window UInt64) ENGINE = MergeTree \
             ORDER BY (n, non_replicated_deduplication_window = 1000)"
        ),
    );
    let dist = format!("{local}_d");
    all_nodes(
        &c,
        &format!("CREATE TABLE {dist} AS {local} ENGINE = Distributed({cluster}, currentDatabase(), {local}, n)"),
    );
    let plain = check(&c, &local, &["n"]);
    let distributed = check(&c, &dist, &["n"]);
    let dedups: Vec<bool> = (0..3).map(|i| server_dedups(&c, i, &local)).collect();
    all_nodes(&c, &format!("DROP TABLE {dist}"));
    all_nodes(&c, &format!("DROP TABLE {local}"));
    assert_eq!(dedups, [false; 3], "oracle: the table does not deduplicate");
    assert!(plain.is_err(), "exactly-once accepted the MergeTree {local} that does not deduplicate");
    assert!(distributed.is_err(), "exactly-once accepted Distributed over {local}, which does not deduplicate");
}

// B6: the inserter's own table named with a dot inside back quotes (`db.t` one name).
#[test]
fn b6_table_name_with_a_dot_inside_quotes() {
    let c = modern();
    let base = table("adv2_b6");
    c.command(&format!("CREATE DATABASE {base}")).unwrap();
    c.command(&format!("CREATE TABLE {base}.t (n UInt64) ENGINE = MergeTree ORDER BY n {WINDOW}")).unwrap();
    let real = format!("`{base}.t`");
    c.command(&format!("CREATE TABLE {real} (n UInt64) ENGINE = MergeTree ORDER BY n")).unwrap();
    let ins = c.inserter(&real, &["n"], 100).unwrap();
    let verdict = ins.exactly_once("adv2-b6", 3).map(drop).map_err(|e| e.to_string());
    // Oracle: the real table does not deduplicate.
    let q = format!("INSERT INTO {real} (n) SETTINGS insert_deduplication_token = 'adv2-b6' VALUES (5)");
    c.command(&q).unwrap();
    c.command(&q).unwrap();
    let n: u64 = tsv(&c, &format!("SELECT count() FROM {real}"))[0][0].parse().unwrap();
    c.command(&format!("DROP TABLE {real}")).unwrap();
    c.command(&format!("DROP DATABASE {base}")).unwrap();
    assert_eq!(n, 2, "oracle: {real} does not deduplicate");
    assert!(verdict.is_err(), "exactly-once accepted {real}, which does not deduplicate (the check read {base}.t)");
}

// B7: keys as written (the server normalizes them): refused exactly when a function the server's query
// tree calls is not deterministic (system.functions), UDFs expanded.
#[test]
fn b7_sharding_keys_against_the_servers_functions() {
    let c = cluster_client();
    let cluster = env("CH_CLUSTER_NAME");
    let pid = std::process::id();
    let f_rand = format!("adv2_frand_{pid}");
    let f_det = format!("adv2_fdet_{pid}");
    all_nodes(&c, &format!("CREATE FUNCTION {f_rand} AS (x) -> x + rand()"));
    all_nodes(&c, &format!("CREATE FUNCTION {f_det} AS (x) -> x * 2"));
    let keys: Vec<String> = vec![
        "`rand`()".into(),
        "\"now\"()".into(),
        "RAND()".into(),
        "rand /* c */ ()".into(),
        "cityHash64(s, 'rand()', '\\'),(')".into(),
        "cityHash64(s, '\\\\') + rand()".into(),
        "cityHash64(s, '--') + rand()".into(),
        "cityHash64(s, '/*') + n".into(),
        "cityHash64(s, $$a'b$$) + rand()".into(),
        "arrayMap(x -> x + rand(), [n])[1]".into(),
        "CAST(rand() AS UInt8)".into(),
        "rand()::UInt8".into(),
        "[rand(), n][2]".into(),
        "-rand()".into(),
        format!("{f_rand}(n)"),
        format!("{f_det}(n)"),
        format!("`{f_det}`(n) + cityHash64(s)"),
        "hostName() = ''".into(),
        "n % 3".into(),
        "cityHash64(`n`, `s`)".into(),
        "if(n > 0, n, toUInt64(now()))".into(),
        "n + blockSize()".into(),
        "rowNumberInAllBlocks()".into(),
        "intDiv(n, 2)".into(),
        "multiIf(n = 1, 1, n = 2, 2, 3)".into(),
        "toUInt64(parseDateTimeBestEffort(s))".into(),
    ];
    let local = table("adv2_b7");
    all_nodes(&c, &format!("CREATE TABLE {local} (n UInt64, s String) ENGINE = MergeTree ORDER BY n {WINDOW}"));
    let mut wrong = Vec::new();
    for key in &keys {
        let dist = format!("{local}_d");
        let created = (0..3)
            .map(|i| {
                c.command_with(
                    &format!("CREATE TABLE {dist} AS {local} ENGINE = Distributed({cluster}, currentDatabase(), {local}, {key})"),
                    &on(i),
                )
            })
            .collect::<Result<Vec<_>, _>>();
        if let Err(e) = created {
            let _ = (0..3).map(|i| c.command_with(&format!("DROP TABLE IF EXISTS {dist}"), &on(i))).count();
            wrong.push(format!("{key}: the server refused the table: {e}"));
            continue;
        }
        let verdict = check(&c, &dist, &["n", "s"]);
        // Oracle: the functions of the key's query tree (UDFs expanded), each asked of system.functions.
        let tree = String::from_utf8(
            c.raw_query_with(&format!("EXPLAIN QUERY TREE SELECT {key} FROM {local}"), Some("TabSeparated"), &on(0))
                .unwrap(),
        )
        .unwrap();
        let names: Vec<String> = tree
            .split("function_name: ")
            .skip(1)
            .map(|r| r.chars().take_while(|ch| ch.is_ascii_alphanumeric() || *ch == '_').collect())
            .collect();
        let quoted: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
        let nondet: Vec<String> = tsv_on(
            &c,
            0,
            &format!(
                "SELECT name FROM system.functions WHERE (deterministic = 0 OR deterministic IS NULL) AND name IN ({})",
                if quoted.is_empty() { "''".to_string() } else { quoted.join(",") }
            ),
        )
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
        let refused = verdict.as_ref().err().is_some_and(|e| e.contains("sharding key"));
        if refused == nondet.is_empty() {
            wrong.push(format!("{key}: server calls {names:?}, not deterministic {nondet:?}; crate: {verdict:?}"));
        }
        all_nodes(&c, &format!("DROP TABLE {dist}"));
    }
    all_nodes(&c, &format!("DROP TABLE {local}"));
    all_nodes(&c, &format!("DROP FUNCTION {f_rand}"));
    all_nodes(&c, &format!("DROP FUNCTION {f_det}"));
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
