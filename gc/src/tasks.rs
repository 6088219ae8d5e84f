//! Tasks as nodes of the graph, for the leak pass (Go 1.26's goroutine leak profile, GOLF).
//!
//! The arena does not know about executors; an executor registers itself as a [`TaskSource`]
//! and describes its parked tasks when a leak pass asks. A task enters the graph with:
//!
//! - **its count:** how many of its wakers exist. A waker found in a traced place (a channel's
//!   wait queue) explains one; any other (a timer, the reactor, a `JoinHandle` being awaited, a
//!   foreign future, user code) is unexplained and makes the task a root, exactly as an
//!   unexplained handle makes an object one. That is what keeps the report free of false
//!   positives without knowing what every future waits on.
//! - **its edges:** to the captures `go!` allocated for it, which its future owns exactly once.
//!   There is no edge from a task to the channels its opaque future holds; those handles are
//!   unexplained counts on the channels, so those channels are roots.
//! - **whether it can run:** queued, running, or woken since its last poll. Only a task that
//!   is none of these and is reached by no live wait queue is leaked.

use std::fmt;
use std::panic::Location;
use std::sync::{Mutex, Weak};
use std::task::RawWakerVTable;

use crate::trace::Edge;

/// What a leak pass needs to know about one task whose future is alive.
#[derive(Debug, Clone)]
pub struct TaskInfo {
    /// Identifies the task: the data pointer of its wakers (the executor turns it back into
    /// its task record in [`TaskSource::cancel`]).
    pub key: *const (),
    /// Parked and not woken since its last poll.
    pub blocked: bool,
    /// Its wakers alive now.
    pub wakers: usize,
    /// The captures `go!` allocated for it, which its future owns.
    pub captures: Option<Edge>,
    /// The task's id.
    pub id: u64,
    /// Where it was spawned.
    pub location: &'static Location<'static>,
    /// Its name, if it has one.
    pub name: Option<String>,
}

/// An executor's view of its tasks (module doc).
pub trait TaskSource: Send + Sync {
    /// The vtable of the wakers its tasks are polled with; a waker with it names a task by its
    /// data pointer.
    fn waker_vtable(&self) -> &'static RawWakerVTable;

    /// Describes every task whose future is alive and has been polled. Called with the world
    /// stopped, so no task is being polled except one that is collecting.
    fn for_each_task(&self, visit: &mut dyn FnMut(TaskInfo));

    /// Cancels a leaked task: its future is dropped (with its captures) instead of being
    /// polled again. Called with the world stopped, for a key `for_each_task` just gave.
    fn cancel(&self, key: *const ());
}

static SOURCES: Mutex<Vec<Weak<dyn TaskSource>>> = Mutex::new(Vec::new());

/// Makes an executor's tasks visible to leak passes, for as long as it is alive.
pub fn register_task_source(source: Weak<dyn TaskSource>) {
    let mut sources = crate::lock(&SOURCES);
    sources.retain(|s| s.strong_count() > 0);
    sources.push(source);
}

/// The executors alive now.
pub(crate) fn sources() -> Vec<std::sync::Arc<dyn TaskSource>> {
    let sources = crate::lock(&SOURCES);
    sources.iter().filter_map(Weak::upgrade).collect()
}

/// A task that no runnable task, timer, IO waiter, blocking call or outside handle can wake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leak {
    /// The task's id.
    pub id: u64,
    /// Where it was spawned.
    pub location: &'static Location<'static>,
    /// Its name, if it has one.
    pub name: Option<String>,
    /// What it waits for: `chan receive`, `chan send`, `select` (Go's wait reasons), or
    /// `pending (no waker)` for a future that returned `Pending` with no waker registered
    /// anywhere (`std::future::pending()`, Go's `select {}`).
    pub wait_reason: &'static str,
}

impl fmt::Display for Leak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "goroutine {} [{}, leaked]", self.id, self.wait_reason)?;
        if let Some(name) = &self.name {
            write!(f, " {name:?}")?;
        }
        write!(f, ": spawned at {}", self.location)
    }
}
