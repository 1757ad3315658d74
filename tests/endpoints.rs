//! A client over several endpoints, on the repo's local cluster (three 26.9 servers, see
//! `scripts/clickhouse-servers`): load balancing, failover, resting endpoints, sessions pinned to
//! their endpoint, and errors that name the endpoints tried. Which server answered is asked of the
//! server itself (`getServerPort('http_port')`); executions are counted by the servers.
//! The node kill/restart test is in `cluster_faults.rs` (its own process, so that nothing here runs
//! while a node is down).

mod common;
#[path = "common/drivers.rs"]
mod drivers;

use clickhouse_connect::{CallOptions, Client, ClientOptions, Error, LoadBalancing, Value};
use common::fault::{Action, Direction, Fault, FaultProxy};
use drivers::Driver;

/// The cluster's nodes' base URLs, in the client's order.
fn node_urls() -> Vec<String> {
    common::env("CH_CLUSTER_URLS").split(',').map(str::to_string).collect()
}

/// A loopback port where nothing listens (a server that is down).
fn dead_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    format!("http://127.0.0.1:{port}")
}

/// Options for a client over these base URLs (the first as host/port, the rest as `endpoints`).
fn options_over(urls: &[String], policy: LoadBalancing) -> ClientOptions {
    let host_port = |u: &str| u.trim_start_matches("http://").trim_end_matches('/').to_string();
    let mut o = ClientOptions::from_url(&urls[0]).unwrap();
    o.endpoints = urls[1..].iter().map(|u| host_port(u)).collect();
    o.load_balancing = policy;
    o
}

/// The HTTP port of the server that ran the query, as that server says.
fn port_of(c: &Driver, opts: &CallOptions) -> (u64, Option<String>) {
    let r = c.query_with("SELECT toUInt64(getServerPort('http_port'))", opts).unwrap();
    let Value::UInt64(p) = r.rows[0][0] else { panic!("{:?}", r.rows) };
    (p, r.endpoint)
}

fn port_in(url: &str) -> u64 {
    url.rsplit(':').next().unwrap().trim_end_matches('/').parse().unwrap()
}

#[test]
fn the_url_form_with_several_hosts_spreads_calls_by_the_policy_and_names_the_endpoint() {
    let urls = node_urls();
    let ports: Vec<u64> = urls.iter().map(|u| port_in(u)).collect();
    for c in Driver::both_with("CH_CLUSTER_URL", |o| o.load_balancing = LoadBalancing::RoundRobin) {
        assert_eq!(c.blocking().endpoints(), urls, "{}", c.name());
        let mut seen = Vec::new();
        for _ in 0..6 {
            let (port, endpoint) = port_of(&c, &CallOptions::default());
            // The endpoint reported is the server that says it ran the query.
            assert_eq!(port_in(endpoint.as_deref().unwrap()), port, "{}", c.name());
            seen.push(port);
        }
        // Round robin: every node, each as often (the connect probe took a turn too).
        for p in &ports {
            assert_eq!(seen.iter().filter(|s| *s == p).count(), 2, "{}: {seen:?}", c.name());
        }
        assert!(seen.windows(2).all(|w| w[0] != w[1]), "{}: {seen:?}", c.name());
        // A call can choose its endpoint.
        for (i, p) in ports.iter().enumerate() {
            assert_eq!(port_of(&c, &CallOptions::default().on_endpoint(i)).0, *p);
        }
        let e = c.query_with("SELECT 1", &CallOptions::default().on_endpoint(3)).unwrap_err();
        assert!(matches!(e, Error::Usage(_)), "{e}");
        // Results of every kind name the endpoint.
        let t = common::table("ep_results");
        let cmd = c.command(&format!("CREATE TABLE {t} (n UInt64) ENGINE = Memory")).unwrap();
        assert!(cmd.endpoint.is_some(), "{}", c.name());
        // The table exists on one node only: pin the rest of this to it.
        let on =
            CallOptions::default().on_endpoint(urls.iter().position(|u| Some(u) == cmd.endpoint.as_ref()).unwrap());
        let s = c.inserter(&t, &["n"], 10, &[vec![Value::UInt64(1)]], &on).unwrap();
        assert_eq!(s.endpoint, cmd.endpoint, "{}", c.name());
        c.command_with(&format!("DROP TABLE {t}"), &on).unwrap();
    }
    for c in Driver::both_with("CH_CLUSTER_URL", |_| {}) {
        // In order (the default): always the first healthy endpoint.
        for _ in 0..4 {
            assert_eq!(port_of(&c, &CallOptions::default()).0, ports[0], "{}", c.name());
        }
    }
}

