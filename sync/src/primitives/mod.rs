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
//! - [`Mutex`], [`RwLock`]: `async-lock`. The newtype returns `Result` from `try_*` and spends
//!   the coop budget in `lock`/`read`/`write`.
//! - [`OnceCell`], [`SetOnce`]: gort's own (`once_cell.rs`, `set_once.rs`), over the crate's
//!   `OnceSlot`: a value read without a lock once set, and a queue that lets one initialiser
//!   run at a time, handing on in arrival order when one is cancelled, fails or panics.
//! - [`Barrier`], [`Notify`], [`WaitGroup`]: gort's own, over the crate's `WaitQueue`, which
//!   remembers what a parked future was chosen for until it has seen it (see `notify.rs`).
//! - [`Semaphore`]: written on `event-listener` (see `semaphore.rs`): `async-lock`'s has no
//!   `close`, no `acquire_many`, and no owned permit on a plain `Arc<Semaphore>`.
//!
//! Owned lock guards (`lock_owned`, `read_owned`, `write_owned`) and mapped guards are not
//! offered: over `async-lock` they would need a self-referential guard, that is `unsafe`, and
//! this module has none.
//!
//! # Coop budget
//!
//! Acquiring a lock or a permit spends one unit of the task's coop budget (`gort-context`),
//! as tokio's do: a G that takes an uncontended `Mutex` in a loop would otherwise never give
//! its P back. A wait that parks is refunded, so only ready acquisitions pay.

mod barrier;
pub mod futures;
mod mutex;
mod notify;
mod once_cell;
mod rw_lock;
mod semaphore;
mod set_once;
mod wait_group;

pub use barrier::{Barrier, BarrierWaitResult};
pub use mutex::{Mutex, MutexGuard, TryLockError};
pub use notify::Notify;
pub use once_cell::{OnceCell, SetError};
pub use rw_lock::{RwLock, RwLockReadGuard, RwLockWriteGuard};
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
/// and a task whose budget is spent yields before it acquires (see "Coop budget" above).
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
    use std::task::{Context, Waker};

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
