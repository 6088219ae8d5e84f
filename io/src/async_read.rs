//! `AsyncRead`: a source of bytes that parks its task instead of blocking its thread.
//!
//! `poll_read` fills a [`ReadBuf`] (which may be uninitialised memory, see `read_buf.rs`) and
//! returns `Ready(Ok(()))` with at least one byte added, or with none added only at end of
//! file (or for an empty buffer). A source with nothing yet returns `Pending` after arranging
//! for `cx`'s waker to be woken when data may be there. The deref impls let `Box<R>`, `&mut R`
//! and `Pin<P>` be readers wherever `R` is; `&[u8]` and `io::Cursor` are in-memory readers.

use crate::ReadBuf;
use std::io;
use std::ops::DerefMut;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Reads bytes asynchronously (tokio's `AsyncRead`).
///
/// Implementors are usually used through [`AsyncReadExt`](crate::AsyncReadExt), whose methods
/// return futures.
pub trait AsyncRead {
    /// Attempts to read into `buf`.
    ///
    /// - `Ready(Ok(()))`: bytes were appended to `buf.filled()`; none means end of file (or
    ///   that `buf` had no room).
    /// - `Pending`: nothing to read now; `cx`'s waker is woken once there may be.
    /// - `Ready(Err(e))`: an error; `buf` is left as it was.
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>>;
}

impl<T: ?Sized + AsyncRead + Unpin> AsyncRead for Box<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut **self.get_mut()).poll_read(cx, buf)
    }
}

impl<T: ?Sized + AsyncRead + Unpin> AsyncRead for &mut T {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut **self.get_mut()).poll_read(cx, buf)
    }
}

impl<P> AsyncRead for Pin<P>
where
    P: DerefMut,
    P::Target: AsyncRead,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.as_deref_mut().poll_read(cx, buf)
    }
}

/// Reading from a byte slice takes bytes off its front.
impl AsyncRead for &[u8] {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let (front, rest) = this.split_at(this.len().min(buf.remaining()));
        buf.put_slice(front);
        *this = rest;
        Poll::Ready(Ok(()))
    }
}

/// Reads from the cursor's position and moves it; a position past the end reads nothing.
impl<T: AsRef<[u8]> + Unpin> AsyncRead for io::Cursor<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let data = this.get_ref().as_ref();
        let start = usize::try_from(this.position())
            .unwrap_or(usize::MAX)
            .min(data.len());
        let end = start + (data.len() - start).min(buf.remaining());
        buf.put_slice(&data[start..end]);
        if end > start {
            this.set_position(end as u64);
        }
        Poll::Ready(Ok(()))
    }
}
