//! The synchronisation `entry.rs` uses, swapped for loom's under `cfg(loom)` so that the loom
//! models in `tests/loom_entry.rs` check the real fire / cancel / register protocol (the
//! executor's and reactor's `loom.rs` do the same). The waker slot has to be swapped too: the
//! entry's correctness leans on the slot's read-modify-writes ordering a fire after a register,
//! and loom cannot see `futures`' atomics (a first model without the swap reported a lost wakeup
//! that the real slot rules out).

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicU64, Ordering};

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU64, Ordering};

/// `futures`' `AtomicWaker`, or loom's under `cfg(loom)`, behind the two calls the entry makes.
#[derive(Debug, Default)]
pub(crate) struct WakerSlot {
    #[cfg(not(loom))]
    inner: futures::task::AtomicWaker,
    #[cfg(loom)]
    inner: loom::future::AtomicWaker,
}

impl WakerSlot {
    pub(crate) fn new() -> WakerSlot {
        WakerSlot::default()
    }

    /// Stores `waker` (replacing an older one) for the next [`WakerSlot::take`].
    pub(crate) fn register(&self, waker: &std::task::Waker) {
        #[cfg(not(loom))]
        self.inner.register(waker);
        #[cfg(loom)]
        self.inner.register_by_ref(waker);
    }

    /// Takes the registered waker, if any.
    pub(crate) fn take(&self) -> Option<std::task::Waker> {
        #[cfg(not(loom))]
        return self.inner.take();
        #[cfg(loom)]
        return self.inner.take_waker();
    }
}
