//! End-to-end scenarios small enough for Miri: they drive every unsafe path of the executor
//! (run queue and `runnext` pointer handoffs, stealing, the context's raw pointers, the G-record
//! pointers in `GFuture` and `JoinHandle`, the parked-task registry, shutdown draining) on real
//! threads. `cargo +nightly miri test -p gort-executor --lib` runs them under Miri.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::runtime::{Builder, Runtime};
use crate::task::{yield_now, JoinSet};

/// Counts how many values were dropped.
struct DropCounter(Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn runtime(procs: usize) -> Runtime {
    Builder::new().worker_threads(procs).build().unwrap()
}

/// Small enough for Miri, large enough to overflow a ring (256) natively.
const TASKS: usize = if cfg!(miri) { 40 } else { 2_000 };

#[test]
fn spawn_yield_join_across_two_ps() {
    let rt = runtime(2);
    let total = rt.block_on(async {
        let mut set = JoinSet::new();
        for i in 0..TASKS {
            set.spawn(async move {
                for _ in 0..3 {
                    yield_now().await;
                }
                i
            });
        }
        set.join_all().await.into_iter().sum::<usize>()
    });
    assert_eq!(total, (0..TASKS).sum::<usize>());
}

#[test]
fn spawns_from_a_task_overflow_and_are_stolen() {
    let rt = runtime(2);
    let done = Arc::new(AtomicUsize::new(0));
    let counter = done.clone();
    rt.block_on(async move {
        crate::spawn(async move {
            let handles: Vec<_> = (0..TASKS)
                .map(|_| {
                    let counter = counter.clone();
                    crate::spawn(async move {
                        counter.fetch_add(1, Ordering::SeqCst);
                    })
                })
                .collect();
            for handle in handles {
                handle.await.unwrap();
            }
        })
        .await
        .unwrap();
    });
    assert_eq!(done.load(Ordering::SeqCst), TASKS);
}

#[test]
fn abort_panic_and_shutdown_drop_every_future() {
    let rt = runtime(2);
    let dropped = Arc::new(AtomicUsize::new(0));
    let parked = 8;
    rt.block_on(async {
        let aborted = {
            let guard = DropCounter(dropped.clone());
            crate::spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            })
        };
        yield_now().await;
        aborted.abort();
        assert!(aborted.await.unwrap_err().is_cancelled());

        let panicked = crate::spawn(async { panic!("boom") }).await.unwrap_err();
        assert!(panicked.is_panic());

        for _ in 0..parked {
            let guard = DropCounter(dropped.clone());
            drop(crate::spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            }));
        }
        yield_now().await;
    });
    drop(rt);
    assert_eq!(
        dropped.load(Ordering::SeqCst),
        1 + parked,
        "every future is dropped"
    );
}

/// The netpoller's dispatch path without a socket (Miri cannot run epoll): Gs woken inside
/// `context::collect_wakes` land in its batch (through the context's raw batch pointer), not in
/// a queue, and `Shared::inject` makes them runnable on the P: every one of them then completes.
#[test]
fn wakes_collected_during_a_dispatch_are_injected_and_run() {
    use futures::channel::oneshot;

    let rt = runtime(1);
    let shared = Arc::clone(&rt.handle().shared);
    let driver = rt.spawn(async move {
        let (senders, handles): (Vec<_>, Vec<_>) = (0..8usize)
            .map(|i| {
                let (tx, rx) = oneshot::channel::<usize>();
                (tx, crate::spawn(async move { rx.await.unwrap() + i }))
            })
            .unzip();
        // With one P, a yielding G goes behind the 8 new ones, which run and park first.
        yield_now().await;
        let (sent, batch) = crate::context::collect_wakes(|| {
            for (i, tx) in senders.into_iter().enumerate() {
                tx.send(i).unwrap();
            }
        });
        assert_eq!(sent, Some(()), "no waker panicked");
        assert_eq!(batch.len(), 8, "every wake went into the batch");
        let p = crate::context::current_p_of(&shared).expect("a G runs on a P");
        let first = shared.inject(p, batch).expect("a G to run first");
        // SAFETY: this thread holds `p` (it is polling this G).
        unsafe { p.push(first, true) }.unwrap_or_else(|_| panic!("the ring has room"));
        let mut sum = 0;
        for handle in handles {
            sum += handle.await.unwrap();
        }
        sum
    });
    let sum = rt.block_on(driver).unwrap();
    assert_eq!(sum, 2 * (0..8).sum::<usize>());
}

