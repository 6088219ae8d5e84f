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

/// What a runtime's timers tell its executor ([`TimeDriver::set_hook`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeEvent {
    /// A timer became the earliest of its set, with this deadline: a thread sleeping until a
    /// later one must be woken (Go's `wakeNetPoller`).
    EarlierDeadline(Instant),
    /// The paused clock was moved forward (`advance`): timers may be due at once.
    ClockAdvanced,
}

/// The executor's reaction to a [`TimeEvent`].
type Hook = Box<dyn Fn(TimeEvent) + Send + Sync>;

/// One runtime's clock and timer hook (module doc).
#[derive(Default)]
pub struct TimeDriver {
    /// The runtime's clock (paused in tests).
    pub clock: Clock,
    /// Set once, by the runtime that adopts this driver.
    hook: OnceLock<Hook>,
}

impl TimeDriver {
    /// A driver with a running clock and no hook.
    pub fn new() -> Arc<TimeDriver> {
        Arc::new(TimeDriver::default())
    }

    /// Installs `hook`, told of every [`TimeEvent`] of this driver's sets and clock. Returns
    /// `false` if a hook was already installed (a driver belongs to one runtime).
    pub fn set_hook(&self, hook: impl Fn(TimeEvent) + Send + Sync + 'static) -> bool {
        self.hook.set(Box::new(hook)).is_ok()
    }

    /// Whether a runtime adopted this driver (installed its hook).
    pub fn is_adopted(&self) -> bool {
        self.hook.get().is_some()
    }

    /// Tells the runtime that `when` is now the earliest deadline of one of its sets.
    pub fn earlier_deadline(&self, when: Instant) {
        self.notify(TimeEvent::EarlierDeadline(when));
    }

    /// Tells the runtime that the paused clock moved forward.
    pub fn clock_advanced(&self) {
        self.notify(TimeEvent::ClockAdvanced);
    }

    fn notify(&self, event: TimeEvent) {
        if let Some(hook) = self.hook.get() {
            hook(event);
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
