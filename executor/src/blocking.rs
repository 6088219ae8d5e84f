//! The blocking pool: threads that run `task::spawn_blocking` closures (Go's handoff of a
//! goroutine stuck in a system call, tokio's blocking pool).
//!
//! A blocking closure must not run on an M: it would hold the M's P, and every G queued behind
//! it, for as long as it blocks. It runs instead on a pool thread that holds no P. The closure
//! becomes a G like any other (an `async_task` whose future calls it once), so that its
//! `JoinHandle`, `JoinError::Panic`, abort before it starts, and the goroutine count all work
//! as for spawned futures; only its schedule function differs: it queues the G here instead of
//! on a P.
//!
//! Threads start on demand, up to `max_blocking_threads` (512 by default, as tokio), when jobs
//! wait and no pool thread is idle; beyond that, jobs queue. Starting a thread costs ~45 µs on
//! these VMs, so the submitter starts at most one and each new thread starts the next while a
//! backlog lasts, a few in flight at once (`needs_thread`). 2000 blocking 1 ms calls went from
//! 31.7 ms (the submitter starting every thread, as tokio's does) to 22.3 ms; with 16 starts in
//! flight the thread creations crowded out the submitting G on 2 cores (27-37 ms). An idle thread waits for work
//! `thread_keep_alive` (10 s) and then exits, so a burst of blocking calls does not leave
//! hundreds of threads behind. At shutdown, queued jobs no thread is on its way to are dropped
//! (their handles report `JoinError::Cancelled`); jobs already running, or handed a thread that
//! is starting or was woken for them, cannot be interrupted, and shutdown waits for them at most
//! as long as `shutdown_timeout` allows, leaving the rest detached.

use std::cell::Cell;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::context;
use crate::g::GState;
use crate::runtime::hooks::{ThreadHooks, DEFAULT_BLOCKING_NAME};
use crate::shared::Shared;
use crate::Task;

/// Default for `Builder::max_blocking_threads` (tokio's).
pub(crate) const DEFAULT_MAX_THREADS: usize = 512;

/// Thread starts in flight at once (`BlockingPool::needs_thread`).
const MAX_STARTING: usize = 4;

/// Default for `Builder::thread_keep_alive` (tokio's).
pub(crate) const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(10);

thread_local! {
    /// The pool this thread belongs to, if it is a pool thread (so that a shutdown started by a
    /// blocking job does not wait for its own thread).
    static POOL: Cell<*const BlockingPool> = const { Cell::new(std::ptr::null()) };
}

/// One runtime's blocking pool (module doc).
pub(crate) struct BlockingPool {
    state: Mutex<PoolState>,
    /// Signals queued work (and shutdown) to idle threads.
    work: Condvar,
    /// Signals a thread's exit to a shutdown that waits for them.
    exited: Condvar,
    max_threads: usize,
    keep_alive: Duration,
    /// Names, stack size and start/stop callbacks of the pool's threads.
    hooks: ThreadHooks,
    /// Blocking Gs whose closure has not been dropped yet (queued, running, or finished but not
    /// yet freed), for `RuntimeMetrics::num_alive_tasks`, which does not count them: shared
    /// with every [`BlockingTask`], which takes itself off when dropped.
    alive: Arc<AtomicUsize>,
    /// Blocking Gs submitted and not yet done: queued, or running until `Runnable::run` has
    /// returned (so the G that awaits one has been woken by then). While any is, a paused
    /// clock does not auto-advance (`timers.rs`): the job may still wake somebody, as in
    /// tokio. Incremented under the lock in `submit`, decremented by the pool thread after the
    /// run (`Release`, pairing with the `Acquire` load of [`BlockingPool::in_flight`]) or when
    /// shutdown drops queued jobs.
    in_flight: AtomicUsize,
}

/// What the pool's lock guards.
#[derive(Default)]
struct PoolState {
    queue: VecDeque<Task>,
    /// Live pool threads, idle ones included.
    threads: usize,
    /// Threads waiting for work.
    idle: usize,
    /// Wake-ups sent to idle threads and not yet taken (so one job does not start a thread
    /// while an idle one is already on its way).
    notified: usize,
    /// Threads started and not yet running their loop.
    starting: usize,
    shutdown: bool,
}

impl BlockingPool {
    pub(crate) fn new(
        max_threads: usize,
        keep_alive: Duration,
        hooks: ThreadHooks,
    ) -> BlockingPool {
        BlockingPool {
            state: Mutex::new(PoolState::default()),
            work: Condvar::new(),
            exited: Condvar::new(),
            max_threads,
            keep_alive,
            hooks,
            alive: Arc::new(AtomicUsize::new(0)),
            in_flight: AtomicUsize::new(0),
        }
    }

