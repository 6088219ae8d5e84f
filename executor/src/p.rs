//! The P: a logical processor. An M (thread) must hold a P to run Gs.
//!
//! A P owns a [`RunQueue`] ring and a `runnext` slot (Go's runnext, tokio's LIFO slot). A G that
//! the running G spawns or wakes goes into `runnext` and runs as soon as the running G yields
//! the thread, *inheriting its time slice* (the P's `schedtick` does not advance), so that a set
//! of Gs locked in a communicate-and-wait pattern is scheduled as a unit on one thread, with no
//! wakeup of another thread. The G it displaces goes to the tail of the ring.
//!
//! Time-slice inheritance alone would let a ping-pong pair starve the ring forever (Go relies on
//! sysmon's preemption for that). gort caps the streak: after [`MAX_RUNNEXT_STREAK`]
//! consecutive `runnext` runs, the head of the ring runs first (tokio caps its LIFO slot at 3
//! for the same reason).
//!
//! Every method marked `unsafe` is an owner operation: the caller must hold this P (be the M it
//! is acquired by). Thieves use only [`P::steal_into`]'s victim side and the safe snapshots.

use std::panic::Location;
use std::ptr::{self, NonNull};
use std::sync::atomic::{
    AtomicBool, AtomicI64, AtomicPtr, AtomicU32, AtomicU64, AtomicU8, Ordering,
};
use std::sync::Arc;
use std::time::Duration;

use gort_timer::Timers;

use crate::dead_tasks::DeadTasks;
use crate::syscall::SyscallState;

use crate::queue::RunQueue;
use crate::Task;

/// Consecutive `runnext` runs before the ring's head gets a turn.
pub(crate) const MAX_RUNNEXT_STREAK: u32 = 3;

/// How long a thief waits before taking a running P's `runnext` (Go's `usleep(3)` in
/// `runqgrab`): the G in `runnext` was usually readied by the running G, which is about to block
/// and run it; stealing it in that window would move a ping-pong pair apart. Like Go's `usleep`,
/// this is a real sleep, which on Linux lasts tens of µs (timer slack): a 3 µs spin was too short
/// in debug builds, where 6% of the Gs `block_on` spawned were stolen before it could run them.
const RUNNEXT_STEAL_BACKOFF: Duration = Duration::from_micros(3);

/// One logical processor.
pub(crate) struct P {
    /// Position in the runtime's `ps` array.
    pub(crate) index: usize,
    /// The ring of runnable Gs.
    runq: RunQueue,
    /// The G to run next, as a raw `Runnable` pointer, or null. The owner swaps it (`AcqRel`:
    /// publishes the task it puts, acquires the one it takes); thieves take it with an `AcqRel`
    /// CAS to null.
    runnext: AtomicPtr<()>,
    /// Go's `schedtick`: incremented each time the P runs a G that did not inherit a time slice.
    /// The global queue is checked first every 61st tick. Owner-only writes; `Relaxed`.
    schedtick: AtomicU32,
    /// Consecutive `runnext` runs (see [`MAX_RUNNEXT_STREAK`]). Owner-only; `Relaxed`.
    runnext_streak: AtomicU32,
    /// Gs spawned minus Gs died while this P was held, for `num_goroutine`. Owner-only writes
    /// (load plus store, no read-modify-write); anyone may read a snapshot. `Relaxed`.
    goroutines: AtomicI64,
    /// The P's timers (`timers.rs`): armed by the Gs it runs, run by its M in `find_runnable`,
    /// by thieves, and by the M in the poller.
    pub(crate) timers: Arc<Timers>,
    /// Whether its M is inside `block_in_place`, raced by sysmon's retake (`syscall.rs`).
    pub(crate) syscall: SyscallState,
    /// Whether an M holds this P. Written by `acquirep`/`releasep`, read by thieves to decide
    /// whether to back off before stealing `runnext`. `Relaxed`: a hint.
    held: AtomicBool,
    /// The id of the G whose poll this P's M is inside, or 0 between polls (`MAIN_G_ID` for
    /// `block_on`'s main future). Written by the owner around every poll, read by sysmon to
    /// tell a stuck poll from a busy P (`rescue.rs`). `Relaxed`: a stale read only delays or
    /// (in a benign race, see `rescue.rs`) hastens a rescue.
    running_id: AtomicU64,
    /// Where the G in `running_id` was spawned, for `GORT_DEBUG=blockwarn=1`. `Relaxed`, as
    /// above; always a valid `&'static Location` or null.
    running_location: AtomicPtr<Location<'static>>,
    /// [`Role`]: active, detached (replaced by a spare while its M is stuck) or spare
    /// (`rescue.rs`). Written under `sched.lock` or by sysmon; `Acquire`/`Release`.
    role: AtomicU8,
    /// Dead tasks this P finished for other Ps, and those other Ps finished for it, for its M
    /// to free (`dead_tasks.rs`).
    pub(crate) dead: DeadTasks,
}

/// The id `block_on`'s main future runs under in [`P::begin_poll`] (no G has it: ids start at 1
/// and count up).
pub(crate) const MAIN_G_ID: u64 = u64::MAX;

