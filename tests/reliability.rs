//! Regression tests for the trust findings that are not about broken connections (those are in
//! `tests/faults.rs`): server exceptions inside compressed responses, long queries with progress, the
//! per-call deadline, secrets in messages, bounded error messages and block memory, and time zones.

mod common;
#[path = "common/drivers.rs"]
mod drivers;

use clickhouse_connect::format::{TextParser, TextRenderer};
use clickhouse_connect::native::TypeDesc;
use clickhouse_connect::{CallOptions, Client, ClientOptions, Compression, ContentEncoding, Error, Value};
use common::{modern, options, table};
use drivers::Driver;
use std::time::{Duration, Instant};

fn every_compression() -> Vec<Compression> {
    let mut all = vec![Compression::None, Compression::Lz4, Compression::Zstd];
    for e in [
        ContentEncoding::Gzip,
        ContentEncoding::Deflate,
        ContentEncoding::Br,
        ContentEncoding::Zstd,
        ContentEncoding::Lz4,
    ] {
        all.push(Compression::Http(e));
    }
    all
}

#[test]
fn server_exceptions_are_found_after_decompression_in_every_mode() {
    for comp in every_compression() {
        for c in Driver::both_with("CH_MODERN_URL", |o| o.compression = comp.clone()) {
            let comp = format!("{comp:?} {}", c.name());
            // Raised after data started (status 200, the exception inside the compressed stream) …
            let e = c
                .count_blocks_with(
                    "SELECT throwIf(number = 3000000, 'boom after data'), rand64() FROM numbers(5000000)",
                    &CallOptions::new(),
                )
                .unwrap_err();
            assert_eq!(e.server_code(), Some(395), "{comp:?}: {e}");
            assert!(e.to_string().contains("boom after data"), "{comp:?}: {e}");
            // … and before (status 500 with a compressed body).
            let e = c.query("SELECT throwIf(number = 30000, 'boom early') FROM numbers(50000)").unwrap_err();
            assert_eq!(e.server_code(), Some(395), "{comp:?}: {e}");
            assert!(e.to_string().contains("boom early"), "{comp:?}: {e}");
            let e = c.raw_query_with("SELECT throwIf(1, 'boom raw')", Some("Native"), &CallOptions::new()).unwrap_err();
            assert!(e.to_string().contains("boom raw"), "{comp:?}: {e}");
            // The other direction: a compressed insert body the server rejects.
            let t = table("rel_insert_exc");
            c.command(&format!("CREATE TABLE {t} (id UInt64, CONSTRAINT c CHECK id < 5) ENGINE = Memory")).unwrap();
            let rows: Vec<Vec<Value>> = (0..10u64).map(|i| vec![Value::from(i)]).collect();
            let e = c.insert(&t, &[], &rows).unwrap_err();
            assert_eq!(e.server_code(), Some(469), "{comp:?}: {e}");
            let e = c.inserter(&t, &[], 3, &rows, &CallOptions::new()).unwrap_err();
            assert_eq!(e.server_code(), Some(469), "{comp:?}: {e}");
            c.command(&format!("DROP TABLE {t}")).unwrap();
        }
    }
}

