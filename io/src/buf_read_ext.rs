//! `AsyncBufReadExt`: the `async` methods every [`AsyncBufRead`] gets (`read_until`,
//! `read_line`, `fill_buf`, ...), and the future of `fill_buf`.

use crate::read_until::{ReadLine, ReadUntil};
use crate::{AsyncBufRead, Lines, Split};
use pin_project_lite::pin_project;
use std::future::Future;
use std::io;
use std::marker::PhantomPinned;
use std::pin::Pin;
use std::task::{Context, Poll};

/// `async` methods for every [`AsyncBufRead`] (tokio's `AsyncBufReadExt`).
pub trait AsyncBufReadExt: AsyncBufRead {
    /// Appends bytes to `buf` up to and including the first `byte`, or to end of file;
    /// returns how many were appended (`0`: end of file).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe in that no data is lost: if the future is dropped early, what it read is
    /// already in `buf`, and calling it again continues up to `byte` (the count it returns then
    /// starts from zero).
    fn read_until<'a>(&'a mut self, byte: u8, buf: &'a mut Vec<u8>) -> ReadUntil<'a, Self>
    where
        Self: Unpin,
    {
        ReadUntil::new(self, byte, buf)
    }

    /// Appends a line (through its `\n`, which is kept) to `buf`, or the rest of the input at
    /// end of file; returns the bytes appended (`0`: end of file). Invalid UTF-8 is an
    /// `InvalidData` error and leaves `buf` as it was; after an IO error, `buf` holds the
    /// valid part of the line read before it.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: while the future is pending `buf` is empty (its contents are held by
    /// the future), and dropping the future loses them and the part of the line read. Use
    /// [`lines`](AsyncBufReadExt::lines), or [`read_until`](AsyncBufReadExt::read_until) with
    /// `b'\n'`, where cancellation matters.
    fn read_line<'a>(&'a mut self, buf: &'a mut String) -> ReadLine<'a, Self>
    where
        Self: Unpin,
    {
        ReadLine::new(self, buf)
    }

    /// The segments of this reader between `byte`s, as a [`Split`].
    fn split(self, byte: u8) -> Split<Self>
    where
        Self: Sized + Unpin,
    {
        Split::new(self, byte)
    }

    /// The buffered bytes, reading more first if there are none (empty: end of file). They
    /// stay buffered until [`consume`](AsyncBufReadExt::consume)d.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped early, nothing was consumed.
    fn fill_buf(&mut self) -> FillBuf<'_, Self>
    where
        Self: Unpin,
    {
        FillBuf {
            reader: Some(self),
            _pin: PhantomPinned,
        }
    }

    /// Marks `amt` buffered bytes as read (see [`AsyncBufRead::consume`]).
    fn consume(&mut self, amt: usize)
    where
        Self: Unpin,
    {
        Pin::new(self).consume(amt)
    }

    /// The lines of this reader, as a [`Lines`].
    fn lines(self) -> Lines<Self>
    where
        Self: Sized,
    {
        Lines::new(self)
    }
}

impl<R: AsyncBufRead + ?Sized> AsyncBufReadExt for R {}

pin_project! {
    /// The future of [`AsyncBufReadExt::fill_buf`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct FillBuf<'a, R: ?Sized> {
        // `None` once the future returned `Ready`: the slice it gave out holds the borrow.
        reader: Option<&'a mut R>,
        #[pin]
        _pin: PhantomPinned,
    }
}

