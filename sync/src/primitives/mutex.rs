//! [`Mutex`]: an async mutex with tokio's API, on the crate's FIFO batch semaphore
//! (`batch_semaphore.rs`) with one permit: `lock` is an acquire, dropping the guard a release.
//!
//! Tasks get the lock in the order they asked for it (tokio's fairness; Go's `sync.Mutex`
//! only switches to that order once a waiter has starved for a millisecond). The guards come in
//! four kinds, as tokio's: borrowed or owning an `Arc<Mutex<T>>` (to move into a task), each
//! either over the whole value or, after `map`, over a part of it. The data lives in an
//! `UnsafeCell`; holding the one permit is what makes touching it exclusive.
//!
//! # The leak pass
//!
//! As [`Semaphore`](super::Semaphore), a `Mutex` is plain memory (`const_new` makes a
//! `static`) and is [`Trace`]: in the arena, its waiters are reported with Go's wait reason
//! `sync.Mutex.Lock`. The value inside is not traced: it may be being changed by the holder.

use std::cell::UnsafeCell;
use std::error::Error;
use std::fmt;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use gort_gc::{Trace, Visitor};

use super::held::{forward_fmt, OnSemaphore, OwnedHeld};
use crate::batch_semaphore::BatchSemaphore;

/// An async mutual-exclusion lock: [`lock`](Mutex::lock) parks the task until the lock is
/// free and gives a guard through which the data is reached.
///
/// Hold it across `.await`s freely (that is what it is for); for short critical sections
/// without awaits a `std::sync::Mutex` is cheaper. Share it with `Arc<Mutex<T>>`.
pub struct Mutex<T: ?Sized> {
    /// One permit: whoever holds it holds the lock.
    semaphore: BatchSemaphore,
    data: UnsafeCell<T>,
}

/// Exclusive access to a [`Mutex`]'s data; unlocks when dropped.
#[clippy::has_significant_drop]
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MutexGuard<'a, T: ?Sized> {
    lock: &'a Mutex<T>,
}

/// Exclusive access to the data of a [`Mutex`] held through an `Arc`; unlocks when dropped.
/// Not tied to a borrow, so it can move into a spawned task.
#[clippy::has_significant_drop]
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct OwnedMutexGuard<T: ?Sized> {
    held: OwnedHeld<Mutex<T>>,
}

/// A [`MutexGuard`] narrowed by [`MutexGuard::map`] to a part of the data; unlocks when
/// dropped. It cannot name its mutex any more (the type of the whole is gone).
#[clippy::has_significant_drop]
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MappedMutexGuard<'a, T: ?Sized> {
    semaphore: &'a BatchSemaphore,
    data: *mut T,
    _borrows: PhantomData<&'a mut T>,
}

/// An [`OwnedMutexGuard`] narrowed by [`OwnedMutexGuard::map`] to a part `U` of the data `T`;
/// unlocks when dropped.
#[clippy::has_significant_drop]
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct OwnedMappedMutexGuard<T: ?Sized, U: ?Sized = T> {
    data: *mut U,
    held: OwnedHeld<Mutex<T>>,
}

/// The error of [`Mutex::try_lock`], [`RwLock::try_read`](crate::primitives::RwLock::try_read)
/// and [`RwLock::try_write`](crate::primitives::RwLock::try_write): the lock is held (or others
/// wait for it).
#[derive(Debug)]
pub struct TryLockError(pub(super) ());

