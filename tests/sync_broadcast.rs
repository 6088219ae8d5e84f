//! `gort::sync::broadcast`: tokio's broadcast channel. Every receiver sees every value sent
//! after it subscribed; a slow one lags (told how many it lost, then resumes at the oldest
//! retained value); sends never wait and give the value back when nobody is subscribed.
//!
//! Parking and waking are checked by polling futures by hand with counting wakers, so the
//! tests say exactly who was woken; the runtime tests check the same through tasks.

mod common;

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::Duration;

use gort::sync::broadcast::{self, error::RecvError, error::SendError, error::TryRecvError};

use common::{panic_text, runtime, watchdog, within};

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

// ----- Delivery -----

/// Every receiver gets every value, in the order sent; `send` returns how many receivers it
/// was sent to.
#[test]
fn every_receiver_gets_every_value_in_order() {
    let (tx, mut first) = broadcast::channel(16);
    let mut second = tx.subscribe();
    for value in 1..=5 {
        assert_eq!(tx.send(value).unwrap(), 2);
    }
    for receiver in [&mut first, &mut second] {
        let got: Vec<i32> = (0..5).map(|_| receiver.try_recv().unwrap()).collect();
        assert_eq!(got, [1, 2, 3, 4, 5]);
        assert_eq!(receiver.try_recv(), Err(TryRecvError::Empty));
    }
}

/// A receiver made by `subscribe` sees only the values sent after it.
#[test]
fn a_new_subscriber_sees_only_later_values() {
    let (tx, mut old) = broadcast::channel(8);
    tx.send("before").unwrap();
    let mut new = tx.subscribe();
    assert_eq!(new.try_recv(), Err(TryRecvError::Empty));
    tx.send("after").unwrap();
    assert_eq!(new.try_recv(), Ok("after"));
    assert_eq!(old.try_recv(), Ok("before"));
    assert_eq!(old.try_recv(), Ok("after"));
}

/// With every receiver gone, `send` gives the value back and the channel is not spoilt: a new
/// subscriber makes sends work again.
#[test]
fn send_with_no_receivers_returns_the_value() {
    let (tx, rx) = broadcast::channel::<String>(4);
    drop(rx);
    assert_eq!(tx.receiver_count(), 0);
    let SendError(back) = tx.send("lost?".to_string()).unwrap_err();
    assert_eq!(back, "lost?");

    let mut rx = tx.subscribe();
    assert_eq!(tx.send("kept".to_string()).unwrap(), 1);
    assert_eq!(rx.try_recv().unwrap(), "kept");

    // `Sender::new` starts with no receiver at all.
    let lonely = broadcast::Sender::<u8>::new(2);
    assert_eq!(lonely.receiver_count(), 0);
    assert_eq!(lonely.send(9).unwrap_err().0, 9);
}

/// A value is stored once and released as soon as every receiver it was sent to has read it
/// or gone, not when it is overwritten.
#[test]
fn values_are_released_after_the_last_reader() {
    let (tx, mut first) = broadcast::channel(8);
    let mut second = tx.subscribe();
    let value = Arc::new(());
    tx.send(Arc::clone(&value)).unwrap();
    assert_eq!(Arc::strong_count(&value), 2, "stored once");

    let copy = first.try_recv().unwrap();
    drop(copy);
    assert_eq!(
        Arc::strong_count(&value),
        2,
        "the second receiver has not read it"
    );
    drop(second.try_recv().unwrap());
    assert_eq!(Arc::strong_count(&value), 1, "read by all: released");

    // A receiver dropped with unread values releases those only it held.
    tx.send(Arc::clone(&value)).unwrap();
    drop(first.try_recv().unwrap());
    drop(second);
    assert_eq!(
        Arc::strong_count(&value),
        1,
        "the dropped receiver let it go"
    );
}

// ----- Lagging -----

/// A receiver that falls behind by more than the ring holds gets `Lagged(n)` once, with `n`
/// the values overwritten, then the oldest retained value, then the rest in order.
#[test]
fn a_lagging_receiver_is_told_once_then_resumes_at_the_oldest_retained() {
    let (tx, mut rx) = broadcast::channel(2);
    for value in 1..=5 {
        tx.send(value).unwrap();
    }
    assert_eq!(rx.len(), 5, "lost values count in the receiver's len");
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(3)));
    assert_eq!(rx.len(), 2, "the cursor moved to the oldest retained value");
    assert_eq!(rx.try_recv(), Ok(4));
    assert_eq!(rx.try_recv(), Ok(5));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));

    // Lag again after catching up: counted from where it was.
    for value in 6..=8 {
        tx.send(value).unwrap();
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(1)));
    assert_eq!(rx.try_recv(), Ok(7));
}

