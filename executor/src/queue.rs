//! The per-P run queue: a fixed ring of 256 task pointers, one producer, many consumers.
//!
//! # Design
//!
//! Go's `runq` (`proc.go`, `runqput`/`runqget`/`runqgrab`) is the model. The owner of a P pushes
//! at the tail and pops at the head; idle Ps steal the older half from the head. The ring is
//! bounded so that the common operations are a load, a store and (for pops) one CAS; when it is
//! full the owner moves half of it to the global queue in one batch (Go's `runqputslow`), which
//! keeps the next 128 pushes on the fast path.
//!
//! Rejected designs:
//! - tokio's two-head ring (`queue.rs`) packs a "steal head" beside the real head so that a thief
//!   can copy out of slots after claiming them. That is needed there because slots hold
//!   `MaybeUninit<Task>` and an unclaimed read would race with the owner's overwrite. Our slots
//!   are `AtomicPtr`s, so a thief may read them *before* claiming them, as Go does, and a lost
//!   CAS simply discards what it read. One head, no packing.
//! - An unbounded Chase-Lev deque: growth needs memory reclamation, and Go shows a bounded ring
//!   with overflow to the global queue is enough.
//!
//! # Protocol
//!
//! 1. Only the owner writes `tail` (`Release`, pairs with the thieves' `Acquire` load of `tail`,
//!    which makes the slot stores before it visible).
//! 2. Anyone may advance `head` with a CAS after reading the slots it claims. The CAS is `Release`
//!    (pairs with the owner's `Acquire` load of `head` in `push_back`: the owner reuses a slot
//!    only after every reader of its old value has finished reading).
//! 3. A consumer reads `head` then `tail` and claims `[head, head + n)`. If another consumer moved
//!    `head` first, the CAS fails and the consumer retries with fresh values; nothing it read is
//!    used.
//! 4. Indices are `u32` and wrap; `tail - head` (wrapping) is the length, at most `CAPACITY`.
//!
//! # Ownership of the pointers
//!
//! The queue stores `NonNull<()>` and never dereferences them: each pointer stands for one owned
//! task (an `async_task::Runnable` turned into a raw pointer by the P layer). Exactly one consumer
//! receives each pushed pointer, which the loom models in `tests/loom_queue.rs` check.
//!
//! Owner operations live on [`Local`], which only the M that holds the P can create
//! ([`RunQueue::local`] is `unsafe`); thief operations are safe methods on [`RunQueue`].

use std::ptr::NonNull;

use crate::loom::{AtomicPtr, AtomicU32, Ordering};

/// Slots in a run queue: Go's 256, shrunk under loom so that the model explores overflow and
/// wrap-around within its branch budget.
pub const CAPACITY: usize = if cfg!(loom) { 4 } else { 256 };

/// `CAPACITY` as the index type, for the wrapping arithmetic on `head` and `tail`.
const CAPACITY_U32: u32 = CAPACITY as u32;

/// A P's ring of runnable task pointers.
pub struct RunQueue {
    /// Index of the oldest claimed-by-nobody slot. Advanced by CAS by the owner (pop, overflow)
    /// and by thieves (steal). Loads are `Acquire`, successful CASes `Release` (protocol step 2).
    head: AtomicU32,
    /// Index one past the newest slot. Written only by the owner with `Release`; read by thieves
    /// with `Acquire` (protocol step 1) and by the owner with `Relaxed` (it wrote the value).
    tail: AtomicU32,
    /// The ring. Slot `i % CAPACITY` holds the task at index `i` for `head <= i < tail`.
    /// Written only by the owner (or a thief writing into its *own* ring) at indices `>= tail`;
    /// read by any consumer. `Relaxed`: visibility comes from `tail`'s release/acquire.
    slots: Box<[AtomicPtr<()>]>,
}

/// The owner's end of a [`RunQueue`]: push, pop, and steal *into* this queue.
///
/// # Invariant
///
/// At most one thread uses a `Local` for a given queue at a time: the M that holds the P. This
/// is what makes the non-atomic read-modify-write of `tail` (load, then store) sound.
pub struct Local<'a> {
    /// The queue this handle owns.
    queue: &'a RunQueue,
}

