//! The tokio-API workloads: gort's native versions of tokio's primitives (issue 15) against
//! tokio's own, call for call, on gort and tokio only (Go has no `oneshot`, `broadcast`, `watch`
//! or `LocalSet`, and its channels already have rows of their own).
//!
//! Issue 15's promise is that a tokio program ports by renaming `tokio::` to `gort::`. The bodies
//! here are written that way: once, in [`tokio_api_workloads!`], against `$krate::` paths, and
//! instantiated as [`on_gort`] (`gort::`, on [`Gort`]) and [`on_tokio`] (`tokio::`, on
//! [`Tokio`]). So both runs make the same calls in the same order, with no adapter in the
//! measured code.
//!
//! The `mpsc` rows (`mpsc_pingpong1`, `mpsc_pingpong1000x100`, `mpsc_4x1024`) need no body here:
//! they are the channel workloads' generic bodies in `workloads.rs` run on
//! `gort_benches::chan::GortMpsc` (`gort::sync::mpsc`) instead of `GortChan` (`gort::chan`),
//! against the same `TokioMpsc`; capacity 1 stands in for rendezvous on both, as tokio's `mpsc`
//! has no capacity 0.
//!
//! Timing follows `workloads.rs`'s rules: the body runs in a driver task spawned from
//! `block_on`, spawning the workload's tasks is inside the timed region, and the completion
//! signal is [`COUNTDOWN`]. `localset_yield1000x200` is the exception: a `LocalSet` is not
//! `Send`, so it cannot live in a spawned task; its driver is the `block_on` future, which runs
//! the set (tokio's documented way, `rt.block_on(local.run_until(..))`). Where a workload starts
//! something the runtime creates on first use (blocking-pool threads for `fs`, the child-exit
//! machinery for `process`), one untimed call comes first, as runtime start-up is never timed.
//!
//! What each workload measures is in its doc below and in `run.py`'s labels.

use std::time::{Duration, Instant};

use gort_benches::{Gort, Rt, Tokio, NUM_WORKERS};

use super::{in_spawned_task, per_op, Metric, COUNTDOWN};

/// Round trips of each `oneshot200k` variant.
const ONESHOT_ROUND_TRIPS: usize = 200_000;

/// Capacity of the request channel of `oneshot200k.via_mpsc`; the client has one request out at
/// a time, so any capacity behaves alike.
const ONESHOT_REQUEST_CAP: usize = 1;

/// Reads of the small file in `fs_read.4k`.
const FS_SMALL_READS: usize = 10_000;

/// Length of the small file `fs_read` reads.
const FS_SMALL_LEN: usize = 4 << 10;

/// Reads of the large file in `fs_read.16m`.
const FS_LARGE_READS: usize = 50;

/// Length of the large file `fs_read` reads.
const FS_LARGE_LEN: usize = 16 << 20;

/// Children each `process_true1000` variant runs.
const PROCESSES: usize = 1_000;

/// Children `process_true1000.batch50` runs at once: a batch of tasks, each running one child,
/// all joined before the next batch starts.
const PROCESS_BATCH: usize = 50;

/// Receivers of `broadcast_fanout100`.
const BROADCAST_RECEIVERS: usize = 100;

/// Values `broadcast_fanout100` sends (each is delivered to every receiver).
const BROADCAST_VALUES: usize = 2_000;

/// Capacity of `broadcast_fanout100`'s channel: more than it ever holds, so nobody lags.
const BROADCAST_CAPACITY: usize = 4_096;

/// Receivers of `watch_updates100k`.
const WATCH_RECEIVERS: usize = 10;

/// Updates `watch_updates100k` sends.
const WATCH_UPDATES: u64 = 100_000;

/// Local tasks `localset_yield1000x200` spawns.
const LOCAL_TASKS: usize = 1_000;

/// Yields each `localset_yield1000x200` task makes.
const LOCAL_YIELDS: usize = 200;

