//! `WaitQueue`: the parked futures of [`Notify`], `OnceCell`, `SetOnce`, `Barrier` and
//! `WaitGroup`, in arrival order, each of which a notifier can *choose* (hand one notification
//! or one right to) or *release* (wake with everyone else).
//!
//! # Why one queue, and why this shape
//!
//! These primitives park futures on a condition and differ only in whom a change wakes: `Notify`
//! wakes the oldest (`notify_one`), the newest (`notify_last`) or all (`notify_waiters`); a
//! `OnceCell` hands the right to initialise to the oldest contender and wakes all once the
//! value is set; a barrier round and a wait group's zero wake all. The hard part is common to
//! all of them: a future chosen for something (a notification, the right to initialise) may be
//! dropped before it sees it, and then the owner must pass it on, which needs to know *what*
//! the future was chosen for. So an entry is not removed when it is chosen or released: it
//! stays, out of the arrival order and marked with its [`Status`], until the future that owns
//! its [`Ticket`] reads the status and gives the ticket back ([`WaitQueue::remove`]). A ticket
//! is therefore never stale: its key belongs to its future from `push` to `remove`.
//!
//! tokio keeps the same information in an intrusive list threaded through the futures, which
//! needs `unsafe` and pinned futures. Here the entries are in a [`Slab`] owned by the queue,
//! linked into a doubly linked list by slab keys: push, choose at either end and withdraw are
//! O(1), and the slab reuses vacated entries, so a warm queue parks without allocating.
//!
//! # Locking
//!
//! The queue has no lock of its own: it lives behind the owner's lock, the one that also guards
//! the condition, so that checking the condition and parking are one step and no wake is lost.
//! Wakers leave the queue under the lock and are woken by the caller once it is released
//! ([`Released`] for many), because a waker is user code that may call back into the owner.
//!
//! [`Notify`]: crate::primitives::Notify

use std::task::Waker;

use slab::Slab;

/// Parked futures in arrival order (module doc). Guarded by the owner's lock.
#[derive(Debug, Default)]
pub(crate) struct WaitQueue {
    /// Every entry whose ticket is still out: queued ones (linked from `oldest` to `newest`)
    /// and chosen or released ones (unlinked, waiting for their future to read them).
    entries: Slab<Entry>,
    /// The queued entry that arrived first; `None` when nothing is queued.
    oldest: Option<usize>,
    /// The queued entry that arrived last.
    newest: Option<usize>,
}

/// One parked future.
#[derive(Debug)]
struct Entry {
    /// The waker of the future's last poll; `None` before its first (an enabled `Notified`),
    /// and once a notifier took it to wake.
    waker: Option<Waker>,
    status: Status,
    /// The neighbours in arrival order while `Queued` (older, newer).
    older: Option<usize>,
    newer: Option<usize>,
}

/// What happened to a parked future since it was pushed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// Still waiting, in the arrival order.
    Queued,
    /// Chosen alone, from this end of the queue: it holds one notification or one right
    /// that must be passed on if its future is dropped without using it.
    Chosen(End),
    /// Woken together with every other queued future; nothing to pass on.
    Released,
}

/// Which end of the queue a single choice takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// The future that has waited longest (FIFO).
    Oldest,
    /// The future that arrived last (`Notify::notify_last`).
    Newest,
}

/// A future's place in a [`WaitQueue`]: held by the future from [`WaitQueue::push`] until it
/// gives it back to [`WaitQueue::remove`]. Neither `Copy` nor `Clone`, so the key has one owner.
#[derive(Debug)]
pub(crate) struct Ticket(usize);

/// Wakers taken out of a queue under its owner's lock, to be woken once the lock is released.
#[must_use = "the wakers must be woken once the lock is released"]
#[derive(Debug, Default)]
pub(crate) struct Released(Vec<Waker>);

impl WaitQueue {
    /// An empty queue; `const`, so the primitives that hold one can be `static`s.
    pub(crate) const fn new() -> WaitQueue {
        WaitQueue {
            entries: Slab::new(),
            oldest: None,
            newest: None,
        }
    }

    /// Parks a future at the newest end; it is woken with `waker` when chosen or released.
    pub(crate) fn push(&mut self, waker: Option<Waker>) -> Ticket {
        let key = self.entries.insert(Entry {
            waker,
            status: Status::Queued,
            older: self.newest,
            newer: None,
        });
        match self.newest {
            Some(newest) => self.entries[newest].newer = Some(key),
            None => self.oldest = Some(key),
        }
        self.newest = Some(key);
        Ticket(key)
    }

    /// What happened to the future holding `ticket`.
    pub(crate) fn status(&self, ticket: &Ticket) -> Status {
        self.entries[ticket.0].status
    }