/// What [`Local::push_back`] hands back when the ring is full: half of the ring (the oldest
/// tasks, already removed from it) followed by the task that did not fit. The caller moves the
/// whole batch to the global queue, which is Go's `runqputslow`.
pub type Overflow = Vec<NonNull<()>>;

impl RunQueue {
    /// Creates an empty queue.
    pub fn new() -> RunQueue {
        RunQueue {
            head: AtomicU32::new(0),
            tail: AtomicU32::new(0),
            slots: (0..CAPACITY)
                .map(|_| AtomicPtr::new(std::ptr::null_mut()))
                .collect(),
        }
    }

    /// Returns the owner's end of the queue.
    ///
    /// # Safety
    ///
    /// The caller must be the only thread using a `Local` of this queue for as long as the
    /// returned value lives (in the executor: the caller holds the P that owns the queue).
    pub unsafe fn local(&self) -> Local<'_> {
        Local { queue: self }
    }

    /// Number of queued tasks. Exact for the owner; a snapshot for anyone else.
    pub fn len(&self) -> usize {
        let head = self.head.load(Ordering::Acquire);
        let tail = self.tail.load(Ordering::Acquire);
        tail.wrapping_sub(head).min(CAPACITY_U32) as usize
    }

    /// Whether the queue looked empty. Thieves use it to skip idle victims; a spinning M about to
    /// park uses it to re-check every P (the "delicate dance" in `worker.rs`).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Go's `runqgrab`: claims the older half (rounded up) of this queue and copies it into
    /// `dst`'s ring starting at `dst_tail`, without publishing `dst`'s tail. Returns how many
    /// tasks were copied (0 if this queue was empty).
    ///
    /// `dst` must be empty and owned by the caller (it is a `Local`), so the copied slots are
    /// free and invisible to other consumers until the caller publishes its tail.
    fn grab_into(&self, dst: &Local<'_>, dst_tail: u32) -> u32 {
        loop {
            let head = self.head.load(Ordering::Acquire);
            // Acquire pairs with the owner's Release store of `tail`: the slots below it are
            // written.
            let tail = self.tail.load(Ordering::Acquire);
            let len = tail.wrapping_sub(head);
            if len == 0 {
                return 0;
            }
            if len > CAPACITY_U32 {
                // `head` and `tail` were read at different moments with a pop/push burst in
                // between; the pair is inconsistent. Go's runqgrab retries too.
                continue;
            }
            let take = len - len / 2;
            for i in 0..take {
                let task = self.slots[slot_index(head.wrapping_add(i))].load(Ordering::Relaxed);
                dst.queue.slots[slot_index(dst_tail.wrapping_add(i))]
                    .store(task, Ordering::Relaxed);
            }
            // Release: our slot reads above happen before the owner reuses those slots.
            if self
                .head
                .compare_exchange(
                    head,
                    head.wrapping_add(take),
                    Ordering::Release,
                    Ordering::Relaxed,
                )
                .is_ok()
            {
                return take;
            }
        }
    }
}

impl Default for RunQueue {
    fn default() -> RunQueue {
        RunQueue::new()
    }
}

