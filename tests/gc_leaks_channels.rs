//! Leak detection through `gort::sync::{broadcast, watch}`: their state is in the GC arena and
//! their handles are edges, so a `go!` task parked on one of them that nothing live can send to
//! or close is reported by `gc::leaks()` with the channel's wait reason (`broadcast receive`,
//! `broadcast closed`, `watch changed`, `watch closed`); the same wait on a channel a live
//! owner still holds is not, and completes when that owner acts.
//!
//! Leaks are process-wide, so the tests take turns (a std mutex held across awaits on purpose:
//! each `#[gort::test]` is its own runtime on its own thread, the lock only orders the tests).
#![allow(clippy::await_holding_lock)]

mod common;

use gort::gc::{Edge, Gc, Leak, Trace, Visitor};
use gort::sync::{broadcast, watch};

use common::leaks::{leaks_once, settle, turn};

/// Spawns a `go!` task stuck for good (it waits on a channel only it holds) that captures
/// `$held` and would run `$then` with it after the wait: a holder of `$held` nothing live can
/// reach, which the leak pass reports as `chan receive`.
macro_rules! stuck_task_holding {
    ($held:ident, $then:expr) => {{
        let (stuck_tx, stuck_rx) = gort::chan![(); 0];
        gort::go!([$held, stuck_tx, stuck_rx] async move {
            let _ = stuck_rx.recv().await;
            let _ = ($then, stuck_tx);
        });
    }};
}

/// The reasons of `leaks`, sorted, to compare with what a test expects.
fn reasons(leaks: &[Leak]) -> Vec<&'static str> {
    let mut reasons: Vec<_> = leaks.iter().map(|leak| leak.wait_reason).collect();
    reasons.sort_unstable();
    reasons
}

/// The leak with `reason` (a test's leaks have distinct reasons).
fn leak_for<'a>(leaks: &'a [Leak], reason: &str) -> &'a Leak {
    leaks
        .iter()
        .find(|leak| leak.wait_reason == reason)
        .unwrap_or_else(|| panic!("no leak waits for {reason}: {leaks:?}"))
}

/// Reclaims the `expected` leaked tasks of a test and checks that none is left.
fn reclaim(expected: usize) {
    let reclaimed = gort::gc::reclaim_leaks();
    assert_eq!(reclaimed.len(), expected, "reclaimed: {reclaimed:?}");
    assert!(gort::gc::leaks().is_empty(), "nothing left leaked");
}

/// A receiver a `go!` body can wait with through `&mut` across an `.await`. `go!` hands its
/// body shared references to the captures while `recv` and `changed` take `&mut self`; gort's
/// async `Mutex` gives that `&mut` for the whole wait, but its data is opaque to the collector,
/// so the cell reports the receiver's edges itself, recorded from the receiver's own `Trace`
/// when the cell is made.
struct Exclusive<R> {
    edges: Vec<Edge>,
    receiver: gort::sync::Mutex<R>,
}

/// Collects the edges a value reports.
struct Record<'a>(&'a mut Vec<Edge>);

impl Visitor for Record<'_> {
    fn visit(&mut self, edge: Edge) {
        self.0.push(edge);
    }
}

impl<R: Trace> Exclusive<R> {
    fn new(receiver: R) -> Exclusive<R> {
        let mut edges = Vec::new();
        receiver.trace(&mut Record(&mut edges));
        assert_eq!(edges.len(), 1, "a channel handle is one edge");
        Exclusive {
            edges,
            receiver: gort::sync::Mutex::new(receiver),
        }
    }
}

// SAFETY: the cell owns its receiver for its whole life (nothing takes it out or replaces
// it), and a broadcast or watch receiver keeps the one channel handle it was made with, so the
// edges recorded at construction are exactly the handles the cell owns.
unsafe impl<R> Trace for Exclusive<R> {
    fn trace(&self, visitor: &mut dyn Visitor) {
        for edge in &self.edges {
            visitor.visit(*edge);
        }
    }
}

/// A task receiving on a broadcast channel whose only sender is captured by another task, one
/// stuck for good on a channel only it holds: both are leaked, the receiver with
/// `broadcast receive` at its `go!` line.
#[gort::test]
async fn a_broadcast_receiver_only_a_leaked_task_can_send_to_is_leaked() {
    let _turn = turn();
    let (tx, rx) = broadcast::channel::<u32>(4);
    stuck_task_holding!(tx, tx.send(1));
    let rx = Exclusive::new(rx);
    let line = line!() + 1;
    gort::go!([rx] async move {
        let _ = rx.receiver.lock().await.recv().await;
    });
    let leaks = leaks_once(2).await;
    assert_eq!(reasons(&leaks), ["broadcast receive", "chan receive"]);
    assert_eq!(leak_for(&leaks, "broadcast receive").location.line(), line);
    reclaim(2);
}

/// The same receiver while main keeps a sender: it is not leaked, and gets what main sends.
#[gort::test]
async fn a_broadcast_receiver_main_can_send_to_is_not_leaked() {
    let _turn = turn();
    let (tx, rx) = broadcast::channel::<u32>(4);
    let (got_tx, got_rx) = gort::chan![u32; 1];
    let rx = Exclusive::new(rx);
    gort::go!([rx, got_tx] async move {
        let value = rx.receiver.lock().await.recv().await.unwrap();
        let _ = got_tx.send(value).await;
    });
    settle().await;
    assert_eq!(gort::gc::leaks(), Vec::new());
    tx.send(7).unwrap();
    assert_eq!(got_rx.recv().await, Some(7));
}

