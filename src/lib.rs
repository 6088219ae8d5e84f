//! gort runs Rust futures the way Go runs goroutines.
//!
//! A spawned future is a G; OS threads (Ms) run Gs while holding logical processors (Ps), one per
//! core. Each P has a 256-slot run queue and a `runnext` slot, idle Ps steal half of a busy P's
//! queue, and the thread that calls [`block_on`] works as an M while it waits. The API follows
//! tokio's names, so that porting is a rename:
//!
//! ```
//! #[gort::main]
//! async fn main() {
//!     let handles: Vec<_> = (0..10u64).map(|i| gort::spawn(async move { i * i })).collect();
//!     let mut sum = 0;
//!     for handle in handles {
//!         sum += handle.await.unwrap();
//!     }
//!     assert_eq!(sum, 285);
//!     gort::go!(async { /* runs detached */ });
//! }
//! ```
//!
//! A process-wide runtime starts on first use, so [`spawn`] works from a plain `fn main`, a
//! plain `#[test]`, or any thread. Sockets ([`net`]) park their G on the runtime's netpoller;
//! [`io`] has tokio's IO traits and utilities. See `ARCHITECTURE.md` for how the crates fit together.

pub mod fs;

pub use gort_executor::{block_on, spawn, JoinHandle};
pub use gort_macros::{main, test};
pub use gort_net as net;
pub use gort_process::{process, signal};
pub use gort_sync::{
    traced_chan, Receiver, RecvFuture, SendError, SendFuture, Sender, TryRecvError, TrySendError,
};

pub mod io;
pub mod macros;

/// Synchronisation: Go's `WaitGroup`, and async locks with tokio's names.
pub mod sync {
    pub use gort_sync::primitives::*;
    pub use gort_sync::{broadcast, watch};
    pub use gort_sync::{mpsc, oneshot};
}

/// The GC arena: `Gc<T>`, `Trace` (with `#[derive(Trace)]`), collection, leak detection, stats.
pub mod gc {
    pub use gort_gc::{
        collect, free_os_memory, leaks, reclaim_leaks, stats, Collection, Edge, Gc, GcCell,
        GcCellGuard, GcStats, Leak, Trace, Visitor,
    };
    pub use gort_macros::Trace;
}

/// Tasks: spawning, joining, aborting, ids, task-local storage, yielding, the coop budget.
pub mod task {
    pub use gort_executor::task::{
        block_in_place, coop, futures, id, spawn, spawn_blocking, try_id, yield_now, AbortHandle,
        AccessError, Builder, Id, JoinError, JoinHandle, JoinSet, LocalKey,
    };
    // Where tokio had them before `task::coop` existed.
    #[doc(hidden)]
    pub use gort_executor::task::{consume_budget, unconstrained, Unconstrained};
    pub use gort_executor::task::{spawn_local, LocalEnterGuard, LocalSet};
}

/// Declares task-local keys (tokio's `task_local!`): `task_local! { static ID: u32; }`, then
/// `ID.scope(7, future)` makes 7 visible to `future` as `ID.get()`, across its awaits and
/// whichever thread polls it. See [`task::LocalKey`].
///
/// ```
/// gort::task_local! {
///     static REQUEST: u32;
/// }
///
/// # gort::block_on(async {
/// let seen = REQUEST
///     .scope(7, async {
///         gort::task::yield_now().await;
///         REQUEST.get()
///     })
///     .await;
/// assert_eq!(seen, 7);
/// assert!(REQUEST.try_with(|_| ()).is_err(), "not set outside the scope");
/// # });
/// ```
pub use gort_executor::task_local;

/// Time: sleeps, timeouts, intervals and the test clock (tokio's names, Go's precision).
///
/// Timers live in a 4-ary heap per P and fire from the scheduler and the poller's timed wait,
/// so `sleep(100µs)` wakes within tens of microseconds rather than on a millisecond tick. They
/// work from any thread: off a runtime, they belong to the default runtime (started on first
/// use), like spawns and sockets.
pub mod time {
    use std::future::Future;

