//! The state machine behind [`File`](super::File)'s `poll_*` methods: one blocking job in
//! flight, and a buffer that is either home (idle) or with that job (busy).
//!
//! # States
//!
//! - **Idle**: the buffer is home. It may hold bytes read ahead of the caller (a read asked
//!   the pool for up to `max_buf_size` and got more than the caller took); it never holds
//!   unwritten bytes.
//! - **Busy**: a job owns the buffer and a clone of the `std::fs::File`: a read filling it, a
//!   write draining it (and whatever gets staged meanwhile, see [`crate::write_behind`]), a
//!   seek, or a `set_len`. Its result comes back with the buffer as an [`Operation`].
//!
//! # Rules
//!
//! - A read served from read-ahead costs no hop. Otherwise it starts a read job for
//!   `min(dst.remaining(), max_buf_size)` bytes and waits for it.
//! - A write copies the caller's bytes into the buffer, starts a write job and answers `Ok(n)`
//!   at once; while that job runs, further writes are staged for it. Its error, if any, is
//!   returned by the next write or flush (or kept in `last_write_err` by an operation that
//!   cannot return it, such as a read or seek).
//! - Read-ahead means the OS cursor is ahead of the caller's position: a write, seek or
//!   `set_len` first seeks back by the unread bytes and drops them.
//! - Any operation that finds a job in flight waits for it first; `start_seek` instead fails,
//!   as the `AsyncSeek` contract has the caller drive `poll_complete` first.

use std::cmp;
use std::future::{poll_fn, Future};
use std::io::{self, Seek, SeekFrom};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use gort_executor::task::spawn_blocking;
use gort_executor::JoinHandle;
use gort_io::ReadBuf;

use crate::asyncify::background_task_failed;
use crate::buf::Buf;
use crate::write_behind::{Source, Staged, WriteBehind};

/// The one in-flight job's kind and result (module doc).
#[derive(Debug)]
pub(super) enum Operation {
    Read(io::Result<usize>),
    Write(io::Result<()>),
    Seek(io::Result<u64>),
    SetLen(io::Result<()>),
}

/// Idle with the buffer home, or busy with a job that has it.
#[derive(Debug)]
pub(super) enum State {
    /// `None` only within a method that is moving the buffer into a job.
    Idle(Option<Buf>),
    Busy(JoinHandle<(Operation, Buf)>),
}

/// Everything `File` keeps behind its lock.
#[derive(Debug)]
pub(super) struct Inner {
    pub(super) state: State,
    /// A write's error seen by an operation that could not return it, for the next write or
    /// flush.
    pub(super) last_write_err: Option<io::Error>,
    /// Where the last seek left the cursor: what `poll_complete` reports while idle.
    pub(super) pos: u64,
    /// Staging for writes made while a write job runs.
    pub(super) write_behind: Arc<WriteBehind>,
}

impl Inner {
    pub(super) fn new() -> Inner {
        Inner {
            state: State::Idle(Some(Buf::default())),
            last_write_err: None,
            pos: 0,
            write_behind: WriteBehind::new(),
        }
    }

    /// Takes the buffer out of an idle state (for a job about to start).
    fn take_buf(&mut self) -> Buf {
        match &mut self.state {
            State::Idle(slot) => slot.take().expect("an idle file's buffer is home"),
            State::Busy(_) => unreachable!("take_buf is called only while idle"),
        }
    }

