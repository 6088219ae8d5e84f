//! `copy_bidirectional`: a proxy's inner loop, two [`copy`](crate::copy)s in one future.
//!
//! Each direction is a small state machine: copy until the reader's end of file, then shut
//! down the writer (so the far side sees end of file too, half-closing the connection),
//! then done. Both are polled on every wake-up; the future completes when both are done and
//! fails at the first error of either.

use crate::copy::{CopyBuffer, COPY_BUF_SIZE};
use crate::{AsyncRead, AsyncWrite};
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// One direction of a bidirectional copy.
enum Transfer {
    Copying(CopyBuffer),
    ShuttingDown(u64),
    Done(u64),
}

impl Transfer {
    fn poll<R, W>(
        &mut self,
        cx: &mut Context<'_>,
        reader: &mut R,
        writer: &mut W,
    ) -> Poll<io::Result<u64>>
    where
        R: AsyncRead + AsyncWrite + Unpin + ?Sized,
        W: AsyncRead + AsyncWrite + Unpin + ?Sized,
    {
        loop {
            match self {
                Transfer::Copying(buffer) => {
                    let copied = ready!(buffer.poll_copy(
                        cx,
                        Pin::new(&mut *reader),
                        Pin::new(&mut *writer)
                    ))?;
                    *self = Transfer::ShuttingDown(copied);
                }
                Transfer::ShuttingDown(copied) => {
                    ready!(Pin::new(&mut *writer).poll_shutdown(cx))?;
                    *self = Transfer::Done(*copied);
                }
                Transfer::Done(copied) => return Poll::Ready(Ok(*copied)),
            }
        }
    }
}

/// Copies `a` to `b` and `b` to `a` at the same time until both reach end of file; returns
/// `(bytes a→b, bytes b→a)` (tokio's `io::copy_bidirectional`).
///
/// When one side reaches end of file, the other side's write half is shut down and the other
/// direction goes on. The first error of either direction ends both, returned as is.
pub async fn copy_bidirectional<A, B>(a: &mut A, b: &mut B) -> io::Result<(u64, u64)>
where
    A: AsyncRead + AsyncWrite + Unpin + ?Sized,
    B: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    copy_both_ways(
        a,
        b,
        CopyBuffer::new(COPY_BUF_SIZE),
        CopyBuffer::new(COPY_BUF_SIZE),
    )
    .await
}

/// [`copy_bidirectional`] with a buffer size per direction.
///
/// # Panics
///
/// If either size is zero.
pub async fn copy_bidirectional_with_sizes<A, B>(
    a: &mut A,
    b: &mut B,
    a_to_b_buf_size: usize,
    b_to_a_buf_size: usize,
) -> io::Result<(u64, u64)>
where
    A: AsyncRead + AsyncWrite + Unpin + ?Sized,
    B: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    assert!(
        a_to_b_buf_size > 0,
        "`a_to_b_buf_size` must be greater than 0"
    );
    assert!(
        b_to_a_buf_size > 0,
        "`b_to_a_buf_size` must be greater than 0"
    );
    copy_both_ways(
        a,
        b,
        CopyBuffer::new(a_to_b_buf_size),
        CopyBuffer::new(b_to_a_buf_size),
    )
    .await
}

async fn copy_both_ways<A, B>(
    a: &mut A,
    b: &mut B,
    a_to_b: CopyBuffer,
    b_to_a: CopyBuffer,
) -> io::Result<(u64, u64)>
where
    A: AsyncRead + AsyncWrite + Unpin + ?Sized,
    B: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    let mut a_to_b = Transfer::Copying(a_to_b);
    let mut b_to_a = Transfer::Copying(b_to_a);
    poll_fn(|cx| {
        let forward = a_to_b.poll(cx, a, b)?;
        let backward = b_to_a.poll(cx, b, a)?;
        Poll::Ready(Ok((ready!(forward), ready!(backward))))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::block_on;
    use crate::{join, AsyncReadExt};

    #[test]
    fn copies_both_ways_and_shuts_down_each_writer() {
        let mut a = join(&b"from a"[..], Vec::new());
        let mut b = join(&b"from b, longer"[..], Vec::new());
        let counts = block_on(copy_bidirectional(&mut a, &mut b)).unwrap();
        assert_eq!(counts, (6, 14));
        assert_eq!(b.writer(), b"from a");
        assert_eq!(a.writer(), b"from b, longer");
        let mut rest = Vec::new();
        assert_eq!(block_on(a.read_to_end(&mut rest)).unwrap(), 0);
    }

    #[test]
    fn with_sizes_works_with_tiny_buffers() {
        let mut a = join(&b"abcdefgh"[..], Vec::new());
        let mut b = join(&b"12"[..], Vec::new());
        let counts = block_on(copy_bidirectional_with_sizes(&mut a, &mut b, 1, 3)).unwrap();
        assert_eq!(counts, (8, 2));
        assert_eq!(b.writer(), b"abcdefgh");
    }

    #[test]
    #[should_panic(expected = "must be greater than 0")]
    fn zero_size_panics() {
        let mut a = join(&b""[..], Vec::new());
        let mut b = join(&b""[..], Vec::new());
        let _ = block_on(copy_bidirectional_with_sizes(&mut a, &mut b, 0, 1));
    }
}
