//! The streaming inserter against the real server: complete arrival (count and checksum checked by the
//! server), bounded client memory, and a rejection mid-stream that surfaces as an error with the table
//! holding only what the server committed.

//! Each test with an async counterpart runs on both drivers (the blocking `Inserter` and the
//! `AsyncInserter`).

mod common;
#[path = "common/drivers.rs"]
mod drivers;

use clickhouse_connect::{CallOptions, Client, Compression, ContentEncoding, Error, Value};
use common::*;
use drivers::Driver;
use std::time::Duration;

fn stream_rows(c: &Driver, t: &str, n: u64) -> clickhouse_connect::InsertSummary {
    let mut ins = c.open_inserter(t, &[], 65_536, &CallOptions::new()).unwrap();
    for i in 0..n {
        ins.write(&[Value::from(i), Value::from(format!("row {i}"))]).unwrap();
    }
    ins.end().unwrap()
}

#[test]
fn streamed_rows_arrive_complete_in_every_compression_mode() {
    for mode in ["none", "lz4", "zstd", "gzip", "deflate", "http-zstd", "http-lz4"] {
        for c in Driver::both_with("CH_MODERN_URL", |o| o.compression = Compression::parse(mode).unwrap()) {
            let mode = format!("{mode} {}", c.name());
            let t = table("ins");
            c.command(&format!("CREATE TABLE {t} (id UInt64, s String) ENGINE = MergeTree ORDER BY id")).unwrap();
            let n = 300_000u64;
            let s = stream_rows(&c, &t, n);
            assert_eq!((s.rows, s.blocks), (n, n.div_ceil(65_536)));
            assert_eq!(s.server.map(|x| x.written_rows), Some(n), "{mode}");
            let check = c
            .command(&format!(
                "SELECT count(), sum(id), sum(cityHash64(s)) = (SELECT sum(cityHash64(concat('row ', toString(number)))) FROM numbers({n})) FROM {t}"
            ))
            .unwrap();
            let want = c.command(&format!("SELECT count(), sum(number), 1 FROM numbers({n})")).unwrap();
            assert_eq!(check, want, "{mode}");
            c.command(&format!("DROP TABLE {t}")).unwrap();
        }
    }
}

#[test]
fn a_long_stream_keeps_client_memory_bounded() {
    // 20M rows (~400 MB of Native) through one request into a Null table; the client holds one block of
    // builders and at most two encoded blocks.
    // (The async inserter's memory: tests/async_memory.rs, a binary of its own.)
    let c = Driver::Blocking(Box::new(modern()));
    let t = table("ins_null");
    c.command(&format!("CREATE TABLE {t} (id UInt64, s String) ENGINE = Null")).unwrap();
    let s = stream_rows(&c, &t, 20_000_000);
    assert_eq!(s.rows, 20_000_000);
    assert_eq!(s.server.map(|x| x.written_rows), Some(20_000_000));
    let peak = peak_rss_kib();
    eprintln!("peak RSS {} MiB for {} MB sent", peak / 1024, s.bytes / 1_000_000);
    assert!(peak < 100 * 1024, "peak RSS {peak} KiB");
    c.command(&format!("DROP TABLE {t}")).unwrap();
}

#[test]
fn a_rejection_mid_stream_is_an_error_and_the_table_holds_what_was_committed() {
    for c in Driver::both("CH_MODERN_URL") {
        let t = table("ins_reject");
        // The server rejects any block containing id >= 300000.
        c.command(&format!(
            "CREATE TABLE {t} (id UInt64, s String, CONSTRAINT small CHECK id < 300000) ENGINE = MergeTree ORDER BY id"
        ))
        .unwrap();
        let mut ins = c.open_inserter(&t, &[], 100_000, &CallOptions::new()).unwrap();
        let mut error = None;
        for i in 0..1_000_000u64 {
            if let Err(e) = ins.write(&[Value::from(i), Value::from("x")]) {
                error = Some(e);
                break;
            }
        }
        let e = match error {
            Some(e) => {
                // The inserter is finished: every later call returns the same error, `end` included.
                let again = ins.write(&[Value::from(1u64), Value::from("x")]).unwrap_err();
                assert_eq!(again.to_string(), e.to_string());
                assert_eq!(ins.end().unwrap_err().to_string(), e.to_string());
                e
            }
            None => ins.end().expect_err("the server must reject the insert"),
        };
        match &e {
            Error::Insert { cause, acknowledged_rows: 0, acknowledged_requests: 0, .. } => match cause.as_ref() {
                Error::Server { code, message, .. } => assert!(*code == 469 || message.contains("small"), "{e}"),
                other => panic!("expected the server's constraint error, got {other:?}"),
            },
            other => panic!("expected an insert error, got {other:?}"),
        }
        assert_eq!(e.server_code(), Some(469));
        // Whatever the server committed is all there is: whole blocks below the limit, nothing after.
        let committed: u64 = c.command(&format!("SELECT count() FROM {t}")).unwrap().parse().unwrap();
        assert!(committed % 100_000 == 0 && committed <= 300_000, "{committed}");
        assert_eq!(c.command(&format!("SELECT countIf(id >= 300000) FROM {t}")).unwrap(), "0");
        c.command(&format!("DROP TABLE {t}")).unwrap();
    }
}

