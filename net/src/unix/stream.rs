//! `UnixStream`: a Unix-domain stream connection whose IO parks the G instead of the M.

use std::io;
use std::net::Shutdown;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use socket2::{Domain, SockAddr, Socket, Type};

use crate::unix::split::{self, OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use crate::unix::{ucred, SocketAddr, UCred};
use gort_reactor::poll_desc::Direction;
use gort_reactor::Registered;

/// A Unix-domain stream socket (tokio's `UnixStream`). Like
/// [`TcpStream`](crate::TcpStream), it implements tokio's and the `futures` crate's IO traits
/// for both `UnixStream` and `&UnixStream`.
#[derive(Debug)]
pub struct UnixStream {
    io: Registered<std::os::unix::net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket at `path` (on Linux, a path that starts with a NUL byte names
    /// an abstract address). Nobody listening there: `ConnectionRefused`; no such file:
    /// `NotFound`.
    pub async fn connect<P>(path: P) -> io::Result<UnixStream>
    where
        P: AsRef<Path>,
    {
        UnixStream::connect_sock_addr(&SockAddr::unix(path)?).await
    }

    /// Connects to the socket named by `socket_addr` (a path or an abstract name).
    pub async fn connect_addr(socket_addr: &SocketAddr) -> io::Result<UnixStream> {
        UnixStream::connect_sock_addr(&socket_addr.to_sock_addr()?).await
    }

    async fn connect_sock_addr(addr: &SockAddr) -> io::Result<UnixStream> {
        let socket = Socket::new(Domain::UNIX, Type::STREAM, None)?;
        socket.set_nonblocking(true)?;
        UnixStream::connect_socket(socket, addr).await
    }

    /// Connects `socket` (already non-blocking) to `addr` and waits until it is connected
    /// (`UnixSocket::connect` too).
    pub(crate) async fn connect_socket(socket: Socket, addr: &SockAddr) -> io::Result<UnixStream> {
        match socket.connect(addr) {
            Ok(()) => {}
            Err(err) if err.raw_os_error() == Some(libc::EINPROGRESS) => {}
            Err(err) => return Err(err),
        }
        // Registered knowing nothing, as a TCP connect is: even a connect that succeeded at
        // once is connected only when the poller's first edge says writable, and a listener
        // gone in between shows as an error then (`SO_ERROR`), not as a working stream.
        let stream = UnixStream {
            io: crate::register_unready(std::os::unix::net::UnixStream::from(OwnedFd::from(
                socket,
            )))?,
        };
        stream
            .io
            .io(Direction::Write, |socket| match socket.take_error()? {
                Some(err) => Err(err),
                None => Ok(()),
            })
            .await?;
        Ok(stream)
    }

    /// A connected pair of streams (`socketpair(2)`); both ends' addresses are unnamed.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = std::os::unix::net::UnixStream::pair()?;
        let end = |stream: std::os::unix::net::UnixStream| -> io::Result<UnixStream> {
            stream.set_nonblocking(true)?;
            Ok(UnixStream {
                io: crate::register_writable_only(stream)?,
            })
        };
        Ok((end(a)?, end(b)?))
    }

    /// Wraps a std stream, putting it in non-blocking mode.
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        UnixStream::from_nonblocking(stream)
    }

    pub(crate) fn from_nonblocking(
        stream: std::os::unix::net::UnixStream,
    ) -> io::Result<UnixStream> {
        Ok(UnixStream {
            io: crate::register(stream)?,
        })
    }

    /// Deregisters the stream and returns it as a std stream, still in non-blocking mode.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixStream> {
        Ok(self.io.into_inner())
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr().map(SocketAddr)
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr().map(SocketAddr)
    }

    /// The credentials of the peer process, as of its `connect` (or the `pair` call).
    pub fn peer_cred(&self) -> io::Result<UCred> {
        ucred::peer_cred(self.io.get_ref().as_fd())
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Borrowed halves that read and write concurrently.
    pub fn split<'a>(&'a mut self) -> (ReadHalf<'a>, WriteHalf<'a>) {
        split::split(self)
    }

    /// Owned halves that can move to different tasks; dropping the write half shuts down the
    /// write side.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        split::split_owned(self)
    }

    /// `shutdown(2)`, for the IO traits' shutdown and the owned write half's drop.
    pub(crate) fn shutdown_std(&self, how: Shutdown) -> io::Result<()> {
        // A connection the peer already reset (or that never connected) has nothing left to
        // shut down: `ENOTCONN` is success, as in tokio.
        match self.io.get_ref().shutdown(how) {
            Err(err) if err.kind() == io::ErrorKind::NotConnected => Ok(()),
            result => result,
        }
    }
}

impl TryFrom<std::os::unix::net::UnixStream> for UnixStream {
    type Error = io::Error;

    /// [`UnixStream::from_std`].
    fn try_from(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        UnixStream::from_std(stream)
    }
}

crate::stream_io::impl_stream_io!(UnixStream);

impl_as_fd!(UnixStream);
