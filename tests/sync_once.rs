//! `gort::sync::{OnceCell, SetOnce}`: one initialiser at a time, handed on in arrival order
//! when one is cancelled, fails or panics; `set` giving the value back with the reason;
//! `SetOnce::wait` woken by a `set` from a task or a plain thread. Futures are polled by hand
//! where the order of events is the point, so the tests are deterministic.

mod common;

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures::FutureExt;
use gort::sync::{Notify, OnceCell, SetError, SetOnce, SetOnceError};

use common::{eventually, record_pending, runtime, within};

/// How long an await that must complete may take before the test fails instead of hanging.
const LIMIT: Duration = Duration::from_secs(10);

/// Polls `future` once with a waker that does nothing.
fn poll_once<F: Future + ?Sized>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

static GLOBAL: OnceCell<&str> = OnceCell::const_new();
static PRESET: OnceCell<u32> = OnceCell::const_new_with(3);
static EVENT: SetOnce<u32> = SetOnce::const_new();
static PRESET_EVENT: SetOnce<u32> = SetOnce::const_new_with(4);

// ----- OnceCell -----

/// A `static` cell (`const_new`, `const_new_with`) works as a lazily set global.
#[test]
fn once_cell_statics_are_set_once() {
    assert_eq!(PRESET.get(), Some(&3));
    assert_eq!(PRESET.set(4), Err(SetError::AlreadyInitializedError(4)));
    assert_eq!(GLOBAL.set("first"), Ok(()));
    assert_eq!(GLOBAL.get(), Some(&"first"));
    let second = GLOBAL.set("second").unwrap_err();
    assert!(second.is_already_init_err() && !second.is_initializing_err());
    assert_eq!(second.to_string(), "AlreadyInitializedError");
}

/// While an initialiser runs, `set` fails with `InitializingError` and gives the value back;
/// once it finishes, callers queued behind it get its value and their initialisers never run.
#[test]
fn once_cell_set_during_initialisation_gives_the_value_back() {
    let cell = OnceCell::new();
    let release = Notify::new();
    let mut first = pin!(cell.get_or_init(|| async {
        release.notified().await;
        "initialised"
    }));
    assert!(
        poll_once(first.as_mut()).is_pending(),
        "the initialiser waits"
    );
    assert!(!cell.initialized());
    let refused = cell.set("set").unwrap_err();
    assert!(refused.is_initializing_err());
    assert_eq!(refused, SetError::InitializingError("set"));
    let mut queued = pin!(cell.get_or_init(|| async { panic!("never runs: the first one wins") }));
    assert!(poll_once(queued.as_mut()).is_pending());
    release.notify_one();
    assert_eq!(poll_once(first.as_mut()), Poll::Ready(&"initialised"));
    assert_eq!(poll_once(queued.as_mut()), Poll::Ready(&"initialised"));
}

/// A cancelled initialiser hands its turn to the oldest queued caller (not a newer one), whose
/// own initialiser then runs.
#[test]
fn once_cell_cancelled_initialiser_hands_on_in_arrival_order() {
    let cell = OnceCell::new();
    let mut first = Box::pin(cell.get_or_init(std::future::pending));
    let mut second = pin!(cell.get_or_init(|| async { 2 }));
    let mut third = pin!(cell.get_or_init(|| async { 3 }));
    assert!(poll_once(first.as_mut()).is_pending());
    assert!(poll_once(second.as_mut()).is_pending());
    assert!(poll_once(third.as_mut()).is_pending());
    drop(first);
    assert_eq!(
        poll_once(third.as_mut()),
        Poll::Pending,
        "the third is not next"
    );
    assert_eq!(poll_once(second.as_mut()), Poll::Ready(&2));
    assert_eq!(poll_once(third.as_mut()), Poll::Ready(&2));
}

/// A caller that was handed the turn but is dropped before it ran its initialiser passes the
/// turn on to the next one.
#[test]
fn once_cell_turn_given_to_a_dropped_caller_goes_on() {
    let cell = OnceCell::new();
    let mut first = Box::pin(cell.get_or_init(std::future::pending));
    let mut second = Box::pin(cell.get_or_init(|| async { 2 }));
    let mut third = pin!(cell.get_or_init(|| async { 3 }));
    assert!(poll_once(first.as_mut()).is_pending());
    assert!(poll_once(second.as_mut()).is_pending());
    assert!(poll_once(third.as_mut()).is_pending());
    drop(first);
    drop(second);
    assert_eq!(poll_once(third.as_mut()), Poll::Ready(&3));
}

/// An initialiser that returns `Err` leaves the cell empty, returns the error to its caller,
/// and lets the next queued caller run its own.
#[test]
fn once_cell_failed_initialiser_lets_the_next_caller_try() {
    let cell = OnceCell::<u32>::new();
    let release = Notify::new();
    let mut failing = pin!(cell.get_or_try_init(|| async {
        release.notified().await;
        Err("refused")
    }));
    let mut next = pin!(cell.get_or_try_init(|| async { Ok::<u32, &str>(9) }));
    assert!(poll_once(failing.as_mut()).is_pending());
    assert!(poll_once(next.as_mut()).is_pending());
    release.notify_one();
    assert_eq!(poll_once(failing.as_mut()), Poll::Ready(Err("refused")));
    assert!(
        !cell.initialized(),
        "a failed initialiser leaves the cell empty"
    );
    assert_eq!(poll_once(next.as_mut()), Poll::Ready(Ok(&9)));
}

