//! Decode throughput per type family on Native blocks captured from the real ClickHouse 26.9 server
//! (`benches/data/*.native`, 65,536 rows each — 8,192 for `json50`, a JSON column with 50 typed paths
//! and two dynamic ones — made by `scripts/capture-golden`), beside a memcpy
//! baseline measured in the same run.
//!
//! Each captured block is repeated 32 times into one stream (as a long result would arrive) and fed in
//! 64 KiB chunks through one reused decoder, exactly as the transport feeds libcurl's chunks. The memcpy
//! baseline copies the same stream in the same chunks into a block-sized buffer: the data movement the
//! decoder cannot avoid.

use clickhouse_connect::native::{BlockDecoder, TypeDesc};
use criterion::{Criterion, Throughput, black_box, criterion_group, criterion_main};

const REPEAT: usize = 32;
const CHUNK: usize = 64 * 1024;

fn stream(name: &str) -> (Vec<u8>, usize) {
    let path = format!("{}/benches/data/{name}.native", env!("CARGO_MANIFEST_DIR"));
    let block = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e} (run scripts/capture-golden)"));
    (block.repeat(REPEAT), block.len())
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

fn decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("decode");
    let (u64s, block_len) = stream("uint64");
    g.throughput(Throughput::Bytes(u64s.len() as u64));
    let mut dst = vec![0u8; block_len];
    g.bench_function("memcpy_baseline", |b| {
        b.iter(|| {
            let mut at = 0;
            for chunk in u64s.chunks(CHUNK) {
                if at + chunk.len() > block_len {
                    at = 0;
                }
                dst[at..at + chunk.len()].copy_from_slice(black_box(chunk));
                at += chunk.len();
            }
            black_box(&dst);
        })
    });
    for name in ["uint64", "nullable_uint64", "string", "string_varied", "low_cardinality", "array_uint8", "json50"] {
        let (bytes, _) = stream(name);
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        let mut d = BlockDecoder::with_block_info();
        // 65,536 rows per block (8,192 for the JSON one, whose rows are ~330 bytes).
        let rows = if name == "json50" { 8_192 } else { 65_536 };
        assert_eq!(decode_all(&mut d, &bytes), rows * REPEAT);
        g.bench_function(name, |b| b.iter(|| black_box(decode_all(&mut d, &bytes))));
    }
    g.finish();
}

fn grammar(c: &mut Criterion) {
    let names = [
        "UInt64",
        "LowCardinality(Nullable(String))",
        "Map(String, Array(Tuple(a Nullable(Decimal(38, 10)), b DateTime64(9, 'America/New_York'))))",
    ];
    let mut g = c.benchmark_group("type_grammar");
    for n in names {
        g.bench_function(n.split('(').next().unwrap_or(n), |b| {
            b.iter(|| black_box(TypeDesc::parse(black_box(n)).unwrap()))
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = decode, grammar
}
criterion_main!(benches);
