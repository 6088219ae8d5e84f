//! `WakerSlot`: `futures`' `AtomicWaker`, or loom's under `cfg(loom)`, behind the two calls
//! gort's crates make (register, take).
//!
//! The timer entry and the channel waiter both lean on the slot's read-modify-writes to order
//! a wake after a register, and loom cannot see `futures`' atomics: a first model of the timer
//! entry without the swap reported a lost wakeup that the real slot rules out. So the slot is
//! swapped with the rest of each crate's loom facade (`RUSTFLAGS="--cfg loom"` applies to every
//! crate of the build at once).

use std::task::Waker;

/// A waker slot for one waiting task (module doc).
#[derive(Debug, Default)]
pub struct WakerSlot {
    #[cfg(not(loom))]
    inner: futures::task::AtomicWaker,
    #[cfg(loom)]
    inner: loom::future::AtomicWaker,
}

impl WakerSlot {
    /// An empty slot.
    pub fn new() -> WakerSlot {
        WakerSlot::default()
    }

    /// Stores `waker` (replacing an older one) for the next [`WakerSlot::take`].
    pub fn register(&self, waker: &Waker) {
        #[cfg(not(loom))]
        self.inner.register(waker);
        #[cfg(loom)]
        self.inner.register_by_ref(waker);
    }

    /// Shows the registered waker, if any, to `look` and leaves it registered (the GC arena's
    /// leak pass reads who waits; the slot has no way to look without taking, so it takes and
    /// registers again). Only for a caller that no register or take can race with.
    pub fn with_waker(&self, look: impl FnOnce(&Waker)) {
        if let Some(waker) = self.take() {
            look(&waker);
            self.register(&waker);
        }
    }

    /// Takes the registered waker, if any, to wake it (possibly after releasing a lock).
    pub fn take(&self) -> Option<Waker> {
        #[cfg(not(loom))]
        return self.inner.take();
        #[cfg(loom)]
        return self.inner.take_waker();
    }
}
