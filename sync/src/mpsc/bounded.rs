//! The bounded channel: [`channel`], [`Sender`], [`WeakSender`], [`Receiver`].

use std::fmt;
use std::future::poll_fn;
use std::task::{Context, Poll};
use std::time::Duration;

use gort_gc::{Gc, Trace, Visitor};

use super::chan::Channel;
use super::error::{SendError, SendTimeoutError, TryRecvError, TrySendError};
use super::permits::{OwnedPermit, Permit, PermitIterator};
use super::reserve::{Acquire, WaitClosed};

/// The most slots a bounded channel can have (tokio's semaphore limit, so that ported code
/// fails at the same edge).
const MAX_BOUND: usize = usize::MAX >> 3;

/// Creates a bounded channel with room for `buffer` values: a send waits while `buffer` values
/// are buffered or reserved.
///
/// Panics if `buffer` is 0 (use [`chan`](fn@crate::chan) with capacity 0 for a rendezvous),
/// or larger than `usize::MAX >> 3`.
#[track_caller]
pub fn channel<T>(buffer: usize) -> (Sender<T>, Receiver<T>) {
    assert!(buffer > 0, "mpsc bounded channel requires buffer > 0");
    assert!(
        buffer <= MAX_BOUND,
        "a semaphore may not have more than MAX_PERMITS permits ({MAX_BOUND})"
    );
    let chan = Channel::allocate(Some(buffer));
    (
        Sender {
            chan: Gc::clone(&chan),
        },
        Receiver { chan },
    )
}

/// The sending half of a bounded channel. Clone it for more senders; when the last one (with
/// the last [`OwnedPermit`]) is gone, the receiver gets what is buffered and then `None`.
pub struct Sender<T> {
    chan: Gc<Channel<T>>,
}

/// A sender that does not keep the channel open: [`upgrade`](WeakSender::upgrade) gives a
/// [`Sender`] while any strong one is alive. For a task that must not keep its own inbox open.
pub struct WeakSender<T> {
    chan: Gc<Channel<T>>,
}

/// The receiving half of a bounded channel (one per channel). Dropping it closes the channel
/// and drops what is buffered.
pub struct Receiver<T> {
    chan: Gc<Channel<T>>,
}

impl<T> Sender<T> {
    /// The shared state, for permits.
    pub(super) fn chan(&self) -> &Channel<T> {
        &self.chan
    }

    /// Sends `value`, waiting for a free slot. Fails, giving the value back, once the receiver
    /// closed the channel or is gone.
    ///
    /// Cancel safe in tokio's sense: dropped before it completes, it sent nothing and holds no
    /// slot; it does lose its place in the queue of waiting senders, and the value.
    pub async fn send(&self, value: T) -> Result<(), SendError<T>> {
        let mut value = Some(value);
        let mut acquire = Acquire::new(&self.chan, 1);
        let sent = poll_fn(|cx| acquire.poll_acquire(cx, &mut value)).await;
        match sent {
            Ok(()) => Ok(()),
            Err(_) => Err(SendError(
                value.take().expect("a failed send keeps its value"),
            )),
        }
    }

    /// Completes once the receiver closed the channel or is gone. For a producer that should
    /// stop when nobody listens any more.
    pub async fn closed(&self) {
        let mut wait = WaitClosed::new(&self.chan);
        poll_fn(|cx| wait.poll_closed(cx)).await;
    }

    /// Sends `value` if a slot is free now, without waiting.
    pub fn try_send(&self, message: T) -> Result<(), TrySendError<T>> {
        self.chan.try_send(message)
    }

    /// [`send`](Sender::send), giving up after `timeout`: `Timeout(value)` then.
    pub async fn send_timeout(
        &self,
        value: T,
        timeout: Duration,
    ) -> Result<(), SendTimeoutError<T>> {
        // This crate sits below the executor and cannot start gort's default runtime: a timer
        // armed where no runtime drives timers would never fire, so this fails as tokio's does
        // off a runtime rather than wait for ever.
        assert!(
            gort_timer::is_driven(),
            "there is no reactor running, must be called from the context of a Tokio 1.x \
             runtime (gort: no runtime drives this thread's timers: call send_timeout inside \
             one, or start the default runtime first, e.g. with Handle::current())"
        );
        match gort_timer::timeout(timeout, self.reserve()).await {
            Err(_) => Err(SendTimeoutError::Timeout(value)),
            Ok(Err(_)) => Err(SendTimeoutError::Closed(value)),
            Ok(Ok(permit)) => {
                permit.send(value);
                Ok(())
            }
        }
    }

    /// [`send`](Sender::send) for a plain thread or `spawn_blocking`: blocks the thread.
    ///
    /// Panics inside a task or a `block_on` future, whose thread must keep running tasks.
    #[track_caller]
    pub fn blocking_send(&self, value: T) -> Result<(), SendError<T>> {
        crate::blocking::block_on("Sender::blocking_send", self.send(value))
    }

