//! The one place the reactor names the synchronisation of poll descriptors, so that
//! `RUSTFLAGS="--cfg loom"` runs `poll_desc.rs` on loom's model checker unchanged (the executor's
//! `loom.rs` does the same for its run queue).

#[cfg(not(loom))]
pub(crate) use std::sync::{atomic::AtomicUsize, Mutex, MutexGuard};

#[cfg(loom)]
pub(crate) use loom::sync::{atomic::AtomicUsize, Mutex, MutexGuard};
