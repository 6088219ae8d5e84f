//! `LocalSet`, `spawn_local` and `LocalRuntime`: tasks that are not `Send` run on the set's
//! thread only, also when woken from other threads, and go with the set when it is dropped.

mod common;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::{self, ThreadId};
use std::time::Duration;

use gort::runtime::{Builder, LocalRuntime};
use gort::task::{spawn_local, yield_now, LocalSet};

use common::{count, counter, current_thread, panic_text, runtime, watchdog, DropGuard};

/// Counts its drops in an `Rc`: only a task that stays on its thread can hold one.
struct RcDropGuard(Rc<Cell<usize>>);

impl Drop for RcDropGuard {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

#[test]
fn local_tasks_share_rc_state_and_return_outputs() {
    let rt = runtime(2);
    let local = LocalSet::new();
    let total = local.block_on(&rt, async {
        let state = Rc::new(RefCell::new(Vec::new()));
        let handles: Vec<_> = (0..10)
            .map(|i| {
                let state = Rc::clone(&state);
                spawn_local(async move {
                    yield_now().await;
                    // Held across an await: the future is not Send.
                    let held = Rc::clone(&state);
                    yield_now().await;
                    held.borrow_mut().push(i);
                    i * 2
                })
            })
            .collect();
        let mut total = 0;
        for handle in handles {
            total += handle.await.unwrap();
        }
        assert_eq!(state.borrow().len(), 10);
        total
    });
    assert_eq!(total, (0..10).map(|i| i * 2).sum::<i32>());
}

#[test]
fn tasks_run_on_the_set_thread_even_when_woken_from_other_threads() {
    let _watchdog = watchdog(
        Duration::from_secs(60),
        "local tasks woken from other threads",
    );
    let rt = runtime(2);
    let local = LocalSet::new();
    let set_thread = thread::current().id();
    let ran_on: Vec<ThreadId> = local.block_on(&rt, async {
        let mut handles = Vec::new();
        for i in 0..20u32 {
            let (tx, rx) = gort::chan::<u32>(1);
            handles.push(spawn_local(async move {
                let not_send = Rc::new(());
                let got = rx.recv().await.unwrap();
                assert_eq!(got, i);
                drop(not_send);
                thread::current().id()
            }));
            if i % 2 == 0 {
                // Woken by a plain thread.
                thread::spawn(move || tx.send_blocking(i).unwrap());
            } else {
                // Woken by a G, which may run on another M.
                gort::go!(async move {
                    gort::time::sleep(Duration::from_millis(1)).await;
                    tx.send(i).await.unwrap();
                });
            }
        }
        let mut ran_on = Vec::new();
        for handle in handles {
            ran_on.push(handle.await.unwrap());
        }
        ran_on
    });
    assert!(ran_on.iter().all(|id| *id == set_thread));
}

#[test]
fn tasks_spawned_before_the_set_runs_wait_for_run_until() {
    let rt = current_thread();
    let local = LocalSet::new();
    let ran = Rc::new(Cell::new(0));
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let ran = Rc::clone(&ran);
            local.spawn_local(async move { ran.set(ran.get() + 1) })
        })
        .collect();
    assert_eq!(ran.get(), 0, "nothing runs before the set is driven");
    rt.block_on(local.run_until(async {
        for handle in handles {
            handle.await.unwrap();
        }
    }));
    assert_eq!(ran.get(), 3);
}

#[test]
fn run_until_returns_with_tasks_left_in_the_set() {
    let rt = current_thread();
    let local = LocalSet::new();
    let (go_tx, go_rx) = gort::chan::<()>(1);
    let finished = Rc::new(Cell::new(false));
    let flag = Rc::clone(&finished);
    let waiting = local.spawn_local(async move {
        go_rx.recv().await.unwrap();
        flag.set(true);
    });
    local.block_on(&rt, yield_now());
    assert!(!finished.get(), "the task waits for its channel");
    go_tx.send_blocking(()).unwrap();
    // Driven again, the set runs it.
    local.block_on(&rt, waiting).unwrap();
    assert!(finished.get());
}

