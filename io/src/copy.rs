//! `copy` and `copy_buf`: move all bytes from a reader to a writer.
//!
//! # The copy buffer
//!
//! [`CopyBuffer`] holds `buf[pos..filled]`, read but not yet written. Each step reads into the
//! free room at the end (while the source has not ended), then writes out what is held. Two
//! refinements keep both sides busy:
//!
//! - While the writer is blocked, the buffer keeps filling from the reader (up to its size),
//!   so a slow writer does not also stall the source, and the next write is larger.
//! - When the reader blocks with nothing left to write, the writer is flushed before the copy
//!   parks: a buffered writer (`BufWriter`, a TLS stream) must not sit on bytes the peer is
//!   waiting for while the source is quiet.
//!
//! At end of file the writer is flushed once more and the count of bytes copied returned.
//!
//! # Coop budget
//!
//! A copy between two always-ready objects (two in-memory pipes, a file and a socket with a
//! large send buffer) would never return `Pending`, and on one P would starve every other G.
//! Each poll therefore takes one unit of the coop budget (`gort_context::poll_proceed`) and
//! keeps it if it made progress; once the budget is spent the copy yields, as tokio's does.

use crate::{AsyncBufRead, AsyncRead, AsyncWrite, ReadBuf};
use gort_context::Progress;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// The buffer size of [`copy`] and [`copy_bidirectional`](crate::copy_bidirectional) (8 KiB,
/// tokio's and std's).
pub(crate) const COPY_BUF_SIZE: usize = 8 * 1024;

/// The state of one direction of a copy, kept across polls.
#[derive(Debug)]
pub(crate) struct CopyBuffer {
    buf: Box<[u8]>,
    /// `buf[pos..filled]` was read and is waiting to be written.
    pos: usize,
    filled: usize,
    /// The reader reported end of file.
    read_done: bool,
    /// Bytes were written since the last flush.
    need_flush: bool,
    /// Bytes written in total.
    copied: u64,
}

/// The coop unit a poll took; confirmed on the first progress, refunded if there was none.
struct Budget(Option<Progress>);

impl Budget {
    fn made_progress(&mut self) {
        if let Some(progress) = self.0.take() {
            progress.made();
        }
    }
}

impl CopyBuffer {
    pub(crate) fn new(size: usize) -> CopyBuffer {
        CopyBuffer {
            buf: vec![0; size].into_boxed_slice(),
            pos: 0,
            filled: 0,
            read_done: false,
            need_flush: false,
            copied: 0,
        }
    }

    /// One read into the free room; sets `read_done` at end of file. `Interrupted` is retried.
    fn poll_fill<R: AsyncRead + ?Sized>(
        &mut self,
        cx: &mut Context<'_>,
        mut reader: Pin<&mut R>,
    ) -> Poll<io::Result<()>> {
        let mut read_buf = ReadBuf::new(&mut self.buf);
        read_buf.set_filled(self.filled);
        loop {
            match ready!(reader.as_mut().poll_read(cx, &mut read_buf)) {
                Ok(()) => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
        let filled = read_buf.filled().len();
        self.read_done = filled == self.filled;
        self.filled = filled;
        Poll::Ready(Ok(()))
    }

    /// One write of the held bytes. While the writer is blocked, reads more into the free
    /// room (the copy is woken by whichever side is ready first).
    fn poll_write_held<R, W>(
        &mut self,
        cx: &mut Context<'_>,
        reader: Pin<&mut R>,
        mut writer: Pin<&mut W>,
    ) -> Poll<io::Result<usize>>
    where
        R: AsyncRead + ?Sized,
        W: AsyncWrite + ?Sized,
    {
        loop {
            match writer
                .as_mut()
                .poll_write(cx, &self.buf[self.pos..self.filled])
            {
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Poll::Pending => {
                    if !self.read_done && self.filled < self.buf.len() {
                        ready!(self.poll_fill(cx, reader))?;
                    }
                    return Poll::Pending;
                }
                ready => return ready,
            }
        }
    }

    /// Copies until the reader's end of file and a final flush; returns the bytes copied.
    pub(crate) fn poll_copy<R, W>(
        &mut self,
        cx: &mut Context<'_>,
        mut reader: Pin<&mut R>,
        mut writer: Pin<&mut W>,
    ) -> Poll<io::Result<u64>>
    where
        R: AsyncRead + ?Sized,
        W: AsyncWrite + ?Sized,
    {
        let mut budget = Budget(Some(ready!(gort_context::poll_proceed(cx))));
        loop {
            if self.filled < self.buf.len() && !self.read_done {
                match self.poll_fill(cx, reader.as_mut()) {
                    Poll::Ready(Ok(())) => budget.made_progress(),
                    Poll::Ready(Err(e)) => {
                        budget.made_progress();
                        return Poll::Ready(Err(e));
                    }
                    Poll::Pending if self.pos == self.filled => {
                        // Nothing to write while the source is quiet: push out what the
                        // writer buffers before parking.
                        if self.need_flush {
                            ready!(writer.as_mut().poll_flush(cx))?;
                            budget.made_progress();
                            self.need_flush = false;
                        }
                        return Poll::Pending;
                    }
                    Poll::Pending => {}
                }
            }

            while self.pos < self.filled {
                let written = ready!(self.poll_write_held(cx, reader.as_mut(), writer.as_mut()))?;
                budget.made_progress();
                if written == 0 {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "write zero byte into writer",
                    )));
                }
                self.pos += written;
                self.copied += written as u64;
                self.need_flush = true;
            }
            debug_assert_eq!(
                self.pos, self.filled,
                "a writer wrote more than it was given"
            );
            self.pos = 0;
            self.filled = 0;

            if self.read_done {
                ready!(writer.as_mut().poll_flush(cx))?;
                budget.made_progress();
                return Poll::Ready(Ok(self.copied));
            }
        }
    }
}

