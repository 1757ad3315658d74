//! Connection parameters: the Python driver's `get_client` arguments with their meanings and defaults,
//! from code or from a URL (`http(s)://user:password@host:port/database?name=value&…`, where names that
//! are client options — `compress`, `query_limit`, `query_retries`, `connect_timeout`,
//! `send_receive_timeout`, `client_name`, `send_progress`, `verify`, `ca_cert`, `client_cert`,
//! `client_cert_key`, `session_id`, `load_balancing_policy` — set those, and everything else is a
//! ClickHouse setting).
//!
//! Several servers: `http://host1:8123,host2:8123,host3/db?load_balancing_policy=round_robin` (each
//! `host` or `host:port`, the port defaulting as for the first), or [`ClientOptions::endpoints`] in
//! code. See [`crate::LoadBalancing`] and the client's docs for failover.

use crate::error::{Error, Result};
use std::time::Duration;

pub use crate::transport::LoadBalancing;
pub use crate::transport::compression::{Compression, ContentEncoding};

/// Connection parameters, with the Python driver's names and defaults.
#[derive(Clone)]
pub struct ClientOptions {
    /// `http` or `https` (default `http`).
    pub interface: String,
    /// Host name (default `localhost`).
    pub host: String,
    /// Port (default 8123 for http, 8443 for https).
    pub port: Option<u16>,
    /// More servers besides `host`/`port`, each `host` or `host:port` (`[v6]:port` for IPv6), with the
    /// same interface, credentials and database. Requests are spread over all of them by
    /// `load_balancing`; a call that is safe to send again fails over to the next (see
    /// [`crate::Client`]). Default: none.
    pub endpoints: Vec<String>,
    /// How requests are spread over several endpoints (default [`LoadBalancing::InOrder`]: the first
    /// healthy one).
    pub load_balancing: LoadBalancing,
    /// User (default `default`).
    pub username: String,
    /// Password (default empty).
    pub password: String,
    /// Database (default: the user's default database on the server).
    pub database: Option<String>,
    /// Verify TLS certificates (default true).
    pub verify: bool,
    /// CA bundle for TLS.
    pub ca_cert: Option<String>,
    /// Client certificate for mutual TLS.
    pub client_cert: Option<String>,
    /// Client certificate key.
    pub client_cert_key: Option<String>,
    /// Connect timeout (default 10 s).
    pub connect_timeout: Duration,
    /// Send/receive stall timeout (default 300 s).
    pub send_receive_timeout: Duration,
    /// Prefix of the User-Agent, shown in `system.query_log` (default none).
    pub client_name: Option<String>,
    /// ClickHouse settings sent with every request.
    pub settings: Vec<(String, String)>,
    /// Compression of query results and insert bodies (default none).
    pub compression: Compression,
    /// Most rows `query` returns; 0 (the default) means no limit. (The Python driver defaults to 5000;
    /// silently truncated results surprise people, so here a limit is opt-in.) Sent as the `limit`
    /// setting on `query`/`query_blocks` only.
    pub query_limit: u64,
    /// How often a query is retried after a failure that happened before any result data arrived and
    /// that a retry can fix. Default 2. A statement is never sent twice unless that is provably
    /// harmless: a refused connection (nothing was sent) is retried for any query; a reset, a close or
    /// an HTTP 502/503/504 only for statements that cannot change anything (`SELECT`, `WITH … SELECT`,
    /// `SHOW`, `DESCRIBE`, `EXISTS`, `EXPLAIN`). Every attempt carries the same query id. `command` and
    /// inserts are never retried automatically — except by a client with several [`endpoints`]
    /// (`ClientOptions::endpoints`), which sends any call the same rule allows (read-only, or nothing
    /// was sent; an insert only when nothing was sent) to each other endpoint once, whatever this says.
    ///
    /// [`endpoints`]: ClientOptions::endpoints
    pub query_retries: u32,
    /// Ask the server for progress headers on every call (`send_progress_in_http_headers=1`). Progress
    /// headers come until the first result bytes; they also keep the stall timer alive, so a long query
    /// that sends nothing yet is not cut off. Queries stream as usual (no `wait_end_of_query`, which
    /// would make the server buffer the whole result); `command` also sets `wait_end_of_query=1`, as the
    /// Python driver does, so its summary covers the whole statement. Default false.
    pub send_progress: bool,
    /// Longest time any one call may take, retries included, however steadily data moves (a server
    /// trickling a byte a second is cut off). `None` (the default) means no limit; a call can set its
    /// own with [`crate::CallOptions::timeout`]. A call that runs out fails with a timeout
    /// [`crate::Error::Transport`].
    pub timeout: Option<Duration>,
    /// Most bytes of column data one decoded block may take (default 2 GiB; 0: no limit). A block
    /// that needs more fails the query with a clear error instead of exhausting memory.
    pub max_block_bytes: usize,
    /// A session to run every request in (temporary tables and `SET` persist across calls). Requests
    /// of one session are serialized by the client.
    pub session_id: Option<String>,
}

