//! The `futures` crate's `AsyncRead` and `AsyncWrite` for [`File`] and the standard streams,
//! so that libraries written against `futures::io` take them as they are (gort's sockets do
//! the same). Each method wraps the caller's slice in a [`ReadBuf`] or forwards to the
//! tokio-style method; `poll_close` is `poll_shutdown`.
//!
//! `futures::io::AsyncSeek` is left out: its one-step `poll_seek` cannot tell a retried seek
//! from a new one with the same target, which the two-step `AsyncSeek` of tokio exists to
//! avoid.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use gort_io::ReadBuf;

use crate::stdio::{Stderr, Stdin, Stdout};
use crate::File;

/// `futures::io::AsyncRead` through `gort_io::AsyncRead`.
macro_rules! impl_futures_read {
    ($type:ty) => {
        impl futures::io::AsyncRead for $type {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                let mut dst = ReadBuf::new(buf);
                ready!(gort_io::AsyncRead::poll_read(self, cx, &mut dst))?;
                Poll::Ready(Ok(dst.filled().len()))
            }
        }
    };
}

/// `futures::io::AsyncWrite` through `gort_io::AsyncWrite`.
macro_rules! impl_futures_write {
    ($type:ty) => {
        impl futures::io::AsyncWrite for $type {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                gort_io::AsyncWrite::poll_write(self, cx, buf)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                gort_io::AsyncWrite::poll_write_vectored(self, cx, bufs)
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                gort_io::AsyncWrite::poll_flush(self, cx)
            }

            fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                gort_io::AsyncWrite::poll_shutdown(self, cx)
            }
        }
    };
}

impl_futures_read!(File);
impl_futures_write!(File);
impl_futures_read!(Stdin);
impl_futures_write!(Stdout);
impl_futures_write!(Stderr);

#[cfg(test)]
mod tests {
    use futures::io::{AsyncReadExt, AsyncWriteExt};

    use crate::File;

    #[test]
    fn a_file_works_through_the_futures_traits() {
        let path = std::env::temp_dir().join(format!("gort-fs-futures-{}", std::process::id()));
        gort_executor::block_on(async {
            let mut file = File::create(&path).await.unwrap();
            file.write_all(b"via futures::io").await.unwrap();
            file.close().await.unwrap();
            let mut back = String::new();
            let mut file = File::open(&path).await.unwrap();
            file.read_to_string(&mut back).await.unwrap();
            assert_eq!(back, "via futures::io");
        });
        std::fs::remove_file(&path).unwrap();
    }
}
