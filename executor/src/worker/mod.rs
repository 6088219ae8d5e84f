//! The M: an OS thread running the scheduler loop while it holds a P.
//!
//! # The loop (Go's `schedule` / `findRunnable`, `proc.go`)
//!
//! An M repeatedly finds a runnable G and runs one poll of it. `find_runnable` looks, in order:
//!
//! 0. the P's earliest due timer (`timers.rs`): the G it wakes runs now (every other round at
//!    most, while the queue has work);
//! 1. every 61st `schedtick`, a batch from the global queue (so that busy local queues cannot
//!    starve remote submissions; 61 is Go's prime, chosen not to resonate with common patterns);
//! 2. the P's `runnext`, then its ring (`P::pop`);
//! 3. a batch from the global queue (`min(len/GOMAXPROCS + 1, 128)`);
//! 4. half the queue of a P that looks stalled (queued Gs, `schedtick` unmoved since this M last
//!    got here: its thread lost the CPU or is stuck in one poll), then the netpoller, without
//!    blocking, if any G waits on IO (`netpoll.rs`);
//! 5. stealing: if this M is spinning, or fewer than half the busy Ps have a spinning M, it
//!    becomes a spinner and tries 4 rounds over all Ps in a random order, taking half of a
//!    victim's ring; only the last round takes a victim's `runnext`, after a back-off, and runs
//!    the victim's due timers;
//! 6. under the scheduler lock, the global queue once more, then it releases its P to the idle
//!    list;
//! 7. if it was spinning: decrements `nmspinning`, then re-checks the global queue and every
//!    P's queues, and if work appeared takes an idle P back and starts over (Go's "delicate
//!    dance": the decrement must come before the re-check, see `shared/mod.rs`);
//! 8. (`idle.rs`) blocks in the netpoller if no other thread does, bounded by the earliest
//!    timer of any P (until the poll or a timer wakes Gs: it takes an idle P for them, or
//!    queues them globally and parks if every P is busy; or until `startm` takes it), else
//!    parks on its [`Note`] until `startm` hands it a P or asks it to poll.
//!
//! When a spinning M finds work it stops spinning and calls `wakep`, so that one spinner is kept
//! looking while there is work and idle Ps (`reset_spinning`).
//!
//! The thread inside `block_on` runs the same loop with a `MainSignal`: it also stops looking
//! when its main future is woken, and at step 8 it waits for that signal instead of a handoff
//! (in the netpoller, if nobody else is polling). On a current-thread runtime it is the only
//! kind of M there is (`runtime/mod.rs`).
//!
//! Two intervals are the runtime's (`Builder`): step 1's `global_queue_interval` (61), and an
//! optional `event_interval`, every so many ticks of which step 1 also polls the netpoller
//! without blocking (set by default only on a current-thread runtime, which has no sysmon to do
//! it for a busy M).

mod idle;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::block_on::MainSignal;
use crate::context;
use crate::netpoll::{self, Woken};
use crate::p::{MAIN_G_ID, P};
use crate::park::Note;
use crate::queue::CAPACITY;
use crate::rand::FastRand;
use crate::shared::{BeforePark, Shared};
use crate::Task;
use idle::{park, park_main, park_new_poller};

/// Go's fairness interval for the global queue (the default `global_queue_interval`).
const GLOBAL_CHECK_INTERVAL: u32 = crate::runtime::DEFAULT_GLOBAL_QUEUE_INTERVAL;

/// Gs from due timers run in a row before the queue gets a turn (`timers.rs`).
const MAX_TIMER_STREAK: u32 = 16;

/// Go's `stealTries`.
const STEAL_ROUNDS: usize = 4;

/// What [`M::find_runnable`] found.
pub(crate) enum Next {
    /// Run this G; `true` if it inherits the current time slice (it came from `runnext`).
    Run(Task, bool),
    /// `block_on` only: the main future was woken. The M may or may not still hold a P.
    Interrupted,
    /// The runtime is shutting down.
    Shutdown,
    /// This idle M is not needed any more (`thread_keep_alive`, `shared/threads.rs`): its
    /// thread exits.
    Retire,
}

