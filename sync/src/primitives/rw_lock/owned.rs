//! The owned guards of an [`RwLock`]: read, write, and mapped write, each holding the
//! `Arc<RwLock<T>>` (so it can move into a spawned task) with its permits in an
//! [`OwnedHeld`], and a pointer into the value (or, after `map`, a part `U` of it).

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use super::RwLock;
use crate::primitives::held::{forward_fmt, OwnedHeld};

/// Shared access to the data (or a part `U` of it) of an [`RwLock`] held through an `Arc`;
/// releases the read lock when dropped.
#[clippy::has_significant_drop]
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct OwnedRwLockReadGuard<T: ?Sized, U: ?Sized = T> {
    data: *const U,
    held: OwnedHeld<RwLock<T>>,
}

/// Exclusive access to the data of an [`RwLock`] held through an `Arc`; releases the write
/// lock when dropped.
#[clippy::has_significant_drop]
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct OwnedRwLockWriteGuard<T: ?Sized> {
    data: *mut T,
    held: OwnedHeld<RwLock<T>>,
}

/// An [`OwnedRwLockWriteGuard`] narrowed by [`map`](OwnedRwLockWriteGuard::map) to a part `U`
/// of the data; releases the write lock when dropped.
#[clippy::has_significant_drop]
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct OwnedRwLockMappedWriteGuard<T: ?Sized, U: ?Sized = T> {
    data: *mut U,
    held: OwnedHeld<RwLock<T>>,
}

// SAFETY: the guard owns an `Arc<RwLock<T>>` (the last one drops `T` wherever it is: `T:
// Send + Sync`, as `Arc<RwLock<T>>: Send` wants) and is a `&U`; tokio's bounds.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Sync> Send for OwnedRwLockReadGuard<T, U> {}
// SAFETY: sharing it shares the `Arc` and `&U`; tokio's bounds.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Send + Sync> Sync for OwnedRwLockReadGuard<T, U> {}
// SAFETY: the `Arc` as above, and a `&mut T`.
unsafe impl<T: ?Sized + Send + Sync> Send for OwnedRwLockWriteGuard<T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send + Sync> Sync for OwnedRwLockWriteGuard<T> {}
// SAFETY: the `Arc` as above, and a `&mut U`.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Send + Sync> Send
    for OwnedRwLockMappedWriteGuard<T, U>
{
}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Send + Sync> Sync
    for OwnedRwLockMappedWriteGuard<T, U>
{
}

impl<T: ?Sized, U: ?Sized> OwnedRwLockReadGuard<T, U> {
    /// A guard for the read permit in `held`.
    pub(super) fn new(held: OwnedHeld<RwLock<T>>, data: *const U) -> Self {
        OwnedRwLockReadGuard { data, held }
    }

    /// The `Arc` of the lock this guard holds (an associated function, as in tokio).
    pub fn rwlock(this: &Self) -> &Arc<RwLock<T>> {
        this.held.lock()
    }

    /// Narrows the guard to a part of the data, keeping the read lock and the `Arc`.
    pub fn map<F, V: ?Sized>(this: Self, f: F) -> OwnedRwLockReadGuard<T, V>
    where
        F: FnOnce(&U) -> &V,
    {
        let data: *const V = f(&*this);
        OwnedRwLockReadGuard::new(this.held, data)
    }

    /// [`OwnedRwLockReadGuard::map`] with a closure that may decline (`None`): then the guard
    /// is given back unchanged as the error.
    pub fn try_map<F, V: ?Sized>(this: Self, f: F) -> Result<OwnedRwLockReadGuard<T, V>, Self>
    where
        F: FnOnce(&U) -> Option<&V>,
    {
        // SAFETY: the read permit keeps writers out and the `Arc` keeps the value alive; the
        // borrow is not tied to `this`, so that `this` can be returned on `None`.
        let data: *const V = match f(unsafe { &*this.data }) {
            Some(data) => data,
            None => return Err(this),
        };
        Ok(OwnedRwLockReadGuard::new(this.held, data))
    }
}

impl<T: ?Sized, U: ?Sized> Deref for OwnedRwLockReadGuard<T, U> {
    type Target = U;

    fn deref(&self) -> &U {
        // SAFETY: the read permit in `held` keeps writers out, its `Arc` keeps the value alive.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized> OwnedRwLockWriteGuard<T> {
    /// A guard for the writer's permits in `held`.
    pub(super) fn new(held: OwnedHeld<RwLock<T>>, data: *mut T) -> Self {
        OwnedRwLockWriteGuard { data, held }
    }

    /// The `Arc` of the lock this guard holds (an associated function, as in tokio).
    pub fn rwlock(this: &Self) -> &Arc<RwLock<T>> {
        this.held.lock()
    }

    /// Narrows the guard to a part of the data, keeping the write lock and the `Arc`.
    pub fn map<F, U: ?Sized>(this: Self, f: F) -> OwnedRwLockMappedWriteGuard<T, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        // SAFETY: the permits in `held` keep everyone else out, its `Arc` keeps the value.
        let data: *mut U = f(unsafe { &mut *this.data });
        OwnedRwLockMappedWriteGuard {
            data,
            held: this.held,
        }
    }