    /// Waits for the in-flight job and takes its result; the file is idle afterwards, with
    /// the buffer home. Only while busy.
    ///
    /// # Errors
    ///
    /// `Other` if the job panicked or was dropped unrun (the buffer is replaced by an empty
    /// one).
    fn poll_job(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Operation>> {
        let State::Busy(job) = &mut self.state else {
            unreachable!("poll_job is called only while busy");
        };
        let finished = ready!(Pin::new(job).poll(cx));
        let (result, buf) = match finished {
            Ok((operation, buf)) => (Ok(operation), buf),
            Err(_) => (Err(background_task_failed()), Buf::default()),
        };
        self.state = State::Idle(Some(buf));
        Poll::Ready(result)
    }

    /// Records what a finished job means for operations that do not return its result:
    /// the cursor of a seek, the error of a write.
    fn absorb(&mut self, operation: Operation) {
        match operation {
            Operation::Seek(Ok(pos)) => self.pos = pos,
            Operation::Write(Err(e)) => self.last_write_err = Some(e),
            Operation::Read(_) | Operation::Write(Ok(())) | Operation::Seek(Err(_)) => {}
            Operation::SetLen(_) => {}
        }
    }

    /// `AsyncRead::poll_read` (module doc, "Rules").
    pub(super) fn poll_read(
        &mut self,
        cx: &mut Context<'_>,
        std: &Arc<std::fs::File>,
        max_buf_size: usize,
        dst: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            match &mut self.state {
                State::Idle(slot) => {
                    let buf = slot.as_mut().expect("an idle file's buffer is home");
                    if !buf.is_empty() || dst.remaining() == 0 {
                        dst.put_slice(buf.take_front(dst.remaining()));
                        return Poll::Ready(Ok(()));
                    }
                    let mut buf = self.take_buf();
                    let std = Arc::clone(std);
                    let max = cmp::min(dst.remaining(), max_buf_size);
                    self.state = State::Busy(spawn_blocking(move || {
                        let result = buf.read_from(&mut &*std, max);
                        (Operation::Read(result), buf)
                    }));
                }
                State::Busy(_) => match ready!(self.poll_job(cx))? {
                    Operation::Read(Ok(_)) => {
                        let State::Idle(Some(buf)) = &mut self.state else {
                            unreachable!("poll_job leaves the file idle");
                        };
                        dst.put_slice(buf.take_front(dst.remaining()));
                        return Poll::Ready(Ok(()));
                    }
                    Operation::Read(Err(e)) => return Poll::Ready(Err(e)),
                    other => self.absorb(other),
                },
            }
        }
    }

    /// `AsyncWrite::poll_write` and `poll_write_vectored` (module doc, "Rules").
    pub(super) fn poll_write(
        &mut self,
        cx: &mut Context<'_>,
        std: &Arc<std::fs::File>,
        max_buf_size: usize,
        src: Source<'_>,
    ) -> Poll<io::Result<usize>> {
        if let Some(e) = self.last_write_err.take() {
            return Poll::Ready(Err(e));
        }
        if src.is_empty() {
            return Poll::Ready(Ok(0));
        }
        loop {
            match &mut self.state {
                State::Idle(_) => {
                    let mut buf = self.take_buf();
                    let seek_back =
                        (!buf.is_empty()).then(|| SeekFrom::Current(buf.discard_read()));
                    let n = src.copy_into(&mut buf, max_buf_size);
                    let std = Arc::clone(std);
                    let drain = self.write_behind.start();
                    self.state = State::Busy(spawn_blocking(move || {
                        let mut writer = &*std;
                        let first = match seek_back {
                            Some(seek) => writer.seek(seek).map(drop),
                            None => Ok(()),
                        };
                        let first = first.and_then(|()| buf.write_to(&mut writer));
                        let result = drain.write_staged(first, &mut buf, &mut writer);
                        (Operation::Write(result), buf)
                    }));
                    return Poll::Ready(Ok(n));
                }
                State::Busy(_) => {
                    if let Staged::Accepted(n) = self.write_behind.stage(src, max_buf_size, cx) {
                        return Poll::Ready(Ok(n));
                    }
                    match ready!(self.poll_job(cx))? {
                        // The error of the write before this one is this one's.
                        Operation::Write(result) => result?,
                        // A seek's cursor still counts; read-ahead is dropped when the
                        // loop writes.
                        other => self.absorb(other),
                    }
                }
            }
        }
    }

