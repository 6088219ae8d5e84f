//! Ms coming and going (Go's `wakep`, `startm`, `newm`, `handoffp`, and sysmon's `retake`): how
//! a P with work gets a thread. A parked M is preferred to the one in the netpoller, and both to
//! a new thread.
//!
//! # Bounded threads
//!
//! Ms are started on demand and, unlike Go's, do not live for ever: every M that blocks in
//! `block_in_place` or gets stuck in a poll has its P handed to another M, so a burst of 64
//! blocking calls needs 64 more threads for as long as it lasts, and left them parked for good.
//!
//! - An M that has sat on the idle list for `thread_keep_alive` (10 s, tokio's default for its
//!   blocking threads) exits if more than `procs` Ms are alive: that many are kept, since every
//!   P may need one at once ([`Shared::idle_m_expired`]). The idle list is a stack, so the Ms
//!   parked longest are the ones that time out.
//! - At most `max_threads` Ms are alive at once (Go's `debug.SetMaxThreads`, default 10,000,
//!   which is Go's). Go treats reaching it as a fatal error; here the P that needed a new thread
//!   waits on the idle list with its queue, flagged `starved`, and the first M to come back
//!   (from a blocking call, or about to park) takes it ([`Shared::park_m`]); the first time,
//!   the runtime says so on stderr. Nothing is lost: its Gs run late, not never.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::{releasep, Shared};
use crate::p::P;
use crate::park::{Handoff, Note};
use crate::runtime::hooks::DEFAULT_M_NAME;
use crate::syscall::InSyscall;
use crate::worker::M;

impl Shared {
    /// Go's `wakep`: starts a spinning M if there is an idle P and nobody is spinning. On a
    /// current-thread runtime, wakes the threads inside `block_on` instead: only they may run
    /// the P (`runtime/mod.rs`).
    pub(crate) fn wakep(self: &Arc<Self>) {
        if self.npidle.load(Ordering::Relaxed) == 0 || self.nmspinning.load(Ordering::Relaxed) != 0
        {
            return;
        }
        if self.is_current_thread() {
            self.nudge_mains();
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
    /// Without a P, the new M starts out in the netpoller (`ensure_poller`). At the thread limit
    /// (module doc), or if the OS refuses a thread, no M starts: `p` waits on the idle list.
    pub(super) fn spawn_m(self: &Arc<Self>, p: Option<usize>, spinning: bool) {
        // Proof: `wakep`, `handoff_p` and `ensure_poller` never get here on a current-thread
        // runtime, and its other callers (sysmon's retake and rescue) never run on one.
        debug_assert!(
            !self.is_current_thread(),
            "an M started on a current-thread runtime"
        );
        {
            let mut sched = self.lock();
            if sched.nm >= self.limits.max {
                drop(sched);
                if !self.thread_cap_reported.swap(true, Ordering::Relaxed) {
                    eprintln!(
                        "gort: this runtime has reached its limit of {} scheduler threads \
                         (Builder::max_threads), all of them busy in blocking calls or stuck \
                         polls; a P's queue waits until one of them comes back",
                        self.limits.max
                    );
                }
                self.no_m_started(p, spinning);
                return;
            }
            sched.nm += 1;
        }
        // The first M brings sysmon along: from now on Gs can run, and so starve IO waiters.
        self.sysmon.start(self);
        // Held from the shutdown check until the handle is listed: `shutdown` sets its flag
        // before it takes the list under this lock, so an M is either listed in time to be
        // joined or not started at all (an M starting another one while the runtime shut down
        // used to be missed, and outlived `drop(runtime)` with its stop callback).
        let mut threads = self.threads.lock().unwrap_or_else(|e| e.into_inner());
        if self.is_shutdown() {
            drop(threads);
            self.m_exited();
            self.no_m_started(p, spinning);
            return;
        }
        let shared = Arc::clone(self);
        let spawned = self.config.hooks.spawn(DEFAULT_M_NAME, move || {
            M::new(Arc::clone(&shared), None).run_worker(p, spinning);
            // Shutdown joins the thread, so this runs before it returns.
            shared.config.hooks.stopping();
            shared.m_exited();
        });
        match spawned {
            Ok(handle) => {
                // Ms exit (keep-alive), so the list would grow with every burst.
                threads.retain(|thread| !thread.is_finished());
                threads.push(handle);
            }
            Err(err) => {
                drop(threads);
                eprintln!("gort: could not start a scheduler thread: {err}");
                self.m_exited();
                self.no_m_started(p, spinning);
            }
        }
    }

    /// `spawn_m` started no thread: `p`, which may have queued Gs, waits on the idle list
    /// (flagged `starved` so that the next M to park takes it, module doc), and a spinning count
    /// taken for the M is given back. The Ms already running (at least the caller's, or one
    /// coming back from a blocking call) get to the work.
    fn no_m_started(&self, p: Option<usize>, spinning: bool) {
        if let Some(p) = p {
            let mut sched = self.lock();
            sched.starved |= self.ps[p].has_work();
            self.pidleput_unchecked(&mut sched, p);
        }
        if spinning {
            self.nmspinning.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// An M thread started by `spawn_m` is about to exit.
    fn m_exited(&self) {
        self.lock().nm -= 1;
    }

    /// An M that parked on `note` has waited `thread_keep_alive` without being handed a P
    /// (module doc): whether it exits. It does if it is still on the idle list (nobody is handing
    /// it anything) and more than `procs` Ms are alive; it leaves the list first, so that no
    /// handoff can come to it after this returns `true`. `false`: it is kept (or a handoff is on
    /// its way), and waits on its note without a timeout.
    pub(crate) fn idle_m_expired(&self, note: &Arc<Note>) -> bool {
        let mut sched = self.lock();
        if sched.nm <= self.procs {
            return false;
        }
        let Some(position) = sched.idle_ms.iter().position(|n| Arc::ptr_eq(n, note)) else {
            return false;
        };
        sched.idle_ms.remove(position);
        true
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
        if self.is_current_thread() {
            // Its queued Gs wait on the idle P for the next thread to block on the runtime
            // (`runtime/mod.rs`); one already inside takes it now.
            let has_work = p.has_work();
            self.pidleput_unchecked(&mut self.lock(), p.index);
            if has_work {
                self.nudge_mains();
            }
            return;
        }
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
