//! `Shared`: the state of one runtime that every M sees (Go's `schedt` plus `allp`).
//!
//! # Thread parking (Go's `proc.go` header, "Worker thread parking/unparking")
//!
//! The tension: park idle threads to save CPU, yet wake enough of them to use every P, without
//! paying a thread wakeup (21-23 µs on these VMs) per message. Rejected: waking a thread for
//! every readied G (thrashes threads, and every message pays a futex wake), and handing G plus
//! thread over together (destroys locality). Adopted, as Go does: when work is submitted, wake
//! one more M *only if there is an idle P and no M is already spinning* (looking for work). The
//! spinner either finds the work or parks; the last spinner to find work wakes another one
//! (`reset_spinning` in `worker.rs`), so bursts fan out one M at a time.
//!
//! Liveness rests on two rules:
//! 1. Work pushed to a P's *local* queue is always run by that P's own M (an M never releases a
//!    P with a non-empty queue, see `pidleput`). A stale read in `wakep` can only cost
//!    parallelism there, never a lost wakeup.
//! 2. Work pushed to the *global* queue goes in under `sched`'s lock, and an M going idle checks
//!    the global queue under the same lock *before* it puts its P on the idle list. So either
//!    the M sees the work, or the submitter's `wakep` (after its unlock) sees the idle P. A
//!    spinning M that gives up decrements `nmspinning` and then re-checks the global queue and
//!    every P (the "delicate dance"), which covers a submitter that saw it still spinning.
//!
//! # The global queue
//!
//! A `VecDeque` under `sched`'s lock, with its length mirrored in an atomic so that the hot path
//! checks emptiness without the lock. DESIGN.md suggests `concurrent-queue`; a locked deque is
//! better here because the two bulk operations (an overflowing P moves 129 Gs in; an idle P takes
//! `len/GOMAXPROCS + 1` out) each become one lock acquisition instead of up to 129 CASes, and
//! rule 2 above needs the queue and the idle-P list under one lock anyway (as in Go).

use std::collections::VecDeque;
use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::task::Wake;
use std::time::{Duration, Instant};

use async_task::{ScheduleInfo, WithInfo};
use crossbeam_utils::CachePadded;

use crate::block_on::MainSignal;
use crate::blocking::{BlockingPool, BlockingTask};
use crate::context;
use crate::g::{GState, G};
use crate::gfuture::GFuture;
use crate::join::JoinHandle;
use crate::p::{Role, P};
use crate::park::{Handoff, Note};
use crate::poll_until::PollUntil;
use crate::queue::CAPACITY;
use crate::registry::Registry;
use crate::rescue::BlockedPolls;
use crate::syscall::InSyscall;
use crate::sysmon::Sysmon;
use crate::worker::M;
use crate::Task;
use gort_reactor::Reactor;
use gort_timer::{TimeDriver, Timers};

/// What [`Shared::take_global_or_release`] decided.
pub(crate) enum BeforePark {
    /// Global work was found; the M keeps its P and runs this G.
    Run(Task),
    /// The P is on the idle list; the M no longer holds it.
    Released,
    /// The runtime is shutting down; the M still holds its P and must retire it.
    Shutdown,
}

/// Where the Gs a blocking poll woke go ([`Shared::place_polled`]).
pub(crate) enum Placed {
    /// The M took idle P `p` to run them.
    Run(usize, Vec<Task>),
    /// Every P is busy: they went to the global queue, and the M is on the idle-M list; it
    /// parks on its note.
    Park,
    /// The runtime is shutting down; the Gs are handed back to be dropped.
    Shutdown(Vec<Task>),
}

