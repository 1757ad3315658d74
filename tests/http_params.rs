//! The HTTP interface's own parameters given as per-call (or client) settings, as the Python driver
//! documents them: `buffer_size`, `session_id`, `compress`, `decompress`, `session_timeout`,
//! `session_check`, `query_id`, `quota_key`, `wait_end_of_query`.

//! On both drivers (the blocking `Client` and the `AsyncClient`).

mod common;
#[path = "common/drivers.rs"]
mod drivers;

use clickhouse_connect::{CallOptions, Value};
use common::{modern, table};
use drivers::Driver;

#[test]
fn session_id_as_a_call_setting_wins_over_the_clients_session() {
    for c in Driver::both_with("CH_MODERN_URL", |o| o.session_id = Some(format!("client-{}", table("s")))) {
        session_id_as_a_call_setting(&c);
    }
}

fn session_id_as_a_call_setting(c: &Driver) {
    let mine = format!("call-{}", table("s"));
    let opts = CallOptions::new().setting("session_id", &mine);
    c.command_with("CREATE TEMPORARY TABLE tmp_http_params (x UInt8)", &opts).unwrap();
    c.command_with("INSERT INTO tmp_http_params VALUES (7)", &opts).unwrap();
    assert_eq!(c.command_with("SELECT x FROM tmp_http_params", &opts).unwrap(), "7");
    let r = c.query_with("SELECT x FROM tmp_http_params", &opts).unwrap();
    assert_eq!(r.rows, vec![vec![Value::UInt8(7)]]);
    // The client's own session does not have it.
    assert!(c.command("SELECT x FROM tmp_http_params").is_err());
    // session_check: a session that does not exist is an error, so the parameter reached the server.
    let check = CallOptions::new().setting("session_id", format!("none-{}", table("s"))).setting("session_check", 1);
    assert!(c.command_with("SELECT 1", &check).is_err());
    let timeout = CallOptions::new().setting("session_id", &mine).setting("session_timeout", 60);
    assert_eq!(c.command_with("SELECT x FROM tmp_http_params", &timeout).unwrap(), "7");
}

#[test]
fn compress_and_decompress_as_call_settings() {
    for c in Driver::both("CH_MODERN_URL") {
        compress_and_decompress(&c);
    }
    // compress=0 turns the client's frames off for the call.
    for framed in Driver::both_with("CH_MODERN_URL", |o| o.compression = clickhouse_connect::Compression::Lz4) {
        assert_eq!(framed.command_with("SELECT 42", &CallOptions::new().setting("compress", 0)).unwrap(), "42");
    }
}

fn compress_and_decompress(c: &Driver) {
    let compressed = CallOptions::new().setting("compress", 1);
    let r = c.query_with("SELECT number FROM numbers(100000)", &compressed).unwrap();
    assert_eq!(r.rows.len(), 100_000);
    assert_eq!(c.command_with("SELECT 'it''s', 42", &compressed).unwrap(), "it\\'s\t42");
    assert_eq!(c.raw_query_with("SELECT 1", Some("TSV"), &compressed).unwrap(), b"1\n");
    let t = table("http_decompress");
    c.command(&format!("CREATE TABLE {t} (id UInt64) ENGINE = Memory")).unwrap();
    let rows: Vec<Vec<Value>> = (0..1000u64).map(|i| vec![Value::from(i)]).collect();
    c.insert_with(&t, &[], &rows, &CallOptions::new().setting("decompress", 1)).unwrap();
    c.inserter(&t, &[], 100, &[vec![Value::from(5000u64)]], &CallOptions::new().setting("decompress", 1)).unwrap();
    let want = modern().command("SELECT count() + 1, sum(number) + 5000 FROM numbers(1000)").unwrap();
    assert_eq!(c.command(&format!("SELECT count(), sum(id) FROM {t}")).unwrap(), want, "{}", c.name());
    c.command(&format!("DROP TABLE {t}")).unwrap();
}

#[test]
fn query_id_and_the_other_http_parameters_as_call_settings() {
    for c in Driver::both("CH_MODERN_URL") {
        query_id_and_the_others(&c);
    }
}

fn query_id_and_the_others(c: &Driver) {
    let id = format!("http-param-{}", table("q"));
    let opts = CallOptions::new()
        .setting("query_id", &id)
        .setting("buffer_size", 4096)
        .setting("wait_end_of_query", 1)
        .setting("quota_key", "k1");
    let r = c.query_with("SELECT number FROM numbers(10)", &opts).unwrap();
    assert_eq!(r.query_id.as_deref(), Some(id.as_str()));
    assert_eq!(r.rows.len(), 10);
    // With wait_end_of_query the summary covers the whole query.
    assert_eq!(r.summary.map(|s| s.result_rows), Some(10));
}
