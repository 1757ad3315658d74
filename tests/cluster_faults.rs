//! The repo's local cluster (three 26.9 servers: shard 1 = node 1, shard 2 = nodes 2 and 3, a
//! `Distributed` table over them; see `scripts/clickhouse-servers`) under node crashes: a 10M-row
//! exactly-once insert stream across the endpoints while nodes are killed (SIGKILL) and restarted,
//! with read-only queries running all the while. Counts and checksums come from the cluster itself
//! and from the server's own `numbers()`; nothing is trusted from the client's report.
//! Its own test process: nothing else may run while a node is down.

mod common;

use clickhouse_connect::{AsyncClient, CallOptions, Client, ClientOptions, Error, LoadBalancing, RequestLimits, Value};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const ROWS: u64 = 10_000_000;
/// Rows of the table the readers check (static while they read).
const READ_ROWS: u64 = 1_000_000;

/// Runs `scripts/clickhouse-servers <args>` for the test servers' instance.
fn ctl(args: &str) {
    let cmd = format!("{} {args}", common::env("CH_CLUSTER_CTL"));
    let out = std::process::Command::new("sh").arg("-c").arg(&cmd).output().unwrap();
    assert!(out.status.success(), "{cmd}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Starts every node again when the test ends, however it ends.
struct Restart;
impl Drop for Restart {
    fn drop(&mut self) {
        for n in 1..=3 {
            ctl(&format!("start-node {n}"));
        }
    }
}

fn cluster_options(policy: LoadBalancing) -> ClientOptions {
    let mut o = ClientOptions::from_url(&common::env("CH_CLUSTER_URL")).unwrap();
    o.load_balancing = policy;
    o
}

/// One value of the server's, e.g. `count()`, on endpoint `i`.
fn scalar(c: &Client, sql: &str, i: usize) -> Vec<Value<'static>> {
    c.query_with(sql, &CallOptions::default().on_endpoint(i)).unwrap().rows.remove(0)
}

/// Creates the shard tables on every node and a Distributed table over them.
fn create_tables(c: &Client, local: &str, dist: &str, columns: &str) {
    let cluster = common::env("CH_CLUSTER_NAME");
    for i in 0..3 {
        let on = CallOptions::default().on_endpoint(i);
        c.command_with(&format!("DROP TABLE IF EXISTS {dist}"), &on).unwrap();
        c.command_with(&format!("DROP TABLE IF EXISTS {local}"), &on).unwrap();
        c.command_with(
            &format!(
                "CREATE TABLE {local} ({columns}) ENGINE = MergeTree ORDER BY n \
                 SETTINGS non_replicated_deduplication_window = 1000"
            ),
            &on,
        )
        .unwrap();
        c.command_with(
            &format!("CREATE TABLE {dist} AS {local} ENGINE = Distributed({cluster}, currentDatabase(), {local}, n)"),
            &on,
        )
        .unwrap();
    }
}

#[test]
fn an_exactly_once_stream_and_reads_survive_nodes_killed_and_restarted() {
    let _restart = Restart;
    let admin = Client::new(cluster_options(LoadBalancing::InOrder)).unwrap();
    let (local, dist) = ("eo_local", "eo_dist");
    let (rlocal, rdist) = ("reads_local", "reads_dist");
    create_tables(&admin, local, dist, "n UInt64, s String");
    create_tables(&admin, rlocal, rdist, "n UInt64");
    let sync =
        CallOptions { settings: vec![("distributed_foreground_insert".into(), "1".into())], ..CallOptions::default() };
    admin.command_with(&format!("INSERT INTO {rdist} SELECT number FROM numbers({READ_ROWS})"), &sync).unwrap();
    // What a whole read returns, as the server computes it from its own numbers.
    let read_sql = format!("SELECT count(), sum(n), sum(cityHash64(n)) FROM {rdist}");
    let expected_read =
        scalar(&admin, &format!("SELECT count(), sum(number), sum(cityHash64(number)) FROM numbers({READ_ROWS})"), 0);
    assert_eq!(scalar(&admin, &read_sql, 0), expected_read);

    let acknowledged = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    std::thread::scope(|s| {
        // The insert: round robin over the three endpoints, a request per 250k rows, each request
        // sent again (same bytes, same token) after any failure.
        let writer = {
            let (acknowledged, done) = (acknowledged.clone(), done.clone());
            s.spawn(move || {
                let c = Client::new(cluster_options(LoadBalancing::RoundRobin)).unwrap();
                let limits = RequestLimits { max_rows: Some(250_000), ..RequestLimits::default() };
                let mut ins = c
                    .inserter_with(dist, &["n", "s"], 50_000, &sync)
                    .unwrap()
                    .with_request_limits(limits)
                    .exactly_once(format!("cluster-{}", std::process::id()), 30)
                    .unwrap();
                let mut s = String::new();
                for n in 0..ROWS {
                    use std::fmt::Write;
                    s.clear();
                    write!(s, "v{}", n * 7).unwrap();
                    ins.write(&[Value::UInt64(n), Value::String(s.as_bytes().into())]).unwrap();
                    if n % 50_000 == 0 {
                        acknowledged.store(ins.acknowledged_rows(), Ordering::SeqCst);
                    }
                }
                let summary = ins.end().unwrap();
                done.store(true, Ordering::SeqCst);
                summary
            })
        };
        // Readers: a blocking client on two threads, and the async client on a tokio runtime. Every
        // read returns the whole table or an error naming the endpoints tried.
        let reader = |name: &'static str| {
            let (done, read_sql, expected) = (done.clone(), read_sql.clone(), expected_read.clone());
            s.spawn(move || {
                let c = Client::new(cluster_options(LoadBalancing::RoundRobin)).unwrap();
                let (mut ok, mut failed) = (0u32, Vec::new());
                while !done.load(Ordering::SeqCst) {
                    match c.query(&read_sql) {
                        Ok(r) => {
                            assert_eq!(r.rows[0], expected, "{name}: a short or wrong result from {:?}", r.endpoint);
                            ok += 1;
                        }
                        Err(e @ Error::Endpoints { .. }) => failed.push(e.to_string()),
                        Err(e) => panic!("{name}: an error that names no endpoint: {e:?}"),
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                (ok, failed)
            })
        };
        let readers = [reader("blocking-1"), reader("blocking-2")];
        let async_reader = {
            let (done, read_sql, expected) = (done.clone(), read_sql.clone(), expected_read.clone());
            s.spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
                rt.block_on(async {
                    let c = AsyncClient::connect(cluster_options(LoadBalancing::RoundRobin)).await.unwrap();
                    let (mut ok, mut failed) = (0u32, Vec::new());
                    while !done.load(Ordering::SeqCst) {
                        let tasks: Vec<_> = (0..4)
                            .map(|_| {
                                let (c, q) = (c.clone(), read_sql.clone());
                                tokio::spawn(async move { c.query(&q).await })
                            })
                            .collect();
                        for t in tasks {
                            match t.await.unwrap() {
                                Ok(r) => {
                                    assert_eq!(
                                        r.rows[0], expected,
                                        "async: a short or wrong result from {:?}",
                                        r.endpoint
                                    );
                                    ok += 1;
                                }
                                Err(e @ Error::Endpoints { .. }) => failed.push(e.to_string()),
                                Err(e) => panic!("async: an error that names no endpoint: {e:?}"),
                            }
                        }
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    (ok, failed)
                })
            })
        };
        // The faults: node 3 (a replica of shard 2) at 2M acknowledged rows, node 1 (shard 1's only
        // server, and the first endpoint) at 6M; each down for a second and a half.
        let mut kills = Vec::new();
        for (node, at) in [(3, 2_000_000u64), (1, 6_000_000)] {
            let started = Instant::now();
            while acknowledged.load(Ordering::SeqCst) < at {
                assert!(started.elapsed() < Duration::from_secs(300), "the insert made no progress");
                assert!(!writer.is_finished(), "the insert ended before node {node} was killed");
                std::thread::sleep(Duration::from_millis(10));
            }
            ctl(&format!("kill-node {node}"));
            std::thread::sleep(Duration::from_millis(1500));
            ctl(&format!("start-node {node}"));
            kills.push((node, acknowledged.load(Ordering::SeqCst)));
        }
        let summary = writer.join().unwrap();
        for r in readers {
            let (ok, failed) = r.join().unwrap();
            eprintln!("reader: {ok} whole results, {} errors naming endpoints: {:?}", failed.len(), failed.first());
            assert!(ok > 0);
        }
        let (ok, failed) = async_reader.join().unwrap();
        eprintln!("async reader: {ok} whole results, {} errors naming endpoints: {:?}", failed.len(), failed.first());
        assert!(ok > 0);
        // The kills happened while the insert ran, and it had to send requests again.
        assert!(kills.iter().all(|&(_, at)| at < ROWS), "{kills:?}");
        assert!(summary.retried_requests >= 2, "{summary:?}");
        eprintln!("insert: {summary:?}; kills at {kills:?}");
    });

    // Exactly every row once, as the cluster counts them, against the server's own numbers.
    let expected = scalar(
        &admin,
        &format!(
            "SELECT count(), sum(number), sum(cityHash64(number, concat('v', toString(number * 7)))) FROM numbers({ROWS})"
        ),
        0,
    );
    let got = scalar(&admin, &format!("SELECT count(), sum(n), sum(cityHash64(n, s)) FROM {dist}"), 0);
    assert_eq!(got, expected);
    // Both replicas of shard 2 hold the same rows (the Distributed table wrote each), and the shards
    // add up.
    let shard = |i: usize| scalar(&admin, &format!("SELECT count(), sum(n), sum(cityHash64(n, s)) FROM {local}"), i);
    let (s1, s2, s3) = (shard(0), shard(1), shard(2));
    assert_eq!(s2, s3);
    let Value::UInt64(c1) = s1[0] else { panic!() };
    let Value::UInt64(c2) = s2[0] else { panic!() };
    assert_eq!(c1 + c2, ROWS);
    for i in 0..3 {
        let on = CallOptions::default().on_endpoint(i);
        for t in [dist, local, rdist, rlocal] {
            admin.command_with(&format!("DROP TABLE {t}"), &on).unwrap();
        }
    }
}
