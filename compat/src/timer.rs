//! `GortTimer`: hyper's `rt::Timer` on gort's timers, so that hyper's timeouts are enforced.
//!
//! hyper times nothing by itself. Its HTTP/1 server's `header_read_timeout` (30 s by default),
//! HTTP/2's keep-alive pings and the like all go through the `rt::Timer` they were handed, and
//! without one hyper leaves its default timeouts off and panics when a timeout is set
//! explicitly. `GortTimer` answers with `gort::time::Sleep`s, wrapped in [`GortSleep`] because
//! hyper wants its own `rt::Sleep` trait (`Future + Send + Sync`, sealed against downcasts by
//! a private method).
//!
//! # Why `now` is overridden
//!
//! hyper computes a deadline as `timer.now() + timeout` and hands it to `sleep_until`. The
//! default `now` is `std::time::Instant::now()`, but gort's deadlines are in the runtime's clock,
//! which a test may have paused or advanced (`gort::time::pause`). Reading that clock instead
//! keeps hyper's deadlines in the time the timers fire in; with the clock never paused, both are
//! the same reading.
//!
//! # Why `reset` downcasts
//!
//! hyper's default `reset` replaces the sleep with a new one: a fresh allocation and, once
//! polled, a fresh `TimerEntry` in the P's heap, with the old one left as a zombie. gort's
//! `Sleep::reset` re-arms the entry it already has in place. So `reset` downcasts hyper's
//! `Pin<Box<dyn rt::Sleep>>` to a [`GortSleep`] (hyper's `downcast_mut_pin`) and resets that,
//! and replaces only a sleep that some other timer made.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use gort::time::{Instant, Sleep};
use pin_project_lite::pin_project;

/// Times hyper's timeouts with gort's timers (hyper-util's `TokioTimer` for gort). Its `now`
/// reads the runtime's clock, so hyper's deadlines follow a paused test clock, and its `reset`
/// moves a [`GortSleep`] in place instead of allocating a new one (the design notes head
/// `compat/src/timer.rs`).
///
/// A unit struct for the reason [`GortExecutor`](crate::GortExecutor) is one: `gort::time`
/// arms each sleep in the timer set of the thread that first polls it (the P's heap on an M, the
/// default runtime's elsewhere), so there is no handle to carry.
///
/// ```no_run
/// # async fn serve(stream: gort::net::TcpStream) -> hyper::Result<()> {
/// use std::time::Duration;
///
/// use gort_compat::{GortIo, GortTimer};
/// # let service = hyper::service::service_fn(|_request| async {
/// #     Ok::<_, std::convert::Infallible>(hyper::Response::new(String::new()))
/// # });
/// hyper::server::conn::http1::Builder::new()
///     .timer(GortTimer)
///     .header_read_timeout(Duration::from_secs(5))
///     .serve_connection(GortIo::new(stream), service)
///     .await
/// # }
/// ```
#[derive(Clone, Copy, Default, Debug)]
pub struct GortTimer;

pin_project! {
    /// A `gort::time::Sleep` as hyper's `rt::Sleep`: what [`GortTimer`] hands hyper.
    ///
    /// A newtype because hyper's trait is foreign to gort's `Sleep` as well as to this crate's
    /// callers. gort's `Sleep` is `!Unpin` (as tokio's), so this is too and projects to it.
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct GortSleep {
        // The timer; armed in the current thread's timer set on its first poll.
        #[pin]
        inner: Sleep,
    }
}

impl GortTimer {
    /// A timer; the same as `GortTimer` or `GortTimer::default()`, under the name hyper-util's
    /// `TokioTimer::new` uses.
    pub fn new() -> GortTimer {
        GortTimer
    }
}

impl hyper::rt::Timer for GortTimer {
    /// `gort::time::sleep(duration)`, boxed for hyper.
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(GortSleep::new(gort::time::sleep(duration)))
    }

    /// `gort::time::sleep_until(deadline)`, boxed for hyper.
    fn sleep_until(&self, deadline: std::time::Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(GortSleep::new(gort::time::sleep_until(Instant::from_std(
            deadline,
        ))))
    }

    /// The runtime's clock, not `std`'s (module doc, "Why `now` is overridden").
    fn now(&self) -> std::time::Instant {
        Instant::now().into_std()
    }

    /// Resets a [`GortSleep`] in place; replaces any other sleep (module doc, "Why `reset`
    /// downcasts").
    fn reset(&self, sleep: &mut Pin<Box<dyn hyper::rt::Sleep>>, new_deadline: std::time::Instant) {
        match sleep.as_mut().downcast_mut_pin::<GortSleep>() {
            Some(gort_sleep) => gort_sleep.reset(new_deadline),
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

impl GortSleep {
    /// Wraps `inner`.
    pub fn new(inner: Sleep) -> GortSleep {
        GortSleep { inner }
    }

    /// The instant it completes at, in `std`'s type as hyper speaks it.
    pub fn deadline(&self) -> std::time::Instant {
        self.inner.deadline().into_std()
    }

    /// Moves the deadline, earlier or later, making it pending again. An armed sleep is re-armed
    /// at once, so the task that last polled it is woken at the new deadline without polling
    /// again (gort's `Sleep::reset`).
    pub fn reset(self: Pin<&mut Self>, deadline: std::time::Instant) {
        self.project().inner.reset(Instant::from_std(deadline));
    }

    /// The wrapped `gort::time::Sleep`.
    pub fn into_inner(self) -> Sleep {
        self.inner
    }
}

impl Future for GortSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.project().inner.poll(cx)
    }
}

/// hyper's marker: `Send + Sync + Future<Output = ()>`, which gort's `Sleep` already is.
impl hyper::rt::Sleep for GortSleep {}
