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
//!   light fence                       heavy fence
//!   if requested                      for each slot: wait until !slot.pinned
//!       unpin, wait for resume
//! ```
//!
//! With a full fence between each side's store and its load, at least one side sees the
//! other's store (Dekker): either the mutator backs off, or the collector waits for it to
//! unpin. The fences are asymmetric where the OS allows (`barrier.rs`: a compiler fence on the
//! mutator's side, `membarrier` on the collector's), `fence(SeqCst)` on both sides otherwise.
//! (Fences rather than `SeqCst` accesses: loom models fences, and its model of this handshake,
//! `tests/loom_safepoint.rs`, failed with `SeqCst` accesses alone.)
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

use crate::barrier;
use crate::loom::{backoff, Arc, AtomicBool, AtomicUsize, Condvar, Mutex, Ordering};

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

/// A world with no threads (one body for the `const` constructor and loom's, whose types have
/// no `const` constructors).
macro_rules! empty_world {
    () => {
        World {
            requested: AtomicBool::new(false),
            slots: Mutex::new(Vec::new()),
            anonymous: AtomicUsize::new(0),
            resume_lock: Mutex::new(()),
            resumed: Condvar::new(),
        }
    };
}

impl World {
    /// A world with no threads.
    #[cfg(not(loom))]
    pub const fn new() -> World {
        empty_world!()
    }

    /// A world with no threads.
    #[cfg(loom)]
    pub fn new() -> World {
        empty_world!()
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
    #[inline]
    pub fn pin(&self, slot: &Slot) {
        loop {
            slot.pinned.store(true, Ordering::Relaxed);
            barrier::light();
            // `Acquire`: what the last collection did (freeing, unregistering) happens before
            // what this pinned section does.
            if !self.requested.load(Ordering::Acquire) {
                return;
            }
            slot.pinned.store(false, Ordering::SeqCst);
            self.wait_for_resume();
        }
    }

    /// Whether a stop is in progress (a hint for threads holding a pin across operations).
    #[inline]
    pub fn stop_requested(&self) -> bool {
        self.requested.load(Ordering::Relaxed)
    }

    /// Unpins `slot`.
    #[inline]
    pub fn unpin(&self, slot: &Slot) {
        slot.pinned.store(false, Ordering::Release);
    }

    /// Pins through the shared counter (a thread without a slot).
    pub fn pin_anonymous(&self) {
        loop {
            self.anonymous.fetch_add(1, Ordering::Relaxed);
            barrier::light();
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

    #[cold]
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
        // Proof: `try_stop` returns `false` only when `give_up` says so, and this one never does.
        debug_assert!(stopped);
    }

    /// [`World::stop`], giving up (and returning `false`) as soon as `give_up` says so while a
    /// thread is still pinned. The caller must then [`World::resume`]: new pins are held off
    /// until it does. The collector gives up after a while rather than wait forever for a
    /// thread that is blocked, inside its pinned section, on a thread waiting to pin (a task
    /// locking a `std` mutex held by a thread about to send on a channel).
    pub fn try_stop(&self, give_up: &mut dyn FnMut() -> bool) -> bool {
        self.requested.store(true, Ordering::Relaxed);
        barrier::heavy();
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

    thread_local! {
        /// How many pins this thread holds (pins nest: a poll pins, and the channel operations
        /// inside it pin again for free). A `const` thread-local without a destructor: reading
        /// it is one load.
        static DEPTH: Cell<usize> = const { Cell::new(0) };
        /// Whether this thread's outermost pin went through the shared counter (its slot was
        /// already gone: a handle dropped by a late thread-local destructor).
        static ANONYMOUS: Cell<bool> = const { Cell::new(false) };
        /// This thread's slot, once registered; null before, and again once `OWNER` is gone.
        static SLOT: Cell<*const Slot> = const { Cell::new(std::ptr::null()) };
        /// Owns the slot and unregisters it when the thread exits.
        static OWNER: SlotOwner = SlotOwner::register();
    }

    /// This thread's registration in the world.
    struct SlotOwner {
        slot: Arc<Slot>,
    }

    impl SlotOwner {
        fn register() -> SlotOwner {
            let slot = WORLD.register();
            SLOT.set(Arc::as_ptr(&slot));
            SlotOwner { slot }
        }
    }

    impl Drop for SlotOwner {
        fn drop(&mut self) {
            SLOT.set(std::ptr::null());
            WORLD.unregister(&self.slot);
        }
    }

    /// This thread's slot, registering it on first use; `None` once the thread's registration
    /// is destroyed (a handle dropped by a later thread-local destructor).
    #[inline]
    fn slot() -> Option<&'static Slot> {
        let mut slot = SLOT.get();
        if slot.is_null() {
            slot = OWNER
                .try_with(|owner| Arc::as_ptr(&owner.slot))
                .unwrap_or(std::ptr::null());
        }
        // SAFETY: a non-null `SLOT` points into the `Arc` `OWNER` holds, and `OWNER` nulls it
        // before letting go; the reference does not outlive this thread's use of it.
        unsafe { slot.as_ref() }
    }

    /// Proof that this thread is pinned; unpins when the last one is dropped. Empty: how the
    /// thread is pinned is in its thread-locals, so a nested drop is a decrement.
    pub struct PinGuard {
        /// Pins belong to a thread.
        _not_send: PhantomData<*const ()>,
    }

    /// Pins this thread (module doc of `safepoint.rs`). Inside a poll, which is already
    /// pinned, this is a thread-local increment, inlined into the caller.
    #[inline(always)]
    pub(crate) fn pin() -> PinGuard {
        let depth = DEPTH.get();
        if depth == 0 {
            return pin_first();
        }
        DEPTH.set(depth + 1);
        PinGuard {
            _not_send: PhantomData,
        }
    }

    /// [`pin`] of a thread holding no pin yet.
    #[inline(never)]
    fn pin_first() -> PinGuard {
        pin_world();
        DEPTH.set(1);
        PinGuard {
            _not_send: PhantomData,
        }
    }

    /// Pins this thread in the world: through its slot, or the shared counter without one.
    fn pin_world() {
        match slot() {
            Some(slot) => WORLD.pin(slot),
            None => {
                WORLD.pin_anonymous();
                ANONYMOUS.set(true);
            }
        }
    }

    /// Undoes [`pin_world`].
    fn unpin_world() {
        if ANONYMOUS.replace(false) {
            WORLD.unpin_anonymous();
        } else if let Some(slot) = slot() {
            WORLD.unpin(slot);
        }
    }

    impl Drop for PinGuard {
        #[inline(always)]
        fn drop(&mut self) {
            let depth = DEPTH.get();
            if depth > 1 {
                DEPTH.set(depth - 1);
                return;
            }
            unpin_last();
        }
    }

    /// The drop of this thread's last pin.
    #[inline(never)]
    fn unpin_last() {
        DEPTH.set(0);
        unpin_world();
    }

    /// Runs `f` with this thread unpinned, whatever pins it holds (a collector must not hold
    /// off its own stop; a thread about to sleep must not hold off anyone's). Repins after.
    pub(crate) fn run_unpinned<R>(f: impl FnOnce() -> R) -> R {
        let held = DEPTH.replace(0);
        if held > 0 {
            unpin_world();
        }
        let result = f();
        if held > 0 {
            pin_world();
            DEPTH.set(held);
        }
        result
    }

    /// Whether this thread holds a pin.
    pub(crate) fn pinned_now() -> bool {
        DEPTH.get() > 0
    }
}

#[cfg(not(loom))]
pub(crate) use global::{pinned_now, run_unpinned};
