//! `PollUntil`: the deadline the M blocked in the netpoller will wake at (Go's
//! `sched.pollUntil`), and the handshake that keeps a new earlier timer from being slept through.
//!
//! Two parties race. The **poller** reads every timer set's earliest deadline and then blocks
//! until the earliest of them. An **arming thread** puts a new deadline into a set; if that
//! deadline is earlier than what the poller is sleeping towards, it must break the wait
//! (`Reactor::notify`); if nobody is in the poller, it wakes an idle M (`wakep`), which will
//! end up there with the new bound (Go's `wakeNetPoller`).
//!
//! The danger is the classic store/load race: the poller reads the sets just before the new
//! deadline lands, and the arming thread reads the poller's state just before the poller
//! publishes it, so that each misses the other. Both sides therefore store, fence (`SeqCst`),
//! then load:
//!
//! - poller: [`PollUntil::begin`] stores `UNBOUNDED` and fences, then it reads the sets, then
//!   [`PollUntil::publish`] stores the bound;
//! - arming thread: publishes its deadline in its set, then [`PollUntil::on_arm`] fences and
//!   loads.
//!
//! Either the poller's read sees the new deadline, or the arming thread's load sees `UNBOUNDED`
//! or the published bound; both are later than its deadline, so it breaks the wait. A
//! notification sent before the poller actually blocks is kept by the poller's eventfd. The loom
//! model in `tests/loom_poll_until.rs` checks this with the real type.

use crate::loom::{fence, AtomicU64, Ordering};

/// What an arming thread must do about its new earliest deadline ([`PollUntil::on_arm`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnArm {
    /// Nobody is in the poller: wake an idle M (`wakep`).
    WakeIdle,
    /// The poller sleeps past the deadline: break its wait (`Reactor::notify`).
    BreakPoll,
    /// The poller wakes at or before the deadline anyway.
    Nothing,
}

/// The poller's bound (module doc).
#[derive(Debug)]
pub struct PollUntil {
    /// `NOT_POLLING`, `UNBOUNDED`, or the bound as `gort_timer::deadline_nanos` (never 0 or
    /// `u64::MAX` for a real deadline). `SeqCst` (module doc).
    until: AtomicU64,
}

/// No M is blocked in the poller.
const NOT_POLLING: u64 = 0;

/// The poller is computing its bound, or waits without one.
const UNBOUNDED: u64 = u64::MAX;

impl Default for PollUntil {
    fn default() -> Self {
        PollUntil::new()
    }
}

impl PollUntil {
    /// Nobody in the poller.
    pub fn new() -> PollUntil {
        PollUntil {
            until: AtomicU64::new(NOT_POLLING),
        }
    }

    /// The poller, before it reads the timer sets.
    pub fn begin(&self) {
        self.until.store(UNBOUNDED, Ordering::SeqCst);
        fence(Ordering::SeqCst);
    }

    /// The poller, after reading the sets: it will wake by `bound` (a `deadline_nanos`), or
    /// only when notified if `None`.
    pub fn publish(&self, bound: Option<u64>) {
        self.until
            .store(bound.unwrap_or(UNBOUNDED), Ordering::SeqCst);
    }

    /// Whether an M is blocked in the poller (or about to be).
    pub fn is_polling(&self) -> bool {
        self.until.load(Ordering::SeqCst) != NOT_POLLING
    }

    /// The poller, after its wait returned.
    pub fn end(&self) {
        self.until.store(NOT_POLLING, Ordering::SeqCst);
    }

    /// An arming thread, after its deadline `when` (a `deadline_nanos`) became visible in its
    /// set: what it must do so that the deadline is not slept through.
    pub fn on_arm(&self, when: u64) -> OnArm {
        fence(Ordering::SeqCst);
        match self.until.load(Ordering::SeqCst) {
            NOT_POLLING => OnArm::WakeIdle,
            until if until > when => OnArm::BreakPoll,
            _ => OnArm::Nothing,
        }
    }
}
