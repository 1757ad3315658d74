//! Pull-based streaming: `Client::query_stream` returns an `Iterator` of owned rows, and
//! `Client::query_block_stream` one of decoded blocks ([`OwnedBlock`]s, for rows borrowed from them
//! on the consumer's thread while the worker receives and decodes the next block).
//!
//! The query runs on a worker thread through the ordinary block path; each decoded block is turned
//! into owned rows and handed over through a channel with room for one block. When the consumer is
//! slower than the network, the worker waits inside libcurl's write callback, libcurl stops reading the
//! socket and TCP flow control slows the server: memory stays at about two blocks, never the response.
//! Dropping the stream before the end makes the worker's next hand-over fail, which aborts the transfer
//! and so cancels the query on the server.
//!
//! ```no_run
//! # use std::sync::Arc;
//! # use clickhouse_connect::{Client, CallOptions};
//! let client = Arc::new(Client::from_url("http://localhost:8123")?);
//! for row in client.query_stream("SELECT number FROM numbers(10)", &CallOptions::new())? {
//!     let row = row?;
//!     println!("{:?}", row[0]);
//! }
//! # Ok::<(), clickhouse_connect::Error>(())
//! ```

use super::{CallOptions, Client};
use crate::error::{Error, Result};
use crate::native::OwnedBlock;
use crate::value::Value;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, sync_channel};
use std::thread::JoinHandle;

/// One row of owned values.
pub type Row = Vec<Value<'static>>;

/// An iterator over a query's rows; see the module docs. Rows are [`Row`]s of values from
/// [`Client::query_stream`], or `T`s from `Client::query_as_stream` (feature `serde`); or its blocks
/// ([`OwnedBlock`]s) from [`Client::query_block_stream`].
pub struct RowStream<T = Row> {
    rx: Option<Receiver<Result<Vec<T>>>>,
    batch: std::vec::IntoIter<T>,
    worker: Option<JoinHandle<()>>,
    /// Set when the stream is dropped before its end: the worker's transfer stops at once, even while
    /// it waits for the server.
    cancel: Arc<std::sync::atomic::AtomicBool>,
    /// The client and the query's id, to stop the query on the server when the stream is dropped
    /// before its end (a query that is not writing does not notice its connection went away).
    client: Arc<Client>,
    query_id: String,
}

const STOPPED: &str = "row stream dropped by its consumer";

impl Client {
    /// Runs `sql` and returns its rows as an iterator (the query runs on a worker thread, at most about
    /// two blocks ahead of the consumer).
    pub fn query_stream(self: &Arc<Self>, sql: &str, opts: &CallOptions) -> Result<RowStream> {
        self.stream_rows(sql, opts, |block, _| {
            ((0..block.rows()).map(|r| block.row(r).into_iter().map(Value::into_owned).collect()).collect(), Ok(()))
        })
    }

    /// Runs `sql` and returns its blocks as an iterator of [`OwnedBlock`]s, received and decoded on a
    /// worker thread (at most about two blocks ahead): reading the rows of one block — with
    /// [`crate::native::Block::rows_as`] into borrowing structs, say — overlaps with receiving and
    /// decoding the next, so the wall time is the larger of the two rather than their sum. A dropped
    /// block's columns are reused for a later one. Dropping the stream early cancels the query.
    ///
    /// ```no_run
    /// # use std::sync::Arc;
    /// # use clickhouse_connect::{Client, CallOptions};
    /// #[derive(serde::Deserialize)]
    /// struct Row<'a> { n: u64, s: &'a str }
    /// let client = Arc::new(Client::from_url("http://localhost:8123")?);
    /// let sql = "SELECT number AS n, toString(number) AS s FROM numbers(10)";
    /// for block in client.query_block_stream(sql, &CallOptions::new())? {
    ///     let block = block?;
    ///     for row in block.block().rows_as::<Row>() {
    ///         let row = row?;
    ///         println!("{} {}", row.n, row.s);
    ///     }
    /// }
    /// # Ok::<(), clickhouse_connect::Error>(())
    /// ```
    pub fn query_block_stream(self: &Arc<Self>, sql: &str, opts: &CallOptions) -> Result<RowStream<OwnedBlock>> {
        self.spawn_stream(sql, opts, |client, sql, opts, send| {
            client.query_owned_blocks_with(sql, opts, |block| send(vec![block])).map(drop)
        })
    }

