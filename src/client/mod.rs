//! The facade: [`Client`], with `command`, `query`, `query_blocks`, `raw_query` and inserts, each also in
//! a `*_with` form taking [`CallOptions`]. It turns connection parameters into transport options, asks
//! the server for Native, and hands the transport's chunks to the block decoder (through the compressed
//! frame reader when frames are in use). It stays thin: no data is copied here.
//!
//! At connect it learns, in one plain-text query any server version answers, the server's version, time
//! zone and database. Which settings this user may not change (`system.settings.readonly`, or on 18.16,
//! which has no such column, the `readonly` setting) is asked once, when there are settings to check;
//! those settings are dropped with a logged warning instead of failing every request.

mod call;
pub(crate) mod coerce;
mod columns;
mod command;
pub(crate) mod insert;
pub(crate) mod inserter;
#[cfg(feature = "async")]
pub(crate) mod nonblocking;
mod options;
mod session;
mod statement;
mod stream;
mod text_input;

pub use call::{CallOptions, ProgressCallback, QueryContext};
pub use columns::ColumnElement;
pub use command::CommandResult;
pub use insert::quote_identifier;
pub use inserter::{BlockBuilder, EncodedBlock, InsertSummary, Inserter, RequestLimits};
#[cfg(feature = "async")]
pub use nonblocking::{AsyncClient, AsyncInserter, BlockStream};
pub use options::{ClientOptions, Compression, ContentEncoding, LoadBalancing};
pub use stream::{Row, RowStream};

use crate::error::{Error, Result};
use crate::native::{Block, BlockBytes, BlockDecoder, OwnedBlock};
use crate::transport::compression::Method;
use crate::transport::{
    BodyDecoding, Progress, Request, ResponseMeta, StreamEnd, Summary, Transport, TransportOptions, appended_exception,
};
use crate::value::Value;
use options::HTTP_PARAMS;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

/// `name=value` URL parameters.
type UrlParams = Vec<(String, String)>;
/// Columns (name, type, default kind) per (database, session, table).
/// Per table: its columns' (name, type, default kind, default expression), from `DESCRIBE TABLE`.
/// A table as `DESCRIBE TABLE` shows it: per column name, type, default kind and default expression.
pub(crate) type Description = Vec<(String, String, String, String)>;
type ColumnCache = HashMap<String, Description>;
/// URL parameters the client adds on its own.
type StaticParams = Vec<(&'static str, &'static str)>;

/// A fully read query result.
#[derive(Debug)]
pub struct QueryResult {
    /// Column names in server order.
    pub column_names: Vec<String>,
    /// Column types (the Python driver's type objects): [`TypeDesc`](crate::types::TypeDesc), whose
    /// `Display` is the canonical name.
    pub column_types: Vec<crate::types::TypeDesc>,
    /// Column type names exactly as the server sent them.
    pub column_type_names: Vec<String>,
    /// Rows of owned values.
    pub rows: Vec<Vec<Value<'static>>>,
    /// The query's id: the one given (or made by the client for retries), else the server's.
    pub query_id: Option<String>,
    /// The server's `X-ClickHouse-Summary` (26.9; absent on 18.16).
    pub summary: Option<Summary>,
    /// The endpoint (base URL) that answered: one of the client's (see [`ClientOptions::endpoints`]).
    pub endpoint: Option<String>,
}

impl QueryResult {
    /// The result column by column (the Python driver's `result_columns`): `columns()[i][r]` is row
    /// `r` of column `i`.
    pub fn columns(&self) -> Vec<Vec<Value<'static>>> {
        let mut cols: Vec<Vec<Value<'static>>> =
            (0..self.column_names.len()).map(|_| Vec::with_capacity(self.rows.len())).collect();
        for row in &self.rows {
            for (c, v) in cols.iter_mut().zip(row) {
                c.push(v.clone());
            }
        }
        cols
    }
}

/// A ClickHouse client. `Send + Sync`: share it between threads; each request uses its own pooled
/// libcurl handle.
///
/// Over several servers ([`ClientOptions::endpoints`], or `http://h1,h2:8124,h3/db`), each call goes to
/// the endpoint the load balancing picks ([`LoadBalancing`]) among those not resting after a failure;
/// a call that is safe to send again (read-only, or refused before anything was sent) fails over to an
/// endpoint it has not tried; a session stays where its first call went; every result says which
/// endpoint answered (`endpoint`), every error which were tried ([`Error::Endpoints`]). All endpoints
/// are taken to run the same server version (the one learned at connect).
pub struct Client {
    options: ClientOptions,
    transport: Arc<Transport>,
    server_version: String,
    server_timezone: String,
    database: String,
    /// `client_protocol_version` sent with Native queries (servers >= 23.3 understand it; with it they
    /// keep time zones in `DateTime('tz')` type names and prefix blocks with BlockInfo).
    native_revision: Option<u32>,
    /// The compression actually used with this server (see [`Client::compression`]).
    compression: Compression,
    /// The client's settings that this user may change, sent with every request.
    settings: Vec<(String, String)>,
    /// Which settings this user may not change: learned at connect when the client has settings, else
    /// on the first call that brings its own.
    readonly: OnceLock<ReadonlySettings>,
    /// One lock per session id: requests of a session run one at a time.
    sessions: Mutex<HashMap<String, Arc<session::SessionLock>>>,
    /// Client-added settings already warned about as read-only for this user.
    warned: Mutex<HashSet<String>>,
    /// Descriptions the async client made for an insert about to run, taken by it (see
    /// [`Client::insert_columns_described`]); keyed by database, session and table.
    table_columns: Arc<Mutex<ColumnCache>>,
    /// Query ids with a `KILL QUERY` of the async client in flight: a new call under the same id waits
    /// for it, so that the kill cannot stop the new query.
    #[cfg(feature = "async")]
    killing: Arc<Mutex<HashMap<String, Arc<nonblocking::Latch>>>>,
    /// Whether the bundled time zone database renders a zone as the server does (see
    /// [`Client::zone_agrees`]), by zone name ("" for the server's).
    zones_checked: Mutex<HashMap<String, bool>>,
}

/// A small read-only statement of the client's own (its whole response returned), sent again to each
/// other endpoint the route allows while the failure is one a read-only statement may be retried
/// after; the error names the endpoints tried.
pub(crate) fn read_only_post(
    transport: &Transport,
    route: &mut Route,
    params: &[(String, String)],
    sql: &str,
    server_version: &str,
) -> Result<Vec<u8>> {
    loop {
        let mut out = Vec::new();
        let req = Request { endpoint: Some(route.endpoint), ..Request::new(params, sql.as_bytes()) };
        match transport.post(&req, &mut |chunk| {
            out.extend_from_slice(chunk);
            Ok(())
        }) {
            Ok(_) => {
                route.confirm();
                return Ok(out);
            }
            Err(e) => {
                let e = e.with_server_version(server_version);
                let again = out.is_empty()
                    && statement::retry_is_safe(&e, true)
                    && route.tried.len() < route.count
                    && route.may_fail_over();
                if again {
                    route.fail_over(transport.endpoints());
                    continue;
                }
                return Err(route.name_in(e, transport.endpoints()));
            }
        }
    }
}

/// The sink's way to stop reading once a client-side `query_limit` is reached.
const LIMIT_REACHED: &str = "query_limit reached";

