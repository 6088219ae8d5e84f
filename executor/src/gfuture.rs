//! The future every G actually runs: the user's future wrapped with the G's bookkeeping.
//!
//! Around each poll of the user's future it
//! 1. returns `Cancelled` instead of polling once `abort` has been called (the user's future is
//!    then dropped by async-task, before the `JoinHandle` sees the result);
//! 2. keeps the G record's state and the thread's "current G" up to date;
//! 3. catches a panic and turns it into `JoinError::Panic`, so the M and the runtime go on;
//! 4. on the first `Pending`, registers the G in the parked-task registry (`registry.rs`);
//! 5. relies on the M's pin for the GC arena (`gort_gc::safepoint`, `M::hold_gc_pin`): the
//!    world stops only between polls, and every channel operation inside the poll finds the
//!    thread already pinned. The blocking pool's jobs are GFutures too and run unpinned, as
//!    blocking code must (a collection would otherwise wait for the job to end);
//! 6. polls the user's future, for a G with `go!` captures, with the G's counted waker
//!    (`gwaker.rs`), which the arena's leak pass reads; and runs a collection an allocation asked
//!    for (it unpins the thread while it collects);
//!
//! and when dropped (completion, abort, or shutdown) it deregisters the G and counts it dead.
//!
//! # Destructors that panic
//!
//! async-task drops a task's future inside its own abort-on-panic guard, so a user future whose
//! `Drop` panicked (a hand-written future that completed, or any future on abort or shutdown)
//! aborted the process. The user's future is therefore dropped here, by this wrapper, under
//! `catch_unwind`, and inside the G (its destructors may ask `task::id()`), as tokio does:
//!
//! - right after the poll that completed it: a panic there becomes the task's
//!   `JoinError::Panic`, as when an `async` block's captured value panics on drop inside its
//!   last poll;
//! - while the panic of a poll unwinds (`DropOnUnwind`), so destructors see
//!   `std::thread::panicking()`; a destructor panicking then is reported on stderr, and the
//!   poll's panic stays the result;
//! - at the first poll after an abort (`drop_aborted`): the result is `Cancelled`, or the
//!   destructor's panic as `JoinError::Panic`. Shutdown and a `LocalSet`'s drop drop the
//!   futures of queued Gs this way too (`shared::cancel_now`);
//! - in this wrapper's own `Drop` otherwise (a G dropped unscheduled: a spawn refused at
//!   shutdown, a task whose last reference went): nobody can take the panic, which is reported
//!   on stderr; the handle reports the task cancelled.
//!
//! The output, once made, is wrapped in a `TaskOutput` (`task_output.rs`), which gives the same
//! care to its drop when no handle takes it.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use crate::context;
use crate::g::{GState, WaitReason, G};
use crate::gwaker;
use crate::join::JoinError;
use crate::task_output::TaskOutput;

pin_project! {
    /// The wrapper around a G's future. Its output is what the `JoinHandle` yields.
    pub(crate) struct GFuture<F> {
        // `None` once dropped (module doc, "Destructors that panic").
        #[pin]
        inner: Option<F>,
        // The G record this future belongs to (see `GRecordRef`).
        g: GRecordRef,
        // Whether the G's waker is in the parked-task registry.
        registered: bool,
    }

    impl<F> PinnedDrop for GFuture<F> {
        fn drop(this: Pin<&mut Self>) {
            let mut this = this.project();
            let g = this.g.get();
            if this.inner.is_some() {
                let mut inner = this.inner.as_mut();
                // Inside the G, as its polls are: its destructors may ask `task::id()`.
                let dropped = context::with_g_pointer(g, || {
                    catch_unwind(AssertUnwindSafe(|| inner.set(None)))
                });
                if let Err(payload) = dropped {
                    report_drop_panic(g, &*payload);
                }
            }
            if *this.registered {
                g.runtime().registry.deregister(g);
            }
            g.set_state(GState::Dead);
            context::count_goroutines(g.runtime(), -1);
        }
    }
}

/// A pointer to the G record of the task that owns this future.
///
/// # Invariant
///
/// async-task builds the future from a reference to the metadata *inside* the task allocation
/// (`Builder::spawn` passes `&M` to the constructor closure), and drops the future before it
/// drops the metadata. So the record outlives the future and never moves.
struct GRecordRef(NonNull<G>);

// SAFETY: `G` is `Send + Sync`; the pointer is only turned into `&G` (see the invariant).
unsafe impl Send for GRecordRef {}
// SAFETY: as above.
unsafe impl Sync for GRecordRef {}

impl GRecordRef {
    fn get(&self) -> &G {
        // SAFETY: see the invariant on `GRecordRef`.
        unsafe { self.0.as_ref() }
    }
}

impl<F: Future> GFuture<F> {
    /// Wraps `inner` for the G whose record is `g` (the reference async-task passes to the
    /// future constructor).
    pub(crate) fn new(inner: F, g: &G) -> GFuture<F> {
        GFuture {
            inner: Some(inner),
            g: GRecordRef(NonNull::from(g)),
            registered: false,
        }
    }
}

