//! Leak detection (Go 1.26's goroutine leak profile, the GOLF patterns): a task parked on a
//! channel that no runnable task, timer, IO waiter, blocking call or outside handle can reach
//! is reported by `gc::leaks()`, with its id, spawn location and wait reason; the same pattern
//! with one handle kept by main is not; `gc::reclaim_leaks()` drops the leaked tasks' futures
//! and captures.
//!
//! Leaks are process-wide, so the tests take turns and each leaves no leak behind. The turn is
//! a std mutex held across awaits on purpose: each `#[gort::test]` is its own runtime on its
//! own test thread, and the lock only orders the tests.
#![allow(clippy::await_holding_lock)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::leaks::{leaks_once, settle, turn};
use common::watchdog;

/// Counts the drops of the captures it is part of.
#[derive(Clone)]
struct Witness(Arc<AtomicUsize>);

// SAFETY: holds no handle.
unsafe impl gort::gc::Trace for Witness {
    const NEEDS_TRACE: bool = false;
    fn trace(&self, _: &mut dyn gort::gc::Visitor) {}
}

impl Drop for Witness {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Reclaims whatever a test leaked and checks that the witnesses saw the captures dropped.
async fn reclaim(expected: usize, drops: &AtomicUsize, witnesses: usize) {
    let reclaimed = gort::gc::reclaim_leaks();
    assert_eq!(reclaimed.len(), expected, "reclaimed: {reclaimed:?}");
    for _ in 0..500 {
        if drops.load(Ordering::SeqCst) == witnesses {
            break;
        }
        gort::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(drops.load(Ordering::SeqCst), witnesses, "captures dropped");
    assert!(gort::gc::leaks().is_empty(), "nothing left leaked");
}

/// Two tasks, each waiting to receive on the channel the other would send on; each holds
/// its own receiver and the other's sender in its captures.
#[gort::test]
async fn two_tasks_waiting_on_each_other_are_leaked() {
    let _turn = turn();
    let _watchdog = watchdog(Duration::from_secs(60), "mutual wait");
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx1, rx1) = gort::chan![u32];
    let (tx2, rx2) = gort::chan![u32];
    let (w1, w2) = (Witness(Arc::clone(&drops)), Witness(Arc::clone(&drops)));
    let line = line!() + 1;
    gort::go!([rx1, tx2, w1] async move {
        let v = rx1.recv().await.unwrap_or(0);
        let _ = tx2.send(v + 1).await;
    });
    gort::go!([rx2, tx1, w2] async move {
        let v = rx2.recv().await.unwrap_or(0);
        let _ = tx1.send(v + 1).await;
    });
    let leaks = leaks_once(2).await;
    assert_eq!(leaks.len(), 2, "{leaks:?}");
    assert_eq!(leaks[0].location.line(), line);
    assert_eq!(leaks[1].location.line(), line + 4);
    assert_eq!(leaks[0].location.file(), file!());
    for leak in &leaks {
        assert_eq!(leak.wait_reason, "chan receive");
        assert!(
            leak.to_string().contains("[chan receive, leaked]"),
            "{leak}"
        );
    }
    reclaim(2, &drops, 2).await;
}

/// The same two tasks while main keeps one sender: main could still start the exchange, so
/// neither is leaked (no false positive).
#[gort::test]
async fn two_tasks_waiting_on_each_other_with_a_sender_kept_are_not_leaked() {
    let _turn = turn();
    let (tx1, rx1) = gort::chan![u32];
    let (tx2, rx2) = gort::chan![u32];
    let kept = tx1.clone();
    gort::go!([rx1, tx2] async move {
        let v = rx1.recv().await.unwrap_or(0);
        let _ = tx2.send(v + 1).await;
    });
    gort::go!([rx2, tx1] async move {
        let v = rx2.recv().await.unwrap_or(0);
        let _ = tx1.send(v + 1).await;
    });
    settle().await;
    assert_eq!(gort::gc::leaks(), Vec::new());
    // And it was real: main starts the exchange and both finish.
    kept.send(1).await.unwrap();
    settle().await;
    assert!(gort::gc::leaks().is_empty());
}

/// A forgotten receiver: a task waits on a channel whose only sender is its own (Go's `<-ch`
/// on a channel nothing else references).
#[gort::test]
async fn a_receiver_nobody_can_send_to_is_leaked() {
    let _turn = turn();
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = gort::chan![String];
    let witness = Witness(Arc::clone(&drops));
    gort::go!([tx, rx, witness] async move {
        let _ = rx.recv().await;
        let _ = tx;
    });
    let leaks = leaks_once(1).await;
    assert_eq!(leaks.len(), 1, "{leaks:?}");
    assert_eq!(leaks[0].wait_reason, "chan receive");
    reclaim(1, &drops, 1).await;
}

/// A worker that took jobs from a channel main keeps (parking on it, so the channel kept the
/// worker's finished waiter for reuse, with its waker), then waits for a reply nobody can
/// send: leaked, although a live channel still holds a waker of it from an earlier wait.
#[gort::test]
async fn a_task_that_parked_on_a_live_channel_before_is_still_found_leaked() {
    let _turn = turn();
    let drops = Arc::new(AtomicUsize::new(0));
    let (jobs_tx, jobs_rx) = gort::chan![u32];
    let (reply_tx, reply_rx) = gort::chan![String];
    let witness = Witness(Arc::clone(&drops));
    gort::go!([jobs_rx, reply_tx, reply_rx, witness] async move {
        // Parks here (main sends only after it has), and is woken by main's send.
        let _ = jobs_rx.recv().await;
        let _ = reply_rx.recv().await;
        let _ = reply_tx;
    });
    settle().await;
    jobs_tx.send(1).await.unwrap();
    let leaks = leaks_once(1).await;
    assert_eq!(leaks.len(), 1, "{leaks:?}");
    assert_eq!(leaks[0].wait_reason, "chan receive");
    reclaim(1, &drops, 1).await;
    drop(jobs_tx);
}

/// The same receiver while main keeps a sender: not leaked.
#[gort::test]
async fn a_receiver_main_can_send_to_is_not_leaked() {
    let _turn = turn();
    let (tx, rx) = gort::chan![String];
    let kept = tx.clone();
    gort::go!([tx, rx] async move {
        let _ = rx.recv().await;
        let _ = tx;
    });
    settle().await;
    assert_eq!(gort::gc::leaks(), Vec::new());
    kept.send("done".into()).await.unwrap();
}

/// Producers with no consumer (the Go release note's example): five tasks send their result
/// on a rendezvous channel, main takes the first and drops the receiver. The other four are
/// parked on `send` forever (dropping receivers does not close a Go channel).
#[gort::test]
async fn producers_whose_consumer_left_are_leaked() {
    let _turn = turn();
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = gort::chan![u32];
    for i in 0..5 {
        let tx = tx.clone();
        let witness = Witness(Arc::clone(&drops));
        gort::go!([tx, witness] async move {
            let _ = tx.send(i).await;
        });
    }
    drop(tx);
    let first = rx.recv().await;
    assert!(first.is_some());
    drop(rx);
    let leaks = leaks_once(4).await;
    assert_eq!(leaks.len(), 4, "{leaks:?}");
    assert!(leaks.iter().all(|leak| leak.wait_reason == "chan send"));
    // The one that delivered finished: its witness is already counted.
    reclaim(4, &drops, 5).await;
}

/// The same producers while main keeps the receiver: not leaked, and main drains them.
#[gort::test]
async fn producers_whose_consumer_stays_are_not_leaked() {
    let _turn = turn();
    let (tx, rx) = gort::chan![u32];
    for i in 0..5 {
        let tx = tx.clone();
        gort::go!([tx] async move {
            let _ = tx.send(i).await;
        });
    }
    drop(tx);
    assert!(rx.recv().await.is_some());
    settle().await;
    assert_eq!(gort::gc::leaks(), Vec::new());
    let mut rest = 0;
    while rx.recv().await.is_some() {
        rest += 1;
    }
    assert_eq!(rest, 4);
}

/// Tasks that can still be woken by something other than a channel are never reported: a
/// select with a timer arm, a task whose sender lives in another task's (opaque) future while
/// that one sleeps, and a task awaiting another's `JoinHandle`. A task parked on `pending()`
/// with no waker anywhere can never be woken: that one is leaked.
#[gort::test]
async fn tasks_a_timer_or_an_opaque_future_can_wake_are_not_leaked() {
    let _turn = turn();
    let (tx, rx) = gort::chan![u32];
    let (tx2, rx2) = gort::chan![u32];
    gort::go!([rx] async move {
        gort::select! {
            _ = rx.recv() => {}
            _ = gort::time::sleep(Duration::from_millis(300)) => {}
        }
    });
    gort::go!(async move {
        gort::time::sleep(Duration::from_millis(300)).await;
        let _ = tx2.send(1).await;
    });
    gort::go!([rx2] async move {
        let _ = rx2.recv().await;
    });
    // A plain task is opaque to the leak pass (only `go!` captures make a task a node), so
    // this one is never reported; the captured task awaiting it holds no channel at all, and
    // its waker sits in the awaited task's header: unexplained, so it is live.
    let forever = gort::spawn(std::future::pending::<()>());
    let (done_tx, done_rx) = gort::chan![bool; 1];
    gort::go!([done_tx] async move {
        let joined = forever.await;
        let _ = done_tx.send(joined.is_err()).await;
    });
    let pending_line = line!() + 1;
    gort::go!([] std::future::pending::<()>());
    settle().await;
    let leaks = gort::gc::leaks();
    assert_eq!(leaks.len(), 1, "{leaks:?}");
    assert_eq!(leaks[0].location.line(), pending_line);
    assert_eq!(leaks[0].wait_reason, "pending (no waker)");
    assert_eq!(gort::gc::reclaim_leaks().len(), 1);
    assert!(gort::gc::leaks().is_empty());
    assert_eq!(
        done_rx.try_recv().ok(),
        None,
        "the awaiter is still waiting"
    );
    drop(tx);
}

/// The value held by the self-referencing channels below.
#[derive(gort::gc::Trace)]
struct Holder(gort::Receiver<Holder>, gort::Sender<u8>, Witness);

/// A task parked on a channel whose last sender sits in a garbage cycle is not leaked: freeing
/// the garbage drops that sender, which closes the channel and wakes the task (Go treats
/// finalizers the same way). A collection does exactly that.
#[gort::test]
async fn a_task_whose_last_sender_is_in_garbage_is_woken_not_leaked() {
    let _turn = turn();
    let drops = Arc::new(AtomicUsize::new(0));
    let (htx, hrx) = gort::chan![Holder; 1];
    let (btx, brx) = gort::chan![u8];
    let unused = Witness(Arc::new(AtomicUsize::new(0)));
    assert!(htx.try_send(Holder(hrx, btx, unused)).is_ok(), "room");
    drop(htx);
    let witness = Witness(Arc::clone(&drops));
    gort::go!([brx, witness] async move {
        assert_eq!(brx.recv().await, None, "closed by the collector");
    });
    settle().await;
    assert_eq!(gort::gc::leaks(), Vec::new());
    for _ in 0..500 {
        if drops.load(Ordering::SeqCst) == 1 {
            break;
        }
        gort::time::sleep(Duration::from_millis(2)).await;
    }
    assert_eq!(drops.load(Ordering::SeqCst), 1, "the task finished");
}

/// A channel cycle that a parked task is part of (its captures hold the cycle's sender, the
/// cycle holds the sender of the channel it waits on): the task is leaked; once reclaimed,
/// the cycle is garbage and the collector frees it.
#[gort::test]
async fn tasks_parked_on_a_channel_cycle_are_leaked_and_reclaimed_with_it() {
    let _turn = turn();
    let drops = Arc::new(AtomicUsize::new(0));
    let cycle_drops = Arc::new(AtomicUsize::new(0));
    let (htx, hrx) = gort::chan![Holder; 1];
    let (btx, brx) = gort::chan![u8];
    let in_cycle = Witness(Arc::clone(&cycle_drops));
    assert!(htx.try_send(Holder(hrx, btx, in_cycle)).is_ok(), "room");
    let witness = Witness(Arc::clone(&drops));
    gort::go!([brx, htx, witness] async move {
        let _ = brx.recv().await;
        let _ = htx;
    });
    let leaks = leaks_once(1).await;
    assert_eq!(leaks.len(), 1, "{leaks:?}");
    assert_eq!(
        cycle_drops.load(Ordering::SeqCst),
        0,
        "retained by the leaked task"
    );
    reclaim(1, &drops, 1).await;
    gort::gc::collect();
    assert_eq!(cycle_drops.load(Ordering::SeqCst), 1, "the cycle is freed");
}

/// `GORT_DEBUG=leakcheck=1` turns every collection into a leak pass that prints each leaked
/// task once, with its id, wait reason and spawn location. The setting is read once per
/// process, so the test runs itself in a child process with it set.
#[test]
fn leakcheck_prints_each_leak_once() {
    if std::env::var_os("GORT_TEST_LEAKCHECK_CHILD").is_some() {
        let runtime = common::runtime(1);
        runtime.block_on(async {
            let (tx, rx) = gort::chan![u32];
            let line = line!() + 1;
            gort::go!([tx, rx] async move {
                let _ = rx.recv().await;
                let _ = tx;
            });
            settle().await;
            gort::gc::collect();
            gort::gc::collect();
            println!("SPAWNED_AT {}:{line}", file!());
            assert_eq!(gort::gc::reclaim_leaks().len(), 1);
        });
        return;
    }
    let _turn = turn();
    let child = common::rerun_in_child(
        "leakcheck_prints_each_leak_once",
        &[
            ("GORT_TEST_LEAKCHECK_CHILD", "1"),
            ("GORT_DEBUG", "leakcheck=1"),
        ],
    );
    let (stdout, stderr) = (&child.stdout, &child.stderr);
    let spawned_at = stdout
        .lines()
        .find_map(|line| line.split("SPAWNED_AT ").nth(1))
        .expect("child printed its spawn location");
    let reports: Vec<&str> = stderr
        .lines()
        .filter(|line| line.contains("leaked]"))
        .collect();
    assert_eq!(
        reports.len(),
        1,
        "one report for two collections:\n{stderr}"
    );
    assert!(reports[0].starts_with("gort: goroutine "), "{}", reports[0]);
    assert!(
        reports[0].contains("[chan receive, leaked]: spawned at "),
        "{}",
        reports[0]
    );
    assert!(
        reports[0].contains(spawned_at),
        "{} should name {spawned_at}",
        reports[0]
    );
}
