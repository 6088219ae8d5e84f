//! The counted waker: the waker a G's future is polled with.
//!
//! It wraps the task's async-task waker and adds what the GC arena's leak pass needs to tell a
//! task that can still be woken from one that cannot (`gort_gc`'s `tasks.rs`):
//!
//! - **how many exist** (`G::wakers`): every clone adds one, every drop or wake takes one off.
//!   The leak pass explains the ones it finds in channel wait queues; any other (a timer, the
//!   reactor, an awaited `JoinHandle`, a foreign future) makes the task a root.
//! - **whether the task was woken since its last poll** (`G::notified`), set before the count
//!   drops, so a leak pass that reads the count (`Acquire`) after a wake took it off also sees
//!   the flag and treats the task as runnable.
//!
//! Its data pointer is the G record (which lives in the task allocation), so a waker names its
//! task. Each counted waker also owns one async-task reference, which keeps the allocation, and
//! with it the record, alive. The waker given to a poll is borrowed: it owns nothing, and is
//! only cloned.

use std::mem::ManuallyDrop;
use std::sync::atomic::Ordering;
use std::task::{RawWaker, RawWakerVTable, Waker};

use crate::g::G;

/// The vtable of every counted waker; the leak pass recognises gort tasks by it.
pub(crate) static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop);

/// A waker for `g`'s poll, borrowing the record (never drop it: it owns no count).
pub(crate) fn borrowed(g: &G) -> ManuallyDrop<Waker> {
    let data = std::ptr::from_ref(g).cast::<()>();
    // SAFETY: the vtable's functions uphold the `RawWaker` contract for a `G` pointer whose
    // record is alive, which holds for the duration of the poll; the waker is never dropped, so
    // it releases no count it does not own.
    ManuallyDrop::new(unsafe { Waker::from_raw(RawWaker::new(data, &VTABLE)) })
}

/// The record behind a counted waker's data pointer.
///
/// # Safety
///
/// `data` came from [`borrowed`] or [`clone`], and the waker is alive (a counted waker owns an
/// async-task reference; a borrowed one lives inside the poll).
unsafe fn record<'a>(data: *const ()) -> &'a G {
    // SAFETY: per the caller.
    unsafe { &*data.cast::<G>() }
}

/// The async-task waker the record wraps, not owning a count.
fn inner(g: &G) -> ManuallyDrop<Waker> {
    // SAFETY: async-task's waker parts, as `set_inner_waker` recorded them.
    ManuallyDrop::new(unsafe { Waker::from_raw(g.counting().inner_waker()) })
}

unsafe fn clone(data: *const ()) -> RawWaker {
    // SAFETY: the waker being cloned is alive.
    let g = unsafe { record(data) };
    // The new waker's own async-task reference.
    std::mem::forget(Waker::clone(&inner(g)));
    g.counting().wakers.fetch_add(1, Ordering::Relaxed);
    RawWaker::new(data, &VTABLE)
}

unsafe fn wake(data: *const ()) {
    // SAFETY: the waker being consumed is alive until the end of this function: its
    // async-task reference is released last, by the inner wake.
    let g = unsafe { record(data) };
    g.counting().notified.store(true, Ordering::Relaxed);
    g.counting().wakers.fetch_sub(1, Ordering::Release);
    ManuallyDrop::into_inner(inner(g)).wake();
}

unsafe fn wake_by_ref(data: *const ()) {
    // SAFETY: the waker is alive.
    let g = unsafe { record(data) };
    g.counting().notified.store(true, Ordering::Release);
    inner(g).wake_by_ref();
}

unsafe fn drop(data: *const ()) {
    // SAFETY: as in `wake`.
    let g = unsafe { record(data) };
    g.counting().wakers.fetch_sub(1, Ordering::Release);
    std::mem::drop(ManuallyDrop::into_inner(inner(g)));
}
