//! `task::spawn_blocking` as users rely on it: blocking closures run off the Ms and return their
//! value, a panic becomes `JoinError::Panic`, the pool never runs more threads than allowed and
//! lets idle ones go, blocking code may `block_on` and spawn onto its runtime, and shutdown
//! drops queued jobs and does not wait longer than `shutdown_timeout` for running ones.

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use gort::runtime::{Builder, Handle, Runtime};
use gort::task::spawn_blocking;

use common::{count, counter, panic_text, runtime, watchdog, DropGuard};

/// A runtime with `procs` Ps and a blocking pool of at most `max` threads that exit after
/// `keep_alive` idle.
fn runtime_with_pool(procs: usize, max: usize, keep_alive: Duration) -> Runtime {
    Builder::new()
        .worker_threads(procs)
        .max_blocking_threads(max)
        .thread_keep_alive(keep_alive)
        .build()
        .expect("runtime")
}

#[test]
fn spawn_blocking_returns_the_value_from_another_thread() {
    runtime(2).block_on(async {
        let caller = thread::current().id();
        let (value, ran_on) = spawn_blocking(move || (6 * 7, thread::current().id()))
            .await
            .expect("job");
        assert_eq!(value, 42);
        assert_ne!(ran_on, caller, "the job ran on the caller's thread");
    });
}

#[test]
fn a_panicking_job_becomes_join_error_panic_and_the_pool_goes_on() {
    runtime(2).block_on(async {
        let error = spawn_blocking(|| -> u32 { panic!("blocking job panics on purpose") })
            .await
            .expect_err("the panic must surface");
        assert!(error.is_panic());
        assert_eq!(
            panic_text(&*error.into_panic()),
            "blocking job panics on purpose"
        );
        assert_eq!(spawn_blocking(|| 1).await.expect("next job"), 1);
    });
}

#[test]
fn a_thousand_jobs_never_run_on_more_than_max_blocking_threads() {
    const MAX: usize = 8;
    let _watchdog = watchdog(Duration::from_secs(60), "1000 blocking jobs");
    let runtime = runtime_with_pool(2, MAX, Duration::from_secs(10));
    let handle = runtime.handle().clone();
    let running = Arc::new(AtomicUsize::new(0));
    let most_running = Arc::new(AtomicUsize::new(0));
    let threads = Arc::new(Mutex::new(HashSet::new()));
    let most_alive = Arc::new(AtomicUsize::new(0));
    runtime.block_on(async {
        let jobs: Vec<_> = (0..1000)
            .map(|i| {
                let (running, most_running, threads, most_alive, handle) = (
                    Arc::clone(&running),
                    Arc::clone(&most_running),
                    Arc::clone(&threads),
                    Arc::clone(&most_alive),
                    handle.clone(),
                );
                spawn_blocking(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most_running.fetch_max(now, Ordering::SeqCst);
                    most_alive.fetch_max(handle.blocking_threads(), Ordering::SeqCst);
                    threads.lock().unwrap().insert(thread::current().id());
                    thread::sleep(Duration::from_micros(200));
                    running.fetch_sub(1, Ordering::SeqCst);
                    i
                })
            })
            .collect();
        let mut sum = 0;
        for job in jobs {
            sum += job.await.expect("job");
        }
        assert_eq!(sum, (0..1000).sum::<usize>(), "every job ran exactly once");
    });
    let distinct = threads.lock().unwrap().len();
    assert!(most_running.load(Ordering::SeqCst) <= MAX);
    assert!(most_alive.load(Ordering::SeqCst) <= MAX);
    assert!(distinct <= MAX, "{distinct} distinct pool threads");
    assert!(
        most_running.load(Ordering::SeqCst) > 1,
        "the jobs never ran in parallel"
    );
}

#[test]
fn idle_blocking_threads_exit_after_the_keep_alive() {
    let runtime = runtime_with_pool(1, 16, Duration::from_millis(50));
    let handle = runtime.handle().clone();
    runtime.block_on(async {
        let jobs: Vec<_> = (0..4)
            .map(|_| spawn_blocking(|| thread::sleep(Duration::from_millis(20))))
            .collect();
        for job in jobs {
            job.await.expect("job");
        }
    });
    assert!(handle.blocking_threads() >= 1, "no pool thread was started");
    let deadline = Instant::now() + Duration::from_secs(10);
    while handle.blocking_threads() > 0 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        handle.blocking_threads(),
        0,
        "idle threads outlived the keep-alive"
    );
}