/// Runtime-wide scheduler state.
pub(crate) struct Shared {
    /// The Ps, fixed at build time: `procs` in service (`GORT_MAXPROCS` or `worker_threads`)
    /// and as many spares, which replace Ps whose M is stuck in one poll (`rescue.rs`).
    pub(crate) ps: Box<[CachePadded<P>]>,
    /// GOMAXPROCS: how many Ps are in service at once (held or idle, not detached or spare).
    pub(crate) procs: usize,
    /// Ps detached from an M stuck in one poll and not yet retired (`rescue.rs`). Changed under
    /// `sched.lock`; read without it (`Relaxed`) by the idle checks.
    ndetached: AtomicUsize,
    /// Polls that sysmon found stuck for 10 ms and whose P it replaced (`rescue.rs`), and how
    /// many per spawn location (`GORT_DEBUG=blockwarn=1` reports each location once).
    pub(crate) blocked_polls: BlockedPolls,
    /// Go's `sched.lock` and what it guards.
    sched: Mutex<Sched>,
    /// `sched.global.len()`, readable without the lock. Written under the lock (`Relaxed`: a
    /// stale value only delays a lock-free peek; decisions that matter re-check under the lock).
    global_len: AtomicUsize,
    /// Number of Ps on the idle list. Changed under the lock; read without it by `wakep` and by
    /// the spinning limit (`Relaxed`: see rule 1 in the module doc).
    npidle: AtomicUsize,
    /// Number of spinning Ms. `SeqCst` read-modify-writes (the spinner's decrement must be
    /// ordered before its re-check of every queue: Go's "#StoreLoad" in the parking protocol).
    pub(crate) nmspinning: AtomicUsize,
    /// Set once when the runtime shuts down. `Release`/`Acquire`.
    shutdown: AtomicBool,
    /// Every parked G's waker, for `abort` and shutdown.
    pub(crate) registry: Registry,
    /// The netpoller (see `netpoll.rs` for how the Ms drive it).
    pub(crate) reactor: Arc<Reactor>,
    /// The runtime's clock and timer hook (`timers.rs`).
    pub(crate) time: Arc<TimeDriver>,
    /// Timers armed on threads that hold no P of this runtime.
    pub(crate) orphan_timers: Arc<Timers>,
    /// The deadline the M blocked in the poller will wake at (Go's `sched.pollUntil`), and the
    /// handshake with threads arming earlier timers (`poll_until.rs`).
    pub(crate) poll_until: PollUntil,
    /// `num_goroutine` contributions made on threads holding no P of this runtime.
    goroutines_off_p: AtomicI64,
    /// Coprime strides for random victim orders (Go's `stealOrder`).
    pub(crate) steal_strides: Box<[u32]>,
    /// Threads for `spawn_blocking` (`blocking.rs`).
    pub(crate) blocking: BlockingPool,
    /// The monitor thread's handle (`sysmon.rs`).
    pub(crate) sysmon: Sysmon,
    /// Ps retaken from Ms that stayed in `block_in_place` (for tests and diagnostics).
    pub(crate) retakes: AtomicUsize,
    /// When the netpoller was last polled, in µs since `created` (Go's `sched.lastpoll`), for
    /// sysmon's netpoll. `Relaxed`: a stale value only makes sysmon poll once too often.
    last_netpoll: AtomicU64,
    /// The origin of `last_netpoll`.
    created: Instant,
    /// The main futures of the threads inside `block_on`, for the paused clock's auto-advance,
    /// which must not move time while one of them can still act (`timers.rs`).
    mains: Mutex<Vec<Arc<MainSignal>>>,
    /// Name given to the runtime's threads.
    thread_name: String,
    /// Every M thread this runtime started, for shutdown to join.
    threads: Mutex<Vec<thread::JoinHandle<()>>>,
}

