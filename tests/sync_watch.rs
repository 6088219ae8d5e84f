//! `gort::sync::watch`: tokio's watch channel. One value, replaced or changed by senders; each
//! receiver remembers the version it saw last and waits for newer ones; the close is seen
//! once every sender is gone.
//!
//! Parking and waking are checked by polling futures by hand with counting wakers, so the
//! tests say exactly who was woken; the runtime tests check the same through tasks.

mod common;

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use gort::sync::watch::{self, error::SendError};

use common::{runtime, watchdog, within};

/// How long an await that must complete may take before the test fails instead of hanging.
const LIMIT: Duration = Duration::from_secs(10);

/// A waker that counts its wakes.
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A fresh counting waker and the counter behind it.
fn counting_waker() -> (Arc<CountingWaker>, Waker) {
    let count = Arc::new(CountingWaker(AtomicUsize::new(0)));
    (Arc::clone(&count), Waker::from(count))
}

/// Wakes so far.
fn wakes(count: &CountingWaker) -> usize {
    count.0.load(Ordering::SeqCst)
}

/// Polls `future` once with `waker`.
fn poll_with<F: Future>(future: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(waker))
}

// ----- Versions -----

/// The initial value counts as seen: `changed` waits, `has_changed` is false. A send makes a
/// version the receiver has not seen; `changed` completes and marks it seen.
#[test]
fn changed_waits_for_a_version_not_seen() {
    let (tx, mut rx) = watch::channel("one");
    assert_eq!(*rx.borrow(), "one");
    assert!(!rx.has_changed().unwrap());
    let (count, waker) = counting_waker();
    {
        let mut changed = pin!(rx.changed());
        assert!(poll_with(changed.as_mut(), &waker).is_pending());
        tx.send("two").unwrap();
        assert_eq!(wakes(&count), 1);
        assert!(matches!(
            poll_with(changed.as_mut(), &waker),
            Poll::Ready(Ok(()))
        ));
    }
    assert!(!rx.has_changed().unwrap(), "changed marked it seen");
    assert_eq!(*rx.borrow(), "two");
    assert!(poll_with(pin!(rx.changed()), &waker).is_pending());
}

/// Several sends before a look coalesce: the receiver sees one change, to the last value.
#[test]
fn sends_coalesce_into_the_latest_value() {
    let (tx, mut rx) = watch::channel(0);
    for value in 1..=5 {
        tx.send(value).unwrap();
    }
    assert!(rx.has_changed().unwrap());
    let seen = rx.borrow_and_update();
    assert!(seen.has_changed());
    assert_eq!(*seen, 5);
    drop(seen);
    assert!(!rx.has_changed().unwrap());
    assert!(!rx.borrow().has_changed(), "borrow after the update: seen");
}

/// `borrow` does not mark seen, `borrow_and_update` does; `changed` completes at once for a
/// version that is already there.
#[test]
fn borrow_leaves_the_version_unseen() {
    let (tx, mut rx) = watch::channel('a');
    tx.send('b').unwrap();
    assert!(rx.borrow().has_changed());
    assert!(rx.borrow().has_changed(), "still unseen");
    assert!(matches!(
        poll_with(pin!(rx.changed()), Waker::noop()),
        Poll::Ready(Ok(()))
    ));
    assert!(!rx.borrow().has_changed());
}

/// `mark_changed` makes the current value look new (also on the very first version, which
/// must not underflow); `mark_unchanged` makes it look seen.
#[test]
fn mark_changed_and_mark_unchanged() {
    let (tx, mut rx) = watch::channel(1);
    rx.mark_changed();
    rx.mark_changed();
    assert!(rx.has_changed().unwrap());
    assert!(rx.borrow_and_update().has_changed());
    assert!(!rx.has_changed().unwrap());

    tx.send(2).unwrap();
    assert!(rx.has_changed().unwrap());
    rx.mark_unchanged();
    assert!(!rx.has_changed().unwrap());
    assert_eq!(*rx.borrow(), 2, "marking reads nothing and changes nothing");
    assert!(poll_with(pin!(rx.changed()), Waker::noop()).is_pending());
}

