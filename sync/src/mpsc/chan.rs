//! `Channel<T>`: the state the handles of one mpsc channel share, bounded or not, and every
//! operation on it that is not a future's own bookkeeping (`reserve.rs`).
//!
//! # Invariants (all under `state`'s lock)
//!
//! - A bounded channel's `bound` permits are each in exactly one place: `available`, assigned
//!   to a reservation in the wait list, held by a `Permit`/`OwnedPermit`/`PermitIterator`, or
//!   taken by a value in `buffer`. So `available == bound` means *idle*: nothing buffered,
//!   nothing reserved, nobody half-served.
//! - Reservations queue only when `available` could not serve them, and permits freed while any
//!   are queued go to them first: a non-empty wait list means `available == 0`.
//! - `rx_closed` is set once (receiver `close` or drop); from then on nothing queues and no
//!   permit is handed out, but permits already out may still send, and the receiver drains
//!   what they send. `rx_dropped` follows it when the receiver is gone: a value sent then is
//!   dropped at once, since nobody will ever take it.
//! - `senders_gone` is set once, by the last strong sender, under the lock, after the count
//!   reached zero (which `upgrade` never leaves again).
//!
//! A receive ends (`None`) when the buffer is empty and either no sender is left, or the
//! receiver closed the channel and it is idle: an outstanding permit can still deliver.
//!
//! # Wakes and drops outside the lock
//!
//! Wakers woken under a channel operation are collected in `chan::Wakes` and woken after the
//! unlock, and wakers replaced or removed are dropped after it too: a waker is user code, and
//! dropping one may drop a permit of this very channel (which locks it). Values are never
//! dropped under the lock either.

use std::collections::VecDeque;
use std::fmt;
use std::sync::TryLockError;
use std::task::{Context, Poll, Waker};

use gort_gc::{Gc, Kind, Tracer, Visitor};
use slab::Slab;

use crate::chan::Wakes;
use crate::loom::{AtomicBool, AtomicUsize, Mutex, MutexGuard, Ordering};

use super::error::{SendError, TryRecvError, TrySendError};
use super::wait_list::WaitList;

/// Values a bounded channel's buffer has room for before its first message: enough for a
/// ping-pong or a small pipeline; a larger bound grows the ring as it fills (it never shrinks,
/// so a bounded channel allocates nothing per message once warm).
const PREALLOCATED: usize = 32;

/// An unbounded channel's ring, once drained, is cut back to [`PREALLOCATED`] if it grew past
/// this many slots: a burst should not pin its peak memory for the channel's life.
const SHRINK_ABOVE: usize = 4096;

/// The shared state of one channel (module doc).
pub(super) struct Channel<T> {
    state: Mutex<State<T>>,
    /// `Some(n)`: a bounded channel of `n` permits; `None`: unbounded.
    bound: Option<usize>,
    /// Strong senders alive (an `OwnedPermit` holds one). Incremented `Relaxed` by clones (the
    /// cloner holds one already), by `upgrade` with a CAS from non-zero (`AcqRel`, so a zero
    /// is final); decremented `AcqRel` so the last one sees every other one's accesses.
    senders: AtomicUsize,
    /// Weak senders alive; only reported (`weak_count`), so `Relaxed`.
    weak_senders: AtomicUsize,
    /// `State::rx_closed`, readable without the lock (`Sender::is_closed`). Stored `Release`
    /// under the lock, loaded `Acquire`.
    closed: AtomicBool,
}

/// What the lock guards (module doc).
pub(super) struct State<T> {
    /// Sent values not received yet, oldest first.
    pub(super) buffer: VecDeque<T>,
    /// Permits free for anyone (bounded only; 0 and unused when unbounded).
    pub(super) available: usize,
    /// Reservations waiting for permits.
    pub(super) reservations: WaitList,
    /// The receiver's task while it waits for a value; taken by the first wake.
    pub(super) rx_waker: Option<Waker>,
    /// Tasks in `Sender::closed()`; all woken, and the slab emptied, by the close.
    pub(super) closed_waiters: Slab<Option<Waker>>,
    pub(super) rx_closed: bool,
    pub(super) rx_dropped: bool,
    pub(super) senders_gone: bool,
}

/// Traces a channel for the leak pass: the wakers of the tasks waiting on it (its elements are
/// opaque, so it holds no edges).
struct WaitingTasks;

// SAFETY: reports only the wakers the channel's state holds, each under its own holder (the
// place it is stored in), and no object edge, hence `Waits`.
unsafe impl<T> Tracer<Channel<T>> for WaitingTasks {
    const KIND: Kind = Kind::Waits;
    fn trace(chan: &Channel<T>, visitor: &mut dyn Visitor) {
        chan.trace_waiting(visitor);
    }
}

