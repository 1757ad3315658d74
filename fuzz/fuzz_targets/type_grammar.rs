#![no_main]
//! The type grammar on arbitrary text; canonical forms must round-trip.
libfuzzer_sys::fuzz_target!(|data: &[u8]| clickhouse_connect::fuzzing::type_grammar(data));
