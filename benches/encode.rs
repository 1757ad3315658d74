//! Encode throughput per type family, on the same Native blocks captured from the real ClickHouse 26.9
//! server as the decode bench (`benches/data/*.native`, 65,536 rows each), beside a memcpy baseline
//! measured in the same run.
//!
//! Each captured block is decoded once; its values fill the builders an insert would use
//! ([`builder_for`] on the column's type). Two costs are measured per family:
//! - `encode/<family>`: writing the filled builders as a Native block into a reused buffer
//!   ([`write_block`]) — what every insert pays per block. Throughput is in bytes of that block; the
//!   memcpy baseline copies a block of the same size into a reused buffer.
//! - `encode_values/<family>`: pushing the 65,536 [`Value`]s into the builders (each checked and
//!   converted) and writing the block — what row inserts and the streaming `Inserter` pay.
//!
//! Before timing, every encoded block is decoded again and compared value by value with the server's,
//! so the bench measures an encoder that is right.

use clickhouse_connect::Value;
use clickhouse_connect::native::{BlockDecoder, ColumnEncoder, write_block};
use clickhouse_connect::native::{ValueBuilder, builder_for};
use criterion::{Criterion, Throughput, black_box, criterion_group, criterion_main};

const FAMILIES: [&str; 6] = ["uint64", "nullable_uint64", "string", "string_varied", "low_cardinality", "array_uint8"];

/// A captured block's columns: names, type descriptions and every value, owned.
struct Captured {
    names: Vec<String>,
    types: Vec<clickhouse_connect::native::TypeDesc>,
    columns: Vec<Vec<Value<'static>>>,
}

fn captured(name: &str) -> Captured {
    let path = format!("{}/benches/data/{name}.native", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e} (run scripts/capture-golden)"));
    decode_block(&bytes, BlockDecoder::with_block_info())
}

fn decode_block(mut bytes: &[u8], mut d: BlockDecoder) -> Captured {
    let block = d.feed(&mut bytes).expect("decodes").expect("one whole block");
    let cols = block.columns();
    Captured {
        names: cols.iter().map(|c| c.name().to_string()).collect(),
        types: cols.iter().map(|c| c.desc().clone()).collect(),
        columns: cols.iter().map(|c| (0..block.rows()).map(|r| c.column().value(r).into_owned()).collect()).collect(),
    }
}

fn builders(c: &Captured) -> Vec<Box<dyn ValueBuilder>> {
    c.types.iter().map(|t| builder_for(t).expect("a builder for every captured type")).collect()
}

fn push_all(c: &Captured, b: &mut [Box<dyn ValueBuilder>]) {
    for (values, builder) in c.columns.iter().zip(b.iter_mut()) {
        for v in values {
            builder.push(v).expect("the server's own values fit their type");
        }
    }
}

fn write(c: &Captured, b: &[Box<dyn ValueBuilder>], out: &mut Vec<u8>) {
    out.clear();
    let cols: Vec<(&str, &dyn ColumnEncoder)> =
        c.names.iter().zip(b).map(|(n, b)| (n.as_str(), b as &dyn ColumnEncoder)).collect();
    write_block(out, &cols).expect("equal column lengths");
}

fn encode(cr: &mut Criterion) {
    let mut g = cr.benchmark_group("encode");
    let mut out = Vec::new();
    for family in FAMILIES {
        let c = captured(family);
        let mut b = builders(&c);
        push_all(&c, &mut b);
        write(&c, &b, &mut out);
        let again = decode_block(&out, BlockDecoder::new());
        assert!(again.names == c.names && again.columns == c.columns, "{family}: encoded block decodes differently");

        g.throughput(Throughput::Bytes(out.len() as u64));
        if family == "uint64" {
            let src = out.clone();
            let mut dst = vec![0u8; src.len()];
            g.bench_function("memcpy_baseline", |bn| {
                bn.iter(|| {
                    dst.copy_from_slice(black_box(&src));
                    black_box(&dst);
                })
            });
        }
        g.bench_function(family, |bn| bn.iter(|| write(&c, &b, black_box(&mut out))));
    }
    g.finish();

    let mut g = cr.benchmark_group("encode_values");
    for family in FAMILIES {
        let c = captured(family);
        g.throughput(Throughput::Elements(c.columns[0].len() as u64));
        let mut b = builders(&c);
        g.bench_function(family, |bn| {
            bn.iter(|| {
                for builder in b.iter_mut() {
                    builder.clear(); // keeps capacity, as the Inserter does between blocks
                }
                push_all(&c, &mut b);
                write(&c, &b, black_box(&mut out));
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(3));
    targets = encode
}
criterion_main!(benches);
