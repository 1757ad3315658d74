//! The async client against the real servers: behaviour tests written once and run on both drivers
//! (blocking and async, `drivers::Driver`) on 26.9 and 18.16, then what only the async client has:
//! cancelling by dropping, the session a stream holds. (Many calls on one I/O thread:
//! `tests/async_scale.rs`; memory under a slow consumer: `tests/async_memory.rs`; the fault suite's
//! async paths: `tests/faults.rs`.) Expected values come from the server.

mod common;
#[path = "common/drivers.rs"]
mod drivers;

use clickhouse_connect::{AsyncClient, CallOptions, Compression, ContentEncoding, Error, Value};
use common::{env, table};
use drivers::{Driver, runtime};
use futures_util::StreamExt;
use std::time::{Duration, Instant};

const SERVERS: &[&str] = &["CH_MODERN_URL", "CH_LEGACY_URL"];

fn legacy(var: &str) -> bool {
    var == "CH_LEGACY_URL"
}

/// The server's own text of a query (TabSeparated), the oracle.
fn server_text(d: &Driver, sql: &str) -> String {
    String::from_utf8(d.blocking().raw_query(sql, Some("TabSeparated")).unwrap()).unwrap()
}

#[test]
fn command_query_raw_query_and_streams_on_both_drivers() {
    for var in SERVERS {
        for d in Driver::both(var) {
            let ctx = format!("{var} {}", d.name());
            let c = d.command("SELECT 1 + 1").unwrap_or_else(|e| panic!("{ctx}: {e}"));
            assert_eq!(c.as_str(), "2", "{ctx}");
            let sql = "SELECT number, toString(number) AS s FROM system.numbers LIMIT 100000";
            let r = d.query(sql).unwrap();
            assert_eq!(r.rows.len(), 100_000, "{ctx}");
            assert_eq!(r.column_names, ["number", "s"], "{ctx}");
            // Every row as the server renders it.
            let ours: String = r.rows.iter().map(|row| format!("{}\t{}\n", row[0], row[1].as_str().unwrap())).collect();
            assert_eq!(ours, server_text(&d, sql), "{ctx}");
            let raw = d.raw_query_with("SELECT 1 FORMAT CSV", None, &CallOptions::default()).unwrap();
            assert_eq!(raw, b"1\n", "{ctx}");
            let blocks =
                d.blocks_with("SELECT number FROM system.numbers LIMIT 300000", &CallOptions::default()).unwrap();
            assert_eq!(blocks.iter().map(Vec::len).sum::<usize>(), 300_000, "{ctx}");
            assert!(blocks.len() > 1, "{ctx}: one block");
            let err = d.query("SELECT nope FROM system.one").unwrap_err();
            assert_eq!(err.server_code(), Some(47), "{ctx}: {err}");
            let err = d.command("SELEC 1").unwrap_err();
            assert_eq!(err.server_code(), Some(62), "{ctx}: {err}");
        }
    }
}

#[test]
fn an_exception_after_data_started_is_an_error_on_both_drivers() {
    for var in SERVERS {
        for d in Driver::both(var) {
            let ctx = format!("{var} {}", d.name());
            let sql = "SELECT throwIf(number = 150000) FROM system.numbers LIMIT 200000";
            let opts = CallOptions::new().setting("max_block_size", 1000);
            let e = d.query_with(sql, &opts).unwrap_err();
            assert_eq!(e.server_code(), Some(395), "{ctx}: {e}");
            let e = d.blocks_with(sql, &opts).unwrap_err();
            assert_eq!(e.server_code(), Some(395), "{ctx}: {e}");
        }
    }
}

#[test]
fn parameters_settings_and_query_ids_on_both_drivers() {
    for var in SERVERS {
        for d in Driver::both(var) {
            let ctx = format!("{var} {}", d.name());
            // Client-side binding (every server).
            let opts = CallOptions::new().param("s", "it's").param("n", 7u64);
            let r = d.query_with("SELECT %(s)s AS s, %(n)s + 1 AS n", &opts).unwrap();
            assert_eq!(r.rows[0][0], Value::from("it's"), "{ctx}");
            assert_eq!(u64::try_from(&r.rows[0][1]).unwrap(), 8, "{ctx}");
            if !legacy(var) {
                // Server-side {name:Type}.
                let opts = CallOptions::new().param("n", 41u64);
                assert_eq!(d.command_with("SELECT {n:UInt64} + 1", &opts).unwrap(), "42", "{ctx}");
            }
            // A per-call setting reaches the server.
            let opts = CallOptions::new().setting("max_threads", 3);
            let r = d.command_with("SELECT value FROM system.settings WHERE name = 'max_threads'", &opts).unwrap();
            assert_eq!(r.as_str(), "3", "{ctx}");
            // A given query id is the one the server ran (system.query_log is not on every server:
            // the id reaches the query itself).
            let id = format!("qid-{}", table("q"));
            let r = d.query_with("SELECT queryID()", &CallOptions::new().query_id(&id));
            if !legacy(var) {
                let r = r.unwrap();
                assert_eq!(r.rows[0][0], Value::from(id.as_str()), "{ctx}");
                assert_eq!(r.query_id.as_deref(), Some(id.as_str()), "{ctx}");
            }
        }
    }
}

