//! `Chan<T>`: a channel's shared state (Go's `hchan`): one lock, the buffer, and the queues of
//! parked receivers and senders.
//!
//! Every operation takes the lock once. A send first looks for a parked receiver and hands the
//! value straight into its slot (Go's `send` to a waiting `sudog`: no trip through the buffer);
//! otherwise it appends to the buffer if there is room; otherwise it parks. A receive takes the
//! buffer's head and refills the freed place from a parked sender (Go's `recv` on a full
//! buffer), or, with nothing buffered, takes straight from a parked sender; otherwise it parks.
//! So a parked receiver means an empty buffer, and a parked sender a full one.
//!
//! The lock is a `Mutex<()>` beside an `UnsafeCell` rather than a `Mutex<State>` so that a
//! `select!` can hold the locks of all its channels at once whatever their element types are
//! (Go's `sellock`): every guard is a `MutexGuard<'_, ()>`.

use std::cell::UnsafeCell;
use std::collections::VecDeque;
use std::ptr::NonNull;
use std::sync::Arc;

use crate::loom::{pin_thread, AtomicBool, Mutex, MutexGuard, Ordering, PinGuard};

use super::handles::{self, AbandonHook, Handles};
use super::parked_queue::ParkedQueue;
use super::waiter::{Waiter, Wakes, CLOSED, DONE};

/// A channel's shared state.
pub(crate) struct Chan<T> {
    lock: Mutex<()>,
    state: UnsafeCell<State<T>>,
    /// Go's `dataqsiz`: 0 for a rendezvous channel.
    pub(crate) capacity: usize,
    /// Live `Sender`s and `Receiver`s (`handles.rs`): the last sender to go closes the
    /// channel, the last receiver runs its abandon hook, if it has one.
    pub(crate) handles: Handles,
    /// `State::closed`, readable without the lock (`is_closed`).
    closed: AtomicBool,
}

// SAFETY: `state` is only accessed under `lock`; values of `T` move between threads.
unsafe impl<T: Send> Send for Chan<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Chan<T> {}

/// What the lock guards.
pub(crate) struct State<T> {
    /// Buffered values (at most `capacity`, plus values given back by cancelled receivers).
    pub(crate) buffer: VecDeque<T>,
    /// Parked receivers, oldest first.
    pub(crate) recvq: ParkedQueue<Arc<Waiter<T>>>,
    /// Parked senders, oldest first.
    pub(crate) sendq: ParkedQueue<Arc<Waiter<T>>>,
    /// Set once by `close` (or the last `Sender` going away).
    pub(crate) closed: bool,
    /// Given-up waiters believed to be still queued (`remove`). Approximate: peers drop some
    /// without counting; it only decides when to compact.
    zombies: usize,
    /// The last plain operation's waiter a peer completed, kept by that peer for the next
    /// operation to park ([`State::waiter`]): a ping-pong parks once per message, and reusing
    /// the waiter saves an allocation and a free each time (across threads, with glibc, an
    /// arena lock). Kept under the lock, it costs no atomic operation to put or take; only
    /// the reuse checks that the owner has let go of it.
    spare: Option<Arc<Waiter<T>>>,
}

/// A locked channel. Dropping it releases the lock, then wakes the owners of the waiters
/// completed meanwhile (collected here, on the caller's stack, not in the channel: every
/// channel would pay for the space).
pub(crate) struct Locked<'a, T> {
    guard: Option<MutexGuard<'a, ()>>,
    /// The state, dereferenced only while `guard` is held. A pointer, not a `&mut`: the guard
    /// unlocks inside `Drop` (before waking), and a `&mut` field would still be live there
    /// (protected, when the guard is passed to `drop()`) while another thread locks and
    /// borrows the state: Miri reported that as undefined behaviour.
    state: NonNull<State<T>>,
    wakes: Wakes,
    /// An operation moves values (and the handles inside them) in and out of a traced place:
    /// the world may not stop meanwhile (`gort_gc::safepoint`). Dropped after the guard.
    _pin: PinGuard,
}

/// [`Chan::raw_lock`]'s guard: the lock, held pinned as [`Locked`] is.
pub(crate) struct RawLocked<'a> {
    _guard: MutexGuard<'a, ()>,
    _pin: PinGuard,
}

impl<T> Drop for Locked<'_, T> {
    fn drop(&mut self) {
        if self.wakes.is_empty() {
            // Most operations wake nobody: no moves on their path.
            return;
        }
        let wakes = self.wakes.take();
        drop(self.guard.take());
        wakes.wake_all();
    }
}

impl<T> Locked<'_, T> {
    /// [`State::try_send`], waking after the unlock.
    pub(crate) fn try_send(&mut self, value: T, capacity: usize) -> Result<(), SendBlocked<T>> {
        // SAFETY: the lock is held (`guard` is only taken in `Drop`).
        let state = unsafe { self.state.as_mut() };
        state.try_send(value, capacity, &mut self.wakes)
    }

    /// [`State::try_recv`], waking after the unlock.
    pub(crate) fn try_recv(&mut self) -> Received<T> {
        // SAFETY: as in `try_send`.
        let state = unsafe { self.state.as_mut() };
        state.try_recv(&mut self.wakes)
    }

    /// [`State::give_back`], waking after the unlock.
    pub(crate) fn give_back(&mut self, value: T) {
        // SAFETY: as in `try_send`.
        let state = unsafe { self.state.as_mut() };
        state.give_back(value, &mut self.wakes);
    }
}

