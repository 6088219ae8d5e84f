//! The timer workloads: `sleep100us`, `sleeps100k`, `timer_cancel1m` and `timer_fire1m`.

use super::*;

/// Sleeps `sleep100us` performs one after the other, each timed.
pub(super) const SHORT_SLEEPS: usize = 2_000;

/// What each `sleep100us` sleep asks for.
pub(super) const SHORT_SLEEP: Duration = Duration::from_micros(100);

/// Tasks in `sleeps100k`, each sleeping once.
pub(super) const SLEEP_TASKS: usize = 100_000;

/// Longest `sleeps100k` sleep in ms; each is uniform in `1..=SLEEP_MAX_MS` ([`SleepLengths`]).
pub(super) const SLEEP_MAX_MS: u64 = 50;

/// Seed of [`SleepLengths`], the same in Go, so that all three runtimes sleep the same lengths in
/// the same spawn order.
pub(super) const SLEEP_SEED: u64 = 1;

/// Sleeps `timer_cancel1m` creates, polls once and drops.
pub(super) const CANCEL_PAIRS: usize = 1_000_000;

/// What each `timer_cancel1m` sleep asks for: long enough that none fires during the workload.
pub(super) const CANCEL_SLEEP: Duration = Duration::from_secs(1);

/// `timer_cancel1m` yields after every this many pairs. tokio's `Sleep` spends one unit of the
/// task's coop budget (128 per poll of the task) per poll, and once the budget is spent it
/// returns `Pending` without arming: without the yield, all but the first 128 of tokio's pairs
/// would skip the timer wheel. gort and Go yield as often, so that all three do the same work.
pub(super) const CANCEL_BATCH: usize = 100;

/// Tasks in `timer_fire1m`, each armed with one timer for the common deadline.
pub(super) const FIRE_TASKS: usize = 1_000_000;

/// How far the `timer_fire1m` deadline is from the moment the gate opens: enough for the
/// [`FIRE_TASKS`] tasks, all spawned by then, to get past the gate and arm their timers (0.4 s
/// on gort, 0.6 s on tokio, 1.4 s on Go on the 2-core benchmark machine), so that every timer is
/// in place before the first one fires. Only the time after the deadline is measured, so the
/// margin costs nothing but the run's length.
pub(super) const FIRE_DELAY: Duration = Duration::from_secs(4);

/// `sleep100us`: the driver task sleeps [`SHORT_SLEEP`] [`SHORT_SLEEPS`] times in a row, timing
/// each sleep from just before it is created to just after it completes; reports the median and
/// the p99 of those actual lengths, in µs (DESIGN.md §7: "sleep(100 µs), median actual").
///
/// Nothing else runs, so every thread of the runtime parks during each sleep: this measures how
/// precisely an idle runtime wakes, which is bounded by how its parked thread waits (tokio rounds
/// each deadline up to its 1 ms wheel tick).
pub(super) fn sleep100us<R: Rt>() -> Vec<Metric> {
    let mut actual = in_spawned_task::<R, _>(async {
        let mut actual = Vec::with_capacity(SHORT_SLEEPS);
        for _ in 0..SHORT_SLEEPS {
            let start = Instant::now();
            R::sleep(SHORT_SLEEP).await;
            actual.push(start.elapsed());
        }
        actual
    });
    actual.sort_unstable();
    vec![
        Metric {
            name: "median",
            value: micros(percentile(&actual, 50)),
            unit: "µs",
        },
        Metric {
            name: "p99",
            value: micros(percentile(&actual, 99)),
            unit: "µs",
        },
    ]
}

/// The `sleeps100k` sleep lengths: Knuth's MMIX linear congruential generator from
/// [`SLEEP_SEED`], each step's top 31 bits mapped to `1..=SLEEP_MAX_MS` ms (the modulo bias is
/// below 1e-7). Go's `sleepLengths` is the same generator, so the k-th task sleeps as long on
/// every runtime.
pub(super) struct SleepLengths {
    /// The generator's state: the previous step's output.
    state: u64,
}

