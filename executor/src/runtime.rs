//! `Runtime`, `Builder` and `Handle`, and the process-wide default runtime.
//!
//! Like Go's, gort's runtime is there whether or not the program asked for one: the first
//! `spawn` (or `block_on`) on a thread that serves no runtime starts a default runtime with
//! `GORT_MAXPROCS` Ps, which lives until the process exits. `#[gort::main]` builds its runtime
//! explicitly, installs it as the default (so plain threads spawn onto it too), and shuts it down
//! when main returns. A `Runtime` value owns its runtime: dropping it shuts it down, dropping every
//! G's future and joining its threads.

use std::future::Future;
use std::io;
use std::panic::Location;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::block_on;
use crate::blocking::BlockingPool;
use crate::context;
use crate::join::JoinHandle;
use crate::maxprocs;
use crate::shared::{Shared, ThreadLimits};
use gort_reactor::Reactor;
use gort_timer::Timers;

/// Default for `Builder::max_threads` (Go's `debug.SetMaxThreads` default).
const DEFAULT_MAX_THREADS: usize = 10_000;

/// Configures and builds a [`Runtime`] (tokio's `runtime::Builder`).
#[derive(Debug, Clone)]
pub struct Builder {
    /// Number of Ps; `None` means `GORT_MAXPROCS` or the available parallelism.
    worker_threads: Option<usize>,
    /// Name of the runtime's M threads.
    thread_name: String,
    /// Whether the clock starts paused (`start_paused`).
    start_paused: bool,
    /// Most threads the blocking pool runs at once.
    max_blocking_threads: usize,
    /// How long an idle thread (blocking pool, or an M beyond the Ps') waits for work before
    /// exiting.
    thread_keep_alive: Duration,
    /// Most scheduler threads (Ms) alive at once.
    max_threads: usize,
}

impl Builder {
    /// A builder with the defaults: `GORT_MAXPROCS` Ps, threads named `gort-m`.
    pub fn new() -> Builder {
        Builder {
            worker_threads: None,
            thread_name: "gort-m".to_owned(),
            start_paused: false,
            max_blocking_threads: crate::blocking::DEFAULT_MAX_THREADS,
            thread_keep_alive: crate::blocking::DEFAULT_KEEP_ALIVE,
            max_threads: DEFAULT_MAX_THREADS,
        }
    }

    /// Same as [`Builder::new`]; tokio's name, for porting.
    pub fn new_multi_thread() -> Builder {
        Builder::new()
    }

    /// Sets the number of Ps (logical processors): at most this many threads run Gs at once.
    /// Panics if `procs` is 0.
    #[track_caller]
    pub fn worker_threads(&mut self, procs: usize) -> &mut Builder {
        assert!(procs > 0, "worker_threads must be at least 1");
        self.worker_threads = Some(procs);
        self
    }

    /// Sets the name of the runtime's threads.
    pub fn thread_name(&mut self, name: impl Into<String>) -> &mut Builder {
        self.thread_name = name.into();
        self
    }

    /// Accepted for tokio compatibility and does nothing: gort has no optional drivers to enable.
    pub fn enable_all(&mut self) -> &mut Builder {
        self
    }

    /// Most threads `spawn_blocking` runs at once (default 512, as tokio); further jobs queue
    /// until one finishes.
    ///
    /// # Panics
    ///
    /// If `threads` is 0.
    #[track_caller]
    pub fn max_blocking_threads(&mut self, threads: usize) -> &mut Builder {
        assert!(threads > 0, "max_blocking_threads cannot be set to 0");
        self.max_blocking_threads = threads;
        self
    }

    /// How long an idle thread waits for work before it exits (default 10 s, as tokio): a
    /// blocking-pool thread, or a scheduler thread (M) beyond the `worker_threads` that are
    /// always kept (Ms that blocked in `block_in_place` or got stuck in a poll had their P handed
    /// to new ones, so a burst of blocking calls leaves extra Ms behind).
    pub fn thread_keep_alive(&mut self, keep_alive: Duration) -> &mut Builder {
        self.thread_keep_alive = keep_alive;
        self
    }

    /// Most scheduler threads (Ms) the runtime has alive at once (default 10,000, Go's
    /// `debug.SetMaxThreads`): the threads running Gs, those inside `block_in_place`, and those
    /// stuck in a poll. The blocking pool (`max_blocking_threads`), sysmon and threads inside
    /// `block_on` are not counted. At the limit, a P whose M blocks waits for one of the Ms to
    /// come back instead of getting a new thread, and the runtime says so once on stderr
    /// (Go exits with a fatal error there). `build` fails if it is below `worker_threads`.
    ///
    /// # Panics
    ///
    /// If `threads` is 0.
    #[track_caller]
    pub fn max_threads(&mut self, threads: usize) -> &mut Builder {
        assert!(threads > 0, "max_threads cannot be set to 0");
        self.max_threads = threads;
        self
    }

