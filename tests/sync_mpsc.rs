//! `gort::sync::mpsc`: tokio's bounded and unbounded channels, driven by hand. Auto traits,
//! `Debug` and the errors' messages, capacity and permits, the order waiting senders are
//! served in, cancellation of a pending `reserve`, `send` or `recv`, close from either side
//! (the value comes back), owned permits, `recv_many`, weak senders, unbounded sends.
//! `sync_mpsc_tasks.rs` has the same channels across tasks and threads.
//!
//! Each future is polled by the test with a waker that counts its wakes, so every ordering is
//! explicit and nothing waits for time to pass.

mod common;

use std::future::Future;
use std::panic::{RefUnwindSafe, UnwindSafe};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use gort::sync::mpsc::error::{SendError, SendTimeoutError, TryRecvError, TrySendError};
use gort::sync::mpsc::{self, OwnedPermit, Permit, PermitIterator, Receiver, Sender};

use common::{count, counter, DropGuard};

/// Counts the wakes of the future it polls.
struct Probe {
    wakes: Arc<Wakes>,
    waker: Waker,
}

struct Wakes(AtomicUsize);

impl Wake for Wakes {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl Probe {
    fn new() -> Probe {
        let wakes = Arc::new(Wakes(AtomicUsize::new(0)));
        Probe {
            waker: Waker::from(Arc::clone(&wakes)),
            wakes,
        }
    }

    fn poll<F: Future>(&self, future: Pin<&mut F>) -> Poll<F::Output> {
        future.poll(&mut Context::from_waker(&self.waker))
    }