/// An exception raised before the server started its response, after it had produced result data in
/// small blocks: status 500, with the data ahead of the exception text in the body (compressed like it,
/// in frame modes, and far longer than the client keeps of an error body's start). The error is the
/// server's exception, whole and short, never the data or the compressed bytes — on 26.9 and 18.16.
#[test]
fn an_exception_behind_result_data_in_an_error_response_is_the_error_in_every_mode() {
    for url in ["CH_MODERN_URL", "CH_LEGACY_URL"] {
        for comp in every_compression() {
            for c in Driver::both_with(url, |o| o.compression = comp.clone()) {
                let comp = format!("{comp:?} {}", c.name());
                let opts = CallOptions::new().setting("max_block_size", "1000");
                // (18.16's throwIf takes no message.) The second query's data looks like exceptions of
                // another code, in both servers' wordings, in every row.
                let sql = "SELECT number, throwIf(number = 100000) FROM numbers(200000)";
                let shaped = "SELECT 'Code: 60. DB::Exception: Table default.x does not exist. (UNKNOWN_TABLE) \
                (version 26.9.2.1)' AS a, 'Code: 60, e.displayText() = DB::Exception: x' || toString(number) AS b, \
                number, throwIf(number = 100000) FROM numbers(200000)";
                let results = [
                    c.raw_query_with(sql, Some("TabSeparated"), &opts).map(|_| ()),
                    c.raw_query_with(sql, Some("Native"), &opts).map(|_| ()),
                    c.count_blocks_with(sql, &opts).map(|_| ()),
                    c.raw_query_with(shaped, Some("TabSeparated"), &opts).map(|_| ()),
                    c.count_blocks_with(shaped, &opts).map(|_| ()),
                    c.command_with(shaped, &opts).map(|_| ()),
                    c.query_with(shaped, &opts).map(|_| ()),
                ];
                for r in results {
                    let e = r.expect_err("the query fails");
                    let text = e.to_string();
                    assert_eq!(e.server_code(), Some(395), "{url} {comp:?}: {text:.300}");
                    assert!(text.contains("Value passed to 'throwIf' function is non"), "{url} {comp:?}: {text:.300}");
                    assert!(text.len() < 2000, "{url} {comp:?}: {} bytes: {text:.300}", text.len());
                }
            }
        }
    }
}

#[test]
fn long_queries_with_progress_are_not_stalls_and_stream_without_waiting_for_the_end() {
    // 2.5 s before the first result byte, with a 1 s stall timeout: progress headers keep it alive.
    let sql = "SELECT count() FROM numbers(25) WHERE NOT ignore(sleepEachRow(0.1)) SETTINGS max_block_size = 5";
    let quiet = Driver::both_with("CH_MODERN_URL", |o| o.send_receive_timeout = Duration::from_secs(1));
    let progress = Driver::both_with("CH_MODERN_URL", |o| {
        o.send_receive_timeout = Duration::from_secs(1);
        o.send_progress = true;
    });
    for (quiet, c) in quiet.iter().zip(&progress) {
        let ctx = c.name();
        let e = quiet.query(sql).unwrap_err();
        assert!(
            matches!(e, Error::Transport { timeout: true, stall: true, .. }),
            "{ctx}: without progress this is a stall: {e}"
        );
        let id = format!("progress-{}", table("q"));
        let r = c.count_blocks_with(sql, &CallOptions::new().query_id(&id));
        assert!(r.is_ok(), "{ctx}: {r:?}");
        let seen = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let s = seen.clone();
        let opts = CallOptions::new().on_progress(move |p| {
            s.fetch_max(p.read_rows, std::sync::atomic::Ordering::Relaxed);
        });
        quiet.query_with(sql, &opts).unwrap();
        assert!(seen.load(std::sync::atomic::Ordering::Relaxed) > 0, "{ctx}");
        // A streaming query does not make the server buffer its whole result.
        let server = modern();
        server.command("SYSTEM FLUSH LOGS").unwrap();
        let waited = server
            .command(&format!(
                "SELECT Settings['wait_end_of_query'] FROM system.query_log WHERE query_id = '{id}' AND type = 'QueryFinish'"
            ))
            .unwrap();
        assert_eq!(waited, "", "{ctx}: wait_end_of_query was sent for a streaming query");
    }
}

