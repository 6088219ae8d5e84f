//! Cooperative scheduling: the coop budget as a public API (tokio's `task::coop`).
//!
//! A G polled by the runtime gets a budget of 128 units per poll (`gort_context`), and so does
//! `block_on`'s main future, as in tokio. Every gort resource that returns a ready result (a
//! socket read, a due sleep, a join handle, a channel operation) takes a unit first; once the
//! budget is spent, they answer `Pending` after waking the G, which then goes behind the other
//! runnable Gs of its P. A G looping over resources that are always ready thus yields instead
//! of holding its thread.
//!
//! This module lets other code take part: [`poll_proceed`] is what a resource calls before
//! its work (tokio-util and tokio-stream call it), [`consume_budget`] takes a unit from async
//! code, [`has_budget_remaining`] asks without taking, [`cooperative`] makes any future take a
//! unit per result, and [`unconstrained`] opts a future out of the limit altogether.
//!
//! Outside the runtime's polls (a plain thread, another executor) there is no limit:
//! everything proceeds.

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use pin_project_lite::pin_project;

/// What [`poll_proceed`] returns: one unit of the budget, given back when this is dropped
/// unless [`RestoreOnPending::made_progress`] was called. Bound to its thread (`!Send`), as the
/// budget is.
#[must_use = "the unit is given back when this is dropped unless `made_progress` is called"]
pub struct RestoreOnPending {
    /// `None` once `made_progress` kept the unit spent.
    progress: Cell<Option<gort_context::Progress>>,
    _not_send: PhantomData<*mut ()>,
}

impl RestoreOnPending {
    /// The resource made progress (it is returning `Ready`): the unit stays spent.
    pub fn made_progress(&self) {
        if let Some(progress) = self.progress.take() {
            progress.made();
        }
    }
}

impl fmt::Debug for RestoreOnPending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RestoreOnPending").finish_non_exhaustive()
    }
}

/// Takes one unit of the current task's budget. `Ready` with a [`RestoreOnPending`] to confirm
/// (`made_progress`) or give back (drop) the unit; or, with the budget spent, `Pending` after
/// waking `cx`'s task, so that it runs again once the other runnable tasks had their turn.
///
/// Call it before doing the work a `poll` may return `Ready` for, and `made_progress` when it
/// does.
pub fn poll_proceed(cx: &mut Context<'_>) -> Poll<RestoreOnPending> {
    gort_context::poll_proceed(cx).map(|progress| RestoreOnPending {
        progress: Cell::new(Some(progress)),
        _not_send: PhantomData,
    })
}

/// Whether the current task may still take a unit (without taking one). Always true outside the
/// runtime's polls and inside [`unconstrained`].
pub fn has_budget_remaining() -> bool {
    gort_context::has_budget_remaining()
}

/// Takes one unit of the budget, yielding to the scheduler first if it is spent: for a loop of
/// async code that makes progress without touching any resource that would.
pub async fn consume_budget() {
    std::future::poll_fn(|cx| poll_proceed(cx).map(|restore| restore.made_progress())).await
}

pin_project! {
    /// The future of [`unconstrained`].
    #[must_use = "futures do nothing unless polled"]
    pub struct Unconstrained<F> {
        #[pin]
        inner: F,
    }
}

impl<F: Future> Future for Unconstrained<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let inner = self.project().inner;
        gort_context::with_unconstrained(|| inner.poll(cx))
    }
}

impl<F> fmt::Debug for Unconstrained<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Unconstrained").finish_non_exhaustive()
    }
}

/// Runs `inner` without the budget: it is never made to yield because the budget ran out, and
/// what it takes is not charged to the enclosing task. Such a future can starve the other tasks
/// of its thread; use it for a loop that is known to end soon.
pub fn unconstrained<F>(inner: F) -> Unconstrained<F> {
    Unconstrained { inner }
}

pin_project! {
    /// The future of [`cooperative`].
    #[must_use = "futures do nothing unless polled"]
    #[derive(Debug)]
    pub struct Coop<F: Future> {
        #[pin]
        fut: F,
    }
}

impl<F: Future> Future for Coop<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let restore = ready!(poll_proceed(cx));
        let output = ready!(self.project().fut.poll(cx));
        restore.made_progress();
        Poll::Ready(output)
    }
}

/// Makes `fut` take part in the budget, as gort's own resources do: each poll takes a unit
/// first (yielding if it is spent), which is kept only when `fut` completes.
pub fn cooperative<F: Future>(fut: F) -> Coop<F> {
    Coop { fut }
}
