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