    /// Stores `waker` for a still queued future unless the stored one wakes the same task.
    /// Returns a replaced waker, to be dropped once the lock is released.
    pub(crate) fn update_waker(&mut self, ticket: &Ticket, waker: &Waker) -> Option<Waker> {
        let entry = &mut self.entries[ticket.0];
        debug_assert_eq!(entry.status, Status::Queued);
        match &entry.waker {
            Some(current) if current.will_wake(waker) => None,
            _ => entry.waker.replace(waker.clone()),
        }
    }

    /// Gives `ticket` back: the future completed or is dropped. Returns what had happened to
    /// it (a `Chosen` one the caller passes on) and its waker, to drop after the unlock.
    pub(crate) fn remove(&mut self, ticket: Ticket) -> (Status, Option<Waker>) {
        let status = self.entries[ticket.0].status;
        if status == Status::Queued {
            self.unlink(ticket.0);
        }
        let entry = self.entries.remove(ticket.0);
        (status, entry.waker)
    }

    /// Whether any future is still queued (not chosen or released).
    pub(crate) fn has_queued(&self) -> bool {
        self.oldest.is_some()
    }

    /// Chooses the queued future at `end` alone: marks it `Chosen(end)` and returns `Some` of
    /// its waker (which may be `None`: a future enabled but not polled), or `None` if nothing
    /// is queued.
    pub(crate) fn choose(&mut self, end: End) -> Option<Option<Waker>> {
        let key = match end {
            End::Oldest => self.oldest?,
            End::Newest => self.newest?,
        };
        self.unlink(key);
        let entry = &mut self.entries[key];
        entry.status = Status::Chosen(end);
        Some(entry.waker.take())
    }

    /// Releases every queued future (marks it `Released`) and returns their wakers.
    pub(crate) fn release_all(&mut self) -> Released {
        let mut wakers = Vec::new();
        let mut next = self.oldest.take();
        self.newest = None;
        while let Some(key) = next {
            let entry = &mut self.entries[key];
            next = entry.newer.take();
            entry.older = None;
            entry.status = Status::Released;
            wakers.extend(entry.waker.take());
        }
        Released(wakers)
    }

    /// The wakers of the queued futures, each with an address that names where it is held
    /// (for the leak pass's `visit_waker`, whose reports with one holder count as one waker).
    pub(crate) fn queued_wakers(&self) -> impl Iterator<Item = (usize, &Waker)> {
        self.entries
            .iter()
            .filter_map(|(_, entry)| match (&entry.waker, entry.status) {
                (Some(waker), Status::Queued) => Some((std::ptr::from_ref(entry).addr(), waker)),
                _ => None,
            })
    }

    /// Takes the queued entry `key` out of the arrival order.
    fn unlink(&mut self, key: usize) {
        let (older, newer) = {
            let entry = &mut self.entries[key];
            (entry.older.take(), entry.newer.take())
        };
        match older {
            Some(older) => self.entries[older].newer = newer,
            None => self.oldest = newer,
        }
        match newer {
            Some(newer) => self.entries[newer].older = older,
            None => self.newest = older,
        }
    }
}

impl Released {
    /// Wakes every waker (call it with the owner's lock released). One that panics does not
    /// keep the others asleep (`gort_context::wake_all`).
    pub(crate) fn wake(self) {
        if !self.0.is_empty() {
            gort_context::wake_all(self.0);
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// Choices come from the requested end, skip withdrawn and chosen futures, and a released
    /// future's ticket still reads `Released` until given back.
    #[test]
    fn choices_follow_arrival_order_from_either_end() {
        let mut queue = WaitQueue::new();
        let tickets: Vec<Ticket> = (0..4).map(|_| queue.push(None)).collect();
        let mut tickets = tickets.into_iter();
        let (first, second, third, fourth) = (
            tickets.next().unwrap(),
            tickets.next().unwrap(),
            tickets.next().unwrap(),
            tickets.next().unwrap(),
        );
        assert_eq!(queue.remove(second).0, Status::Queued);
        assert!(queue.choose(End::Newest).is_some());
        assert_eq!(queue.status(&fourth), Status::Chosen(End::Newest));
        assert!(queue.choose(End::Oldest).is_some());
        assert_eq!(queue.status(&first), Status::Chosen(End::Oldest));
        assert!(queue.has_queued());
        queue.release_all().wake();
        assert!(!queue.has_queued());
        assert_eq!(queue.status(&third), Status::Released);
        assert!(queue.choose(End::Oldest).is_none());
        for ticket in [first, third, fourth] {
            queue.remove(ticket);
        }
        assert!(queue.entries.is_empty());
    }

    /// A future pushed after a release is queued alone: the released entries are out of the
    /// arrival order even before their tickets come back.
    #[test]
    fn a_push_after_a_release_starts_a_new_order() {
        let mut queue = WaitQueue::new();
        let old = queue.push(None);
        queue.release_all().wake();
        let new = queue.push(None);
        assert!(queue.choose(End::Oldest).is_some());
        assert_eq!(queue.status(&new), Status::Chosen(End::Oldest));
        assert_eq!(queue.status(&old), Status::Released);
        queue.remove(old);
        queue.remove(new);
    }
}
