//! `BufReader`: reads from its inner reader in large chunks and serves small reads from memory.
//!
//! # Design
//!
//! One boxed buffer, `buf[pos..filled]` unread. A read with an empty buffer that is at least
//! as large as the buffer goes straight to the inner reader (copying through the buffer would
//! only add a memcpy); any other read is served from the buffer, refilled by one inner read
//! when empty. It is an [`AsyncBufRead`], so `lines`/`read_line` work on any reader wrapped in
//! it.
//!
//! # Seeking
//!
//! The inner reader's position is ahead of the logical one by the unread bytes. A relative
//! seek (`SeekFrom::Current(n)`) is therefore made relative to the logical position: it seeks
//! the inner reader by `n - unread`, and if that does not fit in an `i64` it seeks back by
//! `unread` first and then by `n`, in two steps. Any completed seek drops the buffer.

use crate::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite, ReadBuf};
use pin_project_lite::pin_project;
use std::fmt;
use std::io::{self, IoSlice, SeekFrom};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// The buffer size of `BufReader::new` and `BufWriter::new` (std's: 8 KiB).
pub(crate) const DEFAULT_BUF_SIZE: usize = 8 * 1024;

pin_project! {
    /// Adds a read buffer to a reader (tokio's `BufReader`), making small reads cheap and
    /// providing [`AsyncBufRead`].
    ///
    /// Bytes buffered but not yet read are lost when the `BufReader` is dropped or
    /// [`into_inner`](BufReader::into_inner)ed.
    pub struct BufReader<R> {
        #[pin]
        pub(crate) inner: R,
        pub(crate) buf: Box<[u8]>,
        // `buf[pos..filled]` is buffered and unread.
        pub(crate) pos: usize,
        pub(crate) filled: usize,
        pub(crate) seek_state: SeekState,
    }
}

/// Where a `BufReader`'s seek is.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SeekState {
    /// No seek in progress.
    Idle,
    /// `start_seek` was called; nothing was sent to the inner reader yet.
    Start(SeekFrom),
    /// The first half of a two-step relative seek (back by the unread bytes) is running;
    /// the second seeks by this offset.
    SecondStep(i64),
    /// The inner reader's seek is running.
    Running,
}

impl<R: AsyncRead> BufReader<R> {
    /// Wraps `inner` with an 8 KiB buffer.
    pub fn new(inner: R) -> Self {
        Self::with_capacity(DEFAULT_BUF_SIZE, inner)
    }

    /// Wraps `inner` with a buffer of `capacity` bytes.
    ///
    /// # Panics
    ///
    /// If `capacity` is zero.
    #[track_caller]
    pub fn with_capacity(capacity: usize, inner: R) -> Self {
        assert!(capacity > 0, "BufReader capacity must be greater than zero");
        BufReader {
            inner,
            buf: vec![0; capacity].into_boxed_slice(),
            pos: 0,
            filled: 0,
            seek_state: SeekState::Idle,
        }
    }

    /// The inner reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The inner reader, mutably; reading from it directly skips the buffered bytes.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The pinned inner reader; reading from it directly skips the buffered bytes.
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut R> {
        self.project().inner
    }

    /// Takes back the inner reader; the buffered bytes are lost.
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// The bytes buffered and not yet read.
    pub fn buffer(&self) -> &[u8] {
        &self.buf[self.pos..self.filled]
    }
}

impl<R> BufReader<R> {
    /// Drops the buffered bytes.
    fn discard_buffer(self: Pin<&mut Self>) {
        let me = self.project();
        *me.pos = 0;
        *me.filled = 0;
    }
}

impl<R: AsyncRead> AsyncRead for BufReader<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.pos == self.filled && buf.remaining() >= self.buf.len() {
            let result = ready!(self.as_mut().get_pin_mut().poll_read(cx, buf));
            self.discard_buffer();
            return Poll::Ready(result);
        }
        let available = ready!(self.as_mut().poll_fill_buf(cx))?;
        let n = available.len().min(buf.remaining());
        buf.put_slice(&available[..n]);
        self.consume(n);
        Poll::Ready(Ok(()))
    }
}

