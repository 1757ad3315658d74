//! The exactly-once table checks under a third adversary (2026-11-27): insert settings that change
//! deduplication, more server blocks per request than the window, materialized views on the target,
//! what is sent changed after the check (NULL for DEFAULT, a serde row's columns), no sharding key with
//! a random shard, odd names, the window written every way the server takes it — the server's own
//! handling of repeated inserts (counts on every node) as the oracle. p3–p7 and p9 failed before their
//! fixes.
#![allow(dead_code)]
mod common;

use clickhouse_connect::{CallOptions, Client, Value};
use common::cluster::*;
use common::*;

fn with(settings: &[(&str, &str)]) -> CallOptions {
    CallOptions {
        settings: settings.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        ..CallOptions::default()
    }
}
fn fg() -> CallOptions {
    with(&[("distributed_foreground_insert", "1")])
}
fn tsv_on(c: &Client, i: Option<usize>, sql: &str) -> Vec<Vec<String>> {
    let o = i.map(on).unwrap_or_default();
    let raw = c.raw_query_with(sql, Some("TabSeparated"), &o).unwrap_or_else(|e| panic!("{sql}: {e}"));
    String::from_utf8(raw).unwrap().lines().map(|l| l.split('\t').map(str::to_string).collect()).collect()
}
fn count(c: &Client, i: Option<usize>, sql: &str) -> u64 {
    tsv_on(c, i, sql)[0][0].parse().unwrap()
}

/// The crate's verdict (Ok or refusal text) on `table` with `opts`.
fn verdict(c: &Client, table: &str, cols: &[&str], opts: &CallOptions) -> Result<(), String> {
    let ins = c.inserter_with(table, cols, 1000, opts).map_err(|e| format!("inserter: {e}"))?;
    ins.exactly_once("adv3", 3).map(drop).map_err(|e| e.to_string())
}

/// A "resend" done by the crate itself: two exactly-once inserters with the same stream id writing the
/// same rows in the same blocks (the documented restart case). Rows are single UInt64 `n` = 0..rows.
fn crate_twice(c: &Client, table: &str, opts: &CallOptions, rows: u64, block_rows: usize, stream: &str) {
    for _ in 0..2 {
        let mut ins = c.inserter_with(table, &["n"], block_rows, opts).unwrap().exactly_once(stream, 3).unwrap();
        for n in 0..rows {
            ins.write(&[Value::UInt64(n)]).unwrap();
        }
        ins.end().unwrap();
    }
}

const W: &str = "SETTINGS non_replicated_deduplication_window = 1000";

// P1: a query setting that turns deduplication off (insert_deduplicate = 0) in the insert's options.
#[test]
fn p1_insert_deduplicate_off() {
    let c = modern();
    let t = table("adv3_p1");
    c.command(&format!("CREATE TABLE {t} (n UInt64) ENGINE = MergeTree ORDER BY n {W}")).unwrap();
    let opts = with(&[("insert_deduplicate", "0")]);
    let v = verdict(&c, &t, &["n"], &opts);
    let mut n = 0;
    if v.is_ok() {
        crate_twice(&c, &t, &opts, 10, 5, "p1");
        n = count(&c, None, &format!("SELECT count() FROM {t}"));
    }
    c.command(&format!("DROP TABLE {t}")).unwrap();
    eprintln!("P1 verdict={v:?} rows after restart-resend of 10 = {n}");
    assert!(v.is_err() || n == 10, "P1: accepted with insert_deduplicate=0, server kept {n} of 10 rows");
}