#[test]
fn a_dead_endpoint_is_skipped_for_every_kind_of_call_and_rests() {
    let urls = node_urls();
    let dead = dead_url();
    let list = [dead.clone(), urls[1].clone()];
    for c in Driver::both_with("CH_CLUSTER_URL", |o| *o = options_over(&list, LoadBalancing::InOrder)) {
        // Connecting already went past it.
        let (port, _) = port_of(&c, &CallOptions::default());
        assert_eq!(port, port_in(&urls[1]), "{}", c.name());
        // A statement that changes things fails over too when its connection was refused (nothing
        // was sent). Pinning to the dead endpoint shows the refusal itself.
        let e = c.command_with("SELECT 1", &CallOptions::default().on_endpoint(0)).unwrap_err();
        assert!(matches!(e.root(), Error::Transport { connect: true, .. }), "{}: {e}", c.name());
        let t = common::table("ep_dead");
        let r = c.command(&format!("CREATE TABLE {t} (n UInt64) ENGINE = MergeTree ORDER BY n")).unwrap();
        assert_eq!(r.endpoint.as_deref(), Some(urls[1].as_str()), "{}", c.name());
        let rows: Vec<Vec<Value>> = (0..100u64).map(|n| vec![Value::UInt64(n)]).collect();
        c.insert(&t, &["n"], &rows).unwrap();
        let s = c.inserter(&t, &["n"], 30, &rows, &CallOptions::default()).unwrap();
        assert_eq!(s.endpoint.as_deref(), Some(urls[1].as_str()), "{}", c.name());
        c.raw_insert(&t, &["n"], "TSV", b"7\n").unwrap();
        // Counted by the server that has the table: every insert arrived exactly once.
        let n =
            c.query_with(&format!("SELECT count(), sum(n) FROM {t}"), &CallOptions::default().on_endpoint(1)).unwrap();
        assert_eq!(n.rows[0], [Value::UInt64(201), Value::UInt64(2 * 4950 + 7)], "{}", c.name());
        c.command_with(&format!("DROP TABLE {t}"), &CallOptions::default().on_endpoint(1)).unwrap();
    }
    // A resting endpoint is asked again once its rest is over: a proxy that stops listening and
    // comes back (as a restarting server does), counted by the proxy's connections.
    let proxy = FaultProxy::start(&urls[0]);
    let list = [proxy.url(), urls[1].clone()];
    let c = Client::new(options_over(&list, LoadBalancing::InOrder)).unwrap();
    let opts = CallOptions::default();
    let port = |c: &Client| {
        let r = c.query_with("SELECT toUInt64(getServerPort('http_port'))", &opts).unwrap();
        r.rows[0][0].clone()
    };
    assert_eq!(port(&c), Value::UInt64(port_in(&urls[0])));
    // Down, as a restarting server is: nothing listens, and the open connections are gone.
    proxy.pause_listening();
    proxy.reset_all_after(std::time::Duration::ZERO);
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert_eq!(port(&c), Value::UInt64(port_in(&urls[1])));
    proxy.resume_listening();
    // Resting: not asked while its back-off (1 s after one failure) lasts, however healthy it is.
    let before = proxy.connections();
    for _ in 0..5 {
        assert_eq!(port(&c), Value::UInt64(port_in(&urls[1])));
    }
    assert_eq!(proxy.connections(), before, "a resting endpoint was asked");
    std::thread::sleep(std::time::Duration::from_millis(1200));
    assert_eq!(port(&c), Value::UInt64(port_in(&urls[0])));
}

