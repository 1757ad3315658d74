//! The fault suite: every request path, broken by a loopback proxy at every stage of a request — before
//! it reaches the server, mid request, after the server executed it (before the first response byte),
//! mid response — by a reset, a clean close and a stall, in every compression mode.
//!
//! What is asserted comes from the server, never from the client's own report: executions of a
//! statement with side effects are counted in a table, inserted rows are counted (and checked for
//! duplicates) by the server. For each case:
//! - a call either fails or returns the whole, correct result (never a short one that looks complete);
//! - a statement with side effects runs at most once, exactly once when the call succeeded, and exactly
//!   once (with an error) when the fault hit after the server executed it;
//! - a streaming insert's table holds at least the rows the error reports as acknowledged and at most
//!   those plus the rows of the failed request; nothing is duplicated;
//! - an exactly-once insert always succeeds and the table holds every row exactly once.

mod common;

use clickhouse_connect::{Client, Compression, ContentEncoding, Error, RequestLimits, Value};
use common::fault::{Action, Direction, Fault, FaultProxy};
use common::{env, modern, options, table};
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Path {
    /// `command("INSERT INTO … SELECT …")`.
    Command,
    /// `query("INSERT INTO … SELECT …")` (the Native query path).
    QueryInsert,
    /// `raw_query("INSERT INTO … SELECT …")`.
    RawQueryInsert,
    /// `query("SELECT …")` of a 300k-row result.
    Select,
    /// `insert_with_types` of 20k rows (one request body).
    Insert,
    /// The streaming inserter, 200k rows in requests of 50k.
    Inserter,
    /// The same, exactly once.
    ExactlyOnce,
    /// `query_as::<(u64, u64)>` of the `Select` result (serde rows).
    QueryAs,
    /// `query_arrow` of the `Select` result.
    QueryArrow,
    /// `insert_arrow` of 20k rows (one request body).
    InsertArrow,
    /// A `TypedInserter` of `(u64, String)` rows, exactly once, in requests of 50k.
    TypedExactlyOnce,
    /// The async client (issue 19), on the I/O thread: `command`, `raw_query` and `query` of the
    /// `INSERT … SELECT`.
    AsyncCommand,
    AsyncRawQueryInsert,
    AsyncQueryInsert,
    /// `query` of the `Select` result.
    AsyncSelect,
    /// `query_blocks` (a stream) of the `Select` result.
    AsyncStream,
    /// `insert_with_types`'s async counterpart, `insert` of 20k rows.
    AsyncInsert,
    /// The async streaming inserter, 200k rows on one request.
    AsyncInserter,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    BeforeRequest,
    MidRequest,
    AfterExecuted,
    MidResponse,
}

const SELECT_ROWS: u64 = 300_000;
const INSERT_ROWS: u64 = 20_000;
const STREAM_ROWS: u64 = 200_000;
/// Where the streaming inserts are broken: after two requests of 50k rows were acknowledged.
const ARM_AT_ROW: u64 = 100_000;

fn compressions() -> Vec<Compression> {
    vec![
        Compression::None,
        Compression::Lz4,
        Compression::Zstd,
        Compression::Http(ContentEncoding::Gzip),
        Compression::Http(ContentEncoding::Zstd),
        Compression::Http(ContentEncoding::Lz4),
    ]
}

fn fault_for(path: Path, stage: Stage, action: Action) -> Fault {
    let streaming = matches!(
        path,
        Path::Inserter
            | Path::ExactlyOnce
            | Path::Insert
            | Path::InsertArrow
            | Path::TypedExactlyOnce
            | Path::AsyncInsert
            | Path::AsyncInserter
    );
    let (direction, at) = match stage {
        Stage::BeforeRequest => (Direction::Request, 0),
        // Inside the body for inserts, inside the headers (the SQL follows them) otherwise.
        Stage::MidRequest => (Direction::Request, if streaming { 3_000 } else { 150 }),
        Stage::AfterExecuted => (Direction::Response, 0),
        Stage::MidResponse => (
            Direction::Response,
            if matches!(path, Path::Select | Path::QueryAs | Path::QueryArrow | Path::AsyncSelect | Path::AsyncStream) {
                20_000
            } else {
                150
            },
        ),
    };
    Fault { direction, at, action }
}

/// A client through the proxy with a short stall timeout.
fn client_via(proxy: &FaultProxy, compression: &Compression) -> Client {
    client_via_to(proxy, compression, "CH_MODERN_URL")
}

/// Options for the server at `server_var`, reached through `proxy`.
fn proxied(proxy: &FaultProxy, server_var: &str) -> clickhouse_connect::ClientOptions {
    let mut o = options(server_var);
    o.host = "127.0.0.1".into();
    o.port = Some(proxy.port);
    o
}

