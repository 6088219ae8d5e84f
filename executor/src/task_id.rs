//! `task::Id`: the number that names a G in `JoinError`s, `JoinSet` results and task dumps.
//!
//! It is the G's goid (`g.rs`): handed out from per-thread batches of one process-wide counter,
//! so it is unique in the process (across runtimes) and never reused, which is stronger than
//! tokio's promise (unique among tasks whose handles are alive). It is not a spawn order: two
//! threads draw from different batches.
//!
//! The current G is found through the thread's scheduler context (`context.rs`): the G being
//! polled, or the G whose blocking code runs on this thread (a `spawn_blocking` closure, a
//! `block_in_place` region). `block_on`'s main future is not a task and has no id, as in tokio.

use std::fmt;
use std::num::NonZeroU64;

use crate::context;

/// An opaque id that names one task among all the tasks of the process, for as long as the
/// process runs (ids are never reused).
#[derive(Clone, Copy, Debug, Hash, Eq, PartialEq, PartialOrd, Ord)]
pub struct Id(NonZeroU64);

impl Id {
    /// The id of the G whose goid is `goid` (never zero: the first G is 1).
    pub(crate) fn from_goid(goid: u64) -> Id {
        match NonZeroU64::new(goid) {
            Some(goid) => Id(goid),
            None => zero_goid(),
        }
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The id of the task running this code. Panics outside a task (a plain thread, or `block_on`'s
/// main future, which is not a task); see [`try_id`].
#[track_caller]
pub fn id() -> Id {
    match try_id() {
        Some(id) => id,
        None => panic!("task::id() called outside a task (block_on's main future is not a task)"),
    }
}

/// The id of the task running this code, or `None` outside a task.
pub fn try_id() -> Option<Id> {
    context::current_goid().map(Id::from_goid)
}

/// A G record carried goid 0, which `g::next_id` never hands out.
#[cold]
#[inline(never)]
fn zero_goid() -> ! {
    panic!("gort: a G has id 0; this is a bug in gort")
}
