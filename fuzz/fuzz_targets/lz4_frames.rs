#![no_main]
//! LZ4 frames (Content-Encoding: lz4) on arbitrary bytes in random chunks.
libfuzzer_sys::fuzz_target!(|data: &[u8]| clickhouse_connect::fuzzing::lz4_frames(data));
