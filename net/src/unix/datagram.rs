//! `UnixDatagram`: Unix-domain datagrams without blocking an M.
//!
//! Every method takes `&self`: several tasks may send and receive on one socket at once, each
//! parking in its own direction's waiter list. Receives go straight into uninitialised memory
//! where the caller offers it (`poll_recv`'s `ReadBuf`, `recv_buf`'s `BufMut`; `uninit.rs`).

use std::io;
use std::net::Shutdown;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::task::{ready, Context, Poll};

use socket2::{Domain, SockAddr, SockRef, Socket, Type};

use crate::uninit::{self, Take};
use crate::unix::SocketAddr;
use crate::{Interest, Ready};
use gort_reactor::poll_desc::Direction;
use gort_reactor::Registered;

/// A Unix-domain datagram socket (tokio's `UnixDatagram`): bound to a path, unbound, or one
/// end of a `pair`; optionally connected to one peer.
#[derive(Debug)]
pub struct UnixDatagram {
    io: Registered<std::os::unix::net::UnixDatagram>,
}

impl UnixDatagram {
    /// Waits until any readiness in `interest` is set and returns what is.
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        Ok(self.io.ready_interest(interest).await?.ready())
    }

    /// Waits until the socket may accept a datagram.
    pub async fn writable(&self) -> io::Result<()> {
        self.io.ready(Direction::Write).await
    }

    /// Ready once the socket may accept a datagram (the poll form of `writable`).
    pub fn poll_send_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready_latest(Direction::Write, cx)
    }

    /// Waits until a datagram may be waiting.
    pub async fn readable(&self) -> io::Result<()> {
        self.io.ready(Direction::Read).await
    }

    /// Ready once a datagram may be waiting (the poll form of `readable`).
    pub fn poll_recv_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready_latest(Direction::Read, cx)
    }

    /// A socket bound to `path` (on Linux, a leading NUL byte names an abstract address).
    /// Fails with `AddrInUse` if the path exists.
    pub fn bind<P>(path: P) -> io::Result<UnixDatagram>
    where
        P: AsRef<Path>,
    {
        let socket = Socket::new(Domain::UNIX, Type::DGRAM, None)?;
        socket.bind(&SockAddr::unix(path)?)?;
        UnixDatagram::from_socket(socket)
    }

    /// A connected pair of sockets (`socketpair(2)`), both unnamed.
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = std::os::unix::net::UnixDatagram::pair()?;
        Ok((UnixDatagram::from_std(a)?, UnixDatagram::from_std(b)?))
    }

    /// Wraps a std socket, putting it in non-blocking mode.
    pub fn from_std(datagram: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        datagram.set_nonblocking(true)?;
        UnixDatagram::from_nonblocking(datagram)
    }

    /// A socket2 socket (or `UnixSocket`'s) as a datagram socket.
    pub(crate) fn from_socket(socket: Socket) -> io::Result<UnixDatagram> {
        socket.set_nonblocking(true)?;
        UnixDatagram::from_nonblocking(std::os::unix::net::UnixDatagram::from(OwnedFd::from(
            socket,
        )))
    }

    fn from_nonblocking(datagram: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        // As `UdpSocket`'s: writable, not readable until the poller says so.
        Ok(UnixDatagram {
            io: crate::register_writable_only(datagram)?,
        })
    }

    /// Deregisters the socket and returns it as a std socket, still in non-blocking mode.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixDatagram> {
        Ok(self.io.into_inner())
    }

    /// A socket bound to no address: it can send (`send_to`, or `send` after `connect`), and
    /// its datagrams arrive from an unnamed address, which cannot be answered.
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::from_socket(Socket::new(Domain::UNIX, Type::DGRAM, None)?)
    }

    /// Connects to the socket at `path`: `send` goes there, and only its datagrams are
    /// received. Immediate: a Unix-domain connect does not wait for the peer.
    pub fn connect<P: AsRef<Path>>(&self, path: P) -> io::Result<()> {
        SockRef::from(self.io.get_ref()).connect(&SockAddr::unix(path)?)
    }

    /// Sends `buf` to the connected peer as one datagram.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io
            .io(Direction::Write, |socket| socket.send(buf))
            .await
    }

    /// Sends to the connected peer now, or fails with `WouldBlock`.
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_io(Direction::Write, |socket| socket.send(buf))
    }

    /// Sends to the socket at `target` now, or fails with `WouldBlock`.
    pub fn try_send_to<P>(&self, buf: &[u8], target: P) -> io::Result<usize>
    where
        P: AsRef<Path>,
    {
        let target = SockAddr::unix(target)?;
        self.io.try_io(Direction::Write, |socket| {
            SockRef::from(socket).send_to(buf, &target)
        })
    }

    /// Receives one datagram from the connected peer (the excess of a longer one is dropped).
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.io(Direction::Read, |socket| socket.recv(buf)).await
    }

    /// Receives a datagram now, or fails with `WouldBlock`.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(Direction::Read, |socket| socket.recv(buf))
    }

    /// Receives a datagram and its sender into `buf`'s spare capacity now, or fails with
    /// `WouldBlock`.
    pub fn try_recv_buf_from<B: bytes::BufMut>(
        &self,
        buf: &mut B,
    ) -> io::Result<(usize, SocketAddr)> {
        let (n, from) = self.io.try_io(Direction::Read, |socket| {
            uninit::recv_from_buf_mut(SockRef::from(socket), buf)
        })?;
        Ok((n, SocketAddr::from_sock_addr(&from)?))
    }

    /// Receives a datagram and its sender into `buf`'s spare capacity.
    pub async fn recv_buf_from<B: bytes::BufMut>(
        &self,
        buf: &mut B,
    ) -> io::Result<(usize, SocketAddr)> {
        let (n, from) = self
            .io
            .io(Direction::Read, |socket| {
                uninit::recv_from_buf_mut(SockRef::from(socket), buf)
            })
            .await?;
        Ok((n, SocketAddr::from_sock_addr(&from)?))
    }

    /// Receives a datagram into `buf`'s spare capacity now, or fails with `WouldBlock`.
    pub fn try_recv_buf<B: bytes::BufMut>(&self, buf: &mut B) -> io::Result<usize> {
        self.io.try_io(Direction::Read, |socket| {
            uninit::recv_buf_mut(SockRef::from(socket), buf)
        })
    }

    /// Receives a datagram from the connected peer into `buf`'s spare capacity.
    pub async fn recv_buf<B: bytes::BufMut>(&self, buf: &mut B) -> io::Result<usize> {
        self.io
            .io(Direction::Read, |socket| {
                uninit::recv_buf_mut(SockRef::from(socket), buf)
            })
            .await
    }

    /// Sends `buf` to the socket at `target` as one datagram.
    pub async fn send_to<P>(&self, buf: &[u8], target: P) -> io::Result<usize>
    where
        P: AsRef<Path>,
    {
        let target = SockAddr::unix(target)?;
        self.io
            .io(Direction::Write, |socket| {
                SockRef::from(socket).send_to(buf, &target)
            })
            .await
    }

    /// Receives one datagram and its sender.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let (n, from) = self
            .io
            .io(Direction::Read, |socket| socket.recv_from(buf))
            .await?;
        Ok((n, SocketAddr(from)))
    }

    /// Polls for one datagram into `buf`'s unfilled part; returns its sender.
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut gort_io::ReadBuf<'_>,
    ) -> Poll<io::Result<SocketAddr>> {
        let (_, from) = ready!(self.io.poll_io(Direction::Read, cx, |socket| {
            uninit::recv_from_read_buf(SockRef::from(socket), buf, Take::Remove)
        }))?;
        Poll::Ready(SocketAddr::from_sock_addr(&from))
    }

    /// Polls to send `buf` to the socket at `target`.
    pub fn poll_send_to<P>(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: P,
    ) -> Poll<io::Result<usize>>
    where
        P: AsRef<Path>,
    {
        let target = SockAddr::unix(target)?;
        self.io.poll_io(Direction::Write, cx, |socket| {
            SockRef::from(socket).send_to(buf, &target)
        })
    }

    /// Polls to send `buf` to the connected peer.
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io
            .poll_io(Direction::Write, cx, |socket| socket.send(buf))
    }

    /// Polls for one datagram from the connected peer into `buf`'s unfilled part.
    pub fn poll_recv(
        &self,
        cx: &mut Context<'_>,
        buf: &mut gort_io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.io
            .poll_io(Direction::Read, cx, |socket| {
                uninit::recv_read_buf(SockRef::from(socket), buf, Take::Remove)
            })
            .map_ok(drop)
    }

    /// Receives a datagram and its sender now, or fails with `WouldBlock`.
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let (n, from) = self
            .io
            .try_io(Direction::Read, |socket| socket.recv_from(buf))?;
        Ok((n, SocketAddr(from)))
    }

    /// Runs `f`, a system call of the caller's on this socket, if it may be ready for
    /// `interest` (`WouldBlock` if not; a `WouldBlock` from `f` clears the readiness).
    pub fn try_io<R>(
        &self,
        interest: Interest,
        f: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        self.io.try_io_interest(interest, |_| f())
    }

    /// Waits for `interest` and runs `f` until it does not return `WouldBlock`.
    pub async fn async_io<R>(
        &self,
        interest: Interest,
        mut f: impl FnMut() -> io::Result<R>,
    ) -> io::Result<R> {
        std::future::poll_fn(|cx| self.io.poll_io_interest(interest, cx, |_| f())).await
    }

    /// The local address (unnamed for an unbound socket).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr().map(SocketAddr)
    }

    /// The connected peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr().map(SocketAddr)
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Shuts down the read side, the write side, or both: after `Write`, this socket's sends
    /// fail with `BrokenPipe`; after `Read`, so do the peer's sends to it.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }
}

impl TryFrom<std::os::unix::net::UnixDatagram> for UnixDatagram {
    type Error = io::Error;

    /// [`UnixDatagram::from_std`].
    fn try_from(datagram: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        UnixDatagram::from_std(datagram)
    }
}

impl_as_fd!(UnixDatagram);
