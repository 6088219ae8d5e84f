//! The current-thread runtime (`Builder::new_current_thread`): one P whose only M is the thread
//! inside `block_on`. Tasks run on that thread only and only while it blocks on the runtime;
//! timers and sockets are driven by it; `block_on` may be called from several threads.

mod common;

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::{self, ThreadId};
use std::time::Duration;

use gort::io::{AsyncReadExt, AsyncWriteExt};
use gort::net::{TcpListener, TcpStream};
use gort::runtime::{Builder, Runtime, RuntimeFlavor};
use gort::task::yield_now;

use common::{panic_text, watchdog};

/// A current-thread runtime that counts the threads it starts (it may start blocking-pool
/// threads only).
fn current_thread(started: &Arc<AtomicUsize>) -> Runtime {
    let started = Arc::clone(started);
    Builder::new_current_thread()
        .enable_all()
        .on_thread_start(move || {
            started.fetch_add(1, Ordering::SeqCst);
        })
        .build()
        .expect("building a current-thread runtime")
}

async fn thread_after_yields(rounds: usize) -> ThreadId {
    for _ in 0..rounds {
        yield_now().await;
    }
    thread::current().id()
}

#[test]
fn the_flavor_is_current_thread_with_one_worker() {
    let rt = current_thread(&Arc::default());
    assert_eq!(rt.handle().runtime_flavor(), RuntimeFlavor::CurrentThread);
    assert_eq!(rt.metrics().num_workers(), 1);
    assert_eq!(rt.handle().gomaxprocs(), 1);
}

#[test]
fn spawned_tasks_run_on_the_block_on_thread_and_no_other_thread_is_started() {
    let _watchdog = watchdog(
        Duration::from_secs(60),
        "spawned tasks on the block_on thread",
    );
    let started = Arc::new(AtomicUsize::new(0));
    let rt = current_thread(&started);
    let caller = thread::current().id();
    let ids = rt.block_on(async {
        let handles: Vec<_> = (0..50)
            .map(|i| gort::spawn(thread_after_yields(i % 5)))
            .collect();
        let mut ids = Vec::new();
        for handle in handles {
            ids.push(handle.await.unwrap());
        }
        // Spawned through the handle from inside, and from a task.
        ids.push(
            gort::spawn(async { gort::spawn(thread_after_yields(3)).await.unwrap() })
                .await
                .unwrap(),
        );
        ids
    });
    assert!(
        ids.iter().all(|id| *id == caller),
        "every task ran on the block_on thread"
    );
    assert_eq!(
        started.load(Ordering::SeqCst),
        0,
        "a current-thread runtime starts no thread of its own"
    );
}

#[test]
fn tasks_make_no_progress_between_block_on_calls() {
    let _watchdog = watchdog(
        Duration::from_secs(60),
        "no progress between block_on calls",
    );
    let rt = current_thread(&Arc::default());
    let rounds = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&rounds);
    // Spawned before any block_on: it waits in the global queue.
    let _spinner = rt.spawn(async move {
        loop {
            counter.fetch_add(1, Ordering::SeqCst);
            yield_now().await;
        }
    });
    assert_eq!(rt.metrics().global_queue_depth(), 1);
    assert_eq!(
        rounds.load(Ordering::SeqCst),
        0,
        "nothing runs before block_on"
    );

    rt.block_on(async {
        while rounds.load(Ordering::SeqCst) < 10 {
            yield_now().await;
        }
    });
    let after_first = rounds.load(Ordering::SeqCst);
    // A multi-thread runtime would keep the task running on its own threads now.
    thread::sleep(Duration::from_millis(50));
    assert_eq!(
        rounds.load(Ordering::SeqCst),
        after_first,
        "the task made progress while nobody was inside block_on"
    );

    rt.block_on(async {
        while rounds.load(Ordering::SeqCst) < after_first + 10 {
            yield_now().await;
        }
    });
}

#[test]
fn a_task_woken_between_block_on_calls_runs_in_the_next_one_on_its_thread() {
    let _watchdog = watchdog(Duration::from_secs(60), "woken between block_on calls");
    let rt = Arc::new(current_thread(&Arc::default()));
    let (tx, rx) = gort::chan::<u32>(1);
    let (parked_tx, parked_rx) = gort::chan::<()>(1);
    let task = rt.spawn(async move {
        parked_tx.send(()).await.unwrap();
        let value = rx.recv().await.unwrap();
        (value, thread::current().id())
    });
    rt.block_on(async { parked_rx.recv().await.unwrap() });
    // The task is parked on `rx`. Wake it from a plain thread while nobody is inside block_on.
    tx.send_blocking(7).unwrap();
    thread::sleep(Duration::from_millis(20));
    assert!(!task.is_finished(), "the woken task ran outside block_on");

    // The next block_on is made by another thread: the task runs there.
    let rt2 = Arc::clone(&rt);
    let (value, ran_on, caller) = thread::spawn(move || {
        let (value, ran_on) = rt2.block_on(task).unwrap();
        (value, ran_on, thread::current().id())
    })
    .join()
    .unwrap();
    assert_eq!(value, 7);
    assert_eq!(ran_on, caller, "the task ran on the thread inside block_on");
}

