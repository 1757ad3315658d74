//! `chc` under faults: the loopback proxy of the library's fault suite breaks chc's statement (not its
//! connect or describe requests) before it reaches the server, mid request, after the server executed
//! it and mid response, by a reset, a clean close and a stall, without compression and with LZ4 frames.
//! Executions and rows are counted by the server. chc must exit 0 only with the whole result (or every
//! row inserted), exit 1 with a message otherwise, run a side-effecting statement at most once (exactly
//! once when the fault hit after the server ran it), and an exactly-once insert must always land every
//! row once.

#[path = "../../tests/common/mod.rs"]
mod common;

use common::fault::{Action, Direction, Fault, FaultProxy};
use common::{env, modern, table};
use std::io::Write;
use std::process::{Command, Output, Stdio};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Path {
    CommandInsert,
    QueryInsert,
    QuerySelect,
    Insert,
    InsertExactlyOnce,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    BeforeRequest,
    MidRequest,
    AfterExecuted,
    MidResponse,
}

const SELECT_ROWS: u64 = 300_000;
const INSERT_ROWS: u64 = 200_000;

fn chc(port: u16, compress: &str, args: &[&str], input: Option<&[u8]>) -> Output {
    let url = format!("http://127.0.0.1:{port}/?send_receive_timeout=1");
    let mut child = Command::new(env!("CARGO_BIN_EXE_chc"))
        .args(["--url", &url, "--compress", compress])
        .args(args)
        .stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let feeder = input.map(|data| {
        let mut stdin = child.stdin.take().unwrap();
        let data = data.to_vec();
        std::thread::spawn(move || {
            let _ = stdin.write_all(&data);
        })
    });
    let out = child.wait_with_output().unwrap();
    if let Some(f) = feeder {
        f.join().unwrap();
    }
    out
}

fn run_case(path: Path, stage: Stage, action: Action, compress: &str, tsv: &[u8]) -> Result<String, String> {
    let server = modern();
    let proxy = FaultProxy::start(&env("CH_MODERN_URL"));
    let t = table("chc_fault");
    let case = format!("{path:?} {stage:?} {action:?} {compress}");
    let statement = matches!(path, Path::CommandInsert | Path::QueryInsert);
    let insert = matches!(path, Path::Insert | Path::InsertExactlyOnce);
    let (direction, at) = match stage {
        Stage::BeforeRequest => (Direction::Request, 0),
        Stage::MidRequest => (Direction::Request, if insert { 3_000 } else { 20 }),
        Stage::AfterExecuted => (Direction::Response, 0),
        Stage::MidResponse => (Direction::Response, if path == Path::QuerySelect { 20_000 } else { 150 }),
    };
    let fault = Fault { direction, at, action };
    let sql = format!("INSERT INTO {t} SELECT number, 'x' FROM numbers(10)");
    let select = format!("SELECT number FROM numbers({SELECT_ROWS})");
    server
        .command(&format!(
            "CREATE TABLE {t} (id UInt64, s String) ENGINE = MergeTree ORDER BY id \
             SETTINGS non_replicated_deduplication_window = 100"
        ))
        .unwrap();
    let out = match path {
        Path::CommandInsert | Path::QueryInsert => {
            proxy.arm_for(&format!("INSERT INTO {t}"), fault);
            let cmd = if path == Path::CommandInsert { "command" } else { "query" };
            chc(proxy.port, compress, &[cmd, &sql], None)
        }
        Path::QuerySelect => {
            proxy.arm_for(&format!("numbers({SELECT_ROWS})"), fault);
            chc(proxy.port, compress, &["query", &select], None)
        }
        Path::Insert | Path::InsertExactlyOnce => {
            proxy.arm_for("FORMAT%20Native", fault);
            let stream = format!("stream-{t}");
            let mut args = vec!["insert", t.as_str(), "--block-rows", "10000"];
            if path == Path::InsertExactlyOnce {
                args.extend(["--exactly-once", stream.as_str()]);
            }
            chc(proxy.port, compress, &args, Some(tsv))
        }
    };
    let code = out.status.code();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let rows: u64 = server.command(&format!("SELECT count() FROM {t}")).unwrap().parse().unwrap();
    let unique: u64 = server.command(&format!("SELECT uniqExact(id, s) FROM {t}")).unwrap().parse().unwrap();
    let _ = server.command(&format!("DROP TABLE IF EXISTS {t}"));
    if proxy.fired() != 1 {
        return Err(format!("{case}: the fault fired {} times (exit {code:?}, {stderr})", proxy.fired()));
    }
    if code != Some(0) && code != Some(1) {
        return Err(format!("{case}: exit status {:?}: {stderr}", out.status));
    }
    if code == Some(1) && stderr.trim().is_empty() {
        return Err(format!("{case}: failed without a message"));
    }
    let ok = code == Some(0);
    if statement {
        let executions = rows / 10;
        if rows % 10 != 0 || executions > 1 || (ok && executions != 1) {
            return Err(format!("{case}: {executions} executions, exit {code:?}: {stderr}"));
        }
        if direction == Direction::Response && (ok || executions != 1) {
            return Err(format!("{case}: after the server executed: {executions} executions, exit {code:?}"));
        }
        return Ok(format!("{case}: {executions} executions, exit {code:?}"));
    }
    if path == Path::QuerySelect {
        if ok {
            let text = String::from_utf8_lossy(&out.stdout);
            let mut n = 0u64;
            let mut sum = 0u64;
            for line in text.lines() {
                n += 1;
                sum += line.parse::<u64>().map_err(|e| format!("{case}: bad line {line:?}: {e}"))?;
            }
            if n != SELECT_ROWS || sum != SELECT_ROWS * (SELECT_ROWS - 1) / 2 {
                return Err(format!("{case}: exit 0 with {n} rows"));
            }
        }
        return Ok(format!("{case}: exit {code:?}"));
    }
    if rows != unique || rows > INSERT_ROWS {
        return Err(format!("{case}: {rows} rows, {unique} distinct"));
    }
    if ok && rows != INSERT_ROWS {
        return Err(format!("{case}: exit 0 but the table holds {rows} rows"));
    }
    if path == Path::InsertExactlyOnce && !ok {
        return Err(format!("{case}: the exactly-once insert failed: {stderr}"));
    }
    let says_what_was_committed = stderr.contains("acknowledged") && stderr.contains("query id");
    if !ok && !says_what_was_committed {
        return Err(format!("{case}: the error does not say what the server acknowledged: {stderr}"));
    }
    if stderr.contains("rewinding") {
        return Err(format!("{case}: libcurl's internals reach the user: {stderr}"));
    }
    Ok(format!("{case}: {rows} rows, exit {code:?}"))
}

#[test]
fn chc_under_resets_closes_and_stalls() {
    let mut tsv = Vec::new();
    for i in 0..INSERT_ROWS {
        writeln!(tsv, "{i}\trow {}", i.wrapping_mul(0x9E37_79B9_7F4A_7C15)).unwrap();
    }
    let mut cases = Vec::new();
    for path in [Path::CommandInsert, Path::QueryInsert, Path::QuerySelect, Path::Insert, Path::InsertExactlyOnce] {
        for stage in [Stage::BeforeRequest, Stage::MidRequest, Stage::AfterExecuted, Stage::MidResponse] {
            for action in [Action::Reset, Action::Close, Action::Stall] {
                for compress in ["none", "lz4"] {
                    cases.push((path, stage, action, compress));
                }
            }
        }
    }
    common::fault::run_cases("chc fault", cases, |(p, st, a, c)| run_case(p, st, a, c, &tsv));
}