/// One M's private state.
pub(crate) struct M {
    shared: Arc<Shared>,
    /// The P this M holds (Go's `m.p`).
    p: Option<usize>,
    /// Whether this M is counted in `nmspinning`.
    spinning: bool,
    /// Victim order for stealing.
    rng: FastRand,
    /// Where this M sleeps while idle.
    note: Arc<Note>,
    /// `Some` for the thread inside `block_on`.
    main: Option<Arc<MainSignal>>,
    /// Each P's `schedtick` when this M last ran out of local work (`steal_from_stalled`).
    seen_ticks: Box<[u32]>,
    /// Consecutive Gs returned from due timers (step 0 of `find_runnable`); at
    /// [`MAX_TIMER_STREAK`] the queue gets a turn if it has work, so due timers cannot starve it.
    timer_streak: u32,
    /// The `schedtick` of this M's last `event_interval` netpoll (step 1 of `find_runnable`), so
    /// that rounds which inherit a time slice (same tick) do not poll again.
    event_tick: u32,
    /// The `schedtick` of this M's last netpoll for yielded Gs (step 1, `yield_now.rs`).
    yield_poll_tick: u32,
    /// The GC arena's pin (`gort_gc::safepoint`), held from a poll until this M runs out of
    /// local work, so that a run of polls pins once rather than each poll (each `GFuture`
    /// poll then only nests inside it). Dropped before anything that can wait: the steps of
    /// `find_runnable` past local work, parking, and when a collection asks to stop the world.
    gc_pin: Option<gort_gc::PinGuard>,
}

impl M {
    pub(crate) fn new(shared: Arc<Shared>, main: Option<Arc<MainSignal>>) -> M {
        M {
            p: None,
            spinning: false,
            rng: FastRand::new(),
            note: Arc::new(Note::new()),
            main,
            seen_ticks: vec![u32::MAX; shared.ps.len()].into_boxed_slice(),
            timer_streak: 0,
            event_tick: u32::MAX,
            yield_poll_tick: 0,
            gc_pin: None,
            shared,
        }
    }

    /// Pins this M for the GC arena between its polls (`gc_pin`), unless a collection is
    /// waiting for the world to stop: then it lets go first (and pinning again waits for the
    /// collection to end).
    pub(crate) fn hold_gc_pin(&mut self) {
        if self.gc_pin.is_some() && gort_gc::stop_requested() {
            self.gc_pin = None;
        }
        if self.gc_pin.is_none() {
            self.gc_pin = Some(gort_gc::pin_thread());
        }
    }

    /// The body of a worker thread started by `startm` with P `p`.
    /// Without a P, it starts in the netpoller (`Shared::ensure_poller`).
    pub(crate) fn run_worker(mut self, p: Option<usize>, spinning: bool) {
        let _serve = context::serve(&self.shared, false);
        match p {
            Some(p) => {
                self.acquirep(p);
                self.spinning = spinning;
            }
            None => match park_new_poller(&self.shared, &self.note) {
                Woken::P {
                    index,
                    spinning,
                    tasks,
                } => {
                    self.acquirep(index);
                    self.spinning = spinning;
                    if let Some(task) = self.shared.inject(&self.shared.ps[index], tasks) {
                        self.run(task, false);
                    }
                }
                Woken::Shutdown(tasks) => {
                    self.shared.inject_global(tasks);
                    return;
                }
                Woken::Retire => return,
            },
        }
        while let Next::Run(task, inherit) = self.find_runnable() {
            self.run(task, inherit);
        }
        // Dropping `self` retires the P (see `Drop`).
    }

    /// Whether this M holds a P.
    pub(crate) fn holds_p(&self) -> bool {
        self.p.is_some()
    }

