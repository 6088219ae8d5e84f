//! `task::Id`, `task::id()` and `task::try_id()`: the id a task sees is the one its handles,
//! its `JoinError` and its `AbortHandle` report; ids are unique; code that is not a task has
//! none.

mod common;

use std::collections::{BTreeSet, HashSet};
use std::sync::{Arc, Mutex};

use futures::channel::oneshot;
use gort::task::{self, Id};

use common::{panic_text, runtime};

#[test]
fn a_task_sees_the_id_its_handles_report() {
    let rt = runtime(2);
    rt.block_on(async {
        let (id_tx, id_rx) = oneshot::channel();
        let handle = gort::spawn(async move {
            let first = task::id();
            // Across awaits (and possibly threads), the same id.
            for _ in 0..10 {
                task::yield_now().await;
                assert_eq!(task::id(), first);
                assert_eq!(task::try_id(), Some(first));
            }
            id_tx.send(first).unwrap();
        });
        let abort = handle.abort_handle();
        let seen = id_rx.await.unwrap();
        assert_eq!(seen, handle.id());
        assert_eq!(seen, abort.id());
        handle.await.unwrap();
        assert_eq!(abort.id(), seen, "the id outlives the task");
    });
}

#[test]
fn join_errors_carry_the_failed_tasks_id() {
    let rt = runtime(2);
    rt.block_on(async {
        let panics = gort::spawn(async { panic!("for its id") });
        let id = panics.id();
        assert_eq!(panics.await.unwrap_err().id(), id);

        let aborted = gort::spawn(std::future::pending::<()>());
        let id = aborted.id();
        aborted.abort_handle().abort();
        let err = aborted.await.unwrap_err();
        assert!(err.is_cancelled());
        assert_eq!(err.id(), id);
    });
}

#[test]
fn ids_are_unique_across_tasks_and_runtimes() {
    const TASKS: usize = 500;
    let rts = [runtime(2), runtime(1)];
    let mut ids = HashSet::new();
    for rt in &rts {
        let spawned: Vec<Id> = rt.block_on(async {
            let handles: Vec<_> = (0..TASKS)
                .map(|_| gort::spawn(async { task::id() }))
                .collect();
            let mut ids = Vec::new();
            for handle in handles {
                let expected = handle.id();
                let seen = handle.await.unwrap();
                assert_eq!(seen, expected);
                ids.push(seen);
            }
            ids
        });
        ids.extend(spawned);
    }
    assert_eq!(ids.len(), 2 * TASKS, "an id was handed out twice");
}

#[test]
fn code_that_is_not_a_task_has_no_id() {
    assert_eq!(task::try_id(), None, "a plain thread");
    let err = std::panic::catch_unwind(task::id).expect_err("task::id() outside a task panics");
    assert!(
        panic_text(err.as_ref()).contains("outside a task"),
        "{}",
        panic_text(err.as_ref())
    );

    let rt = runtime(1);
    rt.block_on(async {
        assert_eq!(task::try_id(), None, "block_on's main future is not a task");
        let inner = gort::spawn(async { task::id() }).await.unwrap();
        assert_eq!(task::try_id(), None, "not after polling a task either");
        // A task's id is not left behind on the thread that ran it.
        assert_ne!(Some(inner), task::try_id());
    });
}

#[test]
fn blocking_code_of_a_task_sees_its_id() {
    let rt = runtime(2);
    rt.block_on(async {
        let blocking = task::spawn_blocking(task::try_id);
        let id = blocking.id();
        assert_eq!(
            blocking.await.unwrap(),
            Some(id),
            "a spawn_blocking closure"
        );

        let handle = gort::spawn(async {
            let outer = task::id();
            let inside = task::block_in_place(task::id);
            (outer, inside)
        });
        let id = handle.id();
        assert_eq!(handle.await.unwrap(), (id, id), "a block_in_place region");
    });
}

