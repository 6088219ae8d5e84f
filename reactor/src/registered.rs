//! `Registered<T>`: a non-blocking fd registered with a reactor, and the retry loop every IO
//! operation goes through (Go's `internal/poll.FD`: try the system call, on `EAGAIN` park until
//! the poller reports readiness, try again).

use std::future::poll_fn;
use std::io;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use crate::interest::Interest;
use crate::poll_desc::{Direction, PollDesc, ReadyEvent};
use crate::reactor::Reactor;

/// An IO object registered with a reactor. Dropping it deregisters the fd (waking and failing
/// any task still parked on it) and then closes it.
pub struct Registered<T: AsFd> {
    /// `None` only inside `into_inner` and `drop`.
    io: Option<T>,
    desc: Arc<PollDesc>,
    reactor: Arc<Reactor>,
}

impl<T: AsFd> Registered<T> {
    /// Registers `io`, which must already be in non-blocking mode, with `reactor`, which some
    /// thread must drive (the IO types above the executor pass the current runtime's).
    pub fn new(io: T, reactor: Arc<Reactor>) -> io::Result<Registered<T>> {
        let desc = reactor.register(&io)?;
        Ok(Registered {
            io: Some(io),
            desc,
            reactor,
        })
    }

    /// [`Registered::new`] for an fd that starts writable, and not readable until the poller
    /// says so (`PollDesc::new_writable`): where a first read would rather wait for data than
    /// try (a fresh socket pair, a pipe, a datagram socket), as tokio's start.
    pub fn new_writable_only(io: T, reactor: Arc<Reactor>) -> io::Result<Registered<T>> {
        let desc = reactor.register_writable(&io)?;
        Ok(Registered {
            io: Some(io),
            desc,
            reactor,
        })
    }

    /// [`Registered::new`] for an fd whose readiness is asked for rather than tried
    /// (`AsyncFd`): it starts with none, and the registration's first edge reports what the fd
    /// is ready for (`PollDesc::new_unready`). Fails with the poller's error for an fd it cannot
    /// watch (`EPERM` for a regular file), handing `io` back.
    pub fn new_unready(io: T, reactor: Arc<Reactor>) -> Result<Registered<T>, (T, io::Error)> {
        match reactor.register_unready(&io) {
            Ok(desc) => Ok(Registered {
                io: Some(io),
                desc,
                reactor,
            }),
            Err(err) => Err((io, err)),
        }
    }

    /// The IO object, mutably (the registration stays: the fd must not change under it).
    pub fn get_mut(&mut self) -> &mut T {
        self.io
            .as_mut()
            .unwrap_or_else(|| unreachable!("the IO object is only taken on the way out"))
    }

    /// The IO object.
    pub fn get_ref(&self) -> &T {
        self.io
            .as_ref()
            .unwrap_or_else(|| unreachable!("the IO object is only taken on the way out"))
    }

    /// Ready once `direction` has reported readiness (or the fd was closed, as an error).
    pub fn poll_ready(&self, direction: Direction, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.desc
            .poll_ready(direction, cx, self.reactor.parked_counter())
            .map_ok(drop)
    }

    /// Waits until `direction` is ready.
    pub async fn ready(&self, direction: Direction) -> io::Result<()> {
        poll_fn(|cx| self.poll_ready(direction, cx)).await
    }

    /// [`Registered::poll_ready`] keeping only the latest waker of `direction`: the streams'
    /// `poll_read_ready`/`poll_write_ready` (tokio's rule for its poll functions).
    pub fn poll_ready_latest(
        &self,
        direction: Direction,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        self.desc
            .poll_ready_latest(direction, cx, self.reactor.parked_counter())
            .map_ok(|_| ())
    }

