//! `task::block_in_place`: blocking code run in place hands the P's other Gs to another thread
//! (sysmon retakes the P, as Go's does from a goroutine in a system call), on one P as on two;
//! the blocking call's value, panics, nesting and the fast path behave as users expect.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use gort::runtime::Handle;
use gort::task::block_in_place;

use common::{panic_text, runtime, tick_while, watchdog};

/// With `procs` Ps: one G blocks in place for 200 ms while a ticker shares its runtime. Without
/// a retake the ticker would make no progress at all on 1 P (its P's only thread is blocked).
fn blocking_in_place_does_not_stall_the_ticker(procs: usize) {
    let _watchdog = watchdog(Duration::from_secs(60), "block_in_place ticker");
    let runtime = runtime(procs);
    let handle = runtime.handle().clone();
    runtime.block_on(async move {
        let during = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let ticker = gort::spawn(tick_while(Arc::clone(&during), Arc::clone(&stop)));
        // Let the ticker start.
        gort::time::sleep(Duration::from_millis(5)).await;
        let blocker = {
            let (during, stop) = (Arc::clone(&during), Arc::clone(&stop));
            gort::spawn(async move {
                block_in_place(|| {
                    during.store(true, Ordering::SeqCst);
                    thread::sleep(Duration::from_millis(200));
                    during.store(false, Ordering::SeqCst);
                });
                stop.store(true, Ordering::SeqCst);
            })
        };
        blocker.await.expect("blocker");
        let ticks = ticker.await.expect("ticker");
        // 200 ticks of 1 ms fit in 200 ms; a tenth of that shows the ticker ran meanwhile.
        assert!(
            ticks.count >= 20,
            "only {} ticks while another G blocked in place: {ticks:?}",
            ticks.count
        );
        assert!(
            ticks.longest_gap <= common::MAX_TICK_GAP,
            "the ticker stalled while another G blocked in place: {ticks:?}"
        );
    });
    assert!(handle.retaken_ps() >= 1, "sysmon never retook the P");
}

#[test]
fn block_in_place_on_one_p_hands_the_p_to_another_thread() {
    blocking_in_place_does_not_stall_the_ticker(1);
}

#[test]
fn block_in_place_on_two_ps_hands_the_p_to_another_thread() {
    blocking_in_place_does_not_stall_the_ticker(2);
}

#[test]
fn block_in_place_returns_the_value_and_nests() {
    runtime(1).block_on(async {
        let value = gort::spawn(async {
            let outer = block_in_place(|| {
                thread::sleep(Duration::from_millis(5));
                block_in_place(|| 20) + 1
            });
            // After losing the P (5 ms is well past the retake threshold) the G goes on.
            gort::task::yield_now().await;
            outer * 2
        })
        .await
        .expect("task");
        assert_eq!(value, 42);
    });
}

#[test]
fn block_in_place_from_block_on_main_keeps_the_runtime_going() {
    let _watchdog = watchdog(Duration::from_secs(60), "block_in_place in main");
    runtime(1).block_on(async {
        let ran = Arc::new(AtomicUsize::new(0));
        let spawned = {
            let ran = Arc::clone(&ran);
            gort::spawn(async move {
                ran.fetch_add(1, Ordering::SeqCst);
            })
        };
        // The spawned G sits on main's P; blocking in place hands that P over so it runs.
        block_in_place(|| {
            let deadline = Instant::now() + Duration::from_secs(5);
            while ran.load(Ordering::SeqCst) == 0 && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(1));
            }
        });
        assert_eq!(
            ran.load(Ordering::SeqCst),
            1,
            "the G queued on main's P never ran"
        );
        spawned.await.expect("spawned");
        // And main goes on working as an M afterwards.
        assert_eq!(gort::spawn(async { 7 }).await.expect("after"), 7);
    });
}

#[test]
fn a_panic_in_block_in_place_reaches_the_task_and_the_runtime_goes_on() {
    runtime(1).block_on(async {
        let error = gort::spawn(async {
            block_in_place(|| {
                thread::sleep(Duration::from_millis(2));
                panic!("blocking code panics on purpose");
            })
        })
        .await
        .expect_err("the panic must surface");
        assert_eq!(
            panic_text(&*error.into_panic()),
            "blocking code panics on purpose"
        );
        assert_eq!(gort::spawn(async { 1 }).await.expect("next"), 1);
    });
}