#[test]
fn a_call_deadline_cuts_off_a_server_that_trickles() {
    // A row every 0.2 s for 20 s: data keeps moving, so only a deadline ends it.
    let sql = "SELECT number, sleepEachRow(0.2) FROM numbers(100) SETTINGS max_block_size = 1, output_format_parallel_formatting = 0";
    for c in Driver::both("CH_MODERN_URL") {
        let ctx = c.name();
        let started = Instant::now();
        let e = c.count_blocks_with(sql, &CallOptions::new().timeout(Duration::from_millis(1500))).unwrap_err();
        let took = started.elapsed();
        // Data kept moving: a deadline, not a stall.
        assert!(matches!(e, Error::Transport { timeout: true, stall: false, .. }), "{ctx}: {e}");
        assert!(e.to_string().contains("deadline"), "{ctx}: {e}");
        assert!(took >= Duration::from_millis(1400) && took < Duration::from_secs(4), "{ctx}: {took:?}");
    }
    // The client's default applies to every call.
    for c in Driver::both_with("CH_MODERN_URL", |o| o.timeout = Some(Duration::from_secs(1))) {
        let started = Instant::now();
        let e = c.command("SELECT sleepEachRow(0.5) FROM numbers(6) FORMAT Null").unwrap_err();
        assert!(matches!(e, Error::Transport { timeout: true, .. }), "{}: {e}", c.name());
        assert!(started.elapsed() < Duration::from_secs(3), "{}: {:?}", c.name(), started.elapsed());
    }
}

#[test]
fn passwords_never_appear_in_messages_or_debug_output() {
    let secret = "Sup3r-S3cret-pw";
    for url in [
        format!("bob:{secret}@127.0.0.1:8123"),
        format!("ftp://bob:{secret}@127.0.0.1"),
        format!("http://bob:{secret}%zz@127.0.0.1"),
        format!("http://bob:{secret}@127.0.0.1:notaport"),
        format!("http://bob:{secret}@"),
        format!("http://bob:{secret}/x@127.0.0.1"),
        format!("http://bob:{secret}@127.0.0.1:1/?query_retries=x"),
    ] {
        let e = ClientOptions::from_url(&url).map(|_| ()).unwrap_err();
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains(secret), "{url}: {shown}");
    }
    // Options and a failed connection.
    let o = ClientOptions::from_url(&format!("http://bob:{secret}@127.0.0.1:1/db")).unwrap();
    assert!(!format!("{o:?}").contains(secret));
    let e = Client::new(o).unwrap_err();
    assert!(!format!("{e} {e:?}").contains(secret), "{e:?}");
    // (The transport's own options, internal since the kernel reshaping, are checked the same way by
    // the unit test `transport::tests::debug_never_shows_secrets`.)
    // A wrong password, against the real server.
    let mut o = options("CH_MODERN_URL");
    o.username = common::env("CH_PASSWORD_USER");
    o.password = secret.into();
    let e = Client::new(o.clone()).unwrap_err();
    assert_eq!(e.server_code(), Some(516), "{e}");
    assert!(!format!("{e} {e:?}").contains(secret), "{e:?}");
    // The async client: its connect error, and its Debug output when connected.
    let rt = drivers::runtime();
    let e = rt.block_on(clickhouse_connect::AsyncClient::connect(o)).unwrap_err();
    assert_eq!(e.server_code(), Some(516), "{e}");
    assert!(!format!("{e} {e:?}").contains(secret), "{e:?}");
    let mut o = options("CH_MODERN_URL");
    o.username = common::env("CH_PASSWORD_USER");
    o.password = common::env("CH_PASSWORD");
    let a = rt.block_on(clickhouse_connect::AsyncClient::connect(o)).unwrap();
    assert_eq!(rt.block_on(a.command("SELECT 1")).unwrap(), "1");
    assert!(!format!("{a:?}").contains(&common::env("CH_PASSWORD")), "{a:?}");
}

