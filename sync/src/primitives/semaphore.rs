//! [`Semaphore`]: a count of permits that tasks take and give back, with tokio's API.
//!
//! # Why not `async-lock`'s semaphore
//!
//! It lacks three things tokio users rely on: `close` (which fails every waiting and future
//! acquirer, the usual way to shut a bounded pool down), `acquire_many`, and owned permits on a
//! plain `Arc<Semaphore>` (its owned guard wants the `Arc` of its own type, which a newtype
//! cannot provide without `unsafe`). Written here on `event-listener`, all three are a few lines
//! each, and the owned permit is just the `Arc` and a count.
//!
//! # Protocol
//!
//! 1. The whole state is one word, `state`: the available permits shifted left by one, and
//!    [`CLOSED`] in bit 0. Taking permits is a CAS that fails if closed or short; giving them
//!    back is a `fetch_add`. Neither takes a lock.
//! 2. An acquirer that finds too few permits registers a listener, tries again (a release
//!    between the first try and the registration would otherwise be missed), and parks.
//! 3. Acquirers of one permit wait in `one_waiters`. A release of `n` permits wakes `n` of them
//!    that were not woken yet (`notify_additional`): one wake per permit, so no thundering herd,
//!    and no permit sits unused while a waiter sleeps. A woken acquirer that loses its permit to
//!    a barging `try_acquire` registers again; the barger's release will wake someone.
//!    `event-listener` passes the wake of a listener dropped unconsumed (a cancelled acquire)
//!    on to the next one.
//! 4. Acquirers of several permits wait in `many_waiters`, and every release wakes all of them:
//!    a per-permit wake could go to a waiter that needs more than is free, which would then have
//!    to pass it on, possibly round a ring of such waiters forever. Releases skip this event
//!    while `many_waiting` is zero, so single-permit users never pay for it.
//! 5. `close` sets [`CLOSED`] and wakes every waiter of both kinds; each finds the bit and fails.
//!
//! # Memory ordering
//!
//! A successful take is `Acquire` and a release is `Release` on `state`, so what a task wrote
//! before dropping its permit is visible to the next holder. The lost-wake race of step 4 is a
//! store-load pattern on two words: a waiter increments `many_waiting` and then (after the
//! `SeqCst` fence `Event::listen` emits) reads `state`; a releaser adds to `state` and then
//! (after the `SeqCst` fence `Event::notify` emits, for `one_waiters`) reads `many_waiting`. The
//! two fences make at least one of them see the other's store.
//!
//! # Fairness
//!
//! Not FIFO, unlike tokio's: a new acquirer can take a permit ahead of a woken waiter, and a
//! waiter for many permits can be overtaken by acquirers of one for as long as they keep coming.
//! Listeners are woken in the order they registered, so waiters of one permit are served roughly
//! in order.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use event_listener::{Event, IntoNotification};

/// A semaphore: `acquire().await` takes one of a fixed number of permits, parking the task
/// while none is free; dropping the permit gives it back.
///
/// Bounds concurrency (at most `n` tasks inside a section) or models a pool of resources. Share
/// it with `Arc<Semaphore>`; the `*_owned` methods give permits that own an `Arc` and can move
/// into a spawned task.
pub struct Semaphore {
    /// The available permits shifted left by one, with [`CLOSED`] in bit 0.
    ///
    /// Taken by CAS (`Acquire` on success, pairs with releases), given back with `fetch_add`
    /// (`Release`). Never holds more than [`Semaphore::MAX_PERMITS`] permits.
    state: AtomicUsize,
    /// Parked acquirers of one permit; woken one per released permit (protocol step 3).
    one_waiters: Event,
    /// Parked acquirers of several permits; all woken by every release (protocol step 4).
    many_waiters: Event,
    /// How many acquirers of several permits are registered in `many_waiters` or about to be.
    /// Incremented (`SeqCst`) before their listener is registered, decremented when they stop
    /// waiting; read by releases to skip `many_waiters` (see "Memory ordering").
    many_waiting: AtomicUsize,
}

/// Permits taken from a [`Semaphore`]; dropping it gives them back.
#[clippy::has_significant_drop]
#[must_use = "dropping the permit releases it at once"]
#[derive(Debug)]
pub struct SemaphorePermit<'a> {
    /// Where the permits go back to.
    semaphore: &'a Semaphore,
    /// How many permits this holds; zero after [`SemaphorePermit::forget`].
    permits: u32,
}

