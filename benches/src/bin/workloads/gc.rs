//! The GC workloads: `gc_pause` (collections around rings of live objects) and `cycles100k`
//! (channels that hold their own receiver, then let go).

use super::*;

/// The rings `gc_pause` builds, one after the other: the live objects in each, and the names of
/// its metrics (the pause's p50, p99 and max, then the same of the `collect()` call's wall time).
pub(super) const GC_RINGS: [(usize, [&str; 6]); 3] = [
    (
        10_000,
        [
            "10k.p50",
            "10k.p99",
            "10k.max",
            "10k.wall_p50",
            "10k.wall_p99",
            "10k.wall_max",
        ],
    ),
    (
        100_000,
        [
            "100k.p50",
            "100k.p99",
            "100k.max",
            "100k.wall_p50",
            "100k.wall_p99",
            "100k.wall_max",
        ],
    ),
    (
        1_000_000,
        [
            "1m.p50",
            "1m.p99",
            "1m.max",
            "1m.wall_p50",
            "1m.wall_p99",
            "1m.wall_max",
        ],
    ),
];

/// Collections `gc_pause` runs and times on each ring.
pub(super) const GC_COLLECTIONS: usize = 21;

/// Channels `cycles100k` makes, each sent its own receiver and let go.
pub(super) const SELF_CYCLES: usize = 100_000;

/// One object of a `gc_pause` ring: a traced handle to the next node, and a payload the
/// collector skips (the node's index, which the walk after the collections checks).
#[derive(gort::gc::Trace)]
pub(super) struct RingNode {
    /// The next node of the ring; `None` only while the ring is being built.
    next: GcCell<Option<Gc<RingNode>>>,
    /// The node's index in the ring, from 0 at the head.
    #[trace(skip)]
    payload: u64,
}

/// `gc_pause`: how long a collection stops the world, and how long a `gort::gc::collect()` call
/// takes, with N live traced objects in the arena, for N = 10k, 100k and 1M ([`GC_RINGS`]).
///
/// For each N, in the driver task: untimed, [`gc_ring`] builds N [`RingNode`]s linked into one
/// ring (a single cycle, every node reachable) held from outside by one handle, a local of the
/// driver. Then the driver calls `gort::gc::collect()` [`GC_COLLECTIONS`] times in a row and,
/// after each, reads `gort::gc::stats().last_pause`, the time from the stop request to the
/// resume: the stop-the-world handshake and the whole trial deletion (copy every count, trace
/// every edge, mark from the roots). It also times each call with `Instant`, which adds the
/// collector's lock, freeing garbage (none here) and pacing. Reports, in µs, the p50, p99 (by
/// [`percentile`]: of 21 samples, the max) and max of the pauses as `<N>.p50`, `<N>.p99`,
/// `<N>.max`, and of the wall times as `<N>.wall_p50`, `<N>.wall_p99`, `<N>.wall_max`.
///
/// So that the figure cannot come from a collector that freed the ring, the driver checks after
/// each collection that `live_objects` is still at least N, and after the last one walks the
/// ring from its handle: N steps through `next`, each node's payload its index, back to the
/// head (a freed node's value cannot be read: that panics). Then it drops the handle and
/// collects once more, untimed, which must free the whole ring, so that the next size starts
/// from the same arena as the first.
///
/// The ring is built within one poll of the driver, so no automatic collection (`GORT_GC`)
/// runs while it grows, and the first timed collection is the first to see it; Go's pacer
/// collects while its ring grows. Every collection of a gort ring is a whole collection with
/// the world stopped, so `last_pause` and the wall time differ only by the lock and pacing,
/// and both grow with N. Go's `runtime.GC()` marks concurrently: its pause is only its two
/// short stop-the-world phases, and its wall time holds the marking and the sweep (see
/// main.go). tokio has no garbage collector and does not run this workload.
pub(super) fn gc_pause() -> Vec<Metric> {
    in_spawned_task::<Gort, _>(async {
        let mut metrics = Vec::new();
        for (nodes, names) in GC_RINGS {
            let (mut pauses, mut walls) = collect_around_ring(nodes);
            pauses.sort_unstable();
            walls.sort_unstable();
            let [p50, p99, max, wall_p50, wall_p99, wall_max] = names;
            for (name, samples, k) in [
                (p50, &pauses, 50),
                (p99, &pauses, 99),
                (max, &pauses, 100),
                (wall_p50, &walls, 50),
                (wall_p99, &walls, 99),
                (wall_max, &walls, 100),
            ] {
                metrics.push(Metric {
                    name,
                    value: micros(percentile(samples, k)),
                    unit: "µs",
                });
            }
        }
        metrics
    })
}

/// Builds a ring of `nodes` [`RingNode`]s and returns the one handle to it from outside the
/// arena, to the node of payload 0; each node's `next` is the node of the next payload, and the
/// last one's is the first.
pub(super) fn gc_ring(nodes: usize) -> Gc<RingNode> {
    let new_node = |payload| {
        Gc::new(RingNode {
            next: GcCell::new(None),
            payload,
        })
    };
    let head = new_node(0);
    let mut last = head.clone();
    for payload in 1..nodes as u64 {
        let node = new_node(payload);
        last.next.set(Some(node.clone()));
        last = node;
    }
    last.next.set(Some(head.clone()));
    head
}

