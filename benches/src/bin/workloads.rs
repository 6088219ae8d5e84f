//! `workloads <runtime> <workload>`: runs one DESIGN.md §7 workload once, in this fresh process,
//! on `gort` or `tokio` (for some channel workloads also `async-channel` or `flume`, on tokio)
//! with [`NUM_WORKERS`] workers (`ticker_block200`: one), and prints
//! `RESULT <workload> <runtime> <value> <unit>`, or, for a workload that reports several numbers
//! (say the median and the p99 of `sleep100us`), one `RESULT <workload>.<metric> <runtime> <value>
//! <unit>` line per number. Anything that makes a number suspect (a `timer_fire1m` deadline that
//! passed before every timer was armed) is printed as a `WARNING` line, which `run.py` passes on.
//!
//! `run.py` starts one process per run and takes medians; `go/workloads/main.go` is the Go
//! program for the same workloads with the same parameters, and its comments mirror these.
//!
//! How each workload is timed, identically on all three runtimes:
//!
//! 1. The runtime is built, then `block_on` spawns one driver task and only waits for its result
//!    (in Go: `main` starts a driver goroutine and receives its result). Runtime start-up is
//!    never timed.
//! 2. The driver prepares the completion signal, reads the clock, starts the workload's tasks,
//!    awaits the completion signal and reads the clock again; the elapsed time divided by the
//!    number of operations is the result. Spawning the workload's tasks is always inside the
//!    timed region.
//! 3. The completion signal is a `futures::channel::oneshot` on both Rust runtimes (same code, same
//!    cost), sent by the task that finishes last; in Go it is a channel with a buffer of 1.
//!    `blocking2000` is the exception: its closures are not tasks, so the driver awaits their
//!    `JoinHandle`s, which is what a caller of `spawn_blocking` does (in Go: a `sync.WaitGroup`).
//!
//! `echo50x2000` is the one workload whose Rust body cannot be generic over [`Rt`]: each runtime
//! has its own sockets and IO traits (tokio's, or the `futures` crate's for gort). Both spell the
//! calls alike, so `echo_workload!` below writes the body once and instantiates it per runtime.
//!
//! The timer workloads (`sleep100us`, `sleeps100k`, `timer_cancel1m`, `timer_fire1m`) follow
//! step 1, but measure what their doc says rather than one elapsed time: the actual length of
//! each sleep, each sleep's lateness, or the elapsed time from a common deadline. Every clock
//! read is `std::time::Instant` (Go: `time.Now`, also monotonic), never a runtime's own clock.
//!
//! The blocking-in-place workloads: `ticker_block200` measures how late a 1 ms ticker runs on a
//! one-worker runtime while another task blocks its thread for 200 ms, with and without telling
//! the runtime ([`Rt::block_in_place`]); `block_in_place_fast` measures what telling it costs
//! when the call does not block at all.
//!
//! The channel workloads (`pingpong1`, `pingpong_main`, `pingpong1000x100`, `mpsc4x1024`,
//! `parked200k`) are generic over [`Chan`], a channel together with its runtime: `gort::chan` on
//! gort, `tokio::sync::mpsc` on tokio. The first three also run with the channel crates
//! `async-channel` and `flume` on a tokio runtime with [`NUM_WORKERS`] workers, selected as two
//! more runtimes on the command line (`workloads flume pingpong1`). Rendezvous rows use capacity
//! 0 where the channel has it (gort, flume, Go's unbuffered `chan`) and 1 where it does not
//! (tokio, async-channel). Every channel workload runs in a spawned driver task as in step 1,
//! except `pingpong_main`, whose pinging side is the `block_on` future itself (Go: the main
//! goroutine). `parked200k` measures memory, not time: resident set growth per parked task.
//!
//! The GC workloads run in a driver task as in step 1 and measure what their doc says:
//! `gc_pause` the stop-the-world pause and the wall time of collections with 10k, 100k and 1M
//! live objects in the arena (gort and Go only: tokio has no garbage collector, and its entry
//! here is `None`), and `cycles100k` what 100k channels, each sent its own receiver and then
//! let go, leave behind after the runtime's reclamation (resident set on all three, objects
//! left on gort and Go).
//!
//! The tokio-API workloads (`mpsc_*`, `oneshot200k`, `fs_read`, `process_true1000`,
//! `broadcast_fanout100`, `watch_updates100k`, `localset_yield1000x200`) compare gort's native versions of tokio's primitives with tokio's
//! own, on gort and tokio only; they live in [`tokio_api`], which says how they are written and
//! timed, and are only registered here.

use std::future::Future;
use std::pin::pin;
use std::process::ExitCode;
use std::sync::atomic::Ordering::{AcqRel, Relaxed};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::channel::oneshot;
use futures::FutureExt;
use gort::gc::{Gc, GcCell};
use gort_benches::chan::{AsyncChannel, Chan, Flume, GortChan, GortMpsc, TokioMpsc};
use gort_benches::{Gort, Rt, Tokio, NUM_WORKERS};

// A binary's root looks for its modules beside itself, in `src/bin/`, where cargo would take each
// file for a binary of its own: the workloads' modules live in `src/bin/workloads/` instead.
#[path = "workloads/tokio_api.rs"]
mod tokio_api;

/// Tasks spawned by `spawn200k`.
const SPAWN_TASKS: usize = 200_000;

/// Tasks in the chain of `chained100k`: each spawns the next.
const CHAIN_DEPTH: usize = 100_000;

/// Tasks in `yield1000x200`.
const YIELD_TASKS: usize = 1_000;

/// Yields each task of `yield1000x200` performs.
const YIELDS_PER_TASK: usize = 200;

/// Round trips of `pingpong1` and of `pingpong_main`.
const PING_PONGS: usize = 200_000;

/// Pairs of tasks in `pingpong1000x100`, all ping-ponging at once.
const PING_PAIRS: usize = 1_000;

/// Round trips each `pingpong1000x100` pair does.
const PINGS_PER_PAIR: usize = 100;

/// Producer tasks in `mpsc4x1024`, all sending into one channel.
const MPSC_PRODUCERS: usize = 4;

/// Capacity of the `mpsc4x1024` channel.
const MPSC_CAP: usize = 1_024;

/// Messages `mpsc4x1024` sends in all, `MPSC_MESSAGES / MPSC_PRODUCERS` from each producer.
const MPSC_MESSAGES: usize = 1_000_000;