#[test]
fn a_bad_value_is_refused_whole_and_the_insert_goes_on() {
    for c in Driver::both("CH_MODERN_URL") {
        let t = table("ins_bad");
        // The bad value is in the last columns, after others took theirs: none of the row may remain.
        c.command(&format!("CREATE TABLE {t} (s String, a Array(UInt8), id UInt8) ENGINE = MergeTree ORDER BY id"))
            .unwrap();
        let mut ins = c.open_inserter(&t, &[], 1000, &CallOptions::new()).unwrap();
        let arr = |v: &[u64]| Value::Array(v.iter().map(|&x| Value::from(x)).collect());
        ins.write(&[Value::from("a"), arr(&[1]), Value::from(1u8)]).unwrap();
        let e = ins.write(&[Value::from("b"), arr(&[2]), Value::from(300u64)]).unwrap_err();
        assert!(matches!(&e, Error::Input { row: 2, column: Some(c), .. } if c == "id"), "{e}");
        let e = ins.write(&[Value::from("b"), arr(&[3, 300]), Value::from(3u8)]).unwrap_err();
        assert!(matches!(&e, Error::Input { row: 2, column: Some(c), .. } if c == "a"), "{e}");
        ins.write(&[Value::from("c"), arr(&[4, 5]), Value::from(2u8)]).unwrap();
        assert_eq!(ins.end().unwrap().rows, 2);
        assert_eq!(
            c.command(&format!("SELECT groupArray((s, a, id)) FROM (SELECT * FROM {t} ORDER BY id)")).unwrap(),
            "[('a',[1],1),('c',[4,5],2)]"
        );
        c.command(&format!("DROP TABLE {t}")).unwrap();
    }
}

#[test]
fn limits_split_the_stream_into_requests_and_column_batches_work() {
    use clickhouse_connect::RequestLimits;
    let c = modern();
    let t = table("ins_split");
    c.command(&format!("CREATE TABLE {t} (id UInt64, s String) ENGINE = MergeTree ORDER BY id")).unwrap();
    let mut ins = c
        .inserter(&t, &[], 10_000)
        .unwrap()
        .with_request_limits(RequestLimits { max_rows: Some(50_000), ..Default::default() });
    let ids: Vec<Value> = (0..200_000u64).map(Value::from).collect();
    let names: Vec<Value> = (0..200_000u64).map(|i| Value::from(format!("n{i}"))).collect();
    ins.write_columns(&[&ids, &names]).unwrap();
    let s = ins.end().unwrap();
    assert_eq!((s.rows, s.blocks, s.requests), (200_000, 20, 4));
    assert_eq!(s.server.map(|x| x.written_rows), Some(200_000), "summaries of all requests add up");
    // The server saw four INSERT queries for this table.
    c.command("SYSTEM FLUSH LOGS").unwrap();
    let inserts = c
        .command(&format!(
            "SELECT count() FROM system.query_log WHERE type = 'QueryFinish' AND query_kind = 'Insert' AND has(tables, 'default.{t}')"
        ))
        .unwrap();
    assert_eq!(inserts, "4");
    assert_eq!(c.command(&format!("SELECT count(), uniqExact(s) FROM {t}")).unwrap(), "200000\t200000");
    c.command(&format!("DROP TABLE {t}")).unwrap();
}

