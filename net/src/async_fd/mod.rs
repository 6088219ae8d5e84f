//! `AsyncFd`: any pollable file descriptor (a pipe, an eventfd, a socket made by some other
//! library, a tty) on the current runtime's netpoller, for code that does its own system calls
//! and only needs to know when to try them (tokio's `io::unix::AsyncFd`).
//!
//! # How it works
//!
//! An `AsyncFd` owns the object behind the fd and registers the fd once, edge-triggered, like
//! every gort socket (`gort_reactor::Registered`). It differs from a socket in two ways:
//!
//! 1. **Readiness is asked for, not assumed.** A socket's descriptor starts readable and
//!    writable so that its first operation is simply tried; an `AsyncFd`'s starts with nothing
//!    (`PollDesc::new_unready`), and the registration's own first edge (epoll reports an fd's
//!    current state when it is added) says what the fd is ready for. So `readable().await` on
//!    an empty pipe really waits.
//! 2. **The caller clears readiness.** A wait returns a guard ([`AsyncFdReadyGuard`]) holding
//!    the readiness it saw and the edge tick it saw it at. The caller does its system call; if
//!    that says `WouldBlock`, the readiness was stale and must be cleared
//!    ([`AsyncFdReadyGuard::clear_ready`], or [`AsyncFdReadyGuard::try_io`] which does it), so
//!    that the next wait parks until the next edge. A clear from an old tick is dropped, so an
//!    edge that arrived during the system call is never lost (`poll_desc.rs`).
//!
//! Waits go by [`Interest`]: readable interest is met by readable or read-closed readiness,
//! and so on (`gort_reactor::Interest`), as tokio's are.
//!
//! # Pollable fds only
//!
//! epoll refuses a regular file or a directory (`EPERM`): they are always "ready" and their IO
//! blocks anyway. Registering one fails, and the object comes back in the error. Use
//! `gort::fs` (the blocking pool) for files.
//!
//! # Safety of the registration
//!
//! The reactor holds the fd (not the object) in its epoll set until the `AsyncFd` is dropped or
//! [`AsyncFd::into_inner`] is called, so the fd must stay open and be the same one for that
//! long. Nothing in `T: AsRawFd` promises that, which is why [`AsyncFd::register`] is `unsafe`
//! (tokio 1.54 made it so, and deprecated the safe constructors, which gort keeps for the
//! programs that still call them). gort only ever passes the fd to `epoll_ctl`: a broken promise
//! makes a registration or deregistration act on the wrong fd, never on memory.

mod guard;

use std::error::Error;
use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use gort_executor::runtime::Handle;
use gort_reactor::Registered;

use crate::Interest;

pub use guard::{AsyncFdReadyGuard, AsyncFdReadyMutGuard, TryIoError};

/// A file descriptor registered with the current runtime's netpoller, owning the object it
/// belongs to (tokio's `AsyncFd`); see the module doc. Dropping it deregisters the fd, then
/// drops the object (which closes the fd, if it owns it).
pub struct AsyncFd<T: AsRawFd> {
    io: Registered<FdSource<T>>,
}

/// The object, seen by the reactor as the fd it names.
///
/// # Invariant
///
/// `self.0.as_raw_fd()` is an open fd, the same one every time, for as long as this value is
/// in the `AsyncFd` (the contract of [`AsyncFd::register`]).
struct FdSource<T: AsRawFd>(T);

impl<T: AsRawFd> AsFd for FdSource<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        // SAFETY: by the invariant on `FdSource`, the fd is open and stays the same while
        // `self` is borrowed (the caller of `AsyncFd::register` promised it).
        unsafe { BorrowedFd::borrow_raw(self.0.as_raw_fd()) }
    }
}

