//! The collector's soundness cases, small enough for Miri (CI runs `cargo miri test -p
//! gort-gc`). Collections are process-wide and tests run in parallel, so each test counts
//! its own objects' destructors rather than the arena's totals.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::{collect, Edge, Gc, GcCell, Trace, Visitor};

/// A node that counts its drops and can point at other nodes.
struct Node {
    drops: Arc<AtomicUsize>,
    next: GcCell<Vec<Gc<Node>>>,
    label: u32,
}

// SAFETY: reports exactly the handles in `next`.
unsafe impl Trace for Node {
    fn trace(&self, visitor: &mut dyn Visitor) {
        self.next.trace(visitor);
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

fn node(drops: &Arc<AtomicUsize>, label: u32) -> Gc<Node> {
    Gc::new(Node {
        drops: Arc::clone(drops),
        next: GcCell::new(Vec::new()),
        label,
    })
}

fn link(from: &Gc<Node>, to: &Gc<Node>) {
    from.next.lock().push(to.clone());
}

#[test]
fn an_unreachable_cycle_is_freed_and_each_destructor_runs_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (a, b, c) = (node(&drops, 1), node(&drops, 2), node(&drops, 3));
    link(&a, &b);
    link(&b, &c);
    link(&c, &a);
    link(&a, &a);
    drop((a, b, c));
    assert_eq!(
        drops.load(Ordering::SeqCst),
        0,
        "a cycle is not freed by counting"
    );
    collect();
    assert_eq!(drops.load(Ordering::SeqCst), 3);
    collect();
    assert_eq!(drops.load(Ordering::SeqCst), 3, "nothing is dropped twice");
}

#[test]
fn a_cycle_held_from_outside_survives_until_released() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (a, b) = (node(&drops, 1), node(&drops, 2));
    link(&a, &b);
    link(&b, &a);
    // Held only by a plain `Arc` (opaque to the collector) and by `b`.
    let outside = Arc::new(Mutex::new(Some(a)));
    drop(b);
    for _ in 0..3 {
        collect();
        let held = outside.lock().unwrap();
        let a = held.as_ref().unwrap();
        let b = a.next.lock()[0].clone();
        assert_eq!((a.label, b.label), (1, 2));
        assert_eq!(b.next.lock()[0].label, 1);
    }
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    outside.lock().unwrap().take();
    collect();
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}

#[test]
fn acyclic_objects_are_freed_by_their_last_handle() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (a, b) = (node(&drops, 1), node(&drops, 2));
    link(&a, &b);
    drop(b);
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(a);
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}

/// A destructor that stores a handle to its (unreachable) neighbour in a global.
struct Resurrect {
    peer: GcCell<Option<Gc<Resurrect>>>,
}

static RESURRECTED: Mutex<Vec<Gc<Resurrect>>> = Mutex::new(Vec::new());

// SAFETY: reports the one handle in `peer`.
unsafe impl Trace for Resurrect {
    fn trace(&self, visitor: &mut dyn Visitor) {
        self.peer.trace(visitor);
    }
}

impl Drop for Resurrect {
    fn drop(&mut self) {
        if let Some(peer) = self.peer.lock().as_ref() {
            RESURRECTED.lock().unwrap().push(peer.clone());
        }
    }
}

#[test]
fn a_handle_resurrected_by_a_destructor_panics_instead_of_dangling() {
    let a = Gc::new(Resurrect {
        peer: GcCell::new(None),
    });
    let b = Gc::new(Resurrect {
        peer: GcCell::new(Some(a.clone())),
    });
    a.peer.set(Some(b));
    drop(a);
    collect();
    let stored: Vec<Gc<Resurrect>> = std::mem::take(&mut *RESURRECTED.lock().unwrap());
    assert_eq!(stored.len(), 2, "both destructors ran");
    for handle in &stored {
        let used = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = handle.peer.lock();
        }));
        assert!(used.is_err(), "a dead object's value must not be reachable");
    }
    // Later collections may meet the resurrected objects through a live one: they are not
    // traced (their values are gone) and not confused with that collection's nodes.
    let holder = Gc::new(GcCell::new(stored));
    collect();
    assert!(crate::leaks().is_empty());
    assert_eq!(holder.lock().len(), 2);
    // Dropping the stored handles frees the allocations (and drops no value twice).
    drop(holder);
    collect();
}

