//! `JoinHandle` and `JoinError`: output delivery, abort, detaching, error messages, panics.
//!
//! Several tests make tasks panic on purpose; the default panic hook prints those panics to
//! stderr. The hook is left alone: tests run on parallel threads and the hook is global.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use futures::channel::oneshot;

use common::{count, counter, eventually, panic_text, runtime, DropGuard};

#[test]
fn output_is_delivered() {
    let rt = runtime(2);
    rt.block_on(async {
        assert_eq!(gort::spawn(async { 1u8 }).await.unwrap(), 1);
        assert_eq!(
            gort::spawn(async { String::from("text") }).await.unwrap(),
            "text"
        );
        assert_eq!(
            gort::spawn(async { vec![1, 2, 3] }).await.unwrap(),
            [1, 2, 3]
        );
        gort::spawn(async {}).await.unwrap();
        // Output produced after the task parked and was woken.
        let (tx, rx) = oneshot::channel();
        let handle = gort::spawn(async move { rx.await.unwrap() * 2 });
        tx.send(21).unwrap();
        assert_eq!(handle.await.unwrap(), 42);
    });
}

#[test]
fn output_is_delivered_to_a_handle_awaited_in_another_task() {
    let rt = runtime(2);
    let got = rt.block_on(async {
        let (tx, rx) = oneshot::channel();
        let producer = gort::spawn(async move { rx.await.unwrap() });
        let consumer = gort::spawn(async move { producer.await.unwrap() + 1 });
        tx.send(99).unwrap();
        consumer.await.unwrap()
    });
    assert_eq!(got, 100);
}

#[test]
fn abort_drops_the_future_of_a_pending_task() {
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
        started_rx.await.unwrap();
        assert_eq!(count(&drops), 0, "the task is parked, its future alive");
        handle.abort();
        let err = handle.await.expect_err("an aborted task yields an error");
        assert!(err.is_cancelled(), "{err:?}");
        assert!(!err.is_panic());
        assert_eq!(
            count(&drops),
            1,
            "the future was dropped before the handle resolved"
        );
    });
}

#[test]
fn abort_reaches_a_task_parked_on_a_channel_from_a_plain_thread() {
    let rt = runtime(2);
    let drops = counter();
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let (_never_tx, never_rx) = oneshot::channel::<()>();
    let guard = DropGuard::new(&drops);
    let handle = rt.spawn(async move {
        let _guard = guard;
        started_tx.send(()).unwrap();
        let _ = never_rx.await;
    });
    started_rx.recv().unwrap();
    // Abort from this plain thread, then await from block_on.
    handle.abort();
    let err = rt.block_on(handle).expect_err("aborted");
    assert!(err.is_cancelled(), "{err:?}");
    assert_eq!(count(&drops), 1);
}

#[test]
fn abort_of_a_never_polled_task() {
    // One P, held by block_on's thread: the spawned task sits in runnext and cannot run until
    // main yields, so it is aborted before its first poll.
    let rt = runtime(1);
    let drops = counter();
    let polled = Arc::new(AtomicBool::new(false));
    rt.block_on(async {
        let guard = DropGuard::new(&drops);
        let was_polled = Arc::clone(&polled);
        let handle = gort::spawn(async move {
            let _guard = guard;
            was_polled.store(true, Ordering::SeqCst);
        });
        handle.abort();
        let err = handle.await.expect_err("aborted before its first poll");
        assert!(err.is_cancelled(), "{err:?}");
    });
    assert!(
        !polled.load(Ordering::SeqCst),
        "an aborted task's future is never polled"
    );
    assert_eq!(count(&drops), 1, "its future is still dropped");
}

#[test]
fn abort_after_completion_still_returns_the_output() {
    let rt = runtime(2);
    rt.block_on(async {
        let handle = gort::spawn(async { "done" });
        assert!(
            eventually(|| handle.is_finished()).await,
            "the task never finished"
        );
        handle.abort();
        handle.abort(); // Twice is harmless.
        assert_eq!(handle.await.unwrap(), "done");
    });
}

#[test]
fn abort_twice_on_a_pending_task() {
    let rt = runtime(2);
    rt.block_on(async {
        let handle = gort::spawn(std::future::pending::<()>());
        gort::task::yield_now().await;
        handle.abort();
        handle.abort();
        assert!(handle.await.unwrap_err().is_cancelled());
    });
}

