//! The trivial IO objects: [`empty`] (reads nothing, swallows writes), [`sink`] (swallows
//! writes) and [`repeat`] (reads one byte forever).
//!
//! They are always ready, so each operation spends a unit of the coop budget: a loop reading
//! `repeat(0)` or writing to `sink()` still yields its P once the budget is spent.

use crate::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite, ReadBuf};
use bytes::BufMut;
use std::fmt;
use std::io::{self, IoSlice, SeekFrom};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// Takes a unit of the coop budget and spends it (the operation is about to succeed).
fn spend_budget(cx: &mut Context<'_>) -> Poll<()> {
    ready!(gort_context::poll_proceed(cx)).made();
    Poll::Ready(())
}

/// A reader at end of file and a writer that accepts everything (tokio's `Empty`); made by
/// [`empty`].
pub struct Empty {
    _private: (),
}

/// An object that reads as always at end of file, writes by discarding, and seeks to 0.
pub fn empty() -> Empty {
    Empty { _private: () }
}

impl AsyncRead for Empty {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        _buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        ready!(spend_budget(cx));
        Poll::Ready(Ok(()))
    }
}

impl AsyncBufRead for Empty {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        ready!(spend_budget(cx));
        Poll::Ready(Ok(&[]))
    }

    fn consume(self: Pin<&mut Self>, _amt: usize) {}
}

impl AsyncWrite for Empty {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(spend_budget(cx));
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        ready!(spend_budget(cx));
        Poll::Ready(Ok(bufs.iter().map(|b| b.len()).sum()))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(spend_budget(cx));
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(spend_budget(cx));
        Poll::Ready(Ok(()))
    }
}

impl AsyncSeek for Empty {
    fn start_seek(self: Pin<&mut Self>, _position: SeekFrom) -> io::Result<()> {
        Ok(())
    }

    fn poll_complete(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        ready!(spend_budget(cx));
        Poll::Ready(Ok(0))
    }
}

impl fmt::Debug for Empty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("Empty { .. }")
    }
}

/// A writer that discards everything (tokio's `Sink`); made by [`sink`].
pub struct Sink {
    _private: (),
}

/// A writer that accepts and discards all bytes.
pub fn sink() -> Sink {
    Sink { _private: () }
}

impl AsyncWrite for Sink {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(spend_budget(cx));
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        ready!(spend_budget(cx));
        Poll::Ready(Ok(bufs.iter().map(|b| b.len()).sum()))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(spend_budget(cx));
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(spend_budget(cx));
        Poll::Ready(Ok(()))
    }
}

impl fmt::Debug for Sink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("Sink { .. }")
    }
}

/// A reader that yields one byte over and over (tokio's `Repeat`); made by [`repeat`].
#[derive(Debug)]
pub struct Repeat {
    byte: u8,
}

/// A reader that fills every read with `byte`, never reaching end of file.
pub fn repeat(byte: u8) -> Repeat {
    Repeat { byte }
}

impl AsyncRead for Repeat {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        ready!(spend_budget(cx));
        let n = buf.remaining();
        buf.put_bytes(self.byte, n);
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{block_on, is_unpin};
    use crate::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

    #[test]
    fn empty_reads_nothing_and_swallows_writes() {
        let mut e = empty();
        let mut buf = Vec::new();
        assert_eq!(block_on(e.read_to_end(&mut buf)).unwrap(), 0);
        assert_eq!(block_on(e.write(b"gone")).unwrap(), 4);
        assert_eq!(block_on(e.seek(SeekFrom::Start(10))).unwrap(), 0);
        block_on(e.shutdown()).unwrap();
        assert_eq!(format!("{e:?}"), "Empty { .. }");
        assert!(is_unpin!(e));
    }

    #[test]
    fn sink_swallows_everything() {
        let mut s = sink();
        block_on(s.write_all(&[1; 10_000])).unwrap();
        let bufs = [IoSlice::new(b"ab"), IoSlice::new(b"cde")];
        assert_eq!(block_on(s.write_vectored(&bufs)).unwrap(), 5);
        block_on(s.flush()).unwrap();
        assert_eq!(format!("{s:?}"), "Sink { .. }");
    }

    #[test]
    fn repeat_fills_every_read() {
        let mut r = repeat(b'z');
        let mut buf = [0u8; 5];
        block_on(r.read_exact(&mut buf)).unwrap();
        assert_eq!(&buf, b"zzzzz");
        let mut limited = String::new();
        block_on(repeat(b'a').take(3).read_to_string(&mut limited)).unwrap();
        assert_eq!(limited, "aaa");
    }

    #[test]
    fn endpoints_spend_the_coop_budget() {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        gort_context::with_budget(2, || {
            let mut s = sink();
            assert!(Pin::new(&mut s).poll_write(&mut cx, b"1").is_ready());
            assert!(Pin::new(&mut s).poll_write(&mut cx, b"2").is_ready());
            assert!(Pin::new(&mut s).poll_write(&mut cx, b"3").is_pending());
        });
    }
}
