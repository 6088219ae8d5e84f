//! `WaitList`: the tasks parked on a condition that, when it changes, wakes all of them at
//! once. `broadcast` parks its receivers on one (a send wakes every one of them) and its
//! `Sender::closed` on another; `watch` parks its `changed()` and `closed()` the same way.
//!
//! # Design
//!
//! The list is a slab of wakers behind the owner's lock (the lock that also guards the
//! condition, so that checking it and parking are one step and no wake is lost). A waiting
//! future keeps a [`Registration`]: its slab key and the list's *epoch* when it parked.
//! Waking everyone ([`WaitList::take_all`]) empties the slab and bumps the epoch, so that a
//! registration from before is recognisably stale and never touches the key a newer waiter was
//! given since; nothing is told one by one. What the design avoids, and why:
//!
//! - No allocation per wait. A slab reuses its vacated entries, and draining keeps its
//!   capacity; the wakers taken out go into a batch vector kept in a thread local, so a fan-out
//!   to a hundred receivers allocates nothing once warm. (Moving the slab out whole, or
//!   collecting into a fresh `Vec`, would allocate on every send; tokio avoids that with an
//!   intrusive list in the future, which needs `unsafe`.)
//! - No waking under the lock. Waking schedules a task and may wake a thread, which would then
//!   queue on the lock we hold; and a waker is user code that may call back into the channel
//!   (send from `wake`, or from a waker's `drop`). So `take_all` returns a [`WakeBatch`] woken
//!   once the lock is released, and a replaced or cancelled waker is handed back to be dropped
//!   after the unlock too.
//! - No cancellation on completion. A future that completes because the condition changed
//!   may still be in the slab (it looked before the notifier got the lock), but every change it
//!   did not see at parking time is followed by a `take_all` that drains it; so only a future
//!   dropped while still pending needs the lock to withdraw ([`WaitList::cancel`]).
//!
//! The channels that own a list are in gort's GC arena, and the leak pass asks them for the
//! wakers they hold ([`WaitList::trace`]): each parked waker is reported under its slab entry's
//! address, with the wait reason the owner gives, so that a task parked here on a channel
//! nothing live can reach is reported as leaked, and one parked on a live channel is not.

use std::cell::Cell;
use std::mem;
use std::task::Waker;

use gort_gc::Visitor;
use slab::Slab;

/// Parked wakers, woken all at once (module doc). Guarded by the owner's lock.
#[derive(Debug, Default)]
pub(crate) struct WaitList {
    /// The parked tasks' wakers, keyed by [`Registration`].
    waiters: Slab<Waker>,
    /// How many times [`WaitList::take_all`] emptied a non-empty list: a registration made in
    /// an earlier epoch is stale.
    epoch: u64,
}

/// Where one waiting future parked: `None` when it is not parked (or no longer is, for all it
/// knows). Owned by the future; read and written under the list's lock.
#[derive(Debug, Default)]
pub(crate) struct Registration {
    parked: Option<Parked>,
}

/// A slab key and the epoch it belongs to.
#[derive(Debug, Clone, Copy)]
struct Parked {
    epoch: u64,
    key: usize,
}

/// Wakers taken out of a [`WaitList`] under its lock, to be woken after it is released.
#[must_use = "the batch must be woken once the lock is released"]
pub(crate) struct WakeBatch {
    wakers: Vec<Waker>,
}

thread_local! {
    /// The batch vector of this thread's last `take_all`, emptied but with its capacity, for
    /// the next one. A `take_all` called while a batch is out (a waker that sends from `wake`)
    /// finds it empty and works with a fresh vector.
    static SPARE_BATCH: Cell<Vec<Waker>> = const { Cell::new(Vec::new()) };
}

impl WaitList {
    /// An empty list.
    pub(crate) const fn new() -> WaitList {
        WaitList {
            waiters: Slab::new(),
            epoch: 0,
        }
    }

    /// Parks the future that owns `registration` with `waker`, or, if it is already parked in
    /// this epoch, refreshes its waker. Returns a replaced waker, to be dropped once the lock is
    /// released.
    pub(crate) fn register(
        &mut self,
        registration: &mut Registration,
        waker: &Waker,
    ) -> Option<Waker> {
        if let Some(parked) = registration.parked {
            if parked.epoch == self.epoch {
                if let Some(current) = self.waiters.get_mut(parked.key) {
                    if current.will_wake(waker) {
                        return None;
                    }
                    return Some(mem::replace(current, waker.clone()));
                }
            }
        }
        let key = self.waiters.insert(waker.clone());
        registration.parked = Some(Parked {
            epoch: self.epoch,
            key,
        });
        None
    }

