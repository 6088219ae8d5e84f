//! Fault injection (issue 14, `faults/support.rs` has what the three files share): user code
//! that misbehaves inside the runtime's machinery, and what users rely on despite it. For each
//! fault: the runtime keeps serving the other tasks, every other task's output arrives
//! (counted, and checked), `shutdown_timeout` returns within a generous bound of its timeout,
//! and the process goes on. The panics are deliberate; a hook keeps them off stderr. A fault
//! that could end the process runs in a child process, so that it fails its test alone.
//! Running out of descriptors lives in `net_emfile.rs`: lowering the limit is process-wide.
//!
//! This file: a waker that panics when gort wakes it (from a timer, the netpoller, a channel,
//! `Notify`, a finished task's `JoinHandle`), and a poll that wakes itself and panics.

mod common;
#[path = "faults/support.rs"]
mod support;

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use futures::channel::oneshot;
use gort::io::AsyncReadExt;
use gort::net::TcpStream;
use gort::runtime::Runtime;

use common::{
    count, counter, eventually, eventually_blocking, panic_text, record_pending, runtime,
    sum_of_spawned_squares, watchdog, within,
};
use support::*;

// ---------------------------------------------------------------------------------------------
// Wakers that panic

/// A hand-written future polls a `Sleep` with a waker of its own that panics, so the M that
/// fires the timer calls user code that panics, outside any task's poll. Every other task
/// sleeping until the same instant must still wake (none cancelled, none left parked), later
/// timers must fire, and the runtime must keep serving and shut down in time.
#[test]
fn a_panicking_waker_fired_by_a_timer_loses_no_other_sleeper() {
    const SLEEPERS: usize = 20;
    silence_deliberate_panics();
    let _watchdog = watchdog(Duration::from_secs(120), "panicking timer waker");
    for procs in [1, 2] {
        let rt = runtime(procs);
        let (waker, panicking) = PanickingWaker::new();
        let (woke_tx, woke_rx) = mpsc::channel();
        let (armed_tx, armed_rx) = mpsc::channel();
        drop(rt.spawn(async move {
            let deadline = gort::time::Instant::now() + Duration::from_millis(20);
            let mut armed = Box::pin(gort::time::sleep_until(deadline));
            assert!(poll_once(armed.as_mut(), &waker).is_pending());
            for sleeper in 0..SLEEPERS {
                let woke_tx = woke_tx.clone();
                gort::go!(async move {
                    gort::time::sleep_until(deadline).await;
                    woke_tx.send(sleeper).unwrap();
                });
            }
            // The test thread keeps the sleep armed.
            armed_tx.send(armed).unwrap();
        }));
        let _armed = armed_rx.recv_timeout(LIMIT).expect("the sleep was armed");

        let mut woke = receive_within(&woke_rx, SLEEPERS, LIMIT);
        woke.sort_unstable();
        assert_eq!(
            woke,
            indices(SLEEPERS),
            "{procs} Ps: the sleepers due with the panicking waker's timer that woke"
        );
        assert_eq!(
            panicking.wakes(),
            1,
            "{procs} Ps: the timer called the waker"
        );
        assert!(
            eventually_blocking(|| rt.handle().num_goroutine() == 0),
            "{procs} Ps: {} goroutines left",
            rt.handle().num_goroutine()
        );

        // Timers armed afterwards fire.
        let (later_tx, later_rx) = mpsc::channel();
        for sleeper in 0..SLEEPERS {
            let later_tx = later_tx.clone();
            drop(rt.spawn(async move {
                gort::time::sleep(Duration::from_millis(5)).await;
                later_tx.send(sleeper).unwrap();
            }));
        }
        let mut later = receive_within(&later_rx, SLEEPERS, LIMIT);
        later.sort_unstable();
        assert_eq!(
            later,
            indices(SLEEPERS),
            "{procs} Ps: sleeps after the fault"
        );
        assert_serves(&rt, "after a timer's panicking waker");
        assert_shuts_down_in_time(rt, "after a timer's panicking waker");
    }
}

/// Leaves `waker` parked on `stream`'s read readiness, as a hand-written reader polling
/// `poll_read_ready` with a waker of its own does. (A new socket starts ready; readiness is
/// cleared by a read that would block.) Nothing may have been sent on `stream` yet.
fn park_readiness_waker(stream: &TcpStream, waker: &Waker) {
    while let Poll::Ready(ready) = stream.poll_read_ready(&mut Context::from_waker(waker)) {
        ready.expect("poll_read_ready");
        let err = stream
            .try_read(&mut [0u8; 1])
            .expect_err("nothing sent yet");
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    }
}

