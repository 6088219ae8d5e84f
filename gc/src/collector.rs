//! The collector: trial deletion ("refcount minus internal references") over the registered
//! objects, with the world stopped, and the leak pass over objects and tasks.
//!
//! # Finding roots without scanning stacks
//!
//! Every handle anywhere counts in its object's `strong`. With the world stopped
//! (`safepoint.rs`), the collector copies each registered object's count into `refs`, then
//! traces every object and subtracts one from `refs` of each object an edge points to. What
//! is left is the number of handles held *outside* the traced graph: in a future's state, on
//! a stack, in a global, behind an `Arc`. An object with `refs > 0` is a root; everything
//! reachable from a root by traced edges is live; the rest is referenced only by itself and is
//! garbage. `Trace` may under-report edges (an object then looks held from outside: a leak,
//! never a wrong free), never over-report.
//!
//! The graph is stored as arrays indexed by node (`refs`, and the edges in compressed-row
//! form), and each object's index is written into its header's scratch word, so an edge is
//! resolved without a hash lookup. Marking uses an explicit stack: a chain of a million
//! objects does not recurse.
//!
//! # Freeing garbage
//!
//! With the world still stopped the collector takes a count on every garbage object (so
//! that dropping one value cannot free another under it), removes them from the registry and
//! marks them dead. Then the world resumes and the values are dropped (`sweep.rs`): nobody
//! outside can reach garbage, so this needs no stop, and destructors run outside the pause
//! (closing channels, waking tasks). Last, the collector gives its counts back; an object a
//! destructor stored a new handle to stays allocated, dead, and panics on use rather than
//! dangling.
//!
//! # The leak pass
//!
//! Tasks join the graph (`tasks.rs`): their count is their wakers, a channel's wait queue has
//! an edge to each waiting task (explaining one waker), and a task has an edge to its `go!`
//! captures. Two markings follow:
//!
//! 1. *Retention*: from every root object and every task. What is unmarked is garbage and is
//!    freed as above; what only a blocked task reaches is kept (leaks are reported, not
//!    freed).
//! 2. *Liveness*: from every root object, every task that can run or has an unexplained
//!    waker, and every garbage object (dropping garbage runs destructors, which can close a
//!    channel and wake its waiters: Go treats finalizers the same way). A blocked task left
//!    unmarked can never be woken: it is leaked.

use std::collections::{HashMap, HashSet};
use std::ptr::NonNull;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::task::Waker;
use std::time::{Duration, Instant};

use crate::object::{Header, Kind};
use crate::registry::REGISTRY;
use crate::safepoint::{pinned_now, run_unpinned, WORLD};
use crate::stats;
use crate::sweep::{self, ObjectPtr};
use crate::tasks::{sources, Leak, TaskInfo, TaskSource};
use crate::trace::{Edge, Visitor};

/// Held by the one thread collecting.
static COLLECTING: Mutex<Collector> = Mutex::new(Collector {
    collections: 0,
    arrays: Arrays::new(),
});

/// What collections keep between them.
struct Collector {
    /// Collections run so far (a collection's number, for `sweep.rs`).
    collections: u64,
    /// The graph's arrays, cleared, with the capacity the last collections needed.
    arrays: Arrays,
}
/// An allocation crossed the pacing threshold; the next unpinned point collects.
static WANTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
/// The count of `Kind::Cycle` objects at which the next automatic collection starts.
static NEXT_TRIGGER: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(stats::MIN_TRIGGER);

/// What one collection did.
#[derive(Debug, Clone, Default)]
pub struct Collection {
    /// Objects it found unreachable and freed.
    pub freed: usize,
    /// Tasks it found leaked (leak passes only).
    pub leaks: Vec<Leak>,
}

/// What a run looks at and does with what it finds.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Cycle collection: `Kind::Cycle` objects only.
    Cycles,
    /// Cycles, plus tasks and `Kind::Waits` objects, reporting leaked tasks.
    Leaks,
    /// As `Leaks`, then cancels the leaked tasks.
    Reclaim,
}