    /// Whether this M is counted as spinning.
    pub(crate) fn spinning_now(&self) -> bool {
        self.spinning
    }

    /// Stops spinning and gives up the P, as when the M leaves the scheduler (see `Drop`).
    pub(crate) fn leave_p(&mut self) {
        if self.spinning {
            self.spinning = false;
            self.shared.nmspinning.fetch_sub(1, Ordering::SeqCst);
        }
        if let Some(p) = self.p.take() {
            self.shared.handoff_p(&self.shared.ps[p]);
        }
    }

    /// Takes an idle P if there is one (for `block_on`'s M).
    pub(crate) fn try_acquire_idle_p(&mut self) -> bool {
        if self.p.is_some() {
            // Already holds one (its callers check first); acquiring another would lose it.
            return true;
        }
        match self.shared.try_take_idle_p() {
            Some(p) => {
                self.acquirep(p);
                true
            }
            None => false,
        }
    }

    fn acquirep(&mut self, index: usize) {
        acquirep(&self.shared, &mut self.p, index);
    }

    /// Runs one poll of `task` (Go's `execute`).
    pub(crate) fn run(&mut self, task: Task, inherit: bool) {
        if self.spinning {
            self.reset_spinning();
        }
        let p_index = self
            .p
            .unwrap_or_else(|| unreachable!("running a G without a P"));
        let p: &P = &self.shared.ps[p_index];
        if !inherit {
            // SAFETY: this M holds `p`.
            unsafe { p.tick() };
        }
        let g = task.metadata();
        p.begin_poll(g.id(), g.location());
        self.hold_gc_pin();
        task.run();
        self.after_poll();
    }

    /// Before `block_on` polls its main future, spawned at `location`: lets sysmon see the poll
    /// on this M's P, if it holds one (`rescue.rs`).
    pub(crate) fn begin_main_poll(&self, location: &'static std::panic::Location<'static>) {
        if let Some(p) = self.p {
            self.shared.ps[p].begin_poll(MAIN_G_ID, location);
        }
    }

    /// After a poll (of a G, or of `block_on`'s main). If a `block_in_place` inside it lost
    /// this M's P to sysmon (`block_in_place.rs`), the M no longer holds it and must not touch
    /// it. If sysmon replaced the P because the poll was stuck (`rescue.rs`), the M retires it.
    /// Either way the M gets a P again the next time it looks for work.
    pub(crate) fn after_poll(&mut self) {
        if context::take_p_lost() {
            self.p = None;
            return;
        }
        if let Some(index) = self.p {
            let p: &P = &self.shared.ps[index];
            if p.end_poll() {
                self.shared.retire_detached(p);
                self.p = None;
            }
        }
    }

    /// Go's `resetspinning`: this M found work, so it stops spinning and, if it was the last
    /// spinner, wakes another so that remaining work keeps being looked for.
    pub(crate) fn reset_spinning(&mut self) {
        self.spinning = false;
        self.shared.nmspinning.fetch_sub(1, Ordering::SeqCst);
        self.shared.wakep();
    }