#[test]
fn deduplication_tokens_and_async_inserts_pass_through() {
    for c in Driver::both("CH_MODERN_URL") {
        let t = table("ins_dedup");
        c.command(&format!(
        "CREATE TABLE {t} (id UInt64) ENGINE = MergeTree ORDER BY id SETTINGS non_replicated_deduplication_window = 100"
    ))
    .unwrap();
        let rows: Vec<Vec<Value>> = (0..10u64).map(|i| vec![Value::from(i)]).collect();
        let opts = CallOptions::new().setting("insert_deduplication_token", "batch-1");
        c.insert_with(&t, &[], &rows, &opts).unwrap();
        c.insert_with(&t, &[], &rows, &opts).unwrap(); // the same token: deduplicated by the server
        assert_eq!(c.command(&format!("SELECT count() FROM {t}")).unwrap(), "10");
        let opts = CallOptions::new().setting("async_insert", 1).setting("wait_for_async_insert", 1);
        let mut ins = c.open_inserter(&t, &[], 1000, &opts).unwrap();
        ins.write(&[Value::from(99u64)]).unwrap();
        ins.end().unwrap();
        assert_eq!(c.command(&format!("SELECT count() FROM {t}")).unwrap(), "11", "{}", c.name());
        c.command(&format!("DROP TABLE {t}")).unwrap();
    }
}

#[test]
fn the_server_going_away_mid_insert_is_an_error() {
    for driver in ["blocking", "async"] {
        let proxy = FlakyProxy::start(&env("CH_MODERN_URL"));
        let c = Driver::both_with("CH_MODERN_URL", |o| {
            o.host = "127.0.0.1".into();
            o.port = Some(proxy.port);
        })
        .into_iter()
        .find(|d| d.name() == driver)
        .unwrap();
        let t = table("ins_gone");
        c.command(&format!("CREATE TABLE {t} (id UInt64, s String) ENGINE = MergeTree ORDER BY id")).unwrap();
        let mut ins = c.open_inserter(&t, &[], 10_000, &CallOptions::new()).unwrap();
        for i in 0..25_000u64 {
            ins.write(&[Value::from(i), Value::from("x")]).unwrap();
        }
        proxy.fail_next(usize::MAX); // cut the request's connection, refuse new ones
        let mut result = Ok(());
        for i in 25_000..200_000u64 {
            result = ins.write(&[Value::from(i), Value::from("x")]);
            if result.is_err() {
                break;
            }
        }
        let e = match result {
            Err(e) => {
                // Writing on after the error never opens a new request: every call returns the same error.
                let again = ins.write(&[Value::from(1u64), Value::from("x")]).unwrap_err();
                assert_eq!(again.to_string(), e.to_string());
                assert_eq!(ins.end().unwrap_err().to_string(), e.to_string());
                e
            }
            Ok(()) => ins.end().expect_err("an insert whose connection was cut must not succeed"),
        };
        let Error::Insert { cause, acknowledged_rows: 0, .. } = &e else { panic!("{e:?}") };
        assert!(matches!(**cause, Error::Transport { .. } | Error::Server { .. } | Error::Http { .. }), "{e:?}");
        let direct = modern();
        let committed: u64 = direct.command(&format!("SELECT count() FROM {t}")).unwrap().parse().unwrap();
        assert!(
            committed % 10_000 == 0 && committed <= 20_000,
            "{driver}: only whole blocks sent before the cut: {committed}"
        );
        direct.command(&format!("DROP TABLE {t}")).unwrap();
    }
}

