//! The explorer's simulations: at most [`SLOTS`] at a time, at most [`MAX_WAITING`] waiting (more
//! are refused with 429 at once, so a burst cannot queue unbounded work), and on each page's
//! channel only the newest: a change cancels the computation of the change before it, whether
//! it is running or still waiting.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Simulations running at once: each already uses every core, so more only share them.
pub const SLOTS: usize = 2;
/// Requests waiting for a slot before new ones are refused.
pub const MAX_WAITING: usize = 32;
/// Channels remembered (one per open page); beyond it, finished channels are forgotten.
const MAX_CHANNELS: usize = 4096;

/// Why a request did not get a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Too many requests waiting: try again later (429).
    Busy,
    /// A newer request on the same channel came while this one waited.
    Superseded,
}

pub struct Jobs {
    slots: Arc<Semaphore>,
    waiting: AtomicUsize,
    /// Each channel's newest request's cancel flag.
    channels: Mutex<HashMap<String, Arc<AtomicBool>>>,
}

/// A running simulation's right to a slot, and its cancel flag (set by a newer request on its
/// channel, or when its client goes away).
pub struct Ticket {
    pub cancel: Arc<AtomicBool>,
    _permit: OwnedSemaphorePermit,
}

/// One request counted among the waiting, until dropped.
struct Waiting<'a> {
    count: &'a AtomicUsize,
    /// Requests waiting before this one came.
    ahead: usize,
}

impl<'a> Waiting<'a> {
    fn enter(count: &'a AtomicUsize) -> Waiting<'a> {
        Waiting { ahead: count.fetch_add(1, Ordering::AcqRel), count }
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.count.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Default for Jobs {
    fn default() -> Self {
        Jobs {
            slots: Arc::new(Semaphore::new(SLOTS)),
            waiting: AtomicUsize::new(0),
            channels: Mutex::default(),
        }
    }
}

impl Jobs {
    /// Registers the newest request of `channel` (cancelling the one before) and waits for a slot.
    pub async fn admit(&self, channel: &str) -> Result<Ticket, Refused> {
        let cancel = Arc::new(AtomicBool::new(false));
        {
            let mut ch = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
            if ch.len() >= MAX_CHANNELS {
                ch.retain(|_, c| !c.load(Ordering::Relaxed) && Arc::strong_count(c) > 1);
            }
            if let Some(old) = ch.insert(channel.to_string(), cancel.clone()) {
                old.store(true, Ordering::Relaxed);
            }
        }
        // Counted until this function returns or is dropped (a client that leaves while waiting).
        let waiting = Waiting::enter(&self.waiting);
        if waiting.ahead >= MAX_WAITING {
            return Err(Refused::Busy);
        }
        let permit = self.slots.clone().acquire_owned().await;
        drop(waiting);
        let permit = permit.map_err(|_| Refused::Busy)?;
        if cancel.load(Ordering::Relaxed) {
            return Err(Refused::Superseded);
        }
        Ok(Ticket { cancel, _permit: permit })
    }

    /// Simulations running now.
    pub fn running(&self) -> usize {
        SLOTS - self.slots.available_permits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn a_newer_request_cancels_the_older_on_its_channel_only() {
        let jobs = Jobs::default();
        let a = jobs.admit("page-1").await.unwrap();
        let other = jobs.admit("page-2").await.unwrap();
        assert_eq!(jobs.running(), 2);
        // No slot is free: the next request waits; a newer one on its channel supersedes it.
        let waiting = jobs.admit("page-1");
        tokio::pin!(waiting);
        assert!(futures_poll_once(waiting.as_mut()).await.is_none());
        assert!(a.cancel.load(Ordering::Relaxed), "the running request of page-1 is cancelled");
        assert!(!other.cancel.load(Ordering::Relaxed));
        drop(a);
        let b = jobs.admit("page-1");
        tokio::pin!(b);
        assert!(futures_poll_once(b.as_mut()).await.is_none(), "queued behind the waiting one");
        // The waiting one gets the slot freed by `a`, but was superseded by `b`, which then runs.
        assert_eq!(waiting.await.err(), Some(Refused::Superseded));
        let b = b.await.unwrap();
        assert!(!b.cancel.load(Ordering::Relaxed));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_burst_beyond_the_queue_is_refused_at_once() {
        let jobs = Arc::new(Jobs::default());
        let _held: Vec<Ticket> = vec![jobs.admit("x0").await.unwrap(), jobs.admit("x1").await.unwrap()];
        let mut waiting = Vec::new();
        for i in 0..MAX_WAITING {
            let j = jobs.clone();
            waiting.push(tokio::spawn(async move { j.admit(&format!("w{i}")).await.map(|_| ()) }));
        }
        tokio::task::yield_now().await;
        assert_eq!(jobs.admit("one too many").await.err(), Some(Refused::Busy));
        // Waiting clients that leave free their places.
        for w in waiting {
            w.abort();
            let _ = w.await;
        }
        assert_eq!(jobs.waiting.load(Ordering::Relaxed), 0);
    }

    /// Polls a future once: `Some` if it finished.
    async fn futures_poll_once<F: std::future::Future + Unpin>(f: F) -> Option<F::Output> {
        let mut f = f;
        std::future::poll_fn(|cx| match std::pin::Pin::new(&mut f).poll(cx) {
            std::task::Poll::Ready(v) => std::task::Poll::Ready(Some(v)),
            std::task::Poll::Pending => std::task::Poll::Ready(None),
        })
        .await
    }
}
