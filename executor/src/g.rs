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
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{RawWakerVTable, Waker};

use crate::abort::{AbortHandle, AbortTarget};
use crate::local_set::LocalShared;
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
///
/// Every byte here is paid by every parked task (BENCHMARKS.md, `parked200k`), so what only
/// some Gs use lives behind one pointer ([`GDetail`]: a name, `go!` captures) and the rest is
/// kept to words and halves: 64 bytes.
pub struct G {
    /// Unique per process, never reused; 1 is the first spawned G.
    id: u64,
    /// Where `spawn` (or `go!`) was called, from `#[track_caller]`.
    location: &'static Location<'static>,
    /// The runtime the G belongs to. The task allocation owns it here rather than in its
    /// schedule function, which keeps that function zero-sized (see `shared::schedule_task`).
    runtime: Arc<Shared>,
    /// The name and the `go!` captures, for the Gs that have either.
    detail: Option<Box<GDetail>>,
    /// For a task of a `LocalSet`: the set's queue, which its schedule function pushes to
    /// (`local_set.rs`).
    local_set: Option<Arc<LocalShared>>,
    /// What the G's `AbortHandle`s share (`Arc::into_raw`), made by the first `abort_handle()`
    /// (`abort.rs`), or null. Set once by a compare-and-swap; the G's `Drop` tells it the
    /// record is going away and releases the record's reference.
    abort_target: AtomicPtr<AbortTarget>,
    /// The G's key in the runtime's parked-task registry, or [`NOT_REGISTERED`]. Written by the
    /// G's own wrapper future (under the registry shard lock); read by `abort` and shutdown
    /// under that lock.
    registry_key: AtomicU32,
    /// Index of the P the G was spawned on, whose M frees the task once it is dead
    /// (`dead_tasks.rs`), or `dead_tasks::NO_HOME`.
    home: u32,
    /// A [`GState`]. Written by the M running the G and by the schedule function; read by anyone
    /// (diagnostics). `Relaxed`: it is a report, nothing synchronises through it.
    state: AtomicU8,
    /// A [`WaitReason`], meaningful while `state` is `Waiting`. `Relaxed`, as `state`.
    wait_reason: AtomicU8,
    /// Set once by `JoinHandle::abort` or `AbortHandle::abort`. `SeqCst` store and load: the
    /// abort protocol in `registry.rs` relies on the parked-task registry lock *or* this flag
    /// being seen.
    aborted: AtomicBool,
}

/// The parts of a G record that only some Gs have.
struct GDetail {
    /// The name given through `task::Builder::name`.
    name: Option<Box<str>>,
    /// For a G spawned by `go!` with captures: what counting its wakers needs.
    counted: Option<CountedWakers>,
}

/// The leak pass's view of a G with `go!` captures (`gwaker.rs`, `task_source.rs`).
pub(crate) struct CountedWakers {
    /// The arena object holding the captures `go!` allocated for this G, which its future owns
    /// one handle to (the leak pass's task → captures edge).
    pub(crate) captures: gort_gc::Edge,
    /// Set by every wake through the G's counted waker, cleared when a poll starts: a G woken
    /// since its last poll is runnable, whatever `state` says.
    pub(crate) notified: AtomicBool,
    /// Counted wakers alive.
    pub(crate) wakers: AtomicU32,
    /// The async-task waker's data and vtable, set at the first poll, which counted wakers
    /// wrap.
    inner_data: AtomicPtr<()>,
    inner_vtable: AtomicPtr<RawWakerVTable>,
}

impl std::fmt::Debug for G {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("G")
            .field("id", &self.id)
            .field("name", &self.name())
            .field("location", &self.location)
            .field("state", &self.state())
            .field("wait_reason", &self.wait_reason())
            .finish()
    }
}

/// `G::registry_key` value of a G that has never returned `Pending`.
pub(crate) const NOT_REGISTERED: usize = usize::MAX;

/// How [`NOT_REGISTERED`] is stored in the record's 32-bit key.
const NO_REGISTRY_SLOT: u32 = u32::MAX;

