//! `BatchSemaphore`: the FIFO semaphore under [`Semaphore`](crate::primitives::Semaphore),
//! [`Mutex`](crate::primitives::Mutex) (one permit) and [`RwLock`](crate::primitives::RwLock)
//! (a reader takes one permit, a writer all of them), in the way Go's `sync.Mutex` and
//! `sync.RWMutex` sit on the runtime's `semacquire`.
//!
//! # State
//!
//! One word, `state`, holds the permits nobody has, shifted left by two, and two flags:
//! [`CLOSED`] (set once by `close`) and [`QUEUED`] (someone waits). The waiters themselves are a
//! FIFO of reservations under a `std` mutex: the mpsc channel's wait list (`mpsc/wait_list.rs`),
//! a slab whose entries are reused, so a task that parks on a warm lock allocates nothing.
//!
//! # Invariants
//!
//! - `QUEUED` is set exactly while the wait list is non-empty, and only under its lock.
//! - While `QUEUED` is set the word holds no permit: permits that come back go to the oldest
//!   waiter first, and only what the last waiter does not need goes back to the word.
//!
//! Those two make the lock-free paths fair without looking at the list: `try_acquire` (a CAS
//! that needs enough permits in the word) can never overtake a parked acquirer, and a release
//! that finds `QUEUED` clear may add its permits with a CAS, because a waiter can only appear by
//! setting `QUEUED` in that same word, under the lock, which makes the CAS fail.
//!
//! # Acquiring
//!
//! 1. Fast path: a CAS takes the permits if the word has enough and `QUEUED` is clear.
//! 2. Otherwise, under the lock: try again; if still short, take what the word has (nothing if
//!    others wait: it is theirs), set `QUEUED` and queue a reservation for the rest. The head
//!    of the line is assigned released permits a few at a time; a waiter that wants more than
//!    is free blocks those behind it (tokio's fairness, and Go's starvation mode made the
//!    rule), so a writer of an `RwLock` is not starved by a stream of readers.
//! 3. A reservation whose last permit was assigned is *granted* and taken out of the line, and
//!    its task is woken; its next poll completes.
//!
//! # Cancellation and close
//!
//! Dropping an acquire that is queued gives back what was assigned to it (to the next waiters,
//! or to the word); one that was granted but not polled gives back all of it. `close` sets
//! [`CLOSED`] and fails every waiter; their assigned permits come back when their futures see
//! it (or are dropped). Wakers are woken, and replaced wakers dropped, after the unlock: they
//! are user code, and may use this very semaphore.
//!
//! # Coop budget
//!
//! An acquisition spends one unit of the task's coop budget (`gort-context`), as tokio's does:
//! a task that takes an uncontended lock in a loop must still yield its P. The unit is asked
//! for after the permits are taken, as in tokio: a task whose budget is spent still takes its
//! place in line (and, if the permits are free, takes them and holds them through its yield),
//! so being out of budget never costs it its turn. A future dropped while holding them so
//! gives them back.
//!
//! # Memory ordering
//!
//! Every change of `state` is a CAS or an RMW with `AcqRel` (`Acquire` loads), so what a task
//! wrote before giving permits back is visible to whoever takes them next, through the word or
//! through the list's lock. The lock orders everything else.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll, Waker};

use gort_gc::Visitor;

use crate::chan::Wakes;
use crate::loom::{AtomicUsize, Mutex, MutexGuard, Ordering};
use crate::mpsc::wait_list::{Reservation, Status, WaitList};

/// The most permits a semaphore can hold (tokio's limit: the top three bits are never
/// permits).
pub const MAX_PERMITS: usize = usize::MAX >> 3;

/// `state` bit: the semaphore is closed; set once, never cleared.
const CLOSED: usize = 1;
/// `state` bit: the wait list is non-empty (module doc, "Invariants").
const QUEUED: usize = 2;
/// Where the permit count starts in `state`.
const PERMIT_SHIFT: u32 = 2;

/// The semaphore (module doc).
pub struct BatchSemaphore {
    /// Free permits `<< PERMIT_SHIFT`, with [`CLOSED`] and [`QUEUED`].
    state: AtomicUsize,
    /// Parked acquirers, oldest first.
    waiters: Mutex<WaitList>,
}

/// An acquisition failed: the semaphore is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

/// Why a `try_acquire` failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryAcquireFailure {
    /// The semaphore is closed.
    Closed,
    /// Too few permits are free (or others wait for them).
    NoPermits,
}

impl BatchSemaphore {
    /// A semaphore with `permits` free permits; the caller checked them against
    /// [`MAX_PERMITS`]. `const` so that the locks over it can be `static`s.
    #[cfg(not(loom))]
    pub const fn new(permits: usize) -> BatchSemaphore {
        BatchSemaphore {
            state: AtomicUsize::new(permits << PERMIT_SHIFT),
            waiters: Mutex::new(WaitList::new()),
        }
    }

    /// Under loom: loom's types have no `const` constructors.
    #[cfg(loom)]
    pub fn new(permits: usize) -> BatchSemaphore {
        BatchSemaphore {
            state: AtomicUsize::new(permits << PERMIT_SHIFT),
            waiters: Mutex::new(WaitList::new()),
        }
    }

