//! `pause`, `resume` and `advance`: the test clock, on the current runtime's [`Clock`].
//!
//! [`Clock`]: crate::Clock

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::context;

/// Freezes the current runtime's clock: `Instant::now()` stands still, and while every task is
/// idle the runtime moves the clock straight to the next timer instead of sleeping
/// (auto-advance).
///
/// # Panics
///
/// If the clock is already paused.
#[track_caller]
pub fn pause() {
    // The driver is taken out of the closure so that a panic (already paused) is reported at
    // the caller's line: `#[track_caller]` does not reach through a closure.
    let driver = context::with_current(|timers| std::sync::Arc::clone(timers.driver()));
    driver.clock.pause();
}

/// Lets the current runtime's clock run again from the time it shows.
///
/// # Panics
///
/// If the clock is not paused.
#[track_caller]
pub fn resume() {
    let driver = context::with_current(|timers| std::sync::Arc::clone(timers.driver()));
    driver.clock.resume();
}

/// Moves the paused clock forward by `duration` at once, runs every timer that is now due, and
/// yields once so that the tasks they woke run before the caller continues.
///
/// # Panics
///
/// If the clock is not paused.
pub async fn advance(duration: Duration) {
    context::with_current(|timers| {
        let driver = timers.driver();
        driver.clock.advance(duration);
        driver.clock_advanced();
    });
    YieldOnce(false).await;
}

/// Returns `Pending` once (waking itself at once), then `Ready`.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