/// Builds a metric named `name`: `elapsed` divided by `ops` operations, in `unit`, whose time
/// part is `unit_ns` nanoseconds (as `per_op`, for a workload with several metrics).
fn metric(
    name: &'static str,
    elapsed: Duration,
    ops: usize,
    unit_ns: f64,
    unit: &'static str,
) -> Metric {
    let value = elapsed.as_nanos() as f64 / ops as f64 / unit_ns;
    Metric { name, value, unit }
}

/// A directory of its own for `fs_read`'s files: under the system's temporary directory, named
/// after the process, so that runs in parallel do not share files.
fn scratch_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("gort-benches-fs_read-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("creating fs_read's directory");
    dir
}

/// Defines `pub(crate) mod $module`: every tokio-API workload with `$krate::` (`gort` or `tokio`)
/// paths on the [`Rt`] `$rt`. One body for both runtimes, since gort's API is tokio's with the
/// crate renamed (module doc).
macro_rules! tokio_api_workloads {
    ($(#[$doc:meta])* $module:ident, $rt:ident, $krate:ident) => {
        $(#[$doc])*
        pub(crate) mod $module {
            use $krate::sync::{broadcast, mpsc, oneshot, watch};
            use $krate::{fs, process, task};

            use super::*;

            /// `oneshot200k`: a round trip through a fresh oneshot channel, ns per round trip,
            /// two ways, one after the other in the driver task.
            ///
            /// `.via_mpsc` is the actor pattern: a server task receives `oneshot::Sender`s on an
            /// `mpsc` channel of capacity [`ONESHOT_REQUEST_CAP`] and answers each with a counter;
            /// the driver makes a oneshot, sends its sender, awaits the answer and checks it,
            /// [`ONESHOT_ROUND_TRIPS`] times (so the figure includes one `mpsc` hand-off).
            /// `.via_spawn` sends the sender to its peer by spawning the peer: a task per round
            /// trip that only answers (so the figure includes one spawn).
            pub(crate) fn oneshot200k() -> Vec<Metric> {
                let (via_mpsc, via_spawn) = in_spawned_task::<$rt, _>(async {
                    let (requests, mut incoming) =
                        mpsc::channel::<oneshot::Sender<u64>>(ONESHOT_REQUEST_CAP);
                    let start = Instant::now();
                    $rt::spawn_detached(async move {
                        let mut answer = 0;
                        while let Some(reply) = incoming.recv().await {
                            reply.send(answer).expect("the client left before its answer");
                            answer += 1;
                        }
                    });
                    for i in 0..ONESHOT_ROUND_TRIPS as u64 {
                        let (reply, answer) = oneshot::channel();
                        requests.send(reply).await.expect("the server is gone");
                        let answer = answer.await.expect("the server dropped a reply sender");
                        assert_eq!(answer, i, "the server answered another request");
                    }
                    let via_mpsc = start.elapsed();
                    drop(requests); // ends the server

                    let start = Instant::now();
                    for i in 0..ONESHOT_ROUND_TRIPS as u64 {
                        let (reply, answer) = oneshot::channel();
                        $rt::spawn_detached(async move {
                            reply.send(i).expect("the client left before its answer");
                        });
                        let answer = answer.await.expect("the peer dropped its reply sender");
                        assert_eq!(answer, i, "the peer answered another request");
                    }
                    (via_mpsc, start.elapsed())
                });
                vec![
                    metric("via_mpsc", via_mpsc, ONESHOT_ROUND_TRIPS, 1.0, "ns/round trip"),
                    metric("via_spawn", via_spawn, ONESHOT_ROUND_TRIPS, 1.0, "ns/round trip"),
                ]
            }

            /// `fs_read`: `fs::read` of a whole file, µs per read, from the page cache: a file of
            /// [`FS_SMALL_LEN`] bytes [`FS_SMALL_READS`] times (`.4k`), then one of
            /// [`FS_LARGE_LEN`] bytes [`FS_LARGE_READS`] times (`.16m`), one read after the
            /// other in the driver task, each checked for length. Both files are written with
            /// `std::fs` before the runtime starts, and each is read once untimed first (which
            /// starts the blocking pool's first thread), so every timed read is a hot one.
            pub(crate) fn fs_read() -> Vec<Metric> {
                let dir = scratch_dir();
                let small = dir.join("4k");
                let large = dir.join("16m");
                std::fs::write(&small, vec![b's'; FS_SMALL_LEN]).expect("writing the 4 KiB file");
                std::fs::write(&large, vec![b'l'; FS_LARGE_LEN]).expect("writing the 16 MiB file");
                let (small_reads, large_reads) = in_spawned_task::<$rt, _>(async move {
                    fs::read(&small).await.expect("reading the 4 KiB file");
                    fs::read(&large).await.expect("reading the 16 MiB file");
                    let start = Instant::now();
                    for _ in 0..FS_SMALL_READS {
                        let bytes = fs::read(&small).await.expect("reading the 4 KiB file");
                        assert_eq!(bytes.len(), FS_SMALL_LEN, "a short read of the 4 KiB file");
                    }
                    let small_reads = start.elapsed();
                    let start = Instant::now();
                    for _ in 0..FS_LARGE_READS {
                        let bytes = fs::read(&large).await.expect("reading the 16 MiB file");
                        assert_eq!(bytes.len(), FS_LARGE_LEN, "a short read of the 16 MiB file");
                    }
                    (small_reads, start.elapsed())
                });
                std::fs::remove_dir_all(&dir).expect("removing fs_read's directory");
                vec![
                    metric("4k", small_reads, FS_SMALL_READS, 1e3, "µs/read"),
                    metric("16m", large_reads, FS_LARGE_READS, 1e3, "µs/read"),
                ]
            }

            /// Runs `true` with `process::Command::status` and checks that it succeeded.
            async fn run_true() {
                let status = process::Command::new("true")
                    .status()
                    .await
                    .expect("starting `true`");
                assert!(status.success(), "`true` failed: {status}");
            }

            /// `process_true1000`: µs per child of `process::Command::new("true").status()`,
            /// [`PROCESSES`] children two ways, one after the other: `.batch50`, in batches of
            /// [`PROCESS_BATCH`] tasks each running one child, a batch joined before the next
            /// starts; `.sequential`, one child at a time from the driver task. One untimed child
            /// comes first: it sets up what the runtime builds on the first child (tokio: its
            /// `SIGCHLD` handler and orphan queue; gort: nothing beyond a pidfd per child).
            pub(crate) fn process_true1000() -> Vec<Metric> {
                let (batched, sequential) = in_spawned_task::<$rt, _>(async {
                    run_true().await;
                    let start = Instant::now();
                    for _ in 0..PROCESSES / PROCESS_BATCH {
                        let batch: Vec<_> =
                            (0..PROCESS_BATCH).map(|_| $rt::spawn(run_true())).collect();
                        for child in batch {
                            child.await.expect("a task running `true` failed");
                        }
                    }
                    let batched = start.elapsed();
                    let start = Instant::now();
                    for _ in 0..PROCESSES {
                        run_true().await;
                    }
                    (batched, start.elapsed())
                });
                vec![
                    metric("batch50", batched, PROCESSES, 1e3, "µs/process"),
                    metric("sequential", sequential, PROCESSES, 1e3, "µs/process"),
                ]
            }

            /// `broadcast_fanout100`: one sender, [`BROADCAST_RECEIVERS`] receiver tasks parked in
            /// `recv`; the driver sends [`BROADCAST_VALUES`] values, yielding after each so the
            /// woken receivers run between sends (each send wakes all of them). Timed from before
            /// the receivers are spawned until the last one got the last value, ns per delivered
            /// value (values x receivers).
            pub(crate) fn broadcast_fanout100() -> Vec<Metric> {
                let elapsed = in_spawned_task::<$rt, _>(async {
                    let (sender, _) = broadcast::channel::<u64>(BROADCAST_CAPACITY);
                    let done = COUNTDOWN.arm(BROADCAST_RECEIVERS);
                    let start = Instant::now();
                    for _ in 0..BROADCAST_RECEIVERS {
                        let mut receiver = sender.subscribe();
                        $rt::spawn_detached(async move {
                            for expected in 0..BROADCAST_VALUES as u64 {
                                let value = receiver.recv().await.expect("lagged or closed");
                                assert_eq!(value, expected, "a value was skipped");
                            }
                            COUNTDOWN.tick();
                        });
                    }
                    for value in 0..BROADCAST_VALUES as u64 {
                        sender.send(value).expect("every receiver is subscribed");
                        task::yield_now().await;
                    }
                    done.await.unwrap();
                    start.elapsed()
                });
                per_op(
                    elapsed,
                    BROADCAST_VALUES * BROADCAST_RECEIVERS,
                    1.0,
                    "ns/delivery",
                )
            }

            /// `watch_updates100k`: one sender, [`WATCH_RECEIVERS`] receiver tasks looping on
            /// `changed().await` and `borrow_and_update()` until they see the last value; the
            /// driver sends [`WATCH_UPDATES`] values, yielding after each (receivers may see
            /// fewer: a watch keeps only the newest). Timed from before the receivers are
            /// spawned until all saw the last value, ns per update sent.
            pub(crate) fn watch_updates100k() -> Vec<Metric> {
                let elapsed = in_spawned_task::<$rt, _>(async {
                    let (sender, receiver) = watch::channel(0u64);
                    let done = COUNTDOWN.arm(WATCH_RECEIVERS);
                    let start = Instant::now();
                    for _ in 0..WATCH_RECEIVERS {
                        let mut receiver = receiver.clone();
                        $rt::spawn_detached(async move {
                            loop {
                                receiver.changed().await.expect("the sender is alive");
                                if *receiver.borrow_and_update() == WATCH_UPDATES {
                                    break;
                                }
                            }
                            COUNTDOWN.tick();
                        });
                    }
                    for value in 1..=WATCH_UPDATES {
                        sender.send(value).expect("a receiver is alive");
                        task::yield_now().await;
                    }
                    done.await.unwrap();
                    drop(receiver);
                    start.elapsed()
                });
                per_op(elapsed, WATCH_UPDATES as usize, 1.0, "ns/update")
            }

            /// `localset_yield1000x200`: `yield1000x200` in a `LocalSet`. The `block_on` future
            /// runs the set with `run_until` (a set is not `Send`, module doc); inside it,
            /// [`LOCAL_TASKS`] tasks are spawned with `task::spawn_local`, each yields
            /// [`LOCAL_YIELDS`] times with `task::yield_now` and ticks the countdown; timed from
            /// before the first spawn until the last tick's signal, ns per yield.
            pub(crate) fn localset_yield1000x200() -> Vec<Metric> {
                let rt = $rt::with_workers(NUM_WORKERS);
                let local = task::LocalSet::new();
                let elapsed = rt.block_on(local.run_until(async {
                    let done = COUNTDOWN.arm(LOCAL_TASKS);
                    let start = Instant::now();
                    for _ in 0..LOCAL_TASKS {
                        drop(task::spawn_local(async {
                            for _ in 0..LOCAL_YIELDS {
                                task::yield_now().await;
                            }
                            COUNTDOWN.tick();
                        }));
                    }
                    done.await.unwrap();
                    start.elapsed()
                }));
                per_op(elapsed, LOCAL_TASKS * LOCAL_YIELDS, 1.0, "ns/yield")
            }
        }
    };
}

tokio_api_workloads!(
    /// The tokio-API workloads on gort, with `gort::` paths.
    on_gort,
    Gort,
    gort
);

tokio_api_workloads!(
    /// The tokio-API workloads on tokio, with `tokio::` paths.
    on_tokio,
    Tokio,
    tokio
);
