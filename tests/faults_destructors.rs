//! Fault injection (issue 14, `faults/support.rs` has what the three files share): user code
//! that misbehaves inside the runtime's machinery, and what users rely on despite it. For each
//! fault: the runtime keeps serving the other tasks, every other task's output arrives
//! (counted, and checked), `shutdown_timeout` returns within a generous bound of its timeout,
//! and the process goes on. The panics are deliberate; a hook keeps them off stderr. A fault
//! that could end the process runs in a child process, so that it fails its test alone.
//! Running out of descriptors lives in `net_emfile.rs`: lowering the limit is process-wide.
//!
//! This file: futures whose destructors panic, block or spawn (on completion, on abort, at
//! shutdown), and a task that panics holding a lock.

mod common;
#[path = "faults/support.rs"]
mod support;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll};
use std::thread;
use std::time::{Duration, Instant};

use futures::channel::oneshot;

use gort::runtime::Handle;
use gort::task::JoinSet;

use common::{
    count, counter, eventually, eventually_blocking, panic_text, parked_forever, record_pending,
    runtime, sum_of_spawned_squares, watchdog, within, DropGuard,
};
use support::*;

// ---------------------------------------------------------------------------------------------
// Destructors that panic

/// Parked tasks at shutdown, one of whose futures panics when dropped: `shutdown_timeout` and
/// `drop` return in time (a runtime is often dropped while a panic unwinds, where a second
/// panic aborts, so the destructor's panic must not come out of them), every other future is
/// dropped, and the process goes on (another runtime runs tasks).
#[test]
fn a_destructor_that_panics_at_shutdown_leaves_the_other_drops_and_the_process() {
    in_child(
        "a_destructor_that_panics_at_shutdown_leaves_the_other_drops_and_the_process",
        || {
            const OTHERS: usize = 20;
            let _watchdog = watchdog(Duration::from_secs(60), "panicking destructor at shutdown");
            for how in ["shutdown_timeout", "drop"] {
                let rt = runtime(2);
                let drops = counter();
                for task in 0..=OTHERS {
                    if task == OTHERS / 2 {
                        drop(rt.spawn(parked_forever(PanicOnDrop)));
                    } else {
                        drop(rt.spawn(parked_forever(DropGuard::new(&drops))));
                    }
                }
                assert!(eventually_blocking(
                    || rt.handle().num_goroutine() == OTHERS + 1
                ));
                let start = Instant::now();
                let shut = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match how {
                    "drop" => drop(rt),
                    _ => rt.shutdown_timeout(SHUTDOWN_TIMEOUT),
                }));
                let took = start.elapsed();
                if let Err(payload) = shut {
                    panic!("{how} panicked: {}", panic_text(&*payload));
                }
                assert!(took < SHUTDOWN_BOUND, "{how} took {took:?}");
                assert_eq!(
                    count(&drops),
                    OTHERS,
                    "{how}: every other future was dropped"
                );
            }
            assert_eq!(runtime(1).block_on(sum_of_spawned_squares()), 285);
        },
    );
}

/// Aborting a parked task whose future panics when dropped: the handle reports the task ended
/// (cancelled, or the destructor's panic), and the runtime keeps serving.
#[test]
fn a_destructor_that_panics_when_its_task_is_aborted_ends_the_task_only() {
    in_child(
        "a_destructor_that_panics_when_its_task_is_aborted_ends_the_task_only",
        || {
            let _watchdog = watchdog(Duration::from_secs(60), "panicking destructor on abort");
            let rt = runtime(2);
            let (aborted, parked) = record_pending(parked_forever(PanicOnDrop));
            let handle = rt.spawn(aborted);
            assert!(eventually_blocking(|| parked.load(Ordering::SeqCst)));
            handle.abort();
            let (ended_tx, ended_rx) = mpsc::channel();
            drop(rt.spawn(async move {
                let _ = ended_tx.send(handle.await);
            }));
            let err = ended_rx
                .recv_timeout(LIMIT)
                .expect("the aborted task's handle resolved")
                .expect_err("an aborted task has no output");
            if err.is_panic() {
                assert_eq!(panic_text(&*err.into_panic()), DROP_PANIC);
            } else {
                assert!(err.is_cancelled(), "{err:?}");
            }
            assert_serves(&rt, "after a panicking destructor on abort");
            assert_shuts_down_in_time(rt, "after a panicking destructor on abort");
        },
    );
}