// SAFETY: the lock hands `&mut T` to one thread at a time, so sharing it needs `T: Send` only,
// as for `std::sync::Mutex`.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}
// SAFETY: a shared guard gives out `&T`, which needs `T: Sync`.
unsafe impl<T: ?Sized + Send + Sync> Sync for MutexGuard<'_, T> {}
// SAFETY: as for `MutexGuard`.
unsafe impl<T: ?Sized + Send + Sync> Sync for OwnedMutexGuard<T> {}
// SAFETY: the guard is a `&mut T` that unlocks when dropped; the unlock is thread-agnostic.
unsafe impl<T: ?Sized + Send> Send for MappedMutexGuard<'_, T> {}
// SAFETY: as a `&mut T`: sharing it gives out `&T`.
unsafe impl<T: ?Sized + Sync> Sync for MappedMutexGuard<'_, T> {}
// SAFETY: it owns the `Arc<Mutex<T>>` (which needs `T: Send` to move) and is a `&mut U`.
unsafe impl<T: ?Sized + Send, U: ?Sized + Send> Send for OwnedMappedMutexGuard<T, U> {}
// SAFETY: sharing it shares the `Arc<Mutex<T>>` and gives out `&U`.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Send + Sync> Sync for OwnedMappedMutexGuard<T, U> {}

impl<T> Mutex<T> {
    /// A new unlocked mutex holding `value`. `const`, so a mutex can be a `static`.
    pub const fn new(value: T) -> Mutex<T> {
        Mutex {
            semaphore: BatchSemaphore::new(1),
            data: UnsafeCell::new(value),
        }
    }

    /// The same as [`Mutex::new`]; tokio's name for the `const` constructor.
    pub const fn const_new(value: T) -> Mutex<T> {
        Mutex::new(value)
    }

    /// Consumes the mutex and returns its data: owning the mutex proves nobody holds it.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Locks the mutex, parking the task until it is its turn.
    ///
    /// Cancel safe: dropping the future before it completes leaves the mutex as it was (a lock
    /// handed to it meanwhile goes on to the next waiter).
    pub async fn lock(&self) -> MutexGuard<'_, T> {
        self.acquire().await;
        MutexGuard { lock: self }
    }

    /// [`Mutex::lock`] for a guard that owns the `Arc` and can move into a spawned task.
    pub async fn lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T> {
        self.acquire().await;
        OwnedMutexGuard {
            held: OwnedHeld::new(self, 1),
        }
    }

    /// Locks the mutex if it is free and nobody waits for it, without waiting.
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        self.try_acquire()?;
        Ok(MutexGuard { lock: self })
    }

    /// [`Mutex::try_lock`] for a guard that owns the `Arc`.
    pub fn try_lock_owned(self: Arc<Self>) -> Result<OwnedMutexGuard<T>, TryLockError> {
        self.try_acquire()?;
        Ok(OwnedMutexGuard {
            held: OwnedHeld::new(self, 1),
        })
    }

    /// Locks the mutex from a plain thread (a `std::thread`, a `spawn_blocking` closure),
    /// blocking it until the mutex is free.
    ///
    /// Panics when called where the thread runs tasks (inside a task or a `block_on` future):
    /// blocking there would stall every task queued behind it; `.await` [`Mutex::lock`].
    #[track_caller]
    pub fn blocking_lock(&self) -> MutexGuard<'_, T> {
        crate::blocking::block_on("Mutex::blocking_lock", self.lock())
    }

    /// [`Mutex::blocking_lock`] for a guard that owns the `Arc`; panics inside a runtime
    /// likewise.
    #[track_caller]
    pub fn blocking_lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T> {
        crate::blocking::block_on("Mutex::blocking_lock_owned", self.lock_owned())
    }

    /// The data, without locking: `&mut self` proves nobody holds the mutex.
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// Takes the permit, spending a unit of the coop budget (`batch_semaphore.rs`).
    async fn acquire(&self) {
        if self.semaphore.acquire(1).await.is_err() {
            unreachable!("a mutex's semaphore is never closed");
        }
    }

    /// Takes the permit if it is free and nobody waits.
    fn try_acquire(&self) -> Result<(), TryLockError> {
        self.semaphore.try_acquire(1).map_err(|_| TryLockError(()))
    }
}

impl<T: ?Sized> OnSemaphore for Mutex<T> {
    fn semaphore(&self) -> &BatchSemaphore {
        &self.semaphore
    }
}

