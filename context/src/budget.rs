//! The coop budget (tokio's `coop`): each poll of a G may take at most [`DEFAULT_BUDGET`] ready
//! results from gort's resources (socket operations, sleeps, join handles...). Once it is spent,
//! they answer `Pending` (after waking the task, so it is queued again), and a G looping over
//! always-ready resources yields its P to the others instead of holding it forever, which on
//! one P would starve every other G.
//!
//! A resource calls [`poll_proceed`] before it does its work. If that is `Ready`, the returned
//! [`Progress`] has taken one unit; the resource calls [`Progress::made`] when it returns `Ready`,
//! and the unit is refunded if it returns `Pending` anyway (dropping the guard), so a G that
//! waits never pays. Outside [`with_budget`] (a plain thread, `futures::executor::block_on`)
//! there is no limit.

use std::cell::Cell;
use std::task::{Context, Poll};

/// Ready results per poll of a G (tokio's value).
pub const DEFAULT_BUDGET: u8 = 128;

thread_local! {
    /// The budget left in the current poll; `None` outside one (unlimited).
    static BUDGET: Cell<Option<u8>> = const { Cell::new(None) };
}

/// Runs `poll` (one poll of a G) with `budget` units, restoring the previous budget after.
pub fn with_budget<R>(budget: u8, poll: impl FnOnce() -> R) -> R {
    struct Restore(Option<u8>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = BUDGET.try_with(|cell| cell.set(self.0));
        }
    }
    let _restore = Restore(BUDGET.with(|cell| cell.replace(Some(budget))));
    poll()
}

/// Runs `poll` with no budget limit (tokio's `unconstrained`), restoring the previous budget
/// after: what `poll` takes is not charged to the enclosing poll either.
pub fn with_unconstrained<R>(poll: impl FnOnce() -> R) -> R {
    struct Restore(Option<u8>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = BUDGET.try_with(|cell| cell.set(self.0));
        }
    }
    let previous = BUDGET.try_with(|cell| cell.replace(None)).unwrap_or(None);
    let _restore = Restore(previous);
    poll()
}

/// Whether a budget is in force on this thread (inside a poll of a G or of a `block_on` future,
/// spent or not): what tokio's `blocking_*` calls refuse to block in.
pub fn in_budgeted_poll() -> bool {
    BUDGET
        .try_with(|cell| cell.get().is_some())
        .unwrap_or(false)
}

/// Whether the current poll may still take a unit: false only inside a poll whose budget is
/// spent (outside one, or with the thread-local gone, there is no limit).
pub fn has_budget_remaining() -> bool {
    BUDGET
        .try_with(|cell| cell.get() != Some(0))
        .unwrap_or(true)
}

/// Takes one unit of the current poll's budget: `Ready` with a guard to confirm or refund it,
/// or, with the budget spent, `Pending` after waking `cx`'s task so that it runs again once the
/// other queued tasks had their turn.
pub fn poll_proceed(cx: &mut Context<'_>) -> Poll<Progress> {
    let taken = BUDGET
        .try_with(|cell| match cell.get() {
            None => Some(false),
            Some(0) => None,
            Some(left) => {
                cell.set(Some(left - 1));
                Some(true)
            }
        })
        .unwrap_or(Some(false));
    match taken {
        Some(took) => Poll::Ready(Progress { took }),
        None => {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

/// One unit of budget taken by [`poll_proceed`]; refunded when dropped unless [`Progress::made`]
/// was called.
#[derive(Debug)]
#[must_use = "a unit not confirmed with `made` is refunded when dropped"]
pub struct Progress {
    /// Whether a unit was taken (false when the budget is unlimited).
    took: bool,
}

impl Progress {
    /// The resource is returning `Ready`: the unit stays spent.
    pub fn made(mut self) {
        self.took = false;
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if self.took {
            let _ = BUDGET.try_with(|cell| {
                if let Some(left) = cell.get() {
                    cell.set(Some(left.saturating_add(1)));
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::{Wake, Waker};

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn the_budget_runs_out_after_its_units_and_wakes_the_task() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&count));
        let mut cx = Context::from_waker(&waker);
        with_budget(3, || {
            for _ in 0..3 {
                match poll_proceed(&mut cx) {
                    Poll::Ready(progress) => progress.made(),
                    Poll::Pending => panic!("budget ran out early"),
                }
            }
            assert!(poll_proceed(&mut cx).is_pending());
            assert_eq!(
                count.0.load(Ordering::SeqCst),
                1,
                "the task was not re-queued"
            );
        });
        // Outside a poll: unlimited.
        for _ in 0..1000 {
            assert!(poll_proceed(&mut cx).is_ready());
        }
    }

    #[test]
    fn unconstrained_lifts_the_limit_and_charges_nothing_outside() {
        let waker = Waker::from(Arc::new(Count(AtomicUsize::new(0))));
        let mut cx = Context::from_waker(&waker);
        let take_one = |cx: &mut Context<'_>| match poll_proceed(cx) {
            Poll::Ready(progress) => progress.made(),
            Poll::Pending => panic!("the budget ran out early"),
        };
        with_budget(2, || {
            take_one(&mut cx);
            with_unconstrained(|| {
                assert!(has_budget_remaining());
                for _ in 0..1000 {
                    assert!(poll_proceed(&mut cx).is_ready(), "unconstrained ran out");
                }
            });
            // One unit left, as before the unconstrained section.
            assert!(has_budget_remaining());
            take_one(&mut cx);
            assert!(!has_budget_remaining());
            assert!(poll_proceed(&mut cx).is_pending());
        });
        assert!(has_budget_remaining(), "no limit outside a poll");
    }

    #[test]
    fn a_unit_not_confirmed_is_refunded() {
        let waker = Waker::from(Arc::new(Count(AtomicUsize::new(0))));
        let mut cx = Context::from_waker(&waker);
        with_budget(1, || {
            for _ in 0..10 {
                // The resource turned out not ready: the guard is dropped, the unit comes back.
                let Poll::Ready(progress) = poll_proceed(&mut cx) else {
                    panic!("a refunded budget ran out");
                };
                drop(progress);
            }
        });
    }
}
