//! `AsyncSeekExt`: `seek`, `rewind` and `stream_position` for every [`AsyncSeek`], and their
//! future.
//!
//! A seek first finishes any seek still in progress (`poll_complete`), then starts its own and
//! waits for it; dropping the future after the start leaves the seek to finish on its own,
//! and the next `poll_complete` reports where it ended.

use crate::AsyncSeek;
use pin_project_lite::pin_project;
use std::future::Future;
use std::io::{self, SeekFrom};
use std::marker::PhantomPinned;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

/// `async` seeking for every [`AsyncSeek`] (tokio's `AsyncSeekExt`).
pub trait AsyncSeekExt: AsyncSeek {
    /// Moves to `pos` and returns the new position from the start. Seeking before the start
    /// is an error; past the end is allowed (for files, a later write leaves a hole).
    fn seek(&mut self, pos: SeekFrom) -> Seek<'_, Self>
    where
        Self: Unpin,
    {
        Seek::new(self, pos)
    }

    /// Moves to the start; returns 0.
    fn rewind(&mut self) -> Seek<'_, Self>
    where
        Self: Unpin,
    {
        self.seek(SeekFrom::Start(0))
    }

    /// The current position from the start (a seek by zero).
    fn stream_position(&mut self) -> Seek<'_, Self>
    where
        Self: Unpin,
    {
        self.seek(SeekFrom::Current(0))
    }
}

impl<S: AsyncSeek + ?Sized> AsyncSeekExt for S {}

pin_project! {
    /// The future of [`AsyncSeekExt::seek`] (and `rewind`, `stream_position`).
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Seek<'a, S: ?Sized> {
        seek: &'a mut S,
        // The seek to start; `None` once started.
        pos: Option<SeekFrom>,
        #[pin]
        _pin: PhantomPinned,
    }
}

impl<'a, S: ?Sized> Seek<'a, S> {
    fn new(seek: &'a mut S, pos: SeekFrom) -> Self {
        Seek {
            seek,
            pos: Some(pos),
            _pin: PhantomPinned,
        }
    }
}

impl<S: AsyncSeek + ?Sized + Unpin> Future for Seek<'_, S> {
    type Output = io::Result<u64>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let me = self.project();
        if let Some(pos) = *me.pos {
            // A seek started earlier (by a dropped future) must finish before ours starts.
            ready!(Pin::new(&mut **me.seek).poll_complete(cx))?;
            Pin::new(&mut **me.seek).start_seek(pos)?;
            *me.pos = None;
        }
        Pin::new(&mut **me.seek).poll_complete(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::block_on;
    use crate::AsyncReadExt;
    use std::io::{Cursor, ErrorKind};

    #[test]
    fn seek_rewind_and_stream_position_on_a_cursor() {
        let mut cursor = Cursor::new(b"0123456789".to_vec());
        assert_eq!(block_on(cursor.seek(SeekFrom::Start(4))).unwrap(), 4);
        assert_eq!(block_on(cursor.read_u8()).unwrap(), b'4');
        assert_eq!(block_on(cursor.stream_position()).unwrap(), 5);
        assert_eq!(block_on(cursor.seek(SeekFrom::End(-1))).unwrap(), 9);
        assert_eq!(block_on(cursor.seek(SeekFrom::Current(-2))).unwrap(), 7);
        assert_eq!(block_on(cursor.rewind()).unwrap(), 0);
        let err = block_on(cursor.seek(SeekFrom::Current(-1))).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        // Past the end is allowed, and reads nothing there.
        assert_eq!(block_on(cursor.seek(SeekFrom::Start(100))).unwrap(), 100);
        let mut rest = Vec::new();
        assert_eq!(block_on(cursor.read_to_end(&mut rest)).unwrap(), 0);
    }
}