#[test]
fn readonly_users_sessions_and_other_databases_on_both_drivers() {
    for var in SERVERS {
        // A readonly user whose client brings settings it may not change: they are dropped (with a
        // warning), and compression and progress still work.
        let ro = Driver::both_with(var, |o| {
            o.username = env("CH_READONLY_USER");
            o.settings.push(("max_threads".into(), "2".into()));
            o.send_progress = true;
            o.compression = Compression::Lz4;
        });
        for d in &ro {
            let ctx = format!("{var} readonly {}", d.name());
            let r = d.query("SELECT number FROM system.numbers LIMIT 1000").unwrap_or_else(|e| panic!("{ctx}: {e}"));
            assert_eq!(r.rows.len(), 1000, "{ctx}");
            assert_eq!(d.command("SELECT 3").unwrap(), "3", "{ctx}");
            let e = d.command("CREATE TABLE ro_nope (x UInt8) ENGINE = Memory").unwrap_err();
            assert_eq!(e.server_code(), Some(164), "{ctx}: {e}");
        }
        for d in Driver::both(var) {
            let ctx = format!("{var} {}", d.name());
            let admin = d.blocking();
            let db = table("adb");
            admin.command(&format!("CREATE DATABASE {db}")).unwrap();
            admin.command(&format!("CREATE TABLE {db}.t (x String) ENGINE = Memory")).unwrap();
            d.insert_with("t", &[], &[vec![Value::from("in db")]], &CallOptions::new().database(&db)).unwrap();
            assert_eq!(d.command_with("SELECT x FROM t", &CallOptions::new().database(&db)).unwrap(), "in db", "{ctx}");
            let s = CallOptions::new().session(format!("s-{}", table("s")));
            d.command_with("CREATE TEMPORARY TABLE tmp_a (v UInt8)", &s).unwrap();
            d.insert_with("tmp_a", &[], &[vec![Value::from(5u8)], vec![Value::from(6u8)]], &s).unwrap();
            assert_eq!(d.command_with("SELECT sum(v) FROM tmp_a", &s).unwrap(), "11", "{ctx}");
            let blocks = d.blocks_with("SELECT v FROM tmp_a ORDER BY v", &s).unwrap();
            assert_eq!(blocks.concat(), vec![vec![Value::UInt8(5)], vec![Value::UInt8(6)]], "{ctx}");
            admin.command(&format!("DROP DATABASE {db}")).unwrap();
        }
    }
}

#[test]
fn every_compression_mode_reads_and_writes_the_same_on_both_drivers() {
    let modes = [
        Compression::None,
        Compression::Lz4,
        Compression::Zstd,
        Compression::Http(ContentEncoding::Gzip),
        Compression::Http(ContentEncoding::Zstd),
        Compression::Http(ContentEncoding::Lz4),
    ];
    for var in SERVERS {
        for mode in &modes {
            for d in Driver::both_with(var, |o| o.compression = mode.clone()) {
                let ctx = format!("{var} {mode:?} {}", d.name());
                let sql = "SELECT number, toString(number * 7) FROM system.numbers LIMIT 200000";
                let r = d.query(sql).unwrap_or_else(|e| panic!("{ctx}: {e}"));
                let ours: String =
                    r.rows.iter().map(|row| format!("{}\t{}\n", row[0], row[1].as_str().unwrap())).collect();
                assert_eq!(ours, server_text(&d, sql), "{ctx}");
                let t = table("acomp");
                d.blocking().command(&format!("CREATE TABLE {t} (n UInt64, s String) ENGINE = Memory")).unwrap();
                let rows: Vec<Vec<Value<'static>>> =
                    (0..50_000u64).map(|i| vec![Value::from(i), Value::from(format!("v{i}"))]).collect();
                d.insert_with(&t, &[], &rows, &CallOptions::default()).unwrap_or_else(|e| panic!("{ctx}: {e}"));
                d.inserter(&t, &[], 7_000, &rows, &CallOptions::default()).unwrap_or_else(|e| panic!("{ctx}: {e}"));
                // The server's own aggregate of what it stored, against the same computed from
                // numbers() by the server.
                let got = server_text(&d, &format!("SELECT count(), sum(n), sum(length(s)) FROM {t}"));
                let want = server_text(
                    &d,
                    "SELECT 2 * count(), 2 * sum(number), 2 * sum(length(concat('v', toString(number)))) \
                     FROM numbers(50000)",
                );
                assert_eq!(got, want, "{ctx}");
                d.blocking().command(&format!("DROP TABLE {t}")).unwrap();
            }
        }
    }
}

