//! Loom models of the run queue (`queue.rs`): every pushed task is received by exactly one
//! consumer under all interleavings of the owner's push/pop/overflow and thieves' steal-half.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p gort-executor --test loom_queue --release`.
//! Under `cfg(loom)` the ring has 4 slots, so overflow and wrap-around are reached within the
//! model's budget.
#![cfg(loom)]

use std::ptr::NonNull;

use gort_executor::queue::{RunQueue, CAPACITY};
use loom::sync::Arc;
use loom::thread;

/// A distinct fake task pointer for index `i` (the queue never dereferences it).
fn task(i: usize) -> NonNull<()> {
    NonNull::new(std::ptr::without_provenance_mut(i + 1)).unwrap()
}

fn id(ptr: NonNull<()>) -> usize {
    ptr.as_ptr().addr() - 1
}

/// Asserts that `received` is exactly `0..count`, each once.
fn assert_exactly_once(mut received: Vec<usize>, count: usize) {
    received.sort_unstable();
    assert_eq!(
        received,
        (0..count).collect::<Vec<_>>(),
        "lost or duplicated tasks"
    );
}

/// Steals from `victim` into a fresh queue and drains it.
fn steal_all(victim: &RunQueue) -> Vec<usize> {
    let thief = RunQueue::new();
    // SAFETY: `thief` is private to the calling thread.
    let local = unsafe { thief.local() };
    let mut got = Vec::new();
    if let Some(first) = local.steal_from(victim) {
        got.push(id(first));
        got.extend(std::iter::from_fn(|| local.pop()).map(id));
    }
    got
}

#[test]
fn push_pop_against_one_steal() {
    loom::model(|| {
        let victim = Arc::new(RunQueue::new());
        let thief = {
            let victim = victim.clone();
            thread::spawn(move || steal_all(&victim))
        };
        // SAFETY: this thread is the victim's only owner.
        let local = unsafe { victim.local() };
        let mut got = Vec::new();
        for i in 0..3 {
            local.push_back(task(i)).unwrap();
        }
        got.extend(std::iter::from_fn(|| local.pop()).map(id));
        got.extend(thief.join().unwrap());
        assert_exactly_once(got, 3);
    });
}

#[test]
fn overflow_against_one_steal() {
    loom::model(|| {
        let victim = Arc::new(RunQueue::new());
        // SAFETY: this thread is the victim's only owner.
        let local = unsafe { victim.local() };
        for i in 0..CAPACITY {
            local.push_back(task(i)).unwrap();
        }
        let thief = {
            let victim = victim.clone();
            thread::spawn(move || steal_all(&victim))
        };
        let mut got = Vec::new();
        // The ring is full unless the thief got in first; either way nothing is lost.
        if let Err(batch) = local.push_back(task(CAPACITY)) {
            assert_eq!(
                batch.len(),
                CAPACITY / 2 + 1,
                "overflow moves half plus the new task"
            );
            got.extend(batch.into_iter().map(id));
        }
        got.extend(std::iter::from_fn(|| local.pop()).map(id));
        got.extend(thief.join().unwrap());
        assert_exactly_once(got, CAPACITY + 1);
    });
}

#[test]
fn two_thieves_and_the_owner_pop() {
    loom::model(|| {
        let victim = Arc::new(RunQueue::new());
        // SAFETY: this thread is the victim's only owner.
        let local = unsafe { victim.local() };
        for i in 0..3 {
            local.push_back(task(i)).unwrap();
        }
        let thieves: Vec<_> = (0..2)
            .map(|_| {
                let victim = victim.clone();
                thread::spawn(move || steal_all(&victim))
            })
            .collect();
        let mut got: Vec<usize> = local.pop().map(id).into_iter().collect();
        for thief in thieves {
            got.extend(thief.join().unwrap());
        }
        got.extend(std::iter::from_fn(|| local.pop()).map(id));
        assert_exactly_once(got, 3);
    });
}

#[test]
fn wrap_around_with_concurrent_steal() {
    loom::model(|| {
        let victim = Arc::new(RunQueue::new());
        // SAFETY: this thread is the victim's only owner.
        let local = unsafe { victim.local() };
        let mut got = Vec::new();
        // Move head and tail past the end of the ring once.
        for i in 0..CAPACITY - 1 {
            local.push_back(task(i)).unwrap();
            got.extend(local.pop().map(id));
        }
        for i in CAPACITY - 1..CAPACITY + 1 {
            local.push_back(task(i)).unwrap();
        }
        let thief = {
            let victim = victim.clone();
            thread::spawn(move || steal_all(&victim))
        };
        local.push_back(task(CAPACITY + 1)).unwrap();
        got.extend(std::iter::from_fn(|| local.pop()).map(id));
        got.extend(thief.join().unwrap());
        assert_exactly_once(got, CAPACITY + 2);
    });
}
