//! `JoinSet`: results in completion order (with ids), aborting (all, or one through its
//! `AbortHandle`), taking finished results without waiting, shutting down, dropping, counting.

mod common;

use futures::channel::oneshot;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Wake, Waker};

use gort::task::JoinSet;

use common::{count, counter, eventually, panic_text, parked_forever, runtime, DropGuard};

/// Spawns `n` tasks into a set; task `i` waits for gate `i` and returns `i`.
fn gated_set(n: usize) -> (JoinSet<usize>, Vec<Option<oneshot::Sender<()>>>) {
    let mut set = JoinSet::new();
    let mut gates = Vec::new();
    for i in 0..n {
        let (gate_tx, gate_rx) = oneshot::channel::<()>();
        set.spawn(async move {
            gate_rx.await.unwrap();
            i
        });
        gates.push(Some(gate_tx));
    }
    (set, gates)
}

#[test]
fn join_next_returns_results_in_completion_order() {
    let orders: &[&[usize]] = &[&[0, 1, 2, 3], &[3, 2, 1, 0], &[2, 0, 3, 1], &[1, 3, 0, 2]];
    let rt = runtime(2);
    for order in orders {
        rt.block_on(async {
            let (mut set, mut gates) = gated_set(order.len());
            let mut completed = Vec::new();
            for &i in order.iter() {
                gates[i].take().unwrap().send(()).unwrap();
                completed.push(set.join_next().await.unwrap().unwrap());
            }
            assert_eq!(completed, *order);
            assert!(set.join_next().await.is_none());
        });
    }
}

#[test]
fn join_next_skips_tasks_that_are_still_running() {
    // Tasks released together while an earlier-spawned one stays blocked: join_next returns the
    // released ones without waiting for the blocked one.
    let rt = runtime(2);
    rt.block_on(async {
        let (mut set, mut gates) = gated_set(5);
        for gate in gates.iter_mut().skip(1) {
            gate.take().unwrap().send(()).unwrap();
        }
        let mut first_four: Vec<_> = Vec::new();
        for _ in 0..4 {
            first_four.push(set.join_next().await.unwrap().unwrap());
        }
        first_four.sort_unstable();
        assert_eq!(first_four, [1, 2, 3, 4]);
        assert_eq!(set.len(), 1);
        gates[0].take().unwrap().send(()).unwrap();
        assert_eq!(set.join_next().await.unwrap().unwrap(), 0);
    });
}

#[test]
fn join_next_on_an_empty_set_is_none() {
    let rt = runtime(1);
    rt.block_on(async {
        let mut set = JoinSet::<()>::new();
        assert!(set.join_next().await.is_none());
        set.spawn(async {});
        assert!(set.join_next().await.unwrap().is_ok());
        assert!(set.join_next().await.is_none(), "None again once drained");
        let mut default_set: JoinSet<u8> = JoinSet::default();
        assert!(default_set.join_next().await.is_none());
    });
}

/// A set of `tasks` Gs that each hold a `DropGuard` on `drops` and never complete. Call it on a
/// runtime thread (inside `block_on`).
fn parked_set(drops: &Arc<AtomicUsize>, tasks: usize) -> JoinSet<()> {
    let mut set = JoinSet::new();
    for _ in 0..tasks {
        set.spawn(parked_forever(DropGuard::new(drops)));
    }
    set
}

#[test]
fn abort_all_cancels_pending_tasks() {
    const TASKS: usize = 8;
    let rt = runtime(2);
    let drops = counter();
    rt.block_on(async {
        let mut set = parked_set(&drops, TASKS);
        gort::task::yield_now().await;
        set.abort_all();
        assert_eq!(
            set.len(),
            TASKS,
            "aborted tasks stay in the set until joined"
        );
        let mut results = 0;
        while let Some(result) = set.join_next().await {
            let err = result.expect_err("an aborted pending task");
            assert!(err.is_cancelled(), "{err:?}");
            results += 1;
        }
        assert_eq!(results, TASKS);
        assert!(set.is_empty());
    });
    assert_eq!(count(&drops), TASKS);
}

#[test]
fn shutdown_aborts_and_waits_for_every_task() {
    const TASKS: usize = 8;
    let rt = runtime(2);
    let drops = counter();
    rt.block_on(async {
        let mut set = parked_set(&drops, TASKS);
        set.shutdown().await;
        assert!(set.is_empty());
        assert_eq!(set.len(), 0);
        assert_eq!(
            count(&drops),
            TASKS,
            "every future was dropped by the time shutdown returned"
        );
        assert!(set.join_next().await.is_none());
    });
}

