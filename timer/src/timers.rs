//! `Timers`: one P's set of armed timers (Go's `timers` struct in `time.go`): the heap behind a
//! lock, plus the earliest deadline in an atomic so that other Ms can read it without the lock
//! (Go's `wakeTime`): the M about to block in the poller bounds its wait by the minimum over all
//! Ps, and a thief checks whether another P has expired timers before taking its lock.
//!
//! The lock is taken by the owning M when it arms or runs timers, by a thief running another
//! P's expired timers, and by a `Sleep` dropped on another thread. Wakers are called after it is
//! released.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::task::Waker;
use std::time::Instant;

use crate::driver::TimeDriver;
use crate::entry::TimerEntry;
use crate::heap::TimerHeap;

/// A heap record: which arming of which timer.
#[derive(Debug)]
struct Record {
    entry: Arc<TimerEntry>,
    generation: u64,
}

impl Record {
    fn is_zombie(&self) -> bool {
        self.entry.is_stale(self.generation)
    }
}

/// `next_nanos` when no timer is armed.
const NONE: u64 = u64::MAX;

/// One P's armed timers (module doc).
#[derive(Debug)]
pub struct Timers {
    heap: Mutex<TimerHeap<Record>>,
    /// The earliest live deadline as nanoseconds since [`epoch`], or `NONE`. Written under the
    /// heap's lock (`Release`), read without it (`Acquire`); a stale read only makes a poller
    /// wake early or a thief look in vain.
    next_nanos: AtomicU64,
    /// The runtime's clock and hook; told when an arming becomes this set's earliest.
    driver: Arc<TimeDriver>,
    /// Set once by [`Timers::shut_down`], under the heap's lock: from then on nothing is armed
    /// here (nobody would ever run it). Read with the lock by `arm`, without it (`Acquire`) by
    /// a `Sleep` polled later.
    shut_down: AtomicBool,
}

/// [`Timers::arm`]'s error: the set's runtime has shut down, so no M will ever run a timer
/// armed there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutDown;

impl std::fmt::Display for ShutDown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(SHUT_DOWN_MESSAGE)
    }
}

impl std::error::Error for ShutDown {}

/// What a timer of a runtime that has shut down says when polled: tokio's panic message, which
/// programs and tests match, then gort's explanation.
pub(crate) const SHUT_DOWN_MESSAGE: &str = "A Tokio 1.x context was found, but it is being \
     shutdown. (gort: a timer was used after its runtime shut down: its Runtime was dropped or \
     shut down while this future still waited on it)";

/// What [`Timers::arm`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Armed {
    /// The arming's generation (the timer fired when [`TimerEntry::has_fired`] says so).
    pub generation: u64,
    /// Whether it is now this P's earliest deadline: whoever waits for the earliest deadline
    /// (the M blocked in the poller) must be told.
    pub earliest: bool,
}

impl Default for Timers {
    fn default() -> Timers {
        Timers::new()
    }
}

impl Timers {
    /// An empty set with a driver of its own (no runtime hears of its deadlines).
    pub fn new() -> Timers {
        Timers::with_driver(TimeDriver::new())
    }

    /// An empty set of the runtime whose driver is `driver`.
    pub fn with_driver(driver: Arc<TimeDriver>) -> Timers {
        Timers {
            heap: Mutex::new(TimerHeap::new()),
            next_nanos: AtomicU64::new(NONE),
            driver,
            shut_down: AtomicBool::new(false),
        }
    }

    /// The runtime's driver (its clock).
    pub fn driver(&self) -> &Arc<TimeDriver> {
        &self.driver
    }

    fn lock(&self) -> MutexGuard<'_, TimerHeap<Record>> {
        // No user code runs under the lock (wakers are called after it).
        self.heap.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Arms `entry` to fire at `when`. The entry must have no pending arming (cancel it first).
    /// If `when` becomes the set's earliest deadline, the runtime is told (`driver.rs`), after
    /// the lock is released. Fails once the set has shut down: the timer would never fire.
    pub fn arm(&self, entry: &Arc<TimerEntry>, when: Instant) -> Result<Armed, ShutDown> {
        let (generation, _) = entry.rearm();
        let earliest = {
            let mut heap = self.lock();
            if self.shut_down.load(Ordering::Relaxed) {
                return Err(ShutDown);
            }
            heap.push(
                when,
                Record {
                    entry: Arc::clone(entry),
                    generation,
                },
            );
            self.publish_next(&mut heap) == Some(when)
        };
        if earliest {
            self.driver.earlier_deadline(when);
        }
        Ok(Armed {
            generation,
            earliest,
        })
    }

