//! The arena reclaims what reference counting cannot: a channel sent its own receiver, a `Gc`
//! graph with cycles. The tests compare `live_objects` with a baseline, so they take turns
//! (a lock) rather than allocate at once.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use gort::gc::{Gc, GcCell, Trace};
use gort::Receiver;

/// Serialises the tests that compare the arena's totals with a baseline.
static TOTALS: Mutex<()> = Mutex::new(());

/// A value that holds the receiver of the channel it is sent on.
#[derive(gort::gc::Trace)]
struct Loop(Receiver<Loop>);

/// 100k channels, each sent its own receiver and then let go: every one is a cycle that `Arc`
/// counting leaks (BENCHMARKS.md shows tokio's mpsc growing by the same pattern). The arena
/// returns to its baseline.
#[test]
fn self_cycles_through_channel_buffers_are_reclaimed() {
    let _totals = TOTALS.lock().unwrap_or_else(|e| e.into_inner());
    gort::gc::collect();
    let baseline = gort::gc::stats().live_objects;
    gort::block_on(async {
        for _ in 0..100_000 {
            let (tx, rx) = gort::chan![Loop; 1];
            assert!(tx.try_send(Loop(rx)).is_ok(), "room for one");
            // `tx` is dropped here: the channel closes, but its buffer holds its receiver.
        }
    });
    gort::gc::collect();
    let after = gort::gc::stats();
    assert_eq!(
        after.live_objects, baseline,
        "every self-cycle reclaimed (stats: {after:?})"
    );
    assert!(after.collections >= 2);
}

/// The same channels made with `chan()` (elements opaque) are not traced through: the cycle
/// stays, which is the conservative choice, never a wrong free.
#[test]
fn opaque_channels_keep_their_cycles() {
    let _totals = TOTALS.lock().unwrap_or_else(|e| e.into_inner());
    gort::gc::collect();
    let baseline = gort::gc::stats().live_objects;
    for _ in 0..100 {
        let (tx, rx) = gort::chan::<Loop>(1);
        assert!(tx.try_send(Loop(rx)).is_ok(), "room for one");
    }
    gort::gc::collect();
    assert_eq!(gort::gc::stats().live_objects, baseline + 100);
}

/// A node of a user graph, counting its drops.
#[derive(gort::gc::Trace)]
struct Node {
    edges: GcCell<Vec<Gc<Node>>>,
    #[trace(skip)]
    drops: Arc<AtomicUsize>,
}

impl Drop for Node {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

/// A 10k-node graph with random edges (cycles everywhere, self-loops included) is freed once
/// its outside handles go, every destructor running exactly once; while one node is held from
/// outside, everything it reaches survives.
#[test]
fn a_gc_graph_with_cycles_is_freed_exactly_once() {
    let _totals = TOTALS.lock().unwrap_or_else(|e| e.into_inner());
    const NODES: usize = 10_000;
    let drops = Arc::new(AtomicUsize::new(0));
    let nodes: Vec<Gc<Node>> = (0..NODES)
        .map(|_| {
            Gc::new(Node {
                edges: GcCell::new(Vec::new()),
                drops: Arc::clone(&drops),
            })
        })
        .collect();
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    for (i, node) in nodes.iter().enumerate() {
        for _ in 0..3 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            node.edges.lock().push(nodes[seed as usize % NODES].clone());
        }
        // A ring through every node: all of them are reachable from any one.
        node.edges.lock().push(nodes[(i + 1) % NODES].clone());
    }
    let kept = nodes[1234].clone();
    drop(nodes);
    gort::gc::collect();
    assert_eq!(drops.load(Ordering::SeqCst), 0, "reachable from `kept`");
    // Walk the whole ring through `kept`: every node is intact.
    let mut at = kept.clone();
    for _ in 0..NODES {
        let next = at.edges.lock().last().expect("ring edge").clone();
        at = next;
    }
    assert!(Gc::ptr_eq(&at, &kept));
    drop((at, kept));
    gort::gc::collect();
    assert_eq!(drops.load(Ordering::SeqCst), NODES);
    gort::gc::collect();
    assert_eq!(drops.load(Ordering::SeqCst), NODES, "nothing dropped twice");
}

