//! `LocalRuntime`: a current-thread runtime that also runs tasks that are not `Send` (tokio's
//! `runtime::LocalRuntime`), as a current-thread [`Runtime`] plus a [`LocalSet`] that its
//! `block_on` always drives.

use std::future::Future;
use std::io;
use std::marker::PhantomData;
use std::time::Duration;

use super::{Builder, EnterGuard, Handle, Runtime, RuntimeMetrics};
use crate::join::JoinHandle;
use crate::local_set::LocalSet;

/// A current-thread runtime bound to the thread that built it, whose tasks may be `!Send`
/// ([`LocalRuntime::spawn_local`], or `task::spawn_local` inside its `block_on`). Send tasks
/// (`gort::spawn`, its [`Handle`] from other threads) run on it too, on this thread. Not `Send`.
#[derive(Debug)]
pub struct LocalRuntime {
    /// Dropped first: the local tasks go while the runtime still runs (their futures may use
    /// its timers and sockets in their destructors).
    local: LocalSet,
    runtime: Runtime,
}

/// Options for [`Builder::build_local`] (none yet; tokio's are unstable).
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct LocalOptions {
    _not_send: PhantomData<*mut u8>,
}

impl std::panic::UnwindSafe for LocalRuntime {}
impl std::panic::RefUnwindSafe for LocalRuntime {}

impl LocalRuntime {
    /// A local runtime with the default configuration.
    pub fn new() -> io::Result<LocalRuntime> {
        Builder::new_current_thread().build_local(LocalOptions::default())
    }

    pub(super) fn from_runtime(runtime: Runtime) -> LocalRuntime {
        runtime.handle().shared.set_local_thread();
        LocalRuntime {
            local: LocalSet::new(),
            runtime,
        }
    }

    /// Makes this runtime the process default (`#[gort::main(flavor = "local")]`).
    pub(crate) fn install_as_default(&self) -> bool {
        self.runtime.install_as_default()
    }

    /// A handle to the runtime (it spawns only `Send` tasks; local ones need this thread).
    pub fn handle(&self) -> &Handle {
        self.runtime.handle()
    }

    /// Spawns `future`, which need not be `Send`, onto this runtime: it runs on this thread
    /// while `block_on` runs.
    #[track_caller]
    pub fn spawn_local<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.local
            .spawn_local_for(future, &self.runtime.handle().shared)
    }

    /// Runs `func` on this runtime's blocking pool (see `task::spawn_blocking`).
    #[track_caller]
    pub fn spawn_blocking<F, T>(&self, func: F) -> JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        self.runtime.spawn_blocking(func)
    }

    /// Runs `future` to completion on this thread, with the runtime's tasks, local ones
    /// included, running around it; `task::spawn_local` inside spawns onto this runtime.
    ///
    /// # Panics
    ///
    /// Where `Runtime::block_on` panics: inside a task, or inside another `block_on`.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(self.local.run_until(future))
    }

    /// Makes this runtime current on this thread until the guard is dropped
    /// ([`Handle::enter`]); `task::spawn_local` spawns onto it meanwhile.
    pub fn enter(&self) -> EnterGuard<'_> {
        self.runtime.enter().with_local(self.local.enter())
    }

    /// Shuts down: drops the local tasks, then shuts the runtime down as
    /// `Runtime::shutdown_timeout` does.
    pub fn shutdown_timeout(self, timeout: Duration) {
        let LocalRuntime { local, runtime } = self;
        drop(local);
        runtime.shutdown_timeout(timeout);
    }

    /// Shuts down without waiting for threads still inside a poll.
    pub fn shutdown_background(self) {
        self.shutdown_timeout(Duration::ZERO);
    }

    /// The runtime's metrics.
    pub fn metrics(&self) -> RuntimeMetrics {
        self.runtime.metrics()
    }
}