/// Names that are HTTP interface parameters rather than ClickHouse settings: sent as they are, never
/// checked against `system.settings`.
pub(crate) const HTTP_PARAMS: &[&str] = &[
    "buffer_size",
    "session_id",
    "compress",
    "decompress",
    "quota_key",
    "session_check",
    "session_timeout",
    "wait_end_of_query",
    "query_id",
];

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientOptions")
            .field("url", &self.base_url())
            .field("endpoints", &self.endpoints)
            .field("username", &self.username)
            .field("password", &if self.password.is_empty() { "" } else { "***" })
            .field("database", &self.database)
            .field(
                "settings",
                &self
                    .settings
                    .iter()
                    .map(|(k, v)| {
                        // Anything named like a password is not shown.
                        let secret = k.to_ascii_lowercase().contains("password");
                        (k.as_str(), if secret { "***" } else { v.as_str() })
                    })
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            interface: "http".into(),
            host: "localhost".into(),
            port: None,
            endpoints: Vec::new(),
            load_balancing: LoadBalancing::InOrder,
            username: "default".into(),
            password: String::new(),
            database: None,
            verify: true,
            ca_cert: None,
            client_cert: None,
            client_cert_key: None,
            connect_timeout: Duration::from_secs(10),
            send_receive_timeout: Duration::from_secs(300),
            client_name: None,
            settings: Vec::new(),
            compression: Compression::None,
            query_limit: 0,
            query_retries: 2,
            send_progress: false,
            timeout: None,
            max_block_bytes: crate::native::DEFAULT_MAX_BLOCK_BYTES,
            session_id: None,
        }
    }
}

