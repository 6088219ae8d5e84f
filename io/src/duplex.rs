//! `duplex`: an in-memory, bidirectional, bounded byte stream pair, the stand-in for a
//! socket pair in tests and for connecting two in-process components.
//!
//! Each direction is a [`SimplexStream`] behind a mutex, shared by the two ends: one end's
//! write pipe is the other's read pipe. An operation locks one pipe, collects the wakers to
//! wake, unlocks, and only then wakes (`simplex.rs` has the protocol). Dropping an end closes
//! both pipes: the peer reads what is left and then end of file, and its writes fail with
//! `BrokenPipe`.

use crate::simplex::{with_budget, Wakeups};
use crate::{AsyncRead, AsyncWrite, ReadBuf, SimplexStream};
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

/// One end of an in-memory bidirectional pipe made by [`duplex`] (tokio's `DuplexStream`):
/// what one end writes, the other reads.
#[derive(Debug)]
pub struct DuplexStream {
    /// The pipe from the peer to this end.
    read: Arc<Mutex<SimplexStream>>,
    /// The pipe from this end to the peer.
    write: Arc<Mutex<SimplexStream>>,
}

/// Creates a connected pair of in-memory streams, each direction buffering at most
/// `max_buf_size` bytes: a write to a full direction waits until the peer reads.
///
/// # Panics
///
/// If `max_buf_size` is zero.
#[track_caller]
pub fn duplex(max_buf_size: usize) -> (DuplexStream, DuplexStream) {
    let one_to_two = Arc::new(Mutex::new(SimplexStream::new_unsplit(max_buf_size)));
    let two_to_one = Arc::new(Mutex::new(SimplexStream::new_unsplit(max_buf_size)));
    (
        DuplexStream {
            read: Arc::clone(&two_to_one),
            write: Arc::clone(&one_to_two),
        },
        DuplexStream {
            read: one_to_two,
            write: two_to_one,
        },
    )
}

/// Locks a pipe. A panic while it was held cannot have broken it (every update is a few
/// plain stores), so a poisoned lock is used as is.
fn lock(pipe: &Mutex<SimplexStream>) -> MutexGuard<'_, SimplexStream> {
    pipe.lock().unwrap_or_else(PoisonError::into_inner)
}

impl AsyncRead for DuplexStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let mut wakeups = Wakeups::default();
        let result = with_budget(cx, |cx| lock(&self.read).read_into(cx, buf, &mut wakeups));
        wakeups.run();
        result
    }
}

impl AsyncWrite for DuplexStream {
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
        let result = with_budget(cx, |cx| {
            lock(&self.write).write_from(cx, bufs, &mut wakeups)
        });
        wakeups.run();
        result
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Closes this end's direction: the peer reads what is left, then end of file; this end
    /// can still read.
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let reader = lock(&self.write).close_write();
        if let Some(reader) = reader {
            reader.wake();
        }
        Poll::Ready(Ok(()))
    }
}

impl Drop for DuplexStream {
    fn drop(&mut self) {
        let peer_reader = lock(&self.write).close_write();
        let peer_writer = lock(&self.read).close_read();
        for waker in [peer_reader, peer_writer].into_iter().flatten() {
            waker.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{block_on, block_on_both, is_unpin, poll_once};
    use crate::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn each_end_reads_what_the_other_writes() {
        let (mut one, mut two) = duplex(16);
        block_on(one.write_all(b"to two")).unwrap();
        block_on(two.write_all(b"to one")).unwrap();
        let mut buf = [0u8; 6];
        block_on(two.read_exact(&mut buf)).unwrap();
        assert_eq!(&buf, b"to two");
        block_on(one.read_exact(&mut buf)).unwrap();
        assert_eq!(&buf, b"to one");
    }

    #[test]
    fn max_buf_size_is_backpressure() {
        let (mut one, mut two) = duplex(4);
        assert_eq!(block_on(one.write(b"123456")).unwrap(), 4);
        {
            let mut blocked = Box::pin(one.write(b"5"));
            assert!(poll_once(&mut blocked).is_pending());
        }
        let mut two_bytes = [0u8; 2];
        block_on(two.read_exact(&mut two_bytes)).unwrap();
        assert_eq!(block_on(one.write(b"56789")).unwrap(), 2);
        let data = vec![7u8; 1000];
        let ((), got) = block_on_both(
            async {
                one.write_all(&data).await.unwrap();
                drop(one);
            },
            async {
                let mut got = Vec::new();
                two.read_to_end(&mut got).await.unwrap();
                got
            },
        );
        assert_eq!(&got[..4], b"3456");
        assert_eq!(&got[4..], &data[..]);
    }

    #[test]
    fn dropping_an_end_gives_the_peer_eof_and_broken_pipe() {
        let (mut one, two) = duplex(8);
        block_on(one.write_all(b"last")).unwrap();
        let mut peer = two;
        drop(one);
        let mut got = Vec::new();
        block_on(peer.read_to_end(&mut got)).unwrap();
        assert_eq!(
            got, b"last",
            "buffered bytes are still read before end of file"
        );
        let err = block_on(peer.write(b"x")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
    }

    #[test]
    fn shutdown_half_closes() {
        let (mut one, mut two) = duplex(8);
        block_on(one.shutdown()).unwrap();
        let mut got = Vec::new();
        assert_eq!(block_on(two.read_to_end(&mut got)).unwrap(), 0);
        // The other direction still works.
        block_on(two.write_all(b"back")).unwrap();
        let mut back = [0u8; 4];
        block_on(one.read_exact(&mut back)).unwrap();
        assert_eq!(&back, b"back");
    }

    #[test]
    fn a_parked_reader_is_woken_by_the_write() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Arc;
        use std::task::{Wake, Waker};
        struct Count(AtomicUsize);
        impl Wake for Count {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&count));
        let (mut one, mut two) = duplex(8);
        let mut buf = [0u8; 4];
        let mut read = Box::pin(two.read(&mut buf));
        assert!(read
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
        block_on(one.write_all(b"hi")).unwrap();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert_eq!(block_on(read).unwrap(), 2);
    }

    #[test]
    fn is_unpin_send_sync() {
        fn send_sync<T: Send + Sync>(_: &T) {}
        let (one, _two) = duplex(1);
        send_sync(&one);
        assert!(is_unpin!(one));
    }

    use std::future::Future;
}