fn client_via_to(proxy: &FaultProxy, compression: &Compression, server_var: &str) -> Client {
    let mut o = proxied(proxy, server_var);
    o.host = "127.0.0.1".into();
    o.port = Some(proxy.port);
    o.compression = compression.clone();
    o.send_receive_timeout = Duration::from_secs(1);
    Client::new(o).unwrap_or_else(|e| panic!("connecting through the proxy: {e}"))
}

fn count(server: &Client, sql: &str) -> u64 {
    server.command(sql).unwrap().parse().unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Runs one case; returns a description of what went wrong, if anything.
fn run_case(
    path: Path,
    stage: Stage,
    action: Action,
    compression: &Compression,
    server_var: &str,
) -> Result<String, String> {
    let server = common::connect(server_var);
    let proxy = FaultProxy::start(&env(server_var));
    let c = client_via_to(&proxy, compression, server_var);
    // The async client connects before the proxy is armed (its connect is not under test).
    let asy = AsyncSide::connect(&c);
    let fault = fault_for(path, stage, action);
    let t = table("fault");
    let legacy = server_var == "CH_LEGACY_URL";
    let case = format!("{path:?} {stage:?} {action:?} {compression:?}{}", if legacy { " (18.16)" } else { "" });
    let outcome: Result<String, String> = match path {
        Path::Command
        | Path::QueryInsert
        | Path::RawQueryInsert
        | Path::AsyncCommand
        | Path::AsyncRawQueryInsert
        | Path::AsyncQueryInsert => {
            server.command(&format!("CREATE TABLE {t} (n UInt64) ENGINE = MergeTree ORDER BY n")).unwrap();
            let sql = format!("INSERT INTO {t} SELECT number FROM numbers(10)");
            proxy.arm(fault);
            let result = match path {
                Path::Command => c.command(&sql).map(|_| ()),
                Path::QueryInsert => c.query(&sql).map(|_| ()),
                Path::AsyncCommand => on_async(&asy, |a| async move { a.command(&sql).await.map(|_| ()) }),
                Path::AsyncQueryInsert => on_async(&asy, |a| async move { a.query(&sql).await.map(|_| ()) }),
                Path::AsyncRawQueryInsert => {
                    on_async(&asy, |a| async move { a.raw_query(&sql, None).await.map(|_| ()) })
                }
                _ => c.raw_query(&sql, None).map(|_| ()),
            };
            let rows = count(&server, &format!("SELECT count() FROM {t}"));
            let executions = rows / 10;
            if rows % 10 != 0 || executions > 1 {
                Err(format!("{case}: executed {executions} times ({rows} rows), result {result:?}"))
            } else if result.is_ok() && executions != 1 {
                Err(format!("{case}: succeeded but executed {executions} times"))
            } else if fault.direction == Direction::Response && (result.is_ok() || executions != 1) {
                Err(format!("{case}: after the server executed: {executions} executions, result {result:?}"))
            } else if fault.direction == Direction::Response
                && action != Action::Stall
                && !result.as_ref().is_err_and(|e| e.to_string().contains("may have run it"))
            {
                // The error must not invite a re-run by suggesting the request never went out whole.
                Err(format!("{case}: the error does not say the server may have run it: {result:?}"))
            } else {
                Ok(format!("executions {executions}, {}", verdict(&result)))
            }
        }
        Path::Select | Path::QueryAs | Path::QueryArrow | Path::AsyncSelect | Path::AsyncStream => {
            let sql = format!("SELECT number, cityHash64(number) FROM numbers({SELECT_ROWS})");
            proxy.arm(fault);
            // (rows, sum of the first column) of the whole result.
            let result: Result<(u64, u64), Error> = match path {
                Path::Select => c
                    .query(&sql)
                    .map(|r| (r.rows.len() as u64, r.rows.iter().map(|row| u64::try_from(&row[0]).unwrap()).sum())),
                Path::QueryAs => {
                    c.query_as::<(u64, u64)>(&sql).map(|rows| (rows.len() as u64, rows.iter().map(|r| r.0).sum()))
                }
                Path::AsyncSelect => on_async(&asy, |a| async move {
                    a.query(&sql)
                        .await
                        .map(|r| (r.rows.len() as u64, r.rows.iter().map(|row| u64::try_from(&row[0]).unwrap()).sum()))
                }),
                Path::AsyncStream => on_async(&asy, |a| async move { async_stream_sum(&a, &sql).await }),
                _ => query_arrow_sum(&c, &sql),
            };
            match &result {
                Ok((n, sum)) => {
                    // Whole and right (a retry is fine when nothing had reached the decoder yet).
                    if *n != SELECT_ROWS || *sum != SELECT_ROWS * (SELECT_ROWS - 1) / 2 {
                        Err(format!("{case}: a short or wrong result looked complete: {n} rows"))
                    } else {
                        Ok("whole result".into())
                    }
                }
                Err(e) => {
                    // A read-only query broken before any data arrived is retried (a stall is not).
                    let retry_expected = action != Action::Stall && stage != Stage::MidResponse;
                    if retry_expected {
                        Err(format!("{case}: a read-only query was not retried: {e}"))
                    } else {
                        Ok(verdict(&result))
                    }
                }
            }
        }
        Path::Insert | Path::InsertArrow | Path::AsyncInsert => {
            server.command(&format!("CREATE TABLE {t} (id UInt64, s String) ENGINE = MergeTree ORDER BY id")).unwrap();
            let rows: Vec<Vec<Value<'static>>> =
                (0..INSERT_ROWS).map(|i| vec![Value::from(i), Value::from(format!("row {i}"))]).collect();
            let batch = arrow_batch(INSERT_ROWS);
            if path == Path::Insert {
                proxy.arm(fault);
            } else {
                // insert_arrow and the async insert first ask the server for the table's columns: the
                // insert itself is broken.
                proxy.arm_for("INSERT", fault);
            }
            let result = match path {
                Path::Insert => c.insert_with_types(&t, &[("id", "UInt64"), ("s", "String")], &rows),
                Path::AsyncInsert => on_async(&asy, |a| {
                    let (t, rows) = (&t, &rows);
                    async move { a.insert(t, &[], rows).await }
                }),
                _ => insert_arrow(&c, &t, batch),
            };
            let n = count(&server, &format!("SELECT count() FROM {t}"));
            if n != INSERT_ROWS && (n != 0 || result.is_ok()) {
                Err(format!("{case}: table holds {n} rows, result {result:?}"))
            } else if fault.direction == Direction::Response && (result.is_ok() || n != INSERT_ROWS) {
                Err(format!("{case}: after the server executed: {n} rows, result {result:?}"))
            } else {
                Ok(format!("{n} rows, {}", verdict(&result)))
            }
        }
        Path::TypedExactlyOnce => {
            let dedup = if legacy { "" } else { " SETTINGS non_replicated_deduplication_window = 1000" };
            server
                .command(&format!("CREATE TABLE {t} (id UInt64, s String) ENGINE = MergeTree ORDER BY id{dedup}"))
                .unwrap();
            let limits = RequestLimits { max_rows: Some(50_000), ..Default::default() };
            let mut ins = c
                .inserter_as::<(u64, String)>(&t, 10_000)
                .unwrap()
                .with_request_limits(limits)
                .exactly_once(format!("stream-{t}"), 5)
                .unwrap();
            let mut result = Ok(());
            for i in 0..STREAM_ROWS {
                if i == ARM_AT_ROW {
                    proxy.arm(fault);
                }
                result = ins.write(&(i, format!("{}", i.wrapping_mul(0x9E37_79B9_7F4A_7C15))));
                if result.is_err() {
                    break;
                }
            }
            let result = result.and_then(|()| ins.end().map(|s| s.rows));
            let check = server
                .command(&format!("SELECT count(), uniqExact(id), countIf(id >= {STREAM_ROWS}) FROM {t}"))
                .unwrap();
            match result {
                Ok(rows) if rows == STREAM_ROWS && check == format!("{STREAM_ROWS}\t{STREAM_ROWS}\t0") => {
                    Ok("all rows once".into())
                }
                other => Err(format!("{case}: exactly-once typed insert: {other:?}, the table: {check}")),
            }
        }
        Path::AsyncInserter => {
            server.command(&format!("CREATE TABLE {t} (id UInt64, s String) ENGINE = MergeTree ORDER BY id")).unwrap();
            let result = on_async(&asy, |a| {
                let (t, proxy) = (t.clone(), &proxy);
                async move {
                    let mut ins = a.inserter(&t, &[], 10_000).await?;
                    for i in 0..STREAM_ROWS {
                        if i == ARM_AT_ROW {
                            proxy.arm(fault);
                        }
                        let s = format!("{}", i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
                        ins.write(&[Value::from(i), Value::from(s)]).await?;
                    }
                    ins.end().await.map(|s| s.rows)
                }
            });
            let check = server
                .command(&format!("SELECT count(), uniqExact(id), countIf(id >= {STREAM_ROWS}) FROM {t}"))
                .unwrap();
            let v: Vec<u64> = check.split('\t').map(|x| x.parse().unwrap()).collect();
            let (n, unique) = (v[0], v[1]);
            match &result {
                _ if n != unique || v[2] != 0 => Err(format!("{case}: duplicated or foreign rows: {check}")),
                Ok(rows) if *rows == STREAM_ROWS && n == STREAM_ROWS => Ok("all rows".into()),
                Ok(rows) => Err(format!("{case}: end() reported {rows} rows, the table holds {n}")),
                Err(Error::Insert { acknowledged_rows, unacknowledged_rows, .. })
                    if n >= *acknowledged_rows && n <= acknowledged_rows + unacknowledged_rows =>
                {
                    Ok(format!("{n} rows, {acknowledged_rows} acknowledged"))
                }
                Err(e) => Err(format!("{case}: the table holds {n} rows; the error: {e:?}")),
            }
        }
        Path::Inserter | Path::ExactlyOnce => {
            let dedup = if legacy { "" } else { " SETTINGS non_replicated_deduplication_window = 1000" };
            server
                .command(&format!("CREATE TABLE {t} (id UInt64, s String) ENGINE = MergeTree ORDER BY id{dedup}"))
                .unwrap();
            let limits = RequestLimits { max_rows: Some(50_000), ..Default::default() };
            let mut ins = c.inserter(&t, &[], 10_000).unwrap().with_request_limits(limits);
            if path == Path::ExactlyOnce {
                ins = ins.exactly_once(format!("stream-{t}"), 5).unwrap();
            }
            let mut result = Ok(());
            for i in 0..STREAM_ROWS {
                if i == ARM_AT_ROW {
                    // Mid-stream: two requests acknowledged, the third in flight.
                    proxy.arm(fault);
                }
                result =
                    ins.write(&[Value::from(i), Value::from(format!("{}", i.wrapping_mul(0x9E37_79B9_7F4A_7C15)))]);
                if result.is_err() {
                    break;
                }
            }
            let result = match result {
                Ok(()) => ins.end().map(|s| s.rows),
                Err(e) => Err(e),
            };
            let check = server
                .command(&format!("SELECT count(), uniqExact(id), countIf(id >= {STREAM_ROWS}) FROM {t}"))
                .unwrap();
            let v: Vec<u64> = check.split('\t').map(|x| x.parse().unwrap()).collect();
            let (n, unique) = (v[0], v[1]);
            if n != unique || v[2] != 0 {
                Err(format!("{case}: duplicated or foreign rows: {check}"))
            } else {
                match &result {
                    Ok(rows) if *rows == STREAM_ROWS && n == STREAM_ROWS => Ok("all rows".into()),
                    Ok(rows) => Err(format!("{case}: end() reported {rows} rows, the table holds {n}")),
                    Err(e) if path == Path::ExactlyOnce => Err(format!("{case}: exactly-once insert failed: {e}")),
                    Err(Error::Insert { acknowledged_rows, unacknowledged_rows, .. }) => {
                        if n < *acknowledged_rows || n > acknowledged_rows + unacknowledged_rows {
                            Err(format!(
                                "{case}: table holds {n} rows; the error says {e}",
                                e = result.as_ref().unwrap_err()
                            ))
                        } else {
                            Ok(format!("{n} rows, {acknowledged_rows} acknowledged"))
                        }
                    }
                    Err(e) => Err(format!("{case}: not an insert error: {e:?}")),
                }
            }
        }
    };
    if proxy.fired() != 1 {
        return Err(format!("{case}: the fault fired {} times", proxy.fired()));
    }
    let _ = server.command(&format!("DROP TABLE IF EXISTS {t}"));
    outcome.map(|o| format!("{case}: {o}"))
}

/// Rows and the sum of the first column of a result read as Arrow batches.
#[cfg(feature = "arrow")]
fn query_arrow_sum(c: &Client, sql: &str) -> Result<(u64, u64), Error> {
    use arrow_array::cast::AsArray;
    let batches = c.query_arrow(sql)?;
    let n = batches.iter().map(|b| b.num_rows() as u64).sum();
    let sum = batches
        .iter()
        .map(|b| b.column(0).as_primitive::<arrow_array::types::UInt64Type>().values().iter().sum::<u64>())
        .sum();
    Ok((n, sum))
}

#[cfg(not(feature = "arrow"))]
fn query_arrow_sum(_: &Client, _: &str) -> Result<(u64, u64), Error> {
    panic!("the QueryArrow fault cases need the `arrow` feature (scripts/test runs with --all-features)")
}

#[cfg(feature = "arrow")]
type Batch = arrow_array::RecordBatch;
#[cfg(not(feature = "arrow"))]
type Batch = ();

/// `rows` rows (id, "row {id}") as one record batch.
#[cfg(feature = "arrow")]
fn arrow_batch(rows: u64) -> Batch {
    use arrow_array::{ArrayRef, StringArray, UInt64Array};
    let ids: Vec<u64> = (0..rows).collect();
    let s = StringArray::from_iter_values(ids.iter().map(|i| format!("row {i}")));
    Batch::try_from_iter([
        ("id", std::sync::Arc::new(UInt64Array::from(ids)) as ArrayRef),
        ("s", std::sync::Arc::new(s) as ArrayRef),
    ])
    .unwrap()
}

#[cfg(not(feature = "arrow"))]
fn arrow_batch(_: u64) -> Batch {}

#[cfg(feature = "arrow")]
fn insert_arrow(c: &Client, t: &str, batch: Batch) -> Result<(), Error> {
    c.insert_arrow(t, &[batch]).map(|_| ())
}

#[cfg(not(feature = "arrow"))]
fn insert_arrow(_: &Client, _: &str, _: Batch) -> Result<(), Error> {
    panic!("the InsertArrow fault cases need the `arrow` feature (scripts/test runs with --all-features)")
}

/// Writes rows `0..rows` (one UInt64 each) until the inserter fails (at `end` at the latest): its error.
/// An async client with the blocking one's connection settings (through the same proxy), and its
/// runtime.
struct AsyncSide(clickhouse_connect::AsyncClient, tokio::runtime::Runtime);

impl AsyncSide {
    fn connect(c: &Client) -> AsyncSide {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let a = rt.block_on(clickhouse_connect::AsyncClient::connect(c.options().clone())).unwrap();
        AsyncSide(a, rt)
    }
}

/// Runs `f` on the case's async client.
fn on_async<T, F: std::future::Future<Output = Result<T, Error>>>(
    side: &AsyncSide,
    f: impl FnOnce(clickhouse_connect::AsyncClient) -> F,
) -> Result<T, Error> {
    side.1.block_on(f(side.0.clone()))
}

/// (rows, sum of the first column) of a query read as an async block stream.
async fn async_stream_sum(a: &clickhouse_connect::AsyncClient, sql: &str) -> Result<(u64, u64), Error> {
    let mut s = a.query_blocks(sql);
    let (mut n, mut sum) = (0u64, 0u64);
    while let Some(b) = s.next_block().await {
        let b = b?;
        n += b.rows() as u64;
        if let Some(clickhouse_connect::native::ColumnView::UInt64(v)) = b.columns().first().map(|c| c.column().view())
        {
            sum += v.iter().sum::<u64>();
        }
    }
    Ok((n, sum))
}

fn write_until_error(mut ins: clickhouse_connect::Inserter, rows: u64) -> Error {
    for i in 0..rows {
        if let Err(e) = ins.write(&[Value::from(i)]) {
            return e;
        }
    }
    ins.end().expect_err("the insert was to fail")
}

fn verdict<T: std::fmt::Debug>(r: &Result<T, Error>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(Error::Transport { timeout: true, .. }) => "timeout".into(),
        Err(Error::Transport { .. }) => "transport error".into(),
        Err(e) => format!("error: {}", e.to_string().chars().take(80).collect::<String>()),
    }
}

/// Runs the cases on a few threads; fails with every broken case listed.
fn run_all(cases: Vec<(Path, Stage, Action, Compression)>) {
    run_all_on(cases, "CH_MODERN_URL")
}

fn run_all_on(cases: Vec<(Path, Stage, Action, Compression)>, server_var: &str) {
    common::fault::run_cases("fault", cases, |(p, st, a, c)| run_case(p, st, a, &c, server_var));
}

fn cases(paths: &[Path], actions: &[Action], compressions: &[Compression]) -> Vec<(Path, Stage, Action, Compression)> {
    let mut out = Vec::new();
    for &p in paths {
        for st in [Stage::BeforeRequest, Stage::MidRequest, Stage::AfterExecuted, Stage::MidResponse] {
            for &a in actions {
                for c in compressions {
                    out.push((p, st, a, c.clone()));
                }
            }
        }
    }
    out
}

const STATEMENTS: &[Path] = &[Path::Command, Path::QueryInsert, Path::RawQueryInsert, Path::Select];
const INSERTS: &[Path] = &[Path::Insert, Path::Inserter, Path::ExactlyOnce];
/// The paths of rows as Rust types, Arrow batches (issue 18): the same requests underneath, broken the
/// same ways.
const SHAPES: &[Path] = &[Path::QueryAs, Path::QueryArrow, Path::InsertArrow, Path::TypedExactlyOnce];
/// The async client's paths (issue 19): the same requests on the I/O thread, broken the same ways.
const ASYNC: &[Path] = &[
    Path::AsyncCommand,
    Path::AsyncRawQueryInsert,
    Path::AsyncQueryInsert,
    Path::AsyncSelect,
    Path::AsyncStream,
    Path::AsyncInsert,
    Path::AsyncInserter,
];

#[test]
fn async_paths_under_resets_closes_and_stalls_in_every_compression_mode() {
    run_all(cases(ASYNC, &[Action::Reset, Action::Close], &compressions()));
    run_all(cases(ASYNC, &[Action::Stall], &[Compression::None, Compression::Lz4]));
}

#[test]
fn async_paths_on_the_18_16_server_under_resets_and_closes() {
    run_all_on(cases(ASYNC, &[Action::Reset, Action::Close], &[Compression::None]), "CH_LEGACY_URL");
}

#[test]
fn serde_and_arrow_paths_under_resets_closes_and_stalls_in_every_compression_mode() {
    run_all(cases(SHAPES, &[Action::Reset, Action::Close], &compressions()));
    run_all(cases(SHAPES, &[Action::Stall], &[Compression::None]));
}

#[test]
fn statements_under_resets_and_closes_in_every_compression_mode() {
    run_all(cases(STATEMENTS, &[Action::Reset, Action::Close], &compressions()));
}

#[test]
fn inserts_under_resets_and_closes_in_every_compression_mode() {
    run_all(cases(INSERTS, &[Action::Reset, Action::Close], &compressions()));
}

#[test]
fn every_path_under_stalls() {
    let mut all = STATEMENTS.to_vec();
    all.extend_from_slice(INSERTS);
    run_all(cases(
        &all,
        &[Action::Stall],
        &[Compression::None, Compression::Lz4, Compression::Http(ContentEncoding::Lz4)],
    ));
}

#[test]
fn the_18_16_server_under_resets_and_closes() {
    // 18.16 has no compressed frames over HTTP (the client uses gzip instead) and no deduplication
    // tokens (exactly-once refuses it: see tests/inserter.rs).
    let paths = [
        Path::Command,
        Path::QueryInsert,
        Path::RawQueryInsert,
        Path::Select,
        Path::Insert,
        Path::Inserter,
        Path::QueryAs,
        Path::QueryArrow,
        Path::InsertArrow,
    ];
    let compressions = [Compression::None, Compression::Http(ContentEncoding::Gzip)];
    run_all_on(cases(&paths, &[Action::Reset, Action::Close], &compressions), "CH_LEGACY_URL");
}

#[test]
fn a_refused_connection_is_retried_for_any_statement_and_retries_keep_the_query_id() {
    // The server's port goes away: connections are refused, nothing is sent, so even a statement with
    // side effects may go again — and runs exactly once, once the port is back.
    let server = modern();
    let t = table("fault_refused");
    server.command(&format!("CREATE TABLE {t} (n UInt64) ENGINE = MergeTree ORDER BY n")).unwrap();
    let proxy = FaultProxy::start(&env("CH_MODERN_URL"));
    let port = proxy.port;
    let c = client_via(&proxy, &Compression::None);
    drop(proxy);
    // Long enough for libcurl to see the pooled connection is gone and open a new one (refused).
    std::thread::sleep(Duration::from_millis(1100));
    let back = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(150));
        let p = FaultProxy::start_at(&env("CH_MODERN_URL"), port);
        std::thread::sleep(Duration::from_secs(3));
        drop(p);
    });
    let r = c.query(&format!("INSERT INTO {t} SELECT 1"));
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(count(&server, &format!("SELECT count() FROM {t}")), 1);
    back.join().unwrap();
    server.command(&format!("DROP TABLE {t}")).unwrap();

    // A read-only query whose answer is lost after the server ran it goes again under the same id:
    // the server's log shows both runs with one id.
    let proxy = FaultProxy::start(&env("CH_MODERN_URL"));
    let c = client_via(&proxy, &Compression::None);
    proxy.arm(Fault { direction: Direction::Response, at: 0, action: Action::Reset });
    let r = c.query("SELECT 42 AS answer").unwrap();
    assert_eq!(proxy.fired(), 1);
    let id = r.query_id.expect("the query id");
    server.command("SYSTEM FLUSH LOGS").unwrap();
    // Counted by their starts: the first run may end as finished or as an exception, depending on
    // whether the server noticed the reset connection while writing its answer.
    let runs = count(
        &server,
        &format!("SELECT count() FROM system.query_log WHERE query_id = '{id}' AND type = 'QueryStart'"),
    );
    assert_eq!(runs, 2, "query id {id}");
}

