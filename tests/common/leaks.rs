//! Helpers of the leak-pass tests (`gc_leaks*.rs`): leaks are process-wide, so the tests of one
//! binary take turns, let their tasks park, then ask for the leaks until the expected ones show.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use gort::gc::Leak;

static TURNS: Mutex<()> = Mutex::new(());

/// This test's turn: held for the whole test (a std mutex held across awaits on purpose: each
/// `#[gort::test]` is its own runtime on its own thread, the lock only orders the tests).
pub fn turn() -> MutexGuard<'static, ()> {
    TURNS.lock().unwrap_or_else(|e| e.into_inner())
}

/// Lets spawned tasks run until they park.
pub async fn settle() {
    for _ in 0..20 {
        gort::task::yield_now().await;
    }
    gort::time::sleep(Duration::from_millis(20)).await;
}

/// The leaks a pass reports once `expected` of them are there (tasks park asynchronously), or
/// whatever it reports after a few seconds.
pub async fn leaks_once(expected: usize) -> Vec<Leak> {
    let mut leaks = Vec::new();
    for _ in 0..200 {
        leaks = gort::gc::leaks();
        if leaks.len() >= expected {
            break;
        }
        gort::time::sleep(Duration::from_millis(10)).await;
    }
    leaks
}