/// What `sched.lock` guards.
struct Sched {
    /// The global run queue (see the module doc).
    global: VecDeque<Task>,
    /// Indices of idle Ps (Go's `pidle`).
    idle_ps: Vec<usize>,
    /// Indices of spare Ps (`rescue.rs`).
    spare_ps: Vec<usize>,
    /// Parked Ms waiting to be handed a P (Go's `midle`).
    idle_ms: Vec<Arc<Note>>,
    /// The idle M blocked in the netpoller, if any (Go's `sched.lastpoll == 0`). It is not on
    /// `idle_ms`: `startm` uses it only when no other M is parked, waking it with
    /// `Reactor::notify` on top of the handoff.
    poller: Option<Arc<Note>>,
    /// Set with `shutdown` once every queue has been drained; from then on a G scheduled onto
    /// this runtime is dropped at once instead of queued.
    drained: bool,
}

impl Shared {
    /// A runtime with `procs` Ps, all idle, and no threads yet (Ms start on demand).
    /// `orphan_timers` is the set for timers armed off its Ps; its driver becomes the runtime's
    /// (the runtime installs its hook there, so the driver must not belong to another runtime).
    pub(crate) fn new(
        procs: usize,
        thread_name: String,
        reactor: Arc<Reactor>,
        orphan_timers: Arc<Timers>,
        blocking: BlockingPool,
    ) -> Arc<Shared> {
        assert!(procs > 0, "a runtime needs at least one P");
        let slots = procs.checked_mul(2).expect("too many Ps");
        let slots_u32 = u32::try_from(slots).expect("too many Ps");
        let time = Arc::clone(orphan_timers.driver());
        let ps: Box<[CachePadded<P>]> = (0..slots)
            .map(|i| CachePadded::new(P::new(i, Timers::with_driver(Arc::clone(&time)))))
            .collect();
        for spare in &ps[procs..] {
            spare.set_role(Role::Spare);
        }
        let shared = Arc::new(Shared {
            ps,
            procs,
            ndetached: AtomicUsize::new(0),
            blocked_polls: BlockedPolls::default(),
            sched: Mutex::new(Sched {
                global: VecDeque::new(),
                idle_ps: (0..procs).rev().collect(),
                spare_ps: (procs..slots).rev().collect(),
                idle_ms: Vec::new(),
                poller: None,
                drained: false,
            }),
            global_len: AtomicUsize::new(0),
            npidle: AtomicUsize::new(procs),
            nmspinning: AtomicUsize::new(0),
            shutdown: AtomicBool::new(false),
            registry: Registry::new(),
            reactor,
            time,
            orphan_timers,
            poll_until: PollUntil::new(),
            goroutines_off_p: AtomicI64::new(0),
            steal_strides: (1..=slots_u32)
                .filter(|&s| gcd(s, slots_u32) == 1)
                .collect(),
            blocking,
            sysmon: Sysmon::default(),
            retakes: AtomicUsize::new(0),
            last_netpoll: AtomicU64::new(0),
            created: Instant::now(),
            mains: Mutex::new(Vec::new()),
            thread_name,
            threads: Mutex::new(Vec::new()),
        });
        let weak = Arc::downgrade(&shared);
        let adopted = shared.time.set_hook(move |event| {
            if let Some(shared) = weak.upgrade() {
                shared.on_time_event(event);
            }
        });
        assert!(adopted, "a timer driver can serve one runtime only");
        // Cheap pins from the first polls on (`gort_gc`'s `barrier.rs`).
        gort_gc::prepare();
        // The GC arena's leak pass asks the runtime about its parked Gs (`task_source.rs`).
        let source: std::sync::Weak<dyn gort_gc::TaskSource> = Arc::downgrade(&shared) as _;
        gort_gc::register_task_source(source);
        shared
    }

