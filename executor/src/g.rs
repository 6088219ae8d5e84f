//! The G record: what the runtime knows about one goroutine (a spawned future).
//!
//! A G is an `async_task::Runnable<G>`: async-task owns the allocation (state word, waker
//! vtable, the future and its output) and carries this record as the task's metadata, in the
//! same allocation. The record is what diagnostics read (task dumps, leak reports, JoinError
//! messages) and what `abort` and shutdown use to reach a parked task.
//!
//! The state machine (DESIGN.md §3):
//!
//! ```text
//!   spawn ──► Runnable ──run──► Running ──Pending──► Waiting(reason) ──wake──► Runnable
//!                 ▲                │  └─────────Ready / panic / abort──► Dead
//!                 └──woken while running (yield)
//! ```

use std::panic::Location;
use std::sync::atomic::{
    AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering,
};
use std::sync::{Arc, OnceLock};
use std::task::{RawWakerVTable, Waker};

use crate::abort::{AbortHandle, AbortTarget};
use crate::shared::Shared;
use crate::task_id::Id;

/// Where a G is in its life. Stored in [`G::state`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum GState {
    /// Queued on a P's run queue, a `runnext` slot or the global queue.
    Runnable = 0,
    /// Being polled by an M right now.
    Running = 1,
    /// Its last poll returned `Pending`; it runs again when woken. See [`WaitReason`].
    Waiting = 2,
    /// Its future completed, panicked, or was dropped.
    Dead = 3,
    /// Running blocking code on a thread of the blocking pool (`task::spawn_blocking`).
    Syscall = 4,
}

/// Why a G is waiting. Set by the resource the G parked on, read by diagnostics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum WaitReason {
    /// Parked on something gort does not know about (a foreign future or channel).
    Unknown = 0,
    /// Awaiting another task's `JoinHandle`.
    Join = 1,
}

/// The G record, stored as the metadata of the task's async-task allocation.
pub struct G {
    /// Unique per process, never reused; 1 is the first spawned G.
    id: u64,
    /// Where `spawn` (or `go!`) was called, from `#[track_caller]`.
    location: &'static Location<'static>,
    /// Optional name given through `task::Builder::name`.
    name: Option<Box<str>>,
    /// Index of the P the G was spawned on, whose M frees the task once it is dead
    /// (`dead_tasks.rs`), or `dead_tasks::NO_HOME`.
    home: u32,
    /// The runtime the G belongs to. The task allocation owns it here rather than in its
    /// schedule function, which keeps that function zero-sized (see `shared::schedule_task`).
    runtime: Arc<Shared>,
    /// A [`GState`]. Written by the M running the G and by the schedule function; read by anyone
    /// (diagnostics). `Relaxed`: it is a report, nothing synchronises through it.
    state: AtomicU8,
    /// A [`WaitReason`], meaningful while `state` is `Waiting`. `Relaxed`, as `state`.
    wait_reason: AtomicU8,
    /// Set once by `JoinHandle::abort` or `AbortHandle::abort`. `SeqCst` store and load: the
    /// abort protocol in `registry.rs` relies on the parked-task registry lock *or* this flag
    /// being seen.
    aborted: AtomicBool,
    /// The G's key in the runtime's parked-task registry, or [`NOT_REGISTERED`]. Written by the
    /// G's own wrapper future (under the registry shard lock); read by `abort` and shutdown
    /// under that lock.
    registry_key: AtomicUsize,
    /// Set by every wake through the G's counted waker, cleared when a poll starts
    /// (`gwaker.rs`): a G woken since its last poll is runnable, whatever `state` says.
    notified: AtomicBool,
    /// Counted wakers alive (`gwaker.rs`).
    wakers: AtomicU32,
    /// The async-task waker's data and vtable, set at the first poll, which counted wakers
    /// wrap (`gwaker.rs`).
    inner_data: AtomicPtr<()>,
    inner_vtable: AtomicPtr<RawWakerVTable>,
    /// The arena object holding the captures `go!` allocated for this G, which its future owns
    /// one handle to (the leak pass's task → captures edge).
    captures: Option<gort_gc::Edge>,
    /// What the G's `AbortHandle`s share, made by the first `abort_handle()` (`abort.rs`).
    /// Written once through the `OnceLock`; the G's `Drop` tells it the record is going away.
    abort_target: OnceLock<Arc<AbortTarget>>,
}

impl std::fmt::Debug for G {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("G")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("location", &self.location)
            .field("state", &self.state())
            .field("wait_reason", &self.wait_reason())
            .finish()
    }
}

/// `G::registry_key` value of a G that has never returned `Pending`.
pub(crate) const NOT_REGISTERED: usize = usize::MAX;

impl G {
    /// A fresh record for a G about to be spawned.
    pub(crate) fn new(
        runtime: Arc<Shared>,
        location: &'static Location<'static>,
        name: Option<Box<str>>,
        captures: Option<gort_gc::Edge>,
        home: u32,
    ) -> G {
        G {
            id: next_id(),
            location,
            name,
            home,
            runtime,
            state: AtomicU8::new(GState::Runnable as u8),
            wait_reason: AtomicU8::new(WaitReason::Unknown as u8),
            aborted: AtomicBool::new(false),
            registry_key: AtomicUsize::new(NOT_REGISTERED),
            notified: AtomicBool::new(false),
            wakers: AtomicU32::new(0),
            inner_data: AtomicPtr::new(std::ptr::null_mut()),
            inner_vtable: AtomicPtr::new(std::ptr::null_mut()),
            captures,
            abort_target: OnceLock::new(),
        }
    }

    /// The G's id as `task::Id`.
    pub fn task_id(&self) -> Id {
        Id::from_goid(self.id)
    }

