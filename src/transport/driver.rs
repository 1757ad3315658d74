//! The async driver: one I/O thread runs every async transfer of a transport through libcurl's multi
//! interface (`curl_multi_poll`), with the same [`Exchange`] rules as the blocking path.
//!
//! A transfer is a [`Job`]: the request, a body (whole, or a [`BodyQueue`] a producer fills while the
//! request runs) and a [`JobSink`] that takes the response's decoded bytes on the I/O thread. Nothing
//! here knows about futures: the sink and the body queue wake whoever waits on them, so the facade
//! works on any runtime.
//!
//! Backpressure: before libcurl hands over more response bytes, the sink says whether its consumer can
//! take them; when it cannot, the transfer pauses (`CURL_WRITEFUNC_PAUSE`) and the consumer resumes it
//! once it has caught up ([`Resumer`]). An empty body queue pauses the upload the same way. A paused
//! transfer is not a stall: the client chose to wait.
//!
//! Threads: one per transport, started by the first async call and ended when the transport is
//! dropped and its transfers are over. Connections are kept by the multi handle between calls.

use super::exchange::{Exchange, configure};
use super::{Request, ResponseMeta, TransportOptions, progress_header};
use crate::error::{Error, Result};
use curl::easy::{Easy2, Handler, ReadError, WriteError};
use curl::multi::{Easy2Handle, Multi, MultiWaker};
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::task::Waker;
use std::time::Duration;

/// What receives a response on the I/O thread.
pub(crate) trait JobSink: Send + 'static {
    /// Whether the consumer takes more bytes now. When false the transfer pauses, and the sink's
    /// consumer must call [`Resumer::resume_receiving`] once it has room.
    fn ready(&mut self) -> bool;
    /// Decoded response bytes of a 200 response; an error aborts the transfer.
    fn data(&mut self, bytes: &[u8]) -> Result<()>;
    /// The transfer is over.
    fn done(self: Box<Self>, result: Result<ResponseMeta>);
}

/// A request body written while the request runs (a streaming insert): chunks queue here and the I/O
/// thread sends them.
#[derive(Default)]
pub(crate) struct BodyQueue {
    inner: Mutex<BodyState>,
}

#[derive(Default)]
struct BodyState {
    chunks: VecDeque<Vec<u8>>,
    /// Bytes of the front chunk already sent.
    offset: usize,
    /// The producer wrote its last chunk.
    ended: bool,
    /// The transfer is over (done or failed): nothing more will be sent.
    closed: bool,
    /// The upload is paused waiting for a chunk.
    paused: bool,
    /// The producer waiting for room.
    producer: Option<Waker>,
}

impl BodyQueue {
    /// Queues a chunk; false when the transfer is already over (the chunk is not sent).
    pub(crate) fn push(&self, chunk: Vec<u8>, resumer: &Resumer) -> bool {
        let mut st = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if st.closed {
            return false;
        }
        if !chunk.is_empty() {
            st.chunks.push_back(chunk);
        }
        if std::mem::take(&mut st.paused) {
            drop(st);
            resumer.resume_sending();
        }
        true
    }

    /// Marks the body complete (the upload ends once the queue is sent).
    pub(crate) fn end(&self, resumer: &Resumer) {
        let mut st = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        st.ended = true;
        if std::mem::take(&mut st.paused) {
            drop(st);
            resumer.resume_sending();
        }
    }

    /// Whether fewer than `max` chunks wait (or the transfer is over); registers `waker` otherwise.
    pub(crate) fn has_room(&self, max: usize, waker: &Waker) -> bool {
        let mut st = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if st.closed || st.chunks.len() < max {
            return true;
        }
        st.producer = Some(waker.clone());
        false
    }

    fn read(&self, buf: &mut [u8]) -> std::result::Result<usize, ReadError> {
        let mut st = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut n = 0;
        while n < buf.len() {
            let Some(front) = st.chunks.front() else { break };
            let from = st.offset;
            let take = (front.len() - from).min(buf.len() - n);
            buf[n..n + take].copy_from_slice(&front[from..from + take]);
            n += take;
            if from + take == front.len() {
                st.chunks.pop_front();
                st.offset = 0;
                if let Some(w) = st.producer.take() {
                    w.wake();
                }
            } else {
                st.offset = from + take;
            }
        }
        if n > 0 || st.ended {
            return Ok(n);
        }
        st.paused = true;
        Err(ReadError::Pause)
    }