#[test]
fn dropping_the_set_aborts_its_tasks() {
    const TASKS: usize = 8;
    let rt = runtime(2);
    let drops = counter();
    rt.block_on(async {
        let set = parked_set(&drops, TASKS);
        gort::task::yield_now().await;
        drop(set);
        let all_dropped = eventually(|| count(&drops) == TASKS).await;
        assert!(
            all_dropped,
            "{} of {TASKS} futures dropped after the set was dropped",
            count(&drops)
        );
        assert!(eventually(|| gort::runtime::num_goroutine() == 0).await);
    });
}

#[test]
fn detach_all_keeps_tasks_running() {
    let rt = runtime(2);
    rt.block_on(async {
        let mut set = JoinSet::new();
        let (gate_tx, gate_rx) = oneshot::channel::<()>();
        let (done_tx, done_rx) = oneshot::channel();
        set.spawn(async move {
            gate_rx.await.unwrap();
            done_tx.send("still ran").unwrap();
        });
        set.detach_all();
        assert!(set.is_empty());
        drop(set);
        gate_tx.send(()).unwrap();
        assert_eq!(done_rx.await.unwrap(), "still ran");
    });
}

#[test]
fn len_and_is_empty_count_unjoined_tasks() {
    let rt = runtime(2);
    rt.block_on(async {
        let (mut set, mut gates) = gated_set(3);
        assert_eq!(set.len(), 3);
        assert!(!set.is_empty());
        gates[1].take().unwrap().send(()).unwrap();
        assert_eq!(set.join_next().await.unwrap().unwrap(), 1);
        assert_eq!(set.len(), 2);
        // A finished but unjoined task still counts.
        let finished = gort::spawn(async { 10 });
        assert!(eventually(|| finished.is_finished()).await);
        set.push(finished);
        assert_eq!(set.len(), 3);
        for gate in gates.iter_mut().filter_map(Option::take) {
            gate.send(()).unwrap();
        }
        let mut rest = Vec::new();
        while let Some(result) = set.join_next().await {
            rest.push(result.unwrap());
        }
        rest.sort_unstable();
        assert_eq!(rest, [0, 2, 10]);
        assert_eq!(set.len(), 0);
        assert!(set.is_empty());
    });
}

#[test]
fn join_all_returns_every_output() {
    let rt = runtime(2);
    let mut outputs = rt.block_on(async {
        let mut set = JoinSet::new();
        for i in 0..50u32 {
            set.spawn(async move {
                if i % 2 == 0 {
                    gort::task::yield_now().await;
                }
                i * i
            });
        }
        set.join_all().await
    });
    outputs.sort_unstable();
    assert_eq!(outputs, (0..50u32).map(|i| i * i).collect::<Vec<_>>());
}

#[test]
fn join_all_reraises_a_member_panic() {
    let rt = runtime(2);
    let err = rt.block_on(async {
        gort::spawn(async {
            let mut set = JoinSet::new();
            set.spawn(async { 1 });
            set.spawn(async { panic!("member failed") });
            set.join_all().await
        })
        .await
        .expect_err("join_all re-raised the panic")
    });
    assert!(err.is_panic());
    assert_eq!(panic_text(err.into_panic().as_ref()), "member failed");
}

#[test]
fn join_next_reports_panics_and_keeps_going() {
    let rt = runtime(2);
    rt.block_on(async {
        let mut set = JoinSet::new();
        set.spawn(async { panic!("one member panics") });
        for i in 0..5 {
            set.spawn(async move { i });
        }
        let (mut ok, mut panicked) = (0, 0);
        while let Some(result) = set.join_next().await {
            match result {
                Ok(_) => ok += 1,
                Err(err) if err.is_panic() => panicked += 1,
                Err(err) => panic!("unexpected {err:?}"),
            }
        }
        assert_eq!((ok, panicked), (5, 1));
    });
}

