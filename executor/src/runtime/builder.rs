//! `Builder`: configuring and building a [`Runtime`] (tokio's `runtime::Builder`).

use std::io;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use super::hooks::ThreadHooks;
use super::{Handle, LocalOptions, LocalRuntime, Runtime, RuntimeFlavor};
use crate::blocking::BlockingPool;
use crate::maxprocs;
use crate::shared::{SchedConfig, Shared, ThreadLimits};
use gort_reactor::Reactor;
use gort_timer::Timers;

/// Default for `Builder::max_threads` (Go's `debug.SetMaxThreads` default).
const DEFAULT_MAX_THREADS: usize = 10_000;

/// Default for `Builder::global_queue_interval`: Go's 61, a prime that does not resonate with
/// common patterns (`worker.rs`).
pub(crate) const DEFAULT_GLOBAL_QUEUE_INTERVAL: u32 = 61;

/// Default `event_interval` of a current-thread runtime (tokio's). A multi-thread runtime polls
/// the network whenever an M runs out of local work and sysmon does when nobody has for 10 ms,
/// so it has none unless one is set; a current-thread runtime has no sysmon (its P must never
/// move to another thread), so its `block_on` thread polls every 61 ticks instead, or a busy
/// queue would starve IO.
const CURRENT_THREAD_EVENT_INTERVAL: u32 = 61;

/// Configures and builds a [`Runtime`] (tokio's `runtime::Builder`).
///
/// ```
/// let runtime = gort_executor::runtime::Builder::new_multi_thread()
///     .worker_threads(2)
///     .thread_name("my-pool")
///     .enable_all()
///     .build()
///     .unwrap();
/// assert_eq!(runtime.block_on(async { 6 * 7 }), 42);
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    /// Which scheduler `build` makes.
    flavor: RuntimeFlavor,
    /// Number of Ps; `None` means `GORT_MAXPROCS` or the available parallelism. Ignored by a
    /// current-thread runtime, which has one.
    worker_threads: Option<usize>,
    /// Names, stack size and callbacks of the runtime's threads.
    threads: ThreadHooks,
    /// The runtime's name (`Handle::name`).
    name: Option<String>,
    /// Whether the clock starts paused (`start_paused`).
    start_paused: bool,
    /// Most threads the blocking pool runs at once.
    max_blocking_threads: usize,
    /// How long an idle thread (blocking pool, or an M beyond the Ps') waits for work before
    /// exiting.
    thread_keep_alive: Duration,
    /// Most scheduler threads (Ms) alive at once.
    max_threads: usize,
    /// Ticks between an M's looks at the global queue ahead of its own.
    global_queue_interval: Option<u32>,
    /// Ticks between an M's non-blocking polls of the netpoller while it has work.
    event_interval: Option<u32>,
    /// Most events one poll of the netpoller takes from the kernel.
    io_events_per_tick: NonZeroUsize,
    /// Most events a poll that does not wait takes; `None`: `io_events_per_tick`.
    io_events_per_busy_tick: Option<NonZeroUsize>,
}

impl Builder {
    /// A multi-thread builder with the defaults: `GORT_MAXPROCS` Ps, threads named `gort-m`
    /// (gort's name for [`Builder::new_multi_thread`]).
    pub fn new() -> Builder {
        Builder::with_flavor(RuntimeFlavor::MultiThread)
    }

    /// A builder for a multi-thread runtime: `worker_threads` Ps (default `GORT_MAXPROCS`, or
    /// the available parallelism), run by threads the runtime starts on demand.
    pub fn new_multi_thread() -> Builder {
        Builder::new()
    }

    /// A builder for a current-thread runtime: one P, whose only M is the thread inside
    /// `block_on`. Spawned tasks run only while some thread blocks on the runtime, on that
    /// thread; between `block_on` calls nothing runs, and timers and sockets of the runtime are
    /// driven by the thread inside `block_on` alone. `block_on` may be called from several
    /// threads, also at once: one of them runs the tasks at a time, the others wait for their
    /// future. The blocking pool (`spawn_blocking`) still has threads of its own;
    /// `task::block_in_place` panics on such a runtime, as tokio's does.
    pub fn new_current_thread() -> Builder {
        Builder::with_flavor(RuntimeFlavor::CurrentThread)
    }

