//! One request at a time per session.
//!
//! ClickHouse refuses a second request in a session while one runs (`SESSION_IS_LOCKED`), so the client
//! serialises its own requests per session id: a call waits for the session's current call to end.
//! A streaming insert holds its session for as long as its request is open, which is up to the caller
//! (rows are written between calls); a call in the same session meanwhile would wait for the caller's
//! own thread, so it fails at once with an error that says why instead.

use crate::error::{Error, Result};
use std::sync::{Arc, Condvar, Mutex};

/// Who holds a session.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Holder {
    Free,
    Call,
    Insert,
}

/// The turn-taking of one session's requests.
pub(crate) struct SessionLock {
    holder: Mutex<Holder>,
    freed: Condvar,
}

impl Default for SessionLock {
    fn default() -> Self {
        SessionLock { holder: Mutex::new(Holder::Free), freed: Condvar::new() }
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
    }
}

impl SessionLock {
    /// Waits for the session's current call to end and takes the turn; an open insert request (held
    /// until its caller ends it) is an error instead.
    pub(crate) fn take(self: &Arc<Self>, session: &str, insert: bool) -> Result<SessionTurn> {
        let mut holder = self.holder.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            match *holder {
                Holder::Free => {
                    *holder = if insert { Holder::Insert } else { Holder::Call };
                    return Ok(SessionTurn { lock: self.clone() });
                }
                Holder::Insert => {
                    return Err(Error::usage(format!(
                        "session {session:?} is busy with an open insert request (an Inserter): finish the \
                         insert first, or use another session"
                    )));
                }
                Holder::Call => holder = self.freed.wait(holder).unwrap_or_else(|e| e.into_inner()),
            }
        }
    }
}
