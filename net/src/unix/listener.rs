//! `UnixListener`: accepts Unix-domain stream connections without blocking an M.

use std::io;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::task::{Context, Poll};

use socket2::{Domain, SockAddr, Socket, Type};

use crate::tcp::listener::LISTEN_BACKLOG;
use crate::unix::SocketAddr;
use crate::UnixStream;
use gort_reactor::poll_desc::Direction;
use gort_reactor::Registered;

/// A Unix-domain socket server (tokio's `UnixListener`).
#[derive(Debug)]
pub struct UnixListener {
    io: Registered<std::os::unix::net::UnixListener>,
}

impl UnixListener {
    /// Binds to `path` and listens (on Linux, a path that starts with a NUL byte names an
    /// abstract address). Fails with `AddrInUse` if the path exists.
    pub fn bind<P>(path: P) -> io::Result<UnixListener>
    where
        P: AsRef<Path>,
    {
        UnixListener::bind_sock_addr(&SockAddr::unix(path)?)
    }

    /// Binds to `socket_addr` (a path or an abstract name) and listens.
    pub fn bind_addr(socket_addr: &SocketAddr) -> io::Result<UnixListener> {
        UnixListener::bind_sock_addr(&socket_addr.to_sock_addr()?)
    }

    fn bind_sock_addr(addr: &SockAddr) -> io::Result<UnixListener> {
        let socket = Socket::new(Domain::UNIX, Type::STREAM, None)?;
        socket.bind(addr)?;
        socket.listen(LISTEN_BACKLOG)?;
        socket.set_nonblocking(true)?;
        UnixListener::from_nonblocking(std::os::unix::net::UnixListener::from(OwnedFd::from(
            socket,
        )))
    }

    /// Wraps a std listener, putting it in non-blocking mode.
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        UnixListener::from_nonblocking(listener)
    }

    pub(crate) fn from_nonblocking(
        listener: std::os::unix::net::UnixListener,
    ) -> io::Result<UnixListener> {
        Ok(UnixListener {
            io: crate::register(listener)?,
        })
    }

    /// Deregisters the listener and returns it as a std listener, still in non-blocking mode.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixListener> {
        Ok(self.io.into_inner())
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr().map(SocketAddr)
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Accepts a connection; errors (`EMFILE`...) leave the pending connection queued.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        std::future::poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for a connection (the poll form of [`UnixListener::accept`]).
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        self.io
            .poll_io(Direction::Read, cx, |listener| listener.accept())
            .map(|accepted| {
                let (stream, peer) = accepted?;
                Ok((UnixStream::from_std(stream)?, SocketAddr(peer)))
            })
    }
}

impl TryFrom<std::os::unix::net::UnixListener> for UnixListener {
    type Error = io::Error;

    /// [`UnixListener::from_std`].
    fn try_from(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        UnixListener::from_std(listener)
    }
}

impl_as_fd!(UnixListener);
