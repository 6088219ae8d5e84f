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
//! plain `#[test]`, or any thread. Sockets ([`net`]) park their G on the runtime's netpoller and
//! implement the `futures` IO traits ([`io`]). See `ARCHITECTURE.md` for how the crates fit together.

pub use gort_executor::{block_on, spawn, JoinHandle};
pub use gort_macros::{main, test};
pub use gort_reactor::{io, net};

/// Tasks: yielding, joining, naming.
pub mod task {
    pub use gort_executor::task::{
        block_in_place, spawn_blocking, yield_now, Builder, JoinError, JoinHandle, JoinSet,
    };
}

/// Time: sleeps, timeouts, intervals and the test clock (tokio's names, Go's precision).
///
/// Timers live in a 4-ary heap per P and fire from the scheduler and the poller's timed wait,
/// so `sleep(100µs)` wakes within tens of microseconds rather than on a millisecond tick. They
/// work from any thread: off a runtime, they belong to the default runtime (started on first
/// use), like spawns and sockets.
pub mod time {
    use std::future::Future;

    pub use gort_timer::{
        advance, pause, resume, After, Instant, Interval, MissedTickBehavior, Sleep, Timeout,
    };
    pub use std::time::Duration;

    /// The error of [`timeout`].
    pub mod error {
        pub use gort_timer::Elapsed;
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

    /// Go's `time.After`: completes after `duration` with the time it fired.
    pub fn after(duration: Duration) -> After {
        ensure_runtime();
        gort_timer::after(duration)
    }
}

/// The runtime: building one, handles to it, and scheduler facts.
pub mod runtime {
    pub use gort_executor::runtime::{gomaxprocs, num_goroutine, Builder, Handle, Runtime};
}

/// Spawns a future as a detached goroutine: `go!(async { ... })` is Go's `go f()`.
///
/// The G keeps running after the statement; its output is discarded. Use [`spawn`] to keep a
/// [`JoinHandle`].
#[macro_export]
macro_rules! go {
    ($future:expr $(,)?) => {{
        let _detached: $crate::JoinHandle<_> = $crate::spawn($future);
    }};
}

/// Support for the code `#[gort::main]` and `#[gort::test]` expand to. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use gort_executor::runtime::{run_main, run_test};
}