#[test]
fn encoded_native_blocks_are_sent_as_they_are_in_every_compression_mode() {
    use clickhouse_connect::native::BlockDecoder;
    let server = modern();
    let native =
        server.raw_query("SELECT number AS id, toString(number) AS s FROM numbers(1000)", Some("Native")).unwrap();
    let reordered =
        server.raw_query("SELECT toString(number) AS s, number AS id FROM numbers(10)", Some("Native")).unwrap();
    for comp in [Compression::None, Compression::Lz4, Compression::Zstd, Compression::Http(ContentEncoding::Gzip)] {
        let mut o = options("CH_MODERN_URL");
        o.compression = comp.clone();
        let c = Client::new(o).unwrap();
        let t = table("ins_native");
        c.command(&format!("CREATE TABLE {t} (id UInt64, s String) ENGINE = Memory")).unwrap();
        let mut ins = c.inserter(&t, &[], 100).unwrap();
        ins.write(&[Value::from(5000u64), Value::from("5000")]).unwrap(); // flushed before the block
        let mut d = BlockDecoder::new();
        let mut bytes = &native[..];
        let block = d.feed(&mut bytes).unwrap().unwrap();
        assert!(bytes.is_empty(), "one block");
        assert!(ins.native_mismatch(&block).is_none());
        ins.write_native_block(&block, &native).unwrap();
        // A block in another column order is refused, naming the column, and nothing of it is sent.
        let mut d2 = BlockDecoder::new();
        let other = d2.feed(&mut &reordered[..]).unwrap().unwrap();
        let e = ins.write_native_block(&other, &reordered).unwrap_err().to_string();
        assert!(e.contains("column s String where id UInt64 was expected"), "{e}");
        let s = ins.end().unwrap();
        assert_eq!((s.rows, s.blocks), (1001, 2), "{comp:?}");
        let check = format!("SELECT count(), sum(id), countIf(s != toString(id)) FROM {t}");
        assert_eq!(c.command(&check).unwrap(), format!("1001\t{}\t0", 5000 + (0..1000u64).sum::<u64>()), "{comp:?}");
        c.command(&format!("DROP TABLE {t}")).unwrap();
    }
}

#[test]
fn exactly_once_needs_deduplication_tokens_and_a_fresh_inserter() {
    let old = legacy();
    let t = table("ins_eo_legacy");
    old.command(&format!("CREATE TABLE {t} (id UInt64) ENGINE = Memory")).unwrap();
    let e = old.inserter(&t, &[], 10).unwrap().exactly_once("s", 0).err().expect("18.16 has no tokens");
    assert!(e.to_string().contains("22.3"), "{e}");
    old.command(&format!("DROP TABLE {t}")).unwrap();
    let c = modern();
    let t = table("ins_eo_late");
    c.command(&format!("CREATE TABLE {t} (id UInt64) ENGINE = Memory")).unwrap();
    let mut ins = c.inserter(&t, &[], 10).unwrap();
    ins.write(&[Value::from(1u64)]).unwrap();
    assert!(ins.exactly_once("s", 0).is_err(), "chosen after rows were written");
    let e = c.inserter(&t, &[], 10).unwrap().exactly_once("", 0).err().expect("an empty stream id");
    assert!(e.to_string().contains("stream id"), "{e}");
    c.command(&format!("DROP TABLE {t}")).unwrap();
}

/// A streaming insert takes its session's turn like every call: while its request is open, a call in
/// the same session is refused at once with an error that says why (not sent for the server to refuse
/// with SESSION_IS_LOCKED, and not left waiting for a request that only the caller can end); after
/// it, calls in the session run. The call's progress callback hears the insert's progress headers.
#[test]
fn inserter_requests_take_their_session_turn_and_report_progress() {
    let c = modern();
    let t = table("ins_session");
    c.command(&format!("CREATE TABLE {t} (id UInt64, s String) ENGINE = Memory")).unwrap();
    let session = format!("ins-session-{}", std::process::id());
    let heard = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let h = heard.clone();
    let opts = clickhouse_connect::CallOptions::new().session(session.clone()).on_progress(move |_| {
        h.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    });
    let mut ins = c.inserter_with(&t, &[], 1000, &opts).unwrap();
    for i in 0..1000u64 {
        ins.write(&[Value::from(i), Value::from(format!("row {i}"))]).unwrap();
    }
    // The request is open now (a whole block went). From this thread and from another.
    let in_session = clickhouse_connect::CallOptions::new().session(session.clone());
    let e = c.query_with("SELECT 1", &in_session).unwrap_err();
    assert!(matches!(&e, Error::Usage(m) if m.contains("busy with an open insert request")), "{e}");
    let e = std::thread::scope(|s| s.spawn(|| c.command_with("SELECT 1", &in_session)).join().unwrap()).unwrap_err();
    assert!(matches!(&e, Error::Usage(m) if m.contains("busy with an open insert request")), "{e}");
    // Progress headers come every 100 ms while the server reads the body.
    std::thread::sleep(Duration::from_millis(400));
    for i in 1000..2000u64 {
        ins.write(&[Value::from(i), Value::from(format!("row {i}"))]).unwrap();
    }
    ins.end().unwrap();
    let r = c.query_with(&format!("SELECT count() FROM {t}"), &in_session).unwrap();
    assert_eq!(r.rows[0][0], Value::UInt64(2000));
    assert!(heard.load(std::sync::atomic::Ordering::Relaxed) > 0, "no progress reported for the insert");
}

