//! Write-behind: small writes made while a write job runs are staged and written by that job.
//!
//! # The problem
//!
//! Files and standard streams have no readiness to wait for: a write is a blocking system
//! call, so it runs as a job on the blocking pool and the handle keeps at most one job in
//! flight (the file's cursor is one, and the order of writes must be kept). tokio's `File`
//! accepts a write by copying it into the job's buffer and answering `Ok(n)` at once; the next
//! write then waits for that job. A task doing many small unbuffered writes (`write_all` of a
//! line at a time, say) pays one pool round trip (a wake-up of a pool thread and of the task,
//! tens of microseconds) per write, however fast the disk.
//!
//! # The design
//!
//! While a write job runs, a further write is copied into a second buffer, the *staging*
//! bytes, and also answered `Ok(n)` at once, until they hold `max_buf_size` bytes. The job,
//! after each buffer it writes, takes all the staged bytes under the lock (swapping memory,
//! not copying) and writes them too; it ends only when it finds nothing staged. So a run of
//! small writes costs one hop per buffer the job writes, not one per call, and the handle
//! waits only when the staging bytes are full (until the job takes them) or for a non-write
//! operation (a read or seek waits for the whole drain, as it waited for the one write).
//!
//! Rejected: a job per write with the staged bytes handed over when it completes. Staged bytes
//! would then need the handle to submit them, and a handle dropped with staged bytes would
//! lose them; here the job owns the drain, so whatever was accepted is written even if the
//! handle is gone, as tokio's in-flight write is.
//!
//! # The protocol
//!
//! 1. The handle, with no job in flight, calls [`WriteBehind::start`], which marks the queue
//!    draining and returns the [`Drain`] the job takes with it; then it spawns the job.
//! 2. A write while the job is in flight calls [`WriteBehind::stage`]: under the lock, if the
//!    queue is draining and has room, the bytes are appended (`Accepted`); if it is full, the
//!    task's waker is kept for when the job takes them (`Full`); if the drain has ended,
//!    `Ended` tells the handle to wait for the job's result.
//! 3. The job ([`Drain::write_staged`]), after each buffer: under the lock, if a write failed
//!    or nothing is staged, it clears `draining` (and the staged bytes, after an error) and
//!    returns; else it swaps the staged bytes into its buffer, and writes them after the lock
//!    is released. It wakes a kept waker outside the lock either way.
//! 4. If the job is dropped without running (the runtime shut down), [`Drain`]'s drop ends the
//!    drain the same way, so a handle never stages into a queue nobody drains.
//!
//! **Invariant**: a queue that is not draining holds no staged bytes. Bytes accepted and then
//! lost to a failed write are reported as that write's error, as tokio reports an in-flight
//! write's error on the next operation.

use std::cmp;
use std::io::{self, IoSlice, Write};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Waker};

use crate::buf::Buf;

/// The staging bytes of one handle (module doc), shared by the handle and its write job.
#[derive(Debug, Default)]
pub(crate) struct WriteBehind {
    staging: Mutex<Staging>,
}

/// What [`WriteBehind`]'s lock guards. Written by the handle (stage, start) and the job
/// (drain); no user code runs under the lock.
#[derive(Debug, Default)]
struct Staging {
    /// Bytes accepted while the job runs, in write order.
    bytes: Vec<u8>,
    /// A write job is in flight and will take `bytes` before it ends. Set by `start` (when no
    /// job runs), cleared by the job or by `Drain`'s drop.
    ///
    /// # Invariant
    ///
    /// `!draining` implies `bytes.is_empty()` (module doc).
    draining: bool,
    /// The handle's task waiting for room in `bytes`; woken when the job takes them or ends.
    room: Option<Waker>,
}

/// The answer of [`WriteBehind::stage`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Staged {
    /// This many bytes were staged; the job will write them.
    Accepted(usize),
    /// The staging bytes are full; the task is woken when the job takes them.
    Full,
    /// No drain is running (the job is finishing or finished): wait for the job's result.
    Ended,
}

/// The bytes of a `poll_write` or `poll_write_vectored` call.
#[derive(Clone, Copy)]
pub(crate) enum Source<'a> {
    Slice(&'a [u8]),
    Slices(&'a [IoSlice<'a>]),
}

impl Source<'_> {
    /// Whether the call carries no bytes at all.
    pub(crate) fn is_empty(&self) -> bool {
        match self {
            Source::Slice(src) => src.is_empty(),
            Source::Slices(srcs) => srcs.iter().all(|src| src.is_empty()),
        }
    }

    /// Copies up to `max` bytes into the empty `buf`; returns how many.
    pub(crate) fn copy_into(&self, buf: &mut Buf, max: usize) -> usize {
        match self {
            Source::Slice(src) => buf.copy_from(src, max),
            Source::Slices(srcs) => buf.copy_from_slices(srcs, max),
        }
    }

    /// Appends up to `max` bytes to `bytes`; returns how many.
    fn append_to(&self, bytes: &mut Vec<u8>, max: usize) -> usize {
        match self {
            Source::Slice(src) => {
                let n = cmp::min(src.len(), max);
                bytes.extend_from_slice(&src[..n]);
                n
            }
            Source::Slices(srcs) => {
                let mut left = max;
                for src in srcs.iter() {
                    let n = cmp::min(src.len(), left);
                    bytes.extend_from_slice(&src[..n]);
                    left -= n;
                    if left == 0 {
                        break;
                    }
                }
                max - left
            }
        }
    }
}

impl WriteBehind {
    /// A queue with no drain running.
    pub(crate) fn new() -> Arc<WriteBehind> {
        Arc::new(WriteBehind::default())
    }

