//! `UnixStream`: a Unix-domain stream connection whose IO parks the G instead of the M.

use std::io;
use std::net::Shutdown;
use std::os::unix::net::SocketAddr;
use std::path::Path;

use socket2::{Domain, SockAddr, Socket, Type};

use crate::split;
use gort_reactor::poll_desc::Direction;
use gort_reactor::Registered;

/// A Unix-domain stream socket (tokio's `UnixStream`). Like [`TcpStream`](crate::net::TcpStream),
/// it implements the `futures` IO traits for both `UnixStream` and `&UnixStream`.
#[derive(Debug)]
pub struct UnixStream {
    io: Registered<std::os::unix::net::UnixStream>,
}

/// The read half of [`UnixStream::split`].
pub type ReadHalf<'a> = split::ReadHalf<'a, UnixStream>;
/// The write half of [`UnixStream::split`].
pub type WriteHalf<'a> = split::WriteHalf<'a, UnixStream>;
/// The owned read half of [`UnixStream::into_split`].
pub type OwnedReadHalf = split::OwnedReadHalf<UnixStream>;
/// The owned write half of [`UnixStream::into_split`]; dropping it shuts down the write side.
pub type OwnedWriteHalf = split::OwnedWriteHalf<UnixStream>;

impl UnixStream {
    /// Connects to the socket at `path`.
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let socket = Socket::new(Domain::UNIX, Type::STREAM, None)?;
        socket.set_nonblocking(true)?;
        match socket.connect(&SockAddr::unix(path)?) {
            Ok(()) => {}
            Err(err) if err.raw_os_error() == Some(libc::EINPROGRESS) => {}
            Err(err) => return Err(err),
        }
        let stream = UnixStream::from_nonblocking(std::os::unix::net::UnixStream::from(
            std::os::fd::OwnedFd::from(socket),
        ))?;
        stream
            .io
            .io(Direction::Write, |socket| match socket.take_error()? {
                Some(err) => Err(err),
                None => Ok(()),
            })
            .await?;
        Ok(stream)
    }

    /// A connected pair of streams (`socketpair(2)`).
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = std::os::unix::net::UnixStream::pair()?;
        Ok((UnixStream::from_std(a)?, UnixStream::from_std(b)?))
    }

    /// Wraps a std stream, putting it in non-blocking mode.
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        UnixStream::from_nonblocking(stream)
    }

    fn from_nonblocking(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
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
        self.io.get_ref().local_addr()
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Shuts down the read side, the write side, or both.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Borrowed halves that read and write concurrently.
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        split::split(self)
    }

    /// Owned halves that can move to different tasks.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        split::into_split(self)
    }
}

crate::stream_io::impl_stream_io!(UnixStream);

impl_as_fd!(UnixStream);
