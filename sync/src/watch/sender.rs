//! [`Sender`]: a watch channel's writing handle.

use std::future::Future;
use std::mem;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use gort_gc::{Gc, Trace, Visitor};

use super::borrowed::Ref;
use super::cooperative;
use super::error::SendError;
use super::receiver::Receiver;
use super::shared::Shared;
use crate::broadcast::wait_list::Registration;

/// The sending half of a watch channel: replaces or changes the value and wakes the receivers
/// waiting for a change. Clone it for more senders; the channel closes when the last one is
/// dropped.
#[derive(Debug)]
pub struct Sender<T> {
    shared: Gc<Shared<T>>,
}

/// The wait of [`Sender::closed`], without the coop budget.
struct WaitClosed<'a, T> {
    shared: &'a Shared<T>,
    registration: Registration,
}

impl<T> Sender<T> {
    /// A sender of a new channel holding `init`, with no receiver yet:
    /// [`subscribe`](Sender::subscribe) makes them.
    pub fn new(init: T) -> Sender<T> {
        let (sender, _) = super::channel(init);
        sender
    }

    /// The sender of a channel made by [`channel`](super::channel).
    pub(super) fn from_shared(shared: Gc<Shared<T>>) -> Sender<T> {
        Sender { shared }
    }

    /// Stores `value` as the new version and wakes the waiting receivers. With no receiver
    /// left, stores nothing and gives the value back in the error (see
    /// [`send_replace`](Sender::send_replace) to store it anyway).
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        // A hint only: a receiver subscribing right now may miss this value.
        if self.receiver_count() == 0 {
            return Err(SendError(value));
        }
        self.send_replace(value);
        Ok(())
    }

    /// Changes the value in place as a new version and wakes the waiting receivers, whether
    /// or not any receiver is left. A panic in `modify` goes to the caller, with the value as
    /// `modify` left it and no new version.
    pub fn send_modify<F>(&self, modify: F)
    where
        F: FnOnce(&mut T),
    {
        self.send_if_modified(|value| {
            modify(value);
            true
        });
    }

    /// Lets `modify` change the value in place; a new version is published and receivers are
    /// woken only if it returns `true` (so a `false` must mean nothing changed). Returns what
    /// `modify` returned.
    pub fn send_if_modified<F>(&self, modify: F) -> bool
    where
        F: FnOnce(&mut T) -> bool,
    {
        {
            let mut value = self.shared.write();
            if !modify(&mut value) {
                return false;
            }
            // Under the write lock: a reader holding the read lock sees this value's version.
            self.shared.bump_version();
        }
        self.shared.notify_changed();
        true
    }

    /// Stores `value` as the new version, whether or not any receiver is left, wakes the
    /// waiting receivers, and returns the previous value.
    pub fn send_replace(&self, mut value: T) -> T {
        self.send_modify(|current| mem::swap(current, &mut value));
        value
    }

    /// The current value (its [`Ref::has_changed`] is `false`). Holds the read lock while the
    /// `Ref` lives: a send waits meanwhile.
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref::new(self.shared.read(), false)
    }

    /// Whether no receiver is left (a `subscribe` reopens the channel).
    pub fn is_closed(&self) -> bool {
        self.receiver_count() == 0
    }

    /// Completes once no receiver is left (at once if none is now). A receiver subscribed
    /// before it is polled again makes it wait on. Spends one unit of coop budget when it
    /// completes.
    pub async fn closed(&self) {
        cooperative(WaitClosed {
            shared: &self.shared,
            registration: Registration::default(),
        })
        .await;
    }

    /// A new receiver, for which the current value counts as seen.
    pub fn subscribe(&self) -> Receiver<T> {
        let version = self.shared.snapshot().version();
        Receiver::subscribed(Gc::clone(&self.shared), version)
    }

    /// Live receivers.
    pub fn receiver_count(&self) -> usize {
        self.shared.receivers.load(Ordering::Relaxed)
    }

    /// Live senders.
    pub fn sender_count(&self) -> usize {
        self.shared.senders.load(Ordering::Relaxed)
    }

    /// Whether `other` sends on the same channel.
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Gc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T> Future for WaitClosed<'_, T> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        this.shared.poll_closed(&mut this.registration, cx.waker())
    }
}

impl<T> Drop for WaitClosed<'_, T> {
    fn drop(&mut self) {
        if self.registration.may_be_parked() {
            self.shared.cancel_closed(&mut self.registration);
        }
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        // A count: the handle being cloned keeps it above zero meanwhile.
        self.shared.senders.fetch_add(1, Ordering::Relaxed);
        Sender::from_shared(Gc::clone(&self.shared))
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        // `None` only while the collector frees a cycle this sender was in: nobody is left to
        // tell.
        let Some(shared) = Gc::try_get(&self.shared) else {
            return;
        };
        // `AcqRel`: the sender that closes sees every other sender's sends as done.
        if shared.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            shared.close();
        }
    }
}

// `Unpin` whatever `T` is, as tokio's is (nothing points into it; a `Gc` is `Unpin` only when
// its value is).
impl<T> Unpin for Sender<T> {}

// SAFETY: a sender owns exactly one handle to its channel's state, and never swaps it.
unsafe impl<T> Trace for Sender<T> {
    fn trace(&self, visitor: &mut dyn Visitor) {
        self.shared.trace(visitor);
    }
}

impl<T: Default> Default for Sender<T> {
    fn default() -> Sender<T> {
        Sender::new(T::default())
    }
}