/// A hand-written future that completes at once and whose destructor panics (the runtime drops
/// it after the poll that completed it): the handle resolves (with the output, or the
/// destructor's panic), and the runtime keeps serving.
#[test]
fn a_hand_written_future_whose_destructor_panics_after_completion_ends_the_task_only() {
    struct ReadyHolding(#[allow(dead_code)] PanicOnDrop); // Held only to be dropped.
    impl Future for ReadyHolding {
        type Output = u32;
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<u32> {
            Poll::Ready(3)
        }
    }
    in_child(
        "a_hand_written_future_whose_destructor_panics_after_completion_ends_the_task_only",
        || {
            let _watchdog = watchdog(
                Duration::from_secs(60),
                "panicking destructor on completion",
            );
            let rt = runtime(2);
            let (ended_tx, ended_rx) = mpsc::channel();
            drop(rt.spawn(async move {
                let _ = ended_tx.send(gort::spawn(ReadyHolding(PanicOnDrop)).await);
            }));
            match ended_rx.recv_timeout(LIMIT).expect("the handle resolved") {
                Ok(output) => assert_eq!(output, 3),
                Err(err) => {
                    assert!(err.is_panic(), "{err:?}");
                    assert_eq!(panic_text(&*err.into_panic()), DROP_PANIC);
                }
            }
            assert_serves(&rt, "after a panicking destructor on completion");
            assert_shuts_down_in_time(rt, "after a panicking destructor on completion");
        },
    );
}

/// An `async` block's captured value that panics when dropped at the end of the block: the
/// handle reports that panic (the value is dropped inside the poll), and the others run on.
#[test]
fn an_async_block_whose_captured_value_panics_on_drop_reports_the_panic() {
    silence_deliberate_panics();
    let rt = runtime(2);
    rt.block_on(async {
        let held = PanicOnDrop;
        let task = gort::spawn(async move {
            let _held = held;
            4
        });
        let err = within(LIMIT, "the task", task)
            .await
            .expect_err("it panicked");
        assert!(err.is_panic(), "{err:?}");
        assert_eq!(panic_text(&*err.into_panic()), DROP_PANIC);
        assert_eq!(sum_of_spawned_squares().await, 285);
    });
    assert_shuts_down_in_time(rt, "after a panicking captured value");
}

// ---------------------------------------------------------------------------------------------
// Destructors that block

/// Blocks its thread for `for_how_long` when dropped, with flags for the start and the end.
struct BlockOnDrop {
    for_how_long: Duration,
    started: Arc<AtomicBool>,
    ended: Arc<AtomicBool>,
}

impl BlockOnDrop {
    fn new(for_how_long: Duration) -> (BlockOnDrop, Arc<AtomicBool>, Arc<AtomicBool>) {
        let started = Arc::new(AtomicBool::new(false));
        let ended = Arc::new(AtomicBool::new(false));
        let blocker = BlockOnDrop {
            for_how_long,
            started: Arc::clone(&started),
            ended: Arc::clone(&ended),
        };
        (blocker, started, ended)
    }
}

impl Drop for BlockOnDrop {
    fn drop(&mut self) {
        self.started.store(true, Ordering::SeqCst);
        thread::sleep(self.for_how_long);
        self.ended.store(true, Ordering::SeqCst);
    }
}

/// On one P, an aborted task's future is dropped on the M and its destructor blocks that thread
/// for 3 s. Tasks spawned meanwhile still run (sysmon hands the P on, as for a stuck poll), and
/// `shutdown_timeout` returns long before the destructor ends; every other future is dropped
/// (those still queued on the stuck thread's P when that thread is free again).
#[test]
fn an_aborted_tasks_destructor_that_blocks_its_thread_stalls_no_other_task() {
    const PARKED: usize = 10;
    const LATER: usize = 100;
    const BLOCKS: Duration = Duration::from_secs(3);
    /// Far below `BLOCKS`, far above the ~10 ms sysmon needs.
    const MEANWHILE: Duration = Duration::from_millis(1500);
    let _watchdog = watchdog(Duration::from_secs(60), "blocking destructor on abort");
    let rt = runtime(1);
    let drops = counter();
    let (blocker, started, ended) = BlockOnDrop::new(BLOCKS);
    let aborted = rt.spawn(parked_forever(blocker));
    for _ in 0..PARKED {
        drop(rt.spawn(parked_forever(DropGuard::new(&drops))));
    }
    assert!(eventually_blocking(
        || rt.handle().num_goroutine() == PARKED + 1
    ));
    aborted.abort();
    assert!(eventually_blocking(|| started.load(Ordering::SeqCst)));

    let start = Instant::now();
    let (done_tx, done_rx) = mpsc::channel();
    for task in 0..LATER {
        let done_tx = done_tx.clone();
        drop(rt.spawn(async move { done_tx.send(task).unwrap() }));
    }
    let mut done = receive_within(&done_rx, LATER, MEANWHILE);
    done.sort_unstable();
    assert_eq!(
        done,
        indices(LATER),
        "tasks spawned while the destructor blocks"
    );
    assert!(
        !ended.load(Ordering::SeqCst),
        "they ran within {:?}",
        start.elapsed()
    );

    let shutdown = Instant::now();
    rt.shutdown_timeout(SHUTDOWN_TIMEOUT);
    assert!(
        shutdown.elapsed() < MEANWHILE,
        "shutdown_timeout({SHUTDOWN_TIMEOUT:?}) took {:?} beside a blocking destructor",
        shutdown.elapsed()
    );
    assert!(
        !ended.load(Ordering::SeqCst),
        "shutdown returned before the destructor ended"
    );
    // A G still queued on the P whose thread is stuck in the destructor (the rescue moved only
    // part of that queue) is dropped by that thread once the destructor returns, as after any
    // stuck poll that outlasts `shutdown_timeout`.
    assert!(
        eventually_blocking(|| count(&drops) == PARKED),
        "every other future was dropped ({} of {PARKED})",
        count(&drops)
    );
}

/// A parked task whose destructor blocks for 1 s at shutdown. Parked futures are dropped by the
/// thread that shuts the runtime down, so that second adds to `shutdown_timeout`'s wait; it
/// must still return, with every other future dropped.
#[test]
fn a_parked_tasks_destructor_that_blocks_at_shutdown_delays_only_that_drop() {
    const PARKED: usize = 10;
    const BLOCKS: Duration = Duration::from_secs(1);
    let _watchdog = watchdog(Duration::from_secs(60), "blocking destructor at shutdown");
    let rt = runtime(2);
    let drops = counter();
    let (blocker, _started, ended) = BlockOnDrop::new(BLOCKS);
    drop(rt.spawn(parked_forever(blocker)));
    for _ in 0..PARKED {
        drop(rt.spawn(parked_forever(DropGuard::new(&drops))));
    }
    assert!(eventually_blocking(
        || rt.handle().num_goroutine() == PARKED + 1
    ));
    let start = Instant::now();
    rt.shutdown_timeout(SHUTDOWN_TIMEOUT);
    let took = start.elapsed();
    assert!(
        took < BLOCKS + SHUTDOWN_BOUND,
        "shutdown_timeout({SHUTDOWN_TIMEOUT:?}) took {took:?} beside a {BLOCKS:?} destructor"
    );
    assert_eq!(count(&drops), PARKED, "every other future was dropped");
    assert!(eventually_blocking(|| ended.load(Ordering::SeqCst)));
}

// ---------------------------------------------------------------------------------------------
// Destructors that spawn

/// Spawns, when dropped, a task onto `handle` that sends `id` on `sent` (after a yield, so that
/// it really runs as a task of its own).
struct SpawnOnDrop {
    handle: Handle,
    id: usize,
    sent: mpsc::Sender<usize>,
}

impl Drop for SpawnOnDrop {
    fn drop(&mut self) {
        let (id, sent) = (self.id, self.sent.clone());
        drop(self.handle.spawn(async move {
            gort::task::yield_now().await;
            let _ = sent.send(id);
        }));
    }
}

/// Tasks that complete, dropping a value that spawns a task: as a local of an `async` block
/// (dropped inside the poll) and held by a hand-written future (dropped after the poll that
/// completed it, outside the task's poll). Every spawned task runs.
#[test]
fn tasks_spawned_by_destructors_of_completed_tasks_run() {
    const EACH: usize = 50;
    struct ReadyHolding(#[allow(dead_code)] SpawnOnDrop); // Held only to be dropped.
    impl Future for ReadyHolding {
        type Output = ();
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            Poll::Ready(())
        }
    }
    let _watchdog = watchdog(
        Duration::from_secs(60),
        "spawning destructors on completion",
    );
    let rt = runtime(2);
    let (sent, received) = mpsc::channel();
    for id in 0..2 * EACH {
        let spawner = SpawnOnDrop {
            handle: rt.handle().clone(),
            id,
            sent: sent.clone(),
        };
        if id < EACH {
            drop(rt.spawn(async move {
                let _spawner = spawner;
                gort::task::yield_now().await;
            }));
        } else {
            drop(rt.spawn(ReadyHolding(spawner)));
        }
    }
    let mut ran = receive_within(&received, 2 * EACH, LIMIT);
    ran.sort_unstable();
    assert_eq!(
        ran,
        indices(2 * EACH),
        "tasks spawned by destructors that ran"
    );
    assert_shuts_down_in_time(rt, "after spawning destructors");
}

/// Aborted tasks whose futures spawn a task when dropped: parked ones aborted from a plain
/// thread, ones aborted by another task before they were ever polled, and the members of a
/// dropped `JoinSet`. Every aborted handle reports cancellation and every spawned task runs.
#[test]
fn tasks_spawned_by_destructors_of_aborted_tasks_run() {
    const EACH: usize = 30;
    let _watchdog = watchdog(Duration::from_secs(60), "spawning destructors on abort");
    let rt = runtime(2);
    let (sent, received) = mpsc::channel();
    let spawner = |id: usize| SpawnOnDrop {
        handle: rt.handle().clone(),
        id,
        sent: sent.clone(),
    };

    // Parked, aborted from this thread.
    let mut flags = Vec::new();
    let parked: Vec<_> = (0..EACH)
        .map(|id| {
            let (park, parked) = record_pending(parked_forever(spawner(id)));
            flags.push(parked);
            rt.spawn(park)
        })
        .collect();
    assert!(eventually_blocking(|| flags
        .iter()
        .all(|p| p.load(Ordering::SeqCst))));
    for handle in &parked {
        handle.abort();
    }

    // Never polled: aborted by the task that spawned them, before it yields.
    let never_polled: Vec<_> = (EACH..2 * EACH).map(spawner).collect();
    let aborter = rt.spawn(async move {
        let handles: Vec<_> = never_polled
            .into_iter()
            .map(|spawner| gort::spawn(parked_forever(spawner)))
            .collect();
        for handle in &handles {
            handle.abort();
        }
        let mut cancelled = 0;
        for handle in handles {
            cancelled += usize::from(handle.await.expect_err("aborted").is_cancelled());
        }
        cancelled
    });

    // Members of a dropped JoinSet.
    let members: Vec<_> = (2 * EACH..3 * EACH).map(spawner).collect();
    let set_dropped = rt.spawn(async move {
        let mut set = JoinSet::new();
        for spawner in members {
            set.spawn(parked_forever(spawner));
        }
        gort::task::yield_now().await;
        drop(set);
    });

    let mut ran = receive_within(&received, 3 * EACH, LIMIT);
    ran.sort_unstable();
    assert_eq!(
        ran,
        indices(3 * EACH),
        "tasks spawned by aborted tasks' destructors"
    );
    rt.block_on(async {
        for handle in parked {
            let err = within(LIMIT, "an aborted task", handle)
                .await
                .expect_err("aborted");
            assert!(err.is_cancelled(), "{err:?}");
        }
        let cancelled = within(LIMIT, "the aborting task", aborter).await.unwrap();
        assert_eq!(cancelled, EACH, "never-polled tasks reported cancelled");
        within(LIMIT, "the JoinSet's task", set_dropped)
            .await
            .unwrap();
    });
    assert_shuts_down_in_time(rt, "after spawning destructors of aborted tasks");
}

// ---------------------------------------------------------------------------------------------
// A task that panics holding a lock

/// Runs `holder` (which takes the lock, says so on its first argument, waits for its second,
/// then panics holding it) beside `waiter` (which takes the lock and returns what it guards);
/// the waiter parks first, then the holder panics. The holder's handle reports its panic, and
/// the waiter gets the lock and sees the holder's write: the unwinding released the lock, and
/// gort's locks are not poisoned (tokio's are not either).
async fn check_lock_released_by_a_panic<H, W>(
    what: &str,
    holder: impl FnOnce(oneshot::Sender<()>, oneshot::Receiver<()>) -> H,
    waiter: W,
) where
    H: Future<Output = ()> + Send + 'static,
    W: Future<Output = u32> + Send + 'static,
{
    let (locked_tx, locked_rx) = oneshot::channel();
    let (panic_tx, panic_rx) = oneshot::channel();
    let holding = gort::spawn(holder(locked_tx, panic_rx));
    locked_rx.await.expect("the holder took the lock");
    let (wait, parked) = record_pending(waiter);
    let waiting = gort::spawn(wait);
    assert!(
        eventually(|| parked.load(Ordering::SeqCst)).await,
        "{what}: the waiter parked"
    );
    panic_tx.send(()).unwrap();
    let err = within(LIMIT, "the holder", holding)
        .await
        .expect_err("it panicked");
    assert!(err.is_panic(), "{what}: {err:?}");
    assert_eq!(panic_text(&*err.into_panic()), LOCK_PANIC, "{what}");
    let seen = within(
        LIMIT,
        "the waiter for a lock whose holder panicked",
        waiting,
    )
    .await
    .expect("the waiter");
    assert_eq!(seen, 1, "{what}: the waiter sees the holder's write");
}

#[test]
fn a_task_that_panics_holding_a_lock_releases_it() {
    silence_deliberate_panics();
    let _watchdog = watchdog(Duration::from_secs(60), "panic holding a lock");
    let rt = runtime(2);
    rt.block_on(async {
        let mutex = Arc::new(gort::sync::Mutex::new(0u32));
        let (held, waited) = (Arc::clone(&mutex), Arc::clone(&mutex));
        check_lock_released_by_a_panic(
            "Mutex",
            |locked, go| async move {
                let mut guard = held.lock().await;
                *guard += 1;
                locked.send(()).unwrap();
                let _ = go.await;
                if *guard == 1 {
                    panic!("{LOCK_PANIC}");
                }
            },
            async move { *waited.lock().await },
        )
        .await;

        let lock = Arc::new(gort::sync::RwLock::new(0u32));
        let (held, waited) = (Arc::clone(&lock), Arc::clone(&lock));
        check_lock_released_by_a_panic(
            "RwLock",
            |locked, go| async move {
                let mut guard = held.write().await;
                *guard += 1;
                locked.send(()).unwrap();
                let _ = go.await;
                if *guard == 1 {
                    panic!("{LOCK_PANIC}");
                }
            },
            async move { *waited.read().await },
        )
        .await;

        let semaphore = Arc::new(gort::sync::Semaphore::new(1));
        let (held, waited) = (Arc::clone(&semaphore), Arc::clone(&semaphore));
        check_lock_released_by_a_panic(
            "Semaphore",
            |locked, go| async move {
                let permit = held.acquire().await.expect("open");
                locked.send(()).unwrap();
                let _ = go.await;
                if held.available_permits() == 0 {
                    panic!("{LOCK_PANIC}");
                }
                drop(permit);
            },
            async move {
                let _permit = waited.acquire().await.expect("open");
                1
            },
        )
        .await;
        assert_eq!(semaphore.available_permits(), 1, "the permit came back");
    });
    assert_shuts_down_in_time(rt, "after panics holding locks");
}
