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
//! The world is stopped only between polls. Channel operations that block a thread
//! (`send_blocking`, `recv_blocking`) unpin while they wait.
//!
//! # A thread stuck in a pinned section
//!
//! A task that blocks its thread inside a poll (a synchronous read, a long loop: what sysmon's
//! rescue is for) stays pinned for as long as it blocks. A stop would wait for it with every
//! other thread parked at its next pin: one blocked poll would stall the process. Nor can the
//! collector give up and simply try again: each try parks everyone again (that cut a 1 ms
//! ticker beside a 400 ms blocked poll to 7 ticks of its 320). Collecting *around* the stuck
//! thread is unsound: it may clone or drop a handle, or move one out of a channel, at any
//! instant of its poll, and the count minus edges would be wrong. So the collection waits, but
//! with the world running:
//!
//! 1. [`World::try_stop`] gives up once its patience runs out and names the *straggler*: the
//!    slot still pinned (a thread pinned across that much of a requested stop is inside one
//!    long section, since a thread between polls lets go when it sees the request).
//! 2. The collector resumes the world and [`World::defer_on`] the straggler: the slot is
//!    published in `straggler`, and from then on no stop is requested until the straggler's
//!    section ends. Meanwhile `stop_requested` stays true, so that threads holding a pin across
//!    several operations (an M between polls) let go at each boundary: otherwise the
//!    straggler, once its poll returned, could stay pinned through the polls that follow.
//! 3. The straggler's next unpin sees itself published (the unpin's store, a light fence, then
//!    one load; `defer_on` stores, fences heavily, then looks at the slot, so one of the two
//!    sees the other) and clears it, waking collectors waiting in
//!    [`World::wait_for_straggler`]. An automatic collection does not wait: it stays wanted
//!    and runs at the next poll boundary after the straggler is gone (`collector.rs`).
//!
//! Each blocked section costs the other threads one patience-long stop at most (2 ms), not one
//! per try. A thread blocked for ever inside a pinned section holds off collections for ever
//! (automatic ones do not happen, an explicit `collect()` waits): the process goes on. Go's
//! collector also waits for a goroutine it cannot preempt.
//!
//! A thread whose thread-local slot is already destroyed (a handle dropped by another
//! thread-local's destructor) pins through one shared counter instead.

use crate::barrier;
use crate::loom::{backoff, Arc, AtomicBool, AtomicPtr, AtomicUsize, Condvar, Mutex, Ordering};

/// One thread's pin flag, on its own cache line.
#[repr(align(128))]
pub struct Slot {
    pinned: AtomicBool,
}

/// The stop-the-world state: whether a collection wants the world stopped, and every thread's
/// slot.
pub struct World {
    requested: AtomicBool,
    /// The slot a stop gave up on, while it stays in that pinned section (module doc,
    /// "A thread stuck in a pinned section"); null otherwise. Written by the collector
    /// ([`World::defer_on`]) and cleared by whichever of it and the straggler's unpin sees the
    /// section over first (a CAS); compared, never dereferenced, by unpinning threads.
    straggler: AtomicPtr<Slot>,
    /// Where collectors wait for the straggler to be cleared (`straggler_lock` held).
    straggler_lock: Mutex<()>,
    straggler_gone: Condvar,
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
            straggler: AtomicPtr::new(std::ptr::null_mut()),
            straggler_lock: Mutex::new(()),
            straggler_gone: Condvar::new(),
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

    /// Whether a stop is in progress or waits for a straggler (a hint for threads holding a pin
    /// across operations: they let go at their next boundary).
    #[inline]
    pub fn stop_requested(&self) -> bool {
        self.requested.load(Ordering::Relaxed) || !self.straggler.load(Ordering::Relaxed).is_null()
    }

    /// Unpins `slot`; if a collection waits for this slot's section to end, tells it (module
    /// doc, step 3).
    #[inline]
    pub fn unpin(&self, slot: &Slot) {
        slot.pinned.store(false, Ordering::Release);
        barrier::light();
        if std::ptr::eq(self.straggler.load(Ordering::Relaxed), slot) {
            self.straggler_done(slot);
        }
    }

    /// Clears `slot` as the straggler (if it still is) and wakes the collectors waiting for it.
    #[cold]
    #[inline(never)]
    fn straggler_done(&self, slot: &Slot) {
        let slot = std::ptr::from_ref(slot).cast_mut();
        if self
            .straggler
            .compare_exchange(
                slot,
                std::ptr::null_mut(),
                Ordering::AcqRel,
                Ordering::Relaxed,
            )
            .is_ok()
        {
            let _guard = lock(&self.straggler_lock);
            self.straggler_gone.notify_all();
        }
    }

    /// After a [`World::try_stop`] that gave up on `slot` (and a [`World::resume`]): no stop is
    /// to be requested until `slot`'s pinned section ends, which its unpin reports (module
    /// doc, step 2). Returns `false` if the section is over already: try again at once.
    pub fn defer_on(&self, slot: &Arc<Slot>) -> bool {
        let pointer = Arc::as_ptr(slot).cast_mut();
        self.straggler.store(pointer, Ordering::Relaxed);
        barrier::heavy();
        if slot.pinned.load(Ordering::Acquire) {
            return true;
        }
        self.straggler_done(slot);
        false
    }

    /// Whether a collection waits for a straggler's section to end ([`World::defer_on`]).
    #[inline]
    pub fn deferred(&self) -> bool {
        !self.straggler.load(Ordering::Acquire).is_null()
    }

    /// Blocks until no straggler is published (the caller is not pinned).
    pub fn wait_for_straggler(&self) {
        let mut guard = lock(&self.straggler_lock);
        while self.deferred() {
            guard = self
                .straggler_gone
                .wait(guard)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
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
        // Proof: `try_stop` fails only when `give_up` says so, and this one never does.
        debug_assert!(stopped.is_ok());
    }

    /// [`World::stop`], giving up as soon as `give_up` says so while a thread is still pinned,
    /// and naming that thread's slot (`None`: a thread pinned through the shared counter). The
    /// caller must then [`World::resume`]: new pins are held off until it does. The collector
    /// gives up rather than wait for a thread stuck inside its pinned section (module doc), or
    /// blocked there on a thread waiting to pin (a task locking a `std` mutex held by a thread
    /// about to send on a channel), which only the resume frees.
    pub fn try_stop(&self, give_up: &mut dyn FnMut() -> bool) -> Result<(), Option<Arc<Slot>>> {
        self.requested.store(true, Ordering::Relaxed);
        barrier::heavy();
        let slots = lock(&self.slots).clone();
        // `Acquire`, pairing with `unpin`'s `Release`: what a mutator did while pinned happens
        // before the collection reads it.
        for slot in &slots {
            let mut round = 0;
            while slot.pinned.load(Ordering::Acquire) {
                if give_up() {
                    return Err(Some(Arc::clone(slot)));
                }
                backoff(&mut round);
            }
        }
        let mut round = 0;
        while self.anonymous.load(Ordering::Acquire) != 0 {
            if give_up() {
                return Err(None);
            }
            backoff(&mut round);
        }
        Ok(())
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
    #[inline]
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
    #[inline]
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
