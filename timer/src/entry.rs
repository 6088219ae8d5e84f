//! `TimerEntry`: one timer's state, shared by its owner (a `Sleep`) and the heap it is armed in.
//!
//! # Arming, firing and cancelling without removing anything from the heap
//!
//! The state is one atomic word: a *generation* and a *fired* bit. Arming a timer takes the
//! current generation and puts `(entry, generation)` into a P's heap. Cancelling or re-arming
//! bumps the generation, which turns every older heap record for this entry into a zombie (the
//! heap drops them lazily, `heap.rs`); nothing has to find the old record. Firing is a CAS from
//! `(generation, not fired)` to `(generation, fired)`: it succeeds only if the record is still
//! the current arming, so a timer cancelled a moment before its deadline never wakes anyone,
//! and a fire racing a cancel is decided by which CAS lands first.
//!
//! The waker follows the usual register / re-check order: a poll stores its waker and then
//! reads the state again, and a fire sets the bit and then takes the waker; the waker slot's
//! read-modify-writes order the two (`futures`' `AtomicWaker`; the loom models in
//! `tests/loom_entry.rs` check the protocol with loom's).

use std::task::Waker;

use crate::loom::{AtomicU64, Ordering, WakerSlot};

/// The fired bit; the generation is in the bits above it.
const FIRED: u64 = 1;
/// One generation.
const GENERATION_ONE: u64 = 2;

/// A timer's shared state (module doc).
#[derive(Debug)]
pub struct TimerEntry {
    /// Generation (bits 1..) and fired bit (bit 0). `AcqRel` read-modify-writes: a fire's CAS
    /// pairs with a cancel's bump, and both with the owner's loads.
    state: AtomicU64,
    /// Who to wake when the current arming fires (`futures`' `AtomicWaker`).
    waker: WakerSlot,
}

impl TimerEntry {
    /// A timer that is not armed.
    pub fn new() -> TimerEntry {
        TimerEntry {
            state: AtomicU64::new(0),
            waker: WakerSlot::new(),
        }
    }

    /// The generation a new arming gets: the current one, un-fired. Callers arm by pushing
    /// `(entry, generation)` into a heap after [`TimerEntry::rearm`].
    pub fn generation(&self) -> u64 {
        self.state.load(Ordering::Acquire) & !FIRED
    }

    /// Starts a new arming: every older heap record becomes a zombie. Returns the new
    /// generation, and whether the previous arming was still pending (not fired), in which
    /// case its record is now a zombie the heap should be told about.
    pub fn rearm(&self) -> (u64, bool) {
        let next = |state: u64| (state & !FIRED).wrapping_add(GENERATION_ONE);
        let previous = self
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |state| {
                Some(next(state))
            })
            .unwrap_or_else(|state| state);
        (next(previous), previous & FIRED == 0)
    }

    /// Whether the heap record of arming `generation` is a zombie (cancelled or re-armed since).
    pub fn is_stale(&self, generation: u64) -> bool {
        self.state.load(Ordering::Acquire) & !FIRED != generation
    }

    /// Whether arming `generation` has fired.
    pub fn has_fired(&self, generation: u64) -> bool {
        self.state.load(Ordering::Acquire) == generation | FIRED
    }

    /// Fires arming `generation` if it is still the current one and has not fired, and returns
    /// the waker to wake (outside the heap's lock).
    pub fn fire(&self, generation: u64) -> Option<Waker> {
        self.state
            .compare_exchange(
                generation,
                generation | FIRED,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .ok()?;
        self.waker.take()
    }

    /// Registers `waker` to be woken when the current arming fires.
    pub fn register(&self, waker: &Waker) {
        self.waker.register(waker);
    }

    /// Drops the registered waker (its owner is gone, or the runtime shuts down).
    pub fn forget_waker(&self) {
        drop(self.waker.take());
    }
}

impl Default for TimerEntry {
    fn default() -> TimerEntry {
        TimerEntry::new()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    use super::*;

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn only_the_current_arming_fires_and_only_once() {
        let entry = TimerEntry::new();
        let count = Arc::new(Count(AtomicUsize::new(0)));
        entry.register(&Waker::from(Arc::clone(&count)));
        let (first, _) = entry.rearm();
        let (second, pending) = entry.rearm();
        assert!(pending, "the first arming had not fired");
        assert!(entry.is_stale(first) && !entry.is_stale(second));
        assert!(entry.fire(first).is_none(), "a zombie record fired");
        entry.fire(second).expect("the current arming fires").wake();
        assert!(entry.fire(second).is_none(), "fired twice");
        assert!(entry.has_fired(second));
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        let (third, pending) = entry.rearm();
        assert!(!pending, "a fired arming leaves no zombie");
        assert!(!entry.has_fired(third), "a new arming starts un-fired");
    }
}
