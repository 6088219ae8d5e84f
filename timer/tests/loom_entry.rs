//! Loom models of `TimerEntry` (`entry.rs`): the generation + fired bit that lets a timer be
//! fired by whichever M runs its heap while its owner polls, resets or drops it on another
//! thread, with no lock and no search of the heap.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p gort-timer --test loom_entry --release`.
//! The waker slot is `futures`' `AtomicWaker`, whose own atomics loom does not interleave; the
//! models check the entry's protocol around it (register, then re-check; fire, then take).
#![cfg(loom)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Wake, Waker};

use gort_timer::TimerEntry;
use loom::sync::Arc;
use loom::thread;

/// A waker that counts its wakes.
struct Count(AtomicUsize);

impl Wake for Count {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counted() -> (std::sync::Arc<Count>, Waker) {
    let count = std::sync::Arc::new(Count(AtomicUsize::new(0)));
    let waker = Waker::from(std::sync::Arc::clone(&count));
    (count, waker)
}

/// A `Sleep` polled (register, re-check) while an M fires its arming: if the poll saw it
/// unfired (`Pending`), the fire woke the registered waker. No lost wakeup.
#[test]
fn a_poll_racing_the_fire_is_woken_or_sees_it_fired() {
    loom::model(|| {
        let entry = Arc::new(TimerEntry::new());
        let (generation, _) = entry.rearm();
        let (count, waker) = counted();
        let firer = {
            let entry = Arc::clone(&entry);
            thread::spawn(move || {
                if let Some(waker) = entry.fire(generation) {
                    waker.wake();
                }
            })
        };
        let owner = {
            let entry = Arc::clone(&entry);
            thread::spawn(move || {
                entry.register(&waker);
                entry.has_fired(generation)
            })
        };
        let ready = owner.join().unwrap();
        firer.join().unwrap();
        assert!(entry.has_fired(generation));
        if !ready {
            assert_eq!(
                count.0.load(Ordering::SeqCst),
                1,
                "Pending, and never woken"
            );
        }
    });
}

/// An M firing a record while the owner cancels and re-arms (a `Sleep::reset`): the old record
/// fires at most once, never once the cancel has landed, and the new arming is never marked
/// fired by the old record.
#[test]
fn a_fire_racing_a_reset_fires_only_the_arming_it_belongs_to() {
    loom::model(|| {
        let entry = Arc::new(TimerEntry::new());
        let (first, _) = entry.rearm();
        let (count, waker) = counted();
        entry.register(&waker);
        let firer = {
            let entry = Arc::clone(&entry);
            thread::spawn(move || match entry.fire(first) {
                Some(waker) => {
                    waker.wake();
                    true
                }
                None => false,
            })
        };
        let owner = {
            let entry = Arc::clone(&entry);
            thread::spawn(move || {
                let (second, first_was_pending) = entry.rearm();
                (second, first_was_pending)
            })
        };
        let fired_first = firer.join().unwrap();
        let (second, first_was_pending) = owner.join().unwrap();
        // Exactly one of the two won: the fire (then the cancel found it fired) or the cancel
        // (then the record was a zombie when the M reached it).
        assert_ne!(
            fired_first, first_was_pending,
            "fire and cancel both won or both lost"
        );
        assert_eq!(count.0.load(Ordering::SeqCst), usize::from(fired_first));
        assert!(
            !entry.has_fired(second),
            "the stale record fired the new arming"
        );
        assert!(!entry.is_stale(second));
        assert!(entry.is_stale(first));
    });
}