#[test]
fn awaiting_the_set_runs_every_task_to_completion() {
    let _watchdog = watchdog(Duration::from_secs(60), "awaiting a LocalSet");
    let rt = runtime(1);
    let local = LocalSet::new();
    let done = Rc::new(Cell::new(0));
    // More than one tick's worth (61), with nested spawns.
    for _ in 0..100 {
        let done = Rc::clone(&done);
        let _detached = local.spawn_local(async move {
            yield_now().await;
            let inner = Rc::clone(&done);
            let _detached = spawn_local(async move {
                gort::time::sleep(Duration::from_millis(1)).await;
                inner.set(inner.get() + 1);
            });
            done.set(done.get() + 1);
        });
    }
    rt.block_on(local);
    assert_eq!(done.get(), 200);
}

#[test]
fn spawn_local_outside_a_local_set_panics() {
    let payload = std::panic::catch_unwind(|| spawn_local(async {}))
        .expect_err("spawn_local needs a LocalSet");
    assert!(panic_text(&*payload).contains("outside of a `task::LocalSet`"));
    // Also inside a runtime (a task of it is no LocalSet).
    let rt = runtime(1);
    let in_task = rt.block_on(gort::spawn(async {
        drop(spawn_local(async {}));
    }));
    assert!(in_task
        .expect_err("spawn_local inside a plain task")
        .is_panic());
}

#[test]
fn an_enter_guard_lets_spawn_local_reach_the_set() {
    let rt = current_thread();
    let local = LocalSet::new();
    let handle = {
        let _guard = local.enter();
        spawn_local(async { Rc::new(5) })
    };
    let value = local.block_on(&rt, handle).unwrap();
    assert_eq!(*value, 5);
    assert!(
        std::panic::catch_unwind(|| spawn_local(async {})).is_err(),
        "guard dropped"
    );
}

#[test]
fn dropping_the_set_drops_queued_and_parked_tasks_on_its_thread() {
    let _watchdog = watchdog(Duration::from_secs(60), "dropping a LocalSet");
    let rt = runtime(2);
    let drops = Rc::new(Cell::new(0));
    let sent_drops = counter();
    let local = LocalSet::new();
    let (_never_tx, never_rx) = gort::chan::<()>(0);
    let mut handles = Vec::new();
    // Parked on a channel.
    for _ in 0..5 {
        let guard = RcDropGuard(Rc::clone(&drops));
        let never_rx = never_rx.clone();
        handles.push(local.spawn_local(async move {
            let _guard = guard;
            never_rx.recv().await;
        }));
    }
    // Parked on a timer.
    let guard = DropGuard::new(&sent_drops);
    handles.push(local.spawn_local(async move {
        let _guard = guard;
        gort::time::sleep(Duration::from_secs(3600)).await;
    }));
    local.block_on(&rt, async {
        for _ in 0..5 {
            yield_now().await;
        }
    });
    // Queued, never polled.
    let guard = RcDropGuard(Rc::clone(&drops));
    handles.push(local.spawn_local(async move {
        let _guard = guard;
    }));
    assert_eq!(drops.get(), 0);
    drop(local);
    assert_eq!(
        drops.get(),
        6,
        "every !Send future was dropped, on this thread"
    );
    assert_eq!(count(&sent_drops), 1);
    for handle in handles {
        let error = rt
            .block_on(handle)
            .expect_err("a task dropped with its set");
        assert!(error.is_cancelled());
    }
}

#[test]
fn a_task_woken_from_another_thread_while_the_set_is_dropped_is_dropped_too() {
    let _watchdog = watchdog(Duration::from_secs(60), "wakes racing a LocalSet drop");
    let rt = runtime(2);
    for _ in 0..50 {
        let drops = Rc::new(Cell::new(0));
        let local = LocalSet::new();
        let mut senders = Vec::new();
        for _ in 0..10 {
            let (tx, rx) = gort::chan::<()>(1);
            let guard = RcDropGuard(Rc::clone(&drops));
            let _detached = local.spawn_local(async move {
                let _guard = guard;
                rx.recv().await;
                std::future::pending::<()>().await;
            });
            senders.push(tx);
        }
        local.block_on(&rt, yield_now());
        let waker = thread::spawn(move || {
            for tx in senders {
                let _ = tx.send_blocking(());
            }
        });
        drop(local);
        assert_eq!(drops.get(), 10);
        waker.join().unwrap();
    }
}