    /// Runs `sql` on a worker thread that turns each block into rows with `convert` (given the block
    /// and the number of rows before it) and hands them over. `convert` gives the rows it made and how
    /// it ended: rows made before a failure are handed over before the failure.
    pub(crate) fn stream_rows<T: Send + 'static>(
        self: &Arc<Self>,
        sql: &str,
        opts: &CallOptions,
        convert: impl Fn(&crate::native::Block<'_>, u64) -> (Vec<T>, Result<()>) + Send + 'static,
    ) -> Result<RowStream<T>> {
        self.spawn_stream(sql, opts, move |client, sql, opts, send| {
            let mut before = 0u64;
            client
                .query_blocks_with(sql, opts, |block| {
                    let (rows, ended) = convert(block, before);
                    before += block.rows() as u64;
                    if !rows.is_empty() {
                        send(rows)?;
                    }
                    ended
                })
                .map(drop)
        })
    }

    /// Runs `fetch` (the query's request, handing over what it makes through `send`) on a worker
    /// thread, behind a channel with room for one hand-over.
    fn spawn_stream<T: Send + 'static>(
        self: &Arc<Self>,
        sql: &str,
        opts: &CallOptions,
        fetch: impl FnOnce(&Client, &str, &CallOptions, &mut dyn FnMut(Vec<T>) -> Result<()>) -> Result<()> + Send + 'static,
    ) -> Result<RowStream<T>> {
        super::only_query_decodes(opts)?;
        let (tx, rx) = sync_channel::<Result<Vec<T>>>(1);
        let client = self.clone();
        let sql = sql.to_string();
        let cancel = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut opts = opts.clone().cancel_flag(cancel.clone());
        let query_id = opts.query_id.get_or_insert_with(super::statement::new_query_id).clone();
        let owner = self.clone();
        let consumer = std::thread::current().id();
        let worker = std::thread::Builder::new()
            .name("clickhouse-row-stream".into())
            .spawn(move || {
                // The query holds its session for the thread that reads the rows: that thread's own
                // calls in the session meanwhile must not wait for it (they would wait forever).
                super::session::act_for(consumer);
                let result =
                    fetch(&client, &sql, &opts, &mut |items| tx.send(Ok(items)).map_err(|_| Error::usage(STOPPED)));
                if let Err(e) = result {
                    if !matches!(&e, Error::Usage(m) if m == STOPPED) {
                        let _ = tx.send(Err(e));
                    }
                }
            })
            .map_err(|e| Error::resource(format!("cannot start the stream thread: {e}")))?;
        Ok(RowStream {
            rx: Some(rx),
            batch: Vec::new().into_iter(),
            worker: Some(worker),
            cancel,
            client: owner,
            query_id,
        })
    }
}

impl<T> Iterator for RowStream<T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        loop {
            if let Some(row) = self.batch.next() {
                return Some(Ok(row));
            }
            match self.rx.as_ref()?.recv() {
                Ok(Ok(rows)) => self.batch = rows.into_iter(),
                Ok(Err(e)) => {
                    self.finish();
                    return Some(Err(e));
                }
                // The worker finished: the query is complete — unless the worker panicked (in a
                // `Deserialize`, say), which must not look like the end of the rows.
                Err(_) => {
                    if self.finish() {
                        return Some(Err(Error::internal(
                            "the stream's worker thread panicked (in the conversion of a row, or a bug here); \
                             the rows after those returned were not read",
                        )));
                    }
                    return None;
                }
            }
        }
    }
}

impl<T> RowStream<T> {
    /// Ends the stream; whether its worker panicked.
    fn finish(&mut self) -> bool {
        self.rx = None;
        match self.worker.take() {
            Some(w) => w.join().is_err(),
            None => false,
        }
    }
}

impl<T> Drop for RowStream<T> {
    fn drop(&mut self) {
        // The cancel flag stops the worker's transfer within about a second even while the server
        // sends nothing; closing the channel makes its next hand-over fail. Either way the worker ends
        // soon, and is waited for (it holds the session's turn until then).
        let early = self.worker.is_some();
        if early {
            self.cancel.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        self.finish();
        if early {
            // Best effort, outside any session (the server checks who may kill what).
            let id = self.query_id.replace('\\', "\\\\").replace('\'', "\\'");
            // The worker's endpoint is not known here: with several, each is asked (the id is unique).
            for endpoint in 0..self.client.endpoints().len() {
                let opts = CallOptions {
                    // Outside the client's session too: the stream's query may still hold it.
                    session_id: Some(String::new()),
                    timeout: Some(std::time::Duration::from_secs(5)),
                    endpoint: Some(endpoint),
                    ..CallOptions::default()
                };
                let _ = self.client.command_with(&format!("KILL QUERY WHERE query_id = '{id}' ASYNC"), &opts);
            }
        }
    }
}
