//! `Chain`: two readers read one after the other (`AsyncReadExt::chain`), e.g. a header that
//! was already read back in front of the rest of a stream.

use crate::{AsyncBufRead, AsyncRead, ReadBuf};
use pin_project_lite::pin_project;
use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

pin_project! {
    /// Reads all of `first`, then all of `second` (tokio's `Chain`, made by
    /// [`AsyncReadExt::chain`](crate::AsyncReadExt::chain)).
    #[must_use = "streams do nothing unless polled"]
    pub struct Chain<T, U> {
        #[pin]
        first: T,
        #[pin]
        second: U,
        // Whether `first` has reported end of file.
        first_done: bool,
    }
}

impl<T: AsyncRead, U: AsyncRead> Chain<T, U> {
    pub(crate) fn new(first: T, second: U) -> Chain<T, U> {
        Chain {
            first,
            second,
            first_done: false,
        }
    }

    /// The two readers.
    pub fn get_ref(&self) -> (&T, &U) {
        (&self.first, &self.second)
    }

    /// The two readers, mutably; reading from them directly may confuse the chain.
    pub fn get_mut(&mut self) -> (&mut T, &mut U) {
        (&mut self.first, &mut self.second)
    }

    /// The two readers, pinned.
    pub fn get_pin_mut(self: Pin<&mut Self>) -> (Pin<&mut T>, Pin<&mut U>) {
        let me = self.project();
        (me.first, me.second)
    }

    /// Takes back the two readers.
    pub fn into_inner(self) -> (T, U) {
        (self.first, self.second)
    }
}

impl<T: fmt::Debug, U: fmt::Debug> fmt::Debug for Chain<T, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chain")
            .field("t", &self.first)
            .field("u", &self.second)
            .finish()
    }
}

impl<T: AsyncRead, U: AsyncRead> AsyncRead for Chain<T, U> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let me = self.project();
        if !*me.first_done {
            let before = buf.remaining();
            ready!(me.first.poll_read(cx, buf))?;
            // Nothing read into a buffer with room is `first`'s end of file; with no room it
            // says nothing.
            if buf.remaining() != before || before == 0 {
                return Poll::Ready(Ok(()));
            }
            *me.first_done = true;
        }
        me.second.poll_read(cx, buf)
    }
}

impl<T: AsyncBufRead, U: AsyncBufRead> AsyncBufRead for Chain<T, U> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let me = self.project();
        if !*me.first_done {
            let available = ready!(me.first.poll_fill_buf(cx))?;
            if !available.is_empty() {
                return Poll::Ready(Ok(available));
            }
            *me.first_done = true;
        }
        me.second.poll_fill_buf(cx)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let me = self.project();
        if *me.first_done {
            me.second.consume(amt)
        } else {
            me.first.consume(amt)
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::{block_on, Trickle};
    use crate::{AsyncBufReadExt, AsyncReadExt};

    #[test]
    fn chain_reads_first_then_second() {
        let mut both = Trickle::new(b"head|", 2).chain(Trickle::new(b"tail", 3));
        let mut got = String::new();
        block_on(both.read_to_string(&mut got)).unwrap();
        assert_eq!(got, "head|tail");
        let (first, second) = both.into_inner();
        drop((first, second));
    }

    #[test]
    fn an_empty_read_buffer_does_not_end_the_first_reader() {
        let mut both = (&b"ab"[..]).chain(&b"cd"[..]);
        let mut nothing = [0u8; 0];
        assert_eq!(block_on(both.read(&mut nothing)).unwrap(), 0);
        let mut two = [0u8; 2];
        block_on(both.read_exact(&mut two)).unwrap();
        assert_eq!(&two, b"ab");
    }

    #[test]
    fn chain_lines_cross_the_boundary() {
        let both = (&b"one\ntw"[..]).chain(&b"o\nthree"[..]);
        let mut lines = both.lines();
        let mut got = Vec::new();
        while let Some(line) = block_on(lines.next_line()).unwrap() {
            got.push(line);
        }
        assert_eq!(got, ["one", "two", "three"]);
    }
}
