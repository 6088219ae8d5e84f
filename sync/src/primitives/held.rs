//! [`OwnedHeld`]: the permits an owned lock guard holds, with the `Arc` of its lock.
//!
//! The owned guards (`OwnedMutexGuard`, `OwnedRwLockWriteGuard`, ...) turn into one another
//! (`map`, `downgrade`), moving the `Arc` from the old guard to the new one. A type with a
//! `Drop` cannot be taken apart, so the guards have none: the giving back lives here, and a
//! guard is taken apart by moving this out of it.
//!
//! Also here: [`forward_fmt!`], the `Debug`/`Display` every guard forwards to its data.

use std::sync::Arc;

use crate::batch_semaphore::BatchSemaphore;

/// A lock built on the batch semaphore.
pub(super) trait OnSemaphore {
    /// The semaphore whose permits its guards hold.
    fn semaphore(&self) -> &BatchSemaphore;
}

/// `permits` permits of `lock`'s semaphore, given back when this drops.
pub(super) struct OwnedHeld<L: OnSemaphore + ?Sized> {
    lock: Arc<L>,
    permits: u32,
}

impl<L: OnSemaphore + ?Sized> OwnedHeld<L> {
    /// Takes charge of `permits` the caller acquired from `lock`.
    pub(super) fn new(lock: Arc<L>, permits: u32) -> OwnedHeld<L> {
        OwnedHeld { lock, permits }
    }

    /// The lock.
    pub(super) fn lock(&self) -> &Arc<L> {
        &self.lock
    }

    /// Gives back all but `kept` of the permits now (a write guard downgraded to a read one).
    pub(super) fn keep_only(&mut self, kept: u32) {
        let given_back = self.permits - kept;
        self.permits = kept;
        self.lock.semaphore().release(given_back as usize);
    }
}

impl<L: OnSemaphore + ?Sized> Drop for OwnedHeld<L> {
    fn drop(&mut self) {
        self.lock.semaphore().release(self.permits as usize);
    }
}

/// `Debug` and `Display` of a guard: those of the data it reaches.
macro_rules! forward_fmt {
    ($([$($generics:tt)*] $guard:ty;)*) => {$(
        impl<$($generics)*> ::std::fmt::Debug for $guard
        where
            <$guard as ::std::ops::Deref>::Target: ::std::fmt::Debug,
        {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Debug::fmt(&**self, f)
            }
        }

        impl<$($generics)*> ::std::fmt::Display for $guard
        where
            <$guard as ::std::ops::Deref>::Target: ::std::fmt::Display,
        {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(&**self, f)
            }
        }
    )*};
}
pub(super) use forward_fmt;
