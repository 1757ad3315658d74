#![no_main]
//! ClickHouse compressed frames (compress=1) on arbitrary bytes in random chunks.
libfuzzer_sys::fuzz_target!(|data: &[u8]| clickhouse_connect::fuzzing::compressed_frames(data));
