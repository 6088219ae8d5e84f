//! `JoinSet`: results in completion order, aborting, shutting down, dropping, counting.

mod common;

use futures::channel::oneshot;
use std::sync::atomic::AtomicUsize;
use std::sync::Arc;

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
