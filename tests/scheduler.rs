//! Scheduler behaviour users rely on: fairness, cross-thread wakeups, spreading work over Ps,
//! `block_on` misuse and `GORT_MAXPROCS` (shutdown is `shutdown.rs`).

mod common;

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use futures::channel::{mpsc as async_mpsc, oneshot};
use futures::{SinkExt, StreamExt};
use gort::runtime::{Builder, Handle, Runtime};

use common::{count, panic_text, runtime, watchdog};

// ---------------------------------------------------------------------------------------------
// Fairness

/// A task that yields until `stop` is set.
async fn yield_until(stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::SeqCst) {
        gort::task::yield_now().await;
    }
}

/// A task that needs `rounds` scheduling rounds, then sets `stop`.
async fn yield_rounds_then_stop(rounds: usize, stop: Arc<AtomicBool>) {
    for _ in 0..rounds {
        gort::task::yield_now().await;
    }
    stop.store(true, Ordering::SeqCst);
}

/// Every P is kept busy by a task yielding forever; another task that needs 100 rounds must
/// still get them. Spawned from inside `block_on` (local queues) and from a plain thread (the
/// global queue).
#[test]
fn yielding_forever_does_not_starve_other_tasks() {
    let _watchdog = watchdog(Duration::from_secs(60), "yield fairness");
    for procs in [1, 2] {
        for from_outside in [false, true] {
            let rt = runtime(procs);
            let stop = Arc::new(AtomicBool::new(false));
            // `Handle::spawn` puts the tasks into the global queue from this plain thread, and
            // into the P of block_on's thread from inside block_on.
            let spawn_all = || {
                let handle = rt.handle();
                let mut handles: Vec<_> = (0..procs)
                    .map(|_| handle.spawn(yield_until(Arc::clone(&stop))))
                    .collect();
                handles.push(handle.spawn(yield_rounds_then_stop(100, Arc::clone(&stop))));
                handles
            };
            let handles = if from_outside {
                spawn_all()
            } else {
                rt.block_on(async { spawn_all() })
            };
            rt.block_on(async {
                for handle in handles {
                    handle.await.unwrap();
                }
            });
            assert!(
                stop.load(Ordering::SeqCst),
                "procs {procs}, from_outside {from_outside}"
            );
        }
    }
}

/// `block_on`'s future waiting for a task by yielding in a loop (a common pattern in tests and
/// in code ported from Go's `runtime.Gosched()` loops) must let that task run, also when the
/// `block_on` thread holds the only P. The loop is bounded so that starvation fails the test
/// instead of hanging it.
#[test]
fn yielding_in_block_on_does_not_starve_tasks() {
    const GIVE_UP_AFTER: Duration = Duration::from_secs(3);
    for procs in [2, 1] {
        let rt = runtime(procs);
        let ran = Arc::new(AtomicBool::new(false));
        let (ran_flag, yields) = rt.block_on(async {
            let task_ran = Arc::clone(&ran);
            gort::go!(async move { task_ran.store(true, Ordering::SeqCst) });
            let start = Instant::now();
            let mut yields = 0u64;
            while !ran.load(Ordering::SeqCst) && start.elapsed() < GIVE_UP_AFTER {
                gort::task::yield_now().await;
                yields += 1;
            }
            (ran.load(Ordering::SeqCst), yields)
        });
        assert!(
            ran_flag,
            "procs {procs}: the spawned task did not run while block_on's future yielded \
             {yields} times"
        );
    }
}

/// On one P kept busy by a yielding task, a task woken from a plain thread (which puts it in the
/// global queue) still runs: the P looks at the global queue every 61 ticks.
#[test]
fn yielding_forever_does_not_starve_tasks_woken_from_other_threads() {
    const ROUND_TRIPS: usize = 100;
    let _watchdog = watchdog(Duration::from_secs(60), "global queue fairness");
    let rt = runtime(1);
    let stop = Arc::new(AtomicBool::new(false));
    let (request_tx, request_rx) = mpsc::channel::<oneshot::Sender<()>>();
    let echo = thread::spawn(move || {
        for reply in request_rx {
            let _ = reply.send(());
        }
    });
    let yielder = rt.spawn(yield_until(Arc::clone(&stop)));
    let worker = rt.spawn({
        let stop = Arc::clone(&stop);
        async move {
            for _ in 0..ROUND_TRIPS {
                let (reply_tx, reply_rx) = oneshot::channel();
                request_tx.send(reply_tx).unwrap();
                reply_rx.await.unwrap();
            }
            stop.store(true, Ordering::SeqCst);
        }
    });
    rt.block_on(async {
        worker.await.unwrap();
        yielder.await.unwrap();
    });
    echo.join().unwrap();
}