// P2: async inserts (fire and forget, and waited) on a MergeTree with a window.
#[test]
fn p2_async_insert() {
    let c = modern();
    let mut wrong = Vec::new();
    for wait in ["0", "1"] {
        let t = table("adv3_p2");
        c.command(&format!("CREATE TABLE {t} (n UInt64) ENGINE = MergeTree ORDER BY n {W}")).unwrap();
        let opts = with(&[("async_insert", "1"), ("wait_for_async_insert", wait)]);
        let v = verdict(&c, &t, &["n"], &opts);
        let mut n = 0;
        if v.is_ok() {
            crate_twice(&c, &t, &opts, 10, 5, "p2");
            c.command("SYSTEM FLUSH ASYNC INSERT QUEUE").ok();
            std::thread::sleep(std::time::Duration::from_millis(500));
            n = count(&c, None, &format!("SELECT count() FROM {t}"));
        }
        c.command(&format!("DROP TABLE {t}")).unwrap();
        eprintln!("P2 wait={wait} verdict={v:?} rows after restart-resend of 10 = {n}");
        if v.is_ok() && n != 10 {
            wrong.push(format!("async_insert=1 wait={wait}: accepted, server kept {n} of 10"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

// P3: the server makes one part per Native block (min_insert_block_size_* = 1 in the options), and a
// table's window of 100 holds the last 100 of them: a resent request is deduplicated only if all its
// blocks are still there, so every request must have fewer blocks than the window. The oracle is the
// server's query log: the parts each request of the stream wrote.
#[test]
fn p3_requests_have_fewer_blocks_than_the_window() {
    let c = modern();
    let t = table("adv3_p3");
    c.command(&format!(
        "CREATE TABLE {t} (n UInt64) ENGINE = MergeTree ORDER BY n SETTINGS non_replicated_deduplication_window = 100"
    ))
    .unwrap();
    let opts = with(&[("min_insert_block_size_rows", "1"), ("min_insert_block_size_bytes", "1")]);
    let stream = format!("p3-{}", std::process::id());
    let mut ins = c.inserter_with(&t, &["n"], 1, &opts).unwrap().exactly_once(stream.as_str(), 3).unwrap();
    for n in 0..300u64 {
        ins.write(&[Value::UInt64(n)]).unwrap();
    }
    ins.end().unwrap();
    c.command("SYSTEM FLUSH LOGS").unwrap();
    let rows = tsv_on(
        &c,
        None,
        &format!(
            "SELECT count(), max(ProfileEvents['MergeTreeDataWriterBlocks']), sum(ProfileEvents['MergeTreeDataWriterBlocks']) \
             FROM system.query_log WHERE type = 'QueryFinish' AND query_kind = 'Insert' \
             AND Settings['insert_deduplication_token'] LIKE '{stream}%'"
        ),
    );
    let kept = count(&c, None, &format!("SELECT count() FROM {t}"));
    c.command(&format!("DROP TABLE {t}")).unwrap();
    let (requests, largest, parts): (u64, u64, u64) =
        (rows[0][0].parse().unwrap(), rows[0][1].parse().unwrap(), rows[0][2].parse().unwrap());
    assert_eq!(kept, 300, "rows kept");
    assert_eq!(parts, 300, "the server made a part of every one-row block");
    assert!(requests >= 4 && largest <= 90, "{requests} requests, the largest of {largest} parts (window 100)");
}

// P4: a materialized view on the target writing to a table that does not deduplicate.
#[test]
fn p4_materialized_view_on_target() {
    let c = modern();
    let t = table("adv3_p4");
    c.command(&format!("CREATE TABLE {t} (n UInt64) ENGINE = MergeTree ORDER BY n {W}")).unwrap();
    c.command(&format!("CREATE TABLE {t}_mv_dst (n UInt64) ENGINE = MergeTree ORDER BY n")).unwrap();
    c.command(&format!("CREATE MATERIALIZED VIEW {t}_mv TO {t}_mv_dst AS SELECT n FROM {t}")).unwrap();
    let v = verdict(&c, &t, &["n"], &CallOptions::default());
    let (mut n, mut m) = (0, 0);
    if v.is_ok() {
        crate_twice(&c, &t, &CallOptions::default(), 10, 5, "p4");
        n = count(&c, None, &format!("SELECT count() FROM {t}"));
        m = count(&c, None, &format!("SELECT count() FROM {t}_mv_dst"));
    }
    c.command(&format!("DROP TABLE {t}_mv")).unwrap();
    c.command(&format!("DROP TABLE {t}_mv_dst")).unwrap();
    c.command(&format!("DROP TABLE {t}")).unwrap();
    eprintln!("P4 verdict={v:?} target {n} of 10, MV destination {m} of 10");
    assert!(v.is_err() || (n == 10 && m == 10), "P4: accepted; target {n}, MV destination {m} (of 10)");
}

/// Distributed over a window MergeTree on every node, key column k with `k_def`; returns (local, dist).
fn dist_setup(c: &Client, prefix: &str, k_def: &str, key: Option<&str>) -> (String, String) {
    let cluster = env("CH_CLUSTER_NAME");
    let local = table(prefix);
    let dist = format!("{local}_d");
    all_nodes(c, &format!("CREATE TABLE {local} (n UInt64, k Nullable(UInt64)) ENGINE = MergeTree ORDER BY n {W}"));
    let key = key.map(|k| format!(", {k}")).unwrap_or_default();
    all_nodes(
        c,
        &format!(
            "CREATE TABLE {dist} (n UInt64, k UInt64 {k_def}) ENGINE = Distributed({cluster}, currentDatabase(), {local}{key})"
        ),
    );
    (local, dist)
}
fn dist_drop(c: &Client, local: &str, dist: &str) {
    all_nodes(c, &format!("DROP TABLE {dist}"));
    all_nodes(c, &format!("DROP TABLE {local}"));
}
/// Rows of `local` on each node (0, 1, 2).
fn per_node(c: &Client, local: &str) -> Vec<u64> {
    (0..3).map(|i| count(c, Some(i), &format!("SELECT count() FROM {local}"))).collect()
}

// P5: defaults_as_nulls() chosen AFTER exactly_once(): the key column k (DEFAULT rand()) becomes
// Nullable, NULL = "server fills rand()".
#[test]
fn p5_defaults_as_nulls_after_exactly_once() {
    let c = cluster_client();
    let (local, dist) = dist_setup(&c, "adv3_p5", "DEFAULT rand()", Some("k"));
    let before = verdict(&c, &dist, &["n", "k"], &fg());
    let mut outcome = String::new();
    let mut bad = false;
    if before.is_ok() {
        let r = (|| -> clickhouse_connect::Result<()> {
            for run in 0..2 {
                let mut ins = c
                    .inserter_with(&dist, &["n", "k"], 1000, &CallOptions { endpoint: Some(0), ..fg() })?
                    .exactly_once(format!("p5-{run}"), 3)?
                    .defaults_as_nulls()?;
                for n in 0..300u64 {
                    ins.write(&[Value::UInt64(n), Value::Null])?;
                }
                ins.end()?;
            }
            Ok(())
        })();
        let split1 =
            count(&c, Some(0), &format!("SELECT countIf(c = 1) FROM (SELECT n, count() c FROM {local} GROUP BY n)"));
        outcome = format!(
            "{r:?}: two runs of the same 300 rows (different streams): {split1} n's landed on shard 1 only once (0 if the split is deterministic)"
        );
        bad = r.is_ok() && split1 != 0;
    }
    dist_drop(&c, &local, &dist);
    eprintln!("P5 verdict(before)={before:?}; {outcome}");
    assert!(!bad, "P5: exactly-once then defaults_as_nulls on key k DEFAULT rand(): {outcome}");
}

#[derive(serde::Serialize)]
struct OnlyN {
    n: u64,
}

// P6: a typed (serde) inserter: exactly_once checked with every column, then the first row narrows the
// insert to `n`, leaving the key column k (DEFAULT rand()) to the server.
#[test]
fn p6_typed_inserter_narrows_after_check() {
    let c = cluster_client();
    let (local, dist) = dist_setup(&c, "adv3_p6", "DEFAULT rand()", Some("k"));
    let outcome;
    let mut bad = false;
    let r = (|| -> clickhouse_connect::Result<()> {
        for _ in 0..2 {
            let mut ins = c
                .inserter_as_with::<OnlyN>(&dist, 1000, &CallOptions { endpoint: Some(0), ..fg() })?
                .exactly_once("p6", 3)?;
            for n in 0..300u64 {
                ins.write(&OnlyN { n })?;
            }
            ins.end()?;
        }
        Ok(())
    })();
    if r.is_ok() {
        let split1 =
            count(&c, Some(0), &format!("SELECT countIf(c = 1) FROM (SELECT n, count() c FROM {local} GROUP BY n)"));
        outcome =
            format!("two runs of the same 300 rows: {split1} n's landed on shard 1 only once (0 if deterministic)");
        bad = split1 != 0;
    } else {
        outcome = format!("{r:?}");
    }
    dist_drop(&c, &local, &dist);
    eprintln!("P6 {outcome}");
    assert!(!bad, "P6: typed exactly-once into Distributed with key k DEFAULT rand(), struct without k: {outcome}");
}

// P7: no sharding key, insert_distributed_one_random_shard = 1: each insert picks a random shard.
#[test]
fn p7_no_key_one_random_shard() {
    let c = cluster_client();
    let (local, dist) = dist_setup(&c, "adv3_p7", "DEFAULT 0", None);
    let opts = CallOptions {
        endpoint: Some(0),
        settings: vec![
            ("distributed_foreground_insert".into(), "1".into()),
            ("insert_distributed_one_random_shard".into(), "1".into()),
        ],
        ..CallOptions::default()
    };
    let v = verdict(&c, &dist, &["n"], &opts);
    let mut outcome = String::new();
    let mut bad = false;
    if v.is_ok() {
        for round in 0..6 {
            crate_twice(&c, &dist, &opts, 10, 10, &format!("p7-{round}"));
        }
        let nodes = per_node(&c, &local);
        let total = nodes[0] + nodes[1];
        outcome = format!("per node {nodes:?}: shard total {total} of 60");
        bad = total != 60;
    }
    dist_drop(&c, &local, &dist);
    eprintln!("P7 verdict={v:?}; {outcome}");
    assert!(!bad, "P7: accepted, {outcome}");
}

// P8: odd database and table names, dedup and not: accepted exactly when the table deduplicates, and
// the insert then works.
#[test]
fn p8_names() {
    let c = modern();
    let pid = std::process::id();
    let db_raw = format!("adv3 d.b ü'\\\"$`x{pid}");
    let qdb = format!("`{}`", db_raw.replace('\\', "\\\\").replace('`', "\\`"));
    let dqdb = format!("\"{}\"", db_raw.replace('\\', "\\\\").replace('"', "\\\""));
    c.command(&format!("CREATE DATABASE {qdb}")).unwrap();
    let mut wrong = Vec::new();
    for (tname, dedups) in [("settings", true), ("default", false), ("t.x y", true), ("ü\\'`\"", false)] {
        let qt = format!("`{}`", tname.replace('\\', "\\\\").replace('`', "\\`"));
        let dqt = format!("\"{}\"", tname.replace('\\', "\\\\").replace('"', "\\\""));
        let s = if dedups { W } else { "" };
        c.command(&format!("CREATE TABLE {qdb}.{qt} (n UInt64) ENGINE = MergeTree ORDER BY n {s}")).unwrap();
        for form in [format!("{qdb}.{qt}"), format!("{dqdb}.{dqt}"), format!("{qdb} . {qt}"), format!("{qdb}.{dqt}")] {
            let v = verdict(&c, &form, &["n"], &CallOptions::default());
            eprintln!("P8 {form}: dedups={dedups} verdict={v:?}");
            if v.is_ok() != dedups {
                wrong.push(format!("{form}: dedups={dedups} verdict={v:?}"));
            }
            if v.is_ok() {
                let mut ins = c.inserter(&form, &["n"], 10).unwrap().exactly_once("p8", 3).unwrap();
                ins.write(&[Value::UInt64(1)]).unwrap();
                if let Err(e) = ins.end() {
                    wrong.push(format!("{form}: insert failed: {e}"));
                }
            }
        }
    }
    c.command(&format!("DROP DATABASE {qdb}")).unwrap();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

// P9: the window given twice / changed by ALTER / via odd SETTINGS text.
#[test]
fn p9_window_variants() {
    let c = modern();
    let mut wrong = Vec::new();
    let cases: &[(&str, &[&str])] = &[
        ("SETTINGS non_replicated_deduplication_window = 1000, non_replicated_deduplication_window = 0", &[]),
        ("SETTINGS non_replicated_deduplication_window = 0, non_replicated_deduplication_window = 1000", &[]),
        ("", &["ALTER TABLE {t} MODIFY SETTING non_replicated_deduplication_window = 1000"]),
        (W, &["ALTER TABLE {t} RESET SETTING non_replicated_deduplication_window"]),
        (W, &["ALTER TABLE {t} MODIFY SETTING non_replicated_deduplication_window = 0"]),
        ("SETTINGS /* x */ non_replicated_deduplication_window/**/=/**/1000 -- y", &[]),
        ("SETTINGS non_replicated_deduplication_window = 1e3", &[]),
        ("SETTINGS non_replicated_deduplication_window = '1000'", &[]),
        ("SETTINGS non_replicated_deduplication_window = 0x3e8", &[]),
        ("COMMENT 'SETTINGS non_replicated_deduplication_window = 1000'", &[]),
        ("SETTINGS non_replicated_deduplication_window = 1000 COMMENT 'x'", &[]),
        ("SETTINGS non_replicated_deduplication_window = 18446744073709551615", &[]),
    ];
    for (s, alters) in cases {
        let t = table("adv3_p9");
        if let Err(e) = c.command(&format!("CREATE TABLE {t} (n UInt64) ENGINE = MergeTree ORDER BY n {s}")) {
            eprintln!("P9 `{s}`: server refuses CREATE: {}", e.to_string().lines().next().unwrap_or(""));
            continue;
        }
        for a in alters.iter() {
            c.command(&a.replace("{t}", &t)).unwrap();
        }
        let ef = tsv_on(
            &c,
            None,
            &format!("SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = '{t}'"),
        );
        let v = verdict(&c, &t, &["n"], &CallOptions::default());
        let q = format!("INSERT INTO {t} (n) SETTINGS insert_deduplication_token = 'p9' VALUES (5)");
        c.command(&q).unwrap();
        c.command(&q).unwrap();
        let n = count(&c, None, &format!("SELECT count() FROM {t}"));
        c.command(&format!("DROP TABLE {t}")).unwrap();
        eprintln!("P9 `{s}` {alters:?}: engine_full={ef:?} verdict={v:?} oracle rows={n}");
        if v.is_ok() != (n == 1) {
            wrong.push(format!("`{s}` {alters:?}: verdict={v:?} oracle rows={n}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
