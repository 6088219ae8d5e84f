//! `OnceSlot<T>`: a value written at most once, and the queue of those waiting for it, under
//! [`OnceCell`](crate::primitives::OnceCell) and [`SetOnce`](crate::primitives::SetOnce).
//!
//! # Design
//!
//! Reads must be free once the value is there (`get` is a load and a pointer), and the write
//! must happen once even when many tasks race to produce the value, some with an async
//! initialiser that may be cancelled, fail or panic. tokio builds this from a one-permit
//! semaphore that it closes when the value is in. Here the same protocol is stated directly,
//! on a [`WaitQueue`]:
//!
//! - `set` (the flag) says the value is written; stored `Release` by the one writer, loaded
//!   `Acquire` by every reader, which then reads the value without a lock.
//! - `gate.claimed` is the right to write: at most one [`InitGuard`] exists, and it is the
//!   only writer. Contenders that find the gate claimed queue, oldest first.
//!
//! # Protocol
//!
//! 1. A contender locks the gate. Value set: it reads it. Gate free: it claims it and gets an
//!    `InitGuard`. Otherwise it queues ([`Claim`]) and parks.
//! 2. The guard's holder runs its initialiser, then [`InitGuard::complete`]: under the gate
//!    lock it writes the value, sets the flag, frees the gate and releases every queued
//!    future, which then reads the value.
//! 3. A guard dropped without a value (the initialiser was cancelled, failed or panicked)
//!    hands the gate to the oldest queued contender (`Chosen`), whose next poll gets a guard of
//!    its own; with nobody queued the gate is freed. The gate never passes through "free" while
//!    someone queues, so a newcomer cannot jump the queue.
//! 4. A queued contender dropped after it was chosen hands the gate on the same way.
//! 5. [`OnceSlot::try_set`] is step 1 and 2 at once, never waiting: it fails if the value is
//!    set or the gate claimed.
//!
//! # Why not in the GC arena
//!
//! `OnceCell::const_new` and `SetOnce::const_new` are `const`, so that cells can be `static`s,
//! and a `const fn` cannot allocate an arena object. The parked wakers therefore live in the
//! cell itself, which the leak pass cannot reach; a task parked here is never reported leaked.
//!
//! # Loom
//!
//! This module is compiled under `cfg(loom)` too, with loom's atomics, mutex and cell (and no
//! `const` constructor, since loom's are not), so that `tests/loom_once.rs` checks the claim,
//! hand-off and write protocol on this very code.

use std::fmt;
use std::future::Future;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::loom::{AtomicBool, Mutex, MutexGuard, Ordering};
use crate::wait_queue::{End, Status, Ticket, WaitQueue};

#[cfg(loom)]
use loom::cell::UnsafeCell;
#[cfg(not(loom))]
use unsafe_cell::UnsafeCell;

/// A value written at most once (module doc).
///
/// # Invariant
///
/// `value` is initialised exactly when `set` is true. It is written once, by the holder of the
/// gate, before `set` is stored (`Release`) and while nobody reads it (readers wait for `set`);
/// after that it is only read, until `&mut self` methods take it.
pub struct OnceSlot<T> {
    /// Whether `value` is written. Stored `true` (`Release`) under the gate lock by the one
    /// writer; loaded `Acquire` by readers, pairing with that store. Reset only through
    /// `&mut self`.
    set: AtomicBool,
    /// The value, initialised iff `set` (# Invariant).
    value: UnsafeCell<MaybeUninit<T>>,
    /// The right to write and the futures waiting for it or for the value.
    gate: Mutex<Gate>,
}

/// What the gate lock guards.
#[derive(Debug)]
struct Gate {
    /// Whether an [`InitGuard`] exists or a chosen contender is about to take one.
    claimed: bool,
    /// Contenders waiting for the gate and waiters for the value, oldest first.
    queue: WaitQueue,
}

/// What a contender got: the value, or the right to produce it.
pub enum Claimed<'a, T> {
    /// The value is set.
    Value(&'a T),
    /// The gate: produce the value and [`complete`](InitGuard::complete) it.
    Gate(InitGuard<'a, T>),
}

/// Why [`OnceSlot::try_set`] refused a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The value is already set.
    Set,
    /// Someone holds the gate.
    Claimed,
}

