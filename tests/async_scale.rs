//! Many calls from one tokio runtime on the client's one I/O thread: 1,000 concurrent queries and 50
//! concurrent streaming inserts complete with exact results (the server's own), while the process
//! keeps a bounded number of threads. (Its own test binary: the thread count is the process's.)
//!
//! The bound, stated: the threads before the client (the test harness's), plus the runtime's 2
//! workers, plus the client's 1 I/O thread, plus 1 for the short-lived connect thread.

mod common;
#[path = "common/drivers.rs"]
mod drivers;

use clickhouse_connect::{AsyncClient, Value};
use common::{env, table};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

fn threads() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status.lines().find_map(|l| l.strip_prefix("Threads:")).and_then(|v| v.trim().parse().ok()).unwrap()
}

#[test]
fn a_thousand_queries_and_fifty_streaming_inserts_on_a_bounded_number_of_threads() {
    let before = threads();
    let bound = before + 2 + 1 + 1;
    let rt = drivers::runtime();
    let a = rt.block_on(AsyncClient::from_url(&env("CH_MODERN_URL"))).unwrap();
    let admin = common::modern();
    let most = Arc::new(AtomicUsize::new(threads()));

    // 1,000 queries at once, each its own result; the expected results are the server's, in one query.
    let expected: Vec<String> = String::from_utf8(
        admin.raw_query("SELECT arraySum(range(number)) FROM numbers(1000) ORDER BY number", Some("TSV")).unwrap(),
    )
    .unwrap()
    .lines()
    .map(str::to_string)
    .collect();
    let got: Vec<String> = rt.block_on(async {
        let tasks: Vec<_> = (0..1000u64)
            .map(|i| {
                let (a, most) = (a.clone(), most.clone());
                tokio::spawn(async move {
                    let r = a.query(&format!("SELECT sum(number) FROM numbers({i})")).await.unwrap();
                    most.fetch_max(threads(), Ordering::Relaxed);
                    r.rows[0][0].to_string()
                })
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    });
    assert_eq!(got, expected);

    // 50 streaming inserts at once into one table, 20k rows each.
    let t = table("ascale");
    admin.command(&format!("CREATE TABLE {t} (id UInt64, s String) ENGINE = MergeTree ORDER BY id")).unwrap();
    let summaries: Vec<u64> = rt.block_on(async {
        let tasks: Vec<_> = (0..50u64)
            .map(|k| {
                let (a, most, t) = (a.clone(), most.clone(), t.clone());
                tokio::spawn(async move {
                    let mut ins = a.inserter(&t, &[], 5_000).await.unwrap();
                    for j in 0..20_000u64 {
                        let id = k * 20_000 + j;
                        ins.write(&[Value::from(id), Value::from(id.to_string())]).await.unwrap();
                    }
                    most.fetch_max(threads(), Ordering::Relaxed);
                    ins.end().await.unwrap().rows
                })
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    });
    assert!(summaries.iter().all(|&r| r == 20_000), "{summaries:?}");
    let stored = admin.command(&format!("SELECT count(), uniqExact(id), sum(id), sum(toUInt64(s)) FROM {t}")).unwrap();
    let want = admin.command("SELECT count(), count(), sum(number), sum(number) FROM numbers(1000000)").unwrap();
    assert_eq!(stored, want);
    admin.command(&format!("DROP TABLE {t}")).unwrap();

    let most = most.load(Ordering::Relaxed);
    eprintln!("threads: {before} before, at most {most} during (bound {bound})");
    assert!(most <= bound, "{most} threads, more than {bound}");
    let started = std::time::Instant::now();
    while a.running_transfers() > 0 {
        assert!(started.elapsed() < std::time::Duration::from_secs(2), "{} transfers left", a.running_transfers());
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}
