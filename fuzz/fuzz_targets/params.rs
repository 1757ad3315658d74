#![no_main]
//! The parameter formatter (literals, `%s` / `%(name)s` substitution) and the placeholder scanners.
libfuzzer_sys::fuzz_target!(|data: &[u8]| clickhouse_connect::fuzzing::params(data));