    pub use gort_timer::{
        advance, pause, resume, Instant, Interval, MissedTickBehavior, Sleep, Timeout,
    };
    pub use std::time::Duration;

    /// The error of [`timeout`], and tokio's timer error type.
    pub mod error {
        pub use gort_timer::{Elapsed, Error};
    }

    /// On a thread that serves no runtime, makes sure the default runtime exists, so that
    /// someone runs the timers armed here.
    fn ensure_runtime() {
        if !gort_timer::has_current() {
            let _ = gort_executor::runtime::Handle::current();
        }
    }

    /// Waits until `duration` has elapsed. `Duration::ZERO` completes at once.
    pub fn sleep(duration: Duration) -> Sleep {
        ensure_runtime();
        gort_timer::sleep(duration)
    }

    /// Waits until `deadline`.
    pub fn sleep_until(deadline: Instant) -> Sleep {
        ensure_runtime();
        gort_timer::sleep_until(deadline)
    }

    /// Runs `future` for at most `duration`: `Err(Elapsed)` if the deadline passes first.
    pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
        ensure_runtime();
        gort_timer::timeout(duration, future)
    }

    /// [`timeout`] with an absolute deadline.
    pub fn timeout_at<F: Future>(deadline: Instant, future: F) -> Timeout<F> {
        ensure_runtime();
        gort_timer::timeout_at(deadline, future)
    }

    /// Ticks now, then every `period`. Panics if `period` is zero.
    #[track_caller]
    pub fn interval(period: Duration) -> Interval {
        ensure_runtime();
        gort_timer::interval(period)
    }

    /// Ticks at `start`, then every `period`. Panics if `period` is zero.
    #[track_caller]
    pub fn interval_at(start: Instant, period: Duration) -> Interval {
        ensure_runtime();
        gort_timer::interval_at(start, period)
    }

    /// Go's `time.After`: a channel that receives the time it fired, once, after `duration`;
    /// a `select!` case like any receive (`Some(at) = after(d).recv() => ...`).
    ///
    /// The timer sends by itself (no goroutine waits for it), and dropping the receiver cancels
    /// it, as Go 1.23's timers are collected once unreferenced: a `select!` loop with an
    /// abandoned `after(1h)` case leaves nothing behind.
    pub fn after(duration: Duration) -> crate::Receiver<Instant> {
        ensure_runtime();
        gort_sync::after(duration)
    }
}

/// The runtime: building one, handles to it, and scheduler facts.
pub mod runtime {
    pub use gort_executor::runtime::{
        gomaxprocs, is_rt_shutdown_err, num_goroutine, Builder, Handle, Runtime,
    };
    pub use gort_executor::runtime::{
        worker_index, EnterGuard, Id, LocalOptions, LocalRuntime, RuntimeFlavor, RuntimeMetrics,
        TryCurrentError,
    };
}