#[test]
fn exactly_once_survives_20_resets_in_a_10m_row_stream() {
    const ROWS: u64 = 10_000_000;
    const RESETS: usize = 20;
    let server = modern();
    let t = table("fault_exactly_once");
    server
        .command(&format!(
            "CREATE TABLE {t} (id UInt64, s String) ENGINE = MergeTree ORDER BY id \
             SETTINGS non_replicated_deduplication_window = 10000"
        ))
        .unwrap();
    let proxy = FaultProxy::start(&env("CH_MODERN_URL"));
    let c = client_via(&proxy, &Compression::Lz4);
    let limits = RequestLimits { max_rows: Some(500_000), ..Default::default() };
    let mut ins =
        c.inserter(&t, &[], 50_000).unwrap().with_request_limits(limits).exactly_once(format!("s-{t}"), 10).unwrap();
    let mut armed = 0usize;
    let mut text = String::new();
    for i in 0..ROWS {
        if i % 100_000 == 0 && armed < RESETS && proxy.fired() == armed {
            // Mostly cuts inside a request body; every fourth loses the server's acknowledgement after
            // it committed the request.
            let fault = if armed % 4 == 3 {
                Fault { direction: Direction::Response, at: 0, action: Action::Reset }
            } else {
                let at = 1_000 + (i.wrapping_mul(2_654_435_761) % 600_000);
                Fault { direction: Direction::Request, at, action: Action::Reset }
            };
            proxy.arm(fault);
            armed += 1;
        }
        text.clear();
        use std::fmt::Write;
        write!(text, "{i}").unwrap();
        ins.write(&[Value::from(i), Value::from(text.as_str())]).unwrap();
    }
    let summary = ins.end().unwrap();
    assert_eq!(proxy.fired(), RESETS, "every planned reset happened");
    assert!(summary.retried_requests >= RESETS as u64, "{summary:?}");
    assert_eq!(summary.rows, ROWS);
    // The server's own checksum of what it holds against the same over the numbers it generates.
    let held = server.command(&format!("SELECT count(), sum(id), sum(cityHash64(id, s)) FROM {t}")).unwrap();
    let expected = server
        .command(&format!(
            "SELECT count(), sum(number), sum(cityHash64(number, toString(number))) FROM numbers({ROWS})"
        ))
        .unwrap();
    assert_eq!(held, expected);
    server.command(&format!("DROP TABLE {t}")).unwrap();
}

