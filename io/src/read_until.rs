//! `read_until` and `read_line`: read through an [`AsyncBufRead`]'s buffer up to a delimiter.
//!
//! Each step looks into the buffer (`poll_fill_buf`), copies up to and including the first
//! delimiter (or all of it), and consumes what it copied, so bytes move from the reader to the
//! destination in one step and none are held by the future: `read_until` is cancel safe (what
//! it read is in `buf`), and [`Lines`](crate::Lines) and [`Split`](crate::Split) can resume.
//! `read_line` must check UTF-8, so it works on the string's bytes and is not cancel safe.

use crate::read_to_end::{finish_string_read, KeepOnIoError};
use crate::AsyncBufRead;
use pin_project_lite::pin_project;
use std::future::Future;
use std::io;
use std::marker::PhantomPinned;
use std::mem;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// Appends to `buf` from `reader` through the first `delimiter` (included) or end of file.
/// Returns the bytes appended since the operation started, counted in `read` across polls
/// and reset to zero once it is `Ready(Ok)`. `Interrupted` errors are retried.
pub(crate) fn read_until_internal<R: AsyncBufRead + ?Sized>(
    mut reader: Pin<&mut R>,
    cx: &mut Context<'_>,
    delimiter: u8,
    buf: &mut Vec<u8>,
    read: &mut usize,
) -> Poll<io::Result<usize>> {
    loop {
        let (found, used) = match ready!(reader.as_mut().poll_fill_buf(cx)) {
            Ok(available) => match available.iter().position(|&b| b == delimiter) {
                Some(at) => {
                    buf.extend_from_slice(&available[..=at]);
                    (true, at + 1)
                }
                None => {
                    buf.extend_from_slice(available);
                    (false, available.len())
                }
            },
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Poll::Ready(Err(e)),
        };
        reader.as_mut().consume(used);
        *read += used;
        if found || used == 0 {
            return Poll::Ready(Ok(mem::take(read)));
        }
    }
}

pin_project! {
    /// The future of [`AsyncBufReadExt::read_until`](crate::AsyncBufReadExt::read_until).
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct ReadUntil<'a, R: ?Sized> {
        reader: &'a mut R,
        delimiter: u8,
        buf: &'a mut Vec<u8>,
        read: usize,
        #[pin]
        _pin: PhantomPinned,
    }
}

impl<'a, R: ?Sized> ReadUntil<'a, R> {
    pub(crate) fn new(reader: &'a mut R, delimiter: u8, buf: &'a mut Vec<u8>) -> Self {
        ReadUntil {
            reader,
            delimiter,
            buf,
            read: 0,
            _pin: PhantomPinned,
        }
    }
}

impl<R: AsyncBufRead + ?Sized + Unpin> Future for ReadUntil<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let me = self.project();
        read_until_internal(
            Pin::new(&mut **me.reader),
            cx,
            *me.delimiter,
            me.buf,
            me.read,
        )
    }
}

pin_project! {
    /// The future of [`AsyncBufReadExt::read_line`](crate::AsyncBufReadExt::read_line).
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct ReadLine<'a, R: ?Sized> {
        reader: &'a mut R,
        // The caller's string: left empty while reading, its allocation is in `bytes`.
        output: &'a mut String,
        // The string's original bytes, then those of the line read so far.
        bytes: Vec<u8>,
        read: usize,
        #[pin]
        _pin: PhantomPinned,
    }
}

impl<'a, R: ?Sized> ReadLine<'a, R> {
    pub(crate) fn new(reader: &'a mut R, output: &'a mut String) -> Self {
        ReadLine {
            reader,
            bytes: mem::take(output).into_bytes(),
            output,
            read: 0,
            _pin: PhantomPinned,
        }
    }
}

impl<R: AsyncBufRead + ?Sized + Unpin> Future for ReadLine<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let me = self.project();
        let result = ready!(read_until_internal(
            Pin::new(&mut **me.reader),
            cx,
            b'\n',
            me.bytes,
            me.read
        ));
        let appended = match &result {
            Ok(n) => *n,
            Err(_) => mem::take(me.read),
        };
        Poll::Ready(finish_string_read(
            result,
            mem::take(me.bytes),
            appended,
            me.output,
            KeepOnIoError::Yes,
        ))
    }
}
