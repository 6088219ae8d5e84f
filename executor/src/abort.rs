//! `AbortHandle`: the right to abort a G without the right to await it.
//!
//! # Why a separate allocation
//!
//! A `JoinHandle` keeps the G's async-task allocation (and so the G record, which `abort`
//! needs) alive through its `FallibleTask`. An `AbortHandle` may outlive the `JoinHandle` and
//! the G, and async-task has no handle type that keeps the allocation alive without owning the
//! output: a `Task` can be neither cloned nor made from a waker, and a waker can only be had
//! from the `Runnable`. Taking a waker at every spawn for a handle that most programs never ask
//! for would add two atomic operations to every spawn.
//!
//! So the first `abort_handle()` of a G allocates an [`AbortTarget`], which the G record keeps
//! (a `OnceLock` in `G`) and every `AbortHandle` of that G shares. The target points back at
//! the G record; the G clears that pointer, under the target's lock, in its own `Drop`, which
//! async-task runs just before it frees the allocation. A handle that finds the pointer set
//! under the lock may therefore use the record until it unlocks.
//!
//! # The protocol
//!
//! - Creating: only through a live `JoinHandle` (directly, or by `JoinSet::spawn`), which keeps
//!   the G record alive, so it cannot race with the G's `Drop`. Two threads creating at once
//!   agree through the `OnceLock`.
//! - Aborting: lock the target; if the G is still there, set its abort flag and clone its
//!   parked waker from the registry (`G::begin_abort`); unlock; wake. The wake happens after
//!   the unlock because it may free the task (a runtime shut down drops the G it would
//!   schedule), and the G's `Drop` takes the same lock.
//! - Finishing: the G's future is dropped (completion, panic, abort, shutdown) before the G
//!   record. `is_finished` reads the record's state (`Dead` once the future is gone) while it
//!   is there, and answers `true` once it is not.

use std::fmt;
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::ptr::NonNull;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::g::{GState, G};
use crate::task_id::Id;

/// An owned permission to abort a spawned task, without awaiting its output. Dropping it does
/// not abort the task. As with `JoinHandle::abort`, a `spawn_blocking` task that has started
/// is not stopped by an abort; one that has not started never starts.
#[derive(Clone)]
pub struct AbortHandle {
    target: Arc<AbortTarget>,
}

/// What every `AbortHandle` of one G shares (module doc).
pub(crate) struct AbortTarget {
    id: Id,
    /// The G record, until the G's `Drop` clears it.
    ///
    /// # Invariant
    ///
    /// While this holds `Some` and the lock is held, the record is alive: the G clears it under
    /// this lock before its memory is freed.
    g: Mutex<Option<GRecordPtr>>,
}

/// A pointer to a G record, used only as `&G` under the target's lock.
struct GRecordPtr(NonNull<G>);

// SAFETY: `G` is `Send + Sync`, and the pointer is only turned into `&G` (see the invariant on
// `AbortTarget::g`).
unsafe impl Send for GRecordPtr {}
// SAFETY: as above.
unsafe impl Sync for GRecordPtr {}

impl AbortTarget {
    /// The target for `g`, which stays alive until its `Drop` calls [`AbortTarget::g_dropped`].
    pub(crate) fn new(g: &G) -> AbortTarget {
        AbortTarget {
            id: g.task_id(),
            g: Mutex::new(Some(GRecordPtr(NonNull::from(g)))),
        }
    }

    /// Called by the G's `Drop`: the record is about to be freed.
    pub(crate) fn g_dropped(&self) {
        *self.lock() = None;
    }

    /// Locks the pointer. Poisoning is ignored: no user code runs under the lock.
    fn lock(&self) -> MutexGuard<'_, Option<GRecordPtr>> {
        self.g
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl AbortHandle {
    pub(crate) fn new(target: Arc<AbortTarget>) -> AbortHandle {
        AbortHandle { target }
    }

    /// Aborts the task, as `JoinHandle::abort` does: it is not polled again and its future is
    /// dropped at its next scheduling point. Does nothing if it already finished or was aborted.
    pub fn abort(&self) {
        let waker = {
            let g = self.target.lock();
            // SAFETY: `Some` under the lock, so the record is alive (invariant on `g`).
            g.as_ref()
                .and_then(|g| unsafe { g.0.as_ref() }.begin_abort())
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Whether the task has finished: completed, panicked, or cancelled. It may still be false
    /// for a moment after `abort`, until the task has dropped its future.
    pub fn is_finished(&self) -> bool {
        let g = self.target.lock();
        // SAFETY: `Some` under the lock, so the record is alive (invariant on `g`).
        g.as_ref()
            .is_none_or(|g| unsafe { g.0.as_ref() }.state() == GState::Dead)
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        self.target.id
    }
}

// The target is only read under its lock, so a panic elsewhere cannot leave it half-updated.
impl UnwindSafe for AbortHandle {}
impl RefUnwindSafe for AbortHandle {}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle")
            .field("id", &self.target.id)
            .finish()
    }
}