/// A query request as decided before it is sent, and its attempts so far (see [`Client::plan_query`]).
pub(crate) struct QueryPlan {
    /// The SQL with client-side parameters bound.
    pub(crate) sql: String,
    pub(crate) params: UrlParams,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) accept: Option<&'static str>,
    pub(crate) decoding: BodyDecoding,
    pub(crate) deadline: Option<std::time::Instant>,
    retries: u32,
    read_only: bool,
    /// The query id every attempt carries, when the client knows it.
    sent_id: Option<String>,
    attempt: u32,
    first_error: Option<Error>,
    /// Where the attempts go (see [`Route`]).
    pub(crate) route: Route,
}

/// Where a call's attempts go among the client's endpoints: the current attempt's endpoint, those
/// tried so far, and whether the call is pinned to one (a session's, or the caller's choice).
#[derive(Clone)]
pub(crate) struct Route {
    pub(crate) endpoint: usize,
    pub(crate) tried: Vec<usize>,
    pub(crate) pinned: bool,
    /// How many endpoints the client has.
    count: usize,
    /// The session the call runs in: its endpoint moves with the call while no call of it has been
    /// answered (see [`Route::confirm`]).
    session: Option<Arc<session::SessionLock>>,
}

impl Route {
    /// Whether another endpoint may take the next attempt.
    fn may_fail_over(&self) -> bool {
        self.count > 1 && !self.pinned
    }

    /// A read-only call whose endpoint stalled may go to another (a hung server accepts connections
    /// and never answers); the same endpoint is not asked again.
    fn stalled_elsewhere(&self, e: &Error) -> bool {
        matches!(e, Error::Transport { stall: true, .. }) && self.may_fail_over() && self.tried.len() < self.count
    }

    /// The call got an answer: its session (if any) now lives where it went.
    pub(crate) fn confirm(&self) {
        if let Some(lock) = &self.session {
            lock.settled.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// After a refused connection (nothing was sent): a session no call of which has been answered yet
    /// moves to another endpoint with this call. True when the route moved.
    fn move_unsettled_session(&mut self, endpoints: &crate::transport::Endpoints) -> bool {
        let Some(lock) = &self.session else { return false };
        if self.count <= 1 || lock.settled.load(std::sync::atomic::Ordering::Relaxed) || self.tried.len() >= self.count
        {
            return false;
        }
        let next = endpoints.pick(&self.tried);
        if self.tried.contains(&next) {
            return false;
        }
        *lock.endpoint.lock().unwrap_or_else(|e| e.into_inner()) = Some(next);
        self.endpoint = next;
        self.tried.push(next);
        true
    }

    /// Starts over for a new request of the same call (a streaming insert's next request): its
    /// endpoint picked afresh unless pinned.
    pub(crate) fn restart(&mut self, endpoints: &crate::transport::Endpoints) {
        if !self.pinned {
            self.endpoint = endpoints.pick(&[]);
        }
        self.tried = vec![self.endpoint];
    }

    /// Moves the next attempt to another endpoint (when not pinned); true when it is one this call has
    /// not tried yet.
    pub(crate) fn fail_over(&mut self, endpoints: &crate::transport::Endpoints) -> bool {
        if !self.may_fail_over() {
            return false;
        }
        self.endpoint = endpoints.pick(&self.tried);
        let fresh = !self.tried.contains(&self.endpoint);
        self.tried.push(self.endpoint);
        fresh
    }

    /// The error to report: a client with several endpoints names those tried (the cause of errors
    /// that are not about the call's transfer is reported as it is).
    pub(crate) fn name_in(&self, e: Error, endpoints: &crate::transport::Endpoints) -> Error {
        let about_transfer = matches!(
            e,
            Error::Transport { .. }
                | Error::Http { .. }
                | Error::Server { .. }
                | Error::Decode { .. }
                | Error::Compression { .. }
        );
        if self.count <= 1 || !about_transfer {
            return e;
        }
        Error::Endpoints {
            tried: self.tried.iter().map(|&i| endpoints.url(i).to_string()).collect(),
            cause: Box::new(e),
        }
    }
}

impl QueryPlan {
    /// The metadata of the attempt that succeeded: servers that do not echo the id (18.16) ran the
    /// query under the one sent.
    pub(crate) fn answered(&mut self, mut meta: ResponseMeta) -> ResponseMeta {
        if meta.query_id.is_none() {
            meta.query_id = self.sent_id.take();
        }
        meta
    }
}

/// An insert-like request as decided before it is sent (see [`Client::plan_body`]).
pub(crate) struct BodyPlan<'d> {
    /// Where it goes: sent elsewhere only when the connection was refused (nothing was sent).
    pub(crate) route: Route,
    pub(crate) params: UrlParams,
    pub(crate) headers: Vec<(String, String)>,
    /// The body, compressed as configured.
    pub(crate) body: Cow<'d, [u8]>,
    pub(crate) deadline: Option<std::time::Instant>,
}

/// What a Native query sends and how its response is decoded (see [`Client::native_setup`]).
pub(crate) struct NativeSetup {
    /// URL parameters: the format, the protocol revision, `limit`.
    pub(crate) extra: Vec<(&'static str, String)>,
    pub(crate) decoder: BlockDecoder,
    /// Rows after which the client stops reading (a user who may not set `limit`).
    pub(crate) client_limit: Option<u64>,
}

/// Where the Native request path hands its blocks.
enum BlockSink<'a> {
    Borrowed(&'a mut dyn FnMut(&Block<'_>) -> Result<()>),
    /// Each block with its exact bytes ([`Fetch::StreamWithBytes`]).
    WithBytes(&'a mut dyn FnMut(&Block<'_>, &[u8]) -> Result<()>),
    Owned(&'a mut dyn FnMut(OwnedBlock) -> Result<()>),
}

/// How a Native query's blocks are consumed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fetch {
    /// Streamed block by block.
    Stream,
    /// Streamed, each block with its exact bytes.
    StreamWithBytes,
    /// Collected whole (`query`).
    Whole,
}

/// The settings a user may not change.
#[derive(Debug, Default)]
struct ReadonlySettings {
    /// Settings with `system.settings.readonly = 1`.
    names: HashSet<String>,
    /// True when the user may change no setting at all (`readonly=1`).
    all: bool,
    /// The values the user's constraints allow, for settings that have a `min`, a `max` or
    /// disallowed values (`system.settings`, 21.1 on).
    bounds: HashMap<String, Bounds>,
}

/// A setting's constraints as `system.settings` shows them, as text.
#[derive(Debug, Default)]
struct Bounds {
    min: Option<String>,
    max: Option<String>,
    disallowed: Vec<String>,
}

impl Bounds {
    /// Whether `value` may be set: not disallowed, within `min` and `max` (numbers, booleans as 0 and
    /// 1). A bound that cannot be compared counts as refusing.
    fn allow(&self, value: &str) -> bool {
        fn number(s: &str) -> Option<f64> {
            match s.trim().to_ascii_lowercase().as_str() {
                "true" => Some(1.0),
                "false" => Some(0.0),
                t => t.parse().ok(),
            }
        }
        let v = number(value);
        let same = |d: &String| d == value || (v.is_some() && number(d) == v);
        if self.disallowed.iter().any(same) {
            return false;
        }
        let within = |bound: &Option<String>, ok: fn(f64, f64) -> bool| match bound {
            None => true,
            Some(b) => matches!((v, number(b)), (Some(v), Some(b)) if ok(v, b)),
        };
        within(&self.min, |v, b| v >= b) && within(&self.max, |v, b| v <= b)
    }
}

/// The Native revision we ask for: BlockInfo and time zones in type names, nothing newer.
const NATIVE_REVISION: u32 = 54405;

