//! [`Semaphore`]: a count of permits that tasks take and give back, with tokio's API, on the
//! crate's FIFO batch semaphore (`batch_semaphore.rs`, where the protocol is described).
//!
//! What this file adds is the API: permit guards that give their permits back on drop
//! (borrowed, or owning an `Arc<Semaphore>` to move into a task), the coop budget spent on each
//! acquisition, the thread-blocking variants, and tokio's error types. Acquirers are served in
//! the order they asked, as in tokio: an `acquire_many(5)` at the head of the line holds back
//! the `acquire()`s behind it until it has its five.
//!
//! # The leak pass
//!
//! A `Semaphore` is plain memory (so `const_new` can make a `static`), not an arena object of
//! its own. It is [`Trace`]: put it in the arena (`Gc<Semaphore>`, or a field of a traced
//! struct captured by `go!`) and the leak pass sees the tasks parked on it, with Go's wait
//! reason `semacquire`; tasks parked on one that only leaked tasks can reach are reported.
//! Behind an `Arc` it is opaque, like everything behind an `Arc`, and its waiters count as
//! reachable.

use std::fmt;
use std::sync::Arc;

use gort_gc::{Trace, Visitor};

use crate::batch_semaphore::{self, BatchSemaphore, TryAcquireFailure};

/// A semaphore: `acquire().await` takes one of a number of permits, parking the task while
/// none is free; dropping the permit gives it back.
///
/// Bounds concurrency (at most `n` tasks inside a section) or models a pool of resources.
/// Waiters are served first come, first served. Share it with `Arc<Semaphore>`; the `*_owned`
/// methods give permits that own an `Arc` and can move into a spawned task.
pub struct Semaphore {
    /// The permits and the line of waiters.
    core: BatchSemaphore,
}

/// Permits taken from a [`Semaphore`]; dropping it gives them back.
#[clippy::has_significant_drop]
#[must_use = "dropping the permit releases it at once"]
#[derive(Debug)]
pub struct SemaphorePermit<'a> {
    /// Where the permits go back to.
    semaphore: &'a Semaphore,
    /// How many permits this holds; zero after [`SemaphorePermit::forget`].
    permits: usize,
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
    permits: usize,
}

/// The error of the waiting acquisitions: the semaphore was [closed](Semaphore::close).
#[derive(Debug, PartialEq, Eq)]
pub struct AcquireError(());

/// The error of the `try_acquire*` methods.
#[derive(Debug, PartialEq, Eq)]
pub enum TryAcquireError {
    /// The semaphore was [closed](Semaphore::close) and issues no more permits.
    Closed,
    /// Too few permits are free right now (or others are waiting for them).
    NoPermits,
}

impl Semaphore {
    /// The most permits a semaphore can hold (tokio's limit, so that ported code behaves the
    /// same at the edge).
    pub const MAX_PERMITS: usize = batch_semaphore::MAX_PERMITS;

    /// A semaphore with `permits` permits. `const`, so a semaphore can be a `static`.
    ///
    /// Panics if `permits` exceeds [`Semaphore::MAX_PERMITS`].
    #[track_caller]
    pub const fn new(permits: usize) -> Semaphore {
        assert!(
            permits <= Semaphore::MAX_PERMITS,
            "a semaphore may not have more than MAX_PERMITS permits"
        );
        Semaphore {
            core: BatchSemaphore::new(permits),
        }
    }

    /// The same as [`Semaphore::new`]; tokio's name for the `const` constructor.
    #[track_caller]
    pub const fn const_new(permits: usize) -> Semaphore {
        Semaphore::new(permits)
    }

    /// The permits free right now (none while tasks wait for some). Only a snapshot: others
    /// may take or return some at once.
    pub fn available_permits(&self) -> usize {
        self.core.available_permits()
    }

    /// Adds `n` permits, handing them to waiters first. Allowed after `close` too, where the
    /// permits are counted but nobody can take them.
    ///
    /// Panics if the semaphore would hold more than [`Semaphore::MAX_PERMITS`] permits.
    pub fn add_permits(&self, n: usize) {
        self.core.release(n);
    }

    /// Removes up to `n` free permits (held ones are not touched) and returns how many it
    /// removed. Shrinks a pool without waiting for its users.
    pub fn forget_permits(&self, n: usize) -> usize {
        self.core.forget_permits(n)
    }