/// A subscriber has seen the value current when it subscribed; a clone has seen what its
/// original had.
#[test]
fn subscribe_and_clone_start_from_a_seen_version() {
    let (tx, rx) = watch::channel(0);
    tx.send(1).unwrap();
    let subscribed = tx.subscribe();
    assert!(!subscribed.has_changed().unwrap());
    let cloned = rx.clone();
    assert!(cloned.has_changed().unwrap(), "the original had not seen 1");
    assert!(cloned.same_channel(&rx));
    assert_eq!(tx.receiver_count(), 3);
}

// ----- Sending -----

/// With no receiver left, `send` stores nothing and gives the value back; `send_replace` and
/// `send_modify` store anyway; `Sender::new` starts with no receiver.
#[test]
fn send_with_no_receivers_returns_the_value() {
    let (tx, rx) = watch::channel(String::from("first"));
    drop(rx);
    assert!(tx.is_closed());
    let SendError(back) = tx.send(String::from("second")).unwrap_err();
    assert_eq!(back, "second");
    assert_eq!(*tx.borrow(), "first", "nothing was stored");

    assert_eq!(tx.send_replace(String::from("third")), "first");
    tx.send_modify(|value| value.push('!'));
    assert_eq!(*tx.borrow(), "third!");
    let rx = tx.subscribe();
    assert!(!tx.is_closed(), "subscribing reopens");
    assert_eq!(*rx.borrow(), "third!");

    let alone = watch::Sender::new(7u8);
    assert_eq!(alone.receiver_count(), 0);
    assert_eq!(alone.send(8).unwrap_err().0, 8);
    let defaulted = watch::Sender::<u32>::default();
    assert_eq!(*defaulted.borrow(), 0);
}

/// `send_if_modified` publishes a version and wakes receivers only when its closure returns
/// `true`; a `false` leaves the version alone and wakes nobody.
#[test]
fn send_if_modified_does_not_notify_when_false() {
    let (tx, mut rx) = watch::channel(10);
    let (count, waker) = counting_waker();
    let mut changed = pin!(rx.changed());
    assert!(poll_with(changed.as_mut(), &waker).is_pending());

    let modified = tx.send_if_modified(|value| {
        if *value > 100 {
            *value = 0;
            true
        } else {
            false
        }
    });
    assert!(!modified);
    assert_eq!(wakes(&count), 0, "nobody is woken for a false");
    assert!(poll_with(changed.as_mut(), &waker).is_pending());

    assert!(tx.send_if_modified(|value| {
        *value += 1;
        true
    }));
    assert_eq!(wakes(&count), 1);
    assert!(matches!(
        poll_with(changed.as_mut(), &waker),
        Poll::Ready(Ok(()))
    ));
}

/// A panic in `send_modify` reaches the caller and leaves the value as the closure left it,
/// without a new version; the channel works on.
#[test]
fn a_panicking_send_modify_leaves_no_new_version() {
    let (tx, mut rx) = watch::channel(1);
    let (count, waker) = counting_waker();
    let mut changed = pin!(rx.changed());
    assert!(poll_with(changed.as_mut(), &waker).is_pending());
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        tx.send_modify(|value| {
            *value = 2;
            panic!("halfway");
        })
    }));
    assert!(result.is_err());
    assert_eq!(wakes(&count), 0);
    assert!(poll_with(changed.as_mut(), &waker).is_pending());
    assert_eq!(*tx.borrow(), 2);
    tx.send_modify(|value| *value = 3);
    assert!(matches!(
        poll_with(changed.as_mut(), &waker),
        Poll::Ready(Ok(()))
    ));
}

// ----- Waking -----

