//! A watch channel (tokio's `sync::watch`): one value that senders replace or change and
//! receivers read, each receiver waiting for versions it has not seen.
//!
//! # Semantics (tokio's, so that ported code keeps working)
//!
//! - The channel holds only the latest value; each change is a new *version*. A receiver
//!   remembers the version it saw last: the initial value counts as seen, and a receiver made
//!   by `subscribe` has seen the value current then (a clone, what its original had seen).
//! - `changed()` completes once a version the receiver has not seen exists (at once if one
//!   does) and marks it seen; it errs only once every sender is gone *and* the current value
//!   is seen. `has_changed()` errs as soon as every sender is gone.
//! - `borrow()` reads without marking seen; `borrow_and_update()` marks seen; `wait_for(f)`
//!   tests the current value first, then each new one, until `f` holds.
//! - `send` with no receiver stores nothing and gives the value back; `send_replace`,
//!   `send_modify` and `send_if_modified` always store. `send_if_modified` makes a version
//!   (and wakes anyone) only if its closure returns `true`.
//! - `changed()`, `wait_for()` and `Sender::closed()` spend one unit of the task's coop
//!   budget when they complete, as tokio's do.
//!
//! # Design
//!
//! The value sits under a `std` reader-writer lock, so `Ref`s read it in parallel; beside it
//! an atomic word holds the version (in steps of two) and a closed bit (`shared.rs`). A change
//! bumps the version while it holds the write lock, so a reader holding the read lock knows
//! which version it reads. Checking for a change is one atomic load; only a receiver that has
//! to wait takes a lock.
//!
//! 1. Change: write-lock, change the value, bump the version (`Release`), unlock; then lock
//!    the wait list and take every parked `changed()`; unlock; wake them.
//! 2. `changed()`: load the version (`Acquire`); if it is not the seen one, it is done. Else
//!    lock the wait list and load again (a change that the lock orders before us is visible
//!    now; one ordered after us will find us in the list), then park.
//! 3. The last sender sets the closed bit and wakes the list as a change does; the last
//!    receiver wakes the `Sender::closed()` list, checked the same way against the count.
//!
//! The wait list is broadcast's (`broadcast/wait_list.rs`): a slab of wakers and an epoch, no
//! allocation per wait once warm, every waker woken outside the lock. tokio spreads its
//! waiters over eight `Notify`s and locks all eight on every send; one list makes a send with
//! no waiter one uncontended lock.
//!
//! The state is a [`Gc`] object of kind `Waits` (as broadcast's): the leak pass asks it for
//! the parked wakers, named `watch changed` (`changed()`, `wait_for()`) and `watch closed`
//! (`Sender::closed()`), and every handle is [`Trace`](gort_gc::Trace), an edge to it. So a
//! task waiting for a change that only leaked tasks could make is reported by `gc::leaks()`,
//! and one whose channel a live task or an opaque owner still holds is not.

mod borrowed;
pub mod error;
mod receiver;
mod sender;
mod shared;

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::{ready, Poll};

use gort_gc::Gc;

pub use borrowed::Ref;
pub use receiver::Receiver;
pub use sender::Sender;

use shared::{Shared, Version};

/// Creates a watch channel holding `init`, with one sender and one receiver (which counts
/// `init` as seen).
pub fn channel<T>(init: T) -> (Sender<T>, Receiver<T>) {
    let shared = Shared::allocate(init);
    (
        Sender::from_shared(Gc::clone(&shared)),
        Receiver::counted(shared, Version::INITIAL),
    )
}

/// Awaits `future` as one budgeted operation: a unit of the coop budget is taken before each
/// poll and kept only when the poll completes, so a wait that parks costs nothing and a task
/// whose budget is spent yields before it completes.
async fn cooperative<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    poll_fn(|cx| {
        let progress = ready!(gort_context::poll_proceed(cx));
        let output = ready!(future.as_mut().poll(cx));
        progress.made();
        Poll::Ready(output)
    })
    .await
}
