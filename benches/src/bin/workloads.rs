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
//!
//! `echo50x2000` is the one workload whose Rust body cannot be generic over [`Rt`]: each runtime
//! has its own sockets and IO traits (tokio's, or the `futures` crate's for gort). Both spell the
//! calls alike, so `echo_workload!` below writes the body once and instantiates it per runtime.

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

/// Client connections in `echo50x2000`; the server runs one echo task per connection.
const ECHO_CONNS: usize = 50;

/// Round trips each `echo50x2000` client performs on its connection.
const ECHO_ROUND_TRIPS: usize = 2_000;

/// Bytes of one `echo50x2000` message, each way.
const ECHO_MSG_LEN: usize = 64;

/// The bytes every `echo50x2000` request carries; the client checks the echo against them.
const ECHO_REQUEST: [u8; ECHO_MSG_LEN] = [b'x'; ECHO_MSG_LEN];

/// One row of DESIGN.md §7: its name on the command line, what it divides the elapsed time by,
/// and its body instantiated for each runtime.
struct Workload {
    /// Name on the command line and in the `RESULT` line.
    name: &'static str,
    /// Unit of the printed value (may contain spaces: it is the rest of the `RESULT` line).
    unit: &'static str,
    /// Nanoseconds in the time part of `unit`: 1 for ns, 1000 for µs.
    unit_ns: f64,
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
        unit_ns: 1.0,
        ops: SPAWN_TASKS,
        gort: spawn200k::<Gort>,
        tokio: spawn200k::<Tokio>,
    },
    Workload {
        name: "chained100k",
        unit: "ns/task",
        unit_ns: 1.0,
        ops: CHAIN_DEPTH,
        gort: chained100k::<Gort>,
        tokio: chained100k::<Tokio>,
    },
    Workload {
        name: "yield1000x200",
        unit: "ns/yield",
        unit_ns: 1.0,
        ops: YIELD_TASKS * YIELDS_PER_TASK,
        gort: yield1000x200::<Gort>,
        tokio: yield1000x200::<Tokio>,
    },
    Workload {
        name: "echo50x2000",
        unit: "µs/round trip",
        unit_ns: 1_000.0,
        ops: ECHO_CONNS * ECHO_ROUND_TRIPS,
        gort: echo50x2000_gort,
        tokio: echo50x2000_tokio,
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

/// Defines `$name`, the `echo50x2000` workload on the [`Rt`] `$rt`, with its sockets from
/// `$krate::net` and its IO extension traits from `$krate::io`.
///
/// A macro rather than a function generic over [`Rt`] because tokio's sockets implement tokio's IO
/// traits and gort's implement the `futures` crate's: the calls are spelled alike (`read`,
/// `read_exact`, `write_all`), so one body serves both with no adapter in the measured code.
///
/// The body: a listener on 127.0.0.1 (port 0) is bound before the clock starts. Timed: a task
/// accepts [`ECHO_CONNS`] connections and spawns one echo task for each (read up to
/// [`ECHO_MSG_LEN`] bytes, write them back, until the client closes); [`ECHO_CONNS`] client tasks
/// each connect and do [`ECHO_ROUND_TRIPS`] round trips (write [`ECHO_MSG_LEN`] bytes, read exactly
/// as many back, check them), then tick the countdown. Both ends set `TCP_NODELAY`, which Go sets
/// on every TCP connection by default: without it, Nagle's algorithm and delayed ACKs could hold a
/// 64-byte message back for tens of milliseconds.
macro_rules! echo_workload {
    ($(#[$doc:meta])* $name:ident, $rt:ident, $krate:ident) => {
        $(#[$doc])*
        fn $name() -> Duration {
            use $krate::io::{AsyncReadExt, AsyncWriteExt};
            use $krate::net::{TcpListener, TcpStream};

            in_spawned_task::<$rt>(async {
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
            })
        }
    };
}

echo_workload!(
    /// `echo50x2000` on tokio: `tokio::net` sockets and `tokio::io`'s extension traits.
    echo50x2000_tokio,
    Tokio,
    tokio
);

echo_workload!(
    /// `echo50x2000` on gort: `gort::net` sockets and `gort::io`'s extension traits (the `futures`
    /// crate's).
    echo50x2000_gort,
    Gort,
    gort
);

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
    let per_op = elapsed.as_nanos() as f64 / workload.ops as f64 / workload.unit_ns;
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