    /// Withdraws the future that owns `registration` (it is being dropped while pending).
    /// Returns its waker, to be dropped once the lock is released.
    pub(crate) fn cancel(&mut self, registration: &mut Registration) -> Option<Waker> {
        let parked = registration.parked.take()?;
        if parked.epoch != self.epoch {
            // Drained by a `take_all` since: the key may be someone else's now.
            return None;
        }
        self.waiters.try_remove(parked.key)
    }

    /// Empties the list into a batch to wake once the lock is released; every registration
    /// made so far becomes stale.
    pub(crate) fn take_all(&mut self) -> WakeBatch {
        if self.waiters.is_empty() {
            // Nobody is parked in this epoch, so no registration needs to go stale.
            return WakeBatch { wakers: Vec::new() };
        }
        self.epoch += 1;
        let mut wakers = SPARE_BATCH.try_with(Cell::take).unwrap_or_default();
        wakers.extend(self.waiters.drain());
        WakeBatch { wakers }
    }

    /// Reports every parked waker to the leak pass, each under the address of its slab entry
    /// (stable while the owner's lock is held), with `reason` as its wait reason.
    pub(crate) fn trace(&self, visitor: &mut dyn Visitor, reason: &'static str) {
        for (_, waker) in &self.waiters {
            visitor.visit_waker(std::ptr::from_ref(waker).addr(), waker, reason);
        }
    }

    /// How many futures are parked.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.waiters.len()
    }
}

impl Registration {
    /// Forgets where the future parked, without the lock: for a future that completes because
    /// the condition changed, which the notifier's `take_all` drains anyway (module doc).
    pub(crate) fn forget(&mut self) {
        self.parked = None;
    }

    /// Whether the future may still be parked (then dropping it must [cancel](WaitList::cancel)
    /// under the lock).
    pub(crate) fn may_be_parked(&self) -> bool {
        self.parked.is_some()
    }
}

impl WakeBatch {
    /// Wakes every waker of the batch (call it without holding the list's lock). A waker that
    /// panics does not keep the others asleep (`gort_context::wake_all`); its panic reaches the
    /// caller after all are woken.
    pub(crate) fn wake(mut self) {
        if self.wakers.is_empty() {
            return;
        }
        gort_context::wake_all(self.wakers.drain(..));
        let wakers = mem::take(&mut self.wakers);
        let _ = SPARE_BATCH.try_with(|spare| {
            let old = spare.take();
            spare.set(if old.capacity() >= wakers.capacity() {
                old
            } else {
                wakers
            });
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counting_waker() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        (Arc::clone(&count), Waker::from(count))
    }

    /// A registration from before a `take_all` neither refreshes nor cancels the entry that a
    /// newer waiter got under the same slab key.
    #[test]
    fn a_stale_registration_never_touches_a_newer_waiters_key() {
        let mut list = WaitList::new();
        let (old_count, old_waker) = counting_waker();
        let (new_count, new_waker) = counting_waker();
        let mut old = Registration::default();
        let mut new = Registration::default();
        assert!(list.register(&mut old, &old_waker).is_none());
        list.take_all().wake();
        assert_eq!(old_count.0.load(Ordering::SeqCst), 1);

        assert!(list.register(&mut new, &new_waker).is_none());
        assert!(
            list.cancel(&mut old).is_none(),
            "stale: nothing to withdraw"
        );
        assert_eq!(list.len(), 1, "the newer waiter is still parked");
        list.take_all().wake();
        assert_eq!(new_count.0.load(Ordering::SeqCst), 1);
    }

    /// Parking again in the same epoch refreshes the waker in place (one entry), handing the
    /// replaced waker back to be dropped by the caller.
    #[test]
    fn parking_again_refreshes_the_waker_in_place() {
        let mut list = WaitList::new();
        let (first_count, first) = counting_waker();
        let (second_count, second) = counting_waker();
        let mut registration = Registration::default();
        assert!(list.register(&mut registration, &first).is_none());
        // The same waker again: kept, or (where `will_wake` cannot tell, as under Miri, whose
        // vtables differ per use) swapped for itself. Either way one entry.
        drop(list.register(&mut registration, &first));
        assert_eq!(list.len(), 1);
        let replaced = list.register(&mut registration, &second);
        assert!(replaced.is_some(), "the first waker comes back");
        assert_eq!(list.len(), 1);
        list.take_all().wake();
        assert_eq!(first_count.0.load(Ordering::SeqCst), 0);
        assert_eq!(second_count.0.load(Ordering::SeqCst), 1);
    }

    /// A pending future dropped withdraws its entry: a later `take_all` does not wake it.
    #[test]
    fn a_cancelled_waiter_is_not_woken() {
        let mut list = WaitList::new();
        let (count, waker) = counting_waker();
        let mut registration = Registration::default();
        let _ = list.register(&mut registration, &waker);
        assert!(list.cancel(&mut registration).is_some());
        assert!(!registration.may_be_parked());
        list.take_all().wake();
        assert_eq!(count.0.load(Ordering::SeqCst), 0);
    }
}
