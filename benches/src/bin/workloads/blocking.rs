//! The blocking workloads: `blocking2000` (`spawn_blocking`), `ticker_block200` (a ticker beside
//! a blocked thread, with and without `block_in_place`) and `block_in_place_fast`.

use super::*;

/// Blocking calls `blocking2000` starts at once.
pub(super) const BLOCKING_CALLS: usize = 2_000;

/// How long each `blocking2000` call blocks its thread.
pub(super) const BLOCKING_CALL: Duration = Duration::from_millis(1);

/// The interval of the `ticker_block200` ticker: each tick is one sleep of this length.
pub(super) const TICK: Duration = Duration::from_millis(1);

/// How long the `ticker_block200` ticker runs before the blocking task starts.
pub(super) const TICKS_BEFORE_BLOCK: Duration = Duration::from_millis(50);

/// How long the `ticker_block200` blocking task blocks its thread (`std::thread::sleep`).
pub(super) const TICKER_BLOCK: Duration = Duration::from_millis(200);

/// How long the `ticker_block200` ticker runs on after the blocking task has finished.
pub(super) const TICKS_AFTER_BLOCK: Duration = Duration::from_millis(50);

/// Calls of `block_in_place(|| ())` that `block_in_place_fast.in_loop` makes in one poll.
pub(super) const IN_LOOP_CALLS: usize = 1_000_000;

/// Calls of `block_in_place(|| ())` that `block_in_place_fast.per_poll` makes, each followed by a
/// yield, so that each is the first of its poll. Fewer than [`IN_LOOP_CALLS`] because each one
/// moves tokio's worker to another thread (about 20 µs on the benchmark machine).
pub(super) const PER_POLL_CALLS: usize = 100_000;

/// `block_in_place_fast.per_poll` alternates batches of this many call-and-yield iterations with
/// as many yield-only ones, so that drift on the machine hits both alike.
pub(super) const PER_POLL_BATCH: usize = 100;

/// `blocking2000`: the driver task hands [`BLOCKING_CALLS`] closures that each block their thread
/// for [`BLOCKING_CALL`] (`std::thread::sleep`) to [`Rt::spawn_blocking`], all at once, then
/// awaits every `JoinHandle` in spawn order; timed from before the first `spawn_blocking` until
/// the last handle is ready, and reported in ms (DESIGN.md §7: "2000 blocking 1 ms calls").
///
/// The process is fresh, so the pool has no threads yet: the time includes starting them, up to
/// the 512 both pools allow at once, after which the other calls queue for a free thread. 2000
/// calls on 512 threads are four rounds of 1 ms at best; DESIGN.md §7 measured 27-30 ms for the
/// same sleeps on 512 plain threads, so thread start-up and hand-off, not the sleeps, dominate.
pub(super) fn blocking2000<R: Rt>() -> Vec<Metric> {
    let elapsed = in_spawned_task::<R, _>(async {
        let mut handles = Vec::with_capacity(BLOCKING_CALLS);
        let start = Instant::now();
        for _ in 0..BLOCKING_CALLS {
            handles.push(R::spawn_blocking(|| std::thread::sleep(BLOCKING_CALL)));
        }
        for handle in handles {
            handle.await.expect("a blocking call failed");
        }
        start.elapsed()
    });
    per_op(elapsed, 1, 1e6, "ms")
}

/// `ticker_block200`: how late a 1 ms ticker runs while another task on its one-worker runtime
/// blocks its thread for 200 ms. Reports the p99 and the max tick lateness in µs for each way of
/// blocking, as `in_place.p99`, `in_place.max` (the blocking task calls
/// [`Rt::block_in_place`]) and `plain.p99`, `plain.max` (it calls `std::thread::sleep` straight
/// in its poll, the common mistake), each from its own fresh runtime in this process.
///
/// One worker, because that is where blocking hurts most: with a second worker the ticker could
/// simply move there. `plain` is expected to be bad on both Rust runtimes: neither notices a
/// thread blocked without being told, so the ticker waits out the 200 ms, one tick ~200 ms
/// late. `in_place` shows the rescue: tokio hands its worker's core to a blocking-pool thread
/// at once; gort's sysmon retakes the P after ~20 µs and hands it to another thread.
///
/// The statistics are over few ticks ([`ticker_around_block`] says which): some 240 on gort,
/// whose 1 ms sleeps last ~1.05 ms, and half as many on tokio, whose ticks last ~2 ms; so the
/// p99 is about the 3rd-largest lateness on gort and the 2nd on tokio. `plain` has only ~50
/// (the stalled tick and those after it), so its p99 is its max.
///
/// Go has one way only: its blocking goroutine calls `syscall.Nanosleep`, which Go's runtime
/// always sees (`entersyscall`) and rescues with sysmon's hand-off, so Go reports that run
/// under both names (see main.go).
pub(super) fn ticker_block200<R: Rt>() -> Vec<Metric> {
    let in_place = ticker_around_block::<R>(|| R::block_in_place(block_thread));
    let plain = ticker_around_block::<R>(block_thread);
    let metric = |name, lateness: &[Duration], k| Metric {
        name,
        value: micros(percentile(lateness, k)),
        unit: "µs",
    };
    vec![
        metric("in_place.p99", &in_place, 99),
        metric("in_place.max", &in_place, 100),
        metric("plain.p99", &plain, 99),
        metric("plain.max", &plain, 100),
    ]
}

/// Blocks the calling thread for [`TICKER_BLOCK`]: the `ticker_block200` blocking call.
pub(super) fn block_thread() {
    std::thread::sleep(TICKER_BLOCK);
}

