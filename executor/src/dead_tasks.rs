//! Finished tasks are freed by the P that spawned them.
//!
//! # Why
//!
//! A task's allocation (async-task's header, the G record, the future) is made by the thread
//! that spawns it and freed by whichever thread drops the last reference, usually the M that
//! ran it to completion. When an idle P steals work, those are two threads. glibc's malloc gives
//! each thread its own arena, and a chunk freed by another thread goes back to the arena it came
//! from under that arena's lock, the lock the spawning thread takes for its next `malloc`. In
//! `spawn200k` (one task spawning 200k tasks that the other P steals and runs) a third of the
//! samples were that lock's futex waits and wakes, and the same binary with mimalloc ran at
//! 95 ns per task instead of 250. Go's allocator has per-P caches for the same reason; gort
//! cannot choose its users' allocator, so it sends the memory home instead.
//!
//! # How
//!
//! A G records the P it was spawned on ([`G::home`]). When its future completes on another P
//! ([`finished`]), the wrapper clones the task's waker, which keeps the allocation alive after
//! async-task drops its own reference, and puts it in the running P's outbox. Every
//! [`OUTBOX_BATCH`] tasks, and whenever the P runs out of local work, the outbox is handed
//! to each home P's inbox under one lock per home. The home P frees a returned task (drops its
//! waker: the last reference, so async-task frees the task) just before each spawn's
//! allocation: glibc puts the chunk in the thread's cache (tcache) and the spawn's `malloc`
//! takes it straight back, with no arena lock at all, where freeing a whole batch at once sent
//! all but 7 of them through the arena. What is left is freed whenever the P runs out of local
//! work. A free is now one waker clone and a share of one lock per batch, where it was a
//! contended arena lock per task.
//!
//! Bounds: an inbox holding [`INBOX_LIMIT`] tasks (its P is idle or stuck in one long poll
//! that does not spawn) takes no more; the sender frees such a batch itself, as before. At
//! shutdown every box is emptied (`shutdown.rs`): a waker in a box holds its G record, and the
//! record holds the runtime, so a box left full would keep the runtime alive.
//!
//! Tasks spawned off any P (from outside the runtime, on the blocking pool, on a `LocalSet`)
//! have no home and are freed where they finish, as are tasks finishing on their home P.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::task::Waker;

use crossbeam_utils::CachePadded;

use crate::context;
use crate::g::G;
use crate::p::P;
use crate::shared::Shared;

/// Dead tasks an outbox collects before it is handed to their homes.
pub(crate) const OUTBOX_BATCH: usize = 32;

/// Dead tasks an inbox holds at most; a batch that would take it past this is freed by its
/// sender.
pub(crate) const INBOX_LIMIT: usize = 4096;

/// `G::home` of a G spawned off any P.
pub(crate) const NO_HOME: u32 = u32::MAX;

/// One P's dead tasks: those it finished for other Ps, and those other Ps finished for it.
pub(crate) struct DeadTasks {
    /// Tasks this P finished for other Ps, each with its home's index, not yet handed over.
    /// Owner-only: the M holding the P (or the drain at shutdown, standing in for it).
    outbox: UnsafeCell<Vec<(u32, Waker)>>,
    /// Returned tasks taken from the inbox, freed one per spawn. Owner-only.
    to_free: UnsafeCell<Vec<Waker>>,
    /// Tasks other Ps returned, behind a lock of its own on a line of its own.
    inbox: CachePadded<Inbox>,
}

struct Inbox {
    /// Tasks queued, a snapshot readable without the lock (the owner's "anything returned?"
    /// check at a spawn). Written under the lock.
    len: AtomicUsize,
    wakers: Mutex<Vec<Waker>>,
}

// SAFETY: `outbox` and `to_free` are only touched by the P's owner (every method using them is
// `unsafe` with that contract), one thread at a time; the inbox is behind its mutex; `Waker` is
// `Send`.
unsafe impl Send for DeadTasks {}
// SAFETY: as above.
unsafe impl Sync for DeadTasks {}

