//! `Runtime`: an owned runtime, shut down when dropped.

use std::future::Future;
use std::io;
use std::time::Duration;

use super::{Builder, EnterGuard, Handle, RuntimeMetrics, DEFAULT};
use crate::context;
use crate::join::JoinHandle;

/// An owned runtime: dropping it shuts it down (every G's future is dropped, threads joined).
#[derive(Debug)]
pub struct Runtime {
    handle: Handle,
}

impl std::panic::UnwindSafe for Runtime {}
impl std::panic::RefUnwindSafe for Runtime {}

impl Runtime {
    /// A multi-thread runtime with the default configuration.
    pub fn new() -> io::Result<Runtime> {
        Builder::new().build()
    }

    pub(super) fn from_handle(handle: Handle) -> Runtime {
        Runtime { handle }
    }

    /// Runs `future` to completion on this thread, which works as one of the runtime's Ms
    /// meanwhile (DESIGN.md §3). Panics if called from inside a task or another `block_on`.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        // As the runtime itself: on a current-thread runtime this thread may hold its core
        // (`context/main_role.rs`).
        crate::block_on::block_on(&self.handle.shared, context::BlockOnKind::Runtime, future)
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

    /// Makes this runtime the current one on this thread until the guard is dropped (see
    /// [`Handle::enter`]).
    pub fn enter(&self) -> EnterGuard<'_> {
        self.handle.enter()
    }

    /// The runtime's metrics.
    pub fn metrics(&self) -> RuntimeMetrics {
        self.handle.metrics()
    }

    /// Shuts down, waiting at most `timeout` for threads still inside a poll; those are
    /// detached and drop their P's Gs when the poll returns.
    pub fn shutdown_timeout(self, timeout: Duration) {
        self.shut_down(Some(timeout));
    }

    /// Shuts down without waiting for threads still inside a poll.
    pub fn shutdown_background(self) {
        self.shut_down(Some(Duration::ZERO));
    }

    /// Shuts the runtime down with this runtime entered on the calling thread, so that the
    /// destructors of the Gs dropped here find it current (`Handle::try_current`, a spawn
    /// that is then refused), as tokio's do; the Gs dropped by its own threads find it too.
    fn shut_down(&self, timeout: Option<Duration>) {
        let _entered = self.handle.enter();
        self.handle.shared.shutdown(timeout);
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
    /// Shuts the runtime down and waits for its threads.
    ///
    /// # Panics
    ///
    /// In asynchronous code (a task, or a `block_on` future), as tokio's does: waiting for the
    /// threads there would stop the thread's own tasks, and deadlock if the joined threads wait
    /// for them. The runtime is shut down without waiting first (`shutdown_background`, which
    /// like `shutdown_timeout` is allowed there), and nothing panics while the thread is
    /// already unwinding. Blocking code (`spawn_blocking`, `block_in_place`) may drop one.
    fn drop(&mut self) {
        if self.handle.shared.is_shutdown() {
            // `shutdown_timeout` or `shutdown_background` did it (allowed anywhere).
            return;
        }
        if !context::in_async_code() {
            self.shut_down(None);
            return;
        }
        self.shut_down(Some(Duration::ZERO));
        if !std::thread::panicking() {
            panic!(
                "Cannot drop a runtime in a context where blocking is not allowed. This happens \
                 when a runtime is dropped from within an asynchronous context. (gort: it was \
                 shut down without waiting for its threads; use `shutdown_background` there.)"
            );
        }
    }
}
