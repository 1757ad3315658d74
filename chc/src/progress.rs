//! The progress line on stderr: rows, bytes, rate and elapsed time. Drawn by indicatif when stderr is a
//! terminal; with `--progress` on anything else, a plain line about once a second.

use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Progress of one command.
pub struct Progress {
    bar: Option<ProgressBar>,
    plain: Option<Mutex<Instant>>,
    start: Instant,
    what: &'static str,
}

impl Progress {
    /// Shown when stderr is a terminal, or always with `forced`. `what` names the rows ("read", "sent").
    pub fn new(forced: bool, what: &'static str) -> Progress {
        let tty = std::io::stderr().is_terminal();
        let bar = tty.then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(10));
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg}").unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(100));
            bar
        });
        let plain = (!tty && forced).then(|| Mutex::new(Instant::now()));
        Progress { bar, plain, start: Instant::now(), what }
    }

    /// Whether anything is shown.
    pub fn active(&self) -> bool {
        self.bar.is_some() || self.plain.is_some()
    }

    fn line(&self, rows: u64, bytes: u64, total_rows: u64) -> String {
        self.line_as(rows, bytes, total_rows, self.what)
    }

    fn line_as(&self, rows: u64, bytes: u64, total_rows: u64, what: &str) -> String {
        let secs = self.start.elapsed().as_secs_f64();
        let rate = if secs > 0.0 { rows as f64 / secs } else { 0.0 };
        let brate = if secs > 0.0 { (bytes as f64 / secs) as u64 } else { 0 };
        let of = if total_rows > 0 { format!(" of {}", group(total_rows)) } else { String::new() };
        format!(
            "{} rows{of} {}, {} ({} rows/s, {}/s), {:.1}s",
            group(rows),
            what,
            HumanBytes(bytes),
            group(rate as u64),
            HumanBytes(brate),
            secs
        )
    }

    /// Reports the current totals.
    pub fn update(&self, rows: u64, bytes: u64, total_rows: u64) {
        if let Some(bar) = &self.bar {
            bar.set_message(self.line(rows, bytes, total_rows));
        } else if let Some(last) = &self.plain {
            let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
            if last.elapsed() >= Duration::from_secs(1) {
                *last = Instant::now();
                eprintln!("progress: {}", self.line(rows, bytes, total_rows));
            }
        }
    }

    /// Final line.
    pub fn finish(&self, rows: u64, bytes: u64) {
        self.finish_as(rows, bytes, self.what)
    }

    /// Final line, naming what the rows were (`received` when the server reported no progress).
    pub fn finish_as(&self, rows: u64, bytes: u64, what: &str) {
        let line = self.line_as(rows, bytes, 0, what);
        if let Some(bar) = &self.bar {
            bar.finish_with_message(line);
        } else if self.plain.is_some() {
            eprintln!("done: {line}");
        }
    }
}

/// 1234567 → 1,234,567.
fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}
