//! `UnixSocket`: a Unix-domain socket not yet connected, listening or used for datagrams, for
//! options that must come before (binding a client stream to a path, a backlog of one's own).
//! Like `TcpSocket`, a plain non-blocking socket2 `Socket` that registers with the reactor only
//! when it becomes a listener, a stream or a datagram socket.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::path::Path;

use socket2::{Domain, SockAddr, Socket, Type};

use crate::{UnixDatagram, UnixListener, UnixStream};

/// A Unix-domain socket before it is a listener, a stream or a datagram socket (tokio's
/// `UnixSocket`).
#[derive(Debug)]
pub struct UnixSocket {
    inner: Socket,
}

impl UnixSocket {
    /// A new datagram socket (becomes a [`UnixDatagram`] with [`UnixSocket::datagram`]).
    pub fn new_datagram() -> io::Result<UnixSocket> {
        UnixSocket::new(Type::DGRAM)
    }

    /// A new stream socket (becomes a [`UnixListener`] or a [`UnixStream`]).
    pub fn new_stream() -> io::Result<UnixSocket> {
        UnixSocket::new(Type::STREAM)
    }

    fn new(ty: Type) -> io::Result<UnixSocket> {
        let inner = Socket::new(Domain::UNIX, ty, None)?;
        inner.set_nonblocking(true)?;
        Ok(UnixSocket { inner })
    }

    /// Whether this is a datagram socket: the conversions check, as tokio's do.
    fn is_datagram(&self) -> io::Result<bool> {
        Ok(self.inner.r#type()? == Type::DGRAM)
    }

    /// Binds to `path` (on Linux, a leading NUL byte names an abstract address).
    pub fn bind(&self, path: impl AsRef<Path>) -> io::Result<()> {
        self.inner.bind(&SockAddr::unix(path)?)
    }

    /// Listens, with up to `backlog` connections queued. A datagram socket cannot listen.
    pub fn listen(self, backlog: u32) -> io::Result<UnixListener> {
        if self.is_datagram()? {
            return Err(wrong_kind("listen cannot be called on a datagram socket"));
        }
        self.inner
            .listen(i32::try_from(backlog).unwrap_or(i32::MAX))?;
        UnixListener::from_nonblocking(std::os::unix::net::UnixListener::from(OwnedFd::from(
            self.inner,
        )))
    }

    /// Connects to the socket at `path` and waits until connected. A datagram socket
    /// connects with [`UnixDatagram::connect`] after [`UnixSocket::datagram`] instead.
    pub async fn connect(self, path: impl AsRef<Path>) -> io::Result<UnixStream> {
        if self.is_datagram()? {
            return Err(wrong_kind("connect cannot be called on a datagram socket"));
        }
        let addr = SockAddr::unix(path)?;
        UnixStream::connect_socket(self.inner, &addr).await
    }

    /// The socket as a [`UnixDatagram`]. A stream socket is not one.
    pub fn datagram(self) -> io::Result<UnixDatagram> {
        if !self.is_datagram()? {
            return Err(wrong_kind("datagram cannot be called on a stream socket"));
        }
        UnixDatagram::from_socket(self.inner)
    }
}

/// The error of a conversion the socket's kind does not allow, with tokio's text (programs and
/// tokio's tests match it).
fn wrong_kind(message: &'static str) -> io::Error {
    io::Error::other(message)
}

impl AsRawFd for UnixSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_raw_fd()
    }
}

impl AsFd for UnixSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

impl FromRawFd for UnixSocket {
    /// Takes ownership of `fd`, which must be an open Unix-domain socket nothing else owns.
    unsafe fn from_raw_fd(fd: RawFd) -> UnixSocket {
        // SAFETY: the caller promises that `fd` is an open socket it hands over to us (the
        // contract of `FromRawFd`), which is what `OwnedFd::from_raw_fd` requires.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        UnixSocket {
            inner: Socket::from(fd),
        }
    }
}

impl IntoRawFd for UnixSocket {
    fn into_raw_fd(self) -> RawFd {
        self.inner.into_raw_fd()
    }
}