#[test]
fn block_in_place_outside_a_runtime_just_runs() {
    assert_eq!(block_in_place(|| 5), 5);
    let handle = Handle::current();
    assert_eq!(handle.block_on(async { block_in_place(|| 6) }), 6);
}

#[test]
fn a_quick_block_in_place_keeps_its_p() {
    let runtime = runtime(2);
    let handle = runtime.handle().clone();
    runtime.block_on(async {
        gort::spawn(async {
            for _ in 0..1000 {
                block_in_place(|| ());
            }
        })
        .await
        .expect("task");
    });
    // A thousand empty calls cannot all be retaken (each lasts far below 20 µs); most keep
    // their P on the fast path.
    assert!(handle.retaken_ps() < 100, "{} retakes", handle.retaken_ps());
}

/// tokio's bridge from blocking code back into async code: inside `block_in_place`,
/// `Handle::current().block_on(fut)` runs `fut` to completion on this thread (which works as
/// an M for it), on 1 P and on 2, from a task and from `block_on`'s main future.
fn block_on_inside_block_in_place(procs: usize) {
    let _watchdog = watchdog(Duration::from_secs(60), "block_on inside block_in_place");
    runtime(procs).block_on(async {
        let from_task = gort::spawn(async {
            block_in_place(|| {
                Handle::current().block_on(async {
                    // The future can sleep, spawn and join like any other.
                    gort::time::sleep(Duration::from_millis(2)).await;
                    gort::spawn(async { 20 }).await.expect("inner spawn") + 1
                })
            })
        })
        .await
        .expect("task");
        assert_eq!(from_task, 21);
        let from_main = block_in_place(|| Handle::current().block_on(async { 2 }));
        assert_eq!(from_main, 2);
        // The runtime goes on afterwards.
        assert_eq!(gort::spawn(async { 3 }).await.expect("after"), 3);
    });
}

#[test]
fn block_on_inside_block_in_place_on_one_p() {
    block_on_inside_block_in_place(1);
}

#[test]
fn block_on_inside_block_in_place_on_two_ps() {
    block_on_inside_block_in_place(2);
}

/// The bridge nests: a task inside the inner `block_on` blocks in place and bridges back again.
#[test]
fn block_on_inside_block_in_place_nests() {
    let _watchdog = watchdog(Duration::from_secs(60), "nested bridges");
    runtime(2).block_on(async {
        let depth = gort::spawn(async {
            block_in_place(|| {
                Handle::current().block_on(async {
                    gort::spawn(async {
                        block_in_place(|| {
                            Handle::current().block_on(async {
                                gort::time::sleep(Duration::from_millis(1)).await;
                                2
                            })
                        })
                    })
                    .await
                    .expect("inner task")
                        + 1
                })
            })
        })
        .await
        .expect("outer task");
        assert_eq!(depth, 3);
    });
}

/// `block_on` is still refused inside a task's poll outside `block_in_place` (it would stop the
/// thread's P), with a message that says what to do instead.
#[test]
fn block_on_inside_a_task_still_panics_outside_block_in_place() {
    runtime(1).block_on(async {
        let error = gort::spawn(async { Handle::current().block_on(async { 1 }) })
            .await
            .expect_err("block_on inside a task must panic");
        assert!(
            panic_text(&*error.into_panic()).contains("inside a task"),
            "unexpected message"
        );
    });
}

/// Threads of this process whose name is `name` (as the kernel keeps it: 15 bytes at most), so
/// that threads of the tests running beside this one are not counted.
fn threads_named(name: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task")
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .filter(|comm| comm.trim_end() == name)
        .count()
}

