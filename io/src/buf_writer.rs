//! `BufWriter`: collects small writes in memory and hands them to the inner writer in large
//! ones.
//!
//! # Design
//!
//! A `Vec` of fixed capacity. A write that fits is copied in and reported complete at once;
//! one that does not fit first flushes the buffer; one at least as large as the whole buffer
//! (after that flush) goes straight to the inner writer. Nothing reaches the inner writer
//! until the buffer overflows or the user flushes or shuts down, so a `BufWriter` that is
//! dropped without `flush().await` loses what it holds (an async drop cannot write).
//!
//! Flushing writes `buf[written..]` and counts progress in `written` across polls; the
//! written prefix is removed from the vector only when the flush stops (done, error or
//! `Pending`), so a long flush moves the remaining bytes once, not once per write.

use crate::buf_reader::DEFAULT_BUF_SIZE;
use crate::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite, ReadBuf};
use pin_project_lite::pin_project;
use std::fmt;
use std::io::{self, IoSlice, SeekFrom};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

pin_project! {
    /// Adds a write buffer to a writer (tokio's `BufWriter`), turning many small writes into
    /// few large ones. Call `flush` (or `shutdown`) before dropping it.
    pub struct BufWriter<W> {
        #[pin]
        pub(crate) inner: W,
        pub(crate) buf: Vec<u8>,
        // How much of `buf` the flush in progress has written.
        pub(crate) written: usize,
        pub(crate) seek_state: SeekState,
    }
}

/// Where a `BufWriter`'s seek is: the buffer must be flushed before the inner writer seeks.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SeekState {
    /// No seek in progress.
    Idle,
    /// `start_seek` was called; the buffer is being flushed.
    Start(SeekFrom),
    /// The inner writer's seek is running.
    Running,
}

impl<W: AsyncWrite> BufWriter<W> {
    /// Wraps `inner` with an 8 KiB buffer.
    pub fn new(inner: W) -> Self {
        Self::with_capacity(DEFAULT_BUF_SIZE, inner)
    }

    /// Wraps `inner` with a buffer of `cap` bytes.
    pub fn with_capacity(cap: usize, inner: W) -> Self {
        BufWriter {
            inner,
            buf: Vec::with_capacity(cap),
            written: 0,
            seek_state: SeekState::Idle,
        }
    }

    /// Writes the whole buffer to the inner writer (without flushing the inner writer).
    fn flush_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut me = self.project();
        let mut result = Ok(());
        while *me.written < me.buf.len() {
            match me.inner.as_mut().poll_write(cx, &me.buf[*me.written..]) {
                Poll::Pending => {
                    // Keep the progress: drop the written prefix now, resume after it later.
                    me.buf.drain(..*me.written);
                    *me.written = 0;
                    return Poll::Pending;
                }
                Poll::Ready(Ok(0)) => {
                    result = Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "failed to write the buffered data",
                    ));
                    break;
                }
                Poll::Ready(Ok(n)) => *me.written += n,
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(e)) => {
                    result = Err(e);
                    break;
                }
            }
        }
        me.buf.drain(..*me.written);
        *me.written = 0;
        Poll::Ready(result)
    }

    /// The inner writer.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The inner writer, mutably; writing to it directly puts bytes ahead of the buffered ones.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// The pinned inner writer; writing to it directly puts bytes ahead of the buffered ones.
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut W> {
        self.project().inner
    }

    /// Takes back the inner writer; the buffered bytes are lost (flush first).
    pub fn into_inner(self) -> W {
        self.inner
    }

    /// The bytes buffered and not yet written to the inner writer.
    pub fn buffer(&self) -> &[u8] {
        &self.buf
    }
}

impl<W: AsyncWrite> AsyncWrite for BufWriter<W> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.buf.len() + buf.len() > self.buf.capacity() {
            ready!(self.as_mut().flush_buf(cx))?;
        }
        let me = self.project();
        if buf.len() >= me.buf.capacity() {
            me.inner.poll_write(cx, buf)
        } else {
            me.buf.extend_from_slice(buf);
            Poll::Ready(Ok(buf.len()))
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.inner.is_write_vectored() {
            // All of it at once: into the buffer, or past it in one vectored write.
            let total = bufs
                .iter()
                .fold(0usize, |sum, b| sum.saturating_add(b.len()));
            if total > self.buf.capacity() - self.buf.len() {
                ready!(self.as_mut().flush_buf(cx))?;
            }
            let me = self.project();
            if total >= me.buf.capacity() {
                return me.inner.poll_write_vectored(cx, bufs);
            }
            for b in bufs {
                me.buf.extend_from_slice(b);
            }
            return Poll::Ready(Ok(total));
        }

        // The inner writer takes one slice at a time: buffer the first non-empty slice (or
        // write it directly if it is too large), then as many whole slices as fit.
        let mut rest = bufs.iter().skip_while(|b| b.is_empty()).peekable();
        let Some(first_len) = rest.peek().map(|b| b.len()) else {
            return Poll::Ready(Ok(0));
        };
        if first_len > self.buf.capacity() - self.buf.len() {
            ready!(self.as_mut().flush_buf(cx))?;
        }
        let me = self.project();
        if first_len >= me.buf.capacity() {
            let first = rest.next().expect("peeked above");
            return me.inner.poll_write(cx, first);
        }
        let mut taken = 0;
        for b in rest {
            if b.len() > me.buf.capacity() - me.buf.len() {
                break;
            }
            me.buf.extend_from_slice(b);
            taken += b.len();
        }
        Poll::Ready(Ok(taken))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.as_mut().flush_buf(cx))?;
        self.get_pin_mut().poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.as_mut().flush_buf(cx))?;
        self.get_pin_mut().poll_shutdown(cx)
    }
}