/// Tasks `parked200k` parks, each on a receive from its own channel.
const PARKED_TASKS: usize = 200_000;

/// Client connections in `echo50x2000`; the server runs one echo task per connection.
const ECHO_CONNS: usize = 50;

/// Round trips each `echo50x2000` client performs on its connection.
const ECHO_ROUND_TRIPS: usize = 2_000;

/// Bytes of one `echo50x2000` message, each way.
const ECHO_MSG_LEN: usize = 64;

/// The bytes every `echo50x2000` request carries; the client checks the echo against them.
const ECHO_REQUEST: [u8; ECHO_MSG_LEN] = [b'x'; ECHO_MSG_LEN];

/// Blocking calls `blocking2000` starts at once.
const BLOCKING_CALLS: usize = 2_000;

/// How long each `blocking2000` call blocks its thread.
const BLOCKING_CALL: Duration = Duration::from_millis(1);

/// Sleeps `sleep100us` performs one after the other, each timed.
const SHORT_SLEEPS: usize = 2_000;

/// What each `sleep100us` sleep asks for.
const SHORT_SLEEP: Duration = Duration::from_micros(100);

/// Tasks in `sleeps100k`, each sleeping once.
const SLEEP_TASKS: usize = 100_000;

/// Longest `sleeps100k` sleep in ms; each is uniform in `1..=SLEEP_MAX_MS` ([`SleepLengths`]).
const SLEEP_MAX_MS: u64 = 50;

/// Seed of [`SleepLengths`], the same in Go, so that all three runtimes sleep the same lengths in
/// the same spawn order.
const SLEEP_SEED: u64 = 1;

/// Sleeps `timer_cancel1m` creates, polls once and drops.
const CANCEL_PAIRS: usize = 1_000_000;

/// What each `timer_cancel1m` sleep asks for: long enough that none fires during the workload.
const CANCEL_SLEEP: Duration = Duration::from_secs(1);

/// `timer_cancel1m` yields after every this many pairs. tokio's `Sleep` spends one unit of the
/// task's coop budget (128 per poll of the task) per poll, and once the budget is spent it
/// returns `Pending` without arming: without the yield, all but the first 128 of tokio's pairs
/// would skip the timer wheel. gort and Go yield as often, so that all three do the same work.
const CANCEL_BATCH: usize = 100;

/// Tasks in `timer_fire1m`, each armed with one timer for the common deadline.
const FIRE_TASKS: usize = 1_000_000;

/// How far the `timer_fire1m` deadline is from the moment the gate opens: enough for the
/// [`FIRE_TASKS`] tasks, all spawned by then, to get past the gate and arm their timers (0.4 s
/// on gort, 0.6 s on tokio, 1.4 s on Go on the 2-core benchmark machine), so that every timer is
/// in place before the first one fires. Only the time after the deadline is measured, so the
/// margin costs nothing but the run's length.
const FIRE_DELAY: Duration = Duration::from_secs(4);

/// The interval of the `ticker_block200` ticker: each tick is one sleep of this length.
const TICK: Duration = Duration::from_millis(1);

/// How long the `ticker_block200` ticker runs before the blocking task starts.
const TICKS_BEFORE_BLOCK: Duration = Duration::from_millis(50);

/// How long the `ticker_block200` blocking task blocks its thread (`std::thread::sleep`).
const TICKER_BLOCK: Duration = Duration::from_millis(200);

/// How long the `ticker_block200` ticker runs on after the blocking task has finished.
const TICKS_AFTER_BLOCK: Duration = Duration::from_millis(50);

/// Calls of `block_in_place(|| ())` that `block_in_place_fast.in_loop` makes in one poll.
const IN_LOOP_CALLS: usize = 1_000_000;

/// Calls of `block_in_place(|| ())` that `block_in_place_fast.per_poll` makes, each followed by a
/// yield, so that each is the first of its poll. Fewer than [`IN_LOOP_CALLS`] because each one
/// moves tokio's worker to another thread (about 20 µs on the benchmark machine).
const PER_POLL_CALLS: usize = 100_000;

/// `block_in_place_fast.per_poll` alternates batches of this many call-and-yield iterations with
/// as many yield-only ones, so that drift on the machine hits both alike.
const PER_POLL_BATCH: usize = 100;

/// The rings `gc_pause` builds, one after the other: the live objects in each, and the names of
/// its metrics (the pause's p50, p99 and max, then the same of the `collect()` call's wall time).
const GC_RINGS: [(usize, [&str; 6]); 3] = [
    (
        10_000,
        [
            "10k.p50",
            "10k.p99",
            "10k.max",
            "10k.wall_p50",
            "10k.wall_p99",
            "10k.wall_max",
        ],
    ),
    (
        100_000,
        [
            "100k.p50",
            "100k.p99",
            "100k.max",
            "100k.wall_p50",
            "100k.wall_p99",
            "100k.wall_max",
        ],
    ),
    (
        1_000_000,
        [
            "1m.p50",
            "1m.p99",
            "1m.max",
            "1m.wall_p50",
            "1m.wall_p99",
            "1m.wall_max",
        ],
    ),
];

/// Collections `gc_pause` runs and times on each ring.
const GC_COLLECTIONS: usize = 21;

/// Channels `cycles100k` makes, each sent its own receiver and let go.
const SELF_CYCLES: usize = 100_000;

/// One number a workload reports: a `RESULT` line.
struct Metric {
    /// Empty for a workload's only number (`RESULT <workload> ...`); else its name after the
    /// dot (`RESULT <workload>.<name> ...`), which is how `run.py` tells its rows apart.
    name: &'static str,
    /// The value, in `unit`.
    value: f64,
    /// Unit of `value` (may contain spaces: it is the rest of the `RESULT` line).
    unit: &'static str,
}

/// One row of DESIGN.md §7 (or a few rows, for a workload with several metrics): its name on the
/// command line and its body instantiated for each runtime.
struct Workload {
    /// Name on the command line and in the `RESULT` lines.
    name: &'static str,
    /// The workload on gort; returns its numbers.
    gort: fn() -> Vec<Metric>,
    /// The workload on tokio; returns its numbers (`None`: not on tokio, which has no garbage
    /// collector for `gc_pause` to measure).
    tokio: Option<fn() -> Vec<Metric>>,
    /// The workload with `async-channel`'s channels on tokio, for the channel workloads that
    /// compare channel crates (`None`: not one of them).
    async_channel: Option<fn() -> Vec<Metric>>,
    /// The workload with `flume`'s channels on tokio, as `async_channel`.
    flume: Option<fn() -> Vec<Metric>>,
}

