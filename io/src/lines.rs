//! `Lines` and `Split`: a buffered reader cut into lines, or into segments at a delimiter.
//!
//! Both keep the partial line or segment in their own buffer between polls, so a
//! `next_line().await` that is dropped early (a `select!` branch that lost) loses nothing:
//! the next call continues where it stopped (cancel safe).

use crate::read_until::read_until_internal;
use crate::AsyncBufRead;
use pin_project_lite::pin_project;
use std::io;
use std::mem;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

pin_project! {
    /// The lines of a buffered reader (tokio's `Lines`, made by
    /// [`AsyncBufReadExt::lines`](crate::AsyncBufReadExt::lines)).
    ///
    /// Lines end at `\n` or `\r\n`, which are not part of the returned line; the last line
    /// needs no terminator. A line that is not UTF-8 is an `InvalidData` error.
    #[derive(Debug)]
    #[must_use = "streams do nothing unless polled"]
    pub struct Lines<R> {
        #[pin]
        reader: R,
        // The line read so far.
        buf: Vec<u8>,
    }
}

impl<R: AsyncBufRead> Lines<R> {
    pub(crate) fn new(reader: R) -> Lines<R> {
        Lines {
            reader,
            buf: Vec::new(),
        }
    }
}

impl<R: AsyncBufRead + Unpin> Lines<R> {
    /// The next line, or `None` at end of file.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a partly read line stays in `Lines` and the next call continues it.
    pub async fn next_line(&mut self) -> io::Result<Option<String>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next_line(cx)).await
    }

    /// The reader, mutably; reading from it directly skips bytes the lines would have had.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.reader
    }

    /// The reader. (tokio's signature takes `&mut self`.)
    pub fn get_ref(&mut self) -> &R {
        &self.reader
    }

    /// Takes back the reader; a partly read line is lost.
    pub fn into_inner(self) -> R {
        self.reader
    }
}

impl<R: AsyncBufRead> Lines<R> {
    /// Polls for the next line: `Ready(Ok(None))` at end of file.
    pub fn poll_next_line(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<Option<String>>> {
        let me = self.project();
        // Counted across polls by `buf` itself, so the count is not kept.
        let mut appended = 0;
        let got = ready!(read_until_internal(
            me.reader,
            cx,
            b'\n',
            me.buf,
            &mut appended
        ))?;
        if got == 0 && me.buf.is_empty() {
            return Poll::Ready(Ok(None));
        }
        let mut line = mem::take(me.buf);
        if line.last() == Some(&b'\n') {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
        }
        Poll::Ready(
            String::from_utf8(line)
                .map(Some)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
        )
    }
}

pin_project! {
    /// The segments of a buffered reader between delimiter bytes (tokio's `Split`, made by
    /// [`AsyncBufReadExt::split`](crate::AsyncBufReadExt::split)).
    ///
    /// The delimiter is not part of the returned segment; the last segment needs none.
    #[derive(Debug)]
    #[must_use = "streams do nothing unless polled"]
    pub struct Split<R> {
        #[pin]
        reader: R,
        // The segment read so far.
        buf: Vec<u8>,
        delimiter: u8,
        // Bytes read into `buf` by the pending `read_until_internal`.
        read: usize,
    }
}

impl<R: AsyncBufRead> Split<R> {
    pub(crate) fn new(reader: R, delimiter: u8) -> Split<R> {
        Split {
            reader,
            buf: Vec::new(),
            delimiter,
            read: 0,
        }
    }
}

impl<R: AsyncBufRead + Unpin> Split<R> {
    /// The next segment, or `None` at end of file.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a partly read segment stays in `Split` and the next call continues it.
    pub async fn next_segment(&mut self) -> io::Result<Option<Vec<u8>>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next_segment(cx)).await
    }
}

impl<R: AsyncBufRead> Split<R> {
    /// Polls for the next segment: `Ready(Ok(None))` at end of file.
    pub fn poll_next_segment(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<Option<Vec<u8>>>> {
        let me = self.project();
        let got = ready!(read_until_internal(
            me.reader,
            cx,
            *me.delimiter,
            me.buf,
            me.read
        ))?;
        if got == 0 && me.buf.is_empty() {
            return Poll::Ready(Ok(None));
        }
        if me.buf.last() == Some(me.delimiter) {
            me.buf.pop();
        }
        Poll::Ready(Ok(Some(mem::take(me.buf))))
    }
}
