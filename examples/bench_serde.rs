//! Reads one query's rows into Rust structs through serde, for the end-to-end benchmark
//! (`scripts/bench-e2e`, `serde_*` workloads): `bench_serde URL SQL MODE [compression]`.
//!
//! - `borrow`: `{ n: u64, s: &str }` borrowed from each block (`query_blocks` + `Block::rows_as`);
//! - `borrow_stream`: the same from `query_block_stream` (blocks decoded on a worker thread);
//! - `owned`: `{ n: u64, s: String }` through `query_as_each`;
//! - `u64`: `{ n: u64 }` borrowed per block.
//!
//! Every row is read and its fields touched (a checksum is printed).

use clickhouse_connect::{CallOptions, Client, ClientOptions, Compression};
use serde::Deserialize;

#[derive(Deserialize)]
struct Borrowed<'a> {
    n: u64,
    s: &'a str,
}

#[derive(Deserialize)]
struct Owned {
    n: u64,
    s: String,
}

#[derive(Deserialize)]
struct Number {
    n: u64,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, sql, mode, rest @ ..] = args.as_slice() else {
        return Err("usage: bench_serde URL SQL borrow|borrow_stream|owned|u64 [compression]".into());
    };
    let mut o = ClientOptions::from_url(url)?;
    if let Some(c) = rest.first() {
        o.compression = Compression::parse(c)?;
    }
    let client = Client::new(o)?;
    let (mut rows, mut check) = (0u64, 0u64);
    match mode.as_str() {
        "borrow" => {
            client.query_blocks(sql, |block| {
                for row in block.rows_as::<Borrowed>() {
                    let row = row?;
                    rows += 1;
                    check = check.wrapping_add(row.n).wrapping_add(row.s.len() as u64);
                }
                Ok(())
            })?;
        }
        "borrow_stream" => {
            // Blocks decoded on the stream's worker thread while this one reads rows.
            let client = std::sync::Arc::new(client);
            for block in client.query_block_stream(sql, &CallOptions::new())? {
                let block = block?;
                for row in block.block().rows_as::<Borrowed>() {
                    let row = row?;
                    rows += 1;
                    check = check.wrapping_add(row.n).wrapping_add(row.s.len() as u64);
                }
            }
        }
        "owned" => client.query_as_each(sql, |row: Owned| {
            rows += 1;
            check = check.wrapping_add(row.n).wrapping_add(row.s.len() as u64);
            Ok(())
        })?,
        "u64" => {
            client.query_blocks(sql, |block| {
                for row in block.rows_as::<Number>() {
                    rows += 1;
                    check = check.wrapping_add(row?.n);
                }
                Ok(())
            })?;
        }
        m => return Err(format!("unknown mode {m}").into()),
    }
    println!("{rows} rows, checksum {check}");
    Ok(())
}
