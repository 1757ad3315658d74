//! A query's blocks as a [`Stream`]: decoded on the I/O thread into [`OwnedBlock`]s and queued (a few
//! at most: the transfer pauses while the consumer is behind), handed out as the consumer polls.

use super::wait::{Slot, sleep};
use super::{AsyncClient, kill_query, submit};
use crate::client::session::SessionTurn;
use crate::client::{CallOptions, Client, Fetch, LIMIT_REACHED, NativeSetup};
use crate::error::{Error, Result};
use crate::native::{BlockDecoder, OwnedBlock};
use crate::transport::driver::{JobBody, JobSink, Resumer};
use crate::transport::{ResponseMeta, StreamEnd, appended_exception};
use futures_core::Stream;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

/// Blocks decoded ahead of the consumer before the transfer pauses.
const QUEUED_BLOCKS: usize = 4;

/// What the I/O thread and the consumer of one attempt share.
#[derive(Default)]
struct Shared {
    blocks: VecDeque<OwnedBlock>,
    /// The attempt's end (after its last block).
    end: Option<Result<ResponseMeta>>,
    /// Response bytes reached the decoder (an attempt that got this far is never retried).
    delivered: bool,
    /// The transfer is paused until the consumer takes a block.
    paused: bool,
    waker: Option<Waker>,
}

type SharedRef = Arc<Mutex<Shared>>;

fn lock(s: &SharedRef) -> std::sync::MutexGuard<'_, Shared> {
    s.lock().unwrap_or_else(|e| e.into_inner())
}

/// Decodes a response on the I/O thread into the shared queue.
struct BlockSink {
    decoder: BlockDecoder,
    client_limit: Option<u64>,
    rows: u64,
    shared: SharedRef,
}

impl JobSink for BlockSink {
    fn ready(&mut self) -> bool {
        let mut st = lock(&self.shared);
        if st.blocks.len() >= QUEUED_BLOCKS {
            st.paused = true;
            return false;
        }
        true
    }

    fn data(&mut self, mut bytes: &[u8]) -> Result<()> {
        let mut woke = None;
        {
            let mut st = lock(&self.shared);
            if !st.delivered {
                st.delivered = true;
                woke = st.waker.take();
            }
        }
        if let Some(w) = woke {
            w.wake();
        }
        while self.decoder.feed(&mut bytes)?.is_some() {
            if let Some(max) = self.client_limit {
                if self.rows >= max {
                    // Enough rows: stop reading (the query is cancelled).
                    return Err(Error::usage(LIMIT_REACHED));
                }
            }
            let Some(block) = self.decoder.take_block() else { continue };
            self.rows += block.rows() as u64;
            let waker = {
                let mut st = lock(&self.shared);
                st.blocks.push_back(block);
                st.waker.take()
            };
            if let Some(w) = waker {
                w.wake();
            }
        }
        Ok(())
    }

