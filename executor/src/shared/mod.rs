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
//! # Where things are
//!
//! One concept per file, all `impl Shared` over the state declared here:
//!
//! - `global_queue.rs`: the global run queue (Go's `globrunq*`, `injectglist`);
//! - `idle.rs`: the idle-P and idle-M lists (`pidleget`/`pidleput`, `stopm`'s first half) and
//!   the last look before an M gives up its P;
//! - `threads.rs`: Ms coming and going: `wakep`, `startm`, `newm`, `handoffp`, sysmon's retake;
//! - `poller.rs`: the one idle M blocked in the netpoller (Go's `sched.lastpoll` role);
//! - `spare.rs`: the spare Ps that replace a P whose M is stuck in a poll (`rescue.rs`);
//! - `shutdown.rs`: stopping the runtime and dropping every G.

use std::collections::VecDeque;
use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::Instant;

use async_task::{ScheduleInfo, WithInfo};
use crossbeam_utils::CachePadded;

use crate::block_on::MainSignal;
use crate::blocking::BlockingPool;
use crate::context;
use crate::dead_tasks;
use crate::g::{GState, G};
use crate::gfuture::GFuture;
use crate::join::JoinHandle;
use crate::p::{Role, P};
use crate::park::Note;
use crate::poll_until::PollUntil;
use crate::registry::Registry;
use crate::rescue::BlockedPolls;
use crate::runtime::hooks::ThreadHooks;
use crate::runtime::{RuntimeFlavor, WorkerStats};
use crate::sysmon::Sysmon;
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
    /// How the runtime schedules (flavor, intervals, thread hooks), fixed at build time.
    pub(crate) config: SchedConfig,
    /// The runtime's id (`Handle::id`).
    pub(crate) id: crate::runtime::Id,
    /// Each P's metrics, by P index (`runtime/metrics.rs`); updated in `pidleget`/`pidleput`.
    worker_stats: Box<[CachePadded<WorkerStats>]>,
    /// The M threads this runtime started and that may still run, for shutdown to join (those
    /// that exited are pruned when the next one starts).
    threads: Mutex<Vec<thread::JoinHandle<()>>>,
    /// How many M threads may be alive at once (`Builder::max_threads`, Go's
    /// `debug.SetMaxThreads`), and how long one may sit on the idle list before it exits when
    /// more than `procs` are alive (`Builder::thread_keep_alive`): `threads.rs`.
    pub(crate) limits: ThreadLimits,
    /// Set once the runtime hit `limits.max` and said so on stderr.
    thread_cap_reported: AtomicBool,
    /// A current-thread runtime's core: held by the thread whose `Runtime::block_on` answers
    /// as its worker (`context/main_role.rs`).
    core_owned: AtomicBool,
    /// For a `LocalRuntime`'s runtime, the thread that built it: the only one whose
    /// `spawn_local` may reach it (`local_set.rs`).
    local_thread: std::sync::OnceLock<thread::ThreadId>,
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
    /// M threads alive (started by `spawn_m`, not yet exited); at most `limits.max`.
    nm: usize,
    /// A P with queued Gs went to the idle list because no thread could be started for it
    /// (`limits.max`): an M about to park takes such a P instead (`park_m`). Cleared when none
    /// is left.
    starved: bool,
}

/// How a runtime schedules, fixed at build time (`runtime::Builder`).
#[derive(Debug)]
pub(crate) struct SchedConfig {
    /// Current-thread (one P, only `block_on` threads as Ms) or multi-thread: `runtime/mod.rs`.
    pub(crate) flavor: RuntimeFlavor,
    /// Ticks between looks at the global queue ahead of the P's own (`worker.rs`, step 1).
    pub(crate) global_queue_interval: u32,
    /// Ticks between non-blocking netpolls while an M has work (`worker.rs`, step 1), if any.
    pub(crate) event_interval: Option<u32>,
    /// Names, stack size and callbacks of the runtime's threads.
    pub(crate) hooks: ThreadHooks,
    /// `Builder::name`.
    pub(crate) name: Option<String>,
}

