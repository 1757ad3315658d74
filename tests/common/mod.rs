//! Shared helpers for integration tests: where the real servers are. Tests never skip: a missing server
//! is a failure that says how to start one.
#![allow(dead_code)]

pub mod cluster;
pub mod fault;
pub mod probe;

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

/// Peak resident memory of this test process (`VmHWM`), in KiB.
pub fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status")
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

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A TCP proxy to the real server that can be told to drop the next N connections (and cut the open
/// ones): a flaky network, for retry tests.
pub struct FlakyProxy {
    pub port: u16,
    drop_next: Arc<AtomicUsize>,
    pub dropped: Arc<AtomicUsize>,
    open: Arc<Mutex<Vec<TcpStream>>>,
    stop: Arc<AtomicBool>,
}

impl FlakyProxy {
    pub fn start(upstream: &str) -> FlakyProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let upstream = upstream.trim_start_matches("http://").trim_end_matches('/').to_string();
        let drop_next = Arc::new(AtomicUsize::new(0));
        let dropped = Arc::new(AtomicUsize::new(0));
        let open = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (d, n, op, st) = (drop_next.clone(), dropped.clone(), open.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if st.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(client) = conn else { continue };
                if d.load(Ordering::SeqCst) > 0 {
                    d.fetch_sub(1, Ordering::SeqCst);
                    n.fetch_add(1, Ordering::SeqCst);
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(&upstream) else { continue };
                op.lock().unwrap().push(client.try_clone().unwrap());
                for (mut from, mut to) in [(client.try_clone().unwrap(), server.try_clone().unwrap()), (server, client)]
                {
                    std::thread::spawn(move || {
                        let mut buf = [0u8; 65536];
                        while let Ok(k) = from.read(&mut buf) {
                            if k == 0 || to.write_all(&buf[..k]).is_err() {
                                break;
                            }
                        }
                        let _ = to.shutdown(Shutdown::Both);
                    });
                }
            }
        });
        FlakyProxy { port, drop_next, dropped, open, stop }
    }

    /// Drops the next `n` new connections and cuts the ones open now.
    pub fn fail_next(&self, n: usize) {
        self.drop_next.store(n, Ordering::SeqCst);
        self.dropped.store(0, Ordering::SeqCst);
        for s in self.open.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Drop for FlakyProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}