/// The right to write the value: exactly one exists at a time. Dropped without
/// [`complete`](InitGuard::complete), it hands the right to the oldest contender.
#[must_use = "dropping the guard gives the right to initialise away"]
pub struct InitGuard<'a, T> {
    slot: &'a OnceSlot<T>,
}

/// The future of [`OnceSlot::claim`] and [`OnceSlot::wait`]: queued until it gets the value
/// (or, for a claim, the gate).
#[must_use = "futures do nothing unless polled"]
pub struct Claim<'a, T> {
    slot: &'a OnceSlot<T>,
    /// Whether this future contends for the gate (`claim`) or only waits for the value
    /// (`wait`).
    contends: bool,
    /// This future's place in the queue while it waits.
    ticket: Option<Ticket>,
}

// SAFETY: sharing a slot shares `&T` (so `T: Sync`) and lets any thread write or, through a
// later `&mut`, drop the value (so `T: Send`); everything else in it is `Sync`.
unsafe impl<T: Send + Sync> Sync for OnceSlot<T> {}

impl<T> OnceSlot<T> {
    /// An empty slot.
    #[cfg(not(loom))]
    pub const fn new() -> OnceSlot<T> {
        OnceSlot::with(false, MaybeUninit::uninit())
    }

    /// A slot holding `value`.
    #[cfg(not(loom))]
    pub const fn new_set(value: T) -> OnceSlot<T> {
        OnceSlot::with(true, MaybeUninit::new(value))
    }

    /// A slot from its parts; `set` says whether `value` is initialised.
    #[cfg(not(loom))]
    const fn with(set: bool, value: MaybeUninit<T>) -> OnceSlot<T> {
        OnceSlot {
            set: AtomicBool::new(set),
            value: UnsafeCell::new(value),
            gate: Mutex::new(Gate {
                claimed: false,
                queue: WaitQueue::new(),
            }),
        }
    }

    /// An empty slot (loom's types have no `const` constructors).
    #[cfg(loom)]
    pub fn new() -> OnceSlot<T> {
        OnceSlot::with(false, MaybeUninit::uninit())
    }

    /// A slot holding `value`.
    #[cfg(loom)]
    pub fn new_set(value: T) -> OnceSlot<T> {
        OnceSlot::with(true, MaybeUninit::new(value))
    }

    /// A slot from its parts; `set` says whether `value` is initialised.
    #[cfg(loom)]
    fn with(set: bool, value: MaybeUninit<T>) -> OnceSlot<T> {
        OnceSlot {
            set: AtomicBool::new(set),
            value: UnsafeCell::new(value),
            gate: Mutex::new(Gate {
                claimed: false,
                queue: WaitQueue::new(),
            }),
        }
    }

    /// Whether the value is set (`Acquire`: the value may be read after a `true`).
    pub fn is_set(&self) -> bool {
        self.set.load(Ordering::Acquire)
    }

    /// The value, if set. Takes no lock.
    pub fn get(&self) -> Option<&T> {
        if self.is_set() {
            // SAFETY: `set` was loaded `true` with `Acquire`, pairing with the writer's
            // `Release` store after its write, so the value is initialised and never written
            // again while `&self` lives (# Invariant).
            Some(unsafe { self.value_unchecked() })
        } else {
            None
        }
    }

    /// The value mutably, if set: `&mut self` proves no reader or writer exists.
    pub fn get_mut(&mut self) -> Option<&mut T> {
        if self.set.load(Ordering::Acquire) {
            // SAFETY: the value is initialised (`set`), and `&mut self` makes this access
            // exclusive.
            Some(
                self.value
                    .with_mut(|value| unsafe { (*value).assume_init_mut() }),
            )
        } else {
            None
        }
    }

    /// Takes the value out, leaving the slot empty: `&mut self` proves nobody reads it or holds
    /// the gate.
    pub fn take(&mut self) -> Option<T> {
        if !self.set.load(Ordering::Acquire) {
            return None;
        }
        self.set.store(false, Ordering::Relaxed);
        // SAFETY: the value was initialised (`set` was true) and is now marked uninitialised,
        // so it is read out exactly once; `&mut self` makes the access exclusive.
        Some(
            self.value
                .with_mut(|value| unsafe { (*value).assume_init_read() }),
        )
    }

