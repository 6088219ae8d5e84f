//! Leak detection through `gort::sync::{WaitGroup, Barrier}`: their state is in the GC arena,
//! so a task captured by `go!` that waits on one nothing live can complete is reported by
//! `gc::leaks()` with Go's wait reason (`sync.WaitGroup.Wait`, `sync.Barrier.wait`); the same
//! pattern with a handle kept by main is not.
//!
//! Leaks are process-wide, so the tests take turns (a std mutex held across awaits on purpose:
//! each `#[gort::test]` is its own runtime on its own thread, the lock only orders the tests).
#![allow(clippy::await_holding_lock)]

mod common;

use gort::gc::Gc;
use gort::sync::{Barrier, WaitGroup};

use common::leaks::{leaks_once, settle, turn};

/// A task waiting on a wait group whose only other handle is its own (nobody can call
/// `done`) is leaked, with Go's wait reason; reclaiming it leaves nothing behind.
#[gort::test]
async fn a_wait_group_nobody_can_finish_leaks_its_waiter() {
    let _turn = turn();
    let wg = WaitGroup::new();
    wg.add(1);
    let line = line!() + 1;
    gort::go!([wg] async move {
        wg.wait().await;
    });
    let leaks = leaks_once(1).await;
    assert_eq!(leaks.len(), 1, "{leaks:?}");
    assert_eq!(leaks[0].wait_reason, "sync.WaitGroup.Wait");
    assert_eq!(leaks[0].location.line(), line);
    assert_eq!(gort::gc::reclaim_leaks().len(), 1);
    assert!(gort::gc::leaks().is_empty());
}

/// The same waiter while main keeps a clone: main can still call `done`, so it is not leaked,
/// and it finishes when main does.
#[gort::test]
async fn a_wait_group_main_can_finish_is_not_leaked() {
    let _turn = turn();
    let wg = WaitGroup::new();
    wg.add(1);
    let kept = wg.clone();
    let (done_tx, done_rx) = gort::chan![(); 1];
    gort::go!([wg, done_tx] async move {
        wg.wait().await;
        let _ = done_tx.send(()).await;
    });
    settle().await;
    assert_eq!(gort::gc::leaks(), Vec::new());
    kept.done();
    assert_eq!(done_rx.recv().await, Some(()));
}

/// A barrier of two in the arena (`Gc<Barrier>`) captured by a single task that waits on it:
/// the second arrival can never come, so the task is leaked with the barrier's wait reason.
#[gort::test]
async fn a_barrier_nobody_else_can_reach_leaks_its_waiter() {
    let _turn = turn();
    let barrier = Gc::new(Barrier::new(2));
    gort::go!([barrier] async move {
        barrier.wait().await;
    });
    let leaks = leaks_once(1).await;
    assert_eq!(leaks.len(), 1, "{leaks:?}");
    assert_eq!(leaks[0].wait_reason, "sync.Barrier.wait");
    assert_eq!(gort::gc::reclaim_leaks().len(), 1);
    assert!(gort::gc::leaks().is_empty());
}
