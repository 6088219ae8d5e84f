//! `Interval`, `interval` and `interval_at`: ticks at a fixed period (tokio's semantics).
//!
//! The first tick completes at the start instant (at once for [`interval`]). When a tick is
//! taken more than 5 ms late, [`MissedTickBehavior`] decides when the next one is due. One
//! [`Sleep`] is reset from tick to tick, so an interval allocates its timer entry once.

use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::instant::Instant;
use crate::sleep::UnpinnedSleep;

/// How late a tick may be before it counts as missed (tokio's threshold).
const MISSED_AFTER: Duration = Duration::from_millis(5);

/// An interval whose first tick is now, then every `period`.
///
/// # Panics
///
/// If `period` is zero (a zero period would tick in a busy loop).
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    assert!(!period.is_zero(), "`period` must be non-zero.");
    interval_at(Instant::now(), period)
}

/// An interval whose first tick is at `start`, then every `period`.
///
/// # Panics
///
/// If `period` is zero.
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(!period.is_zero(), "`period` must be non-zero.");
    Interval {
        delay: UnpinnedSleep::new(start),
        period,
        missed_tick_behavior: MissedTickBehavior::Burst,
    }
}

/// What an [`Interval`] does about ticks it missed (the task was busy, or the thread stalled).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissedTickBehavior {
    /// Fire the missed ticks as fast as possible, keeping the original schedule (the default).
    #[default]
    Burst,
    /// Start a new schedule from now: the next tick is one period after this late one.
    Delay,
    /// Drop the missed ticks: the next tick is the next multiple of the period on the original
    /// schedule that lies in the future.
    Skip,
}

impl MissedTickBehavior {
    /// When the tick after one that was due at `due` and taken at `now` is due.
    fn next_tick(self, due: Instant, now: Instant, period: Duration) -> Instant {
        match self {
            MissedTickBehavior::Burst => due.saturating_add(period),
            MissedTickBehavior::Delay => now.saturating_add(period),
            MissedTickBehavior::Skip => {
                let late = (now - due).as_nanos() % period.as_nanos();
                // `late < period`, which fits in a `Duration`.
                let late = Duration::from_nanos(u64::try_from(late).unwrap_or(u64::MAX));
                now.saturating_add(period - late)
            }
        }
    }
}

/// Ticks every period (module doc).
#[derive(Debug)]
pub struct Interval {
    delay: UnpinnedSleep,
    period: Duration,
    missed_tick_behavior: MissedTickBehavior,
}

impl Interval {
    /// Waits for the next tick and returns the instant it was due at.
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick; `Ready` with the instant it was due at.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if self.delay.poll_elapsed(cx).is_pending() {
            return Poll::Pending;
        }
        let due = self.delay.deadline();
        let now = Instant::now();
        let next = if now > due.saturating_add(MISSED_AFTER) {
            self.missed_tick_behavior.next_tick(due, now, self.period)
        } else {
            due.saturating_add(self.period)
        };
        self.delay.reset(next);
        Poll::Ready(due)
    }

    /// Restarts the schedule: the next tick is one period from now.
    pub fn reset(&mut self) {
        self.reset_at(Instant::now().saturating_add(self.period));
    }

    /// Restarts the schedule: the next tick is now.
    pub fn reset_immediately(&mut self) {
        self.reset_at(Instant::now());
    }

    /// Restarts the schedule: the next tick is `after` from now.
    pub fn reset_after(&mut self, after: Duration) {
        self.reset_at(Instant::now().saturating_add(after));
    }

    /// Restarts the schedule: the next tick is at `deadline`.
    pub fn reset_at(&mut self, deadline: Instant) {
        self.delay.reset(deadline);
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// What it does about missed ticks.
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed_tick_behavior
    }

    /// Sets what it does about missed ticks.
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed_tick_behavior = behavior;
    }
}

impl futures::Stream for Interval {
    type Item = Instant;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Instant>> {
        self.get_mut().poll_tick(cx).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missed_ticks_follow_the_chosen_behavior() {
        let due = Instant::now();
        let period = Duration::from_millis(10);
        let now = due + Duration::from_millis(25);
        assert_eq!(
            MissedTickBehavior::Burst.next_tick(due, now, period),
            due + period
        );
        assert_eq!(
            MissedTickBehavior::Delay.next_tick(due, now, period),
            now + period
        );
        assert_eq!(
            MissedTickBehavior::Skip.next_tick(due, now, period),
            due + Duration::from_millis(30)
        );
    }
}
