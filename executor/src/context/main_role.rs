//! What a `block_on` future ("main") is to its runtime, for the questions tokio answers about
//! the code that runs in it: `runtime::worker_index()` and whether `block_in_place` may run.
//!
//! gort's `block_on` thread is an M: it holds a P and runs Gs between main's polls. A G it runs
//! is on a worker (it answers its P's index, like any G). Main itself is not a G, and tokio
//! gives it the answers of its own `block_on`, which never runs on a worker:
//!
//! - on a multi-thread runtime, main is no worker (`worker_index()` is `None`), and
//!   `block_in_place` may run in it (the P goes to another M meanwhile, `block_in_place.rs`);
//! - on a current-thread runtime, the thread whose `Runtime::block_on` holds the runtime's core
//!   answers `Some(0)`: the first thread to enter `Runtime::block_on`, until it leaves (tokio's
//!   core is taken by one `block_on` at a time; the others wait for it and answer `None`).
//!   gort's single P may move between the threads inside `block_on` while the core owner's
//!   main is parked, so the core is a separate token, [`Shared::claim_core`], that only says
//!   which thread answers as the worker;
//! - `Handle::block_on` of a current-thread runtime never holds the core (`None`), and allows
//!   `block_in_place`, as tokio's does: the thread gives its P up for the call, so the other
//!   threads inside `block_on` run the tasks meanwhile.
//!
//! A `LocalSet` polled by main on a multi-thread runtime turns the thread into tokio's kind of
//! `block_on` thread for the rest of the call: it stops running Gs (its P goes to another M) and
//! only polls main. The set's tasks run only when main is polled, so a G run on this thread
//! would hold them up for its whole poll; and Gs spawned next to a local set then run on the
//! workers, away from the set's thread, as tokio users expect (`block_on.rs`).
//!
//! The state is per thread, saved and restored around each `block_on` ([`MainGuard`]), since a
//! `block_on` may nest inside a G's `block_in_place`.

use std::cell::Cell;
use std::sync::Arc;

use super::CONTEXT;
use crate::shared::Shared;

/// How a thread came to `block_on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BlockOnKind {
    /// `Runtime::block_on` (and `LocalRuntime::block_on`): on a current-thread runtime, it
    /// takes the core if no other thread holds it.
    Runtime,
    /// `Handle::block_on` (and `gort::block_on`, which uses the current handle).
    Handle,
}

/// The thread's main role (module doc).
struct MainRole {
    /// The thread's innermost `block_on` came through a `Handle`.
    through_handle: Cell<bool>,
    /// The thread holds its current-thread runtime's core ([`Shared::claim_core`]).
    owns_core: Cell<bool>,
    /// Main has polled a `LocalSet` (module doc).
    hosts_local_set: Cell<bool>,
}

thread_local! {
    static MAIN: MainRole = const {
        MainRole {
            through_handle: Cell::new(false),
            owns_core: Cell::new(false),
            hosts_local_set: Cell::new(false),
        }
    };
}

/// The main role of one `block_on` on this thread, until dropped: then the core (if taken) is
/// released and the role of an outer `block_on` restored.
pub(crate) struct MainGuard<'a> {
    shared: &'a Shared,
    kind: BlockOnKind,
    previous: (bool, bool, bool),
}

/// Gives this thread the main role of a `block_on` of `kind` on `shared`.
pub(crate) fn enter_main(shared: &Shared, kind: BlockOnKind) -> MainGuard<'_> {
    let previous = MAIN.with(|main| {
        (
            main.through_handle.replace(kind == BlockOnKind::Handle),
            main.owns_core.replace(false),
            main.hosts_local_set.replace(false),
        )
    });
    let guard = MainGuard {
        shared,
        kind,
        previous,
    };
    guard.before_poll();
    guard
}