#[test]
fn errors_name_every_endpoint_tried() {
    let (a, b) = (dead_url(), dead_url());
    let e = Client::new(options_over(&[a.clone(), b.clone()], LoadBalancing::InOrder)).unwrap_err();
    match &e {
        Error::Endpoints { tried, cause } => {
            assert_eq!(tried, &[a.clone(), b.clone()], "{e}");
            assert!(matches!(**cause, Error::Transport { connect: true, .. }), "{e}");
        }
        other => panic!("{other:?}"),
    }
    let shown = e.to_string();
    assert!(shown.contains(&a) && shown.contains(&b), "{shown}");
    // A server's exception names the one endpoint that raised it, and keeps its code.
    let urls = node_urls();
    for c in Driver::both_with("CH_CLUSTER_URL", |_| {}) {
        let e = c.query("SELECT throwIf(1, 'on purpose')").unwrap_err();
        assert_eq!(e.server_code(), Some(395), "{}: {e}", c.name());
        match &e {
            Error::Endpoints { tried, .. } => assert_eq!(tried, &[urls[0].clone()], "{}", c.name()),
            other => panic!("{}: {other:?}", c.name()),
        }
        assert!(matches!(e.root(), Error::Server { code: 395, .. }));
    }
    // A single-endpoint client reports the cause alone, as before.
    let single = common::modern();
    assert!(matches!(single.query("SELECT throwIf(1)").unwrap_err(), Error::Server { .. }));
}

#[test]
fn what_may_have_run_is_not_sent_elsewhere_and_reads_fail_over() {
    let urls = node_urls();
    let proxy = FaultProxy::start(&urls[0]);
    let list = [proxy.url(), urls[1].clone()];
    let t = common::table("ep_once");
    let c = Client::new(options_over(&list, LoadBalancing::InOrder)).unwrap();
    for i in 0..list.len() {
        c.command_with(
            &format!("CREATE TABLE {t} (n UInt64) ENGINE = MergeTree ORDER BY n"),
            &CallOptions::default().on_endpoint(i),
        )
        .unwrap();
    }
    let count = |i: usize| {
        let c = Client::from_url(&urls[i]).unwrap();
        c.command(&format!("SELECT count() FROM {t}")).unwrap().get::<u64>().unwrap()
    };
    for c in Driver::both_with("CH_CLUSTER_URL", |o| {
        *o = options_over(&list, LoadBalancing::InOrder);
        o.send_receive_timeout = std::time::Duration::from_secs(1);
    }) {
        for action in [Action::Reset, Action::Close, Action::Stall] {
            // The response's first byte never arrives: the server has run the statement.
            let before = (count(0), count(1));
            let fired = proxy.fired();
            proxy.arm(Fault { direction: Direction::Response, at: 0, action });
            let e = c.command(&format!("INSERT INTO {t} SELECT number FROM numbers(10)")).unwrap_err();
            assert_eq!(proxy.fired(), fired + 1, "{}", c.name());
            match &e {
                Error::Endpoints { tried, .. } => assert_eq!(tried, &[list[0].clone()], "{}: {e}", c.name()),
                other => panic!("{}: {other:?}", c.name()),
            }
            // Ran once, where it was sent; never on the other endpoint.
            assert_eq!((count(0), count(1)), (before.0 + 10, before.1), "{} {action:?}", c.name());
            proxy.disarm();
            // A call pinned to the endpoint goes there however it rests, and its answer ends the rest.
            c.query_with("SELECT 1", &CallOptions::default().on_endpoint(0)).unwrap();
            // A read-only query under the same fault goes to the other endpoint and returns whole.
            proxy.arm(Fault { direction: Direction::Response, at: 0, action });
            let r = c.query(&format!("SELECT count() FROM {t}")).unwrap();
            assert_eq!(proxy.fired(), fired + 2, "{}", c.name());
            assert_eq!(r.endpoint.as_deref(), Some(urls[1].as_str()), "{}", c.name());
            assert_eq!(r.rows[0][0], Value::UInt64(count(1)));
            proxy.disarm();
            c.query_with("SELECT 1", &CallOptions::default().on_endpoint(0)).unwrap();
        }
    }
    for u in &urls[..2] {
        Client::from_url(u).unwrap().command(&format!("DROP TABLE {t}")).unwrap();
    }
}

