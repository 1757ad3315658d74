//! The async client: [`AsyncClient`], the same client for async code (tokio, async-std, any executor).
//!
//! It is a [`Client`] underneath — the same options, request rules (parameters, settings a readonly
//! user may not change, compression, retries of read-only statements, query ids, sessions, deadlines,
//! the server's exceptions) and codec. What differs is who moves the bytes: every transfer of a client
//! runs on **one I/O thread** that drives libcurl's multi interface (`curl_multi_poll`), so a thousand
//! concurrent queries take one thread, not a thousand. Responses are decoded on that thread as they
//! arrive (one copy, as on the blocking path) and handed to the awaiting task; a stream that is not read
//! pauses its transfer (`curl_easy_pause`) after a few blocks, so memory stays bounded.
//!
//! Memory is bounded by the consumer for plain responses and for the compression the client decodes
//! itself — ClickHouse frames (`Compression::Lz4`, `Compression::Zstd`) and `Http(Lz4)`: a compressed
//! chunk is decoded frame by frame while the consumer has room, the rest kept (at most one network
//! chunk) until it has. The HTTP encodings libcurl decodes (`Http(Gzip | Deflate | Br | Zstd)`) are never
//! paused, because libcurl would have to hold the rest of a chunk's decoded output, which for highly
//! compressible data is unbounded: with those, a slow consumer's memory follows the server's pace.
//!
//! Callbacks (`CallOptions::on_progress`) run on the I/O thread: a slow one holds up every transfer of
//! the client (their stall timers account for it), a panicking one fails its own call only.
//!
//! Nothing here needs a particular runtime: futures are woken from the I/O thread through their
//! `Waker`s, and the pause between retries is a timer of the I/O thread.
//!
//! Dropping a future or a [`BlockStream`] before it ends stops its transfer (the server stops a query
//! whose connection went away when it next writes); a stream also sends `KILL QUERY` for its query id.
//!
//! ```no_run
//! # async fn demo() -> clickhouse_connect::Result<()> {
//! use clickhouse_connect::AsyncClient;
//! use futures_util::StreamExt;
//!
//! let client = AsyncClient::from_url("http://localhost:8123").await?;
//! let n = client.command("SELECT count() FROM system.tables").await?;
//! let result = client.query("SELECT number, toString(number) FROM numbers(10)").await?;
//! assert_eq!(result.rows.len(), 10);
//! let mut blocks = client.query_blocks("SELECT number FROM numbers(1000000)");
//! while let Some(block) = blocks.next().await {
//!     let block = block?;
//!     let _ = block.rows();
//! }
//! # let _ = n;
//! # Ok(())
//! # }
//! ```

pub(crate) mod inserter;
pub(crate) mod stream;
mod wait;

pub use inserter::AsyncInserter;
pub(crate) use inserter::InsertJob;
pub use stream::BlockStream;
pub(crate) use wait::Latch;

use super::insert::block_request;
use super::session::SessionTurn;
use super::{CallOptions, Client, ClientOptions, CommandResult, Fetch, QueryPlan, QueryResult, RowCollector};
use crate::error::{Error, Result};
use crate::native::ColumnEncoder;
use crate::transport::ResponseMeta;
use crate::transport::driver::{JobBody, JobSink, OwnedRequest, Resumer, url_of};
use crate::value::Value;
use std::sync::Arc;
use stream::BytesSink;
use wait::{Slot, sleep};

/// A ClickHouse client for async code. Cheap to clone (an `Arc`); `Send + Sync`.
#[derive(Clone)]
pub struct AsyncClient {
    client: Arc<Client>,
}

impl std::fmt::Debug for AsyncClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncClient").field("client", &self.client).finish()
    }
}

impl AsyncClient {
    /// Connects (see [`Client::new`]): the connect queries run on a short-lived thread of their own,
    /// so the awaiting task never blocks.
    pub async fn connect(options: ClientOptions) -> Result<AsyncClient> {
        let slot = Slot::new();
        let tx = slot.clone();
        std::thread::Builder::new()
            .name("clickhouse-connect-connect".into())
            .spawn(move || tx.set(Client::new(options).and_then(AsyncClient::from_client)))
            .map_err(|e| Error::usage(format!("cannot start the connect thread: {e}")))?;
        slot.await
    }

