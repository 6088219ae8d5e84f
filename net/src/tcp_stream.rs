//! `TcpStream`: a TCP connection whose reads and writes park the G instead of the M.

use std::io;
use std::net::{Shutdown, SocketAddr};
use std::time::Duration;

use socket2::{Domain, Protocol, SockRef, Socket, Type};

use crate::lookup_host::{first_success, ToSocketAddrs};
use crate::split;
use gort_reactor::poll_desc::Direction;
use gort_reactor::Registered;

/// A TCP connection (tokio's `TcpStream`). Reads and writes go through the `futures` IO traits,
/// implemented for both `TcpStream` and `&TcpStream`, so one task may read while another writes
/// through a shared reference.
#[derive(Debug)]
pub struct TcpStream {
    io: Registered<std::net::TcpStream>,
}

/// The read half of [`TcpStream::split`].
pub type ReadHalf<'a> = split::ReadHalf<'a, TcpStream>;
/// The write half of [`TcpStream::split`].
pub type WriteHalf<'a> = split::WriteHalf<'a, TcpStream>;
/// The owned read half of [`TcpStream::into_split`].
pub type OwnedReadHalf = split::OwnedReadHalf<TcpStream>;
/// The owned write half of [`TcpStream::into_split`]; dropping it shuts down the write side.
pub type OwnedWriteHalf = split::OwnedWriteHalf<TcpStream>;

impl TcpStream {
    /// Connects to `addr` (each resolved address in turn until one accepts). A port nobody
    /// listens on fails with `ConnectionRefused`.
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        first_success(&addr, TcpStream::connect_addr).await
    }

    async fn connect_addr(addr: SocketAddr) -> io::Result<TcpStream> {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        socket.set_nonblocking(true)?;
        match socket.connect(&addr.into()) {
            Ok(()) => {}
            Err(err) if err.raw_os_error() == Some(libc::EINPROGRESS) => {}
            Err(err) => return Err(err),
        }
        let stream = TcpStream::from_nonblocking(socket.into())?;
        // The connection is established when the socket first reports writable; an error
        // (refused, unreachable) is then in `SO_ERROR`.
        stream
            .io
            .io(Direction::Write, |socket| {
                if let Some(err) = socket.take_error()? {
                    return Err(err);
                }
                match socket.peer_addr() {
                    Ok(_) => Ok(()),
                    Err(err) if err.kind() == io::ErrorKind::NotConnected => {
                        Err(io::ErrorKind::WouldBlock.into())
                    }
                    Err(err) => Err(err),
                }
            })
            .await?;
        Ok(stream)
    }

    /// Wraps a connected std stream, putting it in non-blocking mode.
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        TcpStream::from_nonblocking(stream)
    }

    fn from_nonblocking(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
            io: crate::register(stream)?,
        })
    }

    /// Deregisters the stream and returns it as a std stream, still in non-blocking mode.
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
        Ok(self.io.into_inner())
    }

    /// The local address of the connection.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The address of the peer.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Sets `TCP_NODELAY` (disables Nagle's algorithm).
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get_ref().nodelay()
    }

    /// `IP_TTL` of the socket.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Sets `IP_TTL`.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// `SO_LINGER`.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        SockRef::from(self.io.get_ref()).linger()
    }

    /// Sets `SO_LINGER`. `Some(Duration::ZERO)` makes dropping the stream reset the connection
    /// instead of closing it gracefully.
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        SockRef::from(self.io.get_ref()).set_linger(linger)
    }

    /// Shuts down the read side, the write side, or both (`shutdown(2)`). Shutting down the
    /// write side sends FIN: the peer reads end of stream.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Reads into `buf` without removing the data from the socket's queue.
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.io(Direction::Read, |stream| stream.peek(buf)).await
    }

    /// Borrowed halves that read and write concurrently.
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        split::split(self)
    }

    /// Owned halves that can move to different tasks; [`split::OwnedReadHalf::reunite`] puts
    /// them back together.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        split::into_split(self)
    }
}

crate::stream_io::impl_stream_io!(TcpStream);

impl_as_fd!(TcpStream);