/// Every workload this binary knows, in the order of DESIGN.md §7, then the timer workloads,
/// the blocking-in-place workloads and the GC workloads, which have no row there, then the
/// tokio-API workloads ([`tokio_api`]).
const WORKLOADS: &[Workload] = &[
    Workload {
        name: "spawn200k",
        gort: spawn200k::<Gort>,
        tokio: Some(spawn200k::<Tokio>),
        async_channel: None,
        flume: None,
    },
    Workload {
        name: "chained100k",
        gort: chained100k::<Gort>,
        tokio: Some(chained100k::<Tokio>),
        async_channel: None,
        flume: None,
    },
    Workload {
        name: "yield1000x200",
        gort: yield1000x200::<Gort>,
        tokio: Some(yield1000x200::<Tokio>),
        async_channel: None,
        flume: None,
    },
    Workload {
        name: "pingpong1",
        gort: pingpong1::<GortChan>,
        tokio: Some(pingpong1::<TokioMpsc>),
        async_channel: Some(pingpong1::<AsyncChannel>),
        flume: Some(pingpong1::<Flume>),
    },
    Workload {
        name: "pingpong_main",
        gort: pingpong_main::<GortChan>,
        tokio: Some(pingpong_main::<TokioMpsc>),
        async_channel: None,
        flume: None,
    },
    Workload {
        name: "pingpong1000x100",
        gort: pingpong1000x100::<GortChan>,
        tokio: Some(pingpong1000x100::<TokioMpsc>),
        async_channel: Some(pingpong1000x100::<AsyncChannel>),
        flume: Some(pingpong1000x100::<Flume>),
    },
    Workload {
        name: "mpsc4x1024",
        gort: mpsc4x1024::<GortChan>,
        tokio: Some(mpsc4x1024::<TokioMpsc>),
        async_channel: Some(mpsc4x1024::<AsyncChannel>),
        flume: Some(mpsc4x1024::<Flume>),
    },
    Workload {
        name: "sleeps100k",
        gort: sleeps100k::<Gort>,
        tokio: Some(sleeps100k::<Tokio>),
        async_channel: None,
        flume: None,
    },
    Workload {
        name: "sleep100us",
        gort: sleep100us::<Gort>,
        tokio: Some(sleep100us::<Tokio>),
        async_channel: None,
        flume: None,
    },
    Workload {
        name: "parked200k",
        gort: parked200k::<GortChan>,
        tokio: Some(parked200k::<TokioMpsc>),
        async_channel: None,
        flume: None,
    },
    Workload {
        name: "echo50x2000",
        gort: echo50x2000_gort,
        tokio: Some(echo50x2000_tokio),
        async_channel: None,
        flume: None,
    },
    Workload {
        name: "blocking2000",
        gort: blocking2000::<Gort>,
        tokio: Some(blocking2000::<Tokio>),
        async_channel: None,
        flume: None,
    },
    Workload {
        name: "timer_cancel1m",
        gort: timer_cancel1m::<Gort>,
        tokio: Some(timer_cancel1m::<Tokio>),
        async_channel: None,
        flume: None,
    },
    Workload {
        name: "timer_fire1m",
        gort: timer_fire1m::<Gort>,
        tokio: Some(timer_fire1m::<Tokio>),
        async_channel: None,
        flume: None,
    },
    Workload {
        name: "ticker_block200",
        gort: ticker_block200::<Gort>,
        tokio: Some(ticker_block200::<Tokio>),
        async_channel: None,
        flume: None,
    },
    Workload {
        name: "block_in_place_fast",
        gort: block_in_place_fast::<Gort>,
        tokio: Some(block_in_place_fast::<Tokio>),
        async_channel: None,
        flume: None,
    },
    Workload {
        name: "gc_pause",
        gort: gc_pause,
        tokio: None,
        async_channel: None,
        flume: None,
    },
    Workload {
        name: "cycles100k",
        gort: cycles100k_gort,
        tokio: Some(cycles100k_tokio),
        async_channel: None,
        flume: None,
    },
    Workload {
        name: "mpsc_pingpong1",
        gort: pingpong1::<GortMpsc>,
        tokio: Some(pingpong1::<TokioMpsc>),
        async_channel: None,
        flume: None,
    },
    Workload {
        name: "mpsc_pingpong1000x100",
        gort: pingpong1000x100::<GortMpsc>,
        tokio: Some(pingpong1000x100::<TokioMpsc>),
        async_channel: None,
        flume: None,
    },
    Workload {
        name: "mpsc_4x1024",
        gort: mpsc4x1024::<GortMpsc>,
        tokio: Some(mpsc4x1024::<TokioMpsc>),
        async_channel: None,
        flume: None,
    },
    Workload {
        name: "oneshot200k",
        gort: tokio_api::on_gort::oneshot200k,
        tokio: Some(tokio_api::on_tokio::oneshot200k),
        async_channel: None,
        flume: None,
    },
    Workload {
        name: "fs_read",
        gort: tokio_api::on_gort::fs_read,
        tokio: Some(tokio_api::on_tokio::fs_read),
        async_channel: None,
        flume: None,
    },
    Workload {
        name: "process_true1000",
        gort: tokio_api::on_gort::process_true1000,
        tokio: Some(tokio_api::on_tokio::process_true1000),
        async_channel: None,
        flume: None,
    },
    Workload {
        name: "broadcast_fanout100",
        gort: tokio_api::on_gort::broadcast_fanout100,
        tokio: Some(tokio_api::on_tokio::broadcast_fanout100),
        async_channel: None,
        flume: None,
    },
    Workload {
        name: "watch_updates100k",
        gort: tokio_api::on_gort::watch_updates100k,
        tokio: Some(tokio_api::on_tokio::watch_updates100k),
        async_channel: None,
        flume: None,
    },
    Workload {
        name: "localset_yield1000x200",
        gort: tokio_api::on_gort::localset_yield1000x200,
        tokio: Some(tokio_api::on_tokio::localset_yield1000x200),
        async_channel: None,
        flume: None,
    },
];