    /// Connects to `http(s)://user:password@host:port/database?setting=value`.
    pub async fn from_url(url: &str) -> Result<AsyncClient> {
        AsyncClient::connect(ClientOptions::from_url(url)?).await
    }

    /// The async face of a connected blocking client (both share one core). Blocks once to learn which
    /// settings the user may not change, so that no async call ever has to.
    pub fn from_client(client: Client) -> Result<AsyncClient> {
        client.readonly_settings()?;
        Ok(AsyncClient { client: Arc::new(client) })
    }

    /// The blocking client underneath: the same connection settings and caches.
    pub fn blocking(&self) -> &Client {
        &self.client
    }

    /// Transfers the I/O thread runs now (for diagnostics).
    pub fn running_transfers(&self) -> usize {
        self.client.transport.driver().map_or(0, |d| d.running())
    }

    /// [`Client::command`].
    pub async fn command(&self, sql: &str) -> Result<CommandResult> {
        self.command_with(sql, &CallOptions::default()).await
    }

    /// [`Client::command_with`].
    pub async fn command_with(&self, sql: &str, opts: &CallOptions) -> Result<CommandResult> {
        super::only_query_decodes(opts)?;
        let mut extra = vec![("default_format", "TabSeparatedWithNamesAndTypes")];
        if self.client.options.send_progress {
            extra.push(("wait_end_of_query", "1"));
        }
        let (body, meta) = self.post_bytes(sql, opts, &extra, 0).await?;
        Ok(self.client.command_result(&body, meta))
    }

    /// [`Client::raw_query`].
    pub async fn raw_query(&self, sql: &str, format: Option<&str>) -> Result<Vec<u8>> {
        self.raw_query_with(sql, format, &CallOptions::default()).await
    }

    /// [`Client::raw_query_with`]. Retried like queries.
    pub async fn raw_query_with(&self, sql: &str, format: Option<&str>, opts: &CallOptions) -> Result<Vec<u8>> {
        super::only_query_decodes(opts)?;
        let extra: Vec<(&str, &str)> = format.map(|f| ("default_format", f)).into_iter().collect();
        Ok(self.post_bytes(sql, opts, &extra, self.client.options.query_retries).await?.0)
    }

    /// [`Client::query`].
    pub async fn query(&self, sql: &str) -> Result<QueryResult> {
        self.query_with(sql, &CallOptions::default()).await
    }

    /// [`Client::query_with`].
    pub async fn query_with(&self, sql: &str, opts: &CallOptions) -> Result<QueryResult> {
        let mut rows = RowCollector::new(opts)?;
        let stream = BlockStream::open(self, sql, opts, true, Fetch::Whole);
        let meta = stream::collect(stream, |b| rows.add(&b.block())).await?;
        Ok(rows.finish(meta, self.client.options.query_limit))
    }

    /// The blocks of a user query whose whole result is collected (`query`, `query_as`).
    pub(crate) fn whole(&self, sql: &str, opts: &CallOptions) -> BlockStream {
        BlockStream::open(self, sql, opts, true, Fetch::Whole)
    }

    /// A query's result as a stream of blocks ([`Client::query_blocks`]).
    pub fn query_blocks(&self, sql: &str) -> BlockStream {
        self.query_blocks_with(sql, &CallOptions::default())
    }

    /// [`AsyncClient::query_blocks`] with per-call options.
    pub fn query_blocks_with(&self, sql: &str, opts: &CallOptions) -> BlockStream {
        BlockStream::open(self, sql, opts, true, Fetch::Stream)
    }