impl Client {
    /// Connects: learns the server's version, time zone and database (one small query; one more when
    /// the options carry settings, to drop those this user may not change).
    pub fn new(options: ClientOptions) -> Result<Client> {
        let agent = match &options.client_name {
            Some(n) => format!("{n} clickhouse-connect-rs/{}", env!("CARGO_PKG_VERSION")),
            None => format!("clickhouse-connect-rs/{}", env!("CARGO_PKG_VERSION")),
        };
        let transport = Arc::new(Transport::new(TransportOptions {
            endpoints: options.endpoint_urls()?,
            load_balancing: options.load_balancing,
            username: options.username.clone(),
            password: options.password.clone(),
            verify: options.verify,
            ca_cert: options.ca_cert.clone(),
            client_cert: options.client_cert.clone(),
            client_cert_key: options.client_cert_key.clone(),
            connect_timeout: options.connect_timeout,
            send_receive_timeout: options.send_receive_timeout,
            user_agent: agent,
        }));
        let mut client = Client {
            options,
            transport,
            server_version: String::new(),
            server_timezone: String::new(),
            database: String::new(),
            native_revision: None,
            compression: Compression::None,
            settings: Vec::new(),
            readonly: OnceLock::new(),
            sessions: Mutex::new(HashMap::new()),
            warned: Mutex::new(HashSet::new()),
            table_columns: Arc::new(Mutex::new(HashMap::new())),
            zones_checked: Mutex::new(HashMap::new()),
            #[cfg(feature = "async")]
            killing: Arc::new(Mutex::new(HashMap::new())),
        };
        // Plain text and no settings yet, so this works on every server and for every user.
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
        if !client.options.settings.is_empty() {
            client.settings = client.filter_settings(&client.options.settings)?;
        }
        client.compression = client.options.compression.clone();
        let lacking = matches!(
            client.compression,
            Compression::Lz4 | Compression::Zstd | Compression::Http(ContentEncoding::Lz4 | ContentEncoding::Zstd)
        );
        if lacking && !version_at_least(&client.server_version, 19, 1) {
            // 18.16 answers compress=1 with an empty body (a bug of that build), and knows neither lz4
            // nor zstd as a Content-Encoding (it refuses such request bodies with
            // UNKNOWN_COMPRESSION_METHOD and sends responses plain): never risk a silently empty or
            // unreadable result; use HTTP gzip instead.
            log::warn!(
                "ClickHouse {} cannot use {:?} over HTTP; using gzip Content-Encoding instead",
                client.server_version,
                client.compression
            );
            client.compression = Compression::Http(ContentEncoding::Gzip);
        }
        if !matches!(client.compression, Compression::None) || client.options.send_progress {
            // The client adds settings of its own for these (a frame method, progress headers): learn
            // now, not in the middle of the first call, whether this user may change them.
            client.readonly_settings()?;
        }
        Ok(client)
    }

    /// Connects to `http(s)://user:password@host:port/database?setting=value`.
    pub fn from_url(url: &str) -> Result<Client> {
        Client::new(ClientOptions::from_url(url)?)
    }

    /// Runs `sql` with no settings at all (so any user on any server may run it) and returns its text.
    fn plain_text(&self, sql: &str) -> Result<String> {
        let params = [("default_format".to_string(), "TabSeparated".to_string())];
        let mut route = self.route(&CallOptions::default())?;
        let out = read_only_post(&self.transport, &mut route, &params, sql, &self.server_version)?;
        Ok(String::from_utf8_lossy(&out).trim_end_matches('\n').to_string())
    }

    /// Which settings this user may not change (one query, asked once).
    fn readonly_settings(&self) -> Result<&ReadonlySettings> {
        if let Some(r) = self.readonly.get() {
            return Ok(r);
        }
        if self.server_version.is_empty() {
            // How to ask depends on the version: never answered (and kept) before it is known.
            return Err(Error::Internal("the settings a user may change were asked before connecting".into()));
        }
        let mut r = ReadonlySettings::default();
        if version_at_least(&self.server_version, 21, 1) {
            // The constraints' bounds too (name, min, max, disallowed values; `disallowed_values` is
            // newer than the others: asked without it where the server has no such column).
            let query = |disallowed: &str| {
                format!(
                    "SELECT (SELECT value FROM system.settings WHERE name = 'readonly'), \
                     arrayStringConcat(groupArrayIf(name, readonly = 1), ','), \
                     arrayStringConcat(groupArrayIf(concat(name, '\\x02', ifNull(min, '\\x04'), '\\x02', \
                     ifNull(max, '\\x04'), '\\x02', {disallowed}), min IS NOT NULL OR max IS NOT NULL \
                     OR {disallowed} != ''), '\\x01') FROM system.settings"
                )
            };
            // Each form refused by the server (a column it lacks) falls back to the next; the last asks
            // for the read-only names alone.
            let forms = [query("arrayStringConcat(disallowed_values, '\\x03')"), query("''")];
            let mut text = None;
            for sql in &forms {
                match self.plain_text(sql) {
                    Err(e) if e.server_code().is_some() => continue,
                    other => {
                        text = Some(other?);
                        break;
                    }
                }
            }
            let text = match text {
                Some(t) => t,
                None => self.plain_text(
                    "SELECT (SELECT value FROM system.settings WHERE name = 'readonly'), \
                     arrayStringConcat(groupArrayIf(name, readonly = 1), ',') FROM system.settings",
                )?,
            };
            let mut parts = text.splitn(3, '\t');
            r.all = parts.next() == Some("1");
            r.names = parts.next().unwrap_or("").split(',').filter(|n| !n.is_empty()).map(str::to_string).collect();
            for entry in parts.next().unwrap_or("").split('\x01').filter(|e| !e.is_empty()) {
                let f: Vec<&str> = entry.split('\x02').collect();
                let [name, min, max, disallowed] = f[..] else { continue };
                let bound = |b: &str| (b != "\x04").then(|| b.to_string());
                let disallowed = disallowed.split('\x03').filter(|d| !d.is_empty()).map(str::to_string).collect();
                r.bounds.insert(name.to_string(), Bounds { min: bound(min), max: bound(max), disallowed });
            }
        } else {
            // 18.16 has no `readonly` column: readonly=1 forbids changing any setting, readonly=2 all but
            // `readonly` itself.
            let level = self.plain_text("SELECT value FROM system.settings WHERE name = 'readonly'")?;
            r.all = level == "1";
            if level == "2" {
                r.names.insert("readonly".into());
            }
        }
        Ok(self.readonly.get_or_init(|| r))
    }

    /// The settings of the client's options (or URL) that this user may not change: the ones the
    /// client drops with a warning, as the Python driver does ([`Client::settings`] are those left). A caller that must do what the
    /// server does with them (refuse) asks here first.
    pub fn settings_readonly_for_user(&self) -> Result<Vec<String>> {
        let settings = &self.options.settings;
        if settings.iter().all(|(k, _)| HTTP_PARAMS.contains(&k.as_str())) {
            return Ok(Vec::new());
        }
        let ro = self.readonly_settings()?;
        Ok(settings
            .iter()
            .filter(|(k, _)| !HTTP_PARAMS.contains(&k.as_str()) && (ro.all || ro.names.contains(k)))
            .map(|(k, _)| k.clone())
            .collect())
    }

