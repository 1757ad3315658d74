//! The client's parameters and methods against the real servers: settings, query ids, summaries,
//! progress, sessions, timeouts, retries, client_name, and queries killed mid-stream — each on both
//! drivers (the blocking `Client` and the `AsyncClient`) where both have the call.

mod common;
#[path = "common/drivers.rs"]
mod drivers;

use clickhouse_connect::{CallOptions, Error};
use common::*;
use drivers::Driver;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[test]
fn settings_client_wide_and_per_call() {
    for d in Driver::both_with("CH_MODERN_URL", |o| o.settings.push(("max_threads".into(), "1".into()))) {
        let ctx = d.name();
        assert_eq!(d.command("SELECT getSetting('max_threads')").unwrap(), "1", "{ctx}");
        let opts = CallOptions::new().setting("max_threads", 2).setting("max_block_size", 1234);
        assert_eq!(
            d.command_with("SELECT getSetting('max_threads'), getSetting('max_block_size')", &opts).unwrap(),
            "2\t1234",
            "{ctx}"
        );
    }
    // URL form: settings and client options.
    let url = format!("{}/?max_block_size=777&query_retries=0&client_name=url-app", env("CH_MODERN_URL"));
    for d in Driver::both_with("CH_MODERN_URL", |o| *o = clickhouse_connect::ClientOptions::from_url(&url).unwrap()) {
        assert_eq!(d.command("SELECT getSetting('max_block_size')").unwrap(), "777", "{}", d.name());
        assert_eq!(d.blocking().options().query_retries, 0);
    }
}

#[test]
fn query_id_and_summary() {
    for d in Driver::both("CH_MODERN_URL") {
        let ctx = d.name();
        let id = format!("test-query-id-{}-{ctx}", std::process::id());
        let r = d.query_with("SELECT number FROM numbers(100000)", &CallOptions::new().query_id(&id)).unwrap();
        assert_eq!(r.query_id.as_deref(), Some(id.as_str()), "{ctx}");
        // The summary is a header: sent when the response starts, it counts what was read by then
        // (the first block of a streamed result) …
        let s = r.summary.expect("26.9 sends X-ClickHouse-Summary");
        assert!(s.read_rows > 0 && s.read_rows <= 100_000, "{ctx}: {s:?}");
        // Without an id the server assigns one (or the client does).
        assert!(d.query("SELECT 1").unwrap().query_id.is_some_and(|q| !q.is_empty()), "{ctx}");
    }
    // … and the whole query when the server finishes before answering (send_progress).
    for d in Driver::both_with("CH_MODERN_URL", |o| o.send_progress = true) {
        let r = d.query("SELECT number FROM numbers(100000)").unwrap();
        let s = r.summary.unwrap();
        assert_eq!((s.read_rows, s.read_bytes, s.result_rows), (100_000, 800_000, 100_000), "{}", d.name());
    }
}

#[test]
fn query_limit_caps_rows_only_when_asked() {
    let o = options("CH_MODERN_URL");
    assert_eq!(o.query_limit, 0, "no silent truncation by default");
    for d in Driver::both("CH_MODERN_URL") {
        assert_eq!(d.query("SELECT number FROM numbers(7000)").unwrap().rows.len(), 7000, "{}", d.name());
    }
    for d in Driver::both_with("CH_MODERN_URL", |o| o.query_limit = 5000) {
        assert_eq!(d.query("SELECT number FROM numbers(7000)").unwrap().rows.len(), 5000, "{}", d.name());
    }
}

#[test]
fn progress_reaches_the_callback() {
    for d in Driver::both("CH_MODERN_URL") {
        let ctx = d.name();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let opts = CallOptions::new()
            .setting("http_headers_progress_interval_ms", 20)
            .setting("max_block_size", 65536)
            .on_progress(move |p| sink.lock().unwrap().push(*p));
        let r = d.query_with("SELECT sum(sipHash64(number)) FROM numbers(60000000)", &opts).unwrap();
        assert_eq!(r.rows.len(), 1, "{ctx}");
        let seen = seen.lock().unwrap();
        assert!(seen.len() >= 2, "{ctx}: {} progress callbacks", seen.len());
        assert!(seen.windows(2).all(|w| w[0].read_rows <= w[1].read_rows), "{ctx}: progress goes forward");
        assert!(seen.iter().any(|p| p.read_rows > 0 && p.total_rows_to_read == 60_000_000), "{ctx}");
    }
}

