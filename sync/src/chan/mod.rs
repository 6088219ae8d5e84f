//! Go channels: MPMC, rendezvous at capacity 0, a ring otherwise, `close` from either side.
//!
//! # Semantics (Go's, with Rust's ownership)
//!
//! - `chan::<T>(0)` is a rendezvous: `send` completes only once a receiver has the value. A
//!   sender that finds a receiver parked hands the value straight to it; the receiver's task
//!   is woken into the sender's P's `runnext`, so a ping-pong pair stays on one thread.
//! - `chan::<T>(n)` buffers up to `n` values in a ring; `send` parks only when it is full.
//! - `close()` from either side, or dropping the last `Sender`, closes the channel. Receivers
//!   first drain what is buffered, then get `None`; `send` on a closed channel returns
//!   `Err(SendError(value))` (Go panics; Rust gives the value back). Dropping every `Receiver`
//!   does not close it (as in Go): a send that nobody will receive waits, and the GC arena's
//!   leak detector (`gort::gc::leaks`) is what reports it.
//! - Cancellation loses nothing: a dropped pending `send` delivers nothing (its value is
//!   dropped with it); a dropped `recv` that a sender had already handed a value to gives the
//!   value back to the channel.
//! - Each operation that completes at once spends one unit of the task's coop budget, so a loop
//!   over a channel that always has data yields to other tasks (`gort-context`).
//!
//! # Layout
//!
//! `state.rs` is the channel (Go's `hchan`) and its non-blocking operations; `waiter.rs` the
//! parked operation (`sudog`) and the select flag; `recv_op.rs` / `send_op.rs` one operation in
//! progress, plain or as a `select!` case; this file the public handles.
//!
//! # In the GC arena
//!
//! The shared state is an arena object (`gort_gc::Gc`). Its tracer reports the wakers of the
//! tasks parked in its queues (the leak pass's channel → task edges) and, for a channel made by
//! `chan!` with `T: Trace` or by `traced_chan`, the handles inside buffered values and the
//! values of parked senders, so that a channel holding its own receiver is reclaimed. Every
//! lock of the state pins the thread (`gort_gc::safepoint`): the collector, which runs with the
//! world stopped, never sees a queue or a buffer half changed.

mod after;
mod error;
mod handles;
mod parked_queue;
mod recv_op;
mod send_op;
mod state;
#[cfg(test)]
mod tests;
mod waiter;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use gort_gc::{Gc, Kind, Trace, Tracer, Visitor};

pub use after::after;
pub use error::{SendError, TryRecvError, TrySendError};
pub use waiter::Selection;
pub(crate) use waiter::Wakes;

use recv_op::RecvOp;
use send_op::SendOp;
pub(crate) use state::RawLocked;
use state::{Chan, Received, SendBlocked};

/// Creates a channel with `capacity` buffer slots (0: rendezvous).
///
/// Its elements are opaque to the GC arena: handles inside buffered values count as held from
/// outside, so a cycle through them is never reclaimed. `chan![T; n]` traces the elements when
/// `T: Trace` (see [`chan!`](crate::chan!)).
pub fn chan<T: Send + 'static>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    handles(Gc::new_traced_by::<OpaqueElements>(Chan::new(capacity)))
}

/// Creates a channel whose buffered values the GC arena traces, so that a channel sent its own
/// receiver (Go's `chan chan T` cycles) is reclaimed once nothing outside holds it.
pub fn traced_chan<T: Trace + Send + 'static>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    handles(Gc::new_traced_by::<TracedElements>(Chan::new(capacity)))
}

fn handles<T: Send + 'static>(chan: Gc<Chan<T>>) -> (Sender<T>, Receiver<T>) {
    (
        Sender {
            chan: Gc::clone(&chan),
        },
        Receiver { chan, stream: None },
    )
}

/// Traces a channel's waiting tasks only (its elements are opaque).
struct OpaqueElements;

// SAFETY: reports only the wakers the channel's queues hold, once per holder; `Waits` because
// it never reports an object edge.
unsafe impl<T> Tracer<Chan<T>> for OpaqueElements {
    const KIND: Kind = Kind::Waits;
    fn trace(chan: &Chan<T>, visitor: &mut dyn Visitor) {
        // SAFETY: the arena traces objects only with the world stopped.
        unsafe { chan.trace(visitor, None) };
    }
}

/// Traces a channel's waiting tasks and the handles inside its buffered and parked-sent values.
struct TracedElements;

