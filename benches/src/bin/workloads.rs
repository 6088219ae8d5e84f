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
//! calls alike, so `echo_workload!` (`workloads/net.rs`) writes the body once and instantiates it
//! per runtime.
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
//! The bodies live by area in `workloads/`: `scheduler.rs`, `channels.rs`, `net.rs`,
//! `timers.rs`, `blocking.rs`, `gc.rs` and `tokio_api.rs`; this file holds the table of
//! workloads, what they share (the completion signal, the metric type) and `main`.
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
#[path = "workloads/blocking.rs"]
mod blocking;
#[path = "workloads/channels.rs"]
mod channels;
#[path = "workloads/gc.rs"]
mod gc;
#[path = "workloads/net.rs"]
mod net;
#[path = "workloads/scheduler.rs"]
mod scheduler;
#[path = "workloads/timers.rs"]
mod timers;
#[path = "workloads/tokio_api.rs"]
mod tokio_api;

use blocking::*;
use channels::*;
use gc::*;
use net::*;
use scheduler::*;
use timers::*;

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

/// The `k`-th percentile of `sorted` by nearest rank: the smallest sample with at least `k`% of
/// the samples at or below it (`k = 50`: the lower median). Go's `percentile` is the same.
fn percentile(sorted: &[Duration], k: usize) -> Duration {
    sorted[(sorted.len() * k).div_ceil(100) - 1]
}

/// `d` in µs, as the timer workloads print it.
fn micros(d: Duration) -> f64 {
    d.as_nanos() as f64 / 1e3
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