    /// Go's `findRunnable` (steps in the module doc). Returns with the M holding a P, except for
    /// `Interrupted` (`block_on` only) and `Shutdown`.
    pub(crate) fn find_runnable(&mut self) -> Next {
        let shared = &self.shared;
        'find: loop {
            if shared.is_shutdown() {
                return Next::Shutdown;
            }
            'with_p: {
                let Some(p_index) = self.p else {
                    // The P was retaken while this M sat in `block_in_place` (Go's `exitsyscall0`):
                    // an idle P if there is one, else park (step 8) until handed one.
                    if let Some(index) = shared.try_take_idle_p() {
                        acquirep(shared, &mut self.p, index);
                        continue 'find;
                    }
                    break 'with_p;
                };
                let p: &P = &shared.ps[p_index];

                // 0. The earliest due timer of this P (and of the runtime's P-less set): the G it
                //    woke runs now, every other round at most while the queue has work
                //    (`timers.rs`).
                if self.timer_streak < MAX_TIMER_STREAK || !p.has_work() {
                    if let Some(task) = shared.run_due_timers(p) {
                        self.timer_streak += 1;
                        return Next::Run(task, false);
                    }
                }
                self.timer_streak = 0;
                // 1. Fairness towards the global queue. A batch, not one G (Go takes one): with
                //    every P busy (Gs that yield keep local queues non-empty), one G per 61 ticks
                //    left remote spawns waiting ~350 µs each in the `spawn_many_remote_busy1`
                //    bench. The batch is clamped to the ring's free space so it cannot overflow.
                //    The interval is `Builder::global_queue_interval`; the default's modulo is by
                //    a constant, which compiles to a multiplication.
                let tick = p.schedtick();
                let interval = shared.config.global_queue_interval;
                let global_turn = if interval == GLOBAL_CHECK_INTERVAL {
                    tick % GLOBAL_CHECK_INTERVAL == 0
                } else {
                    tick % interval == 0
                };
                if global_turn && shared.global_has_work() {
                    let free = CAPACITY - p.ring_len();
                    if let Some(task) = shared.global_take(p, free.max(1)) {
                        return Next::Run(task, false);
                    }
                }
                //    And every `event_interval` ticks, if one is set (always on a current-thread
                //    runtime, which has no sysmon to poll for a busy M), the netpoller without
                //    blocking, so that IO is not left waiting until the queue runs dry.
                if let Some(interval) = shared.config.event_interval {
                    if tick % interval == 0 && tick != self.event_tick {
                        self.event_tick = tick;
                        if let Some(task) = netpoll::poll_ready(shared, p) {
                            return Next::Run(task, false);
                        }
                    }
                }
                //    And, once a G yielded, the netpoller without blocking as soon as every G
                //    queued here had a turn since the last such poll: yielders waiting for IO
                //    (or for a main woken only by IO) then see it within one round of the
                //    queue, while a queue of many yielders pays one poll per round (tokio polls
                //    its driver when only yielded tasks are left, `yield_now.rs`).
                // (The round is checked first: with many Gs queued it is rarely over, and it
                // costs two loads where the note costs a thread-local lookup.)
                if tick.wrapping_sub(self.yield_poll_tick) as usize >= p.ring_len()
                    && crate::yield_now::has_yield_note()
                {
                    crate::yield_now::take_yield_note();
                    self.yield_poll_tick = tick;
                    let main_was_woken = main_woken(&self.main);
                    if let Some(task) = netpoll::poll_now(shared, p) {
                        return Next::Run(task, false);
                    }
                    // The poll woke main (what the yielders may be waiting for): it goes next.
                    // A main that woke itself (its budget ran out) still waits its turn below.
                    if !main_was_woken && main_woken(&self.main) {
                        return Next::Interrupted;
                    }
                }
                // 2. Local work.
                // SAFETY: this M holds `p`.
                if let Some((task, inherit)) = unsafe { p.pop() } {
                    return Next::Run(task, inherit);
                }
                // Out of local work: what follows may spin, poll or park, so the GC pin goes,
                // and dead tasks go home to be freed, and come home to be (`dead_tasks.rs`).
                self.gc_pin = None;
                // SAFETY: this M holds `p`.
                unsafe { crate::dead_tasks::settle(shared, p) };
                // 3. A batch of global work.
                if shared.global_has_work() {
                    if let Some(task) = shared.global_take(p, CAPACITY / 2) {
                        return Next::Run(task, false);
                    }
                }
                // `block_on`'s main is checked only once local and global work ran out, so that a
                // main future that keeps waking itself (a `yield_now` loop) alternates with the Gs
                // queued on its P instead of starving them.
                if main_woken(&self.main) {
                    // Main spinning on `yield_now` waits for IO that only a netpoll can report
                    // (`yield_now.rs`): poll once, without blocking, before re-polling it.
                    if crate::yield_now::take_yield_note() {
                        if let Some(task) = netpoll::poll_now(shared, p) {
                            return Next::Run(task, false);
                        }
                    }
                    return Next::Interrupted;
                }
                // 4. Gs queued on a stalled P come before fresh IO (see `steal_from_stalled`), then
                //    the netpoller, without blocking.
                if let Some(task) = steal_from_stalled(shared, p, &mut self.seen_ticks) {
                    return Next::Run(task, false);
                }
                if let Some(task) = netpoll::poll_ready(shared, p) {
                    return Next::Run(task, false);
                }
                // 5. Steal, within the spinning limit.
                let busy = shared.procs.saturating_sub(shared.npidle());
                if self.spinning || 2 * shared.nmspinning.load(Ordering::Relaxed) < busy {
                    if !self.spinning {
                        self.spinning = true;
                        shared.nmspinning.fetch_add(1, Ordering::SeqCst);
                    }
                    if let Some(task) = steal_work(shared, p, &mut self.rng, &self.main) {
                        return Next::Run(task, false);
                    }
                    if main_woken(&self.main) {
                        return Next::Interrupted;
                    }
                }
                // 6. Last look at the global queue, then give up the P.
                match shared.take_global_or_release(p) {
                    BeforePark::Run(task) => return Next::Run(task, false),
                    BeforePark::Shutdown => return Next::Shutdown,
                    BeforePark::Released => self.p = None,
                }
                // 7. The delicate dance.
                if self.spinning {
                    self.spinning = false;
                    shared.nmspinning.fetch_sub(1, Ordering::SeqCst);
                    let again = shared.idle_p_if_global_work().or_else(|| {
                        if shared.ps.iter().any(|p| p.has_work()) {
                            shared.try_take_idle_p()
                        } else {
                            None
                        }
                    });
                    if let Some(p) = again {
                        acquirep(shared, &mut self.p, p);
                        self.spinning = true;
                        shared.nmspinning.fetch_add(1, Ordering::SeqCst);
                        continue 'find;
                    }
                }
            }
            // 8. Park: in the netpoller if nobody else polls, else on the note. Never pinned.
            self.gc_pin = None;
            if let Some(next) = park(
                shared,
                &mut self.p,
                &mut self.spinning,
                &self.note,
                &self.main,
            ) {
                return next;
            }
        }
    }

    /// `block_on`'s thread with no P and nothing to run: waits for main's waker, in the
    /// netpoller if nobody else polls. Returns holding a P if the poll woke Gs and a P was idle
    /// (they are queued on it), else once main was woken (or, on a current-thread runtime, the
    /// thread was nudged to take the P).
    pub(crate) fn park_main(&mut self) {
        self.gc_pin = None;
        let main = self
            .main
            .as_ref()
            .unwrap_or_else(|| unreachable!("park_main on a worker M"));
        park_main(&self.shared, &mut self.p, main);
    }
}