// SAFETY: the channel owns its buffered values and, while they are parked, the values of its
// senders (the sender's future gave them up to the waiter); `T: Trace` reports their handles.
unsafe impl<T: Trace> Tracer<Chan<T>> for TracedElements {
    const KIND: Kind = if T::NEEDS_TRACE {
        Kind::Cycle
    } else {
        Kind::Waits
    };
    fn trace(chan: &Chan<T>, visitor: &mut dyn Visitor) {
        // SAFETY: the arena traces objects only with the world stopped.
        unsafe { chan.trace(visitor, Some(|value: &T, visitor| value.trace(visitor))) };
    }
}

// SAFETY: a `Sender` owns one handle to its channel's state.
unsafe impl<T> Trace for Sender<T> {
    fn trace(&self, visitor: &mut dyn Visitor) {
        self.chan.trace(visitor);
    }
}

// SAFETY: a `Receiver` owns one handle to its channel's state; its receive in progress owns
// no handle (a waiter is not an arena object).
unsafe impl<T> Trace for Receiver<T> {
    fn trace(&self, visitor: &mut dyn Visitor) {
        self.chan.trace(visitor);
    }
}

/// `chan!`'s choice between [`traced_chan`] and [`chan`], made at the call site where `T` is
/// known (autoref specialisation: the traced impl is on the maker, the opaque one on a
/// reference to it, and method lookup tries the maker first).
#[doc(hidden)]
pub struct ChanMaker<T>(std::marker::PhantomData<T>);

impl<T> ChanMaker<T> {
    #[doc(hidden)]
    pub fn new() -> ChanMaker<T> {
        ChanMaker(std::marker::PhantomData)
    }
}

impl<T> Default for ChanMaker<T> {
    fn default() -> Self {
        ChanMaker::new()
    }
}

#[doc(hidden)]
pub trait MakeTracedChan<T> {
    fn make(&self, capacity: usize) -> (Sender<T>, Receiver<T>);
}

impl<T: Trace + Send + 'static> MakeTracedChan<T> for ChanMaker<T> {
    fn make(&self, capacity: usize) -> (Sender<T>, Receiver<T>) {
        traced_chan(capacity)
    }
}

#[doc(hidden)]
pub trait MakeOpaqueChan<T> {
    fn make(&self, capacity: usize) -> (Sender<T>, Receiver<T>);
}

impl<T: Send + 'static> MakeOpaqueChan<T> for &ChanMaker<T> {
    fn make(&self, capacity: usize) -> (Sender<T>, Receiver<T>) {
        chan(capacity)
    }
}

/// The sending side of a channel. Clone it for more senders; the last one dropped closes the
/// channel.
pub struct Sender<T> {
    chan: Gc<Chan<T>>,
}

/// The receiving side of a channel. Clone it for more receivers (each value goes to one).
pub struct Receiver<T> {
    chan: Gc<Chan<T>>,
    /// The receive in progress through the `Stream` impl, made on first use. Boxed so that a
    /// receiver holds no `T` inline: `struct Loop(Receiver<Loop>)` must have a size.
    stream: Option<Box<RecvOp<T>>>,
}

impl<T: Send + 'static> Sender<T> {
    /// Sends `value`, waiting for a receiver (capacity 0) or for room in the buffer. On a
    /// closed channel, returns the value in the error.
    pub fn send(&self, value: T) -> SendFuture<'_, T> {
        SendFuture {
            sender: self,
            op: SendOp::new(value),
        }
    }

    /// Sends `value` if a receiver is waiting or the buffer has room, without waiting.
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let mut state = self.chan.lock();
        state
            .try_send(value, self.chan.capacity)
            .map_err(|blocked| match blocked {
                SendBlocked::Full(value) => TrySendError::Full(value),
                SendBlocked::Closed(value) => TrySendError::Closed(value),
            })
    }

    /// [`Sender::send`] for a plain thread (or `spawn_blocking`): blocks the thread. Do not
    /// call it inside a task: it would block the task's thread.
    pub fn send_blocking(&self, value: T) -> Result<(), SendError<T>> {
        blocking(|| futures::executor::block_on(self.send(value)))
    }
}

impl<T> Sender<T> {
    /// Closes the channel (module doc).
    pub fn close(&self) {
        self.chan.close();
    }

    /// Whether the channel is closed.
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// Values buffered now.
    pub fn len(&self) -> usize {
        self.chan.lock().buffer.len()
    }

    /// Whether nothing is buffered now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The buffer's capacity (0: rendezvous).
    pub fn capacity(&self) -> usize {
        self.chan.capacity
    }
}

