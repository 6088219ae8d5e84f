//! The borrowed guards of an [`RwLock`](super::RwLock): read, write, and mapped write.
//!
//! Each is the semaphore it gives its permits back to, a pointer into the locked value and the
//! count of permits it holds (one for a reader, all of them for a writer). `map` and
//! `downgrade` take a guard apart (`into_parts`, which disarms its `Drop`) and build another
//! from the pieces, so the permits move without being given back in between.

use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};

use super::{Reads, Writes};
use crate::batch_semaphore::BatchSemaphore;
use crate::primitives::held::forward_fmt;

/// Shared access to an [`RwLock`](super::RwLock)'s data (or, after
/// [`map`](RwLockReadGuard::map), a part of it); releases the read lock when dropped.
#[clippy::has_significant_drop]
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    semaphore: &'a BatchSemaphore,
    data: *const T,
    _borrows: Reads<'a, T>,
}

/// Exclusive access to an [`RwLock`](super::RwLock)'s data; releases the write lock when
/// dropped.
#[clippy::has_significant_drop]
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    /// All of the lock's permits.
    permits: u32,
    semaphore: &'a BatchSemaphore,
    data: *mut T,
    _borrows: Writes<'a, T>,
}

/// A [`RwLockWriteGuard`] narrowed by [`map`](RwLockWriteGuard::map) to a part of the data;
/// releases the write lock when dropped. Unlike the write guard it cannot be downgraded: a
/// reader could then see the part only.
#[clippy::has_significant_drop]
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockMappedWriteGuard<'a, T: ?Sized> {
    permits: u32,
    semaphore: &'a BatchSemaphore,
    data: *mut T,
    _borrows: Writes<'a, T>,
}

// SAFETY: a read guard is a `&T` that gives its permit back from any thread.
unsafe impl<T: ?Sized + Sync> Send for RwLockReadGuard<'_, T> {}
// SAFETY: sharing a read guard shares `&T`; tokio also asks `T: Send`, and so do we, so that
// code that compiles here compiles with tokio.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLockReadGuard<'_, T> {}
// SAFETY: a write guard is a `&mut T` (moving it lets another thread swap `T` out: `Send`) that
// can be shared as a `&T` (`Sync`); tokio's bounds.
unsafe impl<T: ?Sized + Send + Sync> Send for RwLockWriteGuard<'_, T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLockWriteGuard<'_, T> {}
// SAFETY: as for the write guard.
unsafe impl<T: ?Sized + Send + Sync> Send for RwLockMappedWriteGuard<'_, T> {}
// SAFETY: as for the write guard.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLockMappedWriteGuard<'_, T> {}

impl<'a, T: ?Sized> RwLockReadGuard<'a, T> {
    /// A guard for one read permit the caller took from `semaphore`.
    pub(super) fn new(semaphore: &'a BatchSemaphore, data: *const T) -> RwLockReadGuard<'a, T> {
        RwLockReadGuard {
            semaphore,
            data,
            _borrows: Reads::default(),
        }
    }

    /// Narrows the guard to a part of the data (a field, an element), keeping the read lock.
    /// An associated function, as in tokio, so that it cannot shadow a method of `T`.
    pub fn map<U: ?Sized, F>(this: Self, f: F) -> RwLockReadGuard<'a, U>
    where
        F: FnOnce(&T) -> &U,
    {
        let data: *const U = f(&*this);
        RwLockReadGuard::new(this.into_semaphore(), data)
    }

    /// [`RwLockReadGuard::map`] with a closure that may decline (`None`): then the guard is
    /// given back unchanged as the error.
    pub fn try_map<U: ?Sized, F>(this: Self, f: F) -> Result<RwLockReadGuard<'a, U>, Self>
    where
        F: FnOnce(&T) -> Option<&U>,
    {
        // SAFETY: the guard's read permit keeps writers out for as long as this borrow (which
        // is not tied to `this`, so that `this` can be returned on `None`) is used.
        let data: *const U = match f(unsafe { &*this.data }) {
            Some(data) => data,
            None => return Err(this),
        };
        Ok(RwLockReadGuard::new(this.into_semaphore(), data))
    }

    /// Disarms the guard, keeping its permit with the caller.
    fn into_semaphore(self) -> &'a BatchSemaphore {
        ManuallyDrop::new(self).semaphore
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard's read permit keeps writers out while it lives; `data` points
        // into the lock, which outlives `'a`.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        self.semaphore.release(1);
    }
}

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    /// A guard for all of `semaphore`'s `permits`, taken by the caller.
    pub(super) fn new(
        permits: u32,
        semaphore: &'a BatchSemaphore,
        data: *mut T,
    ) -> RwLockWriteGuard<'a, T> {
        RwLockWriteGuard {
            permits,
            semaphore,
            data,
            _borrows: Writes::default(),
        }
    }

    /// Narrows the guard to a part of the data, keeping the write lock.
    pub fn map<U: ?Sized, F>(this: Self, f: F) -> RwLockMappedWriteGuard<'a, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let (permits, semaphore, data) = this.into_parts();
        // SAFETY: the permits, now with us, keep everyone else out.
        let data: *mut U = f(unsafe { &mut *data });
        RwLockMappedWriteGuard::new(permits, semaphore, data)
    }

    /// [`RwLockWriteGuard::map`] with a closure that may decline (`None`): then the guard is
    /// given back unchanged as the error.
    pub fn try_map<U: ?Sized, F>(this: Self, f: F) -> Result<RwLockMappedWriteGuard<'a, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        // SAFETY: the guard's permits keep everyone else out; the borrow is not tied to
        // `this`, so that `this` can be returned on `None`, and ends before that.
        let data: *mut U = match f(unsafe { &mut *this.data }) {
            Some(data) => data,
            None => return Err(this),
        };
        let (permits, semaphore, _) = this.into_parts();
        Ok(RwLockMappedWriteGuard::new(permits, semaphore, data))
    }

    /// Narrows the guard to a part of the data and turns it into a read guard over that part,
    /// atomically: no writer can get in between, and readers waiting in line are let in.
    pub fn downgrade_map<U: ?Sized, F>(this: Self, f: F) -> RwLockReadGuard<'a, U>
    where
        F: FnOnce(&T) -> &U,
    {
        let data: *const U = f(&*this);
        let (permits, semaphore, _) = this.into_parts();
        downgraded(permits, semaphore, data)
    }

    /// [`RwLockWriteGuard::downgrade_map`] with a closure that may decline (`None`): then the
    /// write guard is given back unchanged as the error.
    pub fn try_downgrade_map<U: ?Sized, F>(this: Self, f: F) -> Result<RwLockReadGuard<'a, U>, Self>
    where
        F: FnOnce(&T) -> Option<&U>,
    {
        // SAFETY: as in `try_map`.
        let data: *const U = match f(unsafe { &*this.data }) {
            Some(data) => data,
            None => return Err(this),
        };
        let (permits, semaphore, _) = this.into_parts();
        Ok(downgraded(permits, semaphore, data))
    }

    /// The guard as a mapped guard over the whole value (to store it where mapped guards go).
    pub fn into_mapped(this: Self) -> RwLockMappedWriteGuard<'a, T> {
        let (permits, semaphore, data) = this.into_parts();
        RwLockMappedWriteGuard::new(permits, semaphore, data)
    }

    /// Turns the write lock into a read lock atomically: no writer can get in between, and
    /// the readers waiting in line are let in.
    pub fn downgrade(self) -> RwLockReadGuard<'a, T> {
        let (permits, semaphore, data) = self.into_parts();
        downgraded(permits, semaphore, data)
    }

    /// Disarms the guard, handing its permits to the caller.
    fn into_parts(self) -> (u32, &'a BatchSemaphore, *mut T) {
        let this = ManuallyDrop::new(self);
        (this.permits, this.semaphore, this.data)
    }
}