/// Copies everything from `reader` to `writer` until end of file, then flushes `writer`;
/// returns the number of bytes copied (tokio's `io::copy`).
///
/// Reads and writes go through an 8 KiB buffer; with an [`AsyncBufRead`] source, [`copy_buf`]
/// uses the reader's buffer instead. `Interrupted` errors are retried; any other error ends
/// the copy (bytes already written stay written). `writer` is not shut down.
pub async fn copy<'a, R, W>(reader: &'a mut R, writer: &'a mut W) -> io::Result<u64>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    let mut buffer = CopyBuffer::new(COPY_BUF_SIZE);
    poll_fn(|cx| buffer.poll_copy(cx, Pin::new(&mut *reader), Pin::new(&mut *writer))).await
}

/// Copies everything from a buffered `reader` to `writer` until end of file, then flushes
/// `writer`; returns the number of bytes copied (tokio's `io::copy_buf`).
///
/// Each write takes bytes straight from the reader's own buffer, so there is no second copy
/// buffer. As with [`copy`], `writer` is flushed whenever the reader has nothing to give.
pub async fn copy_buf<'a, R, W>(reader: &'a mut R, writer: &'a mut W) -> io::Result<u64>
where
    R: AsyncBufRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    let mut copied = 0u64;
    let mut need_flush = false;
    poll_fn(|cx| {
        let mut budget = Budget(Some(ready!(gort_context::poll_proceed(cx))));
        loop {
            let available = match Pin::new(&mut *reader).poll_fill_buf(cx) {
                Poll::Ready(Ok(available)) => {
                    budget.made_progress();
                    available
                }
                Poll::Ready(Err(e)) if e.kind() == io::ErrorKind::Interrupted => continue,
                Poll::Ready(Err(e)) => {
                    budget.made_progress();
                    return Poll::Ready(Err(e));
                }
                Poll::Pending => {
                    if need_flush {
                        ready!(Pin::new(&mut *writer).poll_flush(cx))?;
                        need_flush = false;
                    }
                    return Poll::Pending;
                }
            };
            if available.is_empty() {
                ready!(Pin::new(&mut *writer).poll_flush(cx))?;
                return Poll::Ready(Ok(copied));
            }
            let written = match ready!(Pin::new(&mut *writer).poll_write(cx, available)) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                result => result?,
            };
            if written == 0 {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    "write zero byte into writer",
                )));
            }
            copied += written as u64;
            need_flush = true;
            Pin::new(&mut *reader).consume(written);
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{block_on, Trickle, TrickleWriter};
    use crate::{AsyncReadExt, BufReader};

    #[test]
    fn copy_moves_everything_and_flushes() {
        let data: Vec<u8> = (0..20_000u32).map(|i| i as u8).collect();
        let mut reader = Trickle::new(&data, 3000);
        let mut writer = TrickleWriter::new(1000);
        assert_eq!(block_on(copy(&mut reader, &mut writer)).unwrap(), 20_000);
        assert_eq!(writer.written, data);
        assert!(writer.flushes >= 1);
        assert!(!writer.shut_down, "copy does not shut the writer down");
    }

    #[test]
    fn copy_reports_a_writer_that_takes_nothing() {
        let mut storage = [0u8; 4];
        let mut writer = std::io::Cursor::new(&mut storage[..]);
        let err = block_on(copy(&mut &b"too long"[..], &mut writer)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WriteZero);
    }

    #[test]
    fn copy_passes_on_a_read_error() {
        let mut reader = Trickle::new(b"abc", 2);
        reader.error_at_end = Some(io::ErrorKind::ConnectionReset);
        let mut out = Vec::new();
        let err = block_on(copy(&mut reader, &mut out)).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
        assert_eq!(out, b"abc", "what was read before the error was written");
    }

    #[test]
    fn copy_buf_writes_from_the_readers_buffer() {
        let mut reader = BufReader::with_capacity(5, Trickle::new(b"hello, buffered world", 7));
        let mut writer = TrickleWriter::new(4);
        assert_eq!(block_on(copy_buf(&mut reader, &mut writer)).unwrap(), 21);
        assert_eq!(writer.written, b"hello, buffered world");
        let mut rest = Vec::new();
        assert_eq!(block_on(reader.read_to_end(&mut rest)).unwrap(), 0);
    }

    #[test]
    fn copy_yields_when_the_budget_runs_out() {
        // An endless always-ready source: under a budget, the copy must return Pending.
        let mut source = crate::repeat(1);
        let mut sink = crate::sink();
        let mut copying = Box::pin(copy(&mut source, &mut sink));
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        let polled = gort_context::with_budget(4, || copying.as_mut().poll(&mut cx));
        assert!(polled.is_pending());
    }

    use std::future::Future;
}