/// Checks that a connection `rt` makes to `peer_listener` (served by this thread) reads what
/// this thread writes: the runtime still serves IO.
fn assert_serves_io(rt: &Runtime, peer_listener: &std::net::TcpListener, what: &str) {
    let addr = peer_listener.local_addr().unwrap();
    let (read_tx, read_rx) = mpsc::channel();
    drop(rt.spawn(async move {
        let stream = TcpStream::connect(addr).await.expect("connect");
        let mut got = [0u8; 4];
        let read = (&stream).read_exact(&mut got).await.map(|_| got);
        let _ = read_tx.send(read.map_err(|err| err.kind()));
    }));
    let mut late = accept_within(peer_listener, what);
    io::Write::write_all(&mut late, b"late").unwrap();
    assert_eq!(read_rx.recv_timeout(LIMIT), Ok(Ok(*b"late")), "{what}");
}

/// A hand-written future waits for a socket's readiness with a waker that panics, beside tasks
/// parked reading other sockets; data then arrives on all of them at once, so the netpoller
/// dispatches the panicking waker in the same batch as the readers'. Every reader must get its
/// byte, and the runtime must keep serving IO afterwards (a new connection reads) and shut
/// down in time.
#[test]
fn a_panicking_waker_woken_by_the_netpoller_loses_no_other_reader() {
    const READERS: usize = 10;
    silence_deliberate_panics();
    let _watchdog = watchdog(Duration::from_secs(120), "panicking IO waker");
    let rt = runtime(2);
    let peer_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = peer_listener.local_addr().unwrap();
    let (waker, panicking) = PanickingWaker::new();
    let (kept_tx, kept_rx) = mpsc::channel();
    let (parked_tx, parked_rx) = mpsc::channel();
    let (read_tx, read_rx) = mpsc::channel();
    drop(rt.spawn(async move {
        // Connected first, so accepted first: peer 0.
        let watched = TcpStream::connect(addr).await.expect("connect");
        park_readiness_waker(&watched, &waker);
        kept_tx.send(watched).unwrap();
        for reader in 0..READERS {
            let stream = TcpStream::connect(addr).await.expect("connect");
            let (read, parked) = record_pending(async move {
                let mut byte = [0u8; 1];
                (&stream).read_exact(&mut byte).await.map(|_| byte[0])
            });
            let read_tx = read_tx.clone();
            gort::go!(async move {
                let _ = read_tx.send((reader, read.await.expect("read")));
            });
            let parked_tx = parked_tx.clone();
            gort::go!(async move {
                eventually(|| parked.load(Ordering::SeqCst)).await;
                parked_tx.send(()).unwrap();
            });
        }
    }));
    let mut peers: Vec<_> = (0..=READERS)
        .map(|_| accept_within(&peer_listener, "a connection of the runtime's tasks"))
        .collect();
    let _watched = kept_rx.recv_timeout(LIMIT).expect("the watched socket");
    assert_eq!(
        receive_within(&parked_rx, READERS, LIMIT).len(),
        READERS,
        "the readers parked"
    );
    // Peer 0 first: its edge is the first of the batch.
    for (peer, stream) in peers.iter_mut().enumerate() {
        io::Write::write_all(stream, &[peer.wrapping_sub(1) as u8]).unwrap();
    }

    let mut read = receive_within(&read_rx, READERS, LIMIT);
    read.sort_unstable();
    let expected: Vec<_> = (0..READERS).map(|reader| (reader, reader as u8)).collect();
    assert_eq!(
        read, expected,
        "the readers woken beside the panicking waker"
    );
    assert_eq!(panicking.wakes(), 1, "the netpoller called the waker");

    assert_serves_io(&rt, &peer_listener, "a connection made after the fault");
    assert_serves(&rt, "after the netpoller's panicking waker");
    assert_shuts_down_in_time(rt, "after the netpoller's panicking waker");
}

/// The previous fault reduced to its core: one socket whose readiness waker panics, nothing
/// else parked. Once the netpoller's thread has called it, tasks spawned from outside the
/// runtime, one after another as requests would come, must all run, and a new connection must
/// be served.
#[test]
fn spawns_and_io_keep_running_after_the_netpoller_calls_a_panicking_waker() {
    const SPAWNS: usize = 20;
    silence_deliberate_panics();
    let _watchdog = watchdog(
        Duration::from_secs(120),
        "runtime after a panicking IO waker",
    );
    let rt = runtime(2);
    let peer_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = peer_listener.local_addr().unwrap();
    let (waker, panicking) = PanickingWaker::new();
    let (kept_tx, kept_rx) = mpsc::channel();
    drop(rt.spawn(async move {
        let watched = TcpStream::connect(addr).await.expect("connect");
        park_readiness_waker(&watched, &waker);
        kept_tx.send(watched).unwrap();
    }));
    let mut peer = accept_within(&peer_listener, "the watched connection");
    let _watched = kept_rx.recv_timeout(LIMIT).expect("the watched socket");
    io::Write::write_all(&mut peer, b"x").unwrap();
    assert!(
        eventually_blocking(|| panicking.wakes() == 1),
        "the netpoller never called the waker"
    );

    let deadline = Instant::now() + LIMIT;
    let mut ran = 0;
    for _ in 0..SPAWNS {
        let (ran_tx, ran_rx) = mpsc::channel();
        drop(rt.spawn(async move {
            let _ = ran_tx.send(());
        }));
        let left = deadline.saturating_duration_since(Instant::now());
        let each = left.min(LIMIT / SPAWNS as u32);
        ran += usize::from(ran_rx.recv_timeout(each).is_ok());
    }
    assert_eq!(ran, SPAWNS, "tasks spawned after the fault that ran");
    assert_serves_io(&rt, &peer_listener, "a connection made after the fault");
    assert_shuts_down_in_time(rt, "after the netpoller's panicking waker");
}

