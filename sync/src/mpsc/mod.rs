//! tokio's multi-producer, single-consumer channels, written for gort: [`channel`] (bounded,
//! with permits) and [`unbounded_channel`].
//!
//! The API, the semantics and the error messages are tokio's, so that `tokio::sync::mpsc` code
//! ports by renaming the path. Go's channels ([`chan`](fn@crate::chan)) are the other kind
//! gort has: MPMC, rendezvous at capacity 0, `select!` cases, and no receiver-side close.
//!
//! # Semantics (tokio's)
//!
//! - A bounded channel of `n` has `n` *slots*. A send takes one and the value keeps it until
//!   received; a [`Permit`] takes one ahead of the value (`reserve`), and gives it back if
//!   dropped unused. `capacity()` is the slots free now, `max_capacity()` is `n`.
//! - Senders that find no free slot wait in line, oldest first; slots freed by the receiver go
//!   to them in order, several to one `reserve_many(k)` until it has its `k`.
//! - The last strong sender (a [`WeakSender`] does not count; an [`OwnedPermit`] does) going
//!   away ends the channel: the receiver gets what is buffered, then `None`.
//! - The receiver's [`close`](Receiver::close) stops new sends and fails waiting ones, but the
//!   slots already reserved may still send, and the receiver drains until nothing is buffered
//!   and no slot is reserved. Dropping the receiver closes the channel and drops what is
//!   buffered; a value sent with a permit after that is dropped at once.
//! - Each receive or reservation that completes spends one unit of the task's coop budget
//!   (`gort-context`), so a loop over a channel that is always ready yields.
//!
//! # Design
//!
//! One mutex per channel guards the buffer (a ring, `VecDeque`), the free-slot count, the line
//! of waiting reservations and the receiver's waker (`chan.rs`). Every operation is one short
//! critical section: a `send` with a free slot takes it and buffers the value under one lock,
//! and takes the receiver's waker if it is parked, which it wakes after the unlock. That wake
//! is the hand-off: the receiver's task is woken straight from the sender's poll, which gort's
//! scheduler puts in the sender's P's `runnext`, so a ping-pong pair stays on one thread.
//!
//! tokio's channel is a lock-free linked list of blocks plus a separate semaphore, two
//! structures with two sets of atomics; gort's Go channel showed (BENCHMARKS.md) that one
//! uncontended lock per message is as cheap as that, and that a lock keeps every rule of the
//! protocol (FIFO slots, close while permits are out, cancellation) a few lines of plain code.
//! A bounded channel allocates nothing per message once warm: the ring grows to the bound and
//! stays; the line of waiters is a slab whose entries are reused (`wait_list.rs`).
//!
//! The state lives in gort's GC arena as a `Waits` object (`gort_gc::Kind`): its tracer reports
//! the wakers of the tasks parked on it (`chan receive` for the receiver, `chan send` for
//! waiting senders), so the leak pass (`gort::gc::leaks`) sees a task blocked on a channel
//! nothing can reach any more, as it does for Go channels. The handles implement `Trace`, so
//! they can be `go!` captures.
//!
//! # Layout
//!
//! `chan.rs` the shared state; `wait_list.rs` the line of waiting reservations; `reserve.rs`
//! the reservation and `closed()` futures; `bounded.rs`, `unbounded.rs` the handles;
//! `permits.rs` the permits; `error.rs` the errors.

mod bounded;
mod chan;
pub mod error;
mod handles;
mod permits;
mod reserve;
#[cfg(all(test, not(loom)))]
mod tests;
mod unbounded;
pub(crate) mod wait_list;

pub use bounded::{channel, Receiver, Sender, WeakSender};
pub use permits::{OwnedPermit, Permit, PermitIterator};
pub use unbounded::{unbounded_channel, UnboundedReceiver, UnboundedSender, WeakUnboundedSender};
