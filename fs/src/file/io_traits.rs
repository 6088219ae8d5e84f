//! `AsyncRead`, `AsyncWrite` and `AsyncSeek` for [`File`]: each delegates to the state
//! machine in [`super::inner`] with the lock taken through `&mut` (no waiting: a pinned
//! `&mut File` proves no `&self` method holds it).

use std::io::{self, IoSlice, SeekFrom};
use std::pin::Pin;
use std::task::{Context, Poll};

use gort_io::{AsyncRead, AsyncSeek, AsyncWrite, ReadBuf};

use super::File;
use crate::write_behind::Source;

impl AsyncRead for File {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        dst: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let me = self.get_mut();
        me.inner
            .get_mut()
            .poll_read(cx, &me.std, me.max_buf_size, dst)
    }
}

impl AsyncWrite for File {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        src: &[u8],
    ) -> Poll<io::Result<usize>> {
        let me = self.get_mut();
        me.inner
            .get_mut()
            .poll_write(cx, &me.std, me.max_buf_size, Source::Slice(src))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        srcs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let me = self.get_mut();
        me.inner
            .get_mut()
            .poll_write(cx, &me.std, me.max_buf_size, Source::Slices(srcs))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().inner.get_mut().poll_flush(cx)
    }

    /// The same as flushing: a file has nothing to shut down.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

impl AsyncSeek for File {
    fn start_seek(self: Pin<&mut Self>, position: SeekFrom) -> io::Result<()> {
        let me = self.get_mut();
        me.inner.get_mut().start_seek(&me.std, position)
    }

    fn poll_complete(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        self.get_mut().inner.get_mut().poll_complete(cx)
    }
}