impl Local<'_> {
    /// Go's `runqput(pp, gp, false)`: appends `task` at the tail. When the ring is full, the older
    /// half is removed and returned together with `task` for the caller to move to the global
    /// queue.
    pub fn push_back(&self, task: NonNull<()>) -> Result<(), Overflow> {
        let queue = self.queue;
        loop {
            // Acquire pairs with consumers' Release CAS on `head`: slots below `head` are no
            // longer being read and may be overwritten.
            let head = queue.head.load(Ordering::Acquire);
            let tail = queue.tail.load(Ordering::Relaxed);
            if tail.wrapping_sub(head) < CAPACITY_U32 {
                queue.slots[slot_index(tail)].store(task.as_ptr(), Ordering::Relaxed);
                // Release pairs with the Acquire load of `tail` in consumers.
                queue.tail.store(tail.wrapping_add(1), Ordering::Release);
                return Ok(());
            }
            if let Some(mut batch) = self.take_half(head, tail) {
                batch.push(task);
                return Err(batch);
            }
            // A thief moved `head` while we were taking half; the ring has room now.
        }
    }

    /// The first half of Go's `runqputslow`: removes `(tail - head) / 2` tasks from the head in
    /// one CAS. Returns `None` if a thief raced us (the caller retries the push).
    fn take_half(&self, head: u32, tail: u32) -> Option<Overflow> {
        let queue = self.queue;
        let take = tail.wrapping_sub(head) / 2;
        // Proof: the only caller (`push_back`) saw `tail - head >= CAPACITY`, and the ring never
        // holds more (only the owner pushes, and only below `CAPACITY`). Were it otherwise, the
        // batch would just be smaller: nothing is lost.
        debug_assert_eq!(
            take,
            CAPACITY_U32 / 2,
            "take_half is only called on a full ring"
        );
        let batch: Overflow = (0..take)
            .map(|i| {
                let ptr = queue.slots[slot_index(head.wrapping_add(i))].load(Ordering::Relaxed);
                NonNull::new(ptr).unwrap_or_else(|| corrupted("null task pointer in a full ring"))
            })
            .collect();
        queue
            .head
            .compare_exchange(
                head,
                head.wrapping_add(take),
                Ordering::Release,
                Ordering::Relaxed,
            )
            .ok()
            .map(|_| batch)
    }

    /// Go's `runqget` (without `runnext`, which the P layer handles): pops the oldest task.
    pub fn pop(&self) -> Option<NonNull<()>> {
        let queue = self.queue;
        loop {
            let head = queue.head.load(Ordering::Acquire);
            let tail = queue.tail.load(Ordering::Relaxed);
            if head == tail {
                return None;
            }
            let ptr = queue.slots[slot_index(head)].load(Ordering::Relaxed);
            // Release, as every successful consumer CAS (protocol step 2). A failure means a
            // thief took this slot; retry with the new head.
            if queue
                .head
                .compare_exchange(
                    head,
                    head.wrapping_add(1),
                    Ordering::Release,
                    Ordering::Relaxed,
                )
                .is_ok()
            {
                return Some(NonNull::new(ptr).unwrap_or_else(|| corrupted("null task pointer")));
            }
        }
    }

    /// Go's `runqsteal`: moves the older half of `victim` into this (empty) queue and returns one
    /// of the stolen tasks to run now, or `None` if the victim was empty.
    pub fn steal_from(&self, victim: &RunQueue) -> Option<NonNull<()>> {
        let queue = self.queue;
        // The stolen half is written from `tail` on: into a ring that is not empty it could run
        // into slots still queued and lose their tasks. Two loads: checked always.
        if !queue.is_empty() {
            corrupted("a P stole with tasks of its own still queued");
        }
        let tail = queue.tail.load(Ordering::Relaxed);
        let stolen = victim.grab_into(self, tail);
        if stolen == 0 {
            return None;
        }
        // Run the newest stolen task now; publish the rest.
        let last = tail.wrapping_add(stolen - 1);
        let ptr = queue.slots[slot_index(last)].load(Ordering::Relaxed);
        if stolen > 1 {
            // Release pairs with consumers' Acquire load of `tail`.
            queue.tail.store(last, Ordering::Release);
        }
        Some(NonNull::new(ptr).unwrap_or_else(|| corrupted("null stolen task pointer")))
    }

    /// Number of queued tasks (exact: only the owner pushes).
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether the queue is empty.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

/// The slot that index `i` lives in.
fn slot_index(i: u32) -> usize {
    i as usize % CAPACITY
}

