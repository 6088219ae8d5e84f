//! `GortExecutor`: hyper's `rt::Executor`, spawning each future as a detached G.
//!
//! hyper spawns background work through an executor it is handed: the HTTP/2 server spawns one
//! future per stream, the HTTP/2 client its connection and request body pipes, and hyper-util's
//! `auto::Builder` needs one because it may speak HTTP/2. HTTP/1 needs none (the caller polls the
//! connection future itself).
//!
//! # Why a unit struct
//!
//! `gort::spawn` already finds the right runtime: on an M it is that M's runtime, elsewhere the
//! process-wide default. So the executor carries no handle, is `Copy`, and hyper's per-stream
//! clones cost nothing. A program that must target one runtime from a foreign thread can call
//! `Runtime::install_as_default` first.
//!
//! # Why detach
//!
//! hyper keeps no handle to what it spawns and expects it to run to completion: a stream's future
//! finishes when the stream does. Dropping gort's `JoinHandle` detaches the G (it does not cancel
//! it, unlike async-task's `Task`), which is exactly that contract.

use std::future::Future;

/// Runs hyper's background futures as gort goroutines (hyper-util's `TokioExecutor` for gort).
///
/// ```
/// use gort_compat::GortExecutor;
/// use hyper::rt::Executor;
///
/// let (sender, receiver) = std::sync::mpsc::channel();
/// GortExecutor.execute(async move { sender.send(42).unwrap() });
/// assert_eq!(receiver.recv().unwrap(), 42);
/// ```
#[derive(Clone, Copy, Default, Debug)]
pub struct GortExecutor;

impl GortExecutor {
    /// An executor; the same as `GortExecutor` or `GortExecutor::default()`, under the name
    /// hyper-util's `TokioExecutor::new` uses.
    pub fn new() -> GortExecutor {
        GortExecutor
    }
}

impl<F> hyper::rt::Executor<F> for GortExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    /// Spawns `future` as a detached G on the current runtime (or the default one).
    ///
    /// `#[track_caller]` so that the G's recorded spawn location is the hyper code that asked
    /// for it (say, the HTTP/2 server's stream dispatch) rather than this line, which every G
    /// spawned through hyper would share.
    #[track_caller]
    fn execute(&self, future: F) {
        gort::go!(future);
    }
}
