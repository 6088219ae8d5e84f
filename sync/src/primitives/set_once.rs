//! [`SetOnce`]: a value set once by anyone, that tasks can wait for: an event that carries
//! data (Python's `asyncio.Event` with a payload, tokio's `SetOnce`).
//!
//! Where a [`OnceCell`](super::OnceCell) runs an initialiser on demand, a `SetOnce` is written
//! from outside ([`set`](SetOnce::set), synchronous, first writer wins) and read by whoever
//! [`wait`](SetOnce::wait)s for it. Both are a [`OnceSlot`] (`once_slot.rs`): the flag and
//! the value read without a lock, and a queue of waiters that the write releases all at once.
//! A `SetOnce` never claims the slot's gate (there is no initialiser to run), so a `set` fails
//! only because another one came first.
//!
//! Like `OnceCell`, it is not in the GC arena: `const_new` must stay `const` for `static`s
//! (`once_slot.rs`, "Why not in the GC arena").

use std::error::Error;
use std::fmt;

use crate::once_slot::{Claimed, OnceSlot};

/// A value written at most once, by the first [`set`](SetOnce::set); tasks
/// [`wait`](SetOnce::wait) for it. Reads after the write take no lock.
///
/// Share it with `Arc`, or make it a `static` (with [`const_new`](SetOnce::const_new)).
pub struct SetOnce<T> {
    /// The value and the tasks waiting for it.
    slot: OnceSlot<T>,
}

/// The error of [`SetOnce::set`] on a value already set; gives the rejected value back.
#[derive(Debug, PartialEq, Eq)]
pub struct SetOnceError<T>(pub T);

impl<T> SetOnce<T> {
    /// An empty `SetOnce`.
    pub fn new() -> SetOnce<T> {
        SetOnce::const_new()
    }

    /// An empty `SetOnce`, in a `const` context: it can be a `static`.
    pub const fn const_new() -> SetOnce<T> {
        SetOnce {
            slot: OnceSlot::new(),
        }
    }

    /// A `SetOnce` holding `value`, or an empty one for `None`.
    pub fn new_with(value: Option<T>) -> SetOnce<T> {
        match value {
            Some(value) => SetOnce::const_new_with(value),
            None => SetOnce::new(),
        }
    }

    /// A `SetOnce` holding `value`, in a `const` context.
    pub const fn const_new_with(value: T) -> SetOnce<T> {
        SetOnce {
            slot: OnceSlot::new_set(value),
        }
    }

    /// Whether the value is set.
    pub fn initialized(&self) -> bool {
        self.slot.is_set()
    }

    /// The value, or `None` if not set yet. Never waits.
    pub fn get(&self) -> Option<&T> {
        self.slot.get()
    }

    /// Stores `value` and wakes every waiting task, unless a value is already set: then gives
    /// `value` back in the error. Of concurrent calls exactly one succeeds, and once any call
    /// has returned, [`get`](SetOnce::get) sees the value.
    pub fn set(&self, value: T) -> Result<(), SetOnceError<T>> {
        match self.slot.try_set(value) {
            Ok(_) => Ok(()),
            Err((value, _)) => Err(SetOnceError(value)),
        }
    }

    /// Consumes the `SetOnce` and returns its value, if any.
    pub fn into_inner(mut self) -> Option<T> {
        self.slot.take()
    }

    /// Completes with the value once it is set; at once if it already is.
    ///
    /// Cancel safe: dropping the future only stops waiting.
    pub async fn wait(&self) -> &T {
        loop {
            match self.slot.wait().await {
                Claimed::Value(value) => return value,
                // A `SetOnce` never claims the gate, so no guard is ever handed to a waiter;
                // were one, dropping it passes it on and the wait goes on.
                Claimed::Gate(guard) => drop(guard),
            }
        }
    }
}

impl<T> Default for SetOnce<T> {
    fn default() -> SetOnce<T> {
        SetOnce::new()
    }
}

impl<T> From<T> for SetOnce<T> {
    fn from(value: T) -> SetOnce<T> {
        SetOnce::const_new_with(value)
    }
}

impl<T: Clone> Clone for SetOnce<T> {
    /// A `SetOnce` holding a clone of the value, or an empty one.
    fn clone(&self) -> SetOnce<T> {
        SetOnce::new_with(self.get().cloned())
    }
}

impl<T: PartialEq> PartialEq for SetOnce<T> {
    fn eq(&self, other: &SetOnce<T>) -> bool {
        self.get() == other.get()
    }
}

impl<T: Eq> Eq for SetOnce<T> {}

impl<T: fmt::Debug> fmt::Debug for SetOnce<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SetOnce")
            .field("value", &self.get())
            .finish()
    }
}

impl<T> fmt::Display for SetOnceError<T> {
    /// tokio's message.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SetOnceError")
    }
}

impl<T: fmt::Debug> Error for SetOnceError<T> {}