impl<'a, R: AsyncBufRead + ?Sized + Unpin> Future for FillBuf<'a, R> {
    type Output = io::Result<&'a [u8]>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let me = self.project();
        let reader: &'a mut R = me.reader.take().expect("FillBuf polled after completion");
        let raw: *mut R = reader;
        // SAFETY: `raw` comes from `reader`, a `&'a mut R`, so it is valid for `'a`. Lengthening
        // the reborrow to `'a` is sound because the two outcomes never overlap: when the poll is
        // `Ready`, `reader` is dropped here (the future keeps `None`), so the returned `&'a [u8]`
        // is the only use of the borrow from then on; when it is `Pending`, nothing borrowed
        // from `raw` escapes and `reader` is put back, ending the reborrow. (Borrowck cannot
        // see this: it is NLL "problem case #3".)
        let reborrowed: &'a mut R = unsafe { &mut *raw };
        match Pin::new(reborrowed).poll_fill_buf(cx) {
            Poll::Ready(result) => Poll::Ready(result),
            Poll::Pending => {
                *me.reader = Some(reader);
                Poll::Pending
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{block_on, Trickle};
    use std::io::ErrorKind;

    #[test]
    fn read_until_stops_after_the_delimiter_and_at_eof() {
        let mut src = Trickle::new(b"one,two,three", 2);
        let mut buf = Vec::new();
        assert_eq!(block_on(src.read_until(b',', &mut buf)).unwrap(), 4);
        assert_eq!(buf, b"one,");
        buf.clear();
        assert_eq!(block_on(src.read_until(b',', &mut buf)).unwrap(), 4);
        assert_eq!(block_on(src.read_until(b',', &mut buf)).unwrap(), 5);
        assert_eq!(buf, b"two,three");
        assert_eq!(block_on(src.read_until(b',', &mut buf)).unwrap(), 0);
    }

    #[test]
    fn read_line_keeps_the_newline_and_appends() {
        let mut src: &[u8] = b"first\r\nsecond";
        let mut line = String::from(">");
        assert_eq!(block_on(src.read_line(&mut line)).unwrap(), 7);
        assert_eq!(line, ">first\r\n");
        line.clear();
        assert_eq!(block_on(src.read_line(&mut line)).unwrap(), 6);
        assert_eq!(line, "second");
        assert_eq!(block_on(src.read_line(&mut line)).unwrap(), 0);
    }

    #[test]
    fn read_line_with_invalid_utf8_leaves_the_string_as_it_was() {
        let mut src: &[u8] = b"bad \xc3\n";
        let mut line = String::from("kept");
        let err = block_on(src.read_line(&mut line)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidData);
        assert_eq!(line, "kept");
    }

    #[test]
    fn read_line_after_an_io_error_keeps_the_part_read() {
        let mut src = Trickle::new(b"half a li", 4);
        src.error_at_end = Some(ErrorKind::ConnectionAborted);
        let mut line = String::from("> ");
        let err = block_on(src.read_line(&mut line)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionAborted);
        assert_eq!(line, "> half a li");
    }

    #[test]
    fn fill_buf_then_consume() {
        let mut src = Trickle::new(b"abcdef", 4);
        assert_eq!(block_on(src.fill_buf()).unwrap(), b"abcd");
        AsyncBufReadExt::consume(&mut src, 3);
        assert_eq!(block_on(src.fill_buf()).unwrap(), b"def");
    }

    #[test]
    fn lines_strip_terminators() {
        let src: &[u8] = b"a\nb\r\n\nlast";
        let mut lines = src.lines();
        let mut got = Vec::new();
        while let Some(line) = block_on(lines.next_line()).unwrap() {
            got.push(line);
        }
        assert_eq!(got, ["a", "b", "", "last"]);
    }

    #[test]
    fn lines_reject_invalid_utf8() {
        let src: &[u8] = b"\xff\n";
        let mut lines = src.lines();
        assert_eq!(
            block_on(lines.next_line()).unwrap_err().kind(),
            ErrorKind::InvalidData
        );
    }

    #[test]
    fn lines_resume_after_a_dropped_next_line() {
        let mut lines = Trickle::new(b"long line\nnext\n", 3).lines();
        {
            let mut call = Box::pin(lines.next_line());
            let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
            // Poll a few times (part of the line is read), then drop the call.
            for _ in 0..3 {
                assert!(call.as_mut().poll(&mut cx).is_pending());
            }
        }
        assert_eq!(block_on(lines.next_line()).unwrap().unwrap(), "long line");
        assert_eq!(block_on(lines.next_line()).unwrap().unwrap(), "next");
        assert_eq!(block_on(lines.next_line()).unwrap(), None);
    }

    #[test]
    fn split_cuts_at_the_delimiter() {
        let mut parts = Trickle::new(b"a::b:", 1).split(b':');
        let mut got = Vec::new();
        while let Some(part) = block_on(parts.next_segment()).unwrap() {
            got.push(part);
        }
        assert_eq!(got, [b"a".to_vec(), b"".to_vec(), b"b".to_vec()]);
    }
}
