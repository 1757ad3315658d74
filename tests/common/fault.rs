//! A fault-injecting TCP proxy for the tests: it sits between a client and a real server on 127.0.0.1
//! and, when armed, breaks the next request at a chosen byte of one direction:
//! - [`Action::Reset`]: the connection is reset (RST: `SO_LINGER` 0, then closed);
//! - [`Action::Close`]: the connection is closed cleanly (FIN both ways);
//! - [`Action::Stall`]: nothing more is forwarded in either direction; the connection stays open until
//!   the client gives up (or the proxy is dropped).
//!
//! Arming counts bytes from the moment of arming, on every connection (a pooled keep-alive connection
//! carries the next request too); the first connection to reach the byte fires the fault, once.
//! `Direction::Request` at byte 0 breaks a request before any of it reaches the server;
//! `Direction::Response` at byte 0 breaks it after the server executed it, before the first response
//! byte reaches the client. Only 127.0.0.1 is ever a target; every thread ends when its connection does,
//! and the proxy stops with its owner.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Runs `run` on every case from a few threads (the cases are I/O-bound: servers, proxies, stalls);
/// prints each outcome and fails with every failed case listed.
pub fn run_cases<C: Send>(what: &str, cases: Vec<C>, run: impl Fn(C) -> Result<String, String> + Sync) {
    let total = cases.len();
    let queue = Mutex::new(cases);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..6 {
            s.spawn(|| {
                // The queue's lock is held only while taking a case.
                let next = || queue.lock().unwrap().pop();
                while let Some(case) = next() {
                    match run(case) {
                        Ok(line) => eprintln!("ok   {line}"),
                        Err(why) => {
                            eprintln!("FAIL {why}");
                            failures.lock().unwrap().push(why);
                        }
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "{} of {total} {what} cases failed:\n{}", failures.len(), failures.join("\n"));
}

/// What happens to the connection when the fault fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Reset,
    Close,
    Stall,
}

/// Which bytes are counted: the client's request or the server's response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Request,
    Response,
}

/// One planned fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    pub direction: Direction,
    /// Bytes of that direction forwarded (counted from arming) before the fault fires.
    pub at: u64,
    pub action: Action,
}

struct Armed {
    fault: Fault,
    /// Only a request whose bytes contain this (in one read) is broken; counting starts at that read.
    marker: Option<Vec<u8>>,
    /// Bumped on every arming, so each connection restarts its count.
    generation: u64,
}

struct Shared {
    upstream: String,
    armed: Mutex<Option<Armed>>,
    generation: AtomicU64,
    fired: AtomicUsize,
    connections: AtomicUsize,
    stop: AtomicBool,
    /// Not listening: new connections are refused (open ones carry on).
    paused: AtomicBool,
    /// The port is bound (listening).
    bound: AtomicBool,
    /// Every connection the proxy made, to close them all when it stops.
    conns: Mutex<Vec<std::sync::Weak<Conn>>>,
}

pub struct FaultProxy {
    pub port: u16,
    shared: Arc<Shared>,
}

impl FaultProxy {
    /// A proxy to `upstream` (`http://127.0.0.1:PORT`).
    pub fn start(upstream: &str) -> FaultProxy {
        Self::start_at(upstream, 0)
    }

    /// A proxy listening on `port` (0: any free port).
    pub fn start_at(upstream: &str, port: u16) -> FaultProxy {
        let upstream = upstream.trim_start_matches("http://").trim_end_matches('/').to_string();
        assert!(upstream.starts_with("127.0.0.1:") || upstream.starts_with("localhost:"), "loopback only: {upstream}");
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared {
            upstream,
            armed: Mutex::new(None),
            generation: AtomicU64::new(0),
            fired: AtomicUsize::new(0),
            connections: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            paused: AtomicBool::new(false),
            bound: AtomicBool::new(true),
            conns: Mutex::new(Vec::new()),
        });
        let sh = shared.clone();
        std::thread::spawn(move || {
            let mut listener = Some(listener);
            loop {
                if sh.stop.load(Ordering::SeqCst) {
                    break;
                }
                if sh.paused.load(Ordering::SeqCst) {
                    // Not listening: connections are refused until resumed.
                    listener = None;
                    sh.bound.store(false, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                }
                let l = match &listener {
                    Some(l) => l,
                    None => match TcpListener::bind(("127.0.0.1", port)) {
                        Ok(l) => {
                            sh.bound.store(true, Ordering::SeqCst);
                            listener.insert(l)
                        }
                        Err(_) => {
                            std::thread::sleep(Duration::from_millis(5));
                            continue;
                        }
                    },
                };
                let conn = l.accept().map(|(c, _)| c);
                if sh.stop.load(Ordering::SeqCst) {
                    break;
                }
                if sh.paused.load(Ordering::SeqCst) {
                    // The wake-up connection of `pause_listening`.
                    continue;
                }
                let Ok(client) = conn else { continue };
                let Ok(server) = TcpStream::connect(&sh.upstream) else { continue };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                // Reads wake up now and then to see whether the connection was broken meanwhile.
                let _ = client.set_read_timeout(Some(Duration::from_millis(20)));
                let _ = server.set_read_timeout(Some(Duration::from_millis(20)));
                sh.connections.fetch_add(1, Ordering::SeqCst);
                let conn = Arc::new(Conn {
                    client,
                    server,
                    broken: AtomicBool::new(false),
                    done: AtomicBool::new(false),
                    targeted: AtomicU64::new(0),
                });
                sh.conns.lock().unwrap().push(Arc::downgrade(&conn));
                for direction in [Direction::Request, Direction::Response] {
                    let (sh, conn) = (sh.clone(), conn.clone());
                    std::thread::spawn(move || pump(&sh, &conn, direction));
                }
            }
        });
        FaultProxy { port, shared }
    }

    /// Breaks the next request as `fault` says (one shot).
    pub fn arm(&self, fault: Fault) {
        let generation = self.shared.generation.fetch_add(1, Ordering::SeqCst) + 1;
        *self.shared.armed.lock().unwrap() = Some(Armed { fault, marker: None, generation });
    }

    /// Breaks the first request that contains `marker` (in its URL or body) as `fault` says, counting
    /// from the read that carried the marker: for a client in another process, whose other requests
    /// (connecting, describing a table) must pass.
    pub fn arm_for(&self, marker: &str, fault: Fault) {
        let generation = self.shared.generation.fetch_add(1, Ordering::SeqCst) + 1;
        *self.shared.armed.lock().unwrap() =
            Some(Armed { fault, marker: Some(marker.as_bytes().to_vec()), generation });
    }

    /// Resets every open connection after `delay` (from a thread): a fault at a moment rather than a
    /// byte, e.g. while the server is still running a statement.
    pub fn reset_all_after(&self, delay: Duration) {
        let shared = self.shared.clone();
        std::thread::spawn(move || {
            std::thread::sleep(delay);
            let conns: Vec<Arc<Conn>> = shared.conns.lock().unwrap().iter().filter_map(|c| c.upgrade()).collect();
            for c in conns {
                if !c.done.load(Ordering::SeqCst) {
                    shared.fired.fetch_add(1, Ordering::SeqCst);
                    c.apply(Action::Reset);
                }
            }
        });
    }

    /// Stops listening: new connections are refused (as by a server restarting) while the open ones
    /// carry on. Returns once the port is closed.
    pub fn pause_listening(&self) {
        self.shared.paused.store(true, Ordering::SeqCst);
        // Wake the accept loop, then wait until the port refuses.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        for _ in 0..200 {
            if TcpStream::connect(("127.0.0.1", self.port)).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        panic!("the proxy's port did not close");
    }

    /// Listens again on the same port; returns once it does.
    pub fn resume_listening(&self) {
        self.shared.paused.store(false, Ordering::SeqCst);
        for _ in 0..400 {
            if self.shared.bound.load(Ordering::SeqCst) {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        panic!("the proxy's port did not open again");
    }

    /// Removes a fault that has not fired.
    pub fn disarm(&self) {
        *self.shared.armed.lock().unwrap() = None;
    }

    /// How many faults have fired.
    pub fn fired(&self) -> usize {
        self.shared.fired.load(Ordering::SeqCst)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        for c in self.shared.conns.lock().unwrap().drain(..) {
            if let Some(c) = c.upgrade() {
                c.done.store(true, Ordering::SeqCst);
                let _ = c.client.shutdown(Shutdown::Both);
                let _ = c.server.shutdown(Shutdown::Both);
            }
        }
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// One proxied connection. It owns the only descriptors of its two sockets, so that when both pumps
/// have let go of it the sockets close — with `SO_LINGER` 0 after a reset, which sends the RST.
struct Conn {
    client: TcpStream,
    server: TcpStream,
    /// A fault fired: nothing more is forwarded.
    broken: AtomicBool,
    /// Both pumps should stop (reset, close, or the proxy stopping).
    done: AtomicBool,
    /// The arming generation whose marker this connection carried.
    targeted: AtomicU64,
}

impl Conn {
    fn apply(&self, action: Action) {
        self.broken.store(true, Ordering::SeqCst);
        match action {
            Action::Reset => {
                // The pumps let go of the connection; its sockets then close with linger 0: RST.
                for s in [&self.client, &self.server] {
                    let _ = socket2::SockRef::from(s).set_linger(Some(Duration::ZERO));
                }
                self.done.store(true, Ordering::SeqCst);
            }
            Action::Close => {
                self.done.store(true, Ordering::SeqCst);
                for s in [&self.client, &self.server] {
                    let _ = s.shutdown(Shutdown::Both);
                }
            }
            // Nothing is forwarded any more; the sockets stay open until the client closes its end.
            Action::Stall => {}
        }
    }
}

/// Forwards one direction of a connection, counting bytes since the last arming and firing the fault
/// when its byte is reached.
fn pump(sh: &Shared, conn: &Conn, direction: Direction) {
    let (mut from, mut to) = match direction {
        Direction::Request => (&conn.client, &conn.server),
        Direction::Response => (&conn.server, &conn.client),
    };
    let mut buf = vec![0u8; 64 * 1024];
    let mut generation = 0;
    let mut counted = 0u64;
    loop {
        if conn.done.load(Ordering::SeqCst) || sh.stop.load(Ordering::SeqCst) {
            return;
        }
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => continue,
            Err(_) => break,
        };
        if conn.broken.load(Ordering::SeqCst) {
            // Stalled: swallow what arrives (the peer sees no progress).
            continue;
        }
        {
            let mut armed = sh.armed.lock().unwrap();
            if let Some(a) = armed.as_ref() {
                if a.generation != generation {
                    generation = a.generation;
                    counted = 0;
                }
                let mut counting = true;
                if let Some(marker) = &a.marker {
                    if conn.targeted.load(Ordering::SeqCst) != a.generation {
                        counting = direction == Direction::Request && memchr::memmem::find(&buf[..n], marker).is_some();
                        if counting {
                            conn.targeted.store(a.generation, Ordering::SeqCst);
                            counted = 0;
                        }
                    }
                }
                if !counting {
                    // Not the request the fault is for: its bytes do not count.
                    counted = 0;
                    drop(armed);
                    if to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                    continue;
                } else if a.fault.direction == direction && counted + n as u64 > a.fault.at {
                    let keep = (a.fault.at - counted) as usize;
                    let action = a.fault.action;
                    *armed = None;
                    sh.fired.fetch_add(1, Ordering::SeqCst);
                    drop(armed);
                    if keep > 0 {
                        let _ = to.write_all(&buf[..keep]);
                    }
                    conn.apply(action);
                    continue;
                }
                counted += n as u64;
            }
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    if conn.broken.load(Ordering::SeqCst) {
        conn.done.store(true, Ordering::SeqCst);
    } else {
        // Pass a clean end on as a clean end.
        let _ = to.shutdown(Shutdown::Write);
    }
}