    /// Starts the runtime's clock paused (tokio's `start_paused`): `time::Instant::now()` stands
    /// still, and whenever every task is idle the clock jumps to the next timer, so tests of
    /// timeouts run without waiting. `time::resume()` lets it run.
    pub fn start_paused(&mut self, paused: bool) -> &mut Builder {
        self.start_paused = paused;
        self
    }

    /// Builds the runtime with `orphan_timers` as its set for timers armed off its Ps (for the
    /// default runtime: the set plain threads already use, so that a clock paused before it
    /// started is its clock). A set whose driver serves another runtime (a default runtime that
    /// shut down) is replaced by a new one.
    fn build_on(&mut self, orphan_timers: Arc<Timers>) -> io::Result<Runtime> {
        let procs = self.worker_threads.unwrap_or_else(maxprocs::default_procs);
        if self.max_threads < procs {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "gort: max_threads ({}) is below the number of Ps ({procs}): the runtime \
                     could not run all of them at once",
                    self.max_threads
                ),
            ));
        }
        let orphan_timers = if orphan_timers.driver().is_adopted() {
            Arc::new(Timers::new())
        } else {
            orphan_timers
        };
        if self.start_paused {
            orphan_timers.driver().clock.pause();
        }
        let blocking = BlockingPool::new(
            self.max_blocking_threads,
            self.thread_keep_alive,
            format!("{}-blocking", self.thread_name),
        );
        let shared = Shared::new(
            procs,
            self.thread_name.clone(),
            Reactor::new(),
            orphan_timers,
            blocking,
            ThreadLimits {
                max: self.max_threads,
                keep_alive: self.thread_keep_alive,
            },
        );
        Ok(Runtime {
            handle: Handle { shared },
        })
    }

    /// Builds the runtime. Threads start on demand, when the first G becomes runnable.
    pub fn build(&mut self) -> io::Result<Runtime> {
        self.build_on(Arc::new(Timers::new()))
    }
}

impl Default for Builder {
    fn default() -> Builder {
        Builder::new()
    }
}

/// An owned runtime: dropping it shuts it down (every G's future is dropped, threads joined).
#[derive(Debug)]
pub struct Runtime {
    handle: Handle,
}

impl Runtime {
    /// A runtime with the default configuration.
    pub fn new() -> io::Result<Runtime> {
        Builder::new().build()
    }

    /// Runs `future` to completion on this thread, which works as one of the runtime's Ms
    /// meanwhile (DESIGN.md §3). Panics if called from inside a task or another `block_on`.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.handle.block_on(future)
    }

    /// Runs `func` on this runtime's blocking pool (see `task::spawn_blocking`).
    #[track_caller]
    pub fn spawn_blocking<F, T>(&self, func: F) -> JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.handle.spawn_blocking(func)
    }

    /// Spawns `future` onto this runtime.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// A handle to this runtime.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Shuts down, waiting at most `timeout` for threads still inside a poll; those are
    /// detached and drop their P's Gs when the poll returns.
    pub fn shutdown_timeout(self, timeout: Duration) {
        self.handle.shared.shutdown(Some(timeout));
    }

    /// Shuts down without waiting for threads still inside a poll.
    pub fn shutdown_background(self) {
        self.handle.shared.shutdown(Some(Duration::ZERO));
    }

    /// Makes this runtime the process-wide default (the one `gort::spawn` uses on threads that
    /// serve no runtime), unless a default that is still running exists. Returns whether it
    /// became the default. Once this runtime shuts down, the next use starts a fresh default.
    pub fn install_as_default(&self) -> bool {
        let mut default = DEFAULT.write().unwrap_or_else(|e| e.into_inner());
        if default
            .as_ref()
            .is_some_and(|handle| !handle.shared.is_shutdown())
        {
            return false;
        }
        *default = Some(self.handle.clone());
        // Timers armed off any runtime's threads go into the default's P-less set.
        gort_timer::set_default_timers(&self.handle.shared.orphan_timers);
        true
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        // Joining threads from inside a G would stop this M's P (and deadlock if the joined
        // threads wait for it); shut down without waiting instead, as tokio's
        // `shutdown_background`.
        let timeout = context::in_g().then_some(Duration::ZERO);
        self.handle.shared.shutdown(timeout);
    }
}

/// A cloneable reference to a runtime, usable from any thread.
#[derive(Clone)]
pub struct Handle {
    pub(crate) shared: Arc<Shared>,
}

impl Handle {
    /// The runtime this thread serves (inside a G or `block_on`), else the process default
    /// (started on first use).
    pub fn current() -> Handle {
        Handle {
            shared: context::current_shared().unwrap_or_else(default_shared),
        }
    }

