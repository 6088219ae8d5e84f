//! Helpers for the unit tests: a `block_on` that needs no runtime, and a reader and writer
//! that hand out data in small pieces with a `Pending` before each, so futures are seen
//! resuming across polls.

use crate::{AsyncBufRead, AsyncRead, AsyncWrite, ReadBuf};
use std::future::Future;
use std::io;
use std::pin::{pin, Pin};
use std::task::{Context, Poll, Waker};

/// Polls `future` to completion on this thread. Every test source makes progress on each
/// poll (a `Pending` is followed by a ready answer), so a busy loop is enough.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..1_000_000 {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
    }
    panic!("the future made no progress");
}

/// Polls `future` once with a no-op waker.
pub(crate) fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(Waker::noop()))
}

/// A reader that returns `Pending` before every read, then at most `chunk` bytes.
pub(crate) struct Trickle {
    data: Vec<u8>,
    pos: usize,
    chunk: usize,
    pending_next: bool,
    /// An error returned (once) when the data runs out, instead of end of file.
    pub(crate) error_at_end: Option<io::ErrorKind>,
}

impl Trickle {
    pub(crate) fn new(data: &[u8], chunk: usize) -> Trickle {
        Trickle {
            data: data.to_vec(),
            pos: 0,
            chunk,
            pending_next: true,
            error_at_end: None,
        }
    }

    fn step(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        if std::mem::replace(&mut self.pending_next, false) {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        if self.pos == self.data.len() {
            if let Some(kind) = self.error_at_end.take() {
                return Poll::Ready(Err(kind.into()));
            }
        }
        let end = self.data.len().min(self.pos + self.chunk);
        Poll::Ready(Ok(&self.data[self.pos..end]))
    }
}

impl AsyncRead for Trickle {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let available = std::task::ready!(this.step(cx))?;
        let n = available.len().min(buf.remaining());
        buf.put_slice(&available[..n]);
        this.pos += n;
        this.pending_next = true;
        Poll::Ready(Ok(()))
    }
}

impl AsyncBufRead for Trickle {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        self.get_mut().step(cx)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let this = self.get_mut();
        this.pos += amt;
        this.pending_next = true;
    }
}

/// A writer that returns `Pending` before every write, then takes at most `chunk` bytes.
#[derive(Default)]
pub(crate) struct TrickleWriter {
    pub(crate) written: Vec<u8>,
    pub(crate) chunk: usize,
    pending_next: bool,
    pub(crate) flushes: usize,
    pub(crate) shut_down: bool,
}

impl TrickleWriter {
    pub(crate) fn new(chunk: usize) -> TrickleWriter {
        TrickleWriter {
            chunk,
            pending_next: true,
            ..TrickleWriter::default()
        }
    }
}

impl AsyncWrite for TrickleWriter {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if std::mem::replace(&mut this.pending_next, false) {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        this.pending_next = true;
        let n = buf.len().min(this.chunk);
        this.written.extend_from_slice(&buf[..n]);
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().flushes += 1;
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().shut_down = true;
        Poll::Ready(Ok(()))
    }
}

/// Whether a value's type is `Unpin`, decided at the call site by method resolution
/// (the `Unpin` impl is found first when it applies; the fallback is one autoref away).
macro_rules! is_unpin {
    ($value:expr) => {{
        #[allow(dead_code)]
        struct Probe<T>(std::marker::PhantomData<T>);
        // Only one of the two traits is used at each call site.
        #[allow(dead_code)]
        trait Yes {
            fn is_unpin(&self) -> bool {
                true
            }
        }
        impl<T: Unpin> Yes for Probe<T> {}
        #[allow(dead_code)]
        trait No {
            fn is_unpin(&self) -> bool {
                false
            }
        }
        impl<T> No for &Probe<T> {}
        fn probe<T>(_: &T) -> Probe<T> {
            Probe(std::marker::PhantomData)
        }
        (&probe(&$value)).is_unpin()
    }};
}
pub(crate) use is_unpin;

/// Runs two futures to completion, polling both on every turn (a two-task scheduler).
pub(crate) fn block_on_both<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let mut a = pin!(a);
    let mut b = pin!(b);
    let (mut out_a, mut out_b) = (None, None);
    block_on(std::future::poll_fn(|cx| {
        if out_a.is_none() {
            if let Poll::Ready(v) = a.as_mut().poll(cx) {
                out_a = Some(v);
            }
        }
        if out_b.is_none() {
            if let Poll::Ready(v) = b.as_mut().poll(cx) {
                out_b = Some(v);
            }
        }
        if out_a.is_some() && out_b.is_some() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }));
    (out_a.expect("finished"), out_b.expect("finished"))
}