/// The capacity is rounded up to a power of two, and that is what lagging counts against:
/// `channel(3)` holds four values.
#[test]
fn capacity_rounds_up_to_a_power_of_two() {
    let (tx, mut rx) = broadcast::channel(3);
    for value in 0..4 {
        tx.send(value).unwrap();
    }
    assert_eq!(rx.try_recv(), Ok(0), "four values fit: no lag");
    let (tx, mut rx) = broadcast::channel(3);
    for value in 0..5 {
        tx.send(value).unwrap();
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(1)));
    assert_eq!(rx.try_recv(), Ok(1));
}

/// Lag is per receiver: one that keeps up never sees `Lagged` while a slow one does.
#[test]
fn lag_is_per_receiver() {
    let (tx, mut slow) = broadcast::channel(2);
    let mut fast = tx.subscribe();
    for value in 0..10 {
        tx.send(value).unwrap();
        assert_eq!(fast.try_recv(), Ok(value));
    }
    assert_eq!(slow.try_recv(), Err(TryRecvError::Lagged(8)));
    assert_eq!(slow.try_recv(), Ok(8));
}

/// `recv` reports lag as `RecvError::Lagged` and then goes on from the oldest retained value.
#[test]
fn recv_reports_lag_then_continues() {
    runtime(1).block_on(async {
        let (tx, mut rx) = broadcast::channel(1);
        tx.send('a').unwrap();
        tx.send('b').unwrap();
        assert_eq!(rx.recv().await, Err(RecvError::Lagged(1)));
        assert_eq!(rx.recv().await, Ok('b'));
    });
}

/// After every sender is gone, a lagging receiver still gets its lag, then what is retained,
/// then `Closed`.
#[test]
fn a_lagging_receiver_reads_what_is_retained_after_the_close() {
    let (tx, mut rx) = broadcast::channel(2);
    for value in 1..=4 {
        tx.send(value).unwrap();
    }
    drop(tx);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(2)));
    assert_eq!(rx.try_recv(), Ok(3));
    assert_eq!(rx.try_recv(), Ok(4));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

// ----- Resubscribe -----

/// `resubscribe` makes an independent receiver at the tail: it skips what the original has
/// still to read, both get what comes after, and a lagging original lends it no lag.
#[test]
fn resubscribe_starts_at_the_tail() {
    let (tx, mut rx) = broadcast::channel(2);
    for value in 1..=3 {
        tx.send(value).unwrap();
    }
    let mut fresh = rx.resubscribe();
    assert!(fresh.same_channel(&rx));
    assert_eq!(fresh.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(tx.receiver_count(), 2);

    tx.send(4).unwrap();
    assert_eq!(fresh.try_recv(), Ok(4));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(2)));
    assert_eq!(rx.try_recv(), Ok(3));
    assert_eq!(rx.try_recv(), Ok(4));
}

// ----- Closing -----

/// Once every sender (clones included) is gone, receivers read what is retained, then get
/// `Closed` from `recv` and `try_recv`; `is_closed` says so from the first drop of the last.
#[test]
fn dropping_every_sender_closes_after_the_retained_values() {
    runtime(1).block_on(async {
        let (tx, mut rx) = broadcast::channel(4);
        let clone = tx.clone();
        tx.send(1).unwrap();
        clone.send(2).unwrap();
        drop(tx);
        assert!(!rx.is_closed(), "a clone is left");
        drop(clone);
        assert!(rx.is_closed());
        assert_eq!(rx.recv().await, Ok(1));
        assert_eq!(rx.recv().await, Ok(2));
        assert_eq!(rx.recv().await, Err(RecvError::Closed));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    });
}

/// Receivers parked in `recv` are woken by the drop of the last sender, not before, and
/// then get `Closed`.
#[test]
fn dropping_the_last_sender_wakes_parked_receivers() {
    let (tx, mut first) = broadcast::channel::<u8>(4);
    let mut second = tx.subscribe();
    let clone = tx.clone();
    let (first_count, first_waker) = counting_waker();
    let (second_count, second_waker) = counting_waker();
    let mut first_recv = pin!(first.recv());
    let mut second_recv = pin!(second.recv());
    assert!(poll_with(first_recv.as_mut(), &first_waker).is_pending());
    assert!(poll_with(second_recv.as_mut(), &second_waker).is_pending());

    drop(tx);
    assert_eq!(
        wakes(&first_count) + wakes(&second_count),
        0,
        "a clone is left"
    );
    drop(clone);
    assert_eq!((wakes(&first_count), wakes(&second_count)), (1, 1));
    assert_eq!(
        poll_with(first_recv.as_mut(), &first_waker),
        Poll::Ready(Err(RecvError::Closed))
    );
    assert_eq!(
        poll_with(second_recv.as_mut(), &second_waker),
        Poll::Ready(Err(RecvError::Closed))
    );
}

