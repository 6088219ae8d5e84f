//! `gort::sync::oneshot`: one value from one sender to one receiver. Sending, the receiver as a
//! future, closing from the receiver (the value comes back to the sender), `closed()`,
//! `try_recv`, termination, the blocking receive from a plain thread, and the leak pass.

mod common;

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::Duration;

use gort::sync::oneshot::{self, error::RecvError, error::TryRecvError};

use common::{count, counter, runtime, watchdog, DropGuard};

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

    fn cx(&self) -> Context<'_> {
        Context::from_waker(&self.waker)
    }

    fn poll<F: Future + Unpin>(&self, future: &mut F) -> Poll<F::Output> {
        Pin::new(future).poll(&mut self.cx())
    }

    /// Whether the future was woken since the last call.
    fn woken(&self) -> bool {
        self.wakes.0.swap(0, Ordering::SeqCst) > 0
    }
}

fn is_send_sync_unpin<T: Send + Sync + Unpin>() {}

/// Both halves are `Send + Sync` for `T: Send` and `Unpin` for any `T`, as tokio's.
#[test]
fn halves_have_tokios_auto_traits() {
    type Odd = (std::marker::PhantomPinned, std::cell::Cell<u8>);
    is_send_sync_unpin::<oneshot::Sender<Odd>>();
    is_send_sync_unpin::<oneshot::Receiver<Odd>>();
    let (mut tx, _rx) = oneshot::channel::<u8>();
    fn sends<F: Future + Send>(_: &F) {}
    sends(&tx.closed());
}

#[test]
fn errors_display_tokios_messages() {
    let (tx, rx) = oneshot::channel::<u8>();
    drop(tx);
    let error = gort::block_on(rx).expect_err("the sender is gone");
    assert_eq!(error.to_string(), "channel closed");
    assert_eq!(TryRecvError::Empty.to_string(), "channel empty");
    assert_eq!(TryRecvError::Closed.to_string(), "channel closed");
    let boxed: Box<dyn std::error::Error> = Box::new(error);
    assert_eq!(boxed.to_string(), "channel closed");
}

/// A value sent before or while the receiver waits arrives; the waiting receiver is woken by
/// the send; once it completed it is terminated.
#[test]
fn a_sent_value_arrives_and_the_receiver_terminates() {
    let (tx, mut rx) = oneshot::channel::<String>();
    let receiver = Probe::new();
    assert!(receiver.poll(&mut rx).is_pending());
    assert!(!rx.is_terminated() && rx.is_empty());
    tx.send("hi".into()).expect("the receiver waits");
    assert!(receiver.woken());
    assert!(!rx.is_empty(), "a value is there");
    assert_eq!(receiver.poll(&mut rx), Poll::Ready(Ok("hi".to_string())));
    assert!(rx.is_terminated() && rx.is_empty());
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed), "already received");
}

/// Polling a terminated receiver panics, as tokio's does.
#[test]
#[should_panic(expected = "called after complete")]
fn polling_a_terminated_receiver_panics() {
    let (tx, mut rx) = oneshot::channel::<u8>();
    tx.send(1).expect("open");
    let probe = Probe::new();
    assert_eq!(probe.poll(&mut rx), Poll::Ready(Ok(1)));
    let _ = probe.poll(&mut rx);
}

/// A sender dropped unsent wakes the receiver with `RecvError`.
#[test]
fn a_sender_dropped_unsent_fails_the_receive() {
    let (tx, mut rx) = oneshot::channel::<u8>();
    let receiver = Probe::new();
    assert!(receiver.poll(&mut rx).is_pending());
    drop(tx);
    assert!(receiver.woken());
    assert!(matches!(
        receiver.poll(&mut rx),
        Poll::Ready(Err(RecvError { .. }))
    ));
}

