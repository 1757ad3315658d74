//! The async streaming insert: the blocking [`Inserter`]'s encoding, checks and bookkeeping, with its
//! request run as a job of the I/O thread whose body is a queue of encoded blocks. A write waits
//! (asynchronously) while two blocks are queued unsent, so memory stays at a few blocks; `end` waits
//! for the server's answer without blocking a thread.

use crate::client::session::SessionTurn;
use crate::client::{Client, InsertSummary, Inserter};
use crate::error::Result;
use crate::transport::driver::{BodyQueue, JobBody, JobSink, OwnedRequest, Resumer, url_of};
use crate::transport::{ResponseMeta, Transport};
use crate::value::Value;
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll, Waker};

/// Blocks queued unsent before a write waits.
const QUEUED_BLOCKS: usize = 2;

/// A result set on the I/O thread, awaited by a task or waited for by a thread.
struct Outcome {
    value: Mutex<(Option<Result<ResponseMeta>>, Option<Waker>)>,
    set: Condvar,
}

/// The request of an async insert on the I/O thread.
pub(crate) struct InsertJob {
    queue: Arc<BodyQueue>,
    resumer: Resumer,
    outcome: Arc<Outcome>,
}

struct InsertSink {
    outcome: Arc<Outcome>,
    /// The session's turn, given back when the request ends.
    _turn: Option<SessionTurn>,
}

impl JobSink for InsertSink {
    fn ready(&mut self) -> bool {
        true
    }
    fn data(&mut self, _bytes: &[u8]) -> Result<()> {
        Ok(())
    }
    fn done(self: Box<Self>, result: Result<ResponseMeta>) {
        let InsertSink { outcome, _turn } = *self;
        // The session's turn goes back before anyone learns the request ended, so that a call made
        // right after `end` finds the session free.
        drop(_turn);
        let waker = {
            let mut v = outcome.value.lock().unwrap_or_else(|e| e.into_inner());
            v.0 = Some(result);
            v.1.take()
        };
        outcome.set.notify_all();
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl InsertJob {
    /// Starts the request; its body is written with [`InsertJob::push`].
    pub(crate) fn start(transport: &Transport, req: OwnedRequest, turn: Option<SessionTurn>) -> Result<InsertJob> {
        let driver = transport.driver()?;
        let queue = Arc::new(BodyQueue::default());
        let outcome = Arc::new(Outcome { value: Mutex::new((None, None)), set: Condvar::new() });
        let resumer = driver.resumer();
        let url = url_of(transport, req.endpoint, &req.params);
        let sink = InsertSink { outcome: outcome.clone(), _turn: turn };
        driver.submit(&resumer, url, req, JobBody::Stream(queue.clone()), Box::new(sink));
        Ok(InsertJob { queue, resumer, outcome })
    }

    /// Queues an encoded block; false when the request is already over.
    pub(crate) fn push(&self, block: Vec<u8>) -> bool {
        self.queue.push(block, &self.resumer)
    }

    /// Ends the body.
    pub(crate) fn end(&self) {
        self.queue.end(&self.resumer);
    }

    /// The server's answer, waiting for it on this thread (the async inserter has awaited it first).
    pub(crate) fn wait(self) -> Result<ResponseMeta> {
        let mut v = self.outcome.value.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(r) = v.0.take() {
                return r;
            }
            v = self.outcome.set.wait(v).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// What a task awaits on, apart from the inserter (so its futures need no `Sync` inserter).
    fn waiter(&self) -> Waiter {
        Waiter { queue: self.queue.clone(), outcome: self.outcome.clone() }
    }
}

/// The request's queue and answer, awaited by the async inserter.
struct Waiter {
    queue: Arc<BodyQueue>,
    outcome: Arc<Outcome>,
}

impl Waiter {
    fn poll_room(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.queue.has_room(QUEUED_BLOCKS, cx.waker()) { Poll::Ready(()) } else { Poll::Pending }
    }

    fn poll_answered(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut v = self.outcome.value.lock().unwrap_or_else(|e| e.into_inner());
        if v.0.is_some() {
            return Poll::Ready(());
        }
        v.1 = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// Waits while the request in flight has blocks queued unsent.
pub(crate) fn room(ins: &Inserter) -> impl std::future::Future<Output = ()> + Send + 'static {
    // The future holds the request's queue, not the inserter (whose futures then need no `Sync`).
    let w = ins.job().map(InsertJob::waiter);
    std::future::poll_fn(move |cx| w.as_ref().map_or(Poll::Ready(()), |w| w.poll_room(cx)))
}

/// Sends what is left, ends the body and waits for the server's answer, so that the blocking `end`
/// that follows finds it without waiting.
pub(crate) async fn answered(ins: &mut Inserter) -> Result<()> {
    room(ins).await;
    ins.flush()?;
    ins.end_body()?;
    let Some(w) = ins.job().map(InsertJob::waiter) else { return Ok(()) };
    std::future::poll_fn(|cx| w.poll_answered(cx)).await;
    Ok(())
}

/// A streaming insert for async code ([`crate::AsyncClient::inserter`]): the [`Inserter`]'s rules
/// (values checked per row, a bad row taken back whole, blocks of `block_rows`), one request for the
/// whole insert, run by the client's I/O thread. Exactly-once mode and request limits are not offered
/// here yet (they need retries that pause): use the blocking [`Inserter`] for them.
///
/// Dropping it before [`AsyncInserter::end`] abandons the insert: the body is cut with bytes that
/// cannot parse, so the server rejects the last block instead of committing part of it.
pub struct AsyncInserter {
    inner: Inserter,
}

impl AsyncInserter {
    pub(super) fn new(
        client: Arc<Client>,
        table: &str,
        column_names: &[&str],
        block_rows: usize,
        opts: &crate::CallOptions,
    ) -> Result<AsyncInserter> {
        let block_rows = if block_rows == 0 { 65_536 } else { block_rows };
        let mut inner = client.inserter_with(table, column_names, block_rows, opts)?;
        inner.use_driver()?;
        Ok(AsyncInserter { inner })
    }

    /// Appends one row ([`Inserter::write`]); waits while the request has blocks queued unsent.
    pub async fn write(&mut self, row: &[Value<'_>]) -> Result<()> {
        room(&self.inner).await;
        self.inner.write(row)
    }

    /// Appends rows given column by column ([`Inserter::write_columns`]).
    pub async fn write_columns(&mut self, columns: &[&[Value<'_>]]) -> Result<()> {
        room(&self.inner).await;
        self.inner.write_columns(columns)
    }

    /// Sends the rows written so far as one block.
    pub async fn flush(&mut self) -> Result<()> {
        room(&self.inner).await;
        self.inner.flush()
    }

    /// Sends what is left and waits for the server to acknowledge the whole insert.
    pub async fn end(mut self) -> Result<InsertSummary> {
        // A failure here has finished the insert; the blocking `end` reports it with the insert's counts.
        let _ = answered(&mut self.inner).await;
        self.inner.end()
    }

    /// Rows the server has acknowledged so far.
    pub fn acknowledged_rows(&self) -> u64 {
        self.inner.acknowledged_rows()
    }

    /// The columns being inserted, with their types.
    pub fn columns(&self) -> &[(String, String)] {
        self.inner.columns()
    }

    /// The blocking inserter underneath (for the typed insert of `row`).
    pub(crate) fn into_inner(self) -> Inserter {
        self.inner
    }
}
