//! The facade: [`Client`] with `command`, `query`, `query_blocks`, `raw_query` and `insert_block`.
//! It turns connection parameters (or a URL) into transport options, asks the server for Native, and
//! hands the transport's chunks to the block decoder. It stays thin: no data is copied here.

use crate::error::{Error, Result};
use crate::native::encoder::{ValueBuilder, builder_for};
use crate::native::{Block, BlockDecoder, ColumnEncoder, TypeDesc, write_block};
use crate::transport::compression::{FrameReader, Method, write_frames};
use crate::transport::{ResponseMeta, Transport, TransportOptions, find_untagged_exception};
use crate::value::Value;
use std::time::Duration;

/// How request and response bodies are compressed.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Compression {
    /// No compression (the default: on loopback and fast networks compression costs more than it
    /// saves; choose one of the others across slower links).
    #[default]
    None,
    /// ClickHouse's own LZ4 frames (`compress=1`, `decompress=1`), checksummed.
    Lz4,
    /// ClickHouse's own ZSTD frames.
    Zstd,
    /// HTTP Content-Encoding for responses (`gzip`, `deflate`, `br` or `zstd`, decoded by libcurl);
    /// insert bodies are sent with it when it is `gzip`, `deflate` or `zstd`.
    Http(String),
}

impl Compression {
    /// Parses `lz4`, `zstd` (ClickHouse frames), `gzip`, `deflate`, `br`, `http-zstd` (HTTP), `none`;
    /// `true` means `gzip`, as in the Python driver's `compress=True`.
    pub fn parse(s: &str) -> Result<Compression> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "" | "none" | "false" | "0" => Compression::None,
            "lz4" => Compression::Lz4,
            "zstd" => Compression::Zstd,
            "true" | "1" | "gzip" => Compression::Http("gzip".into()),
            "deflate" => Compression::Http("deflate".into()),
            "br" => Compression::Http("br".into()),
            "http-zstd" => Compression::Http("zstd".into()),
            other => return Err(Error::usage(format!("unknown compression {other:?}"))),
        })
    }
}

/// Connection parameters, with the Python driver's names and defaults.
#[derive(Clone)]
pub struct ClientOptions {
    /// `http` or `https` (default `http`).
    pub interface: String,
    /// Host name (default `localhost`).
    pub host: String,
    /// Port (default 8123 for http, 8443 for https).
    pub port: Option<u16>,
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
}

impl std::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientOptions")
            .field("url", &self.base_url())
            .field("username", &self.username)
            .field("password", &if self.password.is_empty() { "" } else { "***" })
            .field("database", &self.database)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            interface: "http".into(),
            host: "localhost".into(),
            port: None,
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
        }
    }
}

impl ClientOptions {
    /// Parses `http(s)://user:password@host:port/database?setting=value&…`.
    pub fn from_url(url: &str) -> Result<Self> {
        let mut o = ClientOptions::default();
        let (scheme, rest) = url.split_once("://").ok_or_else(|| Error::usage(format!("URL {url:?} has no scheme")))?;
        match scheme {
            "http" | "https" => o.interface = scheme.to_string(),
            other => return Err(Error::usage(format!("unsupported URL scheme {other:?} (use http or https)"))),
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
            Some((userinfo, hp)) => {
                let (u, p) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                o.username = percent_decode(u)?;
                o.password = percent_decode(p)?;
                hp
            }
            None => authority,
        };
        let (host, port) = if let Some(h) = hostport.strip_prefix('[') {
            let (h, after) = h.split_once(']').ok_or_else(|| Error::usage("unterminated [IPv6] host"))?;
            (h.to_string(), after.strip_prefix(':'))
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (hostport.to_string(), None),
            }
        };
        if host.is_empty() {
            return Err(Error::usage(format!("URL {url:?} has no host")));
        }
        o.host = host;
        if let Some(p) = port {
            o.port = Some(p.parse().map_err(|_| Error::usage(format!("bad port {p:?} in URL")))?);
        }
        let db = percent_decode(path.trim_matches('/'))?;
        if !db.is_empty() {
            o.database = Some(db);
        }
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let (k, v) = (percent_decode(k)?, percent_decode(v)?);
            match k.as_str() {
                // Client options rather than server settings.
                "compress" | "compression" => o.compression = Compression::parse(&v)?,
                _ => o.settings.push((k, v)),
            }
        }
        Ok(o)
    }

    fn base_url(&self) -> String {
        let port = self.port.unwrap_or(if self.interface == "https" { 8443 } else { 8123 });
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        format!("{}://{}:{}", self.interface, host, port)
    }
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