impl ClientOptions {
    /// Parses `http(s)://user:password@host:port/database?setting=value&…`.
    /// `user` and `password` parameters (ClickHouse's own URL form) are the credentials. Errors never
    /// quote the URL or a value from it.
    pub fn from_url(url: &str) -> Result<Self> {
        let mut o = ClientOptions::default();
        // Errors never quote the URL: any part of a malformed one may be a password.
        let (scheme, rest) =
            url.split_once("://").ok_or_else(|| Error::usage("the URL has no scheme (http:// or https://)"))?;
        match scheme {
            "http" | "https" => o.interface = scheme.to_string(),
            _ => return Err(Error::usage("unsupported URL scheme (use http or https)")),
        }
        let (rest, query) = match rest.split_once('?') {
            Some((a, b)) => (a, Some(b)),
            None => (rest, None),
        };
        let (authority, path) = match rest.split_once('/') {
            Some((a, p)) => (a, p),
            None => (rest, ""),
        };
        let hostport = match authority.rsplit_once('@') {
            // `h1,user:pw@h2`: credentials after a host would be taken for a host's.
            Some((userinfo, _)) if userinfo.contains(',') => {
                return Err(Error::usage("credentials must come before the first host of a list"));
            }
            Some((userinfo, hp)) => {
                let (u, p) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                o.username =
                    percent_decode(u).map_err(|_| Error::usage("bad percent escape in the URL's user name"))?;
                o.password = percent_decode(p).map_err(|_| Error::usage("bad percent escape in the URL's password"))?;
                hp
            }
            None => authority,
        };
        let mut hosts = hostport.split(',');
        let (host, port) = split_host_port(hosts.next().unwrap_or_default())?;
        o.host = host;
        o.port = port;
        for more in hosts {
            split_host_port(more)?;
            o.endpoints.push(more.to_string());
        }
        if path.contains('@') {
            // `http://user:pa/ss@host`: a password with an unescaped '/' makes the user and part of the
            // password look like a host; refuse rather than connect (or resolve) there.
            return Err(Error::usage("the URL's path contains '@': percent-encode a '/' in the password as %2F"));
        }
        let db = percent_decode(path.trim_matches('/'))
            .map_err(|_| Error::usage("bad percent escape in the URL's database"))?;
        if !db.is_empty() {
            o.database = Some(db);
        }
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let k = percent_decode(k).map_err(|_| Error::usage("bad percent escape in a URL parameter name"))?;
            let v = percent_decode(v)
                .map_err(|_| Error::usage(format!("bad percent escape in the value of URL parameter {k:?}")))?;
            let number =
                |v: &str| v.parse::<u64>().map_err(|_| Error::usage(format!("URL parameter {k} is not a number")));
            match k.as_str() {
                // Client options rather than server settings.
                "compress" | "compression" => o.compression = Compression::parse(&v).map_err(|_| {
                    Error::usage(
                        "unknown compress value in the URL (none, lz4, zstd, gzip, deflate, br, http-zstd, http-lz4)",
                    )
                })?,
                "query_limit" => o.query_limit = number(&v)?,
                "query_retries" => o.query_retries = number(&v)? as u32,
                "connect_timeout" => o.connect_timeout = Duration::from_secs(number(&v)?),
                "send_receive_timeout" => o.send_receive_timeout = Duration::from_secs(number(&v)?),
                "timeout" => o.timeout = Some(Duration::from_secs(number(&v)?)).filter(|t| !t.is_zero()),
                "client_name" => o.client_name = Some(v),
                // ClickHouse's own URL form: credentials as parameters (sent here as headers).
                "user" | "username" => o.username = v,
                "password" => o.password = v,
                "max_block_bytes" => o.max_block_bytes = number(&v)? as usize,
                "send_progress" => o.send_progress = v == "1" || v == "true",
                "verify" => o.verify = !(v == "0" || v == "false"),
                "ca_cert" => o.ca_cert = Some(v),
                "client_cert" => o.client_cert = Some(v),
                "client_cert_key" => o.client_cert_key = Some(v),
                "session_id" => o.session_id = Some(v),
                "load_balancing_policy" => {
                    o.load_balancing = LoadBalancing::parse(&v).ok_or_else(|| {
                        Error::usage("unknown load_balancing_policy in the URL (in_order, round_robin, random)")
                    })?
                }
                _ => o.settings.push((k, v)),
            }
        }
        Ok(o)
    }

    pub(crate) fn base_url(&self) -> String {
        let port = self.port.unwrap_or(if self.interface == "https" { 8443 } else { 8123 });
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        format!("{}://{}:{}", self.interface, host, port)
    }

    /// The base URL of every endpoint: `host`/`port` first, then `endpoints`.
    pub(crate) fn endpoint_urls(&self) -> Result<Vec<String>> {
        if !matches!(self.interface.as_str(), "http" | "https") {
            // libcurl speaks many protocols; a client of ClickHouse's HTTP interface only these two.
            return Err(Error::usage("interface must be http or https"));
        }
        let mut urls = vec![self.base_url()];
        for e in &self.endpoints {
            let (host, port) = split_host_port(e)?;
            let one = ClientOptions {
                interface: self.interface.clone(),
                host,
                port: port.or(self.port),
                ..ClientOptions::default()
            };
            urls.push(one.base_url());
        }
        Ok(urls)
    }
}

