//! The local three-node cluster (`CH_CLUSTER_URLS`): one client over its nodes, calls pinned to a node.

use super::env;
use clickhouse_connect::{CallOptions, Client, ClientOptions, LoadBalancing};

pub fn node_urls() -> Vec<String> {
    env("CH_CLUSTER_URLS").split(',').map(str::to_string).collect()
}

/// A client over every node, in order (the first one unless a call is pinned).
pub fn cluster_client() -> Client {
    let urls = node_urls();
    let host_port = |u: &str| u.trim_start_matches("http://").trim_end_matches('/').to_string();
    let mut o = ClientOptions::from_url(&urls[0]).unwrap();
    o.endpoints = urls[1..].iter().map(|u| host_port(u)).collect();
    o.load_balancing = LoadBalancing::InOrder;
    Client::new(o).unwrap()
}

/// A call pinned to node `i` (0-based).
pub fn on(i: usize) -> CallOptions {
    CallOptions::default().on_endpoint(i)
}

/// Runs `sql` on every node.
pub fn all_nodes(c: &Client, sql: &str) {
    for i in 0..3 {
        c.command_with(sql, &on(i)).unwrap_or_else(|e| panic!("node {i}: {sql}: {e}"));
    }
}

/// Inserts into `Distributed` tables in the foreground (what exactly-once needs).
pub fn fg() -> CallOptions {
    CallOptions { settings: vec![("distributed_foreground_insert".into(), "1".into())], ..CallOptions::default() }
}
