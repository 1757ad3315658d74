//! The two waits the async client needs, without any runtime: a one-shot slot filled from the I/O
//! thread, and a sleep whose timer is the I/O thread's.

use crate::transport::driver::Driver;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// A value set once (by a sink on the I/O thread) and awaited once.
pub(crate) struct Slot<T> {
    inner: Arc<Mutex<SlotState<T>>>,
}

struct SlotState<T> {
    value: Option<T>,
    waker: Option<Waker>,
}

impl<T> Clone for Slot<T> {
    fn clone(&self) -> Self {
        Slot { inner: self.inner.clone() }
    }
}

impl<T> Slot<T> {
    pub(crate) fn new() -> Self {
        Slot { inner: Arc::new(Mutex::new(SlotState { value: None, waker: None })) }
    }

    pub(crate) fn set(&self, value: T) {
        let waker = {
            let mut st = self.inner.lock().unwrap_or_else(|e| e.into_inner());
            st.value = Some(value);
            st.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Future for Slot<T> {
    type Output = T;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut st = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        match st.value.take() {
            Some(v) => Poll::Ready(v),
            None => {
                st.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// Sleeps for `pause` on the I/O thread's timer.
pub(crate) fn sleep(driver: &Driver, pause: Duration) -> Sleep<'_> {
    Sleep { driver, until: Instant::now() + pause }
}

pub(crate) struct Sleep<'d> {
    driver: &'d Driver,
    until: Instant,
}

impl Future for Sleep<'_> {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.until {
            return Poll::Ready(());
        }
        self.driver.wake_at(self.until, cx.waker().clone());
        Poll::Pending
    }
}

/// A flag set once and awaited by any number of tasks.
#[derive(Default)]
pub(crate) struct Latch {
    state: Mutex<(bool, Vec<Waker>)>,
}

impl Latch {
    pub(crate) fn set(&self) {
        let wakers = {
            let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            st.0 = true;
            std::mem::take(&mut st.1)
        };
        for w in wakers {
            w.wake();
        }
    }

    /// Waits until the latch is set.
    pub(crate) async fn wait(&self) {
        std::future::poll_fn(|cx| {
            let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            if st.0 {
                Poll::Ready(())
            } else {
                st.1.push(cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }
}