/// Two tasks ping-ponging forever hand each other the `runnext` slot (and the time slice); a
/// third task in the run queue must still get its turns.
#[test]
fn a_ping_pong_pair_does_not_starve_the_run_queue() {
    let _watchdog = watchdog(Duration::from_secs(60), "runnext fairness");
    for procs in [1, 2] {
        let rt = runtime(procs);
        let stop = Arc::new(AtomicBool::new(false));
        rt.block_on(async {
            let mut pairs = Vec::new();
            // One ping-pong pair per P, so that every P is busy with one.
            for _ in 0..procs {
                let (mut ping_tx, mut ping_rx) = async_mpsc::channel::<()>(1);
                let (mut pong_tx, mut pong_rx) = async_mpsc::channel::<()>(1);
                let stop_ping = Arc::clone(&stop);
                pairs.push(gort::spawn(async move {
                    while !stop_ping.load(Ordering::SeqCst) {
                        ping_tx.send(()).await.unwrap();
                        pong_rx.next().await.unwrap();
                    }
                    drop(ping_tx); // Ends the echo loop.
                }));
                pairs.push(gort::spawn(async move {
                    while let Some(()) = ping_rx.next().await {
                        if pong_tx.send(()).await.is_err() {
                            break;
                        }
                    }
                }));
            }
            gort::task::yield_now().await;
            gort::spawn(yield_rounds_then_stop(100, Arc::clone(&stop)))
                .await
                .unwrap();
            for handle in pairs {
                handle.await.unwrap();
            }
        });
        assert!(stop.load(Ordering::SeqCst));
    }
}

// ---------------------------------------------------------------------------------------------
// Cross-thread wakeups

/// State shared between a [`WokenFromThread`] future and the plain thread that completes it.
struct Remote {
    done: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

/// A future completed by a plain thread: its first poll hands its state to that thread, which
/// sleeps briefly, marks it done and calls the stored waker.
struct WokenFromThread {
    remote: Arc<Remote>,
    waker_thread: Option<mpsc::Sender<Arc<Remote>>>,
}

impl Future for WokenFromThread {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.remote.done.load(Ordering::SeqCst) {
            return Poll::Ready(());
        }
        *self.remote.waker.lock().unwrap() = Some(cx.waker().clone());
        // Re-check after publishing the waker: the thread may have finished in between.
        if self.remote.done.load(Ordering::SeqCst) {
            return Poll::Ready(());
        }
        if let Some(waker_thread) = self.waker_thread.take() {
            waker_thread.send(Arc::clone(&self.remote)).unwrap();
        }
        Poll::Pending
    }
}

#[test]
fn tasks_woken_from_plain_threads_complete() {
    const TASKS: usize = 1000;
    const WAKER_THREADS: usize = 4;
    let _watchdog = watchdog(Duration::from_secs(60), "cross-thread wakeups");
    for procs in [1, 2] {
        let rt = runtime(procs);
        let (senders, waker_threads): (Vec<_>, Vec<_>) = (0..WAKER_THREADS)
            .map(|_| {
                let (tx, rx) = mpsc::channel::<Arc<Remote>>();
                let thread = thread::spawn(move || {
                    for remote in rx {
                        thread::sleep(Duration::from_micros(200));
                        remote.done.store(true, Ordering::SeqCst);
                        let waker = remote.waker.lock().unwrap().take();
                        if let Some(waker) = waker {
                            waker.wake();
                        }
                    }
                });
                (tx, thread)
            })
            .unzip();
        let completed = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {
            let handles: Vec<_> = (0..TASKS)
                .map(|i| {
                    let future = WokenFromThread {
                        remote: Arc::new(Remote {
                            done: AtomicBool::new(false),
                            waker: Mutex::new(None),
                        }),
                        waker_thread: Some(senders[i % WAKER_THREADS].clone()),
                    };
                    let completed = Arc::clone(&completed);
                    gort::spawn(async move {
                        future.await;
                        completed.fetch_add(1, Ordering::SeqCst);
                    })
                })
                .collect();
            for handle in handles {
                handle.await.unwrap();
            }
        });
        assert_eq!(count(&completed), TASKS, "procs {procs}");
        drop(senders);
        for thread in waker_threads {
            thread.join().unwrap();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Spreading work

#[test]
fn cpu_bound_work_spreads_over_every_p() {
    const TASKS: usize = 64;
    const WORK: Duration = Duration::from_millis(20);
    let _watchdog = watchdog(Duration::from_secs(60), "work spreading");
    let rt = Builder::new().worker_threads(2).build().unwrap();
    let threads = rt.block_on(async {
        let handles: Vec<_> = (0..TASKS)
            .map(|_| {
                gort::spawn(async {
                    let start = Instant::now();
                    let mut spins = 0u64;
                    while start.elapsed() < WORK {
                        spins = std::hint::black_box(spins + 1);
                    }
                    thread::current().id()
                })
            })
            .collect();
        let mut threads = HashSet::new();
        for handle in handles {
            threads.insert(handle.await.unwrap());
        }
        threads
    });
    assert!(
        threads.len() >= 2,
        "{TASKS} CPU-bound tasks on 2 Ps ran on {} thread(s)",
        threads.len()
    );
}

// ---------------------------------------------------------------------------------------------
// block_on misuse

#[test]
fn block_on_inside_a_task_panics() {
    type BlockOn = fn();
    let ways: [(&str, BlockOn); 2] = [
        ("gort::block_on", || gort::block_on(async {})),
        ("Handle::block_on", || Handle::current().block_on(async {})),
    ];
    let rt = runtime(2);
    for (name, block_on) in ways {
        let err = rt.block_on(async move {
            gort::spawn(async move { block_on() })
                .await
                .expect_err("block_on inside a task must panic")
        });
        assert!(err.is_panic(), "{name}: {err:?}");
        let message = panic_text(err.into_panic().as_ref());
        assert!(
            message.contains("block_on") && message.contains("inside a task"),
            "{name}: {message:?}"
        );
    }
    // The runtime still works afterwards.
    assert_eq!(rt.block_on(gort::spawn(async { 5 })).unwrap(), 5);
}

#[test]
fn nested_block_on_panics() {
    type BlockOn = fn(&Runtime);
    let ways: [(&str, BlockOn); 3] = [
        ("gort::block_on", |_| gort::block_on(async {})),
        ("same runtime", |rt| rt.block_on(async {})),
        ("another runtime", |_| runtime(1).block_on(async {})),
    ];
    let rt = runtime(2);
    for (name, nested) in ways {
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rt.block_on(async { nested(&rt) })
        }));
        let payload = caught.expect_err(name);
        let message = panic_text(payload.as_ref());
        assert!(
            message.contains("block_on") && message.contains("inside another block_on"),
            "{name}: {message:?}"
        );
        // The panic unwound out of the outer block_on; the runtime still works.
        assert_eq!(rt.block_on(gort::spawn(async { 6 })).unwrap(), 6, "{name}");
    }
}