#[test]
fn block_on_from_two_threads_at_once_completes_both() {
    let _watchdog = watchdog(Duration::from_secs(60), "two block_on threads at once");
    let rt = Arc::new(current_thread(&Arc::default()));
    let (tx, rx) = gort::chan::<ThreadId>(0);
    let receiver = {
        let rt = Arc::clone(&rt);
        thread::spawn(move || {
            rt.block_on(async move {
                // Runs on whichever thread holds the P; the future itself stays here.
                let id = gort::spawn(async move { rx.recv().await.unwrap() })
                    .await
                    .unwrap();
                (id, thread::current().id())
            })
        })
    };
    let sender = {
        let rt = Arc::clone(&rt);
        thread::spawn(move || {
            rt.block_on(async move {
                let me = thread::current().id();
                gort::spawn(async move { tx.send(me).await.unwrap() })
                    .await
                    .unwrap();
                me
            })
        })
    };
    let sender_id = sender.join().unwrap();
    let (received, receiver_id) = receiver.join().unwrap();
    assert_eq!(received, sender_id);
    assert_ne!(receiver_id, sender_id);
}

#[test]
fn timers_fire_inside_block_on() {
    let _watchdog = watchdog(
        Duration::from_secs(60),
        "timers on a current-thread runtime",
    );
    let rt = current_thread(&Arc::default());
    let caller = thread::current().id();
    rt.block_on(async {
        gort::time::sleep(Duration::from_millis(2)).await;
        let sleeper = gort::spawn(async {
            gort::time::sleep(Duration::from_millis(3)).await;
            thread::current().id()
        });
        assert_eq!(sleeper.await.unwrap(), caller);

        let mut interval = gort::time::interval(Duration::from_millis(1));
        for _ in 0..3 {
            interval.tick().await;
        }

        let never = std::future::pending::<()>();
        let timed_out = gort::time::timeout(Duration::from_millis(2), never).await;
        assert!(
            timed_out.is_err(),
            "a timeout over a pending future elapses"
        );
    });
}

#[test]
fn a_timer_of_a_task_fires_while_main_waits_on_it() {
    let _watchdog = watchdog(Duration::from_secs(60), "a task's timer while main waits");
    let rt = current_thread(&Arc::default());
    // Main parks on the handle; only the block_on thread can run the task's timer.
    let value = rt.block_on(rt.spawn(async {
        gort::time::sleep(Duration::from_millis(5)).await;
        11
    }));
    assert_eq!(value.unwrap(), 11);
}

#[test]
fn tcp_echo_on_loopback_runs_on_the_block_on_thread() {
    let _watchdog = watchdog(
        Duration::from_secs(60),
        "TCP echo on a current-thread runtime",
    );
    let started = Arc::new(AtomicUsize::new(0));
    let rt = current_thread(&started);
    let caller = thread::current().id();
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = gort::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let echoed = gort::io::copy(&mut &stream, &mut &stream).await.unwrap();
            (echoed, thread::current().id())
        });
        let client = TcpStream::connect(addr).await.unwrap();
        let message = vec![42u8; 256 * 1024];
        let mut reply = vec![0u8; message.len()];
        let (mut reader, mut writer) = (&client, &client);
        let (written, read) =
            futures::join!(writer.write_all(&message), reader.read_exact(&mut reply));
        written.unwrap();
        read.unwrap();
        assert!(reply == message, "the echo differs from what was sent");
        (&client).shutdown().await.unwrap();
        let (echoed, server_thread) = server.await.unwrap();
        assert_eq!(echoed, message.len() as u64);
        assert_eq!(
            server_thread, caller,
            "the server task ran on the block_on thread"
        );
    });
    // Name resolution and the like would use the blocking pool; plain connects do not.
    assert_eq!(started.load(Ordering::SeqCst), 0, "no thread was started");
}

#[test]
fn spawn_blocking_runs_on_the_blocking_pool() {
    let rt = current_thread(&Arc::default());
    let caller = thread::current().id();
    let ran_on = rt.block_on(async {
        gort::task::spawn_blocking(|| thread::current().id())
            .await
            .unwrap()
    });
    assert_ne!(ran_on, caller, "blocking jobs get a thread of their own");
}

#[test]
fn block_in_place_panics_in_main_and_in_tasks() {
    let rt = current_thread(&Arc::default());
    let in_main = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(async { gort::task::block_in_place(|| 1) })
    }))
    .expect_err("block_in_place in a current-thread block_on panics");
    assert!(
        panic_text(&*in_main).contains("multi-threaded runtime"),
        "the message says why: {}",
        panic_text(&*in_main)
    );
    let in_task = rt.block_on(rt.spawn(async { gort::task::block_in_place(|| 1) }));
    let error = in_task.expect_err("block_in_place in a current-thread task panics");
    assert!(error.is_panic());
    // Outside the runtime it just runs the closure.
    assert_eq!(gort::task::block_in_place(|| 5), 5);
}

