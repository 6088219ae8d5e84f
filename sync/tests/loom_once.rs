//! loom models of the value slot under `OnceCell` and `SetOnce` (`src/once_slot.rs`, on loom's
//! mutex, atomics and cell): one write wins a `try_set` racing an initialiser; a guard dropped
//! without a value hands the gate to a contender parked on another thread; a waiter parked on
//! one thread is released by a `try_set` on another and reads the value. A lost wakeup shows as
//! a deadlock of `loom::future::block_on`; a read of the value racing its write, as loom's
//! cell error.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p gort-sync --test loom_once --release
//! --target-dir target/loom`.
#![cfg(loom)]

use gort_sync::once_slot::{Claimed, OnceSlot, Refused};
use loom::future::block_on;
use loom::sync::Arc;
use loom::thread;

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    builder.check(f);
}

/// A `try_set` on one thread races a claim-and-complete on another: exactly one value is
/// written, the loser learns why (value set) or reads the winner's value, and both see the
/// same value afterwards.
#[test]
fn a_try_set_racing_an_initialiser_writes_once() {
    model(|| {
        let slot = Arc::new(OnceSlot::<u32>::new());
        let setter = {
            let slot = Arc::clone(&slot);
            thread::spawn(move || match slot.try_set(1) {
                Ok(value) => *value,
                Err((_, Refused::Set | Refused::Claimed)) => 0,
            })
        };
        let initialised = match block_on(slot.claim()) {
            Claimed::Value(value) => *value,
            Claimed::Gate(guard) => *guard.complete(2),
        };
        let set = setter.join().unwrap();
        let value = *slot.get().expect("one of them wrote");
        assert_eq!(initialised, value);
        assert!(
            set == 0 || set == value,
            "the setter saw {set}, the cell holds {value}"
        );
        assert!(set == 1 || value == 2);
    });
}

/// The holder of the gate drops it without a value (a cancelled initialiser) while another
/// thread contends: that contender gets the gate, however the two interleave, and its value is
/// the one written.
#[test]
fn a_dropped_guard_hands_the_gate_to_a_contender_on_another_thread() {
    model(|| {
        let slot = Arc::new(OnceSlot::<u32>::new());
        let Claimed::Gate(guard) = block_on(slot.claim()) else {
            panic!("the first claim gets the gate");
        };
        let contender = {
            let slot = Arc::clone(&slot);
            thread::spawn(move || match block_on(slot.claim()) {
                Claimed::Gate(guard) => *guard.complete(7),
                Claimed::Value(_) => panic!("nobody else writes"),
            })
        };
        drop(guard);
        assert_eq!(contender.join().unwrap(), 7);
        assert_eq!(slot.get(), Some(&7));
    });
}

/// A waiter parked on one thread is released by a `try_set` on another and reads its value.
#[test]
fn a_waiter_is_released_by_a_set_on_another_thread() {
    model(|| {
        let slot = Arc::new(OnceSlot::<u32>::new());
        let setter = {
            let slot = Arc::clone(&slot);
            thread::spawn(move || {
                slot.try_set(5).expect("the only writer");
            })
        };
        match block_on(slot.wait()) {
            Claimed::Value(value) => assert_eq!(*value, 5),
            Claimed::Gate(_) => panic!("a waiter never contends"),
        }
        setter.join().unwrap();
    });
}

/// Two contenders, of which the first to get the gate fails (drops it) and the other writes:
/// the value is the writer's whichever order they run in, and neither parks forever.
#[test]
fn a_failing_initialiser_lets_the_other_contender_write() {
    model(|| {
        let slot = Arc::new(OnceSlot::<u32>::new());
        let failing = {
            let slot = Arc::clone(&slot);
            thread::spawn(move || {
                if let Claimed::Gate(guard) = block_on(slot.claim()) {
                    drop(guard);
                }
            })
        };
        let written = match block_on(slot.claim()) {
            Claimed::Gate(guard) => *guard.complete(3),
            Claimed::Value(value) => *value,
        };
        failing.join().unwrap();
        assert_eq!(written, 3);
        assert_eq!(slot.get(), Some(&3));
    });
}
