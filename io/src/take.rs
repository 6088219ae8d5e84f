//! `Take`: a reader cut off after a number of bytes (`AsyncReadExt::take`), e.g. a body of
//! known length inside a longer stream.

use crate::{AsyncBufRead, AsyncRead, ReadBuf};
use pin_project_lite::pin_project;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

pin_project! {
    /// A reader that yields at most `limit` bytes of its inner reader, then end of file
    /// (tokio's `Take`, made by [`AsyncReadExt::take`](crate::AsyncReadExt::take)).
    #[derive(Debug)]
    #[must_use = "streams do nothing unless you `.await` or poll them"]
    pub struct Take<R> {
        #[pin]
        inner: R,
        // Bytes still allowed.
        limit: u64,
    }
}

impl<R: AsyncRead> Take<R> {
    pub(crate) fn new(inner: R, limit: u64) -> Take<R> {
        Take { inner, limit }
    }

    /// The number of bytes that can still be read before end of file.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Sets the number of bytes that can still be read (the count starts over).
    pub fn set_limit(&mut self, limit: u64) {
        self.limit = limit;
    }

    /// The inner reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The inner reader, mutably; reading from it directly does not count against the limit.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The pinned inner reader; reading from it directly does not count against the limit.
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut R> {
        self.project().inner
    }

    /// Takes back the inner reader; bytes over the limit are still in it.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: AsyncRead> AsyncRead for Take<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let me = self.project();
        if *me.limit == 0 {
            return Poll::Ready(Ok(()));
        }
        let allowed = usize::try_from(*me.limit).unwrap_or(usize::MAX);
        let got = {
            let mut limited = buf.take(allowed);
            let start = limited.filled().as_ptr();
            ready!(me.inner.poll_read(cx, &mut limited))?;
            assert_eq!(
                start,
                limited.filled().as_ptr(),
                "poll_read replaced the ReadBuf it was given"
            );
            limited.filled().len()
        };
        // SAFETY: the inner reader filled, so initialised, the first `got` bytes of
        // `limited`, which is `buf`'s unfilled part (the pointer check rules out another
        // buffer).
        unsafe { buf.assume_init(got) };
        buf.advance(got);
        *me.limit -= got as u64;
        Poll::Ready(Ok(()))
    }
}

impl<R: AsyncBufRead> AsyncBufRead for Take<R> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let me = self.project();
        if *me.limit == 0 {
            return Poll::Ready(Ok(&[]));
        }
        let limit = *me.limit;
        let available = ready!(me.inner.poll_fill_buf(cx))?;
        let shown = usize::try_from(limit).map_or(available.len(), |l| l.min(available.len()));
        Poll::Ready(Ok(&available[..shown]))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let me = self.project();
        let amt = usize::try_from(*me.limit).map_or(amt, |l| l.min(amt));
        *me.limit -= amt as u64;
        me.inner.consume(amt);
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::{block_on, Trickle};
    use crate::{AsyncBufReadExt, AsyncReadExt};

    #[test]
    fn take_stops_at_the_limit_and_leaves_the_rest() {
        let mut src: &[u8] = b"0123456789";
        let mut limited = (&mut src).take(4);
        let mut got = Vec::new();
        assert_eq!(block_on(limited.read_to_end(&mut got)).unwrap(), 4);
        assert_eq!(got, b"0123");
        assert_eq!(limited.limit(), 0);
        limited.set_limit(2);
        let mut two = [0u8; 8];
        assert_eq!(block_on(limited.read(&mut two)).unwrap(), 2);
        assert_eq!(src, b"6789");
    }

    #[test]
    fn take_limits_the_buffered_view_too() {
        let mut limited = Trickle::new(b"abc\ndef", 10).take(2);
        let mut line = String::new();
        assert_eq!(block_on(limited.read_line(&mut line)).unwrap(), 2);
        assert_eq!(line, "ab");
        assert_eq!(block_on(limited.fill_buf()).unwrap(), b"");
        assert_eq!(limited.into_inner().take(100).limit(), 100);
    }
}
