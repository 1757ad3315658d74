//! The Python driver's documentation, in Rust: Basic Usage, the Client Creation examples that can run
//! on this machine, the settings example and both parameter examples, each printing what the
//! documentation shows (and checking it: the example fails when an output differs).
//!
//! ```sh
//! eval "$(scripts/clickhouse-servers env)"   # CH_MODERN_URL, and CH_TLS_URL/CH_TLS_CA for https
//! cargo run --example driver_docs
//! ```
//!
//! Python → Rust, side by side in the comments. `tests/driver_docs.rs` runs this against the real
//! servers.

use clickhouse_connect::{CallOptions, Client, ClientOptions, Value, params};
use std::net::Ipv4Addr;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn expect(what: &str, got: impl std::fmt::Display, want: &str) -> Result<()> {
    let got = got.to_string();
    println!("{what}\nOut: {got}");
    if got != want {
        return Err(format!("{what}: got {got:?}, the documentation shows {want:?}").into());
    }
    Ok(())
}

/// Options for the local server the examples run against (the documentation's `localhost:8123`).
fn local() -> Result<ClientOptions> {
    let url = std::env::var("CH_MODERN_URL").or_else(|_| std::env::var("CLICKHOUSE_URL"))?;
    Ok(ClientOptions::from_url(&url)?)
}

#[allow(dead_code)]
fn main() -> Result<()> {
    run()
}

/// Every example, in the documentation's order.
pub fn run() -> Result<()> {
    basic_usage()?;
    client_creation()?;
    command_returns_a_value()?;
    settings_argument()?;
    parameters_argument()?;
    Ok(())
}

fn basic_usage() -> Result<()> {
    // client = clickhouse_connect.get_client(host='localhost', username='default', password='password')
    let local = local()?;
    let client = Client::new(ClientOptions {
        host: local.host.clone(),
        port: local.port,
        username: "default".into(),
        password: String::new(), // the local server's default user has no password
        ..Default::default()
    })?;
    client.command("DROP TABLE IF EXISTS new_table")?;
    // client.command('CREATE TABLE new_table (key UInt32, value String, metric Float64) ENGINE MergeTree ORDER BY key')
    client
        .command("CREATE TABLE new_table (key UInt32, value String, metric Float64) ENGINE MergeTree ORDER BY key")?;
    // row1 = [1000, 'String Value 1000', 5.233]; row2 = [2000, 'String Value 2000', -107.04]
    // client.insert('new_table', data, column_names=['key', 'value', 'metric'])
    let data = vec![
        vec![Value::from(1000u32), Value::from("String Value 1000"), Value::from(5.233)],
        vec![Value::from(2000u32), Value::from("String Value 2000"), Value::from(-107.04)],
    ];
    client.insert("new_table", &["key", "value", "metric"], &data)?;
    // result = client.query('SELECT max(key), avg(metric) FROM new_table'); result.result_set
    let result = client.query("SELECT max(key), avg(metric) FROM new_table")?;
    let rows: Vec<String> = result
        .rows
        .iter()
        .map(|r| format!("({})", r.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", ")))
        .collect();
    expect("result.result_set", format!("[{}]", rows.join(", ")), "[(2000, -50.9035)]")?;
    client.command("DROP TABLE new_table")?;
    Ok(())
}

fn client_creation() -> Result<()> {
    // client = clickhouse_connect.get_client(); client.server_version
    // (no parameters means localhost:8123 as the default user; here the local test server's port)
    let local = local()?;
    let client = Client::new(ClientOptions { port: local.port, host: local.host.clone(), ..Default::default() })?;
    println!("client.server_version\nOut: '{}'", client.server_version());

    // get_client(host='play.clickhouse.com', secure=True, port=443, user='play', password='clickhouse')
    // client.command('SELECT timezone()')  -> 'Etc/UTC'
    // No network here: the same over HTTPS to the local server behind nginx, with its test CA.
    if let (Ok(url), Ok(ca)) = (std::env::var("CH_TLS_URL"), std::env::var("CH_TLS_CA")) {
        let mut o = ClientOptions::from_url(&url)?;
        o.interface = "https".into();
        o.ca_cert = Some(ca);
        let secure = Client::new(o)?;
        expect(
            "client.command('SELECT timezone()')",
            format!("'{}'", secure.command("SELECT timezone()")?),
            "'Etc/UTC'",
        )?;
    }

    // get_client(host=…, session_id='example_session_1', connect_timeout=15, database='github',
    //            distributed_ddl_task_timeout=300); client.database  -> 'github'
    client.command("CREATE DATABASE IF NOT EXISTS github")?;
    let client = Client::new(ClientOptions {
        session_id: Some("example_session_1".into()),
        connect_timeout: std::time::Duration::from_secs(15),
        database: Some("github".into()),
        settings: vec![("distributed_ddl_task_timeout".into(), "300".into())],
        ..local.clone()
    })?;
    expect("client.database", format!("'{}'", client.database()), "'github'")?;
    Ok(())
}