/// What a P is to the scheduler (`rescue.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Role {
    /// One of the GOMAXPROCS Ps in service: held by an M or on the idle list.
    Active = 0,
    /// Still held by an M stuck in one poll, but replaced by a spare: its M retires it to the
    /// spare pool when the poll returns.
    Detached = 1,
    /// In the spare pool: held by nobody, with empty queues, until sysmon activates it.
    Spare = 2,
}

impl P {
    pub(crate) fn new(index: usize, timers: Timers) -> P {
        P {
            index,
            timers: Arc::new(timers),
            syscall: SyscallState::new(),
            runq: RunQueue::new(),
            runnext: AtomicPtr::new(ptr::null_mut()),
            schedtick: AtomicU32::new(0),
            runnext_streak: AtomicU32::new(0),
            goroutines: AtomicI64::new(0),
            held: AtomicBool::new(false),
            running_id: AtomicU64::new(0),
            running_location: AtomicPtr::new(ptr::null_mut()),
            role: AtomicU8::new(Role::Active as u8),
            dead: DeadTasks::new(),
        }
    }

    /// The owner is about to poll G `id`, spawned at `location` (two `Relaxed` stores).
    pub(crate) fn begin_poll(&self, id: u64, location: &'static Location<'static>) {
        self.running_location
            .store(ptr::from_ref(location).cast_mut(), Ordering::Relaxed);
        self.running_id.store(id, Ordering::Relaxed);
    }

    /// The owner's poll returned (or the P changes hands). Returns whether sysmon detached the
    /// P meanwhile, in which case the owner must retire it (`Shared::retire_detached`).
    pub(crate) fn end_poll(&self) -> bool {
        self.clear_running();
        self.role() == Role::Detached
    }

    /// Records that no poll is in progress on this P (`end_poll`, and `acquirep` for a P
    /// whose previous M lost it inside a poll).
    pub(crate) fn clear_running(&self) {
        self.running_id.store(0, Ordering::Relaxed);
    }

    /// The G whose poll this P's M is inside, if any: its id and spawn location.
    pub(crate) fn running(&self) -> Option<(u64, &'static Location<'static>)> {
        let id = self.running_id.load(Ordering::Relaxed);
        let location = self.running_location.load(Ordering::Relaxed);
        // SAFETY: `running_location` only ever holds null or a `&'static Location`.
        let location = unsafe { location.as_ref() }?;
        (id != 0).then_some((id, location))
    }

    /// This P's role (`rescue.rs`).
    pub(crate) fn role(&self) -> Role {
        match self.role.load(Ordering::Acquire) {
            0 => Role::Active,
            1 => Role::Detached,
            _ => Role::Spare,
        }
    }

    /// Sets this P's role; see [`Role`] for who may.
    pub(crate) fn set_role(&self, role: Role) {
        self.role.store(role as u8, Ordering::Release);
    }

    /// Whether `runnext` is empty now. Only the owner fills it, so an owner that sees it empty
    /// may fill it without displacing anyone (a thief may empty it meanwhile, never fill it).
    pub(crate) fn runnext_is_empty(&self) -> bool {
        self.runnext.load(Ordering::Relaxed).is_null()
    }

    /// Go's `runqput`: queues `task`, into `runnext` if `next` (the displaced G goes to the tail).
    /// On a full ring returns the batch (half the ring plus one) for the global queue.
    ///
    /// # Safety
    ///
    /// The caller holds this P.
    pub(crate) unsafe fn push(&self, task: Task, next: bool) -> Result<(), Vec<Task>> {
        let mut raw = task.into_raw();
        if next {
            let old = self.runnext.swap(raw.as_ptr(), Ordering::AcqRel);
            match NonNull::new(old) {
                None => return Ok(()),
                Some(old) => raw = old,
            }
        }
        // SAFETY: the caller holds this P, so this thread is the ring's only owner.
        let local = unsafe { self.runq.local() };
        local.push_back(raw).map_err(|batch| {
            batch
                .into_iter()
                // SAFETY: every pointer in the ring came from `Runnable::into_raw` and the ring
                // hands each one out exactly once.
                .map(|raw| unsafe { Task::from_raw(raw) })
                .collect()
        })
    }