impl G {
    /// A fresh record for a G about to be spawned.
    pub(crate) fn new(
        runtime: Arc<Shared>,
        location: &'static Location<'static>,
        name: Option<Box<str>>,
        captures: Option<gort_gc::Edge>,
        home: u32,
    ) -> G {
        let counted = captures.map(|captures| CountedWakers {
            captures,
            notified: AtomicBool::new(false),
            wakers: AtomicU32::new(0),
            inner_data: AtomicPtr::new(std::ptr::null_mut()),
            inner_vtable: AtomicPtr::new(std::ptr::null_mut()),
        });
        let detail =
            (name.is_some() || counted.is_some()).then(|| Box::new(GDetail { name, counted }));
        G {
            id: next_id(),
            location,
            runtime,
            detail,
            local_set: None,
            abort_target: AtomicPtr::new(std::ptr::null_mut()),
            registry_key: AtomicU32::new(NO_REGISTRY_SLOT),
            home,
            state: AtomicU8::new(GState::Runnable as u8),
            wait_reason: AtomicU8::new(WaitReason::Unknown as u8),
            aborted: AtomicBool::new(false),
        }
    }

    /// The record of a task of the `LocalSet` whose queue is `set`.
    pub(crate) fn for_local_set(mut self, set: Arc<LocalShared>) -> G {
        self.local_set = Some(set);
        self
    }

    /// The queue of the `LocalSet` this G is a task of, if it is one.
    pub(crate) fn local_set(&self) -> Option<&Arc<LocalShared>> {
        self.local_set.as_ref()
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
        self.detail.as_ref()?.name.as_deref()
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
        let mut target = self.abort_target.load(Ordering::Acquire);
        if target.is_null() {
            let made = Arc::into_raw(Arc::new(AbortTarget::new(self))).cast_mut();
            match self.abort_target.compare_exchange(
                std::ptr::null_mut(),
                made,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => target = made,
                Err(first) => {
                    // SAFETY: `made` came from `Arc::into_raw` above and was never published.
                    drop(unsafe { Arc::from_raw(made) });
                    target = first;
                }
            }
        }
        // SAFETY: a non-null `abort_target` is an `Arc::into_raw` the record holds a reference
        // to until its `Drop`, and the caller keeps the record alive.
        let target = unsafe {
            Arc::increment_strong_count(target);
            Arc::from_raw(target)
        };
        AbortHandle::new(target)
    }

    pub(crate) fn registry_key(&self) -> usize {
        match self.registry_key.load(Ordering::Relaxed) {
            NO_REGISTRY_SLOT => NOT_REGISTERED,
            key => key as usize,
        }
    }

    /// Records the G's registry key ([`NOT_REGISTERED`]: none). A key past `u32` (four
    /// billion tasks parked in one shard) is refused with a panic rather than wrapped.
    pub(crate) fn set_registry_key(&self, key: usize) {
        let key = if key == NOT_REGISTERED {
            NO_REGISTRY_SLOT
        } else {
            match u32::try_from(key) {
                Ok(key) if key != NO_REGISTRY_SLOT => key,
                _ => panic!("gort: more than 4294967294 tasks parked in one registry shard"),
            }
        };
        self.registry_key.store(key, Ordering::Relaxed);
    }

    /// The captures object, if `go!` gave the G any.
    pub(crate) fn captures(&self) -> Option<gort_gc::Edge> {
        self.counted().map(|counted| counted.captures)
    }

    /// What counting the G's wakers needs: `Some` exactly for a G with `go!` captures.
    pub(crate) fn counted(&self) -> Option<&CountedWakers> {
        self.detail.as_ref()?.counted.as_ref()
    }

    /// [`G::counted`] of a G known to have captures: one behind a counted waker, or visited by
    /// the leak pass.
    pub(crate) fn counting(&self) -> &CountedWakers {
        self.counted()
            .unwrap_or_else(|| counted_waker_without_captures())
    }

    /// A human-readable description for messages: `task 7 ("name") spawned at src/x.rs:3:5`.
    pub(crate) fn describe(&self) -> String {
        match self.name() {
            Some(name) => format!("task {} ({name:?}) spawned at {}", self.id, self.location),
            None => format!("task {} spawned at {}", self.id, self.location),
        }
    }
}

impl Drop for G {
    fn drop(&mut self) {
        // The record is about to be freed: its abort handles must stop using it (`abort.rs`).
        let target = *self.abort_target.get_mut();
        if !target.is_null() {
            // SAFETY: the record's own reference, from `Arc::into_raw` in `abort_handle`.
            let target = unsafe { Arc::from_raw(target) };
            target.g_dropped();
        }
    }
}

impl CountedWakers {
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

/// A counted waker (or the leak pass) reached a G without `go!` captures.
#[cold]
#[inline(never)]
fn counted_waker_without_captures() -> ! {
    panic!("gort: a counted waker of a task without captures; this is a bug in gort")
}

/// A G's counted waker was used before its first poll recorded the waker it wraps.
#[cold]
#[inline(never)]
fn counted_waker_before_first_poll() -> ! {
    panic!("gort: a counted waker was used before its task's first poll; this is a bug in gort")
}