// Regressions for what the independent adversary found (each failed before its fix).

#[test]
fn a_with_insert_hidden_behind_a_heredoc_is_not_read_only() {
    let server = modern();
    let t = table("fault_heredoc");
    server.command(&format!("CREATE TABLE {t} (n UInt64) ENGINE = MergeTree ORDER BY n")).unwrap();
    let proxy = FaultProxy::start(&env("CH_MODERN_URL"));
    let c = client_via(&proxy, &Compression::None);
    for sql in [
        format!("WITH $$'$$ AS a INSERT INTO {t} SELECT 200 -- '"),
        format!("WITH $q$\"$q$ AS a INSERT INTO {t} SELECT 201"),
    ] {
        proxy.arm(Fault { direction: Direction::Response, at: 0, action: Action::Reset });
        assert!(c.query(&sql).is_err(), "{sql}");
    }
    assert_eq!(count(&server, &format!("SELECT count() FROM {t}")), 2, "each ran once, never again");
    server.command(&format!("DROP TABLE {t}")).unwrap();
}

#[test]
fn a_retry_replaces_the_attempt_still_running_under_its_query_id() {
    let proxy = FaultProxy::start(&env("CH_MODERN_URL"));
    let mut o = proxied(&proxy, "CH_MODERN_URL");
    o.send_receive_timeout = Duration::from_secs(5);
    let c = Client::new(o.clone()).unwrap();
    proxy.reset_all_after(Duration::from_millis(300));
    let r = c.query("SELECT sleep(1.5), 42 AS answer").unwrap();
    assert_eq!(u64::try_from(&r.rows[0][1]).unwrap(), 42);
    assert_eq!(proxy.fired(), 1);
    // A readonly user may not replace a running query: it waits and tries again, and if the first
    // attempt still runs, the error is the reset that started it, not "query id already running".
    o.username = common::env("CH_READONLY_USER");
    let ro = Client::new(o).unwrap();
    proxy.reset_all_after(Duration::from_millis(300));
    match ro.query("SELECT sleep(2.5), 1") {
        Ok(r) => assert_eq!(r.rows.len(), 1),
        Err(e) => assert_ne!(e.server_code(), Some(216), "{e}"),
    }
}

