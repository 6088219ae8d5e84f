//! `Alarm`: a timer that wakes a given waker at its deadline, with no task polling it.
//!
//! A [`Sleep`](crate::Sleep) is a future: some task polls it, and the timer wakes that task.
//! Go's `time.After` and `time.AfterFunc` are different: the runtime's timer itself does the
//! work when it fires (sends the time on a channel, starts the function), and nobody waits on
//! the timer as such. An `Alarm` is that kind of timer: it is armed at once in the current
//! thread's set (`context.rs`, as a `Sleep` is on its first poll) with the waker it is given,
//! and whichever M runs the set's due timers calls that waker. No G exists for it, so an
//! abandoned `after(1h)` costs one heap record and one allocation, not a parked goroutine.
//!
//! Dropping (or [`Alarm::cancel`]ling) an alarm that has not fired turns its heap record into a
//! zombie (`entry.rs`) and drops its waker at once, so what the waker holds (a channel's
//! sender) is released without waiting for the deadline: Go 1.23's "a timer nobody references
//! is collected" for gort's `after`.

use std::sync::Arc;
use std::task::Waker;
use std::time::Duration;

use crate::context;
use crate::entry::TimerEntry;
use crate::instant::Instant;
use crate::timers::Timers;

/// A timer that calls a waker at its deadline (module doc). Dropping it cancels it.
#[derive(Debug)]
pub struct Alarm {
    entry: Arc<TimerEntry>,
    /// The set the alarm is armed in and the arming's generation; `None` once cancelled, or if
    /// it was never armed (see `fired_at_once`).
    armed: Option<(Arc<Timers>, u64)>,
    /// Its deadline had passed when it was made: the waker was called at once. (An alarm made
    /// in a set that has shut down is never armed and never fires: its waker is dropped.)
    fired_at_once: bool,
}

impl Alarm {
    /// Arms an alarm that calls `waker` at `deadline`, in the timer set of this thread (the
    /// held P's, or the runtime's or default runtime's set for threads without one). A deadline
    /// that has passed already wakes `waker` before this returns.
    pub fn new(deadline: Instant, waker: Waker) -> Alarm {
        let entry = Arc::new(TimerEntry::new());
        let deadline = deadline.into_std();
        if deadline <= context::now() {
            waker.wake();
            return Alarm {
                entry,
                armed: None,
                fired_at_once: true,
            };
        }
        entry.register(&waker);
        drop(waker);
        let armed = context::with_current(|timers| {
            let armed = timers.arm(&entry, deadline).ok()?;
            Some((Arc::clone(timers), armed.generation))
        });
        if armed.is_none() {
            // The set's runtime has shut down: nothing would ever call the waker.
            entry.forget_waker();
        }
        Alarm {
            entry,
            armed,
            fired_at_once: false,
        }
    }

    /// [`Alarm::new`] for the deadline `duration` from now (`Duration::MAX` saturates, as a
    /// `sleep`'s does).
    pub fn after(duration: Duration, waker: Waker) -> Alarm {
        Alarm::new(Instant::now().saturating_add(duration), waker)
    }

    /// Whether the alarm has gone off (its waker was called).
    pub fn has_fired(&self) -> bool {
        match &self.armed {
            None => self.fired_at_once,
            Some((_, generation)) => self.entry.has_fired(*generation),
        }
    }

    /// Cancels the alarm if it has not gone off, and drops its waker either way. Idempotent.
    pub fn cancel(&mut self) {
        if let Some((timers, generation)) = self.armed.take() {
            if !self.entry.has_fired(generation) {
                timers.cancel(&self.entry);
            }
            self.entry.forget_waker();
        }
    }
}