#[test]
fn rows_of_many_types_round_trip_on_both_drivers() {
    // Values read from the server, inserted back, compared inside the server (EXCEPT both ways).
    let types_modern = "a Int32, b Nullable(String), c Array(UInt16), d DateTime('Asia/Tokyo'), e Decimal(18, 4), \
                        f UUID, g LowCardinality(String), h Tuple(x Float64, y Map(String, Int8)), i IPv6, j Date32";
    let types_legacy = "a Int32, b Nullable(String), c Array(UInt16), d DateTime, e Decimal(18, 4), f UUID, \
                        g LowCardinality(String), h Tuple(Float64, String), j Date";
    for var in SERVERS {
        let types = if legacy(var) { types_legacy } else { types_modern };
        for d in Driver::both(var) {
            let ctx = format!("{var} {}", d.name());
            let admin = d.blocking();
            let (src, dst) = (table("asrc"), table("adst"));
            // (18.16 needs LowCardinality allowed.)
            let lc = if legacy(var) {
                CallOptions::new().setting("allow_experimental_low_cardinality_type", 1)
            } else {
                CallOptions::new()
            };
            admin.command_with(&format!("CREATE TABLE {src} ({types}) ENGINE = Memory"), &lc).unwrap();
            admin.command_with(&format!("CREATE TABLE {dst} ({types}) ENGINE = Memory"), &lc).unwrap();
            if legacy(var) {
                admin
                    .command(&format!(
                        "INSERT INTO {src} SELECT toInt32(number) - 500, if(number % 3 = 0, NULL, toString(number)), \
                         [number % 7, 1], toDateTime(1500000000 + number * 3600), toDecimal64(number / 7, 4), \
                         generateUUIDv4(), toString(number % 5), (number / 3, toString(number)), \
                         toDate(17000 + number) FROM system.numbers LIMIT 1000"
                    ))
                    .unwrap();
            } else {
                admin
                    .command(&format!(
                        "INSERT INTO {src} SELECT * FROM generateRandom('{}', 7, 20, 4) LIMIT 1000",
                        types.replace('\'', "\\'")
                    ))
                    .unwrap();
            }
            let rows = d.query(&format!("SELECT * FROM {src}")).unwrap().rows;
            assert_eq!(rows.len(), 1000, "{ctx}");
            d.insert_with(&dst, &[], &rows, &CallOptions::default()).unwrap_or_else(|e| panic!("{ctx}: {e}"));
            for (a, b) in [(&src, &dst), (&dst, &src)] {
                let n = admin.command(&format!("SELECT count() FROM (SELECT * FROM {a} EXCEPT SELECT * FROM {b})"));
                let n = match n {
                    Ok(n) => n.to_string(),
                    // 18.16 has no EXCEPT: compare sorted texts instead.
                    Err(_) => {
                        let text = |t: &str| server_text(&d, &format!("SELECT * FROM {t} ORDER BY a, f"));
                        if text(a) == text(b) { "0".into() } else { "differs".into() }
                    }
                };
                assert_eq!(n, "0", "{ctx}: {a} vs {b}");
            }
        }
    }
}

