//! The servers a client may send a request to, and what it has learned about them.
//!
//! A client over several endpoints (replicas behind several addresses, the nodes of a cluster) asks
//! [`Endpoints::pick`] for one per attempt. The choice follows the [`LoadBalancing`] policy among the
//! endpoints believed healthy; an endpoint whose last request failed at the network level (refused,
//! reset, closed, a proxy's 502/503/504) is *resting*: skipped until its back-off has passed (1 s after
//! the first failure, doubling up to 30 s), unless every endpoint is resting — then the one that comes
//! back first is tried, so a client never refuses to send just because all its servers failed once.
//! A request that got any answer from the server (an exception included) marks its endpoint healthy.
//!
//! Which failures may be *sent again* elsewhere is not decided here but by the client's retry rule
//! (`client::statement::retry_is_safe`): the endpoints only say where the next attempt goes.

use crate::error::Error;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How requests are spread over a client's endpoints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LoadBalancing {
    /// The first healthy endpoint in the order given (the others are for failover).
    #[default]
    InOrder,
    /// Each request to the next healthy endpoint in turn.
    RoundRobin,
    /// Each request to a healthy endpoint chosen at random.
    Random,
}

impl LoadBalancing {
    /// Parses `in_order`, `round_robin` or `random` (the URL parameter `load_balancing_policy`).
    pub fn parse(s: &str) -> Option<LoadBalancing> {
        match s.to_ascii_lowercase().replace('-', "_").as_str() {
            "in_order" | "first" => Some(LoadBalancing::InOrder),
            "round_robin" => Some(LoadBalancing::RoundRobin),
            "random" => Some(LoadBalancing::Random),
            _ => None,
        }
    }
}

/// The first pause of an endpoint after a failure; doubled per further failure.
const FIRST_REST: Duration = Duration::from_secs(1);
/// The longest pause.
const LONGEST_REST: Duration = Duration::from_secs(30);

#[derive(Clone, Copy, Debug, Default)]
struct Health {
    /// Failures since the last success.
    failures: u32,
    /// Until when the endpoint rests (no request unless every endpoint rests).
    rest_until: Option<Instant>,
}

/// A client's endpoints (base URLs such as `http://host:8123`) and their health.
#[derive(Debug)]
pub struct Endpoints {
    urls: Vec<String>,
    policy: LoadBalancing,
    next: AtomicUsize,
    health: Mutex<Vec<Health>>,
}

impl Endpoints {
    /// Endpoints with these base URLs (at least one).
    pub fn new(urls: Vec<String>, policy: LoadBalancing) -> Endpoints {
        let n = urls.len();
        Endpoints { urls, policy, next: AtomicUsize::new(0), health: Mutex::new(vec![Health::default(); n]) }
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.urls.len()
    }

    /// The base URL of endpoint `i`.
    pub fn url(&self, i: usize) -> &str {
        self.urls.get(i).or_else(|| self.urls.first()).map_or("", String::as_str)
    }

    /// The endpoint for the next attempt: by the policy, among the healthy ones not in `avoid` (those
    /// this call already tried); else the one whose rest ends first, preferring ones not in `avoid`.
    pub fn pick(&self, avoid: &[usize]) -> usize {
        let n = self.urls.len();
        if n <= 1 {
            return 0;
        }
        let start = match self.policy {
            LoadBalancing::InOrder => 0,
            LoadBalancing::RoundRobin => self.next.fetch_add(1, Ordering::Relaxed) % n,
            LoadBalancing::Random => random_below(n),
        };
        let now = Instant::now();
        let health = self.health.lock().unwrap_or_else(|e| e.into_inner());
        let order = (0..n).map(|k| (start + k) % n);
        let resting = |i: usize| health[i].rest_until.is_some_and(|t| t > now);
        if let Some(i) = order.clone().find(|&i| !avoid.contains(&i) && !resting(i)) {
            return i;
        }
        // Every endpoint not yet tried rests (or all were tried): the one back first, untried first.
        order.min_by_key(|&i| (avoid.contains(&i), if resting(i) { health[i].rest_until } else { None })).unwrap_or(0)
    }

