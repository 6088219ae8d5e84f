//! Stopping the world: how a collection gets a consistent view of counts and edges while other
//! threads run.
//!
//! # Why the world must stop
//!
//! Trial deletion (`collector.rs`) reads every object's count and every traced edge, and
//! subtracts one from the other. The result means something only if no handle is cloned,
//! dropped, or moved out of a traced place (a channel's buffer) while it reads: a thread that
//! clones a handle out of an object the collector has already counted, then drops the outer
//! handle, leaves both objects looking unreferenced from outside while it holds one of them.
//! Go stops the world for the same reason at the start and end of marking; CPython holds the
//! GIL.
//!
//! # Pinning
//!
//! Every operation that can change counts or traced edges runs *pinned*: `Gc` clones and drops
//! of registered objects, channel operations, and every poll of a gort task (the executor pins
//! around the whole poll, so the operations inside pay a thread-local check and nothing else).
//! A pin is one flag per thread, in its own [`Slot`]:
//!
//! ```text
//!   mutator (pin)                     collector (stop)
//!   slot.pinned = true                requested = true
//!   fence(SeqCst)                     fence(SeqCst)
//!   if requested                      for each slot: wait until !slot.pinned
//!       unpin, wait for resume
//! ```
//!
//! With a sequentially consistent fence between each side's store and its load, at least one
//! side sees the other's store (Dekker): either the mutator backs off, or the collector waits
//! for it to unpin. (Fences rather than `SeqCst` accesses: loom models the fences, and its
//! model of this handshake, `tests/loom_safepoint.rs`, failed with `SeqCst` accesses alone.)
//! Unpinning is a `Release` store the collector's load acquires, so everything the mutator did
//! while pinned is visible to the collection. Resuming clears `requested` under a mutex the
//! waiting mutators sleep on.
//!
//! The world is stopped only between polls: a task that blocks its thread inside a poll delays
//! a collection until the poll returns (the stuck-poll rescue gives its P to another thread,
//! but that thread waits at the collection too). Channel operations that block a thread
//! (`send_blocking`, `recv_blocking`) unpin while they wait.
//!
//! A thread whose thread-local slot is already destroyed (a handle dropped by another
//! thread-local's destructor) pins through one shared counter instead.

use crate::loom::{backoff, fence, Arc, AtomicBool, AtomicUsize, Condvar, Mutex, Ordering};

/// One thread's pin flag, on its own cache line.
#[repr(align(128))]
pub struct Slot {
    pinned: AtomicBool,
}

/// The stop-the-world state: whether a collection wants the world stopped, and every thread's
/// slot.
pub struct World {
    requested: AtomicBool,
    slots: Mutex<Vec<Arc<Slot>>>,
    /// Pins of threads without a slot (see the module doc).
    anonymous: AtomicUsize,
    /// Held while checking `requested` before sleeping, and while clearing it.
    resume_lock: Mutex<()>,
    resumed: Condvar,
}

impl World {
    /// A world with no threads.
    #[cfg(not(loom))]
    pub const fn new() -> World {
        World {
            requested: AtomicBool::new(false),
            slots: Mutex::new(Vec::new()),
            anonymous: AtomicUsize::new(0),
            resume_lock: Mutex::new(()),
            resumed: Condvar::new(),
        }
    }

    /// A world with no threads.
    #[cfg(loom)]
    pub fn new() -> World {
        World {
            requested: AtomicBool::new(false),
            slots: Mutex::new(Vec::new()),
            anonymous: AtomicUsize::new(0),
            resume_lock: Mutex::new(()),
            resumed: Condvar::new(),
        }
    }

    /// A slot for a new thread.
    pub fn register(&self) -> Arc<Slot> {
        let slot = Arc::new(Slot {
            pinned: AtomicBool::new(false),
        });
        lock(&self.slots).push(Arc::clone(&slot));
        slot
    }

    /// Forgets an exiting thread's slot (it is not pinned).
    pub fn unregister(&self, slot: &Arc<Slot>) {
        lock(&self.slots).retain(|other| !Arc::ptr_eq(other, slot));
    }

    /// Pins `slot`, waiting out a collection in progress.
    pub fn pin(&self, slot: &Slot) {
        loop {
            slot.pinned.store(true, Ordering::Relaxed);
            fence(Ordering::SeqCst);
            // `Acquire`: what the last collection did (freeing, unregistering) happens before
            // what this pinned section does.
            if !self.requested.load(Ordering::Acquire) {
                return;
            }
            slot.pinned.store(false, Ordering::SeqCst);
            self.wait_for_resume();
        }
    }

    /// Unpins `slot`.
    pub fn unpin(&self, slot: &Slot) {
        slot.pinned.store(false, Ordering::Release);
    }

    /// Pins through the shared counter (a thread without a slot).
    pub fn pin_anonymous(&self) {
        loop {
            self.anonymous.fetch_add(1, Ordering::Relaxed);
            fence(Ordering::SeqCst);
            if !self.requested.load(Ordering::Acquire) {
                return;
            }
            self.anonymous.fetch_sub(1, Ordering::SeqCst);
            self.wait_for_resume();
        }
    }