impl<T: AsRawFd> AsyncFd<T> {
    /// Registers `inner`'s fd (readable and writable interest) with the current runtime's
    /// netpoller: the one this thread serves, else the default runtime, started if need be.
    /// The fd should be in non-blocking mode. A regular file fails (`EPERM`); the error gives
    /// `inner` back.
    ///
    /// # Safety
    ///
    /// `inner.as_raw_fd()` must be an open fd, and return that same fd (referring to the same
    /// open file description) every time, until the `AsyncFd` is dropped, [`into_inner`]-ed or
    /// forgotten.
    ///
    /// [`into_inner`]: AsyncFd::into_inner
    pub unsafe fn register(inner: T) -> Result<AsyncFd<T>, AsyncFdRegisterError<T>> {
        // SAFETY: the caller's promise is this function's.
        unsafe { AsyncFd::register_with_interest(inner, Interest::READABLE | Interest::WRITABLE) }
    }

    /// [`AsyncFd::register`] with `interest`. gort registers every fd for every kind of
    /// readiness (so `PRIORITY` and `ERROR` need nothing special); the interest is kept for
    /// parity with tokio, which registers only the kinds asked for.
    ///
    /// # Safety
    ///
    /// As for [`AsyncFd::register`].
    pub unsafe fn register_with_interest(
        inner: T,
        interest: Interest,
    ) -> Result<AsyncFd<T>, AsyncFdRegisterError<T>> {
        let _ = interest;
        // -1 (or any negative number) names no fd: refuse it before anything borrows it as one
        // (`BorrowedFd` forbids -1), with the error `epoll_ctl` would give, handing it back.
        if inner.as_raw_fd() < 0 {
            let cause = io::Error::from_raw_os_error(libc::EBADF);
            return Err(AsyncFdRegisterError { inner, cause });
        }
        let reactor = Arc::clone(Handle::current().reactor());
        // The invariant of `FdSource` is the caller's promise.
        match Registered::new_unready(FdSource(inner), reactor) {
            Ok(io) => Ok(AsyncFd { io }),
            Err((FdSource(inner), cause)) => Err(AsyncFdRegisterError { inner, cause }),
        }
    }

    /// The object.
    pub fn get_ref(&self) -> &T {
        &self.io.get_ref().0
    }