    /// Records how a request to endpoint `i` ended: a failure at the network level makes it rest, any
    /// answer from the server makes it healthy; other outcomes (a cancelled call, a timeout, a
    /// consumer's error) say nothing about the endpoint.
    pub fn record(&self, i: usize, outcome: std::result::Result<(), &Error>) {
        let Some(down) = (match outcome {
            Ok(()) => Some(false),
            Err(e) => endpoint_failed(e),
        }) else {
            return;
        };
        let mut health = self.health.lock().unwrap_or_else(|e| e.into_inner());
        let Some(h) = health.get_mut(i) else { return };
        if down {
            h.failures = h.failures.saturating_add(1);
            let rest = FIRST_REST.saturating_mul(1 << (h.failures - 1).min(5)).min(LONGEST_REST);
            h.rest_until = Some(Instant::now() + rest);
            if self.urls.len() > 1 {
                log::warn!(
                    "endpoint {} failed ({e}); resting it for {rest:?}",
                    self.urls[i],
                    e = outcome.err().map_or(String::new(), |e| e.to_string())
                );
            }
        } else {
            *h = Health::default();
        }
    }

    /// Whether endpoint `i` rests now.
    #[cfg(test)]
    pub fn resting(&self, i: usize) -> bool {
        let health = self.health.lock().unwrap_or_else(|e| e.into_inner());
        health.get(i).and_then(|h| h.rest_until).is_some_and(|t| t > Instant::now())
    }
}

/// `Some(true)` when `e` says the endpoint is unreachable or broken, `Some(false)` when the server
/// answered, `None` when it says nothing about the endpoint.
fn endpoint_failed(e: &Error) -> Option<bool> {
    match e {
        // Refused, unresolvable, reset, closed early (libcurl's own error is the source); not our
        // own stops (cancel, deadline, stall: no source) nor TLS trouble (a configuration matter).
        Error::Transport { connect: true, .. } => Some(true),
        Error::Transport { tls: false, timeout: false, source: Some(_), .. } => Some(true),
        // Nothing moved for `send_receive_timeout` (a hung server accepts and never answers).
        Error::Transport { stall: true, .. } => Some(true),
        Error::Http { status: 502..=504, .. } => Some(true),
        Error::Http { .. } | Error::Server { .. } => Some(false),
        _ => None,
    }
}

/// A number below `n` (not for cryptography): from the process's random hasher seed and a counter.
fn random_below(n: usize) -> usize {
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_usize(COUNTER.fetch_add(1, Ordering::Relaxed));
    (h.finish() % n as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused() -> Error {
        Error::Transport {
            context: "POST x".into(),
            message: "refused".into(),
            tls: false,
            timeout: false,
            connect: true,
            stall: false,
            source: None,
        }
    }

    #[test]
    fn in_order_prefers_the_first_healthy_and_skips_resting_ones() {
        let e = Endpoints::new(vec!["a".into(), "b".into(), "c".into()], LoadBalancing::InOrder);
        assert_eq!(e.pick(&[]), 0);
        e.record(0, Err(&refused()));
        assert!(e.resting(0));
        assert_eq!(e.pick(&[]), 1);
        assert_eq!(e.pick(&[1]), 2);
        e.record(1, Err(&refused()));
        e.record(2, Err(&refused()));
        // All rest: the one back first (0 failed first), untried preferred.
        assert_eq!(e.pick(&[]), 0);
        assert_eq!(e.pick(&[0]), 1);
        e.record(0, Ok(()));
        assert!(!e.resting(0));
        assert_eq!(e.pick(&[]), 0);
    }

    #[test]
    fn round_robin_turns_and_random_stays_in_range() {
        let e = Endpoints::new(vec!["a".into(), "b".into(), "c".into()], LoadBalancing::RoundRobin);
        let picks: Vec<usize> = (0..6).map(|_| e.pick(&[])).collect();
        assert_eq!(picks, [0, 1, 2, 0, 1, 2]);
        let r = Endpoints::new(vec!["a".into(), "b".into()], LoadBalancing::Random);
        let mut seen = [0; 2];
        for _ in 0..200 {
            seen[r.pick(&[])] += 1;
        }
        assert!(seen[0] > 0 && seen[1] > 0, "{seen:?}");
    }

    #[test]
    fn answers_and_our_own_stops_do_not_make_an_endpoint_rest() {
        let e = Endpoints::new(vec!["a".into(), "b".into()], LoadBalancing::InOrder);
        let server = Error::Server { code: 60, name: String::new(), message: "no table".into(), version: None };
        e.record(0, Err(&server));
        let cancelled = Error::Transport {
            context: "POST x".into(),
            message: "the call was cancelled".into(),
            tls: false,
            timeout: false,
            connect: false,
            stall: false,
            source: None,
        };
        e.record(0, Err(&cancelled));
        assert!(!e.resting(0));
        e.record(0, Err(&Error::Http { status: 503, body: String::new() }));
        assert!(e.resting(0));
    }
}