/// Called after a `Kind::Cycle` allocation: asks for a collection once the arena has grown by
/// `GORT_GC` percent, and runs it here if this thread is not inside a poll or operation.
pub(crate) fn after_allocation() {
    if stats::cycle_objects() <= NEXT_TRIGGER.load(Ordering::Relaxed) {
        return;
    }
    if stats::gc_percent().is_none() {
        return;
    }
    WANTED.store(true, Ordering::Relaxed);
    if !pinned_now() {
        collect_if_wanted();
    }
}

/// Runs the collection an allocation asked for, if any (the executor calls this after each
/// poll, outside the pin): one relaxed load when none is wanted, two while one waits for a
/// thread stuck in a pinned section (`safepoint.rs`), which it does not wait for here.
#[inline]
pub fn collect_if_wanted() {
    if WANTED.load(Ordering::Relaxed) && !WORLD.deferred() {
        collect_wanted();
    }
}

#[cold]
#[inline(never)]
fn collect_wanted() {
    if WANTED.swap(false, Ordering::Relaxed) {
        run_once(Mode::Cycles, Wait::No);
    }
}

/// Runs one collection in `mode` for a caller who then expects everything unreachable at the
/// call to be gone: it also waits for the sweeps of earlier collections (`sweep.rs`), and for
/// a thread stuck in a pinned section to leave it.
pub(crate) fn run(mode: Mode) -> Collection {
    let (number, collection) = run_once(mode, Wait::Yes)
        .unwrap_or_else(|| unreachable!("a collection that waits is never put off"));
    sweep::wait_for_sweeps_before(number);
    collection
}

/// Frees the graph arrays kept between collections (`free_os_memory`): they have the size of
/// the largest recent collection, and the next one allocates them afresh.
pub(crate) fn release_arrays() {
    crate::lock(&COLLECTING).arrays = Arrays::new();
}

/// Whether a collection waits for a thread stuck in a pinned section (`safepoint.rs`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Wait {
    /// Wait, with the world running (an explicit `collect()`).
    Yes,
    /// Put the collection off: it stays wanted, and runs at a poll boundary once the thread
    /// has left its section (an automatic collection).
    No,
}

/// Runs one collection in `mode`, returning its number and what it did; `None` if it was put
/// off (`Wait::No` and a thread stuck in a pinned section).
fn run_once(mode: Mode, wait: Wait) -> Option<(u64, Collection)> {
    run_unpinned(|| {
        let (mut collector, started) = loop {
            if wait == Wait::Yes {
                WORLD.wait_for_straggler();
            }
            let collector = match wait {
                Wait::Yes => crate::lock(&COLLECTING),
                // An automatic collection never waits for another (one collecting now serves
                // it); an M calls it between polls, holding its P.
                Wait::No => match COLLECTING.try_lock() {
                    Ok(collector) => collector,
                    Err(std::sync::TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
                    Err(std::sync::TryLockError::WouldBlock) => return None,
                },
            };
            WANTED.store(false, Ordering::Relaxed);
            crate::barrier::before_stop();
            let started = Instant::now();
            if stop_the_world(started) {
                break (collector, started);
            }
            // A thread stays inside a pinned section (`safepoint.rs`): not with the world
            // stopped, and not holding the lock, which automatic collections only try.
            drop(collector);
            if wait == Wait::No {
                // Still wanted: the first poll boundary after the straggler's section runs it.
                WANTED.store(true, Ordering::Relaxed);
                return None;
            }
        };
        collector.collections += 1;
        let number = collector.collections;
        let mode = if mode == Mode::Cycles && crate::debug::leakcheck() {
            Mode::Leaks
        } else {
            mode
        };
        let arrays = std::mem::take(&mut collector.arrays);
        // `Trace` implementations run here, with every other thread waiting for the world to
        // resume. One that panics leaves headers numbered for a graph that is gone, and
        // unwinding would leave the world stopped: the process cannot go on (as in Go, where a
        // fault during a collection is fatal), so it says why and aborts.
        let analysed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            Graph::build(mode, arrays).analyse(mode)
        }));
        let Ok((found, arrays)) = analysed else {
            eprintln!(
                "gort: a `Trace` implementation panicked while the world was stopped for a \
                 collection; aborting"
            );
            std::process::abort();
        };
        collector.arrays = arrays;
        WORLD.resume();
        let pause = started.elapsed();
        stats::record_pause(pause);
        if let Some(percent) = stats::gc_percent() {
            let live = stats::cycle_objects().saturating_sub(found.garbage.len());
            NEXT_TRIGGER.store(stats::next_trigger(live, percent), Ordering::Relaxed);
        }
        sweep::announce(number);
        drop(collector);
        if mode != Mode::Cycles && crate::debug::leakcheck() {
            crate::debug::report_leaks(&found.leaks);
        }
        let freed = found.garbage.len();
        sweep::sweep(number, found.garbage);
        let collection = Collection {
            freed,
            leaks: found.leaks,
        };
        Some((number, collection))
    })
}