#[test]
fn destructors_may_spawn_and_wake_while_the_set_is_dropped() {
    struct SpawnsOnDrop(Rc<Cell<usize>>);
    impl Drop for SpawnsOnDrop {
        fn drop(&mut self) {
            let late = RcDropGuard(Rc::clone(&self.0));
            // Refused: the set is closing; the future is dropped at once.
            let handle = spawn_local(async move {
                let _late = late;
            });
            assert!(handle.is_finished(), "a refused task is finished at once");
        }
    }
    let rt = current_thread();
    let drops = Rc::new(Cell::new(0));
    let local = LocalSet::new();
    let guard = SpawnsOnDrop(Rc::clone(&drops));
    let _detached = local.spawn_local(async move {
        let _guard = guard;
        std::future::pending::<()>().await;
    });
    local.block_on(&rt, yield_now());
    drop(local);
    assert_eq!(
        drops.get(),
        1,
        "the future spawned by a destructor was dropped"
    );
}

#[test]
fn abort_from_another_thread_cancels_a_local_task() {
    let _watchdog = watchdog(Duration::from_secs(60), "aborting a local task");
    let rt = runtime(2);
    let local = LocalSet::new();
    let drops = Rc::new(Cell::new(0));
    let result = local.block_on(&rt, async {
        let guard = RcDropGuard(Rc::clone(&drops));
        let handle = spawn_local(async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        });
        yield_now().await;
        // The handle's output is `()`, so it may go to another thread; abort from there.
        let handle = thread::spawn(move || {
            handle.abort();
            handle
        })
        .join()
        .unwrap();
        handle.await
    });
    assert!(result.expect_err("aborted").is_cancelled());
    assert_eq!(drops.get(), 1);
}

#[test]
fn a_panicking_local_task_becomes_join_error_panic() {
    let rt = current_thread();
    let local = LocalSet::new();
    let error = local
        .block_on(&rt, spawn_local_later(|| panic!("local boom")))
        .expect_err("the task panicked");
    assert!(error.is_panic());
    assert_eq!(panic_text(&*error.into_panic()), "local boom");
    // The set goes on.
    assert_eq!(local.block_on(&rt, spawn_local_later(|| 3)).unwrap(), 3);
}

/// A future that spawns a local task running `f` and awaits it.
async fn spawn_local_later<T: 'static>(
    f: impl FnOnce() -> T + 'static,
) -> Result<T, gort::task::JoinError> {
    spawn_local(async move {
        yield_now().await;
        f()
    })
    .await
}

#[test]
fn block_in_place_inside_a_local_set_panics() {
    let rt = runtime(2);
    let local = LocalSet::new();
    let in_task = local.block_on(&rt, spawn_local_later(|| gort::task::block_in_place(|| 1)));
    let error = in_task.expect_err("block_in_place in a local task");
    assert!(panic_text(&*error.into_panic()).contains("LocalSet"));
}

#[test]
fn a_local_task_handle_can_be_awaited_by_a_task_on_another_thread() {
    let _watchdog = watchdog(Duration::from_secs(60), "local handle awaited elsewhere");
    let rt = runtime(2);
    let local = LocalSet::new();
    let (go_tx, go_rx) = gort::chan::<()>(1);
    let output = local.block_on(&rt, async move {
        let handle = spawn_local(async move {
            go_rx.recv().await.unwrap();
            let not_send = Rc::new(21);
            *not_send * 2
        });
        // A Send output: the handle is Send, a G awaits it.
        let waiter = gort::spawn(async move { handle.await.unwrap() });
        go_tx.send(()).await.unwrap();
        waiter.await.unwrap()
    });
    assert_eq!(output, 42);
}

#[test]
fn sets_have_distinct_ids() {
    let first = LocalSet::new();
    let second = LocalSet::new();
    assert_ne!(first.id(), second.id());
    assert_eq!(first.id(), first.id());
}

#[test]
fn local_tasks_count_as_goroutines_of_the_current_runtime() {
    let rt = current_thread();
    let local = LocalSet::new();
    let alive = local.block_on(&rt, async {
        let (_keep, wait) = gort::chan::<()>(0);
        let parked: Vec<_> = (0..3)
            .map(|_| {
                let wait = wait.clone();
                spawn_local(async move { wait.recv().await })
            })
            .collect();
        yield_now().await;
        let alive = gort::runtime::num_goroutine();
        for handle in parked {
            handle.abort();
            assert!(handle.await.expect_err("aborted").is_cancelled());
        }
        alive
    });
    assert_eq!(alive, 3);
    assert_eq!(rt.handle().num_goroutine(), 0);
}

