//! [`RwLock`]: many readers or one writer, tokio's API over `async-lock`'s reader-writer lock.
//!
//! Go's `sync.RWMutex` and tokio's `RwLock` both prefer writers: once a writer waits, new
//! readers queue behind it, so a steady stream of readers cannot starve it. `async-lock`'s lock
//! has the same policy, which is why it is wrapped rather than rewritten. The newtype gives
//! tokio's signatures (`async fn read`/`write` spending the coop budget, `try_*` returning a
//! `Result`, `downgrade` as a method) and keeps `async-lock`'s upgradable reads out of the API,
//! since tokio has no such thing to port from.

use std::fmt;
use std::ops::{Deref, DerefMut};

use super::TryLockError;

/// An async reader-writer lock: any number of [`read`](RwLock::read) guards at once, or one
/// [`write`](RwLock::write) guard.
///
/// Share it with `Arc<RwLock<T>>`. A task holding a read guard that asks for a write guard
/// deadlocks, as in Go.
pub struct RwLock<T: ?Sized> {
    /// The lock and the data; every method delegates to it.
    inner: async_lock::RwLock<T>,
}

/// Shared access to an [`RwLock`]'s data; releases the read lock when dropped.
#[clippy::has_significant_drop]
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    /// `async-lock`'s guard: dropping the last one wakes a waiting writer.
    inner: async_lock::RwLockReadGuard<'a, T>,
}

/// Exclusive access to an [`RwLock`]'s data; releases the write lock when dropped.
#[clippy::has_significant_drop]
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    /// `async-lock`'s guard: dropping it wakes the waiting readers or one writer.
    inner: async_lock::RwLockWriteGuard<'a, T>,
}

impl<T> RwLock<T> {
    /// A new unlocked lock holding `value`. `const`, so a lock can be a `static`.
    pub const fn new(value: T) -> RwLock<T> {
        RwLock {
            inner: async_lock::RwLock::new(value),
        }
    }

    /// The same as [`RwLock::new`]; tokio's name for the `const` constructor.
    pub const fn const_new(value: T) -> RwLock<T> {
        RwLock::new(value)
    }

    /// Consumes the lock and returns its data: owning the lock proves nobody holds it.
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Takes a read lock, parking the task while a writer holds the lock or waits for it.
    ///
    /// Cancel safe: dropping the future before it completes leaves the lock as it was.
    pub async fn read(&self) -> RwLockReadGuard<'_, T> {
        RwLockReadGuard {
            inner: super::cooperative(self.inner.read()).await,
        }
    }

    /// Takes the write lock, parking the task until no reader or writer holds the lock.
    ///
    /// Cancel safe: dropping the future before it completes leaves the lock as it was.
    pub async fn write(&self) -> RwLockWriteGuard<'_, T> {
        RwLockWriteGuard {
            inner: super::cooperative(self.inner.write()).await,
        }
    }

    /// Takes a read lock from a plain thread, blocking it meanwhile. Called from a task it
    /// blocks the task's M; use [`RwLock::read`] there.
    pub fn blocking_read(&self) -> RwLockReadGuard<'_, T> {
        RwLockReadGuard {
            inner: self.inner.read_blocking(),
        }
    }

    /// Takes the write lock from a plain thread, blocking it meanwhile. Called from a task it
    /// blocks the task's M; use [`RwLock::write`] there.
    pub fn blocking_write(&self) -> RwLockWriteGuard<'_, T> {
        RwLockWriteGuard {
            inner: self.inner.write_blocking(),
        }
    }

    /// Takes a read lock if no writer holds the lock or waits for it, without waiting.
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, TryLockError> {
        match self.inner.try_read() {
            Some(inner) => Ok(RwLockReadGuard { inner }),
            None => Err(TryLockError(())),
        }
    }

    /// Takes the write lock if nobody holds it, without waiting.
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, TryLockError> {
        match self.inner.try_write() {
            Some(inner) => Ok(RwLockWriteGuard { inner }),
            None => Err(TryLockError(())),
        }
    }

    /// The data, without locking: `&mut self` proves nobody holds the lock.
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }
}

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    /// Turns the write lock into a read lock without releasing it, so no other writer can get
    /// in between; waiting readers are let in at the same time.
    pub fn downgrade(self) -> RwLockReadGuard<'a, T> {
        RwLockReadGuard {
            inner: async_lock::RwLockWriteGuard::downgrade(self.inner),
        }
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
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
        match self.inner.try_read() {
            Some(guard) => debug.field("data", &&*guard),
            None => debug.field("data", &format_args!("<locked>")),
        };
        debug.finish()
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}
