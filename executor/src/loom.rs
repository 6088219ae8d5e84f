//! The one place the executor names its atomics, so that `RUSTFLAGS="--cfg loom"` swaps every
//! lock-free structure onto loom's model checker without touching the structure's code (tokio's
//! `loom` facade pattern).
//!
//! Only the modules that are modelled (the run queue, the poller's bound, the syscall word) import from here; the rest of the executor
//! uses `std` directly because loom models are kept small.

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{fence, AtomicPtr, AtomicU32, AtomicU64, Ordering};

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{fence, AtomicPtr, AtomicU32, AtomicU64, Ordering};
