//! loom models of the channel's protocols, on the real code (`src/loom.rs` swaps in loom's
//! mutex, atomics and waker slot): the rendezvous hand-off racing a receiver's cancellation, and
//! a select's commit racing two peers and its own second look.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p gort-sync --test loom_chan --release`.
#![cfg(loom)]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::task::noop_waker;
use gort_sync::select::{CasePoll, SelectDriver, Selected};
use gort_sync::{chan, TryRecvError, TrySendError};
use loom::thread;

/// Polls `future` once with a waker that does nothing (the models re-poll explicitly).
fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    Pin::new(future).poll(&mut cx)
}

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    builder.check(f);
}

/// A sender hands a value to a parked receiver while the receiver gives up: the value is
/// either taken by the receive, or given back to the channel, or the send fails and keeps
/// it. Never lost, never twice.
#[test]
fn a_hand_off_racing_a_cancelled_receive_loses_nothing() {
    model(|| {
        let (tx, rx) = chan::<u32>(0);
        let receiver = thread::spawn(move || {
            let received = {
                let mut recv = rx.recv();
                match poll_once(&mut recv) {
                    Poll::Ready(value) => value,
                    // Parked; give up (dropping the future cancels it).
                    Poll::Pending => None,
                }
            };
            (received, rx)
        });
        let sent = tx.try_send(7);
        let (received, rx) = receiver.join().unwrap();
        let given_back = rx.try_recv().ok();
        match sent {
            Ok(()) => {
                let copies = usize::from(received == Some(7)) + usize::from(given_back == Some(7));
                assert_eq!(
                    copies, 1,
                    "sent: received {received:?}, given back {given_back:?}"
                );
            }
            Err(TrySendError::Full(7)) => {
                assert_eq!(received, None);
                assert_eq!(given_back, None);
            }
            Err(other) => panic!("unexpected {other:?}"),
        }
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    });
}

/// A parked receive re-polled with a new waker while a sender completes it: either that poll
/// sees the value, or the new waker is woken. No wakeup is lost between the receive's look at
/// its outcome and its re-registration.
#[test]
fn a_re_poll_racing_a_hand_off_never_loses_the_wakeup() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    model(|| {
        let (tx, rx) = chan::<u32>(0);
        let mut recv = rx.recv();
        assert!(poll_once(&mut recv).is_pending());
        let sender = thread::spawn(move || (tx.try_send(9), tx));
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = std::task::Waker::from(Arc::clone(&count));
        let mut cx = Context::from_waker(&waker);
        let second = Pin::new(&mut recv).poll(&mut cx);
        let (sent, _tx) = sender.join().unwrap();
        match (sent, second) {
            (Ok(()), Poll::Ready(value)) => assert_eq!(value, Some(9)),
            (Ok(()), Poll::Pending) => {
                assert_eq!(count.0.load(Ordering::SeqCst), 1, "the wakeup was lost");
                assert_eq!(Pin::new(&mut recv).poll(&mut cx), Poll::Ready(Some(9)));
            }
            (Err(TrySendError::Full(9)), _) => panic!("a parked receiver was not found"),
            (Err(other), _) => panic!("unexpected {other:?}"),
        }
    });
}

/// A select receiving on two rendezvous channels, polled while a sender on each tries to hand
/// it a value: at most one send succeeds, and if one does the select returns exactly that
/// value; if none does, the select is still waiting.
#[test]
fn a_select_commits_at_most_one_of_two_racing_senders() {
    model(|| {
        let (tx1, rx1) = chan::<u32>(0);
        let (tx2, rx2) = chan::<u32>(0);
        let mut recv1 = rx1.recv();
        let mut recv2 = rx2.recv();
        let mut driver = SelectDriver::<true, false>::new(0b11);
        let waker = noop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut poll_select = |cx: &mut Context<'_>| {
            driver.poll(cx, |case, cx| {
                let polled = match case {
                    0 => Pin::new(&mut recv1).poll(cx),
                    _ => Pin::new(&mut recv2).poll(cx),
                };
                match polled {
                    Poll::Ready(Some(value)) => CasePoll::Ready(value),
                    Poll::Ready(None) => CasePoll::Mismatch,
                    Poll::Pending => CasePoll::Pending,
                }
            })
        };
        // The select parks on both channels first...
        assert!(poll_select(&mut cx).is_pending());
        let first = thread::spawn(move || (tx1.try_send(1), tx1));
        let second = thread::spawn(move || (tx2.try_send(2), tx2));
        // ...and looks again while the senders race (a spurious wake, say).
        let early = poll_select(&mut cx);
        let (sent1, _tx1) = first.join().unwrap();
        let (sent2, _tx2) = second.join().unwrap();
        let selected = match early {
            Poll::Ready(selected) => Some(selected),
            Poll::Pending => match poll_select(&mut cx) {
                Poll::Ready(selected) => Some(selected),
                Poll::Pending => None,
            },
        };
        let delivered: Vec<u32> = [(sent1, 1), (sent2, 2)]
            .into_iter()
            .filter_map(|(sent, value)| sent.is_ok().then_some(value))
            .collect();
        assert_eq!(delivered.len(), 1, "sends committed: {delivered:?}");
        match (delivered.first(), selected) {
            (Some(&value), Some(Selected::Case(got))) => assert_eq!(got, value),
            (None, None) => {}
            (delivered, selected) => {
                panic!("delivered {delivered:?} but the select gave {selected:?}")
            }
        }
    });
}

/// A select's first poll, which makes its commit flag only when it parks, races a sender on
/// one of its two rendezvous channels: the send succeeds exactly when it found the select
/// parked, and then the select's next poll returns that value; otherwise the select waits.
#[test]
fn a_first_park_racing_a_sender_commits_at_most_once() {
    model(|| {
        let (tx1, rx1) = chan::<u32>(0);
        let (_tx2, rx2) = chan::<u32>(0);
        let mut recv1 = rx1.recv();
        let mut recv2 = rx2.recv();
        let mut driver = SelectDriver::<false, false>::new(0b11);
        let waker = noop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut poll_select = |cx: &mut Context<'_>| {
            driver.poll(cx, |case, cx| {
                let polled = match case {
                    0 => Pin::new(&mut recv1).poll(cx),
                    _ => Pin::new(&mut recv2).poll(cx),
                };
                match polled {
                    Poll::Ready(Some(value)) => CasePoll::Ready(value),
                    Poll::Ready(None) => CasePoll::Mismatch,
                    Poll::Pending => CasePoll::Pending,
                }
            })
        };
        let sender = thread::spawn(move || (tx1.try_send(7), tx1));
        let first = poll_select(&mut cx);
        let (sent, _tx1) = sender.join().unwrap();
        assert!(
            first.is_pending(),
            "nothing was ready before the select parked"
        );
        match (sent, poll_select(&mut cx)) {
            (Ok(()), Poll::Ready(Selected::Case(7))) => {}
            (Err(TrySendError::Full(7)), Poll::Pending) => {}
            (sent, selected) => panic!("sent {sent:?} but the select gave {selected:?}"),
        }
    });
}
