//! The idle lists (Go's `sched.pidle` and `sched.midle`): Ps no M holds, and parked Ms waiting
//! to be handed one, both under `sched.lock`, with the idle-P count mirrored in an atomic for
//! `wakep`'s lock-free look. Also the end of `findRunnable` before an M parks: the last look at
//! the global queue under the lock before the P goes on the list (rule 2 of the module doc of
//! `shared/mod.rs`).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::{releasep, BeforePark, Sched, Shared};
use crate::p::{Role, P};
use crate::park::Note;
use crate::queue::CAPACITY;

/// What [`Shared::unpark_for_timers`] decided.
pub(crate) enum Unpark {
    /// The M left the idle list with this P, to run due timers.
    P(usize),
    /// Someone is handing the M something already: it waits for that.
    HandoffComing,
    /// No P is idle (the busy Ps' Ms run their timers): the M stays parked.
    StayParked,
}

/// What [`Shared::park_m`] decided.
pub(crate) enum Parking {
    /// The M is on the idle-M list: it waits on its note.
    Parked,
    /// The runtime is shutting down: the M exits.
    Shutdown,
    /// A P with queued Gs was waiting for a thread (`starved`): the M holds it now.
    TakeP(usize),
}

impl Shared {
    /// Go's `pidleget` (lock held).
    pub(super) fn pidleget(&self, sched: &mut Sched) -> Option<usize> {
        let p = sched.idle_ps.pop()?;
        self.npidle.fetch_sub(1, Ordering::SeqCst);
        self.worker_stats[p].unparked(self.nanos_since_created());
        // A P goes to work: sysmon must not sleep through a poll that gets stuck on it (it
        // sleeps a whole second while every P is idle). One `Relaxed` load unless it sleeps.
        self.sysmon.wake_idle();
        Some(p)
    }

    /// [`Shared::pidleget`], preferring, if `timers_due`, an idle P one of whose timers is due
    /// (any idle P otherwise: its M's last steal round runs other Ps' due timers).
    pub(super) fn pidleget_for(&self, sched: &mut Sched, timers_due: bool) -> Option<usize> {
        if timers_due {
            let now = self.time.clock.now();
            let due = sched.idle_ps.iter().position(|&p| {
                self.ps[p]
                    .timers
                    .next_deadline()
                    .is_some_and(|next| next <= now)
            });
            if let Some(position) = due {
                let last = sched.idle_ps.len() - 1;
                sched.idle_ps.swap(position, last);
            }
        }
        self.pidleget(sched)
    }

    /// Go's `pidleput` (lock held). The P's queues must be empty unless the runtime is shutting
    /// down (rule 1 in the module doc). A detached P goes to the spare pool instead: its
    /// replacement is in service already (`rescue.rs`).
    pub(super) fn pidleput(&self, sched: &mut Sched, p: usize) {
        // Rule 1 of `shared/mod.rs`: only an M that found its P empty releases it. Were that
        // broken, the Gs would wait until some M happened to take this P; flagging it makes
        // the next M that parks take it instead (`park_m`), so a bug costs latency, not Gs.
        let stranded = !self.is_shutdown() && self.ps[p].has_work();
        debug_assert!(!stranded, "a P with queued Gs was put on the idle list");
        sched.starved |= stranded;
        self.pidleput_unchecked(sched, p);
    }

    /// Puts P `p`, which the caller owns and which has no queued Gs, on the idle list.
    pub(crate) fn pidleput_unlocked(&self, p: usize) {
        let mut sched = self.lock();
        self.pidleput(&mut sched, p);
    }

    /// Number of idle Ps.
    pub(crate) fn npidle(&self) -> usize {
        self.npidle.load(Ordering::Relaxed)
    }

    /// Takes an idle P, if any (for `block_on`'s M and the spinning re-check).
    pub(crate) fn try_take_idle_p(&self) -> Option<usize> {
        let mut sched = self.lock();
        if self.is_shutdown() {
            return None;
        }
        self.pidleget(&mut sched)
    }

