//! gort's netpoller (DESIGN.md §4): poll descriptors on gort's own epoll (Linux, Android) or the
//! `polling` crate (elsewhere), and tokio's readiness types.
//!
//! # Bird's-eye view
//!
//! - [`Reactor`] (`reactor`): one poller per runtime, a slab of poll descriptors keyed by slot
//!   and generation, and the driver role that one thread at a time takes to wait for events. It
//!   has no thread: the executor drives it from `findRunnable` (non-blocking) and from the one M
//!   that would otherwise park (blocking, broken by [`Reactor::notify`]).
//! - `sys`: the poller itself. On Linux and Android (`sys/epoll.rs`) gort's own epoll fd,
//!   eventfd notifier, `epoll_ctl`, `epoll_wait`/`epoll_pwait2` and the waiting thread's timer
//!   slack, with the reasons gort drives epoll itself; elsewhere (`sys/portable.rs`) `polling`.
//! - `PollDesc` (`poll_desc`): one fd's readiness set ([`Ready`]) with an edge tick, and the
//!   wakers parked on it, per kind of [`Interest`].
//! - [`Interest`] and [`Ready`] (`interest`, `ready`): tokio's readiness types, which the
//!   descriptors are written in terms of.
//! - `Registered<T>` (`registered`): a non-blocking fd registered edge-triggered once; the
//!   try / park on `WouldBlock` / retry loop of every operation, public for the IO types above
//!   the executor.
//!
//! The crate never imports the executor, and it has no notion of a "current" or default
//! reactor: the IO types (`gort-net`, above the executor) register each fd with the reactor of
//! the runtime they get from the executor, so every registered fd has Ms that poll it.

mod interest;
mod loom;
#[doc(hidden)]
pub mod poll_desc;
mod reactor;
mod ready;
mod registered;
mod sys;

pub use interest::Interest;
pub use reactor::{Driver, Reactor, EVENTS_PER_POLL};
pub use ready::Ready;
pub use registered::Registered;
