//! Streams N generated rows (UInt64, String) through one `Inserter` into a MergeTree table, then lets the
//! server check count and checksum, and prints the client's peak RSS:
//! `cargo run --release --example insert_stream -- URL [rows]` (default 100,000,000).

use clickhouse_connect::{Client, Value};
use std::time::Instant;

fn peak_rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| l.strip_prefix("VmHWM:")).map(|v| v.trim().trim_end_matches("kB").trim().to_string())
        })
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(0, |k| k / 1024)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args.next().ok_or("usage: insert_stream URL [rows]")?;
    let rows: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(100_000_000);
    let client = Client::from_url(&url)?;
    client.command("DROP TABLE IF EXISTS insert_stream")?;
    client.command("CREATE TABLE insert_stream (id UInt64, s String) ENGINE = MergeTree ORDER BY tuple()")?;
    let t = Instant::now();
    let mut ins = client.inserter("insert_stream", &[], 65_536)?;
    let mut text = String::new();
    for i in 0..rows {
        text.clear();
        use std::fmt::Write;
        write!(text, "row {i}")?;
        ins.write(&[Value::from(i), Value::from(text.as_str())])?;
    }
    let summary = ins.end()?;
    let secs = t.elapsed().as_secs_f64();
    let check = client.command(&format!(
        "SELECT count() = {rows}, sum(id) = {}, sum(cityHash64(s)) = (SELECT sum(cityHash64(concat('row ', toString(number)))) FROM numbers({rows})) FROM insert_stream",
        rows as u128 * (rows as u128 - 1) / 2
    ))?;
    println!(
        "{} rows in {} blocks, {:.0} MB sent in {secs:.1} s ({:.1}M rows/s); server check (count, sum, hash): {check}; peak RSS {} MiB",
        summary.rows,
        summary.blocks,
        summary.bytes as f64 / 1e6,
        rows as f64 / secs / 1e6,
        peak_rss_mib()
    );
    client.command("DROP TABLE insert_stream")?;
    if check != "1\t1\t1" {
        return Err("the server's check failed".into());
    }
    Ok(())
}