#[test]
fn serde_rows_round_trip_on_both_drivers() {
    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Row {
        id: u64,
        name: String,
        score: Option<f64>,
        tags: Vec<String>,
    }
    for var in SERVERS {
        for d in Driver::both(var) {
            let ctx = format!("{var} {}", d.name());
            let t = table("aserde");
            d.blocking()
                .command(&format!(
                    "CREATE TABLE {t} (id UInt64, name String, score Nullable(Float64), tags Array(String)) \
                     ENGINE = Memory"
                ))
                .unwrap();
            let rows: Vec<Row> = (0..30_000u64)
                .map(|i| Row {
                    id: i,
                    name: format!("n{i}"),
                    score: (i % 4 != 0).then_some(i as f64 / 8.0),
                    tags: (0..i % 3).map(|k| format!("t{k}")).collect(),
                })
                .collect();
            d.insert_as(&t, &rows).map(|_| ()).unwrap_or_else(|e| panic!("{ctx}: {e}"));
            let back: Vec<Row> = d.query_as(&format!("SELECT * FROM {t} ORDER BY id")).unwrap();
            assert_eq!(back, rows, "{ctx}");
            // The server's own text of what it stored.
            let got = server_text(&d, &format!("SELECT sum(id), countIf(score IS NULL), sum(length(tags)) FROM {t}"));
            assert_eq!(
                got,
                server_text(&d, "SELECT sum(number), countIf(number % 4 = 0), sum(number % 3) FROM numbers(30000)"),
                "{ctx}"
            );
            let e = d.query_as::<(u64, u8)>("SELECT 1, 'x'").unwrap_err();
            assert!(matches!(e, Error::Mapping { .. }), "{ctx}: {e:?}");
        }
    }
}

#[test]
fn query_limit_and_deadlines_on_both_drivers() {
    for var in SERVERS {
        for d in Driver::both_with(var, |o| o.query_limit = 5) {
            let ctx = format!("{var} {}", d.name());
            assert_eq!(d.query("SELECT number FROM system.numbers LIMIT 100").unwrap().rows.len(), 5, "{ctx}");
        }
        for d in Driver::both(var) {
            let ctx = format!("{var} {}", d.name());
            let started = Instant::now();
            let opts = CallOptions::new().timeout(Duration::from_millis(500));
            let e = d.query_with("SELECT sleep(2)", &opts).unwrap_err();
            assert!(matches!(e, Error::Transport { timeout: true, .. }), "{ctx}: {e:?}");
            assert!(started.elapsed() < Duration::from_millis(1500), "{ctx}: {:?}", started.elapsed());
        }
    }
}

/// Whether a query id is still among the server's running queries.
fn running(admin: &clickhouse_connect::Client, id: &str) -> bool {
    admin.command(&format!("SELECT count() FROM system.processes WHERE query_id = '{id}'")).unwrap() != "0"
}

/// Waits up to a second for the query to leave `system.processes`; how long it took.
fn gone_within_a_second(admin: &clickhouse_connect::Client, id: &str) -> Duration {
    let started = Instant::now();
    while running(admin, id) {
        assert!(started.elapsed() < Duration::from_secs(1), "query {id} still runs after {:?}", started.elapsed());
        std::thread::sleep(Duration::from_millis(20));
    }
    started.elapsed()
}