    /// [`OwnedRwLockWriteGuard::map`] with a closure that may decline (`None`): then the guard
    /// is given back unchanged as the error.
    pub fn try_map<F, U: ?Sized>(
        this: Self,
        f: F,
    ) -> Result<OwnedRwLockMappedWriteGuard<T, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        // SAFETY: as in `map`; the borrow is not tied to `this`, so that `this` can be
        // returned on `None`.
        let data: *mut U = match f(unsafe { &mut *this.data }) {
            Some(data) => data,
            None => return Err(this),
        };
        Ok(OwnedRwLockMappedWriteGuard {
            data,
            held: this.held,
        })
    }

    /// Narrows the guard to a part of the data and turns it into a read guard over that part,
    /// atomically: no writer can get in between, and readers waiting in line are let in.
    pub fn downgrade_map<F, U: ?Sized>(this: Self, f: F) -> OwnedRwLockReadGuard<T, U>
    where
        F: FnOnce(&T) -> &U,
    {
        let data: *const U = f(&*this);
        downgraded(this.held, data)
    }

    /// [`OwnedRwLockWriteGuard::downgrade_map`] with a closure that may decline (`None`): then
    /// the write guard is given back unchanged as the error.
    pub fn try_downgrade_map<F, U: ?Sized>(
        this: Self,
        f: F,
    ) -> Result<OwnedRwLockReadGuard<T, U>, Self>
    where
        F: FnOnce(&T) -> Option<&U>,
    {
        // SAFETY: as in `try_map`.
        let data: *const U = match f(unsafe { &*this.data }) {
            Some(data) => data,
            None => return Err(this),
        };
        Ok(downgraded(this.held, data))
    }

    /// The guard as a mapped guard over the whole value.
    pub fn into_mapped(this: Self) -> OwnedRwLockMappedWriteGuard<T> {
        OwnedRwLockMappedWriteGuard {
            data: this.data,
            held: this.held,
        }
    }

    /// Turns the write lock into a read lock atomically: no writer can get in between, and
    /// the readers waiting in line are let in.
    pub fn downgrade(self) -> OwnedRwLockReadGuard<T> {
        downgraded(self.held, self.data)
    }
}

/// A read guard from a writer's permits: all but one are given back.
fn downgraded<T: ?Sized, U: ?Sized>(
    mut held: OwnedHeld<RwLock<T>>,
    data: *const U,
) -> OwnedRwLockReadGuard<T, U> {
    held.keep_only(1);
    OwnedRwLockReadGuard::new(held, data)
}

impl<T: ?Sized> Deref for OwnedRwLockWriteGuard<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard holds every permit of the lock; its `Arc` keeps the value alive.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized> DerefMut for OwnedRwLockWriteGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` is the only way to the guard.
        unsafe { &mut *self.data }
    }
}

impl<T: ?Sized, U: ?Sized> OwnedRwLockMappedWriteGuard<T, U> {
    /// The `Arc` of the lock this guard holds (an associated function, as in tokio).
    pub fn rwlock(this: &Self) -> &Arc<RwLock<T>> {
        this.held.lock()
    }

    /// Narrows the guard further.
    pub fn map<F, V: ?Sized>(this: Self, f: F) -> OwnedRwLockMappedWriteGuard<T, V>
    where
        F: FnOnce(&mut U) -> &mut V,
    {
        // SAFETY: the permits in `held` keep everyone else out, its `Arc` keeps the value.
        let data: *mut V = f(unsafe { &mut *this.data });
        OwnedRwLockMappedWriteGuard {
            data,
            held: this.held,
        }
    }

    /// [`OwnedRwLockMappedWriteGuard::map`] with a closure that may decline (`None`): then the
    /// guard is given back unchanged as the error.
    pub fn try_map<F, V: ?Sized>(
        this: Self,
        f: F,
    ) -> Result<OwnedRwLockMappedWriteGuard<T, V>, Self>
    where
        F: FnOnce(&mut U) -> Option<&mut V>,
    {
        // SAFETY: as in `map`; the borrow is not tied to `this`, so that `this` can be
        // returned on `None`.
        let data: *mut V = match f(unsafe { &mut *this.data }) {
            Some(data) => data,
            None => return Err(this),
        };
        Ok(OwnedRwLockMappedWriteGuard {
            data,
            held: this.held,
        })
    }
}

impl<T: ?Sized, U: ?Sized> Deref for OwnedRwLockMappedWriteGuard<T, U> {
    type Target = U;

    fn deref(&self) -> &U {
        // SAFETY: the guard holds every permit of the lock; its `Arc` keeps the value alive.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized, U: ?Sized> DerefMut for OwnedRwLockMappedWriteGuard<T, U> {
    fn deref_mut(&mut self) -> &mut U {
        // SAFETY: as in `deref`, and `&mut self` is the only way to the guard.
        unsafe { &mut *self.data }
    }
}

forward_fmt! {
    [T: ?Sized, U: ?Sized] OwnedRwLockReadGuard<T, U>;
    [T: ?Sized] OwnedRwLockWriteGuard<T>;
    [T: ?Sized, U: ?Sized] OwnedRwLockMappedWriteGuard<T, U>;
}