impl<R: AsyncRead> AsyncBufRead for BufReader<R> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let me = self.project();
        if *me.pos >= *me.filled {
            let mut read_buf = ReadBuf::new(me.buf);
            ready!(me.inner.poll_read(cx, &mut read_buf))?;
            *me.filled = read_buf.filled().len();
            *me.pos = 0;
        }
        Poll::Ready(Ok(&me.buf[*me.pos..*me.filled]))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let me = self.project();
        *me.pos = (*me.pos + amt).min(*me.filled);
    }
}

impl<R: AsyncRead + AsyncSeek> AsyncSeek for BufReader<R> {
    /// Starts a seek; a relative one counts from the logical position (after the bytes
    /// read from the buffer), not from the inner reader's.
    fn start_seek(self: Pin<&mut Self>, position: SeekFrom) -> io::Result<()> {
        *self.project().seek_state = SeekState::Start(position);
        Ok(())
    }

    fn poll_complete(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        let state = std::mem::replace(self.as_mut().project().seek_state, SeekState::Idle);
        let result = match state {
            SeekState::Idle => return self.get_pin_mut().poll_complete(cx),
            SeekState::Start(SeekFrom::Current(n)) => {
                let unread = (self.filled - self.pos) as i64;
                match n.checked_sub(unread) {
                    Some(offset) => {
                        self.as_mut()
                            .get_pin_mut()
                            .start_seek(SeekFrom::Current(offset))?;
                        self.as_mut().get_pin_mut().poll_complete(cx)?
                    }
                    None => {
                        self.as_mut()
                            .get_pin_mut()
                            .start_seek(SeekFrom::Current(-unread))?;
                        self.as_mut().second_seek_step(cx, n)?
                    }
                }
            }
            SeekState::Start(position) => {
                self.as_mut().get_pin_mut().start_seek(position)?;
                self.as_mut().get_pin_mut().poll_complete(cx)?
            }
            SeekState::SecondStep(n) => self.as_mut().second_seek_step(cx, n)?,
            SeekState::Running => self.as_mut().get_pin_mut().poll_complete(cx)?,
        };
        match result {
            Poll::Ready(position) => {
                self.discard_buffer();
                Poll::Ready(Ok(position))
            }
            Poll::Pending => {
                let me = self.project();
                if matches!(me.seek_state, SeekState::Idle) {
                    *me.seek_state = SeekState::Running;
                }
                Poll::Pending
            }
        }
    }
}

impl<R: AsyncRead + AsyncSeek> BufReader<R> {
    /// Waits for the seek back by the unread bytes, then seeks by `n`. The outer `Result`
    /// is an error of either step; `Pending` in the first step is remembered in
    /// `seek_state`.
    fn second_seek_step(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        n: i64,
    ) -> io::Result<Poll<u64>> {
        if self.as_mut().get_pin_mut().poll_complete(cx)?.is_pending() {
            *self.as_mut().project().seek_state = SeekState::SecondStep(n);
            return Ok(Poll::Pending);
        }
        self.as_mut().discard_buffer();
        self.as_mut()
            .get_pin_mut()
            .start_seek(SeekFrom::Current(n))?;
        match self.get_pin_mut().poll_complete(cx) {
            Poll::Ready(result) => result.map(Poll::Ready),
            Poll::Pending => Ok(Poll::Pending),
        }
    }
}

/// Writing passes through to the inner object untouched.
impl<R: AsyncRead + AsyncWrite> AsyncWrite for BufReader<R> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_pin_mut().poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_pin_mut().poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.get_ref().is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_pin_mut().poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_pin_mut().poll_shutdown(cx)
    }
}