    /// Go's `runqget`: the next G to run and whether it inherits the time slice.
    ///
    /// # Safety
    ///
    /// The caller holds this P.
    pub(crate) unsafe fn pop(&self) -> Option<(Task, bool)> {
        // SAFETY: the caller holds this P.
        let local = unsafe { self.runq.local() };
        let streak = self.runnext_streak.load(Ordering::Relaxed);
        // Peek before swapping: an empty `runnext` (every yield-heavy workload) then costs a
        // plain load instead of a locked exchange.
        let has_next = !self.runnext.load(Ordering::Relaxed).is_null();
        if has_next && (streak < MAX_RUNNEXT_STREAK || local.is_empty()) {
            let next = self.runnext.swap(ptr::null_mut(), Ordering::AcqRel);
            if let Some(next) = NonNull::new(next) {
                self.runnext_streak.store(streak + 1, Ordering::Relaxed);
                // SAFETY: `runnext` only ever holds pointers from `Runnable::into_raw`, and the
                // swap made us its only holder.
                let task = unsafe { Task::from_raw(next) };
                return Some((task, streak < MAX_RUNNEXT_STREAK));
            }
        }
        self.runnext_streak.store(0, Ordering::Relaxed);
        if let Some(raw) = local.pop() {
            // SAFETY: as above; the ring hands each pointer out once.
            return Some((unsafe { Task::from_raw(raw) }, false));
        }
        // The streak cap sent us to the ring, but thieves emptied it after the look above: the
        // G in `runnext` is all there is, and skipping it would leave the P looking idle with
        // a queued G (found by a channel ping-pong under stealing).
        let next = self.runnext.swap(ptr::null_mut(), Ordering::AcqRel);
        // SAFETY: as above: `runnext` holds `Runnable::into_raw` pointers and the swap made us
        // the only holder.
        NonNull::new(next).map(|next| (unsafe { Task::from_raw(next) }, false))
    }

    /// Go's `runqsteal`: moves half of `victim`'s ring into this P's (empty) ring and returns a
    /// stolen G to run. If the ring was empty and `steal_runnext` (the last steal round), takes
    /// the victim's `runnext` instead, after a short back-off if the victim is running.
    ///
    /// # Safety
    ///
    /// The caller holds this P (not the victim).
    pub(crate) unsafe fn steal_from(&self, victim: &P, steal_runnext: bool) -> Option<Task> {
        // SAFETY: the caller holds this P.
        let local = unsafe { self.runq.local() };
        if let Some(raw) = local.steal_from(&victim.runq) {
            // SAFETY: the ring hands each `Runnable::into_raw` pointer out once.
            return Some(unsafe { Task::from_raw(raw) });
        }
        if !steal_runnext {
            return None;
        }
        let next = victim.runnext.load(Ordering::Acquire);
        if next.is_null() {
            return None;
        }
        if victim.held.load(Ordering::Relaxed) {
            std::thread::sleep(RUNNEXT_STEAL_BACKOFF);
        }
        victim
            .runnext
            .compare_exchange(next, ptr::null_mut(), Ordering::AcqRel, Ordering::Relaxed)
            .ok()
            .and_then(NonNull::new)
            // SAFETY: the CAS made us the only holder of a pointer from `Runnable::into_raw`.
            .map(|raw| unsafe { Task::from_raw(raw) })
    }

    /// Whether the P has queued work (snapshot; used by the spinning M's final re-check and by
    /// handoff decisions).
    pub(crate) fn has_work(&self) -> bool {
        !self.runq.is_empty() || !self.runnext.load(Ordering::Acquire).is_null()
    }

    /// Number of Gs in the ring (not counting `runnext`). Exact for the owner.
    pub(crate) fn ring_len(&self) -> usize {
        self.runq.len()
    }

    /// The P's `schedtick`.
    pub(crate) fn schedtick(&self) -> u32 {
        self.schedtick.load(Ordering::Relaxed)
    }

    /// Counts one scheduling round that did not inherit a time slice.
    ///
    /// # Safety
    ///
    /// The caller holds this P.
    pub(crate) unsafe fn tick(&self) {
        let tick = self.schedtick.load(Ordering::Relaxed);
        self.schedtick
            .store(tick.wrapping_add(1), Ordering::Relaxed);
    }

    /// Adds `delta` to this P's goroutine count.
    ///
    /// # Safety
    ///
    /// The caller holds this P (the update is a load and a store, not an atomic add).
    pub(crate) unsafe fn add_goroutines(&self, delta: i64) {
        let count = self.goroutines.load(Ordering::Relaxed);
        self.goroutines.store(count + delta, Ordering::Relaxed);
    }

    /// This P's share of `num_goroutine` (may be negative: Gs spawned elsewhere died here).
    pub(crate) fn goroutines(&self) -> i64 {
        self.goroutines.load(Ordering::Relaxed)
    }

    /// Whether an M holds this P (a hint: `Relaxed`).
    pub(crate) fn is_held(&self) -> bool {
        self.held.load(Ordering::Relaxed)
    }

    pub(crate) fn set_held(&self, held: bool) {
        self.held.store(held, Ordering::Relaxed);
    }

    /// Removes every queued G (shutdown, or a detached P retiring to the spare pool).
    ///
    /// # Safety
    ///
    /// The caller holds this P, or no M does and the caller is the only thread draining it.
    pub(crate) unsafe fn drain(&self) -> Vec<Task> {
        let mut tasks = Vec::new();
        let next = self.runnext.swap(ptr::null_mut(), Ordering::AcqRel);
        if let Some(next) = NonNull::new(next) {
            // SAFETY: the swap made us the only holder of a `Runnable::into_raw` pointer.
            tasks.push(unsafe { Task::from_raw(next) });
        }
        // SAFETY: the caller stands in for the owner: nobody else holds the P.
        let local = unsafe { self.runq.local() };
        // SAFETY: as in `pop`.
        tasks.extend(std::iter::from_fn(|| local.pop()).map(|raw| unsafe { Task::from_raw(raw) }));
        tasks
    }
}
