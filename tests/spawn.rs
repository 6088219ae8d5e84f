//! Spawning: from inside tasks, from outside any runtime, at volume, detached (`go!`), named;
//! the goroutine count and `gomaxprocs`; and the locality of spawns made by `block_on`.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use futures::channel::oneshot;

use common::{eventually, runtime, watchdog};

#[test]
fn spawn_from_inside_a_task() {
    let output = gort::block_on(async {
        gort::spawn(async {
            let inner = gort::spawn(async { 6 * 7 });
            inner.await.unwrap()
        })
        .await
        .unwrap()
    });
    assert_eq!(output, 42);
}

#[test]
fn spawn_from_a_plain_test_then_block_on_the_handle() {
    let handle = gort::spawn(async { "from a plain #[test]" });
    assert_eq!(gort::block_on(handle).unwrap(), "from a plain #[test]");
}

#[test]
fn spawn_from_a_plain_thread_runs_without_block_on() {
    // Nobody on the spawning thread ever drives the runtime: the default runtime's own threads
    // must run the task.
    let (done_tx, done_rx) = mpsc::channel();
    let spawner = thread::spawn(move || {
        gort::go!(async move { done_tx.send("ran").unwrap() });
    });
    spawner.join().unwrap();
    let got = done_rx.recv_timeout(Duration::from_secs(10));
    assert_eq!(got, Ok("ran"));
}

#[test]
fn spawn_from_a_plain_thread_and_join_elsewhere() {
    let handles: Vec<_> = (0..4u64)
        .map(|i| thread::spawn(move || gort::spawn(async move { i * 10 })))
        .map(|spawner| spawner.join().unwrap())
        .collect();
    let outputs = gort::block_on(async {
        let mut outputs = Vec::new();
        for handle in handles {
            outputs.push(handle.await.unwrap());
        }
        outputs
    });
    assert_eq!(outputs, [0, 10, 20, 30]);
}

/// One million tiny tasks spawned from inside a task all run.
#[test]
fn one_million_tiny_tasks_complete() {
    const TASKS: usize = 1_000_000;
    let _watchdog = watchdog(Duration::from_secs(120), "one million tasks");
    let rt = runtime(2);
    let started = Instant::now();
    let completed = Arc::new(AtomicUsize::new(0));
    let (all_done_tx, all_done_rx) = oneshot::channel::<()>();
    let all_done_tx = Arc::new(Mutex::new(Some(all_done_tx)));
    let spawner = {
        let completed = Arc::clone(&completed);
        async move {
            for _ in 0..TASKS {
                let completed = Arc::clone(&completed);
                let all_done_tx = Arc::clone(&all_done_tx);
                gort::go!(async move {
                    if completed.fetch_add(1, Ordering::Relaxed) + 1 == TASKS {
                        let tx = all_done_tx.lock().unwrap().take().unwrap();
                        tx.send(()).unwrap();
                    }
                });
            }
        }
    };
    rt.block_on(async {
        gort::spawn(spawner).await.unwrap();
        all_done_rx.await.unwrap();
    });
    assert_eq!(completed.load(Ordering::Relaxed), TASKS);
    // Not an assertion (no timing assertions): the figure is reported for the record.
    eprintln!(
        "{TASKS} tasks spawned and completed in {:?}",
        started.elapsed()
    );
}

#[test]
fn go_macro_runs_detached_work() {
    // From inside a runtime.
    let got = gort::block_on(async {
        let (tx, rx) = oneshot::channel();
        gort::go!(async move { tx.send("inside").unwrap() });
        rx.await.unwrap()
    });
    assert_eq!(got, "inside");

    // From a plain thread, with the trailing comma the macro accepts.
    let (tx, rx) = mpsc::channel();
    gort::go!(async move { tx.send("outside").unwrap() },);
    assert_eq!(rx.recv_timeout(Duration::from_secs(10)), Ok("outside"));
}

#[test]
fn go_macro_work_outlives_the_spawning_task() {
    let rt = runtime(2);
    let got = rt.block_on(async {
        let (gate_tx, gate_rx) = oneshot::channel::<()>();
        let (done_tx, done_rx) = oneshot::channel();
        gort::spawn(async move {
            gort::go!(async move {
                gate_rx.await.unwrap();
                done_tx.send("detached work finished").unwrap();
            });
        })
        .await
        .unwrap();
        // The spawning task is gone; the detached one is still waiting for its gate.
        gate_tx.send(()).unwrap();
        done_rx.await.unwrap()
    });
    assert_eq!(got, "detached work finished");
}

