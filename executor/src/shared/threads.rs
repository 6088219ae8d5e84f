//! Ms coming and going (Go's `wakep`, `startm`, `newm`, `handoffp`, and sysmon's `retake`): how
//! a P with work gets a thread. A parked M is preferred to the one in the netpoller, and both to
//! a new thread.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread;

use super::{releasep, Shared};
use crate::p::P;
use crate::park::Handoff;
use crate::syscall::InSyscall;
use crate::worker::M;

impl Shared {
    /// Go's `wakep`: starts a spinning M if there is an idle P and nobody is spinning.
    pub(crate) fn wakep(self: &Arc<Self>) {
        if self.npidle.load(Ordering::Relaxed) == 0 || self.nmspinning.load(Ordering::Relaxed) != 0
        {
            return;
        }
        if self
            .nmspinning
            .compare_exchange(0, 1, Ordering::SeqCst, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        self.startm(None, true);
    }

    /// Go's `startm`: gives P `p` (or an idle P) to a parked M, or to a new thread. With
    /// `spinning`, the caller has already counted the M in `nmspinning`, and the count is undone
    /// if no P or M can be had.
    pub(crate) fn startm(self: &Arc<Self>, p: Option<usize>, spinning: bool) {
        let mut sched = self.lock();
        let p = match p {
            Some(p) => Some(p),
            None if self.is_shutdown() => None,
            None => self.pidleget(&mut sched),
        };
        let Some(p) = p else {
            drop(sched);
            if spinning {
                self.nmspinning.fetch_sub(1, Ordering::SeqCst);
            }
            return;
        };
        // A parked M first; the one in the poller only if no other is parked, so that IO keeps
        // being watched while there are spare Ms.
        let (idle_m, from_poller) = match sched.idle_ms.pop() {
            Some(note) => (Some(note), false),
            None => (sched.poller.take(), true),
        };
        drop(sched);
        // A P handed over directly (not through `pidleget`) also goes to work (`pidleget`).
        self.sysmon.wake_idle();
        match idle_m {
            Some(note) => {
                note.wake(Handoff::P { index: p, spinning });
                if from_poller {
                    // The poller M hands the role on once it has left (`netpoll.rs`).
                    self.reactor.notify();
                }
            }
            None => self.spawn_m(Some(p), spinning),
        }
    }

    /// Go's `newm`: starts a thread that runs the scheduler holding P `p`.
    /// Without a P, the new M starts out in the netpoller (`ensure_poller`).
    pub(super) fn spawn_m(self: &Arc<Self>, p: Option<usize>, spinning: bool) {
        // The first M brings sysmon along: from now on Gs can run, and so starve IO waiters.
        self.sysmon.start(self);
        let shared = Arc::clone(self);
        let spawned = thread::Builder::new()
            .name(self.thread_name.clone())
            .spawn(move || M::new(shared, None).run_worker(p, spinning));
        match spawned {
            Ok(handle) => self
                .threads
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(handle),
            Err(err) => {
                // The work stays queued; the Ms already running (at least the caller's, or a
                // later wakep) will get to it.
                eprintln!("gort: could not start a scheduler thread: {err}");
                if let Some(p) = p {
                    let mut sched = self.lock();
                    self.pidleput(&mut sched, p);
                }
                if spinning {
                    self.nmspinning.fetch_sub(1, Ordering::SeqCst);
                }
            }
        }
    }

    /// Gives up P `p` held by an M that stops serving it (the `block_on` thread leaving, or any M
    /// at shutdown): to another M if it still has queued Gs (Go's `handoffp`), else to the idle
    /// list. At shutdown its Gs are dropped instead.
    pub(crate) fn handoff_p(self: &Arc<Self>, p: &P) {
        if self.is_shutdown() {
            self.retire_p(p);
            return;
        }
        releasep(self, p);
        if p.has_work() {
            self.startm(Some(p.index), false);
            return;
        }
        let mut sched = self.lock();
        self.pidleput(&mut sched, p.index);
    }

    /// sysmon's retake (Go's `retake` + `handoffp`): takes P `p` from its M, which has been in
    /// `block_in_place` since `entry`, unless the M left first; then hands it to another M if
    /// it has anything to run (queued Gs, global work, timers), else to the idle list. Returns
    /// whether it retook the P.
    pub(crate) fn retake_p(self: &Arc<Self>, p: &P, entry: InSyscall) -> bool {
        if !p.syscall.retake(entry) {
            return false;
        }
        self.retakes.fetch_add(1, Ordering::Relaxed);
        p.set_held(false);
        if self.is_shutdown() {
            return true;
        }
        if p.has_work() || self.global_has_work() || p.timers.next_deadline().is_some() {
            self.startm(Some(p.index), false);
        } else {
            let mut sched = self.lock();
            self.pidleput(&mut sched, p.index);
        }
        true
    }
}
