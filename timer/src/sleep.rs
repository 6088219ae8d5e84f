//! `Sleep`, `sleep` and `sleep_until`: a future that completes at a deadline.
//!
//! A `Sleep` costs nothing until it is first polled: only then does it allocate its
//! [`TimerEntry`] and arm it in the current thread's timer set (the P's heap, `context.rs`).
//! Dropping it cancels the arming without touching the heap beyond a counter (the record
//! becomes a zombie, `entry.rs`); resetting it cancels and re-arms at once in the same set, with
//! the waker it already has, so an owner that does not poll again is still woken at the new
//! deadline (tokio's `Sleep::reset`). The entry is kept across resets, so an `Interval` allocates
//! once.
//!
//! `Sleep` is `!Unpin`, as tokio's is, so code written for tokio (`tokio::pin!(sleep)`,
//! `Box::pin`) means the same here and auto-trait assertions agree. Nothing in it needs a fixed
//! address: the state is the movable [`UnpinnedSleep`], which `Interval` holds directly (so an
//! interval needs no box), and `Sleep` only adds the `PhantomPinned`.

use std::future::Future;
use std::marker::PhantomPinned;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::context;
use crate::entry::TimerEntry;
use crate::instant::Instant;
use crate::timers::{Timers, SHUT_DOWN_MESSAGE};
use pin_project_lite::pin_project;

/// Waits until `duration` has elapsed (clock time; see `time::pause`). `Duration::ZERO`
/// completes on the first poll; `Duration::MAX` waits 30 years instead of overflowing.
pub fn sleep(duration: Duration) -> Sleep {
    Sleep::new(Instant::now().saturating_add(duration))
}

/// Waits until `deadline`. A deadline in the past completes on the first poll.
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::new(deadline)
}

pin_project! {
    /// The future returned by [`sleep`] and [`sleep_until`] (module doc).
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Sleep {
        inner: UnpinnedSleep,
        // tokio's `Sleep` is `!Unpin`; so is this one (module doc).
        #[pin]
        _pinned: PhantomPinned,
    }
}

impl Sleep {
    fn new(deadline: Instant) -> Sleep {
        Sleep {
            inner: UnpinnedSleep::new(deadline),
            _pinned: PhantomPinned,
        }
    }

    /// The instant it completes at.
    pub fn deadline(&self) -> Instant {
        self.inner.deadline()
    }

    /// Whether it has completed.
    pub fn is_elapsed(&self) -> bool {
        self.inner.is_elapsed()
    }

    /// Moves the deadline to `deadline` (earlier or later), making it pending again. If it is
    /// armed, it is re-armed now in the same set, so the task that last polled it is woken at
    /// the new deadline even if it does not poll again first.
    pub fn reset(self: Pin<&mut Self>, deadline: Instant) {
        self.project().inner.reset(deadline);
    }

    /// Polls for completion (what `.await` does; also usable from a hand-written `poll`).
    pub fn poll_elapsed(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.project().inner.poll_elapsed(cx)
    }

    /// Polls without spending the coop budget: `Timeout` uses it once its own future has spent
    /// the budget, so a future that never waits still times out.
    pub(crate) fn poll_unbudgeted(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.project().inner.poll_unbudgeted(cx)
    }
}

/// A [`Sleep`]'s state, which may move: what `Interval` holds.
#[derive(Debug)]
pub(crate) struct UnpinnedSleep {
    deadline: Instant,
    /// Allocated on the first poll that arms, then reused by every reset.
    entry: Option<Arc<TimerEntry>>,
    /// The set the current arming is in, and its generation; `None` when not armed.
    armed: Option<(Arc<Timers>, u64)>,
    /// Whether it completed (fired, or found its deadline passed).
    elapsed: bool,
}

impl UnpinnedSleep {
    pub(crate) fn new(deadline: Instant) -> UnpinnedSleep {
        UnpinnedSleep {
            deadline,
            entry: None,
            armed: None,
            elapsed: false,
        }
    }

