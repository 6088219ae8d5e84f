//! The synchronisation `entry.rs` uses, swapped for loom's under `cfg(loom)` so that the loom
//! models in `tests/loom_entry.rs` check the real fire / cancel / register protocol (the
//! executor's and reactor's `loom.rs` do the same). The waker slot is swapped too; it is
//! `gort_context::WakerSlot`, shared with the channel waiter (why it must be swapped is there).

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicU64, Ordering};

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU64, Ordering};

pub(crate) use gort_context::WakerSlot;