/// A chain of 1M nodes is collected without recursion (an 8 MiB stack would overflow).
#[test]
fn a_long_chain_in_a_cycle_does_not_overflow_the_stack() {
    let _totals = TOTALS.lock().unwrap_or_else(|e| e.into_inner());
    let drops = Arc::new(AtomicUsize::new(0));
    let first = Gc::new(Node {
        edges: GcCell::new(Vec::new()),
        drops: Arc::clone(&drops),
    });
    let mut last = first.clone();
    for _ in 1..1_000_000 {
        let node = Gc::new(Node {
            edges: GcCell::new(Vec::new()),
            drops: Arc::clone(&drops),
        });
        last.edges.lock().push(node.clone());
        last = node;
    }
    last.edges.lock().push(first.clone());
    drop((first, last));
    // Freeing the values drops a million handles; run it on a thread with a small stack to
    // show that neither marking nor freeing recurses.
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(gort::gc::collect)
        .expect("thread")
        .join()
        .expect("collect");
    assert_eq!(drops.load(Ordering::SeqCst), 1_000_000);
}

// `Trace` is implemented by the derive above; this keeps the import honest.
const _: fn(&Node) -> bool = |_| <Node as Trace>::NEEDS_TRACE;

/// Without any `collect()` call, the arena collects by itself once the traceable objects have
/// grown by `GORT_GC` percent (default 100, at least 4096 of them): a loop making self-cycles
/// inside tasks stays bounded. With `GORT_GC=off` nothing collects by itself (checked in a
/// child process, as the setting is read once).
#[test]
fn automatic_collection_keeps_a_cycle_loop_bounded_unless_gort_gc_is_off() {
    const CYCLES: usize = 200_000;
    let off = std::env::var_os("GORT_TEST_GC_OFF_CHILD").is_some();
    let _totals = TOTALS.lock().unwrap_or_else(|e| e.into_inner());
    gort::gc::collect();
    let before = gort::gc::stats();
    let peak = gort::block_on(async {
        let mut peak = 0;
        for batch in 0..CYCLES / 1000 {
            // Each batch in its own task: collections run between polls.
            gort::spawn(async move {
                for _ in 0..1000 {
                    let (tx, rx) = gort::chan![Loop; 1];
                    assert!(tx.try_send(Loop(rx)).is_ok(), "room for one");
                }
                batch
            })
            .await
            .expect("batch");
            peak = peak.max(gort::gc::stats().live_objects - before.live_objects);
        }
        peak
    });
    let after = gort::gc::stats();
    if off {
        assert_eq!(
            after.collections, before.collections,
            "GORT_GC=off: none by itself"
        );
        assert!(peak >= CYCLES, "every cycle kept: peak {peak}");
        println!("GC_OFF_CHILD_OK");
        return;
    }
    assert!(
        after.collections > before.collections + 5,
        "collections ran by themselves: {before:?} -> {after:?}"
    );
    assert!(
        peak < CYCLES / 4,
        "live objects stayed bounded: peak {peak}"
    );
    let child = common::rerun_in_child(
        "automatic_collection_keeps_a_cycle_loop_bounded_unless_gort_gc_is_off",
        &[("GORT_TEST_GC_OFF_CHILD", "1"), ("GORT_GC", "off")],
    );
    assert!(child.stdout.contains("GC_OFF_CHILD_OK"), "{}", child.stdout);
}

/// The resident set in bytes, from `/proc/self/status`.
fn resident_bytes() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .expect("a VmRSS line");
    let kib: usize = line
        .split_whitespace()
        .nth(1)
        .and_then(|kib| kib.parse().ok())
        .expect("VmRSS in kB");
    kib * 1024
}

/// `gc::free_os_memory` (Go's `debug.FreeOSMemory`) reclaims what a collection does and then
/// gives the freed memory back: 200k self-cycles let go at once are all reclaimed, and most of
/// the memory they held leaves the resident set (a collection alone leaves it with glibc).
#[test]
fn free_os_memory_collects_and_returns_the_memory() {
    let _totals = TOTALS.lock().unwrap_or_else(|e| e.into_inner());
    gort::gc::free_os_memory();
    let baseline = gort::gc::stats().live_objects;
    let before = resident_bytes();
    // The senders keep every channel reachable until they all go at once, so that no
    // collection during the loop reuses the memory and the peak holds all 200k.
    let senders = gort::block_on(async {
        let mut senders = Vec::with_capacity(200_000);
        for _ in 0..200_000 {
            let (tx, rx) = gort::chan![Loop; 1];
            assert!(tx.try_send(Loop(rx)).is_ok(), "room for one");
            senders.push(tx);
        }
        senders
    });
    let peak = resident_bytes();
    drop(senders);
    // Collections the allocations asked for ran during the loop too: the count left is what
    // says that this one reclaimed the rest.
    gort::gc::free_os_memory();
    let after = resident_bytes();
    assert_eq!(gort::gc::stats().live_objects, baseline);
    let grown = peak.saturating_sub(before);
    let kept = after.saturating_sub(before);
    assert!(
        grown > 10 << 20 && kept < grown / 2,
        "resident set {before} -> peak {peak} -> after free_os_memory {after} bytes"
    );
}
