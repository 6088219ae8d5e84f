//! Stopping the runtime: parked Ms exit, running Ms exit after their poll, threads are joined
//! within `shutdown_timeout`, and every G's future is dropped (queued ones directly, parked ones
//! after the registry wakes them), then every `block_on` main is woken once.

use std::sync::atomic::Ordering;
use std::task::Wake;
use std::thread;
use std::time::{Duration, Instant};

use super::{releasep, Shared};
use crate::p::P;
use crate::park::Handoff;

impl Shared {
    /// Stops the runtime: parked Ms exit, running Ms exit after their current poll, and then
    /// every G's future is dropped (queued Gs directly, parked Gs after being woken into the
    /// global queue). Waits for the M threads at most `timeout` (forever with `None`); an M still
    /// stuck in a poll after that is detached and drops its own P's Gs when its poll returns.
    pub(crate) fn shutdown(&self, timeout: Option<Duration>) {
        let idle_ms = {
            let mut sched = self.lock();
            if self.shutdown.swap(true, Ordering::AcqRel) {
                return;
            }
            let mut idle_ms = std::mem::take(&mut sched.idle_ms);
            idle_ms.extend(sched.poller.take());
            idle_ms
        };
        for note in idle_ms {
            note.wake(Handoff::Shutdown);
        }
        self.reactor.notify();
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|e| e.into_inner()));
        let deadline = timeout.map(|timeout| Instant::now() + timeout);
        for thread in threads {
            if thread.thread().id() == thread::current().id() {
                continue;
            }
            match deadline {
                None => {
                    let _ = thread.join();
                }
                Some(deadline) => {
                    while !thread.is_finished() && Instant::now() < deadline {
                        thread::sleep(Duration::from_micros(200));
                    }
                    if thread.is_finished() {
                        let _ = thread.join();
                    }
                }
            }
        }
        // Before the drain: Gs that finishing blocking jobs spawn are dropped with the rest.
        self.blocking.shutdown(deadline);
        self.sysmon.stop(deadline);
        self.drain();
        // Threads inside `block_on` on this runtime poll their main future once more: what it
        // waited for may have gone with the drain (`block_on.rs`).
        for main in self.lock_mains().iter() {
            main.wake_by_ref();
        }
    }

    /// Drops every queued and parked G until none is left, then marks the runtime drained.
    pub(super) fn drain(&self) {
        // Armed timers hold their tasks' wakers; a task whose future holds one of these sets
        // would keep it, and with it this runtime, alive forever.
        for p in self.ps.iter() {
            p.timers.shut_down();
        }
        self.orphan_timers.shut_down();
        // And its sockets: no M will poll the reactor again. Their waiters wake and fail.
        self.reactor.shut_down();
        loop {
            self.registry.wake_all();
            let mut tasks = Vec::new();
            {
                let mut sched = self.lock();
                tasks.extend(sched.global.drain(..));
                self.global_len.store(0, Ordering::Relaxed);
                for &p in &sched.idle_ps {
                    // SAFETY: `p` is idle (no M holds it) and we hold `sched.lock`, which every
                    // drainer (this loop, an exiting M) takes before touching an idle P.
                    tasks.extend(unsafe { self.ps[p].drain() });
                }
                if tasks.is_empty() {
                    // Nothing more to drop: every G woken above was queued and is in `tasks`.
                    // Gs on a P that a detached M still holds (shutdown timed out) are dropped
                    // by that M when its poll returns (`retire_p`).
                    sched.drained = true;
                    return;
                }
            }
            // Outside the lock: dropping a future runs user destructors, which may wake or
            // spawn Gs (they land in the global queue and are dropped on the next round).
            drop(tasks);
        }
    }

    /// At shutdown, for an M leaving while holding P `p`: drops the P's Gs and puts it on the
    /// idle list.
    pub(super) fn retire_p(&self, p: &P) {
        releasep(self, p);
        let tasks = {
            let mut sched = self.lock();
            // SAFETY: this M held `p` until `set_p(null)` above and we hold `sched.lock`.
            let tasks = unsafe { p.drain() };
            self.pidleput(&mut sched, p.index);
            tasks
        };
        drop(tasks);
    }
}
