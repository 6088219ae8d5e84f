//! [`Mutex`]: an async mutual-exclusion lock, tokio's API over `async-lock`'s mutex.
//!
//! A G that waits for the lock parks instead of blocking its M, and the guard may be held across
//! `.await` (which a `std::sync::Mutex` guard must not be, since another G on the same M would
//! then deadlock on it). For data touched briefly and never across an `.await`, a
//! `std::sync::Mutex` is cheaper and still the right choice, as tokio's documentation says.
//!
//! `async-lock` does the work: an atomic state word for the uncontended path, an
//! `event-listener` queue for waiters, and a starvation guard that hands the lock to a waiter
//! that has waited long. The newtype only changes signatures to tokio's: `lock` is an
//! `async fn` that spends the coop budget (see the module doc), `try_lock` returns a `Result`.

use std::error::Error;
use std::fmt;
use std::ops::{Deref, DerefMut};

/// An async mutex: `lock().await` parks the task until the lock is free.
///
/// Share it with `Arc<Mutex<T>>` between tasks, or by reference within one scope. Not
/// reentrant: locking twice from the same task deadlocks, as in Go.
pub struct Mutex<T: ?Sized> {
    /// The lock and the data; every method delegates to it.
    inner: async_lock::Mutex<T>,
}

/// Exclusive access to a [`Mutex`]'s data; unlocks when dropped.
#[clippy::has_significant_drop]
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MutexGuard<'a, T: ?Sized> {
    /// The mutex this guard locks, for [`MutexGuard::mutex`].
    mutex: &'a Mutex<T>,
    /// `async-lock`'s guard: dropping it unlocks and wakes one waiter.
    inner: async_lock::MutexGuard<'a, T>,
}

/// The error of [`Mutex::try_lock`], [`RwLock::try_read`](crate::primitives::RwLock::try_read)
/// and [`RwLock::try_write`](crate::primitives::RwLock::try_write): the lock is held.
#[derive(Debug)]
pub struct TryLockError(pub(super) ());

impl<T> Mutex<T> {
    /// A new unlocked mutex holding `value`. `const`, so a mutex can be a `static`.
    pub const fn new(value: T) -> Mutex<T> {
        Mutex {
            inner: async_lock::Mutex::new(value),
        }
    }

    /// The same as [`Mutex::new`]; tokio's name for the `const` constructor.
    pub const fn const_new(value: T) -> Mutex<T> {
        Mutex::new(value)
    }

    /// Consumes the mutex and returns its data: owning the mutex proves nobody holds it.
    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Locks the mutex, parking the task until it is free.
    ///
    /// Cancel safe: dropping the future before it completes leaves the mutex as it was.
    pub async fn lock(&self) -> MutexGuard<'_, T> {
        let inner = super::cooperative(self.inner.lock()).await;
        MutexGuard { mutex: self, inner }
    }

    /// Locks the mutex from a plain thread, blocking it until the mutex is free.
    ///
    /// For code outside any task (a `std::thread`, a `spawn_blocking` closure). Called from a
    /// task it blocks the M that runs the task and every G queued behind it; use
    /// [`Mutex::lock`] there.
    pub fn blocking_lock(&self) -> MutexGuard<'_, T> {
        MutexGuard {
            mutex: self,
            inner: self.inner.lock_blocking(),
        }
    }

    /// Locks the mutex if it is free, without waiting.
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        match self.inner.try_lock() {
            Some(inner) => Ok(MutexGuard { mutex: self, inner }),
            None => Err(TryLockError(())),
        }
    }

    /// The data, without locking: `&mut self` proves nobody holds the mutex.
    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }
}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// The mutex this guard holds. An associated function, as in tokio, so that it cannot
    /// shadow a method of `T` reached through `Deref`.
    pub fn mutex(this: &Self) -> &'a Mutex<T> {
        this.mutex
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.inner
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.inner
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Mutex<T> {
        Mutex::new(value)
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Mutex<T> {
        Mutex::new(T::default())
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    /// Shows the data when the mutex is free, `<locked>` otherwise: formatting must not wait.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Mutex");
        match self.inner.try_lock() {
            Some(guard) => debug.field("data", &&*guard),
            None => debug.field("data", &format_args!("<locked>")),
        };
        debug.finish()
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl fmt::Display for TryLockError {
    /// tokio's message, so that logs read the same after a port.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("operation would block")
    }
}

impl Error for TryLockError {}