/// One `ticker_block200` run on a fresh one-worker runtime; returns the lateness of every tick
/// that ended after the blocking started, sorted.
///
/// The driver task spawns the ticker, which sleeps [`TICK`] in a loop and records, for each
/// sleep, when it ended and its actual length (timed from just before the sleep is created to
/// just after it completes, as in `sleep100us`). After [`TICKS_BEFORE_BLOCK`] the driver spawns
/// the blocking task, which notes the time and calls `block`; once that task is done, the driver
/// sleeps [`TICKS_AFTER_BLOCK`] more and stops the ticker.
///
/// Only ticks that end after the blocking started count: the one a plain block stalls, every
/// tick during an in-place block, and the ticks after it, which show whether the runtime
/// recovered. The ticks before are an idle runtime's timer precision, which `sleep100us`
/// already measures; including them would only dilute the p99. A tick's lateness is its actual
/// length minus [`TICK`]: tokio rounds every deadline up to its 1 ms wheel, so its ticks are
/// up to 1 ms late even without the block.
pub(super) fn ticker_around_block<R: Rt>(block: fn()) -> Vec<Duration> {
    in_spawned_task_on::<R, _>(1, async move {
        let stop = Arc::new(AtomicBool::new(false));
        let ticker = {
            let stop = Arc::clone(&stop);
            R::spawn(async move {
                let mut ticks = Vec::new();
                while !stop.load(Relaxed) {
                    let start = Instant::now();
                    R::sleep(TICK).await;
                    let end = Instant::now();
                    ticks.push((end, end - start));
                }
                ticks
            })
        };
        R::sleep(TICKS_BEFORE_BLOCK).await;
        let blocker = R::spawn(async move {
            let started = Instant::now();
            block();
            started
        });
        let block_started = blocker.await.expect("the blocking task failed");
        R::sleep(TICKS_AFTER_BLOCK).await;
        stop.store(true, Relaxed);
        let ticks = ticker.await.expect("the ticker failed");
        let mut lateness: Vec<Duration> = ticks
            .into_iter()
            .filter(|&(end, _)| end > block_started)
            .map(|(_, actual)| actual.saturating_sub(TICK))
            .collect();
        lateness.sort_unstable();
        lateness
    })
}

/// `block_in_place_fast`: what entering and leaving [`Rt::block_in_place`] costs when the
/// closure returns at once, in ns per call, as two metrics:
///
/// - `per_poll`: each call is the first of its poll. The driver task alternates batches of
///   [`PER_POLL_BATCH`] iterations of `block_in_place(|| ())` then `yield_now` with batches of as
///   many `yield_now` alone, each batch timed, [`PER_POLL_CALLS`] iterations of each kind in all;
///   the result is the difference of the two totals per call, the yields cancelling out. This is
///   the cost a task pays that makes one such call between awaits.
/// - `in_loop`: [`IN_LOOP_CALLS`] calls of `block_in_place(|| ())` in a row in one poll, timed
///   from before the first to after the last.
///
/// Both are needed because tokio's cost depends on where the call is. A call from a thread that
/// holds a worker's core hands the core to a blocking-pool thread (a `spawn_blocking` job, which
/// wakes or starts a thread) and, on return, takes it back unless that thread has taken it
/// first; on the benchmark machine it had in about one call in five, and the task then goes on
/// on another thread. Either way the call costs tens of µs there. But once the core has gone,
/// the rest of that poll runs on a thread that holds none, where each further call returns at
/// once: so on tokio `in_loop` is a few hand-offs (until one loses the core) and then no-ops,
/// and its figure says little more than that those are cheap. gort's cost is the same either
/// way: one store on the way in and one CAS on the way out (sysmon only retakes a P that stays
/// in for ~20 µs, which an empty closure never does).
///
/// Go cannot call its counterpart (`entersyscall` / `exitsyscall`) without a system call, so
/// its figure is the difference between a `getpid` made through `syscall.Syscall` and one
/// made through `syscall.RawSyscall`, which skips them, reported under both names (see main.go).
pub(super) fn block_in_place_fast<R: Rt>() -> Vec<Metric> {
    let (per_poll, in_loop) = in_spawned_task::<R, _>(async {
        let mut with_calls = Duration::ZERO;
        let mut yields_only = Duration::ZERO;
        for _ in 0..PER_POLL_CALLS / PER_POLL_BATCH {
            let start = Instant::now();
            for _ in 0..PER_POLL_BATCH {
                R::block_in_place(|| ());
                R::yield_now().await;
            }
            let middle = Instant::now();
            for _ in 0..PER_POLL_BATCH {
                R::yield_now().await;
            }
            with_calls += middle - start;
            yields_only += middle.elapsed();
        }
        // Start the tight loop in a fresh poll, as `per_poll`'s calls are.
        R::yield_now().await;
        let start = Instant::now();
        for _ in 0..IN_LOOP_CALLS {
            R::block_in_place(|| ());
        }
        let in_loop = start.elapsed();
        let net_ns = with_calls.as_nanos() as f64 - yields_only.as_nanos() as f64;
        (net_ns / PER_POLL_CALLS as f64, in_loop)
    });
    vec![
        Metric {
            name: "per_poll",
            value: per_poll,
            unit: "ns/call",
        },
        Metric {
            name: "in_loop",
            value: in_loop.as_nanos() as f64 / IN_LOOP_CALLS as f64,
            unit: "ns/call",
        },
    ]
}