/// One send wakes every one of a hundred parked receivers.
#[test]
fn one_send_wakes_a_hundred_parked_receivers() {
    const RECEIVERS: usize = 100;
    let (tx, rx) = watch::channel(0u64);
    let mut receivers: Vec<_> = (0..RECEIVERS).map(|_| rx.clone()).collect();
    let (count, waker) = counting_waker();
    let mut waits: Vec<_> = receivers
        .iter_mut()
        .map(|receiver| Box::pin(receiver.changed()))
        .collect();
    for wait in &mut waits {
        assert!(poll_with(wait.as_mut(), &waker).is_pending());
    }
    tx.send(1).unwrap();
    assert_eq!(
        wakes(&count),
        RECEIVERS,
        "every parked receiver is woken once"
    );
    for wait in &mut waits {
        assert!(matches!(
            poll_with(wait.as_mut(), &waker),
            Poll::Ready(Ok(()))
        ));
    }
}

/// A `changed` dropped while parked is withdrawn: the next send does not wake it.
#[test]
fn a_dropped_pending_changed_is_not_woken() {
    let (tx, mut rx) = watch::channel(());
    let (count, waker) = counting_waker();
    {
        let mut changed = pin!(rx.changed());
        assert!(poll_with(changed.as_mut(), &waker).is_pending());
    }
    tx.send(()).unwrap();
    assert_eq!(wakes(&count), 0);
    assert!(
        rx.has_changed().unwrap(),
        "the version is still there to see"
    );
}

// ----- wait_for -----

/// `wait_for` tests the current value first (seen or not) and returns it at once if it
/// passes; otherwise it waits for a value that passes, skipping those that do not.
#[test]
fn wait_for_returns_the_first_value_that_passes() {
    runtime(2).block_on(async {
        let (tx, mut rx) = watch::channel(0u32);
        {
            let current = rx.wait_for(|value| *value == 0).await.unwrap();
            assert!(!current.has_changed(), "the initial value was seen");
        }

        let sender = gort::spawn(async move {
            for value in 1..=10 {
                tx.send(value).unwrap();
                gort::task::yield_now().await;
            }
            tx
        });
        let passed = within(LIMIT, "wait_for(>= 7)", rx.wait_for(|value| *value >= 7))
            .await
            .unwrap();
        assert!(*passed >= 7);
        drop(passed);
        let _tx = sender.await.unwrap();
        assert_eq!(*rx.wait_for(|value| *value == 10).await.unwrap(), 10);
    });
}

/// After the close, `wait_for` still tests a value it has not seen, then errs if that fails.
#[test]
fn wait_for_after_the_close() {
    runtime(1).block_on(async {
        let (tx, mut rx) = watch::channel(1);
        tx.send(2).unwrap();
        drop(tx);
        assert_eq!(*rx.clone().wait_for(|value| *value == 2).await.unwrap(), 2);
        assert!(rx.wait_for(|value| *value == 3).await.is_err());
    });
}

// ----- Closing -----

/// Dropping every sender wakes parked `changed`s, which then err; an unseen value still
/// comes first; `has_changed` errs at once; `is_closed` says so.
#[test]
fn dropping_every_sender_closes() {
    let (tx, mut rx) = watch::channel(0);
    let mut unseen = rx.clone();
    let clone = tx.clone();
    assert_eq!(tx.sender_count(), 2);
    let (count, waker) = counting_waker();
    {
        let mut changed = pin!(rx.changed());
        assert!(poll_with(changed.as_mut(), &waker).is_pending());
        drop(tx);
        assert_eq!(wakes(&count), 0, "a clone is left");
        clone.send(1).unwrap();
        assert!(matches!(
            poll_with(changed.as_mut(), &waker),
            Poll::Ready(Ok(()))
        ));
    }
    {
        let mut changed = pin!(rx.changed());
        assert!(poll_with(changed.as_mut(), &waker).is_pending());
        drop(clone);
        assert_eq!(wakes(&count), 2, "the last drop wakes");
        assert!(matches!(
            poll_with(changed.as_mut(), &waker),
            Poll::Ready(Err(_))
        ));
    }
    assert!(rx.is_closed());
    assert!(
        unseen.has_changed().is_err(),
        "errs even with an unseen value"
    );
    assert!(matches!(
        poll_with(pin!(unseen.changed()), &waker),
        Poll::Ready(Ok(()))
    ));
    assert!(matches!(
        poll_with(pin!(unseen.changed()), &waker),
        Poll::Ready(Err(_))
    ));
    assert_eq!(*unseen.borrow(), 1, "the value outlives the senders");
}