/// A workload's only metric: `elapsed` divided by `ops` operations, in `unit`, whose time part
/// is `unit_ns` nanoseconds (1 for ns, 1000 for µs, 1e6 for ms).
fn per_op(elapsed: Duration, ops: usize, unit_ns: f64, unit: &'static str) -> Vec<Metric> {
    let value = elapsed.as_nanos() as f64 / ops as f64 / unit_ns;
    vec![Metric {
        name: "",
        value,
        unit,
    }]
}

/// Counts finished tasks down to zero; the task that reaches zero sends the completion signal.
///
/// It is a `static` so that the tasks capture nothing, as the Go closures capture only a pointer
/// (no reference count to bump per task).
struct Countdown {
    /// Tasks still to finish. Written by `arm` before the tasks are spawned (the spawn publishes
    /// it), decremented once by each task.
    remaining: AtomicUsize,
    /// Completion signal; set by `arm`, taken by the task that brings `remaining` to zero.
    done: Mutex<Option<oneshot::Sender<()>>>,
}

/// The countdown of the running workload (one workload per process).
static COUNTDOWN: Countdown = Countdown {
    remaining: AtomicUsize::new(0),
    done: Mutex::new(None),
};

impl Countdown {
    /// Expects `tasks` calls to [`Countdown::tick`]; the returned receiver completes after the
    /// last one.
    fn arm(&self, tasks: usize) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        *self.done.lock().unwrap() = Some(tx);
        self.remaining.store(tasks, Relaxed);
        rx
    }

    /// Marks one task finished; the last one sends the completion signal.
    ///
    /// `AcqRel`: the last tick acquires every earlier tick's release (the decrements form one
    /// release sequence), so what the tasks wrote before ticking (the `sleeps100k` lateness sums)
    /// is visible to the driver once the signal arrives. On x86 this is the same `lock xadd` as
    /// `Relaxed`, so the other workloads pay nothing for it.
    fn tick(&self) {
        if self.remaining.fetch_sub(1, AcqRel) == 1 {
            let done = self
                .done
                .lock()
                .unwrap()
                .take()
                .expect("countdown not armed");
            done.send(()).unwrap();
        }
    }
}

/// Builds a runtime with [`NUM_WORKERS`] workers and runs `body` in a task spawned from
/// `block_on`, which only waits for what `body` measured.
fn in_spawned_task<R: Rt, T: Send + 'static>(body: impl Future<Output = T> + Send + 'static) -> T {
    in_spawned_task_on::<R, T>(NUM_WORKERS, body)
}

/// [`in_spawned_task`] on a runtime with `workers` workers.
fn in_spawned_task_on<R: Rt, T: Send + 'static>(
    workers: usize,
    body: impl Future<Output = T> + Send + 'static,
) -> T {
    let rt = R::with_workers(workers);
    rt.block_on(async {
        R::spawn(body)
            .await
            .expect("the workload's driver task failed")
    })
}

/// `spawn200k`: one task spawns [`SPAWN_TASKS`] tasks that each decrement a countdown; timed from
/// before the first spawn until the driver has received the last task's signal.
fn spawn200k<R: Rt>() -> Vec<Metric> {
    let elapsed = in_spawned_task::<R, _>(async {
        let done = COUNTDOWN.arm(SPAWN_TASKS);
        let start = Instant::now();
        for _ in 0..SPAWN_TASKS {
            R::spawn_detached(async { COUNTDOWN.tick() });
        }
        done.await.unwrap();
        start.elapsed()
    });
    per_op(elapsed, SPAWN_TASKS, 1.0, "ns/task")
}

/// Spawns the rest of the `chained100k` chain: a task that continues with `remaining - 1`, or,
/// when nothing remains, sends the completion signal.
fn chain<R: Rt>(remaining: usize, done: oneshot::Sender<()>) {
    if remaining == 0 {
        done.send(()).unwrap();
    } else {
        R::spawn_detached(async move { chain::<R>(remaining - 1, done) });
    }
}

/// `chained100k`: [`CHAIN_DEPTH`] strictly sequential spawns, each task spawning the next; timed
/// from the first spawn until the driver has received the last task's signal.
fn chained100k<R: Rt>() -> Vec<Metric> {
    let elapsed = in_spawned_task::<R, _>(async {
        let (tx, rx) = oneshot::channel();
        let start = Instant::now();
        chain::<R>(CHAIN_DEPTH, tx);
        rx.await.unwrap();
        start.elapsed()
    });
    per_op(elapsed, CHAIN_DEPTH, 1.0, "ns/task")
}

/// `yield1000x200`: one task spawns [`YIELD_TASKS`] tasks that each yield [`YIELDS_PER_TASK`]
/// times and then decrement a countdown; timed from before the first spawn (spawning is included)
/// until the driver has received the last task's signal.
fn yield1000x200<R: Rt>() -> Vec<Metric> {
    let elapsed = in_spawned_task::<R, _>(async {
        let done = COUNTDOWN.arm(YIELD_TASKS);
        let start = Instant::now();
        for _ in 0..YIELD_TASKS {
            R::spawn_detached(async {
                for _ in 0..YIELDS_PER_TASK {
                    R::yield_now().await;
                }
                COUNTDOWN.tick();
            });
        }
        done.await.unwrap();
        start.elapsed()
    });
    per_op(elapsed, YIELD_TASKS * YIELDS_PER_TASK, 1.0, "ns/yield")
}

/// The pinging side of `pingpong1` and `pingpong_main`: makes two rendezvous channels (capacity
/// 0, [`Chan::bounded`] says what that is on each), spawns [`pong`] on them and does
/// [`PING_PONGS`] round trips, each a send of `i` on the first channel and a receive of the echo
/// on the second, checked; timed from before the spawn until the last echo has arrived. Dropping
/// the first channel's sender on return ends the ponger.
async fn ping_pong<C: Chan>() -> Duration {
    let (ping_tx, ping_rx) = C::bounded(0);
    let (pong_tx, mut pong_rx) = C::bounded(0);
    let start = Instant::now();
    C::Runtime::spawn_detached(pong::<C>(ping_rx, pong_tx));
    for i in 0..PING_PONGS as u64 {
        C::send(&ping_tx, i).await;
        let echo = C::recv(&mut pong_rx).await;
        assert_eq!(echo, Some(i), "the ponger echoed another message");
    }
    start.elapsed()
}

/// The ponging side of the ping-pong workloads: sends back every message it receives on `ping`
/// until every sender of `ping` is gone.
async fn pong<C: Chan>(mut ping: C::Receiver, pong: C::Sender) {
    while let Some(msg) = C::recv(&mut ping).await {
        C::send(&pong, msg).await;
    }
}