    fn lock(&self) -> MutexGuard<'_, Staging> {
        // Nothing under the lock panics; a poisoned lock still holds consistent state.
        self.staging.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Step 1: marks the queue draining for a write job about to be spawned, which must own
    /// the returned [`Drain`]. Called only with no job in flight.
    pub(crate) fn start(self: &Arc<Self>) -> Drain {
        let mut staging = self.lock();
        debug_assert!(
            !staging.draining && staging.bytes.is_empty(),
            "a drain starts only after the previous one ended"
        );
        staging.draining = true;
        Drain {
            queue: Arc::clone(self),
        }
    }

    /// Step 2: stages up to `max_staged - staged` bytes of `src` for the running job.
    pub(crate) fn stage(&self, src: Source<'_>, max_staged: usize, cx: &Context<'_>) -> Staged {
        let mut staging = self.lock();
        if !staging.draining {
            return Staged::Ended;
        }
        let room = max_staged.saturating_sub(staging.bytes.len());
        if room == 0 {
            match &mut staging.room {
                Some(waker) if waker.will_wake(cx.waker()) => {}
                slot => *slot = Some(cx.waker().clone()),
            }
            return Staged::Full;
        }
        Staged::Accepted(src.append_to(&mut staging.bytes, room))
    }
}

/// The job's end of a [`WriteBehind`]: it must write every staged byte before it ends
/// ([`Drain::write_staged`]), and ends the drain if dropped unrun.
#[derive(Debug)]
pub(crate) struct Drain {
    queue: Arc<WriteBehind>,
}

impl Drain {
    /// Step 3, on the pool thread: given the result of writing the job's first buffer, writes
    /// the staged bytes to `writer` through `buf`, a swap at a time, until none are left or a
    /// write fails; returns the first error. Blocks.
    pub(crate) fn write_staged<W: Write>(
        self,
        mut result: io::Result<()>,
        buf: &mut Buf,
        writer: &mut W,
    ) -> io::Result<()> {
        loop {
            let mut staging = self.queue.lock();
            let room = staging.room.take();
            let done = result.is_err() || staging.bytes.is_empty();
            if done {
                staging.draining = false;
                staging.bytes.clear();
                // Bytes a failed write (or the seek before it) left behind must not come
                // back as read-ahead.
                buf.clear();
            } else {
                let taken = std::mem::take(&mut staging.bytes);
                staging.bytes = buf.swap_in(taken);
            }
            drop(staging);
            if let Some(room) = room {
                room.wake();
            }
            if done {
                return result;
            }
            result = buf.write_to(writer);
        }
    }
}

impl Drop for Drain {
    /// Step 4: ends the drain if the job never ran (or stopped early); a no-op after
    /// `write_staged` returned.
    fn drop(&mut self) {
        let mut staging = self.queue.lock();
        staging.draining = false;
        staging.bytes.clear();
        let room = staging.room.take();
        drop(staging);
        if let Some(room) = room {
            room.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::task::noop_waker_ref;

    fn cx() -> Context<'static> {
        Context::from_waker(noop_waker_ref())
    }

    #[test]
    fn staging_is_refused_without_a_drain() {
        let queue = WriteBehind::new();
        assert_eq!(queue.stage(Source::Slice(b"x"), 10, &cx()), Staged::Ended);
    }

    #[test]
    fn the_drain_writes_the_first_buffer_then_everything_staged_in_order() {
        let queue = WriteBehind::new();
        let drain = queue.start();
        assert_eq!(
            queue.stage(Source::Slice(b"bb"), 10, &cx()),
            Staged::Accepted(2)
        );
        let slices = [IoSlice::new(b"c"), IoSlice::new(b"dd")];
        assert_eq!(
            queue.stage(Source::Slices(&slices), 10, &cx()),
            Staged::Accepted(3)
        );
        let mut buf = Buf::default();
        let mut out = Vec::new();
        buf.copy_from(b"aa", 10);
        let first = buf.write_to(&mut out);
        drain.write_staged(first, &mut buf, &mut out).unwrap();
        assert_eq!(out, b"aabbcdd");
        assert_eq!(queue.stage(Source::Slice(b"x"), 10, &cx()), Staged::Ended);
    }

    #[test]
    fn staging_stops_at_the_limit_and_resumes_after_the_job_takes_the_bytes() {
        let queue = WriteBehind::new();
        let _drain = queue.start();
        assert_eq!(
            queue.stage(Source::Slice(b"abcdef"), 4, &cx()),
            Staged::Accepted(4)
        );
        assert_eq!(queue.stage(Source::Slice(b"ef"), 4, &cx()), Staged::Full);
    }

    #[test]
    fn a_failed_write_discards_the_staged_bytes_and_ends_the_drain() {
        let queue = WriteBehind::new();
        let drain = queue.start();
        queue.stage(Source::Slice(b"lost"), 10, &cx());
        let mut out = Vec::new();
        let failed = Err(io::Error::other("disk full"));
        let result = drain.write_staged(failed, &mut Buf::default(), &mut out);
        assert_eq!(result.unwrap_err().to_string(), "disk full");
        assert!(out.is_empty());
        assert_eq!(queue.stage(Source::Slice(b"x"), 10, &cx()), Staged::Ended);
    }

    #[test]
    fn a_drain_dropped_unrun_ends_the_drain() {
        let queue = WriteBehind::new();
        let drain = queue.start();
        queue.stage(Source::Slice(b"x"), 10, &cx());
        drop(drain);
        assert_eq!(queue.stage(Source::Slice(b"x"), 10, &cx()), Staged::Ended);
        // A new drain may start: the old one left nothing staged.
        let _again = queue.start();
    }
}
