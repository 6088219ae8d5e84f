//! `Instant`: a point in a runtime's clock time (tokio's `tokio::time::Instant`).
//!
//! A newtype over `std::time::Instant` whose `now()` asks the current runtime's [`Clock`]
//! (`clock.rs`), so that code written against it sees paused and advanced time in tests. It
//! converts both ways with `std` for free, and its arithmetic is `std`'s.
//!
//! [`Clock`]: crate::Clock

use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::time::Duration;

/// A measurement of the current runtime's clock (module doc).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant {
    std: std::time::Instant,
}

/// How far a deadline that would not fit goes instead: 30 years, tokio's "far future".
const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

/// `base + by`, saturating: an addition that does not fit gives 30 years from `base`, or `base`
/// itself if even that does not fit. Sleeping for `Duration::MAX` must neither panic nor wrap.
pub(crate) fn saturating_add(base: std::time::Instant, by: Duration) -> std::time::Instant {
    base.checked_add(by)
        .or_else(|| base.checked_add(FAR_FUTURE.min(by)))
        .unwrap_or(base)
}

impl Instant {
    /// The current time of this thread's runtime clock (real time unless a test paused it).
    pub fn now() -> Instant {
        Instant::from_std(crate::context::now())
    }

    /// Wraps a `std` instant.
    pub fn from_std(std: std::time::Instant) -> Instant {
        Instant { std }
    }

    /// The `std` instant.
    pub fn into_std(self) -> std::time::Instant {
        self.std
    }

    /// Time from `earlier` to `self`, zero if `earlier` is later.
    pub fn duration_since(&self, earlier: Instant) -> Duration {
        self.std.saturating_duration_since(earlier.std)
    }

    /// Time from `earlier` to `self`, `None` if `earlier` is later.
    pub fn checked_duration_since(&self, earlier: Instant) -> Option<Duration> {
        self.std.checked_duration_since(earlier.std)
    }

    /// Time from `earlier` to `self`, zero if `earlier` is later.
    pub fn saturating_duration_since(&self, earlier: Instant) -> Duration {
        self.std.saturating_duration_since(earlier.std)
    }

    /// Clock time elapsed since `self`.
    pub fn elapsed(&self) -> Duration {
        Instant::now().saturating_duration_since(*self)
    }

    /// `self + duration`, `None` if it does not fit.
    pub fn checked_add(&self, duration: Duration) -> Option<Instant> {
        self.std.checked_add(duration).map(Instant::from_std)
    }

    /// `self - duration`, `None` if it does not fit.
    pub fn checked_sub(&self, duration: Duration) -> Option<Instant> {
        self.std.checked_sub(duration).map(Instant::from_std)
    }

    /// `self + duration`, saturating 30 years ahead (what `sleep(Duration::MAX)` waits for).
    pub(crate) fn saturating_add(self, duration: Duration) -> Instant {
        Instant::from_std(saturating_add(self.std, duration))
    }
}

impl From<std::time::Instant> for Instant {
    fn from(std: std::time::Instant) -> Instant {
        Instant::from_std(std)
    }
}

impl From<Instant> for std::time::Instant {
    fn from(instant: Instant) -> std::time::Instant {
        instant.std
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;

    fn add(self, other: Duration) -> Instant {
        Instant::from_std(self.std + other)
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, rhs: Duration) {
        *self = *self + rhs;
    }
}

impl Sub for Instant {
    type Output = Duration;

    fn sub(self, rhs: Instant) -> Duration {
        self.std.saturating_duration_since(rhs.std)
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;

    fn sub(self, rhs: Duration) -> Instant {
        Instant::from_std(self.std - rhs)
    }
}

impl SubAssign<Duration> for Instant {
    fn sub_assign(&mut self, rhs: Duration) {
        *self = *self - rhs;
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.std.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adding_duration_max_saturates_instead_of_panicking() {
        let now = Instant::now();
        let far = now.saturating_add(Duration::MAX);
        assert!(far > now + Duration::from_secs(86_400 * 365));
        assert!(far.saturating_add(Duration::MAX) >= far);
        assert_eq!(now - far, Duration::ZERO, "subtraction saturates at zero");
    }
}