    /// Whether the future was woken since the last call.
    fn woken(&self) -> bool {
        self.wakes.0.swap(0, Ordering::SeqCst) > 0
    }
}

/// Polls `future` once with a waker that does nothing.
fn poll_once<F: Future>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

// ----- auto traits, as tokio's -----

fn is_send_sync<T: Send + Sync>() {}
fn is_send<T: Send>() {}
fn is_unpin<T: Unpin>() {}
fn is_unwind_safe<T: UnwindSafe + RefUnwindSafe>() {}

/// The handles are `Send + Sync` for `T: Send`, `Unpin` and unwind safe for any `T` (a
/// `!Unpin` and `!Sync` element type shows it), and their futures are `Send`.
#[test]
fn handles_and_futures_have_tokios_auto_traits() {
    type Odd = (std::marker::PhantomPinned, std::cell::Cell<u8>);
    is_send_sync::<Sender<Odd>>();
    is_send_sync::<Receiver<Odd>>();
    is_send_sync::<mpsc::WeakSender<Odd>>();
    is_send_sync::<mpsc::UnboundedSender<Odd>>();
    is_send_sync::<mpsc::UnboundedReceiver<Odd>>();
    is_send_sync::<mpsc::WeakUnboundedSender<Odd>>();
    is_send_sync::<OwnedPermit<Odd>>();
    is_send_sync::<Permit<'static, Odd>>();
    is_send_sync::<PermitIterator<'static, Odd>>();
    is_unpin::<Sender<Odd>>();
    is_unpin::<Receiver<Odd>>();
    is_unpin::<mpsc::UnboundedReceiver<Odd>>();
    is_unpin::<OwnedPermit<Odd>>();
    is_unwind_safe::<Sender<Odd>>();
    is_unwind_safe::<Receiver<Odd>>();
    is_unwind_safe::<Permit<'static, Odd>>();
    is_unwind_safe::<OwnedPermit<Odd>>();
    is_unwind_safe::<mpsc::UnboundedSender<Odd>>();
    let (tx, mut rx) = mpsc::channel::<u8>(1);
    let (utx, mut urx) = mpsc::unbounded_channel::<u8>();
    fn sends<F: Future + Send>(_: &F) {}
    sends(&tx.send(1));
    sends(&tx.reserve());
    sends(&tx.reserve_many(1));
    sends(&tx.closed());
    sends(&tx.send_timeout(1, Duration::from_secs(1)));
    sends(&tx.clone().reserve_owned());
    sends(&rx.recv());
    sends(&utx.closed());
    sends(&urx.recv());
    is_send::<mpsc::error::SendError<Odd>>();
}

/// `Debug` needs no `T: Debug`, and `WeakSender` shows nothing, as in tokio.
#[test]
fn debug_does_not_need_a_debug_element() {
    struct Opaque;
    let (tx, rx) = mpsc::channel::<Opaque>(2);
    assert!(format!("{tx:?}").starts_with("Sender { chan: "));
    assert!(format!("{rx:?}").starts_with("Receiver { chan: "));
    assert_eq!(format!("{:?}", tx.downgrade()), "WeakSender");
    let permit = tx.try_reserve().expect("free");
    assert!(format!("{permit:?}").starts_with("Permit { chan: "));
    let (utx, _urx) = mpsc::unbounded_channel::<Opaque>();
    assert_eq!(format!("{:?}", utx.downgrade()), "WeakUnboundedSender");
    assert_eq!(format!("{:?}", SendError(Opaque)), "SendError { .. }");
    assert_eq!(format!("{:?}", TrySendError::Full(Opaque)), "Full(..)");
}

/// The errors' messages are tokio's.
#[test]
fn errors_display_tokios_messages() {
    assert_eq!(SendError(1).to_string(), "channel closed");
    assert_eq!(TrySendError::Full(1).to_string(), "no available capacity");
    assert_eq!(TrySendError::Closed(1).to_string(), "channel closed");
    assert_eq!(
        TryRecvError::Empty.to_string(),
        "receiving on an empty channel"
    );
    assert_eq!(
        TryRecvError::Disconnected.to_string(),
        "receiving on a closed channel"
    );
    assert_eq!(
        SendTimeoutError::Timeout(1).to_string(),
        "timed out waiting on send operation"
    );
    assert_eq!(SendTimeoutError::Closed(1).to_string(), "channel closed");
    assert_eq!(TrySendError::from(SendError(5)), TrySendError::Closed(5));
    assert_eq!(SendTimeoutError::Timeout(6).into_inner(), 6);
    let boxed: Box<dyn std::error::Error> = Box::new(TrySendError::Full(()));
    assert_eq!(boxed.to_string(), "no available capacity");
}

// ----- capacity and permits -----

#[test]
#[should_panic(expected = "mpsc bounded channel requires buffer > 0")]
fn a_bounded_channel_of_zero_panics() {
    let _ = mpsc::channel::<u8>(0);
}

/// `capacity` is the bound minus what is buffered and reserved; `max_capacity` stays; a
/// receive and a dropped permit each give one slot back.
#[test]
fn capacity_counts_buffered_values_and_reserved_slots() {
    let (tx, mut rx) = mpsc::channel::<u32>(3);
    assert_eq!((tx.capacity(), tx.max_capacity()), (3, 3));
    tx.try_send(1).expect("free");
    assert_eq!(tx.capacity(), 2);
    let permit = tx.try_reserve().expect("free");
    assert_eq!((tx.capacity(), rx.capacity(), rx.len()), (1, 1, 1));
    drop(permit);
    assert_eq!(tx.capacity(), 2, "a dropped permit gives its slot back");
    let permit = tx.try_reserve().expect("free");
    permit.send(2);
    assert_eq!(
        (tx.capacity(), rx.len()),
        (1, 2),
        "a used permit's slot holds the value"
    );
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(tx.capacity(), 2, "a receive frees a slot");
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!((tx.capacity(), rx.max_capacity()), (3, 3));
    assert!(rx.is_empty());
}

/// `try_send` on a full channel and on a closed one returns the value.
#[test]
fn try_send_returns_the_value_when_full_or_closed() {
    let (tx, rx) = mpsc::channel::<String>(1);
    tx.try_send("a".into()).expect("free");
    match tx.try_send("b".into()) {
        Err(TrySendError::Full(value)) => assert_eq!(value, "b"),
        other => panic!("expected Full, got {other:?}"),
    }
    drop(rx);
    assert_eq!(
        tx.try_send("c".into()).map_err(TrySendError::into_inner),
        Err("c".to_string())
    );
    assert!(matches!(
        tx.try_send("d".into()),
        Err(TrySendError::Closed(_))
    ));
    assert!(tx.is_closed());
}

/// `reserve_many` and `try_reserve_many`: zero is allowed even when full; more than the bound
/// fails at once (`Full` for the `try_` form); a closed channel refuses even zero.
#[test]
fn reserve_many_edges() {
    gort::block_on(async {
        let (tx, rx) = mpsc::channel::<u8>(2);
        assert_eq!(tx.try_reserve_many(0).expect("zero").len(), 0);
        assert!(matches!(
            tx.try_reserve_many(3),
            Err(TrySendError::Full(()))
        ));
        assert!(matches!(
            tx.try_reserve_many(usize::MAX),
            Err(TrySendError::Full(()))
        ));
        assert!(tx.reserve_many(3).await.is_err(), "more than the bound");
        assert!(tx.reserve_many(usize::MAX).await.is_err());
        tx.try_send(1).expect("free");
        tx.try_send(2).expect("free");
        assert!(tx.reserve_many(0).await.is_ok(), "zero while full");
        drop(rx);
        assert!(matches!(
            tx.try_reserve_many(0),
            Err(TrySendError::Closed(()))
        ));
        assert!(tx.reserve_many(0).await.is_err());
        assert!(tx.reserve().await.is_err());
    });
}

/// A `PermitIterator` hands out exactly its permits; the ones not taken go back when it is
/// dropped.
#[test]
fn a_permit_iterator_gives_back_what_it_did_not_hand_out() {
    let (tx, mut rx) = mpsc::channel::<u32>(5);
    let mut permits = tx.try_reserve_many(4).expect("free");
    assert_eq!(permits.len(), 4);
    assert_eq!(tx.capacity(), 1);
    permits.next().expect("one").send(10);
    permits.next().expect("two").send(11);
    assert_eq!(permits.size_hint(), (2, Some(2)));
    drop(permits);
    assert_eq!(
        tx.capacity(),
        3,
        "2 buffered, the other 2 reserved slots back"
    );
    assert_eq!((rx.try_recv(), rx.try_recv()), (Ok(10), Ok(11)));
    let mut all = tx.try_reserve_many(5).expect("all free");
    assert_eq!(all.by_ref().count(), 5);
    assert!(all.next().is_none(), "fused");
    assert_eq!(
        tx.capacity(),
        5,
        "every handed-out permit was dropped unused"
    );
}

/// A `send` on a full channel waits; senders are served in the order they started waiting,
/// and a freed slot wakes exactly the oldest one.
#[test]
fn waiting_senders_are_served_oldest_first() {
    let (tx, mut rx) = mpsc::channel::<u32>(1);
    tx.try_send(0).expect("free");
    let (first, second) = (Probe::new(), Probe::new());
    let mut send_1 = pin!(tx.send(1));
    let mut send_2 = pin!(tx.send(2));
    assert!(first.poll(send_1.as_mut()).is_pending());
    assert!(second.poll(send_2.as_mut()).is_pending());
    assert!(
        matches!(tx.try_send(9), Err(TrySendError::Full(9))),
        "a try_send does not overtake waiting senders"
    );
    assert_eq!(rx.try_recv(), Ok(0));
    assert!(first.woken() && !second.woken());
    assert!(matches!(first.poll(send_1.as_mut()), Poll::Ready(Ok(()))));
    assert_eq!(rx.try_recv(), Ok(1));
    assert!(second.woken());
    assert!(matches!(second.poll(send_2.as_mut()), Poll::Ready(Ok(()))));
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

/// `reserve_many(n)` waits until it has all `n`, gathering slots as they free up; later
/// reservations wait behind it.
#[test]
fn reserve_many_gathers_its_slots_before_later_reservations() {
    let (tx, mut rx) = mpsc::channel::<u32>(3);
    tx.try_send(1).expect("free");
    tx.try_send(2).expect("free");
    let (many, one) = (Probe::new(), Probe::new());
    let mut reserve_3 = pin!(tx.reserve_many(3));
    let mut reserve_1 = pin!(tx.reserve());
    assert!(many.poll(reserve_3.as_mut()).is_pending());
    assert_eq!(
        tx.capacity(),
        0,
        "the free slot went to the waiting reservation"
    );
    assert!(one.poll(reserve_1.as_mut()).is_pending());
    assert_eq!(rx.try_recv(), Ok(1));
    assert!(
        !many.woken() && !one.woken(),
        "two of three: not granted yet"
    );
    assert_eq!(rx.try_recv(), Ok(2));
    assert!(many.woken() && !one.woken());
    let Poll::Ready(Ok(permits)) = many.poll(reserve_3.as_mut()) else {
        panic!("granted");
    };
    assert_eq!(permits.len(), 3);
    drop(permits);
    assert!(one.woken());
    assert!(matches!(one.poll(reserve_1.as_mut()), Poll::Ready(Ok(_))));
}

// ----- cancellation -----

/// Dropping a pending `reserve_many` gives back the slots it had gathered, and only those: the
/// next reservation in line gets them, and at the end every slot is free once.
#[test]
fn a_dropped_pending_reserve_gives_back_exactly_what_it_gathered() {
    let (tx, _rx) = mpsc::channel::<u32>(2);
    let held = tx.try_reserve().expect("free");
    let next = Probe::new();
    {
        let mut reserve_2 = pin!(tx.reserve_many(2));
        assert!(poll_once(reserve_2.as_mut()).is_pending());
        assert_eq!(tx.capacity(), 0);
        let mut reserve_1 = pin!(tx.reserve());
        assert!(next.poll(reserve_1.as_mut()).is_pending());
        // Both go away at the end of this block (`reserve_1` first): in either order the one
        // gathered slot comes back once.
    }
    assert_eq!(
        tx.capacity(),
        1,
        "the one gathered slot is free again, no more"
    );
    drop(held);
    assert_eq!(tx.capacity(), 2);

    // A reservation granted but dropped before it was polled again passes its slot on.
    let held = tx.try_reserve().expect("free");
    let _other = tx.try_reserve().expect("free");
    let (granted, behind) = (Probe::new(), Probe::new());
    let mut behind_future = pin!(tx.reserve());
    {
        let mut granted_future = pin!(tx.reserve());
        assert!(granted.poll(granted_future.as_mut()).is_pending());
        assert!(behind.poll(behind_future.as_mut()).is_pending());
        drop(held);
        assert!(granted.woken() && !behind.woken());
    }
    assert!(behind.woken(), "the slot moved on to the next reservation");
    let Poll::Ready(Ok(permit)) = behind.poll(behind_future.as_mut()) else {
        panic!("granted");
    };
    assert_eq!(tx.capacity(), 0);
    drop(permit);
    assert_eq!(tx.capacity(), 1, "only the other permit is still out");
}

/// A dropped pending `send` sends nothing and its value is dropped; a dropped `recv` takes
/// nothing.
#[test]
fn dropped_pending_send_and_recv_lose_nothing() {
    let drops = counter();
    let (tx, mut rx) = mpsc::channel::<DropGuard>(1);
    tx.try_send(DropGuard::new(&drops)).expect("free");
    {
        let mut send = pin!(tx.send(DropGuard::new(&drops)));
        assert!(poll_once(send.as_mut()).is_pending());
    }
    assert_eq!(count(&drops), 1, "the unsent value went with its future");
    assert_eq!(rx.len(), 1, "and nothing was sent");
    let _first = rx.try_recv().expect("the first value");
    {
        let mut recv = pin!(rx.recv());
        assert!(poll_once(recv.as_mut()).is_pending());
    }
    tx.try_send(DropGuard::new(&drops)).expect("free");
    let _second = rx
        .try_recv()
        .expect("the value sent after the drop is there");
    assert_eq!(count(&drops), 1, "nothing else was dropped");
}

// ----- close and drop -----

/// After `close`, sends fail with their value, waiting senders fail, buffered values and
/// slots already reserved still arrive, and then the receiver ends.
#[test]
fn close_keeps_buffered_values_and_reserved_slots_then_ends() {
    let (tx, mut rx) = mpsc::channel::<u32>(3);
    tx.try_send(1).expect("free");
    let permit = tx.try_reserve().expect("free");
    let second_permit = tx.try_reserve().expect("free");
    let waiting = Probe::new();
    let mut send = pin!(tx.send(7));
    assert!(waiting.poll(send.as_mut()).is_pending());
    rx.close();
    assert!(waiting.woken());
    assert!(matches!(
        waiting.poll(send.as_mut()),
        Poll::Ready(Err(SendError(7)))
    ));
    assert!(matches!(tx.try_send(8), Err(TrySendError::Closed(8))));
    assert!(tx.is_closed() && rx.is_closed());
    assert_eq!(rx.try_recv(), Ok(1));
    // Two permits are out: the receiver waits for them.
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    let receiver = Probe::new();
    {
        let mut recv = pin!(rx.recv());
        assert!(receiver.poll(recv.as_mut()).is_pending());
        permit.send(2);
        assert!(receiver.woken());
        assert_eq!(receiver.poll(recv.as_mut()), Poll::Ready(Some(2)));
    }
    {
        let mut recv = pin!(rx.recv());
        assert!(receiver.poll(recv.as_mut()).is_pending());
        drop(second_permit);
        assert!(
            receiver.woken(),
            "the last permit given back ends the channel"
        );
        assert_eq!(receiver.poll(recv.as_mut()), Poll::Ready(None));
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

/// A reservation granted just before the close still fails when polled, and giving its slot
/// back then wakes a receiver waiting for the channel to go idle.
#[test]
fn a_granted_reservation_polled_after_close_fails_and_wakes_the_receiver() {
    let (tx, mut rx) = mpsc::channel::<u32>(1);
    let held = tx.try_reserve().expect("free");
    let reserver = Probe::new();
    let mut reserve = pin!(tx.reserve());
    assert!(reserver.poll(reserve.as_mut()).is_pending());
    drop(held);
    assert!(reserver.woken(), "granted");
    rx.close();
    let receiver = Probe::new();
    let mut recv = pin!(rx.recv());
    assert!(
        receiver.poll(recv.as_mut()).is_pending(),
        "the granted slot is still out"
    );
    assert!(matches!(
        reserver.poll(reserve.as_mut()),
        Poll::Ready(Err(_))
    ));
    assert!(receiver.woken());
    assert_eq!(receiver.poll(recv.as_mut()), Poll::Ready(None));
}

/// Dropping the receiver drops what is buffered at once, and a value sent later with a permit
/// reserved before is dropped at once too.
#[test]
fn dropping_the_receiver_drops_buffered_and_later_values() {
    let drops = counter();
    let (tx, rx) = mpsc::channel::<DropGuard>(4);
    tx.try_send(DropGuard::new(&drops)).expect("free");
    tx.try_send(DropGuard::new(&drops)).expect("free");
    let permit = tx.try_reserve().expect("free");
    drop(rx);
    assert_eq!(count(&drops), 2);
    permit.send(DropGuard::new(&drops));
    assert_eq!(count(&drops), 3, "nobody can receive it");
    assert_eq!(tx.capacity(), 4);
}

/// The last sender going away ends the channel after what is buffered; `is_closed` says so
/// while values are still buffered.
#[test]
fn the_last_sender_ends_the_channel_after_the_buffer() {
    gort::block_on(async {
        let (tx, mut rx) = mpsc::channel::<u32>(4);
        let tx2 = tx.clone();
        tx.send(1).await.expect("open");
        tx2.send(2).await.expect("open");
        drop(tx);
        assert!(!rx.is_closed());
        drop(tx2);
        assert!(rx.is_closed(), "no sender left");
        assert_eq!(rx.len(), 2);
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.recv().await, Some(2));
        assert_eq!(rx.recv().await, None);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    });
}

/// An `OwnedPermit` counts as a sender: the receiver waits for it; `send` gives the sender
/// back, `release` gives the slot back.
#[test]
fn an_owned_permit_keeps_the_channel_open_until_used() {
    gort::block_on(async {
        let (tx, mut rx) = mpsc::channel::<u32>(2);
        let permit = tx.clone().reserve_owned().await.expect("free");
        assert!(permit.same_channel_as_sender(&tx));
        assert_eq!(tx.strong_count(), 2);
        drop(tx);
        assert_eq!(rx.sender_strong_count(), 1);
        let receiver = Probe::new();
        let tx = {
            let mut recv = pin!(rx.recv());
            assert!(receiver.poll(recv.as_mut()).is_pending());
            let tx = permit.send(3);
            assert!(receiver.woken());
            assert_eq!(receiver.poll(recv.as_mut()), Poll::Ready(Some(3)));
            tx
        };
        let permit = tx.try_reserve_owned().expect("free");
        assert_eq!(rx.capacity(), 1);
        let tx = permit.release();
        assert_eq!(tx.capacity(), 2);
        let permit = tx.try_reserve_owned().expect("free");
        drop(permit);
        assert_eq!(rx.recv().await, None, "the permit held the last sender");
    });
}

/// `try_reserve_owned` gives the sender back when it fails.
#[test]
fn try_reserve_owned_returns_the_sender_on_failure() {
    let (tx, rx) = mpsc::channel::<u32>(1);
    tx.try_send(1).expect("free");
    let Err(TrySendError::Full(tx)) = tx.try_reserve_owned() else {
        panic!("full");
    };
    drop(rx);
    let Err(TrySendError::Closed(tx)) = tx.try_reserve_owned() else {
        panic!("closed");
    };
    assert!(tx.is_closed());
}

// ----- recv_many -----

/// `recv_many` appends up to `limit` values, waits for at least one, returns 0 only at the
/// end (or for a limit of 0), and frees the slots it took.
#[test]
fn recv_many_takes_up_to_the_limit_and_frees_the_slots() {
    gort::block_on(async {
        let (tx, mut rx) = mpsc::channel::<u32>(8);
        for i in 0..5 {
            tx.send(i).await.expect("open");
        }
        let mut values = vec![100];
        assert_eq!(rx.recv_many(&mut values, 3).await, 3);
        assert_eq!(values, [100, 0, 1, 2]);
        assert_eq!(tx.capacity(), 6);
        assert_eq!(rx.recv_many(&mut values, 0).await, 0, "a limit of 0");
        assert_eq!(rx.recv_many(&mut values, 10).await, 2);
        assert_eq!(values, [100, 0, 1, 2, 3, 4]);
        let mut pending = pin!(rx.recv_many(&mut values, 4));
        assert!(poll_once(pending.as_mut()).is_pending(), "waits for one");
        drop(tx);
        assert_eq!(pending.await, 0);
    });
}

// ----- weak senders -----

/// A weak sender does not keep the channel open; it upgrades while a strong sender lives; the
/// counts follow clones, downgrades and drops.
#[test]
fn weak_senders_do_not_keep_the_channel_open() {
    gort::block_on(async {
        let (tx, mut rx) = mpsc::channel::<u32>(1);
        let weak = tx.downgrade();
        let weak2 = weak.clone();
        assert_eq!((tx.strong_count(), tx.weak_count()), (1, 2));
        assert_eq!((rx.sender_strong_count(), rx.sender_weak_count()), (1, 2));
        let upgraded = weak.upgrade().expect("a strong sender lives");
        assert_eq!(weak.strong_count(), 2);
        upgraded.send(1).await.expect("open");
        assert!(upgraded.same_channel(&tx));
        drop((tx, upgraded));
        drop(weak2);
        assert_eq!((weak.strong_count(), weak.weak_count()), (0, 1));
        assert!(weak.upgrade().is_none(), "no strong sender: no upgrade");
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.recv().await, None);
    });
}

// ----- unbounded -----

#[test]
fn unbounded_sends_never_wait_and_close_returns_the_value() {
    gort::block_on(async {
        let (tx, mut rx) = mpsc::unbounded_channel::<u32>();
        for i in 0..10_000 {
            tx.send(i).expect("open");
        }
        assert_eq!(rx.len(), 10_000);
        let mut values = Vec::new();
        assert_eq!(rx.recv_many(&mut values, 20_000).await, 10_000);
        assert!(values.iter().copied().eq(0..10_000));
        assert!(rx.is_empty());
        tx.send(1).expect("open");
        rx.close();
        assert_eq!(tx.send(2), Err(SendError(2)));
        assert!(tx.is_closed() && rx.is_closed());
        assert_eq!(rx.recv().await, Some(1), "buffered before the close");
        assert_eq!(rx.recv().await, None);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
        let (tx, rx) = mpsc::unbounded_channel::<u32>();
        drop(rx);
        assert_eq!(tx.send(3), Err(SendError(3)));
        tx.closed().await;
    });
}
