//! Loom model of the `block_in_place` race (`syscall.rs`): the M leaving and sysmon retaking the
//! P each try one CAS; exactly one of them ends up holding the P, and a retake never applies to
//! a later entry than the one sysmon observed.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p gort-executor --test loom_syscall --release`.
#![cfg(loom)]

use gort_executor::syscall::SyscallState;
use loom::sync::Arc;
use loom::thread;

#[test]
fn the_leaving_m_and_sysmon_never_both_hold_the_p() {
    loom::model(|| {
        let state = Arc::new(SyscallState::new());
        let entered = state.enter();
        let sysmon = {
            let state = Arc::clone(&state);
            thread::spawn(move || match state.observe() {
                Some(observed) => state.retake(observed),
                None => false,
            })
        };
        let kept = state.exit(entered);
        let retaken = sysmon.join().unwrap();
        assert!(kept != retaken, "kept {kept}, retaken {retaken}");
    });
}

#[test]
fn a_retake_never_applies_to_a_later_entry() {
    loom::model(|| {
        let state = Arc::new(SyscallState::new());
        let first = state.enter();
        let observed = state.observe().expect("inside the first entry");
        let sysmon = {
            let state = Arc::clone(&state);
            thread::spawn(move || state.retake(observed))
        };
        // The M leaves the first entry and enters again before sysmon acts.
        let kept = state.exit(first);
        let second = kept.then(|| state.enter());
        let retaken = sysmon.join().unwrap();
        assert!(kept != retaken);
        if let Some(second) = second {
            assert!(
                state.exit(second),
                "sysmon retook an entry it never observed"
            );
        }
    });
}