    /// `AsyncSeek::start_seek`: starts a seek job, or fails if a job is in flight.
    pub(super) fn start_seek(
        &mut self,
        std: &Arc<std::fs::File>,
        mut target: SeekFrom,
    ) -> io::Result<()> {
        if let State::Busy(_) = self.state {
            return Err(io::Error::other(
                "other file operation is pending, call poll_complete before start_seek",
            ));
        }
        let mut buf = self.take_buf();
        // The caller's position is behind the OS cursor by the unread bytes: a relative seek
        // is taken from the caller's position.
        let mut seek_back = None;
        if !buf.is_empty() {
            let behind = buf.discard_read();
            if let SeekFrom::Current(offset) = &mut target {
                match offset.checked_add(behind) {
                    Some(adjusted) => *offset = adjusted,
                    None => seek_back = Some(SeekFrom::Current(behind)),
                }
            }
        }
        let std = Arc::clone(std);
        self.state = State::Busy(spawn_blocking(move || {
            let mut file = &*std;
            let result = match seek_back {
                Some(back) => file.seek(back).and_then(|_| file.seek(target)),
                None => file.seek(target),
            };
            (Operation::Seek(result), buf)
        }));
        Ok(())
    }

    /// `AsyncSeek::poll_complete`: the result of the seek in flight, or the last seek's
    /// position if none is.
    pub(super) fn poll_complete(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        loop {
            if let State::Idle(_) = self.state {
                return Poll::Ready(Ok(self.pos));
            }
            match ready!(self.poll_job(cx))? {
                Operation::Seek(result) => {
                    if let Ok(pos) = result {
                        self.pos = pos;
                    }
                    return Poll::Ready(result);
                }
                other => self.absorb(other),
            }
        }
    }

    /// `AsyncWrite::poll_flush`: waits for the in-flight job and returns a write's error
    /// (there is no buffering beyond the job's: once it is done, the bytes are in the OS).
    pub(super) fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(e) = self.last_write_err.take() {
            return Poll::Ready(Err(e));
        }
        if let State::Idle(_) = self.state {
            return Poll::Ready(Ok(()));
        }
        match ready!(self.poll_job(cx))? {
            Operation::Write(result) => Poll::Ready(result),
            other => {
                self.absorb(other);
                Poll::Ready(Ok(()))
            }
        }
    }

    /// Waits until no job is in flight, keeping a write's error for the next write or flush:
    /// what `File`'s async methods do before their own job.
    pub(super) async fn complete_inflight(&mut self) {
        poll_fn(|cx| match self.poll_flush(cx) {
            Poll::Ready(Err(e)) => {
                self.last_write_err = Some(e);
                Poll::Ready(())
            }
            Poll::Ready(Ok(())) => Poll::Ready(()),
            Poll::Pending => Poll::Pending,
        })
        .await;
    }

    /// `File::set_len`: waits for the in-flight job, then truncates or extends the file in a
    /// job of its own, first seeking back over read-ahead. The job counts as in flight (so a
    /// cancelled `set_len` still finishes before the next operation).
    pub(super) async fn set_len(&mut self, std: &Arc<std::fs::File>, size: u64) -> io::Result<()> {
        self.complete_inflight().await;
        let mut buf = self.take_buf();
        let seek_back = (!buf.is_empty()).then(|| SeekFrom::Current(buf.discard_read()));
        let std = Arc::clone(std);
        self.state = State::Busy(spawn_blocking(move || {
            let result = match seek_back {
                Some(back) => (&*std).seek(back).and_then(|_| std.set_len(size)),
                None => std.set_len(size),
            };
            (Operation::SetLen(result), buf)
        }));
        match poll_fn(|cx| self.poll_job(cx)).await? {
            Operation::SetLen(result) => result,
            other => unreachable!("set_len's job came back as {other:?}"),
        }
    }
}
