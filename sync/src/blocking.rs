//! The thread-blocking variants of tokio's channels (`blocking_send`, `blocking_recv`, ...):
//! they wait by parking the calling thread, and refuse to run where that thread drives tasks,
//! as tokio's do.
//!
//! # Knowing whether the thread drives tasks
//!
//! The crate cannot ask the executor (it never imports it). What `gort-context` does know is
//! whether a coop budget is in force: the executor sets one around every poll of a G and of a
//! `block_on` future ([`gort_context::with_budget`]), and nowhere else, and tells
//! ([`gort_context::in_budgeted_poll`]). So "inside a budget" is
//! "inside a poll that drives tasks", the case tokio refuses.
//!
//! The closure of a `block_in_place` runs inside its G's poll, but without the budget (the
//! executor stops it there, as tokio does), so a blocking channel call there blocks, as in
//! tokio. One case differs: inside `task::unconstrained` there is no budget either, so a
//! blocking call there blocks the thread where tokio would panic.

use std::future::Future;

use gort_context::in_budgeted_poll;

/// Runs `future` to completion on this thread, parked while it waits. `what` names the call in
/// the panic when this thread drives tasks (module doc).
#[track_caller]
pub(crate) fn block_on<F: Future>(what: &str, future: F) -> F::Output {
    if in_budgeted_poll() {
        refuse(what);
    }
    // A thread asleep on a channel must not hold off a collection (`gort_gc::safepoint`).
    gort_gc::unpinned(|| futures::executor::block_on(future))
}

/// The panic of a blocking call made where the thread drives tasks.
#[cold]
#[track_caller]
fn refuse(what: &str) -> ! {
    panic!(
        "Cannot block the current thread from within a runtime. `{what}` was called inside a \
         task (or a `block_on` future), whose thread must go on running tasks; `.await` the \
         async version instead, or call it from a plain thread or `spawn_blocking`."
    )
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::task::{Context, Poll, Waker};

    #[test]
    fn a_budget_in_force_is_seen_and_left_whole() {
        assert!(!in_budgeted_poll(), "a plain test thread has no budget");
        gort_context::with_budget(5, || {
            assert!(in_budgeted_poll());
            // Asking took no unit: five ready results, then the sixth is refused.
            let mut cx = Context::from_waker(Waker::noop());
            for _ in 0..5 {
                let Poll::Ready(progress) = gort_context::poll_proceed(&mut cx) else {
                    panic!("the probe kept a unit");
                };
                progress.made();
            }
            assert!(gort_context::poll_proceed(&mut cx).is_pending());
            assert!(in_budgeted_poll(), "a spent budget is still a budget");
        });
    }

    #[test]
    #[should_panic(expected = "Cannot block the current thread from within a runtime")]
    fn blocking_inside_a_budgeted_poll_panics() {
        gort_context::with_budget(gort_context::DEFAULT_BUDGET, || {
            block_on("blocking_recv", std::future::ready(()));
        });
    }
}
