//! [`RwLock`]: many readers or one writer, with tokio's API, on the crate's FIFO batch
//! semaphore (`batch_semaphore.rs`) with `max_readers` permits.
//!
//! A reader takes one permit, a writer all of them. Because the semaphore serves its line in
//! order and sets released permits aside for the waiter at its head, a waiting writer holds
//! back the readers that come after it: the lock is fair, and writers are not starved by a
//! stream of readers (Go's `sync.RWMutex` gets the same from its `readerWait` count). A
//! downgrade gives back all but one of the writer's permits, which lets the readers queued
//! behind it in at once, while no writer can get in between.
//!
//! The guards are tokio's eight kinds: read, write and mapped write, each borrowed (`guards.rs`)
//! or owning an `Arc<RwLock<T>>` (`owned.rs`), the read ones mappable too. The data lives in an
//! `UnsafeCell`; the permits a guard holds are what make its access shared or exclusive.
//!
//! # The leak pass
//!
//! As [`Semaphore`](super::Semaphore), an `RwLock` is plain memory (`const_new` makes a
//! `static`) and is [`Trace`]: in the arena, its waiting readers are reported with Go's wait
//! reason `sync.RWMutex.RLock` and its waiting writers with `sync.RWMutex.Lock`. The value
//! inside is not traced.

mod guards;
mod owned;

use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use gort_gc::{Trace, Visitor};

use super::held::{OnSemaphore, OwnedHeld};
use super::TryLockError;
use crate::batch_semaphore::BatchSemaphore;

pub use guards::{RwLockMappedWriteGuard, RwLockReadGuard, RwLockWriteGuard};
pub use owned::{OwnedRwLockMappedWriteGuard, OwnedRwLockReadGuard, OwnedRwLockWriteGuard};

/// The most readers a lock can admit at once (tokio's limit).
const MAX_READS: u32 = u32::MAX >> 3;

/// An async reader-writer lock: any number of [`read`](RwLock::read) guards at once (up to
/// the lock's `max_readers`), or one [`write`](RwLock::write) guard.
///
/// Fair: tasks get the lock in the order they asked. Share it with `Arc<RwLock<T>>`. A task
/// holding a read guard that asks for a write guard deadlocks, as in Go.
pub struct RwLock<T: ?Sized> {
    /// The permits a writer takes (all of them).
    max_readers: u32,
    semaphore: BatchSemaphore,
    data: UnsafeCell<T>,
}

// SAFETY: moving the lock moves the `T` in it.
unsafe impl<T: ?Sized + Send> Send for RwLock<T> {}
// SAFETY: sharing the lock hands `&T` to several threads (needs `Sync`) and `&mut T` to one at
// a time (needs `Send`).
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}

impl<T> RwLock<T> {
    /// A new unlocked lock holding `value`, admitting up to `u32::MAX >> 3` readers at once.
    /// `const`, so a lock can be a `static`.
    pub const fn new(value: T) -> RwLock<T> {
        RwLock::const_with_max_readers(value, MAX_READS)
    }

    /// The same as [`RwLock::new`]; tokio's name for the `const` constructor.
    pub const fn const_new(value: T) -> RwLock<T> {
        RwLock::new(value)
    }

    /// A new unlocked lock admitting at most `max_reads` readers at once: the next reader
    /// waits for one to leave.
    ///
    /// Panics if `max_reads` is 0 or exceeds `u32::MAX >> 3`.
    #[track_caller]
    pub fn with_max_readers(value: T, max_reads: u32) -> RwLock<T> {
        assert_ne!(max_reads, 0, "a RwLock may not be created with 0 readers");
        assert!(
            max_reads <= MAX_READS,
            "a RwLock may not be created with more than {MAX_READS} readers"
        );
        RwLock::const_with_max_readers(value, max_reads)
    }

    /// [`RwLock::with_max_readers`] as a `const fn`, for `static`s; panics likewise.
    #[track_caller]
    pub const fn const_with_max_readers(value: T, max_reads: u32) -> RwLock<T> {
        assert!(max_reads != 0, "a RwLock may not be created with 0 readers");
        assert!(
            max_reads <= MAX_READS,
            "a RwLock may not be created with more than u32::MAX >> 3 readers"
        );
        RwLock {
            max_readers: max_reads,
            semaphore: BatchSemaphore::new(max_reads as usize),
            data: UnsafeCell::new(value),
        }
    }