impl<T: Send + 'static> Receiver<T> {
    /// Receives a value, waiting for one; `None` once the channel is closed and drained.
    pub fn recv(&self) -> RecvFuture<'_, T> {
        RecvFuture {
            receiver: self,
            op: RecvOp::new(),
        }
    }

    /// Receives a value if one is buffered or a sender is waiting, without waiting.
    pub fn try_recv(&self) -> Result<T, TryRecvError> {
        match self.chan.lock().try_recv() {
            Received::Value(value) => Ok(value),
            Received::Empty => Err(TryRecvError::Empty),
            Received::Closed => Err(TryRecvError::Closed),
        }
    }

    /// [`Receiver::recv`] for a plain thread (or `spawn_blocking`): blocks the thread.
    pub fn recv_blocking(&self) -> Option<T> {
        blocking(|| futures::executor::block_on(self.recv()))
    }
}

impl<T> Receiver<T> {
    /// Closes the channel (module doc).
    pub fn close(&self) {
        self.chan.close();
    }

    /// Whether the channel is closed (values may still be buffered).
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// Values buffered now.
    pub fn len(&self) -> usize {
        self.chan.lock().buffer.len()
    }

    /// Whether nothing is buffered now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The buffer's capacity (0: rendezvous).
    pub fn capacity(&self) -> usize {
        self.chan.capacity
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.chan.handles.add_sender();
        Sender {
            chan: Gc::clone(&self.chan),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        // `None`: the channel is being freed with the unreachable cycle this sender is part of
        // (`gort_gc::collector`), and nobody is left to be told it closed.
        let Some(chan) = Gc::try_get(&self.chan) else {
            return;
        };
        if chan.handles.drop_sender() {
            chan.close();
        }
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.chan.handles.add_receiver();
        Receiver {
            chan: Gc::clone(&self.chan),
            stream: None,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        // As in `Sender::drop`: a channel being freed as garbage has no receive to cancel.
        let Some(chan) = Gc::try_get(&self.chan) else {
            return;
        };
        if let Some(stream) = &mut self.stream {
            stream.cancel(&self.chan);
        }
        chan.drop_receiver();
    }
}

impl<T: Send + 'static> Stream for Receiver<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        this.stream
            .get_or_insert_with(|| Box::new(RecvOp::new()))
            .poll(&this.chan, cx)
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("capacity", &self.chan.capacity)
            .field("closed", &self.chan.is_closed())
            .finish()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("capacity", &self.chan.capacity)
            .field("closed", &self.chan.is_closed())
            .finish()
    }
}

// The futures and `Receiver` need no pinning: an op's address matters only within one poll,
// while a `select!` driver holds it (`select.rs`), and nothing points into them between polls.
impl<T> Unpin for SendFuture<'_, T> {}
impl<T> Unpin for RecvFuture<'_, T> {}
impl<T> Unpin for Receiver<T> {}

// SAFETY: the only unsynchronised part of a `Receiver` is its `Stream` op, touched through
// `&mut self` (`poll_next`, `drop`) only; through `&Receiver` other threads reach the channel,
// which is `Sync`.
unsafe impl<T: Send> Sync for Receiver<T> {}

/// The future of [`Sender::send`]. Dropping it before it completes sends nothing.
#[must_use = "futures do nothing unless polled"]
pub struct SendFuture<'a, T> {
    sender: &'a Sender<T>,
    op: SendOp<T>,
}

impl<T: Send + 'static> Future for SendFuture<'_, T> {
    type Output = Result<(), SendError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.op.poll(&this.sender.chan, cx)
    }
}

impl<T> Drop for SendFuture<'_, T> {
    fn drop(&mut self) {
        self.op.cancel(&self.sender.chan);
    }
}

/// The future of [`Receiver::recv`]. Dropping it before it completes receives nothing.
#[must_use = "futures do nothing unless polled"]
pub struct RecvFuture<'a, T> {
    receiver: &'a Receiver<T>,
    op: RecvOp<T>,
}

impl<T: Send + 'static> Future for RecvFuture<'_, T> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let this = self.get_mut();
        this.op.poll(&this.receiver.chan, cx)
    }
}

impl<T> Drop for RecvFuture<'_, T> {
    fn drop(&mut self) {
        self.op.cancel(&self.receiver.chan);
    }
}

/// Runs a thread-blocking wait unpinned: a thread asleep on a channel must not hold off a
/// collection (`gort_gc::safepoint`), even when it sleeps inside a task's poll.
fn blocking<R>(wait: impl FnOnce() -> R) -> R {
    gort_gc::unpinned(wait)
}
