//! `workloads <runtime> <workload>`: runs one DESIGN.md §7 workload once, in this fresh process,
//! on `gort` or `tokio` with [`NUM_WORKERS`] workers, and prints
//! `RESULT <workload> <runtime> <value> <unit>`.
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

use std::future::Future;
use std::process::ExitCode;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures::channel::oneshot;
use gort_benches::{Gort, Rt, Tokio, NUM_WORKERS};

/// Tasks spawned by `spawn200k`.
const SPAWN_TASKS: usize = 200_000;

/// Tasks in the chain of `chained100k`: each spawns the next.
const CHAIN_DEPTH: usize = 100_000;

/// Tasks in `yield1000x200`.
const YIELD_TASKS: usize = 1_000;

/// Yields each task of `yield1000x200` performs.
const YIELDS_PER_TASK: usize = 200;

/// One row of DESIGN.md §7: its name on the command line, what it divides the elapsed time by,
/// and its body instantiated for each runtime.
struct Workload {
    /// Name on the command line and in the `RESULT` line.
    name: &'static str,
    /// Unit of the printed value.
    unit: &'static str,
    /// Number of operations the elapsed time is divided by.
    ops: usize,
    /// The workload on gort; returns the elapsed time.
    gort: fn() -> Duration,
    /// The workload on tokio; returns the elapsed time.
    tokio: fn() -> Duration,
}

/// Every workload this binary knows, in the order of DESIGN.md §7.
const WORKLOADS: &[Workload] = &[
    Workload {
        name: "spawn200k",
        unit: "ns/task",
        ops: SPAWN_TASKS,
        gort: spawn200k::<Gort>,
        tokio: spawn200k::<Tokio>,
    },
    Workload {
        name: "chained100k",
        unit: "ns/task",
        ops: CHAIN_DEPTH,
        gort: chained100k::<Gort>,
        tokio: chained100k::<Tokio>,
    },
    Workload {
        name: "yield1000x200",
        unit: "ns/yield",
        ops: YIELD_TASKS * YIELDS_PER_TASK,
        gort: yield1000x200::<Gort>,
        tokio: yield1000x200::<Tokio>,
    },
];

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
    fn tick(&self) {
        if self.remaining.fetch_sub(1, Relaxed) == 1 {
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

/// Builds a runtime and runs `body` in a task spawned from `block_on`, which only waits for the
/// elapsed time `body` measured.
fn in_spawned_task<R: Rt>(body: impl Future<Output = Duration> + Send + 'static) -> Duration {
    let rt = R::with_workers(NUM_WORKERS);
    rt.block_on(async {
        R::spawn(body)
            .await
            .expect("the workload's driver task failed")
    })
}

/// `spawn200k`: one task spawns [`SPAWN_TASKS`] tasks that each decrement a countdown; timed from
/// before the first spawn until the driver has received the last task's signal.
fn spawn200k<R: Rt>() -> Duration {
    in_spawned_task::<R>(async {
        let done = COUNTDOWN.arm(SPAWN_TASKS);
        let start = Instant::now();
        for _ in 0..SPAWN_TASKS {
            R::spawn_detached(async { COUNTDOWN.tick() });
        }
        done.await.unwrap();
        start.elapsed()
    })
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
fn chained100k<R: Rt>() -> Duration {
    in_spawned_task::<R>(async {
        let (tx, rx) = oneshot::channel();
        let start = Instant::now();
        chain::<R>(CHAIN_DEPTH, tx);
        rx.await.unwrap();
        start.elapsed()
    })
}

/// `yield1000x200`: one task spawns [`YIELD_TASKS`] tasks that each yield [`YIELDS_PER_TASK`]
/// times and then decrement a countdown; timed from before the first spawn (spawning is included)
/// until the driver has received the last task's signal.
fn yield1000x200<R: Rt>() -> Duration {
    in_spawned_task::<R>(async {
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
    })
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
        "gort" => workload.gort,
        "tokio" => workload.tokio,
        _ => return usage(),
    };
    let elapsed = run();
    let per_op = elapsed.as_nanos() as f64 / workload.ops as f64;
    println!("RESULT {name} {runtime} {per_op:.1} {}", workload.unit);
    ExitCode::SUCCESS
}

/// Prints how to call this program and returns the usage-error exit code.
fn usage() -> ExitCode {
    let names: Vec<&str> = WORKLOADS.iter().map(|w| w.name).collect();
    eprintln!(
        "usage: workloads <gort|tokio> <workload>\nworkloads: {}",
        names.join(" ")
    );
    ExitCode::from(2)
}
