//! Async synchronisation primitives with tokio's names, and Go's `WaitGroup`.
//!
//! The facade re-exports everything here as `gort::sync`, so code written against
//! `tokio::sync` ports by renaming the path: the types, method names, signatures and error
//! types are tokio's wherever tokio has the concept. Go's `sync.WaitGroup`, which tokio lacks,
//! keeps Go's name and Go's panic message.
//!
//! # Built on, not written again
//!
//! The locks that have a well-kept implementation are thin newtypes over it; the newtype is
//! there to give tokio's signature where the crate's differs (`try_lock` returning a `Result`,
//! `Barrier::wait` returning gort's own result type), and to keep the crate out of gort's API.
//!
//! - [`Semaphore`], [`Mutex`], [`RwLock`]: written here, on the crate's FIFO batch semaphore
//!   (`batch_semaphore.rs`), as tokio's are: waiters served in order, a writer never starved
//!   by readers, owned and mapped guards, and waiters the leak pass can see (their `Trace`).
//! - [`Barrier`], [`OnceCell`]: `async-lock`. The newtype gives tokio's `BarrierWaitResult`, a
//!   synchronous `set` and `SetError`.
//! - [`WaitGroup`]: written on `event-listener`; no crate has Go's counter.
//! - [`Notify`]: written on a `std` mutex and a map of waiters (see `notify.rs`): a permit
//!   handed to a waiter that is then dropped must survive, which `event-listener` cannot say.
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
mod held;
#[cfg(test)]
mod lock_tests;
mod mutex;
mod notify;
mod once_cell;
mod rw_lock;
mod semaphore;
mod wait_group;

pub use barrier::{Barrier, BarrierWaitResult};
pub use mutex::{
    MappedMutexGuard, Mutex, MutexGuard, OwnedMappedMutexGuard, OwnedMutexGuard, TryLockError,
};
pub use notify::{Notified, Notify, OwnedNotified};
pub use once_cell::{OnceCell, SetError};
pub use rw_lock::{
    OwnedRwLockMappedWriteGuard, OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock,
    RwLockMappedWriteGuard, RwLockReadGuard, RwLockWriteGuard,
};
pub use semaphore::{
    AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError,
};
pub use wait_group::WaitGroup;

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
