//! `TimerHeap`: the 4-ary min-heap of deadlines each P owns (Go's `timers.heap`, `time.go`).
//!
//! # Why 4-ary, and why lazy
//!
//! A timer heap is pushed once per armed timer and popped once per fired timer, but most timers
//! in a server never fire: a `timeout` around a read that completes, a `sleep` in a `select!` that
//! loses. Go's answer, kept here:
//!
//! - **4 children per node** (`timerHeapN = 4` since Go 1.14): half the depth of a binary heap,
//!   so a push sifts through half as many levels, and the four children of a node sit next to
//!   each other in memory, so the extra comparisons of a sift-down hit one or two cache lines.
//!   Children of `i` are `4i+1 ..= 4i+4`; the parent of `i` is `(i-1)/4`.
//! - **Cancelling does not touch the heap.** Removing an arbitrary entry needs its index, which
//!   moves on every sift, and the canceller may run on another thread than the heap's owner. So a
//!   cancelled (or re-armed) timer leaves its entry behind as a *zombie*: the heap's owner drops
//!   zombies when they reach the head, and rebuilds the heap without them once they exceed a
//!   quarter of it (Go's `adjust` when `zombies > len/4`), which bounds the waste at a third of
//!   the live entries and amortises the O(n) rebuild over at least n/4 cancellations.
//!
//! The heap does not know what a zombie is: every operation that may meet one takes the
//! predicate (`is_zombie`), and whoever cancels a timer tells the heap with
//! [`TimerHeap::note_zombie`], so that the count that triggers the rebuild stays close to the
//! truth. Each entry keeps its own copy of the deadline (Go's `timerWhen`), so sifting reads no
//! shared timer state.

use std::time::Instant;

/// Children per node.
const ARITY: usize = 4;

/// One entry: a deadline and what it belongs to.
#[derive(Debug)]
struct Entry<T> {
    when: Instant,
    item: T,
}

/// A 4-ary min-heap of `(deadline, item)` with lazily removed zombies (module doc).
#[derive(Debug)]
pub struct TimerHeap<T> {
    /// The heap array: `entries[0]` has the earliest deadline.
    entries: Vec<Entry<T>>,
    /// Zombies believed to be in `entries` (cancelled or re-armed since they were pushed, and not
    /// yet dropped). Approximate: it only decides when to rebuild.
    zombies: usize,
}

impl<T> Default for TimerHeap<T> {
    fn default() -> Self {
        TimerHeap::new()
    }
}

impl<T> TimerHeap<T> {
    /// An empty heap.
    pub fn new() -> TimerHeap<T> {
        TimerHeap {
            entries: Vec::new(),
            zombies: 0,
        }
    }

    /// Entries in the heap, zombies included.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the heap holds no entry at all (not even a zombie).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The zombie count the rebuild decision uses.
    pub fn zombies(&self) -> usize {
        self.zombies
    }

    /// Adds `item` with deadline `when`.
    pub fn push(&mut self, when: Instant, item: T) {
        self.entries.push(Entry { when, item });
        self.sift_up(self.entries.len() - 1);
    }

    /// Records that one entry became a zombie (its timer was cancelled or re-armed while in this
    /// heap), and rebuilds the heap without zombies once they exceed a quarter of it.
    pub fn note_zombie(&mut self, is_zombie: impl Fn(&T) -> bool) {
        self.zombies += 1;
        if self.zombies * ARITY > self.entries.len() {
            self.remove_zombies(is_zombie);
        }
    }

    /// The earliest live deadline, dropping zombies found at the head on the way.
    pub fn next_deadline(&mut self, is_zombie: impl Fn(&T) -> bool) -> Option<Instant> {
        self.drop_zombie_head(&is_zombie);
        self.entries.first().map(|entry| entry.when)
    }

    /// Removes and returns the live entry with the earliest deadline if that deadline is at or
    /// before `now` (zombies at the head are dropped on the way). Called in a loop by whoever
    /// runs expired timers.
    pub fn pop_expired(
        &mut self,
        now: Instant,
        is_zombie: impl Fn(&T) -> bool,
    ) -> Option<(Instant, T)> {
        self.drop_zombie_head(&is_zombie);
        if self.entries.first()?.when > now {
            return None;
        }
        let entry = self.pop_head();
        Some((entry.when, entry.item))
    }

    /// Removes every entry, zombies included, and returns their items.
    pub fn drain(&mut self) -> Vec<T> {
        self.zombies = 0;
        self.entries.drain(..).map(|entry| entry.item).collect()
    }

    /// Removes every entry and returns the live ones with their deadlines (zombies are dropped),
    /// for moving a set of timers elsewhere.
    pub fn take_live(&mut self, is_zombie: impl Fn(&T) -> bool) -> Vec<(Instant, T)> {
        self.zombies = 0;
        self.entries
            .drain(..)
            .filter(|entry| !is_zombie(&entry.item))
            .map(|entry| (entry.when, entry.item))
            .collect()
    }

    /// Rebuilds the heap without its zombies (Go's `adjust`): O(n).
    pub fn remove_zombies(&mut self, is_zombie: impl Fn(&T) -> bool) {
        self.entries.retain(|entry| !is_zombie(&entry.item));
        self.zombies = 0;
        // Heapify bottom-up from the last parent.
        if self.entries.len() > 1 {
            for index in (0..=(self.entries.len() - 2) / ARITY).rev() {
                self.sift_down(index);
            }
        }
    }

    /// Drops zombies from the head until it is live (or the heap is empty).
    fn drop_zombie_head(&mut self, is_zombie: &impl Fn(&T) -> bool) {
        while self
            .entries
            .first()
            .is_some_and(|entry| is_zombie(&entry.item))
        {
            self.pop_head();
            self.zombies = self.zombies.saturating_sub(1);
        }
    }

