//! The futures of [`AsyncReadExt`](crate::AsyncReadExt)'s single-read methods: `read`,
//! `read_buf` and `read_exact`.
//!
//! Each borrows the reader and the destination for its lifetime and keeps no bytes of its own:
//! what a poll reads is in the caller's buffer at once. `read` and `read_buf` complete on the
//! first poll that reads anything, so dropping them early loses nothing (cancel safe);
//! `read_exact` may have filled part of the buffer when it is dropped.
//!
//! Like tokio's, these futures are `!Unpin` (a `PhantomPinned` field), so that they could one
//! day hold self-references without a breaking change.

use crate::{AsyncRead, ReadBuf};
use bytes::BufMut;
use pin_project_lite::pin_project;
use std::future::Future;
use std::io;
use std::marker::PhantomPinned;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

pin_project! {
    /// The future of [`AsyncReadExt::read`](crate::AsyncReadExt::read).
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Read<'a, R: ?Sized> {
        reader: &'a mut R,
        buf: &'a mut [u8],
        #[pin]
        _pin: PhantomPinned,
    }
}

impl<'a, R: ?Sized> Read<'a, R> {
    pub(crate) fn new(reader: &'a mut R, buf: &'a mut [u8]) -> Self {
        Read {
            reader,
            buf,
            _pin: PhantomPinned,
        }
    }
}

impl<R: AsyncRead + Unpin + ?Sized> Future for Read<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let me = self.project();
        let mut buf = ReadBuf::new(me.buf);
        ready!(Pin::new(&mut **me.reader).poll_read(cx, &mut buf))?;
        Poll::Ready(Ok(buf.filled().len()))
    }
}

pin_project! {
    /// The future of [`AsyncReadExt::read_buf`](crate::AsyncReadExt::read_buf).
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct ReadIntoBuf<'a, R: ?Sized, B: ?Sized> {
        reader: &'a mut R,
        buf: &'a mut B,
        #[pin]
        _pin: PhantomPinned,
    }
}

impl<'a, R: ?Sized, B: ?Sized> ReadIntoBuf<'a, R, B> {
    pub(crate) fn new(reader: &'a mut R, buf: &'a mut B) -> Self {
        ReadIntoBuf {
            reader,
            buf,
            _pin: PhantomPinned,
        }
    }
}

impl<R, B> Future for ReadIntoBuf<'_, R, B>
where
    R: AsyncRead + Unpin + ?Sized,
    B: BufMut + ?Sized,
{
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let me = self.project();
        if !me.buf.has_remaining_mut() {
            return Poll::Ready(Ok(0));
        }
        let got = {
            // SAFETY: the `ReadBuf` made from this slice never de-initialises a byte, and
            // hands the reader only `unsafe` accessors that forbid it too.
            let chunk = unsafe { me.buf.chunk_mut().as_uninit_slice_mut() };
            let mut read_buf = ReadBuf::uninit(chunk);
            let start = read_buf.filled().as_ptr();
            ready!(Pin::new(&mut **me.reader).poll_read(cx, &mut read_buf))?;
            // A reader could swap in another `ReadBuf` through `&mut`; then the bytes it
            // reports are not in our chunk, and advancing over them would expose garbage.
            assert_eq!(
                start,
                read_buf.filled().as_ptr(),
                "poll_read replaced the ReadBuf it was given"
            );
            read_buf.filled().len()
        };
        // SAFETY: the reader filled (so initialised) the first `got` bytes of `chunk_mut()`,
        // checked to be the same memory above.
        unsafe { me.buf.advance_mut(got) };
        Poll::Ready(Ok(got))
    }
}

pin_project! {
    /// The future of [`AsyncReadExt::read_exact`](crate::AsyncReadExt::read_exact).
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct ReadExact<'a, R: ?Sized> {
        reader: &'a mut R,
        buf: ReadBuf<'a>,
        #[pin]
        _pin: PhantomPinned,
    }
}

impl<'a, R: ?Sized> ReadExact<'a, R> {
    pub(crate) fn new(reader: &'a mut R, buf: &'a mut [u8]) -> Self {
        ReadExact {
            reader,
            buf: ReadBuf::new(buf),
            _pin: PhantomPinned,
        }
    }
}

/// The error of a read that needed more bytes than the source had before end of file.
pub(crate) fn early_eof() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "early eof")
}

impl<R: AsyncRead + Unpin + ?Sized> Future for ReadExact<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let me = self.project();
        while me.buf.remaining() > 0 {
            let before = me.buf.remaining();
            match ready!(Pin::new(&mut **me.reader).poll_read(cx, me.buf)) {
                Ok(()) if me.buf.remaining() == before => return Poll::Ready(Err(early_eof())),
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
        Poll::Ready(Ok(me.buf.capacity()))
    }
}