#[test]
fn sessions_stay_on_their_endpoint() {
    let urls = node_urls();
    let proxy = FaultProxy::start(&urls[0]);
    let list = [proxy.url(), urls[1].clone(), urls[2].clone()];
    for c in Driver::both_with("CH_CLUSTER_URL", |o| *o = options_over(&list, LoadBalancing::RoundRobin)) {
        let id = format!("ep-session-{}-{}", std::process::id(), c.name());
        let s = CallOptions::default().session(&id);
        c.command_with("CREATE TEMPORARY TABLE tmp_here (n UInt64)", &s).unwrap();
        c.command_with("INSERT INTO tmp_here VALUES (1), (2)", &s).unwrap();
        let mut at = Vec::new();
        for _ in 0..6 {
            let r = c.query_with("SELECT count() FROM tmp_here", &s).unwrap();
            assert_eq!(r.rows[0][0], Value::UInt64(2), "{}", c.name());
            at.push(r.endpoint.unwrap());
        }
        at.dedup();
        assert_eq!(at.len(), 1, "{}: {at:?}", c.name());
        // Meanwhile calls outside the session still turn.
        let others: Vec<u64> = (0..3).map(|_| port_of(&c, &CallOptions::default()).0).collect();
        assert_eq!(
            {
                let mut o = others.clone();
                o.sort();
                o.dedup();
                o.len()
            },
            3,
            "{}: {others:?}",
            c.name()
        );
    }
    // A session on an endpoint that goes away fails, naming that endpoint only (its state lives there;
    // another server would not have the table), while calls outside it fail over.
    for c in Driver::both_with("CH_CLUSTER_URL", |o| *o = options_over(&list, LoadBalancing::InOrder)) {
        let id = format!("ep-session-down-{}-{}", std::process::id(), c.name());
        let s = CallOptions::default().session(&id);
        c.command_with("CREATE TEMPORARY TABLE tmp_here (n UInt64)", &s).unwrap();
        assert_eq!(
            c.query_with("SELECT count() FROM tmp_here", &s).unwrap().endpoint.as_deref(),
            Some(list[0].as_str())
        );
        proxy.pause_listening();
        proxy.reset_all_after(std::time::Duration::ZERO);
        std::thread::sleep(std::time::Duration::from_millis(100));
        let e = c.query_with("SELECT count() FROM tmp_here", &s).unwrap_err();
        match &e {
            Error::Endpoints { tried, cause } => {
                assert_eq!(tried, &[list[0].clone()], "{}: {e}", c.name());
                assert!(matches!(**cause, Error::Transport { connect: true, .. }), "{}: {e}", c.name());
            }
            other => panic!("{}: {other:?}", c.name()),
        }
        assert_eq!(port_of(&c, &CallOptions::default()).0, port_in(&urls[1]), "{}", c.name());
        proxy.resume_listening();
        // Back: the session's state is still there.
        c.command_with("INSERT INTO tmp_here VALUES (5)", &s).unwrap();
        assert_eq!(c.query_with("SELECT sum(n) FROM tmp_here", &s).unwrap().rows[0][0], Value::UInt64(5));
    }
}

/// A loopback port whose listener never accepts and whose queue is full: new connections time out, as
/// with a host that drops packets. Kept open while the returned values live.
fn black_hole() -> (socket2::Socket, Vec<std::net::TcpStream>, String) {
    use socket2::{Domain, Socket, Type};
    let l = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    l.bind(&"127.0.0.1:0".parse::<std::net::SocketAddr>().unwrap().into()).unwrap();
    l.listen(0).unwrap();
    let addr = l.local_addr().unwrap().as_socket().unwrap();
    // Fill the queue until a connect times out.
    let mut held = Vec::new();
    for _ in 0..8 {
        match std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_millis(200)) {
            Ok(s) => held.push(s),
            Err(_) => return (l, held, format!("http://{addr}")),
        }
    }
    panic!("the listener's queue did not fill");
}