    /// The end of `findRunnable` before parking (Go's steps 12-13 under `sched.lock`): with the
    /// lock held, takes global work for `p` if there is any; otherwise puts `p` on the idle list
    /// and returns `None` (the caller no longer holds `p`). At shutdown the P is kept, so that
    /// the exiting M retires it (`retire_p`).
    pub(crate) fn take_global_or_release(&self, p: &P) -> BeforePark {
        let mut sched = self.lock();
        if self.is_shutdown() {
            return BeforePark::Shutdown;
        }
        if let Some(task) = self.global_take_locked(&mut sched, p, CAPACITY / 2) {
            return BeforePark::Run(task);
        }
        releasep(self, p);
        self.pidleput(&mut sched, p.index);
        BeforePark::Released
    }

    /// The spinning M's re-check of the global queue after it stopped spinning (rule 2 in the
    /// module doc): under the lock, so that a submitter that saw the M still spinning has either
    /// already pushed (and we see it) or will see the decremented `nmspinning`. Returns an idle
    /// P to go back to work with.
    pub(crate) fn idle_p_if_global_work(&self) -> Option<usize> {
        let mut sched = self.lock();
        if sched.global.is_empty() || self.is_shutdown() {
            return None;
        }
        self.pidleget(&mut sched)
    }

    /// Go's `stopm` first half: parks `note`'s M on the idle-M list, unless the runtime is
    /// shutting down or a P with queued Gs waits for a thread (then the M takes it).
    pub(crate) fn park_m(&self, note: &Arc<Note>) -> Parking {
        let mut sched = self.lock();
        if self.is_shutdown() {
            return Parking::Shutdown;
        }
        if sched.starved {
            // A P waits for a thread with queued Gs (`threads.rs`): this M is that thread.
            match sched.idle_ps.iter().rposition(|&p| self.ps[p].has_work()) {
                Some(position) => {
                    let last = sched.idle_ps.len() - 1;
                    sched.idle_ps.swap(position, last);
                    if let Some(p) = self.pidleget(&mut sched) {
                        return Parking::TakeP(p);
                    }
                }
                None => sched.starved = false,
            }
        }
        sched.idle_ms.push(Arc::clone(note));
        Parking::Parked
    }

    /// An M parked on `note` woke at a timer's deadline because the runtime has no poller to
    /// wait for timers in (`worker::wait_parked`): it leaves the idle list with an idle P (one
    /// whose timers are due, if any), unless it is being handed something already or no P is
    /// idle.
    pub(crate) fn unpark_for_timers(&self, note: &Arc<Note>) -> Unpark {
        let mut sched = self.lock();
        let Some(position) = sched.idle_ms.iter().position(|n| Arc::ptr_eq(n, note)) else {
            return Unpark::HandoffComing;
        };
        match self.pidleget_for(&mut sched, true) {
            Some(p) => {
                sched.idle_ms.remove(position);
                Unpark::P(p)
            }
            None => Unpark::StayParked,
        }
    }

    /// [`Shared::pidleput`] of a P that may still have queued Gs: one no thread could be
    /// started for (`threads.rs`, "Bounded threads"), whose caller has flagged `sched.starved`.
    pub(super) fn pidleput_unchecked(&self, sched: &mut Sched, p: usize) {
        if self.ps[p].role() == Role::Detached {
            self.spare_put_locked(sched, p);
            return;
        }
        sched.idle_ps.push(p);
        self.npidle.fetch_add(1, Ordering::SeqCst);
        self.worker_stats[p].parked(self.nanos_since_created());
    }

    /// Whether every P in service is idle and no M is stuck in a poll on a detached P.
    pub(crate) fn all_ps_idle(&self) -> bool {
        self.npidle() == self.procs && self.ndetached.load(Ordering::Relaxed) == 0
    }

    /// Whether nothing can run before a timer fires: no blocking job queued or running, every
    /// P idle, the global queue empty, and every `block_on` main parked and not woken (the
    /// paused clock's auto-advance condition).
    ///
    /// The blocking pool first: a job that finished woke its awaiter (queued a G, or woke a
    /// main) before it left the count, so reading the count as zero (`Acquire`) makes that
    /// wake visible to the checks after it.
    pub(crate) fn is_idle(&self) -> bool {
        self.blocking.in_flight() == 0
            && self.all_ps_idle()
            && !self.global_has_work()
            && self.lock_mains().iter().all(|main| main.is_idle())
    }
}
