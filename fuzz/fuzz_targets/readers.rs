#![no_main]
//! The insert readers (JSONEachRow, TSV, CSV) on arbitrary bytes.
libfuzzer_sys::fuzz_target!(|data: &[u8]| clickhouse_connect::fuzzing::readers(data));