impl Drop for M {
    /// Leaving the scheduler: stop spinning, and give up the P. At shutdown the P's Gs are
    /// dropped; otherwise a P with queued Gs is handed to another M (the `block_on` thread leaving
    /// with Gs it spawned still queued). The `block_on` thread may have been the one polling the
    /// network, and so the one waiting for the timers' deadlines; if Gs still wait on IO or a
    /// timer is armed, a parked M takes over (`ensure_poller`), or the IO and the timers would
    /// stall until some worker happened to go idle: forever, when the only other threads were
    /// a worker parked on its note and another `block_on` thread parked on a sleep (both had
    /// found the netpoller taken by this one).
    fn drop(&mut self) {
        self.gc_pin = None;
        self.leave_p();
        if self.main.is_some() && self.shared.is_current_thread() {
            // Another thread inside `block_on` may be parked without the netpoller or the P
            // this one had: it takes over both (timers of its main included).
            self.shared.nudge_mains();
        } else if self.main.is_some()
            && (self.shared.reactor.has_waiters() || self.shared.earliest_timer().is_some())
        {
            self.shared.ensure_poller(false);
        }
    }
}

/// Go's `acquirep`: this thread now holds P `index` (recorded in the M's `held` slot, in the
/// thread's context for wakers and `spawn`, and on the P for thieves).
fn acquirep(shared: &Shared, held: &mut Option<usize>, index: usize) {
    let p: &P = &shared.ps[index];
    p.syscall.reset();
    p.clear_running();
    p.set_held(true);
    context::set_p(p);
    gort_timer::set_current(Some(Arc::clone(&p.timers)));
    *held = Some(index);
}

