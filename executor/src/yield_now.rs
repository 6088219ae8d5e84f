//! `yield_now`: give the thread to the other runnable Gs once.
//!
//! A yield also lets IO in: a future that spins on `yield_now` until a socket becomes ready
//! (`while !ready { yield_now().await }`, common in tests written for tokio) would otherwise
//! never see it when it is `block_on`'s main future with nothing else queued, since the M
//! re-polls main without reaching the netpoller; and Gs that yield while main waits for IO
//! would run round after round before the next scheduled netpoll. So a yield leaves a note on
//! its thread, and the M polls the netpoller once, without blocking, when it finds only main to
//! run, or when every G queued on its P had a turn since its last such poll (`worker/mod.rs`,
//! step 1). tokio does the same: it defers yielded wakes until its driver was polled with only
//! yielded tasks left. A queue of many yielders pays one poll per round of the queue.

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

/// Whether a `yield_now` on this thread yielded since the note was last taken.
pub(crate) fn has_yield_note() -> bool {
    YIELDED.try_with(Cell::get).unwrap_or(false)
}

/// Takes this thread's yield note: whether a `yield_now` yielded since the last call.
pub(crate) fn take_yield_note() -> bool {
    YIELDED
        .try_with(|yielded| yielded.replace(false))
        .unwrap_or(false)
}