    /// Free permits now (none while anybody waits).
    pub fn available_permits(&self) -> usize {
        self.state.load(Ordering::Acquire) >> PERMIT_SHIFT
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.state.load(Ordering::Acquire) & CLOSED != 0
    }

    /// Takes `n` permits if the word has them, never overtaking a waiter.
    pub fn try_acquire(&self, n: usize) -> Result<(), TryAcquireFailure> {
        assert_within_max(n);
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            if state & CLOSED != 0 {
                return Err(TryAcquireFailure::Closed);
            }
            if state >> PERMIT_SHIFT < n {
                return Err(TryAcquireFailure::NoPermits);
            }
            let next = state - (n << PERMIT_SHIFT);
            match self
                .state
                .compare_exchange_weak(state, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return Ok(()),
                Err(now) => state = now,
            }
        }
    }

    /// A future that takes `n` permits, waiting in line for them.
    pub fn acquire(&self, n: usize) -> Acquire<'_> {
        assert_within_max(n);
        Acquire {
            semaphore: self,
            wanted: n,
            key: None,
            holding: false,
        }
    }

    /// Gives `n` permits back (or adds new ones): to the waiters first, oldest first.
    ///
    /// Panics if the free permits would exceed [`MAX_PERMITS`].
    pub fn release(&self, n: usize) {
        if n == 0 {
            return;
        }
        let mut state = self.state.load(Ordering::Acquire);
        while state & QUEUED == 0 {
            match self.state.compare_exchange_weak(
                state,
                with_added(state, n),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return,
                Err(now) => state = now,
            }
        }
        let mut wakes = Wakes::default();
        {
            let mut waiters = self.lock();
            self.give_locked(&mut waiters, n, &mut wakes);
        }
        wakes.wake_all();
    }

    /// Removes up to `n` free permits; returns how many it removed.
    pub fn forget_permits(&self, n: usize) -> usize {
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            let removed = n.min(state >> PERMIT_SHIFT);
            if removed == 0 {
                return 0;
            }
            let next = state - (removed << PERMIT_SHIFT);
            match self
                .state
                .compare_exchange_weak(state, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return removed,
                Err(now) => state = now,
            }
        }
    }

    /// Closes the semaphore: every waiter fails, and so does every later acquisition.
    pub fn close(&self) {
        self.state.fetch_or(CLOSED, Ordering::AcqRel);
        let mut wakes = Wakes::default();
        {
            let mut waiters = self.lock();
            while let Some(failed) = waiters.pop_front(Status::Closed) {
                wakes.push(failed.waker.take());
            }
            self.state.fetch_and(!QUEUED, Ordering::AcqRel);
        }
        wakes.wake_all();
    }

    /// Reports the wakers of the parked acquirers to the leak pass, each with the wait reason
    /// `reason` gives for the permits it wants. The world is stopped, so the lock is free
    /// unless a plain thread holds it; then nothing is reported, which only makes the waiting
    /// tasks look reachable.
    pub fn trace_waiters(&self, visitor: &mut dyn Visitor, reason: impl Fn(usize) -> &'static str) {
        let waiters = match self.waiters.try_lock() {
            Ok(waiters) => waiters,
            Err(std::sync::TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return,
        };
        for reservation in waiters.iter() {
            if let Some(waker) = &reservation.waker {
                let holder = std::ptr::from_ref(reservation).addr();
                visitor.visit_waker(holder, waker, reason(reservation.wanted));
            }
        }
    }

    /// Takes the wait list's lock. Poison is ignored: only a waker's `clone` runs user code
    /// under it, before anything is changed.
    fn lock(&self) -> MutexGuard<'_, WaitList> {
        self.waiters.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Hands `n` permits to the oldest waiters (granting those that then have all they want);
    /// once the line is empty, clears [`QUEUED`] and puts the rest in the word.
    fn give_locked(&self, waiters: &mut WaitList, mut n: usize, wakes: &mut Wakes) {
        while n > 0 {
            let Some(oldest) = waiters.front_mut() else {
                break;
            };
            let assigned = n.min(oldest.remaining);
            oldest.remaining -= assigned;
            n -= assigned;
            if oldest.remaining == 0 {
                if let Some(granted) = waiters.pop_front(Status::Granted) {
                    wakes.push(granted.waker.take());
                }
            }
        }
        if !waiters.is_empty() {
            debug_assert_eq!(n, 0);
            return;
        }
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            let next = with_added(state & !QUEUED, n);
            match self
                .state
                .compare_exchange_weak(state, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return,
                Err(now) => state = now,
            }
        }
    }
}

/// `state` with `n` more free permits. Panics past [`MAX_PERMITS`], with tokio's message.
fn with_added(state: usize, n: usize) -> usize {
    let permits = state >> PERMIT_SHIFT;
    if n > MAX_PERMITS || permits + n > MAX_PERMITS {
        panic!("number of added permits ({n}) would overflow MAX_PERMITS ({MAX_PERMITS})");
    }
    ((permits + n) << PERMIT_SHIFT) | (state & (CLOSED | QUEUED))
}

