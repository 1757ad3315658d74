//! `peer-bench URL SQL MODE [lz4]`: the official `clickhouse` crate's `fetch::<Row>()` into the structs
//! examples/bench_serde reads (`borrow`: `{ n: u64, s: &str }`; `owned`: `{ n: u64, s: String }`;
//! `u64`: `{ n: u64 }`), every row's fields touched, on a current-thread runtime.
//!
//! `peer-bench concurrent URL TASKS QUERIES`: `TASKS` tasks on a 2-worker runtime, each running `QUERIES`
//! small queries one after another (as examples/bench_async does); prints latency p50/p99 and
//! throughput.

use clickhouse::{Client, Row};
use serde::Deserialize;

#[derive(Row, Deserialize)]
struct Borrowed<'a> {
    n: u64,
    s: &'a str,
}

#[derive(Row, Deserialize)]
struct Owned {
    n: u64,
    s: String,
}

#[derive(Row, Deserialize)]
struct Number {
    n: u64,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [mode, url, tasks, queries] = args.as_slice() {
        if mode == "concurrent" {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
            return rt.block_on(concurrent(url, tasks.parse()?, queries.parse()?));
        }
    }
    tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(rows(args))
}

#[derive(Row, Deserialize)]
struct Small {
    v: u64,
}

async fn concurrent(url: &str, tasks: u64, queries: u64) -> Result<(), Box<dyn std::error::Error>> {
    let client = Client::default().with_url(url);
    let started = std::time::Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|t| {
            let client = client.clone();
            tokio::spawn(async move {
                let mut lat = Vec::with_capacity(queries as usize);
                for q in 0..queries {
                    let at = std::time::Instant::now();
                    let sql = format!("SELECT {} + number AS v FROM numbers(10)", t * queries + q);
                    let r = client.query(&sql).fetch_all::<Small>().await.map_err(|e| e.to_string())?;
                    assert_eq!(r.len(), 10);
                    assert!(r[0].v >= t * queries);
                    lat.push(at.elapsed());
                }
                Ok::<_, String>(lat)
            })
        })
        .collect();
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await??);
    }
    let total = started.elapsed();
    all.sort();
    let at = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)].as_secs_f64() * 1000.0;
    println!(
        "queries {} p50_ms {:.3} p99_ms {:.3} qps {:.0}",
        all.len(),
        at(0.50),
        at(0.99),
        all.len() as f64 / total.as_secs_f64()
    );
    Ok(())
}

async fn rows(args: Vec<String>) -> Result<(), Box<dyn std::error::Error>> {
    let [url, sql, mode, rest @ ..] = args.as_slice() else {
        return Err("usage: peer-bench URL SQL borrow|owned|u64 [lz4]".into());
    };
    let compression = if rest.first().map(String::as_str) == Some("lz4") {
        clickhouse::Compression::Lz4
    } else {
        clickhouse::Compression::None
    };
    let client = Client::default().with_url(url).with_compression(compression);
    let (mut rows, mut check) = (0u64, 0u64);
    match mode.as_str() {
        "borrow" => {
            let mut cursor = client.query(sql).fetch::<Borrowed<'_>>()?;
            while let Some(row) = cursor.next().await? {
                rows += 1;
                check = check.wrapping_add(row.n).wrapping_add(row.s.len() as u64);
            }
        }
        "owned" => {
            let mut cursor = client.query(sql).fetch::<Owned>()?;
            while let Some(row) = cursor.next().await? {
                rows += 1;
                check = check.wrapping_add(row.n).wrapping_add(row.s.len() as u64);
            }
        }
        "u64" => {
            let mut cursor = client.query(sql).fetch::<Number>()?;
            while let Some(row) = cursor.next().await? {
                rows += 1;
                check = check.wrapping_add(row.n);
            }
        }
        m => return Err(format!("unknown mode {m}").into()),
    }
    println!("{rows} rows, checksum {check}");
    Ok(())
}