    /// [`Client::insert`]: rows of values, checked against the table's types before anything is sent.
    pub async fn insert(&self, table: &str, column_names: &[&str], rows: &[Vec<Value<'_>>]) -> Result<()> {
        self.insert_with(table, column_names, rows, &CallOptions::default()).await
    }

    /// [`Client::insert_with`].
    pub async fn insert_with(
        &self,
        table: &str,
        column_names: &[&str],
        rows: &[Vec<Value<'_>>],
        opts: &CallOptions,
    ) -> Result<()> {
        let c = &self.client;
        self.learn_columns(table, opts).await?;
        let (columns, described) = c.insert_columns_described(table, column_names, opts)?;
        let builders = c.encode_rows(&columns, rows, opts)?;
        let strict = c.strict_types_params(&columns, &described, opts)?;
        self.send_encoded(table, &columns, builders, opts, &strict).await
    }

    /// [`Client::insert_columns_with`]: column-oriented values (`data[i]` holds column `i`'s values).
    pub async fn insert_columns_with(
        &self,
        table: &str,
        column_names: &[&str],
        data: &[Vec<Value<'_>>],
        opts: &CallOptions,
    ) -> Result<()> {
        let c = &self.client;
        self.learn_columns(table, opts).await?;
        let (columns, described) = c.insert_columns_described(table, column_names, opts)?;
        let builders = c.encode_columns(&columns, data, opts)?;
        let strict = c.strict_types_params(&columns, &described, opts)?;
        self.send_encoded(table, &columns, builders, opts, &strict).await
    }

    /// [`Client::insert_with_types_with`]: rows with the column types given (no `DESCRIBE`).
    pub async fn insert_with_types_with(
        &self,
        table: &str,
        columns: &[(&str, &str)],
        rows: &[Vec<Value<'_>>],
        opts: &CallOptions,
    ) -> Result<()> {
        let columns: Vec<(String, String)> = columns.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect();
        let builders = self.client.encode_rows(&columns, rows, opts)?;
        self.send_encoded(table, &columns, builders, opts, &[]).await
    }

    /// [`Client::command_with_data`]: a statement with `data` as the request body (e.g. `INSERT INTO t
    /// FORMAT CSV` with CSV bytes); the SQL travels as the `query` URL parameter.
    pub async fn command_with_data(&self, sql: &str, data: &[u8], opts: &CallOptions) -> Result<CommandResult> {
        let more = [("default_format", "TabSeparatedWithNamesAndTypes")];
        let (body, meta) = self.post_body_more(sql, data, opts, &more).await?;
        Ok(self.client.command_result(&body, meta))
    }

    /// Sends encoded builders as one Native block; a server error forgets the table's cached columns
    /// (it may have changed).
    async fn send_encoded(
        &self,
        table: &str,
        columns: &[(String, String)],
        builders: Vec<Box<dyn crate::native::ValueBuilder>>,
        opts: &CallOptions,
        strict: &[(&str, &str)],
    ) -> Result<()> {
        let prepared = {
            let named: Vec<(&str, &dyn ColumnEncoder)> = columns
                .iter()
                .zip(&builders)
                .map(|((n, _), b)| (n.as_str(), b.as_ref() as &dyn ColumnEncoder))
                .collect();
            block_request(table, &named)?
        };
        drop(builders);
        let sent = self.post_body_more(&prepared.0, &prepared.1, opts, strict).await.map(|_| ());
        if sent.as_ref().is_err_and(|e| e.server_code().is_some()) {
            self.client.forget_columns_for(table, opts);
        }
        sent
    }

    /// [`Client::insert_block_with`]: one Native block from column builders (encoded before the
    /// returned future is first polled).
    pub fn insert_block_with<'a>(
        &'a self,
        table: &str,
        columns: &[(&str, &dyn ColumnEncoder)],
        opts: &'a CallOptions,
    ) -> impl std::future::Future<Output = Result<()>> + Send + 'a {
        let prepared = block_request(table, columns);
        async move {
            let (sql, body) = prepared?;
            self.post_body(&sql, &body, opts).await.map(|_| ())
        }
    }

    /// [`Client::raw_insert_with`]: `data`, already in `format`, as the body.
    pub async fn raw_insert_with(
        &self,
        table: &str,
        column_names: &[&str],
        format: &str,
        data: &[u8],
        opts: &CallOptions,
    ) -> Result<()> {
        let sql = super::insert::raw_insert_sql(table, column_names, format);
        self.post_body(&sql, data, opts).await.map(|_| ())
    }

    /// A streaming insert ([`Client::inserter`]): rows are encoded into Native blocks of `block_rows`
    /// (0: the default) and sent on one request while more are written; `end` finishes it.
    pub async fn inserter(&self, table: &str, column_names: &[&str], block_rows: usize) -> Result<AsyncInserter> {
        self.inserter_with(table, column_names, block_rows, &CallOptions::default()).await
    }

    /// [`AsyncClient::inserter`] with per-call options.
    pub async fn inserter_with(
        &self,
        table: &str,
        column_names: &[&str],
        block_rows: usize,
        opts: &CallOptions,
    ) -> Result<AsyncInserter> {
        self.learn_columns(table, opts).await?;
        AsyncInserter::new(self.client.clone(), table, column_names, block_rows, opts)
    }

    /// Describes the table's columns for the insert about to run (one `DESCRIBE TABLE`, never a
    /// description kept from an earlier insert: see `Client::insert_columns_described`).
    async fn learn_columns(&self, table: &str, opts: &CallOptions) -> Result<()> {
        let c = &self.client;
        let (sql, where_) = c.describe_call(table, opts);
        let mut cols = Vec::new();
        let stream = BlockStream::open(self, &sql, &where_, false, Fetch::Whole);
        stream::collect(stream, |b| {
            c.describe_rows(&b.block(), &mut cols);
            Ok(())
        })
        .await?;
        c.cache_columns(table, opts, cols)
    }

    /// POSTs a query, collecting the whole response; retried as [`Client`] retries.
    async fn post_bytes(
        &self,
        sql: &str,
        opts: &CallOptions,
        extra: &[(&str, &str)],
        retries: u32,
    ) -> Result<(Vec<u8>, ResponseMeta)> {
        let c = &self.client;
        // A query id known here, so that a dropped call can be killed on the server.
        let mut opts = opts.clone();
        let query_id = c.ensure_query_id(&mut opts);
        let opts = &opts;
        kill_done(c, Some(&query_id)).await;
        let mut plan = c.plan_query(sql, opts, extra, retries)?;
        let _turn = session_turn(c, opts, false).await?;
        let driver = c.transport.driver()?;
        loop {
            let slot = Slot::new();
            let sink = BytesSink { bytes: Vec::new(), slot: slot.clone() };
            let body = JobBody::Whole(plan.sql.clone().into_bytes());
            let resumer = submit(c, &plan, opts, body, Box::new(sink))?;
            let guard = CancelOnDrop {
                running: Some(resumer),
                client: c,
                query_id: Some(&query_id),
                endpoint: plan.route.endpoint,
            };
            let (bytes, result) = slot.await;
            guard.disarm();
            match result {
                Ok(meta) => {
                    plan.route.confirm();
                    return Ok((bytes, plan.answered(meta)));
                }
                Err(e) => {
                    let pause = c.after_failure(&mut plan, e, !bytes.is_empty())?;
                    sleep(driver, pause).await;
                }
            }
        }
    }

    /// POSTs a body (an insert); never retried.
    async fn post_body(&self, sql: &str, data: &[u8], opts: &CallOptions) -> Result<(Vec<u8>, ResponseMeta)> {
        self.post_body_more(sql, data, opts, &[]).await
    }

    /// [`AsyncClient::post_body`] with more URL parameters.
    async fn post_body_more(
        &self,
        sql: &str,
        data: &[u8],
        opts: &CallOptions,
        more: &[(&str, &str)],
    ) -> Result<(Vec<u8>, ResponseMeta)> {
        let c = &self.client;
        kill_done(c, c.given_query_id(opts).as_deref()).await;
        let mut plan = c.plan_body(sql, data, opts, more)?;
        let _turn = session_turn(c, opts, false).await?;
        let body = plan.body.into_owned();
        loop {
            let slot = Slot::new();
            let sink = BytesSink { bytes: Vec::new(), slot: slot.clone() };
            let req = OwnedRequest {
                params: plan.params.clone(),
                headers: plan.headers.clone(),
                accept_encoding: None,
                progress: opts.on_progress.clone(),
                decoding: crate::transport::BodyDecoding::Plain,
                deadline: plan.deadline,
                cancel: opts.cancel.clone(),
                endpoint: Some(plan.route.endpoint),
                fail_over: false,
            };
            let resumer = submit_request(c, req, JobBody::Whole(body.clone()), Box::new(sink))?;
            // An insert dropped early is cut off (its body is whole, so the server may have it all).
            let guard =
                CancelOnDrop { running: Some(resumer), client: c, query_id: None, endpoint: plan.route.endpoint };
            let (bytes, result) = slot.await;
            guard.disarm();
            match result {
                Ok(meta) => {
                    plan.route.confirm();
                    return Ok((bytes, meta));
                }
                Err(e) => c.after_body_failure(&mut plan.route, e)?,
            }
        }
    }
}

/// Cancels a transfer when the future awaiting it is dropped first, and kills its query on the server.
struct CancelOnDrop<'a> {
    running: Option<Resumer>,
    client: &'a Client,
    query_id: Option<&'a str>,
    /// Where the call went (the kill goes there too).
    endpoint: usize,
}

impl CancelOnDrop<'_> {
    fn disarm(mut self) {
        self.running = None;
    }
}

