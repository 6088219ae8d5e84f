//! [`Blocking`]: a std reader or writer (standard input, output, error) driven from async code
//! by one blocking job at a time.
//!
//! The same shape as [`File`](crate::File)'s state machine without the cursor: the std stream
//! and a [`Buf`] move into a job and come back with its result. A read fetches up to the
//! caller's buffer size and hands out the surplus on later reads; a write is accepted as soon
//! as it is copied, later writes are staged behind it ([`crate::write_behind`]), and
//! `poll_flush` waits for them and then flushes the std stream's own buffer (std's stdout is
//! line-buffered) in a job of its own.
//!
//! A stream is used for reading or for writing, never both: a job's `io::Result<usize>` is
//! read as a read's or a write's result according to the call that waits for it.

use std::cmp;
use std::future::Future;
use std::io::{self, Read, Write};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use gort_executor::runtime::rt_shutdown_err;
use gort_executor::task::spawn_mandatory_blocking;
use gort_executor::JoinHandle;
use gort_io::ReadBuf;

use crate::asyncify::background_task_failed;
use crate::buf::{Buf, DEFAULT_MAX_BUF_SIZE};
use crate::write_behind::{Source, Staged, WriteBehind};

/// A job's result: bytes read (or 0 for writes and flushes), with the buffer and the stream.
type Finished<T> = (io::Result<usize>, Buf, T);

/// A std stream behind one in-flight blocking job (module doc).
#[derive(Debug)]
pub(crate) struct Blocking<T> {
    /// The stream while no job has it.
    stream: Option<T>,
    state: State<T>,
    /// A write reached the stream since the last flush job, so `poll_flush` must flush it.
    need_flush: bool,
    write_behind: Arc<WriteBehind>,
    /// Makes a new handle to the stream if a job was lost with the old one (the standard
    /// streams are process-wide, so a new handle is the same stream).
    reopen: fn() -> T,
}

#[derive(Debug)]
enum State<T> {
    /// `None` only within a method that is moving the buffer into a job.
    Idle(Option<Buf>),
    Busy(JoinHandle<Finished<T>>),
}

impl<T: Send + 'static> Blocking<T> {
    /// An idle adaptor for the stream `reopen` returns.
    pub(crate) fn new(reopen: fn() -> T) -> Blocking<T> {
        Blocking {
            stream: Some(reopen()),
            state: State::Idle(Some(Buf::default())),
            need_flush: false,
            write_behind: WriteBehind::new(),
            reopen,
        }
    }

    /// Takes the buffer and the stream out of the idle state for a job.
    fn take_for_job(&mut self) -> (Buf, T) {
        let State::Idle(slot) = &mut self.state else {
            unreachable!("a job starts only while idle");
        };
        let buf = slot.take().expect("an idle stream's buffer is home");
        let stream = self.stream.take().expect("an idle stream is home");
        (buf, stream)
    }

    /// Starts `job` (which owns the buffer and stream [`Blocking::take_for_job`] took) on the
    /// blocking pool. If the runtime has shut down and would refuse it, the stream is left idle
    /// (reopened, as after a failed job) and the refusal is the caller's error at once, as
    /// tokio's stdio reports it, rather than at a later flush.
    fn start_job(&mut self, job: impl FnOnce() -> Finished<T> + Send + 'static) -> io::Result<()> {
        match spawn_mandatory_blocking(job) {
            Some(handle) => {
                self.state = State::Busy(handle);
                Ok(())
            }
            None => {
                self.state = State::Idle(Some(Buf::default()));
                self.stream = Some((self.reopen)());
                Err(rt_shutdown_err())
            }
        }
    }

    /// Waits for the job in flight and puts the buffer and stream back; returns the job's
    /// result. Only while busy.
    ///
    /// # Errors
    ///
    /// `Other` if the job panicked or was dropped unrun (the stream is reopened).
    fn poll_job(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let State::Busy(job) = &mut self.state else {
            unreachable!("poll_job is called only while busy");
        };
        let (result, buf, stream) = match ready!(Pin::new(job).poll(cx)) {
            Ok(finished) => finished,
            Err(_) => (
                Err(background_task_failed()),
                Buf::default(),
                (self.reopen)(),
            ),
        };
        self.state = State::Idle(Some(buf));
        self.stream = Some(stream);
        Poll::Ready(result)
    }
}