    fn done(self: Box<Self>, result: Result<ResponseMeta>) {
        let result = match result {
            Err(Error::Usage(m)) if m == LIMIT_REACHED => Ok(ResponseMeta::default()),
            Ok(meta) => match (meta.not_native(), self.decoder.finish()) {
                // The statement's own FORMAT clause won over the client's: whatever the decoder made
                // of those bytes (some decode as empty blocks) is not the result.
                (Some(refused), _) => Err(refused),
                // A stream that ends inside a block: an 18.16 exception appended to the data, or
                // truncation. (A tagged trailer was looked for by the transport already.)
                (None, Err(e)) => Err(appended_exception(&meta.tail, None, StreamEnd::Failed(&e)).unwrap_or(e)),
                (None, Ok(())) => Ok(meta),
            },
            Err(e) => Err(e),
        };
        let waker = {
            let mut st = lock(&self.shared);
            st.end = Some(result);
            st.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// The running attempt of a stream, reachable from its `Drop` to cancel it.
/// With the endpoint it went to (where a kill must go).
type Running = Arc<Mutex<Option<(Resumer, usize)>>>;

/// What the opening phase hands to the stream: the attempt that delivered, and the session's turn.
struct Opened {
    shared: SharedRef,
    plan_meta: crate::client::QueryPlan,
    turn: Option<SessionTurn>,
}

type Opening = Pin<Box<dyn Future<Output = Result<Opened>> + Send>>;

/// A query's result, block by block: a [`Stream`] of [`OwnedBlock`]s (use `futures::StreamExt::next`,
/// or [`BlockStream::next_block`] without the `futures` crate).
///
/// The blocks are decoded on the client's I/O thread while the consumer reads; at most a few wait
/// decoded, then the transfer pauses until the consumer catches up, so memory stays bounded whatever
/// the result's size. A failure before any byte arrived is retried under the client's retry rules.
/// Dropping the stream before its end stops the transfer and kills the query on the server (`KILL
/// QUERY … ASYNC` by its query id, which the stream sets when the options do not).
///
/// In a session the stream holds the session's turn until it ends or is dropped; another call in that
/// session meanwhile fails at once (it could wait forever otherwise).
pub struct BlockStream {
    client: Arc<Client>,
    opening: Option<Opening>,
    shared: Option<SharedRef>,
    running: Running,
    plan: Option<crate::client::QueryPlan>,
    turn: Option<SessionTurn>,
    meta: Option<ResponseMeta>,
    query_id: String,
    done: bool,
}

impl BlockStream {
    pub(super) fn open(owner: &AsyncClient, sql: &str, opts: &CallOptions, user_query: bool, fetch: Fetch) -> Self {
        let client = owner.client.clone();
        let mut opts = opts.clone();
        let query_id = client.ensure_query_id(&mut opts);
        let running: Running = Arc::new(Mutex::new(None));
        let opening = Box::pin(run(client.clone(), sql.to_string(), opts, user_query, fetch, running.clone()));
        BlockStream {
            client,
            opening: Some(opening),
            shared: None,
            running,
            plan: None,
            turn: None,
            meta: None,
            query_id,
            done: false,
        }
    }

    /// The next block, or `None` after the last (the `Stream` in a method, for callers without
    /// `futures`).
    pub async fn next_block(&mut self) -> Option<Result<OwnedBlock>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// What the server said about the response, once the stream has ended: query id, summary.
    pub fn meta(&self) -> Option<&ResponseMeta> {
        self.meta.as_ref()
    }

    /// The query id the stream runs under.
    pub fn query_id(&self) -> &str {
        &self.query_id
    }

    fn end(&mut self) {
        self.done = true;
        self.shared = None;
        self.turn = None;
        *self.running.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

/// The attempts of a stream until one delivers (or ends): later failures are the stream's errors.
async fn run(
    client: Arc<Client>,
    sql: String,
    opts: CallOptions,
    user_query: bool,
    fetch: Fetch,
    running: Running,
) -> Result<Opened> {
    super::kill_done(&client, opts.query_id.as_deref()).await;
    let NativeSetup { extra, decoder, client_limit } = client.native_setup(&opts, user_query, fetch)?;
    let extra: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let retries = if user_query { client.options.query_retries } else { 0 };
    let mut plan = client.plan_query(&sql, &opts, &extra, retries)?;
    // A stream the caller reads holds the session until it ends (other calls fail at once, since they
    // might be the stream's own consumer); a result collected here (`query`) waits its turn like a call.
    let turn = super::session_turn(&client, &opts, fetch != Fetch::Whole).await?;
    let driver = client.transport.driver()?;
    let mut decoder = Some(decoder);
    loop {
        let shared: SharedRef = Arc::default();
        let sink = BlockSink {
            decoder: decoder
                .take()
                .map_or_else(|| client.native_setup(&opts, user_query, fetch).map(|s| s.decoder), Ok)?,
            client_limit,
            rows: 0,
            shared: shared.clone(),
        };
        let resumer = submit(&client, &plan, &opts, JobBody::Whole(plan.sql.clone().into_bytes()), Box::new(sink))?;
        *running.lock().unwrap_or_else(|e| e.into_inner()) = Some((resumer, plan.route.endpoint));
        // Until the attempt delivers a byte or ends.
        let failed = std::future::poll_fn(|cx| {
            let mut st = lock(&shared);
            if st.delivered || st.blocks.front().is_some() {
                return Poll::Ready(None);
            }
            match &st.end {
                Some(Ok(_)) => Poll::Ready(None),
                Some(Err(_)) => Poll::Ready(st.end.take().and_then(|e| e.err())),
                None => {
                    st.waker = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
        .await;
        match failed {
            None => {
                plan.route.confirm();
                return Ok(Opened { shared, plan_meta: plan, turn });
            }
            Some(e) => {
                let pause = client.after_failure(&mut plan, e, false)?;
                sleep(driver, pause).await;
            }
        }
    }
}

impl Stream for BlockStream {
    type Item = Result<OwnedBlock>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        if let Some(opening) = this.opening.as_mut() {
            match opening.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => {
                    this.opening = None;
                    this.end();
                    return Poll::Ready(Some(Err(e)));
                }
                Poll::Ready(Ok(o)) => {
                    this.opening = None;
                    this.shared = Some(o.shared);
                    this.plan = Some(o.plan_meta);
                    this.turn = o.turn;
                }
            }
        }
        let Some(shared) = this.shared.clone() else { return Poll::Ready(None) };
        let mut st = lock(&shared);
        if let Some(block) = st.blocks.pop_front() {
            let resume = std::mem::take(&mut st.paused);
            drop(st);
            if resume {
                if let Some((r, _)) = this.running.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
                    r.resume_receiving();
                }
            }
            return Poll::Ready(Some(Ok(block)));
        }
        if let Some(end) = st.end.take() {
            drop(st);
            let item = match end {
                Ok(meta) => {
                    this.meta = Some(match this.plan.as_mut() {
                        Some(p) => p.answered(meta),
                        None => meta,
                    });
                    None
                }
                // After the first byte: not retried; the error names the endpoint it came from.
                Err(e) => Some(Err(match this.plan.as_ref() {
                    Some(p) => p.route.name_in(
                        e.with_server_version(this.client.server_version()),
                        this.client.transport.endpoints(),
                    ),
                    None => e,
                })),
            };
            this.end();
            return Poll::Ready(item);
        }
        st.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for BlockStream {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let running = self.running.lock().unwrap_or_else(|e| e.into_inner()).take();
        let endpoint = running.map(|(r, endpoint)| {
            r.cancel();
            endpoint
        });
        // Gives the session's turn back before the kill (which runs outside any session).
        self.turn = None;
        kill_query(&self.client, &self.query_id, endpoint);
    }
}

/// Collects a stream's blocks into a value (`query`, `query_as`).
pub(crate) async fn collect(
    mut stream: BlockStream,
    mut each: impl FnMut(&OwnedBlock) -> Result<()>,
) -> Result<ResponseMeta> {
    while let Some(block) = stream.next_block().await {
        each(&block?)?;
    }
    Ok(stream.meta.take().unwrap_or_default())
}

/// A one-shot response collected whole (`command`, `raw_query`): the bytes, then the result.
pub(super) struct BytesSink {
    pub(super) bytes: Vec<u8>,
    pub(super) slot: Slot<(Vec<u8>, Result<ResponseMeta>)>,
}

impl JobSink for BytesSink {
    fn ready(&mut self) -> bool {
        true
    }
    fn data(&mut self, bytes: &[u8]) -> Result<()> {
        self.bytes.extend_from_slice(bytes);
        Ok(())
    }
    fn done(self: Box<Self>, result: Result<ResponseMeta>) {
        let BytesSink { bytes, slot } = *self;
        slot.set((bytes, result));
    }
}