    fn with_flavor(flavor: RuntimeFlavor) -> Builder {
        Builder {
            flavor,
            worker_threads: None,
            threads: ThreadHooks::default(),
            name: None,
            start_paused: false,
            max_blocking_threads: crate::blocking::DEFAULT_MAX_THREADS,
            thread_keep_alive: crate::blocking::DEFAULT_KEEP_ALIVE,
            max_threads: DEFAULT_MAX_THREADS,
            global_queue_interval: None,
            event_interval: None,
            io_events_per_tick: gort_reactor::EVENTS_PER_POLL,
            io_events_per_busy_tick: None,
        }
    }

    /// Sets the number of Ps (logical processors) of a multi-thread runtime: at most this many
    /// threads run tasks at once. A current-thread runtime ignores it.
    ///
    /// # Panics
    ///
    /// If `procs` is 0.
    #[track_caller]
    pub fn worker_threads(&mut self, procs: usize) -> &mut Builder {
        assert!(procs > 0, "worker_threads must be at least 1");
        self.worker_threads = Some(procs);
        self
    }

    /// Names every thread the runtime starts `name` (its Ms and its blocking-pool threads;
    /// gort's defaults are `gort-m` and `gort-blocking`).
    pub fn thread_name(&mut self, name: impl Into<String>) -> &mut Builder {
        let name = name.into();
        self.threads.name = Some(Arc::new(move || name.clone()));
        self
    }

    /// Names each new thread the runtime starts with what `name` returns then.
    pub fn thread_name_fn<F>(&mut self, name: F) -> &mut Builder
    where
        F: Fn() -> String + Send + Sync + 'static,
    {
        self.threads.name = Some(Arc::new(name));
        self
    }

    /// Sets the stack size, in bytes, of the threads the runtime starts (std's default, 2 MiB,
    /// otherwise; the platform may round it up).
    pub fn thread_stack_size(&mut self, bytes: usize) -> &mut Builder {
        self.threads.stack_size = Some(bytes);
        self
    }

    /// Runs `f` on each thread the runtime starts, before it does any work.
    pub fn on_thread_start<F>(&mut self, f: F) -> &mut Builder
    where
        F: Fn() + Send + Sync + 'static,
    {
        self.threads.on_start = Some(Arc::new(f));
        self
    }

    /// Runs `f` on each thread the runtime started, just before it exits.
    pub fn on_thread_stop<F>(&mut self, f: F) -> &mut Builder
    where
        F: Fn() + Send + Sync + 'static,
    {
        self.threads.on_stop = Some(Arc::new(f));
        self
    }

    /// Runs `f` on a scheduler thread just before it goes idle: an M parking or blocking in the
    /// netpoller for want of work, or the thread inside `block_on` waiting for its future. `f`
    /// may spawn, which can end the wait at once. Replaces an earlier callback.
    pub fn on_thread_park<F>(&mut self, f: F) -> &mut Builder
    where
        F: Fn() + Send + Sync + 'static,
    {
        self.threads.on_park = Some(Arc::new(f));
        self
    }

    /// Runs `f` on a scheduler thread just after it comes back from such a wait. Replaces an
    /// earlier callback.
    pub fn on_thread_unpark<F>(&mut self, f: F) -> &mut Builder
    where
        F: Fn() + Send + Sync + 'static,
    {
        self.threads.on_unpark = Some(Arc::new(f));
        self
    }

    /// Names the runtime (`Handle::name`).
    ///
    /// # Panics
    ///
    /// If `name` is empty or only whitespace.
    #[track_caller]
    pub fn name(&mut self, name: impl Into<String>) -> &mut Builder {
        let name = name.into();
        assert!(!name.trim().is_empty(), "runtime name shouldn't be empty");
        self.name = Some(name);
        self
    }

    /// Accepted for tokio compatibility: every gort runtime has its netpoller and its timers, so
    /// there is nothing to enable.
    pub fn enable_all(&mut self) -> &mut Builder {
        self
    }

    /// Accepted for tokio compatibility: every gort runtime has its netpoller.
    pub fn enable_io(&mut self) -> &mut Builder {
        self
    }

