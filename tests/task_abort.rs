//! `AbortHandle`: aborting a task from a handle that cannot await it, also after its
//! `JoinHandle` is gone and after the task itself is gone.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use futures::channel::oneshot;
use gort::task::{self, AbortHandle};

use common::{count, counter, eventually, eventually_blocking, parked_forever, runtime, DropGuard};

#[test]
fn aborting_through_the_handle_cancels_a_parked_task() {
    let rt = runtime(2);
    let drops = counter();
    rt.block_on(async {
        let (started_tx, started_rx) = oneshot::channel();
        let guard = DropGuard::new(&drops);
        let handle = gort::spawn(async move {
            let _guard = guard;
            started_tx.send(()).unwrap();
            std::future::pending::<()>().await;
        });
        let abort = handle.abort_handle();
        started_rx.await.unwrap();
        assert!(!abort.is_finished(), "the task is parked");
        abort.abort();
        let err = handle.await.expect_err("aborted");
        assert!(err.is_cancelled(), "{err:?}");
        assert_eq!(err.id(), abort.id());
        assert_eq!(count(&drops), 1, "the future was dropped");
        assert!(abort.is_finished());
    });
}

#[test]
fn the_handle_outlives_the_join_handle() {
    let rt = runtime(2);
    let drops = counter();
    rt.block_on(async {
        let (started_tx, started_rx) = oneshot::channel();
        let guard = DropGuard::new(&drops);
        let abort = gort::spawn(async move {
            let _guard = guard;
            started_tx.send(()).unwrap();
            std::future::pending::<()>().await;
        })
        .abort_handle();
        // The JoinHandle is gone: the task runs detached.
        started_rx.await.unwrap();
        assert!(!abort.is_finished());
        abort.abort();
        assert!(
            eventually(|| abort.is_finished()).await,
            "the detached task was not cancelled"
        );
        assert_eq!(count(&drops), 1);
    });
}

#[test]
fn a_handle_of_a_task_that_is_gone_does_nothing() {
    let rt = runtime(2);
    rt.block_on(async {
        let handle = gort::spawn(async { 5 });
        let abort = handle.abort_handle();
        let clone = abort.clone();
        assert_eq!(handle.await.unwrap(), 5);
        // The task completed and its JoinHandle is gone: its memory may be freed, the handle
        // still answers.
        assert!(abort.is_finished());
        abort.abort();
        clone.abort();
        assert!(clone.is_finished());
        assert_eq!(abort.id(), clone.id());
    });
}

#[test]
fn abort_after_completion_keeps_the_output() {
    let rt = runtime(2);
    rt.block_on(async {
        let handle = gort::spawn(async { "kept" });
        let abort = handle.abort_handle();
        assert!(eventually(|| handle.is_finished()).await);
        abort.abort();
        assert_eq!(handle.await.unwrap(), "kept");
    });
}

#[test]
fn abort_before_the_first_poll_means_no_poll() {
    // One P, held by block_on's thread: the task cannot run before main awaits.
    let rt = runtime(1);
    let polled = Arc::new(AtomicBool::new(false));
    rt.block_on(async {
        let was_polled = Arc::clone(&polled);
        let handle = gort::spawn(async move { was_polled.store(true, Ordering::SeqCst) });
        handle.abort_handle().abort();
        assert!(handle.await.unwrap_err().is_cancelled());
    });
    assert!(!polled.load(Ordering::SeqCst));
}

#[test]
fn a_task_can_abort_itself() {
    let rt = runtime(2);
    let went_on = Arc::new(AtomicBool::new(false));
    rt.block_on(async {
        let (abort_tx, abort_rx) = oneshot::channel::<AbortHandle>();
        let flag = Arc::clone(&went_on);
        let handle = gort::spawn(async move {
            let own = abort_rx.await.unwrap();
            own.abort();
            // The abort takes effect at the next scheduling point.
            task::yield_now().await;
            flag.store(true, Ordering::SeqCst);
        });
        abort_tx.send(handle.abort_handle()).unwrap();
        assert!(handle.await.unwrap_err().is_cancelled());
    });
    assert!(
        !went_on.load(Ordering::SeqCst),
        "the task ran past its abort"
    );
}