    /// Takes one permit, parking the task until it is its turn and a permit is free.
    ///
    /// Fails once the semaphore is [closed](Semaphore::close), even if permits are free. Cancel
    /// safe: dropping the future gives back anything it was assigned and keeps its place in
    /// line for nobody.
    pub async fn acquire(&self) -> Result<SemaphorePermit<'_>, AcquireError> {
        self.acquire_many(1).await
    }

    /// Takes `n` permits at once, parking the task until they are all free. Permits freed
    /// meanwhile are set aside for it, so a large request is not starved by small ones.
    /// Acquiring zero permits succeeds at once unless the semaphore is closed.
    pub async fn acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, AcquireError> {
        let permits = n as usize;
        self.core
            .acquire(permits)
            .await
            .map_err(|_| AcquireError(()))?;
        Ok(SemaphorePermit {
            semaphore: self,
            permits,
        })
    }

    /// Takes one permit if one is free and nobody waits, without waiting.
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if they are all free and nobody waits, without waiting.
    pub fn try_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        let permits = n as usize;
        self.core.try_acquire(permits).map_err(try_error)?;
        Ok(SemaphorePermit {
            semaphore: self,
            permits,
        })
    }

    /// [`Semaphore::acquire`] from a plain thread, which it blocks meanwhile.
    ///
    /// Panics when called where the thread runs tasks (inside a task or a `block_on` future):
    /// blocking there would stall every task queued behind it; `.await` [`Semaphore::acquire`]
    /// instead.
    #[track_caller]
    pub fn blocking_acquire(&self) -> Result<SemaphorePermit<'_>, AcquireError> {
        crate::blocking::block_on("Semaphore::blocking_acquire", self.acquire_many(1))
    }

    /// [`Semaphore::acquire_many`] from a plain thread; panics inside a runtime as
    /// [`Semaphore::blocking_acquire`] does.
    #[track_caller]
    pub fn blocking_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, AcquireError> {
        crate::blocking::block_on("Semaphore::blocking_acquire_many", self.acquire_many(n))
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
        let permits = n as usize;
        self.core
            .acquire(permits)
            .await
            .map_err(|_| AcquireError(()))?;
        Ok(OwnedSemaphorePermit {
            semaphore: self,
            permits,
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
        let permits = n as usize;
        self.core.try_acquire(permits).map_err(try_error)?;
        Ok(OwnedSemaphorePermit {
            semaphore: self,
            permits,
        })
    }

    /// [`Semaphore::acquire_owned`] from a plain thread; panics inside a runtime as
    /// [`Semaphore::blocking_acquire`] does.
    #[track_caller]
    pub fn blocking_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, AcquireError> {
        crate::blocking::block_on(
            "Semaphore::blocking_acquire_owned",
            self.acquire_many_owned(1),
        )
    }

    /// [`Semaphore::acquire_many_owned`] from a plain thread; panics inside a runtime as
    /// [`Semaphore::blocking_acquire`] does.
    #[track_caller]
    pub fn blocking_acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, AcquireError> {
        crate::blocking::block_on(
            "Semaphore::blocking_acquire_many_owned",
            self.acquire_many_owned(n),
        )
    }

    /// Closes the semaphore: every waiting and later acquisition fails (`try_acquire*` with
    /// [`TryAcquireError::Closed`]). Permits already held stay valid and still come back.
    pub fn close(&self) {
        self.core.close();
    }

    /// Whether [`Semaphore::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.core.is_closed()
    }
}

/// The public error of a failed `try_acquire`.
fn try_error(failure: TryAcquireFailure) -> TryAcquireError {
    match failure {
        TryAcquireFailure::Closed => TryAcquireError::Closed,
        TryAcquireFailure::NoPermits => TryAcquireError::NoPermits,
    }
}

// SAFETY: reports no edge, only the wakers of the tasks parked on the semaphore.
unsafe impl Trace for Semaphore {
    fn trace(&self, visitor: &mut dyn Visitor) {
        self.core.trace_waiters(visitor, |_| "semacquire");
    }
}

impl<'a> SemaphorePermit<'a> {
    /// Keeps the permits taken for good: dropping this gives nothing back.
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// Adds `other`'s permits to this one; both come back when this one drops.
    ///
    /// Panics if `other` comes from another semaphore.
    #[track_caller]
    pub fn merge(&mut self, mut other: SemaphorePermit<'a>) {
        assert!(
            std::ptr::eq(self.semaphore, other.semaphore),
            "merging permits from different semaphore instances"
        );
        self.permits = self
            .permits
            .checked_add(other.permits)
            .expect("number of permits overflowed");
        other.permits = 0;
    }

    /// Moves `n` of this permit's permits into a new one; `None` if it holds fewer than `n`.
    pub fn split(&mut self, n: usize) -> Option<SemaphorePermit<'a>> {
        self.permits = self.permits.checked_sub(n)?;
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
        self.permits
    }
}

impl OwnedSemaphorePermit {
    /// Keeps the permits taken for good: dropping this gives nothing back (but drops the `Arc`).
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// Adds `other`'s permits to this one; both come back when this one drops.
    ///
    /// Panics if `other` comes from another semaphore.
    #[track_caller]
    pub fn merge(&mut self, mut other: OwnedSemaphorePermit) {
        assert!(
            Arc::ptr_eq(&self.semaphore, &other.semaphore),
            "merging permits from different semaphore instances"
        );
        self.permits = self
            .permits
            .checked_add(other.permits)
            .expect("number of permits overflowed");
        other.permits = 0;
    }

    /// Moves `n` of this permit's permits into a new one (with a clone of the `Arc`); `None`
    /// if it holds fewer than `n`.
    pub fn split(&mut self, n: usize) -> Option<OwnedSemaphorePermit> {
        self.permits = self.permits.checked_sub(n)?;
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
        self.permits
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        self.semaphore.core.release(self.permits);
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        self.semaphore.core.release(self.permits);
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.core, f)
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
