//! Parameter formatting: client-side `%(name)s` / `%s` substitution into literals, server-side
//! `param_name` rendering, and single literals of common kinds.
//!
//! `cargo bench --bench params`

use clickhouse_connect::format::TextRenderer;
use clickhouse_connect::params::{LiteralWriter, format_query, server_params};
use clickhouse_connect::{Value, params};
use criterion::{Criterion, Throughput, black_box, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let named = params! {
        "id" => 123_456_789u64,
        "name" => "it's a \\ name",
        "amount" => 1234.5678f64,
        "ts" => "2024-02-29T12:34:56.789Z".parse::<jiff::Timestamp>().unwrap(),
        "tags" => Value::array(["a", "b", "c"]),
        "maybe" => None::<i32>,
    };
    let sql = "SELECT * FROM t WHERE id = %(id)s AND name = %(name)s AND amount > %(amount)s \
               AND ts < %(ts)s AND hasAny(tags, %(tags)s) AND x = %(maybe)s";
    let mut g = c.benchmark_group("params");
    g.throughput(Throughput::Elements(named.len() as u64));
    g.bench_function("client_named_6_values", |b| b.iter(|| format_query(black_box(sql), &named, &[]).unwrap()));
    let typed = "SELECT * FROM t WHERE id = {id:UInt64} AND name = {name:String} AND amount > {amount:Float64} \
                 AND ts < {ts:DateTime64(3, 'UTC')} AND hasAny(tags, {tags:Array(String)}) AND x = {maybe:Nullable(Int32)}";
    let mut renderer = TextRenderer::new("UTC");
    g.bench_function("server_named_6_values", |b| {
        b.iter(|| server_params(black_box(typed), &named, &mut renderer).unwrap())
    });
    let big = Value::array((0..1000u32).map(|i| format!("value {i}")));
    g.throughput(Throughput::Elements(1000));
    let mut w = LiteralWriter::new();
    let mut out = String::new();
    g.bench_function("literal_array_1000_strings", |b| {
        b.iter(|| {
            out.clear();
            w.write(&mut out, black_box(&big));
        })
    });
    let floats = Value::array((0..1000).map(|i| f64::from(i) * 0.37));
    g.bench_function("literal_array_1000_floats", |b| {
        b.iter(|| {
            out.clear();
            w.write(&mut out, black_box(&floats));
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