/// `host`, `host:port` or `[v6]:port`, strictly: a host name of letters, digits, `-`, `.` and `_`, or
/// an IPv6 address in brackets (a zone id after `%` allowed); nothing after the port. Errors never
/// quote the text (it may hold a misplaced password).
fn split_host_port(hostport: &str) -> Result<(String, Option<u16>)> {
    let (host, port) = if let Some(h) = hostport.strip_prefix('[') {
        let (h, after) = h.split_once(']').ok_or_else(|| Error::usage("unterminated [IPv6] host"))?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or_else(|| Error::usage("unexpected text after an [IPv6] host"))?),
        };
        let (addr, zone) = h.split_once('%').unwrap_or((h, ""));
        let addr_ok = addr.contains(':') && addr.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
        let zone_ok = zone.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
        if !addr_ok || !zone_ok {
            return Err(Error::usage("a bracketed host is not an IPv6 address"));
        }
        (h.to_string(), port)
    } else {
        let (h, p) = match hostport.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        };
        if h.contains(':') || p.is_some_and(|p| p.contains(':')) {
            return Err(Error::usage("an IPv6 host must be written in brackets: [::1]:8123"));
        }
        (h.to_string(), p)
    };
    if host.is_empty() {
        return Err(Error::usage("the URL has no host (or an empty one in a list of hosts)"));
    }
    let bracketed = hostport.starts_with('[');
    if !bracketed && !host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_')) {
        return Err(Error::usage(
            "a host has characters a host name cannot have (letters, digits, '-', '.' and '_'; \
             spaces, '@', '#', '/' are not allowed)",
        ));
    }
    let port = match port {
        Some(p) => Some(p.parse().map_err(|_| Error::usage("the URL's port is not a number"))?),
        None => None,
    };
    Ok((host, port))
}