    /// The object, mutably: for IO that bypasses the readiness (it must not swap the fd for
    /// another; see [`AsyncFd::register`]).
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.io.get_mut().0
    }

    /// Deregisters the fd and gives the object back.
    pub fn into_inner(self) -> T {
        self.io.into_inner().0
    }

    /// Polls for readable readiness: a guard once readable (or read-closed), else `cx`'s
    /// waker is kept until the next edge. Any number of tasks may poll at once.
    pub fn poll_read_ready<'a>(
        &'a self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyGuard<'a, T>>> {
        let event = ready!(self.io.poll_interest_latest(Interest::READABLE, cx))?;
        Poll::Ready(Ok(AsyncFdReadyGuard::new(self, event)))
    }

    /// [`AsyncFd::poll_read_ready`] with a guard that lends the object mutably.
    pub fn poll_read_ready_mut<'a>(
        &'a mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyMutGuard<'a, T>>> {
        let event = ready!(self.io.poll_interest_latest(Interest::READABLE, cx))?;
        Poll::Ready(Ok(AsyncFdReadyMutGuard::new(self, event)))
    }

    /// Polls for writable readiness.
    pub fn poll_write_ready<'a>(
        &'a self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyGuard<'a, T>>> {
        let event = ready!(self.io.poll_interest_latest(Interest::WRITABLE, cx))?;
        Poll::Ready(Ok(AsyncFdReadyGuard::new(self, event)))
    }

    /// [`AsyncFd::poll_write_ready`] with a guard that lends the object mutably.
    pub fn poll_write_ready_mut<'a>(
        &'a mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyMutGuard<'a, T>>> {
        let event = ready!(self.io.poll_interest_latest(Interest::WRITABLE, cx))?;
        Poll::Ready(Ok(AsyncFdReadyMutGuard::new(self, event)))
    }

    /// Waits for any readiness in `interest`; the guard says which ([`AsyncFdReadyGuard::ready`]).
    pub async fn ready(&self, interest: Interest) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        let event = self.io.ready_interest(interest).await?;
        Ok(AsyncFdReadyGuard::new(self, event))
    }

    /// [`AsyncFd::ready`] with a guard that lends the object mutably.
    pub async fn ready_mut(
        &mut self,
        interest: Interest,
    ) -> io::Result<AsyncFdReadyMutGuard<'_, T>> {
        // The wait holds `&mut self`, not `&self.io`: so the future is `Send` whenever `T` is,
        // as tokio's is, rather than only when `T` is also `Sync`.
        let this = &mut *self;
        let event = std::future::poll_fn(move |cx| this.io.poll_interest(interest, cx)).await?;
        Ok(AsyncFdReadyMutGuard::new(self, event))
    }

    /// Waits until the fd is readable (or read-closed).
    #[allow(
        clippy::needless_lifetimes,
        reason = "the named lifetime reads better in docs"
    )]
    pub async fn readable<'a>(&'a self) -> io::Result<AsyncFdReadyGuard<'a, T>> {
        self.ready(Interest::READABLE).await
    }

    /// [`AsyncFd::readable`] with a guard that lends the object mutably.
    #[allow(
        clippy::needless_lifetimes,
        reason = "the named lifetime reads better in docs"
    )]
    pub async fn readable_mut<'a>(&'a mut self) -> io::Result<AsyncFdReadyMutGuard<'a, T>> {
        self.ready_mut(Interest::READABLE).await
    }

    /// Waits until the fd is writable (or write-closed).
    #[allow(
        clippy::needless_lifetimes,
        reason = "the named lifetime reads better in docs"
    )]
    pub async fn writable<'a>(&'a self) -> io::Result<AsyncFdReadyGuard<'a, T>> {
        self.ready(Interest::WRITABLE).await
    }

    /// [`AsyncFd::writable`] with a guard that lends the object mutably.
    #[allow(
        clippy::needless_lifetimes,
        reason = "the named lifetime reads better in docs"
    )]
    pub async fn writable_mut<'a>(&'a mut self) -> io::Result<AsyncFdReadyMutGuard<'a, T>> {
        self.ready_mut(Interest::WRITABLE).await
    }

    /// Waits for `interest`, runs `f` on the object, and repeats while `f` says `WouldBlock`
    /// (clearing the readiness each time). `f` must return `WouldBlock` only when the fd did.
    pub async fn async_io<R>(
        &self,
        interest: Interest,
        mut f: impl FnMut(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        std::future::poll_fn(|cx| {
            self.io
                .poll_io_interest(interest, cx, |source| f(&source.0))
        })
        .await
    }

    /// [`AsyncFd::async_io`] with the object lent mutably.
    pub async fn async_io_mut<R>(
        &mut self,
        interest: Interest,
        mut f: impl FnMut(&mut T) -> io::Result<R>,
    ) -> io::Result<R> {
        loop {
            let mut guard = self.ready_mut(interest).await?;
            match guard.try_io(|fd| f(fd.get_mut())) {
                Ok(result) => return result,
                Err(_would_block) => continue,
            }
        }
    }

    /// Runs `f` on the object once if the fd may be ready for `interest`; `WouldBlock` if it
    /// is not. A `WouldBlock` from `f` clears the readiness.
    pub fn try_io<R>(
        &self,
        interest: Interest,
        f: impl FnOnce(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        self.io.try_io_interest(interest, |source| f(&source.0))
    }

    /// [`AsyncFd::try_io`] with the object lent mutably.
    pub fn try_io_mut<R>(
        &mut self,
        interest: Interest,
        f: impl FnOnce(&mut T) -> io::Result<R>,
    ) -> io::Result<R> {
        let event = match self.io.peek_interest(interest) {
            Some(event) => event?,
            None => return Err(io::ErrorKind::WouldBlock.into()),
        };
        let result = f(self.get_mut());
        if matches!(&result, Err(err) if err.kind() == io::ErrorKind::WouldBlock) {
            self.io.clear_readiness(event);
        }
        result
    }

    /// [`AsyncFd::register`] without `unsafe` (tokio's deprecated `new`).
    #[deprecated(
        note = "the fd's lifetime is not checked: use the `unsafe` `AsyncFd::register`, as tokio 1.54 does"
    )]
    pub fn new(inner: T) -> io::Result<AsyncFd<T>> {
        // SAFETY: not checked: this is tokio's deprecated safe constructor, kept for the
        // programs that call it. gort passes the fd only to `epoll_ctl` (module doc, "Safety of
        // the registration"), so a caller that closes it early gets failed registrations.
        unsafe { Ok(AsyncFd::register(inner)?) }
    }

    /// [`AsyncFd::register_with_interest`] without `unsafe` (tokio's deprecated
    /// `with_interest`).
    #[deprecated(
        note = "the fd's lifetime is not checked: use the `unsafe` `AsyncFd::register_with_interest`, as tokio 1.54 does"
    )]
    pub fn with_interest(inner: T, interest: Interest) -> io::Result<AsyncFd<T>> {
        // SAFETY: not checked, as in `new`.
        unsafe { Ok(AsyncFd::register_with_interest(inner, interest)?) }
    }

    /// [`AsyncFd::register`] without `unsafe`, handing `inner` back on failure (tokio's
    /// deprecated `try_new`).
    #[deprecated(
        note = "the fd's lifetime is not checked: use the `unsafe` `AsyncFd::register`, as tokio 1.54 does"
    )]
    pub fn try_new(inner: T) -> Result<AsyncFd<T>, AsyncFdRegisterError<T>> {
        // SAFETY: not checked, as in `new`.
        unsafe { AsyncFd::register(inner) }
    }

    /// [`AsyncFd::register_with_interest`] without `unsafe`, handing `inner` back on failure
    /// (tokio's deprecated `try_with_interest`).
    #[deprecated(
        note = "the fd's lifetime is not checked: use the `unsafe` `AsyncFd::register_with_interest`, as tokio 1.54 does"
    )]
    pub fn try_with_interest(
        inner: T,
        interest: Interest,
    ) -> Result<AsyncFd<T>, AsyncFdRegisterError<T>> {
        // SAFETY: not checked, as in `new`.
        unsafe { AsyncFd::register_with_interest(inner, interest) }
    }

    /// Clears `event`'s readiness (for the guards).
    fn clear_readiness(&self, event: gort_reactor::poll_desc::ReadyEvent) {
        self.io.clear_readiness(event);
    }
}