/// The enter-guard protocol's raw pointers (`context/enter.rs`): nested guards, a guard `main`
/// holds across an await (parked while the block_on thread runs a G), a leaked guard released
/// by `serve`, and spawns through an entered runtime.
#[test]
fn enter_guards_nest_park_and_release_their_counts() {
    let home = runtime(1);
    let other = runtime(1);
    let other_id = other.handle().id();
    {
        let _outer = home.enter();
        let _inner = other.enter();
        let spawned = crate::spawn(async { crate::runtime::Handle::current().id() });
        assert_eq!(other.block_on(spawned).unwrap(), other_id);
    }
    let (in_task, in_main) = home.block_on(async {
        let _guard = other.enter();
        let task = crate::spawn(async { crate::runtime::Handle::current().id() });
        yield_now().await;
        (task.await.unwrap(), crate::runtime::Handle::current().id())
    });
    assert_eq!(in_main, other_id);
    assert_eq!(in_task, other_id, "spawned while main's guard was current");
    // Leaked inside block_on: `serve` releases its count when block_on returns.
    home.block_on(async { std::mem::forget(other.enter()) });
    assert!(crate::runtime::Handle::try_current().is_err());
}

/// A `LocalSet`'s queue and its drop (`local_set.rs`): tasks woken from another thread while
/// the set runs and while it is dropped, every future dropped on the set's thread.
#[test]
fn local_set_tasks_woken_from_another_thread_run_and_drop_on_the_set_thread() {
    use std::rc::Rc;

    use crate::task::{spawn_local, LocalSet};

    let rt = runtime(2);
    let local = LocalSet::new();
    let dropped = Rc::new(std::cell::Cell::new(0));
    let mut senders = Vec::new();
    let total = local.block_on(&rt, async {
        let mut handles = Vec::new();
        for i in 0..8usize {
            let (tx, rx) = futures::channel::oneshot::channel::<usize>();
            let guard = Rc::clone(&dropped);
            handles.push(spawn_local(async move {
                let value = rx.await.unwrap_or(0);
                guard.set(guard.get() + 1);
                value + i
            }));
            senders.push(tx);
        }
        let wakers = std::thread::spawn(move || {
            for (i, tx) in senders.into_iter().enumerate() {
                let _ = tx.send(i);
            }
        });
        let mut total = 0;
        for handle in handles {
            total += handle.await.unwrap();
        }
        wakers.join().unwrap();
        total
    });
    assert_eq!(total, 2 * (0..8).sum::<usize>());
    assert_eq!(dropped.get(), 8);
    let (tx, rx) = futures::channel::oneshot::channel::<()>();
    let parked = Rc::clone(&dropped);
    drop(local.spawn_local(async move {
        let _parked = parked;
        let _ = rx.await;
    }));
    local.block_on(&rt, yield_now());
    let waker = std::thread::spawn(move || {
        let _ = tx.send(());
    });
    drop(local);
    waker.join().unwrap();
    assert_eq!(
        Rc::strong_count(&dropped),
        1,
        "the parked task's future was dropped"
    );
}

/// Tasks one task spawns and other Ps run to completion are sent home to be freed
/// (`dead_tasks.rs`), so for a while each holds its runtime: dropping the runtime must free
/// them all, and with them the runtime itself, whatever was still in an outbox or inbox. Each
/// task's output (a drop counter, dropped as the task completes) and the runtime's record are
/// checked.
#[test]
fn tasks_finished_away_from_home_free_their_runtime_at_shutdown() {
    let rt = runtime(2);
    let runtime_record = Arc::downgrade(&rt.handle().shared);
    let dropped = Arc::new(AtomicUsize::new(0));
    let outputs = dropped.clone();
    rt.block_on(async move {
        let spawner_outputs = outputs.clone();
        crate::spawn(async move {
            for _ in 0..TASKS {
                let outputs = spawner_outputs.clone();
                // Detached: its output is dropped where it completes.
                drop(crate::spawn(async move { DropCounter(outputs) }));
            }
        })
        .await
        .unwrap();
        // Enough turns for the other P to finish some of them meanwhile.
        for _ in 0..TASKS {
            if outputs.load(Ordering::SeqCst) == TASKS {
                break;
            }
            yield_now().await;
        }
    });
    drop(rt);
    assert_eq!(dropped.load(Ordering::SeqCst), TASKS);
    assert!(
        runtime_record.upgrade().is_none(),
        "a dead task kept the runtime alive after it was dropped"
    );
}