impl<T> Channel<T> {
    /// A new channel with one sender and its receiver, in the GC arena.
    pub(super) fn allocate(bound: Option<usize>) -> Gc<Channel<T>> {
        let buffer = match bound {
            Some(bound) => VecDeque::with_capacity(bound.min(PREALLOCATED)),
            None => VecDeque::new(),
        };
        Gc::new_traced_by::<WaitingTasks>(Channel {
            state: Mutex::new(State {
                buffer,
                available: bound.unwrap_or(0),
                reservations: WaitList::default(),
                rx_waker: None,
                closed_waiters: Slab::new(),
                rx_closed: false,
                rx_dropped: false,
                senders_gone: false,
            }),
            bound,
            senders: AtomicUsize::new(1),
            weak_senders: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
        })
    }

    /// Takes the lock. Poisoning is ignored: only a waker's `clone` runs user code under it,
    /// before anything is changed.
    pub(super) fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The bound of a bounded channel.
    pub(super) fn bound(&self) -> usize {
        self.bound
            .expect("a bounded channel's operation on an unbounded one")
    }

    // ----- handles -----

    /// A strong sender was cloned.
    pub(super) fn add_sender(&self) {
        if self.senders.fetch_add(1, Ordering::Relaxed) > isize::MAX as usize {
            std::process::abort();
        }
    }