    /// Whether [`Timers::shut_down`] has run: a timer armed here will never fire.
    pub fn is_shut_down(&self) -> bool {
        self.shut_down.load(Ordering::Acquire)
    }

    /// Cancels `entry`'s pending arming, which must be in this set (a dropped or reset `Sleep`).
    /// Nothing is removed: the record becomes a zombie (`heap.rs`). The entry keeps its waker
    /// (a reset `Sleep` re-arms with it); [`TimerEntry::forget_waker`] drops it.
    pub fn cancel(&self, entry: &TimerEntry) {
        let (_, was_pending) = entry.rearm();
        if was_pending {
            let mut heap = self.lock();
            heap.note_zombie(Record::is_zombie);
            self.publish_next(&mut heap);
        }
    }

    /// The runtime is shutting down: drops every record and refuses new ones from now on. The
    /// wakers the records hold keep tasks allocated, and a task's future may hold this set, a
    /// cycle nothing else would break; and a timer armed later would never fire.
    pub fn shut_down(&self) {
        let records = {
            let mut heap = self.lock();
            self.shut_down.store(true, Ordering::Release);
            let records = heap.drain();
            self.publish_next(&mut heap);
            records
        };
        for record in &records {
            record.entry.rearm();
            record.entry.forget_waker();
        }
    }

    /// Moves every armed timer of this set into `to` (a P leaving service hands its timers to
    /// a set that keeps being run). Returns how many moved.
    ///
    /// The moved timers' `Sleep`s still name this set: if one is cancelled later, this set
    /// counts a zombie it does not hold (harmless: the count only decides when to rebuild,
    /// and an empty heap rebuilds for free), and `to` holds a zombie it did not count, dropped
    /// when it reaches the head or at `to`'s next rebuild.
    pub fn move_into(&self, to: &Timers) -> usize {
        if std::ptr::eq(self, to) {
            return 0;
        }
        let records = {
            let mut heap = self.lock();
            let records = heap.take_live(Record::is_zombie);
            self.publish_next(&mut heap);
            records
        };
        let moved = records.len();
        let Some(earliest) = records.iter().map(|(when, _)| *when).min() else {
            return 0;
        };
        let became_earliest = {
            let mut heap = to.lock();
            if to.shut_down.load(Ordering::Relaxed) {
                drop(heap);
                // Nobody will run `to` again: the timers are dead, as `shut_down` made its own.
                for (_, record) in &records {
                    record.entry.rearm();
                    record.entry.forget_waker();
                }
                return moved;
            }
            for (when, record) in records {
                heap.push(when, record);
            }
            to.publish_next(&mut heap) == Some(earliest)
        };
        if became_earliest {
            to.driver.earlier_deadline(earliest);
        }
        moved
    }

    /// Fires every armed timer whose deadline is at or before `now` and returns how many woke.
    pub fn run_expired(&self, now: Instant) -> usize {
        self.run_expired_at_most(now, usize::MAX)
    }

    /// [`Timers::run_expired`], firing at most `max` timers (the earliest due ones); the others
    /// stay due in the heap for the next call.
    pub fn run_expired_at_most(&self, now: Instant, max: usize) -> usize {
        if self.next_deadline().is_none_or(|next| next > now) {
            return 0;
        }
        let mut wake: Vec<Waker> = Vec::new();
        {
            let mut heap = self.lock();
            let mut fired = 0;
            while fired < max {
                let Some((_, record)) = heap.pop_expired(now, Record::is_zombie) else {
                    break;
                };
                fired += 1;
                wake.extend(record.entry.fire(record.generation));
            }
            self.publish_next(&mut heap);
        }
        let woken = wake.len();
        gort_context::wake_all(wake);
        woken
    }

    /// The earliest deadline, read without the lock (it may include a cancelled timer's).
    pub fn next_deadline(&self) -> Option<Instant> {
        match self.next_nanos.load(Ordering::Acquire) {
            NONE => None,
            nanos => Some(from_nanos(nanos)),
        }
    }

