//! The global run queue (Go's `sched.runq`).
//!
//! A `VecDeque` under `sched`'s lock, with its length mirrored in an atomic so that the hot path
//! checks emptiness without the lock. DESIGN.md suggests `concurrent-queue`; a locked deque is
//! better here because the two bulk operations (an overflowing P moves 129 Gs in; an idle P takes
//! `len/GOMAXPROCS + 1` out) each become one lock acquisition instead of up to 129 CASes, and
//! rule 2 of `shared/mod.rs`'s essay needs the queue and the idle-P list under one lock anyway (as in Go).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::{Sched, Shared};
use crate::g::GState;
use crate::p::P;
use crate::queue::CAPACITY;
use crate::Task;

impl Shared {
    /// Go's `globrunqputbatch`: appends `tasks` to the global queue. After shutdown has drained
    /// the runtime, drops them instead (outside the lock: their destructors run user code).
    pub(super) fn global_push(&self, tasks: impl IntoIterator<Item = Task>) {
        let mut sched = self.lock();
        if sched.drained {
            drop(sched);
            tasks.into_iter().for_each(super::shutdown::refuse);
            return;
        }
        sched.global.extend(tasks);
        self.global_len.store(sched.global.len(), Ordering::Relaxed);
    }

    /// [`Shared::global_push_woken_locked`], taking the lock.
    pub(super) fn global_push_woken(&self, tasks: Vec<Task>) {
        let dead = {
            let mut sched = self.lock();
            self.global_push_woken_locked(&mut sched, tasks)
        };
        drop(dead);
    }

    /// Puts Gs woken by a poll or by timers (marked runnable here) at the *front* of the global
    /// queue, in order, with the lock held. They have waited already; at the tail (where Go's
    /// `injectglist` puts them) they would wait again behind every G queued meanwhile, up to
    /// 100k fresh spawns in the `sleeps100k` benchmark: tens of ms of lateness. After shutdown
    /// drained the runtime the Gs are returned instead, for the caller to drop once it has
    /// released the lock (their destructors run user code).
    #[must_use = "the returned Gs must be dropped outside the lock"]
    pub(super) fn global_push_woken_locked(
        &self,
        sched: &mut Sched,
        tasks: Vec<Task>,
    ) -> Vec<Task> {
        if sched.drained {
            return tasks;
        }
        for task in tasks.into_iter().rev() {
            task.metadata().set_state(GState::Runnable);
            sched.global.push_front(task);
        }
        self.global_len.store(sched.global.len(), Ordering::Relaxed);
        Vec::new()
    }

    /// Gs in the global queue now (a lock-free snapshot, for `RuntimeMetrics`).
    pub(crate) fn global_queue_depth(&self) -> usize {
        self.global_len.load(Ordering::Relaxed)
    }

    /// Whether the global queue looked non-empty (lock-free peek).
    pub(crate) fn global_has_work(&self) -> bool {
        self.global_len.load(Ordering::Relaxed) != 0
    }

    /// Go's `globrunqget`, taking the lock: see [`Shared::global_take_locked`].
    pub(crate) fn global_take(&self, p: &P, max: usize) -> Option<Task> {
        let mut sched = self.lock();
        self.global_take_locked(&mut sched, p, max)
    }

    /// Go's `globrunqget`: takes `min(len, len / GOMAXPROCS + 1, max, CAPACITY / 2)` Gs from the
    /// global queue, returns the first and queues the rest on `p`, which the caller holds.
    pub(super) fn global_take_locked(&self, sched: &mut Sched, p: &P, max: usize) -> Option<Task> {
        let len = sched.global.len();
        let take = len.min(len / self.procs + 1).min(max).min(CAPACITY / 2);
        let first = sched.global.pop_front()?;
        for _ in 1..take {
            let Some(task) = sched.global.pop_front() else {
                break;
            };
            // SAFETY: the caller holds `p`.
            if let Err(batch) = unsafe { p.push(task, false) } {
                // Cannot happen while `take <= CAPACITY / 2` and the caller's ring is empty, but
                // if it did, the Gs go back where they came from.
                for task in batch.into_iter().rev() {
                    sched.global.push_front(task);
                }
                break;
            }
        }
        self.global_len.store(sched.global.len(), Ordering::Relaxed);
        Some(first)
    }

    /// Makes Gs woken by a poll or by timers runnable on `p`, which this thread holds (Go's
    /// `injectglist`): returns the first to run now and queues the rest at the tail of the ring
    /// (not `runnext`: none of them was woken by the G this P runs), waking a spinner if there is
    /// more than one. What does not fit in the ring goes to the front of the global queue
    /// ([`Shared::global_push_woken_locked`]), not, as an overflowing push would, to the back.
    pub(crate) fn inject(self: &Arc<Self>, p: &P, tasks: Vec<Task>) -> Option<Task> {
        let mut tasks = tasks.into_iter();
        let first = tasks.next()?;
        first.metadata().set_state(GState::Runnable);
        let mut more = false;
        let mut spill = Vec::new();
        for task in tasks {
            more = true;
            task.metadata().set_state(GState::Runnable);
            // Only this thread pushes to `p`'s ring and thieves only shrink it, so a ring with
            // room now still has room for this push.
            if !spill.is_empty() || p.ring_len() >= CAPACITY {
                spill.push(task);
                continue;
            }
            // SAFETY: the caller holds `p`.
            if let Err(overflow) = unsafe { p.push(task, false) } {
                self.global_push(overflow);
            }
        }
        if !spill.is_empty() {
            self.global_push_woken(spill);
        }
        if more {
            self.wakep();
        }
        Some(first)
    }

    /// Queues `tasks` globally (for Gs woken by a poll on an M leaving the scheduler).
    pub(crate) fn inject_global(self: &Arc<Self>, tasks: Vec<Task>) {
        if tasks.is_empty() {
            return;
        }
        self.global_push_woken(tasks);
        self.wakep();
    }
}
