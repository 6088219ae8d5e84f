//! `UdpSocket`: datagrams without blocking an M.

use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll};

use crate::lookup_host::{first_success, resolve, ToSocketAddrs};
use gort_reactor::poll_desc::Direction;
use gort_reactor::Registered;

/// A UDP socket (tokio's `UdpSocket`). Every method takes `&self`, so several tasks may send
/// and receive on one socket at once (share it in an `Arc`).
#[derive(Debug)]
pub struct UdpSocket {
    io: Registered<std::net::UdpSocket>,
}

impl UdpSocket {
    /// Binds to `addr` (each resolved address in turn until one works).
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        first_success(&addr, |addr| async move {
            UdpSocket::from_std(std::net::UdpSocket::bind(addr)?)
        })
        .await
    }

    /// Wraps a std socket, putting it in non-blocking mode.
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        Ok(UdpSocket {
            io: crate::register(socket)?,
        })
    }

    /// Deregisters the socket and returns it as a std socket, still in non-blocking mode.
    pub fn into_std(self) -> io::Result<std::net::UdpSocket> {
        Ok(self.io.into_inner())
    }

    /// Sets the default destination of `send` and the only source `recv` accepts.
    pub async fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        let socket = self.io.get_ref();
        first_success(&addr, |addr| async move { socket.connect(addr) }).await
    }

    /// Sends `buf` to the connected peer.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io
            .io(Direction::Write, |socket| socket.send(buf))
            .await
    }

    /// Receives one datagram from the connected peer into `buf` (the excess of a longer
    /// datagram is dropped).
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.io(Direction::Read, |socket| socket.recv(buf)).await
    }

    /// Polls for one datagram from the connected peer.
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io
            .poll_io(Direction::Read, cx, |socket| socket.recv(buf))
    }

    /// Sends `buf` to `target`.
    pub async fn send_to(&self, buf: &[u8], target: impl ToSocketAddrs) -> io::Result<usize> {
        let addr =
            resolve(&target).await?.into_iter().next().ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidInput, "no address to send to")
            })?;
        self.io
            .io(Direction::Write, |socket| socket.send_to(buf, addr))
            .await
    }

    /// Receives one datagram and its sender.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .io(Direction::Read, |socket| socket.recv_from(buf))
            .await
    }

    /// Polls for one datagram and its sender.
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        self.io
            .poll_io(Direction::Read, cx, |socket| socket.recv_from(buf))
    }

    /// Reads the next datagram and its sender without removing it from the queue.
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .io(Direction::Read, |socket| socket.peek_from(buf))
            .await
    }

    /// Reads the next datagram from the connected peer without removing it.
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.io(Direction::Read, |socket| socket.peek(buf)).await
    }

    /// Sends now or fails with `WouldBlock`.
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_io(Direction::Write, |socket| socket.send(buf))
    }

    /// Sends to `target` now or fails with `WouldBlock`.
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.io
            .try_io(Direction::Write, |socket| socket.send_to(buf, target))
    }

    /// Receives now or fails with `WouldBlock`.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(Direction::Read, |socket| socket.recv(buf))
    }

    /// Receives a datagram and its sender now, or fails with `WouldBlock`.
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .try_io(Direction::Read, |socket| socket.recv_from(buf))
    }

    /// Waits until a datagram may be waiting.
    pub async fn readable(&self) -> io::Result<()> {
        self.io.ready(Direction::Read).await
    }

    /// Ready once a datagram may be waiting (the poll form of `readable`).
    pub fn poll_recv_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready(Direction::Read, cx)
    }

    /// Ready once the socket may accept a datagram (the poll form of `writable`).
    pub fn poll_send_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready(Direction::Write, cx)
    }

    /// Waits until the socket may accept a datagram.
    pub async fn writable(&self) -> io::Result<()> {
        self.io.ready(Direction::Write).await
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// `SO_BROADCAST`.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.io.get_ref().broadcast()
    }

    /// Sets `SO_BROADCAST`.
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_broadcast(on)
    }

    /// `IP_TTL`.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Sets `IP_TTL`.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

impl_as_fd!(UdpSocket);
