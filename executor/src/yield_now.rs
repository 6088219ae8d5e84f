//! `yield_now`: give the thread to the other runnable Gs once.
//!
//! A yield also lets IO in: a future that spins on `yield_now` until a socket becomes ready
//! (`while !ready { yield_now().await }`, common in tests written for tokio) would otherwise
//! never see it when it is `block_on`'s main future with nothing else queued, since the M
//! re-polls main without reaching the netpoller. So a yield leaves a note on its thread, and the
//! M that finds only main to run polls the netpoller once, without blocking, before it does
//! (`worker/mod.rs`, step 3). tokio does the same: it defers yielded wakes until after a driver
//! poll. Gs that yield among other Gs are unaffected, and cost no syscall.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Yields once to the scheduler. The G goes to the *tail* of its P's run queue (not `runnext`):
/// async-task reports a wake during the G's own poll as `woken_while_running`, and the schedule
/// function queues such Gs behind the others (Go's `goyield`).
pub async fn yield_now() {
    YieldNow { yielded: false }.await
}

/// The future behind [`yield_now`].
struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        let _ = YIELDED.try_with(|yielded| yielded.set(true));
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

thread_local! {
    /// Whether a `yield_now` on this thread yielded since the scheduler last looked (module doc).
    static YIELDED: Cell<bool> = const { Cell::new(false) };
}

/// Takes this thread's yield note: whether a `yield_now` yielded since the last call.
pub(crate) fn take_yield_note() -> bool {
    YIELDED
        .try_with(|yielded| yielded.replace(false))
        .unwrap_or(false)
}
