//! [`WaitGroup`]: Go's `sync.WaitGroup` for tasks and threads.
//!
//! # Design
//!
//! Go's WaitGroup is a counter and a semaphore for the waiters, packed in one 64-bit word so
//! that `Add` can tell whether anybody waits. Here the counter is an `AtomicIsize` and the
//! waiters are a [`WaitQueue`] under a `std` mutex; `add` takes the lock only when the counter
//! reaches zero, so the common `add`/`done` is one atomic operation.
//!
//! 1. `add(delta)` adds to the counter. Below zero is a caller's bug: the add is undone and the
//!    call panics with Go's message. Reaching zero takes the lock and releases every waiter.
//! 2. `wait` takes the lock and returns if the counter is zero; otherwise it queues and parks.
//!    Checking under the lock is what makes the wake certain: either the last `done` decremented
//!    before the check (the lock orders it before), or its release comes after the waiter
//!    queued (its lock is taken after the waiter's unlock).
//! 3. A released waiter checks once more and queues again if the counter left zero meanwhile,
//!    which only a reuse that Go forbids (an `add` racing a `wait`) can cause.
//!
//! # Memory ordering
//!
//! `add` is `AcqRel` and `wait`'s check `Acquire`, so everything a task wrote before its `done`
//! is visible after `wait` returns: the reason a WaitGroup is used at all.
//!
//! # Sharing, and the leak pass
//!
//! Go passes `*sync.WaitGroup`. Here every method takes `&self`, and `Clone` gives another
//! handle on the same counter, so a clone moves into each spawned task the way Go code passes
//! the pointer. The shared state is an object in the GC arena (a `Gc`, kind `Waits`), and a
//! `WaitGroup` is [`Trace`]: captured by `go!`, it is an edge the leak pass follows, and the
//! tasks parked in `wait` are reported with Go's wait reason, `sync.WaitGroup.Wait`, when no
//! live task can call `done` any more.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError, TryLockError};
use std::task::{Context, Poll, Waker};

use gort_gc::{Edge, Gc, Kind, Trace, Tracer, Visitor};

use crate::wait_queue::{Status, Ticket, WaitQueue};

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
#[derive(Clone)]
pub struct WaitGroup {
    /// The counter and its waiters, shared by every clone.
    inner: Gc<Inner>,
}

/// The state behind every clone of a [`WaitGroup`].
struct Inner {
    /// Tasks added and not yet done. Changed by `add` (`AcqRel`), read by the waits under
    /// `waiters`' lock (`Acquire`). Never observed below zero except during a misuse that
    /// panics.
    counter: AtomicIsize,
    /// Tasks and threads waiting for `counter` to reach zero; all released when it does.
    waiters: Mutex<WaitQueue>,
}

/// The future of [`WaitGroup::wait`] once the counter was seen above zero.
struct Wait<'a> {
    inner: &'a Inner,
    /// This wait's place in the queue while parked.
    ticket: Option<Ticket>,
}

/// How the leak pass sees a [`WaitGroup`]'s state: the parked waiters' wakers, no edges.
struct ParkedWaiters;

impl WaitGroup {
    /// A wait group whose counter is zero.
    pub fn new() -> WaitGroup {
        WaitGroup {
            inner: Gc::new_traced_by::<ParkedWaiters>(Inner {
                counter: AtomicIsize::new(0),
                waiters: Mutex::new(WaitQueue::new()),
            }),
        }
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
            negative_counter();
        }
        if after == 0 && delta != 0 {
            let released = self.inner.lock().release_all();
            released.wake();
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
        if self.inner.is_zero() {
            return;
        }
        Wait {
            inner: &self.inner,
            ticket: None,
        }
        .await;
    }

    /// [`wait`](WaitGroup::wait) for a plain thread: blocks it until the counter is zero.
    ///
    /// Called from a task it blocks the task's M; use `wait().await` there. The thread does not
    /// hold off a collection while it waits.
    pub fn wait_blocking(&self) {
        if self.inner.is_zero() {
            return;
        }
        gort_gc::unpinned(|| futures::executor::block_on(self.wait()));
    }
}

impl Inner {
    /// Whether the counter is zero (`Acquire`: pairs with the last `add`).
    fn is_zero(&self) -> bool {
        self.counter.load(Ordering::Acquire) == 0
    }

    /// Locks the waiters. Poisoning is ignored: only a waker's `clone` runs user code under the
    /// lock, before anything changes.
    fn lock(&self) -> MutexGuard<'_, WaitQueue> {
        self.waiters.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Future for Wait<'_> {
    type Output = ();

    /// Protocol steps 2 and 3.
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let inner = self.inner;
        let mut waiters = inner.lock();
        let dropped: Option<Waker> = match self.ticket.take() {
            Some(ticket) if waiters.status(&ticket) == Status::Queued => {
                let replaced = waiters.update_waker(&ticket, cx.waker());
                self.ticket = Some(ticket);
                replaced
            }
            // Released: the counter reached zero; checked again below.
            Some(ticket) => waiters.remove(ticket).1,
            None => None,
        };
        let ready = self.ticket.is_none() && inner.is_zero();
        if self.ticket.is_none() && !ready {
            self.ticket = Some(waiters.push(Some(cx.waker().clone())));
        }
        drop(waiters);
        drop(dropped);
        if ready {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket.take() {
            let (_, waker) = self.inner.lock().remove(ticket);
            drop(waker);
        }
    }
}

// SAFETY: reports only wakers (of the tasks parked in `wait`, each under its queue entry's
// address), no object edge, hence `Waits`.
unsafe impl Tracer<Inner> for ParkedWaiters {
    const KIND: Kind = Kind::Waits;
    fn trace(inner: &Inner, visitor: &mut dyn Visitor) {
        // With the world stopped the lock is free, unless a thread outside every pin holds it;
        // reporting nothing then only makes the waiting tasks look reachable.
        let waiters = match inner.waiters.try_lock() {
            Ok(waiters) => waiters,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return,
        };
        for (holder, waker) in waiters.queued_wakers() {
            visitor.visit_waker(holder, waker, "sync.WaitGroup.Wait");
        }
    }
}

// SAFETY: a `WaitGroup` owns exactly one handle, to its shared state.
unsafe impl Trace for WaitGroup {
    fn trace(&self, visitor: &mut dyn Visitor) {
        visitor.visit(Edge::to(&self.inner));
    }
}

/// The panic of an `add` that would take the counter below zero, in Go's words.
#[cold]
#[track_caller]
fn negative_counter() -> ! {
    panic!("sync: negative WaitGroup counter");
}

impl Default for WaitGroup {
    fn default() -> WaitGroup {
        WaitGroup::new()
    }
}

impl fmt::Debug for WaitGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitGroup")
            .field("counter", &self.inner.counter.load(Ordering::Relaxed))
            .finish()
    }
}
