//! The poller role (Go's `sched.lastpoll == 0`): the one idle M blocked in the netpoller, which
//! is not on the idle-M list, and what it does with the Gs its poll woke. `netpoll.rs` is the M's
//! side of the protocol; this is the runtime's.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::{Placed, Shared};
use crate::park::{Handoff, Note};
use crate::Task;

impl Shared {
    /// Records that the netpoller was just polled (`netpoll.rs`).
    pub(crate) fn note_netpoll(&self) {
        let now = u64::try_from(self.created.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.last_netpoll.store(now, Ordering::Relaxed);
    }

    /// Time since the netpoller was last polled.
    pub(crate) fn since_netpoll(&self) -> Duration {
        let last = Duration::from_micros(self.last_netpoll.load(Ordering::Relaxed));
        self.created.elapsed().saturating_sub(last)
    }

    /// Records `note`'s M as the one blocked in the netpoller. Returns `false` (and records
    /// nothing) if the runtime is shutting down.
    pub(crate) fn register_poller(&self, note: &Arc<Note>) -> bool {
        let mut sched = self.lock();
        if self.is_shutdown() {
            return false;
        }
        // Proof: the caller holds the reactor's driver role, which one thread at a time can, and
        // a poller unregisters (`leave_poller`) before it lets go of the driver.
        debug_assert!(sched.poller.is_none(), "two Ms in the netpoller");
        sched.poller = Some(Arc::clone(note));
        true
    }

    /// Makes sure some M will block in the netpoller when the thread that was doing it (or may
    /// have been) leaves: wakes a parked M to do it, or starts one if `or_start` or if the
    /// runtime has no running M at all (a 1-P runtime whose only P was `block_on`'s). Otherwise,
    /// with every M busy, each polls when it runs out of work.
    pub(crate) fn ensure_poller(self: &Arc<Self>, or_start: bool) {
        if self.is_current_thread() {
            // Only a thread inside `block_on` polls a current-thread runtime: wake one (if any
            // is inside) to take the netpoller over; with none, IO waits for the next.
            self.nudge_mains();
            return;
        }
        let mut sched = self.lock();
        if self.is_shutdown() || sched.poller.is_some() {
            return;
        }
        if let Some(note) = sched.idle_ms.pop() {
            drop(sched);
            note.wake(Handoff::Poll);
            return;
        }
        // Every P idle and no M parked: nobody would ever poll. (An M between releasing its P
        // and parking would; then the new M merely parks too.)
        let nobody_runs = sched.idle_ps.len() == self.procs;
        drop(sched);
        if or_start || nobody_runs {
            self.spawn_m(None, false);
        }
    }

    /// Whether `note`'s M is still the registered poller (`startm` or shutdown may have taken
    /// it; then a handoff is on its way to the note).
    pub(crate) fn is_poller(&self, note: &Arc<Note>) -> bool {
        let sched = self.lock();
        sched.poller.as_ref().is_some_and(|n| Arc::ptr_eq(n, note))
    }

    /// Unregisters `note`'s M as the poller, before it lets go of the driver (Go stores
    /// `sched.lastpoll` before its `pidleget`): from then on an M going idle takes the driver and
    /// the role instead of parking beside this one. `false` if `startm` or shutdown took it
    /// first (a handoff is on its way to the note).
    pub(crate) fn leave_poller(&self, note: &Arc<Note>) -> bool {
        let mut sched = self.lock();
        if !sched.poller.as_ref().is_some_and(|n| Arc::ptr_eq(n, note)) {
            return false;
        }
        sched.poller = None;
        true
    }

    /// What a former poller M does with the Gs its last poll woke, or with timers that came due
    /// (`timers_due`) (Go's `findRunnable` after `netpoll(delay)`): take an idle P to run them,
    /// preferring one whose timers are due (its `find_runnable` runs them first); or, if every P
    /// is busy, queue the Gs globally and park, as Go's M does (`stopm`). Staying in the poller
    /// then would wake this thread for every packet or deadline only to hand the work to the
    /// busy Ps, taking CPU from them; the busy Ms poll and run their timers themselves whenever
    /// they look for work.
    pub(crate) fn place_polled(
        &self,
        note: &Arc<Note>,
        tasks: Vec<Task>,
        timers_due: bool,
    ) -> Placed {
        let mut sched = self.lock();
        if self.is_shutdown() {
            return Placed::Shutdown(tasks);
        }
        if let Some(p) = self.pidleget_for(&mut sched, timers_due) {
            return Placed::Run(p, tasks);
        }
        let dead = self.global_push_woken_locked(&mut sched, tasks);
        sched.idle_ms.push(Arc::clone(note));
        drop(sched);
        drop(dead);
        Placed::Park
    }

    /// For Gs a poll woke, or timers that came due (`timers_due`), on a thread that holds no P
    /// (`block_on`'s thread): an idle P to run them on (as in [`Shared::place_polled`]), or
    /// (`None`) the Gs go to the global queue and the timers to the busy Ps.
    pub(crate) fn idle_p_for(&self, tasks: &mut Vec<Task>, timers_due: bool) -> Option<usize> {
        if tasks.is_empty() && !timers_due {
            return None;
        }
        let mut sched = self.lock();
        if !self.is_shutdown() {
            if let Some(p) = self.pidleget_for(&mut sched, timers_due) {
                return Some(p);
            }
        }
        let dead = self.global_push_woken_locked(&mut sched, std::mem::take(tasks));
        drop(sched);
        drop(dead);
        None
    }
}