#[test]
fn a_local_runtime_runs_local_and_send_tasks_on_its_thread() {
    let _watchdog = watchdog(Duration::from_secs(60), "LocalRuntime");
    let rt = LocalRuntime::new().unwrap();
    let here = thread::current().id();
    let before = rt.spawn_local(async { Rc::new(thread::current().id()) });
    let remote_ran = Arc::new(AtomicUsize::new(0));
    let remote = {
        let handle = rt.handle().clone();
        let remote_ran = Arc::clone(&remote_ran);
        thread::spawn(move || {
            handle.spawn(async move {
                remote_ran.fetch_add(1, Ordering::SeqCst);
                thread::current().id()
            })
        })
        .join()
        .unwrap()
    };
    let (local_id, send_id, nested) = rt.block_on(async {
        let local_id = *before.await.unwrap();
        let send_id = remote.await.unwrap();
        let nested = spawn_local(async { Rc::new(7) }).await.unwrap();
        (local_id, send_id, *nested)
    });
    assert_eq!(local_id, here);
    assert_eq!(send_id, here);
    assert_eq!(nested, 7);
    assert_eq!(remote_ran.load(Ordering::SeqCst), 1);
    {
        let _guard = rt.enter();
        let queued = spawn_local(async { 1 });
        assert_eq!(rt.block_on(queued).unwrap(), 1);
    }
    assert_eq!(
        rt.handle().runtime_flavor(),
        gort::runtime::RuntimeFlavor::CurrentThread
    );
}

#[test]
#[should_panic(expected = "multi_thread is not supported for LocalRuntime")]
fn a_multi_thread_local_runtime_panics() {
    let _ = Builder::new_multi_thread().build_local(Default::default());
}

#[test]
fn spawn_local_with_another_threads_local_runtime_current_panics() {
    let (handle_tx, handle_rx) = std::sync::mpsc::channel();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let owner = thread::spawn(move || {
        let rt = LocalRuntime::new().unwrap();
        handle_tx.send(rt.handle().clone()).unwrap();
        done_rx.recv().unwrap();
        // Its own thread still spawns local tasks.
        rt.block_on(async { *spawn_local(async { Rc::new(4) }).await.unwrap() })
    });
    let handle = handle_rx.recv().unwrap();
    let local = LocalSet::new();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _local = local.enter();
        let _runtime = handle.enter();
        // The current runtime comes first, as in tokio, even with a set entered here.
        drop(spawn_local(async {}));
    }));
    let text = panic_text(&*caught.expect_err("another thread's LocalRuntime"));
    assert_eq!(
        text,
        "Local tasks can only be spawned on a LocalRuntime from the thread the runtime was \
         created on"
    );
    done_tx.send(()).unwrap();
    assert_eq!(owner.join().unwrap(), 4);
}

/// Pending until dropped, and then panics.
struct PanicsWhenDropped;

impl std::future::Future for PanicsWhenDropped {
    type Output = ();

    fn poll(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        std::task::Poll::Pending
    }
}

impl Drop for PanicsWhenDropped {
    fn drop(&mut self) {
        panic!("dropped with the set");
    }
}

#[test]
fn a_task_whose_future_panics_when_the_set_drops_it_reports_the_panic() {
    let rt = current_thread();
    let local = LocalSet::new();
    let parked = local.spawn_local(PanicsWhenDropped);
    let parked_too = local.spawn_local(PanicsWhenDropped);
    let plain = local.spawn_local(std::future::pending::<()>());
    // All three run once and park; then one more is queued, never run.
    rt.block_on(local.run_until(yield_now()));
    let queued_again = {
        let _guard = local.enter();
        spawn_local(PanicsWhenDropped)
    };
    drop(local);
    for handle in [parked, parked_too, queued_again] {
        let err = rt.block_on(handle).expect_err("the set dropped the task");
        assert!(err.is_panic(), "{err:?}");
        assert_eq!(panic_text(&*err.into_panic()), "dropped with the set");
    }
    assert!(rt.block_on(plain).unwrap_err().is_cancelled());
}
