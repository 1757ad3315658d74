//! The embedded local ClickHouse: when neither `--url` nor `CLICKHOUSE_URL` names a server, `chc` starts
//! the project's ClickHouse 26.9 (chdb-core, through `scripts/clickhouse-servers start modern`) in a
//! fresh temporary directory on a free port, and stops it when it exits. Its data lives only as long as
//! the command.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;

/// A running embedded server; dropping it stops the server and removes its directory.
pub struct Embedded {
    script: PathBuf,
    work: PathBuf,
    port: u16,
}

impl Embedded {
    /// Starts the server (a few seconds).
    pub fn start() -> Result<Embedded, String> {
        let repo = std::env::var_os("CHC_REPO").map(PathBuf::from).unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().map(PathBuf::from).unwrap_or_default()
        });
        let script = repo.join("scripts/clickhouse-servers");
        if !script.exists() {
            return Err(format!(
                "no server given (--url or CLICKHOUSE_URL) and no embedded server at {} (set CHC_REPO to the clickhouse-connect checkout)",
                script.display()
            ));
        }
        let port = free_port_pair()?;
        let work = std::env::temp_dir().join(format!("chc-embedded-{}-{port}", std::process::id()));
        let e = Embedded { script, work, port };
        let out = e.run("start")?;
        if !out.status.success() {
            return Err(format!(
                "could not start the embedded ClickHouse: {}{}(run scripts/install modern once)",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(e)
    }

    /// The server's HTTP URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn run(&self, action: &str) -> Result<std::process::Output, String> {
        let mut cmd = Command::new(&self.script);
        cmd.arg(action).env("CH_WORK", &self.work).env("CH_BASE_PORT", self.port.to_string());
        if action == "start" {
            cmd.arg("modern");
        }
        cmd.output().map_err(|e| format!("cannot run {}: {e}", self.script.display()))
    }
}

impl Drop for Embedded {
    fn drop(&mut self) {
        let _ = self.run("stop");
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