    /// A strong sender went; the last one ends the channel for the receiver.
    pub(super) fn drop_sender(&self) {
        if self.senders.fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        let waker = {
            let mut state = self.lock();
            state.senders_gone = true;
            state.rx_waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// A weak sender's `upgrade`: a new strong sender, unless none is left.
    pub(super) fn try_upgrade(&self) -> bool {
        let mut senders = self.senders.load(Ordering::Acquire);
        loop {
            if senders == 0 {
                return false;
            }
            if senders > isize::MAX as usize {
                std::process::abort();
            }
            match self.senders.compare_exchange_weak(
                senders,
                senders + 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return true,
                Err(now) => senders = now,
            }
        }
    }

    /// A weak sender was made.
    pub(super) fn add_weak(&self) {
        self.weak_senders.fetch_add(1, Ordering::Relaxed);
    }

    /// A weak sender went.
    pub(super) fn drop_weak(&self) {
        self.weak_senders.fetch_sub(1, Ordering::Relaxed);
    }

    /// Strong senders alive now.
    pub(super) fn strong_count(&self) -> usize {
        self.senders.load(Ordering::Acquire)
    }

    /// Weak senders alive now.
    pub(super) fn weak_count(&self) -> usize {
        self.weak_senders.load(Ordering::Relaxed)
    }

    /// Whether the receiver closed the channel or is gone (the senders' view).
    pub(super) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Whether the receiver can expect no more values than those buffered (its own view).
    pub(super) fn is_closed_for_receiver(&self) -> bool {
        self.is_closed() || self.strong_count() == 0
    }

    // ----- sending -----

    /// A bounded `try_send`: takes a permit and buffers `value` under one lock.
    pub(super) fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let waker = {
            let mut state = self.lock();
            if state.rx_closed {
                return Err(TrySendError::Closed(value));
            }
            if state.available == 0 {
                return Err(TrySendError::Full(value));
            }
            state.available -= 1;
            state.buffer.push_back(value);
            state.rx_waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// An unbounded `send`: buffers `value` unless the receiver closed the channel.
    pub(super) fn send_unbounded(&self, value: T) -> Result<(), SendError<T>> {
        let waker = {
            let mut state = self.lock();
            if state.rx_closed {
                return Err(SendError(value));
            }
            state.buffer.push_back(value);
            state.rx_waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
        Ok(())
    }

    /// Takes `n` permits if they are free now (`try_reserve*`). `Full` also when `n` exceeds
    /// the bound, which no wait could satisfy.
    pub(super) fn try_acquire(&self, n: usize) -> Result<(), TrySendError<()>> {
        if n > self.bound() {
            return Err(TrySendError::Full(()));
        }
        let mut state = self.lock();
        if state.rx_closed {
            return Err(TrySendError::Closed(()));
        }
        if state.available < n {
            return Err(TrySendError::Full(()));
        }
        state.available -= n;
        Ok(())
    }

    /// Sends `value` with a permit the caller holds (it is used up): buffered, or dropped if
    /// the receiver is gone (its slot is then free again).
    pub(super) fn send_reserved(&self, value: T) {
        let mut wakes = Wakes::default();
        let unsendable = {
            let mut state = self.lock();
            if state.rx_dropped {
                self.give_back(&mut state, 1, &mut wakes);
                Some(value)
            } else {
                state.push(value, &mut wakes);
                None
            }
        };
        drop(unsendable);
        wakes.wake_all();
    }

    /// Gives back `n` permits the caller holds unused (a dropped permit, the rest of a
    /// `PermitIterator`).
    pub(super) fn release(&self, n: usize) {
        if n == 0 {
            return;
        }
        let mut wakes = Wakes::default();
        {
            let mut state = self.lock();
            self.give_back(&mut state, n, &mut wakes);
            self.wake_rx_if_idle(&mut state, &mut wakes);
        }
        wakes.wake_all();
    }

    /// Returns `n` permits: to the oldest queued reservations first (granting those that then
    /// have all they asked for), the rest to `available`.
    pub(super) fn give_back(&self, state: &mut State<T>, mut n: usize, wakes: &mut Wakes) {
        while n > 0 {
            let Some(oldest) = state.reservations.front_mut() else {
                break;
            };
            let assigned = n.min(oldest.remaining);
            oldest.remaining -= assigned;
            n -= assigned;
            if oldest.remaining == 0 {
                if let Some(granted) = state
                    .reservations
                    .pop_front(super::wait_list::Status::Granted)
                {
                    wakes.push(granted.waker.take());
                }
            }
        }
        state.available += n;
        debug_assert!(state.available <= self.bound.unwrap_or(0));
        debug_assert!(state.available == 0 || state.reservations.is_empty());
    }

    /// After permits came back on a closed channel: if it is idle now, a receiver waiting for
    /// the last permit's value learns that none will come.
    pub(super) fn wake_rx_if_idle(&self, state: &mut State<T>, wakes: &mut Wakes) {
        if state.rx_closed && self.is_idle(state) {
            wakes.push(state.rx_waker.take());
        }
    }

    /// Nothing buffered, reserved or half-served (module doc).
    fn is_idle(&self, state: &State<T>) -> bool {
        match self.bound {
            Some(bound) => state.available == bound,
            None => state.buffer.is_empty(),
        }
    }

    /// Whether a receive with nothing buffered must end (module doc).
    fn finished(&self, state: &State<T>) -> bool {
        state.senders_gone || (state.rx_closed && self.is_idle(state))
    }

    // ----- receiving -----

    /// Polls for the next value (`recv`, `poll_recv`): `None` once the channel ended.
    pub(super) fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let progress = std::task::ready!(gort_context::poll_proceed(cx));
        let mut wakes = Wakes::default();
        let mut replaced = None;
        let polled = {
            let mut state = self.lock();
            if let Some(value) = state.buffer.pop_front() {
                self.took(&mut state, 1, &mut wakes);
                Poll::Ready(Some(value))
            } else if self.finished(&state) {
                Poll::Ready(None)
            } else {
                replaced = register(&mut state.rx_waker, cx.waker());
                Poll::Pending
            }
        };
        drop(replaced);
        wakes.wake_all();
        if polled.is_ready() {
            progress.made();
        }
        polled
    }

    /// Polls for up to `limit` values appended to `values` (`recv_many`): the number taken, 0
    /// only once the channel ended (or for a `limit` of 0).
    pub(super) fn poll_recv_many(
        &self,
        cx: &mut Context<'_>,
        values: &mut Vec<T>,
        limit: usize,
    ) -> Poll<usize> {
        let progress = std::task::ready!(gort_context::poll_proceed(cx));
        if limit == 0 {
            progress.made();
            return Poll::Ready(0);
        }
        let mut wakes = Wakes::default();
        let mut replaced = None;
        let polled = {
            let mut state = self.lock();
            let taken = limit.min(state.buffer.len());
            if taken > 0 {
                values.extend(state.buffer.drain(..taken));
                self.took(&mut state, taken, &mut wakes);
                Poll::Ready(taken)
            } else if self.finished(&state) {
                Poll::Ready(0)
            } else {
                replaced = register(&mut state.rx_waker, cx.waker());
                Poll::Pending
            }
        };
        drop(replaced);
        wakes.wake_all();
        if polled.is_ready() {
            progress.made();
        }
        polled
    }

    /// Takes the next value without waiting.
    pub(super) fn try_recv(&self) -> Result<T, TryRecvError> {
        let mut wakes = Wakes::default();
        let received = {
            let mut state = self.lock();
            if let Some(value) = state.buffer.pop_front() {
                self.took(&mut state, 1, &mut wakes);
                Ok(value)
            } else if self.finished(&state) {
                Err(TryRecvError::Disconnected)
            } else {
                Err(TryRecvError::Empty)
            }
        };
        wakes.wake_all();
        received
    }

    /// The receiver took `n` values: their slots are free again (bounded), or the ring may
    /// shrink (unbounded).
    fn took(&self, state: &mut State<T>, n: usize, wakes: &mut Wakes) {
        match self.bound {
            Some(_) => self.give_back(state, n, wakes),
            None => {
                if state.buffer.is_empty() && state.buffer.capacity() > SHRINK_ABOVE {
                    state.buffer.shrink_to(PREALLOCATED);
                }
            }
        }
    }

    /// The receiver closes the channel: no new permits or sends; queued reservations fail;
    /// `Sender::closed()` completes. Buffered values stay for the receiver.
    pub(super) fn close(&self) {
        let mut wakes = Wakes::default();
        {
            let mut state = self.lock();
            if state.rx_closed {
                return;
            }
            state.rx_closed = true;
            self.closed.store(true, Ordering::Release);
            while let Some(failed) = state
                .reservations
                .pop_front(super::wait_list::Status::Closed)
            {
                wakes.push(failed.waker.take());
            }
            for (_, waiter) in state.closed_waiters.iter_mut() {
                wakes.push(waiter.take());
            }
            state.closed_waiters.clear();
        }
        wakes.wake_all();
    }

    /// The receiver is dropped: the channel closes, and what is buffered is dropped (outside
    /// the lock), as is the receiver's waker.
    pub(super) fn drop_receiver(&self) {
        self.close();
        let mut wakes = Wakes::default();
        let (buffered, waker) = {
            let mut state = self.lock();
            state.rx_dropped = true;
            let buffered = std::mem::take(&mut state.buffer);
            if self.bound.is_some() {
                self.give_back(&mut state, buffered.len(), &mut wakes);
            }
            (buffered, state.rx_waker.take())
        };
        drop(waker);
        // Nobody is queued after the close: nothing to wake, but keep the protocol whole.
        wakes.wake_all();
        drop(buffered);
    }

    /// Values buffered now.
    pub(super) fn len(&self) -> usize {
        self.lock().buffer.len()
    }

    /// Permits free now (bounded).
    pub(super) fn capacity(&self) -> usize {
        self.lock().available
    }

    /// Reports the wakers of the tasks waiting here to the leak pass: the receiver (`chan
    /// receive`), reservations and `closed()` waiters (`chan send`). The world is stopped, so
    /// the lock is free unless its holder is outside every pin (a plain thread); then nothing
    /// is reported, which only makes the waiting tasks look reachable.
    pub(super) fn trace_waiting(&self, visitor: &mut dyn Visitor) {
        let state = match self.state.try_lock() {
            Ok(state) => state,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return,
        };
        if let Some(waker) = &state.rx_waker {
            visitor.visit_waker(holder(&state.rx_waker), waker, "chan receive");
        }
        for reservation in state.reservations.iter() {
            if let Some(waker) = &reservation.waker {
                visitor.visit_waker(holder(reservation), waker, "chan send");
            }
        }
        for (_, waiter) in state.closed_waiters.iter() {
            if let Some(waker) = waiter {
                visitor.visit_waker(holder(waiter), waker, "chan send");
            }
        }
    }
}

impl<T> State<T> {
    /// Buffers `value` (its permit is already taken) and hands the receiver's waker to `wakes`.
    pub(super) fn push(&mut self, value: T, wakes: &mut Wakes) {
        self.buffer.push_back(value);
        wakes.push(self.rx_waker.take());
    }
}

/// Stores `waker` in `slot` unless it already wakes the same task; returns the waker it
/// replaced, to be dropped after the unlock.
pub(super) fn register(slot: &mut Option<Waker>, waker: &Waker) -> Option<Waker> {
    match slot {
        Some(old) if old.will_wake(waker) => None,
        _ => slot.replace(waker.clone()),
    }
}

/// Names the place a waker is stored in, for the leak pass.
fn holder<W>(place: &W) -> usize {
    std::ptr::from_ref(place).addr()
}

impl<T> fmt::Debug for Channel<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        let mut s = f.debug_struct("Channel");
        if let Some(bound) = self.bound {
            s.field("capacity", &state.available)
                .field("max_capacity", &bound);
        }
        s.field("len", &state.buffer.len())
            .field("senders", &self.strong_count())
            .field("weak_senders", &self.weak_count())
            .field("rx_closed", &state.rx_closed)
            .finish()
    }
}
