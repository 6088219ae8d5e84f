//! `Note`: how an idle M sleeps until it is handed a P (Go's `m.park` note and `m.nextp`).
//!
//! `startm` picks a parked M off the idle-M list (under `sched.lock`, so exactly one waker per
//! parked M) and hands it a [`Handoff`]; the M wakes with the P already assigned, which is what
//! keeps a woken M from racing other Ms for the P it was woken for.

use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// What a parked M is woken with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Handoff {
    /// Run the scheduler holding P `index`; `spinning` if it was counted in `nmspinning`.
    P { index: usize, spinning: bool },
    /// The runtime is shutting down: exit.
    Shutdown,
    /// Become the netpoller M (no P): the thread that was polling left the scheduler while Gs
    /// still wait on IO (`Shared::ensure_poller`).
    Poll,
}

/// One parked M's wakeup slot.
pub(crate) struct Note {
    /// The pending handoff, written once by the waker, taken by the M.
    handoff: Mutex<Option<Handoff>>,
    /// Signalled when `handoff` is written.
    wakeup: Condvar,
}

impl Note {
    pub(crate) fn new() -> Note {
        Note {
            handoff: Mutex::new(None),
            wakeup: Condvar::new(),
        }
    }

    /// Hands `handoff` to the parked M and wakes it.
    pub(crate) fn wake(&self, handoff: Handoff) {
        let mut slot = self.handoff.lock().unwrap_or_else(|e| e.into_inner());
        // Exactly one waker per parked M (module doc); a second would overwrite the first's
        // handoff and lose a P for good. One branch under a lock already held: checked always.
        if let Some(earlier) = *slot {
            woken_twice(earlier, handoff);
        }
        *slot = Some(handoff);
        drop(slot);
        self.wakeup.notify_one();
    }

    /// Sleeps until woken or until `timeout` has passed: what the M was handed, or `None`.
    pub(crate) fn wait_timeout(&self, timeout: Duration) -> Option<Handoff> {
        // A keep-alive too long to be an `Instant` (`Duration::MAX`) never runs out.
        let Some(deadline) = Instant::now().checked_add(timeout) else {
            return Some(self.wait());
        };
        let mut slot = self.handoff.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(handoff) = slot.take() {
                return Some(handoff);
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            slot = self
                .wakeup
                .wait_timeout(slot, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Sleeps until woken, and returns what the M was handed.
    pub(crate) fn wait(&self) -> Handoff {
        let mut slot = self.handoff.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(handoff) = slot.take() {
                return handoff;
            }
            slot = self.wakeup.wait(slot).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// A parked M was handed a second handoff before it took the first: a bug in the idle-M
/// protocol, which would lose a P.
#[cold]
#[inline(never)]
fn woken_twice(earlier: Handoff, later: Handoff) -> ! {
    panic!("gort: a parked M was woken twice ({earlier:?}, then {later:?}); this is a bug in gort")
}
