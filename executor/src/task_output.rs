//! `TaskOutput`: a G's result as it waits in the task for its `JoinHandle`, dropped inside the
//! task it came from.
//!
//! async-task keeps a completed G's output in the task allocation until the `JoinHandle` takes
//! it. Nobody takes it when the handle is gone: async-task then drops it right after the
//! completing poll, on the M, outside the G and inside an abort-on-panic guard, or the handle's
//! own drop does, on whichever thread drops it. Either way a destructor of the output that asked
//! `task::id()` found no task (and, under async-task's guard, its panic aborted the process),
//! and one that panicked in `JoinHandle::drop` unwound into the caller. tokio drops an untaken
//! output "inside" its task and contains the panic, so this wrapper does the same: its `Drop`
//! sets the G's id as the thread's current task (`context::with_output_of`) and drops the
//! result under `catch_unwind`, reporting a panic on stderr, where it has nowhere else to go.
//!
//! It holds the goid, not a pointer to the G record: `JoinHandle::drop` may free the task (and
//! the record with it) before the output it took out is dropped.

use std::mem::ManuallyDrop;
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::context;
use crate::join::JoinError;

/// A G's result while the task holds it (module doc).
pub(crate) struct TaskOutput<T> {
    /// Dropped by `Drop`, or moved out by [`TaskOutput::into_result`], exactly once.
    result: ManuallyDrop<Result<T, JoinError>>,
    /// The goid of the G that produced it.
    goid: u64,
}

impl<T> TaskOutput<T> {
    /// Wraps the result of the G whose goid is `goid`.
    pub(crate) fn new(result: Result<T, JoinError>, goid: u64) -> TaskOutput<T> {
        TaskOutput {
            result: ManuallyDrop::new(result),
            goid,
        }
    }

    /// The result, for the `JoinHandle` that takes it: from then on it is the caller's value,
    /// dropped wherever the caller drops it.
    pub(crate) fn into_result(self) -> Result<T, JoinError> {
        let mut this = ManuallyDrop::new(self);
        // SAFETY: `this` is never dropped (`ManuallyDrop`), so `result` is moved out exactly
        // once and not dropped by `TaskOutput::drop` afterwards.
        unsafe { ManuallyDrop::take(&mut this.result) }
    }
}

impl<T> Drop for TaskOutput<T> {
    fn drop(&mut self) {
        let result = &mut self.result;
        let dropped = context::with_output_of(self.goid, || {
            catch_unwind(AssertUnwindSafe(|| {
                // SAFETY: `drop` runs once and `into_result` (the only other place that takes
                // `result`) forgets the wrapper, so `result` is still there and never used again.
                unsafe { ManuallyDrop::drop(result) }
            }))
        });
        if let Err(payload) = dropped {
            let message = crate::join::panic_message(&*payload).unwrap_or("a non-string payload");
            eprintln!(
                "gort: the output of task {} panicked while it was dropped ({message}); the \
                 runtime goes on",
                self.goid
            );
        }
    }
}
