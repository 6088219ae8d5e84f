//! `Shared`: a watch channel's state, the value under a reader-writer lock beside an atomic
//! version word, and the wait lists of `changed()` and `Sender::closed()` (protocol in the
//! module doc of `watch`). It lives in gort's GC arena, so that the leak pass sees the tasks
//! parked on it.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{
    Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard, TryLockError,
};
use std::task::{Poll, Waker};

use gort_gc::{Gc, Kind, Tracer, Visitor};

use super::error::RecvError;
use crate::broadcast::wait_list::{Registration, WaitList};

/// The state word's low bit: every sender is gone.
const CLOSED: usize = 1;
/// The version's step in the state word (it leaves the closed bit alone).
const STEP: usize = 2;

/// A channel's state, shared by its handles through a [`Gc`].
pub(super) struct Shared<T> {
    /// The current value. Senders write it; receivers' `Ref`s read it.
    value: RwLock<T>,
    /// The version (`STEP` per change, wrapping) and the `CLOSED` bit. The version is bumped
    /// under `value`'s write lock (`Release`, pairing with the `Acquire` loads of `snapshot`),
    /// so a reader holding the read lock sees the version of the value it reads.
    state: AtomicUsize,
    /// Live receivers. Counts only (`Relaxed`): what waits on them, `Sender::closed`, reads
    /// them again under `waiters`' lock.
    pub(super) receivers: AtomicUsize,
    /// Live senders; the decrement to zero (`AcqRel`) closes the channel.
    pub(super) senders: AtomicUsize,
    /// The parked futures. Checking a condition and parking happen under this lock; the
    /// change to the condition happens before the notifier takes it, so no wake is lost.
    waiters: Mutex<Waiters>,
}

/// What [`Shared::waiters`] guards.
struct Waiters {
    /// `changed()` futures, woken by a new version or the close.
    changed: WaitList,
    /// `Sender::closed()` futures, woken when the last receiver goes.
    closed: WaitList,
}

/// A version of the value, as a receiver remembers the one it saw last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Version(usize);

/// One read of [`Shared::state`].
#[derive(Clone, Copy)]
pub(super) struct Snapshot(usize);

impl Version {
    /// The version of a new channel's initial value.
    pub(super) const INITIAL: Version = Version(0);

    /// One version back (wrapping), so that the current version looks new to its holder.
    pub(super) fn step_back(&mut self) {
        self.0 = self.0.wrapping_sub(STEP);
    }
}

impl Snapshot {
    /// The current version.
    pub(super) fn version(self) -> Version {
        Version(self.0 & !CLOSED)
    }

    /// Whether every sender is gone.
    pub(super) fn is_closed(self) -> bool {
        self.0 & CLOSED == CLOSED
    }
}

/// Traces a channel for the leak pass: the wakers of the tasks parked on it. The value is
/// opaque (any `T`), so it holds no edges.
struct WaitingTasks;

// SAFETY: reports only the wakers the wait lists hold, each under its own holder (its slab
// entry), and no object edge, hence `Waits`.
unsafe impl<T> Tracer<Shared<T>> for WaitingTasks {
    const KIND: Kind = Kind::Waits;
    fn trace(shared: &Shared<T>, visitor: &mut dyn Visitor) {
        shared.trace_waiting(visitor);
    }
}

impl<T> Shared<T> {
    /// The state of a new channel holding `init`, with one sender and one receiver, in the GC
    /// arena.
    pub(super) fn allocate(init: T) -> Gc<Shared<T>> {
        Gc::new_traced_by::<WaitingTasks>(Shared {
            value: RwLock::new(init),
            state: AtomicUsize::new(Version::INITIAL.0),
            receivers: AtomicUsize::new(1),
            senders: AtomicUsize::new(1),
            waiters: Mutex::new(Waiters {
                changed: WaitList::new(),
                closed: WaitList::new(),
            }),
        })
    }

    /// Read access to the value. A panic under the write lock (in a `send_modify` closure)
    /// leaves a value like any other, so poisoning is ignored, as by every lock here.
    pub(super) fn read(&self) -> RwLockReadGuard<'_, T> {
        self.value.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Write access to the value (see [`Shared::read`] on poisoning).
    pub(super) fn write(&self) -> RwLockWriteGuard<'_, T> {
        self.value.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// The version and closed bit now.
    pub(super) fn snapshot(&self) -> Snapshot {
        Snapshot(self.state.load(Ordering::Acquire))
    }

