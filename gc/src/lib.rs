//! gort's tracing arena (DESIGN.md §5): channel and closure state that reference counting
//! frees promptly, a collector that reclaims the cycles it cannot, and a leak pass that finds
//! tasks blocked forever.
//!
//! - [`Gc<T>`] clones and drops like `Arc`; an object whose last handle goes is freed at once.
//! - [`Trace`] (with `#[derive(Trace)]`) tells the collector which handles a value owns.
//! - [`collect`] finds objects referenced only from inside the arena (cycles: a channel sent
//!   its own receiver, `Gc`s pointing at each other) and frees them (`collector.rs`: trial
//!   deletion, roots without scanning stacks). It also runs by itself when the traceable
//!   objects have grown by `GORT_GC` percent since the last one (default 100, as `GOGC`).
//! - [`leaks`] reports tasks parked on channels nothing can reach any more (Go 1.26's
//!   goroutine leak profile); [`reclaim_leaks`] also cancels them. `GORT_DEBUG=leakcheck=1`
//!   prints the leaks every collection finds.
//! - [`stats`] gives live objects, bytes, collections and pause times.
//!
//! Collections stop the world at poll boundaries (`safepoint.rs`).
#![cfg_attr(loom, allow(dead_code))] // loom models the safepoint handshake only

mod barrier;
mod cell;
#[cfg(not(loom))]
mod collector;
mod debug;
mod gc;
mod loom;
mod object;
mod registry;
pub mod safepoint;
mod stats;
#[cfg(not(loom))]
mod sweep;
mod tasks;
#[cfg(all(test, not(loom)))]
mod tests;
mod trace;

#[cfg(not(loom))]
pub use collector::{collect_if_wanted, Collection};

/// Under loom nothing is ever collected.
#[cfg(loom)]
pub fn collect_if_wanted() {}
pub use barrier::prepare;
pub use cell::{GcCell, GcCellGuard};
pub use gc::Gc;
pub use object::{Kind, Tracer};
pub use stats::GcStats;
pub use tasks::{register_task_source, Leak, TaskInfo, TaskSource};
pub use trace::{Edge, Trace, Visitor};

#[cfg(not(loom))]
pub(crate) use safepoint::pin;
#[cfg(not(loom))]
pub use safepoint::PinGuard;

/// Under loom the arena is plain reference counting: models of other crates' protocols do not
/// stop the world, and a pin is nothing.
#[cfg(loom)]
pub(crate) fn pin() -> PinGuard {
    PinGuard
}

/// Under loom, a pin that is nothing.
#[cfg(loom)]
pub struct PinGuard;

/// Locks `mutex`, ignoring poison: no user code runs under the arena's own locks, so a poisoned
/// one is still consistent (for `GcCell`, the value is what the panicking code left).
pub(crate) fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Collects now: frees every object referenced only from inside the arena. Returns what it
/// freed.
#[cfg(not(loom))]
pub fn collect() -> Collection {
    collector::run(collector::Mode::Cycles)
}

/// Go's `runtime/debug.FreeOSMemory`: collects, then gives the memory held free back to the
/// operating system, so that the resident set shrinks to what is live. First the arena's own
/// spare room: the collector's graph arrays (kept between collections at the size of the
/// largest recent one) and the object registry's unused slots. Then the allocator's: with
/// glibc's malloc (Rust's default on Linux) `malloc_trim(0)`, since freed chunks otherwise stay
/// resident in its arenas for reuse; under another global allocator glibc's arenas are nearly
/// empty, and that allocator keeps its own policy. Returns what the collection freed.
///
/// The next collection allocates its arrays afresh, and the trim walks every glibc arena: a
/// call for after a large collection, not for a hot path.
#[cfg(not(loom))]
pub fn free_os_memory() -> Collection {
    let collection = collect();
    collector::release_arrays();
    registry::REGISTRY.shrink();
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` only releases free memory glibc holds; it may be called at any
    // time from any thread.
    unsafe {
        libc::malloc_trim(0);
    }
    collection
}

/// Collects, and reports the tasks that are leaked: parked on channels that no runnable task,
/// timer, IO waiter, blocking call or outside handle can reach. They stay parked. Only tasks
/// spawned with `go!([captures] ...)` are candidates (`tasks.rs`); no task is reported that
/// anything could still wake.
#[cfg(not(loom))]
pub fn leaks() -> Vec<Leak> {
    collector::run(collector::Mode::Leaks).leaks
}

/// As [`leaks`], then cancels the leaked tasks: their futures and captures are dropped (as
/// `JoinHandle::abort` would), which frees what only they held.
#[cfg(not(loom))]
pub fn reclaim_leaks() -> Vec<Leak> {
    collector::run(collector::Mode::Reclaim).leaks
}

/// The arena's counters now.
pub fn stats() -> GcStats {
    stats::snapshot()
}

/// Pins this thread for a stretch of work that may clone, drop or move handles: the world
/// cannot stop until the guard is dropped (`safepoint.rs`). The executor pins around each
/// poll; channel operations pin themselves.
#[doc(hidden)]
#[inline]
pub fn pin_thread() -> PinGuard {
    pin()
}

/// Whether a collection is waiting for the world to stop: a thread that holds a pin across
/// several operations (an M between polls) lets go when it sees this.
#[doc(hidden)]
#[inline]
pub fn stop_requested() -> bool {
    #[cfg(not(loom))]
    return safepoint::WORLD.stop_requested();
    #[cfg(loom)]
    return false;
}

/// Runs `f` unpinned (a thread about to block must not hold off a collection).
#[doc(hidden)]
pub fn unpinned<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(not(loom))]
    return safepoint::run_unpinned(f);
    #[cfg(loom)]
    return f();
}