#[test]
fn spawn_returns_an_abort_handle_for_that_task() {
    let rt = runtime(2);
    rt.block_on(async {
        let mut set = JoinSet::new();
        let mut gates = Vec::new();
        let mut aborts = Vec::new();
        for i in 0..3usize {
            let (gate_tx, gate_rx) = oneshot::channel::<()>();
            aborts.push(set.spawn(async move {
                gate_rx.await.unwrap();
                i
            }));
            gates.push(gate_tx);
        }
        aborts[1].abort();
        // Only the aborted task can finish while the gates are closed.
        let err = set
            .join_next_with_id()
            .await
            .unwrap()
            .expect_err("the aborted member");
        assert!(err.is_cancelled(), "{err:?}");
        assert_eq!(err.id(), aborts[1].id());
        assert_eq!(set.len(), 2);
        for gate in gates {
            let _ = gate.send(());
        }
        let mut rest = Vec::new();
        while let Some(result) = set.join_next_with_id().await {
            rest.push(result.unwrap());
        }
        rest.sort_unstable_by_key(|&(_, i)| i);
        assert_eq!(rest, [(aborts[0].id(), 0), (aborts[2].id(), 2)]);
    });
}

#[test]
fn join_next_with_id_reports_the_ids_spawn_returned() {
    let rt = runtime(2);
    rt.block_on(async {
        let mut set = JoinSet::new();
        let mut by_id = HashMap::new();
        for i in 0..40u32 {
            let abort = set.spawn(async move {
                if i % 3 == 0 {
                    gort::task::yield_now().await;
                }
                if i % 7 == 0 {
                    panic!("member {i} fails");
                }
                (i, gort::task::id())
            });
            by_id.insert(abort.id(), i);
        }
        let mut joined = 0;
        while let Some(result) = set.join_next_with_id().await {
            match result {
                Ok((id, (i, seen_inside))) => {
                    assert_eq!(by_id[&id], i);
                    assert_eq!(seen_inside, id, "task::id() inside the member");
                }
                Err(err) => {
                    assert!(err.is_panic());
                    assert_eq!(by_id[&err.id()] % 7, 0);
                }
            }
            joined += 1;
        }
        assert_eq!(joined, 40);
    });
}

#[test]
fn try_join_next_takes_only_finished_tasks() {
    let rt = runtime(2);
    rt.block_on(async {
        let mut set = JoinSet::<usize>::new();
        assert!(set.try_join_next().is_none(), "empty");
        assert!(set.try_join_next_with_id().is_none(), "empty");
        // A finished member among many pending ones, some of them never polled yet.
        let mut gates = Vec::new();
        for i in 0..70 {
            let (gate_tx, gate_rx) = oneshot::channel::<()>();
            set.spawn(async move {
                gate_rx.await.unwrap();
                i
            });
            gates.push(gate_tx);
        }
        assert!(set.try_join_next().is_none(), "nothing has finished");
        let finished = gort::spawn(async { 1000 });
        assert!(eventually(|| finished.is_finished()).await);
        let finished_id = finished.id();
        set.push(finished);
        for i in 70..100 {
            let (gate_tx, gate_rx) = oneshot::channel::<()>();
            set.spawn(async move {
                gate_rx.await.unwrap();
                i
            });
            gates.push(gate_tx);
        }
        let (id, output) = set
            .try_join_next_with_id()
            .expect("the finished member, behind 70 pending ones")
            .unwrap();
        assert_eq!((id, output), (finished_id, 1000));
        assert!(set.try_join_next().is_none());
        assert_eq!(set.len(), 100);
        drop(gates);
        // Every gate dropped: every member panics on its `unwrap`, and is taken in turn.
        let mut failed = 0;
        while failed < 100 {
            let found = eventually(|| set.try_join_next().is_some()).await;
            assert!(found, "{failed} of 100 members taken");
            failed += 1;
        }
        assert!(set.is_empty());
    });
}

/// Counts wakes.
struct WakeCount(AtomicUsize);

