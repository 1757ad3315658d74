//! The progress line in a real terminal: `chc query` runs inside tmux (stderr is a terminal there) on a
//! query that takes a few seconds, and the captured screen shows rows, bytes, rate and elapsed time
//! from the server's progress headers.

#[path = "../../tests/common/mod.rs"]
mod common;

use std::process::Command;
use std::time::{Duration, Instant};

fn tmux(args: &[&str]) -> String {
    let out = Command::new("tmux").args(args).output().expect("tmux is installed by scripts/install");
    assert!(out.status.success(), "tmux {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn progress_bar_is_drawn_in_a_terminal() {
    let url = common::env("CH_MODERN_URL");
    let session = format!("chc-progress-{}", std::process::id());
    let cmd = format!(
        "CLICKHOUSE_URL={url} {} query --format Null 'SELECT sum(number) FROM numbers(30000000000) \
         SETTINGS max_threads = 1, max_execution_time = 20'; sleep 30",
        env!("CARGO_BIN_EXE_chc")
    );
    tmux(&["new-session", "-d", "-s", &session, "-x", "160", "-y", "10", &cmd]);
    let start = Instant::now();
    let mut screen = String::new();
    let mut seen = false;
    while start.elapsed() < Duration::from_secs(15) {
        std::thread::sleep(Duration::from_millis(500));
        screen = tmux(&["capture-pane", "-p", "-t", &session]);
        // A line with a row count from the server (not 0), the bytes, the rate and the elapsed time.
        if screen
            .lines()
            .any(|l| l.contains(" rows of ") && l.contains(" read, ") && l.contains("rows/s") && l.contains('s'))
            && !screen.contains(" 0 rows of")
        {
            seen = true;
            break;
        }
    }
    let _ = Command::new("tmux").args(["kill-session", "-t", &session]).status();
    eprintln!("{screen}");
    assert!(seen, "no progress line on the terminal:\n{screen}");
}
