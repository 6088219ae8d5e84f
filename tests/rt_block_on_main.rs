//! What a `block_on` future is to its runtime: `runtime::worker_index()` in it and in the
//! tasks it spawns, `block_in_place` in a current-thread `Handle::block_on`, and a `LocalSet`
//! driven by a multi-thread `block_on`, whose thread then leaves the runtime's tasks to the
//! workers. tokio's answers, which programs ported from it rely on.

mod common;

use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use gort::runtime::{self, LocalRuntime};
use gort::task::{self, LocalSet};

use common::{current_thread, panic_text, runtime, watchdog};

#[test]
fn a_multi_thread_block_on_future_is_no_worker_but_its_tasks_are() {
    let rt = runtime(2);
    let (in_main, in_task) = rt.block_on(async {
        let in_task = gort::spawn(async { runtime::worker_index() })
            .await
            .unwrap();
        (runtime::worker_index(), in_task)
    });
    assert_eq!(in_main, None);
    assert!(matches!(in_task, Some(0 | 1)), "{in_task:?}");
    // Through a handle too.
    assert_eq!(
        rt.handle().block_on(async { runtime::worker_index() }),
        None
    );
}

#[test]
fn a_current_thread_runtime_block_on_is_worker_zero_and_a_handle_block_on_is_not() {
    let rt = current_thread();
    assert_eq!(rt.block_on(async { runtime::worker_index() }), Some(0));
    assert_eq!(
        rt.block_on(rt.spawn(async { runtime::worker_index() }))
            .unwrap(),
        Some(0),
        "a task of a current-thread runtime"
    );
    assert_eq!(
        rt.handle().block_on(async { runtime::worker_index() }),
        None
    );
    let local = LocalRuntime::new().unwrap();
    assert_eq!(local.block_on(async { runtime::worker_index() }), Some(0));
}

#[test]
fn only_the_first_of_concurrent_current_thread_block_ons_holds_the_core() {
    let _watchdog = watchdog(Duration::from_secs(30), "concurrent block_on");
    let rt = Arc::new(current_thread());
    let (entered_tx, entered_rx) = mpsc::channel();
    let (release_tx, release_rx) = gort::sync::oneshot::channel::<()>();
    let owner_rt = Arc::clone(&rt);
    let owner = thread::spawn(move || {
        owner_rt.block_on(async move {
            entered_tx.send(runtime::worker_index()).unwrap();
            release_rx.await.unwrap();
            runtime::worker_index()
        })
    });
    assert_eq!(entered_rx.recv().unwrap(), Some(0));
    let other_rt = Arc::clone(&rt);
    let other = thread::spawn(move || other_rt.block_on(async { runtime::worker_index() }));
    assert_eq!(other.join().unwrap(), None, "the core is the owner's");
    release_tx.send(()).unwrap();
    assert_eq!(owner.join().unwrap(), Some(0));
    // The owner left: the next `block_on` takes the core.
    assert_eq!(rt.block_on(async { runtime::worker_index() }), Some(0));
}

#[test]
fn block_in_place_runs_in_a_current_thread_handle_block_on() {
    let _watchdog = watchdog(
        Duration::from_secs(30),
        "block_in_place in Handle::block_on",
    );
    let rt = current_thread();
    let handle = rt.handle().clone();
    let value = handle.block_on(async {
        let task = gort::spawn(async { 5 });
        let inner = task::block_in_place(|| {
            // Blocking code may come back into async code; the P given up for the call runs
            // the task meanwhile.
            runtime::Handle::current().block_on(async {
                task::yield_now().await;
                task.await.unwrap()
            })
        });
        task::yield_now().await;
        inner + 1
    });
    assert_eq!(value, 6);
    // And the runtime still runs tasks after.
    assert_eq!(rt.block_on(rt.spawn(async { 7 })).unwrap(), 7);
}

#[test]
fn block_in_place_still_panics_in_a_current_thread_runtime_block_on_and_its_tasks() {
    let rt = current_thread();
    let in_main = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(async { task::block_in_place(|| 1) })
    }));
    let text = panic_text(&*in_main.expect_err("Runtime::block_on refuses"));
    assert!(
        text.starts_with("can call blocking only when running on the multi-threaded runtime"),
        "{text}"
    );
    let handle = rt.handle().clone();
    let in_task = handle.block_on(handle.spawn(async { task::block_in_place(|| 1) }));
    let text = panic_text(&*in_task.expect_err("a task refuses").into_panic());
    assert!(
        text.starts_with("can call blocking only when running on the multi-threaded runtime"),
        "{text}"
    );
}

#[test]
fn tasks_spawned_beside_a_local_set_run_on_the_workers() {
    let _watchdog = watchdog(Duration::from_secs(30), "LocalSet in block_on");
    let rt = runtime(2);
    let main_thread = thread::current().id();
    let local = LocalSet::new();
    let (local_thread, spawned_threads) = local.block_on(&rt, async move {
        let local_thread = task::spawn_local(async { thread::current().id() })
            .await
            .unwrap();
        let mut spawned = Vec::new();
        for _ in 0..10 {
            spawned.push(gort::spawn(async { thread::current().id() }).await.unwrap());
            task::yield_now().await;
        }
        // A timer of a local task still fires, with this thread out of the scheduler.
        task::spawn_local(gort::time::sleep(Duration::from_millis(2)))
            .await
            .unwrap();
        (local_thread, spawned)
    });
    assert_eq!(local_thread, main_thread);
    assert!(
        spawned_threads.iter().all(|id| *id != main_thread),
        "a task ran on the thread of the set"
    );
    // Outside a set, the thread works for the runtime again (and the runtime still runs).
    assert_eq!(rt.block_on(rt.spawn(async { 3 })).unwrap(), 3);
}

/// Two threads inside `block_on` on one runtime, each sleeping in turn while the other waits:
/// whichever was polling the network (and so waiting for the timers) may leave `block_on` while
/// the other is parked on a sleep of its own, and that sleep must still end. It did not about
/// half the time: the leaving thread handed the netpoller to nobody when only a timer, not IO,
/// was waiting (tokio's `rt_common::always_active_parker` is the same program).
#[test]
fn a_sleep_in_one_block_on_ends_after_the_other_block_on_thread_leaves() {
    let _watchdog = watchdog(Duration::from_secs(60), "two block_on threads taking turns");
    for _ in 0..40 {
        let rt = Arc::new(runtime(4));
        let (first_done, wait_first) = gort::sync::oneshot::channel::<()>();
        let (second_started, wait_second) = gort::sync::oneshot::channel::<()>();
        let first = {
            let rt = Arc::clone(&rt);
            thread::spawn(move || {
                rt.block_on(async move {
                    wait_second.await.unwrap();
                    gort::time::sleep(Duration::from_millis(2)).await;
                    first_done.send(()).unwrap();
                })
            })
        };
        let second = {
            let rt = Arc::clone(&rt);
            thread::spawn(move || {
                rt.block_on(async move {
                    second_started.send(()).unwrap();
                    gort::time::sleep(Duration::from_millis(2)).await;
                    wait_first.await.unwrap();
                    gort::time::sleep(Duration::from_millis(2)).await;
                })
            })
        };
        first.join().unwrap();
        second.join().unwrap();
    }
}
