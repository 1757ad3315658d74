//! A 5 GB result through the async client's block stream under a slow consumer stays in bounded
//! memory: the I/O thread decodes a few blocks ahead, then pauses the transfer until the consumer
//! catches up. Then 20M rows (~400 MB of Native) through one async streaming insert: a write waits
//! while two blocks wait unsent. Peak RSS of this test process is checked after each (its own test
//! binary, one test, so the peak is this test's).

mod common;
#[path = "common/drivers.rs"]
mod drivers;

use clickhouse_connect::{AsyncClient, Compression, ContentEncoding};
use futures_util::StreamExt;
use std::time::Duration;

#[test]
fn a_5_gb_stream_under_a_slow_consumer_stays_under_64_mib() {
    let rows_wanted: u64 = 650_000_000; // 5.2 GB of UInt64
    let want_sum = common::modern().command(&format!("SELECT sum(number) FROM numbers({rows_wanted})")).unwrap();
    let rt = drivers::runtime();
    let a = rt.block_on(AsyncClient::from_url(&common::env("CH_MODERN_URL"))).unwrap();
    let (rows, sum, wire, paused) = rt.block_on(async {
        let mut s = a.query_blocks(&format!("SELECT number FROM numbers({rows_wanted})"));
        let (mut rows, mut sum, mut blocks) = (0u64, 0u64, 0u64);
        while let Some(b) = s.next().await {
            let b = b.unwrap();
            rows += b.rows() as u64;
            if let Some(v) = b.columns()[0].column().view().as_u64() {
                sum = sum.wrapping_add(v.iter().fold(0u64, |a, x| a.wrapping_add(*x)));
            }
            blocks += 1;
            // Slower than the server throughout (at most 512 KB a millisecond), and a long pause early on.
            tokio::time::sleep(Duration::from_millis(1)).await;
            if blocks == 100 {
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
        let wire = s.meta().unwrap().wire_bytes;
        (rows, sum, wire, blocks)
    });
    assert_eq!(rows, rows_wanted);
    assert_eq!(sum.to_string(), want_sum.as_str());
    assert!(wire > 5_200_000_000, "{wire}");
    let peak = common::peak_rss_kib();
    eprintln!("peak RSS {} MiB for {} MB streamed in {paused} blocks", peak / 1024, wire / 1_000_000);
    assert!(peak < 64 * 1024, "peak RSS {peak} KiB");

    let admin = common::modern();
    let t = common::table("amem_null");
    admin.command(&format!("CREATE TABLE {t} (id UInt64, s String) ENGINE = Null")).unwrap();
    let summary = rt.block_on(async {
        let mut ins = a.inserter(&t, &[], 65_536).await.unwrap();
        for i in 0..20_000_000u64 {
            ins.write(&[clickhouse_connect::Value::from(i), clickhouse_connect::Value::from(format!("row {i}"))])
                .await
                .unwrap();
        }
        ins.end().await.unwrap()
    });
    assert_eq!(summary.rows, 20_000_000);
    assert_eq!(summary.server.map(|s| s.written_rows), Some(20_000_000));
    let peak = common::peak_rss_kib();
    eprintln!("peak RSS {} MiB after {} MB inserted", peak / 1024, summary.bytes / 1_000_000);
    assert!(peak < 64 * 1024, "peak RSS {peak} KiB");
    admin.command(&format!("DROP TABLE {t}")).unwrap();

    // Highly compressible data in the compression the client decodes itself (ClickHouse frames, LZ4
    // frames): a 64 KiB chunk of zstd frames of zeros is gigabytes decoded. The chunk is decoded frame by
    // frame while the consumer has room; memory stays bounded under a consumer that stops for 2 s.
    for mode in [Compression::Zstd, Compression::Lz4, Compression::Http(ContentEncoding::Lz4)] {
        let mut o = common::options("CH_MODERN_URL");
        o.compression = mode.clone();
        let z = rt.block_on(AsyncClient::connect(o)).unwrap();
        let rows = rt.block_on(async {
            let mut s = z.query_blocks("SELECT toUInt64(0) AS z FROM numbers(300000000)");
            let (mut rows, mut blocks) = (0u64, 0u64);
            while let Some(b) = s.next().await {
                rows += b.unwrap().rows() as u64;
                blocks += 1;
                if blocks == 2 {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
            }
            rows
        });
        assert_eq!(rows, 300_000_000, "{mode:?}");
        let peak = common::peak_rss_kib();
        eprintln!("peak RSS {} MiB after 2.4 GB of zeros in {mode:?}", peak / 1024);
        assert!(peak < 64 * 1024, "{mode:?}: peak RSS {peak} KiB");
    }
    // The HTTP encodings libcurl decodes are not paused (memory follows the server there), but they
    // never fail: the whole result arrives.
    for enc in [ContentEncoding::Zstd, ContentEncoding::Gzip] {
        let mut o = common::options("CH_MODERN_URL");
        o.compression = Compression::Http(enc);
        let z = rt.block_on(AsyncClient::connect(o)).unwrap();
        let rows = rt.block_on(async {
            let mut s = z.query_blocks("SELECT toUInt64(0) AS z FROM numbers(50000000)");
            let mut rows = 0u64;
            while let Some(b) = s.next().await {
                rows += b.unwrap_or_else(|e| panic!("{enc:?}: {e}")).rows() as u64;
            }
            rows
        });
        assert_eq!(rows, 50_000_000, "{enc:?}");
    }
}
