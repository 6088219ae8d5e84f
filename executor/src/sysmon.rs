//! sysmon: one monitor thread per runtime (Go's `sysmon`, `proc.go`).
//!
//! It runs without a P, wakes every 20 µs while there is something to watch, backs off to
//! 10 ms while there is not, and sleeps until woken while every P is idle. It does three things:
//!
//! - it retakes a P whose M has been inside `block_in_place` for 20 µs or more (the same entry
//!   seen on two looks at least 20 µs apart, `syscall.rs`) and hands it to another M
//!   (`Shared::retake_p`), so the P's queue keeps running while the M blocks;
//! - it fires the due timers of a P whose M has been inside one poll for 10 ms (its queue is
//!   not rescued yet: that is the open half of issue 5);
//! - if Gs wait on IO and nobody has polled the network for 10 ms (every M busy with queued
//!   work, none blocked in the poller), it polls once and queues what woke
//!   (`netpoll::poll_if_stale`).
//!
//! It starts with the runtime's first M thread (or the first `block_in_place`, on a runtime
//! whose only thread is `block_on`'s). An M entering `block_in_place`, and `startm` handing a P
//! out, wake it if it is in a long sleep ([`Sysmon::watch`], [`Sysmon::wake`]): a
//! Relaxed-ordered look at one flag. If that look misses a sleep that just began, the sleep
//! ends by its timeout anyway (10 ms, or 1 s while every P was idle).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::thread;
use std::time::{Duration, Instant};

use crate::context;
use crate::netpoll;
use crate::shared::Shared;
use crate::syscall::InSyscall;

/// How long an M may stay in `block_in_place` before its P is retaken (Go: one sysmon tick).
const RETAKE_AFTER: Duration = Duration::from_micros(20);

/// sysmon's shortest sleep.
const MIN_DELAY: Duration = Duration::from_micros(20);

/// sysmon's longest sleep while some P is busy.
const MAX_DELAY: Duration = Duration::from_millis(10);

/// How long an M may stay inside one poll before sysmon runs its P's due timers (Go's
/// `forcePreemptNS`).
const STUCK_AFTER: Duration = Duration::from_millis(10);

/// How long nobody may have polled the network before sysmon does.
const NETPOLL_STALE: Duration = Duration::from_millis(10);

/// sysmon's sleep while every P is idle (woken early by `watch`).
const IDLE_DELAY: Duration = Duration::from_secs(1);

/// A runtime's sysmon handle (module doc).
#[derive(Default)]
pub(crate) struct Sysmon {
    /// Set once the thread was started.
    started: AtomicBool,
    /// Whether the thread sleeps longer than `MIN_DELAY`: `watch` then wakes it.
    sleeping: AtomicBool,
    /// Guards the wake-up handshake of `wake`.
    lock: Mutex<bool>,
    wake: Condvar,
    /// The thread, for shutdown to join.
    thread: Mutex<Option<thread::JoinHandle<()>>>,
}

impl Sysmon {
    /// Called by an M entering `block_in_place`: starts sysmon if needed, wakes it if it sleeps.
    pub(crate) fn watch(&self, shared: &Shared) {
        if !self.started.load(Ordering::Relaxed) {
            if let Some(shared) = context::current_shared().filter(|s| std::ptr::eq(&**s, shared)) {
                self.start(&shared);
            }
        } else {
            self.wake();
        }
    }

    /// Ends a long sleep early (something may need watching).
    pub(crate) fn wake(&self) {
        if self.sleeping.load(Ordering::Relaxed) {
            *self.lock.lock().unwrap_or_else(|e| e.into_inner()) = true;
            self.wake.notify_one();
        }
    }

