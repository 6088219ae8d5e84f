//! [`Receiver`]: a watch channel's reading handle, which remembers the version it saw last.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use gort_gc::{Gc, Trace, Visitor};

use super::borrowed::Ref;
use super::cooperative;
use super::error::RecvError;
use super::shared::{Shared, Version};
use crate::broadcast::wait_list::Registration;

/// The receiving half of a watch channel: reads the current value and waits for new ones.
/// Clone it for another receiver starting from the same seen version.
#[derive(Debug)]
pub struct Receiver<T> {
    shared: Gc<Shared<T>>,
    /// The version this receiver saw last (marked seen).
    version: Version,
}

/// The wait of [`Receiver::changed`], without the coop budget (the public futures add it).
struct Changed<'a, T> {
    shared: &'a Shared<T>,
    /// The receiver's seen version, moved to the new one when the wait completes.
    seen: &'a mut Version,
    /// Where the wait is parked, if it is.
    registration: Registration,
}

impl<T> Receiver<T> {
    /// A receiver of `shared` that saw `version`, counted already.
    pub(super) fn counted(shared: Gc<Shared<T>>, version: Version) -> Receiver<T> {
        Receiver { shared, version }
    }

    /// A new receiver of `shared` that saw `version`.
    pub(super) fn subscribed(shared: Gc<Shared<T>>, version: Version) -> Receiver<T> {
        // A count: what waits on it re-reads it under a lock.
        shared.receivers.fetch_add(1, Ordering::Relaxed);
        Receiver { shared, version }
    }

    /// The current value, without marking it seen. [`Ref::has_changed`] says whether it was
    /// new to this receiver. Holds the read lock while the `Ref` lives.
    pub fn borrow(&self) -> Ref<'_, T> {
        let value = self.shared.read();
        // Under the read lock no send can run, so this is the version of `value`.
        let version = self.shared.snapshot().version();
        Ref::new(value, self.version != version)
    }

    /// The current value, marking it seen: the usual read before waiting with
    /// [`changed`](Receiver::changed) again, which a value sent in between then wakes.
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        let value = self.shared.read();
        let version = self.shared.snapshot().version();
        let has_changed = self.version != version;
        self.version = version;
        Ref::new(value, has_changed)
    }

    /// Whether a value this receiver has not seen is there, without marking it seen. Errs
    /// once every sender is gone, even with an unseen value (unlike `changed`).
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        let snapshot = self.shared.snapshot();
        if snapshot.is_closed() {
            return Err(RecvError(()));
        }
        Ok(snapshot.version() != self.version)
    }

    /// Whether every sender is gone.
    pub fn is_closed(&self) -> bool {
        self.shared.snapshot().is_closed()
    }

    /// Makes the current value count as unseen, so `changed` completes at once.
    pub fn mark_changed(&mut self) {
        self.version.step_back();
    }

    /// Makes the current value count as seen, without reading it.
    pub fn mark_unchanged(&mut self) {
        self.version = self.shared.snapshot().version();
    }

    /// Waits for a value this receiver has not seen, and marks it seen; completes at once if
    /// the current one is unseen. Errs once every sender is gone and the current value is
    /// seen. Cancel safe. Spends one unit of the task's coop budget when it completes.
    pub async fn changed(&mut self) -> Result<(), RecvError> {
        cooperative(Changed::new(&self.shared, &mut self.version)).await
    }

    /// Waits until the value satisfies `f`, which sees the current value first (seen or not),
    /// then each new one; returns it borrowed, marked seen. Errs once every sender is gone
    /// and the last value failed `f`. Spends one unit of coop budget when it completes.
    pub async fn wait_for(&mut self, f: impl FnMut(&T) -> bool) -> Result<Ref<'_, T>, RecvError> {
        cooperative(self.wait_for_uncounted(f)).await
    }

    /// [`Receiver::wait_for`] without the coop budget.
    async fn wait_for_uncounted(
        &mut self,
        mut f: impl FnMut(&T) -> bool,
    ) -> Result<Ref<'_, T>, RecvError> {
        let mut closed = false;
        loop {
            {
                let value = self.shared.read();
                let version = self.shared.snapshot().version();
                let has_changed = self.version != version;
                self.version = version;
                // After the close, only a value not tested yet is worth testing.
                if (!closed || has_changed) && f(&value) {
                    return Ok(Ref::new(value, has_changed));
                }
            }
            if closed {
                return Err(RecvError(()));
            }
            closed = Changed::new(&self.shared, &mut self.version).await.is_err();
        }
    }

    /// Whether `other` receives from the same channel.
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        Gc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<'a, T> Changed<'a, T> {
    fn new(shared: &'a Shared<T>, seen: &'a mut Version) -> Changed<'a, T> {
        Changed {
            shared,
            seen,
            registration: Registration::default(),
        }
    }
}

impl<T> Future for Changed<'_, T> {
    type Output = Result<(), RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.shared
            .poll_changed(this.seen, &mut this.registration, cx.waker())
    }
}

impl<T> Drop for Changed<'_, T> {
    fn drop(&mut self) {
        if self.registration.may_be_parked() {
            self.shared.cancel_changed(&mut self.registration);
        }
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Receiver<T> {
        Receiver::subscribed(Gc::clone(&self.shared), self.version)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        // `None` only while the collector frees a cycle this receiver was in: nobody is left to
        // tell.
        let Some(shared) = Gc::try_get(&self.shared) else {
            return;
        };
        if shared.receivers.fetch_sub(1, Ordering::Relaxed) == 1 {
            shared.notify_closed();
        }
    }
}

// `Unpin` whatever `T` is, as tokio's is (nothing points into it; a `Gc` is `Unpin` only when
// its value is).
impl<T> Unpin for Receiver<T> {}

// SAFETY: a receiver owns exactly one handle to its channel's state, and never swaps it.
unsafe impl<T> Trace for Receiver<T> {
    fn trace(&self, visitor: &mut dyn Visitor) {
        self.shared.trace(visitor);
    }
}