#[test]
fn is_finished_tracks_completion() {
    let rt = runtime(2);
    rt.block_on(async {
        let (gate_tx, gate_rx) = oneshot::channel::<()>();
        let handle = gort::spawn(async move { gate_rx.await.unwrap() });
        gort::task::yield_now().await;
        assert!(!handle.is_finished(), "the task waits for its gate");
        gate_tx.send(()).unwrap();
        assert!(
            eventually(|| handle.is_finished()).await,
            "the task never finished"
        );
        handle.await.unwrap();

        // A panicked task and a cancelled one are finished too.
        let panicked = gort::spawn(async { panic!("finished by panicking") });
        assert!(eventually(|| panicked.is_finished()).await);
        let cancelled = gort::spawn(std::future::pending::<()>());
        cancelled.abort();
        assert!(eventually(|| cancelled.is_finished()).await);
    });
}

#[test]
fn dropping_the_handle_detaches_the_task() {
    let rt = runtime(2);
    let got = rt.block_on(async {
        let (gate_tx, gate_rx) = oneshot::channel::<()>();
        let (done_tx, done_rx) = oneshot::channel();
        let handle = gort::spawn(async move {
            gate_rx.await.unwrap();
            done_tx.send("finished after detach").unwrap();
        });
        gort::task::yield_now().await;
        drop(handle);
        gate_tx.send(()).unwrap();
        done_rx.await.unwrap()
    });
    assert_eq!(got, "finished after detach");
}

#[test]
fn join_error_messages_are_tokios() {
    let rt = runtime(2);
    rt.block_on(async {
        let panicked = gort::spawn(async { panic!("kaboom") });
        let id = panicked.id();
        let err = panicked.await.expect_err("it panicked");
        assert_eq!(err.id(), id);
        assert_eq!(
            err.to_string(),
            format!("task {id} panicked with message \"kaboom\"")
        );
        assert_eq!(
            format!("{err:?}"),
            format!("JoinError::Panic({id:?}, \"kaboom\", ...)")
        );

        let odd_payload = gort::spawn(async { std::panic::panic_any(7_u8) });
        let id = odd_payload.id();
        let err = odd_payload.await.expect_err("it panicked");
        assert_eq!(err.to_string(), format!("task {id} panicked"));
        assert_eq!(format!("{err:?}"), format!("JoinError::Panic({id:?}, ...)"));

        let cancelled = gort::spawn(std::future::pending::<()>());
        let id = cancelled.id();
        cancelled.abort();
        let err = cancelled.await.expect_err("it was aborted");
        assert_eq!(err.id(), id);
        assert_eq!(err.to_string(), format!("task {id} was cancelled"));
        assert_eq!(format!("{err:?}"), format!("JoinError::Cancelled({id:?})"));
        assert_eq!(format!("{id:?}"), format!("Id({id})"));
    });
}

#[test]
fn join_error_converts_to_io_error() {
    let rt = runtime(1);
    let err = rt
        .block_on(gort::spawn(async { panic!("into io") }))
        .unwrap_err();
    let io: std::io::Error = err.into();
    assert_eq!(io.kind(), std::io::ErrorKind::Other);
    assert_eq!(io.to_string(), "task panicked");
    let cancelled = rt.spawn(std::future::pending::<()>());
    cancelled.abort();
    let io: std::io::Error = rt.block_on(cancelled).unwrap_err().into();
    assert_eq!(io.to_string(), "task was cancelled");
}

#[test]
fn into_panic_returns_the_payload() {
    let rt = runtime(2);
    rt.block_on(async {
        let err = gort::spawn(async { panic!("static payload") })
            .await
            .unwrap_err();
        assert!(err.is_panic());
        assert_eq!(panic_text(err.into_panic().as_ref()), "static payload");

        let err = gort::spawn(async { panic!("formatted {}", 7) })
            .await
            .unwrap_err();
        assert_eq!(panic_text(err.into_panic().as_ref()), "formatted 7");

        let err = gort::spawn(async { std::panic::panic_any(42_i32) })
            .await
            .unwrap_err();
        let payload = err.into_panic();
        assert_eq!(payload.downcast_ref::<i32>(), Some(&42));

        // A cancelled task has no payload.
        let cancelled = gort::spawn(std::future::pending::<()>());
        cancelled.abort();
        let err = cancelled.await.unwrap_err();
        let err = err
            .try_into_panic()
            .expect_err("a cancelled task has no payload");
        assert!(err.is_cancelled());
    });
}

#[test]
fn a_panicking_task_does_not_stop_the_runtime() {
    const EACH: usize = 100;
    let rt = runtime(2);
    rt.block_on(async {
        let panicking: Vec<_> = (0..EACH)
            .map(|i| gort::spawn(async move { panic!("task {i} panics on purpose") }))
            .collect();
        for handle in panicking {
            let err = handle.await.expect_err("the task panicked");
            assert!(err.is_panic(), "{err:?}");
        }
    });
    // Same runtime, new block_on: every normal task still runs.
    let outputs = rt.block_on(async {
        let normal: Vec<_> = (0..EACH).map(|i| gort::spawn(async move { i })).collect();
        let mut outputs = Vec::new();
        for handle in normal {
            outputs.push(handle.await.expect("a normal task after panics"));
        }
        outputs
    });
    assert_eq!(outputs, (0..EACH).collect::<Vec<_>>());
}

