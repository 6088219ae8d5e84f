//! One interface over the runtimes under comparison, so that every benchmark body is written once
//! and runs unchanged on gort and on tokio.
//!
//! STYLE.md habit 9 asks that each figure be a ratio from one run of the same workload with the
//! same parameters. Writing each body twice (once with `tokio::spawn`, once with `gort::spawn`)
//! invites drift; instead the bodies in `benches/` and `src/bin/workloads.rs` are generic over
//! [`Rt`] and are monomorphised for [`Gort`] and [`Tokio`]. Every method forwards directly to the
//! runtime's own API (the `_detached` ones then drop the handle), so static dispatch leaves no
//! adapter cost in the measured code.
//!
//! The one semantic difference between the two runtimes that the bodies expose is where
//! [`Rt::block_on`] runs its future: tokio runs it on the calling thread *outside* the workers, so
//! a [`Rt::spawn`] there goes to the inject queue (a remote spawn); gort's calling thread becomes
//! one of the runtime's Ms and takes an idle P if there is one, so the same call is usually a
//! local spawn onto that P, as a `go` statement in Go's main goroutine is.
//!
//! Go counterparts of the same workloads live in `go/workloads/main.go`.
//!
//! The channel workloads are generic over [`chan::Chan`] instead, which names a runtime as well
//! as a channel: gort's channels on gort, tokio's `mpsc`, `async-channel` and `flume` on tokio.

/// With the `mimalloc` feature every benchmark binary, gort and tokio alike, allocates with
/// mimalloc. The default (glibc's malloc) serialises frees of memory that another thread
/// allocated on that thread's arena lock, which dominates spawn-heavy workloads once a second P
/// runs tasks the first one spawned: gort's warm spawn-200k costs ~310 ns/task on 2 Ps with
/// glibc and ~105 with mimalloc. `run.py --alloc mimalloc` shows the allocator-equalised table.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod chan;

use std::fmt::Debug;
use std::future::Future;
use std::time::{Duration, Instant};

/// Number of worker threads (Ps for gort, workers for tokio) every benchmark uses, and the
/// `GOMAXPROCS` the Go programs run with. tokio's own suite uses 4; the benchmark machine has 2
/// cores, and more workers than cores would measure the OS scheduler instead of ours.
pub const NUM_WORKERS: usize = 2;

/// A multi-threaded runtime as the benchmarks use it.
pub trait Rt: Sized + 'static {
    /// Name used in benchmark ids and in `RESULT` lines: `gort` or `tokio`.
    const NAME: &'static str;

    /// Handle returned by the spawn methods; awaiting it yields the task's output.
    type JoinHandle<T: Send + 'static>: Future<Output = Result<T, Self::JoinError>> + Send + 'static;

    /// Error a [`Rt::JoinHandle`] yields when the task panicked or was cancelled.
    type JoinError: Debug;

    /// Builds a runtime with `workers` worker threads (tokio: also with IO and time drivers, as
    /// tokio's own benches and `#[tokio::main]` do).
    fn with_workers(workers: usize) -> Self;

    /// Runs `fut` to completion on the calling thread.
    fn block_on<F: Future>(&self, fut: F) -> F::Output;

    /// Spawns `fut` from outside the runtime (tokio's `rt.spawn` / `handle.spawn`).
    fn spawn_remote<F>(&self, fut: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// Spawns `fut` on the current runtime; call only from a task or from inside
    /// [`Rt::block_on`] (`tokio::spawn` / `gort::spawn`).
    fn spawn<F>(fut: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// [`Rt::spawn`], dropping the handle: the task runs on, detached, as after
    /// `drop(tokio::spawn(..))` or Go's `go` statement.
    fn spawn_detached<F>(fut: F)
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        drop(Self::spawn(fut));
    }

    /// [`Rt::spawn_remote`], dropping the handle: the task runs on, detached.
    fn spawn_remote_detached<F>(&self, fut: F)
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        drop(self.spawn_remote(fut));
    }

    /// Runs the blocking closure `func` on the current runtime's blocking pool, off the workers
    /// (`tokio::task::spawn_blocking` / `gort::task::spawn_blocking`); call only from a task or
    /// from inside [`Rt::block_on`]. Both pools start threads on demand, at most 512 at once,
    /// and queue the jobs beyond that.
    fn spawn_blocking<F, T>(func: F) -> Self::JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static;

    /// Runs the blocking closure `func` on the current thread, inside the calling task's poll,
    /// after telling the runtime so (`tokio::task::block_in_place` /
    /// `gort::task::block_in_place`); call only from a task (tokio: of a multi-thread runtime).
    /// On a thread that holds a worker, tokio hands the worker's core (its queue and drivers) to
    /// a blocking-pool thread at once and takes it back on return unless that thread has taken
    /// it first; gort only marks the P in-syscall, and its sysmon thread hands the P to another
    /// thread once the call has lasted ~20 µs.
    fn block_in_place<F, T>(func: F) -> T
    where
        F: FnOnce() -> T;

    /// Yields to the scheduler once (`tokio::task::yield_now` / `gort::task::yield_now`).
    fn yield_now() -> impl Future<Output = ()> + Send;

    /// Waits until `duration` has elapsed (`tokio::time::sleep` / `gort::time::sleep`). The
    /// timer is armed on the first poll, not here: tokio's and gort's `Sleep` both do nothing
    /// until polled. Pin it with `std::pin::pin!` to poll it by hand (tokio's is `!Unpin`).
    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send;

    /// Waits until `deadline`, a `std` instant so that one deadline serves both runtimes
    /// (`tokio::time::sleep_until` / `gort::time::sleep_until`, each with its `Instant::from_std`:
    /// neither clock is paused here, so both are the `std` clock).
    fn sleep_until(deadline: Instant) -> impl Future<Output = ()> + Send;
}