/// Panics if `n` permits could never be held (only reachable with 32-bit `usize`).
fn assert_within_max(n: usize) {
    assert!(
        n <= MAX_PERMITS,
        "a semaphore may not have more than MAX_PERMITS permits ({MAX_PERMITS})"
    );
}

/// The future of [`BatchSemaphore::acquire`]: `Ok` once it holds its permits (the caller then
/// owns them), `Err` if the semaphore closed first. Cancel safe (module doc).
#[must_use = "futures do nothing unless polled"]
pub struct Acquire<'a> {
    semaphore: &'a BatchSemaphore,
    /// Permits asked for.
    wanted: usize,
    /// Its reservation in the wait list once it queued; `None` before, and once it completed.
    key: Option<usize>,
    /// It has its permits but has not returned them yet: the task's coop budget was spent.
    holding: bool,
}

impl Future for Acquire<'_> {
    type Output = Result<(), Closed>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if !self.holding {
            let acquired = match self.key {
                Some(key) => self.poll_queued(key, cx),
                None => self.poll_first(cx),
            };
            ready!(acquired)?;
            self.holding = true;
        }
        // The budget is asked only once the permits are ours (module doc, "Coop budget").
        let progress = ready!(gort_context::poll_proceed(cx));
        progress.made();
        self.holding = false;
        Poll::Ready(Ok(()))
    }
}

impl Acquire<'_> {
    /// Steps 1 and 2 of the module doc's "Acquiring".
    fn poll_first(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Closed>> {
        let semaphore = self.semaphore;
        let wanted = self.wanted;
        if wanted == 0 {
            return Poll::Ready(if semaphore.is_closed() {
                Err(Closed)
            } else {
                Ok(())
            });
        }
        match semaphore.try_acquire(wanted) {
            Ok(()) => return Poll::Ready(Ok(())),
            Err(TryAcquireFailure::Closed) => return Poll::Ready(Err(Closed)),
            Err(TryAcquireFailure::NoPermits) => {}
        }
        let mut waiters = semaphore.lock();
        let mut state = semaphore.state.load(Ordering::Acquire);
        let taken = loop {
            if state & CLOSED != 0 {
                return Poll::Ready(Err(Closed));
            }
            if state & QUEUED != 0 {
                // Others wait: the word is empty (invariant), and only we can change `QUEUED`.
                break 0;
            }
            let free = state >> PERMIT_SHIFT;
            let (next, taken) = if free >= wanted {
                (state - (wanted << PERMIT_SHIFT), wanted)
            } else {
                (QUEUED, free)
            };
            match semaphore.state.compare_exchange_weak(
                state,
                next,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) if taken == wanted => return Poll::Ready(Ok(())),
                Ok(_) => break taken,
                Err(now) => state = now,
            }
        };
        self.key = Some(waiters.push_back(Reservation {
            wanted,
            remaining: wanted - taken,
            waker: Some(cx.waker().clone()),
            status: Status::Queued,
        }));
        Poll::Pending
    }

    /// A poll after it queued: collects the outcome, or refreshes the waker.
    fn poll_queued(&mut self, key: usize, cx: &mut Context<'_>) -> Poll<Result<(), Closed>> {
        let semaphore = self.semaphore;
        let mut waiters = semaphore.lock();
        let reservation = waiters.get_mut(key);
        match reservation.status {
            Status::Queued => {
                let replaced = match &reservation.waker {
                    Some(old) if old.will_wake(cx.waker()) => None,
                    _ => reservation.waker.replace(cx.waker().clone()),
                };
                drop(waiters);
                drop::<Option<Waker>>(replaced);
                Poll::Pending
            }
            Status::Granted => {
                self.key = None;
                let done = waiters.remove(key);
                drop(waiters);
                drop(done);
                Poll::Ready(Ok(()))
            }
            Status::Closed => {
                self.key = None;
                let failed = waiters.remove(key);
                drop(waiters);
                semaphore.release(failed.assigned());
                drop(failed);
                Poll::Ready(Err(Closed))
            }
        }
    }
}

impl Drop for Acquire<'_> {
    /// Leaves the line, giving back what was assigned (module doc, "Cancellation").
    fn drop(&mut self) {
        if self.holding {
            self.semaphore.release(self.wanted);
            return;
        }
        let Some(key) = self.key.take() else {
            return;
        };
        let semaphore = self.semaphore;
        let mut wakes = Wakes::default();
        let left = {
            let mut waiters = semaphore.lock();
            let left = waiters.remove(key);
            let given_back = match left.status {
                Status::Granted => left.wanted,
                Status::Queued | Status::Closed => left.assigned(),
            };
            semaphore.give_locked(&mut waiters, given_back, &mut wakes);
            left
        };
        drop(left);
        wakes.wake_all();
    }
}

impl std::fmt::Debug for BatchSemaphore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Semaphore")
            .field("permits", &self.available_permits())
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl std::fmt::Debug for Acquire<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Acquire")
            .field("wanted", &self.wanted)
            .field("queued", &self.key.is_some())
            .finish()
    }
}