#[test]
fn a_panicking_task_drops_its_locals() {
    let rt = runtime(2);
    let drops = counter();
    let guard = DropGuard::new(&drops);
    let err = rt
        .block_on(gort::spawn(async move {
            let _guard = guard;
            gort::task::yield_now().await;
            panic!("unwinds through the guard");
        }))
        .unwrap_err();
    assert!(err.is_panic());
    assert_eq!(count(&drops), 1);
}

/// Panics when dropped.
struct PanicsOnDrop;

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("output dropped");
    }
}

#[test]
fn dropping_a_handle_whose_output_panics_on_drop_does_not_panic() {
    let rt = runtime(2);
    rt.block_on(async {
        let handle = gort::spawn(async { PanicsOnDrop });
        while !handle.is_finished() {
            gort::task::yield_now().await;
        }
        // The panic is the output's, reported on stderr; the caller goes on.
        drop(handle);
        // Nobody takes the output at all: dropped on the M after the completing poll.
        drop(gort::spawn(async { PanicsOnDrop }));
        assert_eq!(gort::spawn(async { 7 }).await.unwrap(), 7);
    });
}

#[test]
fn a_panicking_poll_drops_the_future_while_the_panic_unwinds() {
    /// Panics in its poll; its destructor reports whether the thread was unwinding.
    struct Boom(Option<oneshot::Sender<bool>>);
    impl std::future::Future for Boom {
        type Output = ();
        fn poll(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<()> {
            panic!("boom");
        }
    }
    impl Drop for Boom {
        fn drop(&mut self) {
            let _ = self.0.take().unwrap().send(std::thread::panicking());
        }
    }
    /// Panics in its poll and again in its destructor.
    struct DoubleBoom;
    impl std::future::Future for DoubleBoom {
        type Output = ();
        fn poll(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<()> {
            panic!("first");
        }
    }
    impl Drop for DoubleBoom {
        fn drop(&mut self) {
            panic!("second");
        }
    }
    let rt = runtime(2);
    let (tx, rx) = oneshot::channel();
    let handle = rt.spawn(Boom(Some(tx)));
    assert!(rt.block_on(rx).unwrap(), "dropped during the unwinding");
    let err = rt.block_on(handle).unwrap_err();
    assert_eq!(panic_text(&*err.into_panic()), "boom");
    // The destructor's panic is caught (the process would abort otherwise); the poll's stays.
    let err = rt.block_on(rt.spawn(DoubleBoom)).unwrap_err();
    assert_eq!(panic_text(&*err.into_panic()), "first");
}

#[test]
fn into_panic_on_a_cancellation_panics_at_the_callers_line() {
    // The panic hook is process-wide: checked in a child process running this test alone.
    const CHILD: &str = "GORT_TEST_INTO_PANIC_CALLER_CHILD";
    if std::env::var_os(CHILD).is_none() {
        common::rerun_in_child(
            "into_panic_on_a_cancellation_panics_at_the_callers_line",
            &[(CHILD, "1")],
        );
        return;
    }
    let location = Arc::new(std::sync::Mutex::new(None));
    let record = Arc::clone(&location);
    std::panic::set_hook(Box::new(move |info| {
        *record.lock().unwrap() = info.location().map(|at| at.file().to_owned());
    }));
    let rt = runtime(1);
    let err = rt.block_on(async {
        let handle = gort::spawn(std::future::pending::<()>());
        handle.abort();
        handle.await.unwrap_err()
    });
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| err.into_panic()));
    let _ = std::panic::take_hook();
    assert!(caught.is_err());
    assert_eq!(location.lock().unwrap().as_deref(), Some(file!()));
}

#[test]
fn handles_and_errors_have_tokios_auto_traits() {
    fn assert_send_sync_unpin<T: Send + Sync + Unpin>() {}
    fn assert_unwind_safe<T: std::panic::UnwindSafe + std::panic::RefUnwindSafe>() {}
    // The panic payload is only `Send`; the error is `Sync` all the same, as tokio's.
    assert_send_sync_unpin::<gort::task::JoinError>();
    assert_send_sync_unpin::<gort::JoinHandle<std::cell::Cell<u8>>>();
    assert_unwind_safe::<gort::JoinHandle<u8>>();
    assert_unwind_safe::<gort::task::AbortHandle>();
}
