//! A broadcast channel (tokio's `sync::broadcast`): many senders, many receivers, and every
//! receiver sees every value sent after it subscribed.
//!
//! # Semantics (tokio's, so that ported code keeps working)
//!
//! - [`channel(n)`](channel) retains up to `n` values, `n` rounded up to a power of two (`0`
//!   panics). A value is stored once and cloned for each receiver that reads it (`T: Clone`);
//!   it is released when the last receiver subscribed at its send has read it, or dropped.
//! - `send` never waits. With the ring full it overwrites the oldest value; a receiver that
//!   had not read it *lags*: its next receive returns `Lagged(n)`, `n` the values it lost, and
//!   the one after that the oldest value still retained, from where it goes on in order.
//! - `send` with no receiver subscribed gives the value back in the error; a later
//!   `subscribe` makes sends work again. A new receiver sees only values sent after it.
//! - Once every [`Sender`] is gone, receivers read what is retained, then get `Closed`.
//!   [`Sender::closed`] completes once no receiver is subscribed.
//! - `recv` spends one unit of the task's coop budget when it completes, as tokio's does.
//!
//! # Design
//!
//! The channel is a ring of `capacity` slots and a tail (`ring.rs`). Position `p` (a 64-bit
//! count of sends) lives in slot `p & (capacity - 1)`, which records the position it holds,
//! so a receiver that wants position `next` tells by one comparison whether its slot holds
//! that value, a value one lap older (nothing new yet) or a newer one (it lagged). Each slot
//! has its own lock with a count of receivers still to read it; the tail lock guards the write
//! position, the receiver count, the closed flag and the parked receivers.
//!
//! 1. Send: lock the tail; with no receivers, fail. Take the position, lock its slot, store
//!    the value and set its unread count to the receiver count; take the parked receivers;
//!    unlock; wake them; drop the value overwritten, if any (user code, so outside locks).
//! 2. Receive at `next`: lock `next`'s slot. If it holds `next`, advance, clone, and count the
//!    read (the last reader releases the value). Only otherwise, unlock and take the tail lock
//!    then the slot's again (lock order: tail first): a lap behind means nothing new, so park
//!    (or `Closed`); a lap ahead means lagged, so move `next` to `tail - capacity`.
//! 3. Drop a receiver: uncount it, then mark every value it had left as read, so that a slow
//!    receiver going away releases what only it held.
//!
//! Receivers reading a value that is there never touch the tail lock, and a receiver reads
//! with one lock. Parking is a slab entry under the tail lock, and a send wakes every parked
//! receiver once with no allocation (`wait_list.rs`): a fan-out to a hundred receivers costs
//! the send one lock hold and a hundred wakes, each receiver one slot lock per value.
//!
//! The lock-based design is tokio's too; gort's differs in the wait list (a slab and an epoch
//! instead of an intrusive list, so no `unsafe`) and in never running user code (a waker, a
//! value's destructor) under a lock.
//!
//! # In the GC arena
//!
//! The state is a [`Gc`] object of kind `Waits`, as mpsc's and oneshot's are: it holds no
//! edges (values are opaque), but the leak pass asks it for the wakers in its two wait lists
//! and names them `broadcast receive` (a parked `recv`) and `broadcast closed` (a parked
//! `Sender::closed`). Every handle is [`Trace`](gort_gc::Trace), an edge to the state, so a
//! handle captured by `go!` or held in a `Gc` counts as reachable only through its owner: a
//! task parked on a channel whose handles are all held by leaked tasks is itself reported
//! leaked, while one handle held anywhere opaque (a plain future, `main`) keeps the channel,
//! and every task parked on it, live. Like Go's, the pass does not tell senders from receivers:
//! a live receiver also keeps a parked receiver live. The arena costs sends and receives next
//! to nothing: a `Gc` derefs like an `Arc` plus a relaxed load of the header's dead bit; only
//! making or dropping a handle also pins the thread for the count change (gort-gc's
//! `safepoint.rs`).

pub mod error;
mod receiver;
mod ring;
mod sender;
pub(crate) mod wait_list;

use gort_gc::Gc;

pub use receiver::Receiver;
pub use sender::{Sender, WeakSender};

use ring::Shared;

/// Creates a broadcast channel retaining up to `capacity` values (rounded up to a power of
/// two), with one receiver; [`Sender::subscribe`] makes more.
///
/// # Panics
///
/// If `capacity` is 0 or exceeds `usize::MAX / 2`.
#[track_caller]
pub fn channel<T: Clone>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let shared = Shared::allocate(capacity, 1);
    (
        Sender::from_shared(Gc::clone(&shared)),
        Receiver::first(shared),
    )
}