    /// Go's `newproc`: creates a G for `future` and makes it runnable (into the current P's
    /// `runnext` when called on one of this runtime's Ms, else the global queue).
    pub(crate) fn spawn<F>(
        self: &Arc<Self>,
        future: F,
        location: &'static std::panic::Location<'static>,
        name: Option<Box<str>>,
        captures: Option<gort_gc::Edge>,
    ) -> JoinHandle<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (task, handle) = async_task::Builder::new()
            .metadata(G::new(Arc::clone(self), location, name, captures))
            .spawn(
                move |g: &G| GFuture::new(future, g),
                WithInfo(schedule_task),
            );
        // One context lookup serves both the goroutine count and the queueing.
        match context::current_p_of(self) {
            Some(p) => {
                // SAFETY: `current_p_of` only returns a P this thread holds.
                unsafe { p.add_goroutines(1) };
                self.schedule_local(p, task, false);
            }
            None => {
                self.count_goroutines_off_p(1);
                self.schedule_remote(task);
            }
        }
        JoinHandle::new(handle)
    }

    /// `task::spawn_blocking`: runs `func` on the blocking pool as a G (`blocking.rs`).
    pub(crate) fn spawn_blocking<F, T>(
        self: &Arc<Self>,
        func: F,
        location: &'static std::panic::Location<'static>,
    ) -> JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (task, handle) = async_task::Builder::new()
            .metadata(G::new(Arc::clone(self), location, None, None))
            .spawn(
                move |g: &G| GFuture::new(BlockingTask::new(func), g),
                WithInfo(schedule_blocking),
            );
        context::count_goroutines(self, 1);
        self.blocking.submit(self, task);
        JoinHandle::new(handle)
    }

    /// [`schedule_task`] on an M holding `p`, a P of this runtime: a yielding G (woken while
    /// running) goes to the tail of the P's ring, any other G into `runnext`, and `wakep` may
    /// start a spinner.
    fn schedule_local(self: &Arc<Self>, p: &P, task: Task, yielded: bool) {
        task.metadata().set_state(GState::Runnable);
        // SAFETY: callers pass the P this thread holds (from `current_p_of`).
        if let Err(overflow) = unsafe { p.push(task, !yielded) } {
            self.global_push(overflow);
        }
        if !yielded {
            self.wakep();
        }
    }

    /// [`schedule_task`] off the runtime's Ms: the global queue, then `wakep`.
    fn schedule_remote(self: &Arc<Self>, task: Task) {
        task.metadata().set_state(GState::Runnable);
        self.global_push(std::iter::once(task));
        self.wakep();
    }

    /// Go's `globrunqputbatch`: appends `tasks` to the global queue. After shutdown has drained
    /// the runtime, drops them instead (outside the lock: their destructors run user code).
    fn global_push(&self, tasks: impl IntoIterator<Item = Task>) {
        let mut sched = self.lock();
        if sched.drained {
            drop(sched);
            drop(tasks.into_iter().collect::<Vec<_>>());
            return;
        }
        sched.global.extend(tasks);
        self.global_len.store(sched.global.len(), Ordering::Relaxed);
    }

    /// [`Shared::global_push_woken_locked`], taking the lock.
    fn global_push_woken(&self, tasks: Vec<Task>) {
        let dead = {
            let mut sched = self.lock();
            self.global_push_woken_locked(&mut sched, tasks)
        };
        drop(dead);
    }

    /// Puts Gs woken by a poll or by timers (marked runnable here) at the *front* of the global
    /// queue, in order, with the lock held. They have waited already; at the tail (where Go's
    /// `injectglist` puts them) they would wait again behind every G queued meanwhile, up to
    /// 100k fresh spawns in the `sleeps100k` benchmark: tens of ms of lateness. After shutdown
    /// drained the runtime the Gs are returned instead, for the caller to drop once it has
    /// released the lock (their destructors run user code).
    #[must_use = "the returned Gs must be dropped outside the lock"]
    fn global_push_woken_locked(&self, sched: &mut Sched, tasks: Vec<Task>) -> Vec<Task> {
        if sched.drained {
            return tasks;
        }
        for task in tasks.into_iter().rev() {
            task.metadata().set_state(GState::Runnable);
            sched.global.push_front(task);
        }
        self.global_len.store(sched.global.len(), Ordering::Relaxed);
        Vec::new()
    }

    /// Whether the global queue looked non-empty (lock-free peek).
    pub(crate) fn global_has_work(&self) -> bool {
        self.global_len.load(Ordering::Relaxed) != 0
    }

    /// Go's `globrunqget`, taking the lock: see [`Shared::global_take_locked`].
    pub(crate) fn global_take(&self, p: &P, max: usize) -> Option<Task> {
        let mut sched = self.lock();
        self.global_take_locked(&mut sched, p, max)
    }

    /// Go's `globrunqget`: takes `min(len, len / GOMAXPROCS + 1, max, CAPACITY / 2)` Gs from the
    /// global queue, returns the first and queues the rest on `p`, which the caller holds.
    fn global_take_locked(&self, sched: &mut Sched, p: &P, max: usize) -> Option<Task> {
        let len = sched.global.len();
        let take = len.min(len / self.procs + 1).min(max).min(CAPACITY / 2);
        let first = sched.global.pop_front()?;
        for _ in 1..take {
            let Some(task) = sched.global.pop_front() else {
                break;
            };
            // SAFETY: the caller holds `p`.
            if let Err(batch) = unsafe { p.push(task, false) } {
                // Cannot happen while `take <= CAPACITY / 2` and the caller's ring is empty, but
                // if it did, the Gs go back where they came from.
                for task in batch.into_iter().rev() {
                    sched.global.push_front(task);
                }
                break;
            }
        }
        self.global_len.store(sched.global.len(), Ordering::Relaxed);
        Some(first)
    }

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

    /// Go's `newm`: starts a thread that runs the scheduler holding P `p`.
    /// Without a P, the new M starts out in the netpoller (`ensure_poller`).
    fn spawn_m(self: &Arc<Self>, p: Option<usize>, spinning: bool) {
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

    /// Takes `sched.lock`. A panic while holding it cannot leave it inconsistent (no user code
    /// runs under it), so poisoning is ignored.
    fn lock(&self) -> MutexGuard<'_, Sched> {
        self.sched
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Go's `pidleget` (lock held).
    fn pidleget(&self, sched: &mut Sched) -> Option<usize> {
        let p = sched.idle_ps.pop()?;
        self.npidle.fetch_sub(1, Ordering::SeqCst);
        // A P goes to work: sysmon must not sleep through a poll that gets stuck on it (it
        // sleeps a whole second while every P is idle). One `Relaxed` load unless it sleeps.
        self.sysmon.wake_idle();
        Some(p)
    }

    /// [`Shared::pidleget`], preferring, if `timers_due`, an idle P one of whose timers is due
    /// (any idle P otherwise: its M's last steal round runs other Ps' due timers).
    fn pidleget_for(&self, sched: &mut Sched, timers_due: bool) -> Option<usize> {
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
    fn pidleput(&self, sched: &mut Sched, p: usize) {
        debug_assert!(
            self.is_shutdown() || !self.ps[p].has_work(),
            "a P with queued Gs was put on the idle list"
        );
        if self.ps[p].role() == Role::Detached {
            self.spare_put_locked(sched, p);
            return;
        }
        sched.idle_ps.push(p);
        self.npidle.fetch_add(1, Ordering::SeqCst);
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

    /// Go's `stopm` first half: parks `note`'s M on the idle-M list. Returns `false` (and does
    /// not park) if the runtime is shutting down.
    pub(crate) fn park_m(&self, note: &Arc<Note>) -> bool {
        let mut sched = self.lock();
        if self.is_shutdown() {
            return false;
        }
        sched.idle_ms.push(Arc::clone(note));
        true
    }

    /// Records `note`'s M as the one blocked in the netpoller. Returns `false` (and records
    /// nothing) if the runtime is shutting down.
    pub(crate) fn register_poller(&self, note: &Arc<Note>) -> bool {
        let mut sched = self.lock();
        if self.is_shutdown() {
            return false;
        }
        debug_assert!(sched.poller.is_none(), "two Ms in the netpoller");
        sched.poller = Some(Arc::clone(note));
        true
    }

    /// Makes sure some M will block in the netpoller when the thread that was doing it (or may
    /// have been) leaves: wakes a parked M to do it, or starts one if `or_start` or if the
    /// runtime has no running M at all (a 1-P runtime whose only P was `block_on`'s). Otherwise,
    /// with every M busy, each polls when it runs out of work.
    pub(crate) fn ensure_poller(self: &Arc<Self>, or_start: bool) {
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

    /// Makes Gs woken by a poll or by timers runnable on `p`, which this thread holds (Go's
    /// `injectglist`): returns the first to run now and queues the rest at the tail of the ring
    /// (not `runnext`: none of them was woken by the G this P runs), waking a spinner if there is
    /// more than one. What does not fit in the ring goes to the front of the global queue
    /// ([`Shared::global_push_woken_locked`]), not, as an overflowing push would, to the back.
    pub(crate) fn inject(self: &Arc<Self>, p: &P, tasks: Vec<Task>) -> Option<Task> {
        let mut tasks = tasks.into_iter();
        let first = tasks.next()?;
        first.metadata().set_state(GState::Runnable);
        let mut more = false;
        let mut spill = Vec::new();
        for task in tasks {
            more = true;
            task.metadata().set_state(GState::Runnable);
            // Only this thread pushes to `p`'s ring and thieves only shrink it, so a ring with
            // room now still has room for this push.
            if !spill.is_empty() || p.ring_len() >= CAPACITY {
                spill.push(task);
                continue;
            }
            // SAFETY: the caller holds `p`.
            if let Err(overflow) = unsafe { p.push(task, false) } {
                self.global_push(overflow);
            }
        }
        if !spill.is_empty() {
            self.global_push_woken(spill);
        }
        if more {
            self.wakep();
        }
        Some(first)
    }

    /// Queues `tasks` globally (for Gs woken by a poll on an M leaving the scheduler).
    pub(crate) fn inject_global(self: &Arc<Self>, tasks: Vec<Task>) {
        if tasks.is_empty() {
            return;
        }
        self.global_push_woken(tasks);
        self.wakep();
    }

    /// Records `main` as a `block_on` main future of this runtime until the guard is dropped.
    pub(crate) fn register_main(&self, main: &Arc<MainSignal>) -> MainRegistration<'_> {
        self.lock_mains().push(Arc::clone(main));
        MainRegistration {
            shared: self,
            main: Arc::clone(main),
        }
    }

    /// Whether nothing can run before a timer fires: every P idle, the global queue empty, and
    /// every `block_on` main parked and not woken (the paused clock's auto-advance condition).
    pub(crate) fn is_idle(&self) -> bool {
        self.all_ps_idle()
            && !self.global_has_work()
            && self.lock_mains().iter().all(|main| main.is_idle())
    }

    /// Whether every P in service is idle and no M is stuck in a poll on a detached P.
    pub(crate) fn all_ps_idle(&self) -> bool {
        self.npidle() == self.procs && self.ndetached.load(Ordering::Relaxed) == 0
    }

    /// Takes a P from the spare pool to replace a detached one: marks it active and counts the
    /// detached P (`rescue.rs`). `None` if every spare is in use.
    pub(crate) fn spare_take(&self) -> Option<usize> {
        let mut sched = self.lock();
        if self.is_shutdown() {
            return None;
        }
        let spare = sched.spare_ps.pop()?;
        self.ps[spare].set_role(Role::Active);
        self.ndetached.fetch_add(1, Ordering::Relaxed);
        Some(spare)
    }

    /// Puts detached P `p`, whose owner has emptied its queues and moved its timers, into the
    /// spare pool, with `tasks` (its queued Gs) at the front of the global queue.
    pub(crate) fn spare_put(self: &Arc<Self>, p: usize, tasks: Vec<Task>) {
        let dead = {
            let mut sched = self.lock();
            self.spare_put_locked(&mut sched, p);
            self.global_push_woken_locked(&mut sched, tasks)
        };
        drop(dead);
        self.wakep();
    }

    fn spare_put_locked(&self, sched: &mut Sched, p: usize) {
        self.ps[p].set_role(Role::Spare);
        sched.spare_ps.push(p);
        self.ndetached.fetch_sub(1, Ordering::Relaxed);
    }

    /// Puts P `p`, which the caller owns and which has no queued Gs, on the idle list.
    pub(crate) fn pidleput_unlocked(&self, p: usize) {
        let mut sched = self.lock();
        self.pidleput(&mut sched, p);
    }

    fn lock_mains(&self) -> MutexGuard<'_, Vec<Arc<MainSignal>>> {
        // Pushes and removals only: a panic cannot leave the list inconsistent.
        self.mains.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::Acquire)
    }

    pub(crate) fn count_goroutines_off_p(&self, delta: i64) {
        self.goroutines_off_p.fetch_add(delta, Ordering::Relaxed);
    }

    /// Live Gs: spawned and not yet dead (Go's `runtime.NumGoroutine`, without the main G).
    pub(crate) fn num_goroutine(&self) -> usize {
        let on_ps: i64 = self.ps.iter().map(|p| p.goroutines()).sum();
        let total = on_ps + self.goroutines_off_p.load(Ordering::Relaxed);
        usize::try_from(total).unwrap_or(0)
    }

    /// Stops the runtime: parked Ms exit, running Ms exit after their current poll, and then
    /// every G's future is dropped (queued Gs directly, parked Gs after being woken into the
    /// global queue). Waits for the M threads at most `timeout` (forever with `None`); an M still
    /// stuck in a poll after that is detached and drops its own P's Gs when its poll returns.
    pub(crate) fn shutdown(&self, timeout: Option<Duration>) {
        let idle_ms = {
            let mut sched = self.lock();
            if self.shutdown.swap(true, Ordering::AcqRel) {
                return;
            }
            let mut idle_ms = std::mem::take(&mut sched.idle_ms);
            idle_ms.extend(sched.poller.take());
            idle_ms
        };
        for note in idle_ms {
            note.wake(Handoff::Shutdown);
        }
        self.reactor.notify();
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|e| e.into_inner()));
        let deadline = timeout.map(|timeout| Instant::now() + timeout);
        for thread in threads {
            if thread.thread().id() == thread::current().id() {
                continue;
            }
            match deadline {
                None => {
                    let _ = thread.join();
                }
                Some(deadline) => {
                    while !thread.is_finished() && Instant::now() < deadline {
                        thread::sleep(Duration::from_micros(200));
                    }
                    if thread.is_finished() {
                        let _ = thread.join();
                    }
                }
            }
        }
        // Before the drain: Gs that finishing blocking jobs spawn are dropped with the rest.
        self.blocking.shutdown(deadline);
        self.sysmon.stop(deadline);
        self.drain();
        // Threads inside `block_on` on this runtime poll their main future once more: what it
        // waited for may have gone with the drain (`block_on.rs`).
        for main in self.lock_mains().iter() {
            main.wake_by_ref();
        }
    }

    /// Drops every queued and parked G until none is left, then marks the runtime drained.
    fn drain(&self) {
        // Armed timers hold their tasks' wakers; a task whose future holds one of these sets
        // would keep it, and with it this runtime, alive forever.
        for p in self.ps.iter() {
            p.timers.shut_down();
        }
        self.orphan_timers.shut_down();
        loop {
            self.registry.wake_all();
            let mut tasks = Vec::new();
            {
                let mut sched = self.lock();
                tasks.extend(sched.global.drain(..));
                self.global_len.store(0, Ordering::Relaxed);
                for &p in &sched.idle_ps {
                    // SAFETY: `p` is idle (no M holds it) and we hold `sched.lock`, which every
                    // drainer (this loop, an exiting M) takes before touching an idle P.
                    tasks.extend(unsafe { self.ps[p].drain() });
                }
                if tasks.is_empty() {
                    // Nothing more to drop: every G woken above was queued and is in `tasks`.
                    // Gs on a P that a detached M still holds (shutdown timed out) are dropped
                    // by that M when its poll returns (`retire_p`).
                    sched.drained = true;
                    return;
                }
            }
            // Outside the lock: dropping a future runs user destructors, which may wake or
            // spawn Gs (they land in the global queue and are dropped on the next round).
            drop(tasks);
        }
    }

    /// At shutdown, for an M leaving while holding P `p`: drops the P's Gs and puts it on the
    /// idle list.
    fn retire_p(&self, p: &P) {
        releasep(self, p);
        let tasks = {
            let mut sched = self.lock();
            // SAFETY: this M held `p` until `set_p(null)` above and we hold `sched.lock`.
            let tasks = unsafe { p.drain() };
            self.pidleput(&mut sched, p.index);
            tasks
        };
        drop(tasks);
    }
}