/// The runtime's bounds on its M threads (`threads.rs`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ThreadLimits {
    /// Most M threads alive at once.
    pub(crate) max: usize,
    /// How long an idle M beyond the `procs` kept waits for work before it exits.
    pub(crate) keep_alive: std::time::Duration,
}

mod global_queue;
mod idle;
pub(crate) use idle::{Parking, Unpark};
mod poller;
mod shutdown;
pub(crate) use shutdown::{cancel_now, refuse};
mod spare;
mod threads;

impl Shared {
    /// A runtime with `procs` Ps, all idle, and no threads yet (Ms start on demand).
    /// `orphan_timers` is the set for timers armed off its Ps; its driver becomes the runtime's
    /// (the runtime installs its hook there, so the driver must not belong to another runtime).
    pub(crate) fn new(
        procs: usize,
        reactor: Arc<Reactor>,
        orphan_timers: Arc<Timers>,
        blocking: BlockingPool,
        limits: ThreadLimits,
        config: SchedConfig,
    ) -> Arc<Shared> {
        assert!(procs > 0, "a runtime needs at least one P");
        // A current-thread runtime has no spare: a spare would take the P's queue to another
        // thread (`rescue.rs`).
        let slots = match config.flavor {
            RuntimeFlavor::CurrentThread => procs,
            RuntimeFlavor::MultiThread => procs.checked_mul(2).expect("too many Ps"),
        };
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
                nm: 0,
                starved: false,
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
            config,
            id: crate::runtime::Id::next(),
            worker_stats: (0..slots)
                .map(|_| CachePadded::new(WorkerStats::default()))
                .collect(),
            threads: Mutex::new(Vec::new()),
            limits,
            thread_cap_reported: AtomicBool::new(false),
            core_owned: AtomicBool::new(false),
            local_thread: std::sync::OnceLock::new(),
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
        // One context lookup serves the G's home, the goroutine count and the queueing.
        let on_p = context::current_p_and_g_of(self);
        let home = match on_p {
            Some((p, _)) => {
                // A dead task another P sent back is freed now, just before this allocation,
                // which then reuses its memory (`dead_tasks.rs`).
                // SAFETY: `current_p_and_g_of` only returns a P this thread holds.
                unsafe { p.dead.free_one() };
                u32::try_from(p.index).unwrap_or(dead_tasks::NO_HOME)
            }
            None => dead_tasks::NO_HOME,
        };
        let (task, handle) = async_task::Builder::new()
            .metadata(G::new(Arc::clone(self), location, name, captures, home))
            .spawn(
                move |g: &G| GFuture::new(future, g),
                WithInfo(schedule_task),
            );
        if self.is_shutdown() {
            // Refused (`shutdown.rs`): the future is dropped now, the handle reports it
            // cancelled. Counted, because its drop uncounts it.
            context::count_goroutines(self, 1);
            shutdown::refuse(task);
            return JoinHandle::new(handle);
        }
        match on_p {
            Some((p, in_g)) => {
                // SAFETY: `current_p_and_g_of` only returns a P this thread holds.
                unsafe { p.add_goroutines(1) };
                if in_g {
                    self.schedule_local(p, task, false);
                } else {
                    // Spawned by a `block_on` future, not a G: main's spawns start in the order
                    // they were made, as tokio's do (its tests, and users', rely on it). So a
                    // spawn takes `runnext` only when it is empty (a spawn-and-await loop keeps
                    // its hand-off there) and goes to the ring's tail behind it otherwise,
                    // never displacing an earlier spawn.
                    self.schedule_spawned_in_order(p, task);
                }
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
        self.spawn_blocking_named(func, location, None)
    }

    /// [`Shared::spawn_blocking`] of a G named `name` (`task::Builder`).
    pub(crate) fn spawn_blocking_named<F, T>(
        self: &Arc<Self>,
        func: F,
        location: &'static std::panic::Location<'static>,
        name: Option<Box<str>>,
    ) -> JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (task, handle) = async_task::Builder::new()
            .metadata(G::new(
                Arc::clone(self),
                location,
                name,
                None,
                dead_tasks::NO_HOME,
            ))
            .spawn(
                move |g: &G| GFuture::new(g.runtime().blocking.task(func), g),
                WithInfo(schedule_blocking),
            );
        context::count_goroutines(self, 1);
        self.blocking.submit(self, task, true);
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

    /// A G spawned by a `block_on` future on an M holding `p`: into `runnext` if it is empty,
    /// else the tail of the P's ring (FIFO among main's spawns), and `wakep` may start a spinner.
    fn schedule_spawned_in_order(self: &Arc<Self>, p: &P, task: Task) {
        task.metadata().set_state(GState::Runnable);
        let next = p.runnext_is_empty();
        // SAFETY: callers pass the P this thread holds (from `current_p_of`).
        if let Err(overflow) = unsafe { p.push(task, next) } {
            self.global_push(overflow);
        }
        self.wakep();
    }

    /// [`schedule_task`] off the runtime's Ms: the global queue, then `wakep`.
    fn schedule_remote(self: &Arc<Self>, task: Task) {
        task.metadata().set_state(GState::Runnable);
        self.global_push(std::iter::once(task));
        self.wakep();
    }

    /// Takes `sched.lock`. A panic while holding it cannot leave it inconsistent (no user code
    /// runs under it), so poisoning is ignored.
    fn lock(&self) -> MutexGuard<'_, Sched> {
        self.sched
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records `main` as a `block_on` main future of this runtime until the guard is dropped.
    pub(crate) fn register_main(&self, main: &Arc<MainSignal>) -> MainRegistration<'_> {
        self.lock_mains().push(Arc::clone(main));
        MainRegistration {
            shared: self,
            main: Arc::clone(main),
        }
    }

    fn lock_mains(&self) -> MutexGuard<'_, Vec<Arc<MainSignal>>> {
        // Pushes and removals only: a panic cannot leave the list inconsistent.
        self.mains.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether this is a current-thread runtime (`runtime/mod.rs`: its P never goes to a
    /// thread of its own).
    pub(crate) fn is_current_thread(&self) -> bool {
        self.config.flavor == RuntimeFlavor::CurrentThread
    }

    /// Takes the core (`context/main_role.rs`) if no thread holds it: whether it did.
    pub(crate) fn claim_core(&self) -> bool {
        !self.core_owned.load(Ordering::Relaxed)
            && self
                .core_owned
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
    }

    /// Marks this runtime as a `LocalRuntime`'s, built on the calling thread.
    pub(crate) fn set_local_thread(&self) {
        let _ = self.local_thread.set(thread::current().id());
    }

    /// The thread that built this runtime, if it is a `LocalRuntime`'s.
    pub(crate) fn local_thread(&self) -> Option<thread::ThreadId> {
        self.local_thread.get().copied()
    }

    /// Gives the core back (its holder leaves `block_on`).
    pub(crate) fn release_core(&self) {
        self.core_owned.store(false, Ordering::Release);
    }

    /// Wakes every thread inside `block_on` on this runtime, so that one of them takes the idle
    /// P: a current-thread runtime's `wakep` (`runtime/mod.rs`). A thread that holds the P, or
    /// is busy, only finds a flag it clears at its next wait.
    pub(crate) fn nudge_mains(&self) {
        for main in self.lock_mains().iter() {
            main.nudge();
        }
    }

    /// P `index`'s metrics.
    pub(crate) fn worker_stats(&self, index: usize) -> &WorkerStats {
        &self.worker_stats[index]
    }

    /// Nanoseconds since the runtime was created (the metrics' clock).
    pub(crate) fn nanos_since_created(&self) -> u64 {
        u64::try_from(self.created.elapsed().as_nanos()).unwrap_or(u64::MAX)
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
    shared.blocking.submit(&shared, task, false);
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
