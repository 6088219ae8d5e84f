//! `split`: one reader-writer turned into an owned read half and an owned write half, so a
//! reading task and a writing task can each hold one.
//!
//! Both halves share the object behind a mutex; each poll locks it for the duration of one
//! `poll_read` or `poll_write`, which never blocks for long (a poll does not wait). Types with
//! their own lock-free split (gort's sockets: `into_split`) are better served by that.
//!
//! The object lives in a `Pin<Box<T>>` inside the mutex, so a `!Unpin` object can be polled
//! pinned without `unsafe`; `unsplit` (which moves it out) therefore needs `T: Unpin`.

use crate::{AsyncRead, AsyncWrite, ReadBuf};
use std::fmt;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

/// The read half of an object split by [`split`] (tokio's `ReadHalf`).
pub struct ReadHalf<T> {
    inner: Arc<Inner<T>>,
}

/// The write half of an object split by [`split`] (tokio's `WriteHalf`).
pub struct WriteHalf<T> {
    inner: Arc<Inner<T>>,
}

/// What the halves share.
struct Inner<T> {
    /// The object; each poll of either half holds the lock for that poll only.
    stream: Mutex<Pin<Box<T>>>,
    /// The object's answer, asked once so that `is_write_vectored` needs no lock.
    is_write_vectored: bool,
}

/// Splits a reader-writer into a read half and a write half that can be moved to different
/// tasks; [`ReadHalf::unsplit`] puts them back together.
pub fn split<T>(stream: T) -> (ReadHalf<T>, WriteHalf<T>)
where
    T: AsyncRead + AsyncWrite,
{
    let is_write_vectored = stream.is_write_vectored();
    let inner = Arc::new(Inner {
        stream: Mutex::new(Box::pin(stream)),
        is_write_vectored,
    });
    (
        ReadHalf {
            inner: Arc::clone(&inner),
        },
        WriteHalf { inner },
    )
}

impl<T> Inner<T> {
    /// Runs `poll` on the pinned object under the lock. A panic in an earlier poll leaves
    /// the object as that poll left it; it is used as is, as a `&mut` would be.
    fn with_lock<R>(&self, poll: impl FnOnce(Pin<&mut T>) -> R) -> R {
        let mut guard = self.stream.lock().unwrap_or_else(PoisonError::into_inner);
        poll(guard.as_mut())
    }
}

impl<T> ReadHalf<T> {
    /// Whether `other` is the write half split off with this one.
    pub fn is_pair_of(&self, other: &WriteHalf<T>) -> bool {
        other.is_pair_of(self)
    }

    /// Puts the two halves back together and returns the object.
    ///
    /// # Panics
    ///
    /// If `wr` is not this half's pair.
    #[track_caller]
    pub fn unsplit(self, wr: WriteHalf<T>) -> T
    where
        T: Unpin,
    {
        assert!(
            self.is_pair_of(&wr),
            "unrelated `WriteHalf` passed to `ReadHalf::unsplit`"
        );
        drop(wr);
        let inner = Arc::into_inner(self.inner).expect("the pair held the only two references");
        let stream = inner
            .stream
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        *Pin::into_inner(stream)
    }
}

impl<T> WriteHalf<T> {
    /// Whether `other` is the read half split off with this one.
    pub fn is_pair_of(&self, other: &ReadHalf<T>) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl<T: AsyncRead> AsyncRead for ReadHalf<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.inner.with_lock(|stream| stream.poll_read(cx, buf))
    }
}

impl<T: AsyncWrite> AsyncWrite for WriteHalf<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.inner.with_lock(|stream| stream.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.inner
            .with_lock(|stream| stream.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inner.with_lock(|stream| stream.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inner.with_lock(|stream| stream.poll_shutdown(cx))
    }
}

impl<T: fmt::Debug> fmt::Debug for ReadHalf<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("split::ReadHalf").finish()
    }
}

impl<T: fmt::Debug> fmt::Debug for WriteHalf<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("split::WriteHalf").finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{block_on, block_on_both, is_unpin};
    use crate::{duplex, AsyncReadExt, AsyncWriteExt, SimplexStream};

    #[test]
    fn halves_read_and_write_the_same_object() {
        let (mut rd, mut wr) = split(SimplexStream::new_unsplit(4));
        let data = b"through a split pipe".to_vec();
        let (_, got) = block_on_both(
            async {
                wr.write_all(&data).await.unwrap();
                wr.shutdown().await.unwrap();
            },
            async {
                let mut got = Vec::new();
                rd.read_to_end(&mut got).await.unwrap();
                got
            },
        );
        assert_eq!(got, data);
        assert!(wr.is_write_vectored());
    }

    #[test]
    fn unsplit_returns_the_object_and_is_pair_of_tells_pairs_apart() {
        let (rd, wr) = split(std::io::Cursor::new(Vec::<u8>::new()));
        let (other_rd, other_wr) = split(std::io::Cursor::new(Vec::<u8>::new()));
        assert!(rd.is_pair_of(&wr) && wr.is_pair_of(&rd));
        assert!(!rd.is_pair_of(&other_wr) && !other_wr.is_pair_of(&rd));
        let cursor = rd.unsplit(wr);
        assert_eq!(cursor.position(), 0);
        drop((other_rd, other_wr));
    }

    #[test]
    #[should_panic(expected = "unrelated `WriteHalf`")]
    fn unsplit_with_a_stranger_panics() {
        let (rd, _wr) = split(std::io::Cursor::new(Vec::<u8>::new()));
        let (_other_rd, other_wr) = split(std::io::Cursor::new(Vec::<u8>::new()));
        let _ = rd.unsplit(other_wr);
    }

    #[test]
    fn a_not_unpin_object_can_be_split() {
        pin_project_lite::pin_project! {
            struct Pinned {
                #[pin]
                inner: crate::DuplexStream,
                #[pin]
                _pin: std::marker::PhantomPinned,
            }
        }
        impl AsyncRead for Pinned {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                self.project().inner.poll_read(cx, buf)
            }
        }
        impl AsyncWrite for Pinned {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                self.project().inner.poll_write(cx, buf)
            }
            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                self.project().inner.poll_flush(cx)
            }
            fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                self.project().inner.poll_shutdown(cx)
            }
        }
        let (ours, mut theirs) = duplex(16);
        let (mut rd, mut wr) = split(Pinned {
            inner: ours,
            _pin: std::marker::PhantomPinned,
        });
        block_on(wr.write_all(b"pinned")).unwrap();
        let mut got = [0u8; 6];
        block_on(theirs.read_exact(&mut got)).unwrap();
        block_on(theirs.write_all(b"back")).unwrap();
        let mut back = [0u8; 4];
        block_on(rd.read_exact(&mut back)).unwrap();
        assert_eq!((&got, &back), (b"pinned", b"back"));
    }

    #[test]
    fn halves_are_unpin_send_sync_and_debug() {
        fn send_sync<T: Send + Sync>(_: &T) {}
        let (rd, wr) = split(SimplexStream::new_unsplit(1));
        send_sync(&rd);
        assert!(is_unpin!(wr));
        assert_eq!(format!("{rd:?} {wr:?}"), "split::ReadHalf split::WriteHalf");
    }
}