#[test]
fn abort_from_another_thread() {
    let rt = runtime(2);
    let drops = counter();
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let guard = DropGuard::new(&drops);
    let handle = rt.spawn(async move {
        started_tx.send(()).unwrap();
        parked_forever(guard).await;
    });
    started_rx.recv().unwrap();
    let abort = handle.abort_handle();
    std::thread::spawn(move || abort.abort()).join().unwrap();
    assert!(rt.block_on(handle).unwrap_err().is_cancelled());
    assert_eq!(count(&drops), 1);
}

#[test]
fn an_aborted_blocking_task_that_has_not_started_never_starts() {
    let rt = gort::runtime::Builder::new()
        .worker_threads(1)
        .max_blocking_threads(1)
        .build()
        .unwrap();
    let ran = Arc::new(AtomicBool::new(false));
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let (busy_tx, busy_rx) = std::sync::mpsc::channel::<()>();
    // The only pool thread is busy until released, so the second job waits in the queue.
    let busy = rt.spawn_blocking(move || {
        busy_tx.send(()).unwrap();
        release_rx.recv().unwrap();
    });
    busy_rx.recv().unwrap();
    let flag = Arc::clone(&ran);
    let queued = rt.spawn_blocking(move || flag.store(true, Ordering::SeqCst));
    let abort = queued.abort_handle();
    abort.abort();
    release_tx.send(()).unwrap();
    rt.block_on(busy).unwrap();
    assert!(rt.block_on(queued).unwrap_err().is_cancelled());
    assert!(!ran.load(Ordering::SeqCst), "the aborted job ran");
    assert!(eventually_blocking(|| abort.is_finished()));
}

#[test]
fn abort_handles_are_send_sync_unpin_and_debug() {
    fn assert_traits<T: Send + Sync + Unpin + Clone + std::fmt::Debug + 'static>() {}
    assert_traits::<AbortHandle>();
    let rt = runtime(1);
    let abort = rt.block_on(async { gort::spawn(async {}).abort_handle() });
    assert_eq!(
        format!("{abort:?}"),
        format!("AbortHandle {{ id: {:?} }}", abort.id())
    );
}

#[test]
fn aborting_a_task_whose_destructor_panics_yields_that_panic() {
    /// Panics when dropped.
    struct PanicsOnDrop;
    impl Drop for PanicsOnDrop {
        fn drop(&mut self) {
            panic!("dropped by the abort");
        }
    }
    let rt = runtime(2);
    rt.block_on(async {
        let (started_tx, started_rx) = oneshot::channel();
        let handle = gort::spawn(async move {
            let _bomb = PanicsOnDrop;
            started_tx.send(()).unwrap();
            std::future::pending::<()>().await;
        });
        started_rx.await.unwrap();
        handle.abort();
        // As tokio: the future is dropped inside the task, and its destructor's panic is the
        // task's result instead of a cancellation.
        let err = handle.await.unwrap_err();
        assert!(err.is_panic(), "{err:?}");
        assert_eq!(
            common::panic_text(&*err.into_panic()),
            "dropped by the abort"
        );
        // Without a panic, an abort still cancels.
        let plain = gort::spawn(std::future::pending::<()>());
        plain.abort();
        assert!(plain.await.unwrap_err().is_cancelled());
    });
}

#[test]
fn a_future_that_panics_when_shutdown_drops_it_makes_the_panic_its_result() {
    struct PanicsWhenDropped;
    impl Drop for PanicsWhenDropped {
        fn drop(&mut self) {
            panic!("dropped by shutdown");
        }
    }
    let rt = runtime(2);
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let parked = rt.spawn(async move {
        let _bomb = PanicsWhenDropped;
        started_tx.send(()).unwrap();
        std::future::pending::<()>().await;
    });
    let plain = rt.spawn(std::future::pending::<()>());
    started_rx.recv().unwrap();
    drop(rt);
    // As tokio: the future is dropped inside its task, which reports the destructor's panic.
    let err = futures::executor::block_on(parked).unwrap_err();
    assert!(err.is_panic(), "{err:?}");
    assert_eq!(
        common::panic_text(&*err.into_panic()),
        "dropped by shutdown"
    );
    assert!(futures::executor::block_on(plain)
        .unwrap_err()
        .is_cancelled());
}