    fn close(&self) {
        let mut st = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        st.closed = true;
        st.chunks.clear();
        if let Some(w) = st.producer.take() {
            w.wake();
        }
    }
}

/// A request's body.
pub(crate) enum JobBody {
    /// Known in full.
    Whole(Vec<u8>),
    /// Written while the request runs (chunked transfer encoding).
    Stream(Arc<BodyQueue>),
}

/// A progress callback (the client's `ProgressCallback`), called on the I/O thread.
pub(crate) type ProgressCallback = Arc<dyn Fn(&super::Progress) + Send + Sync>;

/// An owned request for the driver.
pub(crate) struct OwnedRequest {
    pub params: Vec<(String, String)>,
    pub headers: Vec<(String, String)>,
    pub accept_encoding: Option<&'static str>,
    pub progress: Option<ProgressCallback>,
    pub decoding: super::BodyDecoding,
    pub deadline: Option<std::time::Instant>,
    pub cancel: Option<Arc<AtomicBool>>,
    /// The endpoint to send to; `None`: one picked when it is sent.
    pub endpoint: Option<usize>,
    /// Whether a refused connection (nothing was sent) moves the request to another endpoint on the
    /// I/O thread (a streamed body, which cannot be submitted again: a streaming insert's).
    pub fail_over: bool,
}

/// Resumes a paused transfer, or cancels it, from any thread.
#[derive(Clone)]
pub(crate) struct Resumer {
    id: usize,
    link: Arc<Link>,
}

impl Resumer {
    /// The consumer has room again: let the response flow.
    pub(crate) fn resume_receiving(&self) {
        self.link.send(Command::ResumeWrite(self.id));
    }
    fn resume_sending(&self) {
        self.link.send(Command::ResumeRead(self.id));
    }
    /// Stops the transfer (the connection is closed, so the server stops the query when it next
    /// writes); the sink's `done` gets a cancellation error.
    pub(crate) fn cancel(&self) {
        self.link.send(Command::Cancel(self.id));
    }
}

enum Command {
    Add(usize, Box<Easy2<Job>>),
    /// Wake this waker at that instant (the async client's runtime-agnostic sleep).
    Timer(std::time::Instant, Waker),
    ResumeWrite(usize),
    ResumeRead(usize),
    Cancel(usize),
}

/// The way to the I/O thread: its command queue and the multi handle's wakeup.
struct Link {
    tx: Mutex<mpsc::Sender<Command>>,
    waker: MultiWaker,
}

impl Link {
    fn send(&self, c: Command) {
        // A send fails only when the I/O thread is gone, and then there is nothing to resume.
        let _ = self.tx.lock().unwrap_or_else(|e| e.into_inner()).send(c);
        let _ = self.waker.wakeup();
    }
}

/// One transfer on the I/O thread.
pub(crate) struct Job {
    ex: Option<Exchange>,
    sink: Option<Box<dyn JobSink>>,
    body: JobBody,
    /// Bytes of a whole body sent.
    body_at: usize,
    progress: Option<ProgressCallback>,
    cancel: Option<Arc<AtomicBool>>,
    /// Paused by the client (waiting for its consumer or producer): not a stall.
    write_paused: bool,
    read_paused: bool,
    /// Compressed response bytes accepted from libcurl but not yet decoded: the consumer had no room
    /// for more of what they decode to. Decoded before anything else.
    stash: Vec<u8>,
    /// A callback panicked (the call's progress callback, or a bug here): the transfer is stopped and
    /// the call fails with this, while the I/O thread and other calls go on.
    panicked: Option<String>,
    url: String,
    /// The endpoint it went to, and the client's endpoints (told how it ended).
    endpoint: usize,
    endpoints: Arc<super::Endpoints>,
    /// May move to another endpoint when its connection is refused (see [`OwnedRequest::fail_over`]),
    /// and the endpoints tried so far.
    fail_over: bool,
    tried: Vec<usize>,
}