/// `Sender::closed` completes when the last receiver goes (not an earlier one), and a
/// receiver subscribed meanwhile makes it wait on.
#[test]
fn sender_closed_waits_for_the_last_receiver() {
    let (tx, first) = broadcast::channel::<()>(1);
    let second = tx.subscribe();
    let (count, waker) = counting_waker();
    let mut closed = pin!(tx.closed());
    assert!(poll_with(closed.as_mut(), &waker).is_pending());
    drop(first);
    assert_eq!(wakes(&count), 0, "one receiver is left");
    drop(second);
    assert_eq!(wakes(&count), 1);

    // Reopened before the poll: the wait goes on until this one goes too.
    let third = tx.subscribe();
    assert!(poll_with(closed.as_mut(), &waker).is_pending());
    drop(third);
    assert_eq!(wakes(&count), 2);
    assert!(poll_with(closed.as_mut(), &waker).is_ready());

    // With no receiver, at once.
    assert!(poll_with(pin!(tx.closed()), &waker).is_ready());
}

/// A waker of `Sender::closed` may use the sender: it is woken after the last receiver's
/// unread values are released and outside the channel's locks.
#[test]
fn sender_closed_wakes_outside_the_locks_after_the_release() {
    struct InspectOnWake {
        sender: broadcast::Sender<u32>,
        saw_empty: AtomicBool,
    }
    impl Wake for InspectOnWake {
        fn wake(self: Arc<Self>) {
            // Deadlocks if woken under a lock; fails if woken before the release.
            let queued = self.sender.len();
            let empty = self.sender.receiver_count() == 0 && self.sender.is_empty() && queued == 0;
            self.saw_empty.store(empty, Ordering::SeqCst);
        }
    }
    let _watchdog = watchdog(LIMIT, "closed() waker inspecting the sender");
    let (tx, rx) = broadcast::channel(2);
    tx.send(5).unwrap();
    assert_eq!(tx.len(), 1);
    let inspector = Arc::new(InspectOnWake {
        sender: tx.clone(),
        saw_empty: AtomicBool::new(false),
    });
    let waker = Waker::from(Arc::clone(&inspector));
    let mut closed = pin!(tx.closed());
    assert!(poll_with(closed.as_mut(), &waker).is_pending());
    drop(rx);
    assert!(inspector.saw_empty.load(Ordering::SeqCst));
}

// ----- Waking -----

/// One send wakes every one of a hundred parked receivers, and each then gets the value.
#[test]
fn one_send_wakes_a_hundred_parked_receivers() {
    const RECEIVERS: usize = 100;
    let (tx, rx) = broadcast::channel(4);
    let mut receivers: Vec<_> = (1..RECEIVERS).map(|_| tx.subscribe()).collect();
    receivers.push(rx);
    let (count, waker) = counting_waker();
    let mut waits: Vec<_> = receivers
        .iter_mut()
        .map(|receiver| Box::pin(receiver.recv()))
        .collect();
    for wait in &mut waits {
        assert!(poll_with(wait.as_mut(), &waker).is_pending());
    }
    assert_eq!(tx.send(42u64).unwrap(), RECEIVERS);
    assert_eq!(
        wakes(&count),
        RECEIVERS,
        "every parked receiver is woken once"
    );
    for wait in &mut waits {
        assert_eq!(poll_with(wait.as_mut(), &waker), Poll::Ready(Ok(42)));
    }
}

/// Fan-out through tasks on two Ps: a hundred receiver tasks each get all of a stream of
/// values, in order, and see the close.
#[test]
fn fan_out_to_a_hundred_receiver_tasks() {
    const RECEIVERS: usize = 100;
    const VALUES: u64 = 200;
    runtime(2).block_on(async {
        // Room for every value: no receiver lags, whatever the scheduling.
        let (tx, rx) = broadcast::channel(256);
        let mut tasks = Vec::new();
        let mut receivers: Vec<_> = (1..RECEIVERS).map(|_| tx.subscribe()).collect();
        receivers.push(rx);
        for mut receiver in receivers {
            tasks.push(gort::spawn(async move {
                let mut sum = 0;
                let mut expected = 0;
                loop {
                    match receiver.recv().await {
                        Ok(value) => {
                            assert_eq!(value, expected, "out of order");
                            expected += 1;
                            sum += value;
                        }
                        Err(RecvError::Closed) => return sum,
                        Err(RecvError::Lagged(n)) => panic!("lagged by {n} with room for all"),
                    }
                }
            }));
        }
        for value in 0..VALUES {
            tx.send(value).unwrap();
            if value % 16 == 0 {
                gort::task::yield_now().await;
            }
        }
        drop(tx);
        for task in tasks {
            let sum = within(LIMIT, "receiver task", task).await.unwrap();
            assert_eq!(sum, VALUES * (VALUES - 1) / 2);
        }
    });
}

