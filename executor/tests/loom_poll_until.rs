//! Loom model of the poller's bound (`poll_until.rs`): a timer armed while an M goes to sleep in
//! the netpoller is never slept through. Whatever the interleaving, either the poller's scan of
//! the timer sets sees the new deadline, or the arming thread learns it must break the wait (or
//! wake an idle M, which only happens when the poller had not begun and will therefore see it).
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p gort-executor --test loom_poll_until --release`.
#![cfg(loom)]

use gort_executor::poll_until::{OnArm, PollUntil};
use loom::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use loom::sync::Arc;
use loom::thread;

/// A timer set's earliest deadline when it has none (`Timers::next_nanos`).
const NO_TIMER: u64 = u64::MAX;

/// The new timer's deadline, and an earlier bound the poller may already have from another set.
const NEW_DEADLINE: u64 = 100;

/// One poller round against one arming thread. `other_set` is the earliest deadline of the
/// sets the arming thread does not touch.
fn poller_against_arming(other_set: u64) {
    loom::model(move || {
        let poll_until = Arc::new(PollUntil::new());
        // The arming thread's set: its earliest deadline, published with `Release` under the
        // set's lock in the real code (`Timers::publish_next`).
        let set = Arc::new(AtomicU64::new(NO_TIMER));
        // The poller's eventfd: a notification is latched until the wait consumes it.
        let notified = Arc::new(AtomicBool::new(false));

        let arming = {
            let (poll_until, set, notified) = (
                Arc::clone(&poll_until),
                Arc::clone(&set),
                Arc::clone(&notified),
            );
            thread::spawn(move || {
                set.store(NEW_DEADLINE, Ordering::Release);
                match poll_until.on_arm(NEW_DEADLINE) {
                    OnArm::BreakPoll => {
                        notified.store(true, Ordering::Release);
                        OnArm::BreakPoll
                    }
                    other => other,
                }
            })
        };
        let poller = {
            let (poll_until, set) = (Arc::clone(&poll_until), Arc::clone(&set));
            thread::spawn(move || {
                poll_until.begin();
                let earliest = set.load(Ordering::Acquire).min(other_set);
                let bound = (earliest != NO_TIMER).then_some(earliest);
                poll_until.publish(bound);
                bound
            })
        };
        let action = arming.join().unwrap();
        let bound = poller.join().unwrap();
        let woken_in_time = bound.is_some_and(|bound| bound <= NEW_DEADLINE);
        assert!(
            woken_in_time || notified.load(Ordering::Acquire),
            "the poller sleeps until {bound:?} past the new deadline and nobody breaks its \
             wait (arming thread did {action:?})"
        );
        // Waking an idle M is only right if the poller had not begun: then it saw the deadline.
        if action == OnArm::WakeIdle {
            assert!(
                woken_in_time,
                "told to wake an idle M while the poller slept through"
            );
        }
    });
}

#[test]
fn a_new_earliest_timer_is_never_slept_through() {
    poller_against_arming(NO_TIMER);
}

#[test]
fn a_later_timer_under_an_earlier_bound_needs_no_notification() {
    // The poller already wakes at 50 from another set; the new timer at 100 is covered either way.
    poller_against_arming(50);
}