// SAFETY: reports no edge (the data is opaque: its holder may be changing it), only the
// wakers of the tasks waiting for the lock.
unsafe impl<T: ?Sized> Trace for Mutex<T> {
    fn trace(&self, visitor: &mut dyn Visitor) {
        self.semaphore.trace_waiters(visitor, |_| "sync.Mutex.Lock");
    }
}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// The mutex this guard holds. An associated function, as in tokio, so that it cannot
    /// shadow a method of `T` reached through `Deref`.
    pub fn mutex(this: &Self) -> &'a Mutex<T> {
        this.lock
    }

    /// Narrows the guard to a part of the data (a field, an element), keeping the lock.
    pub fn map<U: ?Sized, F>(this: Self, f: F) -> MappedMutexGuard<'a, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let this = ManuallyDrop::new(this);
        let lock = this.lock;
        // SAFETY: the guard's permit makes this the only access to the data; it moves with
        // the lock into the mapped guard.
        let data = f(unsafe { &mut *lock.data.get() });
        MappedMutexGuard {
            semaphore: &lock.semaphore,
            data,
            _borrows: PhantomData,
        }
    }

    /// [`MutexGuard::map`] with a closure that may decline (`None`): then the guard is given
    /// back unchanged as the error.
    pub fn try_map<U: ?Sized, F>(this: Self, f: F) -> Result<MappedMutexGuard<'a, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let lock = this.lock;
        // SAFETY: as in `map`; on `None` the borrow ends here and the guard is returned whole.
        match f(unsafe { &mut *lock.data.get() }) {
            Some(data) => {
                let data: *mut U = data;
                std::mem::forget(this);
                Ok(MappedMutexGuard {
                    semaphore: &lock.semaphore,
                    data,
                    _borrows: PhantomData,
                })
            }
            None => Err(this),
        }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.semaphore.release(1);
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard holds the mutex's only permit.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the mutex's only permit, and `&mut self` the guard.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> OwnedMutexGuard<T> {
    /// The `Arc` of the mutex this guard holds (an associated function, as in tokio).
    pub fn mutex(this: &Self) -> &Arc<Mutex<T>> {
        this.held.lock()
    }

    /// Narrows the guard to a part of the data, keeping the lock and the `Arc`.
    pub fn map<U: ?Sized, F>(this: Self, f: F) -> OwnedMappedMutexGuard<T, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let held = this.held;
        // SAFETY: the permit in `held` makes this the only access to the data; the `Arc`
        // in it keeps the data alive for as long as the mapped guard.
        let data = f(unsafe { &mut *held.lock().data.get() });
        OwnedMappedMutexGuard { data, held }
    }

    /// [`OwnedMutexGuard::map`] with a closure that may decline (`None`): then the guard is
    /// given back unchanged as the error.
    pub fn try_map<U: ?Sized, F>(this: Self, f: F) -> Result<OwnedMappedMutexGuard<T, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        // SAFETY: as in `map`; on `None` the borrow ends here and the guard is returned whole.
        match f(unsafe { &mut *this.held.lock().data.get() }) {
            Some(data) => {
                let data: *mut U = data;
                Ok(OwnedMappedMutexGuard {
                    data,
                    held: this.held,
                })
            }
            None => Err(this),
        }
    }
}

impl<T: ?Sized> Deref for OwnedMutexGuard<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard holds the mutex's only permit.
        unsafe { &*self.held.lock().data.get() }
    }
}

impl<T: ?Sized> DerefMut for OwnedMutexGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the mutex's only permit, and `&mut self` the guard.
        unsafe { &mut *self.held.lock().data.get() }
    }
}

