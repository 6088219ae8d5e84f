//! Rescuing the queue of a P whose M is stuck inside one poll.
//!
//! # The problem
//!
//! A future that blocks its thread inside `poll` (a synchronous file read, a mutex held too
//! long, a CPU-heavy loop) keeps its M from returning to the scheduler, and with it every G
//! queued on the M's P: in tokio they wait for the whole call (its LIFO slot and local queue
//! stay with the blocked worker). Go never has this problem for syscalls (its M enters the
//! syscall state and sysmon retakes the P) and, since Go 1.14, not for loops either (sysmon
//! preempts a G that ran for 10 ms with a signal). gort can do neither: a Rust future cannot
//! be preempted, and the blocking call is not announced (that is what `block_in_place` is for).
//!
//! # Why the P is not simply retaken
//!
//! `block_in_place` hands its P to another M because the M announced the syscall and clears
//! the thread's current P first: nothing it does afterwards touches the P. A stuck poll gives
//! no such promise. While it runs, the stuck M may still make owner operations on its P: a
//! spawn or a wake pushes into `runnext` or the ring, a goroutine count is updated. If sysmon
//! gave the P to another M, two threads would own one ring. Gating every owner operation
//! against a retake would cost a `SeqCst` store/load pair on every spawn and wake (~10 ns on a
//! 35 ns yield).
//!
//! # Replacing it instead
//!
//! The runtime allocates twice GOMAXPROCS Ps. The extra ones are *spares* (`Role::Spare`): off
//! every list, held by nobody. sysmon watches each held P's `schedtick` and the id of the G its
//! M is polling (`P::begin_poll`, two `Relaxed` stores per poll). When both stay the same for
//! 10 ms (Go's `forcePreemptNS`), sysmon ([`Shared::rescue_stuck_p`]):
//!
//! 1. takes a spare and marks the stuck P `Detached`; the stuck M keeps owning it;
//! 2. moves half the stuck P's ring and its `runnext` into the spare, from the thief side, which
//!    is safe against the owner;
//! 3. moves the stuck P's timers into the runtime's P-less set, which every M and the poller
//!    run;
//! 4. starts an M on the spare (or puts it on the idle list). That M steals the rest of the
//!    stuck P's ring: its `schedtick` has not moved, so it is a stalled victim
//!    (`steal_from_stalled`).
//!
//! GOMAXPROCS Ps are in service again. When the stuck poll returns, its M sees the P detached
//! (`P::end_poll`: one load) and retires it ([`Shared::retire_detached`]): what it queued
//! meanwhile goes to the front of the global queue, timers it armed to the P-less set, and the
//! P to the spare pool. The M then has no P: it takes an idle one or parks, as an M coming back
//! from a retaken `block_in_place` does.
//!
//! # The benign race
//!
//! sysmon's look at the P (held, same tick and G for 10 ms) and its marking are not atomic with
//! the M's return: a poll may end just after sysmon looked. The M then goes on with a P that is
//! about to be detached, and for a while GOMAXPROCS + 1 Ps are in service. That is all it costs:
//! the M retires the P after its next poll, and a detached P put on the idle list goes to the
//! spare pool instead (`pidleput`), its leftover timers moved by sysmon's next sweep
//! ([`Shared::sweep_spare_timers`]). Closing the race would need a read-modify-write at the end
//! of every poll.
//!
//! At most GOMAXPROCS Ps can be detached at once; past that, a stuck poll waits like tokio's.
//! Each rescue is counted, and with `GORT_DEBUG=blockwarn=1` reported once per spawn location
//! with the G's id ([`BlockedPolls`]).

use std::collections::HashMap;
use std::panic::Location;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::debug;
use crate::p::{Role, MAIN_G_ID, P};
use crate::shared::{releasep, Shared};

/// The rescues of stuck polls so far, in total and per spawn location.
#[derive(Debug, Default)]
pub(crate) struct BlockedPolls {
    total: AtomicUsize,
    by_location: Mutex<HashMap<&'static Location<'static>, u64>>,
}

