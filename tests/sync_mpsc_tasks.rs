//! `gort::sync::mpsc` across tasks and threads on a runtime: the receiver's drop waking
//! parked tasks, an actor holding a weak sender to itself, four producers into one consumer,
//! the blocking variants from plain threads (and their panic inside a task), `send_timeout`,
//! the coop budget, and the leak pass seeing tasks parked on each other's inboxes.
//!
//! Tasks order themselves over channels; nothing here waits for time to pass except
//! `send_timeout`'s own short timeouts.

mod common;

use std::collections::HashSet;
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use gort::sync::mpsc::{self, error::SendError, error::SendTimeoutError};

use common::{runtime, watchdog};

/// Dropping the receiver wakes a sender waiting for a slot (which gets its value back) and a
/// task in `closed()`, across tasks on a runtime.
#[test]
fn dropping_the_receiver_wakes_waiting_senders_and_closed() {
    let _watchdog = watchdog(Duration::from_secs(60), "receiver drop");
    runtime(2).block_on(async {
        let (tx, rx) = mpsc::channel::<u32>(1);
        tx.send(0).await.expect("free");
        let (parked_tx, mut parked) = mpsc::unbounded_channel::<&str>();
        let sender = gort::spawn({
            let (tx, parked_tx) = (tx.clone(), parked_tx.clone());
            async move {
                let mut send = pin!(tx.send(5));
                poll_fn(|cx| {
                    let polled = send.as_mut().poll(cx);
                    if polled.is_pending() {
                        let _ = parked_tx.send("send");
                    }
                    polled
                })
                .await
            }
        });
        let watcher = gort::spawn({
            let tx = tx.clone();
            async move {
                let mut closed = pin!(tx.closed());
                poll_fn(|cx| {
                    let polled = closed.as_mut().poll(cx);
                    if polled.is_pending() {
                        let _ = parked_tx.send("closed");
                    }
                    polled
                })
                .await
            }
        });
        // Each task reports every pending poll; wait until both have parked once.
        let mut seen = HashSet::new();
        while seen.len() < 2 {
            seen.insert(parked.recv().await.expect("the tasks hold senders"));
        }
        assert!(!tx.is_closed());
        drop(rx);
        assert_eq!(sender.await.expect("sender"), Err(SendError(5)));
        watcher.await.expect("watcher");
        assert!(tx.is_closed());
        tx.closed().await;
    });
}

/// An actor holding only a weak sender to its own inbox ends when its clients are gone.
#[test]
fn an_actor_with_a_weak_sender_to_itself_ends_with_its_clients() {
    let _watchdog = watchdog(Duration::from_secs(60), "weak actor");
    runtime(2).block_on(async {
        let (tx, mut rx) = mpsc::unbounded_channel::<u32>();
        let myself = tx.downgrade();
        let actor = gort::spawn(async move {
            let mut seen = Vec::new();
            while let Some(n) = rx.recv().await {
                seen.push(n);
                // A message to itself while a client is alive.
                if n < 3 {
                    if let Some(me) = myself.upgrade() {
                        me.send(n + 10).expect("open");
                    }
                }
            }
            seen
        });
        for n in 0..3 {
            tx.send(n).expect("open");
        }
        drop(tx);
        let mut seen = actor.await.expect("actor");
        seen.sort_unstable();
        assert!(seen.starts_with(&[0, 1, 2]), "{seen:?}");
    });
}

// ----- across threads and tasks -----

/// Four producers and one consumer on a runtime: every value arrives once, each producer's in
/// its order, through a channel far smaller than the traffic.
#[test]
fn four_producers_one_consumer_deliver_everything_in_per_producer_order() {
    const PER_PRODUCER: u32 = 20_000;
    let _watchdog = watchdog(Duration::from_secs(120), "4 -> 1");
    runtime(2).block_on(async {
        let (tx, mut rx) = mpsc::channel::<(u32, u32)>(64);
        for producer in 0..4 {
            let tx = tx.clone();
            gort::go!(async move {
                for i in 0..PER_PRODUCER {
                    tx.send((producer, i)).await.expect("open");
                }
            });
        }
        drop(tx);
        let mut next = [0u32; 4];
        while let Some((producer, i)) = rx.recv().await {
            assert_eq!(
                i, next[producer as usize],
                "producer {producer} out of order"
            );
            next[producer as usize] += 1;
        }
        assert_eq!(next, [PER_PRODUCER; 4]);
    });
}

/// `blocking_send`, `blocking_recv` and `blocking_recv_many` from plain threads, against a
/// task that echoes.
#[test]
fn blocking_variants_work_from_plain_threads() {
    let _watchdog = watchdog(Duration::from_secs(60), "blocking variants");
    let rt = runtime(2);
    let (tx, mut rx) = mpsc::channel::<u32>(1);
    let (back_tx, mut back_rx) = mpsc::channel::<u32>(1);
    let _echo = rt.spawn(async move {
        while let Some(n) = rx.recv().await {
            back_tx.send(n * 2).await.expect("open");
        }
    });
    let client = thread::spawn(move || {
        for i in 0..200 {
            tx.blocking_send(i).expect("open");
            assert_eq!(back_rx.blocking_recv(), Some(i * 2));
        }
        drop(tx);
        assert_eq!(back_rx.blocking_recv(), None);
    });
    client.join().expect("client thread");

    let (utx, mut urx) = mpsc::unbounded_channel::<u32>();
    let producer = thread::spawn(move || {
        for i in 0..100 {
            utx.send(i).expect("open");
        }
    });
    let mut values = Vec::new();
    while values.len() < 100 {
        assert!(urx.blocking_recv_many(&mut values, 100) > 0);
    }
    producer.join().expect("producer");
    assert!(values.into_iter().eq(0..100));
    assert_eq!(urx.blocking_recv(), None);
    drop(rt);
}