/// Keeps a `block_on` main registered with its runtime ([`Shared::register_main`]).
pub(crate) struct MainRegistration<'a> {
    shared: &'a Shared,
    main: Arc<MainSignal>,
}

impl Drop for MainRegistration<'_> {
    fn drop(&mut self) {
        self.shared
            .lock_mains()
            .retain(|main| !Arc::ptr_eq(main, &self.main));
    }
}

/// The schedule function of every G: called by its waker, by `spawn`, and by async-task after a
/// poll during which the G was woken.
///
/// It is a plain function, not a closure over the runtime: async-task wraps every call of a
/// schedule function that has captured state in a temporary waker (a reference-count increment
/// and decrement on the task), which cost two atomic read-modify-writes per wake and yield. The
/// runtime comes from the G record instead, and must not be borrowed from there once the G is
/// queued: another M may then run it to completion and free the record. So the local path takes
/// the runtime and P from this thread's context (kept alive by the M), and the remote path holds
/// its own `Arc` while it pushes.
fn schedule_task(task: Task, info: ScheduleInfo) {
    let runtime = Arc::as_ptr(task.metadata().runtime());
    if let Some((shared, p)) = context::held_p_of(runtime) {
        // SAFETY: `held_p_of` returns the context's `Arc::as_ptr` of the runtime this thread
        // serves, whose Arc the M keeps alive for longer than this call; `ManuallyDrop` borrows
        // that reference without releasing it. The P stays held until this call returns
        // (scheduling never releases it).
        let (shared, p) = unsafe {
            (
                ManuallyDrop::new(Arc::from_raw(shared.as_ptr())),
                p.as_ref(),
            )
        };
        shared.schedule_local(p, task, info.woken_while_running);
    } else if let Err(task) = context::push_to_batch(runtime, task) {
        let shared = Arc::clone(task.metadata().runtime());
        shared.schedule_remote(task);
    }
}

/// The schedule function of blocking Gs: they go to the blocking pool, never to a P (only an
/// abort wakes one again, to report its cancellation).
fn schedule_blocking(task: Task, _info: ScheduleInfo) {
    let shared = Arc::clone(task.metadata().runtime());
    shared.blocking.submit(&shared, task);
}

/// Go's `releasep`: this thread no longer holds `p` (the inverse of `worker::acquirep`). Timers
/// it arms from now on go into the runtime's P-less set.
pub(crate) fn releasep(shared: &Shared, p: &P) {
    context::set_p(std::ptr::null());
    gort_timer::set_current(Some(Arc::clone(&shared.orphan_timers)));
    p.set_held(false);
}

/// Greatest common divisor, for the coprime steal strides.
fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}
