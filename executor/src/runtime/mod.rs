//! `gort::runtime`: `Runtime`, `Builder`, `Handle` (tokio's names), and the process-wide
//! default runtime.
//!
//! Like Go's, gort's runtime is there whether or not the program asked for one: the first
//! `spawn` (or `block_on`) on a thread that serves no runtime starts a default runtime with
//! `GORT_MAXPROCS` Ps, which lives until the process exits. `#[gort::main]` builds its runtime
//! explicitly, installs it as the default (so plain threads spawn onto it too), and shuts it down
//! when main returns. A `Runtime` value owns its runtime: dropping it shuts it down, dropping every
//! G's future and joining its threads.
//!
//! # Two flavors, one scheduler
//!
//! tokio has two schedulers. gort has one, the G/M/P scheduler, and the current-thread flavor is
//! a configuration of it: one P, no spare P, no sysmon, and no M threads at all, so the only M
//! the P ever has is a thread inside `block_on`. What makes that hold is in the few places that
//! would otherwise hand the P to a thread of the runtime's own:
//!
//! - `wakep`, where a multi-thread runtime starts a spinning M for new work, instead wakes the
//!   threads inside `block_on` (`Shared::nudge_mains`): one of them takes the idle P and runs
//!   the work; with none inside, the work waits for the next `block_on`, as tokio's does;
//! - a `block_on` thread leaving with queued Gs puts the P back on the idle list with them
//!   (`handoff_p`) instead of starting an M for it, and wakes any other `block_on` thread;
//! - nobody replaces the netpoller thread (`ensure_poller`): the thread inside `block_on`
//!   polls, while it waits and every `event_interval` ticks while it runs Gs;
//! - sysmon is never started, so it neither rescues a stuck P onto another thread nor polls the
//!   network; and `block_in_place`, which would need another thread to take the P, panics.
//!
//! The rest (run queue, `runnext`, timers on the P, the global queue for wakes from other
//! threads, the blocking pool) is the multi-thread runtime's code path.

mod builder;
mod flavor;
mod handle;
pub(crate) mod hooks;
mod local_runtime;
mod metrics;
mod owned;

use std::future::Future;
use std::sync::{Arc, RwLock};

use crate::shared::Shared;

pub use builder::Builder;
pub(crate) use builder::DEFAULT_GLOBAL_QUEUE_INTERVAL;
pub use flavor::{Id, RuntimeFlavor};
pub use handle::{EnterGuard, Handle, TryCurrentError};
pub use local_runtime::{LocalOptions, LocalRuntime};
pub use metrics::RuntimeMetrics;
pub(crate) use metrics::WorkerStats;
pub use owned::Runtime;