/// One `gc_pause` size: builds a ring of `nodes` ([`gc_ring`]), collects [`GC_COLLECTIONS`]
/// times, checks the ring, lets it go and collects it (untimed); returns each collection's
/// pause (`stats().last_pause`) and the wall time of each `collect()` call, unsorted.
pub(super) fn collect_around_ring(nodes: usize) -> (Vec<Duration>, Vec<Duration>) {
    let head = gc_ring(nodes);
    let mut pauses = Vec::with_capacity(GC_COLLECTIONS);
    let mut walls = Vec::with_capacity(GC_COLLECTIONS);
    for _ in 0..GC_COLLECTIONS {
        let start = Instant::now();
        gort::gc::collect();
        walls.push(start.elapsed());
        let stats = gort::gc::stats();
        pauses.push(stats.last_pause);
        assert!(
            stats.live_objects >= nodes,
            "a collection freed part of a ring of {nodes} live nodes (stats: {stats:?})"
        );
    }
    let mut at = head.clone();
    for payload in 0..nodes as u64 {
        assert_eq!(at.payload, payload, "the ring is out of order");
        let next = at.next.lock().clone().expect("a ring node without a next");
        at = next;
    }
    assert!(Gc::ptr_eq(&at, &head), "the ring does not close");
    drop((at, head));
    let freed = gort::gc::collect().freed;
    assert!(
        freed >= nodes,
        "only {freed} objects freed after the last handle to a ring of {nodes} went"
    );
    (pauses, walls)
}

/// `cycles100k`'s message on gort: it holds the receiver of the channel it is sent on.
#[derive(gort::gc::Trace)]
pub(super) struct GortLoop(gort::Receiver<GortLoop>);

/// `cycles100k`'s message on tokio, as [`GortLoop`].
pub(super) struct TokioLoop(#[allow(dead_code)] tokio::sync::mpsc::Receiver<TokioLoop>); // held, never read

/// `cycles100k`: what a reference cycle through a channel's buffer leaves behind once every
/// handle from outside is gone, after the runtime has reclaimed what it can.
///
/// In the driver task, [`SELF_CYCLES`] times: make a channel with one buffer slot (gort:
/// `gort::chan![GortLoop; 1]`, traced since [`GortLoop`] is `Trace`; tokio: `mpsc::channel(1)`),
/// `try_send` its own receiver into it (which must succeed: the buffer is empty) and drop the
/// sender. Each channel is then held only by its own buffer: reference counting (tokio's `Arc`s)
/// never frees it; gort's collector finds it unreachable from outside the arena; Go's tracing
/// GC frees it like any garbage.
///
/// Reports `bytes`, the growth of the resident set ([`rss_bytes`], as `parked200k`) from before
/// the first channel to after the reclamation, per cycle in bytes; on gort also `objects`, the
/// growth of `gort::gc::stats().live_objects` over all the cycles (0 when every channel is
/// reclaimed, 100k if each leaked its one arena object, the channel state). Before each reading
/// gort calls `gort::gc::free_os_memory()` and Go `debug.FreeOSMemory()`, the same call (a
/// collection, then the free memory back to the kernel: `malloc_trim` under glibc's malloc, the
/// default allocator here); tokio has nothing to run and no object count, so it reports `bytes`
/// only. Go reports the growth of `MemStats.HeapObjects` as `objects`.
///
/// All the channels are made within one poll of the driver, so on gort no automatic collection
/// runs during the loop: all 100k are allocated at the peak. With `gort::gc::collect()` alone
/// `bytes` stayed about the peak (~257-296 B/cycle): glibc keeps the memory it gets back
/// rather than returning it to the kernel (running the loop three more times in the same
/// process grew the resident set for two rounds and then not at all, memory reused rather than
/// leaked). Go's pacer also collects during the loop.
pub(super) fn cycles100k_gort() -> Vec<Metric> {
    let (grown, objects) = in_spawned_task::<Gort, _>(async {
        gort::gc::free_os_memory();
        let rss_before = rss_bytes();
        let objects_before = gort::gc::stats().live_objects;
        for _ in 0..SELF_CYCLES {
            let (tx, rx) = gort::chan![GortLoop; 1];
            assert!(
                tx.try_send(GortLoop(rx)).is_ok(),
                "a fresh channel with one buffer slot was full"
            );
        }
        gort::gc::free_os_memory();
        let rss_after = rss_bytes();
        let objects_after = gort::gc::stats().live_objects;
        (
            rss_after as f64 - rss_before as f64,
            objects_after as f64 - objects_before as f64,
        )
    });
    vec![
        Metric {
            name: "bytes",
            value: grown / SELF_CYCLES as f64,
            unit: "B/cycle",
        },
        Metric {
            name: "objects",
            value: objects,
            unit: "objects",
        },
    ]
}

/// `cycles100k` on tokio ([`cycles100k_gort`] has the doc): `bytes` only.
pub(super) fn cycles100k_tokio() -> Vec<Metric> {
    let grown = in_spawned_task::<Tokio, _>(async {
        let rss_before = rss_bytes();
        for _ in 0..SELF_CYCLES {
            let (tx, rx) = tokio::sync::mpsc::channel(1);
            assert!(
                tx.try_send(TokioLoop(rx)).is_ok(),
                "a fresh channel with one buffer slot was full"
            );
        }
        rss_bytes() as f64 - rss_before as f64
    });
    vec![Metric {
        name: "bytes",
        value: grown / SELF_CYCLES as f64,
        unit: "B/cycle",
    }]
}