#[test]
fn a_host_that_drops_connections_times_out_and_calls_fail_over() {
    let urls = node_urls();
    let (_listener, _held, hole) = black_hole();
    let list = [hole.clone(), urls[1].clone()];
    let t = common::table("ep_hole");
    for c in Driver::both_with("CH_CLUSTER_URL", |o| {
        *o = options_over(&list, LoadBalancing::InOrder);
        o.connect_timeout = std::time::Duration::from_millis(500);
    }) {
        // Pinned to the hole: a connect timeout, marked as a connection never made.
        let started = std::time::Instant::now();
        let e = c.command_with("SELECT 1", &CallOptions::default().on_endpoint(0)).unwrap_err();
        assert!(matches!(e.root(), Error::Transport { connect: true, timeout: true, .. }), "{}: {e:?}", c.name());
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
        std::thread::sleep(std::time::Duration::from_millis(1100)); // its rest
        // A statement that changes things goes to the other endpoint (nothing of it went out) and runs
        // once, as the server counts.
        let on1 = CallOptions::default().on_endpoint(1);
        c.command_with(&format!("CREATE TABLE {t} (n UInt64) ENGINE = MergeTree ORDER BY n"), &on1).unwrap();
        let r = c.command(&format!("INSERT INTO {t} SELECT number FROM numbers(10)")).unwrap();
        assert_eq!(r.endpoint.as_deref(), Some(urls[1].as_str()), "{}", c.name());
        assert_eq!(c.command_with(&format!("SELECT count() FROM {t}"), &on1).unwrap().get::<u64>().unwrap(), 10);
        c.command_with(&format!("DROP TABLE {t}"), &on1).unwrap();
    }
}

/// A loopback server that accepts connections and never answers (a hung process), for as long as the
/// returned listener lives.
fn hung_server() -> (std::sync::Arc<std::sync::atomic::AtomicBool>, String) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let s = stop.clone();
    l.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        let until = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while !s.load(std::sync::atomic::Ordering::Relaxed) && std::time::Instant::now() < until {
            match l.accept() {
                Ok((c, _)) => held.push(c),
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(10)),
            }
        }
    });
    (stop, url)
}