#[test]
fn num_goroutine_counts_parked_tasks_and_returns_to_baseline() {
    const PARKED: usize = 10;
    let rt = runtime(2);
    rt.block_on(async {
        let baseline = gort::runtime::num_goroutine();
        assert_eq!(
            baseline, 0,
            "a fresh runtime has no goroutines (main is not one)"
        );

        let (gates, handles): (Vec<_>, Vec<_>) = (0..PARKED)
            .map(|_| {
                let (gate_tx, gate_rx) = oneshot::channel::<()>();
                (gate_tx, gort::spawn(async move { gate_rx.await.unwrap() }))
            })
            .unzip();
        let counted = eventually(|| gort::runtime::num_goroutine() == baseline + PARKED).await;
        assert!(
            counted,
            "expected {PARKED} parked goroutines, num_goroutine() = {}",
            gort::runtime::num_goroutine()
        );
        assert_eq!(rt.handle().num_goroutine(), baseline + PARKED);

        for gate in gates {
            gate.send(()).unwrap();
        }
        for handle in handles {
            handle.await.unwrap();
        }
        let back = eventually(|| gort::runtime::num_goroutine() == baseline).await;
        assert!(
            back,
            "num_goroutine() stayed at {} after every task finished (baseline {baseline})",
            gort::runtime::num_goroutine()
        );
    });
}