    /// The G's id.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Where the G was spawned.
    pub fn location(&self) -> &'static Location<'static> {
        self.location
    }

    /// The G's name, if it was given one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The P this G was spawned on (`dead_tasks.rs`).
    pub(crate) fn home(&self) -> u32 {
        self.home
    }

    /// The runtime this G was spawned on.
    pub(crate) fn runtime(&self) -> &Arc<Shared> {
        &self.runtime
    }

    /// The G's current state (a snapshot).
    pub fn state(&self) -> GState {
        match self.state.load(Ordering::Relaxed) {
            0 => GState::Runnable,
            1 => GState::Running,
            2 => GState::Waiting,
            4 => GState::Syscall,
            _ => GState::Dead,
        }
    }

    /// Why the G is waiting (meaningful while [`G::state`] is `Waiting`).
    pub fn wait_reason(&self) -> WaitReason {
        match self.wait_reason.load(Ordering::Relaxed) {
            1 => WaitReason::Join,
            _ => WaitReason::Unknown,
        }
    }

    pub(crate) fn set_state(&self, state: GState) {
        self.state.store(state as u8, Ordering::Relaxed);
    }

    pub(crate) fn set_wait_reason(&self, reason: WaitReason) {
        self.wait_reason.store(reason as u8, Ordering::Relaxed);
    }

    pub(crate) fn set_aborted(&self) {
        self.aborted.store(true, Ordering::SeqCst);
    }

    pub(crate) fn is_aborted(&self) -> bool {
        self.aborted.load(Ordering::SeqCst)
    }

    /// Aborts the G (the abort protocol in `registry.rs`): sets the flag and returns the waker
    /// of the G if it is parked, which the caller wakes, outside any lock it holds.
    pub(crate) fn begin_abort(&self) -> Option<Waker> {
        self.set_aborted();
        self.runtime.registry.parked_waker(self)
    }

    /// An `AbortHandle` for this G, whose record the caller keeps alive meanwhile (it holds the
    /// G's `JoinHandle`): the first call allocates the shared target (`abort.rs`).
    pub(crate) fn abort_handle(&self) -> AbortHandle {
        let target = self
            .abort_target
            .get_or_init(|| Arc::new(AbortTarget::new(self)));
        AbortHandle::new(Arc::clone(target))
    }

    pub(crate) fn registry_key(&self) -> usize {
        self.registry_key.load(Ordering::Relaxed)
    }

    pub(crate) fn set_registry_key(&self, key: usize) {
        self.registry_key.store(key, Ordering::Relaxed);
    }

    /// The captures object, if `go!` gave the G any.
    pub(crate) fn captures(&self) -> Option<gort_gc::Edge> {
        self.captures
    }

    /// Counted wakers alive.
    pub(crate) fn wakers(&self) -> &AtomicU32 {
        &self.wakers
    }

    /// The woken-since-last-poll flag.
    pub(crate) fn notified(&self) -> &AtomicBool {
        &self.notified
    }

    /// Remembers the async-task waker counted wakers wrap (the same for every poll of a task).
    pub(crate) fn set_inner_waker(&self, waker: &std::task::Waker) {
        if self.inner_vtable.load(Ordering::Relaxed).is_null() {
            self.inner_data
                .store(waker.data().cast_mut(), Ordering::Relaxed);
            self.inner_vtable.store(
                std::ptr::from_ref(waker.vtable()).cast_mut(),
                Ordering::Relaxed,
            );
        }
    }

    /// The async-task waker, as raw parts (set by the first poll).
    pub(crate) fn inner_waker(&self) -> std::task::RawWaker {
        let data = self.inner_data.load(Ordering::Relaxed);
        let vtable = self.inner_vtable.load(Ordering::Relaxed);
        // Dereferenced below: a null one would be undefined behaviour, not a wrong answer.
        if vtable.is_null() {
            counted_waker_before_first_poll();
        }
        // SAFETY: non-null, so set once from a `&'static RawWakerVTable` by `set_inner_waker`.
        std::task::RawWaker::new(data, unsafe { &*vtable })
    }

    /// A human-readable description for messages: `task 7 ("name") spawned at src/x.rs:3:5`.
    pub(crate) fn describe(&self) -> String {
        match &self.name {
            Some(name) => format!("task {} ({name:?}) spawned at {}", self.id, self.location),
            None => format!("task {} spawned at {}", self.id, self.location),
        }
    }
}

impl Drop for G {
    fn drop(&mut self) {
        // The record is about to be freed: its abort handles must stop using it (`abort.rs`).
        if let Some(target) = self.abort_target.get() {
            target.g_dropped();
        }
    }
}

/// Ids are handed out in per-thread batches (Go's `goidcache`) so that spawning from two Ps does
/// not bounce one counter's cache line per spawn.
const ID_BATCH: u64 = 64;

/// The next unreserved batch start. `Relaxed`: ids only need to be unique.
static NEXT_ID_BATCH: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// This thread's reserved ids: `(next, end)`.
    static ID_CACHE: std::cell::Cell<(u64, u64)> = const { std::cell::Cell::new((0, 0)) };
}

/// Returns a process-unique G id.
fn next_id() -> u64 {
    ID_CACHE.with(|cache| {
        let (mut next, mut end) = cache.get();
        if next == end {
            next = NEXT_ID_BATCH.fetch_add(ID_BATCH, Ordering::Relaxed);
            end = next + ID_BATCH;
        }
        cache.set((next + 1, end));
        next
    })
}

/// A G's counted waker was used before its first poll recorded the waker it wraps.
#[cold]
#[inline(never)]
fn counted_waker_before_first_poll() -> ! {
    panic!("gort: a counted waker was used before its task's first poll; this is a bug in gort")
}