impl DeadTasks {
    pub(crate) fn new() -> DeadTasks {
        DeadTasks {
            outbox: UnsafeCell::new(Vec::new()),
            to_free: UnsafeCell::new(Vec::new()),
            inbox: CachePadded::new(Inbox {
                len: AtomicUsize::new(0),
                wakers: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Adds a dead task whose home is `home`; returns whether the outbox is full.
    ///
    /// # Safety
    ///
    /// The caller holds this P.
    unsafe fn push(&self, home: u32, waker: Waker) -> bool {
        // SAFETY: owner-only (the caller's contract), so no other reference exists.
        let outbox = unsafe { &mut *self.outbox.get() };
        if outbox.capacity() == 0 {
            outbox.reserve_exact(OUTBOX_BATCH);
        }
        outbox.push((home, waker));
        outbox.len() >= OUTBOX_BATCH
    }

    /// Hands every task in the outbox to its home's inbox.
    ///
    /// # Safety
    ///
    /// The caller holds this P.
    pub(crate) unsafe fn send(&self, shared: &Shared) {
        // SAFETY: owner-only (the caller's contract).
        let outbox = unsafe { &mut *self.outbox.get() };
        if outbox.is_empty() {
            return;
        }
        // Grouped by home, so that each home's lock is taken once (few Ps: a sort of 32 pairs).
        outbox.sort_unstable_by_key(|&(home, _)| home);
        let mut rest = &mut outbox[..];
        while let Some(&(home, _)) = rest.first() {
            let same = rest.iter().take_while(|(h, _)| *h == home).count();
            let (group, tail) = rest.split_at_mut(same);
            shared.ps[home as usize].dead.receive(group, shared);
            rest = tail;
        }
        // The wakers `receive` left in place are the ones it refused: freed here.
        outbox.clear();
    }

    /// Takes the wakers of `group` (all of this P) into the inbox, unless it is full; taken
    /// slots are left holding a no-op waker, refused ones keep theirs for the caller to drop.
    fn receive(&self, group: &mut [(u32, Waker)], shared: &Shared) {
        let mut wakers = self.lock_inbox();
        if wakers.len() + group.len() > INBOX_LIMIT {
            return;
        }
        wakers.extend(
            group
                .iter_mut()
                .map(|(_, waker)| std::mem::replace(waker, Waker::noop().clone())),
        );
        self.inbox.len.store(wakers.len(), Ordering::Relaxed);
        drop(wakers);
        // Shutdown empties every inbox after setting its flag: a batch that arrived after that
        // emptying would keep the runtime alive, so its sender frees it (the lock orders the
        // two: whoever locked second sees the other's work).
        if shared.is_shutdown() {
            self.free_inbox();
        }
    }

    /// Frees one returned task, if there is one, just before a spawn allocates (module doc).
    /// One `Relaxed` load when nothing was returned.
    ///
    /// # Safety
    ///
    /// The caller holds this P.
    pub(crate) unsafe fn free_one(&self) {
        // SAFETY: owner-only (the caller's contract).
        let to_free = unsafe { &mut *self.to_free.get() };
        if to_free.is_empty() {
            if self.inbox.len.load(Ordering::Relaxed) == 0 {
                return;
            }
            // A swap, so that both vectors keep their capacity and neither side allocates.
            let mut wakers = self.lock_inbox();
            std::mem::swap(&mut *wakers, to_free);
            self.inbox.len.store(0, Ordering::Relaxed);
        }
        // The task's last reference: dropping it frees the task.
        drop(to_free.pop());
    }

    /// Frees every returned task, taken or not.
    ///
    /// # Safety
    ///
    /// The caller holds this P.
    unsafe fn free_all(&self) {
        // SAFETY: owner-only (the caller's contract).
        unsafe { &mut *self.to_free.get() }.clear();
        self.free_inbox();
    }

    /// Frees every task in the inbox. Anyone may call it.
    pub(crate) fn free_inbox(&self) {
        if self.inbox.len.load(Ordering::Relaxed) == 0 {
            return;
        }
        let wakers = {
            let mut wakers = self.lock_inbox();
            self.inbox.len.store(0, Ordering::Relaxed);
            std::mem::take(&mut *wakers)
        };
        // Outside the lock: each is its task's last reference, and dropping it frees the task.
        drop(wakers);
    }

    fn lock_inbox(&self) -> MutexGuard<'_, Vec<Waker>> {
        // No user code runs under the lock (wakers are dropped outside it), so a poisoned lock
        // still guards a consistent `Vec`.
        self.inbox
            .wakers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Called by G `g`'s wrapper when its future has completed, with the task's own waker: if the
/// G is running away from its home P, keeps the task alive in this P's outbox so that its home
/// frees it (module doc).
pub(crate) fn finished(g: &G, waker: &Waker) {
    let home = g.home();
    if home == NO_HOME {
        return;
    }
    let shared = g.runtime();
    let Some(p) = context::current_p_of(shared) else {
        return;
    };
    if p.index == home as usize {
        return;
    }
    // SAFETY: `current_p_of` returns only a P this thread holds.
    if unsafe { p.dead.push(home, waker.clone()) } {
        // SAFETY: as above.
        unsafe { p.dead.send(shared) };
    }
}

/// The P's M ran out of local work (or is giving the P up for good): hands its outbox to the
/// tasks' homes and frees every task returned to it.
///
/// # Safety
///
/// The caller holds `p`, a P of `shared`.
pub(crate) unsafe fn settle(shared: &Shared, p: &P) {
    // SAFETY: the caller's contract.
    unsafe {
        p.dead.send(shared);
        p.dead.free_all();
    }
}