    /// Accepted for tokio compatibility: every gort runtime has its timers.
    pub fn enable_time(&mut self) -> &mut Builder {
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

    /// Every `ticks` scheduling rounds (a round is one poll of a task that did not inherit the
    /// time slice of the one before), an M takes work from the global queue before its own P's
    /// queue, so that tasks woken from outside the runtime cannot starve behind a busy local
    /// queue. Default 61, Go's. Smaller is fairer to remote work, larger favours the local
    /// queue.
    ///
    /// # Panics
    ///
    /// If `ticks` is 0.
    #[track_caller]
    pub fn global_queue_interval(&mut self, ticks: u32) -> &mut Builder {
        assert!(ticks > 0, "global_queue_interval must be greater than 0");
        self.global_queue_interval = Some(ticks);
        self
    }

    /// Every `ticks` scheduling rounds, an M that still has work polls the netpoller without
    /// blocking, so that IO readiness is picked up while the run queue stays busy. Default:
    /// 61 on a current-thread runtime (tokio's); none on a multi-thread runtime, whose Ms poll
    /// whenever they run out of local work and whose sysmon polls when nobody has for 10 ms.
    /// Timers are checked every round regardless.
    ///
    /// # Panics
    ///
    /// If `ticks` is 0.
    #[track_caller]
    pub fn event_interval(&mut self, ticks: u32) -> &mut Builder {
        assert!(ticks > 0, "event_interval must be greater than 0");
        self.event_interval = Some(ticks);
        self
    }

    /// Sets the most IO events one poll of the netpoller takes from the kernel (1024 by
    /// default, as tokio's); events beyond it stay queued in the kernel for the next poll.
    ///
    /// # Panics
    ///
    /// If `capacity` is 0.
    #[track_caller]
    pub fn max_io_events_per_tick(&mut self, capacity: usize) -> &mut Builder {
        self.io_events_per_tick =
            NonZeroUsize::new(capacity).expect("max_io_events_per_tick must be non-zero");
        self
    }

    /// Sets the most IO events a poll that does not wait takes: that of an M that still has
    /// Gs to run (every `event_interval` ticks, or when its local work ran out but others'
    /// have not), whose run queue the Gs those events wake join. A small batch leaves the rest
    /// in the kernel rather than overflowing the queue; a poll that waits still takes up to
    /// [`Builder::max_io_events_per_tick`]. Default: the same as that.
    ///
    /// # Panics
    ///
    /// If `capacity` is 0.
    #[track_caller]
    pub fn max_io_events_per_busy_tick(&mut self, capacity: usize) -> &mut Builder {
        self.io_events_per_busy_tick = Some(
            NonZeroUsize::new(capacity).expect("max_io_events_per_busy_tick must be non-zero"),
        );
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
    pub(super) fn build_on(&mut self, orphan_timers: Arc<Timers>) -> io::Result<Runtime> {
        let procs = match self.flavor {
            RuntimeFlavor::CurrentThread => 1,
            RuntimeFlavor::MultiThread => {
                self.worker_threads.unwrap_or_else(maxprocs::default_procs)
            }
        };
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
            self.threads.clone(),
        );
        let event_interval = match self.flavor {
            RuntimeFlavor::CurrentThread => {
                self.event_interval.or(Some(CURRENT_THREAD_EVENT_INTERVAL))
            }
            RuntimeFlavor::MultiThread => self.event_interval,
        };
        let shared = Shared::new(
            procs,
            Reactor::with_events_per_poll(self.io_events_per_tick, self.io_events_per_busy_tick),
            orphan_timers,
            blocking,
            ThreadLimits {
                max: self.max_threads,
                keep_alive: self.thread_keep_alive,
            },
            SchedConfig {
                flavor: self.flavor,
                global_queue_interval: self
                    .global_queue_interval
                    .unwrap_or(DEFAULT_GLOBAL_QUEUE_INTERVAL),
                event_interval,
                hooks: self.threads.clone(),
                name: self.name.clone(),
            },
        );
        Ok(Runtime::from_handle(Handle { shared }))
    }

    /// Builds the runtime. Threads start on demand, when the first G becomes runnable (a
    /// current-thread runtime never starts any but its blocking pool's).
    pub fn build(&mut self) -> io::Result<Runtime> {
        self.build_on(Arc::new(Timers::new()))
    }

    /// Builds a [`LocalRuntime`]: a current-thread runtime bound to this thread, which also runs
    /// tasks that are not `Send`.
    ///
    /// # Panics
    ///
    /// If this builder is for a multi-thread runtime.
    #[track_caller]
    pub fn build_local(&mut self, options: LocalOptions) -> io::Result<LocalRuntime> {
        let LocalOptions { .. } = options;
        assert!(
            self.flavor == RuntimeFlavor::CurrentThread,
            "multi_thread is not supported for LocalRuntime"
        );
        Ok(LocalRuntime::from_runtime(self.build()?))
    }
}

impl Default for Builder {
    fn default() -> Builder {
        Builder::new()
    }
}