/// Records the id its drop ran under.
struct RecordsIdOnDrop(Arc<Mutex<Option<Option<Id>>>>);

impl Drop for RecordsIdOnDrop {
    fn drop(&mut self) {
        *self.0.lock().unwrap() = Some(task::try_id());
    }
}

#[test]
fn a_tasks_future_is_dropped_inside_the_task() {
    let rt = runtime(2);
    rt.block_on(async {
        // Dropped when the future completes.
        let seen = Arc::new(Mutex::new(None));
        let guard = RecordsIdOnDrop(Arc::clone(&seen));
        let completed = gort::spawn(async move {
            let _guard = guard;
        });
        let id = completed.id();
        completed.await.unwrap();
        assert_eq!(*seen.lock().unwrap(), Some(Some(id)));

        // Dropped by an abort while parked.
        let seen = Arc::new(Mutex::new(None));
        let guard = RecordsIdOnDrop(Arc::clone(&seen));
        let (started_tx, started_rx) = oneshot::channel();
        let aborted = gort::spawn(async move {
            let _guard = guard;
            started_tx.send(()).unwrap();
            std::future::pending::<()>().await;
        });
        let id = aborted.id();
        started_rx.await.unwrap();
        aborted.abort();
        assert!(aborted.await.unwrap_err().is_cancelled());
        assert_eq!(*seen.lock().unwrap(), Some(Some(id)));
    });
}

/// A task's output whose destructor asks for the task's id.
struct OutputRecordsId(Arc<Mutex<Option<Option<Id>>>>);

impl Drop for OutputRecordsId {
    fn drop(&mut self) {
        *self.0.lock().unwrap() = Some(task::try_id());
    }
}

#[test]
fn an_output_no_handle_takes_is_dropped_inside_its_task() {
    let rt = runtime(2);
    rt.block_on(async {
        // The handle is gone before the task completes: the output is dropped right after the
        // completing poll (this used to abort the process with `task::id()` in the destructor).
        let seen = Arc::new(Mutex::new(None));
        let record = Arc::clone(&seen);
        let (go_tx, go_rx) = oneshot::channel::<()>();
        let (done_tx, done_rx) = oneshot::channel::<()>();
        let early = gort::spawn(async move {
            go_rx.await.unwrap();
            let _notify_after_the_output = done_tx;
            OutputRecordsId(record)
        });
        let id = early.id();
        drop(early);
        go_tx.send(()).unwrap();
        let _ = done_rx.await;
        while seen.lock().unwrap().is_none() {
            task::yield_now().await;
        }
        assert_eq!(*seen.lock().unwrap(), Some(Some(id)));

        // The handle is dropped after completion, here outside any task: the destructor still
        // runs as code of the task that produced the output.
        let seen = Arc::new(Mutex::new(None));
        let record = Arc::clone(&seen);
        let late = gort::spawn(async move { OutputRecordsId(record) });
        let id = late.id();
        while !late.is_finished() {
            task::yield_now().await;
        }
        assert!(
            seen.lock().unwrap().is_none(),
            "the output waits for its handle"
        );
        drop(late);
        assert_eq!(*seen.lock().unwrap(), Some(Some(id)));
        assert_eq!(
            task::try_id(),
            None,
            "block_on's future is not a task again"
        );
    });
}

#[test]
fn ids_are_plain_values() {
    let rt = runtime(1);
    let (a, b) = rt.block_on(async {
        let a = gort::spawn(async {}).id();
        let b = gort::spawn(async {}).id();
        (a, b)
    });
    let copy = a;
    assert_eq!(copy, a);
    assert_ne!(a, b);
    let ordered: BTreeSet<Id> = [b, a, b].into_iter().collect();
    assert_eq!(ordered.len(), 2);
    assert!(
        a.to_string().parse::<u64>().is_ok(),
        "Display is the number: {a}"
    );
    assert_eq!(format!("{a:?}"), format!("Id({a})"));
}