impl<W: AsyncWrite + AsyncSeek> AsyncSeek for BufWriter<W> {
    /// Starts a seek; the buffered bytes are written first, at the old position.
    fn start_seek(self: Pin<&mut Self>, position: SeekFrom) -> io::Result<()> {
        *self.project().seek_state = SeekState::Start(position);
        Ok(())
    }

    fn poll_complete(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        let position = match self.seek_state {
            SeekState::Idle => return self.get_pin_mut().poll_complete(cx),
            SeekState::Start(position) => Some(position),
            SeekState::Running => None,
        };
        ready!(self.as_mut().flush_buf(cx))?;
        let mut me = self.project();
        if let Some(position) = position {
            // A seek the inner writer may still be running from before.
            ready!(me.inner.as_mut().poll_complete(cx))?;
            if let Err(e) = me.inner.as_mut().start_seek(position) {
                *me.seek_state = SeekState::Idle;
                return Poll::Ready(Err(e));
            }
        }
        match me.inner.poll_complete(cx) {
            Poll::Ready(result) => {
                *me.seek_state = SeekState::Idle;
                Poll::Ready(result)
            }
            Poll::Pending => {
                *me.seek_state = SeekState::Running;
                Poll::Pending
            }
        }
    }
}

/// Reading passes through to the inner object untouched.
impl<W: AsyncWrite + AsyncRead> AsyncRead for BufWriter<W> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.get_pin_mut().poll_read(cx, buf)
    }
}

impl<W: AsyncWrite + AsyncBufRead> AsyncBufRead for BufWriter<W> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        self.get_pin_mut().poll_fill_buf(cx)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        self.get_pin_mut().consume(amt)
    }
}

impl<W: fmt::Debug> fmt::Debug for BufWriter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BufWriter")
            .field("writer", &self.inner)
            .field(
                "buffer",
                &format_args!("{}/{}", self.buf.len(), self.buf.capacity()),
            )
            .field("written", &self.written)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{block_on, TrickleWriter};
    use crate::{AsyncSeekExt, AsyncWriteExt};
    use std::io::Cursor;

    #[test]
    fn small_writes_stay_buffered_until_flush() {
        let mut writer = BufWriter::with_capacity(8, TrickleWriter::new(100));
        block_on(writer.write_all(b"abc")).unwrap();
        block_on(writer.write_all(b"de")).unwrap();
        assert!(
            writer.get_ref().written.is_empty(),
            "nothing reached the inner writer"
        );
        assert_eq!(writer.buffer(), b"abcde");
        block_on(writer.flush()).unwrap();
        assert_eq!(writer.get_ref().written, b"abcde");
        assert_eq!(writer.get_ref().flushes, 1);
        assert!(writer.buffer().is_empty());
    }

    #[test]
    fn overflowing_the_buffer_flushes_it_first_and_large_writes_go_direct() {
        let mut writer = BufWriter::with_capacity(4, TrickleWriter::new(2));
        block_on(writer.write_all(b"abc")).unwrap();
        block_on(writer.write_all(b"de")).unwrap();
        // The flush made room (the writer took `ab` before it blocked), so `de` was buffered
        // behind what is left: order is kept.
        let mut seen = writer.get_ref().written.clone();
        assert!(!seen.is_empty(), "the overflow flushed");
        seen.extend_from_slice(writer.buffer());
        assert_eq!(seen, b"abcde");
        block_on(writer.write_all(b"0123456789")).unwrap();
        // Large pieces went straight through; the tail smaller than the buffer is held.
        assert_eq!(writer.get_ref().written, b"abcde01234567");
        assert_eq!(writer.buffer(), b"89");
        block_on(writer.shutdown()).unwrap();
        assert_eq!(
            writer.get_ref().written,
            b"abcde0123456789",
            "shutdown flushes"
        );
        assert!(writer.get_ref().shut_down);
    }

    #[test]
    fn a_writer_that_takes_nothing_is_write_zero_on_flush() {
        let mut storage = [0u8; 2];
        let mut writer = BufWriter::with_capacity(8, Cursor::new(&mut storage[..]));
        block_on(writer.write_all(b"abcd")).unwrap();
        let err = block_on(writer.flush()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WriteZero);
        assert_eq!(
            writer.buffer(),
            b"cd",
            "what was written is gone from the buffer"
        );
    }

    #[test]
    fn vectored_writes_buffer_whole_slices() {
        // The inner writer has no vectored write: slices are buffered while they fit.
        let mut writer = BufWriter::with_capacity(6, TrickleWriter::new(100));
        let bufs = [
            IoSlice::new(b""),
            IoSlice::new(b"abc"),
            IoSlice::new(b"de"),
            IoSlice::new(b"fgh"),
        ];
        assert_eq!(block_on(writer.write_vectored(&bufs)).unwrap(), 5);
        assert_eq!(writer.buffer(), b"abcde");
        // The inner writer is vectored (a Vec): all or nothing.
        let mut writer = BufWriter::with_capacity(6, Vec::new());
        assert_eq!(block_on(writer.write_vectored(&bufs)).unwrap(), 8);
        assert_eq!(writer.get_ref(), b"abcdefgh");
    }

    #[test]
    fn seek_writes_the_buffer_at_the_old_position_first() {
        let mut writer = BufWriter::with_capacity(16, Cursor::new(vec![b'.'; 8]));
        block_on(writer.write_all(b"ab")).unwrap();
        assert_eq!(block_on(writer.seek(SeekFrom::Start(5))).unwrap(), 5);
        block_on(writer.write_all(b"z")).unwrap();
        block_on(writer.flush()).unwrap();
        assert_eq!(writer.get_ref().get_ref(), b"ab...z..");
    }
}