/// The one place a broken run-queue invariant is reported.
#[cold]
#[inline(never)]
fn corrupted(what: &str) -> ! {
    panic!("gort run queue corrupted: {what}; this is a bug in gort, please report it")
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// A distinct fake task pointer for index `i` (never dereferenced).
    fn task(i: usize) -> NonNull<()> {
        NonNull::new(std::ptr::without_provenance_mut(i + 1)).unwrap()
    }

    fn id(ptr: NonNull<()>) -> usize {
        ptr.as_ptr().addr() - 1
    }

    #[test]
    fn pop_is_fifo() {
        let queue = RunQueue::new();
        // SAFETY: this test is the only user of the queue.
        let local = unsafe { queue.local() };
        for i in 0..10 {
            local.push_back(task(i)).unwrap();
        }
        let popped: Vec<usize> = std::iter::from_fn(|| local.pop()).map(id).collect();
        assert_eq!(popped, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn full_ring_overflows_half_plus_one_oldest_first() {
        let queue = RunQueue::new();
        // SAFETY: this test is the only user of the queue.
        let local = unsafe { queue.local() };
        for i in 0..CAPACITY {
            local.push_back(task(i)).unwrap();
        }
        let batch = local.push_back(task(CAPACITY)).unwrap_err();
        let ids: Vec<usize> = batch.into_iter().map(id).collect();
        let mut expected: Vec<usize> = (0..CAPACITY / 2).collect();
        expected.push(CAPACITY);
        assert_eq!(ids, expected);
        assert_eq!(local.len(), CAPACITY / 2);
        assert_eq!(local.pop().map(id), Some(CAPACITY / 2));
    }

    #[test]
    fn steal_takes_older_half_rounded_up() {
        let victim = RunQueue::new();
        let thief = RunQueue::new();
        // SAFETY: each queue has one owner handle in this test.
        let (victim_local, thief_local) = unsafe { (victim.local(), thief.local()) };
        for i in 0..5 {
            victim_local.push_back(task(i)).unwrap();
        }
        let first = thief_local.steal_from(&victim).map(id);
        assert_eq!(first, Some(2), "the newest stolen task runs first");
        assert_eq!(thief_local.pop().map(id), Some(0));
        assert_eq!(thief_local.pop().map(id), Some(1));
        assert_eq!(thief_local.pop(), None);
        assert_eq!(victim_local.len(), 2);
        assert_eq!(victim_local.pop().map(id), Some(3));
    }

    #[test]
    fn indices_wrap_around_u32() {
        let queue = RunQueue::new();
        queue.head.store(u32::MAX - 3, Ordering::Relaxed);
        queue.tail.store(u32::MAX - 3, Ordering::Relaxed);
        // SAFETY: this test is the only user of the queue.
        let local = unsafe { queue.local() };
        for i in 0..8 {
            local.push_back(task(i)).unwrap();
        }
        assert_eq!(local.len(), 8);
        let popped: Vec<usize> = std::iter::from_fn(|| local.pop()).map(id).collect();
        assert_eq!(popped, (0..8).collect::<Vec<_>>());
    }

    #[test]
    fn concurrent_steals_deliver_every_task_exactly_once() {
        use std::sync::atomic::AtomicBool;
        use std::sync::Arc;
        const TASKS: usize = if cfg!(miri) { 600 } else { 20_000 };
        let victim = Arc::new(RunQueue::new());
        let done = Arc::new(AtomicBool::new(false));
        let thieves: Vec<_> = (0..2)
            .map(|_| {
                let victim = victim.clone();
                let done = done.clone();
                std::thread::spawn(move || {
                    let own = RunQueue::new();
                    // SAFETY: `own` is private to this thread.
                    let own_local = unsafe { own.local() };
                    let mut got = Vec::new();
                    while !done.load(Ordering::Acquire) || !victim.is_empty() {
                        if let Some(t) = own_local.steal_from(&victim) {
                            got.push(id(t));
                            got.extend(std::iter::from_fn(|| own_local.pop()).map(id));
                        }
                    }
                    got
                })
            })
            .collect();
        // SAFETY: this thread is the victim queue's only owner.
        let local = unsafe { victim.local() };
        let mut got = Vec::new();
        for i in 0..TASKS {
            if let Err(batch) = local.push_back(task(i)) {
                got.extend(batch.into_iter().map(id));
            }
            if i % 3 == 0 {
                got.extend(local.pop().map(id));
            }
        }
        done.store(true, Ordering::Release);
        got.extend(std::iter::from_fn(|| local.pop()).map(id));
        for thief in thieves {
            got.extend(thief.join().unwrap());
        }
        got.sort_unstable();
        assert_eq!(got, (0..TASKS).collect::<Vec<_>>());
    }
}
