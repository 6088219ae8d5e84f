//! The backend for platforms other than Linux and Android: `polling` (kqueue, event ports, ...),
//! used only through its documented API. Its wait retries on `EINTR` itself, drains its own
//! notifier and leaves its internal events out of [`Events`]; it does not report `EPOLLRDHUP`'s
//! equivalent, so events say "end of stream unknown".

use std::io;
use std::num::NonZeroUsize;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::Duration;

use polling::PollMode;

use super::{Event, RESERVED_KEY};
use crate::ready::Ready;

/// A `polling::Poller`.
pub(crate) struct Poller(polling::Poller);

/// `polling`'s event list, filled by [`Poller::wait`].
pub(crate) struct Events(polling::Events);

impl Poller {
    /// A new poller.
    pub(crate) fn new() -> io::Result<Poller> {
        polling::Poller::new().map(Poller)
    }

    /// Adds `fd` for both directions, edge-triggered, under `key` (never [`RESERVED_KEY`]).
    pub(crate) fn add(&self, fd: BorrowedFd<'_>, key: usize) -> io::Result<()> {
        // Proof: as in `epoll.rs`, `key_for` never makes the reserved key.
        debug_assert_ne!(key, RESERVED_KEY, "the backend's key");
        // SAFETY: `Reactor::deregister` deletes the fd from the poller before the IO object that
        // owns it is dropped (`Registered::drop`), as `add_with_mode` requires.
        unsafe {
            self.0
                .add_with_mode(fd.as_raw_fd(), polling::Event::all(key), PollMode::Edge)
        }
    }

    /// Removes `fd`; its owner closes it afterwards.
    pub(crate) fn delete(&self, fd: BorrowedFd<'_>) -> io::Result<()> {
        self.0.delete(fd)
    }

    /// Breaks the current or the next [`Poller::wait`] (`polling::Poller::notify`).
    pub(crate) fn notify(&self) -> io::Result<()> {
        self.0.notify()
    }

    /// Waits up to `timeout` (`None`: until an event or a notification) and fills `events`.
    /// The reactor's driver role makes this the only wait in progress.
    pub(crate) fn wait(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        events.0.clear();
        self.0.wait(&mut events.0, timeout).map(drop)
    }
}

impl Events {
    /// Room for `capacity` events per wait.
    pub(crate) fn with_capacity(capacity: NonZeroUsize) -> Events {
        Events(polling::Events::with_capacity(capacity))
    }

    /// The events of the last wait.
    pub(crate) fn iter(&self) -> impl Iterator<Item = Event> + '_ {
        self.0.iter().map(|event| {
            let kinds = [
                (event.readable, Ready::READABLE),
                (event.writable, Ready::WRITABLE),
                // `is_interrupt` means the peer's side is gone; a plain readable edge may or
                // may not carry the end of the stream.
                (event.is_interrupt(), Ready::READ_CLOSED),
                (event.is_err() == Some(true), Ready::ERROR),
            ];
            let ready = kinds
                .into_iter()
                .filter(|(present, _)| *present)
                .fold(Ready::EMPTY, |ready, (_, kind)| ready | kind);
            Event {
                key: event.key,
                ready,
                fin_known: false,
            }
        })
    }
}