/// A query's block callback that feeds an inserter in the query's own session cannot wait for the
/// session's turn (only this thread could end the query): the insert goes without one, as before the
/// client serialised sessions, and the server decides. It never hangs.
#[test]
fn an_inserter_fed_from_a_query_in_its_own_session_does_not_wait_for_itself() {
    let c = std::sync::Arc::new(modern());
    let t = table("ins_self_session");
    c.command(&format!("CREATE TABLE {t} (id UInt64, s String) ENGINE = Memory")).unwrap();
    let session = format!("ins-self-{}", std::process::id());
    let (tx, rx) = std::sync::mpsc::channel();
    let (c2, t2) = (c.clone(), t.clone());
    std::thread::spawn(move || {
        let opts = clickhouse_connect::CallOptions::new().session(session);
        let outcome = (|| {
            let mut ins = c2.inserter_with(&t2, &[], 1000, &opts)?;
            c2.query_blocks_with("SELECT number FROM numbers(5000) SETTINGS max_block_size = 1000", &opts, |b| {
                let col = b.columns()[0].column();
                for r in 0..b.rows() {
                    ins.write(&[col.value(r).into_owned(), Value::from("x")])?;
                }
                Ok(())
            })?;
            ins.end()
        })();
        let _ = tx.send(outcome.map(|s| s.rows));
    });
    let outcome = rx.recv_timeout(Duration::from_secs(60)).expect("the insert inside the query's callback hung");
    match outcome {
        // The server let the session go (the query's response was complete) or refused it while busy.
        Ok(rows) => {
            assert_eq!(rows, 5000);
            let n = c.query(&format!("SELECT count() FROM {t}")).unwrap().rows[0][0].clone();
            assert_eq!(n, Value::UInt64(5000));
        }
        Err(e) => assert_eq!(e.server_code(), Some(373), "{e}"),
    }
}

/// A row stream's query holds its session for the thread that reads the rows: that thread's own call in
/// the session meanwhile does not wait for the stream (it could never end: the stream waits for the
/// reader); it goes, and the server decides. It never hangs.
#[test]
fn a_call_between_the_rows_of_a_stream_in_its_session_does_not_wait_for_the_stream() {
    let c = std::sync::Arc::new(modern());
    let session = format!("stream-self-{}", std::process::id());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let opts = clickhouse_connect::CallOptions::new().session(session);
        let outcome = (|| {
            let mut stream =
                c.query_stream("SELECT number FROM numbers(2000000) SETTINGS max_block_size = 1000", &opts)?;
            let first = stream.next().expect("a first row")?;
            let nested = c.query_with("SELECT 1", &opts).map(|r| r.rows[0][0].clone().into_owned());
            let rest = stream.count();
            Ok::<_, Error>((first, nested, rest))
        })();
        let _ = tx.send(outcome);
    });
    let (first, nested, rest) =
        rx.recv_timeout(Duration::from_secs(60)).expect("a call between a stream's rows hung").unwrap();
    assert_eq!(first[0], Value::UInt64(0));
    match nested {
        Ok(v) => assert_eq!(v, Value::UInt8(1)),
        Err(e) => assert_eq!(e.server_code(), Some(373), "{e}"),
    }
    assert_eq!(rest, 1_999_999);
}

