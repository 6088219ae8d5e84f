//! tokio's `benches/rt_multi_threaded.rs` (criterion group `rt_multi_scheduler`), ported so that
//! the same bodies run on gort and on tokio in one criterion run.
//!
//! Each bench keeps tokio's name, constants and body; `tokio::spawn` becomes `R::spawn_detached`
//! (its handle was dropped anyway), `rt.spawn` becomes `rt.spawn_remote` (or
//! `rt.spawn_remote_detached`) and `tokio::task::yield_now` becomes `R::yield_now` (see
//! `gort_benches::Rt`). Ids are `rt_multi_scheduler/<runtime>/<bench>`, e.g.
//! `rt_multi_scheduler/gort/spawn_many_local` next to `rt_multi_scheduler/tokio/spawn_many_local`.
//! The differences from tokio's file:
//!
//! - `NUM_WORKERS` is 2 for both runtimes instead of tokio's 4 (see `gort_benches::NUM_WORKERS`).
//! - `ping_pong` uses `tokio::sync::oneshot` on tokio, as tokio's suite does, and
//!   `futures::channel::oneshot` on gort, which has no oneshot of its own (see [`Oneshot`]).
//! - Where tokio's body calls `spawn` inside `block_on` (`spawn_many_local`, `ping_pong`,
//!   `chained_spawn`) the spawn is remote on tokio (the inject queue: `block_on` runs outside the
//!   workers) but local on gort (the `block_on` thread holds a P). The bodies are mirrored
//!   literally anyway, including the blocking `std::sync::mpsc` receive inside `block_on`, which on
//!   gort blocks an M that holds a P: the other P has to steal the work.
//!
//! Criterion's defaults apply (100 samples, 3 s warm-up, 5 s measurement), as in tokio's suite;
//! its command-line flags override them. Criterion takes at least one iteration per sample
//! whatever `--measurement-time` says, so a bench that takes seconds per iteration also needs a
//! smaller `--sample-size` to be quick. A quick run, and one runtime only:
//!
//! ```text
//! cargo bench -p gort-benches --bench rt_multi_threaded -- \
//!     --warm-up-time 1 --measurement-time 2 --sample-size 10
//! cargo bench -p gort-benches --bench rt_multi_threaded -- rt_multi_scheduler/gort/
//! ```
//!
//! Go versions of the rows that translate are `go/workloads/main.go`'s `rt_*` modes; `run.py --rt`
//! prints them next to the criterion medians.

use std::fmt::Debug;
use std::future::Future;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion};
use gort_benches::{Gort, Rt, Tokio, NUM_WORKERS};

/// Tasks spawned per iteration by the `spawn_many_*` benches (tokio's value).
const NUM_SPAWN: usize = 10_000;

/// Busy work each background task does per step in the `spawn_many_remote_busy*` benches.
const STALL_DUR: Duration = Duration::from_micros(10);

/// The criterion group every bench of this file reports into.
type Group<'a> = BenchmarkGroup<'a, WallTime>;

/// The id `<runtime>/<bench>` inside the `rt_multi_scheduler` group.
fn id<R: Rt>(bench: &str) -> BenchmarkId {
    BenchmarkId::new(R::NAME, bench)
}

/// 10k spawns from inside `block_on`, each task counting down; the last one wakes the blocked
/// `block_on` thread through a std channel.
fn spawn_many_local<R: Rt>(g: &mut Group<'_>) {
    let rt = R::with_workers(NUM_WORKERS);

    let (tx, rx) = mpsc::sync_channel(1000);
    let rem = Arc::new(AtomicUsize::new(0));

    g.bench_function(id::<R>("spawn_many_local"), |b| {
        b.iter(|| {
            rem.store(NUM_SPAWN, Relaxed);

            rt.block_on(async {
                for _ in 0..NUM_SPAWN {
                    let tx = tx.clone();
                    let rem = rem.clone();

                    R::spawn_detached(async move {
                        if 1 == rem.fetch_sub(1, Relaxed) {
                            tx.send(()).unwrap();
                        }
                    });
                }

                rx.recv().unwrap();
            });
        })
    });
}

/// 10k spawns of empty tasks from the bench thread into an idle runtime, then `block_on` awaits
/// every handle in spawn order.
fn spawn_many_remote_idle<R: Rt>(g: &mut Group<'_>) {
    let rt = R::with_workers(NUM_WORKERS);

    bench_remote_spawns(g, "spawn_many_remote_idle", &rt, NUM_SPAWN);
}

