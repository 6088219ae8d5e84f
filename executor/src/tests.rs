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
