//! Channel scenarios small enough for Miri, which checks the `unsafe` slot and op accesses:
//! hand-offs both ways across threads, cancellation with a handed-over value, close with
//! parked peers, and a select committed by a peer on another thread.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::thread;

use futures::executor::block_on;
use futures::task::noop_waker;

use super::{chan, SendError, TryRecvError, TrySendError};
use crate::select::{CasePoll, SelectDriver, Selected};

fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    Pin::new(future).poll(&mut cx)
}

#[test]
fn values_cross_threads_both_ways_through_a_rendezvous() {
    let rounds: u32 = if cfg!(miri) { 20 } else { 2_000 };
    let (ping_tx, ping_rx) = chan::<u32>(0);
    let (pong_tx, pong_rx) = chan::<u32>(0);
    let echo = thread::spawn(move || {
        while let Some(value) = ping_rx.recv_blocking() {
            pong_tx.send_blocking(value + 1).expect("open");
        }
    });
    for i in 0..rounds {
        ping_tx.send_blocking(i).expect("open");
        assert_eq!(pong_rx.recv_blocking(), Some(i + 1));
    }
    drop(ping_tx);
    echo.join().expect("echo");
    assert_eq!(pong_rx.recv_blocking(), None);
}

#[test]
fn a_handed_over_value_survives_the_receive_being_dropped() {
    let (tx, rx) = chan::<String>(0);
    let mut recv = rx.recv();
    assert!(poll_once(&mut recv).is_pending());
    tx.try_send("kept".to_owned()).expect("a receiver waits");
    drop(recv);
    assert_eq!(rx.try_recv().as_deref(), Ok("kept"));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn close_returns_values_to_parked_senders_and_none_to_receivers() {
    let (tx, rx) = chan::<String>(0);
    let mut send = tx.send("back".to_owned());
    assert!(poll_once(&mut send).is_pending());
    let (other_tx, other_rx) = chan::<String>(0);
    let mut recv = other_rx.recv();
    assert!(poll_once(&mut recv).is_pending());
    rx.close();
    other_tx.close();
    assert_eq!(
        poll_once(&mut send),
        Poll::Ready(Err(SendError("back".to_owned())))
    );
    assert_eq!(poll_once(&mut recv), Poll::Ready(None));
    assert_eq!(
        tx.try_send("late".to_owned()),
        Err(TrySendError::Closed("late".to_owned()))
    );
}

#[test]
fn a_parked_select_is_committed_by_a_peer_on_another_thread() {
    let (tx1, rx1) = chan::<String>(0);
    let (_tx2, rx2) = chan::<String>(0);
    let mut recv1 = rx1.recv();
    let mut recv2 = rx2.recv();
    let mut driver = SelectDriver::<false, false>::new(0b11);
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
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    assert!(poll_select(&mut cx).is_pending());
    let sender = thread::spawn(move || block_on(tx1.send("won".to_owned())));
    sender.join().expect("sender").expect("the select took it");
    match poll_select(&mut cx) {
        Poll::Ready(Selected::Case(value)) => assert_eq!(value, "won"),
        other => panic!("the select did not see its commit: {other:?}"),
    }
}

#[test]
fn a_send_skips_given_up_receivers_and_reaches_a_live_one() {
    let (tx, rx) = chan::<u32>(0);
    let mut receives: Vec<_> = (0..100).map(|_| rx.recv()).collect();
    for receive in &mut receives {
        assert!(poll_once(receive).is_pending());
    }
    // Give up all but the one in the middle (they are marked, not scanned for, and the queue
    // is compacted as they pile up).
    let mut live = receives.remove(50);
    drop(receives);
    tx.try_send(5).expect("a receiver is still waiting");
    assert_eq!(poll_once(&mut live), Poll::Ready(Some(5)));
    assert_eq!(
        tx.try_send(6),
        Err(TrySendError::Full(6)),
        "nobody else waits"
    );
}
