//! `TcpStream`: a TCP connection whose reads and writes park the G instead of the M.

use std::io;
use std::net::{Shutdown, SocketAddr};
use std::task::{Context, Poll};
use std::time::Duration;

use socket2::{Domain, Protocol, SockRef, Socket, Type};

use crate::lookup_host::{first_success, ToSocketAddrs};
use crate::tcp::split::{self, OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use crate::uninit::{self, Take};
use gort_reactor::poll_desc::Direction;
use gort_reactor::Registered;

/// A TCP connection (tokio's `TcpStream`). It implements tokio's `AsyncRead`/`AsyncWrite`
/// (`gort::io`) and the `futures` crate's, for both `TcpStream` and `&TcpStream`, so one task
/// may read while another writes through a shared reference; [`TcpStream::split`] and
/// [`TcpStream::into_split`] give the same as named halves.
///
/// Shutting down the write side is `AsyncWriteExt::shutdown` (the peer reads end of stream);
/// dropping the stream closes it.
#[derive(Debug)]
pub struct TcpStream {
    io: Registered<std::net::TcpStream>,
}

impl TcpStream {
    /// Connects to `addr` (each resolved address in turn until one accepts). A port nobody
    /// listens on fails with `ConnectionRefused`.
    pub async fn connect<A: ToSocketAddrs>(addr: A) -> io::Result<TcpStream> {
        first_success(&addr, TcpStream::connect_addr).await
    }

    async fn connect_addr(addr: SocketAddr) -> io::Result<TcpStream> {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        socket.set_nonblocking(true)?;
        TcpStream::connect_socket(socket, addr).await
    }

    /// Starts a non-blocking connect of `socket` (already non-blocking) to `addr` and waits
    /// until it is established (`TcpSocket::connect` too).
    pub(crate) async fn connect_socket(socket: Socket, addr: SocketAddr) -> io::Result<TcpStream> {
        match socket.connect(&addr.into()) {
            Ok(()) => {}
            Err(err) if err.raw_os_error() == Some(libc::EINPROGRESS) => {}
            Err(err) => return Err(err),
        }
        // Registered knowing nothing: the connection is established when the socket first
        // reports writable (an error, refused or unreachable, is then in `SO_ERROR`), and it is
        // readable only once the poller says so.
        let stream = TcpStream {
            io: crate::register_unready(std::net::TcpStream::from(socket))?,
        };
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

    pub(crate) fn from_nonblocking(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
            io: crate::register(stream)?,
        })
    }

    /// Deregisters the stream and returns it as a std stream, still in non-blocking mode (as
    /// tokio does; call `set_nonblocking(false)` to use it with blocking calls).
    pub fn into_std(self) -> io::Result<std::net::TcpStream> {
        Ok(self.io.into_inner())
    }

    /// The local address of the connection.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// The address of the peer.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Polls for data to peek at: copies what is queued into `buf`'s unfilled part without
    /// removing it from the socket (`MSG_PEEK`), and returns how much. The poll form of
    /// [`TcpStream::peek`].
    pub fn poll_peek(
        &self,
        cx: &mut Context<'_>,
        buf: &mut gort_io::ReadBuf<'_>,
    ) -> Poll<io::Result<usize>> {
        self.io.poll_io(Direction::Read, cx, |stream| {
            uninit::recv_read_buf(SockRef::from(stream), buf, Take::Peek)
        })
    }

    /// Reads into `buf` without removing the data from the socket's queue: the next read
    /// returns the same bytes.
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.io(Direction::Read, |stream| stream.peek(buf)).await
    }

    /// Whether `TCP_NODELAY` is set.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get_ref().nodelay()
    }

    /// Sets `TCP_NODELAY` (disables Nagle's algorithm: small writes go out at once).
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(nodelay)
    }

    /// Whether `TCP_QUICKACK` is set (Linux: acknowledge at once rather than delayed).
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "fuchsia"))]
    pub fn quickack(&self) -> io::Result<bool> {
        SockRef::from(self.io.get_ref()).tcp_quickack()
    }

    /// Sets `TCP_QUICKACK`. The kernel may clear it again by itself: it is a hint for the
    /// next acknowledgements, not a mode.
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "fuchsia"))]
    pub fn set_quickack(&self, quickack: bool) -> io::Result<()> {
        SockRef::from(self.io.get_ref()).set_tcp_quickack(quickack)
    }

    /// `SO_LINGER`.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        SockRef::from(self.io.get_ref()).linger()
    }

    /// Sets `SO_LINGER`. A non-zero duration makes closing the socket block the thread that
    /// drops it until the unsent data is out or the time is up, which in an async program
    /// stalls an M; tokio deprecates it for that reason, and so does gort.
    #[deprecated = "`SO_LINGER` with a timeout makes dropping the socket block the thread; use `set_zero_linger` for an abortive close"]
    pub fn set_linger(&self, dur: Option<Duration>) -> io::Result<()> {
        SockRef::from(self.io.get_ref()).set_linger(dur)
    }

    /// Sets `SO_LINGER` to zero: dropping the stream resets the connection (`RST`) instead
    /// of closing it gracefully, discarding unsent data and skipping `TIME_WAIT`.
    pub fn set_zero_linger(&self) -> io::Result<()> {
        SockRef::from(self.io.get_ref()).set_linger(Some(Duration::ZERO))
    }

    /// `IP_TTL` of the socket.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Sets `IP_TTL`.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// Borrowed halves that read and write concurrently.
    pub fn split<'a>(&'a mut self) -> (ReadHalf<'a>, WriteHalf<'a>) {
        split::split(self)
    }

    /// Owned halves that can move to different tasks; `reunite` puts them back together.
    /// Dropping the write half shuts down the write side.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        split::split_owned(self)
    }

    /// `shutdown(2)`, for the IO traits' shutdown and the owned write half's drop (tokio has
    /// no public `shutdown(Shutdown)` on streams: `AsyncWriteExt::shutdown` is the way).
    pub(crate) fn shutdown_std(&self, how: Shutdown) -> io::Result<()> {
        // A connection the peer already reset (or that never connected) has nothing left to
        // shut down: `ENOTCONN` is success, as in tokio.
        match self.io.get_ref().shutdown(how) {
            Err(err) if err.kind() == io::ErrorKind::NotConnected => Ok(()),
            result => result,
        }
    }
}

impl TryFrom<std::net::TcpStream> for TcpStream {
    type Error = io::Error;

    /// [`TcpStream::from_std`].
    fn try_from(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        TcpStream::from_std(stream)
    }
}

crate::stream_io::impl_stream_io!(TcpStream);

impl_as_fd!(TcpStream);