    /// Drops (with a warning) the settings this user may not change; HTTP parameters pass untouched.
    fn filter_settings(&self, settings: &[(String, String)]) -> Result<Vec<(String, String)>> {
        if settings.iter().all(|(k, _)| HTTP_PARAMS.contains(&k.as_str())) {
            return Ok(settings.to_vec());
        }
        let ro = self.readonly_settings()?;
        Ok(settings
            .iter()
            .filter(|(k, _)| {
                let allowed = HTTP_PARAMS.contains(&k.as_str()) || !(ro.all || ro.names.contains(k));
                if !allowed && self.warned.lock().unwrap_or_else(|e| e.into_inner()).insert(k.clone()) {
                    // Once per setting: a per-call setting would otherwise warn on every call.
                    log::warn!("setting {k} is read-only for user {}; not sending it", self.options.username);
                }
                allowed
            })
            .cloned()
            .collect())
    }

    /// Whether `sql` only reads (its first keyword, outside quotes and comments as this server's
    /// lexer finds them, is `SELECT`, `WITH` without `INSERT`, `SHOW`, `DESCRIBE`, `EXISTS` or
    /// `EXPLAIN`): what the client sends again after a failure, and what may be run twice.
    pub fn is_read_only(&self, sql: &str) -> bool {
        statement::is_read_only(sql, crate::params::lex::dialects_for(&self.server_version))
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

    /// The client's settings that are actually sent (the requested ones minus those this user may not
    /// change).
    pub fn settings(&self) -> &[(String, String)] {
        &self.settings
    }

    /// The options this client was built from.
    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    /// URL parameters for one request: database, session, client settings, call settings, extras.
    fn params(&self, opts: &CallOptions, extra: &[(&str, &str)]) -> Result<Vec<(String, String)>> {
        let mut p: Vec<(String, String)> =
            Vec::with_capacity(self.settings.len() + opts.settings.len() + extra.len() + 4);
        let db = opts.database.as_ref().or(self.options.database.as_ref().filter(|_| opts.use_database));
        if let Some(db) = db {
            p.push(("database".into(), db.clone()));
        }
        if let Some(s) = self.call_session(opts) {
            p.push(("session_id".into(), s.to_string()));
        }
        if let Some(q) = opts
            .query_id
            .as_deref()
            .or_else(|| setting(&opts.settings, "query_id"))
            .or_else(|| setting(&self.settings, "query_id"))
        {
            p.push(("query_id".into(), q.to_string()));
        }
        // The HTTP parameters the client decides itself (from the call's or the client's values).
        let own = |k: &str| matches!(k, "session_id" | "query_id" | "compress" | "decompress");
        p.extend(self.settings.iter().filter(|(k, _)| !own(k)).cloned());
        if !opts.settings.is_empty() {
            p.extend(self.filter_settings(&opts.settings)?.into_iter().filter(|(k, _)| !own(k)));
        }
        // Not for the connect query (no version yet): what this user may set is asked of the server
        // only once its version says how.
        if (self.options.send_progress || opts.on_progress.is_some())
            && !self.server_version.is_empty()
            && self.may_set("send_progress_in_http_headers", "1")?
        {
            p.push(("send_progress_in_http_headers".into(), "1".into()));
        }
        p.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        Ok(p)
    }

    /// Binds the call's parameters: the SQL to send (with client-side values spliced in) and the
    /// `param_name` URL parameters for server-side ones.
    fn bind_params<'s>(&self, sql: &'s str, opts: &CallOptions) -> Result<(Cow<'s, str>, UrlParams)> {
        if opts.params.is_empty() && opts.args.is_empty() {
            return Ok((Cow::Borrowed(sql), Vec::new()));
        }
        // The lexer rules of this server's version decide what is a comment, a quote or a heredoc.
        let dialects = crate::params::lex::dialects_for(&self.server_version);
        let typed = opts.args.is_empty() && crate::params::server::typed(sql, dialects, &opts.params);
        if !typed {
            return Ok((
                Cow::Owned(crate::params::format_query_for(&self.server_version, sql, &opts.params, &opts.args)?),
                Vec::new(),
            ));
        }
        if opts.client_side_binding || crate::params::server::binds_on_client(sql, dialects) {
            return Ok((
                Cow::Owned(crate::params::substitute_server_placeholders_for(&self.server_version, sql, &opts.params)?),
                Vec::new(),
            ));
        }
        if !version_at_least(&self.server_version, 19, 11) {
            return Err(Error::usage(format!(
                "ClickHouse {} has no query parameters ({{name:Type}} needs 19.11 or newer); \
                 CallOptions::client_side_binding() binds them on the client instead",
                self.server_version
            )));
        }
        let mut renderer = crate::format::TextRenderer::new(&self.server_timezone);
        let params = crate::params::server::server_params_in(dialects, sql, &opts.params, &mut renderer)?;
        if let Some(e) = renderer.take_error() {
            return Err(Error::usage(format!("cannot bind a parameter: {e}")));
        }
        Ok((Cow::Borrowed(sql), params))
    }

    /// The turn-taking of the session a call runs in, with the session's id.
    fn session_lock(&self, opts: &CallOptions) -> Option<(String, Arc<session::SessionLock>)> {
        let id = self.call_session(opts)?;
        let lock = self.sessions.lock().unwrap_or_else(|e| e.into_inner()).entry(id.to_string()).or_default().clone();
        Some((id.to_string(), lock))
    }

    /// The route of a call's first attempt: the endpoint the caller chose (`CallOptions::endpoint`),
    /// else its session's (chosen by the session's first call), else one picked by the load balancing.
    pub(crate) fn route(&self, opts: &CallOptions) -> Result<Route> {
        let endpoints = self.transport.endpoints();
        let count = endpoints.len();
        let session = self.session_lock(opts).map(|(_, lock)| lock);
        if let Some(i) = opts.endpoint.filter(|&i| i >= count) {
            return Err(Error::usage(format!("endpoint {i} does not exist (the client has {count})")));
        }
        let pin = match &session {
            Some(lock) => {
                let mut at = lock.endpoint.lock().unwrap_or_else(|e| e.into_inner());
                match (*at, opts.endpoint) {
                    (Some(s), Some(i)) if s != i => {
                        return Err(Error::usage(format!(
                            "the call's session lives on endpoint {s} ({}), not on endpoint {i}",
                            endpoints.url(s)
                        )));
                    }
                    (Some(s), _) => Some(s),
                    (None, given) => Some(*at.insert(given.unwrap_or_else(|| endpoints.pick(&[])))),
                }
            }
            None => opts.endpoint,
        };
        let endpoint = pin.unwrap_or_else(|| endpoints.pick(&[]));
        Ok(Route { endpoint, tried: vec![endpoint], pinned: pin.is_some(), count, session })
    }

    /// The client's endpoints (base URLs), `host`/`port` first.
    pub fn endpoints(&self) -> Vec<String> {
        let e = self.transport.endpoints();
        (0..e.len()).map(|i| e.url(i).to_string()).collect()
    }

    /// The request's turn in its session (if it runs in one), held for the request's duration.
    fn session_turn(&self, opts: &CallOptions) -> Result<Option<session::SessionTurn>> {
        let Some((id, lock)) = self.session_lock(opts) else { return Ok(None) };
        lock.take(&id, false)
    }

    /// The session a call runs in: the call's own (`CallOptions::session`, or `session_id` among its
    /// settings, as the Python driver takes it), else the client's.
    fn call_session<'a>(&'a self, opts: &'a CallOptions) -> Option<&'a str> {
        opts.session_id
            .as_deref()
            .or_else(|| setting(&opts.settings, "session_id"))
            .or(self.options.session_id.as_deref())
            .or_else(|| setting(&self.settings, "session_id"))
            // An empty id runs the call outside any session, the client's included.
            .filter(|s| !s.is_empty())
    }