/// gort's multi-threaded runtime.
pub struct Gort(gort::runtime::Runtime);

impl Rt for Gort {
    const NAME: &'static str = "gort";

    type JoinHandle<T: Send + 'static> = gort::JoinHandle<T>;

    type JoinError = gort::task::JoinError;

    fn with_workers(workers: usize) -> Self {
        let rt = gort::runtime::Builder::new()
            .worker_threads(workers)
            .build()
            .expect("building the gort runtime");
        Self(rt)
    }

    fn block_on<F: Future>(&self, fut: F) -> F::Output {
        self.0.block_on(fut)
    }

    fn spawn_remote<F>(&self, fut: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.0.spawn(fut)
    }

    fn spawn<F>(fut: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        gort::spawn(fut)
    }

    fn spawn_blocking<F, T>(func: F) -> Self::JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        gort::task::spawn_blocking(func)
    }

    fn block_in_place<F, T>(func: F) -> T
    where
        F: FnOnce() -> T,
    {
        gort::task::block_in_place(func)
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        gort::task::yield_now()
    }

    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send {
        gort::time::sleep(duration)
    }

    fn sleep_until(deadline: Instant) -> impl Future<Output = ()> + Send {
        gort::time::sleep_until(gort::time::Instant::from_std(deadline))
    }
}

/// tokio's multi-threaded runtime.
pub struct Tokio(tokio::runtime::Runtime);

impl Rt for Tokio {
    const NAME: &'static str = "tokio";

    type JoinHandle<T: Send + 'static> = tokio::task::JoinHandle<T>;

    type JoinError = tokio::task::JoinError;

    fn with_workers(workers: usize) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()
            .expect("building the tokio runtime");
        Self(rt)
    }

    fn block_on<F: Future>(&self, fut: F) -> F::Output {
        self.0.block_on(fut)
    }

    fn spawn_remote<F>(&self, fut: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.0.spawn(fut)
    }

    fn spawn<F>(fut: F) -> Self::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        tokio::spawn(fut)
    }

    fn spawn_blocking<F, T>(func: F) -> Self::JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        tokio::task::spawn_blocking(func)
    }

    fn block_in_place<F, T>(func: F) -> T
    where
        F: FnOnce() -> T,
    {
        tokio::task::block_in_place(func)
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        tokio::task::yield_now()
    }

    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send {
        tokio::time::sleep(duration)
    }

    fn sleep_until(deadline: Instant) -> impl Future<Output = ()> + Send {
        tokio::time::sleep_until(tokio::time::Instant::from_std(deadline))
    }
}