/// `pingpong1`: [`ping_pong`] in the driver task, ns per round trip (DESIGN.md §7: "ping-pong
/// over a rendezvous channel, 1 pair"). Both sides are tasks, so on gort and Go each hand-off can
/// stay on one P (runnext); tokio's LIFO slot plays the same part.
fn pingpong1<C: Chan>() -> Vec<Metric> {
    let elapsed = in_spawned_task::<C::Runtime, _>(ping_pong::<C>());
    per_op(elapsed, PING_PONGS, 1.0, "ns/round trip")
}

/// `pingpong_main`: [`ping_pong`] as the `block_on` future itself, with no driver task around it
/// (Go: the main goroutine), ns per round trip (DESIGN.md §7: "ping-pong between the `block_on`
/// future and a task"). gort's `block_on` thread holds a P, as Go's main goroutine runs on one;
/// tokio runs the future on the calling thread outside its workers, so every message to or from
/// the ponger wakes another thread.
fn pingpong_main<C: Chan>() -> Vec<Metric> {
    let rt = C::Runtime::with_workers(NUM_WORKERS);
    let elapsed = rt.block_on(ping_pong::<C>());
    per_op(elapsed, PING_PONGS, 1.0, "ns/round trip")
}

/// `pingpong1000x100`: the driver spawns [`PING_PAIRS`] pairs of tasks, each pair on its own two
/// rendezvous channels: a [`pong`] task, then a pinger that does [`PINGS_PER_PAIR`] round trips
/// as in [`ping_pong`], drops its sender (ending its ponger) and ticks the countdown. Timed from
/// before the first channel is made until the driver has the last pinger's signal, so making the
/// 2000 channels and spawning the 2000 tasks counts; ns per round trip, the time divided by
/// `PING_PAIRS * PINGS_PER_PAIR` (DESIGN.md §7: "ping-pong, 1000 pairs x 100").
fn pingpong1000x100<C: Chan>() -> Vec<Metric> {
    let elapsed = in_spawned_task::<C::Runtime, _>(async {
        let done = COUNTDOWN.arm(PING_PAIRS);
        let start = Instant::now();
        for _ in 0..PING_PAIRS {
            let (ping_tx, ping_rx) = C::bounded(0);
            let (pong_tx, mut pong_rx) = C::bounded(0);
            C::Runtime::spawn_detached(pong::<C>(ping_rx, pong_tx));
            C::Runtime::spawn_detached(async move {
                for i in 0..PINGS_PER_PAIR as u64 {
                    C::send(&ping_tx, i).await;
                    let echo = C::recv(&mut pong_rx).await;
                    assert_eq!(echo, Some(i), "the ponger echoed another message");
                }
                drop(ping_tx);
                COUNTDOWN.tick();
            });
        }
        done.await.unwrap();
        start.elapsed()
    });
    per_op(elapsed, PING_PAIRS * PINGS_PER_PAIR, 1.0, "ns/round trip")
}

/// `mpsc4x1024`: the driver makes a channel of capacity [`MPSC_CAP`], spawns [`MPSC_PRODUCERS`]
/// tasks that each send `MPSC_MESSAGES / MPSC_PRODUCERS` messages into it, and receives
/// [`MPSC_MESSAGES`] itself; timed from before the first spawn until the last message is in,
/// ns per message (DESIGN.md §7: "4 producers -> 1 consumer, cap 1024"). The driver counts the
/// messages rather than waiting for the channel to close, as Go's consumer does (closing a Go
/// channel with several senders needs a `WaitGroup`).
fn mpsc4x1024<C: Chan>() -> Vec<Metric> {
    let elapsed = in_spawned_task::<C::Runtime, _>(async {
        let (tx, mut rx) = C::bounded(MPSC_CAP);
        let start = Instant::now();
        for _ in 0..MPSC_PRODUCERS {
            let tx = tx.clone();
            C::Runtime::spawn_detached(async move {
                for i in 0..(MPSC_MESSAGES / MPSC_PRODUCERS) as u64 {
                    C::send(&tx, i).await;
                }
            });
        }
        drop(tx);
        for _ in 0..MPSC_MESSAGES {
            let msg = C::recv(&mut rx).await;
            assert!(msg.is_some(), "the producers stopped early");
        }
        start.elapsed()
    });
    per_op(elapsed, MPSC_MESSAGES, 1.0, "ns/msg")
}

/// `parked200k`'s count of tasks parked in their receive.
static PARKED: Countdown = Countdown {
    remaining: AtomicUsize::new(0),
    done: Mutex::new(None),
};

/// `parked200k`: what an idle task waiting on a channel costs in memory, in bytes of resident set
/// per task (DESIGN.md §7: "200k idle tasks parked on a channel").
///
/// The driver reads the process's resident set size ([`rss_bytes`]), then makes [`PARKED_TASKS`]
/// rendezvous channels, keeping each sender in a `Vec` made beforehand, and spawns one task per
/// channel that polls a receive on it once (which parks it: nothing has been sent), ticks
/// [`PARKED`] and awaits the receive. Once every task has ticked, the driver reads the resident
/// set again; the growth divided by the tasks is the result. It then drops the senders, which
/// closes every channel, and waits for all tasks to see the close and finish (untimed, unmeasured).
///
/// Each task has a channel of its own rather than all sharing one, so that the figure is the
/// whole cost of one blocked goroutine-with-its-channel as Go code writes it (`ch := make(chan
/// int); go func() { <-ch }()`): the task, its receive future and one channel (tokio's `mpsc`,
/// which has no rendezvous, has a buffer of one). It also includes the driver's handle to the
/// channel, 8 B per task in the `Vec` on every runtime (Go: a slice of channels), since pages of
/// the `Vec` become resident only as it fills.
///
/// The resident set is read from `/proc/self/status` on all three runtimes (Go's `MemStats`
/// would count what Go reserved, not what is resident), so the figures compare, allocator and
/// all: glibc's malloc on the Rust side (or mimalloc with `--alloc mimalloc`), Go's own heap and
/// goroutine stacks on the Go side.
fn parked200k<C: Chan>() -> Vec<Metric> {
    let grown = in_spawned_task::<C::Runtime, _>(async {
        let mut senders = Vec::with_capacity(PARKED_TASKS);
        let parked = PARKED.arm(PARKED_TASKS);
        let done = COUNTDOWN.arm(PARKED_TASKS);
        let before = rss_bytes();
        for _ in 0..PARKED_TASKS {
            let (tx, mut rx) = C::bounded(0);
            senders.push(tx);
            C::Runtime::spawn_detached(async move {
                let mut recv = pin!(C::recv(&mut rx));
                let first = futures::poll!(recv.as_mut());
                assert!(
                    first.is_pending(),
                    "a receive on an empty channel completed"
                );
                PARKED.tick();
                let msg = recv.await;
                assert!(msg.is_none(), "a message on a channel nobody sends on");
                COUNTDOWN.tick();
            });
        }
        parked.await.unwrap();
        let after = rss_bytes();
        drop(senders);
        done.await.unwrap();
        after as f64 - before as f64
    });
    vec![Metric {
        name: "",
        value: grown / PARKED_TASKS as f64,
        unit: "B/task",
    }]
}

