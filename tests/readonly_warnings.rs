//! A readonly user asking for what the client adds settings for (progress, frame compression) and
//! passing settings of its own: everything a read-only workload needs works, and each setting the
//! client drops is reported by exactly one logged warning. (Its own test binary: it installs the
//! process-wide logger.)

//! The async client (which plans its calls with the same code) is checked in the same run: its warnings
//! count with the blocking client's, once per setting per client.

mod common;

use clickhouse_connect::{AsyncClient, CallOptions, Client, Compression};
use std::sync::Mutex;

static WARNINGS: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.level() <= log::Level::Warn
    }
    fn log(&self, r: &log::Record<'_>) {
        if self.enabled(r.metadata()) {
            WARNINGS.lock().unwrap().push(r.args().to_string());
        }
    }
    fn flush(&self) {}
}

#[test]
fn a_readonly_workload_runs_with_one_warning_per_dropped_setting() {
    static LOGGER: Capture = Capture;
    log::set_logger(&LOGGER).unwrap();
    log::set_max_level(log::LevelFilter::Warn);
    let mut o = common::options("CH_MODERN_URL");
    o.username = common::env("CH_READONLY_USER");
    o.compression = Compression::Lz4;
    o.send_progress = true;
    o.settings.push(("max_threads".into(), "2".into()));
    let c = Client::new(o.clone()).unwrap();
    let opts = CallOptions::new().setting("max_block_size", 1000).on_progress(|_| {});
    for _ in 0..3 {
        assert_eq!(c.query_with("SELECT number FROM numbers(5000)", &opts).unwrap().rows.len(), 5000);
        assert_eq!(c.command_with("SELECT 7", &opts).unwrap().get::<u8>().unwrap(), 7);
        let ids: Vec<u64> = c.query_column_with("SELECT number FROM numbers(10)", 0, &opts).unwrap();
        assert_eq!(ids.len(), 10);
        assert!(!c.raw_query_with("SELECT 1", Some("TSV"), &opts).unwrap().is_empty());
    }
    let warnings = WARNINGS.lock().unwrap().clone();
    for setting in ["network_compression_method", "send_progress_in_http_headers", "max_threads"] {
        let n = warnings.iter().filter(|w| w.contains(setting)).count();
        assert_eq!(n, 1, "{setting}: {warnings:#?}");
    }
    // max_block_size comes with every call: it is reported once as well.
    assert_eq!(warnings.iter().filter(|w| w.contains("max_block_size")).count(), 1, "{warnings:#?}");
    // The same workload on the async client: everything works, and its own warnings come once each.
    WARNINGS.lock().unwrap().clear();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let a = AsyncClient::connect(o).await.unwrap();
        for _ in 0..3 {
            assert_eq!(a.query_with("SELECT number FROM numbers(5000)", &opts).await.unwrap().rows.len(), 5000);
            assert_eq!(a.command_with("SELECT 7", &opts).await.unwrap().get::<u8>().unwrap(), 7);
            assert!(!a.raw_query_with("SELECT 1", Some("TSV"), &opts).await.unwrap().is_empty());
        }
    });
    let warnings = WARNINGS.lock().unwrap().clone();
    for setting in ["network_compression_method", "send_progress_in_http_headers", "max_threads", "max_block_size"] {
        let n = warnings.iter().filter(|w| w.contains(setting)).count();
        assert_eq!(n, 1, "async: {setting}: {warnings:#?}");
    }
}