/// As `spawn_many_remote_idle`, while the runtime is busy with tasks that consume CPU time and
/// yield. Yielding is a lower notification priority than spawning / regular notification.
fn spawn_many_remote_busy1<R: Rt>(g: &mut Group<'_>) {
    let rt = R::with_workers(NUM_WORKERS);
    let flag = Arc::new(AtomicBool::new(true));

    // Spawn some tasks to keep the runtimes busy
    for _ in 0..(2 * NUM_WORKERS) {
        let flag = flag.clone();
        rt.spawn_remote_detached(async move {
            while flag.load(Relaxed) {
                R::yield_now().await;
                stall();
            }
        });
    }

    bench_remote_spawns(g, "spawn_many_remote_busy1", &rt, NUM_SPAWN);

    flag.store(false, Relaxed);
}

/// As `spawn_many_remote_idle` with 1k spawns, while the runtime is busy with tasks that consume
/// CPU time and spawn new high-CPU tasks. Spawning goes via a higher notification priority than
/// yielding.
fn spawn_many_remote_busy2<R: Rt>(g: &mut Group<'_>) {
    const NUM_SPAWN: usize = 1_000;

    let rt = R::with_workers(NUM_WORKERS);
    let flag = Arc::new(AtomicBool::new(true));

    // Spawn some tasks to keep the runtimes busy
    for _ in 0..(NUM_WORKERS) {
        let flag = flag.clone();
        fn iter<R: Rt>(flag: Arc<AtomicBool>) {
            R::spawn_detached(async {
                if flag.load(Relaxed) {
                    stall();
                    iter::<R>(flag);
                }
            });
        }
        rt.spawn_remote_detached(async {
            iter::<R>(flag);
        });
    }

    bench_remote_spawns(g, "spawn_many_remote_busy2", &rt, NUM_SPAWN);

    flag.store(false, Relaxed);
}

/// The measured body of the three `spawn_many_remote_*` benches: `count` empty tasks spawned
/// from the bench thread, then `block_on` awaits every handle in spawn order.
fn bench_remote_spawns<R: Rt>(g: &mut Group<'_>, name: &str, rt: &R, count: usize) {
    let mut handles = Vec::with_capacity(count);
    g.bench_function(id::<R>(name), |b| {
        b.iter(|| {
            for _ in 0..count {
                handles.push(rt.spawn_remote(async {}));
            }
            rt.block_on(async {
                for handle in handles.drain(..) {
                    handle.await.unwrap();
                }
            });
        })
    });
}

/// 200 tasks spawned from the bench thread, each yielding 1000 times; the bench thread waits for
/// all of them on a std channel.
fn yield_many<R: Rt>(g: &mut Group<'_>) {
    const NUM_YIELD: usize = 1_000;
    const TASKS: usize = 200;

    g.bench_function(id::<R>("yield_many"), |b| {
        let rt = R::with_workers(NUM_WORKERS);
        let (tx, rx) = mpsc::sync_channel(TASKS);

        b.iter(move || {
            for _ in 0..TASKS {
                let tx = tx.clone();

                rt.spawn_remote_detached(async move {
                    for _ in 0..NUM_YIELD {
                        R::yield_now().await;
                    }

                    tx.send(()).unwrap();
                });
            }

            for _ in 0..TASKS {
                rx.recv().unwrap();
            }
        })
    });
}

/// The oneshot channel a runtime's `ping_pong` uses: `tokio::sync::oneshot` on tokio, as in
/// tokio's suite; `futures::channel::oneshot` on gort, which has no oneshot type of its own (its
/// channels are Go's `chan`). The two implementations differ, so this row compares runtime plus
/// channel, not the runtime alone.
trait Oneshot: Rt {
    /// Sending half.
    type Tx: Send + 'static;
    /// Receiving half; resolves when the value arrives.
    type Rx: Future<Output = Result<(), Self::RecvError>> + Send + 'static;
    /// Error `Rx` yields when `Tx` was dropped without sending.
    type RecvError: Debug;

    /// A new channel.
    fn oneshot() -> (Self::Tx, Self::Rx);

    /// Sends `()` on `tx`; panics if the receiver is gone.
    fn send(tx: Self::Tx);
}

impl Oneshot for Tokio {
    type Tx = tokio::sync::oneshot::Sender<()>;
    type Rx = tokio::sync::oneshot::Receiver<()>;
    type RecvError = tokio::sync::oneshot::error::RecvError;