impl MainGuard<'_> {
    /// Before each poll of main: a current-thread `Runtime::block_on` that does not hold the
    /// core takes it if it is free (its owner left `block_on`).
    pub(crate) fn before_poll(&self) {
        if self.kind == BlockOnKind::Runtime && self.shared.is_current_thread() {
            MAIN.with(|main| {
                if !main.owns_core.get() && self.shared.claim_core() {
                    main.owns_core.set(true);
                }
            });
        }
    }

    /// Whether main has polled a `LocalSet` on a multi-thread runtime: then this thread runs
    /// no Gs (module doc).
    pub(crate) fn hosts_local_set(&self) -> bool {
        !self.shared.is_current_thread() && MAIN.with(|main| main.hosts_local_set.get())
    }
}

impl Drop for MainGuard<'_> {
    fn drop(&mut self) {
        let (through_handle, owns_core, hosts_local_set) = self.previous;
        let owned = MAIN.with(|main| {
            main.through_handle.set(through_handle);
            main.hosts_local_set.set(hosts_local_set);
            main.owns_core.replace(owns_core)
        });
        if owned {
            self.shared.release_core();
        }
    }
}

/// Whether this thread runs main's code now: it is inside `block_on` and polls no G (main's
/// poll, a `LocalSet`'s task in it, or the M's own work between polls).
fn in_main() -> bool {
    CONTEXT.with(|ctx| ctx.g.get().is_null() && ctx.in_block_on.get())
}

/// A `LocalSet` is being polled (or dropped) here: if by main, main hosts a local set from now
/// on (module doc).
pub(crate) fn note_local_set_polled() {
    if in_main() {
        MAIN.with(|main| main.hosts_local_set.set(true));
    }
}

/// The P index [`crate::runtime::worker_index`] reports: in main, `Some(0)` for the holder of
/// a current-thread runtime's core and `None` otherwise (module doc); elsewhere that of the P
/// this thread holds, if it is one of its runtime's GOMAXPROCS (a spare standing in for a stuck
/// P is not a worker).
pub(crate) fn worker_index() -> Option<usize> {
    if in_main() {
        return MAIN.with(|main| main.owns_core.get()).then_some(0);
    }
    let (shared, p) = super::held_p()?;
    // SAFETY: `held_p` returns the context's pointers, valid while this thread serves the
    // runtime and holds the P, which outlasts this call.
    let (shared, p) = unsafe { (shared.as_ref(), p.as_ref()) };
    (p.index < shared.procs).then_some(p.index)
}

/// Why `block_in_place` must panic on this thread, if it must: inside a `LocalSet`, or on the
/// `block_on` thread of a current-thread runtime (whose only P no other thread may take),
/// except in the future of a `Handle::block_on` (module doc).
pub(crate) fn block_in_place_refusal() -> Option<&'static str> {
    CONTEXT.with(|ctx| {
        if ctx.block_in_place_refused.get() {
            return Some("inside a `LocalSet`");
        }
        let shared = ctx.shared.get();
        // SAFETY: by the `Context` invariant, a non-null `shared` is alive while set.
        let current_thread = unsafe { shared.as_ref() }.is_some_and(Shared::is_current_thread);
        let handle_main = ctx.g.get().is_null() && MAIN.with(|main| main.through_handle.get());
        (current_thread && ctx.in_block_on.get() && !handle_main)
            .then_some("on a current-thread runtime")
    })
}

/// The runtime this thread serves, as an owned clone (for `block_in_place` in a current-thread
/// `Handle::block_on`, which hands its P back to the runtime).
pub(crate) fn served_shared() -> Option<Arc<Shared>> {
    CONTEXT.with(|ctx| {
        let shared = ctx.shared.get();
        if shared.is_null() {
            return None;
        }
        // SAFETY: by the `Context` invariant, a non-null `shared` is the `Arc::as_ptr` of an
        // Arc kept alive while it is set; bumping the count first makes `from_raw` an owned
        // clone.
        unsafe {
            Arc::increment_strong_count(shared);
            Some(Arc::from_raw(shared))
        }
    })
}