#[test]
fn an_insert_error_names_the_request_that_failed_and_deadlines_bound_each_request() {
    let server = modern();
    let t = table("fault_failed_id");
    server
        .command(&format!(
            "CREATE TABLE {t} (x UInt64, y UInt8 MATERIALIZED throwIf(x >= 250000)) ENGINE = MergeTree ORDER BY x"
        ))
        .unwrap();
    let limits = RequestLimits { max_rows: Some(100_000), ..Default::default() };
    let ins = server.inserter(&t, &[], 10_000).unwrap().with_request_limits(limits);
    let e = write_until_error(ins, 400_000);
    let Error::Insert { query_id: Some(id), acknowledged_rows: 200_000, .. } = &e else { panic!("{e:?}") };
    server.command("SYSTEM FLUSH LOGS").unwrap();
    let kind = server
        .command(&format!("SELECT type FROM system.query_log WHERE query_id = '{id}' AND type != 'QueryStart'"))
        .unwrap();
    assert_eq!(kind, "ExceptionWhileProcessing", "the error names the failed request ({id})");
    server.command(&format!("DROP TABLE {t}")).unwrap();

    // A stalled streaming insert ends at the call's deadline, not the (longer) stall timeout.
    let proxy = FaultProxy::start(&env("CH_MODERN_URL"));
    let mut o = proxied(&proxy, "CH_MODERN_URL");
    o.send_receive_timeout = Duration::from_secs(6);
    let c = Client::new(o).unwrap();
    let t = table("fault_deadline");
    server.command(&format!("CREATE TABLE {t} (x UInt64) ENGINE = Memory")).unwrap();
    let ins = c
        .inserter_with(&t, &[], 1000, &clickhouse_connect::CallOptions::new().timeout(Duration::from_secs(1)))
        .unwrap();
    proxy.arm(Fault { direction: Direction::Request, at: 3_000, action: Action::Stall });
    let started = std::time::Instant::now();
    let e = write_until_error(ins, 200_000);
    assert!(started.elapsed() < Duration::from_secs(4), "{:?}: {e}", started.elapsed());
    assert!(e.to_string().contains("deadline"), "{e}");
    server.command(&format!("DROP TABLE {t}")).unwrap();
}

