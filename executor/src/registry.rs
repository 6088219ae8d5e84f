//! The parked-task registry: a waker for every G whose future is alive and not queued.
//!
//! # Why
//!
//! A G that returned `Pending` is referenced only by whoever holds its waker (a channel, a
//! timer, or nobody at all for `std::future::pending()`). Two operations must still reach it:
//! `JoinHandle::abort` must get it polled once more so that it can drop its future, and runtime
//! shutdown must drop *every* G's future (DESIGN.md §3). async-task offers no way to cancel a task
//! from the outside except through its `Task` handle, which a detached G no longer has.
//!
//! So the first time a G's future returns `Pending`, its wrapper (`gfuture.rs`) stores a clone of
//! the G's own waker here, and removes it when the future is dropped. Waking that clone
//! reschedules the G; with the abort flag set (or the runtime shut down) the G then drops its
//! future instead of polling it. Gs that complete on their first poll (most spawned tasks in a
//! spawn-heavy program) never touch the registry.
//!
//! The stored waker keeps the task allocation alive while the future lives, which is what makes
//! the G record (and its `registry_key`) safe to read from `abort` and shutdown.
//!
//! # Abort protocol
//!
//! `abort` sets `G::aborted`, then reads `G::registry_key` under the shard lock and wakes the
//! waker it finds. The wrapper registers under the same lock, then reads `G::aborted`. Whichever
//! takes the lock second sees the other's write, so a G aborted during its first poll is either
//! woken or notices the flag itself; it is never left parked.
//!
//! Shards are keyed by G id so that two Ps registering at once rarely share a lock.

use std::sync::Mutex;
use std::task::Waker;

use crossbeam_utils::CachePadded;
use slab::Slab;

use crate::g::{G, NOT_REGISTERED};

/// Number of independently locked shards.
const SHARDS: usize = 16;

/// Wakers of every parked G of one runtime.
pub(crate) struct Registry {
    /// `Slab` keys are stored in `G::registry_key`; a G always lives in shard `id % SHARDS`.
    shards: Box<[CachePadded<Mutex<Slab<Waker>>>]>,
}

impl Registry {
    pub(crate) fn new() -> Registry {
        Registry {
            shards: (0..SHARDS)
                .map(|_| CachePadded::new(Mutex::new(Slab::new())))
                .collect(),
        }
    }

    fn shard(&self, g: &G) -> &Mutex<Slab<Waker>> {
        &self.shards[(g.id() % SHARDS as u64) as usize]
    }

    /// Records `waker` as the way to reach `g`. Called once, by `g`'s wrapper, on its first
    /// `Pending`.
    pub(crate) fn register(&self, g: &G, waker: &Waker) {
        let mut shard = lock(self.shard(g));
        let key = shard.insert(waker.clone());
        g.set_registry_key(key);
    }

    /// Forgets `g` (its future is being dropped). The waker is dropped outside the lock.
    pub(crate) fn deregister(&self, g: &G) {
        let key = g.registry_key();
        if key == NOT_REGISTERED {
            return;
        }
        let waker = lock(self.shard(g)).try_remove(key);
        g.set_registry_key(NOT_REGISTERED);
        drop(waker);
    }

    /// The waker of `g` if it is parked (the abort protocol above), for the caller to wake.
    pub(crate) fn parked_waker(&self, g: &G) -> Option<Waker> {
        let shard = lock(self.shard(g));
        let key = g.registry_key();
        shard.get(key).cloned()
    }

    /// Calls `visit` with every registered G that counts its wakers (one with `go!` captures:
    /// its stored waker is a counted one, `gwaker.rs`, whose data pointer is the G record,
    /// alive while the waker is).
    pub(crate) fn for_each_counted(&self, mut visit: impl FnMut(&G)) {
        for shard in self.shards.iter() {
            for (_, waker) in lock(shard).iter() {
                if std::ptr::eq(waker.vtable(), &crate::gwaker::VTABLE) {
                    // SAFETY: a counted waker's data is its G record, kept alive by the waker.
                    visit(unsafe { &*waker.data().cast::<G>() });
                }
            }
        }
    }

    /// Wakes every parked G (shutdown) and returns how many there were.
    pub(crate) fn wake_all(&self) -> usize {
        let mut woken = 0;
        for shard in self.shards.iter() {
            let wakers: Vec<Waker> = lock(shard).iter().map(|(_, w)| w.clone()).collect();
            woken += wakers.len();
            for waker in wakers {
                waker.wake();
            }
        }
        woken
    }
}

/// Locks a shard. A poisoned shard is still consistent (no user code runs under the lock), so the
/// poison is ignored.
fn lock(shard: &Mutex<Slab<Waker>>) -> std::sync::MutexGuard<'_, Slab<Waker>> {
    shard
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
