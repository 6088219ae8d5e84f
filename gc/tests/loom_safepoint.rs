//! loom model of the stop-the-world handshake (`src/safepoint.rs`): a collector that stops
//! the world never overlaps a mutator's pinned section, and a mutator that finds a stop in
//! progress waits for the resume instead of being lost.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p gort-gc --test loom_safepoint --release`.

#![cfg(loom)]

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::Arc;
use loom::thread;

use gort_gc::safepoint::World;

/// Runs `model` under loom with a preemption bound (the spin-waits otherwise explode the
/// state space; three preemptions cover every interleaving of the two-sided handshake).
fn check(model: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    builder.check(model);
}

/// A mutator pins, bumps a counter twice inside its pinned section (a "handle operation" the
/// collector must see whole), unpins, and does it again; the collector stops the world and
/// reads the counter, which must be even (no section half done) and stay put while stopped.
/// The second section may find the stop in progress and must wait for the resume.
#[test]
fn a_stopped_world_never_overlaps_a_pinned_section() {
    check(|| {
        let world = Arc::new(World::new());
        let counter = Arc::new(AtomicUsize::new(0));
        let slot = world.register();
        let mutator = {
            let world = Arc::clone(&world);
            let counter = Arc::clone(&counter);
            thread::spawn(move || {
                for _ in 0..2 {
                    world.pin(&slot);
                    counter.fetch_add(1, Ordering::Relaxed);
                    counter.fetch_add(1, Ordering::Relaxed);
                    world.unpin(&slot);
                }
            })
        };
        world.stop();
        let seen = counter.load(Ordering::Relaxed);
        assert_eq!(seen % 2, 0, "a pinned section was running during the stop");
        thread::yield_now();
        assert_eq!(
            counter.load(Ordering::Relaxed),
            seen,
            "a mutator ran while stopped"
        );
        world.resume();
        mutator.join().unwrap();
        assert_eq!(counter.load(Ordering::Relaxed), 4);
    });
}

/// A thread without a slot pins through the shared counter, with the same guarantee.
#[test]
fn anonymous_pins_are_waited_for_too() {
    check(|| {
        let world = Arc::new(World::new());
        let counter = Arc::new(AtomicUsize::new(0));
        let mutator = {
            let world = Arc::clone(&world);
            let counter = Arc::clone(&counter);
            thread::spawn(move || {
                world.pin_anonymous();
                counter.fetch_add(1, Ordering::Relaxed);
                counter.fetch_add(1, Ordering::Relaxed);
                world.unpin_anonymous();
            })
        };
        world.stop();
        let seen = counter.load(Ordering::Relaxed);
        assert_eq!(seen % 2, 0);
        world.resume();
        mutator.join().unwrap();
        assert_eq!(counter.load(Ordering::Relaxed), 2);
    });
}

/// A stop that gives up on a pinned thread publishes it as the straggler (`defer_on`) while
/// that thread unpins: whichever order the two go in, the straggler is cleared once the
/// section is over (by the unpin, or by `defer_on` itself seeing it over), so a collection
/// waiting for it is never left waiting for a section that ended.
#[test]
fn a_straggler_that_unpins_while_it_is_published_is_never_waited_for_forever() {
    check(|| {
        let world = Arc::new(World::new());
        let slot = world.register();
        world.pin(&slot);
        let mutator = {
            let world = Arc::clone(&world);
            let slot = Arc::clone(&slot);
            thread::spawn(move || world.unpin(&slot))
        };
        // The collector: a stop that gives up at once names the pinned slot.
        let straggler = match world.try_stop(&mut || true) {
            Err(Some(straggler)) => straggler,
            Ok(()) => {
                // The unpin came first: nothing to wait for.
                world.resume();
                mutator.join().unwrap();
                assert!(!world.deferred());
                return;
            }
            Err(None) => unreachable!("no anonymous pin in this model"),
        };
        world.resume();
        let deferred = world.defer_on(&straggler);
        mutator.join().unwrap();
        assert!(
            !world.deferred(),
            "the section ended but the straggler is still published (defer_on said {deferred})"
        );
    });
}