#[test]
fn error_messages_quote_little_and_blocks_have_a_memory_ceiling() {
    // A 30 MB malformed value is not echoed.
    let big = "9".repeat(30 << 20);
    let mut p = TextParser::new("UTC");
    let e = p.tsv_field(big.as_bytes(), &TypeDesc::parse("UInt64").unwrap()).unwrap_err();
    assert!(e.len() < 400, "{} bytes", e.len());
    assert!(e.contains("bytes in all"), "{e}");
    let v = Value::from(big.as_str());
    assert!(format!("{v:?}").len() < 300);
    let c = modern();
    let t = table("rel_big_value");
    c.command(&format!("CREATE TABLE {t} (e Enum8('a' = 1)) ENGINE = Memory")).unwrap();
    let e = c.insert(&t, &[], &[vec![Value::from(big.as_str())]]).unwrap_err();
    assert!(e.to_string().len() < 600, "{} bytes", e.to_string().len());
    c.command(&format!("DROP TABLE {t}")).unwrap();

    // One block of 20M short strings (~40 MB on the wire, ~180 MB decoded) against a 64 MiB ceiling.
    for c in Driver::both_with("CH_MODERN_URL", |o| o.max_block_bytes = 64 << 20) {
        let sql = "SELECT toString(number % 10) FROM numbers(20000000) SETTINGS max_block_size = 20000000";
        let e = c.count_blocks_with(sql, &CallOptions::new()).unwrap_err();
        assert!(e.to_string().contains("max_block_bytes"), "{}: {e}", c.name());
        // The same client still works, and ordinary blocks fit.
        let n = c.count_blocks_with("SELECT toString(number) FROM numbers(1000000)", &CallOptions::new()).unwrap();
        assert_eq!(n, 1_000_000, "{}", c.name());
    }
}

#[test]
fn unknown_time_zones_are_errors_and_zones_do_not_depend_on_the_machine() {
    let unknown = TypeDesc::parse("DateTime('Unknown/Zone')").unwrap();
    let mut r = TextRenderer::new("UTC");
    let e = r.check_type(&unknown).unwrap_err();
    assert!(e.contains("Unknown/Zone"), "{e}");
    let nested = TypeDesc::parse("Array(Nullable(DateTime64(3, 'Mars/Olympus')))").unwrap();
    assert!(r.check_type(&nested).is_err());
    let mut p = TextParser::new("UTC");
    assert!(p.tsv_field(b"2020-01-01 00:00:00", &unknown).is_err());
    // An unknown server zone too.
    let mut r = TextRenderer::new("Nowhere/Town");
    assert!(r.check_type(&TypeDesc::parse("DateTime").unwrap()).is_err());
    let mut out = Vec::new();
    r.write_tsv(&mut out, &Value::DateTime(0), &TypeDesc::parse("DateTime").unwrap());
    assert!(r.take_error().is_some(), "a value rendered without its zone is reported");
    // Zones come from the database compiled in (jiff's bundled copy, not the machine's): it renders as the
    // server does.
    let c = modern();
    let sql = "SELECT toDateTime(1700000000 + number * 86400 * 37, 'America/Sao_Paulo') FROM numbers(200)";
    let server_text = String::from_utf8(c.raw_query(sql, Some("TabSeparated")).unwrap()).unwrap();
    let mut r = TextRenderer::new(c.server_timezone());
    let mut ours = Vec::new();
    c.query_blocks(sql, |b| {
        for row in 0..b.rows() {
            r.write_tsv(&mut ours, &b.columns()[0].column().value(row), b.columns()[0].desc());
            ours.push(b'\n');
        }
        Ok(())
    })
    .unwrap();
    assert_eq!(String::from_utf8(ours).unwrap(), server_text);
}

#[test]
fn a_readonly_user_gets_retries_query_ids_and_deadlines() {
    // The client's own additions (a query id for retries, a deadline) are not settings: a readonly
    // user's queries carry them fine, in a session and another database too.
    for c in Driver::both_with("CH_MODERN_URL", |o| {
        o.username = common::env("CH_READONLY_USER");
        o.timeout = Some(Duration::from_secs(30));
        o.compression = Compression::Http(ContentEncoding::Gzip);
    }) {
        let ctx = c.name();
        let r = c.query("SELECT 1 AS one").unwrap();
        assert_eq!(r.rows, vec![vec![Value::UInt8(1)]], "{ctx}");
        assert!(r.query_id.is_some_and(|id| id.len() == 36), "{ctx}");
        let opts =
            CallOptions::new().database("system").session(format!("ro-{}", table("s"))).timeout(Duration::from_secs(5));
        let r = c.query_with("SELECT count() > 0 FROM tables", &opts).unwrap();
        assert_eq!(r.rows, vec![vec![Value::UInt8(1)]], "{ctx}");
        // A write is refused by the server, once.
        let e = c.query("INSERT INTO system.one SELECT 0").unwrap_err();
        assert!(e.server_code().is_some(), "{ctx}: {e}");
    }
}

