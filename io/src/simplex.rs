//! `SimplexStream`: a bounded in-memory byte pipe, one direction; two of them make a
//! [`DuplexStream`](crate::DuplexStream).
//!
//! # Protocol
//!
//! One buffer of at most `max_buf_size` bytes and one waker slot per side:
//!
//! 1. A write copies as much as fits, wakes the reader and returns the count; with the buffer
//!    full it parks the writer (backpressure): it is woken by the next read that frees room.
//! 2. A read takes what is buffered, wakes the writer and returns; with the buffer empty it
//!    parks the reader, woken by the next write, or returns end of file once the pipe is
//!    closed.
//! 3. Closing marks the pipe closed and wakes the other side: the reader drains what is left
//!    and then sees end of file, a writer gets `BrokenPipe`. A `SimplexStream` is closed by
//!    its writer's `shutdown`; inside a [`DuplexStream`](crate::DuplexStream), also by
//!    dropping either end.
//!
//! Wakers are taken out of the state and woken (and displaced ones dropped) by the caller
//! after it has released its lock, so a woken task never finds the lock held ([`Wakeups`]).
//!
//! Reads and writes spend the coop budget, so a task looping over an always-ready pipe
//! yields its P.

use crate::{split, AsyncRead, AsyncWrite, ReadBuf, ReadHalf, WriteHalf};
use std::collections::VecDeque;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll, Waker};

/// A unidirectional in-memory pipe with a bounded buffer (tokio's `SimplexStream`): bytes
/// written are read from the same object. Usually used split in two, see [`simplex`].
#[derive(Debug)]
pub struct SimplexStream {
    /// Written and not yet read; never longer than `max_buf_size`.
    buffer: VecDeque<u8>,
    /// Set by either side's close; reads drain `buffer` then see end of file, writes fail.
    is_closed: bool,
    max_buf_size: usize,
    /// The reader parked on an empty buffer.
    read_waker: Option<Waker>,
    /// The writer parked on a full buffer.
    write_waker: Option<Waker>,
}

/// Creates a unidirectional pipe buffering at most `max_buf_size` bytes, returned as its
/// read and write halves (`reader.unsplit(writer)` makes it one object again).
///
/// The writer's `shutdown` gives the reader end of file once it has read what is buffered.
/// Dropping a half closes nothing (both share one `SimplexStream`, as in tokio): a reader
/// whose writer was dropped without `shutdown` waits forever.
///
/// # Panics
///
/// If `max_buf_size` is zero.
#[track_caller]
pub fn simplex(max_buf_size: usize) -> (ReadHalf<SimplexStream>, WriteHalf<SimplexStream>) {
    split(SimplexStream::new_unsplit(max_buf_size))
}

/// Wakers a pipe operation took out of the pipe's state, to be woken or dropped by the caller
/// after it released any lock around the pipe.
#[derive(Default)]
pub(crate) struct Wakeups {
    /// The other side, which the operation made able to progress.
    wake: Option<Waker>,
    /// This side's previous waker, displaced by a new registration.
    replaced: Option<Waker>,
}

impl Wakeups {
    pub(crate) fn run(self) {
        drop(self.replaced);
        if let Some(waker) = self.wake {
            waker.wake();
        }
    }
}

/// Stores `cx`'s waker in `slot`, keeping the old one (to be dropped later) unless it would
/// wake the same task anyway.
fn register(slot: &mut Option<Waker>, cx: &Context<'_>, wakeups: &mut Wakeups) {
    match slot {
        Some(waker) if waker.will_wake(cx.waker()) => {}
        _ => wakeups.replaced = slot.replace(cx.waker().clone()),
    }
}

impl SimplexStream {
    /// Creates a pipe buffering at most `max_buf_size` bytes, as one object that is both the
    /// reader and the writer.
    ///
    /// # Panics
    ///
    /// If `max_buf_size` is zero.
    #[track_caller]
    pub fn new_unsplit(max_buf_size: usize) -> SimplexStream {
        assert!(max_buf_size > 0, "`max_buf_size` must be greater than 0");
        SimplexStream {
            buffer: VecDeque::new(),
            is_closed: false,
            max_buf_size,
            read_waker: None,
            write_waker: None,
        }
    }

    /// The writer is done (shutdown or drop): the reader sees end of file after the buffer.
    #[must_use = "the reader's waker must be woken"]
    pub(crate) fn close_write(&mut self) -> Option<Waker> {
        self.is_closed = true;
        self.read_waker.take()
    }

    /// The reader is gone: writes fail from now on.
    #[must_use = "the writer's waker must be woken"]
    pub(crate) fn close_read(&mut self) -> Option<Waker> {
        self.is_closed = true;
        self.write_waker.take()
    }

