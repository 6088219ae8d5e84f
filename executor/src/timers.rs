//! How Ms run timers (Go's `checkTimers`, `wakeNetPoller` and the poller's timed wait,
//! `proc.go`/`time.go`).
//!
//! Every P owns a timer set (`gort_timer::Timers`); the runtime owns one more for timers armed
//! by threads holding no P. Nobody runs a dedicated timer thread. Instead:
//!
//! - **Own P, each scheduling round.** `find_runnable` first fires the earliest due timer of its
//!   P and of the runtime's P-less set ([`Shared::run_due_timers`]) and runs the G it woke. The
//!   check is one atomic load per set, plus a clock read only when a deadline exists. Due timers
//!   are fired one per round, not all at once: the heap is already a queue ordered by how long
//!   each G has been due, while a woken batch would wait in the ring behind whatever was queued
//!   before it. So that this priority cannot starve the queue, after 16 timer Gs in a row the
//!   queue gets a turn if it has work (`MAX_TIMER_STREAK` in `worker.rs`).
//!
//!   Measured with 100k tasks sleeping 1-50 ms while the spawner still spawns (the `sleeps100k`
//!   benchmark, mean lateness): Go readies all due timers into `runnext`, so a burst overflows
//!   the ring into the global queue's tail, behind up to 100k fresh spawns (Go: 5-14 ms; gort
//!   did 8-55 ms that way). Injecting the batch with its overflow at the global queue's front
//!   gave 0.6-5 ms (median ~1.5); one timer per round with strict priority ~0.8 ms, with the
//!   cap of 16 ~0.9-1.1 ms, and with a cap of 1 (alternating) 2-6 ms. The rest is the
//!   allocator: while the spawner allocates, the other M frees those tasks through glibc's
//!   arena lock (0.56 ms with mimalloc).
//! - **Other Ps, when stealing.** In the last steal round a thief runs the due timers of each
//!   victim ([`Shared::run_victim_timers`]), so timers of a P whose M is busy in one long poll,
//!   or of an idle P, still fire; the Gs they wake land on the thief's P the same way.
//! - **The poller's wait.** The M that blocks in the netpoller bounds the wait by the earliest
//!   deadline over all sets ([`Shared::poll_bound`]). When a P's timer is due it does not run
//!   it itself: as in Go, it takes an idle P (preferring one whose timer is due) and goes back to
//!   `find_runnable`, which runs it; if every P is busy it parks, and the busy Ms run their own
//!   timers. (A first version ran every due timer from the poller, without a P, and queued the
//!   woken Gs globally: under load the poller woke at each of thousands of deadlines and took
//!   the timers from the busy Ms, whose `find_runnable` would have run them with a P.) It does
//!   run the P-less set's due timers: they belong to threads without a P (`block_on`'s main,
//!   plain threads), whose wakers mostly need no P, so no busy P should delay them. If no fd
//!   was ever registered, pending timers make it create the poller anyway: a timed wait there
//!   is the most precise sleep available, and it keeps one place where idle Ms wait.
//!
//! A timer that becomes the earliest of its set calls [`Shared::timer_armed`] (the hook
//! installed on the runtime's `TimeDriver`). Go's `wakeNetPoller`: if an M is blocked in the
//! poller with a later bound, `Reactor::notify` breaks its wait; if none is, `wakep` wakes a
//! spinning M (when a P is idle) that will end up in the poller with the new bound. The two
//! sides order themselves through `PollUntil` (`poll_until.rs`): either the poller's scan of
//! the sets sees the new timer, or the arming thread sees the poller's bound and breaks it.
//!
//! # Paused clock
//!
//! With the test clock paused, timed waits would never end. The poller then checks whether
//! the runtime is idle (no `spawn_blocking` job queued or running, every P idle, no queued G,
//! every `block_on` main parked and not woken: main is polled without a P, so idle Ps alone do
//! not mean nothing runs): if so, nothing can run before the next timer, so it moves the clock
//! to that deadline and fires it (tokio's auto-advance); if not, it waits at most a millisecond
//! of real time and looks again. A blocking job keeps the clock where it is however long it
//! takes in real time, as in tokio: `timeout(1ms, spawn_blocking(sleep 50ms))` does not time out.

use std::sync::Arc;
use std::time::{Duration, Instant};

use gort_timer::{deadline_nanos, TimeEvent, Timers};

use crate::context;
use crate::p::P;
use crate::poll_until::OnArm;
use crate::shared::Shared;
use crate::Task;

/// The shortest timed park of a thread waiting for a timer without a poller
/// ([`Shared::timer_park_bound`]).
const NO_POLLER_MIN_PARK: Duration = Duration::from_micros(100);

/// How long the poller waits, in real time, before re-checking a paused clock whose runtime is
/// not idle yet.
const PAUSED_RECHECK: Duration = Duration::from_millis(1);