fn percent_decode(s: &str) -> Result<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
            let v = hex
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| Error::usage(format!("bad percent escape in {s:?}")))?;
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| Error::usage(format!("{s:?} is not UTF-8 after decoding")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_in_errors_hide_the_password() {
        let secret = "Sup3r-S3cret";
        for url in [
            "bob:Sup3r-S3cret@db:8123",
            "ftp://bob:Sup3r-S3cret@db",
            "http://bob:Sup3r-S3cret%zz@db",
            "http://bob%zz:Sup3r-S3cret@db",
            "http://bob:Sup3r-S3cret@db:notaport",
            "http://bob:Sup3r-S3cret@",
            "http://bob:Sup3r-S3cret@/x",
            "http://bob:Sup3r-S3cret@[::1",
            "http://bob:Sup3r-S3cret/x@db",
            "http://bob:Sup3r-S3cret?x@db",
            "http://bob:Sup3r-S3cret@db/?query_retries=x",
            "Sup3r-S3cret",
            "127.0.0.1:8123?user=u&password=Sup3r-S3cret%zz",
            "http://127.0.0.1:8123/?password=Sup3r-S3cret%zz",
            "u:Sup3r-S3cret",
            "http://h/?password=Sup3r-S3cret&query_retries=Sup3r-S3cret",
            "http://bob:1234/Sup3r-S3cret@127.0.0.1:8123",
            "http://h/?compress=Sup3r-S3cret",
        ] {
            let e = ClientOptions::from_url(url).map(|_| ()).unwrap_err();
            let shown = format!("{e} {e:?}");
            assert!(!shown.contains(secret), "{url}: {shown}");
        }
        let o = ClientOptions::from_url("http://h/?user=bob&password=Sup3r-S3cret&max_threads=2").unwrap();
        assert_eq!((o.username.as_str(), o.password.as_str()), ("bob", secret));
        assert!(o.settings.iter().all(|(k, _)| k == "max_threads"));
        assert!(!format!("{o:?}").contains(secret));
    }

    #[test]
    fn parses_urls() {
        let o = ClientOptions::from_url("https://bob:p%40ss@db.example:9443/analytics?max_threads=2&x=a%20b").unwrap();
        assert_eq!(o.interface, "https");
        assert_eq!(o.username, "bob");
        assert_eq!(o.password, "p@ss");
        assert_eq!(o.host, "db.example");
        assert_eq!(o.port, Some(9443));
        assert_eq!(o.database.as_deref(), Some("analytics"));
        assert_eq!(o.settings, vec![("max_threads".into(), "2".into()), ("x".into(), "a b".into())]);
        assert_eq!(o.base_url(), "https://db.example:9443");
        let o = ClientOptions::from_url("http://[::1]").unwrap();
        assert_eq!(o.base_url(), "http://[::1]:8123");
        assert!(ClientOptions::from_url("ftp://x").is_err());
        assert!(ClientOptions::from_url("http://h:notaport").is_err());
        assert!(ClientOptions::from_url("localhost:8123").is_err());
        let o = ClientOptions::from_url("http://h/?compress=lz4&query_retries=5&session_id=s1&max_threads=3").unwrap();
        assert_eq!(o.compression, Compression::Lz4);
        assert_eq!(o.query_retries, 5);
        assert_eq!(o.session_id.as_deref(), Some("s1"));
        assert_eq!(o.settings, vec![("max_threads".into(), "3".into())]);
        assert!(ClientOptions::from_url("http://h/?query_retries=x").is_err());
    }

    #[test]
    fn parses_urls_with_several_hosts() {
        let o = ClientOptions::from_url("http://u:p@a:9000,b,[::1]:9002/db?load_balancing_policy=round_robin").unwrap();
        assert_eq!((o.host.as_str(), o.port), ("a", Some(9000)));
        assert_eq!(o.endpoints, ["b", "[::1]:9002"]);
        assert_eq!(o.load_balancing, LoadBalancing::RoundRobin);
        assert_eq!(o.database.as_deref(), Some("db"));
        assert_eq!(o.endpoint_urls().unwrap(), ["http://a:9000", "http://b:9000", "http://[::1]:9002"]);
        let o = ClientOptions::from_url("https://a,b").unwrap();
        assert_eq!(o.endpoint_urls().unwrap(), ["https://a:8443", "https://b:8443"]);
        assert!(ClientOptions::from_url("http://a,,b").is_err());
        assert!(ClientOptions::from_url("http://a,b:x").is_err());
        assert!(ClientOptions::from_url("http://a,b/?load_balancing_policy=fastest").is_err());
        for bad in [
            "http://127.0.0.1:8123, 127.0.0.1:8124",
            "http://a,::1",
            "http://a,[::1]junk",
            "http://a,h#frag",
            "http://h1,u:S3cret@h2",
            "http://a,[nothex]:1",
            "http://a b",
        ] {
            let e = ClientOptions::from_url(bad).map(|_| ()).unwrap_err();
            assert!(!e.to_string().contains("S3cret"), "{bad}: {e}");
        }
        let mut o = ClientOptions::from_url("http://a").unwrap();
        o.endpoints = vec!["bob:S3cret@127.0.0.1:18312".into()];
        let gopher = ClientOptions { interface: "gopher".into(), ..ClientOptions::default() };
        assert!(gopher.endpoint_urls().unwrap_err().to_string().contains("http or https"));
        let e = o.endpoint_urls().unwrap_err();
        assert!(!e.to_string().contains("S3cret"), "{e}");
        assert_eq!(
            ClientOptions::from_url("http://[fe80::1%lo]:9").unwrap().endpoint_urls().unwrap(),
            ["http://[fe80::1%lo]:9"]
        );
        assert!(o.settings.is_empty());
    }
}