/// Runs a callback's body, turning a panic into the job's failure instead of letting it reach libcurl
/// (whose Rust bindings would then refuse every later callback on the I/O thread).
fn guarded<T>(job: &mut Job, on_panic: T, f: impl FnOnce(&mut Job) -> T) -> T {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(job))) {
        Ok(v) => v,
        Err(p) => {
            let what = p
                .downcast_ref::<&str>()
                .map(|s| (*s).to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".into());
            job.panicked.get_or_insert(what);
            on_panic
        }
    }
}

impl Handler for Job {
    fn write(&mut self, data: &[u8]) -> std::result::Result<usize, WriteError> {
        guarded(self, Ok(0), |job| job.write_data(data))
    }

    fn read(&mut self, buf: &mut [u8]) -> std::result::Result<usize, ReadError> {
        guarded(self, Err(ReadError::Abort), |job| job.read_body(buf))
    }

    fn header(&mut self, line: &[u8]) -> bool {
        guarded(self, false, |job| {
            if let (Some(cb), Some(p)) = (&job.progress, progress_header(line)) {
                cb(&p);
            }
            if let Some(ex) = job.ex.as_mut() {
                ex.header(line);
            }
            true
        })
    }

    fn progress(&mut self, _dltotal: f64, dlnow: f64, _ultotal: f64, ulnow: f64) -> bool {
        guarded(self, false, |job| {
            if job.panicked.is_some() {
                return false;
            }
            let cancelled = job.cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed));
            let Some(ex) = job.ex.as_mut() else { return false };
            if (job.write_paused || job.read_paused || !job.stash.is_empty()) && !cancelled {
                // Waiting for our own consumer or producer: not the server's stall.
                ex.touch();
            }
            ex.progress(dlnow, ulnow, cancelled)
        })
    }
}

impl Job {
    fn write_data(&mut self, data: &[u8]) -> std::result::Result<usize, WriteError> {
        // What was accepted earlier goes first; while it cannot, libcurl keeps this chunk.
        if !self.drain() {
            self.write_paused = true;
            return Err(WriteError::Pause);
        }
        let (Some(ex), Some(sink)) = (self.ex.as_mut(), self.sink.as_mut()) else { return Ok(0) };
        if ex.status() != 200 {
            return Ok(ex.write(data, &mut |b| sink.data(b)));
        }
        if ex.libcurl_decodes() {
            // Never paused: libcurl would keep all the rest of the chunk's decoded output (up to its
            // 64 MiB limit, then fail the transfer). Memory then follows the server, not the consumer.
            self.write_paused = false;
            return Ok(ex.write(data, &mut |b| sink.data(b)));
        }
        if !sink.ready() {
            self.write_paused = true;
            return Err(WriteError::Pause);
        }
        self.write_paused = false;
        if !ex.decodes_itself() {
            // Plain Native: one chunk holds a few blocks at most.
            return Ok(ex.write(data, &mut |b| sink.data(b)));
        }
        // Compressed: decoded piece by piece while the consumer has room; the rest waits here.
        let sink = std::cell::RefCell::new(sink);
        let (ret, consumed) =
            ex.write_some(data, &mut |b| sink.borrow_mut().data(b), &mut || sink.borrow_mut().ready());
        if ret == data.len() && consumed < data.len() {
            self.stash.extend_from_slice(&data[consumed..]);
        }
        Ok(ret)
    }

    /// Decodes stashed bytes while the consumer has room; true when none are left.
    fn drain(&mut self) -> bool {
        if self.stash.is_empty() {
            return true;
        }
        let (Some(ex), Some(sink)) = (self.ex.as_mut(), self.sink.as_mut()) else { return true };
        let stash = std::mem::take(&mut self.stash);
        let sink = std::cell::RefCell::new(sink);
        let (ret, consumed) =
            ex.write_some(&stash, &mut |b| sink.borrow_mut().data(b), &mut || sink.borrow_mut().ready());
        if ret == stash.len() && consumed < stash.len() {
            self.stash = stash[consumed..].to_vec();
        }
        self.stash.is_empty()
    }

    fn read_body(&mut self, buf: &mut [u8]) -> std::result::Result<usize, ReadError> {
        let n = match &self.body {
            JobBody::Whole(b) => {
                let take = (b.len() - self.body_at).min(buf.len());
                buf[..take].copy_from_slice(&b[self.body_at..self.body_at + take]);
                self.body_at += take;
                take
            }
            JobBody::Stream(q) => match q.read(buf) {
                Ok(n) => n,
                Err(e) => {
                    self.read_paused = true;
                    return Err(e);
                }
            },
        };
        self.read_paused = false;
        if let Some(ex) = self.ex.as_mut() {
            ex.sent(n);
        }
        Ok(n)
    }

