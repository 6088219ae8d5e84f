//! `TimeDriver`: what one runtime's timers share: its [`Clock`] and the executor's hook for a
//! new earliest deadline.
//!
//! Each P of a runtime owns a [`Timers`] set, and the runtime owns one more for timers armed on
//! threads that hold no P (the `block_on` thread between Ps, a plain thread); every set points
//! at the runtime's driver. When arming a timer makes it the earliest of its set, the set calls
//! the hook, which is the executor's Go `wakeNetPoller`: break the poller's wait if it would
//! sleep past the new deadline, or wake an idle M to take the poller role if nobody is in it.
//! This crate never imports the executor; the hook is how the executor hears about timers.
//!
//! [`Timers`]: crate::Timers

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use crate::clock::Clock;

/// The executor's reaction to a timer that became the earliest of its set.
type EarlierHook = Box<dyn Fn(Instant) + Send + Sync>;

/// One runtime's clock and timer hook (module doc).
#[derive(Default)]
pub struct TimeDriver {
    /// The runtime's clock (paused in tests).
    pub clock: Clock,
    /// Set once, by the runtime that adopts this driver.
    on_earlier: OnceLock<EarlierHook>,
}

impl TimeDriver {
    /// A driver with a running clock and no hook.
    pub fn new() -> Arc<TimeDriver> {
        Arc::new(TimeDriver::default())
    }

    /// Installs `hook`, called with the deadline whenever a timer becomes the earliest of one of
    /// this driver's sets. Returns `false` if a hook was already installed (a driver belongs to
    /// one runtime).
    pub fn set_earlier_hook(&self, hook: impl Fn(Instant) + Send + Sync + 'static) -> bool {
        self.on_earlier.set(Box::new(hook)).is_ok()
    }

    /// Whether a runtime adopted this driver (installed its hook).
    pub fn is_adopted(&self) -> bool {
        self.on_earlier.get().is_some()
    }

    /// Tells the runtime that `when` is now the earliest deadline of one of its sets. A `when`
    /// at or before the clock's now (the test clock jumped) asks it to run every due timer at
    /// once.
    pub fn earlier_deadline(&self, when: Instant) {
        if let Some(hook) = self.on_earlier.get() {
            hook(when);
        }
    }
}

impl fmt::Debug for TimeDriver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimeDriver")
            .field("clock", &self.clock)
            .field("adopted", &self.is_adopted())
            .finish()
    }
}