    /// Records in the heap, zombies included (for tests and diagnostics).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether the heap holds no record at all.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Recomputes the earliest live deadline under the lock and publishes it.
    fn publish_next(&self, heap: &mut TimerHeap<Record>) -> Option<Instant> {
        let next = heap.next_deadline(Record::is_zombie);
        self.next_nanos
            .store(next.map_or(NONE, to_nanos), Ordering::Release);
        next
    }
}

/// The instant deadlines are counted from.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

/// `when` as a number that orders like the instant (nanoseconds since a process-wide epoch), for
/// deadlines kept in atomics. Never 0 or `u64::MAX` for a deadline after the epoch's first
/// nanosecond, so callers can use those two as markers.
pub fn deadline_nanos(when: Instant) -> u64 {
    to_nanos(when).max(1)
}

/// `when` as nanoseconds since [`epoch`] (saturating: `u64` nanoseconds last 584 years, and a
/// deadline before the epoch is already due).
fn to_nanos(when: Instant) -> u64 {
    let nanos = when.saturating_duration_since(epoch()).as_nanos();
    u64::try_from(nanos).unwrap_or(NONE - 1).min(NONE - 1)
}

/// The inverse of [`to_nanos`].
fn from_nanos(nanos: u64) -> Instant {
    epoch() + std::time::Duration::from_nanos(nanos)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;
    use std::time::Duration;

    use super::*;

    /// A timer whose waker counts its wakes.
    fn counted() -> (Arc<TimerEntry>, Arc<AtomicUsize>) {
        struct Count(Arc<AtomicUsize>);
        impl Wake for Count {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let count = Arc::new(AtomicUsize::new(0));
        let entry = Arc::new(TimerEntry::new());
        entry.register(&Waker::from(Arc::new(Count(Arc::clone(&count)))));
        (entry, count)
    }

    #[test]
    fn timers_fire_at_their_deadline_and_not_before() {
        let timers = Timers::new();
        let base = Instant::now();
        let (early, early_woken) = counted();
        let (late, late_woken) = counted();
        let armed_late = timers.arm(&late, base + Duration::from_millis(20)).unwrap();
        assert!(armed_late.earliest);
        let armed_early = timers
            .arm(&early, base + Duration::from_millis(10))
            .unwrap();
        assert!(
            armed_early.earliest,
            "an earlier deadline must be announced"
        );
        assert_eq!(
            timers.next_deadline(),
            Some(base + Duration::from_millis(10))
        );

        assert_eq!(timers.run_expired(base + Duration::from_millis(9)), 0);
        assert_eq!(timers.run_expired(base + Duration::from_millis(10)), 1);
        assert!(early.has_fired(armed_early.generation));
        assert_eq!(early_woken.load(Ordering::SeqCst), 1);
        assert_eq!(late_woken.load(Ordering::SeqCst), 0);
        assert_eq!(
            timers.next_deadline(),
            Some(base + Duration::from_millis(20))
        );
        assert_eq!(timers.run_expired(base + Duration::from_secs(1)), 1);
        assert_eq!(timers.next_deadline(), None);
        assert!(timers.is_empty());
    }

    #[test]
    fn a_cancelled_timer_never_fires() {
        let timers = Timers::new();
        let base = Instant::now();
        let (entry, woken) = counted();
        timers.arm(&entry, base + Duration::from_millis(1)).unwrap();
        timers.cancel(&entry);
        assert_eq!(timers.run_expired(base + Duration::from_secs(1)), 0);
        assert_eq!(woken.load(Ordering::SeqCst), 0);
        assert_eq!(timers.next_deadline(), None);
    }

    #[test]
    fn a_million_sleeps_created_and_dropped_leave_the_heap_empty() {
        let timers = Timers::new();
        let base = Instant::now();
        let mut largest = 0;
        // A million natively; Miri checks the same path on fewer.
        let sleeps: u64 = if cfg!(miri) { 1_000 } else { 1_000_000 };
        for i in 0..sleeps {
            let entry = Arc::new(TimerEntry::new());
            timers
                .arm(
                    &entry,
                    base + Duration::from_secs(60) + Duration::from_nanos(i),
                )
                .unwrap();
            timers.cancel(&entry);
            largest = largest.max(timers.len());
        }
        assert!(largest <= 4, "the heap grew to {largest} records");
        assert_eq!(timers.next_deadline(), None);
        assert!(timers.is_empty() || timers.run_expired(base + Duration::from_secs(3600)) == 0);
    }

    #[test]
    fn re_arming_earlier_fires_at_the_new_deadline_only() {
        let timers = Timers::new();
        let base = Instant::now();
        let (entry, woken) = counted();
        timers
            .arm(&entry, base + Duration::from_millis(50))
            .unwrap();
        timers.cancel(&entry);
        let armed = timers.arm(&entry, base + Duration::from_millis(5)).unwrap();
        assert!(armed.earliest);
        assert_eq!(timers.run_expired(base + Duration::from_millis(5)), 1);
        assert!(entry.has_fired(armed.generation));
        assert_eq!(
            timers.run_expired(base + Duration::from_millis(60)),
            0,
            "the old deadline is a zombie"
        );
        assert_eq!(woken.load(Ordering::SeqCst), 1);
    }

    /// A fire on one thread racing a cancel on another: the timer wakes its owner once if the
    /// fire won, never if the cancel did, and the heap ends empty either way.
    #[test]
    fn a_fire_racing_a_cancel_wakes_at_most_once() {
        const ROUNDS: usize = if cfg!(miri) { 20 } else { 2_000 };
        let timers = Arc::new(Timers::new());
        for _ in 0..ROUNDS {
            let (entry, woken) = counted();
            timers.arm(&entry, Instant::now()).unwrap();
            let runner = {
                let timers = Arc::clone(&timers);
                std::thread::spawn(move || timers.run_expired(Instant::now()))
            };
            timers.cancel(&entry);
            let fired_by_runner = runner.join().unwrap();
            let woke = woken.load(Ordering::SeqCst);
            assert_eq!(woke, fired_by_runner, "wakes match fires");
            assert!(woke <= 1);
            assert_eq!(timers.run_expired(Instant::now()), 0);
        }
        assert_eq!(timers.next_deadline(), None);
    }

    /// A P leaving service hands its timers on: the live ones fire from the new set at their
    /// deadlines, cancelled ones stay cancelled, and one cancelled after the move (through the
    /// set its `Sleep` still names) does not fire either.
    #[test]
    fn moved_timers_fire_from_the_new_set_and_stay_cancellable() {
        let from = Timers::new();
        let to = Timers::new();
        let base = Instant::now();
        let (kept, kept_woken) = counted();
        let (cancelled_before, cancelled_before_woken) = counted();
        let (cancelled_after, cancelled_after_woken) = counted();
        let armed_kept = from.arm(&kept, base + Duration::from_millis(10)).unwrap();
        from.arm(&cancelled_before, base + Duration::from_millis(5))
            .unwrap();
        from.arm(&cancelled_after, base + Duration::from_millis(7))
            .unwrap();
        from.cancel(&cancelled_before);

        assert_eq!(from.move_into(&to), 2, "the zombie is not moved");
        assert!(from.is_empty());
        assert_eq!(from.next_deadline(), None);
        assert_eq!(to.next_deadline(), Some(base + Duration::from_millis(7)));

        from.cancel(&cancelled_after);
        assert_eq!(from.run_expired(base + Duration::from_secs(1)), 0);
        assert_eq!(to.run_expired(base + Duration::from_millis(9)), 0);
        assert_eq!(to.run_expired(base + Duration::from_millis(10)), 1);
        assert!(kept.has_fired(armed_kept.generation));
        assert_eq!(kept_woken.load(Ordering::SeqCst), 1);
        assert_eq!(cancelled_before_woken.load(Ordering::SeqCst), 0);
        assert_eq!(cancelled_after_woken.load(Ordering::SeqCst), 0);
        assert_eq!(to.next_deadline(), None);
        assert_eq!(to.move_into(&to), 0, "moving into itself is a no-op");
    }

    #[test]
    fn deadlines_near_the_limits_neither_panic_nor_overflow() {
        let timers = Timers::new();
        let (entry, _) = counted();
        let far = Instant::now() + Duration::from_secs(u64::MAX / 4);
        timers.arm(&entry, far).unwrap();
        assert!(timers.next_deadline().is_some());
        assert_eq!(timers.run_expired(Instant::now()), 0);
    }
}