/// The index of the worker (P) this thread runs tasks with, if it holds a P of the runtime it
/// serves: in `0..num_workers()`, as `RuntimeMetrics` numbers them. `None` on a thread that
/// holds no P (a plain thread, a blocking-pool thread, a `block_on` thread waiting while every P
/// is busy or, on a current-thread runtime, while another `block_on` thread has the P). Unlike
/// tokio, a thread inside a multi-thread runtime's `block_on` is a worker while it holds a P:
/// it runs Gs then. The answer may change at every `.await`.
pub fn worker_index() -> Option<usize> {
    crate::context::worker_index()
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
    let shared = runtime.handle().shared.clone();
    gort_timer::set_default_timers(&shared.orphan_timers);
    *default = Some(runtime.handle().clone());
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

/// Whether `err` is what IO fails with because the runtime the IO object is registered with has
/// shut down (tokio's `runtime::is_rt_shutdown_err`), as opposed to an error of the IO itself.
pub fn is_rt_shutdown_err(err: &std::io::Error) -> bool {
    gort_reactor::poll_desc::is_shut_down_error(err)
}

/// The error [`is_rt_shutdown_err`] recognises, for IO refused because its runtime shut down
/// (gort-fs's stdio). Not part of tokio's public API.
#[doc(hidden)]
pub fn rt_shutdown_err() -> std::io::Error {
    gort_reactor::poll_desc::shut_down_error()
}

/// The runtime flavor `#[gort::main]`/`#[gort::test]` asked for (`flavor = "..."`).
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryFlavor {
    /// [`Builder::new_current_thread`]: the default of `#[gort::test]`.
    CurrentThread,
    /// [`Builder::new_multi_thread`]: the default of `#[gort::main]`.
    MultiThread,
    /// A [`LocalRuntime`]: current-thread, with a `LocalSet` its `block_on` always drives, so
    /// the body may `spawn_local` `!Send` futures.
    Local,
}

/// What `#[gort::main]` expands to: builds a runtime of `flavor` (with `worker_threads` Ps if
/// given, its clock paused if `start_paused`), installs it as the process default, runs
/// `future` on it, and shuts it down before returning. A panic in `future` propagates after
/// the shutdown.
#[doc(hidden)]
#[track_caller]
pub fn run_main<F: Future>(
    flavor: EntryFlavor,
    worker_threads: Option<usize>,
    start_paused: bool,
    future: F,
) -> F::Output {
    run_entry(
        Entry::Main,
        flavor,
        worker_threads,
        start_paused,
        None,
        future,
    )
}

/// [`run_main`] of a `#[gort::main(name = "...")]`: the same, on a runtime named `name`.
#[doc(hidden)]
#[track_caller]
pub fn run_main_named<F: Future>(
    flavor: EntryFlavor,
    worker_threads: Option<usize>,
    start_paused: bool,
    name: &str,
    future: F,
) -> F::Output {
    run_entry(
        Entry::Main,
        flavor,
        worker_threads,
        start_paused,
        Some(name),
        future,
    )
}

/// What `#[gort::test]` expands to: a fresh runtime of `flavor` per test (with `worker_threads`
/// Ps if given, its clock paused if `start_paused`), shut down when the test ends.
#[doc(hidden)]
#[track_caller]
pub fn run_test<F: Future>(
    flavor: EntryFlavor,
    worker_threads: Option<usize>,
    start_paused: bool,
    future: F,
) -> F::Output {
    run_entry(
        Entry::Test,
        flavor,
        worker_threads,
        start_paused,
        None,
        future,
    )
}

/// [`run_test`] of a `#[gort::test(name = "...")]`: the same, on a runtime named `name`.
#[doc(hidden)]
#[track_caller]
pub fn run_test_named<F: Future>(
    flavor: EntryFlavor,
    worker_threads: Option<usize>,
    start_paused: bool,
    name: &str,
    future: F,
) -> F::Output {
    run_entry(
        Entry::Test,
        flavor,
        worker_threads,
        start_paused,
        Some(name),
        future,
    )
}

/// The entry functions' body: builds the runtime, makes it the process default for a main
/// (`#[gort::main]`; a test's runtime is its own), and runs `future` on it.
#[track_caller]
fn run_entry<F: Future>(
    entry: Entry,
    flavor: EntryFlavor,
    worker_threads: Option<usize>,
    start_paused: bool,
    name: Option<&str>,
    future: F,
) -> F::Output {
    let mut builder = builder_for_entry(flavor, worker_threads, start_paused, name);
    if flavor == EntryFlavor::Local {
        let runtime = build_local(&mut builder);
        if entry == Entry::Main {
            runtime.install_as_default();
        }
        return runtime.block_on(future);
    }
    let runtime = build(&mut builder);
    if entry == Entry::Main {
        runtime.install_as_default();
    }
    runtime.block_on(future)
}

/// Which attribute an entry function serves.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Entry {
    Main,
    Test,
}

/// The builder behind the entry functions: the flavor's builder with its defaults, overridden
/// only by the options the attribute was given.
fn builder_for_entry(
    flavor: EntryFlavor,
    worker_threads: Option<usize>,
    start_paused: bool,
    name: Option<&str>,
) -> Builder {
    let mut builder = match flavor {
        EntryFlavor::CurrentThread | EntryFlavor::Local => Builder::new_current_thread(),
        EntryFlavor::MultiThread => Builder::new_multi_thread(),
    };
    if let Some(procs) = worker_threads {
        builder.worker_threads(procs);
    }
    if start_paused {
        builder.start_paused(true);
    }
    if let Some(name) = name {
        builder.name(name);
    }
    builder
}

/// Builds the runtime of an entry attribute. Panics rather than returning an error, because the
/// expanded function has no caller that could handle it.
#[track_caller]
fn build(builder: &mut Builder) -> Runtime {
    builder.build().expect("gort: cannot start the runtime")
}

/// [`build`] for `flavor = "local"`: the `LocalRuntime` behind it.
#[track_caller]
fn build_local(builder: &mut Builder) -> LocalRuntime {
    builder
        .build_local(LocalOptions::default())
        .expect("gort: cannot start the runtime")
}