    /// The instant it completes at.
    pub(crate) fn deadline(&self) -> Instant {
        self.deadline
    }

    pub(crate) fn is_elapsed(&self) -> bool {
        self.elapsed || self.armed_has_fired()
    }

    /// Moves the deadline to `deadline` (earlier or later), making it pending again. If it is
    /// armed, it is re-armed now in the same set, so the task that last polled it is woken at
    /// the new deadline even if it does not poll again first.
    pub(crate) fn reset(&mut self, deadline: Instant) {
        let this = self;
        this.deadline = deadline;
        this.elapsed = false;
        if let (Some(entry), Some((timers, _))) = (&this.entry, this.armed.take()) {
            timers.cancel(entry);
            // A set that has shut down takes nothing: the sleep stays unarmed, and its next poll
            // arms it where it is polled (or panics, if that runtime is gone too).
            if let Ok(armed) = timers.arm(entry, deadline.into_std()) {
                this.armed = Some((timers, armed.generation));
            }
        }
    }

    /// Polls for completion (what `.await` does; also usable from a hand-written `poll`).
    pub(crate) fn poll_elapsed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        // A completion spends one unit of the G's coop budget (`gort_context`): a loop over
        // sleeps that are always due still yields.
        let progress = std::task::ready!(gort_context::poll_proceed(cx));
        let ready = self.poll_unbudgeted(cx);
        if ready.is_ready() {
            progress.made();
        }
        ready
    }

    /// [`Sleep::poll_elapsed`] without the budget.
    pub(crate) fn poll_unbudgeted(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let this = self;
        if this.elapsed {
            return Poll::Ready(());
        }
        if this.armed.is_some() && this.deadline.into_std() <= context::now() {
            // Reset to a deadline already passed: due now, whether or not the heap has fired
            // it yet (a paused clock fires nothing until the runtime idles).
            if let (Some(entry), Some((timers, generation))) = (&this.entry, this.armed.take()) {
                if !entry.has_fired(generation) {
                    timers.cancel(entry);
                }
            }
            this.elapsed = true;
            return Poll::Ready(());
        }
        if let (Some(entry), Some((timers, generation))) = (&this.entry, &this.armed) {
            // Register, then re-check: a fire between the two finds the new waker.
            if !entry.has_fired(*generation) {
                entry.register(cx.waker());
                if !entry.has_fired(*generation) {
                    if timers.is_shut_down() {
                        // Its runtime dropped the arming: nothing will ever fire it.
                        panic!("{SHUT_DOWN_MESSAGE}");
                    }
                    return Poll::Pending;
                }
            }
            this.armed = None;
            this.elapsed = true;
            return Poll::Ready(());
        }
        if this.deadline.into_std() <= context::now() {
            this.elapsed = true;
            return Poll::Ready(());
        }
        let entry = this
            .entry
            .get_or_insert_with(|| Arc::new(TimerEntry::new()));
        entry.register(cx.waker());
        let deadline = this.deadline.into_std();
        let armed = context::with_current(|timers| {
            let armed = timers.arm(entry, deadline);
            armed.map(|armed| (Arc::clone(timers), armed.generation))
        });
        match armed {
            Ok(armed) => this.armed = Some(armed),
            Err(shut_down) => panic!("{shut_down}"),
        }
        Poll::Pending
    }

    fn armed_has_fired(&self) -> bool {
        match (&self.entry, &self.armed) {
            (Some(entry), Some((_, generation))) => entry.has_fired(*generation),
            _ => false,
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.poll_elapsed(cx)
    }
}

impl Drop for UnpinnedSleep {
    /// Cancels a pending arming (its heap record becomes a zombie) and drops the waker, which
    /// would otherwise keep the owner's task allocated until the zombie is cleaned.
    fn drop(&mut self) {
        if let (Some(entry), Some((timers, generation))) = (&self.entry, &self.armed) {
            if !entry.has_fired(*generation) {
                timers.cancel(entry);
            }
            entry.forget_waker();
        }
    }
}
