//! `Timeout`, `timeout` and `timeout_at`: a future with a deadline.
//!
//! The inner future is polled first on every poll, so a future that is ready returns its value
//! even if the deadline has also passed (tokio does the same), and a `timeout` over a ready
//! future never arms a timer at all.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;

use crate::error::Elapsed;
use crate::instant::Instant;
use crate::sleep::{sleep, sleep_until, Sleep};

/// Runs `future` for at most `duration`: `Ok(output)` if it completes in time, `Err(Elapsed)`
/// otherwise (the future is then dropped with the `Timeout`).
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    Timeout {
        value: future,
        delay: sleep(duration),
    }
}

/// [`timeout`] with an absolute deadline.
pub fn timeout_at<F: Future>(deadline: Instant, future: F) -> Timeout<F> {
    Timeout {
        value: future,
        delay: sleep_until(deadline),
    }
}

pin_project! {
    /// The future returned by [`timeout`] and [`timeout_at`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Timeout<F> {
        #[pin]
        value: F,
        #[pin]
        delay: Sleep,
    }
}

impl<F> Timeout<F> {
    /// The inner future.
    pub fn get_ref(&self) -> &F {
        &self.value
    }

    /// The inner future, mutably.
    pub fn get_mut(&mut self) -> &mut F {
        &mut self.value
    }

    /// The inner future, without its deadline.
    pub fn into_inner(self) -> F {
        self.value
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let had_budget = gort_context::has_budget_remaining();
        if let Poll::Ready(output) = this.value.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        // A future that spent the whole budget without waiting (it only ever made progress)
        // would otherwise keep the deadline from being seen: the budget it spent is the
        // deadline's too. tokio checks the deadline unbudgeted then, and so does this.
        let delay = if had_budget && !gort_context::has_budget_remaining() {
            this.delay.poll_unbudgeted(cx)
        } else {
            this.delay.poll_elapsed(cx)
        };
        delay.map(|()| Err(Elapsed::new()))
    }
}