/// A fully read query result.
#[derive(Debug)]
pub struct QueryResult {
    /// Column names in server order.
    pub column_names: Vec<String>,
    /// Column type names as the server sent them.
    pub column_types: Vec<String>,
    /// Rows of owned values.
    pub rows: Vec<Vec<Value<'static>>>,
    /// The query id the server assigned (26.9; absent on 18.16).
    pub query_id: Option<String>,
    /// `X-ClickHouse-Summary` as raw JSON, when sent.
    pub summary: Option<String>,
}

/// A ClickHouse client. `Send + Sync`: share it between threads.
pub struct Client {
    options: ClientOptions,
    transport: Transport,
    server_version: String,
    server_timezone: String,
    database: String,
    /// `client_protocol_version` sent with Native queries (servers >= 23.3 understand it; with it they
    /// keep time zones in `DateTime('tz')` type names and prefix blocks with BlockInfo).
    native_revision: Option<u32>,
    /// The compression actually used with this server (see [`Client::compression`]).
    compression: Compression,
}

/// The Native revision we ask for: BlockInfo and time zones in type names, nothing newer.
const NATIVE_REVISION: u32 = 54405;

impl Client {
    /// Connects (one round trip) and learns the server's version, time zone and database.
    pub fn new(options: ClientOptions) -> Result<Client> {
        let agent = match &options.client_name {
            Some(n) => format!("{n} clickhouse-connect-rs/{}", env!("CARGO_PKG_VERSION")),
            None => format!("clickhouse-connect-rs/{}", env!("CARGO_PKG_VERSION")),
        };
        let transport = Transport::new(TransportOptions {
            base_url: options.base_url(),
            username: options.username.clone(),
            password: options.password.clone(),
            verify: options.verify,
            ca_cert: options.ca_cert.clone(),
            client_cert: options.client_cert.clone(),
            client_cert_key: options.client_cert_key.clone(),
            connect_timeout: options.connect_timeout,
            send_receive_timeout: options.send_receive_timeout,
            user_agent: agent,
        });
        let mut client = Client {
            options,
            transport,
            server_version: String::new(),
            server_timezone: String::new(),
            database: String::new(),
            native_revision: None,
            compression: Compression::None,
        };
        // Plain text, so this works on every server before we know which Native revision it speaks.
        let info = client.command("SELECT version(), timezone(), currentDatabase()")?;
        let mut fields = info.split('\t');
        let mut next = || fields.next().unwrap_or_default().to_string();
        client.server_version = next();
        client.server_timezone = next();
        client.database = next();
        if client.server_version.is_empty() {
            return Err(Error::usage("the server did not report its version"));
        }
        if version_at_least(&client.server_version, 23, 3) {
            client.native_revision = Some(NATIVE_REVISION);
        }
        client.compression = client.options.compression.clone();
        if matches!(client.compression, Compression::Lz4 | Compression::Zstd)
            && !version_at_least(&client.server_version, 19, 1)
        {
            // 18.16 answers compress=1 with an empty body (a bug of that build): never risk a silently
            // empty result; use HTTP gzip instead.
            log::warn!(
                "ClickHouse {} cannot send compressed frames over HTTP; using gzip Content-Encoding instead",
                client.server_version
            );
            client.compression = Compression::Http("gzip".into());
        }
        Ok(client)
    }

    /// Connects to `http(s)://user:password@host:port/database?setting=value`.
    pub fn from_url(url: &str) -> Result<Client> {
        Client::new(ClientOptions::from_url(url)?)
    }

    /// The server's version string, e.g. `26.9.2.1`.
    pub fn server_version(&self) -> &str {
        &self.server_version
    }

    /// The server's time zone.
    pub fn server_timezone(&self) -> &str {
        &self.server_timezone
    }

    /// The database queries run in.
    pub fn database(&self) -> &str {
        &self.database
    }

    /// The compression in use with this server (the requested one, unless the server cannot do it).
    pub fn compression(&self) -> &Compression {
        &self.compression
    }