impl Drop for CancelOnDrop<'_> {
    fn drop(&mut self) {
        if let Some(r) = self.running.take() {
            r.cancel();
            if let Some(id) = self.query_id {
                kill_query(self.client, id, Some(self.endpoint));
            }
        }
    }
}

/// Starts one attempt of a planned query on the I/O thread.
fn submit(c: &Client, plan: &QueryPlan, opts: &CallOptions, body: JobBody, sink: Box<dyn JobSink>) -> Result<Resumer> {
    let req = OwnedRequest {
        params: plan.params.clone(),
        headers: plan.headers.clone(),
        accept_encoding: plan.accept,
        progress: opts.on_progress.clone(),
        decoding: plan.decoding,
        deadline: plan.deadline,
        cancel: opts.cancel.clone(),
        endpoint: Some(plan.route.endpoint),
        fail_over: false,
    };
    submit_request(c, req, body, sink)
}

fn submit_request(c: &Client, req: OwnedRequest, body: JobBody, sink: Box<dyn JobSink>) -> Result<Resumer> {
    let driver = c.transport.driver()?;
    let resumer = driver.resumer();
    let url = url_of(&c.transport, req.endpoint, &req.params);
    driver.submit(&resumer, url, req, body, sink);
    Ok(resumer)
}

/// The call's turn in its session (none outside sessions); `stream`: held by a block stream.
async fn session_turn(c: &Client, opts: &CallOptions, stream: bool) -> Result<Option<SessionTurn>> {
    let Some((id, lock)) = c.session_lock(opts) else { return Ok(None) };
    std::future::poll_fn(|cx| lock.poll_take(&id, stream, cx)).await.map(Some)
}