fn command_returns_a_value() -> Result<()> {
    // result = client.command('SELECT count() FROM system.tables')  -> 110 (an integer)
    let client = Client::new(local()?)?;
    let result = client.command("SELECT count() FROM system.tables")?;
    let n: u64 = result.get()?;
    println!("client.command('SELECT count() FROM system.tables')\nOut: {n}");
    Ok(())
}

fn settings_argument() -> Result<()> {
    // settings = {'merge_tree_min_rows_for_concurrent_read': 65535, 'session_id': 'session_1234',
    //             'use_skip_indexes': False}
    // client.query("SELECT event_type, sum(timeout) FROM event_errors WHERE event_time > '2022-08-01'", settings=settings)
    let client = Client::new(local()?)?;
    client.command(
        "CREATE TABLE IF NOT EXISTS event_errors (event_type String, timeout UInt32, event_time DateTime) \
         ENGINE = MergeTree ORDER BY event_time",
    )?;
    let settings = CallOptions::new()
        .setting("merge_tree_min_rows_for_concurrent_read", 65535)
        .setting("session_id", "session_1234")
        .setting("use_skip_indexes", false);
    let r = client.query_with(
        "SELECT event_type, sum(timeout) FROM event_errors WHERE event_time > '2022-08-01' GROUP BY event_type",
        &settings,
    )?;
    println!("settings example: {} rows", r.rows.len());
    client.command("DROP TABLE event_errors")?;
    Ok(())
}

fn parameters_argument() -> Result<()> {
    // my_date = datetime.datetime(2022, 10, 01, 15, 20, 5)
    // parameters = {'v1': my_date, 'v2': "a string with a single quote'"}
    // client.query('SELECT * FROM some_table WHERE date >= %(v1)s AND string ILIKE %(v2)s', parameters=parameters)
    let my_date = jiff::civil::date(2022, 10, 1).at(15, 20, 5, 0);
    let parameters = params! { "v1" => my_date, "v2" => "a string with a single quote'" };
    let sql = "SELECT * FROM some_table WHERE date >= %(v1)s AND string ILIKE %(v2)s";
    expect(
        "# Generates the following query:",
        clickhouse_connect::params::format_query(sql, &parameters, &[])?,
        "SELECT * FROM some_table WHERE date >= '2022-10-01 15:20:05' AND string ILIKE 'a string with a single quote\\''",
    )?;
    // parameters = (35200.44, ipaddress.IPv4Address(0x443d04fe))
    // client.query('SELECT * FROM some_table WHERE metric >= %s AND ip_address = %s', parameters=parameters)
    let parameters = [Value::from(35200.44), Value::from(Ipv4Addr::from(0x443d04fe))];
    let sql = "SELECT * FROM some_table WHERE metric >= %s AND ip_address = %s";
    expect(
        "# Generates the following query:",
        clickhouse_connect::params::format_query(sql, &[], &parameters)?,
        "SELECT * FROM some_table WHERE metric >= 35200.44 AND ip_address = '68.61.4.254'",
    )?;
    // And both run, against a table of that shape.
    let client = Client::new(local()?)?;
    client.command(
        "CREATE TABLE IF NOT EXISTS some_table (date DateTime, string String, metric Float64, ip_address IPv4) \
         ENGINE = Memory",
    )?;
    client.insert(
        "some_table",
        &[],
        &[vec![
            Value::from(my_date),
            Value::from("A STRING WITH A SINGLE QUOTE'"),
            Value::from(40000.0),
            Value::from(Ipv4Addr::from(0x443d04fe)),
        ]],
    )?;
    let opts = CallOptions::new().params(params! { "v1" => my_date, "v2" => "a string with a single quote'" });
    let r = client.query_with("SELECT * FROM some_table WHERE date >= %(v1)s AND string ILIKE %(v2)s", &opts)?;
    expect("rows", r.rows.len(), "1")?;
    let opts = CallOptions::new().args((35200.44, Ipv4Addr::from(0x443d04fe)));
    let r = client.query_with("SELECT * FROM some_table WHERE metric >= %s AND ip_address = %s", &opts)?;
    expect("rows", r.rows.len(), "1")?;
    client.command("DROP TABLE some_table")?;
    Ok(())
}
