//! [`Receiver`]: the receiving handle of a broadcast channel, and its receive future.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::task::{ready, Context, Poll};

use gort_gc::{Gc, Trace, Visitor};

use super::error::{RecvError, TryRecvError};
use super::ring::Shared;
use super::wait_list::Registration;

/// The receiving half of a broadcast channel: it sees every value sent after it subscribed,
/// in order, unless it lags (see the module doc). It reads through `&mut self`, one receive at
/// a time; for another independent reader, [`resubscribe`](Receiver::resubscribe).
pub struct Receiver<T> {
    shared: Gc<Shared<T>>,
    /// The position of the next value to read. Only this handle moves it.
    next: u64,
}

/// The future of [`Receiver::recv`]'s wait.
struct Recv<'a, T> {
    receiver: &'a mut Receiver<T>,
    /// Where the wait is parked, if it is.
    registration: Registration,
}

impl<T> Receiver<T> {
    /// The first receiver of a channel made by [`channel`](super::channel), already counted,
    /// reading from the start.
    pub(super) fn first(shared: Gc<Shared<T>>) -> Receiver<T> {
        Receiver { shared, next: 0 }
    }

    /// A new receiver of `shared`, reading from its tail.
    pub(super) fn subscribed(shared: Gc<Shared<T>>) -> Receiver<T> {
        let next = shared.add_receiver();
        Receiver { shared, next }
    }

    /// Values sent that this receiver has not read yet, counting those it lost to lagging
    /// (unlike [`Sender::len`](super::Sender::len)).
    pub fn len(&self) -> usize {
        self.shared.unread_from(self.next)
    }

    /// Whether this receiver has read every value sent.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `other` receives from the same channel.
    pub fn same_channel(&self, other: &Receiver<T>) -> bool {
        Gc::ptr_eq(&self.shared, &other.shared)
    }

    /// Live [`Sender`](super::Sender)s of the channel.
    pub fn sender_strong_count(&self) -> usize {
        self.shared.senders.load(Ordering::Acquire)
    }

    /// Live [`WeakSender`](super::WeakSender)s of the channel.
    pub fn sender_weak_count(&self) -> usize {
        self.shared.weak_senders.load(Ordering::Acquire)
    }

    /// Whether every [`Sender`](super::Sender) is gone. Values retained may still be read.
    pub fn is_closed(&self) -> bool {
        self.sender_strong_count() == 0
    }
}

impl<T: Clone> Receiver<T> {
    /// A new receiver of the same channel that gets the values sent from now on (not the ones
    /// this receiver has still to read).
    pub fn resubscribe(&self) -> Receiver<T> {
        Receiver::subscribed(Gc::clone(&self.shared))
    }

    /// Receives the next value (a clone: every receiver gets its own), waiting for one.
    ///
    /// `Err(Lagged(n))` once if `n` values were overwritten before this receiver read them
    /// (the next call returns the oldest still retained), `Err(Closed)` once every sender is
    /// gone and nothing retained is left to read. Cancel safe: dropping the future loses no
    /// value. Spends one unit of the task's coop budget when it completes.
    pub async fn recv(&mut self) -> Result<T, RecvError> {
        Recv {
            receiver: self,
            registration: Registration::default(),
        }
        .await
    }

    /// Receives the next value if there is one, without waiting.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let read = self.shared.next_value(&mut self.next, None)?;
        let value = read.value().cloned();
        drop(read);
        value.ok_or(TryRecvError::Closed)
    }

    /// [`Receiver::recv`] for a plain thread (or `spawn_blocking`): blocks the thread until a
    /// value comes or the channel closes. Panics inside a task or a `block_on` future, whose
    /// thread must go on running tasks (tokio's rule).
    #[track_caller]
    pub fn blocking_recv(&mut self) -> Result<T, RecvError> {
        // Refuses inside a task, as tokio's does; unpinned meanwhile (`crate::blocking`).
        crate::blocking::block_on("broadcast::Receiver::blocking_recv", self.recv())
    }
}

impl<T: Clone> Future for Recv<'_, T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let progress = ready!(gort_context::poll_proceed(cx));
        let receiver = &mut *this.receiver;
        let park = Some((&mut this.registration, cx.waker()));
        let result = match receiver.shared.next_value(&mut receiver.next, park) {
            Ok(read) => {
                let value = read.value().cloned();
                drop(read);
                value.ok_or(RecvError::Closed)
            }
            Err(TryRecvError::Empty) => return Poll::Pending,
            Err(TryRecvError::Lagged(missed)) => Err(RecvError::Lagged(missed)),
            Err(TryRecvError::Closed) => Err(RecvError::Closed),
        };
        // A value, a lag or the close came after any parking of ours, and each of those
        // emptied the wait list: nothing to withdraw (`wait_list.rs`).
        this.registration.forget();
        progress.made();
        Poll::Ready(result)
    }
}

impl<T> Drop for Recv<'_, T> {
    fn drop(&mut self) {
        if self.registration.may_be_parked() {
            self.receiver.shared.cancel_receive(&mut self.registration);
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        // `None` only while the collector frees a cycle this receiver was in: nobody is left to
        // tell.
        if let Some(shared) = Gc::try_get(&self.shared) {
            shared.remove_receiver(self.next);
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

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "broadcast::Receiver")
    }
}