/// Best effort: `KILL QUERY … ASYNC` for a stream or call dropped early, outside any session; nobody
/// waits for it but a later call under the same query id (see [`kill_done`]), which it could otherwise
/// stop.
fn kill_query(c: &Client, query_id: &str, endpoint: Option<usize>) {
    let id = query_id.replace('\\', "\\\\").replace('\'', "\\'");
    // Outside any session, the client's included (the query being killed may still hold it).
    let opts = CallOptions {
        session_id: Some(String::new()),
        timeout: Some(std::time::Duration::from_secs(5)),
        // Where the query runs.
        endpoint,
        ..CallOptions::default()
    };
    let Ok(plan) = c.plan_query(&format!("KILL QUERY WHERE query_id = '{id}' ASYNC"), &opts, &[], 0) else { return };
    let latch = Arc::new(Latch::default());
    c.killing.lock().unwrap_or_else(|e| e.into_inner()).insert(query_id.to_string(), latch.clone());
    let sink = KillSink { killing: c.killing.clone(), query_id: query_id.to_string(), latch };
    let body = JobBody::Whole(plan.sql.clone().into_bytes());
    let _ = submit(c, &plan, &opts, body, Box::new(sink));
}

/// Waits while a `KILL QUERY` of an earlier call under `query_id` is in flight.
async fn kill_done(c: &Client, query_id: Option<&str>) {
    let Some(id) = query_id else { return };
    let pending = c.killing.lock().unwrap_or_else(|e| e.into_inner()).get(id).cloned();
    if let Some(latch) = pending {
        latch.wait().await;
    }
}

/// Ends a kill's wait when its request is over, whatever its outcome.
struct KillSink {
    /// The client's kills in flight.
    killing: Arc<std::sync::Mutex<std::collections::HashMap<String, Arc<Latch>>>>,
    query_id: String,
    latch: Arc<Latch>,
}

impl JobSink for KillSink {
    fn ready(&mut self) -> bool {
        true
    }
    fn data(&mut self, _bytes: &[u8]) -> Result<()> {
        Ok(())
    }
    fn done(self: Box<Self>, _result: Result<ResponseMeta>) {
        let mut map = self.killing.lock().unwrap_or_else(|e| e.into_inner());
        if map.get(&self.query_id).is_some_and(|l| Arc::ptr_eq(l, &self.latch)) {
            map.remove(&self.query_id);
        }
        drop(map);
        self.latch.set();
    }
}
