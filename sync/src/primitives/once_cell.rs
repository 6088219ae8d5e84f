//! [`OnceCell`]: a value set once, possibly by an async initialiser, then read freely.
//!
//! Go's `sync.Once` with a result. `async-lock`'s cell does the work: a state word
//! (uninitialised, initialising, initialised) and `event-listener` events, so that of many
//! concurrent `get_or_init` callers exactly one runs its initialiser while the rest park, and
//! a cancelled or failed initialiser lets the next caller try. The newtype gives tokio's
//! signatures: `set` is synchronous and says why it failed ([`SetError`]), `initialized`
//! instead of `is_initialized`.

use std::error::Error;
use std::fmt;
use std::future::Future;

/// A cell written at most once. Reads after the write take no lock.
///
/// Share it with `Arc`, or make it a `static` (the constructor is `const`) for lazily
/// initialised globals.
pub struct OnceCell<T> {
    /// The state, the value and the parked callers.
    inner: async_lock::OnceCell<T>,
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
    /// An empty cell. `const`, so a cell can be a `static`.
    pub const fn new() -> OnceCell<T> {
        OnceCell {
            inner: async_lock::OnceCell::new(),
        }
    }

    /// The same as [`OnceCell::new`]; tokio's name for the `const` constructor.
    pub const fn const_new() -> OnceCell<T> {
        OnceCell::new()
    }

    /// A cell holding `value`, or an empty one for `None`.
    pub fn new_with(value: Option<T>) -> OnceCell<T> {
        match value {
            Some(value) => OnceCell::from(value),
            None => OnceCell::new(),
        }
    }

    /// Whether the cell holds a value.
    pub fn initialized(&self) -> bool {
        self.inner.is_initialized()
    }

    /// The value, or `None` if the cell is empty or being initialised. Never waits.
    pub fn get(&self) -> Option<&T> {
        self.inner.get()
    }

    /// The value, mutably: `&mut self` proves no initialiser runs.
    pub fn get_mut(&mut self) -> Option<&mut T> {
        self.inner.get_mut()
    }

    /// Stores `value` if the cell is empty and nobody is initialising it; otherwise gives it back
    /// in the [`SetError`] that says which.
    pub fn set(&self, value: T) -> Result<(), SetError<T>> {
        self.inner.try_set(value).map_err(|value| {
            if self.inner.is_initialized() {
                SetError::AlreadyInitializedError(value)
            } else {
                SetError::InitializingError(value)
            }
        })
    }

    /// The value, first running `init` to produce it if the cell is empty.
    ///
    /// Of concurrent callers on an empty cell, one runs its `init`; the others park and then
    /// return that value, their own `init` never called. If the running `init` is cancelled,
    /// a parked caller takes over with its own.
    pub async fn get_or_init<F, Fut>(&self, init: F) -> &T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        self.inner.get_or_init(init).await
    }

    /// [`OnceCell::get_or_init`] with a fallible initialiser: an `Err` leaves the cell empty
    /// (the next caller runs its own initialiser) and is returned to this caller.
    pub async fn get_or_try_init<E, F, Fut>(&self, init: F) -> Result<&T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        self.inner.get_or_try_init(init).await
    }

    /// Consumes the cell and returns its value, if any.
    pub fn into_inner(self) -> Option<T> {
        self.inner.into_inner()
    }

    /// Empties the cell and returns its value, if any: `&mut self` proves no initialiser runs.
    pub fn take(&mut self) -> Option<T> {
        self.inner.take()
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
        OnceCell {
            inner: async_lock::OnceCell::from(value),
        }
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
