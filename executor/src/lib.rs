//! gort's executor: Go's G/M/P scheduler for Rust futures.
//!
//! # Bird's-eye view
//!
//! - A **G** is a spawned future: an `async_task::Runnable` whose metadata is the G record
//!   ([`g`]: id, state, wait reason, spawn location, name). Its future is wrapped by
//!   [`gfuture`], which catches panics, honours `abort`, and registers parked Gs.
//! - A **P** ([`p`]) is a logical processor: a 256-slot lock-free ring ([`queue`]) plus a
//!   `runnext` slot. There are `GORT_MAXPROCS` of them; a thread must hold one to run Gs.
//! - An **M** ([`worker`]) is a thread running the scheduler loop (`find_runnable`: timers,
//!   global every 61 ticks, runnext, ring, global batch, steal, park) while it holds a P.
//!   Threads start on demand and park when idle.
//! - [`shared`] is the runtime-wide state (Go's `schedt`): the global queue, idle Ps and Ms,
//!   the spinning count, and the `wakep`/`startm` protocol that decides when to wake a thread.
//! - [`block_on`] turns the calling thread into an M until its future completes.
//! - [`runtime`] builds runtimes: multi-thread, or current-thread (one P whose only M is the
//!   thread inside `block_on`); [`task::LocalSet`] runs tasks that are not `Send` on one thread.
//! - [`context`] is the per-thread pointer to the current runtime, P and G that wakers and
//!   `spawn` read.
//! - [`timers`] is how Ms run the Ps' timer heaps (crate `gort-timer`) and bound the poller's
//!   wait by the earliest deadline; [`netpoll`] is how they drive the netpoller.
//! - The [`task`] module is the user's side of a G: [`join`] (awaiting it), [`abort`] (aborting
//!   it from a handle that outlives the G), [`task_id`] (its id, from the goid), [`join_set`],
//!   [`task_local`] (values scoped to a future, swapped in around its polls) and `task::coop`
//!   (the coop budget of `gort-context`, as tokio's API).
//!
//! The life of a G: `spawn` → `Shared::spawn` allocates it and calls the schedule function,
//! which puts it in the current P's `runnext` (or the global queue off-runtime) → an M's
//! `find_runnable` returns it → `Runnable::run` polls the `GFuture` → `Pending` parks it (its
//! waker goes to the registry) until a wake calls the schedule function again → `Ready` (or a
//! panic, or an abort) completes it and wakes the `JoinHandle`.

mod abort;
mod block_in_place;
mod block_on;
mod blocking;
mod context;
mod dead_tasks;
mod debug;
pub mod g;
mod gfuture;
mod gwaker;
mod join;
mod join_set;
mod local_set;
mod loom;
mod maxprocs;
mod netpoll;
mod p;
mod park;
#[doc(hidden)]
pub mod poll_until;
#[doc(hidden)]
pub mod queue;
mod rand;
mod registry;
mod rescue;
pub mod runtime;
mod shared;
#[doc(hidden)]
pub mod syscall;
mod sysmon;
mod task_builder;
mod task_id;
mod task_local;
mod task_output;
mod task_source;
#[cfg(test)]
mod tests;
mod timers;
mod worker;
mod yield_now;

use std::future::Future;
use std::panic::Location;

pub use join::JoinHandle;

/// A G as the scheduler handles it.
type Task = async_task::Runnable<g::G>;

/// Task-level API (tokio's `task` module): spawning, joining, aborting, ids, task-local
/// storage, yielding and the coop budget.
pub mod task {
    pub mod coop;

    pub use crate::abort::AbortHandle;
    pub use crate::block_in_place::block_in_place;
    pub use crate::join::{JoinError, JoinHandle};
    pub use crate::join_set::JoinSet;
    pub use crate::local_set::{spawn_local, LocalEnterGuard, LocalSet};
    pub use crate::spawn;
    pub use crate::task_builder::Builder;
    pub use crate::task_id::{id, try_id, Id};
    pub use crate::task_local::{AccessError, LocalKey};
    pub use crate::yield_now::yield_now;
    // Where tokio had them before `coop` existed (still re-exported there, hidden).
    #[doc(hidden)]
    pub use coop::{consume_budget, unconstrained, Unconstrained};

    /// The futures of the task module's functions (tokio's `task::futures`).
    pub mod futures {
        pub use crate::task_local::TaskLocalFuture;
    }

    /// Runs `func` on a thread of the blocking pool and returns its [`JoinHandle`]: for
    /// synchronous code that blocks (file IO, a blocking library call, heavy computation), which
    /// would otherwise hold an M and its P's queue. A panic in `func` becomes
    /// `JoinError::Panic`. At most `Builder::max_blocking_threads` (512) pool threads run at
    /// once; more jobs queue. Off a runtime's threads it uses the default runtime's pool.
    #[track_caller]
    pub fn spawn_blocking<F, T>(func: F) -> JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let location = std::panic::Location::caller();
        crate::context::with_current_shared(|shared| match shared {
            Some(shared) => shared.spawn_blocking(func, location),
            None => crate::runtime::default_shared().spawn_blocking(func, location),
        })
    }

    /// [`spawn_blocking`], or `None` if the runtime it would use has shut down, where the job
    /// would be refused (tokio's internal `spawn_mandatory_blocking`): for IO whose caller must
    /// hear of the refusal at once, not at a later flush (`gort::io::stdout`'s writes). Not
    /// part of tokio's public API.
    #[doc(hidden)]
    #[track_caller]
    pub fn spawn_mandatory_blocking<F, T>(func: F) -> Option<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let location = std::panic::Location::caller();
        crate::context::with_current_shared(|shared| {
            let shared = match shared {
                Some(shared) => std::sync::Arc::clone(shared),
                None => crate::runtime::default_shared(),
            };
            (!shared.is_shutdown()).then(|| shared.spawn_blocking(func, location))
        })
    }
}

/// Spawns `future` as a new G on the current runtime and returns its [`JoinHandle`].
///
/// On one of the runtime's threads (inside a G or `block_on`) the new G goes into the current P's
/// `runnext` slot, so it runs next on this thread unless another P steals it. On any other thread
/// it goes to the global queue of the process-wide default runtime (started on first use).
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let location = Location::caller();
    context::with_current_shared(|shared| match shared {
        Some(shared) => shared.spawn(future, location, None, None),
        None => runtime::default_shared().spawn(future, location, None, None),
    })
}

/// [`spawn`] for `go!([captures] ...)`: `captures` names the arena object holding the G's
/// captures, which `future` owns one handle to for its whole life.
#[doc(hidden)]
#[track_caller]
pub fn spawn_with_captures<F>(future: F, captures: gort_gc::Edge) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let location = Location::caller();
    context::with_current_shared(|shared| match shared {
        Some(shared) => shared.spawn(future, location, None, Some(captures)),
        None => runtime::default_shared().spawn(future, location, None, Some(captures)),
    })
}

/// Runs `future` to completion on this thread, which works as an M of the current runtime (or of
/// the default runtime) meanwhile. Panics if called from inside a task or another `block_on`.
#[track_caller]
pub fn block_on<F: Future>(future: F) -> F::Output {
    runtime::Handle::current().block_on(future)
}
