//! The operating system's readiness interface, behind one small API: a [`Poller`] to which fds
//! are added edge-triggered under a key, a notification that breaks its wait, and the wait
//! itself, which fills [`Events`] with the [`Event`]s of the added fds.
//!
//! - Linux and Android (`epoll.rs`): gort drives epoll itself, with its own epoll fd and its own
//!   eventfd notifier; the reasons are in that file's essay.
//! - Everywhere else (`portable.rs`): the `polling` crate, used only through its documented API.
//!
//! # Keys
//!
//! A key is the reactor's (`reactor.rs`, "The descriptor table"). [`RESERVED_KEY`] belongs to
//! the backend: the epoll backend registers its notifier under it, and `polling` documents it as
//! reserved for its own use (`Poller::add`). `Reactor::register` never hands it out, and no
//! [`Event`] ever carries it.

use crate::ready::Ready;

#[cfg(any(target_os = "linux", target_os = "android"))]
mod epoll;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
mod portable;

#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) use epoll::{Events, Poller};
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) use portable::{Events, Poller};

/// The key no registered fd may use (see "Keys").
pub(crate) const RESERVED_KEY: usize = usize::MAX;

/// One readiness report for one added fd.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Event {
    /// The key the fd was added under; never [`RESERVED_KEY`].
    pub(crate) key: usize,
    /// What the edge reports. Readable and writable include an error or hang-up that a read
    /// (a write) will report, as Go's netpoller counts them, so that a retry loop waiting in
    /// one direction sees every close (`poll_desc.rs`, "Kinds of readiness").
    pub(crate) ready: Ready,
    /// Whether the backend reports the peer's FIN at all; if not, a readable edge without
    /// read-closed may still carry one (`poll_desc.rs`, "Short reads and the end of the
    /// stream").
    pub(crate) fin_known: bool,
}
