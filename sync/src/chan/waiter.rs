//! `Waiter`: a task parked on one channel operation (Go's `sudog`), and `Selection`, the flag
//! that lets exactly one of a `select!`'s parked operations commit (Go's `g.selectDone`).
//!
//! A waiter sits in a channel's `recvq` or `sendq`. A peer that finds it there, holding the
//! channel's lock, first *claims* it: a plain operation's waiter is claimed by taking it off the
//! queue (only one channel holds it, and that channel's lock orders the peers); a select's
//! waiter is claimed by winning its selection's flag with one CAS, since the same select is
//! parked on several channels, under different locks, at once. A peer that loses the CAS drops
//! the waiter and looks at the next one, as Go's `dequeue` does. The claimer then moves the
//! value (into the slot of a receiving waiter, out of the slot of a sending one), publishes the
//! outcome with a `Release` store of `state`, and wakes the owner.
//!
//! The owner reads `state` with `Acquire` and only then touches the slot: from the claim on,
//! nobody else does.

use std::cell::UnsafeCell;
use std::sync::Arc;
use std::task::Waker;

use crate::loom::{pin_thread, AtomicU32, AtomicU8, Ordering, WakerSlot};

/// Still queued.
pub(crate) const WAITING: u8 = 0;
/// A peer claimed it and moved the value.
pub(crate) const DONE: u8 = 1;
/// The channel was closed while it waited: a receiver gets `None`, a sender its value back.
pub(crate) const CLOSED: u8 = 2;
/// Its operation was given up; it stays queued until a peer skips it or the queue is compacted
/// (`State::remove`).
pub(crate) const CANCELLED: u8 = 3;

/// The commit flag of one `select!`: 0 while undecided, `case + 1` once a case won.
#[derive(Debug)]
pub struct Selection {
    won: AtomicU32,
    waker: WakerSlot,
}

impl Default for Selection {
    fn default() -> Selection {
        Selection {
            won: AtomicU32::new(0),
            waker: WakerSlot::default(),
        }
    }
}

impl Selection {
    /// An undecided selection.
    pub fn new() -> Selection {
        Selection::default()
    }

    /// The winning case, if one won.
    pub fn winner(&self) -> Option<usize> {
        match self.won.load(Ordering::Acquire) {
            0 => None,
            won => Some(won as usize - 1),
        }
    }

    /// Makes `case` the winner if no case has won yet; `true` if it now is the winner (also if
    /// it already was).
    pub fn try_win(&self, case: usize) -> bool {
        let won = case as u32 + 1;
        match self
            .won
            .compare_exchange(0, won, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => true,
            Err(current) => current == won,
        }
    }

    /// Makes the selection undecided again: the winning case's output did not match its
    /// pattern, so the select goes on with its other cases (it re-parks fresh waiters on every
    /// channel before a peer can commit it again, since peers dropped the old ones).
    pub fn reset(&self) {
        self.won.store(0, Ordering::Release);
    }

    /// Registers the task to wake when a peer makes one of its cases win.
    ///
    /// Pinned: a leak pass reads the slot with the world stopped by taking the waker and
    /// registering it again (`WakerSlot::with_waker`), and a register in between, from a thread
    /// outside any pin (`block_on`'s main, another executor's task), would be overwritten by the
    /// old waker. Inside a G's poll the pin is a thread-local increment.
    pub fn register(&self, waker: &Waker) {
        let _pin = pin_thread();
        self.waker.register(waker);
    }
}

/// Wakers collected under a channel lock, woken after it is released (Go calls `goready`
/// after `unlock`): waking schedules a task, which may wake another thread, and other threads
/// wait for the lock meanwhile.
#[derive(Default)]
pub(crate) struct Wakes {
    /// The usual case, one wake, without allocating.
    one: Option<Waker>,
    /// More (a close wakes every parked peer).
    more: Vec<Waker>,
}

impl Wakes {
    /// Adds `waker`, if any, to what is woken after the unlock.
    pub(crate) fn push(&mut self, waker: Option<Waker>) {
        let Some(waker) = waker else {
            return;
        };
        match self.one {
            None => self.one = Some(waker),
            Some(_) => self.more.push(waker),
        }
    }

    /// Whether nothing was collected (`more` fills only after `one`).
    pub(crate) fn is_empty(&self) -> bool {
        self.one.is_none()
    }

    /// Takes what was collected, leaving this empty.
    pub(crate) fn take(&mut self) -> Wakes {
        std::mem::take(self)
    }

    /// Wakes everything collected (call it without holding the lock).
    /// A waker that panics does not keep the others asleep (`gort_context::wake_all`).
    pub(crate) fn wake_all(self) {
        if self.more.is_empty() {
            // One waker (the common case): its panic, if any, goes to the caller as it would
            // after `wake_all`, and nobody is left asleep behind it.
            if let Some(waker) = self.one {
                waker.wake();
            }
            return;
        }
        gort_context::wake_all(self.one.into_iter().chain(self.more));
    }
}

/// Who is waiting, and how a peer claims the waiter.
enum Owner {
    /// A plain `send`/`recv`: claimed by being taken off the queue.
    Single(WakerSlot),
    /// Case `case` of a `select!`: claimed by winning `selection`.
    Select {
        selection: Arc<Selection>,
        case: usize,
    },
}

/// One parked channel operation (module doc).
pub(crate) struct Waiter<T> {
    state: AtomicU8,
    /// A receiver's value once handed over; a sender's value until taken. Accessed only under
    /// the channel's lock while `WAITING`, and only by the owner after.
    slot: UnsafeCell<Option<T>>,
    owner: Owner,
}