/// How long one attempt to stop the world waits for pinned threads before it lets them all run
/// again (`World::try_stop`). A thread still pinned after this is inside one long section (a
/// thread between polls lets go as soon as it sees the request), and the collection waits for
/// it with the world running (`safepoint.rs`): this is the most one stuck thread costs the
/// others. 2 ms: a poll longer than that only makes the collection wait for its end.
const STOP_PATIENCE: Duration = Duration::from_millis(2);

/// Stops the world: `true` once stopped. If a thread stays pinned past [`STOP_PATIENCE`], lets
/// everyone run again and, unless its section ended meanwhile (then it tries again at once),
/// publishes it as the straggler and returns `false`: the caller waits for it or puts the
/// collection off (`safepoint.rs`). A thread pinned through the shared counter cannot be named;
/// for it the stop is retried after a short sleep, as before stragglers existed (such pins
/// happen only in thread-local destructors).
fn stop_the_world(started: Instant) -> bool {
    let mut attempt_started = started;
    loop {
        match WORLD.try_stop(&mut || attempt_started.elapsed() > STOP_PATIENCE) {
            Ok(()) => return true,
            Err(Some(straggler)) => {
                WORLD.resume();
                if WORLD.defer_on(&straggler) {
                    return false;
                }
            }
            Err(None) => {
                WORLD.resume();
                std::thread::sleep(Duration::from_micros(100));
            }
        }
        attempt_started = Instant::now();
    }
}

/// What `analyse` found: garbage (already out of the registry, counted and dead) and leaks.
struct Found {
    garbage: Vec<ObjectPtr>,
    leaks: Vec<Leak>,
}

/// One node: an object, or a task (an index into `Graph::tasks`). Small, as there is one per
/// object: a million-object collection walks this array several times.
#[derive(Clone, Copy)]
enum Node {
    Object(NonNull<Header>),
    Task(usize),
}

/// A task of the leak pass.
struct TaskNode {
    info: TaskInfo,
    /// Which of `Graph::sources` it came from.
    source: usize,
    /// What it waits for, from the wait queues holding its wakers.
    reason: Option<&'static str>,
}

/// The arrays of a graph, one entry per node or edge. They are kept between collections
/// (cleared, in [`Collector`]): at a million objects, allocating them afresh cost a page fault
/// per 4 KiB of each, about a sixth of the pause.
struct Arrays {
    nodes: Vec<Node>,
    /// Handles (or wakers) not explained by traced edges.
    refs: Vec<isize>,
    /// `edges[edge_start[i]..edge_start[i + 1]]` are node `i`'s successors.
    edge_start: Vec<usize>,
    edges: Vec<u32>,
    /// The marking's output and its stack.
    marked: Vec<bool>,
    stack: Vec<usize>,
}

