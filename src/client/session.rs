//! One request at a time per session.
//!
//! ClickHouse refuses a second request in a session while one runs (`SESSION_IS_LOCKED`), so the client
//! serialises its own requests per session id: a call waits for a call of another thread to end. Two
//! cases never wait, because the wait could not end:
//! - a streaming insert holds its session for as long as its request is open, which is up to the
//!   caller (rows are written between calls): any other request in the session meanwhile fails at
//!   once with an error that says why;
//! - a request made while the same thread's call holds the session (a query's block callback that
//!   runs another query or feeds an inserter in the session) goes without a turn, as it did before
//!   the client serialised anything: the server decides (it may have finished the first query and let
//!   the session go, or answer `SESSION_IS_LOCKED`). A row stream's worker thread takes its turn on
//!   behalf of the thread that consumes the rows ([`act_for`]), so that thread's own calls meanwhile
//!   count as its own.

use crate::error::{Error, Result};
use std::cell::Cell;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::ThreadId;

thread_local! {
    /// The thread whose calls this thread makes (a row stream's worker: its consumer's).
    static ACTING_FOR: Cell<Option<ThreadId>> = const { Cell::new(None) };
}

/// Makes this thread's requests count as `thread`'s for the session turn.
pub(crate) fn act_for(thread: ThreadId) {
    ACTING_FOR.with(|a| a.set(Some(thread)));
}

/// Who holds a session.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Holder {
    Free,
    /// A call of this thread.
    Call(ThreadId),
    /// A streaming insert's open request.
    Insert,
    /// A call of an async task (no thread identity: it never goes without a turn).
    #[cfg(feature = "async")]
    Task,
    /// An async block stream, open until it ends or is dropped.
    #[cfg(feature = "async")]
    Stream,
}

/// The turn-taking of one session's requests.
pub(crate) struct SessionLock {
    holder: Mutex<Holder>,
    freed: Condvar,
    /// Async calls waiting for the turn.
    #[cfg(feature = "async")]
    waiting: Mutex<Vec<std::task::Waker>>,
    /// The endpoint the session lives on (a session's state is on one server): chosen by its first
    /// call; moved only while no call of the session has reached it (its connection refused).
    pub(crate) endpoint: Mutex<Option<usize>>,
    /// A call of the session got an answer at `endpoint`: the session stays there.
    pub(crate) settled: std::sync::atomic::AtomicBool,
}

impl Default for SessionLock {
    fn default() -> Self {
        SessionLock {
            holder: Mutex::new(Holder::Free),
            freed: Condvar::new(),
            #[cfg(feature = "async")]
            waiting: Mutex::new(Vec::new()),
            endpoint: Mutex::new(None),
            settled: std::sync::atomic::AtomicBool::new(false),
        }
    }
}

/// A request's turn in its session, given back when dropped (it may move to another thread).
pub(crate) struct SessionTurn {
    lock: Arc<SessionLock>,
}

impl Drop for SessionTurn {
    fn drop(&mut self) {
        *self.lock.holder.lock().unwrap_or_else(|e| e.into_inner()) = Holder::Free;
        self.lock.freed.notify_all();
        #[cfg(feature = "async")]
        for w in self.lock.waiting.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
            w.wake();
        }
    }
}

impl SessionLock {
    /// Takes the session's turn for a call (`insert`: for a streaming insert's request), waiting while
    /// another thread's call holds it. `Ok(None)`: this thread's own call holds it, and the request
    /// goes without a turn. An open insert request is an error.
    pub(crate) fn take(self: &Arc<Self>, session: &str, insert: bool) -> Result<Option<SessionTurn>> {
        let me = ACTING_FOR.with(Cell::get).unwrap_or_else(|| std::thread::current().id());
        let mut holder = self.holder.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            match *holder {
                Holder::Free => {
                    *holder = if insert { Holder::Insert } else { Holder::Call(me) };
                    return Ok(Some(SessionTurn { lock: self.clone() }));
                }
                Holder::Insert => {
                    return Err(Error::usage(format!(
                        "session {session:?} is busy with an open insert request (an Inserter): finish the \
                         insert first, or use another session"
                    )));
                }
                Holder::Call(owner) if owner == me => return Ok(None),
                Holder::Call(_) => holder = self.freed.wait(holder).unwrap_or_else(|e| e.into_inner()),
                #[cfg(feature = "async")]
                Holder::Task => holder = self.freed.wait(holder).unwrap_or_else(|e| e.into_inner()),
                #[cfg(feature = "async")]
                Holder::Stream => return Err(stream_busy(session)),
            }
        }
    }

    /// The turn for an async insert's request, or an error when the session is busy (never waits).
    #[cfg(feature = "async")]
    pub(crate) fn take_now(self: &Arc<Self>, session: &str) -> Result<SessionTurn> {
        let mut holder = self.holder.lock().unwrap_or_else(|e| e.into_inner());
        if *holder == Holder::Free {
            *holder = Holder::Insert;
            return Ok(SessionTurn { lock: self.clone() });
        }
        Err(Error::usage(format!(
            "session {session:?} is busy with another call: an async insert does not wait for its turn; \
             end that call first, or use another session"
        )))
    }

    /// The turn for an async call (`stream`: for a block stream, held until it ends), or the waker to
    /// wake when the session is free.
    #[cfg(feature = "async")]
    pub(crate) fn poll_take(
        self: &Arc<Self>,
        session: &str,
        stream: bool,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<SessionTurn>> {
        use std::task::Poll;
        let mut holder = self.holder.lock().unwrap_or_else(|e| e.into_inner());
        match *holder {
            Holder::Free => {
                *holder = if stream { Holder::Stream } else { Holder::Task };
                Poll::Ready(Ok(SessionTurn { lock: self.clone() }))
            }
            Holder::Insert => Poll::Ready(Err(Error::usage(format!(
                "session {session:?} is busy with an open insert request (an Inserter): finish the insert \
                 first, or use another session"
            )))),
            Holder::Stream => Poll::Ready(Err(stream_busy(session))),
            Holder::Call(_) | Holder::Task => {
                // Registered under the holder's lock, so a turn given back meanwhile wakes this call.
                self.waiting.lock().unwrap_or_else(|e| e.into_inner()).push(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// A session held by an open async stream: waiting could never end if the stream's consumer is the
/// one waiting.
#[cfg(feature = "async")]
fn stream_busy(session: &str) -> Error {
    Error::usage(format!(
        "session {session:?} is busy with an open async block stream: read it to its end (or drop it) first, \
         or use another session"
    ))
}
