//! `AsyncWrite`: a sink of bytes that parks its task instead of blocking its thread.
//!
//! Three operations, each a poll: `poll_write` takes some prefix of the bytes (returning how
//! many; `Ok(0)` for a non-empty buffer means the sink can take no more), `poll_flush` pushes
//! out whatever the writer buffers, and `poll_shutdown` flushes and then closes the write
//! side (a socket sends FIN, a duplex pipe's reader sees end of file). Vectored writes default
//! to writing the first non-empty slice, so only writers with a real gather write override
//! them and say so through `is_write_vectored`.

use std::io::{self, IoSlice};
use std::ops::DerefMut;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Writes bytes asynchronously (tokio's `AsyncWrite`).
///
/// Used through [`AsyncWriteExt`](crate::AsyncWriteExt) (`write_all`, `flush`, `shutdown`, ...).
pub trait AsyncWrite {
    /// Attempts to write bytes from `buf`, returning how many were taken. `Pending` means no
    /// room now; `cx`'s waker is woken once there may be.
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>>;

    /// Attempts to flush buffered bytes to their destination.
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>>;

    /// Flushes, then closes the write side. Once it returned `Ready(Ok(()))`, the writer
    /// should not be written again.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>>;

    /// Like [`poll_write`](AsyncWrite::poll_write), from several buffers in order. The default
    /// writes the first non-empty one.
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let first = bufs
            .iter()
            .find(|b| !b.is_empty())
            .map_or(&[][..], |b| &**b);
        self.poll_write(cx, first)
    }

    /// Whether [`poll_write_vectored`](AsyncWrite::poll_write_vectored) is better than one
    /// `poll_write` per buffer. Default: `false`.
    fn is_write_vectored(&self) -> bool {
        false
    }
}

/// The impls for pointers to a writer: every method forwards to the pointee.
macro_rules! forward_async_write_to_pointee {
    () => {
        fn poll_write(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            Pin::new(&mut **self.get_mut()).poll_write(cx, buf)
        }

        fn poll_write_vectored(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            Pin::new(&mut **self.get_mut()).poll_write_vectored(cx, bufs)
        }

        fn is_write_vectored(&self) -> bool {
            (**self).is_write_vectored()
        }

        fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut **self.get_mut()).poll_flush(cx)
        }

        fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut **self.get_mut()).poll_shutdown(cx)
        }
    };
}

impl<T: ?Sized + AsyncWrite + Unpin> AsyncWrite for Box<T> {
    forward_async_write_to_pointee!();
}

impl<T: ?Sized + AsyncWrite + Unpin> AsyncWrite for &mut T {
    forward_async_write_to_pointee!();
}

impl<P> AsyncWrite for Pin<P>
where
    P: DerefMut,
    P::Target: AsyncWrite,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.as_deref_mut().poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.as_deref_mut().poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        (**self).is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.as_deref_mut().poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.as_deref_mut().poll_shutdown(cx)
    }
}

/// The impls for in-memory writers that `std::io::Write` already implements: each poll is the
/// synchronous call, always ready; shutdown is a flush.
macro_rules! async_write_through_std_write {
    ($($(#[$doc:meta])* $ty:ty),* $(,)?) => {$(
        $(#[$doc])*
        impl AsyncWrite for $ty {
            fn poll_write(
                self: Pin<&mut Self>,
                _cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                Poll::Ready(io::Write::write(self.get_mut(), buf))
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                _cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                Poll::Ready(io::Write::write_vectored(self.get_mut(), bufs))
            }

            fn is_write_vectored(&self) -> bool {
                true
            }

            fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(io::Write::flush(self.get_mut()))
            }

            fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(io::Write::flush(self.get_mut()))
            }
        }
    )*};
}

async_write_through_std_write!(
    /// Appends to the vector; never pending, never short.
    Vec<u8>,
    /// Overwrites the slice from the position on; short (then `Ok(0)`) at its end.
    io::Cursor<&mut [u8]>,
    /// Overwrites, then extends, the vector from the position on.
    io::Cursor<&mut Vec<u8>>,
    /// Overwrites, then extends, the vector from the position on.
    io::Cursor<Vec<u8>>,
    /// Overwrites the boxed slice from the position on; short (then `Ok(0)`) at its end.
    io::Cursor<Box<[u8]>>,
);
