//! `GortIo`: one newtype between the `futures` IO traits (gort's) and hyper's `rt::Read`/`Write`.
//!
//! gort's sockets implement `futures::io::{AsyncRead, AsyncWrite}`; hyper 1.x reads and writes
//! through its own `rt::Read`/`rt::Write`, so that it can later take completion-based IO without a
//! breaking change. `GortIo<T>` converts in both directions, as hyper-util's `TokioIo` does for
//! tokio's traits:
//!
//! |                      | futures `AsyncRead`/`AsyncWrite` | hyper `Read`/`Write` |
//! |----------------------|----------------------------------|----------------------|
//! | `T`: futures IO      | yes                              | no                   |
//! | `GortIo<T>`          | no                               | yes                  |
//! | `H`: hyper IO        | no                               | yes                  |
//! | `GortIo<H>`          | yes                              | no                   |
//!
//! The second direction is for what hyper hands back, such as an upgraded connection
//! (`hyper::upgrade::Upgraded` is hyper IO), so that `gort::io`'s utilities work on it.
//!
//! # Reading into hyper's uninitialised buffer
//!
//! hyper passes `poll_read` a cursor over memory that may be uninitialised (the spare capacity
//! of its `BytesMut`), and tokio's reader trait can take such memory. A futures reader cannot:
//! `AsyncRead::poll_read` takes `&mut [u8]`, and handing it uninitialised bytes would be
//! undefined behaviour, since a safe reader may read them. Two ways out were considered:
//!
//! - Track which bytes are initialised across calls and zero each byte once. hyper builds a fresh
//!   `ReadBuf` (initialised length 0) over its buffer on every read, and its memory moves and is
//!   reused as requests are split off, so the adapter cannot know which bytes an earlier call
//!   zeroed without trusting the pointer and length it saw last time, which is unsound.
//! - Zero what is offered on every read. This is what `GortIo` does, and it offers only part of
//!   hyper's spare capacity: 512 bytes at first, doubling after each read that fills the offer
//!   and halving after one that uses an eighth or less (between 512 B and 64 KiB). Zeroing all of
//!   it (about 8 KiB with hyper's default read strategy) was 4-5% of the gort server's CPU under
//!   `benches/http.py` (tiny requests, keep-alive), half of it on keep-alive reads that found the
//!   socket empty; a 512-byte `memset` is noise. Large bodies grow the offer within a few reads.
//!
//! Only the advance past the bytes read stays `unsafe`, and a reader that claims more bytes than
//! it was given is caught by an assertion before it, so no safe reader can make `GortIo` unsound.
//!
//! # Vectored writes
//!
//! futures' `AsyncWrite` cannot say whether a writer has a real vectored write, so `GortIo`
//! always tells hyper `is_write_vectored() == true` and forwards `poll_write_vectored`. hyper then
//! queues its head and body buffers into one `writev` instead of copying them into one buffer.
//! gort's sockets implement `poll_write_vectored` with `writev`; for a writer that keeps futures'
//! default (which writes the first non-empty buffer only), turn vectored writes off in hyper:
//! `http1::Builder::writev(false)`.

use std::io::{self, IoSlice};
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;

pin_project! {
    /// Wraps a `futures` reader/writer (such as `gort::net::TcpStream`) to implement hyper's
    /// `rt::Read`/`rt::Write`, or a hyper one to implement the `futures` traits (hyper-util's
    /// `TokioIo` for gort). See the [module documentation](self) for the read buffer and
    /// vectored writes.
    ///
    /// ```no_run
    /// # async fn serve(stream: gort::net::TcpStream) -> hyper::Result<()> {
    /// use gort_compat::GortIo;
    /// # let service = hyper::service::service_fn(|_request| async {
    /// #     Ok::<_, std::convert::Infallible>(hyper::Response::new(String::new()))
    /// # });
    /// hyper::server::conn::http1::Builder::new()
    ///     .serve_connection(GortIo::new(stream), service)
    ///     .await
    /// # }
    /// ```
    #[derive(Debug)]
    pub struct GortIo<T> {
        // The wrapped reader/writer; pinned because hyper's and futures' methods take
        // `Pin<&mut Self>`. `GortIo<T>` is `Unpin` whenever `T` is, as hyper's connections need.
        // (A plain comment: pin-project-lite accepts no doc attributes on fields.)
        #[pin]
        inner: T,
        // How many bytes of hyper's buffer the next read zeroes and offers (module doc).
        read_offer: usize,
    }
}