/// Permits taken from an `Arc<Semaphore>`; dropping it gives them back. Owns the `Arc`, so it
/// can move into a spawned task.
#[clippy::has_significant_drop]
#[must_use = "dropping the permit releases it at once"]
#[derive(Debug)]
pub struct OwnedSemaphorePermit {
    /// Where the permits go back to.
    semaphore: Arc<Semaphore>,
    /// How many permits this holds; zero after [`OwnedSemaphorePermit::forget`].
    permits: u32,
}

/// The error of the waiting acquisitions: the semaphore was [closed](Semaphore::close).
#[derive(Debug, PartialEq, Eq)]
pub struct AcquireError(());

/// The error of the `try_acquire*` methods.
#[derive(Debug, PartialEq, Eq)]
pub enum TryAcquireError {
    /// The semaphore was [closed](Semaphore::close) and issues no more permits.
    Closed,
    /// Too few permits are free right now.
    NoPermits,
}

/// Bit 0 of [`Semaphore::state`]: set by [`Semaphore::close`], never cleared.
const CLOSED: usize = 1;

/// The shift from a permit count to its place in [`Semaphore::state`].
const PERMIT_SHIFT: u32 = 1;

impl Semaphore {
    /// The most permits a semaphore can hold (tokio's limit, so that ported code behaves the
    /// same at the edge).
    pub const MAX_PERMITS: usize = usize::MAX >> 3;

    /// A semaphore with `permits` permits. `const`, so a semaphore can be a `static`.
    ///
    /// Panics if `permits` exceeds [`Semaphore::MAX_PERMITS`].
    pub const fn new(permits: usize) -> Semaphore {
        assert!(
            permits <= Semaphore::MAX_PERMITS,
            "a semaphore may not have more than MAX_PERMITS permits"
        );
        Semaphore {
            state: AtomicUsize::new(permits << PERMIT_SHIFT),
            one_waiters: Event::new(),
            many_waiters: Event::new(),
            many_waiting: AtomicUsize::new(0),
        }
    }

    /// The same as [`Semaphore::new`]; tokio's name for the `const` constructor.
    pub const fn const_new(permits: usize) -> Semaphore {
        Semaphore::new(permits)
    }

    /// The permits free right now. Only a snapshot: others may take or return some at once.
    pub fn available_permits(&self) -> usize {
        self.state.load(Ordering::Acquire) >> PERMIT_SHIFT
    }

    /// Adds `n` permits, waking as many waiters. Allowed after `close` too, where the permits
    /// are counted but nobody can take them.
    ///
    /// Panics if the semaphore would hold more than [`Semaphore::MAX_PERMITS`] permits.
    pub fn add_permits(&self, n: usize) {
        let added = self
            .state
            .fetch_update(Ordering::Release, Ordering::Relaxed, |state| {
                let permits = (state >> PERMIT_SHIFT).checked_add(n)?;
                (permits <= Semaphore::MAX_PERMITS)
                    .then_some(permits << PERMIT_SHIFT | state & CLOSED)
            });
        if added.is_err() {
            panic!(
                "number of added permits ({n}) would overflow MAX_PERMITS ({})",
                Semaphore::MAX_PERMITS
            );
        }
        self.wake_after_release(n);
    }

    /// Removes up to `n` free permits (held ones are not touched) and returns how many it
    /// removed. Shrinks a pool without waiting for its users.
    pub fn forget_permits(&self, n: usize) -> usize {
        let mut removed = 0;
        let _ = self
            .state
            .fetch_update(Ordering::Acquire, Ordering::Relaxed, |state| {
                removed = n.min(state >> PERMIT_SHIFT);
                Some(state - (removed << PERMIT_SHIFT))
            });
        removed
    }