    /// The compression of one call: the client's, unless the call's settings say `compress` (response
    /// frames) or `decompress` (request body frames), as the Python driver lets them.
    fn call_compression(&self, opts: &CallOptions, direction: &str) -> Compression {
        let frames = if !version_at_least(&self.server_version, 19, 1) {
            // 18.16 answers compress=1 with an empty body: gzip instead, as for the client's own.
            Compression::Http(ContentEncoding::Gzip)
        } else if self.compression == Compression::Zstd {
            Compression::Zstd
        } else {
            Compression::Lz4
        };
        match setting(&opts.settings, direction) {
            Some("1" | "true") => frames,
            Some("0" | "false") if matches!(self.compression, Compression::Lz4 | Compression::Zstd) => {
                Compression::None
            }
            _ => self.compression.clone(),
        }
    }

    /// Parameters and Accept-Encoding that make the server compress a response as configured.
    /// A user that may change no setting (`readonly=1`) still gets compressed frames: then in the
    /// server's default method, which the frame reader reads as well (one warning).
    fn response_compression(&self, compression: &Compression) -> Result<(StaticParams, Option<&'static str>)> {
        let method = |m: &'static str| -> Result<StaticParams> {
            Ok(if self.may_set("network_compression_method", m)? {
                vec![("compress", "1"), ("network_compression_method", m)]
            } else {
                vec![("compress", "1")]
            })
        };
        Ok(match compression {
            Compression::None => (vec![], None),
            // libcurl cannot decode lz4: the header is set by hand and this crate decodes it.
            Compression::Http(enc) if !enc.decoded_by_libcurl() => (vec![("enable_http_compression", "1")], None),
            Compression::Lz4 => (method(Method::Lz4.name())?, None),
            Compression::Zstd => (method(Method::Zstd.name())?, None),
            Compression::Http(enc) => (vec![("enable_http_compression", "1")], Some(enc.name())),
        })
    }

    /// Whether this user may set the setting `name` that the client adds on its own (progress
    /// headers, the frame compression method) to `value`. When not, the client does without it and
    /// says so once.
    fn may_set(&self, name: &'static str, value: &str) -> Result<bool> {
        let allowed = self.may_set_quietly(name, value)?;
        if !allowed {
            let mut warned = self.warned.lock().unwrap_or_else(|e| e.into_inner());
            if warned.insert(name.to_string()) {
                log::warn!(
                    "setting {name} may not be set to {value} by user {}; the client does without it",
                    self.options.username
                );
            }
        }
        Ok(allowed)
    }

    /// [`Client::may_set`] without the warning: for settings the client adds as a safeguard only.
    fn may_set_quietly(&self, name: &str, value: &str) -> Result<bool> {
        let ro = self.readonly_settings()?;
        Ok(!(ro.all || ro.names.contains(name)) && ro.bounds.get(name).is_none_or(|b| b.allow(value)))
    }

    /// POSTs a query and hands the (decompressed) response bytes to `sink`. With `retries`, a failure
    /// before any byte reached the sink that a retry can fix is retried.
    fn post_query(
        &self,
        sql: &str,
        opts: &CallOptions,
        extra: &[(&str, &str)],
        retries: u32,
        sink: &mut dyn FnMut(&[u8]) -> Result<()>,
    ) -> Result<ResponseMeta> {
        self.post_query_inner(sql, opts, extra, retries, sink).map_err(|e| e.with_server_version(&self.server_version))
    }

    fn post_query_inner(
        &self,
        sql: &str,
        opts: &CallOptions,
        extra: &[(&str, &str)],
        retries: u32,
        sink: &mut dyn FnMut(&[u8]) -> Result<()>,
    ) -> Result<ResponseMeta> {
        let mut plan = self.plan_query(sql, opts, extra, retries)?;
        let progress = opts.on_progress.as_deref().map(|f| f as &dyn Fn(&Progress));
        let _turn = self.session_turn(opts)?;
        loop {
            let mut delivered = false;
            let req = Request {
                headers: &plan.headers,
                accept_encoding: plan.accept,
                progress,
                decoding: plan.decoding,
                deadline: plan.deadline,
                cancel: opts.cancel.as_deref(),
                endpoint: Some(plan.route.endpoint),
                ..Request::new(&plan.params, plan.sql.as_bytes())
            };
            let result = self.transport.post(&req, &mut |chunk| {
                delivered = true;
                sink(chunk)
            });
            match result {
                Ok(meta) => {
                    plan.route.confirm();
                    return Ok(plan.answered(meta));
                }
                Err(e) => {
                    let pause = self.after_failure(&mut plan, e, delivered)?;
                    std::thread::sleep(pause);
                }
            }
        }
    }

    /// Everything a query request needs, decided before it is sent: the bound SQL, URL parameters,
    /// compression, the query id every attempt carries, and whether it may be retried.
    pub(crate) fn plan_query(
        &self,
        sql: &str,
        opts: &CallOptions,
        extra: &[(&str, &str)],
        retries: u32,
    ) -> Result<QueryPlan> {
        let (sql, bound) = self.bind_params(sql, opts)?;
        let mut compression = self.call_compression(opts, "compress");
        if matches!(compression, Compression::Http(_)) && !self.may_set("enable_http_compression", "1")? {
            // The server compresses HTTP responses only when asked through this setting.
            compression = Compression::None;
        }
        let (mut params, accept) = self.response_compression(&compression)?;
        params.extend(bound.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let decoding = compression.response_decoding(params.iter().any(|(k, _)| *k == "compress"));
        let headers: Vec<(String, String)> = match (&compression, decoding) {
            (Compression::Http(enc), BodyDecoding::Lz4Frame) => vec![("Accept-Encoding".into(), enc.name().into())],
            _ => Vec::new(),
        };
        params.extend_from_slice(extra);
        let route = self.route(opts)?;
        // With several endpoints, a call that is safe to send again may go to each of them once.
        let retries = if route.may_fail_over() { retries.max(route.count as u32 - 1) } else { retries };
        // A statement that may be retried gets its query id now, so every attempt carries the same one
        // (the server refuses a second query with the id of one still running).
        let may_retry = retries > 0;
        let mut sent_id = opts
            .query_id
            .clone()
            .or_else(|| setting(&opts.settings, "query_id").map(str::to_string))
            .or_else(|| setting(&self.options.settings, "query_id").map(str::to_string));
        let own_id;
        if may_retry
            && opts.query_id.is_none()
            && setting(&opts.settings, "query_id").is_none()
            && setting(&self.options.settings, "query_id").is_none()
        {
            own_id = statement::new_query_id();
            params.push(("query_id", own_id.as_str()));
            sent_id = Some(own_id.clone());
        }
        let params = self.params(opts, &params)?;
        let read_only =
            may_retry && statement::is_read_only(&sql, crate::params::lex::dialects_for(&self.server_version));
        Ok(QueryPlan {
            sql: sql.into_owned(),
            params,
            headers,
            accept,
            decoding,
            deadline: self.deadline(opts),
            retries,
            read_only,
            sent_id,
            attempt: 0,
            first_error: None,
            route,
        })
    }

    /// The query id a call runs under: the call's (its option, or `query_id` among its settings or the
    /// client's), else a new one, set in `opts` so that the request carries it.
    #[cfg(feature = "async")]
    pub(crate) fn ensure_query_id(&self, opts: &mut CallOptions) -> String {
        match self.given_query_id(opts) {
            Some(id) => id,
            None => opts.query_id.insert(statement::new_query_id()).clone(),
        }
    }

    /// The query id the caller chose for a call, if any.
    #[cfg(feature = "async")]
    pub(crate) fn given_query_id(&self, opts: &CallOptions) -> Option<String> {
        opts.query_id
            .clone()
            .or_else(|| setting(&opts.settings, "query_id").map(str::to_string))
            .or_else(|| setting(&self.settings, "query_id").map(str::to_string))
    }

    /// After a failed attempt of `plan`: the pause before the next attempt, or the error to report.
    /// `delivered`: whether any response byte reached the consumer (then it is never retried).
    pub(crate) fn after_failure(&self, plan: &mut QueryPlan, e: Error, delivered: bool) -> Result<std::time::Duration> {
        let e = e.with_server_version(&self.server_version);
        if matches!(e, Error::Transport { connect: true, .. })
            && plan.route.move_unsettled_session(self.transport.endpoints())
        {
            log::warn!(
                "a new session's first call was refused ({e}); it goes to {}",
                self.transport.endpoints().url(plan.route.endpoint)
            );
            return Ok(std::time::Duration::ZERO);
        }
        match e {
            // "Query id already running" means an earlier attempt of ours only on a retry; on the first
            // attempt it is someone else's query, which must not be replaced.
            e if plan.attempt < plan.retries
                && !delivered
                && (statement::retry_is_safe(&e, plan.read_only)
                    || plan.read_only && plan.route.stalled_elsewhere(&e))
                && !(plan.attempt == 0 && e.server_code() == Some(216)) =>
            {
                plan.attempt += 1;
                let endpoints = self.transport.endpoints();
                // Another endpoint not tried yet is asked at once; the same one again after a pause.
                let fresh = plan.route.fail_over(endpoints);
                let pause = std::time::Duration::from_millis(if fresh { 0 } else { 100 * u64::from(plan.attempt) });
                if plan.deadline.is_some_and(|d| std::time::Instant::now() + pause >= d) {
                    return Err(plan.route.name_in(plan.first_error.take().unwrap_or(e), endpoints));
                }
                log::warn!(
                    "query failed ({e}); retry {} of {} at {}",
                    plan.attempt,
                    plan.retries,
                    endpoints.url(plan.route.endpoint)
                );
                if plan.read_only && plan.attempt == 1 && self.may_set("replace_running_query", "1").unwrap_or(false) {
                    // The first attempt may still be running on the server under the same query id: the
                    // retry replaces it instead of failing with "already running".
                    plan.params.push(("replace_running_query".into(), "1".into()));
                }
                plan.first_error.get_or_insert(e);
                Ok(pause)
            }
            // After retries, the failure that started them is the one to report (a retry's "query id
            // already running" says nothing about what went wrong).
            e if e.server_code() == Some(216) && plan.first_error.is_some() => {
                Err(plan.route.name_in(plan.first_error.take().unwrap_or(e), self.transport.endpoints()))
            }
            e => Err(plan.route.name_in(e, self.transport.endpoints())),
        }
    }

    /// After a failed attempt of a body request: whether to send it again elsewhere (only when the
    /// connection was refused, so nothing was sent, and another endpoint may take it), else the error.
    pub(crate) fn after_body_failure(&self, route: &mut Route, e: Error) -> Result<()> {
        let endpoints = self.transport.endpoints();
        let e = e.with_server_version(&self.server_version);
        let refused = matches!(e, Error::Transport { connect: true, .. });
        if refused && route.move_unsettled_session(endpoints) {
            return Ok(());
        }
        if refused && route.tried.len() < route.count && route.fail_over(endpoints) {
            log::warn!("insert refused ({e}); sending it to {}", endpoints.url(route.endpoint));
            return Ok(());
        }
        Err(route.name_in(e, endpoints))
    }

    /// When a call must be over: its own timeout, else the client's (none by default).
    fn deadline(&self, opts: &CallOptions) -> Option<std::time::Instant> {
        opts.timeout.or(self.options.timeout).map(|t| std::time::Instant::now() + t)
    }

    /// POSTs an insert body, compressed as configured. Never retried.
    fn post_body(&self, sql: &str, data: &[u8], opts: &CallOptions) -> Result<()> {
        self.post_body_with(sql, data, opts, &[], &mut |_| Ok(())).map(|_| ())
    }

    /// [`Client::post_body`] with more URL parameters and the response handed to `sink`.
    fn post_body_with(
        &self,
        sql: &str,
        data: &[u8],
        opts: &CallOptions,
        more: &[(&str, &str)],
        sink: &mut dyn FnMut(&[u8]) -> Result<()>,
    ) -> Result<ResponseMeta> {
        let mut plan = self.plan_body(sql, data, opts, more)?;
        let _turn = self.session_turn(opts)?;
        let progress = opts.on_progress.as_deref().map(|f| f as &dyn Fn(&Progress));
        loop {
            let req = Request {
                headers: &plan.headers,
                progress,
                deadline: plan.deadline,
                endpoint: Some(plan.route.endpoint),
                ..Request::new(&plan.params, &plan.body)
            };
            match self.transport.post(&req, sink) {
                Ok(meta) => {
                    plan.route.confirm();
                    return Ok(meta);
                }
                Err(e) => self.after_body_failure(&mut plan.route, e)?,
            }
        }
    }

    /// An insert-like request (SQL in the URL, `data` as the body, compressed as configured), decided
    /// before it is sent.
    pub(crate) fn plan_body<'d>(
        &self,
        sql: &str,
        data: &'d [u8],
        opts: &CallOptions,
        more: &[(&str, &str)],
    ) -> Result<BodyPlan<'d>> {
        let mut extra = vec![("query", sql)];
        extra.extend_from_slice(more);
        let encoder = self.call_compression(opts, "decompress").request_encoder();
        let body = encoder.whole(data)?;
        if encoder.is_frames() {
            extra.push(("decompress", "1"));
        }
        let headers: Vec<(String, String)> = encoder
            .content_encoding()
            .map(|e| ("Content-Encoding".to_string(), e.name().to_string()))
            .into_iter()
            .collect();
        let params = self.params(opts, &extra)?;
        Ok(BodyPlan { route: self.route(opts)?, params, headers, body, deadline: self.deadline(opts) })
    }

    /// Runs any SQL and returns the raw response body (`format` sets `default_format`).
    pub fn raw_query(&self, sql: &str, format: Option<&str>) -> Result<Vec<u8>> {
        self.raw_query_with(sql, format, &CallOptions::default())
    }

    /// [`Client::raw_query`] with per-call options. Retried like queries.
    pub fn raw_query_with(&self, sql: &str, format: Option<&str>, opts: &CallOptions) -> Result<Vec<u8>> {
        only_query_decodes(opts)?;
        let mut out = Vec::new();
        let extra: Vec<(&str, &str)> = format.map(|f| ("default_format", f)).into_iter().collect();
        self.post_query(sql, opts, &extra, self.options.query_retries, &mut |chunk| {
            out.extend_from_slice(chunk);
            Ok(())
        })?;
        Ok(out)
    }

    /// [`Client::raw_query_with`] that hands the response body to `sink` as it arrives (an error from
    /// `sink` stops the query), for results too large to hold.
    pub fn raw_query_to(
        &self,
        sql: &str,
        format: Option<&str>,
        opts: &CallOptions,
        mut sink: impl FnMut(&[u8]) -> Result<()>,
    ) -> Result<ResponseMeta> {
        only_query_decodes(opts)?;
        let extra: Vec<(&str, &str)> = format.map(|f| ("default_format", f)).into_iter().collect();
        self.post_query(sql, opts, &extra, self.options.query_retries, &mut sink)
    }

    /// Streams a query's result block by block. Each block borrows the decoder and is valid during the
    /// callback only; copy what you keep (e.g. with [`Value::into_owned`]). An error from the callback
    /// stops the query.
    pub fn query_blocks(&self, sql: &str, on_block: impl FnMut(&Block<'_>) -> Result<()>) -> Result<ResponseMeta> {
        self.query_blocks_with(sql, &CallOptions::default(), on_block)
    }

    /// [`Client::query_blocks`] with per-call options.
    pub fn query_blocks_with(
        &self,
        sql: &str,
        opts: &CallOptions,
        mut on_block: impl FnMut(&Block<'_>) -> Result<()>,
    ) -> Result<ResponseMeta> {
        only_query_decodes(opts)?;
        self.fetch_blocks_inner(sql, opts, true, Fetch::Stream, &mut BlockSink::Borrowed(&mut on_block))
    }

    /// [`Client::query_blocks_with`] that also hands over each block's exact bytes as plain Native
    /// (without the BlockInfo prefix the server adds for this client), after the decoder has checked
    /// them: to pass blocks on (to a file, another server, [`crate::Inserter::write_native_block`])
    /// without re-encoding. Costs one copy of the response.
    pub fn query_native_blocks_with(
        &self,
        sql: &str,
        opts: &CallOptions,
        mut on_block: impl FnMut(&Block<'_>, &[u8]) -> Result<()>,
    ) -> Result<ResponseMeta> {
        only_query_decodes(opts)?;
        self.fetch_blocks_inner(sql, opts, true, Fetch::StreamWithBytes, &mut BlockSink::WithBytes(&mut on_block))
    }

    /// [`Client::query_blocks_with`] handing over each block as an [`OwnedBlock`] moved out of the
    /// decoder (its columns come back for later blocks once it is dropped): for a consumer on another
    /// thread ([`Client::query_block_stream`]).
    pub(crate) fn query_owned_blocks_with(
        &self,
        sql: &str,
        opts: &CallOptions,
        mut on_block: impl FnMut(OwnedBlock) -> Result<()>,
    ) -> Result<ResponseMeta> {
        only_query_decodes(opts)?;
        self.fetch_blocks_inner(sql, opts, true, Fetch::Stream, &mut BlockSink::Owned(&mut on_block))
    }

    /// The Native request path; `user_query` applies `query_limit` and retries.
    pub(crate) fn fetch_blocks(
        &self,
        sql: &str,
        opts: &CallOptions,
        user_query: bool,
        mut on_block: impl FnMut(&Block<'_>) -> Result<()>,
    ) -> Result<ResponseMeta> {
        self.fetch_blocks_inner(sql, opts, user_query, Fetch::Stream, &mut BlockSink::Borrowed(&mut on_block))
    }

    /// The Native request path; with `keep_bytes` each block comes with its bytes from its header on.
    fn fetch_blocks_inner(
        &self,
        sql: &str,
        opts: &CallOptions,
        user_query: bool,
        fetch: Fetch,
        on_block: &mut BlockSink<'_>,
    ) -> Result<ResponseMeta> {
        let keep_bytes = fetch == Fetch::StreamWithBytes;
        let NativeSetup { extra, mut decoder, client_limit } = self.native_setup(opts, user_query, fetch)?;
        let extra: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut delivered_rows = 0u64;
        let retries = if user_query { self.options.query_retries } else { 0 };
        let mut kept = BlockBytes::new();
        let meta = self.post_query(sql, opts, &extra, retries, &mut |mut chunk| {
            if let (true, BlockSink::WithBytes(on_block)) = (keep_bytes, &mut *on_block) {
                while let Some((block, raw)) = kept.feed(&mut decoder, &mut chunk)? {
                    on_block(&block, raw)?;
                }
            } else {
                while let Some(block) = decoder.feed(&mut chunk)? {
                    if let Some(max) = client_limit {
                        if delivered_rows >= max {
                            // Enough rows: stop reading (the query is cancelled).
                            return Err(Error::usage(LIMIT_REACHED));
                        }
                        delivered_rows += block.rows() as u64;
                    }
                    match on_block {
                        BlockSink::Borrowed(f) => f(&block)?,
                        BlockSink::WithBytes(f) => f(&block, &[])?,
                        BlockSink::Owned(f) => {
                            if let Some(owned) = decoder.take_block() {
                                f(owned)?;
                            }
                        }
                    }
                }
            }
            Ok(())
        });
        let meta = match meta {
            Err(Error::Usage(m)) if m == LIMIT_REACHED => return Ok(ResponseMeta::default()),
            other => other?,
        };
        // The statement's own FORMAT clause won over the client's: whatever the decoder made of those
        // bytes (some decode as empty blocks) is not the result.
        if let Some(refused) = meta.not_native() {
            return Err(refused);
        }
        if let Err(e) = decoder.finish() {
            // A stream that ends inside a block: an 18.16 exception appended to the data, or truncation.
            // (A tagged trailer was looked for by the transport already.)
            return Err(appended_exception(&meta.tail, None, StreamEnd::Failed(&e)).unwrap_or(e));
        }
        Ok(meta)
    }

    /// The URL parameters and the decoder of a Native query (`user_query`: `query_limit` applies).
    pub(crate) fn native_setup(&self, opts: &CallOptions, user_query: bool, fetch: Fetch) -> Result<NativeSetup> {
        let mut extra: Vec<(&'static str, String)> = vec![("default_format", "Native".into())];
        if fetch == Fetch::Whole && self.options.send_progress {
            // The whole result is collected anyway: as the Python driver does for `send_progress`, the
            // server finishes first, so the summary covers the whole query.
            extra.push(("wait_end_of_query", "1".into()));
        }
        // A user who may not set `limit` (readonly on 18.16), or a server without the setting (before
        // 21.1), gets the limit applied here instead.
        let mut client_limit = None;
        if user_query && self.options.query_limit > 0 {
            if version_at_least(&self.server_version, 21, 1)
                && self.may_set("limit", &self.options.query_limit.to_string())?
            {
                extra.push(("limit", self.options.query_limit.to_string()));
            } else {
                client_limit = Some(self.options.query_limit);
            }
        }
        let mut decoder = match self.native_revision {
            Some(r) => {
                extra.push(("client_protocol_version", r.to_string()));
                BlockDecoder::with_block_info()
            }
            None => BlockDecoder::new(),
        };
        decoder.set_max_block_bytes(self.options.max_block_bytes);
        decoder.set_server_timezone(&self.session_timezone(opts));
        Ok(NativeSetup { extra, decoder, client_limit })
    }

    /// The zone of `DateTime` values without one for a call: `session_timezone` when the call or the
    /// client sets it (the server then reads and writes such values in it), else the server's.
    pub(crate) fn session_timezone(&self, opts: &CallOptions) -> String {
        let set = |list: &[(String, String)]| {
            list.iter().rev().find(|(k, v)| k == "session_timezone" && !v.is_empty()).map(|(_, v)| v.clone())
        };
        set(&opts.settings).or_else(|| set(&self.settings)).unwrap_or_else(|| self.server_timezone.clone())
    }

    /// Whether this client renders (and reads) date-times in `zone` (`None`: the server's) exactly as the
    /// server does since 1970: the server's text of an instant every 12 hours from 1970 to 2040 is
    /// compared with this client's, once per zone (the bundled time zone database and the server's may
    /// be of different releases: a zone whose rules changed recently differs). Servers without
    /// `toDateTime(x, tz)` of a range are taken at their word (`true`).
    pub fn zone_agrees(&self, zone: Option<&str>) -> Result<bool> {
        // UTC has no rules to disagree on.
        if matches!(zone.unwrap_or(&self.server_timezone), "UTC" | "Etc/UTC") {
            return Ok(true);
        }
        let key = zone.unwrap_or_default().to_string();
        if let Some(&known) = self.zones_checked.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Ok(known);
        }
        let quoted = match zone {
            Some(z) if z.bytes().all(|b| b.is_ascii_alphanumeric() || b"/_+-".contains(&b)) => format!(", '{z}'"),
            Some(_) => return Ok(false),
            None => String::new(),
        };
        const STEP: u32 = 43_200;
        const END: u32 = 2_208_988_800; // 2040-01-01
        let sql = format!("SELECT arrayMap(x -> toString(toDateTime(x{quoted})), range(0, {END}, {STEP}))");
        let opts = CallOptions::new().setting("offset", 0).setting("limit", 0);
        let agrees = match self.internal_rows(&sql, &opts) {
            Ok(rows) => match rows.first().and_then(|r| r.first()) {
                Some(Value::Array(texts)) => {
                    let mut r = crate::format::TextRenderer::new(&self.server_timezone);
                    let t = crate::types::TypeDesc::DateTime(zone.map(str::to_string));
                    let mut ours = Vec::with_capacity(24);
                    texts.iter().enumerate().all(|(i, text)| {
                        ours.clear();
                        r.write_tsv(&mut ours, &Value::DateTime(i as u32 * STEP), &t);
                        matches!(text, Value::String(s) if s.as_ref() == ours.as_slice())
                    })
                }
                _ => false,
            },
            // 18.16 and friends: nothing to compare with.
            Err(Error::Server { .. }) if !version_at_least(&self.server_version, 20, 1) => true,
            Err(e) => return Err(e),
        };
        self.zones_checked.lock().unwrap_or_else(|e| e.into_inner()).insert(key, agrees);
        Ok(agrees)
    }

    /// Every row of a query the client makes for itself (no `query_limit`, no retries).
    pub(crate) fn internal_rows(&self, sql: &str, opts: &CallOptions) -> Result<Vec<Vec<Value<'static>>>> {
        let mut rows = Vec::new();
        let mut collect = |block: &Block<'_>| {
            rows.reserve(block.rows());
            for r in 0..block.rows() {
                rows.push(block.row(r).into_iter().map(Value::into_owned).collect());
            }
            Ok(())
        };
        self.fetch_blocks_inner(sql, opts, false, Fetch::Whole, &mut BlockSink::Borrowed(&mut collect))?;
        Ok(rows)
    }

    /// Runs a query and collects every row as owned values.
    pub fn query(&self, sql: &str) -> Result<QueryResult> {
        self.query_with(sql, &CallOptions::default())
    }

    /// [`Client::query`] with per-call options.
    pub fn query_with(&self, sql: &str, opts: &CallOptions) -> Result<QueryResult> {
        let mut rows = RowCollector::new(opts)?;
        let mut add = |block: &Block<'_>| rows.add(block);
        let meta = self.fetch_blocks_inner(sql, opts, true, Fetch::Whole, &mut BlockSink::Borrowed(&mut add))?;
        Ok(rows.finish(meta, self.options.query_limit))
    }
}

/// Collects a query's blocks into a [`QueryResult`] (rows of owned values), as `query` returns it.
pub(crate) struct RowCollector {
    result: QueryResult,
    nulls_as_defaults: bool,
    encoding: Option<&'static encoding_rs::Encoding>,
}

impl RowCollector {
    pub(crate) fn new(opts: &CallOptions) -> Result<Self> {
        let encoding = match &opts.encoding {
            None => None,
            Some(label) => Some(
                encoding_rs::Encoding::for_label(label.as_bytes())
                    .ok_or_else(|| Error::usage(format!("unknown encoding {label:?}")))?,
            ),
        };
        Ok(RowCollector {
            result: QueryResult {
                column_names: Vec::new(),
                column_types: Vec::new(),
                column_type_names: Vec::new(),
                rows: Vec::new(),
                query_id: None,
                summary: None,
                endpoint: None,
            },
            nulls_as_defaults: opts.nulls_as_defaults,
            encoding,
        })
    }

    pub(crate) fn add(&mut self, block: &Block<'_>) -> Result<()> {
        let r = &mut self.result;
        if r.column_names.is_empty() {
            for c in block.columns() {
                r.column_names.push(c.name().to_string());
                r.column_types.push(c.desc().clone());
                r.column_type_names.push(c.type_name().to_string());
            }
        }
        r.rows.reserve(block.rows());
        for i in 0..block.rows() {
            let row = block.row(i).into_iter().map(Value::into_owned);
            let mut row: Vec<Value<'static>> = if self.nulls_as_defaults {
                row.zip(block.columns()).map(|(v, c)| v.nulls_to_defaults(c.desc())).collect()
            } else {
                row.collect()
            };
            if let Some(enc) = self.encoding {
                for (v, c) in row.iter_mut().zip(block.columns()) {
                    transcode(v, enc).map_err(|()| {
                        Error::usage(format!(
                            "row {}, column {}: not valid {} text",
                            r.rows.len(),
                            c.name(),
                            enc.name()
                        ))
                    })?;
                }
            }
            r.rows.push(row);
        }
        Ok(())
    }

    pub(crate) fn finish(self, meta: ResponseMeta, query_limit: u64) -> QueryResult {
        let mut r = self.result;
        if query_limit > 0 {
            r.rows.truncate(query_limit as usize);
        }
        r.summary = meta.summary.as_deref().and_then(Summary::parse);
        r.query_id = meta.query_id;
        r.endpoint = meta.endpoint;
        r
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

/// Decodes the strings in `v` (however deeply nested) from `enc` into UTF-8.
fn transcode(v: &mut Value<'static>, enc: &'static encoding_rs::Encoding) -> std::result::Result<(), ()> {
    match v {
        Value::String(b) | Value::FixedString(b) => {
            let text = enc.decode_without_bom_handling_and_without_replacement(b).ok_or(())?;
            if let Cow::Owned(t) = text {
                *b = Cow::Owned(t.into_bytes());
            }
            Ok(())
        }
        Value::Array(items) | Value::Tuple(items) => items.iter_mut().try_for_each(|x| transcode(x, enc)),
        Value::Map(pairs) => pairs.iter_mut().try_for_each(|(k, x)| transcode(k, enc).and_then(|()| transcode(x, enc))),
        _ => Ok(()),
    }
}

/// `CallOptions::encoding` applies to `query` (as the Python driver's `encoding`): other calls refuse
/// it rather than silently hand back undecoded bytes.
pub(crate) fn only_query_decodes(opts: &CallOptions) -> Result<()> {
    match &opts.encoding {
        Some(e) => Err(Error::usage(format!(
            "CallOptions::encoding({e:?}) applies to query/query_with only (this call hands back bytes as stored)"
        ))),
        None => Ok(()),
    }
}

/// The value of `name` among `settings` (the last one given).
fn setting<'a>(settings: &'a [(String, String)], name: &str) -> Option<&'a str> {
    settings.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Whether a version string like `26.9.2.1` is at least `major.minor`.
fn version_at_least(version: &str, major: u32, minor: u32) -> bool {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (a, b) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (a, b) >= (major, minor)
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
}