#[test]
fn exactly_once_refuses_a_table_that_would_not_deduplicate() {
    let server = modern();
    for (engine, ok) in [
        ("MergeTree ORDER BY x", false),
        // Words in a comment are not a setting.
        ("MergeTree ORDER BY x COMMENT 'non_replicated_deduplication_window = 1000'", false),
        ("MergeTree PARTITION BY (x % 2 = 0 OR 'non_replicated_deduplication_window = 1000' = '') ORDER BY x", false),
        ("MergeTree ORDER BY x SETTINGS non_replicated_deduplication_window = 0", false),
        ("Memory", false),
        ("MergeTree ORDER BY x SETTINGS non_replicated_deduplication_window = 10", false),
        ("MergeTree ORDER BY x SETTINGS non_replicated_deduplication_window = 1000", true),
    ] {
        let t = table("eo_engine");
        server.command(&format!("CREATE TABLE {t} (x UInt64) ENGINE = {engine}")).unwrap();
        let r = server.inserter(&t, &[], 10).unwrap().exactly_once("s", 0);
        assert_eq!(r.is_ok(), ok, "{engine}: {:?}", r.err());
        if let Err(e) = r {
            assert!(e.to_string().contains("deduplicat"), "{e}");
        }
        server.command(&format!("DROP TABLE {t}")).unwrap();
    }
}