#[test]
fn a_hung_endpoint_rests_and_read_only_calls_go_elsewhere() {
    let urls = node_urls();
    let (stop, hung) = hung_server();
    let list = [hung.clone(), urls[1].clone()];
    for c in Driver::both_with("CH_CLUSTER_URL", |o| {
        *o = options_over(&list, LoadBalancing::InOrder);
        o.send_receive_timeout = std::time::Duration::from_secs(1);
    }) {
        // Connecting went past it (a read-only statement, after one stall); a read-only query does too
        // (after a stall of its own if the rest was over), and then it rests: the next is prompt.
        assert_eq!(port_of(&c, &CallOptions::default()).0, port_in(&urls[1]), "{}", c.name());
        let started = std::time::Instant::now();
        assert_eq!(port_of(&c, &CallOptions::default()).0, port_in(&urls[1]), "{}", c.name());
        assert!(started.elapsed() < std::time::Duration::from_millis(500), "{}: asked the resting one", c.name());
        // Pinned to it: the stall itself, naming it.
        let e = c.query_with("SELECT 1", &CallOptions::default().on_endpoint(0)).unwrap_err();
        assert!(matches!(e.root(), Error::Transport { timeout: true, .. }), "{}: {e}", c.name());
        // (A statement that may have run is never sent elsewhere after a stall: see
        // what_may_have_run_is_not_sent_elsewhere_and_reads_fail_over.)
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
}

#[test]
fn sessions_move_only_before_any_answer_and_refuse_other_endpoints() {
    let urls = node_urls();
    let dead = dead_url();
    let list = [dead.clone(), urls[1].clone()];
    for c in Driver::both_with("CH_CLUSTER_URL", |o| *o = options_over(&list, LoadBalancing::InOrder)) {
        // The session's first call went to the dead endpoint (its rest over): refused, nothing sent,
        // so the session moves with it; later calls find its state.
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let s = CallOptions::default().session(format!("ep-move-{}-{}", std::process::id(), c.name()));
        c.command_with("CREATE TEMPORARY TABLE tmp_moved (n UInt8)", &s).unwrap();
        c.command_with("INSERT INTO tmp_moved VALUES (4)", &s).unwrap();
        let r = c.query_with("SELECT sum(n) FROM tmp_moved", &s).unwrap();
        assert_eq!((r.rows[0][0].clone(), r.endpoint.as_deref()), (Value::UInt64(4), Some(urls[1].as_str())));
        // A call of the session sent to another endpoint is refused, not run without its state.
        let e = c.query_with("SELECT 1", &s.clone().on_endpoint(0)).unwrap_err();
        assert!(matches!(e, Error::Usage(_)), "{}: {e}", c.name());
    }
}

#[test]
fn exactly_once_into_distributed_is_refused_unless_every_resend_is_harmless() {
    let urls = node_urls();
    let c = Client::new(options_over(&urls, LoadBalancing::InOrder)).unwrap();
    let cluster = common::env("CH_CLUSTER_NAME");
    let local = common::table("eo_check_local");
    let make = |engine_settings: &str, key: &str| {
        for i in 0..3 {
            let on = CallOptions::default().on_endpoint(i);
            c.command_with(&format!("DROP TABLE IF EXISTS {local}_d"), &on).unwrap();
            c.command_with(&format!("DROP TABLE IF EXISTS {local}"), &on).unwrap();
            c.command_with(
                &format!("CREATE TABLE {local} (n UInt64) ENGINE = MergeTree ORDER BY n {engine_settings}"),
                &on,
            )
            .unwrap();
            c.command_with(
                &format!("CREATE TABLE {local}_d AS {local} ENGINE = Distributed({cluster}, currentDatabase(), {local}, {key})"),
                &on,
            )
            .unwrap();
        }
    };
    let fg =
        CallOptions { settings: vec![("distributed_foreground_insert".into(), "1".into())], ..CallOptions::default() };
    let attempt = |opts: &CallOptions| {
        c.inserter_with(&format!("{local}_d"), &[], 1000, opts).unwrap().exactly_once("eo-check", 3)
    };
    let window = "SETTINGS non_replicated_deduplication_window = 1000";
    // Shards that do not deduplicate.
    make("", "n");
    let e = attempt(&fg).map(|_| ()).unwrap_err();
    assert!(e.to_string().contains("shard table"), "{e}");
    // A random sharding key.
    make(window, "rand()");
    let e = attempt(&fg).map(|_| ()).unwrap_err();
    assert!(e.to_string().contains("rand()"), "{e}");
    // A key whose function the server's system.functions calls not deterministic (no random name).
    make(window, "n + blockSize()");
    let e = attempt(&fg).map(|_| ()).unwrap_err();
    assert!(e.to_string().contains("blockSize()"), "{e}");
    // Background inserts.
    make(window, "cityHash64(n)");
    let e = attempt(&CallOptions::default()).map(|_| ()).unwrap_err();
    assert!(e.to_string().contains("foreground"), "{e}");
    // All three right: accepted, and it works.
    let mut ins = attempt(&fg).unwrap();
    for n in 0..1000u64 {
        ins.write(&[Value::UInt64(n)]).unwrap();
    }
    ins.end().unwrap();
    assert_eq!(c.command(&format!("SELECT count() FROM {local}_d")).unwrap().get::<u64>().unwrap(), 1000);
    for i in 0..3 {
        let on = CallOptions::default().on_endpoint(i);
        c.command_with(&format!("DROP TABLE {local}_d"), &on).unwrap();
        c.command_with(&format!("DROP TABLE {local}"), &on).unwrap();
    }
}

#[test]
fn internal_read_only_checks_fail_over_and_async_stream_errors_name_the_endpoint() {
    let urls = node_urls();
    let proxy = FaultProxy::start(&urls[0]);
    let list = [proxy.url(), urls[1].clone()];
    let c = Client::new(options_over(&list, LoadBalancing::InOrder)).unwrap();
    proxy.pause_listening();
    proxy.reset_all_after(std::time::Duration::ZERO);
    std::thread::sleep(std::time::Duration::from_millis(100));
    // The first call with settings of its own asks which settings the user may change: that goes
    // elsewhere too.
    let opts = CallOptions { settings: vec![("max_threads".into(), "1".into())], ..CallOptions::default() };
    let r = c.query_with("SELECT toUInt64(getSetting('max_threads'))", &opts).unwrap();
    assert_eq!(r.rows[0][0], Value::UInt64(1));
    assert_eq!(r.endpoint.as_deref(), Some(urls[1].as_str()));
    proxy.resume_listening();
    // An exception after data started, through the async block stream, names its endpoint.
    for d in Driver::both_with("CH_CLUSTER_URL", |o| *o = options_over(&urls, LoadBalancing::InOrder)) {
        let sql = "SELECT number, throwIf(number = 90000) FROM numbers(100000) SETTINGS max_block_size = 1000";
        let e = d.blocks_with(sql, &CallOptions::default()).unwrap_err();
        assert_eq!(e.server_code(), Some(395), "{}: {e}", d.name());
        assert!(matches!(e, Error::Endpoints { .. }), "{}: {e:?}", d.name());
    }
}