#[test]
fn blocking_code_may_block_on_and_spawn_onto_its_runtime() {
    let runtime = runtime(2);
    let runtime_handle = runtime.handle().clone();
    runtime.block_on(async move {
        let answer = spawn_blocking(move || {
            let here = Handle::current();
            assert_eq!(here.gomaxprocs(), runtime_handle.gomaxprocs());
            here.block_on(async { gort::spawn(async { 41 }).await.expect("task") + 1 })
        })
        .await
        .expect("job");
        assert_eq!(answer, 42);
    });
}

#[test]
fn shutdown_drops_queued_jobs_and_bounds_the_wait_for_running_ones() {
    let _watchdog = watchdog(Duration::from_secs(60), "blocking shutdown");
    let drops = counter();
    let ran = counter();
    let runtime = runtime_with_pool(1, 1, Duration::from_secs(10));
    let started = Arc::new(AtomicUsize::new(0));
    runtime.block_on(async {
        let started = Arc::clone(&started);
        // The only pool thread is busy for 5 s...
        drop(spawn_blocking(move || {
            started.fetch_add(1, Ordering::SeqCst);
            thread::sleep(Duration::from_secs(5));
        }));
        // ...so this one stays queued.
        let guard = DropGuard::new(&drops);
        let ran = Arc::clone(&ran);
        drop(spawn_blocking(move || {
            let _guard = guard;
            ran.fetch_add(1, Ordering::SeqCst);
        }));
    });
    while started.load(Ordering::SeqCst) == 0 {
        thread::sleep(Duration::from_millis(1));
    }
    let start = Instant::now();
    runtime.shutdown_timeout(Duration::from_millis(100));
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "shutdown waited {:?} for a running job",
        start.elapsed()
    );
    assert_eq!(count(&ran), 0, "a queued job ran after shutdown");
    assert_eq!(count(&drops), 1, "the queued job's closure was not dropped");
}

#[test]
fn a_blocking_job_does_not_hold_up_the_tasks_of_the_only_p() {
    let _watchdog = watchdog(Duration::from_secs(60), "blocking job on 1 P");
    runtime(1).block_on(async {
        let job = spawn_blocking(|| thread::sleep(Duration::from_secs(2)));
        // While the job blocks its pool thread, the P keeps running Gs: ten 5 ms ticks end
        // long before the job does.
        let ticks = gort::spawn(async {
            for _ in 0..10 {
                gort::time::sleep(Duration::from_millis(5)).await;
            }
        });
        ticks.await.expect("ticker");
        assert!(!job.is_finished(), "the ticker waited for the blocking job");
        job.await.expect("job");
    });
}

#[test]
fn aborting_a_queued_job_cancels_it_before_it_runs() {
    let ran = counter();
    let runtime = runtime_with_pool(1, 1, Duration::from_secs(10));
    runtime.block_on(async {
        let busy = spawn_blocking(|| thread::sleep(Duration::from_millis(100)));
        let ran_inside = Arc::clone(&ran);
        let queued = spawn_blocking(move || {
            ran_inside.fetch_add(1, Ordering::SeqCst);
        });
        queued.abort();
        let error = queued.await.expect_err("an aborted job must not complete");
        assert!(error.is_cancelled());
        busy.await.expect("busy job");
    });
    assert_eq!(count(&ran), 0, "the aborted job ran");
}

#[test]
fn a_blocking_job_may_use_the_blocking_channel_calls() {
    // The job runs inside its G's poll, but as blocking code: no coop budget is in force, so
    // `blocking_recv` and `blocking_send` do not take it for async code and refuse.
    let _watchdog = watchdog(Duration::from_secs(60), "blocking channel calls in a job");
    let rt = runtime(2);
    rt.block_on(async {
        let (tx, mut rx) = gort::sync::mpsc::channel::<u32>(1);
        let (back_tx, mut back_rx) = gort::sync::mpsc::channel::<u32>(1);
        let job = spawn_blocking(move || {
            let mut sum = 0;
            while let Some(value) = rx.blocking_recv() {
                sum += value;
            }
            back_tx.blocking_send(sum).unwrap();
        });
        for value in 1..=4 {
            tx.send(value).await.unwrap();
        }
        drop(tx);
        assert_eq!(back_rx.recv().await, Some(10));
        job.await.unwrap();
    });
}