impl Wake for WakeCount {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn try_join_next_keeps_the_waker_of_a_pending_poll_join_next() {
    let rt = runtime(2);
    rt.block_on(async {
        let mut set = JoinSet::new();
        let (gate_tx, gate_rx) = oneshot::channel::<()>();
        set.spawn(async move { gate_rx.await.unwrap() });
        let wakes = Arc::new(WakeCount(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&wakes));
        let mut cx = Context::from_waker(&waker);
        assert!(set.poll_join_next(&mut cx).is_pending());
        assert!(set.try_join_next().is_none());
        gate_tx.send(()).unwrap();
        assert!(
            eventually(|| wakes.0.load(Ordering::SeqCst) > 0).await,
            "the waker of poll_join_next was lost"
        );
        let result = std::future::poll_fn(|cx| set.poll_join_next(cx)).await;
        assert!(result.unwrap().is_ok());
        let mut cx = Context::from_waker(&waker);
        assert!(
            set.poll_join_next(&mut cx).is_ready(),
            "Ready(None) when empty"
        );
    });
}

#[test]
fn collect_and_extend_spawn_every_future() {
    let rt = runtime(2);
    let mut outputs = rt.block_on(async {
        let mut set: JoinSet<u32> = (0..10).map(|i| async move { i }).collect();
        assert_eq!(set.len(), 10);
        set.extend((10..20).map(|i| async move { i }));
        assert_eq!(set.len(), 20);
        set.join_all().await
    });
    outputs.sort_unstable();
    assert_eq!(outputs, (0..20).collect::<Vec<_>>());
}

#[test]
fn spawn_on_and_spawn_blocking_join_like_any_member() {
    let rt = runtime(2);
    let other = runtime(1);
    let other_handle = other.handle().clone();
    let main_handle = rt.handle().clone();
    let mut outputs = rt.block_on(async move {
        let mut set = JoinSet::new();
        set.spawn_on(async { 1 }, &other_handle);
        set.spawn_blocking(|| 2);
        set.spawn_blocking_on(|| 3, &main_handle);
        set.spawn(async { 4 });
        set.join_all().await
    });
    outputs.sort_unstable();
    assert_eq!(outputs, [1, 2, 3, 4]);
}

#[test]
fn detached_tasks_can_still_be_aborted_by_their_handles() {
    let rt = runtime(2);
    let drops = counter();
    rt.block_on(async {
        let mut set = JoinSet::new();
        let abort = set.spawn(parked_forever(DropGuard::new(&drops)));
        set.detach_all();
        drop(set);
        gort::task::yield_now().await;
        assert_eq!(count(&drops), 0, "detached, not aborted");
        abort.abort();
        assert!(eventually(|| count(&drops) == 1).await);
        assert!(eventually(|| abort.is_finished()).await);
    });
}

#[test]
fn join_sets_are_send_sync_and_unpin_as_tokios() {
    fn assert_traits<T: Send + Sync + Unpin>() {}
    assert_traits::<JoinSet<u32>>();
    // `Send` output that is not `Sync`: the set is still both.
    assert_traits::<JoinSet<std::cell::Cell<u32>>>();
    fn assert_send_future<F: std::future::Future + Send>(_: F) {}
    let mut set = JoinSet::<u32>::new();
    assert_send_future(set.join_next());
    assert_send_future(set.shutdown());
}

/// A waker that, when its last clone goes, runs its current-thread runtime for a moment (so
/// that the tasks of the set, which live there, run) and records that it did.
struct RunsTheRuntimeWhenDropped {
    runtime: Option<gort::runtime::Runtime>,
    dropped: Arc<AtomicUsize>,
}

impl Wake for RunsTheRuntimeWhenDropped {
    fn wake(self: Arc<Self>) {}
}

impl Drop for RunsTheRuntimeWhenDropped {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.block_on(gort::task::yield_now());
        }
        self.dropped.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_replaced_parent_waker_is_dropped_after_the_poll_that_replaced_it() {
    let rt = gort::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut set = JoinSet::new();
    set.spawn_on(async { 9 }, rt.handle());
    let dropped = counter();
    let waker = Waker::from(Arc::new(RunsTheRuntimeWhenDropped {
        runtime: Some(rt),
        dropped: Arc::clone(&dropped),
    }));
    // Nothing runs the runtime yet: the task has not finished.
    assert!(set
        .poll_join_next(&mut Context::from_waker(&waker))
        .is_pending());
    drop(waker);
    assert_eq!(
        count(&dropped),
        0,
        "the set keeps the waker of its last poll"
    );
    // This poll replaces that waker. Dropped inside the poll, it would have run the task to
    // completion in the middle of it; the set drops it once its poll is over.
    assert!(set
        .poll_join_next(&mut Context::from_waker(futures::task::noop_waker_ref()))
        .is_pending());
    assert_eq!(count(&dropped), 1);
    assert_eq!(set.try_join_next().unwrap().unwrap(), 9);
    assert!(set.is_empty());
}