// SAFETY: the header pointers in `nodes` are only used by the collecting thread with the world
// stopped, and are cleared before the arrays are put back.
unsafe impl Send for Arrays {}

impl Arrays {
    const fn new() -> Arrays {
        Arrays {
            nodes: Vec::new(),
            refs: Vec::new(),
            edge_start: Vec::new(),
            edges: Vec::new(),
            marked: Vec::new(),
            stack: Vec::new(),
        }
    }

    /// Empties the arrays for the next collection, giving memory back when this one needed
    /// less than a quarter of what they hold (the arena shrank).
    fn cleared(mut self) -> Arrays {
        fn clear<T>(array: &mut Vec<T>, used: usize) {
            array.clear();
            if array.capacity() > 4 * used + 4096 {
                array.shrink_to(2 * used);
            }
        }
        let nodes = self.nodes.len();
        clear(&mut self.nodes, nodes);
        clear(&mut self.refs, nodes);
        clear(&mut self.edge_start, nodes + 1);
        let edges = self.edges.len();
        clear(&mut self.edges, edges);
        clear(&mut self.marked, nodes);
        // Empty after marking; as deep as the graph has nodes at most.
        clear(&mut self.stack, nodes);
        self
    }
}

impl Default for Arrays {
    fn default() -> Arrays {
        Arrays::new()
    }
}

/// The graph of one collection, built with the world stopped, in [`Arrays`] taken from the
/// last one.
struct Graph {
    nodes: Vec<Node>,
    tasks: Vec<TaskNode>,
    /// Handles (or wakers) not explained by traced edges.
    refs: Vec<isize>,
    /// `edges[edge_start[i]..edge_start[i + 1]]` are node `i`'s successors.
    edge_start: Vec<usize>,
    /// Nodes `..registered` are the registered objects, numbered first.
    registered: usize,
    edges: Vec<u32>,
    sources: Vec<Arc<dyn TaskSource>>,
    /// Spare arrays for marking.
    marked: Vec<bool>,
    stack: Vec<usize>,
}

impl Graph {
    /// Builds the graph: registered objects, then (leak passes) tasks, then every object
    /// found by following edges that is not a leaf (`Kind::Waits` objects are not registered).
    fn build(mode: Mode, arrays: Arrays) -> Graph {
        let sources = if mode == Mode::Cycles {
            Vec::new()
        } else {
            sources()
        };
        let Arrays {
            nodes,
            refs,
            edge_start,
            edges,
            marked,
            stack,
        } = arrays;
        let mut builder = Builder {
            graph: Graph {
                nodes,
                tasks: Vec::new(),
                refs,
                edge_start,
                edges,
                registered: 0,
                sources: Vec::new(),
                marked,
                stack,
            },
            discover: mode != Mode::Cycles,
            task_index: HashMap::new(),
            vtables: sources
                .iter()
                .map(|source| source.waker_vtable() as *const _)
                .collect(),
            wakers_seen: HashSet::new(),
            reasons: Vec::new(),
        };
        let registered = stats::cycle_objects();
        let graph = &mut builder.graph;
        graph.nodes.reserve(registered);
        graph.refs.reserve(registered);
        graph.edge_start.reserve(registered + 1);
        graph.edges.reserve(registered);
        REGISTRY.for_each(|header| {
            builder.add_object(header);
        });
        builder.graph.registered = builder.graph.nodes.len();
        for (source_index, source) in sources.iter().enumerate() {
            let graph = &mut builder.graph;
            let task_index = &mut builder.task_index;
            source.for_each_task(&mut |info| {
                task_index.insert(info.key.addr(), graph.nodes.len());
                graph.refs.push(info.wakers as isize);
                graph.nodes.push(Node::Task(graph.tasks.len()));
                graph.tasks.push(TaskNode {
                    info,
                    source: source_index,
                    reason: None,
                });
            });
        }
        builder.graph.sources = sources;
        // Tracing may append nodes (discovered objects); they are traced in turn.
        let mut node = 0;
        while node < builder.graph.nodes.len() {
            builder.graph.edge_start.push(builder.graph.edges.len());
            match builder.graph.nodes[node] {
                Node::Object(header) => {
                    // SAFETY: in the graph means alive (registered, or reached by an edge from
                    // a live object), and the world is stopped.
                    unsafe { (header.as_ref().vtable.trace)(header, &mut builder) };
                }
                Node::Task(task) => {
                    if let Some(captures) = builder.graph.tasks[task].info.captures {
                        builder.visit(captures);
                    }
                }
            }
            node += 1;
        }
        builder.graph.edge_start.push(builder.graph.edges.len());
        let mut graph = builder.graph;
        for (task, reason) in builder.reasons {
            if let Node::Task(task) = graph.nodes[task] {
                let slot = &mut graph.tasks[task].reason;
                *slot = Some(match *slot {
                    Some(old) if old != reason => "select",
                    _ => reason,
                });
            }
        }
        graph
    }