    /// After its transfer ended with `outcome`: the URL at another endpoint to send it to instead, when
    /// the connection was refused before anything was sent and an endpoint not tried yet is left.
    fn retarget(&mut self, outcome: &std::result::Result<(), curl::Error>) -> Option<String> {
        let refused = outcome.as_ref().is_err_and(|e| e.is_couldnt_connect() || e.is_couldnt_resolve_host());
        let untouched = self.body_at == 0 && self.ex.as_ref().is_some_and(|ex| !ex.sent_any());
        if !self.fail_over || !refused || !untouched || self.tried.len() >= self.endpoints.len() {
            return None;
        }
        let failed = Error::Transport {
            context: self.endpoints.url(self.endpoint).to_string(),
            message: "connection refused".into(),
            tls: false,
            timeout: false,
            connect: true,
            stall: false,
            source: None,
        };
        self.endpoints.record(self.endpoint, Err(&failed));
        let next = self.endpoints.pick(&self.tried);
        if self.tried.contains(&next) {
            return None;
        }
        let rest = self.url.get(self.endpoints.url(self.endpoint).len()..)?.to_string();
        log::warn!(
            "insert refused at {}; sending it to {}",
            self.endpoints.url(self.endpoint),
            self.endpoints.url(next)
        );
        self.tried.push(next);
        self.endpoint = next;
        self.url = format!("{}{rest}", self.endpoints.url(next));
        if let Some(ex) = self.ex.as_mut() {
            ex.restart();
        }
        Some(self.url.clone())
    }

    /// Ends the job: the sink gets the transfer's result.
    fn finish(&mut self, outcome: std::result::Result<(), curl::Error>, wire_bytes: u64) {
        if let JobBody::Stream(q) = &self.body {
            q.close();
        }
        let (Some(ex), Some(sink)) = (self.ex.take(), self.sink.take()) else { return };
        let result = match self.panicked.take() {
            Some(what) => Err(Error::internal(format!(
                "a callback of this call panicked on the I/O thread ({what}); the call was stopped"
            ))),
            None => ex.finish(outcome, wire_bytes, &self.url),
        };
        self.endpoints.record(self.endpoint, result.as_ref().map(|_| ()));
        let result = match result {
            Ok(mut meta) => {
                meta.endpoint = Some(self.endpoints.url(self.endpoint).to_string());
                Ok(meta)
            }
            // Moved between endpoints: the error names them.
            Err(e) if self.tried.len() > 1 => Err(Error::Endpoints {
                tried: self.tried.iter().map(|&i| self.endpoints.url(i).to_string()).collect(),
                cause: Box::new(e),
            }),
            Err(e) => Err(e),
        };
        sink.done(result);
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        // A job dropped without an outcome (libcurl refused it, or the I/O thread ended) still ends
        // its sink's wait.
        if let Some(sink) = self.sink.take() {
            if let JobBody::Stream(q) = &self.body {
                q.close();
            }
            sink.done(Err(Error::Transport {
                context: self.url.split('?').next().unwrap_or_default().to_string(),
                message: "the async transfer was dropped before it ended".into(),
                tls: false,
                timeout: false,
                connect: false,
                stall: false,
                source: None,
            }));
        }
    }
}

/// The I/O thread of one transport.
pub(crate) struct Driver {
    link: Arc<Link>,
    next_id: AtomicUsize,
    opts: TransportOptions,
    endpoints: Arc<super::Endpoints>,
    /// Transfers running now (for tests and `Debug`).
    running: Arc<AtomicUsize>,
}