/// Accepts a connection on `listener` (a std one, served by this thread), failing with `what`
/// if none comes within [`LIMIT`].
fn accept_within(listener: &std::net::TcpListener, what: &str) -> std::net::TcpStream {
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + LIMIT;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).unwrap();
                return stream;
            }
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                assert!(
                    Instant::now() < deadline,
                    "{what}: no connection within {LIMIT:?}"
                );
                thread::sleep(Duration::from_millis(1));
            }
            Err(err) => panic!("{what}: accept: {err}"),
        }
    }
}

/// Spawns `n` tasks that each receive once from `rx`, and waits until all of them are parked.
async fn parked_receivers(
    rx: &gort::Receiver<u32>,
    n: usize,
) -> Vec<gort::JoinHandle<Option<u32>>> {
    let mut flags = Vec::new();
    let receivers = (0..n)
        .map(|_| {
            let rx = rx.clone();
            let (receive, parked) = record_pending(async move { rx.recv().await });
            flags.push(parked);
            gort::spawn(receive)
        })
        .collect();
    let all_parked = eventually(|| flags.iter().all(|parked| parked.load(Ordering::SeqCst))).await;
    assert!(all_parked, "the receivers parked");
    receivers
}

/// A channel closed while a hand-written receiver with a panicking waker and five tasks are
/// parked on it: the closing task ends (its close called the waker), and every parked task is
/// woken and receives `None`.
#[test]
fn closing_a_channel_wakes_every_receiver_when_one_waker_panics() {
    const RECEIVERS: usize = 5;
    silence_deliberate_panics();
    let _watchdog = watchdog(Duration::from_secs(120), "close with a panicking waker");
    runtime(2).block_on(async {
        let (tx, rx) = gort::chan::<u32>(0);
        let (waker, panicking) = PanickingWaker::new();
        let mut first = Box::pin(rx.recv());
        assert!(poll_once(first.as_mut(), &waker).is_pending());
        let receivers = parked_receivers(&rx, RECEIVERS).await;

        let closer = gort::spawn(async move { tx.close() });
        let closed = within(LIMIT, "the closing task", closer).await;
        assert_finished_or_took_the_waker_panic(closed, "the closing task");
        assert_eq!(panicking.wakes(), 1, "close woke the panicking waker");
        for (index, receiver) in receivers.into_iter().enumerate() {
            let received = within(LIMIT, "a receiver parked when the channel closed", receiver)
                .await
                .expect("the receiver task");
            assert_eq!(received, None, "receiver {index}");
        }
        drop(first);
    });
}

/// A send to a hand-written receiver whose waker panics: the value is delivered once, the
/// sending task ends, and the channel keeps carrying values between other tasks, in order.
#[test]
fn a_value_sent_to_a_receiver_whose_waker_panics_is_delivered_once() {
    const LATER: u32 = 100;
    silence_deliberate_panics();
    let _watchdog = watchdog(Duration::from_secs(120), "send to a panicking waker");
    runtime(2).block_on(async {
        let (tx, rx) = gort::chan::<u32>(0);
        let (waker, panicking) = PanickingWaker::new();
        let mut receive = Box::pin(rx.recv());
        assert!(poll_once(receive.as_mut(), &waker).is_pending());

        let sender = {
            let tx = tx.clone();
            gort::spawn(async move { tx.send(7).await.is_ok() })
        };
        let sent = within(LIMIT, "the sending task", sender).await;
        assert_finished_or_took_the_waker_panic(sent, "the sending task");
        assert_eq!(panicking.wakes(), 1, "the send woke the panicking waker");
        let received = within(
            LIMIT,
            "the receive whose waker panicked",
            std::future::poll_fn(|cx| receive.as_mut().poll(cx)),
        )
        .await;
        assert_eq!(received, Some(7));
        assert_eq!(
            rx.try_recv(),
            Err(gort::TryRecvError::Empty),
            "delivered once"
        );

        let sender = gort::spawn(async move {
            for value in 0..LATER {
                tx.send(value).await.expect("the channel is open");
            }
        });
        for value in 0..LATER {
            assert_eq!(
                within(LIMIT, "a later receive", rx.recv()).await,
                Some(value)
            );
        }
        sender.await.expect("the later sender");
    });
}