impl<R: fmt::Debug> fmt::Debug for BufReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BufReader")
            .field("reader", &self.inner)
            .field(
                "buffer",
                &format_args!("{}/{}", self.filled - self.pos, self.buf.len()),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{block_on, is_unpin, Trickle};
    use crate::{AsyncBufReadExt, AsyncReadExt, AsyncSeekExt};
    use std::io::Cursor;

    /// A reader that counts its `poll_read` calls.
    struct Counting<R> {
        inner: R,
        reads: usize,
    }

    impl<R: AsyncRead + Unpin> AsyncRead for Counting<R> {
        fn poll_read(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            let this = self.get_mut();
            this.reads += 1;
            Pin::new(&mut this.inner).poll_read(cx, buf)
        }
    }

    #[test]
    fn small_reads_are_served_from_one_inner_read() {
        let data: &[u8] = b"abcdefghijklmnop";
        let mut reader = BufReader::with_capacity(
            16,
            Counting {
                inner: data,
                reads: 0,
            },
        );
        let mut byte = [0u8; 1];
        for expected in data {
            block_on(reader.read_exact(&mut byte)).unwrap();
            assert_eq!(byte[0], *expected);
        }
        assert_eq!(reader.get_ref().reads, 1);
        assert!(reader.buffer().is_empty());
    }

    #[test]
    fn a_read_as_large_as_the_buffer_bypasses_it() {
        let data: &[u8] = b"0123456789";
        let mut reader = BufReader::with_capacity(4, data);
        let mut big = [0u8; 8];
        assert_eq!(block_on(reader.read(&mut big)).unwrap(), 8);
        assert!(reader.buffer().is_empty());
        let mut small = [0u8; 1];
        assert_eq!(block_on(reader.read(&mut small)).unwrap(), 1);
        assert_eq!(reader.buffer(), b"9");
    }

    #[test]
    #[should_panic(expected = "greater than zero")]
    fn zero_capacity_panics() {
        let _ = BufReader::with_capacity(0, &b""[..]);
    }

    #[test]
    fn lines_through_a_buf_reader_over_a_trickle() {
        let reader = BufReader::with_capacity(3, Trickle::new(b"alpha\nbeta\r\ngamma", 2));
        let mut lines = reader.lines();
        let mut got = Vec::new();
        while let Some(line) = block_on(lines.next_line()).unwrap() {
            got.push(line);
        }
        assert_eq!(got, ["alpha", "beta", "gamma"]);
    }

    #[test]
    fn relative_seek_counts_from_the_logical_position() {
        let mut reader = BufReader::with_capacity(8, Cursor::new(b"0123456789abcdef".to_vec()));
        let mut two = [0u8; 2];
        block_on(reader.read_exact(&mut two)).unwrap();
        // The inner cursor is at 8; the logical position is 2.
        assert_eq!(reader.get_ref().position(), 8);
        assert_eq!(block_on(reader.seek(SeekFrom::Current(3))).unwrap(), 5);
        assert!(reader.buffer().is_empty(), "a seek drops the buffer");
        assert_eq!(block_on(reader.read_u8()).unwrap(), b'5');
        assert_eq!(block_on(reader.stream_position()).unwrap(), 6);
        assert_eq!(block_on(reader.seek(SeekFrom::Start(15))).unwrap(), 15);
        assert_eq!(block_on(reader.read_u8()).unwrap(), b'f');
    }

    #[test]
    fn relative_seek_that_overflows_goes_in_two_steps() {
        let mut reader = BufReader::with_capacity(8, Cursor::new(vec![0u8; 16]));
        let mut one = [0u8; 1];
        block_on(reader.read_exact(&mut one)).unwrap();
        // `i64::MIN - unread` overflows: seek back by the unread bytes, then by `n`
        // (which a cursor rejects as before the start).
        let err = block_on(reader.seek(SeekFrom::Current(i64::MIN))).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(reader.get_ref().position(), 1);
    }

    #[test]
    fn is_unpin_and_debug() {
        let reader = BufReader::new(&b"xy"[..]);
        assert!(is_unpin!(reader));
        assert!(format!("{reader:?}").contains("buffer: 0/8192"));
    }
}