    /// Publishes a new version of the value. The caller holds the write lock.
    pub(super) fn bump_version(&self) {
        self.state.fetch_add(STEP, Ordering::Release);
    }

    /// Wakes every parked `changed()`: the version moved or the channel closed.
    pub(super) fn notify_changed(&self) {
        let wakes = self.lock_waiters().changed.take_all();
        wakes.wake();
    }

    /// The last sender went away.
    pub(super) fn close(&self) {
        self.state.fetch_or(CLOSED, Ordering::Release);
        self.notify_changed();
    }

    /// The last receiver went away: wake the `Sender::closed()` waiters.
    pub(super) fn notify_closed(&self) {
        let wakes = self.lock_waiters().closed.take_all();
        wakes.wake();
    }

    /// What `changed()` returns for a receiver that saw `seen`, if it returns now: `Ok` with
    /// `seen` moved to the new version, or `Err` once closed with nothing new.
    pub(super) fn check_changed(&self, seen: &mut Version) -> Option<Result<(), RecvError>> {
        let snapshot = self.snapshot();
        if snapshot.version() != *seen {
            *seen = snapshot.version();
            return Some(Ok(()));
        }
        if snapshot.is_closed() {
            return Some(Err(RecvError(())));
        }
        None
    }

    /// `changed()`'s poll: [`Shared::check_changed`], parking `waker` if it is not ready.
    pub(super) fn poll_changed(
        &self,
        seen: &mut Version,
        registration: &mut Registration,
        waker: &Waker,
    ) -> Poll<Result<(), RecvError>> {
        if let Some(result) = self.check_changed(seen) {
            // The change came after any parking of ours, and its notifier drains the list.
            registration.forget();
            return Poll::Ready(result);
        }
        let mut waiters = self.lock_waiters();
        let (stale, poll) = match self.check_changed(seen) {
            Some(result) => (waiters.changed.cancel(registration), Poll::Ready(result)),
            None => (waiters.changed.register(registration, waker), Poll::Pending),
        };
        drop(waiters);
        drop(stale);
        poll
    }

    /// Withdraws a `changed()` future dropped while parked.
    pub(super) fn cancel_changed(&self, registration: &mut Registration) {
        let waker = self.lock_waiters().changed.cancel(registration);
        drop(waker);
    }

    /// `Sender::closed()`'s poll: ready once no receiver is left, parked otherwise.
    pub(super) fn poll_closed(&self, registration: &mut Registration, waker: &Waker) -> Poll<()> {
        if self.receivers.load(Ordering::Relaxed) == 0 {
            // As in `poll_changed`: the last receiver's drop drains the list after this.
            registration.forget();
            return Poll::Ready(());
        }
        let mut waiters = self.lock_waiters();
        let (stale, poll) = if self.receivers.load(Ordering::Relaxed) == 0 {
            (waiters.closed.cancel(registration), Poll::Ready(()))
        } else {
            (waiters.closed.register(registration, waker), Poll::Pending)
        };
        drop(waiters);
        drop(stale);
        poll
    }

    /// Withdraws a `Sender::closed()` future dropped while parked.
    pub(super) fn cancel_closed(&self, registration: &mut Registration) {
        let waker = self.lock_waiters().closed.cancel(registration);
        drop(waker);
    }

    /// Reports the wakers of the tasks parked here to the leak pass: `changed()` and
    /// `wait_for()` waiting for a new version (`watch changed`), and `Sender::closed()` waiting
    /// for the last receiver to go (`watch closed`). The world is stopped, so the lock is free
    /// unless its holder is outside every pin (a plain thread); then nothing is reported, which
    /// only makes the parked tasks look reachable.
    fn trace_waiting(&self, visitor: &mut dyn Visitor) {
        let waiters = match self.waiters.try_lock() {
            Ok(waiters) => waiters,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return,
        };
        waiters.changed.trace(visitor, "watch changed");
        waiters.closed.trace(visitor, "watch closed");
    }

    /// Locks the wait lists (a panicking waker `clone` under it leaves them consistent).
    fn lock_waiters(&self) -> MutexGuard<'_, Waiters> {
        self.waiters.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<T: fmt::Debug> fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let snapshot = self.snapshot();
        f.debug_struct("Shared")
            .field("value", &self.value)
            .field("version", &snapshot.version())
            .field("is_closed", &snapshot.is_closed())
            .field("ref_count_rx", &self.receivers)
            .finish()
    }
}
