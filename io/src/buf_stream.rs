//! `BufStream`: a read buffer and a write buffer around one object that is both, so a
//! request-response protocol can `read_line` and `write_all` on a socket without a syscall
//! per call. It is a `BufReader<BufWriter<RW>>`, the reader outside so that reads are served
//! from memory and writes pass through the reader to the write buffer.

use crate::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite, BufReader, BufWriter, ReadBuf};
use pin_project_lite::pin_project;
use std::io::{self, IoSlice, SeekFrom};
use std::pin::Pin;
use std::task::{Context, Poll};

pin_project! {
    /// A reader-writer with both a read and a write buffer (tokio's `BufStream`). As with
    /// [`BufWriter`], flush before dropping it.
    #[derive(Debug)]
    pub struct BufStream<RW> {
        #[pin]
        inner: BufReader<BufWriter<RW>>,
    }
}

impl<RW: AsyncRead + AsyncWrite> BufStream<RW> {
    /// Wraps `stream` with 8 KiB read and write buffers.
    pub fn new(stream: RW) -> BufStream<RW> {
        BufStream {
            inner: BufReader::new(BufWriter::new(stream)),
        }
    }

    /// Wraps `stream` with buffers of the given sizes.
    ///
    /// # Panics
    ///
    /// If `reader_capacity` is zero.
    #[track_caller]
    pub fn with_capacity(
        reader_capacity: usize,
        writer_capacity: usize,
        stream: RW,
    ) -> BufStream<RW> {
        BufStream {
            inner: BufReader::with_capacity(
                reader_capacity,
                BufWriter::with_capacity(writer_capacity, stream),
            ),
        }
    }

    /// The wrapped object.
    pub fn get_ref(&self) -> &RW {
        self.inner.get_ref().get_ref()
    }

    /// The wrapped object, mutably; using it directly bypasses both buffers.
    pub fn get_mut(&mut self) -> &mut RW {
        self.inner.get_mut().get_mut()
    }

    /// The pinned wrapped object; using it directly bypasses both buffers.
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut RW> {
        self.project().inner.get_pin_mut().get_pin_mut()
    }

    /// Takes back the wrapped object; both buffers' contents are lost.
    pub fn into_inner(self) -> RW {
        self.inner.into_inner().into_inner()
    }
}

impl<RW> From<BufReader<BufWriter<RW>>> for BufStream<RW> {
    fn from(inner: BufReader<BufWriter<RW>>) -> Self {
        BufStream { inner }
    }
}

/// Rebuilds the layers the other way round, keeping both buffers and their contents.
impl<RW> From<BufWriter<BufReader<RW>>> for BufStream<RW> {
    fn from(outer: BufWriter<BufReader<RW>>) -> Self {
        let BufWriter {
            inner: reader,
            buf: write_buf,
            written,
            seek_state: write_seek_state,
        } = outer;
        let BufReader {
            inner: stream,
            buf: read_buf,
            pos,
            filled,
            seek_state: read_seek_state,
        } = reader;
        BufStream {
            inner: BufReader {
                inner: BufWriter {
                    inner: stream,
                    buf: write_buf,
                    written,
                    seek_state: write_seek_state,
                },
                buf: read_buf,
                pos,
                filled,
                seek_state: read_seek_state,
            },
        }
    }
}

impl<RW: AsyncRead + AsyncWrite> AsyncWrite for BufStream<RW> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_shutdown(cx)
    }
}

impl<RW: AsyncRead + AsyncWrite> AsyncRead for BufStream<RW> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.project().inner.poll_read(cx, buf)
    }
}

impl<RW: AsyncRead + AsyncWrite + AsyncSeek> AsyncSeek for BufStream<RW> {
    fn start_seek(self: Pin<&mut Self>, position: SeekFrom) -> io::Result<()> {
        self.project().inner.start_seek(position)
    }

    fn poll_complete(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        self.project().inner.poll_complete(cx)
    }
}

impl<RW: AsyncRead + AsyncWrite> AsyncBufRead for BufStream<RW> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        self.project().inner.poll_fill_buf(cx)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        self.project().inner.consume(amt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::block_on;
    use crate::{duplex, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

    #[test]
    fn buffers_both_ways_over_a_duplex() {
        let (ours, mut theirs) = duplex(64);
        let mut stream = BufStream::new(ours);
        block_on(stream.write_all(b"ping\n")).unwrap();
        let mut got = [0u8; 5];
        // Not flushed: the peer has nothing yet; `try` one read with a polled-once future.
        let mut read = Box::pin(theirs.read(&mut got));
        assert!(crate::test_support::poll_once(&mut read).is_pending());
        drop(read);
        block_on(stream.flush()).unwrap();
        block_on(theirs.read_exact(&mut got)).unwrap();
        assert_eq!(&got, b"ping\n");
        block_on(theirs.write_all(b"pong\nrest")).unwrap();
        let mut line = String::new();
        block_on(stream.read_line(&mut line)).unwrap();
        assert_eq!(line, "pong\n");
        assert!(stream.get_ref().is_write_vectored());
    }

    #[test]
    fn from_either_layering_keeps_the_buffered_bytes() {
        let inner = BufWriter::new(BufReader::new(crate::join(&b"abc"[..], Vec::new())));
        let mut stream = BufStream::from(inner);
        let mut all = Vec::new();
        block_on(stream.read_to_end(&mut all)).unwrap();
        assert_eq!(all, b"abc");
        block_on(stream.write_all(b"out")).unwrap();
        block_on(stream.flush()).unwrap();
        assert_eq!(stream.into_inner().into_inner().1, b"out");
    }
}
