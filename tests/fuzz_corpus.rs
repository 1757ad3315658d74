//! Replays every saved fuzz corpus input (seeds captured from the real server, and anything the fuzzers
//! found) through the same harnesses the cargo-fuzz targets use, on stable Rust.

use std::path::Path;

fn replay(target: &str, harness: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_file() {
            let data = std::fs::read(&path).unwrap();
            harness(&data);
            n += 1;
        }
    }
    assert!(n > 0, "no corpus inputs in {}", dir.display());
    eprintln!("{target}: replayed {n} inputs");
}

#[test]
fn decode_native_corpus() {
    replay("decode_native", clickhouse_connect::fuzzing::decode_native);
}

#[test]
fn type_grammar_corpus() {
    replay("type_grammar", clickhouse_connect::fuzzing::type_grammar);
}

#[test]
fn compressed_frames_corpus() {
    replay("compressed_frames", clickhouse_connect::fuzzing::compressed_frames);
}

#[test]
fn lz4_frames_corpus() {
    replay("lz4_frames", clickhouse_connect::fuzzing::lz4_frames);
}

#[test]
fn headers_corpus() {
    replay("headers", clickhouse_connect::fuzzing::headers);
}

#[test]
fn params_corpus() {
    replay("params", clickhouse_connect::fuzzing::params);
}

#[test]
fn readers_corpus() {
    replay("readers", clickhouse_connect::fuzzing::readers);
}