/// `notify_waiters` while a hand-written waiter with a panicking waker and five tasks wait: the
/// notifying task ends, and every waiting task completes.
#[test]
fn notify_waiters_wakes_every_waiter_when_one_waker_panics() {
    const WAITERS: usize = 5;
    silence_deliberate_panics();
    let _watchdog = watchdog(
        Duration::from_secs(120),
        "notify_waiters with a panicking waker",
    );
    runtime(2).block_on(async {
        let notify = Arc::new(gort::sync::Notify::new());
        let (waker, panicking) = PanickingWaker::new();
        let mut first = Box::pin(notify.notified());
        assert!(poll_once(first.as_mut(), &waker).is_pending());
        let mut flags = Vec::new();
        let waiters: Vec<_> = (0..WAITERS)
            .map(|waiter| {
                let notify = Arc::clone(&notify);
                let (wait, parked) = record_pending(async move {
                    notify.notified().await;
                    waiter
                });
                flags.push(parked);
                gort::spawn(wait)
            })
            .collect();
        assert!(eventually(|| flags.iter().all(|parked| parked.load(Ordering::SeqCst))).await);

        let notifier = {
            let notify = Arc::clone(&notify);
            gort::spawn(async move { notify.notify_waiters() })
        };
        let notified = within(LIMIT, "the notifying task", notifier).await;
        assert_finished_or_took_the_waker_panic(notified, "the notifying task");
        assert_eq!(
            panicking.wakes(),
            1,
            "notify_waiters woke the panicking waker"
        );
        for (index, waiter) in waiters.into_iter().enumerate() {
            let woken = within(LIMIT, "a task waiting when notify_waiters ran", waiter).await;
            assert_eq!(woken.expect("the waiting task"), index);
        }
        drop(first);
    });
}

/// A hand-written future polls a `JoinHandle` with a waker that panics; the task then
/// completes, and the M that ran it wakes that waker. The process must go on: the task's output
/// is still there for the handle, and the runtime keeps serving and shuts down in time.
#[test]
fn a_join_handle_awaited_with_a_panicking_waker_keeps_the_process_and_the_output() {
    in_child(
        "a_join_handle_awaited_with_a_panicking_waker_keeps_the_process_and_the_output",
        || {
            let _watchdog = watchdog(Duration::from_secs(60), "join with a panicking waker");
            let rt = runtime(2);
            let (gate_tx, gate_rx) = oneshot::channel::<()>();
            let mut handle = rt.spawn(async move {
                gate_rx.await.unwrap();
                5u32
            });
            let (waker, panicking) = PanickingWaker::new();
            assert!(poll_once(Pin::new(&mut handle), &waker).is_pending());
            gate_tx.send(()).unwrap();
            assert!(eventually_blocking(|| handle.is_finished()));
            assert_eq!(panicking.wakes(), 1, "the completion woke the waker");
            let output = rt.block_on(async { within(LIMIT, "the handle", handle).await });
            assert_eq!(output.expect("the task's output"), 5);
            assert_serves(&rt, "after a join handle's panicking waker");
            assert_shuts_down_in_time(rt, "after a join handle's panicking waker");
        },
    );
}

/// A task whose poll wakes itself and then panics: its handle reports that panic, it is not
/// polled again (the wake came before it ended), and the other tasks run on.
#[test]
fn a_task_that_wakes_itself_then_panics_is_reported_once() {
    silence_deliberate_panics();
    let rt = runtime(2);
    rt.block_on(async {
        let polls = counter();
        let task = {
            let polls = Arc::clone(&polls);
            gort::spawn(std::future::poll_fn(move |cx| -> Poll<()> {
                polls.fetch_add(1, Ordering::SeqCst);
                cx.waker().wake_by_ref();
                panic!("{POLL_PANIC}");
            }))
        };
        let err = within(LIMIT, "the panicking task", task)
            .await
            .expect_err("the task panicked");
        assert!(err.is_panic(), "{err:?}");
        assert_eq!(panic_text(&*err.into_panic()), POLL_PANIC);
        assert_eq!(sum_of_spawned_squares().await, 285);
        gort::task::yield_now().await;
        assert_eq!(count(&polls), 1, "a finished task is never polled again");
    });
    assert_shuts_down_in_time(rt, "after a self-waking panic");
}