/// A receive dropped while parked loses nothing: the value sent after goes to the next
/// receive, and the dropped wait is not woken.
#[test]
fn a_dropped_pending_recv_loses_nothing() {
    let (tx, mut rx) = broadcast::channel(2);
    let (count, waker) = counting_waker();
    {
        let mut wait = pin!(rx.recv());
        assert!(poll_with(wait.as_mut(), &waker).is_pending());
    }
    tx.send(3).unwrap();
    assert_eq!(wakes(&count), 0, "the dropped wait was withdrawn");
    assert_eq!(rx.try_recv(), Ok(3));
}

/// A waker whose drop sends on the channel does not deadlock it: replaced wakers are dropped
/// outside the locks, and so are woken ones.
#[test]
fn a_waker_that_sends_when_dropped_does_not_deadlock() {
    struct SendOnDrop(broadcast::Sender<u8>);
    impl Drop for SendOnDrop {
        fn drop(&mut self) {
            let _ = self.0.send(1);
        }
    }
    impl Wake for SendOnDrop {
        fn wake(self: Arc<Self>) {}
    }
    let _watchdog = watchdog(LIMIT, "waker sending from its drop");
    let (tx, mut rx) = broadcast::channel(4);
    {
        let mut wait = pin!(rx.recv());
        let waker = Waker::from(Arc::new(SendOnDrop(tx.clone())));
        assert!(poll_with(wait.as_mut(), &waker).is_pending());
        drop(waker);
        // Replaces (and drops) the sending waker while parking again.
        assert!(poll_with(wait.as_mut(), Waker::noop()).is_pending());
    }
    assert_eq!(rx.try_recv(), Ok(1), "the waker's drop sent");

    let mut wait = pin!(rx.recv());
    let waker = Waker::from(Arc::new(SendOnDrop(tx.clone())));
    assert!(poll_with(wait.as_mut(), &waker).is_pending());
    drop(waker);
    // Wakes (and drops) the sending waker.
    tx.send(2).unwrap();
    assert_eq!(poll_with(wait.as_mut(), Waker::noop()), Poll::Ready(Ok(2)));
}

/// A `Clone` that panics while a value is received still moves the receiver on, and the
/// channel stays usable.
#[test]
fn a_panicking_clone_moves_the_receiver_on() {
    #[derive(Debug, PartialEq)]
    struct Fragile(u8);
    impl Clone for Fragile {
        fn clone(&self) -> Fragile {
            if self.0 == 0 {
                panic!("cannot clone zero");
            }
            Fragile(self.0)
        }
    }
    let (tx, mut rx) = broadcast::channel(4);
    tx.send(Fragile(0)).unwrap();
    tx.send(Fragile(1)).unwrap();
    let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| rx.try_recv()))
        .expect_err("the clone panics");
    assert_eq!(panic_text(&*payload), "cannot clone zero");
    assert_eq!(rx.try_recv(), Ok(Fragile(1)));
    assert!(tx.is_empty());
}

// ----- Blocking and coop -----

/// `blocking_recv` works from a plain thread: it blocks until values come, then sees the
/// close.
#[test]
fn blocking_recv_from_a_plain_thread() {
    let _watchdog = watchdog(LIMIT, "blocking_recv on a plain thread");
    let (tx, mut rx) = broadcast::channel(8);
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let reader = thread::spawn(move || {
        ready_tx.send(()).unwrap();
        let mut got = Vec::new();
        loop {
            match rx.blocking_recv() {
                Ok(value) => got.push(value),
                Err(RecvError::Closed) => return got,
                Err(RecvError::Lagged(n)) => panic!("lagged by {n}"),
            }
        }
    });
    ready_rx.recv().unwrap();
    for value in [10, 20, 30] {
        tx.send(value).unwrap();
    }
    drop(tx);
    assert_eq!(reader.join().unwrap(), [10, 20, 30]);
}

