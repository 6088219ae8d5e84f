//! `RuntimeFlavor` and `runtime::Id`: what kind of runtime a handle points at, and which one.

use std::fmt;
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU64, Ordering};

/// The kind of scheduler a runtime runs (tokio's `RuntimeFlavor`), from
/// [`Handle::runtime_flavor`](crate::runtime::Handle::runtime_flavor).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RuntimeFlavor {
    /// One P, whose only M is the thread inside `block_on`: tasks run only while some thread
    /// blocks on the runtime (`Builder::new_current_thread`).
    CurrentThread,
    /// `worker_threads` Ps, run by threads the runtime starts (`Builder::new_multi_thread`).
    MultiThread,
}

/// An opaque id of a runtime (or of a `LocalSet`), unique among those alive in the process
/// (tokio's `runtime::Id`). Shown by its `Display` as a number.
#[derive(Clone, Copy, Debug, Hash, Eq, PartialEq)]
pub struct Id(NonZeroU64);

impl Id {
    /// A fresh id: never handed out before in this process.
    pub(crate) fn next() -> Id {
        /// The next id. `Relaxed`: ids only need to be unique.
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        Id(NonZeroU64::new(id).unwrap_or_else(|| unreachable!("2^64 ids handed out")))
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
