//! Arrow benchmark for `scripts/bench-e2e` (feature `arrow`):
//! - `bench_arrow query URL SQL [compression]`: every block of the result becomes a record batch
//!   (`query_blocks` + `Block::to_arrow`, so memory stays at about one block) and every UInt64 column
//!   is summed from the batch;
//! - `bench_arrow insert URL TABLE ROWS`: `insert_arrow` of `ROWS` rows (UInt64 `id`, Utf8
//!   `toString(id)`) in batches of 65,536, built before timing starts; prints the seconds of the insert.

use arrow_array::cast::AsArray;
use arrow_array::types::UInt64Type;
use arrow_array::{ArrayRef, RecordBatch, StringArray, UInt64Array};
use clickhouse_connect::arrow::ArrowOptions;
use clickhouse_connect::{Client, ClientOptions, Compression};
use std::sync::Arc;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a: Vec<String> = std::env::args().skip(1).collect();
    match a.first().map(String::as_str) {
        Some("query") => {
            let [_, url, sql, rest @ ..] = &a[..] else {
                return Err("usage: bench_arrow query URL SQL [compression]".into());
            };
            let mut o = ClientOptions::from_url(url)?;
            if let Some(c) = rest.first() {
                o.compression = Compression::parse(c)?;
            }
            let client = Client::new(o)?;
            let options = ArrowOptions::new();
            let (mut rows, mut sum) = (0usize, 0u64);
            client.query_blocks(sql, |block| {
                let batch = block.to_arrow(&options)?;
                rows += batch.num_rows();
                for c in batch.columns() {
                    if let Some(v) = c.as_primitive_opt::<UInt64Type>() {
                        sum = v.values().iter().fold(sum, |s, x| s.wrapping_add(*x));
                    }
                }
                Ok(())
            })?;
            println!("{rows} rows, checksum {sum}");
        }
        Some("insert") => {
            let [_, url, table, rows] = &a[..] else { return Err("usage: bench_arrow insert URL TABLE ROWS".into()) };
            let rows: u64 = rows.parse()?;
            let batches: Vec<RecordBatch> = (0..rows)
                .step_by(65_536)
                .map(|start| {
                    let ids: Vec<u64> = (start..(start + 65_536).min(rows)).collect();
                    let s = StringArray::from_iter_values(ids.iter().map(|i| i.to_string()));
                    RecordBatch::try_from_iter([
                        ("id", Arc::new(UInt64Array::from(ids)) as ArrayRef),
                        ("s", Arc::new(s) as ArrayRef),
                    ])
                })
                .collect::<Result<_, _>>()?;
            let client = Client::from_url(url)?;
            let t = Instant::now();
            client.insert_arrow(table, &batches)?;
            println!("{:.3}", t.elapsed().as_secs_f64());
        }
        _ => return Err("usage: bench_arrow query|insert …".into()),
    }
    Ok(())
}