/// A read guard from a writer's `permits`: all but one are given back.
fn downgraded<'a, U: ?Sized>(
    permits: u32,
    semaphore: &'a BatchSemaphore,
    data: *const U,
) -> RwLockReadGuard<'a, U> {
    let guard = RwLockReadGuard::new(semaphore, data);
    semaphore.release(permits as usize - 1);
    guard
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard holds every permit of the lock.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds every permit of the lock, and `&mut self` the guard.
        unsafe { &mut *self.data }
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.semaphore.release(self.permits as usize);
    }
}

impl<'a, T: ?Sized> RwLockMappedWriteGuard<'a, T> {
    fn new(permits: u32, semaphore: &'a BatchSemaphore, data: *mut T) -> Self {
        RwLockMappedWriteGuard {
            permits,
            semaphore,
            data,
            _borrows: Writes::default(),
        }
    }

    /// Narrows the guard further.
    pub fn map<U: ?Sized, F>(this: Self, f: F) -> RwLockMappedWriteGuard<'a, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let (permits, semaphore, data) = this.into_parts();
        // SAFETY: the permits, now with us, keep everyone else out.
        let data: *mut U = f(unsafe { &mut *data });
        RwLockMappedWriteGuard::new(permits, semaphore, data)
    }

    /// [`RwLockMappedWriteGuard::map`] with a closure that may decline (`None`): then the
    /// guard is given back unchanged as the error.
    pub fn try_map<U: ?Sized, F>(this: Self, f: F) -> Result<RwLockMappedWriteGuard<'a, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        // SAFETY: as in `RwLockWriteGuard::try_map`.
        let data: *mut U = match f(unsafe { &mut *this.data }) {
            Some(data) => data,
            None => return Err(this),
        };
        let (permits, semaphore, _) = this.into_parts();
        Ok(RwLockMappedWriteGuard::new(permits, semaphore, data))
    }

    /// Disarms the guard, handing its permits to the caller.
    fn into_parts(self) -> (u32, &'a BatchSemaphore, *mut T) {
        let this = ManuallyDrop::new(self);
        (this.permits, this.semaphore, this.data)
    }
}

impl<T: ?Sized> Deref for RwLockMappedWriteGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard holds every permit of the lock.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized> DerefMut for RwLockMappedWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds every permit of the lock, and `&mut self` the guard.
        unsafe { &mut *self.data }
    }
}

impl<T: ?Sized> Drop for RwLockMappedWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.semaphore.release(self.permits as usize);
    }
}

forward_fmt! {
    ['a, T: ?Sized] RwLockReadGuard<'a, T>;
    ['a, T: ?Sized] RwLockWriteGuard<'a, T>;
    ['a, T: ?Sized] RwLockMappedWriteGuard<'a, T>;
}
