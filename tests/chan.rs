//! Go channels: rendezvous and buffered, close, drop of the last sender, MPMC delivery,
//! cancellation, the non-waiting and blocking variants, `Stream`, and the coop budget.

mod common;

use std::collections::HashSet;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use futures::StreamExt;
use gort::{chan, SendError, TryRecvError, TrySendError};

use common::{runtime, watchdog};

/// A rendezvous send waits until a receiver takes the value: until then it is pending, and
/// the receiver gets exactly that value.
#[gort::test]
async fn a_rendezvous_send_blocks_until_a_receive() {
    let (tx, rx) = chan::<u32>(0);
    let sent = Arc::new(AtomicBool::new(false));
    let sender = {
        let sent = Arc::clone(&sent);
        gort::spawn(async move {
            tx.send(5).await.expect("open");
            sent.store(true, Ordering::SeqCst);
        })
    };
    // Give the sender every chance to run: it must still be waiting.
    for _ in 0..100 {
        gort::task::yield_now().await;
    }
    assert!(
        !sent.load(Ordering::SeqCst),
        "a rendezvous send completed without a receiver"
    );
    assert_eq!(rx.try_recv(), Ok(5));
    sender.await.expect("sender");
    assert!(sent.load(Ordering::SeqCst));
}

/// A buffered channel takes `capacity` values without a receiver, then refuses the next one
/// (`try_send`), and gives them back in order.
#[gort::test]
async fn a_buffered_channel_holds_its_capacity_in_order() {
    let (tx, rx) = chan![u32; 3];
    assert_eq!(tx.capacity(), 3);
    for i in 0..3 {
        tx.try_send(i).expect("room");
    }
    assert_eq!(tx.try_send(9), Err(TrySendError::Full(9)));
    assert_eq!(rx.len(), 3);
    for i in 0..3 {
        assert_eq!(rx.recv().await, Some(i));
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

/// Values from one sender arrive in the order sent, on both kinds of channel, across threads.
#[test]
fn each_senders_values_arrive_in_order() {
    let _watchdog = watchdog(Duration::from_secs(60), "FIFO per sender");
    for capacity in [0, 1, 16] {
        runtime(2).block_on(async move {
            let (tx, rx) = chan::<(usize, u32)>(capacity);
            let senders: Vec<_> = (0..4)
                .map(|id| {
                    let tx = tx.clone();
                    gort::spawn(async move {
                        for seq in 0..2000 {
                            tx.send((id, seq)).await.expect("open");
                        }
                    })
                })
                .collect();
            drop(tx);
            let mut next = [0u32; 4];
            while let Some((id, seq)) = rx.recv().await {
                assert_eq!(
                    seq, next[id],
                    "sender {id} out of order (capacity {capacity})"
                );
                next[id] += 1;
            }
            assert_eq!(next, [2000; 4]);
            for sender in senders {
                sender.await.expect("sender");
            }
        });
    }
}

/// `close` wakes every parked receiver (with `None`) and every parked sender (with its value
/// back).
#[test]
fn close_wakes_all_parked_receivers_and_senders() {
    let _watchdog = watchdog(Duration::from_secs(60), "close wakes all");
    runtime(2).block_on(async {
        let (tx, rx) = chan::<u32>(0);
        let receivers: Vec<_> = (0..8)
            .map(|_| {
                let rx = rx.clone();
                gort::spawn(async move { rx.recv().await })
            })
            .collect();
        let (full_tx, full_rx) = chan::<u32>(0);
        let senders: Vec<_> = (0..8)
            .map(|i| {
                let tx = full_tx.clone();
                gort::spawn(async move { tx.send(i).await })
            })
            .collect();
        // Let all of them park.
        gort::time::sleep(Duration::from_millis(20)).await;
        rx.close();
        full_rx.close();
        for receiver in receivers {
            assert_eq!(receiver.await.expect("receiver"), None);
        }
        let mut returned: Vec<u32> = Vec::new();
        for sender in senders {
            match sender.await.expect("sender") {
                Err(SendError(value)) => returned.push(value),
                Ok(()) => panic!("a send on a closed channel succeeded"),
            }
        }
        returned.sort_unstable();
        assert_eq!(returned, (0..8).collect::<Vec<_>>());
        assert!(tx.is_closed());
        assert_eq!(tx.send(1).await, Err(SendError(1)));
    });
}

/// Dropping the last sender closes the channel; receivers drain what is buffered first.
#[gort::test]
async fn dropping_the_last_sender_closes_after_the_buffer_drains() {
    let (tx, rx) = chan::<u32>(4);
    let second = tx.clone();
    tx.send(1).await.unwrap();
    second.send(2).await.unwrap();
    drop(tx);
    assert!(!rx.is_closed(), "one sender is left");
    drop(second);
    assert!(rx.is_closed());
    assert_eq!(rx.recv().await, Some(1));
    assert_eq!(rx.recv().await, Some(2));
    assert_eq!(rx.recv().await, None);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

/// 8 senders and 8 receivers on 2 threads: every value is delivered exactly once.
#[test]
fn mpmc_delivers_every_value_exactly_once() {
    let _watchdog = watchdog(Duration::from_secs(60), "MPMC");
    const PER_SENDER: u64 = 5_000;
    for capacity in [0, 64] {
        runtime(2).block_on(async move {
            let (tx, rx) = chan::<u64>(capacity);
            let senders: Vec<_> = (0..8u64)
                .map(|id| {
                    let tx = tx.clone();
                    gort::spawn(async move {
                        for i in 0..PER_SENDER {
                            tx.send(id * PER_SENDER + i).await.expect("open");
                        }
                    })
                })
                .collect();
            drop(tx);
            let receivers: Vec<_> = (0..8)
                .map(|_| {
                    let rx = rx.clone();
                    gort::spawn(async move {
                        let mut got = Vec::new();
                        while let Some(value) = rx.recv().await {
                            got.push(value);
                        }
                        got
                    })
                })
                .collect();
            for sender in senders {
                sender.await.expect("sender");
            }
            let mut seen = HashSet::new();
            let mut count = 0;
            for receiver in receivers {
                for value in receiver.await.expect("receiver") {
                    count += 1;
                    assert!(seen.insert(value), "{value} delivered twice");
                }
            }
            assert_eq!(count, 8 * PER_SENDER, "capacity {capacity}");
        });
    }
}

/// A pending send that is dropped delivers nothing and leaves nothing behind: the receiver
/// never sees its value, and the value is dropped with the send.
#[gort::test]
async fn a_dropped_pending_send_delivers_nothing() {
    let drops = common::counter();
    let (tx, rx) = chan::<(u32, Option<common::DropGuard>)>(0);
    // Other senders stay parked meanwhile, so the given-up waiter is not compacted away at
    // once: its value must go anyway.
    let mut others: Vec<_> = (0..3).map(|i| Box::pin(tx.send((i, None)))).collect();
    for other in &mut others {
        assert!(futures::poll!(other.as_mut()).is_pending());
    }
    {
        let send = tx.send((13, Some(common::DropGuard::new(&drops))));
        // One poll parks it.
        let mut send = Box::pin(send);
        assert!(futures::poll!(send.as_mut()).is_pending());
    }
    assert_eq!(drops.load(Ordering::SeqCst), 1, "the unsent value was kept");
    drop(others);
    assert!(matches!(rx.try_recv(), Err(TryRecvError::Empty)));
    let sender = gort::spawn(async move { tx.send((15, None)).await.is_ok() });
    assert_eq!(rx.recv().await.map(|(value, _)| value), Some(15));
    assert!(sender.await.unwrap());
}

/// A receive that a sender handed its value to, dropped before it was polled again, gives the
/// value back: the next receive gets it.
#[test]
fn a_dropped_receive_that_was_handed_a_value_gives_it_back() {
    let (tx, rx) = chan::<u32>(0);
    let mut recv = Box::pin(rx.recv());
    let waker = futures::task::noop_waker();
    let mut cx = std::task::Context::from_waker(&waker);
    assert!(recv.as_mut().poll(&mut cx).is_pending());
    // The receiver is parked: a send completes at once by handing the value over.
    assert_eq!(tx.try_send(21), Ok(()));
    drop(recv);
    assert_eq!(rx.try_recv(), Ok(21), "the handed-over value was lost");
}

/// `send_blocking` and `recv_blocking` work from plain threads against tasks.
#[test]
fn blocking_variants_work_from_plain_threads() {
    let _watchdog = watchdog(Duration::from_secs(60), "blocking variants");
    let (tx, rx) = chan::<u32>(0);
    let (back_tx, back_rx) = chan::<u32>(0);
    let echo = gort::spawn(async move {
        while let Some(value) = rx.recv().await {
            back_tx.send(value * 2).await.expect("open");
        }
    });
    let thread = thread::spawn(move || {
        for i in 0..100 {
            tx.send_blocking(i).expect("open");
            assert_eq!(back_rx.recv_blocking(), Some(i * 2));
        }
    });
    thread.join().expect("thread");
    futures::executor::block_on(echo).expect("echo");
}

/// `Receiver` is a `Stream` that ends when the channel closes.
#[gort::test]
async fn the_receiver_is_a_stream() {
    let (tx, rx) = chan::<u32>(8);
    gort::go!(async move {
        for i in 0..5 {
            tx.send(i).await.unwrap();
        }
    });
    let got: Vec<u32> = rx.collect().await;
    assert_eq!(got, vec![0, 1, 2, 3, 4]);
}

/// A loop over a channel that always has data yields to a second task within one coop budget
/// (128 operations), on one P.
#[test]
fn a_loop_over_an_always_ready_channel_yields_within_a_budget() {
    let _watchdog = watchdog(Duration::from_secs(60), "channel budget");
    runtime(1).block_on(async {
        let (tx, rx) = chan::<u32>(1024);
        for i in 0..1024 {
            tx.try_send(i).unwrap();
        }
        let other_ran = Arc::new(AtomicBool::new(false));
        let received = Arc::new(AtomicUsize::new(0));
        let looper = {
            let (other_ran, received) = (Arc::clone(&other_ran), Arc::clone(&received));
            gort::spawn(async move {
                // Queued on this P while the loop runs: it gets the P only if the loop yields.
                let flag = Arc::clone(&other_ran);
                let other = gort::spawn(async move { flag.store(true, Ordering::SeqCst) });
                while !other_ran.load(Ordering::SeqCst) {
                    let value = rx.recv().await.expect("data");
                    tx.send(value).await.expect("room");
                    received.fetch_add(1, Ordering::SeqCst);
                }
                other.await.unwrap();
            })
        };
        looper.await.unwrap();
        // Each iteration spends two units (a receive and a send).
        let iterations = received.load(Ordering::SeqCst);
        assert!(
            iterations <= 128,
            "the loop ran {iterations} iterations before the other task got the P"
        );
    });
}
