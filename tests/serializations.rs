//! The serializations 26.9 accepts but does not send over HTTP by default, hand-built and checked
//! against the server's own reading of the same bytes: compact Variant discriminators (the server
//! never writes them in Native, but reads them), and the version-2 structures of `Dynamic` and `JSON`
//! (what it writes to newer protocol revisions). Each block is inserted as is into a table, the server
//! renders what it stored, and our decoding of the same bytes must render the same.

mod common;
#[path = "common/drivers.rs"]
mod drivers;

use clickhouse_connect::format::TextRenderer;
use clickhouse_connect::native::BlockDecoder;
use common::*;

fn varuint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn string(out: &mut Vec<u8>, s: &str) {
    varuint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

fn u64le(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// The server's TSV of what it stored from `block`, against ours of the same bytes: decoded whole, one
/// byte at a time, and in two chunks cut at every position. The block is inserted as is by each driver
/// (the blocking `Client` and the `AsyncClient`), into a table of its own; our decoding of the bytes
/// needs no client.
fn same_as_server(columns: &str, block: &[u8]) {
    let mut servers = Vec::new();
    let mut tz = String::new();
    for c in drivers::Driver::both("CH_MODERN_URL") {
        let t = table("ser17");
        c.command(&format!("CREATE TABLE {t} ({columns}) ENGINE = Memory")).unwrap();
        c.raw_insert(&t, &[], "Native", block)
            .unwrap_or_else(|e| panic!("{}: the server refused the block: {e}", c.name()));
        let server = c.raw_query(&format!("SELECT * FROM {t}"), Some("TabSeparated")).unwrap();
        c.command(&format!("DROP TABLE {t}")).unwrap();
        tz = c.blocking().server_timezone().to_string();
        servers.push((c.name(), server));
    }
    let mut splits: Vec<Vec<&[u8]>> = vec![vec![block], block.chunks(1).collect()];
    splits.extend((1..block.len()).map(|cut| vec![&block[..cut], &block[cut..]]));
    for chunks in splits {
        let step = chunks[0].len();
        let mut d = BlockDecoder::new();
        let mut r = TextRenderer::new(&tz);
        let mut ours = Vec::new();
        for chunk in chunks {
            let mut chunk = chunk;
            while let Some(b) = d.feed(&mut chunk).unwrap() {
                let types: Vec<_> = b.columns().iter().map(|c| c.desc().clone()).collect();
                for row in 0..b.rows() {
                    for (i, (v, t)) in b.row(row).iter().zip(&types).enumerate() {
                        if i > 0 {
                            ours.push(b'\t');
                        }
                        r.write_tsv(&mut ours, v, t);
                    }
                    ours.push(b'\n');
                }
            }
        }
        d.finish().unwrap();
        for (name, server) in &servers {
            assert_eq!(
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(server),
                "first chunk of {step}, stored by the {name} driver"
            );
        }
    }
}

#[test]
fn compact_variant_discriminators_read_as_the_server_reads_them() {
    // Five rows in two granules: three of one alternative (compact), then a plain one with a NULL.
    let mut b = Vec::new();
    varuint(&mut b, 1);
    varuint(&mut b, 5);
    string(&mut b, "v");
    string(&mut b, "Variant(String, UInt64)");
    u64le(&mut b, 1); // compact mode
    b.extend_from_slice(&[3, 1, 1]); // 3 rows, compact granule, all UInt64
    b.extend_from_slice(&[2, 0, 0, 255]); // 2 rows, plain granule: a String, a NULL
    string(&mut b, "ab"); // the String rows
    for v in [7u64, 8, 9] {
        u64le(&mut b, v); // the UInt64 rows
    }
    same_as_server("v Variant(String, UInt64)", &b);
}

#[test]
fn version_2_dynamic_and_json_read_as_the_server_reads_them() {
    // d Dynamic: 5, 'x', NULL (alternatives by name: Int64, SharedVariant, String); j JSON: {"a":1},
    // {"a":2,"b":"x"}, {} with dynamic paths a (Int64) and b (String). Each column is whole (name,
    // type, prefix, data) before the next.
    let d_data = {
        let mut d = vec![0, 2, 255];
        d.extend_from_slice(&5i64.to_le_bytes());
        string(&mut d, "x");
        d
    };
    let mut block = Vec::new();
    varuint(&mut block, 2);
    varuint(&mut block, 3);
    string(&mut block, "d");
    string(&mut block, "Dynamic");
    u64le(&mut block, 2);
    varuint(&mut block, 2);
    string(&mut block, "Int64");
    string(&mut block, "String");
    u64le(&mut block, 0);
    block.extend_from_slice(&d_data);
    string(&mut block, "j");
    string(&mut block, "JSON");
    u64le(&mut block, 2);
    varuint(&mut block, 2);
    string(&mut block, "a");
    string(&mut block, "b");
    for t in ["Int64", "String"] {
        u64le(&mut block, 2);
        varuint(&mut block, 1);
        string(&mut block, t);
        u64le(&mut block, 0);
    }
    // a: Variant(Int64, SharedVariant): Int64, Int64, NULL.
    block.extend_from_slice(&[0, 0, 255]);
    block.extend_from_slice(&1i64.to_le_bytes());
    block.extend_from_slice(&2i64.to_le_bytes());
    // b: Variant(SharedVariant, String): NULL, String, NULL.
    block.extend_from_slice(&[255, 1, 255]);
    string(&mut block, "x");
    // Shared data: no paths in any row.
    for _ in 0..3 {
        u64le(&mut block, 0);
    }
    same_as_server("d Dynamic, j JSON", &block);
}