impl<F: Future> Future for GFuture<F> {
    type Output = TaskOutput<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let record = self.g.0;
        let polled = self.poll_result(cx);
        // SAFETY: the record outlives this future (`GRecordRef`'s invariant), which is alive.
        let g = unsafe { record.as_ref() };
        let goid = g.id();
        if polled.is_ready() {
            // The task is dead once this returns: freed by its home P (`dead_tasks.rs`).
            crate::dead_tasks::finished(g, cx.waker());
        }
        polled.map(|result| TaskOutput::new(result, goid))
    }
}

impl<F: Future> GFuture<F> {
    /// [`Future::poll`], before the result is wrapped for the task (`task_output.rs`).
    fn poll_result(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<F::Output, JoinError>> {
        let mut this = self.project();
        let g = this.g.get();
        if g.is_aborted() {
            return Poll::Ready(drop_aborted(this.inner, g));
        }
        // Not pinned here: an M runs its Gs under its own pin (`M::hold_gc_pin`), and the
        // blocking pool's jobs (also GFutures) must not be, or a collection would wait for
        // blocking work to end.
        // Only a G with `go!` captures can be found leaked, so only it pays for counting its
        // wakers (`gwaker.rs`); any other is a root of the leak pass, which needs nothing from it.
        let counted = g.counted();
        if let Some(counting) = counted {
            counting.set_inner_waker(cx.waker());
            counting.notified.store(false, Ordering::Relaxed);
        }
        g.set_state(GState::Running);
        g.set_wait_reason(WaitReason::Unknown);
        let mut inner = this.inner.as_mut();
        if inner.is_none() {
            unreachable!("a G polled after it completed");
        }
        let counted_waker = counted.map(|_| gwaker::borrowed(g));
        let waker = counted_waker.as_deref().unwrap_or(cx.waker());
        let mut poll_cx = Context::from_waker(waker);
        let polled = context::with_current_g(g, waker, || {
            let polled = catch_unwind(AssertUnwindSafe(|| {
                // A panicking poll drops the future while the panic unwinds (module doc).
                let guard = DropOnUnwind {
                    inner: &mut inner,
                    g,
                };
                let future = guard.inner.as_mut().as_pin_mut();
                let future = future.unwrap_or_else(|| unreachable!("checked above"));
                // Each poll gets a fresh coop budget (`gort_context`).
                let polled = gort_context::with_budget(gort_context::DEFAULT_BUDGET, || {
                    future.poll(&mut poll_cx)
                });
                std::mem::forget(guard);
                polled
            }));
            match polled {
                // Dropped now, where a panic can still be the task's result (module doc), and
                // still inside the G (its destructors may ask `task::id()`).
                Ok(Poll::Ready(output)) => {
                    catch_unwind(AssertUnwindSafe(|| inner.set(None))).map(|()| Poll::Ready(output))
                }
                polled => polled,
            }
        });
        let result = match polled {
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Ok(Poll::Pending) => {
                g.set_state(GState::Waiting);
                if !*this.registered {
                    // For a counted G, a counted waker: the leak pass subtracts this one
                    // (`task_source.rs`).
                    g.runtime().registry.register(g, waker);
                    *this.registered = true;
                    // The abort protocol (registry.rs): an abort that ran before we registered
                    // found nothing to wake, so we must see its flag now.
                    if g.is_aborted() {
                        return Poll::Ready(drop_aborted(this.inner, g));
                    }
                }
                Poll::Pending
            }
            Err(payload) => Poll::Ready(Err(JoinError::panic(g, payload))),
        };
        gort_gc::collect_if_wanted();
        result
    }
}

/// Drops the future of G `g`, which was aborted, inside the G (its destructors may ask
/// `task::id()`): the G's result is `Cancelled`, or `Panic` if a destructor panicked, as in
/// tokio (module doc).
fn drop_aborted<F>(mut inner: Pin<&mut Option<F>>, g: &G) -> Result<F::Output, JoinError>
where
    F: Future,
{
    let dropped = context::with_g_pointer(g, || catch_unwind(AssertUnwindSafe(|| inner.set(None))));
    match dropped {
        Ok(()) => Err(JoinError::cancelled(g)),
        Err(payload) => Err(JoinError::panic(g, payload)),
    }
}

/// Drops a G's future if its poll unwinds (forgotten when the poll returns): the future goes
/// while the panic is in flight, as tokio's does, so its destructors see
/// `std::thread::panicking()`. A destructor that panics too is caught and reported (a second
/// panic escaping a destructor during unwinding would abort the process); the poll's panic
/// stays the task's result.
struct DropOnUnwind<'a, 'f, F> {
    inner: &'a mut Pin<&'f mut Option<F>>,
    g: &'a G,
}

impl<F> Drop for DropOnUnwind<'_, '_, F> {
    fn drop(&mut self) {
        let inner = &mut *self.inner;
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| inner.set(None))) {
            report_drop_panic(self.g, &*payload);
        }
    }
}

/// A G's future panicked while being dropped on abort or shutdown, where the panic has nowhere
/// to go (module doc): says so on stderr.
#[cold]
fn report_drop_panic(g: &G, payload: &(dyn std::any::Any + Send)) {
    let message = crate::join::panic_message(payload).unwrap_or("a non-string payload");
    eprintln!(
        "gort: the future of {} panicked while it was dropped ({message}); the runtime goes on",
        g.describe()
    );
}