impl<T> std::ops::Deref for Locked<'_, T> {
    type Target = State<T>;
    fn deref(&self) -> &State<T> {
        // SAFETY: the lock is held while the guard lives (it is only released in `Drop`).
        unsafe { self.state.as_ref() }
    }
}

impl<T> std::ops::DerefMut for Locked<'_, T> {
    fn deref_mut(&mut self) -> &mut State<T> {
        // SAFETY: as in `deref`, and `&mut self` makes this the only borrow.
        unsafe { self.state.as_mut() }
    }
}

/// Why a send could not complete now.
pub(crate) enum SendBlocked<T> {
    /// Nobody to take it and no room: park (or fail a `try_send`).
    Full(T),
    /// The channel is closed.
    Closed(T),
}

/// What a receive found.
pub(crate) enum Received<T> {
    /// A value.
    Value(T),
    /// Nothing now: park.
    Empty,
    /// Closed and drained.
    Closed,
}

impl<T> Chan<T> {
    /// A new open channel with `capacity` buffer slots.
    pub(crate) fn new(capacity: usize) -> Chan<T> {
        Chan {
            lock: Mutex::new(()),
            state: UnsafeCell::new(State {
                buffer: VecDeque::with_capacity(capacity.min(1024)),
                recvq: ParkedQueue::new(),
                sendq: ParkedQueue::new(),
                closed: false,
                zombies: 0,
                spare: None,
            }),
            capacity,
            handles: Handles::new(),
            closed: AtomicBool::new(false),
        }
    }

    /// Takes the lock. Poisoning is ignored: no user code runs under it (dropping values and
    /// waking tasks happens in the executor's schedule path, which does not unwind).
    #[inline]
    pub(crate) fn lock(&self) -> Locked<'_, T> {
        let pin = pin_thread();
        let guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        // SAFETY: `UnsafeCell::get` is never null.
        let state = unsafe { NonNull::new_unchecked(self.state.get()) };
        Locked {
            guard: Some(guard),
            state,
            wakes: Wakes::default(),
            _pin: pin,
        }
    }

    /// The raw lock, for a `select!` that locks all its channels at once (module doc).
    #[inline]
    pub(crate) fn raw_lock(&self) -> RawLocked<'_> {
        let pin = pin_thread();
        RawLocked {
            _guard: self.lock.lock().unwrap_or_else(|e| e.into_inner()),
            _pin: pin,
        }
    }

    /// Reports to the GC arena's leak pass the wakers of the tasks parked here and, given
    /// `elements`, the handles inside buffered and parked-sent values.
    ///
    /// # Safety
    ///
    /// The world is stopped (`gort_gc::safepoint`): every access to the state runs pinned, so
    /// none is in progress.
    pub(crate) unsafe fn trace(
        &self,
        visitor: &mut dyn gort_gc::Visitor,
        elements: Option<fn(&T, &mut dyn gort_gc::Visitor)>,
    ) {
        // SAFETY: per the caller, nobody else is touching the state.
        let state = unsafe { &*self.state.get() };
        if let Some(trace) = elements {
            state.buffer.iter().for_each(|value| trace(value, visitor));
        }
        for waiter in state.recvq.iter() {
            // SAFETY: as above.
            unsafe { waiter.trace(visitor, "chan receive", None) };
        }
        for waiter in state.sendq.iter() {
            // SAFETY: as above.
            unsafe { waiter.trace(visitor, "chan send", elements) };
        }
    }

    /// The state, for a caller holding the guard from [`Chan::raw_lock`].
    ///
    /// # Safety
    ///
    /// The caller holds this channel's lock and no other reference to the state exists.
    #[allow(clippy::mut_from_ref)]
    pub(crate) unsafe fn state_locked(&self) -> &mut State<T> {
        // SAFETY: the caller holds the lock.
        unsafe { &mut *self.state.get() }
    }

    /// Installs `hook`, to run once when the last `Receiver` goes (on the thread dropping it).
    /// Called while a receiver exists, once per channel (`handles.rs`).
    pub(crate) fn set_abandon_hook(&self, hook: AbandonHook) {
        handles::install_hook(self.addr(), &self.handles, hook);
    }

    /// A `Receiver` goes: if it was the last, runs the abandon hook if there is one.
    pub(crate) fn drop_receiver(&self) {
        if self.handles.drop_receiver() {
            if let Some(hook) = handles::take_hook(self.addr()) {
                hook();
            }
        }
    }

    /// This channel's address: its key in the hook table.
    fn addr(&self) -> usize {
        std::ptr::from_ref(self).addr()
    }

    /// Whether the channel is closed (lock-free look).
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Closes the channel: parked receivers get `None`, parked senders their value back (in a
    /// select, the case is ready, as Go's select treats a closed channel). Buffered values stay
    /// for receivers to drain. Returns whether this call closed it.
    pub(crate) fn close(&self) -> bool {
        let mut state = self.lock();
        if state.closed {
            return false;
        }
        state.closed = true;
        self.closed.store(true, Ordering::Release);
        let mut wakes = Wakes::default();
        let State { recvq, sendq, .. } = &mut *state;
        for waiter in recvq.drain().chain(sendq.drain()) {
            if waiter.try_claim() {
                waiter.complete(CLOSED, &mut wakes);
            }
        }
        drop(state);
        wakes.wake_all();
        true
    }
}

