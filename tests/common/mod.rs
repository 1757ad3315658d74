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