/// The resident set size of this process in bytes: the `VmRSS` line of `/proc/self/status`
/// (in kB), as Go's `rssBytes` reads it.
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("reading /proc/self/status");
    let kb = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().strip_suffix("kB"))
        .and_then(|kb| kb.trim().parse::<u64>().ok())
        .expect("no VmRSS line in /proc/self/status");
    kb * 1024
}

/// Defines `$name`, the `echo50x2000` workload on the [`Rt`] `$rt`, with its sockets from
/// `$krate::net` and its IO extension traits from `$io_krate::io`.
///
/// A macro rather than a function generic over [`Rt`] because each runtime's sockets implement
/// its own crate's IO traits (gort's are tokio's traits, but gort's own definitions): the calls
/// are spelled alike, so one body serves both with no adapter in the measured code.
///
/// The body: a listener on 127.0.0.1 (port 0) is bound before the clock starts. Timed: a task
/// accepts [`ECHO_CONNS`] connections and spawns one echo task for each (read up to
/// [`ECHO_MSG_LEN`] bytes, write them back, until the client closes); [`ECHO_CONNS`] client tasks
/// each connect and do [`ECHO_ROUND_TRIPS`] round trips (write [`ECHO_MSG_LEN`] bytes, read exactly
/// as many back, check them), then tick the countdown. Both ends set `TCP_NODELAY`, which Go sets
/// on every TCP connection by default: without it, Nagle's algorithm and delayed ACKs could hold a
/// 64-byte message back for tens of milliseconds.
macro_rules! echo_workload {
    ($(#[$doc:meta])* $name:ident, $rt:ident, $krate:ident, $io_krate:ident) => {
        $(#[$doc])*
        fn $name() -> Vec<Metric> {
            use $io_krate::io::{AsyncReadExt, AsyncWriteExt};
            use $krate::net::{TcpListener, TcpStream};

            let elapsed = in_spawned_task::<$rt, _>(async {
                let listener = TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("binding the echo server");
                let addr = listener.local_addr().expect("the echo server's address");
                let done = COUNTDOWN.arm(ECHO_CONNS);
                let start = Instant::now();
                $rt::spawn_detached(async move {
                    for _ in 0..ECHO_CONNS {
                        let (mut stream, _) =
                            listener.accept().await.expect("accepting a connection");
                        stream.set_nodelay(true).expect("setting TCP_NODELAY");
                        $rt::spawn_detached(async move {
                            let mut buf = [0; ECHO_MSG_LEN];
                            loop {
                                let n = stream.read(&mut buf).await.expect("reading a request");
                                if n == 0 {
                                    break; // the client closed: its round trips are done
                                }
                                stream
                                    .write_all(&buf[..n])
                                    .await
                                    .expect("writing the echo");
                            }
                        });
                    }
                });
                for _ in 0..ECHO_CONNS {
                    $rt::spawn_detached(async move {
                        let mut stream = TcpStream::connect(addr).await.expect("connecting");
                        stream.set_nodelay(true).expect("setting TCP_NODELAY");
                        let mut reply = [0; ECHO_MSG_LEN];
                        for _ in 0..ECHO_ROUND_TRIPS {
                            stream
                                .write_all(&ECHO_REQUEST)
                                .await
                                .expect("writing a request");
                            stream
                                .read_exact(&mut reply)
                                .await
                                .expect("reading the echo");
                            assert_eq!(reply, ECHO_REQUEST, "the echo differs from the request");
                        }
                        // Closing is part of the client's work, as in Go, which closes before
                        // it ticks; the EOF ends the server's echo task.
                        drop(stream);
                        COUNTDOWN.tick();
                    });
                }
                done.await.unwrap();
                start.elapsed()
            });
            per_op(elapsed, ECHO_CONNS * ECHO_ROUND_TRIPS, 1e3, "µs/round trip")
        }
    };
}

echo_workload!(
    /// `echo50x2000` on tokio: `tokio::net` sockets and `tokio::io`'s extension traits.
    echo50x2000_tokio,
    Tokio,
    tokio,
    tokio
);

echo_workload!(
    /// `echo50x2000` on gort: `gort::net` sockets and `gort::io`'s extension traits (tokio's).
    echo50x2000_gort,
    Gort,
    gort,
    gort
);

/// `blocking2000`: the driver task hands [`BLOCKING_CALLS`] closures that each block their thread
/// for [`BLOCKING_CALL`] (`std::thread::sleep`) to [`Rt::spawn_blocking`], all at once, then
/// awaits every `JoinHandle` in spawn order; timed from before the first `spawn_blocking` until
/// the last handle is ready, and reported in ms (DESIGN.md §7: "2000 blocking 1 ms calls").
///
/// The process is fresh, so the pool has no threads yet: the time includes starting them, up to
/// the 512 both pools allow at once, after which the other calls queue for a free thread. 2000
/// calls on 512 threads are four rounds of 1 ms at best; DESIGN.md §7 measured 27-30 ms for the
/// same sleeps on 512 plain threads, so thread start-up and hand-off, not the sleeps, dominate.
fn blocking2000<R: Rt>() -> Vec<Metric> {
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

/// The `k`-th percentile of `sorted` by nearest rank: the smallest sample with at least `k`% of
/// the samples at or below it (`k = 50`: the lower median). Go's `percentile` is the same.
fn percentile(sorted: &[Duration], k: usize) -> Duration {
    sorted[(sorted.len() * k).div_ceil(100) - 1]
}

/// `d` in µs, as the timer workloads print it.
fn micros(d: Duration) -> f64 {
    d.as_nanos() as f64 / 1e3
}

/// `sleep100us`: the driver task sleeps [`SHORT_SLEEP`] [`SHORT_SLEEPS`] times in a row, timing
/// each sleep from just before it is created to just after it completes; reports the median and
/// the p99 of those actual lengths, in µs (DESIGN.md §7: "sleep(100 µs), median actual").
///
/// Nothing else runs, so every thread of the runtime parks during each sleep: this measures how
/// precisely an idle runtime wakes, which is bounded by how its parked thread waits (tokio rounds
/// each deadline up to its 1 ms wheel tick).
fn sleep100us<R: Rt>() -> Vec<Metric> {
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
struct SleepLengths {
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
struct Lateness {
    /// Sum of every task's lateness, in ns.
    sum_ns: AtomicI64,
    /// Largest lateness, in ns.
    max_ns: AtomicI64,
    /// Tasks that woke before their requested length had passed (a runtime bug if not zero).
    early: AtomicUsize,
}

/// The lateness of the running `sleeps100k` (one workload per process); a `static` for the same
/// reason as [`COUNTDOWN`].
static LATENESS: Lateness = Lateness {
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
fn sleeps100k<R: Rt>() -> Vec<Metric> {
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
fn timer_cancel1m<R: Rt>() -> Vec<Metric> {
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
static ARMED: Countdown = Countdown {
    remaining: AtomicUsize::new(0),
    done: Mutex::new(None),
};

/// `timer_fire1m` tasks whose first poll of their sleep found the deadline already passed, so
/// that they never armed a timer ([`FIRE_DELAY`] was too short).
static FIRED_UNARMED: AtomicUsize = AtomicUsize::new(0);

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
fn timer_fire1m<R: Rt>() -> Vec<Metric> {
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
fn ticker_block200<R: Rt>() -> Vec<Metric> {
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
fn block_thread() {
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
fn ticker_around_block<R: Rt>(block: fn()) -> Vec<Duration> {
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
fn block_in_place_fast<R: Rt>() -> Vec<Metric> {
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

/// One object of a `gc_pause` ring: a traced handle to the next node, and a payload the
/// collector skips (the node's index, which the walk after the collections checks).
#[derive(gort::gc::Trace)]
struct RingNode {
    /// The next node of the ring; `None` only while the ring is being built.
    next: GcCell<Option<Gc<RingNode>>>,
    /// The node's index in the ring, from 0 at the head.
    #[trace(skip)]
    payload: u64,
}

/// `gc_pause`: how long a collection stops the world, and how long a `gort::gc::collect()` call
/// takes, with N live traced objects in the arena, for N = 10k, 100k and 1M ([`GC_RINGS`]).
///
/// For each N, in the driver task: untimed, [`gc_ring`] builds N [`RingNode`]s linked into one
/// ring (a single cycle, every node reachable) held from outside by one handle, a local of the
/// driver. Then the driver calls `gort::gc::collect()` [`GC_COLLECTIONS`] times in a row and,
/// after each, reads `gort::gc::stats().last_pause`, the time from the stop request to the
/// resume: the stop-the-world handshake and the whole trial deletion (copy every count, trace
/// every edge, mark from the roots). It also times each call with `Instant`, which adds the
/// collector's lock, freeing garbage (none here) and pacing. Reports, in µs, the p50, p99 (by
/// [`percentile`]: of 21 samples, the max) and max of the pauses as `<N>.p50`, `<N>.p99`,
/// `<N>.max`, and of the wall times as `<N>.wall_p50`, `<N>.wall_p99`, `<N>.wall_max`.
///
/// So that the figure cannot come from a collector that freed the ring, the driver checks after
/// each collection that `live_objects` is still at least N, and after the last one walks the
/// ring from its handle: N steps through `next`, each node's payload its index, back to the
/// head (a freed node's value cannot be read: that panics). Then it drops the handle and
/// collects once more, untimed, which must free the whole ring, so that the next size starts
/// from the same arena as the first.
///
/// The ring is built within one poll of the driver, so no automatic collection (`GORT_GC`)
/// runs while it grows, and the first timed collection is the first to see it; Go's pacer
/// collects while its ring grows. Every collection of a gort ring is a whole collection with
/// the world stopped, so `last_pause` and the wall time differ only by the lock and pacing,
/// and both grow with N. Go's `runtime.GC()` marks concurrently: its pause is only its two
/// short stop-the-world phases, and its wall time holds the marking and the sweep (see
/// main.go). tokio has no garbage collector and does not run this workload.
fn gc_pause() -> Vec<Metric> {
    in_spawned_task::<Gort, _>(async {
        let mut metrics = Vec::new();
        for (nodes, names) in GC_RINGS {
            let (mut pauses, mut walls) = collect_around_ring(nodes);
            pauses.sort_unstable();
            walls.sort_unstable();
            let [p50, p99, max, wall_p50, wall_p99, wall_max] = names;
            for (name, samples, k) in [
                (p50, &pauses, 50),
                (p99, &pauses, 99),
                (max, &pauses, 100),
                (wall_p50, &walls, 50),
                (wall_p99, &walls, 99),
                (wall_max, &walls, 100),
            ] {
                metrics.push(Metric {
                    name,
                    value: micros(percentile(samples, k)),
                    unit: "µs",
                });
            }
        }
        metrics
    })
}

/// Builds a ring of `nodes` [`RingNode`]s and returns the one handle to it from outside the
/// arena, to the node of payload 0; each node's `next` is the node of the next payload, and the
/// last one's is the first.
fn gc_ring(nodes: usize) -> Gc<RingNode> {
    let new_node = |payload| {
        Gc::new(RingNode {
            next: GcCell::new(None),
            payload,
        })
    };
    let head = new_node(0);
    let mut last = head.clone();
    for payload in 1..nodes as u64 {
        let node = new_node(payload);
        last.next.set(Some(node.clone()));
        last = node;
    }
    last.next.set(Some(head.clone()));
    head
}

/// One `gc_pause` size: builds a ring of `nodes` ([`gc_ring`]), collects [`GC_COLLECTIONS`]
/// times, checks the ring, lets it go and collects it (untimed); returns each collection's
/// pause (`stats().last_pause`) and the wall time of each `collect()` call, unsorted.
fn collect_around_ring(nodes: usize) -> (Vec<Duration>, Vec<Duration>) {
    let head = gc_ring(nodes);
    let mut pauses = Vec::with_capacity(GC_COLLECTIONS);
    let mut walls = Vec::with_capacity(GC_COLLECTIONS);
    for _ in 0..GC_COLLECTIONS {
        let start = Instant::now();
        gort::gc::collect();
        walls.push(start.elapsed());
        let stats = gort::gc::stats();
        pauses.push(stats.last_pause);
        assert!(
            stats.live_objects >= nodes,
            "a collection freed part of a ring of {nodes} live nodes (stats: {stats:?})"
        );
    }
    let mut at = head.clone();
    for payload in 0..nodes as u64 {
        assert_eq!(at.payload, payload, "the ring is out of order");
        let next = at.next.lock().clone().expect("a ring node without a next");
        at = next;
    }
    assert!(Gc::ptr_eq(&at, &head), "the ring does not close");
    drop((at, head));
    let freed = gort::gc::collect().freed;
    assert!(
        freed >= nodes,
        "only {freed} objects freed after the last handle to a ring of {nodes} went"
    );
    (pauses, walls)
}

/// `cycles100k`'s message on gort: it holds the receiver of the channel it is sent on.
#[derive(gort::gc::Trace)]
struct GortLoop(gort::Receiver<GortLoop>);

/// `cycles100k`'s message on tokio, as [`GortLoop`].
struct TokioLoop(#[allow(dead_code)] tokio::sync::mpsc::Receiver<TokioLoop>); // held, never read

/// `cycles100k`: what a reference cycle through a channel's buffer leaves behind once every
/// handle from outside is gone, after the runtime has reclaimed what it can.
///
/// In the driver task, [`SELF_CYCLES`] times: make a channel with one buffer slot (gort:
/// `gort::chan![GortLoop; 1]`, traced since [`GortLoop`] is `Trace`; tokio: `mpsc::channel(1)`),
/// `try_send` its own receiver into it (which must succeed: the buffer is empty) and drop the
/// sender. Each channel is then held only by its own buffer: reference counting (tokio's `Arc`s)
/// never frees it; gort's collector finds it unreachable from outside the arena; Go's tracing
/// GC frees it like any garbage.
///
/// Reports `bytes`, the growth of the resident set ([`rss_bytes`], as `parked200k`) from before
/// the first channel to after the reclamation, per cycle in bytes; on gort also `objects`, the
/// growth of `gort::gc::stats().live_objects` over all the cycles (0 when every channel is
/// reclaimed, 100k if each leaked its one arena object, the channel state). gort collects
/// (`gort::gc::collect()`) before each reading; tokio has nothing to run and no object count,
/// so it reports `bytes` only. Go runs `runtime.GC()` and `debug.FreeOSMemory()` before each
/// reading and reports the growth of `MemStats.HeapObjects` as `objects`.
///
/// All the channels are made within one poll of the driver, so on gort no automatic collection
/// runs during the loop: all 100k are allocated at the peak, and `bytes` is what freeing them
/// leaves resident. glibc's malloc (the default allocator here) keeps the memory it gets back
/// rather than returning it to the kernel, so gort's `bytes` stays well above zero with every
/// channel freed (`objects` is what says whether any leaked): on the benchmark machine it was
/// about the peak, ~257 B/cycle, and running the loop three more times in the same process
/// grew the resident set for two rounds and then not at all, memory reused rather than leaked.
/// Go's `FreeOSMemory` returns its free pages, and Go's pacer collects during the loop.
fn cycles100k_gort() -> Vec<Metric> {
    let (grown, objects) = in_spawned_task::<Gort, _>(async {
        gort::gc::collect();
        let rss_before = rss_bytes();
        let objects_before = gort::gc::stats().live_objects;
        for _ in 0..SELF_CYCLES {
            let (tx, rx) = gort::chan![GortLoop; 1];
            assert!(
                tx.try_send(GortLoop(rx)).is_ok(),
                "a fresh channel with one buffer slot was full"
            );
        }
        gort::gc::collect();
        let rss_after = rss_bytes();
        let objects_after = gort::gc::stats().live_objects;
        (
            rss_after as f64 - rss_before as f64,
            objects_after as f64 - objects_before as f64,
        )
    });
    vec![
        Metric {
            name: "bytes",
            value: grown / SELF_CYCLES as f64,
            unit: "B/cycle",
        },
        Metric {
            name: "objects",
            value: objects,
            unit: "objects",
        },
    ]
}

/// `cycles100k` on tokio ([`cycles100k_gort`] has the doc): `bytes` only.
fn cycles100k_tokio() -> Vec<Metric> {
    let grown = in_spawned_task::<Tokio, _>(async {
        let rss_before = rss_bytes();
        for _ in 0..SELF_CYCLES {
            let (tx, rx) = tokio::sync::mpsc::channel(1);
            assert!(
                tx.try_send(TokioLoop(rx)).is_ok(),
                "a fresh channel with one buffer slot was full"
            );
        }
        rss_bytes() as f64 - rss_before as f64
    });
    vec![Metric {
        name: "bytes",
        value: grown / SELF_CYCLES as f64,
        unit: "B/cycle",
    }]
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [runtime, name] = args.as_slice() else {
        return usage();
    };
    let Some(workload) = WORKLOADS.iter().find(|w| w.name == name) else {
        return usage();
    };
    let run = match runtime.as_str() {
        "gort" => Some(workload.gort),
        "tokio" => workload.tokio,
        "async-channel" => workload.async_channel,
        "flume" => workload.flume,
        _ => return usage(),
    };
    let Some(run) = run else {
        let why = match runtime.as_str() {
            "tokio" => "tokio has no garbage collector",
            _ => "only some channel workloads compare crates",
        };
        eprintln!("{name} does not run on {runtime}: {why}");
        return ExitCode::from(2);
    };
    for metric in run() {
        let key = match metric.name {
            "" => name.clone(),
            metric_name => format!("{name}.{metric_name}"),
        };
        println!("RESULT {key} {runtime} {:.1} {}", metric.value, metric.unit);
    }
    ExitCode::SUCCESS
}

/// Prints how to call this program and returns the usage-error exit code.
fn usage() -> ExitCode {
    let names: Vec<&str> = WORKLOADS.iter().map(|w| w.name).collect();
    eprintln!(
        "usage: workloads <gort|tokio|async-channel|flume> <workload>\nworkloads: {}",
        names.join(" ")
    );
    ExitCode::from(2)
}
