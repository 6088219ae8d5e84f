//! The guards an [`AsyncFd`] wait returns: the readiness seen, and the duty to say whether it
//! turned out stale (`mod.rs`, "How it works", step 2).

use std::fmt;
use std::io;
use std::os::fd::AsRawFd;

use gort_reactor::poll_desc::ReadyEvent;

use super::AsyncFd;
use crate::Ready;

/// Readiness an [`AsyncFd`] wait saw, not yet acknowledged; lends the object shared. Call
/// [`clear_ready`](AsyncFdReadyGuard::clear_ready) after a `WouldBlock` (or use
/// [`try_io`](AsyncFdReadyGuard::try_io), which does), else the next wait returns at once.
/// Dropping it keeps the readiness ([`retain_ready`](AsyncFdReadyGuard::retain_ready)).
#[must_use = "a readiness guard must be cleared after `WouldBlock`, or the next wait returns at once"]
pub struct AsyncFdReadyGuard<'a, T: AsRawFd> {
    async_fd: &'a AsyncFd<T>,
    /// `None` once cleared.
    event: Option<ReadyEvent>,
}

/// [`AsyncFdReadyGuard`] that lends the object mutably (from the `_mut` waits).
#[must_use = "a readiness guard must be cleared after `WouldBlock`, or the next wait returns at once"]
pub struct AsyncFdReadyMutGuard<'a, T: AsRawFd> {
    async_fd: &'a mut AsyncFd<T>,
    /// `None` once cleared.
    event: Option<ReadyEvent>,
}

/// The operation in a guard's `try_io` returned `WouldBlock`: the readiness was stale and has
/// been cleared; wait again.
#[derive(Debug)]
pub struct TryIoError(());

/// `clear_ready_matching` for both guards: clears `ready` in the descriptor (unless an edge
/// came since `event`) and keeps in the guard what is left.
fn clear_matching<T: AsRawFd>(async_fd: &AsyncFd<T>, event: &mut Option<ReadyEvent>, ready: Ready) {
    if let Some(seen) = event.take() {
        async_fd.clear_readiness(seen.with_ready(ready));
        let left = seen.ready() - ready;
        if !left.is_empty() {
            *event = Some(seen.with_ready(left));
        }
    }
}

impl<'a, T: AsRawFd> AsyncFdReadyGuard<'a, T> {
    pub(super) fn new(async_fd: &'a AsyncFd<T>, event: ReadyEvent) -> Self {
        AsyncFdReadyGuard {
            async_fd,
            event: Some(event),
        }
    }

    /// The readiness turned out stale (the fd said `WouldBlock`): clears all of it, so the next
    /// wait parks until a new edge. An edge that came after this guard's wait is kept.
    pub fn clear_ready(&mut self) {
        if let Some(event) = self.event.take() {
            self.async_fd.clear_readiness(event);
        }
    }

    /// Clears only `ready` (say `Ready::READABLE` after a read said `WouldBlock`, keeping a
    /// writable readiness seen in the same wait).
    pub fn clear_ready_matching(&mut self, ready: Ready) {
        clear_matching(self.async_fd, &mut self.event, ready);
    }

    /// Keeps the readiness (what dropping the guard does; for saying so explicitly).
    pub fn retain_ready(&mut self) {}

    /// The readiness the wait saw, less what was cleared since.
    pub fn ready(&self) -> Ready {
        self.event.map_or(Ready::EMPTY, |event| event.ready())
    }

    /// Runs `f`, a system call on the fd; if it says `WouldBlock`, clears the readiness and
    /// returns `Err(TryIoError)` (wait again), else `Ok` with its result.
    pub fn try_io<R>(
        &mut self,
        f: impl FnOnce(&'a AsyncFd<T>) -> io::Result<R>,
    ) -> Result<io::Result<R>, TryIoError> {
        match f(self.async_fd) {
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                self.clear_ready();
                Err(TryIoError(()))
            }
            result => Ok(result),
        }
    }

    /// The `AsyncFd`.
    pub fn get_ref(&self) -> &'a AsyncFd<T> {
        self.async_fd
    }

    /// The object inside the `AsyncFd`.
    pub fn get_inner(&self) -> &'a T {
        self.async_fd.get_ref()
    }
}

impl<'a, T: AsRawFd> AsyncFdReadyMutGuard<'a, T> {
    pub(super) fn new(async_fd: &'a mut AsyncFd<T>, event: ReadyEvent) -> Self {
        AsyncFdReadyMutGuard {
            async_fd,
            event: Some(event),
        }
    }

    /// [`AsyncFdReadyGuard::clear_ready`].
    pub fn clear_ready(&mut self) {
        if let Some(event) = self.event.take() {
            self.async_fd.clear_readiness(event);
        }
    }

    /// [`AsyncFdReadyGuard::clear_ready_matching`].
    pub fn clear_ready_matching(&mut self, ready: Ready) {
        clear_matching(self.async_fd, &mut self.event, ready);
    }

    /// Keeps the readiness (what dropping the guard does).
    pub fn retain_ready(&mut self) {}

    /// The readiness the wait saw, less what was cleared since.
    pub fn ready(&self) -> Ready {
        self.event.map_or(Ready::EMPTY, |event| event.ready())
    }

    /// [`AsyncFdReadyGuard::try_io`], with the `AsyncFd` lent mutably.
    pub fn try_io<R>(
        &mut self,
        f: impl FnOnce(&mut AsyncFd<T>) -> io::Result<R>,
    ) -> Result<io::Result<R>, TryIoError> {
        match f(self.async_fd) {
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                self.clear_ready();
                Err(TryIoError(()))
            }
            result => Ok(result),
        }
    }

    /// The `AsyncFd`.
    pub fn get_ref(&self) -> &AsyncFd<T> {
        self.async_fd
    }

    /// The `AsyncFd`, mutably.
    pub fn get_mut(&mut self) -> &mut AsyncFd<T> {
        self.async_fd
    }

    /// The object inside the `AsyncFd`.
    pub fn get_inner(&self) -> &T {
        self.async_fd.get_ref()
    }

    /// The object inside the `AsyncFd`, mutably.
    pub fn get_inner_mut(&mut self) -> &mut T {
        self.async_fd.get_mut()
    }
}

impl<T: fmt::Debug + AsRawFd> fmt::Debug for AsyncFdReadyGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadyGuard")
            .field("async_fd", self.async_fd)
            .finish()
    }
}

impl<T: fmt::Debug + AsRawFd> fmt::Debug for AsyncFdReadyMutGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MutReadyGuard")
            .field("async_fd", self.async_fd)
            .finish()
    }
}