impl BlockedPolls {
    /// Counts a rescue of G `id`'s poll; with `GORT_DEBUG=blockwarn=1`, reports the first one
    /// from each spawn location.
    fn record(&self, id: u64, location: &'static Location<'static>) {
        self.total.fetch_add(1, Ordering::Relaxed);
        let first = {
            let mut by_location = self.by_location.lock().unwrap_or_else(|e| e.into_inner());
            let count = by_location.entry(location).or_insert(0);
            *count += 1;
            *count == 1
        };
        if first && debug::settings().blockwarn {
            eprintln!("gort: blockwarn: {}", describe(id, location));
        }
    }

    /// Rescues so far.
    pub(crate) fn total(&self) -> usize {
        self.total.load(Ordering::Relaxed)
    }

    /// Rescues so far of Gs spawned at `location`.
    pub(crate) fn at(&self, location: &'static Location<'static>) -> u64 {
        let by_location = self.by_location.lock().unwrap_or_else(|e| e.into_inner());
        by_location.get(location).copied().unwrap_or(0)
    }
}

/// The blockwarn report for G `id`, spawned at `location`.
fn describe(id: u64, location: &'static Location<'static>) -> String {
    let who = if id == MAIN_G_ID {
        format!("the block_on future at {location}")
    } else {
        format!("G {id} spawned at {location}")
    };
    format!(
        "{who} blocked its thread inside one poll for over 10 ms; its P's queue moved to \
         another thread. Move blocking calls into spawn_blocking or block_in_place \
         (reported once per location)"
    )
}

impl Shared {
    /// sysmon, having seen P `p` held with the same `schedtick` and the same running G for
    /// 10 ms: replaces it with a spare (module doc). Does nothing if `p` is already detached,
    /// its M is between polls, or no spare is left.
    pub(crate) fn rescue_stuck_p(self: &Arc<Self>, p: &P) {
        if p.role() != Role::Active {
            return;
        }
        let Some((id, location)) = p.running() else {
            return;
        };
        let Some(spare_index) = self.spare_take() else {
            return;
        };
        p.set_role(Role::Detached);
        self.blocked_polls.record(id, location);
        let spare: &P = &self.ps[spare_index];
        // SAFETY: sysmon owns `spare`: it came off the spare pool and is on no list yet.
        if let Some(first) = unsafe { spare.steal_from(p, true) } {
            // SAFETY: as above; the ring has room, as a steal takes at most half of one.
            if let Err(overflow) = unsafe { spare.push(first, false) } {
                self.inject_global(overflow);
            }
        }
        p.timers.move_into(&self.orphan_timers);
        if spare.has_work() {
            self.startm(Some(spare_index), false);
        } else {
            self.pidleput_unlocked(spare_index);
            self.wakep();
        }
    }

    /// The M holding detached P `p`, after its poll returned: gives the P up to the spare pool,
    /// with what it queued meanwhile going to the global queue and its timers to the P-less set
    /// (module doc). The M holds no P afterwards.
    pub(crate) fn retire_detached(self: &Arc<Self>, p: &P) {
        // Proof: the only caller (`M::after_poll`) saw `end_poll` report `Detached`, and only the
        // M holding a detached P takes it out of that role (here).
        debug_assert_eq!(p.role(), Role::Detached);
        // A spare holds no work, and no dead tasks either (`dead_tasks.rs`).
        // SAFETY: this M still holds `p`.
        unsafe { crate::dead_tasks::settle(self, p) };
        releasep(self, p);
        // SAFETY: this M held `p` until `releasep` above, and nobody else can acquire a
        // detached P; thieves may still steal from it, which the owner's pops tolerate.
        let tasks = unsafe { p.drain() };
        p.timers.move_into(&self.orphan_timers);
        self.spare_put(p.index, tasks);
    }

    /// Moves timers left on spare Ps (a detached P that went to the spare pool through the idle
    /// list, module doc) into the P-less set, where they are run. sysmon calls this each round.
    pub(crate) fn sweep_spare_timers(&self) {
        for p in self.ps.iter() {
            if p.role() == Role::Spare && p.timers.next_deadline().is_some() {
                p.timers.move_into(&self.orphan_timers);
            }
        }
    }
}