impl<T: Read + Send + 'static> Blocking<T> {
    /// `AsyncRead::poll_read`: from the bytes read ahead, else from a read job of up to the
    /// caller's buffer size.
    pub(crate) fn poll_read(
        &mut self,
        cx: &mut Context<'_>,
        dst: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            match &mut self.state {
                State::Idle(slot) => {
                    let buf = slot.as_mut().expect("an idle stream's buffer is home");
                    if !buf.is_empty() || dst.remaining() == 0 {
                        dst.put_slice(buf.take_front(dst.remaining()));
                        return Poll::Ready(Ok(()));
                    }
                    let (mut buf, mut stream) = self.take_for_job();
                    let max = cmp::min(dst.remaining(), DEFAULT_MAX_BUF_SIZE);
                    if let Err(refused) = self.start_job(move || {
                        let result = buf.read_from(&mut stream, max);
                        (result, buf, stream)
                    }) {
                        return Poll::Ready(Err(refused));
                    }
                }
                State::Busy(_) => {
                    ready!(self.poll_job(cx))?;
                    // The loop hands out what the job read (nothing at end of stream).
                    let State::Idle(Some(buf)) = &mut self.state else {
                        unreachable!("poll_job leaves the stream idle");
                    };
                    dst.put_slice(buf.take_front(dst.remaining()));
                    return Poll::Ready(Ok(()));
                }
            }
        }
    }
}

impl<T: Write + Send + 'static> Blocking<T> {
    /// `AsyncWrite::poll_write`: accepted at once into a new write job, or staged behind the
    /// running one; waits only when the staging is full.
    pub(crate) fn poll_write(
        &mut self,
        cx: &mut Context<'_>,
        src: Source<'_>,
    ) -> Poll<io::Result<usize>> {
        if src.is_empty() {
            return Poll::Ready(Ok(0));
        }
        loop {
            match &mut self.state {
                State::Idle(_) => {
                    let (mut buf, mut stream) = self.take_for_job();
                    let n = src.copy_into(&mut buf, DEFAULT_MAX_BUF_SIZE);
                    let drain = self.write_behind.start();
                    if let Err(refused) = self.start_job(move || {
                        let first = buf.write_to(&mut stream);
                        let result = drain.write_staged(first, &mut buf, &mut stream);
                        (result.map(|()| 0), buf, stream)
                    }) {
                        return Poll::Ready(Err(refused));
                    }
                    self.need_flush = true;
                    return Poll::Ready(Ok(n));
                }
                State::Busy(_) => {
                    let staged = self.write_behind.stage(src, DEFAULT_MAX_BUF_SIZE, cx);
                    if let Staged::Accepted(n) = staged {
                        return Poll::Ready(Ok(n));
                    }
                    // The error of the write before this one is this one's.
                    ready!(self.poll_job(cx))?;
                }
            }
        }
    }

    /// `AsyncWrite::poll_flush`: waits for the writes in flight, then flushes the stream's own
    /// buffer in a job if anything was written since the last flush.
    pub(crate) fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            match &mut self.state {
                State::Idle(_) if !self.need_flush => return Poll::Ready(Ok(())),
                State::Idle(_) => {
                    let (buf, mut stream) = self.take_for_job();
                    self.need_flush = false;
                    if let Err(refused) = self.start_job(move || {
                        let result = stream.flush().map(|()| 0);
                        (result, buf, stream)
                    }) {
                        return Poll::Ready(Err(refused));
                    }
                }
                State::Busy(_) => {
                    ready!(self.poll_job(cx))?;
                }
            }
        }
    }
}
