//! `Handle`, the current runtime of a thread, and `EnterGuard`.
//!
//! # Which runtime is current
//!
//! A thread's current runtime (what `Handle::current`, `gort::spawn`, `spawn_blocking`, sockets
//! and, off the runtime's threads, timers use) is, in this order:
//!
//! 1. the runtime of the innermost [`EnterGuard`] alive on the thread (`Runtime::enter`,
//!    `Handle::enter`);
//! 2. the runtime the thread serves: one of its Ms, its blocking pool's threads, or a thread
//!    inside its `block_on` (which hides the guards entered before it, as tokio's does);
//! 3. for `Handle::current` only, the process-wide default runtime, started on first use (Go's
//!    runtime is always there). `Handle::try_current` reports the thread as outside any runtime
//!    instead, and never starts the default.
//!
//! A guard held across an `.await` of a `block_on` future stays with that future: the thread
//! puts it aside while it runs other Gs between the future's polls, so those Gs spawn onto their
//! own runtime (`block_on.rs`).

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::panic::Location;
use std::sync::Arc;

use super::{default_shared, RuntimeFlavor, RuntimeMetrics};
use crate::block_on;
use crate::context;
use crate::join::JoinHandle;
use crate::shared::Shared;
use gort_reactor::Reactor;

/// A cloneable reference to a runtime, usable from any thread.
#[derive(Clone)]
pub struct Handle {
    pub(crate) shared: Arc<Shared>,
}

impl std::panic::UnwindSafe for Handle {}
impl std::panic::RefUnwindSafe for Handle {}

/// Keeps a runtime current on this thread ([`Handle::enter`]); dropping it restores the
/// previous one. Not `Send`: it belongs to the thread it was made on. Guards must be dropped in
/// the reverse order of their making.
#[derive(Debug)]
#[must_use = "the runtime stops being current when the guard is dropped"]
pub struct EnterGuard<'a> {
    entered: Entered,
    /// Ties the guard to the handle as tokio's does, without a `Drop` that uses the borrow:
    /// the context holds its own reference to the runtime, so the runtime may be moved (shut
    /// down, say) while the guard lives, as tokio allows.
    _handle: PhantomData<&'a Handle>,
}

/// What an [`EnterGuard`] undoes when dropped.
#[derive(Debug)]
struct Entered {
    record: context::EnterRecord,
    /// The `LocalSet` of a `LocalRuntime`, entered with it.
    local: Option<crate::local_set::LocalEnterGuard>,
}

// SAFETY: a shared reference to a guard gives access to nothing (it has no methods, and its
// fields are private); the guard itself is not `Send`, so it is dropped, and its context
// restored, on the thread that made it. tokio's guard is `Sync` too.
unsafe impl Sync for EnterGuard<'_> {}

impl EnterGuard<'_> {
    /// Adds the enter guard of a `LocalRuntime`'s `LocalSet`, dropped before the runtime's.
    pub(crate) fn with_local(mut self, local: crate::local_set::LocalEnterGuard) -> Self {
        self.entered.local = Some(local);
        self
    }
}

impl Drop for Entered {
    fn drop(&mut self) {
        drop(self.local.take());
        context::leave(&self.record);
    }
}

impl Handle {
    /// The runtime this thread is in (module doc): an entered one, the one it serves, else the
    /// process default (started on first use).
    pub fn current() -> Handle {
        Handle {
            shared: context::current_shared().unwrap_or_else(default_shared),
        }
    }

    /// The runtime this thread is in (an entered one, or the one it serves), or an error saying
    /// it is in none. Never starts the default runtime.
    pub fn try_current() -> Result<Handle, TryCurrentError> {
        match context::current_shared() {
            Some(shared) => Ok(Handle { shared }),
            None => Err(TryCurrentError {
                kind: TryCurrentErrorKind::NoContext,
            }),
        }
    }

    /// Makes this runtime the current one on this thread until the guard is dropped:
    /// `Handle::current`, `gort::spawn`, `spawn_blocking` and sockets made meanwhile use it, and
    /// so do timers armed on a thread that serves no runtime. Inside a task of another runtime,
    /// spawns go to this one's global queue.
    pub fn enter(&self) -> EnterGuard<'_> {
        EnterGuard {
            entered: Entered {
                record: context::enter(&self.shared),
                local: None,
            },
            _handle: PhantomData,
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

    /// Runs `future` to completion on this thread, working as one of this runtime's Ms (on a
    /// current-thread runtime: as its M, running its tasks, if no other thread is).
    ///
    /// # Panics
    ///
    /// Inside a task or another `block_on`: the thread would stop running the tasks it runs,
    /// and could deadlock. (Inside `block_in_place` or `spawn_blocking` it is allowed.)
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        block_on::block_on(&self.shared, crate::context::BlockOnKind::Handle, future)
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

    /// Which scheduler the runtime runs.
    pub fn runtime_flavor(&self) -> RuntimeFlavor {
        self.shared.config.flavor
    }

    /// The runtime's id: two handles have the same one if and only if they point at the same
    /// runtime.
    pub fn id(&self) -> super::Id {
        self.shared.id
    }

    /// The name given to `Builder::name`, if any.
    pub fn name(&self) -> Option<&str> {
        self.shared.config.name.as_deref()
    }

    /// The runtime's metrics.
    pub fn metrics(&self) -> RuntimeMetrics {
        RuntimeMetrics::new(self.clone())
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

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("id", &self.shared.id)
            .field("flavor", &self.shared.config.flavor)
            .field("procs", &self.shared.procs)
            .finish()
    }
}

/// Why [`Handle::try_current`] found no runtime.
#[derive(Debug)]
pub struct TryCurrentError {
    kind: TryCurrentErrorKind,
}

#[derive(Debug)]
enum TryCurrentErrorKind {
    /// The thread is in no runtime.
    NoContext,
}

impl TryCurrentError {
    /// Whether the thread is in no runtime (no task, `block_on`, runtime thread or enter
    /// guard). Always the reason in gort.
    pub fn is_missing_context(&self) -> bool {
        matches!(self.kind, TryCurrentErrorKind::NoContext)
    }

    /// Whether the thread's runtime context was already destroyed (a thread-local destructor
    /// running at thread exit). Never the case in gort: its context has no destructor, so it
    /// is readable until the thread is gone.
    pub fn is_thread_local_destroyed(&self) -> bool {
        false
    }
}

impl fmt::Display for TryCurrentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            TryCurrentErrorKind::NoContext => f.write_str(
                "this thread is in no gort runtime: not one of its threads, not inside its \
                 block_on, and no Runtime::enter guard is alive",
            ),
        }
    }
}

impl std::error::Error for TryCurrentError {}