    /// Spawns `future` onto this runtime: into the current P's `runnext` when called on one of
    /// its Ms, else into its global queue.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.shared.spawn(future, Location::caller(), None, None)
    }

    /// Runs `future` to completion on this thread, working as one of this runtime's Ms.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        block_on::block_on(&self.shared, future)
    }

    /// Runs `func` on this runtime's blocking pool (see `task::spawn_blocking`).
    #[track_caller]
    pub fn spawn_blocking<F, T>(&self, func: F) -> JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.shared.spawn_blocking(func, Location::caller())
    }

    /// Ps sysmon retook from Ms that stayed in `block_in_place` (for tests and diagnostics).
    #[doc(hidden)]
    pub fn retaken_ps(&self) -> usize {
        self.shared
            .retakes
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Polls sysmon found stuck for 10 ms and whose P's queue it moved to another thread, in
    /// total and (with `at`) for Gs spawned at one location (for tests and diagnostics).
    #[doc(hidden)]
    pub fn blocked_polls(&self, at: Option<&'static std::panic::Location<'static>>) -> usize {
        match at {
            None => self.shared.blocked_polls.total(),
            Some(location) => self.shared.blocked_polls.at(location) as usize,
        }
    }

    /// Live threads of the blocking pool (for tests and diagnostics).
    #[doc(hidden)]
    pub fn blocking_threads(&self) -> usize {
        self.shared.blocking.threads()
    }

    /// The runtime's netpoller: what the IO types above the executor (`gort-net`) register
    /// their fds with, so that this runtime's Ms drive them.
    #[doc(hidden)]
    pub fn reactor(&self) -> &Arc<Reactor> {
        &self.shared.reactor
    }

    /// Number of live Gs on this runtime.
    pub fn num_goroutine(&self) -> usize {
        self.shared.num_goroutine()
    }

    /// Number of Ps of this runtime.
    pub fn gomaxprocs(&self) -> usize {
        self.shared.procs
    }

    /// Records in this runtime's timer heaps, cancelled ones not yet cleaned included (for tests
    /// and diagnostics: cancelled timers must not pile up).
    #[doc(hidden)]
    pub fn timer_heap_records(&self) -> usize {
        self.shared.timer_heap_records()
    }
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle")
            .field("procs", &self.shared.procs)
            .finish()
    }
}

/// The process-wide default runtime: started on first use, or installed by `#[gort::main]`.
/// A default that has been shut down (main returned) is replaced on the next use.
static DEFAULT: RwLock<Option<Handle>> = RwLock::new(None);

/// The default runtime's state, started on first use with the default configuration.
pub(crate) fn default_shared() -> Arc<Shared> {
    let running = |default: &Option<Handle>| {
        default
            .as_ref()
            .filter(|handle| !handle.shared.is_shutdown())
            .map(|h| h.shared.clone())
    };
    if let Some(shared) = running(&DEFAULT.read().unwrap_or_else(|e| e.into_inner())) {
        return shared;
    }
    let mut default = DEFAULT.write().unwrap_or_else(|e| e.into_inner());
    if let Some(shared) = running(&default) {
        return shared;
    }
    let runtime = Builder::new()
        .build_on(gort_timer::default_timers())
        .expect("gort: cannot start the default runtime");
    let shared = runtime.handle.shared.clone();
    gort_timer::set_default_timers(&shared.orphan_timers);
    *default = Some(runtime.handle.clone());
    // The default runtime lives as long as the process, as Go's does.
    std::mem::forget(runtime);
    shared
}

/// Number of live Gs on the current runtime (Go's `runtime.NumGoroutine`, without main).
pub fn num_goroutine() -> usize {
    Handle::current().num_goroutine()
}

/// Number of Ps on the current runtime (Go's `runtime.GOMAXPROCS(0)`).
pub fn gomaxprocs() -> usize {
    Handle::current().gomaxprocs()
}

/// What `#[gort::main]` expands to: builds a runtime (with `worker_threads` Ps if given, its
/// clock paused if `start_paused`), installs it as the process default, runs `future` on it, and
/// shuts it down before returning. A panic in `future` propagates after the shutdown.
#[doc(hidden)]
#[track_caller]
pub fn run_main<F: Future>(
    worker_threads: Option<usize>,
    start_paused: bool,
    future: F,
) -> F::Output {
    let runtime = build_for_entry(worker_threads, start_paused);
    runtime.install_as_default();
    runtime.block_on(future)
}

/// What `#[gort::test]` expands to: a fresh runtime per test (with `worker_threads` Ps if given,
/// its clock paused if `start_paused`), shut down when the test ends.
#[doc(hidden)]
#[track_caller]
pub fn run_test<F: Future>(
    worker_threads: Option<usize>,
    start_paused: bool,
    future: F,
) -> F::Output {
    build_for_entry(worker_threads, start_paused).block_on(future)
}

/// The runtime behind `run_main` and `run_test`: the builder's defaults, overridden only by the
/// options the attribute was given. Panics rather than returning an error, because the expanded
/// function has no caller that could handle it.
#[track_caller]
fn build_for_entry(worker_threads: Option<usize>, start_paused: bool) -> Runtime {
    let mut builder = Builder::new();
    if let Some(procs) = worker_threads {
        builder.worker_threads(procs);
    }
    if start_paused {
        builder.start_paused(true);
    }
    builder.build().expect("gort: cannot start the runtime")
}