/// A weak sender keeps a parked receiver reachable (it can upgrade and send): with the strong
/// sender captured by a task stuck for good and only a weak sender in main, the stuck task is
/// leaked but the receiver is not, and it gets what main sends through the upgraded sender.
#[gort::test]
async fn a_weak_sender_main_keeps_holds_the_receiver_live() {
    let _turn = turn();
    let (tx, rx) = broadcast::channel::<u32>(4);
    let weak = tx.downgrade();
    stuck_task_holding!(tx, tx.send(1));
    let (got_tx, got_rx) = gort::chan![u32; 1];
    let rx = Exclusive::new(rx);
    gort::go!([rx, got_tx] async move {
        let value = rx.receiver.lock().await.recv().await.unwrap();
        let _ = got_tx.send(value).await;
    });
    settle().await;
    let leaks = leaks_once(1).await;
    assert_eq!(reasons(&leaks), ["chan receive"], "only the stuck task");
    let tx = weak.upgrade().expect("the stuck task's sender is alive");
    tx.send(9).unwrap();
    assert_eq!(got_rx.recv().await, Some(9));
    reclaim(1);
}

/// `Sender::closed` waits for the last receiver to go; with that receiver captured by a task
/// stuck for good, the waiting task is leaked with `broadcast closed`.
#[gort::test]
async fn a_broadcast_closed_wait_on_a_leaked_receiver_is_leaked() {
    let _turn = turn();
    let (tx, rx) = broadcast::channel::<u32>(4);
    stuck_task_holding!(rx, rx);
    let line = line!() + 1;
    gort::go!([tx] async move {
        tx.closed().await;
    });
    let leaks = leaks_once(2).await;
    assert_eq!(reasons(&leaks), ["broadcast closed", "chan receive"]);
    assert_eq!(leak_for(&leaks, "broadcast closed").location.line(), line);
    reclaim(2);
}

/// A task waiting for a change of a watch channel whose only sender (held in the arena, in a
/// `Gc`) is captured by a task stuck for good: both are leaked, the waiter with
/// `watch changed` at its `go!` line.
#[gort::test]
async fn a_watch_receiver_only_a_leaked_task_can_change_is_leaked() {
    let _turn = turn();
    let (tx, rx) = watch::channel(0u32);
    let tx = Gc::new(tx);
    stuck_task_holding!(tx, tx.send(1));
    let rx = Exclusive::new(rx);
    let line = line!() + 1;
    gort::go!([rx] async move {
        let _ = rx.receiver.lock().await.changed().await;
    });
    let leaks = leaks_once(2).await;
    assert_eq!(reasons(&leaks), ["chan receive", "watch changed"]);
    assert_eq!(leak_for(&leaks, "watch changed").location.line(), line);
    reclaim(2);
}

/// `wait_for` parks as `changed` does: with nobody live to send, the task is leaked too.
#[gort::test]
async fn a_watch_wait_for_nobody_can_satisfy_is_leaked() {
    let _turn = turn();
    let (tx, rx) = watch::channel(0u32);
    stuck_task_holding!(tx, tx.send(1));
    let rx = Exclusive::new(rx);
    gort::go!([rx] async move {
        let mut rx = rx.receiver.lock().await;
        let _ = rx.wait_for(|value| *value > 0).await.is_ok();
    });
    let leaks = leaks_once(2).await;
    assert_eq!(reasons(&leaks), ["chan receive", "watch changed"]);
    reclaim(2);
}

/// The same `changed` wait while main keeps the sender: not leaked, and woken by main's send.
#[gort::test]
async fn a_watch_receiver_main_can_change_is_not_leaked() {
    let _turn = turn();
    let (tx, rx) = watch::channel(0u32);
    let (got_tx, got_rx) = gort::chan![u32; 1];
    let rx = Exclusive::new(rx);
    gort::go!([rx, got_tx] async move {
        let mut rx = rx.receiver.lock().await;
        rx.changed().await.unwrap();
        let value = *rx.borrow_and_update();
        let _ = got_tx.send(value).await;
    });
    settle().await;
    assert_eq!(gort::gc::leaks(), Vec::new());
    tx.send(5).unwrap();
    assert_eq!(got_rx.recv().await, Some(5));
}

/// A watch `Sender::closed` whose last receiver is captured by a task stuck for good is leaked
/// with `watch closed`; one whose receiver main keeps is not, and completes when main drops it.
#[gort::test]
async fn a_watch_closed_wait_leaks_only_when_no_live_receiver_is_left() {
    let _turn = turn();
    let (tx, rx) = watch::channel(0u32);
    stuck_task_holding!(rx, rx);
    let line = line!() + 1;
    gort::go!([tx] async move {
        tx.closed().await;
    });
    let leaks = leaks_once(2).await;
    assert_eq!(reasons(&leaks), ["chan receive", "watch closed"]);
    assert_eq!(leak_for(&leaks, "watch closed").location.line(), line);
    reclaim(2);

    let (tx, rx) = watch::channel(0u32);
    let (done_tx, done_rx) = gort::chan![(); 1];
    gort::go!([tx, done_tx] async move {
        tx.closed().await;
        let _ = done_tx.send(()).await;
    });
    settle().await;
    assert_eq!(gort::gc::leaks(), Vec::new());
    drop(rx);
    assert_eq!(done_rx.recv().await, Some(()));
}
