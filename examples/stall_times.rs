//! Time to error when a request stalls at each stage, against the configured stall timeout
//! (`send_receive_timeout`) and a per-call deadline: the figures in docs/RELIABILITY.md.
//!
//! ```sh
//! eval "$(scripts/clickhouse-servers env)"
//! cargo run --release --example stall_times
//! ```

#[path = "../tests/common/fault.rs"]
mod fault;

use clickhouse_connect::{CallOptions, Client, ClientOptions};
use fault::{Action, Direction, Fault, FaultProxy};
use std::time::{Duration, Instant};

fn main() {
    let upstream = std::env::var("CH_MODERN_URL").expect("CH_MODERN_URL (eval \"$(scripts/clickhouse-servers env)\")");
    let proxy = FaultProxy::start(&upstream);
    let stall = Duration::from_secs(2);
    let mut o = ClientOptions::from_url(&proxy.url()).unwrap();
    o.send_receive_timeout = stall;
    let c = Client::new(o).unwrap();
    println!("| stage | call | send_receive_timeout | deadline | time to error | error |");
    println!("|---|---|---|---|---|---|");
    let stages = [
        ("before the request is sent", Direction::Request, 0),
        ("mid request", Direction::Request, 150),
        ("after the server executed", Direction::Response, 0),
        ("mid response", Direction::Response, 20_000),
    ];
    for (stage, direction, at) in stages {
        for (call, deadline) in [("query", None), ("query", Some(Duration::from_millis(1500)))] {
            let mut times = Vec::new();
            let mut last = String::new();
            for _ in 0..3 {
                proxy.arm(Fault { direction, at, action: Action::Stall });
                let opts = match deadline {
                    Some(d) => CallOptions::new().timeout(d),
                    None => CallOptions::new(),
                };
                let started = Instant::now();
                let r =
                    c.query_blocks_with("SELECT number, cityHash64(number) FROM numbers(300000)", &opts, |_| Ok(()));
                times.push(started.elapsed());
                last = match r {
                    Ok(_) => "none (finished)".into(),
                    Err(e) => e.to_string().chars().take(70).collect(),
                };
            }
            times.sort();
            println!(
                "| {stage} | {call} | {stall:?} | {} | {:.2} s (median of 3, max {:.2} s) | {last} |",
                deadline.map_or("none".to_string(), |d| format!("{d:?}")),
                times[1].as_secs_f64(),
                times[2].as_secs_f64()
            );
        }
    }
    // A server that never stalls but trickles: a row every 0.2 s for 20 s. Only a deadline ends it.
    let mut o = ClientOptions::from_url(&upstream).unwrap();
    o.send_receive_timeout = stall;
    let direct = Client::new(o).unwrap();
    let sql = "SELECT number, sleepEachRow(0.2) FROM numbers(100) SETTINGS max_block_size = 1";
    let started = Instant::now();
    let r = direct.query_blocks_with(sql, &CallOptions::new().timeout(Duration::from_secs(3)), |_| Ok(()));
    println!(
        "| trickling server (a row every 0.2 s for 20 s) | query | {stall:?} | 3s | {:.2} s | {} |",
        started.elapsed().as_secs_f64(),
        r.err().map_or("none".into(), |e| e.to_string().chars().take(70).collect::<String>())
    );
}
