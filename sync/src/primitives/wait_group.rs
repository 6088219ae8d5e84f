//! [`WaitGroup`]: Go's `sync.WaitGroup` for tasks and threads.
//!
//! # Design
//!
//! Go's WaitGroup is a counter and a semaphore for the waiters, packed in one 64-bit word so
//! that `Add` can tell whether anybody waits. Here the counter is an `AtomicIsize` and the
//! waiters are an `event-listener` [`Event`]; the event knows its own listeners, so the word
//! needs no waiter count.
//!
//! 1. `add(delta)` adds to the counter. Below zero is a caller's bug: the add is undone and the
//!    call panics with Go's message. Reaching zero wakes every waiter.
//! 2. `wait` returns at once if the counter is zero. Otherwise it registers a listener, checks
//!    again (the last `done` may have come between the two), and parks.
//! 3. A woken waiter checks once more and parks again if the counter left zero meanwhile, which
//!    only a reuse that Go forbids (an `add` racing a `wait`) can cause.
//!
//! # Memory ordering
//!
//! `add` is `AcqRel` and `wait`'s check `Acquire`, so everything a task wrote before its `done`
//! is visible after `wait` returns: the reason a WaitGroup is used at all. The lost-wake race
//! of step 2 is closed by the `SeqCst` fences that `Event::listen` (after registering) and
//! `Event::notify` (before looking for listeners) emit.
//!
//! # Sharing
//!
//! Go passes `*sync.WaitGroup`. Here every method takes `&self`, and `Clone` gives another
//! handle on the same counter (an `Arc` inside), so a clone moves into each spawned task the
//! way Go code passes the pointer.

use std::fmt;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::Arc;

use event_listener::{Event, Listener};

/// Waits for a collection of tasks to finish, as Go's `sync.WaitGroup`.
///
/// The spawner calls [`add`](WaitGroup::add) with the number of tasks, each task calls
/// [`done`](WaitGroup::done) when it finishes, and [`wait`](WaitGroup::wait) completes once all
/// have. Clones share the counter.
///
/// ```
/// let wg = gort_sync::primitives::WaitGroup::new();
/// wg.add(2);
/// for _ in 0..2 {
///     let wg = wg.clone();
///     std::thread::spawn(move || wg.done());
/// }
/// wg.wait_blocking();
/// ```
#[derive(Clone, Default)]
pub struct WaitGroup {
    /// The counter and its waiters, shared by every clone.
    inner: Arc<Inner>,
}

/// The state behind every clone of a [`WaitGroup`].
#[derive(Default)]
struct Inner {
    /// Tasks added and not yet done. Changed by `add` (`AcqRel`), read by the waits
    /// (`Acquire`). Never observed below zero except during a misuse that panics.
    counter: AtomicIsize,
    /// Tasks and threads waiting for `counter` to reach zero; all woken when it does.
    zero: Event,
}

impl WaitGroup {
    /// A wait group whose counter is zero.
    pub fn new() -> WaitGroup {
        WaitGroup::default()
    }

    /// Adds `delta`, which may be negative, to the counter. Wakes every waiter if the counter
    /// reaches zero.
    ///
    /// Panics with Go's message, `sync: negative WaitGroup counter`, if the counter would go
    /// below zero; the counter is left as it was.
    #[track_caller]
    pub fn add(&self, delta: isize) {
        let before = self.inner.counter.fetch_add(delta, Ordering::AcqRel);
        let after = before.wrapping_add(delta);
        if after < 0 {
            self.inner.counter.fetch_sub(delta, Ordering::AcqRel);
            panic!("sync: negative WaitGroup counter");
        }
        if after == 0 && delta != 0 {
            self.inner.zero.notify(usize::MAX);
        }
    }

    /// Subtracts one from the counter: the task it counted has finished. Go's `wg.Done()`.
    ///
    /// Panics like [`add`](WaitGroup::add) if the counter is already zero.
    #[track_caller]
    pub fn done(&self) {
        self.add(-1);
    }

    /// Completes when the counter is zero; at once if it already is.
    ///
    /// Cancel safe: dropping the future only stops waiting.
    pub async fn wait(&self) {
        loop {
            if self.is_zero() {
                return;
            }
            let listener = self.inner.zero.listen();
            if self.is_zero() {
                return;
            }
            listener.await;
        }
    }

    /// [`wait`](WaitGroup::wait) for a plain thread: blocks it until the counter is zero.
    ///
    /// Called from a task it blocks the task's M; use `wait().await` there.
    pub fn wait_blocking(&self) {
        loop {
            if self.is_zero() {
                return;
            }
            let listener = self.inner.zero.listen();
            if self.is_zero() {
                return;
            }
            listener.wait();
        }
    }

    /// Whether the counter is zero (`Acquire`: pairs with the last `add`).
    fn is_zero(&self) -> bool {
        self.inner.counter.load(Ordering::Acquire) == 0
    }
}

impl fmt::Debug for WaitGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitGroup")
            .field("counter", &self.inner.counter.load(Ordering::Relaxed))
            .finish()
    }
}