impl Driver {
    /// Starts the I/O thread.
    pub(crate) fn start(opts: TransportOptions, endpoints: Arc<super::Endpoints>) -> Result<Driver> {
        let (tx, rx) = mpsc::channel::<Command>();
        let (waker_tx, waker_rx) = mpsc::channel::<MultiWaker>();
        let running = Arc::new(AtomicUsize::new(0));
        let count = running.clone();
        std::thread::Builder::new()
            .name("clickhouse-connect-io".into())
            .spawn(move || io_thread(rx, waker_tx, count))
            .map_err(|e| Error::usage(format!("cannot start the async I/O thread: {e}")))?;
        let waker = waker_rx.recv().map_err(|_| Error::usage("the async I/O thread did not start"))?;
        Ok(Driver {
            link: Arc::new(Link { tx: Mutex::new(tx), waker }),
            next_id: AtomicUsize::new(1),
            opts,
            endpoints,
            running,
        })
    }

    /// Transfers running now.
    pub(crate) fn running(&self) -> usize {
        self.running.load(Ordering::Relaxed)
    }

    /// A handle to resume or cancel the next job; give its id to [`Driver::submit`].
    pub(crate) fn resumer(&self) -> Resumer {
        Resumer { id: self.next_id.fetch_add(1, Ordering::Relaxed), link: self.link.clone() }
    }

    /// Wakes `waker` at `at` (from the I/O thread, so no runtime's timer is needed).
    pub(crate) fn wake_at(&self, at: std::time::Instant, waker: Waker) {
        self.link.send(Command::Timer(at, waker));
    }

    /// Starts a transfer. Errors in setting it up go to the sink's `done`.
    pub(crate) fn submit(
        &self,
        resumer: &Resumer,
        (endpoint, url): (usize, String),
        req: OwnedRequest,
        body: JobBody,
        sink: Box<dyn JobSink>,
    ) {
        let view = Request {
            params: &req.params,
            headers: &req.headers,
            accept_encoding: req.accept_encoding,
            progress: None,
            body: &[],
            decoding: req.decoding,
            deadline: req.deadline,
            cancel: None,
            endpoint: Some(endpoint),
        };
        let mut ex = Exchange::new(&view, self.opts.send_receive_timeout);
        let body_size = match &body {
            JobBody::Whole(b) => Some(b.len() as u64),
            JobBody::Stream(_) => None,
        };
        ex.body_size(body_size);
        let mut easy = Easy2::new(Job {
            ex: Some(ex),
            sink: None,
            body,
            body_at: 0,
            progress: req.progress.clone(),
            cancel: req.cancel.clone(),
            write_paused: false,
            read_paused: false,
            stash: Vec::new(),
            panicked: None,
            url: url.clone(),
            endpoint,
            endpoints: self.endpoints.clone(),
            fail_over: req.fail_over,
            tried: vec![endpoint],
        });
        if let Err(e) = configure(&mut easy, &self.opts, &url, &view, body_size) {
            if let JobBody::Stream(q) = &easy.get_ref().body {
                q.close();
            }
            sink.done(Err(e));
            return;
        }
        easy.get_mut().sink = Some(sink);
        self.link.send(Command::Add(resumer.id, Box::new(easy)));
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The I/O thread ends once its command queue is closed and its transfers are over.
        let _ = self.link.waker.wakeup();
    }
}

/// A transfer libcurl has finished: the handle, libcurl's outcome and the body bytes received.
type Finished = (Easy2<Job>, std::result::Result<(), curl::Error>, u64);

