//! `Shared`: a broadcast channel's state, the ring of slots and the tail (see the module doc of
//! `broadcast` for the protocol). Senders and receivers are thin handles over this, which
//! lives in gort's GC arena so that the leak pass sees the tasks parked on it.

use std::sync::atomic::AtomicUsize;
use std::sync::{Mutex, MutexGuard, PoisonError, TryLockError};
use std::task::{Poll, Waker};

use gort_gc::{Gc, Kind, Tracer, Visitor};

use super::error::{SendError, TryRecvError};
use super::wait_list::{Registration, WaitList};

/// The most receivers a channel counts (tokio's bound, far above anything real).
const MAX_RECEIVERS: usize = usize::MAX >> 2;

/// A channel's state, shared by its handles through a [`Gc`].
pub(super) struct Shared<T> {
    /// The ring: position `pos` lives in slot `pos & mask`. Each slot has its own lock, so
    /// receivers reading different positions do not contend, and reading never takes the tail
    /// lock while values are there to read.
    slots: Box<[Mutex<Slot<T>>]>,
    /// `capacity - 1`; the capacity is a power of two.
    mask: u64,
    /// The write end. Lock order: the tail before a slot.
    tail: Mutex<Tail>,
    /// Live `Sender`s. The decrement to zero (`AcqRel`) closes the channel; `WeakSender::upgrade`
    /// increments only from a non-zero count (CAS), so a closed channel stays closed.
    pub(super) senders: AtomicUsize,
    /// Live `WeakSender`s (a statistic: nothing synchronises on it).
    pub(super) weak_senders: AtomicUsize,
}

/// The write end of the ring, under [`Shared::tail`].
struct Tail {
    /// The position the next send writes.
    pos: u64,
    /// Subscribed receivers: each value sent is unread by this many.
    receivers: usize,
    /// No value will come (every sender is gone) or nobody can read one (every receiver is);
    /// subscribing after the latter reopens the channel. A receiver that has read everything
    /// retained gets `Closed`; `Sender::closed` completes.
    closed: bool,
    /// Receivers parked with nothing to read; a send or the close wakes them all.
    receiving: WaitList,
    /// `Sender::closed` futures; the last receiver's drop wakes them.
    closing: WaitList,
}

/// One place of the ring, under its own lock.
struct Slot<T> {
    /// The position last written here; before the first write, `index - capacity`, so that a
    /// receiver at `index` finds the slot one lap behind, which is what "empty" looks like.
    pos: u64,
    /// Receivers that still have to read `value`: those subscribed when it was sent, less
    /// those that read it or dropped since. The last one releases the value.
    unread: usize,
    /// The value sent at `pos`, until every receiver read it or it is overwritten.
    value: Option<T>,
}

/// A receiver's hold on the slot of the value it receives: read the value with
/// [`Read::value`]; dropping it counts the read (releasing the value after the last reader).
pub(super) struct Read<'a, T> {
    /// `Some` until dropped.
    slot: Option<MutexGuard<'a, Slot<T>>>,
}

/// Traces a channel for the leak pass: the wakers of the tasks parked on it. Its values are
/// opaque (they are only `Clone`), so it holds no edges.
struct WaitingTasks;

// SAFETY: reports only the wakers the tail's wait lists hold, each under its own holder (its
// slab entry), and no object edge, hence `Waits`.
unsafe impl<T> Tracer<Shared<T>> for WaitingTasks {
    const KIND: Kind = Kind::Waits;
    fn trace(shared: &Shared<T>, visitor: &mut dyn Visitor) {
        shared.trace_waiting(visitor);
    }
}

impl<T> Shared<T> {
    /// [`Shared::new`] in the GC arena.
    #[track_caller]
    pub(super) fn allocate(capacity: usize, receivers: usize) -> Gc<Shared<T>> {
        Gc::new_traced_by::<WaitingTasks>(Shared::new(capacity, receivers))
    }

    /// A channel state with room for `capacity` values (rounded up to a power of two) and
    /// `receivers` receivers counted already.
    #[track_caller]
    fn new(capacity: usize, receivers: usize) -> Shared<T> {
        assert!(capacity > 0, "broadcast channel capacity cannot be zero");
        assert!(
            capacity <= usize::MAX >> 1,
            "broadcast channel capacity exceeded `usize::MAX / 2`"
        );
        let capacity = capacity.next_power_of_two();
        let slots = (0..capacity)
            .map(|index| {
                Mutex::new(Slot {
                    pos: (index as u64).wrapping_sub(capacity as u64),
                    unread: 0,
                    value: None,
                })
            })
            .collect();
        Shared {
            slots,
            mask: capacity as u64 - 1,
            tail: Mutex::new(Tail {
                pos: 0,
                receivers,
                closed: receivers == 0,
                receiving: WaitList::new(),
                closing: WaitList::new(),
            }),
            senders: AtomicUsize::new(1),
            weak_senders: AtomicUsize::new(0),
        }
    }