impl<'a, T: ?Sized> MappedMutexGuard<'a, T> {
    /// Narrows the guard further.
    pub fn map<U: ?Sized, F>(this: Self, f: F) -> MappedMutexGuard<'a, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let this = ManuallyDrop::new(this);
        let data = this.data;
        // SAFETY: the guard's permit makes this the only access to the part it points to.
        let data = f(unsafe { &mut *data });
        MappedMutexGuard {
            semaphore: this.semaphore,
            data,
            _borrows: PhantomData,
        }
    }

    /// [`MappedMutexGuard::map`] with a closure that may decline (`None`): then the guard is
    /// given back unchanged as the error.
    pub fn try_map<U: ?Sized, F>(this: Self, f: F) -> Result<MappedMutexGuard<'a, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        // SAFETY: as in `map`; on `None` the borrow ends here and the guard is returned whole.
        match f(unsafe { &mut *this.data }) {
            Some(data) => {
                let data: *mut U = data;
                let this = ManuallyDrop::new(this);
                Ok(MappedMutexGuard {
                    semaphore: this.semaphore,
                    data,
                    _borrows: PhantomData,
                })
            }
            None => Err(this),
        }
    }
}

impl<T: ?Sized> Drop for MappedMutexGuard<'_, T> {
    fn drop(&mut self) {
        self.semaphore.release(1);
    }
}

impl<T: ?Sized> Deref for MappedMutexGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard holds the mutex's only permit; `data` points into the locked
        // value, which outlives `'a`.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized> DerefMut for MappedMutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` is the only way to the guard.
        unsafe { &mut *self.data }
    }
}

impl<T: ?Sized, U: ?Sized> OwnedMappedMutexGuard<T, U> {
    /// Narrows the guard further.
    pub fn map<S: ?Sized, F>(this: Self, f: F) -> OwnedMappedMutexGuard<T, S>
    where
        F: FnOnce(&mut U) -> &mut S,
    {
        // SAFETY: the permit in `held` makes this the only access to the part `data` points
        // to, and its `Arc` keeps it alive.
        let data = f(unsafe { &mut *this.data });
        OwnedMappedMutexGuard {
            data,
            held: this.held,
        }
    }

    /// [`OwnedMappedMutexGuard::map`] with a closure that may decline (`None`): then the guard
    /// is given back unchanged as the error.
    pub fn try_map<S: ?Sized, F>(this: Self, f: F) -> Result<OwnedMappedMutexGuard<T, S>, Self>
    where
        F: FnOnce(&mut U) -> Option<&mut S>,
    {
        // SAFETY: as in `map`; on `None` the borrow ends here and the guard is returned whole.
        match f(unsafe { &mut *this.data }) {
            Some(data) => {
                let data: *mut S = data;
                Ok(OwnedMappedMutexGuard {
                    data,
                    held: this.held,
                })
            }
            None => Err(this),
        }
    }
}

impl<T: ?Sized, U: ?Sized> Deref for OwnedMappedMutexGuard<T, U> {
    type Target = U;

    fn deref(&self) -> &U {
        // SAFETY: the permit in `held` is the lock, its `Arc` keeps the data alive.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized, U: ?Sized> DerefMut for OwnedMappedMutexGuard<T, U> {
    fn deref_mut(&mut self) -> &mut U {
        // SAFETY: as in `deref`, and `&mut self` is the only way to the guard.
        unsafe { &mut *self.data }
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
        match self.try_lock() {
            Ok(guard) => debug.field("data", &&*guard),
            Err(_) => debug.field("data", &format_args!("<locked>")),
        };
        debug.finish()
    }
}

forward_fmt! {
    ['a, T: ?Sized] MutexGuard<'a, T>;
    [T: ?Sized] OwnedMutexGuard<T>;
    ['a, T: ?Sized] MappedMutexGuard<'a, T>;
    [T: ?Sized, U: ?Sized] OwnedMappedMutexGuard<T, U>;
}

impl fmt::Display for TryLockError {
    /// tokio's message, so that logs read the same after a port.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("operation would block")
    }
}

impl Error for TryLockError {}
