//! Read and write halves of a stream socket (`TcpStream`, `UnixStream`), borrowed or owned.
//!
//! A gort stream reads and writes through `&Stream`, so halves need no lock: a borrowed half is a
//! shared reference, an owned half an `Arc` of the stream. That is why these are generic over
//! the stream instead of repeated per protocol as in tokio.

use std::fmt;
use std::io::{self, IoSlice, IoSliceMut};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::io::{AsyncRead, AsyncWrite};

/// A stream socket whose write side can be shut down (what an owned write half does on drop).
pub trait ShutdownWrite {
    /// `shutdown(SHUT_WR)`.
    fn shutdown_write(&self) -> io::Result<()>;
}

/// The read half of a borrowed split.
#[derive(Debug)]
pub struct ReadHalf<'a, S>(&'a S);

/// The write half of a borrowed split.
#[derive(Debug)]
pub struct WriteHalf<'a, S>(&'a S);

/// The read half of an owned split.
#[derive(Debug)]
pub struct OwnedReadHalf<S> {
    stream: Arc<S>,
}

/// The write half of an owned split. Dropping it shuts down the write side, so the peer sees end
/// of stream (as in tokio), unless it was [`OwnedWriteHalf::forget`]-ed.
#[derive(Debug)]
pub struct OwnedWriteHalf<S: ShutdownWrite> {
    stream: Arc<S>,
    shutdown_on_drop: bool,
}

/// The halves given to [`OwnedReadHalf::reunite`] came from different streams; both are returned.
pub struct ReuniteError<S: ShutdownWrite>(pub OwnedReadHalf<S>, pub OwnedWriteHalf<S>);

pub(crate) fn split<S>(stream: &mut S) -> (ReadHalf<'_, S>, WriteHalf<'_, S>) {
    (ReadHalf(stream), WriteHalf(stream))
}

pub(crate) fn into_split<S: ShutdownWrite>(stream: S) -> (OwnedReadHalf<S>, OwnedWriteHalf<S>) {
    let stream = Arc::new(stream);
    (
        OwnedReadHalf {
            stream: Arc::clone(&stream),
        },
        OwnedWriteHalf {
            stream,
            shutdown_on_drop: true,
        },
    )
}

impl<S: ShutdownWrite> OwnedReadHalf<S> {
    /// Puts the stream back together, if `write` came from the same `into_split`.
    pub fn reunite(self, mut write: OwnedWriteHalf<S>) -> Result<S, ReuniteError<S>> {
        if !Arc::ptr_eq(&self.stream, &write.stream) {
            return Err(ReuniteError(self, write));
        }
        write.shutdown_on_drop = false;
        let stream = Arc::clone(&write.stream);
        drop((self, write));
        Ok(Arc::into_inner(stream).unwrap_or_else(|| {
            unreachable!("both halves were just dropped, and nothing else holds the stream")
        }))
    }

    /// The stream both halves share.
    pub fn stream(&self) -> &S {
        &self.stream
    }
}

impl<S: ShutdownWrite> OwnedWriteHalf<S> {
    /// Drops the half without shutting down the write side.
    pub fn forget(mut self) {
        self.shutdown_on_drop = false;
    }

    /// The stream both halves share.
    pub fn stream(&self) -> &S {
        &self.stream
    }
}

impl<S: ShutdownWrite> Drop for OwnedWriteHalf<S> {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            // The peer may already be gone (`ENOTCONN`); there is nobody to tell then.
            let _ = self.stream.shutdown_write();
        }
    }
}

impl<S: ShutdownWrite> fmt::Debug for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReuniteError(..)")
    }
}

impl<S: ShutdownWrite> fmt::Display for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves that are not from the same socket")
    }
}

impl<S: ShutdownWrite> std::error::Error for ReuniteError<S> {}

/// Reads through `&S`.
macro_rules! read_through_shared {
    ($half:ty, $($bound:tt)*) => {
        impl<$($bound)*> AsyncRead for $half
        where
            for<'s> &'s S: AsyncRead,
        {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                Pin::new(&mut self.stream_ref()).poll_read(cx, buf)
            }

            fn poll_read_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &mut [IoSliceMut<'_>],
            ) -> Poll<io::Result<usize>> {
                Pin::new(&mut self.stream_ref()).poll_read_vectored(cx, bufs)
            }
        }
    };
}

/// Writes through `&S`.
macro_rules! write_through_shared {
    ($half:ty, $($bound:tt)*) => {
        impl<$($bound)*> AsyncWrite for $half
        where
            for<'s> &'s S: AsyncWrite,
        {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                Pin::new(&mut self.stream_ref()).poll_write(cx, buf)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                Pin::new(&mut self.stream_ref()).poll_write_vectored(cx, bufs)
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Pin::new(&mut self.stream_ref()).poll_flush(cx)
            }

            fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Pin::new(&mut self.stream_ref()).poll_close(cx)
            }
        }
    };
}

impl<'a, S> ReadHalf<'a, S> {
    fn stream_ref(&self) -> &'a S {
        self.0
    }
}

impl<S> OwnedReadHalf<S> {
    fn stream_ref(&self) -> &S {
        &self.stream
    }
}

impl<'a, S> WriteHalf<'a, S> {
    fn stream_ref(&self) -> &'a S {
        self.0
    }
}

impl<S: ShutdownWrite> OwnedWriteHalf<S> {
    fn stream_ref(&self) -> &S {
        &self.stream
    }
}

read_through_shared!(ReadHalf<'_, S>, S);
read_through_shared!(OwnedReadHalf<S>, S);
write_through_shared!(WriteHalf<'_, S>, S);
write_through_shared!(OwnedWriteHalf<S>, S: ShutdownWrite);