    fn oneshot() -> (Self::Tx, Self::Rx) {
        tokio::sync::oneshot::channel()
    }

    fn send(tx: Self::Tx) {
        tx.send(()).unwrap();
    }
}

impl Oneshot for Gort {
    type Tx = futures::channel::oneshot::Sender<()>;
    type Rx = futures::channel::oneshot::Receiver<()>;
    type RecvError = futures::channel::oneshot::Canceled;

    fn oneshot() -> (Self::Tx, Self::Rx) {
        futures::channel::oneshot::channel()
    }

    fn send(tx: Self::Tx) {
        tx.send(()).unwrap();
    }
}

/// 1000 pairs of tasks, each pair doing one oneshot round trip: 2001 spawns (one from inside
/// `block_on`, 2000 from tasks) and 2000 oneshot hand-offs per iteration.
fn ping_pong<R: Oneshot>(g: &mut Group<'_>) {
    const NUM_PINGS: usize = 1_000;

    let rt = R::with_workers(NUM_WORKERS);

    let (done_tx, done_rx) = mpsc::sync_channel(1000);
    let rem = Arc::new(AtomicUsize::new(0));

    g.bench_function(id::<R>("ping_pong"), |b| {
        b.iter(|| {
            let done_tx = done_tx.clone();
            let rem = rem.clone();
            rem.store(NUM_PINGS, Relaxed);

            rt.block_on(async {
                R::spawn_detached(async move {
                    for _ in 0..NUM_PINGS {
                        let rem = rem.clone();
                        let done_tx = done_tx.clone();

                        R::spawn_detached(async move {
                            let (tx1, rx1) = R::oneshot();
                            let (tx2, rx2) = R::oneshot();

                            R::spawn_detached(async move {
                                rx1.await.unwrap();
                                R::send(tx2);
                            });

                            R::send(tx1);
                            rx2.await.unwrap();

                            if 1 == rem.fetch_sub(1, Relaxed) {
                                done_tx.send(()).unwrap();
                            }
                        });
                    }
                });

                done_rx.recv().unwrap();
            });
        })
    });
}

/// 1001 strictly sequential spawn-to-run hops: each task spawns the next, the last one wakes the
/// blocked `block_on` thread through a std channel. Measures spawn-to-run latency.
fn chained_spawn<R: Rt>(g: &mut Group<'_>) {
    const ITER: usize = 1_000;

    fn iter<R: Rt>(done_tx: mpsc::SyncSender<()>, n: usize) {
        if n == 0 {
            done_tx.send(()).unwrap();
        } else {
            R::spawn_detached(async move {
                iter::<R>(done_tx, n - 1);
            });
        }
    }

    g.bench_function(id::<R>("chained_spawn"), |b| {
        let rt = R::with_workers(NUM_WORKERS);
        let (done_tx, done_rx) = mpsc::sync_channel(1000);

        b.iter(move || {
            let done_tx = done_tx.clone();

            rt.block_on(async {
                R::spawn_detached(async move {
                    iter::<R>(done_tx, ITER);
                });

                done_rx.recv().unwrap();
            });
        })
    });
}

/// Busy-waits for [`STALL_DUR`], yielding the OS thread between checks (tokio's `stall`).
fn stall() {
    let now = Instant::now();
    while now.elapsed() < STALL_DUR {
        std::thread::yield_now();
    }
}

/// Every bench, gort then tokio, so that the two rows of a bench are measured back to back.
fn rt_multi_scheduler(c: &mut Criterion) {
    let mut g = c.benchmark_group("rt_multi_scheduler");
    spawn_many_local::<Gort>(&mut g);
    spawn_many_local::<Tokio>(&mut g);
    spawn_many_remote_idle::<Gort>(&mut g);
    spawn_many_remote_idle::<Tokio>(&mut g);
    spawn_many_remote_busy1::<Gort>(&mut g);
    spawn_many_remote_busy1::<Tokio>(&mut g);
    spawn_many_remote_busy2::<Gort>(&mut g);
    spawn_many_remote_busy2::<Tokio>(&mut g);
    ping_pong::<Gort>(&mut g);
    ping_pong::<Tokio>(&mut g);
    yield_many::<Gort>(&mut g);
    yield_many::<Tokio>(&mut g);
    chained_spawn::<Gort>(&mut g);
    chained_spawn::<Tokio>(&mut g);
    g.finish();
}

criterion_group!(benches, rt_multi_scheduler);
criterion_main!(benches);
