//! Insert benchmark for `scripts/bench-e2e`: `bench_insert URL TABLE ROWS MODE` with MODE `typed`
//! (FixedBuilder<u64> + StringBuilder, one `insert_block`) or `inserter` (the streaming `Inserter`,
//! 65,536-row blocks, fed the same values as `Value`s). The columns (UInt64 `number`, String
//! `toString(number)`) are generated before timing starts; the time printed covers encoding, sending and
//! the server's acknowledgement only.

use clickhouse_connect::native::{FixedBuilder, StringBuilder};
use clickhouse_connect::{Client, Value};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let [url, table, rows, mode] = &a[..] else {
        return Err("usage: bench_insert URL TABLE ROWS typed|inserter".into());
    };
    let rows: u64 = rows.parse()?;
    let client = Client::from_url(url)?;
    let secs = match mode.as_str() {
        "typed" => {
            let mut id = FixedBuilder::<u64>::new("UInt64");
            let mut s = StringBuilder::new();
            for i in 0..rows {
                id.push(i);
                s.push(i.to_string());
            }
            let t = Instant::now();
            client.insert_block(table, &[("id", &id), ("s", &s)])?;
            t.elapsed().as_secs_f64()
        }
        "inserter" => {
            let strings: Vec<String> = (0..rows).map(|i| i.to_string()).collect();
            let t = Instant::now();
            let mut ins = client.inserter(table, &["id", "s"], 65_536)?;
            for (i, s) in strings.iter().enumerate() {
                ins.write(&[Value::from(i as u64), Value::from(s.as_str())])?;
            }
            ins.end()?;
            t.elapsed().as_secs_f64()
        }
        other => return Err(format!("unknown mode {other}").into()),
    };
    println!("{secs:.3}");
    Ok(())
}
