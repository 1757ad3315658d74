#![no_main]
//! The Native block decoder on arbitrary bytes, fed whole and in random chunk splits.
libfuzzer_sys::fuzz_target!(|data: &[u8]| clickhouse_connect::fuzzing::decode_native(data));
