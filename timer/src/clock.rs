//! `Clock`: a runtime's source of "now", which tests can stop and move by hand.
//!
//! # Why a clock and not `std::time::Instant::now()`
//!
//! Tests of timeouts and intervals should not have to wait for them. tokio's answer, which gort
//! copies (names and semantics), is a clock that can be *paused*: `pause()` freezes it,
//! `advance(d)` moves it forward by `d` at once, `resume()` lets it run again from where it
//! stands. While it is paused and every P is idle, the runtime moves it straight to the earliest
//! timer instead of sleeping (auto-advance, done by the executor's idle M), so a test that sleeps
//! an hour finishes in microseconds.
//!
//! Clock time equals real time until the first `pause()`; after that it is
//! `base + (real time since resumed)`, with `base` the clock time at the last `pause`/`resume`.
//! Deadlines in the timer heaps are clock times, which is why the executor asks the clock, not
//! `std`, for "now" when it runs timers and bounds its poller wait.
//!
//! The fast path (never paused) is one relaxed load plus `std::time::Instant::now()`; the paused
//! path takes a lock, which only tests pay.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A runtime's clock (module doc).
#[derive(Debug, Default)]
pub struct Clock {
    /// Set by the first `pause` and never cleared: from then on [`Clock::now`] reads `state`.
    /// `Relaxed` load plus the lock's ordering is enough: the flag is set under the lock.
    ever_paused: AtomicBool,
    /// Whether the clock stands still now. Mirrors `state.frozen` for lock-free readers.
    paused: AtomicBool,
    state: Mutex<State>,
}

/// The clock after its first pause.
#[derive(Debug, Default)]
struct State {
    /// Clock time when it was last paused or resumed.
    base: Option<Instant>,
    /// Real time when it was last resumed; `None` while frozen.
    running_since: Option<Instant>,
}

impl Clock {
    /// A clock that runs with real time.
    pub fn new() -> Clock {
        Clock::default()
    }

    /// The current clock time.
    pub fn now(&self) -> Instant {
        if !self.ever_paused.load(Ordering::Relaxed) {
            return Instant::now();
        }
        self.lock().now()
    }

    /// Whether the clock is paused.
    pub fn is_paused(&self) -> bool {
        self.paused.load(Ordering::Acquire)
    }

    /// Freezes the clock.
    ///
    /// # Panics
    ///
    /// If it is already paused (tokio's message).
    #[track_caller]
    pub fn pause(&self) {
        let mut state = self.lock();
        if self.is_paused() {
            panic!("time is already frozen");
        }
        let now = state.now();
        state.base = Some(now);
        state.running_since = None;
        self.ever_paused.store(true, Ordering::Relaxed);
        self.paused.store(true, Ordering::Release);
    }

    /// Lets a paused clock run again from the time it shows.
    ///
    /// # Panics
    ///
    /// If it is not paused (tokio's message).
    #[track_caller]
    pub fn resume(&self) {
        let mut state = self.lock();
        if !self.is_paused() {
            panic!("time is not frozen");
        }
        state.running_since = Some(Instant::now());
        self.paused.store(false, Ordering::Release);
    }

    /// Moves a paused clock forward by `by` (saturating far in the future).
    ///
    /// # Panics
    ///
    /// If it is not paused (tokio's message).
    #[track_caller]
    pub fn advance(&self, by: Duration) {
        let mut state = self.lock();
        if !self.is_paused() {
            panic!("time is not frozen");
        }
        let base = state.base.unwrap_or_else(Instant::now);
        state.base = Some(crate::instant::saturating_add(base, by));
    }

    /// Moves a paused clock forward to `to`, if that is later than the time it shows (the
    /// executor's auto-advance). Returns whether it moved; `false` if the clock is running.
    pub fn advance_to(&self, to: Instant) -> bool {
        let mut state = self.lock();
        if !self.is_paused() {
            return false;
        }
        if state.base.is_some_and(|base| base >= to) {
            return false;
        }
        state.base = Some(to);
        true
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // No code that can panic runs under the lock except the documented panics, which leave
        // the state consistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl State {
    fn now(&self) -> Instant {
        match (self.base, self.running_since) {
            (None, _) => Instant::now(),
            (Some(base), None) => base,
            (Some(base), Some(since)) => crate::instant::saturating_add(base, since.elapsed()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_paused_clock_moves_only_when_advanced() {
        let clock = Clock::new();
        clock.pause();
        let frozen = clock.now();
        std::thread::sleep(Duration::from_millis(2));
        assert_eq!(clock.now(), frozen);
        clock.advance(Duration::from_secs(3600));
        assert_eq!(clock.now(), frozen + Duration::from_secs(3600));
        assert!(!clock.advance_to(frozen), "advance_to never goes back");
        assert!(clock.advance_to(frozen + Duration::from_secs(7200)));
        assert_eq!(clock.now(), frozen + Duration::from_secs(7200));
    }

    #[test]
    fn a_resumed_clock_runs_on_from_where_it_stood() {
        let clock = Clock::new();
        clock.pause();
        clock.advance(Duration::from_secs(60));
        let before = clock.now();
        clock.resume();
        assert!(!clock.is_paused());
        let after = clock.now();
        assert!(after >= before && after < before + Duration::from_secs(30));
        assert!(Instant::now() + Duration::from_secs(50) < after);
    }

    #[test]
    #[should_panic(expected = "time is already frozen")]
    fn pausing_twice_panics() {
        let clock = Clock::new();
        clock.pause();
        clock.pause();
    }

    #[test]
    #[should_panic(expected = "time is not frozen")]
    fn advancing_a_running_clock_panics() {
        Clock::new().advance(Duration::from_secs(1));
    }
}