    /// Waits for the value or the gate (protocol step 1): resolves to the value once set, or to
    /// an [`InitGuard`] when this caller is to produce it. Contenders get the gate oldest first.
    pub fn claim(&self) -> Claim<'_, T> {
        Claim {
            slot: self,
            contends: true,
            ticket: None,
        }
    }

    /// Waits for the value only, never contending for the gate (`SetOnce::wait`).
    pub fn wait(&self) -> Claim<'_, T> {
        Claim {
            slot: self,
            contends: false,
            ticket: None,
        }
    }

    /// Writes `value` unless the value is set or the gate claimed (protocol step 5). Never
    /// waits; on refusal gives `value` back with the reason.
    pub fn try_set(&self, value: T) -> Result<&T, (T, Refused)> {
        let gate = self.lock();
        if self.is_set() {
            return Err((value, Refused::Set));
        }
        if gate.claimed {
            return Err((value, Refused::Claimed));
        }
        // SAFETY: under the gate lock with the gate free and the value unset, this caller is
        // the one writer (the gate lock orders it after any earlier attempt), and no reader
        // looks before `set` is stored.
        Ok(unsafe { self.write(gate, value) })
    }

    /// Writes the value, stores `set` and releases every waiter; returns the value.
    ///
    /// # Safety
    ///
    /// The caller is the one writer (# Invariant): it holds the gate, or the gate is free, with
    /// `gate` locked and `set` false.
    unsafe fn write(&self, mut gate: MutexGuard<'_, Gate>, value: T) -> &T {
        debug_assert!(!self.set.load(Ordering::Relaxed));
        // SAFETY: the caller is the one writer and the value is uninitialised and unread
        // (# Safety), so this exclusive access overwrites nothing.
        self.value.with_mut(|slot| unsafe { (*slot).write(value) });
        // Pairs with the `Acquire` loads of readers: they see the write above.
        self.set.store(true, Ordering::Release);
        gate.claimed = false;
        let released = gate.queue.release_all();
        drop(gate);
        released.wake();
        // SAFETY: written just above, never written again while `&self` lives.
        unsafe { self.value_unchecked() }
    }

    /// The value.
    ///
    /// # Safety
    ///
    /// `set` was seen `true` by this thread (`Acquire`, or under the gate lock).
    unsafe fn value_unchecked(&self) -> &T {
        // SAFETY: initialised and only read from now on (# Safety, # Invariant).
        self.value
            .with(|value| unsafe { (*value).assume_init_ref() })
    }

    /// Locks the gate. Poisoning is ignored: no user code runs under the lock except a waker's
    /// `clone`, before anything changes.
    fn lock(&self) -> MutexGuard<'_, Gate> {
        self.gate
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl<'a, T> InitGuard<'a, T> {
    /// Writes `value`, wakes every waiter and returns the value (protocol step 2).
    pub fn complete(self, value: T) -> &'a T {
        let slot = self.slot;
        std::mem::forget(self);
        let gate = slot.lock();
        // SAFETY: this guard held the gate (it is the one writer: the gate stays claimed while
        // a guard exists, and only a guard's holder writes), the gate lock is taken, and the
        // value is unset (it is set only by a writer, which frees the gate).
        unsafe { slot.write(gate, value) }
    }
}

impl<T> Drop for InitGuard<'_, T> {
    /// Gives the gate to the next contender (protocol step 3).
    fn drop(&mut self) {
        pass_gate(self.slot.lock());
    }
}