impl Iterator for SleepLengths {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        self.state = self
            .state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        Some(Duration::from_millis(1 + (self.state >> 33) % SLEEP_MAX_MS))
    }
}

/// What the `sleeps100k` tasks found: each task adds its lateness (actual minus requested
/// length, negative if it woke early) before it ticks the countdown, whose last tick publishes
/// all of them to the driver ([`Countdown::tick`]).
pub(super) struct Lateness {
    /// Sum of every task's lateness, in ns.
    sum_ns: AtomicI64,
    /// Largest lateness, in ns.
    max_ns: AtomicI64,
    /// Tasks that woke before their requested length had passed (a runtime bug if not zero).
    early: AtomicUsize,
}

/// The lateness of the running `sleeps100k` (one workload per process); a `static` for the same
/// reason as [`COUNTDOWN`].
pub(super) static LATENESS: Lateness = Lateness {
    sum_ns: AtomicI64::new(0),
    max_ns: AtomicI64::new(i64::MIN),
    early: AtomicUsize::new(0),
};

/// `sleeps100k`: the driver spawns [`SLEEP_TASKS`] tasks, the k-th sleeping the k-th length of
/// [`SleepLengths`] (1 to 50 ms); each times its sleep from just before creating it to just after
/// it completes and adds actual minus requested to [`LATENESS`]. Reports the mean and the max
/// lateness in µs (DESIGN.md §7: "100k sleeps of 1-50 ms, mean lateness").
///
/// Spawning 100k tasks in a fresh process takes about as long as the sleeps (tens of ms to over
/// a hundred): early timers come due while the driver is still spawning, so the figure mostly
/// says how well a busy runtime fires timers, not how precisely an idle one wakes, and it varies
/// a lot from run to run.
pub(super) fn sleeps100k<R: Rt>() -> Vec<Metric> {
    in_spawned_task::<R, _>(async {
        let done = COUNTDOWN.arm(SLEEP_TASKS);
        let lengths = SleepLengths { state: SLEEP_SEED };
        for requested in lengths.take(SLEEP_TASKS) {
            R::spawn_detached(async move {
                let start = Instant::now();
                R::sleep(requested).await;
                let actual = start.elapsed();
                let late_ns = actual.as_nanos() as i64 - requested.as_nanos() as i64;
                LATENESS.sum_ns.fetch_add(late_ns, Relaxed);
                LATENESS.max_ns.fetch_max(late_ns, Relaxed);
                if late_ns < 0 {
                    LATENESS.early.fetch_add(1, Relaxed);
                }
                COUNTDOWN.tick();
            });
        }
        done.await.unwrap();
    });
    let early = LATENESS.early.load(Relaxed);
    if early > 0 {
        println!("WARNING sleeps100k: {early} sleeps completed before their length had passed");
    }
    let sum_ns = LATENESS.sum_ns.load(Relaxed) as f64;
    vec![
        Metric {
            name: "mean",
            value: sum_ns / SLEEP_TASKS as f64 / 1e3,
            unit: "µs",
        },
        Metric {
            name: "max",
            value: LATENESS.max_ns.load(Relaxed) as f64 / 1e3,
            unit: "µs",
        },
    ]
}

/// `timer_cancel1m`: the driver task, [`CANCEL_PAIRS`] times, creates a sleep of
/// [`CANCEL_SLEEP`], polls it once with its own context (which arms it: neither runtime touches
/// its timer structure before the first poll) and drops it (which cancels it), yielding after
/// every [`CANCEL_BATCH`] pairs; timed from before the first pair to after the last. Go's
/// counterpart is `time.NewTimer` and `Stop`.
pub(super) fn timer_cancel1m<R: Rt>() -> Vec<Metric> {
    let elapsed = in_spawned_task::<R, _>(async {
        let start = Instant::now();
        for _ in 0..CANCEL_PAIRS / CANCEL_BATCH {
            for _ in 0..CANCEL_BATCH {
                let mut sleep = pin!(R::sleep(CANCEL_SLEEP));
                let first = futures::poll!(sleep.as_mut());
                assert!(
                    first.is_pending(),
                    "a 1 s sleep completed on its first poll"
                );
            }
            R::yield_now().await;
        }
        start.elapsed()
    });
    per_op(elapsed, CANCEL_PAIRS, 1.0, "ns/pair")
}