#[test]
fn dropping_the_runtime_drops_its_queued_and_parked_tasks() {
    let drops = common::counter();
    let rt = current_thread(&Arc::default());
    let parked: Vec<_> = (0..3)
        .map(|_| rt.spawn(common::parked_forever(common::DropGuard::new(&drops))))
        .collect();
    rt.block_on(async {
        for _ in 0..3 {
            yield_now().await;
        }
    });
    let queued = rt.spawn(common::parked_forever(common::DropGuard::new(&drops)));
    drop(rt);
    assert_eq!(common::count(&drops), 4);
    for handle in parked.into_iter().chain([queued]) {
        let error = gort::block_on(handle).expect_err("a task dropped by shutdown");
        assert!(error.is_cancelled());
    }
}

/// A main future that spins on `yield_now` until a socket is ready, with nothing else to run,
/// still sees the readiness: a yield lets the netpoller run once (tokio's tests do this).
#[test]
fn a_main_future_spinning_on_yield_now_sees_io_become_ready() {
    use std::io::Write;
    let _watchdog = watchdog(Duration::from_secs(30), "yield_now spin on IO");
    let rt = Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let (ours, mut theirs) = std::os::unix::net::UnixStream::pair().unwrap();
        ours.set_nonblocking(true).unwrap();
        let ours = gort::net::UnixStream::from_std(ours).unwrap();
        // A waker that only records the wake, so nothing but this loop polls `readable`.
        struct Flag(std::sync::atomic::AtomicBool);
        impl futures::task::ArcWake for Flag {
            fn wake_by_ref(flag: &Arc<Flag>) {
                flag.0.store(true, Ordering::SeqCst);
            }
        }
        let flag = Arc::new(Flag(std::sync::atomic::AtomicBool::new(false)));
        let waker = futures::task::waker(Arc::clone(&flag));
        let mut cx = std::task::Context::from_waker(&waker);
        // A new stream is assumed readable until a read finds nothing.
        let nothing = ours.try_read(&mut [0; 1]).unwrap_err();
        assert_eq!(nothing.kind(), std::io::ErrorKind::WouldBlock);
        let mut readable = Box::pin(ours.readable());
        assert!(readable.as_mut().poll(&mut cx).is_pending());
        // Let the scheduler's own first look at the netpoller pass before the data arrives.
        yield_now().await;
        theirs.write_all(b"x").unwrap();
        while !flag.0.load(Ordering::SeqCst) {
            yield_now().await;
        }
        assert!(readable.as_mut().poll(&mut cx).is_ready());
    });
}

/// The same when nothing is parked at all: a main that asks `ready()` (answered from the
/// readiness it already knows) and yields until the peer's close shows, sees the close.
#[test]
fn a_main_future_polling_ready_between_yields_sees_the_peer_close() {
    use gort::io::Interest;
    let _watchdog = watchdog(Duration::from_secs(30), "ready/yield_now spin on a close");
    let rt = Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
        ours.set_nonblocking(true).unwrap();
        let ours = gort::net::UnixStream::from_std(ours).unwrap();
        // Readable (assumed so when new), and let the scheduler's first netpoll pass.
        assert!(ours.ready(Interest::READABLE).await.unwrap().is_readable());
        yield_now().await;
        drop(theirs);
        loop {
            let ready = ours.ready(Interest::READABLE).await.unwrap();
            if ready.is_read_closed() {
                break;
            }
            yield_now().await;
        }
    });
}

/// Gs that yield while another waits for IO let the netpoller run within one round of their
/// queue, not only at the next `event_interval` tick: the IO waiter is woken after a couple of
/// yields (tokio polls its driver once only yielded tasks are left).
#[test]
fn yielding_tasks_let_an_io_waiter_wake_within_a_round() {
    use std::sync::atomic::AtomicBool;
    let _watchdog = watchdog(Duration::from_secs(30), "yielders and an IO waiter");
    let rt = Builder::new_current_thread().enable_all().build().unwrap();
    let spins = rt.block_on(async {
        let (ours, theirs) = gort::net::UnixStream::pair().unwrap();
        let woken = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&woken);
        let waiter = gort::spawn(async move {
            ours.readable().await.unwrap();
            flag.store(true, Ordering::SeqCst);
        });
        // Let the waiter park on the (not yet readable) stream, then give it data.
        yield_now().await;
        assert_eq!(theirs.try_write(b"x").unwrap(), 1);
        let spinner = gort::spawn(async move {
            let mut spins = 0u32;
            while !woken.load(Ordering::SeqCst) {
                spins += 1;
                yield_now().await;
            }
            spins
        });
        let spins = spinner.await.unwrap();
        waiter.await.unwrap();
        spins
    });
    assert!(spins <= 3, "the waiter was woken only after {spins} yields");
}