    /// The future of a new blocking G running `func`, counted in [`BlockingPool::alive`] until
    /// it is dropped.
    pub(crate) fn task<F>(&self, func: F) -> BlockingTask<F> {
        self.alive.fetch_add(1, Ordering::Relaxed);
        BlockingTask {
            func: Some(func),
            alive: Arc::clone(&self.alive),
        }
    }

    /// Blocking Gs alive (see [`BlockingPool::alive`]).
    pub(crate) fn alive(&self) -> usize {
        self.alive.load(Ordering::Relaxed)
    }

    /// Blocking Gs queued or running (see [`BlockingPool::in_flight`]).
    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }

    fn lock(&self) -> MutexGuard<'_, PoolState> {
        // No user code runs under the lock.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a blocking G: wakes an idle thread, or starts one if none is idle and the limit
    /// allows, else leaves it queued for the next thread that finishes. After shutdown the G is
    /// dropped (its handle reports cancellation). `spawning`: the caller is `spawn_blocking`,
    /// which panics if the OS refuses the only thread that could run the G
    /// ([`BlockingPool::no_thread_for`]); a G rescheduled by an abort's wake (a waker must not
    /// panic) stays queued instead.
    #[track_caller]
    pub(crate) fn submit(&self, shared: &Arc<Shared>, task: Task, spawning: bool) {
        let mut state = self.lock();
        if state.shutdown {
            drop(state);
            crate::shared::refuse(task);
            return;
        }
        task.metadata().set_state(GState::Runnable);
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        state.queue.push_back(task);
        if state.idle > state.notified {
            state.notified += 1;
            drop(state);
            self.work.notify_one();
            return;
        }
        if self.needs_thread(&state, 0) {
            if let Err(err) = self.start_thread(shared, state) {
                if spawning {
                    self.no_thread_for(err);
                } else {
                    eprintln!("gort: could not start a blocking thread: {err}");
                }
            }
        }
    }

    /// The OS refused the thread `submit` started for the job it just queued. With another pool
    /// thread alive, the job waits for it; with none, nobody would ever run it: the newest
    /// queued job (the caller's) is taken back and this panics, as tokio's `spawn_blocking`
    /// does, instead of leaving a handle that never completes.
    #[track_caller]
    fn no_thread_for(&self, err: std::io::Error) {
        let mut state = self.lock();
        if state.threads > 0 {
            eprintln!("gort: could not start a blocking thread: {err}");
            return;
        }
        let job = state.queue.pop_back();
        drop(state);
        if job.is_some() {
            self.in_flight.fetch_sub(1, Ordering::Release);
        }
        // Outside the lock: dropping the G drops its closure.
        drop(job);
        panic!("OS can't spawn worker thread: {err}");
    }

    /// Whether another thread should start: more jobs wait than threads are on their way to
    /// them, fewer than [`MAX_STARTING`] starts are in flight, and the limit allows. A new
    /// thread checks this again first thing (`run_thread`), so starts chain while a backlog
    /// lasts, a few at a time, off the submitting thread.
    /// `taking`: jobs the calling thread is about to take itself.
    fn needs_thread(&self, state: &PoolState, taking: usize) -> bool {
        let on_the_way = state.starting + (state.idle - state.notified) + taking;
        !state.shutdown
            && state.queue.len() > on_the_way
            && state.starting < MAX_STARTING
            && state.threads < self.max_threads
    }

    /// Starts a pool thread (counted under the lock, created after it is released). Creating a
    /// thread costs ~45 µs here; made one at a time by the threads themselves, the starts
    /// overlap with the submitting G and with the jobs, instead of the submitter paying for each
    /// (module doc).
    /// On failure the job stays queued for a thread that exists or starts later; the error is
    /// returned for the caller to report.
    fn start_thread(
        &self,
        shared: &Arc<Shared>,
        mut state: MutexGuard<'_, PoolState>,
    ) -> std::io::Result<()> {
        state.threads += 1;
        state.starting += 1;
        drop(state);
        let worker = Arc::clone(shared);
        let spawned = self.hooks.spawn(DEFAULT_BLOCKING_NAME, move || {
            worker.blocking.run_thread(&worker);
        });
        if let Err(err) = spawned {
            let mut state = self.lock();
            state.threads -= 1;
            state.starting -= 1;
            return Err(err);
        }
        Ok(())
    }

    /// A pool thread: runs queued Gs until it has been idle for `keep_alive` or the pool shuts
    /// down.
    fn run_thread(&self, shared: &Arc<Shared>) {
        // Spawns and timers from blocking code belong to this runtime (off its Ps).
        let _serve = context::serve(shared, false);
        POOL.with(|pool| pool.set(self));
        let mut state = self.lock();
        state.starting -= 1;
        // Jobs beyond the one this thread takes next: start another thread first.
        if self.needs_thread(&state, 1) {
            if let Err(err) = self.start_thread(shared, state) {
                // This thread is alive and takes the jobs in turn.
                eprintln!("gort: could not start a blocking thread: {err}");
            }
            state = self.lock();
        }
        loop {
            if let Some(task) = state.queue.pop_front() {
                drop(state);
                /// Ends the job's flight also if its run unwinds (a panicking waker).
                struct Landed<'a>(&'a AtomicUsize);
                impl Drop for Landed<'_> {
                    fn drop(&mut self) {
                        self.0.fetch_sub(1, Ordering::Release);
                    }
                }
                let _landed = Landed(&self.in_flight);
                task.run();
                drop(_landed);
                state = self.lock();
                continue;
            }
            if state.shutdown {
                break;
            }
            state.idle += 1;
            let (next, timeout) = self
                .work
                .wait_timeout(state, self.keep_alive)
                .unwrap_or_else(|e| e.into_inner());
            state = next;
            state.idle -= 1;
            if state.notified > 0 {
                state.notified -= 1;
            } else if timeout.timed_out() && state.queue.is_empty() {
                break;
            }
        }
        // The stop callback is user code: never under the lock. At shutdown it runs before the
        // thread stops counting, so that a shutdown that waited for the pool's threads returns
        // after their callbacks; otherwise after, since a job queued meanwhile must see the
        // thread gone to start another one.
        let shutting_down = state.shutdown;
        if shutting_down {
            drop(state);
            self.hooks.stopping();
            state = self.lock();
        }
        state.threads -= 1;
        drop(state);
        self.exited.notify_all();
        if !shutting_down {
            self.hooks.stopping();
        }
    }

    /// Stops the pool: queued Gs that no thread is on its way to are dropped, idle threads
    /// exit, and this waits until every thread has exited or `deadline` passes (forever with
    /// `None`).
    ///
    /// A job a thread was started or woken for counts as started, as in tokio: it runs and its
    /// handle gets the value (`spawn_blocking` just before a shutdown still returns). Jobs left
    /// waiting for a busy thread are cancelled.
    pub(crate) fn shutdown(&self, deadline: Option<Instant>) {
        let queued = {
            let mut state = self.lock();
            state.shutdown = true;
            let handed = (state.starting + state.notified).min(state.queue.len());
            state.queue.split_off(handed)
        };
        self.in_flight.fetch_sub(queued.len(), Ordering::Release);
        self.work.notify_all();
        // Outside the lock: dropping a G drops its closure, which runs user code.
        drop(queued);
        let own = usize::from(POOL.with(|pool| std::ptr::eq(pool.get(), self)));
        let mut state = self.lock();
        while state.threads > own {
            state = match deadline {
                None => self.exited.wait(state).unwrap_or_else(|e| e.into_inner()),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        break;
                    }
                    self.exited
                        .wait_timeout(state, deadline - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
    }

    /// Live pool threads (for tests and diagnostics).
    pub(crate) fn threads(&self) -> usize {
        self.lock().threads
    }
}

/// The future of a blocking G: calls the closure on its first poll, as blocking code that
/// may itself `block_on` (it is not "inside a task" for that check).
pub(crate) struct BlockingTask<F> {
    func: Option<F>,
    /// The pool's count of blocking Gs alive, which this one leaves when dropped.
    alive: Arc<AtomicUsize>,
}

impl<F> Drop for BlockingTask<F> {
    fn drop(&mut self) {
        self.alive.fetch_sub(1, Ordering::Relaxed);
    }
}

// The closure is never pinned: it is moved out and called.
impl<F> Unpin for BlockingTask<F> {}

impl<F: FnOnce() -> T, T> Future for BlockingTask<F> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<T> {
        let func = self
            .func
            .take()
            .expect("a blocking task is polled once: it completes on its first poll");
        context::set_current_g_state(GState::Syscall);
        // Blocking code, not a poll: no coop budget is in force (the G's poll set one), so the
        // `blocking_*` channel calls, which refuse to block inside a budgeted poll, work here,
        // as in tokio.
        Poll::Ready(gort_context::with_unconstrained(|| {
            context::outside_g(func)
        }))
    }
}