/// A blocking call inside a task panics (as tokio's does) instead of blocking the thread
/// that runs the task's P.
#[test]
fn blocking_calls_inside_a_task_panic() {
    let rt = runtime(1);
    let (tx, mut rx) = mpsc::channel::<u32>(1);
    let error = rt
        .block_on(rt.spawn(async move { rx.blocking_recv() }))
        .expect_err("it panics");
    let message = common::panic_text(&*error.into_panic());
    assert!(
        message.contains("Cannot block the current thread from within a runtime"),
        "{message}"
    );
    let error = rt
        .block_on(rt.spawn(async move { tx.blocking_send(1) }))
        .expect_err("it panics");
    assert!(error.is_panic());
}

/// `send_timeout` gives the value back as `Timeout` on a full channel, as `Closed` once the
/// receiver is gone, and sends when a slot frees in time.
#[test]
fn send_timeout_returns_the_value_on_timeout_and_close() {
    let _watchdog = watchdog(Duration::from_secs(60), "send_timeout");
    runtime(2).block_on(async {
        let (tx, mut rx) = mpsc::channel::<u32>(1);
        tx.send_timeout(1, Duration::from_millis(5))
            .await
            .expect("a free slot");
        assert_eq!(
            tx.send_timeout(2, Duration::from_millis(5)).await,
            Err(SendTimeoutError::Timeout(2))
        );
        assert_eq!(
            tx.capacity(),
            0,
            "the timed-out reservation left nothing behind"
        );
        let (freed_tx, mut freed) = mpsc::channel::<()>(1);
        let receiver = gort::spawn(async move {
            let _ = freed.recv().await;
            let first = rx.recv().await;
            (first, rx)
        });
        let sending = tx.send_timeout(3, Duration::from_secs(30));
        freed_tx.send(()).await.expect("open");
        sending.await.expect("sent once a slot freed");
        let (first, mut rx) = receiver.await.expect("receiver");
        assert_eq!(first, Some(1));
        assert_eq!(rx.recv().await, Some(3));
        drop(rx);
        assert_eq!(
            tx.send_timeout(4, Duration::from_secs(30)).await,
            Err(SendTimeoutError::Closed(4))
        );
    });
}

// ----- runtime integration -----

/// A loop over an always-ready channel yields its P within about one coop budget (128), so a
/// second task on the only P still runs.
#[test]
fn a_loop_over_a_ready_channel_yields_within_one_budget() {
    let _watchdog = watchdog(Duration::from_secs(60), "coop");
    let ops = runtime(1).block_on(async {
        gort::spawn(async {
            let stop = Arc::new(AtomicBool::new(false));
            let flag = Arc::clone(&stop);
            gort::go!(async move { flag.store(true, Ordering::SeqCst) });
            let (tx, mut rx) = mpsc::unbounded_channel::<u32>();
            let mut ops = 0;
            while !stop.load(Ordering::SeqCst) {
                tx.send(1).expect("open");
                rx.recv().await.expect("a value");
                ops += 1;
            }
            ops
        })
        .await
        .expect("looper")
    });
    assert!(
        ops <= 2 * 128,
        "{ops} ready receives before the other task ran"
    );
}

/// Two tasks, each waiting on its own inbox and holding only the other's sender in its `go!`
/// captures, are found by the leak pass (`chan receive`), and reclaimed.
#[test]
fn tasks_waiting_on_each_others_inboxes_are_leaked() {
    use gort::gc::GcCell;
    let _watchdog = watchdog(Duration::from_secs(60), "mpsc leak");
    runtime(2).block_on(async {
        let (tx_a, rx_a) = mpsc::channel::<u32>(1);
        let (tx_b, rx_b) = mpsc::channel::<u32>(1);
        let (inbox_a, inbox_b) = (GcCell::new(rx_a), GcCell::new(rx_b));
        gort::go!([inbox_a, tx_b] async move {
            let _ = tx_b;
            poll_fn(|cx| inbox_a.lock().poll_recv(cx)).await
        });
        gort::go!([inbox_b, tx_a] async move {
            let _ = tx_a;
            poll_fn(|cx| inbox_b.lock().poll_recv(cx)).await
        });
        let mut leaks = Vec::new();
        for _ in 0..300 {
            leaks = gort::gc::leaks();
            if leaks.len() >= 2 {
                break;
            }
            gort::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(leaks.len(), 2, "{leaks:?}");
        assert!(leaks.iter().all(|leak| leak.wait_reason == "chan receive"));
        assert_eq!(gort::gc::reclaim_leaks().len(), 2);
    });
}