    /// The options this client was built from.
    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    fn params(&self, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut p: Vec<(String, String)> = Vec::with_capacity(self.options.settings.len() + extra.len() + 1);
        if let Some(db) = &self.options.database {
            p.push(("database".into(), db.clone()));
        }
        p.extend(self.options.settings.iter().cloned());
        p.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        p
    }

    /// Parameters and Accept-Encoding that make the server compress a response as configured.
    fn response_compression(&self) -> (Vec<(&'static str, &'static str)>, Option<&str>) {
        match &self.compression {
            Compression::None => (vec![], None),
            Compression::Lz4 => (vec![("compress", "1"), ("network_compression_method", "lz4")], None),
            Compression::Zstd => (vec![("compress", "1"), ("network_compression_method", "zstd")], None),
            Compression::Http(enc) => (vec![("enable_http_compression", "1")], Some(enc.as_str())),
        }
    }

    /// POSTs a query and hands the (decompressed) response bytes to `sink`.
    fn post_query(
        &self,
        sql: &str,
        extra: &[(&str, &str)],
        sink: &mut dyn FnMut(&[u8]) -> Result<()>,
    ) -> Result<ResponseMeta> {
        let (mut params, accept) = self.response_compression();
        let framed = params.iter().any(|(k, _)| *k == "compress");
        params.extend_from_slice(extra);
        let params = self.params(&params);
        if !framed {
            return self.transport.post(&params, &[], accept, sql.as_bytes(), sink);
        }
        let mut frames = FrameReader::new();
        let meta = self.transport.post(&params, &[], accept, sql.as_bytes(), &mut |chunk| frames.feed(chunk, sink))?;
        frames.finish()?;
        Ok(meta)
    }

