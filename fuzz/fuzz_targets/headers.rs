#![no_main]
//! Summary/progress JSON, exception texts and exception trailers on arbitrary input.
libfuzzer_sys::fuzz_target!(|data: &[u8]| clickhouse_connect::fuzzing::headers(data));