/// A loop receiving from a channel that always has a value yields its P within one coop
/// budget, so another task on the only P runs.
#[test]
fn recv_spends_the_coop_budget() {
    let _watchdog = watchdog(
        Duration::from_secs(60),
        "loop over a ready broadcast channel",
    );
    let ops = runtime(1).block_on(async {
        gort::spawn(async {
            let stop = Arc::new(AtomicBool::new(false));
            let flag = Arc::clone(&stop);
            gort::go!(async move { flag.store(true, Ordering::SeqCst) });
            let (tx, mut rx) = broadcast::channel(8);
            let mut ops = 0;
            while !stop.load(Ordering::SeqCst) {
                tx.send(()).unwrap();
                rx.recv().await.unwrap();
                ops += 1;
            }
            ops
        })
        .await
        .unwrap()
    });
    assert!(
        ops <= 2 * 128,
        "{ops} ready receives before the other G ran"
    );
}

// ----- Handles -----

/// A `WeakSender` does not keep the channel open; it upgrades while a `Sender` lives, and the
/// counts follow every handle.
#[test]
fn weak_senders_upgrade_only_while_a_sender_lives() {
    let (tx, mut rx) = broadcast::channel::<i32>(2);
    let weak = tx.downgrade();
    let weak_clone = weak.clone();
    assert_eq!((tx.strong_count(), tx.weak_count()), (1, 2));
    assert_eq!((rx.sender_strong_count(), rx.sender_weak_count()), (1, 2));

    let upgraded = weak.upgrade().expect("a sender lives");
    assert!(upgraded.same_channel(&tx));
    assert_eq!(weak.strong_count(), 2);
    upgraded.send(1).unwrap();
    drop(upgraded);
    drop(weak_clone);
    assert_eq!((weak.strong_count(), weak.weak_count()), (1, 1));

    drop(tx);
    assert!(weak.upgrade().is_none(), "every sender is gone");
    assert!(rx.is_closed(), "weak senders do not keep it open");
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

/// `Sender::len` counts retained values someone has still to read; `is_empty` is its zero.
#[test]
fn sender_len_counts_values_not_read_by_all() {
    let (tx, mut first) = broadcast::channel(4);
    let mut second = tx.subscribe();
    assert!(tx.is_empty());
    for value in 0..3 {
        tx.send(value).unwrap();
    }
    assert_eq!(tx.len(), 3);
    first.try_recv().unwrap();
    assert_eq!(tx.len(), 3, "the second receiver has read nothing");
    second.try_recv().unwrap();
    assert_eq!(tx.len(), 2);
    for _ in 0..2 {
        first.try_recv().unwrap();
        second.try_recv().unwrap();
    }
    assert!(tx.is_empty());
    assert_eq!(first.len(), 0);
    assert!(first.is_empty());
}

/// `channel(0)` panics with tokio's message; so does a capacity beyond `usize::MAX / 2`.
#[test]
fn a_zero_or_huge_capacity_panics() {
    let payload = std::panic::catch_unwind(|| broadcast::channel::<()>(0)).unwrap_err();
    assert_eq!(
        panic_text(&*payload),
        "broadcast channel capacity cannot be zero"
    );
    let payload =
        std::panic::catch_unwind(|| broadcast::channel::<()>(1 + (usize::MAX >> 1))).unwrap_err();
    assert_eq!(
        panic_text(&*payload),
        "broadcast channel capacity exceeded `usize::MAX / 2`"
    );
}

/// The handles are `Send + Sync + Unpin` when `T: Send` (as tokio's), the receive future is
/// `Send`, and the errors print as tokio's.
#[test]
fn auto_traits_debug_and_display_are_tokios() {
    fn send_sync_unpin<X: Send + Sync + Unpin>() {}
    fn send<X: Send>(_: &X) {}
    send_sync_unpin::<broadcast::Sender<std::cell::Cell<u8>>>();
    send_sync_unpin::<broadcast::Receiver<std::cell::Cell<u8>>>();
    send_sync_unpin::<broadcast::WeakSender<std::cell::Cell<u8>>>();
    let (tx, mut rx) = broadcast::channel::<u8>(1);
    send(&rx.recv());
    send(&tx.closed());

    assert_eq!(format!("{tx:?}"), "broadcast::Sender");
    assert_eq!(format!("{rx:?}"), "broadcast::Receiver");
    assert_eq!(format!("{:?}", tx.downgrade()), "broadcast::WeakSender");
    assert_eq!(SendError(1).to_string(), "channel closed");
    assert_eq!(RecvError::Closed.to_string(), "channel closed");
    assert_eq!(RecvError::Lagged(3).to_string(), "channel lagged by 3");
    assert_eq!(TryRecvError::Empty.to_string(), "channel empty");
    assert_eq!(TryRecvError::Lagged(2).to_string(), "channel lagged by 2");
}