/// Spawns a future as a detached goroutine: `go!(async { ... })` is Go's `go f()`.
///
/// The G keeps running after the statement; its output is discarded. Use [`spawn`] to keep a
/// [`JoinHandle`].
///
/// `go!([a, b] async move { ... })` moves the named variables into the GC arena as the G's
/// *captures*; inside the body `a` and `b` are references to them. The arena sees the edges
/// G → captures → channels → waiting Gs, so a G blocked forever on a channel only its own
/// captures (or other leaked Gs') could reach is found by [`gc::leaks`], and a cycle of such
/// state is reclaimed once the Gs are gone. Only Gs spawned with captures (`go!([] ...)` for
/// none) can be reported: their wakers are counted, which costs two atomic operations per
/// park. Handles a future holds any other way are opaque to the arena (held from outside:
/// never wrongly freed, never reported). Each capture must be [`gc::Trace`](crate::gc::Trace),
/// `Send` and `Sync`.
///
/// ```
/// # gort::block_on(async {
/// let (tx, rx) = gort::chan![u32];
/// let (done_tx, done_rx) = gort::chan![u32];
/// gort::go!([tx] async move {
///     tx.send(7).await.unwrap();
/// });
/// gort::go!([rx, done_tx] async move {
///     let v = rx.recv().await.unwrap();
///     done_tx.send(v * 6).await.unwrap();
/// });
/// assert_eq!(done_rx.recv().await, Some(42));
/// # });
/// ```
#[macro_export]
macro_rules! go {
    ([$($capture:ident),* $(,)?] $body:expr $(,)?) => {{
        let __gort_captures = $crate::gc::Gc::new(($($capture,)*));
        let __gort_captures_edge = $crate::gc::Edge::to(&__gort_captures);
        let _detached: $crate::JoinHandle<_> = $crate::__private::spawn_with_captures(
            async move {
                // The future owns the captures' one handle for its whole life (the leak pass
                // counts it as the G's edge); the body sees references.
                let __gort_captures = __gort_captures;
                #[allow(unused_variables)]
                let ($($capture,)*) = &*__gort_captures;
                ($body).await
            },
            __gort_captures_edge,
        );
    }};
    ($future:expr $(,)?) => {{
        let _detached: $crate::JoinHandle<_> = $crate::spawn($future);
    }};
}

/// `chan![T]` is a rendezvous channel, `chan![T; n]` one with `n` buffer slots; the GC arena
/// traces the elements when `T: gc::Trace` ([`traced_chan`]), else they are opaque
/// ([`chan()`](fn@chan)).
pub use gort_sync::chan;

mod join;

/// Waits on several futures and channel operations at once and runs the handler of the first to
/// complete; the others are dropped.
///
/// tokio's syntax, plus Go's `default`:
///
/// ```
/// # gort::block_on(async {
/// let (tx, rx) = gort::chan::<u32>(1);
/// let (_keep, never) = gort::chan::<u32>(0);
/// tx.send(7).await.unwrap();
/// let got = gort::select! {
///     Some(v) = rx.recv() => v,
///     Some(v) = never.recv() => v + 100,
///     _ = gort::time::sleep(std::time::Duration::from_secs(5)) => 0,
/// };
/// assert_eq!(got, 7);
/// let nothing = gort::select! {
///     v = never.recv() => v,
///     default => None,
/// };
/// assert_eq!(nothing, None);
/// # });
/// ```
///
/// - `pattern = future => handler`: a case; `future` may be anything `IntoFuture`. If the output
///   does not match the pattern the case is disabled and the select goes on;
///   `pattern = future, if condition => handler` starts disabled when `condition` is false.
/// - `default => handler`: runs if no case is ready right now (the select never waits).
/// - `else => handler`: runs if every case is disabled (without it, that panics).
/// - `biased;` first: cases are tried in order instead of from a random one.
///
/// Exactly one case commits: over channel operations (`rx.recv()`, `tx.send(v)`) the choice is
/// atomic, as in Go: a losing receive takes nothing and a losing send delivers nothing, also
/// when the select is parked on several rendezvous channels at once.
#[macro_export]
macro_rules! select {
    ($($tokens:tt)*) => {
        $crate::__private::select_internal!($crate; $($tokens)*)
    };
}

/// Support for the code `#[gort::main]`, `#[gort::test]` and `select!` expand to. Not a public
/// API.
#[doc(hidden)]
pub mod __private {
    pub use crate::join::{MaybeDone, TryMaybeDone};
    pub use gort_executor::runtime::{
        run_main, run_main_named, run_test, run_test_named, EntryFlavor,
    };
    pub use gort_executor::spawn_with_captures;
    pub use gort_macros::{join_internal, select_internal, try_join_internal};
    pub use gort_sync::select;
}
