//! [`OnceCell`]: a value set once, possibly by an async initialiser, then read freely.
//!
//! Go's `sync.Once` with a result, tokio's API. The cell is a [`OnceSlot`] (see
//! `once_slot.rs` for the protocol): a flag and the value, read without a lock once set, and a
//! gate with a queue that lets exactly one caller at a time run its initialiser.
//!
//! - Of concurrent [`get_or_init`](OnceCell::get_or_init) callers on an empty cell, the first
//!   runs its initialiser and the rest queue, oldest first; when the value is in they all
//!   return it, their own initialisers never called.
//! - An initialiser that is cancelled, panics or (for `get_or_try_init`) returns `Err` leaves
//!   the cell empty and hands the gate to the oldest queued caller, which runs its own.
//! - [`set`](OnceCell::set) never waits: it fails with [`SetError::InitializingError`] while an
//!   initialiser runs, and with [`SetError::AlreadyInitializedError`] after.
//!
//! Waiting for the gate spends the coop budget as acquiring a permit does (`primitives` doc).
//! Cells are not in the GC arena: `const_new` must stay `const` for `static`s (`once_slot.rs`,
//! "Why not in the GC arena").

use std::error::Error;
use std::fmt;
use std::future::Future;

use crate::once_slot::{Claimed, OnceSlot, Refused};

/// A cell written at most once, by [`set`](OnceCell::set) or by the first initialiser of
/// [`get_or_init`](OnceCell::get_or_init) to finish. Reads after the write take no lock.
///
/// Share it with `Arc`, or make it a `static` (with [`const_new`](OnceCell::const_new)) for a
/// lazily initialised global.
pub struct OnceCell<T> {
    /// The value and the queue of callers waiting to initialise it.
    slot: OnceSlot<T>,
}

/// The error of [`OnceCell::set`]; gives the value back.
#[derive(Debug, PartialEq, Eq)]
pub enum SetError<T> {
    /// The cell already holds a value.
    AlreadyInitializedError(T),
    /// Another caller is running an initialiser right now.
    InitializingError(T),
}

impl<T> OnceCell<T> {
    /// An empty cell.
    pub fn new() -> OnceCell<T> {
        OnceCell::const_new()
    }

    /// An empty cell, in a `const` context: a cell can be a `static`.
    pub const fn const_new() -> OnceCell<T> {
        OnceCell {
            slot: OnceSlot::new(),
        }
    }

    /// A cell holding `value`, or an empty one for `None`.
    pub fn new_with(value: Option<T>) -> OnceCell<T> {
        match value {
            Some(value) => OnceCell::const_new_with(value),
            None => OnceCell::new(),
        }
    }

    /// A cell holding `value`, in a `const` context.
    pub const fn const_new_with(value: T) -> OnceCell<T> {
        OnceCell {
            slot: OnceSlot::new_set(value),
        }
    }

    /// Whether the cell holds a value.
    pub fn initialized(&self) -> bool {
        self.slot.is_set()
    }

    /// The value, or `None` if the cell is empty or being initialised. Never waits.
    pub fn get(&self) -> Option<&T> {
        self.slot.get()
    }

    /// The value, mutably: `&mut self` proves no initialiser runs.
    pub fn get_mut(&mut self) -> Option<&mut T> {
        self.slot.get_mut()
    }

    /// Stores `value` if the cell is empty and nobody is initialising it; otherwise gives it back
    /// in the [`SetError`] that says which. Never waits.
    pub fn set(&self, value: T) -> Result<(), SetError<T>> {
        match self.slot.try_set(value) {
            Ok(_) => Ok(()),
            Err((value, Refused::Set)) => Err(SetError::AlreadyInitializedError(value)),
            Err((value, Refused::Claimed)) => Err(SetError::InitializingError(value)),
        }
    }

    /// The value, first running `init` to produce it if the cell is empty.
    ///
    /// One caller at a time runs its `init`; the others wait in arrival order and, once the
    /// value is in, return it without calling theirs. If the running `init` is cancelled or
    /// panics, the oldest waiting caller runs its own. Cancel safe in that sense: dropping
    /// this future never loses the cell's progress for the others.
    pub async fn get_or_init<F, Fut>(&self, init: F) -> &T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        if let Some(value) = self.get() {
            return value;
        }
        match super::cooperative(self.slot.claim()).await {
            Claimed::Value(value) => value,
            // A panic or cancellation in `init` drops the guard, which passes the gate on.
            Claimed::Gate(guard) => guard.complete(init().await),
        }
    }

    /// [`OnceCell::get_or_init`] with a fallible initialiser: an `Err` leaves the cell empty,
    /// hands the gate to the next waiting caller (which runs its own initialiser), and is
    /// returned to this caller.
    pub async fn get_or_try_init<E, F, Fut>(&self, init: F) -> Result<&T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        if let Some(value) = self.get() {
            return Ok(value);
        }
        match super::cooperative(self.slot.claim()).await {
            Claimed::Value(value) => Ok(value),
            Claimed::Gate(guard) => Ok(guard.complete(init().await?)),
        }
    }

    /// Consumes the cell and returns its value, if any.
    pub fn into_inner(mut self) -> Option<T> {
        self.slot.take()
    }

    /// Empties the cell and returns its value, if any: `&mut self` proves no initialiser runs.
    pub fn take(&mut self) -> Option<T> {
        self.slot.take()
    }
}

impl<T> SetError<T> {
    /// Whether the cell already held a value.
    pub fn is_already_init_err(&self) -> bool {
        matches!(self, SetError::AlreadyInitializedError(_))
    }

    /// Whether another caller was initialising the cell.
    pub fn is_initializing_err(&self) -> bool {
        matches!(self, SetError::InitializingError(_))
    }
}

impl<T> Default for OnceCell<T> {
    fn default() -> OnceCell<T> {
        OnceCell::new()
    }
}

impl<T> From<T> for OnceCell<T> {
    fn from(value: T) -> OnceCell<T> {
        OnceCell::const_new_with(value)
    }
}

impl<T: Clone> Clone for OnceCell<T> {
    /// A cell holding a clone of the value, or an empty one (also while an initialiser runs).
    fn clone(&self) -> OnceCell<T> {
        OnceCell::new_with(self.get().cloned())
    }
}

impl<T: PartialEq> PartialEq for OnceCell<T> {
    fn eq(&self, other: &OnceCell<T>) -> bool {
        self.get() == other.get()
    }
}

impl<T: Eq> Eq for OnceCell<T> {}

impl<T: fmt::Debug> fmt::Debug for OnceCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnceCell")
            .field("value", &self.get())
            .finish()
    }
}

impl<T> fmt::Display for SetError<T> {
    /// tokio's messages, so that logs read the same after a port.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SetError::AlreadyInitializedError(_) => "AlreadyInitializedError",
            SetError::InitializingError(_) => "InitializingError",
        })
    }
}

impl<T: fmt::Debug> Error for SetError<T> {}