impl Drop for Alarm {
    fn drop(&mut self) {
        self.cancel();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    use super::*;

    /// Counts its wakes, and its drops in `dropped`.
    struct Counted {
        woken: AtomicUsize,
        dropped: Arc<AtomicUsize>,
    }

    impl Wake for Counted {
        fn wake(self: Arc<Self>) {
            self.woken.fetch_add(1, Ordering::SeqCst);
        }
    }

    impl Drop for Counted {
        fn drop(&mut self) {
            self.dropped.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counted() -> (Arc<Counted>, Arc<AtomicUsize>) {
        let dropped = Arc::new(AtomicUsize::new(0));
        let waker = Arc::new(Counted {
            woken: AtomicUsize::new(0),
            dropped: Arc::clone(&dropped),
        });
        (waker, dropped)
    }

    /// Runs `f` with a fresh timer set as this thread's, returning the set too.
    fn with_set<R>(f: impl FnOnce(&Arc<Timers>) -> R) -> R {
        let timers = Arc::new(Timers::new());
        let previous = context::set_current(Some(Arc::clone(&timers)));
        let result = f(&timers);
        context::set_current(previous);
        result
    }

    #[test]
    fn an_alarm_wakes_its_waker_once_when_its_set_runs_it() {
        with_set(|timers| {
            let (counted, _) = counted();
            // Deadlines far enough ahead for a slow run (Miri) not to pass them by itself.
            let alarm = Alarm::new(
                Instant::now() + Duration::from_secs(3600),
                Waker::from(Arc::clone(&counted)),
            );
            assert!(!alarm.has_fired());
            assert_eq!(timers.run_expired(std::time::Instant::now()), 0);
            let late = std::time::Instant::now() + Duration::from_secs(7200);
            assert_eq!(timers.run_expired(late), 1);
            assert!(alarm.has_fired());
            assert_eq!(counted.woken.load(Ordering::SeqCst), 1);
        });
    }

    #[test]
    fn a_dropped_alarm_never_wakes_and_releases_its_waker_at_once() {
        with_set(|timers| {
            let (counted, dropped) = counted();
            let alarm = Alarm::new(
                Instant::now() + Duration::from_secs(3600),
                Waker::from(Arc::clone(&counted)),
            );
            drop(alarm);
            let clones_left = Arc::strong_count(&counted);
            assert_eq!(clones_left, 1, "the alarm still holds its waker");
            drop(counted);
            assert_eq!(dropped.load(Ordering::SeqCst), 1);
            let far = std::time::Instant::now() + Duration::from_secs(7200);
            assert_eq!(timers.run_expired(far), 0);
            assert_eq!(timers.next_deadline(), None);
        });
    }

    #[test]
    fn an_alarm_whose_deadline_passed_wakes_before_new_returns() {
        with_set(|timers| {
            let (counted, _) = counted();
            let alarm = Alarm::new(Instant::now(), Waker::from(Arc::clone(&counted)));
            assert!(alarm.has_fired());
            assert_eq!(counted.woken.load(Ordering::SeqCst), 1);
            assert!(timers.is_empty(), "nothing to arm");
        });
    }

    #[test]
    fn an_alarm_in_a_set_that_shut_down_never_fires_and_drops_its_waker() {
        with_set(|timers| {
            timers.shut_down();
            let (counted, dropped) = counted();
            let alarm = Alarm::new(
                Instant::now() + Duration::from_secs(3600),
                Waker::from(Arc::clone(&counted)),
            );
            assert!(!alarm.has_fired());
            assert_eq!(Arc::strong_count(&counted), 1, "the waker was kept");
            drop(counted);
            assert_eq!(dropped.load(Ordering::SeqCst), 1);
            assert!(timers.is_empty());
        });
    }

    #[test]
    fn a_million_dropped_alarms_leave_the_heap_small() {
        with_set(|timers| {
            let alarms: u32 = if cfg!(miri) { 1_000 } else { 1_000_000 };
            let mut largest = 0;
            for _ in 0..alarms {
                let (counted, _) = counted();
                drop(Alarm::new(
                    Instant::now() + Duration::from_secs(3600),
                    Waker::from(counted),
                ));
                largest = largest.max(timers.len());
            }
            assert!(largest <= 4, "the heap grew to {largest} records");
        });
    }
}
