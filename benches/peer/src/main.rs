//! `peer-bench URL SQL MODE [lz4]`: the official `clickhouse` crate's `fetch::<Row>()` into the structs
//! examples/bench_serde reads (`borrow`: `{ n: u64, s: &str }`; `owned`: `{ n: u64, s: String }`;
//! `u64`: `{ n: u64 }`), every row's fields touched, on a current-thread runtime.

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

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
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