#[test]
fn num_goroutine_returns_to_baseline_after_many_short_tasks() {
    let rt = runtime(2);
    rt.block_on(async {
        let baseline = gort::runtime::num_goroutine();
        let handles: Vec<_> = (0..1000)
            .map(|i| {
                gort::spawn(async move {
                    if i % 3 == 0 {
                        gort::task::yield_now().await;
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.await.unwrap();
        }
        let back = eventually(|| gort::runtime::num_goroutine() == baseline).await;
        assert!(
            back,
            "num_goroutine() = {} after every task finished (baseline {baseline})",
            gort::runtime::num_goroutine()
        );
    });
}

#[test]
fn gomaxprocs_equals_worker_threads() {
    for procs in [1, 2, 3, 4, 7] {
        let rt = runtime(procs);
        assert_eq!(rt.handle().gomaxprocs(), procs);
        let (in_main, in_task) = rt.block_on(async {
            let in_task = gort::spawn(async { gort::runtime::gomaxprocs() });
            (gort::runtime::gomaxprocs(), in_task.await.unwrap())
        });
        assert_eq!(
            (in_main, in_task),
            (procs, procs),
            "worker_threads({procs})"
        );
    }
}

/// `block_on`'s thread works as an M holding a P, and what its future spawns goes into that P's
/// `runnext`: a spawn-and-await loop stays on the `block_on` thread. A spinning thief may take
/// `runnext` after its back-off, rarely (more often in debug builds), hence the 5% allowance.
#[test]
fn spawns_from_block_on_run_on_the_block_on_thread() {
    const TASKS: usize = 1000;
    const MIN_LOCAL: usize = 950;
    let rt = runtime(2);
    let main_thread = thread::current().id();
    let ran_on = rt.block_on(async {
        let mut ran_on = Vec::with_capacity(TASKS);
        for _ in 0..TASKS {
            ran_on.push(gort::spawn(async { thread::current().id() }).await.unwrap());
        }
        ran_on
    });
    let local = ran_on.iter().filter(|&&id| id == main_thread).count();
    assert!(
        local >= MIN_LOCAL,
        "only {local} of {TASKS} tasks ran on the block_on thread (expected >= {MIN_LOCAL})"
    );
}

#[test]
fn builder_spawns_a_named_task() {
    let rt = runtime(2);
    rt.block_on(async {
        let handle = gort::task::Builder::new()
            .name("worker-7")
            .spawn(async { 7 })
            .expect("Builder::spawn");
        assert_eq!(handle.await.unwrap(), 7);
    });
}

#[test]
fn builder_spawn_blocking_runs_on_the_blocking_pool() {
    let rt = runtime(1);
    let handle = rt.handle().clone();
    rt.block_on(async move {
        let builder = gort::task::Builder::new();
        // `name` borrows the builder, as tokio's does: one builder names several spawns.
        let caller = thread::current().id();
        let on_pool = builder
            .name("blocking-a")
            .spawn_blocking(move || thread::current().id() != caller)
            .expect("Builder::spawn_blocking");
        assert!(
            on_pool.await.unwrap(),
            "the closure ran on block_on's thread"
        );
        let on_handle = builder
            .name("blocking-b")
            .spawn_blocking_on(|| 6 * 7, &handle)
            .expect("Builder::spawn_blocking_on");
        assert_eq!(on_handle.await.unwrap(), 42);
    });
}

/// Set in the child process of [`builder_name_appears_in_reports_about_the_task`].
const NAMED_CHILD: &str = "GORT_TEST_NAMED_TASK_CHILD";

/// Panics when dropped.
struct PanicsOnDrop;

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("dropped on purpose");
    }
}

#[test]
fn builder_name_appears_in_reports_about_the_task() {
    // `JoinError`'s text is tokio's (id only); the name shows where gort reports on a task by
    // itself, e.g. a future whose destructor panicked when it was dropped unpolled, with no
    // handle to take the panic: a spawn refused by a runtime that shut down. (Abort and the
    // shutdown of a queued or parked task hand that panic to the `JoinHandle`, as tokio does.)
    // That report goes to stderr, so it is read from a child run of this test.
    if std::env::var_os(NAMED_CHILD).is_some() {
        let rt = runtime(2);
        let handle = rt.handle().clone();
        rt.shutdown_background();
        let bomb = PanicsOnDrop;
        let refused = gort::task::Builder::new()
            .name("x")
            .spawn_on(
                async move {
                    let _bomb = bomb;
                },
                &handle,
            )
            .expect("Builder::spawn_on");
        let err = futures::FutureExt::now_or_never(refused)
            .expect("a refused task ends at once")
            .expect_err("refused by the shut down runtime");
        assert!(err.is_cancelled());
        return;
    }
    let child = common::rerun_in_child(
        "builder_name_appears_in_reports_about_the_task",
        &[(NAMED_CHILD, "1")],
    );
    assert!(
        child.stderr.contains("(\"x\") spawned at") && child.stderr.contains("dropped on purpose"),
        "the report lacks the task name:\n{}",
        child.stderr
    );
}

#[test]
fn builder_spawn_on_a_handle_from_a_plain_thread() {
    let rt = runtime(2);
    let handle = rt.handle().clone();
    let join = thread::spawn(move || {
        gort::task::Builder::new()
            .name("on-handle")
            .spawn_on(async { gort::runtime::gomaxprocs() }, &handle)
            .expect("Builder::spawn_on")
    })
    .join()
    .unwrap();
    assert_eq!(
        rt.block_on(join).unwrap(),
        2,
        "the task ran on the handle's runtime"
    );
}

#[test]
fn tasks_from_many_threads_reach_the_default_runtime() {
    let (tx, rx) = mpsc::channel();
    let spawners: Vec<_> = (0..8)
        .map(|i| {
            let tx = tx.clone();
            thread::spawn(move || {
                for j in 0..100 {
                    let tx = tx.clone();
                    gort::go!(async move { tx.send((i, j)).unwrap() });
                }
            })
        })
        .collect();
    drop(tx);
    for spawner in spawners {
        spawner.join().unwrap();
    }
    let received: HashSet<_> = rx.iter().collect();
    assert_eq!(received.len(), 800);
}

/// Tasks spawned by a `block_on` future start in the order they were spawned (tokio's, and
/// what its tests rely on); only a G's spawn takes `runnext` (Go's hand-off).
#[test]
fn tasks_spawned_by_block_on_start_in_spawn_order() {
    for runtime in [
        gort::runtime::Builder::new_current_thread()
            .build()
            .unwrap(),
        gort::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap(),
    ] {
        let order = Arc::new(Mutex::new(Vec::new()));
        runtime.block_on(async {
            let handles: Vec<_> = (0..4)
                .map(|i| {
                    let order = Arc::clone(&order);
                    gort::spawn(async move { order.lock().unwrap().push(i) })
                })
                .collect();
            for handle in handles {
                handle.await.unwrap();
            }
        });
        assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3]);
    }
}
