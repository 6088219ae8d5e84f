//! The synchronisation the channels use, swapped for loom's under `cfg(loom)` so that the loom
//! models in `tests/loom_chan.rs` and `tests/loom_mpsc.rs` check the real hand-off,
//! cancellation, select-commit and sender-count protocols (as the executor's, reactor's and
//! timer's `loom.rs` do). The waker slot is `gort_context::WakerSlot`, shared with the timer
//! entry.

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{
    AtomicBool, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering,
};
#[cfg(not(loom))]
pub(crate) use std::sync::{Mutex, MutexGuard};

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{
    AtomicBool, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering,
};
#[cfg(loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard};

pub(crate) use gort_context::WakerSlot;

pub(crate) use gort_gc::{pin_thread, PinGuard};