    /// Undoes [`World::pin_anonymous`].
    pub fn unpin_anonymous(&self) {
        self.anonymous.fetch_sub(1, Ordering::Release);
    }

    fn wait_for_resume(&self) {
        let mut guard = lock(&self.resume_lock);
        while self.requested.load(Ordering::Acquire) {
            guard = self
                .resumed
                .wait(guard)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }

    /// Stops the world: returns once no thread is pinned, and none can pin until
    /// [`World::resume`]. The caller must not be pinned, and only one caller at a time may stop
    /// the world (the collector's lock).
    pub fn stop(&self) {
        let stopped = self.try_stop(&mut || false);
        debug_assert!(stopped);
    }

    /// [`World::stop`], giving up (and returning `false`) as soon as `give_up` says so while a
    /// thread is still pinned. The caller must then [`World::resume`]: new pins are held off
    /// until it does. The collector gives up after a while rather than wait forever for a
    /// thread that is blocked, inside its pinned section, on a thread waiting to pin (a task
    /// locking a `std` mutex held by a thread about to send on a channel).
    pub fn try_stop(&self, give_up: &mut dyn FnMut() -> bool) -> bool {
        self.requested.store(true, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        let slots = lock(&self.slots).clone();
        // `Acquire`, pairing with `unpin`'s `Release`: what a mutator did while pinned happens
        // before the collection reads it.
        for slot in &slots {
            let mut round = 0;
            while slot.pinned.load(Ordering::Acquire) {
                if give_up() {
                    return false;
                }
                backoff(&mut round);
            }
        }
        let mut round = 0;
        while self.anonymous.load(Ordering::Acquire) != 0 {
            if give_up() {
                return false;
            }
            backoff(&mut round);
        }
        true
    }

    /// Lets pinned threads run again.
    pub fn resume(&self) {
        {
            let _guard = lock(&self.resume_lock);
            self.requested.store(false, Ordering::Release);
        }
        self.resumed.notify_all();
    }
}

impl Default for World {
    fn default() -> World {
        World::new()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> crate::loom::MutexGuardOf<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(not(loom))]
pub use global::PinGuard;
#[cfg(not(loom))]
pub(crate) use global::{pin, WORLD};

/// The process's world and the thread-local pins (not under loom: loom models drive a
/// [`World`] of their own).
#[cfg(not(loom))]
mod global {
    use std::cell::Cell;
    use std::marker::PhantomData;
    use std::sync::Arc;

    use super::{Slot, World};

    /// The one world every arena object lives in.
    pub(crate) static WORLD: World = World::new();

    /// This thread's slot and how many pins it holds (pins nest: a poll pins, and the channel
    /// operations inside it pin again for free).
    struct LocalPin {
        slot: Arc<Slot>,
        depth: Cell<usize>,
    }

    impl Drop for LocalPin {
        fn drop(&mut self) {
            WORLD.unregister(&self.slot);
        }
    }

    thread_local! {
        static LOCAL: LocalPin = LocalPin {
            slot: WORLD.register(),
            depth: Cell::new(0),
        };
    }

    /// Proof that this thread is pinned; unpins when the last one is dropped.
    pub struct PinGuard {
        anonymous: bool,
        /// Pins belong to a thread.
        _not_send: PhantomData<*const ()>,
    }

    /// Pins this thread (module doc of `safepoint.rs`).
    pub(crate) fn pin() -> PinGuard {
        let pinned = LOCAL.try_with(|local| {
            let depth = local.depth.get();
            if depth == 0 {
                WORLD.pin(&local.slot);
            }
            local.depth.set(depth + 1);
        });
        if pinned.is_err() {
            WORLD.pin_anonymous();
        }
        PinGuard {
            anonymous: pinned.is_err(),
            _not_send: PhantomData,
        }
    }

    impl Drop for PinGuard {
        fn drop(&mut self) {
            if self.anonymous {
                WORLD.unpin_anonymous();
                return;
            }
            let _ = LOCAL.try_with(|local| {
                let depth = local.depth.get() - 1;
                local.depth.set(depth);
                if depth == 0 {
                    WORLD.unpin(&local.slot);
                }
            });
        }
    }

    /// Runs `f` with this thread unpinned, whatever pins it holds (a collector must not hold
    /// off its own stop; a thread about to sleep must not hold off anyone's). Repins after.
    pub(crate) fn unpinned<R>(f: impl FnOnce() -> R) -> R {
        let held = LOCAL
            .try_with(|local| {
                let depth = local.depth.replace(0);
                if depth > 0 {
                    WORLD.unpin(&local.slot);
                }
                depth
            })
            .unwrap_or(0);
        let result = f();
        if held > 0 {
            let _ = LOCAL.try_with(|local| {
                WORLD.pin(&local.slot);
                local.depth.set(held);
            });
        }
        result
    }

    /// Whether this thread holds a pin.
    pub(crate) fn is_pinned() -> bool {
        LOCAL
            .try_with(|local| local.depth.get() > 0)
            .unwrap_or(false)
    }

    pub(crate) use {is_pinned as pinned_now, unpinned as run_unpinned};
}

#[cfg(not(loom))]
pub(crate) use global::{pinned_now, run_unpinned};
