//! `after(d)`: Go's `time.After`, a one-shot that delivers the time it fired.
//!
//! Go returns a channel; until gort's channels exist (issue 6) this is a future yielding the
//! clock time at which it completed, which is what receiving from Go's channel gives.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::instant::Instant;
use crate::sleep::{sleep, Sleep};

/// Completes after `duration` with the clock time it completed at (Go's `<-time.After(d)`).
pub fn after(duration: Duration) -> After {
    After {
        sleep: sleep(duration),
    }
}

/// The one-shot returned by [`after`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct After {
    sleep: Sleep,
}

impl Future for After {
    type Output = Instant;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Instant> {
        let this = self.get_mut();
        Pin::new(&mut this.sleep).poll(cx).map(|()| Instant::now())
    }
}