impl<'a, T> Future for Claim<'a, T> {
    type Output = Claimed<'a, T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Claimed<'a, T>> {
        let slot = self.slot;
        if self.ticket.is_none() {
            if let Some(value) = slot.get() {
                return Poll::Ready(Claimed::Value(value));
            }
        }
        let mut gate = slot.lock();
        let claimed = if slot.is_set() {
            // SAFETY: `set` was just loaded `true` with `Acquire`.
            Some(Claimed::Value(unsafe { slot.value_unchecked() }))
        } else {
            match &self.ticket {
                None if self.contends && !gate.claimed => {
                    gate.claimed = true;
                    Some(Claimed::Gate(InitGuard { slot }))
                }
                None => {
                    self.ticket = Some(gate.queue.push(Some(cx.waker().clone())));
                    None
                }
                Some(ticket) => match gate.queue.status(ticket) {
                    // The gate stays claimed: it passes from the last holder to this future.
                    Status::Chosen(_) => Some(Claimed::Gate(InitGuard { slot })),
                    // Released only by the write, which `is_set` saw above.
                    Status::Released => unreachable!("released before the value was set"),
                    Status::Queued => {
                        let replaced = gate.queue.update_waker(ticket, cx.waker());
                        drop(gate);
                        drop(replaced);
                        return Poll::Pending;
                    }
                },
            }
        };
        let Some(claimed) = claimed else {
            return Poll::Pending;
        };
        if let Some(ticket) = self.ticket.take() {
            let (_, waker) = gate.queue.remove(ticket);
            drop(gate);
            drop(waker);
        }
        Poll::Ready(claimed)
    }
}

impl<T> Drop for Claim<'_, T> {
    /// Leaves the queue; a contender chosen for the gate hands it on (protocol step 4).
    fn drop(&mut self) {
        let Some(ticket) = self.ticket.take() else {
            return;
        };
        let mut gate = self.slot.lock();
        let (status, waker) = gate.queue.remove(ticket);
        if let Status::Chosen(_) = status {
            pass_gate(gate);
        } else {
            drop(gate);
        }
        drop(waker);
    }
}

impl<T> Drop for OnceSlot<T> {
    fn drop(&mut self) {
        drop(self.take());
    }
}

impl<T> Default for OnceSlot<T> {
    fn default() -> OnceSlot<T> {
        OnceSlot::new()
    }
}

impl<T: fmt::Debug> fmt::Debug for OnceSlot<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnceSlot")
            .field("value", &self.get())
            .finish()
    }
}

impl<T> fmt::Debug for Claim<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Claim")
            .field("contends", &self.contends)
            .field("queued", &self.ticket.is_some())
            .finish()
    }
}

impl<T> fmt::Debug for InitGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InitGuard")
    }
}

/// Hands the gate to the oldest queued contender, or frees it (protocol steps 3 and 4).
/// Called with the gate claimed by the caller, which gives it up.
fn pass_gate(mut gate: MutexGuard<'_, Gate>) {
    debug_assert!(gate.claimed);
    match gate.queue.choose(End::Oldest) {
        Some(waker) => {
            drop(gate);
            if let Some(waker) = waker {
                waker.wake();
            }
        }
        None => gate.claimed = false,
    }
}

/// `std`'s `UnsafeCell` with loom's closure API, so that the code above reads the same under
/// both (loom's cell tracks each access inside the closure).
#[cfg(not(loom))]
mod unsafe_cell {
    /// See the module doc.
    #[derive(Debug)]
    pub(super) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(super) const fn new(value: T) -> UnsafeCell<T> {
            UnsafeCell(std::cell::UnsafeCell::new(value))
        }

        /// Calls `f` with a pointer for reading.
        pub(super) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        /// Calls `f` with a pointer for writing.
        pub(super) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;
    use std::task::{Wake, Waker};

