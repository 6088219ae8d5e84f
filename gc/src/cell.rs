//! `GcCell<T>`: interior mutability the collector can see into.
//!
//! `Gc<T>` gives shared access only, so building a cycle (a node that learns its neighbour
//! later, a closure state that refers to itself) needs a cell. A plain `Mutex` is opaque to
//! the collector (`trace.rs`): taking a handle out of it needs no cooperation, so the collector
//! may not count what is inside. `GcCell` is a mutex whose guard pins the thread
//! (`safepoint.rs`): its contents change only while pinned, so the collector, which runs with
//! the world stopped, can trace them. The guard cannot be held across an `.await` (a pin belongs
//! to one thread and one poll; the guard is not `Send`).

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::{Mutex, MutexGuard, TryLockError};

use crate::trace::{Trace, Visitor};

/// A mutex the collector traces through (module doc).
#[derive(Default)]
pub struct GcCell<T> {
    value: Mutex<T>,
}

/// Access to a [`GcCell`]'s value; the thread stays pinned while it lives.
pub struct GcCellGuard<'a, T> {
    guard: MutexGuard<'a, T>,
    /// Dropped after `guard` (fields drop in order).
    _pin: crate::PinGuard,
}

impl<T> GcCell<T> {
    /// A cell holding `value`.
    pub const fn new(value: T) -> GcCell<T> {
        GcCell {
            value: Mutex::new(value),
        }
    }

    /// Locks the cell. A panic while it was locked does not poison it for good: the value is
    /// whatever the panicking code left.
    pub fn lock(&self) -> GcCellGuard<'_, T> {
        let pin = crate::pin();
        GcCellGuard {
            guard: crate::lock(&self.value),
            _pin: pin,
        }
    }

    /// Replaces the value, returning the old one.
    pub fn replace(&self, value: T) -> T {
        std::mem::replace(&mut *self.lock(), value)
    }

    /// Sets the value, dropping the old one (after the cell is unlocked).
    pub fn set(&self, value: T) {
        drop(self.replace(value));
    }

    /// Takes the value, leaving the default.
    pub fn take(&self) -> T
    where
        T: Default,
    {
        self.replace(T::default())
    }
}

impl<T> Deref for GcCellGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> DerefMut for GcCellGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

// SAFETY: the value changes only under the lock, which is only taken pinned, and the collector
// traces with the world stopped: nobody holds the lock then. Should `try_lock` fail anyway,
// nothing is reported, which is always allowed.
unsafe impl<T: Trace> Trace for GcCell<T> {
    const NEEDS_TRACE: bool = T::NEEDS_TRACE;
    fn trace(&self, visitor: &mut dyn Visitor) {
        match self.value.try_lock() {
            Ok(value) => value.trace(visitor),
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner().trace(visitor),
            Err(TryLockError::WouldBlock) => {}
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for GcCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("GcCell").field(&*self.lock()).finish()
    }
}