#[test]
fn dropping_a_stream_or_a_future_stops_the_query_on_the_server_within_a_second() {
    for var in SERVERS {
        let admin = common::connect(var);
        let rt = runtime();
        let a = rt.block_on(AsyncClient::from_url(&env(var))).unwrap();
        // A stream dropped after its first block.
        let id = format!("drop-stream-{}", table("q"));
        rt.block_on(async {
            let mut s = a.query_blocks_with("SELECT number FROM system.numbers", &CallOptions::new().query_id(&id));
            let first = s.next().await.unwrap().unwrap();
            assert!(first.rows() > 0);
            assert_eq!(s.query_id(), id);
            assert!(running(&admin, &id), "{var}: the query is not running");
            drop(s);
        });
        let took = gone_within_a_second(&admin, &id);
        eprintln!("{var}: dropped stream's query gone after {took:?}");
        // A query future dropped while the server computes (nothing written yet to notice a closed
        // connection by): the client kills it.
        let id = format!("drop-future-{}", table("q"));
        rt.block_on(async {
            let opts = CallOptions::new().query_id(&id);
            // Runs until killed, writing nothing meanwhile.
            let sql = "SELECT sum(cityHash64(number)) FROM system.numbers";
            let r = tokio::time::timeout(Duration::from_millis(700), a.query_with(sql, &opts)).await;
            assert!(r.is_err(), "{var}: the query finished");
        });
        let took = gone_within_a_second(&admin, &id);
        eprintln!("{var}: dropped future's query gone after {took:?}");
        // The client goes on working, and no transfer is left behind.
        rt.block_on(async {
            assert_eq!(a.command("SELECT 5").await.unwrap(), "5");
        });
        // (The kills, sent without waiting, end on their own.)
        let started = Instant::now();
        while a.running_transfers() > 0 {
            assert!(started.elapsed() < Duration::from_secs(2), "{var}: {} transfers left", a.running_transfers());
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

#[test]
fn a_stream_holds_its_session_and_other_calls_in_it_fail_at_once() {
    let rt = runtime();
    let a = rt.block_on(AsyncClient::from_url(&env("CH_MODERN_URL"))).unwrap();
    let s = CallOptions::new().session(format!("held-{}", table("s")));
    rt.block_on(async {
        let mut stream = a.query_blocks_with("SELECT number FROM system.numbers LIMIT 5000000", &s);
        let mut rows = stream.next().await.unwrap().unwrap().rows();
        let started = Instant::now();
        let e = a.command_with("SELECT 1", &s).await.unwrap_err();
        assert!(e.to_string().contains("busy with an open async block stream"), "{e}");
        assert!(started.elapsed() < Duration::from_millis(200));
        // Read to its end, the stream gives the session back.
        while let Some(b) = stream.next().await {
            rows += b.unwrap().rows();
        }
        assert_eq!(rows, 5_000_000);
        assert_eq!(a.command_with("SELECT 2", &s).await.unwrap(), "2");
    });
}

#[test]
fn the_async_futures_and_streams_are_send() {
    // Spawned on a multi-threaded runtime, they move between threads: checked at compile time.
    fn send<T: Send>(_: &T) {}
    let rt = runtime();
    let a = rt.block_on(AsyncClient::from_url(&env("CH_MODERN_URL"))).unwrap();
    send(&a.query("SELECT 1"));
    send(&a.command("SELECT 1"));
    send(&a.query_blocks("SELECT 1"));
    send(&a.query_as::<(u8,)>("SELECT 1"));
    send(&a.insert("t", &[], &[]));
    send(&a.inserter("t", &[], 10));
    let t = table("asend");
    a.blocking().command(&format!("CREATE TABLE {t} (x UInt8) ENGINE = Memory")).unwrap();
    rt.block_on(async {
        let mut ins = a.inserter(&t, &[], 10).await.unwrap();
        send(&ins.write(&[Value::from(1u8)]));
        ins.write(&[Value::from(1u8)]).await.unwrap();
        send(&ins);
        assert_eq!(ins.end().await.unwrap().rows, 1);
        let mut typed = a.inserter_as::<(u8,)>(&t, 10).await.unwrap();
        send(&typed.write(&(2,)));
        typed.write(&(2,)).await.unwrap();
        assert_eq!(typed.end().await.unwrap().rows, 1);
    });
    assert_eq!(a.blocking().command(&format!("SELECT sum(x) FROM {t}")).unwrap(), "3");
}

/// Found by the adversary (issue 19): a panic in one call's progress callback failed every later call
/// of the client (libcurl's bindings keep the panic on the I/O thread and refuse callbacks after it).
#[test]
fn a_panicking_progress_callback_fails_its_call_only() {
    let rt = runtime();
    let a = rt.block_on(AsyncClient::from_url(&env("CH_MODERN_URL"))).unwrap();
    rt.block_on(async {
        let innocent = {
            let a = a.clone();
            tokio::spawn(async move { a.command("SELECT sleep(1), 7").await })
        };
        let opts = CallOptions::new().setting("http_headers_progress_interval_ms", 10).on_progress(|_| panic!("boom"));
        let e = a.query_with("SELECT sum(sipHash64(number)) FROM numbers(30000000)", &opts).await.unwrap_err();
        assert!(matches!(&e, Error::Internal(m) if m.contains("boom")), "{e:?}");
        assert_eq!(innocent.await.unwrap().unwrap().row[1], Value::UInt8(7));
        for i in 0..5u8 {
            assert_eq!(a.command(&format!("SELECT {i}")).await.unwrap().as_str(), i.to_string());
        }
    });
}

/// Found by the adversary: a slow progress callback holds up the I/O thread, and other calls took the
/// time for a stall of the server.
#[test]
fn a_slow_progress_callback_is_not_a_stall_of_other_calls() {
    let rt = runtime();
    let mut o = common::options("CH_MODERN_URL");
    o.send_receive_timeout = Duration::from_secs(1);
    let a = rt.block_on(AsyncClient::connect(o)).unwrap();
    rt.block_on(async {
        let once = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let opts = CallOptions::new().setting("http_headers_progress_interval_ms", 10).on_progress(move |_| {
            if !once.swap(true, std::sync::atomic::Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(2500));
            }
        });
        let slow = {
            let a = a.clone();
            tokio::spawn(
                async move { a.query_with("SELECT sum(sipHash64(number)) FROM numbers(30000000)", &opts).await },
            )
        };
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(a.command("SELECT 1").await.unwrap(), "1");
        slow.await.unwrap().unwrap();
    });
}

/// Found by the adversary: with the client's own session, the kill of a dropped call ran in that
/// session (locked by the call), so the query ran on and the session stayed locked.
#[test]
fn with_a_client_session_dropped_calls_are_killed_and_the_session_goes_on() {
    let rt = runtime();
    let admin = common::modern();
    let mut o = common::options("CH_MODERN_URL");
    o.session_id = Some(format!("client-session-{}", table("s")));
    let a = rt.block_on(AsyncClient::connect(o)).unwrap();
    let id = format!("drop-in-session-{}", table("q"));
    rt.block_on(async {
        let opts = CallOptions::new().query_id(&id);
        let r = tokio::time::timeout(
            Duration::from_millis(700),
            a.query_with("SELECT sum(cityHash64(number)) FROM system.numbers", &opts),
        )
        .await;
        assert!(r.is_err());
    });
    gone_within_a_second(&admin, &id);
    // The session is free again (the server unlocks it when the killed query ends).
    let started = Instant::now();
    loop {
        match rt.block_on(a.command("SELECT 3")) {
            Ok(r) => {
                assert_eq!(r, "3");
                break;
            }
            Err(e) if e.server_code() == Some(373) && started.elapsed() < Duration::from_secs(2) => {
                std::thread::sleep(Duration::from_millis(20))
            }
            Err(e) => panic!("{e}"),
        }
    }
}

/// Found by the adversary: `query` collected its result through a stream holding the session as an
/// open stream, so a second `query` in the session failed instead of waiting; and `end` of an insert
/// returned before the session's turn was given back.
#[test]
fn calls_in_one_session_wait_their_turn_and_an_ended_insert_frees_it() {
    let rt = runtime();
    let a = rt.block_on(AsyncClient::from_url(&env("CH_MODERN_URL"))).unwrap();
    let s = CallOptions::new().session(format!("turns-{}", table("s")));
    rt.block_on(async {
        let q = |n: u64| {
            let (a, s) = (a.clone(), s.clone());
            tokio::spawn(async move { a.query_with(&format!("SELECT {n} + sleepEachRow(0.05)"), &s).await })
        };
        let (x, y, z) = (q(1), q(2), q(3));
        for (h, n) in [(x, 1u64), (y, 2), (z, 3)] {
            assert_eq!(u64::try_from(&h.await.unwrap().unwrap().rows[0][0]).unwrap(), n);
        }
        a.command_with("CREATE TEMPORARY TABLE turns (x UInt64)", &s).await.unwrap();
        for i in 0..100u64 {
            let mut ins = a.inserter_with("turns", &[], 10, &s).await.unwrap();
            ins.write(&[Value::from(i)]).await.unwrap();
            ins.end().await.unwrap();
            // At once, in the same session.
            a.command_with("SELECT 1", &s).await.unwrap();
        }
        assert_eq!(a.command_with("SELECT count(), sum(x) FROM turns", &s).await.unwrap(), "100\t4950");
    });
}

/// Found by the adversary: the kill a dropped stream sends, not waited for, could stop a new query
/// started at once under the same id.
#[test]
fn a_query_id_reused_right_after_a_drop_is_not_killed() {
    let rt = runtime();
    let a = rt.block_on(AsyncClient::from_url(&env("CH_MODERN_URL"))).unwrap();
    rt.block_on(async {
        for k in 0..10 {
            let id = format!("reuse-{k}-{}", table("q"));
            let opts = CallOptions::new().query_id(&id);
            let mut s = a.query_blocks_with("SELECT number FROM system.numbers", &opts);
            s.next().await.unwrap().unwrap();
            drop(s);
            let r = a.query_with("SELECT count() FROM numbers(1000000)", &opts).await;
            assert_eq!(r.map(|r| r.rows[0][0].clone()).ok(), Some(Value::UInt64(1_000_000)), "attempt {k}");
        }
    });
}