    fn successors(&self, node: usize) -> &[u32] {
        &self.edges[self.edge_start[node]..self.edge_start[node + 1]]
    }

    /// Marks everything reachable from `roots`, in `marked` (of any length; `stack` empty).
    fn mark(
        &self,
        roots: impl Iterator<Item = usize>,
        mut marked: Vec<bool>,
        stack: &mut Vec<usize>,
    ) -> Vec<bool> {
        marked.clear();
        marked.resize(self.nodes.len(), false);
        for root in roots {
            if !marked[root] {
                marked[root] = true;
                stack.push(root);
            }
        }
        while let Some(node) = stack.pop() {
            for &next in self.successors(node) {
                let next = next as usize;
                if !marked[next] {
                    marked[next] = true;
                    stack.push(next);
                }
            }
        }
        marked
    }

    fn is_root_object(&self, node: usize) -> bool {
        matches!(self.nodes[node], Node::Object(_)) && self.refs[node] > 0
    }

    /// Decides garbage and leaks, takes the garbage out of the registry, and clears the
    /// scratch words. World stopped.
    fn analyse(mut self, mode: Mode) -> (Found, Arrays) {
        let all = 0..self.nodes.len();
        let mut stack = std::mem::take(&mut self.stack);
        let marked = std::mem::take(&mut self.marked);
        let retained = self.mark(
            all.clone().filter(|&node| {
                self.is_root_object(node) || matches!(self.nodes[node], Node::Task { .. })
            }),
            marked,
            &mut stack,
        );
        let garbage_nodes: Vec<usize> = all
            .clone()
            .filter(|&node| !retained[node] && matches!(self.nodes[node], Node::Object(_)))
            .collect();
        let mut leaks = Vec::new();
        let mut leaked_tasks = Vec::new();
        if mode != Mode::Cycles {
            let live = self.mark(
                all.clone().filter(|&node| match &self.nodes[node] {
                    Node::Object(_) => self.refs[node] > 0 || !retained[node],
                    Node::Task(task) => !self.tasks[*task].info.blocked || self.refs[node] > 0,
                }),
                Vec::new(),
                &mut stack,
            );
            for node in all.clone().filter(|&node| !live[node]) {
                if let Node::Task(task) = self.nodes[node] {
                    let TaskNode {
                        info,
                        source,
                        reason,
                    } = &self.tasks[task];
                    leaks.push(Leak {
                        id: info.id,
                        location: info.location,
                        name: info.name.clone(),
                        // No waker anywhere: a future that returned `Pending` without registering one.
                        wait_reason: reason.unwrap_or("pending (no waker)"),
                    });
                    leaked_tasks.push((*source, info.key));
                }
            }
            leaks.sort_by_key(|leak| leak.id);
        }
        if mode == Mode::Reclaim {
            for (source, key) in leaked_tasks {
                self.sources[source].cancel(key);
            }
        }
        let mut garbage = Vec::with_capacity(garbage_nodes.len());
        for node in garbage_nodes {
            if let Node::Object(header) = self.nodes[node] {
                // SAFETY: registered, alive, world stopped.
                let h = unsafe { header.as_ref() };
                h.strong.fetch_add(1, Ordering::Relaxed);
                h.set_dead();
                // Out of every later collection: a handle a destructor resurrects must not
                // lead one to a stale node number (or to a value that is gone).
                h.scratch.store(0, Ordering::Relaxed);
                if h.vtable.kind == Kind::Cycle {
                    REGISTRY.remove(header);
                }
                garbage.push(ObjectPtr(header));
            }
        }
        // Registered objects keep their stale index: every collection numbers all of them
        // before it follows a single edge. Objects found by following edges (leak passes) are
        // not renumbered that way, so theirs goes back to "not in a collection".
        for node in &self.nodes[self.registered..] {
            if let Node::Object(header) = node {
                // SAFETY: alive (garbage is counted by us now), world stopped.
                unsafe { header.as_ref() }
                    .scratch
                    .store(0, Ordering::Relaxed);
            }
        }
        let arrays = Arrays {
            nodes: self.nodes,
            refs: self.refs,
            edge_start: self.edge_start,
            edges: self.edges,
            marked: retained,
            stack,
        };
        (Found { garbage, leaks }, arrays.cleared())
    }
}