impl Shared {
    /// Fires the earliest due timer of `p` (held by this thread) and of the P-less set, and
    /// returns the G woken to run now (a second one is queued on `p`). Module doc: the others
    /// stay in the heap for the next rounds.
    pub(crate) fn run_due_timers(self: &Arc<Self>, p: &P) -> Option<Task> {
        let next = earlier(p.timers.next_deadline(), self.orphan_timers.next_deadline())?;
        let now = self.time.clock.now();
        if next > now {
            return None;
        }
        // One timer per set: the rest stay due in the heap, which orders them by deadline.
        let (_, woken) = context::collect_wakes(|| {
            p.timers.run_expired_at_most(now, 1) + self.orphan_timers.run_expired_at_most(now, 1)
        });
        self.inject(p, woken)
    }

    /// A thief's look at `victim`'s timers (Go's `stealTimersOrRunNextG`): runs them if any is
    /// due, places the Gs they woke on `p` (held by this thread), and returns the first.
    pub(crate) fn run_victim_timers(self: &Arc<Self>, p: &P, victim: &P) -> Option<Task> {
        let next = victim.timers.next_deadline()?;
        let now = self.time.clock.now();
        if next > now {
            return None;
        }
        let (_, woken) = context::collect_wakes(|| victim.timers.run_expired(now));
        self.inject(p, woken)
    }

    /// Runs the due timers of the P-less set on this thread (the poller M, which holds no P)
    /// and returns the Gs they woke.
    pub(crate) fn run_due_orphan_timers(&self) -> Vec<Task> {
        let now = self.time.clock.now();
        let (_, woken) = context::collect_wakes(|| self.orphan_timers.run_expired(now));
        woken
    }

    /// Whether a timer of any set is due (after the poller's timed wait).
    pub(crate) fn timer_due(&self) -> bool {
        self.earliest_timer()
            .is_some_and(|earliest| earliest <= self.time.clock.now())
    }

    /// Runs every due timer of every set, on this thread (when the test clock jumped).
    pub(crate) fn run_all_due_timers(&self) {
        let now = self.time.clock.now();
        for timers in self.timer_sets() {
            context::contain_waker_panics(|| timers.run_expired(now));
        }
    }

    /// The earliest deadline over every set (it may be a cancelled timer's: a spurious wakeup).
    pub(crate) fn earliest_timer(&self) -> Option<Instant> {
        self.timer_sets()
            .map(|timers| timers.next_deadline())
            .fold(None, earlier)
    }

    /// Records in every set, zombies included.
    pub(crate) fn timer_heap_records(&self) -> usize {
        self.timer_sets().map(|timers| timers.len()).sum()
    }

    /// Every timer set of this runtime.
    fn timer_sets(&self) -> impl Iterator<Item = &Arc<Timers>> {
        self.ps
            .iter()
            .map(|p| &p.timers)
            .chain(std::iter::once(&self.orphan_timers))
    }

    /// How long the M about to block in the poller may wait: `None` without timers. Publishes
    /// the bound in `poll_until` (`PollUntil`'s handshake with [`Shared::timer_armed`]); the
    /// caller calls `poll_until.end()` after the wait.
    pub(crate) fn poll_bound(&self) -> Option<Duration> {
        self.poll_until.begin();
        let earliest = self.earliest_timer()?;
        let clock = &self.time.clock;
        if clock.is_paused() {
            if self.is_idle() {
                // Nothing can run before the next timer (auto-advance).
                clock.advance_to(earliest);
                return Some(Duration::ZERO);
            }
            return Some(PAUSED_RECHECK);
        }
        self.poll_until.publish(Some(deadline_nanos(earliest)));
        Some(earliest.saturating_duration_since(clock.now()))
    }

    /// How long a parked thread may sleep before the earliest timer is due, when the runtime has
    /// no poller (creating it failed: out of descriptors), in which an idle M would otherwise
    /// wait for timers: `None` if there is a poller or no timer (`worker::wait_parked`,
    /// `worker::park_main`).
    pub(crate) fn timer_park_bound(&self) -> Option<Duration> {
        if self.reactor.has_poller() {
            return None;
        }
        let earliest = self.earliest_timer()?;
        let clock = &self.time.clock;
        if clock.is_paused() {
            return Some(PAUSED_RECHECK);
        }
        // Not zero: a timer due while every P is busy is theirs to run, and a parked thread
        // that found no idle P for it must not spin meanwhile.
        Some(
            earliest
                .saturating_duration_since(clock.now())
                .max(NO_POLLER_MIN_PARK),
        )
    }

    /// The hook installed on the runtime's `TimeDriver`.
    pub(crate) fn on_time_event(self: &Arc<Self>, event: TimeEvent) {
        match event {
            TimeEvent::EarlierDeadline(when) => self.timer_armed(when),
            TimeEvent::ClockAdvanced => {
                // `advance` yields after this, so the Gs woken here run before it returns.
                self.run_all_due_timers();
                self.timer_armed(self.time.clock.now());
            }
        }
    }

    /// A timer became the earliest of its set (Go's `wakeNetPoller`; ordering in
    /// [`Shared::poll_bound`]). No clock read: this runs on every new earliest deadline.
    fn timer_armed(self: &Arc<Self>, when: Instant) {
        match self.poll_until.on_arm(deadline_nanos(when)) {
            OnArm::WakeIdle => self.wakep(),
            OnArm::BreakPoll => self.reactor.notify(),
            OnArm::Nothing => {}
        }
    }
}

/// The earlier of two optional deadlines.
fn earlier(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}
