//! `TcpListener`: accepts TCP connections without blocking an M.

use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll};

use socket2::{Domain, Protocol, Socket, Type};

use crate::lookup_host::{first_success, ToSocketAddrs};
use crate::TcpStream;
use gort_reactor::poll_desc::Direction;
use gort_reactor::Registered;

/// Pending connections the kernel queues before `accept` (tokio uses 1024 too; std uses 128,
/// which drops SYNs under a load generator's connection burst).
pub(crate) const LISTEN_BACKLOG: i32 = 1024;

/// A TCP socket server, listening for connections (tokio's `TcpListener`).
#[derive(Debug)]
pub struct TcpListener {
    io: Registered<std::net::TcpListener>,
}

impl TcpListener {
    /// Binds to `addr` (each resolved address in turn until one works) and listens.
    ///
    /// `SO_REUSEADDR` is set, as std and tokio do on Unix, so a restarted server can bind while
    /// old connections sit in `TIME_WAIT`; a port another socket listens on still fails with
    /// `AddrInUse`.
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<TcpListener> {
        first_success(&addr, |addr| async move { TcpListener::bind_addr(addr) }).await
    }

    fn bind_addr(addr: SocketAddr) -> io::Result<TcpListener> {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        socket.set_nonblocking(true)?;
        socket.set_reuse_address(true)?;
        socket.bind(&addr.into())?;
        socket.listen(LISTEN_BACKLOG)?;
        TcpListener::from_nonblocking(socket.into())
    }

    /// Wraps a listener from std, putting it in non-blocking mode.
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        TcpListener::from_nonblocking(listener)
    }

    pub(crate) fn from_nonblocking(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener {
            io: crate::register(listener)?,
        })
    }

    /// Deregisters the listener and returns it as a std listener, still in non-blocking mode
    /// (as tokio does; call `set_nonblocking(false)` to use it with blocking calls).
    pub fn into_std(self) -> io::Result<std::net::TcpListener> {
        Ok(self.io.into_inner())
    }

    /// Accepts a connection. An error (such as `EMFILE` when the process is out of file
    /// descriptors) is returned to the caller and loses nothing: the pending connection stays
    /// queued and the next `accept` tries it again.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        std::future::poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for a connection (the poll form of [`TcpListener::accept`]).
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        self.io
            .poll_io(Direction::Read, cx, |listener| listener.accept())
            .map(|accepted| {
                let (stream, peer) = accepted?;
                Ok((TcpStream::from_std(stream)?, peer))
            })
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// `IP_TTL` of the listener's socket.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Sets `IP_TTL`.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }
}

impl TryFrom<std::net::TcpListener> for TcpListener {
    type Error = io::Error;

    /// [`TcpListener::from_std`].
    fn try_from(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        TcpListener::from_std(listener)
    }
}

impl_as_fd!(TcpListener);