    /// A waker that counts its wakes.
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    fn counting_waker() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        (Arc::clone(&count), Waker::from(count))
    }

    fn wakes(count: &Count) -> usize {
        count.0.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Polls `claim` once with `waker`.
    fn poll<'a, T>(claim: &mut Claim<'a, T>, waker: &Waker) -> Poll<Claimed<'a, T>> {
        Pin::new(claim).poll(&mut Context::from_waker(waker))
    }

    fn gate<'a, T>(poll: Poll<Claimed<'a, T>>) -> InitGuard<'a, T> {
        match poll {
            Poll::Ready(Claimed::Gate(guard)) => guard,
            Poll::Ready(Claimed::Value(_)) => panic!("expected the gate, got the value"),
            Poll::Pending => panic!("expected the gate, got Pending"),
        }
    }

    fn value<'a, T>(poll: Poll<Claimed<'a, T>>) -> &'a T {
        match poll {
            Poll::Ready(Claimed::Value(value)) => value,
            Poll::Ready(Claimed::Gate(_)) => panic!("expected the value, got the gate"),
            Poll::Pending => panic!("expected the value, got Pending"),
        }
    }

    /// A guard dropped without a value hands the gate to the oldest queued contender only;
    /// its value then releases the rest, whose own initialisers never get the gate.
    #[test]
    fn a_dropped_guard_hands_the_gate_to_the_oldest_contender() {
        let slot = OnceSlot::<String>::new();
        let (b_count, b_waker) = counting_waker();
        let (c_count, c_waker) = counting_waker();
        let first = gate(poll(&mut slot.claim(), Waker::noop()));
        let mut b = slot.claim();
        let mut c = slot.claim();
        assert!(poll(&mut b, &b_waker).is_pending());
        assert!(poll(&mut c, &c_waker).is_pending());
        drop(first);
        assert_eq!((wakes(&b_count), wakes(&c_count)), (1, 0));
        assert!(poll(&mut c, &c_waker).is_pending(), "c is not next");
        let second = gate(poll(&mut b, &b_waker));
        assert_eq!(second.complete("b".to_owned()), "b");
        assert_eq!(wakes(&c_count), 1);
        assert_eq!(value(poll(&mut c, &c_waker)), "b");
        assert_eq!(slot.get().map(String::as_str), Some("b"));
    }

    /// A contender chosen for the gate but dropped before it saw it passes the gate on; with
    /// nobody left, the gate is free for the next newcomer.
    #[test]
    fn a_chosen_contender_dropped_passes_the_gate_on() {
        let slot = OnceSlot::<u32>::new();
        let (c_count, c_waker) = counting_waker();
        let first = gate(poll(&mut slot.claim(), Waker::noop()));
        let mut b = slot.claim();
        let mut c = slot.claim();
        assert!(poll(&mut b, Waker::noop()).is_pending());
        assert!(poll(&mut c, &c_waker).is_pending());
        drop(first);
        drop(b);
        assert_eq!(wakes(&c_count), 1, "the gate went on to c");
        drop(gate(poll(&mut c, &c_waker)));
        drop(c);
        let newcomer = gate(poll(&mut slot.claim(), Waker::noop()));
        assert_eq!(*newcomer.complete(7), 7);
    }

    /// `try_set` gives the value back with the reason: the gate is claimed, or the value set.
    #[test]
    fn try_set_refuses_while_claimed_and_once_set() {
        let slot = OnceSlot::<Box<u32>>::new();
        let guard = gate(poll(&mut slot.claim(), Waker::noop()));
        assert_eq!(
            slot.try_set(Box::new(1)),
            Err((Box::new(1), Refused::Claimed))
        );
        drop(guard);
        assert_eq!(**slot.try_set(Box::new(2)).expect("the gate is free"), 2);
        assert_eq!(slot.try_set(Box::new(3)), Err((Box::new(3), Refused::Set)));
        assert_eq!(slot.get().map(|value| **value), Some(2));
    }

    /// Waiters (non-contenders) are all woken by the write and read its value; a dropped
    /// waiter leaves the queue.
    #[test]
    fn waiters_are_released_by_the_write() {
        let slot = OnceSlot::<Vec<u8>>::new();
        let (count, waker) = counting_waker();
        let mut waiting = slot.wait();
        let mut dropped = slot.wait();
        assert!(poll(&mut waiting, &waker).is_pending());
        assert!(poll(&mut dropped, &waker).is_pending());
        drop(dropped);
        slot.try_set(vec![4, 2]).expect("empty");
        assert_eq!(wakes(&count), 1, "only the waiter still queued");
        assert_eq!(value(poll(&mut waiting, &waker)), &[4, 2]);
        assert!(!slot.lock().queue.has_queued(), "nobody is left queued");
    }

    /// The value is dropped exactly once: by `take`, or with the slot.
    #[test]
    fn the_value_is_dropped_once() {
        let drops = Arc::new(());
        let mut slot = OnceSlot::new_set(Arc::clone(&drops));
        assert!(slot.get_mut().is_some());
        let taken = slot.take().expect("set");
        assert!(slot.take().is_none() && slot.get().is_none());
        drop(taken);
        assert!(slot.try_set(Arc::clone(&drops)).is_ok());
        drop(slot);
        assert_eq!(Arc::strong_count(&drops), 1);
    }
}
