//! Per-call options: settings, query id, session, database and a progress callback for one request.
//!
//! ```no_run
//! # use clickhouse_connect::{Client, CallOptions};
//! # let client = Client::from_url("http://localhost:8123")?;
//! let opts = CallOptions::new().setting("max_threads", 2).query_id("nightly-report-1").param("n", 10u64);
//! let result = client.query_with("SELECT number FROM system.numbers LIMIT {n:UInt64}", &opts)?;
//! # Ok::<(), clickhouse_connect::Error>(())
//! ```

use crate::transport::Progress;
use std::fmt;
use std::sync::Arc;

/// A progress callback, called from the thread running the request: the caller's for the blocking
/// client; for the [`crate::AsyncClient`], its one I/O thread — keep it short there, since every
/// transfer of the client waits meanwhile (a panic in it fails that call only).
pub type ProgressCallback = Arc<dyn Fn(&Progress) + Send + Sync>;

/// Options for one call; `CallOptions::default()` changes nothing.
#[derive(Clone)]
pub struct CallOptions {
    /// ClickHouse settings for this call, on top of the client's.
    pub settings: Vec<(String, String)>,
    /// The query id to use (else the server picks one; it is returned either way).
    pub query_id: Option<String>,
    /// The session to run in, instead of the client's; an empty id runs the call outside any session.
    pub session_id: Option<String>,
    /// The database to run in, instead of the client's (the Python driver's `use_database`).
    pub database: Option<String>,
    /// Called with the server's progress headers while the query runs.
    pub on_progress: Option<ProgressCallback>,
    /// Named parameters: values for the query's `{name:Type}` placeholders (bound by the server) or its
    /// `%(name)s` placeholders (bound here); see [`crate::params`](mod@crate::params).
    pub params: Vec<(String, crate::value::Value<'static>)>,
    /// Positional parameters for the query's `%s` placeholders (bound here).
    pub args: Vec<crate::value::Value<'static>>,
    /// Bind `{name:Type}` placeholders on the client (`CAST(<literal> AS Type)`) instead of sending
    /// them to the server: for servers older than 19.11.
    pub client_side_binding: bool,
    /// Decode `String` and `FixedString` values of `query`/`query_with` results (only: other calls refuse
    /// it) from this encoding (a WHATWG
    /// label: `windows-1252`, `shift_jis`, `utf-16le`, …) into UTF-8, as the Python driver's
    /// `encoding`; bytes that are not valid in it are an error, never replaced. `None`: as stored.
    pub encoding: Option<String>,
    /// Run in the client's database (default true); false runs in the user's default database on the
    /// server, as the Python driver's `use_database=False`.
    pub use_database: bool,
    /// Longest time this call may take, retries included (instead of the client's
    /// [`crate::ClientOptions::timeout`]).
    pub timeout: Option<std::time::Duration>,
    /// Return NULLs as their type's default value in `query` results (the Python driver's
    /// `use_none=False`). Default false: NULLs stay `Value::Null`.
    pub nulls_as_defaults: bool,
    /// Stops the call once set (from any thread): its transfer is aborted within about a second and
    /// the call fails with a transport error that says so. What the server does with a query whose
    /// connection went away is the server's (a read-only query ends when it next writes).
    pub cancel: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    /// Sends the call to the client's endpoint number `i` (0: `host`/`port`, then
    /// [`crate::ClientOptions::endpoints`] in order), with no failover: e.g. to ask one node of a
    /// cluster about itself. `None` (the default): chosen by the load balancing (a session's calls go
    /// where its first call went).
    pub endpoint: Option<usize>,
}

impl Default for CallOptions {
    fn default() -> Self {
        CallOptions {
            settings: Vec::new(),
            query_id: None,
            session_id: None,
            database: None,
            on_progress: None,
            params: Vec::new(),
            args: Vec::new(),
            client_side_binding: false,
            use_database: true,
            encoding: None,
            timeout: None,
            nulls_as_defaults: false,
            endpoint: None,
            cancel: None,
        }
    }
}

impl CallOptions {
    /// Stops the call when `flag` is set (see [`CallOptions::cancel`](Self::cancel)).
    pub fn cancel_flag(mut self, flag: std::sync::Arc<std::sync::atomic::AtomicBool>) -> Self {
        self.cancel = Some(flag);
        self
    }
    /// Decodes `query` results' strings from `label`'s encoding (see [`CallOptions::encoding`](Self::encoding)).
    pub fn encoding(mut self, label: impl Into<String>) -> Self {
        self.encoding = Some(label.into());
        self
    }
    /// Whether to run in the client's database (default true; the Python driver's `use_database`).
    pub fn use_database(mut self, yes: bool) -> Self {
        self.use_database = yes;
        self
    }
    /// No options.
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds a ClickHouse setting.
    pub fn setting(mut self, name: impl Into<String>, value: impl ToString) -> Self {
        self.settings.push((name.into(), value.to_string()));
        self
    }
    /// Sets the query id.
    pub fn query_id(mut self, id: impl Into<String>) -> Self {
        self.query_id = Some(id.into());
        self
    }
    /// Sends the call to the client's endpoint number `i`, with no failover.
    pub fn on_endpoint(mut self, i: usize) -> Self {
        self.endpoint = Some(i);
        self
    }
    /// Runs in this session.
    pub fn session(mut self, id: impl Into<String>) -> Self {
        self.session_id = Some(id.into());
        self
    }
    /// Runs in this database.
    pub fn database(mut self, db: impl Into<String>) -> Self {
        self.database = Some(db.into());
        self
    }
    /// Binds a value to the query's `{name:Type}` placeholder (sent as `param_name`; never part of the
    /// SQL text).
    pub fn param(mut self, name: impl Into<String>, value: impl Into<crate::value::Value<'static>>) -> Self {
        self.params.push((name.into(), value.into()));
        self
    }
    /// Adds named parameters, e.g. from [`params!`](crate::params!).
    pub fn params(mut self, params: impl IntoIterator<Item = (String, crate::value::Value<'static>)>) -> Self {
        self.params.extend(params);
        self
    }
    /// Adds one positional parameter for the next `%s`.
    pub fn arg(mut self, value: impl Into<crate::value::Value<'static>>) -> Self {
        self.args.push(value.into());
        self
    }
    /// Adds positional parameters for `%s` placeholders: a tuple, `Vec`, array or slice.
    pub fn args(mut self, values: impl crate::params::IntoArgs) -> Self {
        self.args.extend(values.into_args());
        self
    }
    /// Binds `{name:Type}` placeholders on the client, as `CAST(<literal> AS Type)`.
    pub fn client_side_binding(mut self) -> Self {
        self.client_side_binding = true;
        self
    }
    /// Fails the call (with a timeout [`crate::Error::Transport`]) when it is not over after `t`,
    /// however steadily data moves; retries count against the same deadline.
    pub fn timeout(mut self, t: std::time::Duration) -> Self {
        self.timeout = Some(t);
        self
    }
    /// NULLs become their type's default value in `query` results.
    pub fn nulls_as_defaults(mut self) -> Self {
        self.nulls_as_defaults = true;
        self
    }
    /// Calls `f` with progress while the query runs.
    pub fn on_progress(mut self, f: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        self.on_progress = Some(Arc::new(f));
        self
    }
}

impl fmt::Debug for CallOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallOptions")
            .field("settings", &self.settings)
            .field("query_id", &self.query_id)
            .field("session_id", &self.session_id)
            .field("database", &self.database)
            .field("on_progress", &self.on_progress.is_some())
            .field("params", &self.params)
            .field("args", &self.args)
            .field("client_side_binding", &self.client_side_binding)
            .field("nulls_as_defaults", &self.nulls_as_defaults)
            .field("timeout", &self.timeout)
            .field("use_database", &self.use_database)
            .field("encoding", &self.encoding)
            .finish()
    }
}

/// A query with its options, built once and run as often as needed (the Python driver's
/// `QueryContext`): `client.query_with(&ctx.sql, &ctx.options)`, or [`QueryContext::run`].
#[derive(Clone, Debug)]
pub struct QueryContext {
    /// The SQL.
    pub sql: String,
    /// Settings, session, database, progress, `nulls_as_defaults`.
    pub options: CallOptions,
}

impl QueryContext {
    /// A context for `sql` with default options.
    pub fn new(sql: impl Into<String>) -> Self {
        QueryContext { sql: sql.into(), options: CallOptions::default() }
    }

    /// The same context with other options.
    pub fn with_options(mut self, options: CallOptions) -> Self {
        self.options = options;
        self
    }

    /// Runs the query on `client`.
    pub fn run(&self, client: &super::Client) -> crate::error::Result<super::QueryResult> {
        client.query_with(&self.sql, &self.options)
    }
}
