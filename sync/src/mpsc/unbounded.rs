//! The unbounded channel: [`unbounded_channel`], [`UnboundedSender`],
//! [`WeakUnboundedSender`], [`UnboundedReceiver`]. The same state as the bounded one, without
//! permits: a send never waits, so it is a plain function.

use std::fmt;
use std::future::poll_fn;
use std::task::{Context, Poll};

use gort_gc::{Gc, Trace, Visitor};

use super::chan::Channel;
use super::error::{SendError, TryRecvError};
use super::reserve::WaitClosed;

/// Creates a channel without a bound: sends never wait, and the buffer grows as needed. Use it
/// where the producer cannot wait (a callback, a `Drop`) or is known to be slower than the
/// consumer; otherwise a bounded [`channel`](super::channel) gives back-pressure.
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    let chan = Channel::allocate(None);
    (
        UnboundedSender {
            chan: Gc::clone(&chan),
        },
        UnboundedReceiver { chan },
    )
}

/// The sending half of an unbounded channel. Clone it for more senders; when the last one is
/// gone, the receiver gets what is buffered and then `None`.
pub struct UnboundedSender<T> {
    chan: Gc<Channel<T>>,
}

/// An unbounded sender that does not keep the channel open (see
/// [`WeakSender`](super::WeakSender)).
pub struct WeakUnboundedSender<T> {
    chan: Gc<Channel<T>>,
}

/// The receiving half of an unbounded channel. Dropping it closes the channel and drops what
/// is buffered.
pub struct UnboundedReceiver<T> {
    chan: Gc<Channel<T>>,
}

impl<T> UnboundedSender<T> {
    /// Sends `message` without waiting. Fails, giving it back, once the receiver closed the
    /// channel or is gone.
    pub fn send(&self, message: T) -> Result<(), SendError<T>> {
        self.chan.send_unbounded(message)
    }

    /// Completes once the receiver closed the channel or is gone.
    pub async fn closed(&self) {
        let mut wait = WaitClosed::new(&self.chan);
        poll_fn(|cx| wait.poll_closed(cx)).await;
    }

    /// Whether the receiver closed the channel or is gone: sends fail from now on.
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// Whether both senders belong to the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        Gc::ptr_eq(&self.chan, &other.chan)
    }

    /// A [`WeakUnboundedSender`] for this channel, which does not keep it open.
    #[must_use = "Downgrade creates a WeakSender without destroying the original non-weak sender."]
    pub fn downgrade(&self) -> WeakUnboundedSender<T> {
        self.chan.add_weak();
        WeakUnboundedSender {
            chan: Gc::clone(&self.chan),
        }
    }

    /// Strong senders alive now.
    pub fn strong_count(&self) -> usize {
        self.chan.strong_count()
    }

    /// Weak senders alive now.
    pub fn weak_count(&self) -> usize {
        self.chan.weak_count()
    }
}

impl<T> UnboundedReceiver<T> {
    /// Receives the next value, waiting for one; `None` once every sender is gone (or the
    /// channel was closed) and nothing is buffered. Cancel safe.
    pub async fn recv(&mut self) -> Option<T> {
        poll_fn(|cx| self.chan.poll_recv(cx)).await
    }

    /// Receives up to `limit` values into `buffer` (appended), waiting for at least one.
    /// Returns how many; 0 only once the channel ended, or for a `limit` of 0. Cancel safe.
    pub async fn recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        poll_fn(|cx| self.chan.poll_recv_many(cx, buffer, limit)).await
    }

    /// Receives a value if one is buffered now.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.chan.try_recv()
    }

    /// [`recv`](UnboundedReceiver::recv) for a plain thread: blocks the thread.
    ///
    /// Panics inside a task or a `block_on` future.
    #[track_caller]
    pub fn blocking_recv(&mut self) -> Option<T> {
        crate::blocking::block_on("UnboundedReceiver::blocking_recv", self.recv())
    }

    /// [`recv_many`](UnboundedReceiver::recv_many) for a plain thread: blocks the thread.
    ///
    /// Panics inside a task or a `block_on` future.
    #[track_caller]
    pub fn blocking_recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        crate::blocking::block_on(
            "UnboundedReceiver::blocking_recv_many",
            self.recv_many(buffer, limit),
        )
    }

    /// Closes the channel: sends fail from now on; what is buffered can still be received.
    pub fn close(&mut self) {
        self.chan.close();
    }

    /// Whether the channel is closed: by [`close`](UnboundedReceiver::close), or because
    /// every sender is gone. Values may still be buffered.
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed_for_receiver()
    }

    /// Whether nothing is buffered now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Values buffered now.
    pub fn len(&self) -> usize {
        self.chan.len()
    }

    /// Polls for the next value, registering `cx`'s task to be woken when one may be there.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.chan.poll_recv(cx)
    }

    /// Polls for up to `limit` values into `buffer`, as
    /// [`recv_many`](UnboundedReceiver::recv_many).
    pub fn poll_recv_many(
        &mut self,
        cx: &mut Context<'_>,
        buffer: &mut Vec<T>,
        limit: usize,
    ) -> Poll<usize> {
        self.chan.poll_recv_many(cx, buffer, limit)
    }

    /// Strong senders alive now.
    pub fn sender_strong_count(&self) -> usize {
        self.chan.strong_count()
    }

    /// Weak senders alive now.
    pub fn sender_weak_count(&self) -> usize {
        self.chan.weak_count()
    }
}

super::handles::handle_plumbing!(UnboundedSender, WeakUnboundedSender, UnboundedReceiver);