/// A self-cycle whose destructor takes its time, and can collect from inside.
struct SlowDrop {
    started: Arc<AtomicBool>,
    finished: Arc<AtomicBool>,
    collect_inside: bool,
    me: GcCell<Option<Gc<SlowDrop>>>,
}

// SAFETY: reports the one handle in `me`.
unsafe impl Trace for SlowDrop {
    fn trace(&self, visitor: &mut dyn Visitor) {
        self.me.trace(visitor);
    }
}

impl Drop for SlowDrop {
    fn drop(&mut self) {
        self.started.store(true, Ordering::SeqCst);
        if self.collect_inside {
            collect();
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        self.finished.store(true, Ordering::SeqCst);
    }
}

fn slow_self_cycle(collect_inside: bool) -> (Arc<AtomicBool>, Arc<AtomicBool>) {
    let (started, finished) = (Arc::default(), Arc::default());
    let object = Gc::new(SlowDrop {
        started: Arc::clone(&started),
        finished: Arc::clone(&finished),
        collect_inside,
        me: GcCell::new(None),
    });
    object.me.set(Some(object.clone()));
    (started, finished)
}

/// Another collection (a test running alongside, a task's allocation) may take this test's
/// garbage and still be running its destructors when `collect()` here starts: `collect()`
/// returns only after those destructors have run.
#[test]
fn collect_returns_after_the_destructors_a_concurrent_collection_runs() {
    let (started, finished) = slow_self_cycle(false);
    let sweeper = std::thread::spawn(collect);
    while !started.load(Ordering::SeqCst) {
        std::thread::yield_now();
    }
    collect();
    assert!(
        finished.load(Ordering::SeqCst),
        "collect() returned while garbage was still being dropped"
    );
    sweeper.join().unwrap();
}

#[test]
fn a_destructor_that_collects_does_not_wait_for_itself() {
    let (_, finished) = slow_self_cycle(true);
    collect();
    assert!(finished.load(Ordering::SeqCst));
}

#[test]
fn edges_name_the_objects_they_point_to() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (a, b) = (node(&drops, 1), node(&drops, 2));
    link(&a, &b);
    struct Record(Vec<Edge>);
    impl Visitor for Record {
        fn visit(&mut self, edge: Edge) {
            self.0.push(edge);
        }
    }
    let mut record = Record(Vec::new());
    Node::trace(&a, &mut record);
    assert_eq!(record.0, vec![Edge::to(&b)]);
}

/// Threads swap handles through shared cells and drop them while others force collections:
/// every node is dropped exactly once, and only after it became unreachable (a node in use
/// would read a dropped neighbour: Miri catches that).
#[test]
fn threads_mutating_handles_during_collections() {
    let (threads, rounds) = if cfg!(miri) { (3, 20) } else { (4, 2000) };
    let drops = Arc::new(AtomicUsize::new(0));
    let created = Arc::new(AtomicUsize::new(0));
    let hub = node(&drops, 0);
    created.fetch_add(1, Ordering::SeqCst);
    std::thread::scope(|scope| {
        for thread in 0..threads {
            let hub = hub.clone();
            let (drops, created) = (Arc::clone(&drops), Arc::clone(&created));
            scope.spawn(move || {
                let mut mine = node(&drops, thread);
                created.fetch_add(1, Ordering::SeqCst);
                for round in 0..rounds {
                    let fresh = node(&drops, round);
                    created.fetch_add(1, Ordering::SeqCst);
                    link(&fresh, &mine);
                    link(&mine, &fresh);
                    // Publish `fresh` through the hub, take someone else's out, and keep it.
                    let taken = {
                        let mut next = hub.next.lock();
                        next.push(fresh);
                        if next.len() > 4 {
                            Some(next.remove(0))
                        } else {
                            None
                        }
                    };
                    if let Some(taken) = taken {
                        // Read through it: it must still be alive.
                        let neighbours = taken.next.lock().len();
                        assert!(neighbours >= 1);
                        mine = taken;
                    }
                    if round % 7 == thread % 7 {
                        collect();
                    }
                }
            });
        }
    });
    hub.next.lock().clear();
    drop(hub);
    collect();
    assert_eq!(
        drops.load(Ordering::SeqCst),
        created.load(Ordering::SeqCst),
        "every node dropped exactly once"
    );
}
