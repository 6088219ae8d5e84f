//! `gort::sync::{Notify, Barrier}` and `gort::sync::futures`: a notification chosen for a
//! future that is dropped unseen goes on from the same end (`notify_one` to the next oldest,
//! `notify_last` to the next newest, or into the permit); a barrier counts a dropped arrival;
//! and the auto traits of these types and of the once cells are tokio's. Futures are polled by
//! hand, so the order of events is exact.

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use futures::FutureExt;
use gort::sync::futures::{Notified, OwnedNotified};
use gort::sync::{Barrier, BarrierWaitResult, Notify, OnceCell, SetOnce, WaitGroup};

/// Polls `future` once with a waker that does nothing.
fn poll_once<F: Future + ?Sized>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

// ----- Notify -----

/// `notify_last` chooses the newest waiter; dropped unseen, its notification goes to the next
/// newest, not the oldest.
#[test]
fn notify_last_to_a_dropped_waiter_goes_to_the_next_newest() {
    let notify = Notify::new();
    let mut oldest = pin!(notify.notified());
    let mut middle = pin!(notify.notified());
    let mut newest = Box::pin(notify.notified());
    for waiter in [oldest.as_mut(), middle.as_mut(), newest.as_mut()] {
        assert!(poll_once(waiter).is_pending());
    }
    notify.notify_last();
    drop(newest);
    assert!(poll_once(oldest.as_mut()).is_pending(), "not the oldest");
    assert!(poll_once(middle.as_mut()).is_ready(), "the next newest");
    assert!(
        poll_once(oldest.as_mut()).is_pending(),
        "and only one notification"
    );
}

/// `notify_one` chooses the oldest waiter; dropped unseen, its notification goes to the next
/// oldest; with no waiter left it becomes the permit.
#[test]
fn notify_one_to_a_dropped_waiter_goes_to_the_next_oldest_then_the_permit() {
    let notify = Arc::new(Notify::new());
    let mut oldest = Box::pin(notify.clone().notified_owned());
    let mut middle = Box::pin(notify.clone().notified_owned());
    let mut newest = pin!(notify.clone().notified_owned());
    for waiter in [oldest.as_mut(), middle.as_mut(), newest.as_mut()] {
        assert!(poll_once(waiter).is_pending());
    }
    notify.notify_one();
    drop(oldest);
    assert!(poll_once(newest.as_mut()).is_pending(), "not the newest");
    notify.notify_one();
    drop(middle);
    assert!(
        poll_once(newest.as_mut()).is_ready(),
        "the middle's went on"
    );
    notify.notify_one();
    assert!(
        notify.notified().now_or_never().is_some(),
        "then into the permit"
    );
}

/// A future released by `notify_waiters` and then dropped hands nothing on: no permit appears.
#[test]
fn a_waiter_released_by_notify_waiters_and_dropped_leaves_no_permit() {
    let notify = Notify::new();
    let mut waiter = Box::pin(notify.notified());
    assert!(!waiter.as_mut().enable());
    notify.notify_waiters();
    drop(waiter);
    assert!(notify.notified().now_or_never().is_none());
}

/// The future types are named at tokio's path, `sync::futures`, and can be stored.
#[test]
fn the_notified_futures_are_named_under_sync_futures() {
    struct Waiting<'a> {
        borrowed: Pin<Box<Notified<'a>>>,
        owned: Pin<Box<OwnedNotified>>,
    }
    let notify = Arc::new(Notify::new());
    let mut waiting = Waiting {
        borrowed: Box::pin(notify.notified()),
        owned: Box::pin(notify.clone().notified_owned()),
    };
    assert!(poll_once(waiting.borrowed.as_mut()).is_pending());
    assert!(poll_once(waiting.owned.as_mut()).is_pending());
    notify.notify_waiters();
    assert!(poll_once(waiting.borrowed.as_mut()).is_ready());
    assert!(poll_once(waiting.owned.as_mut()).is_ready());
}

// ----- Barrier -----

/// `Barrier::new(0)` behaves as `new(1)`: every wait completes at once, as the leader.
#[test]
fn barrier_of_zero_or_one_never_waits() {
    for n in [0, 1] {
        let barrier = Barrier::new(n);
        for _ in 0..3 {
            let result = barrier.wait().now_or_never().expect("no wait");
            assert!(result.is_leader());
        }
    }
}

