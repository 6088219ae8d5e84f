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
    pub use gort_executor::task::{yield_now, Builder, JoinError, JoinHandle, JoinSet};
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