    /// Removes the head. The heap must not be empty.
    fn pop_head(&mut self) -> Entry<T> {
        let entry = self.entries.swap_remove(0);
        if !self.entries.is_empty() {
            self.sift_down(0);
        }
        entry
    }

    /// Moves the entry at `index` up until its parent is not later.
    fn sift_up(&mut self, mut index: usize) {
        while index > 0 {
            let parent = (index - 1) / ARITY;
            if self.entries[parent].when <= self.entries[index].when {
                break;
            }
            self.entries.swap(parent, index);
            index = parent;
        }
    }

    /// Moves the entry at `index` down until no child is earlier.
    fn sift_down(&mut self, mut index: usize) {
        let len = self.entries.len();
        loop {
            let first_child = ARITY * index + 1;
            if first_child >= len {
                return;
            }
            let last_child = (first_child + ARITY).min(len);
            let earliest = (first_child..last_child)
                .min_by_key(|&child| self.entries[child].when)
                .unwrap_or(first_child);
            if self.entries[earliest].when >= self.entries[index].when {
                return;
            }
            self.entries.swap(earliest, index);
            index = earliest;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::HashSet;
    use std::time::Duration;

    use super::*;

    /// A deterministic pseudo-random sequence (xorshift), so failures reproduce.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    /// Asserts the heap property over the whole array.
    fn assert_heap<T>(heap: &TimerHeap<T>) {
        for (index, entry) in heap.entries.iter().enumerate().skip(1) {
            let parent = &heap.entries[(index - 1) / ARITY];
            assert!(
                parent.when <= entry.when,
                "entry {index} is earlier than its parent"
            );
        }
    }

    /// Timers armed by the randomised test (fewer under Miri, which is slow and finds nothing
    /// here that the native run would miss: the heap has no `unsafe`).
    const TIMERS: u64 = if cfg!(miri) { 200 } else { 5_000 };

    #[test]
    fn pops_in_deadline_order_and_skips_zombies() {
        let base = Instant::now();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let zombies = RefCell::new(HashSet::new());
        let is_zombie = |id: &u64| zombies.borrow().contains(id);
        let mut heap = TimerHeap::new();
        let mut live = Vec::new();
        for id in 0..TIMERS {
            let when = base + Duration::from_micros(rng.below(1_000_000));
            heap.push(when, id);
            live.push((when, id));
            // Cancel about a third of what is armed so far, at random.
            if rng.below(3) == 0 {
                let victim = live.swap_remove(rng.below(live.len() as u64) as usize);
                zombies.borrow_mut().insert(victim.1);
                heap.note_zombie(is_zombie);
            }
            assert_heap(&heap);
        }
        assert!(
            heap.len() <= live.len() + live.len() / 3 + 1,
            "zombies stay within a quarter of the heap ({} entries, {} live)",
            heap.len(),
            live.len()
        );
        live.sort();
        let mut fired = Vec::new();
        while let Some((when, id)) = heap.pop_expired(base + Duration::from_secs(2), is_zombie) {
            fired.push((when, id));
        }
        let fired_whens: Vec<_> = fired.iter().map(|&(when, _)| when).collect();
        let live_whens: Vec<_> = live.iter().map(|&(when, _)| when).collect();
        assert_eq!(
            fired_whens, live_whens,
            "every live timer fires once, in order"
        );
        assert!(fired.iter().all(|(_, id)| !zombies.borrow().contains(id)));
        assert!(heap.is_empty());
    }

    #[test]
    fn only_expired_deadlines_pop() {
        let base = Instant::now();
        let mut heap = TimerHeap::new();
        // (deadline offset in ms, popped at 25 ms?)
        let cases = [(30, false), (10, true), (25, true), (40, false), (5, true)];
        for (offset, _) in cases {
            heap.push(base + Duration::from_millis(offset), offset);
        }
        let now = base + Duration::from_millis(25);
        let mut popped = Vec::new();
        while let Some((_, offset)) = heap.pop_expired(now, |_| false) {
            popped.push(offset);
        }
        let expected: Vec<_> = [5, 10, 25].to_vec();
        assert_eq!(popped, expected);
        assert_eq!(
            heap.next_deadline(|_| false),
            Some(base + Duration::from_millis(30))
        );
        assert_eq!(
            cases.iter().filter(|(_, pops)| !pops).count(),
            heap.len(),
            "the later deadlines stay"
        );
    }

    #[test]
    fn a_million_cancelled_timers_leave_the_heap_empty() {
        let base = Instant::now();
        let mut heap = TimerHeap::new();
        let mut largest = 0;
        // Each timer is armed and then cancelled, as a dropped `Sleep` does: every entry is a
        // zombie, and the rebuilds keep the heap from growing.
        // A million natively; Miri checks the same path on fewer.
        let timers: u64 = if cfg!(miri) { 1_000 } else { 1_000_000 };
        for id in 0..timers {
            heap.push(base + Duration::from_nanos(id), id);
            heap.note_zombie(|_| true);
            largest = largest.max(heap.len());
        }
        assert!(largest <= 4, "the heap grew to {largest} entries");
        assert_eq!(heap.next_deadline(|_| true), None);
        assert!(heap.is_empty());
    }

    #[test]
    fn a_zombie_at_the_head_does_not_hide_the_next_deadline() {
        let base = Instant::now();
        let mut heap = TimerHeap::new();
        heap.push(base + Duration::from_millis(1), "cancelled");
        heap.push(base + Duration::from_millis(2), "live");
        let is_zombie = |item: &&str| *item == "cancelled";
        assert_eq!(
            heap.next_deadline(is_zombie),
            Some(base + Duration::from_millis(2))
        );
        assert_eq!(heap.len(), 1, "the zombie head was dropped");
    }
}
