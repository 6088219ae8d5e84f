//! `UdpSocket`: datagrams without blocking an M.
//!
//! Every method takes `&self`, so several tasks may send and receive on one socket at once
//! (share it in an `Arc`); each parks in its own direction's waiter list. Receives go straight
//! into uninitialised memory where the caller offers it (`ReadBuf`, `BufMut`; `uninit.rs`).

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::task::{ready, Context, Poll};

use socket2::{SockAddr, SockRef};

use crate::lookup_host::{first_success, resolve_first, ToSocketAddrs};
use crate::uninit::{self, Take};
use crate::{Interest, Ready};
use gort_reactor::poll_desc::Direction;
use gort_reactor::Registered;

/// A UDP socket (tokio's `UdpSocket`): bound to a local address, optionally connected to one
/// peer (then `send`/`recv` work and only that peer's datagrams arrive).
#[derive(Debug)]
pub struct UdpSocket {
    io: Registered<std::net::UdpSocket>,
}

/// The IP address a socket2 address holds (a UDP socket's peers always have one).
fn ip_addr(addr: SockAddr) -> io::Result<SocketAddr> {
    addr.as_socket()
        .ok_or_else(|| io::Error::other("the sender's address is not an IP address"))
}

impl UdpSocket {
    /// Binds to `addr` (each resolved address in turn until one works; port 0: any free port).
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<UdpSocket> {
        first_success(&addr, |addr| async move {
            UdpSocket::from_std(std::net::UdpSocket::bind(addr)?)
        })
        .await
    }