    /// Step 2 of the protocol, without the coop budget.
    pub(crate) fn read_into(
        &mut self,
        cx: &Context<'_>,
        buf: &mut ReadBuf<'_>,
        wakeups: &mut Wakeups,
    ) -> Poll<io::Result<()>> {
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        if self.buffer.is_empty() {
            if self.is_closed {
                return Poll::Ready(Ok(()));
            }
            register(&mut self.read_waker, cx, wakeups);
            return Poll::Pending;
        }
        let n = self.buffer.len().min(buf.remaining());
        let (front, back) = self.buffer.as_slices();
        let from_front = n.min(front.len());
        buf.put_slice(&front[..from_front]);
        buf.put_slice(&back[..n - from_front]);
        self.buffer.drain(..n);
        wakeups.wake = self.write_waker.take();
        Poll::Ready(Ok(()))
    }

    /// Step 1 of the protocol over several slices, without the coop budget.
    pub(crate) fn write_from(
        &mut self,
        cx: &Context<'_>,
        bufs: &[IoSlice<'_>],
        wakeups: &mut Wakeups,
    ) -> Poll<io::Result<usize>> {
        if self.is_closed {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        if bufs.iter().all(|b| b.is_empty()) {
            return Poll::Ready(Ok(0));
        }
        let room = self.max_buf_size - self.buffer.len();
        if room == 0 {
            register(&mut self.write_waker, cx, wakeups);
            return Poll::Pending;
        }
        let mut left = room;
        for b in bufs {
            let n = b.len().min(left);
            self.buffer.extend(&b[..n]);
            left -= n;
            if left == 0 {
                break;
            }
        }
        wakeups.wake = self.read_waker.take();
        Poll::Ready(Ok(room - left))
    }
}

/// Runs a pipe operation under the coop budget: a `Ready` result spends one unit.
pub(crate) fn with_budget<T>(
    cx: &mut Context<'_>,
    operation: impl FnOnce(&mut Context<'_>) -> Poll<T>,
) -> Poll<T> {
    let progress = ready!(gort_context::poll_proceed(cx));
    let result = operation(cx);
    if result.is_ready() {
        progress.made();
    }
    result
}

impl AsyncRead for SimplexStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let mut wakeups = Wakeups::default();
        let this = self.get_mut();
        let result = with_budget(cx, |cx| this.read_into(cx, buf, &mut wakeups));
        wakeups.run();
        result
    }
}

impl AsyncWrite for SimplexStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored(cx, &[IoSlice::new(buf)])
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let mut wakeups = Wakeups::default();
        let this = self.get_mut();
        let result = with_budget(cx, |cx| this.write_from(cx, bufs, &mut wakeups));
        wakeups.run();
        result
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Closes the pipe: the reader drains the buffer, then sees end of file.
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(reader) = self.get_mut().close_write() {
            reader.wake();
        }
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{block_on, block_on_both, is_unpin, poll_once};
    use crate::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn bytes_flow_through_a_small_buffer_with_backpressure() {
        let (mut rx, mut tx) = simplex(3);
        let data: Vec<u8> = (0..100u8).collect();
        let writer = async {
            tx.write_all(&data).await.unwrap();
            tx.shutdown().await.unwrap();
        };
        let reader = async {
            let mut got = Vec::new();
            rx.read_to_end(&mut got).await.unwrap();
            got
        };
        let ((), got) = block_on_both(writer, reader);
        assert_eq!(got, data);
    }

    #[test]
    fn a_full_pipe_parks_the_writer() {
        let mut pipe = SimplexStream::new_unsplit(2);
        assert_eq!(block_on(pipe.write(b"abc")).unwrap(), 2);
        let mut write = Box::pin(pipe.write(b"c"));
        assert!(poll_once(&mut write).is_pending());
    }

    #[test]
    fn shutdown_gives_end_of_file_after_the_buffer_and_writes_fail() {
        let mut pipe = SimplexStream::new_unsplit(8);
        block_on(pipe.write_all(b"left")).unwrap();
        block_on(pipe.shutdown()).unwrap();
        let err = block_on(pipe.write(b"x")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
        let mut got = String::new();
        block_on(pipe.read_to_string(&mut got)).unwrap();
        assert_eq!(got, "left");
    }

    #[test]
    fn dropping_a_half_closes_nothing_and_unsplit_rejoins() {
        let (rx, mut tx) = simplex(8);
        assert_eq!(block_on(tx.write(b"ok")).unwrap(), 2);
        let mut pipe = rx.unsplit(tx);
        let mut two = [0u8; 2];
        block_on(pipe.read_exact(&mut two)).unwrap();
        assert_eq!(&two, b"ok");
        let (rx, mut tx) = simplex(8);
        drop(rx);
        assert_eq!(block_on(tx.write(b"still open")).unwrap(), 8);
    }

    #[test]
    #[should_panic(expected = "greater than 0")]
    fn zero_size_panics() {
        let _ = simplex(0);
    }

    #[test]
    fn is_unpin_send_sync() {
        fn send_sync<T: Send + Sync>(_: &T) {}
        let pipe = SimplexStream::new_unsplit(1);
        send_sync(&pipe);
        assert!(is_unpin!(pipe));
    }
}