// ---------------------------------------------------------------------------------------------
// GORT_MAXPROCS

/// Set in the environment of the child process that [`gort_maxprocs_sets_the_default`] starts.
const CHILD_ENV: &str = "GORT_SCHEDULER_TEST_MAXPROCS_CHILD";

/// The child's side: reports the Ps of the default runtime and of two built runtimes. Does
/// nothing in a normal test run.
#[test]
fn gort_maxprocs_child() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let default = gort::runtime::gomaxprocs();
    let built = Builder::new().build().unwrap().handle().gomaxprocs();
    let built_again = Runtime::new().unwrap().handle().gomaxprocs();
    let parallelism = thread::available_parallelism().unwrap().get();
    // On a line of its own: the harness prints `test ... ` before it and `ok` after it.
    println!("\nmaxprocs-report: {default} {built} {built_again} {parallelism}");
}

#[test]
fn gort_maxprocs_sets_the_default() {
    // (GORT_MAXPROCS, expected Ps or None for the available parallelism, warning lines)
    let cases: &[(Option<&str>, Option<usize>, usize)] = &[
        (Some("3"), Some(3), 0),
        (Some("1"), Some(1), 0),
        (Some(" 2 "), Some(2), 0),
        (Some("abc"), None, 1),
        (Some("0"), None, 1),
        (Some("-4"), None, 1),
        (None, None, 0),
    ];
    let exe = std::env::current_exe().unwrap();
    for &(value, expected, warnings) in cases {
        let mut child = Command::new(&exe);
        child
            .args([
                "gort_maxprocs_child",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, "1");
        match value {
            Some(value) => child.env("GORT_MAXPROCS", value),
            None => child.env_remove("GORT_MAXPROCS"),
        };
        let output = child.output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "{value:?}: child failed\n{stdout}\n{stderr}"
        );

        let report: Vec<usize> = stdout
            .lines()
            .find_map(|line| line.strip_prefix("maxprocs-report: "))
            .unwrap_or_else(|| panic!("{value:?}: no report in {stdout:?}"))
            .split(' ')
            .map(|n| n.parse().unwrap())
            .collect();
        let [default, built, built_again, parallelism] = report[..] else {
            panic!("{value:?}: bad report {report:?}");
        };
        let expected = expected.unwrap_or(parallelism);
        assert_eq!(
            (default, built, built_again),
            (expected, expected, expected),
            "GORT_MAXPROCS={value:?}"
        );
        let warning_lines: Vec<_> = stderr
            .lines()
            .filter(|line| line.contains("GORT_MAXPROCS"))
            .collect();
        assert_eq!(
            warning_lines.len(),
            warnings,
            "GORT_MAXPROCS={value:?}: warnings {warning_lines:?}"
        );
    }
}