#[test]
fn sessions_keep_state_and_serialize_concurrent_use() {
    let session = format!("session-{}", std::process::id());
    for d in Driver::both_named("CH_MODERN_URL", |o, name| o.session_id = Some(format!("{session}-{name}"))) {
        let ctx = d.name();
        d.command("CREATE TEMPORARY TABLE tmp (x UInt64)").unwrap();
        d.command("INSERT INTO tmp SELECT number FROM numbers(10)").unwrap();
        assert_eq!(d.command("SELECT sum(x) FROM tmp").unwrap(), "45", "{ctx}");
        // Without the session the temporary table does not exist.
        let other = modern();
        assert!(other.command("SELECT sum(x) FROM tmp").is_err());
        // Concurrent calls in one session: the server would refuse them (session is locked); the client
        // runs them one after another instead.
        let sqls: Vec<String> =
            (0..4).map(|i| format!("SELECT sum(x) + {i} FROM tmp WHERE sleepEachRow(0.02) = 0")).collect();
        for (i, r) in d.concurrent_commands(&sqls).into_iter().enumerate() {
            assert_eq!(r.unwrap(), (45 + i).to_string(), "{ctx}");
        }
    }
}

#[test]
fn a_stalled_server_times_out() {
    for d in Driver::both_with("CH_MODERN_URL", |o| o.send_receive_timeout = Duration::from_secs(1)) {
        let t = Instant::now();
        match d.command("SELECT sleep(3)") {
            Err(Error::Transport { timeout: true, .. }) => {}
            other => panic!("{}: expected a timeout, got {other:?}", d.name()),
        }
        assert!(t.elapsed() < Duration::from_millis(2900), "{}: gave up after {:?}", d.name(), t.elapsed());
    }
}

#[test]
fn queries_are_retried_and_commands_are_not() {
    let proxy = FlakyProxy::start(&env("CH_MODERN_URL"));
    let via = |retries: u32| {
        move |o: &mut clickhouse_connect::ClientOptions| {
            o.host = "127.0.0.1".into();
            o.port = Some(proxy.port);
            o.query_retries = retries;
        }
    };
    for d in Driver::both_with("CH_MODERN_URL", via(2)) {
        let ctx = d.name();
        proxy.fail_next(2);
        assert_eq!(d.query("SELECT 7").unwrap().rows.len(), 1, "{ctx}: query succeeds on its third attempt");
        assert_eq!(proxy.dropped.load(Ordering::SeqCst), 2, "{ctx}");

        proxy.fail_next(1);
        match d.command("SELECT 8") {
            Err(Error::Transport { .. }) => {}
            other => panic!("{ctx}: a command must not be retried, got {other:?}"),
        }
        assert_eq!(proxy.dropped.load(Ordering::SeqCst), 1, "{ctx}");
    }
    for d in Driver::both_with("CH_MODERN_URL", via(0)) {
        proxy.fail_next(1);
        assert!(d.query("SELECT 9").is_err(), "{}: query_retries = 0 means no retry", d.name());
    }
}

#[test]
fn client_name_shows_in_query_log() {
    for d in Driver::both_named("CH_MODERN_URL", |o, name| {
        o.client_name = Some(format!("etl-{}-{name}", std::process::id()))
    }) {
        let name = d.blocking().options().client_name.clone().unwrap();
        d.command("SELECT 1").unwrap();
        d.command("SYSTEM FLUSH LOGS").unwrap();
        let n = d
            .command(&format!(
                "SELECT count() > 0 FROM system.query_log WHERE startsWith(http_user_agent, '{name} clickhouse-connect-rs/')"
            ))
            .unwrap();
        assert_eq!(n, "1", "{}", d.name());
    }
}

