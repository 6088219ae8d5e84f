//! Stopping the runtime: parked Ms exit, running Ms exit after their poll, threads are joined
//! within `shutdown_timeout`, and every G's future is dropped (queued ones directly, parked ones
//! after the registry wakes them), then every `block_on` main is woken once. A queued G is
//! dropped by running it once aborted ([`cancel_now`]), so that a destructor's panic is the
//! task's result, as in tokio.
//!
//! # Spawns during shutdown are refused
//!
//! Dropping a future runs its destructors, which may spawn (or wake) Gs. The drain used to queue
//! those and drop them in its next round, which never ended if destructors kept spawning. Once
//! shutdown has begun, a spawn is refused instead, as tokio's is: its future is dropped at once
//! on the spawning thread and its `JoinHandle` reports cancellation (`refuse`), and a G woken
//! after the drain is dropped the same way. A refused future whose destructor spawns again
//! would recurse; `refuse` turns that into a loop over a per-thread list, and a chain of more
//! than `REFUSED_CHAIN_LIMIT` futures spawning their successors from their destructors is cut
//! there (the rest are leaked, with one message), so shutdown ends whatever destructors do.

use std::cell::{Cell, RefCell};
use std::sync::atomic::Ordering;
use std::task::Wake;
use std::thread;
use std::time::{Duration, Instant};

use super::{releasep, Shared};
use crate::p::P;
use crate::park::Handoff;
use crate::Task;

impl Shared {
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
        // A timeout too long to be an `Instant` (`Duration::MAX`) is no deadline.
        let deadline = timeout.and_then(|timeout| Instant::now().checked_add(timeout));
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
    pub(super) fn drain(&self) {
        // Armed timers hold their tasks' wakers; a task whose future holds one of these sets
        // would keep it, and with it this runtime, alive forever.
        for p in self.ps.iter() {
            p.timers.shut_down();
        }
        self.orphan_timers.shut_down();
        // And its sockets: no M will poll the reactor again. Their waiters wake and fail.
        self.reactor.shut_down();
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
                // Dead tasks waiting to go home hold the runtime (`dead_tasks.rs`); with the
                // runtime shut down, their homes free them as they arrive. Spare Ps are held by
                // nobody either.
                for &p in sched.idle_ps.iter().chain(sched.spare_ps.iter()) {
                    // SAFETY: as above.
                    unsafe { self.ps[p].dead.send(self) };
                }
                for p in self.ps.iter() {
                    p.dead.free_inbox();
                }
                if tasks.is_empty() {
                    // Nothing more to drop: every G woken above was queued and is in `tasks`.
                    // Gs on a P that a detached M still holds (shutdown timed out) are dropped
                    // by that M when its poll returns (`retire_p`).
                    sched.drained = true;
                    // The idle Ps' last unpark, as tokio's parked workers wake to exit
                    // (`runtime/metrics.rs`).
                    for &p in &sched.idle_ps {
                        self.worker_stats[p].woken_for_shutdown();
                    }
                    return;
                }
            }
            // Outside the lock: dropping a future runs user destructors, which may wake or
            // spawn Gs (they land in the global queue and are dropped on the next round).
            tasks.into_iter().for_each(cancel_now);
        }
    }

    /// At shutdown, for an M leaving while holding P `p`: drops the P's Gs and puts it on the
    /// idle list.
    pub(super) fn retire_p(&self, p: &P) {
        // SAFETY: this M still holds `p`.
        unsafe { crate::dead_tasks::settle(self, p) };
        releasep(self, p);
        let tasks = {
            let mut sched = self.lock();
            // SAFETY: this M held `p` until `set_p(null)` above and we hold `sched.lock`.
            let tasks = unsafe { p.drain() };
            self.pidleput(&mut sched, p.index);
            tasks
        };
        tasks.into_iter().for_each(cancel_now);
    }
}

/// Drops the future of queued G `task` as an abort does: the G is marked aborted and run once,
/// so that its wrapper drops the future inside the task (`gfuture.rs`) and a destructor that
/// panics becomes the task's `JoinError::Panic`, as in tokio, instead of a message on stderr
/// and a cancellation. At shutdown, and when a `LocalSet` is dropped.
pub(crate) fn cancel_now(task: Task) {
    task.metadata().set_aborted();
    task.run();
}

/// Refused futures one thread drops in one chain before it leaks the rest (module doc).
const REFUSED_CHAIN_LIMIT: usize = 100_000;

thread_local! {
    /// Whether this thread is dropping refused Gs now ([`refuse`]).
    static REFUSING: Cell<bool> = const { Cell::new(false) };
    /// Gs refused while this thread was already dropping one: dropped by the outer call.
    static REFUSED: RefCell<Vec<Task>> = const { RefCell::new(Vec::new()) };
}

/// Drops G `task` without running it: spawned (or woken) after its runtime began to shut down
/// (module doc). Its handle reports cancellation. Destructors that spawn again are handled in a
/// loop, not by recursion, and cut after [`REFUSED_CHAIN_LIMIT`].
pub(crate) fn refuse(task: Task) {
    if REFUSING.with(Cell::get) {
        REFUSED.with(|refused| refused.borrow_mut().push(task));
        return;
    }
    /// Ends the chain on this thread, also when a destructor panics.
    struct Chain;
    impl Drop for Chain {
        fn drop(&mut self) {
            REFUSING.with(|refusing| refusing.set(false));
            let left = REFUSED.with(|refused| std::mem::take(&mut *refused.borrow_mut()));
            // Only if the chain was cut (or a destructor panicked): nothing may drop them now.
            left.into_iter().for_each(std::mem::forget);
        }
    }
    REFUSING.with(|refusing| refusing.set(true));
    let _chain = Chain;
    drop(task);
    for _ in 1..REFUSED_CHAIN_LIMIT {
        let Some(next) = REFUSED.with(|refused| refused.borrow_mut().pop()) else {
            return;
        };
        drop(next);
    }
    if REFUSED.with(|refused| !refused.borrow().is_empty()) {
        eprintln!(
            "gort: destructors kept spawning tasks while their runtime shut down; after \
             {REFUSED_CHAIN_LIMIT} refused tasks the rest are leaked instead of dropped"
        );
    }
}
