//! `WaitList`: the reservations of a bounded channel waiting for capacity, oldest first.
//!
//! A reservation (`reserve`, `reserve_many`, `send` on a full channel) that cannot have all its
//! permits parks here. Permits freed by the receiver go to the oldest reservation first, a few
//! at a time if it wants several, and only what it does not need goes on to the next one or
//! back to the channel (tokio's batch semaphore is FIFO in the same way; a later `try_send`
//! never overtakes a parked `send`).
//!
//! The list is doubly linked through the keys of a slab, so that a cancelled reservation leaves
//! it in O(1) wherever it is (a `select!` loop cancels one on every iteration it loses), and so
//! that parking allocates nothing once the slab has grown to the most waiters seen at once: the
//! entries are reused, and this is on every bounded send path that waits.
//!
//! A reservation stays in the slab (unlinked) after the list is done with it, *granted* or
//! *closed*, until its future collects the outcome or is dropped; only the owner removes its
//! key, so a key is never reused under a future that still holds it.
//!
//! The locks' batch semaphore (`batch_semaphore.rs`) queues its acquirers in the same list:
//! it is the same FIFO of waiters for a number of permits, whoever hands the permits out.

use std::task::Waker;

use slab::Slab;

/// Where a reservation is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    /// Linked in the list, waiting for `remaining` more permits.
    Queued,
    /// Has every permit it asked for; its future takes them on its next poll.
    Granted,
    /// The receiver closed the channel (or the semaphore was closed) while it waited; its
    /// future fails, giving back what it was assigned.
    Closed,
}

/// One parked reservation.
#[derive(Debug)]
pub(crate) struct Reservation {
    /// Permits asked for.
    pub(crate) wanted: usize,
    /// Permits still to be assigned (0 once granted).
    pub(crate) remaining: usize,
    /// The task to wake when it is granted or closed; taken when it is woken.
    pub(crate) waker: Option<Waker>,
    pub(crate) status: Status,
}

impl Reservation {
    /// Permits assigned to it so far: what its future gives back if it fails or is dropped.
    pub(crate) fn assigned(&self) -> usize {
        self.wanted - self.remaining
    }
}

/// A slab entry: a reservation and its links (`None` at the ends, and once unlinked).
#[derive(Debug)]
struct Entry {
    reservation: Reservation,
    prev: Option<usize>,
    next: Option<usize>,
}

/// The parked reservations (module doc). Lives under the channel's lock.
#[derive(Debug, Default)]
pub(crate) struct WaitList {
    entries: Slab<Entry>,
    /// The oldest queued reservation.
    head: Option<usize>,
    /// The newest queued reservation.
    tail: Option<usize>,
}

impl WaitList {
    /// An empty list; `const`, so that a lock holding one can be a `static`.
    pub(crate) const fn new() -> WaitList {
        WaitList {
            entries: Slab::new(),
            head: None,
            tail: None,
        }
    }

    /// Queues `reservation` (status `Queued`) at the back; returns its key.
    pub(crate) fn push_back(&mut self, reservation: Reservation) -> usize {
        debug_assert_eq!(reservation.status, Status::Queued);
        let key = self.entries.insert(Entry {
            reservation,
            prev: self.tail,
            next: None,
        });
        match self.tail {
            Some(tail) => self.entries[tail].next = Some(key),
            None => self.head = Some(key),
        }
        self.tail = Some(key);
        key
    }

    /// The oldest queued reservation, if any.
    pub(crate) fn front_mut(&mut self) -> Option<&mut Reservation> {
        let head = self.head?;
        Some(&mut self.entries[head].reservation)
    }

    /// Takes the oldest queued reservation out of the list, leaving it in the slab with
    /// `status` (`Granted` or `Closed`), and returns it to be woken.
    pub(crate) fn pop_front(&mut self, status: Status) -> Option<&mut Reservation> {
        let head = self.head?;
        self.unlink(head);
        let reservation = &mut self.entries[head].reservation;
        reservation.status = status;
        Some(reservation)
    }

    /// The reservation under `key`.
    pub(crate) fn get(&self, key: usize) -> &Reservation {
        &self.entries[key].reservation
    }

    /// The reservation under `key`, to change its waker.
    pub(crate) fn get_mut(&mut self, key: usize) -> &mut Reservation {
        &mut self.entries[key].reservation
    }

    /// Removes the reservation under `key` (its owner's call), unlinking it if still queued.
    pub(crate) fn remove(&mut self, key: usize) -> Reservation {
        if self.entries[key].reservation.status == Status::Queued {
            self.unlink(key);
        }
        self.entries.remove(key).reservation
    }

    /// Whether no reservation is queued.
    pub(crate) fn is_empty(&self) -> bool {
        self.head.is_none()
    }

    /// Every reservation still in the slab (queued or not), for the leak pass.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Reservation> {
        self.entries.iter().map(|(_, entry)| &entry.reservation)
    }

    /// Takes `key` out of the list (not out of the slab).
    fn unlink(&mut self, key: usize) {
        let (prev, next) = {
            let entry = &mut self.entries[key];
            (entry.prev.take(), entry.next.take())
        };
        match prev {
            Some(prev) => self.entries[prev].next = next,
            None => self.head = next,
        }
        match next {
            Some(next) => self.entries[next].prev = prev,
            None => self.tail = prev,
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn queued(wanted: usize) -> Reservation {
        Reservation {
            wanted,
            remaining: wanted,
            waker: None,
            status: Status::Queued,
        }
    }

    #[test]
    fn reservations_leave_in_order_and_from_the_middle() {
        let mut list = WaitList::default();
        let a = list.push_back(queued(1));
        let b = list.push_back(queued(2));
        let c = list.push_back(queued(3));
        // Cancelled from the middle: the others keep their order.
        assert_eq!(list.remove(b).wanted, 2);
        assert_eq!(list.pop_front(Status::Granted).map(|r| r.wanted), Some(1));
        assert_eq!(list.get(a).status, Status::Granted);
        assert_eq!(list.front_mut().map(|r| r.wanted), Some(3));
        list.remove(c);
        assert!(list.is_empty());
        assert_eq!(
            list.iter().count(),
            1,
            "the granted one stays until its owner takes it"
        );
        list.remove(a);
        assert_eq!(list.iter().count(), 0);
        // Reused keys link again from an empty list.
        let d = list.push_back(queued(4));
        assert_eq!(list.front_mut().map(|r| r.wanted), Some(4));
        list.remove(d);
        assert!(list.is_empty());
    }
}