impl<T: AsRawFd> AsRawFd for AsyncFd<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.get_ref().as_raw_fd()
    }
}

impl<T: AsRawFd> AsFd for AsyncFd<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl<T: fmt::Debug + AsRawFd> fmt::Debug for AsyncFd<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFd")
            .field("inner", self.get_ref())
            .finish()
    }
}

/// Registering an [`AsyncFd`] failed (a regular file: `EPERM`; the runtime shut down; out of
/// descriptors); the object comes back with the cause.
pub struct AsyncFdRegisterError<T> {
    inner: T,
    cause: io::Error,
}

/// tokio's old name for [`AsyncFdRegisterError`].
#[doc(hidden)]
#[deprecated(note = "use `AsyncFdRegisterError` instead")]
pub type AsyncFdTryNewError<T> = AsyncFdRegisterError<T>;

impl<T> AsyncFdRegisterError<T> {
    /// The object that could not be registered, and why.
    pub fn into_parts(self) -> (T, io::Error) {
        (self.inner, self.cause)
    }
}

impl<T> fmt::Display for AsyncFdRegisterError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.cause, f)
    }
}

impl<T> fmt::Debug for AsyncFdRegisterError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.cause, f)
    }
}

impl<T> Error for AsyncFdRegisterError<T> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.cause)
    }
}

impl<T> From<AsyncFdRegisterError<T>> for io::Error {
    fn from(error: AsyncFdRegisterError<T>) -> io::Error {
        error.cause
    }
}