    /// Runs any SQL and returns the raw response body (`format` sets `default_format`).
    pub fn raw_query(&self, sql: &str, format: Option<&str>) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let extra: Vec<(&str, &str)> = format.map(|f| ("default_format", f)).into_iter().collect();
        self.post_query(sql, &extra, &mut |chunk| {
            out.extend_from_slice(chunk);
            Ok(())
        })?;
        Ok(out)
    }

    /// Inserts `data`, already in `format` (e.g. `Native`, `CSV`, `JSONEachRow`), as the request body:
    /// `INSERT INTO table [(columns)] FORMAT format`. The bytes are sent as they are.
    pub fn raw_insert(&self, table: &str, column_names: &[&str], format: &str, data: &[u8]) -> Result<()> {
        let cols = if column_names.is_empty() {
            String::new()
        } else {
            format!(" ({})", column_names.iter().map(|n| quote_identifier(n)).collect::<Vec<_>>().join(", "))
        };
        let sql = format!("INSERT INTO {}{cols} FORMAT {format}", quote_table(table));
        self.post_body(&sql, data)
    }

    /// POSTs an insert body, compressed as configured.
    fn post_body(&self, sql: &str, data: &[u8]) -> Result<()> {
        let mut extra = vec![("query", sql)];
        let mut headers = Vec::new();
        let compressed;
        let body = match &self.compression {
            Compression::Lz4 | Compression::Zstd => {
                let method = if self.compression == Compression::Lz4 { Method::Lz4 } else { Method::Zstd };
                let mut out = Vec::with_capacity(data.len() / 2 + 64);
                write_frames(&mut out, data, method)?;
                extra.push(("decompress", "1"));
                compressed = out;
                &compressed[..]
            }
            Compression::Http(enc) if matches!(enc.as_str(), "gzip" | "deflate" | "zstd") => {
                compressed = http_encode(enc, data)?;
                headers.push(("Content-Encoding".to_string(), enc.clone()));
                &compressed[..]
            }
            _ => data,
        };
        self.transport.post(&self.params(&extra), &headers, None, body, &mut |_| Ok(()))?;
        Ok(())
    }

    /// Runs a statement (DDL, or a query with a single value) and returns its text result, trimmed.
    pub fn command(&self, sql: &str) -> Result<String> {
        let body = self.raw_query(sql, Some("TabSeparated"))?;
        Ok(String::from_utf8_lossy(&body).trim_end_matches('\n').to_string())
    }

    /// Streams a query's result block by block. Each block borrows the decoder and is valid during the
    /// callback only; copy what you keep (e.g. with [`Value::into_owned`]).
    pub fn query_blocks(&self, sql: &str, mut on_block: impl FnMut(&Block<'_>) -> Result<()>) -> Result<ResponseMeta> {
        let revision = self.native_revision.map(|r| r.to_string());
        let mut extra = vec![("default_format", "Native")];
        let mut decoder = match &revision {
            Some(r) => {
                extra.push(("client_protocol_version", r.as_str()));
                BlockDecoder::with_block_info()
            }
            None => BlockDecoder::new(),
        };
        let mut last_chunk_tail: Vec<u8> = Vec::new();
        let result = self.post_query(sql, &extra, &mut |mut chunk| {
            let keep = chunk.len().min(4096);
            last_chunk_tail.clear();
            last_chunk_tail.extend_from_slice(&chunk[chunk.len() - keep..]);
            while let Some(block) = decoder.feed(&mut chunk)? {
                on_block(&block)?;
            }
            Ok(())
        });
        let meta = match result {
            Ok(meta) => meta,
            Err(Error::Decode { message, offset }) => {
                // 18.16 appends exception text to the data; report it rather than the decode error.
                return Err(find_untagged_exception(&last_chunk_tail).unwrap_or(Error::Decode { message, offset }));
            }
            Err(e) => return Err(e),
        };
        if let Err(e) = decoder.finish() {
            return Err(find_untagged_exception(&last_chunk_tail).unwrap_or(e));
        }
        Ok(meta)
    }

    /// Runs a query and collects every row as owned values.
    pub fn query(&self, sql: &str) -> Result<QueryResult> {
        let mut column_names = Vec::new();
        let mut column_types = Vec::new();
        let mut rows = Vec::new();
        let meta = self.query_blocks(sql, |block| {
            if column_names.is_empty() {
                for c in block.columns() {
                    column_names.push(c.name().to_string());
                    column_types.push(c.type_name().to_string());
                }
            }
            rows.reserve(block.rows());
            for r in 0..block.rows() {
                rows.push(block.row(r).into_iter().map(Value::into_owned).collect());
            }
            Ok(())
        })?;
        Ok(QueryResult { column_names, column_types, rows, query_id: meta.query_id, summary: meta.summary })
    }

    /// Inserts one Native block built from column builders: `INSERT INTO table (names…) FORMAT Native`.
    pub fn insert_block(&self, table: &str, columns: &[(&str, &dyn ColumnEncoder)]) -> Result<()> {
        self.insert_block_into(table, columns)
    }

    fn insert_block_into(&self, table: &str, columns: &[(&str, &dyn ColumnEncoder)]) -> Result<()> {
        let mut body = Vec::new();
        write_block(&mut body, columns)?;
        let names: Vec<String> = columns.iter().map(|(n, _)| quote_identifier(n)).collect();
        let sql = format!("INSERT INTO {} ({}) FORMAT Native", quote_table(table), names.join(", "));
        self.post_body(&sql, &body)
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the password.
        f.debug_struct("Client")
            .field("url", &self.options.base_url())
            .field("username", &self.options.username)
            .field("database", &self.database)
            .field("server_version", &self.server_version)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// The table's columns and their type names, as the server describes them.
    pub fn table_columns(&self, table: &str) -> Result<Vec<(String, String)>> {
        let mut cols = Vec::new();
        self.query_blocks(&format!("DESCRIBE TABLE {}", quote_table(table)), |block| {
            for r in 0..block.rows() {
                let row = block.row(r);
                let text = |i: usize| row.get(i).and_then(|v| v.as_str()).unwrap_or_default().to_string();
                cols.push((text(0), text(1)));
            }
            Ok(())
        })?;
        if cols.is_empty() {
            return Err(Error::usage(format!("table {table} has no columns")));
        }
        Ok(cols)
    }

    /// Inserts rows of values. `column_names` empty means all columns of the table in order; their types
    /// are looked up on the server. Every value is checked against its column's type before anything is
    /// sent: a mismatch is an error naming the row and column, and nothing is inserted.
    pub fn insert(&self, table: &str, column_names: &[&str], rows: &[Vec<Value<'_>>]) -> Result<()> {
        let columns = self.insert_columns_for(table, column_names)?;
        let mut builders = new_builders(&columns)?;
        for (r, row) in rows.iter().enumerate() {
            if row.len() != builders.len() {
                return Err(Error::usage(format!("row {r} has {} values for {} columns", row.len(), builders.len())));
            }
            for ((b, v), (name, t)) in builders.iter_mut().zip(row).zip(&columns) {
                b.push(v).map_err(|e| Error::usage(format!("row {r}, column {name} ({t}): {e}")))?;
            }
        }
        self.send_builders(table, &columns, &builders)
    }

    /// Inserts column-oriented data: `columns[i]` holds every value of column `i`.
    pub fn insert_columns(&self, table: &str, column_names: &[&str], data: &[Vec<Value<'_>>]) -> Result<()> {
        let columns = self.insert_columns_for(table, column_names)?;
        if data.len() != columns.len() {
            return Err(Error::usage(format!("{} data columns for {} table columns", data.len(), columns.len())));
        }
        let mut builders = new_builders(&columns)?;
        let rows = data.first().map_or(0, Vec::len);
        for ((b, values), (name, t)) in builders.iter_mut().zip(data).zip(&columns) {
            if values.len() != rows {
                return Err(Error::usage(format!("column {name} has {} values, expected {rows}", values.len())));
            }
            for (r, v) in values.iter().enumerate() {
                b.push(v).map_err(|e| Error::usage(format!("row {r}, column {name} ({t}): {e}")))?;
            }
        }
        self.send_builders(table, &columns, &builders)
    }

    fn insert_columns_for(&self, table: &str, column_names: &[&str]) -> Result<Vec<(String, String)>> {
        let all = self.table_columns(table)?;
        if column_names.is_empty() || column_names == ["*"] {
            return Ok(all);
        }
        column_names
            .iter()
            .map(|n| {
                all.iter()
                    .find(|(c, _)| c == n)
                    .cloned()
                    .ok_or_else(|| Error::usage(format!("table {table} has no column {n}")))
            })
            .collect()
    }

    fn send_builders(
        &self,
        table: &str,
        columns: &[(String, String)],
        builders: &[Box<dyn ValueBuilder>],
    ) -> Result<()> {
        let named: Vec<(&str, &dyn ColumnEncoder)> =
            columns.iter().zip(builders).map(|((n, _), b)| (n.as_str(), b.as_ref() as &dyn ColumnEncoder)).collect();
        self.insert_block_into(table, &named)
    }
}

fn new_builders(columns: &[(String, String)]) -> Result<Vec<Box<dyn ValueBuilder>>> {
    columns.iter().map(|(_, t)| builder_for(&TypeDesc::parse(t)?)).collect()
}

/// Back-quotes each part of `db.table` when it is a plain name; anything else is used as written.
fn quote_table(table: &str) -> String {
    if !table.is_empty()
        && table.split('.').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
    {
        table.split('.').map(quote_identifier).collect::<Vec<_>>().join(".")
    } else {
        table.to_string()
    }
}

/// Compresses an insert body with an HTTP Content-Encoding.
fn http_encode(encoding: &str, data: &[u8]) -> Result<Vec<u8>> {
    use std::io::Write;
    let io = |e: std::io::Error| Error::usage(format!("{encoding} compression: {e}"));
    Ok(match encoding {
        "gzip" => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(data).map_err(io)?;
            e.finish().map_err(io)?
        }
        "deflate" => {
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(data).map_err(io)?;
            e.finish().map_err(io)?
        }
        _ => zstd::bulk::compress(data, 1).map_err(io)?,
    })
}

/// Whether a version string like `26.9.2.1` is at least `major.minor`.
fn version_at_least(version: &str, major: u32, minor: u32) -> bool {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (a, b) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (a, b) >= (major, minor)
}

/// Back-quotes an identifier for SQL.
pub fn quote_identifier(name: &str) -> String {
    format!("`{}`", name.replace('\\', "\\\\").replace('`', "\\`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_versions() {
        assert!(version_at_least("26.9.2.1", 23, 3));
        assert!(version_at_least("23.3.1", 23, 3));
        assert!(!version_at_least("23.2.9", 23, 3));
        assert!(!version_at_least("18.16.1", 23, 3));
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
    }
}