    /// Takes one permit, parking the task until one is free.
    ///
    /// Fails once the semaphore is [closed](Semaphore::close), even if permits are free. Cancel
    /// safe: a future dropped before it completes holds no permit.
    pub async fn acquire(&self) -> Result<SemaphorePermit<'_>, AcquireError> {
        super::cooperative(self.take(1)).await?;
        Ok(SemaphorePermit {
            semaphore: self,
            permits: 1,
        })
    }

    /// Takes `n` permits at once, parking the task until they are all free. Acquiring zero
    /// permits succeeds at once unless the semaphore is closed.
    ///
    /// See the module's "Fairness": a steady stream of single-permit acquirers can hold this
    /// back.
    pub async fn acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, AcquireError> {
        super::cooperative(self.take(n as usize)).await?;
        Ok(SemaphorePermit {
            semaphore: self,
            permits: n,
        })
    }

    /// Takes one permit if one is free, without waiting.
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_take(1)?;
        Ok(SemaphorePermit {
            semaphore: self,
            permits: 1,
        })
    }

    /// Takes `n` permits if they are all free, without waiting.
    pub fn try_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_take(n as usize)?;
        Ok(SemaphorePermit {
            semaphore: self,
            permits: n,
        })
    }

    /// [`Semaphore::acquire`] for a permit that owns the `Arc` and can move into a task.
    pub async fn acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, AcquireError> {
        self.acquire_many_owned(1).await
    }

    /// [`Semaphore::acquire_many`] for a permit that owns the `Arc` and can move into a task.
    pub async fn acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, AcquireError> {
        super::cooperative(self.take(n as usize)).await?;
        Ok(OwnedSemaphorePermit {
            semaphore: self,
            permits: n,
        })
    }

    /// [`Semaphore::try_acquire`] for a permit that owns the `Arc` and can move into a task.
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_acquire_many_owned(1)
    }

    /// [`Semaphore::try_acquire_many`] for a permit that owns the `Arc`.
    pub fn try_acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_take(n as usize)?;
        Ok(OwnedSemaphorePermit {
            semaphore: self,
            permits: n,
        })
    }

    /// Closes the semaphore: every waiting acquirer fails with [`AcquireError`], and so does
    /// every later one. Permits already held stay valid and are still given back on drop.
    pub fn close(&self) {
        self.state.fetch_or(CLOSED, Ordering::Release);
        self.one_waiters.notify(usize::MAX);
        self.many_waiters.notify(usize::MAX);
    }

    /// Whether [`Semaphore::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.state.load(Ordering::Acquire) & CLOSED != 0
    }

    /// Takes `n` permits if they are free and the semaphore is open (protocol step 1).
    fn try_take(&self, n: usize) -> Result<(), TryAcquireError> {
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            if state & CLOSED != 0 {
                return Err(TryAcquireError::Closed);
            }
            if state >> PERMIT_SHIFT < n {
                return Err(TryAcquireError::NoPermits);
            }
            let taken = state - (n << PERMIT_SHIFT);
            match self.state.compare_exchange_weak(
                state,
                taken,
                Ordering::Acquire,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(()),
                Err(actual) => state = actual,
            }
        }
    }

    /// Takes `n` permits, parking until they are free (protocol steps 2 to 4).
    async fn take(&self, n: usize) -> Result<(), AcquireError> {
        let waiters = if n <= 1 {
            &self.one_waiters
        } else {
            &self.many_waiters
        };
        let mut registered: Option<ManyWaiting<'_>> = None;
        let mut listener = None;
        loop {
            match self.try_take(n) {
                Ok(()) => return Ok(()),
                Err(TryAcquireError::Closed) => return Err(AcquireError(())),
                Err(TryAcquireError::NoPermits) => {}
            }
            // Registered before the try that just failed: park until a release or close.
            if let Some(listener) = listener.take() {
                listener.await;
            }
            if n > 1 && registered.is_none() {
                registered = Some(ManyWaiting::register(self));
            }
            // Register before the next try, so a release in between is not missed.
            listener = Some(waiters.listen());
        }
    }

    /// Gives `n` permits back.
    fn release(&self, n: u32) {
        if n == 0 {
            return;
        }
        self.state
            .fetch_add((n as usize) << PERMIT_SHIFT, Ordering::Release);
        self.wake_after_release(n as usize);
    }

    /// Wakes the waiters that `n` new permits may serve (protocol steps 3 and 4). Called after
    /// the permits were added to `state`.
    fn wake_after_release(&self, n: usize) {
        // The `SeqCst` fence of this notify orders the caller's store to `state` before the
        // load of `many_waiting` below (see "Memory ordering").
        self.one_waiters.notify(n.additional());
        if self.many_waiting.load(Ordering::SeqCst) != 0 {
            self.many_waiters.notify(usize::MAX);
        }
    }
}

