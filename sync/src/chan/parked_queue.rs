//! A channel's queue of parked operations (its `recvq` or `sendq`), oldest first.
//!
//! Most channels have at most one operation parked on each side at a time (a receiver waiting
//! for its producer, a sender waiting for its consumer), so the oldest waiter is kept inline
//! and only a second one allocates the ring. A `VecDeque` allocated its buffer at the first
//! park: a 32-byte allocation (48 with glibc's header and rounding) for every idle task parked
//! on a channel of its own (`parked200k`, BENCHMARKS.md).

use std::collections::VecDeque;

/// Parked operations, oldest first.
pub(crate) struct ParkedQueue<W> {
    /// The oldest, when the queue holds any and it has not been popped yet. Everything in
    /// `rest` is younger, so `first` is filled only while `rest` is empty.
    first: Option<W>,
    /// The rest, oldest first.
    rest: VecDeque<W>,
}

impl<W> ParkedQueue<W> {
    /// An empty queue; allocates nothing.
    pub(crate) const fn new() -> ParkedQueue<W> {
        ParkedQueue {
            first: None,
            rest: VecDeque::new(),
        }
    }

    /// Queues `waiter` behind every other.
    pub(crate) fn push_back(&mut self, waiter: W) {
        if self.first.is_none() && self.rest.is_empty() {
            self.first = Some(waiter);
        } else {
            self.rest.push_back(waiter);
        }
    }

    /// Takes the oldest waiter.
    pub(crate) fn pop_front(&mut self) -> Option<W> {
        self.first.take().or_else(|| self.rest.pop_front())
    }

    /// How many are queued.
    pub(crate) fn len(&self) -> usize {
        usize::from(self.first.is_some()) + self.rest.len()
    }

    /// Keeps only the waiters `keep` says yes to, in order.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&W) -> bool) {
        if self.first.as_ref().is_some_and(|first| !keep(first)) {
            self.first = None;
        }
        self.rest.retain(keep);
    }

    /// Takes every waiter, oldest first.
    pub(crate) fn drain(&mut self) -> impl Iterator<Item = W> + '_ {
        self.first.take().into_iter().chain(self.rest.drain(..))
    }

    /// Every waiter, oldest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &W> {
        self.first.iter().chain(self.rest.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::ParkedQueue;

    /// Pushes and pops in the order a table gives, against a `VecDeque` doing the same.
    #[test]
    fn keeps_fifo_order_across_the_inline_slot() {
        // `Some(v)`: push v; `None`: pop.
        let steps = [
            Some(1),
            None,
            None,
            Some(2),
            Some(3),
            None,
            Some(4),
            Some(5),
            None,
            Some(6),
            None,
            None,
            None,
            Some(7),
        ];
        let mut queue = ParkedQueue::new();
        let mut model = std::collections::VecDeque::new();
        for step in steps {
            match step {
                Some(v) => {
                    queue.push_back(v);
                    model.push_back(v);
                }
                None => assert_eq!(queue.pop_front(), model.pop_front()),
            }
            assert_eq!(queue.len(), model.len());
            assert!(queue.iter().eq(model.iter()));
        }
    }

    #[test]
    fn retain_and_drain_keep_the_order() {
        let mut queue = ParkedQueue::new();
        for v in 1..=6 {
            queue.push_back(v);
        }
        queue.retain(|v| v % 2 == 0);
        assert_eq!(queue.iter().copied().collect::<Vec<_>>(), [2, 4, 6]);
        queue.retain(|v| *v != 2);
        assert_eq!(queue.len(), 2);
        queue.push_back(8);
        assert_eq!(queue.drain().collect::<Vec<_>>(), [4, 6, 8]);
        assert_eq!(queue.len(), 0);
        assert_eq!(queue.pop_front(), None);
    }
}