fn io_thread(rx: mpsc::Receiver<Command>, waker_tx: mpsc::Sender<MultiWaker>, running: Arc<AtomicUsize>) {
    let multi = Multi::new();
    if waker_tx.send(multi.waker()).is_err() {
        return;
    }
    drop(waker_tx);
    let mut handles: HashMap<usize, Easy2Handle<Job>> = HashMap::new();
    // Transfers libcurl has finished whose stashed bytes still wait for their consumer's room: they end
    // once those are decoded (or when cancelled).
    let mut draining: HashMap<usize, Finished> = HashMap::new();
    let mut timers: Vec<(std::time::Instant, Waker)> = Vec::new();
    let mut open = true;
    loop {
        loop {
            match rx.try_recv() {
                Ok(Command::Timer(at, waker)) => timers.push((at, waker)),
                Ok(Command::Add(id, easy)) => match multi.add2(*easy) {
                    Ok(mut h) => {
                        let _ = h.set_token(id);
                        handles.insert(id, h);
                    }
                    // Adding fails only when libcurl is out of memory or misused; the job, dropped,
                    // tells its sink.
                    Err(e) => log::error!("cannot start an async transfer: {e}"),
                },
                Ok(Command::ResumeWrite(id)) => {
                    if let Some(h) = handles.get_mut(&id) {
                        // Stashed bytes first (libcurl may have nothing to hand over now), then
                        // whatever libcurl kept. (curl's `unpause_*` both clear every pause.)
                        if h.get_mut().drain() {
                            h.get_mut().write_paused = false;
                            let _ = h.unpause_write();
                        }
                    } else if let Some((mut easy, result, wire)) = draining.remove(&id) {
                        if easy.get_mut().drain() {
                            easy.get_mut().finish(result, wire);
                        } else {
                            draining.insert(id, (easy, result, wire));
                        }
                    }
                }
                Ok(Command::ResumeRead(id)) => {
                    if let Some(h) = handles.get_mut(&id) {
                        h.get_mut().read_paused = false;
                        let _ = h.unpause_read();
                    }
                }
                Ok(Command::Cancel(id)) => {
                    if let Some((mut easy, _, wire)) = draining.remove(&id) {
                        let job = easy.get_mut();
                        job.stash.clear();
                        if let Some(ex) = job.ex.as_mut() {
                            ex.cancel();
                        }
                        job.finish(Err(curl::Error::new(42)), wire);
                    }
                    if let Some(h) = handles.remove(&id) {
                        if let Ok(mut easy) = multi.remove2(h) {
                            let wire = easy.download_size().unwrap_or(0.0) as u64;
                            let job = easy.get_mut();
                            if let Some(ex) = job.ex.as_mut() {
                                ex.cancel();
                            }
                            // CURLE_ABORTED_BY_CALLBACK: the outcome of a transfer its caller stopped.
                            job.finish(Err(curl::Error::new(42)), wire);
                        }
                    }
                }
                Err(mpsc::TryRecvError::Empty) => break,
                Err(mpsc::TryRecvError::Disconnected) => {
                    open = false;
                    break;
                }
            }
        }
        running.store(handles.len() + draining.len(), Ordering::Relaxed);
        if !open && handles.is_empty() && draining.is_empty() {
            for (_, w) in timers.drain(..) {
                w.wake();
            }
            return;
        }
        if let Err(e) = multi.perform() {
            log::error!("libcurl's multi interface failed: {e}");
        }
        let mut finished = Vec::new();
        multi.messages(|m| {
            if let (Ok(token), Some(result)) = (m.token(), m.result()) {
                finished.push((token, result));
            }
        });
        for (id, result) in finished {
            let Some(h) = handles.remove(&id) else { continue };
            match multi.remove2(h) {
                Ok(mut easy) => {
                    if let Some(url) = easy.get_mut().retarget(&result) {
                        if easy.url(&url).is_ok() {
                            match multi.add2(easy) {
                                Ok(mut h) => {
                                    let _ = h.set_token(id);
                                    handles.insert(id, h);
                                }
                                Err(e) => log::error!("cannot restart an async transfer: {e}"),
                            }
                            continue;
                        }
                    }
                    let wire = easy.download_size().unwrap_or(0.0) as u64;
                    if easy.get_mut().drain() {
                        easy.get_mut().finish(result, wire);
                    } else {
                        draining.insert(id, (easy, result, wire));
                    }
                }
                Err(e) => log::error!("cannot remove a finished transfer: {e}"),
            }
        }
        running.store(handles.len() + draining.len(), Ordering::Relaxed);
        let now = std::time::Instant::now();
        timers.retain(|(at, w)| {
            if *at <= now {
                w.wake_by_ref();
                false
            } else {
                true
            }
        });
        let next_timer = timers.iter().map(|(at, _)| at.saturating_duration_since(now)).min();
        // Sleeps until a socket is ready, a command's wakeup, a timer, or libcurl's own timers (at most
        // 1 s).
        let wait = next_timer.map_or(Duration::from_secs(1), |t| t.min(Duration::from_secs(1)));
        let _ = multi.poll(&mut [], wait);
    }
}

/// The endpoint and URL of a request, for the driver (the same as the blocking path's).
pub(crate) fn url_of(t: &super::Transport, endpoint: Option<usize>, params: &[(String, String)]) -> (usize, String) {
    t.url(endpoint, params)
}