/// Counts one acquirer of several permits in [`Semaphore::many_waiting`] for as long as it
/// lives, so that the count is right however the acquisition ends (done, closed, cancelled).
struct ManyWaiting<'a> {
    /// The semaphore whose count this holds.
    semaphore: &'a Semaphore,
}

impl<'a> ManyWaiting<'a> {
    /// Counts a waiter; must happen before its listener is registered (see "Memory ordering").
    fn register(semaphore: &'a Semaphore) -> ManyWaiting<'a> {
        semaphore.many_waiting.fetch_add(1, Ordering::SeqCst);
        ManyWaiting { semaphore }
    }
}

impl Drop for ManyWaiting<'_> {
    fn drop(&mut self) {
        self.semaphore.many_waiting.fetch_sub(1, Ordering::Relaxed);
    }
}

impl<'a> SemaphorePermit<'a> {
    /// Keeps the permits taken for good: dropping this gives nothing back.
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// Adds `other`'s permits to this one.
    ///
    /// Panics if `other` comes from another semaphore.
    #[track_caller]
    pub fn merge(&mut self, mut other: SemaphorePermit<'a>) {
        assert!(
            std::ptr::eq(self.semaphore, other.semaphore),
            "merging permits from different semaphore instances"
        );
        self.permits += other.permits;
        other.permits = 0;
    }

    /// Moves `n` of this permit's permits into a new one; `None` if it holds fewer than `n`.
    pub fn split(&mut self, n: usize) -> Option<SemaphorePermit<'a>> {
        let n = u32::try_from(n).ok().filter(|&n| n <= self.permits)?;
        self.permits -= n;
        Some(SemaphorePermit {
            semaphore: self.semaphore,
            permits: n,
        })
    }

    /// The semaphore the permits come from.
    pub fn semaphore(&self) -> &Semaphore {
        self.semaphore
    }

    /// How many permits this holds.
    pub fn num_permits(&self) -> usize {
        self.permits as usize
    }
}

impl OwnedSemaphorePermit {
    /// Keeps the permits taken for good: dropping this gives nothing back (but drops the `Arc`).
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// Adds `other`'s permits to this one.
    ///
    /// Panics if `other` comes from another semaphore.
    #[track_caller]
    pub fn merge(&mut self, mut other: OwnedSemaphorePermit) {
        assert!(
            Arc::ptr_eq(&self.semaphore, &other.semaphore),
            "merging permits from different semaphore instances"
        );
        self.permits += other.permits;
        other.permits = 0;
    }

    /// Moves `n` of this permit's permits into a new one; `None` if it holds fewer than `n`.
    pub fn split(&mut self, n: usize) -> Option<OwnedSemaphorePermit> {
        let n = u32::try_from(n).ok().filter(|&n| n <= self.permits)?;
        self.permits -= n;
        Some(OwnedSemaphorePermit {
            semaphore: Arc::clone(&self.semaphore),
            permits: n,
        })
    }

    /// The semaphore the permits come from.
    pub fn semaphore(&self) -> &Arc<Semaphore> {
        &self.semaphore
    }

    /// How many permits this holds.
    pub fn num_permits(&self) -> usize {
        self.permits as usize
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        self.semaphore.release(self.permits);
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        self.semaphore.release(self.permits);
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.load(Ordering::Relaxed);
        f.debug_struct("Semaphore")
            .field("permits", &(state >> PERMIT_SHIFT))
            .field("closed", &(state & CLOSED != 0))
            .finish()
    }
}

impl TryAcquireError {
    /// Whether the semaphore was closed.
    pub fn is_closed(&self) -> bool {
        matches!(self, TryAcquireError::Closed)
    }

    /// Whether too few permits were free.
    pub fn is_no_permits(&self) -> bool {
        matches!(self, TryAcquireError::NoPermits)
    }
}

impl fmt::Display for AcquireError {
    /// tokio's message, so that logs read the same after a port.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("semaphore closed")
    }
}

impl std::error::Error for AcquireError {}

impl fmt::Display for TryAcquireError {
    /// tokio's messages, so that logs read the same after a port.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TryAcquireError::Closed => "semaphore closed",
            TryAcquireError::NoPermits => "no permits available",
        })
    }
}

impl std::error::Error for TryAcquireError {}
