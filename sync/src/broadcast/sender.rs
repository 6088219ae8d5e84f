//! [`Sender`] and [`WeakSender`]: the sending handles of a broadcast channel.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use gort_gc::{Gc, Trace, Visitor};

use super::error::SendError;
use super::receiver::Receiver;
use super::ring::Shared;
use super::wait_list::Registration;

/// The sending half of a broadcast channel: every value sent goes to every subscribed
/// [`Receiver`]. Clone it for more senders; the channel closes when the last one is dropped.
pub struct Sender<T> {
    shared: Gc<Shared<T>>,
}

/// A sender that does not keep the channel open: once every [`Sender`] is gone the channel is
/// closed even if `WeakSender`s remain, and [`upgrade`](WeakSender::upgrade) returns `None`.
pub struct WeakSender<T> {
    shared: Gc<Shared<T>>,
}

/// The future of [`Sender::closed`]'s wait.
struct WaitClosed<'a, T> {
    shared: &'a Shared<T>,
    registration: Registration,
}

impl<T> Sender<T> {
    /// A sender of a new channel with room for `capacity` values (rounded up to a power of
    /// two) and no receiver yet: [`subscribe`](Sender::subscribe) makes them.
    ///
    /// # Panics
    ///
    /// If `capacity` is 0 or exceeds `usize::MAX / 2`.
    #[track_caller]
    pub fn new(capacity: usize) -> Sender<T> {
        Sender {
            shared: Shared::allocate(capacity, 0),
        }
    }

    /// The sender of a channel made by [`channel`](super::channel).
    pub(super) fn from_shared(shared: Gc<Shared<T>>) -> Sender<T> {
        Sender { shared }
    }

    /// Sends `value` to every subscribed receiver, overwriting the oldest retained value if
    /// the channel is full (receivers that had not read it then lag). Never waits.
    ///
    /// Returns how many receivers are subscribed (not all of them need read it: they may drop
    /// or lag first), or, with none subscribed, the value in the error. A failed send does not
    /// close the channel: a later `subscribe` makes sending work again.
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        self.shared.send(value)
    }

    /// A new receiver that gets the values sent after this call.
    pub fn subscribe(&self) -> Receiver<T> {
        Receiver::subscribed(Gc::clone(&self.shared))
    }

    /// A [`WeakSender`] of this channel, which does not keep it open.
    #[must_use = "a WeakSender sends nothing until upgraded; this sender stays as it is"]
    pub fn downgrade(&self) -> WeakSender<T> {
        // A count, not a synchronisation point.
        self.shared.weak_senders.fetch_add(1, Ordering::Relaxed);
        WeakSender {
            shared: Gc::clone(&self.shared),
        }
    }

    /// Retained values that some receiver subscribed when they were sent has yet to read.
    /// Unlike [`Receiver::len`], values already overwritten do not count.
    pub fn len(&self) -> usize {
        self.shared.queued()
    }

    /// Whether every retained value was read by every receiver it was sent to.
    pub fn is_empty(&self) -> bool {
        self.shared.nothing_queued()
    }

    /// Subscribed receivers, that is, how many the next value is sent to.
    pub fn receiver_count(&self) -> usize {
        self.shared.receiver_count()
    }

    /// Whether `other` sends on the same channel.
    pub fn same_channel(&self, other: &Sender<T>) -> bool {
        Gc::ptr_eq(&self.shared, &other.shared)
    }

    /// Completes once no receiver is subscribed (at once if none is now). A receiver that
    /// subscribes before it is polled again reopens the channel and the wait goes on.
    pub async fn closed(&self) {
        WaitClosed {
            shared: &self.shared,
            registration: Registration::default(),
        }
        .await;
    }

    /// Live [`Sender`]s of this channel.
    pub fn strong_count(&self) -> usize {
        self.shared.senders.load(Ordering::Acquire)
    }

    /// Live [`WeakSender`]s of this channel.
    pub fn weak_count(&self) -> usize {
        self.shared.weak_senders.load(Ordering::Acquire)
    }
}

impl<T> WeakSender<T> {
    /// A [`Sender`] of the channel, or `None` if every `Sender` is gone (the channel is closed
    /// for good).
    #[must_use]
    pub fn upgrade(&self) -> Option<Sender<T>> {
        let senders = &self.shared.senders;
        let mut count = senders.load(Ordering::Acquire);
        loop {
            if count == 0 {
                return None;
            }
            // Pairs with the last sender's `AcqRel` decrement: never revive a count of zero.
            match senders.compare_exchange_weak(
                count,
                count + 1,
                Ordering::Relaxed,
                Ordering::Acquire,
            ) {
                Ok(_) => return Some(Sender::from_shared(Gc::clone(&self.shared))),
                Err(current) => count = current,
            }
        }
    }

    /// Live [`Sender`]s of this channel.
    pub fn strong_count(&self) -> usize {
        self.shared.senders.load(Ordering::Acquire)
    }

    /// Live [`WeakSender`]s of this channel.
    pub fn weak_count(&self) -> usize {
        self.shared.weak_senders.load(Ordering::Acquire)
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
        // A count: the handle being cloned keeps the count above zero meanwhile.
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

impl<T> Clone for WeakSender<T> {
    fn clone(&self) -> WeakSender<T> {
        self.shared.weak_senders.fetch_add(1, Ordering::Relaxed);
        WeakSender {
            shared: Gc::clone(&self.shared),
        }
    }
}

impl<T> Drop for WeakSender<T> {
    fn drop(&mut self) {
        if let Some(shared) = Gc::try_get(&self.shared) {
            shared.weak_senders.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

// The handles are `Unpin` whatever `T` is, as tokio's are (nothing points into them; a `Gc` is
// `Unpin` only when its value is).
impl<T> Unpin for Sender<T> {}
impl<T> Unpin for WeakSender<T> {}

// SAFETY: a sender owns exactly one handle to its channel's state, and never swaps it.
unsafe impl<T> Trace for Sender<T> {
    fn trace(&self, visitor: &mut dyn Visitor) {
        self.shared.trace(visitor);
    }
}

// SAFETY: as for the sender. A weak sender is an edge too: it can upgrade and send, so a task
// parked on the channel is reachable through it.
unsafe impl<T> Trace for WeakSender<T> {
    fn trace(&self, visitor: &mut dyn Visitor) {
        self.shared.trace(visitor);
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "broadcast::Sender")
    }
}

impl<T> fmt::Debug for WeakSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "broadcast::WeakSender")
    }
}
