//! Async synchronisation primitives with tokio's names, and Go's `WaitGroup`.
//!
//! The facade re-exports everything here as `gort::sync`, so code written against
//! `tokio::sync` ports by renaming the path: the types, method names, signatures and error
//! types are tokio's wherever tokio has the concept. Go's `sync.WaitGroup`, which tokio lacks,
//! keeps Go's name and Go's panic message.
//!
//! # What they are built on
//!
//! All of them are gort's own, on two cores in the crate, so that the coop budget, Go's wait
//! reasons and the leak pass reach every one:
//!
//! - [`Semaphore`], [`Mutex`], [`RwLock`]: written here, on the crate's FIFO batch semaphore
//!   (`batch_semaphore.rs`), as tokio's are: waiters served in order, a writer never starved
//!   by readers, owned and mapped guards, and waiters the leak pass can see (their `Trace`).
//! - [`OnceCell`], [`SetOnce`]: gort's own (`once_cell.rs`, `set_once.rs`), over the crate's
//!   `OnceSlot`: a value read without a lock once set, and a queue that lets one initialiser
//!   run at a time, handing on in arrival order when one is cancelled, fails or panics.
//! - [`Barrier`], [`Notify`], [`WaitGroup`]: gort's own, over the crate's `WaitQueue`, which
//!   remembers what a parked future was chosen for until it has seen it (see `notify.rs`).
//!
//! The locks hold their data in an `UnsafeCell` and their guards are pointers into it, as
//! every lock's are: that `unsafe` is in `mutex.rs` and `rw_lock/`, each block with the permit
//! that makes it sound.
//!
//! # Coop budget
//!
//! Acquiring a lock or a permit spends one unit of the task's coop budget (`gort-context`),
//! as tokio's do: a G that takes an uncontended `Mutex` in a loop would otherwise never give
//! its P back. Only acquisitions that complete pay; for the semaphore-based ones the unit is
//! asked for once the permits are taken, so a task out of budget keeps its place in line
//! (`batch_semaphore.rs`).

mod barrier;
pub mod futures;
mod held;
#[cfg(test)]
mod lock_tests;
mod mutex;
mod notify;
mod once_cell;
mod rw_lock;
mod semaphore;
mod set_once;
mod wait_group;

pub use barrier::{Barrier, BarrierWaitResult};
pub use mutex::{
    MappedMutexGuard, Mutex, MutexGuard, OwnedMappedMutexGuard, OwnedMutexGuard, TryLockError,
};
pub use notify::Notify;
pub use once_cell::{OnceCell, SetError};
pub use rw_lock::{
    OwnedRwLockMappedWriteGuard, OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock,
    RwLockMappedWriteGuard, RwLockReadGuard, RwLockWriteGuard,
};
pub use semaphore::{
    AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError,
};
pub use set_once::{SetOnce, SetOnceError};
pub use wait_group::WaitGroup;

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::{ready, Poll};

/// Awaits `future` as one budgeted acquisition: one unit of the coop budget is taken before each
/// poll and kept only when the poll completes, so that an acquisition that parks costs nothing
/// and a task whose budget is spent yields before it acquires (`OnceCell`'s initialiser claim;
/// the semaphore-based locks take their unit after the permits instead, see above).
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    /// An uncontended acquisition that would be ready still answers `Pending` once the poll's
    /// budget is spent, and succeeds on the next poll with a fresh budget.
    #[test]
    fn ready_acquisitions_spend_the_coop_budget() {
        let mutex = Mutex::new(0u32);
        let semaphore = Semaphore::new(10);
        let mut cx = Context::from_waker(Waker::noop());
        gort_context::with_budget(2, || {
            let mut first = pin!(mutex.lock());
            let Poll::Ready(guard) = first.as_mut().poll(&mut cx) else {
                panic!("an uncontended lock is ready");
            };
            drop(guard);
            let mut permit = pin!(semaphore.acquire());
            assert!(
                permit.as_mut().poll(&mut cx).is_ready(),
                "one unit was left"
            );
            let mut third = pin!(mutex.lock());
            assert!(
                third.as_mut().poll(&mut cx).is_pending(),
                "the budget is spent: the lock must yield"
            );
        });
        let mut again = pin!(mutex.lock());
        gort_context::with_budget(2, || {
            assert!(again.as_mut().poll(&mut cx).is_ready(), "a fresh budget");
        });
    }
}