// SAFETY: the slot is accessed by one thread at a time: peers under the channel lock while the
// waiter is WAITING, the owner after its `Acquire` load saw the peer's `Release` store of
// another state. Moving a `T` between threads needs `T: Send`.
unsafe impl<T: Send> Send for Waiter<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Waiter<T> {}

impl<T> Waiter<T> {
    /// A plain operation's waiter, holding `value` if it sends, waking `waker`.
    pub(crate) fn single(value: Option<T>, waker: &Waker) -> Arc<Waiter<T>> {
        let wake = WakerSlot::default();
        wake.register(waker);
        Arc::new(Waiter {
            state: AtomicU8::new(WAITING),
            slot: UnsafeCell::new(value),
            owner: Owner::Single(wake),
        })
    }

    /// Case `case` of a select's waiter, holding `value` if it sends.
    pub(crate) fn select(
        value: Option<T>,
        selection: &Arc<Selection>,
        case: usize,
    ) -> Arc<Waiter<T>> {
        Arc::new(Waiter {
            state: AtomicU8::new(WAITING),
            slot: UnsafeCell::new(value),
            owner: Owner::Select {
                selection: Arc::clone(selection),
                case,
            },
        })
    }

    /// Makes a spare plain waiter (held by nobody else) ready to park again.
    pub(crate) fn reset(&mut self, value: Option<T>, waker: &Waker) {
        self.state.store(WAITING, Ordering::Relaxed);
        *self.slot.get_mut() = value;
        // Not shared with any queue yet, so no leak pass can be reading it: no pin needed.
        if let Owner::Single(wake) = &self.owner {
            wake.register(waker);
        }
    }

    /// Whether it is a plain operation's waiter (only those are recycled).
    pub(crate) fn is_single(&self) -> bool {
        matches!(self.owner, Owner::Single(_))
    }

    /// The outcome so far (`WAITING`, `DONE`, `CLOSED`), `Acquire`.
    pub(crate) fn state(&self) -> u8 {
        self.state.load(Ordering::Acquire)
    }

    /// The owner of a plain operation re-registers its waker before looking at `state` again.
    /// Pinned, as [`Selection::register`] is, for the same reason.
    pub(crate) fn register(&self, waker: &Waker) {
        let _pin = pin_thread();
        if let Owner::Single(wake) = &self.owner {
            wake.register(waker);
        }
    }

    /// A peer, holding the channel's lock, claims this waiter (module doc). `false`: it belongs
    /// to a select that another case already won; drop it.
    pub(crate) fn try_claim(&self) -> bool {
        // Written under the same lock as this read (`State::remove`).
        if self.state.load(Ordering::Relaxed) == CANCELLED {
            return false;
        }
        match &self.owner {
            Owner::Single(_) => true,
            Owner::Select { selection, case } => selection.try_win(*case),
        }
    }

    /// The owner gives up a waiter still queued (under the channel lock).
    pub(crate) fn cancel(&self) {
        self.state.store(CANCELLED, Ordering::Relaxed);
    }

    /// Whether no peer may claim it any more: given up, or of a select that another case won.
    pub(crate) fn is_stale(&self) -> bool {
        match &self.owner {
            _ if self.state.load(Ordering::Relaxed) == CANCELLED => true,
            Owner::Single(_) => false,
            Owner::Select { selection, case } => {
                selection.winner().is_some_and(|winner| winner != *case)
            }
        }
    }

    /// The claimer publishes `outcome` and hands the owner's waker to `wakes`, which the
    /// channel wakes once its lock is released.
    pub(crate) fn complete(&self, outcome: u8, wakes: &mut Wakes) {
        self.state.store(outcome, Ordering::Release);
        wakes.push(match &self.owner {
            Owner::Single(wake) => wake.take(),
            Owner::Select { selection, .. } => selection.waker.take(),
        });
    }

    /// The claimer (under the channel lock) or the owner (after `state` left `WAITING`) takes
    /// the slot's value.
    ///
    /// # Safety
    ///
    /// The caller is the one party allowed to touch the slot now (see the type's fields).
    pub(crate) unsafe fn take(&self) -> Option<T> {
        // SAFETY: the caller has exclusive access to the slot.
        unsafe { (*self.slot.get()).take() }
    }

    /// Reports the waker this waiter holds for its task to the GC arena's leak pass, and, with
    /// `elements`, the value a parked sender's slot holds.
    ///
    /// # Safety
    ///
    /// The world is stopped (`gort_gc::safepoint`): nobody touches the waiter meanwhile.
    pub(crate) unsafe fn trace(
        &self,
        visitor: &mut dyn gort_gc::Visitor,
        reason: &'static str,
        elements: Option<fn(&T, &mut dyn gort_gc::Visitor)>,
    ) {
        match &self.owner {
            Owner::Single(wake) => wake.with_waker(|waker| {
                visitor.visit_waker(std::ptr::from_ref(self) as usize, waker, reason)
            }),
            // One waker for all the select's cases, on however many channels.
            Owner::Select { selection, .. } => selection.waker.with_waker(|waker| {
                visitor.visit_waker(Arc::as_ptr(selection) as usize, waker, "select")
            }),
        }
        if let Some(trace) = elements {
            if self.state.load(Ordering::Relaxed) == WAITING {
                // SAFETY: the world is stopped (the caller), so the slot is not being written.
                if let Some(value) = unsafe { &*self.slot.get() } {
                    trace(value, visitor);
                }
            }
        }
    }

    /// The claimer hands `value` to a receiving waiter.
    ///
    /// # Safety
    ///
    /// As for [`Waiter::take`].
    pub(crate) unsafe fn put(&self, value: T) {
        // SAFETY: the caller has exclusive access to the slot.
        unsafe { *self.slot.get() = Some(value) };
    }
}
