//! Shared helpers for integration tests: where the real servers are. Tests never skip: a missing server
//! is a failure that says how to start one.
#![allow(dead_code)]

use clickhouse_connect::{Client, ClientOptions};

/// Reads a variable set by `scripts/clickhouse-servers env`, or fails with instructions.
pub fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: these tests need the real ClickHouse servers. Run `scripts/test`, or start them \
             with `scripts/clickhouse-servers start` and load their addresses with \
             `eval \"$(scripts/clickhouse-servers env)\"`"
        )
    })
}

/// Options for a server URL variable (`CH_MODERN_URL`, `CH_LEGACY_URL`, …).
pub fn options(var: &str) -> ClientOptions {
    ClientOptions::from_url(&env(var)).unwrap_or_else(|e| panic!("{var}: {e}"))
}

/// A connected client, failing loudly with instructions when the server is not there.
pub fn connect(var: &str) -> Client {
    Client::new(options(var)).unwrap_or_else(|e| {
        panic!(
            "cannot reach the ClickHouse server at {var}={}: {e}. Start it with `scripts/clickhouse-servers start`",
            env(var)
        )
    })
}

pub fn modern() -> Client {
    connect("CH_MODERN_URL")
}

pub fn legacy() -> Client {
    connect("CH_LEGACY_URL")
}

/// A table name unique to this test process and call site.
pub fn table(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!("{prefix}_{}_{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// Every type in the codec's scope that generateRandom produces, plus composites nested three deep.
pub const TYPES: &[&str] = &[
    "UInt8",
    "UInt16",
    "UInt32",
    "UInt64",
    "UInt128",
    "UInt256",
    "Int8",
    "Int16",
    "Int32",
    "Int64",
    "Int128",
    "Int256",
    "Float32",
    "Float64",
    "Bool",
    "Decimal32(4)",
    "Decimal64(9)",
    "Decimal128(20)",
    "Decimal256(40)",
    "Decimal(12, 0)",
    "String",
    "FixedString(5)",
    "UUID",
    "IPv4",
    "IPv6",
    "Date",
    "Date32",
    "DateTime",
    "DateTime('Asia/Kolkata')",
    "DateTime('America/New_York')",
    "DateTime64(3)",
    "DateTime64(9, 'Europe/Moscow')",
    "DateTime64(0, 'UTC')",
    "Enum8('a' = -128, 'b\\'q' = 0, 'c' = 127)",
    "Enum16('x' = -32768, 'y' = 1, 'z\\\\' = 32767)",
    "Nullable(UInt64)",
    "Nullable(String)",
    "Nullable(Float64)",
    "Nullable(DateTime64(6, 'Asia/Tokyo'))",
    "Array(UInt8)",
    "Array(String)",
    "Array(Nullable(Int32))",
    "Array(Array(Array(Nullable(String))))",
    "Array(Tuple(UInt8, Array(Date)))",
    "Tuple(a Int64, b String, c Array(Nullable(UInt16)))",
    "Tuple(Tuple(Tuple(Float32, IPv6), UUID), Decimal64(3))",
    "Map(String, UInt64)",
    "Map(UInt32, Array(Nullable(String)))",
    "Map(String, Map(String, Array(Int8)))",
    "LowCardinality(String)",
    "LowCardinality(Nullable(String))",
    "LowCardinality(FixedString(3))",
    "LowCardinality(UInt32)",
    "Array(LowCardinality(String))",
    "Map(LowCardinality(String), LowCardinality(Nullable(String)))",
    "Array(Map(String, Tuple(x Nullable(Decimal128(10)), y Array(LowCardinality(Nullable(String))))))",
    "Nested(a UInt8, b String)",
    "Point",
    "Ring",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
];

/// `c0 T0, c1 T1, …` for a group of types, escaped for use inside a single-quoted SQL string when
/// `for_string` is set.
pub fn structure(types: &[&str], for_string: bool) -> String {
    let s: Vec<String> = types.iter().enumerate().map(|(j, t)| format!("c{j} {t}")).collect();
    let s = s.join(", ");
    if for_string { s.replace('\\', "\\\\").replace('\'', "\\'") } else { s }
}
