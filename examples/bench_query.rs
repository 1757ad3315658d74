//! Streams one query through the library's block API, for the end-to-end benchmark
//! (`scripts/bench-e2e`): `bench_query URL SQL [compression] [--touch]`. Every block is decoded into
//! column storage (the decoder's work cannot be skipped: it happens as bytes arrive); with `--touch`
//! every UInt64 column is also summed, as a consumer would read it.

use clickhouse_connect::native::ColumnView;
use clickhouse_connect::{Client, ClientOptions, Compression};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args.next().ok_or("usage: bench_query URL SQL [compression]")?;
    let sql = args.next().ok_or("usage: bench_query URL SQL [compression]")?;
    let mut o = ClientOptions::from_url(&url)?;
    let rest: Vec<String> = args.collect();
    let touch = rest.iter().any(|a| a == "--touch");
    if let Some(c) = rest.iter().find(|a| !a.starts_with("--")) {
        o.compression = Compression::parse(c)?;
    }
    let client = Client::new(o)?;
    let mut rows = 0usize;
    let mut check = 0u64;
    client.query_blocks(&sql, |block| {
        rows += block.rows();
        if !touch {
            return Ok(());
        }
        for c in block.columns() {
            check = check.wrapping_add(match c.column().view() {
                ColumnView::UInt64(v) => v.iter().fold(0u64, |a, x| a.wrapping_add(*x)),
                ColumnView::String { offsets, .. } => offsets.total(),
                _ => c.column().rows() as u64,
            });
        }
        Ok(())
    })?;
    println!("{rows} rows, checksum {check}");
    Ok(())
}
