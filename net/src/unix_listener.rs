//! `UnixListener`: accepts Unix-domain stream connections without blocking an M.

use std::io;
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::task::{Context, Poll};

use crate::UnixStream;
use gort_reactor::poll_desc::Direction;
use gort_reactor::Registered;

/// A Unix-domain socket server (tokio's `UnixListener`).
#[derive(Debug)]
pub struct UnixListener {
    io: Registered<std::os::unix::net::UnixListener>,
}

impl UnixListener {
    /// Binds to `path` and listens. Fails with `AddrInUse` if the path exists.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        UnixListener::from_std(std::os::unix::net::UnixListener::bind(path)?)
    }

    /// Wraps a std listener, putting it in non-blocking mode.
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        Ok(UnixListener {
            io: crate::register(listener)?,
        })
    }

    /// Deregisters the listener and returns it as a std listener, still in non-blocking mode.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixListener> {
        Ok(self.io.into_inner())
    }

    /// Accepts a connection; errors (`EMFILE`...) leave the pending connection queued.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        std::future::poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for a connection.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        self.io
            .poll_io(Direction::Read, cx, |listener| listener.accept())
            .map(|accepted| {
                let (stream, peer) = accepted?;
                Ok((UnixStream::from_std(stream)?, peer))
            })
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

impl_as_fd!(UnixListener);