#[test]
fn a_refused_reconnect_after_the_request_went_out_is_not_taken_for_never_sent() {
    // The statement goes out on a pooled connection, the server runs it, the connection is reset
    // before the answer, and the server's port refuses for a moment (a restart): libcurl reconnects on
    // its own, is refused, and reports "couldn't connect" — but the request was sent and ran.
    let server = modern();
    let t = table("fault_refused_after");
    server.command(&format!("CREATE TABLE {t} (n UInt64) ENGINE = MergeTree ORDER BY n")).unwrap();
    let proxy = FaultProxy::start(&env("CH_MODERN_URL"));
    let c = client_via(&proxy, &Compression::None);
    proxy.pause_listening();
    proxy.arm(Fault { direction: Direction::Response, at: 0, action: Action::Reset });
    let p = &proxy;
    let result = std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(50));
            p.resume_listening();
        });
        c.query(&format!("INSERT INTO {t} SELECT number FROM numbers(10)"))
    });
    let rows = count(&server, &format!("SELECT count() FROM {t}"));
    assert_eq!(rows, 10, "ran once, never again ({result:?})");
    assert!(result.is_err());
    server.command(&format!("DROP TABLE {t}")).unwrap();
}

#[test]
fn a_query_id_someone_else_is_running_is_not_replaced() {
    let server = modern();
    let t = table("fault_foreign_id");
    server.command(&format!("CREATE TABLE {t} (n UInt64) ENGINE = MergeTree ORDER BY n")).unwrap();
    let id = format!("foreign-{t}");
    let sql = format!("INSERT INTO {t} SELECT number FROM numbers(10) WHERE NOT ignore(sleepEachRow(0.1))");
    let other = modern();
    let opts = clickhouse_connect::CallOptions::new().query_id(&id);
    std::thread::scope(|s| {
        let running = s.spawn(|| other.command_with(&sql, &opts));
        std::thread::sleep(Duration::from_millis(300));
        let e = server.query_with("SELECT 1", &opts).unwrap_err();
        assert_eq!(e.server_code(), Some(216), "{e}");
        running.join().unwrap().unwrap();
    });
    assert_eq!(count(&server, &format!("SELECT count() FROM {t}")), 10, "the other query was not cancelled");
    server.command(&format!("DROP TABLE {t}")).unwrap();
}