    /// Wraps a std socket, putting it in non-blocking mode.
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        // Writable, but not readable until the poller says so: a datagram socket's first
        // receive waits for data rather than trying (tokio's sockets start so).
        Ok(UdpSocket {
            io: crate::register_writable_only(socket)?,
        })
    }

    /// Deregisters the socket and returns it as a std socket, still in non-blocking mode.
    pub fn into_std(self) -> io::Result<std::net::UdpSocket> {
        Ok(self.io.into_inner())
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address (`NotConnected` if `connect` was never called).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Sets the default destination of `send` and the only source `recv` accepts (each
    /// resolved address in turn until one works).
    pub async fn connect<A: ToSocketAddrs>(&self, addr: A) -> io::Result<()> {
        let socket = self.io.get_ref();
        first_success(&addr, |addr| async move { socket.connect(addr) }).await
    }

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

    /// Sends `buf` to the connected peer as one datagram.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io
            .io(Direction::Write, |socket| socket.send(buf))
            .await
    }

    /// Polls to send `buf` to the connected peer.
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io
            .poll_io(Direction::Write, cx, |socket| socket.send(buf))
    }

    /// Sends to the connected peer now, or fails with `WouldBlock`.
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_io(Direction::Write, |socket| socket.send(buf))
    }

    /// Waits until a datagram may be waiting.
    pub async fn readable(&self) -> io::Result<()> {
        self.io.ready(Direction::Read).await
    }

    /// Ready once a datagram may be waiting (the poll form of `readable`).
    pub fn poll_recv_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready_latest(Direction::Read, cx)
    }

    /// Receives one datagram from the connected peer into `buf` (the excess of a longer
    /// datagram is dropped).
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.io(Direction::Read, |socket| socket.recv(buf)).await
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

    /// Receives now or fails with `WouldBlock`.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(Direction::Read, |socket| socket.recv(buf))
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

    /// Receives a datagram and its sender into `buf`'s spare capacity now, or fails with
    /// `WouldBlock`.
    pub fn try_recv_buf_from<B: bytes::BufMut>(
        &self,
        buf: &mut B,
    ) -> io::Result<(usize, SocketAddr)> {
        let (n, from) = self.io.try_io(Direction::Read, |socket| {
            uninit::recv_from_buf_mut(SockRef::from(socket), buf)
        })?;
        Ok((n, ip_addr(from)?))
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
        Ok((n, ip_addr(from)?))
    }

    /// Sends `buf` to `target` (its first resolved address) as one datagram.
    pub async fn send_to<A: ToSocketAddrs>(&self, buf: &[u8], target: A) -> io::Result<usize> {
        let addr = resolve_first(&target).await?;
        self.io
            .io(Direction::Write, |socket| socket.send_to(buf, addr))
            .await
    }

    /// Polls to send `buf` to `target`.
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        self.io
            .poll_io(Direction::Write, cx, |socket| socket.send_to(buf, target))
    }

    /// Sends to `target` now or fails with `WouldBlock`.
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.io
            .try_io(Direction::Write, |socket| socket.send_to(buf, target))
    }

    /// Receives one datagram and its sender.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .io(Direction::Read, |socket| socket.recv_from(buf))
            .await
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
        Poll::Ready(ip_addr(from))
    }

    /// Receives a datagram and its sender now, or fails with `WouldBlock`.
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .try_io(Direction::Read, |socket| socket.recv_from(buf))
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

    /// Reads the next datagram from the connected peer without removing it from the queue.
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.io(Direction::Read, |socket| socket.peek(buf)).await
    }

    /// Polls to peek at the next datagram from the connected peer, into `buf`'s unfilled part.
    pub fn poll_peek(
        &self,
        cx: &mut Context<'_>,
        buf: &mut gort_io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.io
            .poll_io(Direction::Read, cx, |socket| {
                uninit::recv_read_buf(SockRef::from(socket), buf, Take::Peek)
            })
            .map_ok(drop)
    }

    /// Peeks at the next datagram from the connected peer now, or fails with `WouldBlock`.
    pub fn try_peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io(Direction::Read, |socket| socket.peek(buf))
    }

    /// Reads the next datagram and its sender without removing it from the queue.
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .io(Direction::Read, |socket| socket.peek_from(buf))
            .await
    }

    /// Polls to peek at the next datagram into `buf`'s unfilled part; returns its sender.
    pub fn poll_peek_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut gort_io::ReadBuf<'_>,
    ) -> Poll<io::Result<SocketAddr>> {
        let (_, from) = ready!(self.io.poll_io(Direction::Read, cx, |socket| {
            uninit::recv_from_read_buf(SockRef::from(socket), buf, Take::Peek)
        }))?;
        Poll::Ready(ip_addr(from))
    }

    /// Peeks at the next datagram and its sender now, or fails with `WouldBlock`.
    pub fn try_peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .try_io(Direction::Read, |socket| socket.peek_from(buf))
    }

    /// The sender of the next datagram, which stays queued (for choosing a buffer or a
    /// handler before receiving it).
    pub async fn peek_sender(&self) -> io::Result<SocketAddr> {
        std::future::poll_fn(|cx| self.poll_peek_sender(cx)).await
    }

    /// Polls for the sender of the next datagram.
    pub fn poll_peek_sender(&self, cx: &mut Context<'_>) -> Poll<io::Result<SocketAddr>> {
        self.io.poll_io(Direction::Read, cx, |socket| {
            ip_addr(SockRef::from(socket).peek_sender()?)
        })
    }

    /// The sender of the next datagram now, or `WouldBlock`.
    pub fn try_peek_sender(&self) -> io::Result<SocketAddr> {
        self.io.try_io(Direction::Read, |socket| {
            ip_addr(SockRef::from(socket).peek_sender()?)
        })
    }

    /// `SO_BROADCAST`.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.io.get_ref().broadcast()
    }

    /// Sets `SO_BROADCAST` (needed to send to a broadcast address).
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_broadcast(on)
    }

    /// `IP_MULTICAST_LOOP`.
    pub fn multicast_loop_v4(&self) -> io::Result<bool> {
        self.io.get_ref().multicast_loop_v4()
    }

    /// Sets `IP_MULTICAST_LOOP` (whether this host receives its own IPv4 multicasts).
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_multicast_loop_v4(on)
    }

    /// `IP_MULTICAST_TTL`.
    pub fn multicast_ttl_v4(&self) -> io::Result<u32> {
        self.io.get_ref().multicast_ttl_v4()
    }

    /// Sets `IP_MULTICAST_TTL` (how many hops IPv4 multicasts go; 1 keeps them on the LAN).
    pub fn set_multicast_ttl_v4(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_multicast_ttl_v4(ttl)
    }

    /// `IPV6_MULTICAST_LOOP`.
    pub fn multicast_loop_v6(&self) -> io::Result<bool> {
        self.io.get_ref().multicast_loop_v6()
    }

    /// Sets `IPV6_MULTICAST_LOOP`.
    pub fn set_multicast_loop_v6(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_multicast_loop_v6(on)
    }

    /// `IPV6_TCLASS`.
    #[cfg(any(
        target_os = "android",
        target_os = "dragonfly",
        target_os = "freebsd",
        target_os = "fuchsia",
        target_os = "linux",
        target_os = "macos",
        target_os = "netbsd",
        target_os = "openbsd",
    ))]
    pub fn tclass_v6(&self) -> io::Result<u32> {
        SockRef::from(self.io.get_ref()).tclass_v6()
    }

    /// Sets `IPV6_TCLASS`.
    #[cfg(any(
        target_os = "android",
        target_os = "dragonfly",
        target_os = "freebsd",
        target_os = "fuchsia",
        target_os = "linux",
        target_os = "macos",
        target_os = "netbsd",
        target_os = "openbsd",
    ))]
    pub fn set_tclass_v6(&self, tclass: u32) -> io::Result<()> {
        SockRef::from(self.io.get_ref()).set_tclass_v6(tclass)
    }

    /// `IP_TTL`.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Sets `IP_TTL`.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// `IP_TOS`.
    #[cfg(not(any(
        target_os = "fuchsia",
        target_os = "redox",
        target_os = "solaris",
        target_os = "illumos",
        target_os = "haiku",
    )))]
    pub fn tos_v4(&self) -> io::Result<u32> {
        SockRef::from(self.io.get_ref()).tos_v4()
    }

    /// Sets `IP_TOS`.
    #[cfg(not(any(
        target_os = "fuchsia",
        target_os = "redox",
        target_os = "solaris",
        target_os = "illumos",
        target_os = "haiku",
    )))]
    pub fn set_tos_v4(&self, tos: u32) -> io::Result<()> {
        SockRef::from(self.io.get_ref()).set_tos_v4(tos)
    }

    /// The old name of [`UdpSocket::tos_v4`].
    #[deprecated(note = "`tos` is IPv4-only: use `tos_v4`")]
    #[doc(hidden)]
    #[cfg(not(any(
        target_os = "fuchsia",
        target_os = "redox",
        target_os = "solaris",
        target_os = "illumos",
        target_os = "haiku",
    )))]
    pub fn tos(&self) -> io::Result<u32> {
        self.tos_v4()
    }

    /// The old name of [`UdpSocket::set_tos_v4`].
    #[deprecated(note = "`set_tos` is IPv4-only: use `set_tos_v4`")]
    #[doc(hidden)]
    #[cfg(not(any(
        target_os = "fuchsia",
        target_os = "redox",
        target_os = "solaris",
        target_os = "illumos",
        target_os = "haiku",
    )))]
    pub fn set_tos(&self, tos: u32) -> io::Result<()> {
        self.set_tos_v4(tos)
    }

    /// The device the socket is bound to (`SO_BINDTODEVICE`), if any.
    #[cfg(any(target_os = "android", target_os = "fuchsia", target_os = "linux"))]
    pub fn device(&self) -> io::Result<Option<Vec<u8>>> {
        SockRef::from(self.io.get_ref()).device()
    }

    /// Binds the socket to a network device (`SO_BINDTODEVICE`; `None` removes the binding).
    #[cfg(any(target_os = "android", target_os = "fuchsia", target_os = "linux"))]
    pub fn bind_device(&self, interface: Option<&[u8]>) -> io::Result<()> {
        SockRef::from(self.io.get_ref()).bind_device(interface)
    }

    /// Joins IPv4 multicast group `multiaddr` on the interface with address `interface`
    /// (`0.0.0.0`: the system's choice).
    pub fn join_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.get_ref().join_multicast_v4(&multiaddr, &interface)
    }

    /// Joins IPv6 multicast group `multiaddr` on interface index `interface` (0: any).
    pub fn join_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.get_ref().join_multicast_v6(multiaddr, interface)
    }

    /// Leaves an IPv4 multicast group joined with [`UdpSocket::join_multicast_v4`].
    pub fn leave_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.get_ref().leave_multicast_v4(&multiaddr, &interface)
    }

    /// Leaves an IPv6 multicast group joined with [`UdpSocket::join_multicast_v6`].
    pub fn leave_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.get_ref().leave_multicast_v6(multiaddr, interface)
    }

    /// Takes the pending socket error (`SO_ERROR`), if any: an ICMP error a connected socket
    /// received.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

impl TryFrom<std::net::UdpSocket> for UdpSocket {
    type Error = io::Error;

    /// [`UdpSocket::from_std`].
    fn try_from(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        UdpSocket::from_std(socket)
    }
}

impl_as_fd!(UdpSocket);