    /// Whether the receiver closed the channel or is gone: sends fail from now on.
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// Waits for a free slot and reserves it: sending with the [`Permit`] cannot wait or fail.
    /// For a producer that must know it can send before it builds the value.
    ///
    /// Cancel safe: dropped before it completes, it holds no slot.
    pub async fn reserve(&self) -> Result<Permit<'_, T>, SendError<()>> {
        self.reserve_slots(1).await?;
        Ok(Permit::new(&self.chan))
    }

    /// Waits for `n` free slots and reserves them all at once. Fails at once if `n` exceeds
    /// [`max_capacity`](Sender::max_capacity). `n == 0` succeeds unless the channel is closed.
    ///
    /// Cancel safe: dropped before it completes, it gives back the slots it had gathered.
    pub async fn reserve_many(&self, n: usize) -> Result<PermitIterator<'_, T>, SendError<()>> {
        self.reserve_slots(n).await?;
        Ok(PermitIterator::new(&self.chan, n))
    }

    /// [`reserve`](Sender::reserve) for a permit that owns this sender, so that it can move
    /// into another task.
    pub async fn reserve_owned(self) -> Result<OwnedPermit<T>, SendError<()>> {
        self.reserve_slots(1).await?;
        Ok(OwnedPermit::new(self))
    }

    /// Waits until `n` slots are reserved (the reservation protocol of `reserve.rs`).
    async fn reserve_slots(&self, n: usize) -> Result<(), SendError<()>> {
        if n > self.max_capacity() {
            return Err(SendError(()));
        }
        let mut acquire = Acquire::new(&self.chan, n);
        let reserved = poll_fn(|cx| acquire.poll_acquire(cx, &mut None)).await;
        reserved.map_err(|_| SendError(()))
    }

    /// Reserves a slot if one is free now, without waiting.
    pub fn try_reserve(&self) -> Result<Permit<'_, T>, TrySendError<()>> {
        self.chan.try_acquire(1)?;
        Ok(Permit::new(&self.chan))
    }

    /// Reserves `n` slots if they are all free now. `Full` if `n` exceeds
    /// [`max_capacity`](Sender::max_capacity).
    pub fn try_reserve_many(&self, n: usize) -> Result<PermitIterator<'_, T>, TrySendError<()>> {
        self.chan.try_acquire(n)?;
        Ok(PermitIterator::new(&self.chan, n))
    }

    /// [`try_reserve`](Sender::try_reserve) for a permit that owns this sender; on failure the
    /// sender comes back in the error.
    pub fn try_reserve_owned(self) -> Result<OwnedPermit<T>, TrySendError<Self>> {
        match self.chan.try_acquire(1) {
            Ok(()) => Ok(OwnedPermit::new(self)),
            Err(TrySendError::Full(())) => Err(TrySendError::Full(self)),
            Err(TrySendError::Closed(())) => Err(TrySendError::Closed(self)),
        }
    }

    /// Whether both senders belong to the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        Gc::ptr_eq(&self.chan, &other.chan)
    }

    /// Slots free now: the bound minus what is buffered, reserved, or gathered by a waiting
    /// reservation.
    pub fn capacity(&self) -> usize {
        self.chan.capacity()
    }

    /// A [`WeakSender`] for this channel, which does not keep it open.
    #[must_use = "Downgrade creates a WeakSender without destroying the original non-weak sender."]
    pub fn downgrade(&self) -> WeakSender<T> {
        self.chan.add_weak();
        WeakSender {
            chan: Gc::clone(&self.chan),
        }
    }

    /// The bound the channel was made with.
    pub fn max_capacity(&self) -> usize {
        self.chan.bound()
    }

    /// Strong senders alive now (owned permits included).
    pub fn strong_count(&self) -> usize {
        self.chan.strong_count()
    }

    /// Weak senders alive now.
    pub fn weak_count(&self) -> usize {
        self.chan.weak_count()
    }
}

impl<T> Receiver<T> {
    /// Receives the next value, waiting for one. `None` once every sender is gone, or the
    /// channel was closed and no reserved slot is left, and nothing is buffered.
    ///
    /// Cancel safe: dropped before it completes, it received nothing.
    pub async fn recv(&mut self) -> Option<T> {
        poll_fn(|cx| self.chan.poll_recv(cx)).await
    }

    /// Receives up to `limit` values into `buffer` (appended), waiting for at least one.
    /// Returns how many; 0 only once the channel ended as for [`recv`](Receiver::recv), or
    /// for a `limit` of 0.
    ///
    /// Cancel safe.
    pub async fn recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        poll_fn(|cx| self.chan.poll_recv_many(cx, buffer, limit)).await
    }

    /// Receives a value if one is buffered now.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.chan.try_recv()
    }

    /// [`recv`](Receiver::recv) for a plain thread or `spawn_blocking`: blocks the thread.
    ///
    /// Panics inside a task or a `block_on` future.
    #[track_caller]
    pub fn blocking_recv(&mut self) -> Option<T> {
        crate::blocking::block_on("Receiver::blocking_recv", self.recv())
    }

    /// [`recv_many`](Receiver::recv_many) for a plain thread: blocks the thread.
    ///
    /// Panics inside a task or a `block_on` future.
    #[track_caller]
    pub fn blocking_recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        crate::blocking::block_on(
            "Receiver::blocking_recv_many",
            self.recv_many(buffer, limit),
        )
    }

    /// Closes the channel: sends and new reservations fail, waiting ones too, but slots
    /// already reserved can still send, and what is buffered can still be received. Receive
    /// until `None` to drain it.
    pub fn close(&mut self) {
        self.chan.close();
    }

    /// Whether the channel is closed: by [`close`](Receiver::close), or because every sender
    /// is gone. Values may still be buffered.
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

    /// Slots free now (see [`Sender::capacity`]).
    pub fn capacity(&self) -> usize {
        self.chan.capacity()
    }

    /// The bound the channel was made with.
    pub fn max_capacity(&self) -> usize {
        self.chan.bound()
    }

    /// Polls for the next value, registering `cx`'s task to be woken when one may be there
    /// (for hand-written futures and streams).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.chan.poll_recv(cx)
    }

    /// Polls for up to `limit` values into `buffer`, as [`recv_many`](Receiver::recv_many).
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

super::handles::handle_plumbing!(Sender, WeakSender, Receiver);