/// The graph under construction; the visitor that records edges.
struct Builder {
    graph: Graph,
    /// Add objects found by following edges (leak passes).
    discover: bool,
    /// Task node of each task key.
    task_index: HashMap<usize, usize>,
    vtables: Vec<*const std::task::RawWakerVTable>,
    /// Waker holders already subtracted (a select's waker is reported by each of its
    /// channels, and is one waker).
    wakers_seen: HashSet<usize>,
    /// (task node, reason) for each waker edge.
    reasons: Vec<(usize, &'static str)>,
}

impl Builder {
    /// Makes `header` a node: its index goes into its scratch word, its count into `refs`.
    fn add_object(&mut self, header: NonNull<Header>) -> usize {
        let index = self.graph.nodes.len();
        // SAFETY: the object is alive (registered, or reached by an edge), world stopped.
        let object = unsafe { header.as_ref() };
        object.scratch.store(index + 1, Ordering::Relaxed);
        self.graph
            .refs
            .push(object.strong.load(Ordering::Relaxed) as isize);
        self.graph.nodes.push(Node::Object(header));
        index
    }
}

impl Visitor for Builder {
    fn visit(&mut self, edge: Edge) {
        // SAFETY: an edge names an object a traced value owns a handle to, so it is alive.
        let header = unsafe { edge.header().as_ref() };
        let index = match header.scratch.load(Ordering::Relaxed) {
            0 if self.discover && header.vtable.kind != Kind::Leaf && !header.is_dead() => {
                self.add_object(NonNull::from(header))
            }
            // A leaf, (cycle collections) an object that cannot be in a cycle, or a dead one a
            // destructor resurrected (its value is gone: nothing to trace, nothing to free).
            0 => return,
            index => index - 1,
        };
        self.graph.refs[index] -= 1;
        self.graph.edges.push(index as u32);
    }

    fn visit_waker(&mut self, holder: usize, waker: &Waker, reason: &'static str) {
        if !self.vtables.contains(&(waker.vtable() as *const _)) {
            return;
        }
        let Some(&task) = self.task_index.get(&waker.data().addr()) else {
            return;
        };
        if self.wakers_seen.insert(holder) {
            self.graph.refs[task] -= 1;
        }
        self.graph.edges.push(task as u32);
        self.reasons.push((task, reason));
    }
}