/// A panicking initialiser in one task lets a task queued behind it run its own initialiser.
#[test]
fn once_cell_panicking_initialiser_lets_the_next_task_run() {
    runtime(2).block_on(async {
        let cell = Arc::new(OnceCell::new());
        let release = Arc::new(Notify::new());
        let started = Arc::new(AtomicBool::new(false));
        let panicking = {
            let (cell, release, started) = (cell.clone(), release.clone(), started.clone());
            gort::spawn(async move {
                *cell
                    .get_or_init(|| async move {
                        started.store(true, Ordering::SeqCst);
                        release.notified().await;
                        panic!("the initialiser fails")
                    })
                    .await
            })
        };
        assert!(eventually(|| started.load(Ordering::SeqCst)).await);
        let (queued, parked) = record_pending({
            let cell = cell.clone();
            async move { *cell.get_or_init(|| async { 11 }).await }
        });
        let queued = gort::spawn(queued);
        assert!(eventually(|| parked.load(Ordering::SeqCst)).await);
        release.notify_one();
        let failed = within(LIMIT, "the panicking initialiser", panicking).await;
        assert!(failed.unwrap_err().is_panic());
        let value = within(LIMIT, "the next initialiser", queued).await;
        assert_eq!(value.expect("no panic"), 11);
        assert_eq!(cell.get(), Some(&11));
    });
}

/// `take`, `get_mut` and `into_inner` move the value out through `&mut`/ownership; the cell's
/// traits compare and clone the value.
#[test]
fn once_cell_ownership_and_traits() {
    let mut cell = OnceCell::from(vec![1]);
    cell.get_mut().expect("set").push(2);
    assert_eq!(cell.clone(), OnceCell::new_with(Some(vec![1, 2])));
    assert_ne!(cell, OnceCell::default());
    assert_eq!(format!("{cell:?}"), "OnceCell { value: Some([1, 2]) }");
    assert_eq!(cell.take(), Some(vec![1, 2]));
    assert!(!cell.initialized() && cell.take().is_none());
    assert_eq!(cell.set(vec![3]), Ok(()), "a taken cell is empty again");
    assert_eq!(cell.into_inner(), Some(vec![3]));
    assert_eq!(OnceCell::<u8>::new_with(None).into_inner(), None);
}

// ----- SetOnce -----

/// `set` succeeds once; after that it gives the rejected value back.
#[test]
fn set_once_gives_a_second_value_back() {
    let event = SetOnce::new();
    assert!(!event.initialized() && event.get().is_none());
    assert_eq!(event.set(String::from("a")), Ok(()));
    let refused = event.set(String::from("b")).unwrap_err();
    assert_eq!(refused, SetOnceError(String::from("b")));
    assert_eq!(refused.to_string(), "SetOnceError");
    assert_eq!(event.get().map(String::as_str), Some("a"));
    assert_eq!(PRESET_EVENT.set(5), Err(SetOnceError(5)));
    assert_eq!(PRESET_EVENT.get(), Some(&4));
}

/// Tasks parked in `wait` are all woken by a `set` from another task, and read its value;
/// a `wait` after the set completes at once.
#[test]
fn set_once_wait_wakes_every_waiter_on_set() {
    runtime(2).block_on(async {
        let event = Arc::new(SetOnce::new());
        let waiters: Vec<_> = (0..4)
            .map(|_| {
                let (waiting, parked) = record_pending({
                    let event = event.clone();
                    async move { *event.wait().await }
                });
                (gort::spawn(waiting), parked)
            })
            .collect();
        for (_, parked) in &waiters {
            assert!(eventually(|| parked.load(Ordering::SeqCst)).await);
        }
        let setter = event.clone();
        gort::spawn(async move { setter.set(42) })
            .await
            .expect("task")
            .expect("the first set");
        for (waiter, _) in waiters {
            assert_eq!(within(LIMIT, "a waiter", waiter).await.expect("task"), 42);
        }
        assert_eq!(event.wait().now_or_never(), Some(&42));
    });
}

/// A `static` `SetOnce` set from a plain thread wakes a task waiting on it.
#[test]
fn set_once_static_set_from_a_thread_wakes_a_task() {
    runtime(1).block_on(async {
        let (waiting, parked) = record_pending(EVENT.wait());
        let waiting = gort::spawn(waiting);
        assert!(eventually(|| parked.load(Ordering::SeqCst)).await);
        std::thread::spawn(|| EVENT.set(8))
            .join()
            .unwrap()
            .expect("first");
        assert_eq!(
            within(LIMIT, "the waiter", waiting).await.expect("task"),
            &8
        );
    });
}

/// A dropped `wait` leaves nothing behind: the `set` after it succeeds and a new `wait` reads
/// the value; `into_inner`, `Clone`, `Eq`, `Debug` and `Default` work on the value.
#[test]
fn set_once_dropped_wait_and_traits() {
    let event = SetOnce::default();
    let mut waiting = Box::pin(event.wait());
    assert!(poll_once(waiting.as_mut()).is_pending());
    drop(waiting);
    assert_eq!(event.set(1u8), Ok(()));
    assert_eq!(event.wait().now_or_never(), Some(&1));
    assert_eq!(event.clone(), SetOnce::from(1));
    assert_eq!(format!("{event:?}"), "SetOnce { value: Some(1) }");
    assert_eq!(event.into_inner(), Some(1));
    assert_eq!(SetOnce::<u8>::new_with(None).into_inner(), None);
}
