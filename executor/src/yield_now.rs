//! `yield_now`: give the thread to the other runnable Gs once.

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
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
