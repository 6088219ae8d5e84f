//! A child's standard streams as non-blocking pipes registered with the netpoller:
//! [`ChildStdin`] (write), [`ChildStdout`] and [`ChildStderr`] (read).

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use gort_executor::runtime::Handle;
use gort_reactor::poll_desc::Direction;
use gort_reactor::Registered;

/// Registers a pipe end (made non-blocking) with the current runtime's netpoller.
fn register(fd: OwnedFd) -> io::Result<Registered<File>> {
    crate::fd::set_nonblocking(fd.as_raw_fd(), true)?;
    Registered::new(File::from(fd), Arc::clone(Handle::current().reactor()))
}

macro_rules! pipe_type {
    ($(#[$doc:meta])* $name:ident, $std:ty) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name {
            pipe: Registered<File>,
        }

        impl $name {
            /// Wraps std's handle (which is made non-blocking) for use on the current runtime.
            pub fn from_std(inner: $std) -> io::Result<$name> {
                Ok($name { pipe: register(OwnedFd::from(inner))? })
            }

            /// Deregisters the pipe and returns its descriptor, in blocking mode again.
            pub fn into_owned_fd(self) -> io::Result<OwnedFd> {
                let fd = OwnedFd::from(self.pipe.into_inner());
                crate::fd::set_nonblocking(fd.as_raw_fd(), false)?;
                Ok(fd)
            }
        }

        impl AsRawFd for $name {
            fn as_raw_fd(&self) -> RawFd {
                self.pipe.get_ref().as_raw_fd()
            }
        }

        impl AsFd for $name {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.pipe.get_ref().as_fd()
            }
        }

        impl TryFrom<$name> for OwnedFd {
            type Error = io::Error;

            fn try_from(pipe: $name) -> io::Result<OwnedFd> {
                pipe.into_owned_fd()
            }
        }
    };
}

pipe_type!(
    /// The write end of a child's standard input (`Stdio::piped()`). Dropping it closes the
    /// pipe, which the child reads as the end of its input.
    ChildStdin,
    std::process::ChildStdin
);
pipe_type!(
    /// The read end of a child's standard output (`Stdio::piped()`).
    ChildStdout,
    std::process::ChildStdout
);
pipe_type!(
    /// The read end of a child's standard error (`Stdio::piped()`).
    ChildStderr,
    std::process::ChildStderr
);

impl ChildStdin {
    /// Writes some of `buf`, parking until the pipe has room.
    pub(crate) fn poll_write_bytes(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.pipe
            .poll_transfer(Direction::Write, cx, buf.len(), |mut pipe| pipe.write(buf))
    }
}

/// Reads from a registered pipe into `buf`, parking until there is data or the end.
fn poll_read_bytes(
    pipe: &Registered<File>,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<io::Result<usize>> {
    pipe.poll_transfer(Direction::Read, cx, buf.len(), |mut file| file.read(buf))
}

/// Reads everything until the end of the stream into `out`; cancel-safe in that what was read
/// stays in `out`.
pub(crate) fn poll_read_to_end(
    pipe: &Registered<File>,
    cx: &mut Context<'_>,
    out: &mut Vec<u8>,
) -> Poll<io::Result<()>> {
    let mut chunk = [0u8; 8192];
    loop {
        match std::task::ready!(poll_read_bytes(pipe, cx, &mut chunk)) {
            Ok(0) => return Poll::Ready(Ok(())),
            Ok(n) => out.extend_from_slice(&chunk[..n]),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Poll::Ready(Err(err)),
        }
    }
}

impl ChildStdout {
    /// The registered pipe, for `wait_with_output`.
    pub(crate) fn pipe(&self) -> &Registered<File> {
        &self.pipe
    }
}

impl ChildStderr {
    /// The registered pipe, for `wait_with_output`.
    pub(crate) fn pipe(&self) -> &Registered<File> {
        &self.pipe
    }
}

/// Reads into the unfilled part of `buf` (initialising it once; later reads reuse it).
fn poll_read_into(
    pipe: &Registered<File>,
    cx: &mut Context<'_>,
    buf: &mut gort_io::ReadBuf<'_>,
) -> Poll<io::Result<()>> {
    let n = std::task::ready!(poll_read_bytes(pipe, cx, buf.initialize_unfilled()))?;
    buf.advance(n);
    Poll::Ready(Ok(()))
}

impl gort_io::AsyncWrite for ChildStdin {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_bytes(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// A pipe has no half-close: shutting down succeeds and the pipe closes when dropped.
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl gort_io::AsyncRead for ChildStdout {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut gort_io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        poll_read_into(&self.pipe, cx, buf)
    }
}

impl gort_io::AsyncRead for ChildStderr {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut gort_io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        poll_read_into(&self.pipe, cx, buf)
    }
}

impl futures_io::AsyncWrite for ChildStdin {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_bytes(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl futures_io::AsyncRead for ChildStdout {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        poll_read_bytes(&self.pipe, cx, buf)
    }
}

impl futures_io::AsyncRead for ChildStderr {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        poll_read_bytes(&self.pipe, cx, buf)
    }
}