    /// Consumes the lock and returns its data: owning the lock proves nobody holds it.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Takes a read lock, parking the task while a writer holds the lock or is ahead of it in
    /// line.
    ///
    /// Cancel safe: dropping the future before it completes leaves the lock as it was.
    pub async fn read(&self) -> RwLockReadGuard<'_, T> {
        self.acquire(1).await;
        RwLockReadGuard::new(&self.semaphore, self.data.get())
    }

    /// [`RwLock::read`] for a guard that owns the `Arc` and can move into a spawned task.
    pub async fn read_owned(self: Arc<Self>) -> OwnedRwLockReadGuard<T> {
        self.acquire(1).await;
        let data = self.data.get();
        OwnedRwLockReadGuard::new(OwnedHeld::new(self, 1), data)
    }

    /// Takes a read lock if no writer holds the lock or waits for it, without waiting.
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, TryLockError> {
        self.try_acquire(1)?;
        Ok(RwLockReadGuard::new(&self.semaphore, self.data.get()))
    }

    /// [`RwLock::try_read`] for a guard that owns the `Arc`.
    pub fn try_read_owned(self: Arc<Self>) -> Result<OwnedRwLockReadGuard<T>, TryLockError> {
        self.try_acquire(1)?;
        let data = self.data.get();
        Ok(OwnedRwLockReadGuard::new(OwnedHeld::new(self, 1), data))
    }

    /// Takes the write lock, parking the task until no reader or writer holds the lock and
    /// those ahead of it in line are served.
    ///
    /// Cancel safe: dropping the future before it completes leaves the lock as it was (the
    /// read permits set aside for it go on to the next in line).
    pub async fn write(&self) -> RwLockWriteGuard<'_, T> {
        self.acquire(self.max_readers).await;
        RwLockWriteGuard::new(self.max_readers, &self.semaphore, self.data.get())
    }

    /// [`RwLock::write`] for a guard that owns the `Arc` and can move into a spawned task.
    pub async fn write_owned(self: Arc<Self>) -> OwnedRwLockWriteGuard<T> {
        self.acquire(self.max_readers).await;
        let data = self.data.get();
        let permits = self.max_readers;
        OwnedRwLockWriteGuard::new(OwnedHeld::new(self, permits), data)
    }

    /// Takes the write lock if nobody holds it or waits for it, without waiting.
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, TryLockError> {
        self.try_acquire(self.max_readers)?;
        Ok(RwLockWriteGuard::new(
            self.max_readers,
            &self.semaphore,
            self.data.get(),
        ))
    }

    /// [`RwLock::try_write`] for a guard that owns the `Arc`.
    pub fn try_write_owned(self: Arc<Self>) -> Result<OwnedRwLockWriteGuard<T>, TryLockError> {
        self.try_acquire(self.max_readers)?;
        let data = self.data.get();
        let permits = self.max_readers;
        Ok(OwnedRwLockWriteGuard::new(
            OwnedHeld::new(self, permits),
            data,
        ))
    }

    /// Takes a read lock from a plain thread, blocking it meanwhile.
    ///
    /// Panics when called where the thread runs tasks (inside a task or a `block_on`
    /// future); `.await` [`RwLock::read`] there.
    #[track_caller]
    pub fn blocking_read(&self) -> RwLockReadGuard<'_, T> {
        crate::blocking::block_on("RwLock::blocking_read", self.read())
    }

    /// Takes the write lock from a plain thread, blocking it meanwhile.
    ///
    /// Panics when called where the thread runs tasks; `.await` [`RwLock::write`] there.
    #[track_caller]
    pub fn blocking_write(&self) -> RwLockWriteGuard<'_, T> {
        crate::blocking::block_on("RwLock::blocking_write", self.write())
    }

    /// The data, without locking: `&mut self` proves nobody holds the lock.
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// Takes `permits`, spending a unit of the coop budget (`batch_semaphore.rs`).
    async fn acquire(&self, permits: u32) {
        let acquired = self.semaphore.acquire(permits as usize).await;
        if acquired.is_err() {
            unreachable!("an RwLock's semaphore is never closed");
        }
    }

    /// Takes `permits` if they are free and nobody waits.
    fn try_acquire(&self, permits: u32) -> Result<(), TryLockError> {
        self.semaphore
            .try_acquire(permits as usize)
            .map_err(|_| TryLockError(()))
    }
}

impl<T: ?Sized> OnSemaphore for RwLock<T> {
    fn semaphore(&self) -> &BatchSemaphore {
        &self.semaphore
    }
}

// SAFETY: reports no edge (the data is opaque), only the wakers of the waiting tasks.
unsafe impl<T: ?Sized> Trace for RwLock<T> {
    fn trace(&self, visitor: &mut dyn Visitor) {
        let max_readers = self.max_readers as usize;
        self.semaphore.trace_waiters(visitor, |wanted| {
            if wanted == max_readers {
                "sync.RWMutex.Lock"
            } else {
                "sync.RWMutex.RLock"
            }
        });
    }
}

impl<T> From<T> for RwLock<T> {
    fn from(value: T) -> RwLock<T> {
        RwLock::new(value)
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> RwLock<T> {
        RwLock::new(T::default())
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    /// Shows the data when a read lock is free, `<locked>` otherwise: formatting must not wait.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("RwLock");
        match self.try_read() {
            Ok(guard) => debug.field("data", &&*guard),
            Err(_) => debug.field("data", &format_args!("<locked>")),
        };
        debug.finish()
    }
}

/// The variance and auto-trait marker of a guard that reads `T` for `'a`.
type Reads<'a, T> = PhantomData<&'a T>;
/// The variance and auto-trait marker of a guard that writes `T` for `'a`.
type Writes<'a, T> = PhantomData<&'a mut T>;
