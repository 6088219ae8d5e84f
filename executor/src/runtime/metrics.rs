//! `RuntimeMetrics`: tokio's stable runtime metrics, read from gort's own state.
//!
//! A tokio "worker" is a P here: worker `i` is P `i`, for `i < num_workers()` (GOMAXPROCS). A P
//! is *parked* while it sits on the idle list and *busy* from the moment an M takes it off the
//! list until it goes back, so the busy time of a P counts the polls, the spinning and the
//! netpoller's non-blocking looks of whichever Ms held it, as tokio's busy time counts a
//! worker's. A P starts its life idle: that first idle spell counts as one park, so the
//! park/unpark count is odd exactly while the P is idle, as tokio documents for its workers
//! (tokio's workers start running and count from zero). At shutdown every idle P counts one
//! more unpark, as tokio's parked workers wake to exit.
//!
//! The P-idle transitions happen under `sched.lock` (`shared/idle.rs`), which orders the
//! updates of one P; readers load without it, so a reading taken while the P changes state may
//! mix the two states (tokio's metrics are not consistent snapshots either). A P that sysmon
//! replaced because its M was stuck in one poll (`rescue.rs`) keeps its counters; the spare
//! that replaced it, whose index is past `num_workers()`, is not reported.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::Handle;

/// A handle to a runtime's metrics (tokio's `RuntimeMetrics`), from `Runtime::metrics` or
/// `Handle::metrics`. Cheap to clone; it keeps the runtime's state alive, not the runtime.
#[derive(Clone, Debug)]
pub struct RuntimeMetrics {
    handle: Handle,
}

impl RuntimeMetrics {
    pub(crate) fn new(handle: Handle) -> RuntimeMetrics {
        RuntimeMetrics { handle }
    }

    /// Number of workers: the runtime's Ps (`worker_threads`; 1 on a current-thread runtime).
    pub fn num_workers(&self) -> usize {
        self.handle.shared.procs
    }

    /// Tasks spawned on the runtime and not yet finished (their future not yet dropped):
    /// `num_goroutine` without the blocking pool's jobs, which tokio does not count as tasks
    /// either. The count is updated by each P separately, so right after a task finishes on
    /// another thread it may still be included.
    pub fn num_alive_tasks(&self) -> usize {
        let shared = &self.handle.shared;
        shared
            .num_goroutine()
            .saturating_sub(shared.blocking.alive())
    }

    /// Tasks waiting in the runtime's global queue now: those spawned or woken off the
    /// runtime's threads, the overflow of full local queues, and Gs a poll woke while every P
    /// was busy.
    pub fn global_queue_depth(&self) -> usize {
        self.handle.shared.global_queue_depth()
    }

    /// How long worker (P) `worker` has been busy in total since the runtime was built (module
    /// doc).
    ///
    /// # Panics
    ///
    /// If `worker >= num_workers()`.
    #[track_caller]
    pub fn worker_total_busy_duration(&self, worker: usize) -> Duration {
        let shared = &self.handle.shared;
        let stats = self.stats(worker);
        Duration::from_nanos(stats.busy_nanos(shared.nanos_since_created(), shared.is_shutdown()))
    }

    /// How many times worker (P) `worker` has parked (gone idle), its first idle spell
    /// included (module doc). Never decreases.
    ///
    /// # Panics
    ///
    /// If `worker >= num_workers()`.
    #[track_caller]
    pub fn worker_park_count(&self, worker: usize) -> u64 {
        self.stats(worker).park_count()
    }

    /// How many times worker (P) `worker` has parked plus how many times it has unparked: odd
    /// while it is parked, even while it is busy. Never decreases.
    ///
    /// # Panics
    ///
    /// If `worker >= num_workers()`.
    #[track_caller]
    pub fn worker_park_unpark_count(&self, worker: usize) -> u64 {
        self.stats(worker).park_unpark_count()
    }

    #[track_caller]
    fn stats(&self, worker: usize) -> &WorkerStats {
        let workers = self.num_workers();
        assert!(
            worker < workers,
            "worker index {worker} out of range: the runtime has {workers} workers"
        );
        self.handle.shared.worker_stats(worker)
    }
}

/// One P's metrics (module doc). Written under `sched.lock` by whoever moves the P on or off the
/// idle list; read without it (`Relaxed`: they are reports).
#[derive(Debug, Default)]
pub(crate) struct WorkerStats {
    /// Times the P left the idle list.
    unparks: AtomicU64,
    /// Times the P went onto the idle list, its initial idle state not included.
    parks: AtomicU64,
    /// When the P last left the idle list, in ns since the runtime was created.
    busy_since: AtomicU64,
    /// Busy ns of the busy spells that ended.
    busy_total: AtomicU64,
}

impl WorkerStats {
    /// The P left the idle list at `now` (ns since the runtime was created). `sched.lock` held.
    pub(crate) fn unparked(&self, now: u64) {
        self.busy_since.store(now, Ordering::Relaxed);
        self.unparks.fetch_add(1, Ordering::Relaxed);
    }

    /// The P went onto the idle list at `now`. `sched.lock` held.
    pub(crate) fn parked(&self, now: u64) {
        let since = self.busy_since.load(Ordering::Relaxed);
        self.busy_total
            .fetch_add(now.saturating_sub(since), Ordering::Relaxed);
        self.parks.fetch_add(1, Ordering::Relaxed);
    }

    /// At shutdown, for a P on the idle list: its last unpark, which starts no busy spell (the
    /// runtime is shut down, so `busy_nanos` adds no running spell). `sched.lock` held.
    pub(crate) fn woken_for_shutdown(&self) {
        if self.is_parked() {
            self.unparks.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn is_parked(&self) -> bool {
        self.park_unpark_count() % 2 == 1
    }

    fn park_count(&self) -> u64 {
        // The initial idle state is the first park (module doc).
        self.parks.load(Ordering::Relaxed) + 1
    }

    fn park_unpark_count(&self) -> u64 {
        self.park_count() + self.unparks.load(Ordering::Relaxed)
    }

    /// Busy ns up to `now`, the running spell included unless the runtime `shut_down`.
    fn busy_nanos(&self, now: u64, shut_down: bool) -> u64 {
        let total = self.busy_total.load(Ordering::Relaxed);
        if shut_down || self.is_parked() {
            return total;
        }
        total + now.saturating_sub(self.busy_since.load(Ordering::Relaxed))
    }
}