/// An arrival dropped while parked still counts (not cancel safe, as in tokio): the next
/// arrival completes the round as its leader, and the round after starts from zero.
#[test]
fn barrier_counts_a_dropped_arrival() {
    let barrier = Barrier::new(2);
    let mut dropped = Box::pin(barrier.wait());
    assert!(poll_once(dropped.as_mut()).is_pending());
    drop(dropped);
    let leader = barrier
        .wait()
        .now_or_never()
        .expect("the round is complete");
    assert!(leader.is_leader());
    let mut next = pin!(barrier.wait());
    assert!(poll_once(next.as_mut()).is_pending(), "a new round");
    assert!(barrier
        .wait()
        .now_or_never()
        .expect("second of two")
        .is_leader());
    let follower = poll_once(next.as_mut());
    assert!(matches!(follower, Poll::Ready(ref result) if !result.is_leader()));
}

// ----- Auto traits -----

/// Compiles only for `Send + Sync` types.
fn send_sync<T: Send + Sync>() {}
/// Compiles only for `Unpin` types.
fn unpin<T: Unpin>() {}

/// A trait with two impls where `T: Unpin` (ambiguous, so a call does not compile) and one
/// otherwise: naming `<T as IsUnpin<_>>::CHECK` compiles only for a `!Unpin` T.
trait IsUnpin<A> {
    const CHECK: () = ();
}
impl<T: ?Sized> IsUnpin<()> for T {}
impl<T: ?Sized + Unpin> IsUnpin<u8> for T {}

/// The same for `Send`: naming it compiles only for a `!Send` T.
trait IsSend<A> {
    const CHECK: () = ();
}
impl<T: ?Sized> IsSend<()> for T {}
impl<T: ?Sized + Send> IsSend<u8> for T {}

/// The same for `Sync`.
trait IsSync<A> {
    const CHECK: () = ();
}
impl<T: ?Sized> IsSync<()> for T {}
impl<T: ?Sized + Sync> IsSync<u8> for T {}

/// Checks a future's auto traits through a function that returns it.
fn future_of<F: Future>(_: impl FnOnce() -> F) -> std::marker::PhantomData<F> {
    std::marker::PhantomData
}

/// `Send + Sync` but not `Send` only, and neither.
type Yy = u32;
type Yn = std::cell::Cell<u32>;
type Nn = std::rc::Rc<u32>;

/// The auto traits tokio's `async_send_sync` test expects of these types and their futures.
#[test]
fn auto_traits_are_tokios() {
    send_sync::<Notify>();
    unpin::<Notify>();
    send_sync::<Barrier>();
    unpin::<Barrier>();
    send_sync::<BarrierWaitResult>();
    unpin::<BarrierWaitResult>();
    send_sync::<WaitGroup>();
    send_sync::<Notified<'static>>();
    send_sync::<OwnedNotified>();
    let () = <Notified<'static> as IsUnpin<_>>::CHECK;
    let () = <OwnedNotified as IsUnpin<_>>::CHECK;

    send_sync::<OnceCell<Yy>>();
    unpin::<OnceCell<Yy>>();
    unpin::<OnceCell<Nn>>();
    let () = <OnceCell<Yn> as IsSync<_>>::CHECK;
    let () = <OnceCell<Nn> as IsSend<_>>::CHECK;
    let () = <OnceCell<Nn> as IsSync<_>>::CHECK;
    send_sync::<SetOnce<Yy>>();
    unpin::<SetOnce<Yy>>();
    let () = <SetOnce<Yn> as IsSync<_>>::CHECK;
    let () = <SetOnce<Nn> as IsSend<_>>::CHECK;

    fn check<F: Future>(_: std::marker::PhantomData<F>) -> std::marker::PhantomData<F> {
        std::marker::PhantomData
    }
    static BARRIER: std::sync::OnceLock<Barrier> = std::sync::OnceLock::new();
    static CELL: OnceCell<Yy> = OnceCell::const_new();
    static EVENT: SetOnce<Yy> = SetOnce::const_new();
    let barrier_wait = check(future_of(|| BARRIER.get_or_init(|| Barrier::new(1)).wait()));
    let init = check(future_of(|| CELL.get_or_init(|| async { 1 })));
    let wait = check(future_of(|| EVENT.wait()));
    fn send_sync_not_unpin<F: Send + Sync>(_: std::marker::PhantomData<F>) {
        let () = <F as IsUnpin<_>>::CHECK;
    }
    send_sync_not_unpin(barrier_wait);
    send_sync_not_unpin(init);
    send_sync_not_unpin(wait);
}