#[test]
fn a_query_killed_mid_stream_is_an_error() {
    let admin = modern();
    for d in Driver::both("CH_MODERN_URL") {
        let id = format!("kill-me-{}-{}", std::process::id(), d.name());
        let opts = CallOptions::new().query_id(&id).setting("max_block_size", 10000);
        let (result, rows) = std::thread::scope(|scope| {
            let killer = scope.spawn(|| {
                // Once the query runs (and has sent blocks), kill it.
                for _ in 0..500 {
                    let n = admin
                        .command(&format!(
                            "SELECT count() FROM system.processes WHERE query_id = '{id}' AND read_rows > 0"
                        ))
                        .unwrap();
                    if n != "0" {
                        admin.command(&format!("KILL QUERY WHERE query_id = '{id}' SYNC")).unwrap();
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
            });
            let r = d.count_blocks_with("SELECT number FROM numbers(100000000000) WHERE sleepEachRow(0) = 0", &opts);
            killer.join().unwrap();
            let rows = *r.as_ref().unwrap_or(&0);
            (r, rows)
        });
        match result {
            Err(Error::Server { code, .. }) => assert_eq!(code, 394, "{}: QUERY_WAS_CANCELLED", d.name()),
            other => panic!("{}: a killed query must fail, got {:?} after {rows} rows", d.name(), other.map(|_| ())),
        }
    }
}

#[test]
fn typed_columns_and_row_streams() {
    let c = modern();
    let sql = "SELECT number * 3 AS n, toString(number) AS s, toFloat64(number) / 2 AS f FROM numbers(200000)";
    let n: Vec<u64> = c.query_column(sql, 0).unwrap();
    assert_eq!(n.len(), 200_000);
    assert!(n.iter().enumerate().all(|(i, v)| *v == 3 * i as u64));
    let s: Vec<String> = c.query_column(sql, 1).unwrap();
    assert_eq!(s[12345], "12345");
    let f: Vec<f64> = c.query_column(sql, 2).unwrap();
    assert_eq!(f[7], 3.5);
    // The wrong Rust type is an error naming the column and its type.
    let e = c.query_column::<i32>(sql, 0).unwrap_err();
    assert!(e.to_string().contains("n") && e.to_string().contains("UInt64"), "{e}");
    assert!(c.query_column::<u64>(sql, 9).is_err());

    let mut count = 0u64;
    let mut total = 0u64;
    c.query_rows(sql, |row| {
        count += 1;
        total += u64::try_from(&row[0])?;
        Ok(())
    })
    .unwrap();
    assert_eq!((count, total), (200_000, 3 * 199_999 * 200_000 / 2));
    // An error from the callback stops the query and comes back.
    let e = c.query_rows(sql, |_| Err(Error::Usage("stop".into()))).unwrap_err();
    assert!(matches!(e, Error::Usage(m) if m == "stop"));
}

#[test]
fn row_streams_pull_rows_and_cancel_when_dropped() {
    let c = Arc::new(modern());
    // All rows, in order, then the end.
    let rows: Vec<u64> = c
        .query_stream("SELECT number FROM numbers(300000)", &CallOptions::new())
        .unwrap()
        .map(|r| u64::try_from(&r.unwrap()[0]).unwrap())
        .collect();
    assert_eq!(rows.len(), 300_000);
    assert!(rows.iter().enumerate().all(|(i, v)| *v == i as u64));
    // Errors come through the iterator.
    let mut s =
        c.query_stream("SELECT throwIf(number = 100000, 'boom') FROM numbers(200000)", &CallOptions::new()).unwrap();
    let err = s.find_map(|r| r.err()).expect("the exception must reach the consumer");
    assert_eq!(err.server_code(), Some(395));
    // Dropping a stream of an endless query cancels it on the server.
    let id = format!("stream-drop-{}", std::process::id());
    let mut s = c
        .query_stream(
            "SELECT number FROM system.numbers",
            &CallOptions::new().query_id(&id).setting("max_block_size", 10000),
        )
        .unwrap();
    for _ in 0..25_000 {
        s.next().unwrap().unwrap();
    }
    drop(s);
    let running = (0..50).find_map(|_| {
        let n = c.command(&format!("SELECT count() FROM system.processes WHERE query_id = '{id}'")).unwrap();
        if n == "0" {
            Some(n)
        } else {
            std::thread::sleep(Duration::from_millis(100));
            None
        }
    });
    assert_eq!(running.as_deref(), Some("0"), "the query is still running after its stream was dropped");
}

#[test]
fn a_statement_with_its_own_format_clause_is_refused_by_name() {
    // The statement's FORMAT wins over the client's Native: the client says so instead of failing to
    // decode the server's text (26.9 names the format in X-ClickHouse-Format).
    // RowBinary bytes can even read as empty Native blocks, or end inside one. 18.16 sends no format
    // header: its Content-Type tells text formats from binary ones, not RowBinary from Native.
    let text = ["SELECT 1 FORMAT TSV", "SELECT number FROM numbers(10) FORMAT JSONEachRow", "SELECT 1 FORMAT CSV"];
    let binary = [
        "SELECT toUInt32(0) AS x FROM numbers(3) FORMAT RowBinary",
        "SELECT toUInt16(0) FORMAT RowBinary",
        "SELECT 1 FORMAT rowbinary",
    ];
    for (var, sqls) in [("CH_MODERN_URL", [&text[..], &binary[..]].concat()), ("CH_LEGACY_URL", text.to_vec())] {
        for c in Driver::both(var) {
            for sql in &sqls {
                let e = c.query(sql).unwrap_err();
                let refused = matches!(&e, Error::Usage(m) if m.contains("raw_query") && m.contains("not Native"));
                assert!(refused, "{var} {} {sql}: {e:?}", c.name());
                let e = c.for_each_block_with(sql, &CallOptions::new(), |_| Ok(())).unwrap_err();
                assert!(matches!(&e, Error::Usage(m) if m.contains("not Native")), "{var} {} {sql}: {e:?}", c.name());
            }
            // raw_query reads it as the server wrote it.
            assert_eq!(c.raw_query_with("SELECT 1 FORMAT TSV", None, &CallOptions::new()).unwrap(), b"1\n");
            // Statements without a result answer text/plain with no body, on every Native path: no
            // rows, not a refusal (the statement ran).
            let t = table("own_format_ddl");
            c.query(&format!("CREATE TABLE {t} (a UInt8) ENGINE = Memory")).unwrap();
            assert!(c.query(&format!("INSERT INTO {t} VALUES (7)")).unwrap().rows.is_empty());
            c.for_each_block_with(&format!("INSERT INTO {t} VALUES (8)"), &CallOptions::new(), |_| Ok(())).unwrap();
            assert_eq!(c.command(&format!("SELECT sum(a) FROM {t}")).unwrap().text, "15");
            c.query(&format!("DROP TABLE {t}")).unwrap();
        }
    }
}

#[test]
fn a_query_context_is_reusable() {
    use clickhouse_connect::QueryContext;
    let c = modern();
    let ctx = QueryContext::new("SELECT getSetting('max_threads'), count() FROM numbers(10)")
        .with_options(CallOptions::new().setting("max_threads", 1));
    for _ in 0..3 {
        let r = ctx.run(&c).unwrap();
        assert_eq!(r.rows[0][1], clickhouse_connect::Value::UInt64(10));
        assert_eq!(u64::try_from(&r.rows[0][0]).unwrap(), 1);
    }
}

#[test]
fn native_blocks_come_with_their_exact_bytes() {
    // Several blocks of several types: the blocks' bytes, joined, are the server's own Native output.
    let sql = "SELECT number, toString(number) s, if(number % 3 = 0, NULL, number) n, range(number % 4) a, \
               map(toString(number % 5), number) m, toLowCardinality(toString(number % 50)) lc \
               FROM numbers(200000) SETTINGS max_block_size = 30000";
    for comp in [clickhouse_connect::Compression::None, clickhouse_connect::Compression::Lz4] {
        let mut o = options("CH_MODERN_URL");
        o.compression = comp.clone();
        let c = clickhouse_connect::Client::new(o).unwrap();
        let server = c.raw_query(sql, Some("Native")).unwrap();
        let (mut joined, mut blocks, mut rows) = (Vec::new(), 0, 0);
        c.query_native_blocks_with(sql, &CallOptions::new(), |block, raw| {
            blocks += 1;
            rows += block.rows();
            joined.extend_from_slice(raw);
            Ok(())
        })
        .unwrap();
        assert_eq!((blocks, rows), (7, 200_000), "{comp:?}");
        assert!(joined == server, "{comp:?}: {} bytes vs the server's {}", joined.len(), server.len());
    }
    // 18.16 sends no BlockInfo: the blocks' bytes are simply the response.
    let c = legacy();
    let sql = "SELECT number, toString(number) s, [number, 1] a FROM system.numbers LIMIT 150000";
    let server = c.raw_query(sql, Some("Native")).unwrap();
    let mut joined = Vec::new();
    c.query_native_blocks_with(sql, &CallOptions::new(), |_, raw| {
        joined.extend_from_slice(raw);
        Ok(())
    })
    .unwrap();
    assert!(joined == server, "18.16: {} bytes vs the server's {}", joined.len(), server.len());
}
