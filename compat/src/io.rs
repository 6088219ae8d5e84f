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
//! - Zero the unfilled part on every read (`ReadBufCursor::initialize_unfilled`). This is what
//!   `GortIo` does: it is safe and costs one `memset` of the spare capacity per read, about 8 KiB
//!   with hyper's default read strategy, whether or not the read then finds data.
//!
//! The cost is not nothing: under `benches/http.py` (tiny requests, keep-alive) the `memset` is
//! about 4-5% of the gort server's CPU, half of it on the keep-alive reads that find the socket
//! empty. Removing it takes a gort socket read into uninitialised memory (tokio's `ReadBuf`
//! reads), which `gort::net` does not offer yet.
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
    }
}

impl<T> GortIo<T> {
    /// Wraps `inner`, a `futures` or hyper reader/writer.
    pub fn new(inner: T) -> GortIo<T> {
        GortIo { inner }
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

impl<T: futures_io::AsyncRead> hyper::rt::Read for GortIo<T> {
    /// Zeroes the unfilled part of hyper's buffer and reads into it (module doc, "Reading into
    /// hyper's uninitialised buffer").
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let unfilled = buf.initialize_unfilled();
        let capacity = unfilled.len();
        let read = ready!(self.project().inner.poll_read(cx, unfilled))?;
        // A safe reader may return any number; past `capacity` it would make `advance` claim
        // bytes that were never initialised. std's `Read` adapters panic the same way.
        assert!(
            read <= capacity,
            "AsyncRead::poll_read returned {read} bytes for a {capacity}-byte buffer"
        );
        // SAFETY: the first `read` bytes of the unfilled part are initialised:
        // `initialize_unfilled` zeroed all `capacity` of them and `read <= capacity`.
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