/// `Sender::closed` completes when the last receiver goes (not an earlier one); a receiver
/// subscribed before the next poll makes it wait on.
#[test]
fn sender_closed_waits_for_the_last_receiver() {
    let (tx, rx) = watch::channel(());
    let second = rx.clone();
    let (count, waker) = counting_waker();
    let mut closed = pin!(tx.closed());
    assert!(poll_with(closed.as_mut(), &waker).is_pending());
    drop(rx);
    assert_eq!(wakes(&count), 0);
    drop(second);
    assert_eq!(wakes(&count), 1);
    let third = tx.subscribe();
    assert!(poll_with(closed.as_mut(), &waker).is_pending());
    drop(third);
    assert_eq!(wakes(&count), 2);
    assert!(poll_with(closed.as_mut(), &waker).is_ready());
}

/// Through tasks: a receiver task follows every change until the sender task drops.
#[test]
fn a_receiver_task_follows_changes_until_the_close() {
    runtime(2).block_on(async {
        let (tx, mut rx) = watch::channel(0u64);
        let follower = gort::spawn(async move {
            let mut last = *rx.borrow_and_update();
            while rx.changed().await.is_ok() {
                let now = *rx.borrow_and_update();
                assert!(now > last, "versions go forward");
                last = now;
            }
            last
        });
        for value in 1..=1000 {
            tx.send_replace(value);
            if value % 50 == 0 {
                gort::task::yield_now().await;
            }
        }
        drop(tx);
        assert_eq!(within(LIMIT, "follower", follower).await.unwrap(), 1000);
    });
}

// ----- Coop and traits -----

/// A loop whose `changed` is always ready yields its P within one coop budget.
#[test]
fn changed_spends_the_coop_budget() {
    let _watchdog = watchdog(Duration::from_secs(60), "loop over a ready watch channel");
    let ops = runtime(1).block_on(async {
        gort::spawn(async {
            let stop = Arc::new(AtomicBool::new(false));
            let flag = Arc::clone(&stop);
            gort::go!(async move { flag.store(true, Ordering::SeqCst) });
            let (tx, mut rx) = watch::channel(0);
            let mut ops = 0;
            while !stop.load(Ordering::SeqCst) {
                tx.send_modify(|value| *value += 1);
                rx.changed().await.unwrap();
                ops += 1;
            }
            ops
        })
        .await
        .unwrap()
    });
    assert!(ops <= 2 * 128, "{ops} ready changes before the other G ran");
}

/// Handles are `Send + Sync` when `T: Send + Sync`, as tokio's; futures are `Send`; `Ref`
/// is not `Send` (it holds a lock guard). The errors print as tokio's.
#[test]
fn auto_traits_and_display_are_tokios() {
    fn send_sync_unpin<X: Send + Sync + Unpin>() {}
    fn send<X: Send>(_: &X) {}
    send_sync_unpin::<watch::Sender<Vec<u8>>>();
    send_sync_unpin::<watch::Receiver<Vec<u8>>>();
    let (tx, mut rx) = watch::channel(0u8);
    send(&rx.changed());
    send(&tx.closed());
    send(&rx.wait_for(|_| true));

    assert_eq!(SendError(5).to_string(), "channel closed");
    assert_eq!(format!("{:?}", SendError(5)), "SendError { .. }");
    assert!(format!("{tx:?}").contains("value"));
    drop(tx);
    let error = rx.has_changed().unwrap_err();
    assert_eq!(error.to_string(), "channel closed");
}