impl<T> Drop for Chan<T> {
    fn drop(&mut self) {
        if self.handles.hooked() {
            // Freed with its hook unrun (its receivers went with a collected cycle): the
            // table must not keep it, nor hand it to a later channel at this address.
            drop(handles::take_hook(self.addr()));
        }
    }
}

impl<T> State<T> {
    /// Go's `chansend` without blocking: to a parked receiver, else into the buffer.
    pub(crate) fn try_send(
        &mut self,
        value: T,
        capacity: usize,
        wakes: &mut Wakes,
    ) -> Result<(), SendBlocked<T>> {
        if self.closed {
            return Err(SendBlocked::Closed(value));
        }
        while let Some(receiver) = self.recvq.pop_front() {
            if receiver.try_claim() {
                // SAFETY: we claimed the waiter under the channel lock.
                unsafe { receiver.put(value) };
                receiver.complete(DONE, wakes);
                self.keep_spare(receiver);
                return Ok(());
            }
        }
        if self.buffer.len() < capacity {
            self.buffer.push_back(value);
            return Ok(());
        }
        Err(SendBlocked::Full(value))
    }

    /// Go's `chanrecv` without blocking: the buffer's head (refilled from a parked sender), or
    /// straight from a parked sender.
    pub(crate) fn try_recv(&mut self, wakes: &mut Wakes) -> Received<T> {
        if let Some(value) = self.buffer.pop_front() {
            while let Some(sender) = self.sendq.pop_front() {
                if sender.try_claim() {
                    // SAFETY: claimed under the lock; a parked sender's slot holds its value.
                    let refill = unsafe { sender.take() };
                    self.buffer.extend(refill);
                    sender.complete(DONE, wakes);
                    self.keep_spare(sender);
                    break;
                }
            }
            return Received::Value(value);
        }
        while let Some(sender) = self.sendq.pop_front() {
            if sender.try_claim() {
                // SAFETY: as above.
                let value = unsafe { sender.take() };
                sender.complete(DONE, wakes);
                self.keep_spare(sender);
                if let Some(value) = value {
                    return Received::Value(value);
                }
            }
        }
        if self.closed {
            Received::Closed
        } else {
            Received::Empty
        }
    }

    /// A waiter for a plain operation about to park: the spare one if its owner has let go of
    /// it, else a new one.
    pub(crate) fn waiter(&mut self, value: Option<T>, waker: &std::task::Waker) -> Arc<Waiter<T>> {
        if let Some(mut spare) = self.spare.take() {
            // `get_mut` acquires the owner's release of its reference: whatever it did with the
            // slot is done.
            if let Some(unique) = Arc::get_mut(&mut spare) {
                unique.reset(value, waker);
                return spare;
            }
        }
        Waiter::single(value, waker)
    }

    /// A peer keeps the plain waiter it just completed as the spare (the owner still holds it
    /// until it has seen the outcome).
    fn keep_spare(&mut self, waiter: Arc<Waiter<T>>) {
        if waiter.is_single() {
            self.spare = Some(waiter);
        }
    }

    /// Gives up `waiter`, still queued (a cancelled operation), in O(1): it is marked and left
    /// in its queue, where peers skip it, until the given-up waiters outnumber the live ones and
    /// the queues are compacted (as the timer heap drops its zombies). Scanning for it instead
    /// made dropping n tasks parked on one channel cost O(n²).
    pub(crate) fn remove(&mut self, waiter: &Arc<Waiter<T>>) {
        waiter.cancel();
        self.zombies += 1;
        if self.zombies * 2 > self.recvq.len() + self.sendq.len() {
            self.recvq.retain(|w| !w.is_stale());
            self.sendq.retain(|w| !w.is_stale());
            self.zombies = 0;
        }
    }

    /// A receiver that was handed `value` but went away before taking it gives it back: to
    /// another parked receiver, else to the front of the buffer, so that no value is lost.
    pub(crate) fn give_back(&mut self, value: T, wakes: &mut Wakes) {
        while let Some(receiver) = self.recvq.pop_front() {
            if receiver.try_claim() {
                // SAFETY: claimed under the lock.
                unsafe { receiver.put(value) };
                receiver.complete(DONE, wakes);
                self.keep_spare(receiver);
                return;
            }
        }
        self.buffer.push_front(value);
    }
}