    /// [`Registered::poll_interest`] keeping only the latest waker per direction: what
    /// `poll_read_ready`/`poll_write_ready` use (tokio's rule for its poll functions).
    pub fn poll_interest_latest(
        &self,
        interest: Interest,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<ReadyEvent>> {
        self.desc
            .poll_interest_latest(interest, cx, self.reactor.parked_counter())
    }

    /// Ready once some readiness that meets `interest` is set (`poll_desc.rs`, "Kinds of
    /// readiness"); the event says which, and can be handed back to
    /// [`Registered::clear_readiness`].
    pub fn poll_interest(
        &self,
        interest: Interest,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<ReadyEvent>> {
        self.desc
            .poll_interest(interest, cx, self.reactor.parked_counter())
    }

    /// Waits until some readiness that meets `interest` is set.
    pub async fn ready_interest(&self, interest: Interest) -> io::Result<ReadyEvent> {
        poll_fn(|cx| self.poll_interest(interest, cx)).await
    }

    /// Whether some readiness that meets `interest` is set, without parking: closed (an error),
    /// ready at some tick, or not ready (`None`).
    pub fn peek_interest(&self, interest: Interest) -> Option<io::Result<ReadyEvent>> {
        self.desc.peek_interest(interest)
    }

    /// Clears the readiness `event` reports, unless an edge came since it was observed (an
    /// operation found it stale; `AsyncFdReadyGuard::clear_ready`).
    pub fn clear_readiness(&self, event: ReadyEvent) {
        self.desc.clear_readiness(event);
    }

    /// Runs `op` until it does not return `WouldBlock`, parking on `direction` in between.
    pub fn poll_io<R>(
        &self,
        direction: Direction,
        cx: &mut Context<'_>,
        op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_io_until_drained(Wait::Direction(direction), cx, op, |_| false)
    }

    /// [`Registered::poll_io`] waiting for `interest` instead of a direction (tokio's
    /// `async_io`, for operations the caller writes: `recvmsg` with `MSG_ERRQUEUE` waits for
    /// `Interest::ERROR`).
    pub fn poll_io_interest<R>(
        &self,
        interest: Interest,
        cx: &mut Context<'_>,
        op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_io_until_drained(Wait::Interest(interest), cx, op, |_| false)
    }

    /// [`Registered::poll_io`] for reads and writes that report a byte count: a transfer that
    /// moved some bytes but fewer than `requested` emptied the socket buffer (or filled it), so
    /// the readiness is cleared at once and the next call parks without a system call that would
    /// only return `WouldBlock` (tokio does the same for stream sockets), unless the peer's FIN
    /// may be pending (`poll_desc.rs`, "Short reads and the end of the stream"). Zero bytes (end
    /// of stream) keeps it: every later read must return 0 at once, not park.
    pub fn poll_transfer(
        &self,
        direction: Direction,
        cx: &mut Context<'_>,
        requested: usize,
        op: impl FnMut(&T) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        self.poll_io_until_drained(Wait::Direction(direction), cx, op, |&n| {
            n > 0 && n < requested
        })
    }

    /// The loop of [`Registered::poll_io`]; a success for which `drained` holds also clears the
    /// readiness, as far as the descriptor allows.
    fn poll_io_until_drained<R>(
        &self,
        wait: Wait,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&T) -> io::Result<R>,
        drained: impl Fn(&R) -> bool,
    ) -> Poll<io::Result<R>> {
        // One unit of the G's coop budget per completed operation (refunded if it parks), so
        // a G looping over a socket that always has data still yields (`gort_context`).
        let progress = ready!(gort_context::poll_proceed(cx));
        loop {
            let parked = self.reactor.parked_counter();
            let event = ready!(match wait {
                Wait::Direction(direction) => self.desc.poll_ready(direction, cx, parked),
                Wait::Interest(interest) => self.desc.poll_interest(interest, cx, parked),
            })?;
            match op(self.get_ref()) {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    self.desc.clear_readiness(event);
                }
                Ok(value) => {
                    if drained(&value) {
                        self.desc.clear_after_short_transfer(event);
                    }
                    progress.made();
                    return Poll::Ready(Ok(value));
                }
                Err(err) => {
                    progress.made();
                    return Poll::Ready(Err(err));
                }
            }
        }
    }

    /// [`Registered::poll_io`] as a future.
    pub async fn io<R>(
        &self,
        direction: Direction,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        poll_fn(|cx| self.poll_io(direction, cx, &mut op)).await
    }

    /// One attempt at `op` if `direction` may be ready; `WouldBlock` otherwise (tokio's
    /// `try_read` family: the caller waits with `readable()`/`writable()` and tries again).
    pub fn try_io<R>(
        &self,
        direction: Direction,
        op: impl FnOnce(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        self.try_io_with(self.desc.peek(direction), op)
    }

    /// [`Registered::try_io`] for `interest` (tokio's `try_io(Interest, f)`).
    pub fn try_io_interest<R>(
        &self,
        interest: Interest,
        op: impl FnOnce(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        self.try_io_with(self.desc.peek_interest(interest), op)
    }

    fn try_io_with<R>(
        &self,
        peeked: Option<io::Result<ReadyEvent>>,
        op: impl FnOnce(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        let event = match peeked {
            Some(Ok(event)) => event,
            // Its runtime shut down, but the fd is still open and may hold data: a `try_*`
            // call still makes its system call (tokio's do), and only waiting reports the
            // shutdown. There is no readiness left to clear.
            Some(Err(err)) if crate::poll_desc::is_shut_down_error(&err) => {
                return op(self.get_ref());
            }
            Some(Err(err)) => return Err(err),
            None => return Err(io::ErrorKind::WouldBlock.into()),
        };
        let result = op(self.get_ref());
        if matches!(&result, Err(err) if err.kind() == io::ErrorKind::WouldBlock) {
            self.desc.clear_readiness(event);
        }
        result
    }

    /// Deregisters the fd and returns the IO object (still in non-blocking mode).
    pub fn into_inner(mut self) -> T {
        let io = self
            .io
            .take()
            .unwrap_or_else(|| unreachable!("the IO object is only taken on the way out"));
        self.reactor.deregister(&io, &self.desc);
        io
    }
}

/// What a retry loop waits for (`poll_desc.rs`, "Kinds of readiness, and two ways to wait").
#[derive(Clone, Copy)]
enum Wait {
    Direction(Direction),
    Interest(Interest),
}

impl<T: AsFd> Drop for Registered<T> {
    fn drop(&mut self) {
        if let Some(io) = self.io.take() {
            // Deregister before the fd closes (the poller must not hold a closed fd).
            self.reactor.deregister(&io, &self.desc);
            drop(io);
        }
    }
}

impl<T: AsFd + std::fmt::Debug> std::fmt::Debug for Registered<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.io.fmt(f)
    }
}