impl<T> GortIo<T> {
    /// Wraps `inner`, a `futures` or hyper reader/writer.
    pub fn new(inner: T) -> GortIo<T> {
        GortIo {
            inner,
            read_offer: MIN_READ_OFFER,
        }
    }

    /// The wrapped reader/writer.
    pub fn inner(&self) -> &T {
        &self.inner
    }

    /// The wrapped reader/writer, mutably (say, to set a socket option).
    pub fn inner_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the reader/writer.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

/// The smallest read [`GortIo`] offers a reader: what one small request or response needs.
const MIN_READ_OFFER: usize = 512;

/// The largest: past this, bigger reads save little and the zeroing grows.
const MAX_READ_OFFER: usize = 64 * 1024;

/// The next read's offer after a read of `read` bytes out of `offer`: doubles when the read
/// filled it (more is probably waiting), halves when it used an eighth or less.
fn next_read_offer(offer: usize, read: usize) -> usize {
    let next = if read == offer {
        offer * 2
    } else if read <= offer / 8 {
        offer / 2
    } else {
        offer
    };
    next.clamp(MIN_READ_OFFER, MAX_READ_OFFER)
}

impl<T: futures_io::AsyncRead> hyper::rt::Read for GortIo<T> {
    /// Zeroes the first `read_offer` bytes of hyper's unfilled buffer and reads into them
    /// (module doc, "Reading into hyper's uninitialised buffer").
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.project();
        let offer = (*this.read_offer).min(buf.remaining());
        // SAFETY: only initialised bytes are written into the slice (the zeroing below), and
        // `advance` further down only claims bytes that were initialised here.
        let unfilled = unsafe { &mut buf.as_mut()[..offer] };
        unfilled.fill(MaybeUninit::new(0));
        // SAFETY: every byte of `unfilled` was just initialised, and `MaybeUninit<u8>` has the
        // layout of `u8`.
        let unfilled = unsafe { &mut *(unfilled as *mut [MaybeUninit<u8>] as *mut [u8]) };
        let read = ready!(this.inner.poll_read(cx, unfilled))?;
        // A safe reader may return any number; past `offer` it would make `advance` claim bytes
        // that were never initialised. std's `Read` adapters panic the same way.
        assert!(
            read <= offer,
            "AsyncRead::poll_read returned {read} bytes for a {offer}-byte buffer"
        );
        if offer > 0 {
            *this.read_offer = next_read_offer(offer, read);
        }
        // SAFETY: the first `read` bytes of the unfilled part are initialised: the first `offer`
        // were zeroed above and `read <= offer`.
        unsafe { buf.advance(read) };
        Poll::Ready(Ok(()))
    }
}

impl<T: futures_io::AsyncWrite> hyper::rt::Write for GortIo<T> {
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

    /// futures' name for a shutdown of the write side is `poll_close`.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_close(cx)
    }

    /// Always true: futures' trait cannot tell (module doc, "Vectored writes").
    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write_vectored(cx, bufs)
    }
}

impl<T: hyper::rt::Read> futures_io::AsyncRead for GortIo<T> {
    /// Reads through a hyper `ReadBuf` over `buf`, which is initialised, so no `unsafe` is
    /// needed in this direction.
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut read_buf = hyper::rt::ReadBuf::new(buf);
        ready!(self.project().inner.poll_read(cx, read_buf.unfilled()))?;
        Poll::Ready(Ok(read_buf.filled().len()))
    }
}

impl<T: hyper::rt::Write> futures_io::AsyncWrite for GortIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write(cx, buf)
    }

    /// Forwards to hyper's vectored write, which falls back to the first non-empty buffer when
    /// the writer has none, as futures' default does.
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.project().inner.poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_flush(cx)
    }

    /// hyper's name for a shutdown of the write side is `poll_shutdown`.
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.project().inner.poll_shutdown(cx)
    }
}

#[cfg(test)]
mod read_offer_tests {
    use super::*;

    #[test]
    fn the_offer_follows_what_reads_use() {
        // (offer, bytes read, next offer)
        let cases = [
            (512, 512, 1024),                                 // filled: more is probably waiting
            (1024, 300, 1024),                                // partly used: keep
            (4096, 512, 2048),                                // an eighth: shrink
            (512, 0, 512), // end of stream: never below the minimum
            (MAX_READ_OFFER, MAX_READ_OFFER, MAX_READ_OFFER), // never above the maximum
        ];
        for (offer, read, next) in cases {
            assert_eq!(
                next_read_offer(offer, read),
                next,
                "offer {offer}, read {read}"
            );
        }
    }
}
