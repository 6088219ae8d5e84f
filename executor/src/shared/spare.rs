//! The spare pool: the extra GOMAXPROCS Ps that replace a P whose M is stuck inside one poll
//! (`rescue.rs` has the design). Taken and returned under `sched.lock`.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::{Sched, Shared};
use crate::p::Role;
use crate::Task;

impl Shared {
    /// Takes a P from the spare pool to replace a detached one: marks it active and counts the
    /// detached P (`rescue.rs`). `None` if every spare is in use.
    pub(crate) fn spare_take(&self) -> Option<usize> {
        let mut sched = self.lock();
        if self.is_shutdown() {
            return None;
        }
        let spare = sched.spare_ps.pop()?;
        self.ps[spare].set_role(Role::Active);
        self.ndetached.fetch_add(1, Ordering::Relaxed);
        // Out of the pool and into service, as out of the idle list (`runtime/metrics.rs`).
        self.worker_stats[spare].unparked(self.nanos_since_created());
        Some(spare)
    }

    /// Puts detached P `p`, whose owner has emptied its queues and moved its timers, into the
    /// spare pool, with `tasks` (its queued Gs) at the front of the global queue.
    pub(crate) fn spare_put(self: &Arc<Self>, p: usize, tasks: Vec<Task>) {
        let dead = {
            let mut sched = self.lock();
            self.spare_put_locked(&mut sched, p);
            self.global_push_woken_locked(&mut sched, tasks)
        };
        drop(dead);
        self.wakep();
    }

    pub(super) fn spare_put_locked(&self, sched: &mut Sched, p: usize) {
        self.ps[p].set_role(Role::Spare);
        sched.spare_ps.push(p);
        self.ndetached.fetch_sub(1, Ordering::Relaxed);
        // Out of service, as onto the idle list (`runtime/metrics.rs`).
        self.worker_stats[p].parked(self.nanos_since_created());
    }
}