/// `timer_fire1m`'s second countdown: each task ticks it once its timer is armed, so that the
/// driver knows when the arming burst is over.
pub(super) static ARMED: Countdown = Countdown {
    remaining: AtomicUsize::new(0),
    done: Mutex::new(None),
};

/// `timer_fire1m` tasks whose first poll of their sleep found the deadline already passed, so
/// that they never armed a timer ([`FIRE_DELAY`] was too short).
pub(super) static FIRED_UNARMED: AtomicUsize = AtomicUsize::new(0);

/// `timer_fire1m`: what firing one timer costs when a million fire together.
///
/// Untimed set-up: the driver spawns [`FIRE_TASKS`] tasks, each waiting at a gate (a
/// `futures` `Shared` oneshot, the same on both runtimes; Go closes a channel), then opens the
/// gate with a deadline [`FIRE_DELAY`] ahead. Each task polls a `sleep_until` of the deadline once
/// (arming it), ticks [`ARMED`], then awaits it and ticks [`COUNTDOWN`]. The driver waits for
/// both; the result is (its clock after the last task finished − deadline) / tasks.
///
/// Why this design: one burst of a million due timers makes the per-timer work (take the timer
/// out of the heap or wheel, wake its task, run the task, which finds its `Sleep` complete and
/// finishes) dominate everything else. The fixed costs of the burst (the parked thread waking
/// at the deadline, tokio's rounding up to its 1 ms tick) are a few ms at most, a few ns per
/// timer, and arming happens before the deadline, outside the measured span. Fewer tasks
/// re-arming in rounds would instead measure tokio's 1 ms granularity once per round. The gate
/// sets the deadline only once every task exists, so the margin need not cover spawning, which
/// varies a lot (Go takes 4-11 s to start a million goroutines that stay alive, the GC scanning
/// their growing stacks). A `WARNING` line says when arming overran the deadline, which would
/// mix arming into the measured span.
pub(super) fn timer_fire1m<R: Rt>() -> Vec<Metric> {
    let (fire, armed_late) = in_spawned_task::<R, _>(async {
        let done = COUNTDOWN.arm(FIRE_TASKS);
        let armed = ARMED.arm(FIRE_TASKS);
        let (open, gate) = oneshot::channel::<Instant>();
        let gate = gate.shared();
        for _ in 0..FIRE_TASKS {
            let gate = gate.clone();
            R::spawn_detached(async move {
                let deadline = gate.await.expect("the gate's sender is gone");
                let mut sleep = pin!(R::sleep_until(deadline));
                if futures::poll!(sleep.as_mut()).is_ready() {
                    FIRED_UNARMED.fetch_add(1, Relaxed);
                }
                ARMED.tick();
                sleep.await;
                COUNTDOWN.tick();
            });
        }
        drop(gate);
        let deadline = Instant::now() + FIRE_DELAY;
        open.send(deadline).unwrap();
        armed.await.unwrap();
        let armed_at = Instant::now();
        done.await.unwrap();
        let finished = Instant::now();
        (
            finished.saturating_duration_since(deadline),
            armed_at.checked_duration_since(deadline),
        )
    });
    if let Some(late) = armed_late {
        println!(
            "WARNING timer_fire1m: arming ended {late:?} after the deadline; raise FIRE_DELAY"
        );
    }
    let unarmed = FIRED_UNARMED.load(Relaxed);
    if unarmed > 0 {
        println!(
            "WARNING timer_fire1m: {unarmed} tasks first polled their sleep after the deadline"
        );
    }
    per_op(fire, FIRE_TASKS, 1.0, "ns/timer")
}
