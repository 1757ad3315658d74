//! The async client for the end-to-end benchmark (`scripts/bench-e2e 3 async`):
//!
//! - `bench_async stream URL SQL`: a query's blocks through `AsyncClient::query_blocks` (a `Stream`),
//!   every UInt64 column summed — against `examples/bench_query --touch`, the blocking path.
//! - `bench_async concurrent URL TASKS QUERIES`: `TASKS` tasks on a 2-worker tokio runtime, each running
//!   `QUERIES` small queries one after another; prints the latency p50/p99 (ms) and the throughput
//!   (queries/s) — against the official `clickhouse` crate doing the same (`benches/peer`).

use clickhouse_connect::AsyncClient;
use clickhouse_connect::native::ColumnView;
use futures_util::StreamExt;
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["stream", url, sql] => rt.block_on(async {
            let client = AsyncClient::from_url(url).await?;
            let (mut rows, mut check) = (0usize, 0u64);
            let mut blocks = client.query_blocks(sql);
            while let Some(block) = blocks.next().await {
                let block = block?;
                rows += block.rows();
                for c in block.columns() {
                    if let ColumnView::UInt64(v) = c.column().view() {
                        check = check.wrapping_add(v.iter().fold(0u64, |a, x| a.wrapping_add(*x)));
                    }
                }
            }
            println!("{rows} rows, checksum {check}");
            Ok(())
        }),
        ["concurrent", url, tasks, queries] => {
            let (tasks, queries): (usize, usize) = (tasks.parse()?, queries.parse()?);
            rt.block_on(async {
                let client = AsyncClient::from_url(url).await?;
                let started = Instant::now();
                let handles: Vec<_> = (0..tasks)
                    .map(|t| {
                        let client = client.clone();
                        tokio::spawn(async move {
                            let mut lat = Vec::with_capacity(queries);
                            for q in 0..queries {
                                let at = Instant::now();
                                let r = client
                                    .query(&format!("SELECT {} + number FROM numbers(10)", t * queries + q))
                                    .await;
                                let r = r.map_err(|e| e.to_string())?;
                                assert_eq!(r.rows.len(), 10);
                                lat.push(at.elapsed());
                            }
                            Ok::<_, String>(lat)
                        })
                    })
                    .collect();
                let mut all: Vec<Duration> = Vec::new();
                for h in handles {
                    all.extend(h.await??);
                }
                report(&mut all, started.elapsed());
                Ok(())
            })
        }
        _ => Err("usage: bench_async stream URL SQL | concurrent URL TASKS QUERIES".into()),
    }
}

fn report(lat: &mut [Duration], total: Duration) {
    lat.sort();
    let at = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)].as_secs_f64() * 1000.0;
    println!(
        "queries {} p50_ms {:.3} p99_ms {:.3} qps {:.0}",
        lat.len(),
        at(0.50),
        at(0.99),
        lat.len() as f64 / total.as_secs_f64()
    );
}