/// 64 concurrent `block_in_place` calls need up to 64 more scheduler threads while they last
/// (each blocked M's P goes to a new one); once they are over, the Ms beyond the Ps' exit after
/// `thread_keep_alive` (issue 14: they stayed parked for good, 71 threads after the burst).
#[test]
fn scheduler_threads_left_by_a_burst_of_block_in_place_exit_after_the_keep_alive() {
    const BURST: usize = 64;
    let _watchdog = watchdog(Duration::from_secs(60), "burst of block_in_place");
    let runtime = gort::runtime::Builder::new()
        .worker_threads(2)
        .thread_name("burst-m")
        .thread_keep_alive(Duration::from_millis(100))
        .build()
        .unwrap();
    let release = Arc::new(AtomicBool::new(false));
    let entered = Arc::new(AtomicUsize::new(0));
    // A plain thread watches and releases the calls: the thread inside `block_on` runs Gs too,
    // and may be one of those blocked.
    let watcher = {
        let (release, entered) = (Arc::clone(&release), Arc::clone(&entered));
        thread::spawn(move || {
            // Every call blocking at once means every one got a thread of its own.
            assert!(common::eventually_blocking(|| entered
                .load(Ordering::SeqCst)
                == BURST));
            let peak = threads_named("burst-m");
            release.store(true, Ordering::SeqCst);
            peak
        })
    };
    runtime.block_on(async {
        let blockers: Vec<_> = (0..BURST)
            .map(|_| {
                let (release, entered) = (Arc::clone(&release), Arc::clone(&entered));
                gort::spawn(async move {
                    block_in_place(|| {
                        entered.fetch_add(1, Ordering::SeqCst);
                        while !release.load(Ordering::SeqCst) {
                            thread::sleep(Duration::from_millis(1));
                        }
                    })
                })
            })
            .collect();
        for blocker in blockers {
            blocker.await.expect("blocker");
        }
    });
    let peak = watcher.join().expect("watcher");
    // One of the calls may be on the `block_on` thread itself.
    assert!(
        peak >= BURST - 1,
        "only {peak} threads for {BURST} blocking calls"
    );
    // Two Ps keep two Ms, plus at most the one in the netpoller.
    assert!(
        common::eventually_blocking(|| threads_named("burst-m") <= 3),
        "{} of the {peak} scheduler threads are still alive",
        threads_named("burst-m")
    );
    // And the runtime still works, starting threads again as needed.
    assert_eq!(runtime.block_on(gort::spawn(async { 5 })).unwrap(), 5);
}

/// `Builder::max_threads` bounds the scheduler threads: with 3 allowed on 1 P, 12 concurrent
/// blocking calls never have more than 3 Ms, and every one of them still runs (a P that needs a
/// thread waits for a blocked M to come back). The first time the limit stops a thread, the
/// runtime says so on stderr (checked in a child process, which has its own stderr).
#[test]
fn the_thread_limit_bounds_scheduler_threads_and_every_task_still_runs() {
    const CALLS: usize = 12;
    let _watchdog = watchdog(Duration::from_secs(60), "thread limit");
    let runtime = gort::runtime::Builder::new()
        .worker_threads(1)
        .max_threads(3)
        .thread_name("capped-m")
        .build()
        .unwrap();
    let most = Arc::new(AtomicUsize::new(0));
    let done = runtime.block_on(async {
        let calls: Vec<_> = (0..CALLS)
            .map(|i| {
                let most = Arc::clone(&most);
                gort::spawn(async move {
                    block_in_place(|| {
                        most.fetch_max(threads_named("capped-m"), Ordering::SeqCst);
                        thread::sleep(Duration::from_millis(20));
                    });
                    i
                })
            })
            .collect();
        let mut done = 0;
        for call in calls {
            done += usize::from(call.await.is_ok());
        }
        done
    });
    assert_eq!(done, CALLS, "every blocking call ran");
    let most = most.load(Ordering::SeqCst);
    assert!(most <= 3, "{most} scheduler threads under a limit of 3");
    if std::env::var_os("GORT_TEST_THREAD_LIMIT_CHILD").is_none() {
        let child = common::rerun_in_child(
            "the_thread_limit_bounds_scheduler_threads_and_every_task_still_runs",
            &[("GORT_TEST_THREAD_LIMIT_CHILD", "1")],
        );
        assert!(
            child.stderr.contains("limit of 3 scheduler threads"),
            "no report of the limit: {}",
            child.stderr
        );
    }
}

#[test]
fn a_thread_limit_below_the_ps_is_an_error_at_build() {
    let error = gort::runtime::Builder::new()
        .worker_threads(4)
        .max_threads(2)
        .build()
        .expect_err("2 threads cannot run 4 Ps");
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    assert!(error.to_string().contains("max_threads"), "{error}");
}

/// The closure is blocking code, not a poll: tokio's `blocking_*` channel calls, which refuse to
/// block inside a task, work there (tokio allows them in `block_in_place` too).
#[test]
fn blocking_channel_calls_work_inside_block_in_place() {
    let rt = runtime(2);
    let received = rt.block_on(async {
        let (tx, mut rx) = gort::sync::mpsc::channel::<u32>(1);
        let receiver = gort::spawn(async move { block_in_place(|| rx.blocking_recv()) });
        tx.send(7).await.unwrap();
        receiver.await.unwrap()
    });
    assert_eq!(received, Some(7));
}