    /// Starts the thread, once.
    pub(crate) fn start(&self, shared: &Arc<Shared>) {
        if self.started.load(Ordering::Relaxed) || self.started.swap(true, Ordering::AcqRel) {
            return;
        }
        let weak = Arc::downgrade(shared);
        let spawned = thread::Builder::new()
            .name("gort-sysmon".to_owned())
            .spawn(move || run(weak));
        match spawned {
            Ok(handle) => *self.thread.lock().unwrap_or_else(|e| e.into_inner()) = Some(handle),
            Err(err) => {
                eprintln!("gort: could not start sysmon: {err}");
                self.started.store(false, Ordering::Release);
            }
        }
    }

    /// At shutdown (the runtime is marked shut down already): wakes the thread, which then
    /// exits, and joins it unless `deadline` passes first.
    pub(crate) fn stop(&self, deadline: Option<Instant>) {
        let Some(handle) = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take() else {
            return;
        };
        if handle.thread().id() == thread::current().id() {
            return;
        }
        *self.lock.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.wake.notify_one();
        match deadline {
            None => drop(handle.join()),
            Some(deadline) => {
                while !handle.is_finished() && Instant::now() < deadline {
                    thread::sleep(Duration::from_micros(200));
                }
                if handle.is_finished() {
                    drop(handle.join());
                }
            }
        }
    }

    /// Sleeps `delay`, or until `watch` wakes it.
    fn sleep(&self, delay: Duration) {
        if delay <= MIN_DELAY {
            thread::sleep(delay);
            return;
        }
        self.sleeping.store(true, Ordering::Relaxed);
        let mut woken = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        if !*woken {
            woken = self
                .wake
                .wait_timeout(woken, delay)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        *woken = false;
        self.sleeping.store(false, Ordering::Relaxed);
    }
}

/// Fires the due timers of Ps whose M has been inside one poll for `STUCK_AFTER` (held, with
/// `schedtick` unmoved): nobody else runs them until a thief reaches its last steal round, which
/// busy Ms never do. The timer sets are locked, so this is safe from any thread; the Gs woken
/// here have no P on this thread and go to the global queue, where the other Ms find them.
fn fire_timers_of_stuck_ps(shared: &Shared, ticks: &mut [(u32, Instant)], now: Instant) {
    for (p, (tick, since)) in shared.ps.iter().zip(ticks.iter_mut()) {
        let current = p.schedtick();
        if current != *tick || !p.is_held() {
            *tick = current;
            *since = now;
            continue;
        }
        if now.duration_since(*since) >= STUCK_AFTER {
            // `run_expired` returns at once unless a timer is due.
            p.timers.run_expired(shared.time.clock.now());
        }
    }
}

/// The sysmon thread: looks at every P, retakes those stuck in `block_in_place`, sleeps.
fn run(runtime: Weak<Shared>) {
    let mut seen: Vec<Option<(InSyscall, Instant)>> = Vec::new();
    // Each P's `schedtick` and when sysmon first saw it at that value.
    let mut ticks: Vec<(u32, Instant)> = Vec::new();
    let mut delay = MIN_DELAY;
    loop {
        let Some(shared) = runtime.upgrade() else {
            return;
        };
        if shared.is_shutdown() {
            return;
        }
        seen.resize(shared.ps.len(), None);
        ticks.resize(shared.ps.len(), (u32::MAX, Instant::now()));
        let now = Instant::now();
        let mut watching = false;
        for (p, seen) in shared.ps.iter().zip(seen.iter_mut()) {
            let Some(entry) = p.syscall.observe() else {
                *seen = None;
                continue;
            };
            watching = true;
            match *seen {
                Some((earlier, since)) if earlier == entry => {
                    if now.duration_since(since) >= RETAKE_AFTER && shared.retake_p(p, entry) {
                        *seen = None;
                    }
                }
                _ => *seen = Some((entry, now)),
            }
        }
        fire_timers_of_stuck_ps(&shared, &mut ticks, now);
        netpoll::poll_if_stale(&shared, NETPOLL_STALE);
        delay = if watching {
            MIN_DELAY
        } else if shared.npidle() == shared.ps.len() {
            IDLE_DELAY
        } else {
            (delay * 2).min(MAX_DELAY)
        };
        shared.sysmon.sleep(delay);
    }
}
