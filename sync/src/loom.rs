//! The synchronisation the channel uses, swapped for loom's under `cfg(loom)` so that the loom
//! models in `tests/loom_chan.rs` check the real hand-off, cancellation and select-commit
//! protocols (as the executor's, reactor's and timer's `loom.rs` do).

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{
    AtomicBool, AtomicPtr, AtomicU32, AtomicU8, AtomicUsize, Ordering,
};
#[cfg(not(loom))]
pub(crate) use std::sync::{Mutex, MutexGuard};

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{
    AtomicBool, AtomicPtr, AtomicU32, AtomicU8, AtomicUsize, Ordering,
};
#[cfg(loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard};

/// `futures`' `AtomicWaker`, or loom's under `cfg(loom)`, behind the two calls the channel
/// makes.
#[derive(Debug, Default)]
pub(crate) struct WakerSlot {
    #[cfg(not(loom))]
    inner: futures::task::AtomicWaker,
    #[cfg(loom)]
    inner: loom::future::AtomicWaker,
}

impl WakerSlot {
    /// Stores `waker` (replacing an older one) for the next [`WakerSlot::wake`].
    pub(crate) fn register(&self, waker: &std::task::Waker) {
        #[cfg(not(loom))]
        self.inner.register(waker);
        #[cfg(loom)]
        self.inner.register_by_ref(waker);
    }

    /// Takes the registered waker, to wake it later (outside a lock).
    pub(crate) fn take(&self) -> Option<std::task::Waker> {
        #[cfg(not(loom))]
        return self.inner.take();
        #[cfg(loom)]
        return self.inner.take_waker();
    }
}