#[test]
fn defaults_as_nulls_uses_the_inserters_own_description_and_needs_a_converting_server() {
    // The description an inserter was made from stays its own: forgetting the client's kept columns
    // (or another insert failing meanwhile) does not turn the defaults off.
    let c = modern();
    let t = table("ins_defaults");
    c.command(&format!("CREATE TABLE {t} (x UInt8, d UInt64 DEFAULT 42, s String DEFAULT 'dflt') ENGINE = Memory"))
        .unwrap();
    let ins = c.inserter(&t, &[], 10).unwrap();
    c.forget_table_columns(None);
    let mut ins = ins.defaults_as_nulls().unwrap();
    ins.write(&[Value::from(1u8), Value::Null, Value::Null]).unwrap();
    ins.write(&[Value::from(2u8), Value::from(7u64), Value::from("given")]).unwrap();
    ins.end().unwrap();
    assert_eq!(
        c.command(&format!("SELECT groupArray((x, d, s)) FROM (SELECT * FROM {t} ORDER BY x)")).unwrap(),
        "[(1,42,'dflt'),(2,7,'given')]"
    );
    c.command(&format!("DROP TABLE {t}")).unwrap();
    // 18.16 stores a Nullable block's bytes into the table's column as they are (no conversion of
    // Native types before 23.3): refused, and the table stays whole.
    let l = legacy();
    let t = table("ins_defaults_legacy");
    l.command(&format!("CREATE TABLE {t} (x UInt8, d UInt64 DEFAULT 42) ENGINE = Memory")).unwrap();
    let e = l.inserter(&t, &[], 10).unwrap().defaults_as_nulls().err().expect("refused on 18.16");
    assert!(e.to_string().contains("23.3"), "{e}");
    let mut ins = l.inserter(&t, &[], 10).unwrap();
    ins.write(&[Value::from(1u8), Value::from(7u64)]).unwrap();
    ins.end().unwrap();
    assert_eq!(l.command(&format!("SELECT x, d FROM {t}")).unwrap(), "1\t7");
    l.command(&format!("DROP TABLE {t}")).unwrap();
}

#[test]
fn a_database_setting_decides_the_table_described_and_inserted() {
    let c = modern();
    let db = table("ins_db");
    let t = table("ins_db_t");
    c.command(&format!("CREATE DATABASE {db}")).unwrap();
    c.command(&format!("CREATE TABLE {t} (x String) ENGINE = Memory")).unwrap();
    c.command(&format!("CREATE TABLE {db}.{t} (x UInt8) ENGINE = Memory")).unwrap();
    // "300" fits `default`'s String column, not `db`'s UInt8 one: the insert goes to `db`, described there.
    let opts = CallOptions::new().setting("database", &db);
    let e = c.insert_with(&t, &[], &[vec![Value::from("300")]], &opts).unwrap_err();
    assert!(e.to_string().contains("UInt8"), "{e}");
    c.insert_with(&t, &[], &[vec![Value::from("30")]], &opts).unwrap();
    assert_eq!(c.command(&format!("SELECT groupArray(x) FROM {db}.{t}")).unwrap(), "[30]");
    assert_eq!(c.command(&format!("SELECT count() FROM {t}")).unwrap(), "0");
    c.command(&format!("DROP DATABASE {db}")).unwrap();
    c.command(&format!("DROP TABLE {t}")).unwrap();
}

#[test]
fn a_failed_request_counts_each_row_once() {
    // One row per request; the table made again with another type before the second: the second
    // request is refused. The error's counts add up to the rows written, each counted once, and say
    // what the server holds.
    use clickhouse_connect::RequestLimits;
    let admin = modern();
    let t = table("ins_counts");
    admin.command(&format!("CREATE TABLE {t} (n UInt16) ENGINE = Memory")).unwrap();
    let mut ins = admin
        .inserter(&t, &[], 10)
        .unwrap()
        .with_request_limits(RequestLimits { max_rows: Some(1), ..Default::default() });
    ins.write(&[Value::from(1u16)]).unwrap();
    ins.flush().unwrap();
    admin.command(&format!("ALTER TABLE {t} MODIFY COLUMN n UInt8")).unwrap();
    ins.write(&[Value::from(300u16)]).unwrap();
    let e = ins.flush().and_then(|()| ins.end().map(|_| ())).unwrap_err();
    let stored = admin.command(&format!("SELECT count() FROM {t}")).unwrap();
    admin.command(&format!("DROP TABLE {t}")).unwrap();
    match e {
        Error::Insert { acknowledged_rows, unacknowledged_rows, unsent_rows, ref cause, .. } => {
            assert_eq!(acknowledged_rows + unacknowledged_rows + unsent_rows, 2, "{e}");
            assert_eq!(acknowledged_rows, 1, "{e}");
            assert_eq!(cause.server_code(), Some(53), "{e}");
        }
        other => panic!("{other}"),
    }
    assert_eq!(stored, "1");
}