#[test]
fn a_readonly_user_gets_progress_and_frames_without_the_settings_it_may_not_change() {
    // send_progress_in_http_headers and network_compression_method are settings a readonly=1 user may
    // not change: the client does without them (one warning each) instead of failing every call.
    for comp in [Compression::Lz4, Compression::Zstd, Compression::None] {
        for c in Driver::both_with("CH_MODERN_URL", |o| {
            o.username = common::env("CH_READONLY_USER");
            o.compression = comp.clone();
            o.send_progress = true;
        }) {
            let ctx = format!("{comp:?} {}", c.name());
            let opts = CallOptions::new().on_progress(|_| {});
            let r = c.query_with("SELECT number FROM numbers(100000)", &opts).unwrap();
            assert_eq!(r.rows.len(), 100_000, "{ctx}");
            assert_eq!(c.command("SELECT 42").unwrap(), "42", "{ctx}");
            let n: u64 = c
                .raw_query_with("SELECT count() FROM numbers(10)", Some("TSV"), &CallOptions::new())
                .map(|b| String::from_utf8(b).unwrap().trim().parse().unwrap())
                .unwrap();
            assert_eq!(n, 10, "{ctx}");
        }
    }
}

#[test]
fn huge_type_names_are_not_echoed() {
    let name = format!("{}UInt8{}", "Array(".repeat(5000), ")".repeat(5000));
    let e = TypeDesc::parse(&name).unwrap_err();
    assert!(e.to_string().len() < 1500, "{} bytes", e.to_string().len());
    let name = format!("Array({})", "Foo".repeat(30_000));
    if let Err(e) = TypeDesc::parse(&name) {
        assert!(e.to_string().len() < 1500, "{} bytes", e.to_string().len());
    }
}

#[test]
fn on_18_16_an_exception_after_data_is_an_error_for_text_results_too() {
    let sql = "SELECT number, throwIf(number = 1500000) FROM numbers(3000000) SETTINGS max_block_size = 10000";
    for c in Driver::both("CH_LEGACY_URL") {
        for fmt in [None, Some("TSV"), Some("CSV"), Some("JSONEachRow"), Some("RowBinary")] {
            let code = c.raw_query_with(sql, fmt, &CallOptions::new()).err().and_then(|e| e.server_code());
            assert_eq!(code, Some(395), "{fmt:?} {}", c.name());
        }
        assert_eq!(c.command(sql).err().and_then(|e| e.server_code()), Some(395), "{}", c.name());
        assert_eq!(c.count_blocks_with(sql, &CallOptions::new()).err().and_then(|e| e.server_code()), Some(395));
    }
}

#[test]
fn on_18_16_an_exception_longer_than_the_kept_tail_is_still_an_error() {
    let sql = "WITH (SELECT arrayStringConcat(arrayMap(x -> 'x', range(20000)))) AS big \
               SELECT toUInt64(if(number < 300000, '1', big)) FROM numbers(400000) \
               SETTINGS max_block_size = 1000, max_threads = 1";
    for c in Driver::both("CH_LEGACY_URL") {
        for fmt in [Some("TSV"), Some("RowBinary")] {
            assert!(c.raw_query_with(sql, fmt, &CallOptions::new()).is_err(), "{fmt:?} {}", c.name());
        }
        assert!(c.command(sql).is_err(), "{}", c.name());
        assert!(matches!(c.query(sql).unwrap_err(), Error::Server { .. }), "{}", c.name());
    }
}

#[test]
fn settings_named_like_passwords_are_hidden_in_debug() {
    let o = ClientOptions::from_url("http://127.0.0.1:1/?user=u&Password=S3CRETPW&my_password_x=S3CRETPW").unwrap();
    assert!(!format!("{o:?}").contains("S3CRETPW"));
}
