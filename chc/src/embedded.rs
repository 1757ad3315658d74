//! The embedded local ClickHouse: when neither `--url` nor `CLICKHOUSE_URL` names a server, `chc` starts
//! a ClickHouse 26.9 for the command and stops it when it exits; its data lives only as long as the
//! command.
//!
//! The engine is PyPI's `chdb-core==26.9.0` (the whole ClickHouse engine as a Python extension; its
//! clickhouse-local starts real HTTP and TCP listeners) in a virtualenv of chc's own, so an installed
//! `chc` needs no checkout of this repository: `$CHC_VENV` if set, else `$XDG_CACHE_HOME/chc/venv` or
//! `~/.cache/chc/venv`. On first use chc makes that virtualenv and installs the engine into it (about
//! 180 MB, once), saying so on stderr. The server runs in a fresh temporary directory on free ports,
//! while a statement blocks reading a FIFO; writing a line to it ends the statement and the server.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The engine chc installs.
const ENGINE: &str = "chdb-core==26.9.0";

/// A running embedded server; dropping it stops the server and removes its directory.
pub struct Embedded {
    child: Child,
    work: PathBuf,
    port: u16,
}

/// Where chc keeps its engine.
fn venv_dir() -> Result<PathBuf, String> {
    if let Some(v) = std::env::var_os("CHC_VENV") {
        return Ok(PathBuf::from(v));
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .ok_or("no server given (--url or CLICKHOUSE_URL), and no HOME to keep an embedded one in")?;
    Ok(cache.join("chc").join("venv"))
}

fn engine_ready(python: &Path) -> bool {
    Command::new(python)
        .args(["-c", "import chdb._chdb"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Makes the virtualenv and installs the engine, once.
fn install(venv: &Path) -> Result<PathBuf, String> {
    let python = venv.join("bin").join("python");
    if engine_ready(&python) {
        return Ok(python);
    }
    eprintln!(
        "chc: no server given (--url or CLICKHOUSE_URL): installing the embedded ClickHouse 26.9 engine \
         (PyPI {ENGINE}, about 180 MB) into {} — once",
        venv.display()
    );
    let run = |cmd: &mut Command, what: &str| -> Result<(), String> {
        let out = cmd.output().map_err(|e| format!("cannot run {what}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!("{what} failed: {}", String::from_utf8_lossy(&out.stderr).trim()))
        }
    };
    if let Some(parent) = venv.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    run(Command::new("python3").args(["-m", "venv"]).arg(venv), "python3 -m venv (install python3 and python3-venv)")?;
    run(
        Command::new(venv.join("bin").join("pip")).args(["install", "-q", "--disable-pip-version-check", ENGINE]),
        &format!("pip install {ENGINE}"),
    )?;
    if !engine_ready(&python) {
        return Err(format!("{ENGINE} was installed into {} but does not load", venv.display()));
    }
    Ok(python)
}

impl Embedded {
    /// Starts the server (a second or two; longer the first time, when the engine is installed).
    pub fn start() -> Result<Embedded, String> {
        let python = install(&venv_dir()?)?;
        let port = free_port_pair()?;
        let work = std::env::temp_dir().join(format!("chc-embedded-{}-{port}", std::process::id()));
        std::fs::create_dir_all(work.join("data")).map_err(|e| format!("{}: {e}", work.display()))?;
        let config = format!(
            "<clickhouse><http_port>{port}</http_port><tcp_port>{}</tcp_port><listen_host>127.0.0.1</listen_host>\
             <users_config>users.xml</users_config></clickhouse>\n",
            port + 1
        );
        let users = "<clickhouse><profiles><default></default></profiles><users><default><password></password>\
                     <networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota>\
                     <access_management>1</access_management></default></users><quotas><default></default></quotas>\
                     </clickhouse>\n";
        let write = |name: &str, text: &str| {
            std::fs::write(work.join(name), text).map_err(|e| format!("{}: {e}", work.join(name).display()))
        };
        write("config.xml", &config)?;
        write("users.xml", users)?;
        let fifo = work.join("stop.fifo");
        let made = Command::new("mkfifo").arg(&fifo).status().map_err(|e| format!("cannot run mkfifo: {e}"))?;
        if !made.success() {
            return Err(format!("mkfifo {} failed", fifo.display()));
        }
        // The listeners live while this statement blocks reading the FIFO.
        let sql = format!(
            "SYSTEM START LISTEN HTTP; SYSTEM START LISTEN TCP; SELECT count() FROM file('{}', 'LineAsString') \
             SETTINGS storage_file_read_method='read'",
            fifo.display()
        );
        let script = "import chdb._chdb as c, sys\nc.query(sys.argv[1], 'TabSeparated', path=sys.argv[2])\n";
        let log = std::fs::File::create(work.join("server.log")).map_err(|e| e.to_string())?;
        let child = Command::new(&python)
            .arg("-c")
            .arg(script)
            .arg(sql)
            .arg(work.join("data"))
            .current_dir(&work)
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start the embedded ClickHouse: {e}"))?;
        let mut e = Embedded { child, work, port };
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            if ping(port) {
                return Ok(e);
            }
            if let Ok(Some(status)) = e.child.try_wait() {
                let log = std::fs::read_to_string(e.work.join("server.log")).unwrap_or_default();
                let tail: String = log.chars().rev().take(2000).collect::<Vec<_>>().into_iter().rev().collect();
                return Err(format!("the embedded ClickHouse exited ({status}): {tail}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err("the embedded ClickHouse did not answer within 60 s".into())
    }

    /// The server's HTTP URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// `GET /ping` answers `Ok.`.
fn ping(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    if s.write_all(b"GET /ping HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").is_err() {
        return false;
    }
    let mut reply = Vec::new();
    let _ = s.read_to_end(&mut reply);
    reply.ends_with(b"Ok.\n")
}

impl Drop for Embedded {
    fn drop(&mut self) {
        // End the blocking statement with a line in the FIFO (from a thread: opening a FIFO for
        // writing waits for its reader), then wait a little, then kill.
        let fifo = self.work.join("stop.fifo");
        std::thread::spawn(move || {
            if let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(fifo) {
                let _ = f.write_all(b"stop\n");
            }
        });
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.work);
    }
}

/// A port whose successor is free too (HTTP and native TCP).
fn free_port_pair() -> Result<u16, String> {
    for _ in 0..50 {
        let l = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        let port = l.local_addr().map_err(|e| e.to_string())?.port();
        if port < u16::MAX && TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return Ok(port);
        }
    }
    Err("no free ports for the embedded server".into())
}