    /// The ring's length (the rounded capacity).
    fn capacity(&self) -> u64 {
        self.mask + 1
    }

    /// Writes `value` at the tail for every subscribed receiver and wakes the parked ones.
    /// Overwrites the oldest value if the ring is full. Returns how many receivers it is for.
    pub(super) fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let mut tail = lock(&self.tail);
        if tail.receivers == 0 {
            return Err(SendError(value));
        }
        let pos = tail.pos;
        tail.pos = pos.wrapping_add(1);
        let receivers = tail.receivers;
        let overwritten = {
            let mut slot = lock(self.slot(pos));
            slot.pos = pos;
            slot.unread = receivers;
            slot.value.replace(value)
        };
        let wakes = tail.receiving.take_all();
        drop(tail);
        wakes.wake();
        // Dropped last, outside the locks: its destructor is user code.
        drop(overwritten);
        Ok(receivers)
    }

    /// The slot of position `pos`.
    fn slot(&self, pos: u64) -> &Mutex<Slot<T>> {
        &self.slots[(pos & self.mask) as usize]
    }

    /// The receive step of a receiver at `*next`: its value (advancing `*next`), or why there
    /// is none. With nothing to read yet, `park` (if given) is parked to be woken by the next
    /// send or the close. A receiver that lagged gets `Lagged` with `*next` moved to the oldest
    /// value retained.
    pub(super) fn next_value(
        &self,
        next: &mut u64,
        park: Option<(&mut Registration, &Waker)>,
    ) -> Result<Read<'_, T>, TryRecvError> {
        let mut slot = lock(self.slot(*next));
        if slot.pos != *next {
            // Not the value wanted: nothing new yet, or overwritten. Telling which needs the
            // tail, locked first (lock order), so let the slot go and take both.
            drop(slot);
            let mut tail = lock(&self.tail);
            slot = lock(self.slot(*next));
            // A send may have written it meanwhile.
            if slot.pos != *next {
                if slot.pos.wrapping_add(self.capacity()) == *next {
                    // One lap behind: the receiver has read everything sent.
                    if tail.closed {
                        return Err(TryRecvError::Closed);
                    }
                    let replaced = park.and_then(|(registration, waker)| {
                        tail.receiving.register(registration, waker)
                    });
                    drop(slot);
                    drop(tail);
                    drop(replaced);
                    return Err(TryRecvError::Empty);
                }
                // Overwritten: skip to the oldest value still retained. The slot holds a later
                // lap than `*next`'s, so at least one value was lost (`missed > 0`).
                let oldest = tail.pos.wrapping_sub(self.capacity());
                let missed = oldest.wrapping_sub(*next);
                *next = oldest;
                return Err(TryRecvError::Lagged(missed));
            }
        }
        *next = next.wrapping_add(1);
        Ok(Read { slot: Some(slot) })
    }

    /// Withdraws a receive future dropped while parked.
    pub(super) fn cancel_receive(&self, registration: &mut Registration) {
        let waker = lock(&self.tail).receiving.cancel(registration);
        drop(waker);
    }

    /// Counts a new receiver, reopening a channel that had none; returns the position it
    /// starts reading at (the tail: it sees values sent from now on).
    pub(super) fn add_receiver(&self) -> u64 {
        let mut tail = lock(&self.tail);
        assert!(tail.receivers != MAX_RECEIVERS, "max receivers");
        if tail.receivers == 0 {
            tail.closed = false;
        }
        tail.receivers += 1;
        tail.pos
    }

    /// A receiver at `next` goes away: it no longer counts for new values, it marks the values
    /// it has not read as read (releasing those only it held), and if it was the last one the
    /// channel closes and `Sender::closed` completes.
    pub(super) fn remove_receiver(&self, mut next: u64) {
        let (until, wakes) = {
            let mut tail = lock(&self.tail);
            tail.receivers -= 1;
            let wakes = if tail.receivers == 0 {
                tail.closed = true;
                Some(tail.closing.take_all())
            } else {
                None
            };
            (tail.pos, wakes)
        };
        while next < until {
            match self.next_value(&mut next, None) {
                Ok(read) => drop(read),
                // Skipped values were overwritten: not this receiver's to release any more.
                Err(TryRecvError::Lagged(_)) => {}
                // Not reachable below the tail; nothing left to release either way.
                Err(TryRecvError::Empty | TryRecvError::Closed) => break,
            }
        }
        // Woken after the release, so that a `closed()` waiter sees the values gone.
        if let Some(wakes) = wakes {
            wakes.wake();
        }
    }

    /// The last sender went away: receivers get `Closed` once they have read what is retained.
    pub(super) fn close(&self) {
        let wakes = {
            let mut tail = lock(&self.tail);
            tail.closed = true;
            tail.receiving.take_all()
        };
        wakes.wake();
    }

    /// `Sender::closed`'s poll: ready once no receiver is subscribed, parked otherwise.
    pub(super) fn poll_closed(&self, registration: &mut Registration, waker: &Waker) -> Poll<()> {
        let mut tail = lock(&self.tail);
        let (replaced, poll) = if tail.closed {
            (tail.closing.cancel(registration), Poll::Ready(()))
        } else {
            (tail.closing.register(registration, waker), Poll::Pending)
        };
        drop(tail);
        drop(replaced);
        poll
    }

    /// Withdraws a `Sender::closed` future dropped while parked.
    pub(super) fn cancel_closed(&self, registration: &mut Registration) {
        let waker = lock(&self.tail).closing.cancel(registration);
        drop(waker);
    }

    /// Subscribed receivers.
    pub(super) fn receiver_count(&self) -> usize {
        lock(&self.tail).receivers
    }

    /// Values sent but not yet read by a receiver counted for them at `next`'s side: the
    /// distance from `next` to the tail, lost values included.
    pub(super) fn unread_from(&self, next: u64) -> usize {
        lock(&self.tail).pos.wrapping_sub(next) as usize
    }

    /// Values retained that some receiver has still to read (tokio's `Sender::len`).
    ///
    /// Going from the oldest position retained to the newest, the slots nobody has to read any
    /// more come first (a receiver reads in order, and one that goes marks all it had left),
    /// so a binary search finds the first one still unread.
    pub(super) fn queued(&self) -> usize {
        let tail = lock(&self.tail);
        let capacity = self.capacity();
        // The oldest retained position is `tail.pos - capacity`, in the slot of `tail.pos`.
        let (mut read, mut unread) = (0, capacity);
        while read < unread {
            let middle = read + (unread - read) / 2;
            if lock(self.slot(tail.pos.wrapping_add(middle))).unread == 0 {
                read = middle + 1;
            } else {
                unread = middle;
            }
        }
        (capacity - read) as usize
    }

    /// Reports the wakers of the tasks parked here to the leak pass: receivers waiting for a
    /// value (`broadcast receive`) and `Sender::closed` waiting for the last receiver to go
    /// (`broadcast closed`). The world is stopped, so the tail lock is free unless its holder
    /// is outside every pin (a plain thread); then nothing is reported, which only makes the
    /// parked tasks look reachable.
    fn trace_waiting(&self, visitor: &mut dyn Visitor) {
        let tail = match self.tail.try_lock() {
            Ok(tail) => tail,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return,
        };
        tail.receiving.trace(visitor, "broadcast receive");
        tail.closing.trace(visitor, "broadcast closed");
    }

    /// Whether no retained value is still unread by anyone: true when the newest one is read.
    pub(super) fn nothing_queued(&self) -> bool {
        let tail = lock(&self.tail);
        lock(self.slot(tail.pos.wrapping_sub(1))).unread == 0
    }
}

impl<T> Read<'_, T> {
    /// The value received (`None` only if a broken count released it early; receivers treat
    /// that as closed, as tokio does).
    pub(super) fn value(&self) -> Option<&T> {
        self.slot.as_ref().and_then(|slot| slot.value.as_ref())
    }
}

impl<T> Drop for Read<'_, T> {
    fn drop(&mut self) {
        let Some(mut slot) = self.slot.take() else {
            return;
        };
        debug_assert!(
            slot.unread > 0,
            "a slot read by more receivers than it was sent to"
        );
        slot.unread = slot.unread.saturating_sub(1);
        let released = if slot.unread == 0 {
            slot.value.take()
        } else {
            None
        };
        drop(slot);
        // Outside the slot lock: the destructor is user code.
        drop(released);
    }
}

/// Locks `mutex`. A panic under these locks (a waker's `clone`, a value's `clone` while the
/// slot is held) leaves the state consistent, so poisoning is ignored.
fn lock<S>(mutex: &Mutex<S>) -> MutexGuard<'_, S> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