/// After the receiver closes (or is dropped), `send` gives the value back and `closed()`
/// completes; a waiting `closed()` is woken by it.
#[test]
fn closing_the_receiver_gives_the_value_back_to_the_sender() {
    let (mut tx, mut rx) = oneshot::channel::<String>();
    let sender = Probe::new();
    assert!(!tx.is_closed());
    assert!(tx.poll_closed(&mut sender.cx()).is_pending());
    rx.close();
    assert!(sender.woken());
    assert!(tx.is_closed());
    assert_eq!(tx.poll_closed(&mut sender.cx()), Poll::Ready(()));
    assert_eq!(tx.send("late".into()), Err("late".to_string()));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));

    let (mut tx, rx) = oneshot::channel::<u8>();
    assert!(tx.poll_closed(&mut sender.cx()).is_pending());
    drop(rx);
    assert!(sender.woken());
    gort::block_on(tx.closed());
    assert_eq!(tx.send(3), Err(3));
}

/// A value sent before the receiver closed can still be taken; `try_recv` says `Empty` (and
/// leaves the receiver usable) until then.
#[test]
fn a_value_sent_before_the_close_can_still_be_taken() {
    let (tx, mut rx) = oneshot::channel::<u8>();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert!(!rx.is_terminated());
    tx.send(9).expect("open");
    rx.close();
    assert_eq!(rx.try_recv(), Ok(9));
    assert!(rx.is_terminated());
}

/// Dropping the receiver drops a value sent but not taken.
#[test]
fn dropping_the_receiver_drops_an_untaken_value() {
    let drops = counter();
    let (tx, rx) = oneshot::channel::<DropGuard>();
    tx.send(DropGuard::new(&drops)).expect("open");
    assert_eq!(count(&drops), 0);
    drop(rx);
    assert_eq!(count(&drops), 1);
}

/// The receiver re-registers when polled with another task's waker: only the latest is woken.
#[test]
fn the_latest_waker_is_the_one_woken() {
    let (tx, mut rx) = oneshot::channel::<u8>();
    let (first, second) = (Probe::new(), Probe::new());
    assert!(first.poll(&mut rx).is_pending());
    assert!(second.poll(&mut rx).is_pending());
    tx.send(1).expect("open");
    assert!(second.woken() && !first.woken());
}

/// A reply over a oneshot from a task, awaited by another task, and a blocking receive on a
/// plain thread.
#[test]
fn replies_cross_tasks_and_threads() {
    let _watchdog = watchdog(Duration::from_secs(60), "oneshot replies");
    let rt = runtime(2);
    let answer = rt.block_on(async {
        let (tx, rx) = oneshot::channel::<u64>();
        gort::go!(async move {
            let _ = tx.send(42);
        });
        rx.await.expect("sent")
    });
    assert_eq!(answer, 42);
    for i in 0..100u64 {
        let (tx, rx) = oneshot::channel::<u64>();
        let _worker = rt.spawn(async move { tx.send(i * 3).expect("the thread waits") });
        let waiter = thread::spawn(move || rx.blocking_recv());
        assert_eq!(waiter.join().expect("waiter"), Ok(i * 3));
    }
}

/// The blocking receive panics inside a task, as tokio's does.
#[test]
fn blocking_recv_inside_a_task_panics() {
    let rt = runtime(1);
    let (_tx, rx) = oneshot::channel::<u8>();
    let error = rt
        .block_on(rt.spawn(async move { rx.blocking_recv() }))
        .expect_err("it panics");
    let message = common::panic_text(&*error.into_panic());
    assert!(
        message.contains("Cannot block the current thread from within a runtime"),
        "{message}"
    );
}

/// A task awaiting a receiver whose sender only it holds (in its `go!` captures) is leaked
/// (`chan receive`); reclaiming it drops both halves.
#[test]
fn a_task_waiting_on_a_reply_only_it_can_send_is_leaked() {
    use gort::gc::GcCell;
    let _watchdog = watchdog(Duration::from_secs(60), "oneshot leak");
    runtime(2).block_on(async {
        let (tx, rx) = oneshot::channel::<u32>();
        let reply = GcCell::new(rx);
        gort::go!([reply, tx] async move {
            let _ = tx;
            poll_fn(|cx| Pin::new(&mut *reply.lock()).poll(cx)).await
        });
        let mut leaks = Vec::new();
        for _ in 0..300 {
            leaks = gort::gc::leaks();
            if !leaks.is_empty() {
                break;
            }
            gort::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(leaks.len(), 1, "{leaks:?}");
        assert_eq!(leaks[0].wait_reason, "chan receive");
        assert_eq!(gort::gc::reclaim_leaks().len(), 1);
    });
}