/// Whether `block_on`'s main future has been woken (always `false` for worker Ms).
fn main_woken(main: &Option<Arc<MainSignal>>) -> bool {
    main.as_ref().is_some_and(|main| main.is_woken())
}

/// Takes half the queue of a P that looks stalled: it has queued Gs, and its `schedtick` has not
/// moved since this M last ran out of local work (`seen`, updated here). Its M is descheduled by
/// the OS (more runnable threads than cores, as when a load generator shares the machine) or
/// stuck in one long poll, and those Gs have waited longer than anything the netpoller would
/// bring in now.
///
/// Go polls the network before stealing, and so does `find_runnable` otherwise: an M that keeps
/// finding IO for its own Gs keeps them on its P, which is what makes the TCP echo benchmark
/// fast. But then a P whose M lost the CPU keeps its Gs for a whole OS time slice (~3 ms) while
/// the other M serves fresh events: under `benches/http.py` that doubled p90 latency against
/// tokio, which steals before it polls. Stealing from stalled Ps only keeps both.
fn steal_from_stalled(shared: &Shared, p: &P, seen: &mut [u32]) -> Option<Task> {
    for (victim, seen) in shared.ps.iter().zip(seen.iter_mut()) {
        if victim.index == p.index {
            continue;
        }
        let tick = victim.schedtick();
        let stalled = tick == *seen && victim.has_work();
        *seen = tick;
        if stalled {
            // SAFETY: this M holds `p`, and `victim` is another P.
            if let Some(task) = unsafe { p.steal_from(victim, false) } {
                return Some(task);
            }
        }
    }
    None
}

/// Go's `stealWork`: 4 rounds over the other Ps in a random order (random start, random coprime
/// stride), taking half of a victim's ring; the last round may take a victim's `runnext`.
/// Spare and detached Ps are visited too (`rescue.rs`): a detached P's queue is what a rescue
/// moves on, and a spare's is empty (one load).
fn steal_work(
    shared: &Arc<Shared>,
    p: &P,
    rng: &mut FastRand,
    main: &Option<Arc<MainSignal>>,
) -> Option<Task> {
    let procs = shared.ps.len() as u32;
    if procs == 1 {
        return None;
    }
    for round in 0..STEAL_ROUNDS {
        let last_round = round == STEAL_ROUNDS - 1;
        let stride = shared.steal_strides[rng.below(shared.steal_strides.len() as u32) as usize];
        let mut victim = rng.below(procs);
        for _ in 0..procs {
            if shared.is_shutdown() || main_woken(main) {
                return None;
            }
            if victim as usize != p.index {
                let victim = &shared.ps[victim as usize];
                // The last round also runs the victim's due timers; the Gs they wake are queued
                // on `p` (Go's `stealTimersOrRunNextG`).
                if last_round {
                    if let Some(task) = shared.run_victim_timers(p, victim) {
                        return Some(task);
                    }
                }
                // SAFETY: this M holds `p`, and `victim` is another P.
                if let Some(task) = unsafe { p.steal_from(victim, last_round) } {
                    return Some(task);
                }
            }
            victim = (victim + stride) % procs;
        }
    }
    None
}
