//! Decode throughput per type family beside a memcpy baseline measured in the same run.
//!
//! Buffers are Native blocks as ClickHouse 26.9 lays them out (65,409-row blocks, the server's default
//! `max_block_size` for numbers()), built with this crate's encoder, which the integration tests check
//! byte-compatible with the server. Each iteration feeds the whole buffer in 64 KiB chunks (what libcurl
//! hands the write callback on loopback at most) through one reused decoder, as a query does.

use clickhouse_connect::native::{BlockDecoder, ColumnEncoder, FixedBuilder, StringBuilder, write_block};
use criterion::{Criterion, Throughput, black_box, criterion_group, criterion_main};

const ROWS_PER_BLOCK: u64 = 65_409;
const BLOCKS: u64 = 32;
const CHUNK: usize = 64 * 1024;

fn buffer(make: impl Fn(u64) -> Box<dyn ColumnEncoder>) -> Vec<u8> {
    let mut out = Vec::new();
    for b in 0..BLOCKS {
        let col = make(b * ROWS_PER_BLOCK);
        write_block(&mut out, &[("c", col.as_ref())]).unwrap();
    }
    out
}

fn decode_all(decoder: &mut BlockDecoder, bytes: &[u8]) -> usize {
    let mut rows = 0;
    for chunk in bytes.chunks(CHUNK) {
        let mut c = chunk;
        while let Some(b) = decoder.feed(&mut c).unwrap() {
            rows += b.rows();
        }
    }
    rows
}

fn benches(c: &mut Criterion) {
    let u64s = buffer(|start| {
        let mut b = FixedBuilder::<u64>::new("UInt64");
        for i in start..start + ROWS_PER_BLOCK {
            b.push(i);
        }
        Box::new(b)
    });
    let strings = buffer(|start| {
        let mut b = StringBuilder::new();
        for i in start..start + ROWS_PER_BLOCK {
            b.push(i.to_string());
        }
        Box::new(b)
    });

    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Bytes(u64s.len() as u64));
    // Baseline: the same bytes copied in the same 64 KiB chunks into a block-sized destination that is
    // reused block after block, which is exactly the data movement the decoder cannot avoid.
    let block_bytes = (ROWS_PER_BLOCK * 8) as usize;
    let mut dst = vec![0u8; block_bytes];
    g.bench_function("memcpy_baseline", |b| {
        b.iter(|| {
            let mut at = 0;
            for chunk in u64s.chunks(CHUNK) {
                if at + chunk.len() > block_bytes {
                    at = 0;
                }
                dst[at..at + chunk.len()].copy_from_slice(black_box(chunk));
                at += chunk.len();
            }
            black_box(&dst);
        })
    });
    let mut d = BlockDecoder::new();
    g.bench_function("uint64", |b| b.iter(|| black_box(decode_all(&mut d, &u64s))));
    g.throughput(Throughput::Bytes(strings.len() as u64));
    let mut d = BlockDecoder::new();
    g.bench_function("string_short", |b| b.iter(|| black_box(decode_all(&mut d, &strings))));
    g.finish();
}

criterion_group! {
    name = decode;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = benches
}
criterion_main!(decode);
